// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for PASIDs (domain.c, cd.c, ste.c): stage-1 domains
 * attached to substreams of a device, their CDs and tags, and the STE
 * forms that carry the RID's domain through S1DSS while PASIDs are
 * attached.
 *
 * Each test has a fake instance (fake_smmu.h) with a linear stream table
 * and one master with stream ID 3, driven through the ops the iommu core
 * calls: attach_dev of the RID's domain; set_dev_pasid of a paging domain
 * to attach or replace, of the blocked domain to remove.  The command queue
 * records every invalidation, in order; the tables are read back from
 * memory.  The instances have 8-bit ASIDs and VMIDs, so the first ASID a
 * test allocates is 1, the next 2.
 *
 * STE and CD fields are read with the positions of IHI 0070 sections 5.2,
 * 5.3 and 5.4 written out, independently of regs.h:
 *
 *  STE word 0: V [0], Config [3:1] (0b000 abort, 0b100 bypass, 0b101
 *	stage 1, 0b110 stage 2), S1Fmt [5:4] (0 linear, 2 64K leaves),
 *	S1ContextPtr [51:6], S1CDMax [63:59]
 *  STE word 1: S1DSS [1:0] (0b00 terminate, 0b01 bypass, 0b10 SSID 0),
 *	S1CIR [3:2], S1COR [5:4], S1CSH [7:6], SHCFG [45:44]
 *  STE word 2: S2VMID [15:0]
 *  CD word 0: V [31], ASID [63:48]; word 1: TTB0 [51:4]
 *  L1CD: V [0], L2Ptr [51:12]
 */
#include <kunit/test.h>
#include <linux/bits.h>
#include <linux/kernel.h>
#include <linux/sizes.h>
#include <linux/string.h>

#include <smmuv3/invs.h>
#include <smmuv3/smmuv3.h>

#include "fake_smmu.h"

#define FEAT		(SMMUV3_FEAT_S1 | SMMUV3_FEAT_S2 | SMMUV3_FEAT_RANGE_INV)
#define PGSIZES		(SZ_4K | SZ_2M | SZ_1G)
#define NQ		SMMUV3_STE_QWORDS

#define SID		3
#define SSID_BITS	4

#define SYNC		FAKE_CMD_SYNC
#define CFGI_STE	FAKE_CFGI_STE(SID)
#define CFGI_CD(ssid)	FAKE_CFGI_CD(SID, ssid, 1)
#define CFGI_L1CD(ssid)	FAKE_CFGI_CD(SID, ssid, 0)
#define TLBI_ASID(asid)	FAKE_TLBI_NH_ASID(asid)

/* Page table bases that tell the domains' CDs apart. */
#define TTBR_A		0x0000001234568000ull
#define TTBR_B		0x00000009abcd0000ull
#define TTBR_C		0x0000000076540000ull

/* Abort: V, Config 0.  Bypass: V, Config 0b100 (0x9); SHCFG 1 (incoming). */
#define STE_ABORT0	0x0000000000000001ull
#define STE_BYPASS0	0x0000000000000009ull
#define STE_BYPASS1	0x0000100000000000ull
/* A CD table STE: V, Config 0b101 (0xb), then S1Fmt, S1ContextPtr, S1CDMax */
#define STE_S1_0	0x000000000000000bull
/*
 * and its word 1 with S1DSS 0: S1CIR 1 (write-back) << 2 | S1COR 1 << 4 |
 * S1CSH 3 (inner shareable) << 6; S1DSS bypass adds SHCFG 1 << 44.
 */
#define STE_S1_1	0x00000000000000d4ull
#define STE_S2_0	0x000000000000000dull

#define DSS_TERMINATE	0
#define DSS_BYPASS	1
#define DSS_SSID0	2

static const struct fake_entry_kind ste_kind = {
	.name = "STE",
	.num_qwords = NQ,
	.get_used = smmuv3_ste_get_used,
	.v_bit = SMMUV3_STE0_V,
};

/* One instance, one master with one stream. */
struct env {
	struct kunit *test;
	struct fake_smmu *f;
	struct smmuv3_master *master;
	struct device *dev;
};

static void env_init(struct kunit *test, struct env *e, u32 flags,
		     u8 ssid_bits)
{
	static const u32 sid = SID;

	e->test = test;
	e->f = fake_smmu_create(test, "smmu0", FEAT | flags, 8, 8);
	e->f->smmu.feat.ssid_bits = ssid_bits;
	fake_smmu_add_strtab(test, e->f, 4);
	e->master = fake_master_create(test, e->f, &sid, 1);
	e->dev = e->master->dev;
}

/* A paging domain made on the env's instance. */
static struct smmuv3_domain *domain(struct env *e, enum smmuv3_stage stage,
				    u64 ttbr)
{
	struct smmuv3_domain *d = fake_domain_create(e->test, stage, PGSIZES);

	d->owner = &e->f->smmu;
	d->domain.type = IOMMU_DOMAIN_UNMANAGED;
	d->domain.ops = &smmuv3_paging_ops;
	if (stage == SMMUV3_STAGE_1)
		d->pgtbl_cfg.arm_lpae_s1_cfg.ttbr = ttbr;
	else
		d->pgtbl_cfg.arm_lpae_s2_cfg.vttbr = ttbr;
	return d;
}

/* --- The core's calls ----------------------------------------------------- */

static int attach_rid(struct env *e, struct iommu_domain *dom)
{
	return smmuv3_call_attach_dev(dom, e->dev, NULL);
}

static int set_pasid(struct env *e, struct smmuv3_domain *d, u32 pasid,
		     struct smmuv3_domain *old)
{
	return d->domain.ops->set_dev_pasid(&d->domain, e->dev, pasid,
					    old ? &old->domain : NULL);
}

