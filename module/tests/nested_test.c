// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for nested domains (nested.c): checking a guest's STE and
 * building the STE of a device in a nested domain.
 *
 * Guest STEs and expected STEs are literal words composed from the STE
 * layout of IHI 0070 section 5.2, with the derivation next to each:
 *
 *  word 0: V [0], Config [3:1], S1Fmt [5:4], S1ContextPtr [51:6],
 *	S1CDMax [63:59]
 *  word 1: S1DSS [1:0], S1CIR [3:2], S1COR [5:4], S1CSH [7:6], MEV [19],
 *	S2FWB [25], S1STALLD [27], EATS [29:28], STRW [31:30], SHCFG [45:44]
 *  word 2: S2VMID [15:0], S2T0SZ [37:32], S2SL0 [39:38], S2IR0 [41:40],
 *	S2OR0 [43:42], S2SH0 [45:44], S2TG [47:46], S2PS [50:48], S2AA64
 *	[51], S2PTW [54], S2R [58]
 *  word 3: S2TTB [51:4]
 */
#include <kunit/test.h>
#include <linux/bits.h>
#include <linux/io-pgtable.h>
#include <linux/kernel.h>
#include <linux/sizes.h>

#include <smmuv3/smmuv3.h>

#include "fake_smmu.h"

/*
 * What the uapi (struct iommu_hwpt_arm_smmuv3) lets a guest set:
 *  word 0: V, Cfg, S1Fmt, S1ContextPtr = bits [51:0]; S1CDMax = [63:59]
 *  word 1: S1DSS, S1CIR, S1COR, S1CSH = [7:0]; S1STALLD = bit 27; EATS
 *	[29:28] is listed too, but see vste_eats.
 */
#define ALLOWED0	0xf80fffffffffffffull
#define ALLOWED1	0x00000000080000ffull
#define EATS1		0x0000000030000000ull

/*
 * A valid guest stage-1 STE:
 *  word 0: V 0x1, Cfg 0b101 << 1 = 0xa, S1Fmt 0 (linear), S1ContextPtr
 *	0x0000001234567840, S1CDMax 3 << 59 = 0x1800000000000000
 *  word 1: S1DSS 2 (substream 0) 0x2, S1CIR 1 << 2 = 0x4, S1COR 1 << 4 =
 *	0x10, S1CSH 3 << 6 = 0xc0, S1STALLD 0x08000000
 */
#define GUEST_S1_0	0x180000123456784bull
#define GUEST_S1_1	0x00000000080000d6ull

#define CFG_SHIFT	1
#define FMT_SHIFT	4
#define CDMAX_SHIFT	59
#define CFG_MASK	(0x7ull << CFG_SHIFT)
#define FMT_MASK	(0x3ull << FMT_SHIFT)
#define CDMAX_MASK	(0x1full << CDMAX_SHIFT)
#define DSS_MASK	0x3ull

/* The parent's S2 STE, built from parent_s2() with VMID 0x1234:
 *  word 0: V, Config 0b110 << 1: 0xd
 *  word 1: SHCFG 1 (incoming) << 44
 *  word 2: VMID 0x1234; S2T0SZ 24, S2SL0 2, S2IR0 1, S2OR0 2, S2SH0 3,
 *	S2TG 1 (64K), S2PS 2 (40 bits), S2AA64, S2PTW, S2R; bits 63..32:
 *	0x18 | 2 << 6 | 1 << 8 | 2 << 10 | 3 << 12 | 1 << 14 | 2 << 16 |
 *	1 << 19 | 1 << 22 | 1 << 26 = 0x044a7998
 *  word 3: S2TTB 0x000000456789a000
 */
#define VMID		0x1234
#define S2_0		0x000000000000000dull
#define S2_1		0x0000100000000000ull
#define S2_2		0x044a799800001234ull
#define S2_3		0x000000456789a000ull
/* STE1.S2FWB [25]: SHCFG 1 << 44 | 1 << 25 */
#define S2_1_FWB	0x0000100002000000ull
/* STE1.MEV [19], set by the host in the STEs of nested domains */
#define MEV1		0x0000000000080000ull

