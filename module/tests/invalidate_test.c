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
#include <linux/iommu.h>
#include <linux/kernel.h>
#include <linux/mman.h>
#include <linux/sched/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/iommufd.h>

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

/*
 * ATC_INV of everything: Size = 52, a span of 4K * 2^52 = 2^64 bytes, which
 * IHI 0070 4.5.1 names "invalidate all"
 */
#define ATC_ALL	52

#define SYNC	FAKE_CMD_SYNC

/*
 * Leaf-only invalidations (an unmap) with range invalidation: a range
 * (TG != 0) whose level hint TTL names the level of the leaves, 3 for the
 * granule's pages, 2 for the blocks one level up, 1 for 1G blocks of 4K
 * pages.
 */
#define LEAF_VA(asid, addr, num, scale, tg, ttl)			\
	FAKE_TLBI_NH_VA_TTL(asid, addr, num, scale, tg, ttl, 1)
#define LEAF_IPA(vmid, addr, num, scale, tg, ttl)			\
	FAKE_TLBI_S2_IPA_TTL(vmid, addr, num, scale, tg, ttl, 1)

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
			 LEAF_VA(5, 0x40000, 2, 0, TG4K, 3), SYNC);
	FAKE_EXPECT_CMDS(test, f[1],
			 LEAF_VA(7, 0x40000, 2, 0, TG4K, 3), SYNC);

	/*
	 * A walk change (not leaf only): Leaf = 0.  One page: with TG != 0,
	 * NUM = SCALE = TTL = 0 is reserved, so no range (TG = 0).
	 */
	smmuv3_domain_inv_range(domain, 0x7ff000, SZ_4K, SZ_4K, false);
	FAKE_EXPECT_CMDS(test, f[0],
			 FAKE_TLBI_NH_VA(5, 0x7ff000, 0, 0, 0, 0), SYNC);
	FAKE_EXPECT_CMDS(test, f[1],
			 FAKE_TLBI_NH_VA(7, 0x7ff000, 0, 0, 0, 0), SYNC);
}

/*
 * Fill @frames KiB of the stack below the caller with @pattern: the frames
 * of a call made next from the same place.  One KiB per level, so that no
 * frame comes near the frame size warning; @buf's address escapes, so no
 * level is turned into a jump that would reuse its frame.
 */
static noinline void dirty_stack(u8 pattern, unsigned int frames)
{
	u8 buf[1024];

	memset(buf, pattern, sizeof(buf));
	barrier_data(buf);
	if (frames > 1)
		dirty_stack(pattern, frames - 1);
}

/*
 * The walk slots, the command batch and the tickets of an invalidation
 * are __uninitialized: whatever the stack held before must not change the
 * commands.  The stack the invalidation will use is filled with a pattern
 * first, for one instance (seven slots unused) and for two.
 */
static void inv_stack_not_cleared(struct kunit *test)
{
	static const u8 patterns[] = { 0x00, 0xff, 0xa5, 0x01 };
	struct smmuv3_domain *one, *two;
	struct fake_smmu *f[2];
	unsigned int i;

	fake_smmus_create_sorted(test, f, 2, FEAT_RIL, 16, 8);
	{
		const struct smmuv3_inv inv[] = {
			FAKE_INV(f[0], S1, 5, 0, 1),
		};

		one = domain_with(test, SMMUV3_STAGE_1, PGSIZES_4K, inv,
				  ARRAY_SIZE(inv));
	}
	{
		const struct smmuv3_inv inv[] = {
			FAKE_INV(f[0], S1, 6, 0, 1),
			FAKE_INV(f[1], S1, 7, 0, 1),
		};

		two = domain_with(test, SMMUV3_STAGE_1, PGSIZES_4K, inv,
				  ARRAY_SIZE(inv));
	}

	for (i = 0; i < ARRAY_SIZE(patterns); i++) {
		kunit_info(test, "stack filled with %#04x\n", patterns[i]);
		dirty_stack(patterns[i], 2);
		smmuv3_domain_inv_range(one, 0x7ff000, SZ_4K, SZ_4K, true);
		FAKE_EXPECT_CMDS(test, f[0],
				 LEAF_VA(5, 0x7ff000, 0, 0, TG4K, 3), SYNC);
		FAKE_EXPECT_NO_CMDS(test, f[1]);

		dirty_stack(patterns[i], 2);
		smmuv3_domain_inv_range(two, 0x40000, 3 * SZ_4K, SZ_4K, true);
		FAKE_EXPECT_CMDS(test, f[0],
				 LEAF_VA(6, 0x40000, 2, 0, TG4K, 3), SYNC);
		FAKE_EXPECT_CMDS(test, f[1],
				 LEAF_VA(7, 0x40000, 2, 0, TG4K, 3), SYNC);
	}
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
 * before them.  ATS carries a PASID's SSID (SSV = 1); a RID's entries (SSID
 * 0) and ATS_FULL go without SSV, which is the only way to reach the
 * entries a device cached for requests without PASID (IHI 0070 4.4.5).
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
	KUNIT_ASSERT_TRUE(test, fake_invs_has_ats(fake_domain_invs(domain)));

	/* One page: Address 0x1000, Size 0; ATS_FULL stays whole. */
	smmuv3_domain_inv_range(domain, 0x1000, SZ_4K, SZ_4K, true);
	FAKE_EXPECT_CMDS(test, f[0],
			 LEAF_VA(5, 0x1000, 0, 0, TG4K, 3),
			 SYNC,
			 FAKE_ATC_INV_RANGE(0x10, 3, 1, 0x1000, 0),
			 FAKE_ATC_INV(0x20, 0, 0, ATC_ALL),
			 SYNC);
	FAKE_EXPECT_CMDS(test, f[1],
			 FAKE_ATC_INV_RANGE(0x30, 0, 0, 0x1000, 0), SYNC);
}

