// SPDX-License-Identifier: GPL-2.0-only
/*
 * smmuv3_blocked_dma: a device bound to iommufd but attached to nothing is
 * in the blocked domain, and its DMA reaches no memory.
 *
 * The edu DMA engine is pointed at the physical address of a pinned buffer:
 * were the SMMU to let the transaction through untranslated (bypass), it
 * would land there.
 *
 *   identity_dma_reaches_memory  positive control: the same DMA, done with
 *       the device in its identity default domain (no driver, programmed
 *       through sysfs resource0), does reach memory, both directions.  It
 *       shows the DMA machinery works, so that "memory unchanged" below
 *       means "blocked", not "nothing happened".
 *   blocked_dma_write_dropped  device buffer -> RAM while blocked: the
 *       buffer must stay byte for byte what it was.
 *   blocked_dma_read_dropped  RAM -> device buffer while blocked: the
 *       device buffer (seeded with a known pattern beforehand, read back
 *       afterwards through the identity domain) must hold none of the RAM
 *       pattern.
 *
 * Every edu behind an IOMMU instance is tested.  Each device is given back
 * to the driver it had (normally none) afterwards.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "dmacheck.h"
#include "edu.h"
#include "env.h"
#include "mem.h"
#include "sysfs.h"
#include "vfio.h"

#define LEN EDU_BUF_SIZE
#define DMA_TIMEOUT 120

#define MAX_EDUS 8

FIXTURE(edu)
{
	struct strlist edus;	/* edus behind an IOMMU instance */
	/* Groups switched to identity by setup, and their type before. */
	int switched[MAX_EDUS];
	char switched_from[MAX_EDUS][32];
	struct edu sys;		/* sysfs mapping, when open */
	struct vfio_dev vdev;
	int iommufd;
	struct prng rng;
	struct pinned_buf a, b, c;
};