/* Removal cannot fail (the core WARNs if it does). */
static void remove_pasid(struct env *e, u32 pasid, struct smmuv3_domain *old)
{
	struct iommu_domain *blocked = &smmuv3_blocked_domain;

	KUNIT_EXPECT_EQ(e->test,
			blocked->ops->set_dev_pasid(blocked, e->dev, pasid,
						    &old->domain), 0);
}

/* --- What the tables hold ------------------------------------------------- */

static u64 ste_word(struct env *e, unsigned int i)
{
	return le64_to_cpu(smmuv3_strtab_ste(&e->f->smmu, SID)[i]);
}

static void ste_save(struct env *e, __le64 *ste)
{
	memcpy(ste, smmuv3_strtab_ste(&e->f->smmu, SID), SMMUV3_STE_SIZE);
}

static void expect_ste(struct env *e, u64 w0, u64 w1, const char *what)
{
	unsigned int i;

	KUNIT_EXPECT_EQ_MSG(e->test, ste_word(e, 0), w0, "%s: STE word 0",
			    what);
	KUNIT_EXPECT_EQ_MSG(e->test, ste_word(e, 1), w1, "%s: STE word 1",
			    what);
	for (i = 2; i < NQ; i++)
		KUNIT_EXPECT_EQ_MSG(e->test, ste_word(e, i), 0,
				    "%s: STE word %u", what, i);
}

/* The STE points at the master's CD table, with this S1DSS. */
static void expect_cdtab_ste(struct env *e, u64 s1dss, u64 fmt, u64 cdmax,
			     const char *what)
{
	const struct smmuv3_cdtab *tab = e->master->cdtab;
	u64 w1 = STE_S1_1 | s1dss;

	KUNIT_ASSERT_NOT_NULL(e->test, tab);
	if (s1dss == DSS_BYPASS)
		w1 |= STE_BYPASS1;
	expect_ste(e, STE_S1_0 | fmt << 4 | (tab->dma & GENMASK_ULL(51, 6)) |
		   cdmax << 59, w1, what);
}

static void expect_ste_same(struct env *e, const __le64 *before,
			    const char *what)
{
	KUNIT_EXPECT_MEMEQ_MSG(e->test, smmuv3_strtab_ste(&e->f->smmu, SID),
			       before, SMMUV3_STE_SIZE, "%s: STE changed",
			       what);
}

/*
 * The STE went from @before to what it holds now without the SMMU ever
 * seeing anything but the one or the other: the same update, replayed by
 * the checking writer of fake_smmu.c, needs @syncs syncs and no invalid
 * STE.  (The commands checked by each test show the driver's own count.)
 */
static void expect_hitless(struct env *e, const __le64 *before,
			   unsigned int syncs)
{
	__le64 after[NQ];

	ste_save(e, after);
	fake_check_update(e->test, &ste_kind, before, after, syncs, false);
}

/* The CD of a substream, NULL while its leaf does not exist. */
static const __le64 *cd_at(struct env *e, u32 ssid)
{
	const struct smmuv3_cdtab *tab = e->master->cdtab;

	if (!tab)
		return NULL;
	if (!tab->two_level)
		return tab->cds + ssid * SMMUV3_CD_QWORDS;
	if (!tab->l2[ssid >> 10])
		return NULL;
	return tab->l2[ssid >> 10] + (ssid & 1023) * SMMUV3_CD_QWORDS;
}

static void expect_cd(struct env *e, u32 ssid, u64 asid, u64 ttbr)
{
	const __le64 *cd = cd_at(e, ssid);

	KUNIT_ASSERT_NOT_NULL_MSG(e->test, cd, "CD %u", ssid);
	KUNIT_EXPECT_TRUE_MSG(e->test, le64_to_cpu(cd[0]) & BIT_ULL(31),
			      "CD %u valid", ssid);
	KUNIT_EXPECT_EQ_MSG(e->test, le64_to_cpu(cd[0]) >> 48, asid,
			    "CD %u ASID", ssid);
	KUNIT_EXPECT_EQ_MSG(e->test, le64_to_cpu(cd[1]) & GENMASK_ULL(51, 4),
			    ttbr, "CD %u TTB0", ssid);
}

static void expect_cd_clear(struct env *e, u32 ssid)
{
	const __le64 *cd = cd_at(e, ssid);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL_MSG(e->test, cd, "CD %u", ssid);
	for (i = 0; i < SMMUV3_CD_QWORDS; i++)
		KUNIT_EXPECT_EQ_MSG(e->test, le64_to_cpu(cd[i]), 0,
				    "CD %u word %u", ssid, i);
}

/* Users of a domain's tag of @type on the instance (0: none), and its ID. */
static int tag_users(struct env *e, struct smmuv3_domain *d, u8 type,
		     u32 *id)
{
	const struct smmuv3_invs *invs = fake_domain_invs(d);
	unsigned int i;

	for (i = 0; invs && i < invs->num; i++) {
		const struct smmuv3_inv *inv = &invs->inv[i];

		if (inv->smmu == &e->f->smmu && inv->type == type &&
		    inv->users) {
			*id = inv->id;
			return inv->users;
		}
	}
	return 0;
}

static void expect_asid(struct env *e, struct smmuv3_domain *d, u32 asid,
			int users)
{
	u32 id = 0;

	KUNIT_EXPECT_EQ_MSG(e->test,
			    tag_users(e, d, SMMUV3_INV_S1_ASID, &id), users,
			    "users of the domain's ASID");
	if (users)
		KUNIT_EXPECT_EQ(e->test, id, asid);
}