/*
 * A range's ATC invalidation: the smallest span of 2^Size 4KiB pages,
 * aligned to itself, that covers it (CMD_ATC_INV, IHI 0070 4.5.1; PCIe
 * ATS Invalidate Request: a naturally aligned power-of-two range).  The
 * pairs are worked out by hand from the first and last page numbers.
 * The RID's entry goes without SSV, a PASID's with SSV and its SSID, both
 * with the same span; an ATS_FULL entry (nesting parent) and an
 * invalidation of everything keep Size 52.
 */
static void inv_range_atc_span(struct kunit *test)
{
	static const struct {
		unsigned long iova;
		size_t size;
		u64 addr;
		u8 span;
	} c[] = {
		/* one page: itself */
		{ 0x5000, SZ_4K, 0x5000, 0 },
		/* pages 0x13-0x14 straddle 0x14: the 8 pages from 0x10 */
		{ 0x13000, SZ_8K, 0x10000, 3 },
		/* an aligned 2MiB block: its 512 pages */
		{ 0x40200000, SZ_2M, 0x40200000, 9 },
		/* a 64KiB page: 16 pages of 4KiB */
		{ 0x30000, SZ_64K, 0x30000, 4 },
		/* 8KiB across 1GiB: pages 0x3ffff-0x40000, 2^19 from 0 */
		{ 0x3ffff000, SZ_8K, 0, 19 },
		/* 8KiB across 2^47: pages 0x7ffffffff-0x800000000 */
		{ 0x7ffffffff000, SZ_8K, 0, 36 },
		/* the last page of a 64-bit space */
		{ 0xfffffffffffff000, SZ_4K, 0xfffffffffffff000, 0 },
	};
	struct smmuv3_domain *domain;
	struct fake_smmu *f;
	unsigned int i;

	f = fake_smmu_create(test, "smmu0", FEAT_RIL, 16, 8);
	{
		const struct smmuv3_inv inv[] = {
			FAKE_INV(f, ATS, 0x10, 0, 1),
			FAKE_INV(f, ATS, 0x11, 5, 1),
			FAKE_INV(f, ATSF, 0x20, 0, 1),
		};

		domain = domain_with(test, SMMUV3_STAGE_1, PGSIZES_4K, inv,
				     ARRAY_SIZE(inv));
	}
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		kunit_info(test, "range %#lx + %#zx: Address %#llx Size %u\n",
			   c[i].iova, c[i].size, c[i].addr, c[i].span);
		smmuv3_domain_inv_range(domain, c[i].iova, c[i].size, SZ_4K,
					true);
		FAKE_EXPECT_CMDS(test, f,
				 FAKE_ATC_INV_RANGE(0x10, 0, 0, c[i].addr,
						    c[i].span),
				 FAKE_ATC_INV_RANGE(0x11, 5, 1, c[i].addr,
						    c[i].span),
				 FAKE_ATC_INV(0x20, 0, 0, ATC_ALL),
				 SYNC);
	}
	/* A full flush: every entry whole. */
	smmuv3_domain_inv_all(domain);
	FAKE_EXPECT_CMDS(test, f,
			 FAKE_ATC_INV(0x10, 0, 0, ATC_ALL),
			 FAKE_ATC_INV(0x11, 5, 1, ATC_ALL),
			 FAKE_ATC_INV(0x20, 0, 0, ATC_ALL),
			 SYNC);
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
			 LEAF_VA(7, 0x1000, 0, 0, TG4K, 3), SYNC);

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
 * SCALE is the lowest set bit of N, NUM + 1 the next 5 bits from there.
 * These are unmaps (Leaf = 1) of leaves of the granule's size: each
 * command has the level hint TTL = 3 (a 512M block of 64K pages: 2), so a
 * single page is a range too (NUM = SCALE = 0, which only TTL = 0 makes
 * reserved: IHI 0070 4.4.1.1, CERROR_ILL).
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
			 LEAF_VA(5, 0x10000, 0, 0, TG4K, 3), SYNC);

	smmuv3_domain_inv_range(domain, 0x10000, 31 * SZ_4K, SZ_4K, true);
	FAKE_EXPECT_CMDS(test, f,
			 LEAF_VA(5, 0x10000, 30, 0, TG4K, 3), SYNC);

	smmuv3_domain_inv_range(domain, 0x20000, 32 * SZ_4K, SZ_4K, true);
	FAKE_EXPECT_CMDS(test, f,
			 LEAF_VA(5, 0x20000, 0, 5, TG4K, 3), SYNC);

	smmuv3_domain_inv_range(domain, 0x100000, 33 * SZ_4K, SZ_4K, true);
	FAKE_EXPECT_CMDS(test, f,
			 LEAF_VA(5, 0x100000, 0, 0, TG4K, 3),
			 LEAF_VA(5, 0x101000, 0, 5, TG4K, 3),
			 SYNC);

	smmuv3_domain_inv_range(domain, 0x100000, 37 * SZ_4K, SZ_4K, true);
	FAKE_EXPECT_CMDS(test, f,
			 LEAF_VA(5, 0x100000, 4, 0, TG4K, 3),
			 LEAF_VA(5, 0x105000, 0, 5, TG4K, 3),
			 SYNC);

	smmuv3_domain_inv_range(domain, 0, 992 * SZ_4K, SZ_4K, true);
	FAKE_EXPECT_CMDS(test, f,
			 LEAF_VA(5, 0, 30, 5, TG4K, 3), SYNC);

	smmuv3_domain_inv_range(domain, 0, 1000 * SZ_4K, SZ_4K, true);
	FAKE_EXPECT_CMDS(test, f,
			 LEAF_VA(5, 0, 28, 3, TG4K, 3),
			 LEAF_VA(5, 0xe8000, 2, 8, TG4K, 3),
			 SYNC);

	/* 16K pages: TG 2; 2 pages = 1 << 1, SCALE 1; 3 pages NUM 2 */
	domain->pgtbl_cfg.pgsize_bitmap = PGSIZES_16K;
	smmuv3_domain_inv_range(domain, 0x8000, 2 * SZ_16K, SZ_16K, true);
	smmuv3_domain_inv_range(domain, 0x8000, 3 * SZ_16K, SZ_16K, true);
	FAKE_EXPECT_CMDS(test, f,
			 LEAF_VA(5, 0x8000, 0, 1, TG16K, 3), SYNC,
			 LEAF_VA(5, 0x8000, 2, 0, TG16K, 3), SYNC);

	/* 64K pages: TG 3; a 512M block is 8192 = 1 << 13 pages */
	domain->pgtbl_cfg.pgsize_bitmap = PGSIZES_64K;
	smmuv3_domain_inv_range(domain, 0x30000, 3 * SZ_64K, SZ_64K, true);
	smmuv3_domain_inv_range(domain, 0x20000000, SZ_512M, SZ_512M, true);
	FAKE_EXPECT_CMDS(test, f,
			 LEAF_VA(5, 0x30000, 2, 0, TG64K, 3), SYNC,
			 LEAF_VA(5, 0x20000000, 0, 13, TG64K, 2), SYNC);
}

