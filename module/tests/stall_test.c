// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the stall model (stall.c and its uses in domain.c,
 * ste.c and cd.c), on fake instances (fake_smmu.h).
 *
 * Fields, from IHI 0070 independently of regs.h:
 *  - CD word 0: S [44]
 *  - STE word 1: S1STALLD [27]; word 2: S2S [57]
 *  - event record word 0: event ID [7:0], SID [63:32]; word 1: STAG
 *    [15:0], Stall [31]
 *  - CMD_RESUME 0x44: Response [13:12] (0b00 terminate, 0b01 retry, 0b10
 *    abort), SID [63:32]; word 1 STAG [15:0].  CMD_STALL_TERM 0x45: SID
 *    [63:32].  CMD_SYNC 0x46.
 */
#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/iommu.h>
#include <linux/sizes.h>

#include <smmuv3/smmuv3.h>

#include "fake_smmu.h"

#define FEAT		(SMMUV3_FEAT_S1 | SMMUV3_FEAT_S2 | SMMUV3_FEAT_RANGE_INV)
#define SID		3

#define CD0_S		BIT_ULL(44)
#define STE1_S1STALLD	BIT_ULL(27)
#define STE2_S2S	BIT_ULL(57)

static struct smmuv3_master *stall_master(struct kunit *test, u32 flags,
					  struct fake_smmu **fp)
{
	static const u32 sid = SID;
	struct smmuv3_master *m;
	struct fake_smmu *f;

	f = fake_smmu_create(test, "smmu0", FEAT | flags, 8, 8);
	fake_smmu_add_strtab(test, f, 4);
	m = fake_master_create(test, f, &sid, 1);
	smmuv3_stall_probe(m);
	*fp = f;
	return m;
}

static u64 ste_word(struct fake_smmu *f, unsigned int i)
{
	return le64_to_cpu(smmuv3_strtab_ste(&f->smmu, SID)[i]);
}

struct model_case {
	const char *what;
	u32 flags;
	bool cd_s;		/* CD.S of a stage-1 domain's CD */
	bool s1stalld;		/* STE.S1STALLD of its STE */
	bool s2s;		/* STE.S2S of a stage-2 domain's STE */
};

static const struct model_case model_cases[] = {
	{ "no stalls (0b01)", 0, false, false, false },
	{ "optional stalls (0b00), kept off", SMMUV3_FEAT_STALLS,
	  false, true, false },
	{ "forced stalls (0b10)", SMMUV3_FEAT_STALL_FORCE, true, false, true },
};

