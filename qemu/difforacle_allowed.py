# SPDX-License-Identifier: GPL-2.0-only
"""The differential oracle's reviewed list of intended differences between
smmuv3.ko and the upstream driver (qemu/difforacle.py).

Each entry: the operation (the scenario's name, "probe" or "shutdown";
several joined by "|"; "*" for any),
what differs (an instance "smmu0"/"smmu1", "dma" for what edu A's DMA met,
"result" for the operation's errno; "*" for any), a regular expression the
difference's text must match (a "-" line is ours, a "+" line upstream's),
and why the difference is intended.  What the differ already normalises
(ASID/VMID numbers, table and queue addresses, queue indexes, the number
of CMD_SYNCs) needs no entry.  Keep it short: every entry is a place where
the oracle is blind.
"""

import re


class Allowed:
    def __init__(self, op, what, pattern, reason):
        self.op = op
        self.what = what
        self.pattern = re.compile(pattern)
        self.reason = reason


ALLOWED = [
    Allowed("*", "*", r"^\+cmd SMMU_CMD_PREFETCH_CONFIG$",
            "upstream prefetches an STE after writing it (a hint, no effect on "
            "what the SMMU does); ours does not"),
    Allowed("probe", "*", r"^-write GBPA 0x80101000$",
            "ours sets GBPA.ABORT (with Update) before resetting an instance, so that "
            "nothing bypasses while it is disabled; upstream leaves GBPA alone unless it "
            "finds the SMMU enabled"),
    Allowed("probe", "*", r"^[-+]write (CMDQ|EVENTQ)_BASE 0x40000000000000[0-9a-f]{2} ",
            "queue sizes (LOG2SIZE) are the driver's choice: ours 2^12 entries, "
            "upstream the largest IDR1 allows"),
    Allowed("probe", "*", r"^\+write (GERROR|EVENTQ)_IRQ_CFG0 0x0 ",
            "upstream clears the MSI doorbell registers even without MSI "
            "(IDR0.MSI = 0 on QEMU); ours does not touch them then"),
    Allowed("probe", "*", r"^[-+]write CR2 0x[26]$",
            "CR2.PTM is RES0 without IDR0.BTM (IHI 0070 6.3.12) and QEMU has no BTM: "
            "ours sets it only with BTM, upstream always"),
    Allowed("probe", "*", r"^-(cmd SMMU_CMD_CFGI_STE|smmuv3_cmdq_cfgi_ste streamid= 0x[0-9a-f]+)$",
            "ours invalidates each new level-1 stream-table descriptor (CFGI_STE, Leaf 0) "
            "before its streams are used: the SMMU may have cached the invalid one (IHI "
            "0070 3.21.3, 4.3.1); upstream does not"),
    Allowed("shutdown", "*", r"^-write IRQ_CTRL 0x0$",
            "ours also masks the instance's interrupts at shutdown; both clear CR0"),
    # Ours gives every vIOMMU a VMID of its own (one stage 2 shared by the
    # vIOMMUs of several instances); upstream's vIOMMU reuses its parent's.
    Allowed("attach_nested_bypass", "smmu0",
            r"^-(cmd SMMU_CMD_CFGI_STE|smmuv3_cmdq_cfgi_ste streamid= 0x100|"
            r"cmd SMMU_CMD_TLBI_S12_VMALL|smmuv3_cmdq_tlbi_s12_vmid vmid=v1|"
            r"smmu_iotlb_inv_vmid IOTLB invalidate vmid=v1)$",
            "vIOMMU VMID: ours' nested STE carries the vIOMMU's own VMID, so it changes "
            "(CFGI_STE) and the parent's VMID, unused on the instance now, is flushed and "
            "freed; upstream's nested bypass STE equals the parent's: nothing to do"),
    Allowed("unmap_nested|viommu_invalidate|replace_paging", "smmu0",
            r"^[-+](smmuv3_cmdq_tlbi_nh |smmuv3_range_inval |"
            r"smmu_iotlb_inv_vmid_s1 |smmuv3_cmdq_tlbi_s12_vmid |smmu_iotlb_inv_vmid )"
            r".*vmid=v[12]\b",
            "vIOMMU VMID: the same command on ours' second VMID (the vIOMMU's) where "
            "upstream uses its first (the parent's, shared with its vIOMMU)"),
    Allowed("viommu_destroy", "smmu0",
            r"^-(cmd SMMU_CMD_TLBI_S12_VMALL|smmuv3_cmdq_tlbi_s12_vmid vmid=v2|"
            r"smmu_iotlb_inv_vmid IOTLB invalidate vmid=v2)$",
            "vIOMMU VMID: ours frees the vIOMMU's VMID and flushes it first; upstream's "
            "vIOMMU has none of its own"),
    Allowed("unmap_s2", "smmu0",
            r"^\+(cmd SMMU_CMD_TLBI_NH_ALL|smmuv3_cmdq_tlbi_nh vmid=v1|"
            r"smmu_iotlb_inv_vmid_s1 IOTLB invalidate vmid=v1)$",
            "a nesting parent with no nested domain yet: upstream flushes stage-1 entries "
            "under the parent's VMID on every stage-2 unmap; ours only under the VMIDs of "
            "vIOMMUs (unmap_nested shows it there), and no stage 1 can exist here"),
    Allowed("detach", "smmu0",
            r"^[-+](cmd SMMU_CMD_TLBI_NH_ASID|smmuv3_cmdq_tlbi_nh_asid asid=a1|"
            r"smmu_iotlb_inv_asid_vmid IOTLB invalidate asid=a1 vmid=0)$",
            "order only: once the STE aborts, ours clears the CD (CFGI_CD) and then "
            "flushes the ASID, upstream flushes it first; the device reaches neither then"),
    Allowed("share_instance", "result", r"-ours: done / \+upstream: errno 22 ",
            "one paging domain on two instances: ours shares it (one page table, "
            "a tag per instance); upstream refuses a domain of another SMMU (EINVAL)"),
    Allowed("share_instance", "smmu1", r".",
            "follows from the shared domain: ours installs B's STE on the second "
            "instance, upstream does nothing"),
    Allowed("share_detach", "result", r"-ours: done / \+upstream: skipped",
            "follows from share_instance: upstream never attached B"),
    Allowed("share_detach", "smmu1", r".",
            "follows from share_instance: ours switches B back to blocked"),
]


def reason(allowed, op, what, text):
    """Why the difference TEXT of WHAT in operation OP is intended, or None."""
    for a in allowed:
        if (a.op != "*" and op not in a.op.split("|")) or a.what not in ("*", what):
            continue
        if a.pattern.search(text):
            return a.reason
    return None
