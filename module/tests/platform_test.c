// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suites of what real servers need and QEMU's SMMU does not have:
 *
 * - smmuv3-msi: the IRQ_CFG registers programmed from a composed MSI
 *   message, MSI set-up and teardown, and the fall-back to wired
 *   interrupts (no IDR0.MSI, no MSI domain, allocation failure).  The MSI
 *   core is replaced by static stubs of smmuv3_msi_alloc()/_free().
 * - smmuv3-errata: every entry of the errata table, identification in,
 *   features and options out; the forced CMD_SYNC of Arm erratum 2812531.
 * - smmuv3-rmr: IORT RMR streams bypass before SMMU_CR0.SMMUEN is set.
 *   The probe's table and enable sequence runs on a fake SMMU whose CR0,
 *   IRQ_CTRL and GBPA writes are recorded (static stubs of
 *   smmuv3_write_ack() and smmuv3_update_gbpa()).
 *
 * Expected register offsets and field values are written out from the
 * SMMUv3 architecture (IHI 0070) and the IIDR values from the kernel's
 * driver and Arm's errata notices, independently of regs.h and errata.c.
 */
#include <kunit/device.h>
#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/device.h>
#include <linux/io.h>
#include <linux/iommu.h>
#include <linux/irqdomain.h>
#include <linux/msi.h>
#include <linux/sizes.h>

#include <smmuv3/smmuv3.h>

#include "fake_smmu.h"

/* Register offsets of page 0 (IHI 0070, 6.2). */
#define R_CR0			0x20
#define R_GERROR_IRQ_CFG0	0x68
#define R_GERROR_IRQ_CFG1	0x70
#define R_GERROR_IRQ_CFG2	0x74
#define R_STRTAB_BASE		0x80
#define R_EVTQ_IRQ_CFG0		0xb0
#define R_EVTQ_IRQ_CFG1		0xb8
#define R_EVTQ_IRQ_CFG2		0xbc
#define R_PRIQ_IRQ_CFG0		0xd0
#define R_PRIQ_IRQ_CFG1		0xd8
#define R_PRIQ_IRQ_CFG2		0xdc
/* CR0.SMMUEN is bit 0; IRQ_CFG2.MemAttr 0b0001 is Device-nGnRE. */
#define CR0_SMMUEN		0x1
#define MEMATTR_DEVICE_NGNRE	0x1

/* A fake instance whose register pages are 128KiB of plain memory. */
static struct fake_smmu *platform_fake(struct kunit *test, u32 flags)
{
	struct fake_smmu *f = fake_smmu_create(test, "smmu0", flags, 16, 8);
	void *regs = kunit_kzalloc(test, SZ_128K, GFP_KERNEL);
	static atomic_t seq = ATOMIC_INIT(0);
	char name[32];

	KUNIT_ASSERT_NOT_NULL(test, regs);
	f->smmu.base = (void __iomem __force *)regs;
	f->smmu.page1 = f->smmu.base + SZ_64K;
	/* A name of its own: a failed case may leave its device behind. */
	snprintf(name, sizeof(name), "smmuv3-platform%d",
		 atomic_inc_return(&seq));
	f->smmu.dev = kunit_device_register(test, name);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, f->smmu.dev);
	dev_set_drvdata(f->smmu.dev, &f->smmu);
	return f;
}

static u64 reg64(struct fake_smmu *f, u32 off)
{
	return readq_relaxed(f->smmu.base + off);
}

static u32 reg32(struct fake_smmu *f, u32 off)
{
	return readl_relaxed(f->smmu.base + off);
}

/* --- MSI --------------------------------------------------------------- */

/**
 * struct msi_ctx - what the fake MSI core did
 * @f: the instance
 * @alloc_ret: what allocation returns
 * @allocs: allocations
 * @frees: frees
 */
struct msi_ctx {
	struct fake_smmu *f;
	int alloc_ret;
	unsigned int allocs;
	unsigned int frees;
};

/* Messages the fake MSI core composes: index i gets address + i * 0x40. */
#define MSG_ADDR_HI	0xabc00012	/* bits [63:52] set: not an address */
#define MSG_ADDR_LO	0x08090043	/* bits [1:0] set: not an address */
#define MSG_DATA	0x2a

