# SPDX-License-Identifier: GPL-2.0-only
"""The benchmark: our driver and upstream's side by side (run.py --bench).

A grid of boots, on the base guest kernel (no KASAN, lockdep or kmemleak,
which would dominate the figures):

  timed   selftests/bench/smmuv3_bench --phase map: IOMMU_IOAS_MAP+UNMAP
          pairs per second of one 4 KiB page at a fixed IOVA, with one edu
          attached to the IOAS, with an edu behind every instance attached,
          and with the one edu again once the others were detached (what a
          VM gets after its other devices came and went); the time of a map
          and of an unmap apart;
          for each topology (acpi2; acpi8 in the first setup unless
          --bench-acpi8 says otherwise), each guest CPU model
          (--bench-cpus) and iommu.passthrough=1 or not
          (--bench-passthrough), --bench-boots boots of each driver,
          alternated boot by boot (ours first in even boots, upstream in
          odd ones), so that a slow spell of the host hits both;
  traced  once per driver, on acpi2 in the first setup: the count phase
          only (unmaps with one edu, with an edu behind every instance, and
          with the one edu again after the others left), with QEMU tracing
          the SMMU model's events (smmuv3_*, smmu_iotlb*),
          memory_region_ops_read/write and pci_cfg_read;
  icount  once per driver, on acpi2 in the first setup (--bench-icount):
          the timed phase on QEMU's instruction clock (-icount shift=0: the
          guest's clock advances 1 ns per guest instruction, both vCPUs in
          one thread), ICOUNT_ROUNDS rounds: the guest's own work (the
          drivers' code and everything around it), repeatable to a few
          instructions and blind to the host's load, to QEMU's device
          models and to TCG's own costs.  These boots also time the one edu
          after a second HWPT's life on the IOAS (smmuv3_bench
          --second-hwpt): once any second HWPT has lived on the IOAS, every
          later map and unmap is shorter (which kernel state persists is
          not known: docs/benchmarks.md), and in the rows
          "after the others came and went" only upstream had one (for the
          device behind the other instance; ours attaches it to A's
          domain); this row gives both drivers the same history.

The rounds of all boots of a row are pooled: the table gives their median,
their range and the ratio of the medians, ours / upstream; the quiet
rounds' figure of each driver (QUIET_Q below) and its ratio; and how many
rounds were slowed.

A boot that meets the iommu core's ACPI probe race (a device without an
IOMMU group after the settle time: /init's iommu-group checks; with upstream
also the core's "late IOMMU probe at driver bind" WARN, and a poweroff that
hangs on the disk left without a group) is reported
(SKIP .../probe-race), its figures are dropped and another boot replaces it
(at most --bench-boots more per row and driver).

QEMU's SMMUv3 trace events do not say which instance they come from, so the
trace is read like this: the SMMU consumes commands inside the MMIO write
that moves CMDQ_PROD, under the big QEMU lock, so each smmuv3_cmdq_opcode
belongs to the SMMU whose registers were written last
(memory_region_ops_write gives the absolute address: the instance is its
128 KiB-aligned base).  Each window of counted unmaps lies between two reads
of edu A's configuration space (pci_cfg_read), at offsets the program names
in its "bench count window=..." lines.  The model's IOTLB events outside
command consumption (lookups and inserts on a device's DMA) are charged to
no instance ("any").  Besides the windows' lines (NAME.window), every SMMU
model event of the boot is kept (NAME.smmu, with the markers): what the
IOTLBs held when a window began can be read there.

Then, for a Debian user deciding whether to replace the driver they have,
the newest stock Debian kernel of STOCK_SERIES (no iommufd) boots on the same
hardware with smmuv3.ko from the smmuv3-dkms package and with its built-in
arm-smmu-v3: smmuv3_bench's blk phase (read MB/s in strict and flush-queue
DMA domains) and the VFIO type1 selftest, which says how many IOMMU domains
type1 made for a container holding a device behind each instance (one VM).

Then the kernel's own streaming DMA benchmark (CONFIG_DMA_MAP_BENCHMARK,
tools/dma/dma_map_benchmark of the guest kernel's source, driven by
selftests/bench/dma_map_bench.sh): --bench-boots boots per driver on acpi2,
alternated, the edu behind the first instance bound to the benchmark's
driver in a strict (DMA) and a flush-queue (DMA-FQ) group, single mode (one
page per map) and scatter-gather mode (8 one-page entries), 1 and 2 kernel
threads: the average map and unmap latencies, the median of the boots.

Then the page-table memory one IOAS costs with its devices behind 1, 2,
4 and 8 instances (qemu/bench_ptmem.py).

Nothing here asserts a figure: a boot or the program failing fails the run,
the figures are printed (and written to bench.txt in the run's log dir).
"""

import math
import os
import re
import subprocess
import time

import bench_ptmem
import boot as guest
import builds
import pipeline
import results
import spec
import stockboot
import topologies
from hostenv import in_chroot, note, show

DRIVERS = ("ours", "upstream")
TRACE_EVENTS = ("smmuv3_*", "smmu_iotlb*", "smmu_config*", "memory_region_ops_read",
                "memory_region_ops_write", "pci_cfg_read")
