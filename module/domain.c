// SPDX-License-Identifier: GPL-2.0-only
/*
 * Domains: the identity and blocked domains, which need no page table and
 * no IOTLB tag.  Each is a single static object shared by every device of
 * every instance; attaching one writes a bypass or abort STE for each of
 * the device's streams.  The iommu core serialises attaches per group.
 */
#include <linux/iommu.h>

#include <smmuv3/smmuv3.h>

static int smmuv3_attach_identity(struct iommu_domain *domain,
				  struct device *dev, struct iommu_domain *old)
{
	__le64 ste[SMMUV3_STE_QWORDS];

	smmuv3_ste_make_bypass(ste);
	smmuv3_install_ste(smmuv3_dev_master(dev), ste);
	return 0;
}

static const struct iommu_domain_ops smmuv3_identity_ops = {
	.attach_dev = smmuv3_attach_identity,
};

/* Untranslated DMA: the device sees physical addresses. */
struct iommu_domain smmuv3_identity_domain = {
	.type = IOMMU_DOMAIN_IDENTITY,
	.ops = &smmuv3_identity_ops,
};

static int smmuv3_attach_blocked(struct iommu_domain *domain,
				 struct device *dev, struct iommu_domain *old)
{
	__le64 ste[SMMUV3_STE_QWORDS];

	smmuv3_ste_make_abort(ste);
	smmuv3_install_ste(smmuv3_dev_master(dev), ste);
	return 0;
}

static const struct iommu_domain_ops smmuv3_blocked_ops = {
	.attach_dev = smmuv3_attach_blocked,
};

/*
 * All DMA aborts, silently: an aborting STE terminates transactions without
 * recording events.
 */
struct iommu_domain smmuv3_blocked_domain = {
	.type = IOMMU_DOMAIN_BLOCKED,
	.ops = &smmuv3_blocked_ops,
};