static int asids_used(struct env *e)
{
	return atomic_read(&e->f->smmu.tags.asids_used);
}

static int vmids_used(struct env *e)
{
	return atomic_read(&e->f->smmu.tags.vmids_used);
}

/* --- PASIDs under an identity, blocked or stage-1 RID --------------------- */

/*
 * RID on identity: the first PASID turns the STE into a CD table one whose
 * S1DSS bypasses traffic without a PASID; removing it flushes its ASID and
 * gives the RID its bypass STE back.
 */
static void pasid_rid_identity(struct kunit *test)
{
	struct smmuv3_domain *a;
	__le64 before[NQ];
	struct env e;
	u32 id;

	env_init(test, &e, 0, SSID_BITS);
	a = domain(&e, SMMUV3_STAGE_1, TTBR_A);
	KUNIT_ASSERT_EQ(test, attach_rid(&e, &smmuv3_identity_domain), 0);
	expect_ste(&e, STE_BYPASS0, STE_BYPASS1, "identity");
	FAKE_EXPECT_CMDS(test, e.f, CFGI_STE, SYNC, CFGI_STE, SYNC);

	ste_save(&e, before);
	KUNIT_ASSERT_EQ(test, set_pasid(&e, a, 5, NULL), 0);
	/* The CD becomes valid (two steps) before the STE uses the table. */
	FAKE_EXPECT_CMDS(test, e.f, CFGI_CD(5), SYNC, CFGI_CD(5), SYNC,
			 CFGI_STE, SYNC, CFGI_STE, SYNC);
	expect_cdtab_ste(&e, DSS_BYPASS, 0, SSID_BITS, "PASID 5");
	expect_hitless(&e, before, 2);
	expect_cd(&e, 5, 1, TTBR_A);
	expect_cd_clear(&e, 0);
	expect_asid(&e, a, 1, 1);
	KUNIT_EXPECT_EQ(test, asids_used(&e), 1);
	KUNIT_EXPECT_TRUE(test, smmuv3_master_has_pasids(e.master));

	ste_save(&e, before);
	remove_pasid(&e, 5, a);
	/*
	 * CD cleared, the STE switched back, then its ASID flushed (then
	 * freed): nothing can use the ASID any more.
	 */
	FAKE_EXPECT_CMDS(test, e.f, CFGI_CD(5), SYNC, CFGI_CD(5), SYNC,
			 CFGI_STE, SYNC, CFGI_STE, SYNC, TLBI_ASID(1), SYNC);
	expect_ste(&e, STE_BYPASS0, STE_BYPASS1, "after removal");
	expect_hitless(&e, before, 2);
	expect_cd_clear(&e, 5);
	expect_asid(&e, a, 0, 0);
	KUNIT_EXPECT_EQ(test, asids_used(&e), 0);
	KUNIT_EXPECT_FALSE(test, smmuv3_master_has_pasids(e.master));
	KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&e.f->smmu,
						  SMMUV3_INV_S1_ASID, &id), 0);
	KUNIT_EXPECT_EQ(test, id, 1);

	/* Removing it again finds nothing to do. */
	remove_pasid(&e, 5, a);
	FAKE_EXPECT_NO_CMDS(test, e.f);
}

/* RID blocked: S1DSS terminates traffic without a PASID; back to abort. */
static void pasid_rid_blocked(struct kunit *test)
{
	struct smmuv3_domain *a;
	__le64 before[NQ];
	struct env e;

	env_init(test, &e, 0, SSID_BITS);
	a = domain(&e, SMMUV3_STAGE_1, TTBR_A);
	/* A new master's STEs abort already: nothing to write. */
	KUNIT_ASSERT_EQ(test, attach_rid(&e, &smmuv3_blocked_domain), 0);
	expect_ste(&e, STE_ABORT0, 0, "blocked");
	FAKE_EXPECT_NO_CMDS(test, e.f);

	ste_save(&e, before);
	KUNIT_ASSERT_EQ(test, set_pasid(&e, a, 1, NULL), 0);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_CD(1), SYNC, CFGI_CD(1), SYNC,
			 CFGI_STE, SYNC, CFGI_STE, SYNC);
	expect_cdtab_ste(&e, DSS_TERMINATE, 0, SSID_BITS, "PASID 1");
	expect_hitless(&e, before, 2);
	expect_cd(&e, 1, 1, TTBR_A);
	KUNIT_EXPECT_EQ(test, asids_used(&e), 1);

	ste_save(&e, before);
	remove_pasid(&e, 1, a);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_CD(1), SYNC, CFGI_CD(1), SYNC,
			 CFGI_STE, SYNC, CFGI_STE, SYNC, TLBI_ASID(1), SYNC);
	expect_ste(&e, STE_ABORT0, 0, "after removal");
	expect_hitless(&e, before, 2);
	expect_cd_clear(&e, 1);
	KUNIT_EXPECT_EQ(test, asids_used(&e), 0);
}

/*
 * RID on another stage-1 domain: its STE already has the table with S1DSS
 * SSID0, so a PASID only writes its CD; two domains, two ASIDs.
 */
