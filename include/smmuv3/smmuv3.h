/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * smmuv3: an out-of-tree Arm SMMUv3 driver - shared driver structures.
 *
 * One struct smmuv3_device per SMMU instance; one struct smmuv3_master per
 * client device (a PCI function or platform device) with its stream IDs.
 * Each .c file in module/ owns one responsibility and documents the locking
 * of the structures it manages here.  One section per subsystem: its
 * structures, then the functions of its files; the structures are
 * declared ahead where another section's prototypes name them.  The
 * invalidation arrays and IOTLB tag entries are in invs.h, register and
 * table layouts in regs.h, kernel-version differences in compat.h.
 */
#ifndef SMMUV3_SMMUV3_H
#define SMMUV3_SMMUV3_H

#include <linux/bitfield.h>
#include <linux/idr.h>
#include <linux/kref.h>
#include <linux/io-pgtable.h>
#include <linux/iommu.h>
#include <linux/iommufd.h>
#include <linux/mutex.h>
#include <linux/pci_regs.h>
#include <linux/rbtree.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include <smmuv3/compat.h>
#include <smmuv3/invs.h>
#include <smmuv3/regs.h>

struct dentry;
struct io_pgtable_ops;
struct smmuv3_attach;
struct smmuv3_device;
struct smmuv3_domain;
struct smmuv3_master;
struct smmuv3_nested;
struct smmuv3_viommu;
struct platform_device;
struct seq_file;

/* --- Features (features.c) --------------------------------------------- */

/* Feature flags decoded from the ID registers and firmware. */
#define SMMUV3_FEAT_S1			BIT(0)	/* stage-1 translation */
#define SMMUV3_FEAT_S2			BIT(1)	/* stage-2 translation */
#define SMMUV3_FEAT_COHERENT		BIT(2)	/* coherent table walks and queues */
#define SMMUV3_FEAT_2LVL_STRTAB		BIT(3)
#define SMMUV3_FEAT_2LVL_CDTAB		BIT(4)
#define SMMUV3_FEAT_ATS			BIT(5)
#define SMMUV3_FEAT_PRI			BIT(6)
#define SMMUV3_FEAT_MSI			BIT(7)
#define SMMUV3_FEAT_SEV			BIT(8)
#define SMMUV3_FEAT_HYP			BIT(9)
#define SMMUV3_FEAT_BTM			BIT(10)
#define SMMUV3_FEAT_RANGE_INV		BIT(11)
#define SMMUV3_FEAT_S2FWB		BIT(12)
#define SMMUV3_FEAT_STALLS		BIT(13)
#define SMMUV3_FEAT_STALL_FORCE		BIT(14)
#define SMMUV3_FEAT_TT_LE		BIT(15)
#define SMMUV3_FEAT_TT_BE		BIT(16)
#define SMMUV3_FEAT_HA			BIT(17)	/* hardware access flag */
#define SMMUV3_FEAT_HD			BIT(18)	/* hardware dirty state */
#define SMMUV3_FEAT_VAX52		BIT(19)
#define SMMUV3_FEAT_ATTR_TYPES_OVR	BIT(20)	/* STE.SHCFG overrides */
#define SMMUV3_FEAT_NESTING		(SMMUV3_FEAT_S1 | SMMUV3_FEAT_S2)

/* Implementation options, from errata and firmware (errata.c). */
#define SMMUV3_OPT_PAGE0_ONLY		BIT(0)	/* page-1 registers at page 0 */
#define SMMUV3_OPT_SKIP_PREFETCH	BIT(1)	/* no CMD_PREFETCH_CFG */
#define SMMUV3_OPT_CMDQ_FORCE_SYNC	BIT(2)	/* CMD_SYNC every 63 commands */
#define SMMUV3_OPT_NO_NESTING		BIT(3)	/* stage 1 + 2 together broken */
#define SMMUV3_OPT_REPEAT_CFGI_TLBI	BIT(4)	/* CFGI/TLBI + sync issued twice */

/**
 * struct smmuv3_idregs - raw identification registers of an instance
 * @idr: IDR0..IDR5
 * @iidr: implementation identification
 * @aidr: architecture version
 */
struct smmuv3_idregs {
	u32 idr[6];
	u32 iidr;
	u32 aidr;
};

/**
 * struct smmuv3_features - what an instance can do, decoded once at probe
 * @flags: SMMUV3_FEAT_*
 * @ias: input address size of stage-2 (IPA bits)
 * @oas: output address size in bits
 * @sid_bits: stream ID width
 * @ssid_bits: substream ID width (0: no substreams)
 * @asid_bits: 8 or 16
 * @vmid_bits: 8 or 16
 * @cmdq_log2: largest command queue the instance supports (log2 entries)
 * @evtq_log2: largest event queue (log2 entries)
 * @priq_log2: largest PRI queue (log2 entries)
 * @pgsize_bitmap: page and block sizes of the supported granules
 * @bbml: break-before-make level (IDR3.BBML)
 * @arch_minor: SMMUv3.x minor version from AIDR
 * @iidr: implementation identification, for the log line only
 *
 * Immutable after probe; read without locks.
 */
struct smmuv3_features {
	u32 flags;
	u8 ias;
	u8 oas;
	u8 sid_bits;
	u8 ssid_bits;
	u8 asid_bits;
	u8 vmid_bits;
	u8 cmdq_log2;
	u8 evtq_log2;
	u8 priq_log2;
	u8 bbml;
	u8 arch_minor;
	u32 iidr;
	unsigned long pgsize_bitmap;
};

int smmuv3_decode_features(const struct smmuv3_idregs *regs, bool fw_coherent,
			   struct smmuv3_features *feat);
int smmuv3_format_features(const struct smmuv3_features *feat, char *buf,
			   size_t len);
unsigned int smmuv3_oas_to_bits(unsigned int oas_field);

/* --- Commands (cmd.c) and the command queue (cmdq.c) ------------------- */

/**
 * struct smmuv3_cmd - a command before encoding
 * @op: SMMUV3_OP_*
 *
 * Only the member matching @op is read by smmuv3_cmd_encode().
 */
