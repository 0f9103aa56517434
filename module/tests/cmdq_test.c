// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the command queue (cmdq.c): suite smmuv3-cmdq, errors
 * matched to the waiters whose commands they hit; suite
 * smmuv3-cmdq-errors, fetch aborts, failed instances, global errors
 * (smmuv3_handle_gerror(), IHI 0070 6.3.17-18), and what the
 * writers of configuration structures (strtab.c, cd.c) do when a
 * configuration invalidation fails.
 *
 * The fake instances play the SMMU (fake_smmu_hw_start()).  Expectations
 * are written from IHI 0070, independently of regs.h:
 *  - CMDQ_CONS.ERR (7.1): CERROR_ILL (1), the command is illegal and
 *    software must replace it before acknowledging GERROR.CMDQ_ERR;
 *    CERROR_ABT (2), an abort on the command's fetch: the SMMU fetches it
 *    again from CONS once the error is acknowledged, so it must stay.
 *  - commands (chapter 4): TLBI_NH_ASID 0x11 with ASID [63:48];
 *    CFGI_STE 0x03, SID [63:32], Leaf word 1 [0]; CFGI_ALL 0x04
 *    (CFGI_STE_RANGE, Range word 1 [4:0] = 31); CMD_SYNC 0x46.
 */
#include <kunit/test.h>
#include <linux/bits.h>
#include <linux/kernel.h>
#include <linux/slab.h>

#include <smmuv3/smmuv3.h>

#include "fake_smmu.h"

#define MATCH_OP	0xffull
#define MATCH_ASID	(0xffull | 0xffffull << 48)
#define NH_ASID_W0(asid)	(0x11 | (u64)(asid) << 48)

/* --- The command queue: errors, per waiter (cmdq.c) --------------------- */

/*
 * The fake instances play the SMMU (fake_smmu_hw_start()): they consume
 * commands while the driver waits, and stop at the commands they are told
 * to reject, which the driver replaces with a CMD_SYNC.  The commands here
 * are TLBI_NH_ASID: opcode 0x11 [7:0], ASID [63:48].
 */

/* Encoded TLBI_NH_ASID of each ASID in @asids, for cmdq_submit/issue(). */
static u64 *asid_cmds(struct kunit *test, const u16 *asids, unsigned int num)
{
	u64 *words = kunit_kcalloc(test, num, SMMUV3_CMD_SIZE, GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, words);
	for (i = 0; i < num; i++) {
		words[2 * i] = NH_ASID_W0(asids[i]);
		words[2 * i + 1] = 0;
	}
	return words;
}

/*
 * A rejected command fails its own batch with -EIO, is replaced by a
 * CMD_SYNC, and the queue goes on: the commands after it complete, and the
 * next batch succeeds.
 */
static void cmdq_error_fails_batch(struct kunit *test)
{
	static const u16 asids[] = { 1, 2, 3 };
	struct fake_smmu *f = fake_smmu_create(test, "smmu0", 0, 16, 4);
	u64 *cmds = asid_cmds(test, asids, ARRAY_SIZE(asids));

	fake_smmu_hw_start(test, f);
	fake_smmu_reject(f, MATCH_ASID, NH_ASID_W0(2));

	KUNIT_EXPECT_EQ(test, smmuv3_cmdq_issue(&f->smmu, cmds, 3, true), -EIO);
	KUNIT_EXPECT_EQ(test, f->rejected_cmd.w0, NH_ASID_W0(2));
	FAKE_EXPECT_CMDS(test, f, FAKE_TLBI_NH_ASID(1), FAKE_CMD_SYNC,
			 FAKE_TLBI_NH_ASID(3), FAKE_CMD_SYNC);

	KUNIT_EXPECT_EQ(test, smmuv3_cmdq_issue(&f->smmu, &cmds[4], 1, true),
			0);
	FAKE_EXPECT_CMDS(test, f, FAKE_TLBI_NH_ASID(3), FAKE_CMD_SYNC);
	KUNIT_EXPECT_EQ(test, f->smmu.cmdq.err_seq, 1);
}

