// SPDX-License-Identifier: GPL-2.0-only
/*
 * smmuv3_dma: DMA through a paging domain, per edu (one behind each SMMU
 * instance), with iommufd's automatic domain.
 *
 * For each edu: bind it to vfio-pci and iommufd, attach it to a fresh IOAS
 * (iommufd allocates the HWPT), map pinned memory, and check DMA both ways
 * byte for byte (RAM -> device -> RAM, through different parts of the
 * mapping).  The memory under test is mapped twice, at IOVA and at an
 * alias IOVA.  Then IOVA is unmapped and DMA to and from it must fault:
 *   - device -> RAM at IOVA: the memory (still pinned and still mapped at
 *     the alias, so a stale translation would hit it) stays untouched;
 *   - RAM at IOVA -> device: the device buffer, read back through a control
 *     mapping, holds none of the memory's pattern;
 *   - the alias still works afterwards (positive control);
 *   - with our driver, F_TRANSLATION events grew on the device's own
 *     instance by at least the number of faulting DMAs, and not on any
 *     other instance.
 *
 *   map_4k           one 4 KiB mapping
 *   map_64k          one 64 KiB mapping, DMA at three offsets
 *   map_2m_hugepage  one 2 MiB mapping of a 2 MiB huge page at a 2 MiB
 *                    aligned IOVA, so that the page table can use a block
 *                    (skipped when no huge page can be had)
 *   many_4k_mappings 512 separate 4 KiB mappings with unmapped 4 KiB gaps
 *                    between them; DMA through a sample, into two gaps
 *                    (must fault, neighbours untouched), unmap each, DMA
 *                    through the sample must fault
 *
 * IOVAs start at 0x10000000 and are checked against
 * IOMMU_IOAS_IOVA_RANGES (clear of the MSI window and reserved regions).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

#define SZ_64K		(64ULL << 10)
#define MANY		512
#define MANY_SAMPLE	16

FIXTURE(dma)
{
	struct strlist edus;
	int iommufd;
	uint32_t ioas;
	struct edu_dev dev;
	struct prng rng;
	struct pinned_buf mem, ctl;
	long old_nr_hugepages;
	bool ours;
};

FIXTURE_SETUP(dma)
{
	uint64_t seed = prng_time_seed();
	int ret;

	self->iommufd = -1;
	self->old_nr_hugepages = -1;
	self->dev.vd.fd = -1;
	EDUS_OR_SKIP(&self->edus);
	self->ours = DRIVER_OURS_CHECKED();
	prng_seed(&self->rng, seed);
	INFO("patterns from seed 0x%016llx", (unsigned long long)seed);
	ret = pinned_alloc(&self->ctl, PAGE);
	ASSERT_EQ(0, ret) TH_LOG("pinned buffer: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(dma)
{
	dma_fixture_release(self->iommufd, &self->mem, &self->ctl);
	hugepages_restore(self->old_nr_hugepages);
	strlist_free(&self->edus);
}

/* A fresh iommufd and IOAS, edu BDF bound and attached to the IOAS. */
static void open_attached(struct __test_metadata *_metadata,
			  FIXTURE_DATA(dma) *self, const char *bdf)
{
	int ret;

	self->iommufd = iommufd_open();
	ASSERT_LE(0, self->iommufd) TH_LOG("open /dev/iommu: %s (CONFIG_IOMMUFD?)",
					   strerror(-self->iommufd));
	ret = iommufd_ioas_alloc(self->iommufd, &self->ioas);
	ASSERT_EQ(0, ret) TH_LOG("IOMMU_IOAS_ALLOC: %s", strerror(-ret));
	ret = edu_dev_open(&self->dev, bdf, self->iommufd);
	ASSERT_EQ(0, ret) TH_LOG("%s", self->dev.vd.err);
	ret = dev_attach(&self->dev.vd, self->ioas);
	ASSERT_EQ(0, ret) TH_LOG("%s", self->dev.vd.err);
	ASSERT_NE(0U, self->dev.vd.hwpt_id)
		TH_LOG("%s: expected the attach to report the HWPT it used, found 0", bdf);
	INFO("%s (behind %s): device %u attached to IOAS %u, auto HWPT %u", bdf,
	     self->dev.inst, self->dev.vd.devid, self->ioas, self->dev.vd.hwpt_id);
}

