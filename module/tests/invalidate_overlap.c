// SPDX-License-Identifier: GPL-2.0-only
/*
 * Invalidation of one domain shared by several instances whose CMD_SYNCs
 * take time to complete, as on hardware (QEMU's SMMU completes commands
 * inside the PROD write, so there every wait is free):
 *
 * - suite smmuv3-inv-overlap: the order of commands on each instance, as
 *   the architecture requires it, while the driver overlaps instances;
 * - suite smmuv3-inv-bench: a benchmark (figures printed, nothing timed is
 *   asserted) of the invalidation of one domain on 1, 2, 4 and 8
 *   instances, waiting for the instances one after another or overlapped.
 *
 * The instances are fakes (fake_smmu.h) with a CONS register of their own,
 * played here: an instance sees new commands (a PROD beyond its CONS) at
 * the first poll of any instance after they were queued, and completes
 * them, all at once, LAT_NS nanoseconds later (at a later poll; in the
 * benchmark, bench_latency_ns[i]: a module parameter, one value per
 * instance, the last repeated).  New commands that arrive while some are
 * pending start their own wait once those completed.  Commands are not
 * executed: they stay in the ring to be checked.  An instance may also
 * reject a command (recorded as the driver's CMDQ_ERR handler records it)
 * or wedge (complete nothing more, ever).
 *
 * Ordering rules checked at every poll, on the commands an instance has
 * not completed yet (opcodes from IHI 0070 4.1.1, written out):
 *
 * - CMD_ATC_INV (0x40) behind a TLB invalidation (0x10-0x30): an ATC must
 *   be invalidated only after the SMMU's TLB invalidation has completed
 *   (a CMD_SYNC after it completed), else a translation request may refill
 *   the ATC from the stale TLB entry (IHI 0070 3.9.1, ATS invalidation);
 * - CMD_TLBI_NH_ALL (0x10) behind a CMD_TLBI_S2_IPA (0x2a): the stage-1
 *   entries of a nested VMID are invalidated only after its stage-2
 *   invalidation has completed, else they may be rebuilt from the old
 *   stage 2.
 *
 * A command the driver issued but never waited for stays pending: every
 * test also checks that nothing is pending when the invalidation returns
 * and that every CMD_SYNC completed.
 */
#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/ktime.h>
#include <linux/moduleparam.h>
#include <linux/sizes.h>
#include <linux/sort.h>

#include <smmuv3/invs.h>
#include <smmuv3/smmuv3.h>

#include "fake_smmu.h"

#define BENCH_MAX	8

static unsigned long bench_latency_ns[BENCH_MAX] = { 2000 };
static unsigned int bench_latency_num = 1;
module_param_array(bench_latency_ns, ulong, &bench_latency_num, 0644);
MODULE_PARM_DESC(bench_latency_ns,
		 "CMD_SYNC completion latency of each fake instance of the smmuv3-inv-bench suite, in ns (the last value repeats)");

/* More instances than the driver has in flight (8): a window must slide. */
#define LAT_MAX		10
/* The driver's SMMUV3_INV_INFLIGHT */
#define LAT_INFLIGHT	8
/* The latency of the order suite: fixed, whatever the module parameter. */
#define LAT_NS		2000

/* Opcodes, IHI 0070 4.1.1 */
#define OP_TLBI_NH_ALL	0x10
#define OP_TLBI_NH_VA	0x12
#define OP_TLBI_FIRST	0x10
#define OP_TLBI_LAST	0x30	/* CMD_TLBI_NSNH_ALL */
#define OP_TLBI_S2_IPA	0x2a
#define OP_ATC_INV	0x40
#define OP_SYNC		0x46

#define FEAT_RIL	(SMMUV3_FEAT_S1 | SMMUV3_FEAT_S2 | SMMUV3_FEAT_RANGE_INV)
#define PGSIZES_4K	(SZ_4K | SZ_2M | SZ_1G)

/**
 * struct lat_smmu - a fake instance whose commands complete after a delay
 * @f: the instance
 * @cons_reg: its CONS register (index and wrap)
 * @cons: commands completed (absolute)
 * @seen: commands it has seen queued (absolute)
 * @busy_to: the pending commands end here (absolute): @cons < @busy_to
 *	while some are pending
 * @busy_since: when they were seen
 * @latency: ns from seeing commands to completing them
 * @syncs: CMD_SYNCs completed
 * @atc_early: ATC_INVs seen behind an incomplete TLB invalidation
 * @nh_all_early: TLBI_NH_ALLs seen behind an incomplete TLBI_S2_IPA
 * @at_first_poll: commands queued when the first poll of any instance came
 * @at_atc_done: commands queued when the first ATC_INV of any instance
 *	completed
 * @polls: the driver polled its CONS
 * @fail_op: the first command with this opcode is rejected (0: none)
 * @stall_op: it wedges when it sees a command with this opcode (0: none)
 * @stalled: it is wedged: it completes nothing any more
 */
