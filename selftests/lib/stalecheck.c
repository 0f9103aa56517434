// SPDX-License-Identifier: GPL-2.0-only
/*
 * Stale-translation detector (see stalecheck.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <linux/iommufd.h>

#include "stalecheck.h"
#include "vfio.h"

#define WORDS (GEN_PAGE / 8)

static void fill(void *page, unsigned int kind, unsigned int slot, unsigned int pg,
		 uint64_t gen)
{
	volatile uint64_t *w = page;

	for (unsigned int i = 0; i < WORDS; i++)
		w[i] = GEN_WORD(kind, slot, pg, gen, i);
}

static const char *kind_name(unsigned int k)
{
	switch (k) {
	case GEN_K_SENTINEL: return "sentinel";
	case GEN_K_PATTERN: return "pattern";
	case GEN_K_MARKER: return "marker";
	case GEN_K_CTL: return "control marker";
	default: return "?";
	}
}

/* What word W is, in words. */
static void decode(uint64_t w, char *buf, size_t len)
{
	if (!w) {
		snprintf(buf, len, "zero");
		return;
	}
	if (w >> 56 != 0xa5) {
		snprintf(buf, len, "foreign word %#018llx", (unsigned long long)w);
		return;
	}
	snprintf(buf, len, "%s of slot %u page %u generation %llu word %u",
		 kind_name((w >> 52) & 0xf), (unsigned int)(w >> 44) & 0xff,
		 (unsigned int)(w >> 40) & 0xf, (unsigned long long)(w >> 9) & 0x7fffffff,
		 (unsigned int)w & 0x1ff);
}

static void append(char *err, size_t errlen, const char *fmt, ...)
{
	size_t n = strlen(err);
	va_list ap;

	if (n + 1 >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - n, fmt, ap);
	va_end(ap);
}

/*
 * Compare PAGE with what it must hold (KIND of page PG, generation GEN).
 * Returns the number of differing words and appends a description.
 */
static unsigned int expect_page(const void *page, const char *name, unsigned int kind,
				unsigned int slot, unsigned int pg, uint64_t gen,
				char *err, size_t errlen)
{
	const volatile uint64_t *w = page;
	unsigned int bad = 0, first = 0;
	uint64_t got = 0;
	char want[96], found[96];

	for (unsigned int i = 0; i < WORDS; i++) {
		if (w[i] != GEN_WORD(kind, slot, pg, gen, i)) {
			if (!bad++) {
				first = i;
				got = w[i];
			}
		}
	}
	if (bad) {
		decode(GEN_WORD(kind, slot, pg, gen, first), want, sizeof(want));
		decode(got, found, sizeof(found));
		append(err, errlen, "; %s: %u of %u words wrong, first +%#x: expected %s, "
		       "found %s", name, bad, WORDS, first * 8, want, found);
	}
	return bad;
}

int gen_slot_init(struct gen_slot *s, unsigned int slot, int npages, void *ctl,
		  uint64_t ioas_iova)
{
	int ret;

	memset(s, 0, sizeof(*s));
	if (npages < 2 || npages > GEN_POOL_MAX || slot > 255)
		return -EINVAL;
	s->slot = slot;
	s->ctl = ctl;
	s->ioas_iova = ioas_iova;
	s->cur = -1;
	for (int i = 0; i < npages; i++) {
		ret = pinned_alloc(&s->pg[i], GEN_PAGE);
		if (ret) {
			gen_slot_free(s);
			return ret;
		}
		s->npages = i + 1;
		fill(s->pg[i].va, GEN_K_SENTINEL, slot, i, 0);
	}
	return 0;
}

void gen_slot_free(struct gen_slot *s)
{
	for (int i = 0; i < s->npages; i++)
		pinned_free(&s->pg[i]);
	s->npages = 0;
}

int gen_unmap(int iommufd, uint32_t ioas, struct gen_slot *s, char *err, size_t errlen)
{
	int ret;

	if (s->cur < 0)
		return 0;
	ret = iommufd_ioas_unmap(iommufd, ioas, s->ioas_iova, GEN_PAGE, NULL);
	if (ret) {
		snprintf(err, errlen, "IOMMU_IOAS_UNMAP slot %u IOVA %#llx: %s", s->slot,
			 (unsigned long long)s->ioas_iova, strerror(-ret));
		return ret;
	}
	/* Not current any more: it must keep its sentinel from now on. */
	fill(s->pg[s->cur].va, GEN_K_SENTINEL, s->slot, s->cur, s->gen);
	s->cur = -1;
	return 0;
}

