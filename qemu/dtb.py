# SPDX-License-Identifier: GPL-2.0-only
"""Device trees QEMU does not build: its own DTB for a topology's hardware,
with properties added to the SMMUv3 nodes, given to the guest with -dtb.

QEMU's virt machine describes its arm-smmuv3 with compatible "arm,smmu-v3",
a 128 KiB reg (register pages 0 and 1), its interrupts and dma-coherent,
and nothing implementation-specific.  For a topology with `dtb=` edits
(qemu/topologies.py), qemu/pipeline.py's prepare() calls prepare() with
the QEMU command line of the boot; it returns the arguments the boot gets
and the TAG/dtb result, as values:

1. QEMU's own DTB for that command line: the same QEMU run with
   `-M <machine>,dumpdtb=FILE`, which writes the tree it would give the
   guest and exits.  Cached in $SMMUV3_CACHE/dtb/<hash of the command line
   without its per-boot paths and of the QEMU binary>/qemu.dtb, so it runs
   once per hardware.  (When QEMU loads a -dtb, it still sets /chosen's
   bootargs and initrd and the memory nodes itself: the dump's values of
   those do not matter.)
2. dtc decompiles it (qemu.dts, next to it); every node whose compatible
   list has "arm,smmu-v3" gets the edit's properties; dtc compiles the
   result (edited-<hash of the edit>.dtb).
3. The boot gets -dtb with that file (in its Boot's qemu_extra).

After the boot, check() (called by qemu/results.py) reads the guest's report (qemu/init.sh's info
sections) for what proves the edit took effect: the properties in the
guest's /sys/firmware/devicetree, and what each known property makes the
driver do (PROP_CHECKS); it returns those results as a list.

Property and register layout facts are from the device-tree binding
(Documentation/devicetree/bindings/iommu/arm,smmu-v3.yaml) and the SMMUv3
architecture (IHI 0070: register page 1 at offset 0x10000, 64 KiB pages),
written here as literals.
"""

import hashlib
import os
import re
import subprocess

from hostenv import CACHE, in_chroot

SMMU_COMPATIBLE = "arm,smmu-v3"
# IHI 0070 6.1: the SMMU's registers are two 64 KiB pages, page 1 at 0x10000.
PAGE_SIZE = 0x10000
PAGE1_OFFSET = 0x10000
# What QEMU may take to write its DTB and exit.
DUMP_TIMEOUT = 120


class Edit:
    """What a topology's device tree gets (qemu/topologies.py: Topology.dtb)."""

    def __init__(self, smmu_props):
        self.smmu_props = list(smmu_props)  # boolean properties of every SMMUv3 node

    def key(self):
        return hashlib.sha256("\0".join(self.smmu_props).encode()).hexdigest()[:12]


# -- the DTB --------------------------------------------------------------------

# Arguments whose values are per boot (log and disk files, the guest kernel,
# its initrd and command line): left out of the cache key.
_PER_BOOT_OPTS = ("-kernel", "-initrd", "-append")
_PER_BOOT_PATH = re.compile(r"((?:^|,)(?:file[:=]|path=))[^,]*")


def _machine_index(argv):
    try:
        return argv.index("-M") + 1
    except ValueError:
        raise ValueError("no -M in the QEMU command line") from None


def cache_key(argv):
    """The hardware's identity: the QEMU command line without its per-boot
    values, and the QEMU binary (path, size, mtime)."""
    h = hashlib.sha256()
    skip = False
    for a in argv:
        if skip:
            a, skip = "PER-BOOT", False
        elif a in _PER_BOOT_OPTS:
            skip = True
        h.update(_PER_BOOT_PATH.sub(r"\1PER-BOOT", a).encode() + b"\0")
    qemu = argv[0] if os.path.isabs(argv[0]) else _which(argv[0])
    st = os.stat(qemu) if qemu and os.path.exists(qemu) else None
    h.update(("%s %s %s" % (qemu, st and st.st_size, st and int(st.st_mtime))).encode())
    return h.hexdigest()[:16]


