// SPDX-License-Identifier: GPL-2.0-only
/*
 * smmuv3_nesting: nested translation through vIOMMUs, the way a VMM uses
 * it for a guest with one virtual SMMU per physical SMMU instance.
 *
 * Two edus, A behind one instance and B behind another, are bound to one
 * iommufd.  One IOAS holds "guest RAM" (an anonymous buffer mapped at a
 * fixed IOVA, which is the guest's IPA).  ONE nesting-parent HWPT (the
 * stage 2) is allocated for A, and a vIOMMU is made on each instance on
 * top of that same parent: the design under test (one stage 2 shared by a
 * vIOMMU per physical SMMU, each vIOMMU with its own VMID).
 *
 *   two_viommus_share_parent  the setup above succeeds.
 *   bypass_vste               guest STE Cfg=bypass for both devices: DMA
 *       is translated by the shared stage 2 alone; smmuv3.ko's debugfs
 *       shows one vIOMMU VMID (type 2) per instance in the parent's
 *       invalidation array while attached and none after; a stage-2
 *       change (IOAS unmap + map) reaches the TLBs of both instances.
 *   guest_stage1              guest STE Cfg=S1 with a CD and stage-1
 *       tables built in guest RAM: DMA to guest VAs lands in the right IPA
 *       pages; a changed PTE plus a guest TLBI_NH_VA through
 *       IOMMU_HWPT_INVALIDATE makes DMA follow the new mapping; a
 *       stage-2 change under a nested stage 1 is seen too.
 *   fault_to_veventq          DMA to an unmapped guest VA raises
 *       F_TRANSLATION in A's vIOMMU's vEVENTQ with A's virtual StreamID
 *       (and nothing in B's); mapping the VA + TLBI makes DMA work again.
 *   s2_fault_stays_host       DMA to a guest VA whose stage 1 maps it to
 *       an IPA the parent's stage 2 does not map: the stage-2 faults
 *       (EVT1.S2 = 1) stay with the host (smmuv3.ko counts them) and none
 *       reaches the vEVENTQ; a stage-1 fault raised after them still does,
 *       which also shows the earlier ones were handled by then.
 *   vdevice_wrong_instance, attach_wrong_instance, attach_without_vdevice,
 *   bad_vste, bad_invalidate, viommu_needs_opt_in, destroy_order,
 *   close_iommufd_alive       errors give a clean errno and leave a
 *       working system; objects in use cannot be destroyed (EBUSY), and
 *       closing everything at once (a killed VMM) leaves the devices
 *       usable.
 *
 * QEMU's SMMU has no S2FWB, so smmuv3.ko only makes vIOMMUs with its
 * viommu_assume_coherent parameter set: the tests set it and always write
 * 0 back.  Upstream arm-smmu-v3 refuses vIOMMUs there (no S2FWB/CANWBS)
 * and cannot share a parent across instances, so most of these tests fail
 * with it: that is expected.
 *
 * Needs two instances that both implement stage 1 and stage 2, each with
 * an edu behind it; otherwise every test is skipped with the reason.
 */
#include <endian.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/iommufd.h>

#include "kselftest_harness.h"

#include "debugfs.h"
#include "dmacheck.h"
#include "edu.h"
#include "edusetup.h"
#include "env.h"
#include "mem.h"
#include "nesting.h"
#include "sysfs.h"
#include "vfio.h"

#define LEN		EDU_BUF_SIZE
#define PAGE		NEST_PAGE_SIZE
#define TIMEOUT		300

/* Guest physical layout: guest RAM, and one page mapped on its own. */
#define IPA_BASE	0x40000000ULL
#define GUEST_PAGES	96
#define IPA_SWAP	(IPA_BASE + 0x200000ULL)
#define NSWAP		2

/* Guest virtual layout (39-bit VAs, far from any IPA). */
#define VA_BASE		0x5234600000ULL
#define VA(i)		(VA_BASE + (uint64_t)(i) * PAGE)
#define VA_SRC		VA(0)
#define VA_DST		VA(1)
#define VA_SWAP		VA(10)	/* -> IPA_SWAP */
#define VA_UNMAPPED	VA(20)	/* no PTE (its tables exist) */
#define VA_S2HOLE	VA(30)	/* -> IPA_HOLE, which stage 2 does not map */
#define IPA_HOLE	(IPA_BASE + 0x400000ULL)
#define NDATA		8
#define NMAP		4
#define REMAP_IDX	2	/* a data page no VA maps at first */
#define FAULT_LEN	64	/* bytes written to an unmapped VA */

static const uint64_t virt_ids[2] = { 0x10, 0x20 };
static const uint16_t asids[2] = { 0x5a, 0x3b7 };
static const char dev_name[2] = { 'A', 'B' };

FIXTURE(nest)
{
	/* Also read by the teardown, in the harness's parent process. */
	char bdf[2][32];
	char inst[2][128];
	char orig_drv[2][64];
	bool touched[2];
	/* The test process. */
	int iommufd;
	struct vfio_dev dev[2];
	struct edu edu[2];
	struct iommu_hw_info_arm_smmuv3 info[2];
	uint32_t ioas, parent;
	uint32_t viommu[2], vdev[2], nested[2], veventq[2];
	int vevfd[2];
	struct guest_mem gm;
	uint8_t *swap[NSWAP];
	int swap_cur;		/* which swap page is at IPA_SWAP, -1 none */
	uint8_t *snap;		/* world snapshot */
	uint8_t pat[LEN];
	struct prng rng;
	/* Guest stage 1, per device. */
	bool s1_built[2];
	struct s1_pgtbl pt[2];
	uint64_t cd_ipa[2];
	uint64_t data_ipa[2][NDATA];
	uint64_t t0;
};

/* ---- Small helpers -------------------------------------------------------- */

/* Which data page of device d a VA(i) maps first: not the identity. */
static int map_idx(int d, int i)
{
	return d == 0 ? NDATA - 1 - i : (i + 5) % NDATA;
}

static void *gp(FIXTURE_DATA(nest) *self, uint64_t ipa)
{
	return guest_ptr(&self->gm, ipa);
}

/* The "world": guest RAM and the swap pages, whatever is mapped. */
static size_t world_len(FIXTURE_DATA(nest) *self)
{
	return self->gm.len + NSWAP * PAGE;
}

static uint8_t *world_at(FIXTURE_DATA(nest) *self, size_t off)
{
	if (off < self->gm.len)
		return self->gm.va + off;
	off -= self->gm.len;
	return self->swap[off / PAGE] + off % PAGE;
}

static void world_snap(FIXTURE_DATA(nest) *self)
{
	memcpy(self->snap, self->gm.va, self->gm.len);
	for (int i = 0; i < NSWAP; i++)
		memcpy(self->snap + self->gm.len + i * PAGE, self->swap[i], PAGE);
}

static const char *describe(FIXTURE_DATA(nest) *self, const void *p, char *buf,
			    size_t len)
{
	const uint8_t *b = p;

	if (!p) {
		snprintf(buf, len, "nowhere");
	} else if (b >= self->gm.va && b < self->gm.va + self->gm.len) {
		snprintf(buf, len, "guest RAM at IPA %#llx",
			 (unsigned long long)(self->gm.ipa + (b - self->gm.va)));
	} else {
		for (int i = 0; i < NSWAP; i++)
			if (b >= self->swap[i] && b < self->swap[i] + PAGE)
				snprintf(buf, len, "swap page %d (%s IPA %#llx)", i,
					 self->swap_cur == i ? "now at" : "no longer at",
					 (unsigned long long)IPA_SWAP);
	}
	return buf;
}

/* ---- DMA ------------------------------------------------------------------------ */

struct dma_result {
	int rc_to, rc_from;
	size_t dst_diff;	/* bytes of the destination that are not the pattern */
	size_t dst_written;	/* bytes of the destination that changed at all */
	size_t others;		/* bytes changed outside the destination page */
	const void *first_other;
	const void *landed;	/* another page that now holds the pattern */
};

/*
 * Device D reads LEN bytes at device address SRC (backed by SRC_MEM) into
 * its buffer, then writes them to DST (expected to be backed by DST_MEM).
 * SRC_MEM gets a fresh pattern first, bytewise different from DST_MEM.
 */
static void dma_probe_len(FIXTURE_DATA(nest) *self, int d, uint64_t src, void *src_mem,
			  uint64_t dst, void *dst_mem, size_t wlen, struct dma_result *r)
{
	size_t wl = world_len(self);

	memset(r, 0, sizeof(*r));
	mem_fill_distinct(src_mem, dst_mem, NULL, LEN, &self->rng);
	memcpy(self->pat, src_mem, LEN);
	world_snap(self);

	r->rc_to = edu_dma_to_device(&self->edu[d], src, LEN);
	r->rc_from = edu_dma_from_device(&self->edu[d], dst, wlen);

	r->dst_diff = dst_mem ? mem_diff(dst_mem, self->pat, wlen, NULL) : wlen;
	for (size_t off = 0; off < wl; off += PAGE) {
		uint8_t *pg = world_at(self, off);

		if (pg == dst_mem) {
			r->dst_written = mem_diff(pg, self->snap + off, PAGE, NULL);
			continue;
		}
		if (memcmp(pg, self->snap + off, PAGE)) {
			long first;
			size_t n = mem_diff(pg, self->snap + off, PAGE, &first);

			if (!r->others)
				r->first_other = pg + first;
			r->others += n;
		}
		if (pg != src_mem && !r->landed && !memcmp(pg, self->pat, LEN))
			r->landed = pg;
	}
}

static void dma_probe(FIXTURE_DATA(nest) *self, int d, uint64_t src, void *src_mem,
		      uint64_t dst, void *dst_mem, struct dma_result *r)
{
	dma_probe_len(self, d, src, src_mem, dst, dst_mem, LEN, r);
}

/* What the kernel and the vEVENTQ say, after a DMA went wrong. */
static void diag_dump(FIXTURE_DATA(nest) *self, int d)
{
	char path[256], line[256];
	struct nest_vevent ev[8];
	FILE *f;
	int n;

	if (self->vevfd[d] >= 0) {
		n = veventq_read(self->vevfd[d], 200, ev, 8);
		INFO("diag: vEVENTQ %d: %d record(s)", d, n);
		for (int i = 0; i < n; i++)
			INFO("diag:   seq %u%s evt %016llx %016llx %016llx %016llx",
			     ev[i].sequence, ev[i].lost ? " lost" : "",
			     (unsigned long long)ev[i].evt[0], (unsigned long long)ev[i].evt[1],
			     (unsigned long long)ev[i].evt[2], (unsigned long long)ev[i].evt[3]);
	}
	for (int k = 0; k < 3; k++) {
		if (k == 0)
			snprintf(path, sizeof(path), SMMUV3_DEBUGFS "/domains");
		else
			snprintf(path, sizeof(path), "/sys/kernel/debug/smmuv3/%s/%s",
				 self->inst[d], k == 1 ? "streams" : "stats");
		f = fopen(path, "r");
		if (!f)
			continue;
		INFO("diag: %s", path);
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = 0;
			INFO("diag:   %s", line);
		}
		fclose(f);
	}
}

