// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suite smmuv3-probe: a register-programming oracle for probe.c.
 *
 * For each combination of ID registers (and of what firmware left in the
 * SMMU), the driver's real smmuv3_hw_probe() (ID registers, errata, queue
 * and stream table allocation, reset up to SMMUEN) and smmuv3_disable()
 * run against the recording register file of fake_regs.c, which behaves as
 * the architecture says an SMMUv3.2 does (it ignores writes that break a
 * rule).  Then the recorded accesses are checked against a table written
 * from the field descriptions and rules of IHI 0070 chapter 6: what CR0,
 * CR1, CR2, GBPA, STRTAB_BASE(_CFG), IRQ_CTRL, the queues' BASE/PROD/CONS
 * and the IRQ_CFG registers must hold, and in which order they are written.
 *
 * Every field position below is a number with the section it comes from;
 * nothing is computed with regs.h or the driver's own helpers.  Values that
 * are the driver's choices rather than the architecture's (queue sizes,
 * stream table split) are marked "policy".
 */
#include <kunit/device.h>
#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/device.h>
#include <linux/irqdomain.h>
#include <linux/msi.h>
#include <linux/sizes.h>

#include <smmuv3/smmuv3.h>

#include "fake_regs.h"

/* SMMU_IDR0 (6.3.1) */
#define IDR0_S2P		BIT(0)
#define IDR0_S1P		BIT(1)
#define IDR0_TTF_AA64		(0x2 << 2)	/* TTF [3:2] = 0b10 */
#define IDR0_COHACC		BIT(4)
#define IDR0_BTM		BIT(5)
#define IDR0_HTTU_AD		(0x2 << 6)	/* HTTU [7:6] = 0b10 */
#define IDR0_HYP		BIT(9)
#define IDR0_ATS		BIT(10)
#define IDR0_ASID16		BIT(12)
#define IDR0_MSI		BIT(13)
#define IDR0_SEV		BIT(14)
#define IDR0_PRI		BIT(16)
#define IDR0_VMID16		BIT(18)
#define IDR0_CD2L		BIT(19)
#define IDR0_TTE_LE		(0x2 << 21)	/* TTENDIAN [22:21] = 0b10 */
#define IDR0_STALL(m)		((m) << 24)	/* STALL_MODEL [25:24] */
#define IDR0_ST_2LVL		(0x1 << 27)	/* ST_LEVEL [28:27] = 0b01 */
/* SMMU_IDR1 (6.3.2): SIDSIZE [5:0], SSIDSIZE [10:6], PRIQS [15:11], ... */
#define IDR1(sid, ssid, priqs, evtqs, cmdqs)				\
	((sid) | (ssid) << 6 | (priqs) << 11 | (evtqs) << 16 | (cmdqs) << 21)
/* SMMU_IDR3 (6.3.4): RIL [10], BBML [12:11] */
#define IDR3_RIL		BIT(10)
#define IDR3_BBML2		(0x2 << 11)
/* SMMU_IDR5 (6.3.6): OAS [2:0] 0b101 = 48 bits, GRAN4K [4], GRAN64K [6] */
#define IDR5_48_4K_64K		(0x5 | BIT(4) | BIT(6))
#define IDR5_44_4K		(0x4 | BIT(4))
/* SMMU_AIDR (6.3.8): ArchMinorRev [3:0] */
#define AIDR_V3_2		0x2

/* SMMU_IIDR (6.3.7) of the implementations errata.c knows (Arm: 0x43b). */
#define IIDR_MMU600_R0P0	0x4830043b
#define IIDR_MMU700_R0P0	0x4870043b
#define IIDR_MMU700_R1P1	0x4871143b
#define IIDR_MMU_L1		0x48a0043b

/* What firmware left in GERROR: EVENTQ_ABT_ERR [2], MSI_GERROR_ABT_ERR [7] */
#define FW_GERROR		0x84
/* ... and in GBPA: bypass with SHCFG [13:12] = 0b01 (use incoming). */
#define FW_GBPA			0x1000

/* Command opcodes (4.1.1, 4.3, 4.4, 4.7): word 0 [7:0]. */
#define OP_CFGI_ALL		0x04
#define OP_TLBI_EL2_ALL		0x20
#define OP_TLBI_NSNH_ALL	0x30
#define OP_SYNC			0x46
/* CMD_CFGI_ALL is CFGI_STE_RANGE with Range [4:0] of word 1 = 31 (4.3.3). */
#define CFGI_ALL_RANGE		31

/* The interrupts the combination uses. */
enum probe_irqs {
	PROBE_WIRED,		/* "eventq" and "gerror" */
	PROBE_COMBINED,		/* one "combined" interrupt */
	PROBE_MSI,		/* IDR0.MSI and an MSI domain */
	PROBE_MSI_NO_DOMAIN,	/* IDR0.MSI, no MSI domain: wired */
};

/**
 * struct probe_combo - an SMMU and the state firmware left it in
 * @name: the parameter's description
 * @idr0: SMMU_IDR0
 * @idr1: SMMU_IDR1
 * @idr3: SMMU_IDR3
 * @idr5: SMMU_IDR5
 * @iidr: SMMU_IIDR
 * @coherent: firmware describes the SMMU as DMA-coherent
 * @page0_only: the page-1 registers are at their offsets in page 0
 * @irqs: enum probe_irqs
 * @fw_enabled: firmware left the SMMU translating: CR0 0xd, IRQ_CTRL
 *	0x5 (acknowledged), other queue and table registers pointing
 *	elsewhere
 * @gbpa_busy: firmware left a GBPA update in progress (Update = 1)
 */