struct smmuv3_cmd {
	u8 op;
	union {
		/* PREFETCH_CFG, CFGI_STE, CFGI_CD, CFGI_CD_ALL, CFGI_ALL */
		struct {
			u32 sid;
			u32 ssid;
			bool leaf;
		} cfgi;
		/* TLBI_NH_*, TLBI_EL2_*, TLBI_S2_IPA, TLBI_S12_VMALL */
		struct {
			u16 asid;
			u16 vmid;
			u64 addr;
			u8 num;		/* range: (num + 1) << scale pages */
			u8 scale;
			u8 tg;		/* 0: no range; 1: 4K, 2: 16K, 3: 64K */
			u8 ttl;		/* level hint, 0: none */
			bool leaf;
		} tlbi;
		/* ATC_INV */
		struct {
			u32 sid;
			u32 ssid;
			bool ssv;
			bool global;
			u64 addr;
			u8 size;	/* log2 of the span in 4K pages */
		} atc;
		/* SYNC */
		struct {
			u8 cs;
			u8 msh;
			u8 msiattr;
			u32 msidata;
			u64 msiaddr;
		} sync;
		/* RESUME; STALL_TERM (sid only) */
		struct {
			u32 sid;
			u16 stag;
			u8 resp;
		} resume;
		/* PRI_RESP */
		struct {
			u32 sid;
			u32 ssid;
			bool ssv;
			u16 grpid;
			u8 resp;
		} pri;
	};
};

int smmuv3_cmd_encode(const struct smmuv3_cmd *cmd, u64 out[SMMUV3_CMD_QWORDS]);

/**
 * struct smmuv3_queue - one circular queue in memory shared with the SMMU
 * @base: the entries
 * @dma: bus address of @base
 * @log2size: log2 of the number of entries
 * @ent_qwords: size of one entry in 64-bit words
 * @prod_reg: the PROD register (page 0 for the command queue, page 1 else)
 * @cons_reg: the CONS register
 * @base_reg: value programmed into the Q_BASE register
 *
 * Indexes (PROD/CONS values) are the entry index with the wrap flag in bit
 * @log2size, as in the registers.
 */
struct smmuv3_queue {
	__le64 *base;
	dma_addr_t dma;
	u32 log2size;
	u32 ent_qwords;
	u32 __iomem *prod_reg;
	u32 __iomem *cons_reg;
	u64 base_reg;
};

/* Positions of the last command errors a command queue remembers. */
#define SMMUV3_CMDQ_ERR_RING		8

/**
 * struct smmuv3_cmdq - the command queue of an instance
 * @q: the queue
 * @lock: serialises producers: the space check, the entry writes, the PROD
 *	update and the statistics below; and the recording of command errors
 *	(@err_seq, @err_pos) against the waiters that look them up.  Held with
 *	interrupts off, never across the wait for completion.
 * @prod: absolute index of the next free entry (count of all commands ever
 *	queued); the PROD register holds its low log2size + 1 bits.  Under
 *	@lock.
 * @cons: absolute index up to which the SMMU is known to have consumed
 *	commands.  Monotonic; advanced with atomic64_try_cmpxchg() by anyone
 *	who reads CONS, so waiters poll without taking @lock.
 * @err_seq: number of commands the SMMU ever rejected (CMDQ_ERR).  Written
 *	under @lock (WRITE_ONCE()), read without it by waiters as a fast
 *	"nothing went wrong" check.
 * @err_pos: absolute index of the rejected commands, the error numbered n
 *	(counting from 0) in slot n % SMMUV3_CMDQ_ERR_RING.  Under @lock.
 * @issued: commands queued, per opcode; under @lock, read racily.
 * @syncs: CMD_SYNCs queued; under @lock, read racily.
 * @timeouts: waits that gave up: for a CMD_SYNC to complete, or for room
 *	in a full queue.
 * @inv_failures: domain invalidations (invalidate.c) whose commands failed
 *	on this instance: rejected, or not queued or completed in time.
 *
 * Command errors are tracked per waiter, not per queue.  A producer takes
 * a ticket (struct smmuv3_cmdq_ticket): under @lock it records @err_seq
 * when it queues its first command and the span of positions of each group
 * of commands it queues.  The SMMU stops at a bad command until the error
 * is acknowledged, and smmuv3_cmdq_fix_error() records the position (in
 * @err_pos, then @err_seq, under @lock) before acknowledging it; so once
 * CONS has passed the ticket's last command, every error among its
 * commands is numbered between the ticket's @err_seq and the current one.
 * The waiter looks them up under @lock.  If more than SMMUV3_CMDQ_ERR_RING
 * errors were recorded meanwhile, slots were overwritten and the waiter
 * fails with -EIO without looking: it may have lost its own error.  Errors
 * are rare, so a false -EIO there costs nothing worth more precision.
 */
struct smmuv3_cmdq {
	struct smmuv3_queue q;
	raw_spinlock_t lock;
	u64 prod;
	atomic64_t cons;
	u64 err_seq;
	u64 err_pos[SMMUV3_CMDQ_ERR_RING];
	u64 issued[256];
	u64 syncs;
	atomic64_t timeouts;
	atomic64_t inv_failures;
};

/* Separate groups of commands a ticket tracks exactly; then it widens. */
#define SMMUV3_CMDQ_TICKET_SPANS	8

/**
 * struct smmuv3_cmdq_ticket - what one waiter queued, to find its errors
 * @err_seq: smmuv3_cmdq.err_seq when its first command was queued
 * @num: spans used
 * @span: absolute positions [first, last] of each group of commands
 *	queued, in queue order.  Adjacent groups share a span; when all are
 *	used, the last one grows to cover the new group and the foreign
 *	commands queued in between (whose errors then count as ours).
 *
 * Initialised by smmuv3_cmdq_ticket_init(), filled under smmuv3_cmdq.lock
 * by smmuv3_cmdq_submit(), owned by one thread.  Only @num and the spans
 * it counts are read (and @err_seq once @num is not 0), so a ticket may
 * be declared __uninitialized.
 */
struct smmuv3_cmdq_ticket {
	u64 err_seq;
	unsigned int num;
	struct {
		u64 first;
		u64 last;
	} span[SMMUV3_CMDQ_TICKET_SPANS];
};

static inline void smmuv3_cmdq_ticket_init(struct smmuv3_cmdq_ticket *ticket)
{
	ticket->num = 0;
}

/* Commands gathered for one instance, submitted together. */
#define SMMUV3_BATCH_MAX		64

/**
 * struct smmuv3_cmd_batch - commands for one instance, built on the stack
 * @smmu: the instance whose queue receives them
 * @num: number of encoded commands in @cmds, not queued yet
 * @err: the first error since the batch was started or last submitted: a
 *	command that could not be encoded or queued.  Later commands are then
 *	dropped and smmuv3_batch_submit() returns it.
 * @ticket: the commands queued already (a full batch is queued without a
 *	CMD_SYNC): the final CMD_SYNC's wait covers them too
 * @cmds: encoded commands
 *
 * Declared __uninitialized: smmuv3_batch_init() sets everything that is
 * read before it is written, and a kernel built with
 * CONFIG_INIT_STACK_ALL_ZERO would otherwise clear @cmds (1KiB) on every
 * invalidation.
 */
