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
import fcntl
import glob
import gzip
import hashlib
import lzma
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the repo
sys.path.insert(0, HERE)
from initramfs import Initramfs  # noqa: E402
import iort  # noqa: E402
from results import (Results, note, parse_tap, tap_leaves, _subtree_failed,  # noqa: E402
                     console_reports, _results_done, _wrap, _kmemleak_objects, _keyvals)
from topologies import (TOPOLOGIES, KERNELS, CHECK_KERNELS, DEFAULT_TOPOLOGIES,  # noqa: E402
                        REPEAT_TESTS, REPEAT_TOPOLOGIES, CHECK_REPEAT, STOCK, STOCK_HW,
                        STOCK_DESC, STOCK_SERIES, STOCK_DKMS_SERIES, STOCK_TESTS,
                        STOCK_UNBOUND_NOGROUP, TEST_TOPOLOGIES)

REPO = os.path.dirname(HERE)
CACHE = os.environ.get("SMMUV3_CACHE", "/var/cache/smmuv3")
# Inside qemu/env.sh's chroot the repo is /src and the cache /cache.
IN_CHROOT = (REPO == "/src" and CACHE == "/cache") or os.environ.get("SMMUV3_IN_CHROOT") == "1"
# Where the user sees these directories (only differs inside the chroot).
SHOW_REPO = os.environ.get("SMMUV3_HOST_REPO", REPO)
SHOW_CACHE = os.environ.get("SMMUV3_HOST_CACHE", CACHE)

KEEP_RUNS = 30
DATA_SIZE = 1 << 20  # /data.bin, written to and read back from each disk
DISK_SIZE = 16 << 20
# Seconds a guest may take from its last result ("@@done") to QEMU's exit.
POWEROFF_GRACE = 60
BASE_CMDLINE = ("console=ttyAMA0 panic=-1 deferred_probe_timeout=30 printk.time=1 "
                "printk.devkmsg=on")
CHROOT_BUSYBOX = "/usr/bin/busybox"
CHROOT_FIRMWARE = "/usr/share/qemu-efi-aarch64/QEMU_EFI.fd"
# Info sections of the result channel that `make run` shows.
DEMO_INFOS = {
    "iommus": "/sys/class/iommu: instances, their devices, groups (type) and drivers",
    "iomem": "/proc/iomem",
    "interrupts": "/proc/interrupts (SMMU lines)",
    "dmesg-smmu": "kernel log (SMMU/IOMMU lines)",
}


# --------------------------------------------------------------------------
# Running things here or in the chroot

def chroot_path(p):
    if IN_CHROOT:
        return p
    for host, inside in ((REPO, "/src"), (CACHE, "/cache")):
        if p == host or p.startswith(host + "/"):
            return inside + p[len(host):]
    raise SystemExit("run.py: %s is not visible in the chroot (only the repo and "
                     "$SMMUV3_CACHE are)" % p)


def local_path(p):
    """A path printed by a tool in the chroot, as seen from here."""
    if IN_CHROOT:
        return p
    for inside, host in (("/src", REPO), ("/cache", CACHE)):
        if p == inside or p.startswith(inside + "/"):
            return host + p[len(inside):]
    return p


def show(p):
    """A path as the user sees it on the host."""
    for mine, theirs in ((CACHE, SHOW_CACHE), (REPO, SHOW_REPO)):
        if p == mine or p.startswith(mine + "/"):
            return theirs + p[len(mine):]
    return p


def _translate_arg(a):
    if IN_CHROOT:
        return a
    for host, inside in ((REPO, "/src"), (CACHE, "/cache")):
        a = re.sub(re.escape(host) + r"(?=/|$|[:,= ])", inside, a)
    return a


def in_chroot(cmd, cwd=None):
    """CMD as a command line that runs it in the chroot (as is when already there)."""
    if IN_CHROOT:
        return (["env", "-C", cwd] if cwd else []) + cmd
    pre = [os.path.join(HERE, "env.sh"), "run"]
    if cwd:
        pre += ["env", "-C", chroot_path(cwd)]
    return pre + [_translate_arg(a) for a in cmd]


def run_logged(cmd, log, cwd=None, echo=False):
    """Run CMD with output to LOG (and to our stdout if ECHO); return the exit status."""
    with open(log, "ab") as f:
        f.write(("$ %s\n" % " ".join(shlex.quote(c) for c in cmd)).encode())
        f.flush()
        if not echo:
            return subprocess.call(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=cwd,
                                   stdin=subprocess.DEVNULL)
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=cwd,
                             stdin=subprocess.DEVNULL)
        for chunk in iter(lambda: p.stdout.readline(), b""):
            f.write(chunk)
            sys.stdout.write(chunk.decode("utf-8", "replace"))
        sys.stdout.flush()
        return p.wait()


def tail(path, n=15):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-n:])


@contextlib.contextmanager
def flock(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            note("waiting for %s (another run holds it)" % show(path))
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


# --------------------------------------------------------------------------
# Kernel modules: dependencies from .modinfo, for insmod in the guest

def read_module(path):
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".xz"):
        data = lzma.decompress(data)
    elif path.endswith(".gz"):
        data = gzip.decompress(data)
    elif path.endswith(".zst"):
        data = subprocess.run(["zstd", "-qdc", path], check=True, stdout=subprocess.PIPE).stdout
    return data


def modinfo(data, key):
    m = re.search(rb"(?:^|\0)" + key.encode() + rb"=([^\0]*)\0", data)
    return m.group(1).decode() if m else None


def module_index(moddir):
    """Module name -> file, for every *.ko[.xz|.gz|.zst] under MODDIR."""
    index = {}
    for root, _, files in os.walk(moddir):
        for fn in files:
            m = re.match(r"(.+)\.ko(\.xz|\.gz|\.zst)?$", fn)
            if m:
                index.setdefault(m.group(1).replace("-", "_"), os.path.join(root, fn))
    return index


def resolve_modules(names, index, builtin=()):
    """[(name, bytes)] for NAMES and their dependencies, dependencies first."""
    out, seen = [], set()

    def visit(name):
        name = name.replace("-", "_")
        if name in seen:
            return
        seen.add(name)
        if name not in index:
            if name in builtin:
                return
            raise RuntimeError("module %s not found" % name)
        data = read_module(index[name])
        for dep in filter(None, (modinfo(data, "depends") or "").split(",")):
            visit(dep)
        out.append((name, data))

    for n in names:
        visit(n)
    return out


