// SPDX-License-Identifier: GPL-2.0-only
/*
 * Context descriptors: a master's CD table (one CD per substream, linear or
 * two-level), stage-1 CDs built from a domain's page table and a tag, and
 * their live updates.
 *
 * A master's table is allocated at its first stage-1 attach (of its RID or
 * of a PASID) and freed at release; the iommu core serialises a master's
 * attaches, so each CD has a single writer.  CD 0 belongs to the RID, CD n
 * to PASID n.  Level-2 leaves are allocated when a CD in their range is
 * first written, whatever its SSID, and live as long as the table.
 */
#include <linux/dma-mapping.h>
#include <linux/slab.h>
#include <kunit/visibility.h>

#include <smmuv3/smmuv3.h>

/* Leaves of 1024 CDs (64KiB), S1FMT = 64K_L2. */
#define SMMUV3_CD_SPLIT		10
#define SMMUV3_CD_L2_ENTRIES	BIT(SMMUV3_CD_SPLIT)
/* A linear table of at most 1024 CDs when two levels are unsupported. */
#define SMMUV3_CD_LINEAR_MAX_BITS 10

/**
 * smmuv3_cdtab_ssid_bits() - substream ID bits a master's table can cover
 * @smmu: the instance
 *
 * All of the instance's, except that a linear table is kept small.
 *
 * Return: the width, 0 without substreams.
 */
u8 smmuv3_cdtab_ssid_bits(const struct smmuv3_device *smmu)
{
	if (smmu->feat.flags & SMMUV3_FEAT_2LVL_CDTAB)
		return smmu->feat.ssid_bits;
	return min_t(u8, smmu->feat.ssid_bits, SMMUV3_CD_LINEAR_MAX_BITS);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_cdtab_ssid_bits);

/**
 * smmuv3_cdtab_alloc() - allocate a master's context descriptor table
 * @master: the master; 2^@ssid_bits CDs, at least 2 if it requires ATS
 *
 * Return: 0 or -ENOMEM.
 */
int smmuv3_cdtab_alloc(struct smmuv3_master *master)
{
	struct smmuv3_device *smmu = master->smmu;
	struct smmuv3_cdtab *tab;
	unsigned int bits = master->ssid_bits;
	size_t bytes;

	/*
	 * A device that requires ATS may need S1DSS bypass for its identity
	 * RID (ats.c), which S1CDMax 0 would make the SMMU ignore: at least
	 * two CDs, even without PASIDs.  CD 1 stays invalid.  Not beyond the
	 * instance's substreams: S1CDMax above SMMU_IDR1.SSIDSIZE makes the
	 * STE ILLEGAL (IHI 0070 5.2); such a device is refused at probe.
	 */
	if (master->ats_required && smmuv3_cdtab_ssid_bits(smmu))
		bits = max(bits, 1U);

	tab = kzalloc_obj(*tab, GFP_KERNEL);
	if (!tab)
		return -ENOMEM;

	if ((smmu->feat.flags & SMMUV3_FEAT_2LVL_CDTAB) &&
	    bits > SMMUV3_CD_SPLIT) {
		tab->two_level = true;
		tab->s1fmt = SMMUV3_S1FMT_64K_L2;
		tab->num = 1U << (bits - SMMUV3_CD_SPLIT);
		tab->l2 = kcalloc(tab->num, sizeof(*tab->l2), GFP_KERNEL);
		tab->l2_dma = kcalloc(tab->num, sizeof(*tab->l2_dma), GFP_KERNEL);
		if (!tab->l2 || !tab->l2_dma)
			goto err;
		bytes = tab->num * sizeof(u64);
	} else {
		bits = min(bits, SMMUV3_CD_LINEAR_MAX_BITS);
		tab->s1fmt = SMMUV3_S1FMT_LINEAR;
		tab->num = 1U << bits;
		bytes = tab->num * SMMUV3_CD_SIZE;
	}
	tab->s1cdmax = bits;
	tab->cds = dma_alloc_coherent(smmu->dev, bytes, &tab->dma, GFP_KERNEL);
	if (!tab->cds)
		goto err;
	master->cdtab = tab;
	return 0;

err:
	kfree(tab->l2);
	kfree(tab->l2_dma);
	kfree(tab);
	return -ENOMEM;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_cdtab_alloc);

/**
 * smmuv3_cdtab_free() - free a master's table
 * @master: the master; no STE points at the table any more
 */
void smmuv3_cdtab_free(struct smmuv3_master *master)
{
	struct smmuv3_cdtab *tab = master->cdtab;
	struct device *dev = master->smmu->dev;
	unsigned int i;

	if (!tab)
		return;
	if (tab->two_level) {
		for (i = 0; i < tab->num; i++)
			if (tab->l2[i])
				dma_free_coherent(dev, SMMUV3_CD_L2_ENTRIES * SMMUV3_CD_SIZE,
						  tab->l2[i], tab->l2_dma[i]);
		dma_free_coherent(dev, tab->num * sizeof(u64), tab->cds, tab->dma);
	} else {
		dma_free_coherent(dev, tab->num * SMMUV3_CD_SIZE, tab->cds, tab->dma);
	}
	kfree(tab->l2);
	kfree(tab->l2_dma);
	kfree(tab);
	master->cdtab = NULL;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_cdtab_free);

