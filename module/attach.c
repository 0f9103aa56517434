// SPDX-License-Identifier: GPL-2.0-only
/*
 * The attach sequence: every change of what a device's RID or one of its
 * PASIDs is attached to (a paging domain, a nested domain, identity,
 * blocked, or nothing when a PASID is removed) goes through one
 * prepare/commit pair around one struct smmuv3_attach_state.
 *
 *  1. smmuv3_attach_prepare() gets the new domain's tag on the device's
 *     instance (or the vIOMMU's VMID) and publishes the device's entries,
 *     with its ATC entries when the new configuration has ATS, in the new
 *     domain's invalidation array.  Everything that can fail happens here;
 *     smmuv3_attach_abort() undoes it.
 *  2. The caller writes the CD the new configuration uses, if any (which
 *     may still fail: abort), and builds the STE.
 *  3. smmuv3_attach_commit() switches.  It cannot fail:
 *     a. ATS switched off: the PCI capability is disabled while the STE
 *        still has EATS, so that the device stops sending translation
 *        requests before the SMMU would answer them with Unsupported
 *        Request (which a root port reports as an AER error);
 *     b. the STE is installed, and CD 0 of an old stage-1 domain that the
 *        new configuration does not use is cleared;
 *     c. the master records its new attachment;
 *     d. ATS: after a grace period (no walk of the new domain's older
 *        array, without the device's ATC entries, is still running), the
 *        device's whole ATC is invalidated and waited for; when ATS is
 *        switched on, the PCI capability is enabled after it;
 *     e. only then is the old attachment dropped: its entries leave the old
 *        domain's array, and tags left without users are flushed and
 *        freed.
 *
 * The reason for the order: until step d has completed, the device may
 * hold translations of the old domain in its ATC, so an unmap on the old
 * domain must still invalidate them.  The old domain's array keeps the
 * device's ATC entries up to step e, and the new domain's array has them
 * from step 1, so at every moment each domain whose translations the
 * device may cache invalidates its ATC.  Dropping the old entries before
 * the flush would let an unmap free pages the device can still reach
 * through its ATC.  Likewise the old tag stays allocated until nothing can
 * use it: neither the STE nor a CD names it after step b.
 *
 * The iommu core serialises the attaches of a device (group mutex): one
 * attach state exists per device at a time, and smmuv3_master's attachment
 * fields have a single writer.
 */
#include <linux/iommu.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <kunit/visibility.h>

#include <smmuv3/smmuv3.h>

/* Forget an attachment's entries and its count as a non-coherent device. */
static void smmuv3_attach_free(struct smmuv3_attach *attach)
{
	struct smmuv3_domain *domain = attach->domain;

	smmuv3_domain_unref(domain, attach->invs, attach->num_invs);
	if (attach->noncoherent) {
		mutex_lock(&domain->mutex);
		domain->nr_noncoherent--;
		mutex_unlock(&domain->mutex);
	}
	kfree(attach);
}

/*
 * The device's entries for the new domain: its tag first (the domain's tag
 * on the instance, reused or new; or the vIOMMU's VMID), then one ATC entry
 * per stream when the new configuration has ATS.
 */
static struct smmuv3_attach *
smmuv3_attach_new(const struct smmuv3_attach_state *state)
{
	struct smmuv3_master *master = state->master;
	struct smmuv3_domain *domain = state->domain;
	unsigned int num_ats = smmuv3_ats_num_invs(master, state->ats);
	struct smmuv3_attach *attach;
	int fresh = 0, ret;

	attach = kzalloc(struct_size(attach, invs, 1 + num_ats), GFP_KERNEL);
	if (!attach)
		return ERR_PTR(-ENOMEM);
	attach->num_invs = 1 + num_ats;
	attach->domain = domain;
	attach->noncoherent = !smmuv3_master_canwbs(master);
	/* A nesting parent's ATC entries cover every substream. */
	if (num_ats)
		smmuv3_ats_fill_invs(master, &attach->invs[1], state->ssid,
				     !!state->vmid);

	mutex_lock(&domain->mutex);
	if (state->vmid) {
		attach->invs[0] = *state->vmid;
		attach->invs[0].users = 1;
	} else {
		fresh = smmuv3_tag_get(domain, master->smmu, &attach->invs[0]);
	}
	if (fresh < 0) {
		ret = fresh;
	} else {
		ret = smmuv3_domain_publish(domain, attach);
		if (ret && fresh)
			smmuv3_tag_free(&attach->invs[0]);
	}
	mutex_unlock(&domain->mutex);
	if (ret) {
		kfree(attach);
		return ERR_PTR(ret);
	}
	return attach;
}

/**
 * smmuv3_attach_prepare() - get an attach ready: publish the new entries
 * @state: the attach, with @master, @ssid, @domain, @vmid and @ats set
 *
 * Records in @state->old what the RID or the PASID is attached to now, and
 * with a @domain publishes the device's entries in its array: from here
 * on, an invalidation of the new domain reaches the device's instance and,
 * with @ats, its ATC.  A PASID's removal (@ssid set, no @domain) takes the
 * PASID out of the master's xarray already, so that the STE the caller
 * builds next sees the PASIDs that remain; it cannot fail.
 *
 * Return: 0; -ENOMEM; -ENOSPC when the instance has no ASID or VMID left;
 * -EINVAL for a device without CANWBS on a domain that enforces cache
 * coherency.  On failure nothing changed.
 */
