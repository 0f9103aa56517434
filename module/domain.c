// SPDX-License-Identifier: GPL-2.0-only
/*
 * Domains and attachment.
 *
 * The identity and blocked domains need no page table and no IOTLB tag:
 * each is a single static object shared by every device of every instance.
 *
 * A paging domain owns an io-pgtable and an invalidation array.  It may be
 * attached to devices behind any instance whose features fit its table.
 * Every attach below, of the RID or of a PASID, follows the one sequence
 * of module/attach.c: prepare (the domain's tag on the device's instance,
 * reused while it has users or a new ASID/VMID, published with the
 * device's entries in a new copy of the domain's array), then the CD and
 * STE, then commit (ATS, and only after the ATC flush the previous
 * attachment's entries dropped, which flushes and frees tags left without
 * users).
 *
 * PASIDs: a stage-1 paging domain may also be attached to a PASID of a
 * device (set_dev_pasid), with the same sequence: the domain's one tag on
 * the instance gains a user, CD n is written for PASID n, and the
 * attachment is kept in smmuv3_master.pasids.  Replacing a PASID's domain
 * is make-before-break for the tags: the new tag is published before the CD
 * switches, the old one is dropped after.  The core removes a PASID by
 * setting the blocked domain on it, which clears its CD and drops its tag.
 *
 * While a PASID is attached the STE must point at the CD table, so the RID
 * is expressed by STE.S1DSS: a stage-1 domain in CD 0 (SSID0), identity
 * (BYPASS) or blocked (TERMINATE).  When the last PASID goes, an identity
 * or blocked RID gets its plain STE back.  A stage-2 or nested RID has no
 * CD table in its STE, so the second of the two is refused: a PASID attach
 * while the RID is on one with -EINVAL (the device's present configuration
 * is incompatible with the domain, as the core's attach_dev contract puts
 * it), an attach of the RID to one while PASIDs are attached with -EBUSY
 * (the device is busy with its PASIDs).  These are also the choices of the
 * kernel's own SMMUv3 driver.
 *
 * ATS (ats.c): an attachment of a device with ATS also adds the device's
 * ATC entries; the STE gets EATS, and the commit switches the PCI
 * capability and flushes the ATC before the previous attachment is
 * dropped.  Stalls (stall.c):
 * CDs and stage-2 STEs of a device with forced stalls say so, and each
 * attach terminates what is still stalled on the device's streams.
 *
 * Coherency: iommufd may ask a domain to enforce cache coherency (for
 * devices reporting IOMMU_CAP_ENFORCE_CACHE_COHERENCY); that holds while
 * every device attached has CANWBS from firmware, and from then on a device
 * without it is refused (-EINVAL).
 *
 * The iommu core serialises attaches per group; domains' mutexes are never
 * nested.
 */
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <kunit/visibility.h>
#include <uapi/linux/iommufd.h>

#include <smmuv3/smmuv3.h>

/* All paging domains, for instance removal and debugfs. */
static LIST_HEAD(smmuv3_domains);
static DEFINE_MUTEX(smmuv3_domains_mutex);
static DEFINE_IDA(smmuv3_domain_ids);

/**
 * smmuv3_domain_unref() - drop an attachment's entries from a domain
 * @domain: the domain
 * @invs: the entries the attachment added
 * @num: their number
 *
 * Cannot fail.  Tags left without users are flushed and freed.
 */
void smmuv3_domain_unref(struct smmuv3_domain *domain,
			 const struct smmuv3_inv *invs, unsigned int num)
{
	struct smmuv3_invs *cur, *clean;

	mutex_lock(&domain->mutex);
	cur = rcu_dereference_protected(domain->invs,
					lockdep_is_held(&domain->mutex));
	if (smmuv3_invs_unref(cur, invs, num, smmuv3_tag_unused, NULL)) {
		/* Trash is only skipped by readers: purging may wait. */
		clean = smmuv3_invs_purge(cur, NULL);
		if (clean) {
			rcu_assign_pointer(domain->invs, clean);
			kfree_rcu(cur, rcu);
		}
	}
	mutex_unlock(&domain->mutex);
}

