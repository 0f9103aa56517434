// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for invalidation (invalidate.c): the commands that
 * smmuv3_domain_inv_range() and smmuv3_domain_inv_all() queue on each
 * instance of a domain's array, and where the CMD_SYNCs go.
 *
 * The instances are fakes (fake_smmu.h): smmu0 sorts before smmu1.  Each
 * expected command is spelled with the FAKE_* encoders, whose field
 * positions come from the specification, not from the driver.  A CMD_SYNC
 * ends a batch: the driver waited there for everything before it.
 */
#include <kunit/test.h>
#include <linux/kernel.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include <smmuv3/invs.h>
#include <smmuv3/smmuv3.h>

#include "fake_smmu.h"

#define S1	SMMUV3_INV_S1_ASID
#define S2	SMMUV3_INV_S2_VMID
#define S1CLR	SMMUV3_INV_S2_VMID_S1_CLEAR
#define ATS	SMMUV3_INV_ATS
#define ATSF	SMMUV3_INV_ATS_FULL

#define PGSIZES_4K	(SZ_4K | SZ_2M | SZ_1G)
#define PGSIZES_16K	(SZ_16K | SZ_32M)
#define PGSIZES_64K	(SZ_64K | SZ_512M)

/* TG of range invalidation: 4K 1, 16K 2, 64K 3 */
#define TG4K	1
#define TG16K	2
#define TG64K	3

/* ATC_INV of everything: Size = 40, 2^40 pages of 4K (52 bits) */
#define ATC_ALL	40

#define SYNC	FAKE_CMD_SYNC

#define FEAT_RIL	(SMMUV3_FEAT_S1 | SMMUV3_FEAT_S2 | SMMUV3_FEAT_RANGE_INV)
#define FEAT_NO_RIL	(SMMUV3_FEAT_S1 | SMMUV3_FEAT_S2)

static struct smmuv3_domain *domain_with(struct kunit *test,
					 enum smmuv3_stage stage,
					 unsigned long pgsizes,
					 const struct smmuv3_inv *inv,
					 unsigned int num)
{
	struct smmuv3_domain *domain = fake_domain_create(test, stage, pgsizes);

	fake_domain_set_invs(domain, fake_invs(test, inv, num));
	return domain;
}

/* --- The fake itself ------------------------------------------------------ */

/*
 * A fake instance completes what it is given: one command with a sync
 * returns at once and lands in the ring before its CMD_SYNC; more commands
 * than the ring holds are queued in chunks, wrapping around.
 */
static void fake_cmdq_completes(struct kunit *test)
{
	struct smmuv3_cmd cmd = {
		.op = SMMUV3_OP_TLBI_NH_ASID,
		.tlbi = { .asid = 0x42 },
	};
	struct fake_smmu *f;
	u64 *words;
	unsigned int i;

	f = fake_smmu_create(test, "smmu0", FEAT_RIL, 16, 4);
	words = kunit_kcalloc(test, 40, SMMUV3_CMD_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, words);
	KUNIT_ASSERT_EQ(test, smmuv3_cmd_encode(&cmd, words), 0);

	KUNIT_EXPECT_EQ(test, smmuv3_cmdq_issue(&f->smmu, words, 1, true), 0);
	FAKE_EXPECT_CMDS(test, f, FAKE_TLBI_NH_ASID(0x42), SYNC);
	KUNIT_EXPECT_EQ(test, f->smmu.cmdq.prod, 2);
	KUNIT_EXPECT_EQ(test, atomic64_read(&f->smmu.cmdq.cons), 2);
	KUNIT_EXPECT_EQ(test, f->smmu.cmdq.syncs, 1);

	/* 40 commands through a ring of 16: chunks of 15, then the sync */
	for (i = 0; i < 40; i++) {
		u64 *w = &words[i * SMMUV3_CMD_QWORDS];

		cmd.tlbi.asid = i;
		KUNIT_ASSERT_EQ(test, smmuv3_cmd_encode(&cmd, w), 0);
	}
	KUNIT_EXPECT_EQ(test, smmuv3_cmdq_issue(&f->smmu, words, 40, true), 0);
	KUNIT_EXPECT_EQ(test, f->smmu.cmdq.prod, 2 + 41);
	KUNIT_EXPECT_EQ(test, atomic64_read(&f->smmu.cmdq.cons), 2 + 41);
	/* the last 16 are still in the ring: ASIDs 25..39 and the sync */
	f->seen = f->smmu.cmdq.prod - 16;
	FAKE_EXPECT_CMDS(test, f,
			 FAKE_TLBI_NH_ASID(25), FAKE_TLBI_NH_ASID(26),
			 FAKE_TLBI_NH_ASID(27), FAKE_TLBI_NH_ASID(28),
			 FAKE_TLBI_NH_ASID(29), FAKE_TLBI_NH_ASID(30),
			 FAKE_TLBI_NH_ASID(31), FAKE_TLBI_NH_ASID(32),
			 FAKE_TLBI_NH_ASID(33), FAKE_TLBI_NH_ASID(34),
			 FAKE_TLBI_NH_ASID(35), FAKE_TLBI_NH_ASID(36),
			 FAKE_TLBI_NH_ASID(37), FAKE_TLBI_NH_ASID(38),
			 FAKE_TLBI_NH_ASID(39), SYNC);
	KUNIT_EXPECT_EQ(test, f->smmu.cmdq.syncs, 2);
}

