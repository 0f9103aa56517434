# SPDX-License-Identifier: GPL-2.0-only
"""What a boot is, as a value: Boot (the hardware, the kernel, the driver,
the guest CPU and memory, the kernel command line, the tests it must show),
and the functions that make the boots of make check, make run, make bench,
the stock kernels and the differential oracle from qemu/topologies.py's
data.  check_plan() and check_boots() alone decide which tests run where,
on which guest kernels.

Nothing here builds or boots: run.py builds what the boots need
(qemu/builds.py) and hands each Boot to qemu/pipeline.py, which prepares
it, boots it (qemu/boot.py) and has results.py evaluate it against it."""

from dataclasses import dataclass, replace

from topologies import (TOPOLOGIES, KERNELS, CHECK_KERNELS, SELFTESTS, TEST_TOPOLOGIES, REPEAT_TESTS,
                        REPEAT_TOPOLOGIES, STOCK_HW, STOCK_TESTS, STOCK_UNBOUND_NOGROUP,
                        STOCK_FEATURES)

DEFAULT_CPU = "cortex-a57"
DEFAULT_MEMORY = "1G"
DEFAULT_TIMEOUT = 720   # seconds before QEMU is killed
# make bench's grid: a row per guest CPU model (run.py --bench-cpus).
BENCH_CPUS = ("cortex-a57", "neoverse-n1", "max")
# The devices behind the SMMUs defer their probe until /init has loaded
# smmuv3.ko; on a loaded host (two CPUs shared by several guests) the
# kernel alone can take minutes to get there, and a device whose deferral
# timed out binds without an IOMMU.
BASE_CMDLINE = ("console=ttyAMA0 panic=-1 deferred_probe_timeout=600 printk.time=1 "
                "printk.devkmsg=on")

# replace(boot, cpu="max", ...): a Boot like another (dataclasses.replace).
__all__ = ["Boot", "Options", "hardware", "tag_for", "check_plan", "check_boots", "demo_boot",
           "bench_boot", "stock_boot", "diff_boot", "plain_boot", "acpidump_boot", "testtimeout", "replace"]


@dataclass(frozen=True)
class Options:
    """What the command line says about every boot (run.py's options; their
    defaults are these)."""
    timeout: int = DEFAULT_TIMEOUT
    memory: str = DEFAULT_MEMORY
    passthrough: str = "topology"   # "topology", "on" or "off"
    append: tuple = ()              # more kernel command line, after the boot's own
    kdir: bool = False              # a kernel tree of the user's (--kdir)
    default_kernel: str = "debug"   # --kernel: boots of another kernel get a tag prefix
    repeat: int = 0                 # --repeat: quick boots of REPEAT_TOPOLOGIES (default kernel)
    repeat_only: bool = False       # --repeat-only: those alone (make soak)
    all_kernels: bool = False       # --check without --kdir: every CHECK_KERNELS kernel

    @classmethod
    def of(cls, o):
        return cls(timeout=o.timeout, memory=o.memory, passthrough=o.passthrough,
                   append=tuple(o.append), kdir=bool(o.kdir), default_kernel=o.kernel,
                   repeat=o.repeat or 0, repeat_only=bool(o.repeat_only),
                   all_kernels=bool(getattr(o, "check", False)) and not o.kdir)

    def passthrough_for(self, default):
        return {"on": True, "off": False}.get(self.passthrough, default)


