# SPDX-License-Identifier: GPL-2.0-only
"""The benchmark: our driver and upstream's side by side (run.py --bench).

For each driver it boots the two-instance topology twice, on the base guest
kernel (no KASAN, lockdep or kmemleak, which would dominate the figures):

  timed   selftests/bench/smmuv3_bench: IOMMU_IOAS_MAP+UNMAP pairs per second,
          block-device read MB/s through strict and flush-queue DMA domains,
          and our debugfs command counters per 4 KiB unmap;
  traced  the same program's count phase only, with QEMU tracing
          smmuv3_cmdq_opcode (every command the SMMU model consumes),
          memory_region_ops_write and pci_cfg_read.

QEMU's SMMUv3 trace events do not say which instance they come from, so the
trace is read like this: the SMMU consumes commands inside the MMIO write
that moves CMDQ_PROD, under the big QEMU lock, so each smmuv3_cmdq_opcode
belongs to the SMMU whose registers were written last
(memory_region_ops_write gives the absolute address: the instance is its
128 KiB-aligned base).  The counted unmaps lie between two reads of edu A's
configuration space at 0xf8 and 0xfc (pci_cfg_read).

Then, for a Debian user deciding whether to replace the driver they have,
the newest stock Debian kernel of STOCK_SERIES (no iommufd) boots on the same
hardware with smmuv3.ko from the smmuv3-dkms package and with its built-in
arm-smmu-v3: smmuv3_bench's blk phase (read MB/s in strict and flush-queue
DMA domains) and the VFIO type1 selftest, which says how many IOMMU domains
type1 made for a container holding a device behind each instance (one VM).

Nothing here asserts a figure: a boot or the program failing fails the run,
the figures are printed (and written to bench.txt in the run's log dir).
"""

import os
import re

import run as harness
import topologies

DRIVERS = ("ours", "upstream")
TRACE_EVENTS = ("smmuv3_cmdq_opcode", "memory_region_ops_write", "pci_cfg_read")
SMMU_REGION = 0x20000   # two 64 KiB register pages

# "[pid@sec.usec:]event args" from QEMU's log trace backend.
TRACE_RE = re.compile(r"^(?:\d+@[\d.]+:)?(\w+) (.*)$")
OPS_WRITE_RE = re.compile(r"addr (0x[0-9a-f]+) .* name '([^']*)'")
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


def parse_trace(path, figures, keep):
    """Commands per counted unmap, per instance, from QEMU's trace log.

    Writes the SMMU lines of the counted window to KEEP.  Returns
    ({instance: {opcode: count}}, unmaps) or raises ValueError."""
    count = first(figures, "count")
    if not count:
        raise ValueError("the program printed no count line")
    unmaps = int(count["unmaps"])
    m = re.match(r"[0-9a-f]+:([0-9a-f]+):([0-9a-f]+)\.([0-9a-f])$", count["marker_bdf"])
    marker_dev = tuple(int(x, 16) for x in m.groups())
    start, end = int(count["marker_start"], 16), int(count["marker_end"], 16)
    per_inst = {}           # "SMMU@base" -> {opcode: n}, inside the window
    last = None
    state = "before"
    with open(path, errors="replace") as f, open(keep, "w") as window:
        for line in f:
            m = TRACE_RE.match(line.strip())
            if not m:
                continue
            ev, args = m.groups()
            if ev == "memory_region_ops_write":
                w = OPS_WRITE_RE.search(args)
                if w and "smmu" in w.group(2).lower():
                    last = "SMMU@%#x" % (int(w.group(1), 16) & ~(SMMU_REGION - 1))
            elif ev == "pci_cfg_read":
                c = CFG_READ_RE.match(args)
                if c and tuple(int(x, 16) for x in c.groups()[:3]) == marker_dev:
                    off = int(c.group(4), 16)
                    if off == start and state == "before":
                        state = "in"
                    elif off == end and state == "in":
                        state = "after"
            if state == "in" and (ev.startswith("smmuv3") or "smmu" in args):
                window.write(line)
            if ev == "smmuv3_cmdq_opcode" and state == "in":
                op = args.replace("<---", "").strip()
                d = per_inst.setdefault(last, {})
                d[op] = d.get(op, 0) + 1
    if state != "after":
        raise ValueError("markers not found in the trace (state %s)" % state)
    return per_inst, unmaps


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


def is_sync(op):
    return op.endswith("CMD_SYNC")


