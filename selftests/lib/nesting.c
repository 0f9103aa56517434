// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested translation helpers (see nesting.h).
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/iommufd.h>

#include "nesting.h"
#include "sysfs.h"
#include "vfio.h"

/* ---- Guest STE and CD -------------------------------------------------------- */

void vste_abort(uint64_t ste[2])
{
	ste[0] = VSTE0_V | ((uint64_t)VSTE_CFG_ABORT << VSTE0_CFG_SHIFT);
	ste[1] = 0;
}

void vste_bypass(uint64_t ste[2])
{
	ste[0] = VSTE0_V | ((uint64_t)VSTE_CFG_BYPASS << VSTE0_CFG_SHIFT);
	ste[1] = 0;
}

void vste_s1(uint64_t ste[2], uint64_t cd_ipa, unsigned int s1cdmax)
{
	ste[0] = VSTE0_V | ((uint64_t)VSTE_CFG_S1 << VSTE0_CFG_SHIFT) |
		 (0ULL << VSTE0_S1FMT_SHIFT) | (cd_ipa & VSTE0_S1CTXPTR_MASK) |
		 ((uint64_t)(s1cdmax & 0x1f) << VSTE0_S1CDMAX_SHIFT);
	ste[1] = (0ULL << VSTE1_S1DSS_SHIFT) |
		 ((uint64_t)NEST_CACHE_WBRA << VSTE1_S1CIR_SHIFT) |
		 ((uint64_t)NEST_CACHE_WBRA << VSTE1_S1COR_SHIFT) |
		 ((uint64_t)NEST_SH_ISH << VSTE1_S1CSH_SHIFT);
}

void cd_s1(uint64_t cd[CD_QWORDS], uint16_t asid, uint64_t ttb0_ipa,
	   unsigned int t0sz, unsigned int ips)
{
	memset(cd, 0, CD_SIZE);
	cd[1] = ttb0_ipa & CD1_TTB0_MASK;
	cd[3] = MAIR_ATTR0_NORMAL_WB;
	/* Everything else first: V last, as a guest would publish it. */
	cd[0] = ((uint64_t)(t0sz & 0x3f) << CD0_T0SZ_SHIFT) |
		(0ULL << CD0_TG0_SHIFT) |
		((uint64_t)NEST_CACHE_WBRA << CD0_IRGN0_SHIFT) |
		((uint64_t)NEST_CACHE_WBRA << CD0_ORGN0_SHIFT) |
		((uint64_t)NEST_SH_ISH << CD0_SH0_SHIFT) |
		CD0_EPD1 | ((uint64_t)(ips & 7) << CD0_IPS_SHIFT) | CD0_AA64 |
		CD0_R | CD0_A | CD0_ASET | ((uint64_t)asid << CD0_ASID_SHIFT);
	for (int i = 0; i < CD_QWORDS; i++)
		cd[i] = htole64(cd[i]);
	__sync_synchronize();
	cd[0] |= htole64(CD0_V);
	__sync_synchronize();
}

/* ---- Guest RAM ------------------------------------------------------------- */