static void close_attached(struct __test_metadata *_metadata,
			   FIXTURE_DATA(dma) *self)
{
	int ret = dev_detach(&self->dev.vd);

	EXPECT_EQ(0, ret) TH_LOG("%s", self->dev.vd.err);
	vfio_dev_close(&self->dev.vd);
	close(self->iommufd);
	self->iommufd = -1;
}

static void map_at(struct __test_metadata *_metadata, FIXTURE_DATA(dma) *self,
		   void *va, size_t len, uint64_t iova)
{
	uint64_t got = iova;
	int ret = iommufd_ioas_map(self->iommufd, self->ioas, va, len, &got, true, RW);

	ASSERT_EQ(0, ret) TH_LOG("IOMMU_IOAS_MAP %zu bytes at IOVA 0x%llx: %s", len,
				 (unsigned long long)iova, strerror(-ret));
}

static void unmap_at(struct __test_metadata *_metadata, FIXTURE_DATA(dma) *self,
		     uint64_t iova, size_t len)
{
	uint64_t done = 0;
	int ret = iommufd_ioas_unmap(self->iommufd, self->ioas, iova, len, &done);

	ASSERT_EQ(0, ret) TH_LOG("IOMMU_IOAS_UNMAP %zu bytes at IOVA 0x%llx: %s", len,
				 (unsigned long long)iova, strerror(-ret));
	ASSERT_EQ((uint64_t)len, done)
		TH_LOG("IOMMU_IOAS_UNMAP at 0x%llx: expected %zu bytes unmapped, found "
		       "%llu", (unsigned long long)iova, len, (unsigned long long)done);
}

static void snap_events(struct __test_metadata *_metadata,
			FIXTURE_DATA(dma) *self, struct dbg_snap *s)
{
	int ret;

	if (!self->ours)
		return;
	ret = dbg_snap("event F_TRANSLATION", s);
	ASSERT_EQ(0, ret) TH_LOG("reading " SMMUV3_DEBUGFS "/*/stats: %s", strerror(-ret));
}

/*
 * With our driver: F_TRANSLATION grew by at least FAULTS on the device's
 * instance and stayed put on every other one.
 */
static void check_events(struct __test_metadata *_metadata,
			 FIXTURE_DATA(dma) *self, const struct dbg_snap *before,
			 unsigned int faults)
{
	const char *own = self->dev.inst;
	struct dbg_snap after;
	uint64_t want = dbg_snap_get(before, own) + faults, v = 0;
	int ret;

	if (!self->ours)
		return;
	ret = dbg_stat_wait(own, "event F_TRANSLATION", want, EVENT_WAIT_MS, &v);
	ASSERT_EQ(0, ret)
		TH_LOG("%s: after %u faulting DMAs, expected \"event F_TRANSLATION\" on "
		       "its instance %s to grow from %llu to at least %llu within %d ms, "
		       "found %llu", self->dev.bdf, faults, own,
		       (unsigned long long)dbg_snap_get(before, own),
		       (unsigned long long)want, EVENT_WAIT_MS, (unsigned long long)v);
	snap_events(_metadata, self, &after);
	for (int i = 0; i < after.n; i++) {
		if (!strcmp(after.inst[i], own))
			continue;
		EXPECT_EQ(dbg_snap_get(before, after.inst[i]), after.v[i])
			TH_LOG("%s faulted behind %s: expected no F_TRANSLATION event on "
			       "instance %s, found the count going from %llu to %llu",
			       self->dev.bdf, own, after.inst[i],
			       (unsigned long long)dbg_snap_get(before, after.inst[i]),
			       (unsigned long long)after.v[i]);
	}
	INFO("%s: %u faulting DMAs, F_TRANSLATION on %s %llu -> %llu, unchanged "
	     "elsewhere", self->dev.bdf, faults, own,
	     (unsigned long long)dbg_snap_get(before, own), (unsigned long long)v);
}

