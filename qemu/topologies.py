# SPDX-License-Identifier: GPL-2.0-only
"""What the test runner boots, as data: the QEMU topologies (SMMUs and the
devices behind them), the guest kernels built from source, and the stock
Debian kernels.  Adding a topology or a kernel is a few lines here;
qemu/run.py does the rest."""

from dtb import Edit as DtEdit
from iort import Edit as IortEdit, Rmr


class Kernel:
    """A guest kernel built by qemu/kernel.sh from Debian's linux-source-SERIES
    with the config fragments FRAGMENTS (qemu/config/NAME.config)."""

    def __init__(self, name, desc, series, fragments, topologies):
        self.name = name
        self.desc = desc
        self.series = series            # linux-source-SERIES
        self.fragments = fragments      # qemu/config/*.config, applied in order
        self.topologies = topologies    # what `make check` boots on it


class Smmu:
    def __init__(self, bus, stage=None, bus_nr=None, bridged_disk=False):
        self.bus = bus          # primary-bus: pcie.0, or a pxb-pcie made for it
        self.stage = stage      # arm-smmuv3 stage= (None: QEMU's default, stage 1)
        self.bus_nr = bus_nr    # bus_nr of the pxb-pcie (not for pcie.0)
        # Also a virtio-blk at slot 0 behind a PCI bridge that aliases its
        # requester IDs to (secondary bus, devfn 0) as a PCIe-to-PCI bridge
        # does: that alias equals the disk's own RID, so firmware lists its
        # stream ID twice.  QEMU's pcie-pci-bridge always has an SHPC, which
        # refuses slot 0; the Intel 82801 DMI-to-PCI bridge (8086:244e) has
        # none, and Linux gives it the PCIe-to-PCI alias (a PCI quirk).
        # QEMU itself sends the disk's requests with the bridge's own ID (a
        # conventional bridge): DMA still works, the bridge being in the
        # disk's IOMMU group, but MSIs would reach the ITS under an ID Linux
        # did not map, so the disk uses INTx (vectors=0).
        self.bridged_disk = bridged_disk


class Topology:
    def __init__(self, name, desc, smmus, uefi, passthrough=True, tests=None, kunit=True,
                 iort=None, dtb=None, parts=()):
        self.name = name
        self.desc = desc
        self.smmus = smmus
        self.uefi = uefi                # UEFI firmware + ACPI (else device tree)
        self.passthrough = passthrough  # iommu.passthrough=1 on the command line
        self.tests = tests              # the selftests to run (None: all)
        self.kunit = kunit              # load the KUnit suites
        self.iort = iort                # IortEdit: an IORT upgrade in the initrd (qemu/iort.py)
        # [(PART, selftests)]: those selftests run in a boot of their own,
        # tagged NAME-PART (the guest still sees smtest.topology=NAME), and
        # not in the topology's main boot.  A long topology split so: make
        # check boots two guests at once, and the longest boot is its
        # critical path.
        self.parts = parts
        self.dtb = dtb                  # DtEdit: QEMU's device tree, edited (qemu/dtb.py)

    @property
    def instances(self):
        return len(self.smmus)