# /init's checks that fail when a boot meets the probe race (README).
RACE_CHECK_RE = re.compile(r"/(iommu-group/[^/]+|iommu-instances-used)$")
# The iommu core's dev_WARN when the race lets a driver bind first: upstream's
# insmod then probes a bound device (smmuv3 holds the device locks instead).
RACE_WARN_RE = re.compile(r"^WARNING: drivers/iommu/iommu\.c:\d+ at __iommu_probe_device\+")
RACE_WARN_TEXT = "late IOMMU probe at driver bind"
SMMU_REGION = 0x20000   # two 64 KiB register pages

# "[pid@sec.usec:]event args" from QEMU's log trace backend.
TRACE_RE = re.compile(r"^(?:\d+@[\d.]+:)?(\w+) (.*)$")
OPS_RE = re.compile(r"addr (0x[0-9a-f]+) .* name '([^']*)'")
RANGE_INVAL_RE = re.compile(r"asid=(-?\d+) addr=0x[0-9a-f]+ (.*)$")
CFG_READ_RE = re.compile(r"^\S* ([0-9a-f]+):([0-9a-f]+)\.([0-9a-f]) @(0x[0-9a-f]+) ")


def parse_output(lines):
    """The program's "bench NAME k=v ..." lines: [(name, {k: v})], skips, errors."""
    figures, skips, errors = [], [], []
    for line in lines:
        if line.startswith("bench "):
            parts = line.split()
            kv = dict(p.split("=", 1) for p in parts[2:] if "=" in p)
            if "instance" in kv:
                kv["instance"] = inst_label(kv["instance"])
            figures.append((parts[1], kv))
        elif line.startswith("bench-skip "):
            skips.append(line[len("bench-skip "):])
        elif line.startswith("# error: "):
            errors.append(line[len("# error: "):])
    return figures, skips, errors


def inst_label(name):
    """A driver-neutral name for an instance: its register base.  Ours is
    called smmuv3.c000000, upstream's smmu3.0x000000000c000000."""
    m = re.search(r"\.(?:0x)?([0-9a-f]+)$", name)
    return "SMMU@%#x" % int(m.group(1), 16) if m else name


def first(figures, name):
    return next((kv for n, kv in figures if n == name), None)


# Events of the model's TLB and configuration cache, counted by name and
# fields (address and ASID left out) in each window.
MODEL_EVENTS = ("smmuv3_range_inval", "smmu_iotlb_inv_iova", "smmu_iotlb_inv_asid",
                "smmu_iotlb_inv_asid_vmid", "smmu_iotlb_inv_all", "smmu_iotlb_inv_vmid",
                "smmu_iotlb_inv_vmid_s1")
# Events on a device's DMA, not inside a command: counted by name only.
DMA_EVENTS = ("smmu_iotlb_lookup_hit", "smmu_iotlb_lookup_miss", "smmu_iotlb_insert",
              "smmuv3_config_cache_hit", "smmuv3_config_cache_miss")
ANY_INST = "any"


def parse_trace(path, figures, keep, keep_smmu=None):
    """What each instance did per counted unmap, in each window, from QEMU's
    trace log.

    Writes the SMMU lines of the counted windows to KEEP and every SMMU model
    event of the boot (with the marker reads) to KEEP_SMMU.  Returns
    ({window: ({instance: {what: count}}, unmaps)}, [windows in order]) or
    raises ValueError; WHAT is "cmd OPCODE", "mmio write +OFFSET",
    "mmio read +OFFSET" (the register's offset in the instance's 128 KiB),
    "event NAME ARGS" for the model's invalidation events (their fields, the
    address and ASID left out), or "dma NAME" for its lookups and inserts
    (instance "any")."""
    windows = {}            # (start, end) offsets -> name
    order, unmaps = [], {}
    marker_dev = None
    for n, kv in figures:
        if n != "count":
            continue
        name = kv.get("window", "all")
        m = re.match(r"[0-9a-f]+:([0-9a-f]+):([0-9a-f]+)\.([0-9a-f])$", kv["marker_bdf"])
        marker_dev = tuple(int(x, 16) for x in m.groups())
        windows[int(kv["marker_start"], 16)] = (name, int(kv["marker_end"], 16))
        order.append(name)
        unmaps[name] = int(kv["unmaps"])
    if not windows:
        raise ValueError("the program printed no count line")
    per_win = {name: {} for name in order}     # window -> "SMMU@base" -> {what: n}
    last = None
    cur = None              # (name, end offset) of the open window
    done = set()

    def add(inst, what):
        d = per_win[cur[0]].setdefault(inst, {})
        d[what] = d.get(what, 0) + 1

    with open(path, errors="replace") as f, open(keep, "w") as window, \
            open(keep_smmu or os.devnull, "w") as smmu:
        for line in f:
            m = TRACE_RE.match(line.strip())
            if not m:
                continue
            ev, args = m.groups()
            inst = None
            if ev in ("memory_region_ops_write", "memory_region_ops_read"):
                w = OPS_RE.search(args)
                if w and "smmu" in w.group(2).lower():
                    addr = int(w.group(1), 16)
                    inst = "SMMU@%#x" % (addr & ~(SMMU_REGION - 1))
                    if ev.endswith("write"):
                        last = inst
                    if cur:
                        add(inst, "mmio %s +%#x" % (ev.rsplit("_", 1)[1],
                                                    addr & (SMMU_REGION - 1)))
            elif ev == "pci_cfg_read":
                c = CFG_READ_RE.match(args)
                if c and tuple(int(x, 16) for x in c.groups()[:3]) == marker_dev:
                    off = int(c.group(4), 16)
                    if off in windows and not cur and windows[off][0] not in done:
                        cur = windows[off]
                        smmu.write(line)
                    elif cur and off == cur[1]:
                        done.add(cur[0])
                        cur = None
                        smmu.write(line)
            if ev.startswith("smmu"):
                smmu.write(line)
            if not cur:
                continue
            if ev.startswith("smmu") or inst:
                window.write(line)
            if ev == "smmuv3_cmdq_opcode":
                add(last, "cmd " + args.replace("<---", "").strip())
            elif ev in MODEL_EVENTS:
                # The fields, without the address and the ASID (each driver has its own).
                fields = re.sub(r"addr=0x[0-9a-f]+ ?|asid=-?\d+ ?", "", args).strip()
                add(last, "event %s %s" % (ev, fields))
            elif ev in DMA_EVENTS:
                add(ANY_INST, "dma " + ev)
    missing = [n for n in order if n not in done]
    if missing:
        raise ValueError("markers of window(s) %s not found in the trace" % ", ".join(missing))
    return {n: (per_win[n], unmaps[n]) for n in order}, order


