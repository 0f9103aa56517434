// SPDX-License-Identifier: GPL-2.0-only
/*
 * Client devices ("masters") of an instance: probe and release, their
 * stream IDs, and IOMMU groups.
 *
 * Stream IDs come from firmware (the IORT ID mappings or the DT "iommus"
 * property) and are checked against the instance's stream table.  Each is
 * entered in smmuv3_device.streams, the reverse map used to name the device
 * behind an event; the tree is protected by smmuv3_device.streams_mutex.
 */
#include <linux/device.h>
#include <linux/iommu.h>
#include <linux/log2.h>
#include <linux/of.h>
#include <linux/pci.h>
#include <linux/pci-ats.h>
#include <linux/property.h>
#include <linux/slab.h>

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

static int smmuv3_insert_streams(struct smmuv3_master *master,
				 const u32 *ids)
{
	struct smmuv3_device *smmu = master->smmu;
	unsigned int i;
	int ret = 0;

	mutex_lock(&smmu->streams_mutex);
	for (i = 0; i < master->num_streams; i++) {
		struct smmuv3_stream *stream = &master->streams[i];

		stream->sid = ids[i];
		stream->master = master;

		ret = smmuv3_strtab_prepare_sid(smmu, stream->sid);
		if (ret == -ERANGE)
			dev_err_ratelimited(master->dev,
					    "stream ID %#x beyond the %u bits of %s\n",
					    stream->sid, smmu->strtab.sid_bits,
					    smmu->name);
		if (ret)
			break;
		/* Firmware may list a stream twice, or give it to two devices. */
		if (rb_find_add(&stream->node, &smmu->streams, smmuv3_stream_cmp)) {
			dev_err_ratelimited(master->dev,
					    "stream ID %#x is already in use on %s\n",
					    stream->sid, smmu->name);
			ret = -EEXIST;
			break;
		}
	}
	if (ret)
		smmuv3_remove_streams(master, i);
	mutex_unlock(&smmu->streams_mutex);
	return ret;
}

/*
 * The substream ID width a device gets: what it can issue (the PCI PASID
 * capability, or the firmware's "pasid-num-bits"), at most what a CD table
 * of the instance covers.  The core applies the same limits to the PASIDs
 * it lets through; sizing the CD table by them keeps a device without
 * PASIDs at one CD.
 */
static u8 smmuv3_master_ssid_bits(struct device *dev,
				  const struct smmuv3_device *smmu)
{
	u32 bits = 0;

	if (dev_is_pci(dev)) {
		int n = pci_max_pasids(to_pci_dev(dev));

		if (n > 0)
			bits = ilog2(n);
	} else if (device_property_read_u32(dev, "pasid-num-bits", &bits)) {
		bits = 0;
	}
	return min_t(u32, bits, smmuv3_cdtab_ssid_bits(smmu));
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
	master->streams = kcalloc(fwspec->num_ids, sizeof(*master->streams),
				  GFP_KERNEL);
	if (!master->streams) {
		ret = -ENOMEM;
		goto err_free;
	}
	master->smmu = smmu;
	master->dev = dev;
	master->num_streams = fwspec->num_ids;
	master->ssid_bits = smmuv3_master_ssid_bits(dev, smmu);
	xa_init(&master->pasids);

	ret = smmuv3_insert_streams(master, fwspec->ids);
	if (ret)
		goto err_free_streams;

	dev_iommu_priv_set(dev, master);
	return &smmu->iommu;

err_free_streams:
	kfree(master->streams);
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
	struct smmuv3_device *smmu = master->smmu;

	smmuv3_release_attachments(master);
	mutex_lock(&smmu->streams_mutex);
	smmuv3_remove_streams(master, master->num_streams);
	mutex_unlock(&smmu->streams_mutex);

	dev_iommu_priv_set(dev, NULL);
	kfree(master->streams);
	kfree(master);
}

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
