// SPDX-License-Identifier: GPL-2.0-only
/*
 * Encoding of SMMUv3 commands (spec chapter 4) into their two 64-bit words.
 *
 * A pure function of struct smmuv3_cmd; the command queue (cmdq.c) copies
 * the words into the queue in little-endian order.
 */
#include <linux/bitfield.h>
#include <linux/errno.h>
#include <kunit/visibility.h>

#include <smmuv3/smmuv3.h>

/* FIELD_PREP() for run-time values: truncate to the field instead of checking. */
static inline u64 smmuv3_field(u64 mask, u64 val)
{
	return (val << __bf_shf(mask)) & mask;
}

#define SMMUV3_FIELD(mask, val)	smmuv3_field(mask, val)

static void smmuv3_encode_tlbi_range(const struct smmuv3_cmd *cmd, u64 *out)
{
	out[0] |= SMMUV3_FIELD(SMMUV3_CMD0_NUM, cmd->tlbi.num) |
		  SMMUV3_FIELD(SMMUV3_CMD0_SCALE, cmd->tlbi.scale);
	out[1] |= SMMUV3_FIELD(SMMUV3_CMD1_LEAF, cmd->tlbi.leaf) |
		  SMMUV3_FIELD(SMMUV3_CMD1_TTL, cmd->tlbi.ttl) |
		  SMMUV3_FIELD(SMMUV3_CMD1_TG, cmd->tlbi.tg);
}

/**
 * smmuv3_cmd_encode() - encode a command
 * @cmd: the command
 * @out: its two words
 *
 * Return: 0, or -EINVAL for an opcode this driver does not issue.
 */
