// SPDX-License-Identifier: GPL-2.0-only
/*
 * smmuv3_dma_api_blk: block I/O through a virtio-blk disk whose IOMMU
 * group is in a translating DMA domain: the kernel DMA API (dma-iommu) on
 * top of a paging domain of the driver, used by an unmodified in-tree
 * driver.
 *
 * For each virtio-blk PCI device behind an IOMMU instance, and for each of
 * the group types "DMA" (strict: every unmap invalidates at once) and
 * "DMA-FQ" (lazy: unmaps are invalidated in batches from a flush queue):
 * switch the group (unbind the driver, write the type, rebind), check the
 * type took and VIRTIO_F_ACCESS_PLATFORM is negotiated, write 8 MiB of
 * pseudo-random data with O_DIRECT in 256 KiB requests, drop caches, read
 * it back with O_DIRECT and compare checksums.  The throughput is printed
 * (no timing assertion).  The group type is restored afterwards, also
 * after a failure.
 *
 * With our driver: the group's domain appears in the domains file with a
 * live stage-1 entry for the disk's instance, and the I/O in the strict
 * domain issued TLBI commands on that instance (each unmap invalidates).
 */
#include <errno.h>
#include <limits.h>
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

#define REGION_MAX	(8u << 20)	/* bytes written per disk and type */
#define CHUNK		(256u << 10)	/* bytes per O_DIRECT request */
#define BLK_TIMEOUT	300

FIXTURE(dma_blk)
{
	struct strlist disks;
	/* The group whose type the test changed, and its type before. */
	int switched_group;
	char switched_from[32];
	char switched_bdf[32];
	bool ours;
	struct dbg_domains *dd0, *dd;
};

FIXTURE_VARIANT(dma_blk)
{
	const char *type;
	bool strict;
};

FIXTURE_VARIANT_ADD(dma_blk, strict)
{
	.type = "DMA",
	.strict = true,
};

FIXTURE_VARIANT_ADD(dma_blk, lazy)
{
	.type = "DMA-FQ",
	.strict = false,
};

FIXTURE_SETUP(dma_blk)
{
	self->switched_group = -1;
	DISKS_OR_SKIP(&self->disks);
	self->ours = DRIVER_OURS_CHECKED();
	self->dd0 = malloc(sizeof(*self->dd0));
	self->dd = malloc(sizeof(*self->dd));
	ASSERT_NE(NULL, self->dd0);
	ASSERT_NE(NULL, self->dd);
}

FIXTURE_TEARDOWN(dma_blk)
{
	BLK_GROUP_SWITCH_BACK(self->switched_bdf, self->switched_group,
			      self->switched_from);
	free(self->dd0);
	free(self->dd);
	strlist_free(&self->disks);
}

/* MiB/s of LEN bytes in MS milliseconds, for printing. */
static double mibs(size_t len, uint64_t ms)
{
	return ms ? (double)len / (1 << 20) * 1000.0 / ms : 0.0;
}

