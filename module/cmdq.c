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
 * CONS pointing at the command.  smmuv3_cmdq_fix_error() replaces it with a
 * harmless CMD_SYNC so the queue moves on; waiters whose batch contained it
 * get -EIO.
 */
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/io.h>
#include <linux/ktime.h>
#include <linux/string.h>
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
		/* readl(): the SMMU's completion is ordered before what follows */
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

/* Between two polls: handle a stuck queue, give up at the deadline. */
static int smmuv3_cmdq_poll(struct smmuv3_device *smmu, ktime_t deadline)
{
	u32 gerror = readl_relaxed(smmu->base + SMMUV3_GERROR);
	u32 gerrorn = readl_relaxed(smmu->base + SMMUV3_GERRORN);

	if ((gerror ^ gerrorn) & SMMUV3_GERROR_CMDQ_ERR)
		smmuv3_handle_gerror(smmu);
	if (ktime_after(ktime_get(), deadline)) {
		atomic64_inc(&smmu->cmdq.timeouts);
		dev_err_ratelimited(smmu->dev,
				    "command queue timeout: prod %llu cons %llu (hw cons %#x)\n",
				    smmu->cmdq.prod,
				    (u64)atomic64_read(&smmu->cmdq.cons),
				    readl_relaxed(smmu->cmdq.q.cons_reg));
		return -ETIMEDOUT;
	}
	udelay(1);
	return 0;
}

static void smmuv3_cmdq_write(struct smmuv3_cmdq *cmdq, u64 pos, const u64 *cmd)
{
	__le64 *ent = cmdq->q.base +
		      (pos & (smmuv3_cmdq_size(cmdq) - 1)) * SMMUV3_CMD_QWORDS;

	ent[0] = cpu_to_le64(cmd[0]);
	ent[1] = cpu_to_le64(cmd[1]);
}

/* Issue up to one queue size of commands; returns the position of the last. */
static int smmuv3_cmdq_insert(struct smmuv3_device *smmu, const u64 *cmds,
			      u32 num, bool sync, u64 *first, u64 *last)
{
	struct smmuv3_cmdq *cmdq = &smmu->cmdq;
	ktime_t deadline = ktime_add_us(ktime_get(), SMMUV3_CMDQ_TIMEOUT_US);
	u32 total = num + sync;
	unsigned long flags;
	u32 i;
	int ret;

	for (;;) {
		raw_spin_lock_irqsave(&cmdq->lock, flags);
		if (smmuv3_cmdq_has_space(cmdq, total))
			break;
		raw_spin_unlock_irqrestore(&cmdq->lock, flags);
		ret = smmuv3_cmdq_poll(smmu, deadline);
		if (ret)
			return ret;
	}

	*first = cmdq->prod;
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
	*last = cmdq->prod - 1;
	/* writel(): the entries are visible to the SMMU before PROD moves */
	writel(cmdq->prod & smmuv3_cmdq_idx_mask(cmdq), cmdq->q.prod_reg);
	raw_spin_unlock_irqrestore(&cmdq->lock, flags);
	return 0;
}

static int smmuv3_cmdq_wait(struct smmuv3_device *smmu, u64 first, u64 last)
{
	struct smmuv3_cmdq *cmdq = &smmu->cmdq;
	ktime_t deadline = ktime_add_us(ktime_get(), SMMUV3_CMDQ_TIMEOUT_US);
	s64 err;
	int ret;

	while (smmuv3_cmdq_refresh_cons(cmdq) <= last) {
		ret = smmuv3_cmdq_poll(smmu, deadline);
		if (ret)
			return ret;
	}
	err = READ_ONCE(cmdq->err_pos);
	if (err >= 0 && (u64)err >= first && (u64)err <= last)
		return -EIO;
	return 0;
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
 * the SMMU rejected one of the commands (logged).
 */
int smmuv3_cmdq_issue(struct smmuv3_device *smmu, const u64 *cmds,
		      unsigned int num, bool sync)
{
	u32 chunk_max = smmuv3_cmdq_size(&smmu->cmdq) - 1;
	u64 first, last, start = U64_MAX;
	int ret;

	do {
		u32 chunk = min(num, chunk_max);
		bool last_chunk = chunk == num;

		ret = smmuv3_cmdq_insert(smmu, cmds, chunk, sync && last_chunk,
					 &first, &last);
		if (ret)
			return ret;
		start = min(start, first);
		cmds += chunk * SMMUV3_CMD_QWORDS;
		num -= chunk;
	} while (num);

	return sync ? smmuv3_cmdq_wait(smmu, start, last) : 0;
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
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_batch_init);

/* Make room for one more command, issuing the batch when it is full. */
static int smmuv3_batch_make_room(struct smmuv3_cmd_batch *batch)
{
	int ret;

	if (batch->num < SMMUV3_BATCH_MAX)
		return 0;
	ret = smmuv3_cmdq_issue(batch->smmu, batch->cmds, batch->num, false);
	batch->num = 0;
	return ret;
}

/**
 * smmuv3_batch_add() - add a command, issuing the batch when it is full
 * @batch: the batch
 * @cmd: the command
 *
 * Return: 0, or an error of encoding or of issuing a full batch.
 */
int smmuv3_batch_add(struct smmuv3_cmd_batch *batch,
		     const struct smmuv3_cmd *cmd)
{
	int ret = smmuv3_batch_make_room(batch);

	if (ret)
		return ret;
	ret = smmuv3_cmd_encode(cmd, &batch->cmds[batch->num * SMMUV3_CMD_QWORDS]);
	if (!ret)
		batch->num++;
	return ret;
}

/**
 * smmuv3_batch_add_words() - add an already encoded command
 * @batch: the batch
 * @cmd: its SMMUV3_CMD_QWORDS words
 *
 * Return: 0, or an error of issuing a full batch.
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
EXPORT_SYMBOL_IF_KUNIT(smmuv3_batch_add);

/**
 * smmuv3_batch_submit() - issue the batch with a CMD_SYNC and wait
 * @batch: the batch, empty afterwards
 *
 * Return: as smmuv3_cmdq_issue().
 */
int smmuv3_batch_submit(struct smmuv3_cmd_batch *batch)
{
	int ret = smmuv3_cmdq_issue(batch->smmu, batch->cmds, batch->num, true);

	batch->num = 0;
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
 * acknowledged.  Replaces the command at CONS by a CMD_SYNC and records its
 * position so that the waiter of its batch fails with -EIO.
 */
void smmuv3_cmdq_fix_error(struct smmuv3_device *smmu)
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

	raw_spin_lock_irqsave(&cmdq->lock, flags);
	/* The SMMU retries from CONS once the error is acknowledged. */
	if (err != SMMUV3_CERROR_ATC_INV_SYNC)
		smmuv3_cmdq_write(cmdq, pos, sync);
	WRITE_ONCE(cmdq->err_pos, pos);
	raw_spin_unlock_irqrestore(&cmdq->lock, flags);
	/* The new entry is visible before the acknowledgment (a writel()). */
	wmb();
}

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
	cmdq->err_pos = -1;
	return 0;
}
