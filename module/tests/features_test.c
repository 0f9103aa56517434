// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the decoding of the SMMUv3 ID registers (features.c).
 *
 * The register values are written as literal constants composed from the
 * field positions of IHI 0070 chapter 6, with the derivation next to each, so
 * that a wrong field mask in regs.h cannot cancel out a wrong decoder.
 *
 * This file also carries the module information of smmuv3_kunit.ko (built
 * from the *_test.c files of this directory): a module has one
 * modinfo, while each file registers its own suites with
 * kunit_test_suites(), which only places pointers in the .kunit_test_suites
 * section that the module loader collects from the whole module.
 */
#include <kunit/test.h>
#include <linux/module.h>
#include <linux/sizes.h>
#include <linux/string.h>

#include <smmuv3/smmuv3.h>

/*
 * The ID registers of QEMU's arm-smmuv3 model (hw/arm/smmuv3.c,
 * smmuv3_init_id_regs(), default stage=1), as the guest reads them:
 *
 * IDR0 = 0x0d44101a:
 *	S1P         bit 1       = 1	0x00000002
 *	TTF         [3:2]       = 2	0x00000008  (AArch64 tables only)
 *	COHACC      bit 4       = 1	0x00000010
 *	ASID16      bit 12      = 1	0x00001000
 *	VMID16      bit 18      = 1	0x00040000
 *	TTENDIAN    [22:21]     = 2	0x00400000  (little-endian only)
 *	STALL_MODEL [25:24]     = 1	0x01000000  (no stalls)
 *	TERM_MODEL  bit 26      = 1	0x04000000  (not decoded)
 *	ST_LVL      [28:27]     = 1	0x08000000  (2-level stream table)
 * IDR1 = 0x02730010:
 *	SIDSIZE     [5:0]       = 16	0x00000010
 *	EVTQS       [20:16]     = 19	0x00130000
 *	CMDQS       [25:21]     = 19	0x02600000
 * IDR3 = 0x00001404:
 *	HAD         bit 2       = 1	0x00000004  (not decoded)
 *	RIL         bit 10      = 1	0x00000400
 *	BBML        [12:11]     = 2	0x00001000
 * IDR5 = 0x00000074:
 *	OAS         [2:0]       = 4	0x00000004  (44 bits)
 *	GRAN4K, GRAN16K, GRAN64K bits 4, 5, 6	0x00000070
 * AIDR = 0x00000001: SMMUv3.1; IIDR = 0.
 * (Checked against the registers QEMU 11.1 shows the driver's debugfs.)
 */
#define QEMU_IDR0	0x0d44101au
#define QEMU_IDR1	0x02730010u
#define QEMU_IDR3	0x00001404u
#define QEMU_IDR5	0x00000074u
#define QEMU_AIDR	0x00000001u

#define QEMU_FLAGS	(SMMUV3_FEAT_S1 | SMMUV3_FEAT_COHERENT | \
			 SMMUV3_FEAT_2LVL_STRTAB | SMMUV3_FEAT_TT_LE | \
			 SMMUV3_FEAT_RANGE_INV)
#define PGSIZE_4K	(SZ_4K | SZ_2M | SZ_1G)
#define PGSIZE_16K	(SZ_16K | SZ_32M)
#define PGSIZE_64K	(SZ_64K | SZ_512M)

static void qemu_regs(struct smmuv3_idregs *regs)
{
	memset(regs, 0, sizeof(*regs));
	regs->idr[0] = QEMU_IDR0;
	regs->idr[1] = QEMU_IDR1;
	regs->idr[3] = QEMU_IDR3;
	regs->idr[5] = QEMU_IDR5;
	regs->aidr = QEMU_AIDR;
}

/* Decode into a structure full of garbage, to see that all of it is set. */
static int decode(const struct smmuv3_idregs *regs, bool fw_coherent,
		  struct smmuv3_features *feat)
{
	memset(feat, 0xa5, sizeof(*feat));
	return smmuv3_decode_features(regs, fw_coherent, feat);
}

