# SPDX-License-Identifier: GPL-2.0-only
"""Building what a boot needs: the guest kernels (qemu/kernel.sh, one in the
background while another one's boots run), smmuv3.ko, the selftests, the
guest's modules.  Plain functions: each takes the session (qemu/session.py:
where the build runs and logs) and the values it builds from, and returns
what it built or raises BuildFailed, whose result says why.  kernel()
returns a built guest kernel as a GuestKernel value; the builds for a
kernel take that value.  run.py's Runner caches what they return and
reports their results."""

import contextlib
import hashlib
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass

from hostenv import (HERE, REPO, CACHE, chroot_path, local_path, show, in_chroot, run_logged, tail,
                     flock, note)
from kmods import builtin_modules, module_index, read_module, resolve_modules
from topologies import STOCK_DKMS_SERIES

CHROOT_BUSYBOX = "/usr/bin/busybox"
CHROOT_FIRMWARE = "/usr/share/qemu-efi-aarch64/QEMU_EFI.fd"
DATA_SIZE = 1 << 20  # /data.bin, written to and read back from each disk


class BuildFailed(Exception):
    """A build that gave nothing: RESULT, (status, name, reason), says what
    and why (status FAIL, or SKIP when there was nothing to build)."""

    def __init__(self, status, name, reason):
        super().__init__("%s %s: %s" % (status, name, reason))
        self.result = (status, name, reason)


@dataclass(frozen=True)
class GuestKernel:
    """A built guest kernel: its data (topologies.Kernel), its build tree
    (local path) and the name of its build (out/KNAME/ holds what is built
    against it)."""
    spec: object
    kdir: str
    kname: str

    @property
    def name(self):
        return self.spec.name

    @property
    def image(self):
        return os.path.join(self.kdir, "arch/arm64/boot/Image")


def kernel(s, k, background=None):
    """The guest kernel K (topologies.Kernel), built if it is not yet (the
    user's tree with --kdir), as a GuestKernel.  BACKGROUND: its build
    started by kernel_in_background(), waited for first."""
    if s.o.kdir:
        kdir = os.path.abspath(s.o.kdir)
        if not os.path.exists(os.path.join(kdir, "arch/arm64/boot/Image")):
            raise SystemExit("run.py: no arch/arm64/boot/Image in KDIR=%s" % kdir)
        return GuestKernel(k, kdir, "kdir-" + hashlib.sha256(kdir.encode()).hexdigest()[:8])
    variant = k.name
    log = s.log("build-kernel-%s.log" % variant)
    if background and background.poll() is None:
        t = time.time()
        note("waiting for the background build of the %s kernel" % variant)
        background.wait()
        note("waited %.0f s for it" % (time.time() - t))
    with flock(os.path.join(CACHE, "kernel", ".%s.lock" % variant)):
        t = time.time()
        cmd = _kernel_cmd(k)
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
        raise BuildFailed("FAIL", "build/kernel-%s" % variant, "kernel.sh failed, see %s: %s"
                          % (show(log), tail(log, 5)))
    kdir = local_path(out.strip().splitlines()[-1])
    if time.time() - t > 30:
        note("built the %s kernel in %.0f s" % (variant, time.time() - t))
    return GuestKernel(k, kdir, os.path.basename(kdir))


def kernel_in_background(s, k):
    """Start building the guest kernel K in the background, at the lowest
    CPU priority, so that it uses what the boots of the current kernel
    leave idle (a cold make check builds two kernels): its process, for
    kernel() to wait on.  kernel.sh's lock and cache do the rest (an
    already built kernel returns at once)."""
    return background(s, "build-kernel-%s.log" % k.name, _kernel_cmd(k))


def stock_in_background(s):
    """Download and unpack the stock kernels and headers of
    STOCK_DKMS_SERIES in the background, at the lowest CPU priority, while
    the guest kernel builds (on a cold cache this hides the downloads): its
    process.  The stock step later finds them in the cache (same lock, same
    scripts)."""
    lock = chroot_path(os.path.join(CACHE, "stock", ".lock"))
    os.makedirs(os.path.join(CACHE, "stock"), exist_ok=True)
    script = "for s in %s; do %s fetch $s >/dev/null || exit 1; done" % (
        " ".join(STOCK_DKMS_SERIES), chroot_path(os.path.join(HERE, "stock.sh")))
    return background(s, "build-stock-prefetch.log",
                      in_chroot(["flock", lock, "bash", "-c", script]))


def background(s, logname, cmd):
    """CMD started at the lowest CPU priority, its output in the run's
    LOGNAME: its process."""
    with open(s.log(logname), "ab") as log:
        return subprocess.Popen(["nice", "-n", "19"] + cmd, stdout=log, stderr=log,
                                stdin=subprocess.DEVNULL)


def outdir(k, what):
    """out/KNAME/WHAT: what is built against the guest kernel K."""
    d = os.path.join(REPO, "out", k.kname, what)
    os.makedirs(d, exist_ok=True)
    return d


def kbuild_has_mo(k):
    """Does the kernel's kbuild put external module output in MO= (7.x)?
    6.12's writes it next to the sources."""
    src = ksrc(k)
    src = local_path(os.readlink(src)) if os.path.islink(src) else src
    try:
        with open(os.path.join(src, "Makefile")) as f:
            return '"$(origin MO)"' in f.read()
    except OSError:
        return True