/*
 * An instance with stall model 0b00 (stalls optional: SMMUV3_FEAT_STALLS
 * without STALL_FORCE), where a guest may set S1STALLD; see vste_s1stalld.
 */
static struct fake_smmu *vsmmu(struct kunit *test, u32 flags, u8 ssid_bits)
{
	struct fake_smmu *f;

	f = fake_smmu_create(test, "smmu0",
			     SMMUV3_FEAT_NESTING | SMMUV3_FEAT_RANGE_INV |
			     SMMUV3_FEAT_STALLS | flags, 16, 4);
	f->smmu.feat.ssid_bits = ssid_bits;
	return f;
}

static int validate(struct fake_smmu *f, __le64 *vste, u64 w0, u64 w1)
{
	vste[0] = cpu_to_le64(w0);
	vste[1] = cpu_to_le64(w1);
	return smmuv3_vste_validate(&f->smmu, vste, NULL);
}

/* Accepted, and left as it was. */
static void expect_valid(struct kunit *test, struct fake_smmu *f, u64 w0,
			 u64 w1, const char *what)
{
	__le64 vste[2];

	KUNIT_EXPECT_EQ_MSG(test, validate(f, vste, w0, w1), 0, "%s", what);
	KUNIT_EXPECT_EQ_MSG(test, le64_to_cpu(vste[0]), w0, "%s word 0", what);
	KUNIT_EXPECT_EQ_MSG(test, le64_to_cpu(vste[1]), w1, "%s word 1", what);
}

static void expect_eio(struct kunit *test, struct fake_smmu *f, u64 w0,
		       u64 w1, const char *what)
{
	__le64 vste[2];

	KUNIT_EXPECT_EQ_MSG(test, validate(f, vste, w0, w1), -EIO,
			    "%s: %016llx %016llx", what, w0, w1);
}

/* --- Validation ----------------------------------------------------------- */

static void vste_allowed(struct kunit *test)
{
	struct fake_smmu *f = vsmmu(test, 0, 8);
	u64 dss;

	expect_valid(test, f, 0x1, 0, "abort (Cfg 0)");
	expect_valid(test, f, 0x9, 0, "bypass (Cfg 0b100)");
	expect_valid(test, f, GUEST_S1_0, GUEST_S1_1, "stage 1");
	for (dss = 0; dss <= 2; dss++)
		expect_valid(test, f, GUEST_S1_0,
			     (GUEST_S1_1 & ~DSS_MASK) | dss, "S1DSS 0..2");
	/* every allowed bit of word 1 at once */
	expect_valid(test, f, GUEST_S1_0, ALLOWED1 & ~1ull, "word 1 full");
	/* the largest context pointer */
	expect_valid(test, f, (GUEST_S1_0 & ~0x000fffffffffffc0ull) |
		     0x000fffffffffffc0ull, 0, "S1ContextPtr all ones");
}

/*
 * V = 0: aborts whatever else the guest wrote in allowed fields, even
 * values that would be refused with V = 1; both words are cleared.
 */
static void vste_invalid_cleared(struct kunit *test)
{
	struct fake_smmu *f = vsmmu(test, 0, 0);
	__le64 vste[2];

	/* S1, CDMax 31 > 0 SSID bits, S1Fmt 3, S1DSS 3: all allowed bits */
	KUNIT_EXPECT_EQ(test, validate(f, vste, ALLOWED0 & ~1ull, ALLOWED1), 0);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(vste[0]), 0);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(vste[1]), 0);

	KUNIT_EXPECT_EQ(test, validate(f, vste, 0, 0), 0);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(vste[0]), 0);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(vste[1]), 0);
}

/*
 * Each of the 128 bits outside what a guest may set is refused, on a valid
 * stage-1 STE and on an invalid one (the uapi refuses any non-allowed
 * field, V or not).  7 bits of word 0 and 53 of word 1 (EATS aside).
 */
