# SPDX-License-Identifier: GPL-2.0-only
"""First pieces of the end-to-end administrator test: boot the Debian 13
arm64 image of qemu/rootimg.py as a server would boot it, its root disk
behind the second of two SMMUv3s (acpi2's hardware: UEFI/ACPI, SMMU 0 on
pcie.0, SMMU 1 on a pxb-pcie), and run one command in it.

The kernel and initramfs are the image's own (/boot/vmlinuz-K and
/boot/initrd.img-K, made by the image's initramfs-tools), read out of the
image with debugfs; the kernel command line is the one GRUB would use: the
normal entry of the image's /boot/grub/grub.cfg (written by update-grub,
so it includes /etc/default/grub.d/smmuv3.cfg) when there is one, else
root=LABEL=root.  The command runs as systemd's transient unit
(systemd.run=, then poweroff); its output reaches the console through the
journal.

Not part of make check yet (see the plan in qemu/rootimg.py's callers).
Runs inside qemu/env.sh's chroot, under /work/cpu-slot:

    qemu/env.sh run python3 /src/qemu/e2e.py [--keep] [--release K] CMD

Copies the image (sparse) unless --keep boots (and changes) the cached one's
copy in place.  Prints the console's path and the boot's seconds."""

import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FIRMWARE = "/usr/share/qemu-efi-aarch64/QEMU_EFI.fd"