/*
 * Make the SMMU forget a CD of a master, through each of its streams, and
 * with !@leaf the level-1 descriptor that locates it; then wait.
 */
static void smmuv3_cd_invalidate(struct smmuv3_master *master, u32 ssid,
				 bool leaf)
{
	struct smmuv3_cmd_batch batch __uninitialized;
	struct smmuv3_cmd cmd = {
		.op = SMMUV3_OP_CFGI_CD,
		.cfgi = { .ssid = ssid, .leaf = leaf },
	};
	unsigned int i;

	int ret;

	smmuv3_batch_init(&batch, master->smmu);
	for (i = 0; i < master->num_streams; i++) {
		cmd.cfgi.sid = master->streams[i].sid;
		smmuv3_batch_add(&batch, &cmd);
	}
	if (!smmuv3_batch_submit(&batch))
		return;
	/*
	 * A CFGI_CD that did not run (an illegal command, replaced; a
	 * timeout) could leave the old CD cached: forget all the streams'
	 * CDs instead.  The command queue logged the first failure.
	 */
	cmd.op = SMMUV3_OP_CFGI_CD_ALL;
	for (i = 0; i < master->num_streams; i++) {
		cmd.cfgi.sid = master->streams[i].sid;
		smmuv3_batch_add(&batch, &cmd);
	}
	ret = smmuv3_batch_submit(&batch);
	if (ret)
		dev_err_ratelimited(master->dev,
				    "CD %u may be stale: configuration invalidation failed (%d)\n",
				    ssid, ret);
}

/**
 * smmuv3_cdtab_cd() - the CD of a substream, allocating its leaf if needed
 * @master: the master, with a table
 * @ssid: the substream; must be below 2^S1CDMAX
 *
 * Return: the CD, or NULL if a leaf could not be allocated.
 */
__le64 *smmuv3_cdtab_cd(struct smmuv3_master *master, u32 ssid)
{
	struct smmuv3_cdtab *tab = master->cdtab;
	unsigned int idx = ssid >> SMMUV3_CD_SPLIT;

	if (!tab->two_level)
		return tab->cds + ssid * SMMUV3_CD_QWORDS;

	if (!tab->l2[idx]) {
		tab->l2[idx] = dma_alloc_coherent(master->smmu->dev,
						  SMMUV3_CD_L2_ENTRIES * SMMUV3_CD_SIZE,
						  &tab->l2_dma[idx], GFP_KERNEL);
		if (!tab->l2[idx])
			return NULL;
		/* The zeroed leaf is visible before the descriptor. */
		dma_wmb();
		WRITE_ONCE(tab->cds[idx],
			   cpu_to_le64(SMMUV3_L1CD_V |
				       (tab->l2_dma[idx] & SMMUV3_L1CD_L2PTR)));
		/*
		 * The SMMU may have cached the descriptor while it was
		 * invalid: a non-leaf CFGI_CD of any SSID in its span drops it.
		 */
		smmuv3_cd_invalidate(master, ssid, false);
	}
	return tab->l2[idx] + (ssid & (SMMUV3_CD_L2_ENTRIES - 1)) *
			      SMMUV3_CD_QWORDS;
}

/**
 * smmuv3_cd_get_used() - the bits of a CD the SMMU interprets
 * @cd: the CD
 * @used: SMMUV3_CD_QWORDS words of result
 *
 * An invalid CD uses only V.  A valid one (IHI 0070 5.4) uses every field
 * of word 0, MAIR (word 3) and AMAIR (word 4), except that EPD0 disables
 * walks of TTB0, making T0SZ, TG0, IR0, OR0, SH0 and TTB0 IGNORED, and EPD1
 * likewise T1SZ, TG1, IR1, OR1, SH1 and TTB1.  Fields this driver never
 * sets (NSCFGx, HADx, HAFT, HWU bits, the MPAM and IMPLEMENTATION DEFINED
 * words) are left out: they are 0 in every CD it writes.
 */
