// SPDX-License-Identifier: GPL-2.0-only
/*
 * smmuv3_dpdk: DPDK, a user-space driver over VFIO, on the program users
 * run: Debian's dpdk-testpmd (DPDK 24.11, its igb PMD) forwarding between
 * two Intel 82576 ports (QEMU's igb), one behind each of two SMMU
 * instances, both joined by a QEMU hub.  DPDK puts both VFIO groups in one
 * container (VFIO type1, its default), so with our driver type1 gets one
 * domain for both instances.
 *
 * Each variant runs testpmd once: EAL IOVA mode VA or PA, memory from
 * 2 MiB hugepages (hugetlbfs) or from anonymous memory (--no-huge):
 *  - testpmd -i --forward-mode=io, "start tx_first" (each port sends one
 *    burst of BURST packets, then each packet received on one port is
 *    sent on the other, for FWD_SECONDS), "stop", "show port stats all",
 *    "quit".  testpmd must report both ports (their MAC addresses), exit
 *    0, and the NIC counters must show every packet one port sent counted
 *    as received by the other (RX-packets of one = TX-packets of the
 *    other, nothing missed, no errors), at least MIN_PACKETS each way.
 *  - while testpmd runs: the kernel's iommu:map trace events of the run
 *    (driver-agnostic: VFIO type1 calls iommu_map() once per domain for
 *    each chunk it maps) give the number of domains type1 mapped DPDK's
 *    memory into: bytes mapped / bytes of IOVA space covered.  With our
 *    driver 1, with the kernel's arm-smmu-v3 one per instance (it refuses
 *    a domain of another instance, so type1 makes a second one);
 *  - with our driver, from its debugfs: exactly one paging domain is new,
 *    with a live tag on each igb's instance (one page table, a tag per
 *    instance); once testpmd has quit, it is gone.
 * DPDK refuses IOVA=PA without hugepages (EAL: no physical addresses to
 * use): that variant checks the refusal and skips, saying so.
 *
 * Skipped, saying why, without dpdk-testpmd in the guest or without igbs
 * behind two instances.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "debugfs.h"
#include "env.h"
#include "iotrace.h"
#include "sysfs.h"

#define TESTPMD		"/usr/bin/dpdk-testpmd"
#define DPDK_LIBDIR	"/usr/lib/aarch64-linux-gnu"
#define PCI_VENDOR_INTEL	0x8086
#define PCI_DEVICE_82576	0x10c9	/* QEMU's igb */
#define HUGE_DIR	"/dev/hugepages"
#define NR_HUGEPAGES	"/proc/sys/vm/nr_hugepages"
#define HUGEPAGES	96		/* 2 MiB each */
#define HUGEPAGES_STR	"96"
#define NOHUGE_MB	"64"		/* EAL -m with --no-huge */
/*
 * Descriptors per ring and mbufs: 2 ports x (256 RX + 256 TX) + mempool
 * caches (250 per lcore) + bursts in flight fit with room to spare; with
 * too few the PMD cannot refill its RX ring and counts RX-nombuf instead.
 */
#define DESCS		"256"
#define MBUFS		"4096"
#define BURST		32
#define FWD_SECONDS	5
#define MIN_PACKETS	1000
#define START_TIMEOUT	300		/* s, EAL init and port start under TCG */
#define CMD_TIMEOUT	120
#define OUT_MAX		(1 << 20)
#define TRACE_KB	"16384"		/* per-CPU trace buffer during the run */
#define PROMPT		"testpmd> "
/* rte_eal_init()'s refusal of IOVA as PA without physical addresses. */
#define PA_REFUSED	"Cannot use IOVA as 'PA' since physical addresses are not available"

/* QEMU's igb i has MAC 52:54:00:5d:00:0i (qemu/boot.py). */
static const char *const port_mac[2] = { "52:54:00:5D:00:00", "52:54:00:5D:00:01" };

struct port_stats {
	bool found;
	uint64_t rx, missed, rx_err, nombuf, tx, tx_err;
};

