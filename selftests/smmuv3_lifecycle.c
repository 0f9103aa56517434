// SPDX-License-Identifier: GPL-2.0-only
/*
 * smmuv3_lifecycle: unload and reload the IOMMU driver with its devices
 * going and coming.  Changes global state: runs last (selftests/Makefile).
 *
 * The driver module is the one /init loaded from /modules/driver
 * (smmuv3.ko, or arm_smmu_v3.ko with SMMUV3_DRIVER=upstream).  Every
 * device the iommu core probed holds a reference on it, so an unload needs
 * every PCI device behind an instance removed first (sysfs "remove"; the
 * guest runs from its initramfs and its console is virtio-mmio, so the
 * disks may go too).
 *
 * The counts below are for acpi2; the other topologies run CYCLES_OTHER
 * cycles and SAMPLES_OTHER fail-nth samples (make check boots them all).
 *
 * Modules using the driver's symbols (smmuv3_kunit.ko, its results read
 * by then) are unloaded first.
 *
 *   cycles           CYCLES times: remove every PCI device behind an
 *                    instance, rmmod, insmod, rescan, wait until every
 *                    device is back in a group behind the expected number
 *                    of instances, attach an edu behind each instance to
 *                    one IOAS and check DMA both ways; at the end nothing
 *                    of ours is left in debugfs and kmemleak finds no new
 *                    unreferenced object.
 *   hwpt_outlives_devices  (smmuv3.ko) an iommufd keeps a HWPT whose only
 *                    device is gone: the domain's code is the module's, so
 *                    rmmod must be refused (EWOULDBLOCK) until the iommufd
 *                    is closed, then succeed; the instance-removal path then
 *                    runs with the domain's entries long dropped.
 *   load_fail_nth    the first SMMU probed with the devices behind it
 *                    present while the N-th slab or page allocation of the
 *                    probing task fails (/proc/self/task/<tid>/fail-nth,
 *                    failslab and fail_page_alloc with ignore-gfp-wait off).
 *                    The module is loaded with /sys/bus/platform/
 *                    drivers_autoprobe off (the PCI devices rescanned with
 *                    autoprobe off too, so the instance's registration
 *                    probes every one of them) and the SMMU is probed
 *                    through drivers_probe: not the load itself, whose
 *                    allocation failures in the kernel's module loader WARN
 *                    (jump_label_module_notify(): "Failed to allocate
 *                    memory: jump_label may not work properly").  N = 1, 2,
 *                    ... until a probe reaches no N-th allocation (at most
 *                    FAILNTH_MAX), every STRIDE-th from a seeded offset:
 *                    smtest.failnth_stride=S on the kernel command line
 *                    (make soak: 1) or SMMUV3_FAILNTH_STRIDE, else the
 *                    probe's allocation points spread over FAILNTH_SAMPLES
 *                    (SMMUV3_FAILNTH_SEED replays).  After each: no kernel
 *                    report; a probe that registered no instance left
 *                    (smmuv3.ko) no instance directory in debugfs and no
 *                    domain; one that registered it anyway costs an unload
 *                    and a reload, and (smmuv3.ko; upstream: INFO) left
 *                    every device the unbroken probe put behind it in a
 *                    group (iommu_register.c registers again when the core
 *                    dropped one whose probe failed).  At the end the
 *                    other SMMUs probe, every device is in a group, DMA
 *                    works, and kmemleak finds no object the walk left
 *                    unreferenced.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/iommufd.h>

#include "kselftest_harness.h"

#include "debugfs.h"
#include "dmacheck.h"
#include "dmatest.h"
#include "env.h"
#include "mem.h"
#include "sysfs.h"
#include "vfio.h"

#define CYCLES		20
/* Elsewhere than acpi2 (make check boots several topologies): shorter. */
#define CYCLES_OTHER	3
#define SAMPLES_OTHER	4
#define GROUP_WAIT_MS	60000
/* Points of the fail-nth walk in make check (smtest.failnth_stride=1: all). */
#define FAILNTH_SAMPLES	40
#define FAILNTH_SAMPLES_UP 12
#define FAILNTH_MAX	20000
#define TIMEOUT		1800
#define KMEMLEAK	"/sys/kernel/debug/kmemleak"

struct drv {
	char name[64];		/* as in /proc/modules */
	char path[256];
};