#define DMA_EXPECT(self, d, src, src_mem, dst, dst_mem, what) do { \
	struct dma_result __r; \
	char __w1[96], __w2[96]; \
	dma_probe(self, d, src, src_mem, dst, dst_mem, &__r); \
	if (__r.rc_to || __r.rc_from || __r.dst_diff || __r.others) \
		diag_dump(self, d); \
	ASSERT_EQ(0, __r.rc_to) TH_LOG("%s: edu %c DMA RAM -> device did not complete: %s", \
				       what, dev_name[d], errname(__r.rc_to)); \
	ASSERT_EQ(0, __r.rc_from) TH_LOG("%s: edu %c DMA device -> RAM did not complete: %s", \
					 what, dev_name[d], errname(__r.rc_from)); \
	ASSERT_EQ((size_t)0, __r.dst_diff) \
		TH_LOG("%s: edu %c copied %d bytes from device address %#llx to %#llx: " \
		       "expected them in %s, found %zu bytes differ (%zu changed); the pattern " \
		       "is in %s", what, dev_name[d], LEN, (unsigned long long)(src), \
		       (unsigned long long)(dst), describe(self, dst_mem, __w1, sizeof(__w1)), \
		       __r.dst_diff, __r.dst_written, \
		       describe(self, __r.landed, __w2, sizeof(__w2))); \
	ASSERT_EQ((size_t)0, __r.others) \
		TH_LOG("%s: edu %c's DMA to %#llx changed %zu bytes outside its destination " \
		       "(first in %s)", what, dev_name[d], (unsigned long long)(dst), \
		       __r.others, describe(self, __r.first_other, __w1, sizeof(__w1))); \
} while (0)

/* ---- Setup and teardown ------------------------------------------------------------ */

static void swap_map(struct __test_metadata *_metadata, FIXTURE_DATA(nest) *self,
		     int which)
{
	uint64_t iova = IPA_SWAP;
	int ret;

	if (self->swap_cur >= 0) {
		ret = iommufd_ioas_unmap(self->iommufd, self->ioas, IPA_SWAP, PAGE, NULL);
		ASSERT_EQ(0, ret) TH_LOG("IOMMU_IOAS_UNMAP IOVA %#llx: %s",
					 (unsigned long long)IPA_SWAP, errname(ret));
		self->swap_cur = -1;
	}
	if (which < 0)
		return;
	ret = iommufd_ioas_map(self->iommufd, self->ioas, self->swap[which], PAGE, &iova,
			       true, IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE);
	ASSERT_EQ(0, ret) TH_LOG("IOMMU_IOAS_MAP swap page %d at IOVA %#llx: %s", which,
				 (unsigned long long)IPA_SWAP, errname(ret));
	self->swap_cur = which;
}

/* A new IOAS with guest RAM and swap page 0, and the nesting parent for A. */
static void make_ioas_parent(struct __test_metadata *_metadata, FIXTURE_DATA(nest) *self)
{
	uint64_t iova = IPA_BASE;
	int ret;

	ret = iommufd_ioas_alloc(self->iommufd, &self->ioas);
	ASSERT_EQ(0, ret) TH_LOG("IOMMU_IOAS_ALLOC: %s", errname(ret));
	ret = iommufd_ioas_map(self->iommufd, self->ioas, self->gm.va, self->gm.len, &iova,
			       true, IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE);
	ASSERT_EQ(0, ret) TH_LOG("IOMMU_IOAS_MAP guest RAM (%zu bytes) at IPA %#llx: %s",
				 self->gm.len, (unsigned long long)IPA_BASE, errname(ret));
	self->swap_cur = -1;
	swap_map(_metadata, self, 0);
	ret = iommufd_hwpt_alloc_nest_parent(self->iommufd, self->dev[0].devid, self->ioas,
					     &self->parent);
	ASSERT_EQ(0, ret) TH_LOG("IOMMU_HWPT_ALLOC NEST_PARENT for %s (behind %s) on the "
				 "IOAS: %s", self->bdf[0], self->inst[0], errname(ret));
}

/* Bind both edus to a new iommufd, map BAR0s; guest RAM in a new IOAS. */
static void nest_open(struct __test_metadata *_metadata, FIXTURE_DATA(nest) *self)
{
	int ret;

	self->iommufd = iommufd_open();
	ASSERT_LE(0, self->iommufd) TH_LOG("open /dev/iommu: %s",
					   errname(self->iommufd));
	for (int d = 0; d < 2; d++) {
		self->touched[d] = true;
		ret = vfio_dev_open(&self->dev[d], self->bdf[d], self->iommufd);
		ASSERT_EQ(0, ret) TH_LOG("%s", self->dev[d].err);
		ret = vfio_dev_edu(&self->dev[d], &self->edu[d]);
		ASSERT_EQ(0, ret) TH_LOG("%s", self->dev[d].err);
		self->vevfd[d] = -1;
	}
	if (!self->gm.va) {
		ret = guest_mem_alloc(&self->gm, GUEST_PAGES, IPA_BASE);
		ASSERT_EQ(0, ret) TH_LOG("guest RAM: %s", errname(ret));
		for (int i = 0; i < NSWAP; i++) {
			self->swap[i] = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
					     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			ASSERT_NE(MAP_FAILED, self->swap[i]);
			memset(self->swap[i], 0x5a + i, PAGE);
		}
		self->snap = malloc(world_len(self));
		ASSERT_NE(NULL, self->snap);
	}
	make_ioas_parent(_metadata, self);
}

static void destroy_ok(struct __test_metadata *_metadata, FIXTURE_DATA(nest) *self,
		       uint32_t *id, const char *what)
{
	int ret;

	if (!*id)
		return;
	ret = iommufd_destroy(self->iommufd, *id);
	ASSERT_EQ(0, ret) TH_LOG("IOMMU_DESTROY %s (id %u), nothing using it any more: %s",
				 what, *id, errname(ret));
	*id = 0;
}

/*
 * Everything back, in the order a VMM would: detach, nested HWPTs,
 * vdevices, vEVENTQs, vIOMMUs, the parent, the IOAS; then the devices go
 * back to their drivers and the iommufd is closed.
 */
static void nest_close(struct __test_metadata *_metadata, FIXTURE_DATA(nest) *self)
{
	int ret;

	for (int d = 0; d < 2; d++) {
		if (self->dev[d].fd >= 0 && self->dev[d].pt_id) {
			ret = dev_detach(&self->dev[d]);
			ASSERT_EQ(0, ret) TH_LOG("%s", self->dev[d].err);
		}
	}
	for (int d = 0; d < 2; d++) {
		destroy_ok(_metadata, self, &self->nested[d], "nested HWPT");
		destroy_ok(_metadata, self, &self->vdev[d], "vdevice");
		if (self->vevfd[d] >= 0)
			close(self->vevfd[d]);
		self->vevfd[d] = -1;
		destroy_ok(_metadata, self, &self->veventq[d], "vEVENTQ");
	}
	for (int d = 0; d < 2; d++)
		destroy_ok(_metadata, self, &self->viommu[d], "vIOMMU");
	destroy_ok(_metadata, self, &self->parent, "nesting parent HWPT");
	if (self->ioas) {
		ret = iommufd_ioas_unmap(self->iommufd, self->ioas, 0, UINT64_MAX, NULL);
		ASSERT_EQ(0, ret) TH_LOG("IOMMU_IOAS_UNMAP all: %s", errname(ret));
		self->swap_cur = -1;
	}
	destroy_ok(_metadata, self, &self->ioas, "IOAS");
	for (int d = 0; d < 2; d++)
		vfio_dev_close(&self->dev[d]);
	if (self->iommufd >= 0)
		close(self->iommufd);
	self->iommufd = -1;
}

FIXTURE_SETUP(nest)
{
	struct edu_pick pick[2];
	char drv[64];
	int n, ret;

	memset(self, 0, sizeof(*self));
	self->iommufd = -1;
	self->dev[0].fd = self->dev[1].fd = -1;
	self->vevfd[0] = self->vevfd[1] = -1;
	self->swap_cur = -1;
	self->t0 = now_ms();
	prng_seed(&self->rng, prng_time_seed());

	/* The first edu, then the first behind another instance. */
	n = edus_on_distinct_instances(pick, 2);
	ASSERT_LE(0, n) TH_LOG("listing edus: %s", errname(n));
	if (n < 2)
		SKIP(return, "needs two SMMU instances with an edu behind each; topology %s "
		     "has %d instance(s) with an edu", env_topology() ?: "?", n);
	for (int d = 0; d < 2; d++) {
		snprintf(self->bdf[d], sizeof(self->bdf[d]), "%s", pick[d].bdf);
		snprintf(self->inst[d], sizeof(self->inst[d]), "%s", pick[d].inst);
	}
	for (int d = 0; d < 2; d++) {
		ret = pci_driver(self->bdf[d], drv, sizeof(drv));
		ASSERT_EQ(0, ret);
		snprintf(self->orig_drv[d], sizeof(self->orig_drv[d]), "%s", drv);
	}
}

/*
 * Start of every test (not in the setup: the teardown, which gives the
 * edus back, runs only once the setup has completed): bind both edus,
 * skip unless both instances can nest, set the opt-in.
 */
static bool nest_begin(struct __test_metadata *_metadata, FIXTURE_DATA(nest) *self)
{
	char why[200];
	uint32_t type;
	int ret;

	/* Our module says what its build for this kernel leaves out, and why. */
	if (env_driver_ours()) {
		static const char *const needs[] = { "viommu", "nested" };

		for (int i = 0; i < 2; i++) {
			ret = dbg_build_feature(needs[i], why, sizeof(why));
			if (!ret)
				SKIP(return false, "smmuv3.ko offers no %s here: %s",
				     needs[i], why);
		}
	}
	nest_open(_metadata, self);
	for (int d = 0; d < 2; d++) {
		uint32_t *idr = self->info[d].idr;

		ret = iommufd_hw_info_smmuv3(self->iommufd, self->dev[d].devid,
					     &self->info[d], &type);
		ASSERT_EQ(0, ret) TH_LOG("IOMMU_GET_HW_INFO for %s: %s", self->bdf[d],
					 errname(ret));
		if (type != IOMMU_HW_INFO_TYPE_ARM_SMMUV3) {
			uint32_t id = 0;

			/*
			 * No SMMUv3 registers from this driver (e.g. built without
			 * its iommufd support): ask for a nesting parent instead.
			 */
			memset(&self->info[d], 0, sizeof(self->info[d]));
			ret = iommufd_hwpt_alloc_nest_parent(self->iommufd, self->dev[d].devid,
							     self->ioas, &id);
			if (ret == -EOPNOTSUPP)
				SKIP(return false, "no nesting: no nesting parent for %s (behind "
				     "%s): %s", self->bdf[d], self->inst[d], errname(ret));
			ASSERT_EQ(0, ret) TH_LOG("IOMMU_HWPT_ALLOC NEST_PARENT for %s: %s",
						 self->bdf[d], errname(ret));
			ASSERT_EQ(0, iommufd_destroy(self->iommufd, id));
			INFO("%s: IOMMU_GET_HW_INFO gives type %u, not ARM_SMMUV3 (driver %s); "
			     "a nesting parent can be made: going on", self->bdf[d], type,
			     env_driver() ?: "?");
			continue;
		}
		if ((idr[0] & (NEST_IDR0_S1P | NEST_IDR0_S2P)) !=
		    (NEST_IDR0_S1P | NEST_IDR0_S2P))
			SKIP(return false, "no nesting: %s (in front of edu %s) has stage 1 %s, "
			     "stage 2 %s (IDR0 %#x)", self->inst[d], self->bdf[d],
			     idr[0] & NEST_IDR0_S1P ? "yes" : "no",
			     idr[0] & NEST_IDR0_S2P ? "yes" : "no", idr[0]);
	}
	INFO("A = %s behind %s, B = %s behind %s; guest RAM %d pages at IPA %#llx",
	     self->bdf[0], self->inst[0], self->bdf[1], self->inst[1], GUEST_PAGES,
	     (unsigned long long)IPA_BASE);

	ret = viommu_opt_in_set(true);
	if (ret == -ENOENT) {
		INFO("no %s (driver %s): vIOMMUs are the driver's own decision",
		     VIOMMU_OPT_IN_PARAM, env_driver() ?: "?");
		ret = 0;
	}
	ASSERT_EQ(0, ret) TH_LOG("writing 1 to %s: %s", VIOMMU_OPT_IN_PARAM, errname(ret));
	return true;
}

