// SPDX-License-Identifier: GPL-2.0-only
/*
 * iommufd: vIOMMUs (IOMMU_VIOMMU_TYPE_ARM_SMMUV3) with their virtual
 * devices, guest invalidation commands and virtual event queues.  Nested
 * domains themselves are in nested.c, hardware information in hw_info.c.
 * Built only on kernels with iommufd's vIOMMU interface (SMMUV3_HAVE_VIOMMU,
 * see include/smmuv3/compat.h).
 *
 * A vIOMMU is backed by one instance and owns a VMID on it for its whole
 * life, or until the instance is removed (see struct smmuv3_viommu).  Its
 * nesting parent may be shared with vIOMMUs on other instances: each adds
 * its own VMID to the parent's invalidation array while devices are
 * attached to its nested domains.
 */
#include <linux/iommu.h>
#include <linux/iommufd.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>
#include <kunit/visibility.h>
#include <uapi/linux/iommufd.h>

#include <smmuv3/smmuv3.h>

bool smmuv3_viommu_assume_coherent;
EXPORT_SYMBOL_IF_KUNIT(smmuv3_viommu_assume_coherent);
module_param_named(viommu_assume_coherent, smmuv3_viommu_assume_coherent,
		   bool, 0644);
MODULE_PARM_DESC(viommu_assume_coherent,
		 "Allow vIOMMUs on instances without S2FWB, trusting that every device DMA is cache-coherent (unsafe on platforms where it is not; default: false)");

#if IS_ENABLED(CONFIG_IOMMUFD_DRIVER_CORE)

static inline struct smmuv3_viommu *to_smmuv3_viommu(struct iommufd_viommu *v)
{
	return container_of(v, struct smmuv3_viommu, core);
}

/*
 * Without S2FWB a guest's memory attributes win over the host's: a guest
 * mapping a page non-cacheable could read stale data that a coherent device
 * wrote.  What counts is the stage-2 table the guest's stage 1 is nested
 * in: @fwb is whether it is written in the S2FWB format (for the instance
 * as a whole, whether it can have one).  A parent created on an instance
 * without S2FWB has a table without it, on whichever instance it is used.
 * A device whose firmware says CANWBS (IORT memory access flags: coherent,
 * cacheable, write-back shareable) needs neither (@canwbs): its accesses
 * are coherent whatever attributes the guest gives them, which is how the
 * kernel's driver decides too.  The device is known when the vIOMMU's size
 * is asked (smmuv3_get_viommu_size()), not at its init.
 */
static bool smmuv3_viommu_coherent(struct smmuv3_device *smmu, bool fwb,
				   bool canwbs)
{
	if (fwb || canwbs)
		return true;
	if (!READ_ONCE(smmuv3_viommu_assume_coherent)) {
		dev_info_ratelimited(smmu->dev,
				     "no vIOMMU: no S2FWB in the SMMU or the nesting parent's table, and no CANWBS from firmware (see the viommu_assume_coherent parameter)\n");
		return false;
	}
	dev_warn_once(smmu->dev,
		      "vIOMMU without S2FWB: trusting viommu_assume_coherent that all DMA is coherent\n");
	return true;
}

/**
 * smmuv3_get_viommu_size() - the size of our vIOMMU, if one may be made
 * @dev: a device behind the instance
 * @type: the requested vIOMMU type
 *
 * Return: the size, or 0 (the core then fails with -EOPNOTSUPP) for
 * another type, an instance without nesting, or a device without CANWBS
 * on an instance without S2FWB and without the viommu_assume_coherent
 * opt-in (no nesting parent it can use has an S2FWB table;
 * smmuv3_viommu_init() checks the parent's own).
 */
size_t smmuv3_get_viommu_size(struct device *dev, enum iommu_viommu_type type)
{
	struct smmuv3_master *master = smmuv3_dev_master(dev);
	struct smmuv3_device *smmu = master->smmu;

	if (type != IOMMU_VIOMMU_TYPE_ARM_SMMUV3)
		return 0;
	if (!smmuv3_can_nest(smmu))
		return 0;
	if (!smmuv3_viommu_coherent(smmu, smmu->feat.flags & SMMUV3_FEAT_S2FWB,
				    smmuv3_master_canwbs(master)))
		return 0;
	return VIOMMU_STRUCT_SIZE(struct smmuv3_viommu, core);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_get_viommu_size);

