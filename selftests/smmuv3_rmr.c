// SPDX-License-Identifier: GPL-2.0-only
/*
 * smmuv3_rmr: IORT RMR nodes and the CANWBS memory-access flag end to end.
 *
 * QEMU's IORT has neither; the acpi2-rmr topology boots with an upgraded
 * one (qemu/iort.py): RMR nodes naming one edu's stream each, and CANWBS
 * on the root complex.  /init passes what the table says:
 *   SMMUV3_RMR=BDF,BASE,LENGTH,TYPE[;...]  TYPE "direct" (Remapping
 *       Permitted clear) or "direct-relaxable" (set)
 *   SMMUV3_CANWBS=1
 * Without them (every other topology) the firmware has neither, and the
 * tests check that nothing claims otherwise.
 *
 * Each test takes each RMR in turn.
 *
 *   reserved_region  BDF's group lists [BASE, BASE + LENGTH - 1] with TYPE in
 *       reserved_regions (the IORT code's report, through the driver's
 *       get_resv_regions); without an RMR no group lists a direct region.
 *   bypass_at_probe  (smmuv3.ko) the driver logged, at probe, as many RMR
 *       streams made to bypass until their devices attach as there are
 *       RMRs (one stream each).
 *   dma_domain_identity  BDF's group switched to a DMA domain: an edu DMA
 *       read of BASE raises no SMMU event, one of BASE + LENGTH (outside
 *       the range) does.  The events are taken from the kernel log, in
 *       order: the second read's event is waited for, and the first read's
 *       address must not appear before it.  Both drivers log the address
 *       as " %#llx".
 *   user_domain_refused  for a direct RMR, binding BDF to iommufd
 *       (VFIO_DEVICE_BIND_IOMMUFD, which claims DMA ownership and would
 *       block the device) fails with EINVAL, as the iommu core does for
 *       devices that require direct mappings; for a relaxable one it works.
 *   canwbs_viommu  an edu without a direct RMR, behind an instance without S2FWB,
 *       with viommu_assume_coherent off: IOMMU_VIOMMU_ALLOC on a nesting
 *       parent made for it succeeds exactly when the firmware says CANWBS
 *       (the parent then enforces cache coherency); EOPNOTSUPP otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <unistd.h>
#include <linux/iommufd.h>

#include "kselftest_harness.h"

#include "dmacheck.h"
#include "edu.h"
#include "env.h"
#include "sysfs.h"
#include "vfio.h"
#ifdef IOMMU_VIOMMU_ALLOC
#include "nesting.h"
#endif

/* How long an expected SMMU event may take to reach the log (not timing). */
#define EVENT_WAIT_MS	30000

#define MAX_RMRS	4

struct rmr {
	char bdf[32];
	unsigned long long base, length;
	char type[32];
};

/* The RMRs SMMUV3_RMR names (at most MAX_RMRS); -EINVAL if malformed. */
static int rmrs_get(struct rmr *r)
{
	const char *s = getenv("SMMUV3_RMR");
	int n = 0;

	memset(r, 0, sizeof(*r) * MAX_RMRS);
	while (s && *s && n < MAX_RMRS) {
		if (sscanf(s, "%31[^,],%llx,%llx,%31[^;]", r[n].bdf, &r[n].base, &r[n].length,
			   r[n].type) != 4)
			return -EINVAL;
		n++;
		s = strchr(s, ';');
		if (s)
			s++;
	}
	return n;
}

/* The RMRs, or SKIP/fail the test.  Declares N and R. */
#define RMRS_OR_SKIP(r, n)						\
	struct rmr r[MAX_RMRS];						\
	int n = rmrs_get(r);						\
	ASSERT_LE(0, n) TH_LOG("SMMUV3_RMR=%s", getenv("SMMUV3_RMR"));	\
	if (!n)								\
		SKIP(return, "no RMR in the firmware")

static bool direct(const struct rmr *r)
{
	return !strcmp(r->type, "direct");
}

/* Whether BUF (lines, the last one's newline stripped) has the line LINE. */
static bool has_line(const char *buf, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = buf; (p = strstr(p, line)); p++)
		if ((p == buf || p[-1] == '\n') && (p[n] == '\n' || !p[n]))
			return true;
	return false;
}

/* BDF's group's reserved_regions: its length, or -errno. */
static int group_resv(const char *bdf, char *buf, size_t len)
{
	int g = pci_iommu_group(bdf);

	if (g < 0)
		return g;
	return sysfs_readf(buf, len, SYSFS_IOMMU_GROUPS "/%d/reserved_regions", g);
}