static int msi_fake_alloc(struct smmuv3_device *smmu, int *virqs)
{
	struct msi_ctx *ctx = kunit_get_current_test()->priv;
	int i;

	ctx->allocs++;
	if (ctx->alloc_ret)
		return ctx->alloc_ret;
	for (i = 0; i < 3; i++) {
		struct msi_msg msg = {
			.address_hi = MSG_ADDR_HI,
			.address_lo = MSG_ADDR_LO + i * 0x40,
			.data = MSG_DATA + i,
		};

		/* As the MSI core calls the driver's write_msi_msg. */
		smmuv3_msi_write(smmu, i, &msg);
		virqs[i] = 100 + i;
	}
	return 0;
}

static void msi_fake_free(struct smmuv3_device *smmu)
{
	struct msi_ctx *ctx = kunit_get_current_test()->priv;

	ctx->frees++;
}

static struct msi_ctx *msi_env(struct kunit *test, u32 flags, bool domain)
{
	struct msi_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	struct irq_domain *d;

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->f = platform_fake(test, flags);
	if (domain) {
		if (!IS_ENABLED(CONFIG_GENERIC_MSI_IRQ))
			kunit_skip(test, "no CONFIG_GENERIC_MSI_IRQ");
		/* Never dereferenced: the MSI core is faked. */
		d = kunit_kzalloc(test, sizeof(*d), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, d);
		dev_set_msi_domain(ctx->f->smmu.dev, d);
	}
	test->priv = ctx;
	kunit_activate_static_stub(test, smmuv3_msi_alloc, msi_fake_alloc);
	kunit_activate_static_stub(test, smmuv3_msi_free, msi_fake_free);
	/* What the firmware's wired interrupts would be. */
	ctx->f->smmu.irq_evtq = 7;
	ctx->f->smmu.irq_gerror = 8;
	return ctx;
}

/* One message in, CFG0/1/2 out: address [51:2], data, Device-nGnRE. */
static void msi_write_cfg(struct kunit *test)
{
	struct fake_smmu *f = platform_fake(test, SMMUV3_FEAT_MSI);
	struct msi_msg msg = {
		.address_hi = MSG_ADDR_HI,
		.address_lo = MSG_ADDR_LO,
		.data = 0x12345678,
	};

	smmuv3_msi_write(&f->smmu, 1, &msg);	/* GERROR */
	KUNIT_EXPECT_EQ(test, reg64(f, R_GERROR_IRQ_CFG0), 0x0000001208090040ULL);
	KUNIT_EXPECT_EQ(test, reg32(f, R_GERROR_IRQ_CFG1), 0x12345678);
	KUNIT_EXPECT_EQ(test, reg32(f, R_GERROR_IRQ_CFG2) & 0xf,
			MEMATTR_DEVICE_NGNRE);
	/* Nothing else was written. */
	KUNIT_EXPECT_EQ(test, reg64(f, R_EVTQ_IRQ_CFG0), 0);
	KUNIT_EXPECT_EQ(test, reg64(f, R_PRIQ_IRQ_CFG0), 0);
	/* An index the SMMU does not have is ignored. */
	smmuv3_msi_write(&f->smmu, 3, &msg);
	KUNIT_EXPECT_EQ(test, reg64(f, R_PRIQ_IRQ_CFG0), 0);
}