def fmt(v, spec="%.0f"):
    """V, or "median (min-max)" for a figure measured in rounds."""
    if v is None:
        return "-"
    if isinstance(v, tuple):
        return (spec + " (" + spec + "-" + spec + ")") % v
    return spec % v


def figure(figures, name, key, **match):
    for n, kv in figures:
        if n == name and all(kv.get(k) == v for k, v in match.items()):
            if key not in kv:
                return None
            if key + "_min" in kv and key + "_max" in kv:
                return float(kv[key]), float(kv[key + "_min"]), float(kv[key + "_max"])
            return float(kv[key])
    return None


def rounds(figures, name, key):
    """Every round's value of figure NAME's KEY (its KEY_all list)."""
    kv = first(figures, name)
    if not kv or key + "_all" not in kv:
        return []
    return [float(v) for v in kv[key + "_all"].split("/") if v]


def median(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def pooled(v):
    """(median, min, max) of V, or None."""
    return (median(v), min(v), max(v)) if v else None


# The quiet rounds' figure: the 90th percentile of the rounds' rates (the
# same rank from the fast end of their microseconds).  The guest's timed
# thread is on its CPU all through every round (smmuv3_bench prints it), so
# a slow round lost its time where the guest's scheduler cannot see it (the
# host's other work, QEMU, interrupts); such rounds come in spells of
# seconds, in either driver's boots.  Interference only slows a round down,
# so the fast end of the rounds is the driver's own cost; the median says
# what a user of a busy machine gets.
QUIET_Q = 0.9
SLOWED = 0.85   # a round below 85 % of the quiet figure's speed is "slowed"


def quantile(v, q):
    """The nearest-rank Q quantile of V."""
    v = sorted(v)
    return v[max(0, min(len(v) - 1, int(math.ceil(q * len(v))) - 1))]


def quiet(v, higher):
    """(the quiet rounds' figure, how many rounds were slowed) of V."""
    if not v:
        return None, 0
    if higher:
        q = quantile(v, QUIET_Q)
        return q, sum(1 for x in v if x < SLOWED * q)
    q = -quantile([-x for x in v], QUIET_Q)   # the same rank from the fast end
    return q, sum(1 for x in v if x * SLOWED > q)


# The grid's rows: (label, figure, key, higher is better).
GRID_FIGURES = [
    ("IOAS_MAP+UNMAP pairs/s, 1 device attached", "map_unmap_4k_one_instance",
     "pairs_per_s", True),
    ("IOAS_MAP+UNMAP pairs/s, 1 device, after the others came and went",
     "map_unmap_4k_one_instance_after", "pairs_per_s", True),
    ("IOAS_MAP+UNMAP pairs/s, a device behind each instance attached",
     "map_unmap_4k_all_instances", "pairs_per_s", True),
    ("us per IOAS_MAP, 1 device", "map_unmap_split_one_instance", "map_us", False),
    ("us per IOAS_UNMAP, 1 device", "map_unmap_split_one_instance", "unmap_us", False),
    ("us per IOAS_MAP, 1 device, after the others came and went",
     "map_unmap_split_one_instance_after", "map_us", False),
    ("us per IOAS_UNMAP, 1 device, after the others came and went",
     "map_unmap_split_one_instance_after", "unmap_us", False),
    # --second-hwpt (the instruction clock's boots)
    ("IOAS_MAP+UNMAP pairs/s, 1 device, after the others came and went and a second "
     "HWPT's life on the IOAS", "map_unmap_4k_one_instance_hwpt", "pairs_per_s", True),
    ("us per IOAS_MAP, 1 device, after a second HWPT's life on the IOAS",
     "map_unmap_split_one_instance_hwpt", "map_us", False),
    ("us per IOAS_UNMAP, 1 device, after a second HWPT's life on the IOAS",
     "map_unmap_split_one_instance_hwpt", "unmap_us", False),
]


def grid_report(cells, boots):
    """The grid's table (markdown lines).  CELLS: {(topology, cpu,
    passthrough): {driver: [figures of each good boot]}}."""
    lines = ["| topology | guest CPU | passthrough | figure | ours: median (range) | "
             "upstream: median (range) | ours / upstream | ours: quiet rounds | "
             "upstream: quiet rounds | ours / upstream, quiet | rounds slowed (ours, "
             "upstream) |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for (topo, cpu, pt), res in cells.items():
        for label, name, key, higher in GRID_FIGURES:
            vals = {d: [x for f in res.get(d, []) for x in rounds(f, name, key)]
                    for d in DRIVERS}
            if not any(vals.values()):
                continue
            if name == "map_unmap_4k_all_instances":
                n = {kv.get("devices") for d in DRIVERS for f in res.get(d, [])
                     for nm, kv in f if nm == "hwpts"}
                label = "IOAS_MAP+UNMAP pairs/s, %s devices attached (one per instance)" % (
                    "/".join(sorted(x for x in n if x)) or "all")
            spec = "%.0f" if higher else "%.2f"
            cols = []
            for d in DRIVERS:
                p = pooled(vals[d])
                cols.append("%s, %d boots" % (fmt(p, spec), len(res.get(d, []))) if p else "-")
            o, u = pooled(vals["ours"]), pooled(vals["upstream"])
            ratio = qratio = "-"
            if o and u:
                # As a speed ratio either way: > 1 means ours is faster.
                ratio = "%.2f" % (o[0] / u[0] if higher else u[0] / o[0])
            (qo, so), (qu, su) = quiet(vals["ours"], higher), quiet(vals["upstream"], higher)
            if qo and qu:
                qratio = "%.2f" % (qo / qu if higher else qu / qo)
            slowed = "%s, %s" % tuple("%d of %d" % (n, len(vals[d]))
                                      for n, d in ((so, "ours"), (su, "upstream")))
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                topo, cpu, "on" if pt else "off", label, cols[0], cols[1], ratio,
                fmt(qo, spec), fmt(qu, spec), qratio, slowed))
    # The one device after the others came and went, against the fresh one.
    churn = []
    for (topo, cpu, pt), res in cells.items():
        cols = []
        for d in DRIVERS:
            q = [quiet([x for f in res.get(d, []) for x in rounds(f, name, "pairs_per_s")],
                       True)[0]
                 for name in ("map_unmap_4k_one_instance", "map_unmap_4k_one_instance_after")]
            cols.append("%s %s" % (d, "%.2f" % (q[1] / q[0]) if q[0] and q[1] else "-"))
        if any(not c.endswith(" -") for c in cols):
            churn.append("%s, -cpu %s, passthrough %s: %s" % (topo, cpu, "on" if pt else "off",
                                                               ", ".join(cols)))
    if churn:
        lines.append("")
        lines.append("1 device after the others came and went, quiet rounds' figure / the "
                     "fresh one's (above 1: faster after):")
        lines += ["- " + c for c in churn]
        lines += ["", "Not the same history: iommufd's IOAS, once a second HWPT has lived "
                  "on it, makes every later map and unmap shorter, in either driver.  "
                  "Upstream had one, for the device behind the other instance; ours "
                  "attached that device to A's domain and had none.  The instruction "
                  "clock's table (--bench-icount 1) gives both drivers that history; see "
                  "docs/benchmarks.md."]
    left = []
    for (topo, cpu, pt), res in cells.items():
        for f in res.get("ours", []):
            kv = first(f, "leftover_entries")
            if kv:
                left.append((topo, kv.get("entries"), kv.get("live_other"),
                             kv.get("named_other")))
    for topo in sorted({t for t, _, _, _ in left}):
        vals = sorted({(e, lv, nm) for t, e, lv, nm in left if t == topo})
        lines.append("")
        lines.append("%s, ours: A's domain after the others left (debugfs): %s" % (
            topo, "; ".join("%s entries, %s live and %s in all naming the others' instances"
                            % v for v in vals)))
    hw = []
    for (topo, cpu, pt), res in cells.items():
        for d in DRIVERS:
            for f in res.get(d, []):
                kv = first(f, "hwpts")
                if kv:
                    hw.append((topo, d, kv.get("count"), kv.get("devices")))
    seen = set()
    for topo, d, c, n in hw:
        if (topo, d) not in seen:
            seen.add((topo, d))
            lines.append("")
            lines.append("%s, %s: %s HWPT(s) for one IOAS with %s devices attached" % (
                topo, d, c, n))
    lines.append("")
    lines.append("Speed ratio: ours / upstream pairs per second, upstream / ours "
                 "microseconds; > 1: ours is faster.  %d boot(s) per driver and row "
                 "asked for.  Quiet rounds: the %d%% percentile of the rounds' rates "
                 "(for microseconds the same rank from the fast end); slowed: rounds "
                 "under %d%% of that speed, time lost outside the guest (see "
                 "qemu/bench.py)." % (boots, QUIET_Q * 100, SLOWED * 100))
    return lines