int guest_mem_alloc(struct guest_mem *g, size_t pages, uint64_t ipa)
{
	void *p;

	memset(g, 0, sizeof(*g));
	if (!pages || (ipa & (NEST_PAGE_SIZE - 1)))
		return -EINVAL;
	p = mmap(NULL, pages * NEST_PAGE_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	/* Fault every page in now: iommufd pins what is there. */
	memset(p, 0, pages * NEST_PAGE_SIZE);
	g->va = p;
	g->len = pages * NEST_PAGE_SIZE;
	g->ipa = ipa;
	return 0;
}

void guest_mem_free(struct guest_mem *g)
{
	if (g->va)
		munmap(g->va, g->len);
	memset(g, 0, sizeof(*g));
}

uint64_t guest_page_alloc(struct guest_mem *g)
{
	uint64_t ipa;

	if ((g->next + 1) * NEST_PAGE_SIZE > g->len)
		return 0;
	ipa = g->ipa + g->next * NEST_PAGE_SIZE;
	memset(g->va + g->next * NEST_PAGE_SIZE, 0, NEST_PAGE_SIZE);
	g->next++;
	return ipa;
}

bool guest_has(const struct guest_mem *g, uint64_t ipa, size_t len)
{
	return g->va && ipa >= g->ipa && len <= g->len &&
	       ipa - g->ipa <= g->len - len;
}

void *guest_ptr(const struct guest_mem *g, uint64_t ipa)
{
	return guest_has(g, ipa, 1) ? g->va + (ipa - g->ipa) : NULL;
}

/* ---- Stage-1 tables ---------------------------------------------------------- */

int s1_pgtbl_init(struct s1_pgtbl *pt, struct guest_mem *g)
{
	pt->g = g;
	pt->l1_ipa = guest_page_alloc(g);
	return pt->l1_ipa ? 0 : -ENOMEM;
}

static unsigned int s1_index(uint64_t va, int level)
{
	/* Level 1: VA[38:30], level 2: VA[29:21], level 3: VA[20:12]. */
	return (va >> (12 + 9 * (3 - level))) & 0x1ff;
}

static void pte_write(uint64_t *pte, uint64_t val)
{
	/* One single-copy-atomic store, then make it visible. */
	__atomic_store_n(pte, htole64(val), __ATOMIC_RELEASE);
	__sync_synchronize();
}

/* The level-3 table of VA; allocated when ALLOC. */
static uint64_t *s1_l3_table(struct s1_pgtbl *pt, uint64_t va, bool alloc)
{
	uint64_t table = pt->l1_ipa;

	for (int level = 1; level < 3; level++) {
		uint64_t *tbl = guest_ptr(pt->g, table);
		uint64_t *ent, desc;

		if (!tbl)
			return NULL;
		ent = &tbl[s1_index(va, level)];
		desc = le64toh(*ent);
		if ((desc & (PTE_VALID | PTE_TABLE)) != (PTE_VALID | PTE_TABLE)) {
			uint64_t next;

			if (!alloc)
				return NULL;
			next = guest_page_alloc(pt->g);
			if (!next)
				return NULL;
			/* The new table is zero (all invalid) before it is linked. */
			__sync_synchronize();
			desc = (next & PTE_ADDR_MASK) | PTE_TABLE | PTE_VALID;
			pte_write(ent, desc);
		}
		table = desc & PTE_ADDR_MASK;
	}
	return guest_ptr(pt->g, table);
}

uint64_t *s1_pte(struct s1_pgtbl *pt, uint64_t va)
{
	uint64_t *l3 = s1_l3_table(pt, va, false);

	return l3 ? &l3[s1_index(va, 3)] : NULL;
}

int s1_map(struct s1_pgtbl *pt, uint64_t va, uint64_t ipa, bool writable)
{
	uint64_t *l3;

	if ((va | ipa) & (NEST_PAGE_SIZE - 1) || va >> S1_VA_BITS ||
	    ipa & ~PTE_ADDR_MASK)
		return -EINVAL;
	l3 = s1_l3_table(pt, va, true);
	if (!l3)
		return -ENOMEM;
	pte_write(&l3[s1_index(va, 3)],
		  (ipa & PTE_ADDR_MASK) | PTE_VALID | PTE_TABLE |
		  (0ULL << PTE_ATTRINDX_SHIFT) |
		  ((uint64_t)(writable ? PTE_AP_RW_ANY : PTE_AP_RO_ANY) << PTE_AP_SHIFT) |
		  ((uint64_t)NEST_SH_ISH << PTE_SH_SHIFT) | PTE_AF | PTE_NG);
	return 0;
}

int s1_unmap(struct s1_pgtbl *pt, uint64_t va)
{
	uint64_t *pte = s1_pte(pt, va);

	if (!pte)
		return -ENOENT;
	pte_write(pte, 0);
	return 0;
}

/* ---- Commands ------------------------------------------------------------------ */

void cmd_raw(struct nest_cmd *c, uint8_t op, uint64_t w0_rest, uint64_t w1)
{
	c->w[0] = (w0_rest & ~0xffULL) | op;
	c->w[1] = w1;
}

void cmd_tlbi_nh_all(struct nest_cmd *c)
{
	cmd_raw(c, CMD_OP_TLBI_NH_ALL, 0, 0);
}

void cmd_tlbi_nsnh_all(struct nest_cmd *c)
{
	cmd_raw(c, CMD_OP_TLBI_NSNH_ALL, 0, 0);
}

void cmd_tlbi_nh_asid(struct nest_cmd *c, uint16_t asid)
{
	cmd_raw(c, CMD_OP_TLBI_NH_ASID, (uint64_t)asid << 48, 0);
}

void cmd_tlbi_nh_va(struct nest_cmd *c, uint16_t asid, uint64_t va, bool leaf)
{
	cmd_raw(c, CMD_OP_TLBI_NH_VA, (uint64_t)asid << 48,
		(va & ~(NEST_PAGE_SIZE - 1)) | (leaf ? CMD1_LEAF : 0));
}

void cmd_tlbi_nh_vaa(struct nest_cmd *c, uint64_t va, bool leaf)
{
	cmd_raw(c, CMD_OP_TLBI_NH_VAA, 0,
		(va & ~(NEST_PAGE_SIZE - 1)) | (leaf ? CMD1_LEAF : 0));
}

void cmd_cfgi_cd(struct nest_cmd *c, uint32_t sid, uint32_t ssid, bool leaf)
{
	cmd_raw(c, CMD_OP_CFGI_CD,
		((uint64_t)sid << 32) | ((uint64_t)(ssid & 0xfffff) << 12),
		leaf ? CMD1_LEAF : 0);
}

void cmd_cfgi_cd_all(struct nest_cmd *c, uint32_t sid)
{
	cmd_raw(c, CMD_OP_CFGI_CD_ALL, (uint64_t)sid << 32, 0);
}

void cmd_atc_inv_all(struct nest_cmd *c, uint32_t sid)
{
	cmd_raw(c, CMD_OP_ATC_INV, (uint64_t)sid << 32, 52);
}

/* ---- iommufd ------------------------------------------------------------------- */

int iommufd_hw_info_smmuv3(int iommufd, uint32_t dev_id,
			   struct iommu_hw_info_arm_smmuv3 *info, uint32_t *type)
{
	struct iommu_hw_info cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
		.data_len = sizeof(*info),
		.data_uptr = (uintptr_t)info,
	};

	memset(info, 0, sizeof(*info));
	if (ioctl(iommufd, IOMMU_GET_HW_INFO, &cmd))
		return -errno;
	if (type)
		*type = cmd.out_data_type;
	return 0;
}

