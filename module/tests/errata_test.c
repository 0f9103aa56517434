// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suite smmuv3-errata (errata.c): every entry of the errata table,
 * identification in, features and options out; the forced CMD_SYNC of Arm
 * erratum 2812531.  Real servers need this; QEMU's SMMU has no errata.
 *
 * The IIDR values are written out from the kernel's driver and Arm's
 * errata notices, independently of errata.c.
 */
#include <kunit/device.h>
#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/device.h>
#include <linux/io.h>
#include <linux/iommu.h>
#include <linux/sizes.h>

#include <smmuv3/smmuv3.h>

#include "fake_smmu.h"

/**
 * struct errata_case - an implementation and what the table must say
 * @name: for the parameter's description
 * @iidr: SMMU_IIDR: ProductID [31:20], Variant [19:16], Revision [15:12],
 *	Implementer [11:0] (Arm: 0x43b)
 * @model: the IORT model field, or -1
 * @prop: a device-tree property, or NULL
 * @clear: features it must lose
 * @options: options it must get
 * @compat: a device-tree compatible string of the node, or NULL
 */
struct errata_case {
	const char *name;
	u32 iidr;
	s64 model;
	const char *prop;
	u32 clear;
	u32 options;
	const char *compat;
};

#define NO_NEST		SMMUV3_OPT_NO_NESTING
#define FORCE_SYNC	SMMUV3_OPT_CMDQ_FORCE_SYNC

static const struct errata_case errata_cases[] = {
	/* MMU-600 (0x483): 1076982 up to r0p2 (SEV), 1209401 before r2 */
	{ "MMU-600 r0p0", 0x4830043b, -1, NULL, SMMUV3_FEAT_SEV, NO_NEST },
	{ "MMU-600 r0p2", 0x4830243b, -1, NULL, SMMUV3_FEAT_SEV, NO_NEST },
	{ "MMU-600 r0p3", 0x4830343b, -1, NULL, 0, NO_NEST },
	{ "MMU-600 r1p0", 0x4831043b, -1, NULL, 0, NO_NEST },
	{ "MMU-600 r2p0", 0x4832043b, -1, NULL, 0, 0 },
	/* MMU-700 (0x487): no BTM; 2268618/2812531 in r0 and in p0 */
	{ "MMU-700 r0p0", 0x4870043b, -1, NULL, SMMUV3_FEAT_BTM,
	  FORCE_SYNC | NO_NEST },
	{ "MMU-700 r0p1", 0x4870143b, -1, NULL, SMMUV3_FEAT_BTM,
	  FORCE_SYNC | NO_NEST },
	{ "MMU-700 r1p0", 0x4871043b, -1, NULL, SMMUV3_FEAT_BTM,
	  FORCE_SYNC | NO_NEST },
	{ "MMU-700 r1p1", 0x4871143b, -1, NULL, SMMUV3_FEAT_BTM, 0 },
	/* MMU-L1 (0x48a), MMU-S3 (0x498): 3878312/3995052, no BTM */
	{ "MMU-L1 r0p0", 0x48a0043b, -1, NULL, SMMUV3_FEAT_BTM, 0 },
	{ "MMU-S3 r0p0", 0x4980043b, -1, NULL, SMMUV3_FEAT_BTM, 0 },
	/* The same product number from another implementer */
	{ "0x483 not by Arm", 0x4830042b, -1, NULL, 0, 0 },
	{ "QEMU", 0x00000000, -1, NULL, 0, 0 },
	/* IORT models: 0 generic, 1 HiSilicon Hi161x, 2 Cavium CN99xx */
	{ "IORT generic", 0, 0, NULL, 0, 0 },
	{ "IORT Hi161x", 0, 1, NULL, 0, SMMUV3_OPT_SKIP_PREFETCH },
	{ "IORT CN99xx", 0, 2, NULL, 0, SMMUV3_OPT_PAGE0_ONLY },
	{ "DT broken prefetch", 0, -1, "hisilicon,broken-prefetch-cmd", 0,
	  SMMUV3_OPT_SKIP_PREFETCH },
	{ "DT broken page 1", 0, -1, "cavium,cn9900-broken-page1-regspace", 0,
	  SMMUV3_OPT_PAGE0_ONLY },
	{ "DT other property", 0, -1, "dma-coherent", 0, 0 },
	/*
	 * NVIDIA Tegra264: the kernel's driver repeats every CFGI/TLBI with
	 * its CMD_SYNC for of_device_is_compatible("nvidia,tegra264-smmu").
	 */
	{ "DT Tegra264", 0, -1, NULL, 0, SMMUV3_OPT_REPEAT_CFGI_TLBI,
	  "nvidia,tegra264-smmu" },
	{ "DT other compatible", 0, -1, NULL, 0, 0, "arm,smmu-v3" },
};

