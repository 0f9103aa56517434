/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fakes shared by the KUnit suites of smmuv3_kunit.ko:
 *
 * - SMMU instances without hardware.  The command queue is a ring in memory
 *   whose PROD and CONS registers are the same word, so the "SMMU" has
 *   consumed every command the moment PROD is written, and every CMD_SYNC
 *   completes at once.  The commands stay in the ring, in order, at
 *   positions 0..cmdq.prod - 1 (modulo the ring size), for the test to read.
 *   After fake_smmu_hw_start(), an instance has a CONS register of its own
 *   instead, and plays the SMMU whenever the driver waits between two
 *   reads of it: it consumes commands, stops at one it was told to reject
 *   with GERROR.CMDQ_ERR and CONS.ERR = CERROR_ILL, as an SMMU does, goes
 *   on once the error is acknowledged (GERRORN), or never moves (stalled).
 * - Paging domains with an RCU-published invalidation array.
 * - A checker of live entry updates (STEs, CDs): a writer whose sync
 *   verifies that nothing the SMMU could read between two syncs is torn.
 * - For attach tests: an instance's stream table, in DMA memory of a KUnit
 *   device standing in for the SMMU, and masters (client devices) whose
 *   struct device leads to them as the iommu core's would.
 *
 * Everything is released when the test case ends, passed or not (KUnit
 * deferred actions and managed allocations).
 */
#ifndef SMMUV3_TESTS_FAKE_SMMU_H
#define SMMUV3_TESTS_FAKE_SMMU_H

#include <kunit/test.h>
#include <linux/array_size.h>
#include <linux/sizes.h>
#include <linux/types.h>

#include <smmuv3/smmuv3.h>

/**
 * struct fake_smmu - an SMMU instance without hardware
 * @smmu: what the code under test gets
 * @q_reg: the command queue's PROD and CONS register at once
 * @regs: stands in for register page 0, all zero (no global error): a
 *	wait that does not complete polls GERROR here and times out
 * @seen: position up to which fake_expect_cmds() has checked the ring
 * @hw: the instance plays the SMMU (fake_smmu_hw_start())
 * @hw_stalled: it consumes nothing any more
 * @hw_cons_reg: its CONS register (index, wrap and ERR), when @hw
 * @hw_cons: absolute position of the next command it consumes
 * @reject_mask: it rejects commands whose word 0, masked with this, ...
 * @reject_val: ... equals this (no command is rejected while the mask is 0)
 * @reject_err: the CMDQ_CONS.ERR it reports (0: FAKE_CERROR_ILL)
 * @reject_once: the mask is cleared at the first rejection
 * @rejected: commands it rejected
 * @fetch_aborts: of them, those whose fetch it aborted (CERROR_ABT)
 * @rejected_cmd: the last one, as it was in the ring
 */
struct fake_smmu {
	struct smmuv3_device smmu;
	u32 q_reg;
	u32 regs[SMMUV3_GERRORN / 4 + 1];
	u64 seen;
	bool hw;
	bool hw_stalled;
	u32 hw_cons_reg;
	u64 hw_cons;
	u64 reject_mask;
	u64 reject_val;
	u32 reject_err;
	bool reject_once;
	u64 rejected;
	u64 fetch_aborts;
	struct {
		u64 w0;
		u64 w1;
	} rejected_cmd;
};

struct fake_smmu *fake_smmu_create(struct kunit *test, const char *name,
				   u32 flags, u8 id_bits,
				   unsigned int log2size);
void fake_smmus_create_sorted(struct kunit *test, struct fake_smmu **out,
			      unsigned int num, u32 flags, u8 id_bits,
			      unsigned int log2size);
struct fake_smmu *fake_smmu_create_mmio(struct kunit *test, u32 flags);

/* A command as the ring holds it, in CPU order. */
struct fake_cmd {
	u64 w0;
	u64 w1;
};

void fake_smmu_add_strtab(struct kunit *test, struct fake_smmu *f,
			  u8 sid_bits);
struct smmuv3_master *fake_master_create(struct kunit *test,
					 struct fake_smmu *f, const u32 *sids,
					 unsigned int num);

void fake_smmu_hw_start(struct kunit *test, struct fake_smmu *f);
void fake_smmu_reject(struct fake_smmu *f, u64 mask, u64 val);
void fake_smmu_fetch_abort(struct fake_smmu *f, u64 mask, u64 val);

/* CMDQ_CONS.ERR codes (IHI 0070 7.1): illegal command, fetch abort. */
#define FAKE_CERROR_ILL		1
#define FAKE_CERROR_ABT		2

void fake_cmd_at(const struct fake_smmu *f, u64 pos, struct fake_cmd *cmd);
u64 fake_cmds_new(const struct fake_smmu *f);
void fake_expect_cmds(struct kunit *test, struct fake_smmu *f,
		      const struct fake_cmd *expect, unsigned int num);

/*
 * Expected commands, encoded here with the field positions of IHI 0070
 * chapter 4 written out, independently of regs.h and cmd.c:
 *
 *  word 0: opcode [7:0], ATC Global [9], SSV [11], SSID [31:12] or NUM
 *	[16:12] and SCALE [24:20], SID [63:32] or VMID [47:32], ASID [63:48]
 *  word 1: Leaf [0], TG [11:10], ATC Size [5:0], address [63:12] (VA) or
 *	[51:12] (IPA)
 *
 * TG = 0 is a command without range: NUM and SCALE must then be 0.
 */
#define FAKE_CMD_SYNC			{ 0x46, 0 }
#define FAKE_CFGI_STE(sid)		{ 0x03 | (u64)(sid) << 32, 1 }
#define FAKE_CFGI_CD(sid, ssid, leaf)					\
	{ 0x05 | (u64)(ssid) << 12 | (u64)(sid) << 32, (u64)(leaf) }
