// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fakes for the KUnit suites; see fake_smmu.h.
 */
#include <kunit/device.h>
#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/bitops.h>
#include <linux/device.h>
#include <linux/io.h>
#include <linux/rcupdate.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>

#include <smmuv3/invs.h>
#include <smmuv3/smmuv3.h>

#include "fake_smmu.h"

/* --- Instances ------------------------------------------------------------ */

static void fake_smmu_release(void *data)
{
	struct fake_smmu *f = data;

	smmuv3_stall_stop(&f->smmu);
	smmuv3_tags_destroy(&f->smmu);
	mutex_destroy(&f->smmu.streams_mutex);
}

/**
 * fake_smmu_create() - an SMMU instance without hardware
 * @test: the test case, which owns the instance
 * @name: its name, for messages
 * @flags: SMMUV3_FEAT_* it claims, with SMMUV3_FEAT_ATTR_TYPES_OVR added:
 *	the suites' expected STE words have STE.SHCFG (a test of an SMMU
 *	without the override clears the flag)
 * @id_bits: ASID and VMID width (8 or 16)
 * @log2size: log2 of the entries of its command queue
 *
 * Return: the instance; the test case is aborted if memory is short.
 */
struct fake_smmu *fake_smmu_create(struct kunit *test, const char *name,
				   u32 flags, u8 id_bits, unsigned int log2size)
{
	struct fake_smmu *f;
	struct smmuv3_device *smmu;
	struct smmuv3_cmdq *cmdq;

	f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, f);
	smmu = &f->smmu;
	cmdq = &smmu->cmdq;

	strscpy(smmu->name, name, sizeof(smmu->name));
	smmu->feat.flags = flags | SMMUV3_FEAT_ATTR_TYPES_OVR;
	smmu->feat.asid_bits = id_bits;
	smmu->feat.vmid_bits = id_bits;
	smmu->base = (void __iomem __force *)f->regs;
	smmu->page1 = smmu->base;

	cmdq->q.base = kunit_kcalloc(test, 1U << log2size, SMMUV3_CMD_SIZE,
				     GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, cmdq->q.base);
	cmdq->q.log2size = log2size;
	cmdq->q.ent_qwords = SMMUV3_CMD_QWORDS;
	/* What is produced is consumed: CONS reads what PROD was set to. */
	cmdq->q.prod_reg = (u32 __iomem __force *)&f->q_reg;
	cmdq->q.cons_reg = cmdq->q.prod_reg;
	raw_spin_lock_init(&cmdq->lock);
	atomic64_set(&cmdq->cons, 0);

	raw_spin_lock_init(&smmu->gerror_lock);
	smmuv3_stall_init(smmu);
	mutex_init(&smmu->streams_mutex);
	smmuv3_tags_init(smmu);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, fake_smmu_release,
							f), 0);
	return f;
}

/**
 * fake_smmus_create_sorted() - instances in the order of their addresses
 * @test: the test case
 * @out: @num results; out[i] sorts before out[i + 1] in any array
 * @num: how many
 * @flags: as fake_smmu_create()
 * @id_bits: as fake_smmu_create()
 * @log2size: as fake_smmu_create()
 *
 * Invalidation arrays sort instances by address; the names "smmu0",
 * "smmu1", ... follow that order.
 */
void fake_smmus_create_sorted(struct kunit *test, struct fake_smmu **out,
			      unsigned int num, u32 flags, u8 id_bits,
			      unsigned int log2size)
{
	unsigned int i, j;

	for (i = 0; i < num; i++)
		out[i] = fake_smmu_create(test, "", flags, id_bits, log2size);
	for (i = 1; i < num; i++)
		for (j = i; j && out[j - 1] > out[j]; j--)
			swap(out[j - 1], out[j]);
	for (i = 0; i < num; i++) {
		snprintf(out[i]->smmu.name, sizeof(out[i]->smmu.name),
			 "smmu%u", i);
		out[i]->smmu.instance = i;
	}
}

