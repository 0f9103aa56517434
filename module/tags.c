// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOTLB tags: ASIDs and VMIDs, allocated per instance at attach time.
 *
 * A domain attached to devices behind N instances holds N tags, one per
 * instance, each recorded as the TLB entry for that instance in the
 * domain's invalidation array.  Attach reuses the entry of its instance
 * while it has users, or allocates a new ID; when the last user leaves, the
 * ID is invalidated on its instance and only then freed, so an ID that is in
 * no array is clean in the IOTLB.
 */
#include <linux/moduleparam.h>
#include <kunit/visibility.h>

#include <smmuv3/invs.h>
#include <smmuv3/smmuv3.h>

/* Caps on the IDs in use per instance; ID 0 is never allocated. */
static int smmuv3_param_set_max_ids(const char *val,
				    const struct kernel_param *kp)
{
	unsigned int n;
	int ret;

	ret = kstrtouint(val, 0, &n);
	if (ret)
		return ret;
	if (n > U16_MAX)
		return -EINVAL;
	WRITE_ONCE(*(unsigned int *)kp->arg, n);
	return 0;
}

static const struct kernel_param_ops smmuv3_max_ids_ops = {
	.set = smmuv3_param_set_max_ids,
	.get = param_get_uint,
};

static unsigned int max_asids;
module_param_cb(max_asids, &smmuv3_max_ids_ops, &max_asids, 0644);
MODULE_PARM_DESC(max_asids,
		 "Most ASIDs in use at once per instance, 0 for the hardware's limit (0-65535); for tests: below the number of translated IOMMU groups, their default domains fail to attach");

static unsigned int max_vmids;
module_param_cb(max_vmids, &smmuv3_max_ids_ops, &max_vmids, 0644);
MODULE_PARM_DESC(max_vmids,
		 "Most VMIDs in use at once per instance, 0 for the hardware's limit (0-65535); for tests: below the number of stage-2 attaches, those fail");

/**
 * smmuv3_tags_init() - set up the allocators of an instance
 * @smmu: the instance
 */
void smmuv3_tags_init(struct smmuv3_device *smmu)
{
	ida_init(&smmu->tags.asids);
	ida_init(&smmu->tags.vmids);
	atomic_set(&smmu->tags.asids_used, 0);
	atomic_set(&smmu->tags.vmids_used, 0);
	atomic_set(&smmu->tags.asids_leaked, 0);
	atomic_set(&smmu->tags.vmids_leaked, 0);
	atomic64_set(&smmu->tags.flush_failures, 0);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_tags_init);

/**
 * smmuv3_tags_destroy() - tear down the allocators of an instance
 * @smmu: the instance, with no domain attached anywhere behind it
 */
void smmuv3_tags_destroy(struct smmuv3_device *smmu)
{
	ida_destroy(&smmu->tags.asids);
	ida_destroy(&smmu->tags.vmids);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_tags_destroy);

static bool smmuv3_tag_is_asid(u8 type)
{
	return type == SMMUV3_INV_S1_ASID;
}

/**
 * smmuv3_tag_alloc_id() - allocate an ASID or a VMID
 * @smmu: the instance
 * @type: SMMUV3_INV_S1_ASID for an ASID, a stage-2 type for a VMID
 * @id: the result
 *
 * Return: 0, -ENOSPC when the instance has no ID left or already uses as
 * many as the max_asids/max_vmids parameter allows, or -ENOMEM.
 */
int smmuv3_tag_alloc_id(struct smmuv3_device *smmu, u8 type, u32 *id)
{
	bool asid = smmuv3_tag_is_asid(type);
	unsigned int bits = asid ? smmu->feat.asid_bits : smmu->feat.vmid_bits;
	unsigned int cap = READ_ONCE(*(asid ? &max_asids : &max_vmids));
	atomic_t *used = asid ? &smmu->tags.asids_used : &smmu->tags.vmids_used;
	int ret;

	/* Count first, so concurrent allocations cannot exceed the cap. */
	if (atomic_inc_return(used) > cap && cap) {
		atomic_dec(used);
		return -ENOSPC;
	}
	ret = ida_alloc_range(asid ? &smmu->tags.asids : &smmu->tags.vmids,
			      1, (1U << bits) - 1, GFP_KERNEL);
	if (ret < 0) {
		atomic_dec(used);
		return ret;
	}
	*id = ret;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_tag_alloc_id);

/**
 * smmuv3_tag_flush() - invalidate everything cached under a tag
 * @tag: the tag: instance, type and ID
 *
 * Stage-1 tags flush their ASID; stage-2 tags their VMID, which includes
 * the stage-1 entries cached under it.  A failure is counted in
 * smmuv3_tags.flush_failures; the caller decides what the ID becomes.
 *
 * Return: 0 once the SMMU has completed the invalidation; -EIO if it
 * rejected it, -ETIMEDOUT if it did not complete it in time: the ID may
 * then still be cached.
 */
