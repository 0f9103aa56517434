// SPDX-License-Identifier: GPL-2.0-only
/*
 * Invalidation: walking a domain's invalidation array with no lock and
 * issuing, into each instance's command queue, the commands its entries
 * need.
 *
 * Each instance's entries are issued in steps that end with a CMD_SYNC,
 * several instances at once: the order of steps and waits is at struct
 * smmuv3_inv_run; the rules for reading the array at struct smmuv3_invs.
 *
 * A range is invalidated with range commands where the SMMU has them, else
 * one command per leaf; a range that would need too many commands, or that
 * commands cannot express exactly, becomes an invalidation of each whole
 * tag (TLBI_NH_ASID, TLBI_S12_VMALL): never less than asked.  Range
 * commands that remove leaves only (an unmap) name the leaves' level
 * (TTL), so that a single page is a one-page range rather than a command
 * without range: an SMMU can then look for the entry at that level alone
 * (QEMU's model removes a cached entry by its key, and walks its whole TLB
 * only when the entry is not there).
 *
 * Failures are reported, not dropped: each failed walk of an instance's
 * entries counts in smmuv3_cmdq.inv_failures and is logged (ratelimited).
 * When the SMMU rejected a command of a range invalidation, the instance's
 * entries are walked again invalidating each tag whole.
 */
#include <linux/bitfield.h>
#include <linux/bitops.h>
#include <linux/log2.h>
#include <linux/rcupdate.h>
#include <linux/sizes.h>
#include <kunit/visibility.h>

#include <smmuv3/invs.h>
#include <smmuv3/smmuv3.h>

/* Without range invalidation, more pages than this flush the whole tag. */
#define SMMUV3_INV_MAX_PAGE_CMDS	256
/*
 * With it, a range that needs more commands than this flushes the whole
 * tag.  Any range below 2^36 granules (256TiB of 4KiB pages) needs at most
 * 8: 7 for the bits below SCALE's maximum of 31, 1 for the rest.
 */
#define SMMUV3_INV_MAX_RANGE_CMDS	8

/* A range command covers (NUM + 1) << SCALE granules. */
#define SMMUV3_INV_SCALE_MAX		FIELD_MAX(SMMUV3_CMD0_SCALE)
#define SMMUV3_INV_NUM_MAX		(FIELD_MAX(SMMUV3_CMD0_NUM) + 1)

/**
 * struct smmuv3_inv_req - what to invalidate
 * @iova: start, aligned to the domain's granule
 * @size: length; 0 means everything of the domain
 * @granule: the size of the leaf entries that changed (one command each
 *	without range invalidation)
 * @leaf: only leaf entries changed (unmap), not table entries
 */
struct smmuv3_inv_req {
	unsigned long iova;
	size_t size;
	size_t granule;
	bool leaf;
};

/* TG encoding of a granule for range invalidation: 4K 1, 16K 2, 64K 3. */
static u8 smmuv3_inv_tg(unsigned int shift)
{
	switch (shift) {
	case 12: return 1;
	case 14: return 2;
	case 16: return 3;
	default: return 0;
	}
}

/*
 * The level hint (TTL) of range commands that invalidate leaf entries of
 * @granule bytes in a table of 2^@tg_shift-byte pages: the level those
 * leaves are at, 3 for the pages themselves, one less for each step of
 * (@tg_shift - 3) bits above them (4K pages: 2M blocks at level 2, 1G
 * blocks at level 1).  0, no hint, for anything else: a size that is no
 * leaf of that granule, and level 1 of 16K and 64K pages, whose blocks
 * there exist only with 52-bit addresses.  A hint is only given when all
 * the entries invalidated are leaves of that size (Leaf = 1): with a wrong
 * level, the SMMU need not invalidate the entry at all.
 */
static u8 smmuv3_inv_ttl(unsigned int tg_shift, size_t granule)
{
	unsigned int bits, stride = tg_shift - 3;

	if (!smmuv3_inv_tg(tg_shift) || !is_power_of_2(granule))
		return 0;
	bits = ilog2(granule);
	if (bits < tg_shift || (bits - tg_shift) % stride)
		return 0;
	if ((bits - tg_shift) / stride > (tg_shift == 12 ? 2 : 1))
		return 0;
	return 3 - (bits - tg_shift) / stride;
}

/*
 * The first range command for @pages granules: *@num << *@scale of them,
 * the lowest set bits of @pages, SCALE at most its field's maximum.
 * Return: the granules it covers.
 */