static int smmuv3_attach_static(struct device *dev, bool identity)
{
	struct smmuv3_master *master = smmuv3_dev_master(dev);
	struct smmuv3_attach_state state = {
		.master = master,
		/* CD 0 is unused now, whether or not the table stays. */
		.clear_cd0 = true,
	};
	__le64 ste[SMMUV3_STE_QWORDS];
	int ret;

	ret = smmuv3_ats_identity_prepare(master, identity);
	if (ret)
		return ret;
	master->rid_identity = identity;
	state.ats = smmuv3_ats_want(master, false);
	ret = smmuv3_attach_prepare(&state);
	if (ret)
		return ret;
	smmuv3_ste_make_rid(ste, master, state.ats);
	smmuv3_attach_commit(&state, ste);
	return 0;
}

static int smmuv3_attach_identity(struct iommu_domain *domain,
				  struct device *dev, struct iommu_domain *old)
{
	return smmuv3_attach_static(dev, true);
}

SMMUV3_DEFINE_ATTACH_DEV(smmuv3_attach_identity)

/*
 * Stage 1 of SMMUv3 cannot bypass one substream, so the identity domain has
 * no set_dev_pasid: the core refuses it on a PASID with -EOPNOTSUPP.
 */
static const struct iommu_domain_ops smmuv3_identity_ops = {
	.attach_dev = SMMUV3_ATTACH_DEV(smmuv3_attach_identity),
};

/* Untranslated DMA: the device sees physical addresses. */
struct iommu_domain smmuv3_identity_domain = {
	.type = IOMMU_DOMAIN_IDENTITY,
	.ops = &smmuv3_identity_ops,
};
EXPORT_SYMBOL_IF_KUNIT(smmuv3_identity_domain);

static int smmuv3_attach_blocked(struct iommu_domain *domain,
				 struct device *dev, struct iommu_domain *old)
{
	return smmuv3_attach_static(dev, false);
}

SMMUV3_DEFINE_ATTACH_DEV(smmuv3_attach_blocked)

static void smmuv3_remove_pasid(struct smmuv3_master *master, u32 pasid);

/*
 * How the core detaches a PASID, and puts it back in its error paths.
 * Cannot fail; a PASID with nothing attached is left alone.
 */
static int smmuv3_blocked_set_dev_pasid(struct iommu_domain *domain,
					struct device *dev, ioasid_t pasid,
					struct iommu_domain *old)
{
	smmuv3_remove_pasid(smmuv3_dev_master(dev), pasid);
	return 0;
}

static const struct iommu_domain_ops smmuv3_blocked_ops = {
	.attach_dev = SMMUV3_ATTACH_DEV(smmuv3_attach_blocked),
	.set_dev_pasid = smmuv3_blocked_set_dev_pasid,
};

/*
 * All DMA aborts, silently: an aborting STE terminates transactions without
 * recording events.  (While PASIDs are attached, the RID's traffic is
 * terminated through S1DSS instead, which records F_STREAM_DISABLED.)
 */
struct iommu_domain smmuv3_blocked_domain = {
	.type = IOMMU_DOMAIN_BLOCKED,
	.ops = &smmuv3_blocked_ops,
};
EXPORT_SYMBOL_IF_KUNIT(smmuv3_blocked_domain);

/* --- Paging domains ----------------------------------------------------- */

static void smmuv3_tlb_flush_all(void *cookie)
{
	smmuv3_domain_inv_all(cookie);
}

static void smmuv3_tlb_flush_walk(unsigned long iova, size_t size,
				  size_t granule, void *cookie)
{
	smmuv3_domain_inv_range(cookie, iova, size, granule, false);
}

static void smmuv3_tlb_add_page(struct iommu_iotlb_gather *gather,
				unsigned long iova, size_t granule, void *cookie)
{
	struct smmuv3_domain *domain = cookie;

	iommu_iotlb_gather_add_page(&domain->domain, gather, iova, granule);
}

static const struct iommu_flush_ops smmuv3_flush_ops = {
	.tlb_flush_all = smmuv3_tlb_flush_all,
	.tlb_flush_walk = smmuv3_tlb_flush_walk,
	.tlb_add_page = smmuv3_tlb_add_page,
};

/* Input address bits of a stage-1 table on an instance. */
static unsigned int smmuv3_s1_ias(const struct smmuv3_device *smmu)
{
	return min_t(unsigned int, VA_BITS,
		     smmu->feat.flags & SMMUV3_FEAT_VAX52 ? 52 : 48);
}

