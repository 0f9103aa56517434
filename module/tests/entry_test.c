// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the STE builders (ste.c) and live STE updates
 * (entry_update.c, through strtab.c's STE writer).
 *
 * Every update goes through fake_check_update() (fake_smmu.c), whose writer
 * checks at each sync that no word-by-word mix of the entry the SMMU could
 * read is torn between the old and the new configuration.
 */
#include <kunit/test.h>
#include <linux/bitfield.h>
#include <linux/io-pgtable.h>
#include <linux/kernel.h>
#include <linux/sizes.h>
#include <linux/string.h>

#include <smmuv3/smmuv3.h>

#include "fake_smmu.h"

#define NQ	SMMUV3_STE_QWORDS

static const struct fake_entry_kind ste_kind = {
	.name = "STE",
	.num_qwords = NQ,
	.get_used = smmuv3_ste_get_used,
	.v_bit = SMMUV3_STE0_V,
};

/*
 * Update an STE holding @old to @target and check the result: the final
 * entry, the number of syncs, that the last write was followed by a sync,
 * and whether the update went through an invalid STE.
 */
static void check_update(struct kunit *test, const __le64 *old,
			 const __le64 *target, unsigned int expect_syncs,
			 bool expect_bbm)
{
	fake_check_update(test, &ste_kind, old, target, expect_syncs,
			  expect_bbm);
}

/* --- STE builders, from the fields of regs.h ---------------------------- */

#define CTXPTR_A	0x0000000087654300ull	/* 64-byte aligned */
#define CTXPTR_B	0x00000000fedcba40ull
#define S2TTB_A		0x0000000412345000ull
#define S2TTB_B		0x0000000498765000ull

/*
 * Stage 1 with a linear table of one CD at @ctxptr.  S1DSS is terminate
 * (not bypass), so SHCFG is not used.
 */
static void make_s1(__le64 *ste, u64 ctxptr)
{
	memset(ste, 0, SMMUV3_STE_SIZE);
	ste[0] = cpu_to_le64(SMMUV3_STE0_V |
			     FIELD_PREP(SMMUV3_STE0_CFG, SMMUV3_STE_CFG_S1) |
			     FIELD_PREP(SMMUV3_STE0_S1FMT,
					SMMUV3_S1FMT_LINEAR) |
			     (ctxptr & SMMUV3_STE0_S1CTXPTR));
	ste[1] = cpu_to_le64(FIELD_PREP(SMMUV3_STE1_S1DSS,
					SMMUV3_S1DSS_TERMINATE) |
			     FIELD_PREP(SMMUV3_STE1_S1CIR, SMMUV3_CACHE_WBRA) |
			     FIELD_PREP(SMMUV3_STE1_S1COR, SMMUV3_CACHE_WBRA) |
			     FIELD_PREP(SMMUV3_STE1_S1CSH, SMMUV3_SH_ISH) |
			     FIELD_PREP(SMMUV3_STE1_STRW, SMMUV3_STRW_NSEL1));
}

/* Stage 2: 44-bit IPA, 4K granule, walk starting at level 1. */
static void make_s2(__le64 *ste, u16 vmid, u64 s2ttb)
{
	memset(ste, 0, SMMUV3_STE_SIZE);
	ste[0] = cpu_to_le64(SMMUV3_STE0_V |
			     FIELD_PREP(SMMUV3_STE0_CFG, SMMUV3_STE_CFG_S2));
	ste[1] = cpu_to_le64(FIELD_PREP(SMMUV3_STE1_SHCFG,
					SMMUV3_SHCFG_INCOMING));
	ste[2] = cpu_to_le64(FIELD_PREP(SMMUV3_STE2_S2VMID, vmid) |
			     FIELD_PREP(SMMUV3_STE2_S2T0SZ, 64 - 44) |
			     FIELD_PREP(SMMUV3_STE2_S2SL0, 1) |
			     FIELD_PREP(SMMUV3_STE2_S2IR0, SMMUV3_CACHE_WBRA) |
			     FIELD_PREP(SMMUV3_STE2_S2OR0, SMMUV3_CACHE_WBRA) |
			     FIELD_PREP(SMMUV3_STE2_S2SH0, SMMUV3_SH_ISH) |
			     FIELD_PREP(SMMUV3_STE2_S2PS,
					SMMUV3_ADDR_SIZE_44) |
			     SMMUV3_STE2_S2AA64 | SMMUV3_STE2_S2R);
	ste[3] = cpu_to_le64(s2ttb & SMMUV3_STE3_S2TTB);
}

static void set_cfg(__le64 *ste, u64 cfg)
{
	ste[0] &= ~cpu_to_le64(SMMUV3_STE0_CFG);
	ste[0] |= cpu_to_le64(FIELD_PREP(SMMUV3_STE0_CFG, cfg));
}

/* --- The constructors and get_used() ------------------------------------ */

static void ste_make_abort_bypass(struct kunit *test)
{
	__le64 ste[NQ];
	int i;

	/* V (bit 0), CFG [3:1] = 0b000 */
	memset(ste, 0xa5, sizeof(ste));
	smmuv3_ste_make_abort(ste);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(ste[0]), 0x0000000000000001ull);
	for (i = 1; i < NQ; i++)
		KUNIT_EXPECT_EQ_MSG(test, le64_to_cpu(ste[i]), 0,
				    "abort qword %d", i);

	/* V, CFG = 0b100: 0x9; SHCFG [45:44] = 1 (incoming) */
	memset(ste, 0xa5, sizeof(ste));
	smmuv3_ste_make_bypass(ste);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(ste[0]), 0x0000000000000009ull);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(ste[1]), 0x0000100000000000ull);
	for (i = 2; i < NQ; i++)
		KUNIT_EXPECT_EQ_MSG(test, le64_to_cpu(ste[i]), 0,
				    "bypass qword %d", i);
}