static unsigned long smmuv3_inv_chunk(unsigned long pages,
				      unsigned int *scale, unsigned long *num)
{
	unsigned int s = min_t(unsigned int, __ffs(pages),
			       SMMUV3_INV_SCALE_MAX);
	unsigned long n = pages >> s;

	if (s < SMMUV3_INV_SCALE_MAX)
		n &= SMMUV3_INV_NUM_MAX - 1;	/* bit 0 is set: 1 to 31 */
	else
		n = min_t(unsigned long, n, SMMUV3_INV_NUM_MAX);
	*scale = s;
	*num = n;
	return n << s;
}

/* Range commands @pages granules need, or more than the maximum. */
static unsigned int smmuv3_inv_range_cmds(unsigned long pages)
{
	unsigned int cmds = 0, scale;
	unsigned long num;

	while (pages && cmds <= SMMUV3_INV_MAX_RANGE_CMDS) {
		pages -= smmuv3_inv_chunk(pages, &scale, &num);
		cmds++;
	}
	return cmds;
}

/*
 * Whether commands by address can cover @req exactly and in reasonable
 * number on @smmu; if not, the tag is invalidated whole.
 */
static bool smmuv3_inv_by_address(const struct smmuv3_device *smmu,
				  const struct smmuv3_inv_req *req,
				  unsigned int tg_shift, bool s2)
{
	unsigned long last = req->iova + req->size - 1;

	if (!req->size || last < req->iova)
		return false;
	/* The address field: [51:12] of an IPA, [63:12] of a VA. */
	if (s2 && last >= BIT_ULL(52))
		return false;
	if (req->iova & (SZ_4K - 1))
		return false;
	if (smmu->feat.flags & SMMUV3_FEAT_RANGE_INV) {
		unsigned long gran = 1UL << tg_shift;

		/* Unaligned, a range would cover less (or UNPREDICTABLE). */
		if (!smmuv3_inv_tg(tg_shift) || ((req->iova | req->size) &
						 (gran - 1)))
			return false;
		return smmuv3_inv_range_cmds(req->size >> tg_shift) <=
		       SMMUV3_INV_MAX_RANGE_CMDS;
	}
	/* One command per granule, from an address aligned to it. */
	if (!is_power_of_2(req->granule) || req->granule < SZ_4K ||
	    (req->iova & (req->granule - 1)))
		return false;
	return req->size / req->granule <= SMMUV3_INV_MAX_PAGE_CMDS;
}