/* --- Batches per instance ------------------------------------------------- */

/*
 * One stage-1 domain on two instances: each instance gets its own ASID in
 * its own queue, and its batch ends with a CMD_SYNC before the next
 * instance's begins.  3 pages of 4K: one range command, NUM = 3 - 1.
 */
static void inv_range_s1_two_instances(struct kunit *test)
{
	struct smmuv3_domain *domain;
	struct fake_smmu *f[2];

	fake_smmus_create_sorted(test, f, 2, FEAT_RIL, 16, 8);
	{
		const struct smmuv3_inv inv[] = {
			FAKE_INV(f[0], S1, 5, 0, 1),
			FAKE_INV(f[1], S1, 7, 0, 1),
		};

		domain = domain_with(test, SMMUV3_STAGE_1, PGSIZES_4K, inv,
				     ARRAY_SIZE(inv));
	}

	smmuv3_domain_inv_range(domain, 0x40000, 3 * SZ_4K, SZ_4K, true);
	FAKE_EXPECT_CMDS(test, f[0],
			 FAKE_TLBI_NH_VA(5, 0x40000, 2, 0, TG4K, 1), SYNC);
	FAKE_EXPECT_CMDS(test, f[1],
			 FAKE_TLBI_NH_VA(7, 0x40000, 2, 0, TG4K, 1), SYNC);

	/* A walk change (not leaf only): Leaf = 0. */
	smmuv3_domain_inv_range(domain, 0x7ff000, SZ_4K, SZ_4K, false);
	FAKE_EXPECT_CMDS(test, f[0],
			 FAKE_TLBI_NH_VA(5, 0x7ff000, 0, 0, TG4K, 0), SYNC);
	FAKE_EXPECT_CMDS(test, f[1],
			 FAKE_TLBI_NH_VA(7, 0x7ff000, 0, 0, TG4K, 0), SYNC);
}

/*
 * Stage 2, with a vIOMMU's VMID (S1_CLEAR) on smmu0: its stage-1 entries
 * are invalidated (TLBI_NH_ALL of the VMID) only after the stage-2
 * invalidation completed, so a CMD_SYNC separates them.  2M at 2M: 512
 * pages of 4K = 1 << 9, one command with SCALE = 9, NUM = 0.
 */
static void inv_range_s2_s1_clear(struct kunit *test)
{
	struct smmuv3_domain *domain;
	struct fake_smmu *f[2];

	fake_smmus_create_sorted(test, f, 2, FEAT_RIL, 16, 8);
	{
		const struct smmuv3_inv inv[] = {
			FAKE_INV(f[0], S2, 9, 0, 1),
			FAKE_INV(f[0], S1CLR, 11, 0, 1),
			FAKE_INV(f[1], S2, 3, 0, 1),
		};

		domain = domain_with(test, SMMUV3_STAGE_2, PGSIZES_4K, inv,
				     ARRAY_SIZE(inv));
	}

	smmuv3_domain_inv_range(domain, 0x200000, SZ_2M, SZ_2M, false);
	FAKE_EXPECT_CMDS(test, f[0],
			 FAKE_TLBI_S2_IPA(9, 0x200000, 0, 9, TG4K, 0),
			 FAKE_TLBI_S2_IPA(11, 0x200000, 0, 9, TG4K, 0),
			 SYNC,
			 FAKE_TLBI_NH_ALL(11),
			 SYNC);
	FAKE_EXPECT_CMDS(test, f[1],
			 FAKE_TLBI_S2_IPA(3, 0x200000, 0, 9, TG4K, 0), SYNC);
}

