/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-domain invalidation arrays and IOTLB tags.
 */
#ifndef SMMUV3_INVS_H
#define SMMUV3_INVS_H

#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/types.h>

struct smmuv3_device;

/**
 * enum smmuv3_inv_type - what one invalidation entry invalidates
 * @SMMUV3_INV_S1_ASID: stage-1 TLB entries of an ASID (an S1 domain's tag)
 * @SMMUV3_INV_S2_VMID: stage-2 TLB entries of a VMID (an S2 domain's tag)
 * @SMMUV3_INV_S2_VMID_S1_CLEAR: a VMID under which nested stage-1 entries
 *	are cached: after stage-2 changes, its stage-1 entries go too
 * @SMMUV3_INV_ATS: the ATC of one (stream, substream)
 * @SMMUV3_INV_ATS_FULL: the ATC of one stream, all substreams
 *
 * The order is the order of invalidation on one instance (TLBs before
 * ATCs: see struct smmuv3_inv_run in invalidate.c).
 */
enum smmuv3_inv_type {
	SMMUV3_INV_S1_ASID,
	SMMUV3_INV_S2_VMID,
	SMMUV3_INV_S2_VMID_S1_CLEAR,
	SMMUV3_INV_ATS,
	SMMUV3_INV_ATS_FULL,
};

/**
 * struct smmuv3_inv - one invalidation entry; also the form of an IOTLB tag
 * @smmu: the instance the commands go to
 * @type: enum smmuv3_inv_type
 * @id: ASID or VMID (TLB types), stream ID (ATS types)
 * @ssid: substream ID (SMMUV3_INV_ATS only)
 * @users: attachments using the entry; 0 marks trash to be purged
 *
 * Entries of an array are sorted by (@smmu address, @type, @id, @ssid).
 * Only entries with @users are ever dereferenced.  A tag is the TLB entry
 * of one domain on one instance: it holds everything needed to flush and
 * free its ID.
 */
struct smmuv3_inv {
	struct smmuv3_device *smmu;
	u8 type;
	u32 id;
	u32 ssid;
	int users;
};

/**
 * struct smmuv3_invs - a domain's invalidation array
 * @num: entries in @inv
 * @num_trash: entries of @inv whose users dropped to 0
 * @rcu: for freeing after a grace period
 * @inv: the entries, sorted
 *
 * RCU and locking rules:
 *
 * - The domain points at its current array with an __rcu pointer.  Writers
 *   (attach and detach) hold the domain's mutex; they build a new array
 *   (smmuv3_invs_merge(), smmuv3_invs_purge()), publish it with
 *   rcu_assign_pointer() and free the old one with kfree_rcu().
 * - The only in-place change is smmuv3_invs_unref(), under the domain's
 *   mutex: it lowers @users with WRITE_ONCE() and never adds or moves
 *   entries.  Readers see either value.
 * - Invalidation reads the array under rcu_read_lock() with no lock, reads
 *   @users with READ_ONCE() and skips entries at 0.  A reader may still use
 *   an entry whose @users just dropped: the ID is flushed before it is
 *   freed, so that late invalidation is harmless.
 * - An instance is not freed while a reader could hold one of its entries:
 *   its removal drops its entries from every array, then waits for a grace
 *   period.
 * - Invalidation (invalidate.c) is such a reader.  The order in which it
 *   issues and waits for commands, on one instance and across instances,
 *   is at struct smmuv3_inv_run.  Every CMD_SYNC it issued (the ATCs' own,
 *   and those of chunks queued before a batch failed, included) has
 *   completed, or failed, before it leaves the RCU read side, except on a
 *   queue that timed out: nothing more is waited for or issued there.  Its
 *   state lives on its stack: the array is still only read.
 */
struct smmuv3_invs {
	unsigned int num;
	unsigned int num_trash;
	struct rcu_head rcu;
	struct smmuv3_inv inv[] __counted_by(num);
};

struct smmuv3_invs *smmuv3_invs_alloc(unsigned int num);
int smmuv3_inv_cmp(const struct smmuv3_inv *a, const struct smmuv3_inv *b);
struct smmuv3_invs *smmuv3_invs_merge(const struct smmuv3_invs *old,
				      const struct smmuv3_inv *add,
				      unsigned int num_add);
unsigned int smmuv3_invs_unref(struct smmuv3_invs *invs,
			       const struct smmuv3_inv *del,
			       unsigned int num_del,
			       void (*on_unused)(const struct smmuv3_inv *inv,
						 void *arg),
			       void *arg);
struct smmuv3_invs *smmuv3_invs_purge(const struct smmuv3_invs *old,
				      const struct smmuv3_device *drop);

#endif /* SMMUV3_INVS_H */
