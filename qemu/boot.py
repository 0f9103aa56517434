# SPDX-License-Identifier: GPL-2.0-only
"""Booting a guest: its initramfs, the QEMU command line, waiting for it (a
hang in boot or poweroff is a failure), and evaluating its result channel and
kernel log.  A mixin of run.Runner."""

import concurrent.futures
import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time

import dtb
from hostenv import HERE, REPO, CACHE, IN_CHROOT, show, in_chroot
from initramfs import Initramfs
from results import (note, parse_tap, tap_leaves, _subtree_failed, console_reports, _results_done,
                     POWEROFF_HUNG,
                     _wrap, _kmemleak_objects)

DISK_SIZE = 16 << 20
# Seconds a guest may take from its last result ("@@done") to QEMU's exit.
POWEROFF_GRACE = 60
# The devices behind the SMMUs defer their probe until /init has loaded
# smmuv3.ko; on a loaded host (two CPUs shared by several guests) the
# kernel alone can take minutes to get there, and a device whose deferral
# timed out binds without an IOMMU.
BASE_CMDLINE = ("console=ttyAMA0 panic=-1 deferred_probe_timeout=600 printk.time=1 "
                "printk.devkmsg=on")
# Info sections of the result channel that `make run` shows.
DEMO_INFOS = {
    "iommus": "/sys/class/iommu: instances, their devices, groups (type) and drivers",
    "iomem": "/proc/iomem",
    "interrupts": "/proc/interrupts (SMMU lines)",
    "dmesg-smmu": "kernel log (SMMU/IOMMU lines)",
}


class Boots:
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

    # -- several guests at once ---------------------------------------------------

    def start_pool(self, jobs):
        """From now on boot_and_evaluate() boots up to JOBS guests at once (a
        guest under TCG leaves part of the two cores idle: it waits on its
        disks, its timers, its own sleeps).  Each boot's results are still
        evaluated, and printed, in the order the boots were asked for, by
        drain().  JOBS 1 boots and evaluates each one at once."""
        self.jobs = jobs
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs) if jobs > 1 else None

    def boot_and_evaluate(self, tag, topo, image, initrd, extra, what, demo=False):
        """Boot TAG (WHAT: the "booting ..." line) and evaluate it, now or, with
        a pool, when drain() comes to it."""
        if self.pool is None:
            note("booting %s (%s)" % (tag, what))
            st, el, con, res = self.boot(tag, topo, image, initrd, extra, stream=self.o.verbose)
            self.evaluate(tag, st, el, con, res, demo=demo, topo=topo)
            return
        job = self.pool.submit(self._pool_boot, tag, topo, image, initrd, extra, what)
        self.pending.append((tag, topo, job, demo))

    def _pool_boot(self, tag, topo, image, initrd, extra, what):
        note("booting %s (%s; up to %d guests at once)" % (tag, what, self.jobs))
        return self.boot(tag, topo, image, initrd, extra)

    def drain(self):
        """Wait for the queued boots and evaluate them in order."""
        if self.pool is None:
            return
        try:
            for tag, topo, job, demo in self.pending:
                st, el, con, res = job.result()
                self.evaluate(tag, st, el, con, res, demo=demo, topo=topo)
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
        for p in list(self.guests):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)

    # -- booting --------------------------------------------------------------

    def qemu_argv(self, topo, image, initrd, cmdline, console, results, tag):
        mem = self.o.memory
        machine = "virt,gic-version=3"
        argv = [self.o.qemu or "qemu-system-aarch64",
                "-M", machine, "-cpu", self.qemu_cpu, "-smp", "2", "-m", mem,
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
                if s.aliased_disk:
                    disk = self.log("%s-disk%dc.img" % (tag, i))
                    with open(disk, "wb") as f:
                        f.truncate(DISK_SIZE)
                    argv += ["-drive", "file=%s,if=none,format=raw,id=disk%dc" % (disk, i),
                             "-device", "virtio-blk-pci,drive=disk%dc,bus=%s,addr=1.0,vectors=0,"
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
        argv += dtb.qemu_args(self, tag, topo, argv)  # device-tree edits (qemu/dtb.py)
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
            self.guests.add(p)
            try:
                status = self._wait_guest(p, t, results)
            except BaseException:  # ^C: QEMU is in its own session, take it along
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                raise
            finally:
                self.guests.discard(p)
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

    def evaluate(self, tag, status, elapsed, console, results, demo=False, topo=None):
        """Turn one boot's console and result channel into test results (and,
        given its topology TOPO, what its device-tree edits made the guest do)."""
        r = self.results
        if topo is not None:
            dtb.check(self, tag, topo, results)
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
            r.add("FAIL", "%s/boot" % tag, "the guest finished but %s within %d s: QEMU "
                  "killed (see the end of %s)" % (POWEROFF_HUNG, POWEROFF_GRACE, show(console)))
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
