// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the bits of STEs and CDs the SMMU reads, against a
 * reference written from the architecture (IHI 0070 chapter 5: 5.2 Stream
 * Table Entry, 5.4 Context Descriptor) as literal (word, bit range) entries,
 * independently of regs.h and of the driver's get_used():
 *
 * - smmuv3_ste_get_used() and smmuv3_cd_get_used() agree with the reference
 *   for every configuration the driver builds (abort, bypass, stage 1 with
 *   each S1DSS and with or without substreams, stage 2 with and without
 *   FWB, each nested form, CDs valid and invalid, with EPD0);
 * - every transition between two of those entries that smmuv3_entry_update()
 *   makes is safe under the reference: whatever mix of old and new words
 *   the SMMU reads between two syncs is, on the bits the reference says it
 *   uses, the old entry, the new one, or (break-before-make) invalid; and
 *   a transition taken without an invalid step switches in one store, at
 *   most one word differing on reference-used bits between the entry
 *   before that store and the target.
 *
 * The sets of entries cover the transitions of the smmuv3-entry,
 * smmuv3-pasid, smmuv3-cd and smmuv3-nested suites (identity, blocked,
 * stage-1, stage-2 and nested attaches of a RID, with and without PASIDs)
 * by taking every ordered pair.
 */
#include <kunit/test.h>
#include <linux/io-pgtable.h>
#include <linux/kernel.h>
#include <linux/sizes.h>
#include <linux/string.h>

#include <smmuv3/smmuv3.h>

#include "fake_smmu.h"

#define NQ		8	/* STEs and CDs have 8 64-bit words */

/* --- The reference ------------------------------------------------------ */

/* When an STE field is read (conditions on the entry itself). */
enum {
	STE_ALWAYS	= BIT(0),	/* whatever V says */
	STE_VALID	= BIT(1),	/* V == 1 */
	STE_BYPASS	= BIT(2),	/* Config == 0b100 */
	STE_S1		= BIT(3),	/* Config == 0b101 or 0b111 */
	STE_S2		= BIT(4),	/* Config == 0b110 or 0b111 */
	STE_S1_S2P	= BIT(5),	/* stage 1, stage 2 implemented */
	STE_S1_SSID	= BIT(6),	/* stage 1, S1CDMax != 0 */
	STE_S1_DSSBYP	= BIT(7),	/* and S1DSS == 0b01 (bypass) */
};

struct ref_field {
	u8 word, hi, lo;
	const char *name;
	u32 when;
};

/*
 * STE fields (5.2) with the configurations that read them.  Bit numbers are
 * within each 64-bit word: STE bit 64 * word + bit.
 *
 * Left out, because this driver sets none of them and a guest may not
 * either (smmuv3_vste_validate()): S2HWU59..62 [11:8], DRE [12], CONT
 * [16:13], DCP [17], PPAR [18], S1MPAM [26], MemAttr [35:32], MTCFG [36],
 * ALLOCCFG [40:37], NSCFG [47:46], PRIVCFG [49:48], INSTCFG [51:50], the
 * IMPLEMENTATION DEFINED [63:52] of word 1, S2HD [55], S2HA [56] and [63:59]
 * of word 2, and words 4 to 7.  ste_entries_tracked() checks that every
 * entry here is 0 there, so those fields cannot tell two entries apart.
 */
