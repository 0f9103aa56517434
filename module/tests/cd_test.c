// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for context descriptors (cd.c): the stage-1 CD built from a
 * domain's page table configuration, the bits of a CD the SMMU uses, and
 * live CD updates through smmuv3_entry_update().
 *
 * Expected CDs are literal words composed from the CD layout of IHI 0070
 * section 5.4, with the derivation next to each:
 *
 *  word 0: T0SZ [5:0], TG0 [7:6], IR0 [9:8], OR0 [11:10], SH0 [13:12],
 *	EPD0 [14], ENDI [15], T1SZ [21:16], TG1 [23:22], IR1 [25:24], OR1
 *	[27:26], SH1 [29:28], EPD1 [30], V [31], IPS [34:32], AFFD [35],
 *	WXN [36], UWXN [37], TBI0 [38], TBI1 [39], PAN [40], AA64 [41], HD
 *	[42], HA [43], S [44], R [45], A [46], ASET [47], ASID [63:48]
 *  word 1: TTB0 [51:4]
 *  word 2: TTB1 [51:4]
 *  word 3: MAIR0/1 [63:0]
 *  word 4: AMAIR0/1 [63:0]
 */
#include <kunit/test.h>
#include <linux/io-pgtable.h>
#include <linux/kernel.h>
#include <linux/sizes.h>
#include <linux/string.h>

#include <smmuv3/smmuv3.h>

#include "fake_smmu.h"

#define NQ	SMMUV3_CD_QWORDS

static const struct fake_entry_kind cd_kind = {
	.name = "CD",
	.num_qwords = NQ,
	.get_used = smmuv3_cd_get_used,
	.v_bit = SMMUV3_CD0_V,
};

/*
 * The domain's table: T0SZ 25, TG 2 (16K), IRGN 1, ORGN 2, SH 3, IPS 4
 * (44 bits); distinct values so that swapped fields show.
 */
#define TTBR_A		0x0000001234568000ull
#define TTBR_B		0x00000009abcd0000ull
#define MAIR_A		0x0000000000ff0444ull
#define MAIR_B		0x00000000004404ffull

/*
 * CD word 0 for that table and ASID 0xbeef:
 *  bits 15..0: T0SZ 0x19 | TG0 2 << 6 | IR0 1 << 8 | OR0 2 << 10 |
 *	SH0 3 << 12 = 0x3999
 *  bits 31..16: EPD1 | V = 0xc000
 *  bits 47..32: IPS 4 | AA64 1 << 9 | R 1 << 13 | A 1 << 14 |
 *	ASET 1 << 15 = 0xe204
 *  bits 63..48: ASID 0xbeef
 */
#define CD0_BEEF	0xbeefe204c0003999ull
/* with HA and HD (bits 43 and 42: 0xc << 8 in bits 47..32) */
#define CD0_BEEF_HTTU	0xbeefee04c0003999ull
#define CD0_ASID(asid)	((CD0_BEEF & 0x0000ffffffffffffull) | (u64)(asid) << 48)

static struct smmuv3_domain *s1_domain(struct kunit *test)
{
	struct smmuv3_domain *domain;
	struct io_pgtable_cfg *cfg;

	domain = fake_domain_create(test, SMMUV3_STAGE_1,
				    SZ_16K | SZ_32M);
	cfg = &domain->pgtbl_cfg;
	cfg->arm_lpae_s1_cfg.tcr.tsz = 25;
	cfg->arm_lpae_s1_cfg.tcr.tg = 2;
	cfg->arm_lpae_s1_cfg.tcr.irgn = 1;
	cfg->arm_lpae_s1_cfg.tcr.orgn = 2;
	cfg->arm_lpae_s1_cfg.tcr.sh = 3;
	cfg->arm_lpae_s1_cfg.tcr.ips = 4;
	cfg->arm_lpae_s1_cfg.ttbr = TTBR_A;
	cfg->arm_lpae_s1_cfg.mair = MAIR_A;
	return domain;
}

static void expect_cd(struct kunit *test, const __le64 *cd, const u64 *expect)
{
	unsigned int i;

	for (i = 0; i < NQ; i++)
		KUNIT_EXPECT_EQ_MSG(test, le64_to_cpu(cd[i]), expect[i],
				    "CD word %u", i);
}

/* --- The builder ---------------------------------------------------------- */

static void cd_make_s1(struct kunit *test)
{
	static const u64 expect[NQ] = { CD0_BEEF, TTBR_A, 0, MAIR_A };
	static const u64 httu[NQ] = { CD0_BEEF_HTTU, TTBR_A, 0, MAIR_A };
	struct smmuv3_domain *domain = s1_domain(test);
	__le64 cd[NQ];

	memset(cd, 0xa5, sizeof(cd));
	smmuv3_cd_make_s1(cd, domain, 0xbeef);
	expect_cd(test, cd, expect);

	domain->pgtbl_cfg.quirks |= IO_PGTABLE_QUIRK_ARM_HD;
	smmuv3_cd_make_s1(cd, domain, 0xbeef);
	expect_cd(test, cd, httu);
}