static void expect_used(struct kunit *test, const char *what,
			const __le64 *ste, const u64 *expect)
{
	__le64 used[NQ];
	int i;

	memset(used, 0xa5, sizeof(used));
	smmuv3_ste_get_used(ste, used);
	for (i = 0; i < NQ; i++)
		KUNIT_EXPECT_EQ_MSG(test, le64_to_cpu(used[i]), expect[i],
				    "%s: used qword %d", what, i);
}

/*
 * Used bits, derived from the STE layout (IHI 0070 5.2), per Config:
 *  word 0: V [0] 0x1, Config [3:1] 0xe; stage 1: S1Fmt [5:4] 0x30,
 *	S1ContextPtr [51:6] 0x000fffffffffffc0, S1CDMax [63:59]
 *	0xf800000000000000
 *  word 1: stage 1: S1CIR [3:2], S1COR [5:4], S1CSH [7:6] 0xfc, MEV [19]
 *	0x80000, S1STALLD [27] 0x8000000, EATS [29:28] 0x30000000, STRW
 *	[31:30] 0xc0000000; S1DSS [1:0] 0x3 only with S1CDMax != 0, and then
 *	SHCFG [45:44] 0x0000300000000000 if S1DSS is bypass (0b01);
 *	stage 2: MEV, S2FWB [25] 0x2000000, EATS, SHCFG; bypass: SHCFG
 *  word 2: S2VMID [15:0] 0xffff for stage 2 and for stage 1 (tagging
 *	stage-1-only translations); stage 2: VTCR [50:32]
 *	0x0007ffff00000000, S2AA64 [51], S2ENDI [52], S2AFFD [53], S2PTW
 *	[54] 0x0078000000000000, S2S [57], S2R [58] 0x0600000000000000
 *  word 3: stage 2: S2TTB [51:4] 0x000ffffffffffff0
 */
