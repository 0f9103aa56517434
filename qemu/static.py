# SPDX-License-Identifier: GPL-2.0-only
"""The static checks of make check: checkpatch --strict, sparse (C=1) with
W=1, the spec oracle (qemu/oracle.py), and the package's: smmuv3-ctl and the
initramfs hook against a fake system (tools/test_smmuv3_ctl.py), lintian
and ShellCheck (qemu/deb.sh lint).  Each check is a function of the session
(qemu/session.py) returning its results, [(status, name, reason)]."""

import contextlib
import glob
import os
import re
import shutil
import subprocess
import sys

from hostenv import (HERE, REPO, CACHE, chroot_path, local_path, show, in_chroot, run_logged, tail,
                     flock)
import builds
from results import keyvals


def checkpatch_pl(s):
    """scripts/checkpatch.pl from a kernel source tree, as a build-env path."""
    if s.o.kdir:
        for sub in ("source", "."):
            p = os.path.join(s.o.kdir, sub, "scripts/checkpatch.pl")
            if os.path.exists(p):
                return p
        raise SystemExit("run.py: no scripts/checkpatch.pl under KDIR")
    # A source tree kernel.sh extracted, else just the three files checkpatch
    # needs, from the linux-source tarball (seconds instead of minutes).
    trees = sorted(glob.glob(os.path.join(CACHE, "src", "linux-source-7.*", ".complete")))
    if trees:
        return os.path.join(os.path.dirname(trees[-1]), "scripts/checkpatch.pl")
    dest = os.path.join(CACHE, "checkpatch")
    p = os.path.join(dest, "scripts/checkpatch.pl")
    if not os.path.exists(p):
        os.makedirs(dest, exist_ok=True)
        script = ("t=$(ls /usr/src/linux-source-7.*.tar.xz | sort -V | tail -n1) && "
                  "tar -C %s --strip-components=1 -xJf \"$t\" --wildcards "
                  "'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' "
                  "'*/scripts/const_structs.checkpatch'" % chroot_path(dest))
        subprocess.run(in_chroot(["sh", "-c", script]), check=True, stdin=subprocess.DEVNULL)
    return p


def checkpatch(s, echo=False):
    name = "static/checkpatch"
    files = sorted(glob.glob(os.path.join(REPO, "module", "*.c")) +
                   glob.glob(os.path.join(REPO, "module", "tests", "*.c")) +
                   glob.glob(os.path.join(REPO, "include", "smmuv3", "*.h")))
    if not files:
        return [("SKIP", name, "no sources")]
    log = s.log("static-checkpatch.log")
    cmd = ["perl", checkpatch_pl(s), "--strict", "--no-tree", "--terse", "--showfile",
           "--no-summary", "-f"] + [os.path.relpath(f, REPO) for f in files]
    # From the repo root, as in a kernel tree: checkpatch then takes the
    # CamelCase identifiers that include/ defines as known.  It caches them
    # in .checkpatch-camelcase.* there; remove what this run left.
    before = set(glob.glob(os.path.join(REPO, ".checkpatch-camelcase.*")))
    try:
        rc = run_logged(s.build_cmd(cmd, cwd=REPO), log, echo=echo)
    finally:
        for f in set(glob.glob(os.path.join(REPO, ".checkpatch-camelcase.*"))) - before:
            with contextlib.suppress(OSError):
                os.unlink(f)
    issues = [l.replace(REPO + "/", "") for l in tail(log, 100000).splitlines()[1:]
              if re.search(r": (ERROR|WARNING|CHECK):", l)]
    if rc == 0 and not issues:
        return [("PASS", name)]
    return [("FAIL", name, "%d issue(s), see %s; first: %s" % (
        len(issues), show(log), issues[0] if issues else tail(log, 2)))]