@dataclass(frozen=True)
class Boot:
    """One guest boot.  The guest kernel image and initramfs are build
    products, given to boot.py beside it; everything else is here."""
    tag: str                    # its name in the results and the log files
    hw: object                  # topologies.Topology: SMMUs, devices, firmware
    kernel: str                 # KERNELS name, or "stock-SERIES"
    driver: str                 # ours, upstream (the kernel's), stock-dkms
    cmdline: tuple              # after BASE_CMDLINE and iommu.passthrough=1
    passthrough: bool = False   # iommu.passthrough=1
    cpu: str = DEFAULT_CPU      # -cpu
    memory: str = DEFAULT_MEMORY  # -m
    timeout: int = DEFAULT_TIMEOUT  # seconds before QEMU is killed
    what: str = ""              # the "booting TAG (WHAT)" line
    # The verdict (results.py verdict()): checked only when `verdict`; the
    # selftests that must run, KUnit loaded, the module's features and
    # kmemleak that the kernel's data call for.
    verdict: bool = True
    tests: tuple = ()
    kunit: bool = False
    features: tuple = ()
    kmemleak: bool = False
    # More QEMU arguments, right after -append (tracing, -icount).
    qemu_extra: tuple = ()

    @property
    def topology(self):
        return self.hw.name

    @property
    def disks(self):
        return self.hw.disks

    @property
    def where(self):
        """What ALLOWED_SKIPS and EXPECTED_ERRORS match (topologies.where_matches())."""
        return {"topology": self.topology, "kernel": self.kernel, "driver": self.driver,
                "tag": self.tag}

    def full_cmdline(self):
        return " ".join([BASE_CMDLINE] + (["iommu.passthrough=1"] if self.passthrough else [])
                        + list(self.cmdline))


def hardware(topo, opts):
    """The Boot fields of a topology's hardware: the topology, its CPU
    model; the memory and timeout of the options."""
    return {"hw": topo, "cpu": topo.cpu or DEFAULT_CPU, "memory": opts.memory,
            "timeout": opts.timeout}


def testtimeout(timeout):
    """smtest.testtimeout: a selftest is killed before the boot is."""
    return max(30, timeout - 60)


def _smtest(mode, driver, topo, timeout):
    return ["smtest.mode=" + mode, "smtest.driver=" + driver, "smtest.topology=" + topo.name,
            "smtest.instances=%d" % topo.instances, "smtest.testtimeout=%d" % testtimeout(timeout)]


def _fw(topo):
    """The command line of the topology's IORT upgrade (qemu/iort.py)."""
    return topo.iort.guest_cmdline() if topo.iort else []


def tag_for(name, kernel, opts):
    """A boot's tag: NAME, prefixed by the kernel unless it is the default one."""
    if opts.kdir or kernel == opts.default_kernel:
        return name
    return "linux-%s/%s" % (kernel, name)


def _chosen(append):
    """smtest.tests= and smtest.kunit= of the user's --append."""
    words = [a for arg in append for a in arg.split()]
    tests = [a.split("=", 1)[1].split(",") for a in words if a.startswith("smtest.tests=")]
    kunit = [a.split("=", 1)[1] for a in words if a.startswith("smtest.kunit=")]
    return tests, kunit


def check_plan(names, driver, opts):
    """Every boot of the topologies NAMES with DRIVER, for each guest kernel
    that boots some: [(kernel, its topologies, its Boots)], the options'
    kernel first, with the repeat boots (opts.repeat; only those with
    opts.repeat_only); then, with opts.all_kernels (make check), each other
    kernel of CHECK_KERNELS with the topologies of its Kernel.topologies
    among NAMES (in that order), no repeat boots (none at all with
    opts.repeat_only)."""
    plan = []
    if names:
        k = opts.default_kernel
        plan.append((k, list(names), check_boots(names, k, driver, opts, repeat=opts.repeat,
                                                 repeat_only=opts.repeat_only)))
    if opts.all_kernels:
        for kname in CHECK_KERNELS:
            todo = [n for n in KERNELS[kname].topologies if n in names]
            if kname != opts.default_kernel and todo:
                plan.append((kname, todo, check_boots(todo, kname, driver, opts,
                                                      repeat_only=opts.repeat_only)))
    return plan