static void pasid_rid_s1_other_domain(struct kunit *test)
{
	struct smmuv3_domain *a, *b;
	__le64 before[NQ];
	struct env e;

	env_init(test, &e, 0, SSID_BITS);
	a = domain(&e, SMMUV3_STAGE_1, TTBR_A);
	b = domain(&e, SMMUV3_STAGE_1, TTBR_B);
	KUNIT_ASSERT_EQ(test, attach_rid(&e, &b->domain), 0);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_CD(0), SYNC, CFGI_CD(0), SYNC,
			 CFGI_STE, SYNC, CFGI_STE, SYNC);
	expect_cdtab_ste(&e, DSS_SSID0, 0, SSID_BITS, "RID on B");

	ste_save(&e, before);
	KUNIT_ASSERT_EQ(test, set_pasid(&e, a, 2, NULL), 0);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_CD(2), SYNC, CFGI_CD(2), SYNC);
	expect_ste_same(&e, before, "PASID 2 on A");
	expect_cd(&e, 0, 1, TTBR_B);
	expect_cd(&e, 2, 2, TTBR_A);
	expect_asid(&e, b, 1, 1);
	expect_asid(&e, a, 2, 1);
	KUNIT_EXPECT_EQ(test, asids_used(&e), 2);

	remove_pasid(&e, 2, a);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_CD(2), SYNC, CFGI_CD(2), SYNC,
			 TLBI_ASID(2), SYNC);
	expect_ste_same(&e, before, "PASID 2 removed");
	expect_cd(&e, 0, 1, TTBR_B);
	expect_cd_clear(&e, 2);
	KUNIT_EXPECT_EQ(test, asids_used(&e), 1);
}

/* The RID and a PASID on one domain share its one ASID: two users. */
static void pasid_shares_rid_asid(struct kunit *test)
{
	struct smmuv3_domain *a;
	struct env e;

	env_init(test, &e, 0, SSID_BITS);
	a = domain(&e, SMMUV3_STAGE_1, TTBR_A);
	KUNIT_ASSERT_EQ(test, attach_rid(&e, &a->domain), 0);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_CD(0), SYNC, CFGI_CD(0), SYNC,
			 CFGI_STE, SYNC, CFGI_STE, SYNC);

	KUNIT_ASSERT_EQ(test, set_pasid(&e, a, 7, NULL), 0);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_CD(7), SYNC, CFGI_CD(7), SYNC);
	expect_cd(&e, 0, 1, TTBR_A);
	expect_cd(&e, 7, 1, TTBR_A);
	expect_asid(&e, a, 1, 2);
	KUNIT_EXPECT_EQ(test, fake_domain_invs(a)->num, 1);
	KUNIT_EXPECT_EQ(test, asids_used(&e), 1);

	/* The RID still uses the ASID: no flush. */
	remove_pasid(&e, 7, a);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_CD(7), SYNC, CFGI_CD(7), SYNC);
	expect_asid(&e, a, 1, 1);
	expect_cd(&e, 0, 1, TTBR_A);
	KUNIT_EXPECT_EQ(test, asids_used(&e), 1);
	expect_cdtab_ste(&e, DSS_SSID0, 0, SSID_BITS, "PASID removed");
}

/*
 * The RID moves around a PASID that stays: identity to stage 1 (sharing
 * the PASID's ASID) to blocked to identity, each a change of S1DSS in
 * place; the ASID outlives the RID's use of it.
 */
static void pasid_rid_moves(struct kunit *test)
{
	struct smmuv3_domain *a;
	__le64 before[NQ];
	struct env e;

	env_init(test, &e, 0, SSID_BITS);
	a = domain(&e, SMMUV3_STAGE_1, TTBR_A);
	KUNIT_ASSERT_EQ(test, attach_rid(&e, &smmuv3_identity_domain), 0);
	KUNIT_ASSERT_EQ(test, set_pasid(&e, a, 7, NULL), 0);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_STE, SYNC, CFGI_STE, SYNC,
			 CFGI_CD(7), SYNC, CFGI_CD(7), SYNC,
			 CFGI_STE, SYNC, CFGI_STE, SYNC);

	ste_save(&e, before);
	KUNIT_ASSERT_EQ(test, attach_rid(&e, &a->domain), 0);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_CD(0), SYNC, CFGI_CD(0), SYNC,
			 CFGI_STE, SYNC);
	expect_cdtab_ste(&e, DSS_SSID0, 0, SSID_BITS, "RID on A");
	expect_hitless(&e, before, 1);
	expect_asid(&e, a, 1, 2);

	/* S1DSS first, then CD 0 is cleared; the PASID keeps the ASID. */
	ste_save(&e, before);
	KUNIT_ASSERT_EQ(test, attach_rid(&e, &smmuv3_blocked_domain), 0);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_STE, SYNC, CFGI_CD(0), SYNC,
			 CFGI_CD(0), SYNC);
	expect_cdtab_ste(&e, DSS_TERMINATE, 0, SSID_BITS, "RID blocked");
	expect_hitless(&e, before, 1);
	expect_cd_clear(&e, 0);
	expect_cd(&e, 7, 1, TTBR_A);
	expect_asid(&e, a, 1, 1);
	KUNIT_EXPECT_EQ(test, asids_used(&e), 1);

	ste_save(&e, before);
	KUNIT_ASSERT_EQ(test, attach_rid(&e, &smmuv3_identity_domain), 0);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_STE, SYNC, CFGI_STE, SYNC);
	expect_cdtab_ste(&e, DSS_BYPASS, 0, SSID_BITS, "RID identity");
	expect_hitless(&e, before, 2);

	remove_pasid(&e, 7, a);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_CD(7), SYNC, CFGI_CD(7), SYNC,
			 CFGI_STE, SYNC, CFGI_STE, SYNC, TLBI_ASID(1), SYNC);
	expect_ste(&e, STE_BYPASS0, STE_BYPASS1, "last PASID removed");
	KUNIT_EXPECT_EQ(test, asids_used(&e), 0);
}

/*
 * Replacing a PASID's domain: the new ASID is in place when the CD
 * switches (a new ASID and table base: break-before-make of the CD, three
 * syncs), the old ASID is flushed only after.
 */
