// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for events (faults.c): which events of a nested device go to
 * the guest's vEVENTQ.  Global errors (cmdq.c) are tested in cmdq_test.c;
 * the vIOMMUs' own suite, smmuv3-viommu, is in iommufd_test.c.
 *
 * Event records are composed from the layout of IHI 0070 section 7.3,
 * written out here independently of regs.h:
 *
 *  word 0: EventType [7:0], SSV [11], SubstreamID [31:12], StreamID [63:32]
 *  word 1: PnU [33], InD [34], RnW [35], S2 [39] (the fault is in stage 2),
 *	CLASS [41:40] (0b00 CD fetch, 0b01 translation table walk, 0b10 the
 *	input address)
 *
 * with the event numbers of section 7.3: 0x01 F_UUT, 0x02 C_BAD_STREAMID,
 * 0x03 F_STE_FETCH, 0x04 C_BAD_STE, 0x05 F_BAD_ATS_TREQ, 0x06
 * F_STREAM_DISABLED, 0x07 F_TRANSL_FORBIDDEN, 0x08 C_BAD_SUBSTREAMID, 0x09
 * F_CD_FETCH, 0x0a C_BAD_CD, 0x0b F_WALK_EABT, 0x10 F_TRANSLATION, 0x11
 * F_ADDR_SIZE, 0x12 F_ACCESS, 0x13 F_PERMISSION, 0x20 F_TLB_CONFLICT, 0x21
 * F_CFG_CONFLICT, 0x24 E_PAGE_REQUEST, 0x25 F_VMS_FETCH.
 *
 * The guest owns the stage-1 configuration of a nested device (the uapi's
 * struct iommu_vevent_arm_smmuv3 lists what a vEVENTQ reports); a stage-2
 * fault and external aborts are the host's.
 *
 * Commands are checked with fake_smmu.h's literal encodings.
 */
#include <kunit/test.h>
#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/io-pgtable.h>
#include <linux/kref.h>
#include <linux/sizes.h>
#include <linux/string.h>

#include <smmuv3/invs.h>
#include <smmuv3/smmuv3.h>

#include "fake_smmu.h"

#define EVT0(id, sid)		((u64)(id) | (u64)(sid) << 32)
#define EVT0_SSV(ssid)		(BIT_ULL(11) | (u64)(ssid) << 12)
#define EVT1_S2			BIT_ULL(39)
#define EVT1_RNW		BIT_ULL(35)
#define EVT1_CLASS_CD		(0ull << 40)
#define EVT1_CLASS_TT		BIT_ULL(40)
#define EVT1_CLASS_IN		(2ull << 40)

#define GUEST	true
#define HOST	false

struct route_case {
	const char *what;
	u64 evt[4];
	bool guest;
};

