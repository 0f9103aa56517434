// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suite smmuv3-rmr (rmr.c): IORT RMR streams bypass before
 * SMMU_CR0.SMMUEN is set.  The probe's table and enable sequence runs on a
 * fake SMMU whose CR0, IRQ_CTRL and GBPA writes are recorded (static stubs
 * of smmuv3_write_ack() and smmuv3_update_gbpa()).  Real servers need
 * this; QEMU's SMMU is not described with RMRs.
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
#include <linux/sizes.h>

#include <smmuv3/smmuv3.h>

#include "fake_smmu.h"

/* Register offsets of page 0 (IHI 0070, 6.2). */
#define R_CR0			0x20
#define R_STRTAB_BASE		0x80
/* CR0.SMMUEN is bit 0. */
#define CR0_SMMUEN		0x1

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
	f = fake_smmu_create_mmio(test, flags);
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

kunit_test_suites(&smmuv3_rmr_suite);
