// SPDX-License-Identifier: GPL-2.0-only
/*
 * smmuv3_fail_nth: every iommufd path the driver serves, with each of its
 * kernel allocations failed in turn.
 *
 * The kernel's fault injection (failslab and fail_page_alloc) has a
 * per-task countdown, /proc/self/task/<tid>/fail-nth: writing N makes the
 * N-th allocation of this thread that is eligible fail, once.  Reading it
 * back gives what is left of the countdown: 0 once the N-th allocation was
 * reached (and failed), more than 0 when the operation made fewer than N
 * allocations.  So for N = 1, 2, ... each operation is run with its N-th
 * allocation failed, until a run reaches no N-th allocation: then every
 * allocation site of the path has been failed once.  The knobs: both
 * ignore-gfp-wait N (sleeping allocations are eligible), fail_page_alloc
 * ignore-gfp-highmem N and min-order 0 (page-table pages are order 0),
 * verbose 0.  probability stays as it is (0): fail-nth is counted before
 * probability and task-filter are looked at (should_fail_ex() in
 * lib/fault-inject.c), so no other task ever sees a failure.  The old
 * values are written back at the end.
 *
 * After each injected failure:
 *  - the call failed with ENOMEM (the only errno an allocation failure may
 *    turn into on these paths; see ALLOWED) or succeeded anyway (the
 *    allocation was optional: the result is undone and counted);
 *  - the device still translates through what it was attached to before
 *    (edu DMA RAM -> device -> RAM through that mapping), or is still
 *    blocked (its write is dropped);
 *  - with smmuv3.ko, /sys/kernel/debug/smmuv3/domains lists the same
 *    domains with the same live invalidation entries as before, and no
 *    instance has more ASIDs or VMIDs in use (no leaked tag, array entry
 *    or domain).
 * Leaked objects are found by the kmemleak scan the harness runs after the
 * selftests (qemu/init.sh), kernel reports by its log check.
 *
 * Paths (one test each): hw_info, hwpt_alloc_paging (stage 1 where the
 * instance has it), hwpt_alloc_nest_parent (stage 2; the uapi has no other
 * way to ask for a stage-2 HWPT), attach_ioas (an automatic domain),
 * attach_hwpt, replace (between two IOASes), detach (must not fail: the
 * core has no way back), viommu_alloc, vdevice_alloc, nested_alloc,
 * attach_nested (replace parent -> nested), replace_nested_parent (nested ->
 * parent), invalidate (a batch of guest commands), veventq_alloc.  The
 * nested ones need an instance with both stages (smmuv3.ko: and the
 * viommu_assume_coherent opt-in, set and reset here); upstream refuses
 * vIOMMUs on QEMU's SMMU (no S2FWB): they are skipped with that reason.
 * Module load with fail-nth is another test's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
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

#define TIMEOUT		900
#define PAGE		4096UL
#define LEN		256		/* bytes per DMA check */
#define IOVA		0x40000000ULL	/* both IOASes map their buffer here */
#define MAX_NTH		2000U		/* more sites than this: the test is wrong */
#define VSID		0x42

/* Errnos an injected allocation failure may give on these paths. */
static const int ALLOWED[] = { ENOMEM };

/* ---- Fault injection knobs ----------------------------------------------------- */

#define DBGFS "/sys/kernel/debug/"
static const struct {
	const char *path, *val;
} knobs[] = {
	{ DBGFS "failslab/ignore-gfp-wait", "N" },
	{ DBGFS "failslab/verbose", "0" },
	{ DBGFS "fail_page_alloc/ignore-gfp-wait", "N" },
	{ DBGFS "fail_page_alloc/ignore-gfp-highmem", "N" },
	{ DBGFS "fail_page_alloc/min-order", "0" },
	{ DBGFS "fail_page_alloc/verbose", "0" },
};
#define NKNOBS (sizeof(knobs) / sizeof(knobs[0]))

