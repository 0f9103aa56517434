// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested domains: a guest-owned stage-1 configuration (the first two words
 * of a guest STE) over the host's nesting-parent stage-2, tagged with the
 * vIOMMU's VMID.
 *
 * The guest chooses only what the uapi allows (V, Cfg, S1Fmt,
 * S1ContextPtr, S1CDMax, S1DSS, S1CIR, S1COR, S1CSH, S1STALLD); any other
 * bit, a reserved encoding, a size the instance lacks or an ILLEGAL
 * S1STALLD (stalls not optional) is refused with -EIO, as the uapi
 * documents.  EATS, which the uapi also lists, may be 0
 * (no ATS) or 0b01 (full ATS) in a stage-1 guest STE: the physical STE gets
 * EATS, and the device ATS, only if the device has ATS (ats.c); a guest
 * bypass STE never has it.  The ATC entries of a nested attachment go into
 * the parent's array as whole-ATC entries: a change of stage 2 affects every
 * PASID's translations.
 */
#include <linux/iommu.h>
#include <linux/slab.h>
#include <kunit/visibility.h>
#include <uapi/linux/iommufd.h>

#include <smmuv3/smmuv3.h>

/* Feature flags of the stall model: STALLS alone for 0b00. */
#define SMMUV3_VSTE_STALL_MODEL	(SMMUV3_FEAT_STALLS | SMMUV3_FEAT_STALL_FORCE)

static inline struct smmuv3_nested *to_smmuv3_nested(struct iommu_domain *dom)
{
	return container_of(dom, struct smmuv3_nested, domain);
}

/**
 * smmuv3_vste_validate() - check a guest STE against what a guest may set
 * @smmu: the instance the vIOMMU is on
 * @vste: the two words, little-endian; an invalid (V=0) STE is cleared to
 *	an aborting one; EATS is cleared
 * @ats: set to whether a stage-1 guest STE asked for ATS (may be NULL)
 *
 * Return: 0 or -EIO.
 */
int smmuv3_vste_validate(const struct smmuv3_device *smmu, __le64 *vste,
			 bool *ats)
{
	u64 w0 = le64_to_cpu(vste[0]);
	u64 w1 = le64_to_cpu(vste[1]);
	u32 cfg = FIELD_GET(SMMUV3_STE0_CFG, w0);
	u32 eats = FIELD_GET(SMMUV3_STE1_EATS, w1);

	if (ats)
		*ats = false;
	if ((w0 & ~SMMUV3_VSTE0_ALLOWED) ||
	    (w1 & ~(SMMUV3_VSTE1_ALLOWED | SMMUV3_STE1_EATS)))
		return -EIO;
	if (!(w0 & SMMUV3_STE0_V)) {
		vste[0] = 0;
		vste[1] = 0;
		return 0;
	}
	/* Full ATS or none; the host sets the physical STE's EATS. */
	if (eats != SMMUV3_EATS_ABT && eats != SMMUV3_EATS_TRANS)
		return -EIO;
	vste[1] &= ~cpu_to_le64(SMMUV3_STE1_EATS);
	if (ats)
		*ats = cfg == SMMUV3_STE_CFG_S1 && eats == SMMUV3_EATS_TRANS;
	if (cfg != SMMUV3_STE_CFG_ABORT && cfg != SMMUV3_STE_CFG_BYPASS &&
	    cfg != SMMUV3_STE_CFG_S1)
		return -EIO;
	if (cfg != SMMUV3_STE_CFG_S1)
		return 0;

	if (FIELD_GET(SMMUV3_STE0_S1CDMAX, w0) > smmu->feat.ssid_bits)
		return -EIO;
	switch (FIELD_GET(SMMUV3_STE0_S1FMT, w0)) {
	case SMMUV3_S1FMT_LINEAR:
		break;
	case 1: /* 4K leaves */
	case SMMUV3_S1FMT_64K_L2:
		if (!(smmu->feat.flags & SMMUV3_FEAT_2LVL_CDTAB))
			return -EIO;
		break;
	default:
		return -EIO;
	}
	if (FIELD_GET(SMMUV3_STE1_S1DSS, w1) > SMMUV3_S1DSS_SSID0)
		return -EIO;
	/* ILLEGAL unless stalls are optional (SMMU_IDR0.STALL_MODEL 0b00) */
	if ((w1 & SMMUV3_STE1_S1STALLD) &&
	    (smmu->feat.flags & SMMUV3_VSTE_STALL_MODEL) != SMMUV3_FEAT_STALLS)
		return -EIO;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_vste_validate);

