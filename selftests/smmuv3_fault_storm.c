// SPDX-License-Identifier: GPL-2.0-only
/*
 * smmuv3_fault_storm: devices behind both instances DMA to unmapped IOVAs
 * until the event queues overflow, again and again.
 *
 * QEMU's edu writes its buffer in 4-byte accesses and each one faults: a
 * 4 KiB write to an unmapped IOVA raises 1024 F_TRANSLATION events.  An
 * event thread that keeps up never lets a queue fill, so each storm
 * "window" starves the event threads: their interrupts are moved to the
 * last CPU (/proc/irq/N/smp_affinity_list), where a SCHED_FIFO 99 child
 * spins while both edus fault STORM_DMAS times (more records than the
 * queue holds); then the child exits and the threads drain.  That is what
 * a host whose CPUs are busy does to its event handling.
 *
 *   host_storm     windows until each instance has reported lost events
 *                  in OVF_MIN of them (smmuv3.ko: "events_lost" in debugfs; an
 *                  overflow is PROD.OVFLG, or on QEMU a GERROR event queue
 *                  write abort); in some windows one edu storms while the
 *                  other checks DMA through its mapping (the other instance
 *                  translates during the storm), after each window both
 *                  check DMA; the kernel log during the storm stays within
 *                  the bound the kernel's ratelimit defaults give
 *                  (include/linux/ratelimit_types.h: 10 messages per 5 s
 *                  per call site); afterwards one small fault on each
 *                  instance is still recorded (events flow again).
 *   nested_storm   an edu attached to a nested domain (vIOMMU, vdevice,
 *                  vEVENTQ of depth VEVQ_DEPTH) storms stage-1 faults while
 *                  the other edu storms host faults: the vEVENTQ gets at
 *                  most its depth in records plus iommufd's lost-events
 *                  header, every record the guest's (F_TRANSLATION, its
 *                  virtual StreamID), smmuv3.ko counts them as
 *                  events_to_guest, and the host still records its own
 *                  faults on both instances (a stage-2 fault of the nested
 *                  device stays the host's) and DMA still works.
 *
 * With the upstream driver there are no counters: the storms, the log
 * bound and the DMA checks run; the counting checks are skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
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
#include "dmatest.h"
#include "edu.h"
#include "env.h"
#include "mem.h"
#include "nesting.h"
#include "sysfs.h"
#include "vfio.h"

/* include/linux/ratelimit_types.h: DEFAULT_RATELIMIT_INTERVAL, _BURST */
#define RL_INTERVAL_S	5
#define RL_BURST	10
/*
 * Ratelimited call sites a storm can reach in a driver (events with and
 * without an address, overflow, global error, vEVENTQ), and kernel log
 * records per message (upstream prints up to 3 per event): generous.
 */
#define RL_SITES	6
#define RL_RECORDS	4

#define STORM_DMAS	6	/* x 1024 events > a 4096-entry queue */
#define OVF_MIN		4	/* windows with lost events, per instance */
#define MAX_WINDOWS	24
#define UPSTREAM_WINDOWS 6
#define VEVQ_DEPTH	32
#define TIMEOUT		600

FIXTURE(storm)
{
	int iommufd;
	uint32_t ioas;
	struct edu_dev d[2];
	struct pinned_buf mem[2], ctl[2];
	uint64_t iova[2], ctl_iova[2], hole;
	struct prng rng;
	bool ours;
	/* Event interrupts moved to the hog's CPU, and their old affinity. */
	int nirq;
	int irq[8];
	char old_aff[8][64];
	int hog_cpu;
	pid_t hog;
	int kmsg;
	uint64_t kmsg_records, kmsg_lost;
};

/* ---- Starving the event threads ----------------------------------------- */

static void find_event_irqs(FIXTURE_DATA(storm) *self)
{
	FILE *f = fopen("/proc/interrupts", "r");
	char line[512];

	self->nirq = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && self->nirq < 8) {
		int irq;

		if (sscanf(line, " %d:", &irq) != 1)
			continue;
		/* ours: smmuv3-evtq / smmuv3-combined; upstream: arm-smmu-v3-evtq ... */
		if (!strstr(line, "smmu") ||
		    !(strstr(line, "evtq") || strstr(line, "combined")))
			continue;
		self->irq[self->nirq++] = irq;
	}
	fclose(f);
}

