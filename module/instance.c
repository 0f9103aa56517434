// SPDX-License-Identifier: GPL-2.0-only
/*
 * The lifetime of SMMUv3 instances, and the module itself.
 *
 * Instances come from the device tree ("arm,smmu-v3") or from ACPI IORT,
 * whose code creates "arm-smmu-v3" platform devices.  All memory and
 * interrupts are device-managed, so every failed probe unwinds by itself;
 * the remaining steps (the SMMU's own state, debugfs, the iommu core) are
 * undone explicitly in reverse order.  The one exception is struct
 * smmuv3_device itself, which is reference counted (see its @ref): paging
 * domains and vIOMMUs may outlive the instance they were made on.
 *
 * The hardware side of probe and removal (identification, reset, disable)
 * is in probe.c; the registration with the iommu core in iommu_register.c.
 */
#include <linux/dma-map-ops.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <kunit/visibility.h>

#include <smmuv3/smmuv3.h>
#include <smmuv3/status.h>

/*
 * Instances by firmware node, for probe_device (the iommu core does not yet
 * tell us the instance at that point).  An instance is listed from just
 * before its registration with the iommu core until just after its removal.
 */
static LIST_HEAD(smmuv3_instances);
static DEFINE_MUTEX(smmuv3_instances_mutex);
static DEFINE_IDA(smmuv3_instance_ids);

/**
 * smmuv3_find_instance() - the registered instance with a firmware node
 * @fwnode: the node from a device's fwspec
 *
 * Return: the instance, or NULL.
 */
struct smmuv3_device *smmuv3_find_instance(const struct fwnode_handle *fwnode)
{
	struct smmuv3_device *smmu, *found = NULL;

	mutex_lock(&smmuv3_instances_mutex);
	list_for_each_entry(smmu, &smmuv3_instances, node) {
		if (dev_fwnode(smmu->dev) == fwnode) {
			found = smmu;
			break;
		}
	}
	mutex_unlock(&smmuv3_instances_mutex);
	return found;
}

/**
 * smmuv3_instance_init_ref() - set up an instance's reference and vIOMMU list
 * @smmu: a new instance, zeroed; the caller holds the one reference
 */
void smmuv3_instance_init_ref(struct smmuv3_device *smmu)
{
	kref_init(&smmu->ref);
	init_rwsem(&smmu->viommu_rwsem);
	INIT_LIST_HEAD(&smmu->viommus);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_instance_init_ref);

/**
 * smmuv3_instance_get() - keep an instance's structure
 * @smmu: an instance the caller already holds (a live one, or through an
 *	object holding a reference)
 */
void smmuv3_instance_get(struct smmuv3_device *smmu)
{
	kref_get(&smmu->ref);
}

static void smmuv3_instance_release(struct kref *ref)
{
	struct smmuv3_device *smmu = container_of(ref, struct smmuv3_device, ref);

	put_device(smmu->dev);
	kfree(smmu);
}

/**
 * smmuv3_instance_put() - drop a reference from smmuv3_instance_get()
 * @smmu: the instance; freed with the last reference
 */
void smmuv3_instance_put(struct smmuv3_device *smmu)
{
	kref_put(&smmu->ref, smmuv3_instance_release);
}

/* devres: the driver's reference, dropped after every other resource. */
static void smmuv3_instance_put_action(void *smmu)
{
	smmuv3_instance_put(smmu);
}

static int smmuv3_map_registers(struct smmuv3_device *smmu,
				struct platform_device *pdev)
{
	struct resource *res = platform_get_resource(pdev, IORESOURCE_MEM, 0);
	bool page0_only = smmu->options & SMMUV3_OPT_PAGE0_ONLY;
	u32 size = page0_only ? SZ_64K : SMMUV3_MMIO_SIZE;
	struct resource page;

	if (!res || resource_size(res) < size) {
		dev_err(smmu->dev, "MMIO region missing or smaller than %#x\n",
			size);
		return -EINVAL;
	}
	smmu->ioaddr = res->start;

	/* Two 64KiB pages: the rest of the region may belong to a PMCG. */
	page = DEFINE_RES_MEM(res->start, SZ_64K);
	smmu->base = devm_ioremap_resource(smmu->dev, &page);
	if (IS_ERR(smmu->base))
		return PTR_ERR(smmu->base);
	/* Its page-1 registers are at their offsets in page 0. */
	if (page0_only) {
		smmu->page1 = smmu->base;
		return 0;
	}
	page = DEFINE_RES_MEM(res->start + SMMUV3_PAGE1_OFFSET, SZ_64K);
	smmu->page1 = devm_ioremap_resource(smmu->dev, &page);
	return PTR_ERR_OR_ZERO(smmu->page1);
}