def builtin_modules(moddir):
    names = set()
    try:
        with open(os.path.join(moddir, "modules.builtin")) as f:
            for line in f:
                names.add(os.path.basename(line.strip()).split(".ko")[0].replace("-", "_"))
    except OSError:
        pass
    return names


# --------------------------------------------------------------------------

class Runner:
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
        self.bench_output = {}  # boot tag -> the guest's bench section lines
        self.selftest_output = {}  # (boot tag, selftest) -> its output lines
        self.prebuilds = {}     # kernel name -> its background kernel.sh (prebuild())

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
            shutil.rmtree(os.path.join(logs, old), ignore_errors=True)
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

    # -- building -------------------------------------------------------------

    def kernel(self):
        if self.kdir or self.kernel_failed:
            return self.kdir
        if self.o.kdir:
            kdir = os.path.abspath(self.o.kdir)
            if not os.path.exists(os.path.join(kdir, "arch/arm64/boot/Image")):
                raise SystemExit("run.py: no arch/arm64/boot/Image in KDIR=%s" % kdir)
            self.kdir = kdir
            self.kname = "kdir-" + hashlib.sha256(kdir.encode()).hexdigest()[:8]
            return kdir
        k = self.kspec
        variant = k.name
        log = self.log("build-kernel-%s.log" % variant)
        pre = self.prebuilds.pop(variant, None)
        if pre and pre.poll() is None:
            t = time.time()
            note("waiting for the background build of the %s kernel" % variant)
            pre.wait()
            note("waited %.0f s for it" % (time.time() - t))
        with flock(os.path.join(CACHE, "kernel", ".%s.lock" % variant)):
            t = time.time()
            cmd = in_chroot([chroot_path(os.path.join(HERE, "kernel.sh")), k.name, k.series]
                            + k.fragments)
            with open(log, "ab") as f:
                p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=f,
                                     stdin=subprocess.DEVNULL)
                timer = threading.Timer(
                    5, lambda: note("building the %s guest kernel (%s; about 5-15 minutes on 2 "
                                    "cores); log: %s" % (variant, k.desc, show(log))))
                timer.start()
                out = p.stdout.read().decode()
                rc = p.wait()
                timer.cancel()
        if rc != 0 or not out.strip():
            self.results.add("FAIL", "build/kernel-%s" % variant, "kernel.sh failed, see %s: %s"
                             % (show(log), tail(log, 5)))
            self.kernel_failed = True
            return None
        self.kdir = local_path(out.strip().splitlines()[-1])
        self.kname = os.path.basename(self.kdir)
        if time.time() - t > 30:
            note("built the %s kernel in %.0f s" % (variant, time.time() - t))
        return self.kdir

    def prebuild(self, name):
        """Start building the guest kernel NAME in the background, at the
        lowest CPU priority, so that it uses what the boots of the current
        kernel leave idle (a cold make check builds two kernels).  kernel()
        waits for it when NAME's turn comes; kernel.sh's lock and cache do
        the rest (an already built kernel returns at once)."""
        if self.o.kdir or name in self.prebuilds or name == self.kspec.name:
            return
        k = KERNELS[name]
        log = open(self.log("build-kernel-%s.log" % name), "ab")
        cmd = in_chroot([chroot_path(os.path.join(HERE, "kernel.sh")), k.name, k.series]
                        + k.fragments)
        self.prebuilds[name] = subprocess.Popen(["nice", "-n", "19"] + cmd, stdout=log,
                                                stderr=log, stdin=subprocess.DEVNULL)
        log.close()

    def prefetch_stock(self):
        """Download and unpack the stock kernels and headers of
        STOCK_DKMS_SERIES in the background, at the lowest CPU priority, while
        the guest kernel builds: on a cold cache this hides the downloads.
        run_stock() later finds them in the cache (same lock, same scripts)."""
        if self.o.kdir or self.o.driver != "ours":
            return
        lock = chroot_path(os.path.join(CACHE, "stock", ".lock"))
        os.makedirs(os.path.join(CACHE, "stock"), exist_ok=True)
        script = "for s in %s; do %s fetch $s >/dev/null || exit 1; done" % (
            " ".join(STOCK_DKMS_SERIES), chroot_path(os.path.join(HERE, "stock.sh")))
        log = open(self.log("build-stock-prefetch.log"), "ab")
        self.prebuilds["stock"] = subprocess.Popen(
            ["nice", "-n", "19"] + in_chroot(["flock", lock, "bash", "-c", script]),
            stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()

    def outdir(self, what):
        d = os.path.join(REPO, "out", self.kname, what)
        os.makedirs(d, exist_ok=True)
        return d

    def kbuild_has_mo(self):
        """Does the kernel's kbuild put external module output in MO= (7.x)?
        6.12's writes it next to the sources."""
        src = self.ksrc()
        src = local_path(os.readlink(src)) if os.path.islink(src) else src
        try:
            with open(os.path.join(src, "Makefile")) as f:
                return '"$(origin MO)"' in f.read()
        except OSError:
            return True

    def kmake(self, out, args, log, echo=False):
        if self.kbuild_has_mo():
            m = ["M=" + REPO, "MO=" + out]
        else:
            # A copy of the sources in OUT, built in place.
            for sub in ("Kbuild", "include", "module"):
                dst = os.path.join(out, sub)
                if os.path.isdir(os.path.join(REPO, sub)):
                    shutil.copytree(os.path.join(REPO, sub), dst, dirs_exist_ok=True)
                else:
                    shutil.copy2(os.path.join(REPO, sub), dst)
            m = ["M=" + out]
        cmd = ["make", "-C", self.kdir] + m + ["ARCH=arm64", "CROSS_COMPILE=" + self.cross] + args
        return run_logged(self.build_cmd(cmd), log, echo=echo)

    def build_module(self, echo=False):
        """Build smmuv3.ko and smmuv3_kunit.ko; returns their dir or None."""
        out = self.outdir("module")
        log = self.log("build-module.log")
        t = time.time()
        with flock(os.path.join(out, ".lock")):
            for ko in ("smmuv3.ko", "smmuv3_kunit.ko"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(out, ko))
            rc = self.kmake(out, ["-j%d" % os.cpu_count(), "modules"], log, echo=echo)
        if rc != 0 or not os.path.exists(os.path.join(out, "smmuv3.ko")):
            self.results.add("FAIL", "build/module", "see %s: %s" % (
                show(log), " | ".join(l for l in tail(log, 40).splitlines()
                                      if "error" in l.lower())[:250] or tail(log, 3)))
            return None
        self.results.add("PASS", "build/module")
        note("module built in %.0f s: %s" % (time.time() - t, show(out)))
        return out

    def khdr(self):
        inc = os.path.join(self.kdir, "usr/include")
        if os.path.isdir(os.path.join(inc, "linux")):
            return inc
        out = self.outdir("usr")
        cmd = ["make", "-C", self.kdir, "ARCH=arm64", "headers_install",
               "INSTALL_HDR_PATH=" + out]
        run_logged(self.build_cmd(cmd), self.log("build-headers.log"))
        return os.path.join(out, "include")

    def ksrc(self):
        """The kernel source tree, as a path for the build environment."""
        for name in ("source-tree", "source"):
            p = os.path.join(self.kdir, name)
            # The link may point into the chroot's /cache: look there.
            real = local_path(os.readlink(p)) if os.path.islink(p) else p
            if os.path.exists(os.path.join(real, "Makefile")):
                return p
        return self.kdir

    def build_selftests(self):
        """Returns [(name, path)] of selftest binaries, or None if there are none.
        Built once per run and guest kernel, against that kernel's uapi
        headers (selftests/Makefile replaces a test that needs uapi the
        kernel lacks by a stand-in that says so); the stock kernels use the
        last ones built (static binaries; what a kernel lacks is a skip at
        run time)."""
        if not hasattr(self, "_selftests"):
            self._selftests = {}
        if self.kname not in self._selftests:
            self._selftests[self.kname] = self._build_selftests()
        return self._selftests[self.kname]

    def _build_selftests(self):
        if not os.path.exists(os.path.join(REPO, "selftests", "Makefile")):
            self.results.add("SKIP", "build/selftests", "no selftests/Makefile in the repo yet")
            return None
        out = self.outdir("selftests")
        log = self.log("build-selftests%s.log" % (
            "" if self.kspec.name == self.o.kernel else "-" + self.kspec.name))
        with flock(os.path.join(out, ".lock")):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(out, "tests.list"))
            cmd = ["make", "-C", os.path.join(REPO, "selftests"), "O=" + out,
                   "CC=" + self.cross + "gcc", "KHDR=" + self.khdr(), "KSRC=" + self.ksrc()]
            rc = run_logged(self.build_cmd(cmd), log)
        tl = os.path.join(out, "tests.list")
        if rc != 0 or not os.path.exists(tl):
            self.results.add("FAIL", "build/selftests", "see %s: %s" % (show(log), tail(log, 3)))
            return None
        tests = []
        with open(tl) as f:
            for line in f:
                name = line.strip()
                if not name:
                    continue
                path = name if os.path.isabs(name) else os.path.join(out, name)
                path = local_path(path) if not os.path.exists(path) else path
                if not os.path.exists(path):
                    self.results.add("FAIL", "build/selftests", "%s is in tests.list but was "
                                     "not built" % name)
                    continue
                tests.append((os.path.basename(name), path))
        if len(tests) == 0:
            self.results.add("SKIP", "build/selftests", "tests.list is empty")
            return None
        self.results.add("PASS", "build/selftests")
        return tests

    # -- guest pieces ---------------------------------------------------------

    def busybox(self):
        p = self.o.busybox or os.path.join(self.chroot_dir(), CHROOT_BUSYBOX.lstrip("/"))
        if not os.path.exists(p):
            raise SystemExit("run.py: no busybox at %s (busybox-static:arm64)" % p)
        return p

    def firmware(self):
        return self.o.firmware or os.path.join(self.chroot_dir(), CHROOT_FIRMWARE.lstrip("/"))

    def data_file(self):
        p = self.log("data.bin")
        if not os.path.exists(p):
            with open(p, "wb") as f:
                f.write(random.Random(0x5AA5).randbytes(DATA_SIZE))
        return p

    def initramfs(self, name, driver_mods=(), kunit_mods=(), pre_mods=(), selftests=(),
                  files=()):
        """Build NAME.cpio.gz in the run dir; module lists are [(name, bytes)],
        FILES [(guest path, local path)] of executables."""
        t = time.time()
        ird = Initramfs()
        ird.file("/init", os.path.join(HERE, "init.sh"), mode=0o755)
        ird.file("/bin/busybox", self.busybox(), mode=0o755)
        ird.file("/data.bin", self.data_file())
        for sub, mods in (("pre", pre_mods), ("driver", driver_mods), ("kunit", kunit_mods)):
            ird.dir("/modules/" + sub)
            for i, (mname, data) in enumerate(mods):
                ird.data("/modules/%s/%02d-%s.ko" % (sub, 10 + i, mname), data)
        if selftests:
            for tname, path in selftests:
                ird.file("/selftests/" + tname, path, mode=0o755)
            ird.data("/selftests/tests.list", "".join(n + "\n" for n, _ in selftests))
        for gpath, path in files:
            ird.file(gpath, path, mode=0o755)
        out = self.log(name + ".cpio.gz")
        ird.write(out)
        note("initramfs %s: %.1f MB in %.1f s" % (os.path.basename(out),
                                                 os.path.getsize(out) / 1e6, time.time() - t))
        return out

    # -- booting --------------------------------------------------------------

    def qemu_argv(self, topo, image, initrd, cmdline, console, results, tag):
        mem = self.o.memory
        machine = "virt,gic-version=3"
        argv = [self.o.qemu or "qemu-system-aarch64",
                "-M", machine, "-cpu", "cortex-a57", "-smp", "2", "-m", mem,
                "-display", "none", "-nodefaults", "-no-reboot",
                "-serial", "file:" + console,
                "-device", "virtio-serial-device",
                "-chardev", "file,id=res,path=" + results,
                "-device", "virtconsole,chardev=res",
                "-kernel", image, "-initrd", initrd, "-append", cmdline] + self.qemu_extra
        if topo.uefi:
            argv += ["-bios", self.firmware()]
        chassis = 1
        for i, s in enumerate(topo.smmus):
            if s.bus != "pcie.0":
                argv += ["-device", "pxb-pcie,id=%s,bus_nr=%d,bus=pcie.0" % (s.bus, s.bus_nr)]
            dev = "arm-smmuv3,primary-bus=%s,id=smmuv3.%d" % (s.bus, i)
            if s.stage:
                dev += ",stage=" + s.stage
            argv += ["-device", dev]
            # An edu and a virtio-blk, each on its own root port.
            rp = "rp%d" % chassis
            argv += ["-device", "pcie-root-port,id=%s,bus=%s,chassis=%d" % (rp, s.bus, chassis),
                     "-device", "edu,bus=%s,dma_mask=0xffffffffffff" % rp]
            chassis += 1
            rp = "rp%d" % chassis
            disk = self.log("%s-disk%d.img" % (tag, i))
            with open(disk, "wb") as f:
                f.truncate(DISK_SIZE)
            argv += ["-device", "pcie-root-port,id=%s,bus=%s,chassis=%d" % (rp, s.bus, chassis),
                     "-drive", "file=%s,if=none,format=raw,id=disk%d" % (disk, i),
                     "-device", "virtio-blk-pci,drive=disk%d,bus=%s,iommu_platform=on,"
                                "disable-legacy=on" % (i, rp)]
            chassis += 1
            if s.bridged_disk:
                rp, br = "rp%d" % chassis, "pcibr%d" % i
                disk = self.log("%s-disk%db.img" % (tag, i))
                with open(disk, "wb") as f:
                    f.truncate(DISK_SIZE)
                # Below a root port: Linux's quirk applies to bridges off the root bus.
                argv += ["-device", "pcie-root-port,id=%s,bus=%s,chassis=%d" % (rp, s.bus, chassis),
                         "-device", "i82801b11-bridge,id=%s,bus=%s" % (br, rp),
                         "-drive", "file=%s,if=none,format=raw,id=disk%db" % (disk, i),
                         "-device", "virtio-blk-pci,drive=disk%db,bus=%s,addr=0.0,vectors=0,"
                                    "iommu_platform=on,disable-legacy=on" % (i, br)]
                chassis += 1
        return argv

    def boot(self, tag, topo, image, initrd, extra_cmdline, stream=False):
        """Boot once.  Returns (status, seconds, console, results); status is "ok",
        "timeout", "poweroff" (see _wait_guest()) or "exit N"."""
        console = self.log(tag + ".console")
        results = self.log(tag + ".results")
        qlog = self.log(tag + ".qemu")
        for p in (console, results):
            open(p, "wb").close()
        passthrough = {"on": True, "off": False}.get(self.o.passthrough, topo.passthrough)
        cmdline = " ".join([BASE_CMDLINE] + (["iommu.passthrough=1"] if passthrough else []) +
                           extra_cmdline + self.o.append)
        if not (self.host_qemu or IN_CHROOT):
            # QEMU runs in the chroot: everything it reads must be visible there.
            if not image.startswith((REPO + "/", CACHE + "/")):
                copy = self.log(os.path.basename(image))
                shutil.copyfile(image, copy)
                image = copy
        argv = self.qemu_argv(topo, image, initrd, cmdline, console, results, tag)
        if not self.host_qemu:
            argv = in_chroot(argv)
        with open(qlog, "w") as f:
            f.write(" ".join(shlex.quote(a) for a in argv) + "\n")
        stop = threading.Event()
        streamer = None
        if stream:
            streamer = threading.Thread(target=_follow, args=(console, stop), daemon=True)
            streamer.start()
        t = time.time()
        with open(qlog, "a") as f:
            p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
            try:
                status = self._wait_guest(p, t, results)
            except BaseException:  # ^C: QEMU is in its own session, take it along
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                raise
            if status not in ("ok",) and not status.startswith("exit"):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        elapsed = time.time() - t
        stop.set()
        if streamer:
            streamer.join()
        return status, elapsed, console, results

    def _wait_guest(self, p, t0, results):
        """Wait for QEMU.  Returns "ok", "exit N", "timeout" (the boot took longer
        than --timeout) or "poweroff" (the guest reported @@done but QEMU was
        still running POWEROFF_GRACE seconds later: a hang in shutdown, which on
        a real machine is one that does not reboot)."""
        done_at = None
        while True:
            try:
                rc = p.wait(timeout=1)
                return "ok" if rc == 0 else "exit %d" % rc
            except subprocess.TimeoutExpired:
                pass
            now = time.time()
            if done_at is None and _results_done(results):
                done_at = now
            if done_at is not None and now - done_at > POWEROFF_GRACE:
                return "poweroff"
            if now - t0 > self.o.timeout:
                return "timeout"

    def evaluate(self, tag, status, elapsed, console, results, demo=False):
        """Turn one boot's console and result channel into test results."""
        r = self.results
        try:
            with open(results, "rb") as f:
                lines = f.read().decode("utf-8", "replace").replace("\r", "").splitlines()
        except OSError:
            lines = []
        done = False
        section = None
        body = []
        settle = None
        infos = []
        for line in lines:
            if section is not None:
                if line.startswith("@@end "):
                    self._section(tag, section, body, line, infos)
                    section, body = None, []
                else:
                    body.append(line)
                continue
            if line.startswith("@@check "):
                m = re.match(r"@@check (ok|fail|skip) (\S+)(?: # (.*))?$", line)
                if m:
                    st = {"ok": "PASS", "fail": "FAIL", "skip": "SKIP"}[m.group(1)]
                    r.add(st, "%s/%s" % (tag, m.group(2)), m.group(3) or "")
                    if demo and m.group(3) and st == "PASS":
                        note("  %s: %s" % (m.group(2), m.group(3)))
            elif line.startswith("@@begin "):
                section = line[len("@@begin "):].split()
            elif line.startswith("@@settle "):
                settle = line.split("=", 1)[1]
            elif line.startswith("@@done"):
                done = True
        if section is not None:
            self._section(tag, section, body, None, infos)
        if done and status == "poweroff":
            r.add("FAIL", "%s/boot" % tag, "the guest finished but did not power off within "
                  "%d s: QEMU killed (see the end of %s)" % (POWEROFF_GRACE, show(console)))
        elif done:
            r.add("PASS", "%s/boot" % tag)
        else:
            why = {"ok": "QEMU exited before the guest finished",
                   "timeout": "timeout after %d s: QEMU killed" % self.o.timeout}.get(
                status, "QEMU %s" % status)
            if not lines:
                why += " (nothing on the result channel)"
            r.add("FAIL", "%s/boot" % tag, why)
        reports = console_reports(console)
        for rep in reports:
            r.add("FAIL", "%s/kernel-log" % tag, rep)
        if not reports:
            r.add("PASS", "%s/kernel-log" % tag)
        note("%s: %s in %.1f s%s; console %s" % (
            tag, "finished" if done else status, elapsed,
            " (IOMMU groups settled %s s after the driver load)" % settle if settle else "",
            show(console)))
        if demo:
            for name, body in infos:
                if name in DEMO_INFOS:
                    print("---- %s ----" % DEMO_INFOS[name])
                    print("\n".join(body))
            print("----")

    def _section(self, tag, section, body, endline, infos):
        kind = section[0]
        name = section[1] if len(section) > 1 else "?"
        r = self.results
        if kind == "info":
            infos.append((name, body))
        elif kind == "kunit":
            nodes, _, _ = parse_tap(body)
            if not nodes:
                r.add("FAIL", "%s/kunit/%s" % (tag, name), "no KTAP results")
            for n in nodes:
                if n.name != name:  # the results file's top level is the suite
                    n = _wrap(name, n)
                tap_leaves([n], "%s/kunit" % tag, r)
        elif kind == "selftest":
            self.selftest_output[(tag, name)] = body
            rc = None
            if endline:
                m = re.search(r"rc=(\d+)", endline)
                rc = int(m.group(1)) if m else None
            nodes, plan, _ = parse_tap(body)
            prefix = "%s/%s" % (tag, name)
            tap_leaves(nodes, prefix, r)
            failed = any(_subtree_failed(n) for n in nodes)
            if endline is None:
                r.add("FAIL", prefix, "did not finish (the guest died or timed out)")
            elif not nodes:
                r.add("FAIL", prefix, "no TAP results (exit status %s)" % rc)
            elif plan is not None and plan != len(nodes):
                r.add("FAIL", prefix, "%d of %d planned tests reported (exit status %s)" %
                      (len(nodes), plan, rc))
            elif rc == 137:
                r.add("FAIL", prefix, "killed after %d s" % self._testtimeout())
            elif rc not in (0, 4) and not failed:  # 4: kselftest's "all skipped"
                r.add("FAIL", prefix, "exit status %s" % rc)
        elif kind == "bench":
            self.bench_output[tag] = body
            if endline is None:
                r.add("FAIL", "%s/%s" % (tag, name), "did not finish (the guest died or timed out)")
        elif kind == "kmemleak":
            objs = _kmemleak_objects(body)
            for o in objs:
                r.add("FAIL", "%s/kmemleak" % tag, o)
            if not objs:
                r.add("PASS", "%s/kmemleak" % tag)

    def _testtimeout(self):
        return max(30, self.o.timeout - 60)

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

    def run_topologies(self, names, demo=False):
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
        boots = [] if self.o.repeat_only else [(name, name, False) for name in names]
        repeat = self.o.repeat if self.kspec.name == self.o.kernel else 0
        for k in range(1, repeat + 1):
            boots += [("%s-repeat%d" % (name, k), name, True)
                      for name in REPEAT_TOPOLOGIES if name in names]
        for tag, name, quick in boots:
            tag = self.tag(tag)
            topo = TOPOLOGIES[name]
            extra = ["smtest.mode=%s" % ("demo" if demo else "check"),
                     "smtest.driver=" + self.o.driver, "smtest.topology=" + name,
                     "smtest.instances=%d" % topo.instances,
                     "smtest.testtimeout=%d" % self._testtimeout()]
            tests = REPEAT_TESTS if quick else topo.tests
            if tests is None and any(name not in TEST_TOPOLOGIES.get(n, [name])
                                     for n, _ in selftests):
                tests = [n for n, _ in selftests if name in TEST_TOPOLOGIES.get(n, [name])]
            if tests is not None:
                extra.append("smtest.tests=" + ",".join(tests))
            if quick or not topo.kunit:
                extra.append("smtest.kunit=0")
            note("booting %s (%s, driver %s, %s kernel%s)" % (
                tag, topo.desc, self.o.driver, self.kspec.name if not self.o.kdir else "KDIR",
                "; quick repeat boot" if quick else ""))
            boot_initrd, fw_extra = iort.prepare(self, topo, image, initrd)  # IORT upgrade
            st, el, con, res = self.boot(tag, topo, image, boot_initrd, extra + fw_extra,
                                         stream=self.o.verbose)
            self.evaluate(tag, st, el, con, res, demo=demo)

    def run_stock(self):
        """The stock Debian kernels of STOCK_SERIES.  Their headers go into the
        chroot (qemu/headers.sh); the smmuv3-dkms package is built and installed
        there with dpkg, its postinst building smmuv3.ko with DKMS for each
        (qemu/deb.sh); then each kernel boots on the acpi2 hardware twice: with
        that module (the built-in arm-smmu-v3 blacklisted), and with the
        built-in driver, to compare.  Both run the VFIO type1 and DMA-API tests
        with the kernel's own vfio modules."""
        if self.o.driver != "ours":
            self.results.add("SKIP", STOCK, "only for --driver ours")
            return
        if not self.kname and not self.kernel():
            # The selftests are built against the guest kernel's headers.
            self.results.add("SKIP", STOCK, "no guest kernel to build the selftests with")
            return
        pre = self.prebuilds.pop("stock", None)
        if pre:
            pre.wait()  # its failure shows again, and is reported, below
        log = self.log("build-stock.log")
        releases, kos, deb = self.prepare_stock(log)
        selftests = [x for x in (self.build_selftests() or []) if x[0] in STOCK_TESTS]
        for series in STOCK_DKMS_SERIES:
            rel = releases.get(series)
            if not rel:
                continue
            if series in STOCK_SERIES:
                self.boot_stock(series, rel, kos.get(rel), deb, selftests, log)
            elif kos.get(rel):
                self.results.add("PASS", "stock-%s/dkms-build" % series,
                                 "smmuv3.ko for %s from %s's DKMS build (not booted)" % (rel, deb))
            else:
                self.results.add("FAIL", "stock-%s/dkms-build" % series, "installing %s built no "
                                 "smmuv3.ko for %s, see %s" % (deb, rel, show(log)))

    def prepare_stock(self, log):
        """The stock headers of STOCK_DKMS_SERIES in the chroot and the
        smmuv3-dkms package built and installed there.  Returns ({series:
        release}, {release: smmuv3.ko path}, the package's file name)."""
        t = time.time()
        releases = {}
        with flock(os.path.join(CACHE, "stock", ".lock")):
            for series in STOCK_DKMS_SERIES:
                kv = _keyvals(self._capture(in_chroot(
                    [chroot_path(os.path.join(HERE, "headers.sh")), series]), log))
                if "RELEASE" in kv:
                    releases[series] = kv["RELEASE"]
                else:
                    self.results.add("FAIL", "stock-%s/headers" % series,
                                     "no stock headers, see %s: %s" % (show(log), tail(log, 2)))
            out = self._capture(in_chroot([chroot_path(os.path.join(HERE, "deb.sh")),
                                           "install"]), log)
        kos = dict(l[3:].split("=", 1) for l in out.splitlines() if l.startswith("KO_"))
        deb = os.path.basename(_keyvals(out).get("DEB", "smmuv3-dkms.deb"))
        if "DEB=" not in out or "DPKG_FAILED=1" in out or not kos:
            self.results.add("FAIL", "stock/deb", "building or installing the package failed "
                             "(DKMS built smmuv3.ko for %s only), see %s: %s" % (
                                 ", ".join(sorted(kos)) or "no kernel", show(log), tail(log, 3)))
        else:
            self.results.add("PASS", "stock/deb", "%s built and installed with dpkg; DKMS built "
                             "smmuv3.ko for %s" % (deb, ", ".join(sorted(kos)) or "nothing"))
        note("stock headers and the DKMS builds ready in %.0f s" % (time.time() - t))
        return releases, kos, deb

    def boot_stock(self, series, release, ko, deb, selftests, log, tests=STOCK_TESTS,
                   bench=None):
        """Boot one stock kernel with our DKMS module, then with its built-in
        driver, running TESTS (and smmuv3_bench with the arguments BENCH, in
        bench mode, if given; SELFTESTS then holds the benchmark too).
        Returns the two boots' tags."""
        tag = "stock-%s" % series
        tags = []
        with flock(os.path.join(CACHE, "stock", ".lock")):
            fetched = _keyvals(self._capture(in_chroot(
                [chroot_path(os.path.join(HERE, "stock.sh")), "fetch", series]), log))
        if "VMLINUZ" not in fetched:
            self.results.add("FAIL", tag + "/fetch", "stock kernel download failed: " +
                             tail(log, 3))
            return tags
        if ko:
            self.results.add("PASS", tag + "/dkms-build",
                             "smmuv3.ko for %s from %s's DKMS build" % (release, deb))
        else:
            self.results.add("FAIL", tag + "/dkms-build", "installing %s built no smmuv3.ko "
                             "for %s, see %s" % (deb, release, show(log)))
        moddir = local_path(fetched["MODULES"])
        index = module_index(moddir)
        try:
            # virtio_mmio: the result channel; vfio_pci and vfio_iommu_type1
            # (loaded on demand by a real system) for the type1 test.
            pre = resolve_modules(["virtio_mmio", "virtio_blk", "vfio_pci", "vfio_iommu_type1"],
                                  index, builtin_modules(moddir))
        except (RuntimeError, OSError) as e:
            self.results.add("FAIL", tag + "/modules", "stock modules: %s" % e)
            return tags
        topo = TOPOLOGIES[STOCK_HW]
        for builtin in (False, True):
            if not builtin and not ko:
                continue
            btag = tag + ("-builtin" if builtin else "") + ("-bench" if bench else "")
            drv = [] if builtin else [("smmuv3", read_module(local_path(ko)))]
            files = [("/bench/smmuv3_bench", p) for n, p in selftests if n == "smmuv3_bench"]
            initrd = self.initramfs("initramfs-" + btag, driver_mods=drv, pre_mods=pre,
                                    selftests=[x for x in selftests if x[0] != "smmuv3_bench"],
                                    files=files)
            extra = ["smtest.mode=%s" % ("bench" if bench else "stock"),
                     "smtest.driver=%s" % ("upstream" if builtin else "stock-dkms"),
                     "smtest.topology=" + STOCK_HW, "smtest.instances=%d" % topo.instances,
                     "smtest.testtimeout=%d" % self._testtimeout(),
                     "smtest.tests=" + ",".join(tests)]
            if bench:
                extra.append("smtest.bench=" + ",".join(bench))
            if builtin and series in STOCK_UNBOUND_NOGROUP:
                extra.append("smtest.unbound_nogroup=1")
            if not builtin:
                extra.insert(0, "initcall_blacklist=arm_smmu_driver_init")
            note("booting %s (Debian's %s kernel, %s)" % (
                btag, release, "its built-in arm-smmu-v3" if builtin else
                "smmuv3.ko from %s, the built-in driver blacklisted" % deb))
            st, el, con, res = self.boot(btag, topo, local_path(fetched["VMLINUZ"]), initrd,
                                         extra, stream=self.o.verbose)
            self.evaluate(btag, st, el, con, res)
            tags.append(btag)
        return tags

    def _capture(self, cmd, log):
        with open(log, "ab") as f:
            f.write(("$ %s\n" % " ".join(cmd)).encode())
            f.flush()
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=f, stdin=subprocess.DEVNULL)
            f.write(p.stdout)
        return p.stdout.decode() if p.returncode == 0 else ""

    # -- static checks ----------------------------------------------------------

    def checkpatch_pl(self):
        """scripts/checkpatch.pl from a kernel source tree, as a build-env path."""
        if self.o.kdir:
            for sub in ("source", "."):
                p = os.path.join(self.o.kdir, sub, "scripts/checkpatch.pl")
                if os.path.exists(p):
                    return p
            raise SystemExit("run.py: no scripts/checkpatch.pl under KDIR")
        # A source tree kernel.sh extracted, else just the three files checkpatch
        # needs, from the linux-source tarball (seconds instead of minutes).
        trees = sorted(glob.glob(os.path.join(CACHE, "src", "linux-source-7.*", ".complete")))
        if trees:
            return os.path.join(os.path.dirname(trees[-1]), "scripts/checkpatch.pl")
        dest = os.path.join(CACHE, "checkpatch")
        p = os.path.join(dest, "scripts/checkpatch.pl")
        if not os.path.exists(p):
            os.makedirs(dest, exist_ok=True)
            script = ("t=$(ls /usr/src/linux-source-7.*.tar.xz | sort -V | tail -n1) && "
                      "tar -C %s --strip-components=1 -xJf \"$t\" --wildcards "
                      "'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' "
                      "'*/scripts/const_structs.checkpatch'" % chroot_path(dest))
            subprocess.run(in_chroot(["sh", "-c", script]), check=True, stdin=subprocess.DEVNULL)
        return p

    def checkpatch(self, echo=False):
        name = "static/checkpatch"
        files = sorted(glob.glob(os.path.join(REPO, "module", "*.c")) +
                       glob.glob(os.path.join(REPO, "module", "tests", "*.c")) +
                       glob.glob(os.path.join(REPO, "include", "smmuv3", "*.h")))
        if not files:
            self.results.add("SKIP", name, "no sources")
            return
        log = self.log("static-checkpatch.log")
        cmd = ["perl", self.checkpatch_pl(), "--strict", "--no-tree", "--terse", "--showfile",
               "--no-summary", "-f"] + [os.path.relpath(f, REPO) for f in files]
        # From the repo root, as in a kernel tree: checkpatch then takes the
        # CamelCase identifiers that include/ defines as known.  It caches them
        # in .checkpatch-camelcase.* there; remove what this run left.
        before = set(glob.glob(os.path.join(REPO, ".checkpatch-camelcase.*")))
        try:
            rc = run_logged(self.build_cmd(cmd, cwd=REPO), log, echo=echo)
        finally:
            for f in set(glob.glob(os.path.join(REPO, ".checkpatch-camelcase.*"))) - before:
                with contextlib.suppress(OSError):
                    os.unlink(f)
        issues = [l.replace(REPO + "/", "") for l in tail(log, 100000).splitlines()[1:]
                  if re.search(r": (ERROR|WARNING|CHECK):", l)]
        if rc == 0 and not issues:
            self.results.add("PASS", name)
        else:
            self.results.add("FAIL", name, "%d issue(s), see %s; first: %s" % (
                len(issues), show(log), issues[0] if issues else tail(log, 2)))

    def sparse_check_cmd(self, out, log):
        """CHECK= for kbuild.  Debian 13's sparse (0.6.4) predates __typeof_unqual__,
        which the kernel's headers use under sparse; kbuild would then silently
        skip sparse (scripts/checker-valid.sh).  In the chroot, qemu/sparse.sh
        provides a newer one; failing that (or on the host, with an old sparse),
        sparse gets __typeof_unqual__ mapped to __typeof__."""
        if not self.host_build:
            with open(log, "ab") as f:
                p = subprocess.run(in_chroot([chroot_path(os.path.join(HERE, "sparse.sh"))]),
                                   stdout=subprocess.PIPE, stderr=f, stdin=subprocess.DEVNULL)
            path = p.stdout.decode().strip().splitlines()[-1:] if p.returncode == 0 else []
            if path:
                with open(log, "a") as f:
                    f.write("# CHECK=%s (from qemu/sparse.sh)\n" % path[0])
                return path[0]
        probe = os.path.join(out, "typeof_unqual.c")
        with open(probe, "w") as f:
            f.write("static inline int u(const int *q)\n{\n\t__typeof_unqual__(*q) v = *q;\n"
                    "\treturn v;\n}\n")
        p = subprocess.run(self.build_cmd(["sparse", probe]), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        os.unlink(probe)
        text = p.stdout.decode("utf-8", "replace")
        if p.returncode == 127 or "not found" in text or "No such file" in text:
            return None
        check = "sparse -D__typeof_unqual__=__typeof__" if "error" in text else "sparse"
        with open(log, "a") as f:
            f.write("# sparse %s __typeof_unqual__: CHECK=%s\n" % (
                "lacks" if " -D" in check else "has", check))
        return check

    def sparse(self, echo=False):
        name = "static/sparse"
        if not self.kernel():
            self.results.add("SKIP", name, "no kernel")
            return
        out = self.outdir("sparse")
        log = self.log("static-sparse.log")
        with flock(os.path.join(os.path.dirname(out), ".sparse.lock")):
            # From scratch, so that C=1 checks every file.
            for x in os.listdir(out):
                shutil.rmtree(os.path.join(out, x), ignore_errors=True)
                with contextlib.suppress(FileNotFoundError, IsADirectoryError):
                    os.unlink(os.path.join(out, x))
            check = self.sparse_check_cmd(out, log)
            if not check:
                self.results.add("FAIL", name, "no sparse in the build environment")
                return
            rc = self.kmake(out, ["C=1", "W=1", "CHECK=" + check, "-j%d" % os.cpu_count(),
                                  "modules"], log, echo=echo)
        text = tail(log, 100000).splitlines()
        if any("is not available or not up to date" in l for l in text):
            self.results.add("FAIL", name, "kbuild refused sparse (not up to date), see " +
                             show(log))
            return
        warns = [l.replace(REPO + "/", "") for l in text
                 if re.search(r"(?i)\b(warning|error):", l) and not _sparse_known_noise(l)]
        if rc == 0 and not warns:
            self.results.add("PASS", name)
        else:
            self.results.add("FAIL", name, "%s%d warning/error line(s), see %s; first: %s" % (
                "build failed; " if rc else "", len(warns), show(log),
                warns[0] if warns else tail(log, 2)))

    def oracle_headers(self, log):
        """(kernel arm-smmu-v3.h, QEMU smmuv3-internal.h) as local paths, or a
        string saying why not: qemu/refs.sh finds or fetches them in the
        chroot; with --kdir, the kernel's comes from that tree."""
        import oracle
        kernel_h = None
        if self.o.kdir:
            # A tree kernel.sh built links into the chroot's /cache.
            kernel_h = oracle.find_kernel_header(os.path.abspath(self.o.kdir),
                                                 lambda p: local_path(os.readlink(p)))
        if self.o.kdir and not kernel_h:
            return "no %s under KDIR" % oracle.KERNEL_FILE
        cmd = [chroot_path(os.path.join(HERE, "refs.sh")), "qemu" if kernel_h else "all"]
        with open(log, "ab") as f:
            p = subprocess.run(in_chroot(cmd), stdout=subprocess.PIPE, stderr=f,
                               stdin=subprocess.DEVNULL)
            f.write(p.stdout)
        kv = _keyvals(p.stdout.decode())
        if p.returncode != 0 or "QEMU_H" not in kv or not (kernel_h or "KERNEL_H" in kv):
            return "qemu/refs.sh failed, see %s: %s" % (show(log), tail(log, 2))
        return kernel_h or local_path(kv["KERNEL_H"]), local_path(kv["QEMU_H"])

    def oracle(self, echo=False):
        """static/oracle/<group>: include/smmuv3/regs.h against the kernel's and
        QEMU's definitions of the same layouts (qemu/oracle.py)."""
        import oracle
        log = self.log("static-oracle.log")
        heads = self.oracle_headers(log)
        if isinstance(heads, str):
            self.results.add("FAIL", "static/oracle", heads)
            return
        report = oracle.check(oracle.REGS_H, *heads)
        text = "# kernel: %s\n# QEMU:   %s%s\n" % (show(heads[0]), show(heads[1]),
                                                  oracle.qemu_source(heads[1]))
        text += "".join(report.format_line(l) + "\n" for l in report.lines)
        text += "".join("# %s\n" % report.summary(g) for g in oracle.GROUPS)
        with open(log, "a") as f:
            f.write(text)
        if echo:
            sys.stdout.write(text)
        for g in oracle.GROUPS:
            bad = report.failures(g)
            if bad:
                self.results.add("FAIL", "static/oracle/" + g, "%d: %s (see %s)" % (
                    len(bad), "; ".join("%s %s" % (l[2], l[3]) for l in bad), show(log)))
            else:
                self.results.add("PASS", "static/oracle/" + g)


def _sparse_known_noise(line):
    """sparse 0.6.4 cannot evaluate the static_assert() with __builtin_strlen() that
    MODULE_INFO() and friends expand to: "bad constant expression" on those lines."""
    m = re.match(r"(\S+?):(\d+):\d+: error: bad constant expression$", line.strip())
    if not m:
        return False
    try:
        with open(local_path(m.group(1)), errors="replace") as f:
            src = f.read().splitlines()[int(m.group(2)) - 1]
    except (OSError, IndexError):
        return False
    return bool(re.match(r"\s*(MODULE_[A-Z_]+|module_[a-z_]+|kunit_test_suites?|"
                         r"EXPORT_SYMBOL\w*)\s*\(", src))


def _follow(path, stop):
    """Copy a growing file to stdout until STOP is set."""
    pos = 0
    while True:
        finished = stop.is_set()
        try:
            with open(path, "rb") as f:
                f.seek(pos)
                chunk = f.read()
        except OSError:
            chunk = b""
        if chunk:
            pos += len(chunk)
            sys.stdout.write(chunk.decode("utf-8", "replace").replace("\r", ""))
            sys.stdout.flush()
        if finished:
            return
        time.sleep(0.2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Topologies:\n" + "\n".join(
                                     "  %-12s %s" % (t.name, t.desc) for t in TOPOLOGIES.values())
                                 + "\n  %-12s %s" % (STOCK, STOCK_DESC))
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
    ap.add_argument("--list", action="store_true", help="list the topologies and exit")
    ap.add_argument("--check", action="store_true",
                    help="everything: checkpatch, sparse, oracle, all topologies, stock-dkms")
    ap.add_argument("--demo", action="store_true",
                    help="boot acpi2 and show what the driver set up (make run)")
    ap.add_argument("--static", action="append", choices=["checkpatch", "sparse", "oracle"],
                    default=[],
                    help="run a static check (repeatable)")
    ap.add_argument("--build", action="store_true", help="only build the module (make module)")
    ap.add_argument("--bench", action="store_true",
                    help="run the benchmark for both drivers and print the figures (make bench; "
                    "see qemu/bench.py)")
    ap.add_argument("--bench-seconds", type=float, default=2.0, metavar="S",
                    help="--bench: seconds per timed round (default: 2)")
    ap.add_argument("--bench-rounds", type=int, default=3, metavar="R",
                    help="--bench: rounds per timed figure (default: 3)")
    ap.add_argument("--bench-part", choices=("all", "drivers", "stock"), default="all",
                    help="--bench: drivers (ours and upstream on the guest kernel), stock (the "
                    "newest stock Debian kernel with smmuv3.ko from DKMS and with its built-in "
                    "driver), or all (default)")
    ap.add_argument("--bench-unmaps", type=int, default=256, metavar="K",
                    help="--bench: unmaps counted in the traced boot (default: 256)")
    ap.add_argument("-v", "--verbose", action="store_true", help="stream guest consoles")
    host = ap.add_argument_group("host tools (instead of the chroot's)")
    host.add_argument("--qemu", help="qemu-system-aarch64 (>= 10.1) to boot with")
    host.add_argument("--kdir", help="a built arm64 kernel tree (Image, modules, usr/include)")
    host.add_argument("--cross-compile", help="cross compiler prefix for builds with --kdir")
    host.add_argument("--busybox", help="a static arm64 busybox (default: the chroot's)")
    host.add_argument("--firmware", help="QEMU_EFI.fd for the ACPI topologies "
                      "(default: the chroot's)")
    o = ap.parse_args()
    o.kernel = o.kernel or ("base" if o.bench else "debug")
    if o.repeat is None:
        o.repeat = CHECK_REPEAT if o.check else 0

    if o.list:
        for t in TOPOLOGIES.values():
            print("%-12s %s" % (t.name, t.desc))
        print("%-12s %s" % (STOCK, STOCK_DESC))
        return 0
    if o.cross_compile and not o.kdir and not IN_CHROOT:
        ap.error("--cross-compile needs --kdir (a kernel tree built with that compiler)")
    names = o.topology or []
    for n in names:
        if n not in TOPOLOGIES and n != STOCK:
            ap.error("unknown topology %s (see --list)" % n)
    if o.demo:
        names = names or ["acpi2"]
    elif o.check:
        names = names or DEFAULT_TOPOLOGIES + [STOCK]
        o.static = ["checkpatch", "sparse", "oracle"]
    elif not names and not o.static and not o.build:
        names = list(DEFAULT_TOPOLOGIES)

    runner = Runner(o)
    runner.make_rundir()
    t0 = time.time()
    echo_static = not (o.check or names)
    if o.bench:
        import bench
        return bench.main(runner, names[0] if o.topology else "acpi2")
    if o.build:
        if runner.kernel() and runner.build_module(echo=True):
            print(show(os.path.join(runner.outdir("module"), "smmuv3.ko")))
        return 1 if runner.results.count("FAIL") else 0
    guest = [n for n in names if n != STOCK]
    if STOCK in names:
        runner.prefetch_stock()
    if guest or "sparse" in o.static:
        runner.kernel()  # first: checkpatch then finds its source tree too
    if o.check and not o.kdir and runner.kdir:
        for kname in CHECK_KERNELS:
            if kname != o.kernel and any(n in guest for n in KERNELS[kname].topologies):
                runner.prebuild(kname)
    if "checkpatch" in o.static:
        runner.checkpatch(echo=echo_static)
    if "sparse" in o.static:
        runner.sparse(echo=echo_static)
    if "oracle" in o.static:
        runner.oracle(echo=echo_static)
    if guest:
        runner.run_topologies(guest, demo=o.demo)
    if o.check and not o.kdir:
        # The other guest kernels, each with its own topologies.
        for kname in CHECK_KERNELS:
            todo = [n for n in KERNELS[kname].topologies if n in guest]
            if kname != o.kernel and todo:
                runner.use_kernel(kname)
                runner.run_topologies(todo)
    if STOCK in names:
        runner.run_stock()
    r = runner.results
    summary = r.summary()
    with open(runner.log("summary.txt"), "w") as f:
        for st, name, reason in r.tests:
            f.write("%s %s%s\n" % (st, name, " : " + reason if reason else ""))
        f.write(summary + "\n")
    note("%.0f s in all; logs: %s" % (time.time() - t0, show(runner.rundir)))
    print(summary)
    return 1 if r.count("FAIL") else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
