// SPDX-License-Identifier: GPL-2.0-only
/*
 * edu DMA engine (see edu.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/pci_regs.h>

#include "edu.h"
#include "sysfs.h"

/*
 * Order normal memory accesses against the MMIO accesses that start a DMA
 * and observe its completion (what wmb()/rmb() do around writel()/readl()).
 */
static inline void edu_barrier(void)
{
#if defined(__aarch64__)
	__asm__ __volatile__("dsb sy" ::: "memory");
#else
	__sync_synchronize();
#endif
}

void edu_init(struct edu *e, volatile void *bar0, size_t size)
{
	memset(e, 0, sizeof(*e));
	e->bar = bar0;
	e->bar_size = size;
	e->timeout_ms = EDU_DEFAULT_TIMEOUT_MS;
}

int edu_open_sysfs(struct edu *e, const char *bdf)
{
	char path[PATH_MAX];
	struct stat st;
	uint16_t cmd;
	void *bar;
	int fd, ret;

	memset(e, 0, sizeof(*e));
	ret = pci_cfg_read16(bdf, PCI_COMMAND, &cmd);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), SYSFS_PCI_DEVICES "/%s/resource0", bdf);
	fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	if (st.st_size < EDU_BAR_SIZE_MIN) {
		close(fd);
		return -ENODEV;
	}
	bar = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ret = bar == MAP_FAILED ? -errno : 0;
	close(fd);
	if (ret)
		return ret;
	edu_init(e, bar, st.st_size);
	snprintf(e->bdf, sizeof(e->bdf), "%s", bdf);
	e->saved_command = cmd;
	e->sysfs = true;
	ret = pci_cfg_write16(bdf, PCI_COMMAND,
			      cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	if (ret) {
		edu_close_sysfs(e);
		return ret;
	}
	return 0;
}

void edu_close_sysfs(struct edu *e)
{
	if (!e->sysfs)
		return;
	pci_cfg_write16(e->bdf, PCI_COMMAND, e->saved_command);
	munmap((void *)e->bar, e->bar_size);
	memset(e, 0, sizeof(*e));
}

uint32_t edu_read32(struct edu *e, unsigned int off)
{
	return *(volatile uint32_t *)(e->bar + off);
}

void edu_write32(struct edu *e, unsigned int off, uint32_t val)
{
	*(volatile uint32_t *)(e->bar + off) = val;
}

uint64_t edu_read64(struct edu *e, unsigned int off)
{
	return *(volatile uint64_t *)(e->bar + off);
}

void edu_write64(struct edu *e, unsigned int off, uint64_t val)
{
	*(volatile uint64_t *)(e->bar + off) = val;
}

int edu_check(struct edu *e, uint32_t *ident)
{
	uint32_t id = edu_read32(e, EDU_REG_IDENT), probe = 0x5a5a0f0f;

	if (ident)
		*ident = id;
	if ((id & 0xff) != 0xed)
		return -ENODEV;
	edu_write32(e, EDU_REG_LIVENESS, probe);
	if (edu_read32(e, EDU_REG_LIVENESS) != ~probe)
		return -ENODEV;
	return 0;
}

int edu_dma_wait(struct edu *e)
{
	uint64_t t0 = now_ms();

	for (;;) {
		if (!(edu_read64(e, EDU_REG_DMA_CMD) & EDU_DMA_CMD_START)) {
			edu_barrier();
			return 0;
		}
		if (now_ms() - t0 > (uint64_t)e->timeout_ms)
			return -ETIMEDOUT;
		usleep(2000);
	}
}

int edu_dma(struct edu *e, uint64_t addr, size_t len, unsigned int buf_off,
	    bool to_ram)
{
	uint64_t dev = EDU_BUF_ADDR + buf_off;

	/* Outside the device buffer the device logs and copies garbage. */
	if (!len || buf_off >= EDU_BUF_SIZE || len > EDU_BUF_SIZE - buf_off)
		return -EINVAL;
	/* Register writes are ignored while a command runs. */
	if (edu_read64(e, EDU_REG_DMA_CMD) & EDU_DMA_CMD_START)
		return -EBUSY;
	edu_write64(e, EDU_REG_DMA_SRC, to_ram ? dev : addr);
	edu_write64(e, EDU_REG_DMA_DST, to_ram ? addr : dev);
	edu_write64(e, EDU_REG_DMA_COUNT, len);
	edu_barrier();
	edu_write64(e, EDU_REG_DMA_CMD,
		    EDU_DMA_CMD_START | (to_ram ? EDU_DMA_CMD_TO_RAM : 0));
	return edu_dma_wait(e);
}

int edu_dma_to_device(struct edu *e, uint64_t addr, size_t len)
{
	return edu_dma(e, addr, len, 0, false);
}

int edu_dma_from_device(struct edu *e, uint64_t addr, size_t len)
{
	return edu_dma(e, addr, len, 0, true);
}
