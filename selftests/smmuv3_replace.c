// SPDX-License-Identifier: GPL-2.0-only
/*
 * smmuv3_replace: explicitly allocated HWPTs of both stages, and replacing
 * one by the other under a device that keeps doing DMA.
 *
 * For each edu (one behind each SMMU instance), with one IOAS:
 *   - IOMMU_HWPT_ALLOC for the device: a stage-1 HWPT (flags 0) and a
 *     stage-2 one (IOMMU_HWPT_ALLOC_NEST_PARENT).  On an instance without
 *     stage 2 (IDR0.S2P clear: acpi2-mixed instance 1, dt1), the
 *     NEST_PARENT allocation must fail with EOPNOTSUPP and only the
 *     stage-1 steps run;
 *   - attach S1, DMA correct; replace by S2 (VFIO_DEVICE_ATTACH_IOMMUFD_PT
 *     again), DMA correct; back to S1, DMA correct;
 *   - detach: DMA blocked both ways (memory untouched; the device's read
 *     of RAM, checked after attaching again, got none of it);
 *   - destroy both HWPTs.
 * With our driver, debugfs must show at each step: the S1 HWPT's domain
 * holds a live type-0 (ASID) entry for the device's instance exactly while
 * the device is attached to it, the S2 HWPT's domain a type-1 (VMID)
 * entry; asids_used / vmids_used of the instance follow (one tag at a
 * time) and come back to their starting values after detach and destroy;
 * the destroyed domains leave the domains file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/iommufd.h>

#include "kselftest_harness.h"

#include "debugfs.h"
#include "dmacheck.h"
#include "dmatest.h"
#include "env.h"
#include "mem.h"
#include "sysfs.h"
#include "vfio.h"

FIXTURE(replace)
{
	struct strlist edus;
	int iommufd;
	uint32_t ioas;
	struct edu_dev dev;
	struct prng rng;
	struct pinned_buf mem, ctl;
	struct dbg_domains *dd;
	bool ours;
};

FIXTURE_SETUP(replace)
{
	uint64_t seed = prng_time_seed();
	int ret;

	self->iommufd = -1;
	self->dev.vd.fd = -1;
	EDUS_OR_SKIP(&self->edus);
	self->ours = DRIVER_OURS_CHECKED();
	self->dd = malloc(sizeof(*self->dd));
	ASSERT_NE(NULL, self->dd);
	prng_seed(&self->rng, seed);
	INFO("patterns from seed 0x%016llx", (unsigned long long)seed);
	ret = pinned_alloc(&self->mem, PAGE);
	ASSERT_EQ(0, ret) TH_LOG("pinned buffer: %s", strerror(-ret));
	ret = pinned_alloc(&self->ctl, PAGE);
	ASSERT_EQ(0, ret) TH_LOG("pinned buffer: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(replace)
{
	dma_fixture_release(self->iommufd, &self->mem, &self->ctl);
	free(self->dd);
	strlist_free(&self->edus);
}

struct counts {
	uint64_t asids, vmids;
};

static void read_counts(struct __test_metadata *_metadata, const char *inst,
			struct counts *c)
{
	int ret = dbg_stat(inst, "asids_used", &c->asids);

	ASSERT_EQ(0, ret) TH_LOG("%s stats: %s", inst, strerror(-ret));
	ret = dbg_stat(inst, "vmids_used", &c->vmids);
	ASSERT_EQ(0, ret) TH_LOG("%s stats: %s", inst, strerror(-ret));
}

/* With our driver: ASIDs and VMIDs in use on INST are BASE + da / + dv. */
static void expect_counts(struct __test_metadata *_metadata, FIXTURE_DATA(replace) *self,
			  const struct counts *base, int da, int dv, const char *when)
{
	struct counts c;

	if (!self->ours)
		return;
	read_counts(_metadata, self->dev.inst, &c);
	EXPECT_EQ(base->asids + da, c.asids)
		TH_LOG("%s: %s: expected asids_used %llu on %s, found %llu", self->dev.bdf,
		       when, (unsigned long long)(base->asids + da), self->dev.inst,
		       (unsigned long long)c.asids);
	EXPECT_EQ(base->vmids + dv, c.vmids)
		TH_LOG("%s: %s: expected vmids_used %llu on %s, found %llu", self->dev.bdf,
		       when, (unsigned long long)(base->vmids + dv), self->dev.inst,
		       (unsigned long long)c.vmids);
}