static void features_qemu_stage1(struct kunit *test)
{
	struct smmuv3_features feat;
	struct smmuv3_idregs regs;

	qemu_regs(&regs);
	KUNIT_ASSERT_EQ(test, decode(&regs, true, &feat), 0);
	KUNIT_EXPECT_EQ(test, feat.flags, QEMU_FLAGS);
	KUNIT_EXPECT_EQ(test, feat.sid_bits, 16);
	KUNIT_EXPECT_EQ(test, feat.ssid_bits, 0);
	KUNIT_EXPECT_EQ(test, feat.asid_bits, 16);
	KUNIT_EXPECT_EQ(test, feat.vmid_bits, 16);
	KUNIT_EXPECT_EQ(test, feat.cmdq_log2, 19);
	KUNIT_EXPECT_EQ(test, feat.evtq_log2, 19);
	KUNIT_EXPECT_EQ(test, feat.priq_log2, 0);
	KUNIT_EXPECT_EQ(test, feat.oas, 44);
	KUNIT_EXPECT_EQ(test, feat.ias, 44);
	KUNIT_EXPECT_EQ(test, feat.bbml, 2);
	KUNIT_EXPECT_EQ(test, feat.pgsize_bitmap,
			PGSIZE_4K | PGSIZE_16K | PGSIZE_64K);
	KUNIT_EXPECT_EQ(test, feat.arch_minor, 1);
	KUNIT_EXPECT_EQ(test, feat.iidr, 0);
}

/*
 * QEMU with stage=2 (S2P, bit 0, instead of S1P) and stage=nested (both);
 * with stage 2 QEMU also sets IDR3.XNX (bit 4, not decoded): 0x1414.
 */
static void features_qemu_stages(struct kunit *test)
{
	struct smmuv3_features feat;
	struct smmuv3_idregs regs;

	qemu_regs(&regs);
	regs.idr[3] = 0x00001414;
	regs.idr[0] = 0x0d441019;	/* QEMU_IDR0 - S1P (0x2) + S2P (0x1) */
	KUNIT_ASSERT_EQ(test, decode(&regs, true, &feat), 0);
	KUNIT_EXPECT_EQ(test, feat.flags,
			(QEMU_FLAGS & ~SMMUV3_FEAT_S1) | SMMUV3_FEAT_S2);

	regs.idr[0] = 0x0d44101b;	/* QEMU_IDR0 + S2P (0x1) */
	KUNIT_ASSERT_EQ(test, decode(&regs, true, &feat), 0);
	KUNIT_EXPECT_EQ(test, feat.flags, QEMU_FLAGS | SMMUV3_FEAT_S2);
	KUNIT_EXPECT_EQ(test, feat.flags & SMMUV3_FEAT_NESTING,
			SMMUV3_FEAT_NESTING);
}

/*
 * Coherency follows the firmware, as in the kernel's driver: the DMA API
 * maps the tables and queues for the SMMU by what firmware says, so a
 * walk configured otherwise would miss or bypass the CPU's caches.
 * IDR0.COHACC (bit 4) only draws a warning when it disagrees.
 */
static void features_coherent(struct kunit *test)
{
	struct smmuv3_features feat;
	struct smmuv3_idregs regs;

	qemu_regs(&regs);
	KUNIT_ASSERT_EQ(test, decode(&regs, false, &feat), 0);
	KUNIT_EXPECT_EQ(test, feat.flags, QEMU_FLAGS & ~SMMUV3_FEAT_COHERENT);

	regs.idr[0] = 0x0d44100a;	/* QEMU_IDR0 - COHACC (0x10) */
	KUNIT_ASSERT_EQ(test, decode(&regs, true, &feat), 0);
	KUNIT_EXPECT_EQ(test, feat.flags, QEMU_FLAGS);
	KUNIT_ASSERT_EQ(test, decode(&regs, false, &feat), 0);
	KUNIT_EXPECT_EQ(test, feat.flags, QEMU_FLAGS & ~SMMUV3_FEAT_COHERENT);
}