/*
 * In the harness's parent, after the test process is gone (so every fd it
 * had is closed, whatever happened): the opt-in back to 0, and the edus
 * back to the driver they had.
 */
FIXTURE_TEARDOWN_PARENT(nest)
{
	char drv[64];
	int ret;

	if (path_exists(VIOMMU_OPT_IN_PARAM)) {
		ret = viommu_opt_in_set(false);
		if (ret)
			INFO("writing 0 to %s: %s", VIOMMU_OPT_IN_PARAM, errname(ret));
	}
	for (int d = 0; d < 2; d++) {
		if (!self->touched[d] || pci_driver(self->bdf[d], drv, sizeof(drv)))
			continue;
		if (!strcmp(drv, "vfio-pci")) {
			ret = vfio_pci_restore(self->bdf[d], self->orig_drv[d]);
			if (ret)
				INFO("%s: giving it back to \"%s\": %s", self->bdf[d],
				     self->orig_drv[d], errname(ret));
		}
	}
}

/* ---- vIOMMUs, vdevices, nested HWPTs --------------------------------------------- */

static void make_viommu(struct __test_metadata *_metadata, FIXTURE_DATA(nest) *self,
			int d)
{
	int ret = iommufd_viommu_alloc_smmuv3(self->iommufd, self->dev[d].devid,
					      self->parent, &self->viommu[d]);

	ASSERT_EQ(0, ret)
		TH_LOG("IOMMU_VIOMMU_ALLOC (ARM_SMMUV3) for %c = %s behind %s on the nesting "
		       "parent allocated for A (behind %s): %s%s", dev_name[d], self->bdf[d],
		       self->inst[d], self->inst[0], errname(ret),
		       ret == -EOPNOTSUPP ? ": the driver refuses vIOMMUs on this SMMU "
		       "(no S2FWB/CANWBS and no opt-in)" :
		       ret == -EINVAL ? ": the driver does not share one nesting parent "
		       "across SMMU instances" : "");
}

static void make_vdevice(struct __test_metadata *_metadata, FIXTURE_DATA(nest) *self,
			 int d)
{
	int ret = iommufd_vdevice_alloc(self->iommufd, self->viommu[d], self->dev[d].devid,
					virt_ids[d], &self->vdev[d]);

	ASSERT_EQ(0, ret) TH_LOG("IOMMU_VDEVICE_ALLOC %c (virt_id %#llx) on its own vIOMMU: %s",
				 dev_name[d], (unsigned long long)virt_ids[d], errname(ret));
}

/* A vIOMMU per instance on the one parent; vdevices A -> 0, B -> 1. */
static void setup_viommus(struct __test_metadata *_metadata, FIXTURE_DATA(nest) *self,
			  bool vdevs)
{
	for (int d = 0; d < 2; d++)
		make_viommu(_metadata, self, d);
	ASSERT_NE(self->viommu[0], self->viommu[1]);
	for (int d = 0; vdevs && d < 2; d++)
		make_vdevice(_metadata, self, d);
}

static int alloc_nested(FIXTURE_DATA(nest) *self, int d, int viommu_of,
			const uint64_t ste[2], uint32_t *id)
{
	return iommufd_hwpt_alloc_nested(self->iommufd, self->dev[d].devid,
					 self->viommu[viommu_of], ste, id);
}

#define ALLOC_NESTED(self, d, ste, idp, what) do { \
	int __ret = alloc_nested(self, d, d, ste, idp); \
	ASSERT_EQ(0, __ret) TH_LOG("IOMMU_HWPT_ALLOC nested (%s, vSTE %#018llx %#018llx) " \
				   "for %c on its vIOMMU: %s", what, \
				   (unsigned long long)(ste)[0], \
				   (unsigned long long)(ste)[1], dev_name[d], errname(__ret)); \
} while (0)

#define ATTACH(self, d, id, what) do { \
	int __ret = dev_attach(&(self)->dev[d], id); \
	ASSERT_EQ(0, __ret) TH_LOG("attaching %c to %s: %s", dev_name[d], what, \
				   (self)->dev[d].err); \
} while (0)

/* Guest stage-1 structures of device D in guest RAM (once per test). */
static void s1_build(struct __test_metadata *_metadata, FIXTURE_DATA(nest) *self, int d)
{
	int ret;

	if (self->s1_built[d])
		return;
	ret = s1_pgtbl_init(&self->pt[d], &self->gm);
	ASSERT_EQ(0, ret) TH_LOG("level-1 table: %s", errname(ret));
	self->cd_ipa[d] = guest_page_alloc(&self->gm);
	ASSERT_NE(0ULL, self->cd_ipa[d]);
	for (int i = 0; i < NDATA; i++) {
		self->data_ipa[d][i] = guest_page_alloc(&self->gm);
		ASSERT_NE(0ULL, self->data_ipa[d][i]);
	}
	for (int i = 0; i < NMAP; i++) {
		ret = s1_map(&self->pt[d], VA(i), self->data_ipa[d][map_idx(d, i)], true);
		ASSERT_EQ(0, ret) TH_LOG("stage-1 map: %s", errname(ret));
	}
	ret = s1_map(&self->pt[d], VA_SWAP, IPA_SWAP, true);
	ASSERT_EQ(0, ret) TH_LOG("stage-1 map: %s", errname(ret));
	cd_s1(gp(self, self->cd_ipa[d]), asids[d], self->pt[d].l1_ipa, S1_T0SZ, CD_IPS_40);
	self->s1_built[d] = true;
}

static void s1_vste(FIXTURE_DATA(nest) *self, int d, uint64_t ste[2])
{
	vste_s1(ste, self->cd_ipa[d], 0);
}

/* A nested stage-1 HWPT for device D on its vIOMMU, attached. */
static void attach_s1(struct __test_metadata *_metadata, FIXTURE_DATA(nest) *self, int d)
{
	uint64_t ste[2];

	s1_build(_metadata, self, d);
	s1_vste(self, d, ste);
	ALLOC_NESTED(self, d, ste, &self->nested[d], "Cfg=S1");
	ATTACH(self, d, self->nested[d], "its nested stage-1 HWPT");
}

static void *data_mem(FIXTURE_DATA(nest) *self, int d, int idx)
{
	return gp(self, self->data_ipa[d][idx]);
}

/* DMA through guest VAs: VA_SRC -> device -> VA_DST. */
static void s1_dma_check(struct __test_metadata *_metadata, FIXTURE_DATA(nest) *self,
			 int d, const char *what)
{
	DMA_EXPECT(self, d, VA_SRC, data_mem(self, d, map_idx(d, 0)), VA_DST,
		   data_mem(self, d, map_idx(d, 1)), what);
}

/* DMA by IPA (stage 2 alone): two pages of guest RAM past the tables. */
static void ipa_dma_check(struct __test_metadata *_metadata, FIXTURE_DATA(nest) *self,
			  int d, const char *what)
{
	uint64_t src = IPA_BASE + (GUEST_PAGES - 1 - 2 * d) * PAGE;
	uint64_t dst = IPA_BASE + (GUEST_PAGES - 2 - 2 * d) * PAGE;

	DMA_EXPECT(self, d, src, gp(self, src), dst, gp(self, dst), what);
}

static void invalidate_ok(struct __test_metadata *_metadata, FIXTURE_DATA(nest) *self,
			  int v, const struct nest_cmd *cmds, uint32_t num,
			  const char *what)
{
	uint32_t done = 0;
	int ret = iommufd_viommu_invalidate(self->iommufd, self->viommu[v], cmds, num,
					    &done);

	ASSERT_EQ(0, ret) TH_LOG("IOMMU_HWPT_INVALIDATE on vIOMMU %d (%s): %s", v, what,
				 errname(ret));
	ASSERT_EQ(num, done) TH_LOG("IOMMU_HWPT_INVALIDATE on vIOMMU %d (%s): entry_num %u "
				    "of %u", v, what, done, num);
}

/* ---- smmuv3.ko's debugfs ------------------------------------------------------------ */

/*
 * The nesting parent's live vIOMMU VMIDs (type 2) must be EXPECT per
 * instance of A and B, none elsewhere.  Checked with smmuv3.ko's debugfs
 * only; skipped (with a note) for another driver.
 */
static void check_parent_vmids(struct __test_metadata *_metadata,
			       FIXTURE_DATA(nest) *self, int expect, const char *when)
{
	struct dbg_domains *dd = malloc(sizeof(*dd));
	const struct dbg_domain *par = NULL;
	int ret, nparents = 0, cnt[3] = { 0 };
	unsigned int ids[2] = { 0 };

	ASSERT_NE(NULL, dd);
	ret = dbg_domains_read(dd);
	if (ret == -ENOENT && !env_driver_ours()) {
		INFO("%s: no %s/domains (driver %s): VMIDs not checked", when, SMMUV3_DEBUGFS,
		     env_driver() ?: "?");
		free(dd);
		return;
	}
	ASSERT_EQ(0, ret) TH_LOG("reading %s/domains: %s", SMMUV3_DEBUGFS, errname(ret));
	for (int i = 0; i < dd->n; i++) {
		if (!dd->d[i].nest_parent)
			continue;
		nparents++;
		par = &dd->d[i];
	}
	ASSERT_EQ(1, nparents) TH_LOG("%s: expected exactly one nest-parent domain in "
				      "%s/domains (ours), found %d", when, SMMUV3_DEBUGFS,
				      nparents);
	for (int i = 0; i < par->n; i++) {
		const struct dbg_inv *inv = &par->inv[i];
		int k;

		if (inv->type != DBG_INV_S2_VMID_S1_CLEAR || inv->users <= 0)
			continue;
		k = !strcmp(inv->inst, self->inst[0]) ? 0 :
		    !strcmp(inv->inst, self->inst[1]) ? 1 : 2;
		cnt[k]++;
		if (k < 2)
			ids[k] = inv->id;
	}
	for (int k = 0; k < 2; k++) {
		ASSERT_EQ(expect, cnt[k])
			TH_LOG("%s: expected %d live vIOMMU VMID entr%s (type %d) on %s in the "
			       "parent's invalidation array (domain %u, %u entries), found %d",
			       when, expect, expect == 1 ? "y" : "ies",
			       DBG_INV_S2_VMID_S1_CLEAR, self->inst[k], par->id, par->num,
			       cnt[k]);
	}
	ASSERT_EQ(0, cnt[2]) TH_LOG("%s: %d vIOMMU VMID entries on other instances",
				    when, cnt[2]);
	if (expect)
		INFO("%s: parent domain %u holds VMID %u on %s and VMID %u on %s", when,
		     par->id, ids[0], self->inst[0], ids[1], self->inst[1]);
	else
		INFO("%s: parent domain %u holds no vIOMMU VMID (%u entries)", when, par->id,
		     par->num);
	free(dd);
}

