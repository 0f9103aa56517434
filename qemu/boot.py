# SPDX-License-Identifier: GPL-2.0-only
"""Booting a guest: its initramfs, the QEMU command line, waiting for it (a
hang in boot or poweroff is a failure), and evaluating its result channel and
kernel log.  A mixin of run.Runner."""

import concurrent.futures
import contextlib
import fnmatch
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
                     POWEROFF_HUNG, console_lines, driver_rules, console_driver_errors,
                     parse_stats, counter_growth, stats_counters, counter_kinds,
                     kunit_cases_in_sources, kunit_suites_in_sources, console_problems,
                     _wrap, _kmemleak_objects)
from topologies import (EXPECTED_ERRORS, ALLOWED_SKIPS, KUNIT_SUITES, BUILD_FEATURES, KUNIT_GUARDS,
                        TOPOLOGIES, selftest_names, where_matches)

DISK_SIZE = 16 << 20
NVME_SIZE = 16 << 20
# Seconds a guest may take from its last result ("@@done") to QEMU's exit.
POWEROFF_GRACE = 60
# The devices behind the SMMUs defer their probe until /init has loaded
# smmuv3.ko; on a loaded host (two CPUs shared by several guests) the
# kernel alone can take minutes to get there, and a device whose deferral
# timed out binds without an IOMMU.
BASE_CMDLINE = ("console=ttyAMA0 panic=-1 deferred_probe_timeout=600 printk.time=1 "
                "printk.devkmsg=on")


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

    def boot_and_evaluate(self, tag, topo, image, initrd, extra, what):
        """Boot TAG (WHAT: the "booting ..." line) and evaluate it, now or, with
        a pool, when drain() comes to it."""
        if self.pool is None:
            note("booting %s (%s)" % (tag, what))
            st, el, con, res = self.boot(tag, topo, image, initrd, extra, stream=self.o.verbose)
            self.evaluate(tag, st, el, con, res, topo=topo)
            return
        job = self.pool.submit(self._pool_boot, tag, topo, image, initrd, extra, what)
        self.pending.append((tag, topo, job))

    def _pool_boot(self, tag, topo, image, initrd, extra, what):
        note("booting %s (%s; up to %d guests at once)" % (tag, what, self.jobs))
        return self.boot(tag, topo, image, initrd, extra)

    def drain(self):
        """Wait for the queued boots and evaluate them in order."""
        if self.pool is None:
            return
        try:
            for tag, topo, job in self.pending:
                st, el, con, res = job.result()
                self.evaluate(tag, st, el, con, res, topo=topo)
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
            if s.nvme:
                rp = "rp%d" % chassis
                disk = self.log("%s-nvme%d.img" % (tag, i))
                with open(disk, "wb") as f:
                    f.truncate(NVME_SIZE)
                argv += ["-device", "pcie-root-port,id=%s,bus=%s,chassis=%d" % (rp, s.bus, chassis),
                         "-drive", "file=%s,if=none,format=raw,id=nvm%d" % (disk, i),
                         "-device", "nvme,drive=nvm%d,serial=smmuv3nvme%d,bus=%s" % (i, i, rp)]
                chassis += 1
            if s.igb:
                rp = "rp%d" % chassis
                argv += ["-device", "pcie-root-port,id=%s,bus=%s,chassis=%d" % (rp, s.bus, chassis),
                         "-netdev", "hubport,id=igbnet%d,hubid=0" % i,
                         "-device", "igb,netdev=igbnet%d,bus=%s,mac=52:54:00:5d:00:%02x" % (
                             i, rp, i)]
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

    def evaluate(self, tag, status, elapsed, console, results, topo=None):
        """Turn one boot's console and result channel into test results (and,
        given its topology TOPO, what its device-tree edits made the guest do)."""
        final = self.results
        r = self.results = BootResults()
        try:
            self._evaluate(tag, status, elapsed, console, results, topo)
        finally:
            self.results = final
            r.flush(final, self.plans.get(tag))

    def _evaluate(self, tag, status, elapsed, console, results, topo):
        r = self.results
        plan = self.plans.get(tag)
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
        self._boot = {"stats": [], "build": None, "kunit": set(), "selftests": set(),
                      "kmemleak": None, "checks": set(), "header": {}, "names": {},
                      "phases": [], "printk": None, "stats_problems": [], "kunit_cases": {}}
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
                    self._boot["checks"].add(m.group(2))
                else:
                    # A check the harness cannot read is a check lost.
                    r.add("FAIL", "%s/result-channel" % tag, "malformed line: %s" % line)
            elif line.startswith("@@begin "):
                section = line[len("@@begin "):].split()
            elif line.startswith("@@settle "):
                settle = line.split("=", 1)[1]
            elif line.startswith("@@phase "):
                self._boot["phases"].append(line.split(None, 1)[1].strip())
            elif line.startswith("@@printk "):
                self._boot["printk"] = line.split(None, 1)[1]
            elif line.startswith("@@kmemleak "):
                self._boot["kmemleak"] = line.split()[1]
            elif line.startswith("@@smtest "):
                self._boot["header"] = dict(w.split("=", 1) for w in line.split()[1:]
                                            if "=" in w)
            elif line.startswith("@@done"):
                done = True
        if section is not None:
            self._section(tag, section, body, None, infos)
        if done and status == "poweroff":
            r.add("FAIL", "%s/boot" % tag, "the guest finished but %s within %d s: QEMU "
                  "killed (see the end of %s)" % (POWEROFF_HUNG, POWEROFF_GRACE, show(console)))
        elif done and status != "ok":
            # A clean poweroff is QEMU exiting 0; a crash or a kill after
            # the guest's last result is not one.
            r.add("FAIL", "%s/boot" % tag, "the guest finished but QEMU ended with %s, not "
                  "a clean poweroff (see %s)" % (status, show(console[:-len(".console")] +
                                                             ".qemu")))
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
        # Without the whole kernel log on the console, no report above (and
        # no driver error line, _driver_errors()) would have been seen.
        blind = console_problems(console, self._boot["phases"], done, self._boot["printk"])
        for why in blind:
            r.add("FAIL", "%s/kernel-log" % tag, why)
        self._boot["blind"] = blind
        if not reports and not blind:
            r.add("PASS", "%s/kernel-log" % tag)
        if plan is not None and done:
            self._verdict(tag, plan, console)
        note("%s: %s in %.1f s%s; console %s" % (
            tag, "finished" if done else status, elapsed,
            " (IOMMU groups settled %s s after the driver load)" % settle if settle else "",
            show(console)))

    def _section(self, tag, section, body, endline, infos):
        kind = section[0]
        name = section[1] if len(section) > 1 else "?"
        r = self.results
        if kind == "info":
            infos.append((name, body))
        elif kind == "stats":
            if endline is not None:
                problems = []
                self._boot["stats"].append((name, parse_stats(body, problems)))
                self._boot["stats_problems"] += ["%s: %s" % (name, p) for p in problems]
        elif kind == "build":
            self._boot["build"] = body
        elif kind == "kunit":
            self._boot["kunit"].add(name)
            nodes, _, _ = parse_tap(body)
            if not nodes:
                r.add("FAIL", "%s/kunit/%s" % (tag, name), "no KTAP results")
            for n in nodes:
                if n.name != name:  # the results file's top level is the suite
                    n = _wrap(name, n)
                tap_leaves([n], "%s/kunit" % tag, r)
                self._boot["kunit_cases"].setdefault(name, []).extend(c.name for c in n.children)
        elif kind == "selftest":
            self._boot["selftests"].add(name)
            self.selftest_output[(tag, name)] = body
            rc = None
            if endline:
                m = re.search(r"rc=(\d+)", endline)
                rc = int(m.group(1)) if m else None
            nodes, plan, _ = parse_tap(body)
            prefix = "%s/%s" % (tag, name)
            tap_leaves(nodes, prefix, r)
            if endline is not None and nodes:
                self._boot["names"][name] = leaf_names(nodes)
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

    # -- the verdict's checks on what a boot must have done (issue 22) ----------

    def _verdict(self, tag, plan, console):
        """What a finished boot of PLAN (run.py's plan_boot()) must show
        besides its own results: every error the driver reported declared,
        the module's features, the KUnit suites, the selftests and the disks
        its topology and kernel call for, and kmemleak active."""
        r = self.results
        b = self._boot
        driver = plan["driver"]
        if driver in ("ours", "stock-dkms"):
            self._driver_errors(tag, plan, console)
            self._build_features(tag, plan)
        if plan.get("kunit"):
            want = {s for s, feat in KUNIT_SUITES.items()
                    if feat is None or feat in plan["features"]}
            missing = sorted(want - b["kunit"])
            for s in missing:
                r.add("FAIL", "%s/kunit/%s" % (tag, s), "suite missing: not in smmuv3_kunit.ko's "
                      "debugfs results (compiled out, or the module did not load)")
            extra = sorted((n for n in b["kunit"] | kunit_suites_in_sources(
                os.path.join(REPO, "module", "tests")) if n not in KUNIT_SUITES))
            for s in extra:
                r.add("FAIL", "%s/kunit/%s" % (tag, s), "a suite qemu/topologies.py's "
                      "KUNIT_SUITES does not list: add it there, with the feature it needs")
            for s, feat in KUNIT_SUITES.items():
                if s in b["kunit"] and feat and feat not in plan["features"]:
                    r.add("FAIL", "%s/kunit/%s" % (tag, s), "ran, but needs %s, which this "
                          "kernel's data says the build lacks" % feat)
            if not missing and not extra:
                r.add("PASS", "%s/kunit-suites" % tag, "%d suites" % len(want))
            self._kunit_cases(tag, plan)
        missing = [t for t in plan["tests"] if t not in b["selftests"]]
        for t in missing:
            r.add("FAIL", "%s/%s" % (tag, t), "did not run: the topology calls for it "
                  "(not built, not in tests.list or not in the initramfs)")
        if plan["tests"] and not missing:
            r.add("PASS", "%s/selftests-ran" % tag, "%d programs" % len(plan["tests"]))
        self._selftest_names(tag, plan)
        if plan.get("disks") is not None:
            n = sum(1 for c in b["checks"] if c.startswith("blk-io/"))
            if n != plan["disks"]:
                r.add("FAIL", "%s/blk-io" % tag, "%d disk(s) written and read back, the topology "
                      "has %d virtio-blk disks" % (n, plan["disks"]))
        if plan.get("kmemleak"):
            st = b["kmemleak"]
            if st != "active":
                r.add("FAIL", "%s/kmemleak" % tag, "kmemleak %s: this kernel is built with it, "
                      "so no leak check was done" % (st or "not reported"))

    def _kunit_cases(self, tag, plan):
        """Each suite that ran reported the KUNIT_CASE*() entries its sources
        (module/tests/*.c) list for this build, and no other case."""
        r = self.results
        where = plan_where(plan)
        cases, problems = kunit_cases_in_sources(os.path.join(REPO, "module", "tests"))
        for p in problems:
            r.add("FAIL", "%s/kunit-cases" % tag, p)
        bad, n = len(problems), 0

        def holds(conds):
            for cond in conds:
                for atom in cond.split("&&"):
                    g = KUNIT_GUARDS.get(atom.strip())
                    if g is None:
                        raise KeyError(atom.strip())
                    if not (g in plan["features"] if isinstance(g, str) else
                            where_matches(g, where)):
                        return False
            return True
        for suite, got in sorted(self._boot["kunit_cases"].items()):
            if suite not in cases:
                continue  # _verdict() fails a suite the sources do not define
            want = []
            for case, conds in cases[suite]:
                try:
                    if holds(conds):
                        want.append(case)
                except KeyError as e:
                    bad += 1
                    r.add("FAIL", "%s/kunit/%s/%s" % (tag, suite, case), "under #if %s: "
                          "condition %s is not in qemu/topologies.py's KUNIT_GUARDS: say "
                          "which builds have it" % (" / ".join(conds), e.args[0]))
            n += len(want)
            for case in want:
                if case not in got:
                    bad += 1
                    r.add("FAIL", "%s/kunit/%s/%s" % (tag, suite, case), "not reported: "
                          "module/tests lists it in the suite%s (compiled out, or the suite "
                          "stopped early?)" % (
                              " under #if " + " / ".join(dict(cases[suite])[case])
                              if dict(cases[suite])[case] else ""))
            for case in got:
                if case not in want:
                    bad += 1
                    r.add("FAIL", "%s/kunit/%s/%s" % (tag, suite, case), "reported, but "
                          "not a case module/tests lists for this build")
        if not bad:
            r.add("PASS", "%s/kunit-cases" % tag, "%d cases of %d suites, as the sources "
                  "list them" % (n, len(self._boot["kunit_cases"])))

    def _selftest_names(self, tag, plan):
        """Each program that finished reported the tests topologies.py's
        SELFTEST_NAMES lists for it on this kernel, and no other."""
        r = self.results
        bad = n = 0
        for prog, got in sorted(self._boot["names"].items()):
            want = selftest_names(prog, plan["kernel"])
            if want is None:
                bad += 1
                r.add("FAIL", "%s/%s" % (tag, prog), "a program qemu/topologies.py's "
                      "SELFTEST_NAMES does not list: add it, with its tests")
                continue
            n += len(want)
            for t in want:
                if t not in got:
                    bad += 1
                    r.add("FAIL", "%s/%s/%s" % (tag, prog, t), "not reported: SELFTEST_NAMES "
                          "lists it for this kernel (deleted, renamed or compiled out?)")
            for t in got:
                if t not in want:
                    bad += 1
                    r.add("FAIL", "%s/%s/%s" % (tag, prog, t), "reported, but not in "
                          "qemu/topologies.py's SELFTEST_NAMES for this kernel: add it there")
        if self._boot["names"] and not bad:
            r.add("PASS", "%s/selftest-names" % tag, "%d programs, %d tests as listed" % (
                len(self._boot["names"]), n))

    def _driver_errors(self, tag, plan, console):
        """Every error or warning line of smmuv3.ko, and every growth of an
        error counter in debugfs, must be declared (topologies.py
        EXPECTED_ERRORS) by the phase (test) that provoked it."""
        r = self.results
        where = plan_where(plan)
        topo = TOPOLOGIES.get(plan.get("topology"))
        instances = topo.instances if topo else 1
        lines = console_lines(console)
        problems = []
        errs = console_driver_errors(lines, driver_rules(os.path.join(REPO, "module"), problems))
        # Log lines: per phase, each counted against the first declaration
        # that matches it.
        used = {}   # (phase, index) -> lines
        undeclared = {}  # (phase, rule.where) -> [count, first line, rule]
        for phase, rule, line in errs:
            decl = [(i, e) for i, e in enumerate(EXPECTED_ERRORS.get(phase, []))
                    if e.log and e.log.search(line) and where_matches(e.where, where)]
            if decl:
                i = decl[0][0]
                used[(phase, i)] = used.get((phase, i), 0) + 1
            else:
                u = undeclared.setdefault((phase, rule.where), [0, line, rule])
                u[0] += 1
        bad = 0
        for p in problems:
            bad += 1
            r.add("FAIL", "%s/driver-log" % tag, p)
        if self._boot.get("blind"):
            bad += 1
            r.add("FAIL", "%s/driver-log" % tag, "the console does not hold the whole kernel "
                  "log (see kernel-log): its driver error lines cannot be checked")
        for (phase, i), n in sorted(used.items()):
            e = EXPECTED_ERRORS[phase][i]
            if n > e.bound(instances):
                bad += 1
                r.add("FAIL", "%s/driver-log" % tag, "%s: %d lines of /%s/, declared at most %d "
                      "(%s)" % (phase, n, e.log.pattern, e.bound(instances), e.why))
        for (phase, where_), (n, line, rule) in sorted(undeclared.items()):
            bad += 1
            r.add("FAIL", "%s/driver-log" % tag, "%s: %dx \"%s\" (%s), declared by no test" % (
                phase, n, line[:160], rule.where))
        if not bad:
            r.add("PASS", "%s/driver-log" % tag, "%d driver error lines, all declared" % len(errs))
        # Counters: their growth in each phase (between the snapshots at the
        # end of the previous phase and at the end of this one).
        snaps = self._boot["stats"]
        if not snaps or snaps[-1][0] != "end":
            r.add("FAIL", "%s/smmu-counters" % tag, "no debugfs error counters read at the end "
                  "of the boot (%s)" % ("no stats at all" if not snaps else
                                        "last read after %s" % snaps[-1][0]))
            return
        bad, prev = 0, {}
        kind, problems = counter_kinds(stats_counters(os.path.join(REPO, "module")))
        for p in problems + self._boot["stats_problems"]:
            bad += 1
            r.add("FAIL", "%s/smmu-counters" % tag, p)
        unknown = sorted({k for _, snap in snaps for c in snap.values() for k in c
                          if kind(k) is None})
        for k in unknown:
            bad += 1
            r.add("FAIL", "%s/smmu-counters" % tag, "\"%s\": not a counter module/debugfs.c "
                  "prints (counted as an error counter)" % k)
        for phase, snap in snaps:
            grew = counter_growth(prev, snap, kind)
            prev = snap
            decls = [e for e in EXPECTED_ERRORS.get(phase, [])
                     if e.counter and where_matches(e.where, where)]
            sums = {}
            for k, n in sorted(grew.items()):
                d = [i for i, e in enumerate(decls) if e.counter.match(k)]
                if not d:
                    bad += 1
                    r.add("FAIL", "%s/smmu-counters" % tag, "%s: %s grew by %d, declared by no "
                          "test" % (phase, k, n))
                    continue
                sums[d[0]] = sums.get(d[0], 0) + n
            for i, n in sums.items():
                if n > decls[i].bound(instances):
                    bad += 1
                    r.add("FAIL", "%s/smmu-counters" % tag, "%s: /%s/ grew by %d, declared at "
                          "most %d (%s)" % (phase, decls[i].counter.pattern, n,
                                            decls[i].bound(instances), decls[i].why))
        if not bad:
            r.add("PASS", "%s/smmu-counters" % tag, "%d reads of %d instance(s)" % (
                len(snaps), len(snaps[-1][1])))

    def _build_features(self, tag, plan):
        """smmuv3/build (module/compat.c) against what the kernel provides."""
        r = self.results
        body = self._boot["build"]
        if body is None:
            r.add("FAIL", "%s/build-features" % tag, "no /sys/kernel/debug/smmuv3/build: the "
                  "module's features are unknown")
            return
        have = {}
        for line in body:
            w = line.split(None, 1)
            if len(w) == 2:
                have[w[0]] = w[1]
        note("%s: smmuv3.ko features: %s" % (tag, "; ".join("%s %s" % kv for kv in have.items())))
        bad = 0
        for f in sorted(set(BUILD_FEATURES) | set(have)):
            want = f in plan["features"]
            got = have.get(f)
            if f not in BUILD_FEATURES:
                bad += 1
                r.add("FAIL", "%s/build-features" % tag, "%s: not in topologies.py's "
                      "BUILD_FEATURES: say which kernels must have it" % f)
            elif got is None:
                bad += 1
                r.add("FAIL", "%s/build-features" % tag, "%s: not reported by the module" % f)
            elif want and got != "yes":
                bad += 1
                r.add("FAIL", "%s/build-features" % tag, "%s: %s, but kernel %s provides it" % (
                    f, got, plan["kernel"]))
            elif not want and got == "yes":
                bad += 1
                r.add("FAIL", "%s/build-features" % tag, "%s: yes, but the data says kernel %s "
                      "lacks it: fix topologies.py" % (f, plan["kernel"]))
        if not bad:
            r.add("PASS", "%s/build-features" % tag, ", ".join(
                "%s %s" % (f, "yes" if have[f] == "yes" else "no") for f in BUILD_FEATURES))


