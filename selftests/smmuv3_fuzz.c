// SPDX-License-Identifier: GPL-2.0-only
/*
 * smmuv3_fuzz: random driver-specific iommufd input, seeded and replayable.
 *
 *   ./smmuv3_fuzz [--seed S] [--cases N] [--first I] [--seconds T] [--min-cases M]
 *                 [harness args]
 *   (or SMMUV3_FUZZ_SEED, SMMUV3_FUZZ_CASES, SMMUV3_FUZZ_SECONDS,
 *   SMMUV3_FUZZ_MIN_CASES)
 *
 * Case I of seed S is generated from its own generator, seeded from (S, I)
 * alone, and every case leaves the kernel state as it found it (whatever
 * succeeded is destroyed or detached again): "--seed S --first I --cases 1"
 * replays case I exactly.  The seed is printed on every run (by default it
 * comes from the clock).  --seconds bounds the run (default 300: a run
 * that hits it says how many cases it did); a run that did fewer than
 * --min-cases (default: all of --cases) fails, so the time bound cannot
 * hide a short run.
 *
 * One edu is bound to an iommufd.  Where its instance can nest (and the
 * driver makes vIOMMUs there) the base state is: an IOAS with a buffer
 * mapped, a nesting parent on it, vIOMMU 1 with
 * a bypass nested HWPT the edu is attached to (no vdevice), and vIOMMU 2.
 * Otherwise the edu is attached to an automatic domain of the IOAS and only
 * the cases that need no vIOMMU run.  Case kinds:
 *
 *   vste        IOMMU_HWPT_ALLOC with IOMMU_HWPT_DATA_ARM_SMMUV3: a guest
 *               STE built valid (abort, bypass, S1) then with one field
 *               set at random or random bits flipped, or all random; random data_len and flags now and
 *               then; an accepted one is attached to the edu one time in
 *               four, then the base attachment comes back;
 *   invalidate  IOMMU_HWPT_INVALIDATE: arrays of guest commands (valid
 *               commands of every opcode with bits flipped, random opcodes,
 *               random words), any entry_num (0, 1..64, up to 4096, and
 *               huge), entry_len (16, 0, 8, 24, 4096, huge), data_type and
 *               target ID; the array ends at an unmapped page;
 *   hw_info     IOMMU_GET_HW_INFO with any data_len, flags, in_data_type,
 *               reserved bytes and a valid, NULL or unmapped buffer;
 *   viommu      IOMMU_VIOMMU_ALLOC with any type, flags, parent, data;
 *   vdevice     IOMMU_VDEVICE_ALLOC with any virtual SID (small, 32-bit,
 *               64-bit) on either vIOMMU or a random ID (the vste and
 *               invalidate cases make a vdevice for the edu half of the
 *               time, and drop it at their end);
 *   hwpt        IOMMU_HWPT_ALLOC with any flags, data_type, data_len,
 *               pt_id and fault_id;
 *   veventq     IOMMU_VEVENTQ_ALLOC with any type, flags, depth, vIOMMU.
 *
 * Every refusal must be one of the errnos the uapi documents for the ioctl
 * (include/uapi/linux/iommufd.h: its common list E2BIG, EOPNOTSUPP, EINVAL,
 * ENOENT, ENOMEM, EOVERFLOW, and per ioctl: EIO for guest STEs and guest
 * commands, EFAULT for a bad user pointer, EEXIST for a vdevice or vEVENTQ
 * that exists (iommufd core), ENOSPC when VMIDs run out, EBUSY for an
 * attach the driver cannot do now).  IOMMU_HWPT_INVALIDATE must report an
 * entry_num no larger than it was given.  At the end: the edu still
 * translates, smmuv3.ko counted no command the SMMU rejected (a guest
 * command that passed the driver's checks yet was illegal) and no timeout,
 * and its debugfs shows the same domains and tags as at the start.  Kernel
 * reports are the harness's log check.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
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

#define PAGE		4096UL
#define IOVA		0x40000000ULL
#define VSID		0x42
#define MAX_CMDS	4096
#define TIMEOUT		1800

static uint64_t opt_seed, opt_first;
/* make check runs it on three topologies: over 100,000 cases in all. */
static uint64_t opt_cases = 35000;
static unsigned int opt_seconds = 300;
/*
 * Fewest cases a run must do (--min-cases, SMMUV3_FUZZ_MIN_CASES; default:
 * all of --cases): the time bound only keeps a wedged run from hanging the
 * boot, it does not turn a short run into a pass.
 */
static uint64_t opt_min_cases;
static bool opt_min_set;

/* ---- The generator: splitmix64 of (seed, case), then xorshift64* ---------- */

struct rnd {
	uint64_t s;
};

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rnd_case(struct rnd *r, uint64_t seed, uint64_t i)
{
	r->s = mix64(seed + 0x9e3779b97f4a7c15ULL * (i + 1)) | 1;
}

static uint64_t rn(struct rnd *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dULL;
}

static uint32_t below(struct rnd *r, uint32_t n)
{
	return (uint32_t)(rn(r) % n);
}

