// SPDX-License-Identifier: GPL-2.0-only
/*
 * Set-up shared by the edu DMA tests (see edusetup.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <linux/iommufd.h>

#include "edusetup.h"
#include "sysfs.h"
#include "vfio.h"

const char *errname(int err)
{
	static char b[64];
	int e = err < 0 ? -err : err;

	if (!err)
		return "success";
	snprintf(b, sizeof(b), "%s (%d)", strerror(e), e);
	return b;
}

int edu_home_pick(struct edu_home *h, char *why, size_t len)
{
	struct strlist edus;
	int n;

	memset(h, 0, sizeof(*h));
	strlist_init(&edus);
	n = edus_behind_iommu(&edus, NULL);
	if (n > 0)
		snprintf(h->bdf, sizeof(h->bdf), "%s", edus.v[0]);
	strlist_free(&edus);
	if (n < 0) {
		snprintf(why, len, "listing edus: %s", errname(n));
		return n;
	}
	if (n == 0) {
		snprintf(why, len, "no edu behind an IOMMU instance");
		return 0;
	}
	n = pci_driver(h->bdf, h->orig_drv, sizeof(h->orig_drv));
	if (n) {
		snprintf(why, len, "driver of %s: %s", h->bdf, errname(n));
		return n < 0 ? n : -EIO;
	}
	return 1;
}

void edu_home_restore(const struct edu_home *h)
{
	char drv[64];

	if (h->touched && !pci_driver(h->bdf, drv, sizeof(drv)) && !strcmp(drv, "vfio-pci"))
		vfio_pci_restore(h->bdf, h->orig_drv);
}

int edus_bind(int *iommufd, uint32_t *ioas, struct edu_dev *const d[],
	      const char *const bdf[], int n, char *err, size_t len)
{
	int ret;

	*iommufd = iommufd_open();
	if (*iommufd < 0) {
		snprintf(err, len, "open /dev/iommu: %s", errname(*iommufd));
		return *iommufd;
	}
	for (int i = 0; i < n; i++) {
		ret = edu_dev_open(d[i], bdf[i], *iommufd);
		if (ret) {
			snprintf(err, len, "%s", d[i]->vd.err);
			return ret;
		}
	}
	ret = iommufd_ioas_alloc(*iommufd, ioas);
	if (ret)
		snprintf(err, len, "IOMMU_IOAS_ALLOC: %s", errname(ret));
	return ret;
}

int ioas_map_new_buf(int iommufd, uint32_t ioas, uint8_t **buf, size_t len, uint64_t iova,
		     int fill, char *err, size_t errlen)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	int ret;

	if (p == MAP_FAILED) {
		ret = -errno;
		snprintf(err, errlen, "mmap of %zu bytes: %s", len, errname(ret));
		return ret;
	}
	*buf = p;
	memset(p, fill, len);
	ret = iommufd_ioas_map(iommufd, ioas, p, len, &iova, true,
			       IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE);
	if (ret)
		snprintf(err, errlen, "IOMMU_IOAS_MAP at %#llx: %s", (unsigned long long)iova,
			 errname(ret));
	return ret;
}
