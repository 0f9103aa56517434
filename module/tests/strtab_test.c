// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the stream table (strtab.c) and the streams of IORT RMR
 * nodes (rmr.c): the table's size and alignment, the invalidation of new
 * level-1 descriptors, and RMR streams whose level-2 table cannot be made.
 *
 * Register offsets, field positions and command encodings are written out
 * from IHI 0070, independently of regs.h.
 */
#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/acpi_iort.h>
#include <linux/dma-mapping.h>
#include <linux/iommu.h>

#include <smmuv3/smmuv3.h>

#include "fake_smmu.h"

/* SMMU_CR0 is at offset 0x20, SMMUEN its bit 0 (IHI 0070 6.3.9). */
#define CR0_WORD	(0x20 / 4)
#define CR0_SMMUEN	0x1u

/* SMMU_STRTAB_BASE.ADDR is bits [51:6] (IHI 0070 6.3.23). */
#define STRTAB_BASE_ADDR	0x000fffffffffffc0ull

/*
 * CMD_CFGI_STE (IHI 0070 4.3.1): opcode 0x03 in [7:0], StreamID in [63:32]
 * of word 0, Leaf in bit 0 of word 1.  Leaf = 0 also invalidates the
 * level-1 descriptor that locates the STE (3.21.3).
 */
#define CFGI_STE_NONLEAF(sid)	{ 0x03 | (u64)(sid) << 32, 0 }

static struct fake_smmu *strtab_fake(struct kunit *test, u32 flags,
				     u8 sid_bits)
{
	struct fake_smmu *f = fake_smmu_create(test, "smmu0", flags, 16, 4);

	fake_smmu_add_strtab(test, f, sid_bits);
	return f;
}

static int prepare(struct fake_smmu *f, u32 sid)
{
	int ret;

	mutex_lock(&f->smmu.streams_mutex);
	ret = smmuv3_strtab_prepare_sid(&f->smmu, sid);
	mutex_unlock(&f->smmu.streams_mutex);
	return ret;
}

/*
 * The SMMU may cache a level-1 descriptor while it is invalid (IHI 0070
 * 3.21.3); a CFGI_STE with Leaf = 1 need not drop it.  Publishing one on
 * an enabled SMMU is followed by a non-leaf CFGI_STE of a stream in its
 * span and a CMD_SYNC; another stream of the same span needs nothing.
 */
static void strtab_l1_invalidated(struct kunit *test)
{
	struct fake_smmu *f = strtab_fake(test, SMMUV3_FEAT_2LVL_STRTAB, 16);

	f->regs[CR0_WORD] = CR0_SMMUEN;
	KUNIT_ASSERT_EQ(test, prepare(f, 0x1234), 0);
	FAKE_EXPECT_CMDS(test, f, CFGI_STE_NONLEAF(0x1234), FAKE_CMD_SYNC);
	KUNIT_ASSERT_EQ(test, prepare(f, 0x12ff), 0);
	FAKE_EXPECT_NO_CMDS(test, f);
}

/* Before SMMUEN (the RMR streams at probe) the SMMU caches nothing yet. */
static void strtab_l1_disabled(struct kunit *test)
{
	struct fake_smmu *f = strtab_fake(test, SMMUV3_FEAT_2LVL_STRTAB, 16);

	KUNIT_ASSERT_EQ(test, prepare(f, 0x1234), 0);
	FAKE_EXPECT_NO_CMDS(test, f);
}

/*
 * The level-1 table has up to 2^17 descriptors, as the kernel's driver
 * (STRTAB_MAX_L1_ENTRIES): with 256 STEs per level-2 table, 25 stream ID
 * bits of an SMMU with 32.  IHI 0070 sets no smaller bound (SIDSIZE may be
 * 32, STRTAB_BASE_CFG.LOG2SIZE up to SIDSIZE).
 */
static void strtab_l1_size(struct kunit *test)
{
	struct fake_smmu *f = strtab_fake(test, SMMUV3_FEAT_2LVL_STRTAB, 32);

	KUNIT_EXPECT_EQ(test, f->smmu.strtab.sid_bits, 25);
	KUNIT_EXPECT_EQ(test, f->smmu.strtab.num_l1, 1U << 17);
	/* STRTAB_BASE_CFG.LOG2SIZE [5:0] */
	KUNIT_EXPECT_EQ(test, f->smmu.strtab.cfg_reg & 0x3f, 25);
	KUNIT_EXPECT_EQ(test, prepare(f, 0x1ffffff), 0);
	KUNIT_EXPECT_EQ(test, prepare(f, 0x2000000), -ERANGE);
}