struct lat_smmu {
	struct fake_smmu *f;
	u32 cons_reg;
	u64 cons;
	u64 seen;
	u64 busy_to;
	ktime_t busy_since;
	u64 latency;
	u64 syncs;
	unsigned int atc_early;
	unsigned int nh_all_early;
	u64 at_first_poll;
	u64 at_atc_done;
	u64 polls;
	u8 fail_op;
	u8 stall_op;
	bool stalled;
};

/**
 * struct lat_rig - the instances of one test case (its test->priv)
 * @num: instances
 * @polled: some instance was polled since lat_rig_mark()
 * @atc_done: an ATC_INV completed on some instance
 * @s: the instances, in array order
 */
struct lat_rig {
	unsigned int num;
	bool polled;
	bool atc_done;
	struct lat_smmu s[LAT_MAX];
};

static u32 lat_mask(const struct lat_smmu *s)
{
	return (2U << s->f->smmu.cmdq.q.log2size) - 1;
}

/* Absolute PROD, from the register the driver writes. */
static u64 lat_prod(const struct lat_smmu *s)
{
	return s->cons + ((READ_ONCE(s->f->q_reg) - (u32)s->cons) &
			  lat_mask(s));
}

static u8 lat_op(const struct lat_smmu *s, u64 pos)
{
	struct fake_cmd cmd;

	fake_cmd_at(s->f, pos, &cmd);
	return cmd.w0 & 0xff;
}

/* Check the commands queued since the last look against the rules. */
static void lat_check(struct lat_smmu *s, u64 prod)
{
	bool tlbi = false, s2 = false;
	u64 pos;

	for (pos = s->cons; pos < prod; pos++) {
		u8 op = lat_op(s, pos);

		if (pos >= s->seen && op == OP_ATC_INV && tlbi)
			s->atc_early++;
		if (pos >= s->seen && op == OP_TLBI_NH_ALL && s2)
			s->nh_all_early++;
		if (pos >= s->seen && s->stall_op && op == s->stall_op)
			s->stalled = true;
		tlbi |= op >= OP_TLBI_FIRST && op <= OP_TLBI_LAST;
		s2 |= op == OP_TLBI_S2_IPA;
	}
	s->seen = prod;
}

/*
 * The SMMU rejected the command at @pos: record it as the driver's CMDQ_ERR
 * handler does (smmuv3_cmdq.err_pos, then err_seq, under its lock), so
 * that a wait on a ticket holding it fails with -EIO.
 */
static void lat_reject(struct lat_smmu *s, u64 pos)
{
	struct smmuv3_cmdq *cmdq = &s->f->smmu.cmdq;
	unsigned long flags;

	raw_spin_lock_irqsave(&cmdq->lock, flags);
	cmdq->err_pos[cmdq->err_seq % SMMUV3_CMDQ_ERR_RING] = pos;
	WRITE_ONCE(cmdq->err_seq, cmdq->err_seq + 1);
	raw_spin_unlock_irqrestore(&cmdq->lock, flags);
	/* the fake's own count, checked against err_seq */
	s->f->rejected++;
}

/* Take one look at every instance's queue when an ATC_INV first completes. */
static void lat_atc_done(struct lat_rig *rig)
{
	unsigned int i;

	if (rig->atc_done)
		return;
	rig->atc_done = true;
	for (i = 0; i < rig->num; i++)
		rig->s[i].at_atc_done = lat_prod(&rig->s[i]);
}

/* Bring one instance up to @now. */
static void lat_run(struct lat_rig *rig, struct lat_smmu *s, ktime_t now)
{
	u64 prod = lat_prod(s), pos;

	if (prod != s->seen)
		lat_check(s, prod);
	if (s->cons < s->busy_to && !s->stalled &&
	    (u64)ktime_to_ns(ktime_sub(now, s->busy_since)) >= s->latency) {
		for (pos = s->cons; pos < s->busy_to; pos++) {
			u8 op = lat_op(s, pos);

			s->syncs += op == OP_SYNC;
			if (op == OP_ATC_INV)
				lat_atc_done(rig);
			if (s->fail_op && op == s->fail_op) {
				lat_reject(s, pos);
				s->fail_op = 0;
			}
		}
		s->cons = s->busy_to;
		WRITE_ONCE(s->cons_reg, s->cons & lat_mask(s));
	}
	if (s->cons == s->busy_to && prod > s->cons) {
		s->busy_to = prod;
		s->busy_since = now;
	}
}

