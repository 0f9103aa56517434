// SPDX-License-Identifier: GPL-2.0-only
/*
 * smmuv3_stale: stale-translation detector.  Invalidation must reach every
 * instance in time: one IOVA page is remapped again and again to a new
 * page of a small pool (generation n: unmap, map another pool page, old
 * pages are reused), and after each remap the edu behind EACH of two
 * instances reads and writes generation-tagged words through the IOVA
 * (lib/stalecheck.h): every word must come from and land in the page of the
 * current generation, never in an older page.  Each check ends with a DMA
 * through the IOVA, so both instances' TLBs hold generation n when n + 1
 * is mapped.  After the last generation the IOVA is unmapped and writes
 * by both must reach no page.
 *
 * Variants (A: the first edu, B: the first behind another instance):
 *   shared         one IOAS, ONE HWPT (allocated for A) both are attached
 *                  to: one page table, an ASID per instance (skipped,
 *                  saying why, where the driver or the instances refuse
 *                  to share: upstream arm-smmu-v3, acpi2-s2s1)
 *   separate       one IOAS, a HWPT per device (IOMMU_HWPT_ALLOC with each
 *                  device's ID): two page tables kept in step by iommufd
 *   nested_bypass  one nesting-parent HWPT (allocated for A) on the IOAS,
 *                  a vIOMMU per instance on it, a vdevice and a nested HWPT
 *                  with a guest STE Cfg=bypass per device: the IOAS is the
 *                  guest's IPA space, remaps are stage-2 changes under
 *                  the vIOMMUs' VMIDs
 *   nested_s1      as nested_bypass, with guest STE Cfg=S1: a CD and
 *                  stage-1 tables in guest RAM map a guest VA to the
 *                  remapped IPA (combined stage-1 + stage-2 TLB entries)
 * The nested variants skip, saying why, without two instances that can
 * nest, without vIOMMU support (upstream on QEMU's SMMU: no S2FWB), or
 * when the driver cannot share one nesting parent across instances.
 *
 * SMMUV3_STALE_ITERS (default 16) sets the number of generations.
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
#include "edusetup.h"
#include "env.h"
#include "stalecheck.h"
#include "mem.h"
#include "nesting.h"
#include "vfio.h"

#define POOL		4
#define ITERS_DEFAULT	16

/* Nested variants: guest RAM, the remapped IPA page, guest VAs. */
#define IPA_BASE	0x40000000ULL
#define GUEST_PAGES	16
#define IPA_SLOT	(IPA_BASE + 0x200000ULL)
#define VA_SLOT		0x5234600000ULL
#define VA_CTL		0x5234700000ULL

enum stale_mode { M_SHARED, M_SEPARATE, M_NESTED_BYPASS, M_NESTED_S1 };

FIXTURE(stale)
{
	struct edu_pick pick[2];
	int iommufd;
	uint32_t ioas, hwpt[2], parent, viommu[2], vdev[2], nested[2];
	struct edu_dev d[2];
	struct pinned_buf ctl;
	void *ctl_va;			/* the control page as the test writes it */
	uint64_t ctl_ioas;		/* control page in the IOAS */
	uint64_t dev_iova[2], ctl_iova[2];	/* what each device DMAs to */
	struct gen_slot slot;
	struct guest_mem gm;
	struct s1_pgtbl pt[2];
	struct prng rng;
	bool opt_in;
	int iters;
};

FIXTURE_VARIANT(stale)
{
	enum stale_mode mode;
};

FIXTURE_VARIANT_ADD(stale, shared) { .mode = M_SHARED };
FIXTURE_VARIANT_ADD(stale, separate) { .mode = M_SEPARATE };
FIXTURE_VARIANT_ADD(stale, nested_bypass) { .mode = M_NESTED_BYPASS };
FIXTURE_VARIANT_ADD(stale, nested_s1) { .mode = M_NESTED_S1 };

static const char dev_name[2] = { 'A', 'B' };

