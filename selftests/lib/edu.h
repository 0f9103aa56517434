/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * QEMU's educational PCI device ("edu", 1234:11e8) as a DMA engine.
 *
 * BAR0 (1 MiB): 0x00 identification (0x010000ed: major.minor.0xed),
 * 0x04 liveness (reads back the inverse of what was written), 0x80 DMA
 * source, 0x88 DMA destination, 0x90 DMA count, 0x98 DMA command (bit 0
 * start/busy, bit 1 direction: 1 = device buffer -> RAM, bit 2 raise an
 * interrupt).  The device buffer is 4 KiB at device address 0x40000.
 * A command completes about 100 ms (virtual time) after it is started,
 * whether or not the IOMMU let the transaction through; the DMA address is
 * masked with the device's dma_mask property (28 bits unless widened).
 *
 * The BAR is reached either through VFIO (vfio.h: vfio_dev_edu()) or,
 * for a device with no driver, through /sys/bus/pci/devices/X/resource0
 * (edu_open_sysfs(), which also enables memory decoding and bus mastering
 * through the config file; the device then DMAs through whatever domain
 * its group is in, normally the default one).
 */
#ifndef SMMUV3_SELFTEST_EDU_H
#define SMMUV3_SELFTEST_EDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EDU_BAR_SIZE_MIN	0x100
#define EDU_REG_IDENT		0x00
#define EDU_REG_LIVENESS	0x04
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98
#define EDU_DMA_CMD_START	0x1
#define EDU_DMA_CMD_TO_RAM	0x2
#define EDU_DMA_CMD_IRQ		0x4
#define EDU_BUF_ADDR		0x40000
#define EDU_BUF_SIZE		4096
#define EDU_DEFAULT_TIMEOUT_MS	5000

struct edu {
	volatile uint8_t *bar;
	size_t bar_size;
	int timeout_ms;
	/* Only for edu_open_sysfs(). */
	char bdf[32];
	uint16_t saved_command;
	bool sysfs;
};

/* Wrap an already mapped BAR0 (e.g. from VFIO). */
void edu_init(struct edu *e, volatile void *bar0, size_t size);
/*
 * Map resource0 of a device that has no driver and set memory decoding
 * and bus mastering in its command register (the old value is restored by
 * edu_close_sysfs()).
 */
int edu_open_sysfs(struct edu *e, const char *bdf);
void edu_close_sysfs(struct edu *e);

uint32_t edu_read32(struct edu *e, unsigned int off);
void edu_write32(struct edu *e, unsigned int off, uint32_t val);
uint64_t edu_read64(struct edu *e, unsigned int off);
void edu_write64(struct edu *e, unsigned int off, uint64_t val);

/*
 * Whether BAR0 answers like an edu: identification byte 0xed and a
 * working liveness register.  Returns 0 or -ENODEV (*ident gets reg 0).
 */
int edu_check(struct edu *e, uint32_t *ident);

/*
 * DMA LEN bytes between the device buffer (at byte offset BUF_OFF) and
 * ADDR (an IOVA, or a physical address when the device is in an identity
 * domain), and wait for completion.
 *   edu_dma_to_device:   ADDR (RAM) -> device buffer (a DMA read)
 *   edu_dma_from_device: device buffer -> ADDR (RAM) (a DMA write)
 * Returns 0 when the command completed, -ETIMEDOUT if the busy bit stayed
 * set for timeout_ms, -EBUSY if a command was already running, -EINVAL
 * for a range outside the device buffer.  Completion says nothing about
 * whether the IOMMU allowed the access.
 */
int edu_dma_to_device(struct edu *e, uint64_t addr, size_t len);
int edu_dma_from_device(struct edu *e, uint64_t addr, size_t len);
int edu_dma(struct edu *e, uint64_t addr, size_t len, unsigned int buf_off,
	    bool to_ram);
/* Wait for the busy bit to clear.  0 or -ETIMEDOUT. */
int edu_dma_wait(struct edu *e);

#endif
