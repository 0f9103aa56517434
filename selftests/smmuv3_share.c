// SPDX-License-Identifier: GPL-2.0-only
/*
 * smmuv3_share: one domain (HWPT) shared by devices behind different SMMU
 * instances, each instance with its own ASID/VMID ("tag") for it.
 *
 * Needs an edu behind each of two instances (acpi2, acpi2-mixed); skipped
 * with one instance (dt1).  A is the first edu, B the first one behind
 * another instance.  Sharing is what our driver adds: the upstream driver
 * binds a domain to its first SMMU, so the sharing cases fail with it, as
 * they should.
 *
 *   auto_domain_shared        A and B attached to one IOAS by the
 *                             automatic domain path end up on ONE HWPT;
 *                             DMA works on both
 *   explicit_hwpt_accepts_other_instance
 *                             a HWPT allocated for A (IOMMU_HWPT_ALLOC with
 *                             A's device ID) accepts B, even before A is
 *                             attached; DMA on B, then on A too
 *   shared_unmap_faults_on_both
 *                             DMA right on A and B through the shared HWPT
 *                             (which fills both instances' TLBs), unmap,
 *                             then DMA to and from the IOVA faults on both,
 *                             memory untouched: the invalidation reached
 *                             both instances
 *   detach_one_keeps_other    detaching A leaves B working and frees A's
 *                             tag (domains file: no entry for A's instance;
 *                             A's asids_used one lower); A can come back;
 *                             then the same with B
 *   auto_domain_falls_back    (instances with different stages,
 *                             acpi2-s2s1: A stage 2 only, B stage 1 only)
 *                             A's automatic domain is stage 2, B cannot use
 *                             it: the driver refuses it with EINVAL, so
 *                             iommufd's automatic path gives B a second
 *                             HWPT in the same IOAS, the refused domain
 *                             gains no entry for B's instance; DMA right on
 *                             both, after an unmap both fault
 *   nest_parent_refuses_stage1_only_instance
 *                             (an instance that can nest and one without
 *                             stage 2, acpi2-mixed) a NEST_PARENT HWPT
 *                             allocated for the nesting instance refuses B
 *                             with EINVAL; DMA works on both HWPTs
 * The sharing cases skip, saying why, where A's automatic domain does not
 * fit B's instance (acpi2-s2s1); auto_domain_falls_back runs there.
 * and, with FIXTURE tags (any topology, our driver only: max_asids and
 * max_vmids exist only there):
 *   tags.asid/vmid.exhaustion with the instance's asids_used (vmids_used)
 *                             = N, max_asids (max_vmids) = N: attaching to
 *                             a new S1 (S2) HWPT fails with ENOSPC and
 *                             leaves the device on its old HWPT, DMA
 *                             working; an automatic attach fails the same
 *                             way; once a detach frees an ID the attach
 *                             works.  The parameter is set back to 0 in the
 *                             teardown, always.
 *
 * With our driver the tags are checked in debugfs throughout.
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

FIXTURE(share)
{
	char bdf_a[32], bdf_b[32];
	int iommufd;
	uint32_t ioas;
	struct edu_dev a, b;
	struct prng rng;
	struct pinned_buf mem, ctl;
	uint64_t iova, ctl_iova;
	struct dbg_domains *dd, *dd0;
	bool ours;
	bool stages_known;	/* the stages below are known */
	bool a_s1, a_s2, b_s1, b_s2;
	char noshare[256];	/* why A's automatic domain cannot take B ("": it can) */
};

FIXTURE_SETUP(share)
{
	uint64_t seed = prng_time_seed();
	struct edu_pick pick[2];
	char why[256];
	int ret;

	self->iommufd = -1;
	self->a.vd.fd = -1;
	self->b.vd.fd = -1;
	ret = edus_pick_two(pick, why, sizeof(why));
	ASSERT_LE(0, ret) TH_LOG("%s", why);
	if (!ret)
		SKIP(return, "%s", why);
	snprintf(self->bdf_a, sizeof(self->bdf_a), "%s", pick[0].bdf);
	snprintf(self->bdf_b, sizeof(self->bdf_b), "%s", pick[1].bdf);
	self->ours = DRIVER_OURS_CHECKED();
	self->dd = malloc(sizeof(*self->dd));
	self->dd0 = malloc(sizeof(*self->dd0));
	ASSERT_NE(NULL, self->dd);
	ASSERT_NE(NULL, self->dd0);
	prng_seed(&self->rng, seed);
	INFO("A = %s (behind %s), B = %s (behind %s); patterns from seed 0x%016llx",
	     self->bdf_a, pick[0].inst, self->bdf_b, pick[1].inst, (unsigned long long)seed);
	ret = pinned_alloc(&self->mem, PAGE);
	ASSERT_EQ(0, ret) TH_LOG("pinned buffer: %s", strerror(-ret));
	ret = pinned_alloc(&self->ctl, PAGE);
	ASSERT_EQ(0, ret) TH_LOG("pinned buffer: %s", strerror(-ret));

	self->iommufd = iommufd_open();
	ASSERT_LE(0, self->iommufd) TH_LOG("open /dev/iommu: %s", strerror(-self->iommufd));
	ret = iommufd_ioas_alloc(self->iommufd, &self->ioas);
	ASSERT_EQ(0, ret) TH_LOG("IOMMU_IOAS_ALLOC: %s", strerror(-ret));
	ret = edu_dev_open(&self->a, self->bdf_a, self->iommufd);
	ASSERT_EQ(0, ret) TH_LOG("%s", self->a.vd.err);
	ret = edu_dev_open(&self->b, self->bdf_b, self->iommufd);
	ASSERT_EQ(0, ret) TH_LOG("%s", self->b.vd.err);

	/*
	 * A's automatic (and plain IOMMU_HWPT_ALLOC) domain is stage 1 where
	 * A's instance has stage 1, else stage 2; B can share it only if B's
	 * instance has that stage.
	 */
	{
		const char *how_a = "", *how_b = "";
		bool a_auto_s1;

		self->stages_known =
			!edu_dev_stages(&self->a, &self->a_s1, &self->a_s2, &how_a) &&
			!edu_dev_stages(&self->b, &self->b_s1, &self->b_s2, &how_b);
		a_auto_s1 = self->a_s1;
		if (self->stages_known && !(a_auto_s1 ? self->b_s1 : self->b_s2))
			snprintf(self->noshare, sizeof(self->noshare),
				 "A's domains are stage %d (%s: stage 1 %s, stage 2 %s), "
				 "which B's instance %s lacks (stage 1 %s, stage 2 %s; %s)",
				 a_auto_s1 ? 1 : 2, self->a.inst, self->a_s1 ? "yes" : "no",
				 self->a_s2 ? "yes" : "no", self->b.inst,
				 self->b_s1 ? "yes" : "no", self->b_s2 ? "yes" : "no", how_b);
	}
}

