# SPDX-License-Identifier: GPL-2.0-only
"""`make run` (run.py --demo): one quick boot that shows the driver doing its
job, then powers off.

The guest is the acpi2 hardware (two SMMUs, an edu and a virtio-blk behind
each) with the driver loaded and the default DMA domains (no
iommu.passthrough=1: the disks' DMA is translated).  It shows the SMMUs
the driver probed and the devices' IOMMU groups, writes and reads back
1 MiB through each disk (DMA through each instance), and runs three
selftests: smmuv3_topology (the groups), smmuv3_type1 (a VFIO container
with an edu behind each SMMU: one domain, one page table, one tag per
instance in /sys/kernel/debug/smmuv3/domains) and smmuv3_share (the same
with iommufd: one HWPT for both).  No KUnit, no proof tests: those are
make check's.

The boot is judged as make check judges its boots (every check, the
driver's error lines and counters, the selftests that must have run); the
lines printed are a summary of what the guest reported.  Nothing here is
used by make check.
"""

import hashlib
import os
import re
import time

from hostenv import CACHE, IN_CHROOT, show, note
from results import Results, parse_stats
from topologies import KERNELS, TOPOLOGIES, DEMO_TOPOLOGY as TOPOLOGY, DEMO_TESTS as TESTS
import boot as guest
import builds
import pipeline
import spec

# What to show of each selftest: the comments of these tests.
SHOW = [
    ("smmuv3_type1", "type1.one_domain_both_instances",
     "One domain shared by both SMMUs: a VFIO type1 container with an edu behind each"),
    ("smmuv3_share", "share.auto_domain_shared",
     "The same through iommufd: two edus on one IOAS get one HWPT"),
    ("smmuv3_share", "share.shared_unmap_faults_on_both",
     "An unmap of the shared domain invalidates both SMMUs"),
]


class Quiet(Results):
    """The boot's results, printed only when they fail: the summary line
    counts the others.  (A skip reaching here is one topologies.py's
    ALLOWED_SKIPS claims: an unclaimed one is a FAIL already.)"""

    def add(self, status, name, reason=""):
        reason = " ".join(str(reason).split())
        with self.lock:
            self.tests.append((status, name, reason))
        if status == "FAIL":
            print("%s %s%s" % (status, name, " : " + reason if reason else ""), flush=True)


def kernel_choice(chroot_dir=None):
    """The guest kernel for the demo when none is asked for: base (no
    debugging options, the quickest to boot) if it is built, else debug if
    that one is, else base (about 5 minutes to build)."""
    for name in ("base", "debug"):
        if _kernel_built(KERNELS[name], chroot_dir):
            return name
    return "base"


def _kernel_built(k, chroot_dir):
    """Whether qemu/kernel.sh has the kernel K in its cache: its key computed
    as kernel.sh computes it.  Should the two ever differ, the demo builds
    the base kernel instead of using one already built: slower, not wrong."""
    if os.environ.get("KSRC"):
        return False
    here = os.path.dirname(os.path.abspath(__file__))
    name = "linux-source-%s.tar.xz" % k.series
    tarballs = [os.path.join(CACHE, "debs", "linux-source-" + k.series, "usr/src", name)]
    if IN_CHROOT:
        tarballs.insert(0, os.path.join("/usr/src", name))
    elif chroot_dir:
        tarballs.insert(0, os.path.join(chroot_dir, "usr/src", name))
    tarball = next((t for t in tarballs if os.path.exists(t)), None)
    if not tarball:
        return False
    h = hashlib.sha256()
    for path in [os.path.join(here, "config", f + ".config") for f in k.fragments] + \
            [os.path.join(here, "kernel.sh")]:
        with open(path, "rb") as f:
            h.update(f.read())
    h.update(("%s %d\n" % (name, os.path.getsize(tarball))).encode())
    out = os.path.join(CACHE, "kernel", "%s-%s" % (k.name, h.hexdigest()[:16]))
    return os.path.exists(os.path.join(out, ".complete"))