struct smmuv3_cmd_batch {
	struct smmuv3_device *smmu;
	unsigned int num;
	int err;
	struct smmuv3_cmdq_ticket ticket;
	u64 cmds[SMMUV3_BATCH_MAX * SMMUV3_CMD_QWORDS];
};

/* queue.c: memory for the command and event queues */
int smmuv3_queue_alloc(struct smmuv3_device *smmu, struct smmuv3_queue *q,
		       unsigned int log2size, unsigned int ent_qwords,
		       unsigned long prod_off, unsigned long cons_off,
		       const char *name);

/* cmdq.c */
int smmuv3_cmdq_init(struct smmuv3_device *smmu);
int smmuv3_cmdq_submit(struct smmuv3_device *smmu, const u64 *cmds,
		       unsigned int num, bool sync,
		       struct smmuv3_cmdq_ticket *ticket);
int smmuv3_cmdq_wait(struct smmuv3_device *smmu,
		     const struct smmuv3_cmdq_ticket *ticket);
int smmuv3_cmdq_wait_until(struct smmuv3_device *smmu,
			   const struct smmuv3_cmdq_ticket *ticket,
			   ktime_t *deadline);
int smmuv3_cmdq_issue(struct smmuv3_device *smmu, const u64 *cmds,
		      unsigned int num, bool sync);
int smmuv3_cmdq_issue_one(struct smmuv3_device *smmu,
			  const struct smmuv3_cmd *cmd, bool sync);
void smmuv3_handle_gerror(struct smmuv3_device *smmu);
void smmuv3_batch_init(struct smmuv3_cmd_batch *batch,
		       struct smmuv3_device *smmu);
int smmuv3_batch_add(struct smmuv3_cmd_batch *batch,
		     const struct smmuv3_cmd *cmd);
int smmuv3_batch_add_words(struct smmuv3_cmd_batch *batch, const u64 *cmd);
int smmuv3_batch_issue(struct smmuv3_cmd_batch *batch);
int smmuv3_batch_submit(struct smmuv3_cmd_batch *batch);
#if IS_ENABLED(CONFIG_KUNIT)
void smmuv3_cmdq_idle(struct smmuv3_device *smmu);
#endif

/* --- Stream table (strtab.c) ------------------------------------------- */

/* STEs per level-2 table: 2^8 STEs, 16KiB. */
#define SMMUV3_STRTAB_SPLIT		8
#define SMMUV3_L2_STES			BIT(SMMUV3_STRTAB_SPLIT)

/**
 * struct smmuv3_strtab - the stream table of an instance
 * @two_level: a level-1 table of descriptors pointing at level-2 tables
 * @ste: linear table (when !@two_level)
 * @ste_dma: bus address of @ste
 * @num_ste: entries in the linear table
 * @l1: level-1 descriptors (when @two_level)
 * @l1_dma: bus address of @l1
 * @num_l1: entries in @l1
 * @l2: CPU addresses of the level-2 tables, NULL until first used
 * @sid_bits: stream IDs the table covers (may be fewer than the SMMU's)
 * @base_reg: value for STRTAB_BASE
 * @cfg_reg: value for STRTAB_BASE_CFG
 *
 * Level-2 tables are allocated when the first device using one of their
 * stream IDs is probed and live until the instance goes away.  @l2 and @l1
 * are changed under smmuv3_device.streams_mutex.
 */
struct smmuv3_strtab {
	bool two_level;
	__le64 *ste;
	dma_addr_t ste_dma;
	u32 num_ste;
	__le64 *l1;
	dma_addr_t l1_dma;
	u32 num_l1;
	__le64 **l2;
	u8 sid_bits;
	u64 base_reg;
	u32 cfg_reg;
};

/* strtab.c */
int smmuv3_strtab_init(struct smmuv3_device *smmu);
int smmuv3_strtab_prepare_sid(struct smmuv3_device *smmu, u32 sid);
int smmuv3_strtab_prepare_sid_unused(struct smmuv3_device *smmu, u32 sid);
__le64 *smmuv3_strtab_ste(struct smmuv3_device *smmu, u32 sid);
void smmuv3_install_ste(struct smmuv3_master *master, const __le64 *target);
#if IS_ENABLED(CONFIG_KUNIT)
void *smmuv3_strtab_alloc(struct smmuv3_device *smmu, size_t bytes,
			  dma_addr_t *dma);
#endif

/* --- Live entry updates (entry_update.c) ------------------------------- */

struct smmuv3_entry_writer;

/**
 * struct smmuv3_entry_writer_ops - how to update one kind of table entry
 * @get_used: sets in @used the bits of @entry that the SMMU reads, given the
 *	entry's own configuration
 * @sync: makes the SMMU forget cached copies of the entry and waits
 * @v_bit: the valid bit in word 0 (SMMUV3_STE0_V, SMMUV3_CD0_V)
 */
struct smmuv3_entry_writer_ops {
	void (*get_used)(const __le64 *entry, __le64 *used);
	void (*sync)(struct smmuv3_entry_writer *writer);
	u64 v_bit;
};

/**
 * struct smmuv3_entry_writer - context of one entry update
 * @ops: entry-specific operations
 * @num_qwords: size of the entry (8 for STEs and CDs)
 * @nr_syncs: syncs issued so far (for tests and statistics)
 */
struct smmuv3_entry_writer {
	const struct smmuv3_entry_writer_ops *ops;
	unsigned int num_qwords;
	unsigned int nr_syncs;
};

void smmuv3_entry_update(struct smmuv3_entry_writer *writer, __le64 *entry,
			 const __le64 *target);

/* --- Stream table entries (ste.c) -------------------------------------- */

void smmuv3_ste_get_used(const __le64 *ste, __le64 *used);
void smmuv3_ste_fit(const struct smmuv3_device *smmu, __le64 *ste);
void smmuv3_ste_make_abort(__le64 *ste);
void smmuv3_ste_make_bypass(__le64 *ste);
void smmuv3_ste_make_s1(__le64 *ste, const struct smmuv3_master *master,
			u8 s1dss);
void smmuv3_ste_make_s2(__le64 *ste, const struct smmuv3_domain *domain,
			u16 vmid);
void smmuv3_ste_make_rid(__le64 *ste, const struct smmuv3_master *master,
			 bool ats);
