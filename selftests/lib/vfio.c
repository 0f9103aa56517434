// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO cdev + iommufd helpers (see vfio.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "sysfs.h"
#include "vfio.h"

#define VFIO_MAX_OPEN 16
static struct vfio_dev *open_devs[VFIO_MAX_OPEN];

static void remember(struct vfio_dev *d)
{
	for (int i = 0; i < VFIO_MAX_OPEN; i++) {
		if (!open_devs[i]) {
			open_devs[i] = d;
			return;
		}
	}
}

static void forget(struct vfio_dev *d)
{
	for (int i = 0; i < VFIO_MAX_OPEN; i++)
		if (open_devs[i] == d)
			open_devs[i] = NULL;
}

/* ---- iommufd ---------------------------------------------------------------- */

int iommufd_open(void)
{
	int fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int iommufd_ioas_alloc(int iommufd, uint32_t *ioas_id)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };

	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &cmd))
		return -errno;
	*ioas_id = cmd.out_ioas_id;
	return 0;
}

int iommufd_destroy(int iommufd, uint32_t id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	return ioctl(iommufd, IOMMU_DESTROY, &cmd) ? -errno : 0;
}

int iommufd_ioas_map(int iommufd, uint32_t ioas_id, void *va, size_t len,
		     uint64_t *iova, bool fixed, uint32_t prot)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = prot | (fixed ? IOMMU_IOAS_MAP_FIXED_IOVA : 0),
		.ioas_id = ioas_id,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = fixed ? *iova : 0,
	};

	if (ioctl(iommufd, IOMMU_IOAS_MAP, &cmd))
		return -errno;
	*iova = cmd.iova;
	return 0;
}

int iommufd_ioas_unmap(int iommufd, uint32_t ioas_id, uint64_t iova,
		       uint64_t len, uint64_t *unmapped)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = len,
	};

	if (ioctl(iommufd, IOMMU_IOAS_UNMAP, &cmd))
		return -errno;
	if (unmapped)
		*unmapped = cmd.length;
	return 0;
}

int iommufd_hwpt_alloc(int iommufd, uint32_t dev_id, uint32_t pt_id,
		       uint32_t flags, uint32_t *hwpt_id)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = dev_id,
		.pt_id = pt_id,
		.data_type = IOMMU_HWPT_DATA_NONE,
	};

	if (ioctl(iommufd, IOMMU_HWPT_ALLOC, &cmd))
		return -errno;
	*hwpt_id = cmd.out_hwpt_id;
	return 0;
}

#ifdef SMMUV3_UAPI_ARM_SMMUV3
int iommufd_smmuv3_idr(int iommufd, uint32_t dev_id, uint32_t idr[6])
{
	struct iommu_hw_info_arm_smmuv3 info = {};
	struct iommu_hw_info cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
		.data_len = sizeof(info),
		.data_uptr = (uintptr_t)&info,
	};

	if (ioctl(iommufd, IOMMU_GET_HW_INFO, &cmd))
		return -errno;
	if (cmd.out_data_type != IOMMU_HW_INFO_TYPE_ARM_SMMUV3)
		return -EOPNOTSUPP;
	memcpy(idr, info.idr, sizeof(info.idr));
	return 0;
}
#else
/* The kernel's uAPI has no SMMUv3 hw_info type (Linux 6.12). */
int iommufd_smmuv3_idr(int iommufd, uint32_t dev_id, uint32_t idr[6])
{
	(void)iommufd;
	(void)dev_id;
	(void)idr;
	return -EOPNOTSUPP;
}
#endif

int iommufd_ioas_iova_ranges(int iommufd, uint32_t ioas_id, struct iova_range *r,
			     int max, uint64_t *alignment)
{
	struct iommu_iova_range buf[64];
	struct iommu_ioas_iova_ranges cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.num_iovas = 64,
		.allowed_iovas = (uintptr_t)buf,
	};

	if (ioctl(iommufd, IOMMU_IOAS_IOVA_RANGES, &cmd))
		return -errno;
	for (unsigned int i = 0; i < cmd.num_iovas && (int)i < max; i++) {
		r[i].start = buf[i].start;
		r[i].last = buf[i].last;
	}
	if (alignment)
		*alignment = cmd.out_iova_alignment;
	return cmd.num_iovas;
}

int iommufd_pick_iova(int iommufd, uint32_t ioas_id, uint64_t min, uint64_t len,
		      uint64_t align, uint64_t *iova)
{
	struct iova_range r[64];
	int n = iommufd_ioas_iova_ranges(iommufd, ioas_id, r, 64, NULL);

	return n < 0 ? n : iova_ranges_pick(r, n < 64 ? n : 64, min, len, align, iova);
}