static const struct ref_field ste_ref[] = {
	{ 0,  0,  0, "STE0.V [0]",			STE_ALWAYS },
	{ 0,  3,  1, "STE0.Config [3:1]",		STE_VALID },
	{ 0,  5,  4, "STE0.S1Fmt [5:4]",		STE_S1 },
	{ 0, 51,  6, "STE0.S1ContextPtr [51:6]",	STE_S1 },
	{ 0, 63, 59, "STE0.S1CDMax [63:59]",		STE_S1 },
	/* S1DSS: IGNORED without substreams (S1CDMax == 0) */
	{ 1,  1,  0, "STE1.S1DSS [1:0]",		STE_S1_SSID },
	{ 1,  3,  2, "STE1.S1CIR [3:2]",		STE_S1 },
	{ 1,  5,  4, "STE1.S1COR [5:4]",		STE_S1 },
	{ 1,  7,  6, "STE1.S1CSH [7:6]",		STE_S1 },
	/* events are recorded by the translating configurations */
	{ 1, 19, 19, "STE1.MEV [19]",			STE_S1 | STE_S2 },
	{ 1, 25, 25, "STE1.S2FWB [25]",			STE_S2 },
	{ 1, 27, 27, "STE1.S1STALLD [27]",		STE_S1 },
	{ 1, 29, 28, "STE1.EATS [29:28]",		STE_S1 | STE_S2 },
	{ 1, 31, 30, "STE1.STRW [31:30]",		STE_S1 },
	/*
	 * SHCFG overrides the incoming shareability where stage 1 does not
	 * translate: bypass, stage 2 (counted for nested too, as the kernel
	 * does), and stage 1 with S1DSS bypass for traffic without a PASID.
	 */
	{ 1, 45, 44, "STE1.SHCFG [45:44]",
	  STE_BYPASS | STE_S2 | STE_S1_DSSBYP },
	/*
	 * S2VMID: every S2 field is IGNORED when stage 2 bypasses, except
	 * S2VMID, which tags stage-1-only translations where stage 2 is
	 * implemented.
	 */
	{ 2, 15,  0, "STE2.S2VMID [15:0]",		STE_S2 | STE_S1_S2P },
	{ 2, 37, 32, "STE2.S2T0SZ [37:32]",		STE_S2 },
	{ 2, 39, 38, "STE2.S2SL0 [39:38]",		STE_S2 },
	{ 2, 41, 40, "STE2.S2IR0 [41:40]",		STE_S2 },
	{ 2, 43, 42, "STE2.S2OR0 [43:42]",		STE_S2 },
	{ 2, 45, 44, "STE2.S2SH0 [45:44]",		STE_S2 },
	{ 2, 47, 46, "STE2.S2TG [47:46]",		STE_S2 },
	{ 2, 50, 48, "STE2.S2PS [50:48]",		STE_S2 },
	{ 2, 51, 51, "STE2.S2AA64 [51]",		STE_S2 },
	{ 2, 52, 52, "STE2.S2ENDI [52]",		STE_S2 },
	{ 2, 53, 53, "STE2.S2AFFD [53]",		STE_S2 },
	{ 2, 54, 54, "STE2.S2PTW [54]",			STE_S2 },
	{ 2, 57, 57, "STE2.S2S [57]",			STE_S2 },
	{ 2, 58, 58, "STE2.S2R [58]",			STE_S2 },
	{ 3, 51,  4, "STE3.S2TTB [51:4]",		STE_S2 },
};

/* Which conditions of ste_ref an STE meets. */
static u32 ste_conditions(const __le64 *ste, bool s2p)
{
	u64 w0 = le64_to_cpu(ste[0]), w1 = le64_to_cpu(ste[1]);
	u32 cfg = (w0 >> 1) & 0x7;		/* Config [3:1] */
	u32 cdmax = (w0 >> 59) & 0x1f;		/* S1CDMax [63:59] */
	u32 dss = w1 & 0x3;			/* S1DSS [1:0] */
	u32 c = STE_ALWAYS;

	if (!(w0 & 1))				/* V [0] */
		return c;
	c |= STE_VALID;
	if (cfg == 0x4)
		c |= STE_BYPASS;
	if (cfg == 0x5 || cfg == 0x7) {
		c |= STE_S1;
		if (s2p)
			c |= STE_S1_S2P;
		if (cdmax) {
			c |= STE_S1_SSID;
			if (dss == 0x1)
				c |= STE_S1_DSSBYP;
		}
	}
	if (cfg == 0x6 || cfg == 0x7)
		c |= STE_S2;
	return c;
}

/* When a CD field is read. */
enum {
	CD_ALWAYS	= BIT(0),	/* whatever V says */
	CD_VALID	= BIT(1),	/* V == 1 */
	CD_TTB0		= BIT(2),	/* V == 1, EPD0 == 0 */
	CD_TTB1		= BIT(3),	/* V == 1, EPD1 == 0 */
};

/*
 * CD fields (5.4).  EPDx == 1 disables walks of TTBx: TxSZ, TGx, IRx, ORx,
 * SHx and TTBx are then IGNORED.  Left out, as 0 in every CD this driver
 * writes: NSCFG0 [0], HAD0 [1], HAFT [3] and [63:52] of word 1, the same
 * of word 2, and words 5 to 7 (IMPLEMENTATION DEFINED, MPAM).
 */