def leaf_names(nodes, prefix=""):
    """The names of the leaf tests of a parsed (K)TAP tree, as tap_leaves()
    reports them (without the boot's and program's prefix)."""
    out = []
    for n in nodes:
        path = prefix + n.name
        out += leaf_names(n.children, path + "/") if n.children else [path]
    return out


def plan_where(plan):
    return {"topology": plan.get("topology", ""), "kernel": plan.get("kernel", ""),
            "driver": plan.get("driver", ""), "tag": plan.get("tag", "")}


class BootResults:
    """One boot's results, held back until the boot is evaluated: a SKIP is
    then checked against topologies.py's ALLOWED_SKIPS (a skip nobody
    claimed is a FAIL) before the results are printed."""

    def __init__(self):
        self.tests = []

    def add(self, status, name, reason=""):
        self.tests.append((status, name, reason))

    def flush(self, final, plan):
        where = plan_where(plan) if plan else None
        tag = plan["tag"] if plan else None
        for status, name, reason in self.tests:
            if status == "SKIP" and where is not None:
                short = name[len(tag) + 1:] if name.startswith(tag + "/") else name
                reason1 = " ".join(str(reason).split())
                if not any(where_matches(s.where, where) and fnmatch.fnmatchcase(short, s.test)
                           and s.reason.search(reason1) for s in ALLOWED_SKIPS):
                    status, reason = "FAIL", "unclaimed skip (no ALLOWED_SKIPS entry in " \
                        "qemu/topologies.py for this boot): %s" % reason1
            final.add(status, name, reason)


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
