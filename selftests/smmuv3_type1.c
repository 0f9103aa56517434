// SPDX-License-Identifier: GPL-2.0-only
/*
 * smmuv3_type1: the VFIO container API (/dev/vfio/vfio, VFIO_TYPE1v2_IOMMU),
 * which hosts without iommufd use, with an edu behind each of two SMMU
 * instances in ONE container.
 *
 * VFIO type1 allocates a domain for the first group and, for each later
 * group, tries to attach it to a domain it already has (same iommu_ops)
 * before keeping a domain of its own.  Our driver lets a domain span
 * instances, so the container has one domain with a tag (ASID or VMID) on
 * each instance; the upstream driver refuses a domain of another instance,
 * so type1 keeps one domain per instance.  Either way type1 maps every
 * VFIO_IOMMU_MAP_DMA into each of its domains, so DMA works with both.
 *
 * Setup: A is the first edu, B the first behind another instance; both
 * bound to vfio-pci, A's group joins the container, VFIO_SET_IOMMU
 * (type1v2), B's group joins, device fds from the groups.
 *
 *   one_domain_both_instances  with ours: exactly one domain is new in
 *                              /sys/kernel/debug/smmuv3/domains, with one
 *                              live entry on each instance; the iommu:map
 *                              trace event fires once for a one-page
 *                              VFIO_IOMMU_MAP_DMA (one domain to map into).
 *                              With upstream it says how many domains type1
 *                              made (the map events) and asserts nothing
 *                              about sharing.  DMA right on A and B.
 *   unmap_faults_on_both       DMA right on A and B (both instances cache
 *                              the translation), VFIO_IOMMU_UNMAP_DMA, then
 *                              DMA to and from the IOVA must not reach the
 *                              memory on either device (with ours: a TLBI
 *                              on each instance, F_TRANSLATION events); the
 *                              other mapping still works
 *   remove_a_keeps_b,          closing the device fd of one edu and taking
 *   remove_b_keeps_a           its group out (VFIO_GROUP_UNSET_CONTAINER)
 *                              keeps the other translating right; with ours
 *                              the domain loses its entry on the removed
 *                              group's instance, that tag was flushed (a
 *                              TLBI by ASID or VMID there) and freed
 *                              (asids_used + vmids_used back to what they
 *                              were before the group joined).  The group
 *                              then joins again: DMA right on both, with
 *                              ours in the same single domain; after an
 *                              unmap both fault.
 *
 * Skipped, saying why, without /dev/vfio/vfio or type1v2, or without edus
 * behind two instances (dt1).  Where the two instances have no stage in
 * common (acpi2-s2s1) one domain cannot take both, and with ours two
 * domains are expected instead.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "kselftest_harness.h"

#include "container.h"
#include "debugfs.h"
#include "dmacheck.h"
#include "dmatest.h"
#include "env.h"
#include "iotrace.h"
#include "mem.h"
#include "sysfs.h"

FIXTURE(type1)
{
	char bdf[2][32];	/* A, B */
	struct ctr_edu dev[2];
	char skip[256];		/* why start() could not */
	int cfd;		/* the container */
	struct prng rng;
	struct pinned_buf mem, ctl;
	uint64_t iova, ctl_iova;
	struct iotrace trace;
	bool traced;
	char notrace[256];	/* why there are no trace counts */
	struct dbg_domains *dd0, *dd;
	uint64_t tags0[2];	/* asids_used + vmids_used before the group joined */
	bool ours;
	bool share;		/* (ours) one domain is expected to take both */
	int ndom;		/* (ours) domains new since setup began */
	unsigned int dom[2];	/* (ours) their IDs; dom[0] is the shared one */
};

/* The helpers' parameters: the test's metadata and fixture (for ASSERT_*). */
#define T struct __test_metadata *_metadata, \
	FIXTURE_DATA(type1) *self __attribute__((unused))
#define TA _metadata, self

