// SPDX-License-Identifier: GPL-2.0-only
/*
 * ATS: PCI devices with an address translation cache (ATC).
 *
 * A device gets ATS when the instance has it (SMMU_IDR0.ATS), firmware says
 * its root complex supports it (IOMMU_FWSPEC_PCI_RC_ATS, set by the IORT
 * code from the root complex node's ATS attribute and by the DT code from
 * the host bridge's "ats-supported"), and the PCI device has an ATS
 * capability.  A device that needs ATS to work at all (pci_ats_required())
 * is refused at probe without it.
 *
 * Such a device keeps ATS on the identity domain too.  A bypassing STE
 * cannot answer translation requests (EATS is IGNORED there), but a
 * stage-1 STE whose S1DSS is BYPASS lets traffic without a PASID through
 * untranslated and still answers them, with the physical address (IHI 0070
 * 13.6.4, "Full ATS skipping stage 1").  So an identity RID of such a
 * device points its STE at its CD table, which has at least two CDs
 * (S1CDMax 0 would make the SMMU ignore S1DSS and translate through CD 0);
 * an instance without stage 1 or substreams cannot do that, and the attach
 * fails.  A blocked RID gets the plain aborting STE and no ATS, as in the
 * kernel's driver: nothing is translated, so nothing needs the ATC.
 *
 * ATS is on while the device's RID translates (a paging domain, or a
 * nested domain whose guest STE asked for it, EATS) and while PASIDs are
 * attached, whatever the RID's domain: the CD table's STE answers
 * translation requests with S1DSS bypass or terminate too (IHI 0070
 * 3.9.1.2), and every PASID attachment carries ATC entries, so a RID that
 * turns ATS on later never finds a PASID whose domain would not invalidate
 * the device's ATC.  A plain bypassing or aborting STE cannot have it.  An
 * attachment of a device with ATS adds one ATC entry per stream ID to the
 * domain's invalidation array (struct smmuv3_invs), which sorts them after
 * the TLB entries of the same instance: every walk invalidates the TLBs,
 * waits, then the ATCs, so a device never refills its ATC from a stale TLB
 * entry.
 *
 * When ATS is switched on and off, and when the device's ATC is flushed
 * relative to the STE and to the old domain's entries, is the attach
 * sequence's business: see module/attach.c.
 *
 * The iommu core serialises the attaches of a device (group mutex), which
 * makes smmuv3_master.ats_enabled single-writer.
 */
#include <linux/iommu.h>
#include <linux/pci.h>
#include <linux/pci-ats.h>
#include <linux/rcupdate.h>
#include <kunit/static_stub.h>
#include <kunit/visibility.h>

#include <smmuv3/smmuv3.h>

/**
 * smmuv3_ats_plan() - may a device use ATS
 * @smmu_flags: the instance's SMMUV3_FEAT_* flags
 * @fwspec_flags: the device's IOMMU_FWSPEC_* flags from firmware
 * @pci_ats: the device is PCI and pci_ats_supported()
 *
 * Return: true if the instance (without forced stalls), the root complex
 * and the device support it.
 */
bool smmuv3_ats_plan(u32 smmu_flags, u32 fwspec_flags, bool pci_ats)
{
	/*
	 * Forced stalls need S2S in every stage-2 STE, and EATS 0b01 with
	 * S2S is ILLEGAL (IHI 0070 5.2); such an SMMU must not serve PCIe
	 * anyway.  Firmware that says otherwise gets no ATS, not C_BAD_STE.
	 */
	return !(smmu_flags & SMMUV3_FEAT_STALL_FORCE) &&
	       (smmu_flags & SMMUV3_FEAT_ATS) &&
	       (fwspec_flags & IOMMU_FWSPEC_PCI_RC_ATS) && pci_ats;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_ats_plan);

/**
 * smmuv3_ats_stu() - the Smallest Translation Unit a device's ATS gets
 * @smmu: the instance
 *
 * Return: log2 of the instance's smallest page size, as the PCI ATS
 * capability's STU field wants it (pci_prepare_ats(), pci_enable_ats()).
 */
