// SPDX-License-Identifier: GPL-2.0-only
/*
 * Implementation errata and options: one table from what identifies an
 * implementation (SMMU_IIDR, the IORT SMMUv3 node's model field, or a
 * device-tree property) to features to drop and options to set.
 *
 * Firmware entries are looked up before the registers are mapped (a
 * page-0-only implementation has no register page 1 to map), IIDR entries
 * once the ID registers are read.  Each entry that applies is logged once,
 * at probe.  Where each option takes effect:
 *
 *  - SMMUV3_OPT_PAGE0_ONLY: smmuv3_map_registers() maps one page and
 *    points register page 1 at page 0;
 *  - SMMUV3_OPT_SKIP_PREFETCH: the driver never issues CMD_PREFETCH_CFG,
 *    which is what the option forbids, so nothing more to do;
 *  - SMMUV3_OPT_CMDQ_FORCE_SYNC: batches of commands end with a CMD_SYNC
 *    after at most 63 commands (smmuv3_batch_add());
 *  - SMMUV3_OPT_NO_NESTING: no nesting parents or vIOMMUs
 *    (smmuv3_can_nest());
 *  - SMMUV3_OPT_REPEAT_CFGI_TLBI: every run of configuration or TLB
 *    invalidations is issued with a CMD_SYNC, waited for, and issued once
 *    more (smmuv3_cmdq_submit_synced()); ATC invalidations are not.
 */
#include <linux/acpi.h>
#include <linux/device.h>
#include <linux/of.h>
#include <linux/platform_device.h>
#include <kunit/visibility.h>

#include <smmuv3/smmuv3.h>

/* SMMU_IIDR values of the implementations the table knows. */
#define SMMUV3_IMPL_ARM			0x43b
#define SMMUV3_PROD_MMU_600		0x483
#define SMMUV3_PROD_MMU_700		0x487
#define SMMUV3_PROD_MMU_L1		0x48a
#define SMMUV3_PROD_MMU_S3		0x498

/* The IORT SMMUv3 node's model field (ACPI_IORT_SMMU_V3_*). */
#define SMMUV3_IORT_MODEL_HI161X	1
#define SMMUV3_IORT_MODEL_CN99XX	2

/**
 * struct smmuv3_erratum - one entry of the table
 * @what: the log line's text
 * @implementer: SMMU_IIDR.Implementer to match (0: not an IIDR entry)
 * @product: SMMU_IIDR.ProductID to match
 * @match: further condition on (variant, revision), or NULL for any
 * @iort_model: the IORT model to match (0: not a model entry)
 * @dt_prop: the device-tree property to match (NULL: not a DT entry)
 * @dt_compat: the device-tree compatible string to match (NULL: not a DT
 *	compatible entry)
 * @clear_feat: SMMUV3_FEAT_* the implementation must not use
 * @options: SMMUV3_OPT_* it needs
 */
struct smmuv3_erratum {
	const char *what;
	u16 implementer;
	u16 product;
	bool (*match)(u8 variant, u8 revision);
	u32 iort_model;
	const char *dt_prop;
	const char *dt_compat;
	u32 clear_feat;
	u32 options;
};

/* MMU-600 r0p0 to r0p2 */
static bool smmuv3_r0p2_or_older(u8 variant, u8 revision)
{
	return variant == 0 && revision <= 2;
}

/* MMU-600 r0 and r1 */
static bool smmuv3_before_r2(u8 variant, u8 revision)
{
	return variant < 2;
}

/* MMU-700: every r0 and every p0 release */
static bool smmuv3_r0_or_p0(u8 variant, u8 revision)
{
	return variant < 1 || revision < 1;
}

/*
 * One initializer per kind of match (Arm IIDR, IORT model, DT property),
 * the log line last.
 */
#define SMMUV3_ERR_ARM(_product, _match, _clear_feat, _options, _what) \
	{ .what = (_what), .implementer = SMMUV3_IMPL_ARM,		\
	  .product = (_product), .match = (_match),			\
	  .clear_feat = (_clear_feat), .options = (_options) }
