// SPDX-License-Identifier: GPL-2.0-only
/*
 * Registering an instance with the iommu core (iommu_device_register())
 * without losing a PCI device that is being bound at that moment, and
 * probing again the devices the core lost; the iommu_ops every instance
 * registers (smmuv3_ops) are at the end.
 *
 * iommu_device_register() probes every device of every bus ("bus probe").
 * A device that has a driver is skipped there, because its DMA
 * configuration is taken to be done.  But the driver core sets dev->driver
 * before it configures DMA (really_probe(): dev->driver, then
 * bus->dma_configure(), then the driver's probe).  A PCI device behind this
 * instance that the deferred-probe worker is binding while we register is
 * therefore skipped by the bus probe, and its own dma_configure() a moment
 * later finds the instance registered, gives it a fwspec and returns
 * success: on ACPI nothing then probes it for the IOMMU.  It ends bound to
 * its driver with no IOMMU group, and every DMA it does aborts
 * (C_BAD_STREAMID).  Linux 7.3's core has no exported way for a driver to
 * probe it afterwards.
 *
 * The binding happens under the device's lock (device_lock()).  So the
 * instance is registered while holding the lock of every PCI device that
 * is not bound to a driver: none of them can be between "dev->driver is
 * set" and "DMA is configured" during the bus probe, which then configures
 * and probes each of them itself.  The locks are only tried, never waited
 * for (a driver's probe may take long, or wait for something we hold): if
 * some device stays busy, we let go of everything, sleep briefly, and try
 * again, for at most SMMUV3_REGISTER_WAIT_MS; then we register anyway and
 * say which device was busy.  A device that is bound, or whose probe takes
 * that long, is past the window: its DMA configuration was done before.  A
 * device that already has an IOMMU group (behind another instance) is past
 * it too, and its lock is not even tried.
 * Host bridges are left out (no driver binds them).  At most
 * SMMUV3_REGISTER_MAX_LOCKS locks are held: lockdep tracks 48 held locks
 * per task and the registration itself takes some; with more unbound
 * devices than that, the instance registers without them, as the in-tree
 * driver always does, and says so.
 *
 * The bus probe ignores a device whose probe ends with -ENODEV (any other
 * error fails the whole registration, which is why probe_device refuses a
 * device it cannot serve with -ENODEV): among them a device whose firmware
 * description could not be made or was dropped (an allocation failed in
 * the bus's DMA configuration or in the core), which Linux 7.x leaves
 * without fwspec and group, and goes on.  On ACPI nothing
 * probes it again: a driver bound later gets its fwspec from
 * acpi_dma_configure() but no IOMMU group, and all its DMA aborts
 * (C_BAD_STREAMID).  So, still holding the device locks, each locked device
 * (and free host bridge) left without a group is given its firmware
 * description again; one that then names this instance lost its probe, and
 * the instance registers once more (smmuv3_register_retry()).  Only those
 * devices can be in its groups (a bound device was configured before the
 * instance existed, has no fwspec of ours and is not probed), so
 * re-registering disturbs no driver.  An instance with platform (non-PCI)
 * devices behind it is not registered again, since their locks are not
 * held: the lost device is named in a warning instead.  A device still
 * without a group after that is named in a warning.  Without all the locks (a busy device, too
 * many devices) there is no retry: a device being bound could be probed
 * late.  smmuv3_register_mutex makes our instances register one at a time,
 * so that no other instance's bus probe frees a device's fwspec while it is
 * looked at; another IOMMU driver registering at that moment is not
 * excluded.
 *
 * After the registration, a PCI device that has no driver and still no
 * group is configured here (smmuv3_configure_unbound()): Linux 7.x's bus
 * probe configures such devices itself, Linux 6.12's leaves them for the
 * driver bind, so that a device behind an instance would show no IOMMU
 * group (and could not be put in a VFIO container by its group) until some
 * driver binds it.  On 7.x the pass finds nothing to do.  A PCI device
 * added later (hot-plug, a rescan) is given the same treatment when it is
 * added (smmuv3_pci_notifier), for the same reason.
 */
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <kunit/visibility.h>

#include <smmuv3/smmuv3.h>

/* How long to wait for busy devices before registering regardless. */
#define SMMUV3_REGISTER_WAIT_MS		5000
#define SMMUV3_REGISTER_RETRY_MS	10
#define SMMUV3_REGISTER_MAX_LOCKS	32

