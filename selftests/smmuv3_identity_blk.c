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
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/fs.h>

#include "kselftest_harness.h"

#include "env.h"
#include "mem.h"
#include "sysfs.h"

#define REGION_MAX	(4u << 20)	/* bytes written per disk */
#define CHUNK		(256u << 10)	/* bytes per O_DIRECT request */
#define BLK_TIMEOUT	300
#define VIRTIO_ACCESS_PLATFORM_BIT 33

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
	struct strlist all;
	char inst[128];
	int ret;

	self->switched_group = -1;
	strlist_init(&self->disks);
	strlist_init(&all);
	ret = pci_find(PCI_VENDOR_VIRTIO, PCI_DEVICE_VIRTIO_BLK_MODERN, &all);
	ASSERT_LE(0, ret) TH_LOG("listing " SYSFS_PCI_DEVICES ": %s", strerror(-ret));
	ret = pci_find(PCI_VENDOR_VIRTIO, PCI_DEVICE_VIRTIO_BLK_LEGACY, &all);
	ASSERT_LE(0, ret) TH_LOG("listing " SYSFS_PCI_DEVICES ": %s", strerror(-ret));
	for (int i = 0; i < all.n; i++) {
		if (pci_iommu_instance(all.v[i], inst, sizeof(inst)))
			INFO("virtio-blk %s is behind no IOMMU instance: not tested",
			     all.v[i]);
		else
			strlist_add(&self->disks, all.v[i]);
	}
	strlist_free(&all);
	if (!self->disks.n)
		SKIP(return, "no virtio-blk PCI device behind an IOMMU instance");
}

/* Unbind BDF, write TYPE to group G, bind BDF again (to its own driver). */
static int set_group_type(const char *bdf, int g, const char *type, char *err,
			  size_t len)
{
	char drv[64], path[PATH_MAX];
	int ret;

	ret = pci_driver(bdf, drv, sizeof(drv));
	if (!ret)
		ret = pci_unbind(bdf);
	if (ret) {
		snprintf(err, len, "unbinding %s: %s", bdf, strerror(-ret));
		return ret;
	}
	snprintf(path, sizeof(path), SYSFS_IOMMU_GROUPS "/%d/type", g);
	ret = sysfs_write(path, type);
	if (ret)
		snprintf(err, len, "writing \"%s\" to %s: %s%s", type, path,
			 strerror(-ret), ret == -EPERM ?
			 " (another device of the group still has a driver?)" : "");
	/* Rebind whatever happened. */
	if (sysfs_write("/sys/bus/pci/drivers_probe", bdf) && !ret) {
		snprintf(err, len, "rebinding %s", bdf);
		ret = -EIO;
	}
	if (!ret && drv[0]) {
		uint64_t t0 = now_ms();

		while (!pci_driver(bdf, path, sizeof(path)) && strcmp(path, drv)) {
			if (now_ms() - t0 > 5000) {
				snprintf(err, len, "%s did not bind to %s again", bdf, drv);
				return -ETIMEDOUT;
			}
			usleep(10000);
		}
	}
	return ret;
}

FIXTURE_TEARDOWN(blk)
{
	char err[256];

	if (self->switched_group >= 0) {
		if (set_group_type(self->switched_bdf, self->switched_group,
				   self->switched_from, err, sizeof(err)))
			INFO("restoring group %d to %s failed: %s", self->switched_group,
			     self->switched_from, err);
		else
			INFO("group %d switched back to %s", self->switched_group,
			     self->switched_from);
	}
	strlist_free(&self->disks);
}

/* The virtio device under PCI device BDF ("virtioN"), waiting for it. */
static int virtio_child(const char *bdf, char *buf, size_t len)
{
	char dir[PATH_MAX];
	struct strlist ents;
	uint64_t t0 = now_ms();
	int ret = -ENOENT;

	snprintf(dir, sizeof(dir), SYSFS_PCI_DEVICES "/%s", bdf);
	do {
		strlist_init(&ents);
		dir_list(dir, &ents);
		for (int i = 0; i < ents.n; i++) {
			if (!strncmp(ents.v[i], "virtio", 6)) {
				snprintf(buf, len, "%s", ents.v[i]);
				ret = 0;
			}
		}
		strlist_free(&ents);
		if (!ret)
			return 0;
		usleep(10000);
	} while (now_ms() - t0 < 5000);
	return ret;
}

