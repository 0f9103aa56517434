// SPDX-License-Identifier: GPL-2.0-only
/*
 * The stream table: one STE per stream ID, linear or in two levels.
 *
 * A two-level table has a level-1 array of descriptors, each pointing at a
 * level-2 table of SMMUV3_L2_STES STEs, allocated when the first device with
 * a stream ID in its range is probed.  Unused STEs abort traffic.
 */
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/moduleparam.h>
#include <kunit/static_stub.h>
#include <kunit/visibility.h>

#include <smmuv3/smmuv3.h>

static bool strtab_linear;
module_param(strtab_linear, bool, 0444);
MODULE_PARM_DESC(strtab_linear,
		 "Use a linear stream table even where two levels are supported (default: false)");

/* Linear tables of up to 2^20 STEs (64MiB) are refused: too much memory. */
#define SMMUV3_LINEAR_MAX_SID_BITS	20
/*
 * Level-1 tables of up to 2^17 descriptors (1MiB): 2^25 stream IDs, as the
 * kernel's driver (STRTAB_MAX_L1_ENTRIES).  IHI 0070 allows up to SIDSIZE
 * bits; this bounds the memory.
 */
#define SMMUV3_L1_MAX_BITS		17

/* Memory for the stream table and its level-2 tables (replaced by KUnit). */
VISIBLE_IF_KUNIT void *smmuv3_strtab_alloc(struct smmuv3_device *smmu,
					   size_t bytes, dma_addr_t *dma)
{
	KUNIT_STATIC_STUB_REDIRECT(smmuv3_strtab_alloc, smmu, bytes, dma);
	return dmam_alloc_coherent(smmu->dev, bytes, dma, GFP_KERNEL);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_strtab_alloc);

/*
 * SMMU_STRTAB_BASE.ADDR is aligned by the SMMU to the larger of 64 bytes and
 * the size of the (first-level) table (IHI 0070 6.3.23), and a level-1
 * descriptor's L2Ptr to the size of its level-2 table (5.1): a table that is
 * not would be read from below its start.  The DMA API aligns coherent memory
 * only to the page, or to its order where it comes from the page allocator.
 */
static bool smmuv3_strtab_aligned(struct smmuv3_device *smmu, dma_addr_t dma,
				  size_t bytes)
{
	if (IS_ALIGNED(dma, max_t(size_t, bytes, 64)))
		return true;
	dev_err(smmu->dev, "stream table at %pad is not aligned to its size (%zu bytes)\n",
		&dma, bytes);
	return false;
}

/*
 * Unused stream IDs abort: a device that the firmware did not describe, or
 * that has not been probed, cannot reach memory.
 */
static void smmuv3_strtab_init_abort(__le64 *stes, unsigned int num)
{
	unsigned int i;

	for (i = 0; i < num; i++)
		smmuv3_ste_make_abort(stes + i * SMMUV3_STE_QWORDS);
}

static int smmuv3_strtab_init_linear(struct smmuv3_device *smmu)
{
	struct smmuv3_strtab *st = &smmu->strtab;
	size_t bytes;

	st->sid_bits = smmu->feat.sid_bits;
	if (st->sid_bits > SMMUV3_LINEAR_MAX_SID_BITS) {
		dev_err(smmu->dev,
			"%u-bit stream IDs need a two-level stream table\n",
			st->sid_bits);
		return -ENODEV;
	}
	st->num_ste = 1U << st->sid_bits;
	bytes = (size_t)st->num_ste * SMMUV3_STE_SIZE;
	st->ste = smmuv3_strtab_alloc(smmu, bytes, &st->ste_dma);
	if (!st->ste || !smmuv3_strtab_aligned(smmu, st->ste_dma, bytes))
		return -ENOMEM;
	smmuv3_strtab_init_abort(st->ste, st->num_ste);

	st->base_reg = SMMUV3_STRTAB_BASE_RA |
		       (st->ste_dma & SMMUV3_STRTAB_BASE_ADDR);
	st->cfg_reg = FIELD_PREP(SMMUV3_STRTAB_CFG_FMT, SMMUV3_STRTAB_FMT_LINEAR) |
		      FIELD_PREP(SMMUV3_STRTAB_CFG_LOG2SIZE, st->sid_bits);
	return 0;
}