/*
 * Held around an instance's registration with the iommu core and the check
 * of its devices after it (smmuv3_register_retry()): see the top of this
 * file.  Taken under the SMMU's device lock and with the PCI devices'
 * locks held; the core's iommu_probe_device_lock nests inside.
 */
static DEFINE_MUTEX(smmuv3_register_mutex);

/**
 * struct smmuv3_devlocks - PCI devices locked around the registration
 * @devs: the devices, each with a reference; the first @locked are locked
 * @num: devices in @devs
 * @cap: room in @devs
 * @locked: how many of @devs are locked
 * @busy: a device whose lock was taken by someone else at the last try
 * @too_many: more unbound devices than SMMUV3_REGISTER_MAX_LOCKS
 */
struct smmuv3_devlocks {
	struct device **devs;
	unsigned int num;
	unsigned int cap;
	unsigned int locked;
	struct device *busy;
	bool too_many;
};

static int smmuv3_devlocks_collect(struct device *dev, void *data)
{
	struct smmuv3_devlocks *dl = data;

	if (dl->num < dl->cap)
		dl->devs[dl->num++] = get_device(dev);
	return 0;
}

static int smmuv3_devlocks_count(struct device *dev, void *data)
{
	(*(unsigned int *)data)++;
	return 0;
}

static void smmuv3_devlocks_unlock(struct smmuv3_devlocks *dl)
{
	while (dl->locked)
		device_unlock(dl->devs[--dl->locked]);
}

/*
 * Lock every device of @dl that is not bound; bound ones are moved past the
 * locked ones and left alone.  Return: true if all unbound ones are locked.
 */
static bool smmuv3_devlocks_try(struct smmuv3_devlocks *dl)
{
	unsigned int i;

	dl->busy = NULL;
	for (i = dl->locked; i < dl->num; i++) {
		struct device *dev = dl->devs[i];

		/*
		 * A device with an IOMMU group (another instance's, probed
		 * before) is past the window: never wait for its lock, which
		 * a slow driver probe may hold for seconds.
		 */
		if (device_iommu_mapped(dev))
			continue;
		if (!device_trylock(dev)) {
			dl->busy = dev;
			smmuv3_devlocks_unlock(dl);
			return false;
		}
		if (device_is_bound(dev) ||
		    to_pci_dev(dev)->class >> 8 == PCI_CLASS_BRIDGE_HOST) {
			device_unlock(dev);
			continue;
		}
		swap(dl->devs[i], dl->devs[dl->locked]);
		if (++dl->locked > SMMUV3_REGISTER_MAX_LOCKS) {
			smmuv3_devlocks_unlock(dl);
			dl->too_many = true;
			return true;
		}
	}
	return true;
}

/*
 * Whether @dev, locked and without a driver, was left without an IOMMU
 * group although firmware puts it behind @smmu.  Its firmware description
 * is made again (its failed probe freed it), as the bus probe does; on
 * Linux 6.12 that probes it too.
 */
static bool smmuv3_dev_lost(struct device *dev, struct smmuv3_device *smmu)
{
	struct iommu_fwspec *fwspec;

	if (dev->driver || device_iommu_mapped(dev) ||
	    smmuv3_compat_dma_configure(dev) || device_iommu_mapped(dev))
		return false;
	fwspec = dev_iommu_fwspec_get(dev);
	/* A device whose stream IDs we refuse was not lost: it was refused. */
	return fwspec && fwspec->iommu_fwnode == smmu->iommu.fwnode &&
	       !smmuv3_probe_refused(smmu, dev);
}

/*
 * A device of @dl that the registration of @smmu lost: one of the locked
 * ones, or a host bridge (not locked for the registration: no driver binds
 * it; locked here if it is free).  Called with smmuv3_register_mutex held.
 */
static struct device *smmuv3_devlocks_lost(struct smmuv3_devlocks *dl,
					   struct smmuv3_device *smmu)
{
	unsigned int i;

	for (i = 0; i < dl->num; i++) {
		struct device *dev = dl->devs[i];
		bool lock = i >= dl->locked;
		bool lost;

		if (lock && (to_pci_dev(dev)->class >> 8 != PCI_CLASS_BRIDGE_HOST ||
			     !device_trylock(dev)))
			continue;
		lost = smmuv3_dev_lost(dev, smmu);
		if (lock)
			device_unlock(dev);
		if (lost)
			return dev;
	}
	return NULL;
}

/*
 * The instance is registered and every unbound PCI device is locked: if
 * the bus probe lost one of ours, register again (see the top of this
 * file).  Called with smmuv3_register_mutex held.
 *
 * Return: 0, or the new registration's error (the instance is then not
 * registered).
 */