def _which(name):
    for d in os.environ.get("PATH", "/usr/bin:/bin").split(":"):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    return None


def _run(cmd, host, what):
    """Run CMD (in the chroot unless HOST); RuntimeError with its output if it fails."""
    try:
        p = subprocess.run(cmd if host else in_chroot(cmd), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                           timeout=DUMP_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise RuntimeError("%s: no exit within %d s" % (what, DUMP_TIMEOUT)) from None
    if p.returncode:
        raise RuntimeError("%s: exit status %d: %s" % (
            what, p.returncode, p.stdout.decode("utf-8", "replace").strip()[-500:]))


def _write(path, data):
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)


def qemu_dtb(s, argv):
    """QEMU's own DTB for ARGV's hardware (dumped once, then cached): its path."""
    cache = os.path.join(CACHE, "dtb", cache_key(argv))
    path = os.path.join(cache, "qemu.dtb")
    if os.path.exists(path):
        return path
    os.makedirs(cache, exist_ok=True)
    tmp = path + ".%d.dump" % os.getpid()
    dump = list(argv)
    i = _machine_index(dump)
    dump[i] += ",dumpdtb=" + tmp
    _run(dump, s.host_qemu, "QEMU's dumpdtb")
    if not os.path.exists(tmp):
        raise RuntimeError("QEMU's dumpdtb wrote no %s" % tmp)
    os.replace(tmp, path)
    return path


def edit_dts(dts, props):
    """DTS (dtc's decompiled text) with PROPS added to every node whose
    compatible list has SMMU_COMPATIBLE, after that property (a node's
    properties come before its subnodes); (text, number of nodes edited)."""
    out = []
    edited = 0
    for line in dts.splitlines():
        out.append(line)
        m = re.match(r"^(\s*)compatible\s*=\s*(.*);\s*$", line)
        if m and '"%s"' % SMMU_COMPATIBLE in re.findall(r'"[^"]*"', m.group(2)):
            out += ["%s%s;" % (m.group(1), p) for p in props]
            edited += 1
    return "\n".join(out) + "\n", edited


def prepare(s, tag, topo, argv):
    """More QEMU arguments for the boot TAG of TOPO, whose command line is
    ARGV: -dtb with QEMU's DTB edited as TOPO's `dtb` says.  Returns (args,
    results): nothing for topologies without one; no args when the DTB
    cannot be made (a FAIL result says why; the boot's checks then fail too)."""
    edit = getattr(topo, "dtb", None)
    if not edit:
        return [], []
    try:
        path = edited_dtb(s, argv, edit)
    except (ValueError, RuntimeError, OSError) as e:
        return [], [("FAIL", tag + "/dtb", str(e))]
    return ["-dtb", path], [("PASS", tag + "/dtb", "%s: %s on the %s nodes" % (
        path, ", ".join(edit.smmu_props), SMMU_COMPATIBLE))]


def edited_dtb(s, argv, edit):
    """QEMU's DTB for ARGV's hardware with EDIT (made once, then cached): its path."""
    base = qemu_dtb(s, argv)
    out = os.path.join(os.path.dirname(base), "edited-%s.dtb" % edit.key())
    if os.path.exists(out):
        return out
    dts = base[:-len(".dtb")] + ".dts"
    if not os.path.exists(dts):
        _run(["dtc", "-q", "-I", "dtb", "-O", "dts", "-o", dts + ".tmp", base], False,
             "dtc (decompiling %s)" % base)
        os.replace(dts + ".tmp", dts)
    with open(dts) as f:
        text, n = edit_dts(f.read(), edit.smmu_props)
    if not n:
        raise ValueError("%s: no node with compatible \"%s\"" % (dts, SMMU_COMPATIBLE))
    src = out[:-len(".dtb")] + ".dts"
    _write(src, text.encode())
    _run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", out + ".tmp", src], False,
         "dtc (compiling %s)" % src)
    os.replace(out + ".tmp", out)
    return out


# -- what the boot shows ------------------------------------------------------------

