#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""What run.py would do, without doing it: every boot (its QEMU command line,
kernel command line, initramfs and what its evaluation expects) and every
build, static, stock and background step of `make check`, `make run`, `make
bench` (default options) and `make soak`, printed in order, deterministically.

    python3 qemu/dryrun.py [check|run|bench|soak|dt1 ...]   (default: all)
    python3 qemu/dryrun.py variants                         (more option sets)
    python3 qemu/dryrun.py plan [MODE]                      (spec.check_plan() of MODE)

Nothing is built or booted: the points where run.py would build (kernel.sh,
make, dpkg), start QEMU or read a boot's results are replaced by recorders;
the rest is run.py's own code.  The boots run one at a time (--jobs 1) so
that the order is the same every time.  Used to show that a change of the
harness leaves make check's plan as it was (diff two listings)."""

import os
import shlex
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
TMP = tempfile.mkdtemp(prefix="smmuv3-dryrun.")
os.environ["SMMUV3_CACHE"] = TMP
os.environ["SMMUV3_IN_CHROOT"] = "1"
sys.path.insert(0, HERE)

import run  # noqa: E402
import boot  # noqa: E402
import builds  # noqa: E402
import pipeline  # noqa: E402
import session  # noqa: E402
import spec  # noqa: E402
import stockboot  # noqa: E402
import static  # noqa: E402
import iort  # noqa: E402
import dtb  # noqa: E402
import bench  # noqa: E402
import hostenv  # noqa: E402
import results  # noqa: E402
from topologies import SELFTESTS  # noqa: E402

MODES = {
    "check": ["--check", "--kernel", "debug", "--driver", "ours", "--timeout", "1500"],
    "run": ["--demo", "--driver", "ours", "--timeout", "1500"],
    "bench": ["--bench", "--kernel", "base", "--bench-part", "all", "--timeout", "1500"],
    "soak": ["--repeat", "2", "--repeat-only", "--topology", "acpi2", "--topology", "acpi8",
             "--kernel", "debug", "--driver", "ours", "--timeout", "1500"],
    "dt1": ["--topology", "dt1", "--timeout", "1500"],
}
# More, for a wider comparison (python3 qemu/dryrun.py variants).
VARIANTS = {
    "upstream": ["--driver", "upstream", "--topology", "acpi2", "--topology", "stock"],
    "options": ["--topology", "dt1-page0", "--topology", "acpi2-rmr", "--passthrough", "off",
                "--memory", "2G", "--kernel", "6.12", "--append", "smtest.kmemleak_baseline=1"],
    "chosen": ["--topology", "acpi2", "--append", "smtest.tests=smmuv3_share",
               "--append", "smtest.kunit=0", "--repeat", "1"],
    "diff": ["--topology", "diff", "--passthrough", "on"],
    "bench-narrow": ["--bench", "--bench-part", "drivers", "--bench-cpus", "max",
                     "--bench-passthrough", "off", "--bench-boots", "1", "--bench-acpi8", "none",
                     "--bench-trace", "0", "--bench-rounds", "2", "--topology", "acpi2"],
    "bench-dma": ["--bench", "--bench-part", "dma", "--bench-boots", "2", "--memory", "2G"],
    "bench-ptmem": ["--bench", "--bench-part", "ptmem", "--topology", "acpi2"],
    "bench-rmr": ["--bench", "--bench-part", "drivers", "--bench-cpus", "max",
                  "--bench-passthrough", "off", "--bench-boots", "1", "--bench-acpi8", "none",
                  "--bench-trace", "0", "--bench-icount", "0", "--bench-rounds", "2",
                  "--topology", "acpi2-rmr"],
    "bench-dpdk": ["--bench", "--bench-part", "drivers", "--bench-cpus", "max",
                   "--bench-passthrough", "off", "--bench-boots", "1", "--bench-acpi8", "none",
                   "--bench-trace", "0", "--bench-icount", "0", "--bench-rounds", "2",
                   "--topology", "acpi2-dpdk"],
    "demo-pt": ["--demo", "--passthrough", "on", "--kernel", "debug", "--driver", "upstream"],
}