struct testpmd {
	pid_t pid;
	int in, out;		/* its stdin, its stdout and stderr */
	char *buf;		/* all it printed */
	size_t len;
	bool eof;
	int status;
};

FIXTURE(dpdk)
{
	char bdf[2][32];
	char inst[2][64];
	char prev[2][64];	/* drivers before the test */
	bool bound[2];
	bool ours;
	bool huge_mounted;
	bool dir_made;
	uint64_t nr_huge0;
	bool huge_set;
	mode_t root_mode;	/* of "/", if the test changed it */
	struct dbg_domains *dd0, *dd;
	struct iotrace trace;
	bool traced;
	char trace_kb0[32];
	struct testpmd t;
};

FIXTURE_VARIANT(dpdk)
{
	const char *iova;	/* --iova-mode */
	bool huge;
};

FIXTURE_VARIANT_ADD(dpdk, huge_va) { .iova = "va", .huge = true };
FIXTURE_VARIANT_ADD(dpdk, huge_pa) { .iova = "pa", .huge = true };
FIXTURE_VARIANT_ADD(dpdk, nohuge_va) { .iova = "va", .huge = false };
FIXTURE_VARIANT_ADD(dpdk, nohuge_pa) { .iova = "pa", .huge = false };

#define T struct __test_metadata *_metadata, \
	FIXTURE_DATA(dpdk) *self __attribute__((unused))
#define TA _metadata, self

/* ---- testpmd as a child with pipes -------------------------------------- */