unsigned int smmuv3_ats_stu(const struct smmuv3_device *smmu)
{
	return __ffs(smmu->feat.pgsize_bitmap);
}

/*
 * Whether @smmu can give @pdev ATS; if so, the device's STU is programmed
 * for pci_enable_ats().  Someone else's ATS (pci_prepare_ats() would warn)
 * is not ours.
 */
static bool smmuv3_ats_usable(struct smmuv3_device *smmu, struct pci_dev *pdev,
			      const struct iommu_fwspec *fwspec)
{
	return smmuv3_ats_plan(smmu->feat.flags, fwspec->flags,
			       pci_ats_supported(pdev)) &&
	       !pdev->ats_enabled &&
	       !pci_prepare_ats(pdev, smmuv3_ats_stu(smmu));
}

/*
 * A device that requires ATS keeps it on in every domain, identity
 * included: there its STE uses the CD table with S1DSS bypass, which needs
 * stage 1 and substreams (S1CDMax 0 would make the SMMU ignore S1DSS).
 */
static bool smmuv3_ats_always_on(const struct smmuv3_device *smmu)
{
	return (smmu->feat.flags & SMMUV3_FEAT_S1) &&
	       smmuv3_cdtab_ssid_bits(smmu);
}

/**
 * smmuv3_ats_refusal() - why probe_device refuses a device for its ATS
 * @smmu: the instance
 * @required: the device requires ATS (pci_ats_required())
 * @usable: @smmu can give it ATS
 *
 * A device that requires ATS where it cannot have it, or where it cannot
 * keep it on in the identity domain, is refused: its first attach (the
 * default domain, identity with iommu.passthrough=1) would fail, and the
 * iommu core fails the whole instance's registration then.
 *
 * Return: NULL, or the end of the sentence "requires ATS, which <instance>"
 * saying why.
 */
VISIBLE_IF_KUNIT const char *
smmuv3_ats_refusal(const struct smmuv3_device *smmu, bool required,
		   bool usable)
{
	if (!required)
		return NULL;
	if (!usable)
		return "or its root complex lacks";
	if (!smmuv3_ats_always_on(smmu))
		return "cannot keep on in the identity domain without stage 1 and substreams";
	return NULL;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_ats_refusal);

/**
 * smmuv3_ats_refused() - does probe_device refuse a device for its ATS
 * @smmu: the instance firmware puts the device behind
 * @dev: the device, with its firmware description
 *
 * Return: true if smmuv3_ats_probe() refuses @dev.
 */
bool smmuv3_ats_refused(struct smmuv3_device *smmu, struct device *dev)
{
	struct iommu_fwspec *fwspec = dev_iommu_fwspec_get(dev);
	struct pci_dev *pdev;

	if (!dev_is_pci(dev) || !fwspec)
		return false;
	pdev = to_pci_dev(dev);
	return smmuv3_ats_refusal(smmu, smmuv3_pci_ats_required(pdev),
				  smmuv3_ats_usable(smmu, pdev, fwspec));
}

/**
 * smmuv3_ats_probe() - decide about a device's ATS at probe
 * @master: the master, with its streams
 *
 * Sets @master->ats_supported and @master->ats_required and, where ATS is
 * supported, programs the device's
 * Smallest Translation Unit (the instance's smallest page) for
 * pci_enable_ats() later.
 *
 * Return: 0, or -ENODEV for a device that requires ATS where it cannot
 * have it, or cannot keep it on (logged).
 */
