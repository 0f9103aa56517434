// SPDX-License-Identifier: GPL-2.0-only
/*
 * smmuv3_ptmem: figures, not a test.  The page-table memory one IOAS (or
 * one VFIO type1 container) costs once it is mapped and a device behind
 * each of 1, 2, ... N SMMU instances is attached to it.  Run in the guest
 * by qemu/bench_ptmem.py (make bench) against our driver and upstream's.
 *
 *   smmuv3_ptmem [--size-mib M] [--layout 4k|2m|both] [--api iommufd|type1|both]
 *
 * The IOMMU page tables of both drivers come from io-pgtable-arm, whose
 * pages the kernel counts (iommu_alloc_pages_node_sz()) in /proc/meminfo's
 * SecPageTables and in /proc/vmstat's nr_iommu_pages; both are read after
 * /proc/sys/vm/stat_refresh has folded the CPUs' pending counts in, so
 * that a change of a single page is seen.
 *
 * For each API and layout: with nothing attached, M MiB of IOVA space
 * (1024 by default, at an IOVA aligned to 1 GiB that every device allows)
 * are mapped, then the edus (each behind its own instance, in BDF order)
 * are attached one by one, and after each attach both counters are read
 * against their values before the mapping.  Then the whole range is
 * unmapped (every device still attached) and the counters read again, and
 * once more after every device left.
 *   layout 4k  a 1 MiB buffer of ordinary pages, mapped again and again:
 *              smaller than a 2 MiB block, it cannot be mapped by one, so
 *              every page is a 4 KiB entry (512 last-level tables per GiB);
 *   layout 2m  one 2 MiB huge page (hugetlb), mapped again and again at
 *              2 MiB-aligned IOVAs: every piece is a 2 MiB block entry.
 * The memory behind the IOVAs is the same few pages (the figures depend on
 * the IOVA layout and the physical contiguity, not on distinct memory).
 *   iommufd  IOMMU_IOAS_MAP into one IOAS, each device bound to iommufd
 *            and attached to the IOAS (the kernel picks or makes its HWPT:
 *            a driver that cannot give a second instance's device the
 *            first HWPT gets another, filled with every mapping);
 *   type1    one VFIO type1v2 container, VFIO_IOMMU_MAP_DMA after the
 *            first group joined, the other groups joining afterwards
 *            (type1 offers each its existing domains first).
 *
 * Output, one figure per line (parsed by qemu/bench_ptmem.py):
 *   bench ptmem_device name=A bdf=B instance=I
 *   bench ptmem api=A layout=L size_mib=M step=S instances=K sec_kib=X
 *         iommu_kib=Y [hwpts=H] [domains=D]
 *     step: mapped (nothing attached), attached (K devices attached),
 *     unmapped (all K still attached), released (none attached);
 *     X and Y: the change since before the mapping; hwpts: distinct HWPTs
 *     of the attached devices (iommufd); domains: with our driver, paging
 *     domains new in its debugfs.
 *   bench-skip ptmem-LAYOUT reason
 * and "# ..." comments; "# error: ..." when something broke (exit 1).  The
 * one check: the first attach of a mapped IOAS must have moved
 * SecPageTables (a measurement that cannot see page tables is an error).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/iommufd.h>

#include "container.h"
#include "debugfs.h"
#include "dmacheck.h"
#include "env.h"
#include "mem.h"
#include "vfio.h"

#define MAX_INST	8
#define SZ_1M		(1ULL << 20)
#define SZ_2M		(2ULL << 20)
#define SZ_1G		(1ULL << 30)
#define IOVA_MIN	SZ_1G
#define STAT_REFRESH	"/proc/sys/vm/stat_refresh"

enum api { API_IOMMUFD, API_TYPE1 };
static const char * const api_names[] = { "iommufd", "type1" };

struct layout {
	const char *name;
	uint64_t piece;		/* bytes per map call */
	bool huge;
};

static const struct layout layouts[] = {
	{ "4k", SZ_1M, false },
	{ "2m", SZ_2M, true },
};

