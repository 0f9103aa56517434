/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A fake SMMUv3 register file for the KUnit suite of the probe, reset and
 * teardown sequences (probe_test.c).
 *
 * The driver reaches those registers through smmuv3_reg_read() and
 * smmuv3_reg_write() (probe.c); static stubs send them here.  The fake
 * keeps the two register pages in memory, records every access in order
 * (offset, value, width, the CR0/CR0ACK and IRQ_CTRL/IRQ_CTRLACK state at
 * that moment) and behaves as IHI 0070 chapter 6 says an SMMUv3.2 does:
 *
 *  - a write to SMMU_CR0 or SMMU_IRQ_CTRL is Updated a little later: its
 *    ACK register shows the new value (implemented fields only) from the
 *    second access after the write on; a second change before that is
 *    ignored (6.3.9, 6.3.16);
 *  - SMMU_GBPA is written only with Update = 1 and only while Update is
 *    0; Update clears a little later (6.3.14.1);
 *  - a Guarded register written while its guard is 1 (in CR0 or CR0ACK,
 *    IRQ_CTRL or IRQ_CTRLACK) ignores the write: STRTAB_* and CR2 and
 *    CR1.TABLE_* by SMMUEN, CR1.QUEUE_* by every queue enable, CMDQ_BASE
 *    and CMDQ_CONS by CMDQEN, EVENTQ_BASE and EVENTQ_PROD by EVENTQEN,
 *    PRIQ_BASE and PRIQ_PROD by PRIQEN, each *_IRQ_CFG{0,1,2} by its
 *    IRQEN (6.3.11, 6.3.12, 6.3.21, 6.3.24, 6.3.26, 6.3.28, 6.3.29);
 *  - ID registers, CR0ACK, IRQ_CTRLACK and GERROR are read-only;
 *  - commands are consumed, and recorded, only while CR0ACK.CMDQEN is 1
 *    (6.3.9.3), whenever the driver waits for them (a static stub of
 *    smmuv3_cmdq_idle()).
 *
 * Every ignored write is recorded with the reason, for the test to report.
 * Register offsets and fields here are written out from IHI 0070, not
 * taken from regs.h.
 */
#ifndef SMMUV3_TESTS_FAKE_REGS_H
#define SMMUV3_TESTS_FAKE_REGS_H

#include <kunit/test.h>
#include <linux/sizes.h>
#include <linux/types.h>

#include <smmuv3/smmuv3.h>

/* Register offsets (IHI 0070 6.2); page 1 registers at 0x10000 + offset. */
#define FR_IDR0			0x00
#define FR_IDR1			0x04
#define FR_IDR2			0x08
#define FR_IDR3			0x0c
#define FR_IDR4			0x10
#define FR_IDR5			0x14
#define FR_IIDR			0x18
#define FR_AIDR			0x1c
#define FR_CR0			0x20
#define FR_CR0ACK		0x24
#define FR_CR1			0x28
#define FR_CR2			0x2c
#define FR_STATUSR		0x40
#define FR_GBPA			0x44
#define FR_IRQ_CTRL		0x50
#define FR_IRQ_CTRLACK		0x54
#define FR_GERROR		0x60
#define FR_GERRORN		0x64
#define FR_GERROR_IRQ_CFG0	0x68
#define FR_GERROR_IRQ_CFG1	0x70
#define FR_GERROR_IRQ_CFG2	0x74
#define FR_STRTAB_BASE		0x80
#define FR_STRTAB_BASE_CFG	0x88
#define FR_CMDQ_BASE		0x90
#define FR_CMDQ_PROD		0x98
#define FR_CMDQ_CONS		0x9c
#define FR_EVTQ_BASE		0xa0
#define FR_EVTQ_IRQ_CFG0	0xb0
#define FR_EVTQ_IRQ_CFG1	0xb8
#define FR_EVTQ_IRQ_CFG2	0xbc
#define FR_PRIQ_BASE		0xc0
#define FR_PRIQ_IRQ_CFG0	0xd0
#define FR_PRIQ_IRQ_CFG1	0xd8
#define FR_PRIQ_IRQ_CFG2	0xdc
#define FR_PAGE1		0x10000
#define FR_EVTQ_PROD		(FR_PAGE1 + 0xa8)
#define FR_EVTQ_CONS		(FR_PAGE1 + 0xac)
#define FR_PRIQ_PROD		(FR_PAGE1 + 0xc8)
#define FR_PRIQ_CONS		(FR_PAGE1 + 0xcc)