WINDOW_LABELS = {"one": "1 device", "all": "all devices", "one_after": "1 device again"}


def counts_report(traces):
    """Per 4 KiB unmap and instance, in each window, from the traced boots:
    {driver: ({window: (per_inst, k)}, [windows])}."""
    wins = []
    for d in DRIVERS:
        for w in traces.get(d, ({}, []))[1]:
            if w not in wins:
                wins.append(w)
    cols = ["%s: %s" % (d, WINDOW_LABELS.get(w, w)) for d in DRIVERS for w in wins]
    lines = ["| per 4 KiB IOAS_UNMAP | %s |" % " | ".join(cols),
             "|---|%s" % ("---|" * len(cols))]
    per = {(d, w): traces[d][0][w] for d in traces for w in traces[d][1]}
    insts = sorted({i for t in per.values() for i in t[0] if i},
                   key=lambda i: (i == ANY_INST, i))
    for inst in insts:
        whats = sorted({w for t in per.values() for w in t[0].get(inst, {})})
        for what in whats:
            vals = []
            for d in DRIVERS:
                for w in wins:
                    t = per.get((d, w))
                    vals.append("%.2f" % (t[0].get(inst, {}).get(what, 0) / t[1]) if t else "-")
            lines.append("| %s: %s | %s |" % (inst, what, " | ".join(vals)))
    return lines


