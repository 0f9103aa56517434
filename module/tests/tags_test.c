// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for IOTLB tags (tags.c): per-instance ASID and VMID
 * allocation, flushing an ID before it is freed, and finding a domain's tag
 * on an instance in its invalidation array.
 *
 * The instances are fakes (fake_smmu.h) with 8-bit ASIDs and VMIDs, so IDs
 * 1..255 exist; their command queues record the flushes.  These tests
 * assume the max_asids and max_vmids parameters of smmuv3.ko are 0 (the
 * default: no cap below the hardware's).
 */
#include <kunit/test.h>
#include <linux/kernel.h>
#include <linux/mutex.h>
#include <linux/sizes.h>

#include <smmuv3/invs.h>
#include <smmuv3/smmuv3.h>

#include "fake_smmu.h"

#define S1	SMMUV3_INV_S1_ASID
#define S2	SMMUV3_INV_S2_VMID
#define S1CLR	SMMUV3_INV_S2_VMID_S1_CLEAR
#define ATS	SMMUV3_INV_ATS

#define FEAT	(SMMUV3_FEAT_S1 | SMMUV3_FEAT_S2 | SMMUV3_FEAT_RANGE_INV)
#define PGSIZES	(SZ_4K | SZ_2M | SZ_1G)

#define SYNC	FAKE_CMD_SYNC

static struct fake_smmu *smmu8(struct kunit *test, const char *name)
{
	return fake_smmu_create(test, name, FEAT, 8, 8);
}

static atomic_t *used_counter(struct fake_smmu *f, u8 type)
{
	return type == S1 ? &f->smmu.tags.asids_used : &f->smmu.tags.vmids_used;
}

/* Allocate all of IDs 1..255, in order, then fail; free one, reuse it. */
static void exhaust(struct kunit *test, u8 type)
{
	struct fake_smmu *f = smmu8(test, "smmu0");
	u32 id, last = 0;
	unsigned int i;
	int ret;

	for (i = 1; i <= 255; i++) {
		ret = smmuv3_tag_alloc_id(&f->smmu, type, &id);
		KUNIT_ASSERT_EQ_MSG(test, ret, 0, "allocation %u", i);
		KUNIT_EXPECT_EQ(test, id, i);
		last = id;
	}
	KUNIT_EXPECT_EQ(test, last, 255);
	KUNIT_EXPECT_EQ(test, atomic_read(used_counter(f, type)), 255);

	id = 0xdead;
	KUNIT_EXPECT_EQ(test, smmuv3_tag_alloc_id(&f->smmu, type, &id),
			-ENOSPC);
	KUNIT_EXPECT_EQ(test, id, 0xdead);
	FAKE_EXPECT_NO_CMDS(test, f);

	/* Freeing flushes the ID on its instance, with a CMD_SYNC. */
	smmuv3_tag_free(&FAKE_INV(f, type, 77, 0, 0));
	if (type == S1)
		FAKE_EXPECT_CMDS(test, f, FAKE_TLBI_NH_ASID(77), SYNC);
	else
		FAKE_EXPECT_CMDS(test, f, FAKE_TLBI_S12_VMALL(77), SYNC);
	KUNIT_EXPECT_EQ(test, atomic_read(used_counter(f, type)), 254);

	KUNIT_EXPECT_EQ(test, smmuv3_tag_alloc_id(&f->smmu, type, &id), 0);
	KUNIT_EXPECT_EQ(test, id, 77);
	KUNIT_EXPECT_EQ(test, smmuv3_tag_alloc_id(&f->smmu, type, &id),
			-ENOSPC);
}

static void tag_alloc_exhaust_asid(struct kunit *test)
{
	exhaust(test, S1);
}

static void tag_alloc_exhaust_vmid(struct kunit *test)
{
	exhaust(test, S2);
}

/* A vIOMMU's VMID comes from the same VMIDs as stage-2 domains. */
static void tag_alloc_vmid_pool_shared(struct kunit *test)
{
	struct fake_smmu *f = smmu8(test, "smmu0");
	u32 id;

	KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&f->smmu, S2, &id), 0);
	KUNIT_EXPECT_EQ(test, id, 1);
	KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&f->smmu, S1CLR, &id), 0);
	KUNIT_EXPECT_EQ(test, id, 2);
	KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&f->smmu, S2, &id), 0);
	KUNIT_EXPECT_EQ(test, id, 3);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->smmu.tags.vmids_used), 3);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->smmu.tags.asids_used), 0);
}

