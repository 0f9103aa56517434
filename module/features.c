// SPDX-License-Identifier: GPL-2.0-only
/*
 * Decoding the ID registers of an SMMUv3 instance into a feature set.
 *
 * Pure functions of the register values: no MMIO, no allocation, so they can
 * be tested against hand-composed register values.
 */
#include <linux/kernel.h>
#include <linux/sizes.h>
#include <kunit/visibility.h>

#include <smmuv3/smmuv3.h>

/* The spec allows queues of at most 2^19 entries. */
#define SMMUV3_MAX_QUEUE_LOG2	19
#define SMMUV3_MAX_SID_BITS	32
#define SMMUV3_MAX_SSID_BITS	20

static const u8 smmuv3_oas_bits[] = {
	[SMMUV3_ADDR_SIZE_32] = 32,
	[SMMUV3_ADDR_SIZE_36] = 36,
	[SMMUV3_ADDR_SIZE_40] = 40,
	[SMMUV3_ADDR_SIZE_42] = 42,
	[SMMUV3_ADDR_SIZE_44] = 44,
	[SMMUV3_ADDR_SIZE_48] = 48,
	[SMMUV3_ADDR_SIZE_52] = 52,
};

/**
 * smmuv3_oas_to_bits() - address size encoding to a number of bits
 * @field: an IDR5.OAS / STE.S2PS / CD.IPS encoding
 *
 * Return: the number of address bits, or 0 for a reserved encoding.
 */
unsigned int smmuv3_oas_to_bits(unsigned int field)
{
	return field < ARRAY_SIZE(smmuv3_oas_bits) ? smmuv3_oas_bits[field] : 0;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_oas_to_bits);

static int smmuv3_decode_idr0(u32 idr0, bool fw_coherent,
			      struct smmuv3_features *feat)
{
	u32 ttf = FIELD_GET(SMMUV3_IDR0_TTF, idr0);

	if (idr0 & SMMUV3_IDR0_S1P)
		feat->flags |= SMMUV3_FEAT_S1;
	if (idr0 & SMMUV3_IDR0_S2P)
		feat->flags |= SMMUV3_FEAT_S2;
	if (!(feat->flags & (SMMUV3_FEAT_S1 | SMMUV3_FEAT_S2)))
		return -ENODEV;

	if (ttf != SMMUV3_TTF_AARCH64 && ttf != SMMUV3_TTF_AARCH32_64)
		return -ENODEV;

	/*
	 * The DMA API maps the tables and queues as firmware describes the
	 * SMMU, so table walks and queue accesses must match it (as in the
	 * kernel's driver); IDR0.COHACC disagreeing is a firmware or
	 * integration problem worth a warning.
	 */
	if (fw_coherent)
		feat->flags |= SMMUV3_FEAT_COHERENT;
	if (!!(idr0 & SMMUV3_IDR0_COHACC) != fw_coherent)
		pr_warn("smmuv3: IDR0.COHACC is %u but firmware describes the SMMU as %scoherent: following the firmware\n",
			!!(idr0 & SMMUV3_IDR0_COHACC), fw_coherent ? "" : "non-");
	if (FIELD_GET(SMMUV3_IDR0_ST_LVL, idr0) == SMMUV3_ST_LVL_2LVL)
		feat->flags |= SMMUV3_FEAT_2LVL_STRTAB;
	if (idr0 & SMMUV3_IDR0_CD2L)
		feat->flags |= SMMUV3_FEAT_2LVL_CDTAB;
	if (idr0 & SMMUV3_IDR0_ATS)
		feat->flags |= SMMUV3_FEAT_ATS;
	if (idr0 & SMMUV3_IDR0_PRI)
		feat->flags |= SMMUV3_FEAT_PRI;
	if (idr0 & SMMUV3_IDR0_MSI)
		feat->flags |= SMMUV3_FEAT_MSI;
	if (idr0 & SMMUV3_IDR0_SEV)
		feat->flags |= SMMUV3_FEAT_SEV;
	if (idr0 & SMMUV3_IDR0_HYP)
		feat->flags |= SMMUV3_FEAT_HYP;
	if (idr0 & SMMUV3_IDR0_BTM)
		feat->flags |= SMMUV3_FEAT_BTM;

