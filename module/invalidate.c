// SPDX-License-Identifier: GPL-2.0-only
/*
 * Invalidation: walking a domain's invalidation array with no lock and
 * issuing, into each instance's command queue, the commands its entries
 * need.
 *
 * Entries are sorted by instance, then type, so one pass builds one batch
 * per instance.  A batch is submitted (with a CMD_SYNC, waited for) when the
 * instance changes, before the stage-1 clean-up of a nested VMID (stage 2
 * must be clean first), and before the first ATC invalidation (the TLBs
 * must be clean before a device refills its ATC).
 */
#include <linux/bitops.h>
#include <linux/rcupdate.h>
#include <kunit/visibility.h>

#include <smmuv3/invs.h>
#include <smmuv3/smmuv3.h>

/* Without range invalidation, more pages than this flush the whole tag. */
#define SMMUV3_INV_MAX_PAGE_CMDS	256

/**
 * struct smmuv3_inv_req - what to invalidate
 * @iova: start, aligned to the domain's granule
 * @size: length; 0 means everything of the domain
 * @granule: the size of the leaf entries that changed (one command each
 *	without range invalidation)
 * @leaf: only leaf entries changed (unmap), not table entries
 */
struct smmuv3_inv_req {
	unsigned long iova;
	size_t size;
	size_t granule;
	bool leaf;
};

/* TG encoding of a granule for range invalidation: 4K 1, 16K 2, 64K 3. */
static u8 smmuv3_inv_tg(unsigned int shift)
{
	switch (shift) {
	case 12: return 1;
	case 14: return 2;
	case 16: return 3;
	default: return 0;
	}
}

static void smmuv3_inv_add_range(struct smmuv3_cmd_batch *batch,
				 struct smmuv3_cmd *cmd,
				 const struct smmuv3_inv_req *req,
				 unsigned int tg_shift)
{
	unsigned long iova = req->iova;
	unsigned long end = req->iova + req->size;

	cmd->tlbi.leaf = req->leaf;
	if (batch->smmu->feat.flags & SMMUV3_FEAT_RANGE_INV) {
		unsigned long pages = req->size >> tg_shift;

		cmd->tlbi.tg = smmuv3_inv_tg(tg_shift);
		/* Each command covers (NUM + 1) << SCALE pages. */
		while (pages) {
			unsigned int scale = __ffs(pages);
			unsigned long num = (pages >> scale) & 0x1f;

			cmd->tlbi.scale = scale;
			cmd->tlbi.num = num - 1;
			cmd->tlbi.addr = iova;
			smmuv3_batch_add(batch, cmd);
			iova += num << (scale + tg_shift);
			pages -= num << scale;
		}
		return;
	}
	for (; iova < end; iova += req->granule) {
		cmd->tlbi.addr = iova;
		smmuv3_batch_add(batch, cmd);
	}
}

static void smmuv3_inv_add_tlbi(struct smmuv3_cmd_batch *batch,
				const struct smmuv3_inv *inv,
				const struct smmuv3_inv_req *req,
				unsigned int tg_shift)
{
	bool s1 = inv->type == SMMUV3_INV_S1_ASID;
	bool all = !req->size;
	struct smmuv3_cmd cmd = {};

	if (!all && !(batch->smmu->feat.flags & SMMUV3_FEAT_RANGE_INV) &&
	    req->size / req->granule > SMMUV3_INV_MAX_PAGE_CMDS)
		all = true;

	if (s1) {
		cmd.tlbi.asid = inv->id;
		cmd.op = all ? SMMUV3_OP_TLBI_NH_ASID : SMMUV3_OP_TLBI_NH_VA;
	} else {
		cmd.tlbi.vmid = inv->id;
		cmd.op = all ? SMMUV3_OP_TLBI_S12_VMALL : SMMUV3_OP_TLBI_S2_IPA;
	}
	if (all)
		smmuv3_batch_add(batch, &cmd);
	else
		smmuv3_inv_add_range(batch, &cmd, req, tg_shift);

	/*
	 * Nested stage-1 entries were formed through the old stage 2; after
	 * the stage-2 invalidation completes they go too.  VMALL did both.
	 */
	if (inv->type == SMMUV3_INV_S2_VMID_S1_CLEAR && !all) {
		smmuv3_batch_submit(batch);
		cmd = (struct smmuv3_cmd){ .op = SMMUV3_OP_TLBI_NH_ALL };
		cmd.tlbi.vmid = inv->id;
		smmuv3_batch_add(batch, &cmd);
	}
}