/*
 * Three waiters with commands in the queue at once; A and B each have a
 * command the SMMU rejects, C none.  B waits first, so both errors are
 * handled before A looks: A must still see its own (a single "last error"
 * would show B's), C must see none.
 */
static void cmdq_error_per_waiter(struct kunit *test)
{
	static const u16 a[] = { 1, 2 }, b[] = { 2, 3 }, c[] = { 5 };
	struct fake_smmu *f = fake_smmu_create(test, "smmu0", 0, 16, 4);
	struct smmuv3_cmdq_ticket ta, tb, tc;

	fake_smmu_hw_start(test, f);
	fake_smmu_reject(f, MATCH_ASID, NH_ASID_W0(2));
	smmuv3_cmdq_ticket_init(&ta);
	smmuv3_cmdq_ticket_init(&tb);
	smmuv3_cmdq_ticket_init(&tc);

	KUNIT_ASSERT_EQ(test, smmuv3_cmdq_submit(&f->smmu, asid_cmds(test, a, 2),
						 2, true, &ta), 0);
	KUNIT_ASSERT_EQ(test, smmuv3_cmdq_submit(&f->smmu, asid_cmds(test, b, 2),
						 2, true, &tb), 0);
	KUNIT_ASSERT_EQ(test, smmuv3_cmdq_submit(&f->smmu, asid_cmds(test, c, 1),
						 1, true, &tc), 0);

	KUNIT_EXPECT_EQ(test, smmuv3_cmdq_wait(&f->smmu, &tb), -EIO);
	KUNIT_EXPECT_EQ(test, f->rejected, 2);
	KUNIT_EXPECT_EQ(test, smmuv3_cmdq_wait(&f->smmu, &ta), -EIO);
	KUNIT_EXPECT_EQ(test, smmuv3_cmdq_wait(&f->smmu, &tc), 0);
	FAKE_EXPECT_CMDS(test, f,
			 FAKE_TLBI_NH_ASID(1), FAKE_CMD_SYNC, FAKE_CMD_SYNC,
			 FAKE_CMD_SYNC, FAKE_TLBI_NH_ASID(3), FAKE_CMD_SYNC,
			 FAKE_TLBI_NH_ASID(5), FAKE_CMD_SYNC);
}

/*
 * More errors than the queue remembers happen while a waiter waits: it
 * cannot tell whether one was its own and fails with -EIO.  As many as it
 * remembers: it can, and succeeds.
 */
static void cmdq_error_ring_overflow(struct kunit *test)
{
	static const u16 bad[SMMUV3_CMDQ_ERR_RING + 1] = {
		2, 2, 2, 2, 2, 2, 2, 2, 2,
	};
	static const u16 good[] = { 1 };
	struct fake_smmu *f = fake_smmu_create(test, "smmu0", 0, 16, 5);
	struct smmuv3_cmdq_ticket td, te;
	unsigned int n;

	BUILD_BUG_ON(ARRAY_SIZE(bad) != SMMUV3_CMDQ_ERR_RING + 1);
	fake_smmu_hw_start(test, f);
	fake_smmu_reject(f, MATCH_ASID, NH_ASID_W0(2));

	for (n = SMMUV3_CMDQ_ERR_RING; n <= SMMUV3_CMDQ_ERR_RING + 1; n++) {
		u64 before = f->rejected;

		smmuv3_cmdq_ticket_init(&td);
		smmuv3_cmdq_ticket_init(&te);
		KUNIT_ASSERT_EQ(test, smmuv3_cmdq_submit(&f->smmu,
							 asid_cmds(test, good, 1),
							 1, true, &td), 0);
		KUNIT_ASSERT_EQ(test, smmuv3_cmdq_submit(&f->smmu,
							 asid_cmds(test, bad, n),
							 n, true, &te), 0);
		KUNIT_EXPECT_EQ(test, smmuv3_cmdq_wait(&f->smmu, &te), -EIO);
		KUNIT_EXPECT_EQ(test, f->rejected - before, n);
		KUNIT_EXPECT_EQ_MSG(test, smmuv3_cmdq_wait(&f->smmu, &td),
				    n > SMMUV3_CMDQ_ERR_RING ? -EIO : 0,
				    "%u errors while waiting", n);
	}
	f->seen = f->smmu.cmdq.prod;
}