#define SMMUV3_ERR_IORT(_model, _options, _what)			\
	{ .what = (_what), .iort_model = (_model), .options = (_options) }
#define SMMUV3_ERR_DT(_prop, _options, _what)				\
	{ .what = (_what), .dt_prop = (_prop), .options = (_options) }
#define SMMUV3_ERR_DT_COMPAT(_compat, _options, _what)			\
	{ .what = (_what), .dt_compat = (_compat), .options = (_options) }

static const struct smmuv3_erratum smmuv3_errata[] = {
	SMMUV3_ERR_ARM(SMMUV3_PROD_MMU_600, smmuv3_r0p2_or_older, SMMUV3_FEAT_SEV, 0,
		       "MMU-600 r0p0-r0p2: Arm erratum 1076982, no SEV"),
	SMMUV3_ERR_ARM(SMMUV3_PROD_MMU_600, smmuv3_before_r2, 0, SMMUV3_OPT_NO_NESTING,
		       "MMU-600 before r2: Arm erratum 1209401, no nesting"),
	SMMUV3_ERR_ARM(SMMUV3_PROD_MMU_700, NULL, SMMUV3_FEAT_BTM, 0,
		       "MMU-700: no BTM"),
	SMMUV3_ERR_ARM(SMMUV3_PROD_MMU_700, smmuv3_r0_or_p0, 0,
		       SMMUV3_OPT_CMDQ_FORCE_SYNC | SMMUV3_OPT_NO_NESTING,
		       "MMU-700 r0/p0: Arm errata 2268618, 2812531: forced CMD_SYNC, no nesting"),
	SMMUV3_ERR_ARM(SMMUV3_PROD_MMU_L1, NULL, SMMUV3_FEAT_BTM, 0,
		       "MMU-L1: Arm errata 3878312/3995052, no BTM"),
	SMMUV3_ERR_ARM(SMMUV3_PROD_MMU_S3, NULL, SMMUV3_FEAT_BTM, 0,
		       "MMU-S3: Arm errata 3878312/3995052, no BTM"),
	SMMUV3_ERR_IORT(SMMUV3_IORT_MODEL_CN99XX, SMMUV3_OPT_PAGE0_ONLY,
			"Cavium CN99xx (IORT model): registers of page 1 at page 0"),
	SMMUV3_ERR_DT("cavium,cn9900-broken-page1-regspace", SMMUV3_OPT_PAGE0_ONLY,
		      "cavium,cn9900-broken-page1-regspace: registers of page 1 at page 0"),
	SMMUV3_ERR_IORT(SMMUV3_IORT_MODEL_HI161X, SMMUV3_OPT_SKIP_PREFETCH,
			"HiSilicon Hi161x (IORT model): no CMD_PREFETCH_CFG"),
	SMMUV3_ERR_DT("hisilicon,broken-prefetch-cmd", SMMUV3_OPT_SKIP_PREFETCH,
		      "hisilicon,broken-prefetch-cmd: no CMD_PREFETCH_CFG"),
	SMMUV3_ERR_DT_COMPAT("nvidia,tegra264-smmu", SMMUV3_OPT_REPEAT_CFGI_TLBI,
			     "NVIDIA Tegra264: every CFGI/TLBI and CMD_SYNC issued twice"),
};

static bool smmuv3_erratum_applies(const struct smmuv3_erratum *e,
				   const struct smmuv3_impl_id *id)
{
	if (e->implementer)
		return id->iidr &&
		       FIELD_GET(SMMUV3_IIDR_IMPLEMENTER, id->iidr) == e->implementer &&
		       FIELD_GET(SMMUV3_IIDR_PRODUCTID, id->iidr) == e->product &&
		       (!e->match ||
			e->match(FIELD_GET(SMMUV3_IIDR_VARIANT, id->iidr),
				 FIELD_GET(SMMUV3_IIDR_REVISION, id->iidr)));
	if (e->iort_model)
		return id->iort_model == e->iort_model;
	if (e->dt_prop)
		return id->has_prop && id->has_prop(id->fw, e->dt_prop);
	if (e->dt_compat)
		return id->is_compatible &&
		       id->is_compatible(id->fw, e->dt_compat);
	return false;
}