FIXTURE_SETUP(edu)
{
	uint64_t seed = prng_time_seed();
	int ret;

	memset(self, 0, sizeof(*self));
	self->iommufd = -1;
	self->vdev.fd = -1;
	EDUS_OR_SKIP(&self->edus);
	ASSERT_GE(MAX_EDUS, self->edus.n);

	/*
	 * The positive control and the readback need the edu in an identity
	 * domain.  An edu has no driver, so its group's default domain can be
	 * switched when the guest booted with DMA domains; switched back in
	 * teardown.
	 */
	for (int i = 0; i < self->edus.n; i++) {
		const char *bdf = self->edus.v[i];
		char type[32], drv[64];
		int g = pci_iommu_group(bdf);

		self->switched[i] = -1;
		if (g < 0 || iommu_group_type(g, type, sizeof(type)) < 0 ||
		    !strcmp(type, "identity"))
			continue;
		if (pci_driver(bdf, drv, sizeof(drv)) || drv[0])
			continue;
		ret = sysfs_writef("identity", SYSFS_IOMMU_GROUPS "/%d/type", g);
		if (ret) {
			INFO("%s: switching group %d from %s to identity failed: %s", bdf, g,
			     type, strerror(-ret));
			continue;
		}
		self->switched[i] = g;
		snprintf(self->switched_from[i], sizeof(self->switched_from[i]), "%s", type);
		INFO("%s: group %d switched from %s to identity for this test", bdf, g, type);
	}

	prng_seed(&self->rng, seed);
	INFO("patterns from seed 0x%016llx", (unsigned long long)seed);
	ret = pinned_alloc(&self->a, LEN);
	if (ret == -EPERM)
		SKIP(return, "/proc/self/pagemap shows no PFNs (needs CAP_SYS_ADMIN)");
	ASSERT_EQ(0, ret) TH_LOG("pinned buffer: %s", strerror(-ret));
	ret = pinned_alloc(&self->b, LEN);
	ASSERT_EQ(0, ret) TH_LOG("pinned buffer: %s", strerror(-ret));
	ret = pinned_alloc(&self->c, LEN);
	ASSERT_EQ(0, ret) TH_LOG("pinned buffer: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(edu)
{
	edu_close_sysfs(&self->sys);
	vfio_dev_close_all();
	if (self->iommufd >= 0)
		close(self->iommufd);
	pinned_free(&self->a);
	pinned_free(&self->b);
	pinned_free(&self->c);
	for (int i = 0; i < self->edus.n; i++) {
		int ret;

		if (self->switched[i] < 0)
			continue;
		ret = sysfs_writef(self->switched_from[i], SYSFS_IOMMU_GROUPS "/%d/type",
				   self->switched[i]);
		if (ret)
			INFO("restoring group %d to %s failed: %s", self->switched[i],
			     self->switched_from[i], strerror(-ret));
	}
	strlist_free(&self->edus);
}

/*
 * Whether BDF can be driven through sysfs in its identity default domain:
 * no driver, group type "identity".  If not, WHY says why.
 */
static bool identity_usable(const char *bdf, char *why, size_t len)
{
	char drv[64], type[32];
	int g = pci_iommu_group(bdf);

	if (g < 0) {
		snprintf(why, len, "%s has no IOMMU group", bdf);
		return false;
	}
	if (iommu_group_type(g, type, sizeof(type)) < 0)
		snprintf(type, sizeof(type), "?");
	if (strcmp(type, "identity")) {
		snprintf(why, len, "%s: group %d's default domain is %s, not identity "
			 "(DMA to a physical address would be translated)", bdf, g, type);
		return false;
	}
	if (pci_driver(bdf, drv, sizeof(drv)) || drv[0]) {
		snprintf(why, len, "%s is bound to %s (resource0 needs an unbound device)",
			 bdf, drv[0] ? drv : "?");
		return false;
	}
	return true;
}

static const char *instance_of(const char *bdf, char *buf, size_t len)
{
	if (pci_iommu_instance(bdf, buf, len))
		snprintf(buf, len, "(no instance)");
	return buf;
}

/* Both buffers must still be where the device was told to write/read. */
#define ASSERT_NOT_MOVED(buf) do { \
	int __r = pinned_check(buf); \
	ASSERT_EQ(0, __r) TH_LOG("pinned buffer at PA 0x%llx %s during the DMA: " \
				 "result inconclusive", (unsigned long long)(buf)->pa, \
				 __r == -ESTALE ? "was migrated" : "lookup failed"); \
} while (0)

#define ASSERT_DMA_DONE(ret, what, bdf) \
	ASSERT_EQ(0, ret) TH_LOG("%s on %s: expected the edu to complete the command " \
				 "(it does even when the IOMMU aborts it), found %s", \
				 what, bdf, strerror(-(ret)))

/*
 * Through the identity domain: copy PATTERN (LEN bytes) into the device
 * buffer via self->c and read it back into self->b to check it got there.
 * Leaves self->sys closed.
 */
static void identity_seed(struct __test_metadata *_metadata,
			  FIXTURE_DATA(edu) *self, const char *bdf,
			  const void *pattern)
{
	uint32_t ident;
	long first;
	size_t n;
	int ret;

	ret = edu_open_sysfs(&self->sys, bdf);
	ASSERT_EQ(0, ret) TH_LOG("%s: mapping resource0: %s", bdf, strerror(-ret));
	ret = edu_check(&self->sys, &ident);
	ASSERT_EQ(0, ret) TH_LOG("%s: expected edu identification 0x......ed in BAR0, "
				 "found 0x%08x", bdf, ident);
	memcpy(self->c.va, pattern, LEN);
	memset(self->b.va, 0, LEN);
	ret = edu_dma_to_device(&self->sys, self->c.pa, LEN);
	ASSERT_DMA_DONE(ret, "identity DMA RAM -> device", bdf);
	ret = edu_dma_from_device(&self->sys, self->b.pa, LEN);
	ASSERT_DMA_DONE(ret, "identity DMA device -> RAM", bdf);
	ASSERT_NOT_MOVED(&self->b);
	ASSERT_NOT_MOVED(&self->c);
	n = mem_diff(self->b.va, pattern, LEN, &first);
	ASSERT_EQ((size_t)0, n) TH_LOG("%s in its identity domain: expected the pattern copied "
			       "RAM (PA 0x%llx) -> device -> RAM (PA 0x%llx) to arrive, "
			       "found %zu of %d bytes differ (first at +%ld)%s", bdf,
			       (unsigned long long)self->c.pa,
			       (unsigned long long)self->b.pa, n, LEN, first,
			       mem_all(self->b.va, 0, LEN) ? "; the destination stayed "
			       "zero: the DMA did not reach memory" : "");
	edu_close_sysfs(&self->sys);
}

TEST_F_TIMEOUT(edu, identity_dma_reaches_memory, DMA_TIMEOUT)
{
	char why[256] = "", inst[128];
	unsigned char *pattern = malloc(LEN);
	int tested = 0;

	ASSERT_NE(NULL, pattern);
	for (int i = 0; i < self->edus.n; i++) {
		const char *bdf = self->edus.v[i];

		if (!identity_usable(bdf, why, sizeof(why))) {
			INFO("%s: not tested: %s", bdf, why);
			continue;
		}
		mem_fill_distinct(pattern, NULL, NULL, LEN, &self->rng);
		identity_seed(_metadata, self, bdf, pattern);
		INFO("%s (identity, behind %s): %d bytes RAM PA 0x%llx -> device -> "
		     "RAM PA 0x%llx arrived intact", bdf,
		     instance_of(bdf, inst, sizeof(inst)), LEN,
		     (unsigned long long)self->c.pa, (unsigned long long)self->b.pa);
		tested++;
	}
	free(pattern);
	if (!tested)
		SKIP(return, "no edu usable in an identity domain: %s", why);
}

/* Bind BDF to vfio-pci and iommufd, no attach; map BAR0 and enable DMA. */
static void open_blocked(struct __test_metadata *_metadata,
			 FIXTURE_DATA(edu) *self, const char *bdf, struct edu *e)
{
	char inst[128];
	int ret;

	self->iommufd = iommufd_open();
	ASSERT_LE(0, self->iommufd) TH_LOG("open /dev/iommu: %s (CONFIG_IOMMUFD?)",
					   strerror(-self->iommufd));
	ret = vfio_dev_open(&self->vdev, bdf, self->iommufd);
	ASSERT_EQ(0, ret) TH_LOG("%s", self->vdev.err);
	ret = vfio_dev_edu(&self->vdev, e);
	ASSERT_EQ(0, ret) TH_LOG("%s", self->vdev.err);
	INFO("%s (behind %s): vfio-pci %s bound to iommufd as device %u, not "
	     "attached (blocked)", bdf, instance_of(bdf, inst, sizeof(inst)),
	     self->vdev.cdev, self->vdev.devid);
}

static void close_blocked(struct __test_metadata *_metadata,
			  FIXTURE_DATA(edu) *self, const char *bdf)
{
	char prev[64], drv[64];

	snprintf(prev, sizeof(prev), "%s", self->vdev.prev_driver);
	vfio_dev_close(&self->vdev);
	close(self->iommufd);
	self->iommufd = -1;
	ASSERT_EQ(0, pci_driver(bdf, drv, sizeof(drv)));
	EXPECT_STREQ(prev, drv) TH_LOG("%s: expected its driver restored to \"%s\", "
				       "found \"%s\"", bdf, prev, drv);
}

TEST_F_TIMEOUT(edu, blocked_dma_write_dropped, DMA_TIMEOUT)
{
	unsigned char *seed = malloc(LEN), *expect = malloc(LEN);
	char why[256];
	struct edu e;
	long first;
	size_t n;
	int ret;

	ASSERT_NE(NULL, seed);
	ASSERT_NE(NULL, expect);
	for (int i = 0; i < self->edus.n; i++) {
		const char *bdf = self->edus.v[i];
		const unsigned char *dev_content = NULL;

		/*
		 * Know what the device would write: seed its buffer, when the
		 * identity domain allows.  Otherwise it holds zeros or an
		 * earlier pattern; the target pattern is nonzero and unique
		 * to this run, so a leak shows either way.
		 */
		mem_fill_distinct(seed, NULL, NULL, LEN, &self->rng);
		if (identity_usable(bdf, why, sizeof(why))) {
			identity_seed(_metadata, self, bdf, seed);
			dev_content = seed;
		} else {
			INFO("%s: device buffer not seeded: %s", bdf, why);
		}

		open_blocked(_metadata, self, bdf, &e);
		mem_fill_distinct(self->a.va, dev_content, NULL, LEN, &self->rng);
		memcpy(expect, self->a.va, LEN);
		ret = edu_dma_from_device(&e, self->a.pa, LEN);
		ASSERT_DMA_DONE(ret, "blocked DMA device -> RAM", bdf);
		ASSERT_NOT_MOVED(&self->a);
		n = mem_diff(self->a.va, expect, LEN, &first);
		ASSERT_EQ((size_t)0, n)
			TH_LOG("%s is blocked (bound to iommufd, not attached): expected "
			       "RAM at PA 0x%llx unchanged after it DMA'd its buffer there, "
			       "found %zu of %d bytes changed (first at +%ld: 0x%02x -> "
			       "0x%02x)%s", bdf, (unsigned long long)self->a.pa, n, LEN,
			       first, expect[first], ((unsigned char *)self->a.va)[first],
			       dev_content && !mem_diff(self->a.va, dev_content, LEN, NULL) ?
			       "; it now holds the device buffer: the DMA bypassed the SMMU" :
			       "");
		INFO("%s: DMA device -> RAM PA 0x%llx while blocked: memory unchanged",
		     bdf, (unsigned long long)self->a.pa);
		close_blocked(_metadata, self, bdf);
	}
	free(seed);
	free(expect);
}

TEST_F_TIMEOUT(edu, blocked_dma_read_dropped, DMA_TIMEOUT)
{
	unsigned char *seed = malloc(LEN), *marker = malloc(LEN), *src = malloc(LEN);
	unsigned char *back;
	char why[256] = "";
	int tested = 0;
	struct edu e;
	size_t n;
	int ret;

	ASSERT_NE(NULL, seed);
	ASSERT_NE(NULL, marker);
	ASSERT_NE(NULL, src);
	for (int i = 0; i < self->edus.n; i++) {
		const char *bdf = self->edus.v[i];

		if (!identity_usable(bdf, why, sizeof(why))) {
			INFO("%s: not tested (the device buffer can only be read back "
			     "through the identity domain): %s", bdf, why);
			continue;
		}
		/*
		 * seed: what the device buffer holds before; src: what the
		 * blocked device is told to read; marker: what the readback
		 * buffer holds before the readback.  Bytewise distinct, and
		 * none zero.
		 */
		mem_fill_distinct(seed, NULL, NULL, LEN, &self->rng);
		mem_fill_distinct(marker, seed, NULL, LEN, &self->rng);
		mem_fill_distinct(src, seed, marker, LEN, &self->rng);
		identity_seed(_metadata, self, bdf, seed);

		open_blocked(_metadata, self, bdf, &e);
		memcpy(self->a.va, src, LEN);
		ret = edu_dma_to_device(&e, self->a.pa, LEN);
		ASSERT_DMA_DONE(ret, "blocked DMA RAM -> device", bdf);
		ASSERT_NOT_MOVED(&self->a);
		close_blocked(_metadata, self, bdf);

		/* Back in the identity domain: what is in the device buffer? */
		ASSERT_TRUE(identity_usable(bdf, why, sizeof(why)))
			TH_LOG("after giving %s back: %s", bdf, why);
		ret = edu_open_sysfs(&self->sys, bdf);
		ASSERT_EQ(0, ret) TH_LOG("%s: mapping resource0: %s", bdf, strerror(-ret));
		memcpy(self->b.va, marker, LEN);
		ret = edu_dma_from_device(&self->sys, self->b.pa, LEN);
		ASSERT_DMA_DONE(ret, "identity DMA device -> RAM (readback)", bdf);
		ASSERT_NOT_MOVED(&self->b);
		edu_close_sysfs(&self->sys);
		back = self->b.va;

		ASSERT_NE((size_t)0, mem_diff(back, marker, LEN, NULL))
			TH_LOG("%s: the identity-domain readback of the device buffer did "
			       "not arrive (RAM unchanged): inconclusive", bdf);
		n = mem_same(back, src, LEN);
		ASSERT_EQ((size_t)0, n)
			TH_LOG("%s was blocked while told to read RAM at PA 0x%llx: expected "
			       "none of that RAM in its buffer, found %zu of %d bytes of it",
			       bdf, (unsigned long long)self->a.pa, n, LEN);
		if (!mem_diff(back, seed, LEN, NULL)) {
			INFO("%s: DMA RAM PA 0x%llx -> device while blocked: device buffer "
			     "kept its seed (nothing was stored)", bdf,
			     (unsigned long long)self->a.pa);
		} else if (mem_all(back, 0, LEN)) {
			INFO("%s: DMA RAM PA 0x%llx -> device while blocked: device buffer "
			     "now zero (the aborted read returned zeros)", bdf,
			     (unsigned long long)self->a.pa);
		} else {
			size_t s = mem_same(back, seed, LEN), z = LEN - mem_diff(back,
				   memset(self->c.va, 0, LEN), LEN, NULL);

			ASSERT_EQ((size_t)LEN, s + z)
				TH_LOG("%s: expected the device buffer to hold its seed or "
				       "zeros (an aborted read) after the blocked read, found "
				       "%zu seed bytes, %zu zero bytes and %zu others", bdf, s,
				       z, LEN - s - z);
			INFO("%s: blocked read left %zu seed bytes and %zu zero bytes", bdf,
			     s, z);
		}
		tested++;
	}
	free(seed);
	free(marker);
	free(src);
	if (!tested)
		SKIP(return, "no edu usable in an identity domain: %s", why);
}

TEST_HARNESS_MAIN
