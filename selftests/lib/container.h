/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The VFIO container API (type1), which hosts without iommufd use:
 * /dev/vfio/vfio is a container, /dev/vfio/<group> an IOMMU group.
 *
 * Flow: container_open() checks the API version and VFIO_TYPE1v2_IOMMU;
 * ctr_edu_bind() binds an edu to vfio-pci and opens its group, which must
 * be viable (every device of the group bound to vfio-pci or to nothing);
 * ctr_edu_join() puts the group in the container (VFIO_GROUP_SET_CONTAINER),
 * after which the first group needs container_set_iommu() (VFIO_SET_IOMMU):
 * that attaches every group of the container to type1's domains, and a
 * group joining later is attached at once.  ctr_edu_device() gets the
 * device fd (VFIO_GROUP_GET_DEVICE_FD) and makes the edu ready for DMA
 * through the container's IOVAs (VFIO_IOMMU_MAP_DMA).
 *
 * ctr_edu_leave() closes the device fd and takes the group out of the
 * container (VFIO_GROUP_UNSET_CONTAINER, which fails with EBUSY while a
 * device fd, or a mapping of one, is still open); ctr_edu_close() also
 * closes the group and gives the device back to the driver it had.
 *
 * The edu part (ctr_edu.ed) is a struct edu_dev, so the checks of
 * dmacheck.h work on it; its vd has no iommufd (vd.iommufd is -1).
 */
#ifndef SMMUV3_SELFTEST_CONTAINER_H
#define SMMUV3_SELFTEST_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmacheck.h"
#include "vfio.h"

#define VFIO_CONTAINER_DEV	"/dev/vfio/vfio"

/*
 * Open /dev/vfio/vfio and check VFIO_GET_API_VERSION and
 * VFIO_CHECK_EXTENSION(VFIO_TYPE1v2_IOMMU).  Returns the fd, or -ENOENT
 * (no /dev/vfio/vfio: no VFIO_CONTAINER, or iommufd's emulation missing),
 * -EPROTO (other API version), -EOPNOTSUPP (no type1v2: VFIO_IOMMU_TYPE1
 * not built) or -errno; ERR says which.
 */
int container_open(char *err, size_t errlen);
/* VFIO_SET_IOMMU to VFIO_TYPE1v2_IOMMU.  0 or -errno. */
int container_set_iommu(int cfd);
/* VFIO_IOMMU_MAP_DMA of [va, va + len) at IOVA, readable and writeable. */
int container_map(int cfd, void *va, uint64_t len, uint64_t iova);
/* VFIO_IOMMU_UNMAP_DMA; *unmapped (optional) gets what the kernel unmapped. */
int container_unmap(int cfd, uint64_t iova, uint64_t len, uint64_t *unmapped);
/*
 * The valid IOVA ranges of VFIO_IOMMU_GET_INFO (capability
 * VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE; they exclude the reserved regions
 * of every group in the container): up to MAX into R, returns their total
 * number or -errno (-ENOENT: no such capability).  *pgsizes (optional)
 * gets the IOMMU page sizes.
 */
int container_iova_ranges(int cfd, struct iova_range *r, int max, uint64_t *pgsizes);
/*
 * The lowest IOVA >= MIN, aligned to ALIGN (a power of two), such that
 * [iova, iova + len) lies in one valid range.  0, -ENOSPC or -errno.
 */
int container_pick_iova(int cfd, uint64_t min, uint64_t len, uint64_t align,
			uint64_t *iova);

/* An edu used through a VFIO group and a container. */
struct ctr_edu {
	struct edu_dev ed;	/* ed.vd.fd: the device fd from the group */
	int group;		/* IOMMU group number */
	char group_path[64];	/* /dev/vfio/<group> */
	int gfd;		/* the group, -1 when closed */
	bool joined;		/* in a container */
	char err[256];		/* what failed last */
};

/* Before anything else: nothing open, so that ctr_edu_close() is safe. */
void ctr_edu_init(struct ctr_edu *c);
/*
 * Bind BDF to vfio-pci, open its group and check that it is viable.
 * Returns 0, -EBUSY (not viable: another device of the group has a
 * driver) or -errno; C->err says what failed.
 */
int ctr_edu_bind(struct ctr_edu *c, const char *bdf);
/* VFIO_GROUP_SET_CONTAINER.  0 or -errno (C->err). */
int ctr_edu_join(struct ctr_edu *c, int cfd);
/*
 * VFIO_GROUP_GET_DEVICE_FD, config region, BAR0 mapped, memory decoding
 * and bus mastering on, edu identity checked.  0 or -errno (C->err).
 */
int ctr_edu_device(struct ctr_edu *c);
/* Unmap BAR0 and close the device fd (no-op if closed). */
void ctr_edu_close_device(struct ctr_edu *c);
/*
 * ctr_edu_close_device(), then VFIO_GROUP_UNSET_CONTAINER.  0 or -errno
 * (C->err); not joined is not an error.
 */
int ctr_edu_leave(struct ctr_edu *c);
/* ctr_edu_leave(), close the group, give the device back to its driver. */
void ctr_edu_close(struct ctr_edu *c);

#endif
