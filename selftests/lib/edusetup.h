/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The set-up the edu DMA tests share: which edu a one-device test works on
 * (and giving it back to its driver at the end, from the harness's parent
 * process, whatever became of the test), edus bound to a fresh iommufd
 * with an IOAS, anonymous buffers mapped into an IOAS, and errname() for
 * messages.
 */
#ifndef SMMUV3_SELFTEST_EDUSETUP_H
#define SMMUV3_SELFTEST_EDUSETUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmacheck.h"

/* "Cannot allocate memory (12)" for 12 or -12, "success" for 0 (a static buffer). */
const char *errname(int err);

/* The edu of a one-device test and the driver it had before the test. */
struct edu_home {
	char bdf[32];
	char orig_drv[64];
	bool touched;		/* set once the test may have bound it to vfio-pci */
};

/*
 * The first edu behind an IOMMU instance (BDF order) and its driver now.
 * 1; 0 when there is none (skip); -errno (WHY says what failed).
 */
int edu_home_pick(struct edu_home *h, char *why, size_t len);
/* If touched and still on vfio-pci: back to the driver it had (or none). */
void edu_home_restore(const struct edu_home *h);

/*
 * Open an iommufd (*iommufd), bind the N edus BDF[i] to it as D[i]
 * (edu_dev_open(): vfio-pci, BAR0, DMA on, not attached), in order, then
 * allocate an IOAS (*ioas).  0, or -errno with ERR saying which step
 * (whatever was opened stays for the caller's teardown).
 */
int edus_bind(int *iommufd, uint32_t *ioas, struct edu_dev *const d[],
	      const char *const bdf[], int n, char *err, size_t len);

/*
 * LEN bytes of anonymous memory (*buf, populated, every byte FILL) mapped
 * readable and writeable at exactly IOVA in IOAS.  0 or -errno (ERR says
 * which step).
 */
int ioas_map_new_buf(int iommufd, uint32_t ioas, uint8_t **buf, size_t len, uint64_t iova,
		     int fill, char *err, size_t errlen);

#endif
