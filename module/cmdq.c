// SPDX-License-Identifier: GPL-2.0-only
/*
 * The command queue: producers, CMD_SYNC completion and command errors.
 *
 * Producers serialise on smmuv3_cmdq.lock only to claim space, copy their
 * commands and publish PROD.  Completion of a CMD_SYNC is waited for outside
 * the lock, by polling CONS: the 64-bit software copy smmuv3_cmdq.cons lets
 * every waiter turn the register's index-and-wrap value into an absolute
 * position without ambiguity (see smmuv3_cmdq_refresh_cons()).
 *
 * The SMMU reports a bad command through GERROR.CMDQ_ERR and stops, with
 * CONS pointing at the command.  smmuv3_cmdq_fix_error() records its
 * position and replaces it with a harmless CMD_SYNC so the queue moves on;
 * each waiter whose commands contained it gets -EIO (see struct smmuv3_cmdq
 * for how errors are matched to waiters).
 *
 * Global errors (GERROR) are handled here too, by smmuv3_handle_gerror():
 * the waiters that find the queue stopped call it, as does the GERROR
 * interrupt that faults.c sets up, serialised by smmuv3_device.gerror_lock.
 */
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/io.h>
#include <linux/ktime.h>
#include <linux/string.h>
#include <kunit/static_stub.h>
#include <kunit/visibility.h>

#include <smmuv3/smmuv3.h>

/* Generous: QEMU under TCG can be slow to run the queue. */
#define SMMUV3_CMDQ_TIMEOUT_US	(2 * USEC_PER_SEC)

static inline u32 smmuv3_cmdq_size(struct smmuv3_cmdq *cmdq)
{
	return 1U << cmdq->q.log2size;
}

/* Mask of the index and wrap bits of PROD/CONS. */
static inline u32 smmuv3_cmdq_idx_mask(struct smmuv3_cmdq *cmdq)
{
	return (2U << cmdq->q.log2size) - 1;
}

/*
 * Advance the software CONS from the register.  The register holds the low
 * log2size + 1 bits of the absolute position.  Producers never let PROD run
 * more than one queue size ahead of the software CONS they last saw, and
 * that value only grows, so the hardware CONS is at most one queue size
 * ahead of any current software CONS: the difference modulo twice the queue
 * size is exact.  The cmpxchg fails, and we re-read, if another CPU moved
 * the software CONS meanwhile, so a stale @old is never used.
 */
static u64 smmuv3_cmdq_refresh_cons(struct smmuv3_cmdq *cmdq)
{
	u32 mask = smmuv3_cmdq_idx_mask(cmdq);
	s64 old = atomic64_read(&cmdq->cons);
	s64 new;
	u32 hw;

	do {
		/*
		 * readl(): the SMMU's completion, and the error records made
		 * before it moved on, are ordered before what follows.
		 */
		hw = readl(cmdq->q.cons_reg);
		new = old + ((hw - (u32)old) & mask);
		if (new == old)
			break;
	} while (!atomic64_try_cmpxchg(&cmdq->cons, &old, new));
	return new;
}

static bool smmuv3_cmdq_has_space(struct smmuv3_cmdq *cmdq, u32 n)
{
	u32 size = smmuv3_cmdq_size(cmdq);

	if (cmdq->prod + n - atomic64_read(&cmdq->cons) <= size)
		return true;
	return cmdq->prod + n - smmuv3_cmdq_refresh_cons(cmdq) <= size;
}

/**
 * smmuv3_cmdq_idle() - wait a little between two reads of CONS
 * @smmu: the instance
 *
 * Called without locks.  A KUnit fake SMMU replaces it (static stub) to
 * run its command queue, so that the driver's waits, error handling and
 * timeouts run unchanged on it.
 */
VISIBLE_IF_KUNIT void smmuv3_cmdq_idle(struct smmuv3_device *smmu)
{
	KUNIT_STATIC_STUB_REDIRECT(smmuv3_cmdq_idle, smmu);
	udelay(1);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_cmdq_idle);