static int irqs_to(FIXTURE_DATA(storm) *self, bool hog)
{
	char path[64], buf[64];
	int ret = 0;

	for (int i = 0; i < self->nirq; i++) {
		snprintf(path, sizeof(path), "/proc/irq/%d/smp_affinity_list", self->irq[i]);
		if (hog) {
			if (sysfs_read(path, self->old_aff[i], sizeof(self->old_aff[i])) < 0)
				return -EIO;
			snprintf(buf, sizeof(buf), "%d", self->hog_cpu);
			ret = sysfs_write(path, buf);
		} else if (self->old_aff[i][0]) {
			ret = sysfs_write(path, self->old_aff[i]);
		}
		if (ret)
			return ret;
	}
	return 0;
}

static void pin_self(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void hog_start(FIXTURE_DATA(storm) *self)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct sched_param sp = { .sched_priority = 99 };
		uint64_t t0;

		pin_self(self->hog_cpu);
		sched_setscheduler(0, SCHED_FIFO, &sp);
		/* Bounded: the parent kills it long before. */
		t0 = now_ms();
		while (now_ms() - t0 < 30000)
			;
		_exit(0);
	}
	self->hog = pid;
}

static void hog_stop(FIXTURE_DATA(storm) *self)
{
	if (self->hog > 0) {
		kill(self->hog, SIGKILL);
		waitpid(self->hog, NULL, 0);
	}
	self->hog = 0;
}

/* ---- The kernel log ------------------------------------------------------- */

static void kmsg_open(FIXTURE_DATA(storm) *self)
{
	self->kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (self->kmsg >= 0)
		lseek(self->kmsg, 0, SEEK_END);
	self->kmsg_records = self->kmsg_lost = 0;
}

/* Count the records since kmsg_open(), other than /init's own. */
static void kmsg_count(FIXTURE_DATA(storm) *self, const char *grep, uint64_t *hits)
{
	char rec[2048];

	if (self->kmsg < 0)
		return;
	for (;;) {
		ssize_t n = read(self->kmsg, rec, sizeof(rec) - 1);
		char *text;

		if (n < 0 && errno == EPIPE) {
			self->kmsg_lost++;
			continue;
		}
		if (n <= 0)
			break;
		rec[n] = 0;
		text = strchr(rec, ';');
		text = text ? text + 1 : rec;
		if (!strncmp(text, "smtest:", 7))
			continue;
		self->kmsg_records++;
		if (hits && grep && strstr(text, grep))
			(*hits)++;
	}
}

static uint64_t kmsg_bound(uint64_t secs, unsigned int extra)
{
	uint64_t intervals = secs / RL_INTERVAL_S + 2;

	/* Each site: BURST messages and one "callbacks suppressed" per interval. */
	return intervals * RL_SITES * (RL_BURST * RL_RECORDS + 1) + extra;
}

/* ---- DMA ------------------------------------------------------------------ */

/* Start a device -> RAM write of LEN bytes at IOVA; does not wait. */
static int dma_start(struct edu *e, uint64_t iova, size_t len)
{
	if (edu_read64(e, EDU_REG_DMA_CMD) & EDU_DMA_CMD_START)
		return -EBUSY;
	edu_write64(e, EDU_REG_DMA_SRC, EDU_BUF_ADDR);
	edu_write64(e, EDU_REG_DMA_DST, iova);
	edu_write64(e, EDU_REG_DMA_COUNT, len);
	__sync_synchronize();
	edu_write64(e, EDU_REG_DMA_CMD, EDU_DMA_CMD_START | EDU_DMA_CMD_TO_RAM);
	return 0;
}

static void roundtrip(struct __test_metadata *_metadata, FIXTURE_DATA(storm) *self,
		      int i)
{
	unsigned char *m = self->mem[i].va;

	ASSERT_CHECK(edu_roundtrip(&self->d[i], m, self->iova[i], m + PAGE,
				   self->iova[i] + PAGE, PAGE, &self->rng, ERRBUF));
}