/* True with probability 1/N. */
static bool one_in(struct rnd *r, uint32_t n)
{
	return below(r, n) == 0;
}

/* A 32-bit value: mostly small, sometimes a power of two +-1, or any. */
static uint32_t any32(struct rnd *r)
{
	switch (below(r, 4)) {
	case 0:
		return below(r, 8);
	case 1:
		return (1U << below(r, 32)) + below(r, 3) - 1;
	case 2:
		return ~0U - below(r, 4);
	default:
		return (uint32_t)rn(r);
	}
}

/* Flip K random bits of a 64-bit word. */
static uint64_t flip(struct rnd *r, uint64_t w, unsigned int k)
{
	while (k--)
		w ^= 1ULL << below(r, 64);
	return w;
}

/* ---- Errnos the uapi documents, per ioctl ------------------------------------- */

enum kind { K_VSTE, K_INV, K_HWINFO, K_VIOMMU, K_VDEV, K_HWPT, K_VEVENTQ, K_ATTACH, K_NUM };

static const char *const kind_name[K_NUM] = {
	"vste", "invalidate", "hw_info", "viommu", "vdevice", "hwpt", "veventq", "attach",
};

#define COMMON E2BIG, EOPNOTSUPP, EINVAL, ENOENT, ENOMEM, EOVERFLOW, EFAULT
static const int allowed[K_NUM][12] = {
	[K_VSTE] = { COMMON, EIO },
	[K_INV] = { COMMON, EIO },
	[K_HWINFO] = { COMMON },
	[K_VIOMMU] = { COMMON, ENOSPC },
	[K_VDEV] = { COMMON, EEXIST },
	[K_HWPT] = { COMMON, EIO },
	[K_VEVENTQ] = { COMMON, EEXIST },
	[K_ATTACH] = { COMMON, EBUSY },
};

/* Without vIOMMUs, the cases that need one become one of these. */
static const enum kind no_viommu_kinds[] = { K_HWINFO, K_VIOMMU, K_HWPT };

static bool errno_allowed(enum kind k, int err)
{
	for (int i = 0; i < 12 && allowed[k][i]; i++)
		if (allowed[k][i] == err)
			return true;
	return false;
}

/* ---- The fixture ----------------------------------------------------------------- */

FIXTURE(fz)
{
	struct edu_home home;
	bool opted_in;
	int iommufd;
	struct edu_dev a;
	uint8_t *buf;
	uint32_t ioas, parent, viommu[2], vdev, nested, base_pt;
	bool nesting;
	/* Fuzz buffers: a payload area followed by an unmapped page. */
	uint8_t *area;
	size_t area_len;
	uint8_t *guard;		/* first unmapped byte */
	struct prng prng;
	/* Results. */
	uint64_t cases, ok[K_NUM], refused[K_NUM], by_kind[K_NUM];
	uint64_t errcnt[K_NUM][140];
	int bad;
};

FIXTURE_SETUP(fz)
{
	char why[256];
	int n;

	memset(self, 0, sizeof(*self));
	self->iommufd = -1;
	self->a.vd.fd = -1;
	/* The first edu (whether its instance can nest is looked at later). */
	n = edu_home_pick(&self->home, why, sizeof(why));
	ASSERT_LE(0, n) TH_LOG("%s", why);
	if (n == 0)
		SKIP(return, "%s", why);
}

FIXTURE_TEARDOWN_PARENT(fz)
{
	if (self->opted_in)
		viommu_opt_in_set(false);
	edu_home_restore(&self->home);
}

static int do_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