static void smmuv3_inv_add_atc(struct smmuv3_cmd_batch *batch,
			       const struct smmuv3_inv *inv)
{
	/* The whole ATC of the (sub)stream: ATS is not on the hot path yet. */
	struct smmuv3_cmd cmd = {
		.op = SMMUV3_OP_ATC_INV,
		.atc = {
			.sid = inv->id,
			.ssid = inv->ssid,
			.ssv = inv->type == SMMUV3_INV_ATS,
			.size = 52 - 12,
		},
	};

	smmuv3_batch_add(batch, &cmd);
}

static void smmuv3_invs_invalidate(struct smmuv3_invs *invs,
				   const struct smmuv3_inv_req *req,
				   unsigned int tg_shift)
{
	struct smmuv3_cmd_batch batch = { .smmu = NULL };
	bool in_atc = false;
	unsigned int i;

	for (i = 0; i < invs->num; i++) {
		const struct smmuv3_inv *inv = &invs->inv[i];
		bool atc = inv->type == SMMUV3_INV_ATS ||
			   inv->type == SMMUV3_INV_ATS_FULL;

		if (!READ_ONCE(inv->users))
			continue;
		if (inv->smmu != batch.smmu) {
			if (batch.smmu)
				smmuv3_batch_submit(&batch);
			smmuv3_batch_init(&batch, inv->smmu);
			in_atc = false;
		}
		if (atc && !in_atc) {
			/* TLBs first: the device could refill from them. */
			if (batch.num)
				smmuv3_batch_submit(&batch);
			in_atc = true;
		}
		if (atc)
			smmuv3_inv_add_atc(&batch, inv);
		else
			smmuv3_inv_add_tlbi(&batch, inv, req, tg_shift);
	}
	if (batch.smmu)
		smmuv3_batch_submit(&batch);
}

static void smmuv3_domain_invalidate(struct smmuv3_domain *domain,
				     const struct smmuv3_inv_req *req)
{
	unsigned int tg_shift = __ffs(domain->pgtbl_cfg.pgsize_bitmap);
	struct smmuv3_invs *invs;

	/*
	 * Page table updates are visible before the array is read; pairs
	 * with the barrier between publishing an array and installing the
	 * STE or CD that uses it (attach).  Either this walk sees the new
	 * entry, or the SMMU had not started using the new tag when the
	 * table changed.
	 */
	smp_mb();

	rcu_read_lock();
	invs = rcu_dereference(domain->invs);
	if (invs) {
		if (invs->has_ats)
			read_lock(&invs->ats_lock);
		smmuv3_invs_invalidate(invs, req, tg_shift);
		if (invs->has_ats)
			read_unlock(&invs->ats_lock);
	}
	rcu_read_unlock();
}

/**
 * smmuv3_domain_inv_range() - invalidate a range of a domain everywhere
 * @domain: the domain
 * @iova: start of the range
 * @size: its length
 * @granule: the leaf size that changed
 * @leaf: only leaf entries changed
 *
 * Lock-free; may be called in any context that may spin.
 */
void smmuv3_domain_inv_range(struct smmuv3_domain *domain, unsigned long iova,
			     size_t size, size_t granule, bool leaf)
{
	struct smmuv3_inv_req req = {
		.iova = iova,
		.size = size,
		.granule = granule,
		.leaf = leaf,
	};

	if (size)
		smmuv3_domain_invalidate(domain, &req);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_domain_inv_range);

/**
 * smmuv3_domain_inv_all() - invalidate everything of a domain everywhere
 * @domain: the domain
 */
void smmuv3_domain_inv_all(struct smmuv3_domain *domain)
{
	struct smmuv3_inv_req req = {};

	smmuv3_domain_invalidate(domain, &req);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_domain_inv_all);
