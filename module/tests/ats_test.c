// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for ATS (ats.c and the attach paths of domain.c) and for
 * CANWBS (the coherency checks of domain.c, probe.c and iommufd.c).
 *
 * Fake instances (fake_smmu.h) with linear stream tables; masters are not
 * PCI devices, so the PCI capability is switched through the two functions
 * ats.c routes through (smmuv3_ats_pci_enable/disable), replaced here by
 * KUnit static stubs that record what the SMMU had received at that moment
 * and what the STE held.
 *
 * Expectations are written from IHI 0070 independently of regs.h:
 *  - STE word 0: V [0], Config [3:1] (0b000 abort, 0b100 bypass); word 1:
 *    EATS [29:28] (0b00 no ATS, 0b01 full ATS)
 *  - commands as in fake_smmu.h: TLBI_NH_VA 0x12, ATC_INV 0x40 (SSV [11],
 *    SSID [31:12], SID [63:32]; word 1 Size [5:0], Address [63:12]),
 *    CMD_SYNC 0x46.  A whole ATC is invalidated with Size 52: 2^52 4KiB
 *    pages, all 2^64 bytes; a range with 2^Size pages at an Address aligned
 *    to them.
 */
#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/iommu.h>
#include <linux/sizes.h>

#include <smmuv3/invs.h>
#include <smmuv3/smmuv3.h>

#include "fake_smmu.h"

#define FEAT		(SMMUV3_FEAT_S1 | SMMUV3_FEAT_S2 | \
			 SMMUV3_FEAT_RANGE_INV | SMMUV3_FEAT_ATS)

#define SID		3
#define SID_B		5
/* CMD_ATC_INV Size 52: a 2^64-byte span, "invalidate all" (IHI 0070 4.5.1) */
#define ATC_ALL		52
#define SYNC		FAKE_CMD_SYNC
#define ATC_RID(sid)	FAKE_ATC_INV(sid, 0, 0, ATC_ALL)

struct atc_window;
static void window_unmap(struct kunit *test, const char *step);

/* What the stubs saw when the PCI capability was switched. */
struct ats_seen {
	struct fake_smmu *f;
	unsigned int enables;
	unsigned int disables;
	int enable_ret;		/* what the PCI core's enable returns */
	u64 prod;		/* commands queued by then */
	struct fake_cmd last[2];	/* the last two of them */
	u64 ste1;		/* STE word 1 of SID then */
	u64 ste0;
	struct atc_window *window;	/* unmaps to run at each step */
};

static struct ats_seen *ats_seen(struct kunit *test)
{
	return test->priv;
}

static void ats_record(struct kunit *test, struct smmuv3_master *master)
{
	struct ats_seen *s = ats_seen(test);
	struct fake_smmu *f = s->f;

	s->prod = f->smmu.cmdq.prod;
	fake_cmd_at(f, s->prod - 2, &s->last[0]);
	fake_cmd_at(f, s->prod - 1, &s->last[1]);
	s->ste0 = le64_to_cpu(smmuv3_strtab_ste(&f->smmu, SID)[0]);
	s->ste1 = le64_to_cpu(smmuv3_strtab_ste(&f->smmu, SID)[1]);
}

static int stub_enable(struct smmuv3_master *master)
{
	struct kunit *test = kunit_get_current_test();

	ats_seen(test)->enables++;
	ats_record(test, master);
	window_unmap(test, "PCI ATS enabled");
	return ats_seen(test)->enable_ret;
}

static void stub_disable(struct smmuv3_master *master)
{
	struct kunit *test = kunit_get_current_test();

	ats_seen(test)->disables++;
	ats_record(test, master);
	window_unmap(test, "PCI ATS disabled");
}

struct env {
	struct kunit *test;
	struct fake_smmu *f;
	struct smmuv3_master *master;
};

static void env_init(struct kunit *test, struct env *e, u32 flags)
{
	static const u32 sid = SID;
	struct ats_seen *s;

	e->test = test;
	e->f = fake_smmu_create(test, "smmu0", flags, 8, 8);
	fake_smmu_add_strtab(test, e->f, 4);
	e->master = fake_master_create(test, e->f, &sid, 1);
	s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	s->f = e->f;
	test->priv = s;
	kunit_activate_static_stub(test, smmuv3_ats_pci_enable, stub_enable);
	kunit_activate_static_stub(test, smmuv3_ats_pci_disable, stub_disable);
}

static u64 ste_word(struct fake_smmu *f, u32 sid, unsigned int i)
{
	return le64_to_cpu(smmuv3_strtab_ste(&f->smmu, sid)[i]);
}

/* EATS, STE word 1 [29:28] */
static u64 eats(u64 w1)
{
	return (w1 >> 28) & 3;
}

static void skip_cmds(struct fake_smmu *f)
{
	f->seen = f->smmu.cmdq.prod;
}

/* --- The decision ---------------------------------------------------------- */

