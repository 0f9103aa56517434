#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Build what is missing and boot the smmuv3 test topologies under QEMU (TCG).

Examples (from the repo root; the Makefile wraps these):

    qemu/env.sh run python3 /src/qemu/run.py                 # all topologies
    qemu/env.sh run python3 /src/qemu/run.py --topology dt1 --driver upstream
    qemu/env.sh run python3 /src/qemu/run.py --check         # what `make check` runs
    qemu/run.py --qemu /usr/bin/qemu-system-aarch64 ...      # host QEMU, see README

Prints one line per test (PASS/FAIL/SKIP NAME [: reason]) and ends with
"N passed, N failed[, N skipped]"; exits 1 if anything failed.  Logs go to
$SMMUV3_CACHE/logs/RUN-ID/ (and $SMMUV3_CACHE/logs/latest):
TOPOLOGY.console (kernel log, ttyAMA0), TOPOLOGY.results (the guest's result
channel, /dev/hvc0), TOPOLOGY.qemu (QEMU's command line and messages),
build-*.log, static-*.log, summary.txt.

Python 3.9+, standard library only.  It runs either inside the chroot of
qemu/env.sh (the normal case: everything is local) or on the host, when the
user brings host tools (--qemu, --kdir): then whatever the host does not
provide is done in the chroot through qemu/env.sh.
"""

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the repo
sys.path.insert(0, HERE)
from hostenv import IN_CHROOT, show, note  # noqa: E402
from results import Results  # noqa: E402
from topologies import (TOPOLOGIES, KERNELS, CHECK_KERNELS, DEFAULT_TOPOLOGIES,  # noqa: E402
                        REPEAT_TOPOLOGIES, CHECK_REPEAT, CHECK_JOBS, STOCK, STOCK_DESC)
import spec  # noqa: E402
import boot as guest  # noqa: E402
import builds  # noqa: E402
from builds import BuildFailed  # noqa: E402
import pipeline  # noqa: E402
from session import Session  # noqa: E402
import stockboot  # noqa: E402
import difforacle  # noqa: E402
import static  # noqa: E402
import bench  # noqa: E402
import demo  # noqa: E402
import vmm  # noqa: E402

# The steps --topology names besides the topologies, run after every boot,
# in this order, one guest at a time: NAME -> (description, function of the
# Runner).  make check runs them all.
LAST_STEPS = {
    difforacle.DIFF: (difforacle.DIFF_DESC, difforacle.run_diff),
    vmm.STEP: (vmm.STEP_DESC, vmm.run_vmm),
}


class Runner:
    """One run's build cache and results sink: the guest kernels, their
    selftests and the background builds, each built once (qemu/builds.py)
    and kept, and RESULTS (a Results, or demo.Quiet), where every result
    goes.  S, the session (qemu/session.py), is where the builds run and
    log.  What a boot is comes from qemu/spec.py (Boot values), booting one
    from qemu/pipeline.py, judging it from qemu/results.py."""

    def __init__(self, s, results=None):
        self.s = s
        self.results = Results() if results is None else results
        self.kernels = {}       # kernel name -> its GuestKernel, None if it failed (kernel())
        self.selftests = {}     # kernel build -> its selftests, None if they failed
        self.background = {}    # kernel name or "stock" -> its background build (a process)

    def report(self, outcome):
        """Add the Outcome's results to the run's (printing them); returns it."""
        for t in outcome.tests:
            self.results.add(*t)
        return outcome

    def _built(self, build, *args):
        """BUILD(*ARGS)'s value, None if it failed (its result reported)."""
        try:
            return build(*args)
        except BuildFailed as e:
            self.results.add(*e.result)
            return None

    def kernel(self, name=None):
        """The guest kernel NAME (of KERNELS; default: --kernel) as a
        GuestKernel, built once per run; None if it failed to build.  With
        --kdir, always the user's tree."""
        o = self.s.o
        name = o.kernel if o.kdir else (name or o.kernel)
        if name not in self.kernels:
            self.kernels[name] = self._built(builds.kernel, self.s, KERNELS[name],
                                             self.background.pop(name, None))
        return self.kernels[name]

    def build_module(self, k, echo=False):
        """smmuv3.ko's directory for the guest kernel K, None if it failed."""
        out = self._built(builds.module, self.s, k, echo)
        if out:
            self.results.add("PASS", "build/module")
        return out

    def build_selftests(self, k):
        """The selftests [(name, path)] built for the guest kernel K (once per
        run and kernel build), None if they failed or there are none."""
        if k.kname not in self.selftests:
            tests = self._built(builds.selftests, self.s, k)
            if tests:
                self.results.add("PASS", "build/selftests")
            self.selftests[k.kname] = tests
        return self.selftests[k.kname]

    def prebuild(self, name):
        """Start building the guest kernel NAME in the background
        (builds.kernel_in_background()); kernel() waits for it."""
        if self.s.o.kdir or name in self.background or name in self.kernels:
            return
        self.background[name] = builds.kernel_in_background(self.s, KERNELS[name])

    def prefetch_stock(self):
        """Start fetching the stock kernels in the background
        (builds.stock_in_background()); the stock step waits for it."""
        if self.s.o.kdir or self.s.o.driver != "ours":
            return
        self.background["stock"] = builds.stock_in_background(self.s)


def run_topologies(s, runner, queue, kernel, names, boots):
    """Build what the Boots BOOTS of the topologies NAMES (an entry of
    spec.check_plan()) need on the guest kernel KERNEL and boot them."""
    k = runner.kernel(kernel)
    if not k:
        for n in names:
            runner.results.add("SKIP", n, "no kernel")
        return
    module_dir = None
    if s.o.driver == "ours":
        module_dir = runner.build_module(k)
        if not module_dir:
            for n in names:
                runner.results.add("SKIP", n, "smmuv3.ko did not build")
            return
    selftests = runner.build_selftests(k) or []
    try:
        drv, kunit = builds.guest_modules(k, s.o.driver, module_dir)
    except (RuntimeError, OSError) as e:
        runner.results.add("FAIL", "build/modules", str(e))
        return
    initrd = guest.initramfs(s, s.tag("initramfs-" + s.o.driver, k.name), driver_mods=drv,
                             kunit_mods=kunit, selftests=selftests)
    for b in boots:
        queue.boot(b, k.image, initrd)


def run_steps(s, runner, names, topologies, echo_static):
    """The steps of a run, in order.  With --jobs N the boots are queued (N
    guests at once) and evaluated at the end: the static checks, the DKMS
    builds and the other guest kernels' builds overlap the first boots."""
    o = s.o
    add = runner.results.add
    if STOCK in names:
        runner.prefetch_stock()
    if topologies or "sparse" in o.static:
        runner.kernel()  # first: checkpatch then finds its source tree too
    # Which boots run on which guest kernel: spec.check_plan() (the
    # options' kernel first).
    plan = spec.check_plan(topologies, o.driver, s.opts)
    first = plan[:1] if plan and plan[0][0] == o.kernel else []
    others = plan[len(first):]
    if others and runner.kernels.get(o.kernel):
        for kname, _, _ in others:
            runner.prebuild(kname)
    queue = pipeline.Queue(s, runner.report, o.jobs)
    for kname, todo, boots in first:
        run_topologies(s, runner, queue, kname, todo, boots)
    if "checkpatch" in o.static:
        for t in static.checkpatch(s, echo=echo_static):
            add(*t)
    if "sparse" in o.static:
        for t in static.sparse(s, runner.kernel(), echo=echo_static):
            add(*t)
    if "oracle" in o.static:
        for t in static.oracle(s, echo=echo_static):
            add(*t)
    if "package" in o.static:
        for t in static.package_checks(s, echo=echo_static):
            add(*t)
    # Before the other guest kernels: a cold cache is still building them
    # in the background (prebuild()), and the stock boots need none of them.
    if STOCK in names:
        stockboot.run_stock(s, runner, queue)
    # The other guest kernels, each with its own topologies.
    for kname, todo, boots in others:
        run_topologies(s, runner, queue, kname, todo, boots)
    queue.drain()
    for name, (_, step) in LAST_STEPS.items():
        if name in names:
            step(runner)


def parse(argv=None):
    """run.py's options from ARGV (default: the command line), with the
    defaults that depend on others applied, and o.names: what --topology
    (or --check, --demo) asks for, topologies and steps.  Exits on a usage
    error; o.list asks only for the list of topologies."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Topologies:\n" + "\n".join(
                                     "  %-12s %s" % (t.name, t.desc) for t in TOPOLOGIES.values())
                                 + "\n  %-12s %s" % (STOCK, STOCK_DESC) + "".join(
                                     "\n  %-12s %s" % (n, d) for n, (d, _) in LAST_STEPS.items()))
    # (--topology stock boots the stock kernels.)
    ap.add_argument("--driver", choices=["ours", "upstream"], default="ours",
                    help="smmuv3.ko (ours) or the kernel's arm_smmu_v3.ko (default: ours)")
    ap.add_argument("--kernel", choices=list(KERNELS),
                    help="guest kernel built by qemu/kernel.sh: %s (default: debug; base for "
                    "--bench; --check boots each of %s)" % (
                        "; ".join("%s = %s" % (k.name, k.desc) for k in KERNELS.values()),
                        " and ".join(CHECK_KERNELS)))
    ap.add_argument("--topology", action="append", metavar="NAME",
                    help="boot this topology (repeatable; default: %s)" %
                    " ".join(DEFAULT_TOPOLOGIES))
    # The defaults of what every boot takes: spec.Options.
    ap.add_argument("--timeout", type=int, default=spec.Options.timeout,
                    help="seconds per boot before QEMU is killed (default: %(default)s)")
    ap.add_argument("--memory", default=spec.Options.memory,
                    help="guest memory (default: %(default)s)")
    ap.add_argument("--passthrough", choices=["topology", "on", "off"],
                    default=spec.Options.passthrough,
                    help="iommu.passthrough=1: as the topology says (default), always, never")
    ap.add_argument("--append", action="append", default=[], metavar="ARGS",
                    help="more guest kernel command line (repeatable), e.g. "
                    "smtest.kmemleak_baseline=1 (see qemu/init.sh)")
    ap.add_argument("--repeat", type=int, metavar="N",
                    help="after the topologies, boot %s N more times each, quickly (probe, "
                    "groups, block I/O, the topology selftest) (default: %d with --check, "
                    "else 0)" % (" and ".join(REPEAT_TOPOLOGIES), CHECK_REPEAT))
    ap.add_argument("--repeat-only", action="store_true",
                    help="only the --repeat boots (make soak)")
    ap.add_argument("--jobs", type=int, metavar="N",
                    help="boot up to N guests at once; their results are printed in order "
                    "(default: %d with --check, else 1)" % CHECK_JOBS)
    ap.add_argument("--list", action="store_true", help="list the topologies and exit")
    ap.add_argument("--check", action="store_true",
                    help="everything: checkpatch, sparse, oracle, all topologies, stock-dkms")
    ap.add_argument("--demo", action="store_true",
                    help="make run: one quick acpi2 boot showing the SMMUs, the IOMMU groups, "
                    "DMA through each SMMU and one domain shared by both (see qemu/demo.py; "
                    "default kernel: base if built, else debug if built, else base)")
    ap.add_argument("--static", action="append", choices=["checkpatch", "sparse", "oracle", "package"],
                    default=[],
                    help="run a static check (repeatable)")
    ap.add_argument("--build", action="store_true", help="only build the module (make module)")
    ap.add_argument("--bench", action="store_true",
                    help="run the benchmark for both drivers and print the figures (make bench; "
                    "see qemu/bench.py)")
    ap.add_argument("--bench-seconds", type=float, default=1.0, metavar="S",
                    help="--bench: seconds per timed round (default: 1)")
    ap.add_argument("--bench-rounds", type=int, default=10, metavar="R",
                    help="--bench: rounds per timed figure and boot (default: 10; many "
                    "short rounds tell the rounds slowed by the host from the quiet ones)")
    ap.add_argument("--bench-part", choices=("all", "drivers", "dma", "ptmem", "stock"),
                    default="all",
                    help="--bench: drivers (ours and upstream on the guest kernel), dma (the "
                    "kernel's dma_map_benchmark with both drivers), ptmem (the page-table "
                    "memory of one IOAS, qemu/bench_ptmem.py), stock (the "
                    "newest stock Debian kernel with smmuv3.ko from DKMS and with its built-in "
                    "driver), or all (default)")
    ap.add_argument("--bench-unmaps", type=int, default=256, metavar="K",
                    help="--bench: unmaps counted in the traced boot (default: 256)")
    ap.add_argument("--bench-cpus", default=",".join(spec.BENCH_CPUS), metavar="LIST",
                    help="--bench: guest CPU models of the grid (default: %(default)s)")
    ap.add_argument("--bench-passthrough", default="off,on", metavar="LIST",
                    help="--bench: iommu.passthrough=1 off, on or both (default: %(default)s)")
    ap.add_argument("--bench-boots", type=int, default=3, metavar="N",
                    help="--bench: boots per driver and grid row (default: 3)")
    ap.add_argument("--bench-acpi8", choices=("first", "all", "none"), default="first",
                    help="--bench: acpi8 rows in the first setup of the grid, in all, or none "
                    "(default: first)")
    ap.add_argument("--bench-trace", type=int, choices=(0, 1), default=1,
                    help="--bench: the traced boots (default: 1)")
    ap.add_argument("--bench-icount", type=int, choices=(0, 1), default=1,
                    help="--bench: the boots on QEMU's instruction clock (-icount shift=0), "
                    "one per driver: the guest's own work, free of the host's load "
                    "(default: 1)")
    ap.add_argument("-v", "--verbose", action="store_true", help="stream guest consoles")
    host = ap.add_argument_group("host tools (instead of the chroot's)")
    host.add_argument("--qemu", help="qemu-system-aarch64 (>= 10.1) to boot with")
    host.add_argument("--kdir", help="a built arm64 kernel tree (Image, modules, usr/include)")
    host.add_argument("--cross-compile", help="cross compiler prefix for builds with --kdir")
    host.add_argument("--busybox", help="a static arm64 busybox (default: the chroot's)")
    host.add_argument("--firmware", help="QEMU_EFI.fd for the ACPI topologies "
                      "(default: the chroot's)")
    o = ap.parse_args(argv)
    o.kernel_asked = o.kernel  # --demo picks one itself when not asked (qemu/demo.py)
    o.kernel = o.kernel or ("base" if o.bench or o.demo else "debug")
    if o.repeat is None:
        o.repeat = CHECK_REPEAT if o.check else 0
    if o.jobs is None:
        o.jobs = CHECK_JOBS if o.check and not o.verbose else 1
    if o.cross_compile and not o.kdir and not IN_CHROOT:
        ap.error("--cross-compile needs --kdir (a kernel tree built with that compiler)")
    names = o.topology or []
    for n in names:
        if n not in TOPOLOGIES and n != STOCK and n not in LAST_STEPS:
            ap.error("unknown topology %s (see --list)" % n)
    if o.demo:
        names = names or ["acpi2"]
    elif o.check:
        names = names or DEFAULT_TOPOLOGIES + [STOCK] + list(LAST_STEPS)
        o.static = ["checkpatch", "sparse", "oracle", "package"]
    elif not names and not o.static and not o.build:
        names = list(DEFAULT_TOPOLOGIES)
    o.names = names
    return o


def main():
    o = parse()
    if o.list:
        for t in TOPOLOGIES.values():
            print("%-12s %s" % (t.name, t.desc))
        print("%-12s %s" % (STOCK, STOCK_DESC))
        return 0
    names = o.names
    s = Session.start(o)
    # make run prints only the failures of its results (demo.Quiet).
    runner = Runner(s, results=demo.Quiet() if o.demo else None)
    t0 = time.time()
    echo_static = not (o.check or names)
    if o.bench:
        return bench.main(runner, names[0] if o.topology else "acpi2")
    if o.demo:
        return demo.main(runner)
    if o.build:
        k = runner.kernel()
        if k and runner.build_module(k, echo=True):
            print(show(os.path.join(builds.outdir(k, "module"), "smmuv3.ko")))
        return 1 if runner.results.count("FAIL") else 0
    topologies = [n for n in names if n in TOPOLOGIES]
    try:
        run_steps(s, runner, names, topologies, echo_static)
    finally:
        guest.kill(s.guests)
    r = runner.results
    summary = r.write(s.log("summary.txt"))
    note("%.0f s in all; logs: %s" % (time.time() - t0, show(s.rundir)))
    print(summary)
    return 1 if r.count("FAIL") else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
