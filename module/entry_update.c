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

/**
 * smmuv3_ste_get_used() - the bits of an STE the SMMU interprets
 * @ste: the STE
 * @used: SMMUV3_STE_QWORDS words of result
 *
 * Per Config (IHI 0070 5.2): an invalid STE uses only V; abort only V and
 * Config; bypass adds SHCFG.  Stage 1 (Config S1 or nested) uses the CD
 * table fields, S1CIR/S1COR/S1CSH, S1STALLD, EATS, STRW, MEV, and S2VMID:
 * where stage 2 is implemented, the SMMU tags stage-1-only translations
 * with STE.S2VMID (always 0 here, the VMID that stage-1 invalidations
 * name), so a switch that changes it cannot be hitless.  S1DSS is read only
 * when the table has substreams (S1CDMax != 0), and SHCFG then too if
 * S1DSS is bypass.  Stage 2 (Config S2 or nested) uses S2FWB, EATS, SHCFG,
 * MEV and the stage-2 fields of words 2 and 3.
 *
 * Fields this driver never sets (the other attribute overrides, S2HD/S2HA,
 * words 4 to 7) are left out: they are 0 in every STE it writes.  S2VMID
 * and S2FWB count whether or not the instance implements stage 2 or FWB:
 * without them they are 0 in every STE, so they never decide anything.
 */
void smmuv3_ste_get_used(const __le64 *ste, __le64 *used)
{
	u64 w0 = le64_to_cpu(ste[0]);
	u64 w1 = le64_to_cpu(ste[1]);
	u32 cfg = FIELD_GET(SMMUV3_STE0_CFG, w0);
	bool s1 = cfg == SMMUV3_STE_CFG_S1 || cfg == SMMUV3_STE_CFG_NESTED;
	bool s2 = cfg == SMMUV3_STE_CFG_S2 || cfg == SMMUV3_STE_CFG_NESTED;
	u64 u[SMMUV3_STE_QWORDS] = { SMMUV3_STE0_V };
	int i;

	if (!(w0 & SMMUV3_STE0_V))
		goto out;

	u[0] |= SMMUV3_STE0_CFG;
	if (cfg == SMMUV3_STE_CFG_BYPASS)
		u[1] |= SMMUV3_STE1_SHCFG;
	if (s1) {
		u[0] |= SMMUV3_STE0_S1FMT | SMMUV3_STE0_S1CTXPTR |
			SMMUV3_STE0_S1CDMAX;
		u[1] |= SMMUV3_STE1_S1CIR | SMMUV3_STE1_S1COR |
			SMMUV3_STE1_S1CSH | SMMUV3_STE1_S1STALLD |
			SMMUV3_STE1_EATS | SMMUV3_STE1_STRW | SMMUV3_STE1_MEV;
		u[2] |= SMMUV3_STE2_S2VMID;
		if (FIELD_GET(SMMUV3_STE0_S1CDMAX, w0)) {
			u[1] |= SMMUV3_STE1_S1DSS;
			if (FIELD_GET(SMMUV3_STE1_S1DSS, w1) ==
			    SMMUV3_S1DSS_BYPASS)
				u[1] |= SMMUV3_STE1_SHCFG;
		}
	}
	if (s2) {
		u[1] |= SMMUV3_STE1_S2FWB | SMMUV3_STE1_EATS |
			SMMUV3_STE1_SHCFG | SMMUV3_STE1_MEV;
		u[2] |= SMMUV3_STE2_S2VMID | SMMUV3_STE2_VTCR |
			SMMUV3_STE2_S2AA64 | SMMUV3_STE2_S2ENDI |
			SMMUV3_STE2_S2AFFD | SMMUV3_STE2_S2PTW |
			SMMUV3_STE2_S2S | SMMUV3_STE2_S2R;
		u[3] |= SMMUV3_STE3_S2TTB;
	}
out:
	for (i = 0; i < SMMUV3_STE_QWORDS; i++)
		used[i] = cpu_to_le64(u[i]);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_ste_get_used);

/**
 * smmuv3_ste_make_abort() - an STE that terminates all traffic silently
 * @ste: SMMUV3_STE_QWORDS words of result
 */
void smmuv3_ste_make_abort(__le64 *ste)
{
	memset(ste, 0, SMMUV3_STE_SIZE);
	ste[0] = cpu_to_le64(SMMUV3_STE0_V |
			     FIELD_PREP(SMMUV3_STE0_CFG, SMMUV3_STE_CFG_ABORT));
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_ste_make_abort);

/**
 * smmuv3_ste_make_bypass() - an STE that lets traffic through untranslated
 * @ste: SMMUV3_STE_QWORDS words of result
 */
void smmuv3_ste_make_bypass(__le64 *ste)
{
	memset(ste, 0, SMMUV3_STE_SIZE);
	ste[0] = cpu_to_le64(SMMUV3_STE0_V |
			     FIELD_PREP(SMMUV3_STE0_CFG, SMMUV3_STE_CFG_BYPASS));
	ste[1] = cpu_to_le64(FIELD_PREP(SMMUV3_STE1_SHCFG,
					SMMUV3_SHCFG_INCOMING));
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_ste_make_bypass);
