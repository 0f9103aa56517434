// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the driver says about itself once it has loaded, for the
 * administrator reading the kernel log:
 *
 * - its version (also MODULE_VERSION, the package's version, passed in by
 *   the build as SMMUV3_VERSION) and how many of the SMMUv3 instances that
 *   the firmware describes it drives;
 * - each instance that another driver owns (the kernel's built-in
 *   arm-smmu-v3 when it was not kept off with
 *   initcall_blacklist=arm_smmu_driver_init) or that nothing drives;
 * - each PCI device behind one of its instances that a driver already had
 *   bound, without an IOMMU group, when the module loaded.  That is the
 *   late-load hazard: with the built-in driver off, such a device probed
 *   without an IOMMU once the deferred-probe timeout ran out, and the
 *   instance, now enabled, blocks the DMA the device's driver set up
 *   without it.  It happens when smmuv3 is loaded from the root filesystem
 *   instead of the initramfs.
 *
 * Which instance is in front of a PCI device is read from the firmware as
 * the kernel does for DMA configuration, without configuring anything: the
 * host bridge's iommu-map on a device tree, the IORT root complex node's ID
 * mappings on ACPI (a root complex mapped straight to an SMMUv3 node, found
 * by its base address).  Devices that are not PCI are not looked at.
 * Everything read from the firmware tables is bounds-checked; what does not
 * parse is taken as "not behind this instance".
 */
#include <linux/acpi.h>
#include <linux/device.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/printk.h>

#include <smmuv3/status.h>

#ifndef SMMUV3_VERSION
#define SMMUV3_VERSION "unknown"
#endif
MODULE_VERSION(SMMUV3_VERSION);

/* The platform devices ACPI IORT makes for SMMUv3 nodes, and the DT binding. */
#define SMMUV3_STATUS_ACPI_NAME	"arm-smmu-v3"
#define SMMUV3_STATUS_DT_COMPAT	"arm,smmu-v3"

/**
 * struct smmuv3_status - what the report counts and looks up
 * @ours: this module's driver
 * @found: SMMUv3 platform devices
 * @driven: those bound to @ours
 * @other: those bound to another driver
 * @hazards: PCI devices behind an instance of ours, bound without a group
 * @pdev: the PCI device being looked up (smmuv3_status_front())
 * @smmu: the instance of ours in front of @pdev, with a reference, or NULL
 */
struct smmuv3_status {
	const struct device_driver *ours;
	unsigned int found;
	unsigned int driven;
	unsigned int other;
	unsigned int hazards;
	struct pci_dev *pdev;
	struct device *smmu;
};

static bool smmuv3_status_is_smmu(struct device *dev)
{
	if (!dev_is_platform(dev))
		return false;
	return !strcmp(to_platform_device(dev)->name, SMMUV3_STATUS_ACPI_NAME) ||
	       of_device_is_compatible(dev->of_node, SMMUV3_STATUS_DT_COMPAT);
}

/* Is @pdev in the host bridge's iommu-map range that names @smmu? */
static bool smmuv3_status_dt_behind(struct device *smmu, struct pci_dev *pdev)
{
	struct device *bridge = &pci_find_host_bridge(pdev->bus)->dev;
	struct device_node *np = bridge->parent ? bridge->parent->of_node : NULL;
	u32 rid = pci_dev_id(pdev), mask = ~0U, cells;
	const __be32 *map;
	int len, i;

	if (!np || !smmu->of_node || !smmu->of_node->phandle)
		return false;
	/* The binding has one cell, the stream ID: 4 cells per map entry. */
	if (of_property_read_u32(smmu->of_node, "#iommu-cells", &cells) ||
	    cells != 1)
		return false;
	map = of_get_property(np, "iommu-map", &len);
	if (!map || len <= 0 || len % (4 * sizeof(*map)))
		return false;
	of_property_read_u32(np, "iommu-map-mask", &mask);
	rid &= mask;
	for (i = 0; i < len / (int)sizeof(*map); i += 4) {
		u32 base = be32_to_cpup(map + i);
		u32 phandle = be32_to_cpup(map + i + 1);
		u32 count = be32_to_cpup(map + i + 3);

		if (phandle == smmu->of_node->phandle && rid >= base &&
		    rid - base < count)
			return true;
	}
	return false;
}

#ifdef CONFIG_ACPI
/* Does the IORT root complex @node map @seg:@rid to the SMMUv3 at @base? */
static bool smmuv3_status_rc_maps(const struct acpi_table_header *hdr,
				  const struct acpi_iort_node *node, u32 seg,
				  u32 rid, u64 base)
{
	const size_t head = offsetof(struct acpi_iort_node, node_data);
	const struct acpi_iort_root_complex *rc = (const void *)node->node_data;
	const struct acpi_iort_id_mapping *map;
	u32 i;

	if (node->length < head + offsetofend(struct acpi_iort_root_complex,
					      pci_segment_number) ||
	    rc->pci_segment_number != seg)
		return false;
	if (node->mapping_offset > node->length ||
	    (node->length - node->mapping_offset) / sizeof(*map) <
	    node->mapping_count)
		return false;
	map = ACPI_ADD_PTR(struct acpi_iort_id_mapping, node,
			   node->mapping_offset);
	for (i = 0; i < node->mapping_count; i++, map++) {
		const struct acpi_iort_smmu_v3 *s;
		const struct acpi_iort_node *out;
		u32 ref = map->output_reference;

		if ((map->flags & ACPI_IORT_ID_SINGLE_MAPPING) ||
		    rid < map->input_base || rid - map->input_base > map->id_count)
			continue;
		if (ref > hdr->length || hdr->length - ref < head)
			continue;
		out = ACPI_ADD_PTR(struct acpi_iort_node, hdr, ref);
		if (out->type != ACPI_IORT_NODE_SMMU_V3 ||
		    out->length > hdr->length - ref ||
		    out->length < head + offsetofend(struct acpi_iort_smmu_v3,
						     base_address))
			continue;
		s = (const void *)out->node_data;
		if (s->base_address == base)
			return true;
	}
	return false;
}