/* VMIDs in use on A's and B's instances (smmuv3.ko only; -1 without). */
static void vmids_used(FIXTURE_DATA(nest) *self, long out[2])
{
	for (int d = 0; d < 2; d++) {
		uint64_t v;

		out[d] = dbg_stat(self->inst[d], "vmids_used", &v) ? -1 : (long)v;
	}
}

static void check_vmids_back(struct __test_metadata *_metadata,
			     FIXTURE_DATA(nest) *self, const long base[2], const char *when)
{
	long now[2];

	vmids_used(self, now);
	for (int d = 0; d < 2; d++) {
		if (base[d] < 0 || now[d] < 0)
			continue;
		ASSERT_EQ(base[d], now[d]) TH_LOG("%s: %s has %ld VMIDs in use, %ld before: "
						  "leaked", when, self->inst[d], now[d], base[d]);
	}
}

/* No nest-parent domain may be left (smmuv3.ko only). */
static void check_no_parent_left(struct __test_metadata *_metadata, const char *when)
{
	struct dbg_domains *dd = malloc(sizeof(*dd));

	ASSERT_NE(NULL, dd);
	if (!dbg_domains_read(dd)) {
		for (int i = 0; i < dd->n; i++) {
			ASSERT_FALSE(dd->d[i].nest_parent)
				TH_LOG("%s: nest-parent domain %u still listed in %s/domains "
				       "with %u entries", when, dd->d[i].id, SMMUV3_DEBUGFS,
				       dd->d[i].num);
		}
	}
	free(dd);
}

static void done_info(FIXTURE_DATA(nest) *self)
{
	INFO("took %llu ms", (unsigned long long)(now_ms() - self->t0));
}

/* ---- 1. The shared parent -------------------------------------------------------- */

TEST_F_TIMEOUT(nest, two_viommus_share_parent, TIMEOUT)
{
	if (!nest_begin(_metadata, self))
		return;
	setup_viommus(_metadata, self, true);
	INFO("nesting parent %u (for A); vIOMMU %u on %s, vIOMMU %u on %s; vdevice %u "
	     "(A, virt_id %#llx), vdevice %u (B, virt_id %#llx)", self->parent,
	     self->viommu[0], self->inst[0], self->viommu[1], self->inst[1], self->vdev[0],
	     (unsigned long long)virt_ids[0], self->vdev[1], (unsigned long long)virt_ids[1]);
	nest_close(_metadata, self);
	done_info(self);
}

/* ---- 2. Guest bypass: the shared stage 2 alone ------------------------------------ */

TEST_F_TIMEOUT(nest, bypass_vste, TIMEOUT)
{
	uint64_t ste[2];
	char what[96];

	if (!nest_begin(_metadata, self))
		return;
	setup_viommus(_metadata, self, true);
	vste_bypass(ste);
	for (int d = 0; d < 2; d++) {
		ALLOC_NESTED(self, d, ste, &self->nested[d], "Cfg=bypass");
		ATTACH(self, d, self->nested[d], "its nested bypass HWPT");
	}
	for (int d = 0; d < 2; d++) {
		snprintf(what, sizeof(what), "guest bypass, %c by IPA", dev_name[d]);
		ipa_dma_check(_metadata, self, d, what);
	}
	INFO("A and B: DMA by IPA through the shared stage 2 correct byte for byte");
	check_parent_vmids(_metadata, self, 1, "both attached");

	/*
	 * Both instances' TLBs now hold IPA_SWAP -> swap page 0.  Replace the
	 * page behind it: the parent's invalidation must reach both VMIDs.
	 */
	for (int d = 0; d < 2; d++)
		DMA_EXPECT(self, d, IPA_BASE + (GUEST_PAGES - 1) * PAGE,
			   gp(self, IPA_BASE + (GUEST_PAGES - 1) * PAGE), IPA_SWAP,
			   self->swap[0], "before the stage-2 change");
	swap_map(_metadata, self, 1);
	for (int d = 0; d < 2; d++)
		DMA_EXPECT(self, d, IPA_BASE + (GUEST_PAGES - 1) * PAGE,
			   gp(self, IPA_BASE + (GUEST_PAGES - 1) * PAGE), IPA_SWAP,
			   self->swap[1], "after IOAS unmap + map of IPA_SWAP (stale IOTLB?)");
	INFO("a stage-2 change reached the IOTLBs of both instances");

	for (int d = 0; d < 2; d++) {
		int ret = dev_detach(&self->dev[d]);

		ASSERT_EQ(0, ret) TH_LOG("%s", self->dev[d].err);
	}
	check_parent_vmids(_metadata, self, 0, "both detached");
	nest_close(_metadata, self);
	done_info(self);
}

/* ---- 3. Guest stage 1 -------------------------------------------------------------- */

TEST_F_TIMEOUT(nest, guest_stage1, TIMEOUT)
{
	char what[128], w1[96];

	if (!nest_begin(_metadata, self))
		return;
	setup_viommus(_metadata, self, true);
	for (int d = 0; d < 2; d++)
		attach_s1(_metadata, self, d);
	for (int d = 0; d < 2; d++) {
		snprintf(what, sizeof(what), "guest stage 1 (%c, ASID %#x)", dev_name[d],
			 asids[d]);
		s1_dma_check(_metadata, self, d, what);
		INFO("%c: VA %#llx -> VA %#llx landed in IPA %#llx (VA %#llx maps IPA %#llx)",
		     dev_name[d], (unsigned long long)VA_SRC, (unsigned long long)VA_DST,
		     (unsigned long long)self->data_ipa[d][map_idx(d, 1)],
		     (unsigned long long)VA_SRC,
		     (unsigned long long)self->data_ipa[d][map_idx(d, 0)]);
	}
	check_parent_vmids(_metadata, self, 1, "both attached with stage 1");

	/* Point VA_DST at another page, as a guest's unmap + map would. */
	for (int d = 0; d < 2; d++) {
		void *old = data_mem(self, d, map_idx(d, 1));
		void *new = data_mem(self, d, REMAP_IDX);
		struct dma_result r;
		struct nest_cmd cmd;
		int ret;

		ret = s1_map(&self->pt[d], VA_DST, self->data_ipa[d][REMAP_IDX], true);
		ASSERT_EQ(0, ret);
		/* Informational: a cached translation may still be used. */
		dma_probe(self, d, VA_SRC, data_mem(self, d, map_idx(d, 0)), VA_DST, new, &r);
		ASSERT_EQ(0, r.rc_to);
		ASSERT_EQ(0, r.rc_from);
		if (!r.dst_diff)
			INFO("%c: before the TLBI the DMA already followed the new PTE",
			     dev_name[d]);
		else if (r.landed == old)
			INFO("%c: before the TLBI the DMA still used the old translation "
			     "(cached)", dev_name[d]);
		else
			INFO("%c: before the TLBI the DMA landed in %s", dev_name[d],
			     describe(self, r.landed, w1, sizeof(w1)));
		/* Either page is fine then; any other is not. */
		ASSERT_TRUE(!r.dst_diff || r.landed == old)
			TH_LOG("%c: DMA to VA %#llx between the PTE change and the TLBI landed "
			       "in %s, neither the old nor the new page", dev_name[d],
			       (unsigned long long)VA_DST,
			       describe(self, r.landed, w1, sizeof(w1)));

		cmd_tlbi_nh_va(&cmd, asids[d], VA_DST, true);
		invalidate_ok(_metadata, self, d, &cmd, 1, "TLBI_NH_VA");
		snprintf(what, sizeof(what), "%c after the PTE change and TLBI_NH_VA", dev_name[d]);
		DMA_EXPECT(self, d, VA_SRC, data_mem(self, d, map_idx(d, 0)), VA_DST, new, what);
		INFO("%c: after TLBI_NH_VA (ASID %#x, VA %#llx, leaf) DMA follows the new PTE "
		     "(IPA %#llx)", dev_name[d], asids[d], (unsigned long long)VA_DST,
		     (unsigned long long)self->data_ipa[d][REMAP_IDX]);
	}

	/* A stage-2 change under a guest stage 1: VA_SWAP -> IPA_SWAP -> ? */
	for (int d = 0; d < 2; d++)
		DMA_EXPECT(self, d, VA_SRC, data_mem(self, d, map_idx(d, 0)), VA_SWAP,
			   self->swap[0], "nested: VA_SWAP before the stage-2 change");
	swap_map(_metadata, self, 1);
	for (int d = 0; d < 2; d++)
		DMA_EXPECT(self, d, VA_SRC, data_mem(self, d, map_idx(d, 0)), VA_SWAP,
			   self->swap[1], "nested: VA_SWAP after the stage-2 change (stale "
			   "combined stage-1+2 IOTLB entry?)");
	INFO("a stage-2 change under both guests' stage 1 reached both instances");
	nest_close(_metadata, self);
	done_info(self);
}

/* ---- 4. Faults to the vEVENTQ -------------------------------------------------------- */

