/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stale-translation detector: one IOVA page of an IOAS is remapped again
 * and again to a page of a small pool ("generation" n: unmap, map the next
 * pool page, old pages come back later), and an edu DMAs through it.
 *
 * Every 8-byte word written to a pool page or to the control page is
 * unique: it encodes its kind (sentinel, pattern, marker), the slot, the
 * pool page, the generation and its offset (GEN_WORD()).  So whatever a
 * DMA leaves anywhere can be attributed to the page and generation it was
 * meant for, and a word that shows up in the wrong page names the stale
 * translation that put it there.
 *
 * One check (gen_check()) of generation n, with pool page P current at
 * the IOVA and every other pool page holding its own sentinel:
 *   1. P gets pattern R(n); the edu reads the IOVA into its buffer;
 *   2. the edu writes its buffer to the control page (a mapping that never
 *      changes): it must hold R(n) (a stale read would bring another pool
 *      page's sentinel, an aborted one zeros);
 *   3. P gets a marker M(n); the edu writes its buffer to the IOVA: P must
 *      hold R(n) and every other pool page its sentinel, unchanged (a
 *      stale write lands in an older page, which may be mapped again
 *      later, or hold another generation's words).
 * Three DMAs, so the device's TLB entry for the IOVA is refilled with
 * generation n before the next remap.
 */
#ifndef SMMUV3_SELFTEST_STALECHECK_H
#define SMMUV3_SELFTEST_STALECHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edu.h"
#include "mem.h"

#define GEN_POOL_MAX	8
#define GEN_PAGE	4096

/* Word kinds. */
#define GEN_K_SENTINEL	1	/* a pool page that is not current */
#define GEN_K_PATTERN	2	/* R(n): what the device must read and write */
#define GEN_K_MARKER	3	/* M(n): the current page before the device writes */
#define GEN_K_CTL	4	/* the control page before the device writes */

/*
 * Bits 63:56 0xa5, 55:52 kind, 51:44 slot, 43:40 pool page, 39:9
 * generation (31 bits), 8:0 word index in the page.
 */
#define GEN_WORD(kind, slot, page, gen, idx) \
	((0xa5ULL << 56) | ((uint64_t)(kind) << 52) | ((uint64_t)(slot) << 44) | \
	 ((uint64_t)(page) << 40) | (((uint64_t)(gen) & 0x7fffffffULL) << 9) | \
	 ((uint64_t)(idx) & 0x1ff))

struct gen_slot {
	unsigned int slot;		/* tag in the words (0..255) */
	int npages;			/* pool size, 2..GEN_POOL_MAX */
	struct pinned_buf pg[GEN_POOL_MAX];
	uint64_t gen_of[GEN_POOL_MAX];	/* generation each page was last current in */
	void *ctl;			/* control page (not owned) */
	uint64_t ioas_iova;		/* where the current pool page is mapped */
	int cur;			/* pool page mapped there, -1: none */
	uint64_t gen;			/* current generation */
	uint64_t remaps, checks;
};

/* Pool of NPAGES pinned pages, none mapped.  0 or -errno. */
int gen_slot_init(struct gen_slot *s, unsigned int slot, int npages, void *ctl,
		  uint64_t ioas_iova);
void gen_slot_free(struct gen_slot *s);
/*
 * Next generation: unmap the current page (if any), then map pool page
 * NEXT (a page other than the current one; -1: the one after it, round
 * robin, so old pages are reused) at s->ioas_iova.  Every page not current
 * gets its sentinel first.  0 or -errno (ERR says which step; the slot is
 * left unmapped when the map failed).
 */
int gen_remap(int iommufd, uint32_t ioas, struct gen_slot *s, int next, char *err,
	      size_t errlen);
/* Only the unmap (s->cur becomes -1). */
int gen_unmap(int iommufd, uint32_t ioas, struct gen_slot *s, char *err, size_t errlen);
/*
 * The check above with edu E, which reaches the current page at DEV_IOVA
 * and the control page at CTL_IOVA.  0; -EIO with ERR describing every
 * misplaced or missing word; or the edu's error.
 */
int gen_check(struct edu *e, const char *who, struct gen_slot *s, uint64_t dev_iova,
	      uint64_t ctl_iova, char *err, size_t errlen);
/*
 * E is blocked from DEV_IOVA (detached, or the IOVA unmapped): a write
 * there must change no pool page (each keeps its sentinel, the current one
 * its marker).  0 or -EIO (ERR says what was hit).
 */
int gen_check_dropped(struct edu *e, const char *who, struct gen_slot *s,
		      uint64_t dev_iova, char *err, size_t errlen);

#endif