void smmuv3_cd_get_used(const __le64 *cd, __le64 *used)
{
	u64 w0 = le64_to_cpu(cd[0]);
	u64 u0;

	memset(used, 0, SMMUV3_CD_SIZE);
	used[0] = cpu_to_le64(SMMUV3_CD0_V);
	if (!(w0 & SMMUV3_CD0_V))
		return;
	u0 = SMMUV3_CD0_EPD0 | SMMUV3_CD0_ENDI | SMMUV3_CD0_EPD1 |
	     SMMUV3_CD0_V | SMMUV3_CD0_IPS | SMMUV3_CD0_AFFD |
	     SMMUV3_CD0_WXN | SMMUV3_CD0_UWXN | SMMUV3_CD0_TBI0 |
	     SMMUV3_CD0_TBI1 | SMMUV3_CD0_PAN | SMMUV3_CD0_AA64 |
	     SMMUV3_CD0_HD | SMMUV3_CD0_HA | SMMUV3_CD0_S | SMMUV3_CD0_R |
	     SMMUV3_CD0_A | SMMUV3_CD0_ASET | SMMUV3_CD0_ASID;
	if (!(w0 & SMMUV3_CD0_EPD0)) {
		u0 |= SMMUV3_CD0_T0SZ | SMMUV3_CD0_TG0 | SMMUV3_CD0_IRGN0 |
		      SMMUV3_CD0_ORGN0 | SMMUV3_CD0_SH0;
		used[1] = cpu_to_le64(SMMUV3_CD1_TTB0);
	}
	if (!(w0 & SMMUV3_CD0_EPD1)) {
		u0 |= SMMUV3_CD0_T1SZ | SMMUV3_CD0_TG1 | SMMUV3_CD0_IRGN1 |
		      SMMUV3_CD0_ORGN1 | SMMUV3_CD0_SH1;
		used[2] = cpu_to_le64(SMMUV3_CD2_TTB1);
	}
	used[0] = cpu_to_le64(u0);
	used[3] = cpu_to_le64(SMMUV3_CD3_MAIR);
	used[4] = cpu_to_le64(SMMUV3_CD4_AMAIR);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_cd_get_used);

/**
 * smmuv3_cd_make_s1() - a CD translating through a stage-1 domain
 * @cd: SMMUV3_CD_QWORDS words of result
 * @domain: a stage-1 paging domain
 * @asid: the domain's tag on the instance
 */
void smmuv3_cd_make_s1(__le64 *cd, const struct smmuv3_domain *domain,
		       u16 asid)
{
	const struct io_pgtable_cfg *cfg = &domain->pgtbl_cfg;
	typeof(cfg->arm_lpae_s1_cfg.tcr) *tcr = &cfg->arm_lpae_s1_cfg.tcr;

	memset(cd, 0, SMMUV3_CD_SIZE);
	cd[0] = cpu_to_le64(FIELD_PREP(SMMUV3_CD0_T0SZ, tcr->tsz) |
			    FIELD_PREP(SMMUV3_CD0_TG0, tcr->tg) |
			    FIELD_PREP(SMMUV3_CD0_IRGN0, tcr->irgn) |
			    FIELD_PREP(SMMUV3_CD0_ORGN0, tcr->orgn) |
			    FIELD_PREP(SMMUV3_CD0_SH0, tcr->sh) |
			    FIELD_PREP(SMMUV3_CD0_IPS, tcr->ips) |
			    SMMUV3_CD0_EPD1 | SMMUV3_CD0_V |
			    SMMUV3_CD0_AA64 | SMMUV3_CD0_R | SMMUV3_CD0_A |
			    SMMUV3_CD0_ASET |
			    FIELD_PREP(SMMUV3_CD0_ASID, asid));
	if (cfg->quirks & IO_PGTABLE_QUIRK_ARM_HD)
		cd[0] |= cpu_to_le64(SMMUV3_CD0_HA | SMMUV3_CD0_HD);
	/* io-pgtable writes the descriptors in the CPU's order. */
	if (IS_ENABLED(CONFIG_CPU_BIG_ENDIAN))
		cd[0] |= cpu_to_le64(SMMUV3_CD0_ENDI);
	cd[1] = cpu_to_le64(cfg->arm_lpae_s1_cfg.ttbr & SMMUV3_CD1_TTB0);
	cd[3] = cpu_to_le64(cfg->arm_lpae_s1_cfg.mair);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_cd_make_s1);

/* One CD update on every stream of a master: CFGI_CD each, one CMD_SYNC. */
struct smmuv3_cd_writer {
	struct smmuv3_entry_writer writer;
	struct smmuv3_master *master;
	u32 ssid;
};

static void smmuv3_cd_writer_sync(struct smmuv3_entry_writer *writer)
{
	struct smmuv3_cd_writer *w =
		container_of(writer, struct smmuv3_cd_writer, writer);

	smmuv3_cd_invalidate(w->master, w->ssid, true);
}

static const struct smmuv3_entry_writer_ops smmuv3_cd_writer_ops = {
	.get_used = smmuv3_cd_get_used,
	.sync = smmuv3_cd_writer_sync,
	.v_bit = SMMUV3_CD0_V,
};

/**
 * smmuv3_write_cd() - update a live CD of a master
 * @master: the master, with a table
 * @ssid: the substream
 * @target: the new CD
 *
 * Return: 0, or -ENOMEM if the substream's leaf could not be allocated.
 */
int smmuv3_write_cd(struct smmuv3_master *master, u32 ssid,
		    const __le64 *target)
{
	struct smmuv3_cd_writer w = {
		.writer = {
			.ops = &smmuv3_cd_writer_ops,
			.num_qwords = SMMUV3_CD_QWORDS,
		},
		.master = master,
		.ssid = ssid,
	};
	__le64 *cd = smmuv3_cdtab_cd(master, ssid);

	if (!cd)
		return -ENOMEM;
	smmuv3_entry_update(&w.writer, cd, target);
	return 0;
}
