# SPDX-License-Identifier: GPL-2.0-only
"""The stock Debian kernels: their headers and images from the archive, the
smmuv3-dkms package built and installed with dpkg, and a boot of each with
that module and with its built-in driver.  Functions of the session S
(qemu/session.py), the Runner (qemu/run.py: the build cache and the results
sink) and the queue that boots (qemu/pipeline.py)."""

import os
import subprocess
import time

from hostenv import (HERE, CACHE, chroot_path, local_path, show, in_chroot, tail, flock)
from kmods import read_module, module_index, resolve_modules, builtin_modules
from hostenv import note
from results import keyvals
import boot as guest
from topologies import STOCK, STOCK_SERIES, STOCK_DKMS_SERIES, STOCK_TESTS
import spec


def run_stock(s, runner, queue):
    """The stock Debian kernels of STOCK_SERIES.  Their headers go into the
    chroot (qemu/headers.sh); the smmuv3-dkms package is built and installed
    there with dpkg, its postinst building smmuv3.ko with DKMS for each
    (qemu/deb.sh); then each kernel boots on the acpi2 hardware twice: with
    that module (the built-in arm-smmu-v3 blacklisted), and with the
    built-in driver, to compare.  Both run the VFIO type1 and DMA-API tests
    with the kernel's own vfio modules."""
    if s.o.driver != "ours":
        runner.results.add("SKIP", STOCK, "only for --driver ours")
        return
    k = runner.kernel()
    if not k:
        # The selftests are built against the guest kernel's headers.
        runner.results.add("SKIP", STOCK, "no guest kernel to build the selftests with")
        return
    pre = runner.background.pop("stock", None)
    if pre:
        pre.wait()  # its failure shows again, and is reported, below
    log = s.log("build-stock.log")
    releases, kos, deb = prepare_stock(s, runner.results, log)
    selftests = [x for x in (runner.build_selftests(k) or []) if x[0] in STOCK_TESTS]
    # SMMUV3_STOCK_ONLY=SERIES: every DKMS build, but only that series
    # booted, and only with smmuv3.ko (a quick check of the package).
    only = os.environ.get("SMMUV3_STOCK_ONLY")
    for series in STOCK_DKMS_SERIES:
        rel = releases.get(series)
        if not rel:
            continue
        if series in STOCK_SERIES and (not only or only == series):
            boot_stock(s, runner.results, queue, series, rel, kos.get(rel), deb, selftests, log,
                       builtins=(False,) if only else (False, True))
        elif kos.get(rel):
            runner.results.add("PASS", "stock-%s/dkms-build" % series,
                               "smmuv3.ko for %s from %s's DKMS build (not booted)" % (rel, deb))
        else:
            runner.results.add("FAIL", "stock-%s/dkms-build" % series, "installing %s built no "
                               "smmuv3.ko for %s, see %s" % (deb, rel, show(log)))


def prepare_stock(s, results, log):
    """The stock headers of STOCK_DKMS_SERIES in the chroot and the
    smmuv3-dkms package built and installed there.  Returns ({series:
    release}, {release: smmuv3.ko path}, the package's file name)."""
    t = time.time()
    releases = {}
    with flock(os.path.join(CACHE, "stock", ".lock")):
        for series in STOCK_DKMS_SERIES:
            kv = keyvals(capture(in_chroot(
                [chroot_path(os.path.join(HERE, "headers.sh")), series]), log))
            if "RELEASE" in kv:
                releases[series] = kv["RELEASE"]
            else:
                results.add("FAIL", "stock-%s/headers" % series,
                            "no stock headers, see %s: %s" % (show(log), tail(log, 2)))
        out = capture(in_chroot([chroot_path(os.path.join(HERE, "deb.sh")), "install"]), log)
    kos = dict(l[3:].split("=", 1) for l in out.splitlines() if l.startswith("KO_"))
    deb = os.path.basename(keyvals(out).get("DEB", "smmuv3-dkms.deb"))
    if "DEB=" not in out or "DPKG_FAILED=1" in out or not kos:
        results.add("FAIL", "stock/deb", "building or installing the package failed "
                    "(DKMS built smmuv3.ko for %s only), see %s: %s" % (
                        ", ".join(sorted(kos)) or "no kernel", show(log), tail(log, 3)))
    else:
        results.add("PASS", "stock/deb", "%s built and installed with dpkg; DKMS built "
                    "smmuv3.ko for %s" % (deb, ", ".join(sorted(kos)) or "nothing"))
    note("stock headers and the DKMS builds ready in %.0f s" % (time.time() - t))
    return releases, kos, deb


def boot_stock(s, results, queue, series, release, ko, deb, selftests, log,
               tests=STOCK_TESTS, bench=None, builtins=(False, True)):
    """Boot one stock kernel with our DKMS module, then with its built-in
    driver, running TESTS (and smmuv3_bench with the arguments BENCH, in
    bench mode, if given; SELFTESTS then holds the benchmark too).
    Returns their Outcomes (None for each boot queued in the pool)."""
    tag = "stock-%s" % series
    out = []
    with flock(os.path.join(CACHE, "stock", ".lock")):
        fetched = keyvals(capture(in_chroot(
            [chroot_path(os.path.join(HERE, "stock.sh")), "fetch", series]), log))
    if "VMLINUZ" not in fetched:
        results.add("FAIL", tag + "/fetch", "stock kernel download failed: " + tail(log, 3))
        return out
    if ko:
        results.add("PASS", tag + "/dkms-build",
                    "smmuv3.ko for %s from %s's DKMS build" % (release, deb))
    else:
        results.add("FAIL", tag + "/dkms-build", "installing %s built no smmuv3.ko "
                    "for %s, see %s" % (deb, release, show(log)))
    moddir = local_path(fetched["MODULES"])
    index = module_index(moddir)
    try:
        # virtio_mmio: the result channel; vfio_pci and vfio_iommu_type1
        # (loaded on demand by a real system) for the type1 test.
        pre = resolve_modules(["virtio_mmio", "virtio_blk", "vfio_pci", "vfio_iommu_type1"],
                              index, builtin_modules(moddir))
    except (RuntimeError, OSError) as e:
        results.add("FAIL", tag + "/modules", "stock modules: %s" % e)
        return out
    for builtin in builtins:
        if not builtin and not ko:
            continue
        b = spec.stock_boot(series, release, builtin, deb, s.opts, tests=tests, bench=bench)
        drv = [] if builtin else [("smmuv3", read_module(local_path(ko)))]
        files = [("/bench/smmuv3_bench", p) for n, p in selftests if n == "smmuv3_bench"]
        initrd = guest.initramfs(s, "initramfs-" + b.tag, driver_mods=drv, pre_mods=pre,
                                 selftests=[x for x in selftests if x[0] != "smmuv3_bench"],
                                 files=files)
        out.append(queue.boot(b, local_path(fetched["VMLINUZ"]), initrd))
    return out


def capture(cmd, log):
    with open(log, "ab") as f:
        f.write(("$ %s\n" % " ".join(cmd)).encode())
        f.flush()
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=f, stdin=subprocess.DEVNULL)
        f.write(p.stdout)
    return p.stdout.decode() if p.returncode == 0 else ""