def report(res):
    """The side-by-side table, as a list of lines (markdown)."""
    lines = ["| | ours | upstream |", "|---|---|---|"]

    def row(label, fn):
        lines.append("| %s | %s |" % (label, " | ".join(fn(d) for d in DRIVERS)))

    def fig(d):
        return res.get(d, {}).get("figures", [])

    row("HWPTs for one IOAS with an edu behind each instance",
        lambda d: fmt(figure(fig(d), "hwpts", "count")))
    row("IOAS_MAP+UNMAP 4K pairs/s, one instance attached: median (range)",
        lambda d: fmt(figure(fig(d), "map_unmap_4k_one_instance", "pairs_per_s")))
    row("IOAS_MAP+UNMAP 4K pairs/s, both instances attached: median (range)",
        lambda d: fmt(figure(fig(d), "map_unmap_4k_two_instances", "pairs_per_s")))
    insts = sorted({kv["instance"] for d in DRIVERS for n, kv in fig(d) if n == "device"})
    for inst in insts:
        row("commands (no sync) per 4K unmap on %s, debugfs" % inst,
            lambda d: fmt(figure(fig(d), "unmap_debugfs", "cmds_per_unmap", instance=inst),
                          "%.2f"))
        row("CMD_SYNCs per 4K unmap on %s, debugfs" % inst,
            lambda d: fmt(figure(fig(d), "unmap_debugfs", "syncs_per_unmap", instance=inst),
                          "%.2f"))
    for inst in insts:
        def trace_fig(d, sync):
            t = res.get(d, {}).get("trace")
            if not t:
                return "-"
            ops, k = t
            o = ops.get(inst, {})
            n = sum(v for op, v in o.items() if is_sync(op) == sync)
            detail = ", ".join("%s %.2f" % (op.replace("SMMU_CMD_", ""), v / k)
                               for op, v in sorted(o.items()) if is_sync(op) == sync)
            return "%.2f" % (n / k) + (" (%s)" % detail if detail and not sync else "")
        row("commands (no sync) per 4K unmap on %s, QEMU trace" % inst,
            lambda d: trace_fig(d, False))
        row("CMD_SYNCs per 4K unmap on %s, QEMU trace" % inst, lambda d: trace_fig(d, True))
    disks = sorted({kv["instance"] for d in DRIVERS for n, kv in fig(d) if n == "blk_read"})
    for dom in ("DMA", "DMA-FQ"):
        for inst in disks:
            row("virtio-blk read MB/s (O_DIRECT, 256 KiB) behind %s, %s domain: median "
                "(range)" % (inst, dom),
                lambda d: fmt(figure(fig(d), "blk_read", "mb_per_s", domain=dom, instance=inst),
                              "%.1f"))
    return lines


TYPE1_DOMAINS_RE = re.compile(r"type1 made (\d+) domain\(s\) for A and B")
STOCK_DRIVERS = (("dkms", "smmuv3.ko (DKMS)"), ("builtin", "built-in arm-smmu-v3"))


def stock_bench(runner, prog):
    """The stock kernel with both drivers.  Returns the table's lines."""
    o = runner.o
    r = runner.results
    series = topologies.STOCK_SERIES[-1]
    log = runner.log("build-stock.log")
    releases, kos, deb = runner.prepare_stock(log)
    rel = releases.get(series)
    if not rel:
        return ["stock %s: no headers (see %s)" % (series, harness.show(log))]
    selftests = [x for x in (runner.build_selftests() or []) if x[0] == "smmuv3_type1"]
    selftests.append(("smmuv3_bench", prog))
    args = ["--phase", "blk", "--seconds", str(o.bench_seconds), "--rounds", str(o.bench_rounds)]
    tags = runner.boot_stock(series, rel, kos.get(rel), deb, selftests, log,
                             tests=["smmuv3_type1"], bench=args)
    res = {}
    for key, _ in STOCK_DRIVERS:
        tag = next((t for t in tags if ("-builtin" in t) == (key == "builtin")), None)
        if not tag:
            continue
        figures, skips, errors = parse_output(runner.bench_output.get(tag, []))
        for e in errors:
            r.add("FAIL", "%s/smmuv3_bench" % tag, e)
        if not figures:
            r.add("FAIL", "%s/smmuv3_bench" % tag, "no figures")
        elif not errors:
            r.add("PASS", "%s/smmuv3_bench" % tag)
        doms = None
        for line in runner.selftest_output.get((tag, "smmuv3_type1"), []):
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