static int knob_rw(const char *path, char *old, size_t len, const char *val)
{
	int ret = 0;

	if (old) {
		ret = sysfs_read(path, old, len);
		if (ret < 0)
			return ret;
		old[strcspn(old, "\n")] = 0;
	}
	if (val)
		ret = sysfs_write(path, val);
	return ret < 0 ? ret : 0;
}

struct nth {
	int fd;
	unsigned int n;
};

static int nth_open(struct nth *t)
{
	char p[64];

	snprintf(p, sizeof(p), "/proc/self/task/%ld/fail-nth", (long)syscall(SYS_gettid));
	t->fd = open(p, O_RDWR | O_CLOEXEC);
	return t->fd < 0 ? -errno : 0;
}

static int nth_arm(struct nth *t)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", t->n);

	return pwrite(t->fd, buf, len, 0) == len ? 0 : -errno;
}

/* Disarm; 1 if the N-th allocation was reached (and failed), 0 if not. */
static int nth_disarm(struct nth *t)
{
	char buf[16] = "";
	ssize_t r = pread(t->fd, buf, sizeof(buf) - 1, 0);

	/*
	 * If the operation did not reach the N-th allocation, the countdown
	 * is still running during this read and the write below: either may
	 * then be the one that fails (EFAULT).  That too means "not reached".
	 */
	if (r < 0 && errno == EFAULT)
		buf[0] = '1';
	else if (r <= 0)
		return -EIO;
	if (pwrite(t->fd, "0", 1, 0) != 1 && pwrite(t->fd, "0", 1, 0) != 1)
		return -errno;
	return atoi(buf) == 0;
}

/* ---- The fixture ------------------------------------------------------------------ */

FIXTURE(fn)
{
	struct edu_home home;
	bool opted_in;
	char saved[NKNOBS][32];
	bool knob_set[NKNOBS];
	/* The test process. */
	int iommufd;
	struct edu_dev a;
	uint8_t *buf[2];	/* mapped at IOVA in ioas[0], ioas[1] */
	uint32_t ioas[2];
	uint32_t hwpt[2];	/* explicit paging HWPTs on ioas[0], ioas[1] */
	uint32_t parent;	/* nesting parent on ioas[0] */
	uint32_t viommu, vdev, nested, veventq;
	int vevfd;
	struct prng rng;
	struct dbg_domains *dd;
	bool ours;
	/* The sweep. */
	const char *path;
	unsigned int injected, survived, refused, checks;
	int errs[8], errn[8];
};

FIXTURE_SETUP(fn)
{
	char why[256];
	int n;

	memset(self, 0, sizeof(*self));
	self->iommufd = -1;
	self->a.vd.fd = -1;
	self->vevfd = -1;
	n = edu_home_pick(&self->home, why, sizeof(why));
	ASSERT_LE(0, n) TH_LOG("%s", why);
	if (n == 0)
		SKIP(return, "%s", why);
}

FIXTURE_TEARDOWN_PARENT(fn)
{
	for (size_t i = 0; i < NKNOBS; i++)
		if (self->knob_set[i])
			knob_rw(knobs[i].path, NULL, 0, self->saved[i]);
	if (self->opted_in)
		viommu_opt_in_set(false);
	edu_home_restore(&self->home);
}

/* Why smmuv3.ko's debugfs is not looked at. */
static const char *no_dbg_reason(void)
{
	static char b[160];

	if (!env_driver_ours())
		snprintf(b, sizeof(b), "driver %s has no smmuv3 debugfs", env_driver() ?: "?");
	else
		snprintf(b, sizeof(b), "no %s", SMMUV3_DEBUGFS);
	return b;
}

