// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for what a VMM or its guest hands to iommufd.c and hw_info.c:
 * the guest commands a vIOMMU forwards, vdevices, empty invalidation
 * arrays and IOMMU_GET_HW_INFO data (suite smmuv3-iommufd); which vIOMMUs
 * may be made, and what happens to a vIOMMU whose instance is removed
 * (suite smmuv3-viommu).
 *
 * Commands are literal words with the field positions of IHI 0070 chapter 4
 * written out, independently of regs.h:
 *
 *  TLBI_NH_VA (0x12), TLBI_NH_VAA (0x13): word 0 NUM [16:12], SCALE
 *	[24:20], VMID [47:32], ASID [63:48]; word 1 Leaf [0], TTL [9:8], TG
 *	[11:10], Address [63:12].  TG: 0 no range, 1 4KB, 2 16KB, 3 64KB.
 *  CFGI_CD (0x05): word 0 SSID [31:12], SID [63:32]; word 1 Leaf [0].
 *  ATC_INV (0x40): word 0 Global [9], SSV [11], SSID [31:12], SID [63:32];
 *	word 1 Size [5:0], Address [63:12].
 */
#include <kunit/test.h>
#include <linux/bits.h>
#include <linux/io-pgtable.h>
#include <linux/iommu.h>
#include <linux/iommufd.h>
#include <linux/kernel.h>
#include <linux/kref.h>
#include <linux/sizes.h>
#include <linux/string.h>
#include <uapi/linux/iommufd.h>

#include <smmuv3/invs.h>
#include <smmuv3/smmuv3.h>

#include "fake_smmu.h"

#if IS_ENABLED(CONFIG_IOMMUFD_DRIVER_CORE)

#define TLBI_NH_VA	0x12ull
#define TLBI_NH_VAA	0x13ull
#define CFGI_CD		0x05ull
#define ATC_INV		0x40ull

#define F_NUM(n)	((u64)(n) << 12)
#define F_SCALE(s)	((u64)(s) << 20)
#define F_ASID(a)	((u64)(a) << 48)
#define F_TTL(t)	((u64)(t) << 8)
#define F_TG(g)		((u64)(g) << 10)
#define F_VA		0x40000ull
#define F_SSID(s)	((u64)(s) << 12)
#define F_SID(s)	((u64)(s) << 32)
#define ATC_GLOBAL	BIT_ULL(9)
#define SSV		BIT_ULL(11)

/* An instance for guest commands: 16-bit ASIDs, @ssid_bits substreams. */
static struct fake_smmu *guest_smmu(struct kunit *test, u32 flags,
				    u8 ssid_bits)
{
	struct fake_smmu *f;

	f = fake_smmu_create(test, "smmu0", SMMUV3_FEAT_NESTING | flags, 16, 4);
	f->smmu.feat.ssid_bits = ssid_bits;
	return f;
}

static void expect_cmd(struct kunit *test, struct fake_smmu *f, u64 w0,
		       u64 w1, bool ok, const char *what)
{
	const u64 cmd[2] = { w0, w1 };

	KUNIT_EXPECT_EQ_MSG(test, smmuv3_guest_cmd_ok(&f->smmu, cmd), ok,
			    "%s: %016llx %016llx", what, w0, w1);
}

/*
 * Without range invalidation (IDR3.RIL = 0) NUM, SCALE, TG and TTL of
 * TLBI_NH_VA/VAA are RES0 (IHI 0070 4.4.1.1, 4.4.2.4): a guest may not set
 * any of them, TTL included.
 */
static void guest_tlbi_no_ril(struct kunit *test)
{
	struct fake_smmu *f = guest_smmu(test, 0, 0);
	u64 op;

	for (op = TLBI_NH_VA; op <= TLBI_NH_VAA; op++) {
		expect_cmd(test, f, op | F_ASID(op == TLBI_NH_VA),
			   F_VA | 1, true, "no range");
		expect_cmd(test, f, op, F_VA | F_TTL(1), false,
			   "TTL 1, no RIL");
		expect_cmd(test, f, op, F_VA | F_TTL(3), false,
			   "TTL 3, no RIL");
		expect_cmd(test, f, op, F_VA | F_TG(1) | F_TTL(3), false,
			   "TG 4KB, no RIL");
		expect_cmd(test, f, op | F_NUM(1), F_VA | F_TG(1), false,
			   "NUM 1, no RIL");
		expect_cmd(test, f, op | F_SCALE(1), F_VA | F_TG(1), false,
			   "SCALE 1, no RIL");
	}
}