static void vste_forbidden_bits(struct kunit *test)
{
	static const u64 allowed[2] = { ALLOWED0, ALLOWED1 | EATS1 };
	struct fake_smmu *f = vsmmu(test, 0, 8);
	unsigned int b, forbidden = 0;

	for (b = 0; b < 128; b++) {
		u64 bit = BIT_ULL(b % 64);
		u64 s1[2] = { GUEST_S1_0, GUEST_S1_1 };
		u64 off[2] = { 0, 0 };
		__le64 vste[2];

		if (allowed[b / 64] & bit)
			continue;
		forbidden++;
		s1[b / 64] |= bit;
		off[b / 64] |= bit;
		KUNIT_EXPECT_EQ_MSG(test, validate(f, vste, s1[0], s1[1]),
				    -EIO, "bit %u of stage 1", b);
		KUNIT_EXPECT_EQ_MSG(test, validate(f, vste, off[0], off[1]),
				    -EIO, "bit %u with V = 0", b);
	}
	KUNIT_EXPECT_EQ(test, forbidden, 60);
}

/*
 * EATS [29:28]: 0b00 (no ATS) and 0b01 (full ATS) are a guest's choice;
 * 0b10 (split-stage ATS) and 0b11 (reserved) are refused.  The validated
 * STE has EATS cleared (the host decides the physical STE's), and reports
 * whether a stage-1 STE asked for ATS.  A bypass STE never gets ATS.
 */
static void vste_eats(struct kunit *test)
{
	struct fake_smmu *f = vsmmu(test, SMMUV3_FEAT_ATS, 8);
	__le64 vste[2];
	bool ats;
	u64 eats;

	for (eats = 2; eats <= 3; eats++)
		expect_eio(test, f, GUEST_S1_0, GUEST_S1_1 | eats << 28,
			   "EATS");
	for (eats = 0; eats <= 1; eats++) {
		vste[0] = cpu_to_le64(GUEST_S1_0);
		vste[1] = cpu_to_le64(GUEST_S1_1 | eats << 28);
		KUNIT_EXPECT_EQ(test, smmuv3_vste_validate(&f->smmu, vste, &ats),
				0);
		KUNIT_EXPECT_EQ(test, le64_to_cpu(vste[1]), GUEST_S1_1);
		KUNIT_EXPECT_EQ(test, ats, eats == 1);
	}
	/* Bypass: V, Config 0b100 */
	vste[0] = cpu_to_le64(0x9);
	vste[1] = cpu_to_le64(1ull << 28);
	KUNIT_EXPECT_EQ(test, smmuv3_vste_validate(&f->smmu, vste, &ats), 0);
	KUNIT_EXPECT_FALSE(test, ats);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(vste[1]), 0);
}

/* Config: abort, bypass and stage 1 only. */
static void vste_cfg(struct kunit *test)
{
	static const int expect[8] = {
		[0] = 0,	/* abort */
		[1] = -EIO, [2] = -EIO, [3] = -EIO,	/* reserved */
		[4] = 0,	/* bypass */
		[5] = 0,	/* stage 1 */
		[6] = -EIO,	/* stage 2: the host's */
		[7] = -EIO,	/* nested: the host's */
	};
	struct fake_smmu *f = vsmmu(test, 0, 8);
	u64 cfg;

	for (cfg = 0; cfg < 8; cfg++) {
		__le64 vste[2];

		KUNIT_EXPECT_EQ_MSG(test,
				    validate(f, vste,
					     (GUEST_S1_0 & ~CFG_MASK) |
					     cfg << CFG_SHIFT, GUEST_S1_1),
				    expect[cfg], "Cfg %llu", cfg);
	}
}

/* S1CDMax up to the instance's SSID bits; ignored unless stage 1. */
static void vste_s1cdmax(struct kunit *test)
{
	struct fake_smmu *f8 = vsmmu(test, 0, 8), *f0 = vsmmu(test, 0, 0);
	u64 base = GUEST_S1_0 & ~CDMAX_MASK;

	expect_valid(test, f8, base | 8ull << CDMAX_SHIFT, GUEST_S1_1,
		     "CDMax 8 of 8");
	expect_eio(test, f8, base | 9ull << CDMAX_SHIFT, GUEST_S1_1,
		   "CDMax 9 of 8");
	expect_eio(test, f8, base | 31ull << CDMAX_SHIFT, GUEST_S1_1,
		   "CDMax 31 of 8");
	expect_valid(test, f0, base, GUEST_S1_1, "CDMax 0 of 0");
	expect_eio(test, f0, base | 1ull << CDMAX_SHIFT, GUEST_S1_1,
		   "CDMax 1 of 0");
	/* bypass: the stage-1 fields mean nothing */
	expect_valid(test, f0, 0x9 | 31ull << CDMAX_SHIFT, 0,
		     "bypass, CDMax 31 of 0");
}