int smmuv3_ats_probe(struct smmuv3_master *master)
{
	struct iommu_fwspec *fwspec = dev_iommu_fwspec_get(master->dev);
	struct smmuv3_device *smmu = master->smmu;
	struct pci_dev *pdev;
	const char *why;

	if (!dev_is_pci(master->dev) || !fwspec)
		return 0;
	pdev = to_pci_dev(master->dev);
	master->ats_required = smmuv3_pci_ats_required(pdev);
	master->ats_supported = smmuv3_ats_usable(smmu, pdev, fwspec);
	/*
	 * -ENODEV: the one probe_device error the iommu core's bus probe
	 * ignores; any other would fail the instance's registration.
	 */
	why = smmuv3_ats_refusal(smmu, master->ats_required,
				 master->ats_supported);
	if (why) {
		dev_err_ratelimited(master->dev,
				    "requires ATS, which %s %s: no IOMMU for this device\n",
				    smmu->name, why);
		return -ENODEV;
	}
	if (master->ats_supported)
		dev_dbg(master->dev, "ATS supported (STU %u)\n",
			smmuv3_ats_stu(smmu));
	return 0;
}

/**
 * smmuv3_ats_want() - whether a device's next RID configuration has ATS
 * @master: the master
 * @translating: the RID will translate through a domain that may use ATS
 *	(paging, or nested with the guest's EATS); false for the identity and
 *	blocked domains
 *
 * While PASIDs are attached the STE keeps the CD table and has ATS
 * whatever the RID's domain (S1DSS bypass or terminate works with ATS); so
 * does the identity RID of a device that requires ATS
 * (smmuv3_ats_identity_cdtab(); @master->rid_identity must be up to date).
 *
 * Return: true if the STE gets EATS and the PCI capability is on.
 */
bool smmuv3_ats_want(const struct smmuv3_master *master, bool translating)
{
	if (!master->ats_supported)
		return false;
	return translating || smmuv3_master_has_pasids(master) ||
	       smmuv3_ats_identity_cdtab(master);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_ats_want);

/**
 * smmuv3_ats_identity_cdtab() - does an identity RID need the CD table
 * @master: the master, with @rid_identity up to date
 *
 * Return: true for the identity RID of a device that requires ATS: its STE
 * is the CD table's with S1DSS bypass (and EATS), not a bypassing one.
 */
bool smmuv3_ats_identity_cdtab(const struct smmuv3_master *master)
{
	return master->ats_required && master->rid_identity;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_ats_identity_cdtab);

/**
 * smmuv3_ats_identity_prepare() - get an identity attach of a device ready
 * @master: the master
 * @identity: the RID is being attached to the identity domain (else the
 *	blocked one)
 *
 * A device that requires ATS needs its CD table for the identity domain
 * (see the top of this file): it is allocated here if need be.
 *
 * Return: 0; -EOPNOTSUPP if the instance has no stage 1 or no substreams
 * (the STE could not have EATS: the device would run without ATS), or
 * -ENOMEM.
 */
int smmuv3_ats_identity_prepare(struct smmuv3_master *master, bool identity)
{
	struct smmuv3_device *smmu = master->smmu;

	if (!identity || !master->ats_required)
		return 0;
	/* Refused at probe (smmuv3_ats_probe()): a fake's masters are not. */
	if (!smmuv3_ats_always_on(smmu))
		return -EOPNOTSUPP;
	if (master->cdtab)
		return 0;
	return smmuv3_cdtab_alloc(master);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_ats_identity_prepare);

/**
 * smmuv3_ats_describe() - a master's ATS state in one line, for debugfs
 * @master: the master
 * @buf: the result
 * @len: its size
 *
 * "ats supported S enabled E required R stu N", each flag 0 or 1, and N
 * the STU's log2 ("-" where the device has no ATS).  Read racily.
 *
 * Return: what snprintf() returns.
 */
int smmuv3_ats_describe(const struct smmuv3_master *master, char *buf,
			size_t len)
{
	bool supported = master->ats_supported;
	char stu[4] = "-";

	if (supported)
		snprintf(stu, sizeof(stu), "%u", smmuv3_ats_stu(master->smmu));
	return snprintf(buf, len, "ats supported %d enabled %d required %d stu %s",
			supported, READ_ONCE(master->ats_enabled),
			master->ats_required, stu);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_ats_describe);

