/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * VFIO (cdev) and iommufd helpers.
 *
 * Flow: iommufd_open(); vfio_dev_open(&d, bdf, iommufd) binds the PCI
 * device to vfio-pci (driver_override + drivers_probe), opens
 * /dev/vfio/devices/vfioN and binds it to the iommufd
 * (VFIO_DEVICE_BIND_IOMMUFD).  The device is then owned by iommufd and sits
 * in the blocked domain until dev_attach() attaches it to an IOAS or HWPT.
 * vfio_dev_close() detaches, closes, and gives the device back to the
 * driver it had (or none).
 *
 * Every vfio_dev that is open is also remembered, so that a test's
 * teardown can call vfio_dev_close_all() after a failed assertion.
 */
#ifndef SMMUV3_SELFTEST_VFIO_H
#define SMMUV3_SELFTEST_VFIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edu.h"

struct vfio_dev {
	char bdf[32];
	char prev_driver[64];	/* driver before vfio-pci ("" = none) */
	char cdev[64];		/* /dev/vfio/devices/vfioN */
	bool bound;		/* we bound it to vfio-pci */
	int iommufd;		/* not owned */
	int fd;			/* the cdev, -1 when closed */
	uint32_t devid;		/* from VFIO_DEVICE_BIND_IOMMUFD */
	uint32_t pt_id;		/* attached IOAS/HWPT (0 = none: blocked) */
	uint32_t hwpt_id;	/* hwpt the kernel reported for pt_id */
	uint64_t cfg_offset;	/* config region offset in the fd */
	volatile void *bar0;
	size_t bar0_size;
	char err[256];		/* what failed last, for messages */
};

/* ---- iommufd --------------------------------------------------------------- */

/* Open /dev/iommu.  Returns the fd or -errno. */
int iommufd_open(void);
int iommufd_ioas_alloc(int iommufd, uint32_t *ioas_id);
int iommufd_destroy(int iommufd, uint32_t id);
/*
 * Map [va, va + len) at *iova (FIXED if fixed, else the kernel picks and
 * returns it in *iova).  prot: IOMMU_IOAS_MAP_READABLE | _WRITEABLE.
 */
int iommufd_ioas_map(int iommufd, uint32_t ioas_id, void *va, size_t len,
		     uint64_t *iova, bool fixed, uint32_t prot);
int iommufd_ioas_unmap(int iommufd, uint32_t ioas_id, uint64_t iova,
		       uint64_t len, uint64_t *unmapped);

/*
 * IOMMU_HWPT_ALLOC: a kernel-managed HWPT for device DEV_ID (an iommufd
 * device ID) on IOAS PT_ID, with IOMMU_HWPT_ALLOC_* FLAGS.
 */
int iommufd_hwpt_alloc(int iommufd, uint32_t dev_id, uint32_t pt_id,
		       uint32_t flags, uint32_t *hwpt_id);
/*
 * IOMMU_GET_HW_INFO of type IOMMU_HW_INFO_TYPE_ARM_SMMUV3: the raw IDR0..5
 * of the instance behind DEV_ID.  -EOPNOTSUPP if the IOMMU reports another
 * type.
 */
int iommufd_smmuv3_idr(int iommufd, uint32_t dev_id, uint32_t idr[6]);
#define SMMUV3_IDR0_S2P		(1u << 0)
#define SMMUV3_IDR0_S1P		(1u << 1)

/* One allowed IOVA range, [start, last]. */
struct iova_range {
	uint64_t start;
	uint64_t last;
};

/*
 * IOMMU_IOAS_IOVA_RANGES: up to MAX allowed ranges into R; returns their
 * total number (which may exceed MAX) or -errno.  The ranges narrow as
 * devices are attached (reserved regions such as the MSI window), so ask
 * after attaching.
 */
int iommufd_ioas_iova_ranges(int iommufd, uint32_t ioas_id, struct iova_range *r,
			     int max, uint64_t *alignment);
/*
 * The lowest IOVA >= MIN, aligned to ALIGN (a power of two), such that
 * [iova, iova + len) lies inside one allowed range of the IOAS.
 * Returns 0 or -ENOSPC (none) or -errno.
 */
int iommufd_pick_iova(int iommufd, uint32_t ioas_id, uint64_t min, uint64_t len,
		      uint64_t align, uint64_t *iova);
/* The same choice among N ranges R sorted by address (any source of them). */
int iova_ranges_pick(const struct iova_range *r, int n, uint64_t min, uint64_t len,
		     uint64_t align, uint64_t *iova);

/* ---- VFIO devices ------------------------------------------------------------ */

/*
 * Bind to vfio-pci, open the cdev, bind it to IOMMUFD.  No attach.
 * Returns 0 or -errno with d->err describing the step that failed; on
 * failure everything done so far is undone.
 */
int vfio_dev_open(struct vfio_dev *d, const char *bdf, int iommufd);
/* Detach (if attached), unmap, close, restore the previous driver. */
void vfio_dev_close(struct vfio_dev *d);
/* vfio_dev_close() every vfio_dev still open in this process. */
void vfio_dev_close_all(void);

/*
 * Attach to an IOAS or HWPT (replacing any attachment); d->hwpt_id gets
 * the HWPT the kernel used.
 */
int dev_attach(struct vfio_dev *d, uint32_t pt_id);
/* Back to the blocked domain. */
int dev_detach(struct vfio_dev *d);

/* Region index -> offset and size in the device fd (flags optional). */
int vfio_dev_region(struct vfio_dev *d, uint32_t index, uint64_t *offset,
		    uint64_t *size, uint32_t *flags);
/* mmap BAR0 (once) into d->bar0. */
int vfio_dev_map_bar0(struct vfio_dev *d);
int vfio_dev_cfg_read(struct vfio_dev *d, unsigned int off, void *buf, size_t len);
int vfio_dev_cfg_write(struct vfio_dev *d, unsigned int off, const void *buf,
		       size_t len);
/* Set or clear memory decoding + bus mastering in the command register. */
int vfio_dev_enable_dma(struct vfio_dev *d, bool on);
/* BAR0 mapped, memory + bus master on, edu identity checked: ready for DMA. */
int vfio_dev_edu(struct vfio_dev *d, struct edu *e);

/* Bind/unbind helpers used by vfio_dev_open()/close(). */
int vfio_pci_bind(const char *bdf, char *prev_driver, size_t len);
int vfio_pci_restore(const char *bdf, const char *prev_driver);
/* /dev/vfio/devices/vfioN of a device bound to vfio-pci (waits for it). */
int vfio_cdev_path(const char *bdf, char *buf, size_t len);

#endif
