// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for building invalidation arrays (invs.c): merge, unref and
 * purge, with the entries of several instances.
 *
 * The instances are fakes (fake_smmu.h) created in address order, so
 * smmu0 < smmu1 < smmu2 is also their order in an array.  No command is
 * issued here: the arrays are only built and read.
 */
#include <kunit/test.h>
#include <linux/kernel.h>
#include <linux/slab.h>

#include <smmuv3/invs.h>
#include <smmuv3/smmuv3.h>

#include "fake_smmu.h"

#define S1	SMMUV3_INV_S1_ASID
#define S2	SMMUV3_INV_S2_VMID
#define S1CLR	SMMUV3_INV_S2_VMID_S1_CLEAR
#define ATS	SMMUV3_INV_ATS
#define ATSF	SMMUV3_INV_ATS_FULL

static void three_smmus(struct kunit *test, struct fake_smmu **f)
{
	fake_smmus_create_sorted(test, f, 3, SMMUV3_FEAT_S1 | SMMUV3_FEAT_S2,
				 16, 8);
}

/* Merge and free the result at the end of the test. */
static struct smmuv3_invs *merge(struct kunit *test,
				 const struct smmuv3_invs *old,
				 const struct smmuv3_inv *add, unsigned int num)
{
	struct smmuv3_invs *invs = smmuv3_invs_merge(old, add, num);

	KUNIT_ASSERT_NOT_NULL(test, invs);
	fake_invs_track(test, invs);
	return invs;
}

static struct smmuv3_invs *purge(struct kunit *test,
				 const struct smmuv3_invs *old,
				 const struct fake_smmu *drop)
{
	struct smmuv3_invs *invs;

	invs = smmuv3_invs_purge(old, drop ? &drop->smmu : NULL);
	KUNIT_ASSERT_NOT_NULL(test, invs);
	fake_invs_track(test, invs);
	return invs;
}

static const char *inv_smmu_name(const struct smmuv3_inv *inv)
{
	return inv->smmu ? inv->smmu->name : "(null)";
}

/* The array holds exactly @expect, in that order, with those users. */
static void expect_invs(struct kunit *test, const struct smmuv3_invs *invs,
			const struct smmuv3_inv *expect, unsigned int num)
{
	unsigned int i;

	KUNIT_ASSERT_EQ_MSG(test, invs->num, num, "entries in the array");
	for (i = 0; i < num; i++) {
		const struct smmuv3_inv *got = &invs->inv[i];
		const struct smmuv3_inv *exp = &expect[i];

		if (got->smmu == exp->smmu && got->type == exp->type &&
		    got->id == exp->id && got->ssid == exp->ssid &&
		    got->users == exp->users)
			continue;
		KUNIT_FAIL(test,
			   "entry %u is {%s type %u id %#x ssid %#x users %d}, expected {%s type %u id %#x ssid %#x users %d}",
			   i, inv_smmu_name(got), got->type, got->id,
			   got->ssid, got->users, inv_smmu_name(exp),
			   exp->type, exp->id, exp->ssid, exp->users);
	}
}

static void expect_sorted(struct kunit *test, const struct smmuv3_invs *invs)
{
	unsigned int i;

	for (i = 1; i < invs->num; i++)
		KUNIT_EXPECT_LT_MSG(test,
				    smmuv3_inv_cmp(&invs->inv[i - 1],
						   &invs->inv[i]), 0,
				    "entries %u and %u out of order", i - 1, i);
}

/* --- The order ------------------------------------------------------------ */

/*
 * Instance (by address) first, whatever the other fields; then type, then
 * ID, then SSID; all equal compares equal, users aside.
 */