/*
 * An instance with everything, every limit at its largest accepted value:
 *
 * IDR0 = 0x0a0d76bf:
 *	S2P bit 0, S1P bit 1			0x00000003
 *	TTF [3:2] = 3 (AArch32 and AArch64)	0x0000000c
 *	COHACC bit 4, BTM bit 5			0x00000030
 *	HTTU [7:6] = 2 (access and dirty)	0x00000080
 *	HYP bit 9, ATS bit 10			0x00000600
 *	ASID16 bit 12, MSI bit 13, SEV bit 14	0x00007000
 *	PRI bit 16, VMID16 bit 18, CD2L bit 19	0x000d0000
 *	TTENDIAN [22:21] = 0 (mixed)		0x00000000
 *	STALL_MODEL [25:24] = 2 (forced)	0x02000000
 *	ST_LVL [28:27] = 1			0x08000000
 * IDR1 = 0x02739d20:
 *	SIDSIZE [5:0] = 32			0x00000020
 *	SSIDSIZE [10:6] = 20			0x00000500
 *	PRIQS [15:11] = 19			0x00009800
 *	EVTQS [20:16] = 19			0x00130000
 *	CMDQS [25:21] = 19			0x02600000
 * IDR3 = 0x00000d00:
 *	FWB bit 8, RIL bit 10			0x00000500
 *	BBML [12:11] = 1			0x00000800
 * IDR5 = 0x00800476:
 *	OAS [2:0] = 6 (52 bits)			0x00000006
 *	GRAN4K, GRAN16K, GRAN64K		0x00000070
 *	VAX [11:10] = 1 (52-bit VA)		0x00000400
 *	STALL_MAX [31:16] = 0x80 (not decoded)	0x00800000
 * IIDR = 0x0201043b (Arm, product 0x020, revision 1), AIDR = 0x02 (v3.2).
 */
static void features_everything(struct kunit *test)
{
	struct smmuv3_idregs regs = {
		.idr = { 0x0a0d76bf, 0x02739d20, 0, 0x00000d00, 0,
			 0x00800476 },
		.iidr = 0x0201043b,
		.aidr = 0x00000002,
	};
	struct smmuv3_features feat;

	KUNIT_ASSERT_EQ(test, decode(&regs, true, &feat), 0);
	KUNIT_EXPECT_EQ(test, feat.flags,
			SMMUV3_FEAT_S1 | SMMUV3_FEAT_S2 |
			SMMUV3_FEAT_COHERENT | SMMUV3_FEAT_2LVL_STRTAB |
			SMMUV3_FEAT_2LVL_CDTAB | SMMUV3_FEAT_ATS |
			SMMUV3_FEAT_PRI | SMMUV3_FEAT_MSI | SMMUV3_FEAT_SEV |
			SMMUV3_FEAT_HYP | SMMUV3_FEAT_BTM |
			SMMUV3_FEAT_RANGE_INV | SMMUV3_FEAT_S2FWB |
			SMMUV3_FEAT_STALLS | SMMUV3_FEAT_STALL_FORCE |
			SMMUV3_FEAT_TT_LE | SMMUV3_FEAT_TT_BE |
			SMMUV3_FEAT_HA | SMMUV3_FEAT_HD | SMMUV3_FEAT_VAX52);
	KUNIT_EXPECT_EQ(test, feat.sid_bits, 32);
	KUNIT_EXPECT_EQ(test, feat.ssid_bits, 20);
	KUNIT_EXPECT_EQ(test, feat.asid_bits, 16);
	KUNIT_EXPECT_EQ(test, feat.vmid_bits, 16);
	KUNIT_EXPECT_EQ(test, feat.cmdq_log2, 19);
	KUNIT_EXPECT_EQ(test, feat.evtq_log2, 19);
	KUNIT_EXPECT_EQ(test, feat.priq_log2, 19);
	KUNIT_EXPECT_EQ(test, feat.oas, 52);
	KUNIT_EXPECT_EQ(test, feat.ias, 52);
	KUNIT_EXPECT_EQ(test, feat.bbml, 1);
	KUNIT_EXPECT_EQ(test, feat.pgsize_bitmap,
			PGSIZE_4K | PGSIZE_16K | PGSIZE_64K);
	KUNIT_EXPECT_EQ(test, feat.arch_minor, 2);
	KUNIT_EXPECT_EQ(test, feat.iidr, 0x0201043b);
}