/*
 * With RIL (IHI 0070 4.4.1.1): TG = 0 is a command without range, whose
 * NUM, SCALE and TTL must be 0 (upstream arm_vsmmu_validate_range()
 * refuses them; Reserved combinations raise CERROR_ILL).  With a TG, NUM =
 * SCALE = TTL = 0 is reserved, and TTL 0b01 with the 16KB granule (level
 * 1) exists only with IDR5.DS, which this driver does not use.
 */
static void guest_tlbi_ril(struct kunit *test)
{
	struct fake_smmu *f = guest_smmu(test, SMMUV3_FEAT_RANGE_INV, 0);
	u64 op, tg, ttl;

	for (op = TLBI_NH_VA; op <= TLBI_NH_VAA; op++) {
		expect_cmd(test, f, op, F_VA, true, "TG 0, no range");
		expect_cmd(test, f, op | F_NUM(1), F_VA, false, "TG 0, NUM 1");
		expect_cmd(test, f, op | F_SCALE(1), F_VA, false,
			   "TG 0, SCALE 1");
		for (ttl = 1; ttl <= 3; ttl++)
			expect_cmd(test, f, op, F_VA | F_TTL(ttl), false,
				   "TG 0, TTL != 0");
		for (tg = 1; tg <= 3; tg++) {
			expect_cmd(test, f, op, F_VA | F_TG(tg), false,
				   "TG, NUM = SCALE = TTL = 0");
			expect_cmd(test, f, op | F_NUM(31) | F_SCALE(31),
				   F_VA | F_TG(tg), true,
				   "TG, NUM 31, SCALE 31");
			for (ttl = 1; ttl <= 3; ttl++)
				expect_cmd(test, f, op,
					   F_VA | F_TG(tg) | F_TTL(ttl),
					   tg != 2 || ttl != 1, "TG, TTL");
		}
	}
	/* SCALE bit 25 is RES0 without IDR5.DS */
	expect_cmd(test, f, TLBI_NH_VA | BIT_ULL(25), F_VA | F_TG(1) | F_TTL(3),
		   false, "SCALE [25] without DS");
}

/*
 * ATC_INV: Size is 6 bits, of which 0..52 are defined (52: the whole
 * address space); SSV, SSID and Global only mean something on an SMMU
 * with substreams (upstream arm_vsmmu_validate_user_cmd()).
 */
static void guest_atc_inv(struct kunit *test)
{
	struct fake_smmu *sub = guest_smmu(test, SMMUV3_FEAT_ATS, 8);
	struct fake_smmu *none = guest_smmu(test, SMMUV3_FEAT_ATS, 0);
	u64 size;

	for (size = 0; size <= 63; size++) {
		expect_cmd(test, sub, ATC_INV | F_SID(1), size, size <= 52,
			   "Size");
		expect_cmd(test, none, ATC_INV | F_SID(1), size, size <= 52,
			   "Size, no substreams");
	}
	expect_cmd(test, sub, ATC_INV | SSV | F_SSID(5) | F_SID(1), F_VA,
		   true, "SSV, SSID 5");
	expect_cmd(test, sub,
		   ATC_INV | ATC_GLOBAL | SSV | F_SSID(5) | F_SID(1), 52,
		   true, "Global");
	expect_cmd(test, none, ATC_INV | F_SID(1), F_VA, true,
		   "no substreams, no SSV");
	expect_cmd(test, none, ATC_INV | SSV | F_SID(1), 52, false,
		   "SSV without substreams");
	expect_cmd(test, none, ATC_INV | F_SSID(5) | F_SID(1), 52, false,
		   "SSID without substreams");
	expect_cmd(test, none, ATC_INV | ATC_GLOBAL | F_SID(1), 52, false,
		   "Global without substreams");
}

/*
 * CFGI_CD: an SSID only on an SMMU with substreams, and below 2^SSIDSIZE:
 * a guest cannot name a substream the SMMU does not have, and its commands
 * never raise command errors that could fail the host's waits.
 */