/* The sharing cases need A's domains to fit B's instance. */
#define REQUIRE_SHAREABLE() do { \
	if (self->noshare[0]) \
		SKIP(return, "%s: nothing to share (auto_domain_falls_back covers " \
		     "this topology)", self->noshare); \
} while (0)

FIXTURE_TEARDOWN(share)
{
	dma_fixture_release(self->iommufd, &self->mem, &self->ctl);
	free(self->dd);
	free(self->dd0);
}

/* ---- helpers --------------------------------------------------------------- */

static void snap_domains(struct __test_metadata *_metadata, FIXTURE_DATA(share) *self,
			 struct dbg_domains *dd)
{
	int ret;

	if (!self->ours)
		return;
	ret = dbg_domains_read(dd);
	ASSERT_EQ(0, ret) TH_LOG("reading " SMMUV3_DEBUGFS "/domains: %s", strerror(-ret));
}

/* The one domain new in self->dd since self->dd0 (ours), else -1. */
static int new_domain(struct __test_metadata *_metadata, FIXTURE_DATA(share) *self,
		      const char *after)
{
	unsigned int id = 0;
	int ret;

	if (!self->ours)
		return -1;
	snap_domains(_metadata, self, self->dd);
	ret = dbg_domains_new(self->dd0, self->dd, &id);
	ASSERT_EQ(0, ret) TH_LOG("expected exactly one new domain in " SMMUV3_DEBUGFS
				 "/domains after %s, found %s", after,
				 ret == -ENOENT ? "none" : "several");
	return id;
}

/* With ours: domain DOM has N live entries of TYPE for D's instance. */
static void expect_tag(struct __test_metadata *_metadata, FIXTURE_DATA(share) *self,
		       int dom, const struct edu_dev *d, int type, int n,
		       const char *when)
{
	const struct dbg_domain *dm;
	char desc[512];
	int live;

	if (!self->ours || dom < 0)
		return;
	snap_domains(_metadata, self, self->dd);
	dm = dbg_domain_find(self->dd, dom);
	ASSERT_NE(NULL, dm) TH_LOG("%s: expected domain %d in " SMMUV3_DEBUGFS
				   "/domains, found it missing", when, dom);
	live = dbg_domain_live(dm, d->inst, type, NULL);
	EXPECT_EQ(n, live)
		TH_LOG("%s: expected %d live type-%d entr%s for %s (%s's instance) in "
		       "domain %d, found %d: %s", when, n, type, n == 1 ? "y" : "ies",
		       d->inst, d->bdf, dom, live, dbg_domain_str(dm, desc, sizeof(desc)));
	/* Once the tag is gone, the domain names the instance nowhere. */
	if (!n)
		EXPECT_EQ(0, dbg_domain_named(dm, d->inst))
			TH_LOG("%s: expected domain %d to list no entry for %s (%s's "
			       "instance), found: %s", when, dom, d->inst, d->bdf,
			       dbg_domain_str(dm, desc, sizeof(desc)));
	/* And no entry of another type for that instance. */
	if (dbg_domain_live(dm, d->inst, -1, NULL) != live)
		EXPECT_EQ(live, dbg_domain_live(dm, d->inst, -1, NULL))
			TH_LOG("%s: expected only type-%d entries for %s in domain %d: %s",
			       when, type, d->inst, dom,
			       dbg_domain_str(dm, desc, sizeof(desc)));
}

static uint64_t stat_of(struct __test_metadata *_metadata, FIXTURE_DATA(share) *self,
			const char *inst, const char *key)
{
	uint64_t v = 0;
	int ret;

	if (!self->ours)
		return 0;
	ret = dbg_stat(inst, key, &v);
	EXPECT_EQ(0, ret) TH_LOG("%s stats: %s", inst, strerror(-ret));
	return v;
}

static void attach_ok(struct __test_metadata *_metadata, struct edu_dev *d,
		      uint32_t pt, const char *what)
{
	int ret = dev_attach(&d->vd, pt);

	ASSERT_EQ(0, ret) TH_LOG("%s (behind %s): attaching to %s %u: expected success, "
				 "found %s", d->bdf, d->inst, what, pt, strerror(-ret));
}