/*
 * No nested domain is attached any more: the VMID is in no array.  Unless
 * the instance's removal freed it already, it is flushed and freed here.
 */
static void smmuv3_viommu_destroy(struct iommufd_viommu *core)
{
	struct smmuv3_viommu *viommu = to_smmuv3_viommu(core);
	struct smmuv3_device *smmu = viommu->smmu;

	/* An event may still be on its way to a vEVENTQ. */
	wait_var_event(&viommu->reporting, !atomic_read(&viommu->reporting));
	down_write(&smmu->viommu_rwsem);
	if (!list_empty(&viommu->node)) {
		list_del_init(&viommu->node);
		smmuv3_tag_free(&viommu->vmid);
	}
	up_write(&smmu->viommu_rwsem);
	smmuv3_instance_put(smmu);
}

/**
 * smmuv3_viommus_remove() - free the VMIDs of an instance's vIOMMUs
 * @smmu: an instance being removed, whose command queue still works and
 *	behind which no device is attached any more
 *
 * vIOMMUs may outlive their instance (iommufd frees them when user space
 * says so); from now on they issue no command and free nothing, and a new
 * one cannot be made here.  Called before the ID allocators are destroyed.
 */
void smmuv3_viommus_remove(struct smmuv3_device *smmu)
{
	struct smmuv3_viommu *viommu, *next;

	down_write(&smmu->viommu_rwsem);
	smmu->removed = true;
	list_for_each_entry_safe(viommu, next, &smmu->viommus, node) {
		list_del_init(&viommu->node);
		smmuv3_tag_free(&viommu->vmid);
	}
	up_write(&smmu->viommu_rwsem);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_viommus_remove);

/**
 * smmuv3_vdevice_check() - whether @master may be a vdevice of @viommu
 * @viommu: the vIOMMU
 * @master: the device's master
 * @virt_id: the virtual stream ID the VMM gives it
 *
 * A virtual stream ID stands for one physical stream: guest commands go to
 * the master's first (smmuv3_guest_cmd_fixup()), so a master with more
 * streams would have the others' caches left stale.
 *
 * Return: 0; -EINVAL for a master behind another instance or a virtual ID
 * wider than a stream ID (32 bits); -EOPNOTSUPP for a master with more than
 * one stream.
 */
VISIBLE_IF_KUNIT
int smmuv3_vdevice_check(const struct smmuv3_viommu *viommu,
			 const struct smmuv3_master *master, u64 virt_id)
{
	if (master->smmu != viommu->smmu)
		return -EINVAL;
	if (virt_id > U32_MAX)
		return -EINVAL;
	if (master->num_streams != 1)
		return -EOPNOTSUPP;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_vdevice_check);

static int smmuv3_vdevice_init(struct iommufd_vdevice *vdev)
{
	struct device *dev = iommufd_vdevice_to_device(vdev);

	return smmuv3_vdevice_check(to_smmuv3_viommu(vdev->viommu),
				    smmuv3_dev_master(dev), vdev->virt_id);
}

/* TLBI TG: the 16KB granule (IHI 0070 4.4.1.1) */
#define SMMUV3_GUEST_TG_16K	2

/*
 * The range fields of a guest TLBI_NH_VA or TLBI_NH_VAA, on an instance
 * with range invalidation (IHI 0070 4.4.1.1).  TG = 0 is an address
 * without range: NUM, SCALE and TTL must be 0.  With a TG, NUM = SCALE =
 * TTL = 0 is reserved, and TTL 0b01 with the 16KB granule (level 1) needs
 * SMMU_IDR5.DS, which the driver does not use.  The SMMU would stop the
 * queue (CERROR_ILL) on any of these, failing other users' commands.
 */
