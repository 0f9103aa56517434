// SPDX-License-Identifier: GPL-2.0-only
/*
 * Client devices ("masters") of an instance: probe and release, their
 * stream IDs, and IOMMU groups.
 *
 * Stream IDs come from firmware (the IORT ID mappings or the DT "iommus"
 * property) and are checked against the instance's stream table.  Each is
 * entered in smmuv3_device.streams, the reverse map used to name the device
 * behind an event; the tree is protected by smmuv3_device.streams_mutex.
 *
 * PCI devices with a PASID capability get it enabled at probe when the
 * instance has substreams, and disabled at release, as the kernel's own
 * SMMUv3 driver does: until then the device never tags a request with a
 * PASID, whatever its driver asks for.
 */
#include <linux/device.h>
#include <linux/iommu.h>
#include <linux/log2.h>
#include <linux/of.h>
#include <linux/pci.h>
#include <linux/pci-ats.h>
#include <linux/property.h>
#include <linux/slab.h>
#include <kunit/visibility.h>

#include <smmuv3/smmuv3.h>

/**
 * smmuv3_find_master() - the master owning a stream ID
 * @smmu: the instance
 * @sid: the stream ID
 *
 * Called with smmuv3_device.streams_mutex held; the master stays valid
 * until it is dropped.
 *
 * Return: the master, or NULL.
 */
struct smmuv3_master *smmuv3_find_master(struct smmuv3_device *smmu, u32 sid)
{
	struct rb_node *node = smmu->streams.rb_node;

	lockdep_assert_held(&smmu->streams_mutex);

	while (node) {
		struct smmuv3_stream *stream =
			rb_entry(node, struct smmuv3_stream, node);

		if (sid < stream->sid)
			node = node->rb_left;
		else if (sid > stream->sid)
			node = node->rb_right;
		else
			return stream->master;
	}
	return NULL;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_find_master);

static int smmuv3_stream_cmp(struct rb_node *a, const struct rb_node *b)
{
	u32 sa = rb_entry(a, struct smmuv3_stream, node)->sid;
	u32 sb = rb_entry(b, struct smmuv3_stream, node)->sid;

	return sa < sb ? -1 : sa > sb;
}

static void smmuv3_remove_streams(struct smmuv3_master *master,
				  unsigned int num)
{
	struct smmuv3_device *smmu = master->smmu;
	unsigned int i;

	lockdep_assert_held(&smmu->streams_mutex);

	for (i = 0; i < num; i++)
		rb_erase(&master->streams[i].node, &smmu->streams);
}

static int smmuv3_insert_streams(struct smmuv3_master *master)
{
	struct smmuv3_device *smmu = master->smmu;
	unsigned int i;
	int ret = 0;

	mutex_lock(&smmu->streams_mutex);
	for (i = 0; i < master->num_streams; i++) {
		struct smmuv3_stream *stream = &master->streams[i];

		struct rb_node *other;

		ret = smmuv3_strtab_prepare_sid(smmu, stream->sid);
		if (ret == -ERANGE) {
			dev_warn_ratelimited(master->dev,
					     "stream ID %#x beyond the %u bits of %s: no IOMMU for this device\n",
					     stream->sid, smmu->strtab.sid_bits,
					     smmu->name);
			ret = -ENODEV;
		}
		if (ret)
			break;
		/*
		 * Another master has it: firmware gave it to two devices (two
		 * conventional PCI devices behind one PCIe-to-PCI bridge share
		 * the bridge's alias).  One STE cannot serve two devices'
		 * domains: the first keeps it.
		 */
		other = rb_find_add(&stream->node, &smmu->streams,
				    smmuv3_stream_cmp);
		if (other) {
			const char *name = dev_name(rb_entry(other,
							     struct smmuv3_stream,
							     node)->master->dev);

			dev_warn_ratelimited(master->dev,
					     "stream ID %#x is also %s's on %s, and aliased stream IDs are not supported: no IOMMU for this device, whose DMA with that ID %s's domain translates\n",
					     stream->sid, name, smmu->name, name);
			ret = -ENODEV;
			break;
		}
	}
	if (ret)
		smmuv3_remove_streams(master, i);
	mutex_unlock(&smmu->streams_mutex);
	return ret;
}