/*
 * The least an instance may have:
 * IDR0 = 0x01400009: S2P (0x1), TTF = 2 (0x8), TTENDIAN = 2 (0x400000),
 *	STALL_MODEL = 1 (0x1000000); 8-bit ASIDs and VMIDs, linear stream
 *	table.
 * IDR1 = 0: one stream, no substreams, queues of one entry.
 * IDR5 = 0x00000010: OAS = 0 (32 bits), GRAN4K (0x10).
 */
static void features_minimal(struct kunit *test)
{
	struct smmuv3_idregs regs = {
		.idr = { 0x01400009, 0, 0, 0, 0, 0x00000010 },
	};
	struct smmuv3_features feat;

	KUNIT_ASSERT_EQ(test, decode(&regs, false, &feat), 0);
	KUNIT_EXPECT_EQ(test, feat.flags, SMMUV3_FEAT_S2 | SMMUV3_FEAT_TT_LE);
	KUNIT_EXPECT_EQ(test, feat.sid_bits, 0);
	KUNIT_EXPECT_EQ(test, feat.ssid_bits, 0);
	KUNIT_EXPECT_EQ(test, feat.asid_bits, 8);
	KUNIT_EXPECT_EQ(test, feat.vmid_bits, 8);
	KUNIT_EXPECT_EQ(test, feat.cmdq_log2, 0);
	KUNIT_EXPECT_EQ(test, feat.evtq_log2, 0);
	KUNIT_EXPECT_EQ(test, feat.priq_log2, 0);
	KUNIT_EXPECT_EQ(test, feat.oas, 32);
	KUNIT_EXPECT_EQ(test, feat.ias, 32);
	KUNIT_EXPECT_EQ(test, feat.bbml, 0);
	KUNIT_EXPECT_EQ(test, feat.pgsize_bitmap, PGSIZE_4K);
	KUNIT_EXPECT_EQ(test, feat.arch_minor, 0);
	KUNIT_EXPECT_EQ(test, feat.iidr, 0);
}

struct field_case {
	u32 reg;
	u32 flags;
};

/* Each single-bit feature of IDR0/IDR3 sets its own flag and no other. */
static void features_single_bits(struct kunit *test)
{
	static const struct field_case idr0[] = {
		{ 0x0d44103a, SMMUV3_FEAT_BTM },	/* + bit 5 */
		{ 0x0d44121a, SMMUV3_FEAT_HYP },	/* + bit 9 */
		{ 0x0d44141a, SMMUV3_FEAT_ATS },	/* + bit 10 */
		{ 0x0d44301a, SMMUV3_FEAT_MSI },	/* + bit 13 */
		{ 0x0d44501a, SMMUV3_FEAT_SEV },	/* + bit 14 */
		{ 0x0d45101a, SMMUV3_FEAT_PRI },	/* + bit 16 */
		{ 0x0d4c101a, SMMUV3_FEAT_2LVL_CDTAB },	/* + bit 19 */
	};
	static const struct field_case idr3[] = {
		{ 0x00001504, SMMUV3_FEAT_S2FWB },	/* + bit 8 */
	};
	struct smmuv3_features feat;
	struct smmuv3_idregs regs;
	int i;

	for (i = 0; i < ARRAY_SIZE(idr0); i++) {
		qemu_regs(&regs);
		regs.idr[0] = idr0[i].reg;
		KUNIT_ASSERT_EQ(test, decode(&regs, true, &feat), 0);
		KUNIT_EXPECT_EQ_MSG(test, feat.flags,
				    QEMU_FLAGS | idr0[i].flags,
				    "IDR0 %#010x", idr0[i].reg);
	}
	for (i = 0; i < ARRAY_SIZE(idr3); i++) {
		qemu_regs(&regs);
		regs.idr[3] = idr3[i].reg;
		KUNIT_ASSERT_EQ(test, decode(&regs, true, &feat), 0);
		KUNIT_EXPECT_EQ_MSG(test, feat.flags,
				    QEMU_FLAGS | idr3[i].flags,
				    "IDR3 %#010x", idr3[i].reg);
	}

	/* IDR3 = 0: no RIL (bit 10), BBML = 0. */
	qemu_regs(&regs);
	regs.idr[3] = 0;
	KUNIT_ASSERT_EQ(test, decode(&regs, true, &feat), 0);
	KUNIT_EXPECT_EQ(test, feat.flags, QEMU_FLAGS & ~SMMUV3_FEAT_RANGE_INV);
	KUNIT_EXPECT_EQ(test, feat.bbml, 0);

	/* ST_LVL [28:27] = 0: QEMU_IDR0 - 0x08000000, linear stream table. */
	qemu_regs(&regs);
	regs.idr[0] = 0x0544101a;
	KUNIT_ASSERT_EQ(test, decode(&regs, true, &feat), 0);
	KUNIT_EXPECT_EQ(test, feat.flags,
			QEMU_FLAGS & ~SMMUV3_FEAT_2LVL_STRTAB);

	/* ASID16 (bit 12) and VMID16 (bit 18) clear: 0x0d44101a - 0x41000. */
	qemu_regs(&regs);
	regs.idr[0] = 0x0d40001a;
	KUNIT_ASSERT_EQ(test, decode(&regs, true, &feat), 0);
	KUNIT_EXPECT_EQ(test, feat.flags, QEMU_FLAGS);
	KUNIT_EXPECT_EQ(test, feat.asid_bits, 8);
	KUNIT_EXPECT_EQ(test, feat.vmid_bits, 8);
}

