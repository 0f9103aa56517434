// SPDX-License-Identifier: GPL-2.0-only
/*
 * The hardware of an SMMUv3 instance: register access, identification,
 * the reset sequence up to SMMUEN, and disabling it again.
 *
 * The instance's lifetime (platform probe, removal, references) is in
 * instance.c, which calls smmuv3_hw_probe() and smmuv3_disable().
 */
#include <linux/crash_dump.h>
#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/iopoll.h>
#include <kunit/static_stub.h>
#include <kunit/visibility.h>

#include <smmuv3/smmuv3.h>

/* Register acknowledgments: generous, as QEMU under TCG can be slow. */
#define SMMUV3_ACK_TIMEOUT_US	(100 * USEC_PER_MSEC)

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
void smmuv3_disable(struct smmuv3_device *smmu)
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

	/*
	 * In a kdump kernel devices of the crashed kernel may still do DMA
	 * and hit aborting STEs: their events would only flood the log.
	 */
	if (is_kdump_kernel())
		enables &= ~SMMUV3_CR0_EVTQEN;
	enables |= SMMUV3_CR0_SMMUEN;
	ret = smmuv3_write_ack(smmu, SMMUV3_CR0, SMMUV3_CR0ACK, enables);
	if (ret)
		goto err_disable;
	return 0;

err_disable:
	/* The interrupts may have queued it: while commands still work. */
	smmuv3_stall_stop(smmu);
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
int smmuv3_hw_probe(struct smmuv3_device *smmu, bool fw_coherent)
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
