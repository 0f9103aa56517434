// SPDX-License-Identifier: GPL-2.0-only
/*
 * The VFIO container API, type1 (see container.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "container.h"
#include "sysfs.h"

int container_open(char *err, size_t errlen)
{
	int fd, ret;

	fd = open(VFIO_CONTAINER_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "open " VFIO_CONTAINER_DEV ": %s%s", strerror(errno),
			 errno == ENOENT ? " (no VFIO_CONTAINER)" : "");
		return ret;
	}
	ret = ioctl(fd, VFIO_GET_API_VERSION);
	if (ret != VFIO_API_VERSION) {
		snprintf(err, errlen, "VFIO_GET_API_VERSION: expected %d, found %d (%s)",
			 VFIO_API_VERSION, ret, ret < 0 ? strerror(errno) : "other version");
		close(fd);
		return -EPROTO;
	}
	ret = ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU);
	if (ret <= 0) {
		snprintf(err, errlen, "VFIO_CHECK_EXTENSION(VFIO_TYPE1v2_IOMMU): %s "
			 "(VFIO_IOMMU_TYPE1 not built?)", ret < 0 ? strerror(errno) :
			 "not supported");
		close(fd);
		return -EOPNOTSUPP;
	}
	return fd;
}

int container_set_iommu(int cfd)
{
	return ioctl(cfd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) ? -errno : 0;
}

int container_map(int cfd, void *va, uint64_t len, uint64_t iova)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)va,
		.iova = iova,
		.size = len,
	};

	return ioctl(cfd, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0;
}

int container_unmap(int cfd, uint64_t iova, uint64_t len, uint64_t *unmapped)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = iova,
		.size = len,
	};

	if (ioctl(cfd, VFIO_IOMMU_UNMAP_DMA, &unmap))
		return -errno;
	if (unmapped)
		*unmapped = unmap.size;
	return 0;
}

int container_iova_ranges(int cfd, struct iova_range *r, int max, uint64_t *pgsizes)
{
	struct vfio_iommu_type1_info probe = { .argsz = sizeof(probe) };
	struct vfio_iommu_type1_info *info;
	uint32_t off;
	int ret = -ENOENT;

	if (ioctl(cfd, VFIO_IOMMU_GET_INFO, &probe))
		return -errno;
	if (pgsizes)
		*pgsizes = probe.iova_pgsizes;
	/* The kernel says in argsz how much room the capabilities need. */
	if (probe.argsz <= sizeof(probe))
		return -ENOENT;
	info = calloc(1, probe.argsz);
	if (!info)
		return -ENOMEM;
	info->argsz = probe.argsz;
	if (ioctl(cfd, VFIO_IOMMU_GET_INFO, info)) {
		ret = -errno;
		goto out;
	}
	if (!(info->flags & VFIO_IOMMU_INFO_CAPS))
		goto out;
	/* The chain is offsets from the start of info; 0 ends it. */
	for (off = info->cap_offset; off && off + sizeof(struct vfio_info_cap_header) <=
	     info->argsz;) {
		struct vfio_info_cap_header *h = (void *)((char *)info + off);
		struct vfio_iommu_type1_info_cap_iova_range *c = (void *)h;

		if (h->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
			if (off + sizeof(*c) + (uint64_t)c->nr_iovas *
			    sizeof(c->iova_ranges[0]) > info->argsz) {
				ret = -EPROTO;
				goto out;
			}
			for (uint32_t i = 0; i < c->nr_iovas && (int)i < max; i++) {
				r[i].start = c->iova_ranges[i].start;
				r[i].last = c->iova_ranges[i].end;
			}
			ret = c->nr_iovas;
			goto out;
		}
		if (h->next <= off)
			break;
		off = h->next;
	}
out:
	free(info);
	return ret;
}

int container_pick_iova(int cfd, uint64_t min, uint64_t len, uint64_t align,
			uint64_t *iova)
{
	struct iova_range r[64];
	int n = container_iova_ranges(cfd, r, 64, NULL);

	return n < 0 ? n : iova_ranges_pick(r, n < 64 ? n : 64, min, len, align, iova);
}

/* ---- groups and devices ---------------------------------------------------- */

void ctr_edu_init(struct ctr_edu *c)
{
	memset(c, 0, sizeof(*c));
	c->gfd = -1;
	c->group = -1;
	c->ed.vd.fd = -1;
	c->ed.vd.iommufd = -1;
}