OUT = []        # the listing
# make check's boots one at a time: the same order every time
# (SMMUV3_DRYRUN_JOBS=2: as make check, for a test of the pool).
JOBS = os.environ.get("SMMUV3_DRYRUN_JOBS", "1")
RUNDIR = [None]


def say(line):
    OUT.append(line)


def norm(s):
    s = str(s)
    if RUNDIR[0]:
        s = s.replace(RUNDIR[0], "RUN")
    return s.replace(TMP, "CACHE").replace(hostenv.REPO, "REPO")


def _names(mods):
    return ",".join(n for n, _ in mods) or "-"


class _Done:
    """A finished process (a background build)."""
    pid = 0

    def wait(self, timeout=None):
        return 0

    def poll(self):
        return 0


def install():
    """The recorders, in place of the builders and QEMU (qemu/builds.py,
    boot.py, static.py, stockboot.py, the firmware edits' dumps)."""
    def kernel(s, k, background=None):
        say("step kernel %s" % k.name)
        return builds.GuestKernel(k, "/KDIR/" + k.name, k.name)
    builds.kernel = kernel

    def background(s, logname, cmd):
        name = "stock" if logname == "build-stock-prefetch.log" else \
            logname[len("build-kernel-"):-len(".log")]
        say("step background %s: %s" % (name, norm(" ".join(cmd))))
        return _Done()
    builds.background = background

    def outdir(k, what):
        d = os.path.join(TMP, "out", k.kname, what)
        if what == "selftests":
            os.makedirs(os.path.join(d, "bench"), exist_ok=True)
            for n in ("smmuv3_bench", "smmuv3_ptmem", "dma_map_benchmark", "dma_map_bench.sh"):
                open(os.path.join(d, "bench", n), "w").close()
        return d
    builds.outdir = outdir

    def module(s, k, echo=False):
        say("step build module (kernel %s)" % k.kname)
        return builds.outdir(k, "module")
    builds.module = module

    def selftests(s, k):
        say("step build selftests (kernel %s)" % k.kname)
        out = builds.outdir(k, "selftests")
        return [(n, os.path.join(out, n)) for n in SELFTESTS + ["smmuv3_scenario"]]
    builds.selftests = selftests

    def guest_modules(k, driver, module_dir):
        if driver == "upstream":
            return [("arm_smmu_v3", b"")], []
        return [("smmuv3", b"")], [("smmuv3_kunit", b"")]
    builds.guest_modules = guest_modules

    def initramfs(s, name, driver_mods=(), kunit_mods=(), pre_mods=(), selftests=(), files=()):
        say("initramfs %s: driver %s; kunit %s; pre %s; selftests %s; files %s" % (
            name, _names(driver_mods), _names(kunit_mods), _names(pre_mods),
            _names(selftests), ",".join("%s=%s" % (g, norm(p)) for g, p in files) or "-"))
        return s.log(name + ".cpio.gz")
    boot.initramfs = initramfs

    def add_files(s, initrd, name, files):
        say("initramfs %s: %s and files %s" % (name, norm(initrd), ",".join(
            "%s=%s" % (g, norm(p)) for g, p in files[:3]) + (
                " and %d more" % (len(files) - 3) if len(files) > 3 else "")))
        return s.log(name + ".cpio.gz")
    boot.add_files = add_files
    pipeline.PAYLOADS["dpdk"] = lambda s: [("/usr/bin/dpdk-testpmd",
                                            "/DPDK/usr/bin/dpdk-testpmd")]

    for name in ("checkpatch", "oracle", "package_checks"):
        setattr(static, name, (lambda n: lambda s, echo=False: say("step static %s" % n) or [])(
            name))
    static.sparse = lambda s, k, echo=False: say("step static sparse") or []

    def prepare_stock(s, results, log):
        say("step stock: headers of the DKMS series, the .deb built and installed")
        from topologies import STOCK_DKMS_SERIES
        rel = {x: "REL-" + x for x in STOCK_DKMS_SERIES}
        return rel, {r: "/KO/%s/smmuv3.ko" % r for r in rel.values()}, "smmuv3-dkms.deb"
    stockboot.prepare_stock = prepare_stock

    def capture(cmd, log):
        series = cmd[-1]
        say("step stock fetch %s" % series)
        return "VMLINUZ=/STOCK/%s/vmlinuz\nMODULES=/STOCK/%s/modules\n" % (series, series)
    stockboot.capture = capture
    stockboot.module_index = lambda d: {}
    stockboot.builtin_modules = lambda d: set()
    stockboot.resolve_modules = lambda names, index, builtin=(): [(n, b"") for n in names]
    stockboot.read_module = lambda p: b""

    def qemu_tables(*args):
        raise RuntimeError("dry run: no tables")
    iort.qemu_tables = qemu_tables
    dtb.edited_dtb = lambda s, argv, edit: "/DTB/edited-%s.dtb" % edit.key()

    def evaluate(b, status, elapsed, console, res):
        if b.verdict:
            plan = {"tag": b.tag, "topology": b.topology, "kernel": b.kernel,
                    "driver": b.driver, "features": b.features, "kmemleak": b.kmemleak,
                    "tests": b.tests, "kunit": b.kunit, "disks": b.disks}
            say("  expects: %s" % "; ".join(
                "%s=%s" % (k, ",".join(v) if isinstance(v, (list, tuple)) else v)
                for k, v in sorted(plan.items())))
        return results.Outcome(b, status, elapsed, console, res, [],
                               bench=["bench map_unmap_4k_one_instance pairs_per_s=1"])
    results.evaluate = evaluate

    class Guest(_Done):
        def __init__(self, argv, **kw):
            say("boot: %s" % norm(" ".join(shlex.quote(a) for a in argv)))
    boot.subprocess = _Sub(Guest)
    bench.qemu_version = lambda runner: "QEMU DRY"
    import vmm
    vmm.payload = lambda runner, tag, step: say("step vmm payload %s (step %s)" % (
        tag, step)) or [("/init", os.path.join(HERE, "vmm", "l1init.sh"))]


