// SPDX-License-Identifier: GPL-2.0-only
/*
 * iommufd: IOMMU_GET_HW_INFO data (IOMMU_HW_INFO_TYPE_ARM_SMMUV3).  Built
 * only on kernels whose uapi has that type and whose hw_info op takes the
 * requested type (SMMUV3_HAVE_HW_INFO, see include/smmuv3/compat.h).
 */
#include <linux/iommu.h>
#include <linux/slab.h>
#include <kunit/visibility.h>
#include <uapi/linux/iommufd.h>

#include <smmuv3/smmuv3.h>

/**
 * smmuv3_hw_info() - IOMMU_GET_HW_INFO for a device behind an instance
 * @dev: the device
 * @length: set to the size of the returned structure
 * @type: the type user space asked for (or DEFAULT); set to the one given
 *
 * The ID registers are the instance's, with what the driver never enables
 * taken out, so that a VMM offers its guest only that: IDR0.PRI, and
 * optional stalls (STALL_MODEL 0b00) read as none (0b01): stalls are kept
 * off, and a guest cannot resume a stalled transaction (CMD_RESUME is not
 * among the commands it may issue).  Forced stalls stay visible.  IDR0.ATS
 * is the instance's whatever the device: the uapi reports the raw
 * capability, ATS being per device (the VMM says which of its devices have
 * it); a guest's ATC_INV for a device without ATS enabled is dropped
 * (smmuv3_guest_cmd_fixup()).  @flags asks user space to repeat its
 * TLBI/CFGI commands on an instance with that erratum, where the uapi has
 * the flag.
 *
 * Return: a kmalloc'ed struct iommu_hw_info_arm_smmuv3, or
 * ERR_PTR(-EOPNOTSUPP) for another type.
 */
void *smmuv3_hw_info(struct device *dev, u32 *length,
		     enum iommu_hw_info_type *type)
{
	struct smmuv3_master *master = smmuv3_dev_master(dev);
	struct smmuv3_device *smmu = master->smmu;
	struct iommu_hw_info_arm_smmuv3 *info;
	int i;

	if (*type != IOMMU_HW_INFO_TYPE_DEFAULT &&
	    *type != IOMMU_HW_INFO_TYPE_ARM_SMMUV3)
		return ERR_PTR(-EOPNOTSUPP);

	info = kzalloc_obj(*info, GFP_KERNEL);
	if (!info)
		return ERR_PTR(-ENOMEM);
	for (i = 0; i < ARRAY_SIZE(info->idr); i++)
		info->idr[i] = smmu->idregs.idr[i];
	info->idr[0] &= ~SMMUV3_IDR0_PRI;
	if (FIELD_GET(SMMUV3_IDR0_STALL_MODEL, info->idr[0]) ==
	    SMMUV3_STALL_MODEL_BOTH)
		info->idr[0] |= FIELD_PREP(SMMUV3_IDR0_STALL_MODEL,
					   SMMUV3_STALL_MODEL_TERM);
	info->iidr = smmu->idregs.iidr;
	info->aidr = smmu->idregs.aidr;
	if (smmu->options & SMMUV3_OPT_REPEAT_CFGI_TLBI)
		info->flags |= SMMUV3_HW_INFO_REPEAT_TLBI_CFGI;

	*length = sizeof(*info);
	*type = IOMMU_HW_INFO_TYPE_ARM_SMMUV3;
	return info;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_hw_info);