/* Only the instance, the root complex and the device together give ATS. */
static void ats_plan_all_three(struct kunit *test)
{
	unsigned int i;

	for (i = 0; i < 8; i++) {
		u32 smmu = i & 1 ? SMMUV3_FEAT_ATS : 0;
		/* IOMMU_FWSPEC_PCI_RC_ATS is bit 0 of fwspec->flags */
		u32 fw = i & 2 ? BIT(0) : 0;
		bool pci = i & 4;

		KUNIT_EXPECT_EQ_MSG(test, smmuv3_ats_plan(smmu, fw, pci), i == 7,
				    "smmu %d rc %d pci %d", !!smmu, !!fw, pci);
	}
	/* Never with forced stalls: EATS 0b01 and S2S 1 are ILLEGAL */
	KUNIT_EXPECT_FALSE(test, smmuv3_ats_plan(SMMUV3_FEAT_ATS |
						 SMMUV3_FEAT_STALLS |
						 SMMUV3_FEAT_STALL_FORCE,
						 BIT(0), true));
}

/*
 * A device that requires ATS keeps it on in the identity domain through its
 * CD table with S1DSS bypass: that takes stage 1 (SMMU_IDR0.S1P) and
 * substreams (SMMU_IDR1.SSIDSIZE > 0; S1CDMax may not exceed it, IHI 0070
 * 5.2).  Where one is missing the device is refused at probe: its first
 * attach, identity with iommu.passthrough=1, could not succeed, and the
 * iommu core then fails the whole instance's registration.
 */
static void ats_required_refused_at_probe(struct kunit *test)
{
	struct env e;

	env_init(test, &e, FEAT);
	e.f->smmu.feat.ssid_bits = 4;
	KUNIT_EXPECT_NULL(test, smmuv3_ats_refusal(&e.f->smmu, false, false));
	KUNIT_EXPECT_NULL(test, smmuv3_ats_refusal(&e.f->smmu, true, true));
	KUNIT_EXPECT_NOT_NULL_MSG(test, smmuv3_ats_refusal(&e.f->smmu, true, false),
				  "required, not usable");
	/* no substreams (SSIDSIZE 0) */
	e.f->smmu.feat.ssid_bits = 0;
	KUNIT_EXPECT_NOT_NULL_MSG(test, smmuv3_ats_refusal(&e.f->smmu, true, true),
				  "required, no substreams");
	KUNIT_EXPECT_NULL(test, smmuv3_ats_refusal(&e.f->smmu, false, true));
	/* substreams, but no stage 1 (S1P 0) */
	e.f->smmu.feat.ssid_bits = 4;
	e.f->smmu.feat.flags &= ~SMMUV3_FEAT_S1;
	KUNIT_EXPECT_NOT_NULL_MSG(test, smmuv3_ats_refusal(&e.f->smmu, true, true),
				  "required, no stage 1");
}

/*
 * Without substreams the CD table of a device that requires ATS has one
 * CD: S1CDMax 0, since S1CDMax above SMMU_IDR1.SSIDSIZE makes the STE
 * ILLEGAL (IHI 0070 5.2, C_BAD_STE).
 */
static void ats_required_cdtab_within_ssidsize(struct kunit *test)
{
	struct env e;

	env_init(test, &e, FEAT);
	e.f->smmu.feat.ssid_bits = 0;
	e.master->ats_required = true;
	KUNIT_ASSERT_EQ(test, smmuv3_cdtab_alloc(e.master), 0);
	KUNIT_EXPECT_EQ(test, e.master->cdtab->s1cdmax, 0);
}

/* --- STE.EATS -------------------------------------------------------------- */

/*
 * EATS is 0b01 in the STE of a translating RID exactly when the device has
 * ATS; never in a bypass or abort STE.
 */
static void ats_eats_only_when_enabled(struct kunit *test)
{
	struct env e;
	struct smmuv3_domain *s1, *s2;

	env_init(test, &e, FEAT);
	s1 = fake_domain_on(test, e.f, SMMUV3_STAGE_1);
	s2 = fake_domain_on(test, e.f, SMMUV3_STAGE_2);

	/* Without ATS support: no EATS, nothing switched. */
	KUNIT_ASSERT_EQ(test, fake_attach(e.master, &s1->domain), 0);
	KUNIT_EXPECT_EQ(test, eats(ste_word(e.f, SID, 1)), 0);
	KUNIT_EXPECT_FALSE(test, e.master->ats_enabled);
	KUNIT_EXPECT_EQ(test, ats_seen(test)->enables, 0);
	KUNIT_ASSERT_EQ(test, fake_attach(e.master, &smmuv3_blocked_domain), 0);

	e.master->ats_supported = true;
	KUNIT_ASSERT_EQ(test, fake_attach(e.master, &s1->domain), 0);
	KUNIT_EXPECT_EQ(test, eats(ste_word(e.f, SID, 1)), 1);
	KUNIT_EXPECT_TRUE(test, e.master->ats_enabled);
	KUNIT_EXPECT_EQ(test, ats_seen(test)->enables, 1);

	/* Stage 2 keeps it, without switching the capability again. */
	KUNIT_ASSERT_EQ(test, fake_attach(e.master, &s2->domain), 0);
	KUNIT_EXPECT_EQ(test, eats(ste_word(e.f, SID, 1)), 1);
	KUNIT_EXPECT_EQ(test, ats_seen(test)->enables, 1);
	KUNIT_EXPECT_EQ(test, ats_seen(test)->disables, 0);

	/* Identity: a bypass STE (V, Config 0b100) without EATS. */
	KUNIT_ASSERT_EQ(test, fake_attach(e.master, &smmuv3_identity_domain), 0);
	KUNIT_EXPECT_EQ(test, ste_word(e.f, SID, 0), 0x9);
	KUNIT_EXPECT_EQ(test, eats(ste_word(e.f, SID, 1)), 0);
	KUNIT_EXPECT_FALSE(test, e.master->ats_enabled);
	KUNIT_EXPECT_EQ(test, ats_seen(test)->disables, 1);
}