def sparse_check_cmd(s, out, log):
    """CHECK= for kbuild.  Debian 13's sparse (0.6.4) predates __typeof_unqual__,
    which the kernel's headers use under sparse; kbuild would then silently
    skip sparse (scripts/checker-valid.sh).  In the chroot, qemu/sparse.sh
    provides a newer one; failing that (or on the host, with an old sparse),
    sparse gets __typeof_unqual__ mapped to __typeof__."""
    if not s.host_build:
        with open(log, "ab") as f:
            p = subprocess.run(in_chroot([chroot_path(os.path.join(HERE, "sparse.sh"))]),
                               stdout=subprocess.PIPE, stderr=f, stdin=subprocess.DEVNULL)
        path = p.stdout.decode().strip().splitlines()[-1:] if p.returncode == 0 else []
        if path:
            with open(log, "a") as f:
                f.write("# CHECK=%s (from qemu/sparse.sh)\n" % path[0])
            return path[0]
    probe = os.path.join(out, "typeof_unqual.c")
    with open(probe, "w") as f:
        f.write("static inline int u(const int *q)\n{\n\t__typeof_unqual__(*q) v = *q;\n"
                "\treturn v;\n}\n")
    p = subprocess.run(s.build_cmd(["sparse", probe]), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    os.unlink(probe)
    text = p.stdout.decode("utf-8", "replace")
    if p.returncode == 127 or "not found" in text or "No such file" in text:
        return None
    check = "sparse -D__typeof_unqual__=__typeof__" if "error" in text else "sparse"
    with open(log, "a") as f:
        f.write("# sparse %s __typeof_unqual__: CHECK=%s\n" % (
            "lacks" if " -D" in check else "has", check))
    return check


def sparse(s, k, echo=False):
    """static/sparse: the module built with C=1 W=1 against the guest kernel
    K (a GuestKernel, None if it did not build)."""
    name = "static/sparse"
    if not k:
        return [("SKIP", name, "no kernel")]
    out = builds.outdir(k, "sparse")
    log = s.log("static-sparse.log")
    with flock(os.path.join(os.path.dirname(out), ".sparse.lock")):
        # From scratch, so that C=1 checks every file.
        for x in os.listdir(out):
            shutil.rmtree(os.path.join(out, x), ignore_errors=True)
            with contextlib.suppress(FileNotFoundError, IsADirectoryError):
                os.unlink(os.path.join(out, x))
        check = sparse_check_cmd(s, out, log)
        if not check:
            return [("FAIL", name, "no sparse in the build environment")]
        rc = builds.kmake(s, k, out, ["C=1", "W=1", "CHECK=" + check, "-j%d" % os.cpu_count(),
                                      "modules"], log, echo=echo)
    text = tail(log, 100000).splitlines()
    if any("is not available or not up to date" in l for l in text):
        return [("FAIL", name, "kbuild refused sparse (not up to date), see " + show(log))]
    warns = [l.replace(REPO + "/", "") for l in text
             if re.search(r"(?i)\b(warning|error):", l) and not _sparse_known_noise(l)]
    if rc == 0 and not warns:
        return [("PASS", name)]
    return [("FAIL", name, "%s%d warning/error line(s), see %s; first: %s" % (
        "build failed; " if rc else "", len(warns), show(log),
        warns[0] if warns else tail(log, 2)))]


def oracle_headers(s, log):
    """(kernel arm-smmu-v3.h, QEMU smmuv3-internal.h) as local paths, or a
    string saying why not: qemu/refs.sh finds or fetches them in the
    chroot; with --kdir, the kernel's comes from that tree."""
    import oracle
    kernel_h = None
    if s.o.kdir:
        # A tree kernel.sh built links into the chroot's /cache.
        kernel_h = oracle.find_kernel_header(os.path.abspath(s.o.kdir),
                                             lambda p: local_path(os.readlink(p)))
    if s.o.kdir and not kernel_h:
        return "no %s under KDIR" % oracle.KERNEL_FILE
    cmd = [chroot_path(os.path.join(HERE, "refs.sh")), "qemu" if kernel_h else "all"]
    with open(log, "ab") as f:
        p = subprocess.run(in_chroot(cmd), stdout=subprocess.PIPE, stderr=f,
                           stdin=subprocess.DEVNULL)
        f.write(p.stdout)
    kv = keyvals(p.stdout.decode())
    if p.returncode != 0 or "QEMU_H" not in kv or not (kernel_h or "KERNEL_H" in kv):
        return "qemu/refs.sh failed, see %s: %s" % (show(log), tail(log, 2))
    return kernel_h or local_path(kv["KERNEL_H"]), local_path(kv["QEMU_H"])


def oracle(s, echo=False):
    """static/oracle/<group>: include/smmuv3/regs.h against the kernel's and
    QEMU's definitions of the same layouts (qemu/oracle.py)."""
    import oracle
    log = s.log("static-oracle.log")
    heads = oracle_headers(s, log)
    if isinstance(heads, str):
        return [("FAIL", "static/oracle", heads)]
    report = oracle.check(oracle.REGS_H, *heads)
    text = "# kernel: %s\n# QEMU:   %s%s\n" % (show(heads[0]), show(heads[1]),
                                              oracle.qemu_source(heads[1]))
    text += "".join(report.format_line(l) + "\n" for l in report.lines)
    text += "".join("# %s\n" % report.summary(g) for g in oracle.GROUPS)
    with open(log, "a") as f:
        f.write(text)
    if echo:
        sys.stdout.write(text)
    res = []
    for g in oracle.GROUPS:
        bad = report.failures(g)
        if bad:
            res.append(("FAIL", "static/oracle/" + g, "%d: %s (see %s)" % (
                len(bad), "; ".join("%s %s" % (l[2], l[3]) for l in bad), show(log))))
        else:
            res.append(("PASS", "static/oracle/" + g))
    return res


def package_checks(s, echo=False):
    """static/smmuv3-ctl: tools/test_smmuv3_ctl.py, the admin tool and the
    initramfs hook against a fake /etc, /boot, /sys and fake dkms,
    mokutil, update-grub...; static/lintian: lintian (warnings fail) on
    the source and binary package, and ShellCheck on its shell scripts
    (qemu/deb.sh lint, which installs both tools into the chroot once).
    Both run in the chroot, as the package's users run Debian 13."""
    log = s.log("static-package.log")
    test = chroot_path(os.path.join(REPO, "tools", "test_smmuv3_ctl.py"))
    rc = run_logged(in_chroot(["python3", test, "-v"]), log, echo=echo)
    text = tail(log, 100000)
    fails = re.findall(r"^(?:FAIL|ERROR): (\S+)", text, re.M)
    ran = re.findall(r"^Ran (\d+) tests?", text, re.M)
    if rc == 0 and ran:
        res = [("PASS", "static/smmuv3-ctl", "%s fake-system tests" % ran[-1])]
    else:
        res = [("FAIL", "static/smmuv3-ctl", "%s, see %s" % (
            ", ".join(fails) or tail(log, 2), show(log)))]
    with open(log, "ab") as f:
        f.write(b"$ qemu/deb.sh lint\n")
        f.flush()
        p = subprocess.run(in_chroot([chroot_path(os.path.join(HERE, "deb.sh")), "lint"]),
                           stdout=subprocess.PIPE, stderr=f, stdin=subprocess.DEVNULL)
        f.write(p.stdout)
    out = p.stdout.decode("utf-8", "replace")
    if echo:
        sys.stdout.write(out)
    tags = [l[8:] for l in out.splitlines() if l.startswith("LINTIAN=")]
    shell = [l[11:] for l in out.splitlines() if l.startswith("SHELLCHECK=")]
    bad = [t for t in tags if re.match(r"[EW]: ", t)] + shell
    other = [t for t in tags if re.match(r"[IPX]: ", t)]
    if p.returncode == 0 and not bad:
        return res + [("PASS", "static/lintian", "lintian and ShellCheck clean%s" % (
            "; %d info/pedantic tag(s): %s" % (len(other), "; ".join(other[:6]))
            if other else ""))]
    return res + [("FAIL", "static/lintian", "%d finding(s), see %s; first: %s" % (
        len(bad), show(log), bad[0] if bad else tail(log, 2)))]


def _sparse_known_noise(line):
    """sparse 0.6.4 cannot evaluate the static_assert() with __builtin_strlen() that
    MODULE_INFO() and friends expand to: "bad constant expression" on those lines."""
    m = re.match(r"(\S+?):(\d+):\d+: error: bad constant expression$", line.strip())
    if not m:
        return False
    try:
        with open(local_path(m.group(1)), errors="replace") as f:
            src = f.read().splitlines()[int(m.group(2)) - 1]
    except (OSError, IndexError):
        return False
    return bool(re.match(r"\s*(MODULE_[A-Z_]+|module_[a-z_]+|kunit_test_suites?|"
                         r"EXPORT_SYMBOL\w*)\s*\(", src))