static int tp_start(struct testpmd *t, char *const argv[])
{
	int in[2], out[2];

	memset(t, 0, sizeof(*t));
	t->pid = -1;
	t->buf = calloc(1, OUT_MAX + 1);
	if (!t->buf || pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		return -errno ?: -ENOMEM;
	t->pid = fork();
	if (t->pid < 0)
		return -errno;
	if (t->pid == 0) {
		static char *const envp[] = { "LD_LIBRARY_PATH=" DPDK_LIBDIR,
					      "PATH=/bin:/usr/bin", "HOME=/", NULL };

		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	t->in = in[1];
	t->out = out[0];
	return 0;
}

/* Read what testpmd printed for up to MS milliseconds (until EOF). */
static void tp_read(struct testpmd *t, int ms)
{
	struct pollfd p = { .fd = t->out, .events = POLLIN };
	ssize_t n;

	if (t->eof || poll(&p, 1, ms) <= 0)
		return;
	n = read(t->out, t->buf + t->len, OUT_MAX - t->len);
	if (n <= 0) {
		t->eof = true;
		return;
	}
	t->len += n;
	t->buf[t->len] = '\0';
}

/*
 * Wait up to TIMEOUT seconds for WHAT in the output after offset FROM.
 * Returns 0, -EPIPE (testpmd ended first) or -ETIMEDOUT.
 */
static int tp_wait(struct testpmd *t, size_t from, const char *what, int timeout)
{
	uint64_t end = now_ms() + timeout * 1000ull;

	for (;;) {
		if (from <= t->len && strstr(t->buf + from, what))
			return 0;
		if (t->eof)
			return -EPIPE;
		if (now_ms() >= end)
			return -ETIMEDOUT;
		tp_read(t, 200);
	}
}

/* Send CMD and wait for the next prompt.  0 or -errno. */
static int tp_cmd(struct testpmd *t, const char *cmd)
{
	size_t from = t->len;
	char line[128];
	int n = snprintf(line, sizeof(line), "%s\n", cmd);

	if (write(t->in, line, n) != n)
		return -errno ?: -EIO;
	return tp_wait(t, from, PROMPT, CMD_TIMEOUT);
}

/* Close its stdin (testpmd quits at EOF too), wait for its exit. */
static void tp_end(struct testpmd *t, int timeout)
{
	uint64_t end = now_ms() + timeout * 1000ull;
	int st;

	if (t->pid <= 0)
		return;
	if (t->in > 0)
		close(t->in);
	t->in = -1;
	while (!t->eof && now_ms() < end)
		tp_read(t, 200);
	if (!t->eof)
		kill(t->pid, SIGKILL);
	if (waitpid(t->pid, &st, 0) == t->pid)
		t->status = st;
	t->pid = -1;
	close(t->out);
}

/* The output as TAP comment lines. */
static void tp_print(const struct testpmd *t)
{
	const char *p = t->buf;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		int n = nl ? (int)(nl - p) : (int)strlen(p);

		if (n && p[n - 1] == '\r')
			n--;
		printf("# testpmd| %.*s\n", n, p);
		p = nl ? nl + 1 : NULL;
	}
	fflush(stdout);
}

static uint64_t field(const char *block, const char *key, bool *ok)
{
	const char *p = strstr(block, key);

	if (!p) {
		*ok = false;
		return 0;
	}
	return strtoull(p + strlen(key), NULL, 10);
}

/*
 * The last "show port stats" block of PORT in BUF (testpmd's
 * nic_stats_display(): "RX-packets: N RX-missed: N RX-bytes: N",
 * "RX-errors: N", "RX-nombuf: N", "TX-packets: N TX-errors: N ...").
 */
static struct port_stats port_stats(const char *buf, int port)
{
	struct port_stats s = { 0 };
	char head[64], *blk, *end;
	const char *p, *last = NULL;
	bool ok = true;

	snprintf(head, sizeof(head), "NIC statistics for port %d ", port);
	for (p = strstr(buf, head); p; p = strstr(p + 1, head))
		last = p;
	if (!last)
		return s;
	blk = strdup(last);
	if (!blk)
		return s;
	end = strstr(blk + strlen(head), "NIC statistics for port");
	if (end)
		*end = '\0';
	end = strstr(blk, "Throughput");
	if (end)
		*end = '\0';
	s.rx = field(blk, "RX-packets:", &ok);
	s.missed = field(blk, "RX-missed:", &ok);
	s.rx_err = field(blk, "RX-errors:", &ok);
	s.nombuf = field(blk, "RX-nombuf:", &ok);
	s.tx = field(blk, "TX-packets:", &ok);
	s.tx_err = field(blk, "TX-errors:", &ok);
	s.found = ok;
	free(blk);
	return s;
}

/* ---- iommu:map events: how many domains type1 mapped into --------------- */

struct range {
	uint64_t a, b;
};

static int cmp_range(const void *x, const void *y)
{
	const struct range *r = x, *s = y;

	return r->a < s->a ? -1 : r->a > s->a;
}

/*
 * Over the map events in the trace: *maps events, *bytes mapped, *cover
 * bytes of IOVA space they cover (their union); *unmaps unmap events.
 * 0 or -errno.
 */
static int trace_maps(const struct iotrace *t, uint64_t *maps, uint64_t *bytes,
		      uint64_t *cover, uint64_t *unmaps)
{
	char p[128], line[512];
	struct range *r = NULL;
	size_t n = 0, cap = 0;
	FILE *f;

	*maps = *bytes = *cover = *unmaps = 0;
	snprintf(p, sizeof(p), "%s/trace", t->dir);
	f = fopen(p, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a, b, pa, sz;
		const char *m;

		if (line[0] == '#')
			continue;
		if (strstr(line, " unmap: IOMMU:")) {
			(*unmaps)++;
			continue;
		}
		m = strstr(line, " map: IOMMU: iova=");
		if (!m || sscanf(m, " map: IOMMU: iova=%llx - %llx paddr=%llx size=%llu",
				 &a, &b, &pa, &sz) != 4)
			continue;
		if (n == cap) {
			struct range *nr = realloc(r, (cap = cap ? 2 * cap : 1024) * sizeof(*r));

			if (!nr) {
				free(r);
				fclose(f);
				return -ENOMEM;
			}
			r = nr;
		}
		r[n].a = a;
		r[n++].b = a + sz;
		(*maps)++;
		*bytes += sz;
	}
	fclose(f);
	qsort(r, n, sizeof(*r), cmp_range);
	for (size_t i = 0; i < n;) {
		uint64_t a = r[i].a, b = r[i].b;

		for (i++; i < n && r[i].a <= b; i++)
			if (r[i].b > b)
				b = r[i].b;
		*cover += b - a;
	}
	free(r);
	return 0;
}

/* Entries lost to a full trace buffer (the "overrun" of each CPU's stats). */
static uint64_t trace_overruns(const struct iotrace *t)
{
	uint64_t sum = 0;

	for (int cpu = 0; cpu < 64; cpu++) {
		char p[128], line[128];
		FILE *f;

		snprintf(p, sizeof(p), "%s/per_cpu/cpu%d/stats", t->dir, cpu);
		f = fopen(p, "re");
		if (!f)
			break;
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "overrun: ", 9))
				sum += strtoull(line + 9, NULL, 10);
		fclose(f);
	}
	return sum;
}