static void invs_cmp_order(struct kunit *test)
{
	struct smmuv3_inv x, y;
	struct fake_smmu *f[3];
	unsigned int i;

	three_smmus(test, f);
	{
		/* Each pair: a sorts before b. */
		const struct smmuv3_inv lt[][2] = {
			{ FAKE_INV(f[0], ATSF, 0xffff, 0xff, 1),
			  FAKE_INV(f[1], S1, 0, 0, 1) },
			{ FAKE_INV(f[1], ATS, 0, 0, 1),
			  FAKE_INV(f[2], S1, 0, 0, 1) },
			{ FAKE_INV(f[0], S1, 0xffff, 0xff, 1),
			  FAKE_INV(f[0], S2, 1, 0, 1) },
			{ FAKE_INV(f[0], S2, 0xffff, 0, 1),
			  FAKE_INV(f[0], S1CLR, 1, 0, 1) },
			{ FAKE_INV(f[0], S1CLR, 0xffff, 0, 1),
			  FAKE_INV(f[0], ATS, 0, 0, 1) },
			{ FAKE_INV(f[0], ATS, 0xffff, 0xfffff, 1),
			  FAKE_INV(f[0], ATSF, 0, 0, 1) },
			{ FAKE_INV(f[0], S1, 1, 0xfffff, 1),
			  FAKE_INV(f[0], S1, 2, 0, 1) },
			{ FAKE_INV(f[0], ATS, 7, 1, 1),
			  FAKE_INV(f[0], ATS, 7, 2, 1) },
		};

		for (i = 0; i < ARRAY_SIZE(lt); i++) {
			KUNIT_EXPECT_LT_MSG(test,
					    smmuv3_inv_cmp(&lt[i][0], &lt[i][1]),
					    0, "pair %u", i);
			KUNIT_EXPECT_GT_MSG(test,
					    smmuv3_inv_cmp(&lt[i][1], &lt[i][0]),
					    0, "pair %u reversed", i);
		}
	}

	x = FAKE_INV(f[1], ATS, 0x42, 3, 1);
	y = FAKE_INV(f[1], ATS, 0x42, 3, 7);
	KUNIT_EXPECT_EQ(test, smmuv3_inv_cmp(&x, &y), 0);
	KUNIT_EXPECT_EQ(test, smmuv3_inv_cmp(&x, &x), 0);
}

/* --- Merge ---------------------------------------------------------------- */

/* Entries given in a scrambled order come out sorted. */
static void invs_merge_sorts(struct kunit *test)
{
	struct fake_smmu *f[3];
	struct smmuv3_invs *invs;

	three_smmus(test, f);
	{
		const struct smmuv3_inv add[] = {
			FAKE_INV(f[2], S1, 1, 0, 1),
			FAKE_INV(f[0], ATS, 0x10, 2, 1),
			FAKE_INV(f[1], S2, 3, 0, 1),
			FAKE_INV(f[0], S1, 4, 0, 1),
			FAKE_INV(f[0], ATS, 0x10, 1, 1),
			FAKE_INV(f[0], S2, 2, 0, 1),
			FAKE_INV(f[1], S1, 9, 0, 1),
			FAKE_INV(f[0], S1, 2, 0, 1),
			FAKE_INV(f[0], ATS, 0x8, 5, 1),
			FAKE_INV(f[2], ATSF, 0x30, 0, 1),
			FAKE_INV(f[1], S1CLR, 4, 0, 1),
		};
		/* smmu0 by type/id/ssid, then smmu1, then smmu2 */
		const struct smmuv3_inv expect[] = {
			FAKE_INV(f[0], S1, 2, 0, 1),
			FAKE_INV(f[0], S1, 4, 0, 1),
			FAKE_INV(f[0], S2, 2, 0, 1),
			FAKE_INV(f[0], ATS, 0x8, 5, 1),
			FAKE_INV(f[0], ATS, 0x10, 1, 1),
			FAKE_INV(f[0], ATS, 0x10, 2, 1),
			FAKE_INV(f[1], S1, 9, 0, 1),
			FAKE_INV(f[1], S2, 3, 0, 1),
			FAKE_INV(f[1], S1CLR, 4, 0, 1),
			FAKE_INV(f[2], S1, 1, 0, 1),
			FAKE_INV(f[2], ATSF, 0x30, 0, 1),
		};

		invs = merge(test, NULL, add, ARRAY_SIZE(add));
		expect_invs(test, invs, expect, ARRAY_SIZE(expect));
		expect_sorted(test, invs);
		KUNIT_EXPECT_TRUE(test, fake_invs_has_ats(invs));
		KUNIT_EXPECT_EQ(test, invs->num_trash, 0);
	}
}

/*
 * Equal additions collapse into one entry with the sum of their users; an
 * addition equal to an existing entry adds its users to it.  The old array
 * is not changed.
 */
