/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kernel's IOMMU trace events (include/trace/events/iommu.h), through
 * tracefs: driver-agnostic evidence of what the IOMMU core did.
 *
 * Event "iommu:map" is emitted once per iommu_map() call on a domain, as
 *   "map: IOMMU: iova=0x%016llx - 0x%016llx paddr=0x%016llx size=%zu"
 * VFIO type1 calls iommu_map() once per domain of the container for each
 * physically contiguous chunk of a VFIO_IOMMU_MAP_DMA, so the number of
 * such events for one page is the number of domains the container has.
 *
 * Needs CONFIG_EVENT_TRACING (tracefs); tracefs is mounted on
 * /sys/kernel/tracing if it is not yet (and unmounted again by
 * iotrace_stop()).
 */
#ifndef SMMUV3_SELFTEST_IOTRACE_H
#define SMMUV3_SELFTEST_IOTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct iotrace {
	char dir[64];		/* tracefs */
	bool mounted;		/* by iotrace_start() */
	bool enabled;		/* iommu:map enabled by iotrace_start() */
};

/*
 * Find (or mount) tracefs, enable iommu:map and clear the trace buffer.
 * Returns 0 or -errno (-ENOENT: no tracefs or no iommu:map event); ERR
 * says what is missing.
 */
int iotrace_start(struct iotrace *t, char *err, size_t errlen);
/* Empty the trace buffer.  0 or -errno. */
int iotrace_clear(struct iotrace *t);
/*
 * Number of iommu:map events in the buffer for exactly [IOVA, IOVA + SIZE)
 * at PADDR, or -errno.
 */
int iotrace_count_map(struct iotrace *t, uint64_t iova, uint64_t paddr,
		      uint64_t size);
/* Disable the event and unmount tracefs if iotrace_start() did those. */
void iotrace_stop(struct iotrace *t);

#endif