/*
 * ATCs after TLBs: the TLB invalidations of an instance are synced before
 * its first ATC_INV.  An instance with ATS entries only needs no sync
 * before them.  ATS carries the SSID (SSV = 1), ATS_FULL does not.
 */
static void inv_range_ats(struct kunit *test)
{
	struct smmuv3_domain *domain;
	struct fake_smmu *f[2];

	fake_smmus_create_sorted(test, f, 2, FEAT_RIL, 16, 8);
	{
		const struct smmuv3_inv inv[] = {
			FAKE_INV(f[0], S1, 5, 0, 1),
			FAKE_INV(f[0], ATS, 0x10, 3, 1),
			FAKE_INV(f[0], ATSF, 0x20, 0, 1),
			FAKE_INV(f[1], ATS, 0x30, 0, 1),
		};

		domain = domain_with(test, SMMUV3_STAGE_1, PGSIZES_4K, inv,
				     ARRAY_SIZE(inv));
	}
	KUNIT_ASSERT_TRUE(test, fake_domain_invs(domain)->has_ats);

	smmuv3_domain_inv_range(domain, 0x1000, SZ_4K, SZ_4K, true);
	FAKE_EXPECT_CMDS(test, f[0],
			 FAKE_TLBI_NH_VA(5, 0x1000, 0, 0, TG4K, 1),
			 SYNC,
			 FAKE_ATC_INV(0x10, 3, 1, ATC_ALL),
			 FAKE_ATC_INV(0x20, 0, 0, ATC_ALL),
			 SYNC);
	FAKE_EXPECT_CMDS(test, f[1], FAKE_ATC_INV(0x30, 0, 1, ATC_ALL), SYNC);
}

/* Entries without users (trash) issue nothing, not even a CMD_SYNC. */
static void inv_skips_unused(struct kunit *test)
{
	struct smmuv3_domain *domain;
	struct fake_smmu *f[2];

	fake_smmus_create_sorted(test, f, 2, FEAT_RIL, 16, 8);
	{
		const struct smmuv3_inv inv[] = {
			FAKE_INV(f[0], S1, 5, 0, 0),
			FAKE_INV(f[0], ATS, 0x10, 0, 0),
			FAKE_INV(f[1], S1, 6, 0, 0),
			FAKE_INV(f[1], S1, 7, 0, 1),
			FAKE_INV(f[1], ATS, 0x30, 0, 0),
		};

		domain = domain_with(test, SMMUV3_STAGE_1, PGSIZES_4K, inv,
				     ARRAY_SIZE(inv));
	}

	smmuv3_domain_inv_range(domain, 0x1000, SZ_4K, SZ_4K, true);
	FAKE_EXPECT_NO_CMDS(test, f[0]);
	FAKE_EXPECT_CMDS(test, f[1],
			 FAKE_TLBI_NH_VA(7, 0x1000, 0, 0, TG4K, 1), SYNC);

	smmuv3_domain_inv_all(domain);
	FAKE_EXPECT_NO_CMDS(test, f[0]);
	FAKE_EXPECT_CMDS(test, f[1], FAKE_TLBI_NH_ASID(7), SYNC);

	/* The last user gone: nothing at all. */
	fake_domain_invs(domain)->inv[3].users = 0;
	smmuv3_domain_inv_range(domain, 0x1000, SZ_4K, SZ_4K, true);
	smmuv3_domain_inv_all(domain);
	FAKE_EXPECT_NO_CMDS(test, f[0]);
	FAKE_EXPECT_NO_CMDS(test, f[1]);
}

/* --- Range encoding ------------------------------------------------------- */

/*
 * With range invalidation each command covers (NUM + 1) << SCALE pages of
 * the domain's smallest page size (TG) from its address.  The expected
 * commands, by hand, for N pages:
 *
 * SCALE is the lowest set bit of N, NUM + 1 the next 5 bits from there:
 *
 *   1 = 1 << 0              NUM 0  SCALE 0
 *   31 = 31 << 0            NUM 30 SCALE 0
 *   32 = 1 << 5             NUM 0  SCALE 5
 *   33 = 1 + (1 << 5)       NUM 0 SCALE 0 at +0; NUM 0 SCALE 5 at +1 page
 *   37 = 5 + (1 << 5)       NUM 4 SCALE 0 at +0; NUM 0 SCALE 5 at +5 pages
 *   992 = 31 << 5           NUM 30 SCALE 5
 *   1000 = (29 << 3) + (3 << 8)
 *			     NUM 28 SCALE 3 at +0; NUM 2 SCALE 8 at +232
 *			     pages (0xe8000)
 */
