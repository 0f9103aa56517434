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
from hostenv import CACHE, IN_CHROOT, in_chroot, show  # noqa: E402
from kmods import builtin_modules, module_index, read_module, resolve_modules  # noqa: E402
from results import Results, note  # noqa: E402
from topologies import (TOPOLOGIES, KERNELS, CHECK_KERNELS, DEFAULT_TOPOLOGIES,  # noqa: E402
                        REPEAT_TESTS, REPEAT_TOPOLOGIES, CHECK_REPEAT, CHECK_JOBS, STOCK,
                        STOCK_DESC, SELFTESTS,
                        TEST_TOPOLOGIES)
import iort  # noqa: E402
from builds import Builds  # noqa: E402
from boot import Boots  # noqa: E402
from stockboot import StockBoots  # noqa: E402
import difforacle  # noqa: E402
from static import StaticChecks  # noqa: E402


KEEP_RUNS = 30


class Runner(Builds, Boots, StockBoots, StaticChecks):
    """One make check (or make run, make bench ...): the results, the run
    directory, the guest kernel in use, and the steps.  Building, booting, the
    stock kernels and the static checks are mixins in their own files."""

    def __init__(self, opts):
        self.o = opts
        self.results = Results()
        self.cross = opts.cross_compile or "aarch64-linux-gnu-"
        self.host_build = bool(opts.kdir) and not IN_CHROOT
        self.host_qemu = bool(opts.qemu) and not IN_CHROOT
        self.rundir = None
        self.kdir = None        # local path of the guest kernel's build tree
        self.kname = None
        self.kernel_failed = False
        self.kspec = KERNELS[opts.kernel]  # the guest kernel to build and boot
        self.chroot_root = None
        self.qemu_extra = []    # more QEMU arguments for every boot (bench.py: tracing)
        self.qemu_cpu = "cortex-a57"  # -cpu (bench.py's grid changes it)
        self.bench_output = {}  # boot tag -> the guest's bench section lines
        self.selftest_output = {}  # (boot tag, selftest) -> its output lines
        self.prebuilds = {}     # kernel name -> its background kernel.sh (prebuild())
        self.pool = None        # boots several guests at once (start_pool())
        self.jobs = 1           # the pool's size
        self.pending = []       # [(tag, topology, future)]: boots drain() evaluates
        self.guests = set()     # the QEMU processes running
        self.plans = {}         # boot tag -> what the boot must show (plan_boot())

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

    def use_kernel(self, name):
        """Build and boot the guest kernel NAME (of KERNELS) from now on."""
        if self.o.kdir or self.kspec.name == name:
            return
        self.kspec = KERNELS[name]
        self.kdir = self.kname = None
        self.kernel_failed = False

    def tag(self, name):
        """A boot's name in results and logs: the topology, prefixed by the
        kernel unless it is the default one."""
        if self.o.kdir or self.kspec.name == self.o.kernel:
            return name
        return "linux-%s/%s" % (self.kspec.name, name)

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

    def guest_modules(self, driver, module_dir):
        """(driver modules, kunit modules) for our guest kernel."""
        if driver == "upstream":
            index = module_index(self.kdir)
            return resolve_modules(["arm_smmu_v3"], index, builtin_modules(self.kdir)), []
        drv = [("smmuv3", read_module(os.path.join(module_dir, "smmuv3.ko")))]
        kunit = []
        k = os.path.join(module_dir, "smmuv3_kunit.ko")
        if os.path.exists(k):
            kunit = [("smmuv3_kunit", read_module(k))]
        return drv, kunit

    def run_topologies(self, names):
        if not self.kernel():
            for n in names:
                self.results.add("SKIP", n, "no kernel")
            return
        module_dir = None
        if self.o.driver == "ours":
            module_dir = self.build_module()
            if not module_dir:
                for n in names:
                    self.results.add("SKIP", n, "smmuv3.ko did not build")
                return
        selftests = self.build_selftests() or []
        try:
            drv, kunit = self.guest_modules(self.o.driver, module_dir)
        except (RuntimeError, OSError) as e:
            self.results.add("FAIL", "build/modules", str(e))
            return
        initrd = self.initramfs(self.tag("initramfs-" + self.o.driver), driver_mods=drv,
                                kunit_mods=kunit, selftests=selftests)
        image = os.path.join(self.kdir, "arch/arm64/boot/Image")
        boots = []  # (tag, topology, quick, part)
        # Tests chosen on the command line (--append smtest.tests=...): no parts.
        chosen = [a.split("=", 1)[1].split(",") for arg in self.o.append for a in arg.split()
                  if a.startswith("smtest.tests=")]
        kunit_chosen = [a.split("=", 1)[1] for arg in self.o.append for a in arg.split()
                        if a.startswith("smtest.kunit=")]
        if not self.o.repeat_only:
            for name in names:
                boots.append((name, name, False, None))
                boots += [("%s-%s" % (name, part), name, False, part)
                          for part, _ in ([] if chosen else TOPOLOGIES[name].parts)]
        repeat = self.o.repeat if self.kspec.name == self.o.kernel else 0
        for k in range(1, repeat + 1):
            boots += [("%s-repeat%d" % (name, k), name, True, None)
                      for name in REPEAT_TOPOLOGIES if name in names]
        for tag, name, quick, part in boots:
            tag = self.tag(tag)
            topo = TOPOLOGIES[name]
            extra = ["smtest.mode=check",
                     "smtest.driver=" + self.o.driver, "smtest.topology=" + name,
                     "smtest.instances=%d" % topo.instances,
                     "smtest.testtimeout=%d" % self._testtimeout()]
            if topo.aliased:
                extra.append("smtest.aliased=%d" % topo.aliased)
            tests = REPEAT_TESTS if quick else topo.tests
            # From the data (SELFTESTS), not from what the build made: a
            # program missing from the build is then a failure, not nothing.
            if tests is None and (topo.parts or any(name not in TEST_TOPOLOGIES.get(n, [name])
                                                    for n in SELFTESTS)):
                tests = [n for n in SELFTESTS if name in TEST_TOPOLOGIES.get(n, [name])]
            if not quick and topo.parts and not chosen:
                mine = dict(topo.parts).get(part)
                elsewhere = {t for p, ts in topo.parts if p != part for t in ts}
                tests = [t for t in tests if (mine is None or t in mine) and t not in elsewhere]
            if tests is not None:
                extra.append("smtest.tests=" + ",".join(tests))
            if quick or part or not topo.kunit:
                extra.append("smtest.kunit=0")
            expected = chosen[-1] if chosen else (tests if tests is not None else SELFTESTS)
            self.plans[tag] = {
                "tag": tag, "topology": name, "kernel": self.kspec.name,
                "driver": self.o.driver, "features": self.kspec.features,
                "kmemleak": self.kspec.kmemleak, "tests": list(expected),
                "kunit": (self.o.driver == "ours" and not (quick or part or not topo.kunit)
                          and kunit_chosen[-1:] != ["0"]),
                "disks": topo.disks}
            what = "%s, driver %s, %s kernel%s" % (
                topo.desc, self.o.driver, self.kspec.name if not self.o.kdir else "KDIR",
                "; quick repeat boot" if quick else
                "; part %s: %s" % (part, ", ".join(tests)) if part else "")
            topo_initrd = initrd
            if topo.payload == "dpdk":  # Debian's DPDK, for this topology only
                import dpdk
                topo_initrd = self.initramfs(self.tag("initramfs-%s-dpdk" % self.o.driver),
                                             driver_mods=drv, kunit_mods=kunit,
                                             selftests=selftests, files=dpdk.guest_files(self))
            boot_initrd, fw_extra = iort.prepare(self, topo, image, topo_initrd)  # IORT upgrade
            self.boot_and_evaluate(tag, topo, image, boot_initrd, extra + fw_extra, what)