static void guest_cfgi_cd(struct kunit *test)
{
	struct fake_smmu *sub = guest_smmu(test, 0, 8);
	struct fake_smmu *none = guest_smmu(test, 0, 0);

	expect_cmd(test, sub, CFGI_CD | F_SSID(5) | F_SID(1), 1, true,
		   "SSID 5");
	expect_cmd(test, sub, CFGI_CD | F_SID(1), 1, true, "SSID 0");
	expect_cmd(test, none, CFGI_CD | F_SID(1), 1, true,
		   "SSID 0, no substreams");
	expect_cmd(test, none, CFGI_CD | F_SSID(5) | F_SID(1), 1, false,
		   "SSID 5 without substreams");
	expect_cmd(test, none, CFGI_CD | F_SSID(1) | F_SID(1), 0, false,
		   "SSID 1 without substreams");
	/* SSIDSIZE 8: SSIDs 0-255; the field is 20 bits wide */
	expect_cmd(test, sub, CFGI_CD | F_SSID(255) | F_SID(1), 1, true,
		   "SSID 255 of 8 bits");
	expect_cmd(test, sub, CFGI_CD | F_SSID(256) | F_SID(1), 1, false,
		   "SSID 256 beyond SSIDSIZE 8");
	expect_cmd(test, sub, ATC_INV | SSV | F_SSID(256) | F_SID(1), 52,
		   false, "ATC_INV SSID 256 beyond SSIDSIZE 8");
	expect_cmd(test, sub, ATC_INV | SSV | F_SSID(255) | F_SID(1), 52,
		   true, "ATC_INV SSID 255 of 8 bits");
}

static struct smmuv3_viommu *guest_viommu(struct kunit *test,
					  struct fake_smmu *f)
{
	struct smmuv3_viommu *viommu;

	viommu = kunit_kzalloc(test, sizeof(*viommu), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, viommu);
	viommu->smmu = &f->smmu;
	xa_init(&viommu->core.vdevs);
	return viommu;
}

/*
 * A vSID maps to the master's first stream only: a master with more is
 * refused, -EOPNOTSUPP (upstream arm_vsmmu_vdevice_init()).
 */
static void vdevice_streams(struct kunit *test)
{
	static const u32 sids[] = { 3, 4 };
	struct fake_smmu *f = guest_smmu(test, 0, 0);
	struct smmuv3_viommu *viommu = guest_viommu(test, f);
	struct smmuv3_master *one, *two;

	fake_smmu_add_strtab(test, f, 4);
	one = fake_master_create(test, f, sids, 1);
	two = fake_master_create(test, f, sids, 2);

	KUNIT_EXPECT_EQ(test, smmuv3_vdevice_check(viommu, one, 7), 0);
	KUNIT_EXPECT_EQ(test, smmuv3_vdevice_check(viommu, two, 7),
			-EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, smmuv3_vdevice_check(viommu, one, 1ull << 32),
			-EINVAL);
}

/*
 * An empty array (entry_num 0) asks whether the data type is supported
 * (uapi, struct iommu_hwpt_invalidate): 0 for
 * IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3, -EINVAL for another; nothing is
 * issued.
 */
static void guest_inv_empty(struct kunit *test)
{
	struct fake_smmu *f = guest_smmu(test, 0, 0);
	struct smmuv3_viommu *viommu = guest_viommu(test, f);
	struct iommu_user_data_array array = {
		.type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
		.entry_len = sizeof(struct iommu_viommu_arm_smmuv3_invalidate),
	};

	KUNIT_EXPECT_EQ(test, smmuv3_viommu_cache_invalidate(&viommu->core,
							     &array), 0);
	KUNIT_EXPECT_EQ(test, array.entry_num, 0);
	array.type = IOMMU_HWPT_INVALIDATE_DATA_VTD_S1;
	KUNIT_EXPECT_EQ(test, smmuv3_viommu_cache_invalidate(&viommu->core,
							     &array), -EINVAL);
	KUNIT_EXPECT_EQ(test, array.entry_num, 0);
	FAKE_EXPECT_NO_CMDS(test, f);
}

#endif /* CONFIG_IOMMUFD_DRIVER_CORE */

#if SMMUV3_HAVE_HW_INFO

/* IDR0.ATS [10] (IHI 0070 6.3.1) */
#define IDR0_ATS	BIT(10)

/* IOMMU_GET_HW_INFO for @m, copied to test-managed memory. */
static struct iommu_hw_info_arm_smmuv3 *hw_info(struct kunit *test,
						struct smmuv3_master *m)
{
	enum iommu_hw_info_type type = IOMMU_HW_INFO_TYPE_ARM_SMMUV3;
	struct iommu_hw_info_arm_smmuv3 *info, *copy;
	u32 len = 0;