/*
 * With our driver: domain DOM holds N live entries of TYPE for the device's
 * instance (N = 0 or 1); for DOM < 0 (unknown) nothing is checked.
 */
static void expect_tag(struct __test_metadata *_metadata, FIXTURE_DATA(replace) *self,
		       int dom, int type, int n, const char *when)
{
	const struct dbg_domain *d;
	const struct dbg_inv *inv;
	char desc[512];
	int ret, live;

	if (!self->ours || dom < 0)
		return;
	ret = dbg_domains_read(self->dd);
	ASSERT_EQ(0, ret) TH_LOG("reading " SMMUV3_DEBUGFS "/domains: %s", strerror(-ret));
	d = dbg_domain_find(self->dd, dom);
	ASSERT_NE(NULL, d) TH_LOG("%s: expected domain %d in " SMMUV3_DEBUGFS "/domains, "
				  "found it missing", when, dom);
	live = dbg_domain_live(d, self->dev.inst, -1, &inv);
	EXPECT_EQ(n, live)
		TH_LOG("%s: %s: expected %d live entr%s for %s in domain %d, found %d: %s",
		       self->dev.bdf, when, n, n == 1 ? "y" : "ies", self->dev.inst, dom,
		       live, dbg_domain_str(d, desc, sizeof(desc)));
	if (n && live)
		EXPECT_EQ((unsigned int)type, inv->type)
			TH_LOG("%s: %s: expected the entry of %s in domain %d to be of type "
			       "%d (%s), found type %u: %s", self->dev.bdf, when,
			       self->dev.inst, dom, type, type ? "VMID" : "ASID", inv->type,
			       dbg_domain_str(d, desc, sizeof(desc)));
}

/* Allocate a HWPT for the device; with ours, return its domain's id. */
static int alloc_hwpt(struct __test_metadata *_metadata, FIXTURE_DATA(replace) *self,
		      uint32_t flags, uint32_t *hwpt, int *dom)
{
	struct dbg_domains *before = NULL;
	unsigned int id;
	int ret;

	*dom = -1;
	if (self->ours) {
		before = malloc(sizeof(*before));
		ASSERT_NE(NULL, before);
		ASSERT_EQ(0, dbg_domains_read(before));
	}
	ret = iommufd_hwpt_alloc(self->iommufd, self->dev.vd.devid, self->ioas, flags,
				 hwpt);
	if (!ret && self->ours) {
		ASSERT_EQ(0, dbg_domains_read(self->dd));
		ret = dbg_domains_new(before, self->dd, &id);
		free(before);
		ASSERT_EQ(0, ret) TH_LOG("expected exactly one new domain in "
					 SMMUV3_DEBUGFS "/domains after IOMMU_HWPT_ALLOC, "
					 "found %s", ret == -ENOENT ? "none" : "several");
		*dom = id;
		return 0;
	}
	free(before);
	return ret;
}

static void attach(struct __test_metadata *_metadata, FIXTURE_DATA(replace) *self,
		   uint32_t hwpt, const char *what)
{
	int ret = dev_attach(&self->dev.vd, hwpt);

	ASSERT_EQ(0, ret) TH_LOG("attaching to the %s HWPT: %s", what, self->dev.vd.err);
	ASSERT_EQ(hwpt, self->dev.vd.hwpt_id)
		TH_LOG("%s: attached to HWPT %u, expected the kernel to report it, found "
		       "%u", self->dev.bdf, hwpt, self->dev.vd.hwpt_id);
}