/* Map self->mem at self->iova and self->ctl at self->ctl_iova (after attaching). */
static void map_buffers(struct __test_metadata *_metadata, FIXTURE_DATA(share) *self)
{
	int ret;

	ret = iommufd_pick_iova(self->iommufd, self->ioas, IOVA_MIN, 2 * SZ_2M, SZ_2M,
				&self->iova);
	ASSERT_EQ(0, ret) TH_LOG("no allowed IOVA window at or above 0x%llx: %s",
				 (unsigned long long)IOVA_MIN, strerror(-ret));
	self->ctl_iova = self->iova + SZ_2M;
	ret = iommufd_ioas_map(self->iommufd, self->ioas, self->mem.va, PAGE, &self->iova,
			       true, RW);
	ASSERT_EQ(0, ret) TH_LOG("IOMMU_IOAS_MAP at 0x%llx: %s",
				 (unsigned long long)self->iova, strerror(-ret));
	ret = iommufd_ioas_map(self->iommufd, self->ioas, self->ctl.va, PAGE,
			       &self->ctl_iova, true, RW);
	ASSERT_EQ(0, ret) TH_LOG("IOMMU_IOAS_MAP at 0x%llx: %s",
				 (unsigned long long)self->ctl_iova, strerror(-ret));
}

/* D reads self->mem and writes it to self->ctl, and the other way round. */
static void dma_both_ways(struct __test_metadata *_metadata, FIXTURE_DATA(share) *self,
			  struct edu_dev *d)
{
	ASSERT_CHECK(edu_roundtrip(d, self->mem.va, self->iova, self->ctl.va,
				   self->ctl_iova, PAGE, &self->rng, ERRBUF));
	ASSERT_CHECK(edu_roundtrip(d, self->ctl.va, self->ctl_iova, self->mem.va,
				   self->iova, PAGE, &self->rng, ERRBUF));
}

/*
 * X and Y on two HWPTs of self->ioas: map the buffers, DMA both ways on each,
 * unmap, then writes of each to the IOVA must be dropped.
 */
static void dma_on_two_hwpts(struct __test_metadata *_metadata, FIXTURE_DATA(share) *self,
			     struct edu_dev *x, struct edu_dev *y)
{
	struct edu_dev *devs[2] = { x, y };
	int ret;

	map_buffers(_metadata, self);
	for (int i = 0; i < 2; i++)
		dma_both_ways(_metadata, self, devs[i]);
	ret = iommufd_ioas_unmap(self->iommufd, self->ioas, self->iova, PAGE, NULL);
	ASSERT_EQ(0, ret) TH_LOG("IOMMU_IOAS_UNMAP: %s", strerror(-ret));
	for (int i = 0; i < 2; i++)
		ASSERT_CHECK(edu_write_dropped(devs[i], self->iova, self->mem.va, PAGE,
					       &self->rng, ERRBUF));
	INFO("DMA intact on both HWPTs of the IOAS; after an unmap both fault");
}

/* ---- sharing ------------------------------------------------------------------ */

TEST_F_TIMEOUT(share, auto_domain_shared, DMA_TIMEOUT)
{
	int dom = -1, ret;

	REQUIRE_SHAREABLE();
	snap_domains(_metadata, self, self->dd0);
	attach_ok(_metadata, &self->a, self->ioas, "IOAS");
	dom = new_domain(_metadata, self, "A's automatic attach");
	snap_domains(_metadata, self, self->dd0);
	ret = dev_attach(&self->b.vd, self->ioas);
	ASSERT_EQ(0, ret) TH_LOG("%s: attaching to IOAS %u: %s", self->b.bdf, self->ioas,
				 self->b.vd.err);
	INFO("IOAS %u: A %s got HWPT %u, B %s got HWPT %u", self->ioas, self->a.bdf,
	     self->a.vd.hwpt_id, self->b.bdf, self->b.vd.hwpt_id);
	ASSERT_EQ(self->a.vd.hwpt_id, self->b.vd.hwpt_id)
		TH_LOG("A (%s behind %s) and B (%s behind %s) attached to IOAS %u by the "
		       "automatic domain path: expected one shared HWPT, found HWPT %u for "
		       "A and %u for B (the domain was not shared across instances)",
		       self->a.bdf, self->a.inst, self->b.bdf, self->b.inst, self->ioas,
		       self->a.vd.hwpt_id, self->b.vd.hwpt_id);
	if (self->ours) {
		unsigned int id;

		snap_domains(_metadata, self, self->dd);
		ret = dbg_domains_new(self->dd0, self->dd, &id);
		EXPECT_EQ(-ENOENT, ret)
			TH_LOG("B attached to the shared HWPT: expected no new domain in "
			       SMMUV3_DEBUGFS "/domains, found domain %u", id);
	}
	expect_tag(_metadata, self, dom, &self->a, DBG_INV_S1_ASID, 1, "A and B attached");
	expect_tag(_metadata, self, dom, &self->b, DBG_INV_S1_ASID, 1, "A and B attached");

	map_buffers(_metadata, self);
	dma_both_ways(_metadata, self, &self->a);
	dma_both_ways(_metadata, self, &self->b);
	INFO("shared HWPT %u (domain %d): DMA both ways intact on A and B",
	     self->a.vd.hwpt_id, dom);
}