static const struct route_case route_cases[] = {
	/* Stage-1 faults: in the guest's tables */
	{ "F_TRANSLATION stage 1", { EVT0(0x10, 0x200), EVT1_CLASS_IN,
	  0x5234614000ull, 0 }, GUEST },
	{ "F_TRANSLATION stage 1 with SSID, read", { EVT0(0x10, 0x200) |
	  EVT0_SSV(3), EVT1_RNW | EVT1_CLASS_IN, 0x1000, 0 }, GUEST },
	{ "F_TRANSLATION stage 1 walk", { EVT0(0x10, 0x200), EVT1_CLASS_TT,
	  0x1000, 0 }, GUEST },
	{ "F_ADDR_SIZE stage 1", { EVT0(0x11, 0x200), EVT1_CLASS_IN, 0, 0 },
	  GUEST },
	{ "F_ACCESS stage 1", { EVT0(0x12, 0x200), EVT1_CLASS_IN, 0, 0 },
	  GUEST },
	{ "F_PERMISSION stage 1", { EVT0(0x13, 0x200), EVT1_CLASS_IN, 0, 0 },
	  GUEST },
	/* Stage-2 faults: in the host's table, whatever stage-1 access */
	{ "F_TRANSLATION stage 2, input", { EVT0(0x10, 0x200), EVT1_S2 |
	  EVT1_CLASS_IN, 0x5234614000ull, 0x40400000 }, HOST },
	{ "F_TRANSLATION stage 2, stage-1 walk", { EVT0(0x10, 0x200),
	  EVT1_S2 | EVT1_CLASS_TT, 0x1000, 0x40400000 }, HOST },
	{ "F_TRANSLATION stage 2, CD fetch", { EVT0(0x10, 0x200), EVT1_S2 |
	  EVT1_CLASS_CD, 0, 0x40400000 }, HOST },
	{ "F_ADDR_SIZE stage 2", { EVT0(0x11, 0x200), EVT1_S2 |
	  EVT1_CLASS_IN, 0, 0 }, HOST },
	{ "F_ACCESS stage 2", { EVT0(0x12, 0x200), EVT1_S2 | EVT1_CLASS_IN,
	  0, 0 }, HOST },
	{ "F_PERMISSION stage 2, write", { EVT0(0x13, 0x200), EVT1_S2 |
	  EVT1_CLASS_IN, 0, 0 }, HOST },
	/* The guest's stage-1 configuration */
	{ "F_STREAM_DISABLED", { EVT0(0x06, 0x200), 0, 0, 0 }, GUEST },
	{ "C_BAD_SUBSTREAMID", { EVT0(0x08, 0x200) | EVT0_SSV(9), 0, 0, 0 },
	  GUEST },
	{ "C_BAD_CD", { EVT0(0x0a, 0x200) | EVT0_SSV(1), 0, 0, 0 }, GUEST },
	/*
	 * An STE the SMMU finds invalid: the physical STE carries the guest's
	 * stage-1 fields (S1ContextPtr, S1CDMax, S1DSS...), so the guest may
	 * have caused it; the uapi lists C_BAD_STE for a vEVENTQ.
	 */
	{ "C_BAD_STE", { EVT0(0x04, 0x200), 0, 0, 0 }, GUEST },
	/* Physical addresses, what is not exposed */
	{ "F_CD_FETCH", { EVT0(0x09, 0x200), 0, 0, 0x80001000 }, HOST },
	{ "F_WALK_EABT", { EVT0(0x0b, 0x200), EVT1_CLASS_TT, 0x1000,
	  0x80002000 }, HOST },
	{ "F_UUT", { EVT0(0x01, 0x200), 0, 0, 0 }, HOST },
	{ "C_BAD_STREAMID", { EVT0(0x02, 0x200), 0, 0, 0 }, HOST },
	{ "F_STE_FETCH", { EVT0(0x03, 0x200), 0, 0, 0 }, HOST },
	{ "F_BAD_ATS_TREQ", { EVT0(0x05, 0x200), 0, 0, 0 }, HOST },
	{ "F_TRANSL_FORBIDDEN", { EVT0(0x07, 0x200), 0, 0, 0 }, HOST },
	{ "F_TLB_CONFLICT", { EVT0(0x20, 0x200), 0, 0, 0 }, HOST },
	{ "F_CFG_CONFLICT", { EVT0(0x21, 0x200), 0, 0, 0 }, HOST },
	{ "E_PAGE_REQUEST", { EVT0(0x24, 0x200), 0, 0, 0 }, HOST },
	{ "F_VMS_FETCH", { EVT0(0x25, 0x200), 0, 0, 0 }, HOST },
	{ "unknown 0xff", { EVT0(0xff, 0x200), 0, 0, 0 }, HOST },
};

static void route_case_desc(const struct route_case *c, char *desc)
{
	strscpy(desc, c->what, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(route, route_cases, route_case_desc);

static void event_route(struct kunit *test)
{
	const struct route_case *c = test->param_value;

	KUNIT_EXPECT_EQ_MSG(test, smmuv3_event_for_guest(c->evt), c->guest,
			    "%016llx %016llx: expected the %s's", c->evt[0],
			    c->evt[1], c->guest ? "guest" : "host");
}

static struct kunit_case smmuv3_events_cases[] = {
	KUNIT_CASE_PARAM(event_route, route_gen_params),
	{}
};

static struct kunit_suite smmuv3_events_suite = {
	.name = "smmuv3-events",
	.test_cases = smmuv3_events_cases,
};

kunit_test_suites(&smmuv3_events_suite);