def run_steps(runner, o, names, guest, echo_static):
    """The steps of a run, in order.  With --jobs N the boots are queued (N
    guests at once) and evaluated at the end: the static checks, the DKMS
    builds and the other guest kernels' builds overlap the first boots."""
    if STOCK in names:
        runner.prefetch_stock()
    if guest or "sparse" in o.static:
        runner.kernel()  # first: checkpatch then finds its source tree too
    if o.check and not o.kdir and runner.kdir:
        for kname in CHECK_KERNELS:
            if kname != o.kernel and any(n in guest for n in KERNELS[kname].topologies):
                runner.prebuild(kname)
    runner.start_pool(o.jobs)
    if guest:
        runner.run_topologies(guest)
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
    if o.check and not o.kdir:
        # The other guest kernels, each with its own topologies.
        for kname in CHECK_KERNELS:
            todo = [n for n in KERNELS[kname].topologies if n in guest]
            if kname != o.kernel and todo:
                runner.use_kernel(kname)
                runner.run_topologies(todo)
    runner.drain()
    if difforacle.DIFF in names:
        # Last, one guest at a time: both drivers, traced (qemu/difforacle.py).
        difforacle.run_diff(runner)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Topologies:\n" + "\n".join(
                                     "  %-12s %s" % (t.name, t.desc) for t in TOPOLOGIES.values())
                                 + "\n  %-12s %s" % (STOCK, STOCK_DESC)
                                 + "\n  %-12s %s" % (difforacle.DIFF, difforacle.DIFF_DESC))
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
    ap.add_argument("--bench-part", choices=("all", "drivers", "dma", "stock"), default="all",
                    help="--bench: drivers (ours and upstream on the guest kernel), dma (the "
                    "kernel's dma_map_benchmark with both drivers), stock (the "
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
        if n not in TOPOLOGIES and n not in (STOCK, difforacle.DIFF):
            ap.error("unknown topology %s (see --list)" % n)
    if o.demo:
        names = names or ["acpi2"]
    elif o.check:
        names = names or DEFAULT_TOPOLOGIES + [STOCK, difforacle.DIFF]
        o.static = ["checkpatch", "sparse", "oracle", "package"]
    elif not names and not o.static and not o.build:
        names = list(DEFAULT_TOPOLOGIES)

    runner = Runner(o)
    runner.make_rundir()
    t0 = time.time()
    echo_static = not (o.check or names)
    if o.bench:
        import bench
        return bench.main(runner, names[0] if o.topology else "acpi2")
    if o.demo:
        import demo
        return demo.main(runner)
    if o.build:
        if runner.kernel() and runner.build_module(echo=True):
            print(show(os.path.join(runner.outdir("module"), "smmuv3.ko")))
        return 1 if runner.results.count("FAIL") else 0
    guest = [n for n in names if n not in (STOCK, difforacle.DIFF)]
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