/* IDR0.MSI and an MSI domain: the MSIs replace the wired interrupts. */
static void msi_setup_teardown(struct kunit *test)
{
	struct msi_ctx *ctx = msi_env(test, SMMUV3_FEAT_MSI, true);
	struct fake_smmu *f = ctx->f;

	f->smmu.irq_combined = 9;
	smmuv3_msi_setup(&f->smmu);
	KUNIT_EXPECT_EQ(test, ctx->allocs, 1);
	KUNIT_EXPECT_EQ(test, f->smmu.irq_evtq, 100);
	KUNIT_EXPECT_EQ(test, f->smmu.irq_gerror, 101);
	KUNIT_EXPECT_EQ(test, f->smmu.irq_combined, 0);

	KUNIT_EXPECT_EQ(test, reg64(f, R_EVTQ_IRQ_CFG0), 0x0000001208090040ULL);
	KUNIT_EXPECT_EQ(test, reg32(f, R_EVTQ_IRQ_CFG1), MSG_DATA);
	KUNIT_EXPECT_EQ(test, reg32(f, R_EVTQ_IRQ_CFG2) & 0xf,
			MEMATTR_DEVICE_NGNRE);
	KUNIT_EXPECT_EQ(test, reg64(f, R_GERROR_IRQ_CFG0), 0x0000001208090080ULL);
	KUNIT_EXPECT_EQ(test, reg32(f, R_GERROR_IRQ_CFG1), MSG_DATA + 1);
	KUNIT_EXPECT_EQ(test, reg32(f, R_GERROR_IRQ_CFG2) & 0xf,
			MEMATTR_DEVICE_NGNRE);
	KUNIT_EXPECT_EQ(test, reg64(f, R_PRIQ_IRQ_CFG0), 0x00000012080900c0ULL);
	KUNIT_EXPECT_EQ(test, reg32(f, R_PRIQ_IRQ_CFG1), MSG_DATA + 2);
	KUNIT_EXPECT_EQ(test, reg32(f, R_PRIQ_IRQ_CFG2) & 0xf,
			MEMATTR_DEVICE_NGNRE);

	/* The instance goes away: MSIs freed, doorbells cleared. */
	KUNIT_EXPECT_EQ(test, ctx->frees, 0);
	kunit_device_unregister(test, f->smmu.dev);
	KUNIT_EXPECT_EQ(test, ctx->frees, 1);
	KUNIT_EXPECT_EQ(test, reg64(f, R_EVTQ_IRQ_CFG0), 0);
	KUNIT_EXPECT_EQ(test, reg64(f, R_GERROR_IRQ_CFG0), 0);
	KUNIT_EXPECT_EQ(test, reg64(f, R_PRIQ_IRQ_CFG0), 0);
}

static void msi_expect_wired(struct kunit *test, struct msi_ctx *ctx,
			     unsigned int allocs)
{
	struct fake_smmu *f = ctx->f;

	KUNIT_EXPECT_EQ(test, ctx->allocs, allocs);
	KUNIT_EXPECT_EQ(test, f->smmu.irq_evtq, 7);
	KUNIT_EXPECT_EQ(test, f->smmu.irq_gerror, 8);
	kunit_device_unregister(test, f->smmu.dev);
	KUNIT_EXPECT_EQ(test, ctx->frees, 0);
}

/* IDR0.MSI but no MSI domain: wired, and no stale doorbell left. */
static void msi_no_domain(struct kunit *test)
{
	struct msi_ctx *ctx = msi_env(test, SMMUV3_FEAT_MSI, false);
	struct fake_smmu *f = ctx->f;

	writeq_relaxed(0xdead0000, f->smmu.base + R_EVTQ_IRQ_CFG0);
	writeq_relaxed(0xdead0000, f->smmu.base + R_GERROR_IRQ_CFG0);
	smmuv3_msi_setup(&f->smmu);
	KUNIT_EXPECT_EQ(test, reg64(f, R_EVTQ_IRQ_CFG0), 0);
	KUNIT_EXPECT_EQ(test, reg64(f, R_GERROR_IRQ_CFG0), 0);
	msi_expect_wired(test, ctx, 0);
}

/* An MSI domain but no IDR0.MSI: wired, registers not touched (RES0). */
static void msi_no_idr0_msi(struct kunit *test)
{
	struct msi_ctx *ctx = msi_env(test, 0, true);
	struct fake_smmu *f = ctx->f;

	writeq_relaxed(0xdead0000, f->smmu.base + R_EVTQ_IRQ_CFG0);
	smmuv3_msi_setup(&f->smmu);
	KUNIT_EXPECT_EQ(test, reg64(f, R_EVTQ_IRQ_CFG0), 0xdead0000);
	msi_expect_wired(test, ctx, 0);
}

/* The allocation fails: wired, nothing to free. */
static void msi_alloc_fails(struct kunit *test)
{
	struct msi_ctx *ctx = msi_env(test, SMMUV3_FEAT_MSI, true);

	ctx->alloc_ret = -ENOSPC;
	smmuv3_msi_setup(&ctx->f->smmu);
	msi_expect_wired(test, ctx, 1);
}