/* --- Order of the walk ----------------------------------------------------- */

/*
 * A domain shared by two instances, one ATS device behind each: the array
 * holds each instance's TLB tag before its ATC entry, and a walk
 * invalidates, on each instance, the TLB, waits, then the ATC.  The RID's
 * ATC entries are invalidated without SSV.
 */
static void ats_atc_after_tlb_per_instance(struct kunit *test)
{
	static const u32 sid_a = SID, sid_b = SID_B;
	struct smmuv3_master *ma, *mb;
	struct smmuv3_domain *d;
	struct smmuv3_invs *invs;
	struct fake_smmu *f[2];
	struct ats_seen *s;

	fake_smmus_create_sorted(test, f, 2, FEAT, 8, 8);
	fake_smmu_add_strtab(test, f[0], 4);
	fake_smmu_add_strtab(test, f[1], 4);
	/* f[1] takes f[0]'s table: it must offer its page sizes */
	f[0]->smmu.feat.pgsize_bitmap = FAKE_PGSIZES;
	f[1]->smmu.feat.pgsize_bitmap = FAKE_PGSIZES;
	ma = fake_master_create(test, f[0], &sid_a, 1);
	mb = fake_master_create(test, f[1], &sid_b, 1);
	ma->ats_supported = true;
	mb->ats_supported = true;
	s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	s->f = f[0];
	test->priv = s;
	kunit_activate_static_stub(test, smmuv3_ats_pci_enable, stub_enable);

	d = fake_domain_on(test, f[0], SMMUV3_STAGE_1);
	KUNIT_ASSERT_EQ(test, fake_attach(ma, &d->domain), 0);
	s->f = f[1];
	KUNIT_ASSERT_EQ(test, fake_attach(mb, &d->domain), 0);

	invs = fake_domain_invs(d);
	KUNIT_ASSERT_EQ(test, invs->num, 4);
	KUNIT_EXPECT_TRUE(test, fake_invs_has_ats(invs));
	KUNIT_EXPECT_PTR_EQ(test, invs->inv[0].smmu, &f[0]->smmu);
	KUNIT_EXPECT_EQ(test, invs->inv[0].type, SMMUV3_INV_S1_ASID);
	KUNIT_EXPECT_EQ(test, invs->inv[1].type, SMMUV3_INV_ATS);
	KUNIT_EXPECT_EQ(test, invs->inv[1].id, SID);
	KUNIT_EXPECT_PTR_EQ(test, invs->inv[2].smmu, &f[1]->smmu);
	KUNIT_EXPECT_EQ(test, invs->inv[2].type, SMMUV3_INV_S1_ASID);
	KUNIT_EXPECT_EQ(test, invs->inv[3].type, SMMUV3_INV_ATS);
	KUNIT_EXPECT_EQ(test, invs->inv[3].id, SID_B);

	skip_cmds(f[0]);
	skip_cmds(f[1]);
	smmuv3_domain_inv_range(d, 0x1000, SZ_4K, SZ_4K, true);
	/* ASID 1 on each instance (its first) */
	/* The ATC's page 0x1000 alone: Address 0x1000, Size 0 */
	FAKE_EXPECT_CMDS(test, f[0], FAKE_TLBI_NH_VA_TTL(1, 0x1000, 0, 0, 1, 3, 1),
			 SYNC, FAKE_ATC_INV_RANGE(SID, 0, 0, 0x1000, 0), SYNC);
	FAKE_EXPECT_CMDS(test, f[1], FAKE_TLBI_NH_VA_TTL(1, 0x1000, 0, 0, 1, 3, 1),
			 SYNC, FAKE_ATC_INV_RANGE(SID_B, 0, 0, 0x1000, 0), SYNC);
}

/* --- Switching the capability ------------------------------------------------ */

/*
 * ATS on: the STE has EATS, then the whole ATC is invalidated and waited
 * for, then the capability is enabled.
 */
static void ats_enable_after_ste_and_atc_inv(struct kunit *test)
{
	const struct fake_cmd inv = ATC_RID(SID), sync = SYNC;
	struct smmuv3_domain *d;
	struct ats_seen *s;
	struct env e;

	env_init(test, &e, FEAT);
	s = ats_seen(test);
	e.master->ats_supported = true;
	d = fake_domain_on(test, e.f, SMMUV3_STAGE_1);
	KUNIT_ASSERT_EQ(test, fake_attach(e.master, &d->domain), 0);
	KUNIT_ASSERT_EQ(test, s->enables, 1);
	KUNIT_EXPECT_EQ(test, eats(s->ste1), 1);
	KUNIT_EXPECT_EQ(test, s->last[0].w0, inv.w0);
	KUNIT_EXPECT_EQ(test, s->last[0].w1, inv.w1);
	KUNIT_EXPECT_EQ(test, s->last[1].w0, sync.w0);
	/* nothing after it */
	KUNIT_EXPECT_EQ(test, s->prod, e.f->smmu.cmdq.prod);
}

