// SPDX-License-Identifier: GPL-2.0-only
/*
 * Stand-in for a selftest the kernel's uAPI cannot express: the selftests
 * Makefile builds this, instead of the test, when the guest kernel's
 * linux/iommufd.h lacks what the test needs (Linux 6.12 has no vIOMMU,
 * vdevice, nested-domain or vEVENTQ interface).  It reports one skipped
 * test with the reason, so the run says why the test did not run.
 *
 * Built with -DSKIP_TEST="name" -DSKIP_REASON="why".
 */
#include "kselftest.h"

int main(void)
{
	ksft_print_header();
	ksft_set_plan(1);
	ksft_test_result_skip("%s: %s\n", SKIP_TEST, SKIP_REASON);
	ksft_finished();
	return 0;
}