/* Two-level CD tables only where the instance has them; 0b11 reserved. */
static void vste_s1fmt(struct kunit *test)
{
	struct fake_smmu *lin = vsmmu(test, 0, 8);
	struct fake_smmu *two = vsmmu(test, SMMUV3_FEAT_2LVL_CDTAB, 8);
	u64 base = GUEST_S1_0 & ~FMT_MASK;

	expect_valid(test, lin, base, GUEST_S1_1, "linear");
	expect_eio(test, lin, base | 1ull << FMT_SHIFT, GUEST_S1_1,
		   "4K leaves without 2LVL_CDTAB");
	expect_eio(test, lin, base | 2ull << FMT_SHIFT, GUEST_S1_1,
		   "64K leaves without 2LVL_CDTAB");
	expect_eio(test, lin, base | 3ull << FMT_SHIFT, GUEST_S1_1,
		   "reserved S1Fmt");

	expect_valid(test, two, base, GUEST_S1_1, "linear, 2LVL_CDTAB");
	expect_valid(test, two, base | 1ull << FMT_SHIFT, GUEST_S1_1,
		     "4K leaves with 2LVL_CDTAB");
	expect_valid(test, two, base | 2ull << FMT_SHIFT, GUEST_S1_1,
		     "64K leaves with 2LVL_CDTAB");
	expect_eio(test, two, base | 3ull << FMT_SHIFT, GUEST_S1_1,
		   "reserved S1Fmt, 2LVL_CDTAB");
}

static void vste_s1dss(struct kunit *test)
{
	struct fake_smmu *f = vsmmu(test, 0, 8);

	expect_eio(test, f, GUEST_S1_0, GUEST_S1_1 | DSS_MASK,
		   "S1DSS 3 (reserved)");
}

/*
 * STE.S1STALLD [27] is ILLEGAL unless SMMU_IDR0.STALL_MODEL is 0b00 (IHI
 * 0070 5.2, STE.S1STALLD): refused on an instance without stalls (0b01) or
 * with forced stalls (0b10), accepted with optional stalls (0b00).
 */
static void vste_s1stalld(struct kunit *test)
{
	static const struct {
		u32 flags;
		int expect;
		const char *what;
	} model[] = {
		{ SMMUV3_FEAT_STALLS, 0, "STALL_MODEL 0b00" },
		{ 0, -EIO, "STALL_MODEL 0b01 (no stalls)" },
		{ SMMUV3_FEAT_STALLS | SMMUV3_FEAT_STALL_FORCE, -EIO,
		  "STALL_MODEL 0b10 (forced stalls)" },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(model); i++) {
		struct fake_smmu *f;
		__le64 vste[2];

		f = fake_smmu_create(test, "smmu0",
				     SMMUV3_FEAT_NESTING | model[i].flags, 16,
				     4);
		f->smmu.feat.ssid_bits = 8;
		KUNIT_EXPECT_EQ_MSG(test, validate(f, vste, GUEST_S1_0,
						   GUEST_S1_1),
				    model[i].expect, "%s", model[i].what);
		/* without S1STALLD: accepted whatever the model */
		expect_valid(test, f, GUEST_S1_0, GUEST_S1_1 & ~BIT_ULL(27),
			     model[i].what);
	}
}

/* --- The STE of a nested domain ------------------------------------------- */

struct nested_fixture {
	struct fake_smmu *f;
	struct smmuv3_domain *parent;
	struct smmuv3_viommu *viommu;
	struct smmuv3_nested *nested;
};

