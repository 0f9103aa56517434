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

#endif