TEST_F_TIMEOUT(share, explicit_hwpt_accepts_other_instance, DMA_TIMEOUT)
{
	uint32_t h = 0;
	int dom, ret;

	REQUIRE_SHAREABLE();
	snap_domains(_metadata, self, self->dd0);
	ret = iommufd_hwpt_alloc(self->iommufd, self->a.vd.devid, self->ioas, 0, &h);
	ASSERT_EQ(0, ret) TH_LOG("IOMMU_HWPT_ALLOC for A (%s): %s", self->a.bdf,
				 strerror(-ret));
	dom = new_domain(_metadata, self, "IOMMU_HWPT_ALLOC");
	INFO("HWPT %u (domain %d) allocated for A %s behind %s", h, dom, self->a.bdf,
	     self->a.inst);

	/* B first: the domain has no user on its own instance yet. */
	ret = dev_attach(&self->b.vd, h);
	ASSERT_EQ(0, ret)
		TH_LOG("B (%s behind %s) attaching to HWPT %u, allocated for A (%s behind "
		       "%s): expected success (a domain may be shared across instances), "
		       "found %s", self->b.bdf, self->b.inst, h, self->a.bdf,
		       self->a.inst, strerror(-ret));
	ASSERT_EQ(h, self->b.vd.hwpt_id);
	expect_tag(_metadata, self, dom, &self->b, DBG_INV_S1_ASID, 1, "B attached");
	expect_tag(_metadata, self, dom, &self->a, DBG_INV_S1_ASID, 0, "B attached");
	map_buffers(_metadata, self);
	dma_both_ways(_metadata, self, &self->b);
	INFO("B on A's HWPT %u: DMA both ways intact", h);

	attach_ok(_metadata, &self->a, h, "its own HWPT");
	expect_tag(_metadata, self, dom, &self->a, DBG_INV_S1_ASID, 1, "A attached too");
	dma_both_ways(_metadata, self, &self->a);
	dma_both_ways(_metadata, self, &self->b);
	INFO("A and B on HWPT %u: DMA both ways intact on both", h);
}

TEST_F_TIMEOUT(share, shared_unmap_faults_on_both, DMA_TIMEOUT)
{
	struct edu_dev *devs[2] = { &self->a, &self->b };
	uint64_t tlbi[2] = {}, sync[2] = {}, ev[2] = {};
	uint32_t h = 0;
	int ret;

	REQUIRE_SHAREABLE();
	ret = iommufd_hwpt_alloc(self->iommufd, self->a.vd.devid, self->ioas, 0, &h);
	ASSERT_EQ(0, ret) TH_LOG("IOMMU_HWPT_ALLOC for A: %s", strerror(-ret));
	attach_ok(_metadata, &self->a, h, "HWPT");
	ret = dev_attach(&self->b.vd, h);
	ASSERT_EQ(0, ret)
		TH_LOG("B (%s behind %s) attaching to HWPT %u of A (behind %s): expected "
		       "success, found %s", self->b.bdf, self->b.inst, h, self->a.inst,
		       strerror(-ret));
	map_buffers(_metadata, self);

	/* Both instances cache the translation of self->iova, both ways. */
	for (int i = 0; i < 2; i++)
		dma_both_ways(_metadata, self, devs[i]);
	INFO("HWPT %u shared: DMA through IOVA 0x%llx intact on A and B", h,
	     (unsigned long long)self->iova);

	for (int i = 0; i < 2; i++) {
		tlbi[i] = stat_of(_metadata, self, devs[i]->inst, "cmd TLBI_NH_VA");
		sync[i] = stat_of(_metadata, self, devs[i]->inst, "cmd_syncs");
		ev[i] = stat_of(_metadata, self, devs[i]->inst, "event F_TRANSLATION");
	}
	ret = iommufd_ioas_unmap(self->iommufd, self->ioas, self->iova, PAGE, NULL);
	ASSERT_EQ(0, ret) TH_LOG("IOMMU_IOAS_UNMAP: %s", strerror(-ret));
	for (int i = 0; self->ours && i < 2; i++) {
		uint64_t t = stat_of(_metadata, self, devs[i]->inst, "cmd TLBI_NH_VA");
		uint64_t s = stat_of(_metadata, self, devs[i]->inst, "cmd_syncs");

		EXPECT_LT(tlbi[i], t)
			TH_LOG("unmap of a page of the shared HWPT: expected a TLBI_NH_VA on "
			       "%s (%s's instance), found none (%llu before and after)",
			       devs[i]->inst, devs[i]->bdf, (unsigned long long)t);
		EXPECT_LT(sync[i], s)
			TH_LOG("unmap of a page of the shared HWPT: expected a CMD_SYNC on "
			       "%s, found none", devs[i]->inst);
		INFO("unmap: %s got %llu TLBI_NH_VA and %llu CMD_SYNC", devs[i]->inst,
		     (unsigned long long)(t - tlbi[i]), (unsigned long long)(s - sync[i]));
	}

	for (int i = 0; i < 2; i++) {
		ASSERT_CHECK(edu_write_dropped(devs[i], self->iova, self->mem.va, PAGE,
					       &self->rng, ERRBUF));
		ASSERT_CHECK(edu_read_dropped(devs[i], self->iova, self->mem.va,
					      self->ctl.va, self->ctl_iova, PAGE, &self->rng,
					      ERRBUF));
	}
	INFO("after the unmap, DMA to and from IOVA 0x%llx faulted on A and B, memory "
	     "untouched", (unsigned long long)self->iova);
	for (int i = 0; self->ours && i < 2; i++) {
		uint64_t v = 0;

		ret = dbg_stat_wait(devs[i]->inst, "event F_TRANSLATION", ev[i] + 2,
				    EVENT_WAIT_MS, &v);
		EXPECT_EQ(0, ret)
			TH_LOG("%s (behind %s) did 2 faulting DMAs: expected F_TRANSLATION "
			       "on %s to grow from %llu to at least %llu, found %llu",
			       devs[i]->bdf, devs[i]->inst, devs[i]->inst,
			       (unsigned long long)ev[i], (unsigned long long)ev[i] + 2,
			       (unsigned long long)v);
	}
	/* The control mapping still works on both. */
	for (int i = 0; i < 2; i++)
		ASSERT_CHECK(edu_roundtrip(devs[i], self->ctl.va, self->ctl_iova,
					   self->ctl.va, self->ctl_iova, PAGE, &self->rng,
					   ERRBUF));
}