static struct kunit_case smmuv3_msi_cases[] = {
	KUNIT_CASE(msi_write_cfg),
	KUNIT_CASE(msi_setup_teardown),
	KUNIT_CASE(msi_no_domain),
	KUNIT_CASE(msi_no_idr0_msi),
	KUNIT_CASE(msi_alloc_fails),
	{}
};

static struct kunit_suite smmuv3_msi_suite = {
	.name = "smmuv3-msi",
	.test_cases = smmuv3_msi_cases,
};

/* --- Errata and options ------------------------------------------------ */

/**
 * struct errata_case - an implementation and what the table must say
 * @name: for the parameter's description
 * @iidr: SMMU_IIDR: ProductID [31:20], Variant [19:16], Revision [15:12],
 *	Implementer [11:0] (Arm: 0x43b)
 * @model: the IORT model field, or -1
 * @prop: a device-tree property, or NULL
 * @clear: features it must lose
 * @options: options it must get
 * @compat: a device-tree compatible string of the node, or NULL
 */
struct errata_case {
	const char *name;
	u32 iidr;
	s64 model;
	const char *prop;
	u32 clear;
	u32 options;
	const char *compat;
};

#define NO_NEST		SMMUV3_OPT_NO_NESTING
#define FORCE_SYNC	SMMUV3_OPT_CMDQ_FORCE_SYNC

static const struct errata_case errata_cases[] = {
	/* MMU-600 (0x483): 1076982 up to r0p2 (SEV), 1209401 before r2 */
	{ "MMU-600 r0p0", 0x4830043b, -1, NULL, SMMUV3_FEAT_SEV, NO_NEST },
	{ "MMU-600 r0p2", 0x4830243b, -1, NULL, SMMUV3_FEAT_SEV, NO_NEST },
	{ "MMU-600 r0p3", 0x4830343b, -1, NULL, 0, NO_NEST },
	{ "MMU-600 r1p0", 0x4831043b, -1, NULL, 0, NO_NEST },
	{ "MMU-600 r2p0", 0x4832043b, -1, NULL, 0, 0 },
	/* MMU-700 (0x487): no BTM; 2268618/2812531 in r0 and in p0 */
	{ "MMU-700 r0p0", 0x4870043b, -1, NULL, SMMUV3_FEAT_BTM,
	  FORCE_SYNC | NO_NEST },
	{ "MMU-700 r0p1", 0x4870143b, -1, NULL, SMMUV3_FEAT_BTM,
	  FORCE_SYNC | NO_NEST },
	{ "MMU-700 r1p0", 0x4871043b, -1, NULL, SMMUV3_FEAT_BTM,
	  FORCE_SYNC | NO_NEST },
	{ "MMU-700 r1p1", 0x4871143b, -1, NULL, SMMUV3_FEAT_BTM, 0 },
	/* MMU-L1 (0x48a), MMU-S3 (0x498): 3878312/3995052, no BTM */
	{ "MMU-L1 r0p0", 0x48a0043b, -1, NULL, SMMUV3_FEAT_BTM, 0 },
	{ "MMU-S3 r0p0", 0x4980043b, -1, NULL, SMMUV3_FEAT_BTM, 0 },
	/* The same product number from another implementer */
	{ "0x483 not by Arm", 0x4830042b, -1, NULL, 0, 0 },
	{ "QEMU", 0x00000000, -1, NULL, 0, 0 },
	/* IORT models: 0 generic, 1 HiSilicon Hi161x, 2 Cavium CN99xx */
	{ "IORT generic", 0, 0, NULL, 0, 0 },
	{ "IORT Hi161x", 0, 1, NULL, 0, SMMUV3_OPT_SKIP_PREFETCH },
	{ "IORT CN99xx", 0, 2, NULL, 0, SMMUV3_OPT_PAGE0_ONLY },
	{ "DT broken prefetch", 0, -1, "hisilicon,broken-prefetch-cmd", 0,
	  SMMUV3_OPT_SKIP_PREFETCH },
	{ "DT broken page 1", 0, -1, "cavium,cn9900-broken-page1-regspace", 0,
	  SMMUV3_OPT_PAGE0_ONLY },
	{ "DT other property", 0, -1, "dma-coherent", 0, 0 },
	/*
	 * NVIDIA Tegra264: the kernel's driver repeats every CFGI/TLBI with
	 * its CMD_SYNC for of_device_is_compatible("nvidia,tegra264-smmu").
	 */
	{ "DT Tegra264", 0, -1, NULL, 0, SMMUV3_OPT_REPEAT_CFGI_TLBI,
	  "nvidia,tegra264-smmu" },
	{ "DT other compatible", 0, -1, NULL, 0, 0, "arm,smmu-v3" },
};

