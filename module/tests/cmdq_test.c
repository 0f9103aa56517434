// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for command queue errors (cmdq.c) and what the writers of
 * configuration structures (strtab.c, cd.c) do when a configuration
 * invalidation fails.
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
#include <linux/kernel.h>

#include <smmuv3/smmuv3.h>

#include "fake_smmu.h"

#define MATCH_OP	0xffull
#define MATCH_ASID	(0xffull | 0xffffull << 48)
#define NH_ASID_W0(asid)	(0x11 | (u64)(asid) << 48)

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

static struct kunit_case smmuv3_cmdq_cases[] = {
	KUNIT_CASE(cmdq_fetch_abort_fetches_again),
	KUNIT_CASE(ste_cfgi_failure_invalidates_all),
	KUNIT_CASE_SLOW(cmdq_repeat_cfgi_tlbi),
	KUNIT_CASE(cmdq_failed_instance_fails_fast),
	{}
};

static struct kunit_suite smmuv3_cmdq_suite = {
	.name = "smmuv3-cmdq-errors",
	.test_cases = smmuv3_cmdq_cases,
};

kunit_test_suites(&smmuv3_cmdq_suite);