/* ---- setup ------------------------------------------------------------- */

static void hugepages(T)
{
	uint64_t got = 0;
	int ret;

	if (!path_exists(HUGE_DIR)) {
		ASSERT_EQ(0, mkdir(HUGE_DIR, 0755)) TH_LOG("mkdir %s: %s", HUGE_DIR,
							  strerror(errno));
		self->dir_made = true;
	}
	ASSERT_EQ(0, mount("nodev", HUGE_DIR, "hugetlbfs", 0, "pagesize=2M"))
		TH_LOG("mount hugetlbfs on %s: %s (CONFIG_HUGETLBFS?)", HUGE_DIR,
		       strerror(errno));
	self->huge_mounted = true;
	ASSERT_EQ(0, sysfs_read_u64(NR_HUGEPAGES, &self->nr_huge0));
	ret = sysfs_writef(HUGEPAGES_STR, "%s", NR_HUGEPAGES);
	self->huge_set = true;
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", NR_HUGEPAGES, strerror(-ret));
	ASSERT_EQ(0, sysfs_read_u64(NR_HUGEPAGES, &got));
	ASSERT_EQ(HUGEPAGES, got) TH_LOG("only %llu of %d 2 MiB hugepages could be reserved",
					 (unsigned long long)got, HUGEPAGES);
}