def check_boots(names, kernel, driver, opts, repeat=0, repeat_only=False):
    """The boots of topologies NAMES on guest kernel KERNEL with DRIVER:
    each topology's main boot and its parts (Topology.parts), then REPEAT
    quick boots of REPEAT_TOPOLOGIES.  Which selftests each boot runs is
    decided here: the topology's own list, else every selftest that
    TEST_TOPOLOGIES does not keep elsewhere; a part's tests are in no other
    boot of its topology.  Tests chosen with --append smtest.tests= replace
    all that (and the parts)."""
    k = KERNELS[kernel]
    chosen, kunit_chosen = _chosen(opts.append)
    boots = []  # (tag, topology, quick, part)
    if not repeat_only:
        for name in names:
            boots.append((name, name, False, None))
            boots += [("%s-%s" % (name, part), name, False, part)
                      for part, _ in ([] if chosen else TOPOLOGIES[name].parts)]
    for n in range(1, repeat + 1):
        boots += [("%s-repeat%d" % (name, n), name, True, None)
                  for name in REPEAT_TOPOLOGIES if name in names]
    out = []
    for tag, name, quick, part in boots:
        tag = tag_for(tag, kernel, opts)
        topo = TOPOLOGIES[name]
        extra = _smtest("check", driver, topo, opts.timeout)
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
        no_kunit = quick or part or not topo.kunit
        if no_kunit:
            extra.append("smtest.kunit=0")
        expected = chosen[-1] if chosen else (tests if tests is not None else SELFTESTS)
        what = "%s, driver %s, %s kernel%s" % (
            topo.desc, driver, kernel if not opts.kdir else "KDIR",
            "; quick repeat boot" if quick else
            "; part %s: %s" % (part, ", ".join(tests)) if part else "")
        out.append(Boot(tag=tag, kernel=kernel, driver=driver,
                        cmdline=tuple(extra + _fw(topo)) + opts.append,
                        passthrough=opts.passthrough_for(topo.passthrough), what=what,
                        tests=tuple(expected),
                        kunit=driver == "ours" and not no_kunit and kunit_chosen[-1:] != ["0"],
                        features=tuple(k.features), kmemleak=k.kmemleak,
                        **hardware(topo, opts)))
    return out


def demo_boot(kernel, driver, tests, opts, topology="acpi2"):
    """make run's boot (qemu/demo.py): translated default domains unless
    --passthrough says otherwise, no KUnit, TESTS only."""
    topo = TOPOLOGIES[topology]
    extra = _smtest("demo", driver, topo, opts.timeout)
    extra.insert(4, "smtest.kunit=0")
    extra.append("smtest.tests=" + ",".join(tests))
    return Boot(tag=topology, kernel=kernel, driver=driver,
                cmdline=tuple(extra + _fw(topo)) + opts.append,
                passthrough=opts.passthrough_for(False),
                what="probe, IOMMU groups, disk I/O, " + ", ".join(tests),
                tests=tuple(tests), features=tuple(KERNELS[kernel].features),
                **hardware(topo, opts))


def bench_boot(tag, topology, driver, kernel, args, opts, cpu=None, passthrough=None,
               prog="smmuv3_bench", qemu_extra=()):
    """A benchmark boot (qemu/bench.py): smmuv3_bench (or PROG) with ARGS,
    on CPU, with iommu.passthrough=1 as PASSTHROUGH says (None: as the
    options and the topology say).  Its figures are read, not judged."""
    topo = TOPOLOGIES[topology]
    extra = _smtest("bench", driver, topo, opts.timeout) + ["smtest.bench=" + ",".join(args)]
    if prog != "smmuv3_bench":
        extra.append("smtest.bench_prog=" + prog)
    pt = opts.passthrough_for(topo.passthrough) if passthrough is None else passthrough
    hw = hardware(topo, opts)
    own = hw.pop("cpu")
    cpu = own if cpu is None else cpu
    return Boot(tag=tag, kernel=kernel, driver=driver,
                cmdline=tuple(extra + _fw(topo)) + opts.append, passthrough=pt, cpu=cpu,
                verdict=False, qemu_extra=tuple(qemu_extra), **hw,
                what="driver %s, %s kernel, -cpu %s, passthrough %s%s" % (
                    driver, kernel, cpu, "on" if pt else "off",
                    ", traced" if "-trace" in qemu_extra else
                    ", instruction clock" if "-icount" in qemu_extra else ""))


