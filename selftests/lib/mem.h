/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Pinned (mlock'd) buffers, their physical addresses (from
 * /proc/self/pagemap, which needs CAP_SYS_ADMIN) and byte patterns.
 */
#ifndef SMMUV3_SELFTEST_MEM_H
#define SMMUV3_SELFTEST_MEM_H

#include <stddef.h>
#include <stdint.h>

struct pinned_buf {
	void *va;
	size_t len;	/* bytes asked for */
	size_t maplen;	/* bytes mapped (whole pages) */
	uint64_t pa;	/* physical address of va (first page) */
};

/*
 * Map LEN bytes (page aligned, zeroed), fault them in, mlock them and look
 * up the physical address of the first page.  Returns 0 or -errno
 * (-EPERM: pagemap hides PFNs, i.e. no CAP_SYS_ADMIN).
 */
int pinned_alloc(struct pinned_buf *b, size_t len);
void pinned_free(struct pinned_buf *b);
/*
 * Whether the buffer still sits at b->pa (compaction can migrate even
 * mlock'd pages).  Returns 0 if it does, -ESTALE if it moved, or -errno.
 */
int pinned_check(const struct pinned_buf *b);

/*
 * Huge pages (hugetlb, the default huge page size).
 *
 * hugepage_size(): the default huge page size from /proc/meminfo
 * (Hugepagesize), or -errno (-ENOENT: no hugetlb support).
 * hugepages_reserve(): make sure at least N huge pages are free, raising
 * /proc/sys/vm/nr_hugepages if needed; *old gets the previous nr_hugepages
 * (-1 if it was not changed), for hugepages_restore().  Returns 0, -ENOMEM
 * if the kernel could not find N free huge pages, or -errno.
 * huge_alloc(): like pinned_alloc(), for one huge page of SIZE bytes,
 * mapped with MAP_HUGETLB.  -ENOMEM when no huge page can be had.
 */
long hugepage_size(void);
int hugepages_reserve(unsigned int n, long *old);
void hugepages_restore(long old);
int huge_alloc(struct pinned_buf *b, size_t size);

/* Physical address of the byte at VA.  -EPERM if PFNs are hidden. */
int mem_virt_to_phys(const void *va, uint64_t *pa);

/* ---- Patterns ------------------------------------------------------------ */

/* xorshift64* state; never 0. */
struct prng {
	uint64_t s;
};

void prng_seed(struct prng *r, uint64_t seed);
uint64_t prng_next(struct prng *r);
/* A seed from the clock and the pid, for patterns unique to a run. */
uint64_t prng_time_seed(void);
/* Fill with pseudo-random bytes. */
void mem_fill_random(void *buf, size_t len, struct prng *r);
/*
 * Fill BUF with pseudo-random bytes such that BUF[i] differs from 0 and
 * from AVOID1[i] and AVOID2[i] (either may be NULL): a byte that ends up
 * equal to one of those can then be attributed without ambiguity.
 */
void mem_fill_distinct(void *buf, const void *avoid1, const void *avoid2,
		       size_t len, struct prng *r);

/* Number of bytes where A and B differ; *first gets the first (or -1). */
size_t mem_diff(const void *a, const void *b, size_t len, long *first);
/* Number of bytes where A[i] == B[i]. */
size_t mem_same(const void *a, const void *b, size_t len);
/* True if every byte is C. */
int mem_all(const void *buf, int c, size_t len);

/* FNV-1a 64-bit. */
uint64_t mem_fnv1a64(const void *buf, size_t len, uint64_t h);
#define FNV1A64_INIT 0xcbf29ce484222325ULL

#endif
