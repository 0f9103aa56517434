// SPDX-License-Identifier: GPL-2.0-only
/*
 * A fake SMMUv3 register file that records every access; see fake_regs.h.
 */
#include <kunit/device.h>
#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/device.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/list.h>
#include <linux/slab.h>

#include <smmuv3/smmuv3.h>

#include "fake_regs.h"

/*
 * Accesses after a write of CR0, IRQ_CTRL or GBPA until its Update
 * completes: the first access after the write (typically the driver's
 * first poll) still sees the old value, the second the new one.
 */
#define FAKE_UPDATE_DELAY	2

/* IDR0.ATS [10], IDR0.PRI [16] (6.3.1). */
#define FR_IDR0_ATS		BIT(10)
#define FR_IDR0_PRI		BIT(16)

static u32 fr_addr(const struct fake_regs *f, u32 off)
{
	return f->page0_only && off >= FR_PAGE1 ? off - FR_PAGE1 : off;
}

/**
 * fake_regs_get() - a 32-bit register's current value
 * @f: the fake
 * @off: architected offset
 *
 * Return: the value, as the SMMU holds it (not logged).
 */
u32 fake_regs_get(const struct fake_regs *f, u32 off)
{
	return f->mem[fr_addr(f, off) / 4];
}

/**
 * fake_regs_get64() - a 64-bit register's current value
 * @f: the fake
 * @off: architected offset of its low word
 *
 * Return: the value.
 */
u64 fake_regs_get64(const struct fake_regs *f, u32 off)
{
	return fake_regs_get(f, off) | (u64)fake_regs_get(f, off + 4) << 32;
}

/**
 * fake_regs_set() - give a register a value, as firmware or reset left it
 * @f: the fake
 * @off: architected offset
 * @val: the value (not logged, no side effect)
 */
void fake_regs_set(struct fake_regs *f, u32 off, u32 val)
{
	f->mem[fr_addr(f, off) / 4] = val;
}

/**
 * fake_regs_set_pending() - leave an Update in progress, as firmware may
 * @f: the fake
 * @off: FR_CR0, FR_IRQ_CTRL or FR_GBPA (whose Update bit is then set)
 * @wait: accesses before it completes
 */
void fake_regs_set_pending(struct fake_regs *f, u32 off, unsigned int wait)
{
	switch (off) {
	case FR_CR0:
		f->cr0_wait = wait;
		break;
	case FR_IRQ_CTRL:
		f->irq_wait = wait;
		break;
	case FR_GBPA:
		f->mem[FR_GBPA / 4] |= FR_GBPA_UPDATE;
		f->gbpa_wait = wait;
		break;
	}
}

/* Fields that exist, and so are reflected in CR0ACK (6.3.10). */
static u32 fr_cr0_fields(const struct fake_regs *f)
{
	u32 idr0 = fake_regs_get(f, FR_IDR0);

	return FR_CR0_SMMUEN | FR_CR0_EVTQEN | FR_CR0_CMDQEN |
	       (idr0 & FR_IDR0_PRI ? FR_CR0_PRIQEN : 0) |
	       (idr0 & FR_IDR0_ATS ? FR_CR0_ATSCHK : 0);
}

/* ... and in IRQ_CTRLACK (6.3.17). */
static u32 fr_irq_fields(const struct fake_regs *f)
{
	return FR_IRQ_GERROR | FR_IRQ_EVTQ |
	       (fake_regs_get(f, FR_IDR0) & FR_IDR0_PRI ? FR_IRQ_PRIQ : 0);
}

/* Time passes for the SMMU: pending Updates move towards completion. */
static void fake_regs_tick(struct fake_regs *f)
{
	if (f->cr0_wait && !--f->cr0_wait)
		fake_regs_set(f, FR_CR0ACK,
			      fake_regs_get(f, FR_CR0) & fr_cr0_fields(f));
	if (f->irq_wait && !--f->irq_wait)
		fake_regs_set(f, FR_IRQ_CTRLACK,
			      fake_regs_get(f, FR_IRQ_CTRL) & fr_irq_fields(f));
	if (f->gbpa_wait && !--f->gbpa_wait)
		fake_regs_set(f, FR_GBPA,
			      fake_regs_get(f, FR_GBPA) & ~FR_GBPA_UPDATE);
}