def stock_boot(series, release, builtin, deb, opts, tests=STOCK_TESTS, bench=None):
    """A stock Debian kernel's boot on STOCK_HW: with smmuv3.ko from the
    smmuv3-dkms package (the built-in driver blacklisted), or with its
    built-in arm-smmu-v3 (BUILTIN); TESTS, and smmuv3_bench with the
    arguments BENCH in bench mode if given (then not judged)."""
    topo = TOPOLOGIES[STOCK_HW]
    tag = "stock-%s" % series + ("-builtin" if builtin else "") + ("-bench" if bench else "")
    driver = "upstream" if builtin else "stock-dkms"
    extra = _smtest("bench" if bench else "stock", driver, topo, opts.timeout)
    extra.append("smtest.tests=" + ",".join(tests))
    if bench:
        extra.append("smtest.bench=" + ",".join(bench))
    if builtin and series in STOCK_UNBOUND_NOGROUP:
        extra.append("smtest.unbound_nogroup=1")
    if not builtin:
        extra.insert(0, "initcall_blacklist=arm_smmu_driver_init")
    what = "Debian's %s kernel, %s" % (
        release, "its built-in arm-smmu-v3" if builtin else
        "smmuv3.ko from %s, the built-in driver blacklisted" % deb)
    return Boot(tag=tag, kernel="stock-" + series, driver=driver,
                cmdline=tuple(extra + _fw(topo)) + opts.append,
                passthrough=opts.passthrough_for(topo.passthrough), what=what,
                verdict=not bench, tests=tuple(tests), features=tuple(STOCK_FEATURES[series]),
                **hardware(topo, opts))


def diff_boot(tag, topology, driver, kernel, opts, qemu_extra=()):
    """A boot of the differential oracle (qemu/difforacle.py): the scenario
    only, traced (QEMU_EXTRA); its trace is compared, the boot not judged."""
    topo = TOPOLOGIES[topology]
    extra = _smtest("check", driver, topo, opts.timeout) + [
        "smtest.tests=smmuv3_scenario", "smtest.kunit=0"]
    return Boot(tag=tag, kernel=kernel, driver=driver,
                cmdline=tuple(extra + _fw(topo)) + opts.append,
                passthrough=opts.passthrough_for(topo.passthrough), verdict=False,
                qemu_extra=tuple(qemu_extra), what="%s, driver %s, traced" % (topo.desc, driver),
                **hardware(topo, opts))


def plain_boot(tag, topology, kernel, driver, opts, cmdline=()):
    """A boot of TOPOLOGY with the kernel command line CMDLINE (after the
    topology's firmware's), not judged (qemu/vmm.py's steps)."""
    topo = TOPOLOGIES[topology]
    return Boot(tag=tag, kernel=kernel, driver=driver,
                cmdline=tuple(_fw(topo)) + tuple(cmdline) + opts.append,
                passthrough=opts.passthrough_for(topo.passthrough), verdict=False,
                what="%s, driver %s" % (topo.desc, driver), **hardware(topo, opts))


def acpidump_boot(b, opts):
    """The boot that reads QEMU's own ACPI tables for the hardware of the
    Boot B (qemu/iort.py): its topology's CPU and memory, no firmware
    command line (the tables are not upgraded yet), not judged."""
    return Boot(tag=b.tag + "-acpidump", kernel=b.kernel, driver=b.driver,
                cmdline=("smtest.mode=acpidump",) + opts.append,
                passthrough=opts.passthrough_for(b.hw.passthrough), verdict=False,
                what="QEMU's ACPI tables", **hardware(b.hw, opts))