/*
 * The level hint, word 1 [9:8] (IHI 0070 4.4.1.1): with range
 * invalidation, an unmap (Leaf = 1) names the level of the leaves it
 * removed, which the granule (the leaf size) and the page size tell:
 * 4K pages at level 3, 2M blocks at 2, 1G blocks at 1; 16K pages at 3,
 * their 32M blocks at 2; 64K pages at 3, their 512M blocks at 2.  A single
 * leaf is then a range of one (NUM = SCALE = 0 with TTL != 0 is valid),
 * like a single page of a stage-2 table.  Without a hint to give, a single
 * page stays a command without range (TG = 0): a walk change (Leaf = 0),
 * whose entries may be at any level, and a granule that is no leaf size of
 * the table.  Without range invalidation TG and TTL stay 0 (RES0).
 */
static void inv_range_level_hint(struct kunit *test)
{
	struct smmuv3_domain *s1, *s2, *plain;
	struct fake_smmu *f, *g;

	f = fake_smmu_create(test, "smmu0", FEAT_RIL, 16, 8);
	g = fake_smmu_create(test, "smmu1", FEAT_NO_RIL, 16, 8);
	{
		const struct smmuv3_inv inv1[] = { FAKE_INV(f, S1, 5, 0, 1) };
		const struct smmuv3_inv inv2[] = { FAKE_INV(f, S2, 9, 0, 1) };
		const struct smmuv3_inv inv3[] = { FAKE_INV(g, S1, 6, 0, 1) };

		s1 = domain_with(test, SMMUV3_STAGE_1, PGSIZES_4K, inv1,
				 ARRAY_SIZE(inv1));
		s2 = domain_with(test, SMMUV3_STAGE_2, PGSIZES_4K, inv2,
				 ARRAY_SIZE(inv2));
		plain = domain_with(test, SMMUV3_STAGE_1, PGSIZES_4K, inv3,
				    ARRAY_SIZE(inv3));
	}

	/* One 4K page: TLBI_NH_VA 0x12, ASID 5, TG 1, TTL 3, Leaf */
	smmuv3_domain_inv_range(s1, 0x100000, SZ_4K, SZ_4K, true);
	FAKE_EXPECT_CMDS(test, f,
			 { 0x12 | 5ull << 48,
			   0x100000 | 1 << 10 | 3 << 8 | 1 },
			 SYNC);

	/* One 2M block: 512 pages (SCALE 9) at level 2; one 1G at level 1 */
	smmuv3_domain_inv_range(s1, 0x40000000, SZ_2M, SZ_2M, true);
	smmuv3_domain_inv_range(s1, 0x80000000, SZ_1G, SZ_1G, true);
	FAKE_EXPECT_CMDS(test, f,
			 LEAF_VA(5, 0x40000000, 0, 9, TG4K, 2), SYNC,
			 LEAF_VA(5, 0x80000000, 0, 18, TG4K, 1), SYNC);

	/* Stage 2: S2_IPA 0x2a, VMID 9 [47:32], the same hint */
	smmuv3_domain_inv_range(s2, 0x7000, SZ_4K, SZ_4K, true);
	FAKE_EXPECT_CMDS(test, f,
			 { 0x2a | 9ull << 32,
			   0x7000 | 1 << 10 | 3 << 8 | 1 },
			 SYNC);

	/* A walk change: no hint; one page without range, two as a range */
	smmuv3_domain_inv_range(s1, 0x100000, SZ_4K, SZ_4K, false);
	smmuv3_domain_inv_range(s1, 0x100000, SZ_8K, SZ_4K, false);
	FAKE_EXPECT_CMDS(test, f,
			 FAKE_TLBI_NH_VA(5, 0x100000, 0, 0, 0, 0), SYNC,
			 FAKE_TLBI_NH_VA(5, 0x100000, 0, 1, TG4K, 0), SYNC);

	/* A granule that is no leaf of 4K pages (8K): no hint */
	smmuv3_domain_inv_range(s1, 0x100000, SZ_4K, SZ_8K, true);
	smmuv3_domain_inv_range(s1, 0x100000, SZ_16K, SZ_8K, true);
	FAKE_EXPECT_CMDS(test, f,
			 FAKE_TLBI_NH_VA(5, 0x100000, 0, 0, 0, 1), SYNC,
			 FAKE_TLBI_NH_VA(5, 0x100000, 0, 2, TG4K, 1), SYNC);

	/* 16K pages: one page, and a 32M block (2048 pages) at level 2 */
	s1->pgtbl_cfg.pgsize_bitmap = PGSIZES_16K;
	smmuv3_domain_inv_range(s1, 0x4000, SZ_16K, SZ_16K, true);
	smmuv3_domain_inv_range(s1, 0x2000000, SZ_32M, SZ_32M, true);
	FAKE_EXPECT_CMDS(test, f,
			 LEAF_VA(5, 0x4000, 0, 0, TG16K, 3), SYNC,
			 LEAF_VA(5, 0x2000000, 0, 11, TG16K, 2), SYNC);

	/* 64K pages: one page at level 3 */
	s1->pgtbl_cfg.pgsize_bitmap = PGSIZES_64K;
	smmuv3_domain_inv_range(s1, 0x10000, SZ_64K, SZ_64K, true);
	FAKE_EXPECT_CMDS(test, f, LEAF_VA(5, 0x10000, 0, 0, TG64K, 3), SYNC);

	/* No range invalidation: TG 0, TTL 0, whatever the leaves */
	smmuv3_domain_inv_range(plain, 0x100000, SZ_4K, SZ_4K, true);
	FAKE_EXPECT_CMDS(test, g, { 0x12 | 6ull << 48, 0x100000 | 1 }, SYNC);
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

/* --- Ranges commands cannot express -------------------------------------- */

/*
 * SCALE is 5 bits, [24:20] (IHI 0070 4.4.1.1 without SMMU_IDR5.DS; QEMU's
 * CMD_SCALE reads 5 bits at 20; the kernel's CMDQ_TLBI_0_SCALE is [25:20]
 * with bit 25 reserved without DS): at most 31.  Ranges whose lowest set
 * bit (in pages) is above 31 are cut in commands of SCALE 31 and NUM + 1
 * up to 32, 2^36 pages each; more than 8 commands flush the whole tag.
 *
 *   2^32 pages (16T at 0)        NUM 1 SCALE 31
 *   33 << 31 pages               NUM 31 SCALE 31 at 0 (2^36 pages, 2^48
 *                                bytes), then NUM 0 SCALE 31 at 2^48
 *   2^40 pages (2^52 bytes)      16 commands of NUM 31 SCALE 31: the ASID
 *
 * The leaves are 1G blocks of 4K pages: level 1, TTL 1.
 */
static void inv_range_huge(struct kunit *test)
{
	struct smmuv3_domain *domain;
	struct fake_smmu *f;

	f = fake_smmu_create(test, "smmu0", FEAT_RIL, 16, 8);
	{
		const struct smmuv3_inv inv[] = { FAKE_INV(f, S1, 5, 0, 1) };

		domain = domain_with(test, SMMUV3_STAGE_1, PGSIZES_4K, inv,
				     ARRAY_SIZE(inv));
	}

	smmuv3_domain_inv_range(domain, 0, 1ull << 44, SZ_1G, true);
	FAKE_EXPECT_CMDS(test, f,
			 LEAF_VA(5, 0, 1, 31, TG4K, 1), SYNC);

	smmuv3_domain_inv_range(domain, 0, 33ull << 43, SZ_1G, true);
	FAKE_EXPECT_CMDS(test, f,
			 LEAF_VA(5, 0, 31, 31, TG4K, 1),
			 LEAF_VA(5, 1ull << 48, 0, 31, TG4K, 1),
			 SYNC);

	smmuv3_domain_inv_range(domain, 0, 1ull << 52, SZ_1G, true);
	FAKE_EXPECT_CMDS(test, f, FAKE_TLBI_NH_ASID(5), SYNC);
	KUNIT_EXPECT_EQ(test, atomic64_read(&f->smmu.cmdq.inv_failures), 0);
}

/*
 * Ranges no command covers exactly flush the whole tag instead of less:
 * an IPA above the 52 bits of the IPA field [51:12], a size that is not a
 * multiple of the range granule (TG), a range that wraps around, and a
 * table without a granule TG can name.
 */
static void inv_range_inexpressible(struct kunit *test)
{
	struct smmuv3_domain *s1, *s2;
	struct fake_smmu *f;

	f = fake_smmu_create(test, "smmu0", FEAT_RIL, 16, 8);
	{
		const struct smmuv3_inv inv1[] = { FAKE_INV(f, S1, 5, 0, 1) };
		const struct smmuv3_inv inv2[] = { FAKE_INV(f, S2, 9, 0, 1) };

		s1 = domain_with(test, SMMUV3_STAGE_1, PGSIZES_64K, inv1,
				 ARRAY_SIZE(inv1));
		s2 = domain_with(test, SMMUV3_STAGE_2, PGSIZES_4K, inv2,
				 ARRAY_SIZE(inv2));
	}

	/* IPA 2^52: outside [51:12] */
	smmuv3_domain_inv_range(s2, 1ull << 52, SZ_4K, SZ_4K, true);
	FAKE_EXPECT_CMDS(test, f, FAKE_TLBI_S12_VMALL(9), SYNC);
	/* ending at 2^52 is fine: 2 pages, NUM 0 SCALE 1 */
	smmuv3_domain_inv_range(s2, (1ull << 52) - SZ_8K, SZ_8K, SZ_4K, true);
	FAKE_EXPECT_CMDS(test, f,
			 LEAF_IPA(9, (1ull << 52) - SZ_8K, 0, 1, TG4K, 3),
			 SYNC);

	/* 1.5 pages of 64K: the range would cover one */
	smmuv3_domain_inv_range(s1, 0x30000, SZ_64K + SZ_32K, SZ_4K, true);
	FAKE_EXPECT_CMDS(test, f, FAKE_TLBI_NH_ASID(5), SYNC);

	/* the last 64K of the VA space and 64K more: wraps around */
	smmuv3_domain_inv_range(s1, 0xffffffffffff0000ul, SZ_128K, SZ_64K,
				true);
	FAKE_EXPECT_CMDS(test, f, FAKE_TLBI_NH_ASID(5), SYNC);

	/* 8K pages: no TG for them */
	s1->pgtbl_cfg.pgsize_bitmap = SZ_8K | SZ_2M;
	smmuv3_domain_inv_range(s1, 0x10000, 2 * SZ_8K, SZ_8K, true);
	FAKE_EXPECT_CMDS(test, f, FAKE_TLBI_NH_ASID(5), SYNC);
}

/*
 * Without range invalidation: a range that wraps around covers nothing by
 * address; a granule below 4K cannot be stepped through; 2M granules from
 * an address not aligned to 2M would miss the block holding the end.  The
 * whole tag.
 */
static void inv_range_no_range_inv_inexpressible(struct kunit *test)
{
	struct smmuv3_domain *domain;
	struct fake_smmu *f;

	f = fake_smmu_create(test, "smmu0", FEAT_NO_RIL, 16, 8);
	{
		const struct smmuv3_inv inv[] = { FAKE_INV(f, S1, 5, 0, 1) };

		domain = domain_with(test, SMMUV3_STAGE_1, PGSIZES_4K, inv,
				     ARRAY_SIZE(inv));
	}

	smmuv3_domain_inv_range(domain, 0xffffffffffffe000ul, SZ_16K, SZ_4K,
				true);
	FAKE_EXPECT_CMDS(test, f, FAKE_TLBI_NH_ASID(5), SYNC);
	smmuv3_domain_inv_range(domain, 0x1000, SZ_4K, 0, true);
	FAKE_EXPECT_CMDS(test, f, FAKE_TLBI_NH_ASID(5), SYNC);
	smmuv3_domain_inv_range(domain, 0x1000, SZ_2M, SZ_2M, true);
	FAKE_EXPECT_CMDS(test, f, FAKE_TLBI_NH_ASID(5), SYNC);
}

/* --- Failures ------------------------------------------------------------- */

/* Word 0 masks: opcode [7:0]; ASID [63:48]. */
#define MATCH_OP	0xffull
#define MATCH_ASID	(0xffffull << 48)

/*
 * The SMMU rejects the range command of smmu0: the failure is counted and
 * smmu0's tags are invalidated whole, its ATC only after that; smmu1 is
 * not affected.
 */
static void inv_failure_retries_whole(struct kunit *test)
{
	const struct fake_cmd bad = LEAF_VA(5, 0x40000, 2, 0, TG4K, 3);
	struct smmuv3_domain *domain;
	struct fake_smmu *f[2];

	fake_smmus_create_sorted(test, f, 2, FEAT_RIL, 16, 8);
	{
		const struct smmuv3_inv inv[] = {
			FAKE_INV(f[0], S1, 5, 0, 1),
			FAKE_INV(f[0], ATS, 0x10, 0, 1),
			FAKE_INV(f[1], S1, 7, 0, 1),
		};

		domain = domain_with(test, SMMUV3_STAGE_1, PGSIZES_4K, inv,
				     ARRAY_SIZE(inv));
	}
	fake_smmu_hw_start(test, f[0]);
	fake_smmu_hw_start(test, f[1]);
	/* TLBI_NH_VA, opcode 0x12 */
	fake_smmu_reject(f[0], MATCH_OP, 0x12);

	smmuv3_domain_inv_range(domain, 0x40000, 3 * SZ_4K, SZ_4K, true);
	KUNIT_EXPECT_EQ(test, f[0]->rejected, 1);
	KUNIT_EXPECT_EQ(test, f[0]->rejected_cmd.w0, bad.w0);
	KUNIT_EXPECT_EQ(test, f[0]->rejected_cmd.w1, bad.w1);
	/*
	 * The rejected command reads as the CMD_SYNC that replaced it.  The
	 * TLB invalidation did not complete: no ATC_INV behind it (the ATC
	 * could refill from the stale TLB), only after the retry's.
	 */
	FAKE_EXPECT_CMDS(test, f[0],
			 SYNC, SYNC, FAKE_TLBI_NH_ASID(5), SYNC,
			 FAKE_ATC_INV(0x10, 0, 0, ATC_ALL), SYNC);
	FAKE_EXPECT_CMDS(test, f[1],
			 LEAF_VA(7, 0x40000, 2, 0, TG4K, 3), SYNC);
	KUNIT_EXPECT_EQ(test, atomic64_read(&f[0]->smmu.cmdq.inv_failures), 1);
	KUNIT_EXPECT_EQ(test, atomic64_read(&f[1]->smmu.cmdq.inv_failures), 0);
}

/*
 * Every command of ASID 5 is rejected: the range invalidation and its
 * retry both fail and count; so does an invalidation of everything, which
 * has nothing wider to retry with.
 */
static void inv_failure_counted(struct kunit *test)
{
	struct smmuv3_domain *domain;
	struct fake_smmu *f;

	f = fake_smmu_create(test, "smmu0", FEAT_RIL, 16, 8);
	{
		const struct smmuv3_inv inv[] = { FAKE_INV(f, S1, 5, 0, 1) };

		domain = domain_with(test, SMMUV3_STAGE_1, PGSIZES_4K, inv,
				     ARRAY_SIZE(inv));
	}
	fake_smmu_hw_start(test, f);
	fake_smmu_reject(f, MATCH_ASID, 5ull << 48);

	smmuv3_domain_inv_range(domain, 0x40000, 2 * SZ_4K, SZ_4K, true);
	FAKE_EXPECT_CMDS(test, f, SYNC, SYNC, SYNC, SYNC);
	KUNIT_EXPECT_EQ(test, f->rejected, 2);
	KUNIT_EXPECT_EQ(test, atomic64_read(&f->smmu.cmdq.inv_failures), 2);

	smmuv3_domain_inv_all(domain);
	FAKE_EXPECT_CMDS(test, f, SYNC, SYNC);
	KUNIT_EXPECT_EQ(test, atomic64_read(&f->smmu.cmdq.inv_failures), 3);
}

/*
 * smmu0 stops consuming commands: its invalidation times out (after the
 * queue's timeout, about 2 s) and counts; smmu1 still gets its own.
 */
static void inv_failure_timeout(struct kunit *test)
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
	fake_smmu_hw_start(test, f[0]);
	f[0]->hw_stalled = true;

	smmuv3_domain_inv_range(domain, 0x40000, 2 * SZ_4K, SZ_4K, true);
	KUNIT_EXPECT_EQ(test, atomic64_read(&f[0]->smmu.cmdq.timeouts), 1);
	KUNIT_EXPECT_EQ(test, atomic64_read(&f[0]->smmu.cmdq.inv_failures), 1);
	FAKE_EXPECT_CMDS(test, f[1],
			 LEAF_VA(7, 0x40000, 0, 1, TG4K, 3), SYNC);
	KUNIT_EXPECT_EQ(test, atomic64_read(&f[1]->smmu.cmdq.inv_failures), 0);
}