/**
 * smmuv3_domain_compatible() - may a domain's table be used by an instance
 * @domain: the domain
 * @smmu: the instance
 *
 * The instance must walk the table as its creator does: the stage, every
 * page size (the granule above all), the address sizes, coherency of the
 * walk and the S2FWB attribute format.
 *
 * Return: 0, or -EINVAL (the iommu core then tries another domain).
 */
int smmuv3_domain_compatible(const struct smmuv3_domain *domain,
			     const struct smmuv3_device *smmu)
{
	const struct io_pgtable_cfg *cfg = &domain->pgtbl_cfg;
	u32 flags = smmu->feat.flags;
	u32 need;

	if (smmu == domain->owner)
		return 0;
	need = domain->stage == SMMUV3_STAGE_1 ? SMMUV3_FEAT_S1 : SMMUV3_FEAT_S2;
	if (domain->nest_parent)
		need = SMMUV3_FEAT_NESTING;
	if ((flags & need) != need)
		return -EINVAL;
	if (domain->nest_parent && !smmuv3_can_nest(smmu))
		return -EINVAL;
	if (cfg->pgsize_bitmap & ~smmu->feat.pgsize_bitmap)
		return -EINVAL;
	if (cfg->oas > smmu->feat.oas)
		return -EINVAL;
	if (cfg->ias > (domain->stage == SMMUV3_STAGE_1 ?
			smmuv3_s1_ias(smmu) : smmu->feat.ias))
		return -EINVAL;
	if (cfg->coherent_walk && !(flags & SMMUV3_FEAT_COHERENT))
		return -EINVAL;
	if ((cfg->quirks & SMMUV3_PGTABLE_S2FWB) &&
	    !(flags & SMMUV3_FEAT_S2FWB))
		return -EINVAL;
	return 0;
}

/**
 * smmuv3_domain_publish() - add an attachment's entries to a domain's array
 * @domain: the domain, whose mutex the caller holds
 * @attach: the attachment, with @noncoherent set for a device without
 *	CANWBS
 *
 * On return the new array is visible to every invalidation that starts
 * after the caller's next STE or CD write.
 *
 * Return: 0; -ENOMEM; -EINVAL for a device without CANWBS on a domain that
 * enforces cache coherency.
 */
int smmuv3_domain_publish(struct smmuv3_domain *domain,
			  struct smmuv3_attach *attach)
{
	struct smmuv3_invs *cur, *merged;

	lockdep_assert_held(&domain->mutex);

	if (attach->noncoherent && domain->enforce_cc)
		return -EINVAL;
	cur = rcu_dereference_protected(domain->invs,
					lockdep_is_held(&domain->mutex));
	merged = smmuv3_invs_merge(cur, attach->invs, attach->num_invs);
	if (!merged)
		return -ENOMEM;
	if (attach->noncoherent)
		domain->nr_noncoherent++;
	rcu_assign_pointer(domain->invs, merged);
	if (cur)
		kfree_rcu(cur, rcu);
	/* Pairs with smmuv3_domain_invalidate(): array before tables. */
	smp_mb();
	return 0;
}

static int smmuv3_attach_paging(struct iommu_domain *dom, struct device *dev,
				struct iommu_domain *old)
{
	struct smmuv3_master *master = smmuv3_dev_master(dev);
	struct smmuv3_domain *domain = to_smmuv3_domain(dom);
	bool s1 = domain->stage == SMMUV3_STAGE_1;
	struct smmuv3_attach_state state = {
		.master = master,
		.domain = domain,
		/* CD 0 belongs to the new stage-1 domain, if any. */
		.clear_cd0 = !s1,
	};
	__le64 ste[SMMUV3_STE_QWORDS];
	__le64 cd[SMMUV3_CD_QWORDS];
	int ret;

	ret = smmuv3_domain_compatible(domain, master->smmu);
	if (ret)
		return ret;
	/* A stage-2 STE has no CD table for the PASIDs. */
	if (!s1 && smmuv3_master_has_pasids(master))
		return -EBUSY;
	if (s1 && !master->cdtab) {
		ret = smmuv3_cdtab_alloc(master);
		if (ret)
			return ret;
	}
	state.ats = smmuv3_ats_want(master, true);
	ret = smmuv3_attach_prepare(&state);
	if (ret)
		return ret;

