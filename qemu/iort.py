#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Firmware tables QEMU does not build: an IORT with an RMR node and the
CANWBS memory-access flag, given to the guest kernel as an ACPI table
upgrade (CONFIG_ACPI_TABLE_UPGRADE).

QEMU's virt machine builds an IORT (revision 5, DEN0049E.d) without RMR
nodes and with root-complex memory-access flags CPM | DACS only.  For a
topology with `iort=` edits (qemu/topologies.py), qemu/pipeline.py's
prepare() calls prepare() before the boot; it returns the initramfs
to boot and the TAG/acpi-tables result, as values:

1. QEMU's own tables for that hardware: one short boot whose /init
   (smtest.mode=acpidump, qemu/init.sh) writes /sys/firmware/acpi/tables/
   IORT and DSDT in hex to the result channel and powers off.  Cached in
   $SMMUV3_CACHE/acpi/<hash of the QEMU command line, firmware and QEMU
   binary>/, so it runs once per hardware.
2. The IORT gets (a) RMR nodes (type 6, revision 3), each with one memory
   range descriptor and one ID mapping to the stream ID that the root
   complex's ID mappings give the requester ID of the chosen device, and (b) CANWBS
   in the memory-access flags of every root-complex node; lengths, node
   count, OEM revision (the kernel only takes a table whose OEM revision is
   higher) and checksum are fixed.
3. The kernel reports RMR ranges for a PCI device only if its host bridge
   asks it to keep the firmware's PCI configuration (iort_rmr_has_dev():
   the stream IDs named by firmware must stay valid; PCI Firmware
   Specification _DSM function 5 returning 0).  QEMU's host bridge _DSMs
   (PCI0, and PCxx of each pxb-pcie) return Buffer {0} for every function
   but 0, so the DSDT is edited in place: that default return becomes
   Integer 0 (same length, no other AML moves).  Linux's other host-bridge _DSM users query function 0 or
   expect a package and ignore an integer.