static int smmuv3_inv_add_range(struct smmuv3_cmd_batch *batch,
				struct smmuv3_cmd *cmd,
				const struct smmuv3_inv_req *req,
				unsigned int tg_shift)
{
	unsigned long iova = req->iova;
	unsigned long end = req->iova + req->size;
	int ret;

	cmd->tlbi.leaf = req->leaf;
	if (batch->smmu->feat.flags & SMMUV3_FEAT_RANGE_INV) {
		unsigned long pages = req->size >> tg_shift;
		u8 tg = smmuv3_inv_tg(tg_shift);
		u8 ttl = req->leaf ? smmuv3_inv_ttl(tg_shift, req->granule) : 0;

		while (pages) {
			unsigned long covered, num;
			unsigned int scale;
			bool range;

			covered = smmuv3_inv_chunk(pages, &scale, &num);
			/*
			 * One granule: NUM = SCALE = 0 without a level hint
			 * (TTL) is reserved.  With the hint it is a range of
			 * one granule at that level; without it, a command
			 * without range (TG 0) invalidates that address
			 * whatever its level.
			 */
			range = covered > 1 || ttl;
			cmd->tlbi.tg = range ? tg : 0;
			cmd->tlbi.ttl = range ? ttl : 0;
			cmd->tlbi.scale = range ? scale : 0;
			cmd->tlbi.num = range ? num - 1 : 0;
			cmd->tlbi.addr = iova;
			ret = smmuv3_batch_add(batch, cmd);
			if (ret)
				return ret;
			iova += covered << tg_shift;
			pages -= covered;
		}
		return 0;
	}
	for (; iova < end; iova += req->granule) {
		cmd->tlbi.addr = iova;
		ret = smmuv3_batch_add(batch, cmd);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Add the TLB invalidation of one entry.  Return: whether the entry's
 * stage-1 clean-up (TLBI_NH_ALL of its VMID) must follow once these
 * commands have completed.  Errors are kept in @batch.
 */
static bool smmuv3_inv_add_tlbi(struct smmuv3_cmd_batch *batch,
				const struct smmuv3_inv *inv,
				const struct smmuv3_inv_req *req,
				unsigned int tg_shift)
{
	bool s1 = inv->type == SMMUV3_INV_S1_ASID;
	bool all = !smmuv3_inv_by_address(batch->smmu, req, tg_shift, !s1);
	struct smmuv3_cmd cmd = {};

	if (s1) {
		cmd.tlbi.asid = inv->id;
		cmd.op = all ? SMMUV3_OP_TLBI_NH_ASID : SMMUV3_OP_TLBI_NH_VA;
	} else {
		cmd.tlbi.vmid = inv->id;
		cmd.op = all ? SMMUV3_OP_TLBI_S12_VMALL : SMMUV3_OP_TLBI_S2_IPA;
	}
	if (all)
		smmuv3_batch_add(batch, &cmd);
	else
		smmuv3_inv_add_range(batch, &cmd, req, tg_shift);

	/*
	 * Nested stage-1 entries were formed through the old stage 2; after
	 * the stage-2 invalidation completes they go too.  VMALL did both.
	 */
	return inv->type == SMMUV3_INV_S2_VMID_S1_CLEAR && !all;
}

/*
 * Add the ATC invalidation of one entry.  An ATS invalidation names a span
 * of 2^Size 4KiB pages at an address aligned to it (CMD_ATC_INV, IHI 0070
 * 4.5.1): a range gets the smallest such span that covers it, whose Size
 * is the number of the highest bit in which the range's first and last
 * page numbers differ.  An invalidation of everything, a range that wraps,
 * and an ATS_FULL entry (a nesting parent: the guest's CDs decide the
 * addresses, which may carry a top byte under CD.TBI) get Size 52, a span
 * of all 2^64 bytes.  The CDs of ATS entries are this driver's own, never
 * with TBI, so a device caches only the addresses the page table maps.
 *
 * The RID's entries (SSID 0) are reached only without SSV, which also
 * reaches every PASID's in the span (an ATS invalidation without a PASID
 * prefix applies to all of them).
 */
static void smmuv3_inv_add_atc(struct smmuv3_cmd_batch *batch,
			       const struct smmuv3_inv *inv,
			       const struct smmuv3_inv_req *req)
{
	u64 first = req->iova >> SMMUV3_ATC_INV_SHIFT;
	u64 last = (req->iova + req->size - 1) >> SMMUV3_ATC_INV_SHIFT;
	struct smmuv3_cmd cmd = {
		.op = SMMUV3_OP_ATC_INV,
		.atc = {
			.sid = inv->id,
			.ssid = inv->ssid,
			.ssv = inv->type == SMMUV3_INV_ATS && inv->ssid,
			.size = SMMUV3_ATC_INV_SIZE_ALL,
		},
	};

	if (inv->type == SMMUV3_INV_ATS && req->size &&
	    req->iova + req->size - 1 >= req->iova) {
		unsigned int span = fls64(first ^ last);

		cmd.atc.size = span;
		cmd.atc.addr = (first & ~(BIT_ULL(span) - 1)) <<
			       SMMUV3_ATC_INV_SHIFT;
	}
	smmuv3_batch_add(batch, &cmd);
}

/* Instances a walk has commands outstanding on at once. */
#define SMMUV3_INV_INFLIGHT	8

/**
 * struct smmuv3_inv_walk - a walk's progress on one instance's entries
 * @start: the instance's first entry
 * @next: the next entry to issue
 * @end: one past its last entry
 * @ret: the first error on the instance
 * @in_atc: its TLB entries are issued; ATC entries may follow once those
 *	commands have completed
 * @s1_cleanup: the next step begins with the stage-1 clean-up of a nested
 *	VMID (TLBI_NH_ALL of entry @next - 1), once its stage 2 is clean
 * @stuck: its queue timed out: nothing more is issued to it (@next is
 *	@end)
 * @pending: commands were issued with a CMD_SYNC, not yet waited for
 * @err_seq: the ticket of the pending commands (smmuv3_cmdq_ticket): the
 *	queue's error count when they were queued ...
 * @first: ... and the positions of the first ...
 * @last: ... and the last (the CMD_SYNC) of them
 *
 * The pending commands are kept as one span of the queue: another
 * producer's commands queued between two chunks of a step of more than
 * SMMUV3_BATCH_MAX commands are inside it, and an error of theirs would
 * fail this walk too (it then retries: never less invalidation).
 */
struct smmuv3_inv_walk {
	unsigned int start;
	unsigned int next;
	unsigned int end;
	int ret;
	bool in_atc;
	bool s1_cleanup;
	bool stuck;
	bool pending;
	u64 err_seq;
	u64 first;
	u64 last;
};

/**
 * struct smmuv3_inv_run - one invalidation of a domain's array
 * @invs: the array, read under rcu_read_lock()
 * @req: what to invalidate
 * @tg_shift: log2 of the domain's smallest page size (its granule)
 * @batch: the command batch every step reuses (not cleared: see
 *	struct smmuv3_cmd_batch)
 * @walk: @slots walks, set up by smmuv3_inv_walks_run() as it uses them
 * @slots: instances with commands outstanding at once, at most
 * @report: report a failed walk and retry it whole (false for the retry)
 *
 * The order of an invalidation.  Entries are sorted by instance, then
 * type (enum smmuv3_inv_type).  Each instance's entries are issued in
 * steps, each ending with a CMD_SYNC, and the next step of an instance is
 * issued only once that CMD_SYNC has completed: a step ends before the
 * first ATC invalidation (the TLBs must be clean before a device refills
 * its ATC from them) and before the stage-1 clean-up of a nested VMID
 * (its stage 2 must be clean first).  The instances overlap: the first
 * step of every instance, up to @slots of them (SMMUV3_INV_INFLIGHT), is
 * issued before the walk waits for any, so that their CMD_SYNCs complete
 * in parallel; they are then waited for in array order, the waits of one
 * round up to one shared deadline, and an instance whose walk is done
 * hands its slot to the next (a sliding window).  A walk costs about the
 * slowest instance's completion time rather than the sum of all of them.
 * A step that failed ends the instance's walk when the whole-tag retry
 * follows (the retry issues the rest in that order).
 */
struct smmuv3_inv_run {
	struct smmuv3_invs *invs;
	const struct smmuv3_inv_req *req;
	unsigned int tg_shift;
	struct smmuv3_cmd_batch *batch;
	struct smmuv3_inv_walk *walk;
	unsigned int slots;
	bool report;
};

/* Start a walk of the instance whose first entry is @i; return its end. */
static unsigned int smmuv3_inv_walk_init(const struct smmuv3_invs *invs,
					 unsigned int i,
					 struct smmuv3_inv_walk *w)
{
	const struct smmuv3_device *smmu = invs->inv[i].smmu;

	*w = (struct smmuv3_inv_walk){ .start = i, .next = i };
	while (i < invs->num && invs->inv[i].smmu == smmu)
		i++;
	w->end = i;
	return i;
}

static bool smmuv3_inv_walk_done(const struct smmuv3_inv_walk *w)
{
	return !w->pending && w->next >= w->end && !w->s1_cleanup;
}

/*
 * Record an error of a step of @w.  Its walk ends there when the queue
 * timed out (nothing more goes to it), and when the whole-tag retry will
 * follow (a range): the failed step did not complete, so neither an ATC
 * invalidation (the device could refill from a stale TLB entry) nor a
 * nested VMID's stage-1 clean-up may follow it; the retry issues them in
 * order.  Without a retry (everything was invalidated already), the rest
 * is still issued: never less invalidation.
 */
static void smmuv3_inv_walk_error(struct smmuv3_inv_walk *w, int err,
				  const struct smmuv3_inv_req *req)
{
	if (!err)
		return;
	w->ret = w->ret ?: err;
	w->stuck |= err == -ETIMEDOUT;
	if (w->stuck || req->size) {
		w->next = w->end;
		w->s1_cleanup = false;
	}
}

/*
 * Issue one step of an instance's commands, with a CMD_SYNC, without
 * waiting: up to the first point where what came before must have
 * completed (the first ATC entry after TLB commands, the stage-1 clean-up
 * of a nested VMID), or to its last entry.  A step without commands issues
 * nothing, not even a CMD_SYNC.
 */
static void smmuv3_inv_walk_issue(const struct smmuv3_inv_run *run,
				  struct smmuv3_inv_walk *w)
{
	struct smmuv3_cmd_batch *batch = run->batch;
	const struct smmuv3_inv_req *req = run->req;
	struct smmuv3_invs *invs = run->invs;
	int err;

	smmuv3_batch_init(batch, invs->inv[w->start].smmu);
	if (w->s1_cleanup) {
		struct smmuv3_cmd cmd = { .op = SMMUV3_OP_TLBI_NH_ALL };

		cmd.tlbi.vmid = invs->inv[w->next - 1].id;
		smmuv3_batch_add(batch, &cmd);
		w->s1_cleanup = false;
	}
	for (; w->next < w->end; w->next++) {
		const struct smmuv3_inv *inv = &invs->inv[w->next];
		bool atc = inv->type == SMMUV3_INV_ATS ||
			   inv->type == SMMUV3_INV_ATS_FULL;

		if (!READ_ONCE(inv->users))
			continue;
		if (atc && !w->in_atc) {
			w->in_atc = true;
			/* TLBs first: the device could refill from them. */
			if (batch->num || batch->ticket.num || batch->err)
				break;
		}
		if (atc) {
			smmuv3_inv_add_atc(batch, inv, req);
		} else if (smmuv3_inv_add_tlbi(batch, inv, req,
					       run->tg_shift)) {
			w->next++;
			w->s1_cleanup = true;
			break;
		}
	}
	if (!batch->num && !batch->ticket.num && !batch->err)
		return;
	err = smmuv3_batch_issue(batch);
	smmuv3_inv_walk_error(w, err, req);
	/*
	 * A batch that failed may have queued full chunks already (with a
	 * CMD_SYNC under SMMUV3_OPT_CMDQ_FORCE_SYNC): they are waited for
	 * too, unless the queue is stuck.
	 */
	if (!batch->ticket.num || w->stuck)
		return;
	w->pending = true;
	w->err_seq = batch->ticket.err_seq;
	w->first = batch->ticket.span[0].first;
	w->last = batch->ticket.span[batch->ticket.num - 1].last;
}

/*
 * Wait for the pending step of @w.  The waits of one round share
 * @deadline (0 until the first poll starts it): instances issued together
 * time out together, not one queue timeout after the other.
 */
static void smmuv3_inv_walk_wait(struct smmuv3_device *smmu,
				 struct smmuv3_inv_walk *w,
				 const struct smmuv3_inv_req *req,
				 ktime_t *deadline)
{
	struct smmuv3_cmdq_ticket ticket __uninitialized;

	/* Only the span in use is set: the others are never read. */
	ticket.err_seq = w->err_seq;
	ticket.num = 1;
	ticket.span[0].first = w->first;
	ticket.span[0].last = w->last;
	w->pending = false;
	smmuv3_inv_walk_error(w, smmuv3_cmdq_wait_until(smmu, &ticket,
							deadline), req);
}

static bool smmuv3_invs_failed(const struct smmuv3_inv_run *run,
			       const struct smmuv3_inv_walk *failed);

/*
 * Run the walks of the instances whose entries are [@from, @to), at most
 * @run->slots of them at a time.  Each round goes through the slots in
 * order: it waits for the slot's pending step and issues the walk's next
 * one; a slot whose walk is done takes the next instance (with
 * @run->report, once the walk's failure is reported and retried).  So the
 * first step of every instance that has a slot is issued before anything
 * is waited for, an instance's steps follow one another only once the
 * previous one has completed, and an instance beyond the first slots
 * waits for a free slot, not for the slowest of the instances before it.
 * The waits of one round share one deadline.  Returns when nothing is
 * pending anywhere; without @run->report, the slots used hold the walks'
 * errors.  @run->walk need not be initialised: the slots are set up with
 * their first instances, and those beyond the number of instances are
 * never touched.
 */
static void smmuv3_inv_walks_run(const struct smmuv3_inv_run *run,
				 unsigned int from, unsigned int to)
{
	struct smmuv3_invs *invs = run->invs;
	struct smmuv3_inv_walk *walk = run->walk;
	unsigned int k, used, busy;
	ktime_t deadline;

	/* Only the slots that get an instance are set up and visited. */
	for (used = 0; used < run->slots && from < to; used++)
		from = smmuv3_inv_walk_init(invs, from, &walk[used]);
	do {
		busy = 0;
		deadline = 0;
		for (k = 0; k < used; k++) {
			struct smmuv3_inv_walk *w = &walk[k];

			if (w->pending)
				smmuv3_inv_walk_wait(invs->inv[w->start].smmu,
						     w, run->req, &deadline);
			if (smmuv3_inv_walk_done(w)) {
				/*
				 * A retry that timed out used up the round's
				 * deadline: the other slots get a new one.
				 */
				if (run->report && w->ret) {
					if (smmuv3_invs_failed(run, w))
						deadline = 0;
					w->ret = 0;
				}
				if (from >= to)
					continue;
				from = smmuv3_inv_walk_init(invs, from, w);
			}
			smmuv3_inv_walk_issue(run, w);
			busy++;
		}
	} while (busy);
}

/*
 * Report a failed walk of an instance's entries.  Unless the queue is
 * stuck, walk them again invalidating each tag whole: a rejected range
 * command must not leave stale entries behind.  Rare: kept out of line,
 * so that its walk state is not on the stack of every invalidation.
 * Return: whether the retry timed out.
 */
static noinline bool
smmuv3_invs_failed(const struct smmuv3_inv_run *run,
		   const struct smmuv3_inv_walk *failed)
{
	struct smmuv3_device *smmu = run->invs->inv[failed->start].smmu;
	struct smmuv3_inv_req all = {};
	struct smmuv3_inv_walk retry;
	struct smmuv3_inv_run whole = {
		.invs = run->invs,
		.req = &all,
		.tg_shift = run->tg_shift,
		.batch = run->batch,
		.walk = &retry,
		.slots = 1,
		.report = false,
	};

	atomic64_inc(&smmu->cmdq.inv_failures);
	/*
	 * @ret is the first error: a queue may time out after a rejected
	 * command.  Nothing more goes to a queue that timed out.
	 */
	if (failed->stuck || !run->req->size) {
		dev_err_ratelimited(smmu->dev, "invalidation failed (%d)\n",
				    failed->ret);
		return false;
	}
	smmuv3_inv_walks_run(&whole, failed->start, failed->end);
	if (retry.ret)
		atomic64_inc(&smmu->cmdq.inv_failures);
	dev_err_ratelimited(smmu->dev,
			    "range invalidation failed (%d); invalidating the tags whole %s (%d)\n",
			    failed->ret, retry.ret ? "failed too" : "succeeded",
			    retry.ret);
	return retry.stuck;
}

/*
 * Invalidate, up to SMMUV3_INV_INFLIGHT instances at a time, so that their
 * CMD_SYNCs complete in parallel rather than one after the other.
 */
static void smmuv3_invs_invalidate(struct smmuv3_invs *invs,
				   const struct smmuv3_inv_req *req,
				   unsigned int tg_shift)
{
	/*
	 * Not cleared (see struct smmuv3_cmd_batch): smmuv3_inv_walks_run()
	 * sets up the slots it uses.
	 */
	struct smmuv3_inv_walk walk[SMMUV3_INV_INFLIGHT] __uninitialized;
	struct smmuv3_cmd_batch batch __uninitialized;
	struct smmuv3_inv_run run = {
		.invs = invs,
		.req = req,
		.tg_shift = tg_shift,
		.batch = &batch,
		.walk = walk,
		.slots = SMMUV3_INV_INFLIGHT,
		.report = true,
	};

	smmuv3_inv_walks_run(&run, 0, invs->num);
}

static void smmuv3_domain_invalidate(struct smmuv3_domain *domain,
				     const struct smmuv3_inv_req *req)
{
	unsigned int tg_shift = __ffs(domain->pgtbl_cfg.pgsize_bitmap);
	struct smmuv3_invs *invs;

	/*
	 * Page table updates are visible before the array is read; pairs
	 * with the barrier between publishing an array and installing the
	 * STE or CD that uses it (attach).  Either this walk sees the new
	 * entry, or the SMMU had not started using the new tag when the
	 * table changed.
	 */
	smp_mb();

	rcu_read_lock();
	invs = rcu_dereference(domain->invs);
	if (invs)
		smmuv3_invs_invalidate(invs, req, tg_shift);
	rcu_read_unlock();
}

/**
 * smmuv3_domain_inv_range() - invalidate a range of a domain everywhere
 * @domain: the domain
 * @iova: start of the range
 * @size: its length
 * @granule: the leaf size that changed
 * @leaf: only leaf entries changed
 *
 * Lock-free; may be called in any context that may spin.
 */
void smmuv3_domain_inv_range(struct smmuv3_domain *domain, unsigned long iova,
			     size_t size, size_t granule, bool leaf)
{
	struct smmuv3_inv_req req = {
		.iova = iova,
		.size = size,
		.granule = granule,
		.leaf = leaf,
	};

	if (size)
		smmuv3_domain_invalidate(domain, &req);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_domain_inv_range);

/**
 * smmuv3_domain_inv_all() - invalidate everything of a domain everywhere
 * @domain: the domain
 */
void smmuv3_domain_inv_all(struct smmuv3_domain *domain)
{
	struct smmuv3_inv_req req = {};

	smmuv3_domain_invalidate(domain, &req);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_domain_inv_all);