static int smmuv3_register_retry(struct smmuv3_device *smmu,
				 struct smmuv3_devlocks *dl)
{
	struct device *lost = smmuv3_devlocks_lost(dl, smmu);
	int ret;

	if (!lost)
		return 0;
	/*
	 * Registering again takes the groups of every device behind the
	 * instance away for a moment: a platform device being bound then,
	 * whose lock we do not hold, could end without one.
	 */
	if (smmuv3_has_platform_masters(smmu)) {
		dev_warn(smmu->dev, "%s has no IOMMU group (its probe failed); not registering again, as platform devices behind %s could be binding: its DMA faults until it is removed and added again\n",
			 dev_name(lost), smmu->name);
		return 0;
	}
	dev_info(smmu->dev, "%s was left without an IOMMU group (its probe failed): registering again\n",
		 dev_name(lost));
	iommu_device_unregister(&smmu->iommu);
	ret = iommu_device_register(&smmu->iommu, &smmuv3_ops, smmu->dev);
	if (ret)
		return ret;
	lost = smmuv3_devlocks_lost(dl, smmu);
	if (lost)
		dev_warn(smmu->dev, "%s has no IOMMU group: its DMA faults until it is removed and added again\n",
			 dev_name(lost));
	return 0;
}

/*
 * One PCI device after the registration: if it has no driver and no group,
 * configure its DMA as the bus probe of Linux 7.x would.  Only tried under
 * the device's lock: a device whose lock is taken is being bound, and the
 * bind configures it.
 */
static int smmuv3_configure_unbound(struct device *dev, void *data)
{
	unsigned int *configured = data;
	struct iommu_group *group;

	group = iommu_group_get(dev);
	if (group) {
		iommu_group_put(group);
		return 0;
	}
	if (!device_trylock(dev))
		return 0;
	if (!dev->driver && !device_iommu_mapped(dev) &&
	    !smmuv3_compat_dma_configure(dev) && device_iommu_mapped(dev))
		(*configured)++;
	device_unlock(dev);
	return 0;
}

/*
 * A PCI device being added: the iommu core's own notifier (registered
 * first, so called first) has probed it if it could; if it is still without
 * a group, configure it as a device present at registration would be.
 */
static int smmuv3_pci_notify(struct notifier_block *nb, unsigned long action,
			     void *data)
{
	unsigned int configured = 0;

	if (action != BUS_NOTIFY_ADD_DEVICE)
		return NOTIFY_DONE;
	smmuv3_configure_unbound(data, &configured);
	return configured ? NOTIFY_OK : NOTIFY_DONE;
}

static struct notifier_block smmuv3_pci_notifier = {
	.notifier_call = smmuv3_pci_notify,
};

/**
 * smmuv3_register_init() - watch for PCI devices added after registration
 *
 * Return: 0 or the bus notifier's error.
 */
int smmuv3_register_init(void)
{
	if (!IS_ENABLED(CONFIG_PCI))
		return 0;
	return bus_register_notifier(&pci_bus_type, &smmuv3_pci_notifier);
}

/** smmuv3_register_exit() - undo smmuv3_register_init() */
void smmuv3_register_exit(void)
{
	if (IS_ENABLED(CONFIG_PCI))
		bus_unregister_notifier(&pci_bus_type, &smmuv3_pci_notifier);
}

/**
 * smmuv3_iommu_register() - register an instance with the iommu core
 * @smmu: the instance, ready to translate
 *
 * Holds the locks of the unbound PCI devices during iommu_device_register()
 * (see the top of this file), which takes iommu_probe_device_lock inside:
 * the same order as a driver bind (device lock, then the probe lock).  If
 * that registration lost a device behind @smmu, registers once more.
 *
 * Return: as iommu_device_register(); on an error the instance is not
 * registered.
 */