/* A KUnit device with a name unique among those alive. */
static struct device *fake_device(struct kunit *test, const char *what)
{
	static atomic_t seq = ATOMIC_INIT(0);
	struct device *dev;
	char name[32];

	snprintf(name, sizeof(name), "%s%d", what, atomic_inc_return(&seq));
	dev = kunit_device_register(test, name);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	return dev;
}

/**
 * fake_smmu_add_strtab() - give an instance a stream table
 * @test: the test case
 * @f: the instance, which gets a KUnit device for its DMA memory (the
 *	stream table and masters' CD tables)
 * @sid_bits: its stream ID width
 *
 * The table is built by smmuv3_strtab_init(): linear unless @f claims
 * two-level tables, every STE aborting.  It is freed with the device.
 */
void fake_smmu_add_strtab(struct kunit *test, struct fake_smmu *f,
			  u8 sid_bits)
{
	f->smmu.dev = fake_device(test, "smmu");
	f->smmu.feat.sid_bits = sid_bits;
	KUNIT_ASSERT_EQ(test, smmuv3_strtab_init(&f->smmu), 0);
}

/**
 * struct fake_master - a client device of a fake instance
 * @master: what the driver sees
 * @iommu: the device's iommu data, as the core would have it, leading
 *	to @master
 */
struct fake_master {
	struct smmuv3_master master;
	struct dev_iommu iommu;
};

/*
 * Forget whatever the test left attached without touching any table or
 * domain: they may be gone already, and the instance's IDs go with it.
 */
static void fake_master_release(void *data)
{
	struct fake_master *fm = data;
	struct smmuv3_master *master = &fm->master;
	struct smmuv3_attach *attach;
	unsigned long ssid;

	xa_for_each(&master->pasids, ssid, attach)
		kfree(attach);
	xa_destroy(&master->pasids);
	kfree(master->attach);
	smmuv3_cdtab_free(master);
	master->dev->iommu = NULL;
}

/**
 * fake_master_create() - a client device behind an instance
 * @test: the test case, which owns the master
 * @f: the instance, with a stream table (fake_smmu_add_strtab())
 * @sids: its stream IDs
 * @num: their number
 *
 * The master has the substream width a probed one would have on @f, no CD
 * table and nothing attached; its STEs abort.  Attach ops take its
 * master->dev.
 *
 * Return: the master.
 */
struct smmuv3_master *fake_master_create(struct kunit *test,
					 struct fake_smmu *f, const u32 *sids,
					 unsigned int num)
{
	struct smmuv3_master *master;
	struct fake_master *fm;
	unsigned int i;
	int ret;

	fm = kunit_kzalloc(test, sizeof(*fm), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, fm);
	master = &fm->master;
	master->streams = kunit_kcalloc(test, num, sizeof(*master->streams),
					GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, master->streams);
	master->smmu = &f->smmu;
	master->dev = fake_device(test, "master");
	master->num_streams = num;
	master->ssid_bits = smmuv3_cdtab_ssid_bits(&f->smmu);
	xa_init(&master->pasids);
	for (i = 0; i < num; i++) {
		master->streams[i].sid = sids[i];
		master->streams[i].master = master;
		mutex_lock(&f->smmu.streams_mutex);
		ret = smmuv3_strtab_prepare_sid(&f->smmu, sids[i]);
		mutex_unlock(&f->smmu.streams_mutex);
		KUNIT_ASSERT_EQ(test, ret, 0);
	}
	fm->iommu.priv = master;
	master->dev->iommu = &fm->iommu;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							fake_master_release,
							fm), 0);
	return master;
}

/**
 * fake_smmu_create_mmio() - a fake instance with registers and a device
 * @test: the test case, which owns the instance
 * @flags: as fake_smmu_create()
 *
 * Its register pages are 128KiB of plain memory, and it has a KUnit device
 * of its own whose driver data is the instance.
 *
 * Return: the instance.
 */
struct fake_smmu *fake_smmu_create_mmio(struct kunit *test, u32 flags)
{
	struct fake_smmu *f = fake_smmu_create(test, "smmu0", flags, 16, 8);
	void *regs = kunit_kzalloc(test, SZ_128K, GFP_KERNEL);
	static atomic_t seq = ATOMIC_INIT(0);
	char name[32];