/* Build the base state (see the top of the file); false if skipped. */
static bool fz_begin(struct __test_metadata *_metadata, FIXTURE_DATA(fz) *self)
{
	struct edu_dev *const dev[] = { &self->a };
	const char *const bdf[] = { self->home.bdf };
	const char *how = "";
	uint64_t ste[2];
	char why[200], err[256];
	int ret;

	self->home.touched = true;
	ret = edus_bind(&self->iommufd, &self->ioas, dev, bdf, 1, err, sizeof(err));
	ASSERT_EQ(0, ret) TH_LOG("%s", err);
	ret = ioas_map_new_buf(self->iommufd, self->ioas, &self->buf, 2 * PAGE, IOVA, 0, err,
			       sizeof(err));
	ASSERT_EQ(0, ret) TH_LOG("%s", err);

	/* Payload area + guard page. */
	self->area_len = MAX_CMDS * 16 + 4 * PAGE;
	self->area = mmap(NULL, self->area_len + PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->area);
	self->guard = self->area + self->area_len;
	ASSERT_EQ(0, munmap(self->guard, PAGE));

	self->nesting = edu_dev_has_nesting(&self->a, &how) > 0;
	if (self->nesting && env_driver_ours() &&
	    dbg_build_feature("viommu", why, sizeof(why)) == 0) {
		INFO("smmuv3.ko offers no vIOMMU here (%s): no vIOMMU cases", why);
		self->nesting = false;
	}
	if (self->nesting) {
		ret = viommu_opt_in_set(true);
		if (!ret)
			self->opted_in = true;
		/* Ours has the opt-in wherever it has the vIOMMU. */
		if (env_driver_ours())
			ASSERT_EQ(0, ret) TH_LOG("writing 1 to %s: %s", VIOMMU_OPT_IN_PARAM,
						 errname(ret));
		ret = iommufd_hwpt_alloc_nest_parent(self->iommufd, self->a.vd.devid,
						     self->ioas, &self->parent);
		ASSERT_EQ(0, ret) TH_LOG("nesting parent: %s", errname(ret));
		for (int i = 0; i < 2 && self->nesting; i++) {
			ret = iommufd_viommu_alloc_smmuv3(self->iommufd, self->a.vd.devid,
							  self->parent, &self->viommu[i]);
			/*
			 * Ours, with both stages, the vIOMMU built and the opt-in
			 * set, must accept: a refusal is a failure, not fewer
			 * cases.
			 */
			if (ret == -EOPNOTSUPP && !env_driver_ours()) {
				INFO("IOMMU_VIOMMU_ALLOC refused with EOPNOTSUPP (driver %s; "
				     "upstream needs S2FWB or CANWBS): no vIOMMU cases",
				     env_driver() ?: "?");
				self->nesting = false;
				break;
			}
			ASSERT_EQ(0, ret) TH_LOG("IOMMU_VIOMMU_ALLOC: %s (driver %s; %s behind %s "
						 "has both stages, the opt-in is set)",
						 errname(ret), env_driver() ?: "?",
						 self->home.bdf, self->a.inst);
		}
	} else {
		INFO("%s (behind %s) cannot nest (%s): no vIOMMU cases", self->home.bdf,
		     self->a.inst, how);
	}
	if (self->nesting) {
		vste_bypass(ste);
		ret = iommufd_hwpt_alloc_nested(self->iommufd, self->a.vd.devid, self->viommu[0],
						ste, &self->nested);
		ASSERT_EQ(0, ret) TH_LOG("nested HWPT: %s", errname(ret));
		self->base_pt = self->nested;
	} else {
		self->base_pt = self->ioas;
	}
	ret = dev_attach(&self->a.vd, self->base_pt);
	ASSERT_EQ(0, ret) TH_LOG("%s", self->a.vd.err);
	return true;
}

/* ---- Cases ------------------------------------------------------------------------ */

/* An object ID: one of ours, or a random one. */
static uint32_t any_id(FIXTURE_DATA(fz) *self, struct rnd *r)
{
	const uint32_t ids[] = { self->ioas, self->parent, self->viommu[0], self->viommu[1],
				 self->vdev, self->nested, self->a.vd.devid };

	if (one_in(r, 3))
		return any32(r);
	return ids[below(r, sizeof(ids) / sizeof(ids[0]))];
}

/* A user pointer to LEN bytes of the area, NULL, or one that runs into the guard. */
static uint64_t any_ptr(FIXTURE_DATA(fz) *self, struct rnd *r, size_t len)
{
	switch (below(r, 16)) {
	case 0:
		return 0;
	case 1:
		return (uintptr_t)self->guard - below(r, 64);
	case 2:
		return rn(r);
	default:
		(void)len;
		return (uintptr_t)self->area;
	}
}

static uint32_t any_len(struct rnd *r, uint32_t good)
{
	if (!one_in(r, 6))
		return good;
	switch (below(r, 5)) {
	case 0:
		return 0;
	case 1:
		return good - 8;
	case 2:
		return good + 8;
	case 3:
		return PAGE + below(r, 2 * PAGE);
	default:
		return any32(r);
	}
}

/*
 * STE fields of words 0 and 1 a guest may or may not set (Arm IHI 0070,
 * STE layout): {word, lsb, width}.  A field-wise mutation gives a valid STE
 * one field with a random value, so the checks behind the first ones (a
 * reserved S1DSS, EATS or STRW in an otherwise valid stage-1 STE) are
 * reached, which random bit flips rarely do.
 */
static const uint8_t ste_fields[][3] = {
	{ 0, 0, 1 },	/* V */
	{ 0, 1, 3 },	/* Config */
	{ 0, 4, 2 },	/* S1Fmt */
	{ 0, 52, 7 },	/* RES0 above S1ContextPtr */
	{ 0, 59, 5 },	/* S1CDMax */
	{ 1, 0, 2 },	/* S1DSS */
	{ 1, 2, 2 },	/* S1CIR */
	{ 1, 4, 2 },	/* S1COR */
	{ 1, 6, 2 },	/* S1CSH */
	{ 1, 19, 1 },	/* MEV */
	{ 1, 27, 1 },	/* S1STALLD */
	{ 1, 28, 2 },	/* EATS */
	{ 1, 30, 2 },	/* STRW */
	{ 1, 44, 2 },	/* SHCFG */
};

static void vste_set_field(struct rnd *r, uint64_t ste[2])
{
	const uint8_t *f = ste_fields[below(r, sizeof(ste_fields) / sizeof(ste_fields[0]))];
	uint64_t mask = ((1ULL << f[2]) - 1) << f[1];

	ste[f[0]] = (ste[f[0]] & ~mask) | ((rn(r) << f[1]) & mask);
}