/*
 * CD.ENDI (word 0 bit 15, IHI 0070 5.4) gives the endianness of the
 * stage-1 tables, which io-pgtable writes in the CPU's order: set on a
 * big-endian kernel, clear on a little-endian one (as this test checks
 * there, the words above having ENDI 0).
 */
static void cd_make_s1_endi(struct kunit *test)
{
	struct smmuv3_domain *domain = s1_domain(test);
	u64 endi = IS_ENABLED(CONFIG_CPU_BIG_ENDIAN) ? BIT_ULL(15) : 0;
	__le64 cd[NQ];

	smmuv3_cd_make_s1(cd, domain, 0xbeef);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(cd[0]) & BIT_ULL(15), endi);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(cd[0]) & ~BIT_ULL(15), CD0_BEEF);
}

/* The ASID fills bits 63..48; TTB0 keeps bits 51..4 of the TTBR only. */
static void cd_make_s1_limits(struct kunit *test)
{
	struct smmuv3_domain *domain = s1_domain(test);
	__le64 cd[NQ];

	smmuv3_cd_make_s1(cd, domain, 0);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(cd[0]), CD0_ASID(0));
	smmuv3_cd_make_s1(cd, domain, 0xffff);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(cd[0]), CD0_ASID(0xffff));

	domain->pgtbl_cfg.arm_lpae_s1_cfg.ttbr = 0xfff0000000000000ull |
						 TTBR_B | 0xf;
	smmuv3_cd_make_s1(cd, domain, 1);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(cd[1]), TTBR_B);
}

/* --- Used bits ------------------------------------------------------------ */

/*
 * word 0 of a valid CD with EPD1 (TTB1 walks disabled: T1SZ, TG1, IR1,
 * OR1, SH1 [29:16] IGNORED): bits 15..0 (T0SZ..ENDI) 0xffff; EPD1 [30] and
 * V [31] 0xc0000000; IPS, AFFD, WXN, UWXN, TBI0, TBI1 (bits 39..32) 0xff
 * and PAN..ASET (47..40) 0xff00, so 0xffff in bits 47..32; ASID 0xffff.
 * With EPD0 too, T0SZ, TG0, IR0, OR0, SH0 [13:0] go: 0xc000 in 15..0.
 * Without EPD1, bits 29..16 come back: all of word 0.
 */
#define USED0		0xffffffffc000ffffull
#define USED0_EPD0	0xffffffffc000c000ull
#define USED_TTB	0x000ffffffffffff0ull

static void expect_used(struct kunit *test, const char *what,
			const __le64 *cd, const u64 *expect)
{
	__le64 used[NQ];
	unsigned int i;

	memset(used, 0xa5, sizeof(used));
	smmuv3_cd_get_used(cd, used);
	for (i = 0; i < NQ; i++)
		KUNIT_EXPECT_EQ_MSG(test, le64_to_cpu(used[i]), expect[i],
				    "%s: used word %u", what, i);
}

static void cd_get_used(struct kunit *test)
{
	static const u64 invalid[NQ] = { 0x80000000ull };	/* CD0.V [31] */
	/* CD1.TTB0, CD3.MAIR, CD4.AMAIR; CD2.TTB1 only without EPD1 */
	static const u64 valid[NQ] = { USED0, USED_TTB, 0, ~0ull, ~0ull };
	static const u64 epd0[NQ] = { USED0_EPD0, 0, 0, ~0ull, ~0ull };
	static const u64 no_epd1[NQ] = { ~0ull, USED_TTB, USED_TTB, ~0ull,
					 ~0ull };
	struct smmuv3_domain *domain = s1_domain(test);
	__le64 cd[NQ];

	/* V = 0: only V, whatever else is there */
	memset(cd, 0xff, sizeof(cd));
	cd[0] &= ~cpu_to_le64(SMMUV3_CD0_V);
	expect_used(test, "invalid", cd, invalid);
	memset(cd, 0, sizeof(cd));
	expect_used(test, "zero", cd, invalid);

	smmuv3_cd_make_s1(cd, domain, 1);
	expect_used(test, "stage 1", cd, valid);

	/* Walks of TTB0 disabled: the table and its walk fields are not read. */
	cd[0] |= cpu_to_le64(BIT_ULL(14));		/* CD0.EPD0 [14] */
	expect_used(test, "EPD0", cd, epd0);

	/* Walks of TTB1 enabled: its fields and TTB1 are read. */
	smmuv3_cd_make_s1(cd, domain, 1);
	cd[0] &= ~cpu_to_le64(BIT_ULL(30));		/* CD0.EPD1 [30] */
	expect_used(test, "no EPD1", cd, no_epd1);
}

