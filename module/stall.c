// SPDX-License-Identifier: GPL-2.0-only
/*
 * The stall model (SMMU_IDR0.STALL_MODEL).
 *
 * An SMMU may hold a faulting transaction ("stall") until software answers
 * it with CMD_RESUME (retry or abort), or terminates every stalled
 * transaction of a stream with CMD_STALL_TERM.  Three models:
 *
 *  - no stalls (0b01): faults terminate at once; nothing to do;
 *  - optional stalls (0b00): a CD asks for them with CD.S, an STE forbids
 *    them for its CDs with S1STALLD.  This driver does not support I/O page
 *    faults (IOPF), so its CDs never ask and its stage-1 STEs set S1STALLD:
 *    stalls stay off;
 *  - forced stalls (0b10): every fault of a translating stream stalls.  The
 *    configuration says so consistently: CD.S set, S1STALLD clear, and
 *    stage-2 STEs set S2S (as the kernel's driver does).
 *
 * A stalled transaction is always answered, so no device waits forever:
 * the event handler aborts each stalled fault (CMD_RESUME, Response ABORT;
 * no CMD_SYNC is needed, consumption of the RESUME is what frees the
 * transaction), and every attach of a device with stalls, detaching it from
 * its previous configuration, terminates what is still stalled on its
 * streams (CMD_STALL_TERM, then CMD_SYNC) once the new STE is live.
 *
 * A stall whose event record the SMMU could not write (GERROR.EVTQ_ABT_ERR)
 * has no record to answer.  Then every stalled transaction of the instance
 * is terminated, from a work item, since the error is seen in interrupt
 * context.  (A full queue does not lose stall records: the transaction
 * stays stalled until its record is written, so an overflow needs nothing
 * here.)  Terminating a stall whose record is still queued is harmless
 * only because every answer is an abort: CMD_STALL_TERM frees its STAG,
 * which a new stall may reuse, and the late CMD_RESUME(ABORT) of the old
 * record then aborts the new one.  I/O page faults answering with RETRY
 * would have to wait for the queue to drain first (IHI 0070 4.7.1, 4.7.2).
 */
#include <linux/bitfield.h>
#include <linux/rbtree.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <kunit/visibility.h>

#include <smmuv3/smmuv3.h>

/**
 * smmuv3_stall_probe() - decide whether a device's faults stall
 * @master: the master
 */
void smmuv3_stall_probe(struct smmuv3_master *master)
{
	master->stall_enabled =
		!!(master->smmu->feat.flags & SMMUV3_FEAT_STALL_FORCE);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_stall_probe);

/**
 * smmuv3_stall_s1stalld() - STE.S1STALLD for a master's stage-1 STE
 * @master: the master
 *
 * Return: true where stalls are optional (and so kept off); never where
 * they are forced (the CDs ask for them) or absent.
 */
bool smmuv3_stall_s1stalld(const struct smmuv3_master *master)
{
	return (master->smmu->feat.flags & SMMUV3_FEAT_STALLS) &&
	       !master->stall_enabled;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_stall_s1stalld);

/**
 * smmuv3_stall_cd() - set CD.S in a valid CD of a master with stalls
 * @master: the master
 * @cd: the CD
 */
void smmuv3_stall_cd(const struct smmuv3_master *master, __le64 *cd)
{
	if (master->stall_enabled && (le64_to_cpu(cd[0]) & SMMUV3_CD0_V))
		cd[0] |= cpu_to_le64(SMMUV3_CD0_S);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_stall_cd);

/**
 * smmuv3_stall_event() - answer an event record that stalled a transaction
 * @smmu: the instance
 * @evt: the record, in CPU order; nothing is done unless EVT1.STALL is set
 *
 * Nothing here handles page faults: the transaction is aborted.
 */