static void ste_get_used(struct kunit *test)
{
	static const u64 invalid[NQ] = { 0x1 };
	static const u64 abort[NQ] = { 0xf };
	static const u64 bypass[NQ] = { 0xf, 0x0000300000000000ull };
	/* S1CDMax 0: no S1DSS, whatever it holds, and so no SHCFG */
	static const u64 s1[NQ] = { 0xf80fffffffffffffull, 0xf80800fcull,
				    0xffff };
	static const u64 s1_ssid[NQ] = { 0xf80fffffffffffffull, 0xf80800ffull,
					 0xffff };
	static const u64 s1_ssid_bypass[NQ] = {
		0xf80fffffffffffffull, 0x00003000f80800ffull, 0xffff };
	static const u64 s2[NQ] = { 0xf, 0x0000300032080000ull,
				    0x067fffff0000ffffull,
				    0x000ffffffffffff0ull };
	static const u64 nested[NQ] = { 0xf80fffffffffffffull,
					0x00003000fa0800fcull,
					0x067fffff0000ffffull,
					0x000ffffffffffff0ull };
	__le64 ste[NQ], s1_words[NQ];

	/* V = 0: nothing but V, whatever else the entry holds */
	make_s1(ste, CTXPTR_A);
	ste[0] &= ~cpu_to_le64(SMMUV3_STE0_V);
	expect_used(test, "invalid", ste, invalid);

	smmuv3_ste_make_abort(ste);
	ste[1] = cpu_to_le64(SMMUV3_STE1_SHCFG);	/* ignored by abort */
	expect_used(test, "abort", ste, abort);

	smmuv3_ste_make_bypass(ste);
	expect_used(test, "bypass", ste, bypass);

	make_s1(ste, CTXPTR_A);
	expect_used(test, "s1", ste, s1);

	ste[1] |= cpu_to_le64(FIELD_PREP(SMMUV3_STE1_S1DSS,
					 SMMUV3_S1DSS_BYPASS));
	expect_used(test, "s1 with S1DSS bypass, S1CDMax 0", ste, s1);

	/* S1CDMax 4 (4 << 59) */
	make_s1(ste, CTXPTR_A);
	ste[0] |= cpu_to_le64(0x2000000000000000ull);
	expect_used(test, "s1 with substreams", ste, s1_ssid);
	ste[1] |= cpu_to_le64(FIELD_PREP(SMMUV3_STE1_S1DSS,
					 SMMUV3_S1DSS_BYPASS));
	expect_used(test, "s1 with substreams, S1DSS bypass", ste,
		    s1_ssid_bypass);

	make_s2(ste, 1, S2TTB_A);
	expect_used(test, "s2", ste, s2);

	/* Nested: the S1 fields on top of an S2 STE, CFG = 0b111 */
	make_s2(ste, 1, S2TTB_A);
	make_s1(s1_words, CTXPTR_A);
	ste[0] |= s1_words[0];
	ste[1] |= s1_words[1];
	set_cfg(ste, SMMUV3_STE_CFG_NESTED);
	expect_used(test, "nested", ste, nested);
}

/*
 * The builders of stage-1 and stage-2 STEs, against literal words:
 *  stage 1 (S1DSS SSID0, one CD): word 2 is 0, S2VMID [15:0] = 0 included
 *  stage 2 with an FWB table: word 1 = SHCFG 1 << 44 | S2FWB 1 << 25 =
 *	0x0000100002000000; word 2 has no bit 59 (RES0 there)
 */
static void ste_make_s1_s2(struct kunit *test)
{
	struct fake_smmu *f;
	struct smmuv3_master *m;
	struct smmuv3_domain *d;
	static const u32 sid = 1;
	__le64 ste[NQ];
	int i;

	f = fake_smmu_create(test, "smmu0", SMMUV3_FEAT_S1 | SMMUV3_FEAT_S2,
			     16, 4);
	fake_smmu_add_strtab(test, f, 4);
	m = fake_master_create(test, f, &sid, 1);
	KUNIT_ASSERT_EQ(test, smmuv3_cdtab_alloc(m), 0);
	memset(ste, 0xa5, sizeof(ste));
	smmuv3_ste_make_s1(ste, m, SMMUV3_S1DSS_SSID0);
	/* V, Config 0b101 = 0xb, S1ContextPtr = the table */
	KUNIT_EXPECT_EQ_MSG(test, le64_to_cpu(ste[0]),
			    0xbull | (m->cdtab->dma & 0x000fffffffffffc0ull),
			    "STE0.V, Config, S1ContextPtr");
	/*
	 * Word 1: S1CIR [3:2] and S1COR [5:4] 0b01 (WBRA), S1CSH [7:6] 0b11
	 * (inner shareable), STRW [31:30] 0b00 (NS-EL1): 0xd4.  S1DSS [1:0]
	 * is 0: with S1CDMax 0 the SMMU ignores it (IHI 0070 5.2).
	 */
	KUNIT_EXPECT_EQ_MSG(test, le64_to_cpu(ste[1]), 0xd4ull,
			    "STE1: S1CIR, S1COR, S1CSH; S1DSS 0 without substreams");
	for (i = 2; i < NQ; i++)
		KUNIT_EXPECT_EQ_MSG(test, le64_to_cpu(ste[i]), 0,
				    "stage 1 word %d (STE2.S2VMID [15:0] = 0)",
				    i);
	/*
	 * Detach of such a stage-1 STE to abort: word 0 alone switches the
	 * configuration (sync 1), then words 1-3, unused by abort, are
	 * cleared (sync 2).  A field the SMMU does not read (S1DSS here)
	 * left non-zero would cost a third step of its own.
	 */
	{
		__le64 abort[NQ];

		smmuv3_ste_make_abort(abort);
		check_update(test, ste, abort, 2, false);
	}

	d = fake_domain_create(test, SMMUV3_STAGE_2, SZ_4K);
	/* Where io-pgtable writes FWB-format tables (compat.h). */
	if (SMMUV3_PGTABLE_S2FWB) {
		d->pgtbl_cfg.quirks |= SMMUV3_PGTABLE_S2FWB;
		smmuv3_ste_make_s2(ste, d, 7);
		KUNIT_EXPECT_EQ_MSG(test, le64_to_cpu(ste[1]),
				    0x0000100002000000ull,
				    "STE1.SHCFG [45:44] incoming, STE1.S2FWB [25]");
		KUNIT_EXPECT_EQ_MSG(test, le64_to_cpu(ste[2]) & BIT_ULL(59), 0,
				    "STE2 bit 59 (not S2FWB)");
		KUNIT_EXPECT_EQ_MSG(test, le64_to_cpu(ste[2]) & 0xffff, 7,
				    "STE2.S2VMID [15:0]");
	}

	d->pgtbl_cfg.quirks = 0;
	smmuv3_ste_make_s2(ste, d, 7);
	KUNIT_EXPECT_EQ_MSG(test, le64_to_cpu(ste[1]), 0x0000100000000000ull,
			    "STE1.SHCFG [45:44] incoming, no S2FWB");
	/*
	 * STE.S2ENDI (word 2 bit 52, IHI 0070 5.2): the stage-2 table is in
	 * the CPU's order, as io-pgtable writes it.
	 */
	KUNIT_EXPECT_EQ_MSG(test, le64_to_cpu(ste[2]) & BIT_ULL(52),
			    IS_ENABLED(CONFIG_CPU_BIG_ENDIAN) ? BIT_ULL(52) : 0,
			    "STE2.S2ENDI [52]");
}

