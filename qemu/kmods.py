# SPDX-License-Identifier: GPL-2.0-only
"""Kernel modules for the guest: dependencies from .modinfo and modules.dep,
so that /init can insmod them in order."""

import gzip
import lzma
import os
import re
import subprocess



def read_module(path):
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".xz"):
        data = lzma.decompress(data)
    elif path.endswith(".gz"):
        data = gzip.decompress(data)
    elif path.endswith(".zst"):
        data = subprocess.run(["zstd", "-qdc", path], check=True, stdout=subprocess.PIPE).stdout
    return data


def modinfo(data, key):
    m = re.search(rb"(?:^|\0)" + key.encode() + rb"=([^\0]*)\0", data)
    return m.group(1).decode() if m else None


def module_index(moddir):
    """Module name -> file, for every *.ko[.xz|.gz|.zst] under MODDIR."""
    index = {}
    for root, _, files in os.walk(moddir):
        for fn in files:
            m = re.match(r"(.+)\.ko(\.xz|\.gz|\.zst)?$", fn)
            if m:
                index.setdefault(m.group(1).replace("-", "_"), os.path.join(root, fn))
    return index


def resolve_modules(names, index, builtin=()):
    """[(name, bytes)] for NAMES and their dependencies, dependencies first."""
    out, seen = [], set()

    def visit(name):
        name = name.replace("-", "_")
        if name in seen:
            return
        seen.add(name)
        if name not in index:
            if name in builtin:
                return
            raise RuntimeError("module %s not found" % name)
        data = read_module(index[name])
        for dep in filter(None, (modinfo(data, "depends") or "").split(",")):
            visit(dep)
        out.append((name, data))

    for n in names:
        visit(n)
    return out


def builtin_modules(moddir):
    names = set()
    try:
        with open(os.path.join(moddir, "modules.builtin")) as f:
            for line in f:
                names.add(os.path.basename(line.strip()).split(".ko")[0].replace("-", "_"))
    except OSError:
        pass
    return names