	/* HTTU: 1 access flag, 2 and dirty state, 3 and HAFT (SMMUv3.5) */
	switch (FIELD_GET(SMMUV3_IDR0_HTTU, idr0)) {
	case 3:
	case 2:
		feat->flags |= SMMUV3_FEAT_HD;
		fallthrough;
	case 1:
		feat->flags |= SMMUV3_FEAT_HA;
		break;
	}

	switch (FIELD_GET(SMMUV3_IDR0_TTENDIAN, idr0)) {
	case SMMUV3_TTENDIAN_MIXED:
		feat->flags |= SMMUV3_FEAT_TT_LE | SMMUV3_FEAT_TT_BE;
		break;
	case SMMUV3_TTENDIAN_LE:
		feat->flags |= SMMUV3_FEAT_TT_LE;
		break;
	case SMMUV3_TTENDIAN_BE:
		feat->flags |= SMMUV3_FEAT_TT_BE;
		break;
	default:
		return -ENODEV;
	}
	if (!(feat->flags & (IS_ENABLED(CONFIG_CPU_BIG_ENDIAN) ?
			     SMMUV3_FEAT_TT_BE : SMMUV3_FEAT_TT_LE)))
		return -ENODEV;

	switch (FIELD_GET(SMMUV3_IDR0_STALL_MODEL, idr0)) {
	case SMMUV3_STALL_MODEL_FORCE:
		feat->flags |= SMMUV3_FEAT_STALL_FORCE;
		fallthrough;
	case SMMUV3_STALL_MODEL_BOTH:
		feat->flags |= SMMUV3_FEAT_STALLS;
		break;
	case SMMUV3_STALL_MODEL_TERM:
		break;
	default:
		return -ENODEV;
	}

	feat->asid_bits = (idr0 & SMMUV3_IDR0_ASID16) ? 16 : 8;
	feat->vmid_bits = (idr0 & SMMUV3_IDR0_VMID16) ? 16 : 8;
	return 0;
}

static int smmuv3_decode_idr1(u32 idr1, struct smmuv3_features *feat)
{
	/* Fixed tables or queues would mean the firmware owns them. */
	if (idr1 & (SMMUV3_IDR1_TABLES_PRESET | SMMUV3_IDR1_QUEUES_PRESET))
		return -ENODEV;

	feat->sid_bits = FIELD_GET(SMMUV3_IDR1_SIDSIZE, idr1);
	feat->ssid_bits = FIELD_GET(SMMUV3_IDR1_SSIDSIZE, idr1);
	feat->cmdq_log2 = FIELD_GET(SMMUV3_IDR1_CMDQS, idr1);
	feat->evtq_log2 = FIELD_GET(SMMUV3_IDR1_EVTQS, idr1);
	feat->priq_log2 = FIELD_GET(SMMUV3_IDR1_PRIQS, idr1);
	/* STE.SHCFG exists only with it (IHI 0070 5.2). */
	if (idr1 & SMMUV3_IDR1_ATTR_TYPES_OVR)
		feat->flags |= SMMUV3_FEAT_ATTR_TYPES_OVR;

	if (feat->sid_bits > SMMUV3_MAX_SID_BITS ||
	    feat->ssid_bits > SMMUV3_MAX_SSID_BITS ||
	    feat->cmdq_log2 > SMMUV3_MAX_QUEUE_LOG2 ||
	    feat->evtq_log2 > SMMUV3_MAX_QUEUE_LOG2 ||
	    feat->priq_log2 > SMMUV3_MAX_QUEUE_LOG2)
		return -ENODEV;
	return 0;
}

static int smmuv3_decode_idr5(u32 idr5, struct smmuv3_features *feat)
{
	u32 oas = FIELD_GET(SMMUV3_IDR5_OAS, idr5);

	feat->oas = smmuv3_oas_to_bits(oas);
	if (!feat->oas) {
		/*
		 * 0b111 is 56 bits (SMMUv3.4 and later), more than the page
		 * tables can hold; the SMMU handles any smaller address.
		 */
		pr_info("smmuv3: IDR5.OAS %#x: output addresses limited to 52 bits\n",
			oas);
		feat->oas = 52;
	}
	feat->ias = feat->oas;

	if (FIELD_GET(SMMUV3_IDR5_VAX, idr5) == SMMUV3_VAX_52)
		feat->flags |= SMMUV3_FEAT_VAX52;

	if (idr5 & SMMUV3_IDR5_GRAN4K)
		feat->pgsize_bitmap |= SZ_4K | SZ_2M | SZ_1G;
	if (idr5 & SMMUV3_IDR5_GRAN16K)
		feat->pgsize_bitmap |= SZ_16K | SZ_32M;
	if (idr5 & SMMUV3_IDR5_GRAN64K)
		feat->pgsize_bitmap |= SZ_64K | SZ_512M;
	if (!feat->pgsize_bitmap)
		return -ENODEV;
	return 0;
}

