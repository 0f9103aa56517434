// SPDX-License-Identifier: GPL-2.0-only
/*
 * smmuv3_identity_blk: block I/O through a virtio-blk disk whose IOMMU
 * group is in an identity domain: the kernel DMA API path with the SMMU in
 * bypass for that stream, and an unmodified in-tree driver.
 *
 * For each virtio-blk PCI device behind an IOMMU instance: make sure the
 * group type is "identity" (switch it, and back afterwards, if not), check
 * the device really goes through the IOMMU (VIRTIO_F_ACCESS_PLATFORM),
 * write a pseudo-random pattern with O_DIRECT to a region of the disk,
 * drop caches, read it back with O_DIRECT and compare.
 *
 * The region lies after the first MiB (the guest /init writes its own data
 * there before the selftests) and is overwritten.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "blk.h"
#include "env.h"
#include "mem.h"
#include "sysfs.h"

#define REGION_MAX	(4u << 20)	/* bytes written per disk */
#define CHUNK		(256u << 10)	/* bytes per O_DIRECT request */
#define BLK_TIMEOUT	300

FIXTURE(blk)
{
	struct strlist disks;	/* virtio-blk PCI devices behind an instance */
	/* A group switched to identity by the test, to switch back. */
	int switched_group;
	char switched_from[32];
	char switched_bdf[32];
};

FIXTURE_SETUP(blk)
{
	self->switched_group = -1;
	DISKS_OR_SKIP(&self->disks);
}

FIXTURE_TEARDOWN(blk)
{
	BLK_GROUP_SWITCH_BACK(self->switched_bdf, self->switched_group,
			      self->switched_from);
	strlist_free(&self->disks);
}

TEST_F_TIMEOUT(blk, identity_io, BLK_TIMEOUT)
{
	char inst[128], type[32], dev[32], err[256];
	struct prng rng;
	uint64_t seed = prng_time_seed();

	prng_seed(&rng, seed);
	INFO("patterns from seed 0x%016llx", (unsigned long long)seed);

	for (int i = 0; i < self->disks.n; i++) {
		const char *bdf = self->disks.v[i];
		struct blk_result res;
		uint64_t size, lbs;
		size_t off, len;
		int g, ret;

		ASSERT_EQ(0, pci_iommu_instance(bdf, inst, sizeof(inst)));
		g = pci_iommu_group(bdf);
		ASSERT_LE(0, g) TH_LOG("%s: expected an IOMMU group, found none (%s)", bdf,
				       strerror(-g));
		ret = iommu_group_type(g, type, sizeof(type));
		ASSERT_LE(0, ret) TH_LOG("group %d type: %s", g, strerror(-ret));
		if (strcmp(type, "identity")) {
			snprintf(self->switched_bdf, sizeof(self->switched_bdf), "%s", bdf);
			ret = blk_switch_group(bdf, "identity", &self->switched_group,
					       self->switched_from,
					       sizeof(self->switched_from), err, sizeof(err));
			ASSERT_EQ(0, ret) TH_LOG("%s", err);
			INFO("group %d of %s was %s: switched to identity (unbound the "
			     "driver, wrote the type, rebound)", g, bdf, self->switched_from);
		}

		BLK_DEV_THROUGH_IOMMU(bdf, dev);

		ret = blk_size(dev, &size, &lbs);
		ASSERT_EQ(0, ret) TH_LOG("%s size: %s", dev, strerror(-ret));
		if (size < (2u << 20))
			SKIP(return, "%s is %llu bytes: too small (want 2 MiB or more)", dev,
			     (unsigned long long)size);
		blk_region(size, REGION_MAX, &off, &len);
		ASSERT_EQ((uint64_t)0, len % lbs);

		ret = blk_pattern_cycle(dev, off, len, CHUNK, &rng, &res, err, sizeof(err));
		ASSERT_EQ(0, ret) TH_LOG("%s (%s): %s", dev, bdf, err);
		ASSERT_EQ(res.hash_written, res.hash_read)
			TH_LOG("%s (%s, group %d identity, behind %s): expected the %zu "
			       "bytes read back at offset %zu to match what was "
			       "written (fnv1a64 0x%016llx), found fnv1a64 0x%016llx, "
			       "%zu bytes differ, first at +%ld", dev, bdf, g, inst,
			       len, off, (unsigned long long)res.hash_written,
			       (unsigned long long)res.hash_read, res.ndiff, res.first);
		INFO("%s (%s, group %d identity, behind %s): %zu KiB at offset %zu KiB "
		     "written in %llu ms, read back in %llu ms, fnv1a64 0x%016llx "
		     "matches", dev, bdf, g, inst, len >> 10, off >> 10,
		     (unsigned long long)res.write_ms, (unsigned long long)res.read_ms,
		     (unsigned long long)res.hash_read);

		if (self->switched_group >= 0) {
			ret = blk_set_group_type(bdf, g, self->switched_from, err, sizeof(err));
			ASSERT_EQ(0, ret) TH_LOG("switching group %d back to %s: %s", g,
						 self->switched_from, err);
			INFO("group %d switched back to %s", g, self->switched_from);
			self->switched_group = -1;
		}
	}
}

TEST_HARNESS_MAIN