/* Between two polls: handle a stuck queue, give up at the deadline. */
static int smmuv3_cmdq_poll(struct smmuv3_device *smmu, ktime_t deadline)
{
	u32 gerror = readl_relaxed(smmu->base + SMMUV3_GERROR);
	u32 gerrorn = readl_relaxed(smmu->base + SMMUV3_GERRORN);

	if ((gerror ^ gerrorn) & (SMMUV3_GERROR_CMDQ_ERR |
				  SMMUV3_GERROR_SFM_ERR))
		smmuv3_handle_gerror(smmu);
	/* In service failure mode nothing will be consumed: stop waiting. */
	if (READ_ONCE(smmu->failed))
		return -EIO;
	if (ktime_after(ktime_get(), deadline)) {
		atomic64_inc(&smmu->cmdq.timeouts);
		dev_err_ratelimited(smmu->dev,
				    "command queue timeout: prod %llu cons %llu (hw cons %#x)\n",
				    smmu->cmdq.prod,
				    (u64)atomic64_read(&smmu->cmdq.cons),
				    readl_relaxed(smmu->cmdq.q.cons_reg));
		return -ETIMEDOUT;
	}
	smmuv3_cmdq_idle(smmu);
	return 0;
}

static void smmuv3_cmdq_write(struct smmuv3_cmdq *cmdq, u64 pos, const u64 *cmd)
{
	__le64 *ent = cmdq->q.base +
		      (pos & (smmuv3_cmdq_size(cmdq) - 1)) * SMMUV3_CMD_QWORDS;

	ent[0] = cpu_to_le64(cmd[0]);
	ent[1] = cpu_to_le64(cmd[1]);
}

/* Record commands at [first, last] in a ticket; under smmuv3_cmdq.lock. */
static void smmuv3_ticket_add(struct smmuv3_cmdq *cmdq,
			      struct smmuv3_cmdq_ticket *ticket,
			      u64 first, u64 last)
{
	unsigned int n = ticket->num;

	lockdep_assert_held(&cmdq->lock);

	if (!n) {
		ticket->err_seq = cmdq->err_seq;
	} else if (ticket->span[n - 1].last + 1 == first ||
		   n == SMMUV3_CMDQ_TICKET_SPANS) {
		/* Adjacent, or no span left: widen the last one. */
		ticket->span[n - 1].last = last;
		return;
	}
	ticket->span[n].first = first;
	ticket->span[n].last = last;
	ticket->num = n + 1;
}

/* Queue up to one queue size of commands, and record them in @ticket. */
static int smmuv3_cmdq_insert(struct smmuv3_device *smmu, const u64 *cmds,
			      u32 num, bool sync,
			      struct smmuv3_cmdq_ticket *ticket)
{
	struct smmuv3_cmdq *cmdq = &smmu->cmdq;
	ktime_t deadline = 0;
	u32 total = num + sync;
	unsigned long flags;
	u64 first;
	u32 i;
	int ret;

	for (;;) {
		raw_spin_lock_irqsave(&cmdq->lock, flags);
		if (smmuv3_cmdq_has_space(cmdq, total))
			break;
		raw_spin_unlock_irqrestore(&cmdq->lock, flags);
		/*
		 * The timeout runs from the first time the queue was full: a
		 * queue with room, the usual case, costs no clock read.
		 */
		if (!deadline)
			deadline = ktime_add_us(ktime_get(),
						SMMUV3_CMDQ_TIMEOUT_US);
		ret = smmuv3_cmdq_poll(smmu, deadline);
		if (ret)
			return ret;
	}

	first = cmdq->prod;
	for (i = 0; i < num; i++) {
		const u64 *cmd = &cmds[i * SMMUV3_CMD_QWORDS];

		smmuv3_cmdq_write(cmdq, cmdq->prod++, cmd);
		cmdq->issued[FIELD_GET(SMMUV3_CMD0_OP, cmd[0])]++;
	}
	if (sync) {
		u64 cmd[SMMUV3_CMD_QWORDS] = {
			FIELD_PREP(SMMUV3_CMD0_OP, SMMUV3_OP_SYNC) |
			FIELD_PREP(SMMUV3_CMD0_SYNC_CS, SMMUV3_SYNC_CS_NONE),
		};

		smmuv3_cmdq_write(cmdq, cmdq->prod++, cmd);
		cmdq->syncs++;
	}
	smmuv3_ticket_add(cmdq, ticket, first, cmdq->prod - 1);
	/* writel(): the entries are visible to the SMMU before PROD moves */
	writel(cmdq->prod & smmuv3_cmdq_idx_mask(cmdq), cmdq->q.prod_reg);
	raw_spin_unlock_irqrestore(&cmdq->lock, flags);
	return 0;
}