TOPOLOGIES = {
    t.name: t for t in [
        Topology("acpi2", "UEFI/ACPI (IORT), two SMMUs (stage=nested) on pcie.0 and a "
                 "pxb-pcie; an edu and a virtio-blk behind each",
                 [Smmu("pcie.0", "nested"), Smmu("pcie.1", "nested", bus_nr=8)], uefi=True,
                 parts=[("life", ["smmuv3_fail_nth", "smmuv3_lifecycle",
                                  "smmuv3_fault_storm"])]),
        Topology("acpi2-mixed", "as acpi2, instance 0 stage=nested, instance 1 stage=1",
                 [Smmu("pcie.0", "nested"), Smmu("pcie.1", "1", bus_nr=8)], uefi=True),
        Topology("dt1", "device tree, one SMMU on pcie.0; an edu and a virtio-blk behind it, "
                 "and a virtio-blk at slot 0 behind a DMI-to-PCI bridge",
                 [Smmu("pcie.0", bridged_disk=True)], uefi=False),
        # Cavium CN99xx: register page 1 is not implemented, its registers
        # (the event and PRI queues' PROD and CONS) sit at their offsets in
        # page 0.  QEMU's model ignores bit 16 of a register offset (page 1
        # aliases page 0), so a device tree with the binding's property runs
        # the driver's page-0-only option end to end: it maps page 0 only
        # (qemu/dtb.py checks /proc/iomem and the probe's log), and the
        # event queue (smmuv3_dma's F_TRANSLATION counts) and block I/O work.
        Topology("dt1-page0", "as dt1, its device tree (QEMU's) with the property "
                 "cavium,cn9900-broken-page1-regspace on the SMMU; selftests topology and "
                 "dma only, no KUnit",
                 [Smmu("pcie.0", bridged_disk=True)], uefi=False,
                 tests=["smmuv3_topology", "smmuv3_dma"], kunit=False,
                 dtb=DtEdit(["cavium,cn9900-broken-page1-regspace"])),
        # No stage in common: the automatic domain of a device behind one
        # instance cannot take a device behind the other.  Only the tests
        # this adds to (stage-2-only DMA, the automatic-domain fallback).
        Topology("acpi2-s2s1", "as acpi2, instance 0 stage=2, instance 1 stage=1; "
                 "selftests topology, dma and share only, no KUnit",
                 [Smmu("pcie.0", "2"), Smmu("pcie.1", "1", bus_nr=8)], uefi=True,
                 tests=["smmuv3_topology", "smmuv3_dma", "smmuv3_share", "smmuv3_stale"],
                 kunit=False),
        # What QEMU's IORT lacks: RMRs for the edu behind each instance (64
        # KiB ranges at 0xe000000 and 0xe100000: not RAM, nothing else
        # there), the first without and the second with Remapping Permitted,
        # and CANWBS on the root complex.  Only what proves them.
        Topology("acpi2-rmr", "as acpi2, with an IORT upgrade: an RMR node for the edu "
                 "behind each instance (direct, direct-relaxable) and CANWBS on the root "
                 "complex; selftest rmr only",
                 [Smmu("pcie.0", "nested"), Smmu("pcie.1", "nested", bus_nr=8)], uefi=True,
                 tests=["smmuv3_rmr"], kunit=False,
                 iort=IortEdit([Rmr(0x0100, 0x0e000000), Rmr(0x0900, 0x0e100000, remap=True)],
                               canwbs=True)),
        # The differential oracle's hardware (qemu/difforacle.py): acpi2 with
        # CANWBS on the root complex, so that both drivers make vIOMMUs on
        # QEMU's SMMU (no S2FWB); booted once per driver, traced, with only
        # the scenario.  Not in DEFAULT_TOPOLOGIES: `--topology diff` boots it.
        Topology("acpi2-diff", "as acpi2, with CANWBS on the root complex (IORT upgrade); "
                 "selftest scenario only, no KUnit, QEMU tracing the SMMUs",
                 [Smmu("pcie.0", "nested"), Smmu("pcie.1", "nested", bus_nr=8)], uefi=True,
                 tests=["smmuv3_scenario"], kunit=False, iort=IortEdit([], canwbs=True)),
        # A server-sized instance count: one SMMU per root complex, as on
        # systems with many PCIe segments.  Probe and group checks, block I/O
        # through every instance, sharing across instances.
        Topology("acpi8", "UEFI/ACPI, eight SMMUs (stage=nested), on pcie.0 and seven "
                 "pxb-pcie; an edu and a virtio-blk behind each; selftests topology and "
                 "share only, no KUnit",
                 [Smmu("pcie.0", "nested")] +
                 [Smmu("pcie.%d" % i, "nested", bus_nr=8 * i) for i in range(1, 8)],
                 uefi=True, tests=["smmuv3_topology", "smmuv3_share", "smmuv3_stress"],
                 kunit=False),
    ]
}
# Selftests that run only on some of the topologies that run "all" selftests
# (Topology.tests None): what they prove needs no second topology, and make
# check's time is better spent elsewhere.  Unlisted tests run everywhere.
TEST_TOPOLOGIES = {
    # Allocation failures, unload/reload cycles and event-queue storms are
    # topology-independent driver paths: the two-instance ACPI topology.
    "smmuv3_fail_nth": ["acpi2"],
    "smmuv3_lifecycle": ["acpi2"],
    "smmuv3_fault_storm": ["acpi2"],
    # Cross-instance invalidation: the topologies with two instances (acpi8
    # and acpi2-s2s1 name them in their own lists).
    "smmuv3_stale": ["acpi2", "acpi2-mixed"],
    "smmuv3_stress": ["acpi2", "acpi2-mixed"],
    # The IORT's RMR and CANWBS: acpi2-rmr names it; acpi2 shows their absence.
    "smmuv3_rmr": ["acpi2"],
    # The differential oracle's scenario: only on its own traced boots.
    "smmuv3_scenario": ["acpi2-diff"],
}
# Quick boots of the ACPI topologies, repeated (--repeat): the driver probes
# while the deferred-probe worker binds devices behind the instances, so
# every boot is a new draw of that race.  Only the probe, group and block
# I/O checks of /init and the topology selftest run.
REPEAT_TESTS = ["smmuv3_topology"]
# The stock Debian arm64 kernels a user runs (their headers, image and
# modules come from Debian's archive, the newest release of each series):
# each is booted on STOCK_HW with smmuv3.ko from the smmuv3-dkms package
# (tag stock-SERIES), and with its built-in arm-smmu-v3 (stock-SERIES-builtin).
STOCK_SERIES = ["6.12", "7.2", "7.3"]
# The smmuv3-dkms package is built by DKMS for the headers of each of these
# (stock/deb, stock-SERIES/dkms-build).
STOCK_DKMS_SERIES = ["6.12", "7.2", "7.3"]
# Kernels whose iommu bus probe leaves the DMA configuration of a device
# without a driver to the driver bind, so that such a device has no IOMMU
# group: with their built-in arm-smmu-v3 the boot's group checks skip those
# devices (smtest.unbound_nogroup=1).  smmuv3.ko configures them itself
# (module/register.c), so its boots keep the full check.
STOCK_UNBOUND_NOGROUP = ["6.12"]
STOCK_HW = "acpi2"
# What runs there: no KUnit (stock kernels have none), the selftests that
# need no iommufd (stock kernels have none either).
STOCK_TESTS = ["smmuv3_topology", "smmuv3_type1", "smmuv3_dma_api_blk"]
STOCK = "stock"
STOCK_DESC = ("the smmuv3-dkms package's DKMS builds for the stock Debian arm64 headers of "
              "%s; the stock kernels %s on the acpi2 hardware with those modules (built-in "
              "arm-smmu-v3 blacklisted) and with the built-in driver; VFIO type1 and DMA-API "
              "tests" % (", ".join(STOCK_DKMS_SERIES), " and ".join(STOCK_SERIES)))
