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
import concurrent.futures
import contextlib
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the repo
sys.path.insert(0, HERE)
from hostenv import CACHE, IN_CHROOT, in_chroot, show, note  # noqa: E402
from kmods import builtin_modules, module_index, read_module, resolve_modules  # noqa: E402
import results  # noqa: E402
from results import Results  # noqa: E402
from topologies import (TOPOLOGIES, KERNELS, CHECK_KERNELS, DEFAULT_TOPOLOGIES,  # noqa: E402
                        REPEAT_TOPOLOGIES, CHECK_REPEAT, CHECK_JOBS, STOCK, STOCK_DESC)
import spec  # noqa: E402
import iort  # noqa: E402
import dtb  # noqa: E402
import boot as guest  # noqa: E402
from builds import Builds  # noqa: E402
from stockboot import StockBoots  # noqa: E402
import difforacle  # noqa: E402
from static import StaticChecks  # noqa: E402
import bench  # noqa: E402
import demo  # noqa: E402

KEEP_RUNS = 30
# The steps --topology names besides the topologies, run after every boot,
# in this order, one guest at a time, each with the runner: NAME ->
# (description, function).  make check runs them all.
LAST_STEPS = {
    difforacle.DIFF: (difforacle.DIFF_DESC, difforacle.run_diff),
}