/**
 * smmuv3_decode_features() - decode the ID registers of an instance
 * @regs: the raw registers
 * @fw_coherent: firmware describes the instance as DMA-coherent: decides
 *	SMMUV3_FEAT_COHERENT, whatever IDR0.COHACC says
 * @feat: result
 *
 * Return: 0, or -ENODEV if this driver cannot use the instance.
 */
int smmuv3_decode_features(const struct smmuv3_idregs *regs, bool fw_coherent,
			   struct smmuv3_features *feat)
{
	u32 idr3 = regs->idr[3];
	int ret;

	memset(feat, 0, sizeof(*feat));

	ret = smmuv3_decode_idr0(regs->idr[0], fw_coherent, feat);
	if (ret)
		return ret;
	ret = smmuv3_decode_idr1(regs->idr[1], feat);
	if (ret)
		return ret;

	if (idr3 & SMMUV3_IDR3_RIL)
		feat->flags |= SMMUV3_FEAT_RANGE_INV;
	if (idr3 & SMMUV3_IDR3_FWB)
		feat->flags |= SMMUV3_FEAT_S2FWB;
	feat->bbml = FIELD_GET(SMMUV3_IDR3_BBML, idr3);

	ret = smmuv3_decode_idr5(regs->idr[5], feat);
	if (ret)
		return ret;

	feat->arch_minor = FIELD_GET(SMMUV3_AIDR_MINOR, regs->aidr);
	feat->iidr = regs->iidr;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_decode_features);

static const struct {
	u32 flag;
	const char *name;
} smmuv3_feature_names[] = {
	{ SMMUV3_FEAT_S1, "s1" },
	{ SMMUV3_FEAT_S2, "s2" },
	{ SMMUV3_FEAT_COHERENT, "coherent" },
	{ SMMUV3_FEAT_2LVL_STRTAB, "2lvl-strtab" },
	{ SMMUV3_FEAT_2LVL_CDTAB, "2lvl-cdtab" },
	{ SMMUV3_FEAT_ATS, "ats" },
	{ SMMUV3_FEAT_PRI, "pri" },
	{ SMMUV3_FEAT_MSI, "msi" },
	{ SMMUV3_FEAT_SEV, "sev" },
	{ SMMUV3_FEAT_HYP, "hyp" },
	{ SMMUV3_FEAT_BTM, "btm" },
	{ SMMUV3_FEAT_RANGE_INV, "range-inv" },
	{ SMMUV3_FEAT_S2FWB, "s2fwb" },
	{ SMMUV3_FEAT_STALLS, "stalls" },
	{ SMMUV3_FEAT_STALL_FORCE, "stall-force" },
	{ SMMUV3_FEAT_HA, "ha" },
	{ SMMUV3_FEAT_HD, "hd" },
	{ SMMUV3_FEAT_VAX52, "va52" },
};

/**
 * smmuv3_format_features() - one-line description of a feature set
 * @feat: the features
 * @buf: output buffer
 * @len: size of @buf
 *
 * Return: as snprintf(): the length the full line would have.
 */
int smmuv3_format_features(const struct smmuv3_features *feat, char *buf,
			   size_t len)
{
	size_t n;
	int i;

	n = snprintf(buf, len, "SMMUv3.%u", feat->arch_minor);
	for (i = 0; i < ARRAY_SIZE(smmuv3_feature_names); i++)
		if (feat->flags & smmuv3_feature_names[i].flag)
			n += snprintf(buf + min(n, len), len - min(n, len),
				      " %s", smmuv3_feature_names[i].name);
	n += snprintf(buf + min(n, len), len - min(n, len),
		      " sid=%u ssid=%u asid=%u vmid=%u oas=%u pgsize=%#lx cmdq=%u evtq=%u priq=%u bbml=%u iidr=%#x",
		      feat->sid_bits, feat->ssid_bits, feat->asid_bits,
		      feat->vmid_bits, feat->oas, feat->pgsize_bitmap,
		      feat->cmdq_log2, feat->evtq_log2, feat->priq_log2,
		      feat->bbml, feat->iidr);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_format_features);