static void inv_range_encoding(struct kunit *test)
{
	struct smmuv3_domain *domain;
	struct fake_smmu *f;

	f = fake_smmu_create(test, "smmu0", FEAT_RIL, 16, 8);
	{
		const struct smmuv3_inv inv[] = { FAKE_INV(f, S1, 5, 0, 1) };

		domain = domain_with(test, SMMUV3_STAGE_1, PGSIZES_4K, inv,
				     ARRAY_SIZE(inv));
	}

	smmuv3_domain_inv_range(domain, 0x10000, SZ_4K, SZ_4K, true);
	FAKE_EXPECT_CMDS(test, f,
			 FAKE_TLBI_NH_VA(5, 0x10000, 0, 0, TG4K, 1), SYNC);

	smmuv3_domain_inv_range(domain, 0x10000, 31 * SZ_4K, SZ_4K, true);
	FAKE_EXPECT_CMDS(test, f,
			 FAKE_TLBI_NH_VA(5, 0x10000, 30, 0, TG4K, 1), SYNC);

	smmuv3_domain_inv_range(domain, 0x20000, 32 * SZ_4K, SZ_4K, true);
	FAKE_EXPECT_CMDS(test, f,
			 FAKE_TLBI_NH_VA(5, 0x20000, 0, 5, TG4K, 1), SYNC);

	smmuv3_domain_inv_range(domain, 0x100000, 33 * SZ_4K, SZ_4K, true);
	FAKE_EXPECT_CMDS(test, f,
			 FAKE_TLBI_NH_VA(5, 0x100000, 0, 0, TG4K, 1),
			 FAKE_TLBI_NH_VA(5, 0x101000, 0, 5, TG4K, 1),
			 SYNC);

	smmuv3_domain_inv_range(domain, 0x100000, 37 * SZ_4K, SZ_4K, true);
	FAKE_EXPECT_CMDS(test, f,
			 FAKE_TLBI_NH_VA(5, 0x100000, 4, 0, TG4K, 1),
			 FAKE_TLBI_NH_VA(5, 0x105000, 0, 5, TG4K, 1),
			 SYNC);

	smmuv3_domain_inv_range(domain, 0, 992 * SZ_4K, SZ_4K, true);
	FAKE_EXPECT_CMDS(test, f,
			 FAKE_TLBI_NH_VA(5, 0, 30, 5, TG4K, 1), SYNC);

	smmuv3_domain_inv_range(domain, 0, 1000 * SZ_4K, SZ_4K, true);
	FAKE_EXPECT_CMDS(test, f,
			 FAKE_TLBI_NH_VA(5, 0, 28, 3, TG4K, 1),
			 FAKE_TLBI_NH_VA(5, 0xe8000, 2, 8, TG4K, 1),
			 SYNC);

	/* 16K pages: TG 2; 2 pages = 1 << 1, SCALE 1; 3 pages NUM 2 */
	domain->pgtbl_cfg.pgsize_bitmap = PGSIZES_16K;
	smmuv3_domain_inv_range(domain, 0x8000, 2 * SZ_16K, SZ_16K, true);
	smmuv3_domain_inv_range(domain, 0x8000, 3 * SZ_16K, SZ_16K, true);
	FAKE_EXPECT_CMDS(test, f,
			 FAKE_TLBI_NH_VA(5, 0x8000, 0, 1, TG16K, 1), SYNC,
			 FAKE_TLBI_NH_VA(5, 0x8000, 2, 0, TG16K, 1), SYNC);

	/* 64K pages: TG 3; a 512M block is 8192 = 1 << 13 pages */
	domain->pgtbl_cfg.pgsize_bitmap = PGSIZES_64K;
	smmuv3_domain_inv_range(domain, 0x30000, 3 * SZ_64K, SZ_64K, true);
	smmuv3_domain_inv_range(domain, 0x20000000, SZ_512M, SZ_512M, true);
	FAKE_EXPECT_CMDS(test, f,
			 FAKE_TLBI_NH_VA(5, 0x30000, 2, 0, TG64K, 1), SYNC,
			 FAKE_TLBI_NH_VA(5, 0x20000000, 0, 13, TG64K, 1), SYNC);
}

