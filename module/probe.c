// SPDX-License-Identifier: GPL-2.0-only
/*
 * Probe and reset of SMMUv3 instances, registration with the iommu core,
 * and the module itself.
 *
 * Instances come from the device tree ("arm,smmu-v3") or from ACPI IORT,
 * whose code creates "arm-smmu-v3" platform devices.  All memory and
 * interrupts are device-managed, so every failed probe unwinds by itself;
 * the remaining steps (the SMMU's own state, debugfs, the iommu core) are
 * undone explicitly in reverse order.  The one exception is struct
 * smmuv3_device itself, which is reference counted (see its @ref): paging
 * domains and vIOMMUs may outlive the instance they were made on.
 */
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/iopoll.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <kunit/static_stub.h>
#include <kunit/visibility.h>

#include <smmuv3/smmuv3.h>
#include <smmuv3/status.h>

/* Register acknowledgments: generous, as QEMU under TCG can be slow. */
#define SMMUV3_ACK_TIMEOUT_US	(100 * USEC_PER_MSEC)

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

/* The address of a register: page 1 from SMMUV3_PAGE1_OFFSET on. */
static void __iomem *smmuv3_reg_addr(struct smmuv3_device *smmu, u32 off)
{
	if (off >= SMMUV3_PAGE1_OFFSET)
		return smmu->page1 + off - SMMUV3_PAGE1_OFFSET;
	return smmu->base + off;
}

/**
 * smmuv3_reg_read() - read a 32-bit register
 * @smmu: the instance
 * @off: offset from register page 0; page 1 from SMMUV3_PAGE1_OFFSET on
 *	(page 0 again on page-0-only implementations)
 *
 * The probe, reset and teardown sequences (and the MSI set-up) reach the
 * registers only through this and smmuv3_reg_write(), so that KUnit can
 * run them on a fake register file that records every access.  The hot
 * paths (command queue, event queue) use their queue's register pointers.
 *
 * Return: the register's value.
 */
u32 smmuv3_reg_read(struct smmuv3_device *smmu, u32 off)
{
	KUNIT_STATIC_STUB_REDIRECT(smmuv3_reg_read, smmu, off);
	return readl_relaxed(smmuv3_reg_addr(smmu, off));
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_reg_read);

/**
 * smmuv3_reg_write() - write a 32-bit or 64-bit register
 * @smmu: the instance
 * @off: as smmuv3_reg_read()
 * @val: the value
 * @size: 4 or 8 (bytes): one single-copy-atomic access of that width
 */
void smmuv3_reg_write(struct smmuv3_device *smmu, u32 off, u64 val,
		      unsigned int size)
{
	KUNIT_STATIC_STUB_REDIRECT(smmuv3_reg_write, smmu, off, val, size);
	if (size == 8)
		writeq_relaxed(val, smmuv3_reg_addr(smmu, off));
	else
		writel_relaxed(val, smmuv3_reg_addr(smmu, off));
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_reg_write);

/**
 * smmuv3_write_ack() - write a register and wait for its acknowledgment
 * @smmu: the instance
 * @reg: the register (CR0, IRQ_CTRL)
 * @ack_reg: its acknowledgment register
 * @val: the value
 *
 * Return: 0 or -ETIMEDOUT.
 */
int smmuv3_write_ack(struct smmuv3_device *smmu, u32 reg, u32 ack_reg, u32 val)
{
	u32 ack;
	int ret;

	/* KUnit runs the probe sequence on a fake SMMU that records writes. */
	KUNIT_STATIC_STUB_REDIRECT(smmuv3_write_ack, smmu, reg, ack_reg, val);
	smmuv3_reg_write(smmu, reg, val, 4);
	ret = read_poll_timeout(smmuv3_reg_read, ack, ack == val, 1,
				SMMUV3_ACK_TIMEOUT_US, false, smmu, ack_reg);
	if (ret)
		dev_err(smmu->dev, "register %#x not acknowledged (%#x, want %#x)\n",
			reg, ack, val);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_write_ack);

VISIBLE_IF_KUNIT int smmuv3_update_gbpa(struct smmuv3_device *smmu, u32 set,
					u32 clr)
{
	u32 val;
	int ret;

	KUNIT_STATIC_STUB_REDIRECT(smmuv3_update_gbpa, smmu, set, clr);
	ret = read_poll_timeout(smmuv3_reg_read, val,
				!(val & SMMUV3_GBPA_UPDATE), 1,
				SMMUV3_ACK_TIMEOUT_US, false, smmu, SMMUV3_GBPA);
	if (ret)
		goto timeout;
	smmuv3_reg_write(smmu, SMMUV3_GBPA,
			 ((val & ~clr) | set) | SMMUV3_GBPA_UPDATE, 4);
	ret = read_poll_timeout(smmuv3_reg_read, val,
				!(val & SMMUV3_GBPA_UPDATE), 1,
				SMMUV3_ACK_TIMEOUT_US, false, smmu, SMMUV3_GBPA);
	if (!ret)
		return 0;
timeout:
	dev_err(smmu->dev, "GBPA update timed out\n");
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_update_gbpa);