/* The multi-valued IDR0 fields, on top of QEMU's registers. */
static void features_idr0_fields(struct kunit *test)
{
	static const struct field_case httu[] = {
		/*
		 * HTTU [7:6] = 0, 1, 2, and 3 (SMMUv3.5: access flag, dirty
		 * state and HAFT, which includes both)
		 */
		{ 0x0d44101a, 0 },
		{ 0x0d44105a, SMMUV3_FEAT_HA },
		{ 0x0d44109a, SMMUV3_FEAT_HA | SMMUV3_FEAT_HD },
		{ 0x0d4410da, SMMUV3_FEAT_HA | SMMUV3_FEAT_HD },
	};
	static const struct field_case stall[] = {
		/* STALL_MODEL [25:24] = 0, 1, 2 */
		{ 0x0c44101a, SMMUV3_FEAT_STALLS },
		{ 0x0d44101a, 0 },
		{ 0x0e44101a, SMMUV3_FEAT_STALLS | SMMUV3_FEAT_STALL_FORCE },
	};
	u32 mask = SMMUV3_FEAT_HA | SMMUV3_FEAT_HD | SMMUV3_FEAT_STALLS |
		   SMMUV3_FEAT_STALL_FORCE;
	struct smmuv3_features feat;
	struct smmuv3_idregs regs;
	int i;

	for (i = 0; i < ARRAY_SIZE(httu); i++) {
		qemu_regs(&regs);
		regs.idr[0] = httu[i].reg;
		KUNIT_ASSERT_EQ(test, decode(&regs, true, &feat), 0);
		KUNIT_EXPECT_EQ_MSG(test, feat.flags,
				    (QEMU_FLAGS & ~mask) | httu[i].flags,
				    "IDR0 %#010x", httu[i].reg);
	}
	for (i = 0; i < ARRAY_SIZE(stall); i++) {
		qemu_regs(&regs);
		regs.idr[0] = stall[i].reg;
		KUNIT_ASSERT_EQ(test, decode(&regs, true, &feat), 0);
		KUNIT_EXPECT_EQ_MSG(test, feat.flags,
				    (QEMU_FLAGS & ~mask) | stall[i].flags,
				    "IDR0 %#010x", stall[i].reg);
	}
}

/*
 * IDR0.TTENDIAN [22:21]: 0 mixed (0x0d04101a), 2 little-endian (QEMU's),
 * 3 big-endian (0x0d64101a).  A kernel can only use tables of its own
 * endianness.
 */