#if SMMUV3_HAVE_VIOMMU && IS_ENABLED(CONFIG_IOMMUFD_DRIVER_CORE)

/* --- Guest invalidations (iommufd.c) -------------------------------------- */

/*
 * A guest's commands, in user memory: TLBI_NH_ASID (opcode 0x11, ASID
 * [63:48]) of ASIDs 1..@num, little-endian.
 */
static void guest_cmds(struct kunit *test, struct iommu_user_data_array *a,
		       unsigned long uptr, unsigned int num)
{
	struct iommu_viommu_arm_smmuv3_invalidate *cmds;
	void __user *ucmds = (void __user *)uptr;
	unsigned int i;

	cmds = kunit_kcalloc(test, num, sizeof(*cmds), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, cmds);
	for (i = 0; i < num; i++)
		cmds[i].cmd[0] = cpu_to_le64(0x11 | (u64)(i + 1) << 48);
	KUNIT_ASSERT_EQ(test, copy_to_user(ucmds, cmds, num * sizeof(*cmds)),
			0);
	*a = (struct iommu_user_data_array){
		.type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
		.uptr = ucmds,
		.entry_len = sizeof(*cmds),
		.entry_num = num,
	};
}

/*
 * A vIOMMU with VMID 9 on a new fake instance that runs its queue, and a
 * page of user memory for the guest's commands.
 */
