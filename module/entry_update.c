// SPDX-License-Identifier: GPL-2.0-only
/*
 * Updating live stream table entries and context descriptors.
 *
 * The SMMU may read an entry at any moment and cache it until told to
 * forget it.  It reads each 64-bit word single-copy atomically, but an entry
 * as a whole is not atomic.  So an update must be a sequence of single-word
 * writes, each followed by a configuration invalidation ("sync"), such that
 * at every point the bits the SMMU interprets describe either the old or the
 * new configuration.
 *
 * Which bits the SMMU interprets depends on the entry's own configuration
 * (get_used()).  The update goes in three steps:
 *
 *  1. Bits the current configuration ignores take their new values.
 *  2. If at most one word still differs on bits the new configuration
 *     interprets, writing it switches the configuration in one store
 *     ("hitless").  Otherwise the
 *     entry is made invalid (V=0) first, the other words are written, and
 *     word 0 last ("break-before-make": the SMMU aborts the traffic
 *     meanwhile).
 *  3. Bits the new configuration ignores are cleaned up.
 *
 * A sync is issued only after a step that changed something.
 */
#include <linux/bitops.h>
#include <linux/string.h>
#include <kunit/visibility.h>

#include <smmuv3/smmuv3.h>

#define SMMUV3_ENTRY_MAX_QWORDS	8

static void smmuv3_entry_sync(struct smmuv3_entry_writer *writer)
{
	writer->nr_syncs++;
	writer->ops->sync(writer);
}

/* Write the words of @target selected by @which; true if any changed. */
static bool smmuv3_entry_set(__le64 *entry, const __le64 *target,
			     unsigned int num, unsigned long which)
{
	bool changed = false;
	unsigned int i;

	for (i = 0; i < num; i++) {
		if (!(which & BIT(i)) || entry[i] == target[i])
			continue;
		WRITE_ONCE(entry[i], target[i]);
		changed = true;
	}
	return changed;
}

/**
 * smmuv3_entry_update() - update a live entry without a torn configuration
 * @writer: entry kind and sync callback; counts syncs in nr_syncs
 * @entry: the entry in memory the SMMU reads
 * @target: the wanted contents
 *
 * The caller serialises updates of the same entry.
 */
void smmuv3_entry_update(struct smmuv3_entry_writer *writer, __le64 *entry,
			 const __le64 *target)
{
	unsigned int num = writer->num_qwords;
	__le64 cur_used[SMMUV3_ENTRY_MAX_QWORDS];
	__le64 tgt_used[SMMUV3_ENTRY_MAX_QWORDS];
	__le64 step[SMMUV3_ENTRY_MAX_QWORDS];
	unsigned long critical = 0;
	unsigned int i;

	if (WARN_ON_ONCE(num > SMMUV3_ENTRY_MAX_QWORDS))
		return;

	writer->ops->get_used(entry, cur_used);
	writer->ops->get_used(target, tgt_used);

	/* Step 1: the new values of bits the SMMU does not look at now. */
	for (i = 0; i < num; i++) {
		step[i] = (entry[i] & cur_used[i]) | (target[i] & ~cur_used[i]);
		/*
		 * Only bits the new configuration reads must change in the
		 * switching store; the old one's leftovers are invisible to
		 * it and go in step 3.
		 */
		if ((step[i] ^ target[i]) & tgt_used[i])
			critical |= BIT(i);
	}

	if (hweight_long(critical) <= 1) {
		if (smmuv3_entry_set(entry, step, num, GENMASK(num - 1, 0)))
			smmuv3_entry_sync(writer);
		/* Step 2: one store switches the configuration. */
		if (smmuv3_entry_set(entry, target, num, critical))
			smmuv3_entry_sync(writer);
		/* Step 3: leftovers the new configuration does not use. */
		if (smmuv3_entry_set(entry, target, num, GENMASK(num - 1, 0)))
			smmuv3_entry_sync(writer);
		return;
	}

	/* Break-before-make, keeping everything but V of word 0 meanwhile. */
	step[0] = entry[0] & ~cpu_to_le64(writer->ops->v_bit);
	if (smmuv3_entry_set(entry, step, 1, BIT(0)))
		smmuv3_entry_sync(writer);
	if (smmuv3_entry_set(entry, target, num, GENMASK(num - 1, 1)))
		smmuv3_entry_sync(writer);
	if (smmuv3_entry_set(entry, target, 1, BIT(0)))
		smmuv3_entry_sync(writer);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_entry_update);
