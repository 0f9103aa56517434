// SPDX-License-Identifier: GPL-2.0-only
/*
 * smmuv3_rmr: IORT RMR nodes and the CANWBS memory-access flag end to end.
 *
 * QEMU's IORT has neither; the acpi2-rmr topology boots with an upgraded
 * one (qemu/iort.py): an RMR node naming one edu's stream, and CANWBS on
 * the root complex.  /init passes what the table says:
 *   SMMUV3_RMR=BDF,BASE,LENGTH,TYPE  TYPE "direct" (Remapping Permitted
 *       clear) or "direct-relaxable"
 *   SMMUV3_CANWBS=1
 * Without them (every other topology) the firmware has neither, and the
 * tests check that nothing claims otherwise.
 *
 *   reserved_region  BDF's group lists [BASE, BASE + LENGTH - 1] with TYPE in
 *       reserved_regions (the IORT code's report, through the driver's
 *       get_resv_regions); without an RMR no group lists a direct region.
 *   bypass_at_probe  (smmuv3.ko) the driver logged, at probe, one RMR stream
 *       made to bypass until its device attaches.
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
 *   canwbs_viommu  an edu other than BDF, behind an instance without S2FWB,
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

struct rmr {
	bool present;
	char bdf[32];
	unsigned long long base, length;
	char type[32];
};

static bool rmr_get(struct rmr *r)
{
	const char *s = getenv("SMMUV3_RMR");

	memset(r, 0, sizeof(*r));
	if (!s || !*s)
		return false;
	r->present = sscanf(s, "%31[^,],%llx,%llx,%31s", r->bdf, &r->base, &r->length,
			    r->type) == 4;
	return r->present;
}

static bool canwbs(void)
{
	const char *s = getenv("SMMUV3_CANWBS");

	return s && !strcmp(s, "1");
}

static int group_resv(const char *bdf, char *buf, size_t len)
{
	int g = pci_iommu_group(bdf);

	if (g < 0)
		return g;
	return sysfs_readf(buf, len, SYSFS_IOMMU_GROUPS "/%d/reserved_regions", g);
}

TEST(reserved_region)
{
	char buf[4096], want[128];
	struct rmr r;
	int ret;

	if (!rmr_get(&r)) {
		int *groups = NULL, n = iommu_groups(&groups);

		ASSERT_LE(0, n);
		for (int i = 0; i < n; i++) {
			ret = sysfs_readf(buf, sizeof(buf),
					  SYSFS_IOMMU_GROUPS "/%d/reserved_regions", groups[i]);
			if (ret)
				continue;
			EXPECT_EQ(NULL, strstr(buf, " direct"))
				TH_LOG("group %d lists a direct region with no IORT RMR:\n%s",
				       groups[i], buf);
		}
		free(groups);
		INFO("no RMR in the firmware: %d groups, none with a direct region", n);
		return;
	}
	ret = group_resv(r.bdf, buf, sizeof(buf));
	ASSERT_EQ(0, ret) TH_LOG("reserved_regions of %s: %s", r.bdf, strerror(-ret));
	/* iommu_group_show_resv_regions(): "0x%016llx 0x%016llx %s\n" */
	snprintf(want, sizeof(want), "0x%016llx 0x%016llx %s\n", r.base,
		 r.base + r.length - 1, r.type);
	ASSERT_NE(NULL, strstr(buf, want))
		TH_LOG("%s's group has no \"%.*s\" (the IORT RMR); it lists:\n%s", r.bdf,
		       (int)strlen(want) - 1, want, buf);
	INFO("%s: %.*s", r.bdf, (int)strlen(want) - 1, want);
}

TEST(bypass_at_probe)
{
	static const char line[] = " 1 IORT RMR streams bypass the SMMU until their devices attach";
	int size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *log, *p;
	int n, hits = 0;
	struct rmr r;

	if (!rmr_get(&r))
		SKIP(return, "no RMR in the firmware");
	if (!env_driver_ours())
		SKIP(return, "driver %s: the message is smmuv3.ko's", env_driver() ?: "?");
	ASSERT_LT(0, size);
	log = malloc(size + 1);
	ASSERT_NE(NULL, log);
	n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, log, size);
	ASSERT_LE(0, n);
	log[n] = 0;
	for (p = log; (p = strstr(p, line)); p++)
		hits++;
	free(log);
	/* One RMR node, one stream, behind one instance. */
	ASSERT_EQ(1, hits) TH_LOG("\"%s\" logged %d times, expected once (at probe)",
				  line + 1, hits);
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

