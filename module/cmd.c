// SPDX-License-Identifier: GPL-2.0-only
/*
 * Encoding of SMMUv3 commands (spec chapter 4) into their two 64-bit words.
 *
 * A pure function of struct smmuv3_cmd; the command queue (cmdq.c) copies
 * the words into the queue in little-endian order.  A value that does not
 * fit its field is refused, never truncated: a truncated ID, SSID or range
 * would make the SMMU act on something else than the caller meant.
 */
#include <linux/bitfield.h>
#include <linux/errno.h>
#include <kunit/visibility.h>

#include <smmuv3/smmuv3.h>

/*
 * Add @val to the field @mask of @word, or fail with -EINVAL if it does
 * not fit.  Evaluates to 0 or -EINVAL, for use in an "err |=" chain.
 */
static int smmuv3_field(u64 *word, u64 mask, u64 val)
{
	if (val > (mask >> __bf_shf(mask)))
		return -EINVAL;
	*word |= val << __bf_shf(mask);
	return 0;
}

/*
 * An address field holds bits [hi:lo] of the address itself: bits below
 * it must be zero (they are not sent: alignment is the caller's), bits
 * above it must be zero too (the SMMU would see another address).
 */
static int smmuv3_addr(u64 *word, u64 mask, u64 addr)
{
	if (addr & ~mask)
		return -EINVAL;
	*word |= addr;
	return 0;
}

/*
 * The range fields of TLBI by address (IHI 0070 4.4.1.1): NUM, SCALE, TG
 * and TTL.  With TG == 0 there is no range and no level hint, and NUM,
 * SCALE and TTL are RES0; with TG != 0, NUM == SCALE == TTL == 0 is a
 * reserved combination that the SMMU rejects (CERROR_ILL).
 */
static int smmuv3_encode_tlbi_range(const struct smmuv3_cmd *cmd, u64 *out)
{
	const typeof(cmd->tlbi) *t = &cmd->tlbi;
	int err = 0;

	if (!t->tg && (t->num || t->scale || t->ttl))
		return -EINVAL;
	if (t->tg && !t->num && !t->scale && !t->ttl)
		return -EINVAL;
	err |= smmuv3_field(&out[0], SMMUV3_CMD0_NUM, t->num);
	err |= smmuv3_field(&out[0], SMMUV3_CMD0_SCALE, t->scale);
	err |= smmuv3_field(&out[1], SMMUV3_CMD1_LEAF, t->leaf);
	err |= smmuv3_field(&out[1], SMMUV3_CMD1_TTL, t->ttl);
	err |= smmuv3_field(&out[1], SMMUV3_CMD1_TG, t->tg);
	return err;
}