/* The block device ("vdX") of PCI device BDF, waiting for it. */
static int blockdev_of(const char *bdf, char *buf, size_t len)
{
	char vdev[64], dir[PATH_MAX];
	struct strlist ents;
	uint64_t t0 = now_ms();
	int ret;

	ret = virtio_child(bdf, vdev, sizeof(vdev));
	if (ret)
		return ret;
	snprintf(dir, sizeof(dir), SYSFS_PCI_DEVICES "/%s/%s/block", bdf, vdev);
	do {
		strlist_init(&ents);
		ret = dir_list(dir, &ents);
		if (ret > 0) {
			snprintf(buf, len, "%s", ents.v[0]);
			strlist_free(&ents);
			snprintf(dir, sizeof(dir), "/dev/%s", buf);
			return wait_for_path(dir, 2000);
		}
		strlist_free(&ents);
		usleep(10000);
	} while (now_ms() - t0 < 5000);
	return -ENOENT;
}

static int do_io(int fd, void *buf, size_t len, off_t off, bool write, char *err,
		 size_t errlen)
{
	for (size_t done = 0; done < len; done += CHUNK) {
		size_t n = len - done < CHUNK ? len - done : CHUNK;
		ssize_t r = write ? pwrite(fd, (char *)buf + done, n, off + done) :
				    pread(fd, (char *)buf + done, n, off + done);

		if (r != (ssize_t)n) {
			snprintf(err, errlen, "%s of %zu bytes at %lld: %s",
				 write ? "pwrite" : "pread", n, (long long)(off + done),
				 r < 0 ? strerror(errno) : "short transfer");
			return r < 0 ? -errno : -EIO;
		}
	}
	return 0;
}