/* Was a command of @ticket rejected?  Called once CONS has passed it. */
static bool smmuv3_cmdq_ticket_failed(struct smmuv3_cmdq *cmdq,
				      const struct smmuv3_cmdq_ticket *ticket)
{
	unsigned long flags;
	bool failed = false;
	unsigned int i;
	u64 seq, n;

	/* Ordered after CONS by the readl() in smmuv3_cmdq_refresh_cons(). */
	if (READ_ONCE(cmdq->err_seq) == ticket->err_seq)
		return false;

	raw_spin_lock_irqsave(&cmdq->lock, flags);
	n = cmdq->err_seq - ticket->err_seq;
	if (n > SMMUV3_CMDQ_ERR_RING) {
		/* Our error may have been overwritten: assume the worst. */
		failed = true;
		goto out;
	}
	for (seq = ticket->err_seq; seq < cmdq->err_seq && !failed; seq++) {
		u64 pos = cmdq->err_pos[seq % SMMUV3_CMDQ_ERR_RING];

		for (i = 0; i < ticket->num && !failed; i++)
			failed = pos >= ticket->span[i].first &&
				 pos <= ticket->span[i].last;
	}
out:
	raw_spin_unlock_irqrestore(&cmdq->lock, flags);
	return failed;
}

/**
 * smmuv3_cmdq_submit() - queue encoded commands without waiting for them
 * @smmu: the instance
 * @cmds: @num commands of SMMUV3_CMD_QWORDS words each
 * @num: number of commands (more than the queue holds are queued in parts)
 * @sync: append a CMD_SYNC
 * @ticket: records what was queued, for smmuv3_cmdq_wait(); initialised
 *	with smmuv3_cmdq_ticket_init() before the first submission
 *
 * May be called from any context; never sleeps.  Only waits for space in
 * the queue.
 *
 * Return: 0; -ETIMEDOUT if the SMMU did not make room in time (the
 * commands not queued yet are dropped); -EIO if the SMMU is in service
 * failure mode.
 */
int smmuv3_cmdq_submit(struct smmuv3_device *smmu, const u64 *cmds,
		       unsigned int num, bool sync,
		       struct smmuv3_cmdq_ticket *ticket)
{
	u32 chunk_max = smmuv3_cmdq_size(&smmu->cmdq) - 1;
	int ret;

	/* An SMMU in service failure mode consumes nothing (faults.c). */
	if (READ_ONCE(smmu->failed))
		return -EIO;
	do {
		u32 chunk = min(num, chunk_max);
		bool last_chunk = chunk == num;

		ret = smmuv3_cmdq_insert(smmu, cmds, chunk, sync && last_chunk,
					 ticket);
		if (ret)
			return ret;
		cmds += chunk * SMMUV3_CMD_QWORDS;
		num -= chunk;
	} while (num);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_cmdq_submit);

/**
 * smmuv3_cmdq_wait_until() - wait for a ticket, up to a shared deadline
 * @smmu: the instance
 * @ticket: what was submitted; when its last command is a CMD_SYNC, the
 *	effects of all its commands are complete on success
 * @deadline: when to give up; 0 starts it (the queue's timeout from now)
 *	at the first poll, so that the callers' later waits share it: waits
 *	on several instances issued together then time out together, not one
 *	timeout after the other
 *
 * May be called from any context; never sleeps.  A ticket with nothing
 * queued succeeds at once.
 *
 * Return: 0; -ETIMEDOUT if the SMMU did not get there by @deadline; -EIO
 * if it rejected one of the ticket's commands (logged by
 * smmuv3_cmdq_fix_error()), or if too many errors happened meanwhile to
 * tell.
 */
