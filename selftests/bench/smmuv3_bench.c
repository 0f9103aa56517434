// SPDX-License-Identifier: GPL-2.0-only
/*
 * smmuv3_bench: figures, not a test.  Run in the guest by qemu/bench.py
 * (make bench) against our driver and upstream's, on a topology with an edu
 * and a virtio-blk behind each of two or more (up to eight) SMMU instances.
 *
 *   smmuv3_bench [--phase all|map|count|blk] [--seconds S] [--rounds R]
 *                [--unmaps K] [--cpu N] [--second-hwpt]
 *
 * Phases:
 *   map    IOMMU_IOAS_MAP + IOMMU_IOAS_UNMAP of one 4 KiB page at a fixed
 *          IOVA, as many as fit in S seconds, R times (the median and the
 *          range are printed), on an IOAS with one edu attached and then
 *          with an edu behind every instance attached (our driver shares
 *          one page table between them, upstream keeps one per instance).
 *          With one edu attached, the same time is also split: 64 maps of
 *          consecutive pages timed, then their 64 unmaps, so that the cost
 *          of a map and of an unmap (which alone invalidates) are seen
 *          apart.  Last, the other edus are detached and the one-edu pairs
 *          are timed again, whole and split: what a user gets after a VM's
 *          other devices came and went (with our driver, debugfs then shows
 *          whether A's domain kept an entry for an instance no device uses
 *          any more).  With --second-hwpt, then a kernel-managed HWPT
 *          for A's device is allocated on the IOAS and destroyed again,
 *          no device attached to it, and the one-edu pairs are timed a
 *          third time: iommufd's IOAS keeps state from any second HWPT's
 *          life on it that changes every later map and unmap, and upstream
 *          had one for B (another instance) while our driver attached B
 *          to A's domain; this gives both drivers that same history.
 *   count  K 4 KiB pages mapped, then unmapped one IOMMU_IOAS_UNMAP each,
 *          between two reads of edu A's configuration space, three times:
 *          with A alone attached (markers at 0xf0 and 0xf4), with an edu
 *          behind every instance attached (0xf8 and 0xfc), and with A
 *          alone again after the others were detached (0xe8 and 0xec):
 *          qemu/bench.py finds these pci_cfg_read trace events and counts
 *          QEMU's SMMU events between each pair.  Our driver's debugfs
 *          counters are read around the same unmaps.
 *   blk    O_DIRECT reads of each virtio-blk disk behind an instance, its
 *          group switched to a strict DMA domain (and to DMA-FQ for
 *          comparison), then restored; R rounds of at least S seconds.
 * Each timed round of the map phase also prints, as a comment, its rate and
 * on which guest CPUs its pairs ran.  "--cpu N" pins the program to CPU N
 * first.
 * "--phase count" runs only the count phase (the traced boot: tracing
 * slows everything down, so it takes no timings); "--phase map" only the
 * map phase (make bench's timed boots); "--phase blk" only the blk phase,
 * which needs no iommufd (the stock Debian kernels have none).
 *
 * Output, one figure per line (parsed by qemu/bench.py):
 *   bench NAME key=value ...
 * and "# ..." comments; a phase that cannot run says "bench-skip PHASE
 * reason".  Exit status 0 unless something broke.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/iommufd.h>

#include "blk.h"
#include "debugfs.h"
#include "dmacheck.h"
#include "env.h"
#include "mem.h"
#include "sysfs.h"
#include "vfio.h"

#define PAGE		4096ULL
#define RW		(IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)
#define IOVA_BASE	0x40000000ULL
#define BLK_CHUNK	(256u << 10)
#define MAX_INST	8
#define SPLIT_PAGES	64	/* maps, then unmaps, timed apart */
#define MAX_ROUNDS	15
#define MAX_CPUS	8	/* CPUs told apart in the per-round comment */