FIXTURE_SETUP(stale)
{
	struct edu_dev *const dev[2] = { &self->d[0], &self->d[1] };
	const char *const bdf[2] = { self->pick[0].bdf, self->pick[1].bdf };
	char why[256];
	const char *s = getenv("SMMUV3_STALE_ITERS");
	int ret;

	self->iommufd = -1;
	self->d[0].vd.fd = self->d[1].vd.fd = -1;
	self->iters = s && atoi(s) > 0 ? atoi(s) : ITERS_DEFAULT;
	ret = edus_pick_two(self->pick, why, sizeof(why));
	ASSERT_LE(0, ret) TH_LOG("%s", why);
	if (!ret)
		SKIP(return, "%s", why);
	prng_seed(&self->rng, prng_time_seed());
	ret = edus_bind(&self->iommufd, &self->ioas, dev, bdf, 2, why, sizeof(why));
	ASSERT_EQ(0, ret) TH_LOG("%s", why);
	INFO("A = %s behind %s, B = %s behind %s; %d generations, pool of %d pages",
	     self->pick[0].bdf, self->pick[0].inst, self->pick[1].bdf, self->pick[1].inst,
	     self->iters, POOL);
}

FIXTURE_TEARDOWN(stale)
{
	vfio_dev_close_all();
	if (self->iommufd >= 0)
		close(self->iommufd);
	gen_slot_free(&self->slot);
	pinned_free(&self->ctl);
	if (self->gm.va)
		guest_mem_free(&self->gm);
	if (self->opt_in)
		viommu_opt_in_set(false);
}

static void attach(struct __test_metadata *_metadata, FIXTURE_DATA(stale) *self, int i,
		   uint32_t id, const char *what)
{
	int ret = dev_attach(&self->d[i].vd, id);

	ASSERT_EQ(0, ret) TH_LOG("attaching %c (%s behind %s) to %s %u: %s", dev_name[i],
				 self->d[i].bdf, self->d[i].inst, what, id, self->d[i].vd.err);
}

/* Plain variants: the control page and the slot at IOVAs of the IOAS. */
static void plain_layout(struct __test_metadata *_metadata, FIXTURE_DATA(stale) *self)
{
	uint64_t base;
	int ret;

	ret = iommufd_pick_iova(self->iommufd, self->ioas, IOVA_MIN, 2 * SZ_2M, SZ_2M, &base);
	ASSERT_EQ(0, ret) TH_LOG("no IOVA window at or above %#llx: %s",
				 (unsigned long long)IOVA_MIN, strerror(-ret));
	ret = pinned_alloc(&self->ctl, PAGE);
	ASSERT_EQ(0, ret) TH_LOG("control page: %s", strerror(-ret));
	self->ctl_va = self->ctl.va;
	self->ctl_ioas = base + SZ_2M;
	ret = iommufd_ioas_map(self->iommufd, self->ioas, self->ctl.va, PAGE, &self->ctl_ioas,
			       true, RW);
	ASSERT_EQ(0, ret) TH_LOG("IOMMU_IOAS_MAP control page: %s", strerror(-ret));
	ret = gen_slot_init(&self->slot, 1, POOL, self->ctl_va, base);
	ASSERT_EQ(0, ret) TH_LOG("pool: %s", strerror(-ret));
	for (int i = 0; i < 2; i++) {
		self->dev_iova[i] = base;
		self->ctl_iova[i] = self->ctl_ioas;
	}
}

static void setup_plain(struct __test_metadata *_metadata, FIXTURE_DATA(stale) *self,
			bool shared)
{
	int ret;

	for (int i = 0; i < 2; i++) {
		if (shared && i)
			break;
		ret = iommufd_hwpt_alloc(self->iommufd, self->d[i].vd.devid, self->ioas, 0,
					 &self->hwpt[i]);
		ASSERT_EQ(0, ret) TH_LOG("IOMMU_HWPT_ALLOC for %c: %s", dev_name[i],
					 strerror(-ret));
	}
	attach(_metadata, self, 0, self->hwpt[0], "HWPT");
	if (shared) {
		ret = dev_attach(&self->d[1].vd, self->hwpt[0]);
		if (ret == -EINVAL)
			SKIP(return, "the driver refuses B (%s behind %s) on the HWPT allocated "
			     "for A (behind %s) with EINVAL: no domain shared across instances "
			     "(driver %s)", self->d[1].bdf, self->d[1].inst, self->d[0].inst,
			     env_driver() ?: "?");
		ASSERT_EQ(0, ret) TH_LOG("%s", self->d[1].vd.err);
		INFO("one HWPT %u for both instances", self->hwpt[0]);
	} else {
		attach(_metadata, self, 1, self->hwpt[1], "HWPT");
		INFO("HWPT %u for A, HWPT %u for B", self->hwpt[0], self->hwpt[1]);
	}
	plain_layout(_metadata, self);
}