void smmuv3_ste_make_nested(__le64 *ste, const struct smmuv3_nested *nested);
void smmuv3_ste_set_eats(__le64 *ste, bool ats);
void smmuv3_ste_set_stall(__le64 *ste, const struct smmuv3_master *master);

/* --- Devices behind an instance (master.c) ----------------------------- */

/**
 * struct smmuv3_stream - one stream ID of a master
 * @sid: the stream ID
 * @master: its owner
 * @node: in smmuv3_device.streams, keyed by @sid
 */
struct smmuv3_stream {
	u32 sid;
	struct smmuv3_master *master;
	struct rb_node node;
};

/**
 * struct smmuv3_master - a client device of an instance
 * @smmu: the instance the device is behind
 * @dev: the device
 * @streams: its stream IDs, from the firmware description, each once
 *	(firmware may list one twice: see smmuv3_master_add_streams())
 * @num_streams: number of @streams
 * @ssid_bits: substream ID width the device may use, the smaller of its
 *	own PASID width and what a CD table of the instance covers: PASIDs
 *	are 1 to 2^@ssid_bits - 1 (0: none); sizes the CD table.  For a PCI
 *	device it is not 0 only while its PASID capability is enabled.
 * @pasid_enabled: probe_device enabled the PCI PASID capability, which
 *	release_device disables
 * @cdtab: context descriptor table, allocated at the first stage-1 attach
 *	of the RID or of a PASID, or identity attach of a device that
 *	requires ATS
 * @attach: what the device's RID (traffic without a PASID) is attached to
 *	when that is a paging domain or, through its parent, a nested one;
 *	NULL on the identity and blocked domains
 * @rid_identity: the RID is on the identity domain (read when @attach is
 *	NULL; false: blocked, the state before the first attach)
 * @pasids: struct smmuv3_attach of each PASID attached to a stage-1 domain,
 *	keyed by PASID (= SSID, = index of its CD).  While it is not empty
 *	the STE keeps the CD table: traffic without a PASID then follows the
 *	RID's domain through STE.S1DSS.  A slot may hold a reservation (which
 *	reads as NULL but counts as not empty) only inside set_dev_pasid.
 * @viommu: the vIOMMU of the nested domain the device is attached to, if
 *	any; written under smmuv3_device.streams_mutex, which the event
 *	handler holds while it forwards events
 * @ats_supported: the instance, the root complex (firmware) and the PCI
 *	device all support ATS; decided at probe (ats.c)
 * @ats_required: the device cannot work without ATS (pci_ats_required()):
 *	set at probe (ats.c; KUnit sets it on its fake masters); ATS then
 *	stays on in the identity domain, through the CD table
 * @ats_enabled: the device's PCI ATS capability is enabled and its STEs
 *	have EATS set; changed only by attaches (smmuv3_ats_commit()), read
 *	racily (READ_ONCE()) by guest invalidations
 * @stall_enabled: the device's faults stall (instances with STALL_FORCE):
 *	CDs set S, stage-2 STEs S2S, and stalled faults are answered (stall.c)
 *
 * Created by probe_device and freed by release_device.  The iommu core
 * calls attach_dev, set_dev_pasid (of a paging domain to attach or replace,
 * of the blocked domain to remove) and release_device of a device under its
 * group's mutex, so @cdtab, @attach, @rid_identity, @pasids, the CDs and
 * the STEs have a single writer, and those same paths are their only
 * readers.  The xarray's own lock is taken by its accessors; nothing relies
 * on it.
 */
struct smmuv3_master {
	struct smmuv3_device *smmu;
	struct device *dev;
	struct smmuv3_stream *streams;
	unsigned int num_streams;
	u8 ssid_bits;
	bool pasid_enabled;
	struct smmuv3_cdtab *cdtab;
	struct smmuv3_attach *attach;
	bool rid_identity;
	struct xarray pasids;
	struct smmuv3_viommu *viommu;
	bool ats_supported;
	bool ats_required;
	bool ats_enabled;
	bool stall_enabled;
};

/* Does firmware say the device's accesses are coherent and cacheable? */
static inline bool smmuv3_master_canwbs(const struct smmuv3_master *master)
{
	const struct iommu_fwspec *fwspec = dev_iommu_fwspec_get(master->dev);

	return fwspec && (fwspec->flags & SMMUV3_FWSPEC_CANWBS);
}

/* Is a PASID attached (or being attached) to the master? */
static inline bool smmuv3_master_has_pasids(const struct smmuv3_master *master)
{
	return !xa_empty(&master->pasids);
}

/*
 * PASID TLP prefix features a PCI device may have enabled: Execute
 * Requested and Privileged Mode Requested (PCI_PASID_CAP_EXEC,
 * PCI_PASID_CAP_PRIV), which an SMMUv3 takes as the transaction's
 * instruction and privilege attributes.
 */
#define SMMUV3_PCI_PASID_FEATURES	(PCI_PASID_CAP_EXEC | PCI_PASID_CAP_PRIV)

/**
 * struct smmuv3_pasid_plan - what probe_device does with a PCI device's PASIDs
 * @enable: enable the PASID capability
 * @features: with these features
 * @ssid_bits: the master's substream width once it is enabled (0 when
 *	@enable is false, or when enabling fails)
 */
struct smmuv3_pasid_plan {
	bool enable;
	int features;
	u8 ssid_bits;
};

/* master.c */
struct iommu_device *smmuv3_probe_device(struct device *dev);
void smmuv3_release_device(struct device *dev);
struct iommu_group *smmuv3_device_group(struct device *dev);
int smmuv3_of_xlate(struct device *dev, const struct of_phandle_args *args);
struct smmuv3_master *smmuv3_find_master(struct smmuv3_device *smmu, u32 sid);
int smmuv3_master_add_streams(struct smmuv3_master *master, const u32 *ids,
			      unsigned int num);
void smmuv3_master_del_streams(struct smmuv3_master *master);
bool smmuv3_probe_refused(struct smmuv3_device *smmu, struct device *dev);
bool smmuv3_has_platform_masters(struct smmuv3_device *smmu);
bool smmuv3_pci_identity_only(u16 vendor, u16 device);
int smmuv3_def_domain_type(struct device *dev);
void smmuv3_pci_pasid_plan(int max_pasids, int dev_features, u8 cdtab_bits,
			   struct smmuv3_pasid_plan *plan);

static inline struct smmuv3_master *smmuv3_dev_master(struct device *dev)
{
	return dev_iommu_priv_get(dev);
}

/* --- ATS (ats.c) ------------------------------------------------------- */