static bool smmuv3_guest_range_ok(const u64 *cmd)
{
	bool range = cmd[0] & (SMMUV3_CMD0_NUM | SMMUV3_CMD0_SCALE);
	u32 ttl = FIELD_GET(SMMUV3_CMD1_TTL, cmd[1]);
	u32 tg = FIELD_GET(SMMUV3_CMD1_TG, cmd[1]);

	if (!tg)
		return !range && !ttl;
	if (tg == SMMUV3_GUEST_TG_16K && ttl == 1)
		return false;
	return range || ttl;
}

/**
 * smmuv3_guest_cmd_ok() - whether a guest may forward a command
 * @smmu: the vIOMMU's instance
 * @cmd: the command, in CPU order
 *
 * Without range invalidation, the range fields of TLBI_NH_VA/VAA (NUM,
 * SCALE, TG, TTL) are RES0; with it, smmuv3_guest_range_ok() decides.
 * Substream fields (CFGI_CD's SSID, ATC_INV's SSV, SSID and Global) need
 * an instance with substreams, an SSID below 2^SSIDSIZE, and ATC_INV's
 * Size is 52 (everything) at most.
 *
 * Return: true if the opcode is one a guest may use and no field is set
 * that a guest may not set, or that @smmu does not implement.
 */
VISIBLE_IF_KUNIT
bool smmuv3_guest_cmd_ok(const struct smmuv3_device *smmu, const u64 *cmd)
{
	u64 w0 = SMMUV3_CMD0_OP | SMMUV3_CMD0_VMID, w1 = 0;
	bool sub = smmu->feat.ssid_bits;
	u32 ssid = 0;

	switch (FIELD_GET(SMMUV3_CMD0_OP, cmd[0])) {
	case SMMUV3_OP_TLBI_NH_VA:
		w0 |= SMMUV3_CMD0_ASID;
		fallthrough;
	case SMMUV3_OP_TLBI_NH_VAA:
		w1 = SMMUV3_CMD1_LEAF | SMMUV3_CMD1_VA;
		if (smmu->feat.flags & SMMUV3_FEAT_RANGE_INV) {
			if (!smmuv3_guest_range_ok(cmd))
				return false;
			w0 |= SMMUV3_CMD0_NUM | SMMUV3_CMD0_SCALE;
			w1 |= SMMUV3_CMD1_TTL | SMMUV3_CMD1_TG;
		}
		break;
	case SMMUV3_OP_TLBI_NH_ASID:
		w0 |= SMMUV3_CMD0_ASID;
		break;
	case SMMUV3_OP_TLBI_NH_ALL:
	case SMMUV3_OP_TLBI_NSNH_ALL:
		break;
	case SMMUV3_OP_CFGI_CD:
		w0 = SMMUV3_CMD0_OP | SMMUV3_CMD0_SID;
		ssid = FIELD_GET(SMMUV3_CMD0_SSID, cmd[0]);
		if (sub)
			w0 |= SMMUV3_CMD0_SSID;
		w1 = SMMUV3_CMD1_LEAF;
		break;
	case SMMUV3_OP_CFGI_CD_ALL:
		w0 = SMMUV3_CMD0_OP | SMMUV3_CMD0_SID;
		break;
	case SMMUV3_OP_ATC_INV:
		if (FIELD_GET(SMMUV3_CMD1_ATC_SIZE, cmd[1]) >
		    SMMUV3_ATC_INV_SIZE_ALL)
			return false;
		w0 = SMMUV3_CMD0_OP | SMMUV3_CMD0_SID;
		ssid = FIELD_GET(SMMUV3_CMD0_SSID, cmd[0]);
		if (sub)
			w0 |= SMMUV3_CMD0_SSID | SMMUV3_CMD0_SSV |
			      SMMUV3_CMD0_ATC_GLOBAL;
		w1 = SMMUV3_CMD1_ATC_SIZE | SMMUV3_CMD1_ATC_ADDR;
		break;
	default:
		return false;
	}
	if ((cmd[0] & ~w0) || (cmd[1] & ~w1))
		return false;
	if (smmu->feat.asid_bits == 8 &&
	    FIELD_GET(SMMUV3_CMD0_ASID, cmd[0]) > U8_MAX)
		return false;
	/* No substream beyond SMMU_IDR1.SSIDSIZE (a 20-bit field). */
	if (ssid >= BIT_ULL(smmu->feat.ssid_bits))
		return false;
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_guest_cmd_ok);