static void invs_merge_collapse(struct kunit *test)
{
	struct smmuv3_invs *invs, *more;
	struct fake_smmu *f[3];

	three_smmus(test, f);
	{
		const struct smmuv3_inv add[] = {
			FAKE_INV(f[1], S1, 5, 0, 1),
			FAKE_INV(f[0], S1, 5, 0, 2),
			FAKE_INV(f[1], S1, 5, 0, 1),
			FAKE_INV(f[1], S1, 5, 0, 3),
		};
		const struct smmuv3_inv expect[] = {
			FAKE_INV(f[0], S1, 5, 0, 2),
			FAKE_INV(f[1], S1, 5, 0, 5),
		};
		/* Twice the existing smmu1 entry, plus a new one on smmu2. */
		const struct smmuv3_inv add2[] = {
			FAKE_INV(f[2], S1, 5, 0, 1),
			FAKE_INV(f[1], S1, 5, 0, 2),
			FAKE_INV(f[1], S1, 5, 0, 1),
		};
		const struct smmuv3_inv expect2[] = {
			FAKE_INV(f[0], S1, 5, 0, 2),
			FAKE_INV(f[1], S1, 5, 0, 8),
			FAKE_INV(f[2], S1, 5, 0, 1),
		};

		invs = merge(test, NULL, add, ARRAY_SIZE(add));
		expect_invs(test, invs, expect, ARRAY_SIZE(expect));

		more = merge(test, invs, add2, ARRAY_SIZE(add2));
		expect_invs(test, more, expect2, ARRAY_SIZE(expect2));
		/* the published array is left alone */
		expect_invs(test, invs, expect, ARRAY_SIZE(expect));
	}
}

/* New entries of several instances interleave with the existing ones. */
static void invs_merge_interleave(struct kunit *test)
{
	struct smmuv3_invs *invs, *more;
	struct fake_smmu *f[3];

	three_smmus(test, f);
	{
		const struct smmuv3_inv add[] = {
			FAKE_INV(f[2], S2, 3, 0, 1),
			FAKE_INV(f[0], S2, 3, 0, 1),
			FAKE_INV(f[1], ATS, 0x20, 0, 1),
		};
		const struct smmuv3_inv add2[] = {
			FAKE_INV(f[1], S2, 1, 0, 1),
			FAKE_INV(f[2], ATS, 0x30, 0, 1),
			FAKE_INV(f[0], S2, 4, 0, 1),
			FAKE_INV(f[2], S1CLR, 2, 0, 1),
			FAKE_INV(f[0], S2, 1, 0, 1),
		};
		const struct smmuv3_inv expect[] = {
			FAKE_INV(f[0], S2, 1, 0, 1),
			FAKE_INV(f[0], S2, 3, 0, 1),
			FAKE_INV(f[0], S2, 4, 0, 1),
			FAKE_INV(f[1], S2, 1, 0, 1),
			FAKE_INV(f[1], ATS, 0x20, 0, 1),
			FAKE_INV(f[2], S2, 3, 0, 1),
			FAKE_INV(f[2], S1CLR, 2, 0, 1),
			FAKE_INV(f[2], ATS, 0x30, 0, 1),
		};

		invs = merge(test, NULL, add, ARRAY_SIZE(add));
		more = merge(test, invs, add2, ARRAY_SIZE(add2));
		expect_invs(test, more, expect, ARRAY_SIZE(expect));
		expect_sorted(test, more);
		KUNIT_EXPECT_EQ(test, more->num_trash, 0);
	}
}