DEFAULT_TOPOLOGIES = ["acpi2", "acpi2-mixed", "acpi2-s2s1", "acpi2-rmr", "dt1", "dt1-page0",
                      "acpi8"]
# make check repeats these quick boots (--repeat; make soak does more).
CHECK_REPEAT = 1
# make check boots this many guests at once (run.py --jobs).
CHECK_JOBS = 2
REPEAT_TOPOLOGIES = ["acpi2", "acpi8"]


# Guest kernels.  `make check` boots each one's topologies (the stock kernels
# are separate, below).
KERNELS = {
    k.name: k for k in [
        Kernel("debug", "Linux 7.3 with lockdep, KASAN, kmemleak, DMA API debugging",
               "7.3", ["base", "debug"], ["acpi2", "acpi2-mixed", "acpi2-s2s1", "acpi2-rmr", "dt1",
                                           "dt1-page0", "acpi8"]),
        Kernel("base", "Linux 7.3 without the debugging options (make bench)",
               "7.3", ["base"], []),
        Kernel("6.12", "Linux 6.12 LTS (Debian 13's kernel) with iommufd, VFIO cdev and KUnit",
               "6.12", ["base", "series-6.12"], ["acpi2"]),
    ]
}
CHECK_KERNELS = ["debug", "6.12"]