static struct smmuv3_viommu *guest_viommu(struct kunit *test,
					  struct fake_smmu **fp,
					  unsigned long *uptr)
{
	struct smmuv3_viommu *viommu;
	struct fake_smmu *f;

	f = fake_smmu_create(test, "smmu0", FEAT_RIL, 16, 8);
	viommu = kunit_kzalloc(test, sizeof(*viommu), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, viommu);
	viommu->smmu = &f->smmu;
	viommu->vmid = FAKE_INV(f, S1CLR, 9, 0, 1);
	xa_init(&viommu->core.vdevs);
	/*
	 * kunit_attach_mm() gives this test's kthread an mm, with a reference
	 * from kthread_use_mm() that nothing drops: the mm would outlive the
	 * test (kmemleak).  Drop it; the thread's own reference (mm_users)
	 * keeps the mm until the thread exits.
	 */
	KUNIT_ASSERT_NULL(test, current->mm);
	KUNIT_ASSERT_EQ(test, kunit_attach_mm(), 0);
	mmdrop(current->mm);
	*uptr = kunit_vm_mmap(test, NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
			      MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR_VALUE(*uptr) || !*uptr,
			       "no user memory");
	fake_smmu_hw_start(test, f);
	*fp = f;
	return viommu;
}

/*
 * The host issues them with the vIOMMU's VMID (9, VMID [47:32]).  When the
 * SMMU rejects one, the guest gets -EIO and no command counts as handled;
 * in particular when the rejected command was in the first 64, queued
 * without a CMD_SYNC as a full batch.
 */