/* The driver polls a CONS: every instance moves on meanwhile. */
static void lat_idle(struct smmuv3_device *smmu)
{
	struct lat_rig *rig = kunit_get_current_test()->priv;
	ktime_t now = ktime_get();
	unsigned int i;

	for (i = 0; i < rig->num && !rig->polled; i++)
		rig->s[i].at_first_poll = lat_prod(&rig->s[i]);
	rig->polled = true;
	for (i = 0; i < rig->num; i++) {
		if (&rig->s[i].f->smmu == smmu)
			rig->s[i].polls++;
		lat_run(rig, &rig->s[i], now);
	}
}

/* @num instances; their latency is bench_latency_ns, or 0 with @no_wait. */
static struct lat_rig *lat_rig_create_bench(struct kunit *test,
					    unsigned int num, bool no_wait)
{
	struct fake_smmu *f[LAT_MAX];
	struct lat_rig *rig;
	unsigned int i;

	KUNIT_ASSERT_LE(test, num, LAT_MAX);
	rig = kunit_kzalloc(test, sizeof(*rig), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, rig);
	fake_smmus_create_sorted(test, f, num, FEAT_RIL, 16, 8);
	rig->num = num;
	for (i = 0; i < num; i++) {
		struct lat_smmu *s = &rig->s[i];
		unsigned int l = min(i, bench_latency_num - 1);

		s->f = f[i];
		s->latency = bench_latency_num && !no_wait ?
			     bench_latency_ns[l] : 0;
		s->cons = f[i]->smmu.cmdq.prod;
		s->seen = s->cons;
		s->busy_to = s->cons;
		s->cons_reg = f[i]->q_reg;
		f[i]->smmu.cmdq.q.cons_reg =
			(u32 __iomem __force *)&s->cons_reg;
	}
	test->priv = rig;
	kunit_activate_static_stub(test, smmuv3_cmdq_idle, lat_idle);
	return rig;
}

/* @num instances with a latency of LAT_NS. */
static struct lat_rig *lat_rig_create(struct kunit *test, unsigned int num)
{
	struct lat_rig *rig = lat_rig_create_bench(test, num, true);
	unsigned int i;

	for (i = 0; i < num; i++)
		rig->s[i].latency = LAT_NS;
	return rig;
}

/* Forget the first poll, to look at the next invalidation's. */
static void lat_rig_mark(struct lat_rig *rig)
{
	rig->polled = false;
}

/* Nothing pending, no rule broken, no timeout on any instance. */
static void lat_expect_clean(struct kunit *test, struct lat_rig *rig)
{
	unsigned int i;

	for (i = 0; i < rig->num; i++) {
		struct lat_smmu *s = &rig->s[i];
		const char *name = s->f->smmu.name;

		KUNIT_EXPECT_EQ_MSG(test, s->cons, s->f->smmu.cmdq.prod,
				    "%s: commands never waited for", name);
		KUNIT_EXPECT_EQ_MSG(test, s->atc_early, 0,
				    "%s: ATC_INV issued before the TLB invalidation completed",
				    name);
		KUNIT_EXPECT_EQ_MSG(test, s->nh_all_early, 0,
				    "%s: TLBI_NH_ALL issued before the stage-2 invalidation completed",
				    name);
		KUNIT_EXPECT_EQ_MSG(test,
				    atomic64_read(&s->f->smmu.cmdq.timeouts), 0,
				    "%s: command queue timeouts", name);
	}
}

static struct smmuv3_domain *lat_domain(struct kunit *test,
					enum smmuv3_stage stage,
					const struct smmuv3_inv *inv,
					unsigned int num)
{
	struct smmuv3_domain *domain;

	domain = fake_domain_create(test, stage, PGSIZES_4K);
	fake_domain_set_invs(domain, fake_invs(test, inv, num));
	return domain;
}

/* --- Order (smmuv3-inv-overlap) ------------------------------------------- */

/*
 * Three instances, each with an ASID and an ATC entry (smmu1 two of them),
 * invalidated by range and whole: on each, the TLB invalidation and its
 * CMD_SYNC, completed before the ATC_INVs are issued, and their own
 * CMD_SYNC, completed before the call returns.
 */