static struct fake_reg_access *fake_regs_log(struct fake_regs *f, u8 kind,
					     u32 off, u32 addr, u64 val,
					     u8 size)
{
	struct fake_reg_access *a;

	if (f->num >= FAKE_REGS_LOG_MAX) {
		f->lost++;
		return NULL;
	}
	a = &f->log[f->num++];
	a->kind = kind;
	a->size = size;
	a->off = off;
	a->addr = addr;
	a->val = val;
	a->cr0 = fake_regs_get(f, FR_CR0);
	a->cr0ack = fake_regs_get(f, FR_CR0ACK);
	a->irq = fake_regs_get(f, FR_IRQ_CTRL);
	a->irqack = fake_regs_get(f, FR_IRQ_CTRLACK);
	return a;
}

/**
 * fake_regs_name() - a register's architected name
 * @off: architected offset
 *
 * Return: the name without "SMMU_", or "?" for an offset the fake does not
 * know.
 */
const char *fake_regs_name(u32 off)
{
	switch (off) {
	case FR_IDR0 ... FR_IDR5: return "IDRn";
	case FR_IIDR: return "IIDR";
	case FR_AIDR: return "AIDR";
	case FR_CR0: return "CR0";
	case FR_CR0ACK: return "CR0ACK";
	case FR_CR1: return "CR1";
	case FR_CR2: return "CR2";
	case FR_STATUSR: return "STATUSR";
	case FR_GBPA: return "GBPA";
	case FR_IRQ_CTRL: return "IRQ_CTRL";
	case FR_IRQ_CTRLACK: return "IRQ_CTRLACK";
	case FR_GERROR: return "GERROR";
	case FR_GERRORN: return "GERRORN";
	case FR_GERROR_IRQ_CFG0: return "GERROR_IRQ_CFG0";
	case FR_GERROR_IRQ_CFG1: return "GERROR_IRQ_CFG1";
	case FR_GERROR_IRQ_CFG2: return "GERROR_IRQ_CFG2";
	case FR_STRTAB_BASE: return "STRTAB_BASE";
	case FR_STRTAB_BASE_CFG: return "STRTAB_BASE_CFG";
	case FR_CMDQ_BASE: return "CMDQ_BASE";
	case FR_CMDQ_PROD: return "CMDQ_PROD";
	case FR_CMDQ_CONS: return "CMDQ_CONS";
	case FR_EVTQ_BASE: return "EVENTQ_BASE";
	case FR_EVTQ_IRQ_CFG0: return "EVENTQ_IRQ_CFG0";
	case FR_EVTQ_IRQ_CFG1: return "EVENTQ_IRQ_CFG1";
	case FR_EVTQ_IRQ_CFG2: return "EVENTQ_IRQ_CFG2";
	case FR_PRIQ_BASE: return "PRIQ_BASE";
	case FR_PRIQ_IRQ_CFG0: return "PRIQ_IRQ_CFG0";
	case FR_PRIQ_IRQ_CFG1: return "PRIQ_IRQ_CFG1";
	case FR_PRIQ_IRQ_CFG2: return "PRIQ_IRQ_CFG2";
	case FR_EVTQ_PROD: return "EVENTQ_PROD";
	case FR_EVTQ_CONS: return "EVENTQ_CONS";
	case FR_PRIQ_PROD: return "PRIQ_PROD";
	case FR_PRIQ_CONS: return "PRIQ_CONS";
	default: return "?";
	}
}

/*
 * What an SMMUv3.2 does with a write: NULL if it takes effect, else why it
 * is ignored.  @cr0 and @irq are the guards: the register's value or its
 * ACK's, whichever is 1 (a field being Updated counts as its old value
 * too, 6.3.9).
 */