static void guest_inv_rejected(struct kunit *test)
{
	struct iommu_user_data_array array;
	struct smmuv3_viommu *viommu;
	struct fake_cmd *expect;
	struct fake_smmu *f;
	unsigned long uptr;
	unsigned int i;

	viommu = guest_viommu(test, &f, &uptr);
	expect = kunit_kcalloc(test, 71, sizeof(*expect), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, expect);

	/* all accepted: handled, with the vIOMMU's VMID */
	guest_cmds(test, &array, uptr, 3);
	KUNIT_EXPECT_EQ(test, smmuv3_viommu_cache_invalidate(&viommu->core,
							     &array), 0);
	KUNIT_EXPECT_EQ(test, array.entry_num, 3);
	FAKE_EXPECT_CMDS(test, f, FAKE_TLBI_NH_ASID_VMID(9, 1),
			 FAKE_TLBI_NH_ASID_VMID(9, 2),
			 FAKE_TLBI_NH_ASID_VMID(9, 3), SYNC);

	/* the last one rejected */
	fake_smmu_reject(f, MATCH_OP | MATCH_ASID, 0x11 | 3ull << 48);
	guest_cmds(test, &array, uptr, 3);
	KUNIT_EXPECT_EQ(test, smmuv3_viommu_cache_invalidate(&viommu->core,
							     &array), -EIO);
	KUNIT_EXPECT_EQ(test, array.entry_num, 0);
	FAKE_EXPECT_CMDS(test, f, FAKE_TLBI_NH_ASID_VMID(9, 1),
			 FAKE_TLBI_NH_ASID_VMID(9, 2), SYNC, SYNC);

	/* 70 commands, the third rejected: it was in the first 64 */
	guest_cmds(test, &array, uptr, 70);
	KUNIT_EXPECT_EQ(test, smmuv3_viommu_cache_invalidate(&viommu->core,
							     &array), -EIO);
	KUNIT_EXPECT_EQ(test, array.entry_num, 0);
	for (i = 0; i < 70; i++)
		expect[i] = (struct fake_cmd)FAKE_TLBI_NH_ASID_VMID(9, i + 1);
	expect[2] = (struct fake_cmd)SYNC;
	expect[70] = (struct fake_cmd)SYNC;
	fake_expect_cmds(test, f, expect, 71);
	KUNIT_EXPECT_EQ(test, f->rejected, 2);
}