/*
 * What the tests change, as it was when the program started: the driver
 * and group type of every edu behind an IOMMU and of every RMR's device
 * (vfio_dev_open() binds vfio-pci, dma_check() switches the group to a DMA
 * domain) and the vIOMMU opt-in (canwbs_viommu turns it off).  A test that
 * stops half-way (a failed ASSERT, a crash) leaves them changed, and the
 * next test would fail for that reason instead of its own.
 *
 * The fixture's teardown runs in the harness's parent process
 * (FIXTURE_TEARDOWN_PARENT): after the test's process has ended, however
 * it ended, with its device fds closed.  A test killed at its timeout takes
 * that process along; the next test's setup then puts things back.
 * Either one logs what it found changed.
 */
#define MAX_DEVS	8

struct dev_state {
	char bdf[32];
	char driver[64];	/* "" = none */
	int group;		/* -1 = none */
	char type[32];		/* the group's type */
};

static struct orig_state {
	int ndev;
	struct dev_state dev[MAX_DEVS];
	int opt_in;		/* viommu_opt_in_get(), < 0: not there */
} orig = { .opt_in = -1 };

static void orig_add(const char *bdf)
{
	struct dev_state *d;

	for (int i = 0; i < orig.ndev; i++)
		if (!strcmp(orig.dev[i].bdf, bdf))
			return;
	if (orig.ndev == MAX_DEVS)
		return;
	d = &orig.dev[orig.ndev];
	snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);
	if (pci_driver(bdf, d->driver, sizeof(d->driver)))
		return;
	d->group = pci_iommu_group(bdf);
	if (d->group >= 0 && iommu_group_type(d->group, d->type, sizeof(d->type)) < 0)
		d->group = -1;
	orig.ndev++;
}

/* In the harness's first process, before any test. */
static void __attribute__((constructor)) orig_take(void)
{
	struct rmr r[MAX_RMRS];
	struct strlist edus;
	int n = rmrs_get(r);

	strlist_init(&edus);
	if (edus_behind_iommu(&edus, NULL) > 0)
		for (int i = 0; i < edus.n; i++)
			orig_add(edus.v[i]);
	strlist_free(&edus);
	for (int i = 0; i < n; i++)
		orig_add(r[i].bdf);
#ifdef IOMMU_VIOMMU_ALLOC
	orig.opt_in = viommu_opt_in_get();
#endif
}

/*
 * A step of orig_restore() that failed fails the test.  (Not EXPECT_EQ()
 * with TH_LOG(): in the parent, after a failed ASSERT in the test's
 * process, the harness's shared state would print the first one's message
 * whether it failed or not.)
 */
static void undo_failed(struct __test_metadata *_metadata, int ret, const char *what,
			const char *bdf)
{
	INFO("%s %s failed: %s", what, bdf, strerror(-ret));
	EXPECT_EQ(0, ret);
}

/* Put back whatever differs from ORIG, logging it (WHEN: whose leftover). */
static void orig_restore(struct __test_metadata *_metadata, const char *when)
{
	for (int i = 0; i < orig.ndev; i++) {
		const struct dev_state *o = &orig.dev[i];
		char drv[64], type[32];
		bool rebind;
		int ret;

		if (pci_driver(o->bdf, drv, sizeof(drv)))
			continue;
		rebind = strcmp(drv, o->driver);
		if (rebind) {
			INFO("%s: %s bound to %s (was: %s): restoring", when, o->bdf,
			     drv[0] ? drv : "no driver", o->driver[0] ? o->driver : "no driver");
			/* No driver first: a group's type changes only then. */
			ret = vfio_pci_restore(o->bdf, "");
			if (ret)
				undo_failed(_metadata, ret, "unbinding", o->bdf);
		}
		if (o->group >= 0 && iommu_group_type(o->group, type, sizeof(type)) >= 0 &&
		    strcmp(type, o->type)) {
			INFO("%s: group %d (%s) of type %s (was: %s): restoring", when, o->group,
			     o->bdf, type, o->type);
			ret = sysfs_writef(o->type, SYSFS_IOMMU_GROUPS "/%d/type", o->group);
			if (ret)
				undo_failed(_metadata, ret, "the group type of", o->bdf);
		}
		if (rebind && o->driver[0]) {
			ret = vfio_pci_restore(o->bdf, o->driver);
			if (ret)
				undo_failed(_metadata, ret, "binding its driver to", o->bdf);
		}
	}
#ifdef IOMMU_VIOMMU_ALLOC
	if (orig.opt_in >= 0 && viommu_opt_in_get() != orig.opt_in) {
		int ret = viommu_opt_in_set(orig.opt_in);

		INFO("%s: the vIOMMU opt-in changed: restoring", when);
		if (ret)
			undo_failed(_metadata, ret, "the vIOMMU opt-in", "");
	}
#endif
}