static const struct ref_field cd_ref[] = {
	{ 0,  5,  0, "CD0.T0SZ [5:0]",		CD_TTB0 },
	{ 0,  7,  6, "CD0.TG0 [7:6]",		CD_TTB0 },
	{ 0,  9,  8, "CD0.IR0 [9:8]",		CD_TTB0 },
	{ 0, 11, 10, "CD0.OR0 [11:10]",		CD_TTB0 },
	{ 0, 13, 12, "CD0.SH0 [13:12]",		CD_TTB0 },
	{ 0, 14, 14, "CD0.EPD0 [14]",		CD_VALID },
	{ 0, 15, 15, "CD0.ENDI [15]",		CD_VALID },
	{ 0, 21, 16, "CD0.T1SZ [21:16]",	CD_TTB1 },
	{ 0, 23, 22, "CD0.TG1 [23:22]",		CD_TTB1 },
	{ 0, 25, 24, "CD0.IR1 [25:24]",		CD_TTB1 },
	{ 0, 27, 26, "CD0.OR1 [27:26]",		CD_TTB1 },
	{ 0, 29, 28, "CD0.SH1 [29:28]",		CD_TTB1 },
	{ 0, 30, 30, "CD0.EPD1 [30]",		CD_VALID },
	{ 0, 31, 31, "CD0.V [31]",		CD_ALWAYS },
	{ 0, 34, 32, "CD0.IPS [34:32]",		CD_VALID },
	{ 0, 35, 35, "CD0.AFFD [35]",		CD_VALID },
	{ 0, 36, 36, "CD0.WXN [36]",		CD_VALID },
	{ 0, 37, 37, "CD0.UWXN [37]",		CD_VALID },
	{ 0, 38, 38, "CD0.TBI0 [38]",		CD_VALID },
	{ 0, 39, 39, "CD0.TBI1 [39]",		CD_VALID },
	{ 0, 40, 40, "CD0.PAN [40]",		CD_VALID },
	{ 0, 41, 41, "CD0.AA64 [41]",		CD_VALID },
	{ 0, 42, 42, "CD0.HD [42]",		CD_VALID },
	{ 0, 43, 43, "CD0.HA [43]",		CD_VALID },
	{ 0, 44, 44, "CD0.S [44]",		CD_VALID },
	{ 0, 45, 45, "CD0.R [45]",		CD_VALID },
	{ 0, 46, 46, "CD0.A [46]",		CD_VALID },
	{ 0, 47, 47, "CD0.ASET [47]",		CD_VALID },
	{ 0, 63, 48, "CD0.ASID [63:48]",	CD_VALID },
	{ 1, 51,  4, "CD1.TTB0 [51:4]",		CD_TTB0 },
	{ 2, 51,  4, "CD2.TTB1 [51:4]",		CD_TTB1 },
	{ 3, 31,  0, "CD3.MAIR0 [31:0]",	CD_VALID },
	{ 3, 63, 32, "CD3.MAIR1 [63:32]",	CD_VALID },
	{ 4, 31,  0, "CD4.AMAIR0 [31:0]",	CD_VALID },
	{ 4, 63, 32, "CD4.AMAIR1 [63:32]",	CD_VALID },
};

static u32 cd_conditions(const __le64 *cd, bool s2p)
{
	u64 w0 = le64_to_cpu(cd[0]);
	u32 c = CD_ALWAYS;

	if (!(w0 & BIT_ULL(31)))		/* V [31] */
		return c;
	c |= CD_VALID;
	if (!(w0 & BIT_ULL(14)))		/* EPD0 [14] */
		c |= CD_TTB0;
	if (!(w0 & BIT_ULL(30)))		/* EPD1 [30] */
		c |= CD_TTB1;
	return c;
}

/**
 * struct ref_kind - an entry kind with its reference and the driver's view
 * @name: "STE" or "CD"
 * @fields: the reference table
 * @num_fields: its length
 * @conditions: which conditions of @fields an entry meets
 * @v_word: where V is, from the architecture
 * @v_bit: ditto
 * @get_used: the driver's get_used()
 */
struct ref_kind {
	const char *name;
	const struct ref_field *fields;
	unsigned int num_fields;
	u32 (*conditions)(const __le64 *entry, bool s2p);
	unsigned int v_word;
	u64 v_bit;
	void (*get_used)(const __le64 *entry, __le64 *used);
};

static const struct ref_kind ste_ref_kind = {
	.name = "STE",
	.fields = ste_ref,
	.num_fields = ARRAY_SIZE(ste_ref),
	.conditions = ste_conditions,
	.v_word = 0,
	.v_bit = BIT_ULL(0),
	.get_used = smmuv3_ste_get_used,
};

static const struct ref_kind cd_ref_kind = {
	.name = "CD",
	.fields = cd_ref,
	.num_fields = ARRAY_SIZE(cd_ref),
	.conditions = cd_conditions,
	.v_word = 0,
	.v_bit = BIT_ULL(31),
	.get_used = smmuv3_cd_get_used,
};

static u64 ref_field_bits(const struct ref_field *f)
{
	return GENMASK_ULL(f->hi, f->lo);
}