TEST_F_TIMEOUT(nest, fault_to_veventq, TIMEOUT)
{
	struct nest_vevent ev[64];
	struct dma_result r;
	struct nest_cmd cmd;
	int n, ret, total, lost;
	long last_seq;
	uint64_t u_ipa, t;

	if (!nest_begin(_metadata, self))
		return;
	setup_viommus(_metadata, self, true);
	for (int d = 0; d < 2; d++) {
		ret = iommufd_veventq_alloc_smmuv3(self->iommufd, self->viommu[d], 64,
						   &self->veventq[d], &self->vevfd[d]);
		ASSERT_EQ(0, ret) TH_LOG("IOMMU_VEVENTQ_ALLOC (ARM_SMMUV3) on vIOMMU %d: %s",
					 d, errname(ret));
		attach_s1(_metadata, self, d);
	}
	s1_dma_check(_metadata, self, 0, "A before the fault");
	{
		uint64_t *pte = s1_pte(&self->pt[0], VA_UNMAPPED);

		ASSERT_TRUE(!pte || !*pte);
	}

	/*
	 * QEMU's edu writes its buffer in 4-byte accesses and each one
	 * faults: write FAULT_LEN bytes only, FAULT_LEN / 4 events.
	 */
	dma_probe_len(self, 0, VA_SRC, data_mem(self, 0, map_idx(0, 0)), VA_UNMAPPED, NULL,
		      FAULT_LEN, &r);
	ASSERT_EQ(0, r.rc_to);
	ASSERT_EQ(0, r.rc_from) TH_LOG("the edu completes a command even when it faults");
	ASSERT_EQ((size_t)0, r.others) TH_LOG("DMA to the unmapped VA %#llx changed %zu bytes",
					      (unsigned long long)VA_UNMAPPED, r.others);

	/*
	 * Expect a burst of records (and lost-event headers, should the
	 * queue fill up).  Drain until the queue stays quiet for 500 ms.
	 */
	total = lost = 0;
	last_seq = -1;
	t = now_ms();
	for (int wait = 5000; now_ms() - t < 60000; wait = 500) {
		n = veventq_read(self->vevfd[0], wait, ev, 64);
		ASSERT_LE(0, n) TH_LOG("reading vEVENTQ 0: %s", errname(n));
		if (!n)
			break;
		for (int i = 0; i < n; i++) {
			if (total < 3 || ev[i].lost)
				INFO("vEVENTQ 0 #%d: flags %#x seq %u%s evt %016llx %016llx "
				     "%016llx %016llx", total, ev[i].flags, ev[i].sequence,
				     ev[i].lost ? " (lost events)" : "",
				     (unsigned long long)ev[i].evt[0],
				     (unsigned long long)ev[i].evt[1],
				     (unsigned long long)ev[i].evt[2],
				     (unsigned long long)ev[i].evt[3]);
			total++;
			if (ev[i].lost) {
				lost++;
				continue;
			}
			ASSERT_LT(last_seq, (long)ev[i].sequence)
				TH_LOG("vEVENT sequence %u after %ld", ev[i].sequence, last_seq);
			last_seq = ev[i].sequence;
			ASSERT_EQ((unsigned int)EVT_F_TRANSLATION, EVT_ID(ev[i].evt[0]))
				TH_LOG("record %d: expected event 0x10 F_TRANSLATION, found %#x",
				       total - 1, EVT_ID(ev[i].evt[0]));
			ASSERT_EQ((uint32_t)virt_ids[0], EVT_SID(ev[i].evt[0]))
				TH_LOG("record %d: expected A's virtual StreamID %#llx, found %#x "
				       "(the physical one?)", total - 1,
				       (unsigned long long)virt_ids[0], EVT_SID(ev[i].evt[0]));
			ASSERT_TRUE(ev[i].evt[2] >= VA_UNMAPPED &&
				    ev[i].evt[2] < VA_UNMAPPED + FAULT_LEN)
				TH_LOG("record %d: expected InputAddr in [%#llx, %#llx), found "
				       "%#llx", total - 1, (unsigned long long)VA_UNMAPPED,
				       (unsigned long long)VA_UNMAPPED + FAULT_LEN,
				       (unsigned long long)ev[i].evt[2]);
		}
	}
	ASSERT_LT(0, total - lost) TH_LOG("no vEVENT within 5 s in A's vIOMMU's vEVENTQ after "
					  "a DMA to the unmapped guest VA %#llx",
					  (unsigned long long)VA_UNMAPPED);
	ASSERT_LT(now_ms() - t, 60000ULL) TH_LOG("vEVENTQ 0 never went quiet");
	INFO("A's fault arrived as %d F_TRANSLATION record(s) for vSID %#llx at VAs in "
	     "[%#llx, %#llx), %d lost-events header(s), sequence up to %ld",
	     total - lost, (unsigned long long)virt_ids[0], (unsigned long long)VA_UNMAPPED,
	     (unsigned long long)VA_UNMAPPED + FAULT_LEN, lost, last_seq);

	n = veventq_read(self->vevfd[1], 500, ev, 64);
	ASSERT_EQ(0, n) TH_LOG("B's vIOMMU's vEVENTQ got %d record(s) for A's fault (first "
			       "evt0 %#llx)", n, n > 0 ? (unsigned long long)ev[0].evt[0] : 0ULL);

	/* Map it, as the guest's fault handler would, and retry. */
	u_ipa = self->data_ipa[0][REMAP_IDX];
	ret = s1_map(&self->pt[0], VA_UNMAPPED, u_ipa, true);
	ASSERT_EQ(0, ret);
	cmd_tlbi_nh_va(&cmd, asids[0], VA_UNMAPPED, true);
	invalidate_ok(_metadata, self, 0, &cmd, 1, "TLBI_NH_VA after mapping");
	DMA_EXPECT(self, 0, VA_SRC, data_mem(self, 0, map_idx(0, 0)), VA_UNMAPPED,
		   gp(self, u_ipa), "A after mapping the faulting VA");
	s1_dma_check(_metadata, self, 1, "B after A's fault");
	n = veventq_read(self->vevfd[0], 500, ev, 64);
	ASSERT_EQ(0, n) TH_LOG("vEVENTQ 0 got %d more record(s) after the VA was mapped "
			       "(first evt0 %#llx)", n,
			       n > 0 ? (unsigned long long)ev[0].evt[0] : 0ULL);
	INFO("after mapping VA %#llx -> IPA %#llx and TLBI, A's DMA works, no new event",
	     (unsigned long long)VA_UNMAPPED, (unsigned long long)u_ipa);
	nest_close(_metadata, self);
	done_info(self);
}

/*
 * Drain vEVENTQ D until it stays quiet for 500 ms (5 s for the first
 * record): the records, at most MAX.  Returns how many, or -errno.
 */
static int veventq_drain(FIXTURE_DATA(nest) *self, int d, struct nest_vevent *ev, int max)
{
	int n, total = 0;
	uint64_t t = now_ms();

	for (int wait = 5000; total < max && now_ms() - t < 60000; wait = 500) {
		n = veventq_read(self->vevfd[d], wait, ev + total, max - total);
		if (n < 0)
			return n;
		if (!n)
			break;
		total += n;
	}
	return total;
}

TEST_F_TIMEOUT(nest, s2_fault_stays_host, TIMEOUT)
{
	struct nest_vevent ev[128];
	struct dma_result r;
	struct nest_cmd cmd;
	uint64_t before = 0, after = 0, fwd0 = 0, fwd1 = 0;
	int n, ret, s1 = 0, s2 = 0, lost = 0;
	bool stats;

	if (!nest_begin(_metadata, self))
		return;
	setup_viommus(_metadata, self, true);
	ret = iommufd_veventq_alloc_smmuv3(self->iommufd, self->viommu[0], 128,
					   &self->veventq[0], &self->vevfd[0]);
	ASSERT_EQ(0, ret) TH_LOG("IOMMU_VEVENTQ_ALLOC (ARM_SMMUV3) on vIOMMU 0: %s",
				 errname(ret));
	attach_s1(_metadata, self, 0);
	s1_dma_check(_metadata, self, 0, "A before the faults");

	/* The guest maps VA_S2HOLE to an IPA outside its RAM, as a buggy guest would. */
	ASSERT_FALSE(guest_has(&self->gm, IPA_HOLE, PAGE));
	ret = s1_map(&self->pt[0], VA_S2HOLE, IPA_HOLE, true);
	ASSERT_EQ(0, ret);
	cmd_tlbi_nh_va(&cmd, asids[0], VA_S2HOLE, true);
	invalidate_ok(_metadata, self, 0, &cmd, 1, "TLBI_NH_VA after mapping VA_S2HOLE");

	stats = !dbg_stat(self->inst[0], "event F_TRANSLATION", &before) &&
		!dbg_stat(self->inst[0], "events_to_guest", &fwd0);
	if (!stats)
		INFO("no %s/%s/stats (driver %s): host counters not checked", SMMUV3_DEBUGFS,
		     self->inst[0], env_driver() ?: "?");

	/* Stage-2 faults first, then stage-1 faults: the events are handled in order. */
	dma_probe_len(self, 0, VA_SRC, data_mem(self, 0, map_idx(0, 0)), VA_S2HOLE, NULL,
		      FAULT_LEN, &r);
	ASSERT_EQ(0, r.rc_to);
	ASSERT_EQ(0, r.rc_from) TH_LOG("the edu completes a command even when it faults");
	ASSERT_EQ((size_t)0, r.others) TH_LOG("DMA to VA %#llx -> unmapped IPA %#llx changed "
					      "%zu bytes", (unsigned long long)VA_S2HOLE,
					      (unsigned long long)IPA_HOLE, r.others);
	dma_probe_len(self, 0, VA_SRC, data_mem(self, 0, map_idx(0, 0)), VA_UNMAPPED, NULL,
		      FAULT_LEN, &r);
	ASSERT_EQ(0, r.rc_from);

	n = veventq_drain(self, 0, ev, 128);
	ASSERT_LE(0, n) TH_LOG("reading vEVENTQ 0: %s", errname(n));
	for (int i = 0; i < n; i++) {
		bool in_hole;

		if (ev[i].lost) {
			lost++;
			continue;
		}
		in_hole = ev[i].evt[2] >= VA_S2HOLE && ev[i].evt[2] < VA_S2HOLE + FAULT_LEN;
		if ((ev[i].evt[1] & EVT1_S2) || in_hole) {
			if (!s2)
				INFO("vEVENTQ 0 record %d: a stage-2 fault: evt %016llx %016llx "
				     "%016llx %016llx", i, (unsigned long long)ev[i].evt[0],
				     (unsigned long long)ev[i].evt[1],
				     (unsigned long long)ev[i].evt[2],
				     (unsigned long long)ev[i].evt[3]);
			s2++;
			continue;
		}
		ASSERT_EQ((unsigned int)EVT_F_TRANSLATION, EVT_ID(ev[i].evt[0]))
			TH_LOG("record %d: expected F_TRANSLATION (0x10), found %#x", i,
			       EVT_ID(ev[i].evt[0]));
		ASSERT_TRUE(ev[i].evt[2] >= VA_UNMAPPED && ev[i].evt[2] < VA_UNMAPPED + FAULT_LEN)
			TH_LOG("record %d: InputAddr %#llx is neither fault's", i,
			       (unsigned long long)ev[i].evt[2]);
		s1++;
	}
	INFO("vEVENTQ 0: %d stage-1 record(s), %d stage-2 record(s), %d lost-events header(s)",
	     s1, s2, lost);
	ASSERT_EQ(0, s2) TH_LOG("%d stage-2 fault record(s) of the host's table reached the "
				"guest's vEVENTQ (DMA to VA %#llx -> IPA %#llx, not in stage 2)",
				s2, (unsigned long long)VA_S2HOLE, (unsigned long long)IPA_HOLE);
	ASSERT_LT(0, s1) TH_LOG("no stage-1 fault record in the vEVENTQ after a DMA to the "
				"unmapped guest VA %#llx", (unsigned long long)VA_UNMAPPED);

	if (stats) {
		ASSERT_EQ(0, dbg_stat(self->inst[0], "event F_TRANSLATION", &after));
		ASSERT_EQ(0, dbg_stat(self->inst[0], "events_to_guest", &fwd1));
		INFO("%s: %llu F_TRANSLATION event(s) counted, %llu forwarded to the guest",
		     self->inst[0], (unsigned long long)(after - before),
		     (unsigned long long)(fwd1 - fwd0));
		ASSERT_LT(fwd1 - fwd0, after - before)
			TH_LOG("the host counted no event it kept: the stage-2 faults never "
			       "happened?");
	}
	nest_close(_metadata, self);
	done_info(self);
}