/* Sum of "events_lost" over D's instance (0 without our driver). */
static uint64_t lost(FIXTURE_DATA(storm) *self, int i)
{
	uint64_t v = 0;

	if (self->ours)
		dbg_stat(self->d[i].inst, "events_lost", &v);
	return v;
}

/* Wait until counter KEY of INST stops moving (the thread drained). */
static uint64_t settle(const char *inst, const char *key)
{
	uint64_t v = 0, prev = UINT64_MAX;

	for (int i = 0; i < 200 && v != prev; i++) {
		prev = v;
		usleep(100000);
		dbg_stat(inst, key, &v);
	}
	return v;
}

FIXTURE_SETUP(storm)
{
	struct edu_pick pick[2];
	char why[256];
	uint64_t base, seed = prng_time_seed();
	long ncpu;
	int ret;

	self->iommufd = self->kmsg = -1;
	self->d[0].vd.fd = self->d[1].vd.fd = -1;
	ret = edus_pick_two(pick, why, sizeof(why));
	ASSERT_LE(0, ret) TH_LOG("%s", why);
	if (!ret)
		SKIP(return, "%s", why);
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu < 2)
		SKIP(return, "needs two CPUs: one to starve the event threads on");
	self->hog_cpu = ncpu - 1;
	/* The test itself runs where the hog does not. */
	pin_self(0);
	self->ours = env_driver_ours();
	prng_seed(&self->rng, seed);
	for (int i = 0; i < 2; i++) {
		ret = pinned_alloc(&self->mem[i], 2 * PAGE);
		ASSERT_EQ(0, ret) TH_LOG("pinned buffer: %s", strerror(-ret));
	}
	self->iommufd = iommufd_open();
	ASSERT_LE(0, self->iommufd) TH_LOG("open /dev/iommu: %s", strerror(-self->iommufd));
	ret = iommufd_ioas_alloc(self->iommufd, &self->ioas);
	ASSERT_EQ(0, ret);
	for (int i = 0; i < 2; i++) {
		ret = edu_dev_open(&self->d[i], pick[i].bdf, self->iommufd);
		ASSERT_EQ(0, ret) TH_LOG("%s", self->d[i].vd.err);
		ret = dev_attach(&self->d[i].vd, self->ioas);
		ASSERT_EQ(0, ret) TH_LOG("%s", self->d[i].vd.err);
	}
	ret = iommufd_pick_iova(self->iommufd, self->ioas, IOVA_MIN, 8 * PAGE, SZ_2M, &base);
	ASSERT_EQ(0, ret) TH_LOG("no IOVA window: %s", strerror(-ret));
	for (int i = 0; i < 2; i++) {
		self->iova[i] = base + i * 2 * PAGE;
		ret = iommufd_ioas_map(self->iommufd, self->ioas, self->mem[i].va, 2 * PAGE,
				       &self->iova[i], true, RW);
		ASSERT_EQ(0, ret) TH_LOG("IOMMU_IOAS_MAP: %s", strerror(-ret));
	}
	/* Never mapped. */
	self->hole = base + 6 * PAGE;
	find_event_irqs(self);
	INFO("A = %s behind %s, B = %s behind %s; event IRQs %d; hog on CPU %d; "
	     "seed 0x%016llx", pick[0].bdf, pick[0].inst, pick[1].bdf, pick[1].inst,
	     self->nirq, self->hog_cpu, (unsigned long long)seed);
}

FIXTURE_TEARDOWN(storm)
{
	hog_stop(self);
	irqs_to(self, false);
	vfio_dev_close_all();
	if (self->iommufd >= 0)
		close(self->iommufd);
	if (self->kmsg >= 0)
		close(self->kmsg);
	for (int i = 0; i < 2; i++)
		pinned_free(&self->mem[i]);
}

/*
 * One window: starve the event threads, STORM_DMAS faulting writes on
 * each edu in MASK (bit i: edu i), the others check DMA meanwhile.
 */
