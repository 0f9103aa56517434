// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory of the circular queues shared with the SMMU (command and event
 * queues), and the Q_BASE register values that describe them.
 */
#include <linux/device.h>
#include <linux/dma-mapping.h>

#include <smmuv3/smmuv3.h>

/* Queue bases are aligned to their size, and at least to 32 bytes. */
#define SMMUV3_QUEUE_MIN_ALIGN	32

/**
 * smmuv3_queue_alloc() - allocate a queue, shrinking it if memory is short
 * @smmu: the instance
 * @q: the queue to fill in
 * @log2size: wanted log2 of the number of entries
 * @ent_qwords: entry size in 64-bit words
 * @prod_off: offset of the PROD register from register page 0
 * @cons_off: offset of the CONS register from register page 0
 * @name: for messages
 *
 * The memory is device-managed: it goes away with the platform device.
 *
 * Return: 0 or -ENOMEM.
 */
int smmuv3_queue_alloc(struct smmuv3_device *smmu, struct smmuv3_queue *q,
		       unsigned int log2size, unsigned int ent_qwords,
		       unsigned long prod_off, unsigned long cons_off,
		       const char *name)
{
	size_t bytes;

	for (;; log2size--) {
		bytes = max_t(size_t, (ent_qwords * 8) << log2size,
			      SMMUV3_QUEUE_MIN_ALIGN);
		q->base = dmam_alloc_coherent(smmu->dev, bytes, &q->dma,
					      GFP_KERNEL);
		if (q->base || bytes <= PAGE_SIZE)
			break;
	}
	if (!q->base) {
		dev_err(smmu->dev, "cannot allocate the %s queue\n", name);
		return -ENOMEM;
	}
	/* dma_alloc_coherent() aligns to the size; the SMMU needs that */
	if (q->dma & (bytes - 1)) {
		dev_err(smmu->dev, "%s queue at %pad is misaligned\n", name,
			&q->dma);
		return -ENOMEM;
	}

	q->log2size = log2size;
	q->ent_qwords = ent_qwords;
	q->prod_reg = (prod_off >= SMMUV3_PAGE1_OFFSET ?
		       smmu->page1 + prod_off - SMMUV3_PAGE1_OFFSET :
		       smmu->base + prod_off);
	q->cons_reg = (cons_off >= SMMUV3_PAGE1_OFFSET ?
		       smmu->page1 + cons_off - SMMUV3_PAGE1_OFFSET :
		       smmu->base + cons_off);
	q->base_reg = SMMUV3_Q_BASE_RA |
		      (q->dma & SMMUV3_Q_BASE_ADDR) |
		      FIELD_PREP(SMMUV3_Q_BASE_LOG2SIZE, log2size);
	dev_dbg(smmu->dev, "%s queue: %u entries at %pad\n", name,
		1U << log2size, &q->dma);
	return 0;
}