/* Two instances, ASIDs and VMIDs: four independent allocators. */
static void tag_alloc_instances_independent(struct kunit *test)
{
	struct fake_smmu *a = smmu8(test, "a"), *b = smmu8(test, "b");
	u32 id;

	KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&a->smmu, S1, &id), 0);
	KUNIT_EXPECT_EQ(test, id, 1);
	KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&a->smmu, S1, &id), 0);
	KUNIT_EXPECT_EQ(test, id, 2);
	KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&b->smmu, S1, &id), 0);
	KUNIT_EXPECT_EQ(test, id, 1);
	KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&a->smmu, S2, &id), 0);
	KUNIT_EXPECT_EQ(test, id, 1);
	KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&b->smmu, S2, &id), 0);
	KUNIT_EXPECT_EQ(test, id, 1);

	/* Freeing b's ASID 1 flushes on b only and leaves a's ASID 1. */
	smmuv3_tag_free(&FAKE_INV(b, S1, 1, 0, 0));
	FAKE_EXPECT_NO_CMDS(test, a);
	FAKE_EXPECT_CMDS(test, b, FAKE_TLBI_NH_ASID(1), SYNC);
	KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&a->smmu, S1, &id), 0);
	KUNIT_EXPECT_EQ(test, id, 3);
	KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&b->smmu, S1, &id), 0);
	KUNIT_EXPECT_EQ(test, id, 1);
}

/* Add a tag to the domain's array, as attach does. */
static void publish(struct kunit *test, struct smmuv3_domain *domain,
		    const struct smmuv3_inv *tag)
{
	struct smmuv3_invs *invs;

	invs = smmuv3_invs_merge(fake_domain_invs(domain), tag, 1);
	KUNIT_ASSERT_NOT_NULL(test, invs);
	fake_domain_set_invs(domain, invs);
}

static void expect_tag(struct kunit *test, const struct smmuv3_inv *tag,
		       const struct fake_smmu *f, u8 type, u32 id)
{
	KUNIT_EXPECT_PTR_EQ(test, tag->smmu, &f->smmu);
	KUNIT_EXPECT_EQ(test, tag->type, type);
	KUNIT_EXPECT_EQ(test, tag->id, id);
	KUNIT_EXPECT_EQ(test, tag->users, 1);
}

/*
 * First get on an instance: a new ID (1); once that tag is in the array,
 * the same ID again (0); another instance gets its own ID.
 */