/* The bits of @entry the reference says the SMMU reads, in CPU order. */
static void ref_used(const struct ref_kind *k, const __le64 *entry, bool s2p,
		     u64 *used)
{
	u32 c = k->conditions(entry, s2p);
	unsigned int i;

	memset(used, 0, NQ * sizeof(*used));
	for (i = 0; i < k->num_fields; i++)
		if (k->fields[i].when & c)
			used[k->fields[i].word] |= ref_field_bits(&k->fields[i]);
}

/* Every bit of a field of the reference table. */
static void ref_tracked(const struct ref_kind *k, u64 *tracked)
{
	unsigned int i;

	memset(tracked, 0, NQ * sizeof(*tracked));
	for (i = 0; i < k->num_fields; i++)
		tracked[k->fields[i].word] |= ref_field_bits(&k->fields[i]);
}

/* Names of the fields where @a and @b differ within @mask, into @buf. */
static const char *ref_fields_in(const struct ref_kind *k, const u64 *a,
				 const u64 *b, const u64 *mask, char *buf,
				 size_t len)
{
	unsigned int i, pos = 0;

	buf[0] = '\0';
	for (i = 0; i < k->num_fields; i++) {
		const struct ref_field *f = &k->fields[i];
		u64 m = ref_field_bits(f) & mask[f->word];

		if ((a[f->word] ^ b[f->word]) & m)
			pos += scnprintf(buf + pos, len - pos, " %s", f->name);
	}
	return buf;
}

static void to_cpu(const __le64 *entry, u64 *out)
{
	unsigned int i;

	for (i = 0; i < NQ; i++)
		out[i] = le64_to_cpu(entry[i]);
}

/*
 * The driver's used bits agree with the reference on every field of the
 * table; with @s2p false (stage 2 not implemented) the driver may use more
 * (S2VMID), never less.
 */
static void check_used(struct kunit *test, const struct ref_kind *k,
		       const char *what, const __le64 *entry)
{
	u64 ref[NQ], ref_nos2[NQ], drv[NQ], tracked[NQ], e[NQ];
	__le64 used[NQ];
	char names[256];
	unsigned int i;

	ref_tracked(k, tracked);
	to_cpu(entry, e);
	for (i = 0; i < NQ; i++)
		KUNIT_EXPECT_EQ_MSG(test, e[i] & ~tracked[i], 0,
				    "%s %s: word %u has bits outside the reference table",
				    k->name, what, i);

	memset(used, 0xa5, sizeof(used));
	k->get_used(entry, used);
	to_cpu(used, drv);
	ref_used(k, entry, true, ref);
	ref_used(k, entry, false, ref_nos2);
	for (i = 0; i < NQ; i++) {
		u64 word_only[NQ] = {};

		word_only[i] = ~0ull;
		drv[i] &= tracked[i];
		KUNIT_EXPECT_EQ_MSG(test, drv[i], ref[i],
				    "%s %s: used bits of word %u differ from the architecture's in:%s",
				    k->name, what, i,
				    ref_fields_in(k, drv, ref, word_only, names,
						  sizeof(names)));
		KUNIT_EXPECT_EQ_MSG(test, ref_nos2[i] & ~drv[i], 0,
				    "%s %s, no stage 2: word %u bits used but not by the driver",
				    k->name, what, i);
	}
}

/* --- Checking the writer against the reference -------------------------- */

#define MAX_SNAPS	5	/* the entry before, and at most 3 syncs */

/* A writer that records the entry at every sync. */
struct rec_writer {
	struct smmuv3_entry_writer writer;
	struct smmuv3_entry_writer_ops ops;
	const __le64 *live;
	unsigned int num;
	u64 snap[MAX_SNAPS][NQ];
};

static void rec_sync(struct smmuv3_entry_writer *writer)
{
	struct rec_writer *w = container_of(writer, struct rec_writer, writer);

	if (w->num < MAX_SNAPS)
		to_cpu(w->live, w->snap[w->num]);
	w->num++;
}

static bool equal_on(const u64 *a, const u64 *b, const u64 *used)
{
	unsigned int i;

	for (i = 0; i < NQ; i++)
		if ((a[i] ^ b[i]) & used[i])
			return false;
	return true;
}

static unsigned int words_differing_on(const u64 *a, const u64 *b,
				       const u64 *used)
{
	unsigned int i, n = 0;

	for (i = 0; i < NQ; i++)
		if ((a[i] ^ b[i]) & used[i])
			n++;
	return n;
}