/* Memory 64 bytes past a boundary of its own size (twice as much taken). */
static void *misaligned_alloc(struct smmuv3_device *smmu, size_t bytes,
			      dma_addr_t *dma)
{
	u8 *p = dmam_alloc_coherent(smmu->dev, 2 * bytes, dma, GFP_KERNEL);

	if (!p)
		return NULL;
	/* Page-aligned at least; 64 more bytes are misaligned for any size. */
	*dma += 64;
	return p + 64;
}

/*
 * SMMU_STRTAB_BASE.ADDR is aligned by the SMMU to the larger of 64 bytes
 * and the size of the (first-level) table (IHI 0070 6.3.23): a table that
 * is not would be read from below its start.  The table is refused.
 */
static void strtab_misaligned(struct kunit *test)
{
	struct fake_smmu *f = strtab_fake(test, 0, 4);

	kunit_activate_static_stub(test, smmuv3_strtab_alloc,
				   misaligned_alloc);
	/* Linear: 16 STEs of 64 bytes, 1KiB */
	memset(&f->smmu.strtab, 0, sizeof(f->smmu.strtab));
	KUNIT_EXPECT_EQ(test, smmuv3_strtab_init(&f->smmu), -ENOMEM);

	/* Two levels: 2^8 descriptors of 8 bytes, 2KiB */
	memset(&f->smmu.strtab, 0, sizeof(f->smmu.strtab));
	f->smmu.feat.flags |= SMMUV3_FEAT_2LVL_STRTAB;
	f->smmu.feat.sid_bits = 16;
	KUNIT_EXPECT_EQ(test, smmuv3_strtab_init(&f->smmu), -ENOMEM);
}

/*
 * A level-1 descriptor's L2Ptr is aligned likewise, to the size of its
 * level-2 table (IHI 0070 5.1: 256 STEs of 64 bytes here, 16KiB): such a
 * table is refused and no descriptor points at it.
 */
static void strtab_l2_misaligned(struct kunit *test)
{
	struct fake_smmu *f = strtab_fake(test, SMMUV3_FEAT_2LVL_STRTAB, 16);

	kunit_activate_static_stub(test, smmuv3_strtab_alloc,
				   misaligned_alloc);
	KUNIT_EXPECT_EQ(test, prepare(f, 0x1234), -ENOMEM);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(f->smmu.strtab.l1[0x12]), 0);
	KUNIT_EXPECT_NULL(test, f->smmu.strtab.l2[0x12]);
}

/* Properly aligned tables are used as they are: ADDR is the table. */
static void strtab_aligned(struct kunit *test)
{
	struct fake_smmu *f = strtab_fake(test, 0, 10);
	struct smmuv3_strtab *st = &f->smmu.strtab;

	KUNIT_EXPECT_EQ(test, st->ste_dma & (1024 * 64 - 1), 0);
	KUNIT_EXPECT_EQ(test, st->base_reg & STRTAB_BASE_ADDR, st->ste_dma);

	f = strtab_fake(test, SMMUV3_FEAT_2LVL_STRTAB, 20);
	st = &f->smmu.strtab;
	KUNIT_EXPECT_EQ(test, st->l1_dma & (4096 * 8 - 1), 0);
	KUNIT_EXPECT_EQ(test, st->base_reg & STRTAB_BASE_ADDR, st->l1_dma);
}

/* --- RMR streams ---------------------------------------------------------- */

struct rmr_nomem_ctx {
	struct iommu_iort_rmr_data rmr;
	u32 sids[2];
	unsigned int allocs;
};

static void rmr_nomem_get(struct smmuv3_device *smmu, struct list_head *list)
{
	struct rmr_nomem_ctx *ctx = kunit_get_current_test()->priv;

	list_add_tail(&ctx->rmr.rr.list, list);
}

static void rmr_nomem_put(struct smmuv3_device *smmu, struct list_head *list)
{
	INIT_LIST_HEAD(list);
}

/* The first allocation fails, the others succeed. */
static void *rmr_nomem_alloc(struct smmuv3_device *smmu, size_t bytes,
			     dma_addr_t *dma)
{
	struct rmr_nomem_ctx *ctx = kunit_get_current_test()->priv;

	if (!ctx->allocs++)
		return NULL;
	return dmam_alloc_coherent(smmu->dev, bytes, dma, GFP_KERNEL);
}