def main(runner):
    """Build what is missing, boot once, show what the guest reported.
    RUNNER reports into a Quiet() (run.py makes it so for --demo)."""
    s = runner.s
    o = s.o
    t0 = time.time()
    kname = o.kernel
    if not (o.kernel_asked or o.kdir):
        kname = kernel_choice(None if IN_CHROOT else s.chroot_dir())
    topo = TOPOLOGIES[TOPOLOGY]
    note("make run: the %s hardware (%s), %s kernel, driver %s" % (
        TOPOLOGY, topo.desc, "KDIR" if o.kdir else kname, o.driver))
    k = runner.kernel(kname)
    if not k:
        return _end(runner, t0, None)
    module_dir = None
    if o.driver == "ours":
        module_dir = runner.build_module(k)
        if not module_dir:
            return _end(runner, t0, None)
    b = spec.demo_boot(k.name, o.driver, TESTS, s.opts, topology=TOPOLOGY)
    selftests = [t for t in runner.build_selftests(k) or [] if t[0] in b.tests]
    drv, _ = builds.guest_modules(k, o.driver, module_dir)
    initrd = guest.initramfs(s, "initramfs-demo", driver_mods=drv, selftests=selftests)
    note("booting %s: %s" % (b.tag, b.what))
    out = runner.report(pipeline.run_boot(s, b, k.image, initrd, stream=o.verbose))
    _show(out.results)
    return _end(runner, t0, out.elapsed)


def _end(runner, t0, boot_seconds):
    r = runner.results
    summary = r.write(runner.s.log("summary.txt"))
    print()
    if boot_seconds is not None:
        note("the guest ran %.0f s; make run took %.0f s; logs: %s" % (
            boot_seconds, time.time() - t0, show(runner.s.rundir)))
    print(summary)
    return 1 if r.count("FAIL") else 0


def _sections(path):
    """{(kind, name): [lines]} and the @@check lines of a result channel."""
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").replace("\r", "").splitlines()
    except OSError:
        return {}, []
    sections, checks, cur = {}, [], None
    for line in lines:
        if cur is not None:
            if line.startswith("@@end "):
                cur = None
            else:
                sections[cur].append(line)
        elif line.startswith("@@begin "):
            w = line.split()
            cur = (w[1], w[2] if len(w) > 2 else "")
            sections[cur] = []
        elif line.startswith("@@check "):
            checks.append(line)
    return sections, checks


def _head(title):
    print("\n== %s ==" % title)


def _show(results):
    sections, checks = _sections(results)
    _head("The SMMUs the driver probed (kernel log)")
    for line in sections.get(("info", "dmesg-smmu"), []):
        if re.search(r"smmuv3 \S+: \S+: SMMUv3", line):
            print(re.sub(r"^\[[^]]*\] ", "", line))
    _head("Their devices and IOMMU groups (/sys/class/iommu; group type, driver)")
    for line in sections.get(("info", "iommus"), []):
        print(line.rstrip())

    _head("DMA through each SMMU: 1 MiB written to each disk and read back")
    before = parse_stats(sections.get(("stats", "load"), []))
    after = parse_stats(sections.get(("stats", "blk-io"), []))
    for line in checks:
        m = re.match(r"@@check (\S+) blk-io/(\S+)(?: # (.*))?$", line)
        if m:
            print("%s %s: %s" % (m.group(2), m.group(1), m.group(3) or ""))
    for inst in sorted(after):
        grew = ["%s %d" % (k[4:] if k.startswith("cmd ") else k, v - before.get(inst, {}).get(k, 0))
                for k, v in sorted(after[inst].items())
                if (k.startswith("cmd ") or k == "cmd_syncs") and
                v > before.get(inst, {}).get(k, 0)]
        print("%s: commands queued meanwhile: %s" % (inst, ", ".join(grew) or "none"))

    for prog, test, title in SHOW:
        _head(title)
        body = sections.get(("selftest", prog))
        if body is None:
            print("(%s did not run)" % prog)
            continue
        inside, verdict = False, None
        for line in body:
            if re.match(r"#\s+RUN\s+%s\b" % re.escape(test), line):
                inside = True
            elif inside and re.match(r"(not )?ok \d+ %s\b" % re.escape(test), line):
                verdict = line
                break
            elif inside and line.startswith("# ") and not re.match(r"#\s+(OK|FAIL)\s", line):
                # Without tracefs (the base kernel) type1 cannot count map events.
                if not line.startswith("# iommu:map events not counted"):
                    print(re.sub(r"; patterns from seed \S+$", "", line[2:]))
        print(verdict or "(%s: no result)" % test)
    if any(k == ("selftest", "smmuv3_type1") for k in sections):
        print("\n(/sys/kernel/debug/smmuv3/domains lists each domain's invalidation array: "
              "one entry per SMMU its devices sit behind, type 0 a stage-1 ASID, each SMMU "
              "with an ID of its own)")