static void print_entry(struct kunit *test, const char *what, const u64 *e)
{
	kunit_info(test, "  %s: %016llx %016llx %016llx %016llx", what,
		   e[0], e[1], e[2], e[3]);
}

/*
 * Update @old to @target with smmuv3_entry_update() and the driver's
 * get_used(), recording the entry at each sync, then check every step with
 * the reference (stage 2 implemented: the most bits used).
 */
static void check_transition(struct kunit *test, const struct ref_kind *k,
			     const char *from, const __le64 *old,
			     const char *to, const __le64 *target)
{
	struct rec_writer w = {
		.ops = {
			.get_used = k->get_used,
			.sync = rec_sync,
			.v_bit = k->v_bit,
		},
		.writer = { .num_qwords = NQ },
	};
	u64 o[NQ], t[NQ], o_used[NQ], t_used[NQ], mix[NQ];
	__le64 entry[NQ];
	unsigned int s, i, combo, nsnaps, k_before = 0;
	bool bbm = false, switched = false;
	char names[128], names2[128];

	w.writer.ops = &w.ops;
	memcpy(entry, old, sizeof(entry));
	w.live = entry;
	to_cpu(old, o);
	to_cpu(target, t);
	ref_used(k, old, true, o_used);
	ref_used(k, target, true, t_used);
	memcpy(w.snap[0], o, sizeof(o));
	w.num = 1;

	smmuv3_entry_update(&w.writer, entry, target);

	KUNIT_ASSERT_LE(test, w.num, MAX_SNAPS);
	KUNIT_EXPECT_MEMEQ_MSG(test, entry, target, sizeof(entry),
			       "%s %s -> %s: final entry", k->name, from, to);
	nsnaps = w.num;
	for (s = 1; s + 1 < nsnaps; s++)
		if ((o[k->v_word] & k->v_bit) && (t[k->v_word] & k->v_bit) &&
		    !(w.snap[s][k->v_word] & k->v_bit))
			bbm = true;

	/* Every word-by-word mix of two consecutive snapshots. */
	for (s = 1; s < nsnaps; s++) {
		const u64 *prev = w.snap[s - 1], *cur = w.snap[s];

		for (combo = 0; combo < BIT(NQ); combo++) {
			bool ok;

			for (i = 0; i < NQ; i++)
				mix[i] = combo & BIT(i) ? cur[i] : prev[i];
			ok = equal_on(mix, o, o_used) ||
			     equal_on(mix, t, t_used) ||
			     (bbm && !(mix[k->v_word] & k->v_bit));
			if (ok)
				continue;
			ref_fields_in(k, mix, o, o_used, names, sizeof(names));
			ref_fields_in(k, mix, t, t_used, names2,
				      sizeof(names2));
			KUNIT_FAIL(test,
				   "%s %s -> %s: before sync %u the SMMU may read neither: not the old entry in%s; not the new one in%s",
				   k->name, from, to, s, names, names2);
			print_entry(test, "seen", mix);
			print_entry(test, "old", o);
			print_entry(test, "target", t);
			return;
		}
	}

	if (bbm)
		return;
	/*
	 * Hitless: the snapshots are the old configuration up to the
	 * switching store, the new one from it on, and the store changed at
	 * most one word the new configuration reads.
	 */
	for (s = 1; s < nsnaps; s++) {
		if (!switched && equal_on(w.snap[s], o, o_used)) {
			k_before = s;
			continue;
		}
		if (!switched) {
			switched = true;
			KUNIT_EXPECT_LE_MSG(test,
					    words_differing_on(w.snap[k_before],
							       t, t_used), 1,
					    "%s %s -> %s hitless, but the switching store after sync %u changes more than one word on reference-used bits:%s",
					    k->name, from, to, k_before,
					    ref_fields_in(k, w.snap[k_before],
							  t, t_used, names,
							  sizeof(names)));
		}
		KUNIT_EXPECT_TRUE_MSG(test, equal_on(w.snap[s], t, t_used),
				      "%s %s -> %s: after the switch, sync %u is not the target on reference-used bits",
				      k->name, from, to, s);
	}
}

/* --- The entries the driver builds -------------------------------------- */

struct named_entry {
	const char *name;
	__le64 e[NQ];
};

#define FEAT	(SMMUV3_FEAT_S1 | SMMUV3_FEAT_S2 | SMMUV3_FEAT_NESTING | \
		 SMMUV3_FEAT_2LVL_CDTAB)
#define S2TTB_A	0x0000000412345000ull
#define S2TTB_B	0x0000000498765000ull
#define VMID_A	1
#define VMID_B	2
#define VMID_V	0x42	/* a vIOMMU's */