int smmuv3_cmdq_wait_until(struct smmuv3_device *smmu,
			   const struct smmuv3_cmdq_ticket *ticket,
			   ktime_t *deadline)
{
	struct smmuv3_cmdq *cmdq = &smmu->cmdq;
	u64 last;
	int ret;

	if (!ticket->num)
		return 0;
	last = ticket->span[ticket->num - 1].last;
	while (smmuv3_cmdq_refresh_cons(cmdq) <= last) {
		if (!*deadline)
			*deadline = ktime_add_us(ktime_get(),
						 SMMUV3_CMDQ_TIMEOUT_US);
		ret = smmuv3_cmdq_poll(smmu, *deadline);
		if (ret)
			return ret;
	}
	return smmuv3_cmdq_ticket_failed(cmdq, ticket) ? -EIO : 0;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_cmdq_wait_until);

/**
 * smmuv3_cmdq_wait() - wait until the SMMU has consumed a ticket's commands
 * @smmu: the instance
 * @ticket: what was submitted (as smmuv3_cmdq_wait_until())
 *
 * May be called from any context; never sleeps.
 *
 * Return: as smmuv3_cmdq_wait_until(), with the queue's timeout from the
 * first poll.
 */
int smmuv3_cmdq_wait(struct smmuv3_device *smmu,
		     const struct smmuv3_cmdq_ticket *ticket)
{
	ktime_t deadline = 0;

	return smmuv3_cmdq_wait_until(smmu, ticket, &deadline);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_cmdq_wait);

/*
 * SMMUV3_OPT_REPEAT_CFGI_TLBI (errata.c): does this run of commands hold a
 * configuration or TLB invalidation (opcodes CFGI_STE 0x03 up to, not
 * including, ATC_INV 0x40)?
 */
static bool smmuv3_cmds_repeat(const struct smmuv3_device *smmu,
			       const u64 *cmds, unsigned int num)
{
	unsigned int i;

	if (!(smmu->options & SMMUV3_OPT_REPEAT_CFGI_TLBI))
		return false;
	for (i = 0; i < num; i++) {
		u32 op = FIELD_GET(SMMUV3_CMD0_OP, cmds[i * SMMUV3_CMD_QWORDS]);

		if (op >= SMMUV3_OP_CFGI_STE && op < SMMUV3_OP_ATC_INV)
			return true;
	}
	return false;
}

/*
 * Queue @num commands and a CMD_SYNC in @ticket.  Where the implementation
 * needs its invalidations issued twice, the second time only once the
 * first one's CMD_SYNC has completed (SMMUV3_OPT_REPEAT_CFGI_TLBI), wait
 * for them and queue them again.  The caller waits for @ticket.
 */
static int smmuv3_cmdq_submit_synced(struct smmuv3_device *smmu,
				     const u64 *cmds, unsigned int num,
				     struct smmuv3_cmdq_ticket *ticket)
{
	int ret = smmuv3_cmdq_submit(smmu, cmds, num, true, ticket);

	if (ret || !smmuv3_cmds_repeat(smmu, cmds, num))
		return ret;
	ret = smmuv3_cmdq_wait(smmu, ticket);
	if (ret)
		return ret;
	smmuv3_cmdq_ticket_init(ticket);
	return smmuv3_cmdq_submit(smmu, cmds, num, true, ticket);
}

/**
 * smmuv3_cmdq_issue() - queue encoded commands, optionally wait for them
 * @smmu: the instance
 * @cmds: @num commands of SMMUV3_CMD_QWORDS words each
 * @num: number of commands
 * @sync: append a CMD_SYNC and wait until the SMMU has completed it
 *
 * May be called from any context; never sleeps.
 *
 * Return: 0; -ETIMEDOUT if the SMMU did not make progress in time; -EIO if
 * the SMMU rejected one of the commands (logged).  Without @sync, only
 * -ETIMEDOUT (no room in the queue): errors are not waited for.
 */
int smmuv3_cmdq_issue(struct smmuv3_device *smmu, const u64 *cmds,
		      unsigned int num, bool sync)
{
	struct smmuv3_cmdq_ticket ticket __uninitialized;
	int ret;

	smmuv3_cmdq_ticket_init(&ticket);
	if (!sync)
		return smmuv3_cmdq_submit(smmu, cmds, num, false, &ticket);
	ret = smmuv3_cmdq_submit_synced(smmu, cmds, num, &ticket);
	if (ret)
		return ret;
	return smmuv3_cmdq_wait(smmu, &ticket);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_cmdq_issue);

