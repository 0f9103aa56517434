#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""QEMU as the VMM inside the test guest: accelerated nested SMMUs.

    qemu/env.sh run python3 /src/qemu/vmm.py [--driver ours|upstream] [--step stopped|l2]

Boots the acpi2-vmm hardware under TCG with EL2 (virtualization=on, -cpu
max) and the base guest kernel (KVM built in).  That guest (L1) loads the
IOMMU driver, gives the virtio-blk behind each of its two SMMUs to
vfio-pci and runs Debian's arm64 QEMU (qemu/vmmfetch.sh) on KVM with
`-object iommufd`, one `arm-smmuv3,accel=on` per physical SMMU (the second
behind a pxb-pcie) and a vfio-pci device behind each (qemu/vmm/l1init.sh).

  --step stopped  QEMU with -S: what the kernel made for it (smmuv3.ko's
                  debugfs: one nesting parent with a VMID on each instance,
                  each device's STE on its instance's VMID), then `quit`
                  and nothing left behind
  --step l2       QEMU runs the nested guest (L2): Debian's stock kernel
                  with UEFI+ACPI, its own arm-smmu-v3 on the vSMMUs, a
                  write and read-back on each passed-through disk
                  (qemu/vmm/l2init.sh)

Prints PASS/FAIL/SKIP lines like qemu/run.py; logs in the run directory
(vmm-DRIVER-STEP.console, .results, .qemu; info sections as files).
"""

import argparse
import lzma
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
from initramfs import Initramfs  # noqa: E402

TOPOLOGY = "acpi2-vmm"
# The guest's info sections printed (all are written to files).
SHOW = ("debugfs-vmm", "debugfs-l2", "debugfs-after", "qemu-log-start", "kmemleak")


# ---------------------------------------------------------------------------
# The coupling to the harness (qemu/run.py's Runner, qemu/session.py): all of
# it is here.  Returns (boot, log): boot(tag, payload_cpio_gz, cmdline) ->
# (status, seconds, console path, results path); log(name) -> a path in the
# run directory.
def harness(driver, memory, timeout, verbose, kmemleak=False):
    import boot as guest
    import builds
    import iort
    import spec
    from run import Runner
    from session import Session
    from topologies import BUILD_FEATURES, KERNELS, Kernel

    kname = "base"
    if kmemleak:  # the base kernel with kmemleak (qemu/config/vmmleak.config)
        kname = "vmmleak"
        KERNELS.setdefault(kname, Kernel(kname, "the base kernel with kmemleak", "7.3",
                                         ["base", "clients", "vmmleak"], [],
                                         features=BUILD_FEATURES, kmemleak=True))
    o = argparse.Namespace(driver=driver, kernel=kname, kernel_asked=kname, kdir=None,
                           qemu=None, cross_compile=None, busybox=None, firmware=None,
                           memory=memory, timeout=timeout, passthrough="topology", append=[],
                           repeat=0, repeat_only=False, jobs=1, verbose=verbose)
    # EL2 for KVM in the guest: the topology says -cpu max, virtualization=on.
    runner = Runner(Session.start(o))
    s = runner.s
    k = runner.kernel(kname)
    if not k:
        raise SystemExit("vmm: no guest kernel: %s" % runner.results)
    module_dir = None
    if driver == "ours":
        module_dir = runner.build_module(k)
        if not module_dir:
            raise SystemExit("vmm: smmuv3.ko did not build: %s" % runner.results)
    drv, _ = builds.guest_modules(k, driver, module_dir)
    image = k.image
    initrd = guest.initramfs(s, "initramfs-vmm-" + driver, driver_mods=drv)
    # The CANWBS upgrade, made once for all the steps (its command line is
    # in each step's Boot).
    b = spec.plain_boot(s.tag(TOPOLOGY, kname), TOPOLOGY, kname, driver, s.opts)
    base_initrd, res = iort.prepare(s, guest, b, spec.acpidump_boot(b, s.opts), image, initrd)
    for t in res:
        runner.results.add(*t)

    def boot(tag, payload, cmdline):
        out = s.log(tag + "-initrd.img")
        with open(out, "wb") as f:
            for p in (base_initrd, payload):  # the payload's /init wins
                with open(p, "rb") as g:
                    f.write(g.read())
        return guest.run(s, spec.plain_boot(tag, TOPOLOGY, kname, driver, s.opts, cmdline),
                         image, out)

    return boot, s.log
# ---------------------------------------------------------------------------


def kv(cmd):
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE).stdout.decode()
    return dict(l.split("=", 1) for l in out.splitlines() if "=" in l)


def l2_initrd(stock_modules, out):
    ird = Initramfs()
    ird.file("/init", os.path.join(HERE, "vmm", "l2init.sh"), mode=0o755)
    ird.file("/bin/busybox", busybox_path(), mode=0o755)
    ko = os.path.join(stock_modules, "kernel/drivers/block/virtio_blk.ko.xz")
    with lzma.open(ko) as f:
        ird.data("/modules/virtio_blk.ko", f.read())
    ird.write(out)


def busybox_path():
    from builds import CHROOT_BUSYBOX  # the chroot's busybox-static:arm64
    return CHROOT_BUSYBOX


def payload(log, step):
    """The L1 guest's additions: /init, /vmm (QEMU, its libraries, the UEFI
    firmware; for the l2 step the stock kernel and L2's initramfs)."""
    t = time.time()
    q = kv(["bash", os.path.join(HERE, "vmmfetch.sh"), "fetch"])
    ird = Initramfs()
    ird.file("/init", os.path.join(HERE, "vmm", "l1init.sh"), mode=0o755)
    root = q["ROOT"]
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            ird.file("/vmm/" + os.path.relpath(p, root), p)
    # The program interpreter path the binary names.
    ird.symlink("/lib/ld-linux-aarch64.so.1", "/vmm/lib/ld-linux-aarch64.so.1")
    if step == "l2":
        s = kv(["bash", os.path.join(HERE, "stock.sh"), "fetch", "7.3"])
        ird.file("/vmm/l2/vmlinuz", s["VMLINUZ"])
        l2 = log("vmm-l2-initrd.cpio.gz")
        l2_initrd(s["MODULES"], l2)
        ird.file("/vmm/l2/initrd.cpio.gz", l2)
    out = log("vmm-payload.cpio.gz")
    ird.write(out)
    print("vmm: QEMU %s; payload %.0f MB in %.0f s" % (
        q["VERSION"], os.path.getsize(out) / 1e6, time.time() - t), flush=True)
    return out