static int smmuv3_encode(const struct smmuv3_cmd *cmd, u64 *out)
{
	int err = 0;

	switch (cmd->op) {
	case SMMUV3_OP_PREFETCH_CFG:
	case SMMUV3_OP_CFGI_CD_ALL:
		return smmuv3_field(&out[0], SMMUV3_CMD0_SID, cmd->cfgi.sid);
	case SMMUV3_OP_CFGI_STE:
		err |= smmuv3_field(&out[0], SMMUV3_CMD0_SID, cmd->cfgi.sid);
		err |= smmuv3_field(&out[1], SMMUV3_CMD1_LEAF, cmd->cfgi.leaf);
		return err;
	case SMMUV3_OP_CFGI_ALL:
		/* CFGI_STE_RANGE over all 2^32 stream IDs */
		return smmuv3_field(&out[1], SMMUV3_CMD1_CFGI_RANGE, 31);
	case SMMUV3_OP_CFGI_CD:
		err |= smmuv3_field(&out[0], SMMUV3_CMD0_SID, cmd->cfgi.sid);
		err |= smmuv3_field(&out[0], SMMUV3_CMD0_SSID, cmd->cfgi.ssid);
		err |= smmuv3_field(&out[1], SMMUV3_CMD1_LEAF, cmd->cfgi.leaf);
		return err;
	case SMMUV3_OP_TLBI_NH_ALL:
	case SMMUV3_OP_TLBI_S12_VMALL:
		return smmuv3_field(&out[0], SMMUV3_CMD0_VMID, cmd->tlbi.vmid);
	case SMMUV3_OP_TLBI_NH_ASID:
		err |= smmuv3_field(&out[0], SMMUV3_CMD0_VMID, cmd->tlbi.vmid);
		err |= smmuv3_field(&out[0], SMMUV3_CMD0_ASID, cmd->tlbi.asid);
		return err;
	case SMMUV3_OP_TLBI_EL2_ASID:
		return smmuv3_field(&out[0], SMMUV3_CMD0_ASID, cmd->tlbi.asid);
	case SMMUV3_OP_TLBI_NH_VA:
		err |= smmuv3_field(&out[0], SMMUV3_CMD0_VMID, cmd->tlbi.vmid);
		fallthrough;
	case SMMUV3_OP_TLBI_EL2_VA:
		err |= smmuv3_field(&out[0], SMMUV3_CMD0_ASID, cmd->tlbi.asid);
		err |= smmuv3_encode_tlbi_range(cmd, out);
		err |= smmuv3_addr(&out[1], SMMUV3_CMD1_VA, cmd->tlbi.addr);
		return err;
	case SMMUV3_OP_TLBI_NH_VAA:
		err |= smmuv3_field(&out[0], SMMUV3_CMD0_VMID, cmd->tlbi.vmid);
		err |= smmuv3_encode_tlbi_range(cmd, out);
		err |= smmuv3_addr(&out[1], SMMUV3_CMD1_VA, cmd->tlbi.addr);
		return err;
	case SMMUV3_OP_TLBI_S2_IPA:
		err |= smmuv3_field(&out[0], SMMUV3_CMD0_VMID, cmd->tlbi.vmid);
		err |= smmuv3_encode_tlbi_range(cmd, out);
		err |= smmuv3_addr(&out[1], SMMUV3_CMD1_IPA, cmd->tlbi.addr);
		return err;
	case SMMUV3_OP_TLBI_EL2_ALL:
	case SMMUV3_OP_TLBI_NSNH_ALL:
		return 0;
	case SMMUV3_OP_ATC_INV:
		err |= smmuv3_field(&out[0], SMMUV3_CMD0_SID, cmd->atc.sid);
		err |= smmuv3_field(&out[0], SMMUV3_CMD0_SSID, cmd->atc.ssid);
		err |= smmuv3_field(&out[0], SMMUV3_CMD0_SSV, cmd->atc.ssv);
		err |= smmuv3_field(&out[0], SMMUV3_CMD0_ATC_GLOBAL,
				    cmd->atc.global);
		err |= smmuv3_field(&out[1], SMMUV3_CMD1_ATC_SIZE,
				    cmd->atc.size);
		err |= smmuv3_addr(&out[1], SMMUV3_CMD1_ATC_ADDR, cmd->atc.addr);
		return err;
	case SMMUV3_OP_PRI_RESP:
		err |= smmuv3_field(&out[0], SMMUV3_CMD0_SID, cmd->pri.sid);
		err |= smmuv3_field(&out[0], SMMUV3_CMD0_SSID, cmd->pri.ssid);
		err |= smmuv3_field(&out[0], SMMUV3_CMD0_SSV, cmd->pri.ssv);
		err |= smmuv3_field(&out[1], SMMUV3_CMD1_PRI_PRGIDX,
				    cmd->pri.grpid);
		err |= smmuv3_field(&out[1], SMMUV3_CMD1_PRI_RESP, cmd->pri.resp);
		return err;
	case SMMUV3_OP_RESUME:
		err |= smmuv3_field(&out[0], SMMUV3_CMD0_SID, cmd->resume.sid);
		err |= smmuv3_field(&out[0], SMMUV3_CMD0_RESUME_RESP,
				    cmd->resume.resp);
		err |= smmuv3_field(&out[1], SMMUV3_CMD1_RESUME_STAG,
				    cmd->resume.stag);
		return err;
	case SMMUV3_OP_STALL_TERM:
		return smmuv3_field(&out[0], SMMUV3_CMD0_SID, cmd->resume.sid);
	case SMMUV3_OP_SYNC:
		err |= smmuv3_field(&out[0], SMMUV3_CMD0_SYNC_CS, cmd->sync.cs);
		err |= smmuv3_field(&out[0], SMMUV3_CMD0_SYNC_MSH, cmd->sync.msh);
		err |= smmuv3_field(&out[0], SMMUV3_CMD0_SYNC_MSIATTR,
				    cmd->sync.msiattr);
		err |= smmuv3_field(&out[0], SMMUV3_CMD0_SYNC_MSIDATA,
				    cmd->sync.msidata);
		err |= smmuv3_addr(&out[1], SMMUV3_CMD1_SYNC_MSIADDR,
				   cmd->sync.msiaddr);
		return err;
	default:
		return -EINVAL;
	}
}

/**
 * smmuv3_cmd_encode() - encode a command
 * @cmd: the command
 * @out: its two words; both zero on failure
 *
 * Return: 0, or -EINVAL for an opcode this driver does not issue, a value
 * that does not fit its field (an address with bits outside its field
 * included), or a reserved combination of the range fields of a TLBI.
 */
int smmuv3_cmd_encode(const struct smmuv3_cmd *cmd, u64 out[SMMUV3_CMD_QWORDS])
{
	int ret;

	out[0] = FIELD_PREP(SMMUV3_CMD0_OP, cmd->op);
	out[1] = 0;
	ret = smmuv3_encode(cmd, out);
	if (ret) {
		out[0] = 0;
		out[1] = 0;
	}
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_cmd_encode);
