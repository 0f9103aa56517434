// SPDX-License-Identifier: GPL-2.0-only
/*
 * smmuv3_stress: everything at once, bounded in time and iterations.
 *
 * One edu behind each instance that has one (2 on acpi2, 8 on acpi8), all
 * bound to one iommufd and one IOAS.  Threads, all at the same time:
 *   - a worker per edu, looping over random operations on its own device:
 *       detector (lib/stalecheck.h): its own IOVA page remapped to another
 *         page of its pool (old pages reused), then a generation-tagged
 *         read and write through it that must land in the current page
 *         only (every data error fails the test);
 *       replace: attach to another target (the IOAS's automatic domain, a
 *         stage-1 HWPT, a nesting parent where its instance has stage 2,
 *         shared by all devices or the device's own, by variant);
 *       detach: blocked, a write to its IOVA must reach no page, attach
 *         again;
 *       vIOMMU cycle (variant nested): a vIOMMU on the shared nesting
 *         parent, a vdevice, a nested HWPT (guest STE Cfg=bypass),
 *         attached, detector check through it, guest invalidations
 *         (CFGI_CD_ALL, TLBI_NH_ALL), then back to a paging target and
 *         everything destroyed;
 *   - two map/unmap storm threads on the same IOAS, each in its own IOVA
 *     window: 4 KiB, 64 KiB and 2 MiB (a huge page where one can be had);
 *   - (variant nested) an invalidation thread sending guest TLBIs
 *     (IOMMU_HWPT_INVALIDATE) to whatever vIOMMU a worker has published,
 *     while the workers create and destroy them;
 * and in epochs: at the end of each the iommufd fd is closed while the
 * threads still run; then they stop, the devices are closed (which frees
 * every object of the context in whatever state it was), and a new epoch
 * starts with a new iommufd.
 *
 * Variants: separate (each device its own HWPTs: runs with upstream
 * arm-smmu-v3 too), shared (one stage-1 HWPT and one nesting parent for
 * all; skipped, saying why, where the driver refuses to share), nested
 * (shared + vIOMMU cycles; skipped, saying why, without vIOMMUs).
 *
 * SMMUV3_STRESS_DURATION: seconds for the whole program (default 60),
 * split evenly over the three variants; SMMUV3_STRESS_ITERS: most
 * operations per worker per variant (default 1000000).  At the end each
 * variant prints its operation counts.  Kernel reports are the harness's
 * business (kernel-log).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/iommufd.h>

#include "kselftest_harness.h"

#include "debugfs.h"
#include "dmacheck.h"
#include "dmatest.h"
#include "edusetup.h"
#include "env.h"
#include "stalecheck.h"
#include "mem.h"
#include "nesting.h"
#include "sysfs.h"
#include "vfio.h"

#define MAX_DEV		8
#define NSTORM		2
#define POOL		4
#define DURATION_DEFAULT 60
#define ITERS_DEFAULT	1000000
#define EPOCH_MIN_S	10
#define NMSG		8
#define SZ_64K		(64ULL << 10)
#define WINDOW		(8 * SZ_2M + NSTORM * 4 * SZ_2M)

enum mode { M_SEPARATE, M_SHARED, M_NESTED };
static const char *const mode_name[] = { "separate", "shared", "nested" };

enum counter {
	C_MAPS, C_UNMAPS, C_ATTACHES, C_REPLACES, C_DETACHES, C_VIOMMU_CYCLES,
	C_INVALIDATIONS, C_INV_GONE, C_DMA_CHECKS, C_DROPPED_CHECKS, C_DATA_ERRORS,
	C_OP_ERRORS, C_FD_CLOSES, C_AFTER_CLOSE, C_NUM
};
static const char *const counter_name[C_NUM] = {
	"maps", "unmaps", "attaches", "replaces", "detaches", "vIOMMU cycles",
	"guest invalidations", "invalidations on a gone vIOMMU", "DMA checks",
	"blocked-DMA checks", "data errors", "operation errors", "iommufd closes",
	"ops refused after the close"
};

struct stress;

struct worker {
	struct stress *st;
	int idx;
	char bdf[32];
	struct edu_dev d;
	bool can_nest;			/* its instance has both stages (IDR) */
	bool nesting;			/* can_nest, and a nesting parent is a target */
	/*
	 * Bit c: the first epoch's attach to the shared candidate c (0 the
	 * HWPT, 1 the nesting parent) was refused with EINVAL.  A later epoch
	 * must get the same answer: a target that epoch 1 had may not vanish.
	 */
	unsigned int refused_first;
	struct gen_slot slot;
	struct pinned_buf ctl;
	uint64_t ctl_iova;
	struct prng rng;
	uint32_t own_s1, own_s2;	/* variant separate */
	uint32_t tgt[4];
	int ntgt, cur;			/* cur: index in tgt */
	_Atomic uint32_t pub_viommu;	/* for the invalidation thread, 0: none */
	pthread_t th;
};