#define FAKE_TLBI_NH_ALL(vmid)		{ 0x10 | (u64)(vmid) << 32, 0 }
#define FAKE_TLBI_NH_ASID(asid)		{ 0x11 | (u64)(asid) << 48, 0 }
#define FAKE_TLBI_NH_ASID_VMID(vmid, asid)				\
	{ 0x11 | (u64)(vmid) << 32 | (u64)(asid) << 48, 0 }
#define FAKE_TLBI_S12_VMALL(vmid)	{ 0x28 | (u64)(vmid) << 32, 0 }
#define FAKE_TLBI_NH_VA(asid, addr, num, scale, tg, leaf)		\
	{ 0x12 | (u64)(num) << 12 | (u64)(scale) << 20 |		\
	  (u64)(asid) << 48,						\
	  (u64)(addr) | (u64)(tg) << 10 | (u64)(leaf) }
#define FAKE_TLBI_S2_IPA(vmid, addr, num, scale, tg, leaf)		\
	{ 0x2a | (u64)(num) << 12 | (u64)(scale) << 20 |		\
	  (u64)(vmid) << 32,						\
	  (u64)(addr) | (u64)(tg) << 10 | (u64)(leaf) }
#define FAKE_ATC_INV(sid, ssid, ssv, size)				\
	{ 0x40 | (u64)(ssv) << 11 | (u64)(ssid) << 12 | (u64)(sid) << 32, \
	  (u64)(size) }
/* ATC_INV of 2^size 4KiB pages at addr (aligned to that span), [63:12] */
#define FAKE_ATC_INV_RANGE(sid, ssid, ssv, addr, size)			\
	{ 0x40 | (u64)(ssv) << 11 | (u64)(ssid) << 12 | (u64)(sid) << 32, \
	  (u64)(addr) | (u64)(size) }

/* Check the commands an instance received since the last check. */
#define FAKE_EXPECT_CMDS(test, f, ...)					\
	do {								\
		const struct fake_cmd __expect[] = { __VA_ARGS__ };	\
									\
		fake_expect_cmds(test, f, __expect,			\
				 ARRAY_SIZE(__expect));			\
	} while (0)
#define FAKE_EXPECT_NO_CMDS(test, f)	fake_expect_cmds(test, f, NULL, 0)

/* An entry of an invalidation array. */
#define FAKE_INV(f, t, i, s, u)						\
	((struct smmuv3_inv){ .smmu = &(f)->smmu, .type = (t), .id = (i),  \
			      .ssid = (s), .users = (u) })

struct smmuv3_invs *fake_invs(struct kunit *test,
			      const struct smmuv3_inv *inv, unsigned int num);
void fake_invs_track(struct kunit *test, struct smmuv3_invs *invs);
bool fake_invs_has_ats(const struct smmuv3_invs *invs);

struct smmuv3_domain *fake_domain_create(struct kunit *test,
					 enum smmuv3_stage stage,
					 unsigned long pgsize_bitmap);
/* Page sizes of the domains fake_domain_on() makes (4 KiB granule). */
#define FAKE_PGSIZES	(SZ_4K | SZ_2M | SZ_1G)
struct smmuv3_domain *fake_domain_on(struct kunit *test, struct fake_smmu *f,
				     enum smmuv3_stage stage);
int fake_attach(struct smmuv3_master *m, struct iommu_domain *dom);
void fake_domain_set_invs(struct smmuv3_domain *domain,
			  struct smmuv3_invs *invs);
struct smmuv3_invs *fake_domain_invs(struct smmuv3_domain *domain);

/**
 * struct fake_entry_kind - a kind of entry that smmuv3_entry_update() writes
 * @name: for messages ("STE", "CD")
 * @num_qwords: its size
 * @get_used: the driver's get_used()
 * @v_bit: the valid bit in word 0
 */
struct fake_entry_kind {
	const char *name;
	unsigned int num_qwords;
	void (*get_used)(const __le64 *entry, __le64 *used);
	u64 v_bit;
};

void fake_check_update(struct kunit *test, const struct fake_entry_kind *kind,
		       const __le64 *old, const __le64 *target,
		       unsigned int expect_syncs, bool expect_bbm);

/*
 * TLB invalidations by address with a level hint: TTL in word 1 [9:8]
 * (IHI 0070 4.4.1.1), the level of the leaf entries invalidated (3: the
 * granule's pages, 2: the blocks one level up, ...; 0: no hint).  A hint
 * needs a range (TG != 0); with it, NUM = SCALE = 0 is a range of one
 * granule.  The other fields as in FAKE_TLBI_NH_VA and FAKE_TLBI_S2_IPA.
 */
#define FAKE_TLBI_NH_VA_TTL(asid, addr, num, scale, tg, ttl, leaf)	\
	{ 0x12 | (u64)(num) << 12 | (u64)(scale) << 20 |		\
	  (u64)(asid) << 48,						\
	  (u64)(addr) | (u64)(tg) << 10 | (u64)(ttl) << 8 | (u64)(leaf) }
#define FAKE_TLBI_S2_IPA_TTL(vmid, addr, num, scale, tg, ttl, leaf)	\
	{ 0x2a | (u64)(num) << 12 | (u64)(scale) << 20 |		\
	  (u64)(vmid) << 32,						\
	  (u64)(addr) | (u64)(tg) << 10 | (u64)(ttl) << 8 | (u64)(leaf) }

#endif /* SMMUV3_TESTS_FAKE_SMMU_H */
