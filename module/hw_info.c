// SPDX-License-Identifier: GPL-2.0-only
/*
 * iommufd: IOMMU_GET_HW_INFO data (IOMMU_HW_INFO_TYPE_ARM_SMMUV3).  Built
 * only on kernels whose uapi has that type and whose hw_info op takes the
 * requested type (SMMUV3_HAVE_HW_INFO, see include/smmuv3/compat.h).
 */
#include <linux/iommu.h>
#include <linux/slab.h>
#include <uapi/linux/iommufd.h>

#include <smmuv3/smmuv3.h>

/**
 * smmuv3_hw_info() - IOMMU_GET_HW_INFO for a device behind an instance
 * @dev: the device
 * @length: set to the size of the returned structure
 * @type: the type user space asked for (or DEFAULT); set to the one given
 *
 * Return: a kmalloc'ed struct iommu_hw_info_arm_smmuv3 with the raw ID
 * registers, or ERR_PTR(-EOPNOTSUPP) for another type.
 */
void *smmuv3_hw_info(struct device *dev, u32 *length,
		     enum iommu_hw_info_type *type)
{
	struct smmuv3_device *smmu = smmuv3_dev_master(dev)->smmu;
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
	info->iidr = smmu->idregs.iidr;
	info->aidr = smmu->idregs.aidr;

	*length = sizeof(*info);
	*type = IOMMU_HW_INFO_TYPE_ARM_SMMUV3;
	return info;
}