static void overlap_atc_after_tlb_sync(struct kunit *test)
{
	struct lat_rig *rig = lat_rig_create(test, 3);
	struct fake_smmu *f0 = rig->s[0].f, *f1 = rig->s[1].f;
	struct fake_smmu *f2 = rig->s[2].f;
	struct smmuv3_domain *domain;
	const struct smmuv3_inv inv[] = {
		FAKE_INV(f0, SMMUV3_INV_S1_ASID, 5, 0, 1),
		FAKE_INV(f0, SMMUV3_INV_ATS_FULL, 0x10, 0, 1),
		FAKE_INV(f1, SMMUV3_INV_S1_ASID, 6, 0, 1),
		FAKE_INV(f1, SMMUV3_INV_ATS_FULL, 0x20, 0, 1),
		FAKE_INV(f1, SMMUV3_INV_ATS_FULL, 0x21, 0, 1),
		FAKE_INV(f2, SMMUV3_INV_S1_ASID, 7, 0, 1),
		FAKE_INV(f2, SMMUV3_INV_ATS_FULL, 0x30, 0, 1),
	};

	domain = lat_domain(test, SMMUV3_STAGE_1, inv, ARRAY_SIZE(inv));

	/* one page: VA 0x1000, a range of one 4K page (TG 1) at level 3 */
	smmuv3_domain_inv_range(domain, 0x1000, SZ_4K, SZ_4K, true);
	lat_expect_clean(test, rig);
	/* ATC_INV Size 52: the whole ATC (IHI 0070 4.5.1) */
	FAKE_EXPECT_CMDS(test, f0,
			 FAKE_TLBI_NH_VA_TTL(5, 0x1000, 0, 0, 1, 3, 1),
			 FAKE_CMD_SYNC, FAKE_ATC_INV(0x10, 0, 0, 52),
			 FAKE_CMD_SYNC);
	FAKE_EXPECT_CMDS(test, f1,
			 FAKE_TLBI_NH_VA_TTL(6, 0x1000, 0, 0, 1, 3, 1),
			 FAKE_CMD_SYNC, FAKE_ATC_INV(0x20, 0, 0, 52),
			 FAKE_ATC_INV(0x21, 0, 0, 52), FAKE_CMD_SYNC);
	FAKE_EXPECT_CMDS(test, f2,
			 FAKE_TLBI_NH_VA_TTL(7, 0x1000, 0, 0, 1, 3, 1),
			 FAKE_CMD_SYNC, FAKE_ATC_INV(0x30, 0, 0, 52),
			 FAKE_CMD_SYNC);

	smmuv3_domain_inv_all(domain);
	lat_expect_clean(test, rig);
	FAKE_EXPECT_CMDS(test, f0, FAKE_TLBI_NH_ASID(5), FAKE_CMD_SYNC,
			 FAKE_ATC_INV(0x10, 0, 0, 52), FAKE_CMD_SYNC);
	FAKE_EXPECT_CMDS(test, f1, FAKE_TLBI_NH_ASID(6), FAKE_CMD_SYNC,
			 FAKE_ATC_INV(0x20, 0, 0, 52),
			 FAKE_ATC_INV(0x21, 0, 0, 52), FAKE_CMD_SYNC);
	FAKE_EXPECT_CMDS(test, f2, FAKE_TLBI_NH_ASID(7), FAKE_CMD_SYNC,
			 FAKE_ATC_INV(0x30, 0, 0, 52), FAKE_CMD_SYNC);
	KUNIT_EXPECT_EQ(test, rig->s[0].syncs, 4);
	KUNIT_EXPECT_EQ(test, rig->s[1].syncs, 4);
	KUNIT_EXPECT_EQ(test, rig->s[2].syncs, 4);
}

/*
 * A nesting parent on two instances, each with a vIOMMU's VMID: the
 * stage-1 clean-up (TLBI_NH_ALL of the VMID) of each instance is issued
 * only after its stage-2 invalidation completed.  2M at 2M: 512 pages of
 * 4K, one range command with SCALE 9, NUM 0, TG 1.
 */
static struct smmuv3_domain *lat_nesting_parent(struct kunit *test,
						struct lat_rig *rig)
{
	struct fake_smmu *f0 = rig->s[0].f, *f1 = rig->s[1].f;
	const struct smmuv3_inv inv[] = {
		FAKE_INV(f0, SMMUV3_INV_S2_VMID, 9, 0, 1),
		FAKE_INV(f0, SMMUV3_INV_S2_VMID_S1_CLEAR, 11, 0, 1),
		FAKE_INV(f0, SMMUV3_INV_ATS_FULL, 0x10, 0, 1),
		FAKE_INV(f1, SMMUV3_INV_S2_VMID_S1_CLEAR, 12, 0, 1),
	};

	return lat_domain(test, SMMUV3_STAGE_2, inv, ARRAY_SIZE(inv));
}

