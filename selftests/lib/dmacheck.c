// SPDX-License-Identifier: GPL-2.0-only
/*
 * edu DMA checks through an IOMMU (see dmacheck.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dmacheck.h"
#include "env.h"
#include "sysfs.h"

int edus_configure_unbound(void)
{
	const char *e = getenv("SMMUV3_UNBOUND_NOGROUP");
	struct strlist all;
	int ret, n = 0;

	if (!e || strcmp(e, "1"))
		return 0;
	strlist_init(&all);
	ret = pci_find(PCI_VENDOR_QEMU, PCI_DEVICE_EDU, &all);
	for (int i = 0; ret >= 0 && i < all.n; i++) {
		char inst[128], drv[64];

		if (!pci_iommu_instance(all.v[i], inst, sizeof(inst)) ||
		    pci_driver(all.v[i], drv, sizeof(drv)) || drv[0])
			continue;
		ret = pci_bind(all.v[i], "vfio-pci");
		printf("# edu %s had no driver and no IOMMU group (this kernel configures a "
		       "device's DMA when a driver binds it): bound to vfio-pci: %s\n",
		       all.v[i], ret ? strerror(-ret) : "ok");
		if (!ret)
			n++;
	}
	strlist_free(&all);
	return ret < 0 ? ret : n;
}

int edus_behind_iommu(struct strlist *out, int *skipped)
{
	struct strlist all;
	int ret;

	edus_configure_unbound();
	strlist_init(&all);
	ret = pci_find(PCI_VENDOR_QEMU, PCI_DEVICE_EDU, &all);
	if (ret >= 0)
		ret = pci_behind_iommu(&all, out, skipped);
	strlist_free(&all);
	return ret;
}

int edus_on_distinct_instances(struct edu_pick *out, int max)
{
	struct strlist edus;
	int ret, n = 0;

	strlist_init(&edus);
	ret = edus_behind_iommu(&edus, NULL);
	for (int i = 0; ret >= 0 && i < edus.n && n < max; i++) {
		char inst[128];
		bool seen = false;

		if (pci_iommu_instance(edus.v[i], inst, sizeof(inst)))
			continue;
		for (int j = 0; j < n; j++)
			seen |= !strcmp(out[j].inst, inst);
		if (seen)
			continue;
		snprintf(out[n].bdf, sizeof(out[n].bdf), "%s", edus.v[i]);
		snprintf(out[n].inst, sizeof(out[n].inst), "%s", inst);
		n++;
	}
	strlist_free(&edus);
	return ret < 0 ? ret : n;
}

int edus_pick_two(struct edu_pick pick[2], char *why, size_t len)
{
	int ret = edus_on_distinct_instances(pick, 2);

	if (ret < 0) {
		snprintf(why, len, "listing edus: %s", strerror(-ret));
		return -1;
	}
	if (ret == 2)
		return 2;
	if (env_topology_is("acpi2")) {
		snprintf(why, len, "topology %s: expected edus behind two different instances, "
			 "found %s", env_topology(),
			 ret ? "them all behind one" : "no edu behind any");
		return -1;
	}
	snprintf(why, len, "needs edus behind two different SMMU instances (topology %s has %s)",
		 env_topology() ? env_topology() : "unknown",
		 ret ? "one instance with edus" : "no edu behind an instance");
	return 0;
}

int edu_dev_open(struct edu_dev *d, const char *bdf, int iommufd)
{
	int ret;

	memset(d, 0, sizeof(*d));
	d->vd.fd = -1;
	snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);
	ret = pci_iommu_instance(bdf, d->inst, sizeof(d->inst));
	if (ret) {
		snprintf(d->vd.err, sizeof(d->vd.err), "%s is behind no IOMMU instance",
			 bdf);
		return ret;
	}
	ret = vfio_dev_open(&d->vd, bdf, iommufd);
	if (ret)
		return ret;
	ret = vfio_dev_edu(&d->vd, &d->e);
	if (ret)
		vfio_dev_close(&d->vd);
	return ret;
}

int edu_dev_stages(struct edu_dev *d, bool *s1, bool *s2, const char **how)
{
	char root[64];
	uint32_t idr[6];
	bool bus0;
	int ret = iommufd_smmuv3_idr(d->vd.iommufd, d->vd.devid, idr);

	if (!ret) {
		*how = "IDR0.S1P/S2P from IOMMU_GET_HW_INFO";
		*s1 = idr[0] & SMMUV3_IDR0_S1P;
		*s2 = idr[0] & SMMUV3_IDR0_S2P;
		return 0;
	}
	if (ret != -EOPNOTSUPP)
		return ret;
	*how = "the topology (the driver gives no SMMUv3 IOMMU_GET_HW_INFO)";
	if (env_topology_is("acpi2-mixed") || env_topology_is("acpi2-s2s1")) {
		ret = pci_root_bus(d->bdf, root, sizeof(root));
		if (ret)
			return ret;
		bus0 = !strcmp(root, "pci0000:00");
		*s1 = !bus0 || env_topology_is("acpi2-mixed");
		*s2 = bus0;
		return 0;
	}
	if (env_topology_is("acpi2")) {
		*s1 = *s2 = true;
		return 0;
	}
	if (env_topology_is("dt1")) {
		*s1 = true;
		*s2 = false;
		return 0;
	}
	*how = "nothing (no SMMUv3 IOMMU_GET_HW_INFO, unknown topology)";
	return -ENOENT;
}

int edu_dev_has_s2(struct edu_dev *d, const char **how)
{
	bool s1, s2;
	int ret = edu_dev_stages(d, &s1, &s2, how);

	return ret ? ret : s2;
}

int edu_dev_has_nesting(struct edu_dev *d, const char **how)
{
	bool s1, s2;
	int ret = edu_dev_stages(d, &s1, &s2, how);

	return ret ? ret : s1 && s2;
}

static int dma_failed(struct edu_dev *d, int ret, const char *what, uint64_t iova,
		      char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s IOVA 0x%llx: expected the edu to complete the "
		 "command (it does even when the IOMMU aborts it), found %s", d->bdf,
		 what, (unsigned long long)iova, strerror(-ret));
	d->dev_known = false;
	return ret;
}

/* "first at +N: expected 0xAA found 0xBB" for a mismatch of A (found) vs B. */
static void diff_desc(const unsigned char *found, const unsigned char *expect,
		      size_t len, char *buf, size_t blen)
{
	long first;
	size_t n = mem_diff(found, expect, len, &first);

	if (!n)
		snprintf(buf, blen, "no byte differs");
	else
		snprintf(buf, blen, "%zu of %zu bytes differ, first at +%ld: expected "
			 "0x%02x, found 0x%02x", n, len, first, expect[first],
			 found[first]);
}