static void setup_nested(struct __test_metadata *_metadata, FIXTURE_DATA(stale) *self,
			 bool s1)
{
	uint64_t iova = IPA_BASE, ste[2];
	const char *how = "";
	char why[200];
	int ret;

	if (env_driver_ours()) {
		static const char *const needs[] = { "viommu", "nested" };

		for (int i = 0; i < 2; i++)
			if (!dbg_build_feature(needs[i], why, sizeof(why)))
				SKIP(return, "smmuv3.ko offers no %s here: %s", needs[i], why);
	}
	for (int i = 0; i < 2; i++) {
		ret = edu_dev_has_nesting(&self->d[i], &how);
		ASSERT_LE(0, ret) TH_LOG("stages of %s: %s", self->d[i].inst, strerror(-ret));
		if (!ret)
			SKIP(return, "no nesting: %s (in front of %c) lacks stage 1 or 2 (%s)",
			     self->d[i].inst, dev_name[i], how);
	}
	ret = viommu_opt_in_set(true);
	if (!ret)
		self->opt_in = true;
	else
		ASSERT_EQ(-ENOENT, ret) TH_LOG("writing 1 to %s: %s", VIOMMU_OPT_IN_PARAM,
					       strerror(-ret));
	ret = guest_mem_alloc(&self->gm, GUEST_PAGES, IPA_BASE);
	ASSERT_EQ(0, ret) TH_LOG("guest RAM: %s", strerror(-ret));
	ret = iommufd_ioas_map(self->iommufd, self->ioas, self->gm.va, self->gm.len, &iova,
			       true, RW);
	ASSERT_EQ(0, ret) TH_LOG("IOMMU_IOAS_MAP guest RAM: %s", strerror(-ret));
	ret = iommufd_hwpt_alloc_nest_parent(self->iommufd, self->d[0].vd.devid, self->ioas,
					     &self->parent);
	if (ret == -EOPNOTSUPP)
		SKIP(return, "no nesting parent for A (%s): %s", self->d[0].inst,
		     strerror(-ret));
	ASSERT_EQ(0, ret) TH_LOG("IOMMU_HWPT_ALLOC NEST_PARENT: %s", strerror(-ret));
	for (int i = 0; i < 2; i++) {
		ret = iommufd_viommu_alloc_smmuv3(self->iommufd, self->d[i].vd.devid,
						  self->parent, &self->viommu[i]);
		if (ret == -EOPNOTSUPP || (i && ret == -EINVAL))
			SKIP(return, "IOMMU_VIOMMU_ALLOC for %c (behind %s) on the parent "
			     "allocated for A: %s (%s; driver %s)", dev_name[i], self->d[i].inst,
			     strerror(-ret), ret == -EINVAL ?
			     "the driver does not share a nesting parent across instances" :
			     "the driver refuses vIOMMUs on this SMMU", env_driver() ?: "?");
		ASSERT_EQ(0, ret) TH_LOG("IOMMU_VIOMMU_ALLOC %c: %s", dev_name[i],
					 strerror(-ret));
		ret = iommufd_vdevice_alloc(self->iommufd, self->viommu[i], self->d[i].vd.devid,
					    0x10 + i, &self->vdev[i]);
		ASSERT_EQ(0, ret) TH_LOG("IOMMU_VDEVICE_ALLOC %c: %s", dev_name[i],
					 strerror(-ret));
	}
	/* The control page is the last page of guest RAM; the slot at IPA_SLOT. */
	self->ctl_ioas = IPA_BASE + (GUEST_PAGES - 1) * PAGE;
	self->ctl_va = guest_ptr(&self->gm, self->ctl_ioas);
	ret = gen_slot_init(&self->slot, 2, POOL, self->ctl_va, IPA_SLOT);
	ASSERT_EQ(0, ret) TH_LOG("pool: %s", strerror(-ret));
	for (int i = 0; i < 2; i++) {
		if (s1) {
			uint64_t cd = 0;

			ret = s1_pgtbl_init(&self->pt[i], &self->gm);
			ASSERT_EQ(0, ret) TH_LOG("stage-1 table: %s", strerror(-ret));
			ASSERT_EQ(0, s1_map(&self->pt[i], VA_SLOT, IPA_SLOT, true));
			ASSERT_EQ(0, s1_map(&self->pt[i], VA_CTL, self->ctl_ioas, true));
			cd = guest_page_alloc(&self->gm);
			ASSERT_NE(0ULL, cd);
			cd_s1(guest_ptr(&self->gm, cd), 0x40 + i, self->pt[i].l1_ipa, S1_T0SZ,
			      CD_IPS_40);
			vste_s1(ste, cd, 0);
			self->dev_iova[i] = VA_SLOT;
			self->ctl_iova[i] = VA_CTL;
		} else {
			vste_bypass(ste);
			self->dev_iova[i] = IPA_SLOT;
			self->ctl_iova[i] = self->ctl_ioas;
		}
		ret = iommufd_hwpt_alloc_nested(self->iommufd, self->d[i].vd.devid,
						self->viommu[i], ste, &self->nested[i]);
		ASSERT_EQ(0, ret) TH_LOG("nested HWPT for %c (vSTE %#llx %#llx): %s",
					 dev_name[i], (unsigned long long)ste[0],
					 (unsigned long long)ste[1], strerror(-ret));
		attach(_metadata, self, i, self->nested[i], "nested HWPT");
	}
	INFO("nesting parent %u, vIOMMUs %u and %u, nested HWPTs %u and %u (vSTE %s)",
	     self->parent, self->viommu[0], self->viommu[1], self->nested[0],
	     self->nested[1], s1 ? "Cfg=S1" : "Cfg=bypass");
}