static struct smmuv3_master *master_with_cdtab(struct kunit *test,
					       u8 ssid_bits, u32 sid)
{
	struct fake_smmu *f;
	struct smmuv3_master *m;

	f = fake_smmu_create(test, "smmu", FEAT, 16, 4);
	f->smmu.feat.ssid_bits = ssid_bits;
	fake_smmu_add_strtab(test, f, 4);
	m = fake_master_create(test, f, &sid, 1);
	KUNIT_ASSERT_EQ(test, smmuv3_cdtab_alloc(m), 0);
	return m;
}

static struct smmuv3_domain *s2_domain(struct kunit *test, u64 vttbr,
				       bool fwb)
{
	struct smmuv3_domain *d;
	struct io_pgtable_cfg *cfg;

	d = fake_domain_create(test, SMMUV3_STAGE_2, SZ_4K | SZ_2M | SZ_1G);
	cfg = &d->pgtbl_cfg;
	cfg->arm_lpae_s2_cfg.vttbr = vttbr;
	cfg->arm_lpae_s2_cfg.vtcr.tsz = 20;
	cfg->arm_lpae_s2_cfg.vtcr.sl = 1;
	cfg->arm_lpae_s2_cfg.vtcr.irgn = 1;
	cfg->arm_lpae_s2_cfg.vtcr.orgn = 1;
	cfg->arm_lpae_s2_cfg.vtcr.sh = 3;
	cfg->arm_lpae_s2_cfg.vtcr.ps = 4;
	if (fwb)
		cfg->quirks |= SMMUV3_PGTABLE_S2FWB;
	return d;
}

#if SMMUV3_HAVE_VIOMMU
/* The STE of a nested domain for the guest STE @w0, @w1 over @parent. */
static void make_nested(struct kunit *test, __le64 *ste,
			struct smmuv3_master *m, struct smmuv3_domain *parent,
			u64 w0, u64 w1)
{
	struct smmuv3_viommu *viommu;
	struct smmuv3_nested *nested;

	viommu = kunit_kzalloc(test, sizeof(*viommu), GFP_KERNEL);
	nested = kunit_kzalloc(test, sizeof(*nested), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, viommu);
	KUNIT_ASSERT_NOT_NULL(test, nested);
	viommu->smmu = m->smmu;
	viommu->parent = parent;
	viommu->vmid.id = VMID_V;
	nested->viommu = viommu;
	nested->vste[0] = cpu_to_le64(w0);
	nested->vste[1] = cpu_to_le64(w1);
	KUNIT_ASSERT_EQ(test, smmuv3_vste_validate(m->smmu, nested->vste, NULL), 0);
	smmuv3_ste_make_nested(ste, nested);
}

/*
 * Guest STEs, from the 5.2 layout: V [0], Config [3:1], S1ContextPtr
 * [51:6], S1CDMax [63:59]; S1DSS [1:0], S1CIR [3:2], S1COR [5:4], S1CSH
 * [7:6].
 */
#define GUEST_ABORT0	0x0000000000000001ull	/* Config 0b000 */
#define GUEST_BYPASS0	0x0000000000000009ull	/* Config 0b100 */
/* Config 0b101, S1ContextPtr 0x12345640, S1CDMax 0 / 4 */
#define GUEST_S1_0	0x000000001234564bull
#define GUEST_S1_CD4_0	0x200000001234564bull
#define GUEST_S1_OTHER0	0x000000007654320bull
/* S1CIR 1, S1COR 1, S1CSH 3 = 0xd4, plus S1DSS */
#define GUEST_S1_1(dss)	(0x00000000000000d4ull | (dss))
#endif /* SMMUV3_HAVE_VIOMMU */

