/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the kselftest-harness programs that DMA through iommufd with an edu
 * share: sizes, the IOVA they start at, timeouts, and ASSERT_CHECK for the
 * library's checks that explain their failures in an error buffer.
 * Include after kselftest_harness.h.
 */
#ifndef SMMUV3_SELFTEST_DMATEST_H
#define SMMUV3_SELFTEST_DMATEST_H

#include <linux/iommufd.h>

#define PAGE		4096ULL
#define SZ_2M		(2ULL << 20)
#define IOVA_MIN	0x10000000ULL	/* lowest IOVA the tests map at */
#define DMA_TIMEOUT	300		/* seconds per test */
#define EVENT_WAIT_MS	3000		/* for fault events to show in debugfs */
#define RW		(IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)

/*
 * ASSERT_CHECK(edu_roundtrip(..., ERRBUF)): EXPR returns 0 or -errno and
 * writes why it failed into the buffer ERRBUF names.
 */
#define ASSERT_CHECK(expr) do { \
	char __err[512] = ""; \
	int __r = (expr); \
	ASSERT_EQ(0, __r) TH_LOG("%s", __err); \
} while (0)
#define ERRBUF __err, sizeof(__err)

#endif