/*
 * pci_enable_ats() can fail (the PCI core refuses an STU or a device whose
 * capability changed under it): the device then has no ATS, so the master
 * must not count as ATS-enabled, and the next attach with ATS tries the
 * capability again.
 */
static void ats_enable_failure_not_recorded(struct kunit *test)
{
	struct smmuv3_domain *d, *d2;
	struct ats_seen *s;
	struct env e;

	env_init(test, &e, FEAT);
	s = ats_seen(test);
	s->enable_ret = -EINVAL;
	e.master->ats_supported = true;
	d = fake_domain_on(test, e.f, SMMUV3_STAGE_1);
	KUNIT_ASSERT_EQ(test, fake_attach(e.master, &d->domain), 0);
	KUNIT_EXPECT_EQ(test, s->enables, 1);
	KUNIT_EXPECT_FALSE_MSG(test, e.master->ats_enabled,
			       "ATS recorded on after pci_enable_ats() failed");
	s->enable_ret = 0;
	d2 = fake_domain_on(test, e.f, SMMUV3_STAGE_1);
	KUNIT_ASSERT_EQ(test, fake_attach(e.master, &d2->domain), 0);
	KUNIT_EXPECT_EQ_MSG(test, s->enables, 2,
			    "the next attach with ATS enables the capability");
	KUNIT_EXPECT_TRUE(test, e.master->ats_enabled);
}

/* Position of the first command equal to @cmd at or after @from, or -1. */
static s64 find_cmd(const struct fake_smmu *f, u64 from,
		    const struct fake_cmd *cmd)
{
	struct fake_cmd c;

	for (; from < f->smmu.cmdq.prod; from++) {
		fake_cmd_at(f, from, &c);
		if (c.w0 == cmd->w0 && c.w1 == cmd->w1)
			return from;
	}
	return -1;
}

/*
 * ATS off on detach, in the order of the kernel's driver: the capability
 * is disabled while the STE still translates with EATS (the device stops
 * sending translation requests before the SMMU would answer them with
 * Unsupported Request), then the STE aborts (CFGI_STE), then the whole ATC
 * is invalidated and waited for; after that the old domain's walks reach
 * the ATC no more.
 */
static void ats_disable_before_ste(struct kunit *test)
{
	const struct fake_cmd inv = ATC_RID(SID), sync = SYNC;
	const struct fake_cmd cfgi = FAKE_CFGI_STE(SID);
	struct smmuv3_domain *d;
	struct fake_cmd next;
	struct ats_seen *s;
	s64 p_cfgi, p_inv;
	struct env e;

	env_init(test, &e, FEAT);
	s = ats_seen(test);
	e.master->ats_supported = true;
	d = fake_domain_on(test, e.f, SMMUV3_STAGE_1);
	KUNIT_ASSERT_EQ(test, fake_attach(e.master, &d->domain), 0);
	KUNIT_ASSERT_EQ(test, fake_attach(e.master, &smmuv3_blocked_domain), 0);

	KUNIT_ASSERT_EQ(test, s->disables, 1);
	/* V, Config 0b101 (stage 1), EATS 0b01: the STE was not switched yet */
	KUNIT_EXPECT_EQ(test, s->ste0 & 0xf, 0xb);
	KUNIT_EXPECT_EQ(test, eats(s->ste1), 1);
	KUNIT_EXPECT_EQ(test, ste_word(e.f, SID, 0), 0x1);	/* abort now */
	p_cfgi = find_cmd(e.f, s->prod, &cfgi);
	p_inv = find_cmd(e.f, s->prod, &inv);
	KUNIT_EXPECT_GE_MSG(test, p_cfgi, 0, "no CFGI_STE after the disable");
	KUNIT_EXPECT_GT_MSG(test, p_inv, p_cfgi,
			    "no whole-ATC ATC_INV after the STE switch");
	if (p_inv >= 0) {
		fake_cmd_at(e.f, p_inv + 1, &next);
		KUNIT_EXPECT_EQ(test, next.w0, sync.w0);
	}
	KUNIT_EXPECT_FALSE(test, e.master->ats_enabled);

	skip_cmds(e.f);
	smmuv3_domain_inv_all(d);
	FAKE_EXPECT_NO_CMDS(test, e.f);
}

/*
 * PASIDs turn ATS on whatever the RID's domain, and carry ATC entries: a
 * PASID attached while the RID is identity makes the STE (the CD table,
 * S1DSS bypass) answer translation requests, and once the RID moves to a
 * paging domain, a walk of the PASID's domain still invalidates the
 * device's ATC for that PASID (SSV = 1, SSID 5) after its TLB.
 */