/* --- Updates ------------------------------------------------------------ */

/* V = 0 to abort: only word 0 changes (V), one store, one sync. */
static void update_zero_to_abort(struct kunit *test)
{
	__le64 zero[NQ] = {}, abort[NQ];

	smmuv3_ste_make_abort(abort);
	check_update(test, zero, abort, 1, false);
}

/*
 * Abort to bypass: SHCFG is unused by abort, so step (a) writes it (sync
 * 1); then word 0 alone switches the configuration (sync 2).
 */
static void update_abort_to_bypass(struct kunit *test)
{
	__le64 abort[NQ], bypass[NQ];

	smmuv3_ste_make_abort(abort);
	smmuv3_ste_make_bypass(bypass);
	check_update(test, abort, bypass, 2, false);
}

/*
 * Bypass to abort: step (a) has nothing to do (SHCFG is used by bypass);
 * only word 0 differs on bits abort uses, so it is written alone (sync 1),
 * then SHCFG, unused by abort, is cleared (sync 2).
 */
static void update_bypass_to_abort(struct kunit *test)
{
	__le64 abort[NQ], bypass[NQ];

	smmuv3_ste_make_abort(abort);
	smmuv3_ste_make_bypass(bypass);
	check_update(test, bypass, abort, 2, false);
}

static void update_abort_to_abort(struct kunit *test)
{
	__le64 a[NQ], b[NQ];

	smmuv3_ste_make_abort(a);
	smmuv3_ste_make_abort(b);
	check_update(test, a, b, 0, false);
}

/*
 * Abort with garbage in a word abort does not use: step (a) cleans it
 * (sync 1) and nothing is left to switch.
 */
static void update_abort_cleanup(struct kunit *test)
{
	__le64 dirty[NQ], abort[NQ];

	smmuv3_ste_make_abort(abort);
	smmuv3_ste_make_abort(dirty);
	dirty[5] = cpu_to_le64(0x0123456789abcdefull);
	check_update(test, dirty, abort, 1, false);
}

/*
 * S2 to S2 with another VMID (word 2) and another S2TTB (word 3): two words
 * differ on used bits, so break-before-make: V cleared (sync 1), words 1..7
 * (sync 2), word 0 (sync 3).
 */
static void update_s2_to_s2(struct kunit *test)
{
	__le64 a[NQ], b[NQ];

	make_s2(a, 1, S2TTB_A);
	make_s2(b, 2, S2TTB_B);
	check_update(test, a, b, 3, true);
}

/*
 * S1 (S1DSS terminate) to bypass:
 *  (a) SHCFG is unused by S1 with this S1DSS: word 1 gets SHCFG = incoming
 *      (sync 1);
 *  (b) bypass uses V, CFG and SHCFG; only word 0 still differs on those,
 *      so it is written in one store (sync 2);
 *  (c) word 1 still holds S1CIR/S1COR/S1CSH, unused by bypass: cleared
 *      (sync 3).
 * Hitless, 3 syncs.
 */