int iova_ranges_pick(const struct iova_range *r, int n, uint64_t min, uint64_t len,
		     uint64_t align, uint64_t *iova)
{
	if (!len || !align || (align & (align - 1)))
		return -EINVAL;
	/* The ranges come sorted by address. */
	for (int i = 0; i < n; i++) {
		uint64_t a = r[i].start > min ? r[i].start : min;

		a = (a + align - 1) & ~(align - 1);
		if (a < min || a > r[i].last || r[i].last - a < len - 1)
			continue;
		*iova = a;
		return 0;
	}
	return -ENOSPC;
}

/* ---- Binding to vfio-pci -------------------------------------------------------- */

int vfio_pci_bind(const char *bdf, char *prev_driver, size_t len)
{
	int ret = pci_driver(bdf, prev_driver, len);

	if (ret)
		return ret;
	if (!path_exists("/sys/bus/pci/drivers/vfio-pci"))
		return -ENOENT;
	return pci_bind(bdf, "vfio-pci");
}

int vfio_pci_restore(const char *bdf, const char *prev_driver)
{
	int ret;

	if (!prev_driver || !prev_driver[0] || !strcmp(prev_driver, "vfio-pci"))
		return pci_bind(bdf, "");
	ret = pci_bind(bdf, prev_driver);
	/* Leave no override behind: the device keeps its driver. */
	sysfs_writef("\n", SYSFS_PCI_DEVICES "/%s/driver_override", bdf);
	return ret;
}

int vfio_cdev_path(const char *bdf, char *buf, size_t len)
{
	char dir[PATH_MAX];
	struct strlist names;
	int ret;

	snprintf(dir, sizeof(dir), SYSFS_PCI_DEVICES "/%s/vfio-dev", bdf);
	ret = wait_for_path(dir, 2000);
	if (ret)
		return -ENOENT;	/* no VFIO_DEVICE_CDEV? */
	strlist_init(&names);
	ret = dir_list(dir, &names);
	if (ret <= 0) {
		strlist_free(&names);
		return ret ? ret : -ENOENT;
	}
	snprintf(buf, len, "/dev/vfio/devices/%s", names.v[0]);
	strlist_free(&names);
	/* devtmpfs creates the node asynchronously. */
	return wait_for_path(buf, 2000) ? -ENOENT : 0;
}

/* ---- VFIO devices ----------------------------------------------------------------- */

int vfio_dev_open(struct vfio_dev *d, const char *bdf, int iommufd)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = iommufd,
	};
	uint64_t size = 0;
	int ret;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->iommufd = iommufd;
	snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);

	ret = vfio_pci_bind(bdf, d->prev_driver, sizeof(d->prev_driver));
	if (ret) {
		snprintf(d->err, sizeof(d->err), "binding %s to vfio-pci: %s", bdf,
			 ret == -ENOENT ? "no vfio-pci driver" : strerror(-ret));
		return ret;
	}
	d->bound = true;
	remember(d);

	ret = vfio_cdev_path(bdf, d->cdev, sizeof(d->cdev));
	if (ret) {
		snprintf(d->err, sizeof(d->err),
			 "no /dev/vfio/devices node for %s (VFIO_DEVICE_CDEV?): %s",
			 bdf, strerror(-ret));
		goto fail;
	}
	d->fd = open(d->cdev, O_RDWR | O_CLOEXEC);
	if (d->fd < 0) {
		ret = -errno;
		snprintf(d->err, sizeof(d->err), "open %s: %s", d->cdev, strerror(errno));
		goto fail;
	}
	if (ioctl(d->fd, VFIO_DEVICE_BIND_IOMMUFD, &bind)) {
		ret = -errno;
		snprintf(d->err, sizeof(d->err), "VFIO_DEVICE_BIND_IOMMUFD on %s: %s%s",
			 d->cdev, strerror(errno),
			 errno == EPERM ? " (MSI not isolated on this platform? "
			 "iommufd.allow_unsafe_interrupts=1 overrides)" : "");
		goto fail;
	}
	d->devid = bind.out_devid;

	ret = vfio_dev_region(d, VFIO_PCI_CONFIG_REGION_INDEX, &d->cfg_offset, &size,
			      NULL);
	if (ret) {
		snprintf(d->err, sizeof(d->err), "config region of %s: %s", bdf,
			 strerror(-ret));
		goto fail;
	}
	return 0;
fail:
	vfio_dev_close(d);
	return ret;
}