static unsigned int ste_entries(struct kunit *test, struct named_entry *out)
{
	struct smmuv3_master *sub = master_with_cdtab(test, 4, 1);
	struct smmuv3_master *sub2 = master_with_cdtab(test, 4, 2);
	struct smmuv3_master *one = master_with_cdtab(test, 0, 3);
	struct smmuv3_domain *s2a = s2_domain(test, S2TTB_A, false);
	struct smmuv3_domain *s2b = s2_domain(test, S2TTB_B, false);
	struct smmuv3_domain *s2f = s2_domain(test, S2TTB_A, true);
	unsigned int n = 0;

	out[n].name = "invalid";
	memset(out[n++].e, 0, sizeof(out[0].e));
	out[n].name = "abort";
	smmuv3_ste_make_abort(out[n++].e);
	out[n].name = "bypass";
	smmuv3_ste_make_bypass(out[n++].e);
	out[n].name = "s1 (one CD)";
	smmuv3_ste_make_s1(out[n++].e, one, SMMUV3_S1DSS_SSID0);
	out[n].name = "s1 (other table, one CD)";
	smmuv3_ste_make_s1(out[n++].e, sub2, SMMUV3_S1DSS_SSID0);
	out[n].name = "s1 S1DSS terminate";
	smmuv3_ste_make_s1(out[n++].e, sub, SMMUV3_S1DSS_TERMINATE);
	out[n].name = "s1 S1DSS bypass";
	smmuv3_ste_make_s1(out[n++].e, sub, SMMUV3_S1DSS_BYPASS);
	out[n].name = "s1 S1DSS ssid0";
	smmuv3_ste_make_s1(out[n++].e, sub, SMMUV3_S1DSS_SSID0);
	out[n].name = "s2 VMID A";
	smmuv3_ste_make_s2(out[n++].e, s2a, VMID_A);
	out[n].name = "s2 VMID B, table B";
	smmuv3_ste_make_s2(out[n++].e, s2b, VMID_B);
	out[n].name = "s2 VMID B, table A";
	smmuv3_ste_make_s2(out[n++].e, s2a, VMID_B);
	out[n].name = "s2 FWB";
	smmuv3_ste_make_s2(out[n++].e, s2f, VMID_A);
#if SMMUV3_HAVE_VIOMMU
	out[n].name = "nested abort";
	make_nested(test, out[n++].e, sub, s2a, GUEST_ABORT0, 0);
	out[n].name = "nested bypass";
	make_nested(test, out[n++].e, sub, s2a, GUEST_BYPASS0, 0);
	out[n].name = "nested bypass FWB";
	make_nested(test, out[n++].e, sub, s2f, GUEST_BYPASS0, 0);
	out[n].name = "nested s1";
	make_nested(test, out[n++].e, sub, s2a, GUEST_S1_0, GUEST_S1_1(0));
	out[n].name = "nested s1, other CD table";
	make_nested(test, out[n++].e, sub, s2a, GUEST_S1_OTHER0,
		    GUEST_S1_1(0));
	out[n].name = "nested s1, S1DSS bypass without substreams";
	make_nested(test, out[n++].e, sub, s2a, GUEST_S1_0, GUEST_S1_1(1));
	out[n].name = "nested s1 S1CDMax 4, S1DSS bypass";
	make_nested(test, out[n++].e, sub, s2a, GUEST_S1_CD4_0,
		    GUEST_S1_1(1));
	out[n].name = "nested s1 S1CDMax 4, S1DSS ssid0";
	make_nested(test, out[n++].e, sub, s2a, GUEST_S1_CD4_0,
		    GUEST_S1_1(2));
	out[n].name = "nested s1 FWB";
	make_nested(test, out[n++].e, sub, s2f, GUEST_S1_0, GUEST_S1_1(0));
#endif
	return n;
}

#define MAX_ENTRIES	24

/* The used bits of every STE the driver builds, against the reference. */
static void ste_used_bits(struct kunit *test)
{
	struct named_entry *e;
	unsigned int n, i;

	e = kunit_kcalloc(test, MAX_ENTRIES, sizeof(*e), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, e);
	n = ste_entries(test, e);
	KUNIT_ASSERT_LE(test, n, MAX_ENTRIES);
	for (i = 0; i < n; i++)
		check_used(test, &ste_ref_kind, e[i].name, e[i].e);
}

/* Every ordered pair of those STEs, updated live. */
static void ste_transitions(struct kunit *test)
{
	struct named_entry *e;
	unsigned int n, i, j;

	e = kunit_kcalloc(test, MAX_ENTRIES, sizeof(*e), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, e);
	n = ste_entries(test, e);
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			check_transition(test, &ste_ref_kind, e[i].name, e[i].e,
					 e[j].name, e[j].e);
}

/*
 * The switches that must not be hitless since a stage-1 STE uses S2VMID:
 * to and from stage 2 and nested, where the VMID changes (checked here by
 * the writer's own count of syncs: break-before-make takes 3).
 */