static void tag_get(struct kunit *test, enum smmuv3_stage stage, u8 type)
{
	struct smmuv3_domain *domain = fake_domain_create(test, stage, PGSIZES);
	struct fake_smmu *a = smmu8(test, "a"), *b = smmu8(test, "b");
	struct smmuv3_inv ta, ta2, tb, other;
	u32 id;

	/* Some IDs already taken on b, by other domains. */
	KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&b->smmu, type, &id), 0);
	KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&b->smmu, type, &id), 0);

	mutex_lock(&domain->mutex);
	KUNIT_EXPECT_EQ(test, smmuv3_tag_get(domain, &a->smmu, &ta), 1);
	expect_tag(test, &ta, a, type, 1);
	publish(test, domain, &ta);

	KUNIT_EXPECT_EQ(test, smmuv3_tag_get(domain, &a->smmu, &ta2), 0);
	expect_tag(test, &ta2, a, type, 1);

	KUNIT_EXPECT_EQ(test, smmuv3_tag_get(domain, &b->smmu, &tb), 1);
	expect_tag(test, &tb, b, type, 3);
	publish(test, domain, &tb);
	publish(test, domain, &ta2);

	/* Both found, each on its instance, with one user each time. */
	KUNIT_EXPECT_EQ(test, smmuv3_tag_get(domain, &b->smmu, &other), 0);
	expect_tag(test, &other, b, type, 3);
	KUNIT_EXPECT_EQ(test, smmuv3_tag_get(domain, &a->smmu, &other), 0);
	expect_tag(test, &other, a, type, 1);
	KUNIT_EXPECT_EQ(test, fake_domain_invs(domain)->num, 2);
	KUNIT_EXPECT_EQ(test, fake_domain_invs(domain)->inv[0].users +
			fake_domain_invs(domain)->inv[1].users, 3);
	mutex_unlock(&domain->mutex);

	KUNIT_EXPECT_EQ(test, atomic_read(used_counter(a, type)), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(used_counter(b, type)), 3);
	/* finding and allocating issue no command */
	FAKE_EXPECT_NO_CMDS(test, a);
	FAKE_EXPECT_NO_CMDS(test, b);
}

static void tag_get_s1(struct kunit *test)
{
	tag_get(test, SMMUV3_STAGE_1, S1);
}

static void tag_get_s2(struct kunit *test)
{
	tag_get(test, SMMUV3_STAGE_2, S2);
}

/*
 * Not reused: a trash entry (no users) of the instance, and entries of
 * another type (a vIOMMU's VMID in a nesting parent, ATS).
 */
static void tag_get_skips(struct kunit *test)
{
	struct smmuv3_domain *domain;
	struct fake_smmu *a = smmu8(test, "a");
	struct smmuv3_inv tag;
	u32 id, vid;

	domain = fake_domain_create(test, SMMUV3_STAGE_2, PGSIZES);
	KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&a->smmu, S2, &id), 0);
	KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&a->smmu, S1CLR, &vid), 0);
	{
		const struct smmuv3_inv inv[] = {
			FAKE_INV(a, S2, id, 0, 0),
			FAKE_INV(a, S1CLR, vid, 0, 1),
			FAKE_INV(a, ATS, 0x10, 0, 1),
		};

		fake_domain_set_invs(domain, fake_invs(test, inv,
						       ARRAY_SIZE(inv)));
	}

	mutex_lock(&domain->mutex);
	KUNIT_EXPECT_EQ(test, smmuv3_tag_get(domain, &a->smmu, &tag), 1);
	mutex_unlock(&domain->mutex);
	expect_tag(test, &tag, a, S2, 3);
}

/* No ID left: the error, and nothing allocated. */
static void tag_get_full(struct kunit *test)
{
	struct smmuv3_domain *domain;
	struct fake_smmu *a = smmu8(test, "a");
	struct smmuv3_inv tag;
	unsigned int i;
	u32 id;

	domain = fake_domain_create(test, SMMUV3_STAGE_1, PGSIZES);
	for (i = 0; i < 255; i++)
		KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&a->smmu, S1, &id),
				0);
	mutex_lock(&domain->mutex);
	KUNIT_EXPECT_EQ(test, smmuv3_tag_get(domain, &a->smmu, &tag), -ENOSPC);
	mutex_unlock(&domain->mutex);
	KUNIT_EXPECT_EQ(test, atomic_read(&a->smmu.tags.asids_used), 255);
}

/* --- The unref callback --------------------------------------------------- */

