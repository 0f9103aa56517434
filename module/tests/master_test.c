// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for masters (master.c): the stream IDs firmware gives a
 * device, and what probe_device decides about a PCI device's PASIDs.
 *
 * Stream IDs of PCI devices are requester IDs, bus [15:8], device [7:3],
 * function [2:0] (PCIe base specification, "Routing IDs").  A
 * conventional PCI device behind a PCIe-to-PCI bridge also uses the
 * bridge's alias, (secondary bus, devfn 0) (PCI Express to PCI/PCI-X
 * Bridge specification, 2.3): for the device at devfn 0 on the bridge's
 * secondary bus 2 both are 0x0200, and firmware lists that ID twice.
 *
 * The PASID capability register (PCIe base specification, "PASID
 * Capability Register") has Execute Permission Supported in bit 1 (0x2)
 * and Privileged Mode Supported in bit 2 (0x4); the other bits of the
 * features are not features.
 */
#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/device.h>
#include <linux/errno.h>

#include <smmuv3/smmuv3.h>

#include "fake_smmu.h"

/* Bus 2, devfn 0: the device's RID and the bridge's alias. */
#define RID_BEHIND_BRIDGE	0x0200
/* Bus 2, device 1 (devfn 0x08): another device behind the same bridge. */
#define RID_SLOT1		0x0208
/* Bus 1, devfn 0: the bridge itself. */
#define RID_BRIDGE		0x0100

static struct fake_smmu *master_smmu(struct kunit *test, u8 sid_bits)
{
	struct fake_smmu *f = fake_smmu_create(test, "smmu0", SMMUV3_FEAT_S1,
					       16, 4);

	fake_smmu_add_strtab(test, f, sid_bits);
	return f;
}

/* A master with no streams yet, as probe_device starts it. */
static struct smmuv3_master *new_master(struct kunit *test, struct fake_smmu *f,
					const char *name)
{
	struct smmuv3_master *master;

	master = kunit_kzalloc(test, sizeof(*master), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, master);
	master->smmu = &f->smmu;
	master->dev = kunit_device_register(test, name);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, master->dev);
	return master;
}

static struct smmuv3_master *owner(struct fake_smmu *f, u32 sid)
{
	struct smmuv3_master *master;

	mutex_lock(&f->smmu.streams_mutex);
	master = smmuv3_find_master(&f->smmu, sid);
	mutex_unlock(&f->smmu.streams_mutex);
	return master;
}

/* The device at devfn 0 behind a bridge: its RID twice, kept once. */
static void streams_alias_equals_rid(struct kunit *test)
{
	static const u32 ids[] = { RID_BEHIND_BRIDGE, RID_BEHIND_BRIDGE };
	struct fake_smmu *f = master_smmu(test, 12);
	struct smmuv3_master *m = new_master(test, f, "dev-2-0");

	KUNIT_ASSERT_EQ(test, smmuv3_master_add_streams(m, ids, 2), 0);
	KUNIT_EXPECT_EQ(test, m->num_streams, 1);
	KUNIT_EXPECT_EQ(test, m->streams[0].sid, RID_BEHIND_BRIDGE);
	KUNIT_EXPECT_PTR_EQ(test, m->streams[0].master, m);
	KUNIT_EXPECT_PTR_EQ(test, owner(f, RID_BEHIND_BRIDGE), m);

	smmuv3_master_del_streams(m);
	KUNIT_EXPECT_NULL(test, owner(f, RID_BEHIND_BRIDGE));
	KUNIT_EXPECT_EQ(test, m->num_streams, 0);
}

/* A repeated ID among others: each stream once, in firmware's order. */
static void streams_duplicate_among_others(struct kunit *test)
{
	static const u32 ids[] = { RID_SLOT1, RID_BEHIND_BRIDGE, RID_SLOT1,
				   RID_BEHIND_BRIDGE };
	struct fake_smmu *f = master_smmu(test, 12);
	struct smmuv3_master *m = new_master(test, f, "dev-2-8");

	KUNIT_ASSERT_EQ(test, smmuv3_master_add_streams(m, ids, 4), 0);
	KUNIT_ASSERT_EQ(test, m->num_streams, 2);
	KUNIT_EXPECT_EQ(test, m->streams[0].sid, RID_SLOT1);
	KUNIT_EXPECT_EQ(test, m->streams[1].sid, RID_BEHIND_BRIDGE);
	KUNIT_EXPECT_PTR_EQ(test, owner(f, RID_SLOT1), m);
	KUNIT_EXPECT_PTR_EQ(test, owner(f, RID_BEHIND_BRIDGE), m);
	smmuv3_master_del_streams(m);
	KUNIT_EXPECT_NULL(test, owner(f, RID_SLOT1));
	KUNIT_EXPECT_NULL(test, owner(f, RID_BEHIND_BRIDGE));
}

/*
 * A stream ID that firmware gives a device but the instance cannot give
 * it must cost that device its IOMMU, not the instance: the iommu core's
 * bus probe (probe_iommu_group() in drivers/iommu/iommu.c) ignores
 * -ENODEV from probe_device and fails iommu_device_register() on any
 * other error, which would leave every device behind the instance
 * aborting (GBPA.ABORT).
 *
 * Two devices behind one bridge both use the bridge's alias: the second
 * cannot have it, and keeps none of its streams.
 */