TEST_F_TIMEOUT(stale, generations, DMA_TIMEOUT)
{
	char err[2048];
	int ret;

	switch (variant->mode) {
	case M_SHARED:
	case M_SEPARATE:
		setup_plain(_metadata, self, variant->mode == M_SHARED);
		break;
	case M_NESTED_BYPASS:
	case M_NESTED_S1:
		setup_nested(_metadata, self, variant->mode == M_NESTED_S1);
		break;
	}
	/* A helper's SKIP() returns from the helper only. */
	if (_metadata->exit_code == KSFT_SKIP)
		return;
	for (int n = 0; n < self->iters; n++) {
		/* Another pool page than the current one, at a random distance. */
		int next = self->slot.cur < 0 ? 0 :
			(self->slot.cur + 1 + prng_next(&self->rng) % (POOL - 1)) % POOL;

		ret = gen_remap(self->iommufd, self->ioas, &self->slot, next, err, sizeof(err));
		ASSERT_EQ(0, ret) TH_LOG("%s", err);
		for (int i = 0; i < 2; i++) {
			char who[64];

			snprintf(who, sizeof(who), "%c (%s behind %s)", dev_name[i],
				 self->d[i].bdf, self->d[i].inst);
			ret = gen_check(&self->d[i].e, who, &self->slot, self->dev_iova[i],
					self->ctl_iova[i], err, sizeof(err));
			ASSERT_EQ(0, ret) TH_LOG("generation %d of %d: %s", n + 1, self->iters,
						 err);
		}
	}
	ret = gen_unmap(self->iommufd, self->ioas, &self->slot, err, sizeof(err));
	ASSERT_EQ(0, ret) TH_LOG("%s", err);
	for (int i = 0; i < 2; i++) {
		char who[64];

		snprintf(who, sizeof(who), "%c (%s behind %s)", dev_name[i], self->d[i].bdf,
			 self->d[i].inst);
		ret = gen_check_dropped(&self->d[i].e, who, &self->slot, self->dev_iova[i], err,
					sizeof(err));
		ASSERT_EQ(0, ret) TH_LOG("after the final unmap: %s", err);
	}
	INFO("%llu generations, %llu checks on 2 instances: every word in the page of its "
	     "generation", (unsigned long long)self->slot.remaps,
	     (unsigned long long)self->slot.checks);
}

TEST_HARNESS_MAIN
