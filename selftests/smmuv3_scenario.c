// SPDX-License-Identifier: GPL-2.0-only
/*
 * smmuv3_scenario: the scripted scenario of the differential oracle
 * (qemu/difforacle.py).  It runs the same iommufd operations with either
 * driver while QEMU traces what the SMMU model sees (register writes and
 * decoded commands); the oracle lines up the two traces per operation.
 *
 * Two edus, A behind one instance and B behind the other.  Every
 * operation of ops[] below is bracketed by two writes to the
 * vendor-specific part of A's configuration space (no register there:
 * QEMU ignores the value but traces the write as pci_cfg_write):
 *   0xf0 <- MARK_BEGIN | index          before the operation
 *   0xf4 <- MARK_END | index << 12 | e  after it, e = its errno (0: done,
 *                                       ERR_SKIPPED: a step it needs failed)
 * A new operation is one line of ops[] (and its function): the oracle
 * reads the names from this program's output ("# op INDEX NAME").
 *
 * The test itself fails only when the set-up it needs fails (binding the
 * edus, the first paging attach): what each driver does is the oracle's
 * to judge, including operations one driver refuses (recorded errno).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/iommufd.h>

#include "kselftest_harness.h"

#include "dmacheck.h"
#include "dmatest.h"
#include "edusetup.h"
#include "env.h"
#include "mem.h"
#include "nesting.h"
#include "sysfs.h"
#include "vfio.h"

#define MARK_BEGIN_OFF	0xf0
#define MARK_END_OFF	0xf4
#define MARK_BEGIN	0x5c000000u
#define MARK_END	0x5e000000u
#define ERR_SKIPPED	0xfff

#define IOVA		0x10000000ULL	/* the DMA buffer */
#define IOVA2		0x10200000ULL	/* mapped and unmapped again */
#define BUF_LEN		4096
#define DMA_LEN		256
#define VIRT_SID_A	0x10

struct scn {
	const char *bdf[2];
	struct edu_dev dev[2];
	int iommufd;
	uint32_t ioas;
	uint8_t *buf, *buf2;
	struct prng rng;
	uint32_t paging, parent, viommu, vdev, nest_bypass, nest_abort;
	bool bound, mapped, attached, shared, viommu_ok;
	char err[256];
};

/*
 * An operation: 0 or -errno; -ERR_SKIPPED when a step it needs is missing
 * (it is then not tried).
 */
typedef int (*op_fn)(struct scn *s);

static int op_bind(struct scn *s)
{
	struct edu_dev *d[2] = { &s->dev[0], &s->dev[1] };
	int ret = edus_bind(&s->iommufd, &s->ioas, d, s->bdf, 2, s->err, sizeof(s->err));

	s->bound = !ret;
	return ret;
}

static int op_ioas_map(struct scn *s)
{
	int ret;

	if (!(s->bound))
		return -ERR_SKIPPED;
	ret = ioas_map_new_buf(s->iommufd, s->ioas, &s->buf, BUF_LEN, IOVA, 0, s->err,
			       sizeof(s->err));
	s->mapped = !ret;
	return ret;
}

static int op_attach_paging(struct scn *s)
{
	int ret;

	if (!(s->mapped))
		return -ERR_SKIPPED;
	ret = iommufd_hwpt_alloc(s->iommufd, s->dev[0].vd.devid, s->ioas, 0, &s->paging);
	if (ret)
		return ret;
	ret = dev_attach(&s->dev[0].vd, s->paging);
	s->attached = !ret;
	return ret;
}

static int op_dma(struct scn *s)
{
	if (!(s->attached))
		return -ERR_SKIPPED;
	return edu_roundtrip(&s->dev[0], s->buf, IOVA, s->buf + BUF_LEN / 2, IOVA + BUF_LEN / 2,
			     DMA_LEN, &s->rng, s->err, sizeof(s->err));
}

static int op_map2(struct scn *s)
{
	if (!(s->attached))
		return -ERR_SKIPPED;
	return ioas_map_new_buf(s->iommufd, s->ioas, &s->buf2, BUF_LEN, IOVA2, 0, s->err,
				sizeof(s->err));
}

static int op_unmap2(struct scn *s)
{
	uint64_t unmapped = 0;
	int ret;

	if (!(s->buf2))
		return -ERR_SKIPPED;
	ret = iommufd_ioas_unmap(s->iommufd, s->ioas, IOVA2, BUF_LEN, &unmapped);
	if (!ret) {
		munmap(s->buf2, BUF_LEN);
		s->buf2 = NULL;
	}
	return ret;
}