/**
 * smmuv3_disable() - stop interrupts, then translation and the queues
 * @smmu: the instance
 *
 * Incoming traffic then follows GBPA, which the reset left aborting.
 */
VISIBLE_IF_KUNIT void smmuv3_disable(struct smmuv3_device *smmu)
{
	smmuv3_write_ack(smmu, SMMUV3_IRQ_CTRL, SMMUV3_IRQ_CTRLACK, 0);
	smmuv3_write_ack(smmu, SMMUV3_CR0, SMMUV3_CR0ACK, 0);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_disable);

static int smmuv3_invalidate_all(struct smmuv3_device *smmu)
{
	u64 cmds[3 * SMMUV3_CMD_QWORDS];
	struct smmuv3_cmd cmd = { .op = SMMUV3_OP_CFGI_ALL };
	unsigned int n = 0;

	smmuv3_cmd_encode(&cmd, &cmds[n++ * SMMUV3_CMD_QWORDS]);
	if (smmu->feat.flags & SMMUV3_FEAT_HYP) {
		cmd.op = SMMUV3_OP_TLBI_EL2_ALL;
		smmuv3_cmd_encode(&cmd, &cmds[n++ * SMMUV3_CMD_QWORDS]);
	}
	cmd.op = SMMUV3_OP_TLBI_NSNH_ALL;
	smmuv3_cmd_encode(&cmd, &cmds[n++ * SMMUV3_CMD_QWORDS]);
	return smmuv3_cmdq_issue(smmu, cmds, n, true);
}

/*
 * Bring the SMMU from whatever state firmware left it in to translating
 * through our tables.  Incoming traffic aborts while the SMMU is disabled.
 */