struct counts {
	long sec_kib;		/* SecPageTables, kB */
	long iommu_pages;	/* nr_iommu_pages */
};

struct ptmem {
	uint64_t size;
	bool want_layout[2];
	bool want_api[2];
	bool ours;
	int n;
	struct edu_pick pick[MAX_INST];
	uint64_t iova;
	struct dbg_domains *dd_before;	/* ours: the domains before attaching */
	int failed;
};

static int fail(struct ptmem *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(struct ptmem *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("# error: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	p->failed = 1;
	return -1;
}

/* "KEY<sep> value" of FILE (the first number after KEY). */
static long read_key(const char *file, const char *key)
{
	size_t klen = strlen(key);
	char line[256];
	long v = -ENOENT;
	FILE *f = fopen(file, "r");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *end;

		if (strncmp(line, key, klen) || (line[klen] != ':' && line[klen] != ' '))
			continue;
		v = strtol(line + klen + 1, &end, 10);
		if (end == line + klen + 1 || v < 0)
			v = -EPROTO;
		break;
	}
	fclose(f);
	return v;
}

static int counts_read(struct ptmem *p, struct counts *c)
{
	FILE *f = fopen(STAT_REFRESH, "w");

	/* Fold every CPU's pending vmstat changes into the global counters. */
	if (!f || fputs("1\n", f) < 0 || fclose(f)) {
		int err = errno;

		return fail(p, "writing %s: %s", STAT_REFRESH, strerror(err));
	}
	c->sec_kib = read_key("/proc/meminfo", "SecPageTables");
	c->iommu_pages = read_key("/proc/vmstat", "nr_iommu_pages");
	if (c->sec_kib < 0 || c->iommu_pages < 0)
		return fail(p, "reading SecPageTables (%ld) and nr_iommu_pages (%ld): %s",
			    c->sec_kib, c->iommu_pages,
			    strerror(-(c->sec_kib < 0 ? c->sec_kib : c->iommu_pages)));
	return 0;
}

/* Ours: paging domains in debugfs now that were not there before. */
static int new_domains(struct ptmem *p)
{
	struct dbg_domains *dd;
	int n = 0;

	if (!p->ours)
		return -1;
	dd = calloc(1, sizeof(*dd));
	if (!dd || dbg_domains_read(dd)) {
		free(dd);
		return fail(p, "reading %s/domains", SMMUV3_DEBUGFS);
	}
	for (int i = 0; i < dd->n; i++)
		n += !dbg_domain_find(p->dd_before, dd->d[i].id);
	free(dd);
	return n;
}

static int domains_snapshot(struct ptmem *p)
{
	if (!p->ours)
		return 0;
	if (!p->dd_before)
		p->dd_before = calloc(1, sizeof(*p->dd_before));
	if (!p->dd_before || dbg_domains_read(p->dd_before))
		return fail(p, "reading %s/domains", SMMUV3_DEBUGFS);
	return 0;
}

/*
 * One figure line: the counters against BASE.  HWPTS and DOMAINS < 0 are
 * left out.  Returns the change of SecPageTables in kB, or < 0 (reported).
 */
static long figure(struct ptmem *p, enum api api, const struct layout *l, const char *step,
		   int k, const struct counts *base, int hwpts)
{
	struct counts c;
	int dom = new_domains(p);

	if (counts_read(p, &c) || (p->ours && dom < 0))
		return -1;
	printf("bench ptmem api=%s layout=%s size_mib=%llu step=%s instances=%d sec_kib=%ld "
	       "iommu_kib=%ld", api_names[api], l->name, (unsigned long long)(p->size >> 20),
	       step, k, c.sec_kib - base->sec_kib,
	       (c.iommu_pages - base->iommu_pages) * (long)(getpagesize() / 1024));
	if (hwpts >= 0)
		printf(" hwpts=%d", hwpts);
	if (dom >= 0)
		printf(" domains=%d", dom);
	printf("\n");
	return c.sec_kib - base->sec_kib;
}

/* The first attach of the mapped IOAS must have moved the counter. */
static void check_moved(struct ptmem *p, enum api api, const struct layout *l, long kib)
{
	if (kib == 0)
		fail(p, "%s, %s: SecPageTables did not move when the first device was attached "
		     "to %llu MiB of mappings: the measurement sees no page table",
		     api_names[api], l->name, (unsigned long long)(p->size >> 20));
}

/* The buffer mapped again and again: 1 MiB of 4 KiB pages, or one huge page. */
static int buffer_get(struct ptmem *p, const struct layout *l, struct pinned_buf *b,
		      long *old_huge)
{
	int ret;

	*old_huge = -1;
	if (!l->huge) {
		ret = pinned_alloc(b, l->piece);
		if (ret)
			return fail(p, "a %llu KiB buffer: %s",
				    (unsigned long long)(l->piece >> 10), strerror(-ret));
		/* Smaller than a huge page anyway; and never to become part of one. */
		madvise(b->va, b->maplen, MADV_NOHUGEPAGE);
		return 0;
	}
	if (hugepage_size() != (long)SZ_2M) {
		printf("bench-skip ptmem-%s the default huge page size is %ld, not 2 MiB\n",
		       l->name, hugepage_size());
		return -ENOENT;
	}
	ret = hugepages_reserve(1, old_huge);
	if (!ret)
		ret = huge_alloc(b, SZ_2M);
	if (ret) {
		hugepages_restore(*old_huge);
		printf("bench-skip ptmem-%s no 2 MiB huge page: %s\n", l->name, strerror(-ret));
		return -ENOENT;
	}
	return 0;
}

static void buffer_put(struct pinned_buf *b, long old_huge)
{
	pinned_free(b);
	hugepages_restore(old_huge);
}

/* Distinct HWPTs among the first K devices. */
static int hwpts_of(struct edu_dev *dev, int k)
{
	int n = 0;

	for (int i = 0; i < k; i++) {
		bool seen = false;

		for (int j = 0; j < i; j++)
			seen |= dev[j].vd.hwpt_id == dev[i].vd.hwpt_id;
		n += !seen;
	}
	return n;
}

/*
 * An IOVA aligned to 1 GiB with SIZE bytes that every device allows: asked
 * of an IOAS with all of them attached (reserved regions narrow it).
 */
static int pick_iova(struct ptmem *p)
{
	struct edu_dev *dev = calloc(p->n, sizeof(*dev));
	int fd = iommufd_open(), ret = 0;
	uint32_t ioas;

	if (!dev || fd < 0 || iommufd_ioas_alloc(fd, &ioas)) {
		ret = fail(p, "iommufd and an IOAS for choosing the IOVA");
		goto out;
	}
	for (int i = 0; i < p->n && !ret; i++) {
		if (vfio_dev_open(&dev[i].vd, p->pick[i].bdf, fd) ||
		    dev_attach(&dev[i].vd, ioas))
			ret = fail(p, "%s: %s", p->pick[i].bdf, dev[i].vd.err);
	}
	if (!ret) {
		ret = iommufd_pick_iova(fd, ioas, IOVA_MIN, p->size, SZ_1G, &p->iova);
		if (ret)
			fail(p, "no %llu MiB of IOVA space aligned to 1 GiB: %s",
			     (unsigned long long)(p->size >> 20), strerror(-ret));
	}
	vfio_dev_close_all();
out:
	if (fd >= 0)
		close(fd);
	free(dev);
	return ret;
}

static int map_all(struct ptmem *p, enum api api, int fd, uint32_t ioas,
		   const struct layout *l, struct pinned_buf *b)
{
	for (uint64_t off = 0; off < p->size; off += l->piece) {
		uint64_t iova = p->iova + off;
		int ret = api == API_IOMMUFD ?
			iommufd_ioas_map(fd, ioas, b->va, l->piece, &iova, true,
					 IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE) :
			container_map(fd, b->va, l->piece, iova);

		if (ret)
			return fail(p, "%s, %s: mapping %#llx: %s", api_names[api], l->name,
				    (unsigned long long)iova, strerror(-ret));
	}
	return 0;
}

static void run_iommufd(struct ptmem *p, const struct layout *l, struct pinned_buf *b)
{
	struct edu_dev *dev = calloc(p->n, sizeof(*dev));
	int fd = iommufd_open(), ret;
	struct counts base;
	uint32_t ioas;
	long kib;

	if (!dev || fd < 0 || iommufd_ioas_alloc(fd, &ioas)) {
		fail(p, "iommufd and an IOAS");
		goto out;
	}
	for (int i = 0; i < p->n; i++) {
		if (vfio_dev_open(&dev[i].vd, p->pick[i].bdf, fd)) {
			fail(p, "%s: %s", p->pick[i].bdf, dev[i].vd.err);
			goto out;
		}
	}
	if (domains_snapshot(p) || counts_read(p, &base) ||
	    map_all(p, API_IOMMUFD, fd, ioas, l, b) ||
	    figure(p, API_IOMMUFD, l, "mapped", 0, &base, -1) < 0)
		goto out;
	for (int k = 1; k <= p->n; k++) {
		if (dev_attach(&dev[k - 1].vd, ioas)) {
			fail(p, "attaching %s: %s", p->pick[k - 1].bdf, dev[k - 1].vd.err);
			goto out;
		}
		kib = figure(p, API_IOMMUFD, l, "attached", k, &base, hwpts_of(dev, k));
		if (kib < 0)
			goto out;
		if (k == 1)
			check_moved(p, API_IOMMUFD, l, kib);
	}
	ret = iommufd_ioas_unmap(fd, ioas, p->iova, p->size, NULL);
	if (ret) {
		fail(p, "unmapping the IOAS: %s", strerror(-ret));
		goto out;
	}
	if (figure(p, API_IOMMUFD, l, "unmapped", p->n, &base, hwpts_of(dev, p->n)) < 0)
		goto out;
	for (int i = 0; i < p->n; i++) {
		if (dev_detach(&dev[i].vd)) {
			fail(p, "detaching %s: %s", p->pick[i].bdf, dev[i].vd.err);
			goto out;
		}
	}
	figure(p, API_IOMMUFD, l, "released", 0, &base, -1);
out:
	vfio_dev_close_all();
	if (fd >= 0)
		close(fd);
	free(dev);
}

static void run_type1(struct ptmem *p, const struct layout *l, struct pinned_buf *b)
{
	struct ctr_edu *c = calloc(p->n, sizeof(*c));
	char err[256] = "";
	int cfd = -1, ret;
	struct counts base;
	long kib;

	if (!c) {
		fail(p, "no memory");
		return;
	}
	for (int i = 0; i < p->n; i++)
		ctr_edu_init(&c[i]);
	cfd = container_open(err, sizeof(err));
	if (cfd < 0) {
		printf("bench-skip ptmem-type1 no VFIO type1 container: %s\n", err);
		goto out;
	}
	for (int i = 0; i < p->n; i++) {
		if (ctr_edu_bind(&c[i], p->pick[i].bdf)) {
			fail(p, "%s", c[i].err);
			goto out;
		}
	}
	if (domains_snapshot(p) || counts_read(p, &base))
		goto out;
	/* The first group, the IOMMU, the mappings; then the others join. */
	if (ctr_edu_join(&c[0], cfd)) {
		fail(p, "%s", c[0].err);
		goto out;
	}
	ret = container_set_iommu(cfd);
	if (ret) {
		fail(p, "VFIO_SET_IOMMU type1v2: %s", strerror(-ret));
		goto out;
	}
	if (map_all(p, API_TYPE1, cfd, 0, l, b))
		goto out;
	for (int k = 1; k <= p->n; k++) {
		if (k > 1 && ctr_edu_join(&c[k - 1], cfd)) {
			fail(p, "%s", c[k - 1].err);
			goto out;
		}
		kib = figure(p, API_TYPE1, l, "attached", k, &base, -1);
		if (kib < 0)
			goto out;
		if (k == 1)
			check_moved(p, API_TYPE1, l, kib);
	}
	ret = container_unmap(cfd, p->iova, p->size, NULL);
	if (ret) {
		fail(p, "VFIO_IOMMU_UNMAP_DMA: %s", strerror(-ret));
		goto out;
	}
	if (figure(p, API_TYPE1, l, "unmapped", p->n, &base, -1) < 0)
		goto out;
	for (int i = p->n - 1; i >= 0; i--) {
		if (ctr_edu_leave(&c[i])) {
			fail(p, "%s", c[i].err);
			goto out;
		}
	}
	figure(p, API_TYPE1, l, "released", 0, &base, -1);
out:
	for (int i = 0; i < p->n; i++)
		ctr_edu_close(&c[i]);
	if (cfd >= 0)
		close(cfd);
	free(c);
}

static int parse_args(struct ptmem *p, int argc, char **argv)
{
	p->size = SZ_1G;
	for (int i = 0; i < 2; i++) {
		p->want_layout[i] = true;
		p->want_api[i] = true;
	}
	for (int i = 1; i < argc; i++) {
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;

		if (!next)
			return -EINVAL;
		if (!strcmp(argv[i], "--size-mib")) {
			char *end;
			unsigned long m = strtoul(next, &end, 10);

			/* Whole 2 MiB pieces, at most 16 GiB of IOVA space. */
			if (end == next || *end || !m || m % 2 || m > 16384)
				return -EINVAL;
			p->size = (uint64_t)m << 20;
		} else if (!strcmp(argv[i], "--layout")) {
			p->want_layout[0] = !strcmp(next, "4k") || !strcmp(next, "both");
			p->want_layout[1] = !strcmp(next, "2m") || !strcmp(next, "both");
			if (!p->want_layout[0] && !p->want_layout[1])
				return -EINVAL;
		} else if (!strcmp(argv[i], "--api")) {
			p->want_api[API_IOMMUFD] = !strcmp(next, "iommufd") ||
						   !strcmp(next, "both");
			p->want_api[API_TYPE1] = !strcmp(next, "type1") || !strcmp(next, "both");
			if (!p->want_api[0] && !p->want_api[1])
				return -EINVAL;
		} else {
			return -EINVAL;
		}
		i++;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ptmem p = { 0 };

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse_args(&p, argc, argv)) {
		fprintf(stderr, "usage: %s [--size-mib M] [--layout 4k|2m|both] "
			"[--api iommufd|type1|both]\n", argv[0]);
		return 2;
	}
	p.ours = env_driver_ours();
	printf("bench ptmem_run driver=%s topology=%s size_mib=%llu\n",
	       env_driver() ?: "unknown", env_topology() ?: "unknown",
	       (unsigned long long)(p.size >> 20));
	if (p.ours && !dbg_present()) {
		fail(&p, "SMMUV3_DRIVER=ours but no %s", SMMUV3_DEBUGFS);
		return 1;
	}
	p.n = edus_on_distinct_instances(p.pick, MAX_INST);
	if (p.n <= 0) {
		fail(&p, "no edu behind an SMMU instance (%s)",
		     p.n ? strerror(-p.n) : "none found");
		return 1;
	}
	for (int i = 0; i < p.n; i++)
		printf("bench ptmem_device name=%c bdf=%s instance=%s\n", 'A' + i, p.pick[i].bdf,
		       p.pick[i].inst);
	if (pick_iova(&p))
		return 1;
	printf("# IOVA %#llx, %llu MiB\n", (unsigned long long)p.iova,
	       (unsigned long long)(p.size >> 20));
	for (int a = 0; a < 2 && !p.failed; a++) {
		for (int li = 0; li < 2 && !p.failed; li++) {
			const struct layout *l = &layouts[li];
			struct pinned_buf b;
			long old_huge;

			if (!p.want_api[a] || !p.want_layout[li] ||
			    buffer_get(&p, l, &b, &old_huge))
				continue;
			if (a == API_IOMMUFD)
				run_iommufd(&p, l, &b);
			else
				run_type1(&p, l, &b);
			buffer_put(&b, old_huge);
		}
	}
	free(p.dd_before);
	printf("bench ptmem_end failed=%d\n", p.failed);
	return p.failed;
}