TYPE1_DOMAINS_RE = re.compile(r"type1 made (\d+) domain\(s\) for A and B")
STOCK_DRIVERS = (("dkms", "smmuv3.ko (DKMS)"), ("builtin", "built-in arm-smmu-v3"))


def stock_bench(runner, k, prog):
    """The stock kernel with both drivers.  Returns the table's lines."""
    o = runner.s.o
    r = runner.results
    series = topologies.STOCK_SERIES[-1]
    log = runner.s.log("build-stock.log")
    releases, kos, deb = stockboot.prepare_stock(runner.s, r, log)
    rel = releases.get(series)
    if not rel:
        return ["stock %s: no headers (see %s)" % (series, show(log))]
    tests = topologies.STOCK_BENCH_TESTS
    selftests = [x for x in (runner.build_selftests(k) or []) if x[0] in tests]
    selftests.append(("smmuv3_bench", prog))
    args = ["--phase", "blk", "--seconds", str(o.bench_seconds), "--rounds", str(o.bench_rounds)]
    outs = stockboot.boot_stock(runner.s, r, pipeline.Queue(runner.s, runner.report), series,
                                rel, kos.get(rel), deb, selftests, log, tests=tests, bench=args)
    res = {}
    for key, _ in STOCK_DRIVERS:
        out = next((x for x in outs if x and ("-builtin" in x.boot.tag) == (key == "builtin")),
                   None)
        if not out:
            continue
        tag = out.boot.tag
        figures, skips, errors = parse_output(out.bench or [])
        for e in errors:
            r.add("FAIL", "%s/smmuv3_bench" % tag, e)
        if not figures:
            r.add("FAIL", "%s/smmuv3_bench" % tag, "no figures")
        elif not errors:
            r.add("PASS", "%s/smmuv3_bench" % tag)
        doms = None
        for line in out.selftests.get("smmuv3_type1", []):
            m = TYPE1_DOMAINS_RE.search(line)
            if m:
                doms = int(m.group(1))
        res[key] = {"figures": figures, "domains": doms}
    lines = ["Debian's stock %s kernel (no iommufd), acpi2 hardware, strict DMA by default" % rel,
             "", "| | %s |" % " | ".join(d for _, d in STOCK_DRIVERS),
             "|---|---|---|"]
    lines.append("| IOMMU domains VFIO type1 made for one container with an edu behind each "
                 "instance | %s |" % " | ".join(
                     fmt(res.get(k, {}).get("domains"), "%d") for k, _ in STOCK_DRIVERS))
    disks = sorted({kv["instance"] for k in res for n, kv in res[k]["figures"]
                    if n == "blk_read"})
    for dom in ("DMA", "DMA-FQ"):
        for inst in disks:
            lines.append("| virtio-blk read MB/s (O_DIRECT, 256 KiB) behind %s, %s domain: "
                         "median (range) | %s |" % (inst, dom, " | ".join(
                             fmt(figure(res.get(k, {}).get("figures", []), "blk_read",
                                        "mb_per_s", domain=dom, instance=inst), "%.1f")
                             for k, _ in STOCK_DRIVERS)))
    return lines


def _race_warning(test, console):
    """TEST is the kernel log's report of the probe race's late-probe WARN:
    a WARNING in __iommu_probe_device() right after the late-probe message
    (the function WARNs for other reasons too)."""
    if not (test[1].endswith("/kernel-log") and RACE_WARN_RE.search(test[2] or "")):
        return False
    lines = [line for line in results.console_lines(console) if line]
    return any(line == test[2] and RACE_WARN_TEXT in prev
               for prev, line in zip(lines, lines[1:]))


def bench_boot(runner, b, image, initrd):
    """The benchmark boot B (spec.bench_boot()) of kernel IMAGE (RUNNER:
    run.py's, its session and results).  Returns (figures, race):
    figures None when the boot failed (its failures are in runner.results)
    or met the probe race (RACE names the devices; nothing is added to the
    results but a SKIP)."""
    r = runner.results
    tag = b.tag
    prog = next((a.split("=", 1)[1] for a in b.cmdline if a.startswith("smtest.bench_prog=")),
                "smmuv3_bench")
    note("booting %s (%s)" % (b.topology, b.what))
    # Evaluated apart: a probe race is reported, not failed.
    out = pipeline.run_boot(runner.s, b, image, initrd, stream=runner.s.o.verbose)
    con, rs = out.console, out.results
    fails = [t for t in out.tests if t[0] == "FAIL"]
    race = [t[1] for t in fails if RACE_CHECK_RE.search(t[1]) or _race_warning(t, con)]
    # A device left without a group can hang the guest's poweroff (its
    # disk's DMA faults): part of the race when a group check failed too.
    if any(RACE_CHECK_RE.search(n) for n in race):
        race += [t[1] for t in fails if t[1].endswith("/boot") and results.POWEROFF_HUNG in t[2]]
    if race and len(race) == len(fails):
        r.add("SKIP", "%s/probe-race" % tag, "the boot met the probe race (%s): its figures "
              "are dropped" % ", ".join(n.split("/", 1)[1] for n in race))
        return None, race
    runner.report(out)
    figures, skips, errors = parse_output(out.bench or [])
    for sk in skips:
        r.add("SKIP", "%s/%s" % (tag, sk.split()[0]), sk)
    for e in errors:
        r.add("FAIL", "%s/%s" % (tag, prog), e)
    if not figures:
        r.add("FAIL", "%s/%s" % (tag, prog), "no figures (see %s)" % show(rs))
        return None, None
    if not errors and not fails:
        r.add("PASS", "%s/%s" % (tag, prog))
    return (figures if not errors and not fails else None), None


