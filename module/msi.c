// SPDX-License-Identifier: GPL-2.0-only
/*
 * Message-signalled interrupts of an instance: the event queue, global
 * errors and (allocated, unused: this driver has no PRI queue) the PRI
 * queue, when the SMMU has IDR0.MSI and firmware gives the device an MSI
 * domain (IORT ITS mapping, DT msi-parent).  The SMMU then writes the
 * message's data to the message's address: SMMU_<q>_IRQ_CFG0 holds the
 * address, CFG1 the data, CFG2 the memory attributes of the write.
 *
 * Otherwise wired interrupts are used, as firmware gives them (faults.c).
 * CMD_SYNC completion is always polled: the command queue's MSI stays off.
 *
 * The MSIs are device-managed: they are freed, and the CFG registers
 * cleared, when the instance goes away, after the interrupt handlers.
 */
#include <linux/device.h>
#include <linux/irqdomain.h>
#include <linux/msi.h>
#include <kunit/static_stub.h>
#include <kunit/visibility.h>

#include <smmuv3/smmuv3.h>

/* MSI indexes, in the order they are allocated. */
enum {
	SMMUV3_MSI_EVTQ,
	SMMUV3_MSI_GERROR,
	SMMUV3_MSI_PRIQ,
	SMMUV3_NUM_MSIS,
};

/* SMMU_<q>_IRQ_CFG0 of each index; CFG1 is at +8, CFG2 at +12. */
static const u32 smmuv3_msi_cfg0[SMMUV3_NUM_MSIS] = {
	[SMMUV3_MSI_EVTQ] = SMMUV3_EVTQ_IRQ_CFG0,
	[SMMUV3_MSI_GERROR] = SMMUV3_GERROR_IRQ_CFG0,
	[SMMUV3_MSI_PRIQ] = SMMUV3_PRIQ_IRQ_CFG0,
};

static const u32 smmuv3_msi_cfg1[SMMUV3_NUM_MSIS] = {
	[SMMUV3_MSI_EVTQ] = SMMUV3_EVTQ_IRQ_CFG1,
	[SMMUV3_MSI_GERROR] = SMMUV3_GERROR_IRQ_CFG1,
	[SMMUV3_MSI_PRIQ] = SMMUV3_PRIQ_IRQ_CFG1,
};

static const u32 smmuv3_msi_cfg2[SMMUV3_NUM_MSIS] = {
	[SMMUV3_MSI_EVTQ] = SMMUV3_EVTQ_IRQ_CFG2,
	[SMMUV3_MSI_GERROR] = SMMUV3_GERROR_IRQ_CFG2,
	[SMMUV3_MSI_PRIQ] = SMMUV3_PRIQ_IRQ_CFG2,
};

/**
 * smmuv3_msi_write() - program one MSI from its composed message
 * @smmu: the instance
 * @index: SMMUV3_MSI_*
 * @msg: the message (an address of 0 turns the MSI off)
 *
 * Called by the MSI core whenever the message changes.  The doorbell is a
 * device register: Device-nGnRE.
 *
 * The SMMU may ignore these registers while the interrupt is enabled in
 * IRQ_CTRL (IHI 0070, SMMU_EVENTQ_IRQ_CFG0 and its siblings), so they are
 * written only with IRQ_CTRL 0: the MSI core writes the message when the
 * interrupts are allocated and requested, in smmuv3_msi_setup() and
 * smmuv3_setup_irqs(), which run with IRQ_CTRL 0.  A later affinity change
 * does not write it: the GICv3 ITS and GICv2m move an interrupt without
 * changing its message (their set_affinity returns IRQ_SET_MASK_OK_DONE).
 */
VISIBLE_IF_KUNIT void smmuv3_msi_write(struct smmuv3_device *smmu,
				       unsigned int index,
				       const struct msi_msg *msg)
{
	u64 addr = ((u64)msg->address_hi << 32) | msg->address_lo;

	if (index >= SMMUV3_NUM_MSIS)
		return;
	smmuv3_reg_write(smmu, smmuv3_msi_cfg0[index],
			 addr & SMMUV3_MSI_CFG0_ADDR, 8);
	smmuv3_reg_write(smmu, smmuv3_msi_cfg1[index], msg->data, 4);
	smmuv3_reg_write(smmu, smmuv3_msi_cfg2[index],
			 FIELD_PREP(SMMUV3_MSI_CFG2_MEMATTR,
				    SMMUV3_MEMATTR_DEVICE_NGNRE), 4);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_msi_write);

