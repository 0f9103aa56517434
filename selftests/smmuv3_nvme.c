// SPDX-License-Identifier: GPL-2.0-only
/*
 * smmuv3_nvme: NVMe controllers behind the IOMMU instances, driven by the
 * kernel's nvme driver through a translating DMA domain.  The nvme driver
 * maps its requests with the DMA API's IOVA interface (one IOVA range
 * allocated per request, its pages linked into it, one sync), a path the
 * virtio-blk tests never take.
 *
 * For each of the group types "DMA" (strict: every unmap invalidates) and
 * "DMA-FQ" (unmaps invalidated in batches from a flush queue):
 *  - every NVMe controller (PCI class 01:08:02) behind an instance has its
 *    group switched to the type (unbind nvme, write the type, rebind) and
 *    its namespace's block device must come back;
 *  - JOBS threads per controller, all controllers at once, each write a
 *    pseudo-random pattern with O_DIRECT to a region of their own, in
 *    requests of 4 KiB to 512 KiB, sync, drop caches, read it back with
 *    O_DIRECT and compare: every byte must match;
 *  - the group type is restored, also after a failure.
 *
 * The controllers must sit behind as many instances as the topology has
 * (SMMUV3_EXPECT_INSTANCES).  With our driver (SMMUV3_DRIVER=ours), from its
 * debugfs: each switched group got a new domain with a live stage-1 ASID
 * entry on the controller's instance; in the strict domain the I/O issued
 * TLBI commands on that instance; in the flush-queue domain ASID-wide
 * invalidations (the queue's flush of the whole domain, the IOMMU API's
 * flush_iotlb_all); the domain is gone once the group is switched back.
 * Throughput is printed, never asserted.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "blk.h"
#include "debugfs.h"
#include "env.h"
#include "mem.h"
#include "sysfs.h"

#define NVME_CLASS	0x010802	/* mass storage, NVM, NVM Express */
#define MAX_CTRL	8
#define JOBS		4		/* threads per controller */
#define JOB_MAX		(2u << 20)	/* bytes per thread */
#define NS_TIMEOUT_MS	60000		/* namespace back after the rebind */
#define NVME_TIMEOUT	600

/*
 * Request sizes: one page (a single segment), then multi-page requests up
 * to QEMU's default maximum transfer (MDTS 7: 128 pages).
 */
static const size_t job_chunk[JOBS] = { 4u << 10, 64u << 10, 128u << 10, 512u << 10 };

struct ctrl {
	char bdf[32];
	char inst[128];
	char dev[32];		/* namespace block device, "nvmeXnY" */
	int group;
	char from[32];		/* group type before the test */
	bool switched;
	unsigned int dom;	/* our domain for the group, 0 if unknown */
	uint64_t tlbi0, asid0;
};

struct job {
	const struct ctrl *c;
	size_t off, len, chunk;
	uint64_t seed;
	struct blk_result res;
	int ret;
	char err[256];
};

FIXTURE(nvme)
{
	struct ctrl c[MAX_CTRL];
	int n;
	bool ours;
	struct dbg_domains *dd0, *dd;
};

FIXTURE_VARIANT(nvme)
{
	const char *type;
	bool strict;
};

FIXTURE_VARIANT_ADD(nvme, strict)
{
	.type = "DMA",
	.strict = true,
};

FIXTURE_VARIANT_ADD(nvme, lazy)
{
	.type = "DMA-FQ",
	.strict = false,
};

/* NVMe controllers (by PCI class) behind an IOMMU instance, sorted. */
static int nvme_ctrls(struct strlist *out, int *none)
{
	struct strlist all, nvme;
	int ret;

	strlist_init(&all);
	strlist_init(&nvme);
	ret = pci_find(PCI_ANY_ID16, PCI_ANY_ID16, &all);
	for (int i = 0; ret >= 0 && i < all.n; i++) {
		char path[PATH_MAX];
		uint64_t class;

		snprintf(path, sizeof(path), SYSFS_PCI_DEVICES "/%s/class", all.v[i]);
		if (!sysfs_read_u64(path, &class) && class == NVME_CLASS)
			ret = strlist_add(&nvme, all.v[i]);
	}
	if (ret >= 0)
		ret = pci_behind_iommu(&nvme, out, none);
	strlist_free(&all);
	strlist_free(&nvme);
	return ret;
}