bool smmuv3_ats_plan(u32 smmu_flags, u32 fwspec_flags, bool pci_ats);
bool smmuv3_ats_refused(struct smmuv3_device *smmu, struct device *dev);
#if IS_ENABLED(CONFIG_KUNIT)
const char *smmuv3_ats_refusal(const struct smmuv3_device *smmu, bool required,
			       bool usable);
#endif
int smmuv3_ats_probe(struct smmuv3_master *master);
unsigned int smmuv3_ats_stu(const struct smmuv3_device *smmu);
bool smmuv3_ats_want(const struct smmuv3_master *master, bool translating);
bool smmuv3_ats_identity_cdtab(const struct smmuv3_master *master);
int smmuv3_ats_identity_prepare(struct smmuv3_master *master, bool identity);
int smmuv3_ats_describe(const struct smmuv3_master *master, char *buf,
			size_t len);
unsigned int smmuv3_ats_num_invs(const struct smmuv3_master *master, bool ats);
void smmuv3_ats_fill_invs(const struct smmuv3_master *master,
			  struct smmuv3_inv *inv, u32 ssid, bool full);
int smmuv3_atc_inv_master(struct smmuv3_master *master, u32 ssid);
int smmuv3_ats_pci_enable(struct smmuv3_master *master);
void smmuv3_ats_pci_disable(struct smmuv3_master *master);

/* --- Stalls (stall.c) -------------------------------------------------- */

void smmuv3_stall_probe(struct smmuv3_master *master);
bool smmuv3_stall_s1stalld(const struct smmuv3_master *master);
void smmuv3_stall_cd(const struct smmuv3_master *master, __le64 *cd);
void smmuv3_stall_event(struct smmuv3_device *smmu, const u64 *evt);
void smmuv3_stall_terminate(struct smmuv3_master *master);
void smmuv3_stall_init(struct smmuv3_device *smmu);
void smmuv3_stall_records_lost(struct smmuv3_device *smmu);
void smmuv3_stall_stop(struct smmuv3_device *smmu);

/* --- Faults and errors (faults.c) -------------------------------------- */

/**
 * struct smmuv3_fault_stats - event and error counters of an instance
 * @events: event records received, by event type, whoever handled them
 * @events_to_guest: event records forwarded to a vIOMMU's vEVENTQ; the
 *	others were handled (logged) by the host
 * @events_lost: times the SMMU said event records were lost: an event
 *	queue overflow (PROD.OVFLG toggled) or an event queue write abort
 *	(GERROR.EVTQ_ABT_ERR, also counted in @gerrors)
 * @gerrors: global errors seen, by GERROR bit
 *
 * Updated only by the event and global-error handlers; read racily.
 */
struct smmuv3_fault_stats {
	atomic64_t events[256];
	atomic64_t events_to_guest;
	atomic64_t events_lost;
	atomic64_t gerrors[9];
};

int smmuv3_faults_init(struct smmuv3_device *smmu);
int smmuv3_setup_irqs(struct smmuv3_device *smmu);
const char *smmuv3_event_name(u8 id);
bool smmuv3_event_for_guest(const u64 *evt);

/* --- IOTLB tags (tags.c) ----------------------------------------------- */

/**
 * struct smmuv3_tags - ASIDs and VMIDs of one instance
 * @asids: allocated ASIDs (0 is never used)
 * @vmids: allocated VMIDs (0 is never used)
 * @asids_used: ASIDs allocated now, for debugfs and tests; leaked ones
 *	included
 * @vmids_used: VMIDs allocated now
 * @asids_leaked: ASIDs kept allocated for good because their flush failed
 * @vmids_leaked: VMIDs kept allocated for good because their flush failed
 * @flush_failures: tag flushes that failed (rejected, or timed out)
 *
 * An ID is allocated when a domain is first attached to a device behind the
 * instance, shared by every device of that domain behind it, and flushed
 * from the instance's TLBs before it is freed.  An ID whose flush failed
 * may still be cached: it is never freed, so that no other domain can get
 * it.  The IDAs lock themselves; which domain owns which ID is recorded
 * only in the domains' invalidation arrays, changed under each domain's
 * mutex.  The counters are atomic and read racily.
 */
struct smmuv3_tags {
	struct ida asids;
	struct ida vmids;
	atomic_t asids_used;
	atomic_t vmids_used;
	atomic_t asids_leaked;
	atomic_t vmids_leaked;
	atomic64_t flush_failures;
};

void smmuv3_tags_init(struct smmuv3_device *smmu);
void smmuv3_tags_destroy(struct smmuv3_device *smmu);
int smmuv3_tag_alloc_id(struct smmuv3_device *smmu, u8 type, u32 *id);
int smmuv3_tag_flush(const struct smmuv3_inv *tag);
int smmuv3_tag_free(const struct smmuv3_inv *tag);
int smmuv3_tag_get(struct smmuv3_domain *domain, struct smmuv3_device *smmu,
		   struct smmuv3_inv *tag);
void smmuv3_tag_unused(const struct smmuv3_inv *inv, void *arg);

/* --- Domains (domain.c) ------------------------------------------------ */

/**
 * enum smmuv3_stage - the translation a paging domain's table is for
 * @SMMUV3_STAGE_1: stage 1, through a context descriptor, tagged by ASID
 * @SMMUV3_STAGE_2: stage 2, in the STE, tagged by VMID
 */
enum smmuv3_stage {
	SMMUV3_STAGE_1,
	SMMUV3_STAGE_2,
};

/**
 * struct smmuv3_domain - a paging domain
 * @domain: the core's view
 * @stage: stage 1 or 2
 * @nest_parent: a stage-2 that nested domains may use as their parent
 * @pgtbl_ops: the io-pgtable
 * @pgtbl_cfg: its configuration: what any instance needs to walk it
 * @owner: the instance the table was created for (its device does cache
 *	maintenance of the table); others share it only if compatible.  The
 *	domain holds a reference on it (smmuv3_instance_get()): it may
 *	outlive the instance.
 * @mutex: serialises changes of @invs and the finding and allocation of tags,
 *	and of @enforce_cc and @nr_noncoherent
 * @enforce_cc: iommufd asked for enforced cache coherency: only devices
 *	whose firmware says CANWBS may attach
 * @nr_noncoherent: attachments of devices without CANWBS
 * @invs: the invalidation array, RCU-published (see struct smmuv3_invs)
 * @node: in the list of all paging domains, for instance removal
 * @id: a number for debugfs
 */
