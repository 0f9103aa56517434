// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suite smmuv3-msi (msi.c): the IRQ_CFG registers programmed from a
 * composed MSI message, MSI set-up and teardown, and the fall-back to
 * wired interrupts (no IDR0.MSI, no MSI domain, allocation failure).  The
 * MSI core is replaced by static stubs of smmuv3_msi_alloc()/_free().
 * Real servers need this; QEMU's SMMU has no MSIs.
 *
 * Expected register offsets and field values are written out from the
 * SMMUv3 architecture (IHI 0070), independently of regs.h.
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
#define R_GERROR_IRQ_CFG0	0x68
#define R_GERROR_IRQ_CFG1	0x70
#define R_GERROR_IRQ_CFG2	0x74
#define R_EVTQ_IRQ_CFG0		0xb0
#define R_EVTQ_IRQ_CFG1		0xb8
#define R_EVTQ_IRQ_CFG2		0xbc
#define R_PRIQ_IRQ_CFG0		0xd0
#define R_PRIQ_IRQ_CFG1		0xd8
#define R_PRIQ_IRQ_CFG2		0xdc
/* IRQ_CFG2.MemAttr 0b0001 is Device-nGnRE. */
#define MEMATTR_DEVICE_NGNRE	0x1

static u64 reg64(struct fake_smmu *f, u32 off)
{
	return readq_relaxed(f->smmu.base + off);
}

static u32 reg32(struct fake_smmu *f, u32 off)
{
	return readl_relaxed(f->smmu.base + off);
}

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
	ctx->f = fake_smmu_create_mmio(test, flags);
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
	struct fake_smmu *f = fake_smmu_create_mmio(test, SMMUV3_FEAT_MSI);
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

kunit_test_suites(&smmuv3_msi_suite);