static void vste_gen(struct rnd *r, uint64_t ste[2])
{
	switch (below(r, 6)) {
	case 0:
		vste_abort(ste);
		break;
	case 1:
		vste_bypass(ste);
		break;
	case 2:
		ste[0] = rn(r);
		ste[1] = rn(r);
		return;
	case 3:
		ste[0] = 0;
		ste[1] = rn(r) & (one_in(r, 2) ? ~0ULL : 0xff);
		return;
	default:
		vste_s1(ste, IOVA + (rn(r) & 0xfffc0), below(r, 4));
		break;
	}
	if (one_in(r, 2)) {
		vste_set_field(r, ste);
		return;
	}
	for (int w = 0; w < 2; w++)
		if (one_in(r, 2))
			ste[w] = flip(r, ste[w], 1 + below(r, 3));
}

/*
 * The edu has no vdevice in the base state (iommufd allows one per device,
 * so IOMMU_VDEVICE_ALLOC cases would all fail otherwise); a case that wants
 * one makes it on vIOMMU 1 and drops it at its end.
 */
static void vdev_maybe(FIXTURE_DATA(fz) *self, struct rnd *r)
{
	if (one_in(r, 2) &&
	    iommufd_vdevice_alloc(self->iommufd, self->viommu[0], self->a.vd.devid, VSID,
				  &self->vdev))
		self->vdev = 0;
}

static void vdev_drop(FIXTURE_DATA(fz) *self)
{
	if (self->vdev)
		iommufd_destroy(self->iommufd, self->vdev);
	self->vdev = 0;
}

static int attach_back(FIXTURE_DATA(fz) *self)
{
	return dev_attach(&self->a.vd, self->base_pt);
}

/* Returns 0 / -errno of the fuzzed ioctl; *k is its kind; *follow an extra result. */
static int case_vste(FIXTURE_DATA(fz) *self, struct rnd *r, char *desc, size_t dl,
		     int *attach_ret)
{
	uint64_t *ste = (uint64_t *)self->area;
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = one_in(r, 10) ? any32(r) : 0,
		.dev_id = one_in(r, 20) ? any_id(self, r) : self->a.vd.devid,
		.pt_id = one_in(r, 10) ? any_id(self, r) : self->viommu[below(r, 2)],
		.data_type = one_in(r, 10) ? any32(r) : IOMMU_HWPT_DATA_ARM_SMMUV3,
		.data_len = any_len(r, 16),
		.fault_id = 0,
	};
	int ret;

	vdev_maybe(self, r);
	vste_gen(r, ste);
	ste[0] = htole64(ste[0]);
	ste[1] = htole64(ste[1]);
	cmd.data_uptr = one_in(r, 20) ? any_ptr(self, r, cmd.data_len) : (uintptr_t)ste;
	snprintf(desc, dl, "HWPT_ALLOC flags %#x dev %u pt %u type %u len %u ptr %#llx "
		 "vSTE %#018llx %#018llx", cmd.flags, cmd.dev_id, cmd.pt_id, cmd.data_type,
		 cmd.data_len, (unsigned long long)cmd.data_uptr,
		 (unsigned long long)le64toh(ste[0]), (unsigned long long)le64toh(ste[1]));
	ret = do_ioctl(self->iommufd, IOMMU_HWPT_ALLOC, &cmd);
	if (!ret) {
		if (one_in(r, 4)) {
			*attach_ret = dev_attach(&self->a.vd, cmd.out_hwpt_id);
			if (!*attach_ret)
				*attach_ret = attach_back(self) ? -EPIPE : 0;
		}
		iommufd_destroy(self->iommufd, cmd.out_hwpt_id);
	}
	vdev_drop(self);
	return ret;
}

static void cmd_gen(struct rnd *r, uint64_t c[2])
{
	static const uint8_t ops[] = { 0x10, 0x11, 0x12, 0x13, 0x30, 0x05, 0x06, 0x40,
				       0x01, 0x02, 0x03, 0x04, 0x20, 0x28, 0x29, 0x2a,
				       0x31, 0x41, 0x44, 0x46 };
	uint8_t op = one_in(r, 4) ? (uint8_t)rn(r) : ops[below(r, sizeof(ops))];

	switch (below(r, 4)) {
	case 0:
		c[0] = rn(r);
		c[1] = rn(r);
		return;
	case 1:
		c[0] = op;
		c[1] = 0;
		break;
	default:
		/* Plausible fields: ASID, VMID, SID, SSID, VA, TG/NUM/SCALE/TTL. */
		c[0] = op | (rn(r) & 0xffff00000000f000ULL & (one_in(r, 2) ? ~0ULL : 0));
		if (op == 0x05 || op == 0x06 || op == 0x40)
			c[0] = op | ((uint64_t)(one_in(r, 2) ? VSID : any32(r)) << 32);
		c[1] = rn(r) & (one_in(r, 2) ? 0xfffffffffffff000ULL : 0xfffULL);
		break;
	}
	if (one_in(r, 2)) {
		c[0] = flip(r, c[0], 1 + below(r, 2));
		c[0] = (c[0] & ~0xffULL) | op;
	}
	if (one_in(r, 3))
		c[1] = flip(r, c[1], 1 + below(r, 2));
}