	KUNIT_ASSERT_NOT_NULL(test, regs);
	f->smmu.base = (void __iomem __force *)regs;
	f->smmu.page1 = f->smmu.base + SZ_64K;
	/* A name of its own: a failed case may leave its device behind. */
	snprintf(name, sizeof(name), "smmuv3-platform%d",
		 atomic_inc_return(&seq));
	f->smmu.dev = kunit_device_register(test, name);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, f->smmu.dev);
	dev_set_drvdata(f->smmu.dev, &f->smmu);
	return f;
}

/* --- Commands ------------------------------------------------------------- */

/**
 * fake_cmd_at() - a command from the ring
 * @f: the instance
 * @pos: absolute position (cmdq.prod counts every command ever queued)
 * @cmd: the result
 */
void fake_cmd_at(const struct fake_smmu *f, u64 pos, struct fake_cmd *cmd)
{
	const struct smmuv3_queue *q = &f->smmu.cmdq.q;
	const __le64 *ent = q->base +
			    (pos & (BIT(q->log2size) - 1)) * SMMUV3_CMD_QWORDS;

	cmd->w0 = le64_to_cpu(ent[0]);
	cmd->w1 = le64_to_cpu(ent[1]);
}

/* GERROR.CMDQ_ERR, bit 0; CMDQ_CONS.ERR, bits [30:24]. */
#define FAKE_GERROR_CMDQ_ERR	BIT(0)
#define FAKE_CONS_ERR_SHIFT	24

/*
 * The driver idles between two reads of CONS: the SMMU runs meanwhile.  It
 * stays stopped at a rejected command until GERRORN acknowledges it, then
 * reads that entry again (replaced by the driver after CERROR_ILL, the same
 * command fetched again after CERROR_ABT) and goes on.
 */
static void fake_cmdq_idle(struct smmuv3_device *smmu)
{
	struct fake_smmu *f = container_of(smmu, struct fake_smmu, smmu);
	u32 mask = (2U << smmu->cmdq.q.log2size) - 1;
	u32 *gerror = &f->regs[SMMUV3_GERROR / 4];
	u32 *gerrorn = &f->regs[SMMUV3_GERRORN / 4];
	struct fake_cmd cmd;
	u64 prod;

	if (!f->hw || f->hw_stalled ||
	    ((*gerror ^ *gerrorn) & FAKE_GERROR_CMDQ_ERR))
		return;
	prod = f->hw_cons + ((READ_ONCE(f->q_reg) - (u32)f->hw_cons) & mask);
	for (; f->hw_cons < prod; f->hw_cons++) {
		fake_cmd_at(f, f->hw_cons, &cmd);
		if (f->reject_mask &&
		    (cmd.w0 & f->reject_mask) == f->reject_val) {
			f->rejected++;
			f->rejected_cmd.w0 = cmd.w0;
			f->rejected_cmd.w1 = cmd.w1;
			WRITE_ONCE(f->hw_cons_reg,
				   (f->hw_cons & mask) |
				   (f->reject_err ?: FAKE_CERROR_ILL) <<
				   FAKE_CONS_ERR_SHIFT);
			*gerror ^= FAKE_GERROR_CMDQ_ERR;
			/* Nothing is wrong with the command: it stays. */
			if (f->reject_err == FAKE_CERROR_ABT)
				f->fetch_aborts++;
			if (f->reject_once)
				f->reject_mask = 0;
			return;
		}
	}
	WRITE_ONCE(f->hw_cons_reg, f->hw_cons & mask);
}

/**
 * fake_smmu_hw_start() - let an instance consume commands like an SMMU
 * @test: the test case
 * @f: the instance; what it was given so far counts as consumed
 *
 * From now on its commands are consumed only while the driver waits for
 * them (in the driver's smmuv3_cmdq_idle(), replaced for this test case),
 * rejected as fake_smmu_reject() says, not at all once @f->hw_stalled is
 * set.  Commands are not executed: they stay in the ring to be checked.
 */