	if (s1) {
		smmuv3_cd_make_s1(cd, domain, state.attach->invs[0].id);
		smmuv3_stall_cd(master, cd);
		ret = smmuv3_write_cd(master, 0, cd);
		if (ret) {
			smmuv3_attach_abort(&state);
			return ret;
		}
		smmuv3_ste_make_s1(ste, master, SMMUV3_S1DSS_SSID0);
	} else {
		smmuv3_ste_make_s2(ste, domain, state.attach->invs[0].id);
		smmuv3_ste_set_stall(ste, master);
	}
	smmuv3_ste_set_eats(ste, state.ats);
	smmuv3_attach_commit(&state, ste);
	return 0;
}

SMMUV3_DEFINE_ATTACH_DEV(smmuv3_attach_paging)

/**
 * smmuv3_set_dev_pasid() - attach a stage-1 domain to a PASID, or replace it
 * @dom: the domain
 * @dev: the device
 * @pasid: the PASID, 1 to 2^smmuv3_master.ssid_bits - 1
 * @old: the domain the PASID is attached to now, or NULL; the master's own
 *	record of it is what is replaced
 *
 * On failure the PASID keeps its configuration.
 *
 * Return: 0; -EINVAL for a PASID the device cannot use, a domain that is
 * not stage 1 or does not fit the instance, or a RID on a stage-2 or nested
 * domain; -ENOMEM, or -ENOSPC when no ASID is left.
 */
static int smmuv3_set_dev_pasid(struct iommu_domain *dom, struct device *dev,
				ioasid_t pasid, struct iommu_domain *old)
{
	struct smmuv3_master *master = smmuv3_dev_master(dev);
	struct smmuv3_domain *domain = to_smmuv3_domain(dom);
	struct smmuv3_attach_state state = {
		.master = master,
		.ssid = pasid,
		.domain = domain,
	};
	__le64 ste[SMMUV3_STE_QWORDS];
	__le64 cd[SMMUV3_CD_QWORDS];
	int ret;

	if (domain->stage != SMMUV3_STAGE_1)
		return -EINVAL;
	if (pasid == IOMMU_NO_PASID || pasid >= BIT(master->ssid_bits))
		return -EINVAL;
	ret = smmuv3_domain_compatible(domain, master->smmu);
	if (ret)
		return ret;
	/* The STE of a stage-2 or nested RID cannot hold the CD table. */
	if (master->attach && master->attach->domain->stage != SMMUV3_STAGE_1)
		return -EINVAL;
	if (!master->cdtab) {
		ret = smmuv3_cdtab_alloc(master);
		if (ret)
			return ret;
	}
	/* Room to record the attachment, so that recording cannot fail. */
	ret = xa_reserve(&master->pasids, pasid, GFP_KERNEL);
	if (ret)
		return ret;

	/* A device with PASIDs has ATS (smmuv3_ats_want()). */
	state.ats = smmuv3_ats_want(master, true);
	ret = smmuv3_attach_prepare(&state);
	if (ret) {
		xa_release(&master->pasids, pasid);
		return ret;
	}
	smmuv3_cd_make_s1(cd, domain, state.attach->invs[0].id);
	smmuv3_stall_cd(master, cd);
	/* Fails only before writing, to allocate the CD's leaf. */
	ret = smmuv3_write_cd(master, pasid, cd);
	if (ret) {
		smmuv3_attach_abort(&state);
		xa_release(&master->pasids, pasid);
		return ret;
	}
	/*
	 * The CD is valid before the STE points at the table: an identity or
	 * blocked RID gets the CD table STE (with EATS) for its first PASID;
	 * a stage-1 RID has it already.
	 */
	if (!master->attach)
		smmuv3_ste_make_rid(ste, master, state.ats);
	smmuv3_attach_commit(&state, master->attach ? NULL : ste);
	return 0;
}

/*
 * Detach a PASID: its CD is cleared before its attachment is dropped; an
 * identity or blocked RID gets its plain STE back (and ATS off) if it was
 * the last.
 */