static int smmuv3_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct smmuv3_device *smmu;
	int ret;

	smmu = kzalloc_obj(*smmu, GFP_KERNEL);
	if (!smmu)
		return -ENOMEM;
	smmuv3_instance_init_ref(smmu);
	smmu->dev = get_device(dev);
	/* First, so that it is released last, as devm_kzalloc() memory. */
	ret = devm_add_action_or_reset(dev, smmuv3_instance_put_action, smmu);
	if (ret)
		return ret;
	smmu->streams = RB_ROOT;
	mutex_init(&smmu->streams_mutex);
	raw_spin_lock_init(&smmu->gerror_lock);
	smmuv3_stall_init(smmu);
	INIT_LIST_HEAD(&smmu->node);
	smmuv3_tags_init(smmu);
	platform_set_drvdata(pdev, smmu);

	smmuv3_errata_firmware(smmu);
	ret = smmuv3_map_registers(smmu, pdev);
	if (ret)
		return ret;
	ret = ida_alloc(&smmuv3_instance_ids, GFP_KERNEL);
	if (ret < 0)
		return ret;
	smmu->instance = ret;
	snprintf(smmu->name, sizeof(smmu->name), "smmuv3.%llx",
		 (unsigned long long)smmu->ioaddr);

	smmu->irq_combined = platform_get_irq_byname_optional(pdev, "combined");
	if (smmu->irq_combined <= 0) {
		smmu->irq_evtq = platform_get_irq_byname_optional(pdev, "eventq");
		smmu->irq_gerror = platform_get_irq_byname_optional(pdev, "gerror");
	}

	ret = smmuv3_hw_probe(smmu, dev_is_dma_coherent(dev));
	if (ret)
		goto err_id;

	smmuv3_debugfs_add(smmu);
	/* PASIDs as far as a master's CD table covers substreams. */
	if (smmuv3_cdtab_ssid_bits(smmu))
		smmu->iommu.max_pasids = 1U << smmuv3_cdtab_ssid_bits(smmu);

	ret = iommu_device_sysfs_add(&smmu->iommu, dev, NULL, "%s", smmu->name);
	if (ret)
		goto err_debugfs;

	mutex_lock(&smmuv3_instances_mutex);
	list_add_tail(&smmu->node, &smmuv3_instances);
	mutex_unlock(&smmuv3_instances_mutex);

	ret = smmuv3_iommu_register(smmu);
	if (ret)
		goto err_unlist;
	return 0;

err_unlist:
	mutex_lock(&smmuv3_instances_mutex);
	list_del(&smmu->node);
	mutex_unlock(&smmuv3_instances_mutex);
	iommu_device_sysfs_remove(&smmu->iommu);
err_debugfs:
	smmuv3_debugfs_remove(smmu);
	smmuv3_stall_stop(smmu);
	smmuv3_disable(smmu);
err_id:
	/* Its interrupts stay requested until the probe returns. */
	smmuv3_stall_stop(smmu);
	ida_free(&smmuv3_instance_ids, smmu->instance);
	return ret;
}

static void smmuv3_remove(struct platform_device *pdev)
{
	struct smmuv3_device *smmu = platform_get_drvdata(pdev);

	iommu_device_unregister(&smmu->iommu);
	mutex_lock(&smmuv3_instances_mutex);
	list_del(&smmu->node);
	mutex_unlock(&smmuv3_instances_mutex);
	/* vIOMMUs may outlive us: their VMIDs go now, while commands work. */
	smmuv3_viommus_remove(smmu);
	/*
	 * Shared domains may still list us and invalidations may be running:
	 * wait for them while the command queue still works.
	 */
	smmuv3_domains_drop_instance(smmu);
	smmuv3_stall_stop(smmu);
	iommu_device_sysfs_remove(&smmu->iommu);
	smmuv3_debugfs_remove(smmu);
	smmuv3_disable(smmu);
	smmuv3_tags_destroy(smmu);
	ida_free(&smmuv3_instance_ids, smmu->instance);
}

static void smmuv3_shutdown(struct platform_device *pdev)
{
	struct smmuv3_device *smmu = platform_get_drvdata(pdev);

	smmuv3_stall_stop(smmu);
	smmuv3_disable(smmu);
}

static const struct of_device_id smmuv3_of_match[] = {
	{ .compatible = "arm,smmu-v3" },
	{ }
};
MODULE_DEVICE_TABLE(of, smmuv3_of_match);

/* The platform devices ACPI IORT creates for SMMUv3 nodes. */
static const struct platform_device_id smmuv3_platform_ids[] = {
	{ .name = "arm-smmu-v3" },
	{ }
};
MODULE_DEVICE_TABLE(platform, smmuv3_platform_ids);

static struct platform_driver smmuv3_platform_driver = {
	.driver = {
		.name = "smmuv3",
		.of_match_table = smmuv3_of_match,
		/* Unbinding an IOMMU under its devices' feet is not supported. */
		.suppress_bind_attrs = true,
	},
	.id_table = smmuv3_platform_ids,
	.probe = smmuv3_probe,
	.remove = smmuv3_remove,
	.shutdown = smmuv3_shutdown,
};

/* Not arm_smmu_driver_init: initcall_blacklist keeps the in-tree one off. */
static int __init smmuv3_module_init(void)
{
	int ret;

	smmuv3_compat_report();
	smmuv3_debugfs_init();
	ret = smmuv3_register_init();
	if (ret)
		goto out_debugfs;
	ret = platform_driver_register(&smmuv3_platform_driver);
	if (ret)
		goto out_register;
	smmuv3_status_report(&smmuv3_platform_driver.driver);
	return 0;

out_register:
	smmuv3_register_exit();
out_debugfs:
	smmuv3_debugfs_exit();
	return ret;
}
module_init(smmuv3_module_init);

static void __exit smmuv3_module_exit(void)
{
	platform_driver_unregister(&smmuv3_platform_driver);
	smmuv3_register_exit();
	smmuv3_debugfs_exit();
}
module_exit(smmuv3_module_exit);

MODULE_DESCRIPTION("Arm SMMUv3 IOMMU driver (out of tree)");
MODULE_LICENSE("GPL");
SMMUV3_IMPORT_NS(IOMMUFD);