static int smmuv3_reset(struct smmuv3_device *smmu)
{
	bool coherent = smmu->feat.flags & SMMUV3_FEAT_COHERENT;
	u32 enables, cr1, cr2, sh, cache;
	int ret;

	ret = smmuv3_update_gbpa(smmu, SMMUV3_GBPA_ABORT, 0);
	if (ret)
		return ret;
	ret = smmuv3_write_ack(smmu, SMMUV3_CR0, SMMUV3_CR0ACK, 0);
	if (ret)
		return ret;
	/* Forget global errors from before us. */
	smmuv3_reg_write(smmu, SMMUV3_GERRORN,
			 smmuv3_reg_read(smmu, SMMUV3_GERROR), 4);

	sh = coherent ? SMMUV3_SH_ISH : SMMUV3_SH_NSH;
	cache = coherent ? SMMUV3_CR1_CACHE_WB : SMMUV3_CR1_CACHE_NC;
	cr1 = FIELD_PREP(SMMUV3_CR1_TABLE_SH, sh) |
	      FIELD_PREP(SMMUV3_CR1_TABLE_OC, cache) |
	      FIELD_PREP(SMMUV3_CR1_TABLE_IC, cache) |
	      FIELD_PREP(SMMUV3_CR1_QUEUE_SH, sh) |
	      FIELD_PREP(SMMUV3_CR1_QUEUE_OC, cache) |
	      FIELD_PREP(SMMUV3_CR1_QUEUE_IC, cache);
	smmuv3_reg_write(smmu, SMMUV3_CR1, cr1, 4);
	/*
	 * C_BAD_STREAMID is recorded.  PTM (broadcast TLB maintenance is
	 * not for us: our ASIDs are not the CPU's) exists only where
	 * IDR0.BTM is 1 and is RES0 elsewhere (IHI 0070 6.3.12).  The ID
	 * register decides, not the feature flag: an erratum that drops
	 * FEAT_BTM (MMU-700, MMU-L1, MMU-S3) is one more reason to opt out.
	 */
	cr2 = SMMUV3_CR2_RECINVSID;
	if (smmu->idregs.idr[0] & SMMUV3_IDR0_BTM)
		cr2 |= SMMUV3_CR2_PTM;
	smmuv3_reg_write(smmu, SMMUV3_CR2, cr2, 4);

	smmuv3_reg_write(smmu, SMMUV3_STRTAB_BASE, smmu->strtab.base_reg, 8);
	smmuv3_reg_write(smmu, SMMUV3_STRTAB_BASE_CFG, smmu->strtab.cfg_reg, 4);

	smmuv3_reg_write(smmu, SMMUV3_CMDQ_BASE, smmu->cmdq.q.base_reg, 8);
	smmuv3_reg_write(smmu, SMMUV3_CMDQ_PROD, 0, 4);
	smmuv3_reg_write(smmu, SMMUV3_CMDQ_CONS, 0, 4);
	/*
	 * With ATS, ATS Translated transactions must be checked against
	 * their STE's EATS (ATSCHK): with it clear, an SMMU lets them
	 * through from any stream.  It is set with the first enable, while
	 * SMMUEN is 0, so that the CFGI_ALL below follows its Update (IHI 0070
	 * 6.3.9.2) and every later CR0 write keeps it; RES0 without
	 * IDR0.ATS.
	 */
	enables = SMMUV3_CR0_CMDQEN;
	if (smmu->feat.flags & SMMUV3_FEAT_ATS)
		enables |= SMMUV3_CR0_ATSCHK;
	ret = smmuv3_write_ack(smmu, SMMUV3_CR0, SMMUV3_CR0ACK, enables);
	if (ret)
		return ret;

	/* Nothing cached from before us may survive. */
	ret = smmuv3_invalidate_all(smmu);
	if (ret)
		goto err_disable;

	smmuv3_reg_write(smmu, SMMUV3_EVTQ_BASE, smmu->evtq.base_reg, 8);
	smmuv3_reg_write(smmu, SMMUV3_PAGE1_OFFSET + SMMUV3_EVTQ_PROD, 0, 4);
	smmuv3_reg_write(smmu, SMMUV3_PAGE1_OFFSET + SMMUV3_EVTQ_CONS, 0, 4);
	enables |= SMMUV3_CR0_EVTQEN;
	ret = smmuv3_write_ack(smmu, SMMUV3_CR0, SMMUV3_CR0ACK, enables);
	if (ret)
		goto err_disable;

	ret = smmuv3_write_ack(smmu, SMMUV3_IRQ_CTRL, SMMUV3_IRQ_CTRLACK, 0);
	if (ret)
		goto err_disable;
	/* MSIs (msi.c) or wired interrupts. */
	ret = smmuv3_setup_irqs(smmu);
	if (ret)
		goto err_disable;
	ret = smmuv3_write_ack(smmu, SMMUV3_IRQ_CTRL, SMMUV3_IRQ_CTRLACK,
			       SMMUV3_IRQ_CTRL_GERROR | SMMUV3_IRQ_CTRL_EVTQ);
	if (ret)
		goto err_disable;

	enables |= SMMUV3_CR0_SMMUEN;
	ret = smmuv3_write_ack(smmu, SMMUV3_CR0, SMMUV3_CR0ACK, enables);
	if (ret)
		goto err_disable;
	return 0;

err_disable:
	smmuv3_disable(smmu);
	return ret;
}

/**
 * smmuv3_tables_enable() - make the stream table and enable the SMMU
 * @smmu: the instance, with its queues allocated
 *
 * The streams of IORT RMR nodes get bypass STEs before SMMUEN is set, so
 * that firmware-owned DMA (a framebuffer, a BMC) keeps working.
 *
 * Return: 0 or a negative errno.
 */
VISIBLE_IF_KUNIT int smmuv3_tables_enable(struct smmuv3_device *smmu)
{
	int ret = smmuv3_strtab_init(smmu);

	if (ret)
		return ret;
	ret = smmuv3_rmr_install(smmu);
	if (ret)
		return ret;
	return smmuv3_reset(smmu);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_tables_enable);

static bool smmuv3_capable(struct device *dev, enum iommu_cap cap)
{
	struct smmuv3_master *master = smmuv3_dev_master(dev);

	if (smmuv3_cap_is_pci_ats(cap))
		return master->ats_supported;
	switch (cap) {
	case IOMMU_CAP_CACHE_COHERENCY:
		return master->smmu->feat.flags & SMMUV3_FEAT_COHERENT;
	case IOMMU_CAP_NOEXEC:
	case IOMMU_CAP_DEFERRED_FLUSH:
		return true;
	case IOMMU_CAP_ENFORCE_CACHE_COHERENCY:
		/* Granted by smmuv3_enforce_cache_coherency() (domain.c). */
		return smmuv3_master_canwbs(master);
	default:
		return false;
	}
}

/*
 * Exported by the iommu core (drivers/iommu/dma-iommu.c) but declared only
 * in a header private to drivers/iommu, which header packages do not ship.
 */