/*
 * The whole cycle on one LEN-byte region (self->mem) for the current
 * device: map at IOVA and ALIAS, control page at CTL; DMA at each offset;
 * unmap IOVA; faults; alias still works; events.
 */
static void region_cycle(struct __test_metadata *_metadata, FIXTURE_DATA(dma) *self,
			 size_t len, uint64_t align, const size_t *offs, int noffs)
{
	struct edu_dev *d = &self->dev;
	unsigned char *mem = self->mem.va;
	uint64_t span = (len + SZ_2M - 1) / SZ_2M * SZ_2M + SZ_2M;
	uint64_t base, iova, alias, ctl, tlbi0 = 0, tlbi1 = 0;
	struct dbg_snap ev;
	unsigned int faults = 0;
	int ret;

	ret = iommufd_pick_iova(self->iommufd, self->ioas, IOVA_MIN, 3 * span,
				align > SZ_2M ? align : SZ_2M, &base);
	ASSERT_EQ(0, ret) TH_LOG("no allowed IOVA window of %llu bytes at or above "
				 "0x%llx (IOMMU_IOAS_IOVA_RANGES): %s",
				 (unsigned long long)(3 * span),
				 (unsigned long long)IOVA_MIN, strerror(-ret));
	iova = base;
	alias = base + span;
	ctl = base + 2 * span;
	map_at(_metadata, self, mem, len, iova);
	map_at(_metadata, self, mem, len, alias);
	map_at(_metadata, self, self->ctl.va, PAGE, ctl);
	INFO("%s: %zu KiB mapped at IOVA 0x%llx and at alias 0x%llx, control page at "
	     "0x%llx", d->bdf, len >> 10, (unsigned long long)iova,
	     (unsigned long long)alias, (unsigned long long)ctl);

	/* Both directions, through different parts of the mapping. */
	for (int i = 0; i < noffs; i++) {
		size_t o = offs[i], o2 = offs[(i + 1) % noffs];

		ASSERT_CHECK(edu_roundtrip(d, mem + o, iova + o, mem + o2, iova + o2, PAGE,
					   &self->rng, ERRBUF));
	}
	/* The alias too (and fill the IOTLB with both). */
	ASSERT_CHECK(edu_roundtrip(d, mem + offs[0], alias + offs[0], self->ctl.va, ctl,
				   PAGE, &self->rng, ERRBUF));
	for (int i = 0; i < noffs; i++)
		ASSERT_CHECK(edu_roundtrip(d, mem + offs[i], iova + offs[i], self->ctl.va,
					   ctl, PAGE, &self->rng, ERRBUF));
	INFO("%s: DMA both ways intact at %d offset(s) of the mapping and through "
	     "the alias", d->bdf, noffs);

	if (self->ours)
		ASSERT_EQ(0, dbg_stat_prefix(d->inst, "cmd TLBI_", &tlbi0));
	unmap_at(_metadata, self, iova, len);
	if (self->ours) {
		ASSERT_EQ(0, dbg_stat_prefix(d->inst, "cmd TLBI_", &tlbi1));
		ASSERT_LT(tlbi0, tlbi1)
			TH_LOG("%s: unmapping %zu bytes at IOVA 0x%llx: expected TLBI "
			       "commands on %s, found none issued", d->bdf, len,
			       (unsigned long long)iova, d->inst);
		INFO("%s: unmap of %zu KiB issued %llu TLBI command(s) on %s", d->bdf,
		     len >> 10, (unsigned long long)(tlbi1 - tlbi0), d->inst);
	}

	snap_events(_metadata, self, &ev);
	for (int i = 0; i < noffs; i++) {
		size_t o = offs[i];

		ASSERT_CHECK(edu_write_dropped(d, iova + o, mem + o, PAGE, &self->rng,
					       ERRBUF));
		faults++;
		ASSERT_CHECK(edu_read_dropped(d, iova + o, mem + o, self->ctl.va, ctl, PAGE,
					      &self->rng, ERRBUF));
		faults++;
	}
	INFO("%s: after the unmap, DMA to and from IOVA 0x%llx faulted at %d "
	     "offset(s), memory untouched", d->bdf, (unsigned long long)iova, noffs);
	/* The same memory through the alias still works. */
	for (int i = 0; i < noffs; i++)
		ASSERT_CHECK(edu_roundtrip(d, mem + offs[i], alias + offs[i], self->ctl.va,
					   ctl, PAGE, &self->rng, ERRBUF));
	check_events(_metadata, self, &ev, faults);

	unmap_at(_metadata, self, alias, len);
	unmap_at(_metadata, self, ctl, PAGE);
}