static void features_ttendian(struct kunit *test)
{
	bool be = IS_ENABLED(CONFIG_CPU_BIG_ENDIAN);
	u32 tt = SMMUV3_FEAT_TT_LE | SMMUV3_FEAT_TT_BE;
	struct smmuv3_features feat;
	struct smmuv3_idregs regs;

	qemu_regs(&regs);
	regs.idr[0] = 0x0d04101a;
	KUNIT_ASSERT_EQ(test, decode(&regs, true, &feat), 0);
	KUNIT_EXPECT_EQ(test, feat.flags & tt, tt);

	regs.idr[0] = 0x0d44101a;
	if (be) {
		KUNIT_EXPECT_EQ(test, decode(&regs, true, &feat), -ENODEV);
	} else {
		KUNIT_ASSERT_EQ(test, decode(&regs, true, &feat), 0);
		KUNIT_EXPECT_EQ(test, feat.flags & tt, SMMUV3_FEAT_TT_LE);
	}

	regs.idr[0] = 0x0d64101a;
	if (be) {
		KUNIT_ASSERT_EQ(test, decode(&regs, true, &feat), 0);
		KUNIT_EXPECT_EQ(test, feat.flags & tt, SMMUV3_FEAT_TT_BE);
	} else {
		KUNIT_EXPECT_EQ(test, decode(&regs, true, &feat), -ENODEV);
	}
}

/* IDR5: OAS [2:0], the granules (bits 4..6) and VAX [11:10]. */
static void features_idr5(struct kunit *test)
{
	static const u8 oas_bits[] = { 32, 36, 40, 42, 44, 48, 52 };
	static const struct {
		u32 idr5;
		unsigned long pgsize;
	} gran[] = {
		{ 0x00000014, PGSIZE_4K },	/* OAS 4, GRAN4K */
		{ 0x00000024, PGSIZE_16K },	/* OAS 4, GRAN16K */
		{ 0x00000044, PGSIZE_64K },	/* OAS 4, GRAN64K */
		{ 0x00000054, PGSIZE_4K | PGSIZE_64K },
	};
	struct smmuv3_features feat;
	struct smmuv3_idregs regs;
	int i;

	for (i = 0; i < ARRAY_SIZE(oas_bits); i++) {
		qemu_regs(&regs);
		regs.idr[5] = 0x00000070 | i;	/* all granules, OAS = i */
		KUNIT_ASSERT_EQ(test, decode(&regs, true, &feat), 0);
		KUNIT_EXPECT_EQ_MSG(test, feat.oas, oas_bits[i], "OAS %d", i);
		KUNIT_EXPECT_EQ_MSG(test, feat.ias, oas_bits[i], "OAS %d", i);
	}

	/*
	 * OAS = 0b111, 56 bits (SMMUv3.4 and later): more than the 52 bits the
	 * page tables can hold; used as 52, not refused.
	 */
	qemu_regs(&regs);
	regs.idr[5] = 0x00000077;
	KUNIT_ASSERT_EQ(test, decode(&regs, true, &feat), 0);
	KUNIT_EXPECT_EQ(test, feat.oas, 52);
	KUNIT_EXPECT_EQ(test, feat.ias, 52);

	for (i = 0; i < ARRAY_SIZE(gran); i++) {
		qemu_regs(&regs);
		regs.idr[5] = gran[i].idr5;
		KUNIT_ASSERT_EQ(test, decode(&regs, true, &feat), 0);
		KUNIT_EXPECT_EQ_MSG(test, feat.pgsize_bitmap, gran[i].pgsize,
				    "IDR5 %#010x", gran[i].idr5);
	}

	/* VAX = 1: 0x474; VAX = 0 (QEMU's) is covered by the flags above. */
	qemu_regs(&regs);
	regs.idr[5] = 0x00000474;
	KUNIT_ASSERT_EQ(test, decode(&regs, true, &feat), 0);
	KUNIT_EXPECT_EQ(test, feat.flags, QEMU_FLAGS | SMMUV3_FEAT_VAX52);
}

static void features_oas_to_bits(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, smmuv3_oas_to_bits(0), 32);
	KUNIT_EXPECT_EQ(test, smmuv3_oas_to_bits(1), 36);
	KUNIT_EXPECT_EQ(test, smmuv3_oas_to_bits(2), 40);
	KUNIT_EXPECT_EQ(test, smmuv3_oas_to_bits(3), 42);
	KUNIT_EXPECT_EQ(test, smmuv3_oas_to_bits(4), 44);
	KUNIT_EXPECT_EQ(test, smmuv3_oas_to_bits(5), 48);
	KUNIT_EXPECT_EQ(test, smmuv3_oas_to_bits(6), 52);
	KUNIT_EXPECT_EQ(test, smmuv3_oas_to_bits(7), 0);
	KUNIT_EXPECT_EQ(test, smmuv3_oas_to_bits(8), 0);
	KUNIT_EXPECT_EQ(test, smmuv3_oas_to_bits(~0u), 0);
}