struct storm {
	struct stress *st;
	int idx;
	struct pinned_buf small;	/* 64 KiB */
	struct pinned_buf big;		/* 2 MiB */
	bool huge;
	uint64_t base;
	struct prng rng;
	pthread_t th;
};

struct stress {
	enum mode mode;
	int fd;
	uint32_t ioas, s1, s2;		/* s1, s2: shared (variants shared, nested) */
	uint64_t base;			/* IOVA window */
	int n;
	struct worker w[MAX_DEV];
	struct storm sm[NSTORM];
	pthread_t inv_th;
	atomic_bool stop, closing;
	uint64_t deadline;		/* of the epoch, ms */
	long iters;
	_Atomic unsigned long c[C_NUM];
	pthread_mutex_t lock;
	int nmsg;
	char msg[NMSG][768];
};

static void count(struct stress *st, enum counter c)
{
	atomic_fetch_add(&st->c[c], 1);
}

/* An error: counted, and its message kept (the first NMSG). */
static void report(struct stress *st, enum counter c, const char *fmt, ...)
{
	va_list ap;

	count(st, c);
	pthread_mutex_lock(&st->lock);
	if (st->nmsg < NMSG) {
		va_start(ap, fmt);
		vsnprintf(st->msg[st->nmsg++], sizeof(st->msg[0]), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&st->lock);
}

/* Threads run until the main thread stops them (after closing the fd). */
static bool running(struct stress *st)
{
	return !atomic_load(&st->stop);
}

/* An iommufd call failed: expected once the fd is closed, else an error. */
static bool op_failed(struct stress *st, int ret, const char *who, const char *what)
{
	if (atomic_load(&st->closing)) {
		count(st, C_AFTER_CLOSE);
		return true;
	}
	report(st, C_OP_ERRORS, "%s: %s: %s", who, what, strerror(-ret));
	return true;
}

/* ---- workers ------------------------------------------------------------------- */

static int attach_to(struct worker *w, int t)
{
	bool replace = w->d.vd.pt_id != 0;
	int ret = dev_attach(&w->d.vd, w->tgt[t]);

	if (ret) {
		op_failed(w->st, ret, w->d.bdf, w->d.vd.err);
		return ret;
	}
	w->cur = t;
	count(w->st, replace ? C_REPLACES : C_ATTACHES);
	return 0;
}

static void detector(struct worker *w, bool blocked)
{
	struct stress *st = w->st;
	char err[1536];
	int ret;

	ret = gen_remap(st->fd, st->ioas, &w->slot, -1, err, sizeof(err));
	if (ret) {
		op_failed(st, ret, w->d.bdf, err);
		return;
	}
	if (blocked)
		ret = gen_check_dropped(&w->d.e, w->d.bdf, &w->slot, w->slot.ioas_iova, err,
					sizeof(err));
	else
		ret = gen_check(&w->d.e, w->d.bdf, &w->slot, w->slot.ioas_iova, w->ctl_iova,
				err, sizeof(err));
	count(st, blocked ? C_DROPPED_CHECKS : C_DMA_CHECKS);
	if (ret == -EIO)
		report(st, C_DATA_ERRORS, "%s target %d: %s", mode_name[st->mode], w->cur, err);
	else if (ret)
		report(st, C_OP_ERRORS, "%s", err);
}

static void other_target(struct worker *w)
{
	int t;

	if (w->ntgt < 2)
		return;
	t = (w->cur + 1 + prng_next(&w->rng) % (w->ntgt - 1)) % w->ntgt;
	attach_to(w, t);
}

static int destroy_retry(struct stress *st, uint32_t id)
{
	int ret;

	/* A concurrent invalidation holds the vIOMMU for a moment: EBUSY. */
	for (int i = 0; i < 1000; i++) {
		ret = iommufd_destroy(st->fd, id);
		if (ret != -EBUSY)
			return ret;
		sched_yield();
	}
	return ret;
}

static void viommu_cycle(struct worker *w)
{
	struct stress *st = w->st;
	uint32_t viommu = 0, vdev = 0, nested = 0;
	uint64_t ste[2];
	struct nest_cmd cmds[2];
	int ret;

	ret = iommufd_viommu_alloc_smmuv3(st->fd, w->d.vd.devid, st->s2, &viommu);
	if (ret) {
		op_failed(st, ret, w->d.bdf, "IOMMU_VIOMMU_ALLOC");
		return;
	}
	ret = iommufd_vdevice_alloc(st->fd, viommu, w->d.vd.devid, 0x100 + w->idx, &vdev);
	if (ret) {
		op_failed(st, ret, w->d.bdf, "IOMMU_VDEVICE_ALLOC");
		goto out;
	}
	vste_bypass(ste);
	ret = iommufd_hwpt_alloc_nested(st->fd, w->d.vd.devid, viommu, ste, &nested);
	if (ret) {
		op_failed(st, ret, w->d.bdf, "IOMMU_HWPT_ALLOC nested");
		goto out;
	}
	atomic_store(&w->pub_viommu, viommu);
	ret = dev_attach(&w->d.vd, nested);
	if (ret) {
		op_failed(st, ret, w->d.bdf, w->d.vd.err);
		goto out;
	}
	count(st, C_REPLACES);
	w->cur = -1;
	detector(w, false);
	cmd_cfgi_cd_all(&cmds[0], 0x100 + w->idx);
	cmd_tlbi_nh_all(&cmds[1]);
	ret = iommufd_viommu_invalidate(st->fd, viommu, cmds, 2, NULL);
	if (ret)
		op_failed(st, ret, w->d.bdf, "IOMMU_HWPT_INVALIDATE CFGI_CD_ALL + TLBI_NH_ALL");
	else
		count(st, C_INVALIDATIONS);
	detector(w, false);
	w->cur = prng_next(&w->rng) % w->ntgt;
	attach_to(w, w->cur);
	if (!w->d.vd.pt_id || w->d.vd.pt_id == nested) {
		/* The fd is gone: the device stays there, the context frees it all. */
		return;
	}
	count(st, C_VIOMMU_CYCLES);
out:
	atomic_store(&w->pub_viommu, 0);
	if (nested && (ret = destroy_retry(st, nested)))
		op_failed(st, ret, w->d.bdf, "IOMMU_DESTROY nested HWPT");
	if (vdev && (ret = destroy_retry(st, vdev)))
		op_failed(st, ret, w->d.bdf, "IOMMU_DESTROY vdevice");
	if ((ret = destroy_retry(st, viommu)))
		op_failed(st, ret, w->d.bdf, "IOMMU_DESTROY vIOMMU");
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct stress *st = w->st;

	for (long i = 0; i < st->iters && running(st); i++) {
		unsigned int r = prng_next(&w->rng) % 100;

		if (r < 50) {
			detector(w, false);
		} else if (r < 75) {
			other_target(w);
		} else if (r < 85) {
			if (dev_detach(&w->d.vd)) {
				report(st, C_OP_ERRORS, "%s", w->d.vd.err);
				continue;
			}
			count(st, C_DETACHES);
			detector(w, true);
			attach_to(w, prng_next(&w->rng) % w->ntgt);
		} else if (st->mode == M_NESTED && w->nesting) {
			viommu_cycle(w);
		} else {
			other_target(w);
		}
	}
	return NULL;
}

/* ---- storms and guest invalidations ------------------------------------------- */

static void *storm_main(void *arg)
{
	struct storm *s = arg;
	struct stress *st = s->st;

	for (long i = 0; i < st->iters && running(st); i++) {
		unsigned int r = prng_next(&s->rng) % 3;
		void *va = r == 2 ? s->big.va : s->small.va;
		uint64_t len = r == 0 ? PAGE : r == 1 ? SZ_64K : SZ_2M;
		uint64_t iova = s->base + (r == 2 ? 2 * SZ_2M : r * SZ_64K);
		int ret;

		ret = iommufd_ioas_map(st->fd, st->ioas, va, len, &iova, true, RW);
		if (ret) {
			op_failed(st, ret, "storm", "IOMMU_IOAS_MAP");
			break;
		}
		count(st, C_MAPS);
		ret = iommufd_ioas_unmap(st->fd, st->ioas, iova, len, NULL);
		if (ret) {
			op_failed(st, ret, "storm", "IOMMU_IOAS_UNMAP");
			break;
		}
		count(st, C_UNMAPS);
	}
	return NULL;
}

static void *inv_main(void *arg)
{
	struct stress *st = arg;
	struct prng r;

	prng_seed(&r, prng_time_seed() ^ 0x1badULL);
	while (running(st)) {
		struct worker *w = &st->w[prng_next(&r) % st->n];
		uint32_t id = atomic_load(&w->pub_viommu);
		struct nest_cmd cmds[4];
		int ret;

		if (!id) {
			usleep(1000);
			continue;
		}
		cmd_tlbi_nh_all(&cmds[0]);
		cmd_tlbi_nh_asid(&cmds[1], prng_next(&r) & 0xffff);
		cmd_tlbi_nh_va(&cmds[2], prng_next(&r) & 0xffff, 0x5234600000ULL, true);
		cmd_tlbi_nh_vaa(&cmds[3], 0x5234600000ULL, false);
		ret = iommufd_viommu_invalidate(st->fd, id, cmds, 4, NULL);
		if (!ret)
			count(st, C_INVALIDATIONS);
		/* Destroyed meanwhile (its ID possibly taken by another object). */
		else if (ret == -ENOENT || ret == -EINVAL || ret == -EOPNOTSUPP)
			count(st, C_INV_GONE);
		else
			op_failed(st, ret, "invalidation thread", "IOMMU_HWPT_INVALIDATE");
	}
	return NULL;
}

/* ---- epochs ------------------------------------------------------------------ */

FIXTURE(stress)
{
	struct stress *st;
	struct edu_pick pick[MAX_DEV];
	long huge_old;
	bool opt_in;
	uint64_t seconds;
};

FIXTURE_VARIANT(stress)
{
	enum mode mode;
};

FIXTURE_VARIANT_ADD(stress, separate) { .mode = M_SEPARATE };
FIXTURE_VARIANT_ADD(stress, shared) { .mode = M_SHARED };
FIXTURE_VARIANT_ADD(stress, nested) { .mode = M_NESTED };

FIXTURE_SETUP(stress)
{
	const char *s = getenv("SMMUV3_STRESS_DURATION");
	struct edu_pick two[2];
	struct stress *st;
	char why[256];
	int ret;

	self->huge_old = -1;
	ret = edus_pick_two(two, why, sizeof(why));
	ASSERT_LE(0, ret) TH_LOG("%s", why);
	if (!ret)
		SKIP(return, "%s", why);
	st = self->st = calloc(1, sizeof(*st));
	ASSERT_NE(NULL, st);
	st->fd = -1;
	pthread_mutex_init(&st->lock, NULL);
	st->mode = variant->mode;
	st->n = edus_on_distinct_instances(self->pick, MAX_DEV);
	ASSERT_LE(2, st->n);
	self->seconds = (s && atol(s) > 0 ? atol(s) : DURATION_DEFAULT) / 3;
	if (self->seconds < 5)
		self->seconds = 5;
	s = getenv("SMMUV3_STRESS_ITERS");
	st->iters = s && atol(s) > 0 ? atol(s) : ITERS_DEFAULT;
	for (int i = 0; i < st->n; i++) {
		struct worker *w = &st->w[i];

		w->st = st;
		w->idx = i;
		w->d.vd.fd = -1;
		prng_seed(&w->rng, prng_time_seed() + i);
		ret = pinned_alloc(&w->ctl, PAGE);
		ASSERT_EQ(0, ret) TH_LOG("control page: %s", strerror(-ret));
		ret = gen_slot_init(&w->slot, 16 + i, POOL, w->ctl.va, 0);
		ASSERT_EQ(0, ret) TH_LOG("pool: %s", strerror(-ret));
	}
	if (hugepage_size() == (long)SZ_2M)
		hugepages_reserve(NSTORM, &self->huge_old);
	for (int i = 0; i < NSTORM; i++) {
		struct storm *sm = &st->sm[i];

		sm->st = st;
		sm->idx = i;
		prng_seed(&sm->rng, prng_time_seed() + 100 + i);
		ret = pinned_alloc(&sm->small, SZ_64K);
		ASSERT_EQ(0, ret) TH_LOG("storm buffer: %s", strerror(-ret));
		sm->huge = !huge_alloc(&sm->big, SZ_2M);
		if (!sm->huge) {
			ret = pinned_alloc(&sm->big, SZ_2M);
			ASSERT_EQ(0, ret) TH_LOG("storm buffer: %s", strerror(-ret));
		}
	}
	INFO("variant %s: %d edus behind %d instances, %llu s, at most %ld operations per "
	     "thread; 2 MiB storm buffers %s", mode_name[st->mode], st->n, st->n,
	     (unsigned long long)self->seconds, st->iters,
	     st->sm[0].huge ? "are huge pages" : "are small pages (no huge page to be had)");
}

FIXTURE_TEARDOWN(stress)
{
	struct stress *st = self->st;

	vfio_dev_close_all();
	if (st) {
		if (st->fd >= 0)
			close(st->fd);
		for (int i = 0; i < st->n; i++) {
			gen_slot_free(&st->w[i].slot);
			pinned_free(&st->w[i].ctl);
		}
		for (int i = 0; i < NSTORM; i++) {
			pinned_free(&st->sm[i].small);
			pinned_free(&st->sm[i].big);
		}
		free(st);
	}
	if (self->huge_old >= 0)
		hugepages_restore(self->huge_old);
	if (self->opt_in)
		viommu_opt_in_set(false);
}

/*
 * A new iommufd, the devices bound and attached to a new IOAS, the HWPTs of
 * the variant, the targets.  FIRST: probe what the driver allows (skip
 * reasons go to WHY, return 1).  0, 1 (skip) or -1 (failed: WHY says why).
 */
static int epoch_setup(struct stress *st, bool first, char *why, size_t len)
{
	struct edu_dev *dev[MAX_DEV];
	const char *bdf[MAX_DEV];
	int ret;

	for (int i = 0; i < st->n; i++) {
		dev[i] = &st->w[i].d;
		bdf[i] = st->w[i].bdf;
	}
	if (edus_bind(&st->fd, &st->ioas, dev, bdf, st->n, why, len))
		return -1;
	st->s1 = st->s2 = 0;
	for (int i = 0; i < st->n; i++) {
		struct worker *w = &st->w[i];
		const char *how;

		ret = dev_attach(&w->d.vd, st->ioas);
		if (ret) {
			snprintf(why, len, "%s", w->d.vd.err);
			return -1;
		}
		ret = edu_dev_has_nesting(&w->d, &how);
		w->can_nest = ret > 0;
		w->nesting = w->can_nest;
		w->ntgt = 0;
		w->tgt[w->ntgt++] = st->ioas;
		w->cur = 0;
		atomic_store(&w->pub_viommu, 0);
	}
	ret = iommufd_pick_iova(st->fd, st->ioas, IOVA_MIN, WINDOW, SZ_2M, &st->base);
	if (ret) {
		snprintf(why, len, "no IOVA window of %llu MiB: %s",
			 (unsigned long long)(WINDOW >> 20), strerror(-ret));
		return -1;
	}
	for (int i = 0; i < st->n; i++) {
		struct worker *w = &st->w[i];

		w->ctl_iova = st->base + i * PAGE;
		ret = iommufd_ioas_map(st->fd, st->ioas, w->ctl.va, PAGE, &w->ctl_iova, true,
				       RW);
		if (ret) {
			snprintf(why, len, "IOMMU_IOAS_MAP control page: %s", strerror(-ret));
			return -1;
		}
		w->slot.ioas_iova = st->base + SZ_2M + i * SZ_64K;
		w->slot.cur = -1;
	}
	for (int i = 0; i < NSTORM; i++)
		st->sm[i].base = st->base + 8 * SZ_2M + i * 4 * SZ_2M;

	if (st->mode == M_SEPARATE) {
		for (int i = 0; i < st->n; i++) {
			struct worker *w = &st->w[i];

			ret = iommufd_hwpt_alloc(st->fd, w->d.vd.devid, st->ioas, 0, &w->own_s1);
			if (ret) {
				snprintf(why, len, "IOMMU_HWPT_ALLOC for %s: %s", w->d.bdf,
					 strerror(-ret));
				return -1;
			}
			w->tgt[w->ntgt++] = w->own_s1;
			if (!w->nesting)
				continue;
			ret = iommufd_hwpt_alloc_nest_parent(st->fd, w->d.vd.devid, st->ioas,
							     &w->own_s2);
			if (ret) {
				snprintf(why, len, "IOMMU_HWPT_ALLOC NEST_PARENT for %s: %s",
					 w->d.bdf, strerror(-ret));
				return -1;
			}
			w->tgt[w->ntgt++] = w->own_s2;
		}
		return 0;
	}
	/* Shared: one stage-1 (or A's kind) HWPT and one nesting parent, for A. */
	ret = iommufd_hwpt_alloc(st->fd, st->w[0].d.vd.devid, st->ioas, 0, &st->s1);
	if (ret) {
		snprintf(why, len, "IOMMU_HWPT_ALLOC for %s: %s", st->w[0].d.bdf,
			 strerror(-ret));
		return -1;
	}
	if (st->w[0].nesting) {
		ret = iommufd_hwpt_alloc_nest_parent(st->fd, st->w[0].d.vd.devid, st->ioas,
						     &st->s2);
		if (ret) {
			snprintf(why, len, "IOMMU_HWPT_ALLOC NEST_PARENT for %s: %s",
				 st->w[0].d.bdf, strerror(-ret));
			return -1;
		}
	}
	for (int i = 0; i < st->n; i++) {
		struct worker *w = &st->w[i];
		uint32_t cand[2] = { st->s1, st->s2 };

		for (int c = 0; c < 2; c++) {
			if (!cand[c])
				continue;
			ret = dev_attach(&w->d.vd, cand[c]);
			if (ret == -EINVAL && first && c == 0 && i > 0) {
				snprintf(why, len, "the driver refuses %s (behind %s) on the HWPT "
					 "allocated for %s (behind %s) with EINVAL: no domain "
					 "shared across instances (driver %s)", w->d.bdf,
					 w->d.inst, st->w[0].d.bdf, st->w[0].d.inst,
					 env_driver() ?: "?");
				return 1;
			}
			if (ret == -EINVAL && !first && !(w->refused_first & (1U << c))) {
				snprintf(why, len, "a later epoch: the driver refuses %s (behind "
					 "%s) on the shared %s with EINVAL, which the first epoch "
					 "accepted", w->d.bdf, w->d.inst,
					 c ? "nesting parent" : "HWPT");
				return -1;
			}
			/*
			 * The first epoch's refusals decide the targets; ours may
			 * refuse only the shared nesting parent, and only to a
			 * device whose instance lacks a stage (its IDR says so):
			 * A's own HWPT, or a parent an instance with both stages
			 * could use, refused is a driver failure, not a target
			 * fewer.
			 */
			if (ret == -EINVAL && first && env_driver_ours() &&
			    (c == 0 || w->can_nest)) {
				snprintf(why, len, "the driver refuses %s (behind %s, which has "
					 "both stages: %s) on the %s allocated for %s (behind %s) "
					 "with EINVAL", w->d.bdf, w->d.inst,
					 w->can_nest ? "yes" : "no",
					 c ? "nesting parent" : "HWPT", st->w[0].d.bdf,
					 st->w[0].d.inst);
				return -1;
			}
			if (ret == -EINVAL) {
				if (first) {
					w->refused_first |= 1U << c;
					ksft_print_msg("%s (behind %s) cannot use the shared %s: "
						       "EINVAL; not a target for it\n", w->d.bdf,
						       w->d.inst, c ? "nesting parent" :
						       "HWPT");
				}
				if (c == 1)
					w->nesting = false;
				continue;
			}
			if (!first && (w->refused_first & (1U << c))) {
				snprintf(why, len, "a later epoch: %s (behind %s) attached to the "
					 "shared %s, which the first epoch refused with EINVAL",
					 w->d.bdf, w->d.inst, c ? "nesting parent" : "HWPT");
				return -1;
			}
			if (ret) {
				snprintf(why, len, "%s", w->d.vd.err);
				return -1;
			}
			w->tgt[w->ntgt++] = cand[c];
			w->cur = w->ntgt - 1;
		}
	}
	if (st->mode != M_NESTED || !first)
		return 0;
	{
		int nest = 0;

		for (int i = 0; i < st->n; i++)
			nest += st->w[i].nesting;
		if (nest < 2) {
			snprintf(why, len, "no vIOMMU cycles: %d of the %d instances can use a "
				 "nesting parent shared with the others", nest, st->n);
			return 1;
		}
	}
	for (int i = 0; i < st->n; i++) {
		struct worker *w = &st->w[i];
		uint32_t v;

		if (!w->nesting)
			continue;
		ret = iommufd_viommu_alloc_smmuv3(st->fd, w->d.vd.devid, st->s2, &v);
		if (ret == -EOPNOTSUPP || ret == -EINVAL) {
			snprintf(why, len, "IOMMU_VIOMMU_ALLOC for %s (behind %s) on the shared "
				 "nesting parent: %s (driver %s)", w->d.bdf, w->d.inst,
				 strerror(-ret), env_driver() ?: "?");
			return 1;
		}
		if (ret) {
			snprintf(why, len, "IOMMU_VIOMMU_ALLOC for %s: %s", w->d.bdf,
				 strerror(-ret));
			return -1;
		}
		iommufd_destroy(st->fd, v);
	}
	return 0;
}

/* Close the fd under the running threads, stop them, close the devices. */
static void epoch_end(struct stress *st, bool threads)
{
	if (threads) {
		atomic_store(&st->closing, true);
		close(st->fd);
		count(st, C_FD_CLOSES);
		/*
		 * The threads go on for a moment: ioctls in flight hold the file,
		 * later ones get EBADF, device fds (attach, detach, DMA) still work
		 * and keep the context alive.  Nothing opens a file meanwhile, so
		 * the fd number is not reused.
		 */
		usleep(300 * 1000);
		atomic_store(&st->stop, true);
		for (int i = 0; i < st->n; i++)
			pthread_join(st->w[i].th, NULL);
		for (int i = 0; i < NSTORM; i++)
			pthread_join(st->sm[i].th, NULL);
		if (st->mode == M_NESTED)
			pthread_join(st->inv_th, NULL);
	} else if (st->fd >= 0) {
		close(st->fd);
	}
	st->fd = -1;
	for (int i = 0; i < st->n; i++)
		vfio_dev_close(&st->w[i].d.vd);
	atomic_store(&st->closing, false);
	atomic_store(&st->stop, false);
}

TEST_F_TIMEOUT(stress, run, 3600)
{
	struct stress *st = self->st;
	uint64_t t0 = now_ms(), end = t0 + self->seconds * 1000;
	uint64_t epoch_ms = self->seconds * 1000 / 2;
	char why[512];
	int ret, epochs = 0;

	if (epoch_ms < EPOCH_MIN_S * 1000)
		epoch_ms = EPOCH_MIN_S * 1000;
	for (int i = 0; i < st->n; i++)
		snprintf(st->w[i].bdf, sizeof(st->w[i].bdf), "%s", self->pick[i].bdf);
	if (st->mode == M_NESTED && env_driver_ours()) {
		static const char *const needs[] = { "viommu", "nested" };

		for (int i = 0; i < 2; i++)
			if (!dbg_build_feature(needs[i], why, sizeof(why)))
				SKIP(return, "smmuv3.ko offers no %s here: %s", needs[i], why);
	}
	if (st->mode == M_NESTED) {
		ret = viommu_opt_in_set(true);
		self->opt_in = !ret;
		ASSERT_TRUE(!ret || ret == -ENOENT) TH_LOG("writing 1 to %s: %s",
							   VIOMMU_OPT_IN_PARAM, strerror(-ret));
	}
	do {
		uint64_t now = now_ms();

		ret = epoch_setup(st, !epochs, why, sizeof(why));
		if (ret) {
			epoch_end(st, false);
			if (ret > 0)
				SKIP(return, "%s", why);
			ASSERT_EQ(0, ret) TH_LOG("epoch %d: %s", epochs + 1, why);
		}
		st->deadline = now + epoch_ms < end ? now + epoch_ms : end;
		for (int i = 0; i < st->n; i++)
			ASSERT_EQ(0, pthread_create(&st->w[i].th, NULL, worker_main, &st->w[i]));
		for (int i = 0; i < NSTORM; i++)
			ASSERT_EQ(0, pthread_create(&st->sm[i].th, NULL, storm_main, &st->sm[i]));
		if (st->mode == M_NESTED)
			ASSERT_EQ(0, pthread_create(&st->inv_th, NULL, inv_main, st));
		while (now_ms() < st->deadline)
			usleep(100 * 1000);
		epoch_end(st, true);
		epochs++;
	} while (now_ms() + 2000 < end);

	INFO("variant %s: %d epochs in %.1f s, %d devices (one per instance)",
	     mode_name[st->mode], epochs, (now_ms() - t0) / 1000.0, st->n);
	for (int c = 0; c < C_NUM; c++)
		INFO("  %-32s %lu", counter_name[c], atomic_load(&st->c[c]));
	for (int i = 0; i < st->nmsg; i++)
		INFO("  error %d: %s", i + 1, st->msg[i]);
	EXPECT_EQ(0UL, atomic_load(&st->c[C_DATA_ERRORS]))
		TH_LOG("DMA reached a page of another generation (see the errors above)");
	EXPECT_EQ(0UL, atomic_load(&st->c[C_OP_ERRORS]))
		TH_LOG("operations failed while the iommufd was open (see the errors above)");
	EXPECT_LT(0UL, atomic_load(&st->c[C_DMA_CHECKS]));
	if (!env_driver_ours())
		return;
	/* Every device that can nest had the shared nesting parent as a target. */
	if (st->mode != M_SEPARATE && st->w[0].can_nest) {
		int can = 0, had = 0;

		for (int i = 0; i < st->n; i++) {
			can += st->w[i].can_nest;
			had += st->w[i].nesting;
		}
		EXPECT_EQ(can, had) TH_LOG("%d of the %d devices whose instance has both "
					   "stages had the shared nesting parent as a target",
					   had, can);
	}
	/* The vIOMMU part of the variant happened, guest invalidations included. */
	if (st->mode == M_NESTED) {
		EXPECT_LT(0UL, atomic_load(&st->c[C_VIOMMU_CYCLES]));
		EXPECT_LT(0UL, atomic_load(&st->c[C_INVALIDATIONS]));
	}
}

TEST_HARNESS_MAIN