/*
 * An RMR stream whose level-2 table cannot be allocated is logged and left
 * aborting; the others bypass and the probe goes on, as in the kernel's
 * driver.  STE word 0: V [0], Config [3:1] = 0b100 (bypass) is 0x9.
 */
static void rmr_nomem_continues(struct kunit *test)
{
	struct fake_smmu *f = strtab_fake(test, SMMUV3_FEAT_2LVL_STRTAB, 16);
	struct rmr_nomem_ctx *ctx;

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->sids[0] = 0x0100;
	ctx->sids[1] = 0x1234;
	ctx->rmr.sids = ctx->sids;
	ctx->rmr.num_sids = 2;
	test->priv = ctx;
	kunit_activate_static_stub(test, smmuv3_rmr_get, rmr_nomem_get);
	kunit_activate_static_stub(test, smmuv3_rmr_put, rmr_nomem_put);
	kunit_activate_static_stub(test, smmuv3_strtab_alloc, rmr_nomem_alloc);

	KUNIT_EXPECT_EQ(test, smmuv3_rmr_install(&f->smmu), 0);
	KUNIT_EXPECT_NULL(test, f->smmu.strtab.l2[0x01]);
	KUNIT_ASSERT_NOT_NULL(test, f->smmu.strtab.l2[0x12]);
	KUNIT_EXPECT_EQ(test,
			le64_to_cpu(smmuv3_strtab_ste(&f->smmu, 0x1234)[0]) &
			0xf, 0x9);
}

/*
 * STE.SHCFG, word 1 [45:44], is RES0 unless SMMU_IDR1.ATTR_TYPES_OVR
 * (bit 27) is 1 (IHI 0070 5.2): a bypass STE has 0b01 ("use incoming")
 * only where the SMMU can override attributes, 0 elsewhere, as the
 * kernel's driver writes it (arm_smmu_make_bypass_ste()).
 */
static void strtab_shcfg_needs_override(struct kunit *test)
{
	static const u32 sid = 3;
	struct smmuv3_master *m;
	struct fake_smmu *f;
	u64 w1;

	f = fake_smmu_create(test, "smmu0", SMMUV3_FEAT_S1, 16, 6);
	fake_smmu_add_strtab(test, f, 4);
	m = fake_master_create(test, f, &sid, 1);

	/* IDR1.ATTR_TYPES_OVR as decoded from the register */
	f->smmu.feat.flags &= ~SMMUV3_FEAT_ATTR_TYPES_OVR;
	KUNIT_ASSERT_EQ(test, fake_attach(m, &smmuv3_identity_domain), 0);
	w1 = le64_to_cpu(smmuv3_strtab_ste(&f->smmu, sid)[1]);
	KUNIT_EXPECT_EQ_MSG(test, (w1 >> 44) & 3, 0,
			    "SHCFG without ATTR_TYPES_OVR: word 1 %#llx", w1);

	f->smmu.feat.flags |= SMMUV3_FEAT_ATTR_TYPES_OVR;
	KUNIT_ASSERT_EQ(test, fake_attach(m, &smmuv3_blocked_domain), 0);
	KUNIT_ASSERT_EQ(test, fake_attach(m, &smmuv3_identity_domain), 0);
	w1 = le64_to_cpu(smmuv3_strtab_ste(&f->smmu, sid)[1]);
	KUNIT_EXPECT_EQ_MSG(test, (w1 >> 44) & 3, 1,
			    "SHCFG with ATTR_TYPES_OVR: word 1 %#llx", w1);
	KUNIT_EXPECT_TRUE(test, f->smmu.feat.flags & SMMUV3_FEAT_ATTR_TYPES_OVR);
}

static struct kunit_case smmuv3_strtab_cases[] = {
	KUNIT_CASE(strtab_shcfg_needs_override),
	KUNIT_CASE(strtab_l1_invalidated),
	KUNIT_CASE(strtab_l1_disabled),
	KUNIT_CASE(strtab_l1_size),
	KUNIT_CASE(strtab_misaligned),
	KUNIT_CASE(strtab_l2_misaligned),
	KUNIT_CASE(strtab_aligned),
	KUNIT_CASE(rmr_nomem_continues),
	{}
};

static struct kunit_suite smmuv3_strtab_suite = {
	.name = "smmuv3-strtab",
	.test_cases = smmuv3_strtab_cases,
};

kunit_test_suites(&smmuv3_strtab_suite);
