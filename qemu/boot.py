# SPDX-License-Identifier: GPL-2.0-only
"""Booting a guest: its initramfs, the QEMU command line of a Boot
(qemu/spec.py), starting QEMU and waiting for it (a hang in boot or
poweroff is a failure).  What the boot showed is judged by
qemu/results.py evaluate().

The functions take the session S (qemu/session.py) for where things go
and come from: its log directory (log()), the guest pieces (busybox(),
data_file(), firmware()), the QEMU to run (o.qemu, host_qemu) and the
set of running guests (guests)."""

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time

from hostenv import HERE, REPO, CACHE, IN_CHROOT, in_chroot, note
from initramfs import Initramfs
from results import guest_done, POWEROFF_GRACE

DISK_SIZE = 16 << 20
NVME_SIZE = 16 << 20


def initramfs(s, name, driver_mods=(), kunit_mods=(), pre_mods=(), selftests=(), files=()):
    """Build NAME.cpio.gz in the run dir; module lists are [(name, bytes)],
    FILES [(guest path, local path)] of executables.  Returns its path."""
    t = time.time()
    ird = Initramfs()
    ird.file("/init", os.path.join(HERE, "init.sh"), mode=0o755)
    ird.file("/bin/busybox", s.busybox(), mode=0o755)
    ird.file("/data.bin", s.data_file())
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
    out = s.log(name + ".cpio.gz")
    ird.write(out)
    note("initramfs %s: %.1f MB in %.1f s" % (os.path.basename(out),
                                             os.path.getsize(out) / 1e6, time.time() - t))
    return out


def _disk(path, size):
    """A sparse disk image of SIZE bytes at PATH (made anew): its path."""
    with open(path, "wb") as f:
        f.truncate(size)
    return path


def visible(s, image):
    """IMAGE, or a copy in the run dir when QEMU runs in the chroot and
    would not see it there."""
    if not (s.host_qemu or IN_CHROOT):
        if not image.startswith((REPO + "/", CACHE + "/")):
            copy = s.log(os.path.basename(image))
            if not os.path.exists(copy):
                shutil.copyfile(image, copy)
            return copy
    return image


def console_paths(s, b):
    """The Boot B's kernel log and result channel: (console, results)."""
    return s.log(b.tag + ".console"), s.log(b.tag + ".results")


def qemu_argv(s, b, image, initrd, console, results, cmdline=None):
    """QEMU's command line for the Boot B (CMDLINE: instead of its own
    kernel command line).  Makes the disks' images in the run dir."""
    topo, tag = b.hw, b.tag
    argv = [s.o.qemu or "qemu-system-aarch64",
            "-M", "virt,gic-version=3" + ("," + topo.machine if topo.machine else ""),
            "-cpu", b.cpu, "-smp", "2", "-m", b.memory,
            "-display", "none", "-nodefaults", "-no-reboot",
            "-serial", "file:" + console,
            "-device", "virtio-serial-device",
            "-chardev", "file,id=res,path=" + results,
            "-device", "virtconsole,chardev=res",
            "-kernel", image, "-initrd", initrd,
            "-append", b.full_cmdline() if cmdline is None else cmdline] + list(b.qemu_extra)
    if topo.uefi:
        argv += ["-bios", s.firmware()]
    chassis = 1

    def root_port(bus):
        nonlocal chassis
        rp = "rp%d" % chassis
        chassis += 1
        return rp, ["-device", "pcie-root-port,id=%s,bus=%s,chassis=%d" % (rp, bus, chassis - 1)]

    blk = "iommu_platform=on,disable-legacy=on"
    for i, smmu in enumerate(topo.smmus):
        if smmu.bus != "pcie.0":
            argv += ["-device", "pxb-pcie,id=%s,bus_nr=%d,bus=pcie.0" % (smmu.bus, smmu.bus_nr)]
        dev = "arm-smmuv3,primary-bus=%s,id=smmuv3.%d" % (smmu.bus, i)
        if smmu.stage:
            dev += ",stage=" + smmu.stage
        argv += ["-device", dev]
        # An edu and a virtio-blk, each on its own root port.
        rp, args = root_port(smmu.bus)
        argv += args + ["-device", "edu,bus=%s,dma_mask=0xffffffffffff" % rp]
        rp, args = root_port(smmu.bus)
        disk = _disk(s.log("%s-disk%d.img" % (tag, i)), DISK_SIZE)
        argv += args + ["-drive", "file=%s,if=none,format=raw,id=disk%d" % (disk, i),
                        "-device", "virtio-blk-pci,drive=disk%d,bus=%s,%s" % (i, rp, blk)]
        if smmu.bridged_disk:
            br = "pcibr%d" % i
            rp, args = root_port(smmu.bus)
            disk = _disk(s.log("%s-disk%db.img" % (tag, i)), DISK_SIZE)
            # Below a root port: Linux's quirk applies to bridges off the root bus.
            argv += args + ["-device", "i82801b11-bridge,id=%s,bus=%s" % (br, rp),
                            "-drive", "file=%s,if=none,format=raw,id=disk%db" % (disk, i),
                            "-device", "virtio-blk-pci,drive=disk%db,bus=%s,addr=0.0,vectors=0,"
                                       "%s" % (i, br, blk)]
            if smmu.aliased_disk:
                disk = _disk(s.log("%s-disk%dc.img" % (tag, i)), DISK_SIZE)
                argv += ["-drive", "file=%s,if=none,format=raw,id=disk%dc" % (disk, i),
                         "-device", "virtio-blk-pci,drive=disk%dc,bus=%s,addr=1.0,vectors=0,"
                                    "%s" % (i, br, blk)]
        if smmu.nvme:
            rp, args = root_port(smmu.bus)
            disk = _disk(s.log("%s-nvme%d.img" % (tag, i)), NVME_SIZE)
            argv += args + ["-drive", "file=%s,if=none,format=raw,id=nvm%d" % (disk, i),
                            "-device", "nvme,drive=nvm%d,serial=smmuv3nvme%d,bus=%s" % (i, i, rp)]
        for dev in smmu.devices:
            rp, args = root_port(smmu.bus)
            argv += args + ["-device", "%s,bus=%s" % (dev, rp)]
    return argv + list(topo.qemu_args)


