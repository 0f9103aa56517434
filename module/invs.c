// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-domain invalidation arrays: building them (merge, unref, purge) for
 * attach and detach.  The rules for readers and writers are at struct
 * smmuv3_invs; invalidate.c walks the arrays to invalidate TLBs and ATCs.
 */
#include <linux/slab.h>
#include <linux/sort.h>
#include <kunit/visibility.h>

#include <smmuv3/invs.h>
#include <smmuv3/smmuv3.h>

/**
 * smmuv3_invs_alloc() - allocate an array
 * @num: number of entries, zeroed
 *
 * Return: the array or NULL.
 */
struct smmuv3_invs *smmuv3_invs_alloc(unsigned int num)
{
	struct smmuv3_invs *invs;

	invs = kzalloc(struct_size(invs, inv, num), GFP_KERNEL);
	if (!invs)
		return NULL;
	invs->num = num;
	return invs;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_invs_alloc);

/**
 * smmuv3_inv_cmp() - the order of entries in an array
 * @a: an entry
 * @b: another
 *
 * Return: <0, 0 or >0 as @a sorts before, with or after @b.
 */
int smmuv3_inv_cmp(const struct smmuv3_inv *a, const struct smmuv3_inv *b)
{
	/* By address: trash entries may outlive their instance, unread. */
	if (a->smmu != b->smmu)
		return (uintptr_t)a->smmu < (uintptr_t)b->smmu ? -1 : 1;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	if (a->ssid != b->ssid)
		return a->ssid < b->ssid ? -1 : 1;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_inv_cmp);

static int smmuv3_inv_sort_cmp(const void *a, const void *b)
{
	return smmuv3_inv_cmp(a, b);
}

/**
 * smmuv3_invs_merge() - a new array with entries added
 * @old: the current array (may be NULL); not changed
 * @add: entries to add, in any order, each with its users count
 * @num_add: number of @add entries
 *
 * An entry equal to an existing one adds its users to it; trash entries of
 * @old that nothing revives are left out.
 *
 * Return: the new array, or NULL when memory is short.
 */
struct smmuv3_invs *smmuv3_invs_merge(const struct smmuv3_invs *old,
				      const struct smmuv3_inv *add,
				      unsigned int num_add)
{
	unsigned int num_old = old ? old->num : 0;
	struct smmuv3_inv *sorted;
	struct smmuv3_invs *invs;
	unsigned int i = 0, j = 0, n = 0;

	sorted = kmemdup_array(add, num_add, sizeof(*add), GFP_KERNEL);
	if (num_add && !sorted)
		return NULL;
	sort(sorted, num_add, sizeof(*sorted), smmuv3_inv_sort_cmp, NULL);

	invs = smmuv3_invs_alloc(num_old + num_add);
	if (!invs)
		goto out;

	while (i < num_old || j < num_add) {
		const struct smmuv3_inv *o = i < num_old ? &old->inv[i] : NULL;
		const struct smmuv3_inv *a = j < num_add ? &sorted[j] : NULL;
		int cmp = !o ? 1 : !a ? -1 : smmuv3_inv_cmp(o, a);

		if (cmp < 0) {
			i++;
			if (!READ_ONCE(o->users))
				continue;	/* trash */
			invs->inv[n] = *o;
		} else if (cmp > 0) {
			j++;
			/* Equal additions collapse into one entry. */
			if (n && !smmuv3_inv_cmp(&invs->inv[n - 1], a)) {
				invs->inv[n - 1].users += a->users;
				continue;
			}
			invs->inv[n] = *a;
		} else {
			i++;
			j++;
			invs->inv[n] = *o;
			invs->inv[n].users = READ_ONCE(o->users) + a->users;
		}
		n++;
	}
	invs->num = n;
out:
	kfree(sorted);
	return invs;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_invs_merge);

static struct smmuv3_inv *smmuv3_invs_find(struct smmuv3_invs *invs,
					   const struct smmuv3_inv *key)
{
	unsigned int lo = 0, hi = invs->num;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		int cmp = smmuv3_inv_cmp(&invs->inv[mid], key);

		if (!cmp)
			return &invs->inv[mid];
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/**
 * smmuv3_invs_unref() - drop users of entries, in place
 * @invs: the published array; the caller holds the domain's mutex
 * @del: entries to drop, each by one user
 * @num_del: number of @del entries
 * @on_unused: called for each entry whose users reach 0 (may be NULL)
 * @arg: passed to @on_unused
 *
 * Cannot fail, so detaching always succeeds.  Entries reaching 0 users
 * stay in place as trash until smmuv3_invs_purge() or the next merge.
 *
 * Return: the number of trash entries in @invs.
 */
unsigned int smmuv3_invs_unref(struct smmuv3_invs *invs,
			       const struct smmuv3_inv *del,
			       unsigned int num_del,
			       void (*on_unused)(const struct smmuv3_inv *inv,
						 void *arg),
			       void *arg)
{
	unsigned int i;

	for (i = 0; i < num_del; i++) {
		struct smmuv3_inv *inv = smmuv3_invs_find(invs, &del[i]);

		if (WARN_ON_ONCE(!inv || inv->users <= 0))
			continue;
		WRITE_ONCE(inv->users, inv->users - 1);
		if (inv->users)
			continue;
		invs->num_trash++;
		if (on_unused)
			on_unused(inv, arg);
	}
	return invs->num_trash;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_invs_unref);

/**
 * smmuv3_invs_purge() - a new array without trash
 * @old: the current array; not changed
 * @drop: also leave out every entry of this instance (may be NULL)
 *
 * Return: the new array, or NULL when memory is short (@old stays usable:
 * trash is only skipped by readers).
 */
struct smmuv3_invs *smmuv3_invs_purge(const struct smmuv3_invs *old,
				      const struct smmuv3_device *drop)
{
	struct smmuv3_invs *invs;
	unsigned int i, n = 0;

	invs = smmuv3_invs_alloc(old->num);
	if (!invs)
		return NULL;
	for (i = 0; i < old->num; i++) {
		if (!READ_ONCE(old->inv[i].users) || old->inv[i].smmu == drop)
			continue;
		invs->inv[n++] = old->inv[i];
	}
	invs->num = n;
	return invs;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_invs_purge);