TEST_F_TIMEOUT(share, detach_one_keeps_other, DMA_TIMEOUT)
{
	struct edu_dev *devs[2] = { &self->a, &self->b };
	uint32_t h = 0;
	int dom, ret;

	REQUIRE_SHAREABLE();
	snap_domains(_metadata, self, self->dd0);
	ret = iommufd_hwpt_alloc(self->iommufd, self->a.vd.devid, self->ioas, 0, &h);
	ASSERT_EQ(0, ret) TH_LOG("IOMMU_HWPT_ALLOC for A: %s", strerror(-ret));
	dom = new_domain(_metadata, self, "IOMMU_HWPT_ALLOC");
	attach_ok(_metadata, &self->a, h, "HWPT");
	ret = dev_attach(&self->b.vd, h);
	ASSERT_EQ(0, ret)
		TH_LOG("B (%s behind %s) attaching to HWPT %u of A (behind %s): expected "
		       "success, found %s", self->b.bdf, self->b.inst, h, self->a.inst,
		       strerror(-ret));
	map_buffers(_metadata, self);
	for (int i = 0; i < 2; i++)
		dma_both_ways(_metadata, self, devs[i]);

	/* Detach A (the owner's instance) first, then B. */
	for (int i = 0; i < 2; i++) {
		struct edu_dev *gone = devs[i], *stays = devs[1 - i];
		char when[128];
		uint64_t n0, n1;

		n0 = stat_of(_metadata, self, gone->inst, "asids_used");
		ret = dev_detach(&gone->vd);
		ASSERT_EQ(0, ret) TH_LOG("%s", gone->vd.err);
		snprintf(when, sizeof(when), "%s detached", i ? "B" : "A");
		expect_tag(_metadata, self, dom, gone, DBG_INV_S1_ASID, 0, when);
		expect_tag(_metadata, self, dom, stays, DBG_INV_S1_ASID, 1, when);
		n1 = stat_of(_metadata, self, gone->inst, "asids_used");
		if (self->ours)
			EXPECT_EQ(n0 - 1, n1)
				TH_LOG("%s: expected asids_used on %s to drop by one (the tag "
				       "freed), found %llu -> %llu", when, gone->inst,
				       (unsigned long long)n0, (unsigned long long)n1);
		dma_both_ways(_metadata, self, stays);
		ASSERT_CHECK(edu_write_dropped(gone, self->iova, self->mem.va, PAGE,
					       &self->rng, ERRBUF));
		INFO("%s: %s still does DMA through HWPT %u, %s is blocked", when,
		     stays->bdf, h, gone->bdf);

		/* And back. */
		attach_ok(_metadata, gone, h, "the shared HWPT again");
		snprintf(when, sizeof(when), "%s attached again", i ? "B" : "A");
		expect_tag(_metadata, self, dom, gone, DBG_INV_S1_ASID, 1, when);
		if (self->ours)
			EXPECT_EQ(n0, stat_of(_metadata, self, gone->inst, "asids_used"))
				TH_LOG("%s: expected asids_used on %s back at %llu", when,
				       gone->inst, (unsigned long long)n0);
		dma_both_ways(_metadata, self, gone);
		dma_both_ways(_metadata, self, stays);
	}
	for (int i = 0; i < 2; i++) {
		ret = dev_detach(&devs[i]->vd);
		ASSERT_EQ(0, ret) TH_LOG("%s", devs[i]->vd.err);
	}
	if (self->ours) {
		const struct dbg_domain *dm;
		char desc[512];

		snap_domains(_metadata, self, self->dd);
		dm = dbg_domain_find(self->dd, dom);
		ASSERT_NE(NULL, dm);
		for (int i = 0; i < dm->n; i++)
			EXPECT_GE(0, dm->inv[i].users)
				TH_LOG("both detached: expected no live entry in domain %d, "
				       "found %s", dom, dbg_domain_str(dm, desc, sizeof(desc)));
	}
}