static void model_desc(const struct model_case *c, char *desc)
{
	strscpy(desc, c->what, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(model, model_cases, model_desc);

/* CD.S, STE.S1STALLD and STE.S2S agree with the instance's stall model. */
static void stall_fields_per_model(struct kunit *test)
{
	const struct model_case *c = test->param_value;
	struct smmuv3_master *m;
	struct fake_smmu *f;
	__le64 *cd;

	m = stall_master(test, c->flags, &f);
	KUNIT_ASSERT_EQ(test, fake_attach(m, &fake_domain_on(test, f, SMMUV3_STAGE_1)->domain),
			0);
	/* One CD (no substreams): a linear table */
	KUNIT_ASSERT_NOT_NULL(test, m->cdtab);
	KUNIT_ASSERT_FALSE(test, m->cdtab->two_level);
	cd = m->cdtab->cds;
	KUNIT_EXPECT_EQ(test, !!(le64_to_cpu(cd[0]) & CD0_S), c->cd_s);
	KUNIT_EXPECT_EQ(test, !!(ste_word(f, 1) & STE1_S1STALLD), c->s1stalld);

	KUNIT_ASSERT_EQ(test, fake_attach(m, &fake_domain_on(test, f, SMMUV3_STAGE_2)->domain),
			0);
	KUNIT_EXPECT_EQ(test, !!(ste_word(f, 2) & STE2_S2S), c->s2s);
	KUNIT_EXPECT_FALSE(test, ste_word(f, 1) & STE1_S1STALLD);
}

/* A stalled fault is aborted with CMD_RESUME; others are not answered. */
static void stall_event_resumed(struct kunit *test)
{
	/* F_TRANSLATION (0x10), SID 0x42; Stall, STAG 0x1234 */
	const u64 stalled[4] = { 0x10 | 0x42ull << 32, BIT_ULL(31) | 0x1234,
				 0x5000, 0 };
	const u64 plain[4] = { 0x10 | 0x42ull << 32, 0x1234, 0x5000, 0 };
	struct fake_smmu *f = fake_smmu_create(test, "smmu0",
					       FEAT | SMMUV3_FEAT_STALL_FORCE,
					       8, 8);

	smmuv3_stall_event(&f->smmu, plain);
	FAKE_EXPECT_NO_CMDS(test, f);
	smmuv3_stall_event(&f->smmu, stalled);
	/* RESUME, Response abort (0b10 << 12), no CMD_SYNC needed */
	FAKE_EXPECT_CMDS(test, f,
			 { 0x44 | 2ull << 12 | 0x42ull << 32, 0x1234 });
}

/*
 * A stage-1 domain attached to a new master, then the blocked domain:
 * returns the command queue position the detach started at.
 */
static u64 stall_attach_then_block(struct kunit *test, u32 flags,
				   struct fake_smmu **fp)
{
	struct smmuv3_master *m = stall_master(test, flags, fp);
	struct fake_smmu *f = *fp;
	u64 start;

	KUNIT_ASSERT_EQ(test, fake_attach(m, &fake_domain_on(test, f, SMMUV3_STAGE_1)->domain),
			0);
	start = f->smmu.cmdq.prod;
	KUNIT_ASSERT_EQ(test, fake_attach(m, &smmuv3_blocked_domain), 0);
	return start;
}

/*
 * Detaching a device whose faults stall terminates what is still stalled
 * on its streams, after its STE changed: STALL_TERM, then CMD_SYNC.
 */
static void stall_term_on_detach(struct kunit *test)
{
	const struct fake_cmd term = { 0x45 | (u64)SID << 32, 0 };
	const struct fake_cmd cfgi = FAKE_CFGI_STE(SID);
	struct fake_smmu *f;
	u64 pos, start, last_cfgi = 0, term_at = 0;
	struct fake_cmd c;

	start = stall_attach_then_block(test, SMMUV3_FEAT_STALL_FORCE, &f);
	for (pos = start; pos < f->smmu.cmdq.prod; pos++) {
		fake_cmd_at(f, pos, &c);
		if (c.w0 == cfgi.w0 && c.w1 == cfgi.w1)
			last_cfgi = pos;
		if (c.w0 == term.w0 && c.w1 == term.w1 && !term_at)
			term_at = pos;
	}
	KUNIT_ASSERT_NE_MSG(test, term_at, 0, "no STALL_TERM");
	KUNIT_EXPECT_GT(test, term_at, last_cfgi);
	fake_cmd_at(f, term_at + 1, &c);
	KUNIT_EXPECT_EQ(test, c.w0, 0x46);

	/* Without stalls, nothing is terminated. */
	start = stall_attach_then_block(test, SMMUV3_FEAT_STALLS, &f);
	for (pos = start; pos < f->smmu.cmdq.prod; pos++) {
		fake_cmd_at(f, pos, &c);
		KUNIT_EXPECT_NE(test, c.w0 & 0xff, 0x45);
	}
}

/* GERROR (0x60) and GERRORN (0x64), as 32-bit words; EVTQ_ABT_ERR is bit 2 */
#define GERROR_WORD		(0x60 / 4)
#define GERROR_EVTQ_ABT_ERR	BIT(2)

/* A probed master with streams IDS, in the instance's tree of streams. */
static struct smmuv3_master *stall_tree_master(struct kunit *test,
					       struct fake_smmu *f,
					       const char *name, const u32 *ids,
					       unsigned int num)
{
	struct smmuv3_master *m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, m);
	m->smmu = &f->smmu;
	m->dev = kunit_device_register(test, name);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, m->dev);
	KUNIT_ASSERT_EQ(test, smmuv3_master_add_streams(m, ids, num), 0);
	smmuv3_stall_probe(m);
	return m;
}

