// SPDX-License-Identifier: GPL-2.0-only
/*
 * IORT RMR (reserved memory range) nodes: memory that firmware-owned agents
 * (a framebuffer, a BMC or management controller) keep doing DMA to while
 * and after the OS takes over the SMMU.
 *
 * - The streams of every RMR node of an instance get bypass STEs when the
 *   stream table is made, before SMMU_CR0.SMMUEN is set
 *   (smmuv3_tables_enable()), so that this DMA never aborts.
 * - The ranges are reserved regions of the devices whose streams they name:
 *   smmuv3_get_resv_regions() calls iommu_dma_get_resv_regions(), whose
 *   IORT part (Linux 6.12 and 7.x alike) adds them as IOMMU_RESV_DIRECT or
 *   IOMMU_RESV_DIRECT_RELAXABLE; the iommu core then maps them 1:1 in the
 *   device's DMA domains and refuses to attach a domain that cannot have
 *   them (unless relaxable).
 * - A bypass STE stays until a device probed with that stream is attached
 *   to a domain (at the latest its default domain, right after probe): the
 *   attach replaces it, as the kernel's driver does.  The streams of no
 *   probed device keep bypassing.
 */
#include <linux/acpi_iort.h>
#include <linux/device.h>
#include <linux/iommu.h>
#include <linux/list.h>
#include <kunit/static_stub.h>
#include <kunit/visibility.h>

#include <smmuv3/smmuv3.h>

/* The RMR regions of an instance (replaced by KUnit). */
VISIBLE_IF_KUNIT void smmuv3_rmr_get(struct smmuv3_device *smmu,
				     struct list_head *list)
{
	KUNIT_STATIC_STUB_REDIRECT(smmuv3_rmr_get, smmu, list);
	iort_get_rmr_sids(dev_fwnode(smmu->dev), list);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_rmr_get);

VISIBLE_IF_KUNIT void smmuv3_rmr_put(struct smmuv3_device *smmu,
				     struct list_head *list)
{
	KUNIT_STATIC_STUB_REDIRECT(smmuv3_rmr_put, smmu, list);
	iort_put_rmr_sids(dev_fwnode(smmu->dev), list);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_rmr_put);

/**
 * smmuv3_rmr_install() - bypass STEs for the streams of the RMR nodes
 * @smmu: the instance, with its stream table made but not yet enabled
 *
 * The SMMU does not use the table yet, so the STEs are written directly;
 * the reset's CFGI_ALL comes before SMMUEN.  A stream ID beyond the table
 * (firmware error) is logged and skipped, and so is one whose level-2 table
 * cannot be allocated (its STE aborts), as in the kernel's driver: the
 * other streams and the devices behind the SMMU still work.
 *
 * Return: 0.
 */
int smmuv3_rmr_install(struct smmuv3_device *smmu)
{
	struct iommu_resv_region *region;
	LIST_HEAD(list);
	unsigned int n = 0;

	smmuv3_rmr_get(smmu, &list);
	mutex_lock(&smmu->streams_mutex);
	list_for_each_entry(region, &list, list) {
		struct iommu_iort_rmr_data *rmr =
			container_of(region, struct iommu_iort_rmr_data, rr);
		u32 i;

		for (i = 0; i < rmr->num_sids; i++) {
			u32 sid = rmr->sids[i];
			int ret = smmuv3_strtab_prepare_sid_unused(smmu, sid);
			__le64 *ste;

			if (ret == -ERANGE) {
				dev_err_ratelimited(smmu->dev,
						    "IORT RMR stream %#x is beyond the stream table: not bypassed\n",
						    sid);
				continue;
			}
			if (ret) {
				dev_err_ratelimited(smmu->dev,
						    "IORT RMR stream %#x: no memory for its stream table (%d): not bypassed\n",
						    sid, ret);
				continue;
			}
			ste = smmuv3_strtab_ste(smmu, sid);
			smmuv3_ste_make_bypass(ste);
			smmuv3_ste_fit(smmu, ste);
			n++;
		}
	}
	mutex_unlock(&smmu->streams_mutex);
	smmuv3_rmr_put(smmu, &list);
	if (n)
		dev_info(smmu->dev, "%u IORT RMR streams bypass the SMMU until their devices attach\n",
			 n);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_rmr_install);