struct probe_combo {
	const char *name;
	u32 idr0;
	u32 idr1;
	u32 idr3;
	u32 idr5;
	u32 iidr;
	bool coherent;
	bool page0_only;
	u8 irqs;
	bool fw_enabled;
	bool gbpa_busy;
};

#define S12		(IDR0_S1P | IDR0_S2P | IDR0_TTF_AA64)

static const struct probe_combo probe_combos[] = {
	{ "QEMU-like: S1+S2, 2-level, coherent, RIL",
	  S12 | IDR0_COHACC | IDR0_ST_2LVL | IDR0_ASID16 | IDR0_VMID16 |
	  IDR0_STALL(1), IDR1(16, 16, 0, 19, 19), IDR3_RIL | IDR3_BBML2,
	  IDR5_48_4K_64K, 0, true, false, PROBE_WIRED },
	{ "minimal: S1, linear, 8-bit SID, not coherent",
	  IDR0_S1P | IDR0_TTF_AA64 | IDR0_STALL(1), IDR1(8, 0, 0, 3, 3), 0,
	  IDR5_44_4K, 0, false, false, PROBE_WIRED },
	{ "ATS, coherent",
	  S12 | IDR0_COHACC | IDR0_ATS | IDR0_ST_2LVL, IDR1(16, 20, 0, 8, 8),
	  0, IDR5_48_4K_64K, 0, true, false, PROBE_WIRED },
	{ "ATS + PRI, combined interrupt",
	  S12 | IDR0_COHACC | IDR0_ATS | IDR0_PRI | IDR0_ST_2LVL,
	  IDR1(16, 20, 8, 8, 8), 0, IDR5_48_4K_64K, 0, true, false,
	  PROBE_COMBINED },
	{ "ATS, COHACC but firmware not coherent",
	  S12 | IDR0_COHACC | IDR0_ATS, IDR1(10, 0, 0, 5, 5), 0,
	  IDR5_48_4K_64K, 0, false, false, PROBE_WIRED },
	{ "ATS, firmware left it translating",
	  S12 | IDR0_COHACC | IDR0_ATS | IDR0_ST_2LVL, IDR1(16, 8, 0, 8, 8),
	  0, IDR5_48_4K_64K, 0, true, false, PROBE_WIRED, true },
	{ "firmware left it translating, GBPA update pending",
	  S12 | IDR0_COHACC, IDR1(12, 0, 0, 8, 8), 0, IDR5_48_4K_64K, 0,
	  true, false, PROBE_WIRED, true, true },
	{ "MSI with an MSI domain",
	  S12 | IDR0_COHACC | IDR0_MSI | IDR0_ST_2LVL, IDR1(16, 0, 0, 8, 8),
	  0, IDR5_48_4K_64K, 0, true, false, PROBE_MSI },
	{ "MSI + ATS + PRI with an MSI domain, firmware left it on",
	  S12 | IDR0_COHACC | IDR0_MSI | IDR0_ATS | IDR0_PRI | IDR0_ST_2LVL,
	  IDR1(16, 20, 8, 8, 8), 0, IDR5_48_4K_64K, 0, true, false, PROBE_MSI,
	  true },
	{ "MSI without an MSI domain",
	  S12 | IDR0_MSI, IDR1(8, 0, 0, 8, 8), 0, IDR5_48_4K_64K, 0, false,
	  false, PROBE_MSI_NO_DOMAIN },
	{ "HYP + BTM + ASID16 + VMID16",
	  S12 | IDR0_COHACC | IDR0_HYP | IDR0_BTM | IDR0_ASID16 |
	  IDR0_VMID16 | IDR0_ST_2LVL, IDR1(16, 0, 0, 8, 8), 0,
	  IDR5_48_4K_64K, 0, true, false, PROBE_WIRED },
	{ "stall model: stall forced",
	  S12 | IDR0_COHACC | IDR0_STALL(2), IDR1(8, 0, 0, 8, 8), 0,
	  IDR5_48_4K_64K, 0, true, false, PROBE_WIRED },
	{ "stall model: stall and terminate, HTTU, SEV",
	  S12 | IDR0_COHACC | IDR0_STALL(0) | IDR0_HTTU_AD | IDR0_SEV,
	  IDR1(8, 0, 0, 8, 8), 0, IDR5_48_4K_64K, 0, true, false,
	  PROBE_COMBINED },
	{ "2-level, 32-bit SID (table capped at 25 bits)",
	  S12 | IDR0_COHACC | IDR0_ST_2LVL, IDR1(32, 0, 0, 8, 8), 0,
	  IDR5_48_4K_64K, 0, true, false, PROBE_WIRED },
	{ "2-level supported, 8-bit SID (linear)",
	  S12 | IDR0_ST_2LVL, IDR1(8, 0, 0, 8, 8), 0, IDR5_48_4K_64K, 0,
	  false, false, PROBE_WIRED },
	{ "SSID 20, CD2L, little-endian walks only",
	  S12 | IDR0_COHACC | IDR0_CD2L | IDR0_TTE_LE | IDR0_ST_2LVL,
	  IDR1(20, 20, 0, 8, 8), IDR3_RIL, IDR5_48_4K_64K, 0, true, false,
	  PROBE_WIRED },
	{ "MMU-600 r0p0 (errata: no SEV, no nesting)",
	  S12 | IDR0_COHACC | IDR0_SEV | IDR0_ATS | IDR0_ST_2LVL | IDR0_MSI,
	  IDR1(16, 16, 8, 8, 8), 0, IDR5_48_4K_64K, IIDR_MMU600_R0P0, true,
	  false, PROBE_WIRED },
	{ "MMU-700 r0p0 with BTM (errata: no BTM, forced sync)",
	  S12 | IDR0_COHACC | IDR0_BTM | IDR0_ATS | IDR0_ST_2LVL,
	  IDR1(16, 16, 8, 8, 8), IDR3_RIL, IDR5_48_4K_64K, IIDR_MMU700_R0P0,
	  true, false, PROBE_WIRED },
	{ "MMU-700 r1p1 with BTM and HYP",
	  S12 | IDR0_COHACC | IDR0_BTM | IDR0_HYP | IDR0_ST_2LVL,
	  IDR1(16, 16, 8, 8, 8), IDR3_RIL, IDR5_48_4K_64K, IIDR_MMU700_R1P1,
	  true, false, PROBE_COMBINED },
	{ "MMU-L1 with BTM (errata: no BTM)",
	  S12 | IDR0_COHACC | IDR0_BTM | IDR0_ST_2LVL, IDR1(16, 0, 0, 8, 8),
	  0, IDR5_48_4K_64K, IIDR_MMU_L1, true, false, PROBE_WIRED },
	{ "Cavium CN99xx: page 1 registers in page 0",
	  S12 | IDR0_COHACC | IDR0_ST_2LVL, IDR1(16, 0, 0, 8, 8), 0,
	  IDR5_48_4K_64K, 0, true, true, PROBE_WIRED },
	{ "everything",
	  S12 | IDR0_COHACC | IDR0_BTM | IDR0_HTTU_AD | IDR0_HYP | IDR0_ATS |
	  IDR0_ASID16 | IDR0_MSI | IDR0_SEV | IDR0_PRI | IDR0_VMID16 |
	  IDR0_CD2L | IDR0_STALL(0) | IDR0_ST_2LVL, IDR1(24, 20, 8, 19, 19),
	  IDR3_RIL | IDR3_BBML2, IDR5_48_4K_64K, 0, true, false, PROBE_MSI,
	  true },
};