struct smmuv3_domain {
	struct iommu_domain domain;
	enum smmuv3_stage stage;
	bool nest_parent;
	struct io_pgtable_ops *pgtbl_ops;
	struct io_pgtable_cfg pgtbl_cfg;
	struct smmuv3_device *owner;
	struct mutex mutex;	/* see @mutex above */
	bool enforce_cc;
	unsigned int nr_noncoherent;
	struct smmuv3_invs __rcu *invs;
	struct list_head node;
	u32 id;
};

static inline struct smmuv3_domain *to_smmuv3_domain(struct iommu_domain *dom)
{
	return container_of(dom, struct smmuv3_domain, domain);
}

extern struct iommu_domain smmuv3_identity_domain;
extern struct iommu_domain smmuv3_blocked_domain;
struct iommu_domain *
smmuv3_domain_alloc_paging_flags(struct device *dev, u32 flags,
				 const struct iommu_user_data *user_data);
int smmuv3_domain_compatible(const struct smmuv3_domain *domain,
			     const struct smmuv3_device *smmu);
void smmuv3_domain_drop_instance(struct smmuv3_domain *domain,
				 struct smmuv3_device *smmu);
void smmuv3_domains_drop_instance(struct smmuv3_device *smmu);
extern const struct iommu_domain_ops smmuv3_paging_ops;
void smmuv3_domain_unref(struct smmuv3_domain *domain,
			 const struct smmuv3_inv *invs, unsigned int num);
int smmuv3_domain_publish(struct smmuv3_domain *domain,
			  struct smmuv3_attach *attach);
void smmuv3_release_attachments(struct smmuv3_master *master);
void smmuv3_debugfs_domains_show(struct seq_file *s);

/* invalidate.c */
void smmuv3_domain_inv_range(struct smmuv3_domain *domain, unsigned long iova,
			     size_t size, size_t granule, bool leaf);
void smmuv3_domain_inv_all(struct smmuv3_domain *domain);

/* --- Attachments (attach.c) -------------------------------------------- */

/**
 * struct smmuv3_attach - a device's attachment to a paging domain
 * @domain: the domain
 * @noncoherent: the device has no CANWBS: counted in the domain's
 *	nr_noncoherent
 * @num_invs: entries this attachment added to the domain's array
 * @invs: those entries (the tag first, then ATS entries)
 *
 * Kept by the master (for its RID in smmuv3_master.attach, for a PASID in
 * smmuv3_master.pasids) so that detach removes exactly what attach added.
 * The RID and the PASIDs of a master attached to one domain each hold a
 * user of the domain's single tag on the instance.
 */
struct smmuv3_attach {
	struct smmuv3_domain *domain;
	bool noncoherent;
	unsigned int num_invs;
	struct smmuv3_inv invs[] __counted_by(num_invs);
};

/**
 * struct smmuv3_attach_state - one attach, from its prepare to its commit
 * @master: the device
 * @ssid: 0: the RID is attached (its STE changes); else the PASID whose CD
 *	changes
 * @domain: the paging domain, or a nested domain's parent, whose array
 *	gets the device's entries; NULL for the identity and blocked domains
 *	and for a PASID's removal
 * @vmid: the tag of a nested attach (the vIOMMU's VMID), used instead of
 *	the domain's own tag on the instance; its ATC entries then cover every
 *	substream.  NULL otherwise
 * @viommu: the vIOMMU of a nested attach of the RID, else NULL
 * @ats: the new configuration has ATS: its STE has EATS and the PCI
 *	capability is on (smmuv3_ats_want()); read by prepare (ATC entries)
 *	and by commit
 * @clear_cd0: the new RID configuration does not use CD 0: commit clears
 *	the old stage-1 domain's CD 0 before its tag can be freed
 * @attach: set by prepare: the new attachment, NULL without @domain
 * @old: set by prepare: the attachment being replaced, or NULL; commit
 *	drops it last
 *
 * Lives on the caller's stack for one attach; see module/attach.c for the
 * sequence and why it is in that order.  The iommu core serialises the
 * attaches of a device, so there is one at a time per master.
 */
struct smmuv3_attach_state {
	struct smmuv3_master *master;
	u32 ssid;
	struct smmuv3_domain *domain;
	const struct smmuv3_inv *vmid;
	struct smmuv3_viommu *viommu;
	bool ats;
	bool clear_cd0;
	struct smmuv3_attach *attach;
	struct smmuv3_attach *old;
};

int smmuv3_attach_prepare(struct smmuv3_attach_state *state);
void smmuv3_attach_abort(struct smmuv3_attach_state *state);
void smmuv3_attach_commit(struct smmuv3_attach_state *state,
			  const __le64 *ste);

/* --- vIOMMUs (iommufd.c) and nested domains (nested.c) ----------------- */

#if SMMUV3_HAVE_VIOMMU

/**
 * struct smmuv3_viommu - a virtual SMMU backed by one instance
 * @core: the iommufd object
 * @smmu: the instance; its devices only may use the vIOMMU
 * @parent: the nesting-parent stage-2 domain, shared by any number of
 *	vIOMMUs on compatible instances
 * @vmid: the vIOMMU's VMID on @smmu, as the SMMUV3_INV_S2_VMID_S1_CLEAR
 *	entry nested attachments add to @parent's array.  Allocated at init,
 *	freed at destroy, never by a detach, or by the removal of @smmu if
 *	that comes first.
 * @node: in smmuv3_device.viommus while @vmid is allocated; empty once it
 *	is freed.  Under smmuv3_device.viommu_rwsem.
 * @reporting: events being forwarded to the vEVENTQs right now.  The event
 *	thread pins the vIOMMU under smmuv3_device.streams_mutex (the device
 *	is then attached to a nested domain of it, so iommufd cannot be
 *	destroying it) and forwards the event with no lock of ours held:
 *	iommufd_viommu_report_event() takes the vIOMMU's veventqs_rwsem,
 *	which is ordered after mmap_lock and, through VFIO, after
 *	group->mutex, under which attach takes streams_mutex.  Destroy waits
 *	for it to reach zero.
 *
 * Lifetime: iommufd keeps the vIOMMU alive while a nested domain of it
 * exists, hence while a device is attached to one.  It may outlive its
 * instance: a vIOMMU holds a reference on @smmu (smmuv3_instance_get()),
 * so the structure stays readable (its features, its address as an
 * identity), but the hardware and the ID allocators go with the removal.
 * The removal frees the VMID of every vIOMMU on its list under
 * smmuv3_device.viommu_rwsem, before the allocators are destroyed; destroy
 * frees the VMID only if it is still listed; what issues commands on
 * behalf of a vIOMMU holds the rwsem for reading and fails with -ENODEV
 * once the instance is removed.  Immutable after init apart from @node.
 */