def grid(runner, topology, image, initrds):
    """The timed boots of kernel IMAGE with INITRDS {driver: initramfs}.  Returns the cells
    for grid_report()."""
    o = runner.s.o
    cpus = [c for c in o.bench_cpus.split(",") if c]
    pts = [{"on": True, "off": False}[p] for p in o.bench_passthrough.split(",") if p]
    setups = [(c, p) for p in pts for c in cpus]
    args = ["--phase", "map", "--seconds", str(o.bench_seconds),
            "--rounds", str(o.bench_rounds)]
    cells = {}
    for si, (cpu, pt) in enumerate(setups):
        topos = [topology]
        if topology == "acpi2" and (o.bench_acpi8 == "all" or
                                    (o.bench_acpi8 == "first" and si == 0)):
            topos.append("acpi8")
        for topo in topos:
            res = cells.setdefault((topo, cpu, pt), {d: [] for d in DRIVERS})
            tries = {d: 0 for d in DRIVERS}
            i = 0
            while True:
                todo = [d for d in DRIVERS if len(res[d]) < o.bench_boots and
                        tries[d] < 2 * o.bench_boots]
                if not todo:
                    break
                # Alternated: ours first in even rounds, upstream in odd ones.
                for d in (todo if i % 2 == 0 else todo[::-1]):
                    tries[d] += 1
                    tag = "bench-%s-%s-pt%s-%s-%d" % (topo, cpu, "on" if pt else "off", d,
                                                      tries[d])
                    b = spec.bench_boot(tag, topo, d, o.kernel, args, runner.s.opts, cpu=cpu,
                                        passthrough=pt)
                    figs, _ = bench_boot(runner, b, image, initrds[d])
                    if figs:
                        res[d].append(figs)
                i += 1
    return cells


def traced(runner, topology, image, initrds):
    """One traced boot per driver, of kernel IMAGE with INITRDS {driver: initramfs}.  Returns
    ({driver: (per_inst, unmaps)}, cpu, passthrough)."""
    o = runner.s.o
    r = runner.results
    out = {}
    args = ["--phase", "count", "--unmaps", str(o.bench_unmaps)]
    cpu = o.bench_cpus.split(",")[0]
    pt = o.bench_passthrough.split(",")[0]
    for d in DRIVERS:
        tag = "bench-%s-%s-trace" % (topology, d)
        tracefile = runner.s.log(tag + ".trace")
        trace = [a for ev in TRACE_EVENTS for a in ("-trace", "enable=" + ev)]
        b = spec.bench_boot(tag, topology, d, o.kernel, args, runner.s.opts, cpu=cpu,
                            passthrough={"on": True, "off": False}[pt],
                            qemu_extra=trace + ["-D", tracefile])
        figs, race = bench_boot(runner, b, image, initrds[d])
        try:
            if figs:
                out[d] = parse_trace(tracefile, figs, runner.s.log(tag + ".window"),
                                     runner.s.log(tag + ".smmu"))
                r.add("PASS", "%s/trace" % tag)
        except (OSError, ValueError, KeyError, AttributeError) as e:
            r.add("FAIL", "%s/trace" % tag, "reading %s: %s" % (show(tracefile), e))
        finally:
            # Every MMIO access of the boot: keep only the counted window.
            if os.path.exists(tracefile):
                note("%s: %.0f MB of trace read, the counted windows kept in %s, "
                     "the SMMU events of the boot in %s" % (
                         tag, os.path.getsize(tracefile) / 1e6,
                         show(runner.s.log(tag + ".window")), show(runner.s.log(tag + ".smmu"))))
                os.unlink(tracefile)
    return out, cpu, pt


ICOUNT_ROUNDS = 2       # the instruction clock repeats itself: two rounds show it
ICOUNT_ARGS = ("-icount", "shift=0")
# The instruction clock's comparisons: (label, figure, against figure).
ICOUNT_AGAINST = (
    ("after the others came and went / fresh", "map_unmap_4k_one_instance_after",
     "map_unmap_4k_one_instance"),
    ("after a second HWPT's life too / fresh", "map_unmap_4k_one_instance_hwpt",
     "map_unmap_4k_one_instance"),
)


