// SPDX-License-Identifier: GPL-2.0-only
/*
 * sysfs helpers for the smmuv3 selftests (see sysfs.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/pci_regs.h>

#include "sysfs.h"

/* ---- strlist ------------------------------------------------------------ */

void strlist_init(struct strlist *l)
{
	l->v = NULL;
	l->n = 0;
	l->cap = 0;
}

void strlist_free(struct strlist *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	strlist_init(l);
}

int strlist_add(struct strlist *l, const char *s)
{
	if (l->n == l->cap) {
		int cap = l->cap ? 2 * l->cap : 8;
		char **v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n] = strdup(s);
	if (!l->v[l->n])
		return -ENOMEM;
	l->n++;
	return 0;
}

bool strlist_contains(const struct strlist *l, const char *s)
{
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], s))
			return true;
	return false;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void strlist_sort(struct strlist *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), cmp_str);
}

const char *strlist_join(const struct strlist *l, char *buf, size_t len)
{
	size_t used = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	for (int i = 0; i < l->n; i++) {
		int w = snprintf(buf + used, len - used, "%s%s", i ? " " : "", l->v[i]);

		if (w < 0 || (size_t)w >= len - used) {
			if (len > 4)
				strcpy(buf + len - 4, "...");
			break;
		}
		used += w;
	}
	return buf;
}

/* ---- Attribute files ---------------------------------------------------- */

int sysfs_read(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	if (!len)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return n;
}

int sysfs_readf(char *buf, size_t len, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return sysfs_read(path, buf, len);
}

int sysfs_read_u64(const char *path, uint64_t *val)
{
	char buf[64], *end;
	int ret = sysfs_read(path, buf, sizeof(buf));

	if (ret < 0)
		return ret;
	errno = 0;
	*val = strtoull(buf, &end, 0);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

int sysfs_write(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	return (size_t)n == len ? 0 : -EIO;
}

int sysfs_writef(const char *val, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return sysfs_write(path, val);
}

int sysfs_link_name(const char *path, char *buf, size_t len)
{
	char target[PATH_MAX];
	ssize_t n;
	char *base;

	if (len)
		buf[0] = '\0';
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	strcpy(buf, base);
	return 0;
}

bool path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

int dir_list(const char *dir, struct strlist *out)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int ret = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ret = strlist_add(out, de->d_name);
		if (ret)
			break;
	}
	closedir(d);
	strlist_sort(out);
	return ret ? ret : out->n;
}

/* ---- IOMMU instances and groups ----------------------------------------- */

int iommu_instances(struct strlist *out)
{
	return dir_list(SYSFS_IOMMU_CLASS, out);
}

int iommu_instance_devices(const char *inst, struct strlist *out)
{
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), SYSFS_IOMMU_CLASS "/%s/devices", inst);
	ret = dir_list(path, out);
	/* An instance with no devices may have no directory at all. */
	return ret == -ENOENT ? 0 : ret;
}

int pci_iommu_group(const char *bdf)
{
	char path[PATH_MAX], name[64], *end;
	long g;
	int ret;

	snprintf(path, sizeof(path), SYSFS_PCI_DEVICES "/%s/iommu_group", bdf);
	ret = sysfs_link_name(path, name, sizeof(name));
	if (ret)
		return ret;
	g = strtol(name, &end, 10);
	if (*end || g < 0 || g > INT_MAX)
		return -EINVAL;
	return g;
}

int iommu_group_type(int group, char *buf, size_t len)
{
	return sysfs_readf(buf, len, SYSFS_IOMMU_GROUPS "/%d/type", group);
}

int iommu_group_devices(int group, struct strlist *out)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), SYSFS_IOMMU_GROUPS "/%d/devices", group);
	return dir_list(path, out);
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int iommu_groups(int **groups)
{
	struct strlist names;
	int ret, n = 0;

	strlist_init(&names);
	*groups = NULL;
	ret = dir_list(SYSFS_IOMMU_GROUPS, &names);
	if (ret < 0)
		goto out;
	*groups = calloc(names.n ? names.n : 1, sizeof(int));
	if (!*groups) {
		ret = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < names.n; i++)
		(*groups)[n++] = atoi(names.v[i]);
	qsort(*groups, n, sizeof(int), cmp_int);
	ret = n;
out:
	strlist_free(&names);
	return ret;
}

/* ---- PCI devices ---------------------------------------------------------- */

int pci_ids(const char *bdf, uint16_t *vendor, uint16_t *device)
{
	char path[PATH_MAX];
	uint64_t v, d;
	int ret;

	snprintf(path, sizeof(path), SYSFS_PCI_DEVICES "/%s/vendor", bdf);
	ret = sysfs_read_u64(path, &v);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), SYSFS_PCI_DEVICES "/%s/device", bdf);
	ret = sysfs_read_u64(path, &d);
	if (ret)
		return ret;
	*vendor = v;
	*device = d;
	return 0;
}

int pci_find(uint16_t vendor, uint16_t device, struct strlist *out)
{
	struct strlist all;
	int ret;

	strlist_init(&all);
	ret = dir_list(SYSFS_PCI_DEVICES, &all);
	if (ret < 0)
		goto out;
	ret = 0;
	for (int i = 0; i < all.n; i++) {
		uint16_t v, d;

		if (pci_ids(all.v[i], &v, &d))
			continue;
		if (vendor != PCI_ANY_ID16 && v != vendor)
			continue;
		if (device != PCI_ANY_ID16 && d != device)
			continue;
		ret = strlist_add(out, all.v[i]);
		if (ret)
			goto out;
	}
	strlist_sort(out);
	ret = out->n;
out:
	strlist_free(&all);
	return ret;
}

