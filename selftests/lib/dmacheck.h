/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * DMA checks with an edu behind an IOMMU, through IOVAs of an iommufd
 * IOAS or HWPT the device is attached to (or blocked).
 *
 * Each function fills memory with fresh patterns that are bytewise
 * distinct from what could otherwise be there, so that every byte of the
 * outcome can be attributed; it returns 0 when the expectation holds,
 * -EIO when it does not (ERR then says what was expected and what was
 * found), or the edu's error (-ETIMEDOUT, ...; ERR says so too).
 *
 * DEV is what the device buffer holds (LEN bytes at its start), as far as
 * the caller knows; every function keeps it up to date.  LEN is at most
 * EDU_BUF_SIZE.
 */
#ifndef SMMUV3_SELFTEST_DMACHECK_H
#define SMMUV3_SELFTEST_DMACHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edu.h"
#include "env.h"
#include "mem.h"
#include "sysfs.h"
#include "vfio.h"

/* An edu bound to vfio-pci + iommufd, with its instance. */
struct edu_dev {
	char bdf[32];
	char inst[128];		/* /sys/class/iommu name */
	struct vfio_dev vd;
	struct edu e;
	unsigned char dev[EDU_BUF_SIZE];	/* device buffer, as known */
	bool dev_known;
};

/*
 * Edus behind an IOMMU instance, sorted by BDF; *skipped (optional) gets
 * how many edus sit behind none.  Returns the count or -errno.
 */
int edus_behind_iommu(struct strlist *out, int *skipped);

/*
 * For a FIXTURE_SETUP (kselftest_harness.h): list the edus behind an IOMMU
 * instance into EDUS (a struct strlist *, initialised here), say how many
 * sit behind none, and skip the test when none is behind one.
 */
#define EDUS_OR_SKIP(edus) do {						\
	int __none = 0;							\
	int __ret;							\
									\
	strlist_init(edus);						\
	__ret = edus_behind_iommu((edus), &__none);			\
	ASSERT_LE(0, __ret) TH_LOG("listing " SYSFS_PCI_DEVICES ": %s",	\
				   strerror(-__ret));			\
	if (__none)							\
		INFO("%d edu(s) behind no IOMMU instance: not tested",	\
		     __none);						\
	if (!(edus)->n)							\
		SKIP(return,						\
		     "no edu device (1234:11e8) behind an IOMMU instance");	\
} while (0)

/*
 * With SMMUV3_UNBOUND_NOGROUP=1 (a kernel that configures a device's DMA only
 * when a driver binds it, with a driver that does not make up for it: stock
 * Linux 6.12 with its built-in arm-smmu-v3), bind every edu that has neither
 * a driver nor an IOMMU link to vfio-pci, as a user would before looking for
 * its group.  Return: how many were bound, or -errno.  Otherwise nothing.
 */
int edus_configure_unbound(void);

/* An edu and the IOMMU instance it is behind. */
struct edu_pick {
	char bdf[32];
	char inst[128];
};

/*
 * Up to MAX edus behind pairwise different instances: in BDF order, the
 * first edu, then the first behind another instance, and so on.  Returns
 * how many were found, or -errno.
 */
int edus_on_distinct_instances(struct edu_pick *out, int max);
/*
 * Two edus behind different instances, for the tests that need them:
 * returns 2; 0 when the topology has no such pair (skip: WHY says what it
 * has); -1 when listing failed or an acpi2* topology, which has an edu
 * behind each of two instances, offered no pair (fail: WHY says why).
 */
int edus_pick_two(struct edu_pick pick[2], char *why, size_t len);
/*
 * vfio_dev_open() + vfio_dev_edu(): bound to vfio-pci and IOMMUFD, BAR0
 * mapped, DMA enabled, not attached (blocked).  On failure d->vd.err says
 * why.
 */
int edu_dev_open(struct edu_dev *d, const char *bdf, int iommufd);

/*
 * The translation stages of D's instance: IDR0.S1P and IDR0.S2P from
 * IOMMU_GET_HW_INFO when the driver reports SMMUv3 hw_info; else (upstream
 * built without CONFIG_ARM_SMMU_V3_IOMMUFD) what the topology in
 * SMMUV3_TOPOLOGY says: acpi2: every instance stage=nested; acpi2-mixed:
 * the instance of root bus 0000:00 nested, the other stage=1; acpi2-s2s1:
 * the instance of root bus 0000:00 stage=2, the other stage=1; dt1: QEMU's
 * default, stage 1.  Returns 0, or -ENOENT when it cannot be known (or
 * another -errno); *how says where the answer came from.
 */
int edu_dev_stages(struct edu_dev *d, bool *s1, bool *s2, const char **how);
/* Whether D's instance has stage 2 (edu_dev_stages()): 1, 0 or -errno. */
int edu_dev_has_s2(struct edu_dev *d, const char **how);
/*
 * Whether D's instance can nest (both stages, which nesting-parent HWPTs
 * need): 1, 0 or -errno.
 */
int edu_dev_has_nesting(struct edu_dev *d, const char **how);

/*
 * RAM -> device -> RAM: SRC (at SRC_IOVA) gets a fresh pattern, the device
 * reads it, DST (at DST_IOVA, may be the same memory) gets a marker, the
 * device writes its buffer there, and DST must then hold the pattern.
 */
int edu_roundtrip(struct edu_dev *d, void *src, uint64_t src_iova, void *dst,
		  uint64_t dst_iova, size_t len, struct prng *r, char *err,
		  size_t errlen);

/*
 * Device -> RAM at IOVA must not reach MEM (the memory a stale or bypassing
 * translation of IOVA would hit): MEM gets a marker distinct from the
 * device buffer, the device writes to IOVA, and MEM must be unchanged.
 */
int edu_write_dropped(struct edu_dev *d, uint64_t iova, void *mem, size_t len,
		      struct prng *r, char *err, size_t errlen);

/*
 * RAM at IOVA -> device must not read MEM: MEM gets a pattern distinct
 * from the device buffer, the device reads IOVA, then writes its buffer to
 * CTL (mapped at CTL_IOVA, a mapping known to work), which must hold only
 * the device buffer's previous bytes or zeros (QEMU returns zeros for an
 * aborted read), none of MEM's pattern.  Needs a known device buffer.
 */
int edu_read_dropped(struct edu_dev *d, uint64_t iova, void *mem, void *ctl,
		     uint64_t ctl_iova, size_t len, struct prng *r, char *err,
		     size_t errlen);

/*
 * The end of an edu DMA fixture: close every VFIO device
 * (vfio_dev_close_all()), then IOMMUFD if open (>= 0), then free the
 * pinned buffers MEM and CTL (either may never have been allocated).
 */
void dma_fixture_release(int iommufd, struct pinned_buf *mem,
			 struct pinned_buf *ctl);

#endif
