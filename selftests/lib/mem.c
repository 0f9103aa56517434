// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pinned buffers, physical addresses and patterns (see mem.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"

#define PAGEMAP_PRESENT		(1ULL << 63)
#define PAGEMAP_PFN_MASK	((1ULL << 55) - 1)

int mem_virt_to_phys(const void *va, uint64_t *pa)
{
	long psz = sysconf(_SC_PAGESIZE);
	uint64_t vpn = (uintptr_t)va / psz, ent;
	ssize_t n;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, &ent, sizeof(ent), vpn * sizeof(ent));
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return n;
	if (n != sizeof(ent))
		return -EIO;
	if (!(ent & PAGEMAP_PRESENT))
		return -ENOENT;
	if (!(ent & PAGEMAP_PFN_MASK))
		return -EPERM;	/* PFNs are zeroed without CAP_SYS_ADMIN */
	*pa = (ent & PAGEMAP_PFN_MASK) * psz + (uintptr_t)va % psz;
	return 0;
}

int pinned_alloc(struct pinned_buf *b, size_t len)
{
	long psz = sysconf(_SC_PAGESIZE);
	int ret;

	memset(b, 0, sizeof(*b));
	b->len = len;
	b->maplen = (len + psz - 1) / psz * psz;
	b->va = mmap(NULL, b->maplen, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (b->va == MAP_FAILED) {
		b->va = NULL;
		return -errno;
	}
	/* Write every page so that none is the shared zero page. */
	memset(b->va, 0x5a, b->maplen);
	memset(b->va, 0, b->maplen);
	if (mlock(b->va, b->maplen)) {
		ret = -errno;
		pinned_free(b);
		return ret;
	}
	ret = mem_virt_to_phys(b->va, &b->pa);
	if (ret)
		pinned_free(b);
	return ret;
}

void pinned_free(struct pinned_buf *b)
{
	if (b->va) {
		munlock(b->va, b->maplen);
		munmap(b->va, b->maplen);
	}
	memset(b, 0, sizeof(*b));
}

int pinned_check(const struct pinned_buf *b)
{
	uint64_t pa;
	int ret = mem_virt_to_phys(b->va, &pa);

	if (ret)
		return ret;
	return pa == b->pa ? 0 : -ESTALE;
}

/* ---- Huge pages ------------------------------------------------------------ */

#define NR_HUGEPAGES "/proc/sys/vm/nr_hugepages"

/* A "Key:   N kB" (or "Key: N") line of /proc/meminfo. */
static long meminfo(const char *key)
{
	char line[128];
	size_t klen = strlen(key);
	long val = -ENOENT;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			val = strtol(line + klen + 1, NULL, 10);
			if (strstr(line, " kB"))
				val *= 1024;
			break;
		}
	}
	fclose(f);
	return val;
}

long hugepage_size(void)
{
	return meminfo("Hugepagesize");
}

static long read_long(const char *path)
{
	char buf[32];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

static int write_long(const char *path, long v)
{
	char buf[32];
	int fd = open(path, O_WRONLY | O_CLOEXEC), len;
	ssize_t n;

	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%ld", v);
	n = write(fd, buf, len);
	if (n < 0)
		n = -errno;
	close(fd);
	return n < 0 ? n : n == len ? 0 : -EIO;
}

int hugepages_reserve(unsigned int n, long *old)
{
	long nr, nfree;
	int ret;

	*old = -1;
	nfree = meminfo("HugePages_Free");
	if (nfree < 0)
		return nfree;
	if (nfree >= (long)n)
		return 0;
	nr = read_long(NR_HUGEPAGES);
	if (nr < 0)
		return nr;
	ret = write_long(NR_HUGEPAGES, nr + n - nfree);
	if (ret)
		return ret;
	*old = nr;
	nfree = meminfo("HugePages_Free");
	return nfree >= (long)n ? 0 : -ENOMEM;
}

void hugepages_restore(long old)
{
	if (old >= 0)
		write_long(NR_HUGEPAGES, old);
}

int huge_alloc(struct pinned_buf *b, size_t size)
{
	int shift = __builtin_ctzl(size), ret;

	memset(b, 0, sizeof(*b));
	if (size & (size - 1))
		return -EINVAL;
	b->len = b->maplen = size;
	b->va = mmap(NULL, size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
		     (shift << MAP_HUGE_SHIFT), -1, 0);
	if (b->va == MAP_FAILED) {
		ret = errno == EINVAL || errno == ENOMEM ? -ENOMEM : -errno;
		b->va = NULL;
		return ret;
	}
	/* Without a free huge page, the first touch would be a SIGBUS. */
	if (mlock(b->va, size)) {
		ret = -errno;
		munmap(b->va, size);
		b->va = NULL;
		return ret == -EAGAIN ? -ENOMEM : ret;
	}
	memset(b->va, 0, size);
	ret = mem_virt_to_phys(b->va, &b->pa);
	if (ret)
		pinned_free(b);
	return ret;
}

/* ---- Patterns --------------------------------------------------------------- */

void prng_seed(struct prng *r, uint64_t seed)
{
	r->s = seed ? seed : 0x9e3779b97f4a7c15ULL;
}

uint64_t prng_next(struct prng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dULL;
}

uint64_t prng_time_seed(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec << 32) ^ ts.tv_nsec ^ ((uint64_t)getpid() << 16);
}

void mem_fill_random(void *buf, size_t len, struct prng *r)
{
	unsigned char *p = buf;
	size_t i = 0;

	while (i + 8 <= len) {
		uint64_t v = prng_next(r);

		memcpy(p + i, &v, 8);
		i += 8;
	}
	if (i < len) {
		uint64_t v = prng_next(r);

		memcpy(p + i, &v, len - i);
	}
}

void mem_fill_distinct(void *buf, const void *avoid1, const void *avoid2,
		       size_t len, struct prng *r)
{
	const unsigned char *a1 = avoid1, *a2 = avoid2;
	unsigned char *p = buf;

	mem_fill_random(buf, len, r);
	for (size_t i = 0; i < len; i++) {
		/* At most three values to avoid: four tries always suffice. */
		while (!p[i] || (a1 && p[i] == a1[i]) || (a2 && p[i] == a2[i]))
			p[i]++;
	}
}

size_t mem_diff(const void *a, const void *b, size_t len, long *first)
{
	const unsigned char *x = a, *y = b;
	size_t n = 0;

	if (first)
		*first = -1;
	for (size_t i = 0; i < len; i++) {
		if (x[i] != y[i]) {
			if (!n && first)
				*first = i;
			n++;
		}
	}
	return n;
}

size_t mem_same(const void *a, const void *b, size_t len)
{
	const unsigned char *x = a, *y = b;
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += x[i] == y[i];
	return n;
}

int mem_all(const void *buf, int c, size_t len)
{
	const unsigned char *p = buf;

	for (size_t i = 0; i < len; i++)
		if (p[i] != (unsigned char)c)
			return 0;
	return 1;
}

uint64_t mem_fnv1a64(const void *buf, size_t len, uint64_t h)
{
	const unsigned char *p = buf;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}