/* ---- 5. Errors ------------------------------------------------------------------------ */

TEST_F_TIMEOUT(nest, vdevice_wrong_instance, TIMEOUT)
{
	uint64_t ste[2];
	uint32_t id = 0;
	int ret;

	if (!nest_begin(_metadata, self))
		return;
	setup_viommus(_metadata, self, false);
	ret = iommufd_vdevice_alloc(self->iommufd, self->viommu[0], self->dev[1].devid,
				    virt_ids[1], &id);
	ASSERT_EQ(-EINVAL, ret) TH_LOG("IOMMU_VDEVICE_ALLOC B (behind %s) on vIOMMU 0 (on %s): "
				       "expected EINVAL, got %s", self->inst[1], self->inst[0],
				       errname(ret));
	ret = iommufd_vdevice_alloc(self->iommufd, self->viommu[1], self->dev[0].devid,
				    virt_ids[0], &id);
	ASSERT_EQ(-EINVAL, ret) TH_LOG("IOMMU_VDEVICE_ALLOC A (behind %s) on vIOMMU 1 (on %s): "
				       "expected EINVAL, got %s", self->inst[0], self->inst[1],
				       errname(ret));
	INFO("a vdevice on the other instance's vIOMMU: EINVAL, both ways");
	for (int d = 0; d < 2; d++)
		make_vdevice(_metadata, self, d);
	vste_bypass(ste);
	for (int d = 0; d < 2; d++) {
		ALLOC_NESTED(self, d, ste, &self->nested[d], "Cfg=bypass");
		ATTACH(self, d, self->nested[d], "its nested bypass HWPT");
		ipa_dma_check(_metadata, self, d, "after the refused vdevices");
	}
	nest_close(_metadata, self);
	done_info(self);
}

TEST_F_TIMEOUT(nest, attach_wrong_instance, TIMEOUT)
{
	uint64_t ste[2];
	uint32_t id = 0, s1_a = 0, byp[2] = { 0 };
	int ret;

	if (!nest_begin(_metadata, self))
		return;
	setup_viommus(_metadata, self, true);
	vste_bypass(ste);
	ret = alloc_nested(self, 1, 0, ste, &id);
	ASSERT_EQ(-EINVAL, ret) TH_LOG("IOMMU_HWPT_ALLOC nested on vIOMMU 0 (%s) with dev_id B "
				       "(behind %s): expected EINVAL, got %s", self->inst[0],
				       self->inst[1], errname(ret));
	for (int d = 0; d < 2; d++)
		ALLOC_NESTED(self, d, ste, &byp[d], "Cfg=bypass");

	ret = dev_attach(&self->dev[1], byp[0]);
	ASSERT_EQ(-EINVAL, ret) TH_LOG("attaching B (behind %s, blocked) to vIOMMU 0's nested "
				       "HWPT: expected EINVAL, got %s", self->inst[1],
				       errname(ret));
	ret = dev_attach(&self->dev[0], byp[1]);
	ASSERT_EQ(-EINVAL, ret) TH_LOG("attaching A (behind %s, blocked) to vIOMMU 1's nested "
				       "HWPT: expected EINVAL, got %s", self->inst[0],
				       errname(ret));
	/* A nested stage 1 of vIOMMU 0 is just as foreign to B. */
	attach_s1(_metadata, self, 0);
	s1_a = self->nested[0];
	ret = dev_attach(&self->dev[1], s1_a);
	ASSERT_EQ(-EINVAL, ret) TH_LOG("attaching B to A's nested stage-1 HWPT: expected "
				       "EINVAL, got %s", errname(ret));

	/* B on its own, then a refused replace keeps it there. */
	self->nested[1] = byp[1];
	destroy_ok(_metadata, self, &byp[0], "unused nested bypass HWPT");
	ret = dev_attach(&self->dev[1], self->nested[1]);
	ASSERT_EQ(0, ret) TH_LOG("%s", self->dev[1].err);
	ipa_dma_check(_metadata, self, 1, "B on its own vIOMMU");
	ret = dev_attach(&self->dev[1], s1_a);
	ASSERT_EQ(-EINVAL, ret) TH_LOG("replacing B's nested HWPT by vIOMMU 0's: expected "
				       "EINVAL, got %s", errname(ret));
	ASSERT_EQ(self->nested[1], self->dev[1].pt_id);
	ipa_dma_check(_metadata, self, 1, "B after the refused replace");
	s1_dma_check(_metadata, self, 0, "A after B's refused attaches");
	INFO("attach/replace onto the other instance's vIOMMU: EINVAL; both devices work");
	nest_close(_metadata, self);
	done_info(self);
}

TEST_F_TIMEOUT(nest, attach_without_vdevice, TIMEOUT)
{
	uint64_t ste[2];
	uint32_t byp[2] = { 0 };
	int ret;

	if (!nest_begin(_metadata, self))
		return;
	setup_viommus(_metadata, self, false);
	for (int d = 0; d < 2; d++) {
		s1_build(_metadata, self, d);
		s1_vste(self, d, ste);
		ALLOC_NESTED(self, d, ste, &self->nested[d], "Cfg=S1, no vdevice yet");
		ret = dev_attach(&self->dev[d], self->nested[d]);
		ASSERT_EQ(-ENOENT, ret) TH_LOG("attaching %c to a translating (Cfg=S1) nested "
					       "HWPT without a vdevice: expected ENOENT, got %s",
					       dev_name[d], errname(ret));
		/* Bypass and abort need no vdevice (the uapi's GBPA case). */
		vste_bypass(ste);
		ALLOC_NESTED(self, d, ste, &byp[d], "Cfg=bypass");
		ret = dev_attach(&self->dev[d], byp[d]);
		ASSERT_EQ(0, ret) TH_LOG("attaching %c to a nested bypass HWPT without a "
					 "vdevice: %s", dev_name[d], self->dev[d].err);
		ipa_dma_check(_metadata, self, d, "bypass without a vdevice");
		make_vdevice(_metadata, self, d);
		ATTACH(self, d, self->nested[d], "its nested stage-1 HWPT, now with a vdevice");
		s1_dma_check(_metadata, self, d, "stage 1 once the vdevice exists");
		destroy_ok(_metadata, self, &byp[d], "unused nested bypass HWPT");
	}
	INFO("translating nested attach without a vdevice: ENOENT; bypass allowed; with "
	     "the vdevice it works");
	nest_close(_metadata, self);
	done_info(self);
}

TEST_F_TIMEOUT(nest, bad_vste, TIMEOUT)
{
	unsigned int ssid;
	struct {
		const char *name;
		uint64_t w0_set, w0_clear, w1_set;
		bool from_bypass;
	} bad[] = {
		{ "Cfg=S2 (0b110)", (uint64_t)VSTE_CFG_S2 << VSTE0_CFG_SHIFT, VSTE0_CFG_MASK, 0, false },
		{ "Cfg=nested (0b111)", (uint64_t)VSTE_CFG_NESTED << VSTE0_CFG_SHIFT,
		  VSTE0_CFG_MASK, 0, false },
		{ "Cfg=0b001 (reserved)", 1ULL << VSTE0_CFG_SHIFT, VSTE0_CFG_MASK, 0, false },
		{ "word 0 bit 55 (RES0)", 1ULL << 55, 0, 0, false },
		{ "word 0 bit 55 (RES0) with Cfg=bypass", 1ULL << 55, 0, 0, true },
		{ "S1Fmt=0b11 (reserved)", 3ULL << VSTE0_S1FMT_SHIFT, 0, 0, false },
		{ "S1CDMax = SSIDSIZE + 1", 0, 0, 0, false },	/* set below */
		/*
		 * EATS 0b01 (full ATS) is a guest's to ask for, as in the
		 * kernel's driver: the device gets ATS if it has it.  0b10
		 * (split-stage ATS) and 0b11 (reserved) are not.
		 */
		{ "word 1 EATS=0b10 (split stage)", 0, 0, 2ULL << VSTE1_EATS_SHIFT, false },
		{ "word 1 EATS=0b11 (reserved)", 0, 0, 3ULL << VSTE1_EATS_SHIFT, false },
		{ "word 1 STRW=0b10 (EL2)", 0, 0, 2ULL << VSTE1_STRW_SHIFT, false },
		{ "word 1 STRW=0b01 (secure)", 0, 0, 1ULL << VSTE1_STRW_SHIFT, false },
		{ "word 1 S1DSS=0b11 (reserved)", 0, 0, 3ULL << VSTE1_S1DSS_SHIFT, false },
		{ "word 1 SHCFG=0b01", 0, 0, 1ULL << 44, false },
		{ "word 1 MEV (bit 19)", 0, 0, 1ULL << 19, false },
	};
	struct {
		const char *name;
		int kind;	/* 0 V=0, 1 abort, 2 bypass, 3 S1, 4 S1 S1DSS=bypass */
	} good[] = {
		{ "V=0", 0 }, { "Cfg=abort", 1 }, { "Cfg=bypass", 2 }, { "Cfg=S1", 3 },
		{ "Cfg=S1, S1DSS=bypass", 4 },
	};
	uint64_t ste[2], base[2];
	uint32_t id;
	int ret, failed = 0;

	if (!nest_begin(_metadata, self))
		return;
	ssid = NEST_IDR1_SSIDSIZE(self->info[0].idr[1]);
	setup_viommus(_metadata, self, true);
	s1_build(_metadata, self, 0);
	s1_vste(self, 0, base);
	INFO("instance %s: SSIDSIZE %u", self->inst[0], ssid);

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (ssid >= 31 && strstr(bad[i].name, "S1CDMax"))
			continue;
		if (bad[i].from_bypass)
			vste_bypass(ste);
		else
			memcpy(ste, base, sizeof(ste));
		ste[0] = (ste[0] & ~bad[i].w0_clear) | bad[i].w0_set;
		if (strstr(bad[i].name, "S1CDMax"))
			ste[0] |= (uint64_t)(ssid + 1) << VSTE0_S1CDMAX_SHIFT;
		ste[1] |= bad[i].w1_set;
		id = 0;
		ret = alloc_nested(self, 0, 0, ste, &id);
		if (ret != -EIO) {
			failed++;
			INFO("vSTE %s (%#018llx %#018llx): expected EIO, got %s", bad[i].name,
			     (unsigned long long)ste[0], (unsigned long long)ste[1],
			     errname(ret));
			if (!ret)
				iommufd_destroy(self->iommufd, id);
		} else {
			INFO("vSTE %s: EIO", bad[i].name);
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		switch (good[i].kind) {
		case 0:
			ste[0] = 0;
			ste[1] = 0;
			break;
		case 1:
			vste_abort(ste);
			break;
		case 2:
			vste_bypass(ste);
			break;
		default:
			memcpy(ste, base, sizeof(ste));
			if (good[i].kind == 4)
				ste[1] |= 1ULL << VSTE1_S1DSS_SHIFT;
		}
		id = 0;
		ret = alloc_nested(self, 0, 0, ste, &id);
		if (ret) {
			failed++;
			INFO("vSTE %s (%#018llx %#018llx): expected success, got %s", good[i].name,
			     (unsigned long long)ste[0], (unsigned long long)ste[1],
			     errname(ret));
		} else {
			destroy_ok(_metadata, self, &id, "nested HWPT");
		}
	}
	ASSERT_EQ(0, failed) TH_LOG("%d vSTE(s) handled wrongly (see above)", failed);
	INFO("every forbidden vSTE refused with EIO, every allowed one accepted");

	attach_s1(_metadata, self, 0);
	s1_dma_check(_metadata, self, 0, "A after the refused vSTEs");
	nest_close(_metadata, self);
	done_info(self);
}