def icounted(runner, topology, image, initrds):
    """The timed phase, with --second-hwpt, once per driver on the instruction clock, of
    kernel IMAGE with INITRDS {driver: initramfs}.  A boot that met the probe race is
    replaced once.  Returns ({driver: figures}, cpu, passthrough)."""
    o = runner.s.o
    out = {}
    args = ["--phase", "map", "--seconds", str(o.bench_seconds),
            "--rounds", str(ICOUNT_ROUNDS), "--second-hwpt"]
    cpu = o.bench_cpus.split(",")[0]
    pt = o.bench_passthrough.split(",")[0]
    for d in DRIVERS:
        for i in range(2):
            tag = "bench-%s-%s-icount%s" % (topology, d, "-%d" % (i + 1) if i else "")
            b = spec.bench_boot(tag, topology, d, o.kernel, args, runner.s.opts, cpu=cpu,
                                passthrough={"on": True, "off": False}[pt],
                                qemu_extra=ICOUNT_ARGS)
            figs, race = bench_boot(runner, b, image, initrds[d])
            if figs:
                out[d] = figs
            if not race:
                break
    return out, cpu, pt


def icount_report(res):
    """The instruction clock's table (markdown lines): each figure per driver (the
    median of its rounds; guest instructions per pair beside pairs/s), the speed ratio,
    and each driver's one-device figures after the others came and went, and after a
    second HWPT's life too, against the fresh one."""
    def med(d, name, key):
        v = rounds(res.get(d, []), name, key)
        return median(v) if v else None

    lines = ["| figure | ours | upstream | ours / upstream |", "|---|---|---|---|"]
    for label, name, key, higher in GRID_FIGURES:
        v = {d: med(d, name, key) for d in DRIVERS}
        if v["ours"] is None and v["upstream"] is None:
            continue
        if name == "map_unmap_4k_all_instances":
            label = "IOAS_MAP+UNMAP pairs/s, a device behind each instance attached"
        cols = [("{:,.0f} ({:,.0f} instructions/pair)".format(x, 1e9 / x) if higher
                 else "%.3f" % x) if x else "-" for x in (v["ours"], v["upstream"])]
        ratio = "-"
        if v["ours"] and v["upstream"]:
            ratio = "%.3f" % (v["ours"] / v["upstream"] if higher else
                              v["upstream"] / v["ours"])
        lines.append("| %s | %s | %s | %s |" % (label, cols[0], cols[1], ratio))
    lines.append("")
    for label, name, against in ICOUNT_AGAINST:
        cols = []
        for d in DRIVERS:
            a, f = med(d, name, "pairs_per_s"), med(d, against, "pairs_per_s")
            cols.append("%s %s" % (d, "%.3f" % (a / f) if a and f else "-"))
        lines.append("- 1 device %s, pairs/s: %s" % (label, ", ".join(cols)))
    hw = {d: (first(res.get(d, []), "hwpts") or {}).get("count") for d in DRIVERS}
    lines += ["", "HWPTs on the IOAS with every device attached: %s.  iommufd's IOAS, "
              "once a second HWPT has lived on it, makes every later map and unmap "
              "shorter in either driver; the last pairs/s row gives both drivers that "
              "history (an HWPT for A's device allocated and destroyed, no device "
              "attached to it), the row before it does so for upstream only." % ", ".join(
                  "%s %s" % (d, hw[d] or "?") for d in DRIVERS)]
    return lines


DMA_MAP_SECONDS = 2     # per dma_map_benchmark run
DMA_MAP_KEYS = (("map_us", "us per map"), ("unmap_us", "us per unmap"))


def dma_map_bench(runner, topology, image, initrds):
    """The kernel's DMA benchmark, --bench-boots boots per driver,
    alternated.  Returns {driver: [figures of each good boot]}."""
    o = runner.s.o
    out = {d: [] for d in DRIVERS}
    for i in range(o.bench_boots):
        for d in (DRIVERS if i % 2 == 0 else DRIVERS[::-1]):
            tag = "bench-dma-%s-%s-%d" % (topology, d, i + 1)
            b = spec.bench_boot(tag, topology, d, o.kernel, [str(DMA_MAP_SECONDS)],
                                runner.s.opts, prog="dma_map_bench.sh")
            figs, _ = bench_boot(runner, b, image, initrds[d])
            if figs:
                out[d].append(figs)
    return out


def dma_map_report(res, topology):
    """The table of dma_map_bench()'s figures (markdown lines)."""
    rows = []
    for d in DRIVERS:
        for f in res.get(d, []):
            for n, kv in f:
                key = (kv.get("domain"), kv.get("mode"), kv.get("granule"), kv.get("threads"))
                if n == "dma_map" and key not in rows:
                    rows.append(key)
    insts = sorted({kv.get("instance") for d in DRIVERS for f in res.get(d, [])
                    for n, kv in f if n == "dma_map"})
    lines = ["The kernel's dma_map_benchmark (tools/dma), %s, the edu behind %s, %d s per "
             "run; median (range) of the boots, ours %d and upstream %d boot(s)" % (
                 topology, "/".join(i for i in insts if i) or "?", DMA_MAP_SECONDS,
                 len(res.get("ours", [])), len(res.get("upstream", []))), "",
             "| group | mode | threads | %s |" % " | ".join(
                 "%s: %s" % (d, label) for _, label in DMA_MAP_KEYS for d in DRIVERS),
             "|---|---|---|%s" % ("---|" * (2 * len(DMA_MAP_KEYS)))]
    for dom, mode, gran, threads in rows:
        cols = []
        for key, _ in DMA_MAP_KEYS:
            for d in DRIVERS:
                v = [figure(f, "dma_map", key, domain=dom, mode=mode, granule=gran,
                            threads=threads) for f in res.get(d, [])]
                cols.append(fmt(pooled([x for x in v if x is not None]), "%.1f"))
        lines.append("| %s | %s, %s page(s) | %s | %s |" % (
            dom, "single" if mode == "single" else "scatter-gather", gran, threads,
            " | ".join(cols)))
    lines += ["", "A map or unmap of the benchmark's threads, in the kernel (no DMA by the "
              "device); strict: every unmap invalidates the IOTLB and waits; DMA-FQ: unmaps "
              "queued and invalidated in batches."]
    return lines