static void ats_pasid_keeps_atc_entries(struct kunit *test)
{
	static const u32 sid = SID;
	const struct fake_cmd inv = FAKE_ATC_INV(SID, 5, 1, ATC_ALL);
	const struct fake_cmd sync = SYNC;
	struct iommu_domain *blocked;
	struct smmuv3_domain *p, *r;
	struct fake_cmd last[2];
	struct ats_seen *s;
	struct env e;

	e.test = test;
	e.f = fake_smmu_create(test, "smmu0", FEAT, 8, 8);
	e.f->smmu.feat.ssid_bits = 4;
	fake_smmu_add_strtab(test, e.f, 4);
	e.master = fake_master_create(test, e.f, &sid, 1);
	e.master->ats_supported = true;
	s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	s->f = e.f;
	test->priv = s;
	kunit_activate_static_stub(test, smmuv3_ats_pci_enable, stub_enable);
	kunit_activate_static_stub(test, smmuv3_ats_pci_disable, stub_disable);

	KUNIT_ASSERT_EQ(test, fake_attach(e.master, &smmuv3_identity_domain), 0);
	KUNIT_EXPECT_EQ(test, s->enables, 0);
	p = fake_domain_on(test, e.f, SMMUV3_STAGE_1);
	KUNIT_ASSERT_EQ(test, p->domain.ops->set_dev_pasid(&p->domain,
							   e.master->dev, 5,
							   NULL), 0);
	KUNIT_EXPECT_EQ(test, s->enables, 1);
	/* V, Config 0b101 (stage 1, the CD table), EATS 0b01 */
	KUNIT_EXPECT_EQ(test, ste_word(e.f, SID, 0) & 0xf, 0xb);
	KUNIT_EXPECT_EQ(test, eats(ste_word(e.f, SID, 1)), 1);

	r = fake_domain_on(test, e.f, SMMUV3_STAGE_1);
	KUNIT_ASSERT_EQ(test, fake_attach(e.master, &r->domain), 0);
	KUNIT_EXPECT_EQ(test, s->enables, 1);
	KUNIT_EXPECT_TRUE(test, e.master->ats_enabled);

	skip_cmds(e.f);
	smmuv3_domain_inv_all(p);
	fake_cmd_at(e.f, e.f->smmu.cmdq.prod - 2, &last[0]);
	fake_cmd_at(e.f, e.f->smmu.cmdq.prod - 1, &last[1]);
	KUNIT_EXPECT_EQ(test, last[0].w0, inv.w0);
	KUNIT_EXPECT_EQ(test, last[0].w1, inv.w1);
	KUNIT_EXPECT_EQ(test, last[1].w0, sync.w0);

	blocked = &smmuv3_blocked_domain;
	KUNIT_ASSERT_EQ(test, blocked->ops->set_dev_pasid(blocked,
							  e.master->dev, 5,
							  &p->domain), 0);
}

/* --- The ATC across a switch of domains -------------------------------------- */

/*
 * Until a device's ATC has been flushed after its STE switched, it may hold
 * translations of the domain it leaves: every unmap on that domain must
 * still send the device an ATC_INV (opcode 0x40, StreamID [63:32] of word
 * 0).  The steps of the switch are visited through the stubs: the PCI
 * capability switched, and the ATC flush itself (smmuv3_atc_inv_master(),
 * which the window stubs; the unmap runs before the flush is sent).
 */
struct atc_window {
	struct fake_smmu *f;
	struct smmuv3_domain *old;
	bool open;		/* the switch has not flushed the ATC yet */
	unsigned int unmaps;	/* unmaps run on @old inside the window */
	unsigned int reached;	/* of them, those with an ATC_INV for SID */
};

/* An unmap of one page on the old domain: did it reach the device's ATC? */
static void window_unmap(struct kunit *test, const char *step)
{
	struct atc_window *w = ats_seen(test)->window;
	unsigned int atc = 0;
	struct fake_cmd cmd;
	u64 pos;

	if (!w || !w->open)
		return;
	pos = w->f->smmu.cmdq.prod;
	smmuv3_domain_inv_range(w->old, 0x1000, SZ_4K, SZ_4K, true);
	for (; pos < w->f->smmu.cmdq.prod; pos++) {
		fake_cmd_at(w->f, pos, &cmd);
		if ((cmd.w0 & 0xff) == 0x40 && cmd.w0 >> 32 == SID)
			atc++;
	}
	w->unmaps++;
	if (atc)
		w->reached++;
	KUNIT_EXPECT_GT_MSG(test, atc, 0,
			    "an unmap on the old domain before the ATC flush (%s) sent no ATC_INV to SID %#x",
			    step, SID);
}

static int stub_atc_inv(struct smmuv3_master *master, u32 ssid)
{
	struct kunit *test = kunit_get_current_test();
	struct atc_window *w = ats_seen(test)->window;
	int ret;

	window_unmap(test, "ATC flush");
	kunit_deactivate_static_stub(test, smmuv3_atc_inv_master);
	ret = smmuv3_atc_inv_master(master, ssid);
	kunit_activate_static_stub(test, smmuv3_atc_inv_master, stub_atc_inv);
	/* The first whole-ATC flush of the switch closes the window. */
	if (!ssid)
		w->open = false;
	return ret;
}

/* Where the device with ATS goes from a stage-1 domain. */
enum window_to { TO_S1, TO_S2, TO_IDENTITY, TO_BLOCKED };