/**
 * smmuv3_cmdq_issue_one() - encode and issue one command
 * @smmu: the instance
 * @cmd: the command
 * @sync: wait for its completion
 *
 * Return: as smmuv3_cmdq_issue(), or -EINVAL for an unknown command.
 */
int smmuv3_cmdq_issue_one(struct smmuv3_device *smmu,
			  const struct smmuv3_cmd *cmd, bool sync)
{
	u64 words[SMMUV3_CMD_QWORDS];
	int ret;

	ret = smmuv3_cmd_encode(cmd, words);
	if (ret)
		return ret;
	return smmuv3_cmdq_issue(smmu, words, 1, sync);
}

/**
 * smmuv3_batch_init() - start a batch of commands for one instance
 * @batch: the batch
 * @smmu: the instance
 */
void smmuv3_batch_init(struct smmuv3_cmd_batch *batch,
		       struct smmuv3_device *smmu)
{
	batch->smmu = smmu;
	batch->num = 0;
	batch->err = 0;
	smmuv3_cmdq_ticket_init(&batch->ticket);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_batch_init);

/*
 * Make room for one more command: a full batch is queued without a
 * CMD_SYNC, in the batch's ticket, so that the final wait covers it.
 * With SMMUV3_OPT_CMDQ_FORCE_SYNC (Arm erratum 2812531) it is queued
 * with a CMD_SYNC after 63 commands instead: never more than 63 commands
 * of a batch without one.  A full batch of invalidations that must be
 * issued twice (SMMUV3_OPT_REPEAT_CFGI_TLBI) is queued with its CMD_SYNC,
 * waited for and queued again.
 */
static int smmuv3_batch_make_room(struct smmuv3_cmd_batch *batch)
{
	struct smmuv3_device *smmu = batch->smmu;
	bool force_sync = smmu->options & SMMUV3_OPT_CMDQ_FORCE_SYNC;

	if (batch->err)
		return batch->err;
	if (batch->num < SMMUV3_BATCH_MAX - force_sync)
		return 0;
	if (force_sync || smmuv3_cmds_repeat(smmu, batch->cmds, batch->num))
		batch->err = smmuv3_cmdq_submit_synced(smmu, batch->cmds,
						       batch->num,
						       &batch->ticket);
	else
		batch->err = smmuv3_cmdq_submit(smmu, batch->cmds, batch->num,
						false, &batch->ticket);
	batch->num = 0;
	return batch->err;
}

/**
 * smmuv3_batch_add() - add a command, issuing the batch when it is full
 * @batch: the batch
 * @cmd: the command
 *
 * After an error, nothing more is added until smmuv3_batch_submit(), which
 * returns the error: callers may check either.
 *
 * Return: 0, -EINVAL for a command that cannot be encoded, or an error of
 * issuing a full batch.
 */
int smmuv3_batch_add(struct smmuv3_cmd_batch *batch,
		     const struct smmuv3_cmd *cmd)
{
	int ret = smmuv3_batch_make_room(batch);

	if (ret)
		return ret;
	ret = smmuv3_cmd_encode(cmd, &batch->cmds[batch->num * SMMUV3_CMD_QWORDS]);
	if (ret)
		batch->err = ret;
	else
		batch->num++;
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_batch_add);

/**
 * smmuv3_batch_add_words() - add an already encoded command
 * @batch: the batch
 * @cmd: its SMMUV3_CMD_QWORDS words
 *
 * Return: 0, or an error of issuing a full batch (as smmuv3_batch_add()).
 */
int smmuv3_batch_add_words(struct smmuv3_cmd_batch *batch, const u64 *cmd)
{
	int ret = smmuv3_batch_make_room(batch);

	if (ret)
		return ret;
	memcpy(&batch->cmds[batch->num++ * SMMUV3_CMD_QWORDS], cmd,
	       SMMUV3_CMD_SIZE);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_batch_add_words);

/**
 * smmuv3_batch_issue() - issue the batch with a CMD_SYNC, without waiting
 * @batch: the batch; afterwards its @ticket covers every command it queued
 *	(for smmuv3_cmdq_wait()), and it is started again with
 *	smmuv3_batch_init() before it is reused
 *
 * Return: 0; the batch's error (see smmuv3_batch_add()), without issuing
 * anything more; or -ETIMEDOUT as smmuv3_cmdq_submit().
 */