/*
 * A full batch is queued without a CMD_SYNC when the 65th command is
 * added; the SMMU rejects a command of that part.  The batch's final
 * CMD_SYNC covers it: the submit fails with -EIO.
 */
static void cmdq_batch_full_part_error(struct kunit *test)
{
	struct fake_smmu *f = fake_smmu_create(test, "smmu0", 0, 16, 7);
	struct smmuv3_cmd cmd = { .op = SMMUV3_OP_TLBI_NH_ASID };
	struct smmuv3_cmd_batch *batch;
	unsigned int i;

	batch = kunit_kzalloc(test, sizeof(*batch), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, batch);
	fake_smmu_hw_start(test, f);
	fake_smmu_reject(f, MATCH_ASID, NH_ASID_W0(3));

	smmuv3_batch_init(batch, &f->smmu);
	for (i = 1; i <= SMMUV3_BATCH_MAX + 1; i++) {
		cmd.tlbi.asid = i;
		KUNIT_ASSERT_EQ(test, smmuv3_batch_add(batch, &cmd), 0);
	}
	KUNIT_EXPECT_EQ(test, f->smmu.cmdq.prod, SMMUV3_BATCH_MAX);
	KUNIT_EXPECT_EQ(test, smmuv3_batch_submit(batch), -EIO);
	KUNIT_EXPECT_EQ(test, f->rejected, 1);
	KUNIT_EXPECT_EQ(test, f->smmu.cmdq.prod, SMMUV3_BATCH_MAX + 2);

	/* the batch starts over, without the error */
	cmd.tlbi.asid = 100;
	KUNIT_ASSERT_EQ(test, smmuv3_batch_add(batch, &cmd), 0);
	KUNIT_EXPECT_EQ(test, smmuv3_batch_submit(batch), 0);
	f->seen = f->smmu.cmdq.prod - 2;
	FAKE_EXPECT_CMDS(test, f, FAKE_TLBI_NH_ASID(100), FAKE_CMD_SYNC);
}

/*
 * More commands than the queue holds go in parts of one queue size minus
 * one; an error in the first part fails the whole call.
 */
static void cmdq_issue_parts_error(struct kunit *test)
{
	struct fake_smmu *f = fake_smmu_create(test, "smmu0", 0, 16, 4);
	u16 asids[40];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(asids); i++)
		asids[i] = i + 1;
	fake_smmu_hw_start(test, f);
	fake_smmu_reject(f, MATCH_ASID, NH_ASID_W0(2));
	KUNIT_EXPECT_EQ(test, smmuv3_cmdq_issue(&f->smmu,
						asid_cmds(test, asids, 40), 40,
						true), -EIO);
	KUNIT_EXPECT_EQ(test, f->rejected, 1);
	KUNIT_EXPECT_EQ(test, f->smmu.cmdq.prod, 41);
	f->seen = f->smmu.cmdq.prod;
}

/*
 * A submit to a full queue waits for the SMMU to make room.  It gives up
 * with -ETIMEDOUT only once the queue's timeout (2 s, the driver's own
 * choice: the architecture sets none) has passed since the queue was
 * found full, and goes through once the SMMU consumes again.
 */