static int smmuv3_strtab_init_2lvl(struct smmuv3_device *smmu)
{
	struct smmuv3_strtab *st = &smmu->strtab;
	unsigned int l1_bits;

	st->two_level = true;
	l1_bits = min_t(unsigned int, smmu->feat.sid_bits - SMMUV3_STRTAB_SPLIT,
			SMMUV3_L1_MAX_BITS);
	st->sid_bits = l1_bits + SMMUV3_STRTAB_SPLIT;
	if (st->sid_bits < smmu->feat.sid_bits)
		dev_info(smmu->dev, "stream table covers %u of %u stream ID bits\n",
			 st->sid_bits, smmu->feat.sid_bits);

	st->num_l1 = 1U << l1_bits;
	st->l1 = smmuv3_strtab_alloc(smmu, st->num_l1 * sizeof(*st->l1),
				     &st->l1_dma);
	if (!st->l1 ||
	    !smmuv3_strtab_aligned(smmu, st->l1_dma,
				   st->num_l1 * sizeof(*st->l1)))
		return -ENOMEM;
	st->l2 = devm_kcalloc(smmu->dev, st->num_l1, sizeof(*st->l2),
			      GFP_KERNEL);
	if (!st->l2)
		return -ENOMEM;

	st->base_reg = SMMUV3_STRTAB_BASE_RA |
		       (st->l1_dma & SMMUV3_STRTAB_BASE_ADDR);
	st->cfg_reg = FIELD_PREP(SMMUV3_STRTAB_CFG_FMT, SMMUV3_STRTAB_FMT_2LVL) |
		      FIELD_PREP(SMMUV3_STRTAB_CFG_LOG2SIZE, st->sid_bits) |
		      FIELD_PREP(SMMUV3_STRTAB_CFG_SPLIT, SMMUV3_STRTAB_SPLIT);
	return 0;
}

/**
 * smmuv3_strtab_init() - allocate the stream table of an instance
 * @smmu: the instance, with features decoded
 *
 * Two levels when the SMMU supports them and stream IDs do not fit in one
 * level-2 table, unless the strtab_linear parameter asks otherwise.
 *
 * Return: 0, -ENOMEM (also for memory not aligned as the SMMU needs), or
 * -ENODEV when no usable table fits.
 */
int smmuv3_strtab_init(struct smmuv3_device *smmu)
{
	if ((smmu->feat.flags & SMMUV3_FEAT_2LVL_STRTAB) &&
	    smmu->feat.sid_bits > SMMUV3_STRTAB_SPLIT &&
	    !(strtab_linear && smmu->feat.sid_bits <= SMMUV3_LINEAR_MAX_SID_BITS))
		return smmuv3_strtab_init_2lvl(smmu);
	return smmuv3_strtab_init_linear(smmu);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_strtab_init);

/* See smmuv3_strtab_prepare_sid(); @live: the SMMU may use the table. */
static int smmuv3_strtab_prepare(struct smmuv3_device *smmu, u32 sid,
				 bool live)
{
	struct smmuv3_strtab *st = &smmu->strtab;
	u32 idx = sid >> SMMUV3_STRTAB_SPLIT;
	dma_addr_t dma;
	__le64 *l2;

	lockdep_assert_held(&smmu->streams_mutex);

	if (st->sid_bits < 32 && sid >= (1ULL << st->sid_bits))
		return -ERANGE;
	if (!st->two_level || st->l2[idx])
		return 0;

	l2 = smmuv3_strtab_alloc(smmu, SMMUV3_L2_STES * SMMUV3_STE_SIZE, &dma);
	if (!l2)
		return -ENOMEM;
	/*
	 * L1STD.L2Ptr is aligned to the level-2 table's size, as ADDR is.  A
	 * table that is not stays unused until devres frees it at unbind.
	 */
	if (!smmuv3_strtab_aligned(smmu, dma, SMMUV3_L2_STES * SMMUV3_STE_SIZE))
		return -ENOMEM;
	smmuv3_strtab_init_abort(l2, SMMUV3_L2_STES);
	st->l2[idx] = l2;
	/* dma_wmb(): the STEs are visible before the descriptor */
	dma_wmb();
	WRITE_ONCE(st->l1[idx],
		   cpu_to_le64((dma & SMMUV3_L1STD_L2PTR) |
			       FIELD_PREP(SMMUV3_L1STD_SPAN,
					  SMMUV3_STRTAB_SPLIT + 1)));
	if (live && (readl_relaxed(smmu->base + SMMUV3_CR0) &
		     SMMUV3_CR0_SMMUEN)) {
		struct smmuv3_cmd cmd = {
			.op = SMMUV3_OP_CFGI_STE,
			.cfgi = { .sid = sid, .leaf = false },
		};

		smmuv3_cmdq_issue_one(smmu, &cmd, true);
	}
	return 0;
}