static int case_inv(FIXTURE_DATA(fz) *self, struct rnd *r, char *desc, size_t dl,
		    uint32_t *in, uint32_t *out)
{
	struct iommu_hwpt_invalidate cmd = {
		.size = sizeof(cmd),
		.hwpt_id = one_in(r, 10) ? any_id(self, r) : self->viommu[below(r, 2)],
		.data_type = one_in(r, 12) ? any32(r) : IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
		.entry_len = any_len(r, 16),
	};
	uint32_t n, fit;
	uint64_t *w;
	int ret;

	switch (below(r, 10)) {
	case 0:
		n = 0;
		break;
	case 1:
		n = 65 + below(r, MAX_CMDS - 64);
		break;
	case 2:
		n = any32(r);
		break;
	default:
		n = 1 + below(r, one_in(r, 2) ? 4 : 64);
	}
	cmd.entry_num = n;
	/* Fill what fits before the guard (the kernel reads at most that far). */
	fit = cmd.entry_len ? (uint32_t)(self->area_len / (cmd.entry_len ?: 1)) : 0;
	if (n < fit)
		fit = n;
	if (cmd.entry_len >= 16) {
		for (uint32_t i = 0; i < fit && i < MAX_CMDS; i++) {
			uint64_t c[2];

			w = (uint64_t *)(self->area + (size_t)i * cmd.entry_len);
			cmd_gen(r, c);
			w[0] = htole64(c[0]);
			w[1] = htole64(c[1]);
		}
	}
	/* Most arrays start at the area; some end right at the guard page. */
	if (one_in(r, 8) && cmd.entry_len && n && (uint64_t)n * cmd.entry_len <= self->area_len)
		cmd.data_uptr = (uintptr_t)self->guard - (uint64_t)n * cmd.entry_len +
				(one_in(r, 2) ? 16 : 0);
	else
		cmd.data_uptr = one_in(r, 30) ? any_ptr(self, r, 0) : (uintptr_t)self->area;
	w = (uint64_t *)self->area;
	snprintf(desc, dl, "HWPT_INVALIDATE id %u type %u len %u num %u ptr %#llx, first "
		 "%016llx %016llx", cmd.hwpt_id, cmd.data_type, cmd.entry_len, cmd.entry_num,
		 (unsigned long long)cmd.data_uptr, (unsigned long long)le64toh(w[0]),
		 (unsigned long long)le64toh(w[1]));
	*in = n;
	vdev_maybe(self, r);
	ret = do_ioctl(self->iommufd, IOMMU_HWPT_INVALIDATE, &cmd);
	vdev_drop(self);
	*out = cmd.entry_num;
	return ret;
}

static int case_hwinfo(FIXTURE_DATA(fz) *self, struct rnd *r, char *desc, size_t dl)
{
	struct iommu_hw_info cmd = {
		.size = one_in(r, 16) ? any32(r) & 0xfff : sizeof(cmd),
		.flags = one_in(r, 3) ? (one_in(r, 2) ? IOMMU_HW_INFO_FLAG_INPUT_TYPE : any32(r)) : 0,
		.dev_id = one_in(r, 10) ? any_id(self, r) : self->a.vd.devid,
		.data_len = one_in(r, 2) ? below(r, 80) : any32(r),
	};

	cmd.in_data_type = one_in(r, 2) ? below(r, 6) : any32(r);
	if (one_in(r, 10))
		cmd.__reserved[below(r, 3)] = (uint8_t)rn(r);
	cmd.data_uptr = one_in(r, 4) ? any_ptr(self, r, cmd.data_len) : (uintptr_t)self->area;
	snprintf(desc, dl, "GET_HW_INFO size %u flags %#x dev %u len %u ptr %#llx type %u",
		 cmd.size, cmd.flags, cmd.dev_id, cmd.data_len,
		 (unsigned long long)cmd.data_uptr, cmd.in_data_type);
	return do_ioctl(self->iommufd, IOMMU_GET_HW_INFO, &cmd);
}

static int case_viommu(FIXTURE_DATA(fz) *self, struct rnd *r, char *desc, size_t dl)
{
	struct iommu_viommu_alloc cmd = {
		.size = sizeof(cmd),
		.flags = one_in(r, 8) ? any32(r) : 0,
		.type = one_in(r, 4) ? any32(r) : IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
		.dev_id = one_in(r, 10) ? any_id(self, r) : self->a.vd.devid,
		.hwpt_id = one_in(r, 3) ? any_id(self, r) : self->parent,
		.data_len = one_in(r, 4) ? any32(r) : 0,
	};
	int ret;

	cmd.data_uptr = cmd.data_len || one_in(r, 4) ? any_ptr(self, r, cmd.data_len) : 0;
	snprintf(desc, dl, "VIOMMU_ALLOC flags %#x type %u dev %u hwpt %u len %u ptr %#llx",
		 cmd.flags, cmd.type, cmd.dev_id, cmd.hwpt_id, cmd.data_len,
		 (unsigned long long)cmd.data_uptr);
	ret = do_ioctl(self->iommufd, IOMMU_VIOMMU_ALLOC, &cmd);
	if (!ret)
		iommufd_destroy(self->iommufd, cmd.out_viommu_id);
	return ret;
}