static void pasid_replace(struct kunit *test)
{
	struct smmuv3_domain *a, *b;
	__le64 before[NQ];
	struct env e;

	env_init(test, &e, 0, SSID_BITS);
	a = domain(&e, SMMUV3_STAGE_1, TTBR_A);
	b = domain(&e, SMMUV3_STAGE_1, TTBR_B);
	KUNIT_ASSERT_EQ(test, attach_rid(&e, &smmuv3_identity_domain), 0);
	KUNIT_ASSERT_EQ(test, set_pasid(&e, a, 4, NULL), 0);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_STE, SYNC, CFGI_STE, SYNC,
			 CFGI_CD(4), SYNC, CFGI_CD(4), SYNC,
			 CFGI_STE, SYNC, CFGI_STE, SYNC);

	ste_save(&e, before);
	KUNIT_ASSERT_EQ(test, set_pasid(&e, b, 4, a), 0);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_CD(4), SYNC, CFGI_CD(4), SYNC,
			 CFGI_CD(4), SYNC, TLBI_ASID(1), SYNC);
	expect_ste_same(&e, before, "replaced");
	expect_cd(&e, 4, 2, TTBR_B);
	expect_asid(&e, a, 0, 0);
	expect_asid(&e, b, 2, 1);
	KUNIT_EXPECT_EQ(test, asids_used(&e), 1);

	/* Back to A, which the RID now uses: its ASID is reused. */
	KUNIT_ASSERT_EQ(test, attach_rid(&e, &a->domain), 0);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_CD(0), SYNC, CFGI_CD(0), SYNC,
			 CFGI_STE, SYNC);
	KUNIT_ASSERT_EQ(test, set_pasid(&e, a, 4, b), 0);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_CD(4), SYNC, CFGI_CD(4), SYNC,
			 CFGI_CD(4), SYNC, TLBI_ASID(2), SYNC);
	expect_cd(&e, 4, 1, TTBR_A);
	expect_asid(&e, a, 1, 2);
	expect_asid(&e, b, 0, 0);
	KUNIT_EXPECT_EQ(test, asids_used(&e), 1);
}

/* --- Refusals ------------------------------------------------------------- */

/* Nothing is written, allocated or recorded by a refused attach. */
static void expect_untouched(struct env *e, const __le64 *before,
			     const char *what)
{
	FAKE_EXPECT_NO_CMDS(e->test, e->f);
	expect_ste_same(e, before, what);
	KUNIT_EXPECT_FALSE_MSG(e->test, smmuv3_master_has_pasids(e->master),
			       "%s: PASID recorded", what);
	KUNIT_EXPECT_EQ_MSG(e->test, asids_used(e), 0, "%s: ASIDs", what);
}

/*
 * PASIDs must be 1 to 2^ssid_bits - 1 (0 is the RID), the domain stage 1
 * and fit for the instance.
 */