def kmake(s, k, out, args, log, echo=False):
    """make of the module's Kbuild against the guest kernel K, its output in
    OUT: the exit status."""
    if kbuild_has_mo(k):
        m = ["M=" + REPO, "MO=" + out]
    else:
        # A copy of the sources in OUT, built in place (Kbuild reads
        # MODULE_VERSION from debian/changelog).
        for sub in ("Kbuild", "include", "module", "debian/changelog"):
            dst = os.path.join(out, sub)
            if os.path.isdir(os.path.join(REPO, sub)):
                shutil.copytree(os.path.join(REPO, sub), dst, dirs_exist_ok=True)
            else:
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copy2(os.path.join(REPO, sub), dst)
        m = ["M=" + out]
    cmd = ["make", "-C", k.kdir] + m + ["ARCH=arm64", "CROSS_COMPILE=" + s.cross] + args
    return run_logged(s.build_cmd(cmd), log, echo=echo)


def module(s, k, echo=False):
    """smmuv3.ko and smmuv3_kunit.ko built for the guest kernel K: their
    directory."""
    out = outdir(k, "module")
    log = s.log("build-module.log")
    t = time.time()
    with flock(os.path.join(out, ".lock")):
        for ko in ("smmuv3.ko", "smmuv3_kunit.ko"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(out, ko))
        rc = kmake(s, k, out, ["-j%d" % os.cpu_count(), "modules"], log, echo=echo)
    if rc != 0 or not os.path.exists(os.path.join(out, "smmuv3.ko")):
        raise BuildFailed("FAIL", "build/module", "see %s: %s" % (
            show(log), " | ".join(l for l in tail(log, 40).splitlines()
                                  if "error" in l.lower())[:250] or tail(log, 3)))
    note("module built in %.0f s: %s" % (time.time() - t, show(out)))
    return out


def khdr(s, k):
    inc = os.path.join(k.kdir, "usr/include")
    if os.path.isdir(os.path.join(inc, "linux")):
        return inc
    out = outdir(k, "usr")
    cmd = ["make", "-C", k.kdir, "ARCH=arm64", "headers_install",
           "INSTALL_HDR_PATH=" + out]
    run_logged(s.build_cmd(cmd), s.log("build-headers.log"))
    return os.path.join(out, "include")


def ksrc(k):
    """The kernel source tree, as a path for the build environment."""
    for name in ("source-tree", "source"):
        p = os.path.join(k.kdir, name)
        # The link may point into the chroot's /cache: look there.
        real = local_path(os.readlink(p)) if os.path.islink(p) else p
        if os.path.exists(os.path.join(real, "Makefile")):
            return p
    return k.kdir


def selftests(s, k):
    """[(name, path)] of the selftest binaries built for the guest kernel K,
    against that kernel's uapi headers (selftests/Makefile replaces a test
    that needs uapi the kernel lacks by a stand-in that says so); the stock
    kernels use the last ones built (static binaries; what a kernel lacks
    is a skip at run time)."""
    if not os.path.exists(os.path.join(REPO, "selftests", "Makefile")):
        raise BuildFailed("SKIP", "build/selftests", "no selftests/Makefile in the repo yet")
    out = outdir(k, "selftests")
    log = s.log("build-selftests%s.log" % ("" if k.name == s.o.kernel else "-" + k.name))
    with flock(os.path.join(out, ".lock")):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(out, "tests.list"))
        cmd = ["make", "-C", os.path.join(REPO, "selftests"), "O=" + out,
               "CC=" + s.cross + "gcc", "KHDR=" + khdr(s, k), "KSRC=" + ksrc(k)]
        rc = run_logged(s.build_cmd(cmd), log)
    tl = os.path.join(out, "tests.list")
    if rc != 0 or not os.path.exists(tl):
        raise BuildFailed("FAIL", "build/selftests", "see %s: %s" % (show(log), tail(log, 3)))
    tests, missing = [], []
    with open(tl) as f:
        for line in f:
            name = line.strip()
            if not name:
                continue
            path = name if os.path.isabs(name) else os.path.join(out, name)
            path = local_path(path) if not os.path.exists(path) else path
            if not os.path.exists(path):
                missing.append(name)
                continue
            tests.append((os.path.basename(name), path))
    if missing:
        raise BuildFailed("FAIL", "build/selftests", "%s in tests.list but not built" %
                          ", ".join(missing))
    if len(tests) == 0:
        raise BuildFailed("SKIP", "build/selftests", "tests.list is empty")
    return tests


def guest_modules(k, driver, module_dir):
    """(driver modules, kunit modules) for the guest kernel K: DRIVER's,
    smmuv3.ko's from MODULE_DIR or the kernel's arm_smmu_v3, as [(name,
    bytes)]."""
    if driver == "upstream":
        index = module_index(k.kdir)
        return resolve_modules(["arm_smmu_v3"], index, builtin_modules(k.kdir)), []
    drv = [("smmuv3", read_module(os.path.join(module_dir, "smmuv3.ko")))]
    kunit = []
    ko = os.path.join(module_dir, "smmuv3_kunit.ko")
    if os.path.exists(ko):
        kunit = [("smmuv3_kunit", read_module(ko))]
    return drv, kunit


def _kernel_cmd(k):
    """qemu/kernel.sh's command line for the guest kernel K (topologies.Kernel)."""
    return in_chroot([chroot_path(os.path.join(HERE, "kernel.sh")), k.name, k.series]
                     + k.fragments)