static void errata_case_desc(const struct errata_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(errata, errata_cases, errata_case_desc);

static bool errata_has_prop(const void *fw, const char *name)
{
	return !strcmp(fw, name);
}

static void errata_table(struct kunit *test)
{
	const struct errata_case *c = test->param_value;
	struct smmuv3_impl_id id = {
		.iidr = c->iidr,
		.iort_model = c->model,
		.has_prop = c->prop ? errata_has_prop : NULL,
		.is_compatible = c->compat ? errata_has_prop : NULL,
		.fw = c->prop ?: c->compat,
	};
	u32 clear = 0, options = 0, hits;

	hits = smmuv3_errata_lookup(&id, &clear, &options);
	KUNIT_EXPECT_EQ(test, clear, c->clear);
	KUNIT_EXPECT_EQ(test, options, c->options);
	KUNIT_EXPECT_EQ(test, !!hits, c->clear || c->options);
}

/*
 * Arm erratum 2812531: with the option, a batch is queued with a CMD_SYNC
 * after 63 commands; without it, 64 commands go without one.
 */
static void errata_force_sync(struct kunit *test)
{
	struct smmuv3_cmd cmd = { .op = SMMUV3_OP_TLBI_NH_ASID };
	struct smmuv3_cmd_batch *batch;
	struct fake_cmd *expect;
	struct fake_smmu *f;
	unsigned int n;
	int pass, i;

	batch = kunit_kzalloc(test, sizeof(*batch), GFP_KERNEL);
	expect = kunit_kcalloc(test, 67, sizeof(*expect), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, batch);
	KUNIT_ASSERT_NOT_NULL(test, expect);

	for (pass = 0; pass < 2; pass++) {
		f = fake_smmu_create(test, "smmu0", SMMUV3_FEAT_S1, 16, 8);
		if (pass)
			f->smmu.options = SMMUV3_OPT_CMDQ_FORCE_SYNC;
		smmuv3_batch_init(batch, &f->smmu);
		n = 0;
		for (i = 0; i < 65; i++) {
			cmd.tlbi.asid = i + 1;
			KUNIT_ASSERT_EQ(test, smmuv3_batch_add(batch, &cmd), 0);
			/* TLBI_NH_ASID: opcode 0x11, ASID [63:48] */
			if (pass && i == 63)
				expect[n++] = (struct fake_cmd)FAKE_CMD_SYNC;
			expect[n].w0 = 0x11 | (u64)(i + 1) << 48;
			expect[n++].w1 = 0;
		}
		KUNIT_ASSERT_EQ(test, smmuv3_batch_submit(batch), 0);
		expect[n++] = (struct fake_cmd)FAKE_CMD_SYNC;
		kunit_info(test, "%s the option: %u commands\n",
			   pass ? "with" : "without", n);
		fake_expect_cmds(test, f, expect, n);
	}
}

static struct kunit_case smmuv3_errata_cases[] = {
	KUNIT_CASE_PARAM(errata_table, errata_gen_params),
	KUNIT_CASE(errata_force_sync),
	{}
};

static struct kunit_suite smmuv3_errata_suite = {
	.name = "smmuv3-errata",
	.test_cases = smmuv3_errata_cases,
};

kunit_test_suites(&smmuv3_errata_suite);