/* A domain's tag: flushed, then its ID is free for the next allocation. */
static void tag_unused_frees(struct kunit *test)
{
	struct fake_smmu *f = smmu8(test, "smmu0");
	u32 asid, vmid, id;

	KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&f->smmu, S1, &asid), 0);
	KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&f->smmu, S1, &id), 0);
	KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&f->smmu, S2, &vmid), 0);
	KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&f->smmu, S2, &id), 0);

	smmuv3_tag_unused(&FAKE_INV(f, S1, asid, 0, 0), NULL);
	FAKE_EXPECT_CMDS(test, f, FAKE_TLBI_NH_ASID(asid), SYNC);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->smmu.tags.asids_used), 1);
	KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&f->smmu, S1, &id), 0);
	KUNIT_EXPECT_EQ(test, id, asid);

	smmuv3_tag_unused(&FAKE_INV(f, S2, vmid, 0, 0), NULL);
	FAKE_EXPECT_CMDS(test, f, FAKE_TLBI_S12_VMALL(vmid), SYNC);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->smmu.tags.vmids_used), 1);
	KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&f->smmu, S2, &id), 0);
	KUNIT_EXPECT_EQ(test, id, vmid);
}

/* A vIOMMU's VMID is flushed but stays allocated: the vIOMMU owns it. */
static void tag_unused_viommu_vmid(struct kunit *test)
{
	struct fake_smmu *f = smmu8(test, "smmu0");
	u32 vmid, id;

	KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&f->smmu, S1CLR, &vmid), 0);
	smmuv3_tag_unused(&FAKE_INV(f, S1CLR, vmid, 0, 0), NULL);
	FAKE_EXPECT_CMDS(test, f, FAKE_TLBI_S12_VMALL(vmid), SYNC);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->smmu.tags.vmids_used), 1);
	KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&f->smmu, S2, &id), 0);
	KUNIT_EXPECT_NE(test, id, vmid);
}

/* ATS entries hold no ID: nothing to flush or free. */
static void tag_unused_ats(struct kunit *test)
{
	struct fake_smmu *f = smmu8(test, "smmu0");

	smmuv3_tag_unused(&FAKE_INV(f, SMMUV3_INV_ATS, 0x10, 1, 0), NULL);
	smmuv3_tag_unused(&FAKE_INV(f, SMMUV3_INV_ATS_FULL, 0x1, 0, 0), NULL);
	FAKE_EXPECT_NO_CMDS(test, f);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->smmu.tags.asids_used), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->smmu.tags.vmids_used), 0);
}

/*
 * Detach as domain.c does it: unref with smmuv3_tag_unused() flushes and
 * frees the tags left without users, each on its own instance, and only
 * those.
 */
static void tag_unref_two_instances(struct kunit *test)
{
	struct smmuv3_domain *domain;
	struct fake_smmu *f[2];
	struct smmuv3_inv t0, t1, t1b;
	struct smmuv3_invs *invs;
	u32 id;

	fake_smmus_create_sorted(test, f, 2, FEAT, 8, 8);
	domain = fake_domain_create(test, SMMUV3_STAGE_1, PGSIZES);

	mutex_lock(&domain->mutex);
	KUNIT_ASSERT_EQ(test, smmuv3_tag_get(domain, &f[0]->smmu, &t0), 1);
	publish(test, domain, &t0);
	KUNIT_ASSERT_EQ(test, smmuv3_tag_get(domain, &f[1]->smmu, &t1), 1);
	publish(test, domain, &t1);
	KUNIT_ASSERT_EQ(test, smmuv3_tag_get(domain, &f[1]->smmu, &t1b), 0);
	publish(test, domain, &t1b);

	invs = fake_domain_invs(domain);
	KUNIT_EXPECT_EQ(test, smmuv3_invs_unref(invs, &t1, 1,
						smmuv3_tag_unused, NULL), 0);
	FAKE_EXPECT_NO_CMDS(test, f[1]);
	KUNIT_EXPECT_EQ(test, smmuv3_invs_unref(invs, &t0, 1,
						smmuv3_tag_unused, NULL), 1);
	FAKE_EXPECT_CMDS(test, f[0], FAKE_TLBI_NH_ASID(t0.id), SYNC);
	FAKE_EXPECT_NO_CMDS(test, f[1]);
	KUNIT_EXPECT_EQ(test, smmuv3_invs_unref(invs, &t1b, 1,
						smmuv3_tag_unused, NULL), 2);
	FAKE_EXPECT_CMDS(test, f[1], FAKE_TLBI_NH_ASID(t1.id), SYNC);
	FAKE_EXPECT_NO_CMDS(test, f[0]);
	mutex_unlock(&domain->mutex);

	KUNIT_EXPECT_EQ(test, atomic_read(&f[0]->smmu.tags.asids_used), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&f[1]->smmu.tags.asids_used), 0);
	KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&f[0]->smmu, S1, &id), 0);
	KUNIT_EXPECT_EQ(test, id, t0.id);
}