/* A NULL old array, nothing to add, or both: valid, possibly empty, arrays. */
static void invs_merge_null_and_empty(struct kunit *test)
{
	struct smmuv3_invs *invs, *copy;
	struct fake_smmu *f[3];

	three_smmus(test, f);

	invs = merge(test, NULL, NULL, 0);
	KUNIT_EXPECT_EQ(test, invs->num, 0);
	KUNIT_EXPECT_EQ(test, invs->num_trash, 0);
	KUNIT_EXPECT_FALSE(test, fake_invs_has_ats(invs));

	invs = smmuv3_invs_alloc(0);
	KUNIT_ASSERT_NOT_NULL(test, invs);
	fake_invs_track(test, invs);
	KUNIT_EXPECT_EQ(test, invs->num, 0);

	{
		const struct smmuv3_inv add[] = {
			FAKE_INV(f[1], S1, 3, 0, 1),
			FAKE_INV(f[0], S1, 3, 0, 1),
		};
		const struct smmuv3_inv expect[] = {
			FAKE_INV(f[0], S1, 3, 0, 1),
			FAKE_INV(f[1], S1, 3, 0, 1),
		};

		invs = merge(test, NULL, add, ARRAY_SIZE(add));
		expect_invs(test, invs, expect, ARRAY_SIZE(expect));
		KUNIT_EXPECT_FALSE(test, fake_invs_has_ats(invs));

		/* Adding nothing copies. */
		copy = merge(test, invs, NULL, 0);
		KUNIT_EXPECT_PTR_NE(test, copy, invs);
		expect_invs(test, copy, expect, ARRAY_SIZE(expect));
	}
}

/* --- Unref ---------------------------------------------------------------- */

struct unused_log {
	unsigned int calls;
	const struct smmuv3_inv *ptr[8];
	struct smmuv3_inv seen[8];
};

static void log_unused(const struct smmuv3_inv *inv, void *arg)
{
	struct unused_log *log = arg;

	if (log->calls < ARRAY_SIZE(log->ptr)) {
		log->ptr[log->calls] = inv;
		log->seen[log->calls] = *inv;
	}
	log->calls++;
}

/*
 * Users drop in place, one per deleted entry; the callback runs once, for
 * the entry that reaches 0, which stays in place as trash.
 */
static void invs_unref_in_place(struct kunit *test)
{
	struct unused_log log = {};
	struct smmuv3_invs *invs;
	struct fake_smmu *f[3];
	unsigned int trash;

	three_smmus(test, f);
	{
		const struct smmuv3_inv add[] = {
			FAKE_INV(f[0], S1, 1, 0, 1),
			FAKE_INV(f[0], S1, 2, 0, 3),
			FAKE_INV(f[1], S1, 2, 0, 1),
		};
		const struct smmuv3_inv del = FAKE_INV(f[0], S1, 2, 0, 1);
		struct smmuv3_inv expect[] = {
			FAKE_INV(f[0], S1, 1, 0, 1),
			FAKE_INV(f[0], S1, 2, 0, 2),
			FAKE_INV(f[1], S1, 2, 0, 1),
		};

		invs = merge(test, NULL, add, ARRAY_SIZE(add));

		trash = smmuv3_invs_unref(invs, &del, 1, log_unused, &log);
		KUNIT_EXPECT_EQ(test, trash, 0);
		KUNIT_EXPECT_EQ(test, log.calls, 0);
		expect_invs(test, invs, expect, ARRAY_SIZE(expect));

		trash = smmuv3_invs_unref(invs, &del, 1, log_unused, &log);
		KUNIT_EXPECT_EQ(test, trash, 0);
		KUNIT_EXPECT_EQ(test, log.calls, 0);
		expect[1].users = 1;
		expect_invs(test, invs, expect, ARRAY_SIZE(expect));

		trash = smmuv3_invs_unref(invs, &del, 1, log_unused, &log);
		KUNIT_EXPECT_EQ(test, trash, 1);
		KUNIT_EXPECT_EQ(test, invs->num_trash, 1);
		KUNIT_ASSERT_EQ(test, log.calls, 1);
		/* with the entry itself, in the array, already unused */
		KUNIT_EXPECT_PTR_EQ(test, log.ptr[0], &invs->inv[1]);
		KUNIT_EXPECT_EQ(test, log.seen[0].users, 0);
		KUNIT_EXPECT_EQ(test, log.seen[0].id, 2);
		expect[1].users = 0;
		expect_invs(test, invs, expect, ARRAY_SIZE(expect));

		/* No callback: still counted. */
		trash = smmuv3_invs_unref(invs, &add[0], 1, NULL, NULL);
		KUNIT_EXPECT_EQ(test, trash, 2);
		KUNIT_EXPECT_EQ(test, invs->inv[0].users, 0);
		KUNIT_EXPECT_EQ(test, log.calls, 1);
	}
}

/*
 * Two attachments leaving at once (the same entry twice in @del): users
 * drop by two, and the callback runs once, when they reach 0.
 */