static void overlap_s1_clear_after_s2_sync(struct kunit *test)
{
	struct lat_rig *rig = lat_rig_create(test, 2);
	struct fake_smmu *f0 = rig->s[0].f, *f1 = rig->s[1].f;
	struct smmuv3_domain *domain = lat_nesting_parent(test, rig);

	smmuv3_domain_inv_range(domain, 0x200000, SZ_2M, SZ_2M, false);
	lat_expect_clean(test, rig);
	FAKE_EXPECT_CMDS(test, f0,
			 FAKE_TLBI_S2_IPA(9, 0x200000, 0, 9, 1, 0),
			 FAKE_TLBI_S2_IPA(11, 0x200000, 0, 9, 1, 0),
			 FAKE_CMD_SYNC, FAKE_TLBI_NH_ALL(11), FAKE_CMD_SYNC,
			 FAKE_ATC_INV(0x10, 0, 0, 52), FAKE_CMD_SYNC);
	FAKE_EXPECT_CMDS(test, f1,
			 FAKE_TLBI_S2_IPA(12, 0x200000, 0, 9, 1, 0),
			 FAKE_CMD_SYNC, FAKE_TLBI_NH_ALL(12), FAKE_CMD_SYNC);
	KUNIT_EXPECT_EQ(test, rig->s[0].syncs, 3);
	KUNIT_EXPECT_EQ(test, rig->s[1].syncs, 2);
}

/*
 * Overlap: when the driver first waits, every instance already holds its
 * TLB invalidation and CMD_SYNC (two commands), for 2 and for 8
 * instances; and the walk still waits for every one of them.
 */
static void overlap_issues_before_waiting(struct kunit *test)
{
	struct smmuv3_inv inv[LAT_INFLIGHT];
	struct smmuv3_domain *domain;
	struct lat_rig *rig;
	unsigned int i;

	rig = lat_rig_create(test, LAT_INFLIGHT);
	for (i = 0; i < LAT_INFLIGHT; i++)
		inv[i] = FAKE_INV(rig->s[i].f, SMMUV3_INV_S1_ASID, 5 + i, 0, 1);
	domain = lat_domain(test, SMMUV3_STAGE_1, inv, 2);

	smmuv3_domain_inv_all(domain);
	for (i = 0; i < 2; i++)
		KUNIT_EXPECT_EQ_MSG(test, rig->s[i].at_first_poll, 2,
				    "smmu%u: commands queued at the first wait",
				    i);
	lat_expect_clean(test, rig);

	fake_domain_set_invs(domain, fake_invs(test, inv, LAT_INFLIGHT));
	lat_rig_mark(rig);
	smmuv3_domain_inv_all(domain);
	for (i = 0; i < LAT_INFLIGHT; i++) {
		KUNIT_EXPECT_EQ_MSG(test, rig->s[i].at_first_poll,
				    i < 2 ? 4 : 2,
				    "smmu%u: commands queued at the first wait",
				    i);
		KUNIT_EXPECT_EQ(test, rig->s[i].syncs, i < 2 ? 2 : 1);
	}
	lat_expect_clean(test, rig);
}

/*
 * Nine instances, one more than the driver has in flight: smmu0 has an ATC
 * entry too (a second step, after its TLB invalidation completed), the
 * others one ASID each.  Once smmu1 is done, its place goes to smmu8: smmu8
 * does not wait for the slowest of the first eight (smmu0's ATC step).
 */
static void overlap_window_slides(struct kunit *test)
{
	struct smmuv3_inv inv[LAT_MAX + 1];
	struct smmuv3_domain *domain;
	struct lat_rig *rig;
	unsigned int i, n = 9;

	rig = lat_rig_create(test, n);
	inv[0] = FAKE_INV(rig->s[0].f, SMMUV3_INV_S1_ASID, 5, 0, 1);
	inv[1] = FAKE_INV(rig->s[0].f, SMMUV3_INV_ATS_FULL, 0x10, 0, 1);
	for (i = 1; i < n; i++)
		inv[i + 1] = FAKE_INV(rig->s[i].f, SMMUV3_INV_S1_ASID, 5 + i,
				      0, 1);
	domain = lat_domain(test, SMMUV3_STAGE_1, inv, n + 1);

	smmuv3_domain_inv_all(domain);
	lat_expect_clean(test, rig);
	/* TLBI_NH_ASID and CMD_SYNC already queued on smmu8 */
	KUNIT_EXPECT_EQ_MSG(test, rig->s[8].at_atc_done, 2,
			    "smmu8: commands queued when smmu0's ATC_INV completed");
	FAKE_EXPECT_CMDS(test, rig->s[0].f, FAKE_TLBI_NH_ASID(5),
			 FAKE_CMD_SYNC, FAKE_ATC_INV(0x10, 0, 0, 52),
			 FAKE_CMD_SYNC);
	for (i = 1; i < n; i++) {
		FAKE_EXPECT_CMDS(test, rig->s[i].f, FAKE_TLBI_NH_ASID(5 + i),
				 FAKE_CMD_SYNC);
		KUNIT_EXPECT_EQ(test, rig->s[i].syncs, 1);
	}
}