FIXTURE(rmr) {};
FIXTURE_SETUP(rmr)
{
	orig_restore(_metadata, "left by an earlier test");
}

FIXTURE_TEARDOWN_PARENT(rmr)
{
	orig_restore(_metadata, "left by this test");
}

TEST_F(rmr, reserved_region)
{
	struct rmr r[MAX_RMRS];
	int n = rmrs_get(r);
	char buf[4096], want[128];
	int ret;

	ASSERT_LE(0, n);
	if (!n) {
		int *groups = NULL, ng = iommu_groups(&groups);

		ASSERT_LE(0, ng);
		for (int i = 0; i < ng; i++) {
			ret = sysfs_readf(buf, sizeof(buf),
					  SYSFS_IOMMU_GROUPS "/%d/reserved_regions", groups[i]);
			if (ret < 0)
				continue;
			EXPECT_EQ(NULL, strstr(buf, " direct"))
				TH_LOG("group %d lists a direct region with no IORT RMR:\n%s",
				       groups[i], buf);
		}
		free(groups);
		INFO("no RMR in the firmware: %d groups, none with a direct region", ng);
		return;
	}
	for (int i = 0; i < n; i++) {
		ret = group_resv(r[i].bdf, buf, sizeof(buf));
		ASSERT_LE(0, ret) TH_LOG("reserved_regions of %s: %s", r[i].bdf, strerror(-ret));
		/* iommu_group_show_resv_regions(): "0x%016llx 0x%016llx %s\n" */
		snprintf(want, sizeof(want), "0x%016llx 0x%016llx %s", r[i].base,
			 r[i].base + r[i].length - 1, r[i].type);
		EXPECT_TRUE(has_line(buf, want))
			TH_LOG("%s's group has no line \"%s\" (the IORT RMR); it lists:\n%s",
			       r[i].bdf, want, buf);
		INFO("%s: %s", r[i].bdf, want);
	}
}

TEST_F(rmr, bypass_at_probe)
{
	static const char line[] = " IORT RMR streams bypass the SMMU until their devices attach";
	int size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	int len, streams = 0, lines = 0;
	char *log, *p;

	RMRS_OR_SKIP(r, n);
	if (!env_driver_ours())
		SKIP(return, "driver %s: the message is smmuv3.ko's", env_driver() ?: "?");
	ASSERT_LT(0, size);
	log = malloc(size + 1);
	ASSERT_NE(NULL, log);
	len = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, log, size);
	ASSERT_LE(0, len);
	log[len] = 0;
	for (p = log; (p = strstr(p, line)); p++) {
		const char *q = p;

		while (q > log && q[-1] >= '0' && q[-1] <= '9')
			q--;
		streams += atoi(q);
		lines++;
	}
	free(log);
	(void)r;
	/* One stream per RMR node; each line is one instance's count. */
	ASSERT_EQ(n, streams) TH_LOG("\"<N>%s\" logged %d times for %d streams, expected %d "
				     "streams (one per RMR)", line, lines, streams, n);
	INFO("%d RMR streams made to bypass at probe, on %d instance(s)", streams, lines);
}

/* Whether the kmsg record REC names address ADDR as " ADDR" (a token). */
static bool names_addr(const char *rec, unsigned long long addr)
{
	char tok[32];
	const char *p = rec;
	size_t n;

	n = snprintf(tok, sizeof(tok), " %#llx", addr);
	while ((p = strstr(p, tok))) {
		p += n;
		if (!*p || *p == ' ' || *p == '\n' || *p == ',')
			return true;
	}
	return false;
}

/*
 * In a DMA domain, an edu DMA read of the RMR's base does not fault and one
 * of the address after the range does.  0 or -errno (*why says what).
 */