/* --- Failed flushes ------------------------------------------------------ */

/* Word 0 masks: opcode [7:0] and ASID [63:48], or VMID [47:32]. */
#define MATCH_ASID	(0xffull | 0xffffull << 48)
#define MATCH_VMID	(0xffull | 0xffffull << 32)

/*
 * The SMMU rejects the flush of ASID 77: the flush fails, the ID stays
 * allocated (no other domain may get an ID that may still be cached) and
 * is counted as leaked.  With every other ASID taken, the allocator has
 * none to give.  A later flush that succeeds frees its ID as usual.
 */
static void tag_free_flush_rejected(struct kunit *test)
{
	const struct fake_cmd nh_asid_77 = FAKE_TLBI_NH_ASID(77);
	struct fake_smmu *f = smmu8(test, "smmu0");
	unsigned int i;
	u32 id;

	for (i = 1; i <= 255; i++)
		KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&f->smmu, S1, &id), 0);
	fake_smmu_hw_start(test, f);
	/* TLBI_NH_ASID (0x11) of ASID 77 */
	fake_smmu_reject(f, MATCH_ASID, 0x11 | 77ull << 48);

	KUNIT_EXPECT_EQ(test, smmuv3_tag_free(&FAKE_INV(f, S1, 77, 0, 0)),
			-EIO);
	KUNIT_EXPECT_EQ(test, f->rejected, 1);
	KUNIT_EXPECT_EQ(test, f->rejected_cmd.w0, nh_asid_77.w0);
	KUNIT_EXPECT_EQ(test, f->rejected_cmd.w1, nh_asid_77.w1);
	/* the rejected command was replaced by a CMD_SYNC */
	FAKE_EXPECT_CMDS(test, f, SYNC, SYNC);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->smmu.tags.asids_used), 255);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->smmu.tags.asids_leaked), 1);
	KUNIT_EXPECT_EQ(test, atomic64_read(&f->smmu.tags.flush_failures), 1);
	id = 0xdead;
	KUNIT_EXPECT_EQ(test, smmuv3_tag_alloc_id(&f->smmu, S1, &id), -ENOSPC);
	KUNIT_EXPECT_EQ(test, id, 0xdead);

	KUNIT_EXPECT_EQ(test, smmuv3_tag_free(&FAKE_INV(f, S1, 78, 0, 0)), 0);
	FAKE_EXPECT_CMDS(test, f, FAKE_TLBI_NH_ASID(78), SYNC);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->smmu.tags.asids_used), 254);
	KUNIT_EXPECT_EQ(test, smmuv3_tag_alloc_id(&f->smmu, S1, &id), 0);
	KUNIT_EXPECT_EQ(test, id, 78);
}

/*
 * The SMMU stops consuming commands: the flush of VMID 5 times out (after
 * the command queue's timeout, about 2 s), and VMID 5 stays allocated.
 * Once the SMMU moves again, flushes work and free their IDs.
 */
