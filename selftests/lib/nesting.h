/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Nested translation helpers for the smmuv3 selftests: what a VMM and its
 * guest kernel do for a device assigned through a virtual SMMUv3.
 *
 *  - iommufd wrappers: hardware information, nesting-parent and nested
 *    HWPTs, vIOMMUs, vdevices, vEVENTQs and guest invalidation commands
 *    (IOMMU_HWPT_INVALIDATE on a vIOMMU);
 *  - "guest RAM": an anonymous buffer that the test maps into an IOAS at a
 *    fixed IOVA, which is then the guest's intermediate physical address
 *    (IPA) space, and a page allocator in it;
 *  - guest structures, built in guest RAM the way a guest kernel would:
 *    AArch64 stage-1 translation tables (4K granule), a context descriptor
 *    (CD), the two words of a guest stream table entry (vSTE) and the
 *    16-byte guest commands;
 *  - the viommu_assume_coherent parameter of smmuv3.ko and the
 *    /sys/kernel/debug/smmuv3/domains file of smmuv3.ko.
 *
 * Every field value below comes from the Arm SMMUv3 specification (IHI
 * 0070: 5.2 STE, 5.4 CD, 4.4/4.5 commands, 7.3 event records) and the Arm
 * ARM (VMSAv8-64 translation table descriptors).  Functions return 0 (or a
 * count) or a negative errno; they never exit.
 */
#ifndef SMMUV3_SELFTEST_NESTING_H
#define SMMUV3_SELFTEST_NESTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NEST_PAGE_SIZE		4096ULL
#define NEST_PAGE_SHIFT		12

/* ---- Guest stream table entry, words 0 and 1 ----------------------------- */

#define VSTE0_V			(1ULL << 0)
#define VSTE0_CFG_SHIFT		1		/* bits 3:1 */
#define VSTE0_CFG_MASK		(7ULL << 1)
#define  VSTE_CFG_ABORT		0x0
#define  VSTE_CFG_BYPASS	0x4
#define  VSTE_CFG_S1		0x5
#define  VSTE_CFG_S2		0x6
#define  VSTE_CFG_NESTED	0x7
#define VSTE0_S1FMT_SHIFT	4		/* bits 5:4, 0 = linear */
#define VSTE0_S1CTXPTR_MASK	0x000fffffffffffc0ULL	/* bits 51:6 */
#define VSTE0_S1CDMAX_SHIFT	59		/* bits 63:59 */
#define VSTE1_S1DSS_SHIFT	0		/* bits 1:0 */
#define VSTE1_S1CIR_SHIFT	2		/* bits 3:2 */
#define VSTE1_S1COR_SHIFT	4		/* bits 5:4 */
#define VSTE1_S1CSH_SHIFT	6		/* bits 7:6 */
#define VSTE1_S1STALLD		(1ULL << 27)
#define VSTE1_EATS_SHIFT	28		/* bits 29:28 */
#define VSTE1_STRW_SHIFT	30		/* bits 31:30 */
#define  NEST_CACHE_WBRA	0x1		/* STE/CD cacheability: WB */
#define  NEST_SH_ISH		0x3		/* inner shareable */

/* V | Cfg=abort, V | Cfg=bypass. */
void vste_abort(uint64_t ste[2]);
void vste_bypass(uint64_t ste[2]);
/*
 * V | Cfg=S1 translate | S1Fmt linear | S1ContextPtr = cd_ipa | S1CDMax;
 * word 1: S1DSS 0, S1CIR/S1COR write-back, S1CSH inner shareable.
 */
void vste_s1(uint64_t ste[2], uint64_t cd_ipa, unsigned int s1cdmax);

/* ---- Context descriptor ------------------------------------------------- */

#define CD_QWORDS		8
#define CD_SIZE			64
#define CD0_T0SZ_SHIFT		0		/* bits 5:0 */
#define CD0_TG0_SHIFT		6		/* bits 7:6, 0 = 4K */
#define CD0_IRGN0_SHIFT		8
#define CD0_ORGN0_SHIFT		10
#define CD0_SH0_SHIFT		12
#define CD0_EPD0		(1ULL << 14)
#define CD0_EPD1		(1ULL << 30)
#define CD0_V			(1ULL << 31)
#define CD0_IPS_SHIFT		32		/* bits 34:32 */
#define CD0_AA64		(1ULL << 41)
#define CD0_R			(1ULL << 45)
#define CD0_A			(1ULL << 46)
#define CD0_ASET		(1ULL << 47)
#define CD0_ASID_SHIFT		48		/* bits 63:48 */
#define CD1_TTB0_MASK		0x000ffffffffffff0ULL	/* bits 51:4 */
#define  CD_IPS_32		0x0
#define  CD_IPS_36		0x1
#define  CD_IPS_40		0x2
#define  CD_IPS_42		0x3
#define  CD_IPS_44		0x4
#define  CD_IPS_48		0x5
/* MAIR attribute 0: normal memory, inner/outer write-back RW-allocate. */
#define MAIR_ATTR0_NORMAL_WB	0xffULL