void fake_smmu_hw_start(struct kunit *test, struct fake_smmu *f)
{
	f->hw = true;
	f->hw_cons = f->smmu.cmdq.prod;
	f->hw_cons_reg = f->q_reg;
	f->smmu.cmdq.q.cons_reg = (u32 __iomem __force *)&f->hw_cons_reg;
	kunit_activate_static_stub(test, smmuv3_cmdq_idle, fake_cmdq_idle);
}

/**
 * fake_smmu_reject() - make an instance reject some commands
 * @f: the instance, started with fake_smmu_hw_start()
 * @mask: bits of word 0 to compare; 0 to reject nothing
 * @val: their value in a rejected command
 */
void fake_smmu_reject(struct fake_smmu *f, u64 mask, u64 val)
{
	f->reject_mask = mask;
	f->reject_val = val;
}

/**
 * fake_smmu_fetch_abort() - make an instance's fetch of a command abort once
 * @f: the instance, started with fake_smmu_hw_start()
 * @mask: bits of word 0 to compare
 * @val: their value in the command whose fetch aborts
 *
 * The instance stops at the first such command with CERROR_ABT, as an SMMU
 * whose read of the queue met an external abort, and fetches it again once
 * the error is acknowledged (IHI 0070 7.1, CMDQ_CONS.ERR).
 */
void fake_smmu_fetch_abort(struct fake_smmu *f, u64 mask, u64 val)
{
	f->reject_mask = mask;
	f->reject_val = val;
	f->reject_err = FAKE_CERROR_ABT;
	f->reject_once = true;
}

/**
 * fake_cmds_new() - commands queued since the last fake_expect_cmds()
 * @f: the instance
 *
 * Return: their number.
 */
u64 fake_cmds_new(const struct fake_smmu *f)
{
	return f->smmu.cmdq.prod - f->seen;
}

static void fake_dump_cmds(struct kunit *test, const struct fake_smmu *f,
			   u64 from, u64 to)
{
	struct fake_cmd c;
	u64 pos;

	for (pos = from; pos < to; pos++) {
		fake_cmd_at(f, pos, &c);
		kunit_info(test, "%s: command %llu: %016llx %016llx (op %#04llx)\n",
			   f->smmu.name, pos, c.w0, c.w1, c.w0 & 0xff);
	}
}

/**
 * fake_expect_cmds() - check the commands an instance received
 * @test: the test case
 * @f: the instance
 * @expect: the commands queued since the previous call, in order
 * @num: their number
 *
 * On a mismatch, every new command is logged.
 */
void fake_expect_cmds(struct kunit *test, struct fake_smmu *f,
		      const struct fake_cmd *expect, unsigned int num)
{
	u64 prod = f->smmu.cmdq.prod;
	u64 from = f->seen;
	bool bad = false;
	struct fake_cmd got;
	unsigned int i;

	f->seen = prod;
	/*
	 * Every CMD_SYNC completed and the driver saw exactly the errors the
	 * fake raised.  Rejected commands read as the CMD_SYNCs the driver
	 * replaced them with.
	 */
	KUNIT_EXPECT_EQ_MSG(test, atomic64_read(&f->smmu.cmdq.timeouts), 0,
			    "%s: command queue timeouts", f->smmu.name);
	KUNIT_EXPECT_EQ_MSG(test, f->smmu.cmdq.err_seq,
			    f->rejected - f->fetch_aborts,
			    "%s: command errors recorded (fetch aborts are not errors of the command)",
			    f->smmu.name);
	if (prod - from > BIT(f->smmu.cmdq.q.log2size)) {
		KUNIT_FAIL(test, "%s: %llu commands overran the ring of %u",
			   f->smmu.name, prod - from,
			   1U << f->smmu.cmdq.q.log2size);
		return;
	}
	if (prod - from != num) {
		KUNIT_FAIL(test, "%s: %llu commands queued, expected %u",
			   f->smmu.name, prod - from, num);
		bad = true;
	}
	for (i = 0; i < num && from + i < prod; i++) {
		fake_cmd_at(f, from + i, &got);
		if (got.w0 == expect[i].w0 && got.w1 == expect[i].w1)
			continue;
		KUNIT_FAIL(test,
			   "%s: command %u is %016llx %016llx (op %#04llx), expected %016llx %016llx (op %#04llx)",
			   f->smmu.name, i, got.w0, got.w1, got.w0 & 0xff,
			   expect[i].w0, expect[i].w1, expect[i].w0 & 0xff);
		bad = true;
	}
	if (bad)
		fake_dump_cmds(test, f, from, prod);
}