static int dma_check(const struct rmr *r, char *why, size_t wlen)
{
	unsigned long long outside = r->base + r->length;
	bool seen_rmr = false, seen_out = false;
	char type[32], drv[64], rec[1024];
	struct edu e = { 0 };
	int g, ret, kmsg;
	uint64_t t0;

	g = pci_iommu_group(r->bdf);
	if (g < 0 || pci_driver(r->bdf, drv, sizeof(drv)) || drv[0] ||
	    iommu_group_type(g, type, sizeof(type)) < 0) {
		snprintf(why, wlen, "%s: no group, or bound to a driver (%s)", r->bdf, drv);
		return -ENODEV;
	}
	ret = sysfs_writef("DMA", SYSFS_IOMMU_GROUPS "/%d/type", g);
	if (ret) {
		snprintf(why, wlen, "group %d (%s) from %s to DMA: %s", g, r->bdf, type,
			 strerror(-ret));
		return ret;
	}
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (kmsg < 0) {
		ret = -errno;
		snprintf(why, wlen, "/dev/kmsg: %s", strerror(errno));
		goto restore;
	}
	lseek(kmsg, 0, SEEK_END);
	ret = edu_open_sysfs(&e, r->bdf);
	if (!ret) {
		/* RAM -> device buffer: DMA reads of the range, then after it. */
		ret = edu_dma_to_device(&e, r->base, EDU_BUF_SIZE);
		if (!ret)
			ret = edu_dma_to_device(&e, outside, EDU_BUF_SIZE);
		edu_close_sysfs(&e);
	}
	if (ret)
		snprintf(why, wlen, "edu DMA on %s: %s", r->bdf, strerror(-ret));
	t0 = now_ms();
	while (!ret && !seen_out && now_ms() - t0 < EVENT_WAIT_MS) {
		struct pollfd pfd = { .fd = kmsg, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		n = read(kmsg, rec, sizeof(rec) - 1);
		if (n <= 0)
			continue;
		rec[n] = 0;
		seen_rmr |= names_addr(rec, r->base);
		seen_out |= names_addr(rec, outside);
	}
	close(kmsg);
	if (!ret && !seen_out) {
		ret = -ETIMEDOUT;
		snprintf(why, wlen, "%s: no SMMU event logged for the DMA read of %#llx, after the "
			 "RMR (control), within %d ms", r->bdf, outside, EVENT_WAIT_MS);
	} else if (!ret && seen_rmr) {
		ret = -EFAULT;
		snprintf(why, wlen, "%s: the DMA read of %#llx (in the RMR) faulted: the DMA "
			 "domain does not map the range 1:1", r->bdf, r->base);
	} else if (!ret) {
		snprintf(why, wlen, "%s in a DMA domain: read of %#llx (RMR) went through, "
			 "%#llx faulted", r->bdf, r->base, outside);
	}
restore:
	if (sysfs_writef(type, SYSFS_IOMMU_GROUPS "/%d/type", g))
		INFO("restoring group %d to %s failed", g, type);
	return ret;
}

/* DEFAULT_RATELIMIT_INTERVAL (5 s), and a second to spare. */
#define RATELIMIT_WINDOW_S 6

/* Two edu DMAs and a wait for an event per RMR: more than the default 30 s. */
TEST_F_TIMEOUT(rmr, dma_domain_identity, 300)
{
	char why[256];

	RMRS_OR_SKIP(r, n);
	for (int i = 0; i < n; i++) {
		int ret;

		/*
		 * The fault of the previous RMR's control read was logged with
		 * the kernel's default ratelimit (10 lines per 5 s, shared by
		 * every instance): let its window pass, or this RMR's event
		 * is suppressed and the control read seems not to fault.
		 */
		if (i)
			sleep(RATELIMIT_WINDOW_S);
		ret = dma_check(&r[i], why, sizeof(why));

		EXPECT_EQ(0, ret) TH_LOG("%s", why);
		if (!ret)
			INFO("%s", why);
	}
}

TEST_F(rmr, user_domain_refused)
{
	int fd;

	RMRS_OR_SKIP(r, n);
	fd = iommufd_open();
	if (fd == -ENOENT)
		SKIP(return, "no /dev/iommu");
	ASSERT_LE(0, fd);
	for (int i = 0; i < n; i++) {
		struct vfio_dev d = { .fd = -1 };
		int ret = vfio_dev_open(&d, r[i].bdf, fd);

		if (!ret) {
			uint32_t ioas;

			/* A user domain without the range: allowed when relaxable. */
			ret = iommufd_ioas_alloc(fd, &ioas);
			if (!ret)
				ret = dev_attach(&d, ioas);
			vfio_dev_close(&d);
		}
		if (direct(&r[i])) {
			EXPECT_EQ(-EINVAL, ret)
				TH_LOG("binding %s (direct RMR) to iommufd: expected EINVAL, "
				       "got %s (%s)", r[i].bdf, strerror(-ret), d.err);
			EXPECT_NE(NULL, strstr(d.err, "VFIO_DEVICE_BIND_IOMMUFD"))
				TH_LOG("refused at another step: %s", d.err);
			INFO("%s (direct): %s", r[i].bdf, d.err);
		} else {
			EXPECT_EQ(0, ret) TH_LOG("%s (relaxable RMR) to VFIO and an IOAS: %s (%s)",
						 r[i].bdf, strerror(-ret), d.err);
			INFO("%s (relaxable): bound to iommufd and attached to an IOAS", r[i].bdf);
		}
	}
	close(fd);
}

#ifdef IOMMU_VIOMMU_ALLOC
static bool canwbs(void)
{
	const char *s = getenv("SMMUV3_CANWBS");

	return s && !strcmp(s, "1");
}

TEST_F(rmr, canwbs_viommu)
{
	struct iommu_hw_info_arm_smmuv3 info;
	uint32_t ioas, parent = 0, viommu = 0, type;
	struct vfio_dev d = { .fd = -1 };
	struct strlist edus;
	const char *bdf = NULL;
	int fd, ret, none = 0, have, n;
	struct rmr r[MAX_RMRS];

	n = rmrs_get(r);
	strlist_init(&edus);
	ASSERT_LE(0, edus_behind_iommu(&edus, &none));
	for (int i = 0; i < edus.n && !bdf; i++) {
		bdf = edus.v[i];
		for (int k = 0; k < n; k++)
			if (direct(&r[k]) && !strcmp(r[k].bdf, bdf))
				bdf = NULL;
	}
	if (!bdf)
		SKIP(goto out_list, "no edu behind an IOMMU without a direct RMR");
	fd = iommufd_open();
	if (fd == -ENOENT)
		SKIP(goto out_list, "no /dev/iommu");
	ASSERT_LE(0, fd);
	ret = vfio_dev_open(&d, bdf, fd);
	ASSERT_EQ(0, ret) TH_LOG("%s", d.err);
	ASSERT_EQ(0, iommufd_ioas_alloc(fd, &ioas));
	ret = iommufd_hw_info_smmuv3(fd, d.devid, &info, &type);
	if (!ret && type == IOMMU_HW_INFO_TYPE_ARM_SMMUV3 && (info.idr[3] & NEST_IDR3_FWB))
		SKIP(goto out, "%s's instance has S2FWB: a vIOMMU needs no CANWBS", bdf);
	ret = iommufd_hwpt_alloc_nest_parent(fd, d.devid, ioas, &parent);
	if (ret == -EOPNOTSUPP)
		SKIP(goto out, "no nesting parent for %s", bdf);
	ASSERT_EQ(0, ret) TH_LOG("nesting parent for %s: %s", bdf, strerror(-ret));
	have = viommu_opt_in_get();
	if (have > 0)
		ASSERT_EQ(0, viommu_opt_in_set(false));
	ret = iommufd_viommu_alloc_smmuv3(fd, d.devid, parent, &viommu);
	if (have > 0)
		viommu_opt_in_set(true);
	if (canwbs()) {
		ASSERT_EQ(0, ret) TH_LOG("IORT CANWBS, no S2FWB, no opt-in: a vIOMMU for %s "
					 "expected, got %s", bdf, strerror(-ret));
		INFO("CANWBS: vIOMMU for %s without S2FWB and without the opt-in", bdf);
	} else {
		ASSERT_EQ(-EOPNOTSUPP, ret) TH_LOG("no CANWBS, no S2FWB, no opt-in: vIOMMU for "
						   "%s expected EOPNOTSUPP, got %s", bdf,
						   ret ? strerror(-ret) : "success");
		INFO("no CANWBS: vIOMMU for %s refused (EOPNOTSUPP)", bdf);
	}
out:
	if (viommu)
		iommufd_destroy(fd, viommu);
	if (parent)
		iommufd_destroy(fd, parent);
	vfio_dev_close(&d);
	close(fd);
out_list:
	strlist_free(&edus);
}
#endif

TEST_HARNESS_MAIN