static void window(struct __test_metadata *_metadata, FIXTURE_DATA(storm) *self,
		   unsigned int mask, uint64_t *faults)
{
	int ret;

	ASSERT_EQ(0, irqs_to(self, true)) TH_LOG("moving the event interrupts");
	hog_start(self);
	for (int n = 0; n < STORM_DMAS; n++) {
		for (int i = 0; i < 2; i++) {
			if (!(mask & (1u << i)))
				continue;
			ret = dma_start(&self->d[i].e, self->hole, EDU_BUF_SIZE);
			ASSERT_EQ(0, ret);
			*faults += EDU_BUF_SIZE / 4;
		}
		/* The other instance translates during the storm. */
		for (int i = 0; i < 2; i++)
			if (!(mask & (1u << i)))
				roundtrip(_metadata, self, i);
		for (int i = 0; i < 2; i++) {
			if (!(mask & (1u << i)))
				continue;
			ret = edu_dma_wait(&self->d[i].e);
			ASSERT_EQ(0, ret) TH_LOG("faulting DMA of %s did not complete",
						 self->d[i].bdf);
			self->d[i].dev_known = false;
		}
	}
	hog_stop(self);
	ASSERT_EQ(0, irqs_to(self, false));
}

TEST_F_TIMEOUT(storm, host_storm, TIMEOUT)
{
	static const unsigned int masks[] = { 3, 1, 2 };
	uint64_t lost0[2], lostn[2] = { 0, 0 }, faults = 0, t0, secs, bound, w;
	unsigned int ovf_windows[2] = { 0, 0 };
	uint64_t ev_before[2], ev_after[2], ovf_lines = 0;
	int ret;

	for (int i = 0; i < 2; i++)
		lost0[i] = lost(self, i);
	kmsg_open(self);
	t0 = now_ms();
	for (w = 0; w < (self->ours ? MAX_WINDOWS : UPSTREAM_WINDOWS); w++) {
		window(_metadata, self, masks[w % 3], &faults);
		for (int i = 0; i < 2; i++) {
			if (self->ours)
				settle(self->d[i].inst, "event F_TRANSLATION");
			/* Both translate after the window. */
			roundtrip(_metadata, self, i);
			if (lost(self, i) - lost0[i] > lostn[i])
				ovf_windows[i]++;
			lostn[i] = lost(self, i) - lost0[i];
		}
		if (self->ours && ovf_windows[0] >= OVF_MIN && ovf_windows[1] >= OVF_MIN)
			break;
	}
	secs = (now_ms() - t0 + 999) / 1000;
	kmsg_count(self, "lost", &ovf_lines);
	bound = kmsg_bound(secs, 2 * (w + 1));
	INFO("%llu windows in %llu s, %llu faulting 4-byte writes; lost-event reports: "
	     "%s %llu in %u windows, %s %llu in %u windows; kernel log: %llu records "
	     "(bound %llu, %llu with \"lost\"), %llu overwritten",
	     (unsigned long long)w + (w < MAX_WINDOWS), (unsigned long long)secs,
	     (unsigned long long)faults, self->d[0].inst, (unsigned long long)lostn[0],
	     ovf_windows[0], self->d[1].inst, (unsigned long long)lostn[1], ovf_windows[1],
	     (unsigned long long)self->kmsg_records, (unsigned long long)bound,
	     (unsigned long long)ovf_lines, (unsigned long long)self->kmsg_lost);
	EXPECT_LE(self->kmsg_records, bound)
		TH_LOG("the kernel log took %llu records in %llu s of storm: more than the "
		       "%llu that ratelimited messages (%d per %d s per call site) allow",
		       (unsigned long long)self->kmsg_records, (unsigned long long)secs,
		       (unsigned long long)bound, RL_BURST, RL_INTERVAL_S);
	EXPECT_EQ(0ULL, self->kmsg_lost) TH_LOG("the kernel log overflowed during the storm");
	ASSERT_LT(bound, faults) TH_LOG("the storm was too small to tell a ratelimited log "
					"from one line per fault");
	if (!self->ours)
		return;
	for (int i = 0; i < 2; i++) {
		EXPECT_LE((unsigned int)OVF_MIN, ovf_windows[i])
			TH_LOG("%s: after %llu storm windows that wrote more events than its "
			       "queue holds while its event thread was starved, expected "
			       "\"events_lost\" to grow in at least %d of them, found %u "
			       "(grown by %llu in all)", self->d[i].inst, (unsigned long long)w,
			       OVF_MIN, ovf_windows[i], (unsigned long long)lostn[i]);
	}

	/* Events flow again: one 4-byte fault on each instance is recorded. */
	for (int i = 0; i < 2; i++)
		ev_before[i] = settle(self->d[i].inst, "event F_TRANSLATION");
	for (int i = 0; i < 2; i++) {
		ret = edu_dma(&self->d[i].e, self->hole, 4, 0, true);
		ASSERT_EQ(0, ret);
		ret = dbg_stat_wait(self->d[i].inst, "event F_TRANSLATION", ev_before[i] + 1,
				    EVENT_WAIT_MS, &ev_after[i]);
		EXPECT_EQ(0, ret) TH_LOG("%s: a single fault after the storm was not recorded "
					 "(F_TRANSLATION %llu -> %llu)", self->d[i].inst,
					 (unsigned long long)ev_before[i],
					 (unsigned long long)ev_after[i]);
		roundtrip(_metadata, self, i);
	}
	INFO("after the storm: one fault each recorded (F_TRANSLATION %s %llu -> %llu, "
	     "%s %llu -> %llu), DMA through both works", self->d[0].inst,
	     (unsigned long long)ev_before[0], (unsigned long long)ev_after[0],
	     self->d[1].inst, (unsigned long long)ev_before[1],
	     (unsigned long long)ev_after[1]);
}