def debugfs_dump(image, path, out):
    """Copy PATH (symlinks followed by the caller) out of the ext4 IMAGE."""
    subprocess.run(["debugfs", "-R", "dump %s %s" % (path, out), image], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not os.path.exists(out) or os.path.getsize(out) == 0:
        raise RuntimeError("%s: no %s in %s" % (out, path, image))


def debugfs_ls(image, path):
    p = subprocess.run(["debugfs", "-R", "ls -p %s" % path, image], check=True,
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    # ls -p: /inode/mode/uid/gid/name/size/
    return [f.split("/")[5] for f in p.stdout.decode().splitlines() if f.count("/") >= 6]


def debugfs_put(image, local, dest_dir, name, mode="0100644"):
    """Copy the file LOCAL to DEST_DIR/NAME (DEST_DIR existing) in the ext4 IMAGE."""
    cmds = image + ".debugfs"
    with open(cmds, "w") as f:
        f.write("cd %s\nrm %s\nwrite %s %s\nsif %s mode %s\n" % (
            dest_dir, name, local, name, name, mode))
    subprocess.run(["debugfs", "-w", "-f", cmds, image], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.unlink(cmds)


def debugfs_put_script(image, text, dest_dir, name):
    """Write TEXT as the executable DEST_DIR/NAME into the ext4 IMAGE."""
    local = image + "." + name
    with open(local, "w") as f:
        f.write(text)
    debugfs_put(image, local, dest_dir, name, "0100755")
    os.unlink(local)


def grub_cmdline(cfg, release):
    """The arguments of the normal (non-recovery) entry's `linux` line for
    RELEASE in the grub.cfg text CFG, without the image path; None if none."""
    for line in cfg.splitlines():
        m = re.match(r"\s*linux\s+(\S*vmlinuz-%s)\s+(.*)$" % re.escape(release), line)
        if m and not re.search(r"(^|\s)(single|recovery)(\s|$)", m.group(2)):
            return m.group(2).strip()
    return None


def qemu_argv(kernel, initrd, cmdline, disk, console, smp="2", mem="2G"):
    argv = ["qemu-system-aarch64", "-M", "virt,gic-version=3", "-cpu", "cortex-a57",
            "-smp", smp, "-m", mem, "-display", "none", "-nodefaults", "-no-reboot",
            "-serial", "file:" + console, "-bios", FIRMWARE,
            "-kernel", kernel, "-initrd", initrd, "-append", cmdline,
            # SMMU 0: pcie.0 with an edu; SMMU 1: a pxb-pcie with the root disk.
            "-device", "arm-smmuv3,primary-bus=pcie.0,id=smmuv3.0",
            "-device", "pcie-root-port,id=rp1,bus=pcie.0,chassis=1",
            "-device", "edu,bus=rp1,dma_mask=0xffffffffffff",
            "-device", "pxb-pcie,id=pcie.1,bus_nr=8,bus=pcie.0",
            "-device", "arm-smmuv3,primary-bus=pcie.1,id=smmuv3.1",
            "-device", "pcie-root-port,id=rp2,bus=pcie.1,chassis=2",
            "-drive", "file=%s,if=none,format=raw,id=root" % disk,
            "-device", "virtio-blk-pci,drive=root,bus=rp2,iommu_platform=on,disable-legacy=on"]
    return argv


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--keep", action="store_true",
                    help="boot the work copy left by the last run (changes accumulate)")
    ap.add_argument("--release", help="kernel release to boot (default: the newest in /boot)")
    ap.add_argument("--timeout", type=int, default=1800)
    ap.add_argument("--append", action="append", default=[])
    ap.add_argument("--put", action="append", default=[], metavar="FILE",
                    help="copy FILE into the image's /root first (repeatable)")
    ap.add_argument("cmd", nargs="?", default="uname -a; cat /proc/cmdline; "
                    "for d in /sys/bus/platform/devices/arm-smmu-v3.*; do "
                    "echo $d $(readlink $d/driver); done; ls /sys/kernel/iommu_groups")
    o = ap.parse_args()
    p = subprocess.run([sys.executable, os.path.join(HERE, "rootimg.py")],
                       stdout=subprocess.PIPE, check=True)
    kv = dict(l.split("=", 1) for l in p.stdout.decode().splitlines() if "=" in l)
    d = os.path.dirname(kv["ROOTFS"])
    work = os.path.join(d, "e2e")
    os.makedirs(work, exist_ok=True)
    disk = os.path.join(work, "root.img")
    if not (o.keep and os.path.exists(disk)):
        subprocess.run(["cp", "--sparse=always", kv["ROOTFS"], disk], check=True)
    rels = sorted((f[len("vmlinuz-"):] for f in debugfs_ls(disk, "/boot")
                   if f.startswith("vmlinuz-")),
                  key=lambda r: [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", r)])
    rel = o.release or rels[-1]
    kernel, initrd, cfg = (os.path.join(work, n) for n in ("vmlinuz", "initrd.img", "grub.cfg"))
    debugfs_dump(disk, "/boot/vmlinuz-" + rel, kernel)
    debugfs_dump(disk, "/boot/initrd.img-" + rel, initrd)
    args = None
    try:
        debugfs_dump(disk, "/boot/grub/grub.cfg", cfg)
        with open(cfg) as f:
            args = grub_cmdline(f.read(), rel)
    except (RuntimeError, subprocess.CalledProcessError):
        pass
    args = args or "root=LABEL=root ro"
    for f in o.put:
        debugfs_put(disk, f, "/root", os.path.basename(f))
    # The command as a script in the image: the kernel command line has no
    # quoting systemd and the kernel agree on.
    debugfs_put_script(disk, "#!/bin/sh\n" + o.cmd + "\n", "/usr/local/sbin", "smmuv3-e2e-cmd")
    cmdline = " ".join([args, "console=ttyAMA0", "panic=-1",
                        "systemd.journald.forward_to_console=1",
                        "systemd.run=/usr/local/sbin/smmuv3-e2e-cmd",
                        "systemd.run_success_action=poweroff",
                        "systemd.run_failure_action=poweroff"] + o.append)
    console = os.path.join(work, "console.log")
    t = time.time()
    print("e2e: booting %s: %s" % (rel, cmdline), file=sys.stderr)
    try:
        subprocess.run(qemu_argv(kernel, initrd, cmdline, disk, console), timeout=o.timeout,
                       stdin=subprocess.DEVNULL, check=False)
        status = "poweroff"
    except subprocess.TimeoutExpired:
        status = "timeout"
    print("CONSOLE=%s" % console)
    print("STATUS=%s" % status)
    print("SECONDS=%.0f" % (time.time() - t))


if __name__ == "__main__":
    main()