static void smmuv3_remove_pasid(struct smmuv3_master *master, u32 pasid)
{
	struct smmuv3_attach_state state = {
		.master = master,
		.ssid = pasid,
	};
	__le64 cd[SMMUV3_CD_QWORDS] = {};
	__le64 ste[SMMUV3_STE_QWORDS];

	/* Cannot fail: takes the PASID out of the master's xarray. */
	smmuv3_attach_prepare(&state);
	if (!state.old)
		return;
	/* The CD's leaf exists: clearing it cannot fail. */
	smmuv3_write_cd(master, pasid, cd);
	if (master->attach) {
		/* A stage-1 RID keeps its STE and its ATS. */
		state.ats = master->ats_enabled;
		smmuv3_attach_commit(&state, NULL);
		return;
	}
	state.ats = smmuv3_ats_want(master, false);
	smmuv3_ste_make_rid(ste, master, state.ats);
	smmuv3_attach_commit(&state, ste);
}

static int smmuv3_map_pages(struct iommu_domain *dom, unsigned long iova,
			    phys_addr_t paddr, size_t pgsize, size_t pgcount,
			    int prot, gfp_t gfp, size_t *mapped)
{
	struct io_pgtable_ops *ops = to_smmuv3_domain(dom)->pgtbl_ops;

	return ops->map_pages(ops, iova, paddr, pgsize, pgcount, prot, gfp,
			      mapped);
}

static size_t smmuv3_unmap_pages(struct iommu_domain *dom, unsigned long iova,
				 size_t pgsize, size_t pgcount,
				 struct iommu_iotlb_gather *gather)
{
	struct io_pgtable_ops *ops = to_smmuv3_domain(dom)->pgtbl_ops;

	return ops->unmap_pages(ops, iova, pgsize, pgcount, gather);
}

static void smmuv3_flush_iotlb_all(struct iommu_domain *dom)
{
	smmuv3_domain_inv_all(to_smmuv3_domain(dom));
}

static void smmuv3_iotlb_sync(struct iommu_domain *dom,
			      struct iommu_iotlb_gather *gather)
{
	if (!gather->pgsize)
		return;
	smmuv3_domain_inv_range(to_smmuv3_domain(dom), gather->start,
				gather->end - gather->start + 1,
				gather->pgsize, true);
}

static phys_addr_t smmuv3_iova_to_phys(struct iommu_domain *dom,
				       dma_addr_t iova)
{
	struct io_pgtable_ops *ops = to_smmuv3_domain(dom)->pgtbl_ops;

	return ops->iova_to_phys(ops, iova);
}

/*
 * iommufd asks for enforced coherency for devices that report
 * IOMMU_CAP_ENFORCE_CACHE_COHERENCY: granted while every attached device
 * has CANWBS, and kept by refusing others from then on.
 */
static bool smmuv3_enforce_cache_coherency(struct iommu_domain *dom)
{
	struct smmuv3_domain *domain = to_smmuv3_domain(dom);
	bool ret;

	mutex_lock(&domain->mutex);
	ret = !domain->nr_noncoherent;
	if (ret)
		domain->enforce_cc = true;
	mutex_unlock(&domain->mutex);
	return ret;
}

static void smmuv3_domain_free(struct iommu_domain *dom)
{
	struct smmuv3_domain *domain = to_smmuv3_domain(dom);

	mutex_lock(&smmuv3_domains_mutex);
	list_del(&domain->node);
	mutex_unlock(&smmuv3_domains_mutex);

	/* No attachment is left, so every tag was flushed and freed. */
	free_io_pgtable_ops(domain->pgtbl_ops);
	kfree(rcu_dereference_protected(domain->invs, true));
	ida_free(&smmuv3_domain_ids, domain->id);
	mutex_destroy(&domain->mutex);
	smmuv3_instance_put(domain->owner);
	kfree(domain);
	/* Last: nothing of this module runs for the domain after this. */
	module_put(THIS_MODULE);
}

const struct iommu_domain_ops smmuv3_paging_ops = {
	.attach_dev = SMMUV3_ATTACH_DEV(smmuv3_attach_paging),
	.set_dev_pasid = smmuv3_set_dev_pasid,
	.map_pages = smmuv3_map_pages,
	.unmap_pages = smmuv3_unmap_pages,
	.flush_iotlb_all = smmuv3_flush_iotlb_all,
	.iotlb_sync = smmuv3_iotlb_sync,
	.iova_to_phys = smmuv3_iova_to_phys,
	.enforce_cache_coherency = smmuv3_enforce_cache_coherency,
	.free = smmuv3_domain_free,
};
EXPORT_SYMBOL_IF_KUNIT(smmuv3_paging_ops);