int smmuv3_attach_prepare(struct smmuv3_attach_state *state)
{
	struct smmuv3_master *master = state->master;

	state->attach = NULL;
	if (!state->ssid)
		state->old = master->attach;
	else if (state->domain)
		state->old = xa_load(&master->pasids, state->ssid);
	else
		/* Removal cannot fail: the STE built next sees what remains. */
		state->old = xa_erase(&master->pasids, state->ssid);
	if (!state->domain)
		return 0;
	state->attach = smmuv3_attach_new(state);
	if (IS_ERR(state->attach)) {
		int ret = PTR_ERR(state->attach);

		state->attach = NULL;
		return ret;
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_attach_prepare);

/**
 * smmuv3_attach_abort() - give up a prepared attach before its commit
 * @state: the attach; nothing of the new configuration is in use
 */
void smmuv3_attach_abort(struct smmuv3_attach_state *state)
{
	if (state->attach)
		smmuv3_attach_free(state->attach);
	state->attach = NULL;
}

/*
 * Invalidate the device's ATC (@ssid 0: all of it), once more if that
 * failed (an ATC invalidation timeout, CERROR_ATC_INV_SYNC); a second
 * failure is logged: the device may keep stale translations.
 */
static void smmuv3_attach_inv_atc(struct smmuv3_master *master, u32 ssid)
{
	int ret = smmuv3_atc_inv_master(master, ssid);

	if (ret)
		ret = smmuv3_atc_inv_master(master, ssid);
	if (ret)
		dev_err_ratelimited(master->dev,
				    "ATC invalidation failed twice (%d): the device may keep stale translations\n",
				    ret);
}

/*
 * Step 3d: the device's ATC after the switch.  The new domain's array holds
 * the device's ATC entries when the new configuration has ATS.
 */
static void smmuv3_attach_flush_atc(const struct smmuv3_attach_state *state)
{
	struct smmuv3_master *master = state->master;
	bool was = master->ats_enabled;
	bool enabled;

	if (!state->ats && !was)
		return;
	/*
	 * A walk that read the new domain's array before the device's entries
	 * were published may still be about to invalidate a TLB entry the
	 * device could copy into its ATC: wait for it.
	 */
	if (state->domain && state->ats)
		synchronize_rcu();
	if (!state->ats) {
		/* The capability is off and the STE has no EATS: forget all. */
		smmuv3_attach_inv_atc(master, 0);
		WRITE_ONCE(master->ats_enabled, false);
		dev_dbg(master->dev, "ATS disabled\n");
		return;
	}
	if (was) {
		/* The translation of the RID (all of it) or a PASID changed. */
		smmuv3_attach_inv_atc(master, state->ssid);
		return;
	}
	/*
	 * ATS on: the ATC is clean before the capability is enabled; with it
	 * off the device caches nothing.  No lock orders the enable against
	 * walks of the new array: every walk that can miss the device's ATC
	 * entries ended in the grace period above, and every later one sends
	 * the device's ATC_INV only after its TLB invalidation has completed
	 * on the instance.  So whatever the device caches once enabled is
	 * either current or invalidated by a walk still to come.
	 */
	smmuv3_attach_inv_atc(master, 0);
	/*
	 * A capability the PCI core did not enable stays off in our record
	 * too: the next attach with ATS tries again.
	 */
	enabled = !smmuv3_ats_pci_enable(master);
	WRITE_ONCE(master->ats_enabled, enabled);
	if (enabled)
		dev_dbg(master->dev, "ATS enabled\n");
}

/* Step 3c: the master's record of its attachments. */
static void smmuv3_attach_record(struct smmuv3_attach_state *state)
{
	struct smmuv3_master *master = state->master;
	void *prev;

	if (!state->ssid) {
		mutex_lock(&master->smmu->streams_mutex);
		master->viommu = state->viommu;
		mutex_unlock(&master->smmu->streams_mutex);
		master->attach = state->attach;
		smmuv3_stall_terminate(master);
		return;
	}
	/* A removed PASID left the xarray in smmuv3_attach_prepare(). */
	if (!state->attach)
		return;
	/* The slot was reserved by the caller or holds the old attachment. */
	prev = xa_store(&master->pasids, state->ssid, state->attach,
			GFP_KERNEL);
	WARN_ON_ONCE(xa_is_err(prev));
}

/**
 * smmuv3_attach_commit() - switch to a prepared configuration
 * @state: the prepared attach
 * @ste: the STE every stream of the master gets, or NULL when this attach
 *	does not change it (a PASID's CD changed under the same STE)
 *
 * Runs steps 3a to 3e of the sequence at the top of this file.  For a
 * PASID attach the caller has written the PASID's CD; for a RID attach
 * with @state->clear_cd0, CD 0 (the old stage-1 domain's) is cleared right
 * after the STE switch, before the ATC flush and before its tag can be
 * freed.  May sleep.
 */
void smmuv3_attach_commit(struct smmuv3_attach_state *state,
			  const __le64 *ste)
{
	struct smmuv3_master *master = state->master;
	struct smmuv3_attach *old = state->old;

	if (!state->ats && master->ats_enabled)
		smmuv3_ats_pci_disable(master);
	if (ste)
		smmuv3_install_ste(master, ste);
	/*
	 * CD 0 of the old stage-1 domain goes before the ATC flush: an STE
	 * that keeps the CD table (S1DSS bypass or terminate, while PASIDs
	 * are attached) still lets substream 0 through CD 0, and the device
	 * could fill its ATC from it until then.
	 */
	if (old && state->clear_cd0 &&
	    old->domain->stage == SMMUV3_STAGE_1 && master->cdtab) {
		__le64 cd[SMMUV3_CD_QWORDS] = {};

		smmuv3_write_cd(master, 0, cd);
	}
	smmuv3_attach_record(state);
	smmuv3_attach_flush_atc(state);
	if (old)
		smmuv3_attach_free(old);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_attach_commit);