int smmuv3_iommu_register(struct smmuv3_device *smmu)
{
	struct smmuv3_devlocks dl = {};
	unsigned int waited = 0, i;
	bool all_locked = false;
	int ret;

	if (IS_ENABLED(CONFIG_PCI)) {
		bus_for_each_dev(&pci_bus_type, NULL, &dl.cap,
				 smmuv3_devlocks_count);
		dl.devs = kcalloc(dl.cap, sizeof(*dl.devs), GFP_KERNEL);
		if (dl.devs)
			bus_for_each_dev(&pci_bus_type, NULL, &dl,
					 smmuv3_devlocks_collect);
	}

	while (dl.num) {
		if (smmuv3_devlocks_try(&dl)) {
			all_locked = !dl.too_many;
			break;
		}
		if (waited >= SMMUV3_REGISTER_WAIT_MS) {
			dev_warn(smmu->dev,
				 "%s stayed busy for %u ms; registering anyway (a device being bound now may end without an IOMMU group)\n",
				 dev_name(dl.busy), waited);
			break;
		}
		msleep(SMMUV3_REGISTER_RETRY_MS);
		waited += SMMUV3_REGISTER_RETRY_MS;
	}

	if (dl.too_many)
		dev_info(smmu->dev,
			 "more than %u unbound PCI devices: registering without holding their locks\n",
			 SMMUV3_REGISTER_MAX_LOCKS);
	else if (waited && !dl.busy)
		dev_info(smmu->dev,
			 "waited %u ms for devices being bound before registering\n",
			 waited);
	mutex_lock(&smmuv3_register_mutex);
	ret = iommu_device_register(&smmu->iommu, &smmuv3_ops, smmu->dev);
	if (!ret && all_locked)
		ret = smmuv3_register_retry(smmu, &dl);
	mutex_unlock(&smmuv3_register_mutex);

	smmuv3_devlocks_unlock(&dl);
	for (i = 0; i < dl.num; i++)
		put_device(dl.devs[i]);
	kfree(dl.devs);

	if (!ret && IS_ENABLED(CONFIG_PCI)) {
		unsigned int configured = 0;

		bus_for_each_dev(&pci_bus_type, NULL, &configured,
				 smmuv3_configure_unbound);
		if (configured)
			dev_info(smmu->dev,
				 "gave %u PCI device(s) without a driver their IOMMU group (this kernel's bus probe does not)\n",
				 configured);
	}
	return ret;
}

/* --- The operations registered for every instance ---------------------- */

static bool smmuv3_capable(struct device *dev, enum iommu_cap cap)
{
	struct smmuv3_master *master = smmuv3_dev_master(dev);

	if (smmuv3_cap_is_pci_ats(cap))
		return master->ats_supported;
	switch (cap) {
	case IOMMU_CAP_CACHE_COHERENCY:
		return master->smmu->feat.flags & SMMUV3_FEAT_COHERENT;
	case IOMMU_CAP_NOEXEC:
	case IOMMU_CAP_DEFERRED_FLUSH:
		return true;
	case IOMMU_CAP_ENFORCE_CACHE_COHERENCY:
		/* Granted by smmuv3_enforce_cache_coherency() (domain.c). */
		return smmuv3_master_canwbs(master);
	default:
		return false;
	}
}

/*
 * Exported by the iommu core (drivers/iommu/dma-iommu.c) but declared only
 * in a header private to drivers/iommu, which header packages do not ship.
 */
void iommu_dma_get_resv_regions(struct device *dev, struct list_head *list);

/* The window where MSI doorbells are mapped in DMA domains. */
#define SMMUV3_MSI_IOVA_BASE	0x8000000
#define SMMUV3_MSI_IOVA_LENGTH	0x100000

static void smmuv3_get_resv_regions(struct device *dev, struct list_head *head)
{
	struct iommu_resv_region *msi;

	msi = iommu_alloc_resv_region(SMMUV3_MSI_IOVA_BASE,
				      SMMUV3_MSI_IOVA_LENGTH,
				      IOMMU_WRITE | IOMMU_NOEXEC | IOMMU_MMIO,
				      IOMMU_RESV_SW_MSI, GFP_KERNEL);
	if (!msi)
		return;
	list_add_tail(&msi->list, head);
	iommu_dma_get_resv_regions(dev, head);
}

const struct iommu_ops smmuv3_ops = {
	.identity_domain = &smmuv3_identity_domain,
	.blocked_domain = &smmuv3_blocked_domain,
	.release_domain = &smmuv3_blocked_domain,
	.capable = smmuv3_capable,
	/* What the kernel offers (include/smmuv3/compat.h). */
	SMMUV3_OPS_HW_INFO
	SMMUV3_OPS_DOMAIN_ALLOC
	SMMUV3_OPS_VIOMMU
	.user_pasid_table = 1,
	.get_resv_regions = smmuv3_get_resv_regions,
	.probe_device = smmuv3_probe_device,
	.release_device = smmuv3_release_device,
	.device_group = smmuv3_device_group,
	.def_domain_type = smmuv3_def_domain_type,
	.of_xlate = smmuv3_of_xlate,
	.owner = THIS_MODULE,
};
EXPORT_SYMBOL_IF_KUNIT(smmuv3_ops);
