/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * virtio-blk PCI disks behind an IOMMU: their group's default domain type,
 * their block device, and a write / drop caches / read back / compare
 * cycle with O_DIRECT (the kernel DMA API path of an unmodified driver).
 */
#ifndef SMMUV3_SELFTEST_BLK_H
#define SMMUV3_SELFTEST_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mem.h"
#include "sysfs.h"
#include "env.h"

#define VIRTIO_ACCESS_PLATFORM_BIT 33

/* virtio-blk PCI devices (modern and legacy IDs) behind an IOMMU instance. */
int blk_disks_behind_iommu(struct strlist *out, int *skipped);

/*
 * For a FIXTURE_SETUP (kselftest_harness.h): list the virtio-blk disks
 * behind an IOMMU instance into DISKS (a struct strlist *, initialised
 * here), say how many sit behind none, and skip the test when none is.
 */
#define DISKS_OR_SKIP(disks) do {					\
	int __none = 0;							\
	int __ret;							\
									\
	strlist_init(disks);						\
	__ret = blk_disks_behind_iommu((disks), &__none);		\
	ASSERT_LE(0, __ret) TH_LOG("listing " SYSFS_PCI_DEVICES ": %s",	\
				   strerror(-__ret));			\
	if (__none)							\
		INFO("%d virtio-blk device(s) behind no IOMMU instance: "	\
		     "not tested", __none);				\
	if (!(disks)->n)						\
		SKIP(return,						\
		     "no virtio-blk PCI device behind an IOMMU instance");	\
} while (0)
/*
 * Unbind BDF from its driver, write TYPE ("identity", "DMA", "DMA-FQ") to
 * /sys/kernel/iommu_groups/G/type, bind BDF again (to the driver it had),
 * whatever happened.  Returns 0 or -errno with ERR saying which step failed.
 */
int blk_set_group_type(const char *bdf, int g, const char *type, char *err,
		       size_t len);

/*
 * Switch the group of BDF to TYPE and check that it took: *GROUP gets the
 * group number and FROM (FROMLEN bytes) its type before the switch, both
 * set before the switch is tried, so that a teardown can switch back after
 * a failure.  Returns 0, or -1 with ERR saying which step failed.
 */
int blk_switch_group(const char *bdf, const char *type, int *group, char *from,
		     size_t fromlen, char *err, size_t len);

/*
 * For a FIXTURE_TEARDOWN (kselftest_harness.h): put GROUP (if >= 0), the
 * group of BDF that a test switched, back to type FROM, and say how it went.
 */
/*
 * For a test (kselftest_harness.h): DEV (char[], at least 32 bytes) gets
 * the block device of the virtio-blk function BDF, which must have
 * negotiated VIRTIO_F_ACCESS_PLATFORM (its DMA goes through the IOMMU).
 * Uses the test's int ret.
 */
#define BLK_DEV_THROUGH_IOMMU(bdf, dev) do {				\
	ret = blk_blockdev_of((bdf), (dev), sizeof(dev));		\
	ASSERT_EQ(0, ret) TH_LOG("%s: expected a virtio block device "	\
				 "below it, found none (%s)", (bdf),	\
				 strerror(-ret));			\
	ret = blk_access_platform(bdf);					\
	ASSERT_LE(0, ret) TH_LOG("%s: virtio features: %s", (bdf),	\
				 strerror(-ret));			\
	ASSERT_EQ(1, ret)						\
		TH_LOG("%s (%s): expected VIRTIO_F_ACCESS_PLATFORM (bit %d) "	\
		       "negotiated, found it off: the device bypasses the "	\
		       "IOMMU (QEMU needs iommu_platform=on)", (dev), (bdf),	\
		       VIRTIO_ACCESS_PLATFORM_BIT);				\
} while (0)

#define BLK_GROUP_SWITCH_BACK(bdf, group, from) do {			\
	char __err[256];						\
									\
	if ((group) < 0 || !(from)[0])					\
		break;							\
	if (blk_set_group_type((bdf), (group), (from), __err,		\
			       sizeof(__err)))				\
		INFO("restoring group %d to %s failed: %s", (group),	\
		     (from), __err);					\
	else								\
		INFO("group %d switched back to %s", (group), (from));	\
} while (0)
/* The virtio device under PCI device BDF ("virtioN"), waiting for it. */
int blk_virtio_child(const char *bdf, char *buf, size_t len);
/* The block device ("vdX") of PCI device BDF, waiting for it. */
int blk_blockdev_of(const char *bdf, char *buf, size_t len);
/*
 * Whether VIRTIO_F_ACCESS_PLATFORM was negotiated for BDF's virtio device
 * (without it the device bypasses the IOMMU).  1, 0 or -errno.
 */
int blk_access_platform(const char *bdf);
/* Size in bytes and logical block size of block device DEV ("vdX"). */
int blk_size(const char *dev, uint64_t *bytes, uint64_t *lbs);

/* pread/pwrite LEN bytes at OFF in CHUNK-byte requests. */
int blk_io(int fd, void *buf, size_t len, off_t off, size_t chunk, bool write,
	   char *err, size_t errlen);

struct blk_result {
	uint64_t hash_written;
	uint64_t hash_read;
	uint64_t write_ms;	/* pwrite + fdatasync */
	uint64_t read_ms;
	size_t ndiff;		/* bytes that differ */
	long first;		/* first differing byte, -1 if none */
};

/*
 * Write LEN pseudo-random bytes (from R) at OFF of /dev/DEV with O_DIRECT in
 * CHUNK-byte requests, fdatasync, flush the device's buffers and drop the
 * page cache, read them back with O_DIRECT and compare.  Returns 0 when
 * the I/O itself worked (the caller compares RES->hash_*), or -errno with
 * ERR saying which step failed.
 */
int blk_pattern_cycle(const char *dev, size_t off, size_t len, size_t chunk,
		      struct prng *r, struct blk_result *res, char *err,
		      size_t errlen);
/*
 * A region of a disk of SIZE bytes to overwrite: at most MAX bytes, 64 KiB
 * aligned, clear of the first MiB (the guest /init's data).
 */
void blk_region(uint64_t size, size_t max, size_t *off, size_t *len);

#endif