static void ste_vmid_switch_breaks(struct kunit *test)
{
	static const struct fake_entry_kind kind = {
		.name = "STE",
		.num_qwords = NQ,
		.get_used = smmuv3_ste_get_used,
		.v_bit = BIT_ULL(0),
	};
	struct named_entry *e;

	e = kunit_kcalloc(test, MAX_ENTRIES, sizeof(*e), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, e);
	ste_entries(test, e);
	/* indexes as ste_entries() fills them */
	KUNIT_ASSERT_STREQ(test, e[3].name, "s1 (one CD)");
	KUNIT_ASSERT_STREQ(test, e[8].name, "s2 VMID A");
	fake_check_update(test, &kind, e[8].e, e[3].e, 3, true);
	fake_check_update(test, &kind, e[3].e, e[8].e, 3, true);
#if SMMUV3_HAVE_VIOMMU
	/* nested STEs exist only where the vIOMMU code is built */
	KUNIT_ASSERT_STREQ(test, e[15].name, "nested s1");
	fake_check_update(test, &kind, e[15].e, e[3].e, 3, true);
	fake_check_update(test, &kind, e[3].e, e[15].e, 3, true);
#endif
}

/* --- CDs ----------------------------------------------------------------- */

#define TTBR_A		0x0000001234568000ull
#define TTBR_B		0x00000009abcd0000ull
#define MAIR_A		0x0000000000ff0444ull
#define MAIR_B		0x00000000004404ffull

static void make_cd(struct kunit *test, __le64 *cd, u16 asid, u64 ttbr,
		    u64 mair, bool httu)
{
	struct smmuv3_domain *d;
	struct io_pgtable_cfg *cfg;

	d = fake_domain_create(test, SMMUV3_STAGE_1, SZ_4K | SZ_2M | SZ_1G);
	cfg = &d->pgtbl_cfg;
	cfg->arm_lpae_s1_cfg.tcr.tsz = 16;
	cfg->arm_lpae_s1_cfg.tcr.irgn = 1;
	cfg->arm_lpae_s1_cfg.tcr.orgn = 1;
	cfg->arm_lpae_s1_cfg.tcr.sh = 3;
	cfg->arm_lpae_s1_cfg.tcr.ips = 5;
	cfg->arm_lpae_s1_cfg.ttbr = ttbr;
	cfg->arm_lpae_s1_cfg.mair = mair;
	if (httu)
		cfg->quirks |= IO_PGTABLE_QUIRK_ARM_HD;
	smmuv3_cd_make_s1(cd, d, asid);
}

static unsigned int cd_entries(struct kunit *test, struct named_entry *out)
{
	unsigned int n = 0;

	out[n].name = "invalid";
	memset(out[n++].e, 0, sizeof(out[0].e));
	out[n].name = "asid 1";
	make_cd(test, out[n++].e, 1, TTBR_A, MAIR_A, false);
	out[n].name = "asid 2";
	make_cd(test, out[n++].e, 2, TTBR_A, MAIR_A, false);
	out[n].name = "asid 1, TTB0 B";
	make_cd(test, out[n++].e, 1, TTBR_B, MAIR_A, false);
	out[n].name = "asid 2, TTB0 B";
	make_cd(test, out[n++].e, 2, TTBR_B, MAIR_A, false);
	out[n].name = "asid 2, MAIR B";
	make_cd(test, out[n++].e, 2, TTBR_A, MAIR_B, false);
	out[n].name = "asid 1, HTTU";
	make_cd(test, out[n++].e, 1, TTBR_A, MAIR_A, true);
	out[n].name = "asid 1, EPD0";
	make_cd(test, out[n].e, 1, TTBR_A, MAIR_A, false);
	out[n++].e[0] |= cpu_to_le64(BIT_ULL(14));	/* EPD0 [14] */
	return n;
}

static void cd_used_bits(struct kunit *test)
{
	struct named_entry *e;
	unsigned int n, i;

	e = kunit_kcalloc(test, MAX_ENTRIES, sizeof(*e), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, e);
	n = cd_entries(test, e);
	for (i = 0; i < n; i++)
		check_used(test, &cd_ref_kind, e[i].name, e[i].e);
}

static void cd_transitions(struct kunit *test)
{
	struct named_entry *e;
	unsigned int n, i, j;

	e = kunit_kcalloc(test, MAX_ENTRIES, sizeof(*e), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, e);
	n = cd_entries(test, e);
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			check_transition(test, &cd_ref_kind, e[i].name, e[i].e,
					 e[j].name, e[j].e);
}

static struct kunit_case smmuv3_used_bits_cases[] = {
	KUNIT_CASE(ste_used_bits),
	KUNIT_CASE(ste_transitions),
	KUNIT_CASE(ste_vmid_switch_breaks),
	KUNIT_CASE(cd_used_bits),
	KUNIT_CASE(cd_transitions),
	{}
};

static struct kunit_suite smmuv3_used_bits_suite = {
	.name = "smmuv3-used-bits",
	.test_cases = smmuv3_used_bits_cases,
};

kunit_test_suites(&smmuv3_used_bits_suite);