static const char *fake_regs_refuse(struct fake_regs *f, u32 off, u32 val)
{
	u32 cr0 = fake_regs_get(f, FR_CR0) | fake_regs_get(f, FR_CR0ACK);
	u32 irq = fake_regs_get(f, FR_IRQ_CTRL) |
		  fake_regs_get(f, FR_IRQ_CTRLACK);
	u32 changed;

	switch (off) {
	case FR_IDR0 ... FR_AIDR:
	case FR_CR0ACK:
	case FR_STATUSR:
	case FR_IRQ_CTRLACK:
	case FR_GERROR:
		return "read-only register (6.3)";
	case FR_CR0:
		if (f->cr0_wait && val != fake_regs_get(f, FR_CR0))
			return "CR0 changed again before its Update completed (6.3.9)";
		return NULL;
	case FR_IRQ_CTRL:
		if (f->irq_wait && val != fake_regs_get(f, FR_IRQ_CTRL))
			return "IRQ_CTRL changed again before its Update completed (6.3.16)";
		return NULL;
	case FR_GBPA:
		if (fake_regs_get(f, FR_GBPA) & FR_GBPA_UPDATE)
			return "GBPA written while Update is 1 (6.3.14.1)";
		if (!(val & FR_GBPA_UPDATE))
			return "GBPA written without Update = 1 (6.3.14.1)";
		return NULL;
	case FR_CR1:
		changed = val ^ fake_regs_get(f, FR_CR1);
		/* TABLE_* [11:6] Guarded by SMMUEN, QUEUE_* [5:0] by the queues */
		if ((changed & 0xfc0) && (cr0 & FR_CR0_SMMUEN))
			return "CR1.TABLE_* changed while SMMUEN is 1 (6.3.11.1)";
		if ((changed & 0x3f) &&
		    (cr0 & (FR_CR0_CMDQEN | FR_CR0_EVTQEN | FR_CR0_PRIQEN)))
			return "CR1.QUEUE_* changed while a queue is enabled (6.3.11.2)";
		return NULL;
	case FR_CR2:
		return cr0 & FR_CR0_SMMUEN ?
		       "CR2 written while SMMUEN is 1 (6.3.12)" : NULL;
	case FR_STRTAB_BASE:
	case FR_STRTAB_BASE + 4:
	case FR_STRTAB_BASE_CFG:
		return cr0 & FR_CR0_SMMUEN ?
		       "STRTAB_* written while SMMUEN is 1 (6.3.24, 6.3.25)" : NULL;
	case FR_CMDQ_BASE:
	case FR_CMDQ_BASE + 4:
	case FR_CMDQ_CONS:
		return cr0 & FR_CR0_CMDQEN ?
		       "CMDQ_BASE/CONS written while CMDQEN is 1 (6.3.26, 6.3.28)" : NULL;
	case FR_EVTQ_BASE:
	case FR_EVTQ_BASE + 4:
	case FR_EVTQ_PROD:
		return cr0 & FR_CR0_EVTQEN ?
		       "EVENTQ_BASE/PROD written while EVENTQEN is 1 (6.3.29)" : NULL;
	case FR_PRIQ_BASE:
	case FR_PRIQ_BASE + 4:
	case FR_PRIQ_PROD:
		return cr0 & FR_CR0_PRIQEN ?
		       "PRIQ_BASE/PROD written while PRIQEN is 1 (6.3.9.5)" : NULL;
	case FR_GERROR_IRQ_CFG0 ... FR_GERROR_IRQ_CFG2:
		return irq & FR_IRQ_GERROR ?
		       "GERROR_IRQ_CFGn written while GERROR_IRQEN is 1 (6.3.21)" : NULL;
	case FR_EVTQ_IRQ_CFG0 ... FR_EVTQ_IRQ_CFG2:
		return irq & FR_IRQ_EVTQ ?
		       "EVENTQ_IRQ_CFGn written while EVENTQ_IRQEN is 1 (6.3.30)" : NULL;
	case FR_PRIQ_IRQ_CFG0 ... FR_PRIQ_IRQ_CFG2:
		return irq & FR_IRQ_PRIQ ?
		       "PRIQ_IRQ_CFGn written while PRIQ_IRQEN is 1 (6.3.21)" : NULL;
	case FR_GERRORN:
	case FR_CMDQ_PROD:
	case FR_EVTQ_CONS:
	case FR_PRIQ_CONS:
		return NULL;
	default:
		return "no register at this offset";
	}
}

static void fake_regs_store(struct fake_regs *f, u32 off, u64 val,
			    unsigned int size)
{
	switch (off) {
	case FR_CR0:
		f->cr0_wait = FAKE_UPDATE_DELAY;
		break;
	case FR_IRQ_CTRL:
		f->irq_wait = FAKE_UPDATE_DELAY;
		break;
	case FR_GBPA:
		f->gbpa_wait = FAKE_UPDATE_DELAY;
		break;
	}
	fake_regs_set(f, off, lower_32_bits(val));
	if (size == 8)
		fake_regs_set(f, off + 4, upper_32_bits(val));
}

/* The architected register at an offset of the fake's 128 KiB. */
static u32 fr_off_of(const struct fake_regs *f, u32 addr)
{
	if (f->page0_only && addr < FR_PAGE1 &&
	    (addr == 0xa8 || addr == 0xac || addr == 0xc8 || addr == 0xcc))
		return FR_PAGE1 + addr;
	return addr;
}

