#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Check the layouts of include/smmuv3/regs.h against two definitions this
project did not write.

    qemu/oracle.py [--kernel-header PATH | --kdir DIR] [--qemu-header PATH] [-q]

Every stream table entry (STE), context descriptor (CD), level-1 descriptor,
command and event record field of regs.h, the register offsets and register
fields, the entry sizes and the encodings (opcodes, event IDs, STE.Config
values, ...) are compared with:

  kernel  the kernel's drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h
          (GENMASK/BIT masks of 64-bit words, STRTAB_STE_<n>_*, CMDQ_*_<n>_*...)
  QEMU    QEMU's hw/arm/smmuv3-internal.h (REG32/FIELD registers; STE_*, CD_*,
          CMD_*, EVT_SET_* accessors that extract32/extract64/deposit32 bits of
          32-bit words x->word[N])

Both are read when the check runs; nothing of them is copied here.  The
table below (NAME TABLE) only says which of their names is which of ours:
every value compared comes from the headers themselves.  An entry field is
compared as the set of absolute bits it occupies in the entry (64-bit word N
bit b is bit 64*N+b; QEMU's 32-bit word N bit b is bit 32*N+b).

One line per field:
  agree        ours equals both references
  refs differ  the references disagree with each other; ours equals the one
               AUTHORITY says the architecture sides with (not a failure)
  only kernel  only the kernel defines it, ours equals it      (same for "only QEMU")
  spec only    neither reference defines it; ours equals the bit positions or
               value that SPEC transcribes from Arm IHI 0070 (the third
               reference, used only where the other two say nothing or only one
               of them speaks: a field one reference defines is checked against
               SPEC too when SPEC has it)
  neither      neither reference nor SPEC defines it (listed, not checked)
  not in regs.h  a table row whose macro regs.h does not have (listed)
  DISAGREE     ours differs from every reference that defines it, or the
               references differ and ours equals the one AUTHORITY says the
               architecture does not side with: a failure
  UNDECIDED    the references differ and AUTHORITY does not say which one the
               architecture sides with: a failure, until it says
  UNMAPPED     a field of regs.h the table lacks: a failure, so that the table
               stays complete
  MISSING      the table names something a reference lacks (another version
               renamed it?): a failure, the field is not checked as claimed
Exit status 1 if anything failed, 2 if a header is missing.

Where the headers are: --kernel-header/--qemu-header, else --kdir (a kernel
build tree with a source/ or source-tree/ link), else $SMMUV3_CACHE (default
/var/cache/smmuv3): the tree qemu/kernel.sh unpacked and what qemu/refs.sh
fetched (`make oracle` runs qemu/refs.sh first).  Python 3.9+, standard
library only; also used as a module by qemu/run.py (static/oracle).
"""

import argparse
import ast
import glob
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
REGS_H = os.path.join(REPO, "include", "smmuv3", "regs.h")
KERNEL_FILE = "drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h"
QEMU_FILE = "hw/arm/smmuv3-internal.h"

# Result groups, in report order: static/oracle/<group> in qemu/run.py.
GROUPS = ("ste", "cd", "l1", "cmd", "evt", "regs")


# --------------------------------------------------------------------------
# NAME TABLE: which names of the references are which of ours.
#
# Kinds of rows:
#   FIELD   a field of an in-memory entry; ours as SMMUV3_<ENTRY>#_<NAME>, the
#           '#' standing for the 64-bit word (its digit is in our macro name)
#   REG     a field of a register (bits of the register)
#   OFFSET  a register's offset
#   VALUE   an encoding (a field value, opcode, event ID)
#   SIZE    an entry's size in 64-bit words
#
# Reference name syntax:
#   kernel  NAME                  a macro (mask or value) or enum constant
#           PARENT:CHILD          CHILD's mask counts from PARENT's lowest bit
#                                 (STRTAB_STE_2_VTCR_* are VTCR-relative)
#   QEMU    NAME                  an accessor macro or inline function, a mask
#                                 macro, an enum constant or a REG32 register
#           NAME(param=value)     an accessor taking a selector (CD_TSZ(x, sel))
#           NAME[i] / NAME[h:l]   bits i (or h..l) of that accessor's field
#           REG.FIELD             a FIELD(REG, FIELD, shift, length)
#           struct NAME           a typedef'd struct of uint32_t word[N]
#   None    that reference does not define it

FIELD, REG, OFFSET, VALUE, SIZE = "field", "reg", "offset", "value", "size"


class Row:
    """One line of the name table."""

    def __init__(self, group, kind, ours, kernel, qemu, label=None):
        self.group, self.kind = group, kind
        self.ours, self.kernel, self.qemu = ours, kernel, qemu
        self.label = label or ours


def _rows(group, kind, entries):
    return [Row(group, kind, *e) for e in entries]


NAME_TABLE = (
    # ---- stream table entries -------------------------------------------
    _rows("ste", SIZE, [
        ("SMMUV3_STE_QWORDS", "STRTAB_STE_DWORDS", "struct STE"),
    ]) + _rows("ste", FIELD, [
        ("SMMUV3_STE#_V", "STRTAB_STE_0_V", "STE_VALID"),
        ("SMMUV3_STE#_CFG", "STRTAB_STE_0_CFG", "STE_CONFIG"),
        ("SMMUV3_STE#_S1FMT", "STRTAB_STE_0_S1FMT", "STE_S1FMT"),
        ("SMMUV3_STE#_S1CTXPTR", "STRTAB_STE_0_S1CTXPTR_MASK", "STE_CTXPTR"),
        ("SMMUV3_STE#_S1CDMAX", "STRTAB_STE_0_S1CDMAX", "STE_S1CDMAX"),
        ("SMMUV3_STE#_S1DSS", "STRTAB_STE_1_S1DSS", None),
        ("SMMUV3_STE#_S1CIR", "STRTAB_STE_1_S1CIR", None),
        ("SMMUV3_STE#_S1COR", "STRTAB_STE_1_S1COR", None),
        ("SMMUV3_STE#_S1CSH", "STRTAB_STE_1_S1CSH", None),
        ("SMMUV3_STE#_MEV", "STRTAB_STE_1_MEV", None),
        ("SMMUV3_STE#_S1STALLD", "STRTAB_STE_1_S1STALLD", "STE_S1STALLD"),
        ("SMMUV3_STE#_EATS", "STRTAB_STE_1_EATS", "STE_EATS"),
        ("SMMUV3_STE#_STRW", "STRTAB_STE_1_STRW", "STE_STRW"),
        ("SMMUV3_STE#_SHCFG", "STRTAB_STE_1_SHCFG", None),
        ("SMMUV3_STE#_S2VMID", "STRTAB_STE_2_S2VMID", "STE_S2VMID"),
        ("SMMUV3_STE#_VTCR", "STRTAB_STE_2_VTCR", None),
        ("SMMUV3_STE#_S2T0SZ", "STRTAB_STE_2_VTCR:STRTAB_STE_2_VTCR_S2T0SZ", "STE_S2T0SZ"),
        ("SMMUV3_STE#_S2SL0", "STRTAB_STE_2_VTCR:STRTAB_STE_2_VTCR_S2SL0", "STE_S2SL0"),
        ("SMMUV3_STE#_S2IR0", "STRTAB_STE_2_VTCR:STRTAB_STE_2_VTCR_S2IR0", None),
        ("SMMUV3_STE#_S2OR0", "STRTAB_STE_2_VTCR:STRTAB_STE_2_VTCR_S2OR0", None),
        ("SMMUV3_STE#_S2SH0", "STRTAB_STE_2_VTCR:STRTAB_STE_2_VTCR_S2SH0", None),
        ("SMMUV3_STE#_S2TG", "STRTAB_STE_2_VTCR:STRTAB_STE_2_VTCR_S2TG", "STE_S2TG"),
        ("SMMUV3_STE#_S2PS", "STRTAB_STE_2_VTCR:STRTAB_STE_2_VTCR_S2PS", "STE_S2PS"),
        ("SMMUV3_STE#_S2AA64", "STRTAB_STE_2_S2AA64", "STE_S2AA64"),
        ("SMMUV3_STE#_S2ENDI", "STRTAB_STE_2_S2ENDI", "STE_S2ENDI"),
        ("SMMUV3_STE#_S2AFFD", None, "STE_S2AFFD"),
        ("SMMUV3_STE#_S2PTW", "STRTAB_STE_2_S2PTW", None),
        ("SMMUV3_STE#_S2FWB", "STRTAB_STE_1_S2FWB", None),
        ("SMMUV3_STE#_S2S", "STRTAB_STE_2_S2S", "STE_S2S"),
        ("SMMUV3_STE#_S2R", "STRTAB_STE_2_S2R", "STE_S2R"),
        ("SMMUV3_STE#_S2TTB", "STRTAB_STE_3_S2TTB_MASK", "STE_S2TTB"),
    ]) + _rows("ste", VALUE, [
        ("SMMUV3_STE_CFG_ABORT", "STRTAB_STE_0_CFG_ABORT", None),
        ("SMMUV3_STE_CFG_BYPASS", "STRTAB_STE_0_CFG_BYPASS", None),
        ("SMMUV3_STE_CFG_S1", "STRTAB_STE_0_CFG_S1_TRANS", None),
        ("SMMUV3_STE_CFG_S2", "STRTAB_STE_0_CFG_S2_TRANS", None),
        ("SMMUV3_STE_CFG_NESTED", "STRTAB_STE_0_CFG_NESTED", None),
        ("SMMUV3_S1FMT_LINEAR", "STRTAB_STE_0_S1FMT_LINEAR", None),
        ("SMMUV3_S1FMT_64K_L2", "STRTAB_STE_0_S1FMT_64K_L2", None),
        ("SMMUV3_S1DSS_TERMINATE", "STRTAB_STE_1_S1DSS_TERMINATE", None),
        ("SMMUV3_S1DSS_BYPASS", "STRTAB_STE_1_S1DSS_BYPASS", None),
        ("SMMUV3_S1DSS_SSID0", "STRTAB_STE_1_S1DSS_SSID0", None),
        ("SMMUV3_EATS_ABT", "STRTAB_STE_1_EATS_ABT", None),
        ("SMMUV3_EATS_TRANS", "STRTAB_STE_1_EATS_TRANS", None),
        ("SMMUV3_EATS_S1CHK", "STRTAB_STE_1_EATS_S1CHK", None),
        ("SMMUV3_STRW_NSEL1", "STRTAB_STE_1_STRW_NSEL1", None),
        ("SMMUV3_STRW_EL2", "STRTAB_STE_1_STRW_EL2", None),
        ("SMMUV3_SHCFG_INCOMING", "STRTAB_STE_1_SHCFG_INCOMING", None),
        # The STE/CD cacheability encoding (CR1's differs: see the regs group).
        ("SMMUV3_CACHE_NC", "STRTAB_STE_1_S1C_CACHE_NC", None),
        ("SMMUV3_CACHE_WBRA", "STRTAB_STE_1_S1C_CACHE_WBRA", None),
        ("SMMUV3_CACHE_WT", "STRTAB_STE_1_S1C_CACHE_WT", None),
        ("SMMUV3_CACHE_WB", "STRTAB_STE_1_S1C_CACHE_WB", None),
    ]) +
    # ---- context descriptors ----------------------------------------------
    _rows("cd", SIZE, [
        ("SMMUV3_CD_QWORDS", "CTXDESC_CD_DWORDS", "struct CD"),
    ]) + _rows("cd", FIELD, [
        ("SMMUV3_CD#_T0SZ", "CTXDESC_CD_0_TCR_T0SZ", "CD_TSZ(sel=0)"),
        ("SMMUV3_CD#_TG0", "CTXDESC_CD_0_TCR_TG0", "CD_TG(sel=0)"),
        ("SMMUV3_CD#_IRGN0", "CTXDESC_CD_0_TCR_IRGN0", None),
        ("SMMUV3_CD#_ORGN0", "CTXDESC_CD_0_TCR_ORGN0", None),
        ("SMMUV3_CD#_SH0", "CTXDESC_CD_0_TCR_SH0", None),
        ("SMMUV3_CD#_EPD0", "CTXDESC_CD_0_TCR_EPD0", "CD_EPD(sel=0)"),
        ("SMMUV3_CD#_ENDI", "CTXDESC_CD_0_ENDI", "CD_ENDI"),
        ("SMMUV3_CD#_T1SZ", None, "CD_TSZ(sel=1)"),
        ("SMMUV3_CD#_TG1", None, "CD_TG(sel=1)"),
        ("SMMUV3_CD#_IRGN1", None, None),
        ("SMMUV3_CD#_ORGN1", None, None),
        ("SMMUV3_CD#_SH1", None, None),
        ("SMMUV3_CD#_EPD1", "CTXDESC_CD_0_TCR_EPD1", "CD_EPD(sel=1)"),
        ("SMMUV3_CD#_V", "CTXDESC_CD_0_V", "CD_VALID"),
        ("SMMUV3_CD#_IPS", "CTXDESC_CD_0_TCR_IPS", "CD_IPS"),
        ("SMMUV3_CD#_AFFD", None, "CD_AFFD"),
        ("SMMUV3_CD#_WXN", None, None),
        ("SMMUV3_CD#_UWXN", None, None),
        # QEMU's CD_TBI is TBI1:TBI0; TBI0 is its low bit.
        ("SMMUV3_CD#_TBI0", "CTXDESC_CD_0_TCR_TBI0", "CD_TBI[0]"),
        ("SMMUV3_CD#_TBI1", None, "CD_TBI[1]"),
        ("SMMUV3_CD#_PAN", None, None),
        ("SMMUV3_CD#_AA64", "CTXDESC_CD_0_AA64", "CD_AARCH64"),
        ("SMMUV3_CD#_HD", "CTXDESC_CD_0_TCR_HD", "CD_HD"),
        ("SMMUV3_CD#_HA", "CTXDESC_CD_0_TCR_HA", "CD_HA"),
        ("SMMUV3_CD#_S", "CTXDESC_CD_0_S", "CD_S"),
        ("SMMUV3_CD#_R", "CTXDESC_CD_0_R", "CD_R"),
        ("SMMUV3_CD#_A", "CTXDESC_CD_0_A", "CD_A"),
        ("SMMUV3_CD#_ASET", "CTXDESC_CD_0_ASET", None),
        ("SMMUV3_CD#_ASID", "CTXDESC_CD_0_ASID", "CD_ASID"),
        ("SMMUV3_CD#_TTB0", "CTXDESC_CD_1_TTB0_MASK", "CD_TTB(sel=0)"),
        # The kernel never uses TTB1 and does not define it; the architecture
        # lays it out in word 2 as TTB0 is in word 1, so TTB0's mask stands in.
        ("SMMUV3_CD#_TTB1", "CTXDESC_CD_1_TTB0_MASK@2", "CD_TTB(sel=1)"),
        ("SMMUV3_CD#_MAIR", None, None),
        ("SMMUV3_CD#_AMAIR", None, None),
    ]) +
    # ---- level-1 descriptors (stream table, CD table) -------------------------
    _rows("l1", FIELD, [
        ("SMMUV3_L1STD_SPAN", "STRTAB_L1_DESC_SPAN", "L1STD_SPAN"),
        ("SMMUV3_L1STD_L2PTR", "STRTAB_L1_DESC_L2PTR_MASK", "l1std_l2ptr"),
        ("SMMUV3_L1CD_V", "CTXDESC_L1_DESC_V", None),
        ("SMMUV3_L1CD_L2PTR", "CTXDESC_L1_DESC_L2PTR_MASK", None),
    ]) +
    # ---- commands ---------------------------------------------------------------
    _rows("cmd", SIZE, [
        ("SMMUV3_CMD_QWORDS", "CMDQ_ENT_DWORDS", "struct Cmd"),
    ]) + _rows("cmd", FIELD, [
        ("SMMUV3_CMD#_OP", "CMDQ_0_OP", "CMD_TYPE"),
        ("SMMUV3_CMD#_ATC_GLOBAL", "CMDQ_ATC_0_GLOBAL", None),
        ("SMMUV3_CMD#_SSV", "CMDQ_0_SSV", "CMD_SSV"),
        ("SMMUV3_CMD#_SSID", "CMDQ_CFGI_0_SSID", "CMD_SSID"),
        ("SMMUV3_CMD#_SID", "CMDQ_CFGI_0_SID", "CMD_SID"),
        ("SMMUV3_CMD#_NUM", "CMDQ_TLBI_0_NUM", "CMD_NUM"),
        ("SMMUV3_CMD#_SCALE", "CMDQ_TLBI_0_SCALE", "CMD_SCALE"),
        ("SMMUV3_CMD#_VMID", "CMDQ_TLBI_0_VMID", "CMD_VMID"),
        ("SMMUV3_CMD#_ASID", "CMDQ_TLBI_0_ASID", "CMD_ASID"),
        ("SMMUV3_CMD#_SYNC_CS", "CMDQ_SYNC_0_CS", "CMD_SYNC_CS"),
        ("SMMUV3_CMD#_SYNC_MSH", "CMDQ_SYNC_0_MSH", None),
        ("SMMUV3_CMD#_SYNC_MSIATTR", "CMDQ_SYNC_0_MSIATTR", None),
        ("SMMUV3_CMD#_SYNC_MSIDATA", "CMDQ_SYNC_0_MSIDATA", None),
        ("SMMUV3_CMD#_RESUME_RESP", "CMDQ_RESUME_0_RESP", None),
        ("SMMUV3_CMD#_LEAF", "CMDQ_TLBI_1_LEAF", "CMD_LEAF"),
        ("SMMUV3_CMD#_CFGI_RANGE", "CMDQ_CFGI_1_RANGE", "CMD_STE_RANGE"),
        ("SMMUV3_CMD#_TTL", "CMDQ_TLBI_1_TTL", "CMD_TTL"),
        ("SMMUV3_CMD#_TG", "CMDQ_TLBI_1_TG", "CMD_TG"),
        # QEMU reads the VA, the IPA and the ATC address with one CMD_ADDR.
        ("SMMUV3_CMD#_VA", "CMDQ_TLBI_1_VA_MASK", "CMD_ADDR"),
        ("SMMUV3_CMD#_IPA", "CMDQ_TLBI_1_IPA_MASK", "CMD_ADDR"),
        ("SMMUV3_CMD#_ATC_SIZE", "CMDQ_ATC_1_SIZE", None),
        ("SMMUV3_CMD#_ATC_ADDR", "CMDQ_ATC_1_ADDR_MASK", "CMD_ADDR"),
        ("SMMUV3_CMD#_PRI_PRGIDX", "CMDQ_PRI_1_GRPID", None),
        ("SMMUV3_CMD#_PRI_RESP", "CMDQ_PRI_1_RESP", "CMD_RESP"),
        ("SMMUV3_CMD#_RESUME_STAG", "CMDQ_RESUME_1_STAG", "CMD_RESUME_STAG"),
        ("SMMUV3_CMD#_SYNC_MSIADDR", "CMDQ_SYNC_1_MSIADDR_MASK", None),
    ]) + _rows("cmd", VALUE, [
        ("SMMUV3_OP_PREFETCH_CFG", "CMDQ_OP_PREFETCH_CFG", "SMMU_CMD_PREFETCH_CONFIG"),
        ("SMMUV3_OP_CFGI_STE", "CMDQ_OP_CFGI_STE", "SMMU_CMD_CFGI_STE"),
        # QEMU's enum gives its CFGI_ALL 7, although it is opcode 0x04
        # (CFGI_STE_RANGE with Range 31): shown as "refs differ".
        ("SMMUV3_OP_CFGI_ALL", "CMDQ_OP_CFGI_ALL", "SMMU_CMD_CFGI_ALL"),
        ("SMMUV3_OP_CFGI_CD", "CMDQ_OP_CFGI_CD", "SMMU_CMD_CFGI_CD"),
        ("SMMUV3_OP_CFGI_CD_ALL", "CMDQ_OP_CFGI_CD_ALL", "SMMU_CMD_CFGI_CD_ALL"),
        ("SMMUV3_OP_TLBI_NH_ALL", "CMDQ_OP_TLBI_NH_ALL", "SMMU_CMD_TLBI_NH_ALL"),
        ("SMMUV3_OP_TLBI_NH_ASID", "CMDQ_OP_TLBI_NH_ASID", "SMMU_CMD_TLBI_NH_ASID"),
        ("SMMUV3_OP_TLBI_NH_VA", "CMDQ_OP_TLBI_NH_VA", "SMMU_CMD_TLBI_NH_VA"),
        ("SMMUV3_OP_TLBI_NH_VAA", "CMDQ_OP_TLBI_NH_VAA", "SMMU_CMD_TLBI_NH_VAA"),
        ("SMMUV3_OP_TLBI_EL2_ALL", "CMDQ_OP_TLBI_EL2_ALL", "SMMU_CMD_TLBI_EL2_ALL"),
        ("SMMUV3_OP_TLBI_EL2_ASID", "CMDQ_OP_TLBI_EL2_ASID", "SMMU_CMD_TLBI_EL2_ASID"),
        ("SMMUV3_OP_TLBI_EL2_VA", "CMDQ_OP_TLBI_EL2_VA", "SMMU_CMD_TLBI_EL2_VA"),
        ("SMMUV3_OP_TLBI_S12_VMALL", "CMDQ_OP_TLBI_S12_VMALL", "SMMU_CMD_TLBI_S12_VMALL"),
        ("SMMUV3_OP_TLBI_S2_IPA", "CMDQ_OP_TLBI_S2_IPA", "SMMU_CMD_TLBI_S2_IPA"),
        ("SMMUV3_OP_TLBI_NSNH_ALL", "CMDQ_OP_TLBI_NSNH_ALL", "SMMU_CMD_TLBI_NSNH_ALL"),
        ("SMMUV3_OP_ATC_INV", "CMDQ_OP_ATC_INV", "SMMU_CMD_ATC_INV"),
        ("SMMUV3_OP_PRI_RESP", "CMDQ_OP_PRI_RESP", "SMMU_CMD_PRI_RESP"),
        ("SMMUV3_OP_RESUME", "CMDQ_OP_RESUME", "SMMU_CMD_RESUME"),
        ("SMMUV3_OP_STALL_TERM", None, "SMMU_CMD_STALL_TERM"),
        ("SMMUV3_RESUME_TERM", "CMDQ_RESUME_0_RESP_TERM", None),
        ("SMMUV3_RESUME_RETRY", "CMDQ_RESUME_0_RESP_RETRY", None),
        ("SMMUV3_RESUME_ABORT", "CMDQ_RESUME_0_RESP_ABORT", None),
        ("SMMUV3_ATC_INV_SIZE_ALL", "ATC_INV_SIZE_ALL", None),
        ("SMMUV3_OP_SYNC", "CMDQ_OP_CMD_SYNC", "SMMU_CMD_SYNC"),
        ("SMMUV3_SYNC_CS_NONE", "CMDQ_SYNC_0_CS_NONE", "CMD_SYNC_SIG_NONE"),
        ("SMMUV3_SYNC_CS_IRQ", "CMDQ_SYNC_0_CS_IRQ", "CMD_SYNC_SIG_IRQ"),
        ("SMMUV3_SYNC_CS_SEV", "CMDQ_SYNC_0_CS_SEV", "CMD_SYNC_SIG_SEV"),
        ("SMMUV3_CERROR_NONE", "CMDQ_ERR_CERROR_NONE_IDX", "SMMU_CERROR_NONE"),
        ("SMMUV3_CERROR_ILL", "CMDQ_ERR_CERROR_ILL_IDX", "SMMU_CERROR_ILL"),
        ("SMMUV3_CERROR_ABT", "CMDQ_ERR_CERROR_ABT_IDX", "SMMU_CERROR_ABT"),
        ("SMMUV3_CERROR_ATC_INV_SYNC", "CMDQ_ERR_CERROR_ATC_INV_IDX",
         "SMMU_CERROR_ATC_INV_SYNC"),
    ]) +
    # ---- event records ---------------------------------------------------------
    _rows("evt", SIZE, [
        ("SMMUV3_EVT_QWORDS", "EVTQ_ENT_DWORDS", "struct Evt"),
    ]) + _rows("evt", FIELD, [
        ("SMMUV3_EVT#_ID", "EVTQ_0_ID", "EVT_SET_TYPE"),
        ("SMMUV3_EVT#_SSV", "EVTQ_0_SSV", "EVT_SET_SSV"),
        ("SMMUV3_EVT#_SSID", "EVTQ_0_SSID", "EVT_SET_SSID"),
        ("SMMUV3_EVT#_SID", "EVTQ_0_SID", "EVT_SET_SID"),
        ("SMMUV3_EVT#_STAG", "EVTQ_1_STAG", "EVT_SET_STAG"),
        ("SMMUV3_EVT#_STALL", "EVTQ_1_STALL", "EVT_SET_STALL"),
        ("SMMUV3_EVT#_PNU", "EVTQ_1_PnU", "EVT_SET_PNU"),
        ("SMMUV3_EVT#_IND", "EVTQ_1_InD", "EVT_SET_IND"),
        ("SMMUV3_EVT#_RNW", "EVTQ_1_RnW", "EVT_SET_RNW"),
        ("SMMUV3_EVT#_S2", "EVTQ_1_S2", "EVT_SET_S2"),
        ("SMMUV3_EVT#_CLASS", "EVTQ_1_CLASS", "EVT_SET_CLASS"),
        ("SMMUV3_EVT#_ADDR", "EVTQ_2_ADDR", "EVT_SET_ADDR"),
        # QEMU stores the whole of dword 3 (the IPA) with EVT_SET_ADDR2.
        ("SMMUV3_EVT#_IPA", "EVTQ_3_IPA", "EVT_SET_ADDR2"),
    ]) + _rows("evt", VALUE, [
        ("SMMUV3_EVT_F_UUT", None, "SMMU_EVT_F_UUT"),
        ("SMMUV3_EVT_C_BAD_STREAMID", "EVT_ID_BAD_STREAMID_CONFIG", "SMMU_EVT_C_BAD_STREAMID"),
        ("SMMUV3_EVT_F_STE_FETCH", "EVT_ID_STE_FETCH_FAULT", "SMMU_EVT_F_STE_FETCH"),
        ("SMMUV3_EVT_C_BAD_STE", "EVT_ID_BAD_STE_CONFIG", "SMMU_EVT_C_BAD_STE"),
        ("SMMUV3_EVT_F_BAD_ATS_TREQ", None, "SMMU_EVT_F_BAD_ATS_TREQ"),
        ("SMMUV3_EVT_F_STREAM_DISABLED", "EVT_ID_STREAM_DISABLED_FAULT",
         "SMMU_EVT_F_STREAM_DISABLED"),
        ("SMMUV3_EVT_F_TRANSL_FORBIDDEN", None, "SMMU_EVT_F_TRANS_FORBIDDEN"),
        ("SMMUV3_EVT_C_BAD_SUBSTREAMID", "EVT_ID_BAD_SUBSTREAMID_CONFIG",
         "SMMU_EVT_C_BAD_SUBSTREAMID"),
        ("SMMUV3_EVT_F_CD_FETCH", "EVT_ID_CD_FETCH_FAULT", "SMMU_EVT_F_CD_FETCH"),
        ("SMMUV3_EVT_C_BAD_CD", "EVT_ID_BAD_CD_CONFIG", "SMMU_EVT_C_BAD_CD"),
        ("SMMUV3_EVT_F_WALK_EABT", None, "SMMU_EVT_F_WALK_EABT"),
        ("SMMUV3_EVT_F_TRANSLATION", "EVT_ID_TRANSLATION_FAULT", "SMMU_EVT_F_TRANSLATION"),
        ("SMMUV3_EVT_F_ADDR_SIZE", "EVT_ID_ADDR_SIZE_FAULT", "SMMU_EVT_F_ADDR_SIZE"),
        ("SMMUV3_EVT_F_ACCESS", "EVT_ID_ACCESS_FAULT", "SMMU_EVT_F_ACCESS"),
        ("SMMUV3_EVT_F_PERMISSION", "EVT_ID_PERMISSION_FAULT", "SMMU_EVT_F_PERMISSION"),
        ("SMMUV3_EVT_F_TLB_CONFLICT", None, "SMMU_EVT_F_TLB_CONFLICT"),
        ("SMMUV3_EVT_F_CFG_CONFLICT", None, "SMMU_EVT_F_CFG_CONFLICT"),
        ("SMMUV3_EVT_E_PAGE_REQUEST", None, "SMMU_EVT_E_PAGE_REQ"),
        ("SMMUV3_EVT_F_VMS_FETCH", "EVT_ID_VMS_FETCH_FAULT", None),
    ]) +
    # ---- registers -----------------------------------------------------------------
    _rows("regs", OFFSET, [
        ("SMMUV3_IDR0", "ARM_SMMU_IDR0", "IDR0"),
        ("SMMUV3_IDR1", "ARM_SMMU_IDR1", "IDR1"),
        ("SMMUV3_IDR2", None, "IDR2"),
        ("SMMUV3_IDR3", "ARM_SMMU_IDR3", "IDR3"),
        ("SMMUV3_IDR4", None, "IDR4"),
        ("SMMUV3_IDR5", "ARM_SMMU_IDR5", "IDR5"),
        ("SMMUV3_IIDR", "ARM_SMMU_IIDR", "IIDR"),
        ("SMMUV3_AIDR", "ARM_SMMU_AIDR", "AIDR"),
        ("SMMUV3_CR0", "ARM_SMMU_CR0", "CR0"),
        ("SMMUV3_CR0ACK", "ARM_SMMU_CR0ACK", "CR0ACK"),
        ("SMMUV3_CR1", "ARM_SMMU_CR1", "CR1"),
        ("SMMUV3_CR2", "ARM_SMMU_CR2", "CR2"),
        ("SMMUV3_STATUSR", None, "STATUSR"),
        ("SMMUV3_GBPA", "ARM_SMMU_GBPA", "GBPA"),
        ("SMMUV3_IRQ_CTRL", "ARM_SMMU_IRQ_CTRL", "IRQ_CTRL"),
        ("SMMUV3_IRQ_CTRLACK", "ARM_SMMU_IRQ_CTRLACK", "IRQ_CTRL_ACK"),
        ("SMMUV3_GERROR", "ARM_SMMU_GERROR", "GERROR"),
        ("SMMUV3_GERRORN", "ARM_SMMU_GERRORN", "GERRORN"),
        ("SMMUV3_GERROR_IRQ_CFG0", "ARM_SMMU_GERROR_IRQ_CFG0", "GERROR_IRQ_CFG0"),
        ("SMMUV3_GERROR_IRQ_CFG1", "ARM_SMMU_GERROR_IRQ_CFG1", "GERROR_IRQ_CFG1"),
        ("SMMUV3_GERROR_IRQ_CFG2", "ARM_SMMU_GERROR_IRQ_CFG2", "GERROR_IRQ_CFG2"),
        ("SMMUV3_STRTAB_BASE", "ARM_SMMU_STRTAB_BASE", "STRTAB_BASE"),
        ("SMMUV3_STRTAB_BASE_CFG", "ARM_SMMU_STRTAB_BASE_CFG", "STRTAB_BASE_CFG"),
        ("SMMUV3_CMDQ_BASE", "ARM_SMMU_CMDQ_BASE", "CMDQ_BASE"),
        ("SMMUV3_CMDQ_PROD", "ARM_SMMU_CMDQ_PROD", "CMDQ_PROD"),
        ("SMMUV3_CMDQ_CONS", "ARM_SMMU_CMDQ_CONS", "CMDQ_CONS"),
        ("SMMUV3_EVTQ_BASE", "ARM_SMMU_EVTQ_BASE", "EVENTQ_BASE"),
        ("SMMUV3_EVTQ_PROD", "ARM_SMMU_EVTQ_PROD", "EVENTQ_PROD"),
        ("SMMUV3_EVTQ_CONS", "ARM_SMMU_EVTQ_CONS", "EVENTQ_CONS"),
        ("SMMUV3_EVTQ_IRQ_CFG0", "ARM_SMMU_EVTQ_IRQ_CFG0", "EVENTQ_IRQ_CFG0"),
        ("SMMUV3_EVTQ_IRQ_CFG1", "ARM_SMMU_EVTQ_IRQ_CFG1", "EVENTQ_IRQ_CFG1"),
        ("SMMUV3_EVTQ_IRQ_CFG2", "ARM_SMMU_EVTQ_IRQ_CFG2", "EVENTQ_IRQ_CFG2"),
        ("SMMUV3_PRIQ_BASE", "ARM_SMMU_PRIQ_BASE", None),
        ("SMMUV3_PRIQ_PROD", "ARM_SMMU_PRIQ_PROD", None),
        ("SMMUV3_PRIQ_CONS", "ARM_SMMU_PRIQ_CONS", None),
        ("SMMUV3_PRIQ_IRQ_CFG0", "ARM_SMMU_PRIQ_IRQ_CFG0", None),
        ("SMMUV3_PRIQ_IRQ_CFG1", "ARM_SMMU_PRIQ_IRQ_CFG1", None),
        ("SMMUV3_PRIQ_IRQ_CFG2", "ARM_SMMU_PRIQ_IRQ_CFG2", None),
    ]) + _rows("regs", REG, [
        ("SMMUV3_IDR0_S2P", "IDR0_S2P", "IDR0.S2P"),
        ("SMMUV3_IDR0_S1P", "IDR0_S1P", "IDR0.S1P"),
        ("SMMUV3_IDR0_TTF", "IDR0_TTF", "IDR0.TTF"),
        ("SMMUV3_IDR0_COHACC", "IDR0_COHACC", "IDR0.COHACC"),
        ("SMMUV3_IDR0_BTM", None, "IDR0.BTM"),
        ("SMMUV3_IDR0_HTTU", "IDR0_HTTU", "IDR0.HTTU"),
        ("SMMUV3_IDR0_HYP", "IDR0_HYP", "IDR0.HYP"),
        ("SMMUV3_IDR0_ATS", "IDR0_ATS", "IDR0.ATS"),
        ("SMMUV3_IDR0_ASID16", "IDR0_ASID16", "IDR0.ASID16"),
        ("SMMUV3_IDR0_MSI", "IDR0_MSI", "IDR0.MSI"),
        ("SMMUV3_IDR0_SEV", "IDR0_SEV", "IDR0.SEV"),
        ("SMMUV3_IDR0_ATOS", None, "IDR0.ATOS"),
        ("SMMUV3_IDR0_PRI", "IDR0_PRI", "IDR0.PRI"),
        ("SMMUV3_IDR0_VMID16", "IDR0_VMID16", "IDR0.VMID16"),
        ("SMMUV3_IDR0_CD2L", "IDR0_CD2L", "IDR0.CD2L"),
        ("SMMUV3_IDR0_TTENDIAN", "IDR0_TTENDIAN", "IDR0.TTENDIAN"),
        ("SMMUV3_IDR0_STALL_MODEL", "IDR0_STALL_MODEL", "IDR0.STALL_MODEL"),
        ("SMMUV3_IDR0_ST_LVL", "IDR0_ST_LVL", "IDR0.STLEVEL"),
        ("SMMUV3_IDR1_SIDSIZE", "IDR1_SIDSIZE", "IDR1.SIDSIZE"),
        ("SMMUV3_IDR1_SSIDSIZE", "IDR1_SSIDSIZE", "IDR1.SSIDSIZE"),
        ("SMMUV3_IDR1_PRIQS", "IDR1_PRIQS", "IDR1.PRIQS"),
        ("SMMUV3_IDR1_EVTQS", "IDR1_EVTQS", "IDR1.EVENTQS"),
        ("SMMUV3_IDR1_CMDQS", "IDR1_CMDQS", "IDR1.CMDQS"),
        ("SMMUV3_IDR1_ATTR_TYPES_OVR", "IDR1_ATTR_TYPES_OVR", "IDR1.ATTR_TYPES_OVR"),
        ("SMMUV3_IDR1_REL", "IDR1_REL", "IDR1.REL"),
        ("SMMUV3_IDR1_QUEUES_PRESET", "IDR1_QUEUES_PRESET", "IDR1.QUEUES_PRESET"),
        ("SMMUV3_IDR1_TABLES_PRESET", "IDR1_TABLES_PRESET", "IDR1.TABLES_PRESET"),
        ("SMMUV3_IDR3_FWB", "IDR3_FWB", "IDR3.FWB"),
        ("SMMUV3_IDR3_RIL", "IDR3_RIL", "IDR3.RIL"),
        ("SMMUV3_IDR3_BBML", "IDR3_BBM", "IDR3.BBML"),
        ("SMMUV3_IDR5_OAS", "IDR5_OAS", "IDR5.OAS"),
        ("SMMUV3_IDR5_GRAN4K", "IDR5_GRAN4K", "IDR5.GRAN4K"),
        ("SMMUV3_IDR5_GRAN16K", "IDR5_GRAN16K", "IDR5.GRAN16K"),
        ("SMMUV3_IDR5_GRAN64K", "IDR5_GRAN64K", "IDR5.GRAN64K"),
        ("SMMUV3_IDR5_VAX", "IDR5_VAX", "IDR5.VAX"),
        ("SMMUV3_IDR5_STALL_MAX", "IDR5_STALL_MAX", "IDR5.STALL_MAX"),
        ("SMMUV3_AIDR_MINOR", None, None),
        ("SMMUV3_AIDR_MAJOR", None, None),
        ("SMMUV3_CR0_SMMUEN", "CR0_SMMUEN", "CR0.SMMU_ENABLE"),
        ("SMMUV3_CR0_PRIQEN", "CR0_PRIQEN", None),
        ("SMMUV3_CR0_EVTQEN", "CR0_EVTQEN", "CR0.EVENTQEN"),
        ("SMMUV3_CR0_CMDQEN", "CR0_CMDQEN", "CR0.CMDQEN"),
        ("SMMUV3_CR0_ATSCHK", "CR0_ATSCHK", None),
        ("SMMUV3_CR1_TABLE_SH", "CR1_TABLE_SH", None),
        ("SMMUV3_CR1_TABLE_OC", "CR1_TABLE_OC", None),
        ("SMMUV3_CR1_TABLE_IC", "CR1_TABLE_IC", None),
        ("SMMUV3_CR1_QUEUE_SH", "CR1_QUEUE_SH", None),
        ("SMMUV3_CR1_QUEUE_OC", "CR1_QUEUE_OC", None),
        ("SMMUV3_CR1_QUEUE_IC", "CR1_QUEUE_IC", None),
        ("SMMUV3_CR2_E2H", "CR2_E2H", None),
        ("SMMUV3_CR2_RECINVSID", "CR2_RECINVSID", None),
        ("SMMUV3_CR2_PTM", "CR2_PTM", None),
        ("SMMUV3_GBPA_UPDATE", "GBPA_UPDATE", "GBPA.UPDATE"),
        ("SMMUV3_GBPA_ABORT", "GBPA_ABORT", "GBPA.ABORT"),
        ("SMMUV3_IIDR_PRODUCTID", "IIDR_PRODUCTID", None),
        ("SMMUV3_IIDR_VARIANT", "IIDR_VARIANT", None),
        ("SMMUV3_IIDR_REVISION", "IIDR_REVISION", None),
        ("SMMUV3_IIDR_IMPLEMENTER", "IIDR_IMPLEMENTER", None),
        ("SMMUV3_IRQ_CTRL_GERROR", "IRQ_CTRL_GERROR_IRQEN", "IRQ_CTRL.GERROR_IRQEN"),
        ("SMMUV3_IRQ_CTRL_PRIQ", "IRQ_CTRL_PRIQ_IRQEN", "IRQ_CTRL.PRI_IRQEN"),
        ("SMMUV3_IRQ_CTRL_EVTQ", "IRQ_CTRL_EVTQ_IRQEN", "IRQ_CTRL.EVENTQ_IRQEN"),
        ("SMMUV3_GERROR_CMDQ_ERR", "GERROR_CMDQ_ERR", "GERROR.CMDQ_ERR"),
        ("SMMUV3_GERROR_EVTQ_ABT_ERR", "GERROR_EVTQ_ABT_ERR", "GERROR.EVENTQ_ABT_ERR"),
        ("SMMUV3_GERROR_PRIQ_ABT_ERR", "GERROR_PRIQ_ABT_ERR", "GERROR.PRIQ_ABT_ERR"),
        ("SMMUV3_GERROR_MSI_CMDQ_ABT_ERR", "GERROR_MSI_CMDQ_ABT_ERR",
         "GERROR.MSI_CMDQ_ABT_ERR"),
        ("SMMUV3_GERROR_MSI_EVTQ_ABT_ERR", "GERROR_MSI_EVTQ_ABT_ERR",
         "GERROR.MSI_EVENTQ_ABT_ERR"),
        ("SMMUV3_GERROR_MSI_PRIQ_ABT_ERR", "GERROR_MSI_PRIQ_ABT_ERR",
         "GERROR.MSI_PRIQ_ABT_ERR"),
        ("SMMUV3_GERROR_MSI_GERROR_ABT_ERR", "GERROR_MSI_GERROR_ABT_ERR",
         "GERROR.MSI_GERROR_ABT_ERR"),
        ("SMMUV3_GERROR_SFM_ERR", "GERROR_SFM_ERR", "GERROR.MSI_SFM_ERR"),
        ("SMMUV3_STRTAB_BASE_RA", "STRTAB_BASE_RA", None),
        # QEMU masks the stream table and queue bases with one mask.
        ("SMMUV3_STRTAB_BASE_ADDR", "STRTAB_BASE_ADDR_MASK", "SMMU_BASE_ADDR_MASK"),
        ("SMMUV3_STRTAB_CFG_LOG2SIZE", "STRTAB_BASE_CFG_LOG2SIZE", "STRTAB_BASE_CFG.LOG2SIZE"),
        ("SMMUV3_STRTAB_CFG_SPLIT", "STRTAB_BASE_CFG_SPLIT", "STRTAB_BASE_CFG.SPLIT"),
        ("SMMUV3_STRTAB_CFG_FMT", "STRTAB_BASE_CFG_FMT", "STRTAB_BASE_CFG.FMT"),
        ("SMMUV3_MSI_CFG0_ADDR", "MSI_CFG0_ADDR_MASK", None),
        ("SMMUV3_MSI_CFG2_SH", "MSI_CFG2_SH", None),
        ("SMMUV3_MSI_CFG2_MEMATTR", "MSI_CFG2_MEMATTR", None),
        ("SMMUV3_Q_BASE_RA", "Q_BASE_RWA", None),
        ("SMMUV3_Q_BASE_ADDR", "Q_BASE_ADDR_MASK", "SMMU_BASE_ADDR_MASK"),
        ("SMMUV3_Q_BASE_LOG2SIZE", "Q_BASE_LOG2SIZE", None),
        ("SMMUV3_Q_OVF", "Q_OVERFLOW_FLAG", "EVT_Q_OVERFLOW"),
        ("SMMUV3_CMDQ_CONS_ERR", "CMDQ_CONS_ERR", "CMDQ_CONS.ERR"),
    ]) + _rows("regs", VALUE, [
        ("SMMUV3_GERROR_ALL", "GERROR_ERR_MASK", None),
        ("SMMUV3_TTF_AARCH32_64", None, None),
        ("SMMUV3_TTF_AARCH64", "IDR0_TTF_AARCH64", None),
        ("SMMUV3_TTENDIAN_MIXED", "IDR0_TTENDIAN_MIXED", None),
        ("SMMUV3_TTENDIAN_LE", "IDR0_TTENDIAN_LE", None),
        ("SMMUV3_TTENDIAN_BE", "IDR0_TTENDIAN_BE", None),
        ("SMMUV3_STALL_MODEL_BOTH", "IDR0_STALL_MODEL_STALL", None),
        ("SMMUV3_STALL_MODEL_TERM", None, None),
        ("SMMUV3_STALL_MODEL_FORCE", "IDR0_STALL_MODEL_FORCE", None),
        ("SMMUV3_ST_LVL_LINEAR", None, None),
        ("SMMUV3_ST_LVL_2LVL", "IDR0_ST_LVL_2LVL", None),
        ("SMMUV3_STRTAB_FMT_LINEAR", "STRTAB_BASE_CFG_FMT_LINEAR", None),
        ("SMMUV3_STRTAB_FMT_2LVL", "STRTAB_BASE_CFG_FMT_2LVL", None),
        ("SMMUV3_VAX_52", "IDR5_VAX_52_BIT", None),
        ("SMMUV3_ADDR_SIZE_32", "IDR5_OAS_32_BIT", None),
        ("SMMUV3_ADDR_SIZE_36", "IDR5_OAS_36_BIT", None),
        ("SMMUV3_ADDR_SIZE_40", "IDR5_OAS_40_BIT", None),
        ("SMMUV3_ADDR_SIZE_42", "IDR5_OAS_42_BIT", None),
        ("SMMUV3_ADDR_SIZE_44", "IDR5_OAS_44_BIT", None),
        ("SMMUV3_ADDR_SIZE_48", "IDR5_OAS_48_BIT", None),
        ("SMMUV3_ADDR_SIZE_52", "IDR5_OAS_52_BIT", None),
        ("SMMUV3_SH_NSH", "ARM_SMMU_SH_NSH", None),
        ("SMMUV3_SH_OSH", "ARM_SMMU_SH_OSH", None),
        ("SMMUV3_SH_ISH", "ARM_SMMU_SH_ISH", None),
        ("SMMUV3_MEMATTR_DEVICE_NGNRE", "ARM_SMMU_MEMATTR_DEVICE_nGnRE", None),
        ("SMMUV3_MEMATTR_OIWB", "ARM_SMMU_MEMATTR_OIWB", None),
        # CR1's cacheability encoding: SMMUV3_CR1_CACHE_* if regs.h has them,
        # else the SMMUV3_CACHE_* that regs.h says serve CR1 as well as STEs.
        ("SMMUV3_CR1_CACHE_NC|SMMUV3_CACHE_NC", "CR1_CACHE_NC", None, "CR1 cache NC"),
        ("SMMUV3_CR1_CACHE_WT|SMMUV3_CACHE_WT", "CR1_CACHE_WT", None, "CR1 cache WT"),
        ("SMMUV3_CR1_CACHE_WB|SMMUV3_CACHE_WB", "CR1_CACHE_WB", None, "CR1 cache WB"),
    ])
)


# --------------------------------------------------------------------------
# Reading C headers

class CError(Exception):
    """An expression or name this parser cannot evaluate."""


_CAST_RE = re.compile(r"\(\s*(?:const\s+)?(?:u?int(?:8|16|32|64)_t|u(?:8|16|32|64)|"
                      r"unsigned(?:\s+long){0,2}(?:\s+int)?|long(?:\s+long)?|int)\s*\)")
_SUFFIX_RE = re.compile(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]+\b")
_IDENT_RE = re.compile(r"\b[A-Za-z_]\w*\b")
_MASK_CALL_RE = re.compile(r"\b(GENMASK(?:_ULL)?|BIT(?:_ULL)?)\s*\(([^()]*)\)")


def c_eval(expr, lookup=None):
    """The value of a C integer constant expression (GENMASK, BIT, shifts,
    casts, integer suffixes).  LOOKUP(name) gives other macros' values;
    raises CError for anything else."""
    s = expr.strip()
    # Innermost GENMASK()/BIT() first, their arguments evaluated recursively.
    while True:
        m = _MASK_CALL_RE.search(s)
        if not m:
            break
        args = [c_eval(a, lookup) for a in m.group(2).split(",")]
        if m.group(1).startswith("GENMASK") and len(args) == 2 and args[0] >= args[1]:
            v = ((1 << (args[0] + 1)) - 1) & ~((1 << args[1]) - 1)
        elif m.group(1).startswith("BIT") and len(args) == 1:
            v = 1 << args[0]
        else:
            raise CError("bad %s" % m.group(0))
        s = s[:m.start()] + "(%d)" % v + s[m.end():]
    s = _CAST_RE.sub("", s)
    s = _SUFFIX_RE.sub(r"\1", s)
    s = re.sub(r"\b0([0-7]+)\b", r"0o\1", s)

    def ident(m):
        if lookup is None:
            raise CError("unknown name %s" % m.group(0))
        v = lookup(m.group(0))
        if v is None:
            raise CError("unknown name %s" % m.group(0))
        return "(%d)" % v
    s = _IDENT_RE.sub(ident, s)
    try:
        tree = ast.parse(s, mode="eval")
    except SyntaxError:
        raise CError("cannot parse %r" % expr) from None
    return _eval_node(tree.body, expr)


_BINOPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
           ast.Mult: lambda a, b: a * b, ast.LShift: lambda a, b: a << b,
           ast.RShift: lambda a, b: a >> b, ast.BitOr: lambda a, b: a | b,
           ast.BitAnd: lambda a, b: a & b, ast.BitXor: lambda a, b: a ^ b}
_UNOPS = {ast.Invert: lambda a: ~a, ast.USub: lambda a: -a, ast.UAdd: lambda a: a}


def _eval_node(node, expr):
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        return _BINOPS[type(node.op)](_eval_node(node.left, expr), _eval_node(node.right, expr))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNOPS:
        return _UNOPS[type(node.op)](_eval_node(node.operand, expr))
    raise CError("not a constant expression: %r" % expr)


def _try_eval(expr, lookup=None):
    """c_eval(), or None where it cannot."""
    try:
        return c_eval(expr, lookup)
    except CError:
        return None


def mask_bits(mask):
    """The bit numbers set in MASK."""
    return frozenset(i for i in range(mask.bit_length()) if mask >> i & 1)


def strip_comments(text):
    """C text without comments, continuation lines joined."""
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    return text.replace("\\\n", " ")


_DEFINE_RE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+(\w+)(\([^)]*\))?[ \t]*(.*)$", re.M)
_ENUM_RE = re.compile(r"\benum\b\s*\w*\s*\{([^}]*)\}", re.S)
_FUNC_RE = re.compile(r"\b(\w+)\s*\(([^()]*)\)\s*\{")


class Header:
    """The macros, enum constants and inline functions of one C header."""

    def __init__(self, path):
        self.path = path
        with open(path, errors="replace") as f:
            self.text = strip_comments(f.read())
        self.defines = {}   # name -> (parameter list or None, body)
        for m in _DEFINE_RE.finditer(self.text):
            params = None
            if m.group(2) is not None:
                params = [p.strip() for p in m.group(2)[1:-1].split(",") if p.strip()]
            self.defines[m.group(1)] = (params, m.group(3).strip())
        self.enums = {}     # enum constant -> value
        for m in _ENUM_RE.finditer(self.text):
            nxt = 0
            for item in m.group(1).split(","):
                name, eq, val = item.partition("=")
                name = name.strip()
                if not re.match(r"^[A-Za-z_]\w*$", name):
                    continue
                try:
                    nxt = self._eval(val) if eq else nxt
                except CError:
                    break  # the rest of this enum counts from a value we lack
                self.enums[name] = nxt
                nxt += 1
        self._values = {}

    def _eval(self, expr):
        return c_eval(expr, self.value)

    def value(self, name):
        """The integer value of an object-like macro or enum constant, or None."""
        if name in self.enums:
            return self.enums[name]
        if name not in self._values:
            self._values[name] = None  # no recursion through a cycle
            d = self.defines.get(name)
            if d and d[0] is None and d[1]:
                try:
                    self._values[name] = self._eval(d[1])
                except CError:
                    pass
        return self._values[name]

    def function_body(self, name):
        """(parameters, body) of a function-like macro or inline function."""
        d = self.defines.get(name)
        if d and d[0] is not None:
            return d
        for m in _FUNC_RE.finditer(self.text):
            if m.group(1) != name:
                continue
            depth, i = 1, m.end()
            while depth and i < len(self.text):
                depth += {"{": 1, "}": -1}.get(self.text[i], 0)
                i += 1
            params = [p.split()[-1].lstrip("*") for p in m.group(2).split(",") if p.strip()]
            return params, self.text[m.end():i - 1]
        return None


# --------------------------------------------------------------------------
# The three sources as facts
#
# A fact is a frozenset of bit numbers (FIELD: absolute in the entry; REG:
# in the register) or an int (OFFSET, VALUE, SIZE); None: not defined.


class Ours:
    """include/smmuv3/regs.h."""

    name = "ours"

    def __init__(self, path):
        self.h = Header(path)

    def macro(self, spec):
        """The macro a table name stands for ('#': any word digit; A|B: the
        first of A and B that regs.h defines), or None."""
        if "|" in spec:
            return next(filter(None, map(self.macro, spec.split("|"))), None)
        if "#" not in spec:
            return spec if spec in self.h.defines else None
        pat = re.compile("^" + re.escape(spec).replace("\\#", r"\d") + "$")
        hits = [n for n in self.h.defines if pat.match(n)]
        if len(hits) > 1:
            raise SystemExit("oracle: %s matches several macros of %s: %s" %
                             (spec, self.h.path, " ".join(hits)))
        return hits[0] if hits else None

    def fact(self, row):
        name = self.macro(row.ours)
        if name is None:
            return None
        v = self.h.value(name)
        if v is None:
            raise SystemExit("oracle: cannot evaluate %s in %s" % (name, self.h.path))
        if row.kind == FIELD:
            m = re.match(r"SMMUV3_[A-Z]+(\d)_", name)
            word = int(m.group(1)) if m else 0
            return frozenset(64 * word + b for b in mask_bits(v))
        if row.kind == REG:
            return mask_bits(v)
        return v

    def field_macros(self):
        """Every field-like macro (a GENMASK or BIT) of regs.h."""
        return sorted(n for n, (p, body) in self.h.defines.items()
                      if p is None and re.search(r"\b(GENMASK|BIT)(_ULL)?\s*\(", body))


class Kernel:
    """The kernel's arm-smmu-v3.h: masks of 64-bit words, the word in the name."""

    name = "kernel"

    def __init__(self, path):
        self.h = Header(path)
        self.missing = []   # table names this header does not have

    def _value(self, name):
        v = self.h.value(name)
        if v is None:
            self.missing.append(name)
        return v

    def fact(self, row):
        spec = row.kernel
        if spec is None:
            return None
        # "MACRO@N": the macro's bits, placed in word N (a field the kernel
        # does not define, laid out as one it does; see the row's comment).
        spec, _, at_word = spec.partition("@")
        if row.kind in (OFFSET, VALUE, SIZE):
            return self._value(spec)
        parent, _, child = spec.rpartition(":")
        v = self._value(child)
        if v is None:
            return None
        if parent:
            p = self._value(parent)
            if p is None:
                return None
            v <<= min(mask_bits(p))
        if row.kind == REG:
            return mask_bits(v)
        # STRTAB_STE_<n>_*, CTXDESC_CD_<n>_*, CMDQ_<op>_<n>_*, EVTQ_<n>_*:
        # the 64-bit word is the first number between underscores.
        m = re.search(r"_(\d)_", parent or child)
        word = int(at_word) if at_word else int(m.group(1)) if m else 0
        return frozenset(64 * word + b for b in mask_bits(v))


_ACCESS = r"(?:\(\s*\w+\s*\)|\b\w+)\s*->\s*word\s*\[([^\]]+)\]"
_DEPOSIT_RE = re.compile(_ACCESS + r"\s*=\s*deposit(?:32|64)\s*\(\s*" + _ACCESS +
                         r"\s*,([^,]+),([^,]+),")
_EXTRACT_RE = re.compile(r"extract(?:32|64)\s*\(\s*" + _ACCESS + r"\s*,([^,]+),([^,)]+)\)")
_MASKED_RE = re.compile(_ACCESS + r"\s*&\s*(~?\s*(?:0[xX][0-9a-fA-F]+|\d+)[uUlL]*)")
_WORD_RE = re.compile(_ACCESS)
_QSPEC_RE = re.compile(r"^(\w+)(?:\(([^)]*)\))?(?:\[(\d+)(?::(\d+))?\])?$")


class Qemu:
    """QEMU's smmuv3-internal.h: accessors of 32-bit words, REG32/FIELD registers."""

    name = "QEMU"

    def __init__(self, path):
        self.h = Header(path)
        self.missing = []
        t = self.h.text
        self.regs = {}
        for m in re.finditer(r"\bREG32\s*\(\s*(\w+)\s*,([^)]+)\)", t):
            self.regs[m.group(1)] = _try_eval(m.group(2), self.h.value)
        for name, (params, body) in self.h.defines.items():
            if name.startswith("A_") and params is None and self.h.value(name) is not None:
                self.regs.setdefault(name[2:], self.h.value(name))
        self.fields = {}
        for m in re.finditer(r"\bFIELD\s*\(\s*(\w+)\s*,\s*(\w+)\s*,\s*([^,]+),([^)]+)\)", t):
            shift = _try_eval(m.group(3), self.h.value)
            length = _try_eval(m.group(4), self.h.value)
            if shift is not None and length is not None:
                self.fields["%s.%s" % (m.group(1), m.group(2))] = frozenset(
                    range(shift, shift + length))
        self.structs = {m.group(1): _try_eval(m.group(2), self.h.value) for m in re.finditer(
            r"typedef\s+struct\s+(\w+)\s*\{\s*uint32_t\s+word\s*\[\s*(\w+)\s*\]\s*;\s*\}", t)}

    def entry_bits(self, body):
        """The absolute bits of the 32-bit words x->word[N] that an accessor
        body reads or writes: deposit32/extract32/extract64(word, shift, len),
        word & MASK, or a whole word."""
        bits = set()

        def add(word, shift, length):
            w, s, n = c_eval(word), c_eval(shift), c_eval(length)
            bits.update(32 * w + s + i for i in range(n))
            return " "

        def masked(m):
            w, mask = c_eval(m.group(1)), c_eval(m.group(2)) & 0xffffffff
            bits.update(32 * w + b for b in mask_bits(mask))
            return " "
        body = _DEPOSIT_RE.sub(lambda m: add(m.group(1), m.group(3), m.group(4)), body)
        body = _EXTRACT_RE.sub(lambda m: add(m.group(1), m.group(2), m.group(3)), body)
        body = _MASKED_RE.sub(masked, body)
        _WORD_RE.sub(lambda m: add(m.group(1), "0", "32"), body)
        return frozenset(bits)

    def fact(self, row):
        spec = row.qemu
        if spec is None:
            return None
        if spec.startswith("struct "):
            words = self.structs.get(spec.split()[1])
            if words is None:
                self.missing.append(spec)
                return None
            return words // 2
        if row.kind == OFFSET:
            if spec not in self.regs:
                self.missing.append(spec)
            return self.regs.get(spec)
        if row.kind == REG and "." in spec:
            if spec not in self.fields:
                self.missing.append(spec)
            return self.fields.get(spec)
        if row.kind in (VALUE, REG):
            v = self.h.value(spec)
            if v is None:
                self.missing.append(spec)
                return None
            return v if row.kind == VALUE else mask_bits(v)
        return self._accessor(spec)

    def _accessor(self, spec):
        """Bits of an entry accessor: NAME, NAME(param=value), NAME[i], NAME[h:l]."""
        m = _QSPEC_RE.match(spec)
        if not m:
            raise SystemExit("oracle: bad QEMU name %r in the name table" % spec)
        fb = self.h.function_body(m.group(1))
        if fb is None:
            self.missing.append(spec)
            return None
        params, body = fb
        for binding in filter(None, (m.group(2) or "").split(",")):
            param, _, val = binding.partition("=")
            if param.strip() not in params:
                self.missing.append(spec)
                return None
            body = re.sub(r"\b%s\b" % re.escape(param.strip()), val.strip(), body)
        try:
            bits = sorted(self.entry_bits(body))
        except CError:
            bits = []
        if not bits:  # nothing this parser understands: say so, never "0 bits"
            self.missing.append(spec)
            return None
        if m.group(3) is not None:
            hi = int(m.group(3))
            lo = int(m.group(4)) if m.group(4) is not None else hi
            bits = bits[lo:hi + 1]
        return frozenset(bits)


# --------------------------------------------------------------------------
# Comparing

def show(fact, kind):
    """A fact for people: w<N>[hi:lo] (64-bit words) for entry fields, [hi:lo]
    for register fields, hex for numbers."""
    if fact is None:
        return "-"
    if isinstance(fact, int):
        return "%#x" % fact if kind == OFFSET or fact > 9 else str(fact)
    parts, bits = [], sorted(fact)
    while bits:
        lo = hi = bits.pop(0)
        # A range stops at a 64-bit word boundary for entry fields.
        while bits and bits[0] == hi + 1 and (kind != FIELD or bits[0] % 64):
            hi = bits.pop(0)
        word = "w%d" % (lo // 64) if kind == FIELD else ""
        lo, hi = (lo % 64, hi % 64) if kind == FIELD else (lo, hi)
        parts.append("%s[%s]" % (word, hi if hi == lo else "%d:%d" % (hi, lo)))
    return "+".join(parts)


AGREE, REFS_DIFFER, ONLY_KERNEL, ONLY_QEMU, SPEC_ONLY, NEITHER, NOT_OURS = (
    "agree", "refs differ", "only kernel", "only QEMU", "spec only", "neither",
    "not in regs.h")
DISAGREE, UNMAPPED, MISSING, UNDECIDED = "DISAGREE", "UNMAPPED", "MISSING", "UNDECIDED"
FAILING = (DISAGREE, UNMAPPED, MISSING, UNDECIDED)
STATUS_ORDER = (AGREE, REFS_DIFFER, ONLY_KERNEL, ONLY_QEMU, SPEC_ONLY, NEITHER, NOT_OURS,
                DISAGREE, UNMAPPED, MISSING, UNDECIDED)

# The third reference: positions and values transcribed from the
# architecture (Arm IHI 0070, the SMMUv3 specification) for the fields that
# neither header defines, and for those only QEMU's does (QEMU's model is
# the weaker reference: it may define only what it implements).  Written as
# the specification's tables give them, never derived from regs.h: an entry
# field as w<64-bit word>[hi:lo], a register field as [hi:lo], an encoding
# or offset as a number.  A label here that the name table lacks fails
# (MISSING), so that an entry cannot silently stop being used.
SPEC = {
    # CD word 0 (IHI 0070 5.4, the CD's TCR fields for TTB1 and the
    # translation controls)
    "SMMUV3_CD0_T1SZ": ("w0[21:16]", "CD.T1SZ"),
    "SMMUV3_CD0_TG1": ("w0[23:22]", "CD.TG1"),
    "SMMUV3_CD0_IRGN1": ("w0[25:24]", "CD.IR1"),
    "SMMUV3_CD0_ORGN1": ("w0[27:26]", "CD.OR1"),
    "SMMUV3_CD0_SH1": ("w0[29:28]", "CD.SH1"),
    "SMMUV3_CD0_AFFD": ("w0[35]", "CD.AFFD"),
    "SMMUV3_CD0_WXN": ("w0[36]", "CD.WXN"),
    "SMMUV3_CD0_UWXN": ("w0[37]", "CD.UWXN"),
    "SMMUV3_CD0_TBI1": ("w0[39]", "CD.TBI[1]"),
    "SMMUV3_CD0_PAN": ("w0[40]", "CD.PAN"),
    # CD bytes 24-31 and 32-39 (IHI 0070 5.4)
    "SMMUV3_CD3_MAIR": ("w3[63:0]", "CD.MAIR0 and CD.MAIR1"),
    "SMMUV3_CD4_AMAIR": ("w4[63:0]", "CD.AMAIR0 and CD.AMAIR1"),
    # STE word 2 (IHI 0070 5.2)
    "SMMUV3_STE2_S2AFFD": ("w2[53]", "STE.S2AFFD"),
    # Commands (IHI 0070 4.7) and event record types (IHI 0070 7.3)
    "SMMUV3_OP_STALL_TERM": (0x45, "CMD_STALL_TERM"),
    "SMMUV3_EVT_F_UUT": (0x01, "F_UUT"),
    "SMMUV3_EVT_F_BAD_ATS_TREQ": (0x05, "F_BAD_ATS_TREQ"),
    "SMMUV3_EVT_F_TRANSL_FORBIDDEN": (0x07, "F_TRANSL_FORBIDDEN"),
    "SMMUV3_EVT_F_WALK_EABT": (0x0b, "F_WALK_EABT"),
    "SMMUV3_EVT_F_TLB_CONFLICT": (0x20, "F_TLB_CONFLICT"),
    "SMMUV3_EVT_F_CFG_CONFLICT": (0x21, "F_CFG_CONFLICT"),
    "SMMUV3_EVT_E_PAGE_REQUEST": (0x24, "E_PAGE_REQUEST"),
    # Registers (IHI 0070 6.2, 6.3)
    "SMMUV3_IDR2": (0x08, "SMMU_IDR2 offset"),
    "SMMUV3_IDR4": (0x10, "SMMU_IDR4 offset"),
    "SMMUV3_STATUSR": (0x40, "SMMU_STATUSR offset"),
    "SMMUV3_IDR0_BTM": ("[5]", "SMMU_IDR0.BTM"),
    "SMMUV3_IDR0_ATOS": ("[15]", "SMMU_IDR0.ATOS"),
    "SMMUV3_AIDR_MINOR": ("[3:0]", "SMMU_AIDR.ArchMinorRev"),
    "SMMUV3_AIDR_MAJOR": ("[7:4]", "SMMU_AIDR.ArchMajorRev"),
    "SMMUV3_TTF_AARCH32_64": (3, "SMMU_IDR0.TTF 0b11: AArch32 and AArch64 tables"),
    "SMMUV3_STALL_MODEL_TERM": (1, "SMMU_IDR0.STALL_MODEL 0b01: stalls not supported"),
    "SMMUV3_ST_LVL_LINEAR": (0, "SMMU_IDR0.ST_LEVEL 0b00: linear stream table only"),
}


def spec_fact(label, kind):
    """SPEC's fact for LABEL in the representation of KIND, or None."""
    if label not in SPEC:
        return None
    text = SPEC[label][0]
    if isinstance(text, int):
        return text
    m = re.fullmatch(r"(?:w(\d+))?\[(\d+)(?::(\d+))?\]", text)
    if not m:
        raise ValueError("SPEC[%s]: %r is not w<N>[hi:lo] or [hi:lo]" % (label, text))
    hi = int(m.group(2))
    lo = int(m.group(3)) if m.group(3) else hi
    base = 64 * int(m.group(1)) if kind == FIELD and m.group(1) else 0
    return frozenset(range(base + lo, base + hi + 1))

# Where the references disagree, which one the architecture (Arm IHI 0070,
# the SMMUv3 specification) sides with, and why.  Ours must equal that one:
# equalling the other is DISAGREE, and a "refs differ" field missing here is
# UNDECIDED (both fail).  QEMU models 48-bit (or 51-bit) output addresses
# and gives some fields wider accessors than the architecture defines; the
# kernel's header is the architecture's 52-bit layout, but not always.
AUTHORITY = {
    "SMMUV3_STE0_S1CTXPTR": ("kernel", "STE.S1ContextPtr is bits [51:6] of the address "
                             "(52-bit OA); QEMU models 48 bits"),
    "SMMUV3_STE3_S2TTB": ("kernel", "STE.S2TTB is bits [51:4] (52-bit OA); QEMU models "
                          "48 bits"),
    "SMMUV3_CD1_TTB0": ("kernel", "CD.TTB0 is bits [51:4]; QEMU's CD_TTB stops at 50"),
    "SMMUV3_CD2_TTB1": ("kernel", "CD.TTB1 is bits [51:4]; QEMU's CD_TTB stops at 50"),
    "SMMUV3_L1STD_L2PTR": ("kernel", "L1STD.L2Ptr is bits [51:6]; QEMU reads the whole "
                           "word above bit 5"),
    "SMMUV3_CMD0_SCALE": ("QEMU", "TLBI range commands: SCALE is 5 bits, [24:20]; bit 25 "
                          "is RES0 (the kernel's mask is one bit wider)"),
    "SMMUV3_CMD1_IPA": ("kernel", "CMD_TLBI_S2_IPA: IPA is bits [51:12]; QEMU reads "
                        "every address field with one [63:12] accessor"),
    "SMMUV3_CMD1_PRI_RESP": ("kernel", "CMD_PRI_RESP: Resp is bits [13:12] of the second "
                             "doubleword; QEMU's CMD_RESP is [12:11]"),
    "SMMUV3_OP_CFGI_ALL": ("kernel", "CMD_CFGI_ALL is opcode 0x04 (CFGI_STE_RANGE with "
                           "Range 31); QEMU's enum gives it 7"),
    "SMMUV3_EVT3_IPA": ("kernel", "event records: IPA is bits [51:12] of the fourth "
                        "doubleword; QEMU writes the whole doubleword"),
    "SMMUV3_Q_BASE_ADDR": ("kernel", "SMMU_(CMDQ|EVENTQ|PRIQ)_BASE.ADDR is bits [51:5]; "
                           "QEMU's mask starts at bit 6"),
}


def judge(ours, kernel, qemu, label=None, spec=None):
    """The status of one field from its facts (None: not defined): ours,
    the kernel's, QEMU's and SPEC's; LABEL names it in AUTHORITY when the
    references differ."""
    if ours is None:
        return NOT_OURS
    refs = [r for r in (kernel, qemu) if r is not None]
    if spec is not None and ours != spec:
        return DISAGREE
    if not refs:
        return NEITHER if spec is None else SPEC_ONLY
    if ours not in refs:
        return DISAGREE
    if len(refs) == 2:
        if kernel == qemu:
            return AGREE
        auth = AUTHORITY.get(label)
        if auth is None:
            return UNDECIDED
        return REFS_DIFFER if ours == (kernel if auth[0] == "kernel" else qemu) else DISAGREE
    return ONLY_KERNEL if kernel is not None else ONLY_QEMU


class Report:
    """The outcome: one (group, status, label, text) line per field."""

    def __init__(self):
        self.lines = []

    def add(self, group, status, label, text):
        self.lines.append((group, status, label, text))

    def failures(self, group):
        return [l for l in self.lines if l[0] == group and l[1] in FAILING]

    def counts(self, group):
        c = {}
        for l in self.lines:
            if l[0] == group:
                c[l[1]] = c.get(l[1], 0) + 1
        return c

    def format_line(self, line):
        group, status, label, text = line
        return "%-13s %-4s %-34s %s" % (status, group, label, text)

    def summary(self, group):
        c = self.counts(group)
        return "%s: %d checked: %s" % (group, sum(c.values()), ", ".join(
            "%d %s" % (c[s], s) for s in STATUS_ORDER if c.get(s)))


def check(regs_h, kernel_h, qemu_h):
    """Compare regs.h with both references; returns a Report."""
    ours, kernel, qemu = Ours(regs_h), Kernel(kernel_h), Qemu(qemu_h)
    report = Report()
    covered, spec_used = set(), set()
    for row in NAME_TABLE:
        missing = len(kernel.missing) + len(qemu.missing)
        o, k, q = ours.fact(row), kernel.fact(row), qemu.fact(row)
        macro = ours.macro(row.ours)
        if macro:
            covered.add(macro)
        label = macro if macro and "#" in row.ours else row.label
        sp = spec_fact(label, row.kind)
        if sp is not None:
            spec_used.add(label)
        status = judge(o, k, q, label, sp)
        if len(kernel.missing) + len(qemu.missing) > missing:
            # The table names something a reference lacks: it is out of date
            # and this field is no longer checked as it claims.
            status = MISSING
        text = "ours %s" % show(o, row.kind)
        if macro and macro != label:
            text = "ours %s %s" % (macro, show(o, row.kind))
        for src, spec, fact in ((kernel, row.kernel, k), (qemu, row.qemu, q)):
            if spec is not None:
                text += "; %s %s %s" % (src.name, spec, "(not defined there)"
                                        if fact is None else show(fact, row.kind))
        if sp is not None:
            text += "; IHI 0070 %s %s" % (SPEC[label][1], show(sp, row.kind))
        if label in AUTHORITY and status in (REFS_DIFFER, DISAGREE):
            text += "; the architecture sides with %s (%s)" % AUTHORITY[label]
        elif status == UNDECIDED:
            text += "; no AUTHORITY entry says which reference the architecture sides with"
        report.add(row.group, status, label, text)
    for name in ours.field_macros():
        if name not in covered:
            report.add(_group_of(name), UNMAPPED, name, "not in oracle.py's name table")
    for label in sorted(set(SPEC) - spec_used):
        report.add(_group_of(label), MISSING, label, "a SPEC entry no row of the name table uses")
    return report


def _group_of(name):
    for prefix, group in (("SMMUV3_STE", "ste"), ("SMMUV3_CD", "cd"), ("SMMUV3_L1", "l1"),
                          ("SMMUV3_CMD", "cmd"), ("SMMUV3_EVT", "evt")):
        if name.startswith(prefix) and not name.startswith("SMMUV3_CMDQ"):
            return group
    return "regs"


# --------------------------------------------------------------------------
# Finding the references

def cache_dir():
    return os.environ.get("SMMUV3_CACHE", "/var/cache/smmuv3")


def find_kernel_header(kdir=None, link_target=os.readlink):
    """arm-smmu-v3.h of a kernel build tree (through its source-tree or source
    link, whose target LINK_TARGET may map) or of a linux-source tree in the
    cache; None if there is none."""
    if kdir:
        cands = []
        for sub in ("source-tree", "source"):
            p = os.path.join(kdir, sub)
            if os.path.islink(p):
                p = os.path.join(kdir, link_target(p))
            cands.append(os.path.join(p, KERNEL_FILE))
        cands.append(os.path.join(kdir, KERNEL_FILE))
    else:
        c = cache_dir()
        cands = sorted(glob.glob(os.path.join(c, "src", "linux-source-*", KERNEL_FILE)) +
                       glob.glob(os.path.join(c, "refs", "linux-source-*", KERNEL_FILE)),
                       reverse=True)
    for p in cands:
        if os.path.exists(p):
            return p
    return None


def find_qemu_header():
    """smmuv3-internal.h that qemu/refs.sh fetched into the cache, or None."""
    cands = sorted(glob.glob(os.path.join(cache_dir(), "refs", "qemu-*", QEMU_FILE)),
                   reverse=True)
    return cands[0] if cands else None


def qemu_source(qemu_h):
    """' (Debian package VERSION)' from the SOURCE note qemu/refs.sh leaves."""
    top = qemu_h[:-len(QEMU_FILE)] if qemu_h.endswith(QEMU_FILE) else None
    try:
        with open(os.path.join(top, "SOURCE")) as f:
            return " (from Debian's %s)" % f.read().strip()
    except (OSError, TypeError):
        return ""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    ap.add_argument("--regs", default=REGS_H, help="our header (default: %(default)s)")
    ap.add_argument("--kernel-header", help="the kernel's " + KERNEL_FILE)
    ap.add_argument("--kdir", help="a kernel build tree whose source has " + KERNEL_FILE)
    ap.add_argument("--qemu-header", help="QEMU's " + QEMU_FILE)
    ap.add_argument("-q", "--quiet", action="store_true",
                    help="print only the failures and the summaries")
    o = ap.parse_args(argv)
    kernel_h = o.kernel_header or find_kernel_header(o.kdir)
    qemu_h = o.qemu_header or find_qemu_header()
    for what, path, hint in (("kernel", kernel_h, "--kernel-header or --kdir"),
                             ("QEMU", qemu_h, "--qemu-header, or run qemu/refs.sh qemu "
                              "in the chroot (make oracle does)")):
        if not path or not os.path.exists(path):
            print("oracle: no %s header found; give %s" % (what, hint), file=sys.stderr)
            return 2
    report = check(o.regs, kernel_h, qemu_h)
    print("# ours:   %s\n# kernel: %s\n# QEMU:   %s%s" % (o.regs, kernel_h, qemu_h,
                                                      qemu_source(qemu_h)))
    for line in report.lines:
        if not o.quiet or line[1] in FAILING:
            print(report.format_line(line))
    failed = 0
    for g in GROUPS:
        print("# " + report.summary(g))
        failed += len(report.failures(g))
    print("oracle: %s" % ("%d failure(s)" % failed if failed else "regs.h agrees"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