static void cmdq_full_waits_for_room(struct kunit *test)
{
	struct fake_smmu *f = fake_smmu_create(test, "smmu0", 0, 16, 4);
	struct smmuv3_cmdq_ticket t;
	u16 asids[16];
	unsigned int i;
	ktime_t t0;
	s64 ms;

	for (i = 0; i < ARRAY_SIZE(asids); i++)
		asids[i] = i + 1;
	fake_smmu_hw_start(test, f);
	f->hw_stalled = true;
	smmuv3_cmdq_ticket_init(&t);
	/* 15 of the ring's 16 slots: a command and its CMD_SYNC do not fit */
	KUNIT_ASSERT_EQ(test, smmuv3_cmdq_submit(&f->smmu,
						 asid_cmds(test, asids, 15),
						 15, false, &t), 0);
	t0 = ktime_get();
	KUNIT_EXPECT_EQ(test, smmuv3_cmdq_submit(&f->smmu,
						 asid_cmds(test, asids, 1),
						 1, true, &t), -ETIMEDOUT);
	ms = ktime_ms_delta(ktime_get(), t0);
	KUNIT_EXPECT_GE_MSG(test, ms, 2000, "gave up after %lld ms", ms);
	KUNIT_EXPECT_EQ(test, atomic64_read(&f->smmu.cmdq.timeouts), 1);
	KUNIT_EXPECT_EQ(test, f->smmu.cmdq.prod, 15);

	f->hw_stalled = false;
	KUNIT_EXPECT_EQ(test, smmuv3_cmdq_submit(&f->smmu,
						 asid_cmds(test, asids + 15, 1),
						 1, true, &t), 0);
	KUNIT_EXPECT_EQ(test, smmuv3_cmdq_wait(&f->smmu, &t), 0);
	KUNIT_EXPECT_EQ(test, f->smmu.cmdq.prod, 17);
	atomic64_set(&f->smmu.cmdq.timeouts, 0);
	f->seen = 15;
	FAKE_EXPECT_CMDS(test, f, FAKE_TLBI_NH_ASID(16), FAKE_CMD_SYNC);
}

static struct kunit_case smmuv3_cmdq_cases[] = {
	KUNIT_CASE(cmdq_error_fails_batch),
	KUNIT_CASE(cmdq_error_per_waiter),
	KUNIT_CASE(cmdq_error_ring_overflow),
	KUNIT_CASE(cmdq_batch_full_part_error),
	KUNIT_CASE(cmdq_issue_parts_error),
	KUNIT_CASE_SLOW(cmdq_full_waits_for_room),
	{}
};

static struct kunit_suite smmuv3_cmdq_suite = {
	.name = "smmuv3-cmdq",
	.test_cases = smmuv3_cmdq_cases,
};

/* --- Errors of fetches, configuration writers and failed instances ------ */

/*
 * The fetch of the second command aborts once: the SMMU fetches it again,
 * so it runs as written, the batch succeeds, and the queue holds the three
 * commands and the sync as they were queued.
 */
static void cmdq_fetch_abort_fetches_again(struct kunit *test)
{
	struct fake_smmu *f = fake_smmu_create(test, "smmu0", 0, 16, 4);
	u64 cmds[3 * SMMUV3_CMD_QWORDS] = {
		NH_ASID_W0(1), 0, NH_ASID_W0(2), 0, NH_ASID_W0(3), 0,
	};

	fake_smmu_hw_start(test, f);
	fake_smmu_fetch_abort(f, MATCH_ASID, NH_ASID_W0(2));

	KUNIT_EXPECT_EQ(test, smmuv3_cmdq_issue(&f->smmu, cmds, 3, true), 0);
	KUNIT_EXPECT_EQ(test, f->rejected, 1);
	KUNIT_EXPECT_EQ(test, f->rejected_cmd.w0, NH_ASID_W0(2));
	FAKE_EXPECT_CMDS(test, f, FAKE_TLBI_NH_ASID(1), FAKE_TLBI_NH_ASID(2),
			 FAKE_TLBI_NH_ASID(3), FAKE_CMD_SYNC);
	/* Everything was consumed: the queue did not stop at the abort. */
	KUNIT_EXPECT_EQ(test, f->hw_cons, f->smmu.cmdq.prod);
	/* And the next batch is not blamed for it. */
	KUNIT_EXPECT_EQ(test, smmuv3_cmdq_issue(&f->smmu, cmds, 1, true), 0);
}

/*
 * An STE update whose CFGI_STE the SMMU refuses (CERROR_ILL: the driver
 * replaces it with a CMD_SYNC, so it never runs) is followed by a
 * CFGI_ALL: no stale STE may stay cached.
 */