/* Fault injection on, the edu bound, both IOASes with their buffer mapped. */
static bool fn_begin(struct __test_metadata *_metadata, FIXTURE_DATA(fn) *self)
{
	struct edu_dev *const dev[] = { &self->a };
	const char *const bdf[] = { self->home.bdf };
	char err[256];
	int ret;

	if (access(DBGFS "failslab", F_OK) || access(DBGFS "fail_page_alloc", F_OK))
		SKIP(return false, "no %sfailslab or fail_page_alloc: kernel without "
		     "CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC or CONFIG_FAULT_INJECTION_DEBUG_FS",
		     DBGFS);
	if (access("/proc/self/fail-nth", F_OK))
		SKIP(return false, "no /proc/self/fail-nth: kernel without CONFIG_FAULT_INJECTION");
	for (size_t i = 0; i < NKNOBS; i++) {
		ret = knob_rw(knobs[i].path, self->saved[i], sizeof(self->saved[i]),
			      knobs[i].val);
		ASSERT_EQ(0, ret) TH_LOG("%s: %s", knobs[i].path, errname(ret));
		self->knob_set[i] = true;
	}
	self->ours = env_driver_ours() && dbg_present();
	prng_seed(&self->rng, prng_time_seed());
	self->dd = malloc(2 * sizeof(*self->dd));
	ASSERT_NE(NULL, self->dd);

	self->home.touched = true;
	ret = edus_bind(&self->iommufd, &self->ioas[0], dev, bdf, 1, err, sizeof(err));
	ASSERT_EQ(0, ret) TH_LOG("%s", err);
	ret = iommufd_ioas_alloc(self->iommufd, &self->ioas[1]);
	ASSERT_EQ(0, ret) TH_LOG("IOMMU_IOAS_ALLOC: %s", errname(ret));
	for (int i = 0; i < 2; i++) {
		ret = ioas_map_new_buf(self->iommufd, self->ioas[i], &self->buf[i], 2 * PAGE,
				       IOVA, 0x11 * (i + 1), err, sizeof(err));
		ASSERT_EQ(0, ret) TH_LOG("%s", err);
	}
	INFO("edu %s behind %s; driver %s", self->home.bdf, self->a.inst, env_driver() ?: "?");
	if (!self->ours)
		INFO("no leak check of domains, live entries and tags: %s", no_dbg_reason());
	return true;
}

/* Skip unless the edu's instance can nest and vIOMMUs can be made there. */
static bool fn_nesting(struct __test_metadata *_metadata, FIXTURE_DATA(fn) *self)
{
	const char *how = "";
	char why[200];
	uint32_t id;
	int ret;

	if (env_driver_ours() && dbg_build_feature("viommu", why, sizeof(why)) == 0)
		SKIP(return false, "smmuv3.ko offers no vIOMMU here: %s", why);
	ret = edu_dev_has_nesting(&self->a, &how);
	if (ret <= 0)
		SKIP(return false, "%s (behind %s) cannot nest (%s): %s", self->home.bdf,
		     self->a.inst, how, ret ? errname(ret) : "not both stages");
	ret = viommu_opt_in_set(true);
	if (!ret)
		self->opted_in = true;
	ret = iommufd_hwpt_alloc_nest_parent(self->iommufd, self->a.vd.devid, self->ioas[0],
					     &self->parent);
	ASSERT_EQ(0, ret) TH_LOG("nesting parent: %s", errname(ret));
	ret = iommufd_viommu_alloc_smmuv3(self->iommufd, self->a.vd.devid, self->parent, &id);
	if (ret == -EOPNOTSUPP)
		SKIP(return false, "IOMMU_VIOMMU_ALLOC refused with EOPNOTSUPP (driver %s; "
		     "upstream needs S2FWB or CANWBS, which QEMU's SMMU lacks)",
		     env_driver() ?: "?");
	ASSERT_EQ(0, ret) TH_LOG("IOMMU_VIOMMU_ALLOC: %s", errname(ret));
	ASSERT_EQ(0, iommufd_destroy(self->iommufd, id));
	return true;
}

/* ---- What must hold after a failure -------------------------------------------- */

/* The device translates IOVA through IOAS I (it is attached to something on it). */
static int dma_through(FIXTURE_DATA(fn) *self, int i, char *err, size_t len)
{
	uint8_t *b = self->buf[i];

	self->checks++;
	return edu_roundtrip(&self->a, b, IOVA, b + PAGE, IOVA + PAGE, LEN, &self->rng,
			     err, len);
}

