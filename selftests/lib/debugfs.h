/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What our driver (smmuv3.ko) shows in debugfs and module parameters; none
 * of it exists with the upstream driver, so callers use it only when
 * SMMUV3_DRIVER=ours (env_driver_ours()).
 *
 *   /sys/kernel/debug/smmuv3/<instance>/stats   "key value" lines:
 *       cmd <OPCODE> N, cmd_syncs N, cmd_timeouts N, event <NAME> N,
 *       asids_used N, vmids_used N, events_lost N, gerror_bitB N
 *       (counters that are zero are mostly left out)
 *   /sys/kernel/debug/smmuv3/domains            every paging domain:
 *       "domain <id> stage <1|2>[ nest-parent] pgsize <hex> entries <n>"
 *       then one line per invalidation array entry:
 *       "  <instance> type <t> id <id> ssid <s> users <n>"
 *       (instance "-" for trash: an entry whose users dropped to 0)
 *   /sys/kernel/debug/smmuv3/build              features that depend on the
 *       kernel the module was built for, one line each:
 *       "<name> yes" or "<name> no (<why>)", e.g.
 *       "viommu no (kernel interface missing: ...)" or
 *       "viommu no (kernel built without CONFIG_IOMMUFD)"
 *   /sys/module/smmuv3/parameters/max_asids, max_vmids (0 = hardware limit)
 *
 * <instance> is the name the instance has in /sys/class/iommu.
 */
#ifndef SMMUV3_SELFTEST_DEBUGFS_H
#define SMMUV3_SELFTEST_DEBUGFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "env.h"

#define SMMUV3_DEBUGFS		"/sys/kernel/debug/smmuv3"
#define SMMUV3_PARAMS		"/sys/module/smmuv3/parameters"

/* Invalidation array entry types. */
#define DBG_INV_S1_ASID		0
#define DBG_INV_S2_VMID		1
#define DBG_INV_S2_VMID_S1_CLEAR	2	/* a vIOMMU's VMID in its nesting parent */

/* Whether /sys/kernel/debug/smmuv3/domains exists. */
bool dbg_present(void);

/*
 * For a FIXTURE_SETUP (kselftest_harness.h): whether the driver under test
 * is ours (env_driver_ours()); if it is, its debugfs must be there.
 */
#define DRIVER_OURS_CHECKED() ({					\
	bool __ours = env_driver_ours();				\
									\
	if (__ours)							\
		ASSERT_TRUE(dbg_present())				\
			TH_LOG("SMMUV3_DRIVER=ours: expected "		\
			       SMMUV3_DEBUGFS "/domains, found none");	\
	__ours;								\
})

/*
 * Counter KEY ("asids_used", "cmd_syncs", "event F_TRANSLATION",
 * "cmd TLBI_NH_VA", ...) of instance INST.  A key the file does not list
 * reads as 0 (counters are printed only once nonzero).  Returns 0 or -errno
 * (-ENOENT: no stats file for INST).
 */
int dbg_stat(const char *inst, const char *key, uint64_t *val);
/* Sum of the counters whose key starts with PREFIX ("cmd TLBI_"). */
int dbg_stat_prefix(const char *inst, const char *prefix, uint64_t *val);
/*
 * Wait up to TIMEOUT_MS for counter KEY of INST to reach at least MIN
 * (events are counted by a threaded interrupt, after the DMA completed).
 * *val gets the last value read.  Returns 0, -ETIMEDOUT or -errno.
 */
int dbg_stat_wait(const char *inst, const char *key, uint64_t min, int timeout_ms,
		  uint64_t *val);

/* One counter on every instance in /sys/class/iommu. */
#define DBG_SNAP_MAX	16
struct dbg_snap {
	int n;
	char inst[DBG_SNAP_MAX][64];
	uint64_t v[DBG_SNAP_MAX];
};
/* Read KEY on every instance.  0 or -errno. */
int dbg_snap(const char *key, struct dbg_snap *s);
/* The value for INST in S, or 0 if S does not list it. */
uint64_t dbg_snap_get(const struct dbg_snap *s, const char *inst);

#define DBG_MAX_INVS	32
#define DBG_MAX_DOMAINS	128

struct dbg_inv {
	char inst[64];		/* "-" for trash */
	unsigned int type;
	unsigned int id;
	unsigned int ssid;
	int users;
};

struct dbg_domain {
	unsigned int id;
	int stage;
	bool nest_parent;
	unsigned int num;	/* entries, as the domain line says */
	int n;			/* entries listed (capped at DBG_MAX_INVS) */
	struct dbg_inv inv[DBG_MAX_INVS];
};

struct dbg_domains {
	int n;
	struct dbg_domain d[DBG_MAX_DOMAINS];
};

/*
 * Parse the domains file (OUT is large: allocate it).  0, -errno, or
 * -EPROTO for a line that does not parse (OUT has the rest).
 */
int dbg_domains_read(struct dbg_domains *out);
const struct dbg_domain *dbg_domain_find(const struct dbg_domains *dd,
					 unsigned int id);
/*
 * The domain in AFTER whose id is not in BEFORE.  Returns 0, -ENOENT (none)
 * or -E2BIG (more than one; *id gets the first).
 */
int dbg_domains_new(const struct dbg_domains *before,
		    const struct dbg_domains *after, unsigned int *id);
/*
 * Live entries (users > 0) of domain D on instance INST with type TYPE (or
 * any type if TYPE < 0).  Returns how many; *first (optional) gets the
 * first one.
 */
int dbg_domain_live(const struct dbg_domain *d, const char *inst, int type,
		    const struct dbg_inv **first);
/* Entries of domain D naming instance INST, whatever their users. */
int dbg_domain_named(const struct dbg_domain *d, const char *inst);
/* "domain 3 stage 1: smmuv3.x type 0 id 1 users 1, ..." for messages. */
const char *dbg_domain_str(const struct dbg_domain *d, char *buf, size_t len);
/*
 * Live IDs of TYPE on INST over every domain: a bitmap of IDS_MAX bits
 * (IDs >= IDS_MAX are counted in the return value but not recorded).
 * Returns the number of distinct live IDs or -errno.
 */
#define DBG_IDS_MAX 4096
int dbg_live_ids(const char *inst, unsigned int type, uint8_t *bitmap);

/*
 * Whether this build of smmuv3.ko offers FEATURE ("viommu", "nested",
 * "veventq", "hw_info", "iommufd_hwpt", "hwpt_pasid", "s2fwb_tables"):
 * 1 yes, 0 no (WHY gets the reason the build file gives), -ENOENT for an
 * older module without the build file or a feature it does not list, or
 * another -errno.
 */
int dbg_build_feature(const char *feature, char *why, size_t len);

/* Module parameter NAME of smmuv3.ko.  -ENOENT without the module. */
int smmuv3_param_read(const char *name, uint64_t *val);
int smmuv3_param_write(const char *name, uint64_t val);

#endif