/*
 * A guest range invalidation with TG 4K (CMD1 [11:10] = 1) but NUM [16:12],
 * SCALE [24:20] and TTL [9:8] all 0 is reserved by the architecture
 * (CERROR_ILL on real SMMUs; QEMU accepts it): refused with -EIO before
 * anything is queued.  With NUM 1 (two pages) the same command is issued.
 */
static void guest_inv_reserved_range(struct kunit *test)
{
	struct iommu_viommu_arm_smmuv3_invalidate cmd = {};
	struct iommu_user_data_array array;
	struct smmuv3_viommu *viommu;
	struct fake_smmu *f;
	unsigned long uptr;

	viommu = guest_viommu(test, &f, &uptr);
	array = (struct iommu_user_data_array){
		.type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
		.uptr = (void __user *)uptr,
		.entry_len = sizeof(cmd),
		.entry_num = 1,
	};

	/* TLBI_NH_VA (0x12), ASID 3 [63:48]; VA 0x5000, TG 1 */
	cmd.cmd[0] = cpu_to_le64(0x12 | 3ull << 48);
	cmd.cmd[1] = cpu_to_le64(0x5000 | 1ull << 10);
	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)uptr, &cmd,
					   sizeof(cmd)), 0);
	KUNIT_EXPECT_EQ(test, smmuv3_viommu_cache_invalidate(&viommu->core,
							     &array), -EIO);
	KUNIT_EXPECT_EQ(test, array.entry_num, 0);
	KUNIT_EXPECT_EQ(test, fake_cmds_new(f), 0);

	/* NUM 1: two pages, a valid range */
	cmd.cmd[0] = cpu_to_le64(0x12 | 1ull << 12 | 3ull << 48);
	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)uptr, &cmd,
					   sizeof(cmd)), 0);
	array.entry_num = 1;
	KUNIT_EXPECT_EQ(test, smmuv3_viommu_cache_invalidate(&viommu->core,
							     &array), 0);
	KUNIT_EXPECT_EQ(test, array.entry_num, 1);
	FAKE_EXPECT_CMDS(test, f,
			 { 0x12 | 1ull << 12 | 9ull << 32 | 3ull << 48,
			   0x5000 | 1ull << 10 },
			 SYNC);
}