/* B (another instance) onto A's paging HWPT: one domain on two instances. */
static int op_share(struct scn *s)
{
	int ret;

	if (!(s->attached))
		return -ERR_SKIPPED;
	ret = dev_attach(&s->dev[1].vd, s->paging);
	s->shared = !ret;
	return ret;
}

static int op_share_detach(struct scn *s)
{
	if (!(s->shared))
		return -ERR_SKIPPED;
	s->shared = false;
	return dev_detach(&s->dev[1].vd);
}

static int op_alloc_parent(struct scn *s)
{
	if (!(s->mapped))
		return -ERR_SKIPPED;
	return iommufd_hwpt_alloc_nest_parent(s->iommufd, s->dev[0].vd.devid, s->ioas,
					      &s->parent);
}

static int op_replace_parent(struct scn *s)
{
	if (!(s->attached && s->parent))
		return -ERR_SKIPPED;
	return dev_attach(&s->dev[0].vd, s->parent);
}

static int op_viommu(struct scn *s)
{
	int ret;

	if (!(s->parent))
		return -ERR_SKIPPED;
	ret = iommufd_viommu_alloc_smmuv3(s->iommufd, s->dev[0].vd.devid, s->parent,
					  &s->viommu);
	s->viommu_ok = !ret;
	return ret;
}

static int op_vdevice(struct scn *s)
{
	if (!(s->viommu_ok))
		return -ERR_SKIPPED;
	return iommufd_vdevice_alloc(s->iommufd, s->viommu, s->dev[0].vd.devid, VIRT_SID_A,
				     &s->vdev);
}

static int nested(struct scn *s, bool bypass, uint32_t *id)
{
	uint64_t ste[2];
	int ret;

	if (!(s->vdev))
		return -ERR_SKIPPED;
	if (bypass)
		vste_bypass(ste);
	else
		vste_abort(ste);
	ret = iommufd_hwpt_alloc_nested(s->iommufd, s->dev[0].vd.devid, s->viommu, ste, id);
	if (ret)
		return ret;
	return dev_attach(&s->dev[0].vd, *id);
}

static int op_nested_bypass(struct scn *s)
{
	return nested(s, true, &s->nest_bypass);
}

static int op_nested_abort(struct scn *s)
{
	return nested(s, false, &s->nest_abort);
}

static int op_viommu_inv(struct scn *s)
{
	struct nest_cmd c[2];
	uint32_t done = 0;

	if (!(s->vdev))
		return -ERR_SKIPPED;
	cmd_tlbi_nh_all(&c[0]);
	cmd_cfgi_cd_all(&c[1], VIRT_SID_A);
	return iommufd_viommu_invalidate(s->iommufd, s->viommu, c, 2, &done);
}

static int op_replace_paging(struct scn *s)
{
	if (!(s->attached))
		return -ERR_SKIPPED;
	return dev_attach(&s->dev[0].vd, s->paging);
}

static int destroy(struct scn *s, uint32_t *id)
{
	int ret;

	if (!(*id))
		return -ERR_SKIPPED;
	ret = iommufd_destroy(s->iommufd, *id);
	*id = 0;
	return ret;
}

static int op_nested_destroy(struct scn *s)
{
	int r1 = destroy(s, &s->nest_bypass), r2 = destroy(s, &s->nest_abort);

	return r1 ? r1 : r2;
}

static int op_vdevice_destroy(struct scn *s)
{
	return destroy(s, &s->vdev);
}

static int op_viommu_destroy(struct scn *s)
{
	s->viommu_ok = false;
	return destroy(s, &s->viommu);
}

static int op_detach(struct scn *s)
{
	if (!(s->attached))
		return -ERR_SKIPPED;
	s->attached = false;
	return dev_detach(&s->dev[0].vd);
}

static int op_hwpt_destroy(struct scn *s)
{
	int r1 = destroy(s, &s->paging), r2 = destroy(s, &s->parent);

	return r1 ? r1 : r2;
}

/* Closing the cdevs and giving the edus back: identity default domain again. */
static int op_unbind(struct scn *s)
{
	if (!(s->bound))
		return -ERR_SKIPPED;
	vfio_dev_close_all();
	s->bound = false;
	return 0;
}