/* Where the driver's access landed, as smmuv3_reg_read() computes it. */
static u32 fr_driver_addr(struct fake_regs *f, u32 off)
{
	struct smmuv3_device *smmu = &f->smmu;
	void __iomem *p = off >= FR_PAGE1 ? smmu->page1 + off - FR_PAGE1 :
					    smmu->base + off;

	return p - smmu->base;
}

static u32 fake_reg_read(struct smmuv3_device *smmu, u32 off)
{
	struct fake_regs *f = container_of(smmu, struct fake_regs, smmu);
	u32 addr = fr_driver_addr(f, off);
	u32 val;

	fake_regs_tick(f);
	if (addr > SZ_128K - 4) {
		KUNIT_FAIL(f->test, "read outside the register pages: %#x", off);
		return 0;
	}
	val = f->mem[addr / 4];
	fake_regs_log(f, FAKE_REG_READ, fr_off_of(f, addr), addr, val, 4);
	return val;
}

static void fake_reg_write(struct smmuv3_device *smmu, u32 off, u64 val,
			   unsigned int size)
{
	struct fake_regs *f = container_of(smmu, struct fake_regs, smmu);
	u32 addr = fr_driver_addr(f, off);
	struct fake_reg_access *a;
	const char *refused;

	fake_regs_tick(f);
	if (addr > SZ_128K - size || (size != 4 && size != 8) ||
	    (addr & (size - 1))) {
		KUNIT_FAIL(f->test, "bad register write: %#x size %u", off, size);
		return;
	}
	off = fr_off_of(f, addr);
	a = fake_regs_log(f, FAKE_REG_WRITE, off, addr, val, size);
	refused = fake_regs_refuse(f, off, lower_32_bits(val));
	if (!refused && size == 8)
		refused = fake_regs_refuse(f, off + 4, upper_32_bits(val));
	if (a)
		a->ignored = refused;
	if (!refused)
		fake_regs_store(f, off, val, size);
}

/*
 * The driver waits for its commands: the SMMU consumes them while
 * CR0ACK.CMDQEN is 1, from the queue CMDQ_BASE describes (which must be
 * the driver's own queue: anything else would be read from memory the
 * fake does not have).
 */
static void fake_regs_idle(struct smmuv3_device *smmu)
{
	struct fake_regs *f = container_of(smmu, struct fake_regs, smmu);
	u64 base = fake_regs_get64(f, FR_CMDQ_BASE);
	u32 log2 = base & 0x1f;	/* LOG2SIZE [4:0] */
	u32 mask = (2U << log2) - 1;
	struct fake_reg_access *a;
	const __le64 *ent;
	u32 prod, cons;

	fake_regs_tick(f);
	if (!(fake_regs_get(f, FR_CR0ACK) & FR_CR0_CMDQEN))
		return;
	prod = fake_regs_get(f, FR_CMDQ_PROD) & mask;
	cons = fake_regs_get(f, FR_CMDQ_CONS) & mask;
	/* ADDR [55:5] */
	if ((base & GENMASK_ULL(55, 5)) != smmu->cmdq.q.dma ||
	    log2 != smmu->cmdq.q.log2size)
		return;
	while (cons != prod) {
		ent = smmu->cmdq.q.base + (cons & (BIT(log2) - 1)) * 2;
		a = fake_regs_log(f, FAKE_REG_CMD, FR_CMDQ_CONS,
				  FR_CMDQ_CONS, le64_to_cpu(ent[0]), 16);
		if (a)
			a->val1 = le64_to_cpu(ent[1]);
		cons = (cons + 1) & mask;
	}
	fake_regs_set(f, FR_CMDQ_CONS, cons);
}

/* No IORT RMR nodes. */
static void fake_regs_rmr_get(struct smmuv3_device *smmu,
			      struct list_head *list)
{
}

static void fake_regs_rmr_put(struct smmuv3_device *smmu,
			      struct list_head *list)
{
}

static void fake_regs_free_irqs(void *data)
{
	struct fake_regs *f = data;

	irq_free_descs(f->irqs[0], ARRAY_SIZE(f->irqs));
}

/* Three interrupts that can be requested and never fire. */
static void fake_regs_irqs(struct kunit *test, struct fake_regs *f)
{
	int base, i;

	base = irq_alloc_descs(-1, 1, ARRAY_SIZE(f->irqs), NUMA_NO_NODE);
	KUNIT_ASSERT_GT(test, base, 0);
	for (i = 0; i < ARRAY_SIZE(f->irqs); i++)
		f->irqs[i] = base + i;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							fake_regs_free_irqs,
							f), 0);
	for (i = 0; i < ARRAY_SIZE(f->irqs); i++) {
		irq_set_chip_and_handler(base + i, &dummy_irq_chip,
					 handle_simple_irq);
		irq_modify_status(base + i, IRQ_NOREQUEST | IRQ_NOPROBE, 0);
	}
}