/* SMMU_CR0 / CR0ACK fields (6.3.9, 6.3.10). */
#define FR_CR0_SMMUEN		BIT(0)
#define FR_CR0_PRIQEN		BIT(1)
#define FR_CR0_EVTQEN		BIT(2)
#define FR_CR0_CMDQEN		BIT(3)
#define FR_CR0_ATSCHK		BIT(4)
/* SMMU_IRQ_CTRL / IRQ_CTRLACK fields (6.3.16, 6.3.17). */
#define FR_IRQ_GERROR		BIT(0)
#define FR_IRQ_PRIQ		BIT(1)
#define FR_IRQ_EVTQ		BIT(2)
/* SMMU_GBPA (6.3.14). */
#define FR_GBPA_UPDATE		BIT(31)
#define FR_GBPA_ABORT		BIT(20)

/**
 * enum fake_reg_kind - what an entry of the log records
 * @FAKE_REG_WRITE: a register write
 * @FAKE_REG_READ: a register read, with the value it returned
 * @FAKE_REG_CMD: a command the SMMU consumed from the command queue
 */
enum fake_reg_kind {
	FAKE_REG_WRITE,
	FAKE_REG_READ,
	FAKE_REG_CMD,
};

/**
 * struct fake_reg_access - one entry of the log
 * @kind: enum fake_reg_kind
 * @size: access width in bytes (4 or 8)
 * @off: architected offset (page 1 registers: FR_PAGE1 + offset)
 * @addr: offset of the access in the fake's 128 KiB, as the driver made it
 *	(differs from @off for page 1 registers of a page-0-only SMMU)
 * @val: value written or read; a command's word 0
 * @val1: a command's word 1
 * @ignored: why the SMMU ignored this write (NULL: it took effect)
 * @cr0: SMMU_CR0 when the access was made
 * @cr0ack: SMMU_CR0ACK then
 * @irq: SMMU_IRQ_CTRL then
 * @irqack: SMMU_IRQ_CTRLACK then
 */
struct fake_reg_access {
	u8 kind;
	u8 size;
	u32 off;
	u32 addr;
	u64 val;
	u64 val1;
	const char *ignored;
	u32 cr0;
	u32 cr0ack;
	u32 irq;
	u32 irqack;
};

#define FAKE_REGS_LOG_MAX	1024

/**
 * struct fake_regs - an SMMU instance whose registers are a fake
 * @smmu: what the driver gets; @smmu.base and @smmu.page1 point into @mem
 * @test: the test case
 * @mem: the two register pages, as 32-bit words
 * @page0_only: the page-1 registers are at their offsets in page 0
 * @cr0_wait: accesses left before the pending SMMU_CR0 write is Updated
 *	(0: none pending)
 * @irq_wait: the same for SMMU_IRQ_CTRL
 * @gbpa_wait: the same for SMMU_GBPA.Update
 * @log: every access, in order
 * @num: entries used in @log
 * @lost: accesses that did not fit in @log
 * @irqs: three requestable interrupts, for wired interrupts or MSIs
 */
struct fake_regs {
	struct smmuv3_device smmu;
	struct kunit *test;
	u32 *mem;
	bool page0_only;
	unsigned int cr0_wait;
	unsigned int irq_wait;
	unsigned int gbpa_wait;
	struct fake_reg_access *log;
	unsigned int num;
	unsigned int lost;
	int irqs[3];
};

struct fake_regs *fake_regs_create(struct kunit *test, bool page0_only);
u32 fake_regs_get(const struct fake_regs *f, u32 off);
u64 fake_regs_get64(const struct fake_regs *f, u32 off);
void fake_regs_set(struct fake_regs *f, u32 off, u32 val);
void fake_regs_set_pending(struct fake_regs *f, u32 off, unsigned int wait);
const char *fake_regs_name(u32 off);
void fake_regs_dump(struct kunit *test, const struct fake_regs *f,
		    unsigned int from, unsigned int to);

#endif /* SMMUV3_TESTS_FAKE_REGS_H */