class Runner(Builds, StockBoots, StaticChecks):
    """One make check (or make run, make bench ...): the results, the run
    directory, the guest kernel in use, the guests running, and the steps.
    Building, the stock kernels and the static checks are mixins in their own
    files; what a boot is comes from qemu/spec.py (Boot values), booting one
    from qemu/boot.py, judging it from qemu/results.py."""

    def __init__(self, opts, results=None):
        self.o = opts
        self.results = Results() if results is None else results  # where results go
        self.cross = opts.cross_compile or "aarch64-linux-gnu-"
        self.host_build = bool(opts.kdir) and not IN_CHROOT
        self.host_qemu = bool(opts.qemu) and not IN_CHROOT
        self.rundir = None
        self.kernels = {}       # kernel name -> its GuestKernel, None if it failed (kernel())
        self.selftests = {}     # kernel build -> its selftests (build_selftests())
        self.opts = spec.Options.of(opts)  # what every boot takes from the options
        self.chroot_root = None
        self.prebuilds = {}     # kernel name -> its background kernel.sh (prebuild())
        self.pool = None        # boots several guests at once (start_pool())
        self.jobs = 1           # the pool's size
        self.pending = []       # [(results of prepare(), future)]: boots drain() evaluates
        self.guests = set()     # the QEMU processes running

    # -- bookkeeping --------------------------------------------------------

    def make_rundir(self):
        logs = os.path.join(CACHE, "logs")
        os.makedirs(logs, exist_ok=True)
        base = time.strftime("%Y%m%d-%H%M%S")
        for i in range(100):
            d = os.path.join(logs, base if i == 0 else "%s-%d" % (base, i))
            try:
                os.mkdir(d)
                break
            except FileExistsError:
                continue
        self.rundir = d
        tmp = os.path.join(logs, ".latest.%d" % os.getpid())
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        os.symlink(os.path.basename(d), tmp)
        os.replace(tmp, os.path.join(logs, "latest"))
        runs = sorted(x for x in os.listdir(logs) if re.match(r"\d{8}-\d{6}", x))
        for old in runs[:-KEEP_RUNS]:
            # Never a run still going (another checkout's make check: its
            # boots would lose their logs, and their results with them):
            # only finished ones (summary.txt) or ones untouched for a day.
            path = os.path.join(logs, old)
            with contextlib.suppress(OSError):
                if (os.path.exists(os.path.join(path, "summary.txt")) or
                        time.time() - os.path.getmtime(path) > 86400):
                    shutil.rmtree(path, ignore_errors=True)
        note("logs: %s (also %s)" % (show(d), show(os.path.join(logs, "latest"))))

    def log(self, name):
        p = os.path.join(self.rundir, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def tag(self, name, kernel=None):
        """A boot's name in results and logs: the topology, prefixed by the
        guest kernel KERNEL unless it is the default one."""
        return spec.tag_for(name, kernel or self.o.kernel, self.opts)

    def chroot_dir(self):
        """The chroot's directory as seen from here (for busybox, firmware)."""
        if IN_CHROOT:
            return "/"
        if not self.chroot_root:
            out = subprocess.run([os.path.join(HERE, "env.sh"), "setup"], check=True,
                                 stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
            self.chroot_root = out.stdout.decode().strip().splitlines()[-1]
        return self.chroot_root

    def build_cmd(self, cmd, cwd=None):
        """CMD for the build environment: the host with --kdir, else the chroot."""
        if self.host_build:
            return (["env", "-C", cwd] if cwd else []) + cmd
        return in_chroot(cmd, cwd)
    # -- the steps ------------------------------------------------------------

    def guest_modules(self, k, driver, module_dir):
        """(driver modules, kunit modules) for the guest kernel K: DRIVER's,
        smmuv3.ko's from MODULE_DIR or the kernel's arm_smmu_v3."""
        if driver == "upstream":
            index = module_index(k.kdir)
            return resolve_modules(["arm_smmu_v3"], index, builtin_modules(k.kdir)), []
        drv = [("smmuv3", read_module(os.path.join(module_dir, "smmuv3.ko")))]
        kunit = []
        ko = os.path.join(module_dir, "smmuv3_kunit.ko")
        if os.path.exists(ko):
            kunit = [("smmuv3_kunit", read_module(ko))]
        return drv, kunit

    def run_topologies(self, kernel, names, boots):
        """Build what the Boots BOOTS of the topologies NAMES (an entry of
        spec.check_plan()) need on the guest kernel KERNEL and boot them."""
        k = self.kernel(kernel)
        if not k:
            for n in names:
                self.results.add("SKIP", n, "no kernel")
            return
        module_dir = None
        if self.o.driver == "ours":
            module_dir = self.build_module(k)
            if not module_dir:
                for n in names:
                    self.results.add("SKIP", n, "smmuv3.ko did not build")
                return
        selftests = self.build_selftests(k) or []
        try:
            drv, kunit = self.guest_modules(k, self.o.driver, module_dir)
        except (RuntimeError, OSError) as e:
            self.results.add("FAIL", "build/modules", str(e))
            return
        initrd = self.initramfs(self.tag("initramfs-" + self.o.driver, k.name), driver_mods=drv,
                                kunit_mods=kunit, selftests=selftests)
        for b in boots:
            self.boot_and_evaluate(b, k.image, initrd)

    # -- booting --------------------------------------------------------------

    def initramfs(self, name, **contents):
        """boot.initramfs() in this run's log dir: its path."""
        return guest.initramfs(self, name, **contents)

    def prepare(self, b, image, initrd):
        """What the Boot B needs before it boots, as values: (B with the
        QEMU arguments of its topology's device-tree edit (qemu/dtb.py) in
        qemu_extra, its initramfs, the results of making them).  The
        initramfs is INITRD, or a copy with B's files and its topology's
        payload, upgraded with its topology's ACPI tables (qemu/iort.py)."""
        files = list(b.files)
        if b.hw.payload == "dpdk":  # Debian's DPDK, for this topology only
            import dpdk
            files += dpdk.guest_files(self)
        if files:
            initrd = guest.add_files(self, initrd, b.tag + "-initramfs", files)
        initrd, pre = iort.prepare(self, guest, b, spec.acpidump_boot(b, self.opts), image,
                                   initrd)
        if b.hw.dtb:
            argv = guest.qemu_argv(self, b, guest.visible(self, image), initrd,
                                   *guest.console_paths(self, b))
            args, more = dtb.prepare(self, b.tag, b.hw, argv)
            b = spec.replace(b, qemu_extra=b.qemu_extra + tuple(args))
            pre = pre + more
        return b, initrd, pre

    def start_pool(self, jobs):
        """From now on boot_and_evaluate() boots up to JOBS guests at once (a
        guest under TCG leaves part of the two cores idle: it waits on its
        disks, its timers, its own sleeps).  Each boot's results are still
        evaluated, and printed, in the order the boots were asked for, by
        drain().  JOBS 1 boots and evaluates each one at once."""
        self.jobs = jobs
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs) if jobs > 1 else None

    def boot_and_evaluate(self, b, image, initrd):
        """Boot B and report its results, now (returns its Outcome) or, with a
        pool, when drain() comes to it (returns None)."""
        # Prepared here, one at a time (the acpidump boot, the DTB); the
        # results of that come out with the boot's own.
        b, initrd, pre = self.prepare(b, image, initrd)
        if self.pool is None:
            note("booting %s (%s)" % (b.tag, b.what))
            return self.report(self._run(pre, b, image, initrd, stream=self.o.verbose))
        self.pending.append((pre, self.pool.submit(self._pool_boot, b, image, initrd)))
        return None

    def _pool_boot(self, b, image, initrd):
        note("booting %s (%s; up to %d guests at once)" % (b.tag, b.what, self.jobs))
        return (b,) + guest.run(self, b, image, initrd)

    def run_boot(self, b, image, initrd, stream=False):
        """Prepare B (prepare()), boot it and evaluate it: its Outcome, the
        results of preparing it first (nothing reported)."""
        b, initrd, pre = self.prepare(b, image, initrd)
        return self._run(pre, b, image, initrd, stream)

    def _run(self, pre, b, image, initrd, stream=False):
        return _with(pre, results.evaluate(b, *guest.run(self, b, image, initrd, stream=stream)))

    def report(self, outcome):
        """Add the Outcome's results to the run's (printing them); returns it."""
        for t in outcome.tests:
            self.results.add(*t)
        return outcome

    def drain(self):
        """Wait for the queued boots and report them in order."""
        if self.pool is None:
            return
        try:
            for pre, job in self.pending:
                self.report(_with(pre, results.evaluate(*job.result())))
        finally:
            self.pending = []
            # A no-op when every boot was evaluated.  After an exception: no
            # queued boot starts, and the running guests are killed, so that
            # shutdown() waits for none that nobody will evaluate.
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.kill_guests()
            self.pool.shutdown(wait=True)
            self.pool = None

    def kill_guests(self):
        """Kill every QEMU still running (^C, or the runner failing)."""
        guest.kill(self.guests)


def _with(pre, outcome):
    """OUTCOME with the results PRE (of preparing its boot) before its own."""
    if pre:
        outcome.tests = list(pre) + list(outcome.tests)
    return outcome


def run_steps(runner, o, names, guest, echo_static):
    """The steps of a run, in order.  With --jobs N the boots are queued (N
    guests at once) and evaluated at the end: the static checks, the DKMS
    builds and the other guest kernels' builds overlap the first boots."""
    if STOCK in names:
        runner.prefetch_stock()
    if guest or "sparse" in o.static:
        runner.kernel()  # first: checkpatch then finds its source tree too
    # Which boots run on which guest kernel: spec.check_plan() (the
    # options' kernel first).
    plan = spec.check_plan(guest, o.driver, runner.opts)
    first = plan[:1] if plan and plan[0][0] == o.kernel else []
    others = plan[len(first):]
    if others and runner.kernels.get(o.kernel):
        for kname, _, _ in others:
            runner.prebuild(kname)
    runner.start_pool(o.jobs)
    for kname, todo, boots in first:
        runner.run_topologies(kname, todo, boots)
    if "checkpatch" in o.static:
        runner.checkpatch(echo=echo_static)
    if "sparse" in o.static:
        runner.sparse(echo=echo_static)
    if "oracle" in o.static:
        runner.oracle(echo=echo_static)
    if "package" in o.static:
        runner.package_checks(echo=echo_static)
    # Before the other guest kernels: a cold cache is still building them
    # in the background (prebuild()), and the stock boots need none of them.
    if STOCK in names:
        runner.run_stock()
    # The other guest kernels, each with its own topologies.
    for kname, todo, boots in others:
        runner.run_topologies(kname, todo, boots)
    runner.drain()
    for name, (_, step) in LAST_STEPS.items():
        if name in names:
            step(runner)


def main():
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
    ap.add_argument("--timeout", type=int, default=720,
                    help="seconds per boot before QEMU is killed (default: 720)")
    ap.add_argument("--memory", default="1G", help="guest memory (default: 1G)")
    ap.add_argument("--passthrough", choices=["topology", "on", "off"], default="topology",
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
    ap.add_argument("--bench-cpus", default="cortex-a57,neoverse-n1,max", metavar="LIST",
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
    o = ap.parse_args()
    o.kernel_asked = o.kernel  # --demo picks one itself when not asked (qemu/demo.py)
    o.kernel = o.kernel or ("base" if o.bench or o.demo else "debug")
    if o.repeat is None:
        o.repeat = CHECK_REPEAT if o.check else 0
    if o.jobs is None:
        o.jobs = CHECK_JOBS if o.check and not o.verbose else 1

    if o.list:
        for t in TOPOLOGIES.values():
            print("%-12s %s" % (t.name, t.desc))
        print("%-12s %s" % (STOCK, STOCK_DESC))
        return 0
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

    # make run prints only the failures of its results (demo.Quiet).
    runner = Runner(o, results=demo.Quiet() if o.demo else None)
    runner.make_rundir()
    t0 = time.time()
    echo_static = not (o.check or names)
    if o.bench:
        return bench.main(runner, names[0] if o.topology else "acpi2")
    if o.demo:
        return demo.main(runner)
    if o.build:
        k = runner.kernel()
        if k and runner.build_module(k, echo=True):
            print(show(os.path.join(runner.outdir(k, "module"), "smmuv3.ko")))
        return 1 if runner.results.count("FAIL") else 0
    guest = [n for n in names if n in TOPOLOGIES]
    try:
        run_steps(runner, o, names, guest, echo_static)
    finally:
        runner.kill_guests()
    r = runner.results
    summary = r.write(runner.log("summary.txt"))
    note("%.0f s in all; logs: %s" % (time.time() - t0, show(runner.rundir)))
    print(summary)
    return 1 if r.count("FAIL") else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