	copy = kunit_kzalloc(test, sizeof(*copy), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, copy);
	info = smmuv3_hw_info(m->dev, &len, &type);
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(info));
	*copy = *info;
	kfree(info);
	KUNIT_EXPECT_EQ(test, len, sizeof(*copy));
	KUNIT_EXPECT_EQ(test, type, IOMMU_HW_INFO_TYPE_ARM_SMMUV3);
	return copy;
}

/*
 * The uapi (struct iommu_hw_info_arm_smmuv3) reports the raw hardware
 * capability: "ATS is a per-device property. If the VMM describes any
 * devices as ATS capable in ACPI/DT it should set the corresponding idr."
 * IDR0.ATS is the instance's, for a device without ATS too.
 */
static void hw_info_ats_raw(struct kunit *test)
{
	struct fake_smmu *f = fake_smmu_create(test, "smmu0",
					       SMMUV3_FEAT_NESTING |
					       SMMUV3_FEAT_ATS, 16, 4);
	const u32 sid = 3;
	struct smmuv3_master *m;

	fake_smmu_add_strtab(test, f, 4);
	m = fake_master_create(test, f, &sid, 1);
	f->smmu.idregs.idr[0] = IDR0_ATS | 0x3;	/* S1P [1], S2P [0] */

	m->ats_supported = false;
	KUNIT_EXPECT_EQ(test, hw_info(test, m)->idr[0] & IDR0_ATS, IDR0_ATS);
	m->ats_supported = true;
	KUNIT_EXPECT_EQ(test, hw_info(test, m)->idr[0] & IDR0_ATS, IDR0_ATS);
	f->smmu.idregs.idr[0] &= ~IDR0_ATS;
	KUNIT_EXPECT_EQ(test, hw_info(test, m)->idr[0] & IDR0_ATS, 0);
}

/*
 * flags: IOMMU_HW_INFO_ARM_SMMUV3_ERRATA_REPEAT_TLBI_CFGI (1 << 0 in the
 * 7.3 uapi) on an instance that needs its TLBI/CFGI commands repeated.
 */
static void hw_info_repeat_tlbi_cfgi(struct kunit *test)
{
	struct fake_smmu *f = fake_smmu_create(test, "smmu0",
					       SMMUV3_FEAT_NESTING, 16, 4);
	const u32 sid = 3;
	struct smmuv3_master *m;

	fake_smmu_add_strtab(test, f, 4);
	m = fake_master_create(test, f, &sid, 1);
	KUNIT_EXPECT_EQ(test, hw_info(test, m)->flags, 0);
	f->smmu.options |= SMMUV3_OPT_REPEAT_CFGI_TLBI;
	/* 1 where the uapi has the flag; "must be 0" where it has none */
	KUNIT_EXPECT_EQ(test, hw_info(test, m)->flags,
			SMMUV3_HW_INFO_REPEAT_TLBI_CFGI ? 1 : 0);
}

#endif /* SMMUV3_HAVE_HW_INFO */

#if IS_ENABLED(CONFIG_IOMMUFD_DRIVER_CORE)

/* --- vIOMMUs -------------------------------------------------------------- */

#define VFEAT		(SMMUV3_FEAT_NESTING | SMMUV3_FEAT_RANGE_INV)
#define PGSIZES		(SZ_4K | SZ_2M | SZ_1G)

/* A nesting instance ready for vIOMMUs (its reference is never dropped). */
static struct fake_smmu *viommu_smmu(struct kunit *test, const char *name,
				     u32 flags)
{
	struct fake_smmu *f = fake_smmu_create(test, name, VFEAT | flags, 16, 4);

	fake_smmu_add_strtab(test, f, 4);
	f->smmu.feat.pgsize_bitmap = PGSIZES;
	smmuv3_instance_init_ref(&f->smmu);
	return f;
}

/* A nesting parent created on @owner, its table with S2FWB or not. */
static struct smmuv3_domain *parent_on(struct kunit *test,
				       struct fake_smmu *owner, bool fwb)
{
	struct smmuv3_domain *d = fake_domain_create(test, SMMUV3_STAGE_2,
						     PGSIZES);

	d->nest_parent = true;
	d->owner = &owner->smmu;
	d->domain.ops = &smmuv3_paging_ops;
	if (fwb)
		d->pgtbl_cfg.quirks |= IO_PGTABLE_QUIRK_ARM_S2FWB;
	return d;
}

/* An iommufd vIOMMU as the core hands it to viommu_init. */
static struct smmuv3_viommu *new_viommu(struct kunit *test, struct fake_smmu *f)
{
	struct smmuv3_viommu *v = kunit_kzalloc(test, sizeof(*v), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, v);
	v->core.iommu_dev = &f->smmu.iommu;
	return v;
}