TEST_F_TIMEOUT(blk, identity_io, BLK_TIMEOUT)
{
	char inst[128], type[32], dev[32], path[PATH_MAX], vdev[64], err[256];
	char feat[256];
	struct prng rng;
	uint64_t seed = prng_time_seed();
	void *wbuf = NULL, *rbuf = NULL;

	prng_seed(&rng, seed);
	INFO("patterns from seed 0x%016llx", (unsigned long long)seed);

	for (int i = 0; i < self->disks.n; i++) {
		const char *bdf = self->disks.v[i];
		uint64_t sectors, lbs, t0, t_write, t_read, hw, hr;
		size_t size, off, len;
		long first;
		int g, fd, ret;

		ASSERT_EQ(0, pci_iommu_instance(bdf, inst, sizeof(inst)));
		g = pci_iommu_group(bdf);
		ASSERT_LE(0, g) TH_LOG("%s: expected an IOMMU group, found none (%s)", bdf,
				       strerror(-g));
		ret = iommu_group_type(g, type, sizeof(type));
		ASSERT_LE(0, ret) TH_LOG("group %d type: %s", g, strerror(-ret));
		if (strcmp(type, "identity")) {
			ret = set_group_type(bdf, g, "identity", err, sizeof(err));
			ASSERT_EQ(0, ret) TH_LOG("switching group %d of %s from %s to "
						 "identity: %s", g, bdf, type, err);
			self->switched_group = g;
			snprintf(self->switched_from, sizeof(self->switched_from), "%s", type);
			snprintf(self->switched_bdf, sizeof(self->switched_bdf), "%s", bdf);
			INFO("group %d of %s was %s: switched to identity (unbound the "
			     "driver, wrote the type, rebound)", g, bdf, type);
			ret = iommu_group_type(g, type, sizeof(type));
			ASSERT_LE(0, ret);
			ASSERT_STREQ("identity", type)
				TH_LOG("group %d: expected type identity after the switch, "
				       "found %s", g, type);
		}

		ret = blockdev_of(bdf, dev, sizeof(dev));
		ASSERT_EQ(0, ret) TH_LOG("%s: expected a virtio block device below it, "
					 "found none (%s)", bdf, strerror(-ret));
		ASSERT_EQ(0, virtio_child(bdf, vdev, sizeof(vdev)));
		ret = sysfs_readf(feat, sizeof(feat), "/sys/bus/virtio/devices/%s/features",
				  vdev);
		ASSERT_LT(VIRTIO_ACCESS_PLATFORM_BIT, ret)
			TH_LOG("%s features: %s", vdev, ret < 0 ? strerror(-ret) : "too short");
		ASSERT_EQ('1', feat[VIRTIO_ACCESS_PLATFORM_BIT])
			TH_LOG("%s (%s): expected VIRTIO_F_ACCESS_PLATFORM (bit %d) "
			       "negotiated, found it off: the device bypasses the IOMMU "
			       "(QEMU needs iommu_platform=on)", dev, bdf,
			       VIRTIO_ACCESS_PLATFORM_BIT);

		snprintf(path, sizeof(path), "/sys/block/%s/size", dev);
		ret = sysfs_read_u64(path, &sectors);
		ASSERT_EQ(0, ret) TH_LOG("%s: %s", path, strerror(-ret));
		snprintf(path, sizeof(path), "/sys/block/%s/queue/logical_block_size", dev);
		if (sysfs_read_u64(path, &lbs) || !lbs)
			lbs = 512;
		size = sectors * 512;
		if (size < (2u << 20))
			SKIP(return, "%s is %zu bytes: too small (want 2 MiB or more)", dev,
			     size);
		/* 16 MiB disk: 4 MiB at 4 MiB; 8 MiB disk: 4 MiB at 2 MiB. */
		len = size / 2 < REGION_MAX ? size / 2 : REGION_MAX;
		len &= ~((size_t)(64 << 10) - 1);
		off = (size / 4) & ~((size_t)(64 << 10) - 1);
		if (off < (1u << 20) && size - len >= (1u << 20))
			off = 1u << 20;
		ASSERT_EQ((uint64_t)0, len % lbs);

		ASSERT_EQ(0, posix_memalign(&wbuf, 4096, len));
		ASSERT_EQ(0, posix_memalign(&rbuf, 4096, len));
		mem_fill_random(wbuf, len, &rng);
		memset(rbuf, 0xa5, len);
		hw = mem_fnv1a64(wbuf, len, FNV1A64_INIT);

		snprintf(path, sizeof(path), "/dev/%s", dev);
		fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
		ASSERT_LE(0, fd) TH_LOG("open %s O_DIRECT: %s", path, strerror(errno));
		t0 = now_ms();
		ret = do_io(fd, wbuf, len, off, true, err, sizeof(err));
		ASSERT_EQ(0, ret) TH_LOG("%s (%s): %s", dev, bdf, err);
		ASSERT_EQ(0, fdatasync(fd)) TH_LOG("fdatasync %s: %s", path, strerror(errno));
		t_write = now_ms() - t0;
		/* Nothing may come from a cache. */
		ioctl(fd, BLKFLSBUF, 0);
		close(fd);
		sync();
		ret = sysfs_write("/proc/sys/vm/drop_caches", "3");
		EXPECT_EQ(0, ret) TH_LOG("drop_caches: %s", strerror(-ret));

		fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
		ASSERT_LE(0, fd) TH_LOG("open %s O_DIRECT: %s", path, strerror(errno));
		t0 = now_ms();
		ret = do_io(fd, rbuf, len, off, false, err, sizeof(err));
		ASSERT_EQ(0, ret) TH_LOG("%s (%s): %s", dev, bdf, err);
		t_read = now_ms() - t0;
		close(fd);
		hr = mem_fnv1a64(rbuf, len, FNV1A64_INIT);

		{
			size_t ndiff = mem_diff(wbuf, rbuf, len, &first);

			ASSERT_EQ(hw, hr)
				TH_LOG("%s (%s, group %d identity, behind %s): expected the %zu "
				       "bytes read back at offset %zu to match what was "
				       "written (fnv1a64 0x%016llx), found fnv1a64 0x%016llx, "
				       "%zu bytes differ, first at +%ld", dev, bdf, g, inst,
				       len, off, (unsigned long long)hw,
				       (unsigned long long)hr, ndiff, first);
		}
		INFO("%s (%s, group %d identity, behind %s): %zu KiB at offset %zu KiB "
		     "written in %llu ms, read back in %llu ms, fnv1a64 0x%016llx "
		     "matches", dev, bdf, g, inst, len >> 10, off >> 10,
		     (unsigned long long)t_write, (unsigned long long)t_read,
		     (unsigned long long)hr);
		free(wbuf);
		free(rbuf);
		wbuf = rbuf = NULL;

		if (self->switched_group >= 0) {
			ret = set_group_type(bdf, g, self->switched_from, err, sizeof(err));
			ASSERT_EQ(0, ret) TH_LOG("switching group %d back to %s: %s", g,
						 self->switched_from, err);
			INFO("group %d switched back to %s", g, self->switched_from);
			self->switched_group = -1;
		}
	}
}

TEST_HARNESS_MAIN