/* --- Without range invalidation ------------------------------------------- */

/*
 * One command per granule, with TG, NUM and SCALE 0 (no range); more than
 * 256 of them become one invalidation of the whole ASID/VMID.  Full
 * batches of 64 commands are queued without a CMD_SYNC: only the end of
 * the walk waits.
 */
static void inv_range_no_range_inv(struct kunit *test)
{
	struct smmuv3_domain *domain;
	struct fake_cmd *expect;
	struct fake_smmu *f;
	unsigned int i;

	/* 1024 entries: room for 256 commands and a sync */
	f = fake_smmu_create(test, "smmu0", FEAT_NO_RIL, 16, 10);
	{
		const struct smmuv3_inv inv[] = { FAKE_INV(f, S1, 5, 0, 1) };

		domain = domain_with(test, SMMUV3_STAGE_1, PGSIZES_4K, inv,
				     ARRAY_SIZE(inv));
	}

	smmuv3_domain_inv_range(domain, 0x40000, 3 * SZ_4K, SZ_4K, true);
	FAKE_EXPECT_CMDS(test, f,
			 FAKE_TLBI_NH_VA(5, 0x40000, 0, 0, 0, 1),
			 FAKE_TLBI_NH_VA(5, 0x41000, 0, 0, 0, 1),
			 FAKE_TLBI_NH_VA(5, 0x42000, 0, 0, 0, 1),
			 SYNC);

	/* per granule, not per page: two 2M blocks */
	smmuv3_domain_inv_range(domain, 0x200000, SZ_4M, SZ_2M, false);
	FAKE_EXPECT_CMDS(test, f,
			 FAKE_TLBI_NH_VA(5, 0x200000, 0, 0, 0, 0),
			 FAKE_TLBI_NH_VA(5, 0x400000, 0, 0, 0, 0),
			 SYNC);

	/* 256 pages: still one command each */
	expect = kunit_kcalloc(test, 257, sizeof(*expect), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, expect);
	for (i = 0; i < 256; i++)
		expect[i] = (struct fake_cmd)
			FAKE_TLBI_NH_VA(5, 0x1000000 + i * SZ_4K, 0, 0, 0, 1);
	expect[256] = (struct fake_cmd)SYNC;
	smmuv3_domain_inv_range(domain, 0x1000000, 256 * SZ_4K, SZ_4K, true);
	fake_expect_cmds(test, f, expect, 257);

	/* 257 pages: the whole ASID */
	smmuv3_domain_inv_range(domain, 0x1000000, 257 * SZ_4K, SZ_4K, true);
	FAKE_EXPECT_CMDS(test, f, FAKE_TLBI_NH_ASID(5), SYNC);
}

/*
 * Stage 2 without range invalidation: per granule for each VMID, the
 * S1_CLEAR VMID's stage 1 after a sync; past 256 granules, TLBI_S12_VMALL
 * per VMID, which covers the stage-1 entries too.
 */
static void inv_range_no_range_inv_s2(struct kunit *test)
{
	struct smmuv3_domain *domain;
	struct fake_smmu *f;

	f = fake_smmu_create(test, "smmu0", FEAT_NO_RIL, 8, 8);
	{
		const struct smmuv3_inv inv[] = {
			FAKE_INV(f, S2, 9, 0, 1),
			FAKE_INV(f, S1CLR, 11, 0, 1),
		};

		domain = domain_with(test, SMMUV3_STAGE_2, PGSIZES_4K, inv,
				     ARRAY_SIZE(inv));
	}

	smmuv3_domain_inv_range(domain, 0x80000000, 2 * SZ_4K, SZ_4K, true);
	FAKE_EXPECT_CMDS(test, f,
			 FAKE_TLBI_S2_IPA(9, 0x80000000, 0, 0, 0, 1),
			 FAKE_TLBI_S2_IPA(9, 0x80001000, 0, 0, 0, 1),
			 FAKE_TLBI_S2_IPA(11, 0x80000000, 0, 0, 0, 1),
			 FAKE_TLBI_S2_IPA(11, 0x80001000, 0, 0, 0, 1),
			 SYNC,
			 FAKE_TLBI_NH_ALL(11),
			 SYNC);

	smmuv3_domain_inv_range(domain, 0x80000000, 257 * SZ_4K, SZ_4K, true);
	FAKE_EXPECT_CMDS(test, f,
			 FAKE_TLBI_S12_VMALL(9),
			 FAKE_TLBI_S12_VMALL(11),
			 SYNC);
}