struct bench {
	double seconds;
	unsigned int rounds;
	unsigned int unmaps;
	int cpu;			/* --cpu: pinned to it, or -1 */
	bool count_only;
	bool map_only;
	bool blk_only;
	bool second_hwpt;		/* --second-hwpt */
	int iommufd;
	uint32_t ioas;
	int ndev;			/* edus opened, each behind its own instance */
	struct edu_dev dev[MAX_INST];	/* [0] = A, [1] = B, ...: distinct instances */
	struct pinned_buf page;
	bool ours;
	int failed;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU time of this thread, in seconds. */
static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The requester ID of BDF ("0000:BB:DD.F"): the stream ID in QEMU's IORT/DT. */
static unsigned int bdf_rid(const char *bdf)
{
	unsigned int dom, bus, dev, fn;

	if (sscanf(bdf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
		return 0;
	return bus << 8 | dev << 3 | fn;
}

static int fail(struct bench *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(struct bench *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("# error: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	b->failed = 1;
	return -1;
}

/*
 * One edu behind each instance (at least two instances, at most MAX_INST),
 * bound to iommufd.
 */
static int open_edus(struct bench *b)
{
	struct edu_pick pick[MAX_INST];
	int n = edus_on_distinct_instances(pick, MAX_INST);

	if (n < 0)
		return fail(b, "listing edus: %s", strerror(-n));
	if (n < 2) {
		printf("bench-skip map needs edus behind two SMMU instances, found %d\n", n);
		return -ENODEV;
	}
	b->ndev = n;
	for (int i = 0; i < n; i++) {
		if (edu_dev_open(&b->dev[i], pick[i].bdf, b->iommufd))
			return fail(b, "opening %s: %s", pick[i].bdf, b->dev[i].vd.err);
		printf("bench device name=%c bdf=%s sid=%#x instance=%s\n", 'A' + i,
		       b->dev[i].bdf, bdf_rid(b->dev[i].bdf), b->dev[i].inst);
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * " KEY=median KEY_min=.. KEY_max=.. KEY_all=v0/v1/.." of V[0..N) (sorted
 * in place; qemu/bench.py pools the rounds of several boots).
 */
static void print_stat(const char *key, double *v, unsigned int n, const char *spec)
{
	char buf[32];

	qsort(v, n, sizeof(*v), cmp_double);
	printf(" %s_all=", key);
	for (unsigned int i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), spec, v[i]);
		printf("%s%s", i ? "/" : "", buf);
	}
	snprintf(buf, sizeof(buf), spec, n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
	printf(" %s=%s", key, buf);
	snprintf(buf, sizeof(buf), spec, v[0]);
	printf(" %s_min=%s", key, buf);
	snprintf(buf, sizeof(buf), spec, v[n - 1]);
	printf(" %s_max=%s", key, buf);
}

/* Map + unmap one page at a fixed IOVA: pairs per second, b->rounds times. */
static int map_unmap_rate(struct bench *b, const char *name)
{
	double rate[MAX_ROUNDS];
	uint64_t iova = IOVA_BASE;
	int ret;

	for (unsigned int r = 0; r < b->rounds; r++) {
		unsigned int on_cpu[MAX_CPUS + 1] = { 0 };
		double c0 = cpu_s(), t0 = now_s(), t, c;
		uint64_t n = 0;
		int cpu;

		do {
			for (int i = 0; i < 64; i++) {
				ret = iommufd_ioas_map(b->iommufd, b->ioas, b->page.va, PAGE,
						       &iova, true, RW);
				if (!ret)
					ret = iommufd_ioas_unmap(b->iommufd, b->ioas, iova, PAGE,
								 NULL);
				if (ret)
					return fail(b, "%s: map/unmap at %#llx: %s", name,
						    (unsigned long long)iova, strerror(-ret));
				n++;
			}
			cpu = sched_getcpu();
			on_cpu[cpu >= 0 && cpu < MAX_CPUS ? cpu : MAX_CPUS]++;
			c = cpu_s() - c0;
			t = now_s() - t0;
		} while (t < b->seconds);
		rate[r] = n / t;
		/*
		 * A slow round whose thread had its CPU all along lost the time
		 * where the guest's scheduler cannot see it: to the host, to
		 * QEMU, or to interrupts (charged to the running thread).
		 */
		printf("# %s round %u: %.0f pairs/s, on the CPU %.0f%% of the time; "
		       "blocks of 64 pairs per CPU:", name, r, rate[r], c * 100 / t);
		for (cpu = 0; cpu < MAX_CPUS; cpu++)
			if (on_cpu[cpu])
				printf(" cpu%d %u", cpu, on_cpu[cpu]);
		if (on_cpu[MAX_CPUS])
			printf(" other %u", on_cpu[MAX_CPUS]);
		printf("\n");
	}
	printf("bench %s rounds=%u seconds=%g", name, b->rounds, b->seconds);
	print_stat("pairs_per_s", rate, b->rounds, "%.0f");
	printf("\n");
	return 0;
}

/*
 * SPLIT_PAGES maps of consecutive pages, then their unmaps, each loop
 * timed apart, for b->seconds, b->rounds times: microseconds per map and
 * per unmap.
 */
static int map_unmap_split(struct bench *b, const char *name)
{
	double map_us[MAX_ROUNDS], unmap_us[MAX_ROUNDS];
	int ret;

	for (unsigned int r = 0; r < b->rounds; r++) {
		double t0 = now_s(), tm = 0, tu = 0;
		uint64_t n = 0;

		do {
			double t1 = now_s(), t2;

			for (unsigned int i = 0; i < SPLIT_PAGES; i++) {
				uint64_t iova = IOVA_BASE + i * PAGE;

				ret = iommufd_ioas_map(b->iommufd, b->ioas, b->page.va, PAGE,
						       &iova, true, RW);
				if (ret)
					return fail(b, "%s: map at %#llx: %s", name,
						    (unsigned long long)iova, strerror(-ret));
			}
			t2 = now_s();
			for (unsigned int i = 0; i < SPLIT_PAGES; i++) {
				ret = iommufd_ioas_unmap(b->iommufd, b->ioas,
							 IOVA_BASE + i * PAGE, PAGE, NULL);
				if (ret)
					return fail(b, "%s: unmap: %s", name, strerror(-ret));
			}
			tm += t2 - t1;
			tu += now_s() - t2;
			n += SPLIT_PAGES;
		} while (now_s() - t0 < b->seconds);
		map_us[r] = tm * 1e6 / n;
		unmap_us[r] = tu * 1e6 / n;
	}
	printf("bench %s rounds=%u seconds=%g pages=%u", name, b->rounds, b->seconds,
	       SPLIT_PAGES);
	print_stat("map_us", map_us, b->rounds, "%.2f");
	print_stat("unmap_us", unmap_us, b->rounds, "%.2f");
	printf("\n");
	return 0;
}

/* Our debugfs view of all paging domains; NULL (reported) on failure. */
static struct dbg_domains *domains_read(struct bench *b)
{
	struct dbg_domains *dd = calloc(1, sizeof(*dd));
	int ret = dd ? dbg_domains_read(dd) : -ENOMEM;

	if (ret) {
		fail(b, "reading %s/domains: %s", SMMUV3_DEBUGFS, strerror(-ret));
		free(dd);
		return NULL;
	}
	return dd;
}

/*
 * Our driver, once the other edus left A's domain (DOM, found when A was
 * attached): the entries of its invalidation array that still name the
 * instances only the others were behind (live: with users; any: trash
 * included).  Every later unmap would walk them.
 */
static void leftover_entries(struct bench *b, unsigned int dom)
{
	struct dbg_domains *dd = domains_read(b);
	const struct dbg_domain *d;
	int live = 0, named = 0;

	if (!dd)
		return;
	d = dbg_domain_find(dd, dom);
	if (!d) {
		fail(b, "A's domain %u is not in %s/domains", dom, SMMUV3_DEBUGFS);
		free(dd);
		return;
	}
	for (int i = 1; i < b->ndev; i++) {
		if (!strcmp(b->dev[i].inst, b->dev[0].inst))
			continue;
		live += dbg_domain_live(d, b->dev[i].inst, -1, NULL);
		named += dbg_domain_named(d, b->dev[i].inst);
	}
	printf("bench leftover_entries domain=%u entries=%u live_other=%d named_other=%d\n",
	       dom, d->num, live, named);
	free(dd);
}

static void phase_map(struct bench *b)
{
	struct dbg_domains *before = NULL, *after;
	unsigned int dom = 0;
	uint32_t hwpt;
	int ret, hwpts = 0;

	if (b->ours && !(before = domains_read(b)))
		return;
	ret = dev_attach(&b->dev[0].vd, b->ioas);
	if (ret) {
		fail(b, "attaching A to the IOAS: %s", b->dev[0].vd.err);
		free(before);
		return;
	}
	if (before) {
		after = domains_read(b);
		ret = after ? dbg_domains_new(before, after, &dom) : -ENOMEM;
		free(before);
		free(after);
		if (ret) {
			fail(b, "no new domain in %s/domains for A: %s", SMMUV3_DEBUGFS,
			     strerror(-ret));
			return;
		}
	}
	if (map_unmap_rate(b, "map_unmap_4k_one_instance") ||
	    map_unmap_split(b, "map_unmap_split_one_instance"))
		return;
	for (int i = 1; i < b->ndev; i++) {
		ret = dev_attach(&b->dev[i].vd, b->ioas);
		if (ret) {
			fail(b, "attaching %c to the IOAS: %s", 'A' + i, b->dev[i].vd.err);
			return;
		}
	}
	/* Distinct HWPTs the kernel chose for the devices of the one IOAS. */
	for (int i = 0; i < b->ndev; i++) {
		bool seen = false;

		for (int j = 0; j < i; j++)
			seen |= b->dev[j].vd.hwpt_id == b->dev[i].vd.hwpt_id;
		hwpts += !seen;
	}
	printf("bench hwpts count=%d devices=%d\n", hwpts, b->ndev);
	if (map_unmap_rate(b, "map_unmap_4k_all_instances"))
		return;
	/* The others leave: A alone again, after they came and went. */
	for (int i = 1; i < b->ndev; i++) {
		ret = dev_detach(&b->dev[i].vd);
		if (ret) {
			fail(b, "detaching %c: %s", 'A' + i, b->dev[i].vd.err);
			return;
		}
	}
	if (b->ours)
		leftover_entries(b, dom);
	if (map_unmap_rate(b, "map_unmap_4k_one_instance_after") ||
	    map_unmap_split(b, "map_unmap_split_one_instance_after") || !b->second_hwpt)
		return;
	/* A second HWPT's life on the IOAS, no device attached to it. */
	ret = iommufd_hwpt_alloc(b->iommufd, b->dev[0].vd.devid, b->ioas, 0, &hwpt);
	if (ret) {
		fail(b, "allocating a second HWPT on the IOAS: %s", strerror(-ret));
		return;
	}
	ret = iommufd_destroy(b->iommufd, hwpt);
	if (ret) {
		fail(b, "destroying HWPT %u: %s", hwpt, strerror(-ret));
		return;
	}
	printf("bench second_hwpt hwpt=%u\n", hwpt);
	if (!map_unmap_rate(b, "map_unmap_4k_one_instance_hwpt"))
		map_unmap_split(b, "map_unmap_split_one_instance_hwpt");
}

/* Our per-instance command counters: everything but CMD_SYNC, and syncs. */
static int ours_counts(const char *inst, uint64_t *cmds, uint64_t *syncs)
{
	int ret = dbg_stat_prefix(inst, "cmd ", cmds);

	return ret ?: dbg_stat(inst, "cmd_syncs", syncs);
}

static void mark(struct bench *b, unsigned int off)
{
	uint32_t v;

	/* A config read the trace shows as pci_cfg_read ... @0xf8. */
	if (pci_cfg_read(b->dev[0].bdf, off, &v, sizeof(v)))
		fail(b, "marker read of %s config at %#x", b->dev[0].bdf, off);
}

/*
 * The counted windows: config space offsets of edu A read as trace
 * markers before and after the window's unmaps (device-specific space,
 * which the edu does not implement: the reads have no effect).
 */
static const struct count_window {
	const char *name;
	unsigned int start;
	unsigned int end;
} count_windows[] = {
	{ "one", 0xf0, 0xf4 },		/* A alone */
	{ "all", 0xf8, 0xfc },		/* an edu behind every instance */
	{ "one_after", 0xe8, 0xec },	/* A alone, the others gone again */
};

/* K pages mapped, then unmapped one by one between the window's markers. */
static int count_window(struct bench *b, const struct count_window *w)
{
	uint64_t c0[MAX_INST], s0[MAX_INST], c1[MAX_INST], s1[MAX_INST];
	unsigned int k = b->unmaps;
	int ret;

	for (unsigned int i = 0; i < k; i++) {
		uint64_t iova = IOVA_BASE + i * PAGE;

		ret = iommufd_ioas_map(b->iommufd, b->ioas, b->page.va, PAGE, &iova, true, RW);
		if (ret)
			return fail(b, "%s: mapping page %u: %s", w->name, i, strerror(-ret));
	}
	for (int i = 0; b->ours && i < b->ndev; i++)
		if (ours_counts(b->dev[i].inst, &c0[i], &s0[i]))
			return fail(b, "reading %s/%s/stats", SMMUV3_DEBUGFS, b->dev[i].inst);
	mark(b, w->start);
	for (unsigned int i = 0; i < k; i++) {
		ret = iommufd_ioas_unmap(b->iommufd, b->ioas, IOVA_BASE + i * PAGE, PAGE, NULL);
		if (ret)
			return fail(b, "%s: unmapping page %u: %s", w->name, i, strerror(-ret));
	}
	mark(b, w->end);
	printf("bench count window=%s unmaps=%u marker_start=%#x marker_end=%#x marker_bdf=%s\n",
	       w->name, k, w->start, w->end, b->dev[0].bdf);
	for (int i = 0; b->ours && i < b->ndev; i++) {
		if (ours_counts(b->dev[i].inst, &c1[i], &s1[i]))
			return fail(b, "reading %s/%s/stats", SMMUV3_DEBUGFS, b->dev[i].inst);
		printf("bench unmap_debugfs window=%s instance=%s cmds_per_unmap=%.2f "
		       "syncs_per_unmap=%.2f\n", w->name, b->dev[i].inst,
		       (double)(c1[i] - c0[i]) / k, (double)(s1[i] - s0[i]) / k);
	}
	return 0;
}

/* Attach (ATTACH) the edus other than A to the IOAS, or detach them. */
static int others(struct bench *b, bool attach)
{
	for (int i = 1; i < b->ndev; i++) {
		struct vfio_dev *d = &b->dev[i].vd;
		int ret;

		if (attach ? d->pt_id == b->ioas : !d->pt_id)
			continue;
		ret = attach ? dev_attach(d, b->ioas) : dev_detach(d);
		if (ret)
			return fail(b, "%s %s: %s", attach ? "attaching" : "detaching",
				    b->dev[i].bdf, b->dev[i].vd.err);
	}
	return 0;
}

static void phase_count(struct bench *b)
{
	if (b->dev[0].vd.pt_id != b->ioas && dev_attach(&b->dev[0].vd, b->ioas)) {
		fail(b, "attaching %s: %s", b->dev[0].bdf, b->dev[0].vd.err);
		return;
	}
	/* After the map phase the others are detached already. */
	if (others(b, false) || count_window(b, &count_windows[0]) ||
	    others(b, true) || count_window(b, &count_windows[1]) ||
	    others(b, false))
		return;
	count_window(b, &count_windows[2]);
}

/* Read all of /dev/DEV with O_DIRECT, at least twice and for ~seconds. */
static int blk_read_rate(struct bench *b, const char *dev, double *mbps)
{
	uint64_t size, lbs, bytes = 0;
	char path[64], err[256];
	double t0, t = 0;
	void *buf;
	int fd, ret, passes = 0;

	ret = blk_size(dev, &size, &lbs);
	if (ret)
		return ret;
	size &= ~(uint64_t)(BLK_CHUNK - 1);
	if (!size)
		return -ENOSPC;
	snprintf(path, sizeof(path), "/dev/%s", dev);
	fd = open(path, O_RDONLY | O_DIRECT);
	if (fd < 0)
		return -errno;
	buf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		close(fd);
		return -ENOMEM;
	}
	t0 = now_s();
	do {
		ret = blk_io(fd, buf, size, 0, BLK_CHUNK, false, err, sizeof(err));
		if (ret) {
			fail(b, "%s: %s", dev, err);
			break;
		}
		bytes += size;
		passes++;
		t = now_s() - t0;
	} while (passes < 2 || t < b->seconds);
	munmap(buf, size);
	close(fd);
	*mbps = t > 0 ? bytes / t / 1e6 : 0;
	return ret;
}

static void phase_blk(struct bench *b)
{
	static const char * const types[] = { "DMA", "DMA-FQ" };
	struct strlist disks;
	int ret;

	strlist_init(&disks);
	ret = blk_disks_behind_iommu(&disks, NULL);
	if (ret <= 0)
		printf("bench-skip blk no virtio-blk disk behind an SMMU instance (%s)\n",
		       ret ? strerror(-ret) : "none found");
	for (int i = 0; i < disks.n; i++) {
		const char *bdf = disks.v[i];
		char inst[128], orig[32], dev[32], err[256];
		int g = pci_iommu_group(bdf);

		if (g < 0 || pci_iommu_instance(bdf, inst, sizeof(inst)) ||
		    iommu_group_type(g, orig, sizeof(orig)) < 0) {
			fail(b, "%s: no IOMMU group or instance", bdf);
			continue;
		}
		for (unsigned int t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
			double mbps[MAX_ROUNDS];
			unsigned int r;

			ret = blk_set_group_type(bdf, g, types[t], err, sizeof(err));
			if (ret) {
				fail(b, "%s to %s: %s", bdf, types[t], err);
				break;
			}
			ret = blk_blockdev_of(bdf, dev, sizeof(dev));
			if (ret) {
				fail(b, "%s: no block device (%s)", bdf, strerror(-ret));
				break;
			}
			if (blk_access_platform(bdf) != 1) {
				fail(b, "%s: VIRTIO_F_ACCESS_PLATFORM off, the disk bypasses the IOMMU",
				     bdf);
				break;
			}
			for (r = 0; r < b->rounds; r++) {
				ret = blk_read_rate(b, dev, &mbps[r]);
				if (ret)
					break;
			}
			if (ret) {
				fail(b, "reading %s: %s", dev, strerror(-ret));
				break;
			}
			printf("bench blk_read domain=%s disk=%s bdf=%s instance=%s rounds=%u",
			       types[t], dev, bdf, inst, b->rounds);
			print_stat("mb_per_s", mbps, b->rounds, "%.1f");
			printf("\n");
		}
		if (blk_set_group_type(bdf, g, orig, err, sizeof(err)))
			fail(b, "%s back to %s: %s", bdf, orig, err);
	}
	strlist_free(&disks);
}

static int parse_args(struct bench *b, int argc, char **argv)
{
	b->seconds = 2;
	b->rounds = 3;
	b->unmaps = 256;
	b->cpu = -1;
	for (int i = 1; i < argc; i++) {
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--phase") && next) {
			if (strcmp(next, "all") && strcmp(next, "count") &&
			    strcmp(next, "map") && strcmp(next, "blk"))
				return -EINVAL;
			b->count_only = !strcmp(next, "count");
			b->map_only = !strcmp(next, "map");
			b->blk_only = !strcmp(next, "blk");
			i++;
		} else if (!strcmp(argv[i], "--seconds") && next) {
			b->seconds = atof(next);
			i++;
			if (b->seconds <= 0 || b->seconds > 600)
				return -EINVAL;
		} else if (!strcmp(argv[i], "--rounds") && next) {
			b->rounds = strtoul(next, NULL, 0);
			i++;
			if (!b->rounds || b->rounds > MAX_ROUNDS)
				return -EINVAL;
		} else if (!strcmp(argv[i], "--cpu") && next) {
			char *end;
			long cpu = strtol(next, &end, 0);

			i++;
			if (end == next || *end || cpu < 0 || cpu >= CPU_SETSIZE)
				return -EINVAL;
			b->cpu = cpu;
		} else if (!strcmp(argv[i], "--second-hwpt")) {
			b->second_hwpt = true;
		} else if (!strcmp(argv[i], "--unmaps") && next) {
			b->unmaps = strtoul(next, NULL, 0);
			i++;
			if (!b->unmaps || b->unmaps > 65536)
				return -EINVAL;
		} else {
			return -EINVAL;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bench b = { .iommufd = -1 };
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse_args(&b, argc, argv)) {
		fprintf(stderr, "usage: %s [--phase all|map|count|blk] [--seconds S] [--rounds R] "
			"[--unmaps K] [--cpu N] [--second-hwpt]\n", argv[0]);
		return 2;
	}
	if (b.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(b.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			fprintf(stderr, "pinning to CPU %d: %s\n", b.cpu, strerror(errno));
			return 2;
		}
	}
	b.ours = env_driver_ours();
	printf("bench run driver=%s topology=%s phase=%s seconds=%g rounds=%u unmaps=%u\n",
	       env_driver() ?: "unknown", env_topology() ?: "unknown",
	       b.count_only ? "count" : b.map_only ? "map" : b.blk_only ? "blk" : "all",
	       b.seconds, b.rounds,
	       b.unmaps);
	if (b.cpu >= 0)
		printf("# pinned to CPU %d\n", b.cpu);
	if (b.ours && !dbg_present()) {
		fail(&b, "SMMUV3_DRIVER=ours but no %s", SMMUV3_DEBUGFS);
		return 1;
	}

	if (b.blk_only) {
		phase_blk(&b);
		printf("bench end failed=%d\n", b.failed);
		return b.failed;
	}
	ret = pinned_alloc(&b.page, PAGE);
	b.iommufd = iommufd_open();
	if (ret || b.iommufd < 0 || iommufd_ioas_alloc(b.iommufd, &b.ioas)) {
		fail(&b, "setting up iommufd and a pinned page");
		return 1;
	}
	if (!open_edus(&b)) {
		if (!b.count_only)
			phase_map(&b);
		if (!b.failed && !b.map_only)
			phase_count(&b);
	}
	vfio_dev_close_all();
	if (!b.count_only && !b.map_only && !b.failed)
		phase_blk(&b);
	close(b.iommufd);
	pinned_free(&b.page);
	printf("bench end failed=%d\n", b.failed);
	return b.failed;
}