/*
 * Make a guest command a host command: the vIOMMU's VMID, the physical
 * stream of a virtual one.  Returns false if the command must not be issued
 * (an ATC invalidation for a device without ATS: nothing is cached), and
 * sets *err for a virtual stream ID without a vdevice.
 */
static bool smmuv3_guest_cmd_fixup(struct smmuv3_viommu *viommu, u64 *cmd,
				   int *err)
{
	u8 op = FIELD_GET(SMMUV3_CMD0_OP, cmd[0]);
	struct smmuv3_master *master;
	struct device *dev;
	bool ats = false;

	switch (op) {
	case SMMUV3_OP_TLBI_NSNH_ALL:
		cmd[0] = FIELD_PREP(SMMUV3_CMD0_OP, SMMUV3_OP_TLBI_NH_ALL);
		fallthrough;
	case SMMUV3_OP_TLBI_NH_VA:
	case SMMUV3_OP_TLBI_NH_VAA:
	case SMMUV3_OP_TLBI_NH_ASID:
	case SMMUV3_OP_TLBI_NH_ALL:
		cmd[0] &= ~SMMUV3_CMD0_VMID;
		cmd[0] |= FIELD_PREP(SMMUV3_CMD0_VMID, viommu->vmid.id);
		return true;
	}

	xa_lock(&viommu->core.vdevs);
	dev = iommufd_viommu_find_dev(&viommu->core,
				      FIELD_GET(SMMUV3_CMD0_SID, cmd[0]));
	master = dev ? smmuv3_dev_master(dev) : NULL;
	if (master) {
		cmd[0] &= ~SMMUV3_CMD0_SID;
		cmd[0] |= FIELD_PREP(SMMUV3_CMD0_SID, master->streams[0].sid);
		/* The master is the vdevice's only while the lock is held. */
		ats = READ_ONCE(master->ats_enabled);
	}
	xa_unlock(&viommu->core.vdevs);
	if (!master) {
		*err = -EIO;
		return false;
	}
	/* A device without ATS enabled has no ATC to clean. */
	return op != SMMUV3_OP_ATC_INV || ats;
}

/**
 * smmuv3_viommu_cache_invalidate() - issue a guest's invalidation commands
 * @core: the vIOMMU
 * @array: IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 commands
 *
 * Commands are checked and issued in order; on the first bad one, or a
 * failure to issue, @array->entry_num is set to the number handled.  All
 * are issued in one batch, waited for at the end: if the SMMU rejected any
 * of them, or did not complete them in time, none counts as handled.  An
 * empty array only checks the data type (uapi: it tells user space whether
 * the type is supported).
 *
 * Return: 0 only if the SMMU completed every command; -EINVAL for an empty
 * array of another data type; -EIO for a command with an opcode or a field
 * a guest may not use, a virtual stream ID without a vdevice, or a command
 * the SMMU rejected; -ETIMEDOUT; or a copy error.
 */
VISIBLE_IF_KUNIT
int smmuv3_viommu_cache_invalidate(struct iommufd_viommu *core,
				   struct iommu_user_data_array *array)
{
	const unsigned int data_type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3;
	struct smmuv3_viommu *viommu = to_smmuv3_viommu(core);
	struct smmuv3_device *smmu = viommu->smmu;
	struct smmuv3_cmd_batch batch __uninitialized;
	unsigned int i, done = 0;
	int ret = 0;