/*
 * A valid AArch64 stage-1 CD as a guest kernel writes it: TTB0 = ttb0_ipa
 * with 4K granule and T0SZ t0sz, walks write-back inner shareable, TTB1
 * disabled, IPS ips, faults recorded (R) and aborted (A), ASID asid,
 * MAIR attribute 0 normal write-back.
 */
void cd_s1(uint64_t cd[CD_QWORDS], uint16_t asid, uint64_t ttb0_ipa,
	   unsigned int t0sz, unsigned int ips);

/* ---- Guest RAM ------------------------------------------------------------- */

struct guest_mem {
	uint8_t *va;		/* our mapping */
	size_t len;		/* bytes, whole pages */
	uint64_t ipa;		/* IPA (= IOVA in the IOAS) of va[0] */
	size_t next;		/* first page not handed out */
};

/* Map PAGES zeroed pages that will live at IPA (page aligned). */
int guest_mem_alloc(struct guest_mem *g, size_t pages, uint64_t ipa);
void guest_mem_free(struct guest_mem *g);
/* Hand out the next page (zeroed): its IPA, or 0 when none is left. */
uint64_t guest_page_alloc(struct guest_mem *g);
/* Our pointer to the byte at IPA, or NULL outside guest RAM. */
void *guest_ptr(const struct guest_mem *g, uint64_t ipa);
bool guest_has(const struct guest_mem *g, uint64_t ipa, size_t len);

/* ---- AArch64 stage-1 translation tables, 4K granule -------------------- */

#define PTE_VALID		(1ULL << 0)
#define PTE_TABLE		(1ULL << 1)	/* levels 0-2: table; level 3: page */
#define PTE_ATTRINDX_SHIFT	2		/* bits 4:2 */
#define PTE_AP_SHIFT		6		/* bits 7:6 */
#define  PTE_AP_RW_ANY		0x1		/* AP[2:1] = 01: RW, EL0 too */
#define  PTE_AP_RO_ANY		0x3		/* AP[2:1] = 11: RO, EL0 too */
#define PTE_SH_SHIFT		8		/* bits 9:8 */
#define PTE_AF			(1ULL << 10)
#define PTE_NG			(1ULL << 11)
#define PTE_ADDR_MASK		0x0000fffffffff000ULL	/* bits 47:12 */

/*
 * T0SZ 25: 39-bit input addresses, a walk that starts at level 1
 * (VA[38:30]), then level 2 (VA[29:21]) and level 3 (VA[20:12]).
 */
#define S1_T0SZ			25
#define S1_VA_BITS		(64 - S1_T0SZ)

struct s1_pgtbl {
	struct guest_mem *g;
	uint64_t l1_ipa;	/* TTB0 */
};

/* Allocate the level-1 table in guest RAM. */
int s1_pgtbl_init(struct s1_pgtbl *pt, struct guest_mem *g);
/*
 * Map the 4K page at VA to IPA (allocating level-2/3 tables as needed),
 * as Linux's io-pgtable would: page | AF | inner shareable | AP (RO or
 * RW, unprivileged access allowed) | nG | AttrIndx 0.
 * -EINVAL for an unaligned or out-of-range address, -ENOMEM when guest
 * RAM is exhausted.  An existing mapping is overwritten.
 */
int s1_map(struct s1_pgtbl *pt, uint64_t va, uint64_t ipa, bool writable);
/* Clear the level-3 entry of VA (tables stay).  -ENOENT if none. */
int s1_unmap(struct s1_pgtbl *pt, uint64_t va);
/* Our pointer to the level-3 entry of VA, or NULL if its tables are absent. */
uint64_t *s1_pte(struct s1_pgtbl *pt, uint64_t va);

/* ---- Guest commands (IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3) ----------- */

#define CMD_OP_CFGI_STE		0x03
#define CMD_OP_CFGI_CD		0x05
#define CMD_OP_CFGI_CD_ALL	0x06
#define CMD_OP_TLBI_NH_ALL	0x10
#define CMD_OP_TLBI_NH_ASID	0x11
#define CMD_OP_TLBI_NH_VA	0x12
#define CMD_OP_TLBI_NH_VAA	0x13
#define CMD_OP_TLBI_EL2_ALL	0x20
#define CMD_OP_TLBI_S12_VMALL	0x28
#define CMD_OP_TLBI_S2_IPA	0x2a
#define CMD_OP_TLBI_NSNH_ALL	0x30
#define CMD_OP_ATC_INV		0x40
#define CMD1_LEAF		(1ULL << 0)

struct nest_cmd {
	uint64_t w[2];		/* little-endian on the wire */
};

