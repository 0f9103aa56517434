# SPDX-License-Identifier: GPL-2.0-only
"""What the test runner boots, as data: the QEMU topologies (SMMUs and the
devices behind them), the guest kernels built from source, and the stock
Debian kernels.  Adding a topology or a kernel is a few lines here;
qemu/run.py does the rest."""

import fnmatch
import re

from dtb import Edit as DtEdit
from iort import Edit as IortEdit, Rmr


class Kernel:
    """A guest kernel built by qemu/kernel.sh from Debian's linux-source-SERIES
    with the config fragments FRAGMENTS (qemu/config/NAME.config)."""

    def __init__(self, name, desc, series, fragments, topologies, features, kmemleak):
        self.name = name
        self.desc = desc
        self.series = series            # linux-source-SERIES
        self.fragments = fragments      # qemu/config/*.config, applied in order
        self.topologies = topologies    # what `make check` boots on it
        # The smmuv3.ko features (of BUILD_FEATURES) a build for this kernel
        # must have: the others must be missing, and say why.
        self.features = features
        self.kmemleak = kmemleak        # kmemleak must be active and scan


class Smmu:
    def __init__(self, bus, stage=None, bus_nr=None, bridged_disk=False, aliased_disk=False,
                 nvme=False, devices=()):
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
        # With bridged_disk: a second virtio-blk behind the same bridge, at
        # slot 1.  Its alias (secondary bus, devfn 0) is the first disk's
        # stream ID: firmware gives one stream ID to two devices.
        self.aliased_disk = aliased_disk
        # Also an NVMe controller (QEMU's nvme, one namespace) on a root port
        # of its own: the kernel's nvme driver maps through the DMA API's
        # IOVA interface (selftest smmuv3_nvme).
        self.nvme = nvme
        # More PCIe devices behind this SMMU, each a QEMU -device argument
        # without its bus ("igb,netdev=net0"), each on a root port of its
        # own after the others (Topology.qemu_args has what they refer to).
        self.devices = list(devices)


class Topology:
    def __init__(self, name, desc, smmus, uefi, passthrough=True, tests=None, kunit=True,
                 iort=None, dtb=None, parts=(), aliased=0, cpu=None, machine=None,
                 qemu_args=(), payload=None):
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
        # PCI devices the driver must refuse for a stream ID another device
        # has (smtest.aliased): no IOMMU group, and the kernel log says why.
        self.aliased = aliased
        # The guest's -cpu (None: qemu/spec.py's DEFAULT_CPU), more -M virt
        # options ("virtualization=on"), more QEMU arguments (a -netdev its
        # devices use).
        self.cpu = cpu
        self.machine = machine
        self.qemu_args = list(qemu_args)
        # Programs from Debian's archive for this topology's initramfs only:
        # a name of qemu/pipeline.py's PAYLOADS ("dpdk": qemu/dpdk.py).
        self.payload = payload

    @property
    def instances(self):
        return len(self.smmus)

    @property
    def disks(self):
        """The virtio-blk disks of the topology (each gets a blk-io check)."""
        return len(self.smmus) + sum(1 for s in self.smmus if s.bridged_disk) + \
            sum(1 for s in self.smmus if s.bridged_disk and s.aliased_disk)