static int case_vdev(FIXTURE_DATA(fz) *self, struct rnd *r, char *desc, size_t dl)
{
	struct iommu_vdevice_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = one_in(r, 6) ? any_id(self, r) : self->viommu[below(r, 2)],
		.dev_id = one_in(r, 10) ? any_id(self, r) : self->a.vd.devid,
	};
	int ret;

	switch (below(r, 4)) {
	case 0:
		cmd.virt_id = VSID;
		break;
	case 1:
		cmd.virt_id = any32(r);
		break;
	case 2:
		cmd.virt_id = rn(r);
		break;
	default:
		cmd.virt_id = (uint64_t)any32(r) << 32 | any32(r);
	}
	snprintf(desc, dl, "VDEVICE_ALLOC viommu %u dev %u virt_id %#llx", cmd.viommu_id,
		 cmd.dev_id, (unsigned long long)cmd.virt_id);
	ret = do_ioctl(self->iommufd, IOMMU_VDEVICE_ALLOC, &cmd);
	if (!ret)
		iommufd_destroy(self->iommufd, cmd.out_vdevice_id);
	return ret;
}

static int case_hwpt(FIXTURE_DATA(fz) *self, struct rnd *r, char *desc, size_t dl)
{
	static const uint32_t flags[] = { 0, IOMMU_HWPT_ALLOC_NEST_PARENT,
					  IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
					  IOMMU_HWPT_ALLOC_PASID, 1U << 2,
					  IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_PASID };
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = one_in(r, 4) ? any32(r) : flags[below(r, 6)],
		.dev_id = one_in(r, 10) ? any_id(self, r) : self->a.vd.devid,
		.pt_id = one_in(r, 3) ? any_id(self, r) : self->ioas,
		.data_type = one_in(r, 2) ? below(r, 5) : (one_in(r, 2) ? 0 : any32(r)),
		.data_len = one_in(r, 2) ? 0 : any_len(r, 16),
		.fault_id = one_in(r, 10) ? any32(r) : 0,
	};
	int ret;

	if (one_in(r, 20))
		cmd.__reserved = any32(r);
	memset(self->area, 0, 64);
	if (one_in(r, 2))
		((uint64_t *)self->area)[below(r, 2)] = rn(r);
	cmd.data_uptr = one_in(r, 4) ? any_ptr(self, r, cmd.data_len) : (uintptr_t)self->area;
	snprintf(desc, dl, "HWPT_ALLOC flags %#x dev %u pt %u type %u len %u ptr %#llx "
		 "fault %u rsv %u", cmd.flags, cmd.dev_id, cmd.pt_id, cmd.data_type, cmd.data_len,
		 (unsigned long long)cmd.data_uptr, cmd.fault_id, cmd.__reserved);
	ret = do_ioctl(self->iommufd, IOMMU_HWPT_ALLOC, &cmd);
	if (!ret)
		iommufd_destroy(self->iommufd, cmd.out_hwpt_id);
	return ret;
}

static int case_veventq(FIXTURE_DATA(fz) *self, struct rnd *r, char *desc, size_t dl)
{
	struct iommu_veventq_alloc cmd = {
		.size = sizeof(cmd),
		.flags = one_in(r, 8) ? any32(r) : 0,
		.viommu_id = one_in(r, 6) ? any_id(self, r) : self->viommu[below(r, 2)],
		.type = one_in(r, 4) ? any32(r) : IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
		.veventq_depth = one_in(r, 2) ? 1 + below(r, 64) : any32(r),
	};
	int ret;

	if (one_in(r, 20))
		cmd.__reserved = any32(r);
	snprintf(desc, dl, "VEVENTQ_ALLOC flags %#x viommu %u type %u depth %u rsv %u",
		 cmd.flags, cmd.viommu_id, cmd.type, cmd.veventq_depth, cmd.__reserved);
	ret = do_ioctl(self->iommufd, IOMMU_VEVENTQ_ALLOC, &cmd);
	if (!ret) {
		close(cmd.out_veventq_fd);
		iommufd_destroy(self->iommufd, cmd.out_veventq_id);
	}
	return ret;
}

/* ---- The run ---------------------------------------------------------------------- */

static void tally(struct __test_metadata *_metadata, FIXTURE_DATA(fz) *self, enum kind k,
		  int ret, uint64_t i, const char *desc)
{
	(void)_metadata;
	self->by_kind[k]++;
	if (!ret) {
		self->ok[k]++;
		return;
	}
	self->refused[k]++;
	if (-ret > 0 && -ret < 140)
		self->errcnt[k][-ret]++;
	if (!errno_allowed(k, -ret)) {
		if (self->bad++ < 20)
			INFO("case %llu (%s): %s: %s is not an errno the uapi documents for it "
			     "(replay: --seed %llu --first %llu --cases 1)", (unsigned long long)i,
			     kind_name[k], desc, errname(ret), (unsigned long long)opt_seed,
			     (unsigned long long)i);
	}
}