int pci_iommu_instance(const char *bdf, char *buf, size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), SYSFS_PCI_DEVICES "/%s/iommu", bdf);
	return sysfs_link_name(path, buf, len);
}

int pci_behind_iommu(const struct strlist *all, struct strlist *out, int *skipped)
{
	char inst[128];
	int ret = 0, none = 0;

	for (int i = 0; i < all->n && !ret; i++) {
		if (pci_iommu_instance(all->v[i], inst, sizeof(inst)))
			none++;
		else
			ret = strlist_add(out, all->v[i]);
	}
	if (skipped)
		*skipped = none;
	return ret < 0 ? ret : out->n;
}

int pci_root_bus(const char *bdf, char *buf, size_t len)
{
	char path[PATH_MAX], real[PATH_MAX];
	const char *p;
	size_t n;

	snprintf(path, sizeof(path), SYSFS_PCI_DEVICES "/%s", bdf);
	if (!realpath(path, real))
		return -errno;
	/* .../pciDDDD:BB/DDDD:BB:DD.F/... : the first "pci" component. */
	p = strstr(real, "/pci");
	if (!p)
		return -EINVAL;
	p++;
	n = strcspn(p, "/");
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return 0;
}

int pci_driver(const char *bdf, char *buf, size_t len)
{
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), SYSFS_PCI_DEVICES "/%s/driver", bdf);
	ret = sysfs_link_name(path, buf, len);
	return ret == -ENOENT ? 0 : ret;
}

int pci_unbind(const char *bdf)
{
	char drv[64];
	int ret = pci_driver(bdf, drv, sizeof(drv));

	if (ret)
		return ret;
	if (!drv[0])
		return 0;
	return sysfs_writef(bdf, SYSFS_PCI_DEVICES "/%s/driver/unbind", bdf);
}

int pci_bind(const char *bdf, const char *driver)
{
	char drv[64];
	uint64_t t0;
	int ret;

	if (!driver)
		driver = "";
	ret = pci_driver(bdf, drv, sizeof(drv));
	if (ret)
		return ret;
	if (driver[0] && !strcmp(drv, driver))
		return 0;
	ret = sysfs_writef(driver[0] ? driver : "\n",
			   SYSFS_PCI_DEVICES "/%s/driver_override", bdf);
	if (ret)
		return ret;
	if (drv[0]) {
		ret = pci_unbind(bdf);
		if (ret)
			return ret;
	}
	ret = sysfs_write("/sys/bus/pci/drivers_probe", bdf);
	if (ret)
		return ret;
	if (!driver[0])
		return 0;
	t0 = now_ms();
	for (;;) {
		ret = pci_driver(bdf, drv, sizeof(drv));
		if (ret)
			return ret;
		if (!strcmp(drv, driver))
			return 0;
		if (now_ms() - t0 > 5000)
			return drv[0] ? -EBUSY : -ENODEV;
		usleep(10000);
	}
}

/*
 * LEN bytes of BDF's configuration space at OFF, whole or not at all: read
 * into RD, or written from WR when it is not NULL.
 */
static int pci_cfg_io(const char *bdf, unsigned int off, void *rd, const void *wr,
		      size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), SYSFS_PCI_DEVICES "/%s/config", bdf);
	fd = open(path, (wr ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = wr ? pwrite(fd, wr, len, off) : pread(fd, rd, len, off);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return n;
	return (size_t)n == len ? 0 : -EIO;
}

int pci_cfg_read(const char *bdf, unsigned int off, void *buf, size_t len)
{
	return pci_cfg_io(bdf, off, buf, NULL, len);
}

int pci_cfg_write(const char *bdf, unsigned int off, const void *buf, size_t len)
{
	return pci_cfg_io(bdf, off, NULL, buf, len);
}

/* Configuration space is little-endian; so is arm64 (and the host). */
int pci_cfg_read16(const char *bdf, unsigned int off, uint16_t *val)
{
	return pci_cfg_read(bdf, off, val, sizeof(*val));
}

int pci_cfg_write16(const char *bdf, unsigned int off, uint16_t val)
{
	return pci_cfg_write(bdf, off, &val, sizeof(val));
}

int pci_find_cap(const char *bdf, uint8_t cap)
{
	uint8_t hdr[256];
	uint16_t status;
	int pos, ret, guard;

	ret = pci_cfg_read(bdf, 0, hdr, sizeof(hdr));
	if (ret)
		return ret;
	memcpy(&status, hdr + PCI_STATUS, sizeof(status));
	if (!(status & PCI_STATUS_CAP_LIST))
		return 0;
	pos = hdr[PCI_CAPABILITY_LIST] & ~3;
	for (guard = 0; pos >= 0x40 && guard < 48; guard++) {
		if (hdr[pos + PCI_CAP_LIST_ID] == cap)
			return pos;
		pos = hdr[pos + PCI_CAP_LIST_NEXT] & ~3;
	}
	return 0;
}

int pcie_type(const char *bdf)
{
	uint16_t flags;
	int pos = pci_find_cap(bdf, PCI_CAP_ID_EXP), ret;

	if (pos < 0)
		return pos;
	if (!pos)
		return -ENODEV;
	ret = pci_cfg_read16(bdf, pos + PCI_EXP_FLAGS, &flags);
	if (ret)
		return ret;
	return (flags & PCI_EXP_FLAGS_TYPE) >> 4;
}

int wait_for_path(const char *path, int timeout_ms)
{
	uint64_t t0 = now_ms();

	while (!path_exists(path)) {
		if (now_ms() - t0 > (uint64_t)timeout_ms)
			return -ETIMEDOUT;
		usleep(10000);
	}
	return 0;
}

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