static void ats_window(struct kunit *test, enum window_to to)
{
	struct atc_window *w;
	struct smmuv3_domain *from;
	struct iommu_domain *dom;
	struct env e;

	env_init(test, &e, FEAT);
	e.master->ats_supported = true;
	from = fake_domain_on(test, e.f, SMMUV3_STAGE_1);
	KUNIT_ASSERT_EQ(test, fake_attach(e.master, &from->domain), 0);
	KUNIT_ASSERT_TRUE(test, e.master->ats_enabled);

	switch (to) {
	case TO_S1:
		dom = &fake_domain_on(test, e.f, SMMUV3_STAGE_1)->domain;
		break;
	case TO_S2:
		dom = &fake_domain_on(test, e.f, SMMUV3_STAGE_2)->domain;
		break;
	case TO_IDENTITY:
		dom = &smmuv3_identity_domain;
		break;
	default:
		dom = &smmuv3_blocked_domain;
		break;
	}
	w = kunit_kzalloc(test, sizeof(*w), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, w);
	w->f = e.f;
	w->old = from;
	w->open = true;
	ats_seen(test)->window = w;
	kunit_activate_static_stub(test, smmuv3_atc_inv_master, stub_atc_inv);

	/* Before the switch the old domain reaches the ATC, of course. */
	window_unmap(test, "before the switch");
	KUNIT_ASSERT_EQ(test, fake_attach(e.master, dom), 0);
	KUNIT_EXPECT_FALSE_MSG(test, w->open, "the switch never flushed the ATC");
	/* Before, and at least one step of the switch itself. */
	KUNIT_EXPECT_GE(test, w->unmaps, 2);
	KUNIT_EXPECT_EQ(test, w->reached, w->unmaps);
	kunit_deactivate_static_stub(test, smmuv3_atc_inv_master);

	/* Once the ATC is flushed, the old domain, left empty, sends nothing. */
	skip_cmds(e.f);
	smmuv3_domain_inv_range(from, 0x1000, SZ_4K, SZ_4K, true);
	FAKE_EXPECT_NO_CMDS(test, e.f);
}

static void ats_window_to_s1(struct kunit *test)
{
	ats_window(test, TO_S1);
}

static void ats_window_to_s2(struct kunit *test)
{
	ats_window(test, TO_S2);
}

static void ats_window_to_identity(struct kunit *test)
{
	ats_window(test, TO_IDENTITY);
}

static void ats_window_to_blocked(struct kunit *test)
{
	ats_window(test, TO_BLOCKED);
}

/* --- Devices that require ATS ---------------------------------------------- */

/*
 * A device that requires ATS (pci_ats_required(); the fake sets the flag
 * probe would) keeps ATS on the identity domain: its STE is a stage-1 one
 * through its CD table with S1DSS bypass and EATS (IHI 0070 13.6.4, "Full
 * ATS skipping stage 1"), as the kernel's driver makes it:
 *  - word 0: V [0] 1, Config [3:1] 0b101, S1Fmt [5:4] 0 (linear),
 *    S1ContextPtr [51:6] the table, S1CDMax [63:59] 1 (two CDs: with 0 the
 *    SMMU would ignore S1DSS);
 *  - word 1: S1DSS [1:0] 0b01 (bypass), S1CIR [3:2] and S1COR [5:4] 0b01
 *    (write-back read-allocate), S1CSH [7:6] 0b11 (inner shareable), EATS
 *    [29:28] 0b01, STRW [31:30] 0 (EL1), SHCFG [45:44] 0b01 (incoming, as a
 *    bypass STE has it): 0x1000100000d5.
 * The ATC is invalidated whole before the capability is enabled.  The
 * blocked domain gets the plain aborting STE (V, Config 0b000) and ATS
 * off; back on identity ATS comes back.
 */
static void ats_required_identity(struct kunit *test)
{
	const struct fake_cmd inv = ATC_RID(SID), sync = SYNC;
	struct ats_seen *s;
	struct env e;
	u64 w0;

	env_init(test, &e, FEAT);
	e.f->smmu.feat.ssid_bits = 4;
	s = ats_seen(test);
	e.master->ats_supported = true;
	e.master->ats_required = true;

	KUNIT_ASSERT_EQ(test, fake_attach(e.master, &smmuv3_identity_domain), 0);
	w0 = ste_word(e.f, SID, 0);
	KUNIT_EXPECT_EQ_MSG(test, w0 & 0x3f, 0xb, "V, Config, S1Fmt: %#llx", w0);
	KUNIT_EXPECT_NE_MSG(test, w0 & 0x000fffffffffffc0ULL, 0,
			    "S1ContextPtr: %#llx", w0);
	KUNIT_EXPECT_EQ_MSG(test, w0 >> 59, 1, "S1CDMax: %#llx", w0);
	KUNIT_EXPECT_EQ(test, ste_word(e.f, SID, 1), 0x1000100000d5ULL);
	KUNIT_EXPECT_TRUE(test, e.master->ats_enabled);
	KUNIT_ASSERT_EQ(test, s->enables, 1);
	KUNIT_EXPECT_EQ(test, eats(s->ste1), 1);
	KUNIT_EXPECT_EQ(test, s->last[0].w0, inv.w0);
	KUNIT_EXPECT_EQ(test, s->last[0].w1, inv.w1);
	KUNIT_EXPECT_EQ(test, s->last[1].w0, sync.w0);

	KUNIT_ASSERT_EQ(test, fake_attach(e.master, &smmuv3_blocked_domain), 0);
	KUNIT_EXPECT_EQ(test, ste_word(e.f, SID, 0), 0x1);
	KUNIT_EXPECT_EQ(test, ste_word(e.f, SID, 1), 0);
	KUNIT_EXPECT_FALSE(test, e.master->ats_enabled);
	KUNIT_EXPECT_EQ(test, s->disables, 1);

	KUNIT_ASSERT_EQ(test, fake_attach(e.master, &smmuv3_identity_domain), 0);
	KUNIT_EXPECT_EQ(test, ste_word(e.f, SID, 1), 0x1000100000d5ULL);
	KUNIT_EXPECT_EQ(test, s->enables, 2);
}