static int smmuv3_attach_nested(struct iommu_domain *dom, struct device *dev,
				struct iommu_domain *old)
{
	struct smmuv3_master *master = smmuv3_dev_master(dev);
	struct smmuv3_nested *nested = to_smmuv3_nested(dom);
	struct smmuv3_viommu *viommu = nested->viommu;
	struct smmuv3_attach_state state = {
		.master = master,
		.domain = viommu->parent,
		.vmid = &viommu->vmid,
		.viommu = viommu,
		/* The guest's STE has no CD 0 of ours. */
		.clear_cd0 = true,
	};
	__le64 ste[SMMUV3_STE_QWORDS];
	unsigned long vsid;
	int ret;

	if (master->smmu != viommu->smmu)
		return -EINVAL;
	/* The guest's STE replaces the CD table the PASIDs use. */
	if (smmuv3_master_has_pasids(master))
		return -EBUSY;
	/* A translating guest STE needs the vSID, for events and CFGI_CD. */
	if (FIELD_GET(SMMUV3_STE0_CFG, le64_to_cpu(nested->vste[0])) ==
	    SMMUV3_STE_CFG_S1 &&
	    iommufd_viommu_get_vdev_id(&viommu->core, dev, &vsid))
		return -ENOENT;

	state.ats = nested->enable_ats && smmuv3_ats_want(master, true);
	ret = smmuv3_attach_prepare(&state);
	if (ret)
		return ret;
	smmuv3_ste_make_nested(ste, nested);
	smmuv3_ste_set_stall(ste, master);
	smmuv3_ste_set_eats(ste, state.ats);
	smmuv3_attach_commit(&state, ste);
	return 0;
}

SMMUV3_DEFINE_ATTACH_DEV(smmuv3_attach_nested)

static void smmuv3_nested_free(struct iommu_domain *dom)
{
	kfree(to_smmuv3_nested(dom));
}

const struct iommu_domain_ops smmuv3_nested_ops = {
	.attach_dev = SMMUV3_ATTACH_DEV(smmuv3_attach_nested),
	.free = smmuv3_nested_free,
};
EXPORT_SYMBOL_IF_KUNIT(smmuv3_nested_ops);

/**
 * smmuv3_nested_alloc() - allocate a nested domain on a vIOMMU
 * @core: the vIOMMU
 * @flags: must be 0
 * @user_data: an IOMMU_HWPT_DATA_ARM_SMMUV3 guest STE
 *
 * Return: the domain; ERR_PTR(-EOPNOTSUPP) for flags or another data type,
 * ERR_PTR(-EIO) for a guest STE with a field a guest may not set.
 */
struct iommu_domain *
smmuv3_nested_alloc(struct iommufd_viommu *core, u32 flags,
		    const struct iommu_user_data *user_data)
{
	struct smmuv3_viommu *viommu =
		container_of(core, struct smmuv3_viommu, core);
	struct iommu_hwpt_arm_smmuv3 arg;
	struct smmuv3_nested *nested;
	bool ats;
	int ret;

	if (flags || !user_data)
		return ERR_PTR(-EOPNOTSUPP);
	ret = iommu_copy_struct_from_user(&arg, user_data,
					  IOMMU_HWPT_DATA_ARM_SMMUV3, ste);
	if (ret)
		return ERR_PTR(ret);
	ret = smmuv3_vste_validate(viommu->smmu, arg.ste, &ats);
	if (ret)
		return ERR_PTR(ret);

	nested = kzalloc_obj(*nested, GFP_KERNEL_ACCOUNT);
	if (!nested)
		return ERR_PTR(-ENOMEM);
	nested->domain.type = IOMMU_DOMAIN_NESTED;
	nested->domain.ops = &smmuv3_nested_ops;
	nested->viommu = viommu;
	nested->vste[0] = arg.ste[0];
	nested->vste[1] = arg.ste[1];
	nested->enable_ats = ats;
	return &nested->domain;
}