4. Both tables go into an uncompressed cpio (kernel/firmware/acpi/*.aml)
   placed in front of the usual gzip'd initramfs.

Every offset below is written from the specifications, not from any
driver code: the ACPI system description table header (ACPI 6.5 5.2.6),
the IORT (Arm DEN0049E.f: table header, node header, ID mapping, root
complex node, RMR node, memory range descriptor; the same layout as
Linux's include/acpi/actbl2.h), and AML encodings (ACPI 6.5 20.2).

Also a command, to look at a table: qemu/iort.py IORT.bin [--edit BDF]
"""

import dataclasses
import hashlib
import os
import struct
import sys

# ACPI 6.5 5.2.6: system description table header (36 bytes).
HDR_LENGTH = 4          # u32
HDR_REVISION = 8        # u8
HDR_CHECKSUM = 9        # u8: all bytes of the table sum to 0
HDR_OEM_ID = 10         # 6 bytes
HDR_OEM_TABLE_ID = 16   # 8 bytes
HDR_OEM_REVISION = 24   # u32
HDR_SIZE = 36

# DEN0049E.f 3.2: IORT header after the ACPI header.
IORT_NODE_COUNT = 36    # u32
IORT_NODE_OFFSET = 40   # u32
IORT_MIN_REVISION_RMR = 5   # RMR nodes exist from revision 5 (E.d) on

# DEN0049E.f 3.1.1: node header.
NODE_TYPE = 0           # u8
NODE_LENGTH = 1         # u16
NODE_REVISION = 3       # u8
NODE_IDENTIFIER = 4     # u32
NODE_MAP_COUNT = 8      # u32
NODE_MAP_OFFSET = 12    # u32
NODE_HDR_SIZE = 16
TYPE_ITS, TYPE_NC, TYPE_RC, TYPE_SMMUV2, TYPE_SMMUV3, TYPE_PMCG, TYPE_RMR = range(7)
TYPE_NAMES = {TYPE_ITS: "ITS group", TYPE_NC: "named component", TYPE_RC: "root complex",
              TYPE_SMMUV2: "SMMUv1/v2", TYPE_SMMUV3: "SMMUv3", TYPE_PMCG: "PMCG",
              TYPE_RMR: "RMR"}

# DEN0049E.f 3.1.1.3: ID mapping (20 bytes).
MAP_FMT = "<IIIII"      # input base, number of IDs - 1, output base, output reference, flags
MAP_SIZE = 20
MAP_SINGLE = 1 << 0

# DEN0049E.f 3.1.1.5: root complex node data.  Memory access properties
# (8 bytes at node offset 16): cache coherency attribute u32, allocation
# hints u8, reserved u16, memory access flags u8 (node offset 23).
RC_MEM_FLAGS = 23
MAF_CPM = 1 << 0        # coherent path to memory
MAF_DACS = 1 << 1       # device attributes are cacheable and inner shareable
MAF_CANWBS = 1 << 2     # coherent, allocate, normal write-back shareable
RC_ATS = 24             # u32
RC_SEGMENT = 28         # u32

# DEN0049E.f 3.1.1.7: RMR node (revision 3): flags u32, number of memory
# range descriptors u32, offset of the descriptor array u32; then the ID
# mappings and the descriptors (base u64, length u64, reserved u32).
RMR_REVISION = 3
RMR_FLAGS = 16
RMR_DATA_FMT = "<III"
RMR_DESC_FMT = "<QQI"
RMR_DESC_SIZE = 20
RMR_REMAP_PERMITTED = 1 << 0
RMR_ACCESS_PRIVILEGED = 1 << 1
RMR_ATTR_SHIFT = 2      # access attributes, bits 9:2
RMR_ATTR_NORMAL_WB = 0x05   # Normal, inner and outer write-back cacheable

# AML (ACPI 6.5 20.2): DeviceOp, MethodOp, ReturnOp, BufferOp, ByteConst,
# DWordConst, LEqualOp, Arg2Op.
AML_DEVICE = b"\x5b\x82"
AML_METHOD = 0x14
# Return (Buffer (One) {0x00}), its size as ByteConst 1 (older QEMU) or as
# OneOp (QEMU 11), and a Return of Integer 0 of the same length: a
# DWordConst, or a WordConst and a NoopOp.
AML_RETURN_BUF0 = [
    (bytes([0xa4, 0x11, 0x03, 0x0a, 0x01, 0x00]), bytes([0xa4, 0x0c, 0x00, 0x00, 0x00, 0x00])),
    (bytes([0xa4, 0x11, 0x03, 0x01, 0x00]), bytes([0xa4, 0x0b, 0x00, 0x00, 0xa3])),
]
# If (Arg2 == 5): LEqual Arg2 ByteConst 5, as QEMU would write it.
AML_ARG2_IS_5 = bytes([0x93, 0x6a, 0x0a, 0x05])


class Rmr:
    """One RMR node: one memory range for the stream of one PCI device."""

    def __init__(self, rid, base, length=0x10000, remap=False):
        self.rid = rid          # requester ID (bus << 8 | devfn) on segment 0
        self.base = base        # 64 KiB aligned (DEN0049: the OS may need it)
        self.length = length
        self.remap = remap      # Remapping Permitted: direct-relaxable

    def bdf(self):
        return "0000:%02x:%02x.%x" % (self.rid >> 8, (self.rid >> 3) & 0x1f, self.rid & 7)

    def flags(self):
        return (RMR_ATTR_NORMAL_WB << RMR_ATTR_SHIFT) | (RMR_REMAP_PERMITTED if self.remap else 0)


class Edit:
    """What a topology's IORT gets (qemu/topologies.py: Topology.iort)."""

    def __init__(self, rmrs=(), canwbs=False):
        self.rmrs = list(rmrs)
        self.canwbs = canwbs

    def guest_cmdline(self):
        """What /init passes to the selftests (SMMUV3_RMR, SMMUV3_CANWBS)."""
        out = []
        if self.rmrs:
            out.append("smtest.rmr=" + ";".join(
                "%s,%#x,%#x,%s" % (r.bdf(), r.base, r.length,
                                   "direct-relaxable" if r.remap else "direct")
                for r in self.rmrs))
        if self.canwbs:
            out.append("smtest.canwbs=1")
        return out


# --------------------------------------------------------------------------
# Tables


def checksum_fix(table):
    """Set the checksum byte so that the table sums to 0 (mod 256)."""
    table[HDR_CHECKSUM] = 0
    table[HDR_CHECKSUM] = (-sum(table)) & 0xff


def bump_oem_revision(table):
    rev = struct.unpack_from("<I", table, HDR_OEM_REVISION)[0]
    struct.pack_into("<I", table, HDR_OEM_REVISION, rev + 1)


def header(table):
    return {"signature": bytes(table[0:4]).decode("ascii", "replace"),
            "length": struct.unpack_from("<I", table, HDR_LENGTH)[0],
            "revision": table[HDR_REVISION],
            "oem_id": bytes(table[HDR_OEM_ID:HDR_OEM_ID + 6]),
            "oem_table_id": bytes(table[HDR_OEM_TABLE_ID:HDR_OEM_TABLE_ID + 8]),
            "oem_revision": struct.unpack_from("<I", table, HDR_OEM_REVISION)[0]}


def iort_nodes(table):
    """[(offset, type, length, revision, [mappings])] of an IORT; raises
    ValueError on a table whose nodes run past its length."""
    length = struct.unpack_from("<I", table, HDR_LENGTH)[0]
    if table[0:4] != b"IORT" or length != len(table):
        raise ValueError("not an IORT, or its length field (%d) is not its size (%d)"
                         % (length, len(table)))
    count, off = struct.unpack_from("<II", table, IORT_NODE_COUNT)
    nodes = []
    for _ in range(count):
        if off + NODE_HDR_SIZE > length:
            raise ValueError("IORT node at %#x runs past the table" % off)
        ntype, nlen, nrev = struct.unpack_from("<BHB", table, off + NODE_TYPE)
        nmaps, mapoff = struct.unpack_from("<II", table, off + NODE_MAP_COUNT)
        if nlen < NODE_HDR_SIZE or off + nlen > length:
            raise ValueError("IORT node at %#x has length %d" % (off, nlen))
        maps = [struct.unpack_from(MAP_FMT, table, off + mapoff + i * MAP_SIZE)
                for i in range(nmaps)]
        nodes.append((off, ntype, nlen, nrev, maps))
        off += nlen
    return nodes


def rid_to_stream(table, nodes, rid, segment=0):
    """(SMMUv3 node offset, stream ID) for requester ID RID of the root
    complex of SEGMENT, through its ID mappings."""
    for off, ntype, _, _, maps in nodes:
        if ntype != TYPE_RC or struct.unpack_from("<I", table, off + RC_SEGMENT)[0] != segment:
            continue
        for inb, num, outb, ref, flags in maps:
            if flags & MAP_SINGLE or not inb <= rid <= inb + num:
                continue
            if table[ref + NODE_TYPE] != TYPE_SMMUV3:
                raise ValueError("RID %#x maps to a %s node, not an SMMUv3"
                                 % (rid, TYPE_NAMES.get(table[ref], table[ref])))
            return ref, outb + rid - inb
    raise ValueError("no root complex mapping of segment %d covers RID %#x" % (segment, rid))


def edit_iort(orig, edit):
    """The edited IORT (bytes), and a list of what was done."""
    table = bytearray(orig)
    done = []
    if table[HDR_REVISION] < IORT_MIN_REVISION_RMR and edit.rmrs:
        raise ValueError("IORT revision %d has no RMR nodes (5 or later)" % table[HDR_REVISION])
    nodes = iort_nodes(table)
    if edit.canwbs:
        for off, ntype, _, _, _ in nodes:
            if ntype == TYPE_RC:
                table[off + RC_MEM_FLAGS] |= MAF_CANWBS
                done.append("root complex at %#x: memory access flags %#x (CANWBS)"
                            % (off, table[off + RC_MEM_FLAGS]))
    ident = max(struct.unpack_from("<I", table, o + NODE_IDENTIFIER)[0] for o, *_ in nodes)
    for rmr in edit.rmrs:
        smmu, sid = rid_to_stream(table, nodes, rmr.rid)
        ident += 1
        map_off = NODE_HDR_SIZE + struct.calcsize(RMR_DATA_FMT)
        desc_off = map_off + MAP_SIZE
        node = bytearray(desc_off + RMR_DESC_SIZE)
        struct.pack_into("<BHBIII", node, 0, TYPE_RMR, len(node), RMR_REVISION, ident,
                         1, map_off)
        struct.pack_into(RMR_DATA_FMT, node, RMR_FLAGS, rmr.flags(), 1, desc_off)
        # One stream: input base = output base = the stream ID, count 0.
        struct.pack_into(MAP_FMT, node, map_off, sid, 0, sid, smmu, 0)
        struct.pack_into(RMR_DESC_FMT, node, desc_off, rmr.base, rmr.length, 0)
        done.append("RMR node at %#x: stream %#x of the SMMUv3 node at %#x (RID %#x, %s), "
                    "range %#x+%#x, flags %#x" % (len(table), sid, smmu, rmr.rid, rmr.bdf(),
                                                  rmr.base, rmr.length, rmr.flags()))
        table += node
    struct.pack_into("<I", table, IORT_NODE_COUNT, len(nodes) + len(edit.rmrs))
    struct.pack_into("<I", table, HDR_LENGTH, len(table))
    bump_oem_revision(table)
    checksum_fix(table)
    return bytes(table), done


def _pkglength(data, i):
    """(length, bytes of the encoding) of the AML PkgLength at I."""
    lead = data[i]
    n = lead >> 6
    if n == 0:
        return lead & 0x3f, 1
    length = lead & 0x0f
    for k in range(n):
        length |= data[i + 1 + k] << (4 + 8 * k)
    return length, n + 1


def _aml_objects(data, opcode, start=0, end=None):
    """[(name, start, end)] of the Device or Method objects (OPCODE) in
    [start, end) whose PkgLength fits there."""
    end = len(data) if end is None else end
    out, i = [], start
    while True:
        i = data.find(opcode, i, end)
        if i < 0:
            return out
        p = i + len(opcode)
        length, nb = _pkglength(data, p)
        if p + length <= end:
            out.append((bytes(data[p + nb:p + nb + 4]), i, p + length))
        i += 1


def _host_bridge(name):
    """QEMU's names of PCI host bridges: PCI0, and PCxx for a pxb on bus xx."""
    return name == b"PCI0" or (name[:2] == b"PC" and
                               all(c in b"0123456789ABCDEF" for c in name[2:]))


def edit_dsdt(orig):
    """The DSDT with every PCI host bridge's _DSM answering function 5
    (ignore the PCI boot configuration?) with 0, and what was done; (None,
    reason) when they all do already."""
    table = bytearray(orig)
    done, already = [], []
    bridges = [o for o in _aml_objects(table, AML_DEVICE, HDR_SIZE) if _host_bridge(o[0])]
    if not bridges:
        raise ValueError("DSDT: no PCI host bridge (Device PCI0 or PCxx)")
    for name, start, end in bridges:
        dsm = [o for o in _aml_objects(table, bytes([AML_METHOD]), start, end)
               if o[0] == b"_DSM"]
        if not dsm:
            raise ValueError("DSDT: %s has no _DSM" % name.decode())
        _, mstart, mend = dsm[0]
        if table.find(AML_ARG2_IS_5, mstart, mend) >= 0:
            already.append(name.decode())
            continue
        for buf0, int0 in AML_RETURN_BUF0:
            at = table.rfind(buf0, mstart, mend)
            if at >= 0 and at + len(buf0) == mend:
                break
        else:
            raise ValueError("DSDT: %s._DSM does not end with Return (Buffer (One) {0})"
                             % name.decode())
        table[at:at + len(int0)] = int0
        done.append("%s (at %#x)" % (name.decode(), at))
    if not done:
        return None, "%s._DSM already handle function 5" % ", ".join(already)
    bump_oem_revision(table)
    checksum_fix(table)
    return bytes(table), ("DSDT: _DSM of %s return Integer 0 by default (function 5: "
                          "keep the boot configuration)" % ", ".join(done))


def upgrade_cpio(tables):
    """An uncompressed newc cpio holding kernel/firmware/acpi/NAME.aml for
    each (name, bytes); the kernel reads it from the front of the initrd."""
    from initramfs import newc_header, newc_pad
    chunks, ino = [], 1
    for path in ("kernel", "kernel/firmware", "kernel/firmware/acpi"):
        chunks.append(newc_header(path, ino, 0o040755, 0))
        ino += 1
    for name, data in tables:
        chunks += [newc_header("kernel/firmware/acpi/%s.aml" % name, ino, 0o100644, len(data)),
                   data, newc_pad(len(data))]
        ino += 1
    chunks.append(newc_header("TRAILER!!!", 0, 0, 0))
    raw = b"".join(chunks)
    return raw + b"\0" * (-len(raw) % 512)


# --------------------------------------------------------------------------
# Getting QEMU's tables, and the hook for qemu/pipeline.py

DUMP_TABLES = ("IORT", "DSDT")


def parse_dump(results):
    """{signature: bytes} from the result channel of an acpidump boot."""
    out, cur = {}, None
    with open(results, errors="replace") as f:
        for line in f:
            line = line.strip()
            if line.startswith("@@begin info acpi-"):
                cur = line.split("acpi-", 1)[1]
                out[cur] = []
            elif line.startswith("@@end info acpi-"):
                cur = None
            elif cur is not None and line:
                out[cur].append(line)
    return {k: bytes.fromhex("".join(v)) for k, v in out.items()}


def _cache_key(s, guest, dump):
    """The hardware's identity: QEMU's command line of the acpidump Boot
    DUMP (without the per-run paths), the firmware and the QEMU binary."""
    # Named "acpidump" whatever the boot: its disks' paths are in the key.
    argv = guest.qemu_argv(s, dataclasses.replace(dump, tag="acpidump"), "IMAGE", "INITRD",
                           "CONSOLE", "RESULTS", cmdline="CMDLINE")
    h = hashlib.sha256()
    for a in argv:
        h.update(a.replace(s.rundir, "RUN").encode() + b"\0")
    qemu = s.o.qemu or os.path.join(s.chroot_dir(), "usr/bin/qemu-system-aarch64")
    for p in (s.firmware(), qemu):
        with_stat = os.stat(p) if os.path.exists(p) else None
        h.update(("%s %s %s" % (p, with_stat and with_stat.st_size,
                                with_stat and int(with_stat.st_mtime))).encode())
    return h.hexdigest()[:16]


def qemu_tables(s, guest, dump, image, initrd):
    """QEMU's own tables for the hardware of the acpidump Boot DUMP:
    {signature: bytes}.  Booted (GUEST: qemu/boot.py) only when not cached."""
    cache = os.path.join(os.path.dirname(os.path.dirname(s.rundir)), "acpi",
                         _cache_key(s, guest, dump))
    paths = {sig: os.path.join(cache, sig + ".bin") for sig in DUMP_TABLES}
    if not all(os.path.exists(p) for p in paths.values()):
        status, _, _, results = guest.run(s, dump, image, initrd)
        got = parse_dump(results)
        missing = [sig for sig in DUMP_TABLES if not got.get(sig)]
        if missing:
            raise RuntimeError("the acpidump boot (%s) gave no %s" % (status, ", ".join(missing)))
        os.makedirs(cache, exist_ok=True)
        for sig, p in paths.items():
            with open(p + ".tmp", "wb") as f:
                f.write(got[sig])
            os.replace(p + ".tmp", p)
    out = {}
    for sig, p in paths.items():
        with open(p, "rb") as f:
            out[sig] = f.read()
    return out


def prepare(s, guest, b, dump, image, initrd):
    """qemu/pipeline.py's hook: (initrd, results) for the Boot B (its command
    line, edit.guest_cmdline(), is already in B's).  DUMP is the acpidump
    Boot of B's hardware (spec.acpidump_boot()), GUEST the module that boots
    it (qemu/boot.py: passed in, so that this file imports no harness).
    Topologies without `iort` edits boot INITRD unchanged, with no results."""
    edit = getattr(b.hw, "iort", None)
    if not edit:
        return initrd, []
    from hostenv import note
    tag = b.tag
    try:
        tables = qemu_tables(s, guest, dump, image, initrd)
        iort, done = edit_iort(tables["IORT"], edit)
        upgrades = [("iort", iort)]
        dsdt = None
        if edit.rmrs:
            dsdt, what = edit_dsdt(tables["DSDT"])
            done.append(what)
            if dsdt:
                upgrades.append(("dsdt", dsdt))
    except (ValueError, RuntimeError, OSError) as e:
        # The boot still says what the tables should have had: its tests fail.
        return initrd, [("FAIL", tag + "/acpi-tables", str(e))]
    out = s.log(os.path.basename(tag) + "-initrd.img")
    with open(initrd, "rb") as f:
        rest = f.read()
    with open(out, "wb") as f:
        f.write(upgrade_cpio(upgrades) + rest)
    for name, data in upgrades:
        with open(s.log("%s-%s.aml" % (os.path.basename(tag), name)), "wb") as f:
            f.write(data)
    for d in done:
        note("%s: %s" % (tag, d))
    return out, [("PASS", tag + "/acpi-tables", "; ".join(done))]


# --------------------------------------------------------------------------


def describe(table):
    h = header(table)
    print("%(signature)s length %(length)d revision %(revision)d OEM %(oem_id)r "
          "%(oem_table_id)r rev %(oem_revision)d" % h)
    for off, ntype, nlen, nrev, maps in iort_nodes(table):
        print("  %#05x %-15s length %3d rev %d" % (off, TYPE_NAMES.get(ntype, ntype), nlen, nrev))
        if ntype == TYPE_RC:
            print("        memory access flags %#x, ATS %#x, segment %d" % (
                table[off + RC_MEM_FLAGS], *struct.unpack_from("<II", table, off + RC_ATS)))
        if ntype == TYPE_RMR:
            flags, num, doff = struct.unpack_from(RMR_DATA_FMT, table, off + RMR_FLAGS)
            print("        flags %#x" % flags)
            for i in range(num):
                base, length, _ = struct.unpack_from(RMR_DESC_FMT, table,
                                                     off + doff + i * RMR_DESC_SIZE)
                print("        range %#x+%#x" % (base, length))
        for m in maps:
            print("        ids %#x+%#x -> %#x of node %#x flags %d" % m)


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(argv[0], "rb") as f:
        table = f.read()
    if len(argv) == 3 and argv[1] == "--edit":
        table, done = edit_iort(table, Edit([Rmr(int(argv[2], 0), 0x0e000000)], canwbs=True))
        print("\n".join(done))
    describe(table)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main(sys.argv[1:]))