int smmuv3_batch_issue(struct smmuv3_cmd_batch *batch)
{
	int ret = batch->err;

	if (!ret)
		ret = smmuv3_cmdq_submit_synced(batch->smmu, batch->cmds,
						batch->num, &batch->ticket);
	batch->num = 0;
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_batch_issue);

/**
 * smmuv3_batch_submit() - issue the batch with a CMD_SYNC and wait
 * @batch: the batch, empty and without error afterwards
 *
 * The wait covers every command added since the batch was started or last
 * submitted, those already queued with a full batch included.
 *
 * Return: as smmuv3_batch_issue(), or as smmuv3_cmdq_wait().
 */
int smmuv3_batch_submit(struct smmuv3_cmd_batch *batch)
{
	int ret = smmuv3_batch_issue(batch);

	if (!ret)
		ret = smmuv3_cmdq_wait(batch->smmu, &batch->ticket);
	smmuv3_batch_init(batch, batch->smmu);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_batch_submit);

static const char * const smmuv3_cerror_names[] = {
	[SMMUV3_CERROR_NONE] = "no error",
	[SMMUV3_CERROR_ILL] = "illegal command",
	[SMMUV3_CERROR_ABT] = "abort on command fetch",
	[SMMUV3_CERROR_ATC_INV_SYNC] = "ATC invalidation timeout",
};

/**
 * smmuv3_cmdq_fix_error() - let a stopped command queue move on
 * @smmu: the instance
 *
 * Called with smmuv3_device.gerror_lock held, before GERROR.CMDQ_ERR is
 * acknowledged.  After an illegal command (CERROR_ILL) or an ATC
 * invalidation timeout (CERROR_ATC_INV_SYNC), replaces the command at CONS
 * by a CMD_SYNC (the ATC timeout's CONS is at its CMD_SYNC already) and
 * records its position so that the waiters whose commands included it fail
 * with -EIO (see struct smmuv3_cmdq).  After an abort on the command's
 * fetch (CERROR_ABT) the command is left as it is: the acknowledgment makes
 * the SMMU fetch it again (IHI 0070 7.1).
 */
static void smmuv3_cmdq_fix_error(struct smmuv3_device *smmu)
{
	struct smmuv3_cmdq *cmdq = &smmu->cmdq;
	u64 sync[SMMUV3_CMD_QWORDS] = {
		FIELD_PREP(SMMUV3_CMD0_OP, SMMUV3_OP_SYNC),
	};
	u32 cons = readl_relaxed(cmdq->q.cons_reg);
	u32 err = FIELD_GET(SMMUV3_CMDQ_CONS_ERR, cons);
	unsigned long flags;
	__le64 *ent;
	u64 pos;

	lockdep_assert_held(&smmu->gerror_lock);

	pos = smmuv3_cmdq_refresh_cons(cmdq);
	ent = cmdq->q.base + (pos & (smmuv3_cmdq_size(cmdq) - 1)) *
			     SMMUV3_CMD_QWORDS;
	dev_err_ratelimited(smmu->dev,
			    "command queue error: %s, command %#018llx %#018llx at %llu\n",
			    err < ARRAY_SIZE(smmuv3_cerror_names) ?
			    smmuv3_cerror_names[err] : "unknown",
			    le64_to_cpu(ent[0]), le64_to_cpu(ent[1]), pos);

	/*
	 * The SMMU fetches the command at CONS again once the error is
	 * acknowledged.  After a fetch abort that is the command itself,
	 * which nothing was wrong with: it runs, and its waiters succeed.
	 */
	if (err == SMMUV3_CERROR_ABT || err == SMMUV3_CERROR_NONE)
		return;

	raw_spin_lock_irqsave(&cmdq->lock, flags);
	/* An illegal command is replaced; after an ATC timeout, the sync runs. */
	if (err != SMMUV3_CERROR_ATC_INV_SYNC)
		smmuv3_cmdq_write(cmdq, pos, sync);
	cmdq->err_pos[cmdq->err_seq % SMMUV3_CMDQ_ERR_RING] = pos;
	WRITE_ONCE(cmdq->err_seq, cmdq->err_seq + 1);
	raw_spin_unlock_irqrestore(&cmdq->lock, flags);
	/* The new entry is visible before the acknowledgment (a writel()). */
	wmb();
}