/**
 * smmuv3_probe_refused() - would probe_device refuse a device
 * @smmu: the instance firmware puts the device behind
 * @dev: the device, with its firmware description (fwspec)
 *
 * For a device left without an IOMMU group after registration: true if
 * that is our own refusal, already logged at its probe (a stream ID beyond
 * the stream table or owned by another master, see
 * smmuv3_master_add_streams(); or a device that requires ATS where it
 * cannot have it, see smmuv3_ats_probe()), not a failed probe worth
 * registering again for.
 *
 * Return: true if probe_device refuses @dev.
 */
bool smmuv3_probe_refused(struct smmuv3_device *smmu, struct device *dev)
{
	struct iommu_fwspec *fwspec = dev_iommu_fwspec_get(dev);
	bool refused = false;
	unsigned int i;

	if (!fwspec)
		return false;
	if (smmuv3_ats_refused(smmu, dev))
		return true;
	mutex_lock(&smmu->streams_mutex);
	for (i = 0; i < fwspec->num_ids && !refused; i++)
		refused = fwspec->ids[i] >= (1ULL << smmu->strtab.sid_bits) ||
			  smmuv3_find_master(smmu, fwspec->ids[i]);
	mutex_unlock(&smmu->streams_mutex);
	return refused;
}

/**
 * smmuv3_has_platform_masters() - is a non-PCI device behind an instance
 * @smmu: the instance
 *
 * Return: true if one of its masters is not a PCI device.
 */
bool smmuv3_has_platform_masters(struct smmuv3_device *smmu)
{
	struct rb_node *node;
	bool found = false;

	mutex_lock(&smmu->streams_mutex);
	for (node = rb_first(&smmu->streams); node && !found;
	     node = rb_next(node))
		found = !dev_is_pci(rb_entry(node, struct smmuv3_stream,
					     node)->master->dev);
	mutex_unlock(&smmu->streams_mutex);
	return found;
}

/**
 * smmuv3_master_add_streams() - give a master its stream IDs
 * @master: the master, with its instance and device, without streams
 * @ids: the stream IDs firmware lists for the device, in its order
 * @num: their number, at least 1
 *
 * Firmware may list a stream ID twice for one device: a PCI device's DMA
 * aliases are all listed, and a conventional PCI device at devfn 0 behind
 * a PCIe-to-PCI bridge has the bridge's alias (secondary bus, devfn 0) as
 * well as its own requester ID, which are the same.  Each stream is kept
 * once.  A stream ID that another master already has is refused, as one
 * beyond the stream table: the device then has no IOMMU (probe_device
 * fails with -ENODEV, the one error the iommu core's bus probe ignores),
 * and the instance keeps serving its other devices.
 *
 * Return: 0; -ENOMEM; -ENODEV for an ID beyond the stream table or of
 * another master (logged).  On failure the master has no streams.
 */
int smmuv3_master_add_streams(struct smmuv3_master *master, const u32 *ids,
			      unsigned int num)
{
	unsigned int i, j, n = 0;
	int ret;

	master->streams = kcalloc(num, sizeof(*master->streams), GFP_KERNEL);
	if (!master->streams)
		return -ENOMEM;
	for (i = 0; i < num; i++) {
		for (j = 0; j < n; j++)
			if (master->streams[j].sid == ids[i])
				break;
		if (j < n)
			continue;
		master->streams[n].sid = ids[i];
		master->streams[n].master = master;
		n++;
	}
	master->num_streams = n;

	ret = smmuv3_insert_streams(master);
	if (ret) {
		kfree(master->streams);
		master->streams = NULL;
		master->num_streams = 0;
	}
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_master_add_streams);

/**
 * smmuv3_master_del_streams() - take a master's stream IDs back
 * @master: the master, whose STEs no longer use anything it owns
 */
void smmuv3_master_del_streams(struct smmuv3_master *master)
{
	mutex_lock(&master->smmu->streams_mutex);
	smmuv3_remove_streams(master, master->num_streams);
	mutex_unlock(&master->smmu->streams_mutex);
	kfree(master->streams);
	master->streams = NULL;
	master->num_streams = 0;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_master_del_streams);