static void pasid_refused(struct kunit *test)
{
	struct smmuv3_domain *a, *s2, *foreign;
	struct fake_smmu *other;
	__le64 before[NQ];
	struct env e;

	env_init(test, &e, 0, SSID_BITS);
	a = domain(&e, SMMUV3_STAGE_1, TTBR_A);
	s2 = domain(&e, SMMUV3_STAGE_2, TTBR_B);
	/* Made on another instance, with page sizes this one lacks. */
	other = fake_smmu_create(test, "smmu1", FEAT, 8, 8);
	foreign = domain(&e, SMMUV3_STAGE_1, TTBR_C);
	foreign->owner = &other->smmu;
	KUNIT_ASSERT_EQ(test, attach_rid(&e, &smmuv3_identity_domain), 0);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_STE, SYNC, CFGI_STE, SYNC);

	ste_save(&e, before);
	KUNIT_EXPECT_EQ(test, set_pasid(&e, a, BIT(SSID_BITS), NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, set_pasid(&e, a, U32_MAX, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, set_pasid(&e, a, 0, NULL), -EINVAL);
	/* nothing allocated for those */
	KUNIT_EXPECT_NULL(test, e.master->cdtab);
	KUNIT_EXPECT_EQ(test, set_pasid(&e, s2, 1, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, set_pasid(&e, foreign, 1, NULL), -EINVAL);
	expect_untouched(&e, before, "refused");
	KUNIT_EXPECT_EQ(test, vmids_used(&e), 0);

	/* The largest PASID is fine. */
	KUNIT_EXPECT_EQ(test, set_pasid(&e, a, BIT(SSID_BITS) - 1, NULL), 0);
	expect_cd(&e, BIT(SSID_BITS) - 1, 1, TTBR_A);

	/* A refused replacement leaves the PASID as it was. */
	FAKE_EXPECT_CMDS(test, e.f, CFGI_CD(15), SYNC, CFGI_CD(15), SYNC,
			 CFGI_STE, SYNC, CFGI_STE, SYNC);
	KUNIT_EXPECT_EQ(test, set_pasid(&e, s2, BIT(SSID_BITS) - 1, a),
			-EINVAL);
	FAKE_EXPECT_NO_CMDS(test, e.f);
	expect_cd(&e, BIT(SSID_BITS) - 1, 1, TTBR_A);
	expect_asid(&e, a, 1, 1);
}

/* Without substreams nothing changes: no PASID, the RID's STE as ever. */
static void pasid_none_without_substreams(struct kunit *test)
{
	struct smmuv3_domain *a;
	__le64 before[NQ];
	struct env e;

	env_init(test, &e, 0, 0);
	a = domain(&e, SMMUV3_STAGE_1, TTBR_A);
	KUNIT_EXPECT_EQ(test, e.master->ssid_bits, 0);

	ste_save(&e, before);
	KUNIT_EXPECT_EQ(test, set_pasid(&e, a, 1, NULL), -EINVAL);
	expect_untouched(&e, before, "no substreams");
	KUNIT_EXPECT_NULL(test, e.master->cdtab);

	/*
	 * One CD, S1CDMax 0: the SMMU ignores S1DSS then (IHI 0070 5.2), and
	 * the driver leaves it 0 (terminate's encoding).
	 */
	KUNIT_ASSERT_EQ(test, attach_rid(&e, &a->domain), 0);
	expect_cdtab_ste(&e, DSS_TERMINATE, 0, 0, "RID on A");
	KUNIT_ASSERT_EQ(test, attach_rid(&e, &smmuv3_identity_domain), 0);
	expect_ste(&e, STE_BYPASS0, STE_BYPASS1, "identity");
	KUNIT_ASSERT_EQ(test, attach_rid(&e, &smmuv3_blocked_domain), 0);
	expect_ste(&e, STE_ABORT0, 0, "blocked");
}

/*
 * A stage-2 RID has no CD table in its STE: a PASID attach is refused
 * while the RID is on one (-EINVAL), and the RID's attach to one while a
 * PASID is attached (-EBUSY).
 */
static void pasid_rid_s2_refused(struct kunit *test)
{
	struct smmuv3_domain *a, *s2;
	__le64 before[NQ];
	struct env e;

	env_init(test, &e, 0, SSID_BITS);
	a = domain(&e, SMMUV3_STAGE_1, TTBR_A);
	s2 = domain(&e, SMMUV3_STAGE_2, TTBR_B);

	KUNIT_ASSERT_EQ(test, attach_rid(&e, &s2->domain), 0);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_STE, SYNC, CFGI_STE, SYNC);
	KUNIT_EXPECT_EQ(test, ste_word(&e, 0), STE_S2_0);
	ste_save(&e, before);
	KUNIT_EXPECT_EQ(test, set_pasid(&e, a, 1, NULL), -EINVAL);
	expect_untouched(&e, before, "RID on stage 2");
	KUNIT_EXPECT_NULL(test, e.master->cdtab);

	KUNIT_ASSERT_EQ(test, attach_rid(&e, &smmuv3_identity_domain), 0);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_STE, SYNC, CFGI_STE, SYNC,
			 FAKE_TLBI_S12_VMALL(1), SYNC);
	KUNIT_ASSERT_EQ(test, set_pasid(&e, a, 1, NULL), 0);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_CD(1), SYNC, CFGI_CD(1), SYNC,
			 CFGI_STE, SYNC, CFGI_STE, SYNC);

	ste_save(&e, before);
	KUNIT_EXPECT_EQ(test, attach_rid(&e, &s2->domain), -EBUSY);
	FAKE_EXPECT_NO_CMDS(test, e.f);
	expect_ste_same(&e, before, "stage-2 RID refused");
	KUNIT_EXPECT_EQ(test, vmids_used(&e), 0);
	KUNIT_EXPECT_NULL(test, e.master->attach);
	expect_cd(&e, 1, 1, TTBR_A);

	/* Once the PASID is gone, the RID may go to stage 2. */
	remove_pasid(&e, 1, a);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_CD(1), SYNC, CFGI_CD(1), SYNC,
			 CFGI_STE, SYNC, CFGI_STE, SYNC, TLBI_ASID(1), SYNC);
	KUNIT_EXPECT_EQ(test, attach_rid(&e, &s2->domain), 0);
	KUNIT_EXPECT_EQ(test, ste_word(&e, 0), STE_S2_0);
}

#if SMMUV3_HAVE_VIOMMU
/* A nested RID is a stage-2 STE too: the same two refusals. */
static void pasid_rid_nested_refused(struct kunit *test)
{
	struct smmuv3_domain *a, *parent;
	struct smmuv3_viommu *viommu;
	struct smmuv3_nested *nested;
	__le64 before[NQ];
	struct env e;
	u32 vmid;

	env_init(test, &e, 0, SSID_BITS);
	a = domain(&e, SMMUV3_STAGE_1, TTBR_A);
	parent = domain(&e, SMMUV3_STAGE_2, TTBR_B);
	parent->nest_parent = true;
	viommu = kunit_kzalloc(test, sizeof(*viommu), GFP_KERNEL);
	nested = kunit_kzalloc(test, sizeof(*nested), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, viommu);
	KUNIT_ASSERT_NOT_NULL(test, nested);
	KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&e.f->smmu,
						  SMMUV3_INV_S2_VMID_S1_CLEAR,
						  &vmid), 0);
	viommu->smmu = &e.f->smmu;
	viommu->parent = parent;
	viommu->vmid = FAKE_INV(e.f, SMMUV3_INV_S2_VMID_S1_CLEAR, vmid, 0, 1);
	nested->domain.type = IOMMU_DOMAIN_NESTED;
	nested->domain.ops = &smmuv3_nested_ops;
	nested->viommu = viommu;
	/* The guest's STE: V, Config bypass (stage 2 alone) */
	nested->vste[0] = cpu_to_le64(STE_BYPASS0);

	KUNIT_ASSERT_EQ(test, attach_rid(&e, &smmuv3_identity_domain), 0);
	KUNIT_ASSERT_EQ(test, set_pasid(&e, a, 3, NULL), 0);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_STE, SYNC, CFGI_STE, SYNC,
			 CFGI_CD(3), SYNC, CFGI_CD(3), SYNC,
			 CFGI_STE, SYNC, CFGI_STE, SYNC);
	ste_save(&e, before);
	KUNIT_EXPECT_EQ(test, attach_rid(&e, &nested->domain), -EBUSY);
	FAKE_EXPECT_NO_CMDS(test, e.f);
	expect_ste_same(&e, before, "nested RID refused");
	KUNIT_EXPECT_NULL(test, fake_domain_invs(parent));
	KUNIT_EXPECT_NULL(test, e.master->viommu);

	remove_pasid(&e, 3, a);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_CD(3), SYNC, CFGI_CD(3), SYNC,
			 CFGI_STE, SYNC, CFGI_STE, SYNC, TLBI_ASID(1), SYNC);
	KUNIT_ASSERT_EQ(test, attach_rid(&e, &nested->domain), 0);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_STE, SYNC, CFGI_STE, SYNC);
	KUNIT_EXPECT_EQ(test, ste_word(&e, 0), STE_S2_0);
	KUNIT_EXPECT_EQ(test, ste_word(&e, 2) & 0xffff, vmid);

	ste_save(&e, before);
	KUNIT_EXPECT_EQ(test, set_pasid(&e, a, 3, NULL), -EINVAL);
	expect_untouched(&e, before, "RID nested");
	expect_cd_clear(&e, 3);
}
#endif /* SMMUV3_HAVE_VIOMMU */