/*
 * The namespace block device of controller BDF: the /sys/block entry
 * "nvme*" whose device path runs through BDF.  Waits for it (the driver
 * probes the controller asynchronously) and for its /dev node.
 */
static int nvme_blockdev(const char *bdf, char *buf, size_t len, int timeout_ms)
{
	char needle[64], path[PATH_MAX], real[PATH_MAX];
	uint64_t t0 = now_ms();
	struct strlist ents;

	snprintf(needle, sizeof(needle), "/%s/", bdf);
	do {
		strlist_init(&ents);
		dir_list("/sys/block", &ents);
		for (int i = 0; i < ents.n; i++) {
			if (strncmp(ents.v[i], "nvme", 4))
				continue;
			snprintf(path, sizeof(path), "/sys/block/%s", ents.v[i]);
			if (!realpath(path, real) || !strstr(real, needle))
				continue;
			snprintf(buf, len, "%s", ents.v[i]);
			strlist_free(&ents);
			snprintf(path, sizeof(path), "/dev/%s", buf);
			return wait_for_path(path, 5000);
		}
		strlist_free(&ents);
		usleep(50000);
	} while (now_ms() - t0 < (uint64_t)timeout_ms);
	return -ENOENT;
}

static void *job_run(void *arg)
{
	struct job *j = arg;
	struct prng rng;

	prng_seed(&rng, j->seed);
	j->ret = blk_pattern_cycle(j->c->dev, j->off, j->len, j->chunk, &rng, &j->res,
				   j->err, sizeof(j->err));
	return NULL;
}

static double mibs(size_t len, uint64_t ms)
{
	return ms ? (double)len / (1 << 20) * 1000.0 / ms : 0.0;
}

FIXTURE_SETUP(nvme)
{
	struct strlist l;
	int ret, none = 0;

	self->n = 0;
	strlist_init(&l);
	ret = nvme_ctrls(&l, &none);
	ASSERT_LE(0, ret) TH_LOG("listing " SYSFS_PCI_DEVICES ": %s", strerror(-ret));
	if (none)
		INFO("%d NVMe controller(s) behind no IOMMU instance: not tested", none);
	if (!l.n) {
		strlist_free(&l);
		SKIP(return, "no NVMe controller behind an IOMMU instance");
	}
	ASSERT_GE(MAX_CTRL, l.n);
	for (int i = 0; i < l.n; i++) {
		struct ctrl *c = &self->c[i];

		memset(c, 0, sizeof(*c));
		snprintf(c->bdf, sizeof(c->bdf), "%s", l.v[i]);
		c->group = -1;
		self->n++;
	}
	strlist_free(&l);
	self->ours = env_driver_ours();
	if (self->ours)
		ASSERT_TRUE(dbg_present())
			TH_LOG("SMMUV3_DRIVER=ours: expected " SMMUV3_DEBUGFS "/domains, "
			       "found none");
	self->dd0 = malloc(sizeof(*self->dd0));
	self->dd = malloc(sizeof(*self->dd));
	ASSERT_NE(NULL, self->dd0);
	ASSERT_NE(NULL, self->dd);
}

FIXTURE_TEARDOWN(nvme)
{
	char err[256];

	for (int i = 0; i < self->n; i++) {
		struct ctrl *c = &self->c[i];

		if (!c->switched || !c->from[0])
			continue;
		if (blk_set_group_type(c->bdf, c->group, c->from, err, sizeof(err)))
			INFO("restoring group %d of %s to %s failed: %s", c->group, c->bdf,
			     c->from, err);
		else
			INFO("group %d of %s switched back to %s", c->group, c->bdf, c->from);
	}
	free(self->dd0);
	free(self->dd);
}