static void probe_combo_desc(const struct probe_combo *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(probe, probe_combos, probe_combo_desc);

/**
 * struct probe_expect - what the table says for one combination
 * @cr0: SMMU_CR0 when the SMMU is enabled (6.3.9)
 * @cr1: SMMU_CR1 (6.3.11)
 * @cr2: SMMU_CR2 (6.3.12)
 * @irq: SMMU_IRQ_CTRL (6.3.16)
 * @strtab_cfg: SMMU_STRTAB_BASE_CFG (6.3.25)
 * @strtab_align: alignment STRTAB_BASE.ADDR needs (6.3.24)
 * @cmdq_log2: CMDQ_BASE.LOG2SIZE (policy: at most 12)
 * @evtq_log2: EVENTQ_BASE.LOG2SIZE (policy: at most 12)
 * @hyp: CMD_TLBI_EL2_ALL is part of the reset's invalidation
 * @msi: the IRQ_CFG registers exist (IDR0.MSI)
 * @msi_used: they hold the MSI messages afterwards
 */
struct probe_expect {
	u32 cr0;
	u32 cr1;
	u32 cr2;
	u32 irq;
	u32 strtab_cfg;
	u64 strtab_align;
	u8 cmdq_log2;
	u8 evtq_log2;
	bool hyp;
	bool msi;
	bool msi_used;
};

static void probe_expect_of(const struct probe_combo *c,
			    struct probe_expect *e)
{
	bool ats = c->idr0 & IDR0_ATS;
	bool coherent = (c->idr0 & IDR0_COHACC) && c->coherent;
	u32 sid = c->idr1 & 0x3f;			/* SIDSIZE [5:0] */
	u32 evtqs = (c->idr1 >> 16) & 0x1f;		/* EVENTQS [20:16] */
	u32 cmdqs = (c->idr1 >> 21) & 0x1f;		/* CMDQS [25:21] */
	bool two_level;
	u32 log2size;

	/*
	 * CR0: SMMUEN [0], EVENTQEN [2], CMDQEN [3]; ATSCHK [4] exactly when
	 * IDR0.ATS (RES0 otherwise); PRIQEN [1] stays 0: no PRI queue is
	 * programmed (its BASE/PROD/CONS must be set before enabling it).
	 */
	e->cr0 = 0x1 | 0x4 | 0x8 | (ats ? 0x10 : 0);
	/*
	 * CR1: coherent: TABLE_SH [11:10] and QUEUE_SH [5:4] 0b11 (Inner
	 * Shareable), TABLE_OC [9:8], TABLE_IC [7:6], QUEUE_OC [3:2] and
	 * QUEUE_IC [1:0] 0b01 (Write-Back); otherwise Non-cacheable (0b00),
	 * where SH is IGNORED: 0.
	 */
	e->cr1 = coherent ? 0xd75 : 0;
	/*
	 * CR2: RECINVSID [1]: record C_BAD_STREAMID.  PTM [2] exists only
	 * with IDR0.BTM (RES0 otherwise); with it, 1: the driver's ASIDs are
	 * its own, not the CPU's.  E2H [0]: 0, no EL2-E2H streams.
	 */
	e->cr2 = 0x2 | (c->idr0 & IDR0_BTM ? 0x4 : 0);
	/* IRQ_CTRL: GERROR_IRQEN [0], EVENTQ_IRQEN [2]; no PRI queue. */
	e->irq = 0x1 | 0x4;

	/*
	 * STRTAB_BASE_CFG: FMT [17:16] (0b00 linear, 0b01 2-level), SPLIT
	 * [10:6], LOG2SIZE [5:0].  Policy: two levels split at 8 (6.3.25
	 * allows 6, 8 or 10) when supported (IDR0.ST_LEVEL) and SIDSIZE > 8,
	 * at most 2^17 level-1 descriptors (LOG2SIZE <= 25, as the kernel's
	 * driver allows).
	 */
	two_level = (c->idr0 & IDR0_ST_2LVL) && sid > 8;
	log2size = two_level ? min(sid, 25U) : sid;
	e->strtab_cfg = (two_level ? (0x1 << 16 | 8 << 6) : 0) | log2size;
	/*
	 * 6.3.24: a linear table is aligned to its size (64-byte STEs), a
	 * 2-level one to its level-1 table (8-byte descriptors), >= 64.
	 */
	e->strtab_align = two_level ? max(8ULL << (log2size - 8), 64ULL) :
				      64ULL << log2size;
	e->cmdq_log2 = min(cmdqs, 12U);
	e->evtq_log2 = min(evtqs, 12U);
	e->hyp = c->idr0 & IDR0_HYP;
	e->msi = c->idr0 & IDR0_MSI;
	e->msi_used = e->msi && c->irqs == PROBE_MSI;
}

/**
 * struct probe_ctx - one combination's run
 * @test: the test case
 * @c: the combination
 * @e: what the table expects
 * @f: the fake register file
 * @rows: table rows checked
 * @bad: rows that failed
 */
struct probe_ctx {
	struct kunit *test;
	const struct probe_combo *c;
	struct probe_expect e;
	struct fake_regs *f;
	unsigned int rows;
	unsigned int bad;
};

/* One row of the table: on failure, say what, expected, got and the rule. */
static __printf(3, 4) void row(struct probe_ctx *ctx, bool ok,
			       const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	ctx->rows++;
	if (ok)
		return;
	ctx->bad++;
	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	KUNIT_FAIL(ctx->test, "%s: %pV", ctx->c->name, &vaf);
	va_end(args);
}

static void row_eq(struct probe_ctx *ctx, const char *what, u64 got, u64 want,
		   const char *rule)
{
	row(ctx, got == want, "%s = %#llx, expected %#llx (%s)", what, got,
	    want, rule);
}

/* --- Walking the log ---------------------------------------------------- */

static bool is_write(const struct fake_reg_access *a, u32 off)
{
	return a->kind == FAKE_REG_WRITE && a->off == off && !a->ignored;
}

/* The last write of @off in [from, to), or -1. */
static int last_write(const struct fake_regs *f, u32 off, int from, int to)
{
	int i;

	for (i = to - 1; i >= from; i--)
		if (is_write(&f->log[i], off))
			return i;
	return -1;
}

/* Where a CR0 field is first set by a write that changes it, or -1. */
static int cr0_sets(const struct fake_regs *f, u32 bit, int from, int to)
{
	int i;

	for (i = from; i < to; i++) {
		const struct fake_reg_access *a = &f->log[i];

		if (is_write(a, FR_CR0) && (a->val & bit) && !(a->cr0 & bit))
			return i;
	}
	return -1;
}

/*
 * After each write of @reg (CR0, IRQ_CTRL), its @ack register must be read
 * back with the written value before any other write or command: 6.3.9
 * ("software must poll the equivalent field in SMMU_CR0ACK") and 6.3.16
 * (the same Update semantics for IRQ_CTRL).
 */
static void check_acks(struct probe_ctx *ctx, u32 reg, u32 ack, int from,
		       int to, const char *rule)
{
	const struct fake_regs *f = ctx->f;
	int i, j;

	for (i = from; i < to; i++) {
		bool acked = false;

		if (!is_write(&f->log[i], reg))
			continue;
		for (j = i + 1; j < to; j++) {
			const struct fake_reg_access *a = &f->log[j];

			if (a->kind != FAKE_REG_READ)
				break;
			if (a->off == ack && a->val == f->log[i].val) {
				acked = true;
				break;
			}
		}
		row(ctx, acked,
		    "%s write #%d (%#llx) not followed by %s reading that value before the next access (%s)",
		    fake_regs_name(reg), i, f->log[i].val, fake_regs_name(ack),
		    rule);
	}
}

/* Every write the SMMU ignored broke a rule (the fake says which). */
static void check_ignored(struct probe_ctx *ctx, int from, int to)
{
	const struct fake_regs *f = ctx->f;
	int i;

	for (i = from; i < to; i++) {
		const struct fake_reg_access *a = &f->log[i];

		if (a->kind != FAKE_REG_WRITE)
			continue;
		row(ctx, !a->ignored, "write #%d %s = %#llx ignored by the SMMU: %s",
		    i, fake_regs_name(a->off), a->val, a->ignored);
	}
}

/*
 * The last value written to @off before @at (an enable), which must be
 * @want: a register written before the write that enables what uses it.
 */
static void row_before(struct probe_ctx *ctx, u32 off, int at, u64 want,
		       const char *rule)
{
	const struct fake_regs *f = ctx->f;
	int w = at < 0 ? -1 : last_write(f, off, 0, at);
	char what[64];

	snprintf(what, sizeof(what), "%s written before write #%d",
		 fake_regs_name(off), at);
	if (w < 0) {
		row(ctx, false, "%s never written before write #%d (%s)",
		    fake_regs_name(off), at, rule);
		return;
	}
	row_eq(ctx, what, f->log[w].val, want, rule);
}

/* --- The probe ---------------------------------------------------------- */

static void check_probe(struct probe_ctx *ctx, int to)
{
	const struct probe_expect *e = &ctx->e;
	struct fake_regs *f = ctx->f;
	struct smmuv3_device *smmu = &f->smmu;
	u64 strtab = smmu->strtab.two_level ? smmu->strtab.l1_dma :
					      smmu->strtab.ste_dma;
	/* Q_BASE: RA/WA [62], ADDR [55:5], LOG2SIZE [4:0] (6.3.26, 6.3.29) */
	u64 cmdq_base = BIT_ULL(62) | smmu->cmdq.q.dma | e->cmdq_log2;
	u64 evtq_base = BIT_ULL(62) | smmu->evtq.dma | e->evtq_log2;
	int cmdqen = cr0_sets(f, FR_CR0_CMDQEN, 0, to);
	int evtqen = cr0_sets(f, FR_CR0_EVTQEN, 0, to);
	int smmuen = cr0_sets(f, FR_CR0_SMMUEN, 0, to);
	int atschk = cr0_sets(f, FR_CR0_ATSCHK, 0, to);
	int first_cr0 = -1, gbpa = -1, irqen = -1, i, n;
	static const u32 msi_cfg0[] = {
		FR_EVTQ_IRQ_CFG0, FR_GERROR_IRQ_CFG0, FR_PRIQ_IRQ_CFG0,
	};
	u8 cmds[4] = {};

	check_ignored(ctx, 0, to);
	check_acks(ctx, FR_CR0, FR_CR0ACK, 0, to, "6.3.9");
	check_acks(ctx, FR_IRQ_CTRL, FR_IRQ_CTRLACK, 0, to, "6.3.16");

	/* The registers the SMMU runs with (6.3.9 ... 6.3.29). */
	row_eq(ctx, "CR0", fake_regs_get(f, FR_CR0), e->cr0,
	       "6.3.9: SMMUEN, EVENTQEN, CMDQEN; ATSCHK iff IDR0.ATS; no PRIQEN without a PRI queue");
	row_eq(ctx, "CR0ACK", fake_regs_get(f, FR_CR0ACK), e->cr0,
	       "6.3.10: every field Updated");
	row_eq(ctx, "CR1", fake_regs_get(f, FR_CR1), e->cr1,
	       "6.3.11: WB + Inner Shareable iff coherent, else Non-cacheable");
	row_eq(ctx, "CR2", fake_regs_get(f, FR_CR2), e->cr2,
	       "6.3.12: RECINVSID; PTM only with IDR0.BTM (RES0 otherwise)");
	row_eq(ctx, "GBPA", fake_regs_get(f, FR_GBPA),
	       FW_GBPA | FR_GBPA_ABORT,
	       "6.3.14: ABORT [20] set, other fields as firmware left them, Update 0");
	row_eq(ctx, "IRQ_CTRL", fake_regs_get(f, FR_IRQ_CTRL), e->irq,
	       "6.3.16: GERROR_IRQEN and EVENTQ_IRQEN");
	row_eq(ctx, "IRQ_CTRLACK", fake_regs_get(f, FR_IRQ_CTRLACK), e->irq,
	       "6.3.17: Updated");
	row_eq(ctx, "GERRORN", fake_regs_get(f, FR_GERRORN), FW_GERROR,
	       "6.3.20: errors acknowledged by making GERRORN equal GERROR");
	row_eq(ctx, "STRTAB_BASE", fake_regs_get64(f, FR_STRTAB_BASE),
	       BIT_ULL(62) | strtab,
	       "6.3.24: RA [62], ADDR [55:6] = the driver's table");
	row_eq(ctx, "STRTAB_BASE.ADDR misalignment", strtab &
	       (e->strtab_align - 1), 0, "6.3.24: alignment to the table");
	row_eq(ctx, "STRTAB_BASE_CFG", fake_regs_get(f, FR_STRTAB_BASE_CFG),
	       e->strtab_cfg, "6.3.25: FMT [17:16], SPLIT [10:6], LOG2SIZE [5:0]");
	row_eq(ctx, "CMDQ_BASE", fake_regs_get64(f, FR_CMDQ_BASE), cmdq_base,
	       "6.3.26: RA [62], ADDR [55:5], LOG2SIZE [4:0]");
	row_eq(ctx, "CMDQ_BASE.ADDR misalignment", smmu->cmdq.q.dma &
	       ((16ULL << e->cmdq_log2) - 1), 0,
	       "6.3.26: aligned to the queue size, 16-byte commands");
	row_eq(ctx, "CMDQ_CONS", fake_regs_get(f, FR_CMDQ_CONS),
	       fake_regs_get(f, FR_CMDQ_PROD),
	       "6.3.27/28: every command consumed, no CMDQ error");
	row_eq(ctx, "EVENTQ_BASE", fake_regs_get64(f, FR_EVTQ_BASE), evtq_base,
	       "6.3.29: WA [62], ADDR [55:5], LOG2SIZE [4:0]");
	row_eq(ctx, "EVENTQ_BASE.ADDR misalignment", smmu->evtq.dma &
	       ((32ULL << e->evtq_log2) - 1), 0,
	       "6.3.29: aligned to the queue size, 32-byte records");
	row_eq(ctx, "EVENTQ_PROD", fake_regs_get(f, FR_EVTQ_PROD), 0,
	       "EVENTQ_PROD: the queue starts empty");
	row_eq(ctx, "EVENTQ_CONS", fake_regs_get(f, FR_EVTQ_CONS), 0,
	       "EVENTQ_CONS: the queue starts empty");
	i = last_write(f, FR_EVTQ_PROD, 0, to);
	row_eq(ctx, "EVENTQ_PROD's address", i < 0 ? ~0U : f->log[i].addr,
	       ctx->c->page0_only ? 0xa8 : 0x100a8,
	       "6.2: page 1 at 0x10000, or page 0 where firmware says so");
	row(ctx, last_write(f, FR_PRIQ_BASE, 0, to) < 0 &&
	    cr0_sets(f, FR_CR0_PRIQEN, 0, to) < 0,
	    "PRIQ_BASE written or PRIQEN set: the driver has no PRI queue (6.3.9.5)");

	/* Order: the GBPA update protocol first (6.3.14.1, 6.3.9.6). */
	for (i = 0; i < to; i++) {
		if (is_write(&f->log[i], FR_CR0) && first_cr0 < 0)
			first_cr0 = i;
		if (is_write(&f->log[i], FR_GBPA) && gbpa < 0)
			gbpa = i;
	}
	row(ctx, gbpa >= 0 && (f->log[gbpa].val & FR_GBPA_ABORT),
	    "GBPA never written with ABORT [20] (6.3.9.6: traffic must abort while SMMUEN is 0)");
	n = 0;
	for (i = gbpa + 1; gbpa >= 0 && i < first_cr0; i++)
		if (f->log[i].kind == FAKE_REG_READ &&
		    f->log[i].off == FR_GBPA &&
		    !(f->log[i].val & FR_GBPA_UPDATE) &&
		    (f->log[i].val & FR_GBPA_ABORT))
			n++;
	row(ctx, gbpa >= 0 && gbpa < first_cr0 && n,
	    "GBPA.ABORT not Updated (write #%d, polled Update == 0 %d times) before CR0 is written (#%d) (6.3.14.1)",
	    gbpa, n, first_cr0);

	/* Queues programmed while disabled, before their enable. */
	row(ctx, cmdqen >= 0, "CR0.CMDQEN never set (6.3.9.3)");
	row_before(ctx, FR_CMDQ_BASE, cmdqen, cmdq_base, "6.3.26");
	row_before(ctx, FR_CMDQ_PROD, cmdqen, 0, "6.3.27: the queue starts empty");
	row_before(ctx, FR_CMDQ_CONS, cmdqen, 0, "6.3.28: the queue starts empty");
	row(ctx, evtqen >= 0, "CR0.EVENTQEN never set (6.3.9.4)");
	row_before(ctx, FR_EVTQ_BASE, evtqen, evtq_base, "6.3.29");
	row_before(ctx, FR_EVTQ_PROD, evtqen, 0, "EVENTQ_PROD: the queue starts empty");
	row_before(ctx, FR_EVTQ_CONS, evtqen, 0, "EVENTQ_CONS: the queue starts empty");
	/* Tables and CR1/CR2 before SMMUEN (6.3.11, 6.3.12, 6.3.24, 6.3.25). */
	row(ctx, smmuen >= 0, "CR0.SMMUEN never set (6.3.9.6)");
	row_before(ctx, FR_CR1, cmdqen, e->cr1,
		   "6.3.11.2: QUEUE_* set before a queue is enabled");
	row_before(ctx, FR_CR2, smmuen, e->cr2, "6.3.12");
	row_before(ctx, FR_STRTAB_BASE, smmuen, BIT_ULL(62) | strtab, "6.3.24");
	row_before(ctx, FR_STRTAB_BASE_CFG, smmuen, e->strtab_cfg, "6.3.25");
	row(ctx, smmuen > cmdqen && smmuen > evtqen,
	    "SMMUEN (#%d) set before the queues (CMDQEN #%d, EVENTQEN #%d)",
	    smmuen, cmdqen, evtqen);

	/* The reset's invalidation: after CMDQEN, before SMMUEN (6.3.9.6). */
	n = 0;
	for (i = 0; i < to; i++) {
		const struct fake_reg_access *a = &f->log[i];

		if (a->kind != FAKE_REG_CMD)
			continue;
		row(ctx, i > cmdqen && i < smmuen,
		    "command #%d (op %#llx) consumed outside CMDQEN..SMMUEN (#%d..#%d)",
		    i, a->val & 0xff, cmdqen, smmuen);
		row(ctx, atschk < 0 || a->cr0ack & FR_CR0_ATSCHK,
		    "command #%d (op %#llx) before ATSCHK was Updated: an ATSCHK change must be followed by STE invalidation (6.3.9.2)",
		    i, a->val & 0xff);
		if (n < ARRAY_SIZE(cmds))
			cmds[n] = a->val & 0xff;
		if (!n)
			row_eq(ctx, "CMD_CFGI_ALL word 1", a->val1, CFGI_ALL_RANGE,
			       "4.3.3: Range 31, every StreamID");
		n++;
	}
	row_eq(ctx, "commands consumed", n, e->hyp ? 4 : 3,
	       "CFGI_ALL, TLBI_EL2_ALL with IDR0.Hyp, TLBI_NSNH_ALL, CMD_SYNC");
	if (n == (e->hyp ? 4 : 3)) {
		row_eq(ctx, "command 0", cmds[0], OP_CFGI_ALL, "4.3.3");
		if (e->hyp)
			row_eq(ctx, "command 1", cmds[1], OP_TLBI_EL2_ALL,
			       "4.4.4: EL2 TLB entries of firmware");
		row_eq(ctx, "command before CMD_SYNC", cmds[n - 2],
		       OP_TLBI_NSNH_ALL, "4.4.6");
		row_eq(ctx, "last command", cmds[n - 1], OP_SYNC, "4.7.3");
	}

	/* ATSCHK: with IDR0.ATS set before SMMUEN, kept while it is 1. */
	if (ctx->c->idr0 & IDR0_ATS) {
		row(ctx, atschk >= 0 && atschk <= smmuen,
		    "CR0.ATSCHK set at #%d, SMMUEN at #%d: with IDR0.ATS, ATS Translated traffic must be checked against STE.EATS from the start (6.3.9)",
		    atschk, smmuen);
	} else {
		row(ctx, atschk < 0,
		    "CR0.ATSCHK set at #%d without IDR0.ATS: RES0 (6.3.9)",
		    atschk);
	}
	for (i = 0; i < to; i++) {
		const struct fake_reg_access *a = &f->log[i];

		if (!is_write(a, FR_CR0) ||
		    !((a->cr0 | a->cr0ack) & FR_CR0_SMMUEN) ||
		    !(a->val & FR_CR0_SMMUEN))
			continue;
		row(ctx, !((a->val ^ a->cr0) & FR_CR0_ATSCHK),
		    "CR0 write #%d (%#llx) changes ATSCHK while SMMUEN stays 1 (6.3.9.2)",
		    i, a->val);
	}

	/* Interrupts: errors acknowledged and MSIs programmed first. */
	for (i = 0; i < to && irqen < 0; i++)
		if (is_write(&f->log[i], FR_IRQ_CTRL) && f->log[i].val)
			irqen = i;
	row(ctx, irqen >= 0, "IRQ_CTRL never enabled (6.3.16)");
	row_before(ctx, FR_GERRORN, irqen, FW_GERROR,
		   "6.3.20: stale errors acknowledged before GERROR_IRQEN");
	for (i = 0; i < ARRAY_SIZE(msi_cfg0); i++) {
		u32 off = msi_cfg0[i];
		char what[48];

		if (!e->msi) {
			row(ctx, last_write(f, off, 0, to) < 0 &&
			    last_write(f, off + 8, 0, to) < 0 &&
			    last_write(f, off + 12, 0, to) < 0,
			    "%s written without IDR0.MSI: RES0 (6.3.21)",
			    fake_regs_name(off));
			continue;
		}
		/* CFG0 ADDR [51:2]; CFG1 data; CFG2 MemAttr [3:0] 0b0001 */
		snprintf(what, sizeof(what), "%s", fake_regs_name(off));
		row_eq(ctx, what, fake_regs_get64(f, off),
		       e->msi_used ? 0x0000001208090040ULL + 0x40 * i : 0,
		       "6.3.21: the message's address [51:2], or 0 (no MSI)");
		if (!e->msi_used)
			continue;
		row_eq(ctx, fake_regs_name(off + 8), fake_regs_get(f, off + 8),
		       0x2a + i, "6.3.22: the message's data");
		row_eq(ctx, fake_regs_name(off + 12),
		       fake_regs_get(f, off + 12) & 0xf, 0x1,
		       "6.3.23: Device-nGnRE");
	}
}

/* --- Teardown ----------------------------------------------------------- */

static void check_teardown(struct probe_ctx *ctx, int from, int to)
{
	struct fake_regs *f = ctx->f;
	int irq = last_write(f, FR_IRQ_CTRL, from, to);
	int cr0 = last_write(f, FR_CR0, from, to);
	int i;

	check_ignored(ctx, from, to);
	check_acks(ctx, FR_CR0, FR_CR0ACK, from, to, "6.3.9");
	check_acks(ctx, FR_IRQ_CTRL, FR_IRQ_CTRLACK, from, to, "6.3.16");
	row(ctx, irq >= 0 && cr0 > irq && !f->log[irq].val && !f->log[cr0].val,
	    "teardown: IRQ_CTRL = 0 (#%d), then CR0 = 0 (#%d) expected",
	    irq, cr0);
	row_eq(ctx, "CR0ACK after teardown", fake_regs_get(f, FR_CR0ACK), 0,
	       "6.3.10");
	row_eq(ctx, "IRQ_CTRLACK after teardown",
	       fake_regs_get(f, FR_IRQ_CTRLACK), 0, "6.3.17");
	row_eq(ctx, "GBPA after teardown", fake_regs_get(f, FR_GBPA),
	       FW_GBPA | FR_GBPA_ABORT,
	       "6.3.14: traffic keeps aborting once SMMUEN is 0");
	for (i = 0; ctx->e.msi_used && i < 3; i++) {
		static const u32 cfg0[] = {
			FR_EVTQ_IRQ_CFG0, FR_GERROR_IRQ_CFG0, FR_PRIQ_IRQ_CFG0,
		};
		char what[48];

		snprintf(what, sizeof(what), "%s after teardown",
			 fake_regs_name(cfg0[i]));
		row_eq(ctx, what, fake_regs_get64(f, cfg0[i]), 0,
		       "6.3.21: ADDR 0, no MSI is sent");
	}
}

/* --- The fake MSI core -------------------------------------------------- */

static int probe_msi_alloc(struct smmuv3_device *smmu, int *virqs)
{
	struct fake_regs *f = container_of(smmu, struct fake_regs, smmu);
	int i;

	for (i = 0; i < 3; i++) {
		/* Bits [63:52] and [1:0] are not part of the address. */
		struct msi_msg msg = {
			.address_hi = 0xabc00012,
			.address_lo = 0x08090043 + i * 0x40,
			.data = 0x2a + i,
		};

		smmuv3_msi_write(smmu, i, &msg);
		virqs[i] = f->irqs[i];
	}
	return 0;
}

static void probe_msi_free(struct smmuv3_device *smmu)
{
}

/* --- The case ----------------------------------------------------------- */

static void probe_firmware_state(struct probe_ctx *ctx)
{
	const struct probe_combo *c = ctx->c;
	struct fake_regs *f = ctx->f;

	fake_regs_set(f, FR_IDR0, c->idr0);
	fake_regs_set(f, FR_IDR1, c->idr1);
	fake_regs_set(f, FR_IDR3, c->idr3);
	fake_regs_set(f, FR_IDR5, c->idr5);
	fake_regs_set(f, FR_IIDR, c->iidr);
	fake_regs_set(f, FR_AIDR, AIDR_V3_2);
	fake_regs_set(f, FR_GERROR, FW_GERROR);
	fake_regs_set(f, FR_GBPA, FW_GBPA);
	if (c->gbpa_busy)
		fake_regs_set_pending(f, FR_GBPA, 5);
	if (!c->fw_enabled)
		return;
	/* Translating with its own tables and queues (kexec, firmware). */
	fake_regs_set(f, FR_CR0, 0xd);
	fake_regs_set(f, FR_CR0ACK, 0xd);
	fake_regs_set(f, FR_IRQ_CTRL, 0x5);
	fake_regs_set(f, FR_IRQ_CTRLACK, 0x5);
	fake_regs_set(f, FR_CR1, 0x555);
	fake_regs_set(f, FR_STRTAB_BASE, 0xdead0000);
	fake_regs_set(f, FR_STRTAB_BASE_CFG, 0x10);
	fake_regs_set(f, FR_CMDQ_BASE, 0xbeef0008);
	fake_regs_set(f, FR_CMDQ_PROD, 0x5);
	fake_regs_set(f, FR_CMDQ_CONS, 0x5);
	fake_regs_set(f, FR_EVTQ_BASE, 0xcafe0008);
	fake_regs_set(f, FR_EVTQ_PROD, 0x7);
	fake_regs_set(f, FR_EVTQ_CONS, 0x7);
}

static void probe_oracle(struct kunit *test)
{
	struct probe_ctx ctx = { .test = test, .c = test->param_value };
	const struct probe_combo *c = ctx.c;
	struct smmuv3_device *smmu;
	struct irq_domain *domain;
	struct fake_regs *f;
	int ret, probed;

	probe_expect_of(c, &ctx.e);
	if (c->irqs == PROBE_MSI) {
		if (!IS_ENABLED(CONFIG_GENERIC_MSI_IRQ))
			kunit_skip(test, "no CONFIG_GENERIC_MSI_IRQ");
		kunit_activate_static_stub(test, smmuv3_msi_alloc,
					   probe_msi_alloc);
		kunit_activate_static_stub(test, smmuv3_msi_free,
					   probe_msi_free);
	}
	f = fake_regs_create(test, c->page0_only);
	ctx.f = f;
	smmu = &f->smmu;
	probe_firmware_state(&ctx);
	if (c->irqs == PROBE_COMBINED) {
		smmu->irq_combined = f->irqs[2];
	} else {
		smmu->irq_evtq = f->irqs[0];
		smmu->irq_gerror = f->irqs[1];
	}
	if (c->irqs == PROBE_MSI) {
		/* Never dereferenced: the MSI core is faked. */
		domain = kunit_kzalloc(test, sizeof(*domain), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, domain);
		dev_set_msi_domain(smmu->dev, domain);
	}

	ret = smmuv3_hw_probe(smmu, c->coherent);
	if (ret)
		fake_regs_dump(test, f, 0, f->num);
	KUNIT_ASSERT_EQ_MSG(test, ret, 0, "smmuv3_hw_probe()");
	probed = f->num;
	check_probe(&ctx, probed);

	smmuv3_disable(smmu);
	/* Its devres: interrupts and MSIs go, as when the driver unbinds. */
	kunit_device_unregister(test, smmu->dev);
	check_teardown(&ctx, probed, f->num);

	KUNIT_EXPECT_EQ_MSG(test, f->lost, 0, "accesses not recorded");
	if (ctx.bad)
		fake_regs_dump(test, f, 0, f->num);
	kunit_info(test, "%u rows checked, %u failed, %u accesses\n",
		   ctx.rows, ctx.bad, f->num);
}

static struct kunit_case smmuv3_probe_cases[] = {
	KUNIT_CASE_PARAM(probe_oracle, probe_gen_params),
	{}
};

static struct kunit_suite smmuv3_probe_suite = {
	.name = "smmuv3-probe",
	.test_cases = smmuv3_probe_cases,
};

kunit_test_suites(&smmuv3_probe_suite);