static void fake_regs_stall_stop(void *smmu)
{
	smmuv3_stall_stop(smmu);
}

/**
 * fake_regs_create() - an instance whose registers are a recording fake
 * @test: the test case, which owns everything
 * @page0_only: the implementation has its page-1 registers in page 0
 *	(the driver's SMMUV3_OPT_PAGE0_ONLY is set, as firmware would)
 *
 * The registers are all zero; the caller sets the ID registers and what
 * firmware left.  The instance has a KUnit device (for its DMA memory,
 * devres and interrupts), three requestable interrupts in @irqs, no IORT
 * RMR, and is ready for smmuv3_hw_probe().  The stubs are active until
 * the device is gone.
 *
 * Return: the fake; the test case is aborted if memory is short.
 */
struct fake_regs *fake_regs_create(struct kunit *test, bool page0_only)
{
	static atomic_t seq = ATOMIC_INIT(0);
	struct smmuv3_device *smmu;
	struct fake_regs *f;
	char name[32];

	f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, f);
	f->mem = kunit_kzalloc(test, SZ_128K, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, f->mem);
	f->log = kunit_kcalloc(test, FAKE_REGS_LOG_MAX, sizeof(*f->log),
			       GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, f->log);
	f->test = test;
	f->page0_only = page0_only;

	/* Before the device: they must outlive its devres (MSI teardown). */
	kunit_activate_static_stub(test, smmuv3_reg_read, fake_reg_read);
	kunit_activate_static_stub(test, smmuv3_reg_write, fake_reg_write);
	kunit_activate_static_stub(test, smmuv3_cmdq_idle, fake_regs_idle);
	kunit_activate_static_stub(test, smmuv3_rmr_get, fake_regs_rmr_get);
	kunit_activate_static_stub(test, smmuv3_rmr_put, fake_regs_rmr_put);
	fake_regs_irqs(test, f);

	smmu = &f->smmu;
	snprintf(name, sizeof(name), "smmuv3-regs%d", atomic_inc_return(&seq));
	smmu->dev = kunit_device_register(test, name);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, smmu->dev);
	dev_set_drvdata(smmu->dev, smmu);
	strscpy(smmu->name, name, sizeof(smmu->name));
	smmu->base = (void __iomem __force *)f->mem;
	smmu->page1 = page0_only ? smmu->base : smmu->base + FR_PAGE1;
	if (page0_only)
		smmu->options |= SMMUV3_OPT_PAGE0_ONLY;
	smmu->streams = RB_ROOT;
	mutex_init(&smmu->streams_mutex);
	raw_spin_lock_init(&smmu->gerror_lock);
	smmuv3_stall_init(smmu);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, fake_regs_stall_stop,
							smmu), 0);
	INIT_LIST_HEAD(&smmu->node);
	return f;
}

static const char * const fake_kind_names[] = {
	[FAKE_REG_WRITE] = "write",
	[FAKE_REG_READ] = "read ",
	[FAKE_REG_CMD] = "cmd  ",
};

/**
 * fake_regs_dump() - log a range of the accesses
 * @test: the test case
 * @f: the fake
 * @from: first entry
 * @to: entry after the last
 */
void fake_regs_dump(struct kunit *test, const struct fake_regs *f,
		    unsigned int from, unsigned int to)
{
	unsigned int i;

	for (i = from; i < min(to, f->num); i++) {
		const struct fake_reg_access *a = &f->log[i];

		if (a->kind == FAKE_REG_CMD) {
			kunit_info(test, "%3u cmd   %016llx %016llx (op %#04llx)\n",
				   i, a->val, a->val1, a->val & 0xff);
			continue;
		}
		kunit_info(test, "%3u %s %-16s %#7x = %#llx (%u) [CR0 %#x/%#x IRQ %#x/%#x]%s%s\n",
			   i, fake_kind_names[a->kind], fake_regs_name(a->off),
			   a->addr, a->val, a->size, a->cr0, a->cr0ack, a->irq,
			   a->irqack, a->ignored ? " IGNORED: " : "",
			   a->ignored ?: "");
	}
	if (f->lost)
		kunit_info(test, "%u accesses not recorded\n", f->lost);
}