TEST(dma_domain_identity)
{
	unsigned long long outside;
	char type[32], drv[64], rec[1024];
	bool seen_rmr = false, seen_out = false;
	struct edu e = { 0 };
	uint64_t t0;
	struct rmr r;
	int g, ret, kmsg;

	if (!rmr_get(&r))
		SKIP(return, "no RMR in the firmware");
	outside = r.base + r.length;
	g = pci_iommu_group(r.bdf);
	ASSERT_LE(0, g);
	ASSERT_EQ(0, pci_driver(r.bdf, drv, sizeof(drv)));
	if (drv[0])
		SKIP(return, "%s is bound to %s: its group's domain cannot be switched", r.bdf,
		     drv);
	ASSERT_EQ(0, iommu_group_type(g, type, sizeof(type)));
	ret = sysfs_writef("DMA", SYSFS_IOMMU_GROUPS "/%d/type", g);
	ASSERT_EQ(0, ret) TH_LOG("group %d (%s) from %s to DMA: %s", g, r.bdf, type,
				 strerror(-ret));
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, kmsg);
	lseek(kmsg, 0, SEEK_END);
	ret = edu_open_sysfs(&e, r.bdf);
	if (!ret) {
		/* RAM -> device buffer: DMA reads of the range, then outside it. */
		ret = edu_dma_to_device(&e, r.base, EDU_BUF_SIZE);
		if (!ret)
			ret = edu_dma_to_device(&e, outside, EDU_BUF_SIZE);
		edu_close_sysfs(&e);
	}
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
		seen_rmr |= names_addr(rec, r.base);
		seen_out |= names_addr(rec, outside);
	}
	close(kmsg);
	if (sysfs_writef(type, SYSFS_IOMMU_GROUPS "/%d/type", g))
		INFO("restoring group %d to %s failed", g, type);
	ASSERT_EQ(0, ret) TH_LOG("edu DMA on %s: %s", r.bdf, strerror(-ret));
	ASSERT_TRUE(seen_out) TH_LOG("no SMMU event logged for the DMA read of %#llx, "
				     "outside the RMR (control), within %d ms", outside,
				     EVENT_WAIT_MS);
	ASSERT_FALSE(seen_rmr) TH_LOG("the DMA read of %#llx (the RMR) faulted: the DMA "
				      "domain does not map the range 1:1", r.base);
	INFO("DMA domain: read of %#llx (RMR) went through, %#llx faulted", r.base, outside);
}

TEST(user_domain_refused)
{
	struct vfio_dev d = { .fd = -1 };
	bool relaxable;
	struct rmr r;
	int fd, ret;

	if (!rmr_get(&r))
		SKIP(return, "no RMR in the firmware");
	relaxable = !strcmp(r.type, "direct-relaxable");
	fd = iommufd_open();
	if (fd == -ENOENT)
		SKIP(return, "no /dev/iommu");
	ASSERT_LE(0, fd);
	ret = vfio_dev_open(&d, r.bdf, fd);
	if (!ret)
		vfio_dev_close(&d);
	close(fd);
	if (relaxable) {
		ASSERT_EQ(0, ret) TH_LOG("a relaxable RMR must not stop VFIO: %s", d.err);
		return;
	}
	ASSERT_EQ(-EINVAL, ret) TH_LOG("binding %s (direct RMR) to iommufd: expected EINVAL, "
				       "got %s (%s)", r.bdf, strerror(-ret), d.err);
	ASSERT_NE(NULL, strstr(d.err, "VFIO_DEVICE_BIND_IOMMUFD"))
		TH_LOG("refused at another step: %s", d.err);
	INFO("%s", d.err);
}

#ifdef IOMMU_VIOMMU_ALLOC
TEST(canwbs_viommu)
{
	struct iommu_hw_info_arm_smmuv3 info;
	uint32_t ioas, parent = 0, viommu = 0, type;
	struct vfio_dev d = { .fd = -1 };
	struct strlist edus;
	const char *bdf = NULL;
	int fd, ret, none = 0, have;
	struct rmr r;

	rmr_get(&r);
	strlist_init(&edus);
	ASSERT_LE(0, edus_behind_iommu(&edus, &none));
	for (int i = 0; i < edus.n && !bdf; i++)
		if (!r.present || strcmp(edus.v[i], r.bdf))
			bdf = edus.v[i];
	if (!bdf)
		SKIP(goto out_list, "no edu behind an IOMMU other than the RMR one");
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