static uint64_t now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static int dbg_totals(FIXTURE_DATA(fz) *self, const char *key, uint64_t *sum)
{
	struct dbg_snap s;
	int ret;

	*sum = 0;
	if (!env_driver_ours())
		return 0;
	(void)self;
	ret = dbg_snap(key, &s);
	for (int i = 0; !ret && i < s.n; i++)
		*sum += s.v[i];
	return ret;
}

static int domains_str(char *out, size_t len)
{
	struct dbg_domains *dd;
	size_t o = 0;
	int ret;

	out[0] = 0;
	if (!env_driver_ours() || !dbg_present())
		return 0;
	dd = malloc(sizeof(*dd));
	if (!dd)
		return -ENOMEM;
	ret = dbg_domains_read(dd);
	for (int i = 0; !ret && i < dd->n && o < len; i++) {
		o += snprintf(out + o, len - o, "domain %u:", dd->d[i].id);
		for (int j = 0; j < dd->d[i].n && o < len; j++)
			if (dd->d[i].inv[j].users > 0)
				o += snprintf(out + o, len - o, " %s/%u/%u x%d",
					      dd->d[i].inv[j].inst, dd->d[i].inv[j].type,
					      dd->d[i].inv[j].id, dd->d[i].inv[j].users);
		if (o < len)
			o += snprintf(out + o, len - o, "; ");
	}
	free(dd);
	return ret;
}

TEST_F_TIMEOUT(fz, random_uapi, TIMEOUT)
{
	static const char *const keys[] = { "cmd_errors", "cmd_timeouts", "asids_used",
					    "vmids_used" };
	uint64_t before[4], after[4], t0, i, end;
	char desc[400], err[256], *dom0 = malloc(16384), *dom1 = malloc(16384);
	int ret;

	ASSERT_TRUE(dom0 && dom1);
	if (!fz_begin(_metadata, self))
		return;
	prng_seed(&self->prng, opt_seed | 1);
	ret = edu_roundtrip(&self->a, self->buf, IOVA, self->buf + PAGE, IOVA + PAGE, 256,
			    &self->prng, err, sizeof(err));
	ASSERT_EQ(0, ret) TH_LOG("DMA before fuzzing: %s", err);
	for (int k = 0; k < 4; k++)
		ASSERT_EQ(0, dbg_totals(self, keys[k], &before[k]));
	ASSERT_EQ(0, domains_str(dom0, 16384));

	INFO("seed %llu, cases %llu..%llu, at most %u s; edu %s behind %s; vIOMMU cases %s "
	     "(replay: --seed %llu [--first I --cases N] or SMMUV3_FUZZ_SEED)",
	     (unsigned long long)opt_seed, (unsigned long long)opt_first,
	     (unsigned long long)(opt_first + opt_cases - 1), opt_seconds, self->home.bdf,
	     self->a.inst, self->nesting ? "on" : "off", (unsigned long long)opt_seed);
	if (!env_driver_ours() || !dbg_present())
		INFO("no check of rejected commands, timeouts, tags and domains: %s",
		     env_driver_ours() ? "no " SMMUV3_DEBUGFS : "the driver has no smmuv3 debugfs");
	t0 = now_s();
	end = opt_first + opt_cases;
	for (i = opt_first; i < end; i++) {
		struct rnd r;
		enum kind k;
		int aret = 1;

		if ((i & 255) == 0 && now_s() - t0 >= opt_seconds) {
			INFO("time bound of %u s reached after %llu cases", opt_seconds,
			     (unsigned long long)(i - opt_first));
			break;
		}
		rnd_case(&r, opt_seed, i);
		k = (enum kind)below(&r, K_ATTACH);
		if (!self->nesting && (k == K_VSTE || k == K_INV || k == K_VDEV ||
				       k == K_VEVENTQ))
			k = no_viommu_kinds[below(&r, 3)];
		switch (k) {
		case K_VSTE:
			ret = case_vste(self, &r, desc, sizeof(desc), &aret);
			break;
		case K_INV: {
			uint32_t in = 0, out = 0;

			ret = case_inv(self, &r, desc, sizeof(desc), &in, &out);
			if (out > in || (!ret && out != in)) {
				if (self->bad++ < 20)
					INFO("case %llu: %s: %s with entry_num %u back for %u",
					     (unsigned long long)i, desc, errname(ret), out, in);
			}
			break;
		}
		case K_HWINFO:
			ret = case_hwinfo(self, &r, desc, sizeof(desc));
			break;
		case K_VIOMMU:
			ret = case_viommu(self, &r, desc, sizeof(desc));
			break;
		case K_VDEV:
			ret = case_vdev(self, &r, desc, sizeof(desc));
			break;
		case K_HWPT:
			ret = case_hwpt(self, &r, desc, sizeof(desc));
			break;
		default:
			ret = case_veventq(self, &r, desc, sizeof(desc));
			break;
		}
		tally(_metadata, self, k, ret, i, desc);
		if (aret != 1) {
			ASSERT_NE(-EPIPE, aret) TH_LOG("case %llu: going back to the base "
						       "attachment failed (%s)",
						       (unsigned long long)i, self->a.vd.err);
			tally(_metadata, self, K_ATTACH, aret, i, desc);
		}
		self->cases++;
	}
	INFO("%llu cases in %llu s", (unsigned long long)self->cases,
	     (unsigned long long)(now_s() - t0));
	EXPECT_LE(opt_min_set ? opt_min_cases : opt_cases, self->cases)
		TH_LOG("%llu cases run, fewer than the floor of %llu (%llu asked for, time bound "
		       "%u s)", (unsigned long long)self->cases,
		       (unsigned long long)(opt_min_set ? opt_min_cases : opt_cases),
		       (unsigned long long)opt_cases, opt_seconds);
	/*
	 * With a vIOMMU every kind ran (each case picks one of K_ATTACH kinds:
	 * none missing in 200 cases but by a 1e-11 chance).
	 */
	for (int k = 0; self->nesting && self->cases >= 200 && k < K_ATTACH; k++) {
		const char *name = kind_name[k];

		EXPECT_LT(0ULL, (unsigned long long)self->by_kind[k])
			TH_LOG("no %s case ran although the vIOMMU cases are on", name);
	}
	for (int k = 0; k < K_NUM; k++) {
		char e[400] = "";
		size_t o = 0;

		for (int n = 1; n < 140; n++)
			if (self->errcnt[k][n])
				o += snprintf(e + o, sizeof(e) - o, " %s x%llu", strerror(n),
					      (unsigned long long)self->errcnt[k][n]);
		if (self->by_kind[k])
			INFO("  %-10s %8llu cases: %llu accepted, %llu refused:%s", kind_name[k],
			     (unsigned long long)self->by_kind[k], (unsigned long long)self->ok[k],
			     (unsigned long long)self->refused[k], o ? e : " none");
	}

	ret = edu_roundtrip(&self->a, self->buf, IOVA, self->buf + PAGE, IOVA + PAGE, 256,
			    &self->prng, err, sizeof(err));
	ASSERT_EQ(0, ret) TH_LOG("DMA after fuzzing: %s", err);
	for (int k = 0; k < 4; k++) {
		ASSERT_EQ(0, dbg_totals(self, keys[k], &after[k]));
		EXPECT_EQ(before[k], after[k]) TH_LOG("smmuv3 debugfs %s (all instances): %llu "
						      "before, %llu after", keys[k],
						      (unsigned long long)before[k],
						      (unsigned long long)after[k]);
	}
	ASSERT_EQ(0, domains_str(dom1, 16384));
	EXPECT_STREQ(dom0, dom1) TH_LOG("smmuv3 debugfs domains changed");
	ASSERT_EQ(0, self->bad) TH_LOG("%d case(s) answered wrongly (above; seed %llu)",
				       self->bad, (unsigned long long)opt_seed);
	free(dom0);
	free(dom1);
}