static void ste_cfgi_failure_invalidates_all(struct kunit *test)
{
	static const u32 sid = 3;
	const struct fake_cmd all = { 0x04, 31 };
	struct smmuv3_master *m;
	struct fake_smmu *f;
	unsigned int n_all = 0;
	struct fake_cmd cmd;
	u64 pos;

	f = fake_smmu_create(test, "smmu0", SMMUV3_FEAT_S1, 16, 6);
	fake_smmu_add_strtab(test, f, 4);
	m = fake_master_create(test, f, &sid, 1);
	fake_smmu_hw_start(test, f);
	fake_smmu_reject(f, MATCH_OP, 0x03);

	pos = f->smmu.cmdq.prod;
	/* The STE switches from aborting to bypass. */
	KUNIT_ASSERT_EQ(test, fake_attach(m, &smmuv3_identity_domain), 0);
	KUNIT_ASSERT_GT(test, f->rejected, 0);
	for (; pos < f->smmu.cmdq.prod; pos++) {
		fake_cmd_at(f, pos, &cmd);
		if (cmd.w0 == all.w0 && cmd.w1 == all.w1)
			n_all++;
	}
	KUNIT_EXPECT_EQ_MSG(test, n_all, f->rejected,
			    "%llu CFGI_STE refused, %u CFGI_ALL after them",
			    f->rejected, n_all);
}

/*
 * NVIDIA Tegra264 (SMMUV3_OPT_REPEAT_CFGI_TLBI, set from the device tree
 * as the kernel's driver does): a run of TLB or configuration invalidations
 * and its CMD_SYNC is issued again once that CMD_SYNC has completed; an
 * ATC invalidation (0x40) is issued once.
 */
static void cmdq_repeat_cfgi_tlbi(struct kunit *test)
{
	struct fake_smmu *f = fake_smmu_create(test, "smmu0", 0, 16, 4);
	u64 tlbi[SMMUV3_CMD_QWORDS] = { NH_ASID_W0(7), 0 };
	u64 atc[SMMUV3_CMD_QWORDS] = { 0x40 | 3ull << 32, 52 };
	u64 consumed;

	fake_smmu_hw_start(test, f);
	f->smmu.options = SMMUV3_OPT_REPEAT_CFGI_TLBI;

	KUNIT_EXPECT_EQ(test, smmuv3_cmdq_issue(&f->smmu, tlbi, 1, true), 0);
	FAKE_EXPECT_CMDS(test, f, FAKE_TLBI_NH_ASID(7), FAKE_CMD_SYNC,
			 FAKE_TLBI_NH_ASID(7), FAKE_CMD_SYNC);
	consumed = f->hw_cons;
	KUNIT_EXPECT_EQ(test, consumed, f->smmu.cmdq.prod);

	KUNIT_EXPECT_EQ(test, smmuv3_cmdq_issue(&f->smmu, atc, 1, true), 0);
	FAKE_EXPECT_CMDS(test, f, FAKE_ATC_INV(3, 0, 0, 52), FAKE_CMD_SYNC);

	/* Without the option: once. */
	f->smmu.options = 0;
	KUNIT_EXPECT_EQ(test, smmuv3_cmdq_issue(&f->smmu, tlbi, 1, true), 0);
	FAKE_EXPECT_CMDS(test, f, FAKE_TLBI_NH_ASID(7), FAKE_CMD_SYNC);

	/*
	 * The second issue waits for the first one's CMD_SYNC: an SMMU that
	 * consumes nothing gets the first only, and the issue times out.
	 */
	f->smmu.options = SMMUV3_OPT_REPEAT_CFGI_TLBI;
	f->hw_stalled = true;
	KUNIT_EXPECT_EQ(test, smmuv3_cmdq_issue(&f->smmu, tlbi, 1, true),
			-ETIMEDOUT);
	/* That timeout was provoked: the fake's checks count the others. */
	KUNIT_EXPECT_EQ(test, atomic64_read(&f->smmu.cmdq.timeouts), 1);
	atomic64_set(&f->smmu.cmdq.timeouts, 0);
	FAKE_EXPECT_CMDS(test, f, FAKE_TLBI_NH_ASID(7), FAKE_CMD_SYNC);
}