static const char * const smmuv3_gerror_names[] = {
	"command queue error",
	NULL,
	"event queue write abort",
	"PRI queue write abort",
	"command queue MSI abort",
	"event queue MSI abort",
	"PRI queue MSI abort",
	"GERROR MSI abort",
	"service failure mode",
};

/**
 * smmuv3_handle_gerror() - handle and acknowledge active global errors
 * @smmu: the instance
 *
 * Safe in any context; serialised by smmuv3_device.gerror_lock.
 */
void smmuv3_handle_gerror(struct smmuv3_device *smmu)
{
	unsigned long flags, active;
	u32 gerror;
	int bit;

	raw_spin_lock_irqsave(&smmu->gerror_lock, flags);
	gerror = readl_relaxed(smmu->base + SMMUV3_GERROR);
	active = (gerror ^ readl_relaxed(smmu->base + SMMUV3_GERRORN)) &
		 SMMUV3_GERROR_ALL;
	if (!active)
		goto out;

	for_each_set_bit(bit, &active, ARRAY_SIZE(smmuv3_gerror_names)) {
		atomic64_inc(&smmu->faults.gerrors[bit]);
		if (BIT(bit) == SMMUV3_GERROR_CMDQ_ERR) {
			smmuv3_cmdq_fix_error(smmu);
		} else if (BIT(bit) == SMMUV3_GERROR_EVTQ_ABT_ERR) {
			/*
			 * A record the SMMU could not write is lost as surely as
			 * one an overflow drops; QEMU's SMMU reports a full
			 * queue this way instead of toggling PROD.OVFLG.
			 */
			atomic64_inc(&smmu->faults.events_lost);
			dev_err_ratelimited(smmu->dev,
					    "global error: event queue write abort: events lost\n");
			smmuv3_stall_records_lost(smmu);
		} else {
			dev_err_ratelimited(smmu->dev, "global error: %s\n",
					    smmuv3_gerror_names[bit]);
		}
	}
	/*
	 * In service failure mode the SMMU consumes no more commands (IHI
	 * 0070 7.2.1), until it is reset: commands fail at once instead of
	 * each waiting out the queue's timeout.
	 */
	if (active & SMMUV3_GERROR_SFM_ERR) {
		WRITE_ONCE(smmu->failed, true);
		dev_err_ratelimited(smmu->dev,
				    "service failure mode: the SMMU stopped translating and consuming commands\n");
	}
	/* Toggling GERRORN to match GERROR acknowledges the errors. */
	writel(gerror, smmu->base + SMMUV3_GERRORN);
out:
	raw_spin_unlock_irqrestore(&smmu->gerror_lock, flags);
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_handle_gerror);

/**
 * smmuv3_cmdq_init() - set up the command queue of an instance
 * @smmu: the instance, with features decoded and registers mapped
 *
 * Return: 0 or -ENOMEM.
 */
int smmuv3_cmdq_init(struct smmuv3_device *smmu)
{
	struct smmuv3_cmdq *cmdq = &smmu->cmdq;
	int ret;

	/* 4096 entries (64KiB) are plenty; the SMMU may allow fewer. */
	ret = smmuv3_queue_alloc(smmu, &cmdq->q, min(smmu->feat.cmdq_log2, 12),
				 SMMUV3_CMD_QWORDS, SMMUV3_CMDQ_PROD,
				 SMMUV3_CMDQ_CONS, "command");
	if (ret)
		return ret;
	if (cmdq->q.log2size < 1) {
		dev_err(smmu->dev, "command queue of %u entries is too small\n",
			1U << cmdq->q.log2size);
		return -ENODEV;
	}
	raw_spin_lock_init(&cmdq->lock);
	cmdq->prod = 0;
	atomic64_set(&cmdq->cons, 0);
	cmdq->err_seq = 0;
	atomic64_set(&cmdq->timeouts, 0);
	atomic64_set(&cmdq->inv_failures, 0);
	return 0;
}