	if (!array->entry_num)
		return array->type == data_type ? 0 : -EINVAL;
	smmuv3_batch_init(&batch, smmu);
	for (i = 0; i < array->entry_num; i++) {
		struct iommu_viommu_arm_smmuv3_invalidate arg;
		u64 cmd[SMMUV3_CMD_QWORDS];

		/* entry_num is the guest's: up to U32_MAX entries */
		if (i && !(i % SMMUV3_BATCH_MAX))
			cond_resched();

		ret = iommu_copy_struct_from_user_array(&arg, array, data_type,
							i, cmd);
		if (ret)
			break;
		cmd[0] = le64_to_cpu(arg.cmd[0]);
		cmd[1] = le64_to_cpu(arg.cmd[1]);
		if (!smmuv3_guest_cmd_ok(smmu, cmd)) {
			ret = -EIO;
			break;
		}
		if (smmuv3_guest_cmd_fixup(viommu, cmd, &ret))
			ret = smmuv3_batch_add_words(&batch, cmd);
		if (ret)
			break;
		done = i + 1;
	}
	if (batch.num || done) {
		int sync = smmuv3_batch_submit(&batch);

		if (!ret)
			ret = sync;
		if (sync)
			done = 0;
	}
	array->entry_num = done;
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_viommu_cache_invalidate);

/*
 * Guest commands go to the instance only while it is there: the removal
 * waits for the commands in flight, and later ones fail with -ENODEV.
 */
static int smmuv3_viommu_invalidate_live(struct iommufd_viommu *core,
					 struct iommu_user_data_array *array)
{
	struct smmuv3_device *smmu = to_smmuv3_viommu(core)->smmu;
	int ret = -ENODEV;

	down_read(&smmu->viommu_rwsem);
	if (!smmu->removed)
		ret = smmuv3_viommu_cache_invalidate(core, array);
	else
		array->entry_num = 0;
	up_read(&smmu->viommu_rwsem);
	return ret;
}

static const struct iommufd_viommu_ops smmuv3_viommu_ops = {
	.destroy = smmuv3_viommu_destroy,
	.alloc_domain_nested = smmuv3_nested_alloc,
	.cache_invalidate = smmuv3_viommu_invalidate_live,
	.vdevice_init = smmuv3_vdevice_init,
};

/**
 * smmuv3_viommu_init() - set up a vIOMMU on a nesting parent
 * @core: the vIOMMU, sized by smmuv3_get_viommu_size()
 * @parent: the nesting-parent domain
 * @user_data: must be NULL
 *
 * A parent whose table is not in the S2FWB format is refused unless it
 * enforces cache coherency (iommufd asked for it for a CANWBS device: every
 * device attached has CANWBS) or the viommu_assume_coherent opt-in is set,
 * even on an instance with S2FWB.
 *
 * Return: 0; -EOPNOTSUPP for user data, or for a parent without S2FWB and
 * without the opt-in; -EINVAL for a parent that is not ours, not a nesting
 * parent, or not usable by this instance; -ENOSPC when the instance has no
 * VMID left; -ENODEV when the instance is being removed.
 */
int smmuv3_viommu_init(struct iommufd_viommu *core, struct iommu_domain *parent,
		       const struct iommu_user_data *user_data)
{
	struct smmuv3_viommu *viommu = to_smmuv3_viommu(core);
	struct smmuv3_device *smmu =
		container_of(core->iommu_dev, struct smmuv3_device, iommu);
	struct smmuv3_domain *s2;
	bool canwbs;
	int ret;

	if (user_data)
		return -EOPNOTSUPP;
	if (parent->ops != &smmuv3_paging_ops)
		return -EINVAL;
	s2 = to_smmuv3_domain(parent);
	if (!s2->nest_parent || smmuv3_domain_compatible(s2, smmu))
		return -EINVAL;
	/*
	 * A parent that enforces coherency has only CANWBS devices, now and
	 * later (smmuv3_domain_publish() refuses others, nested ones too).
	 */
	mutex_lock(&s2->mutex);
	canwbs = s2->enforce_cc;
	mutex_unlock(&s2->mutex);
	if (!smmuv3_viommu_coherent(smmu, s2->pgtbl_cfg.quirks &
				    IO_PGTABLE_QUIRK_ARM_S2FWB, canwbs))
		return -EOPNOTSUPP;

	viommu->smmu = smmu;
	atomic_set(&viommu->reporting, 0);
	viommu->parent = s2;
	viommu->vmid = (struct smmuv3_inv){
		.smmu = smmu,
		.type = SMMUV3_INV_S2_VMID_S1_CLEAR,
		.users = 1,
	};
	INIT_LIST_HEAD(&viommu->node);

	down_write(&smmu->viommu_rwsem);
	ret = smmu->removed ? -ENODEV :
	      smmuv3_tag_alloc_id(smmu, SMMUV3_INV_S2_VMID_S1_CLEAR,
				  &viommu->vmid.id);
	if (!ret) {
		list_add_tail(&viommu->node, &smmu->viommus);
		/* Not removed: the driver's own reference is still there. */
		smmuv3_instance_get(smmu);
	}
	up_write(&smmu->viommu_rwsem);
	if (ret)
		return ret;
	core->ops = &smmuv3_viommu_ops;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_viommu_init);