static uint64_t tags_used(T, const char *inst)
{
	uint64_t a = 0, v = 0;
	int ret;

	ret = dbg_stat(inst, "asids_used", &a) ?: dbg_stat(inst, "vmids_used", &v);
	EXPECT_EQ(0, ret) TH_LOG("%s stats: %s", inst, strerror(-ret));
	return a + v;
}

static uint64_t stat_of(T, const char *inst, const char *key)
{
	uint64_t v = 0;
	int ret = dbg_stat(inst, key, &v);

	EXPECT_EQ(0, ret) TH_LOG("%s stats: %s", inst, strerror(-ret));
	return v;
}

/* A tag flush: TLBI by ASID (stage 1) or by VMID (stage 2). */
static uint64_t flushes(T, const char *inst)
{
	return stat_of(TA, inst, "cmd TLBI_NH_ASID") +
	       stat_of(TA, inst, "cmd TLBI_S12_VMALL");
}

static void read_domains(T, struct dbg_domains *dd)
{
	int ret = dbg_domains_read(dd);

	ASSERT_EQ(0, ret) TH_LOG("reading " SMMUV3_DEBUGFS "/domains: %s", strerror(-ret));
}

/* (ours) The domains in self->dd that are not in self->dd0, into self->dom. */
static void find_new_domains(T)
{
	read_domains(TA, self->dd);
	self->ndom = 0;
	for (int i = 0; i < self->dd->n; i++) {
		if (dbg_domain_find(self->dd0, self->dd->d[i].id))
			continue;
		if (self->ndom < 2)
			self->dom[self->ndom] = self->dd->d[i].id;
		self->ndom++;
	}
}

static void join_ok(T, struct ctr_edu *c)
{
	int ret = ctr_edu_join(c, self->cfd);

	ASSERT_EQ(0, ret) TH_LOG("%s%s", c->err, ret == -EPERM ?
				 " (MSIs not isolated? "
				 "vfio_iommu_type1.allow_unsafe_interrupts=1 overrides)" : "");
}

static void device_ok(T, struct ctr_edu *c)
{
	int ret = ctr_edu_device(c);

	ASSERT_EQ(0, ret) TH_LOG("%s", c->err);
}

FIXTURE_SETUP(type1)
{
	uint64_t seed = prng_time_seed();
	struct edu_pick pick[2];
	char err[256] = "", why[256];
	int ret;

	self->cfd = -1;
	for (int i = 0; i < 2; i++)
		ctr_edu_init(&self->dev[i]);
	ret = edus_pick_two(pick, why, sizeof(why));
	ASSERT_LE(0, ret) TH_LOG("%s", why);
	if (!ret)
		SKIP(return, "%s", why);
	if (!path_exists(VFIO_CONTAINER_DEV))
		SKIP(return, "no " VFIO_CONTAINER_DEV " (kernel without VFIO_CONTAINER)");
	self->cfd = container_open(err, sizeof(err));
	if (self->cfd == -EOPNOTSUPP || self->cfd == -ENOENT)
		SKIP(return, "%s", err);
	ASSERT_LE(0, self->cfd) TH_LOG("%s", err);

	self->ours = DRIVER_OURS_CHECKED();
	/* acpi2-s2s1: A's instance stage 2 only, B's stage 1 only. */
	self->share = !env_topology_is("acpi2-s2s1");
	self->dd0 = malloc(sizeof(*self->dd0));
	self->dd = malloc(sizeof(*self->dd));
	ASSERT_NE(NULL, self->dd0);
	ASSERT_NE(NULL, self->dd);
	if (self->ours)
		read_domains(TA, self->dd0);
	prng_seed(&self->rng, seed);
	INFO("A = %s (behind %s), B = %s (behind %s); patterns from seed 0x%016llx",
	     pick[0].bdf, pick[0].inst, pick[1].bdf, pick[1].inst,
	     (unsigned long long)seed);
	ret = pinned_alloc(&self->mem, PAGE);
	ASSERT_EQ(0, ret) TH_LOG("pinned buffer: %s", strerror(-ret));
	ret = pinned_alloc(&self->ctl, PAGE);
	ASSERT_EQ(0, ret) TH_LOG("pinned buffer: %s", strerror(-ret));
	for (int i = 0; i < 2; i++)
		snprintf(self->bdf[i], sizeof(self->bdf[i]), "%s", pick[i].bdf);
}