/*
 * A TLB invalidation by address that the SMMU rejected did not complete:
 * the ATC must not be invalidated behind it (the device could refill from
 * the stale TLB entry), nor the stage-1 entries of a nested VMID behind
 * its stage-2 invalidation.  The walk of that instance ends there; the
 * retry invalidates each tag whole, then the ATC.  smmu1 is unaffected.
 * The nesting parent of overlap_s1_clear_after_s2_sync(); smmu0 rejects
 * its first TLBI_S2_IPA.
 */
static void overlap_failed_step_ends_walk(struct kunit *test)
{
	struct lat_rig *rig = lat_rig_create(test, 2);
	struct fake_smmu *f0 = rig->s[0].f, *f1 = rig->s[1].f;
	struct smmuv3_domain *domain = lat_nesting_parent(test, rig);

	rig->s[0].fail_op = OP_TLBI_S2_IPA;
	smmuv3_domain_inv_range(domain, 0x200000, SZ_2M, SZ_2M, false);
	lat_expect_clean(test, rig);
	/* retry: TLBI_S12_VMALL (0x28) of each VMID, then the ATC */
	FAKE_EXPECT_CMDS(test, f0,
			 FAKE_TLBI_S2_IPA(9, 0x200000, 0, 9, 1, 0),
			 FAKE_TLBI_S2_IPA(11, 0x200000, 0, 9, 1, 0),
			 FAKE_CMD_SYNC, FAKE_TLBI_S12_VMALL(9),
			 FAKE_TLBI_S12_VMALL(11), FAKE_CMD_SYNC,
			 FAKE_ATC_INV(0x10, 0, 0, 52), FAKE_CMD_SYNC);
	FAKE_EXPECT_CMDS(test, f1,
			 FAKE_TLBI_S2_IPA(12, 0x200000, 0, 9, 1, 0),
			 FAKE_CMD_SYNC, FAKE_TLBI_NH_ALL(12), FAKE_CMD_SYNC);
	KUNIT_EXPECT_EQ(test, atomic64_read(&f0->smmu.cmdq.inv_failures), 1);
	KUNIT_EXPECT_EQ(test, atomic64_read(&f1->smmu.cmdq.inv_failures), 0);
}

/*
 * smmu0 rejects the range command, and its queue wedges at its first
 * ATC_INV (an ATS invalidation that never completes): one timeout, and
 * nothing more goes to that queue once it timed out.
 */
static void overlap_no_retry_when_stuck(struct kunit *test)
{
	struct lat_rig *rig = lat_rig_create(test, 1);
	struct fake_smmu *f0 = rig->s[0].f;
	struct smmuv3_domain *domain;
	const struct smmuv3_inv inv[] = {
		FAKE_INV(f0, SMMUV3_INV_S1_ASID, 5, 0, 1),
		FAKE_INV(f0, SMMUV3_INV_ATS_FULL, 0x10, 0, 1),
	};
	struct fake_cmd cmd;
	u64 prod;

	domain = lat_domain(test, SMMUV3_STAGE_1, inv, ARRAY_SIZE(inv));
	rig->s[0].fail_op = OP_TLBI_NH_VA;
	rig->s[0].stall_op = OP_ATC_INV;

	smmuv3_domain_inv_range(domain, 0x1000, SZ_4K, SZ_4K, true);
	KUNIT_EXPECT_EQ(test, atomic64_read(&f0->smmu.cmdq.timeouts), 1);
	/* the last commands queued: the ATC_INV that wedged it, its CMD_SYNC */
	prod = f0->smmu.cmdq.prod;
	KUNIT_ASSERT_GE(test, prod, 2);
	fake_cmd_at(f0, prod - 2, &cmd);
	KUNIT_EXPECT_EQ_MSG(test, cmd.w0 & 0xff, OP_ATC_INV,
			    "commands queued after the queue timed out");
}

/*
 * With SMMUV3_OPT_CMDQ_FORCE_SYNC, a batch goes out with a CMD_SYNC every
 * 63 commands.  63 ATC_INVs of SubstreamIDs 1 to 63 and a CMD_SYNC are
 * queued when SubstreamID 0x100000 (wider than the 20-bit field, IHI 0070
 * 4.5.1) fails the batch.  That CMD_SYNC was issued: it completes before
 * the invalidation returns (the retry's too).
 */