int edu_roundtrip(struct edu_dev *d, void *src, uint64_t src_iova, void *dst,
		  uint64_t dst_iova, size_t len, struct prng *r, char *err,
		  size_t errlen)
{
	unsigned char *pat = malloc(len), *marker = malloc(len);
	char desc[160];
	int ret = -ENOMEM;

	if (!pat || !marker) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	/* Distinct from the old device buffer, so a DMA that did not happen shows. */
	mem_fill_distinct(pat, d->dev_known ? d->dev : NULL, dst, len, r);
	memcpy(src, pat, len);
	ret = edu_dma_to_device(&d->e, src_iova, len);
	if (ret) {
		ret = dma_failed(d, ret, "DMA RAM -> device from", src_iova, err, errlen);
		goto out;
	}
	d->dev_known = false;
	mem_fill_distinct(marker, pat, d->dev_known ? d->dev : NULL, len, r);
	memcpy(dst, marker, len);
	ret = edu_dma_from_device(&d->e, dst_iova, len);
	if (ret) {
		ret = dma_failed(d, ret, "DMA device -> RAM to", dst_iova, err, errlen);
		goto out;
	}
	if (!memcmp(dst, pat, len)) {
		memcpy(d->dev, pat, len);
		memset(d->dev + len, 0, EDU_BUF_SIZE - len);
		d->dev_known = len == EDU_BUF_SIZE;
		ret = 0;
		goto out;
	}
	ret = -EIO;
	diff_desc(dst, pat, len, desc, sizeof(desc));
	snprintf(err, errlen, "%s (behind %s): expected the %zu-byte pattern copied RAM "
		 "(IOVA 0x%llx) -> device -> RAM (IOVA 0x%llx) to arrive, found %s%s",
		 d->bdf, d->inst, len, (unsigned long long)src_iova,
		 (unsigned long long)dst_iova, desc,
		 !memcmp(dst, marker, len) ? "; the destination kept its marker: the "
		 "write to RAM did not happen (faulted?)" :
		 mem_all(dst, 0, len) ? "; the destination is all zeros: the read from "
		 "RAM faulted (QEMU reads zeros)" : "");
out:
	free(pat);
	free(marker);
	return ret;
}