int smmuv3_cmd_encode(const struct smmuv3_cmd *cmd, u64 out[SMMUV3_CMD_QWORDS])
{
	out[0] = FIELD_PREP(SMMUV3_CMD0_OP, cmd->op);
	out[1] = 0;

	switch (cmd->op) {
	case SMMUV3_OP_PREFETCH_CFG:
	case SMMUV3_OP_CFGI_CD_ALL:
		out[0] |= SMMUV3_FIELD(SMMUV3_CMD0_SID, cmd->cfgi.sid);
		break;
	case SMMUV3_OP_CFGI_STE:
		out[0] |= SMMUV3_FIELD(SMMUV3_CMD0_SID, cmd->cfgi.sid);
		out[1] |= SMMUV3_FIELD(SMMUV3_CMD1_LEAF, cmd->cfgi.leaf);
		break;
	case SMMUV3_OP_CFGI_ALL:
		/* CFGI_STE_RANGE over all 2^32 stream IDs */
		out[1] |= FIELD_PREP(SMMUV3_CMD1_CFGI_RANGE, 31);
		break;
	case SMMUV3_OP_CFGI_CD:
		out[0] |= SMMUV3_FIELD(SMMUV3_CMD0_SID, cmd->cfgi.sid) |
			  SMMUV3_FIELD(SMMUV3_CMD0_SSID, cmd->cfgi.ssid);
		out[1] |= SMMUV3_FIELD(SMMUV3_CMD1_LEAF, cmd->cfgi.leaf);
		break;
	case SMMUV3_OP_TLBI_NH_ALL:
	case SMMUV3_OP_TLBI_S12_VMALL:
		out[0] |= SMMUV3_FIELD(SMMUV3_CMD0_VMID, cmd->tlbi.vmid);
		break;
	case SMMUV3_OP_TLBI_NH_ASID:
		out[0] |= SMMUV3_FIELD(SMMUV3_CMD0_VMID, cmd->tlbi.vmid) |
			  SMMUV3_FIELD(SMMUV3_CMD0_ASID, cmd->tlbi.asid);
		break;
	case SMMUV3_OP_TLBI_EL2_ASID:
		out[0] |= SMMUV3_FIELD(SMMUV3_CMD0_ASID, cmd->tlbi.asid);
		break;
	case SMMUV3_OP_TLBI_NH_VA:
		out[0] |= SMMUV3_FIELD(SMMUV3_CMD0_VMID, cmd->tlbi.vmid);
		fallthrough;
	case SMMUV3_OP_TLBI_EL2_VA:
		out[0] |= SMMUV3_FIELD(SMMUV3_CMD0_ASID, cmd->tlbi.asid);
		smmuv3_encode_tlbi_range(cmd, out);
		out[1] |= cmd->tlbi.addr & SMMUV3_CMD1_VA;
		break;
	case SMMUV3_OP_TLBI_NH_VAA:
		out[0] |= SMMUV3_FIELD(SMMUV3_CMD0_VMID, cmd->tlbi.vmid);
		smmuv3_encode_tlbi_range(cmd, out);
		out[1] |= cmd->tlbi.addr & SMMUV3_CMD1_VA;
		break;
	case SMMUV3_OP_TLBI_S2_IPA:
		out[0] |= SMMUV3_FIELD(SMMUV3_CMD0_VMID, cmd->tlbi.vmid);
		smmuv3_encode_tlbi_range(cmd, out);
		out[1] |= cmd->tlbi.addr & SMMUV3_CMD1_IPA;
		break;
	case SMMUV3_OP_TLBI_EL2_ALL:
	case SMMUV3_OP_TLBI_NSNH_ALL:
		break;
	case SMMUV3_OP_ATC_INV:
		out[0] |= SMMUV3_FIELD(SMMUV3_CMD0_SID, cmd->atc.sid) |
			  SMMUV3_FIELD(SMMUV3_CMD0_SSID, cmd->atc.ssid) |
			  SMMUV3_FIELD(SMMUV3_CMD0_SSV, cmd->atc.ssv) |
			  SMMUV3_FIELD(SMMUV3_CMD0_ATC_GLOBAL, cmd->atc.global);
		out[1] |= SMMUV3_FIELD(SMMUV3_CMD1_ATC_SIZE, cmd->atc.size) |
			  (cmd->atc.addr & SMMUV3_CMD1_ATC_ADDR);
		break;
	case SMMUV3_OP_PRI_RESP:
		out[0] |= SMMUV3_FIELD(SMMUV3_CMD0_SID, cmd->pri.sid) |
			  SMMUV3_FIELD(SMMUV3_CMD0_SSID, cmd->pri.ssid) |
			  SMMUV3_FIELD(SMMUV3_CMD0_SSV, cmd->pri.ssv);
		out[1] |= SMMUV3_FIELD(SMMUV3_CMD1_PRI_PRGIDX, cmd->pri.grpid) |
			  SMMUV3_FIELD(SMMUV3_CMD1_PRI_RESP, cmd->pri.resp);
		break;
	case SMMUV3_OP_RESUME:
		out[0] |= SMMUV3_FIELD(SMMUV3_CMD0_SID, cmd->resume.sid) |
			  SMMUV3_FIELD(SMMUV3_CMD0_RESUME_RESP, cmd->resume.resp);
		out[1] |= SMMUV3_FIELD(SMMUV3_CMD1_RESUME_STAG, cmd->resume.stag);
		break;
	case SMMUV3_OP_SYNC:
		out[0] |= SMMUV3_FIELD(SMMUV3_CMD0_SYNC_CS, cmd->sync.cs) |
			  SMMUV3_FIELD(SMMUV3_CMD0_SYNC_MSH, cmd->sync.msh) |
			  SMMUV3_FIELD(SMMUV3_CMD0_SYNC_MSIATTR, cmd->sync.msiattr) |
			  SMMUV3_FIELD(SMMUV3_CMD0_SYNC_MSIDATA, cmd->sync.msidata);
		out[1] |= cmd->sync.msiaddr & SMMUV3_CMD1_SYNC_MSIADDR;
		break;
	default:
		out[0] = 0;
		return -EINVAL;
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(smmuv3_cmd_encode);