static void overlap_failed_batch_waits_partial(struct kunit *test)
{
	struct lat_rig *rig = lat_rig_create(test, 1);
	struct fake_smmu *f0 = rig->s[0].f;
	struct smmuv3_inv inv[64];
	struct smmuv3_domain *domain;
	unsigned int i;

	for (i = 0; i < 63; i++)
		inv[i] = FAKE_INV(f0, SMMUV3_INV_ATS, 0x10, i + 1, 1);
	inv[63] = FAKE_INV(f0, SMMUV3_INV_ATS, 0x10, 0x100000, 1);
	f0->smmu.options |= SMMUV3_OPT_CMDQ_FORCE_SYNC;
	domain = lat_domain(test, SMMUV3_STAGE_1, inv, ARRAY_SIZE(inv));

	smmuv3_domain_inv_range(domain, 0x1000, SZ_4K, SZ_4K, true);
	KUNIT_EXPECT_EQ(test, f0->smmu.cmdq.prod, 2 * 64);
	KUNIT_EXPECT_EQ_MSG(test, rig->s[0].cons, f0->smmu.cmdq.prod,
			    "CMD_SYNC issued, never waited for");
	KUNIT_EXPECT_EQ(test, rig->s[0].syncs, 2);
	KUNIT_EXPECT_EQ(test, atomic64_read(&f0->smmu.cmdq.timeouts), 0);
}

/*
 * smmu0 and smmu1 never complete anything: both time out, together: when
 * smmu0's wait gives up, smmu1's (issued at the same time) is over too,
 * without polling on for a timeout of its own.  smmu2 is unaffected.
 */
static void overlap_stuck_share_deadline(struct kunit *test)
{
	struct lat_rig *rig = lat_rig_create(test, 3);
	struct smmuv3_domain *domain;
	struct smmuv3_inv inv[3];
	unsigned int i;

	for (i = 0; i < 3; i++)
		inv[i] = FAKE_INV(rig->s[i].f, SMMUV3_INV_S1_ASID, 5 + i, 0, 1);
	domain = lat_domain(test, SMMUV3_STAGE_1, inv, 3);
	rig->s[0].stalled = true;
	rig->s[1].stalled = true;

	smmuv3_domain_inv_all(domain);
	KUNIT_EXPECT_EQ(test, atomic64_read(&rig->s[0].f->smmu.cmdq.timeouts),
			1);
	KUNIT_EXPECT_EQ(test, atomic64_read(&rig->s[1].f->smmu.cmdq.timeouts),
			1);
	KUNIT_EXPECT_EQ_MSG(test, rig->s[1].polls, 0,
			    "smmu1 polled after the deadline it shares with smmu0");
	KUNIT_EXPECT_EQ(test, rig->s[2].cons, rig->s[2].f->smmu.cmdq.prod);
	KUNIT_EXPECT_EQ(test, rig->s[2].syncs, 1);
}

static struct kunit_case smmuv3_inv_overlap_cases[] = {
	KUNIT_CASE(overlap_atc_after_tlb_sync),
	KUNIT_CASE(overlap_s1_clear_after_s2_sync),
	KUNIT_CASE(overlap_issues_before_waiting),
	KUNIT_CASE(overlap_window_slides),
	KUNIT_CASE(overlap_failed_step_ends_walk),
	KUNIT_CASE(overlap_failed_batch_waits_partial),
	KUNIT_CASE_SLOW(overlap_no_retry_when_stuck),
	KUNIT_CASE_SLOW(overlap_stuck_share_deadline),
	{}
};

static struct kunit_suite smmuv3_inv_overlap_suite = {
	.name = "smmuv3-inv-overlap",
	.test_cases = smmuv3_inv_overlap_cases,
};

/* --- Benchmark (smmuv3-inv-bench) ----------------------------------------- */

#define BENCH_ROUNDS	5
#define BENCH_INVS	200