/* --- Invalidation arrays and domains -------------------------------------- */

KUNIT_DEFINE_ACTION_WRAPPER(fake_kfree, kfree, const void *);

/**
 * fake_invs() - an array holding exactly the given entries
 * @test: the test case
 * @inv: the entries, already in the array's order
 * @num: their number
 *
 * Built without smmuv3_invs_merge(), so that the walkers can be tested on
 * their own.  @num_trash is set from the entries.
 *
 * Return: the array, owned by the caller (see fake_invs_track() and
 * fake_domain_set_invs()).
 */
struct smmuv3_invs *fake_invs(struct kunit *test,
			      const struct smmuv3_inv *inv, unsigned int num)
{
	struct smmuv3_invs *invs = smmuv3_invs_alloc(num);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, invs);
	for (i = 0; i < num; i++) {
		invs->inv[i] = inv[i];
		if (!inv[i].users)
			invs->num_trash++;
	}
	return invs;
}

/**
 * fake_invs_has_ats() - whether an array holds an ATS or ATS_FULL entry
 * @invs: the array
 *
 * Looks at the entries' types only (trash entries included), without the
 * driver's own helpers.
 *
 * Return: true if some entry is of an ATS type.
 */
bool fake_invs_has_ats(const struct smmuv3_invs *invs)
{
	unsigned int i;

	for (i = 0; i < invs->num; i++)
		if (invs->inv[i].type == SMMUV3_INV_ATS ||
		    invs->inv[i].type == SMMUV3_INV_ATS_FULL)
			return true;
	return false;
}

/**
 * fake_invs_track() - free an array when the test case ends
 * @test: the test case
 * @invs: the array (NULL is ignored)
 */
void fake_invs_track(struct kunit *test, struct smmuv3_invs *invs)
{
	if (invs)
		KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, fake_kfree,
								invs), 0);
}

static void fake_domain_release(void *data)
{
	struct smmuv3_domain *domain = data;

	fake_domain_set_invs(domain, NULL);
	mutex_destroy(&domain->mutex);
}

/**
 * fake_domain_create() - a paging domain without a page table
 * @test: the test case, which owns the domain and its array
 * @stage: its stage
 * @pgsize_bitmap: page sizes of its (imaginary) table
 *
 * Return: the domain, with no array.
 */
struct smmuv3_domain *fake_domain_create(struct kunit *test,
					 enum smmuv3_stage stage,
					 unsigned long pgsize_bitmap)
{
	struct smmuv3_domain *domain;

	domain = kunit_kzalloc(test, sizeof(*domain), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, domain);
	domain->stage = stage;
	domain->pgtbl_cfg.pgsize_bitmap = pgsize_bitmap;
	domain->domain.pgsize_bitmap = pgsize_bitmap;
	mutex_init(&domain->mutex);
	RCU_INIT_POINTER(domain->invs, NULL);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							fake_domain_release,
							domain), 0);
	return domain;
}

/**
 * fake_domain_on() - a paging domain owned by an instance, ready to attach
 * @test: the test case
 * @f: the instance that owns it
 * @stage: its stage; the table address is made up (never walked)
 *
 * Return: the domain (FAKE_PGSIZES), with no array.
 */
struct smmuv3_domain *fake_domain_on(struct kunit *test, struct fake_smmu *f,
				     enum smmuv3_stage stage)
{
	struct smmuv3_domain *d = fake_domain_create(test, stage, FAKE_PGSIZES);