/*
 * In service failure mode the SMMU consumes no more commands (IHI 0070
 * 7.2.1): once the instance knows (smmuv3_device.failed, set by the global
 * error handler), a submission fails at once with -EIO instead of waiting
 * out the queue's timeout.
 */
static void cmdq_failed_instance_fails_fast(struct kunit *test)
{
	struct fake_smmu *f = fake_smmu_create(test, "smmu0", 0, 16, 4);
	u64 tlbi[SMMUV3_CMD_QWORDS] = { NH_ASID_W0(7), 0 };

	fake_smmu_hw_start(test, f);
	f->hw_stalled = true;
	WRITE_ONCE(f->smmu.failed, true);
	KUNIT_EXPECT_EQ(test, smmuv3_cmdq_issue(&f->smmu, tlbi, 1, true), -EIO);
	KUNIT_EXPECT_EQ(test, atomic64_read(&f->smmu.cmdq.timeouts), 0);
	FAKE_EXPECT_NO_CMDS(test, f);
}

/* SMMU_GERROR at 0x60, SMMU_GERRORN at 0x64 (IHI 0070 6.3.17, 6.3.18) */
#define GERROR_WORD	(0x60 / 4)
#define GERRORN_WORD	(0x64 / 4)
/* GERROR.SFM_ERR is bit 8 */
#define GERROR_SFM_ERR	BIT(8)

/*
 * In service failure mode the SMMU stops consuming commands (IHI 0070
 * 7.2.1): the instance is marked failed, for command submission to fail at
 * once instead of waiting out its timeout.  Acknowledged (GERRORN toggled
 * to match) like any global error.
 */
static void gerror_sfm_fails_instance(struct kunit *test)
{
	struct fake_smmu *f = fake_smmu_create(test, "smmu0", SMMUV3_FEAT_S1,
					       16, 4);

	f->regs[GERROR_WORD] = GERROR_SFM_ERR;
	smmuv3_handle_gerror(&f->smmu);
	KUNIT_EXPECT_TRUE(test, READ_ONCE(f->smmu.failed));
	KUNIT_EXPECT_EQ(test, f->regs[GERRORN_WORD], GERROR_SFM_ERR);
	KUNIT_EXPECT_EQ(test, atomic64_read(&f->smmu.faults.gerrors[8]), 1);
}

/* Another global error does not. */
static void gerror_other_keeps_instance(struct kunit *test)
{
	struct fake_smmu *f = fake_smmu_create(test, "smmu0", SMMUV3_FEAT_S1,
					       16, 4);

	/* GERROR.MSI_GERROR_ABT_ERR, bit 7 */
	f->regs[GERROR_WORD] = BIT(7);
	smmuv3_handle_gerror(&f->smmu);
	KUNIT_EXPECT_FALSE(test, READ_ONCE(f->smmu.failed));
	KUNIT_EXPECT_EQ(test, f->regs[GERRORN_WORD], BIT(7));
}

static struct kunit_case smmuv3_cmdq_errors_cases[] = {
	KUNIT_CASE(cmdq_fetch_abort_fetches_again),
	KUNIT_CASE(ste_cfgi_failure_invalidates_all),
	KUNIT_CASE_SLOW(cmdq_repeat_cfgi_tlbi),
	KUNIT_CASE(cmdq_failed_instance_fails_fast),
	KUNIT_CASE(gerror_sfm_fails_instance),
	KUNIT_CASE(gerror_other_keeps_instance),
	{}
};

static struct kunit_suite smmuv3_cmdq_errors_suite = {
	.name = "smmuv3-cmdq-errors",
	.test_cases = smmuv3_cmdq_errors_cases,
};

kunit_test_suites(&smmuv3_cmdq_suite, &smmuv3_cmdq_errors_suite);