static const struct {
	const char *name;
	op_fn fn;
} ops[] = {
	{ "bind_blocked",	op_bind },		/* identity -> blocked (vfio + iommufd) */
	{ "ioas_map",		op_ioas_map },		/* no HWPT yet: nothing to invalidate */
	{ "attach_paging",	op_attach_paging },	/* stage-1 paging HWPT, A attached */
	{ "dma_paging",		op_dma },
	{ "map",		op_map2 },
	{ "unmap",		op_unmap2 },
	{ "share_instance",	op_share },		/* B on A's HWPT: across instances */
	{ "share_detach",	op_share_detach },
	{ "alloc_parent",	op_alloc_parent },	/* NEST_PARENT (stage 2) */
	{ "replace_parent",	op_replace_parent },	/* A: stage 1 -> stage 2 */
	{ "dma_parent",		op_dma },
	{ "map_s2",		op_map2 },
	{ "unmap_s2",		op_unmap2 },
	{ "viommu_create",	op_viommu },
	{ "vdevice_create",	op_vdevice },
	{ "attach_nested_bypass", op_nested_bypass },	/* vSTE Cfg=bypass */
	{ "dma_nested",		op_dma },
	{ "map_nested",		op_map2 },
	{ "unmap_nested",	op_unmap2 },
	{ "viommu_invalidate",	op_viommu_inv },	/* guest TLBI_NH_ALL, CFGI_CD_ALL */
	{ "attach_nested_abort", op_nested_abort },	/* vSTE Cfg=abort */
	{ "replace_paging",	op_replace_paging },	/* nested -> stage 1 */
	{ "dma_paging_again",	op_dma },
	{ "nested_destroy",	op_nested_destroy },
	{ "vdevice_destroy",	op_vdevice_destroy },
	{ "viommu_destroy",	op_viommu_destroy },
	{ "detach",		op_detach },		/* -> blocked */
	{ "hwpt_destroy",	op_hwpt_destroy },
	{ "unbind_identity",	op_unbind },		/* -> identity default domain */
};

static int mark(const char *bdf, unsigned int off, uint32_t val)
{
	return pci_cfg_write(bdf, off, &val, sizeof(val));
}

static void reset_buf2(struct scn *s)
{
	if (s->buf2) {
		munmap(s->buf2, BUF_LEN);
		s->buf2 = NULL;
	}
}

TEST(scenario)
{
	struct edu_pick pick[2];
	char why[256];
	struct scn *s = calloc(1, sizeof(*s));
	int ret, fails = 0;

	ASSERT_NE(NULL, s);
	s->iommufd = -1;
	ret = edus_pick_two(pick, why, sizeof(why));
	ASSERT_LE(0, ret) TH_LOG("%s", why);
	if (!ret)
		SKIP(return, "%s", why);
	s->bdf[0] = pick[0].bdf;
	s->bdf[1] = pick[1].bdf;
	prng_seed(&s->rng, 1);
	/* vIOMMUs on QEMU's SMMU (no S2FWB) need CANWBS from the IORT: both drivers. */
	INFO("A %s (%s), B %s (%s), CANWBS %s", pick[0].bdf, pick[0].inst, pick[1].bdf,
	     pick[1].inst, getenv("SMMUV3_CANWBS") ? getenv("SMMUV3_CANWBS") : "unset");
	for (unsigned int i = 0; i < ARRAY_SIZE(ops); i++) {
		unsigned int e;

		s->err[0] = 0;
		ret = mark(s->bdf[0], MARK_BEGIN_OFF, MARK_BEGIN | i);
		ASSERT_EQ(0, ret) TH_LOG("marker write to %s config: %s", s->bdf[0],
					 errname(ret));
		ret = ops[i].fn(s);
		e = ret == -ERR_SKIPPED ? ERR_SKIPPED : (unsigned int)(-ret) & 0xfff;
		ASSERT_EQ(0, mark(s->bdf[0], MARK_END_OFF, MARK_END | i << 12 | e));
		INFO("op %u %s %s%s%s", i, ops[i].name,
		     e == ERR_SKIPPED ? "skipped" : e ? "failed" : "done",
		     e && e != ERR_SKIPPED ? ": " : "",
		     e && e != ERR_SKIPPED ? (s->err[0] ? s->err : errname(ret)) : "");
		/* The set-up every later step needs. */
		if (i <= 2 && ret)
			fails++;
	}
	vfio_dev_close_all();
	if (s->iommufd >= 0)
		close(s->iommufd);
	reset_buf2(s);
	free(s);
	ASSERT_EQ(0, fails)
		TH_LOG("the scenario's set-up (bind, map, first attach) failed: no comparison");
}

TEST_HARNESS_MAIN