/**
 * smmuv3_strtab_prepare_sid() - make sure the STE of a stream ID exists
 * @smmu: the instance
 * @sid: the stream ID, checked against the table size
 *
 * Called with smmuv3_device.streams_mutex held.  A new level-2 table starts
 * with every STE aborting; the level-1 descriptor is published after it is
 * filled.  The SMMU may have cached the descriptor while it was invalid
 * (IHI 0070 3.21.3), and the CFGI_STE issued when an STE is installed has
 * Leaf = 1, which need not drop it: on an enabled SMMU a CFGI_STE with
 * Leaf = 0 of the stream (any stream of the span would do) and a CMD_SYNC
 * follow.  A failure there is logged by the command queue; the table
 * stays.
 *
 * Return: 0, -ERANGE for a stream ID beyond the table, or -ENOMEM.
 */
int smmuv3_strtab_prepare_sid(struct smmuv3_device *smmu, u32 sid)
{
	return smmuv3_strtab_prepare(smmu, sid, true);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_strtab_prepare_sid);

/**
 * smmuv3_strtab_prepare_sid_unused() - smmuv3_strtab_prepare_sid() before
 *	the instance's reset
 * @smmu: the instance, whose SMMU does not use this table yet
 * @sid: the stream ID
 *
 * As smmuv3_strtab_prepare_sid(), but without the invalidation: the
 * command queue is not running yet (firmware may even have left SMMUEN
 * set, with its own queue), and the reset's CFGI_ALL comes before SMMUEN.
 *
 * Return: as smmuv3_strtab_prepare_sid().
 */
int smmuv3_strtab_prepare_sid_unused(struct smmuv3_device *smmu, u32 sid)
{
	return smmuv3_strtab_prepare(smmu, sid, false);
}

/**
 * smmuv3_strtab_ste() - the STE of a prepared stream ID
 * @smmu: the instance
 * @sid: a stream ID for which smmuv3_strtab_prepare_sid() succeeded
 *
 * Return: the STE's first word.
 */
__le64 *smmuv3_strtab_ste(struct smmuv3_device *smmu, u32 sid)
{
	struct smmuv3_strtab *st = &smmu->strtab;

	if (!st->two_level)
		return st->ste + (size_t)sid * SMMUV3_STE_QWORDS;
	return st->l2[sid >> SMMUV3_STRTAB_SPLIT] +
	       (sid & (SMMUV3_L2_STES - 1)) * SMMUV3_STE_QWORDS;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_strtab_ste);

/* One stream's STE update: CFGI_STE + CMD_SYNC after each step. */
struct smmuv3_ste_writer {
	struct smmuv3_entry_writer writer;
	struct smmuv3_device *smmu;
	u32 sid;
};

static void smmuv3_ste_writer_sync(struct smmuv3_entry_writer *writer)
{
	struct smmuv3_ste_writer *w =
		container_of(writer, struct smmuv3_ste_writer, writer);
	struct smmuv3_cmd cmd = {
		.op = SMMUV3_OP_CFGI_STE,
		.cfgi = { .sid = w->sid, .leaf = true },
	};

	struct smmuv3_cmd all = { .op = SMMUV3_OP_CFGI_ALL };
	int ret;

	/*
	 * A CFGI_STE that did not run (an illegal command, replaced; a
	 * timeout) could leave the old STE cached: forget every cached
	 * configuration instead.  The command queue logged the first failure.
	 */
	ret = smmuv3_cmdq_issue_one(w->smmu, &cmd, true);
	if (ret)
		ret = smmuv3_cmdq_issue_one(w->smmu, &all, true);
	if (ret)
		dev_err_ratelimited(w->smmu->dev,
				    "STE of stream %#x may be stale: configuration invalidation failed (%d)\n",
				    w->sid, ret);
}

static const struct smmuv3_entry_writer_ops smmuv3_ste_writer_ops = {
	.get_used = smmuv3_ste_get_used,
	.sync = smmuv3_ste_writer_sync,
	.v_bit = SMMUV3_STE0_V,
};

/**
 * smmuv3_install_ste() - give every stream of a master the same STE
 * @master: the master
 * @target: the STE
 *
 * The iommu core serialises attaches of a device, so each STE has a single
 * writer.
 */
void smmuv3_install_ste(struct smmuv3_master *master, const __le64 *target)
{
	__le64 ste[SMMUV3_STE_QWORDS];
	unsigned int i;

	memcpy(ste, target, sizeof(ste));
	smmuv3_ste_fit(master->smmu, ste);
	for (i = 0; i < master->num_streams; i++) {
		struct smmuv3_ste_writer w = {
			.writer = {
				.ops = &smmuv3_ste_writer_ops,
				.num_qwords = SMMUV3_STE_QWORDS,
			},
			.smmu = master->smmu,
			.sid = master->streams[i].sid,
		};

		smmuv3_entry_update(&w.writer,
				    smmuv3_strtab_ste(master->smmu, w.sid), ste);
	}
}
