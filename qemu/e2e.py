# SPDX-License-Identifier: GPL-2.0-only
"""The end-to-end administrator test: smmuv3-dkms on a real Debian 13 arm64
system, from `apt install` to a server whose root disk sits behind the
driver, and back.

The system is the image of qemu/rootimg.py (debootstrapped; Debian's stock
kernel; its own initramfs-tools initramfs), cached by content.  Each boot
uses a work copy of it as the root disk, behind the SECOND of two SMMUv3s
(acpi2's hardware: UEFI/ACPI, SMMU 0 on pcie.0 with an edu, SMMU 1 on a
pxb-pcie with the virtio-blk root disk).  The kernel and initramfs booted
are the image's own (/boot/vmlinuz-K and /boot/initrd.img-K of the newest
K, what GRUB's default entry boots), read out of the image with debugfs;
the kernel command line is the one GRUB would use: the normal entry of the
image's /boot/grub/grub.cfg (written by update-grub when smmuv3-ctl runs
it, so with /etc/default/grub.d/smmuv3.cfg) when there is one, else
root=LABEL=root.  Each boot runs one step of qemu/e2e-guest/steps.sh
(systemd.run=, then poweroff), which reports what it saw on a virtio
console; the checks here turn that into PASS/FAIL results:

  1 install   stock driver: apt install ./smmuv3-dkms_*.deb (DKMS builds
              for the running kernel), enable refused without the headers
              metapackage
  2 upgrade   enable; a second kernel installed without its headers:
              enable refused; its headers: DKMS builds for it and its
              initramfs gets the module
  3 enabled   the boot after enable (the second kernel, GRUB's default):
              root through smmuv3 (IOMMU group, debugfs, a 32 MB write,
              caches dropped, read back), the built-in driver not bound;
              then disable and apt purge
  4 disabled  the built-in driver is back and the system boots

The late-load hazard (steps.sh lateload: the built-in driver off on the
command line, smmuv3 not in the initramfs, smmuv3 loaded by hand) is not in
the chain: on Debian's 6.12 kernel the root disk behind the SMMU then never
probes ("deferred probe pending" after deferred_probe_timeout), so the
system has no root file system to run the step from.

Not yet part of make check (its image and boots take longer than make
check's budget allows); run_e2e() is the entry a make check step would
call.  Standalone, inside qemu/env.sh's chroot:

    qemu/env.sh run python3 /src/qemu/e2e.py --check [--deb FILE]
    qemu/env.sh run python3 /src/qemu/e2e.py [--keep] CMD   # one boot, one command
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
FIRMWARE = "/usr/share/qemu-efi-aarch64/QEMU_EFI.fd"
QEMU = "qemu-system-aarch64"
PARAM = "initcall_blacklist=arm_smmu_driver_init"
STEPS_SCRIPT = os.path.join(HERE, "e2e-guest", "steps.sh")
# Seconds per boot before QEMU is killed (TCG; the DKMS builds run in 1 and 2).
TIMEOUTS = {"install": 1800, "upgrade": 2400, "lateload": 2400, "enabled": 1500,
            "disabled": 600}
STEPS = ["install", "upgrade", "enabled", "disabled"]
# Step 2's extra command line: the built-in driver off without enable (so
# smmuv3 is not in the initramfs), a short deferred-probe wait, and no
# autoload of smmuv3 by udev (modprobe by name still loads it).
LATELOAD_APPEND = [PARAM, "deferred_probe_timeout=5", "modprobe.blacklist=smmuv3"]
EMPTY_SHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def log(msg):
    print("# e2e: " + msg, flush=True)


# --------------------------------------------------------------------------
# The image, through debugfs (no mount, no loop device)

def debugfs(image, *cmds, write=False):
    script = image + ".debugfs"
    with open(script, "w") as f:
        f.write("\n".join(cmds) + "\n")
    p = subprocess.run(["debugfs"] + (["-w"] if write else []) + ["-f", script, image],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)
    os.unlink(script)
    return p.stdout.decode(errors="replace")


def debugfs_dump(image, path, out):
    """Copy PATH (a regular file) out of the ext4 IMAGE to OUT."""
    if os.path.exists(out):
        os.unlink(out)
    debugfs(image, "dump %s %s" % (path, out))
    if not os.path.exists(out) or os.path.getsize(out) == 0:
        raise RuntimeError("no %s in %s" % (path, image))


def debugfs_ls(image, path):
    out = debugfs(image, "ls -p %s" % path)
    # ls -p: /inode/mode/uid/gid/name/size/
    return [f.split("/")[5] for f in out.splitlines() if f.count("/") >= 6]


def debugfs_put(image, local, dest_dir, name, mode="0100644"):
    """Copy the file LOCAL to DEST_DIR/NAME in the ext4 IMAGE (DEST_DIR made)."""
    cmds, path = [], ""
    for part in dest_dir.strip("/").split("/"):
        path += "/" + part
        cmds.append("mkdir %s" % path)  # an error if it exists: ignored
    cmds += ["cd %s" % dest_dir, "rm %s" % name, "write %s %s" % (local, name),
             "sif %s mode %s" % (name, mode)]
    debugfs(image, *cmds, write=True)


def debugfs_put_text(image, text, dest_dir, name, mode="0100755"):
    local = image + "." + name
    with open(local, "w") as f:
        f.write(text)
    debugfs_put(image, local, dest_dir, name, mode)
    os.unlink(local)


def release_key(r):
    return [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", r)]


def grub_cmdline(cfg, release):
    """The arguments of the normal (non-recovery) entry's `linux` line for
    RELEASE in the grub.cfg text CFG, without the image path; None if none."""
    for line in cfg.splitlines():
        m = re.match(r"\s*linux\s+(\S*vmlinuz-%s)\s+(.*)$" % re.escape(release), line)
        if m and not re.search(r"(^|\s)(single|recovery)(\s|$)", m.group(2)):
            return m.group(2).strip()
    return None


def qemu_argv(qemu, firmware, kernel, initrd, cmdline, disk, console, results,
              smp="2", mem="2G"):
    return [qemu, "-M", "virt,gic-version=3", "-cpu", "cortex-a57",
            "-smp", smp, "-m", mem, "-display", "none", "-nodefaults", "-no-reboot",
            "-serial", "file:" + console, "-bios", firmware,
            "-kernel", kernel, "-initrd", initrd, "-append", cmdline,
            # The results channel: virtio-mmio, behind no SMMU.
            "-chardev", "file,id=res,path=" + results,
            "-device", "virtio-serial-device", "-device", "virtconsole,chardev=res",
            # SMMU 0: pcie.0 with an edu; SMMU 1: a pxb-pcie with the root disk.
            "-device", "arm-smmuv3,primary-bus=pcie.0,id=smmuv3.0",
            "-device", "pcie-root-port,id=rp1,bus=pcie.0,chassis=1",
            "-device", "edu,bus=rp1,dma_mask=0xffffffffffff",
            "-device", "pxb-pcie,id=pcie.1,bus_nr=8,bus=pcie.0",
            "-device", "arm-smmuv3,primary-bus=pcie.1,id=smmuv3.1",
            "-device", "pcie-root-port,id=rp2,bus=pcie.1,chassis=2",
            "-drive", "file=%s,if=none,format=raw,id=root" % disk,
            "-device", "virtio-blk-pci,drive=root,bus=rp2,iommu_platform=on,disable-legacy=on"]


def build_image(cache):
    """qemu/rootimg.py: {ROOTFS, KERNEL, SECOND}, and seconds it took."""
    t = time.time()
    env = dict(os.environ, SMMUV3_CACHE=cache)
    p = subprocess.run([sys.executable, os.path.join(HERE, "rootimg.py")], env=env,
                       stdout=subprocess.PIPE, check=True)
    kv = dict(l.split("=", 1) for l in p.stdout.decode().splitlines() if "=" in l)
    return kv, time.time() - t


class Boot:
    """One boot of the work image: its console, the facts and blocks it
    reported, whether the step ran to its end, and its seconds."""

    def __init__(self, step, results_path, console, seconds, status):
        self.step, self.console, self.seconds, self.status = step, console, seconds, status
        self.facts, self.blocks, self.done = {}, {}, False
        try:
            with open(results_path, errors="replace") as f:
                text = f.read()
        except OSError:
            text = ""
        cur = None
        for line in text.splitlines():
            line = line.rstrip("\r")
            if cur is not None:
                if line == "<<< " + cur:
                    cur = None
                else:
                    self.blocks[cur].append(line)
            elif line.startswith(">>> "):
                cur = line[4:]
                self.blocks[cur] = []
            elif line == "E2E-DONE " + step:
                self.done = True
            elif "=" in line:
                k, v = line.split("=", 1)
                self.facts[k] = v.strip()

    def fact(self, k):
        return self.facts.get(k, "")

    def block(self, k):
        return "\n".join(self.blocks.get(k, []))

    def tail(self, n=6):
        try:
            with open(self.console, errors="replace") as f:
                lines = [l.strip() for l in f.read().splitlines() if l.strip()]
        except OSError:
            return "no console"
        return " | ".join(lines[-n:])


class E2E:
    def __init__(self, results, logdir, cache, deb=None, qemu=QEMU, firmware=FIRMWARE):
        self.r, self.logdir, self.cache = results, logdir, cache
        self.deb, self.qemu, self.firmware = deb, qemu, firmware
        self.disk = None
        self.work, self.start = None, STEPS[0]
        self.times = []

    # ---- one boot
    def boot(self, step, cmd, append=(), timeout=1800):
        """Boot the work image's newest kernel with GRUB's command line (plus
        APPEND), running CMD (a shell script) as systemd's transient unit."""
        work = os.path.join(self.logdir, "e2e")
        os.makedirs(work, exist_ok=True)
        disk = self.disk
        rel = sorted((f[len("vmlinuz-"):] for f in debugfs_ls(disk, "/boot")
                      if f.startswith("vmlinuz-")), key=release_key)[-1]
        kernel, initrd, cfg = (os.path.join(work, "%s.%s" % (step, n))
                               for n in ("vmlinuz", "initrd.img", "grub.cfg"))
        debugfs_dump(disk, "/boot/vmlinuz-" + rel, kernel)
        debugfs_dump(disk, "/boot/initrd.img-" + rel, initrd)
        args = None
        try:
            debugfs_dump(disk, "/boot/grub/grub.cfg", cfg)
            with open(cfg) as f:
                args = grub_cmdline(f.read(), rel)
        except (RuntimeError, subprocess.CalledProcessError):
            pass
        args = args or "root=LABEL=root ro console=ttyAMA0"
        # The command as a script in the image: the kernel command line has
        # no quoting that systemd and the kernel agree on.
        debugfs_put_text(disk, "#!/bin/sh\n" + cmd + "\n", "/usr/local/sbin", "smmuv3-e2e-cmd")
        cmdline = " ".join([args, "panic=-1", "systemd.journald.forward_to_console=1",
                            "systemd.run=/usr/local/sbin/smmuv3-e2e-cmd",
                            "systemd.run_success_action=poweroff",
                            "systemd.run_failure_action=poweroff"] + list(append))
        console = os.path.join(work, step + ".console")
        results = os.path.join(work, step + ".results")
        for f in (console, results):
            if os.path.exists(f):
                os.unlink(f)
        log("%s: booting %s: %s" % (step, rel, cmdline))
        t = time.time()
        try:
            subprocess.run(qemu_argv(self.qemu, self.firmware, kernel, initrd, cmdline, disk,
                                     console, results),
                           timeout=timeout, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.STDOUT, check=False)
            status = "poweroff"
        except subprocess.TimeoutExpired:
            status = "timeout after %d s" % timeout
        b = Boot(step, results, console, time.time() - t, status)
        b.release, b.cmdline = rel, cmdline
        self.times.append((step, b.seconds))
        log("%s: %s in %.0f s (console %s)" % (step, status, b.seconds, console))
        return b

    # ---- results
    def check(self, name, ok, why, detail=""):
        """One assertion: PASS, or FAIL with WHY (what was expected and seen)."""
        self.r.add("PASS" if ok else "FAIL", "e2e/" + name, detail if ok else why)
        return ok

    def booted(self, b, name):
        return self.check(name + "/boot", b.done,
                          "step %s did not finish (%s; see %s): %s" % (
                              b.step, b.status, b.console, b.tail()),
                          "%s, %.0f s" % (b.release, b.seconds))

    def rc0(self, b, name, key, what):
        rc = b.fact(key + "_rc")
        return self.check(name, rc == "0", "%s: exit status %s: %s" % (
            what, rc or "not run", b.block(key)[-400:]), "%s (%s s)" % (what, b.fact(key + "_s")))

    def refused(self, b, name, key, message):
        rc = b.fact(key + "_rc")
        out = b.block(key)
        return self.check(name, rc not in ("", "0") and message in " ".join(out.split()),
                          "smmuv3-ctl enable: exit status %s, expected a refusal saying %r; "
                          "it said: %s" % (rc or "not run", message, out[-400:]),
                          "refused: " + message)

    # ---- the chain
    def run(self, stop_after=None):
        steps = STEPS[STEPS.index(self.start):]
        try:
            kv, secs = build_image(self.cache)
        except subprocess.CalledProcessError as e:
            self.check("image", False, "qemu/rootimg.py failed (exit %d)" % e.returncode)
            return
        d = os.path.dirname(kv["ROOTFS"])
        with open(os.path.join(d, ".complete")) as f:
            how = f.read().strip()
        self.check("image", True, "", "%s (%s; this run: %.0f s)" % (kv["ROOTFS"], how, secs))
        self.second = kv["SECOND"]
        deb = self.deb or self.build_deb()
        if not deb:
            return
        # The work copy (sparse) next to the image, one per run.
        keep = bool(self.work)
        self.disk = self.work or os.path.join(d, "e2e-work-%d.img" % os.getpid())
        try:
            if not keep:
                subprocess.run(["cp", "--sparse=always", kv["ROOTFS"], self.disk], check=True)
            debugfs_put(self.disk, deb, "/var/cache/smmuv3-test/pkg", os.path.basename(deb))
            debugfs_put(self.disk, STEPS_SCRIPT, "/usr/local/sbin", "smmuv3-e2e-steps",
                        "0100755")
            # The results channel is no terminal: no getty on it.
            debugfs(self.disk, "symlink /etc/systemd/system/serial-getty@hvc0.service /dev/null",
                    write=True)
            self.prev = {}
            # Resumed: the steps an earlier run in LOGDIR booted, checked again.
            for step in STEPS[:STEPS.index(self.start)]:
                w = os.path.join(self.logdir, "e2e", step)
                b = Boot(step, w + ".results", w + ".console", 0, "earlier run")
                b.release = b.fact("release")
                getattr(self, "check_" + step)(b)
                self.prev[step] = b
            for i, step in enumerate(steps):
                b = self.boot(step, "exec /usr/local/sbin/smmuv3-e2e-steps " + step,
                              LATELOAD_APPEND if step == "lateload" else (),
                              TIMEOUTS[step])
                ok = getattr(self, "check_" + step)(b)
                self.prev[step] = b
                if not ok:
                    for s in steps[i + 1:]:
                        self.check(s + "/boot", False, "not run: step %s failed" % step)
                    break
                if step == stop_after:
                    break
        finally:
            if not keep and os.path.exists(self.disk) and not os.environ.get("SMMUV3_E2E_KEEP"):
                os.unlink(self.disk)
        log("boots: " + ", ".join("%s %.0f s" % t for t in self.times))

    def build_deb(self):
        p = subprocess.run(["bash", os.path.join(HERE, "deb.sh"), "build"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=dict(os.environ, SMMUV3_CACHE=self.cache))
        kv = dict(l.split("=", 1) for l in p.stdout.decode().splitlines() if "=" in l)
        if p.returncode or "DEB" not in kv:
            self.check("deb", False, "qemu/deb.sh build failed: " +
                       p.stderr.decode(errors="replace")[-300:])
            return None
        return kv["DEB"]

    # Each check_STEP returns whether the chain can go on (the step ran).
    def check_install(self, b):
        if not self.booted(b, "install"):
            return False
        drv = b.fact("smmu_drivers").split()
        self.check("install/stock-driver-before", len(drv) == 2 and
                   all(x.endswith(":arm-smmu-v3") for x in drv),
                   "before the package: expected both SMMUv3s bound to arm-smmu-v3, saw %r" %
                   b.fact("smmu_drivers"), b.fact("smmu_drivers"))
        self.rc0(b, "install/apt-install", "apt_install", "apt install ./smmuv3-dkms_*.deb")
        self.check("install/dkms-built", b.fact("dkms_running") == "yes",
                   "dkms status -m smmuv3 -k %s: not installed: %s" % (
                       b.fact("release"), b.block("dkms_status")), b.block("dkms_status"))
        self.check("install/initramfs-not-enabled", b.fact("initrd_running_smmuv3") == "0",
                   "installed but not enabled: the initramfs of %s has smmuv3.ko (%s)" % (
                       b.fact("release"), b.fact("initrd_running_smmuv3")),
                   "no smmuv3.ko in the initramfs until enable")
        self.rc0(b, "refuse/remove-headers-metapackage", "remove_headers_meta",
                 "dpkg -r linux-headers-arm64")
        self.refused(b, "refuse/no-headers-metapackage", "enable_no_meta",
                     "linux-headers-arm64 is not installed")
        self.check("refuse/no-headers-metapackage-unchanged", b.fact("cfg_after_refusal") == "no",
                   "a refused enable left /etc/default/grub.d/smmuv3.cfg behind")
        self.rc0(b, "refuse/restore-headers-metapackage", "restore_headers_meta",
                 "dpkg -i linux-headers-arm64_*.deb")
        # Not reachable on this system; tools/test_smmuv3_ctl.py covers them.
        self.r.add("SKIP", "e2e/refuse/secure-boot-key-not-enrolled",
                   "not reachable in QEMU (the UEFI firmware has no Secure Boot); "
                   "tools/test_smmuv3_ctl.py covers it on a fake tree")
        self.r.add("SKIP", "e2e/refuse/unsupported-running-kernel",
                   "the image runs Debian's supported kernel; tools/test_smmuv3_ctl.py "
                   "covers it on a fake tree")
        return True

    def check_upgrade(self, b):
        return self.check_lateload(b, late=False)

    def check_lateload(self, b, late=True):
        if not self.booted(b, "lateload" if late else "upgrade"):
            return False
        sec = self.second
        drv = b.fact("smmu_drivers").split()
        late and self.check("late-load/builtin-off", PARAM in b.fact("cmdline").split() and
                   len(drv) == 2 and all(x.endswith(":none") for x in drv) and
                   b.fact("smmuv3_loaded") == "no" and b.fact("root_group") == "none",
                   "expected both SMMUv3s without a driver, smmuv3 not loaded and the root "
                   "disk without an IOMMU group; saw %r, smmuv3 loaded: %s, root group %s" % (
                       b.fact("smmu_drivers"), b.fact("smmuv3_loaded"), b.fact("root_group")),
                   "root %s (%s) probed without an IOMMU" % (b.fact("root_source"),
                                                             b.fact("root_pci")))
        self.rc0(b, "enable/enable", "ctl_enable", "smmuv3-ctl enable")
        n, normal, rec = (b.fact(k) for k in ("grub_normal_entries", "grub_normal_param",
                                              "grub_recovery_param"))
        self.check("enable/grub-entries", n not in ("", "0") and normal == n and rec == "0",
                   "update-grub: %s of %s normal entries have %s, %s recovery entries have it" % (
                       normal, n, PARAM, rec), "%s normal entries with %s, recovery without" % (
                       n, PARAM))
        self.check("enable/initramfs", b.fact("initrd_running_smmuv3") not in ("", "0"),
                   "after enable the initramfs of %s lacks smmuv3.ko" % b.fact("release"),
                   "smmuv3.ko in the initramfs of " + b.fact("release"))
        self.rc0(b, "second-kernel/install-without-headers", "install_second_image",
                 "apt install the %s kernel (no headers)" % sec)
        self.check("refuse/kernel-without-module-state",
                   b.fact("dkms_second_without_headers") == "no",
                   "DKMS built smmuv3 for %s without its headers?" % sec)
        self.refused(b, "refuse/kernel-without-module", "enable_no_module",
                     "kernel %s has no smmuv3.ko built by DKMS" % sec)
        self.rc0(b, "second-kernel/install-headers", "install_second_headers",
                 "apt install linux-headers-%s" % sec)
        self.check("second-kernel/dkms-build", b.fact("dkms_second") == "yes",
                   "dkms status -m smmuv3 -k %s: not installed after its headers" % sec,
                   "DKMS built smmuv3.ko for " + sec)
        self.check("second-kernel/initramfs", b.fact("initrd_second_smmuv3") not in ("", "0"),
                   "the initramfs of %s lacks smmuv3.ko" % sec, "smmuv3.ko in its initramfs")
        if not late:
            return True
        late = b.block("late_load")
        pci = b.fact("root_pci")
        hit = [l for l in late.splitlines() if "LATE LOAD" in l and pci and pci in l]
        self.check("late-load/message", b.fact("modprobe_rc") == "0" and bool(hit),
                   "modprobe smmuv3 (exit %s): no LATE LOAD message for the root disk %s: %s" % (
                       b.fact("modprobe_rc"), pci, late[-400:]),
                   hit[0] if hit else "")
        rd, want = b.fact("late_direct_read"), b.fact("late_data_sha")
        self.check("late-load/read-after", rd in ("pending", EMPTY_SHA, want) and want,
                   "an O_DIRECT read of the file after the load returned other data "
                   "(sha256 %s, written %s)" % (rd, want),
                   {"pending": "the read waits (DMA blocked)", EMPTY_SHA: "the read failed",
                    want: "the read returned the data"}.get(rd, rd))
        return True

    def check_enabled(self, b):
        if not self.booted(b, "enable-boot"):
            return False
        drv = b.fact("smmu_drivers").split()
        dm = b.block("dmesg_smmu")
        self.check("enable-boot/kernel", b.fact("release") == self.second,
                   "booted %s, expected the newest kernel %s" % (b.fact("release"), self.second),
                   b.fact("release"))
        self.check("enable-boot/cmdline-from-grub", PARAM in b.fact("cmdline").split(),
                   "GRUB's normal entry lacks %s: %s" % (PARAM, b.fact("cmdline")))
        self.check("enable-boot/stock-driver-not-bound",
                   drv and not any(x.endswith(":arm-smmu-v3") for x in drv) and
                   b.fact("initcall_blacklisted") not in ("", "0"),
                   "arm-smmu-v3 bound or its initcall not blacklisted: %r; %s" % (
                       b.fact("smmu_drivers"), dm[-300:]), "initcall arm_smmu_driver_init "
                   "blacklisted")
        self.check("enable-boot/drives-2-of-2",
                   len(drv) == 2 and all(x.endswith(":smmuv3") for x in drv) and
                   b.fact("drives").endswith("drives 2 of 2"),
                   "expected smmuv3 bound to both SMMUv3s and \"drives 2 of 2\": %r, %r; %s" % (
                       b.fact("smmu_drivers"), b.fact("drives"), dm[-300:]),
                   "%s; %s" % (b.fact("smmu_drivers"), b.fact("drives")))
        self.check("enable-boot/root-through-smmuv3", b.fact("root_group") not in ("", "none"),
                   "the root disk %s (%s) has no IOMMU group" % (b.fact("root_source"),
                                                                 b.fact("root_pci")),
                   "root %s on %s in IOMMU group %s" % (b.fact("root_source"), b.fact("root_pci"),
                                                        b.fact("root_group")))
        dbg = b.fact("debugfs_smmuv3").split()
        self.check("enable-boot/debugfs", len(dbg) == 2,
                   "expected two instances in /sys/kernel/debug/smmuv3, saw %r" % dbg,
                   " ".join(dbg))
        w, rd = b.fact("dma_written"), b.fact("dma_read")
        self.check("enable-boot/dma-round-trip", bool(w) and w != EMPTY_SHA and w == rd,
                   "32 MB written (sha256 %s), caches dropped, read back %s" % (w, rd),
                   "32 MB written, caches dropped, same sha256 read back")
        before = self.prev["lateload"].fact("late_data_sha") if "lateload" in self.prev else None
        before is not None and self.check("late-load/no-data-lost", bool(before) and b.fact("late_data_sha_now") == before,
                   "the file written before the late load: sha256 %s, now %s" % (
                       before, b.fact("late_data_sha_now")), "same sha256 after the late load")
        self.rc0(b, "disable/disable", "disable", "smmuv3-ctl disable")
        self.check("disable/grub-entries", b.fact("grub_normal_param") == "0",
                   "after disable %s normal entries still have %s" % (
                       b.fact("grub_normal_param"), PARAM))
        self.check("disable/initramfs",
                   b.fact("initrd_running_smmuv3") == "0" and b.fact("initrd_first_smmuv3") == "0",
                   "after disable the initramfs still has smmuv3.ko (this kernel: %s, the "
                   "first: %s)" % (b.fact("initrd_running_smmuv3"), b.fact("initrd_first_smmuv3")))
        self.rc0(b, "purge/purge", "purge", "apt purge smmuv3-dkms")
        self.check("purge/nothing-left",
                   b.fact("modules_left") == "0" and b.fact("cfg_left") == "0" and
                   "smmuv3" not in b.block("dkms_status_purged"),
                   "after purge: %s smmuv3.ko, %s of smmuv3.cfg/smmuv3-ctl left; dkms status: %s" %
                   (b.fact("modules_left"), b.fact("cfg_left"), b.block("dkms_status_purged")))
        return True

    def check_disabled(self, b):
        if not self.booted(b, "disable-boot"):
            return False
        drv = b.fact("smmu_drivers").split()
        self.check("disable-boot/stock-driver-back",
                   PARAM not in b.fact("cmdline").split() and len(drv) == 2 and
                   all(x.endswith(":arm-smmu-v3") for x in drv) and b.fact("smmuv3_loaded") == "no",
                   "expected both SMMUv3s bound to arm-smmu-v3 and no smmuv3: %r, smmuv3 loaded: "
                   "%s, cmdline %s" % (b.fact("smmu_drivers"), b.fact("smmuv3_loaded"),
                                      b.fact("cmdline")), b.fact("smmu_drivers"))
        self.check("disable-boot/root",
                   b.fact("root_options").startswith("rw") and
                   b.fact("root_group") not in ("", "none"),
                   "root %s mounted %s, IOMMU group %s" % (
                       b.fact("root_source"), b.fact("root_options"), b.fact("root_group")),
                   "root mounted rw, IOMMU group %s (arm-smmu-v3); system %s" % (
                       b.fact("root_group"), b.fact("system_state")))
        return True


def run_e2e(results, logdir, cache, deb=None, qemu=QEMU, firmware=FIRMWARE, stop_after=None,
            work=None, start=None):
    """The whole chain, one result per assertion (e2e/...) in RESULTS (add()
    as in qemu/results.py).  DEB: the smmuv3-dkms .deb (default: qemu/deb.sh
    build's); LOGDIR gets e2e/STEP.console and e2e/STEP.results; CACHE is
    where qemu/rootimg.py keeps the image (the chroot's /cache)."""
    e = E2E(results, logdir, cache, deb, qemu, firmware)
    e.work, e.start = work, start or STEPS[0]
    e.run(stop_after)


def one_command(o):
    """The old single boot: CMD in a copy of the image (or, with --keep, the
    copy of the last such run)."""
    kv, _ = build_image(o.cache)
    d = os.path.dirname(kv["ROOTFS"])
    e = E2E(None, os.path.join(d, "e2e"), o.cache)
    e.disk = os.path.join(d, "e2e", "root.img")
    os.makedirs(os.path.dirname(e.disk), exist_ok=True)
    if not (o.keep and os.path.exists(e.disk)):
        subprocess.run(["cp", "--sparse=always", kv["ROOTFS"], e.disk], check=True)
    for f in o.put:
        debugfs_put(e.disk, f, "/root", os.path.basename(f))
    b = e.boot("cmd", o.cmd + "\necho E2E-DONE cmd >/dev/hvc0", o.append, o.timeout)
    print("CONSOLE=%s" % b.console)
    print("STATUS=%s" % b.status)
    print("SECONDS=%.0f" % b.seconds)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="the end-to-end test (make check's)")
    ap.add_argument("--deb", help="with --check: the package to test (default: qemu/deb.sh build)")
    ap.add_argument("--stop-after", choices=STEPS[:-1], help="with --check: stop after this step")
    ap.add_argument("--from", dest="start", choices=STEPS,
                    help="with --check and --work: go on from this step")
    ap.add_argument("--work", help="with --check: the work copy of an earlier run (kept)")
    ap.add_argument("--logdir", help="with --check: where the consoles go "
                    "(default: CACHE/logs/e2e-TIME)")
    ap.add_argument("--cache", default=os.environ.get("SMMUV3_CACHE", "/var/cache/smmuv3"))
    ap.add_argument("--keep", action="store_true",
                    help="one command: boot the work copy left by the last run")
    ap.add_argument("--timeout", type=int, default=1800)
    ap.add_argument("--append", action="append", default=[])
    ap.add_argument("--put", action="append", default=[], metavar="FILE",
                    help="one command: copy FILE into the image's /root first")
    ap.add_argument("cmd", nargs="?", default="uname -a; cat /proc/cmdline; "
                    "for d in /sys/bus/platform/devices/arm-smmu-v3.*; do "
                    "echo $d $(readlink $d/driver); done; ls /sys/kernel/iommu_groups")
    o = ap.parse_args()
    if not o.check:
        one_command(o)
        return 0
    from results import Results
    r = Results()
    logdir = o.logdir or os.path.join(o.cache, "logs", "e2e-" + time.strftime("%Y%m%d-%H%M%S"))
    os.makedirs(logdir, exist_ok=True)
    t = time.time()
    run_e2e(r, logdir, o.cache, deb=o.deb, stop_after=o.stop_after, work=o.work, start=o.start)
    summary = r.write(os.path.join(logdir, "summary.txt"))
    log("%.0f s; results in %s" % (time.time() - t, logdir))
    print(summary)
    return 1 if r.count("FAIL") else 0


if __name__ == "__main__":
    sys.exit(main())