void iommu_dma_get_resv_regions(struct device *dev, struct list_head *list);

/* The window where MSI doorbells are mapped in DMA domains. */
#define SMMUV3_MSI_IOVA_BASE	0x8000000
#define SMMUV3_MSI_IOVA_LENGTH	0x100000

static void smmuv3_get_resv_regions(struct device *dev, struct list_head *head)
{
	struct iommu_resv_region *msi;

	msi = iommu_alloc_resv_region(SMMUV3_MSI_IOVA_BASE,
				      SMMUV3_MSI_IOVA_LENGTH,
				      IOMMU_WRITE | IOMMU_NOEXEC | IOMMU_MMIO,
				      IOMMU_RESV_SW_MSI, GFP_KERNEL);
	if (!msi)
		return;
	list_add_tail(&msi->list, head);
	iommu_dma_get_resv_regions(dev, head);
}

const struct iommu_ops smmuv3_ops = {
	.identity_domain = &smmuv3_identity_domain,
	.blocked_domain = &smmuv3_blocked_domain,
	.release_domain = &smmuv3_blocked_domain,
	.capable = smmuv3_capable,
	/* What the kernel offers (include/smmuv3/compat.h). */
	SMMUV3_OPS_HW_INFO
	SMMUV3_OPS_DOMAIN_ALLOC
	SMMUV3_OPS_VIOMMU
	.user_pasid_table = 1,
	.get_resv_regions = smmuv3_get_resv_regions,
	.probe_device = smmuv3_probe_device,
	.release_device = smmuv3_release_device,
	.device_group = smmuv3_device_group,
	.def_domain_type = smmuv3_def_domain_type,
	.of_xlate = smmuv3_of_xlate,
	.owner = THIS_MODULE,
};
EXPORT_SYMBOL_IF_KUNIT(smmuv3_ops);

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

static void smmuv3_read_idregs(struct smmuv3_device *smmu)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(smmu->idregs.idr); i++)
		smmu->idregs.idr[i] = smmuv3_reg_read(smmu, SMMUV3_IDR0 + 4 * i);
	smmu->idregs.iidr = smmuv3_reg_read(smmu, SMMUV3_IIDR);
	smmu->idregs.aidr = smmuv3_reg_read(smmu, SMMUV3_AIDR);
}

/**
 * smmuv3_hw_probe() - identify an instance, set it up and enable it
 * @smmu: the instance, with its registers mapped, its interrupts found
 *	and the firmware's errata options applied
 * @fw_coherent: firmware describes the SMMU's table walks and queue
 *	accesses as cache-coherent (dev_is_dma_coherent())
 *
 * Reads the ID registers, applies the implementation's errata, allocates
 * the queues and the stream table and runs the reset sequence up to
 * SMMUEN.  Everything it allocates is device-managed.
 *
 * Return: 0 or a negative errno; the SMMU is then left disabled.
 */
VISIBLE_IF_KUNIT int smmuv3_hw_probe(struct smmuv3_device *smmu,
				     bool fw_coherent)
{
	struct device *dev = smmu->dev;
	char line[256];
	int ret;

	smmuv3_read_idregs(smmu);
	ret = smmuv3_decode_features(&smmu->idregs, fw_coherent, &smmu->feat);
	if (ret) {
		dev_err(dev, "unsupported SMMU (IDR0 %#x IDR1 %#x IDR5 %#x)\n",
			smmu->idregs.idr[0], smmu->idregs.idr[1],
			smmu->idregs.idr[5]);
		return ret;
	}
	smmuv3_errata_iidr(smmu);
	smmuv3_format_features(&smmu->feat, line, sizeof(line));
	dev_info(dev, "%s: %s\n", smmu->name, line);

	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(smmu->feat.oas));
	if (ret) {
		ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32));
		if (ret) {
			dev_err(dev, "no usable DMA mask\n");
			return ret;
		}
	}

	ret = smmuv3_cmdq_init(smmu);
	if (ret)
		return ret;
	ret = smmuv3_faults_init(smmu);
	if (ret)
		return ret;
	return smmuv3_tables_enable(smmu);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_hw_probe);

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
	smmuv3_disable(smmu);
err_id:
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
	iommu_device_sysfs_remove(&smmu->iommu);
	smmuv3_debugfs_remove(smmu);
	smmuv3_disable(smmu);
	smmuv3_tags_destroy(smmu);
	ida_free(&smmuv3_instance_ids, smmu->instance);
}

static void smmuv3_shutdown(struct platform_device *pdev)
{
	smmuv3_disable(platform_get_drvdata(pdev));
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