static void errata_case_desc(const struct errata_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(errata, errata_cases, errata_case_desc);

static bool errata_has_prop(const void *fw, const char *name)
{
	return !strcmp(fw, name);
}

static void errata_table(struct kunit *test)
{
	const struct errata_case *c = test->param_value;
	struct smmuv3_impl_id id = {
		.iidr = c->iidr,
		.iort_model = c->model,
		.has_prop = c->prop ? errata_has_prop : NULL,
		.is_compatible = c->compat ? errata_has_prop : NULL,
		.fw = c->prop ?: c->compat,
	};
	u32 clear = 0, options = 0, hits;

	hits = smmuv3_errata_lookup(&id, &clear, &options);
	KUNIT_EXPECT_EQ(test, clear, c->clear);
	KUNIT_EXPECT_EQ(test, options, c->options);
	KUNIT_EXPECT_EQ(test, !!hits, c->clear || c->options);
}

/*
 * Arm erratum 2812531: with the option, a batch is queued with a CMD_SYNC
 * after 63 commands; without it, 64 commands go without one.
 */
static void errata_force_sync(struct kunit *test)
{
	struct smmuv3_cmd cmd = { .op = SMMUV3_OP_TLBI_NH_ASID };
	struct smmuv3_cmd_batch *batch;
	struct fake_cmd *expect;
	struct fake_smmu *f;
	unsigned int n;
	int pass, i;

	batch = kunit_kzalloc(test, sizeof(*batch), GFP_KERNEL);
	expect = kunit_kcalloc(test, 67, sizeof(*expect), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, batch);
	KUNIT_ASSERT_NOT_NULL(test, expect);

	for (pass = 0; pass < 2; pass++) {
		f = fake_smmu_create(test, "smmu0", SMMUV3_FEAT_S1, 16, 8);
		if (pass)
			f->smmu.options = SMMUV3_OPT_CMDQ_FORCE_SYNC;
		smmuv3_batch_init(batch, &f->smmu);
		n = 0;
		for (i = 0; i < 65; i++) {
			cmd.tlbi.asid = i + 1;
			KUNIT_ASSERT_EQ(test, smmuv3_batch_add(batch, &cmd), 0);
			/* TLBI_NH_ASID: opcode 0x11, ASID [63:48] */
			if (pass && i == 63)
				expect[n++] = (struct fake_cmd)FAKE_CMD_SYNC;
			expect[n].w0 = 0x11 | (u64)(i + 1) << 48;
			expect[n++].w1 = 0;
		}
		KUNIT_ASSERT_EQ(test, smmuv3_batch_submit(batch), 0);
		expect[n++] = (struct fake_cmd)FAKE_CMD_SYNC;
		kunit_info(test, "%s the option: %u commands\n",
			   pass ? "with" : "without", n);
		fake_expect_cmds(test, f, expect, n);
	}
}

static struct kunit_case smmuv3_errata_cases[] = {
	KUNIT_CASE_PARAM(errata_table, errata_gen_params),
	KUNIT_CASE(errata_force_sync),
	{}
};

static struct kunit_suite smmuv3_errata_suite = {
	.name = "smmuv3-errata",
	.test_cases = smmuv3_errata_cases,
};

/* --- IORT RMR ---------------------------------------------------------- */

#define RMR_MAX_WRITES	32

/**
 * struct rmr_ctx - the fake firmware and the recorded register writes
 * @f: the instance
 * @rmr: two RMR nodes
 * @sids: their streams
 * @check: streams whose STE is checked at each write (bypass expected
 *	for the first @num_bypass, abort for the others)
 * @num_check: entries of @check
 * @num_bypass: see @check
 * @put: smmuv3_rmr_put() calls
 * @writes: recorded (register, value) writes, in order
 * @num_writes: their number
 * @bypass_at_smmuen: every RMR stream bypassed when SMMUEN was written
 * @others_abort_at_smmuen: every other checked stream aborts then
 * @strtab_at_smmuen: STRTAB_BASE when SMMUEN was written
 */
struct rmr_ctx {
	struct fake_smmu *f;
	struct iommu_iort_rmr_data rmr[2];
	u32 sids[3];
	u32 check[5];
	unsigned int num_check;
	unsigned int num_bypass;
	unsigned int put;
	struct {
		u32 reg;
		u32 val;
	} writes[RMR_MAX_WRITES];
	unsigned int num_writes;
	bool bypass_at_smmuen;
	bool others_abort_at_smmuen;
	u64 strtab_at_smmuen;
};

static void rmr_fake_get(struct smmuv3_device *smmu, struct list_head *list)
{
	struct rmr_ctx *ctx = kunit_get_current_test()->priv;

	list_add_tail(&ctx->rmr[0].rr.list, list);
	list_add_tail(&ctx->rmr[1].rr.list, list);
}

static void rmr_fake_put(struct smmuv3_device *smmu, struct list_head *list)
{
	struct rmr_ctx *ctx = kunit_get_current_test()->priv;

	ctx->put++;
	INIT_LIST_HEAD(list);
}

/*
 * STE word 0: V [0], Config [3:1]: 0b100 bypass, 0b000 abort.  A stream
 * beyond the table (or whose level-2 table is missing) reads as invalid.
 */
static u64 rmr_ste0(struct rmr_ctx *ctx, u32 sid)
{
	struct smmuv3_strtab *st = &ctx->f->smmu.strtab;

	if (sid >= (1ULL << st->sid_bits))
		return 0;
	if (st->two_level && !st->l2[sid >> SMMUV3_STRTAB_SPLIT])
		return 0;
	return le64_to_cpu(smmuv3_strtab_ste(&ctx->f->smmu, sid)[0]);
}

static int rmr_fake_write_ack(struct smmuv3_device *smmu, u32 reg, u32 ack_reg,
			      u32 val)
{
	struct rmr_ctx *ctx = kunit_get_current_test()->priv;
	unsigned int i;

	if (ctx->num_writes < RMR_MAX_WRITES) {
		ctx->writes[ctx->num_writes].reg = reg;
		ctx->writes[ctx->num_writes].val = val;
	}
	ctx->num_writes++;
	writel_relaxed(val, smmu->base + reg);
	if (reg != R_CR0 || !(val & CR0_SMMUEN))
		return 0;
	ctx->strtab_at_smmuen = readq_relaxed(smmu->base + R_STRTAB_BASE);
	ctx->bypass_at_smmuen = true;
	ctx->others_abort_at_smmuen = true;
	for (i = 0; i < ctx->num_check; i++) {
		u64 w0 = rmr_ste0(ctx, ctx->check[i]);

		if (i < ctx->num_bypass && (w0 & 0xf) != 0x9)
			ctx->bypass_at_smmuen = false;
		if (i >= ctx->num_bypass && (w0 & 0xf) != 0x1)
			ctx->others_abort_at_smmuen = false;
	}
	return 0;
}

static int rmr_fake_gbpa(struct smmuv3_device *smmu, u32 set, u32 clr)
{
	return 0;
}

static struct rmr_ctx *rmr_env(struct kunit *test, u32 flags, u8 sid_bits)
{
	struct rmr_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	struct fake_smmu *f;

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	f = platform_fake(test, flags);
	ctx->f = f;
	f->smmu.feat.sid_bits = sid_bits;
	/* The event queue's registers (page 1); its memory is not used. */
	f->smmu.evtq.prod_reg = f->smmu.page1 + 0xa8;
	f->smmu.evtq.cons_reg = f->smmu.page1 + 0xac;
	test->priv = ctx;
	kunit_activate_static_stub(test, smmuv3_rmr_get, rmr_fake_get);
	kunit_activate_static_stub(test, smmuv3_rmr_put, rmr_fake_put);
	kunit_activate_static_stub(test, smmuv3_write_ack, rmr_fake_write_ack);
	kunit_activate_static_stub(test, smmuv3_update_gbpa, rmr_fake_gbpa);
	return ctx;
}

static void rmr_set(struct rmr_ctx *ctx, u32 a, u32 b, u32 c)
{
	ctx->sids[0] = a;
	ctx->sids[1] = b;
	ctx->sids[2] = c;
	ctx->rmr[0].sids = &ctx->sids[0];
	ctx->rmr[0].num_sids = 2;
	ctx->rmr[1].sids = &ctx->sids[2];
	ctx->rmr[1].num_sids = 1;
}

static void rmr_expect_enabled(struct kunit *test, struct rmr_ctx *ctx)
{
	unsigned int i, smmuen = 0;

	for (i = 0; i < min(ctx->num_writes, RMR_MAX_WRITES); i++) {
		kunit_info(test, "write %u: reg %#x = %#x\n", i,
			   ctx->writes[i].reg, ctx->writes[i].val);
		if (ctx->writes[i].reg == R_CR0 &&
		    (ctx->writes[i].val & CR0_SMMUEN))
			smmuen++;
	}
	KUNIT_EXPECT_EQ(test, smmuen, 1);
	KUNIT_EXPECT_TRUE_MSG(test, ctx->bypass_at_smmuen,
			      "an RMR stream was not bypassed when SMMUEN was set");
	KUNIT_EXPECT_TRUE_MSG(test, ctx->others_abort_at_smmuen,
			      "a stream outside the RMRs did not abort");
	KUNIT_EXPECT_NE(test, ctx->strtab_at_smmuen, 0);
	KUNIT_EXPECT_EQ(test, ctx->put, 1);
}

/* A linear table: two RMR nodes, three streams; their neighbours abort. */
static void rmr_bypass_before_smmuen(struct kunit *test)
{
	struct rmr_ctx *ctx = rmr_env(test, 0, 8);
	static const u32 check[] = { 0x11, 0x12, 0x40, 0x10, 0x13 };

	rmr_set(ctx, 0x11, 0x12, 0x40);
	memcpy(ctx->check, check, sizeof(check));
	ctx->num_check = ARRAY_SIZE(check);
	ctx->num_bypass = 3;
	KUNIT_ASSERT_EQ(test, smmuv3_tables_enable(&ctx->f->smmu), 0);
	rmr_expect_enabled(test, ctx);
}

/* A two-level table: the RMR streams' level-2 tables are made for them. */
static void rmr_bypass_two_level(struct kunit *test)
{
	struct rmr_ctx *ctx = rmr_env(test, SMMUV3_FEAT_2LVL_STRTAB, 16);
	static const u32 check[] = { 0x1234, 0x1235, 0xff00, 0x1236 };

	rmr_set(ctx, 0x1234, 0x1235, 0xff00);
	memcpy(ctx->check, check, sizeof(check));
	ctx->num_check = ARRAY_SIZE(check);
	ctx->num_bypass = 3;
	KUNIT_ASSERT_EQ(test, smmuv3_tables_enable(&ctx->f->smmu), 0);
	rmr_expect_enabled(test, ctx);
}

/* A stream beyond the table is skipped; probe goes on, the rest bypass. */
static void rmr_sid_beyond_table(struct kunit *test)
{
	struct rmr_ctx *ctx = rmr_env(test, 0, 8);
	static const u32 check[] = { 0x05, 0x06, 0x07 };

	rmr_set(ctx, 0x05, 0x100, 0x06);
	memcpy(ctx->check, check, sizeof(check));
	ctx->num_check = ARRAY_SIZE(check);
	ctx->num_bypass = 2;
	KUNIT_ASSERT_EQ(test, smmuv3_tables_enable(&ctx->f->smmu), 0);
	rmr_expect_enabled(test, ctx);
}

static struct kunit_case smmuv3_rmr_cases[] = {
	KUNIT_CASE(rmr_bypass_before_smmuen),
	KUNIT_CASE(rmr_bypass_two_level),
	KUNIT_CASE(rmr_sid_beyond_table),
	{}
};

static struct kunit_suite smmuv3_rmr_suite = {
	.name = "smmuv3-rmr",
	.test_cases = smmuv3_rmr_cases,
};

kunit_test_suites(&smmuv3_msi_suite, &smmuv3_errata_suite, &smmuv3_rmr_suite);