int iommufd_hwpt_alloc_nest_parent(int iommufd, uint32_t dev_id,
				   uint32_t ioas_id, uint32_t *hwpt_id)
{
	return iommufd_hwpt_alloc(iommufd, dev_id, ioas_id,
				  IOMMU_HWPT_ALLOC_NEST_PARENT, hwpt_id);
}

int iommufd_hwpt_alloc_nested(int iommufd, uint32_t dev_id, uint32_t viommu_id,
			      const uint64_t ste[2], uint32_t *hwpt_id)
{
	struct iommu_hwpt_arm_smmuv3 data = {
		.ste = { htole64(ste[0]), htole64(ste[1]) },
	};
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
		.pt_id = viommu_id,
		.data_type = IOMMU_HWPT_DATA_ARM_SMMUV3,
		.data_len = sizeof(data),
		.data_uptr = (uintptr_t)&data,
	};

	if (ioctl(iommufd, IOMMU_HWPT_ALLOC, &cmd))
		return -errno;
	*hwpt_id = cmd.out_hwpt_id;
	return 0;
}

int iommufd_viommu_alloc_smmuv3(int iommufd, uint32_t dev_id, uint32_t parent_id,
				uint32_t *viommu_id)
{
	struct iommu_viommu_alloc cmd = {
		.size = sizeof(cmd),
		.type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
		.dev_id = dev_id,
		.hwpt_id = parent_id,
	};

	if (ioctl(iommufd, IOMMU_VIOMMU_ALLOC, &cmd))
		return -errno;
	*viommu_id = cmd.out_viommu_id;
	return 0;
}