static void invs_unref_twice(struct kunit *test)
{
	struct unused_log log = {};
	struct smmuv3_invs *invs;
	struct fake_smmu *f[3];

	three_smmus(test, f);
	{
		const struct smmuv3_inv add[] = {
			FAKE_INV(f[1], S2, 4, 0, 2),
			FAKE_INV(f[2], S2, 4, 0, 3),
		};
		const struct smmuv3_inv del[] = {
			FAKE_INV(f[1], S2, 4, 0, 1),
			FAKE_INV(f[2], S2, 4, 0, 1),
			FAKE_INV(f[1], S2, 4, 0, 1),
			FAKE_INV(f[2], S2, 4, 0, 1),
		};
		const struct smmuv3_inv after[] = {
			FAKE_INV(f[1], S2, 4, 0, 0),
			FAKE_INV(f[2], S2, 4, 0, 1),
		};

		invs = merge(test, NULL, add, ARRAY_SIZE(add));
		KUNIT_EXPECT_EQ(test, smmuv3_invs_unref(invs, del,
							ARRAY_SIZE(del),
							log_unused, &log), 1);
		expect_invs(test, invs, after, ARRAY_SIZE(after));
		KUNIT_ASSERT_EQ(test, log.calls, 1);
		KUNIT_EXPECT_PTR_EQ(test, log.ptr[0], &invs->inv[0]);
	}
}

/*
 * Entries of two instances unreferenced in one call: both become trash,
 * each reported once; purge removes exactly them, keeping the order.
 */
static void invs_unref_across_instances(struct kunit *test)
{
	struct unused_log log = {};
	struct smmuv3_invs *invs, *clean;
	struct fake_smmu *f[3];
	unsigned int trash;

	three_smmus(test, f);
	{
		const struct smmuv3_inv add[] = {
			FAKE_INV(f[0], S2, 7, 0, 1),
			FAKE_INV(f[0], S1CLR, 8, 0, 1),
			FAKE_INV(f[0], ATS, 0x11, 0, 1),
			FAKE_INV(f[1], S2, 7, 0, 1),
			FAKE_INV(f[1], ATS, 0x12, 0, 1),
			FAKE_INV(f[2], S2, 3, 0, 2),
		};
		/* One attachment on smmu2, one device on each of smmu0/1 */
		const struct smmuv3_inv del[] = {
			FAKE_INV(f[1], ATS, 0x12, 0, 1),
			FAKE_INV(f[0], S2, 7, 0, 1),
			FAKE_INV(f[2], S2, 3, 0, 1),
			FAKE_INV(f[1], S2, 7, 0, 1),
		};
		const struct smmuv3_inv after[] = {
			FAKE_INV(f[0], S2, 7, 0, 0),
			FAKE_INV(f[0], S1CLR, 8, 0, 1),
			FAKE_INV(f[0], ATS, 0x11, 0, 1),
			FAKE_INV(f[1], S2, 7, 0, 0),
			FAKE_INV(f[1], ATS, 0x12, 0, 0),
			FAKE_INV(f[2], S2, 3, 0, 1),
		};
		const struct smmuv3_inv purged[] = {
			FAKE_INV(f[0], S1CLR, 8, 0, 1),
			FAKE_INV(f[0], ATS, 0x11, 0, 1),
			FAKE_INV(f[2], S2, 3, 0, 1),
		};
		unsigned int i;

		invs = merge(test, NULL, add, ARRAY_SIZE(add));
		trash = smmuv3_invs_unref(invs, del, ARRAY_SIZE(del),
					  log_unused, &log);
		KUNIT_EXPECT_EQ(test, trash, 3);
		KUNIT_EXPECT_EQ(test, invs->num_trash, 3);
		expect_invs(test, invs, after, ARRAY_SIZE(after));

		/* In the order of @del: smmu1 ATS, smmu0 S2, smmu1 S2 */
		KUNIT_ASSERT_EQ(test, log.calls, 3);
		KUNIT_EXPECT_PTR_EQ(test, log.ptr[0], &invs->inv[4]);
		KUNIT_EXPECT_PTR_EQ(test, log.ptr[1], &invs->inv[0]);
		KUNIT_EXPECT_PTR_EQ(test, log.ptr[2], &invs->inv[3]);
		for (i = 0; i < 3; i++)
			KUNIT_EXPECT_EQ_MSG(test, log.seen[i].users, 0,
					    "call %u", i);

		clean = purge(test, invs, NULL);
		expect_invs(test, clean, purged, ARRAY_SIZE(purged));
		KUNIT_EXPECT_EQ(test, clean->num_trash, 0);
		KUNIT_EXPECT_TRUE(test, fake_invs_has_ats(clean));
		/* purge leaves its input alone */
		expect_invs(test, invs, after, ARRAY_SIZE(after));
	}
}