FIXTURE_TEARDOWN(type1)
{
	if (self->traced)
		iotrace_stop(&self->trace);
	for (int i = 0; i < 2; i++)
		ctr_edu_close(&self->dev[i]);
	if (self->cfd >= 0)
		close(self->cfd);
	pinned_free(&self->mem);
	pinned_free(&self->ctl);
	free(self->dd0);
	free(self->dd);
}

/*
 * Bind A and B to vfio-pci, A's group into the container, VFIO_SET_IOMMU,
 * B's group in, device fds; enable the iommu:map trace event.  In the test
 * body rather than the setup, so that the teardown undoes it even after a
 * failed assertion.  Returns false (self->skip says why) when a group is
 * not viable outside the acpi2 topologies (there each edu has its group).
 */
static bool start(T)
{
	int ret;

	for (int i = 0; i < 2; i++) {
		struct ctr_edu *c = &self->dev[i];

		ret = ctr_edu_bind(c, self->bdf[i]);
		if (ret == -EBUSY && !env_topology_is("acpi2")) {
			snprintf(self->skip, sizeof(self->skip), "%s", c->err);
			return false;
		}
		ASSERT_EQ(0, ret) TH_LOG("%s", c->err);
		if (self->ours)
			self->tags0[i] = tags_used(TA, c->ed.inst);
	}
	/* A first, then the IOMMU model, then B: B joins type1's domain list. */
	join_ok(TA, &self->dev[0]);
	ret = container_set_iommu(self->cfd);
	ASSERT_EQ(0, ret) TH_LOG("VFIO_SET_IOMMU(VFIO_TYPE1v2_IOMMU) with %s's group: %s%s",
				 self->dev[0].ed.bdf, strerror(-ret), ret == -EPERM ?
				 " (MSIs not isolated? "
				 "vfio_iommu_type1.allow_unsafe_interrupts=1 overrides)" : "");
	join_ok(TA, &self->dev[1]);
	for (int i = 0; i < 2; i++)
		device_ok(TA, &self->dev[i]);
	if (self->ours)
		find_new_domains(TA);

	ret = iotrace_start(&self->trace, self->notrace, sizeof(self->notrace));
	self->traced = !ret;
	return true;
}

#define START() do { \
	if (!start(TA)) \
		SKIP(return, "%s", self->skip); \
} while (0)

/*
 * Map self->mem at self->iova and self->ctl at self->ctl_iova; return how
 * many iommu:map events the mapping of self->mem made (-1: not traced).
 */
static int map_buffers(T)
{
	uint64_t pa = 0;
	int ret, n = -1;

	ret = container_pick_iova(self->cfd, IOVA_MIN, 2 * SZ_2M, SZ_2M, &self->iova);
	ASSERT_EQ(0, ret) TH_LOG("no valid IOVA window of 4 MiB at or above 0x%llx in "
				 "VFIO_IOMMU_GET_INFO: %s", (unsigned long long)IOVA_MIN,
				 strerror(-ret));
	self->ctl_iova = self->iova + SZ_2M;
	if (self->traced)
		iotrace_clear(&self->trace);
	ret = container_map(self->cfd, self->mem.va, PAGE, self->iova);
	ASSERT_EQ(0, ret) TH_LOG("VFIO_IOMMU_MAP_DMA at 0x%llx: %s",
				 (unsigned long long)self->iova, strerror(-ret));
	if (self->traced) {
		/* Pinning for the long term may have moved the page: look now. */
		ret = mem_virt_to_phys(self->mem.va, &pa);
		ASSERT_EQ(0, ret) TH_LOG("physical address of the buffer: %s",
					 strerror(-ret));
		n = iotrace_count_map(&self->trace, self->iova, pa, PAGE);
		ASSERT_LE(0, n) TH_LOG("reading the trace: %s", strerror(-n));
	}
	ret = container_map(self->cfd, self->ctl.va, PAGE, self->ctl_iova);
	ASSERT_EQ(0, ret) TH_LOG("VFIO_IOMMU_MAP_DMA at 0x%llx: %s",
				 (unsigned long long)self->ctl_iova, strerror(-ret));
	return n;
}