static void tag_free_flush_timeout(struct kunit *test)
{
	struct fake_smmu *f = smmu8(test, "smmu0");
	unsigned int i;
	u32 id;

	for (i = 1; i <= 5; i++)
		KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&f->smmu, S2, &id), 0);
	fake_smmu_hw_start(test, f);
	f->hw_stalled = true;

	KUNIT_EXPECT_EQ(test, smmuv3_tag_free(&FAKE_INV(f, S2, 5, 0, 0)),
			-ETIMEDOUT);
	KUNIT_EXPECT_EQ(test, atomic64_read(&f->smmu.cmdq.timeouts), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->smmu.tags.vmids_used), 5);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->smmu.tags.vmids_leaked), 1);
	KUNIT_EXPECT_EQ(test, atomic64_read(&f->smmu.tags.flush_failures), 1);
	KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&f->smmu, S2, &id), 0);
	KUNIT_EXPECT_EQ(test, id, 6);

	f->hw_stalled = false;
	KUNIT_EXPECT_EQ(test, smmuv3_tag_free(&FAKE_INV(f, S2, 4, 0, 0)), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->smmu.tags.vmids_used), 5);
	KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&f->smmu, S2, &id), 0);
	KUNIT_EXPECT_EQ(test, id, 4);
	/* the timed-out flush ran too, once the SMMU moved again */
	atomic64_set(&f->smmu.cmdq.timeouts, 0);
	FAKE_EXPECT_CMDS(test, f,
			 FAKE_TLBI_S12_VMALL(5), SYNC,
			 FAKE_TLBI_S12_VMALL(4), SYNC);
}

/*
 * smmuv3_tag_flush() returns the failure; through the unref callback a
 * domain's VMID is kept, a vIOMMU's VMID (S1_CLEAR) stays the vIOMMU's.
 */
static void tag_unused_flush_rejected(struct kunit *test)
{
	struct fake_smmu *f = smmu8(test, "smmu0");
	u32 vmid, viommu_vmid, id;

	KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&f->smmu, S2, &vmid), 0);
	KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&f->smmu, S1CLR,
						  &viommu_vmid), 0);
	fake_smmu_hw_start(test, f);
	/* TLBI_S12_VMALL (0x28), any VMID */
	fake_smmu_reject(f, 0xff, 0x28);

	KUNIT_EXPECT_EQ(test, smmuv3_tag_flush(&FAKE_INV(f, S2, vmid, 0, 0)),
			-EIO);
	smmuv3_tag_unused(&FAKE_INV(f, S2, vmid, 0, 0), NULL);
	smmuv3_tag_unused(&FAKE_INV(f, S1CLR, viommu_vmid, 0, 0), NULL);
	FAKE_EXPECT_CMDS(test, f, SYNC, SYNC, SYNC, SYNC, SYNC, SYNC);
	KUNIT_EXPECT_EQ(test, f->rejected, 3);
	KUNIT_EXPECT_EQ(test, atomic64_read(&f->smmu.tags.flush_failures), 3);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->smmu.tags.vmids_leaked), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->smmu.tags.vmids_used), 2);
	KUNIT_ASSERT_EQ(test, smmuv3_tag_alloc_id(&f->smmu, S2, &id), 0);
	KUNIT_EXPECT_EQ(test, id, 3);
}

static struct kunit_case smmuv3_tags_cases[] = {
	KUNIT_CASE(tag_alloc_exhaust_asid),
	KUNIT_CASE(tag_alloc_exhaust_vmid),
	KUNIT_CASE(tag_alloc_vmid_pool_shared),
	KUNIT_CASE(tag_alloc_instances_independent),
	KUNIT_CASE(tag_get_s1),
	KUNIT_CASE(tag_get_s2),
	KUNIT_CASE(tag_get_skips),
	KUNIT_CASE(tag_get_full),
	KUNIT_CASE(tag_unused_frees),
	KUNIT_CASE(tag_unused_viommu_vmid),
	KUNIT_CASE(tag_unused_ats),
	KUNIT_CASE(tag_unref_two_instances),
	KUNIT_CASE(tag_free_flush_rejected),
	KUNIT_CASE_SLOW(tag_free_flush_timeout),
	KUNIT_CASE(tag_unused_flush_rejected),
	{}
};

static struct kunit_suite smmuv3_tags_suite = {
	.name = "smmuv3-tags",
	.test_cases = smmuv3_tags_cases,
};

kunit_test_suites(&smmuv3_tags_suite);