struct smmuv3_viommu {
	struct iommufd_viommu core;
	struct smmuv3_device *smmu;
	struct smmuv3_domain *parent;
	struct smmuv3_inv vmid;
	struct list_head node;
	atomic_t reporting;
};

/**
 * struct smmuv3_nested - a nested domain: a guest's STE over a parent S2
 * @domain: the core's view
 * @viommu: the vIOMMU it was allocated on
 * @vste: the validated first two words of the guest's STE, EATS cleared
 * @enable_ats: the guest's stage-1 STE asked for ATS (EATS = 0b01): the
 *	physical STE gets it if the device has ATS
 */
struct smmuv3_nested {
	struct iommu_domain domain;
	struct smmuv3_viommu *viommu;
	__le64 vste[2];
	bool enable_ats;
};

/*
 * The fields of a guest's STE that a nested STE takes over (besides EATS,
 * which smmuv3_vste_validate() turns into smmuv3_nested.enable_ats).
 */
#define SMMUV3_VSTE0_ALLOWED	(SMMUV3_STE0_V | SMMUV3_STE0_CFG | \
				 SMMUV3_STE0_S1FMT | SMMUV3_STE0_S1CTXPTR | \
				 SMMUV3_STE0_S1CDMAX)
#define SMMUV3_VSTE1_ALLOWED	(SMMUV3_STE1_S1DSS | SMMUV3_STE1_S1CIR | \
				 SMMUV3_STE1_S1COR | SMMUV3_STE1_S1CSH | \
				 SMMUV3_STE1_S1STALLD)
#endif /* SMMUV3_HAVE_VIOMMU */

/* hw_info.c */
#if SMMUV3_HAVE_HW_INFO
void *smmuv3_hw_info(struct device *dev, u32 *length,
		     enum iommu_hw_info_type *type);
#endif

#if SMMUV3_HAVE_VIOMMU
/* iommufd.c */
size_t smmuv3_get_viommu_size(struct device *dev,
			      enum iommu_viommu_type type);
int smmuv3_viommu_init(struct iommufd_viommu *viommu,
		       struct iommu_domain *parent,
		       const struct iommu_user_data *user_data);
struct smmuv3_viommu *smmuv3_viommu_event_pin(struct smmuv3_master *master,
					      const u64 *evt, __le64 *vevt);
int smmuv3_viommu_event_report(struct smmuv3_viommu *viommu,
			       const __le64 *vevt);
void smmuv3_viommus_remove(struct smmuv3_device *smmu);
extern bool smmuv3_viommu_assume_coherent;
#if IS_ENABLED(CONFIG_KUNIT) && IS_ENABLED(CONFIG_IOMMUFD_DRIVER_CORE)
int smmuv3_viommu_cache_invalidate(struct iommufd_viommu *core,
				   struct iommu_user_data_array *array);
bool smmuv3_guest_cmd_ok(const struct smmuv3_device *smmu, const u64 *cmd);
int smmuv3_vdevice_check(const struct smmuv3_viommu *viommu,
			 const struct smmuv3_master *master, u64 virt_id);
#endif

/* nested.c */
extern const struct iommu_domain_ops smmuv3_nested_ops;
int smmuv3_vste_validate(const struct smmuv3_device *smmu, __le64 *vste,
			 bool *ats);
struct iommu_domain *
smmuv3_nested_alloc(struct iommufd_viommu *viommu, u32 flags,
		    const struct iommu_user_data *user_data);
#else /* !SMMUV3_HAVE_VIOMMU: no vIOMMU can exist */
static inline struct smmuv3_viommu *
smmuv3_viommu_event_pin(struct smmuv3_master *master, const u64 *evt,
			__le64 *vevt)
{
	return NULL;
}

static inline int smmuv3_viommu_event_report(struct smmuv3_viommu *viommu,
					     const __le64 *vevt)
{
	return -EOPNOTSUPP;
}

static inline void smmuv3_viommus_remove(struct smmuv3_device *smmu)
{
}
#endif /* SMMUV3_HAVE_VIOMMU */

/* --- Context descriptors (cd.c) ---------------------------------------- */

/**
 * struct smmuv3_cdtab - a master's table of context descriptors
 * @two_level: level-1 descriptors point at level-2 leaves of CDs
 * @cds: linear table, or the level-1 table
 * @dma: bus address of @cds
 * @num: entries in @cds
 * @l2: level-2 leaves (two-level only)
 * @l2_dma: their bus addresses
 * @s1fmt: STE.S1FMT for this table
 * @s1cdmax: STE.S1CDMAX for this table (log2 of the substreams)
 */
struct smmuv3_cdtab {
	bool two_level;
	__le64 *cds;
	dma_addr_t dma;
	unsigned int num;
	__le64 **l2;
	dma_addr_t *l2_dma;
	u8 s1fmt;
	u8 s1cdmax;
};

u8 smmuv3_cdtab_ssid_bits(const struct smmuv3_device *smmu);
int smmuv3_cdtab_alloc(struct smmuv3_master *master);
void smmuv3_cdtab_free(struct smmuv3_master *master);
__le64 *smmuv3_cdtab_cd(struct smmuv3_master *master, u32 ssid);
void smmuv3_cd_get_used(const __le64 *cd, __le64 *used);
void smmuv3_cd_make_s1(__le64 *cd, const struct smmuv3_domain *domain,
		       u16 asid);
int smmuv3_write_cd(struct smmuv3_master *master, u32 ssid,
		    const __le64 *target);

/* --- An SMMU instance (instance.c, probe.c) ---------------------------- */