static void unmap_mem(T)
{
	uint64_t unmapped = 0;
	int ret;

	ret = container_unmap(self->cfd, self->iova, PAGE, &unmapped);
	ASSERT_EQ(0, ret) TH_LOG("VFIO_IOMMU_UNMAP_DMA at 0x%llx: %s",
				 (unsigned long long)self->iova, strerror(-ret));
	ASSERT_EQ(PAGE, unmapped)
		TH_LOG("VFIO_IOMMU_UNMAP_DMA of one page at 0x%llx: expected %llu bytes "
		       "unmapped, found %llu", (unsigned long long)self->iova, PAGE,
		       (unsigned long long)unmapped);
}

/* D reads self->mem and writes it to self->ctl, and the other way round. */
static void dma_both_ways(T, struct ctr_edu *c)
{
	struct edu_dev *d = &c->ed;

	ASSERT_CHECK(edu_roundtrip(d, self->mem.va, self->iova, self->ctl.va,
				   self->ctl_iova, PAGE, &self->rng, ERRBUF));
	ASSERT_CHECK(edu_roundtrip(d, self->ctl.va, self->ctl_iova, self->mem.va,
				   self->iova, PAGE, &self->rng, ERRBUF));
}

/* Writes to and reads from the unmapped self->iova must not reach self->mem. */
static void faults(T, struct ctr_edu *c)
{
	struct edu_dev *d = &c->ed;

	ASSERT_CHECK(edu_write_dropped(d, self->iova, self->mem.va, PAGE, &self->rng,
				       ERRBUF));
	ASSERT_CHECK(edu_read_dropped(d, self->iova, self->mem.va, self->ctl.va,
				      self->ctl_iova, PAGE, &self->rng, ERRBUF));
}

/*
 * (ours) The container's domains are as expected: one (the shared one) with
 * one live entry on each instance in JOINED, none naming the others; or,
 * where one domain cannot take both (!self->share), one per joined
 * instance.  WHEN says at which step.
 */
static void expect_domains(T, const bool joined[2], const char *when)
{
	char desc[512];

	if (!self->ours)
		return;
	read_domains(TA, self->dd);
	if (!self->share) {
		INFO("%s: %d domain(s) new in " SMMUV3_DEBUGFS "/domains (A's and B's "
		     "instances have no stage in common: no sharing expected)", when,
		     self->ndom);
		return;
	}
	{
		const struct dbg_domain *dm = dbg_domain_find(self->dd, self->dom[0]);

		ASSERT_NE(NULL, dm) TH_LOG("%s: expected the container's domain %u in "
					   SMMUV3_DEBUGFS "/domains, found it gone",
					   when, self->dom[0]);
		for (int i = 0; i < 2; i++) {
			const struct ctr_edu *c = &self->dev[i];
			int live = dbg_domain_live(dm, c->ed.inst, -1, NULL);

			if (joined[i]) {
				EXPECT_EQ(1, live)
					TH_LOG("%s: expected one live entry for %s (%s's "
					       "instance) in the container's domain, found "
					       "%d: %s", when, c->ed.inst, c->ed.bdf, live,
					       dbg_domain_str(dm, desc, sizeof(desc)));
			} else {
				EXPECT_EQ(0, dbg_domain_named(dm, c->ed.inst))
					TH_LOG("%s: %s's group left the container: "
					       "expected no entry for %s in the domain, "
					       "found: %s", when, c->ed.bdf, c->ed.inst,
					       dbg_domain_str(dm, desc, sizeof(desc)));
			}
		}
		INFO("%s: %s", when, dbg_domain_str(dm, desc, sizeof(desc)));
	}
}