static int smmuv3_domain_init_pgtable(struct smmuv3_domain *domain,
				      struct smmuv3_device *smmu)
{
	struct io_pgtable_cfg *cfg = &domain->pgtbl_cfg;
	enum io_pgtable_fmt fmt;

	*cfg = (struct io_pgtable_cfg){
		.pgsize_bitmap = smmu->feat.pgsize_bitmap,
		.oas = smmu->feat.oas,
		.coherent_walk = smmu->feat.flags & SMMUV3_FEAT_COHERENT,
		.tlb = &smmuv3_flush_ops,
		.iommu_dev = smmu->dev,
	};
	if (domain->stage == SMMUV3_STAGE_1) {
		fmt = ARM_64_LPAE_S1;
		cfg->ias = smmuv3_s1_ias(smmu);
	} else {
		fmt = ARM_64_LPAE_S2;
		cfg->ias = smmu->feat.ias;
		/* Where io-pgtable can write the FWB format at all. */
		if (smmu->feat.flags & SMMUV3_FEAT_S2FWB)
			cfg->quirks |= SMMUV3_PGTABLE_S2FWB;
	}

	domain->pgtbl_ops = alloc_io_pgtable_ops(fmt, cfg, domain);
	if (!domain->pgtbl_ops)
		return -ENOMEM;
	domain->domain.pgsize_bitmap = cfg->pgsize_bitmap;
	domain->domain.geometry.aperture_end = (1ULL << cfg->ias) - 1;
	domain->domain.geometry.force_aperture = true;
	return 0;
}

/**
 * smmuv3_domain_alloc_paging_flags() - allocate a paging domain
 * @dev: a device the domain is first meant for; its instance creates the
 *	table
 * @flags: IOMMU_HWPT_ALLOC_* flags; NEST_PARENT asks for a stage 2 that
 *	nested domains can use
 * @user_data: must be NULL: paging domains take no driver data
 *
 * Return: the domain, or ERR_PTR(-EOPNOTSUPP) for what is not supported.
 */
struct iommu_domain *
smmuv3_domain_alloc_paging_flags(struct device *dev, u32 flags,
				 const struct iommu_user_data *user_data)
{
	struct smmuv3_device *smmu = smmuv3_dev_master(dev)->smmu;
	const u32 supported = IOMMU_HWPT_ALLOC_NEST_PARENT |
			      SMMUV3_HWPT_ALLOC_PASID;
	struct smmuv3_domain *domain;
	int ret;

	if (user_data || (flags & ~supported))
		return ERR_PTR(-EOPNOTSUPP);
	if ((flags & IOMMU_HWPT_ALLOC_NEST_PARENT) &&
	    (!smmuv3_can_nest(smmu) ||
	     (flags & SMMUV3_HWPT_ALLOC_PASID)))
		return ERR_PTR(-EOPNOTSUPP);
	if ((flags & SMMUV3_HWPT_ALLOC_PASID) &&
	    !(smmu->feat.flags & SMMUV3_FEAT_S1))
		return ERR_PTR(-EOPNOTSUPP);

	domain = kzalloc_obj(*domain, GFP_KERNEL);
	if (!domain)
		return ERR_PTR(-ENOMEM);
	/* iommufd uses the domain as is; the core's own paths set the type. */
	domain->domain.type = IOMMU_DOMAIN_UNMANAGED;
	mutex_init(&domain->mutex);
	domain->owner = smmu;
	domain->nest_parent = flags & IOMMU_HWPT_ALLOC_NEST_PARENT;
	domain->stage = (!domain->nest_parent &&
			 (smmu->feat.flags & SMMUV3_FEAT_S1)) ?
			SMMUV3_STAGE_1 : SMMUV3_STAGE_2;

	ret = ida_alloc(&smmuv3_domain_ids, GFP_KERNEL);
	if (ret < 0)
		goto err_free;
	domain->id = ret;
	ret = smmuv3_domain_init_pgtable(domain, smmu);
	if (ret)
		goto err_id;
	domain->domain.ops = &smmuv3_paging_ops;
	/* Its table's device, and its identity in smmuv3_domain_compatible(). */
	smmuv3_instance_get(smmu);
	/*
	 * The domain's ops are this module's code, and iommufd may keep the
	 * domain (a HWPT, a nesting parent under a vIOMMU) after every device
	 * that pinned the module through the iommu core is gone: keep the
	 * module until smmuv3_domain_free().  Never the last reference here:
	 * @dev is probed, so the core holds one.
	 */
	__module_get(THIS_MODULE);

	mutex_lock(&smmuv3_domains_mutex);
	list_add_tail(&domain->node, &smmuv3_domains);
	mutex_unlock(&smmuv3_domains_mutex);
	return &domain->domain;

err_id:
	ida_free(&smmuv3_domain_ids, domain->id);
err_free:
	mutex_destroy(&domain->mutex);
	kfree(domain);
	return ERR_PTR(ret);
}