/**
 * smmuv3_pci_pasid_plan() - decide about a PCI device's PASID capability
 * @max_pasids: pci_max_pasids() of the device: the number of PASIDs it
 *	supports, or a negative errno without a PASID capability
 * @dev_features: pci_pasid_features() of the device, or a negative errno
 * @cdtab_bits: the substream width a CD table of the instance covers (0:
 *	the instance has no substreams)
 * @plan: the decision
 *
 * The capability is enabled, with the device's features that an SMMU
 * takes (SMMUV3_PCI_PASID_FEATURES), when the device has at least two
 * PASIDs (PASID 0 is the RID's) and the instance substreams: only then can
 * a PASID be attached, and a device with PASIDs enabled behind an instance
 * without substreams would have its tagged requests refused.
 */
void smmuv3_pci_pasid_plan(int max_pasids, int dev_features, u8 cdtab_bits,
			   struct smmuv3_pasid_plan *plan)
{
	*plan = (struct smmuv3_pasid_plan){};
	if (max_pasids < 2 || dev_features < 0 || !cdtab_bits)
		return;
	plan->enable = true;
	plan->features = dev_features & SMMUV3_PCI_PASID_FEATURES;
	plan->ssid_bits = min_t(u32, ilog2(max_pasids), cdtab_bits);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_pci_pasid_plan);

/*
 * A PCI device's substream width: its PASID capability enabled if the plan
 * says so, or no substreams when that fails.
 */
static u8 smmuv3_pci_enable_pasid(struct smmuv3_master *master)
{
	struct pci_dev *pdev = to_pci_dev(master->dev);
	struct smmuv3_pasid_plan plan;
	int ret;

	smmuv3_pci_pasid_plan(pci_max_pasids(pdev), pci_pasid_features(pdev),
			      smmuv3_cdtab_ssid_bits(master->smmu), &plan);
	if (!plan.enable)
		return 0;
	/* Someone else's (pci_enable_pasid() would warn): not ours to use. */
	if (pdev->pasid_enabled) {
		dev_info_ratelimited(master->dev,
				     "PASID capability already enabled: no PASIDs\n");
		return 0;
	}
	ret = pci_enable_pasid(pdev, plan.features);
	if (ret) {
		dev_info_ratelimited(master->dev,
				     "PASID capability not enabled (%d): no PASIDs\n",
				     ret);
		return 0;
	}
	master->pasid_enabled = true;
	return plan.ssid_bits;
}

/*
 * The substream ID width a device gets: what it can issue (the PCI PASID
 * capability, once enabled, or the firmware's "pasid-num-bits"), at most
 * what a CD table of the instance covers.  The core applies the same limits
 * to the PASIDs it lets through; sizing the CD table by them keeps a device
 * without PASIDs at one CD.
 */
static u8 smmuv3_master_ssid_bits(struct smmuv3_master *master)
{
	u32 bits;

	if (dev_is_pci(master->dev))
		return smmuv3_pci_enable_pasid(master);
	if (device_property_read_u32(master->dev, "pasid-num-bits", &bits))
		return 0;
	return min_t(u32, bits, smmuv3_cdtab_ssid_bits(master->smmu));
}

static void smmuv3_master_disable_pasid(struct smmuv3_master *master)
{
	if (!master->pasid_enabled)
		return;
	pci_disable_pasid(to_pci_dev(master->dev));
	master->pasid_enabled = false;
}

/**
 * smmuv3_probe_device() - take a device behind one of our instances
 * @dev: the device, with a fwspec naming the instance and its stream IDs
 *
 * Return: the instance's iommu_device, or an ERR_PTR.
 */
struct iommu_device *smmuv3_probe_device(struct device *dev)
{
	struct iommu_fwspec *fwspec = dev_iommu_fwspec_get(dev);
	struct smmuv3_master *master;
	struct smmuv3_device *smmu;
	int ret;

