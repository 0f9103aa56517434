/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sysfs helpers for the smmuv3 selftests: reading and writing attribute
 * files, IOMMU instances (/sys/class/iommu) and the devices behind them,
 * IOMMU groups, PCI devices, their drivers and their configuration space.
 *
 * Everything here is driver-agnostic: instances are found by listing
 * /sys/class/iommu, never by the format of their names.
 *
 * Functions return 0 (or a non-negative count/length) on success and a
 * negative errno on failure; they never exit.
 */
#ifndef SMMUV3_SELFTEST_SYSFS_H
#define SMMUV3_SELFTEST_SYSFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SYSFS_PCI_DEVICES	"/sys/bus/pci/devices"
#define SYSFS_IOMMU_CLASS	"/sys/class/iommu"
#define SYSFS_IOMMU_GROUPS	"/sys/kernel/iommu_groups"

#define PCI_VENDOR_QEMU		0x1234
#define PCI_DEVICE_EDU		0x11e8
#define PCI_VENDOR_VIRTIO	0x1af4
#define PCI_DEVICE_VIRTIO_BLK_MODERN	0x1042
#define PCI_DEVICE_VIRTIO_BLK_LEGACY	0x1001
#define PCI_ANY_ID16		0xffff

/* A growable, owned list of strings. */
struct strlist {
	char **v;
	int n;
	int cap;
};

void strlist_init(struct strlist *l);
void strlist_free(struct strlist *l);
int strlist_add(struct strlist *l, const char *s);
bool strlist_contains(const struct strlist *l, const char *s);
void strlist_sort(struct strlist *l);
/* "a b c" into buf (truncated with "..." if it does not fit). */
const char *strlist_join(const struct strlist *l, char *buf, size_t len);

/* ---- Attribute files -------------------------------------------------- */

/*
 * Read a (small) attribute file into buf, NUL-terminated, trailing
 * newlines removed.  Returns the length or -errno.
 */
int sysfs_read(const char *path, char *buf, size_t len);
int sysfs_readf(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Parse with strtoull base 0 (accepts 0x... and decimal). */
int sysfs_read_u64(const char *path, uint64_t *val);
/* Write val (no newline added) in one write(2).  Returns 0 or -errno. */
int sysfs_write(const char *path, const char *val);
int sysfs_writef(const char *val, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Basename of a symlink's target ("" and -ENOENT if there is no link). */
int sysfs_link_name(const char *path, char *buf, size_t len);
bool path_exists(const char *path);
/* Entries of a directory (without . and ..), sorted. */
int dir_list(const char *dir, struct strlist *out);

/* ---- IOMMU instances and groups --------------------------------------- */

/* Names in /sys/class/iommu, sorted. Returns the count or -errno. */
int iommu_instances(struct strlist *out);
/* Devices linked from /sys/class/iommu/INST/devices, sorted. */
int iommu_instance_devices(const char *inst, struct strlist *out);
/* Group number of a device in /sys/bus/pci/devices, or -errno. */
int pci_iommu_group(const char *bdf);
/* /sys/kernel/iommu_groups/N/type ("identity", "DMA", "DMA-FQ", ...). */
int iommu_group_type(int group, char *buf, size_t len);
/* Device names in /sys/kernel/iommu_groups/N/devices, sorted. */
int iommu_group_devices(int group, struct strlist *out);
/* All group numbers, sorted by number. */
int iommu_groups(int **groups);

/* ---- PCI devices ------------------------------------------------------- */

/* Devices matching vendor/device (PCI_ANY_ID16 = any), sorted by name. */
int pci_find(uint16_t vendor, uint16_t device, struct strlist *out);
int pci_ids(const char *bdf, uint16_t *vendor, uint16_t *device);
/* The instance a PCI device's "iommu" link points at, or -ENOENT. */
int pci_iommu_instance(const char *bdf, char *buf, size_t len);
/*
 * Append the devices of ALL that are behind an IOMMU instance to OUT;
 * *skipped (optional) gets how many are not.  Returns OUT's count or -errno.
 */
int pci_behind_iommu(const struct strlist *all, struct strlist *out, int *skipped);
/* "pciDDDD:BB", the host bridge a device sits under in /sys/devices. */
int pci_root_bus(const char *bdf, char *buf, size_t len);
/* Bound driver name, "" (and 0) when none. */
int pci_driver(const char *bdf, char *buf, size_t len);
/* Unbind the current driver, if any. */
int pci_unbind(const char *bdf);
/*
 * Bind to DRIVER using driver_override + drivers_probe (unbinding any
 * other driver first).  DRIVER "" (or NULL) clears driver_override and lets
 * the bus pick a driver (or none).  Waits until the binding is visible.
 */
int pci_bind(const char *bdf, const char *driver);

/* Configuration space through /sys/bus/pci/devices/X/config. */
int pci_cfg_read(const char *bdf, unsigned int off, void *buf, size_t len);
int pci_cfg_write(const char *bdf, unsigned int off, const void *buf, size_t len);
int pci_cfg_read16(const char *bdf, unsigned int off, uint16_t *val);
int pci_cfg_write16(const char *bdf, unsigned int off, uint16_t val);
/* Offset of standard capability CAP, 0 if absent, or -errno. */
int pci_find_cap(const char *bdf, uint8_t cap);
/* PCIe device/port type (PCI_EXP_TYPE_*), or -ENODEV without a PCIe cap. */
int pcie_type(const char *bdf);

/* Wait up to timeout_ms for PATH to exist.  Returns 0 or -ETIMEDOUT. */
int wait_for_path(const char *path, int timeout_ms);
/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t now_ms(void);

#endif