/* Instances the driver must refuse: QEMU's registers with one change. */
struct reject_case {
	const char *name;
	u32 idr0, idr1, idr5;
};

static const struct reject_case reject_cases[] = {
	/* S1P (bit 1) cleared, S2P (bit 0) clear too */
	{ "no stage", 0x0d441018, QEMU_IDR1, QEMU_IDR5 },
	/* TTF [3:2] = 0 (reserved) and 1 (AArch32 tables only) */
	{ "ttf reserved", 0x0d441012, QEMU_IDR1, QEMU_IDR5 },
	{ "ttf aarch32", 0x0d441016, QEMU_IDR1, QEMU_IDR5 },
	/* TTENDIAN [22:21] = 1 (reserved) */
	{ "ttendian reserved", 0x0d24101a, QEMU_IDR1, QEMU_IDR5 },
	/* STALL_MODEL [25:24] = 3 (reserved) */
	{ "stall model reserved", 0x0f44101a, QEMU_IDR1, QEMU_IDR5 },
	/* IDR1.TABLES_PRESET (bit 30), IDR1.QUEUES_PRESET (bit 29) */
	{ "tables preset", QEMU_IDR0, 0x42730010, QEMU_IDR5 },
	{ "queues preset", QEMU_IDR0, 0x22730010, QEMU_IDR5 },
	/* SIDSIZE [5:0] = 33 and 63 */
	{ "sidsize 33", QEMU_IDR0, 0x02730021, QEMU_IDR5 },
	{ "sidsize 63", QEMU_IDR0, 0x0273003f, QEMU_IDR5 },
	/* SSIDSIZE [10:6] = 21: 21 << 6 = 0x540 */
	{ "ssidsize 21", QEMU_IDR0, 0x02730550, QEMU_IDR5 },
	/* CMDQS [25:21] = 20: 20 << 21 = 0x2800000 */
	{ "cmdqs 20", QEMU_IDR0, 0x02930010, QEMU_IDR5 },
	/* EVTQS [20:16] = 20: 20 << 16 = 0x140000 */
	{ "evtqs 20", QEMU_IDR0, 0x02740010, QEMU_IDR5 },
	/* PRIQS [15:11] = 20: 20 << 11 = 0xa000 */
	{ "priqs 20", QEMU_IDR0, 0x0273a010, QEMU_IDR5 },
	/* no granule: OAS = 4 only */
	{ "no granule", QEMU_IDR0, QEMU_IDR1, 0x00000004 },
};

KUNIT_ARRAY_PARAM_DESC(reject, reject_cases, name);

static void features_reject(struct kunit *test)
{
	const struct reject_case *c = test->param_value;
	struct smmuv3_features feat;
	struct smmuv3_idregs regs;

	qemu_regs(&regs);
	regs.idr[0] = c->idr0;
	regs.idr[1] = c->idr1;
	regs.idr[5] = c->idr5;
	KUNIT_EXPECT_EQ(test, decode(&regs, true, &feat), -ENODEV);
}