def main(runner, topology):
    """Boot, collect, print.  Returns the process exit status."""
    o = runner.o
    r = runner.results
    topo = harness.TOPOLOGIES[topology]
    if not runner.kernel():
        print(r.summary())
        return 1
    module_dir = runner.build_module()
    selftests = runner.build_selftests()
    prog = os.path.join(runner.outdir("selftests"), "bench", "smmuv3_bench")
    if not module_dir or not selftests or not os.path.exists(prog):
        r.add("FAIL", "bench/build", "the module or the benchmark did not build")
        print(r.summary())
        return 1
    image = os.path.join(runner.kdir, "arch/arm64/boot/Image")
    res = {}
    for driver in (DRIVERS if o.bench_part in ("all", "drivers") else ()):
        drv, _ = runner.guest_modules(driver, module_dir)
        initrd = runner.initramfs("initramfs-bench-" + driver, driver_mods=drv,
                                  files=[("/bench/smmuv3_bench", prog)])
        res[driver] = {}
        for traced in (False, True):
            tag = "bench-%s%s" % (driver, "-trace" if traced else "")
            args = (["--phase", "count", "--unmaps", str(o.bench_unmaps)] if traced else
                    ["--seconds", str(o.bench_seconds), "--rounds", str(o.bench_rounds),
                     "--unmaps", str(o.bench_unmaps)])
            extra = ["smtest.mode=bench", "smtest.driver=" + driver,
                     "smtest.topology=" + topology, "smtest.instances=%d" % topo.instances,
                     "smtest.testtimeout=%d" % runner._testtimeout(),
                     "smtest.bench=" + ",".join(args)]
            tracefile = runner.log(tag + ".trace")
            runner.qemu_extra = []
            if traced:
                for ev in TRACE_EVENTS:
                    runner.qemu_extra += ["-trace", "enable=" + ev]
                runner.qemu_extra += ["-D", tracefile]
            harness.note("booting %s (%s, driver %s, %s kernel%s)" % (
                topology, topo.desc, driver, o.kernel, ", traced" if traced else ""))
            st, el, con, rs = runner.boot(tag, topo, image, initrd, extra, stream=o.verbose)
            runner.evaluate(tag, st, el, con, rs)
            figures, skips, errors = parse_output(runner.bench_output.get(tag, []))
            for s in skips:
                r.add("SKIP", "%s/%s" % (tag, s.split()[0]), s)
            for e in errors:
                r.add("FAIL", "%s/smmuv3_bench" % tag, e)
            if not figures:
                r.add("FAIL", "%s/smmuv3_bench" % tag, "no figures (see %s)" % harness.show(rs))
                continue
            res[driver].setdefault("figures", []).extend(
                f for f in figures if not traced or f[0] in ("device", "count"))
            if traced:
                try:
                    res[driver]["trace"] = parse_trace(tracefile, figures,
                                                       runner.log(tag + ".window"))
                    r.add("PASS", "%s/trace" % tag)
                except (OSError, ValueError, KeyError, AttributeError) as e:
                    r.add("FAIL", "%s/trace" % tag, "reading %s: %s" % (harness.show(tracefile), e))
                finally:
                    # Every MMIO write of the boot: keep only the counted window.
                    if os.path.exists(tracefile):
                        harness.note("%s: %.0f MB of trace read, the counted window kept in %s" % (
                            tag, os.path.getsize(tracefile) / 1e6,
                            harness.show(runner.log(tag + ".window"))))
                        os.unlink(tracefile)
            elif not errors:
                r.add("PASS", "%s/smmuv3_bench" % tag)
    runner.qemu_extra = []
    table = []
    if res:
        table += ["Benchmark: topology %s (%s), %s guest kernel, QEMU TCG, %d vCPUs" % (
            topology, topo.desc, o.kernel, 2), ""] + report(res)
    if o.bench_part in ("all", "stock"):
        table += [""] + stock_bench(runner, prog)
    with open(runner.log("bench.txt"), "w") as f:
        f.write("\n".join(table) + "\n")
    print("\n".join(table))
    harness.note("figures also in %s" % harness.show(runner.log("bench.txt")))
    summary = r.summary()
    with open(runner.log("summary.txt"), "w") as f:
        for st, name, reason in r.tests:
            f.write("%s %s%s\n" % (st, name, " : " + reason if reason else ""))
        f.write(summary + "\n")
    print(summary)
    return 1 if r.count("FAIL") else 0