TEST_F_TIMEOUT(nest, bad_invalidate, TIMEOUT)
{
	uint32_t vsid = virt_ids[0];
	struct nest_cmd c[8];
	uint32_t done;
	int ret, failed = 0;
	struct {
		const char *name;
		struct nest_cmd cmd;
	} bad[12];
	int nbad = 0;

	if (!nest_begin(_metadata, self))
		return;
	setup_viommus(_metadata, self, true);
	attach_s1(_metadata, self, 0);
	s1_dma_check(_metadata, self, 0, "A before the invalidations");

	/* entry_num 0 asks whether the data type is supported. */
	ret = iommufd_viommu_invalidate(self->iommufd, self->viommu[0], NULL, 0, &done);
	ASSERT_EQ(0, ret) TH_LOG("IOMMU_HWPT_INVALIDATE with no entry: %s", errname(ret));

	/* Two good commands, then an unknown opcode. */
	cmd_tlbi_nh_all(&c[0]);
	cmd_tlbi_nh_asid(&c[1], asids[0]);
	cmd_raw(&c[2], 0x7f, 0, 0);
	cmd_tlbi_nh_all(&c[3]);
	done = 99;
	ret = iommufd_viommu_invalidate(self->iommufd, self->viommu[0], c, 4, &done);
	ASSERT_EQ(-EIO, ret) TH_LOG("[TLBI_NH_ALL, TLBI_NH_ASID, opcode 0x7f, TLBI_NH_ALL]: "
				    "expected EIO, got %s", errname(ret));
	ASSERT_EQ(2u, done) TH_LOG("entry_num after the unknown opcode: expected 2 (the good "
				   "ones were done), got %u", done);
	INFO("[good, good, opcode 0x7f, good]: EIO, entry_num 2");

#define BAD(n, ...) do { bad[nbad].name = n; __VA_ARGS__; nbad++; } while (0)
	BAD("CFGI_CD with word 1 bit 1 (beyond LEAF)",
	    cmd_cfgi_cd(&bad[nbad].cmd, vsid, 0, true); bad[nbad].cmd.w[1] |= 2);
	BAD("TLBI_NH_ASID with word 1 set", cmd_tlbi_nh_asid(&bad[nbad].cmd, asids[0]);
	    bad[nbad].cmd.w[1] = 1);
	BAD("TLBI_NH_VA with word 0 bit 10 (RES0)",
	    cmd_tlbi_nh_va(&bad[nbad].cmd, asids[0], VA_DST, true);
	    bad[nbad].cmd.w[0] |= 1ULL << 10);
	BAD("TLBI_NH_ALL with an ASID", cmd_tlbi_nh_all(&bad[nbad].cmd);
	    bad[nbad].cmd.w[0] |= (uint64_t)asids[0] << 48);
	BAD("CFGI_CD for a vSID without a vdevice", cmd_cfgi_cd(&bad[nbad].cmd, 0x77, 0, true));
	BAD("CFGI_STE (a host command)", cmd_raw(&bad[nbad].cmd, CMD_OP_CFGI_STE,
						 (uint64_t)vsid << 32, 0));
	BAD("TLBI_S12_VMALL (a host command)", cmd_raw(&bad[nbad].cmd,
						       CMD_OP_TLBI_S12_VMALL, 0, 0));
	BAD("TLBI_S2_IPA (a host command)", cmd_raw(&bad[nbad].cmd, CMD_OP_TLBI_S2_IPA, 0,
						    IPA_BASE));
	BAD("TLBI_EL2_ALL (a host command)", cmd_raw(&bad[nbad].cmd, CMD_OP_TLBI_EL2_ALL, 0, 0));
	BAD("opcode 0x00", cmd_raw(&bad[nbad].cmd, 0, 0, 0));
#undef BAD
	for (int i = 0; i < nbad; i++) {
		done = 99;
		ret = iommufd_viommu_invalidate(self->iommufd, self->viommu[0], &bad[i].cmd, 1,
						&done);
		if (ret != -EIO || done != 0) {
			failed++;
			INFO("%s (%016llx %016llx): expected EIO and entry_num 0, got %s and %u",
			     bad[i].name, (unsigned long long)bad[i].cmd.w[0],
			     (unsigned long long)bad[i].cmd.w[1], errname(ret), done);
		} else {
			INFO("%s: EIO", bad[i].name);
		}
	}
	/* A's vSID means nothing to vIOMMU 1. */
	cmd_cfgi_cd(&c[0], vsid, 0, true);
	done = 99;
	ret = iommufd_viommu_invalidate(self->iommufd, self->viommu[1], c, 1, &done);
	if (ret != -EIO || done) {
		failed++;
		INFO("CFGI_CD for A's vSID %#x on vIOMMU 1: expected EIO and entry_num 0, got "
		     "%s and %u", vsid, errname(ret), done);
	} else {
		INFO("CFGI_CD for A's vSID on B's vIOMMU: EIO");
	}
	ASSERT_EQ(0, failed) TH_LOG("%d command(s) handled wrongly (see above)", failed);

	/* Every command a guest may send, in one batch. */
	cmd_tlbi_nh_va(&c[0], asids[0], VA_DST, true);
	cmd_tlbi_nh_vaa(&c[1], VA_DST, false);
	cmd_tlbi_nh_asid(&c[2], asids[0]);
	cmd_tlbi_nh_all(&c[3]);
	cmd_tlbi_nsnh_all(&c[4]);
	cmd_cfgi_cd(&c[5], vsid, 0, true);
	cmd_cfgi_cd_all(&c[6], vsid);
	cmd_atc_inv_all(&c[7], vsid);
	invalidate_ok(_metadata, self, 0, c, 8, "every allowed opcode");
	INFO("[TLBI_NH_VA, TLBI_NH_VAA, TLBI_NH_ASID, TLBI_NH_ALL, TLBI_NSNH_ALL, CFGI_CD, "
	     "CFGI_CD_ALL, ATC_INV]: all done");

	/* Still working: a remap + TLBI is followed. */
	ASSERT_EQ(0, s1_map(&self->pt[0], VA_DST, self->data_ipa[0][REMAP_IDX], true));
	cmd_tlbi_nh_va(&c[0], asids[0], VA_DST, true);
	invalidate_ok(_metadata, self, 0, c, 1, "TLBI_NH_VA after the errors");
	DMA_EXPECT(self, 0, VA_SRC, data_mem(self, 0, map_idx(0, 0)), VA_DST,
		   data_mem(self, 0, REMAP_IDX), "A after the refused commands and a TLBI");
	nest_close(_metadata, self);
	done_info(self);
}

TEST_F_TIMEOUT(nest, viommu_needs_opt_in, TIMEOUT)
{
	int have, ret;

	if (!nest_begin(_metadata, self))
		return;
	have = viommu_opt_in_get();
	for (int d = 0; d < 2; d++) {
		/*
		 * The parent was made for A: its table has the S2FWB format only
		 * if A's instance has S2FWB, and a vIOMMU on it needs both.
		 */
		bool fwb = (self->info[d].idr[3] & NEST_IDR3_FWB) &&
			   (self->info[0].idr[3] & NEST_IDR3_FWB);
		uint32_t id = 0;

		if (have >= 0) {
			ret = viommu_opt_in_set(false);
			ASSERT_EQ(0, ret);
		}
		ret = iommufd_viommu_alloc_smmuv3(self->iommufd, self->dev[d].devid,
						  self->parent, &id);
		if (fwb) {
			ASSERT_EQ(0, ret) TH_LOG("%s and the parent's table have S2FWB: a vIOMMU "
						 "needs no opt-in, got %s", self->inst[d],
						 errname(ret));
			destroy_ok(_metadata, self, &id, "vIOMMU");
			INFO("%s has S2FWB: vIOMMU made without the opt-in", self->inst[d]);
		} else {
			ASSERT_EQ(-EOPNOTSUPP, ret)
				TH_LOG("IOMMU_VIOMMU_ALLOC for %c on %s without the opt-in, S2FWB "
				       "missing on it or on the parent's instance: expected "
				       "EOPNOTSUPP, got %s", dev_name[d], self->inst[d],
				       errname(ret));
			INFO("%s or the parent's instance has no S2FWB: vIOMMU without the "
			     "opt-in refused (EOPNOTSUPP)", self->inst[d]);
		}
	}
	/* The harness's ASSERT is two statements: keep it out of if/else. */
	if (have >= 0)
		ret = viommu_opt_in_set(true);
	else
		INFO("no %s: the rest needs it", VIOMMU_OPT_IN_PARAM);
	ASSERT_EQ(0, have >= 0 ? ret : 0);
	setup_viommus(_metadata, self, true);
	INFO("with viommu_assume_coherent=1 both vIOMMUs are made");
	nest_close(_metadata, self);
	done_info(self);
}

/* ---- Destroying in every order --------------------------------------------------------- */

enum {
	I_IOAS, I_PARENT, I_V0, I_V1, I_VDEV0, I_VDEV1, I_NEST0, I_NEST1, I_VEVQ0, I_VEVQ1,
	I_ATT0, I_ATT1, I_VEVFD0, I_VEVFD1, I_NUM
};

static const char *const item_name[I_NUM] = {
	"IOAS", "nesting parent", "vIOMMU 0", "vIOMMU 1", "vdevice A", "vdevice B",
	"nested HWPT A", "nested HWPT B", "vEVENTQ 0", "vEVENTQ 1", "attachment A",
	"attachment B", "vEVENTQ 0 fd", "vEVENTQ 1 fd",
};