static void streams_two_masters_enodev(struct kunit *test)
{
	static const u32 first[] = { RID_BEHIND_BRIDGE, RID_BEHIND_BRIDGE };
	static const u32 second[] = { RID_SLOT1, RID_BEHIND_BRIDGE };
	struct fake_smmu *f = master_smmu(test, 12);
	struct smmuv3_master *a = new_master(test, f, "dev-2-0");
	struct smmuv3_master *b = new_master(test, f, "dev-2-8");

	KUNIT_ASSERT_EQ(test, smmuv3_master_add_streams(a, first, 2), 0);
	KUNIT_EXPECT_EQ(test, smmuv3_master_add_streams(b, second, 2), -ENODEV);
	KUNIT_EXPECT_EQ(test, b->num_streams, 0);
	KUNIT_EXPECT_NULL(test, b->streams);
	KUNIT_EXPECT_NULL(test, owner(f, RID_SLOT1));
	KUNIT_EXPECT_PTR_EQ(test, owner(f, RID_BEHIND_BRIDGE), a);
	smmuv3_master_del_streams(a);
}

/* An ID beyond an 8-bit stream table: -ENODEV too, nothing left behind. */
static void streams_beyond_table(struct kunit *test)
{
	static const u32 ids[] = { 0x10, 0x20, RID_BRIDGE };
	struct fake_smmu *f = master_smmu(test, 8);
	struct smmuv3_master *m = new_master(test, f, "dev-big");

	KUNIT_EXPECT_EQ(test, smmuv3_master_add_streams(m, ids, 3), -ENODEV);
	KUNIT_EXPECT_EQ(test, m->num_streams, 0);
	KUNIT_EXPECT_NULL(test, owner(f, 0x10));
	KUNIT_EXPECT_NULL(test, owner(f, 0x20));
}

/* --- PCI PASIDs ----------------------------------------------------------- */

struct pasid_case {
	const char *what;
	int max_pasids;		/* pci_max_pasids() */
	int features;		/* pci_pasid_features() */
	u8 cdtab_bits;		/* what a CD table of the instance covers */
	bool enable;
	int expect_features;
	u8 ssid_bits;
};

static const struct pasid_case pasid_cases[] = {
	{ "no PASID capability", -EINVAL, -EINVAL, 16, false, 0, 0 },
	{ "instance without substreams", 1 << 20, 0x6, 0, false, 0, 0 },
	{ "one PASID: only the RID's", 1, 0x6, 16, false, 0, 0 },
	{ "20 bits, instance 16", 1 << 20, 0x6, 16, true, 0x6, 16 },
	{ "20 bits, instance 20", 1 << 20, 0x0, 20, true, 0x0, 20 },
	{ "32 PASIDs, execute only", 32, 0x2, 16, true, 0x2, 5 },
	{ "2 PASIDs, privileged only", 2, 0x4, 8, true, 0x4, 1 },
	/* bit 0 of the capability register is reserved */
	{ "reserved bit", 1 << 8, 0x7, 8, true, 0x6, 8 },
	{ "features unreadable", 1 << 8, -EINVAL, 8, false, 0, 0 },
};

static void pasid_case_desc(const struct pasid_case *c, char *desc)
{
	strscpy(desc, c->what, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(pasid, pasid_cases, pasid_case_desc);

static void pci_pasid_plan(struct kunit *test)
{
	const struct pasid_case *c = test->param_value;
	struct smmuv3_pasid_plan plan;

	memset(&plan, 0xa5, sizeof(plan));
	smmuv3_pci_pasid_plan(c->max_pasids, c->features, c->cdtab_bits,
			      &plan);
	KUNIT_EXPECT_EQ(test, plan.enable, c->enable);
	KUNIT_EXPECT_EQ(test, plan.ssid_bits, c->ssid_bits);
	if (c->enable)
		KUNIT_EXPECT_EQ(test, plan.features, c->expect_features);
}

/*
 * The HiSilicon PCIe Tune and Trace function (vendor 0x19e5, Huawei;
 * device 0xa12e) stays in the identity domain, as the kernel's driver
 * keeps it (its def_domain_type); its neighbours and other vendors' 0xa12e
 * do not.
 */
static void pci_identity_only_ptt(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, smmuv3_pci_identity_only(0x19e5, 0xa12e));
	KUNIT_EXPECT_FALSE(test, smmuv3_pci_identity_only(0x19e5, 0xa12f));
	KUNIT_EXPECT_FALSE(test, smmuv3_pci_identity_only(0x1af4, 0xa12e));
	/* And the iommu core asks (iommu_ops.def_domain_type). */
	KUNIT_EXPECT_TRUE(test,
			  smmuv3_ops.def_domain_type == smmuv3_def_domain_type);
}

static struct kunit_case smmuv3_master_cases[] = {
	KUNIT_CASE(streams_alias_equals_rid),
	KUNIT_CASE(streams_duplicate_among_others),
	KUNIT_CASE(streams_two_masters_enodev),
	KUNIT_CASE(streams_beyond_table),
	KUNIT_CASE_PARAM(pci_pasid_plan, pasid_gen_params),
	KUNIT_CASE(pci_identity_only_ptt),
	{}
};

static struct kunit_suite smmuv3_master_suite = {
	.name = "smmuv3-master",
	.test_cases = smmuv3_master_cases,
};

kunit_test_suites(&smmuv3_master_suite);