TEST_F_TIMEOUT(nvme, parallel_io, NVME_TIMEOUT)
{
	struct job jobs[MAX_CTRL * JOBS];
	pthread_t th[MAX_CTRL * JOBS];
	char err[256], desc[512];
	struct strlist insts;
	uint64_t seed = prng_time_seed(), t0, ms, bytes = 0;
	int expect = env_expect_instances();
	int ret, nj = 0;

	INFO("group type %s; %d controller(s), %d thread(s) each; patterns from seed "
	     "0x%016llx", variant->type, self->n, JOBS, (unsigned long long)seed);

	/* Which instance each controller is behind: all of them, one each. */
	strlist_init(&insts);
	for (int i = 0; i < self->n; i++) {
		struct ctrl *c = &self->c[i];

		ASSERT_EQ(0, pci_iommu_instance(c->bdf, c->inst, sizeof(c->inst)));
		if (!strlist_contains(&insts, c->inst))
			ASSERT_LE(0, strlist_add(&insts, c->inst));
	}
	if (expect >= 0)
		EXPECT_EQ(expect, insts.n)
			TH_LOG("NVMe controllers behind %d instance(s) (%s), expected one "
			       "behind each of the topology's %d", insts.n,
			       strlist_join(&insts, desc, sizeof(desc)), expect);
	strlist_free(&insts);

	if (self->ours)
		ASSERT_EQ(0, dbg_domains_read(self->dd0));
	for (int i = 0; i < self->n; i++) {
		struct ctrl *c = &self->c[i];

		c->switched = true;
		ret = blk_switch_group(c->bdf, variant->type, &c->group, c->from,
				       sizeof(c->from), err, sizeof(err));
		ASSERT_EQ(0, ret) TH_LOG("%s", err);
		ret = nvme_blockdev(c->bdf, c->dev, sizeof(c->dev), NS_TIMEOUT_MS);
		ASSERT_EQ(0, ret) TH_LOG("%s: expected an NVMe namespace block device "
					 "after the rebind, found none in %d s (%s)", c->bdf,
					 NS_TIMEOUT_MS / 1000, strerror(-ret));
		INFO("%s (%s, behind %s): group %d was %s, switched to %s", c->dev, c->bdf,
		     c->inst, c->group, c->from, variant->type);
	}

	if (self->ours) {
		ASSERT_EQ(0, dbg_domains_read(self->dd));
		for (int i = 0; i < self->n; i++) {
			struct ctrl *c = &self->c[i];
			const struct dbg_domain *d = NULL;

			/* The new domain that names this controller's instance. */
			for (int k = 0; k < self->dd->n && !d; k++) {
				const struct dbg_domain *x = &self->dd->d[k];

				if (!dbg_domain_find(self->dd0, x->id) &&
				    dbg_domain_live(x, c->inst, DBG_INV_S1_ASID, NULL) == 1)
					d = x;
			}
			ASSERT_NE(NULL, d)
				TH_LOG("group %d of %s switched to %s: expected a new domain "
				       "in " SMMUV3_DEBUGFS "/domains with one live stage-1 "
				       "ASID entry for %s, found none", c->group, c->bdf,
				       variant->type, c->inst);
			c->dom = d->id;
			INFO("%s: our %s %s", c->bdf, variant->type,
			     dbg_domain_str(d, desc, sizeof(desc)));
			ASSERT_EQ(0, dbg_stat_prefix(c->inst, "cmd TLBI_", &c->tlbi0));
			ASSERT_EQ(0, dbg_stat(c->inst, "cmd TLBI_NH_ASID", &c->asid0));
		}
	}

	/* The jobs: JOBS regions per namespace, clear of the first MiB. */
	for (int i = 0; i < self->n; i++) {
		struct ctrl *c = &self->c[i];
		uint64_t size, lbs;
		size_t len;

		ret = blk_size(c->dev, &size, &lbs);
		ASSERT_EQ(0, ret) TH_LOG("%s size: %s", c->dev, strerror(-ret));
		ASSERT_LE((uint64_t)(2u << 20), size)
			TH_LOG("%s is %llu bytes: too small", c->dev, (unsigned long long)size);
		len = (size - (1u << 20)) / JOBS;
		if (len > JOB_MAX)
			len = JOB_MAX;
		len &= ~((size_t)(64u << 10) - 1);
		ASSERT_NE((size_t)0, len);
		for (int k = 0; k < JOBS; k++) {
			struct job *j = &jobs[nj++];

			memset(j, 0, sizeof(*j));
			j->c = c;
			j->off = (1u << 20) + k * len;
			j->len = len;
			j->chunk = job_chunk[k] < len ? job_chunk[k] : len;
			j->seed = seed + nj;
			ASSERT_EQ((size_t)0, j->off % lbs);
		}
	}

	t0 = now_ms();
	for (int k = 0; k < nj; k++)
		ASSERT_EQ(0, pthread_create(&th[k], NULL, job_run, &jobs[k]));
	for (int k = 0; k < nj; k++)
		pthread_join(th[k], NULL);
	ms = now_ms() - t0;

	for (int k = 0; k < nj; k++) {
		struct job *j = &jobs[k];

		EXPECT_EQ(0, j->ret) TH_LOG("%s (%s, %s) job %d: %s", j->c->dev, j->c->bdf,
					    variant->type, k, j->err);
		if (j->ret)
			continue;
		EXPECT_EQ(j->res.hash_written, j->res.hash_read)
			TH_LOG("%s (%s, group %d %s, behind %s), job %d: expected the %zu "
			       "bytes read back at offset %zu to match what was written "
			       "(fnv1a64 0x%016llx), found fnv1a64 0x%016llx, %zu bytes "
			       "differ, first at +%ld", j->c->dev, j->c->bdf, j->c->group,
			       variant->type, j->c->inst, k, j->len, j->off,
			       (unsigned long long)j->res.hash_written,
			       (unsigned long long)j->res.hash_read, j->res.ndiff,
			       j->res.first);
		bytes += j->len;
		INFO("%s job %d: %zu KiB at %zu KiB in %zu KiB requests: write %.1f MiB/s, "
		     "read %.1f MiB/s, fnv1a64 0x%016llx %s", j->c->dev, k, j->len >> 10,
		     j->off >> 10, j->chunk >> 10, mibs(j->len, j->res.write_ms),
		     mibs(j->len, j->res.read_ms), (unsigned long long)j->res.hash_read,
		     j->res.hash_written == j->res.hash_read ? "matches" : "DIFFERS");
	}
	INFO("%s: %d threads moved %llu KiB each way in %llu ms (%.1f MiB/s written and "
	     "read back)", variant->type, nj, (unsigned long long)(bytes >> 10),
	     (unsigned long long)ms, mibs(2 * bytes, ms));

	if (self->ours) {
		for (int i = 0; i < self->n; i++) {
			struct ctrl *c = &self->c[i];
			uint64_t tlbi1, asid1;

			ASSERT_EQ(0, dbg_stat_prefix(c->inst, "cmd TLBI_", &tlbi1));
			if (!variant->strict)
				/* The queue's timer flushes within milliseconds. */
				dbg_stat_wait(c->inst, "cmd TLBI_NH_ASID", c->asid0 + 1, 2000,
					      &asid1);
			ASSERT_EQ(0, dbg_stat(c->inst, "cmd TLBI_NH_ASID", &asid1));
			INFO("%s: during the I/O %s issued %llu TLBI commands, %llu of them "
			     "TLBI_NH_ASID", c->bdf, c->inst,
			     (unsigned long long)(tlbi1 - c->tlbi0),
			     (unsigned long long)(asid1 - c->asid0));
			if (variant->strict) {
				EXPECT_LT(c->tlbi0, tlbi1)
					TH_LOG("I/O through the strict DMA domain of %s: "
					       "expected TLBI commands on %s (every unmap "
					       "invalidates), found none", c->bdf, c->inst);
			} else {
				EXPECT_LT(c->asid0, asid1)
					TH_LOG("I/O through the flush-queue domain of %s: "
					       "expected TLBI_NH_ASID on %s (the queue flushes "
					       "the whole domain), found none", c->bdf,
					       c->inst);
			}
		}
	}

	for (int i = 0; i < self->n; i++) {
		struct ctrl *c = &self->c[i];

		ret = blk_set_group_type(c->bdf, c->group, c->from, err, sizeof(err));
		ASSERT_EQ(0, ret) TH_LOG("switching group %d of %s back to %s: %s", c->group,
					 c->bdf, c->from, err);
		c->switched = false;
		ret = nvme_blockdev(c->bdf, c->dev, sizeof(c->dev), NS_TIMEOUT_MS);
		EXPECT_EQ(0, ret) TH_LOG("%s: no namespace block device after switching "
					 "back to %s (%s)", c->bdf, c->from, strerror(-ret));
	}
	if (self->ours) {
		ASSERT_EQ(0, dbg_domains_read(self->dd));
		for (int i = 0; i < self->n; i++) {
			const struct ctrl *c = &self->c[i];

			EXPECT_EQ(NULL, dbg_domain_find(self->dd, c->dom))
				TH_LOG("group %d back to %s: expected its %s domain %u gone "
				       "from " SMMUV3_DEBUGFS "/domains, found it listed",
				       c->group, c->from, variant->type, c->dom);
		}
	}
}

TEST_HARNESS_MAIN