/* ---- A nested device's storm ------------------------------------------------ */

#define IPA_BASE	0x40000000ULL
#define GUEST_PAGES	32
#define VA_SRC		0x5234600000ULL
#define VA_DST		(VA_SRC + PAGE)
#define VA_HOLE		(VA_SRC + 16 * PAGE)	/* no stage-1 PTE */
#define VA_S2HOLE	(VA_SRC + 17 * PAGE)	/* -> an IPA stage 2 does not map */
#define IPA_S2HOLE	(IPA_BASE + 0x400000ULL)
#define VSID		0x10

TEST_F_TIMEOUT(storm, nested_storm, TIMEOUT)
{
	struct iommu_hw_info_arm_smmuv3 info;
	struct guest_mem gm = {};
	struct s1_pgtbl pt;
	struct nest_vevent ev[64];
	uint64_t ste[2], ipa = IPA_BASE, cd, src, dst, t0;
	uint64_t g0 = 0, g1 = 0, h0[2], h1[2], faults = 0, secs, bound, w;
	uint32_t type, gioas, parent, viommu, vdev, nested, vevq;
	uint32_t seq_lo = UINT32_MAX, seq_hi = 0;
	int vfd = -1, ret, n, records = 0, headers = 0;
	struct edu_dev *a = &self->d[0];
	char why[200];

	if (self->ours) {
		ret = dbg_build_feature("veventq", why, sizeof(why));
		if (!ret)
			SKIP(return, "smmuv3.ko offers no veventq here: %s", why);
	}
	ret = iommufd_hw_info_smmuv3(self->iommufd, a->vd.devid, &info, &type);
	ASSERT_EQ(0, ret);
	if (type != IOMMU_HW_INFO_TYPE_ARM_SMMUV3 ||
	    (info.idr[0] & (NEST_IDR0_S1P | NEST_IDR0_S2P)) != (NEST_IDR0_S1P | NEST_IDR0_S2P))
		SKIP(return, "%s cannot nest (hw_info type %u IDR0 %#x)", a->inst, type,
		     info.idr[0]);
	if (viommu_opt_in_set(true) == -ENOENT && !self->ours)
		INFO("no viommu_assume_coherent: the driver decides");

	/* Guest RAM in its own IOAS, the nesting parent, vIOMMU, vdevice, vEVENTQ. */
	ASSERT_EQ(0, dev_detach(&a->vd));
	ASSERT_EQ(0, guest_mem_alloc(&gm, GUEST_PAGES, IPA_BASE));
	ASSERT_EQ(0, iommufd_ioas_alloc(self->iommufd, &gioas));
	ret = iommufd_ioas_map(self->iommufd, gioas, gm.va, gm.len, &ipa, true, RW);
	ASSERT_EQ(0, ret);
	ret = iommufd_hwpt_alloc_nest_parent(self->iommufd, a->vd.devid, gioas, &parent);
	ASSERT_EQ(0, ret) TH_LOG("nesting parent: %s", strerror(-ret));
	ret = iommufd_viommu_alloc_smmuv3(self->iommufd, a->vd.devid, parent, &viommu);
	if (ret == -EOPNOTSUPP)
		SKIP(goto out, "the driver refuses a vIOMMU on %s", a->inst);
	ASSERT_EQ(0, ret) TH_LOG("IOMMU_VIOMMU_ALLOC: %s", strerror(-ret));
	ASSERT_EQ(0, iommufd_vdevice_alloc(self->iommufd, viommu, a->vd.devid, VSID, &vdev));
	ret = iommufd_veventq_alloc_smmuv3(self->iommufd, viommu, VEVQ_DEPTH, &vevq, &vfd);
	ASSERT_EQ(0, ret) TH_LOG("IOMMU_VEVENTQ_ALLOC: %s", strerror(-ret));
	ASSERT_EQ(0, s1_pgtbl_init(&pt, &gm));
	cd = guest_page_alloc(&gm);
	src = guest_page_alloc(&gm);
	dst = guest_page_alloc(&gm);
	ASSERT_EQ(0, s1_map(&pt, VA_SRC, src, true));
	ASSERT_EQ(0, s1_map(&pt, VA_DST, dst, true));
	ASSERT_EQ(0, s1_map(&pt, VA_S2HOLE, IPA_S2HOLE, true));
	cd_s1(guest_ptr(&gm, cd), 0x5a, pt.l1_ipa, S1_T0SZ, CD_IPS_40);
	vste_s1(ste, cd, 0);
	ret = iommufd_hwpt_alloc_nested(self->iommufd, a->vd.devid, viommu, ste, &nested);
	ASSERT_EQ(0, ret) TH_LOG("nested HWPT: %s", strerror(-ret));
	ASSERT_EQ(0, dev_attach(&a->vd, nested)) TH_LOG("%s", a->vd.err);
	/* Guest DMA works. */
	mem_fill_random(guest_ptr(&gm, src), PAGE, &self->rng);
	ASSERT_EQ(0, edu_dma_to_device(&a->e, VA_SRC, PAGE));
	ASSERT_EQ(0, edu_dma_from_device(&a->e, VA_DST, PAGE));
	ASSERT_EQ(0, memcmp(guest_ptr(&gm, src), guest_ptr(&gm, dst), PAGE));

	if (self->ours) {
		dbg_stat(a->inst, "events_to_guest", &g0);
		for (int i = 0; i < 2; i++)
			h0[i] = settle(self->d[i].inst, "event F_TRANSLATION");
	}
	kmsg_open(self);
	t0 = now_ms();
	/* A storms stage-1 faults (the guest's), B host faults; nobody reads the vEVENTQ. */
	for (w = 0; w < 3; w++) {
		ASSERT_EQ(0, irqs_to(self, true));
		hog_start(self);
		for (int k = 0; k < STORM_DMAS; k++) {
			ASSERT_EQ(0, dma_start(&a->e, VA_HOLE, EDU_BUF_SIZE));
			ASSERT_EQ(0, dma_start(&self->d[1].e, self->hole, EDU_BUF_SIZE));
			faults += 2 * EDU_BUF_SIZE / 4;
			ASSERT_EQ(0, edu_dma_wait(&a->e));
			ASSERT_EQ(0, edu_dma_wait(&self->d[1].e));
		}
		hog_stop(self);
		ASSERT_EQ(0, irqs_to(self, false));
	}
	/*
	 * One stage-2 fault of the nested device: the host's.  After the
	 * threads drained: a full queue would drop it (QEMU records nothing
	 * while the queue is full).
	 */
	if (self->ours) {
		for (int i = 0; i < 2; i++)
			settle(self->d[i].inst, "event F_TRANSLATION");
	} else {
		sleep(2);
	}
	ASSERT_EQ(0, edu_dma(&a->e, VA_S2HOLE, 4, 0, true));
	self->d[1].dev_known = false;
	roundtrip(_metadata, self, 1);
	secs = (now_ms() - t0 + 999) / 1000;

	/* The vEVENTQ: at most its depth, a lost-events header, all the guest's. */
	for (;;) {
		n = veventq_read(vfd, 1000, ev, 64);
		ASSERT_LE(0, n) TH_LOG("reading the vEVENTQ: %s", strerror(-n));
		if (!n)
			break;
		for (int i = 0; i < n; i++) {
			if (ev[i].lost) {
				headers++;
				continue;
			}
			records++;
			if (ev[i].sequence < seq_lo)
				seq_lo = ev[i].sequence;
			if (ev[i].sequence > seq_hi)
				seq_hi = ev[i].sequence;
			ASSERT_EQ((unsigned int)EVT_F_TRANSLATION, EVT_ID(ev[i].evt[0]));
			ASSERT_EQ((uint32_t)VSID, EVT_SID(ev[i].evt[0]));
			ASSERT_EQ(0ULL, ev[i].evt[1] & EVT1_S2)
				TH_LOG("a stage-2 fault reached the guest");
		}
		if (records > 4 * VEVQ_DEPTH)
			break;
	}
	kmsg_count(self, NULL, NULL);
	bound = kmsg_bound(secs, 2 * 3);
	INFO("nested storm: %llu faulting writes in %llu s; vEVENTQ (depth %d): %d records "
	     "(sequence %u..%u), %d lost-events header(s); kernel log %llu records (bound %llu)",
	     (unsigned long long)faults, (unsigned long long)secs, VEVQ_DEPTH, records,
	     seq_lo, seq_hi, headers, (unsigned long long)self->kmsg_records,
	     (unsigned long long)bound);
	EXPECT_LT(0, records) TH_LOG("no record reached the vEVENTQ");
	EXPECT_GE(VEVQ_DEPTH, records) TH_LOG("more records than the vEVENTQ's depth");
	EXPECT_LT(0, headers) TH_LOG("a storm of %llu faults into a vEVENTQ of depth %d "
				     "left no lost-events header",
				     (unsigned long long)faults / 2, VEVQ_DEPTH);
	EXPECT_LE(self->kmsg_records, bound);
	/* Guest DMA still works. */
	memset(guest_ptr(&gm, dst), 0, PAGE);
	ASSERT_EQ(0, edu_dma_to_device(&a->e, VA_SRC, PAGE));
	ASSERT_EQ(0, edu_dma_from_device(&a->e, VA_DST, PAGE));
	EXPECT_EQ(0, memcmp(guest_ptr(&gm, src), guest_ptr(&gm, dst), PAGE));
	if (self->ours) {
		for (int i = 0; i < 2; i++)
			h1[i] = settle(self->d[i].inst, "event F_TRANSLATION");
		dbg_stat(a->inst, "events_to_guest", &g1);
		INFO("events_to_guest %llu -> %llu; host F_TRANSLATION %s %llu -> %llu, "
		     "%s %llu -> %llu", (unsigned long long)g0, (unsigned long long)g1,
		     a->inst, (unsigned long long)h0[0], (unsigned long long)h1[0],
		     self->d[1].inst, (unsigned long long)h0[1], (unsigned long long)h1[1]);
		EXPECT_LE(g0 + records, g1);
		/*
		 * The stage-2 fault stayed the host's: on A's instance more
		 * events were counted than went to the guest.
		 */
		EXPECT_LT(g1 - g0, h1[0] - h0[0])
			TH_LOG("the nested device's stage-2 fault was not handled by the host "
			       "(F_TRANSLATION +%llu, to the guest +%llu)",
			       (unsigned long long)(h1[0] - h0[0]),
			       (unsigned long long)(g1 - g0));
		EXPECT_LT(h0[1], h1[1]) TH_LOG("%s recorded none of B's faults",
					       self->d[1].inst);
	}
	ASSERT_EQ(0, dev_detach(&a->vd));
	close(vfd);
	ASSERT_EQ(0, iommufd_destroy(self->iommufd, nested));
	ASSERT_EQ(0, iommufd_destroy(self->iommufd, vdev));
	ASSERT_EQ(0, iommufd_destroy(self->iommufd, vevq));
	ASSERT_EQ(0, iommufd_destroy(self->iommufd, viommu));
	ASSERT_EQ(0, iommufd_destroy(self->iommufd, parent));
out:
	viommu_opt_in_set(false);
	guest_mem_free(&gm);
}

TEST_HARNESS_MAIN