	d->owner = &f->smmu;
	d->domain.type = IOMMU_DOMAIN_UNMANAGED;
	d->domain.ops = &smmuv3_paging_ops;
	if (stage == SMMUV3_STAGE_1)
		d->pgtbl_cfg.arm_lpae_s1_cfg.ttbr = 0x1234568000ull;
	else
		d->pgtbl_cfg.arm_lpae_s2_cfg.vttbr = 0x9abcd0000ull;
	return d;
}

/**
 * fake_attach() - attach a master's device as the iommu core would
 * @m: the master
 * @dom: the domain
 *
 * Return: what the domain's attach_dev returned.
 */
int fake_attach(struct smmuv3_master *m, struct iommu_domain *dom)
{
	return smmuv3_call_attach_dev(dom, m->dev, NULL);
}

/**
 * fake_domain_invs() - a domain's current array
 * @domain: the domain
 *
 * Return: the array, or NULL.
 */
struct smmuv3_invs *fake_domain_invs(struct smmuv3_domain *domain)
{
	/* Tests are the only writers, and they wait for nothing. */
	return rcu_dereference_protected(domain->invs, true);
}

/**
 * fake_domain_set_invs() - publish a new array, free the old one
 * @domain: the domain, which owns @invs from now on
 * @invs: the array, or NULL
 *
 * The old array is freed at once: no invalidation runs concurrently.
 */
void fake_domain_set_invs(struct smmuv3_domain *domain,
			  struct smmuv3_invs *invs)
{
	struct smmuv3_invs *old = fake_domain_invs(domain);

	rcu_assign_pointer(domain->invs, invs);
	if (old != invs)
		kfree(old);
}

/* --- Live entry updates --------------------------------------------------- */

/*
 * The writer used by fake_check_update() records the entry at every sync and
 * checks what the SMMU could have seen since the previous one.  The SMMU
 * reads each 64-bit word atomically but the entry as a whole is not: between
 * two syncs it may combine, word by word, the contents from before and after
 * any of the writes.  So every such combination must be, on the bits the old
 * configuration uses, the old entry, or, on the bits the new configuration
 * uses, the new entry; in a break-before-make update it may also be invalid
 * (V == 0), which makes the SMMU abort the traffic.
 */
#define FAKE_ENTRY_MAX_QWORDS	8

struct fake_entry_harness {
	struct smmuv3_entry_writer writer;
	struct smmuv3_entry_writer_ops ops;
	const struct fake_entry_kind *kind;
	struct kunit *test;
	const __le64 *live;
	__le64 prev[FAKE_ENTRY_MAX_QWORDS];
	__le64 old[FAKE_ENTRY_MAX_QWORDS];
	__le64 old_used[FAKE_ENTRY_MAX_QWORDS];
	__le64 target[FAKE_ENTRY_MAX_QWORDS];
	__le64 target_used[FAKE_ENTRY_MAX_QWORDS];
	bool allow_bbm;
	bool saw_invalid;
	unsigned int syncs;
};

static bool fake_entry_equal_on(const struct fake_entry_harness *h,
				const __le64 *a, const __le64 *b,
				const __le64 *used)
{
	unsigned int i;

	for (i = 0; i < h->kind->num_qwords; i++)
		if ((a[i] ^ b[i]) & used[i])
			return false;
	return true;
}

/* What the SMMU may do with @entry: the old or the new config, or abort. */
static bool fake_entry_acceptable(struct fake_entry_harness *h,
				  const __le64 *entry)
{
	if (fake_entry_equal_on(h, entry, h->old, h->old_used) ||
	    fake_entry_equal_on(h, entry, h->target, h->target_used))
		return true;
	if (h->allow_bbm && !(entry[0] & cpu_to_le64(h->kind->v_bit))) {
		h->saw_invalid = true;
		return true;
	}
	return false;
}