/**
 * struct smmuv3_device - one SMMUv3 instance
 * @dev: the platform device
 * @base: register page 0
 * @page1: register page 1 (the same as @base on page-0-only implementations)
 * @ioaddr: physical address of the registers, for names
 * @name: instance name, also its name under /sys/class/iommu
 * @feat: decoded features
 * @idregs: raw ID registers, as read at probe
 * @cmdq: the command queue
 * @evtq: the event queue
 * @strtab: the stream table
 * @streams: rb-tree of struct smmuv3_stream by stream ID
 * @streams_mutex: protects @streams and level-2 stream table allocation
 * @iommu: registration with the iommu core
 * @irq_evtq: event queue interrupt, or 0 when combined
 * @irq_gerror: global error interrupt, or 0 when combined
 * @irq_combined: the single interrupt of implementations that have one
 * @faults: event and error counters
 * @gerror_lock: serialises handling of GERROR/GERRORN, which the global
 *	error interrupt and command-queue waiters may both do
 * @debugfs: this instance's debugfs directory
 * @node: in the list of instances (instance.c), under its mutex
 * @instance: a number unique among live instances; orders invalidation
 *	entries
 * @tags: the ASID and VMID allocators
 * @ref: references to this structure (not to the hardware): the driver's
 *	binding holds one until the instance is removed, and every paging
 *	domain created on it and every vIOMMU on it one, so that a pointer to
 *	the instance they keep never dangles nor names a later instance.
 *	The last smmuv3_instance_put() frees it and drops the reference on
 *	@dev taken at probe.
 * @viommu_rwsem: protects @removed and @viommus; written by vIOMMU init
 *	and destroy and by the removal, read while commands are issued on a
 *	vIOMMU's behalf
 * @removed: the instance is being or has been removed: its command queue
 *	and ID allocators may be gone
 * @viommus: struct smmuv3_viommu.node of every vIOMMU whose VMID is
 *	allocated on this instance
 * @options: SMMUV3_OPT_* of the implementation (errata.c), set at probe
 *	before the registers are mapped (firmware) and after the ID registers
 *	are read (IIDR); immutable afterwards
 * @failed: the SMMU entered service failure mode (GERROR.SFM_ERR, IHI 0070
 *	7.2.1): it no longer consumes commands; set by the global error
 *	handler (faults.c), never cleared
 * @stall_work: terminates every stalled transaction of the instance's
 *	streams after the SMMU could not write an event record (stall.c);
 *	queued from any context, disabled (smmuv3_stall_stop()) while the
 *	command queue still works, before the instance is disabled; takes
 *	@streams_mutex and issues its commands after dropping it
 */
struct smmuv3_device {
	struct device *dev;
	void __iomem *base;
	void __iomem *page1;
	phys_addr_t ioaddr;
	char name[32];
	struct smmuv3_features feat;
	struct smmuv3_idregs idregs;
	struct smmuv3_cmdq cmdq;
	struct smmuv3_queue evtq;
	struct smmuv3_strtab strtab;
	struct rb_root streams;
	struct mutex streams_mutex;	/* see @streams_mutex above */
	struct iommu_device iommu;
	int irq_evtq;
	int irq_gerror;
	int irq_combined;
	struct smmuv3_fault_stats faults;
	raw_spinlock_t gerror_lock;
	struct dentry *debugfs;
	struct list_head node;
	u32 instance;
	struct smmuv3_tags tags;
	struct kref ref;
	struct rw_semaphore viommu_rwsem;	/* see @viommu_rwsem above */
	bool removed;
	struct list_head viommus;
	u32 options;
	bool failed;
	struct work_struct stall_work;
};

/* Can stage 1 and stage 2 be used together (nesting parents, vIOMMUs)? */
static inline bool smmuv3_can_nest(const struct smmuv3_device *smmu)
{
	return (smmu->feat.flags & SMMUV3_FEAT_NESTING) == SMMUV3_FEAT_NESTING &&
	       !(smmu->options & SMMUV3_OPT_NO_NESTING);
}

/* instance.c */
struct smmuv3_device *smmuv3_find_instance(const struct fwnode_handle *fwnode);
void smmuv3_instance_init_ref(struct smmuv3_device *smmu);
void smmuv3_instance_get(struct smmuv3_device *smmu);
void smmuv3_instance_put(struct smmuv3_device *smmu);

/* probe.c */
u32 smmuv3_reg_read(struct smmuv3_device *smmu, u32 off);
void smmuv3_reg_write(struct smmuv3_device *smmu, u32 off, u64 val,
		      unsigned int size);
int smmuv3_write_ack(struct smmuv3_device *smmu, u32 reg, u32 ack_reg, u32 val);
int smmuv3_hw_probe(struct smmuv3_device *smmu, bool fw_coherent);
void smmuv3_disable(struct smmuv3_device *smmu);
#if IS_ENABLED(CONFIG_KUNIT)
int smmuv3_tables_enable(struct smmuv3_device *smmu);
int smmuv3_update_gbpa(struct smmuv3_device *smmu, u32 set, u32 clr);
#endif

/* iommu_register.c */
extern const struct iommu_ops smmuv3_ops;
int smmuv3_iommu_register(struct smmuv3_device *smmu);
int smmuv3_register_init(void);
void smmuv3_register_exit(void);

/* --- MSIs (msi.c) ------------------------------------------------------ */

void smmuv3_msi_setup(struct smmuv3_device *smmu);
#if IS_ENABLED(CONFIG_KUNIT)
struct msi_msg;
void smmuv3_msi_write(struct smmuv3_device *smmu, unsigned int index,
		      const struct msi_msg *msg);
int smmuv3_msi_alloc(struct smmuv3_device *smmu, int *virqs);
void smmuv3_msi_free(struct smmuv3_device *smmu);
#endif

/* --- Errata (errata.c) ------------------------------------------------- */

/**
 * struct smmuv3_impl_id - what identifies an implementation to the errata
 * @iidr: SMMU_IIDR, or 0 before the registers are read
 * @iort_model: the IORT SMMUv3 node's model field, or -1 (not ACPI)
 * @has_prop: whether the device-tree node has a boolean property, or NULL
 *	(not device tree)
 * @is_compatible: whether the device-tree node is compatible with a
 *	string, or NULL (not device tree)
 * @fw: argument of @has_prop and @is_compatible
 */
struct smmuv3_impl_id {
	u32 iidr;
	s64 iort_model;
	bool (*has_prop)(const void *fw, const char *name);
	bool (*is_compatible)(const void *fw, const char *compat);
	const void *fw;
};

u32 smmuv3_errata_lookup(const struct smmuv3_impl_id *id, u32 *clear_feat,
			 u32 *options);
void smmuv3_errata_firmware(struct smmuv3_device *smmu);
void smmuv3_errata_iidr(struct smmuv3_device *smmu);

/* --- Reserved memory regions (rmr.c) ----------------------------------- */

int smmuv3_rmr_install(struct smmuv3_device *smmu);
#if IS_ENABLED(CONFIG_KUNIT)
void smmuv3_rmr_get(struct smmuv3_device *smmu, struct list_head *list);
void smmuv3_rmr_put(struct smmuv3_device *smmu, struct list_head *list);
#endif

/* --- debugfs (debugfs.c) ----------------------------------------------- */

void smmuv3_debugfs_init(void);
void smmuv3_debugfs_exit(void);
void smmuv3_debugfs_add(struct smmuv3_device *smmu);
void smmuv3_debugfs_remove(struct smmuv3_device *smmu);

#endif /* SMMUV3_SMMUV3_H */