int edu_write_dropped(struct edu_dev *d, uint64_t iova, void *mem, size_t len,
		      struct prng *r, char *err, size_t errlen)
{
	unsigned char *marker = malloc(len);
	char desc[160];
	int ret;

	if (!marker) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	mem_fill_distinct(marker, d->dev_known ? d->dev : NULL, NULL, len, r);
	memcpy(mem, marker, len);
	ret = edu_dma_from_device(&d->e, iova, len);
	if (ret) {
		ret = dma_failed(d, ret, "DMA device -> RAM to", iova, err, errlen);
	} else if (memcmp(mem, marker, len)) {
		ret = -EIO;
		diff_desc(mem, marker, len, desc, sizeof(desc));
		snprintf(err, errlen, "%s (behind %s): expected its write to IOVA 0x%llx "
			 "dropped, memory untouched; found %s%s", d->bdf, d->inst,
			 (unsigned long long)iova, desc,
			 d->dev_known && !memcmp(mem, d->dev, len) ?
			 "; it now holds the device buffer: the write went through" : "");
	}
	free(marker);
	return ret;
}

int edu_read_dropped(struct edu_dev *d, uint64_t iova, void *mem, void *ctl,
		     uint64_t ctl_iova, size_t len, struct prng *r, char *err,
		     size_t errlen)
{
	unsigned char *pat = malloc(len), *marker = malloc(len), *before = malloc(len);
	const unsigned char *back = ctl;
	size_t leaked, zero = 0, kept = 0;
	int ret = -ENOMEM;

	if (!pat || !marker || !before) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (!d->dev_known) {
		ret = -EINVAL;
		snprintf(err, errlen, "%s: device buffer unknown: cannot tell a leaked "
			 "read (test bug)", d->bdf);
		goto out;
	}
	memcpy(before, d->dev, len);
	mem_fill_distinct(pat, before, NULL, len, r);
	memcpy(mem, pat, len);
	ret = edu_dma_to_device(&d->e, iova, len);
	if (ret) {
		ret = dma_failed(d, ret, "DMA RAM -> device from", iova, err, errlen);
		goto out;
	}
	d->dev_known = false;
	/* Read the device buffer back through a working mapping. */
	mem_fill_distinct(marker, pat, before, len, r);
	memcpy(ctl, marker, len);
	ret = edu_dma_from_device(&d->e, ctl_iova, len);
	if (ret) {
		ret = dma_failed(d, ret, "readback DMA device -> RAM to", ctl_iova, err,
				 errlen);
		goto out;
	}
	if (!memcmp(ctl, marker, len)) {
		ret = -EIO;
		snprintf(err, errlen, "%s (behind %s): the readback of the device buffer "
			 "through the mapped IOVA 0x%llx did not arrive (memory kept its "
			 "marker): inconclusive, and that mapping should work", d->bdf,
			 d->inst, (unsigned long long)ctl_iova);
		goto out;
	}
	leaked = mem_same(back, pat, len);
	for (size_t i = 0; i < len; i++) {
		if (back[i] == before[i])
			kept++;
		else if (!back[i])
			zero++;
	}
	if (leaked || kept + zero != len) {
		ret = -EIO;
		snprintf(err, errlen, "%s (behind %s): told to read unmapped/blocked IOVA "
			 "0x%llx: expected its buffer to keep its bytes or read zeros, "
			 "found %zu of %zu bytes of the memory's pattern (%zu kept, %zu "
			 "zero, %zu other)%s", d->bdf, d->inst, (unsigned long long)iova,
			 leaked, len, kept, zero, len - kept - zero,
			 leaked == len ? ": the read went through" : "");
		goto out;
	}
	memcpy(d->dev, back, len);
	d->dev_known = len == EDU_BUF_SIZE;
	ret = 0;
out:
	free(pat);
	free(marker);
	free(before);
	return ret;
}

void dma_fixture_release(int iommufd, struct pinned_buf *mem,
			 struct pinned_buf *ctl)
{
	vfio_dev_close_all();
	if (iommufd >= 0)
		close(iommufd);
	pinned_free(mem);
	pinned_free(ctl);
}