static int find_driver(struct drv *d)
{
	glob_t g;
	int ret = -ENOENT;

	snprintf(d->name, sizeof(d->name), "%s", env_driver_ours() ? "smmuv3" : "arm_smmu_v3");
	if (glob("/modules/driver/*.ko", 0, NULL, &g))
		return -ENOENT;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *b = strrchr(g.gl_pathv[i], '/') + 1;

		/* NN-NAME.ko */
		if (strlen(b) > 3 && !strncmp(b + 3, d->name, strlen(d->name)) &&
		    !strcmp(b + 3 + strlen(d->name), ".ko")) {
			snprintf(d->path, sizeof(d->path), "%s", g.gl_pathv[i]);
			ret = 0;
		}
	}
	globfree(&g);
	return ret;
}

static bool module_loaded(const struct drv *d)
{
	char p[128];

	snprintf(p, sizeof(p), "/sys/module/%s/initstate", d->name);
	return path_exists(p);
}

static int insmod(const struct drv *d)
{
	int fd = open(d->path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret;
}

static int rmmod(const struct drv *d)
{
	return syscall(SYS_delete_module, d->name, O_NONBLOCK) ? -errno : 0;
}

/*
 * Modules that use the driver's symbols (smmuv3_kunit.ko, whose results
 * /init has read before the selftests) go first: rmmod refuses otherwise.
 */
static int rmmod_holders(const struct drv *d)
{
	struct strlist l;
	char dir[128];
	int ret = 0;

	snprintf(dir, sizeof(dir), "/sys/module/%s/holders", d->name);
	strlist_init(&l);
	if (dir_list(dir, &l) > 0) {
		for (int i = 0; i < l.n && !ret; i++)
			if (syscall(SYS_delete_module, l.v[i], O_NONBLOCK))
				ret = -errno;
	}
	strlist_free(&l);
	return ret;
}

/* PCI devices behind an IOMMU instance now. */
static int devices_behind(struct strlist *out)
{
	struct strlist all;
	int ret;

	strlist_init(&all);
	ret = pci_find(PCI_ANY_ID16, PCI_ANY_ID16, &all);
	if (ret >= 0)
		ret = pci_behind_iommu(&all, out, NULL);
	strlist_free(&all);
	return ret;
}

/* Remove every device in L (children go with their bridge). */
static int remove_all(const struct strlist *l)
{
	for (int i = l->n - 1; i >= 0; i--) {
		int ret = sysfs_writef("1", SYSFS_PCI_DEVICES "/%s/remove", l->v[i]);

		if (ret && ret != -ENOENT)
			return ret;
	}
	for (int i = 0; i < l->n; i++) {
		char p[PATH_MAX];

		snprintf(p, sizeof(p), SYSFS_PCI_DEVICES "/%s", l->v[i]);
		if (path_exists(p))
			return -EBUSY;
	}
	return 0;
}

/* How many devices of L are not in a group now; their names in BUF. */
static int groups_missing(const struct strlist *l, char *buf, size_t len)
{
	size_t off = 0;
	int missing = 0;

	buf[0] = 0;
	for (int i = 0; i < l->n; i++) {
		if (pci_iommu_group(l->v[i]) >= 0)
			continue;
		missing++;
		if (off < len)
			off += snprintf(buf + off, len - off, "%s%s", off ? " " : "",
					l->v[i]);
	}
	return missing;
}

/* Wait until every device of L exists and is in a group; how many are not. */
static int wait_groups(const struct strlist *l)
{
	uint64_t t0 = now_ms();
	int missing;

	do {
		missing = 0;
		for (int i = 0; i < l->n; i++)
			if (pci_iommu_group(l->v[i]) < 0)
				missing++;
		if (!missing)
			return 0;
		usleep(100000);
	} while (now_ms() - t0 < GROUP_WAIT_MS);
	return missing;
}

static int count_instances(void)
{
	struct strlist l;
	int n;

	strlist_init(&l);
	n = iommu_instances(&l);
	strlist_free(&l);
	return n;
}

/* "unreferenced object" entries kmemleak lists after a fresh scan, or -1. */
static long kmemleak_count(void)
{
	char line[512];
	long n = 0;
	FILE *f;

	if (sysfs_write(KMEMLEAK, "scan"))
		return -1;
	sysfs_write(KMEMLEAK, "scan");
	f = fopen(KMEMLEAK, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += !!strstr(line, "unreferenced object");
	fclose(f);
	return n;
}

/* Kernel reports in /dev/kmsg since FD was opened. */
static int kmsg_reports(int fd, char *first, size_t len)
{
	static const char *const pat[] = { "BUG:", "WARNING:", "Oops", "KASAN",
					   "UBSAN", "kernel BUG", "list_add corruption",
					   "list_del corruption", "possible circular",
					   "suspicious RCU" };
	char rec[2048];
	int n = 0;

	for (;;) {
		ssize_t r = read(fd, rec, sizeof(rec) - 1);

		if (r < 0 && errno == EPIPE)
			continue;
		if (r <= 0)
			break;
		rec[r] = 0;
		for (size_t i = 0; i < sizeof(pat) / sizeof(pat[0]); i++) {
			if (strstr(rec, pat[i])) {
				if (!n++ && first)
					snprintf(first, len, "%s", strchr(rec, ';') ?
						 strchr(rec, ';') + 1 : rec);
				break;
			}
		}
	}
	return n;
}

static int kmsg_open_end(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/* The SMMU platform devices (IORT's arm-smmu-v3.N, or arm,smmu-v3 nodes). */
static int smmu_platform_devices(struct strlist *out)
{
	struct strlist all;
	char ma[256];
	int ret;

	strlist_init(&all);
	ret = dir_list("/sys/bus/platform/devices", &all);
	for (int i = 0; ret >= 0 && i < all.n; i++) {
		if (sysfs_readf(ma, sizeof(ma), "/sys/bus/platform/devices/%s/modalias",
				all.v[i]) < 0)
			continue;
		if (strstr(ma, "arm-smmu-v3") || strstr(ma, "arm,smmu-v3"))
			strlist_add(out, all.v[i]);
	}
	strlist_free(&all);
	return ret < 0 ? ret : out->n;
}

FIXTURE(life)
{
	struct drv drv;
	struct strlist devs;	/* behind an instance at the start */
	int instances;
	struct edu_pick pick[2];
	int nedu;
	struct prng rng;
	struct pinned_buf mem;
	int kmsg;
};

FIXTURE_SETUP(life)
{
	int ret;

	self->kmsg = -1;
	strlist_init(&self->devs);
	ret = find_driver(&self->drv);
	if (ret)
		SKIP(return, "no /modules/driver/NN-%s.ko (driver %s): nothing to reload",
		     self->drv.name, env_driver() ?: "?");
	if (!module_loaded(&self->drv))
		SKIP(return, "%s is not loaded as a module", self->drv.name);
	ret = devices_behind(&self->devs);
	ASSERT_LE(0, ret);
	if (!self->devs.n)
		SKIP(return, "no PCI device behind an IOMMU instance");
	self->instances = count_instances();
	ret = rmmod_holders(&self->drv);
	ASSERT_EQ(0, ret) TH_LOG("unloading the modules that use %s: %s", self->drv.name,
				 strerror(-ret));
	self->nedu = edus_on_distinct_instances(self->pick, 2);
	ASSERT_LE(0, self->nedu);
	ASSERT_EQ(0, pinned_alloc(&self->mem, 2 * PAGE));
	prng_seed(&self->rng, prng_time_seed());
	self->kmsg = kmsg_open_end();
	{
		char buf[2048];

		INFO("module %s (%s); %d instance(s); %d device(s) behind them: %s",
		     self->drv.name, self->drv.path, self->instances, self->devs.n,
		     strlist_join(&self->devs, buf, sizeof(buf)));
	}
}

FIXTURE_TEARDOWN(life)
{
	vfio_dev_close_all();
	/* Whatever happened, leave the driver loaded and the devices back. */
	sysfs_write("/sys/bus/platform/drivers_autoprobe", "1");
	sysfs_write("/sys/bus/pci/drivers_autoprobe", "1");
	if (!module_loaded(&self->drv))
		insmod(&self->drv);
	else if (!count_instances()) {
		struct strlist smmus;

		strlist_init(&smmus);
		smmu_platform_devices(&smmus);
		for (int i = 0; i < smmus.n; i++)
			sysfs_write("/sys/bus/platform/drivers_probe", smmus.v[i]);
		strlist_free(&smmus);
	}
	sysfs_write("/sys/bus/pci/rescan", "1");
	wait_groups(&self->devs);
	if (self->kmsg >= 0)
		close(self->kmsg);
	pinned_free(&self->mem);
	strlist_free(&self->devs);
}

static void no_reports(struct __test_metadata *_metadata, FIXTURE_DATA(life) *self,
		       const char *when)
{
	char first[512] = "";
	int n = kmsg_reports(self->kmsg, first, sizeof(first));

	ASSERT_EQ(0, n) TH_LOG("%s: %d kernel report line(s), first: %s", when, n, first);
}

/* Remove every device behind an instance (as listed now), then rmmod. */
static void unload(struct __test_metadata *_metadata, FIXTURE_DATA(life) *self)
{
	struct strlist now;
	int ret;

	strlist_init(&now);
	ASSERT_LE(0, devices_behind(&now));
	ret = remove_all(&now);
	strlist_free(&now);
	ASSERT_EQ(0, ret) TH_LOG("removing the PCI devices: %s", strerror(-ret));
	ret = rmmod(&self->drv);
	ASSERT_EQ(0, ret) TH_LOG("rmmod %s with no device behind its instances: %s",
				 self->drv.name, strerror(-ret));
	ASSERT_FALSE(module_loaded(&self->drv));
	if (env_driver_ours())
		ASSERT_FALSE(path_exists(SMMUV3_DEBUGFS))
			TH_LOG("%s still there after rmmod", SMMUV3_DEBUGFS);
	ASSERT_EQ(0, count_instances()) TH_LOG("IOMMU instances left after rmmod");
}

/* Every device back in a group, behind the instances it had. */
static void back(struct __test_metadata *_metadata, FIXTURE_DATA(life) *self,
		 const char *when)
{
	int missing = wait_groups(&self->devs);

	ASSERT_EQ(0, missing) TH_LOG("%s: %d of %d device(s) without an IOMMU group after "
				     "%d ms", when, missing, self->devs.n, GROUP_WAIT_MS);
	ASSERT_EQ(self->instances, count_instances()) TH_LOG("%s", when);
}

/* Both edus (one per instance) on one IOAS, DMA both ways. */
static void dma_check(struct __test_metadata *_metadata, FIXTURE_DATA(life) *self)
{
	struct edu_dev d[2];
	uint32_t ioas;
	uint64_t iova;
	int fd, ret;

	fd = iommufd_open();
	ASSERT_LE(0, fd) TH_LOG("open /dev/iommu: %s", strerror(-fd));
	ASSERT_EQ(0, iommufd_ioas_alloc(fd, &ioas));
	for (int i = 0; i < self->nedu; i++) {
		ret = edu_dev_open(&d[i], self->pick[i].bdf, fd);
		ASSERT_EQ(0, ret) TH_LOG("%s", d[i].vd.err);
		ret = dev_attach(&d[i].vd, ioas);
		ASSERT_EQ(0, ret) TH_LOG("%s", d[i].vd.err);
	}
	ASSERT_EQ(0, iommufd_pick_iova(fd, ioas, IOVA_MIN, 2 * PAGE, PAGE, &iova));
	ASSERT_EQ(0, iommufd_ioas_map(fd, ioas, self->mem.va, 2 * PAGE, &iova, true, RW));
	for (int i = 0; i < self->nedu; i++)
		ASSERT_CHECK(edu_roundtrip(&d[i], self->mem.va, iova,
					   (char *)self->mem.va + PAGE, iova + PAGE, PAGE,
					   &self->rng, ERRBUF));
	for (int i = 0; i < self->nedu; i++)
		vfio_dev_close(&d[i].vd);
	close(fd);
}

/* The full run on acpi2, a short one on the other topologies. */
static bool full_run(void)
{
	return env_topology() && !strcmp(env_topology(), "acpi2");
}

TEST_F_TIMEOUT(life, cycles, TIMEOUT)
{
	int cycles = full_run() ? CYCLES : CYCLES_OTHER;
	long leaks0, leaks1;
	uint64_t t0 = now_ms(), t;
	int c;

	leaks0 = kmemleak_count();
	for (c = 0; c < cycles; c++) {
		char when[64];

		snprintf(when, sizeof(when), "cycle %d", c + 1);
		t = now_ms();
		unload(_metadata, self);
		ASSERT_EQ(0, insmod(&self->drv)) TH_LOG("%s: insmod", when);
		ASSERT_EQ(0, sysfs_write("/sys/bus/pci/rescan", "1"));
		back(_metadata, self, when);
		dma_check(_metadata, self);
		no_reports(_metadata, self, when);
		if (c == 0 || c == cycles - 1)
			INFO("%s: remove + rmmod + insmod + rescan + DMA in %llu ms", when,
			     (unsigned long long)(now_ms() - t));
	}
	if (env_driver_ours()) {
		struct dbg_domains *dd = malloc(sizeof(*dd));

		ASSERT_NE(NULL, dd);
		ASSERT_EQ(0, dbg_domains_read(dd));
		INFO("after %d cycles: %d paging domain(s) in debugfs (the devices' "
		     "default domains)", c, dd->n);
		free(dd);
	}
	if (leaks0 < 0) {
		INFO("%d cycles in %llu s; no leak check: kmemleak unavailable (" KMEMLEAK ")",
		     c, (unsigned long long)(now_ms() - t0) / 1000);
		return;
	}
	/* kmemleak reports only objects older than 5 s. */
	sleep(6);
	leaks1 = kmemleak_count();
	INFO("%d cycles in %llu s; kmemleak unreferenced objects %ld before, %ld after",
	     c, (unsigned long long)(now_ms() - t0) / 1000, leaks0, leaks1);
	EXPECT_EQ(leaks0, leaks1) TH_LOG("kmemleak found %ld new unreferenced "
					 "object(s) (see " KMEMLEAK ")",
					 leaks1 - leaks0);
}

TEST_F_TIMEOUT(life, hwpt_outlives_devices, TIMEOUT)
{
	struct edu_dev d;
	uint32_t ioas, hwpt;
	uint64_t iova;
	int fd, ret;

	if (!env_driver_ours())
		SKIP(return, "upstream arm_smmu_v3: not tried (a HWPT kept past rmmod would "
		     "call unloaded code if the driver does not pin its module)");
	if (!self->nedu)
		SKIP(return, "no edu behind an instance");
	fd = iommufd_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, iommufd_ioas_alloc(fd, &ioas));
	ret = edu_dev_open(&d, self->pick[0].bdf, fd);
	ASSERT_EQ(0, ret) TH_LOG("%s", d.vd.err);
	ret = iommufd_hwpt_alloc(fd, d.vd.devid, ioas, 0, &hwpt);
	ASSERT_EQ(0, ret) TH_LOG("IOMMU_HWPT_ALLOC: %s", strerror(-ret));
	ASSERT_EQ(0, dev_attach(&d.vd, hwpt)) TH_LOG("%s", d.vd.err);
	ASSERT_EQ(0, iommufd_pick_iova(fd, ioas, IOVA_MIN, 2 * PAGE, PAGE, &iova));
	ASSERT_EQ(0, iommufd_ioas_map(fd, ioas, self->mem.va, 2 * PAGE, &iova, true, RW));
	ASSERT_CHECK(edu_roundtrip(&d, self->mem.va, iova, (char *)self->mem.va + PAGE,
				   iova + PAGE, PAGE, &self->rng, ERRBUF));
	vfio_dev_close(&d.vd);

	/* The HWPT lives on in the iommufd; its device and every other go. */
	{
		struct strlist now;

		strlist_init(&now);
		ASSERT_LE(0, devices_behind(&now));
		ASSERT_EQ(0, remove_all(&now));
		strlist_free(&now);
	}
	ret = rmmod(&self->drv);
	ASSERT_EQ(-EWOULDBLOCK, ret)
		TH_LOG("rmmod %s while an iommufd holds HWPT %u (a domain whose free is the "
		       "module's code): expected EWOULDBLOCK, found %s", self->drv.name,
		       hwpt, ret ? strerror(-ret) : "success: the module is gone under it");
	ASSERT_TRUE(module_loaded(&self->drv));
	/* Freeing the HWPT lets it go. */
	close(fd);
	ret = rmmod(&self->drv);
	ASSERT_EQ(0, ret) TH_LOG("rmmod after the iommufd was closed: %s", strerror(-ret));
	ASSERT_EQ(0, insmod(&self->drv));
	ASSERT_EQ(0, sysfs_write("/sys/bus/pci/rescan", "1"));
	back(_metadata, self, "after the HWPT reload");
	dma_check(_metadata, self);
	no_reports(_metadata, self, "hwpt_outlives_devices");
	INFO("rmmod refused while HWPT %u outlived its device, done once it was freed; "
	     "reload and DMA fine", hwpt);
}

/* failslab / fail_page_alloc knobs: set, and put back. */
static const char *const fi_knobs[][2] = {
	{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
	{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N" },
	{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem", "N" },
	{ "/sys/kernel/debug/fail_page_alloc/min-order", "0" },
	{ "/sys/kernel/debug/failslab/verbose", "0" },
	{ "/sys/kernel/debug/fail_page_alloc/verbose", "0" },
};
#define NKNOBS (sizeof(fi_knobs) / sizeof(fi_knobs[0]))

/* Both buses back to binding drivers by themselves. */
static void autoprobe_on(void)
{
	sysfs_write("/sys/bus/platform/drivers_autoprobe", "1");
	sysfs_write("/sys/bus/pci/drivers_autoprobe", "1");
}

/*
 * Probe SMMU platform device DEV with the N-th allocation of this task
 * failing (N = 0: none).  drivers_probe is opened before the countdown is
 * armed, so N counts from the write: its buffer, then the probe.
 * *injected: whether the failure happened.  Returns the task's fail-nth
 * count left (for N large: the points not reached), or -errno.
 */
static long probe_nth(int nthfd, const char *dev, unsigned int n, bool *injected)
{
	int fd = open("/sys/bus/platform/drivers_probe", O_WRONLY | O_CLOEXEC);
	char buf[32];
	ssize_t len;

	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%u", n);
	if (n && pwrite(nthfd, buf, len, 0) != len) {
		close(fd);
		return -errno;
	}
	/*
	 * Nothing but the probe between arming and reading back.  Its result
	 * (an errno of the probe, or success) is not looked at: the state is.
	 */
	len = write(fd, dev, strlen(dev));
	len = pread(nthfd, buf, sizeof(buf) - 1, 0);
	close(fd);
	if (len <= 0)
		return -EIO;
	buf[len] = 0;
	if (pwrite(nthfd, "0", 1, 0) != 1)
		return -errno;
	*injected = n && atoi(buf) == 0;
	return atol(buf);
}

/* Back to the module loaded, no SMMU probed, PCI devices present unbound. */
static void undo(struct __test_metadata *_metadata, FIXTURE_DATA(life) *self)
{
	unload(_metadata, self);
	ASSERT_EQ(0, sysfs_write("/sys/bus/pci/rescan", "1"));
	ASSERT_EQ(0, insmod(&self->drv));
}

/*
 * smmuv3.ko with no instance registered: no instance directory left in its
 * debugfs and no domain in "domains" (a failed probe must take back what it
 * made).  0, or -EEXIST with WHY saying what was left.
 */
static int dbg_nothing_left(char *why, size_t len)
{
	struct dbg_domains *dd = malloc(sizeof(*dd));
	struct strlist l;
	int ret = 0;

	strlist_init(&l);
	dir_list(SMMUV3_DEBUGFS, &l);
	for (int i = 0; i < l.n && !ret; i++) {
		char p[PATH_MAX];
		struct stat st;

		snprintf(p, sizeof(p), SMMUV3_DEBUGFS "/%s", l.v[i]);
		if (!stat(p, &st) && S_ISDIR(st.st_mode)) {
			snprintf(why, len, "%s is still there", p);
			ret = -EEXIST;
		}
	}
	strlist_free(&l);
	if (!ret && dd && !dbg_domains_read(dd) && dd->n) {
		snprintf(why, len, "%d domain(s) still in " SMMUV3_DEBUGFS "/domains (first %u)",
			 dd->n, dd->d[0].id);
		ret = -EEXIST;
	}
	free(dd);
	return ret;
}

/*
 * The stride of the walk: smtest.failnth_stride=S on the kernel command
 * line (make soak: 1, every point), else SMMUV3_FAILNTH_STRIDE, else POINTS
 * spread over FAILNTH_SAMPLES (acpi2 with smmuv3.ko), FAILNTH_SAMPLES_UP
 * (upstream: each point costs it about a minute) or SAMPLES_OTHER.
 */
static unsigned int failnth_stride(unsigned int points, const char **how)
{
	static const char key[] = "smtest.failnth_stride=";
	unsigned int samples;
	char cmdline[4096];
	const char *p;

	if (sysfs_read("/proc/cmdline", cmdline, sizeof(cmdline)) > 0 &&
	    (p = strstr(cmdline, key))) {
		*how = "smtest.failnth_stride";
		return strtoul(p + strlen(key), NULL, 10) ?: 1;
	}
	if ((p = getenv("SMMUV3_FAILNTH_STRIDE"))) {
		*how = "SMMUV3_FAILNTH_STRIDE";
		return strtoul(p, NULL, 10) ?: 1;
	}
	samples = !full_run() ? SAMPLES_OTHER :
		  env_driver_ours() ? FAILNTH_SAMPLES : FAILNTH_SAMPLES_UP;
	*how = "default";
	return points / samples ?: 1;
}

TEST_F_TIMEOUT(life, load_fail_nth, TIMEOUT)
{
	char old[NKNOBS][32], nth[64], when[128], why[256], leftover_s[96], missing[256];
	char first_partial[300] = "";
	unsigned int n, stride, points, walked = 0, refused = 0, survived = 0, partial = 0;
	unsigned int leftovers = 0;
	uint64_t t0 = now_ms(), seed;
	const char *how = "";
	struct strlist smmus, first;
	bool injected, done = false;
	long left, leaks0, leaks1;
	int nthfd;

	if (!path_exists(fi_knobs[0][0]) || !path_exists("/proc/self/fail-nth"))
		SKIP(return, "no failslab / fail-nth (CONFIG_FAILSLAB, "
		     "CONFIG_FAULT_INJECTION_DEBUG_FS)");
	strlist_init(&smmus);
	strlist_init(&first);
	ASSERT_LT(0, smmu_platform_devices(&smmus)) TH_LOG("no SMMU platform device");
	for (size_t k = 0; k < NKNOBS; k++) {
		old[k][0] = 0;
		if (sysfs_read(fi_knobs[k][0], old[k], sizeof(old[k])) >= 0)
			ASSERT_EQ(0, sysfs_write(fi_knobs[k][0], fi_knobs[k][1]));
	}
	snprintf(nth, sizeof(nth), "/proc/self/task/%ld/fail-nth", (long)syscall(SYS_gettid));
	nthfd = open(nth, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, nthfd) TH_LOG("%s: %s", nth, strerror(errno));
	leaks0 = kmemleak_count();

	/*
	 * The module loaded with neither bus binding by itself: the PCI
	 * devices present and unbound, no SMMU probed.
	 */
	unload(_metadata, self);
	ASSERT_EQ(0, sysfs_write("/sys/bus/pci/drivers_autoprobe", "0"));
	ASSERT_EQ(0, sysfs_write("/sys/bus/platform/drivers_autoprobe", "0"));
	ASSERT_EQ(0, sysfs_write("/sys/bus/pci/rescan", "1"));
	ASSERT_EQ(0, insmod(&self->drv));

	/* How many allocation points a whole probe of the first SMMU has. */
	left = probe_nth(nthfd, smmus.v[0], 1U << 30, &injected);
	ASSERT_LT(0, left);
	points = (1U << 30) - left;
	ASSERT_LT(0, count_instances()) TH_LOG("%s did not probe", smmus.v[0]);
	/* The devices behind it: in a group now (the others' SMMUs are not probed). */
	ASSERT_LT(0, devices_behind(&first)) TH_LOG("no PCI device behind %s", smmus.v[0]);
	undo(_metadata, self);

	/*
	 * N = 1, 2, ... (every STRIDE-th from a seeded offset) until a probe
	 * reaches no N-th allocation.  A probe that registered nothing costs
	 * nothing more; one that registered the instance anyway (the failed
	 * allocation was optional, or in the bus probe of one of its devices)
	 * an unload and a reload.
	 */
	stride = failnth_stride(points, &how);
	seed = getenv("SMMUV3_FAILNTH_SEED") ? strtoull(getenv("SMMUV3_FAILNTH_SEED"), NULL, 0) :
					       prng_time_seed();
	for (n = 1 + seed % stride; n < FAILNTH_MAX; n += stride) {
		if (count_instances())
			undo(_metadata, self);
		left = probe_nth(nthfd, smmus.v[0], n, &injected);
		ASSERT_LE(0, left);
		snprintf(when, sizeof(when), "probe of %s with allocation %u failed", smmus.v[0],
			 n);
		no_reports(_metadata, self, when);
		if (!injected) {
			done = true;
			break;
		}
		walked++;
		if (count_instances()) {
			survived++;
			/*
			 * The bus probe ran inside the write: no waiting.  A
			 * device left without a group runs with no translation
			 * set up: the driver must have probed it again.
			 */
			if (groups_missing(&first, missing, sizeof(missing))) {
				if (!partial++)
					snprintf(first_partial, sizeof(first_partial),
						 "N = %u: %s", n, missing);
			}
			continue;
		}
		refused++;
		if (env_driver_ours() && dbg_nothing_left(why, sizeof(why)) &&
		    leftovers++ < 3)
			INFO("%s and registered no instance, yet %s", when, why);
	}
	close(nthfd);
	for (size_t k = 0; k < NKNOBS; k++)
		if (old[k][0])
			sysfs_write(fi_knobs[k][0], old[k]);
	/* The first SMMU probed without a failure; the others now. */
	for (int i = 1; i < smmus.n; i++)
		sysfs_write("/sys/bus/platform/drivers_probe", smmus.v[i]);
	if (!done)
		autoprobe_on();
	ASSERT_TRUE(done) TH_LOG("still injecting at N=%u (bound %u)", n, FAILNTH_MAX);
	back(_metadata, self, "the probes without injection");
	autoprobe_on();
	for (int i = 0; i < self->devs.n; i++)
		sysfs_write("/sys/bus/pci/drivers_probe", self->devs.v[i]);
	dma_check(_metadata, self);
	no_reports(_metadata, self, "after the fail-nth probes");
	/* kmemleak reports only objects older than 5 s. */
	sleep(6);
	leaks1 = kmemleak_count();
	if (env_driver_ours())
		snprintf(leftover_s, sizeof(leftover_s), "%u of them left smmuv3 debugfs entries",
			 leftovers);
	else
		snprintf(leftover_s, sizeof(leftover_s), "debugfs not checked: driver %s",
			 env_driver() ?: "?");
	INFO("fail-nth over the probe of %s (%u allocation points, %d PCI device(s) "
	     "present, %d behind it): %u points walked, every %u (%s) from N = 1 + (seed "
	     "0x%llx %% %u): %u registered nothing (%s), %u registered the instance anyway "
	     "(%u of them short of a group); N = %u hit nothing; kmemleak unreferenced "
	     "objects %ld before, %ld after; %llu s", smmus.v[0], points, self->devs.n,
	     first.n, walked, stride,
	     how, (unsigned long long)seed, stride, refused, leftover_s, survived,
	     partial, n, leaks0, leaks1, (unsigned long long)(now_ms() - t0) / 1000);
	/*
	 * The iommu core's bus probe drops a device whose probe failed (its
	 * own allocation or the driver's) without failing the registration;
	 * smmuv3.ko probes such devices again (module/iommu_register.c), the
	 * in-tree driver does not: shown, not failed, there.
	 */
	if (env_driver_ours()) {
		EXPECT_EQ(0, partial) TH_LOG("%u probe(s) registered the instance and left "
					     "PCI devices behind it without an IOMMU group "
					     "(first %s)", partial, first_partial);
	} else if (partial) {
		INFO("driver %s: %u probe(s) registered the instance and left PCI devices "
		     "without an IOMMU group (first %s): not failed, the iommu core drops a "
		     "device whose probe failed and this driver does not probe it again",
		     env_driver() ?: "?", partial, first_partial);
	}
	EXPECT_EQ(0, leftovers) TH_LOG("%u failed probe(s) left smmuv3 debugfs entries "
				       "(the first above)", leftovers);
	if (leaks0 >= 0)
		EXPECT_EQ(leaks0, leaks1) TH_LOG("kmemleak found %ld new unreferenced "
						 "object(s) (see " KMEMLEAK ")",
						 leaks1 - leaks0);
	strlist_free(&first);
	strlist_free(&smmus);
}

TEST_HARNESS_MAIN