/* --seed/--cases/--first/--seconds (or the environment), then the harness. */
int main(int argc, char **argv)
{
	const char *e;
	int o = 1;

	e = getenv("SMMUV3_FUZZ_SEED");
	opt_seed = e ? strtoull(e, NULL, 0) : mix64((uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32));
	if ((e = getenv("SMMUV3_FUZZ_CASES")))
		opt_cases = strtoull(e, NULL, 0);
	if ((e = getenv("SMMUV3_FUZZ_SECONDS")))
		opt_seconds = strtoul(e, NULL, 0);
	if ((e = getenv("SMMUV3_FUZZ_MIN_CASES"))) {
		opt_min_cases = strtoull(e, NULL, 0);
		opt_min_set = true;
	}
	for (int i = 1; i < argc; i++) {
		if (i + 1 < argc && !strcmp(argv[i], "--seed"))
			opt_seed = strtoull(argv[++i], NULL, 0);
		else if (i + 1 < argc && !strcmp(argv[i], "--cases"))
			opt_cases = strtoull(argv[++i], NULL, 0);
		else if (i + 1 < argc && !strcmp(argv[i], "--first"))
			opt_first = strtoull(argv[++i], NULL, 0);
		else if (i + 1 < argc && !strcmp(argv[i], "--seconds"))
			opt_seconds = strtoul(argv[++i], NULL, 0);
		else if (i + 1 < argc && !strcmp(argv[i], "--min-cases")) {
			opt_min_cases = strtoull(argv[++i], NULL, 0);
			opt_min_set = true;
		}
		else
			argv[o++] = argv[i];
	}
	argv[o] = NULL;
	printf("# smmuv3_fuzz: seed %llu (replay: --seed %llu or SMMUV3_FUZZ_SEED=%llu)\n",
	       (unsigned long long)opt_seed, (unsigned long long)opt_seed,
	       (unsigned long long)opt_seed);
	return test_harness_run(o, argv);
}