/* ---- tests ------------------------------------------------------------------ */

TEST_F_TIMEOUT(type1, one_domain_both_instances, DMA_TIMEOUT)
{
	static const bool both[2] = { true, true };
	int n;

	START();
	if (self->ours && self->share) {
		char desc[512];

		EXPECT_EQ(1, self->ndom)
			TH_LOG("A (%s behind %s) and B (%s behind %s) in one type1 "
			       "container: expected ONE new domain in " SMMUV3_DEBUGFS
			       "/domains (type1 attaches B's group to A's domain), found %d%s",
			       self->dev[0].ed.bdf, self->dev[0].ed.inst, self->dev[1].ed.bdf,
			       self->dev[1].ed.inst, self->ndom,
			       self->ndom > 1 ? ": the domain was not shared" : "");
		ASSERT_LE(1, self->ndom);
		read_domains(TA, self->dd);
		INFO("type1 made 1 domain: %s",
		     dbg_domain_str(dbg_domain_find(self->dd, self->dom[0]), desc,
				    sizeof(desc)));
	} else if (self->ours) {
		EXPECT_EQ(2, self->ndom)
			TH_LOG("A's and B's instances have no stage in common: expected "
			       "two domains, found %d", self->ndom);
	}
	expect_domains(TA, both, "A and B in the container");

	n = map_buffers(TA);
	if (n < 0)
		INFO("iommu:map events not counted: %s", self->notrace);
	else
		INFO("one page mapped with VFIO_IOMMU_MAP_DMA: %d iommu:map event(s), so "
		     "type1 made %d domain(s) for A and B (driver %s)", n, n,
		     env_driver() ? env_driver() : "unknown");
	if (n >= 0 && self->ours)
		EXPECT_EQ(self->share ? 1 : 2, n)
			TH_LOG("one page mapped with VFIO_IOMMU_MAP_DMA: expected %d "
			       "iommu:map event(s) (one per type1 domain), found %d",
			       self->share ? 1 : 2, n);

	for (int i = 0; i < 2; i++)
		dma_both_ways(TA, &self->dev[i]);
	INFO("DMA both ways intact on A and B");
}

TEST_F_TIMEOUT(type1, unmap_faults_on_both, DMA_TIMEOUT)
{
	uint64_t tlbi[2] = {}, ev[2] = {};
	int ret;

	START();
	map_buffers(TA);
	/* Both instances cache the translation of self->iova, both ways. */
	for (int i = 0; i < 2; i++)
		dma_both_ways(TA, &self->dev[i]);
	for (int i = 0; self->ours && i < 2; i++) {
		tlbi[i] = stat_of(TA, self->dev[i].ed.inst, "cmd TLBI_NH_VA") +
			  stat_of(TA, self->dev[i].ed.inst, "cmd TLBI_S2_IPA");
		ev[i] = stat_of(TA, self->dev[i].ed.inst, "event F_TRANSLATION");
	}
	unmap_mem(TA);
	for (int i = 0; self->ours && i < 2; i++) {
		const char *inst = self->dev[i].ed.inst;
		uint64_t t = stat_of(TA, inst, "cmd TLBI_NH_VA") +
			     stat_of(TA, inst, "cmd TLBI_S2_IPA");

		EXPECT_LT(tlbi[i], t)
			TH_LOG("VFIO_IOMMU_UNMAP_DMA of a page: expected a TLBI_NH_VA or "
			       "TLBI_S2_IPA on %s (%s's instance), found none", inst,
			       self->dev[i].ed.bdf);
	}
	for (int i = 0; i < 2; i++)
		faults(TA, &self->dev[i]);
	INFO("after VFIO_IOMMU_UNMAP_DMA, DMA to and from IOVA 0x%llx faulted on A and "
	     "B, memory untouched", (unsigned long long)self->iova);
	for (int i = 0; self->ours && i < 2; i++) {
		const char *inst = self->dev[i].ed.inst;
		uint64_t v = 0;

		ret = dbg_stat_wait(inst, "event F_TRANSLATION", ev[i] + 2, EVENT_WAIT_MS,
				    &v);
		EXPECT_EQ(0, ret)
			TH_LOG("%s did 2 faulting DMAs: expected F_TRANSLATION on %s to "
			       "grow from %llu to at least %llu, found %llu",
			       self->dev[i].ed.bdf, inst, (unsigned long long)ev[i],
			       (unsigned long long)ev[i] + 2, (unsigned long long)v);
	}
	/* The other mapping still works on both. */
	for (int i = 0; i < 2; i++)
		ASSERT_CHECK(edu_roundtrip(&self->dev[i].ed, self->ctl.va, self->ctl_iova,
					   self->ctl.va, self->ctl_iova, PAGE, &self->rng,
					   ERRBUF));
}

