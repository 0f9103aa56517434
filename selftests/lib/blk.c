// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-blk disks behind an IOMMU (see blk.h).
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

#include "blk.h"

int blk_disks_behind_iommu(struct strlist *out, int *skipped)
{
	struct strlist all;
	int ret;

	strlist_init(&all);
	ret = pci_find(PCI_VENDOR_VIRTIO, PCI_DEVICE_VIRTIO_BLK_MODERN, &all);
	if (ret >= 0)
		ret = pci_find(PCI_VENDOR_VIRTIO, PCI_DEVICE_VIRTIO_BLK_LEGACY, &all);
	if (ret >= 0) {
		strlist_sort(&all);
		ret = pci_behind_iommu(&all, out, skipped);
	}
	strlist_free(&all);
	return ret;
}

int blk_set_group_type(const char *bdf, int g, const char *type, char *err,
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

int blk_switch_group(const char *bdf, const char *type, int *group, char *from,
		     size_t fromlen, char *err, size_t len)
{
	char now[32], why[256];
	int ret;

	if (fromlen)
		from[0] = '\0';
	*group = pci_iommu_group(bdf);
	if (*group < 0) {
		snprintf(err, len, "%s: expected an IOMMU group, found none (%s)", bdf,
			 strerror(-*group));
		return -1;
	}
	ret = iommu_group_type(*group, from, fromlen);
	if (ret < 0) {
		snprintf(err, len, "group %d type: %s", *group, strerror(-ret));
		return -1;
	}
	ret = blk_set_group_type(bdf, *group, type, why, sizeof(why));
	if (ret) {
		snprintf(err, len, "switching group %d of %s from %s to %s: %s", *group,
			 bdf, from, type, why);
		return -1;
	}
	ret = iommu_group_type(*group, now, sizeof(now));
	if (ret < 0 || strcmp(now, type)) {
		snprintf(err, len, "group %d: expected type %s after the switch, found %s",
			 *group, type, ret < 0 ? strerror(-ret) : now);
		return -1;
	}
	return 0;
}

int blk_virtio_child(const char *bdf, char *buf, size_t len)
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

int blk_blockdev_of(const char *bdf, char *buf, size_t len)
{
	char vdev[64], dir[PATH_MAX];
	struct strlist ents;
	uint64_t t0 = now_ms();
	int ret;

	ret = blk_virtio_child(bdf, vdev, sizeof(vdev));
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

int blk_access_platform(const char *bdf)
{
	char vdev[64], feat[256];
	int ret = blk_virtio_child(bdf, vdev, sizeof(vdev));

	if (ret)
		return ret;
	ret = sysfs_readf(feat, sizeof(feat), "/sys/bus/virtio/devices/%s/features",
			  vdev);
	if (ret < 0)
		return ret;
	if (ret <= VIRTIO_ACCESS_PLATFORM_BIT)
		return -EINVAL;
	return feat[VIRTIO_ACCESS_PLATFORM_BIT] == '1';
}

int blk_size(const char *dev, uint64_t *bytes, uint64_t *lbs)
{
	char path[PATH_MAX];
	uint64_t sectors;
	int ret;

	snprintf(path, sizeof(path), "/sys/block/%s/size", dev);
	ret = sysfs_read_u64(path, &sectors);
	if (ret)
		return ret;
	*bytes = sectors * 512;
	snprintf(path, sizeof(path), "/sys/block/%s/queue/logical_block_size", dev);
	if (sysfs_read_u64(path, lbs) || !*lbs)
		*lbs = 512;
	return 0;
}

int blk_io(int fd, void *buf, size_t len, off_t off, size_t chunk, bool write,
	   char *err, size_t errlen)
{
	for (size_t done = 0; done < len; done += chunk) {
		size_t n = len - done < chunk ? len - done : chunk;
		ssize_t r = write ? pwrite(fd, (char *)buf + done, n, off + done) :
				    pread(fd, (char *)buf + done, n, off + done);

		if (r != (ssize_t)n) {
			int e = r < 0 ? errno : EIO;

			snprintf(err, errlen, "%s of %zu bytes at %lld: %s",
				 write ? "pwrite" : "pread", n, (long long)(off + done),
				 r < 0 ? strerror(e) : "short transfer");
			return -e;
		}
	}
	return 0;
}

void blk_region(uint64_t size, size_t max, size_t *off, size_t *len)
{
	/* 16 MiB disk, 4 MiB: 4 MiB at 4 MiB; 8 MiB disk: 4 MiB at 2 MiB. */
	*len = size / 2 < max ? size / 2 : max;
	*len &= ~((size_t)(64 << 10) - 1);
	*off = (size / 4) & ~((size_t)(64 << 10) - 1);
	if (*off < (1u << 20) && size - *len >= (1u << 20))
		*off = 1u << 20;
	if (*off + *len > size)
		*off = (size - *len) & ~((size_t)(64 << 10) - 1);
}

int blk_pattern_cycle(const char *dev, size_t off, size_t len, size_t chunk,
		      struct prng *r, struct blk_result *res, char *err,
		      size_t errlen)
{
	char path[PATH_MAX];
	void *wbuf = NULL, *rbuf = NULL;
	uint64_t t0;
	int fd = -1, ret;

	memset(res, 0, sizeof(*res));
	res->first = -1;
	if (posix_memalign(&wbuf, 4096, len) || posix_memalign(&rbuf, 4096, len)) {
		snprintf(err, errlen, "out of memory for %zu-byte buffers", len);
		ret = -ENOMEM;
		goto out;
	}
	mem_fill_random(wbuf, len, r);
	memset(rbuf, 0xa5, len);
	res->hash_written = mem_fnv1a64(wbuf, len, FNV1A64_INIT);

	snprintf(path, sizeof(path), "/dev/%s", dev);
	fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "open %s O_DIRECT: %s", path, strerror(errno));
		goto out;
	}
	t0 = now_ms();
	ret = blk_io(fd, wbuf, len, off, chunk, true, err, errlen);
	if (ret)
		goto out;
	if (fdatasync(fd)) {
		ret = -errno;
		snprintf(err, errlen, "fdatasync %s: %s", path, strerror(errno));
		goto out;
	}
	res->write_ms = now_ms() - t0;
	/* Nothing may come from a cache. */
	ioctl(fd, BLKFLSBUF, 0);
	close(fd);
	fd = -1;
	sync();
	ret = sysfs_write("/proc/sys/vm/drop_caches", "3");
	if (ret) {
		snprintf(err, errlen, "drop_caches: %s", strerror(-ret));
		goto out;
	}

	fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "open %s O_DIRECT: %s", path, strerror(errno));
		goto out;
	}
	t0 = now_ms();
	ret = blk_io(fd, rbuf, len, off, chunk, false, err, errlen);
	if (ret)
		goto out;
	res->read_ms = now_ms() - t0;
	res->hash_read = mem_fnv1a64(rbuf, len, FNV1A64_INIT);
	res->ndiff = mem_diff(wbuf, rbuf, len, &res->first);
out:
	if (fd >= 0)
		close(fd);
	free(wbuf);
	free(rbuf);
	return ret;
}