def info_sections(results):
    """{name: [lines]} of the info sections in a boot's result channel."""
    out, cur = {}, None
    try:
        with open(results, "rb") as f:
            lines = f.read().decode("utf-8", "replace").replace("\r", "").splitlines()
    except OSError:
        return out
    for line in lines:
        m = re.match(r"@@begin info (\S+)", line)
        if m:
            cur = out.setdefault(m.group(1), [])
        elif line.startswith("@@end "):
            cur = None
        elif cur is not None:
            cur.append(line)
    return out


def _smmu_nodes(info):
    """{node path: {property names}} from init.sh's firmware-smmu section."""
    nodes, cur = {}, None
    for line in info.get("firmware-smmu", []):
        if re.match(r"^/\S*:$", line):
            cur = nodes.setdefault(line[:-1], set())
        elif cur is not None:
            m = re.match(r"^\s+(\S+) =", line)
            if m:
                cur.add(m.group(1))
    return nodes


def _iomem_smmu(info):
    """[(start, end, name)] of the /proc/iomem regions the SMMU driver claimed."""
    out = []
    for line in info.get("iomem", []):
        m = re.match(r"^\s*([0-9a-f]+)-([0-9a-f]+) : (\S*smmuv3\S*)$", line)
        if m:
            out.append((int(m.group(1), 16), int(m.group(2), 16), m.group(3)))
    return out


def _page0_logged(info, prop):
    """The driver named the property at probe: smmuv3.ko's errata table logs
    "<dev>: PROP: <what it does>" once, arm-smmu-v3 "<dev>: option PROP"."""
    line = re.compile(r"smmu\S* \S+: (?:option )?%s(?::|$)" % re.escape(prop))
    hits = [x for x in info.get("dmesg-smmu", []) if line.search(x)]
    if not hits:
        return False, "no \"<smmu device>: %s\" line in the kernel log" % prop
    return True, hits[0].split("] ", 1)[-1]


def _page0_one_page(info, prop):
    """Register page 1 is not mapped: every region the driver claimed lies
    inside one 64 KiB page (smmuv3.ko claims all of page 0, arm-smmu-v3 its
    registers' 0xe00 bytes), and none starts in the page after another's."""
    regions = _iomem_smmu(info)
    if not regions:
        return False, "no SMMU region in /proc/iomem"
    pages = {s // PAGE_SIZE for s, _, _ in regions}
    wide = [(s, e) for s, e, _ in regions if s // PAGE_SIZE != e // PAGE_SIZE]
    page1 = [(s, e) for s, e, _ in regions
             if (s - PAGE1_OFFSET) // PAGE_SIZE in pages and s % PAGE_SIZE == 0]
    claimed = ", ".join("%#x-%#x" % (s, e) for s, e, _ in regions)
    if wide or page1:
        return False, "the driver claimed %s (expected page 0 of each instance only, no " \
            "page 1)" % claimed
    return True, "the driver claimed %s only (no page 1)" % claimed


# What each known property makes the driver do, as the boot shows it.
PROP_CHECKS = {
    "cavium,cn9900-broken-page1-regspace": [("option-logged", _page0_logged),
                                            ("page1-unmapped", _page0_one_page)],
}


def check(tag, topo, results):
    """The results of what the guest reported of TOPO's device tree edits
    (RESULTS: the boot's result channel): [(status, name, reason)]."""
    edit = getattr(topo, "dtb", None)
    if not edit:
        return []
    info = info_sections(results)
    out = []
    nodes = _smmu_nodes(info)
    for p in edit.smmu_props:
        missing = [n for n, props in nodes.items() if p not in props]
        name = "%s/dtb/%s" % (tag, p)
        if not nodes:
            out.append(("FAIL", name, "the guest reported no SMMUv3 device-tree node"))
        elif missing:
            out.append(("FAIL", name, "not in the guest's %s" % ", ".join(missing)))
        else:
            out.append(("PASS", name, "in the guest's %s" % ", ".join(sorted(nodes))))
        for cname, fn in PROP_CHECKS.get(p, []):
            ok, why = fn(info, p)
            out.append(("PASS" if ok else "FAIL", "%s/dtb/%s" % (tag, cname), why))
    return out