TEST_F_TIMEOUT(share, auto_domain_falls_back, DMA_TIMEOUT)
{
	int type_a, type_b, dom_a, dom_b, ret;

	if (!self->stages_known)
		SKIP(return, "the stages of %s and %s cannot be known", self->a.inst,
		     self->b.inst);
	if (env_topology_is("acpi2-s2s1"))
		ASSERT_NE(0, self->noshare[0])
			TH_LOG("acpi2-s2s1: expected A's instance %s (stage 1 %s, stage 2 %s) "
			       "and B's %s (stage 1 %s, stage 2 %s) to have no stage in common",
			       self->a.inst, self->a_s1 ? "yes" : "no",
			       self->a_s2 ? "yes" : "no", self->b.inst,
			       self->b_s1 ? "yes" : "no", self->b_s2 ? "yes" : "no");
	if (!self->noshare[0])
		SKIP(return, "A's domains fit B's instance here, so the automatic path "
		     "shares them (auto_domain_shared); needs instances with different "
		     "stages (topology acpi2-s2s1)");
	type_a = self->a_s1 ? DBG_INV_S1_ASID : DBG_INV_S2_VMID;
	type_b = self->b_s1 ? DBG_INV_S1_ASID : DBG_INV_S2_VMID;
	INFO("%s", self->noshare);

	snap_domains(_metadata, self, self->dd0);
	attach_ok(_metadata, &self->a, self->ioas, "IOAS");
	dom_a = new_domain(_metadata, self, "A's automatic attach");
	expect_tag(_metadata, self, dom_a, &self->a, type_a, 1, "A attached");

	snap_domains(_metadata, self, self->dd0);
	ret = dev_attach(&self->b.vd, self->ioas);
	ASSERT_EQ(0, ret)
		TH_LOG("B (%s behind %s) attaching to IOAS %u, which has A's HWPT %u that "
		       "B cannot use: expected the automatic path to fall back to a new "
		       "HWPT, found %s (%s)", self->b.bdf, self->b.inst, self->ioas,
		       self->a.vd.hwpt_id, strerror(-ret), self->b.vd.err);
	ASSERT_NE(self->a.vd.hwpt_id, self->b.vd.hwpt_id)
		TH_LOG("B attached to A's HWPT %u, whose stage its instance %s lacks",
		       self->a.vd.hwpt_id, self->b.inst);
	dom_b = new_domain(_metadata, self, "B's automatic attach");
	expect_tag(_metadata, self, dom_b, &self->b, type_b, 1, "B attached");
	/* The refused domain gained nothing for B's instance. */
	expect_tag(_metadata, self, dom_a, &self->b, type_a, 0, "B refused");
	expect_tag(_metadata, self, dom_a, &self->a, type_a, 1, "B refused");
	INFO("IOAS %u: A on HWPT %u (domain %d), B on HWPT %u (domain %d)", self->ioas,
	     self->a.vd.hwpt_id, dom_a, self->b.vd.hwpt_id, dom_b);

	dma_on_two_hwpts(_metadata, self, &self->a, &self->b);
}

TEST_F_TIMEOUT(share, nest_parent_refuses_stage1_only_instance, DMA_TIMEOUT)
{
	struct edu_dev *s2dev = NULL, *s1dev = NULL;
	uint64_t v0 = 0, a0 = 0;
	uint32_t h = 0;
	int dom, ret;

	for (int i = 0; i < 2; i++) {
		struct edu_dev *d = i ? &self->b : &self->a;
		const char *how = "";

		bool s1, s2;

		ret = edu_dev_stages(d, &s1, &s2, &how);
		if (ret == -ENOENT)
			SKIP(return, "%s: cannot tell the stages of %s: %s", d->bdf,
			     d->inst, how);
		ASSERT_EQ(0, ret) TH_LOG("%s: stages of %s: %s", d->bdf, d->inst,
					 strerror(-ret));
		INFO("%s (behind %s): stage 1 %s, stage 2 %s (from %s)", d->bdf, d->inst,
		     s1 ? "yes" : "no", s2 ? "yes" : "no", how);
		if (s1 && s2)
			s2dev = s2dev ? s2dev : d;
		else if (!s2)
			s1dev = s1dev ? s1dev : d;
	}
	if (env_topology_is("acpi2-mixed"))
		ASSERT_TRUE(s2dev && s1dev)
			TH_LOG("acpi2-mixed: expected one edu behind an instance with stage 2 "
			       "and one behind an instance without, found %s",
			       s2dev ? "both with stage 2" : "neither with stage 2");
	if (!s2dev || !s1dev)
		SKIP(return, "needs an instance that can nest (stages 1 and 2) and one "
		     "without stage 2 (topology %s: %s)",
		     env_topology() ? env_topology() : "unknown",
		     s2dev ? "both instances have stage 2" : "no instance can nest");

	snap_domains(_metadata, self, self->dd0);
	ret = iommufd_hwpt_alloc(self->iommufd, s2dev->vd.devid, self->ioas,
				 IOMMU_HWPT_ALLOC_NEST_PARENT, &h);
	ASSERT_EQ(0, ret) TH_LOG("IOMMU_HWPT_ALLOC NEST_PARENT for %s (behind %s, with "
				 "stage 2): %s", s2dev->bdf, s2dev->inst, strerror(-ret));
	dom = new_domain(_metadata, self, "IOMMU_HWPT_ALLOC");
	v0 = stat_of(_metadata, self, s1dev->inst, "vmids_used");
	a0 = stat_of(_metadata, self, s1dev->inst, "asids_used");
	ret = dev_attach(&s1dev->vd, h);
	ASSERT_EQ(-EINVAL, ret)
		TH_LOG("%s (behind %s, stage 1 only) attaching to the stage-2 nest-parent "
		       "HWPT %u of %s: expected EINVAL, found %s", s1dev->bdf, s1dev->inst,
		       h, s2dev->inst, ret ? strerror(-ret) : "success");
	expect_tag(_metadata, self, dom, s1dev, -1, 0, "refused attach");
	if (self->ours) {
		EXPECT_EQ(v0, stat_of(_metadata, self, s1dev->inst, "vmids_used"))
			TH_LOG("refused attach: expected vmids_used on %s unchanged",
			       s1dev->inst);
		EXPECT_EQ(a0, stat_of(_metadata, self, s1dev->inst, "asids_used"))
			TH_LOG("refused attach: expected asids_used on %s unchanged",
			       s1dev->inst);
	}
	INFO("%s (behind %s, stage 1 only) refused the nest-parent HWPT %u with EINVAL",
	     s1dev->bdf, s1dev->inst, h);

	/* The automatic path: a separate HWPT in the same IOAS. */
	attach_ok(_metadata, s2dev, h, "its nest-parent HWPT");
	expect_tag(_metadata, self, dom, s2dev, DBG_INV_S2_VMID, 1, "attached to S2");
	attach_ok(_metadata, s1dev, self->ioas, "the IOAS of the nest-parent HWPT");
	ASSERT_NE(h, s1dev->vd.hwpt_id)
		TH_LOG("%s (stage 1 only) attached to the IOAS automatically: expected a "
		       "HWPT other than the nest-parent %u, found %u", s1dev->bdf, h,
		       s1dev->vd.hwpt_id);
	INFO("IOAS %u: %s on nest-parent HWPT %u, %s on automatic HWPT %u", self->ioas,
	     s2dev->bdf, h, s1dev->bdf, s1dev->vd.hwpt_id);
	dma_on_two_hwpts(_metadata, self, s2dev, s1dev);
}