/* Does the IORT put the SMMUv3 @smmu in front of @pdev? */
static bool smmuv3_status_iort_behind(struct device *smmu, struct pci_dev *pdev)
{
	const size_t head = offsetof(struct acpi_iort_node, node_data);
	struct resource *res;
	struct acpi_table_header *hdr;
	struct acpi_table_iort *iort;
	bool found = false;
	u32 off, n;

	res = platform_get_resource(to_platform_device(smmu), IORESOURCE_MEM, 0);
	if (!res || smmu->of_node ||
	    ACPI_FAILURE(acpi_get_table(ACPI_SIG_IORT, 0, &hdr)))
		return false;
	iort = (struct acpi_table_iort *)hdr;
	if (hdr->length < sizeof(*iort))
		goto out;
	off = iort->node_offset;
	for (n = 0; n < iort->node_count && !found; n++) {
		const struct acpi_iort_node *node;

		if (off > hdr->length || hdr->length - off < head)
			break;
		node = ACPI_ADD_PTR(struct acpi_iort_node, hdr, off);
		if (node->length < head || node->length > hdr->length - off)
			break;
		if (node->type == ACPI_IORT_NODE_PCI_ROOT_COMPLEX)
			found = smmuv3_status_rc_maps(hdr, node,
						      pci_domain_nr(pdev->bus),
						      pci_dev_id(pdev), res->start);
		off += node->length;
	}
out:
	acpi_put_table(hdr);
	return found;
}
#else
static bool smmuv3_status_iort_behind(struct device *smmu, struct pci_dev *pdev)
{
	return false;
}
#endif

/* bus_for_each_dev(): is @dev an instance of ours in front of st->pdev? */
static int smmuv3_status_front(struct device *dev, void *data)
{
	struct smmuv3_status *st = data;

	if (READ_ONCE(dev->driver) != st->ours || !smmuv3_status_is_smmu(dev))
		return 0;
	if (!smmuv3_status_dt_behind(dev, st->pdev) &&
	    !smmuv3_status_iort_behind(dev, st->pdev))
		return 0;
	st->smmu = get_device(dev);
	return 1;
}

/* bus_for_each_dev() on PCI: a bound device without a group behind us? */
static int smmuv3_status_hazard(struct device *dev, void *data)
{
	const struct device_driver *drv = READ_ONCE(dev->driver);
	struct smmuv3_status *st = data;
	struct iommu_group *group;

	if (!drv)
		return 0;
	group = iommu_group_get(dev);
	if (group) {
		iommu_group_put(group);
		return 0;
	}
	st->pdev = to_pci_dev(dev);
	st->smmu = NULL;
	bus_for_each_dev(&platform_bus_type, NULL, st, smmuv3_status_front);
	if (!st->smmu)
		return 0;
	st->hazards++;
	dev_crit(dev,
		 "LATE LOAD: bound to %s before smmuv3 drove %s, so it has no IOMMU group and %s now blocks its DMA; put smmuv3 in the initramfs (smmuv3-ctl enable) and reboot\n",
		 drv->name, dev_name(st->smmu), dev_name(st->smmu));
	put_device(st->smmu);
	return 0;
}

/* bus_for_each_dev() on platform: count the SMMUv3s and name their owners. */
static int smmuv3_status_count(struct device *dev, void *data)
{
	const struct device_driver *drv = READ_ONCE(dev->driver);
	struct smmuv3_status *st = data;

	if (!smmuv3_status_is_smmu(dev))
		return 0;
	st->found++;
	if (drv == st->ours) {
		st->driven++;
	} else if (drv) {
		st->other++;
		dev_notice(dev,
			   "owned by the driver %s, not by smmuv3 (the kernel's built-in driver is kept off with initcall_blacklist=arm_smmu_driver_init: smmuv3-ctl enable)\n",
			   drv->name);
	} else {
		dev_notice(dev,
			   "no driver: smmuv3's probe failed, was deferred or was not tried (drivers_autoprobe)\n");
	}
	return 0;
}

/**
 * smmuv3_status_report() - say, once the driver is registered, what it drives
 * @ours: this module's platform driver, registered (its probes of the
 *	instances present have run)
 *
 * Logs the version and the number of instances driven; names each instance
 * another driver owns or none does (notices: a state, not an error), and,
 * as critical, each PCI device behind an instance of ours that was bound
 * before, without an IOMMU group (see the top of this file).
 */
void smmuv3_status_report(const struct device_driver *ours)
{
	struct smmuv3_status st = { .ours = ours };

	bus_for_each_dev(&platform_bus_type, NULL, &st, smmuv3_status_count);
	if (IS_ENABLED(CONFIG_PCI) && st.driven)
		bus_for_each_dev(&pci_bus_type, NULL, &st, smmuv3_status_hazard);
	if (!st.found) {
		pr_info("smmuv3 %s: no SMMUv3 in the firmware tables, nothing to drive\n",
			SMMUV3_VERSION);
		return;
	}
	pr_info("smmuv3 %s: drives %u of %u SMMUv3 instance(s); %u owned by another driver%s\n",
		SMMUV3_VERSION, st.driven, st.found, st.other,
		st.hazards ? "; devices bound without an IOMMU, see above" : "");
}