/* --- Two-level CD tables -------------------------------------------------- */

static u64 l1cd(struct env *e, unsigned int idx)
{
	return le64_to_cpu(e->master->cdtab->cds[idx]);
}

/*
 * 12 SSID bits: four level-1 descriptors of 1024 CDs each.  A leaf is
 * allocated when a PASID in its range is first attached, its descriptor
 * invalidated (non-leaf CFGI_CD: an invalid one may have been cached), and
 * it stays when its PASIDs go.
 */
static void pasid_cdtab_2lvl(struct kunit *test)
{
	struct smmuv3_domain *a, *b;
	const struct smmuv3_cdtab *tab;
	unsigned int i;
	struct env e;

	env_init(test, &e, SMMUV3_FEAT_2LVL_CDTAB, 12);
	a = domain(&e, SMMUV3_STAGE_1, TTBR_A);
	b = domain(&e, SMMUV3_STAGE_1, TTBR_B);
	KUNIT_EXPECT_EQ(test, e.master->ssid_bits, 12);
	KUNIT_ASSERT_EQ(test, attach_rid(&e, &smmuv3_identity_domain), 0);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_STE, SYNC, CFGI_STE, SYNC);

	/* 0xabc: leaf 2, CD 0x2bc in it */
	KUNIT_ASSERT_EQ(test, set_pasid(&e, a, 0xabc, NULL), 0);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_L1CD(0xabc), SYNC,
			 CFGI_CD(0xabc), SYNC, CFGI_CD(0xabc), SYNC,
			 CFGI_STE, SYNC, CFGI_STE, SYNC);
	tab = e.master->cdtab;
	KUNIT_ASSERT_NOT_NULL(test, tab);
	KUNIT_ASSERT_TRUE(test, tab->two_level);
	KUNIT_ASSERT_EQ(test, tab->num, 4);
	for (i = 0; i < 4; i++) {
		KUNIT_EXPECT_EQ_MSG(test, !!tab->l2[i], i == 2, "leaf %u", i);
		KUNIT_EXPECT_EQ_MSG(test, l1cd(&e, i),
				    i == 2 ? (tab->l2_dma[2] &
					      GENMASK_ULL(51, 12)) | 1 : 0,
				    "L1CD %u", i);
	}
	KUNIT_EXPECT_EQ(test, tab->l2_dma[2] & GENMASK_ULL(11, 0), 0);
	expect_cd(&e, 0xabc, 1, TTBR_A);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(tab->l2[2][0x2bc * 8]) >> 48, 1);
	/* S1Fmt 2 (64K leaves), S1CDMax 12 */
	expect_cdtab_ste(&e, DSS_BYPASS, 2, 12, "two levels");

	/* Same leaf: only the CD. */
	KUNIT_ASSERT_EQ(test, set_pasid(&e, b, 0xabd, NULL), 0);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_CD(0xabd), SYNC,
			 CFGI_CD(0xabd), SYNC);
	expect_cd(&e, 0xabd, 2, TTBR_B);

	/* The first and the last leaf. */
	KUNIT_ASSERT_EQ(test, set_pasid(&e, b, 5, NULL), 0);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_L1CD(5), SYNC, CFGI_CD(5), SYNC,
			 CFGI_CD(5), SYNC);
	KUNIT_ASSERT_EQ(test, set_pasid(&e, a, 4095, NULL), 0);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_L1CD(4095), SYNC, CFGI_CD(4095), SYNC,
			 CFGI_CD(4095), SYNC);
	KUNIT_EXPECT_EQ(test, l1cd(&e, 0) & 1, 1);
	KUNIT_EXPECT_EQ(test, l1cd(&e, 3) & 1, 1);
	KUNIT_EXPECT_NULL(test, tab->l2[1]);
	expect_cd(&e, 5, 2, TTBR_B);
	expect_cd(&e, 4095, 1, TTBR_A);
	expect_asid(&e, a, 1, 2);
	expect_asid(&e, b, 2, 2);
	KUNIT_EXPECT_EQ(test, set_pasid(&e, a, 4096, NULL), -EINVAL);
	FAKE_EXPECT_NO_CMDS(test, e.f);

	/* Removal clears the CD; the leaf and its descriptor stay. */
	remove_pasid(&e, 0xabc, a);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_CD(0xabc), SYNC,
			 CFGI_CD(0xabc), SYNC);
	expect_cd_clear(&e, 0xabc);
	KUNIT_EXPECT_EQ(test, l1cd(&e, 2) & 1, 1);
	expect_cd(&e, 0xabd, 2, TTBR_B);
}