/* ---- tag exhaustion --------------------------------------------------------- */

FIXTURE(tags)
{
	struct strlist edus;
	int iommufd;
	uint32_t ioas;
	struct edu_dev dev;
	struct prng rng;
	struct pinned_buf mem, ctl;
	bool param_set;
};

FIXTURE_VARIANT(tags)
{
	const char *param;	/* max_asids / max_vmids */
	const char *used;	/* asids_used / vmids_used */
	uint32_t flags;		/* HWPT flags giving that kind of domain */
	int type;		/* its entry type */
};

FIXTURE_VARIANT_ADD(tags, asid)
{
	.param = "max_asids",
	.used = "asids_used",
	.flags = 0,
	.type = DBG_INV_S1_ASID,
};

FIXTURE_VARIANT_ADD(tags, vmid)
{
	.param = "max_vmids",
	.used = "vmids_used",
	.flags = IOMMU_HWPT_ALLOC_NEST_PARENT,
	.type = DBG_INV_S2_VMID,
};

FIXTURE_SETUP(tags)
{
	uint64_t seed = prng_time_seed(), v;
	int ret;

	self->iommufd = -1;
	self->dev.vd.fd = -1;
	strlist_init(&self->edus);
	if (!env_driver_ours())
		SKIP(return, "SMMUV3_DRIVER=%s: the %s parameter exists only in our driver",
		     env_driver() ? env_driver() : "unset", variant->param);
	ret = smmuv3_param_read(variant->param, &v);
	ASSERT_EQ(0, ret) TH_LOG("SMMUV3_DRIVER=ours: reading " SMMUV3_PARAMS "/%s: %s",
				 variant->param, strerror(-ret));
	ASSERT_EQ(0ULL, v) TH_LOG("expected %s to start at 0 (hardware limit), found %llu",
				  variant->param, (unsigned long long)v);
	ASSERT_TRUE(dbg_present());
	ret = edus_behind_iommu(&self->edus, NULL);
	ASSERT_LE(0, ret) TH_LOG("listing edus: %s", strerror(-ret));
	if (!self->edus.n)
		SKIP(return, "no edu device behind an IOMMU instance");
	prng_seed(&self->rng, seed);
	ret = pinned_alloc(&self->mem, PAGE);
	ASSERT_EQ(0, ret) TH_LOG("pinned buffer: %s", strerror(-ret));
	ret = pinned_alloc(&self->ctl, PAGE);
	ASSERT_EQ(0, ret) TH_LOG("pinned buffer: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(tags)
{
	if (self->param_set) {
		int ret = smmuv3_param_write(variant->param, 0);

		if (ret)
			INFO("restoring %s to 0 failed: %s", variant->param, strerror(-ret));
	}
	dma_fixture_release(self->iommufd, &self->mem, &self->ctl);
	strlist_free(&self->edus);
}

TEST_F_TIMEOUT(tags, exhaustion, DMA_TIMEOUT)
{
	int tested = 0;

	for (int e = 0; e < self->edus.n; e++) {
		struct edu_dev *d = &self->dev;
		uint8_t *ids = malloc(DBG_IDS_MAX / 8);
		uint32_t h1 = 0, h2 = 0, ioas2 = 0;
		const char *how = "";
		uint64_t n, n1, iova, ctl;
		int ret, live, maxid = 0;
		bool s1 = false, s2 = false;

		ASSERT_NE(NULL, ids);
		self->iommufd = iommufd_open();
		ASSERT_LE(0, self->iommufd);
		ASSERT_EQ(0, iommufd_ioas_alloc(self->iommufd, &self->ioas));
		ret = edu_dev_open(d, self->edus.v[e], self->iommufd);
		ASSERT_EQ(0, ret) TH_LOG("%s", d->vd.err);
		/* ASIDs need stage 1; VMIDs nest-parent HWPTs, so both stages. */
		ret = variant->type == DBG_INV_S2_VMID ? edu_dev_has_nesting(d, &how) :
		      edu_dev_stages(d, &s1, &s2, &how) ?: s1;
		ASSERT_LE(0, ret) TH_LOG("%s: stages of %s: %s (%s)", d->bdf, d->inst,
					 strerror(-ret), how);
		if (!ret) {
			INFO("%s: %s has no %s: no %s to exhaust", d->bdf, d->inst,
			     variant->type == DBG_INV_S2_VMID ? "nesting" : "stage 1",
			     variant->type == DBG_INV_S2_VMID ? "VMIDs" : "ASIDs");
			goto next;
		}

		ret = iommufd_hwpt_alloc(self->iommufd, d->vd.devid, self->ioas,
					 variant->flags, &h1);
		ASSERT_EQ(0, ret) TH_LOG("IOMMU_HWPT_ALLOC: %s", strerror(-ret));
		ret = iommufd_hwpt_alloc(self->iommufd, d->vd.devid, self->ioas,
					 variant->flags, &h2);
		ASSERT_EQ(0, ret) TH_LOG("IOMMU_HWPT_ALLOC: %s", strerror(-ret));
		ret = iommufd_pick_iova(self->iommufd, self->ioas, IOVA_MIN, 2 * SZ_2M,
					SZ_2M, &iova);
		ASSERT_EQ(0, ret);
		ctl = iova + SZ_2M;
		ASSERT_EQ(0, iommufd_ioas_map(self->iommufd, self->ioas, self->mem.va, PAGE,
					      &iova, true, RW));
		ASSERT_EQ(0, iommufd_ioas_map(self->iommufd, self->ioas, self->ctl.va, PAGE,
					      &ctl, true, RW));

		/* One ID in use at least: ours, on h1. */
		attach_ok(_metadata, d, h1, "HWPT");
		ASSERT_CHECK(edu_roundtrip(d, self->mem.va, iova, self->ctl.va, ctl, PAGE,
					   &self->rng, ERRBUF));
		ASSERT_EQ(0, dbg_stat(d->inst, variant->used, &n));
		live = dbg_live_ids(d->inst, variant->type, ids);
		for (int i = 0; i < DBG_IDS_MAX; i++)
			if (ids[i / 8] & (1u << (i % 8)))
				maxid = i;
		INFO("%s (behind %s): %s = %llu; live type-%d IDs in the domains file: %d, "
		     "highest %d", d->bdf, d->inst, variant->used, (unsigned long long)n,
		     variant->type, live, maxid);

		/* No ID left. */
		ret = smmuv3_param_write(variant->param, n);
		ASSERT_EQ(0, ret) TH_LOG("writing %llu to " SMMUV3_PARAMS "/%s: %s",
					 (unsigned long long)n, variant->param, strerror(-ret));
		self->param_set = true;
		ret = dev_attach(&d->vd, h2);
		ASSERT_EQ(-ENOSPC, ret)
			TH_LOG("%s: %s = %llu = %s on %s, attaching to a new HWPT (needing "
			       "a new ID): expected ENOSPC, found %s%s", d->bdf, variant->param,
			       (unsigned long long)n, variant->used, d->inst,
			       ret ? strerror(-ret) : "success",
			       !ret && maxid > (int)n ? " (the live IDs are not 1..N: the "
			       "parameter caps ID values, not their number?)" : "");
		ASSERT_EQ(h1, d->vd.hwpt_id);
		/* The failed replace left the device where it was. */
		ASSERT_CHECK(edu_roundtrip(d, self->mem.va, iova, self->ctl.va, ctl, PAGE,
					   &self->rng, ERRBUF));
		ASSERT_EQ(0, dbg_stat(d->inst, variant->used, &n1));
		EXPECT_EQ(n, n1) TH_LOG("after the refused attach: expected %s %llu, "
					"found %llu", variant->used, (unsigned long long)n,
					(unsigned long long)n1);
		INFO("%s: attach to HWPT %u refused with ENOSPC; still on HWPT %u, DMA "
		     "intact", d->bdf, h2, h1);
		if (variant->type == DBG_INV_S1_ASID) {
			/* The automatic path cannot get an ID either. */
			ASSERT_EQ(0, iommufd_ioas_alloc(self->iommufd, &ioas2));
			ret = dev_attach(&d->vd, ioas2);
			EXPECT_EQ(-ENOSPC, ret)
				TH_LOG("%s: no ASID left, attaching to a fresh IOAS "
				       "(automatic domain): expected ENOSPC, found %s",
				       d->bdf, ret ? strerror(-ret) : "success");
			if (ret) {
				ASSERT_EQ(h1, d->vd.hwpt_id);
			} else {
				attach_ok(_metadata, d, h1, "HWPT");
			}
		}

		/* Free one: detach from h1. */
		ASSERT_EQ(0, dev_detach(&d->vd)) TH_LOG("%s", d->vd.err);
		ASSERT_EQ(0, dbg_stat(d->inst, variant->used, &n1));
		EXPECT_EQ(n - 1, n1) TH_LOG("detached: expected %s %llu, found %llu",
					    variant->used, (unsigned long long)(n - 1),
					    (unsigned long long)n1);
		ret = dev_attach(&d->vd, h2);
		ASSERT_EQ(0, ret) TH_LOG("%s: after a detach freed an ID, attaching to "
					 "HWPT %u: expected success, found %s", d->bdf, h2,
					 strerror(-ret));
		ASSERT_CHECK(edu_roundtrip(d, self->mem.va, iova, self->ctl.va, ctl, PAGE,
					   &self->rng, ERRBUF));
		ASSERT_EQ(0, dbg_stat(d->inst, variant->used, &n1));
		EXPECT_EQ(n, n1);
		INFO("%s: after the detach freed an ID, HWPT %u attached, DMA intact",
		     d->bdf, h2);

		ret = smmuv3_param_write(variant->param, 0);
		ASSERT_EQ(0, ret) TH_LOG("restoring %s: %s", variant->param, strerror(-ret));
		self->param_set = false;
		tested++;
next:
		free(ids);
		vfio_dev_close(&d->vd);
		close(self->iommufd);
		self->iommufd = -1;
	}
	if (!tested)
		SKIP(return, "no edu behind an instance with %s",
		     variant->type == DBG_INV_S2_VMID ? "both stages" : "stage 1");
}

TEST_HARNESS_MAIN