/* --- Everything ----------------------------------------------------------- */

/*
 * inv_all: TLBI_NH_ASID per stage-1 tag, TLBI_S12_VMALL per VMID (S1_CLEAR
 * included, without a TLBI_NH_ALL: VMALL covers both stages), then ATCs.
 */
static void inv_all(struct kunit *test)
{
	struct smmuv3_domain *s1, *s2;
	struct fake_smmu *f[2];

	fake_smmus_create_sorted(test, f, 2, FEAT_RIL, 16, 8);
	{
		const struct smmuv3_inv inv1[] = {
			FAKE_INV(f[0], S1, 5, 0, 1),
			FAKE_INV(f[1], S1, 7, 0, 1),
			FAKE_INV(f[1], ATS, 0x30, 1, 1),
		};
		const struct smmuv3_inv inv2[] = {
			FAKE_INV(f[0], S2, 9, 0, 1),
			FAKE_INV(f[0], S1CLR, 11, 0, 1),
			FAKE_INV(f[1], S1CLR, 12, 0, 1),
			FAKE_INV(f[1], ATSF, 0x31, 0, 1),
		};

		s1 = domain_with(test, SMMUV3_STAGE_1, PGSIZES_4K, inv1,
				 ARRAY_SIZE(inv1));
		s2 = domain_with(test, SMMUV3_STAGE_2, PGSIZES_4K, inv2,
				 ARRAY_SIZE(inv2));
	}

	smmuv3_domain_inv_all(s1);
	FAKE_EXPECT_CMDS(test, f[0], FAKE_TLBI_NH_ASID(5), SYNC);
	FAKE_EXPECT_CMDS(test, f[1],
			 FAKE_TLBI_NH_ASID(7),
			 SYNC,
			 FAKE_ATC_INV(0x30, 1, 1, ATC_ALL),
			 SYNC);

	smmuv3_domain_inv_all(s2);
	FAKE_EXPECT_CMDS(test, f[0],
			 FAKE_TLBI_S12_VMALL(9), FAKE_TLBI_S12_VMALL(11), SYNC);
	FAKE_EXPECT_CMDS(test, f[1],
			 FAKE_TLBI_S12_VMALL(12),
			 SYNC,
			 FAKE_ATC_INV(0x31, 0, 0, ATC_ALL),
			 SYNC);
}

/* No array, an empty one, or an empty range: nothing is queued. */
static void inv_empty(struct kunit *test)
{
	struct smmuv3_domain *domain;
	struct fake_smmu *f;

	f = fake_smmu_create(test, "smmu0", FEAT_RIL, 16, 8);
	domain = fake_domain_create(test, SMMUV3_STAGE_1, PGSIZES_4K);

	smmuv3_domain_inv_range(domain, 0x1000, SZ_4K, SZ_4K, true);
	smmuv3_domain_inv_all(domain);

	fake_domain_set_invs(domain, fake_invs(test, NULL, 0));
	smmuv3_domain_inv_range(domain, 0x1000, SZ_4K, SZ_4K, true);
	smmuv3_domain_inv_all(domain);

	{
		const struct smmuv3_inv inv[] = { FAKE_INV(f, S1, 5, 0, 1) };

		fake_domain_set_invs(domain, fake_invs(test, inv, 1));
	}
	smmuv3_domain_inv_range(domain, 0x1000, 0, SZ_4K, true);
	FAKE_EXPECT_NO_CMDS(test, f);
}

static struct kunit_case smmuv3_invalidate_cases[] = {
	KUNIT_CASE(fake_cmdq_completes),
	KUNIT_CASE(inv_range_s1_two_instances),
	KUNIT_CASE(inv_range_s2_s1_clear),
	KUNIT_CASE(inv_range_ats),
	KUNIT_CASE(inv_skips_unused),
	KUNIT_CASE(inv_range_encoding),
	KUNIT_CASE(inv_range_no_range_inv),
	KUNIT_CASE(inv_range_no_range_inv_s2),
	KUNIT_CASE(inv_all),
	KUNIT_CASE(inv_empty),
	{}
};

static struct kunit_suite smmuv3_invalidate_suite = {
	.name = "smmuv3-invalidate",
	.test_cases = smmuv3_invalidate_cases,
};

kunit_test_suites(&smmuv3_invalidate_suite);
