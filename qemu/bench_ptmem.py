# SPDX-License-Identifier: GPL-2.0-only
"""make bench's page-table memory part (run.py --bench --bench-part ptmem):
what one VM's IOAS costs in IOMMU page tables, our driver and upstream's
side by side, with its devices behind 1, 2, 4 and 8 SMMU instances.

One boot per driver of PTMEM_TOPOLOGY (acpi8: an edu behind each of eight
instances), or of the topology given with --topology, runs
selftests/bench/smmuv3_ptmem: PTMEM_MIB MiB of IOVA space mapped in an IOAS
(IOMMU_IOAS_MAP) or a VFIO type1 container (VFIO_IOMMU_MAP_DMA), once as
4 KiB pages and once as 2 MiB blocks, then the edus attached one by one;
after each attach, the change of the kernel's SecPageTables (/proc/meminfo;
io-pgtable-arm's pages, counted by the kernel's
iommu_alloc_pages_node_sz()) since before the mapping.  With a driver that
attaches every device to the first HWPT (domain), that is one page table
whatever the number of instances; with one that refuses a second
instance's device, iommufd (or type1) makes another HWPT (domain) for it
and maps everything into it again.

The figures are the kernel's own counts, the same from boot to boot: one
boot per driver, no rounds.  The default domains are identity
(iommu.passthrough=1), so that no block I/O allocates page tables while the
program counts them.  The program fails the run only if the first attach
did not move SecPageTables (a measurement that sees no page table); the
sizes are not asserted.
"""

import boot as guest
import builds
import spec

PTMEM_TOPOLOGY = "acpi8"
PTMEM_MIB = 1024
PTMEM_PROG = "smmuv3_ptmem"
DRIVERS = ("ours", "upstream")
# Rows of the table: these numbers of instances (those the topology has).
SHOWN = (1, 2, 4, 8)
APIS = (("iommufd", "IOMMU_IOAS_MAP, devices attached to the IOAS"),
        ("type1", "VFIO type1 container, VFIO_IOMMU_MAP_DMA"))
LAYOUTS = (("4k", "4 KiB pages"), ("2m", "2 MiB blocks"))


def boots(runner, k, module_dir, prog, topology, bench_boot):
    """One boot of smmuv3_ptmem per driver on TOPOLOGY, of guest kernel K.
    Returns {driver: figures} of the good boots."""
    o = runner.s.o
    out = {}
    for d in DRIVERS:
        drv, _ = builds.guest_modules(k, d, module_dir)
        initrd = guest.initramfs(runner.s, "initramfs-bench-ptmem-" + d, driver_mods=drv,
                                 files=[("/bench/" + PTMEM_PROG, prog)])
        # A boot that met the probe race is replaced once.
        for i in range(2):
            tag = "bench-ptmem-%s-%s%s" % (topology, d, "-%d" % (i + 1) if i else "")
            # Identity default domains: no block I/O allocates page tables
            # while the program counts them.
            b = spec.bench_boot(tag, topology, d, o.kernel,
                                ["--size-mib", str(PTMEM_MIB)], runner.s.opts, passthrough=True,
                                prog=PTMEM_PROG)
            figs, race = bench_boot(runner, b, k.image, initrd)
            if figs:
                out[d] = figs
            if not race:
                break
    return out


def _rows(figs):
    """{(api, layout, step, instances): kv} of one boot's ptmem lines."""
    return {(kv.get("api"), kv.get("layout"), kv.get("step"), int(kv.get("instances", -1))): kv
            for n, kv in figs if n == "ptmem"}


def _kib(v):
    return "{:,}".format(int(v)) if v is not None else "-"


def report(res, topology):
    """The table (markdown lines) of boots()'s figures RES, made on TOPOLOGY."""
    rows = {d: _rows(res.get(d, [])) for d in DRIVERS}
    n = max([k[3] for r in rows.values() for k in r if k[2] == "attached"] or [0])
    shown = [i for i in SHOWN if i <= n] + ([n] if n and n not in SHOWN else [])
    lines = ["Page-table memory of one IOAS (or type1 container) with %d MiB of IOVA space "
             "mapped, %s, one boot per driver: the change of SecPageTables (/proc/meminfo) "
             "since before the mapping, KiB, with an edu behind each of the first N "
             "instances attached (HWPTs: the distinct HWPTs iommufd gave the devices; "
             "domains: new paging domains in our debugfs)" % (PTMEM_MIB, topology), "",
             "| interface | mapped as | N instances | ours: KiB | upstream: KiB | "
             "upstream / ours | HWPTs: ours / upstream | ours: new domains in debugfs |",
             "|---|---|---|---|---|---|---|---|"]
    differ = []
    for api, api_label in APIS:
        for lay, lay_label in LAYOUTS:
            steps = [("mapped", 0, "none, mapped before any attach")]
            steps += [("attached", i, "%d" % i) for i in shown]
            steps += [("unmapped", n, "%d, after the unmap" % n),
                      ("released", 0, "none, after all left")]
            for step, i, label in steps:
                kv = {d: rows[d].get((api, lay, step, i)) for d in DRIVERS}
                if not any(kv.values()):
                    continue
                v = {d: int(kv[d]["sec_kib"]) if kv[d] and "sec_kib" in kv[d] else None
                     for d in DRIVERS}
                for d in DRIVERS:
                    if kv[d] and kv[d].get("iommu_kib") != kv[d].get("sec_kib"):
                        differ.append("%s %s %s %s %s" % (d, api, lay, step, i))
                ratio = ("%.2f" % (v["upstream"] / v["ours"]) if v["ours"] and
                         v["upstream"] is not None else "-")
                hw = [(kv[d] or {}).get("hwpts") or "-" for d in DRIVERS]
                lines.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    api_label, lay_label, label, _kib(v["ours"]), _kib(v["upstream"]), ratio,
                    "-" if hw == ["-", "-"] else " / ".join(hw),
                    (kv["ours"] or {}).get("domains", "-")))
    lines += ["", "Each HWPT or domain has its own io-pgtable-arm page table holding every "
              "mapping; a page table for 1 GiB of 4 KiB pages is 512 last-level tables "
              "(2 MiB) and a few upper ones, for 2 MiB blocks only the upper ones.  Unmapping "
              "leaves the emptied tables allocated until the domain is freed."]
    if differ:
        lines.append("SecPageTables and nr_iommu_pages differ at: %s" % "; ".join(differ))
    missing = [d for d in DRIVERS if d not in res]
    if missing:
        lines.append("No figures from: %s (see the results)." % ", ".join(missing))
    return lines


def run(runner, k, module_dir, prog, bench_boot, topology=None):
    """The part, on TOPOLOGY (default PTMEM_TOPOLOGY): boots through
    BENCH_BOOT (qemu/bench.py's bench_boot()), then the table's lines."""
    topology = topology or PTMEM_TOPOLOGY
    return report(boots(runner, k, module_dir, prog, topology, bench_boot), topology)