static void parent_s2(struct io_pgtable_cfg *cfg)
{
	cfg->arm_lpae_s2_cfg.vttbr = S2_3;
	cfg->arm_lpae_s2_cfg.vtcr.tsz = 24;
	cfg->arm_lpae_s2_cfg.vtcr.sl = 2;
	cfg->arm_lpae_s2_cfg.vtcr.irgn = 1;
	cfg->arm_lpae_s2_cfg.vtcr.orgn = 2;
	cfg->arm_lpae_s2_cfg.vtcr.sh = 3;
	cfg->arm_lpae_s2_cfg.vtcr.tg = 1;
	cfg->arm_lpae_s2_cfg.vtcr.ps = 2;
}

static void nested_setup(struct kunit *test, struct nested_fixture *x,
			 u64 w0, u64 w1)
{
	x->f = vsmmu(test, SMMUV3_FEAT_2LVL_CDTAB, 8);
	x->parent = fake_domain_create(test, SMMUV3_STAGE_2,
				       SZ_64K | SZ_512M);
	x->parent->nest_parent = true;
	parent_s2(&x->parent->pgtbl_cfg);

	x->viommu = kunit_kzalloc(test, sizeof(*x->viommu), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, x->viommu);
	x->viommu->smmu = &x->f->smmu;
	x->viommu->parent = x->parent;
	x->viommu->vmid = FAKE_INV(x->f, SMMUV3_INV_S2_VMID_S1_CLEAR, VMID,
				   0, 0);

	x->nested = kunit_kzalloc(test, sizeof(*x->nested), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, x->nested);
	x->nested->viommu = x->viommu;
	/* As nested_alloc stores it: validated. */
	KUNIT_ASSERT_EQ(test, validate(x->f, x->nested->vste, w0, w1), 0);
}

static void expect_ste(struct kunit *test, const __le64 *ste,
		       const u64 *expect)
{
	unsigned int i;

	for (i = 0; i < SMMUV3_STE_QWORDS; i++)
		KUNIT_EXPECT_EQ_MSG(test, le64_to_cpu(ste[i]), expect[i],
				    "STE word %u", i);
}

/* Guest abort, or a guest STE with V = 0: the device aborts. */
static void ste_nested_abort(struct kunit *test)
{
	static const u64 abort[SMMUV3_STE_QWORDS] = { 0x1 };
	struct nested_fixture x;
	__le64 ste[SMMUV3_STE_QWORDS];

	nested_setup(test, &x, 0x1, 0);
	memset(ste, 0xa5, sizeof(ste));
	smmuv3_ste_make_nested(ste, x.nested);
	expect_ste(test, ste, abort);

	nested_setup(test, &x, GUEST_S1_0 & ~1ull, GUEST_S1_1);
	memset(ste, 0xa5, sizeof(ste));
	smmuv3_ste_make_nested(ste, x.nested);
	expect_ste(test, ste, abort);
}

/*
 * Guest bypass: the parent's stage 2 alone, with the vIOMMU's VMID, and
 * STE1.MEV [19] (the guest drives the faults).
 */
static void ste_nested_bypass(struct kunit *test)
{
	static const u64 s2[SMMUV3_STE_QWORDS] = {
		S2_0, S2_1 | MEV1, S2_2, S2_3 };
	__le64 ste[SMMUV3_STE_QWORDS], direct[SMMUV3_STE_QWORDS];
	struct nested_fixture x;

	nested_setup(test, &x, 0x9, 0);
	memset(ste, 0xa5, sizeof(ste));
	smmuv3_ste_make_nested(ste, x.nested);
	expect_ste(test, ste, s2);

	/* attaching the parent itself with that VMID: the same but MEV */
	smmuv3_ste_make_s2(direct, x.parent, VMID);
	direct[1] |= cpu_to_le64(MEV1);
	KUNIT_EXPECT_MEMEQ(test, ste, direct, sizeof(ste));
}

/*
 * Guest stage 1: Config nested (0b111), the guest's stage-1 fields, the
 * parent's stage-2 fields and the vIOMMU's VMID, STRW NSEL1 (0).
 *  word 0: 0x1 | 0b111 << 1 | the guest's S1Fmt, S1ContextPtr, S1CDMax
 *  word 1: the guest's word 1 | MEV [19] 0x80000 | SHCFG incoming
 */