/*
 * The last PASID of an identity RID leaves: a device that requires ATS
 * keeps the CD table STE with S1DSS bypass and ATS, where another gets
 * its plain bypass STE back.
 */
static void ats_required_identity_last_pasid(struct kunit *test)
{
	struct iommu_domain *blocked = &smmuv3_blocked_domain;
	struct smmuv3_domain *p;
	struct env e;

	env_init(test, &e, FEAT);
	e.f->smmu.feat.ssid_bits = 4;
	e.master->ssid_bits = 4;
	e.master->ats_supported = true;
	e.master->ats_required = true;

	KUNIT_ASSERT_EQ(test, fake_attach(e.master, &smmuv3_identity_domain), 0);
	p = fake_domain_on(test, e.f, SMMUV3_STAGE_1);
	KUNIT_ASSERT_EQ(test, p->domain.ops->set_dev_pasid(&p->domain,
							   e.master->dev, 5,
							   NULL), 0);
	KUNIT_ASSERT_EQ(test, blocked->ops->set_dev_pasid(blocked,
							  e.master->dev, 5,
							  &p->domain), 0);
	KUNIT_EXPECT_EQ(test, ste_word(e.f, SID, 0) & 0xf, 0xb);
	KUNIT_EXPECT_EQ(test, ste_word(e.f, SID, 1), 0x1000100000d5ULL);
	KUNIT_EXPECT_TRUE(test, e.master->ats_enabled);
	KUNIT_EXPECT_EQ(test, ats_seen(test)->disables, 0);
}

/*
 * Without substreams the identity STE could not have EATS: the attach
 * fails with -EOPNOTSUPP and leaves the STE as it was, rather than run
 * the device without ATS.
 */
static void ats_required_identity_no_ssid(struct kunit *test)
{
	struct env e;

	env_init(test, &e, FEAT);
	e.master->ats_supported = true;
	e.master->ats_required = true;
	KUNIT_ASSERT_EQ(test, fake_attach(e.master, &smmuv3_blocked_domain), 0);
	KUNIT_EXPECT_EQ(test, fake_attach(e.master, &smmuv3_identity_domain),
			-EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, ste_word(e.f, SID, 0), 0x1);
	KUNIT_EXPECT_FALSE(test, e.master->ats_enabled);
	KUNIT_EXPECT_EQ(test, ats_seen(test)->enables, 0);
}

/* --- debugfs ----------------------------------------------------------------- */

/* The per-master line of the instance's "streams" file. */
static void ats_describe_line(struct kunit *test)
{
	char buf[64];
	struct env e;

	env_init(test, &e, FEAT);
	e.f->smmu.feat.pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G;
	smmuv3_ats_describe(e.master, buf, sizeof(buf));
	KUNIT_EXPECT_STREQ(test, buf,
			   "ats supported 0 enabled 0 required 0 stu -");
	e.master->ats_supported = true;
	e.master->ats_required = true;
	KUNIT_ASSERT_EQ(test, fake_attach(e.master, &smmuv3_blocked_domain), 0);
	smmuv3_ats_describe(e.master, buf, sizeof(buf));
	KUNIT_EXPECT_STREQ(test, buf,
			   "ats supported 1 enabled 0 required 1 stu 12");
	e.f->smmu.feat.ssid_bits = 4;
	KUNIT_ASSERT_EQ(test, fake_attach(e.master, &smmuv3_identity_domain), 0);
	smmuv3_ats_describe(e.master, buf, sizeof(buf));
	KUNIT_EXPECT_STREQ(test, buf,
			   "ats supported 1 enabled 1 required 1 stu 12");
}

/* --- CANWBS ------------------------------------------------------------------ */

/* Give a fake master a fwspec with these flags. */
static void set_fwspec(struct kunit *test, struct smmuv3_master *m, u32 flags)
{
	struct iommu_fwspec *fw = kunit_kzalloc(test, sizeof(*fw), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, fw);
	fw->flags = flags;
	m->dev->iommu->fwspec = fw;
}