static void update_s1_to_bypass(struct kunit *test)
{
	__le64 s1[NQ], bypass[NQ];

	make_s1(s1, CTXPTR_A);
	smmuv3_ste_make_bypass(bypass);
	check_update(test, s1, bypass, 3, false);
}

/* S1 to S1 with another context pointer: word 0 alone, one sync. */
static void update_s1_ctxptr(struct kunit *test)
{
	__le64 a[NQ], b[NQ];

	make_s1(a, CTXPTR_A);
	make_s1(b, CTXPTR_B);
	check_update(test, a, b, 1, false);
}

static void update_s1_to_s1_same(struct kunit *test)
{
	__le64 a[NQ], b[NQ];

	make_s1(a, CTXPTR_A);
	make_s1(b, CTXPTR_A);
	check_update(test, a, b, 0, false);
}

/*
 * V = 0 to S1: everything but V is unused by an invalid STE, so step (a)
 * writes all of it (sync 1), then word 0 sets V (sync 2).
 */
static void update_zero_to_s1(struct kunit *test)
{
	__le64 zero[NQ] = {}, s1[NQ];

	make_s1(s1, CTXPTR_A);
	check_update(test, zero, s1, 2, false);
}

/*
 * S1 to V = 0: word 0 (V) first (sync 1), then word 1, unused by an
 * invalid STE, is cleared (sync 2).
 */
static void update_s1_to_zero(struct kunit *test)
{
	__le64 zero[NQ] = {}, s1[NQ];

	make_s1(s1, CTXPTR_A);
	check_update(test, s1, zero, 2, false);
}

/*
 * S1 to S2: a stage-1 STE uses S2VMID (0), stage 2 has VMID 1, so words 0
 * and 2 both differ on used bits: break-before-make, V cleared (sync 1),
 * words 1..7 (sync 2), word 0 (sync 3).  A hitless switch would let the
 * stage-1 configuration run under VMID 1 for a moment, filling TLB entries
 * that stage-1 invalidations (VMID 0) never hit.
 */
static void update_s1_to_s2(struct kunit *test)
{
	__le64 s1[NQ], s2[NQ];

	make_s1(s1, CTXPTR_A);
	make_s2(s2, 1, S2TTB_A);
	check_update(test, s1, s2, 3, true);
}

/* S2 to S1: the same the other way: break-before-make, 3 syncs. */
static void update_s2_to_s1(struct kunit *test)
{
	__le64 s1[NQ], s2[NQ];

	make_s1(s1, CTXPTR_A);
	make_s2(s2, 1, S2TTB_A);
	check_update(test, s2, s1, 3, true);
}

/*
 * S2 to S2 with the FWB attribute format: STE1.S2FWB is used by stage 2,
 * alone in word 1: one store, one sync.
 */
static void update_s2_fwb(struct kunit *test)
{
	__le64 a[NQ], b[NQ];

	make_s2(a, 1, S2TTB_A);
	make_s2(b, 1, S2TTB_A);
	b[1] |= cpu_to_le64(BIT_ULL(25));	/* STE1.S2FWB [25] */
	check_update(test, a, b, 1, false);
}

static struct kunit_case smmuv3_entry_cases[] = {
	KUNIT_CASE(ste_make_abort_bypass),
	KUNIT_CASE(ste_get_used),
	KUNIT_CASE(ste_make_s1_s2),
	KUNIT_CASE(update_zero_to_abort),
	KUNIT_CASE(update_abort_to_bypass),
	KUNIT_CASE(update_bypass_to_abort),
	KUNIT_CASE(update_abort_to_abort),
	KUNIT_CASE(update_abort_cleanup),
	KUNIT_CASE(update_s2_to_s2),
	KUNIT_CASE(update_s1_to_bypass),
	KUNIT_CASE(update_s1_ctxptr),
	KUNIT_CASE(update_s1_to_s1_same),
	KUNIT_CASE(update_zero_to_s1),
	KUNIT_CASE(update_s1_to_zero),
	KUNIT_CASE(update_s1_to_s2),
	KUNIT_CASE(update_s2_to_s1),
	KUNIT_CASE(update_s2_fwb),
	{}
};

static struct kunit_suite smmuv3_entry_suite = {
	.name = "smmuv3-entry",
	.test_cases = smmuv3_entry_cases,
};

kunit_test_suites(&smmuv3_entry_suite);