TEST_F_TIMEOUT(replace, s1_s2_s1_detach, DMA_TIMEOUT)
{
	const bool mixed = env_topology_is("acpi2-mixed");
	const bool acpi2 = env_topology_is("acpi2") && !mixed;
	int without_s2 = 0;

	for (int e = 0; e < self->edus.n; e++) {
		struct edu_dev *d = &self->dev;
		uint32_t h1 = 0, h2 = 0;
		const char *how = "";
		int dom1 = -1, dom2 = -1, ret;
		uint64_t iova, ctl;
		struct counts base = {};
		bool s2;

		self->iommufd = iommufd_open();
		ASSERT_LE(0, self->iommufd) TH_LOG("open /dev/iommu: %s",
						   strerror(-self->iommufd));
		ret = iommufd_ioas_alloc(self->iommufd, &self->ioas);
		ASSERT_EQ(0, ret) TH_LOG("IOMMU_IOAS_ALLOC: %s", strerror(-ret));
		ret = edu_dev_open(d, self->edus.v[e], self->iommufd);
		ASSERT_EQ(0, ret) TH_LOG("%s", d->vd.err);
		ret = edu_dev_has_s2(d, &how);
		if (ret == -ENOENT)
			SKIP(return, "%s: cannot tell whether %s has stage 2: %s", d->bdf,
			     d->inst, how);
		ASSERT_LE(0, ret) TH_LOG("%s: stage 2 of %s: %s", d->bdf, d->inst,
					 strerror(-ret));
		s2 = ret;
		INFO("%s (behind %s): stage 2 %s (from %s)", d->bdf, d->inst,
		     s2 ? "yes" : "no", how);
		if (!s2)
			without_s2++;
		if (self->ours)
			read_counts(_metadata, d->inst, &base);

		alloc_hwpt(_metadata, self, 0, &h1, &dom1);
		ASSERT_NE(0U, h1) TH_LOG("%s: IOMMU_HWPT_ALLOC (stage 1, flags 0) failed",
					 d->bdf);
		ret = alloc_hwpt(_metadata, self, IOMMU_HWPT_ALLOC_NEST_PARENT, &h2, &dom2);
		if (s2) {
			ASSERT_EQ(0, ret) TH_LOG("%s: IOMMU_HWPT_ALLOC NEST_PARENT on an instance "
						 "with stage 2: expected success, found %s",
						 d->bdf, strerror(-ret));
		} else {
			ASSERT_EQ(-EOPNOTSUPP, ret)
				TH_LOG("%s: IOMMU_HWPT_ALLOC NEST_PARENT on %s, which has no "
				       "stage 2: expected EOPNOTSUPP, found %s", d->bdf, d->inst,
				       ret ? strerror(-ret) : "success");
			INFO("%s: %s has no stage 2: NEST_PARENT refused with EOPNOTSUPP as "
			     "expected; stage-1 steps only", d->bdf, d->inst);
		}
		if (s2)
			INFO("%s: HWPT %u (stage 1, domain %d), HWPT %u (nest parent, "
			     "domain %d)", d->bdf, h1, dom1, h2, dom2);
		else
			INFO("%s: HWPT %u (stage 1, domain %d)", d->bdf, h1, dom1);
		if (self->ours && dom1 >= 0) {
			const struct dbg_domain *dm;

			dm = dbg_domain_find(self->dd, dom1);
			if (!dm) {
				ASSERT_EQ(0, dbg_domains_read(self->dd));
				dm = dbg_domain_find(self->dd, dom1);
			}
			ASSERT_NE(NULL, dm);
			EXPECT_EQ(1, dm->stage) TH_LOG("domain %d of the flags-0 HWPT on an "
						      "instance with stage 1: expected stage 1, "
						      "found %d", dom1, dm->stage);
			if (s2) {
				ASSERT_EQ(0, dbg_domains_read(self->dd));
				dm = dbg_domain_find(self->dd, dom2);
				ASSERT_NE(NULL, dm);
				EXPECT_EQ(2, dm->stage);
				EXPECT_TRUE(dm->nest_parent)
					TH_LOG("domain %d of the NEST_PARENT HWPT: expected "
					       "\"nest-parent\"", dom2);
			}
		}
		/* Nothing attached yet: the HWPTs hold no tag. */
		expect_counts(_metadata, self, &base, 0, 0, "HWPTs allocated, not attached");

		/* After the allocations, the IOAS knows the reserved regions. */
		ret = iommufd_pick_iova(self->iommufd, self->ioas, IOVA_MIN, 2 * SZ_2M, SZ_2M,
					&iova);
		ASSERT_EQ(0, ret) TH_LOG("no allowed IOVA window at or above 0x%llx: %s",
					 (unsigned long long)IOVA_MIN, strerror(-ret));
		ctl = iova + SZ_2M;
		ret = iommufd_ioas_map(self->iommufd, self->ioas, self->mem.va, PAGE, &iova,
				       true, RW);
		ASSERT_EQ(0, ret) TH_LOG("IOMMU_IOAS_MAP at 0x%llx: %s",
					 (unsigned long long)iova, strerror(-ret));
		ret = iommufd_ioas_map(self->iommufd, self->ioas, self->ctl.va, PAGE, &ctl,
				       true, RW);
		ASSERT_EQ(0, ret) TH_LOG("IOMMU_IOAS_MAP at 0x%llx: %s",
					 (unsigned long long)ctl, strerror(-ret));

		/* Stage 1. */
		attach(_metadata, self, h1, "stage-1");
		ASSERT_CHECK(edu_roundtrip(d, self->mem.va, iova, self->ctl.va, ctl, PAGE,
					   &self->rng, ERRBUF));
		ASSERT_CHECK(edu_roundtrip(d, self->ctl.va, ctl, self->mem.va, iova, PAGE,
					   &self->rng, ERRBUF));
		INFO("%s: attached to S1 HWPT %u: DMA both ways intact", d->bdf, h1);
		expect_tag(_metadata, self, dom1, DBG_INV_S1_ASID, 1, "attached to S1");
		expect_tag(_metadata, self, dom2, DBG_INV_S2_VMID, 0, "attached to S1");
		expect_counts(_metadata, self, &base, 1, 0, "attached to S1");

		if (s2) {
			/* Replace by stage 2. */
			attach(_metadata, self, h2, "stage-2 (replacing stage 1)");
			ASSERT_CHECK(edu_roundtrip(d, self->mem.va, iova, self->ctl.va, ctl,
						   PAGE, &self->rng, ERRBUF));
			ASSERT_CHECK(edu_roundtrip(d, self->ctl.va, ctl, self->mem.va, iova,
						   PAGE, &self->rng, ERRBUF));
			INFO("%s: replaced by S2 HWPT %u: DMA both ways intact", d->bdf, h2);
			expect_tag(_metadata, self, dom2, DBG_INV_S2_VMID, 1,
				   "replaced S1 by S2");
			expect_tag(_metadata, self, dom1, DBG_INV_S1_ASID, 0,
				   "replaced S1 by S2");
			expect_counts(_metadata, self, &base, 0, 1, "replaced S1 by S2");

			/* And back. */
			attach(_metadata, self, h1, "stage-1 (replacing stage 2)");
			ASSERT_CHECK(edu_roundtrip(d, self->mem.va, iova, self->ctl.va, ctl,
						   PAGE, &self->rng, ERRBUF));
			ASSERT_CHECK(edu_roundtrip(d, self->ctl.va, ctl, self->mem.va, iova,
						   PAGE, &self->rng, ERRBUF));
			INFO("%s: back on S1 HWPT %u: DMA both ways intact", d->bdf, h1);
			expect_tag(_metadata, self, dom1, DBG_INV_S1_ASID, 1,
				   "replaced S2 by S1");
			expect_tag(_metadata, self, dom2, DBG_INV_S2_VMID, 0,
				   "replaced S2 by S1");
			expect_counts(_metadata, self, &base, 1, 0, "replaced S2 by S1");
		}

		/* Detached: blocked. */
		ret = dev_detach(&d->vd);
		ASSERT_EQ(0, ret) TH_LOG("%s", d->vd.err);
		ASSERT_CHECK(edu_write_dropped(d, iova, self->mem.va, PAGE, &self->rng,
					       ERRBUF));
		ASSERT_CHECK(edu_write_dropped(d, ctl, self->ctl.va, PAGE, &self->rng,
					       ERRBUF));
		expect_tag(_metadata, self, dom1, DBG_INV_S1_ASID, 0, "detached");
		expect_tag(_metadata, self, dom2, DBG_INV_S2_VMID, 0, "detached");
		expect_counts(_metadata, self, &base, 0, 0, "detached");
		{
			/*
			 * A read while blocked: the device buffer is read back
			 * after attaching again.
			 */
			unsigned char *pat = malloc(PAGE), *before = malloc(PAGE);
			const unsigned char *back = self->ctl.va;
			size_t kept = 0, zero = 0;

			ASSERT_NE(NULL, pat);
			ASSERT_NE(NULL, before);
			ASSERT_TRUE(d->dev_known);
			memcpy(before, d->dev, PAGE);
			mem_fill_distinct(pat, before, NULL, PAGE, &self->rng);
			memcpy(self->mem.va, pat, PAGE);
			ret = edu_dma_to_device(&d->e, iova, PAGE);
			ASSERT_EQ(0, ret) TH_LOG("%s: DMA RAM -> device while blocked: %s",
						 d->bdf, strerror(-ret));
			attach(_metadata, self, h1, "stage-1 (after the blocked read)");
			memset(self->ctl.va, 0xa5, PAGE);
			ret = edu_dma_from_device(&d->e, ctl, PAGE);
			ASSERT_EQ(0, ret) TH_LOG("%s: readback DMA: %s", d->bdf, strerror(-ret));
			for (size_t i = 0; i < PAGE; i++) {
				kept += back[i] == before[i];
				zero += back[i] != before[i] && !back[i];
			}
			ASSERT_EQ((size_t)PAGE, kept + zero)
				TH_LOG("%s: read RAM at IOVA 0x%llx while detached (blocked): "
				       "expected its buffer to keep its bytes or read zeros, "
				       "found %zu kept, %zu zero, %zu other (%zu of the RAM "
				       "pattern)", d->bdf, (unsigned long long)iova, kept, zero,
				       (size_t)PAGE - kept - zero, mem_same(back, pat, PAGE));
			INFO("%s: detached: DMA blocked both ways (write dropped, read got "
			     "%zu zero bytes)", d->bdf, zero);
			memcpy(d->dev, back, PAGE);
			free(pat);
			free(before);
			ret = dev_detach(&d->vd);
			ASSERT_EQ(0, ret) TH_LOG("%s", d->vd.err);
			expect_counts(_metadata, self, &base, 0, 0, "detached again");
		}

		/* Destroy. */
		ret = iommufd_ioas_unmap(self->iommufd, self->ioas, iova, PAGE, NULL);
		EXPECT_EQ(0, ret);
		ret = iommufd_ioas_unmap(self->iommufd, self->ioas, ctl, PAGE, NULL);
		EXPECT_EQ(0, ret);
		ret = iommufd_destroy(self->iommufd, h1);
		EXPECT_EQ(0, ret) TH_LOG("IOMMU_DESTROY HWPT %u: %s", h1, strerror(-ret));
		if (s2) {
			ret = iommufd_destroy(self->iommufd, h2);
			EXPECT_EQ(0, ret) TH_LOG("IOMMU_DESTROY HWPT %u: %s", h2, strerror(-ret));
		}
		expect_counts(_metadata, self, &base, 0, 0, "HWPTs destroyed");
		if (self->ours) {
			ASSERT_EQ(0, dbg_domains_read(self->dd));
			EXPECT_EQ(NULL, dbg_domain_find(self->dd, dom1))
				TH_LOG("HWPT %u destroyed: expected its domain %d gone from "
				       SMMUV3_DEBUGFS "/domains, found it listed", h1, dom1);
			if (s2)
				EXPECT_EQ(NULL, dbg_domain_find(self->dd, dom2))
					TH_LOG("HWPT %u destroyed: expected its domain %d gone "
					       "from " SMMUV3_DEBUGFS "/domains, found it listed",
					       h2, dom2);
		}
		vfio_dev_close(&d->vd);
		close(self->iommufd);
		self->iommufd = -1;
	}
	if (acpi2)
		EXPECT_EQ(0, without_s2)
			TH_LOG("topology acpi2 (every instance stage=nested): expected every "
			       "edu's instance to have stage 2, found %d without", without_s2);
	if (mixed)
		EXPECT_LT(0, without_s2)
			TH_LOG("topology acpi2-mixed (one instance stage=1): expected an edu "
			       "behind an instance without stage 2, found none");
}

TEST_HARNESS_MAIN