/**
 * smmuv3_domain_drop_instance() - remove an instance's entries from a domain
 * @domain: the domain
 * @smmu: an instance being removed, with no device attached behind it, so
 *	its entries are all trash
 *
 * Publishes an array without them; the caller waits for a grace period
 * before freeing the instance.
 */
void smmuv3_domain_drop_instance(struct smmuv3_domain *domain,
				 struct smmuv3_device *smmu)
{
	struct smmuv3_invs *cur, *clean;

	mutex_lock(&domain->mutex);
	cur = rcu_dereference_protected(domain->invs,
					lockdep_is_held(&domain->mutex));
	/*
	 * Without memory the entries stay as trash: walkers skip them and
	 * sorting compares only their address.
	 */
	clean = cur ? smmuv3_invs_purge(cur, smmu) : NULL;
	if (clean) {
		rcu_assign_pointer(domain->invs, clean);
		kfree_rcu(cur, rcu);
	}
	mutex_unlock(&domain->mutex);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_domain_drop_instance);

/**
 * smmuv3_domains_drop_instance() - remove an instance from every domain
 * @smmu: an instance being removed, with no device attached behind it
 *
 * Its entries may remain as trash in shared domains; drop them, then wait
 * until no invalidation can still be using one.
 */
void smmuv3_domains_drop_instance(struct smmuv3_device *smmu)
{
	struct smmuv3_domain *domain;

	mutex_lock(&smmuv3_domains_mutex);
	list_for_each_entry(domain, &smmuv3_domains, node)
		smmuv3_domain_drop_instance(domain, smmu);
	mutex_unlock(&smmuv3_domains_mutex);
	synchronize_rcu();
}

/**
 * smmuv3_release_attachments() - forget a released master's attachments
 * @master: the master, already attached to the release (blocked) domain
 *
 * The core does not detach PASIDs before it releases a device: any still
 * attached are removed here, which also gives the STE its plain form back
 * before the CD table is freed.
 */
void smmuv3_release_attachments(struct smmuv3_master *master)
{
	struct smmuv3_attach *attach;
	unsigned long pasid;

	xa_for_each(&master->pasids, pasid, attach)
		smmuv3_remove_pasid(master, pasid);
	/*
	 * Blocked already; this also drops what a failed release attach left,
	 * and switches ATS off before the PASID capability goes.
	 */
	smmuv3_attach_static(master->dev, false);
	smmuv3_cdtab_free(master);
	xa_destroy(&master->pasids);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_release_attachments);

/**
 * smmuv3_debugfs_domains_show() - print every paging domain's array
 * @s: the seq_file
 */
void smmuv3_debugfs_domains_show(struct seq_file *s)
{
	struct smmuv3_domain *domain;

	mutex_lock(&smmuv3_domains_mutex);
	list_for_each_entry(domain, &smmuv3_domains, node) {
		struct smmuv3_invs *invs;
		unsigned int i;

		mutex_lock(&domain->mutex);
		invs = rcu_dereference_protected(domain->invs,
						 lockdep_is_held(&domain->mutex));
		seq_printf(s, "domain %u stage %d%s pgsize %#lx entries %u\n",
			   domain->id, domain->stage == SMMUV3_STAGE_1 ? 1 : 2,
			   domain->nest_parent ? " nest-parent" : "",
			   domain->domain.pgsize_bitmap, invs ? invs->num : 0);
		for (i = 0; invs && i < invs->num; i++) {
			const struct smmuv3_inv *inv = &invs->inv[i];

			/* Trash may name an instance that is gone. */
			seq_printf(s, "  %s type %u id %u ssid %u users %d\n",
				   inv->users ? inv->smmu->name : "-",
				   inv->type, inv->id, inv->ssid, inv->users);
		}
		mutex_unlock(&domain->mutex);
	}
	mutex_unlock(&smmuv3_domains_mutex);
}