#endif /* CONFIG_IOMMUFD_DRIVER_CORE */

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
	KUNIT_CASE(inv_stack_not_cleared),
	KUNIT_CASE(inv_range_s2_s1_clear),
	KUNIT_CASE(inv_range_ats),
	KUNIT_CASE(inv_range_atc_span),
	KUNIT_CASE(inv_skips_unused),
	KUNIT_CASE(inv_range_encoding),
	KUNIT_CASE(inv_range_level_hint),
	KUNIT_CASE(inv_range_no_range_inv),
	KUNIT_CASE(inv_range_no_range_inv_s2),
	KUNIT_CASE(inv_all),
	KUNIT_CASE(inv_empty),
	KUNIT_CASE(inv_range_huge),
	KUNIT_CASE(inv_range_inexpressible),
	KUNIT_CASE(inv_range_no_range_inv_inexpressible),
	KUNIT_CASE(inv_failure_retries_whole),
	KUNIT_CASE(inv_failure_counted),
	KUNIT_CASE_SLOW(inv_failure_timeout),
#if SMMUV3_HAVE_VIOMMU && IS_ENABLED(CONFIG_IOMMUFD_DRIVER_CORE)
	KUNIT_CASE(guest_inv_rejected),
	KUNIT_CASE(guest_inv_reserved_range),
#endif
	{}
};

static struct kunit_suite smmuv3_invalidate_suite = {
	.name = "smmuv3-invalidate",
	.test_cases = smmuv3_invalidate_cases,
};

kunit_test_suites(&smmuv3_invalidate_suite);