/**
 * smmuv3_viommu_event_pin() - make a guest's event record and pin its vIOMMU
 * @master: a master attached to a nested domain (master->viommu set);
 *	called with smmuv3_device.streams_mutex held
 * @evt: an event record that is the guest's (smmuv3_event_for_guest())
 * @vevt: SMMUV3_EVT_QWORDS words: the record as the guest sees it, its
 *	stream ID replaced by the device's virtual stream ID
 *
 * Return: master->viommu, pinned until smmuv3_viommu_event_report() (see
 * smmuv3_viommu.reporting); NULL for a device without a vdevice, whose
 * events the caller handles as the host's.
 */
struct smmuv3_viommu *smmuv3_viommu_event_pin(struct smmuv3_master *master,
					      const u64 *evt, __le64 *vevt)
{
	struct smmuv3_viommu *viommu = master->viommu;
	unsigned long vsid;
	int i;

	lockdep_assert_held(&master->smmu->streams_mutex);

	if (iommufd_viommu_get_vdev_id(&viommu->core, master->dev, &vsid))
		return NULL;
	for (i = 0; i < SMMUV3_EVT_QWORDS; i++)
		vevt[i] = cpu_to_le64(evt[i]);
	vevt[0] &= ~cpu_to_le64(SMMUV3_EVT0_SID);
	vevt[0] |= cpu_to_le64(FIELD_PREP(SMMUV3_EVT0_SID, vsid));
	atomic_inc(&viommu->reporting);
	return viommu;
}

/**
 * smmuv3_viommu_event_report() - forward a record to a vIOMMU's vEVENTQ
 * @viommu: pinned by smmuv3_viommu_event_pin(); unpinned here
 * @vevt: the record smmuv3_viommu_event_pin() made
 *
 * Called with no lock of ours held (smmuv3_viommu.reporting says why).
 *
 * Return: 0 when it was queued, or what iommufd_viommu_report_event()
 * returns (no vEVENTQ, no memory): the caller then logs the event.
 */
int smmuv3_viommu_event_report(struct smmuv3_viommu *viommu,
			       const __le64 *vevt)
{
	struct iommu_vevent_arm_smmuv3 rec;
	int ret;

	BUILD_BUG_ON(sizeof(rec.evt) != SMMUV3_EVT_QWORDS * sizeof(*vevt));
	memcpy(rec.evt, vevt, sizeof(rec.evt));
	ret = iommufd_viommu_report_event(&viommu->core,
					  IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
					  &rec, sizeof(rec));
	/* wake_up_var() only hashes the address: fine if destroy ran. */
	if (atomic_dec_and_test(&viommu->reporting))
		wake_up_var(&viommu->reporting);
	return ret;
}

#else /* !CONFIG_IOMMUFD_DRIVER_CORE: the kernel has no iommufd */

size_t smmuv3_get_viommu_size(struct device *dev, enum iommu_viommu_type type)
{
	return 0;
}

int smmuv3_viommu_init(struct iommufd_viommu *core, struct iommu_domain *parent,
		       const struct iommu_user_data *user_data)
{
	return -EOPNOTSUPP;
}

struct smmuv3_viommu *smmuv3_viommu_event_pin(struct smmuv3_master *master,
					      const u64 *evt, __le64 *vevt)
{
	return NULL;
}

int smmuv3_viommu_event_report(struct smmuv3_viommu *viommu,
			       const __le64 *vevt)
{
	return -EOPNOTSUPP;
}

void smmuv3_viommus_remove(struct smmuv3_device *smmu)
{
}

#endif