/* The device is blocked: its write to IOVA reaches neither buffer. */
static int dma_blocked(FIXTURE_DATA(fn) *self, char *err, size_t len)
{
	int ret;

	self->checks++;
	for (int i = 0; i < 2; i++) {
		ret = edu_write_dropped(&self->a, IOVA + PAGE, self->buf[i] + PAGE, LEN,
					&self->rng, err, len);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * smmuv3.ko's view: every domain with its live invalidation entries, and
 * the ASIDs and VMIDs in use on each instance, as one string.
 */
static int dbg_state(FIXTURE_DATA(fn) *self, struct dbg_domains *dd, char *out, size_t len)
{
	static const char *const keys[] = { "asids_used", "vmids_used" };
	size_t o = 0;
	int ret;

	out[0] = 0;
	if (!self->ours)
		return 0;
	ret = dbg_domains_read(dd);
	if (ret)
		return ret;
	for (int i = 0; i < dd->n; i++) {
		const struct dbg_domain *d = &dd->d[i];

		o += snprintf(out + o, len - o, "domain %u stage %d%s:", d->id, d->stage,
			      d->nest_parent ? " nest-parent" : "");
		for (int j = 0; j < d->n && o < len; j++)
			if (d->inv[j].users > 0)
				o += snprintf(out + o, len - o, " %s/%u/%u/%u x%d",
					      d->inv[j].inst, d->inv[j].type, d->inv[j].id,
					      d->inv[j].ssid, d->inv[j].users);
		if (o < len)
			o += snprintf(out + o, len - o, "; ");
	}
	for (int k = 0; k < 2 && o < len; k++) {
		struct dbg_snap s;

		ret = dbg_snap(keys[k], &s);
		if (ret)
			return ret;
		for (int i = 0; i < s.n && o < len; i++)
			o += snprintf(out + o, len - o, "%s %s %llu; ", s.inst[i], keys[k],
				      (unsigned long long)s.v[i]);
	}
	return o >= len ? -E2BIG : 0;
}

/* ---- The sweep ------------------------------------------------------------------------ */

struct path {
	const char *name;
	/* The operation under injection: 0 or -errno. */
	int (*op)(FIXTURE_DATA(fn) *self);
	/* Undo a successful op (no injection). */
	int (*undo)(FIXTURE_DATA(fn) *self);
	/* What the device must still do: DMA through IOAS n, or -1 blocked. */
	int via;
	/* The op may not fail (detach): its failure is a bug. */
	bool nofail;
	/* After a successful op: DMA through IOAS n, or -1 blocked, or -2 no check. */
	int via_after;
	/*
	 * The op makes no allocation fail-nth can fail: its sweep injects
	 * none.  Every other path must have at least one allocation failed,
	 * or the sweep proved nothing (fault injection not reaching it).
	 */
	bool no_alloc;
};

static int check_via(FIXTURE_DATA(fn) *self, int via, char *err, size_t len)
{
	if (via == -2)
		return 0;
	return via < 0 ? dma_blocked(self, err, len) : dma_through(self, via, err, len);
}

static void note_errno(FIXTURE_DATA(fn) *self, int err)
{
	for (int i = 0; i < 8; i++) {
		if (self->errs[i] == err || !self->errs[i]) {
			self->errs[i] = err;
			self->errn[i]++;
			return;
		}
	}
}

static void sweep(struct __test_metadata *_metadata, FIXTURE_DATA(fn) *self,
		  const struct path *p)
{
	char *before = malloc(8192), *after = malloc(8192), err[512], errs[256] = "";
	struct nth t = { .fd = -1 };
	int ret, hit, bad = 0;
	size_t o = 0;

	ASSERT_TRUE(before && after);
	ASSERT_EQ(0, nth_open(&t)) TH_LOG("opening fail-nth: %s", strerror(errno));
	/* Once without injection: the path works, and is the baseline. */
	ret = check_via(self, p->via, err, sizeof(err));
	ASSERT_EQ(0, ret) TH_LOG("%s, before any injection: %s", p->name, err);
	ret = p->op(self);
	ASSERT_EQ(0, ret) TH_LOG("%s without injection: %s", p->name, errname(ret));
	ASSERT_EQ(0, p->undo(self)) TH_LOG("%s: undoing it", p->name);

	for (t.n = 1; t.n <= MAX_NTH; t.n++) {
		ret = dbg_state(self, self->dd, before, 8192);
		ASSERT_EQ(0, ret) TH_LOG("reading smmuv3 debugfs: %s", errname(ret));
		ASSERT_EQ(0, nth_arm(&t));
		ret = p->op(self);
		hit = nth_disarm(&t);
		ASSERT_LE(0, hit) TH_LOG("reading fail-nth back: %s", errname(hit));
		if (!hit) {
			/* Fewer than N allocations: the whole path was swept. */
			ASSERT_EQ(0, ret) TH_LOG("%s with no allocation failed (fail-nth %u "
						 "not reached): %s", p->name, t.n, errname(ret));
			if (p->via_after != -2) {
				ret = check_via(self, p->via_after, err, sizeof(err));
				ASSERT_EQ(0, ret) TH_LOG("%s done: %s", p->name, err);
			}
			ASSERT_EQ(0, p->undo(self)) TH_LOG("%s: undoing it", p->name);
			break;
		}
		self->injected++;
		if (!ret) {
			/* The failed allocation was optional: the op did its job anyway. */
			self->survived++;
			ret = check_via(self, p->via_after, err, sizeof(err));
			ASSERT_EQ(0, ret) TH_LOG("%s succeeded with allocation %u failed, but "
						 "does not work: %s", p->name, t.n, err);
			ASSERT_EQ(0, p->undo(self)) TH_LOG("%s: undoing it", p->name);
		} else {
			bool ok = false;

			self->refused++;
			note_errno(self, -ret);
			for (size_t i = 0; i < sizeof(ALLOWED) / sizeof(ALLOWED[0]); i++)
				ok |= -ret == ALLOWED[i];
			if (p->nofail || !ok) {
				bad++;
				INFO("%s, allocation %u failed: %s%s", p->name, t.n, errname(ret),
				     p->nofail ? " (this operation must not fail)" :
				     " (not an allowed errno)");
			}
		}
		ret = check_via(self, p->via, err, sizeof(err));
		ASSERT_EQ(0, ret) TH_LOG("%s, allocation %u failed: the previous attachment "
					 "no longer works: %s", p->name, t.n, err);
		ret = dbg_state(self, self->dd + 1, after, 8192);
		ASSERT_EQ(0, ret) TH_LOG("reading smmuv3 debugfs: %s", errname(ret));
		ASSERT_STREQ(before, after) TH_LOG("%s, allocation %u failed: smmuv3 debugfs "
						   "changed (leaked domain, entry or tag)",
						   p->name, t.n);
	}
	close(t.fd);
	ASSERT_GE(MAX_NTH, t.n) TH_LOG("%s: still failing at allocation %u", p->name, MAX_NTH);
	for (int i = 0; i < 8 && self->errs[i]; i++)
		o += snprintf(errs + o, sizeof(errs) - o, " %s x%d", strerror(self->errs[i]),
			      self->errn[i]);
	INFO("path %s: %u allocation(s) failed in turn (%u refused:%s; %u survived), "
	     "%u DMA checks%s", p->name, self->injected, self->refused, o ? errs : " none",
	     self->survived, self->checks, self->ours ? ", debugfs unchanged after each" :
	     ", debugfs not checked");
	free(before);
	free(after);
	ASSERT_EQ(0, bad) TH_LOG("%s: %d injected failure(s) handled wrongly (above)",
				 p->name, bad);
	if (p->no_alloc) {
		ASSERT_EQ(0, self->injected) TH_LOG("%s is declared to allocate nothing, but %u "
						    "allocation(s) were failed", p->name,
						    self->injected);
	} else if (!self->ours && !self->injected) {
		/* The upstream driver's detach allocates nothing (README). */
		INFO("%s: no allocation failed (driver %s)", p->name, env_driver() ?: "?");
	} else {
		ASSERT_LT(0, self->injected) TH_LOG("%s: no allocation failed at all: fail-nth "
						    "reached none (a sweep that injects nothing "
						    "proves nothing)", p->name);
	}
}

/* ---- Operations ---------------------------------------------------------------------- */

static uint32_t scratch;	/* what an op made, for its undo */
static int scratch_fd = -1;

static int destroy_scratch(FIXTURE_DATA(fn) *self)
{
	int ret = iommufd_destroy(self->iommufd, scratch);

	scratch = 0;
	return ret;
}

static int op_hw_info(FIXTURE_DATA(fn) *self)
{
	struct iommu_hw_info_arm_smmuv3 info;
	uint32_t type;

	return iommufd_hw_info_smmuv3(self->iommufd, self->a.vd.devid, &info, &type);
}

static int undo_nothing(FIXTURE_DATA(fn) *self)
{
	(void)self;
	return 0;
}

static int op_hwpt_paging(FIXTURE_DATA(fn) *self)
{
	return iommufd_hwpt_alloc(self->iommufd, self->a.vd.devid, self->ioas[1], 0, &scratch);
}

static int op_hwpt_parent(FIXTURE_DATA(fn) *self)
{
	return iommufd_hwpt_alloc_nest_parent(self->iommufd, self->a.vd.devid, self->ioas[1],
					      &scratch);
}

static int op_attach_ioas1(FIXTURE_DATA(fn) *self)
{
	return dev_attach(&self->a.vd, self->ioas[1]);
}

static int op_attach_hwpt1(FIXTURE_DATA(fn) *self)
{
	return dev_attach(&self->a.vd, self->hwpt[1]);
}

static int op_detach(FIXTURE_DATA(fn) *self)
{
	return dev_detach(&self->a.vd);
}

static int undo_detach(FIXTURE_DATA(fn) *self)
{
	return dev_detach(&self->a.vd);
}

static int undo_to_hwpt0(FIXTURE_DATA(fn) *self)
{
	return dev_attach(&self->a.vd, self->hwpt[0]);
}

static int op_viommu(FIXTURE_DATA(fn) *self)
{
	return iommufd_viommu_alloc_smmuv3(self->iommufd, self->a.vd.devid, self->parent,
					   &scratch);
}

static int op_vdevice(FIXTURE_DATA(fn) *self)
{
	return iommufd_vdevice_alloc(self->iommufd, self->viommu, self->a.vd.devid, VSID,
				     &scratch);
}

static int op_nested(FIXTURE_DATA(fn) *self)
{
	uint64_t ste[2];

	vste_bypass(ste);
	return iommufd_hwpt_alloc_nested(self->iommufd, self->a.vd.devid, self->viommu, ste,
					 &scratch);
}

static int op_attach_nested(FIXTURE_DATA(fn) *self)
{
	return dev_attach(&self->a.vd, self->nested);
}

static int undo_to_parent(FIXTURE_DATA(fn) *self)
{
	return dev_attach(&self->a.vd, self->parent);
}

static int op_attach_parent(FIXTURE_DATA(fn) *self)
{
	return dev_attach(&self->a.vd, self->parent);
}

static int undo_to_nested(FIXTURE_DATA(fn) *self)
{
	return dev_attach(&self->a.vd, self->nested);
}

static struct iommu_viommu_arm_smmuv3_invalidate inv_cmds[6];

static int op_invalidate(FIXTURE_DATA(fn) *self)
{
	struct iommu_hwpt_invalidate cmd = {
		.size = sizeof(cmd),
		.hwpt_id = self->viommu,
		.data_uptr = (uintptr_t)inv_cmds,
		.data_type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
		.entry_len = sizeof(inv_cmds[0]),
		.entry_num = 6,
	};

	if (ioctl(self->iommufd, IOMMU_HWPT_INVALIDATE, &cmd))
		return -errno;
	return cmd.entry_num == 6 ? 0 : -EPROTO;
}

static int op_veventq(FIXTURE_DATA(fn) *self)
{
	return iommufd_veventq_alloc_smmuv3(self->iommufd, self->viommu, 64, &scratch,
					    &scratch_fd);
}

static int undo_veventq(FIXTURE_DATA(fn) *self)
{
	close(scratch_fd);
	scratch_fd = -1;
	return destroy_scratch(self);
}

/* ---- Set-ups ------------------------------------------------------------------------- */

static void hwpts(struct __test_metadata *_metadata, FIXTURE_DATA(fn) *self)
{
	for (int i = 0; i < 2; i++) {
		int ret = iommufd_hwpt_alloc(self->iommufd, self->a.vd.devid, self->ioas[i], 0,
					     &self->hwpt[i]);

		ASSERT_EQ(0, ret) TH_LOG("IOMMU_HWPT_ALLOC on IOAS %d: %s", i, errname(ret));
	}
}

static void attach(struct __test_metadata *_metadata, FIXTURE_DATA(fn) *self, uint32_t id)
{
	int ret = dev_attach(&self->a.vd, id);

	ASSERT_EQ(0, ret) TH_LOG("%s", self->a.vd.err);
}

/* Parent attached, a vIOMMU, a vdevice, a bypass nested HWPT (not attached). */
static void nest_stack(struct __test_metadata *_metadata, FIXTURE_DATA(fn) *self,
		       bool vdev, bool nested)
{
	int ret;

	attach(_metadata, self, self->parent);
	ret = iommufd_viommu_alloc_smmuv3(self->iommufd, self->a.vd.devid, self->parent,
					  &self->viommu);
	ASSERT_EQ(0, ret) TH_LOG("IOMMU_VIOMMU_ALLOC: %s", errname(ret));
	if (vdev) {
		ret = iommufd_vdevice_alloc(self->iommufd, self->viommu, self->a.vd.devid, VSID,
					    &self->vdev);
		ASSERT_EQ(0, ret) TH_LOG("IOMMU_VDEVICE_ALLOC: %s", errname(ret));
	}
	if (nested) {
		uint64_t ste[2];

		vste_bypass(ste);
		ret = iommufd_hwpt_alloc_nested(self->iommufd, self->a.vd.devid, self->viommu,
						ste, &self->nested);
		ASSERT_EQ(0, ret) TH_LOG("nested HWPT (bypass): %s", errname(ret));
	}
}

#define FN_BEGIN() do { if (!fn_begin(_metadata, self)) return; } while (0)
#define FN_NESTING() do { if (!fn_nesting(_metadata, self)) return; } while (0)

TEST_F_TIMEOUT(fn, hw_info, TIMEOUT)
{
	struct path p = { "hw_info", op_hw_info, undo_nothing, 0, false, 0, false };

	FN_BEGIN();
	attach(_metadata, self, self->ioas[0]);
	sweep(_metadata, self, &p);
}

TEST_F_TIMEOUT(fn, hwpt_alloc_paging, TIMEOUT)
{
	struct path p = { "hwpt_alloc_paging", op_hwpt_paging, destroy_scratch, 0, false, -2,
			  false };

	FN_BEGIN();
	attach(_metadata, self, self->ioas[0]);
	sweep(_metadata, self, &p);
}

TEST_F_TIMEOUT(fn, hwpt_alloc_nest_parent, TIMEOUT)
{
	struct path p = { "hwpt_alloc_nest_parent", op_hwpt_parent, destroy_scratch, 0, false,
			  -2, false };
	const char *how = "";
	int ret;

	FN_BEGIN();
	ret = edu_dev_has_s2(&self->a, &how);
	if (ret <= 0)
		SKIP(return, "%s has no stage 2 (%s)", self->a.inst, how);
	attach(_metadata, self, self->ioas[0]);
	sweep(_metadata, self, &p);
}

TEST_F_TIMEOUT(fn, attach_ioas, TIMEOUT)
{
	struct path p = { "attach_ioas", op_attach_ioas1, undo_detach, -1, false, 1, false };

	FN_BEGIN();
	sweep(_metadata, self, &p);
}

TEST_F_TIMEOUT(fn, attach_hwpt, TIMEOUT)
{
	struct path p = { "attach_hwpt", op_attach_hwpt1, undo_detach, -1, false, 1, false };

	FN_BEGIN();
	hwpts(_metadata, self);
	sweep(_metadata, self, &p);
}

TEST_F_TIMEOUT(fn, replace, TIMEOUT)
{
	struct path p = { "replace", op_attach_hwpt1, undo_to_hwpt0, 0, false, 1, false };

	FN_BEGIN();
	hwpts(_metadata, self);
	attach(_metadata, self, self->hwpt[0]);
	sweep(_metadata, self, &p);
}

TEST_F_TIMEOUT(fn, detach, TIMEOUT)
{
	struct path p = { "detach", op_detach, undo_to_hwpt0, 0, true, -1, false };

	FN_BEGIN();
	hwpts(_metadata, self);
	attach(_metadata, self, self->hwpt[0]);
	sweep(_metadata, self, &p);
}

TEST_F_TIMEOUT(fn, viommu_alloc, TIMEOUT)
{
	struct path p = { "viommu_alloc", op_viommu, destroy_scratch, 0, false, -2, false };

	FN_BEGIN();
	FN_NESTING();
	attach(_metadata, self, self->parent);
	sweep(_metadata, self, &p);
}

TEST_F_TIMEOUT(fn, vdevice_alloc, TIMEOUT)
{
	struct path p = { "vdevice_alloc", op_vdevice, destroy_scratch, 0, false, -2, false };

	FN_BEGIN();
	FN_NESTING();
	nest_stack(_metadata, self, false, false);
	sweep(_metadata, self, &p);
}

TEST_F_TIMEOUT(fn, nested_alloc, TIMEOUT)
{
	struct path p = { "nested_alloc", op_nested, destroy_scratch, 0, false, -2, false };

	FN_BEGIN();
	FN_NESTING();
	nest_stack(_metadata, self, true, false);
	sweep(_metadata, self, &p);
}

TEST_F_TIMEOUT(fn, attach_nested, TIMEOUT)
{
	/* Guest bypass: the nested domain translates by the parent (IOAS 0). */
	struct path p = { "attach_nested", op_attach_nested, undo_to_parent, 0, false, 0, false };

	FN_BEGIN();
	FN_NESTING();
	nest_stack(_metadata, self, true, true);
	sweep(_metadata, self, &p);
}

TEST_F_TIMEOUT(fn, replace_nested_parent, TIMEOUT)
{
	struct path p = { "replace_nested_parent", op_attach_parent, undo_to_nested, 0, false,
			  0, false };

	FN_BEGIN();
	FN_NESTING();
	nest_stack(_metadata, self, true, true);
	attach(_metadata, self, self->nested);
	sweep(_metadata, self, &p);
}

TEST_F_TIMEOUT(fn, invalidate, TIMEOUT)
{
	/* A batch of guest commands goes to the command queue: no allocation. */
	struct path p = { "invalidate", op_invalidate, undo_nothing, 0, false, 0, true };
	struct nest_cmd c[6];

	FN_BEGIN();
	FN_NESTING();
	nest_stack(_metadata, self, true, true);
	attach(_metadata, self, self->nested);
	cmd_tlbi_nh_all(&c[0]);
	cmd_tlbi_nh_asid(&c[1], 7);
	cmd_tlbi_nh_va(&c[2], 7, 0x1000, true);
	cmd_tlbi_nsnh_all(&c[3]);
	cmd_cfgi_cd(&c[4], VSID, 0, true);
	cmd_cfgi_cd_all(&c[5], VSID);
	for (int i = 0; i < 6; i++) {
		inv_cmds[i].cmd[0] = htole64(c[i].w[0]);
		inv_cmds[i].cmd[1] = htole64(c[i].w[1]);
	}
	sweep(_metadata, self, &p);
}

TEST_F_TIMEOUT(fn, veventq_alloc, TIMEOUT)
{
	struct path p = { "veventq_alloc", op_veventq, undo_veventq, 0, false, -2, false };

	FN_BEGIN();
	FN_NESTING();
	nest_stack(_metadata, self, true, true);
	attach(_metadata, self, self->nested);
	sweep(_metadata, self, &p);
}

TEST_HARNESS_MAIN