/* --- Trash in merge and purge --------------------------------------------- */

/*
 * A merge leaves out trash nothing revives; trash that is added again
 * comes back with the users of the addition alone.
 */
static void invs_merge_trash(struct kunit *test)
{
	struct smmuv3_invs *invs, *more;
	struct fake_smmu *f[3];

	three_smmus(test, f);
	{
		const struct smmuv3_inv add[] = {
			FAKE_INV(f[0], S1, 1, 0, 1),
			FAKE_INV(f[0], S1, 2, 0, 1),
			FAKE_INV(f[1], S1, 1, 0, 1),
			FAKE_INV(f[2], S1, 6, 0, 1),
			FAKE_INV(f[2], ATS, 0x40, 0, 1),
		};
		const struct smmuv3_inv del[] = {
			FAKE_INV(f[0], S1, 2, 0, 1),
			FAKE_INV(f[1], S1, 1, 0, 1),
			FAKE_INV(f[2], ATS, 0x40, 0, 1),
		};
		/* smmu1's revived twice in one merge: 2 + 1 users */
		const struct smmuv3_inv add2[] = {
			FAKE_INV(f[1], S1, 1, 0, 2),
			FAKE_INV(f[2], S1, 3, 0, 1),
			FAKE_INV(f[1], S1, 1, 0, 1),
		};
		const struct smmuv3_inv expect[] = {
			FAKE_INV(f[0], S1, 1, 0, 1),
			FAKE_INV(f[1], S1, 1, 0, 3),
			FAKE_INV(f[2], S1, 3, 0, 1),
			FAKE_INV(f[2], S1, 6, 0, 1),
		};

		invs = merge(test, NULL, add, ARRAY_SIZE(add));
		KUNIT_EXPECT_EQ(test, smmuv3_invs_unref(invs, del,
							ARRAY_SIZE(del),
							NULL, NULL), 3);
		more = merge(test, invs, add2, ARRAY_SIZE(add2));
		expect_invs(test, more, expect, ARRAY_SIZE(expect));
		KUNIT_EXPECT_EQ(test, more->num_trash, 0);
		/* the only ATS entry was trash */
		KUNIT_EXPECT_FALSE(test, fake_invs_has_ats(more));
	}
}

/*
 * Purge dropping an instance leaves out all of its entries, trash or not,
 * and the trash of the others.
 */
static void invs_purge_drop_instance(struct kunit *test)
{
	struct smmuv3_invs *invs, *clean;
	struct fake_smmu *f[3];

	three_smmus(test, f);
	{
		const struct smmuv3_inv add[] = {
			FAKE_INV(f[0], S2, 1, 0, 1),
			FAKE_INV(f[0], S2, 2, 0, 1),
			FAKE_INV(f[1], S2, 1, 0, 1),
			FAKE_INV(f[1], S1CLR, 5, 0, 1),
			FAKE_INV(f[1], ATSF, 0x50, 0, 1),
			FAKE_INV(f[2], S2, 1, 0, 1),
		};
		const struct smmuv3_inv del[] = {
			FAKE_INV(f[0], S2, 2, 0, 1),
			FAKE_INV(f[1], S2, 1, 0, 1),
		};
		const struct smmuv3_inv expect[] = {
			FAKE_INV(f[0], S2, 1, 0, 1),
			FAKE_INV(f[2], S2, 1, 0, 1),
		};
		const struct smmuv3_inv expect0[] = {
			FAKE_INV(f[1], S1CLR, 5, 0, 1),
			FAKE_INV(f[1], ATSF, 0x50, 0, 1),
			FAKE_INV(f[2], S2, 1, 0, 1),
		};

		invs = merge(test, NULL, add, ARRAY_SIZE(add));
		KUNIT_EXPECT_TRUE(test, fake_invs_has_ats(invs));
		smmuv3_invs_unref(invs, del, ARRAY_SIZE(del), NULL, NULL);

		clean = purge(test, invs, f[1]);
		expect_invs(test, clean, expect, ARRAY_SIZE(expect));
		KUNIT_EXPECT_FALSE(test, fake_invs_has_ats(clean));
		KUNIT_EXPECT_EQ(test, clean->num_trash, 0);

		clean = purge(test, invs, f[0]);
		expect_invs(test, clean, expect0, ARRAY_SIZE(expect0));
		KUNIT_EXPECT_TRUE(test, fake_invs_has_ats(clean));
	}
}