/* --- Updates -------------------------------------------------------------- */

static void make_s1(struct kunit *test, __le64 *cd, u16 asid, u64 ttbr,
		    u64 mair)
{
	struct smmuv3_domain *domain = s1_domain(test);

	domain->pgtbl_cfg.arm_lpae_s1_cfg.ttbr = ttbr;
	domain->pgtbl_cfg.arm_lpae_s1_cfg.mair = mair;
	smmuv3_cd_make_s1(cd, domain, asid);
}

/*
 * Zero to S1: nothing but V is used by an invalid CD, so the first step
 * writes words 0 (all but V), 1 and 3 (sync 1), then word 0 sets V
 * (sync 2).  Hitless: the SMMU sees either an invalid CD or the new one.
 */
static void cd_update_zero_to_s1(struct kunit *test)
{
	__le64 zero[NQ] = {}, s1[NQ];

	make_s1(test, s1, 1, TTBR_A, MAIR_A);
	fake_check_update(test, &cd_kind, zero, s1, 2, false);
}

/* S1 to zero: V goes first (sync 1), then the rest is cleared (sync 2). */
static void cd_update_s1_to_zero(struct kunit *test)
{
	__le64 zero[NQ] = {}, s1[NQ];

	make_s1(test, s1, 1, TTBR_A, MAIR_A);
	fake_check_update(test, &cd_kind, s1, zero, 2, false);
}

/*
 * New ASID and new TTB0: words 0 and 1 both differ on used bits, so
 * break-before-make: V cleared (sync 1), word 1 (sync 2), word 0 with V
 * (sync 3).
 */
static void cd_update_asid_ttb0(struct kunit *test)
{
	__le64 a[NQ], b[NQ];

	make_s1(test, a, 1, TTBR_A, MAIR_A);
	make_s1(test, b, 2, TTBR_B, MAIR_A);
	fake_check_update(test, &cd_kind, a, b, 3, true);
}

/* New ASID and new MAIR (words 0 and 3): break-before-make too. */
static void cd_update_asid_mair(struct kunit *test)
{
	__le64 a[NQ], b[NQ];

	make_s1(test, a, 1, TTBR_A, MAIR_A);
	make_s1(test, b, 2, TTBR_A, MAIR_B);
	fake_check_update(test, &cd_kind, a, b, 3, true);
}

/* One word changes: written alone, one sync. */
static void cd_update_one_word(struct kunit *test)
{
	__le64 a[NQ], b[NQ];

	make_s1(test, a, 1, TTBR_A, MAIR_A);
	make_s1(test, b, 2, TTBR_A, MAIR_A);
	fake_check_update(test, &cd_kind, a, b, 1, false);

	make_s1(test, b, 1, TTBR_B, MAIR_A);
	fake_check_update(test, &cd_kind, a, b, 1, false);
}

/*
 * From a CD with TTB0 walks disabled (EPD0) to one walking a new TTB0:
 * TTB0 is unused before, so it is written first (sync 1); then word 0
 * alone switches (sync 2).  Hitless.
 */
static void cd_update_from_epd0(struct kunit *test)
{
	__le64 a[NQ], b[NQ];

	make_s1(test, a, 1, TTBR_A, MAIR_A);
	a[0] |= cpu_to_le64(BIT_ULL(14));	/* CD0.EPD0 [14] */
	make_s1(test, b, 1, TTBR_B, MAIR_A);
	fake_check_update(test, &cd_kind, a, b, 2, false);
}

static void cd_update_same(struct kunit *test)
{
	__le64 a[NQ], b[NQ];

	make_s1(test, a, 3, TTBR_A, MAIR_A);
	make_s1(test, b, 3, TTBR_A, MAIR_A);
	fake_check_update(test, &cd_kind, a, b, 0, false);
}

static struct kunit_case smmuv3_cd_cases[] = {
	KUNIT_CASE(cd_make_s1),
	KUNIT_CASE(cd_make_s1_endi),
	KUNIT_CASE(cd_make_s1_limits),
	KUNIT_CASE(cd_get_used),
	KUNIT_CASE(cd_update_zero_to_s1),
	KUNIT_CASE(cd_update_s1_to_zero),
	KUNIT_CASE(cd_update_asid_ttb0),
	KUNIT_CASE(cd_update_asid_mair),
	KUNIT_CASE(cd_update_one_word),
	KUNIT_CASE(cd_update_from_epd0),
	KUNIT_CASE(cd_update_same),
	{}
};

static struct kunit_suite smmuv3_cd_suite = {
	.name = "smmuv3-cd",
	.test_cases = smmuv3_cd_cases,
};

kunit_test_suites(&smmuv3_cd_suite);
