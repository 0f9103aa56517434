# SPDX-License-Identifier: GPL-2.0-only
"""Building what a boot needs: the guest kernels (qemu/kernel.sh, one in the
background while another one's boots run), smmuv3.ko, the selftests, and the
pieces of the guest (busybox, firmware, the data file).  A mixin of run.Runner:
kernel() returns a built guest kernel as a GuestKernel value, and the builds
for a kernel take that value."""

import contextlib
import hashlib
import os
import random
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass

from hostenv import (HERE, REPO, CACHE, chroot_path, local_path, show, in_chroot, run_logged, tail,
                     flock)
from results import note
from topologies import KERNELS, STOCK_DKMS_SERIES

CHROOT_BUSYBOX = "/usr/bin/busybox"
CHROOT_FIRMWARE = "/usr/share/qemu-efi-aarch64/QEMU_EFI.fd"
DATA_SIZE = 1 << 20  # /data.bin, written to and read back from each disk


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


class Builds:
    # -- building -------------------------------------------------------------

    def kernel(self, name=None):
        """The guest kernel NAME (of KERNELS; default: --kernel), built if it
        is not yet (once per run), as a GuestKernel; None if it failed to
        build.  With --kdir, always the user's tree."""
        name = name or self.o.kernel
        if self.o.kdir:
            name = self.o.kernel
        if name in self.kernels:
            return self.kernels[name]
        self.kernels[name] = k = self._kernel(KERNELS[name])
        return k

    def _kernel(self, k):
        if self.o.kdir:
            kdir = os.path.abspath(self.o.kdir)
            if not os.path.exists(os.path.join(kdir, "arch/arm64/boot/Image")):
                raise SystemExit("run.py: no arch/arm64/boot/Image in KDIR=%s" % kdir)
            return GuestKernel(k, kdir, "kdir-" + hashlib.sha256(kdir.encode()).hexdigest()[:8])
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
            self.results.add("FAIL", "build/kernel-%s" % variant, "kernel.sh failed, see %s: %s"
                             % (show(log), tail(log, 5)))
            return None
        kdir = local_path(out.strip().splitlines()[-1])
        if time.time() - t > 30:
            note("built the %s kernel in %.0f s" % (variant, time.time() - t))
        return GuestKernel(k, kdir, os.path.basename(kdir))

    def prebuild(self, name):
        """Start building the guest kernel NAME in the background, at the
        lowest CPU priority, so that it uses what the boots of the current
        kernel leave idle (a cold make check builds two kernels).  kernel()
        waits for it when NAME's turn comes; kernel.sh's lock and cache do
        the rest (an already built kernel returns at once)."""
        if self.o.kdir or name in self.prebuilds or name in self.kernels:
            return
        self._background(name, "build-kernel-%s.log" % name, _kernel_cmd(KERNELS[name]))

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
        self._background("stock", "build-stock-prefetch.log",
                         in_chroot(["flock", lock, "bash", "-c", script]))

    def _background(self, name, logname, cmd):
        """Run CMD at the lowest CPU priority in the background, its output
        in the run's LOGNAME; kept in self.prebuilds[NAME] for whoever needs
        its result to wait on."""
        with open(self.log(logname), "ab") as log:
            self.prebuilds[name] = subprocess.Popen(["nice", "-n", "19"] + cmd, stdout=log,
                                                    stderr=log, stdin=subprocess.DEVNULL)

    def outdir(self, k, what):
        """out/KNAME/WHAT: what is built against the guest kernel K."""
        d = os.path.join(REPO, "out", k.kname, what)
        os.makedirs(d, exist_ok=True)
        return d

    def kbuild_has_mo(self, k):
        """Does the kernel's kbuild put external module output in MO= (7.x)?
        6.12's writes it next to the sources."""
        src = self.ksrc(k)
        src = local_path(os.readlink(src)) if os.path.islink(src) else src
        try:
            with open(os.path.join(src, "Makefile")) as f:
                return '"$(origin MO)"' in f.read()
        except OSError:
            return True

    def kmake(self, k, out, args, log, echo=False):
        if self.kbuild_has_mo(k):
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
        cmd = ["make", "-C", k.kdir] + m + ["ARCH=arm64", "CROSS_COMPILE=" + self.cross] + args
        return run_logged(self.build_cmd(cmd), log, echo=echo)

    def build_module(self, k, echo=False):
        """Build smmuv3.ko and smmuv3_kunit.ko for the guest kernel K; returns
        their dir or None."""
        out = self.outdir(k, "module")
        log = self.log("build-module.log")
        t = time.time()
        with flock(os.path.join(out, ".lock")):
            for ko in ("smmuv3.ko", "smmuv3_kunit.ko"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(out, ko))
            rc = self.kmake(k, out, ["-j%d" % os.cpu_count(), "modules"], log, echo=echo)
        if rc != 0 or not os.path.exists(os.path.join(out, "smmuv3.ko")):
            self.results.add("FAIL", "build/module", "see %s: %s" % (
                show(log), " | ".join(l for l in tail(log, 40).splitlines()
                                      if "error" in l.lower())[:250] or tail(log, 3)))
            return None
        self.results.add("PASS", "build/module")
        note("module built in %.0f s: %s" % (time.time() - t, show(out)))
        return out

    def khdr(self, k):
        inc = os.path.join(k.kdir, "usr/include")
        if os.path.isdir(os.path.join(inc, "linux")):
            return inc
        out = self.outdir(k, "usr")
        cmd = ["make", "-C", k.kdir, "ARCH=arm64", "headers_install",
               "INSTALL_HDR_PATH=" + out]
        run_logged(self.build_cmd(cmd), self.log("build-headers.log"))
        return os.path.join(out, "include")

    def ksrc(self, k):
        """The kernel source tree, as a path for the build environment."""
        for name in ("source-tree", "source"):
            p = os.path.join(k.kdir, name)
            # The link may point into the chroot's /cache: look there.
            real = local_path(os.readlink(p)) if os.path.islink(p) else p
            if os.path.exists(os.path.join(real, "Makefile")):
                return p
        return k.kdir

    def build_selftests(self, k):
        """Returns [(name, path)] of the selftest binaries built for the guest
        kernel K, or None if there are none.
        Built once per run and guest kernel, against that kernel's uapi
        headers (selftests/Makefile replaces a test that needs uapi the
        kernel lacks by a stand-in that says so); the stock kernels use the
        last ones built (static binaries; what a kernel lacks is a skip at
        run time)."""
        if k.kname not in self.selftests:
            self.selftests[k.kname] = self._build_selftests(k)
        return self.selftests[k.kname]

    def _build_selftests(self, k):
        if not os.path.exists(os.path.join(REPO, "selftests", "Makefile")):
            self.results.add("SKIP", "build/selftests", "no selftests/Makefile in the repo yet")
            return None
        out = self.outdir(k, "selftests")
        log = self.log("build-selftests%s.log" % (
            "" if k.name == self.o.kernel else "-" + k.name))
        with flock(os.path.join(out, ".lock")):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(out, "tests.list"))
            cmd = ["make", "-C", os.path.join(REPO, "selftests"), "O=" + out,
                   "CC=" + self.cross + "gcc", "KHDR=" + self.khdr(k), "KSRC=" + self.ksrc(k)]
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


def _kernel_cmd(k):
    """qemu/kernel.sh's command line for the guest kernel K (topologies.Kernel)."""
    return in_chroot([chroot_path(os.path.join(HERE, "kernel.sh")), k.name, k.series]
                     + k.fragments)