/* All trash: an empty array; ATS entries follow what is left. */
static void invs_purge_all_trash(struct kunit *test)
{
	struct smmuv3_invs *invs, *clean;
	struct fake_smmu *f[3];

	three_smmus(test, f);
	{
		const struct smmuv3_inv add[] = {
			FAKE_INV(f[0], S1, 1, 0, 1),
			FAKE_INV(f[0], ATS, 0x10, 1, 1),
			FAKE_INV(f[2], ATSF, 0x20, 0, 1),
		};

		invs = merge(test, NULL, add, ARRAY_SIZE(add));
		KUNIT_EXPECT_EQ(test, smmuv3_invs_unref(invs, add,
							ARRAY_SIZE(add),
							NULL, NULL), 3);
		clean = purge(test, invs, NULL);
		KUNIT_EXPECT_EQ(test, clean->num, 0);
		KUNIT_EXPECT_FALSE(test, fake_invs_has_ats(clean));
	}
}

/* An array keeps its ATS and ATS_FULL entries through merge and purge. */
static void invs_has_ats(struct kunit *test)
{
	struct smmuv3_invs *invs, *step;
	struct fake_smmu *f[3];

	three_smmus(test, f);
	{
		const struct smmuv3_inv tlb[] = {
			FAKE_INV(f[0], S1, 1, 0, 1),
			FAKE_INV(f[1], S2, 1, 0, 1),
			FAKE_INV(f[2], S1CLR, 1, 0, 1),
		};
		const struct smmuv3_inv ats = FAKE_INV(f[1], ATS, 0x8, 2, 1);
		const struct smmuv3_inv atsf = FAKE_INV(f[0], ATSF, 0x9, 0, 1);

		invs = merge(test, NULL, tlb, ARRAY_SIZE(tlb));
		KUNIT_EXPECT_FALSE(test, fake_invs_has_ats(invs));

		step = merge(test, invs, &ats, 1);
		KUNIT_EXPECT_TRUE(test, fake_invs_has_ats(step));
		step = merge(test, invs, &atsf, 1);
		KUNIT_EXPECT_TRUE(test, fake_invs_has_ats(step));

		/* ATS trash purged: gone */
		smmuv3_invs_unref(step, &atsf, 1, NULL, NULL);
		KUNIT_EXPECT_FALSE(test, fake_invs_has_ats(purge(test, step, NULL)));
		/* ATS trash revived by a merge: back */
		KUNIT_EXPECT_TRUE(test, fake_invs_has_ats(merge(test, step, &atsf, 1)));
		/* ATS trash not revived: gone */
		KUNIT_EXPECT_FALSE(test, fake_invs_has_ats(merge(test, step, tlb, 1)));
	}
}

static struct kunit_case smmuv3_invs_cases[] = {
	KUNIT_CASE(invs_cmp_order),
	KUNIT_CASE(invs_merge_sorts),
	KUNIT_CASE(invs_merge_collapse),
	KUNIT_CASE(invs_merge_interleave),
	KUNIT_CASE(invs_merge_null_and_empty),
	KUNIT_CASE(invs_unref_in_place),
	KUNIT_CASE(invs_unref_twice),
	KUNIT_CASE(invs_unref_across_instances),
	KUNIT_CASE(invs_merge_trash),
	KUNIT_CASE(invs_purge_drop_instance),
	KUNIT_CASE(invs_purge_all_trash),
	KUNIT_CASE(invs_has_ats),
	{}
};

static struct kunit_suite smmuv3_invs_suite = {
	.name = "smmuv3-invs",
	.test_cases = smmuv3_invs_cases,
};

kunit_test_suites(&smmuv3_invs_suite);
