// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the encoding of SMMUv3 commands (cmd.c).
 *
 * Each expected encoding is a literal pair of 64-bit words derived by hand
 * from the command layouts of IHI 0070 chapter 4; the comment of each case
 * gives the fields and their positions.  Fields not listed are zero.
 *
 * A value that does not fit its field is refused with -EINVAL, never
 * truncated: the "_too_wide" cases give each field its largest value (which
 * is encoded) and the next one (which is refused).  An address field holds
 * bits [hi:lo] of the address: bits outside it are refused too.  So are the
 * range combinations IHI 0070 4.4.1.1 reserves: with TG = 0 (no range) NUM,
 * SCALE and TTL are RES0; with TG != 0, NUM = SCALE = TTL = 0 is reserved
 * (CERROR_ILL).
 */
#include <kunit/test.h>
#include <linux/kernel.h>

#include <smmuv3/smmuv3.h>

struct cmd_case {
	const char *name;
	struct smmuv3_cmd cmd;
	int ret;
	u64 w0;
	u64 w1;
};

static const struct cmd_case cmd_cases[] = {
	{
		/* op 0x03 [7:0], SID 0x12345678 [63:32]; Leaf [64] */
		.name = "cfgi_ste",
		.cmd = { .op = SMMUV3_OP_CFGI_STE,
			 .cfgi = { .sid = 0x12345678, .leaf = true } },
		.w0 = 0x1234567800000003ull,
		.w1 = 0x0000000000000001ull,
	}, {
		/* SID 0xffffffff fills [63:32]; Leaf 0 */
		.name = "cfgi_ste_sid_max",
		.cmd = { .op = SMMUV3_OP_CFGI_STE,
			 .cfgi = { .sid = 0xffffffff } },
		.w0 = 0xffffffff00000003ull,
		.w1 = 0x0000000000000000ull,
	}, {
		/* op 0x04; Range [68:64] = 31: all stream IDs */
		.name = "cfgi_all",
		.cmd = { .op = SMMUV3_OP_CFGI_ALL },
		.w0 = 0x0000000000000004ull,
		.w1 = 0x000000000000001full,
	}, {
		/* op 0x05, SSID 0xabcde [31:12], SID 0x42 [63:32]; Leaf */
		.name = "cfgi_cd",
		.cmd = { .op = SMMUV3_OP_CFGI_CD,
			 .cfgi = { .sid = 0x42, .ssid = 0xabcde,
				   .leaf = true } },
		.w0 = 0x00000042abcde005ull,
		.w1 = 0x0000000000000001ull,
	}, {
		/* SSID [31:12] is 20 bits: 0xfffff is the largest */
		.name = "cfgi_cd_ssid_max",
		.cmd = { .op = SMMUV3_OP_CFGI_CD,
			 .cfgi = { .sid = 7, .ssid = 0xfffff } },
		.w0 = 0x00000007fffff005ull,
		.w1 = 0x0000000000000000ull,
	}, {
		/* SSID 0x100000 needs 21 bits */
		.name = "cfgi_cd_ssid_too_wide",
		.cmd = { .op = SMMUV3_OP_CFGI_CD,
			 .cfgi = { .sid = 7, .ssid = 0x100000 } },
		.ret = -EINVAL,
	}, {
		/* op 0x06, SID 0xbeef [63:32]; no SSID, no Leaf */
		.name = "cfgi_cd_all",
		.cmd = { .op = SMMUV3_OP_CFGI_CD_ALL,
			 .cfgi = { .sid = 0xbeef, .ssid = 0x55,
				   .leaf = true } },
		.w0 = 0x0000beef00000006ull,
		.w1 = 0x0000000000000000ull,
	}, {
		/* op 0x01, SID 0x00010203 [63:32] */
		.name = "prefetch_cfg",
		.cmd = { .op = SMMUV3_OP_PREFETCH_CFG,
			 .cfgi = { .sid = 0x00010203 } },
		.w0 = 0x0001020300000001ull,
		.w1 = 0x0000000000000000ull,
	}, {
		/* op 0x10, VMID 0x1234 [47:32]; the ASID is not encoded */
		.name = "tlbi_nh_all",
		.cmd = { .op = SMMUV3_OP_TLBI_NH_ALL,
			 .tlbi = { .vmid = 0x1234, .asid = 0x5555,
				   .addr = 0x1000 } },
		.w0 = 0x0000123400000010ull,
		.w1 = 0x0000000000000000ull,
	}, {
		/* op 0x11, VMID 0x0102 [47:32], ASID 0xabcd [63:48] */
		.name = "tlbi_nh_asid",
		.cmd = { .op = SMMUV3_OP_TLBI_NH_ASID,
			 .tlbi = { .asid = 0xabcd, .vmid = 0x0102 } },
		.w0 = 0xabcd010200000011ull,
		.w1 = 0x0000000000000000ull,
	}, {
		/*
		 * op 0x12, NUM 3 [16:12] = 0x3000, SCALE 2 [24:20] =
		 * 0x200000, VMID 0x5a [47:32], ASID 0xa5 [63:48];
		 * Leaf [0], TTL 3 [9:8] = 0x300, TG 1 [11:10] = 0x400,
		 * address [63:12] 0x7fff12345000
		 */
		.name = "tlbi_nh_va",
		.cmd = { .op = SMMUV3_OP_TLBI_NH_VA,
			 .tlbi = { .asid = 0xa5, .vmid = 0x5a,
				   .addr = 0x00007fff12345000ull,
				   .num = 3, .scale = 2, .tg = 1, .ttl = 3,
				   .leaf = true } },
		.w0 = 0x00a5005a00203012ull,
		.w1 = 0x00007fff12345701ull,
	}, {
		/*
		 * Every field at its largest: NUM 31 [16:12] = 0x1f000,
		 * SCALE 31 [24:20] = 0x1f00000 (5 bits without IDR5.DS),
		 * VMID and ASID 0xffff; TTL 3 [9:8], TG 3 [11:10], Leaf,
		 * address [63:12] all ones; nothing spills over.
		 */
		.name = "tlbi_nh_va_max",
		.cmd = { .op = SMMUV3_OP_TLBI_NH_VA,
			 .tlbi = { .asid = 0xffff, .vmid = 0xffff,
				   .addr = 0xfffffffffffff000ull, .num = 31,
				   .scale = 31, .tg = 3, .ttl = 3,
				   .leaf = true } },
		.w0 = 0xffffffff01f1f012ull,
		.w1 = 0xffffffffffffff01ull,
	}, {
		/* NUM [16:12] is 5 bits: 32 does not fit */
		.name = "tlbi_nh_va_num_too_wide",
		.cmd = { .op = SMMUV3_OP_TLBI_NH_VA,
			 .tlbi = { .addr = 0x1000, .num = 32, .tg = 1 } },
		.ret = -EINVAL,
	}, {
		/* SCALE [24:20] is 5 bits (bit 25 is RES0 without DS) */
		.name = "tlbi_nh_va_scale_too_wide",
		.cmd = { .op = SMMUV3_OP_TLBI_NH_VA,
			 .tlbi = { .addr = 0x1000, .scale = 32, .tg = 1 } },
		.ret = -EINVAL,
	}, {
		/* TG [75:74] (word 1 [11:10]) is 2 bits */
		.name = "tlbi_nh_va_tg_too_wide",
		.cmd = { .op = SMMUV3_OP_TLBI_NH_VA,
			 .tlbi = { .addr = 0x1000, .num = 1, .tg = 4 } },
		.ret = -EINVAL,
	}, {
		/* TTL [73:72] (word 1 [9:8]) is 2 bits */
		.name = "tlbi_nh_va_ttl_too_wide",
		.cmd = { .op = SMMUV3_OP_TLBI_NH_VA,
			 .tlbi = { .addr = 0x1000, .tg = 1, .ttl = 4 } },
		.ret = -EINVAL,
	}, {
		/* Address bits [11:0] are not in the command */
		.name = "tlbi_nh_va_addr_unaligned",
		.cmd = { .op = SMMUV3_OP_TLBI_NH_VA,
			 .tlbi = { .asid = 1, .addr = 0x1800 } },
		.ret = -EINVAL,
	}, {
		/*
		 * TG 0: no range, address 0x1000 [63:12], ASID 1 [63:48],
		 * Leaf: a command by address alone
		 */
		.name = "tlbi_nh_va_no_range",
		.cmd = { .op = SMMUV3_OP_TLBI_NH_VA,
			 .tlbi = { .asid = 1, .addr = 0x1000, .leaf = true } },
		.w0 = 0x0001000000000012ull,
		.w1 = 0x0000000000001001ull,
	}, {
		/* TG 0 with NUM 1: NUM is RES0 without a range */
		.name = "tlbi_nh_va_num_without_tg",
		.cmd = { .op = SMMUV3_OP_TLBI_NH_VA,
			 .tlbi = { .addr = 0x1000, .num = 1 } },
		.ret = -EINVAL,
	}, {
		/* TG 0 with SCALE 1: SCALE is RES0 without a range */
		.name = "tlbi_nh_va_scale_without_tg",
		.cmd = { .op = SMMUV3_OP_TLBI_NH_VA,
			 .tlbi = { .addr = 0x1000, .scale = 1 } },
		.ret = -EINVAL,
	}, {
		/* TG 0 with TTL 3: TTL is RES0 without TG */
		.name = "tlbi_nh_va_ttl_without_tg",
		.cmd = { .op = SMMUV3_OP_TLBI_NH_VA,
			 .tlbi = { .addr = 0x1000, .ttl = 3 } },
		.ret = -EINVAL,
	}, {
		/* TG 1, NUM 0, SCALE 0, TTL 0: reserved (CERROR_ILL) */
		.name = "tlbi_nh_va_range_reserved",
		.cmd = { .op = SMMUV3_OP_TLBI_NH_VA,
			 .tlbi = { .addr = 0x1000, .tg = 1 } },
		.ret = -EINVAL,
	}, {
		/*
		 * The same with TTL 3: a range of one 4K page at level 3,
		 * what an unmap of one page sends.  op 0x12, ASID 9 [63:48];
		 * Leaf 1, TTL 3 = 0x300, TG 1 = 0x400, address 0x100000
		 */
		.name = "tlbi_nh_va_one_page_ttl",
		.cmd = { .op = SMMUV3_OP_TLBI_NH_VA,
			 .tlbi = { .asid = 9, .addr = 0x100000, .tg = 1,
				   .ttl = 3, .leaf = true } },
		.w0 = 0x0009000000000012ull,
		.w1 = 0x0000000000100701ull,
	}, {
		/*
		 * op 0x13, VMID 7 [47:32], no ASID; TTL 2 = 0x200,
		 * TG 2 (16K) = 0x800, address 0x4000004000
		 */
		.name = "tlbi_nh_vaa",
		.cmd = { .op = SMMUV3_OP_TLBI_NH_VAA,
			 .tlbi = { .asid = 0x1234, .vmid = 7,
				   .addr = 0x0000004000004000ull,
				   .tg = 2, .ttl = 2 } },
		.w0 = 0x0000000700000013ull,
		.w1 = 0x0000004000004a00ull,
	}, {
		/* op 0x20 alone */
		.name = "tlbi_el2_all",
		.cmd = { .op = SMMUV3_OP_TLBI_EL2_ALL,
			 .tlbi = { .asid = 0x1111, .vmid = 0x2222 } },
		.w0 = 0x0000000000000020ull,
		.w1 = 0x0000000000000000ull,
	}, {
		/* op 0x21, ASID 0x8001 [63:48], no VMID */
		.name = "tlbi_el2_asid",
		.cmd = { .op = SMMUV3_OP_TLBI_EL2_ASID,
			 .tlbi = { .asid = 0x8001, .vmid = 0x77 } },
		.w0 = 0x8001000000000021ull,
		.w1 = 0x0000000000000000ull,
	}, {
		/*
		 * op 0x22, NUM 1 = 0x1000, ASID 3 [63:48], no VMID;
		 * Leaf, TTL 1 = 0x100, TG 3 (64K) = 0xc00,
		 * address [63:12] 0xffff800000abc000
		 */
		.name = "tlbi_el2_va",
		.cmd = { .op = SMMUV3_OP_TLBI_EL2_VA,
			 .tlbi = { .asid = 3, .vmid = 0x99,
				   .addr = 0xffff800000abc000ull,
				   .num = 1, .tg = 3, .ttl = 1,
				   .leaf = true } },
		.w0 = 0x0003000000001022ull,
		.w1 = 0xffff800000abcd01ull,
	}, {
		/* op 0x28, VMID 0xfffe [47:32], no ASID */
		.name = "tlbi_s12_vmall",
		.cmd = { .op = SMMUV3_OP_TLBI_S12_VMALL,
			 .tlbi = { .vmid = 0xfffe, .asid = 1 } },
		.w0 = 0x0000fffe00000028ull,
		.w1 = 0x0000000000000000ull,
	}, {
		/*
		 * op 0x2a, NUM 0x1f, SCALE 0x1f, VMID 0x10, no ASID;
		 * Leaf, TTL 3, TG 1, IPA [51:12] 0x1234567000
		 */
		.name = "tlbi_s2_ipa",
		.cmd = { .op = SMMUV3_OP_TLBI_S2_IPA,
			 .tlbi = { .asid = 0xabcd, .vmid = 0x10,
				   .addr = 0x0000001234567000ull,
				   .num = 0x1f, .scale = 0x1f, .tg = 1,
				   .ttl = 3, .leaf = true } },
		.w0 = 0x0000001001f1f02aull,
		.w1 = 0x0000001234567701ull,
	}, {
		/* IPA [51:12]: 0x000ffffffffff000 is the largest */
		.name = "tlbi_s2_ipa_max",
		.cmd = { .op = SMMUV3_OP_TLBI_S2_IPA,
			 .tlbi = { .vmid = 1,
				   .addr = 0x000ffffffffff000ull } },
		.w0 = 0x000000010000002aull,
		.w1 = 0x000ffffffffff000ull,
	}, {
		/* IPA bit 52 is outside [51:12] */
		.name = "tlbi_s2_ipa_too_wide",
		.cmd = { .op = SMMUV3_OP_TLBI_S2_IPA,
			 .tlbi = { .vmid = 1,
				   .addr = 0x0010000000000000ull } },
		.ret = -EINVAL,
	}, {
		/* op 0x30 alone */
		.name = "tlbi_nsnh_all",
		.cmd = { .op = SMMUV3_OP_TLBI_NSNH_ALL,
			 .tlbi = { .asid = 1, .vmid = 2 } },
		.w0 = 0x0000000000000030ull,
		.w1 = 0x0000000000000000ull,
	}, {
		/*
		 * op 0x40, SSV [11], SSID 3 [31:12], SID 0x100 [63:32];
		 * Size 4 [5:0], address [63:12] 0x12340000
		 */
		.name = "atc_inv",
		.cmd = { .op = SMMUV3_OP_ATC_INV,
			 .atc = { .sid = 0x100, .ssid = 3, .ssv = true,
				  .addr = 0x12340000ull, .size = 4 } },
		.w0 = 0x0000010000003840ull,
		.w1 = 0x0000000012340004ull,
	}, {
		/*
		 * Global is bit 9 of word 0 (IHI 0070 4.5.1, CMD_ATC_INV);
		 * SSV [11], SSID 0x2a [31:12], SID 0x100: 0xaa40 low;
		 * Size 52 (everything) = 0x34
		 */
		.name = "atc_inv_global",
		.cmd = { .op = SMMUV3_OP_ATC_INV,
			 .atc = { .sid = 0x100, .ssid = 0x2a, .ssv = true,
				  .global = true, .size = 52 } },
		.w0 = 0x000001000002aa40ull,
		.w1 = 0x0000000000000034ull,
	}, {
		/*
		 * Largest values: SID 0xffffffff [63:32], SSID 0xfffff
		 * [31:12]; Size 0x3f [5:0], address [63:12] all ones
		 */
		.name = "atc_inv_max",
		.cmd = { .op = SMMUV3_OP_ATC_INV,
			 .atc = { .sid = 0xffffffff, .ssid = 0xfffff,
				  .addr = 0xfffffffffffff000ull,
				  .size = 0x3f } },
		.w0 = 0xfffffffffffff040ull,
		.w1 = 0xfffffffffffff03full,
	}, {
		/* SSID 0x100000 needs 21 bits */
		.name = "atc_inv_ssid_too_wide",
		.cmd = { .op = SMMUV3_OP_ATC_INV,
			 .atc = { .sid = 1, .ssid = 0x100000 } },
		.ret = -EINVAL,
	}, {
		/* Size [5:0] is 6 bits: 0x40 does not fit */
		.name = "atc_inv_size_too_wide",
		.cmd = { .op = SMMUV3_OP_ATC_INV,
			 .atc = { .sid = 1, .size = 0x40 } },
		.ret = -EINVAL,
	}, {
		/*
		 * op 0x41, SSV, SSID 0x12345 [31:12], SID 0x203;
		 * PRGIndex 0x1ff [8:0], Resp 2 (success) [13:12] = 0x2000
		 */
		.name = "pri_resp",
		.cmd = { .op = SMMUV3_OP_PRI_RESP,
			 .pri = { .sid = 0x203, .ssid = 0x12345, .ssv = true,
				  .grpid = 0x1ff, .resp = 2 } },
		.w0 = 0x0000020312345841ull,
		.w1 = 0x00000000000021ffull,
	}, {
		/* PRGIndex [8:0] is 9 bits: 0x200 does not fit */
		.name = "pri_resp_prgidx_too_wide",
		.cmd = { .op = SMMUV3_OP_PRI_RESP,
			 .pri = { .sid = 0x203, .grpid = 0x200, .resp = 1 } },
		.ret = -EINVAL,
	}, {
		/* Resp [13:12] is 2 bits: 4 does not fit */
		.name = "pri_resp_resp_too_wide",
		.cmd = { .op = SMMUV3_OP_PRI_RESP,
			 .pri = { .sid = 0x203, .resp = 4 } },
		.ret = -EINVAL,
	}, {
		/* op 0x44, Resp 1 [13:12], SID 0xcafe; STAG 0xbeef [15:0] */
		.name = "resume",
		.cmd = { .op = SMMUV3_OP_RESUME,
			 .resume = { .sid = 0xcafe, .stag = 0xbeef,
				     .resp = 1 } },
		.w0 = 0x0000cafe00001044ull,
		.w1 = 0x000000000000beefull,
	}, {
		/*
		 * op 0x46, CS 1 (IRQ) [13:12] = 0x1000, MSH 3 [23:22] =
		 * 0xc00000, MSIAttr 0xf [27:24], MSIData [63:32];
		 * MSI address [51:2] 0x8012345674
		 */
		.name = "sync_msi",
		.cmd = { .op = SMMUV3_OP_SYNC,
			 .sync = { .cs = SMMUV3_SYNC_CS_IRQ, .msh = 3,
				   .msiattr = 0xf, .msidata = 0xdeadbeef,
				   .msiaddr = 0x0000008012345674ull } },
		.w0 = 0xdeadbeef0fc01046ull,
		.w1 = 0x0000008012345674ull,
	}, {
		/* CS 2 (SEV) = 0x2000 */
		.name = "sync_sev",
		.cmd = { .op = SMMUV3_OP_SYNC,
			 .sync = { .cs = SMMUV3_SYNC_CS_SEV } },
		.w0 = 0x0000000000002046ull,
		.w1 = 0x0000000000000000ull,
	}, {
		/*
		 * Largest values: CS 3 [13:12], MSH 3 [23:22], MSIAttr 0xf
		 * [27:24], MSIData [63:32]; MSI address [51:2] all ones
		 */
		.name = "sync_max",
		.cmd = { .op = SMMUV3_OP_SYNC,
			 .sync = { .cs = 3, .msh = 3, .msiattr = 0xf,
				   .msidata = 0xffffffff,
				   .msiaddr = 0x000ffffffffffffcull } },
		.w0 = 0xffffffff0fc03046ull,
		.w1 = 0x000ffffffffffffcull,
	}, {
		/* CS [13:12] is 2 bits */
		.name = "sync_cs_too_wide",
		.cmd = { .op = SMMUV3_OP_SYNC, .sync = { .cs = 4 } },
		.ret = -EINVAL,
	}, {
		/* MSH [23:22] is 2 bits */
		.name = "sync_msh_too_wide",
		.cmd = { .op = SMMUV3_OP_SYNC, .sync = { .msh = 4 } },
		.ret = -EINVAL,
	}, {
		/* MSIAttr [27:24] is 4 bits */
		.name = "sync_msiattr_too_wide",
		.cmd = { .op = SMMUV3_OP_SYNC, .sync = { .msiattr = 0x10 } },
		.ret = -EINVAL,
	}, {
		/* MSI address bit 52 is outside [51:2] */
		.name = "sync_msiaddr_too_wide",
		.cmd = { .op = SMMUV3_OP_SYNC,
			 .sync = { .msiaddr = 0x0010000000000000ull } },
		.ret = -EINVAL,
	}, {
		/* MSI address bits [1:0] are not in the command */
		.name = "sync_msiaddr_unaligned",
		.cmd = { .op = SMMUV3_OP_SYNC,
			 .sync = { .msiaddr = 0x0000008012345676ull } },
		.ret = -EINVAL,
	},
	/* Not commands: opcode 0, a reserved opcode, and 0xff */
	{ .name = "op_0x00", .cmd = { .op = 0x00 }, .ret = -EINVAL },
	{ .name = "op_0x02", .cmd = { .op = 0x02 }, .ret = -EINVAL },
	{ .name = "op_0xff", .cmd = { .op = 0xff }, .ret = -EINVAL },
};