/* Take GONE's group out of the container; the other keeps translating. */
static void remove_keeps_other(T, int gone)
{
	struct ctr_edu *g = &self->dev[gone], *s = &self->dev[1 - gone];
	bool joined[2] = { true, true };
	const char *name = gone ? "B" : "A";
	uint64_t f0 = 0, f1, used;
	char when[128];
	int ret;

	map_buffers(TA);
	for (int i = 0; i < 2; i++)
		dma_both_ways(TA, &self->dev[i]);
	expect_domains(TA, joined, "A and B in the container");
	if (self->ours) {
		f0 = flushes(TA, g->ed.inst);
		used = tags_used(TA, g->ed.inst);
		INFO("A and B in the container: asids_used + vmids_used on %s: %llu "
		     "(%llu before the group joined)", g->ed.inst,
		     (unsigned long long)used, (unsigned long long)self->tags0[gone]);
	}

	/* VFIO_GROUP_UNSET_CONTAINER needs the device fd closed first. */
	ret = ctr_edu_leave(g);
	ASSERT_EQ(0, ret) TH_LOG("%s", g->err);
	joined[gone] = false;
	snprintf(when, sizeof(when), "%s's group (%s) out of the container", name,
		 g->ed.bdf);
	expect_domains(TA, joined, when);
	if (self->ours) {
		used = tags_used(TA, g->ed.inst);
		EXPECT_EQ(self->tags0[gone], used)
			TH_LOG("%s: expected asids_used + vmids_used on %s back at %llu "
			       "(before the group joined), found %llu: the domain's tag "
			       "there was not freed", when, g->ed.inst,
			       (unsigned long long)self->tags0[gone],
			       (unsigned long long)used);
		f1 = flushes(TA, g->ed.inst);
		EXPECT_LT(f0, f1)
			TH_LOG("%s: expected the freed tag flushed on %s (a TLBI_NH_ASID "
			       "or TLBI_S12_VMALL), found none", when, g->ed.inst);
		INFO("%s: tags in use on %s back at %llu, %llu flush(es) there", when,
		     g->ed.inst, (unsigned long long)used,
		     (unsigned long long)(f1 - f0));
	}
	dma_both_ways(TA, s);
	INFO("%s: %s still does DMA right", when, s->ed.bdf);

	/* And back: type1 attaches the group to the domain it has. */
	join_ok(TA, g);
	device_ok(TA, g);
	joined[gone] = true;
	snprintf(when, sizeof(when), "%s's group back in the container", name);
	expect_domains(TA, joined, when);
	for (int i = 0; i < 2; i++)
		dma_both_ways(TA, &self->dev[i]);
	unmap_mem(TA);
	for (int i = 0; i < 2; i++)
		faults(TA, &self->dev[i]);
	INFO("%s: DMA right on A and B; after an unmap both fault", when);
}

TEST_F_TIMEOUT(type1, remove_a_keeps_b, DMA_TIMEOUT)
{
	START();
	remove_keeps_other(TA, 0);
}

TEST_F_TIMEOUT(type1, remove_b_keeps_a, DMA_TIMEOUT)
{
	START();
	remove_keeps_other(TA, 1);
}

TEST_HARNESS_MAIN