def report(results, log, tag):
    """PASS/FAIL/SKIP lines from the guest's @@check lines; info sections to
    files.  Returns the number of failures."""
    fails = 0
    section = None
    body = []
    done = False
    with open(results, errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if section:
                # (A section's output may end without a newline.)
                if line.endswith("@@end info " + section):
                    with open(log("%s-%s.txt" % (tag, section)), "w") as g:
                        g.write("\n".join(body) + "\n")
                    if section in SHOW:
                        print("--- %s" % section)
                        print("\n".join(body[:100]))
                    section = None
                else:
                    body.append(line)
                continue
            m = re.match(r"@@check (ok|fail|skip) (\S+)(?: # (.*))?", line)
            if m:
                st = {"ok": "PASS", "fail": "FAIL", "skip": "SKIP"}[m.group(1)]
                fails += st == "FAIL"
                print("%s %s/%s%s" % (st, tag, m.group(2),
                                      ": " + m.group(3) if m.group(3) else ""), flush=True)
            elif line.startswith("@@begin info "):
                section, body = line.split(" ", 2)[2], []
            elif line.startswith("@@info-line"):
                print(line)
            elif line == "@@done":
                done = True
    if not done:
        print("FAIL %s/done: the guest did not finish (see %s)" % (tag, log(tag + ".console")))
        fails += 1
    return fails


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--driver", choices=["ours", "upstream"], default="ours")
    ap.add_argument("--step", choices=["stopped", "l2"], default="stopped")
    ap.add_argument("--memory", default="3G", help="L1's memory (default: 3G)")
    ap.add_argument("--timeout", type=int, default=3000, help="seconds for the L1 boot")
    ap.add_argument("--l2-timeout", type=int, default=1500, help="seconds for L2 (default: 1500)")
    ap.add_argument("--split-iommufd", action="store_true",
                    help="negative control: the second device in an iommufd context of its "
                    "own (two nesting parents: the one-parent checks must fail)")
    ap.add_argument("--kmemleak", action="store_true",
                    help="L1 on the base kernel with kmemleak (built once, about 5 minutes)")
    ap.add_argument("-v", "--verbose", action="store_true", help="stream L1's console")
    o = ap.parse_args()
    t0 = time.time()
    boot, log = harness(o.driver, o.memory, o.timeout, o.verbose, o.kmemleak)
    pay = payload(log, o.step)
    tag = "vmm-%s-%s%s" % (o.driver, o.step, "-split" if o.split_iommufd else "")
    status, secs, console, results = boot(tag, pay, [
        "smtest.driver=" + o.driver, "smtest.vmm=" + o.step,
        "smtest.l2timeout=%d" % o.l2_timeout, "smtest.vmm_split=%d" % o.split_iommufd])
    print("vmm: L1 boot %s after %.0f s (%.0f s in all); logs: %s" % (
        status, secs, time.time() - t0, os.path.dirname(console)), flush=True)
    return 1 if report(results, log, tag) else 0


if __name__ == "__main__":
    sys.exit(main())