FIXTURE_SETUP(dpdk)
{
	struct strlist igbs;
	char err[256];
	int n = 0, ret;

	self->t.pid = -1;
	signal(SIGPIPE, SIG_IGN);	/* a testpmd that died: EPIPE, not a kill */
	if (access(TESTPMD, X_OK))
		SKIP(return, "no %s in this guest (the acpi2-dpdk topology's initramfs has it)",
		     TESTPMD);
	strlist_init(&igbs);
	pci_find(PCI_VENDOR_INTEL, PCI_DEVICE_82576, &igbs);
	for (int i = 0; i < igbs.n && n < 2; i++) {
		char inst[64];

		if (pci_iommu_instance(igbs.v[i], inst, sizeof(inst)))
			continue;
		if (n == 1 && !strcmp(inst, self->inst[0]))
			continue;
		snprintf(self->bdf[n], sizeof(self->bdf[n]), "%s", igbs.v[i]);
		snprintf(self->inst[n], sizeof(self->inst[n]), "%s", inst);
		n++;
	}
	strlist_free(&igbs);
	if (n < 2)
		SKIP(return, "needs igbs (8086:10c9) behind two different SMMU instances, found %d",
		     n);
	self->ours = DRIVER_OURS_CHECKED();
	for (int i = 0; i < 2; i++) {
		pci_driver(self->bdf[i], self->prev[i], sizeof(self->prev[i]));
		ret = pci_bind(self->bdf[i], "vfio-pci");
		ASSERT_EQ(0, ret) TH_LOG("binding %s to vfio-pci: %s", self->bdf[i],
					 strerror(-ret));
		self->bound[i] = true;
	}
	mkdir("/var", 0755);
	mkdir("/var/run", 0755);	/* EAL's runtime directory's parent */
	/*
	 * EAL loads no plugin (PMD) from a directory that is, or has a parent
	 * that is, world-writable, as the initramfs's root is.
	 */
	{
		struct stat rs;

		if (!stat("/", &rs) && (rs.st_mode & S_IWOTH)) {
			ASSERT_EQ(0, chmod("/", 0755));
			self->root_mode = rs.st_mode & 07777;
		}
	}
	if (variant->huge)
		hugepages(TA);
	if (self->ours) {
		self->dd0 = calloc(1, sizeof(*self->dd0));
		self->dd = calloc(1, sizeof(*self->dd));
		ASSERT_TRUE(self->dd0 && self->dd);
		ret = dbg_domains_read(self->dd0);
		ASSERT_EQ(0, ret) TH_LOG("reading domains: %s", strerror(-ret));
	}
	ret = iotrace_start(&self->trace, err, sizeof(err));
	ASSERT_EQ(0, ret) TH_LOG("%s", err);
	self->traced = true;
	sysfs_readf(self->trace_kb0, sizeof(self->trace_kb0), "%s/buffer_size_kb",
		    self->trace.dir);
	sysfs_writef(TRACE_KB, "%s/buffer_size_kb", self->trace.dir);
	iotrace_clear(&self->trace);
	INFO("igb %s behind %s, igb %s behind %s; driver %s; IOVA %s, %s", self->bdf[0],
	     self->inst[0], self->bdf[1], self->inst[1], self->ours ? "ours" : env_driver() ?: "?",
	     variant->iova, variant->huge ? "2 MiB hugepages" : "--no-huge");
}

FIXTURE_TEARDOWN(dpdk)
{
	tp_end(&self->t, 30);
	free(self->t.buf);
	if (self->traced) {
		if (self->trace_kb0[0])
			sysfs_writef(self->trace_kb0, "%s/buffer_size_kb", self->trace.dir);
		iotrace_stop(&self->trace);
	}
	if (self->root_mode)
		chmod("/", self->root_mode);
	if (self->huge_mounted)
		umount(HUGE_DIR);
	if (self->dir_made)
		rmdir(HUGE_DIR);
	if (self->huge_set)
		sysfs_writef("0", "%s", NR_HUGEPAGES);
	for (int i = 0; i < 2; i++)
		if (self->bound[i])
			pci_bind(self->bdf[i], self->prev[i]);
	free(self->dd0);
	free(self->dd);
}

/* (ours) The one new domain, with a live tag on each igb's instance. */
static void one_domain(T)
{
	char buf[512];
	int ret, fresh = 0;
	const struct dbg_domain *d = NULL;

	ret = dbg_domains_read(self->dd);
	ASSERT_EQ(0, ret) TH_LOG("reading domains: %s", strerror(-ret));
	for (int i = 0; i < self->dd->n; i++) {
		if (dbg_domain_find(self->dd0, self->dd->d[i].id))
			continue;
		INFO("new domain while testpmd runs: %s",
		     dbg_domain_str(&self->dd->d[i], buf, sizeof(buf)));
		d = &self->dd->d[i];
		fresh++;
	}
	EXPECT_EQ(1, fresh) TH_LOG("type1 made %d domains for the two igbs, expected one "
				   "domain for both instances", fresh);
	if (fresh != 1)
		return;
	for (int i = 0; i < 2; i++) {
		EXPECT_EQ(1, dbg_domain_live(d, self->inst[i], -1, NULL))
			TH_LOG("domain %u: live entries on %s (igb %s): expected one tag",
			       d->id, self->inst[i], self->bdf[i]);
	}
	EXPECT_EQ(2, d->num) TH_LOG("domain %u has %u entries, expected one per instance",
				    d->id, d->num);
}