static int bench_cmp(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * ns per invalidation of one 4K page, median of BENCH_ROUNDS rounds of
 * BENCH_INVS: of each domain of @doms in turn.
 */
static u64 bench_run(struct smmuv3_domain **doms, unsigned int num_doms)
{
	u64 t[BENCH_ROUNDS];
	unsigned int r, k, d;

	for (r = 0; r < BENCH_ROUNDS; r++) {
		u64 start = ktime_get_ns();

		for (k = 0; k < BENCH_INVS; k++)
			for (d = 0; d < num_doms; d++)
				smmuv3_domain_inv_range(doms[d], 0x1000,
							SZ_4K, SZ_4K, true);
		t[r] = (ktime_get_ns() - start) / BENCH_INVS;
	}
	sort(t, BENCH_ROUNDS, sizeof(t[0]), bench_cmp, NULL);
	return t[BENCH_ROUNDS / 2];
}

/*
 * Every instance saw each invalidation's commands (@per_inv each, @syncs
 * of them CMD_SYNCs) since @prod0 / @syncs0, all completed, in order.
 */
static void bench_expect(struct kunit *test, struct lat_rig *rig,
			 unsigned int num, const u64 *prod0,
			 const u64 *syncs0, unsigned int per_inv,
			 unsigned int syncs)
{
	u64 n = BENCH_ROUNDS * BENCH_INVS;
	unsigned int i;

	for (i = 0; i < num; i++) {
		struct lat_smmu *s = &rig->s[i];

		KUNIT_EXPECT_EQ_MSG(test, s->f->smmu.cmdq.prod - prod0[i],
				    n * per_inv, "smmu%u: commands", i);
		KUNIT_EXPECT_EQ_MSG(test, s->syncs - syncs0[i], n * syncs,
				    "smmu%u: CMD_SYNCs completed", i);
	}
	lat_expect_clean(test, rig);
}

/*
 * One domain shared by @num instances, its TLB tag (and, with @ats, an ATC
 * entry) on each, invalidated with the driver's path (overlapped), against
 * the same commands waited for one instance after the other: @num domains
 * of one instance each, invalidated in turn, which is what the driver did
 * for one shared domain before it overlapped instances.
 */
static void bench_one(struct kunit *test, unsigned int num, bool ats,
		      bool no_wait)
{
	struct smmuv3_domain *shared, *single[BENCH_MAX];
	struct smmuv3_inv inv[2 * BENCH_MAX];
	u64 prod0[BENCH_MAX], syncs0[BENCH_MAX];
	unsigned int i, per = ats ? 2 : 1;
	struct lat_rig *rig;
	u64 seq, ovl;

	rig = lat_rig_create_bench(test, num, no_wait);
	for (i = 0; i < num; i++) {
		inv[i * per] = FAKE_INV(rig->s[i].f, SMMUV3_INV_S1_ASID,
					5 + i, 0, 1);
		if (ats)
			inv[i * per + 1] = FAKE_INV(rig->s[i].f,
						    SMMUV3_INV_ATS_FULL,
						    0x10 + i, 0, 1);
		single[i] = lat_domain(test, SMMUV3_STAGE_1, &inv[i * per],
				       per);
	}
	shared = lat_domain(test, SMMUV3_STAGE_1, inv, num * per);

	for (i = 0; i < num; i++) {
		prod0[i] = rig->s[i].f->smmu.cmdq.prod;
		syncs0[i] = rig->s[i].syncs;
	}
	seq = bench_run(single, num);
	bench_expect(test, rig, num, prod0, syncs0, 2 * per, per);

	for (i = 0; i < num; i++) {
		prod0[i] = rig->s[i].f->smmu.cmdq.prod;
		syncs0[i] = rig->s[i].syncs;
	}
	ovl = bench_run(&shared, 1);
	bench_expect(test, rig, num, prod0, syncs0, 2 * per, per);

	kunit_info(test,
		   "%s, %u instance%s, %s: sequential %llu ns, overlapped %llu ns per invalidation (%llu.%02llux)\n",
		   no_wait ? "latency 0" : "bench_latency_ns",
		   num, num > 1 ? "s" : "", ats ? "TLB+ATC" : "TLB",
		   seq, ovl, ovl ? seq / ovl : 0,
		   ovl ? (seq * 100 / ovl) % 100 : 0);
}

static void inv_bench(struct kunit *test)
{
	unsigned int i, n;

	for (i = 0; i < BENCH_MAX; i++)
		kunit_info(test, "smmu%u: CMD_SYNC completes %lu ns after it is seen\n",
			   i, bench_latency_num ?
			   bench_latency_ns[min(i, bench_latency_num - 1)] : 0);
	kunit_info(test, "median of %u rounds of %u invalidations of one 4K page\n",
		   BENCH_ROUNDS, BENCH_INVS);
	for (n = 1; n <= BENCH_MAX; n *= 2) {
		bench_one(test, n, false, false);
		bench_one(test, n, true, false);
	}
	/* The CPU cost alone: completion at the first poll. */
	for (n = 1; n <= BENCH_MAX; n *= 2)
		bench_one(test, n, false, true);
}

static struct kunit_case smmuv3_inv_bench_cases[] = {
	KUNIT_CASE_SLOW(inv_bench),
	{}
};

static struct kunit_suite smmuv3_inv_bench_suite = {
	.name = "smmuv3-inv-bench",
	.test_cases = smmuv3_inv_bench_cases,
};

kunit_test_suites(&smmuv3_inv_overlap_suite, &smmuv3_inv_bench_suite);
