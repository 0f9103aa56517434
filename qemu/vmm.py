#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""QEMU as the VMM inside the test guest: accelerated nested SMMUs.

make check runs it as qemu/run.py's step `vmm` (after the topologies; its
results are acpi2-vmm/...):

    qemu/env.sh run python3 /src/qemu/run.py --topology vmm [--driver upstream]
    qemu/env.sh run python3 /src/qemu/vmm.py [--step stopped|l2] [--split-iommufd] \\
        [run.py's options]

Boots the acpi2-vmm hardware under TCG with EL2 (virtualization=on, -cpu
max) and the guest kernel of --kernel (debug by default: KVM built in, with
lockdep, KASAN and kmemleak).  That guest (L1) loads the IOMMU driver,
gives the virtio-blk behind each of its two SMMUs to vfio-pci and runs
Debian's arm64 QEMU (qemu/vmmfetch.sh) on KVM with `-object iommufd`, one
`arm-smmuv3,accel=on` per physical SMMU (the second behind a pxb-pcie) and
a vfio-pci device behind each (qemu/vmm/l1init.sh).

  step l2 (the default, make check's)  QEMU runs the nested guest (L2):
                  Debian's stock kernel with UEFI+ACPI, its own arm-smmu-v3
                  on the vSMMUs, a write and read-back on each
                  passed-through disk, a deliberate fault behind each vSMMU
                  (qemu/vmm/l2init.sh); then L1's kmemleak
  step stopped    QEMU with -S: what the kernel made for it, then `quit`
                  and nothing left behind

L1's results go through qemu/results.py like any boot's (its kernel log is
scanned for lockdep, KASAN and WARN reports); the info sections are also
written to files in the run directory (acpi2-vmm-NAME.txt).
"""

import lzma
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
if HERE not in sys.path:
    sys.path.insert(0, HERE)
from initramfs import Initramfs  # noqa: E402

TOPOLOGY = "acpi2-vmm"
STEP = "vmm"                # run.py --topology vmm
STEP_DESC = ("QEMU as the VMM: Debian's QEMU on KVM inside acpi2-vmm, an accel=on vSMMU per "
             "SMMU, a nested guest moving data and faulting through them; acpi2-vmm/...")
STEPS = ("stopped", "l2")
# The guest's info sections printed with -v (all are written to files).
SHOW = ("debugfs-vmm", "debugfs-l2", "debugfs-after", "qemu-log-start", "kmemleak")
# Seconds of the L1 boot besides L2's run: L1 to its /init, QEMU's start
# and quit, the checks, kmemleak's scans.
L1_SECONDS = 300
# L1's memory: its own (KASAN's shadow on the debug kernel), QEMU's and the
# nested guest's 512 MiB.
MEMORY = "3G"


def step_options(append):
    """(step, split) from run.py's --append words smtest.vmm= and
    smtest.vmm_split= (the last one wins, as in l1init.sh)."""
    step, split = "l2", False
    for w in " ".join(append).split():
        if w.startswith("smtest.vmm="):
            step = w.split("=", 1)[1]
        elif w.startswith("smtest.vmm_split="):
            split = w.split("=", 1)[1] not in ("", "0")
    if step not in STEPS:
        raise SystemExit("vmm: smtest.vmm=%s: one of %s" % (step, ", ".join(STEPS)))
    return step, split


def kv(cmd):
    from hostenv import in_chroot
    out = subprocess.run(in_chroot(cmd), check=True, stdout=subprocess.PIPE,
                         stdin=subprocess.DEVNULL).stdout.decode()
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def l2_initrd(runner, stock_modules, out):
    ird = Initramfs()
    ird.file("/init", os.path.join(HERE, "vmm", "l2init.sh"), mode=0o755)
    ird.file("/bin/busybox", runner.s.busybox(), mode=0o755)
    ko = os.path.join(stock_modules, "kernel/drivers/block/virtio_blk.ko.xz")
    with lzma.open(ko) as f:
        ird.data("/modules/virtio_blk.ko", f.read())
    ird.write(out)


def payload(runner, tag, step):
    """The L1 guest's additions, [(guest path, local path)]: /init, /vmm
    (QEMU, its libraries, the UEFI firmware; for the l2 step the stock
    kernel and L2's initramfs), the dynamic loader where QEMU's binary
    names it."""
    from hostenv import CACHE, chroot_path, flock, local_path, note
    t = time.time()
    q = kv(["bash", chroot_path(os.path.join(HERE, "vmmfetch.sh")), "fetch"])
    files = [("/init", os.path.join(HERE, "vmm", "l1init.sh"))]
    root = local_path(q["ROOT"])
    for d, _, names in os.walk(root):
        for f in names:
            p = os.path.join(d, f)
            files.append(("/vmm/" + os.path.relpath(p, root), p))
    files.append(("/lib/ld-linux-aarch64.so.1", os.path.join(root, "lib",
                                                             "ld-linux-aarch64.so.1")))
    if step == "l2":
        with flock(os.path.join(CACHE, "stock", ".lock")):
            s = kv(["bash", chroot_path(os.path.join(HERE, "stock.sh")), "fetch", "7.3"])
        l2 = runner.s.log(tag + "-l2-initrd.cpio.gz")
        l2_initrd(runner, local_path(s["MODULES"]), l2)
        files += [("/vmm/l2/vmlinuz", local_path(s["VMLINUZ"])), ("/vmm/l2/initrd.cpio.gz", l2)]
    note("%s: QEMU %s, %d files, %.0f MB, in %.0f s" % (
        tag, q["VERSION"], len(files), sum(os.path.getsize(p) for _, p in files) / 1e6,
        time.time() - t))
    return files


def save_infos(results, log, tag, echo):
    """Each info section of the result channel to TAG-NAME.txt (printed
    too, the SHOW ones, when ECHO)."""
    section, body = None, []
    with open(results, errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if section:
                if line.startswith("@@end info "):
                    with open(log("%s-%s.txt" % (tag, section)), "w") as g:
                        g.write("\n".join(body) + "\n")
                    if echo and section in SHOW:
                        print("--- %s\n%s" % (section, "\n".join(body[:100])), flush=True)
                    section = None
                else:
                    body.append(line)
            elif line.startswith("@@begin info "):
                section, body = line.split(" ", 2)[2], []
            elif echo and line.startswith("@@info-line"):
                print(line, flush=True)


def run_vmm(runner):
    """run.py's step `vmm`: one boot of acpi2-vmm on --kernel with --driver;
    its results (TOPOLOGY/NAME) into the runner's."""
    import boot as guest
    import builds
    import iort
    import results
    import spec
    from hostenv import note
    s = runner.s
    o = s.o
    r = runner.results
    step, split = step_options(o.append)
    tag = s.tag(TOPOLOGY, o.kernel)
    k = runner.kernel(o.kernel)
    if not k:
        r.add("SKIP", tag, "no kernel")
        return
    module_dir = None
    if o.driver == "ours":
        module_dir = runner.build_module(k)
        if not module_dir:
            r.add("SKIP", tag, "smmuv3.ko did not build")
            return
    drv, _ = builds.guest_modules(k, o.driver, module_dir)
    initrd = guest.initramfs(s, tag + "-initramfs-" + o.driver, driver_mods=drv)
    l2timeout = max(120, s.opts.timeout - L1_SECONDS)
    # (--append comes after these: smtest.vmm= there chooses the step.)
    b = spec.plain_boot(tag, TOPOLOGY, k.name, o.driver, s.opts, [
        "smtest.driver=" + o.driver, "smtest.vmm=l2", "smtest.l2timeout=%d" % l2timeout])
    b = spec.replace(b, memory=MEMORY, what="%s; Debian's QEMU on KVM in it, step %s%s" % (
        b.what, step, ", the negative control" if split else ""))
    # The CANWBS upgrade of the IORT, on the initramfs without the payload
    # (its acpidump boot runs qemu/init.sh).
    base, pre = iort.prepare(s, guest, b, spec.acpidump_boot(b, s.opts), k.image, initrd)
    try:
        files = payload(runner, tag, step)
    except (subprocess.CalledProcessError, KeyError, OSError) as e:
        for t in pre:
            r.add(*t)
        r.add("FAIL", tag + "/payload", "QEMU or the stock kernel could not be fetched: %s" % e)
        return
    # (The payload's /init wins over qemu/init.sh.)
    out = guest.add_files(s, base, tag + "-l1-initramfs", files)
    note("booting %s (%s)" % (b.tag, b.what))
    outcome = results.evaluate(b, *guest.run(s, b, k.image, out, stream=o.verbose))
    for t in list(pre) + list(outcome.tests):
        r.add(*t)
    save_infos(outcome.results, s.log, tag, o.verbose)


def main():
    """Standalone: run.py --topology vmm, with --step and --split-iommufd
    as --append words; every other option is run.py's."""
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], add_help=False)
    ap.add_argument("--step", choices=STEPS, default="l2")
    ap.add_argument("--split-iommufd", action="store_true",
                    help="negative control: the second device in an iommufd context of its "
                    "own (two nesting parents: the one-parent checks must fail)")
    ap.add_argument("-h", "--help", action="store_true")
    mine, rest = ap.parse_known_args()
    if mine.help:
        ap.print_help()
        print("\nEvery other option is qemu/run.py's (run.py --help).")
        return 0
    # run.py imports this file for its step: exec it rather than import it.
    argv = [sys.executable, os.path.join(HERE, "run.py"), "--topology", STEP,
            "--append", "smtest.vmm=%s smtest.vmm_split=%d" % (mine.step, mine.split_iommufd)
            ] + rest
    os.execv(sys.executable, argv)


if __name__ == "__main__":
    sys.exit(main())