static void fake_entry_sync(struct smmuv3_entry_writer *writer)
{
	struct fake_entry_harness *h =
		container_of(writer, struct fake_entry_harness, writer);
	unsigned int changed[FAKE_ENTRY_MAX_QWORDS];
	unsigned int num = h->kind->num_qwords;
	unsigned int nchanged = 0, combo, i;
	struct kunit *test = h->test;
	__le64 mix[FAKE_ENTRY_MAX_QWORDS];

	h->syncs++;
	for (i = 0; i < num; i++)
		if (h->live[i] != h->prev[i])
			changed[nchanged++] = i;
	KUNIT_EXPECT_NE_MSG(test, nchanged, 0,
			    "%s sync %u issued without a change",
			    h->kind->name, h->syncs);

	/* Every word-by-word mix of the previous and the current entry. */
	for (combo = 0; combo < BIT(nchanged); combo++) {
		memcpy(mix, h->prev, sizeof(mix));
		for (i = 0; i < nchanged; i++)
			if (combo & BIT(i))
				mix[changed[i]] = h->live[changed[i]];
		if (fake_entry_acceptable(h, mix))
			continue;
		KUNIT_FAIL(test,
			   "before sync %u the SMMU may see %s %s: %016llx %016llx %016llx %016llx",
			   h->syncs,
			   mix[0] & cpu_to_le64(h->kind->v_bit) ?
			   "neither the old nor the new configuration" :
			   "an unexpected invalid (break-before-make)",
			   h->kind->name,
			   le64_to_cpu(mix[0]), le64_to_cpu(mix[1]),
			   le64_to_cpu(mix[2]), le64_to_cpu(mix[3]));
		break;
	}
	memcpy(h->prev, h->live, sizeof(h->prev));
}

/**
 * fake_check_update() - update an entry and check every step of it
 * @test: the test case
 * @kind: the kind of entry
 * @old: the entry before
 * @target: the entry wanted
 * @expect_syncs: syncs the update should need
 * @expect_bbm: whether it should go through an invalid entry
 *
 * Checks the final entry, the number of syncs (counted by the writer and
 * seen by sync()), that the last write was followed by a sync, that no sync
 * came without a change, and whether the update went through an invalid
 * entry.
 */
void fake_check_update(struct kunit *test, const struct fake_entry_kind *kind,
		       const __le64 *old, const __le64 *target,
		       unsigned int expect_syncs, bool expect_bbm)
{
	struct fake_entry_harness h = {
		.ops = {
			.get_used = kind->get_used,
			.sync = fake_entry_sync,
			.v_bit = kind->v_bit,
		},
		.writer = { .num_qwords = kind->num_qwords },
		.kind = kind,
		.test = test,
		.allow_bbm = expect_bbm,
	};
	size_t bytes = kind->num_qwords * sizeof(__le64);
	__le64 entry[FAKE_ENTRY_MAX_QWORDS] = {};

	KUNIT_ASSERT_LE(test, kind->num_qwords, FAKE_ENTRY_MAX_QWORDS);
	h.writer.ops = &h.ops;
	memcpy(entry, old, bytes);
	memcpy(h.prev, old, bytes);
	memcpy(h.old, old, bytes);
	memcpy(h.target, target, bytes);
	kind->get_used(old, h.old_used);
	kind->get_used(target, h.target_used);
	h.live = entry;

	smmuv3_entry_update(&h.writer, entry, target);

	KUNIT_EXPECT_MEMEQ_MSG(test, entry, target, bytes,
			       "final %s differs from the target", kind->name);
	KUNIT_EXPECT_MEMEQ_MSG(test, entry, h.prev, bytes,
			       "%s written after the last sync", kind->name);
	KUNIT_EXPECT_EQ_MSG(test, h.writer.nr_syncs, expect_syncs,
			    "%s syncs counted by the writer", kind->name);
	KUNIT_EXPECT_EQ_MSG(test, h.syncs, expect_syncs,
			    "%s sync() calls", kind->name);
	KUNIT_EXPECT_EQ_MSG(test, h.saw_invalid, expect_bbm,
			    "%s break-before-make used (invalid entry seen)",
			    kind->name);
}