/* What must be gone before each item can go. */
static const int item_deps[I_NUM][4] = {
	[I_IOAS] = { I_PARENT, -1 },
	[I_PARENT] = { I_V0, I_V1, -1 },
	[I_V0] = { I_VDEV0, I_NEST0, I_VEVQ0, -1 },
	[I_V1] = { I_VDEV1, I_NEST1, I_VEVQ1, -1 },
	[I_VDEV0] = { -1 }, [I_VDEV1] = { -1 },
	[I_NEST0] = { I_ATT0, -1 }, [I_NEST1] = { I_ATT1, -1 },
	[I_VEVQ0] = { I_VEVFD0, -1 }, [I_VEVQ1] = { I_VEVFD1, -1 },
	[I_ATT0] = { -1 }, [I_ATT1] = { -1 }, [I_VEVFD0] = { -1 }, [I_VEVFD1] = { -1 },
};

static uint32_t *item_id(FIXTURE_DATA(nest) *self, int it)
{
	switch (it) {
	case I_IOAS: return &self->ioas;
	case I_PARENT: return &self->parent;
	case I_V0: case I_V1: return &self->viommu[it - I_V0];
	case I_VDEV0: case I_VDEV1: return &self->vdev[it - I_VDEV0];
	case I_NEST0: case I_NEST1: return &self->nested[it - I_NEST0];
	case I_VEVQ0: case I_VEVQ1: return &self->veventq[it - I_VEVQ0];
	default: return NULL;
	}
}

/* Everything: vIOMMUs, vdevices, vEVENTQs, both devices on a guest stage 1. */
static void build_all(struct __test_metadata *_metadata, FIXTURE_DATA(nest) *self)
{
	int ret;

	if (!self->ioas)
		make_ioas_parent(_metadata, self);
	setup_viommus(_metadata, self, true);
	for (int d = 0; d < 2; d++) {
		ret = iommufd_veventq_alloc_smmuv3(self->iommufd, self->viommu[d], 8,
						   &self->veventq[d], &self->vevfd[d]);
		ASSERT_EQ(0, ret) TH_LOG("IOMMU_VEVENTQ_ALLOC on vIOMMU %d: %s", d,
					 errname(ret));
		attach_s1(_metadata, self, d);
	}
}

static bool item_live(FIXTURE_DATA(nest) *self, int it)
{
	switch (it) {
	case I_ATT0: case I_ATT1: return self->dev[it - I_ATT0].pt_id;
	case I_VEVFD0: case I_VEVFD1: return self->vevfd[it - I_VEVFD0] >= 0;
	default: return *item_id(self, it);
	}
}

/*
 * Try to take down every live item in ORDER, pass after pass, until
 * nothing is left: an item whose dependents are still there must be
 * refused with EBUSY (and stay usable), any other must go.
 */
static void destroy_in_order(struct __test_metadata *_metadata, FIXTURE_DATA(nest) *self,
			     const int *order, const char *label)
{
	char trail[512] = "";
	size_t tl = 0;
	int busy = 0;

	for (int pass = 0; pass < I_NUM; pass++) {
		bool any = false;

		for (int k = 0; k < I_NUM; k++) {
			int it = order[k], ret;
			bool blocked = false;

			if (!item_live(self, it))
				continue;
			any = true;
			for (int j = 0; j < 4 && item_deps[it][j] >= 0; j++)
				blocked |= item_live(self, item_deps[it][j]);
			if (it == I_ATT0 || it == I_ATT1) {
				ret = dev_detach(&self->dev[it - I_ATT0]);
				ASSERT_EQ(0, ret) TH_LOG("%s: %s", label,
							 self->dev[it - I_ATT0].err);
			} else if (it == I_VEVFD0 || it == I_VEVFD1) {
				ASSERT_EQ(0, close(self->vevfd[it - I_VEVFD0]));
				self->vevfd[it - I_VEVFD0] = -1;
			} else {
				uint32_t *id = item_id(self, it);

				ret = iommufd_destroy(self->iommufd, *id);
				if (blocked) {
					ASSERT_EQ(-EBUSY, ret)
						TH_LOG("%s: IOMMU_DESTROY %s (id %u) while still "
						       "in use: expected EBUSY, got %s", label,
						       item_name[it], *id, errname(ret));
					busy++;
					continue;
				}
				ASSERT_EQ(0, ret) TH_LOG("%s: IOMMU_DESTROY %s (id %u), no "
							 "longer in use: %s", label, item_name[it],
							 *id, errname(ret));
				*id = 0;
			}
			tl += snprintf(trail + tl, tl < sizeof(trail) ? sizeof(trail) - tl : 0,
				       "%s%s", tl ? ", " : "", item_name[it]);
		}
		if (!any)
			break;
	}
	for (int it = 0; it < I_NUM; it++) {
		bool live = item_live(self, it);

		ASSERT_FALSE(live) TH_LOG("%s: %s left", label, item_name[it]);
	}
	INFO("%s: %d EBUSY refusals; gone in order: %s", label, busy, trail);
}

TEST_F_TIMEOUT(nest, destroy_order, TIMEOUT)
{
	static const int forward[I_NUM] = {
		I_ATT0, I_ATT1, I_NEST0, I_NEST1, I_VDEV0, I_VDEV1, I_VEVFD0, I_VEVFD1,
		I_VEVQ0, I_VEVQ1, I_V0, I_V1, I_PARENT, I_IOAS,
	};
	int order[I_NUM];
	long base[2];
	char label[64];

	if (!nest_begin(_metadata, self))
		return;
	vmids_used(self, base);
	INFO("VMIDs in use before: %ld on %s, %ld on %s", base[0], self->inst[0], base[1],
	     self->inst[1]);
	for (int round = 0; round < 6; round++) {
		if (round == 0) {
			memcpy(order, forward, sizeof(order));
			snprintf(label, sizeof(label), "round 0 (the right order)");
		} else if (round == 1) {
			for (int k = 0; k < I_NUM; k++)
				order[k] = forward[I_NUM - 1 - k];
			snprintf(label, sizeof(label), "round 1 (the reverse)");
		} else {
			for (int k = 0; k < I_NUM; k++)
				order[k] = k;
			for (int k = I_NUM - 1; k > 0; k--) {
				int j = prng_next(&self->rng) % (k + 1), t = order[k];

				order[k] = order[j];
				order[j] = t;
			}
			snprintf(label, sizeof(label), "round %d (shuffled)", round);
		}
		build_all(_metadata, self);
		/* Refused destroys first: nothing may break. */
		for (int it = 0; it < I_NUM; it++) {
			uint32_t *id = item_id(self, it);
			int ret;

			if (!id || it == I_VDEV0 || it == I_VDEV1)
				continue;
			ret = iommufd_destroy(self->iommufd, *id);
			ASSERT_EQ(-EBUSY, ret) TH_LOG("%s: IOMMU_DESTROY %s (id %u) in use: "
						      "expected EBUSY, got %s", label,
						      item_name[it], *id, errname(ret));
		}
		for (int d = 0; d < 2; d++)
			s1_dma_check(_metadata, self, d, "after the refused destroys");
		destroy_in_order(_metadata, self, order, label);
		self->swap_cur = -1;
		check_vmids_back(_metadata, self, base, label);
		check_no_parent_left(_metadata, label);
	}
	/* And it all works again. */
	build_all(_metadata, self);
	for (int d = 0; d < 2; d++)
		s1_dma_check(_metadata, self, d, "rebuilt after six teardowns");
	nest_close(_metadata, self);
	check_vmids_back(_metadata, self, base, "after the last teardown");
	done_info(self);
}

/* ---- Closing the iommufd with everything alive ------------------------------------------ */

/*
 * In a child: everything built, an event left unread in vEVENTQ 0, then
 * the fds closed in the given style without destroying anything.  Exit
 * status 0, or 1 (details on stderr).
 */
static void child_build_and_die(struct __test_metadata *_metadata,
				FIXTURE_DATA(nest) *self, int style)
{
	struct dma_result r;

	nest_open(_metadata, self);
	build_all(_metadata, self);
	for (int d = 0; d < 2; d++)
		s1_dma_check(_metadata, self, d, "child");
	/* A fault whose event nobody will read. */
	dma_probe_len(self, 0, VA_SRC, data_mem(self, 0, map_idx(0, 0)),
		      VA_UNMAPPED + 4 * PAGE, NULL, FAULT_LEN, &r);
	if (style == 0) {
		/* The iommufd first; the rest at exit, in fd order. */
		close(self->iommufd);
	} else {
		/* The devices first (still attached), then the queues, then iommufd. */
		for (int d = 0; d < 2; d++)
			close(self->dev[d].fd);
		for (int d = 0; d < 2; d++)
			close(self->vevfd[d]);
		close(self->iommufd);
	}
	_exit(0);
}

TEST_F_TIMEOUT(nest, close_iommufd_alive, TIMEOUT)
{
	static const char *const style[2] = {
		"iommufd closed first, then exit",
		"devices closed first (attached), then vEVENTQ fds, then iommufd",
	};
	long base[2];

	if (!nest_begin(_metadata, self))
		return;
	/* Start from nothing: the child does it all. */
	nest_close(_metadata, self);
	vmids_used(self, base);
	for (int s = 0; s < 2; s++) {
		uint64_t t = now_ms();
		int status = 0;
		pid_t pid;

		fflush(stdout);
		fflush(stderr);
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			/* An ASSERT failing in here aborts the child: status shows it. */
			child_build_and_die(_metadata, self, s);
			_exit(2);
		}
		for (;;) {
			pid_t w = waitpid(pid, &status, WNOHANG);

			ASSERT_LE(0, w);
			if (w == pid)
				break;
			if (now_ms() - t > 120000) {
				kill(pid, SIGKILL);
				waitpid(pid, &status, 0);
				ASSERT_TRUE(false) TH_LOG("child (%s) hung", style[s]);
			}
			usleep(20000);
		}
		ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
			TH_LOG("child (%s) failed: %s %d", style[s],
			       WIFEXITED(status) ? "exit" : "signal",
			       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		INFO("child: everything built, then %s: exited in %llu ms", style[s],
		     (unsigned long long)(now_ms() - t));
		check_vmids_back(_metadata, self, base, style[s]);
		check_no_parent_left(_metadata, style[s]);

		/*
		 * The fixture data is shared memory (the teardown runs in the
		 * harness's parent): forget what the child put there.  Guest RAM
		 * itself is private, so its tables exist only in the child's copy.
		 */
		memset(&self->dev, 0, sizeof(self->dev));
		self->dev[0].fd = self->dev[1].fd = -1;
		self->ioas = self->parent = 0;
		memset(self->viommu, 0, sizeof(self->viommu));
		memset(self->vdev, 0, sizeof(self->vdev));
		memset(self->nested, 0, sizeof(self->nested));
		memset(self->veventq, 0, sizeof(self->veventq));
		self->vevfd[0] = self->vevfd[1] = -1;
		memset(self->s1_built, 0, sizeof(self->s1_built));
		self->gm.next = 0;

		/* Here, the devices must be as good as new. */
		nest_open(_metadata, self);
		build_all(_metadata, self);
		for (int d = 0; d < 2; d++)
			s1_dma_check(_metadata, self, d, "in the parent after the child died");
		nest_close(_metadata, self);
		check_vmids_back(_metadata, self, base, "after the parent's own teardown");
	}
	INFO("both ways of dying with everything alive left the devices usable, no VMID "
	     "leaked");
	done_info(self);
}

TEST_HARNESS_MAIN