void vfio_dev_close(struct vfio_dev *d)
{
	if (d->bar0) {
		munmap((void *)d->bar0, d->bar0_size);
		d->bar0 = NULL;
	}
	if (d->fd >= 0) {
		if (d->pt_id)
			dev_detach(d);
		/* Closing the cdev unbinds it from iommufd. */
		close(d->fd);
		d->fd = -1;
	}
	if (d->bound) {
		/* vfio-pci's remove waits until every fd is closed: done above. */
		vfio_pci_restore(d->bdf, d->prev_driver);
		d->bound = false;
	}
	forget(d);
}

void vfio_dev_close_all(void)
{
	for (int i = 0; i < VFIO_MAX_OPEN; i++)
		if (open_devs[i])
			vfio_dev_close(open_devs[i]);
}

int dev_attach(struct vfio_dev *d, uint32_t pt_id)
{
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = pt_id,
	};

	if (ioctl(d->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach)) {
		int ret = -errno;

		snprintf(d->err, sizeof(d->err),
			 "VFIO_DEVICE_ATTACH_IOMMUFD_PT %s to %u: %s", d->bdf, pt_id,
			 strerror(errno));
		return ret;
	}
	d->pt_id = pt_id;
	d->hwpt_id = attach.pt_id;
	return 0;
}

int dev_detach(struct vfio_dev *d)
{
	struct vfio_device_detach_iommufd_pt detach = {
		.argsz = sizeof(detach),
	};

	if (ioctl(d->fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach)) {
		int ret = -errno;

		snprintf(d->err, sizeof(d->err), "VFIO_DEVICE_DETACH_IOMMUFD_PT %s: %s",
			 d->bdf, strerror(errno));
		return ret;
	}
	d->pt_id = 0;
	d->hwpt_id = 0;
	return 0;
}

int vfio_dev_region(struct vfio_dev *d, uint32_t index, uint64_t *offset,
		    uint64_t *size, uint32_t *flags)
{
	struct vfio_region_info info = {
		.argsz = sizeof(info),
		.index = index,
	};

	if (ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, &info))
		return -errno;
	if (offset)
		*offset = info.offset;
	if (size)
		*size = info.size;
	if (flags)
		*flags = info.flags;
	return 0;
}

int vfio_dev_map_bar0(struct vfio_dev *d)
{
	uint64_t off = 0, size = 0;
	uint32_t flags = 0;
	void *p;
	int ret;

	if (d->bar0)
		return 0;
	ret = vfio_dev_region(d, VFIO_PCI_BAR0_REGION_INDEX, &off, &size, &flags);
	if (ret) {
		snprintf(d->err, sizeof(d->err), "BAR0 region info of %s: %s", d->bdf,
			 strerror(-ret));
		return ret;
	}
	if (!size || !(flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		snprintf(d->err, sizeof(d->err),
			 "BAR0 of %s: size %llu flags 0x%x, not mappable", d->bdf,
			 (unsigned long long)size, flags);
		return -ENODEV;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd, off);
	if (p == MAP_FAILED) {
		ret = -errno;
		snprintf(d->err, sizeof(d->err), "mmap BAR0 of %s: %s", d->bdf,
			 strerror(errno));
		return ret;
	}
	d->bar0 = p;
	d->bar0_size = size;
	return 0;
}

int vfio_dev_cfg_read(struct vfio_dev *d, unsigned int off, void *buf, size_t len)
{
	ssize_t n = pread(d->fd, buf, len, d->cfg_offset + off);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int vfio_dev_cfg_write(struct vfio_dev *d, unsigned int off, const void *buf,
		       size_t len)
{
	ssize_t n = pwrite(d->fd, buf, len, d->cfg_offset + off);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int vfio_dev_enable_dma(struct vfio_dev *d, bool on)
{
	const uint16_t bits = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	uint16_t cmd;
	int ret;

	ret = vfio_dev_cfg_read(d, PCI_COMMAND, &cmd, sizeof(cmd));
	if (!ret) {
		cmd = on ? cmd | bits : cmd & ~PCI_COMMAND_MASTER;
		ret = vfio_dev_cfg_write(d, PCI_COMMAND, &cmd, sizeof(cmd));
	}
	if (ret)
		snprintf(d->err, sizeof(d->err), "command register of %s: %s", d->bdf,
			 strerror(-ret));
	return ret;
}

int vfio_dev_edu(struct vfio_dev *d, struct edu *e)
{
	uint32_t ident;
	int ret;

	ret = vfio_dev_map_bar0(d);
	if (ret)
		return ret;
	ret = vfio_dev_enable_dma(d, true);
	if (ret)
		return ret;
	edu_init(e, d->bar0, d->bar0_size);
	ret = edu_check(e, &ident);
	if (ret)
		snprintf(d->err, sizeof(d->err),
			 "%s BAR0 does not answer like an edu: ident 0x%08x", d->bdf, ident);
	return ret;
}