int ctr_edu_bind(struct ctr_edu *c, const char *bdf)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	struct vfio_dev *vd = &c->ed.vd;
	int ret;

	ctr_edu_init(c);
	snprintf(c->ed.bdf, sizeof(c->ed.bdf), "%s", bdf);
	snprintf(vd->bdf, sizeof(vd->bdf), "%s", bdf);
	ret = pci_iommu_instance(bdf, c->ed.inst, sizeof(c->ed.inst));
	if (ret) {
		snprintf(c->err, sizeof(c->err), "%s is behind no IOMMU instance", bdf);
		return ret;
	}
	c->group = pci_iommu_group(bdf);
	if (c->group < 0) {
		ret = c->group;
		snprintf(c->err, sizeof(c->err), "IOMMU group of %s: %s", bdf,
			 strerror(-ret));
		return ret;
	}
	ret = vfio_pci_bind(bdf, vd->prev_driver, sizeof(vd->prev_driver));
	if (ret) {
		snprintf(c->err, sizeof(c->err), "binding %s to vfio-pci: %s", bdf,
			 ret == -ENOENT ? "no vfio-pci driver" : strerror(-ret));
		return ret;
	}
	vd->bound = true;

	snprintf(c->group_path, sizeof(c->group_path), "/dev/vfio/%d", c->group);
	/* devtmpfs creates the node asynchronously. */
	if (wait_for_path(c->group_path, 2000)) {
		ret = -ENOENT;
		snprintf(c->err, sizeof(c->err), "%s bound to vfio-pci: expected %s, found "
			 "none (no VFIO_GROUP?)", bdf, c->group_path);
		return ret;
	}
	c->gfd = open(c->group_path, O_RDWR | O_CLOEXEC);
	if (c->gfd < 0) {
		ret = -errno;
		snprintf(c->err, sizeof(c->err), "open %s: %s", c->group_path,
			 strerror(errno));
		return ret;
	}
	if (ioctl(c->gfd, VFIO_GROUP_GET_STATUS, &st)) {
		ret = -errno;
		snprintf(c->err, sizeof(c->err), "VFIO_GROUP_GET_STATUS on %s: %s",
			 c->group_path, strerror(errno));
		return ret;
	}
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		struct strlist devs;
		char list[160];

		strlist_init(&devs);
		iommu_group_devices(c->group, &devs);
		snprintf(c->err, sizeof(c->err), "group %d of %s is not viable: a device "
			 "in it has a driver other than vfio-pci (group: %s)", c->group, bdf,
			 strlist_join(&devs, list, sizeof(list)));
		strlist_free(&devs);
		return -EBUSY;
	}
	return 0;
}

int ctr_edu_join(struct ctr_edu *c, int cfd)
{
	if (ioctl(c->gfd, VFIO_GROUP_SET_CONTAINER, &cfd)) {
		int ret = -errno;

		snprintf(c->err, sizeof(c->err), "VFIO_GROUP_SET_CONTAINER %s (%s): %s",
			 c->group_path, c->ed.bdf, strerror(errno));
		return ret;
	}
	c->joined = true;
	return 0;
}

int ctr_edu_device(struct ctr_edu *c)
{
	struct vfio_dev *vd = &c->ed.vd;
	uint64_t size = 0;
	int ret;

	vd->fd = ioctl(c->gfd, VFIO_GROUP_GET_DEVICE_FD, c->ed.bdf);
	if (vd->fd < 0) {
		ret = -errno;
		vd->fd = -1;
		snprintf(c->err, sizeof(c->err), "VFIO_GROUP_GET_DEVICE_FD %s on %s: %s",
			 c->ed.bdf, c->group_path, strerror(errno));
		return ret;
	}
	ret = vfio_dev_region(vd, VFIO_PCI_CONFIG_REGION_INDEX, &vd->cfg_offset, &size,
			      NULL);
	if (ret) {
		snprintf(c->err, sizeof(c->err), "config region of %s: %s", c->ed.bdf,
			 strerror(-ret));
		return ret;
	}
	ret = vfio_dev_edu(vd, &c->ed.e);
	if (ret)
		snprintf(c->err, sizeof(c->err), "%s", vd->err);
	/* A new device fd: what the device buffer holds is not known. */
	c->ed.dev_known = false;
	return ret;
}

void ctr_edu_close_device(struct ctr_edu *c)
{
	struct vfio_dev *vd = &c->ed.vd;

	/* A mapping of the BAR holds the device file open. */
	if (vd->bar0) {
		munmap((void *)vd->bar0, vd->bar0_size);
		vd->bar0 = NULL;
	}
	if (vd->fd >= 0) {
		close(vd->fd);
		vd->fd = -1;
	}
}

int ctr_edu_leave(struct ctr_edu *c)
{
	ctr_edu_close_device(c);
	if (!c->joined)
		return 0;
	if (ioctl(c->gfd, VFIO_GROUP_UNSET_CONTAINER)) {
		int ret = -errno;

		snprintf(c->err, sizeof(c->err), "VFIO_GROUP_UNSET_CONTAINER %s (%s): %s",
			 c->group_path, c->ed.bdf, strerror(errno));
		return ret;
	}
	c->joined = false;
	return 0;
}

void ctr_edu_close(struct ctr_edu *c)
{
	struct vfio_dev *vd = &c->ed.vd;

	ctr_edu_leave(c);
	/* Closing the group takes it out of its container too. */
	if (c->gfd >= 0) {
		close(c->gfd);
		c->gfd = -1;
	}
	c->joined = false;
	if (vd->bound) {
		vfio_pci_restore(vd->bdf, vd->prev_driver);
		vd->bound = false;
	}
}