/*
 * A write abort of the event queue on an instance with FLAGS and two
 * masters (streams 3, and 9 and 12); returns the commands' instance.
 */
static struct fake_smmu *stall_lost_records(struct kunit *test, u32 flags,
					    const char *const *names,
					    struct smmuv3_master **m)
{
	static const u32 one[] = { SID }, two[] = { 12, 9 };
	struct fake_smmu *f;

	f = fake_smmu_create(test, "smmu0", FEAT | flags, 8, 8);
	fake_smmu_add_strtab(test, f, 4);
	m[0] = stall_tree_master(test, f, names[0], one, ARRAY_SIZE(one));
	m[1] = stall_tree_master(test, f, names[1], two, ARRAY_SIZE(two));
	FAKE_EXPECT_NO_CMDS(test, f);
	f->regs[GERROR_WORD] = GERROR_EVTQ_ABT_ERR;
	smmuv3_handle_gerror(&f->smmu);
	flush_work(&f->smmu.stall_work);
	return f;
}

/* STALL_TERM of streams 3, 9 and 12 (SID [63:32]), in order, then CMD_SYNC. */
static void expect_all_terminated(struct kunit *test, struct fake_smmu *f)
{
	FAKE_EXPECT_CMDS(test, f,
			 { 0x45 | (u64)SID << 32, 0 },
			 { 0x45 | 9ull << 32, 0 },
			 { 0x45 | 12ull << 32, 0 },
			 FAKE_CMD_SYNC);
}

static void stall_del_masters(struct smmuv3_master **m)
{
	smmuv3_master_del_streams(m[0]);
	smmuv3_master_del_streams(m[1]);
}

/*
 * A stall whose event record the SMMU could not write has nothing to
 * answer it: every stream of every master with stalls is terminated, in
 * stream ID order, then one CMD_SYNC.  Without forced stalls, nothing.
 */
static void stall_term_after_lost_records(struct kunit *test)
{
	static const char *const forced[] = { "forced-a", "forced-b" };
	static const char *const optional[] = { "optional-a", "optional-b" };
	struct smmuv3_master *m[2];
	struct fake_smmu *f;

	f = stall_lost_records(test, SMMUV3_FEAT_STALL_FORCE, forced, m);
	expect_all_terminated(test, f);
	stall_del_masters(m);

	f = stall_lost_records(test, SMMUV3_FEAT_STALLS, optional, m);
	FAKE_EXPECT_NO_CMDS(test, f);
	stall_del_masters(m);
}

/* Once an instance's stall work is stopped (removal), nothing is queued. */
static void stall_term_none_after_stop(struct kunit *test)
{
	static const char *const names[] = { "stopped-a", "stopped-b" };
	struct smmuv3_master *m[2];
	struct fake_smmu *f;

	f = stall_lost_records(test, SMMUV3_FEAT_STALL_FORCE, names, m);
	expect_all_terminated(test, f);
	smmuv3_stall_stop(&f->smmu);
	f->regs[GERROR_WORD] ^= GERROR_EVTQ_ABT_ERR;
	smmuv3_handle_gerror(&f->smmu);
	flush_work(&f->smmu.stall_work);
	FAKE_EXPECT_NO_CMDS(test, f);
	stall_del_masters(m);
}

static struct kunit_case smmuv3_stall_cases[] = {
	KUNIT_CASE_PARAM(stall_fields_per_model, model_gen_params),
	KUNIT_CASE(stall_event_resumed),
	KUNIT_CASE(stall_term_on_detach),
	KUNIT_CASE(stall_term_after_lost_records),
	KUNIT_CASE(stall_term_none_after_stop),
	{}
};

static struct kunit_suite smmuv3_stall_suite = {
	.name = "smmuv3-stall",
	.test_cases = smmuv3_stall_cases,
};

kunit_test_suites(&smmuv3_stall_suite);