def qemu_version(runner):
    """QEMU's version, as "QEMU x.y.z", or None."""
    argv = [runner.s.o.qemu or "qemu-system-aarch64", "--version"]
    if not runner.s.host_qemu:
        argv = in_chroot(argv)
    try:
        out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             stdin=subprocess.DEVNULL, timeout=60).stdout.decode()
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"version (\S+)", out)
    return "QEMU " + m.group(1) if m else None


def main(runner, topology):
    """Boot, collect, print.  Returns the process exit status."""
    o = runner.s.o
    r = runner.results
    k = runner.kernel()
    if not k:
        print(r.summary())
        return 1
    module_dir = runner.build_module(k)
    selftests = runner.build_selftests(k)
    prog = os.path.join(builds.outdir(k, "selftests"), "bench", "smmuv3_bench")
    if not module_dir or not selftests or not os.path.exists(prog):
        r.add("FAIL", "bench/build", "the module or the benchmark did not build")
        print(r.summary())
        return 1
    table = []
    if o.bench_part in ("all", "drivers"):
        initrds = {}
        for driver in DRIVERS:
            drv, _ = builds.guest_modules(k, driver, module_dir)
            initrds[driver] = guest.initramfs(
                runner.s, "initramfs-bench-" + driver, driver_mods=drv,
                files=[("/bench/smmuv3_bench", prog)])
        cells = grid(runner, topology, k.image, initrds)
        counts, cpu, pt = (traced(runner, topology, k.image, initrds) if o.bench_trace
                           else ({}, None, None))
        t0 = time.time()
        icounts, icpu, ipt = (icounted(runner, topology, k.image, initrds) if o.bench_icount
                              else ({}, None, None))
        if o.bench_icount:
            note("the instruction clock's boots took %.0f s" % (time.time() - t0))
        qemu = qemu_version(runner)
        table += ["Benchmark: %s guest kernel, QEMU TCG%s, 2 vCPUs, %s guest memory, %s; "
                  "%g s x %d rounds per figure and boot" % (
                      o.kernel, " " + qemu if qemu else "", o.memory,
                      time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                      o.bench_seconds, o.bench_rounds), ""]
        table += grid_report(cells, o.bench_boots)
        if icounts:
            table += ["", "Instruction clock (-icount shift=0: 1 ns per guest instruction), "
                      "%s, -cpu %s, passthrough %s, one boot per driver, %d rounds of %g s "
                      "(median): the guest's own work, without QEMU's or the host's time (a us is "
                      "1,000 guest instructions)" % (
                          topology, icpu, ipt, ICOUNT_ROUNDS, o.bench_seconds), ""]
            table += icount_report(icounts)
        if counts:
            table += ["", "QEMU trace of %d 4 KiB unmaps per window, %s, -cpu %s, "
                      "passthrough %s (per unmap; 1 device, then an edu behind every "
                      "instance, then 1 device again after the others left):" % (
                          o.bench_unmaps, topology, cpu, pt), ""]
            table += counts_report(counts)
    if o.bench_part in ("all", "dma"):
        dmaprog = os.path.join(builds.outdir(k, "selftests"), "bench", "dma_map_benchmark")
        script = os.path.join(builds.outdir(k, "selftests"), "bench", "dma_map_bench.sh")
        if not os.path.exists(dmaprog) or not os.path.exists(script):
            r.add("FAIL", "bench/dma_map_benchmark", "tools/dma/dma_map_benchmark or its "
                  "script did not build (the %s kernel's source has none?)" % o.kernel)
        else:
            initrds = {}
            for driver in DRIVERS:
                drv, _ = builds.guest_modules(k, driver, module_dir)
                initrds[driver] = guest.initramfs(
                    runner.s, "initramfs-bench-dma-" + driver, driver_mods=drv,
                    files=[("/bench/dma_map_benchmark", dmaprog),
                           ("/bench/dma_map_bench.sh", script)])
            table += [""] + dma_map_report(dma_map_bench(runner, topology, k.image, initrds),
                                        topology)
    if o.bench_part in ("all", "ptmem"):
        ptprog = os.path.join(builds.outdir(k, "selftests"), "bench", bench_ptmem.PTMEM_PROG)
        table += [""] + bench_ptmem.run(runner, k, module_dir, ptprog, bench_boot,
                                        topology if o.topology else None)
    if o.bench_part in ("all", "stock"):
        table += [""] + stock_bench(runner, k, prog)
    with open(runner.s.log("bench.txt"), "w") as f:
        f.write("\n".join(table) + "\n")
    print("\n".join(table))
    note("figures also in %s" % show(runner.s.log("bench.txt")))
    print(r.write(runner.s.log("summary.txt")))
    return 1 if r.count("FAIL") else 0