/* IOMMU_FWSPEC_PCI_RC_CANWBS is bit 1 of fwspec->flags (Linux 6.14+). */
#define FW_CANWBS	BIT(1)
#define ENFORCE_CC	IOMMU_CAP_ENFORCE_CACHE_COHERENCY
#define VIOMMU_TYPE	IOMMU_VIOMMU_TYPE_ARM_SMMUV3

/*
 * IOMMU_CAP_ENFORCE_CACHE_COHERENCY follows CANWBS; a domain enforces
 * coherency only while every device attached has it, and then refuses
 * others.
 */
static void canwbs_enforce(struct kunit *test)
{
	static const u32 sid_b = SID_B;
	struct smmuv3_master *other;
	struct smmuv3_domain *d;
	struct env e;

	if (!SMMUV3_FWSPEC_CANWBS)
		kunit_skip(test, "the kernel has no IOMMU_FWSPEC_PCI_RC_CANWBS");
	env_init(test, &e, FEAT);
	other = fake_master_create(test, e.f, &sid_b, 1);
	set_fwspec(test, e.master, FW_CANWBS);
	set_fwspec(test, other, 0);
	KUNIT_EXPECT_TRUE(test, smmuv3_ops.capable(e.master->dev, ENFORCE_CC));
	KUNIT_EXPECT_FALSE(test, smmuv3_ops.capable(other->dev, ENFORCE_CC));

	d = fake_domain_on(test, e.f, SMMUV3_STAGE_2);
	KUNIT_ASSERT_EQ(test, fake_attach(other, &d->domain), 0);
	KUNIT_EXPECT_FALSE(test, d->domain.ops->enforce_cache_coherency(&d->domain));
	KUNIT_ASSERT_EQ(test, fake_attach(other, &smmuv3_blocked_domain), 0);

	KUNIT_ASSERT_EQ(test, fake_attach(e.master, &d->domain), 0);
	KUNIT_EXPECT_TRUE(test, d->domain.ops->enforce_cache_coherency(&d->domain));
	KUNIT_EXPECT_EQ(test, fake_attach(other, &d->domain), -EINVAL);
}

#if SMMUV3_HAVE_VIOMMU && IS_ENABLED(CONFIG_IOMMUFD_DRIVER_CORE)
/*
 * On an instance with nesting but without S2FWB, a vIOMMU is offered for a
 * device with CANWBS, not for one without (viommu_assume_coherent off).
 */
static void canwbs_viommu_admission(struct kunit *test)
{
	static const u32 sid_b = SID_B;
	bool saved = smmuv3_viommu_assume_coherent;
	struct smmuv3_master *other;
	struct env e;

	if (!SMMUV3_FWSPEC_CANWBS)
		kunit_skip(test, "the kernel has no IOMMU_FWSPEC_PCI_RC_CANWBS");
	env_init(test, &e, SMMUV3_FEAT_NESTING);
	other = fake_master_create(test, e.f, &sid_b, 1);
	set_fwspec(test, e.master, FW_CANWBS);
	set_fwspec(test, other, 0);

	smmuv3_viommu_assume_coherent = false;
	KUNIT_EXPECT_GT(test, smmuv3_get_viommu_size(e.master->dev, VIOMMU_TYPE),
			0);
	KUNIT_EXPECT_EQ(test, smmuv3_get_viommu_size(other->dev, VIOMMU_TYPE),
			0);
	/* With S2FWB, both. */
	e.f->smmu.feat.flags |= SMMUV3_FEAT_S2FWB;
	KUNIT_EXPECT_GT(test, smmuv3_get_viommu_size(other->dev, VIOMMU_TYPE),
			0);
	smmuv3_viommu_assume_coherent = saved;
}
#endif

static struct kunit_case smmuv3_ats_cases[] = {
	KUNIT_CASE(ats_plan_all_three),
	KUNIT_CASE(ats_required_refused_at_probe),
	KUNIT_CASE(ats_required_cdtab_within_ssidsize),
	KUNIT_CASE(ats_eats_only_when_enabled),
	KUNIT_CASE(ats_atc_after_tlb_per_instance),
	KUNIT_CASE(ats_enable_after_ste_and_atc_inv),
	KUNIT_CASE(ats_enable_failure_not_recorded),
	KUNIT_CASE(ats_disable_before_ste),
	KUNIT_CASE(ats_pasid_keeps_atc_entries),
	KUNIT_CASE(ats_window_to_s1),
	KUNIT_CASE(ats_window_to_s2),
	KUNIT_CASE(ats_window_to_identity),
	KUNIT_CASE(ats_window_to_blocked),
	KUNIT_CASE(ats_required_identity),
	KUNIT_CASE(ats_required_identity_last_pasid),
	KUNIT_CASE(ats_required_identity_no_ssid),
	KUNIT_CASE(ats_describe_line),
	KUNIT_CASE(canwbs_enforce),
#if SMMUV3_HAVE_VIOMMU && IS_ENABLED(CONFIG_IOMMUFD_DRIVER_CORE)
	KUNIT_CASE(canwbs_viommu_admission),
#endif
	{}
};

static struct kunit_suite smmuv3_ats_suite = {
	.name = "smmuv3-ats",
	.test_cases = smmuv3_ats_cases,
};

kunit_test_suites(&smmuv3_ats_suite);
