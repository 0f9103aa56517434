#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The differential oracle: our driver against upstream's on QEMU.

The same scripted scenario (selftests/smmuv3_scenario.c: bind, attach
paging, DMA, map, unmap, share across instances, nesting parent, replace,
vIOMMU, vdevice, nested bypass and abort, guest invalidation, replace
back, destroy, detach, unbind) runs once with smmuv3.ko and once with
arm_smmu_v3.ko on the acpi2-diff topology (qemu/topologies.py), with QEMU
tracing the SMMU model (TRACE_EVENTS).  The scenario brackets every
operation by two writes to edu A's configuration space (0xf0: begin,
0xf4: end with the operation's errno), which QEMU traces as pci_cfg_write;
what the SMMUs saw before the first marker is the "probe" operation.

For each operation and instance the trace is reduced to what a driver
means rather than where it put things:
  - register writes (smmuv3_write_mmio): the register's name and value,
    except for registers holding DMA addresses (queue and stream table
    bases: the fields other than the address are kept) and queue indexes
    (CMDQ_PROD, EVENTQ_CONS, ...: how many commands fit in one batch is
    the driver's business);
  - commands as QEMU decodes them (smmuv3_cmdq_opcode, its CFGI/TLBI
    events): the opcode and fields, ASIDs and VMIDs renamed to each
    driver's first-seen order (a1, a2 / v1, v2, per trace), CMD_SYNCs
    counted apart (ours overlaps them: their number differs by design);
  - what DMA of edu A met (translate success/abort/bypass, stage, event
    records), consecutive repeats folded.
Then the two sequences of each operation are compared.  A difference is a
failure unless it is in the reviewed list qemu/difforacle_allowed.py
(operation, instance, the differing line, and why it is intended).

    qemu/difforacle.py OURS.trace UPSTREAM.trace [--ops OURS.results]
    qemu/difforacle.py --self-test

run.py --topology diff boots both drivers and reports diff/OPERATION
(PASS/FAIL lines); with SMMUV3_DIFF_UPSTREAM=RUNDIR (a run's log directory,
as the chroot sees it: /cache/logs/...) it boots only ours and reuses
upstream's trace from that run.
"""

import argparse
import difflib
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import difforacle_allowed  # noqa: E402

TOPOLOGY = "acpi2-diff"
DIFF = "diff"               # run.py --topology diff
DIFF_DESC = ("the differential oracle: acpi2-diff booted with each driver, QEMU tracing "
             "the SMMUs, selftest smmuv3_scenario; diff/OPERATION per operation")
DRIVERS = ("ours", "upstream")
TRACE_EVENTS = ("smmuv3_write_mmio", "smmuv3_cmdq_opcode", "smmuv3_cmdq_cfgi_*",
                "smmuv3_cmdq_tlbi_*", "smmuv3_range_inval", "smmuv3_cmdq_consume_error",
                "smmuv3_write_gerror", "smmuv3_record_event", "smmuv3_translate_success",
                "smmuv3_translate_abort", "smmuv3_translate_bypass", "smmuv3_decode_cd",
                "smmuv3_decode_cd_tt", "smmu_iotlb_inv_*", "smmu_configs_inv_sid_range",
                "memory_region_ops_write", "pci_cfg_write")
SMMU_REGION = 0x20000       # two 64 KiB register pages
MARK_BEGIN_OFF, MARK_END_OFF = 0xf0, 0xf4
MARK_BEGIN, MARK_END = 0x5c000000, 0x5e000000
ERR_SKIPPED = 0xfff

# SMMUv3 register offsets (IHI 0070, 6.2), within the instance's 128 KiB.
REGS = {
    0x20: "CR0", 0x28: "CR1", 0x2c: "CR2", 0x44: "GBPA", 0x48: "AGBPA",
    0x50: "IRQ_CTRL", 0x64: "GERRORN", 0x68: "GERROR_IRQ_CFG0", 0x6c: "GERROR_IRQ_CFG0_HI",
    0x70: "GERROR_IRQ_CFG1", 0x74: "GERROR_IRQ_CFG2",
    0x80: "STRTAB_BASE", 0x84: "STRTAB_BASE_HI", 0x88: "STRTAB_BASE_CFG",
    0x90: "CMDQ_BASE", 0x94: "CMDQ_BASE_HI", 0x98: "CMDQ_PROD", 0x9c: "CMDQ_CONS",
    0xa0: "EVENTQ_BASE", 0xa4: "EVENTQ_BASE_HI", 0xa8: "EVENTQ_PROD", 0xac: "EVENTQ_CONS",
    0xb0: "EVENTQ_IRQ_CFG0", 0xb4: "EVENTQ_IRQ_CFG0_HI", 0xb8: "EVENTQ_IRQ_CFG1",
    0xbc: "EVENTQ_IRQ_CFG2", 0xc0: "PRIQ_BASE", 0xc4: "PRIQ_BASE_HI", 0xc8: "PRIQ_PROD",
    0xcc: "PRIQ_CONS", 0xd0: "PRIQ_IRQ_CFG0", 0xd4: "PRIQ_IRQ_CFG0_HI", 0xd8: "PRIQ_IRQ_CFG1",
    0xdc: "PRIQ_IRQ_CFG2",
    0x100a8: "EVENTQ_PROD", 0x100ac: "EVENTQ_CONS", 0x100c8: "PRIQ_PROD", 0x100cc: "PRIQ_CONS",
}
# Registers whose value is a queue index: not compared (batching).
INDEX_REGS = {"CMDQ_PROD", "CMDQ_CONS", "EVENTQ_PROD", "EVENTQ_CONS", "PRIQ_PROD",
              "PRIQ_CONS", "GERRORN"}
# Registers holding a DMA address: only the bits outside ADDR are kept
# (queue bases: RA bit 62, LOG2SIZE 4:0; the IRQ CFG0 doorbells: none).
ADDR_MASK = {
    "STRTAB_BASE": 0x0000ffffffffffc0, "CMDQ_BASE": 0x0000ffffffffffe0,
    "EVENTQ_BASE": 0x0000ffffffffffe0, "PRIQ_BASE": 0x0000ffffffffffe0,
    "GERROR_IRQ_CFG0": 0x0000fffffffffffc, "EVENTQ_IRQ_CFG0": 0x0000fffffffffffc,
    "PRIQ_IRQ_CFG0": 0x0000fffffffffffc,
}

TRACE_RE = re.compile(r"^(?:\d+@[\d.]+:)?(\w+) (.*)$")
OPS_RE = re.compile(r"addr (0x[0-9a-f]+) .* name '([^']*)'")
MMIO_RE = re.compile(r"addr: (0x[0-9a-f]+) val:(0x[0-9a-f]+) size: (0x[0-9a-f]+)")
CFG_WRITE_RE = re.compile(r"^(\S*) ([0-9a-f]+):([0-9a-f]+)\.([0-9a-f]) @(0x[0-9a-f]+) <- "
                          r"(0x[0-9a-f]+)")
SID_RE = re.compile(r"sid=(0x[0-9a-f]+)")
OP_LINE_RE = re.compile(r"^#\s+op (\d+) (\S+) ")


class Op:
    """One operation of one trace: per instance, the normalised lines."""

    def __init__(self, index, name):
        self.index = index
        self.name = name
        self.errno = None       # None: no end marker (the guest died)
        self.lines = {}         # instance label -> [str]
        self.syncs = {}         # instance label -> CMD_SYNC count

    def add(self, inst, line):
        self.lines.setdefault(inst, []).append(line)


class Tags:
    """ASIDs and VMIDs renamed in first-seen order (a1, a2, ... v1, ...)."""

    def __init__(self):
        self.map = {}

    def name(self, kind, value):
        key = (kind, value)
        if key not in self.map:
            self.map[key] = "%s%d" % (kind, sum(1 for k in self.map if k[0] == kind) + 1)
        return self.map[key]

    def sub(self, text):
        def rep(m):
            v = int(m.group(2))
            if v <= 0:      # -1: none given; 0: no VMID (stage 1 only)
                return m.group(0)
            return "%s=%s" % (m.group(1), self.name(m.group(1)[0], v))
        return re.sub(r"\b(asid|vmid)=(-?\d+)", rep, text)


def reg_line(off, val):
    name = REGS.get(off) or "+%#x" % off
    if name in INDEX_REGS:
        return None
    if name in ADDR_MASK:
        return "write %s %#x (address not compared)" % (name, val & ~ADDR_MASK[name])
    if name.endswith("_HI"):
        return None
    return "write %s %#x" % (name, val)


def parse(path):
    """(ops, instances seen): ops[0] is "probe" (before the first marker)."""
    ops = [Op(-1, "probe")]
    cur = ops[0]
    tags = Tags()
    last = None             # the SMMU instance written last (commands are its)
    tail = None             # after an end marker: the next operation's, or the shutdown
    marker_sid = None
    with open(path, errors="replace") as f:
        for raw in f:
            m = TRACE_RE.match(raw.strip())
            if not m:
                continue
            ev, args = m.groups()
            if ev == "memory_region_ops_write":
                w = OPS_RE.search(args)
                if w and "smmu" in w.group(2).lower():
                    last = "SMMU@%#x" % (int(w.group(1), 16) & ~(SMMU_REGION - 1))
                continue
            if ev == "pci_cfg_write":
                c = CFG_WRITE_RE.match(args)
                if not c:
                    continue
                off, val = int(c.group(5), 16), int(c.group(6), 16)
                if off == MARK_BEGIN_OFF and val & 0xff000000 == MARK_BEGIN:
                    # What came after the previous operation's end marker
                    # (deferred work it left) is still that operation's.
                    if tail is not None:
                        for k, v in tail.lines.items():
                            ops[-1].lines.setdefault(k, []).extend(v)
                        for k, n in tail.syncs.items():
                            ops[-1].syncs[k] = ops[-1].syncs.get(k, 0) + n
                        tail = None
                    cur = Op(val & 0xfff, "op%d" % (val & 0xfff))
                    ops.append(cur)
                    bus, slot, fn = int(c.group(2), 16), int(c.group(3)), int(c.group(4), 16)
                    marker_sid = bus << 8 | slot << 3 | fn
                elif off == MARK_END_OFF and val & 0xff000000 == MARK_END:
                    if cur.index == (val >> 12) & 0xfff:
                        cur.errno = val & 0xfff
                        tail = cur = Op(-2, "shutdown")
                continue
            inst = last or "SMMU@?"
            if ev == "smmuv3_write_mmio":
                w = MMIO_RE.search(args)
                if w:
                    line = reg_line(int(w.group(1), 16), int(w.group(2), 16))
                    if line:
                        cur.add(inst, line)
            elif ev == "smmuv3_cmdq_opcode":
                op = args.replace("<---", "").strip()
                if op == "SMMU_CMD_SYNC":
                    cur.syncs[inst] = cur.syncs.get(inst, 0) + 1
                else:
                    cur.add(inst, "cmd " + op)
            elif ev.startswith(("smmuv3_cmdq_cfgi", "smmuv3_cmdq_tlbi", "smmuv3_range_inval",
                                "smmu_iotlb_inv", "smmu_configs_inv", "smmuv3_cmdq_consume_e",
                                "smmuv3_write_gerror")):
                cur.add(inst, "%s %s" % (ev, tags.sub(args.strip())))
            elif ev.startswith(("smmuv3_translate", "smmuv3_record_event", "smmuv3_decode_cd")):
                s = SID_RE.search(args)
                if marker_sid is None or cur.index < 0 or (
                        s and int(s.group(1), 16) != marker_sid):
                    continue    # not edu A's DMA in an operation
                # The DMA's path, without addresses (IOVAs are the scenario's,
                # but the physical pages are each boot's own).
                text = re.sub(r"translated=0x[0-9a-f]+ ?|ttb:0x[0-9a-f]+ ?", "", args)
                line = "dma %s %s" % (ev, tags.sub(text.strip()))
                lines = cur.lines.get("dma", [])
                if not lines or lines[-1] != line:     # repeats folded
                    cur.add("dma", line)
    if tail is not None:    # after the last operation: the guest's poweroff
        ops.append(tail)
    return ops


def op_names(results_lines):
    """{index: name} from the scenario's "# op INDEX NAME ..." lines."""
    out = {}
    for line in results_lines:
        m = OP_LINE_RE.match(line.strip())
        if m:
            out[int(m.group(1))] = m.group(2)
    return out


def instances(ops):
    """Instance labels in first-seen order, renamed smmu0, smmu1 (by base)."""
    seen = sorted({i for op in ops for i in op.lines if i.startswith("SMMU@")} |
                  {i for op in ops for i in op.syncs if i.startswith("SMMU@")})
    return {i: "smmu%d" % n for n, i in enumerate(seen)}


def compare(ours, upstream, names, allowed):
    """[(operation name, status, [message lines])] for every operation."""
    out = []
    by_idx = {}
    for drv, ops in (("ours", ours), ("upstream", upstream)):
        for op in ops:
            by_idx.setdefault(op.index, {})[drv] = op
    ren = {"ours": instances(ours), "upstream": instances(upstream)}
    for idx in sorted(by_idx, key=lambda i: (i == -2, i)):   # the shutdown last
        pair = by_idx[idx]
        name = {-1: "probe", -2: "shutdown"}.get(idx) or names.get(idx, "op%d" % idx)
        msgs, accepted = [], []
        o, u = pair.get("ours"), pair.get("upstream")
        if o is None or u is None:
            msgs.append("only %s's trace has this operation" % ("ours" if o else "upstream"))
            out.append((name, "FAIL", msgs))
            continue
        if idx >= 0 and (o.errno is None or u.errno is None):
            msgs.append("no end marker in %s's trace (the guest died in it?)" %
                        " and ".join(d for d, x in (("ours", o), ("upstream", u))
                                     if x.errno is None))
        diffs = []
        if o.errno != u.errno:
            diffs.append(("result", "-ours: %s" % errtext(o.errno),
                          "+upstream: %s" % errtext(u.errno)))
        keys = sorted({ren["ours"].get(k, k) for k in o.lines} |
                      {ren["upstream"].get(k, k) for k in u.lines})
        for key in keys:
            ol = _canon(name, _lines(o, ren["ours"], key))
            ul = _canon(name, _lines(u, ren["upstream"], key))
            if ol == ul:
                continue
            for d in difflib.unified_diff(ol, ul, lineterm="", n=0):
                if d.startswith(("---", "+++", "@@")):
                    continue
                diffs.append((key, d, None))
        for key, a, b in diffs:
            text = a if b is None else "%s / %s" % (a, b)   # what the allowed list matches
            shown = text if b is not None else "%s only: %s" % (
                "ours" if a.startswith("-") else "upstream", a[1:])
            why = difforacle_allowed.reason(allowed, name, key, text)
            if why:
                accepted.append("accepted %s: %s  [%s]" % (key, shown, why))
            else:
                msgs.append("%s: %s" % (key, shown))
        syncs = "CMD_SYNC ours %s, upstream %s" % (
            _syncs(o, ren["ours"]), _syncs(u, ren["upstream"]))
        if msgs:
            out.append((name, "FAIL", msgs + accepted + [syncs]))
        else:
            out.append((name, "PASS", accepted + [syncs]))
    return out


def _canon(name, lines):
    """The probe's commands are for devices in the order they probe, which
    the deferred-probe worker decides, not the driver: there, register
    writes stay in order and the commands are compared as a sorted list
    (each device's CFGI_STE pair kept together with its STE's stream ID)."""
    if name != "probe":
        return lines
    regs = [x for x in lines if x.startswith("write ")]
    groups, cur = [], []
    for x in lines:
        if x.startswith("write "):
            continue
        if x.startswith("cmd ") and cur:
            groups.append(cur)
            cur = []
        cur.append(x)
    if cur:
        groups.append(cur)
    return regs + [y for g in sorted(groups) for y in g]


def _lines(op, ren, key):
    for k, v in op.lines.items():
        if ren.get(k, k) == key:
            return v
    return []


def _syncs(op, ren):
    return ", ".join("%s %d" % (ren.get(k, k), n) for k, n in sorted(op.syncs.items())) or "0"


def errtext(e):
    if e is None:
        return "no end marker"
    if e == ERR_SKIPPED:
        return "skipped (a step it needs failed)"
    if e == 0:
        return "done"
    return "errno %d (%s)" % (e, os.strerror(e))


def report(results, prefix="diff"):
    """Print the comparison; returns the number of failed operations."""
    failed = 0
    for name, st, msgs in results:
        print("%s %s/%s" % (st, prefix, name))
        for m in msgs:
            print("    " + m)
        failed += st == "FAIL"
    return failed


# -- the harness's boots ----------------------------------------------------------


def run_diff(runner):
    """run.py --topology diff: boot acpi2-diff with each driver, traced, and
    compare.  Results: DIFF-DRIVER/... for each boot, diff/OPERATION."""
    import boot as guest
    import builds
    import pipeline
    import spec
    from hostenv import note, show
    s = runner.s
    r = runner.results
    o = s.o
    bad = self_test(quiet=True)
    r.add("FAIL" if bad else "PASS", DIFF + "/self-test",
          "%d check(s) of the differ on its samples failed" % bad if bad else "")
    k = runner.kernel(o.kernel)
    if not k:
        r.add("SKIP", DIFF, "no kernel")
        return
    image = k.image
    selftests = runner.build_selftests(k) or []
    if not any(n == "smmuv3_scenario" for n, _ in selftests):
        r.add("FAIL", DIFF, "selftests/smmuv3_scenario did not build")
        return
    traces, names = {}, {}
    for drv in DRIVERS:
        tag = s.tag("%s-%s" % (DIFF, drv), k.name)
        if drv == "upstream" and os.environ.get("SMMUV3_DIFF_UPSTREAM"):
            # Upstream's trace of an earlier run (same kernel and QEMU):
            # one boot instead of two while changing our driver.
            old = os.path.join(os.environ["SMMUV3_DIFF_UPSTREAM"], tag)
            traces[drv] = old + ".trace"
            with open(old + ".results", errors="replace") as f:
                names[drv] = op_names(f.read().splitlines())
            note("%s: the trace of %s (SMMUV3_DIFF_UPSTREAM)" % (tag, show(old)))
            continue
        module_dir = None
        if drv == "ours":
            module_dir = runner.build_module(k)
            if not module_dir:
                r.add("SKIP", tag, "smmuv3.ko did not build")
                continue
        dmods, _ = builds.guest_modules(k, drv, module_dir)
        initrd = guest.initramfs(s, tag + "-initramfs", driver_mods=dmods, selftests=selftests)
        trace = s.log(tag + ".trace")
        b = spec.diff_boot(tag, TOPOLOGY, drv, k.name, s.opts, qemu_extra=[
            a for ev in TRACE_EVENTS for a in ("-trace", "enable=" + ev)] + ["-D", trace])
        note("booting %s (%s)" % (tag, b.what))
        out = runner.report(pipeline.run_boot(s, b, image, initrd, stream=o.verbose))
        traces[drv] = trace
        names[drv] = op_names(out.selftests.get("smmuv3_scenario", []))
    if set(traces) != set(DRIVERS):
        r.add("SKIP", DIFF, "not both drivers booted")
        return
    try:
        ours, ups = parse(traces["ours"]), parse(traces["upstream"])
    except OSError as e:
        r.add("FAIL", DIFF, "reading the traces: %s" % e)
        return
    if len(ours) < 2 or len(ups) < 2:
        r.add("FAIL", DIFF, "no operation markers in the traces (%s)" % show(traces["ours"]))
        return
    nm = names.get("ours") or names.get("upstream") or {}
    res = compare(ours, ups, nm, difforacle_allowed.ALLOWED)
    with open(s.log("diff.txt"), "w") as f:
        for name, st, msgs in res:
            f.write("%s %s/%s\n" % (st, DIFF, name))
            for m in msgs:
                f.write("    %s\n" % m)
    for name, st, msgs in res:
        bad = [m for m in msgs if not m.startswith(("accepted", "CMD_SYNC"))]
        r.add(st, "%s/%s" % (DIFF, name), "; ".join(bad[:6]) +
              (" (+%d more, see diff.txt)" % (len(bad) - 6) if len(bad) > 6 else ""))
    note("differential oracle: %s" % show(s.log("diff.txt")))


# -- the self-test -----------------------------------------------------------------

SAMPLE_OURS = """\
memory_region_ops_write cpu 0 mr 0x1 addr 0x9050020 value 0x1 size 4 name 'smmuv3'
smmuv3_write_mmio addr: 0x20 val:0xd size: 0x4(0)
smmuv3_write_mmio addr: 0x80 val:0x4000000041234000 size: 0x8(0)
smmuv3_write_mmio addr: 0x98 val:0x3 size: 0x4(0)
smmuv3_cmdq_opcode <--- SMMU_CMD_CFGI_ALL
smmuv3_cmdq_opcode <--- SMMU_CMD_SYNC
pci_cfg_write edu 00:02.0 @0xf0 <- 0x5c000000
memory_region_ops_write cpu 0 mr 0x1 addr 0x9050098 value 0x1 size 4 name 'smmuv3'
smmuv3_cmdq_opcode <--- SMMU_CMD_CFGI_STE
smmuv3_cmdq_cfgi_ste streamid= 0x10
smmuv3_cmdq_opcode <--- SMMU_CMD_SYNC
smmuv3_cmdq_opcode <--- SMMU_CMD_TLBI_NH_ASID
smmuv3_cmdq_tlbi_nh_asid asid=7
smmuv3_cmdq_opcode <--- SMMU_CMD_SYNC
smmuv3_translate_success edu sid=0x10 iova=0x10000000 translated=0x4567000 perm=0x3 stage=1
smmuv3_translate_success edu sid=0x10 iova=0x10000000 translated=0x4567000 perm=0x3 stage=1
pci_cfg_write edu 00:02.0 @0xf4 <- 0x5e000000
pci_cfg_write edu 00:02.0 @0xf0 <- 0x5c000001
pci_cfg_write edu 00:02.0 @0xf4 <- 0x5e001000
"""
SAMPLE_UPSTREAM = """\
memory_region_ops_write cpu 0 mr 0x1 addr 0x9050020 value 0x1 size 4 name 'smmuv3'
smmuv3_write_mmio addr: 0x20 val:0xd size: 0x4(0)
smmuv3_write_mmio addr: 0x80 val:0x4000000047770000 size: 0x8(0)
smmuv3_write_mmio addr: 0x98 val:0x9 size: 0x4(0)
smmuv3_cmdq_opcode <--- SMMU_CMD_CFGI_ALL
smmuv3_cmdq_opcode <--- SMMU_CMD_SYNC
pci_cfg_write edu 00:02.0 @0xf0 <- 0x5c000000
memory_region_ops_write cpu 0 mr 0x1 addr 0x9050098 value 0x1 size 4 name 'smmuv3'
smmuv3_cmdq_opcode <--- SMMU_CMD_CFGI_STE
smmuv3_cmdq_cfgi_ste streamid= 0x10
smmuv3_cmdq_opcode <--- SMMU_CMD_TLBI_NH_ASID
smmuv3_cmdq_tlbi_nh_asid asid=1
smmuv3_cmdq_opcode <--- SMMU_CMD_SYNC
smmuv3_translate_success edu sid=0x10 iova=0x10000000 translated=0x9999000 perm=0x3 stage=1
pci_cfg_write edu 00:02.0 @0xf4 <- 0x5e000000
pci_cfg_write edu 00:02.0 @0xf0 <- 0x5c000001
pci_cfg_write edu 00:02.0 @0xf4 <- 0x5e001016
"""


def self_test(quiet=False):
    """The differ on the two samples above: they differ only in what is
    normalised (table address, CMDQ_PROD, the ASID's number, the number of
    CMD_SYNCs, the physical address of a translation) except operation 1's
    result, which must fail; with a CFGI_STE dropped, operation 0 must fail
    too.  Returns the number of failed checks."""
    import tempfile
    bad = 0
    with tempfile.TemporaryDirectory() as d:
        def write(name, text):
            p = os.path.join(d, name)
            with open(p, "w") as f:
                f.write(text)
            return p
        po, pu = write("o", SAMPLE_OURS), write("u", SAMPLE_UPSTREAM)
        names = {0: "attach", 1: "share"}
        res = {n: (st, m) for n, st, m in compare(parse(po), parse(pu), names, [])}
        want = {"probe": "PASS", "attach": "PASS", "share": "FAIL"}
        for n, st in want.items():
            got = res.get(n, ("missing", []))[0]
            if got != st:
                print("self-test: %s: expected %s, got %s: %s" % (n, st, got, res.get(n)))
                bad += 1
        if not any("errno 22" in m for m in res.get("share", ("", []))[1]):
            print("self-test: share: expected the errno in the message: %s" % (res.get("share"),))
            bad += 1
        # The same difference, accepted by an allowed-list entry.
        allow = [difforacle_allowed.Allowed("share", "result", r"upstream: errno 22",
                                            "test reason")]
        res = {n: (st, m) for n, st, m in compare(parse(po), parse(pu), names, allow)}
        if res["share"][0] != "PASS":
            print("self-test: share with an allowed entry: expected PASS, got %s" %
                  (res["share"],))
            bad += 1
        # A dropped CFGI_STE is a difference.
        broken = SAMPLE_OURS.replace("smmuv3_cmdq_opcode <--- SMMU_CMD_CFGI_STE\n"
                                     "smmuv3_cmdq_cfgi_ste streamid= 0x10\n", "")
        res = {n: (st, m) for n, st, m in compare(parse(write("b", broken)), parse(pu),
                                                  names, [])}
        if res["attach"][0] != "FAIL" or not any("CFGI_STE" in m for m in res["attach"][1]):
            print("self-test: dropped CFGI_STE: expected a FAIL naming it, got %s" %
                  (res["attach"],))
            bad += 1
        # A changed STE: DMA now bypasses.
        broken = SAMPLE_OURS.replace("smmuv3_translate_success edu sid=0x10 iova=0x10000000 "
                                     "translated=0x4567000 perm=0x3 stage=1",
                                     "smmuv3_translate_bypass edu sid=0x10 STE bypass "
                                     "iova:0x10000000 is_write=1")
        res = {n: (st, m) for n, st, m in compare(parse(write("c", broken)), parse(pu),
                                                  names, [])}
        if res["attach"][0] != "FAIL":
            print("self-test: DMA bypassing: expected a FAIL, got %s" % (res["attach"],))
            bad += 1
    if not quiet or bad:
        print("self-test: %s" % ("ok" if not bad else "%d failed" % bad))
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("traces", nargs="*", metavar="TRACE",
                    help="ours' and upstream's QEMU traces")
    ap.add_argument("--results", metavar="FILE",
                    help="a boot's .results file (the scenario's operation names)")
    ap.add_argument("--self-test", action="store_true", help="the differ on built-in samples")
    o = ap.parse_args()
    if o.self_test:
        return 1 if self_test() else 0
    if len(o.traces) != 2:
        ap.error("two traces: ours, upstream")
    names = {}
    if o.results:
        with open(o.results, errors="replace") as f:
            names = op_names(f.read().splitlines())
    res = compare(parse(o.traces[0]), parse(o.traces[1]), names, difforacle_allowed.ALLOWED)
    return 1 if report(res) else 0


if __name__ == "__main__":
    sys.exit(main())
