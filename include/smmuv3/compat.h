/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * smmuv3: what differs between the kernels the driver builds for (Linux
 * 6.12 and later), in one place.
 *
 * module/compat-probe.sh reads the kernel's headers at build time and
 * generates smmuv3_features.h with SMMUV3_HAVE_<interface> 1 or 0 for each
 * interface probed (see the script for the list and where each comes from).
 * Nothing here or in the driver tests a version number: the driver uses
 * only the macros and wrappers below, and the SMMUV3_HAVE_VIOMMU and
 * SMMUV3_HAVE_HW_INFO feature sets, which also select objects in Kbuild.
 *
 * Without an interface the driver either adapts (the same behaviour
 * through what the kernel has) or leaves the feature out, which
 * module/compat.c reports once at load and in debugfs (smmuv3/build):
 *
 *   domain_alloc_paging_flags   else domain_alloc_paging for the DMA API and
 *                               domain_alloc_user for iommufd (no nested
 *                               parent argument: nested domains need the
 *                               vIOMMU interface)
 *   attach_dev(..., old)        else an adapter without @old (the driver
 *                               never needs it)
 *   IO_PGTABLE_QUIRK_ARM_S2FWB  else stage-2 tables never use the FWB format
 *   IOMMU_HWPT_ALLOC_PASID      else no iommufd domain asks for PASIDs
 *   SMMUV3_HAVE_VIOMMU          else no vIOMMU, vdevice, nested domain,
 *                               guest invalidation or vEVENTQ (iommufd.c and
 *                               nested.c are not built)
 *   SMMUV3_HAVE_HW_INFO         else no IOMMU_GET_HW_INFO data (hw_info.c is
 *                               not built)
 *   IOMMU_HW_INFO_ARM_SMMUV3_ERRATA_REPEAT_TLBI_CFGI
 *                               else hw_info cannot tell user space to
 *                               repeat its TLBI/CFGI commands (flags 0)
 *   IOMMU_FWSPEC_PCI_RC_CANWBS  else no device counts as coherent and
 *                               cacheable (CANWBS): vIOMMUs then need S2FWB
 *   pci_ats_required()          else no device requires ATS
 *   IOMMU_CAP_PCI_ATS_SUPPORTED else the core cannot ask about ATS
 *   MODULE_IMPORT_NS("NS")      else MODULE_IMPORT_NS(NS)
 *   kzalloc_obj()               else kzalloc(sizeof())
 */
#ifndef SMMUV3_COMPAT_H
#define SMMUV3_COMPAT_H

#include <linux/iommu.h>
#include <linux/io-pgtable.h>
#include <linux/kconfig.h>
#include <linux/module.h>
#include <linux/slab.h>

#include <smmuv3_features.h>

/* Allocation helpers typed by their object (Linux 7.0). */
#ifndef kzalloc_obj
#define kzalloc_obj(obj, gfp)	kzalloc(sizeof(obj), gfp)
#endif

/* Import a symbol namespace, written as a bare name. */
#if SMMUV3_HAVE_MODULE_IMPORT_NS_STRING
#define SMMUV3_IMPORT_NS(ns)	MODULE_IMPORT_NS(#ns)
#else
#define SMMUV3_IMPORT_NS(ns)	MODULE_IMPORT_NS(ns)
#endif

/* The io-pgtable quirk for S2FWB-format stage-2 tables, or 0. */
#if SMMUV3_HAVE_IO_PGTABLE_QUIRK_ARM_S2FWB
#define SMMUV3_PGTABLE_S2FWB	IO_PGTABLE_QUIRK_ARM_S2FWB
#else
#define SMMUV3_PGTABLE_S2FWB	0
#endif

/* The fwspec flag for a coherent, cacheable root complex (CANWBS), or 0. */
#if SMMUV3_HAVE_IOMMU_FWSPEC_PCI_RC_CANWBS
#define SMMUV3_FWSPEC_CANWBS	IOMMU_FWSPEC_PCI_RC_CANWBS
#else
#define SMMUV3_FWSPEC_CANWBS	0
#endif

/* Whether a PCI device needs ATS to work; false where the kernel cannot tell. */
struct pci_dev;
#if SMMUV3_HAVE_PCI_ATS_REQUIRED
#define smmuv3_pci_ats_required(pdev)	pci_ats_required(pdev)
#else
#define smmuv3_pci_ats_required(pdev)	((void)(pdev), false)
#endif

/* Is @cap the core's question whether a device may use ATS? */
static inline bool smmuv3_cap_is_pci_ats(enum iommu_cap cap)
{
#if SMMUV3_HAVE_IOMMU_CAP_PCI_ATS_SUPPORTED
	return cap == IOMMU_CAP_PCI_ATS_SUPPORTED;
#else
	return false;
#endif
}