	if (!fwspec || !fwspec->num_ids)
		return ERR_PTR(-ENODEV);
	smmu = smmuv3_find_instance(fwspec->iommu_fwnode);
	if (!smmu)
		return ERR_PTR(-ENODEV);

	master = kzalloc_obj(*master, GFP_KERNEL);
	if (!master)
		return ERR_PTR(-ENOMEM);
	master->smmu = smmu;
	master->dev = dev;
	xa_init(&master->pasids);

	ret = smmuv3_master_add_streams(master, fwspec->ids, fwspec->num_ids);
	if (ret)
		goto err_free;
	smmuv3_stall_probe(master);
	ret = smmuv3_ats_probe(master);
	if (ret)
		goto err_streams;
	/*
	 * Last: nothing fails after the PASID capability is enabled.  (PCI
	 * wants PASID enabled before ATS; ATS is enabled only at attach.)
	 */
	master->ssid_bits = smmuv3_master_ssid_bits(master);

	dev_iommu_priv_set(dev, master);
	return &smmu->iommu;

err_streams:
	smmuv3_master_del_streams(master);
err_free:
	kfree(master);
	return ERR_PTR(ret);
}

/**
 * smmuv3_release_device() - forget a device
 * @dev: the device; the core has attached the release (blocked) domain
 */
void smmuv3_release_device(struct device *dev)
{
	struct smmuv3_master *master = smmuv3_dev_master(dev);

	/* Leaves ATS off, which PCI wants before PASID is disabled. */
	smmuv3_release_attachments(master);
	/* Its STEs abort: no PASID-tagged request can be in use. */
	smmuv3_master_disable_pasid(master);
	smmuv3_master_del_streams(master);
	/*
	 * Not dev_iommu_priv_set(dev, NULL): the core frees dev->iommu after
	 * this, and may call it without the lock that function asserts (when
	 * iommu_device_register() fails and unwinds).
	 */
	kfree(master);
}

/* HiSilicon PCIe Tune and Trace (PTT): traces with physical addresses. */
#define SMMUV3_HISI_PTT_DEVICE		0xa12e

/**
 * smmuv3_pci_identity_only() - must a PCI function stay untranslated
 * @vendor: its vendor ID
 * @device: its device ID
 *
 * Return: true for functions whose DMA does not go through an IOMMU
 * domain's addresses (the HiSilicon PTT's trace buffers are physical).
 */
bool smmuv3_pci_identity_only(u16 vendor, u16 device)
{
	return vendor == PCI_VENDOR_ID_HUAWEI &&
	       device == SMMUV3_HISI_PTT_DEVICE;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_pci_identity_only);

/**
 * smmuv3_def_domain_type() - the default domain a device must have
 * @dev: the device
 *
 * Return: IOMMU_DOMAIN_IDENTITY for a device that only works untranslated,
 * else 0 (the core's choice).
 */
int smmuv3_def_domain_type(struct device *dev)
{
	struct pci_dev *pdev;

	if (!dev_is_pci(dev))
		return 0;
	pdev = to_pci_dev(dev);
	if (smmuv3_pci_identity_only(pdev->vendor, pdev->device))
		return IOMMU_DOMAIN_IDENTITY;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_def_domain_type);

/**
 * smmuv3_device_group() - the IOMMU group of a device
 * @dev: the device
 *
 * PCI devices share a group with their DMA aliases and with devices that
 * are not isolated from them; any other device is a group of its own.
 *
 * Return: the group, or an ERR_PTR.
 */
struct iommu_group *smmuv3_device_group(struct device *dev)
{
	if (dev_is_pci(dev))
		return pci_device_group(dev);
	return generic_device_group(dev);
}

/**
 * smmuv3_of_xlate() - add a stream ID from a DT "iommus" specifier
 * @dev: the device
 * @args: the specifier: one cell, the stream ID
 *
 * Return: 0 or a negative errno.
 */
int smmuv3_of_xlate(struct device *dev, const struct of_phandle_args *args)
{
	if (args->args_count != 1) {
		dev_err_ratelimited(dev, "iommus specifier needs one cell, has %d\n",
				    args->args_count);
		return -EINVAL;
	}
	return iommu_fwspec_add_ids(dev, args->args, 1);
}