/* --- Release -------------------------------------------------------------- */

/*
 * The core releases a device after attaching the blocked domain to its RID
 * but without detaching its PASIDs: release removes them, flushes and
 * frees their ASIDs and gives the STE its plain form before the CD table
 * is freed.
 */
static void pasid_release(struct kunit *test)
{
	struct smmuv3_domain *a, *b;
	struct env e;

	env_init(test, &e, 0, SSID_BITS);
	a = domain(&e, SMMUV3_STAGE_1, TTBR_A);
	b = domain(&e, SMMUV3_STAGE_1, TTBR_B);
	KUNIT_ASSERT_EQ(test, attach_rid(&e, &a->domain), 0);
	KUNIT_ASSERT_EQ(test, set_pasid(&e, a, 1, NULL), 0);
	KUNIT_ASSERT_EQ(test, set_pasid(&e, b, 2, NULL), 0);
	KUNIT_ASSERT_EQ(test, attach_rid(&e, &smmuv3_blocked_domain), 0);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_CD(0), SYNC, CFGI_CD(0), SYNC,
			 CFGI_STE, SYNC, CFGI_STE, SYNC,
			 CFGI_CD(1), SYNC, CFGI_CD(1), SYNC,
			 CFGI_CD(2), SYNC, CFGI_CD(2), SYNC,
			 CFGI_STE, SYNC, CFGI_CD(0), SYNC, CFGI_CD(0), SYNC);
	expect_cdtab_ste(&e, DSS_TERMINATE, 0, SSID_BITS, "released RID");
	KUNIT_EXPECT_EQ(test, asids_used(&e), 2);

	smmuv3_release_attachments(e.master);
	FAKE_EXPECT_CMDS(test, e.f, CFGI_CD(1), SYNC, CFGI_CD(1), SYNC,
			 TLBI_ASID(1), SYNC,
			 CFGI_CD(2), SYNC, CFGI_CD(2), SYNC,
			 CFGI_STE, SYNC, CFGI_STE, SYNC, TLBI_ASID(2), SYNC);
	expect_ste(&e, STE_ABORT0, 0, "released");
	KUNIT_EXPECT_NULL(test, e.master->cdtab);
	KUNIT_EXPECT_FALSE(test, smmuv3_master_has_pasids(e.master));
	KUNIT_EXPECT_EQ(test, asids_used(&e), 0);
	expect_asid(&e, a, 0, 0);
	expect_asid(&e, b, 0, 0);
}

/* --- The STE forms -------------------------------------------------------- */

/*
 * Every change of the RID's configuration that keeps or drops the CD table
 * is hitless: the plain forms to and from the table with the same
 * behaviour for traffic without a PASID take two syncs (the table fields
 * first, then Config), a change of S1DSS alone one, or two where SHCFG
 * becomes used.
 */
static void pasid_ste_forms_hitless(struct kunit *test)
{
	__le64 abort[NQ], bypass[NQ], term[NQ], byp[NQ], ssid0[NQ];
	struct env e;

	env_init(test, &e, 0, SSID_BITS);
	KUNIT_ASSERT_EQ(test, smmuv3_cdtab_alloc(e.master), 0);
	smmuv3_ste_make_abort(abort);
	smmuv3_ste_make_bypass(bypass);
	smmuv3_ste_make_s1(term, e.master, SMMUV3_S1DSS_TERMINATE);
	smmuv3_ste_make_s1(byp, e.master, SMMUV3_S1DSS_BYPASS);
	smmuv3_ste_make_s1(ssid0, e.master, SMMUV3_S1DSS_SSID0);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(term[1]) & 3, DSS_TERMINATE);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(byp[1]), STE_S1_1 | DSS_BYPASS |
			STE_BYPASS1);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(ssid0[1]) & 3, DSS_SSID0);

	fake_check_update(test, &ste_kind, abort, term, 2, false);
	fake_check_update(test, &ste_kind, term, abort, 2, false);
	fake_check_update(test, &ste_kind, bypass, byp, 2, false);
	fake_check_update(test, &ste_kind, byp, bypass, 2, false);
	fake_check_update(test, &ste_kind, ssid0, byp, 2, false);
	fake_check_update(test, &ste_kind, byp, ssid0, 1, false);
	fake_check_update(test, &ste_kind, ssid0, term, 1, false);
	fake_check_update(test, &ste_kind, term, ssid0, 1, false);
	fake_check_update(test, &ste_kind, term, byp, 2, false);
	fake_check_update(test, &ste_kind, byp, term, 1, false);
	FAKE_EXPECT_NO_CMDS(test, e.f);
}

static struct kunit_case smmuv3_pasid_cases[] = {
	KUNIT_CASE(pasid_rid_identity),
	KUNIT_CASE(pasid_rid_blocked),
	KUNIT_CASE(pasid_rid_s1_other_domain),
	KUNIT_CASE(pasid_shares_rid_asid),
	KUNIT_CASE(pasid_rid_moves),
	KUNIT_CASE(pasid_replace),
	KUNIT_CASE(pasid_refused),
	KUNIT_CASE(pasid_none_without_substreams),
	KUNIT_CASE(pasid_rid_s2_refused),
#if SMMUV3_HAVE_VIOMMU
	KUNIT_CASE(pasid_rid_nested_refused),
#endif
	KUNIT_CASE(pasid_cdtab_2lvl),
	KUNIT_CASE(pasid_release),
	KUNIT_CASE(pasid_ste_forms_hitless),
	{}
};

static struct kunit_suite smmuv3_pasid_suite = {
	.name = "smmuv3-pasid",
	.test_cases = smmuv3_pasid_cases,
};

kunit_test_suites(&smmuv3_pasid_suite);