KUNIT_ARRAY_PARAM_DESC(cmd_encode, cmd_cases, name);

static void cmd_encode(struct kunit *test)
{
	const struct cmd_case *c = test->param_value;
	u64 out[SMMUV3_CMD_QWORDS] = { 0x5a5a5a5a5a5a5a5aull,
				       0xa5a5a5a5a5a5a5a5ull };
	int ret;

	ret = smmuv3_cmd_encode(&c->cmd, out);
	KUNIT_ASSERT_EQ(test, ret, c->ret);
	if (ret) {
		/* Nothing half-encoded is left for a caller to queue. */
		KUNIT_EXPECT_EQ(test, out[0], 0);
		KUNIT_EXPECT_EQ(test, out[1], 0);
		return;
	}
	KUNIT_EXPECT_EQ_MSG(test, out[0], c->w0,
			    "word 0 %#018llx, expected %#018llx",
			    out[0], c->w0);
	KUNIT_EXPECT_EQ_MSG(test, out[1], c->w1,
			    "word 1 %#018llx, expected %#018llx",
			    out[1], c->w1);
}

/* The encoding depends on nothing but the command: the same twice. */
static void cmd_encode_repeatable(struct kunit *test)
{
	u64 a[SMMUV3_CMD_QWORDS], b[SMMUV3_CMD_QWORDS] = { ~0ull, ~0ull };
	int i;

	for (i = 0; i < ARRAY_SIZE(cmd_cases); i++) {
		if (cmd_cases[i].ret)
			continue;
		memset(a, 0, sizeof(a));
		KUNIT_ASSERT_EQ(test,
				smmuv3_cmd_encode(&cmd_cases[i].cmd, a), 0);
		KUNIT_ASSERT_EQ(test,
				smmuv3_cmd_encode(&cmd_cases[i].cmd, b), 0);
		KUNIT_EXPECT_MEMEQ_MSG(test, a, b, sizeof(a), "%s",
				       cmd_cases[i].name);
	}
}

static struct kunit_case smmuv3_cmd_cases[] = {
	KUNIT_CASE_PARAM(cmd_encode, cmd_encode_gen_params),
	KUNIT_CASE(cmd_encode_repeatable),
	{}
};

static struct kunit_suite smmuv3_cmd_suite = {
	.name = "smmuv3-cmd",
	.test_cases = smmuv3_cmd_cases,
};

kunit_test_suites(&smmuv3_cmd_suite);