void smmuv3_stall_event(struct smmuv3_device *smmu, const u64 *evt)
{
	struct smmuv3_cmd cmd = {
		.op = SMMUV3_OP_RESUME,
		.resume = {
			.sid = FIELD_GET(SMMUV3_EVT0_SID, evt[0]),
			.stag = FIELD_GET(SMMUV3_EVT1_STAG, evt[1]),
			.resp = SMMUV3_RESUME_ABORT,
		},
	};

	if (!(evt[1] & SMMUV3_EVT1_STALL))
		return;
	if (smmuv3_cmdq_issue_one(smmu, &cmd, false))
		dev_err_ratelimited(smmu->dev,
				    "stalled transaction of sid %#x not resumed\n",
				    cmd.resume.sid);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_stall_event);

/**
 * smmuv3_stall_terminate() - end every stalled transaction of a master
 * @master: a master with stalls whose STEs have just changed
 */
void smmuv3_stall_terminate(struct smmuv3_master *master)
{
	struct smmuv3_cmd_batch batch __uninitialized;
	unsigned int i;

	if (!master->stall_enabled)
		return;
	smmuv3_batch_init(&batch, master->smmu);
	for (i = 0; i < master->num_streams; i++) {
		struct smmuv3_cmd cmd = {
			.op = SMMUV3_OP_STALL_TERM,
			.resume.sid = master->streams[i].sid,
		};

		smmuv3_batch_add(&batch, &cmd);
	}
	/* Failures are logged by the command queue. */
	smmuv3_batch_submit(&batch);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_stall_terminate);

/*
 * The stream IDs are copied under streams_mutex and the commands issued
 * after it is dropped: a full command queue may take its timeout, and
 * device probe, release and the event thread need the mutex meanwhile.
 * Without memory for the copy, the commands are issued under the mutex.
 */
static void smmuv3_stall_work(struct work_struct *work)
{
	struct smmuv3_device *smmu = container_of(work, struct smmuv3_device,
						  stall_work);
	struct smmuv3_cmd_batch batch __uninitialized;
	struct smmuv3_cmd cmd = { .op = SMMUV3_OP_STALL_TERM };
	unsigned int i, n = 0;
	struct rb_node *node;
	u32 *sids;

	smmuv3_batch_init(&batch, smmu);
	mutex_lock(&smmu->streams_mutex);
	for (node = rb_first(&smmu->streams); node; node = rb_next(node))
		n++;
	sids = kmalloc_array(n, sizeof(*sids), GFP_KERNEL);
	for (node = rb_first(&smmu->streams), i = 0; node;
	     node = rb_next(node), i++) {
		cmd.resume.sid = rb_entry(node, struct smmuv3_stream, node)->sid;
		if (sids)
			sids[i] = cmd.resume.sid;
		else
			smmuv3_batch_add(&batch, &cmd);
	}
	mutex_unlock(&smmu->streams_mutex);
	for (i = 0; sids && i < n; i++) {
		cmd.resume.sid = sids[i];
		smmuv3_batch_add(&batch, &cmd);
	}
	kfree(sids);
	/* Failures are logged by the command queue. */
	smmuv3_batch_submit(&batch);
}

/**
 * smmuv3_stall_init() - prepare an instance's stall work
 * @smmu: the instance, before its interrupts are requested
 */
void smmuv3_stall_init(struct smmuv3_device *smmu)
{
	INIT_WORK(&smmu->stall_work, smmuv3_stall_work);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_stall_init);

/**
 * smmuv3_stall_records_lost() - the SMMU could not write an event record
 * @smmu: the instance
 *
 * Ends every stall of the instance, from a work item.  Safe in any
 * context.  Does nothing unless the instance forces stalls (where they are
 * optional, this driver keeps them off, and every master of an instance
 * with forced stalls has them), or after smmuv3_stall_stop().
 */
void smmuv3_stall_records_lost(struct smmuv3_device *smmu)
{
	if (smmu->feat.flags & SMMUV3_FEAT_STALL_FORCE)
		schedule_work(&smmu->stall_work);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_stall_records_lost);

/**
 * smmuv3_stall_stop() - no more stall work on an instance
 * @smmu: the instance, its command queue still working
 *
 * Waits for a running work item; later smmuv3_stall_records_lost() calls
 * queue nothing.
 */
void smmuv3_stall_stop(struct smmuv3_device *smmu)
{
	disable_work_sync(&smmu->stall_work);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_stall_stop);