TOPOLOGIES = {
    t.name: t for t in [
        Topology("acpi2", "UEFI/ACPI (IORT), two SMMUs (stage=nested) on pcie.0 and a "
                 "pxb-pcie; an edu and a virtio-blk behind each",
                 [Smmu("pcie.0", "nested"), Smmu("pcie.1", "nested", bus_nr=8)], uefi=True,
                 parts=[("life", ["smmuv3_fail_nth", "smmuv3_lifecycle",
                                  "smmuv3_fault_storm"])]),
        # The NVMe controllers ride on a topology booted anyway: their
        # selftest costs a minute or two, a boot of their own more.
        Topology("acpi2-mixed", "as acpi2, instance 0 stage=nested, instance 1 stage=1; "
                 "also an NVMe controller behind each",
                 [Smmu("pcie.0", "nested", nvme=True), Smmu("pcie.1", "1", bus_nr=8, nvme=True)],
                 uefi=True),
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
        # Two conventional PCI devices share a stream ID (the bridge's
        # alias): the instance must still register and serve the others,
        # the second device gets no IOMMU and the log says why, as with the
        # kernel's own driver.  The edu's DMA and every disk's block I/O.
        Topology("dt1-alias", "as dt1, and a second virtio-blk behind the DMI-to-PCI "
                 "bridge (slot 1: its alias is the first disk's stream ID); selftest dma "
                 "only, no KUnit",
                 [Smmu("pcie.0", bridged_disk=True, aliased_disk=True)], uefi=False,
                 tests=["smmuv3_dma"], kunit=False, aliased=1),
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
        # DPDK's testpmd (Debian's, qemu/dpdk.py) on an igb behind each
        # instance, both in one VFIO type1 container.  Its payload (about
        # 20 MB) rides in this topology's initramfs only.
        Topology("acpi2-dpdk", "as acpi2, and an igb behind each SMMU, both on one QEMU "
                 "hub; selftest dpdk only (Debian's dpdk-testpmd), no KUnit",
                 [Smmu("pcie.0", "nested", devices=["igb,netdev=igbnet0,mac=52:54:00:5d:00:00"]),
                  Smmu("pcie.1", "nested", bus_nr=8,
                       devices=["igb,netdev=igbnet1,mac=52:54:00:5d:00:01"])],
                 uefi=True, tests=["smmuv3_dpdk"], kunit=False, payload="dpdk",
                 qemu_args=["-netdev", "hubport,id=igbnet0,hubid=0",
                            "-netdev", "hubport,id=igbnet1,hubid=0"]),
        # QEMU as the VMM inside the guest (qemu/vmm.py boots it, run.py's
        # step vmm, with EL2 and KVM: -cpu max, virtualization=on): acpi2's
        # hardware with CANWBS, so that either driver makes vIOMMUs on
        # QEMU's SMMU (vmm.py gives it the memory of the nested guest and its
        # QEMU).  Not in DEFAULT_TOPOLOGIES: make check boots it through the
        # step.
        Topology("acpi2-vmm", "as acpi2, with CANWBS on the root complex (IORT upgrade); "
                 "booted by qemu/vmm.py only (--topology vmm): Debian's QEMU inside it with "
                 "accel=on vSMMUs",
                 [Smmu("pcie.0", "nested"), Smmu("pcie.1", "nested", bus_nr=8)], uefi=True,
                 tests=[], kunit=False, iort=IortEdit([], canwbs=True), cpu="max",
                 machine="virtualization=on"),
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
    # NVMe controllers: only acpi2-mixed has them (Smmu.nvme).
    "smmuv3_nvme": ["acpi2-mixed"],
    # DPDK's testpmd: only acpi2-dpdk has the igbs and the payload.
    "smmuv3_dpdk": ["acpi2-dpdk"],
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
# (module/iommu_register.c), so its boots keep the full check.
STOCK_UNBOUND_NOGROUP = ["6.12"]
STOCK_HW = "acpi2"
# What runs there: no KUnit (stock kernels have none), the selftests that
# need no iommufd (stock kernels have none either).
STOCK_TESTS = ["smmuv3_topology", "smmuv3_type1", "smmuv3_dma_api_blk"]
# make bench's stock part (qemu/bench.py): the benchmark beside type1 only
# (the one test that makes the shared domain the benchmark measures).
STOCK_BENCH_TESTS = ["smmuv3_type1"]
STOCK = "stock"
STOCK_DESC = ("the smmuv3-dkms package's DKMS builds for the stock Debian arm64 headers of "
              "%s; the stock kernels %s on the acpi2 hardware with those modules (built-in "
              "arm-smmu-v3 blacklisted) and with the built-in driver; VFIO type1 and DMA-API "
              "tests" % (", ".join(STOCK_DKMS_SERIES), " and ".join(STOCK_SERIES)))
# make run (qemu/demo.py): one boot of this topology with these selftests.
DEMO_TOPOLOGY = "acpi2"
DEMO_TESTS = ["smmuv3_topology", "smmuv3_type1", "smmuv3_share"]
DEFAULT_TOPOLOGIES = ["acpi2", "acpi2-mixed", "acpi2-s2s1", "acpi2-rmr", "dt1", "dt1-page0",
                      "dt1-alias", "acpi8", "acpi2-dpdk"]
# make check repeats these quick boots (--repeat; make soak does more).
CHECK_REPEAT = 1
# make check boots this many guests at once (run.py --jobs).
CHECK_JOBS = 2
REPEAT_TOPOLOGIES = ["acpi2", "acpi8"]


# The features of smmuv3.ko that depend on the kernel (module/compat.c,
# /sys/kernel/debug/smmuv3/build): what a build for each kernel must have.
# A feature module/compat-probe.sh wrongly finds absent would otherwise only
# turn tests into skips and KUnit suites into nothing.
BUILD_FEATURES = ["iommufd_hwpt", "hwpt_pasid", "hw_info", "viommu", "nested", "veventq",
                  "s2fwb_tables", "canwbs", "ats_required"]
FEATURES_612 = ["iommufd_hwpt"]
# Debian's stock kernels are built without CONFIG_IOMMUFD: the iommufd
# features are missing there whatever the interfaces.
STOCK_FEATURES = {
    "6.12": [],
    "7.2": ["s2fwb_tables", "canwbs", "ats_required"],
    "7.3": ["s2fwb_tables", "canwbs", "ats_required"],
}

# The KUnit suites of smmuv3_kunit.ko (module/tests/*.c) and the feature
# each needs (None: every build has it).  A boot that loads the KUnit module
# must report every suite its kernel's features call for; a suite in the
# sources that is missing here fails too (this list must follow them).
KUNIT_SUITES = {
    "smmuv3-ats": None, "smmuv3-cd": None, "smmuv3-cmd": None, "smmuv3-cmdq": None,
    "smmuv3-entry": None, "smmuv3-events": None, "smmuv3-features": None,
    "smmuv3-inv-overlap": None, "smmuv3-inv-bench": None, "smmuv3-invalidate": None,
    "smmuv3-invs": None, "smmuv3-master": None, "smmuv3-pasid": None, "smmuv3-msi": None,
    "smmuv3-errata": None, "smmuv3-rmr": None, "smmuv3-stall": None, "smmuv3-tags": None,
    "smmuv3-used-bits": None, "smmuv3-cmdq-errors": None, "smmuv3-probe": None,
    "smmuv3-strtab": None, "smmuv3-iommufd": "viommu",
    "smmuv3-viommu": "viommu", "smmuv3-nested": "viommu",
}

# The KUnit cases are read from module/tests/*.c when a boot is checked
# (qemu/results.py kunit_cases_in_sources()): every KUNIT_CASE*() of a suite
# that ran must be in its results, and nothing else.  A case inside #if is
# expected where its condition holds; each condition (the parts of an &&)
# is one of these: a smmuv3.ko feature (BUILD_FEATURES: the plan's features
# say whether the build has it) or a WHERE of the boots whose kernel has it
# (a kernel config option).  A condition not listed here fails the check.
KUNIT_GUARDS = {
    "SMMUV3_HAVE_VIOMMU": "viommu",
    "SMMUV3_HAVE_HW_INFO": "hw_info",
    # Linux 7.3's guest kernels (IOMMUFD selects it); 6.12 has no such option.
    "IS_ENABLED(CONFIG_IOMMUFD_DRIVER_CORE)": {"kernel": ["debug", "base"]},
}

# The selftest programs (selftests/Makefile's TESTS and TESTS_LAST, in run
# order): a boot must run each one its topology calls for, whatever the
# build's tests.list says.
SELFTESTS = ["smmuv3_topology", "smmuv3_blocked_dma", "smmuv3_dma", "smmuv3_replace",
             "smmuv3_share", "smmuv3_type1", "smmuv3_rmr", "smmuv3_nesting", "smmuv3_fail_nth",
             "smmuv3_fuzz", "smmuv3_identity_blk", "smmuv3_dma_api_blk", "smmuv3_nvme",
             "smmuv3_dpdk", "smmuv3_stale", "smmuv3_stress", "smmuv3_fault_storm",
             "smmuv3_lifecycle"]

# The tests of each selftest program (kselftest_harness names, fixture
# variants included), in the order the program reports them.  Each one
# must be in its program's output (as a PASS, or a FAIL, or a SKIP that
# ALLOWED_SKIPS claims), and nothing else may be: a test deleted, renamed
# or compiled out fails the boot until this list says so.  (NAME, UAPI):
# only where the kernel's linux/iommufd.h has UAPI ("viommu": the vIOMMU
# calls, IOMMU_VIOMMU_ALLOC).
SELFTEST_NAMES = {
    "smmuv3_topology": ["global.instance_count", "global.instances_have_devices",
                        "global.instances_disjoint", "global.device_links_agree",
                        "global.edu_placement", "global.root_bus_placement",
                        "global.pci_devices_in_groups", "global.groups_single_instance"],
    "smmuv3_blocked_dma": ["edu.identity_dma_reaches_memory", "edu.blocked_dma_write_dropped",
                           "edu.blocked_dma_read_dropped"],
    "smmuv3_dma": ["dma.map_4k", "dma.map_64k", "dma.map_2m_hugepage", "dma.many_4k_mappings"],
    "smmuv3_replace": ["replace.s1_s2_s1_detach"],
    "smmuv3_share": ["share.auto_domain_shared", "share.explicit_hwpt_accepts_other_instance",
                     "share.shared_unmap_faults_on_both", "share.detach_one_keeps_other",
                     "share.auto_domain_falls_back",
                     "share.nest_parent_refuses_stage1_only_instance", "tags.asid.exhaustion",
                     "tags.vmid.exhaustion"],
    "smmuv3_type1": ["type1.one_domain_both_instances", "type1.unmap_faults_on_both",
                     "type1.remove_a_keeps_b", "type1.remove_b_keeps_a"],
    "smmuv3_rmr": ["rmr.reserved_region", "rmr.bypass_at_probe", "rmr.dma_domain_identity",
                   "rmr.user_domain_refused", ("rmr.canwbs_viommu", "viommu")],
    "smmuv3_nesting": ["nest.two_viommus_share_parent", "nest.bypass_vste",
                       "nest.guest_stage1", "nest.fault_to_veventq", "nest.s2_fault_stays_host",
                       "nest.vdevice_wrong_instance", "nest.attach_wrong_instance",
                       "nest.attach_without_vdevice", "nest.bad_vste", "nest.bad_invalidate",
                       "nest.viommu_needs_opt_in", "nest.destroy_order",
                       "nest.close_iommufd_alive"],
    "smmuv3_fail_nth": ["fn.hw_info", "fn.hwpt_alloc_paging", "fn.hwpt_alloc_nest_parent",
                        "fn.attach_ioas", "fn.attach_hwpt", "fn.replace", "fn.detach",
                        "fn.viommu_alloc", "fn.vdevice_alloc", "fn.nested_alloc",
                        "fn.attach_nested", "fn.replace_nested_parent", "fn.invalidate",
                        "fn.veventq_alloc"],
    "smmuv3_fuzz": ["fz.random_uapi"],
    "smmuv3_identity_blk": ["blk.identity_io"],
    "smmuv3_dma_api_blk": ["dma_blk.strict.pattern_io", "dma_blk.lazy.pattern_io"],
    "smmuv3_nvme": ["nvme.strict.parallel_io", "nvme.lazy.parallel_io"],
    "smmuv3_dpdk": ["dpdk.huge_va.forward", "dpdk.huge_pa.forward", "dpdk.nohuge_va.forward",
                    "dpdk.nohuge_pa.forward"],
    "smmuv3_stale": ["stale.shared.generations", "stale.separate.generations",
                     "stale.nested_bypass.generations", "stale.nested_s1.generations"],
    "smmuv3_stress": ["stress.separate.run", "stress.shared.run", "stress.nested.run"],
    "smmuv3_fault_storm": ["storm.host_storm", "storm.nested_storm"],
    "smmuv3_lifecycle": ["life.cycles", "life.hwpt_outlives_devices", "life.load_fail_nth"],
    "smmuv3_scenario": ["global.scenario"],
}
# Without the vIOMMU uAPI selftests/Makefile builds these programs
# (VIOMMU_TESTS there) as stand-ins that report one skipped test, "test-1".
UAPI_STANDINS = {"viommu": ["smmuv3_nesting", "smmuv3_scenario", "smmuv3_fail_nth",
                            "smmuv3_fuzz", "smmuv3_fault_storm", "smmuv3_stale",
                            "smmuv3_stress"]}
# The uAPI the selftests are built against lacks these on these kernels
# (their own headers; the stock kernels' boots use the selftests of the
# 7.3 guest kernel).
UAPI_LACKS = {"6.12": ["viommu"]}


def selftest_names(program, kernel):
    """The tests PROGRAM must report on KERNEL (a plan's "kernel"), or None
    for a program SELFTEST_NAMES does not know."""
    lacks = UAPI_LACKS.get(kernel, [])
    if any(program in UAPI_STANDINS.get(u, []) for u in lacks):
        return ["test-1"]
    if program not in SELFTEST_NAMES:
        return None
    return [n if isinstance(n, str) else n[0] for n in SELFTEST_NAMES[program]
            if isinstance(n, str) or n[1] not in lacks]


# Guest kernels.  `make check` boots each one's topologies (the stock kernels
# are separate, below).
KERNELS = {
    k.name: k for k in [
        Kernel("debug", "Linux 7.3 with lockdep, KASAN, kmemleak, DMA API debugging, KVM",
               "7.3", ["base", "debug"], ["acpi2", "acpi2-mixed", "acpi2-s2s1", "acpi2-rmr", "dt1",
                                           "dt1-page0", "dt1-alias", "acpi8", "acpi2-dpdk"],
               features=BUILD_FEATURES, kmemleak=True),
        Kernel("base", "Linux 7.3 without the debugging options (make bench)",
               "7.3", ["base", "clients"], [], features=BUILD_FEATURES, kmemleak=False),
        # Linux 6.12's iommufd has domain_alloc_user but no PASID HWPTs,
        # hw_info types, vIOMMU API; its io-pgtable has no S2FWB quirk.
        Kernel("6.12", "Linux 6.12 LTS (Debian 13's kernel) with iommufd, VFIO cdev and KUnit",
               "6.12", ["base", "series-6.12"], ["acpi2"],
               features=FEATURES_612, kmemleak=False),
    ]
}
CHECK_KERNELS = ["debug", "6.12"]


# --------------------------------------------------------------------------
# What a boot may report without failing (issue 22: green must mean correct).

class Expect:
    """An error a test provokes on purpose, declared by the phase it runs in
    (init.sh's "selftest/NAME", "kunit", "load", "blk-io"): LOG, a regex of
    the driver's error or warning line (qemu/results.py driver_rules() reads
    them from module/*.c), and/or COUNTER, a regex of a debugfs error counter
    of module/debugfs.c's stats ("event F_TRANSLATION", "cmd_errors",
    "gerror_bit0" ...).  AT_MOST bounds the lines of LOG and the growth of
    COUNTER (summed over the instances) in that phase: what the test
    provokes, never more.  WHERE limits it to some boots (as Skip)."""

    def __init__(self, log=None, counter=None, at_most=1, why="", where=None,
                 per_instance=False):
        self.log = re.compile(log) if log else None
        self.counter = re.compile("^(?:%s)$" % counter) if counter else None
        self.at_most = at_most
        self.why = why
        self.where = where or {}
        # AT_MOST counts for each SMMU instance of the boot's topology (a
        # test that does the same with the edu behind each).
        self.per_instance = per_instance

    def bound(self, instances):
        return self.at_most * (instances if self.per_instance else 1)


class Skip:
    """A skip the harness accepts: TEST (an fnmatch pattern of the result's
    name without the boot's tag, e.g. "smmuv3_share/*" or "kunit/smmuv3-x/*")
    skipped with a reason matching REASON (a regex), in a boot WHERE says
    ({"topology": [...], "kernel": [...], "driver": [...]}, fnmatch patterns;
    a key left out matches any).  Every other skip is a FAIL: a skip is a
    claim that the feature is absent there, and this table is that claim.
    WHY says why it is absent."""

    def __init__(self, test, reason, why, where=None):
        self.test = test
        self.reason = re.compile(reason)
        self.why = why
        self.where = where or {}


def where_matches(where, boot):
    """Whether BOOT ({"topology": .., "kernel": .., "driver": ..}) is one of
    WHERE's."""
    return all(any(fnmatch.fnmatchcase(boot.get(k, ""), p) for p in pats)
               for k, pats in where.items())


# Errors provoked on purpose, by phase.  Faulting edu DMA: QEMU's edu
# moves its buffer through a failing translation 4 bytes at a time (an
# access to unassigned memory is split into accesses of at most 4 bytes,
# each translated again), and QEMU's SMMU records one F_TRANSLATION per
# failed translation: a faulting DMA of N bytes is N / 4 events, 1024 for
# a 4 KiB one (smmuv3_fault_storm counts on it; smmuv3_dma's 32 faulting
# 4 KiB DMAs per edu give exactly 32768).  A write or read of a device in
# a blocked domain (STE.Config abort) is terminated without an event (IHI
# 0070 5.2, STE.Config 0b000), so it counts 0.  Each event is a log line,
# ratelimited (10 per 5 s per call site, the rest counted in
# "smmuv3_handle_event: N callbacks suppressed"): lines are at most the
# events.  The bound of each program below is what its code provokes by
# construction, worked out beside it; a program that faults more than it
# means to fails.
_EVENT_LINE = r"event F_TRANSLATION \(0x10\) from "
_SUPPRESSED_EVENTS = r"smmuv3_handle_event: \d+ callbacks suppressed"
_VIOMMU_OPT_IN = r"vIOMMU without S2FWB: trusting viommu_assume_coherent"
_EVENTS_4K = 4096 // 4


def _faults(events, why, per_instance=False, where=None):
    """The declarations of a program whose edu DMA faults on purpose: at
    most EVENTS F_TRANSLATION events (PER_INSTANCE: for each SMMU instance
    of the topology, which has one edu behind it), and as many log lines."""
    return [Expect(log=_EVENT_LINE, counter="event F_TRANSLATION", at_most=events, why=why,
                   per_instance=per_instance, where=where),
            Expect(log=_SUPPRESSED_EVENTS, at_most=events, per_instance=per_instance,
                   why="the ratelimit's count of " + why, where=where)]


def _faults_per_topology(table, events, why):
    """_faults() per topology: TABLE [(topologies, events, which tests fault
    there)] gives the bound where some of the program's faulting tests skip
    (ALLOWED_SKIPS claims those skips), EVENTS (every faulting test run)
    holds on any other topology.  The first declaration that matches a boot
    is the one its lines and counters are counted against."""
    out = []
    for topos, n, what in table:
        out += _faults(n, "%s; on %s: %s" % (why, "/".join(topos), what),
                       where={"topology": topos})
    return out + _faults(events, why)


_DT1 = ["dt1", "dt1-page0", "dt1-alias"]


def _opt_in(why):
    """dev_warn_once() of the first vIOMMU on QEMU's SMMU (no S2FWB), which
    the tests allow with the viommu_assume_coherent parameter."""
    return [Expect(log=_VIOMMU_OPT_IN, at_most=1, why=why)]


EXPECTED_ERRORS = {
    # KUnit on the fake SMMU (module/tests/): every error path of the
    # driver is driven on purpose.  At most what the cases provoke: a
    # ratelimited message can only print fewer.
    "kunit": [
        Expect(log=r"\(NULL device \*\): command queue timeout: ", at_most=7,
               why="smmuv3-cmdq: CMD_SYNC timeouts of a queue nobody consumes; "
               "smmuv3-cmdq-errors: the second issue of the Tegra264 repeat waits for the "
               "first, which a stalled queue never completes"),
        Expect(log=r"\(NULL device \*\): command queue error: ", at_most=48,
               why="smmuv3-cmdq: commands the fake SMMU rejects (CERROR_ILL); "
               "smmuv3-cmdq-errors: a fetch abort (CERROR_ABT) and refused CFGI_STEs"),
        Expect(log=r"smmuv3_\w+: \d+ callbacks suppressed", at_most=32,
               why="the ratelimit's count of those"),
        Expect(log=r"\(NULL device \*\): (range )?invalidation failed \(-\d+\)", at_most=9,
               why="smmuv3-invalidate: invalidations that fail (-EIO, -ETIMEDOUT, -EINVAL), "
               "ranges retried whole"),
        Expect(log=r"\(NULL device \*\): (ASID|VMID) \d+ not freed: its flush failed",
               at_most=3, why="smmuv3-tags: a tag whose flush fails stays reserved"),
        Expect(log=r"vIOMMU VMID \d+: flush failed", at_most=1,
               why="smmuv3-viommu: a vIOMMU VMID whose flush fails"),
        Expect(log=r"smmuv3-platform\d+ \S+: no event queue interrupt", at_most=3,
               why="smmuv3-msi/-rmr: fake platform SMMUs without interrupts"),
        Expect(log=r"smmuv3-platform\d+ \S+: no global error interrupt", at_most=3,
               why="smmuv3-msi/-rmr: fake platform SMMUs without interrupts"),
        Expect(log=r"smmuv3-platform\d+ \S+: cannot allocate MSIs", at_most=1,
               why="smmuv3-msi: msi_alloc_fails"),
        Expect(log=r"IORT RMR stream 0x100 is beyond the stream table", at_most=1,
               why="smmuv3-rmr: rmr_sid_beyond_table"),
        Expect(log=r"stream ID 0x100 beyond the 8 bits of smmu0", at_most=1,
               why="smmuv3-master: streams_beyond_table"),
        Expect(log=r"stream ID 0x200 is also \S+'s on smmu0, and aliased stream IDs are not "
               r"supported", at_most=1, why="smmuv3-master: streams_two_masters_enodev"),
        Expect(log=_VIOMMU_OPT_IN, at_most=1, why="smmuv3-viommu: viommu_admission_opt_in"),
        Expect(log=r"smmuv3: IDR0.COHACC is \d but firmware describes the SMMU as "
               r"(non-)?coherent", at_most=4,
               why="smmuv3-features: features_coherent, firmware and COHACC disagreeing"),
        Expect(log=r"stream table at \S+ is not aligned to its size", at_most=3,
               why="smmuv3-strtab: strtab_misaligned (linear, two-level), "
               "strtab_l2_misaligned"),
        Expect(log=r"IORT RMR stream 0x[0-9a-f]+: no memory for its stream table", at_most=1,
               why="smmuv3-rmr: rmr_nomem_continues"),
        Expect(log=r"service failure mode: the SMMU stopped", at_most=1,
               why="smmuv3-cmdq-errors: gerror_sfm_fails_instance"),
        Expect(log=r"global error: ", at_most=6,
               why="smmuv3-cmdq-errors: the global errors gerror_* raise on purpose (2); "
               "smmuv3-stall: stall_term_after_lost_records and "
               "stall_term_none_after_stop, event queue write aborts (4)"),
    ],
    # dt1-alias: two devices behind one PCIe-to-PCI bridge share its alias;
    # the second is refused at each of its probes (the bus probe, its
    # driver's bind, the registration's look for devices it lost: 4 in
    # make check), and the log says why.
    "load": [
        Expect(log=r"stream ID 0x[0-9a-f]+ is also \S+'s on \S+, and aliased stream IDs are "
               r"not supported", at_most=6, where={"topology": ["dt1-alias"]},
               why="the aliased device is refused, as the kernel's driver refuses it"),
    ],
    # smmuv3_dma, per edu (region_cycle(): a write and a read of each
    # offset after the unmap; many_4k_mappings: a write into each of 2
    # holes, then a write and a read of MANY_SAMPLE / 2 = 8 sampled pages
    # after unmapping all): map_4k 1 offset = 2, map_64k 3 offsets = 6,
    # map_2m_hugepage 3 offsets = 6, many_4k_mappings 2 + 16 = 18; 32
    # faulting 4 KiB DMAs per edu, one edu behind each instance.
    "selftest/smmuv3_dma": _faults(32 * _EVENTS_4K, "DMA into unmapped IOVAs and holes "
                                   "must fault: 32 x 4 KiB per edu", per_instance=True),
    # smmuv3_share, edus A and B: shared_unmap_faults_on_both a write and a
    # read on each = 4; auto_domain_falls_back and
    # nest_parent_refuses_stage1_only_instance (dma_on_two_hwpts()) a write
    # on each = 2 each; detach_one_keeps_other writes through a blocked
    # device (no event); tags.* no faulting DMA.  8 x 4 KiB.
    "selftest/smmuv3_share": _faults_per_topology([
        (["acpi2", "acpi8"], 4 * _EVENTS_4K, "shared_unmap_faults_on_both only (the other "
         "two need instances with different stages)"),
        (["acpi2-mixed"], 6 * _EVENTS_4K, "shared_unmap_faults_on_both and "
         "nest_parent_refuses_stage1_only_instance (both instances have stage 1: no fall "
         "back)"),
        (["acpi2-s2s1"], 2 * _EVENTS_4K, "auto_domain_falls_back only (no stage in common: "
         "the shared tests skip)"),
        (_DT1, 0, "none (one instance: every test skips)")],
        8 * _EVENTS_4K, "both instances fault after an unmap: 8 x 4 KiB"),
    # smmuv3_type1, edus A and B: faults() is a write and a read = 2 per
    # edu; unmap_faults_on_both once on both = 4, remove_a_keeps_b and
    # remove_b_keeps_a once on both at their end = 4 each.  12 x 4 KiB.
    "selftest/smmuv3_type1": _faults_per_topology([
        (_DT1, 0, "none (one instance: every test skips)")],
        12 * _EVENTS_4K, "VFIO type1 unmap: both instances fault: 12 x 4 KiB"),
    # smmuv3_rmr: dma_domain_identity reads 4 KiB just after each RMR (the
    # control that must fault); qemu/iort.py gives acpi2-rmr 2 RMRs.
    "selftest/smmuv3_rmr": _faults_per_topology([
        (["acpi2"], 0, "none (no RMR in QEMU's IORT: the RMR tests skip)")],
        2 * _EVENTS_4K, "DMA after an RMR range must fault: one 4 KiB read per RMR, 2 RMRs") +
    _opt_in("the CANWBS vIOMMU case"),
    # smmuv3_stale: after the last generation gen_check_dropped() writes a
    # 4 KiB page (GEN_PAGE) through the unmapped IOVA on edus A and B, in
    # each of the 4 variants.  8 x 4 KiB.
    "selftest/smmuv3_stale": _faults_per_topology([
        (["acpi2-mixed"], 4 * _EVENTS_4K, "the shared and separate variants (the nested ones "
         "skip: instance 1 is stage 1 only)"),
        (["acpi2-s2s1"], 2 * _EVENTS_4K, "the separate variant (no stage in common, no "
         "nesting)")],
        8 * _EVENTS_4K, "the IOVA unmapped at the end: writes must fault: 4 variants x 2 "
        "edus x 4 KiB") +
    _opt_in("the nested variants' vIOMMUs"),
    # smmuv3_nesting: FAULT_LEN (64) bytes, 16 events, per faulting write:
    # fault_to_veventq 1, s2_fault_stays_host 2 (stage 2, then stage 1),
    # close_iommufd_alive 2 (one per child).  The events a vIOMMU gets are
    # counted under "event F_TRANSLATION" too.  5 x 16.
    "selftest/smmuv3_nesting": _faults_per_topology([
        (["acpi2-mixed"] + _DT1, 0, "none (no two instances with both stages: every test "
         "skips)")],
        5 * 64 // 4, "stage-1 and stage-2 faults of nested devices: 5 writes of 64 bytes") +
    _opt_in("vIOMMUs on QEMU's SMMU"),
    "selftest/smmuv3_fail_nth": _opt_in("the nested paths' vIOMMUs"),
    "selftest/smmuv3_fuzz": _opt_in("the vIOMMU case kinds"),
    # smmuv3_stress: every DMA goes through a mapped page, or through a
    # blocked device (detach: gen_check_dropped() while blocked, no
    # event).  No F_TRANSLATION.
    "selftest/smmuv3_stress": _opt_in("the nested variant's vIOMMU cycles"),
    # smmuv3_fault_storm: host_storm at most MAX_WINDOWS (24) windows of
    # STORM_DMAS (6) 4 KiB writes by each edu of the window's mask (3, 1,
    # 2 in turn: 4 edu-windows per 3 windows, 32 in 24) = 192 x 4 KiB, then
    # one 4-byte write per edu = 2 events; nested_storm 3 windows x 6 x 2
    # edus = 36 x 4 KiB, then one 4-byte stage-2 fault = 1 event.
    # QEMU writes the records of one DMA under its global lock, which the
    # guest's GERRORN and CONS writes also need: each faulting DMA raises
    # at most one GERROR.EVTQ_ABT_ERR toggle (a full queue; QEMU reports
    # it so) and one PROD.OVFLG toggle per instance: 231 DMAs.
    "selftest/smmuv3_fault_storm": _faults((192 + 36) * _EVENTS_4K + 3,
                                           "event-queue overflows on purpose: (192 + 36) x "
                                           "4 KiB and 3 x 4 bytes") +
    _opt_in("nested_storm's vIOMMU") + [
        Expect(log=r"global error: event queue write abort: events lost",
               counter="gerror_bit2", at_most=231,
               why="QEMU's SMMU reports a full event queue as GERROR.EVTQ_ABT_ERR: at most "
               "once per faulting DMA, 231"),
        Expect(log=r"event queue overflow: events lost", counter="events_lost",
               at_most=2 * 231,
               why="lost events: an overflow (PROD.OVFLG) or a write abort above, each at "
               "most once per faulting DMA"),
    ],
}

# Skips that are claims about the boot, checked: each says why.
ALLOWED_SKIPS = [
    # The upstream driver (--driver upstream, the stock kernels' built-in
    # arm-smmu-v3) lacks what the tests check of ours: its skips say so.
    # This covers /init's checks too (driver-load "built in?", iommu-group/*
    # on the stock 6.12 kernel): those boots are comparisons, not verdicts
    # on our driver.
    Skip("*", r".", "the kernel's own driver, for comparison only (its skips, /init's "
         "checks included)", where={"driver": ["upstream"]}),
    # One instance: nothing to compare or share across instances.
    Skip("smmuv3_topology/global.instances_disjoint", r"^1 instance\(s\): nothing to compare",
         "one SMMU", where={"topology": ["dt1", "dt1-page0", "dt1-alias"]}),
    Skip("smmuv3_share/share.*", r"needs edus behind two different SMMU instances",
         "one SMMU", where={"topology": ["dt1", "dt1-page0", "dt1-alias"]}),
    Skip("smmuv3_type1/type1.*", r"needs edus behind two different SMMU instances",
         "one SMMU", where={"topology": ["dt1", "dt1-page0", "dt1-alias"]}),
    Skip("smmuv3_nesting/nest.*", r"needs two SMMU instances with an edu behind each",
         "one SMMU", where={"topology": ["dt1", "dt1-page0", "dt1-alias"]}),
    Skip("smmuv3_stale/*", r"^needs edus behind two different SMMU instances", "one SMMU",
         where={"topology": ["dt1", "dt1-page0", "dt1-alias"]}),
    Skip("smmuv3_stress/*", r"^needs edus behind two different SMMU instances", "one SMMU",
         where={"topology": ["dt1", "dt1-page0", "dt1-alias"]}),
    # The topology-specific share tests: each needs the other kind of
    # topology, and says which.
    Skip("smmuv3_share/share.auto_domain_falls_back", r"needs instances with different stages "
         r"\(topology acpi2-s2s1\)", "both instances share a stage",
         where={"topology": ["acpi2", "acpi2-mixed", "acpi8"]}),
    Skip("smmuv3_share/share.nest_parent_refuses_stage1_only_instance",
         r"needs an instance that can nest \(stages 1 and 2\) and one without stage 2",
         "no stage-1-only instance beside a nesting one",
         where={"topology": ["acpi2", "acpi2-s2s1", "acpi8"]}),
    # No stage 2 on the edu's instance: dt1 (QEMU's default stage 1),
    # acpi2-s2s1 (instance 1 stage 1, instance 0 stage 2 only).
    Skip("smmuv3_share/tags.vmid.exhaustion", r"no edu behind an instance with both stages",
         "no instance with both stages", where={"topology": ["dt1", "dt1-page0", "dt1-alias", "acpi2-s2s1"]}),
    # fail-nth's edu behind dt1's stage-1 SMMU (make check runs it on acpi2
    # only; a dt1 boot asked for it runs the paths there are).
    Skip("smmuv3_fail_nth/fn.*", r"^\S+ \(behind \S+\) cannot nest \(.*\): not both stages$",
         "no stage 2", where={"topology": ["dt1", "dt1-page0", "dt1-alias"]}),
    Skip("smmuv3_fail_nth/fn.hwpt_alloc_nest_parent", r"^\S+ has no stage 2 ",
         "no stage 2", where={"topology": ["dt1", "dt1-page0", "dt1-alias"]}),
    # acpi2-mixed: instance 1 is stage 1 only.
    Skip("smmuv3_nesting/nest.*", r"^no nesting: \S+ \(in front of edu \S+\) has stage 1 yes, "
         r"stage 2 no", "instance 1 is stage 1 only", where={"topology": ["acpi2-mixed"]}),
    Skip("smmuv3_stale/stale.nested_*", r"^no nesting: \S+ \(in front of [AB]\) lacks stage 1 "
         r"or 2", "an instance without both stages",
         where={"topology": ["acpi2-mixed", "acpi2-s2s1"]}),
    Skip("smmuv3_stress/stress.nested.*", r"^no vIOMMU cycles: 1 of the 2 instances can use a "
         r"nesting parent", "instance 1 is stage 1 only", where={"topology": ["acpi2-mixed"]}),
    # acpi2-s2s1: no stage in common, so no domain can be shared.
    Skip("smmuv3_share/share.*", r"^A's domains are stage 2 .* which B's instance \S+ lacks",
         "no stage in common", where={"topology": ["acpi2-s2s1"]}),
    Skip("smmuv3_stale/stale.shared.generations", r"^the driver refuses B .* with EINVAL",
         "no stage in common: the driver must refuse", where={"topology": ["acpi2-s2s1"]}),
    # DPDK's EAL: IOVA as PA needs physical addresses, which it has only
    # for hugepages (rte_eal_init() refuses --no-huge with --iova-mode=pa).
    Skip("smmuv3_dpdk/dpdk.nohuge_pa.forward", r"^DPDK refuses IOVA as PA without hugepages",
         "DPDK itself refuses the combination"),
    # RMRs exist only where qemu/iort.py adds them (acpi2-rmr).
    Skip("smmuv3_rmr/rmr.*", r"^no RMR in the firmware", "QEMU's IORT has no RMR node",
         where={"topology": ["acpi2"]}),
    # Linux 6.12: linux/iommufd.h without the vIOMMU uAPI (the programs are
    # stand-ins, selftests/Makefile), no failslab in its config.
    Skip("*/test-1", r"linux/iommufd.h of this kernel has no IOMMU_VIOMMU_ALLOC",
         "Linux 6.12's uAPI has no vIOMMU", where={"kernel": ["6.12"]}),
    Skip("kunit/smmuv3-ats/canwbs_*", r"^the kernel has no IOMMU_FWSPEC_PCI_RC_CANWBS",
         "CANWBS came with Linux 6.14", where={"kernel": ["6.12"]}),
    Skip("smmuv3_lifecycle/life.load_fail_nth", r"^no failslab / fail-nth", "no fault injection in that kernel",
         where={"kernel": ["6.12", "stock-*"]}),
]