/**
 * smmuv3_errata_lookup() - the table's entries for an implementation
 * @id: what identifies it; an IIDR of 0 matches no IIDR entry
 * @clear_feat: ORed with the features to drop
 * @options: ORed with the options to set
 *
 * Pure: no MMIO, no logging.
 *
 * Return: a bitmap of the matching entries (bit n: entry n).
 */
u32 smmuv3_errata_lookup(const struct smmuv3_impl_id *id, u32 *clear_feat,
			 u32 *options)
{
	u32 hits = 0;
	int i;

	BUILD_BUG_ON(ARRAY_SIZE(smmuv3_errata) > 32);
	for (i = 0; i < ARRAY_SIZE(smmuv3_errata); i++) {
		const struct smmuv3_erratum *e = &smmuv3_errata[i];

		if (!smmuv3_erratum_applies(e, id))
			continue;
		hits |= BIT(i);
		*clear_feat |= e->clear_feat;
		*options |= e->options;
	}
	return hits;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_errata_lookup);

static void smmuv3_errata_apply(struct smmuv3_device *smmu,
				const struct smmuv3_impl_id *id)
{
	u32 clear = 0, options = 0;
	unsigned long hits;
	int i;

	hits = smmuv3_errata_lookup(id, &clear, &options);
	for_each_set_bit(i, &hits, ARRAY_SIZE(smmuv3_errata))
		dev_notice(smmu->dev, "%s\n", smmuv3_errata[i].what);
	smmu->feat.flags &= ~clear;
	smmu->options |= options;
}

static bool smmuv3_of_has_prop(const void *np, const char *name)
{
	return of_property_read_bool(np, name);
}

static bool smmuv3_of_is_compatible(const void *np, const char *compat)
{
	return of_device_is_compatible(np, compat);
}

/*
 * The IORT code gives the platform device it creates for an SMMUv3 node a
 * copy of the node's address as platform data (Linux 6.12 and 7.x alike).
 */
static s64 smmuv3_iort_model(struct device *dev)
{
#ifdef CONFIG_ACPI
	struct acpi_iort_node * const *pnode = dev_get_platdata(dev);
	const struct acpi_iort_smmu_v3 *iort;

	if (dev->of_node || !pnode || !*pnode ||
	    (*pnode)->type != ACPI_IORT_NODE_SMMU_V3 ||
	    (*pnode)->length < offsetof(struct acpi_iort_node, node_data) +
			       offsetofend(struct acpi_iort_smmu_v3, model))
		return -1;
	iort = (const struct acpi_iort_smmu_v3 *)(*pnode)->node_data;
	return iort->model;
#else
	return -1;
#endif
}

/**
 * smmuv3_errata_firmware() - apply the entries of the firmware description
 * @smmu: the instance, before its registers are mapped
 */
void smmuv3_errata_firmware(struct smmuv3_device *smmu)
{
	struct smmuv3_impl_id id = {
		.iort_model = smmuv3_iort_model(smmu->dev),
	};

	if (smmu->dev->of_node) {
		id.has_prop = smmuv3_of_has_prop;
		id.is_compatible = smmuv3_of_is_compatible;
		id.fw = smmu->dev->of_node;
	}
	smmuv3_errata_apply(smmu, &id);
}

/**
 * smmuv3_errata_iidr() - apply the entries of the implementation's IIDR
 * @smmu: the instance, with its ID registers read and features decoded
 */
void smmuv3_errata_iidr(struct smmuv3_device *smmu)
{
	struct smmuv3_impl_id id = {
		.iidr = smmu->idregs.iidr,
		.iort_model = -1,
	};

	smmuv3_errata_apply(smmu, &id);
}