/* iommufd's request for a domain usable with PASIDs, or 0. */
#if SMMUV3_HAVE_IOMMU_HWPT_ALLOC_PASID
#define SMMUV3_HWPT_ALLOC_PASID	IOMMU_HWPT_ALLOC_PASID
#else
#define SMMUV3_HWPT_ALLOC_PASID	0
#endif

/*
 * attach_dev: the driver's functions take (domain, dev, old).  Where the
 * core's op has no @old, SMMUV3_DEFINE_ATTACH_DEV(fn) defines an adapter
 * passing NULL, and SMMUV3_ATTACH_DEV(fn) names what goes into the ops.
 */
#if SMMUV3_HAVE_IOMMU_ATTACH_DEV_OLD
#define SMMUV3_ATTACH_DEV(fn)	fn
#define SMMUV3_DEFINE_ATTACH_DEV(fn)
#else
#define SMMUV3_ATTACH_DEV(fn)	fn##_noold
#define SMMUV3_DEFINE_ATTACH_DEV(fn)					\
static int fn##_noold(struct iommu_domain *domain, struct device *dev)	\
{									\
	return fn(domain, dev, NULL);					\
}
#endif

/* Call a domain's attach_dev op, as the core does (for KUnit). */
static inline int smmuv3_call_attach_dev(struct iommu_domain *domain,
					 struct device *dev,
					 struct iommu_domain *old)
{
#if SMMUV3_HAVE_IOMMU_ATTACH_DEV_OLD
	return domain->ops->attach_dev(domain, dev, old);
#else
	return domain->ops->attach_dev(domain, dev);
#endif
}

/*
 * Paging domain allocation ops for struct iommu_ops: the driver's
 * smmuv3_domain_alloc_paging_flags(), directly or through module/compat.c.
 */
#if SMMUV3_HAVE_IOMMU_DOMAIN_ALLOC_PAGING_FLAGS
#define SMMUV3_OPS_DOMAIN_ALLOC						\
	.domain_alloc_paging_flags = smmuv3_domain_alloc_paging_flags,
#else
struct iommu_domain *smmuv3_compat_domain_alloc_paging(struct device *dev);
#if SMMUV3_HAVE_IOMMU_DOMAIN_ALLOC_USER
struct iommu_domain *
smmuv3_compat_domain_alloc_user(struct device *dev, u32 flags,
				struct iommu_domain *parent,
				const struct iommu_user_data *user_data);
#define SMMUV3_OPS_DOMAIN_ALLOC						\
	.domain_alloc_paging = smmuv3_compat_domain_alloc_paging,	\
	.domain_alloc_user = smmuv3_compat_domain_alloc_user,
#else
#define SMMUV3_OPS_DOMAIN_ALLOC						\
	.domain_alloc_paging = smmuv3_compat_domain_alloc_paging,
#endif
#endif

/* IOMMU_GET_HW_INFO (module/hw_info.c). */
#if SMMUV3_HAVE_HW_INFO
#define SMMUV3_OPS_HW_INFO	.hw_info = smmuv3_hw_info,
#else
#define SMMUV3_OPS_HW_INFO
#endif

/* hw_info flag: user space must repeat TLBI/CFGI + CMD_SYNC, or 0. */
#if SMMUV3_HAVE_IOMMU_HW_INFO_ARM_SMMUV3_ERRATA_REPEAT_TLBI_CFGI
#define SMMUV3_HW_INFO_REPEAT_TLBI_CFGI				\
	IOMMU_HW_INFO_ARM_SMMUV3_ERRATA_REPEAT_TLBI_CFGI
#else
#define SMMUV3_HW_INFO_REPEAT_TLBI_CFGI	0
#endif

/* vIOMMUs (module/iommufd.c). */
#if SMMUV3_HAVE_VIOMMU
#define SMMUV3_OPS_VIOMMU						\
	.get_viommu_size = smmuv3_get_viommu_size,			\
	.viommu_init = smmuv3_viommu_init,
#else
#define SMMUV3_OPS_VIOMMU
#endif

/*
 * The kernel has iommufd, so its uAPI reaches the driver: the driver-side
 * library (CONFIG_IOMMUFD_DRIVER_CORE, Linux 6.13 and later) or, before it
 * existed, iommufd itself (Linux 6.12 calls domain_alloc_user directly).
 */
#define SMMUV3_KERNEL_HAS_IOMMUFD					\
	(IS_ENABLED(CONFIG_IOMMUFD_DRIVER_CORE) || IS_ENABLED(CONFIG_IOMMUFD))

/* module/compat.c: DMA configuration of a device without a driver (6.12) */
struct device;
int smmuv3_compat_dma_configure(struct device *dev);

/* module/compat.c: what this build offers, reported at load and in debugfs */
struct seq_file;
void smmuv3_compat_report(void);
void smmuv3_compat_show(struct seq_file *s);

#endif /* SMMUV3_COMPAT_H */