static void smmuv3_msi_write_msg(struct msi_desc *desc, struct msi_msg *msg)
{
	struct device *dev = msi_desc_to_dev(desc);

	smmuv3_msi_write(dev_get_drvdata(dev), desc->msi_index, msg);
}

static void smmuv3_msi_clear(struct smmuv3_device *smmu)
{
	int i;

	for (i = 0; i < SMMUV3_NUM_MSIS; i++)
		smmuv3_reg_write(smmu, smmuv3_msi_cfg0[i], 0, 8);
}

/*
 * Allocate the MSIs and find their Linux interrupt numbers.  The fake SMMU
 * of the KUnit suites replaces this and smmuv3_msi_free() (static stubs).
 */
VISIBLE_IF_KUNIT int smmuv3_msi_alloc(struct smmuv3_device *smmu, int *virqs)
{
	int i, ret;

	KUNIT_STATIC_STUB_REDIRECT(smmuv3_msi_alloc, smmu, virqs);
	ret = platform_device_msi_init_and_alloc_irqs(smmu->dev,
						      SMMUV3_NUM_MSIS,
						      smmuv3_msi_write_msg);
	if (ret)
		return ret;
	for (i = 0; i < SMMUV3_NUM_MSIS; i++)
		virqs[i] = msi_get_virq(smmu->dev, i);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_msi_alloc);

VISIBLE_IF_KUNIT void smmuv3_msi_free(struct smmuv3_device *smmu)
{
	KUNIT_STATIC_STUB_REDIRECT(smmuv3_msi_free, smmu);
	platform_device_msi_free_irqs_all(smmu->dev);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_msi_free);

/* devres: after the handlers are freed, the SMMU stops signalling. */
static void smmuv3_msi_teardown(void *data)
{
	struct smmuv3_device *smmu = data;

	smmuv3_msi_free(smmu);
	smmuv3_msi_clear(smmu);
}

/**
 * smmuv3_msi_setup() - use MSIs for the event queue and global errors
 * @smmu: the instance, its interrupts disabled (IRQ_CTRL 0)
 *
 * On success smmuv3_device.irq_evtq and irq_gerror are the MSIs (and a
 * wired combined interrupt is not used); otherwise they are left as
 * firmware gave them.  Never fails: without MSIs the wired interrupts are
 * used, and without those either the instance still translates (see
 * smmuv3_setup_irqs()).
 */
void smmuv3_msi_setup(struct smmuv3_device *smmu)
{
	struct device *dev = smmu->dev;
	int virqs[SMMUV3_NUM_MSIS] = {};
	int ret;

	if (!(smmu->feat.flags & SMMUV3_FEAT_MSI))
		return;
	/* No MSI is sent before a message is programmed. */
	smmuv3_msi_clear(smmu);
	if (!dev_get_msi_domain(dev)) {
		dev_info(dev, "no MSI domain: wired interrupts\n");
		return;
	}
	ret = smmuv3_msi_alloc(smmu, virqs);
	if (ret) {
		dev_warn(dev, "cannot allocate MSIs (%d): wired interrupts\n",
			 ret);
		return;
	}
	ret = devm_add_action_or_reset(dev, smmuv3_msi_teardown, smmu);
	if (ret) {
		dev_warn(dev, "cannot track MSIs (%d): wired interrupts\n", ret);
		return;
	}
	if (virqs[SMMUV3_MSI_EVTQ] <= 0 || virqs[SMMUV3_MSI_GERROR] <= 0) {
		dev_warn(dev, "MSIs without interrupt numbers: wired interrupts\n");
		smmuv3_msi_clear(smmu);
		return;
	}
	smmu->irq_evtq = virqs[SMMUV3_MSI_EVTQ];
	smmu->irq_gerror = virqs[SMMUV3_MSI_GERROR];
	smmu->irq_combined = 0;
	dev_info(dev, "event queue and global errors signalled by MSI\n");
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_msi_setup);