static int viommu_init(struct smmuv3_viommu *v, struct smmuv3_domain *parent)
{
	return smmuv3_viommu_init(&v->core, &parent->domain, NULL);
}

static void viommu_destroy(struct smmuv3_viommu *v)
{
	v->core.ops->destroy(&v->core);
}

/* viommu_assume_coherent as the test wants it, restored at the end. */
static void opt_in_restore(void *data)
{
	smmuv3_viommu_assume_coherent = (uintptr_t)data;
}

static void opt_in(struct kunit *test, bool on)
{
	void *was = (void *)(uintptr_t)smmuv3_viommu_assume_coherent;

	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, opt_in_restore,
							was), 0);
	smmuv3_viommu_assume_coherent = on;
}

static int vmids_used(struct fake_smmu *f)
{
	return atomic_read(&f->smmu.tags.vmids_used);
}

/*
 * The parent's table decides, not only the instance: a parent created on
 * an instance without S2FWB has no S2FWB table, even where the vIOMMU's
 * instance has S2FWB.  Without the opt-in such a vIOMMU is refused with
 * -EOPNOTSUPP and nothing allocated; with an S2FWB table it is made.
 */
static void viommu_admission_parent_fwb(struct kunit *test)
{
	struct fake_smmu *fwb = viommu_smmu(test, "fwb", SMMUV3_FEAT_S2FWB);
	struct fake_smmu *nofwb = viommu_smmu(test, "nofwb", 0);
	struct smmuv3_viommu *v;

	opt_in(test, false);

	/* created on the instance without S2FWB, shared with the other */
	v = new_viommu(test, fwb);
	KUNIT_EXPECT_EQ(test, viommu_init(v, parent_on(test, nofwb, false)),
			-EOPNOTSUPP);
	/* created on the S2FWB instance by a path that left S2FWB out */
	v = new_viommu(test, fwb);
	KUNIT_EXPECT_EQ(test, viommu_init(v, parent_on(test, fwb, false)),
			-EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, vmids_used(fwb), 0);
	KUNIT_EXPECT_EQ(test, kref_read(&fwb->smmu.ref), 1);
	FAKE_EXPECT_NO_CMDS(test, fwb);

	/* an S2FWB table */
	v = new_viommu(test, fwb);
	KUNIT_ASSERT_EQ(test, viommu_init(v, parent_on(test, fwb, true)), 0);
	KUNIT_EXPECT_EQ(test, vmids_used(fwb), 1);
	viommu_destroy(v);
	KUNIT_EXPECT_EQ(test, vmids_used(fwb), 0);
	FAKE_EXPECT_CMDS(test, fwb, FAKE_TLBI_S12_VMALL(v->vmid.id),
			 FAKE_CMD_SYNC);
}

/* The opt-in still admits a parent without S2FWB (QEMU's SMMU has none). */
static void viommu_admission_opt_in(struct kunit *test)
{
	struct fake_smmu *fwb = viommu_smmu(test, "fwb", SMMUV3_FEAT_S2FWB);
	struct fake_smmu *nofwb = viommu_smmu(test, "nofwb", 0);
	struct smmuv3_viommu *v;

	opt_in(test, true);
	v = new_viommu(test, fwb);
	KUNIT_ASSERT_EQ(test, viommu_init(v, parent_on(test, nofwb, false)), 0);
	viommu_destroy(v);
	v = new_viommu(test, nofwb);
	KUNIT_ASSERT_EQ(test, viommu_init(v, parent_on(test, nofwb, false)), 0);
	viommu_destroy(v);
	KUNIT_EXPECT_EQ(test, vmids_used(fwb), 0);
	KUNIT_EXPECT_EQ(test, vmids_used(nofwb), 0);
}

/*
 * A vIOMMU holds its instance's structure while it exists and frees its
 * VMID (flushed first) at destroy.
 */
