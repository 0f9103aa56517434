/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the test runner tells the selftests about the guest, through the
 * environment (set by the guest's /init):
 *   SMMUV3_TOPOLOGY          acpi2 | acpi2-mixed | dt1 | ...
 *   SMMUV3_EXPECT_INSTANCES  number of SMMU instances the topology has
 *   SMMUV3_DRIVER            ours | upstream (informational)
 */
#ifndef SMMUV3_SELFTEST_ENV_H
#define SMMUV3_SELFTEST_ENV_H

#include <stdbool.h>

/* NULL when unset. */
const char *env_topology(void);
const char *env_driver(void);
/* -1 when unset or not a number >= 0. */
int env_expect_instances(void);
/* Whether SMMUV3_TOPOLOGY starts with PREFIX (false when unset). */
bool env_topology_is(const char *prefix);
/* SMMUV3_DRIVER=ours: our debugfs files and module parameters exist. */
bool env_driver_ours(void);

/*
 * For test programs (after kselftest_harness.h): an informational TAP
 * comment line, "# ...".
 */
#define INFO(fmt, ...) ksft_print_msg(fmt "\n", ##__VA_ARGS__)

/*
 * kselftest_harness.h's SKIP() sets the test's exit code to KSFT_SKIP even
 * after a failed EXPECT_*(): a per-item loop that fails on one item and
 * skips on a later one would report a skip.  Here a failure stands: the
 * skip is only logged and STATEMENT still runs.
 */
#ifdef SKIP
#undef SKIP
#define SKIP(statement, fmt, ...) do {						\
	if (_metadata->exit_code == KSFT_FAIL) {				\
		TH_LOG("SKIP after a failure (the failure stands): " fmt,	\
		       ##__VA_ARGS__);						\
	} else {								\
		snprintf(_metadata->results->reason,				\
			 sizeof(_metadata->results->reason), fmt, ##__VA_ARGS__); \
		if (TH_LOG_ENABLED)						\
			fprintf(TH_LOG_STREAM, "#      SKIP      %s\n",		\
				_metadata->results->reason);			\
		_metadata->exit_code = KSFT_SKIP;				\
		_metadata->trigger = 0;						\
	}									\
	statement;								\
} while (0)
#endif

#endif
