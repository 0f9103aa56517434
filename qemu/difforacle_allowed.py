# SPDX-License-Identifier: GPL-2.0-only
"""The differential oracle's reviewed list of intended differences between
smmuv3.ko and the upstream driver (qemu/difforacle.py).

Each entry: the operation (the scenario's name, or "probe"; "*" for any),
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
        if a.op not in ("*", op) or a.what not in ("*", what):
            continue
        if a.pattern.search(text):
            return a.reason
    return None