class _Sub:
    """boot.py's subprocess, with Popen recording the guest instead."""

    def __init__(self, popen):
        self.Popen = popen
        self.TimeoutExpired = subprocess.TimeoutExpired
        self.DEVNULL = subprocess.DEVNULL
        self.STDOUT = subprocess.STDOUT
        self.PIPE = subprocess.PIPE


def listing(mode):
    argv = MODES[mode] + (["--jobs", JOBS] if mode == "check" else [])
    say("== %s: run.py %s" % (mode, " ".join(argv)))
    orig = session.make_rundir

    def make_rundir():
        RUNDIR[0] = orig()
        return RUNDIR[0]
    session.make_rundir = make_rundir
    sys.argv = ["run.py"] + argv
    stdout = sys.stdout
    sys.stdout = open(os.devnull, "w")
    try:
        rc = run.main()
    finally:
        sys.stdout.close()
        sys.stdout = stdout
        session.make_rundir = orig
    say("== %s: end (exit %s)" % (mode, rc))


def plan(mode="check"):
    """spec.check_plan() for the options of MODE, printed as it is: no
    recorder, nothing of run.py but its options."""
    o = run.parse(MODES[mode])
    topologies = [n for n in o.names if n in run.TOPOLOGIES]
    for kernel, names, boots in spec.check_plan(topologies, o.driver, spec.Options.of(o)):
        print("== plan: kernel %s: %s" % (kernel, " ".join(names)))
        for b in boots:
            print("%s: kernel %s, driver %s, -cpu %s, -m %s, tests %s%s; %s" % (
                b.tag, b.kernel, b.driver, b.cpu, b.memory, ",".join(b.tests) or "-",
                ", KUnit" if b.kunit else "", b.full_cmdline()))


def main(argv):
    if argv[:1] == ["plan"]:
        plan(*argv[1:])
        return 0
    install()
    if argv == ["variants"]:
        argv = list(VARIANTS)
    MODES.update(VARIANTS)
    for mode in argv or [m for m in MODES if m not in VARIANTS]:
        listing(mode)
    for line in OUT:
        print(line)
    subprocess.run(["rm", "-rf", TMP])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