void cmd_tlbi_nh_all(struct nest_cmd *c);
void cmd_tlbi_nsnh_all(struct nest_cmd *c);
void cmd_tlbi_nh_asid(struct nest_cmd *c, uint16_t asid);
/* One 4K page at VA (no range: TG = 0), ASID in word 0 [63:48]. */
void cmd_tlbi_nh_va(struct nest_cmd *c, uint16_t asid, uint64_t va, bool leaf);
void cmd_tlbi_nh_vaa(struct nest_cmd *c, uint64_t va, bool leaf);
/* SID in word 0 [63:32], SSID [31:12]. */
void cmd_cfgi_cd(struct nest_cmd *c, uint32_t sid, uint32_t ssid, bool leaf);
void cmd_cfgi_cd_all(struct nest_cmd *c, uint32_t sid);
/* The whole ATC of a stream (Size 52). */
void cmd_atc_inv_all(struct nest_cmd *c, uint32_t sid);
/* Only the opcode (word 0 [7:0]). */
void cmd_raw(struct nest_cmd *c, uint8_t op, uint64_t w0_rest, uint64_t w1);

/* ---- iommufd ------------------------------------------------------------- */

struct iommu_hw_info_arm_smmuv3;

/* IDR0 S1P (bit 1) and S2P (bit 0); IDR1 SSIDSIZE (bits 10:6); IDR3 FWB (bit 8). */
#define NEST_IDR0_S2P		(1U << 0)
#define NEST_IDR0_S1P		(1U << 1)
#define NEST_IDR1_SSIDSIZE(x)	(((x) >> 6) & 0x1f)
#define NEST_IDR3_FWB		(1U << 8)

/*
 * IOMMU_GET_HW_INFO for DEV_ID.  *type gets the type the kernel gave;
 * the data is only meaningful for IOMMU_HW_INFO_TYPE_ARM_SMMUV3.
 */
int iommufd_hw_info_smmuv3(int iommufd, uint32_t dev_id,
			   struct iommu_hw_info_arm_smmuv3 *info, uint32_t *type);
/* IOMMU_HWPT_ALLOC from an IOAS with IOMMU_HWPT_ALLOC_NEST_PARENT. */
int iommufd_hwpt_alloc_nest_parent(int iommufd, uint32_t dev_id,
				   uint32_t ioas_id, uint32_t *hwpt_id);
/* IOMMU_HWPT_ALLOC on a vIOMMU with an IOMMU_HWPT_DATA_ARM_SMMUV3 vSTE. */
int iommufd_hwpt_alloc_nested(int iommufd, uint32_t dev_id, uint32_t viommu_id,
			      const uint64_t ste[2], uint32_t *hwpt_id);
/* IOMMU_VIOMMU_ALLOC, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, no driver data. */
int iommufd_viommu_alloc_smmuv3(int iommufd, uint32_t dev_id, uint32_t parent_id,
				uint32_t *viommu_id);
int iommufd_vdevice_alloc(int iommufd, uint32_t viommu_id, uint32_t dev_id,
			  uint64_t virt_id, uint32_t *vdev_id);
/* IOMMU_VEVENTQ_ALLOC, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3: the object and its fd. */
int iommufd_veventq_alloc_smmuv3(int iommufd, uint32_t viommu_id, uint32_t depth,
				 uint32_t *veventq_id, int *veventq_fd);
/*
 * IOMMU_HWPT_INVALIDATE on a vIOMMU with NUM guest commands (converted
 * to little-endian).  *done (may be NULL) gets entry_num as the kernel
 * returned it, also on failure.
 */
int iommufd_viommu_invalidate(int iommufd, uint32_t viommu_id,
			      const struct nest_cmd *cmds, uint32_t num,
			      uint32_t *done);

/* ---- vEVENTQ ------------------------------------------------------------- */

#define EVT_ID(evt0)		((unsigned int)((evt0) & 0xff))
#define EVT_SID(evt0)		((uint32_t)((evt0) >> 32))
#define  EVT_F_TRANSLATION	0x10
/* Word 1: S2 [39], the fault is in stage 2; CLASS [41:40]. */
#define EVT1_S2			(1ULL << 39)
#define EVT1_CLASS(evt1)	((unsigned int)(((evt1) >> 40) & 3))

struct nest_vevent {
	uint32_t flags;		/* IOMMU_VEVENTQ_FLAG_* */
	uint32_t sequence;
	bool lost;		/* a lost-events header, no record */
	uint64_t evt[4];	/* CPU order */
};

/*
 * Wait up to TIMEOUT_MS for the vEVENTQ fd to become readable, then read
 * what is there (at most MAX records).  Returns the number of records and
 * headers read (0 when nothing came in time) or -errno.  Never blocks
 * longer than the timeout.
 */
int veventq_read(int fd, int timeout_ms, struct nest_vevent *ev, int max);

/* ---- smmuv3.ko ------------------------------------------------------------ */

#define VIOMMU_OPT_IN_PARAM "/sys/module/smmuv3/parameters/viommu_assume_coherent"

/* 1 or 0, or -errno (-ENOENT: not our driver, or no such parameter). */
int viommu_opt_in_get(void);
int viommu_opt_in_set(bool on);

#endif