def run(s, b, image, initrd, stream=False):
    """Boot B once with kernel IMAGE and INITRD.  Returns (status, seconds,
    console, results): status is "ok", "timeout", "poweroff" (see
    _wait_guest()) or "exit N"; console and results are the paths of the
    kernel log and the guest's result channel."""
    tag = b.tag
    console, results = console_paths(s, b)
    qlog = s.log(tag + ".qemu")
    for p in (console, results):
        open(p, "wb").close()
    argv = qemu_argv(s, b, visible(s, image), initrd, console, results)
    if not s.host_qemu:
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
        s.guests.add(p)
        try:
            status = _wait_guest(p, t, results, b.timeout)
        except BaseException:  # ^C: QEMU is in its own session, take it along
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            raise
        finally:
            s.guests.discard(p)
        if status not in ("ok",) and not status.startswith("exit"):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    elapsed = time.time() - t
    stop.set()
    if streamer:
        streamer.join()
    return status, elapsed, console, results


def _wait_guest(p, t0, results, timeout):
    """Wait for QEMU.  Returns "ok", "exit N", "timeout" (the boot took longer
    than TIMEOUT) or "poweroff" (the guest reported @@done but QEMU was
    still running POWEROFF_GRACE (results.py) seconds later: a hang in shutdown, which on
    a real machine is one that does not reboot)."""
    done_at = None
    while True:
        try:
            rc = p.wait(timeout=1)
            return "ok" if rc == 0 else "exit %d" % rc
        except subprocess.TimeoutExpired:
            pass
        now = time.time()
        if done_at is None and guest_done(results):
            done_at = now
        if done_at is not None and now - done_at > POWEROFF_GRACE:
            return "poweroff"
        if now - t0 > timeout:
            return "timeout"


def kill(guests):
    """Kill every QEMU of GUESTS (^C, or the runner failing)."""
    for p in list(guests):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGKILL)


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


def add_files(s, initrd, name, files):
    """INITRD with FILES [(guest path, local path)] added (a second archive
    after it, which the kernel unpacks over the first): NAME.cpio.gz."""
    ird = Initramfs()
    for gpath, path in files:
        ird.file(gpath, path, mode=0o755)
    out = s.log(name + ".cpio.gz")
    ird.write(out + ".more")
    with open(out, "wb") as f:
        for p in (initrd, out + ".more"):
            with open(p, "rb") as g:
                f.write(g.read())
    os.unlink(out + ".more")
    return out
