#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Debian's DPDK (dpdk-testpmd and the igb PMD) for the guest, unpacked from
the Debian archive.  Run inside qemu/env.sh's chroot:

    qemu/dpdk.py fetch      prints the directory holding the guest's files

The arm64 packages are never installed (an arm64 gcc would replace the
cross compiler): `apt-get download` and `dpkg-deb -x` only.  What the guest
needs is the ELF closure of dpdk-testpmd and of the PMDs it loads (the PCI
bus, the igb/e1000 driver, the ring mempool): each missing shared library
is looked for among the Depends of the package holding the file that needs
it, fetched round by round, so that neither the whole of dpdk-dev's
dependencies nor python3 is downloaded.  The result is cached in
$SMMUV3_CACHE/dpdk/KEY (KEY: a hash of this script and of the candidate
versions of the root packages), as a tree to copy into the initramfs:

    usr/bin/dpdk-testpmd
    usr/lib/aarch64-linux-gnu/*.so.*         the libraries it needs
    usr/lib/aarch64-linux-gnu/dpdk/pmds-25.0/ the PMDs EAL loads by itself
    lib/ld-linux-aarch64.so.1
    MANIFEST                                 package versions and files
"""

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time

CACHE = os.environ.get("SMMUV3_CACHE", "/var/cache/smmuv3")
ARCH = "arm64"
LIBDIR = "usr/lib/aarch64-linux-gnu"
ROOTS = ["dpdk-dev", "librte-net-e1000-25", "librte-mempool-ring25", "librte-bus-pci25"]
BINARY = "usr/bin/dpdk-testpmd"
# The PMDs EAL must find in its plugin directory: the e1000/igb driver and
# the default mempool ops (ring).  EAL loads only the names there that end
# in ".so" or ".so.<ABI version>".  Not the PCI bus: dpdk-testpmd links it,
# and a second copy (another file than the one loaded) aborts EAL.
PMDS = ["librte_net_e1000.so.25.0", "librte_mempool_ring.so.25.0"]
PMD_DIR = LIBDIR + "/dpdk/pmds-25.0"
INTERP = "ld-linux-aarch64.so.1"
# Libraries whose package is not named after them.
ALIASES = {"libc.so.6": "libc6", "libm.so.6": "libc6", INTERP: "libc6",
           "libmlx5.so.1": "ibverbs-providers", "libz.so.1": "zlib1g"}
READELF = "aarch64-linux-gnu-readelf"
APT = ["apt-get", "download", "-q=2", "-oAPT::Sandbox::User=root"]


def log(msg):
    print("dpdk: " + msg, file=sys.stderr)


def candidate(pkg):
    out = subprocess.run(["apt-cache", "policy", "%s:%s" % (pkg, ARCH)], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    m = re.search(r"Candidate: (\S+)", out)
    if not m or m.group(1) == "(none)":
        raise SystemExit("dpdk: no candidate for %s:%s (apt-get update?)" % (pkg, ARCH))
    return m.group(1)


def needed(path):
    out = subprocess.run([READELF, "-d", path], check=True, stdout=subprocess.PIPE,
                         text=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def norm(name):
    """A package name or soname reduced for comparison: librte_net_mlx5.so.25
    and librte-net-mlx5-25 both give "librtenetmlx525"; libelf1t64 and
    libelf.so.1 "libelf1"."""
    name = re.sub(r"\.so(\.|$)", "", name)
    name = re.sub(r"t64$", "", name)
    return re.sub(r"[^a-z0-9]", "", name.lower())


class Tree:
    def __init__(self, work):
        self.work = work
        self.debs = os.path.join(work, "deb")
        self.root = os.path.join(work, "root")
        self.pkgs = {}      # package -> (version, [files])
        self.owner = {}     # file (relative) -> package
        os.makedirs(self.debs, exist_ok=True)
        os.makedirs(self.root, exist_ok=True)

    def fetch(self, pkgs):
        pkgs = [p for p in pkgs if p not in self.pkgs]
        if not pkgs:
            return
        log("apt-get download %s" % " ".join(pkgs))
        subprocess.run(APT + ["%s:%s" % (p, ARCH) for p in pkgs], check=True, cwd=self.debs,
                       stdout=sys.stderr)
        for p in pkgs:
            debs = [d for d in os.listdir(self.debs) if d.startswith(p + "_")]
            if len(debs) != 1:
                raise SystemExit("dpdk: %s: expected one .deb, found %s" % (p, debs))
            deb = os.path.join(self.debs, debs[0])
            files = subprocess.run(["dpkg-deb", "--fsys-tarfile", deb], check=True,
                                   stdout=subprocess.PIPE).stdout
            names = subprocess.run(["tar", "tf", "-"], input=files, check=True,
                                   stdout=subprocess.PIPE).stdout.decode().split()
            subprocess.run(["dpkg-deb", "-x", deb, self.root], check=True)
            ver = subprocess.run(["dpkg-deb", "-f", deb, "Version"], check=True,
                                 stdout=subprocess.PIPE, text=True).stdout.strip()
            deps = subprocess.run(["dpkg-deb", "-f", deb, "Depends"], check=True,
                                  stdout=subprocess.PIPE, text=True).stdout
            self.pkgs[p] = (ver, [re.split(r"[ (]", d.strip())[0].split(":")[0]
                                  for d in deps.split(",") if d.strip()])
            for n in names:
                n = os.path.normpath(n.lstrip("."))
                self.owner[n.lstrip("/")] = p

    def find_lib(self, soname):
        for d in (LIBDIR, "lib/aarch64-linux-gnu", "usr/lib", "lib"):
            p = os.path.join(self.root, d, soname)
            if os.path.lexists(p):
                return os.path.join(d, soname)
        return None

    def owner_of(self, rel):
        real = os.path.relpath(os.path.realpath(os.path.join(self.root, rel)), self.root)
        return self.owner.get(rel) or self.owner.get(real)

    def closure(self):
        """Fetch until every NEEDED library of the binary and the PMDs is
        there.  Returns {relative path: soname or name}."""
        # Debian's merged /usr: libc6 ships usr/lib/ld-linux-aarch64.so.1.
        for _ in range(10):
            todo = [BINARY] + [os.path.join(PMD_DIR, p) for p in PMDS]
            seen, missing = {}, {}
            while todo:
                rel = todo.pop()
                if rel in seen:
                    continue
                path = os.path.join(self.root, rel)
                if not os.path.lexists(path):
                    raise SystemExit("dpdk: %s is not in the packages" % rel)
                seen[rel] = True
                for so in needed(os.path.realpath(path)):
                    lib = self.find_lib(so)
                    if lib:
                        todo.append(lib)
                    else:
                        missing.setdefault(so, set()).add(self.owner_of(rel))
            if INTERP not in [os.path.basename(s) for s in seen]:
                missing.setdefault(INTERP, set()).add(self.owner_of(BINARY))
            if not missing:
                return sorted(seen)
            # The Depends named after the soname first; only when none is,
            # every Depends of the packages that need what is missing.
            want, rest = set(), set()
            for so, owners in missing.items():
                cands = {d for o in owners if o for d in self.pkgs[o][1]}
                hit = {c for c in cands if norm(c) == norm(so)}
                if so in ALIASES:
                    hit = {ALIASES[so]}
                want |= hit - set(self.pkgs)
                if not hit:
                    rest |= {c for c in cands if not c.endswith("-dev") and c != "python3"}
            want = want or rest - set(self.pkgs)
            if not want:
                raise SystemExit("dpdk: cannot find %s" % ", ".join(sorted(missing)))
            self.fetch(sorted(want))
        raise SystemExit("dpdk: no closure after 10 rounds")


def fetch():
    versions = ["%s=%s" % (p, candidate(p)) for p in ROOTS]
    with open(os.path.abspath(__file__), "rb") as f:
        me = f.read()
    key = hashlib.sha256(me + "\n".join(versions).encode()).hexdigest()[:16]
    out = os.path.join(CACHE, "dpdk", key)
    if os.path.exists(os.path.join(out, "MANIFEST")):
        return out
    work = out + ".work"
    shutil.rmtree(work, ignore_errors=True)
    t = Tree(work)
    t.fetch(ROOTS)
    files = t.closure()
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    manifest = []
    for rel in files:
        src = os.path.realpath(os.path.join(t.root, rel))
        dst = rel
        if os.path.basename(rel) == INTERP:
            dst = "lib/" + INTERP
        elif rel != BINARY and not rel.startswith(PMD_DIR):
            dst = os.path.join(LIBDIR, os.path.basename(rel))
        os.makedirs(os.path.dirname(os.path.join(tmp, dst)), exist_ok=True)
        shutil.copyfile(src, os.path.join(tmp, dst))
        os.chmod(os.path.join(tmp, dst), 0o755)
        manifest.append("%s %d %s" % (dst, os.path.getsize(src), t.owner_of(rel)))
    with open(os.path.join(tmp, "MANIFEST"), "w") as f:
        for p, (v, _) in sorted(t.pkgs.items()):
            f.write("package %s %s\n" % (p, v))
        f.write("".join("file %s\n" % m for m in manifest))
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
    shutil.rmtree(work, ignore_errors=True)
    log("%d files, %.1f MB, from %d packages: %s" % (
        len(manifest), sum(int(m.split()[1]) for m in manifest) / 1e6, len(t.pkgs), out))
    return out


def guest_files(s):
    """qemu/pipeline.py's payload "dpdk" for the session S: [(guest path,
    local path)] of the programs, fetched in the chroot (or found in the
    cache)."""
    from hostenv import HERE, chroot_path, in_chroot, local_path
    t = time.time()
    out = subprocess.run(in_chroot(["python3", chroot_path(os.path.join(HERE, "dpdk.py")),
                                    "fetch"]), check=True, stdout=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, text=True).stdout
    top = local_path(out.strip().splitlines()[-1])
    files = []
    for d, _, names in os.walk(top):
        for n in names:
            if n != "MANIFEST":
                p = os.path.join(d, n)
                files.append(("/" + os.path.relpath(p, top), p))
    if time.time() - t > 5:
        log("fetched in %.0f s" % (time.time() - t))
    return sorted(files)


def main(argv):
    if argv[:1] != ["fetch"]:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    print(fetch())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