static void ste_nested_s1(struct kunit *test)
{
	static const u64 nested[SMMUV3_STE_QWORDS] = {
		0x180000123456784full,
		0x00001000080800d6ull,
		S2_2, S2_3,
	};
	/*
	 * 64K leaves (S1Fmt 2 << 4 = 0x20), CDMax 8 << 59, S1DSS 1
	 * (bypass), nothing else of the guest's in word 1
	 */
	static const u64 two_level[SMMUV3_STE_QWORDS] = {
		0x400000123456786full,
		0x0000100000080001ull,
		S2_2, S2_3,
	};
	__le64 ste[SMMUV3_STE_QWORDS];
	struct nested_fixture x;

	nested_setup(test, &x, GUEST_S1_0, GUEST_S1_1);
	memset(ste, 0xa5, sizeof(ste));
	smmuv3_ste_make_nested(ste, x.nested);
	expect_ste(test, ste, nested);

	nested_setup(test, &x, 0x400000123456786bull, 0x1);
	memset(ste, 0xa5, sizeof(ste));
	smmuv3_ste_make_nested(ste, x.nested);
	expect_ste(test, ste, two_level);
}

/*
 * A parent with the S2FWB attribute format keeps it under a guest's S1
 * and under a guest's bypass: STE1.S2FWB [25], word 2 unchanged.
 */
static void ste_nested_s2fwb(struct kunit *test)
{
	static const u64 nested[SMMUV3_STE_QWORDS] = {
		0x180000123456784full,
		0x000010000a0800d6ull,
		S2_2, S2_3,
	};
	static const u64 bypass[SMMUV3_STE_QWORDS] = {
		S2_0, S2_1_FWB | MEV1, S2_2, S2_3,
	};
	__le64 ste[SMMUV3_STE_QWORDS];
	struct nested_fixture x;

	nested_setup(test, &x, GUEST_S1_0, GUEST_S1_1);
	x.parent->pgtbl_cfg.quirks |= IO_PGTABLE_QUIRK_ARM_S2FWB;
	smmuv3_ste_make_nested(ste, x.nested);
	expect_ste(test, ste, nested);

	nested_setup(test, &x, 0x9, 0);
	x.parent->pgtbl_cfg.quirks |= IO_PGTABLE_QUIRK_ARM_S2FWB;
	smmuv3_ste_make_nested(ste, x.nested);
	expect_ste(test, ste, bypass);
}

/*
 * MEV [19] and S2FWB [25] of word 1 are the host's: a guest STE with
 * either is refused, although the host sets them in the STE it builds.
 */
static void vste_host_bits(struct kunit *test)
{
	struct fake_smmu *f = vsmmu(test, SMMUV3_FEAT_S2FWB, 8);

	expect_eio(test, f, GUEST_S1_0, GUEST_S1_1 | MEV1, "STE1.MEV [19]");
	expect_eio(test, f, GUEST_S1_0, GUEST_S1_1 | 0x2000000ull,
		   "STE1.S2FWB [25]");
	expect_eio(test, f, 0x9, MEV1, "STE1.MEV [19], bypass");
}

static struct kunit_case smmuv3_nested_cases[] = {
	KUNIT_CASE(vste_allowed),
	KUNIT_CASE(vste_invalid_cleared),
	KUNIT_CASE(vste_forbidden_bits),
	KUNIT_CASE(vste_eats),
	KUNIT_CASE(vste_cfg),
	KUNIT_CASE(vste_s1cdmax),
	KUNIT_CASE(vste_s1fmt),
	KUNIT_CASE(vste_s1dss),
	KUNIT_CASE(vste_host_bits),
	KUNIT_CASE(vste_s1stalld),
	KUNIT_CASE(ste_nested_abort),
	KUNIT_CASE(ste_nested_bypass),
	KUNIT_CASE(ste_nested_s1),
	KUNIT_CASE(ste_nested_s2fwb),
	{}
};

static struct kunit_suite smmuv3_nested_suite = {
	.name = "smmuv3-nested",
	.test_cases = smmuv3_nested_cases,
};

kunit_test_suites(&smmuv3_nested_suite);