TEST_F_TIMEOUT(dma_blk, pattern_io, BLK_TIMEOUT)
{
	char inst[128], dev[32], err[256], desc[512];
	struct prng rng;
	uint64_t seed = prng_time_seed();

	prng_seed(&rng, seed);
	INFO("group type %s; patterns from seed 0x%016llx", variant->type,
	     (unsigned long long)seed);

	for (int i = 0; i < self->disks.n; i++) {
		const char *bdf = self->disks.v[i];
		uint64_t size, lbs, tlbi0 = 0, tlbi1 = 0, sync0 = 0, sync1 = 0;
		struct blk_result res;
		unsigned int dom = 0;
		size_t off, len;
		int g, ret;

		ASSERT_EQ(0, pci_iommu_instance(bdf, inst, sizeof(inst)));
		if (self->ours)
			ASSERT_EQ(0, dbg_domains_read(self->dd0));
		snprintf(self->switched_bdf, sizeof(self->switched_bdf), "%s", bdf);
		ret = blk_switch_group(bdf, variant->type, &self->switched_group,
				       self->switched_from, sizeof(self->switched_from),
				       err, sizeof(err));
		ASSERT_EQ(0, ret) TH_LOG("%s", err);
		g = self->switched_group;
		INFO("group %d of %s (behind %s) was %s: switched to %s (unbound the "
		     "driver, wrote the type, rebound)", g, bdf, inst, self->switched_from,
		     variant->type);

		BLK_DEV_THROUGH_IOMMU(bdf, dev);

		if (self->ours) {
			const struct dbg_domain *d;

			ASSERT_EQ(0, dbg_domains_read(self->dd));
			ret = dbg_domains_new(self->dd0, self->dd, &dom);
			ASSERT_EQ(0, ret)
				TH_LOG("group %d switched to %s: expected one new domain in "
				       SMMUV3_DEBUGFS "/domains, found %s", g, variant->type,
				       ret == -ENOENT ? "none" : "several");
			d = dbg_domain_find(self->dd, dom);
			ASSERT_EQ(1, dbg_domain_live(d, inst, DBG_INV_S1_ASID, NULL))
				TH_LOG("the %s domain of %s: expected one live ASID entry for "
				       "%s, found %s", variant->type, bdf, inst,
				       dbg_domain_str(d, desc, sizeof(desc)));
			ASSERT_EQ(0, dbg_stat_prefix(inst, "cmd TLBI_", &tlbi0));
			ASSERT_EQ(0, dbg_stat(inst, "cmd_syncs", &sync0));
		}

		ret = blk_size(dev, &size, &lbs);
		ASSERT_EQ(0, ret) TH_LOG("%s size: %s", dev, strerror(-ret));
		if (size < (4u << 20))
			SKIP(return, "%s is %llu bytes: too small (want 4 MiB or more)", dev,
			     (unsigned long long)size);
		blk_region(size, REGION_MAX, &off, &len);
		ASSERT_EQ((uint64_t)0, len % lbs);

		ret = blk_pattern_cycle(dev, off, len, CHUNK, &rng, &res, err, sizeof(err));
		ASSERT_EQ(0, ret) TH_LOG("%s (%s, %s): %s", dev, bdf, variant->type, err);
		ASSERT_EQ(res.hash_written, res.hash_read)
			TH_LOG("%s (%s, group %d %s, behind %s): expected the %zu bytes read "
			       "back at offset %zu to match what was written (fnv1a64 "
			       "0x%016llx), found fnv1a64 0x%016llx, %zu bytes differ, "
			       "first at +%ld", dev, bdf, g, variant->type, inst, len, off,
			       (unsigned long long)res.hash_written,
			       (unsigned long long)res.hash_read, res.ndiff, res.first);
		INFO("%s (%s, group %d %s, behind %s): %zu KiB at offset %zu KiB: write "
		     "%llu ms (%.1f MiB/s), read %llu ms (%.1f MiB/s), fnv1a64 0x%016llx "
		     "matches", dev, bdf, g, variant->type, inst, len >> 10, off >> 10,
		     (unsigned long long)res.write_ms, mibs(len, res.write_ms),
		     (unsigned long long)res.read_ms, mibs(len, res.read_ms),
		     (unsigned long long)res.hash_read);

		if (self->ours) {
			ASSERT_EQ(0, dbg_stat_prefix(inst, "cmd TLBI_", &tlbi1));
			ASSERT_EQ(0, dbg_stat(inst, "cmd_syncs", &sync1));
			INFO("%s: during the I/O %s issued %llu TLBI commands and %llu "
			     "CMD_SYNCs", variant->type, inst,
			     (unsigned long long)(tlbi1 - tlbi0),
			     (unsigned long long)(sync1 - sync0));
			if (variant->strict)
				EXPECT_LT(tlbi0, tlbi1)
					TH_LOG("%zu KiB of I/O through the strict DMA domain "
					       "of %s: expected TLBI commands on %s (every "
					       "unmap invalidates), found none", len >> 10,
					       bdf, inst);
		}

		ret = blk_set_group_type(bdf, g, self->switched_from, err, sizeof(err));
		ASSERT_EQ(0, ret) TH_LOG("switching group %d back to %s: %s", g,
					 self->switched_from, err);
		INFO("group %d switched back to %s", g, self->switched_from);
		self->switched_group = -1;
		if (self->ours) {
			ASSERT_EQ(0, dbg_domains_read(self->dd));
			EXPECT_EQ(NULL, dbg_domain_find(self->dd, dom))
				TH_LOG("group %d back to %s: expected its %s domain %u gone "
				       "from " SMMUV3_DEBUGFS "/domains, found it listed", g,
				       self->switched_from, variant->type, dom);
		}
	}
}

TEST_HARNESS_MAIN