int gen_remap(int iommufd, uint32_t ioas, struct gen_slot *s, int next, char *err,
	      size_t errlen)
{
	uint64_t iova = s->ioas_iova;
	int ret, prev = s->cur;

	if (next < 0)
		next = ((prev < 0 ? 0 : prev) + 1) % s->npages;
	if (next == prev || next >= s->npages) {
		snprintf(err, errlen, "slot %u: page %d cannot follow page %d", s->slot,
			 next, prev);
		return -EINVAL;
	}
	ret = gen_unmap(iommufd, ioas, s, err, errlen);
	if (ret)
		return ret;
	s->gen++;
	for (int i = 0; i < s->npages; i++)
		fill(s->pg[i].va, i == next ? GEN_K_MARKER : GEN_K_SENTINEL, s->slot, i,
		     s->gen);
	ret = iommufd_ioas_map(iommufd, ioas, s->pg[next].va, GEN_PAGE, &iova, true,
			       IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE);
	if (ret) {
		snprintf(err, errlen, "IOMMU_IOAS_MAP slot %u page %d at IOVA %#llx: %s",
			 s->slot, next, (unsigned long long)s->ioas_iova, strerror(-ret));
		return ret;
	}
	s->cur = next;
	s->gen_of[next] = s->gen;
	s->remaps++;
	return 0;
}

/* Every pool page but the current one holds its sentinel of this generation. */
static unsigned int others_intact(struct gen_slot *s, char *err, size_t errlen)
{
	unsigned int bad = 0;
	char name[96];

	for (int i = 0; i < s->npages; i++) {
		if (i == s->cur)
			continue;
		snprintf(name, sizeof(name), "pool page %d (not mapped; last current in "
			 "generation %llu)", i, (unsigned long long)s->gen_of[i]);
		bad += expect_page(s->pg[i].va, name, GEN_K_SENTINEL, s->slot, i, s->gen,
				   err, errlen);
	}
	return bad;
}

static int dma_err(int ret, const char *who, const char *what, uint64_t iova, char *err,
		   size_t errlen)
{
	snprintf(err, errlen, "%s: DMA %s IOVA %#llx did not complete: %s", who, what,
		 (unsigned long long)iova, strerror(-ret));
	return ret;
}

/*
 * The last step of both checks: the current page (if any) gets its marker,
 * E writes its buffer to DEV_IOVA (WHAT names the DMA in an error), then the
 * current page must hold CUR_KIND (CUR_NAME in ERR) and every other pool page
 * its sentinel.  BAD: words the check already found wrong, described in ERR
 * after what the check is.  Counts the check; 0, -EIO or the edu's error.
 */
static int write_and_expect(struct edu *e, const char *who, struct gen_slot *s,
			    uint64_t dev_iova, const char *what, unsigned int cur_kind,
			    const char *cur_name, unsigned int bad, char *err, size_t errlen)
{
	int ret, p = s->cur;

	if (p >= 0)
		fill(s->pg[p].va, GEN_K_MARKER, s->slot, p, s->gen);
	ret = edu_dma(e, dev_iova, GEN_PAGE, 0, true);
	if (ret)
		return dma_err(ret, who, what, dev_iova, err, errlen);
	if (p >= 0)
		bad += expect_page(s->pg[p].va, cur_name, cur_kind, s->slot, p, s->gen, err,
				   errlen);
	bad += others_intact(s, err, errlen);
	s->checks++;
	if (bad)
		return -EIO;
	err[0] = 0;
	return 0;
}

int gen_check(struct edu *e, const char *who, struct gen_slot *s, uint64_t dev_iova,
	      uint64_t ctl_iova, char *err, size_t errlen)
{
	unsigned int bad;
	int ret, p = s->cur;
	char name[96];

	err[0] = 0;
	if (p < 0) {
		snprintf(err, errlen, "slot %u: nothing mapped", s->slot);
		return -EINVAL;
	}
	/* 1 + 2: a read through the IOVA, seen through the control page. */
	fill(s->pg[p].va, GEN_K_PATTERN, s->slot, p, s->gen);
	ret = edu_dma(e, dev_iova, GEN_PAGE, 0, false);
	if (ret)
		return dma_err(ret, who, "from", dev_iova, err, errlen);
	fill(s->ctl, GEN_K_CTL, s->slot, 0, s->gen);
	ret = edu_dma(e, ctl_iova, GEN_PAGE, 0, true);
	if (ret)
		return dma_err(ret, who, "to control", ctl_iova, err, errlen);
	snprintf(err, errlen, "%s: slot %u generation %llu (pool page %d at IOVA %#llx)",
		 who, s->slot, (unsigned long long)s->gen, p, (unsigned long long)dev_iova);
	bad = expect_page(s->ctl, "read of the IOVA (written back to the control page)",
			  GEN_K_PATTERN, s->slot, p, s->gen, err, errlen);
	/* 3: a write through the IOVA. */
	snprintf(name, sizeof(name), "write to the IOVA: current pool page %d", p);
	return write_and_expect(e, who, s, dev_iova, "to", GEN_K_PATTERN, name, bad, err,
				errlen);
}

int gen_check_dropped(struct edu *e, const char *who, struct gen_slot *s,
		      uint64_t dev_iova, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: slot %u generation %llu: write to blocked IOVA %#llx "
		 "reached memory", who, s->slot, (unsigned long long)s->gen,
		 (unsigned long long)dev_iova);
	return write_and_expect(e, who, s, dev_iova, "to blocked", GEN_K_MARKER,
				"current pool page", 0, err, errlen);
}