static void run_size(struct __test_metadata *_metadata, FIXTURE_DATA(dma) *self,
		     size_t len, uint64_t align, const size_t *offs, int noffs,
		     bool huge)
{
	for (int i = 0; i < self->edus.n; i++) {
		int ret;

		if (huge)
			ret = huge_alloc(&self->mem, len);
		else
			ret = pinned_alloc(&self->mem, len);
		ASSERT_EQ(0, ret) TH_LOG("%zu-byte buffer: %s", len, strerror(-ret));
		if (huge)
			INFO("2 MiB huge page at PA 0x%llx", (unsigned long long)self->mem.pa);
		open_attached(_metadata, self, self->edus.v[i]);
		region_cycle(_metadata, self, len, align, offs, noffs);
		close_attached(_metadata, self);
		pinned_free(&self->mem);
	}
}

TEST_F_TIMEOUT(dma, map_4k, DMA_TIMEOUT)
{
	static const size_t offs[] = { 0 };

	run_size(_metadata, self, PAGE, PAGE, offs, 1, false);
}

TEST_F_TIMEOUT(dma, map_64k, DMA_TIMEOUT)
{
	static const size_t offs[] = { 0, SZ_64K / 2, SZ_64K - PAGE };

	run_size(_metadata, self, SZ_64K, SZ_64K, offs, 3, false);
}

TEST_F_TIMEOUT(dma, map_2m_hugepage, DMA_TIMEOUT)
{
	static const size_t offs[] = { 0, SZ_2M / 2 + 3 * PAGE, SZ_2M - PAGE };
	long hps = hugepage_size();
	int ret;

	if (hps < 0)
		SKIP(return, "no hugetlb support (%s: no Hugepagesize in /proc/meminfo)",
		     strerror((int)-hps));
	if (hps != (long)SZ_2M)
		SKIP(return, "the default huge page size is %ld KiB, not 2 MiB", hps >> 10);
	ret = hugepages_reserve(1, &self->old_nr_hugepages);
	if (ret)
		SKIP(return, "no free 2 MiB huge page could be had (raising "
		     "/proc/sys/vm/nr_hugepages: %s)", strerror(-ret));
	ret = huge_alloc(&self->mem, SZ_2M);
	if (ret)
		SKIP(return, "mmap(MAP_HUGETLB) of 2 MiB: %s", strerror(-ret));
	pinned_free(&self->mem);
	run_size(_metadata, self, SZ_2M, SZ_2M, offs, 3, true);
}