/**
 * smmuv3_ats_num_invs() - ATC entries an attachment adds
 * @master: the master
 * @ats: the attachment uses ATS
 *
 * Return: one per stream ID with ATS, else 0.
 */
unsigned int smmuv3_ats_num_invs(const struct smmuv3_master *master, bool ats)
{
	return ats ? master->num_streams : 0;
}

/**
 * smmuv3_ats_fill_invs() - the ATC entries of an attachment
 * @master: the master
 * @inv: smmuv3_ats_num_invs() entries to fill
 * @ssid: the substream the attachment is for (0: the RID)
 * @full: the domain is a nesting parent: a change of stage 2 affects every
 *	substream's translations, so each walk invalidates the whole ATC
 */
void smmuv3_ats_fill_invs(const struct smmuv3_master *master,
			  struct smmuv3_inv *inv, u32 ssid, bool full)
{
	unsigned int i;

	for (i = 0; i < master->num_streams; i++)
		inv[i] = (struct smmuv3_inv){
			.smmu = master->smmu,
			.type = full ? SMMUV3_INV_ATS_FULL : SMMUV3_INV_ATS,
			.id = master->streams[i].sid,
			.ssid = full ? 0 : ssid,
			.users = 1,
		};
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_ats_fill_invs);

/**
 * smmuv3_atc_inv_master() - invalidate a device's whole ATC, and wait
 * @master: the master
 * @ssid: 0 for everything the device caches (an ATC_INV without SSV reaches
 *	every entry, with or without PASID), else the entries of that PASID
 *
 * Return: 0 or the command queue's error (logged there).
 */
int smmuv3_atc_inv_master(struct smmuv3_master *master, u32 ssid)
{
	struct smmuv3_cmd_batch batch __uninitialized;
	unsigned int i;

	KUNIT_STATIC_STUB_REDIRECT(smmuv3_atc_inv_master, master, ssid);
	smmuv3_batch_init(&batch, master->smmu);
	for (i = 0; i < master->num_streams; i++) {
		struct smmuv3_cmd cmd = {
			.op = SMMUV3_OP_ATC_INV,
			.atc = {
				.sid = master->streams[i].sid,
				.ssid = ssid,
				.ssv = ssid != 0,
				.size = SMMUV3_ATC_INV_SIZE_ALL,
			},
		};

		smmuv3_batch_add(&batch, &cmd);
	}
	return smmuv3_batch_submit(&batch);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_atc_inv_master);

/**
 * smmuv3_ats_pci_enable() - enable a device's PCI ATS capability
 * @master: the master, whose STEs have EATS and whose ATC is clean
 *
 * The PCI side, replaced by KUnit (whose fake devices are not PCI).
 *
 * Return: 0 if the capability is on, else the PCI core's error (logged):
 * the device then sends no translation request and caches nothing.
 */
int smmuv3_ats_pci_enable(struct smmuv3_master *master)
{
	int ret;

	KUNIT_STATIC_STUB_REDIRECT(smmuv3_ats_pci_enable, master);
	if (!dev_is_pci(master->dev) || to_pci_dev(master->dev)->ats_enabled)
		return 0;
	ret = pci_enable_ats(to_pci_dev(master->dev),
			     smmuv3_ats_stu(master->smmu));
	if (ret)
		dev_err_ratelimited(master->dev, "ATS not enabled (%d)\n", ret);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_ats_pci_enable);

/**
 * smmuv3_ats_pci_disable() - disable a device's PCI ATS capability
 * @master: the master, whose STEs still have EATS (see module/attach.c)
 */
void smmuv3_ats_pci_disable(struct smmuv3_master *master)
{
	KUNIT_STATIC_STUB_REDIRECT(smmuv3_ats_pci_disable, master);
	if (dev_is_pci(master->dev) && to_pci_dev(master->dev)->ats_enabled)
		pci_disable_ats(to_pci_dev(master->dev));
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_ats_pci_disable);