int smmuv3_tag_flush(const struct smmuv3_inv *tag)
{
	struct smmuv3_cmd cmd = {};
	int ret;

	if (smmuv3_tag_is_asid(tag->type)) {
		cmd.op = SMMUV3_OP_TLBI_NH_ASID;
		cmd.tlbi.asid = tag->id;
	} else {
		cmd.op = SMMUV3_OP_TLBI_S12_VMALL;
		cmd.tlbi.vmid = tag->id;
	}
	ret = smmuv3_cmdq_issue_one(tag->smmu, &cmd, true);
	if (ret)
		atomic64_inc(&tag->smmu->tags.flush_failures);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_tag_flush);

/**
 * smmuv3_tag_free() - flush a tag's ID on its instance, then free the ID
 * @tag: the tag
 *
 * An ID whose flush failed may still be cached, and whoever got it next
 * could hit another domain's translations: it is kept allocated for good
 * (counted in smmuv3_tags.asids_leaked or .vmids_leaked, and in
 * asids_used or vmids_used) and the failure is logged.
 *
 * Return: 0 if the ID was freed, or the error of its flush.
 */
int smmuv3_tag_free(const struct smmuv3_inv *tag)
{
	struct smmuv3_device *smmu = tag->smmu;
	struct smmuv3_tags *tags = &smmu->tags;
	bool asid = smmuv3_tag_is_asid(tag->type);
	int ret;

	ret = smmuv3_tag_flush(tag);
	if (ret) {
		atomic_inc(asid ? &tags->asids_leaked : &tags->vmids_leaked);
		dev_err_ratelimited(smmu->dev,
				    "%s %u not freed: its flush failed (%d), it stays reserved\n",
				    asid ? "ASID" : "VMID", tag->id, ret);
		return ret;
	}
	ida_free(asid ? &tags->asids : &tags->vmids, tag->id);
	atomic_dec(asid ? &tags->asids_used : &tags->vmids_used);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_tag_free);

/**
 * smmuv3_tag_get() - find or allocate a domain's tag on an instance
 * @domain: the domain; its mutex is held until the tag is merged into its
 *	array or put back
 * @smmu: the instance
 * @tag: the result, with one user
 *
 * Return: 1 if a new ID was allocated (the caller frees it with
 * smmuv3_tag_free() if it never publishes it), 0 if the domain's existing
 * tag is reused, or a negative errno (-ENOSPC: no ID left).
 */
int smmuv3_tag_get(struct smmuv3_domain *domain, struct smmuv3_device *smmu,
		   struct smmuv3_inv *tag)
{
	u8 type = domain->stage == SMMUV3_STAGE_1 ? SMMUV3_INV_S1_ASID :
						    SMMUV3_INV_S2_VMID;
	struct smmuv3_invs *invs;
	unsigned int i;
	int ret;

	lockdep_assert_held(&domain->mutex);

	invs = rcu_dereference_protected(domain->invs,
					 lockdep_is_held(&domain->mutex));
	for (i = 0; invs && i < invs->num; i++) {
		const struct smmuv3_inv *inv = &invs->inv[i];

		if (inv->smmu == smmu && inv->type == type && inv->users) {
			*tag = *inv;
			tag->users = 1;
			return 0;
		}
	}

	*tag = (struct smmuv3_inv){ .smmu = smmu, .type = type, .users = 1 };
	ret = smmuv3_tag_alloc_id(smmu, type, &tag->id);
	return ret ?: 1;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_tag_get);

/**
 * smmuv3_tag_unused() - smmuv3_invs_unref() callback: free unused tags
 * @inv: an entry whose last user left
 * @arg: unused
 *
 * Called under the domain's mutex, after every STE and CD that used the
 * entry has been replaced.  Domain tags are flushed and freed; a vIOMMU's
 * VMID (SMMUV3_INV_S2_VMID_S1_CLEAR) is only flushed: an ID in no array is
 * clean in the IOTLB either way.  A failed flush keeps a domain tag's ID
 * reserved (smmuv3_tag_free()); a vIOMMU's VMID stays the vIOMMU's, and
 * the failure is counted and logged.
 */
void smmuv3_tag_unused(const struct smmuv3_inv *inv, void *arg)
{
	if (inv->type == SMMUV3_INV_S1_ASID || inv->type == SMMUV3_INV_S2_VMID)
		smmuv3_tag_free(inv);
	/* A vIOMMU's VMID stays allocated until the vIOMMU goes. */
	else if (inv->type == SMMUV3_INV_S2_VMID_S1_CLEAR &&
		 smmuv3_tag_flush(inv))
		dev_err_ratelimited(inv->smmu->dev,
				    "vIOMMU VMID %u: flush failed, stale entries may remain\n",
				    inv->id);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_tag_unused);