TEST_F_TIMEOUT(dma, many_4k_mappings, DMA_TIMEOUT)
{
	unsigned char *snap = malloc(PAGE);
	int sample[MANY_SAMPLE];

	ASSERT_NE(NULL, snap);
	/* First, last, middle, and random others (distinct). */
	sample[0] = 0;
	sample[1] = MANY - 1;
	sample[2] = MANY / 2;
	for (int k = 3; k < MANY_SAMPLE; k++) {
		bool dup;

		do {
			sample[k] = prng_next(&self->rng) % MANY;
			dup = false;
			for (int j = 0; j < k; j++)
				dup |= sample[j] == sample[k];
		} while (dup);
	}

	for (int e = 0; e < self->edus.n; e++) {
		struct edu_dev *d = &self->dev;
		unsigned char *mem;
		uint64_t base, ctl;
		struct dbg_snap ev;
		unsigned int faults = 0;
		uint64_t t0;
		int ret;

		ret = pinned_alloc(&self->mem, MANY * PAGE);
		ASSERT_EQ(0, ret) TH_LOG("pinned buffer: %s", strerror(-ret));
		mem = self->mem.va;
		open_attached(_metadata, self, self->edus.v[e]);

		/* Page i at base + 2 * i * PAGE: a 4 KiB hole after each. */
		ret = iommufd_pick_iova(self->iommufd, self->ioas, IOVA_MIN,
					2 * MANY * PAGE + SZ_2M, SZ_2M, &base);
		ASSERT_EQ(0, ret) TH_LOG("no allowed IOVA window at or above 0x%llx: %s",
					 (unsigned long long)IOVA_MIN, strerror(-ret));
		ctl = base + 2 * MANY * PAGE;
		t0 = now_ms();
		for (int i = 0; i < MANY; i++)
			map_at(_metadata, self, mem + i * PAGE, PAGE, base + 2 * i * PAGE);
		map_at(_metadata, self, self->ctl.va, PAGE, ctl);
		INFO("%s: %d separate 4 KiB mappings from IOVA 0x%llx, stride 8 KiB, in "
		     "%llu ms", d->bdf, MANY, (unsigned long long)base,
		     (unsigned long long)(now_ms() - t0));

		/* RAM page sample[k] -> device -> RAM page sample[k + 1]. */
		for (int k = 0; k < MANY_SAMPLE; k++) {
			int i = sample[k], j = sample[(k + 1) % MANY_SAMPLE];

			ASSERT_CHECK(edu_roundtrip(d, mem + i * PAGE, base + 2 * i * PAGE,
						   mem + j * PAGE, base + 2 * j * PAGE, PAGE,
						   &self->rng, ERRBUF));
		}
		INFO("%s: DMA both ways intact through %d of the mappings", d->bdf,
		     MANY_SAMPLE);

		/* The holes are not mapped: neighbours untouched. */
		snap_events(_metadata, self, &ev);
		for (int k = 0; k < 2; k++) {
			int i = sample[k + 2] == MANY - 1 ? MANY - 2 : sample[k + 2];
			uint64_t hole = base + (2 * i + 1) * PAGE;

			memcpy(snap, mem + i * PAGE, PAGE);
			ASSERT_CHECK(edu_write_dropped(d, hole, mem + (i + 1) * PAGE, PAGE,
						       &self->rng, ERRBUF));
			faults++;
			ASSERT_EQ(0, memcmp(snap, mem + i * PAGE, PAGE))
				TH_LOG("%s: a DMA into the hole at IOVA 0x%llx changed the "
				       "page mapped below it", d->bdf,
				       (unsigned long long)hole);
		}

		t0 = now_ms();
		for (int i = 0; i < MANY; i++)
			unmap_at(_metadata, self, base + 2 * i * PAGE, PAGE);
		INFO("%s: %d mappings unmapped one by one in %llu ms", d->bdf, MANY,
		     (unsigned long long)(now_ms() - t0));
		/* Refill the device buffer with known content. */
		ASSERT_CHECK(edu_roundtrip(d, self->ctl.va, ctl, self->ctl.va, ctl, PAGE,
					   &self->rng, ERRBUF));
		for (int k = 0; k < MANY_SAMPLE / 2; k++) {
			int i = sample[k];

			ASSERT_CHECK(edu_write_dropped(d, base + 2 * i * PAGE, mem + i * PAGE,
						       PAGE, &self->rng, ERRBUF));
			faults++;
			ASSERT_CHECK(edu_read_dropped(d, base + 2 * i * PAGE, mem + i * PAGE,
						      self->ctl.va, ctl, PAGE, &self->rng,
						      ERRBUF));
			faults++;
		}
		INFO("%s: after unmapping all, DMA to and from %d of the IOVAs faulted, "
		     "memory untouched", d->bdf, MANY_SAMPLE / 2);
		check_events(_metadata, self, &ev, faults);
		unmap_at(_metadata, self, ctl, PAGE);
		close_attached(_metadata, self);
		pinned_free(&self->mem);
	}
	free(snap);
}

TEST_HARNESS_MAIN