/* (ours) After testpmd quit: no domain of the run left. */
static void domains_gone(T)
{
	char buf[512];
	int ret;

	ret = dbg_domains_read(self->dd);
	ASSERT_EQ(0, ret) TH_LOG("reading domains: %s", strerror(-ret));
	for (int i = 0; i < self->dd->n; i++) {
		EXPECT_TRUE(dbg_domain_find(self->dd0, self->dd->d[i].id))
			TH_LOG("left after testpmd quit: %s",
			       dbg_domain_str(&self->dd->d[i], buf, sizeof(buf)));
	}
}

TEST_F_TIMEOUT(dpdk, forward, 900)
{
	char *argv[40];
	int a = 0, ret;
	size_t at;
	uint64_t maps, bytes, cover, unmaps, over, t0 = now_ms();
	struct port_stats st[2];

	argv[a++] = TESTPMD;
	argv[a++] = "-l";
	argv[a++] = "0-1";
	/*
	 * No shared files, so no multi-process channel, and no telemetry
	 * socket: no AF_UNIX needed (the debug guest kernel has no networking).
	 */
	argv[a++] = "--no-telemetry";
	argv[a++] = variant->iova[0] == 'v' ? "--iova-mode=va" : "--iova-mode=pa";
	if (variant->huge) {
		argv[a++] = "--in-memory";
		argv[a++] = "--huge-dir=" HUGE_DIR;
	} else {
		/* --no-huge is legacy memory, which --in-memory refuses. */
		argv[a++] = "--no-shconf";
		argv[a++] = "--no-huge";
		argv[a++] = "-m";
		argv[a++] = NOHUGE_MB;
	}
	argv[a++] = "-a";
	argv[a++] = self->bdf[0];
	argv[a++] = "-a";
	argv[a++] = self->bdf[1];
	argv[a++] = "--";
	argv[a++] = "-i";
	argv[a++] = "--forward-mode=io";
	argv[a++] = "--nb-cores=1";
	argv[a++] = "--total-num-mbufs=" MBUFS;
	argv[a++] = "--burst=32";
	argv[a++] = "--rxd=" DESCS;
	argv[a++] = "--txd=" DESCS;
	argv[a++] = NULL;

	ret = tp_start(&self->t, argv);
	ASSERT_EQ(0, ret) TH_LOG("starting %s: %s", TESTPMD, strerror(-ret));
	ret = tp_wait(&self->t, 0, PROMPT, START_TIMEOUT);
	if (ret && !variant->huge && variant->iova[0] == 'p' &&
	    tp_wait(&self->t, 0, PA_REFUSED, 0) == 0) {
		tp_end(&self->t, 30);
		tp_print(&self->t);
		ASSERT_TRUE(WIFEXITED(self->t.status) && WEXITSTATUS(self->t.status))
			TH_LOG("testpmd said \"%s\" but did not fail", PA_REFUSED);
		SKIP(return, "DPDK refuses IOVA as PA without hugepages: EAL \"%s\"",
		     PA_REFUSED);
	}
	if (ret) {
		tp_end(&self->t, 30);
		tp_print(&self->t);
	}
	ASSERT_EQ(0, ret) TH_LOG("no testpmd prompt after %d s: %s", START_TIMEOUT,
				 ret == -EPIPE ? "it ended" : "timed out");
	INFO("testpmd up in %.1f s", (now_ms() - t0) / 1000.0);
	for (int i = 0; i < 2; i++) {
		EXPECT_TRUE(strstr(self->t.buf, port_mac[i]))
			TH_LOG("testpmd does not show port %s (igb %s)", port_mac[i],
			       self->bdf[i]);
	}

	/* Both groups are in the container, DPDK's memory mapped. */
	if (self->ours)
		one_domain(TA);
	ret = trace_maps(&self->trace, &maps, &bytes, &cover, &unmaps);
	EXPECT_EQ(0, ret) TH_LOG("reading the trace: %s", strerror(-ret));
	over = trace_overruns(&self->trace);
	INFO("iommu:map events: %llu maps of %llu bytes covering %llu bytes of IOVA space, "
	     "%llu unmaps, %llu overruns", (unsigned long long)maps,
	     (unsigned long long)bytes, (unsigned long long)cover,
	     (unsigned long long)unmaps, (unsigned long long)over);
	EXPECT_EQ(0, over) TH_LOG("the trace buffer overflowed: the map count is partial");
	EXPECT_NE(0, cover) TH_LOG("no iommu:map event while DPDK mapped its memory");
	if (cover) {
		int want = self->ours ? 1 : 2;

		EXPECT_EQ(0, bytes % cover) TH_LOG("mapped bytes are not a multiple of the "
						   "IOVA space covered");
		INFO("type1 mapped DPDK's memory into %llu domain(s)",
		     (unsigned long long)(bytes / cover));
		EXPECT_EQ(want, bytes / cover)
			TH_LOG("type1 mapped into %llu domains, expected %d (%s)",
			       (unsigned long long)(bytes / cover), want, self->ours ?
			       "ours: one domain takes both instances" :
			       "upstream refuses a domain of another instance: one per instance");
	}

	ret = tp_cmd(&self->t, "start tx_first");
	EXPECT_EQ(0, ret) TH_LOG("start tx_first: %s", strerror(-ret));
	t0 = now_ms();
	while (now_ms() - t0 < FWD_SECONDS * 1000ull && !self->t.eof)
		tp_read(&self->t, 200);
	ret = tp_cmd(&self->t, "stop");
	EXPECT_EQ(0, ret) TH_LOG("stop: %s", strerror(-ret));
	at = self->t.len;
	ret = tp_cmd(&self->t, "show port stats all");
	EXPECT_EQ(0, ret) TH_LOG("show port stats all: %s", strerror(-ret));
	tp_end(&self->t, 60);
	tp_print(&self->t);
	/*
	 * testpmd's stdout is a pipe, fully buffered: what a command prints
	 * may come after the next prompt, which the command line library
	 * writes directly.  All of it is there once testpmd has exited.
	 */
	for (int i = 0; i < 2; i++)
		st[i] = port_stats(self->t.buf + at, i);
	EXPECT_TRUE(WIFEXITED(self->t.status) && WEXITSTATUS(self->t.status) == 0)
		TH_LOG("testpmd did not exit cleanly (status 0x%x)", self->t.status);

	for (int i = 0; i < 2; i++) {
		int o = 1 - i;

		ASSERT_TRUE(st[i].found) TH_LOG("no stats of port %d in testpmd's output", i);
		INFO("port %d (%s): TX %llu, port %d (%s): RX %llu missed %llu; errors rx %llu "
		     "tx %llu, nombuf %llu", i, self->bdf[i], (unsigned long long)st[i].tx, o,
		     self->bdf[o], (unsigned long long)st[o].rx,
		     (unsigned long long)st[o].missed, (unsigned long long)st[o].rx_err,
		     (unsigned long long)st[i].tx_err, (unsigned long long)st[o].nombuf);
		EXPECT_LE(MIN_PACKETS, st[i].tx) TH_LOG("port %d sent %llu packets in %d s", i,
							(unsigned long long)st[i].tx, FWD_SECONDS);
		EXPECT_EQ(st[i].tx, st[o].rx) TH_LOG("port %d sent %llu, port %d received %llu",
						     i, (unsigned long long)st[i].tx, o,
						     (unsigned long long)st[o].rx);
		EXPECT_EQ(0, st[o].missed);
		EXPECT_EQ(0, st[o].rx_err);
		EXPECT_EQ(0, st[i].tx_err);
		EXPECT_EQ(0, st[o].nombuf) TH_LOG("port %d: RX-nombuf %llu: the mempool ran dry",
						  o, (unsigned long long)st[o].nombuf);
	}
	if (self->ours)
		domains_gone(TA);
}

TEST_HARNESS_MAIN