static void viommu_lifetime_normal(struct kunit *test)
{
	struct fake_smmu *f = viommu_smmu(test, "smmu0", SMMUV3_FEAT_S2FWB);
	struct smmuv3_viommu *v = new_viommu(test, f);

	KUNIT_ASSERT_EQ(test, viommu_init(v, parent_on(test, f, true)), 0);
	KUNIT_EXPECT_NE(test, v->vmid.id, 0);
	KUNIT_EXPECT_EQ(test, vmids_used(f), 1);
	KUNIT_EXPECT_EQ(test, kref_read(&f->smmu.ref), 2);
	FAKE_EXPECT_NO_CMDS(test, f);

	viommu_destroy(v);
	FAKE_EXPECT_CMDS(test, f, FAKE_TLBI_S12_VMALL(v->vmid.id),
			 FAKE_CMD_SYNC);
	KUNIT_EXPECT_EQ(test, vmids_used(f), 0);
	KUNIT_EXPECT_EQ(test, kref_read(&f->smmu.ref), 1);
	KUNIT_EXPECT_TRUE(test, list_empty(&f->smmu.viommus));
}

/*
 * The instance is removed first (user space keeps the vIOMMU): the removal
 * flushes and frees the VMID while its command queue works, before the ID
 * allocators go.  The later destroy then issues no command and frees
 * nothing into the destroyed allocator; the structure lives until then.
 */
static void viommu_outlives_instance(struct kunit *test)
{
	struct fake_smmu *f = viommu_smmu(test, "smmu0", SMMUV3_FEAT_S2FWB);
	struct smmuv3_viommu *v = new_viommu(test, f), *late;
	struct smmuv3_domain *parent = parent_on(test, f, true);
	struct iommu_user_data_array array = { .entry_num = 1 };
	u32 vmid;

	KUNIT_ASSERT_EQ(test, viommu_init(v, parent), 0);
	vmid = v->vmid.id;

	/* smmuv3_remove(): the vIOMMUs, ..., then the allocators */
	smmuv3_viommus_remove(&f->smmu);
	FAKE_EXPECT_CMDS(test, f, FAKE_TLBI_S12_VMALL(vmid), FAKE_CMD_SYNC);
	KUNIT_EXPECT_EQ(test, vmids_used(f), 0);
	smmuv3_tags_destroy(&f->smmu);
	KUNIT_EXPECT_EQ(test, kref_read(&f->smmu.ref), 2);

	/* guest commands: refused, nothing issued */
	KUNIT_EXPECT_EQ(test, v->core.ops->cache_invalidate(&v->core, &array),
			-ENODEV);
	KUNIT_EXPECT_EQ(test, array.entry_num, 0);
	/* no new vIOMMU on a removed instance */
	late = new_viommu(test, f);
	KUNIT_EXPECT_EQ(test, viommu_init(late, parent), -ENODEV);
	KUNIT_EXPECT_EQ(test, kref_read(&f->smmu.ref), 2);

	viommu_destroy(v);
	FAKE_EXPECT_NO_CMDS(test, f);
	KUNIT_EXPECT_EQ(test, vmids_used(f), 0);
	KUNIT_EXPECT_EQ(test, kref_read(&f->smmu.ref), 1);
}

static struct kunit_case smmuv3_viommu_cases[] = {
	KUNIT_CASE(viommu_admission_parent_fwb),
	KUNIT_CASE(viommu_admission_opt_in),
	KUNIT_CASE(viommu_lifetime_normal),
	KUNIT_CASE(viommu_outlives_instance),
	{}
};

static struct kunit_suite smmuv3_viommu_suite = {
	.name = "smmuv3-viommu",
	.test_cases = smmuv3_viommu_cases,
};

#endif /* CONFIG_IOMMUFD_DRIVER_CORE */

static struct kunit_case smmuv3_iommufd_cases[] = {
#if IS_ENABLED(CONFIG_IOMMUFD_DRIVER_CORE)
	KUNIT_CASE(guest_tlbi_no_ril),
	KUNIT_CASE(guest_tlbi_ril),
	KUNIT_CASE(guest_atc_inv),
	KUNIT_CASE(guest_cfgi_cd),
	KUNIT_CASE(vdevice_streams),
	KUNIT_CASE(guest_inv_empty),
#endif
#if SMMUV3_HAVE_HW_INFO
	KUNIT_CASE(hw_info_ats_raw),
	KUNIT_CASE(hw_info_repeat_tlbi_cfgi),
#endif
	{}
};

static struct kunit_suite smmuv3_iommufd_suite = {
	.name = "smmuv3-iommufd",
	.test_cases = smmuv3_iommufd_cases,
};

#if IS_ENABLED(CONFIG_IOMMUFD_DRIVER_CORE)
kunit_test_suites(&smmuv3_iommufd_suite, &smmuv3_viommu_suite);
#else
kunit_test_suites(&smmuv3_iommufd_suite);
#endif