/* True if @tok is one of the space-separated words of @line. */
static bool has_token(const char *line, const char *tok)
{
	size_t n = strlen(tok);
	const char *p;

	for (p = strstr(line, tok); p; p = strstr(p + 1, tok))
		if ((p == line || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return true;
	return false;
}

static void features_format(struct kunit *test)
{
	struct smmuv3_features feat;
	struct smmuv3_idregs regs;
	char line[512];
	int n;

	qemu_regs(&regs);
	KUNIT_ASSERT_EQ(test, decode(&regs, true, &feat), 0);
	n = smmuv3_format_features(&feat, line, sizeof(line));
	KUNIT_ASSERT_GT(test, n, 0);
	KUNIT_ASSERT_LT(test, n, (int)sizeof(line));
	KUNIT_EXPECT_EQ(test, n, (int)strlen(line));
	KUNIT_EXPECT_NULL(test, strchr(line, '\n'));
	KUNIT_EXPECT_TRUE_MSG(test, has_token(line, "s1"), "%s", line);
	KUNIT_EXPECT_FALSE_MSG(test, has_token(line, "s2"), "%s", line);
	KUNIT_EXPECT_TRUE_MSG(test, has_token(line, "sid=16"), "%s", line);
	KUNIT_EXPECT_FALSE_MSG(test, has_token(line, "sid=0"), "%s", line);

	/* Both stages, 32-bit stream IDs: features_everything's IDR0/1 */
	regs.idr[0] = 0x0a0d76bf;
	regs.idr[1] = 0x02739d20;
	KUNIT_ASSERT_EQ(test, decode(&regs, true, &feat), 0);
	n = smmuv3_format_features(&feat, line, sizeof(line));
	KUNIT_ASSERT_LT(test, n, (int)sizeof(line));
	KUNIT_EXPECT_EQ(test, n, (int)strlen(line));
	KUNIT_EXPECT_TRUE_MSG(test, has_token(line, "s1"), "%s", line);
	KUNIT_EXPECT_TRUE_MSG(test, has_token(line, "s2"), "%s", line);
	KUNIT_EXPECT_TRUE_MSG(test, has_token(line, "sid=32"), "%s", line);
	KUNIT_EXPECT_TRUE_MSG(test, has_token(line, "ssid=20"), "%s", line);
}

/* Every buffer size gives snprintf() results and writes nothing beyond. */
static void features_format_short(struct kunit *test)
{
	struct smmuv3_features feat;
	struct smmuv3_idregs regs;
	char full[512], buf[512];
	size_t len, keep, i;
	int n;

	qemu_regs(&regs);
	regs.idr[0] = 0x0a0d76bf;	/* the longest line: every flag */
	KUNIT_ASSERT_EQ(test, decode(&regs, true, &feat), 0);
	n = smmuv3_format_features(&feat, full, sizeof(full));
	KUNIT_ASSERT_GT(test, n, 0);
	KUNIT_ASSERT_LT(test, n + 8, (int)sizeof(buf));

	for (len = 0; len <= (size_t)n + 2; len++) {
		memset(buf, 0x5a, sizeof(buf));
		KUNIT_EXPECT_EQ_MSG(test,
				    smmuv3_format_features(&feat, buf, len), n,
				    "len %zu", len);
		for (i = len; i < sizeof(buf); i++)
			if (buf[i] != 0x5a)
				break;
		KUNIT_EXPECT_EQ_MSG(test, i, sizeof(buf),
				    "len %zu: byte %zu written", len, i);
		if (!len)
			continue;
		keep = min_t(size_t, n, len - 1);
		KUNIT_EXPECT_EQ_MSG(test, buf[keep], '\0', "len %zu", len);
		KUNIT_EXPECT_EQ_MSG(test, memcmp(buf, full, keep), 0,
				    "len %zu", len);
	}
}

static struct kunit_case smmuv3_features_cases[] = {
	KUNIT_CASE(features_qemu_stage1),
	KUNIT_CASE(features_qemu_stages),
	KUNIT_CASE(features_coherent),
	KUNIT_CASE(features_everything),
	KUNIT_CASE(features_minimal),
	KUNIT_CASE(features_single_bits),
	KUNIT_CASE(features_idr0_fields),
	KUNIT_CASE(features_ttendian),
	KUNIT_CASE(features_idr5),
	KUNIT_CASE(features_oas_to_bits),
	KUNIT_CASE_PARAM(features_reject, reject_gen_params),
	KUNIT_CASE(features_format),
	KUNIT_CASE(features_format_short),
	{}
};

static struct kunit_suite smmuv3_features_suite = {
	.name = "smmuv3-features",
	.test_cases = smmuv3_features_cases,
};

kunit_test_suites(&smmuv3_features_suite);

MODULE_DESCRIPTION("KUnit tests for the smmuv3 driver");
MODULE_LICENSE("GPL");
SMMUV3_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