int iommufd_vdevice_alloc(int iommufd, uint32_t viommu_id, uint32_t dev_id,
			  uint64_t virt_id, uint32_t *vdev_id)
{
	struct iommu_vdevice_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu_id,
		.dev_id = dev_id,
		.virt_id = virt_id,
	};

	if (ioctl(iommufd, IOMMU_VDEVICE_ALLOC, &cmd))
		return -errno;
	*vdev_id = cmd.out_vdevice_id;
	return 0;
}

int iommufd_veventq_alloc_smmuv3(int iommufd, uint32_t viommu_id, uint32_t depth,
				 uint32_t *veventq_id, int *veventq_fd)
{
	struct iommu_veventq_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu_id,
		.type = IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
		.veventq_depth = depth,
	};

	if (ioctl(iommufd, IOMMU_VEVENTQ_ALLOC, &cmd))
		return -errno;
	*veventq_id = cmd.out_veventq_id;
	*veventq_fd = cmd.out_veventq_fd;
	return 0;
}

int iommufd_viommu_invalidate(int iommufd, uint32_t viommu_id,
			      const struct nest_cmd *cmds, uint32_t num,
			      uint32_t *done)
{
	struct iommu_viommu_arm_smmuv3_invalidate *arr = NULL;
	struct iommu_hwpt_invalidate cmd = {
		.size = sizeof(cmd),
		.hwpt_id = viommu_id,
		.data_type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
		.entry_len = sizeof(*arr),
		.entry_num = num,
	};
	int ret = 0;

	if (num) {
		arr = calloc(num, sizeof(*arr));
		if (!arr)
			return -ENOMEM;
		for (uint32_t i = 0; i < num; i++) {
			arr[i].cmd[0] = htole64(cmds[i].w[0]);
			arr[i].cmd[1] = htole64(cmds[i].w[1]);
		}
		cmd.data_uptr = (uintptr_t)arr;
	}
	if (ioctl(iommufd, IOMMU_HWPT_INVALIDATE, &cmd))
		ret = -errno;
	if (done)
		*done = cmd.entry_num;
	free(arr);
	return ret;
}

/* ---- vEVENTQ -------------------------------------------------------------------- */

int veventq_read(int fd, int timeout_ms, struct nest_vevent *ev, int max)
{
	const size_t hsz = sizeof(struct iommufd_vevent_header);
	const size_t rsz = sizeof(struct iommu_vevent_arm_smmuv3);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	unsigned char buf[64 * (sizeof(struct iommufd_vevent_header) +
				sizeof(struct iommu_vevent_arm_smmuv3))];
	size_t off = 0;
	ssize_t n;
	int ret, cnt = 0;

	ret = poll(&pfd, 1, timeout_ms);
	if (ret < 0)
		return -errno;
	if (!ret || !(pfd.revents & POLLIN))
		return 0;
	if (max > 64)
		max = 64;
	/* Whole records only: the kernel never splits one. */
	n = read(fd, buf, max * (hsz + rsz));
	if (n < 0)
		return -errno;
	while (off + hsz <= (size_t)n && cnt < max) {
		struct iommufd_vevent_header h;

		memcpy(&h, buf + off, hsz);
		off += hsz;
		memset(&ev[cnt], 0, sizeof(ev[cnt]));
		ev[cnt].flags = h.flags;
		ev[cnt].sequence = h.sequence;
		if (h.flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS) {
			ev[cnt++].lost = true;
			continue;
		}
		if (off + rsz > (size_t)n)
			return -EPROTO;
		for (int i = 0; i < 4; i++) {
			uint64_t w;

			memcpy(&w, buf + off + 8 * i, 8);
			ev[cnt].evt[i] = le64toh(w);
		}
		off += rsz;
		cnt++;
	}
	return cnt;
}

/* ---- smmuv3.ko -------------------------------------------------------------------- */

int viommu_opt_in_get(void)
{
	char buf[16];
	int ret = sysfs_read(VIOMMU_OPT_IN_PARAM, buf, sizeof(buf));

	if (ret < 0)
		return ret;
	return buf[0] == 'Y' || buf[0] == 'y' || buf[0] == '1';
}

int viommu_opt_in_set(bool on)
{
	return sysfs_write(VIOMMU_OPT_IN_PARAM, on ? "1" : "0");
}

