#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Build-time feature probes of the kernel the module is built against.
#
#   compat-probe.sh SRCTREE OUTDIR
#
# SRCTREE is Kbuild's $(srctree): the kernel source tree, or for Debian's
# split header packages the linux-headers-*-common directory.  Only the
# headers are read (grep/awk, no compiler), so this works with both.
#
# Writes OUTDIR/smmuv3_features.h (only when its contents change, so that
# nothing is rebuilt needlessly): "#define SMMUV3_HAVE_<NAME> 1" for each
# interface found, 0 for each one missing (so that C code may test them
# with #if and in expressions), and prints the <NAME>s found on stdout for Kbuild, which
# selects objects with them.  include/smmuv3/compat.h is the only reader of
# the header; see there what the driver does without each interface.
#
# Every probe is named after the interface it detects and says which
# mainline release introduced it.  No probe looks at a version number.
set -eu

src=$1
out=$2
inc=$src/include
found=
missing=

have() {
	found="$found $1"
}

lack() {
	missing="$missing $1"
}

# The body of "struct NAME {" in FILE on one line, blanks squeezed.
struct_body() {
	awk -v s="struct $2 {" 'index($0, s) == 1 { p = 1 } p { print } p && /^};/ { exit }' \
		"$1" 2>/dev/null | tr '\t\n' '  ' | tr -s ' '
}

# probe NAME FILE ERE: the file matches the extended regex.
probe() {
	if grep -Eq -- "$3" "$inc/$2" 2>/dev/null; then
		have "$1"
	else
		lack "$1"
	fi
}

# probe_struct NAME FILE STRUCT ERE: the struct's body matches the regex.
probe_struct() {
	if struct_body "$inc/$2" "$3" | grep -Eq -- "$4"; then
		have "$1"
	else
		lack "$1"
	fi
}

# --- iommu core (include/linux/iommu.h) ----------------------------------

# iommu_ops.domain_alloc_paging_flags(dev, flags, user_data): paging domains
# for the DMA API and iommufd from one op.  Linux 6.13.
probe_struct IOMMU_DOMAIN_ALLOC_PAGING_FLAGS linux/iommu.h iommu_ops \
	'\(\*domain_alloc_paging_flags\)'

# iommu_ops.domain_alloc_user(dev, flags, parent, user_data): iommufd's
# HWPT allocation before domain_alloc_paging_flags.  Linux 6.6 to 6.13.
probe_struct IOMMU_DOMAIN_ALLOC_USER linux/iommu.h iommu_ops \
	'\(\*domain_alloc_user\)'

# iommu_domain_ops.attach_dev(domain, dev, old): the core passes the domain
# the device is attached to now.  Linux 6.18.
probe_struct IOMMU_ATTACH_DEV_OLD linux/iommu.h iommu_domain_ops \
	'\(\*attach_dev\)\( ?struct iommu_domain \*[a-z_]*, ?struct device \*[a-z_]*, ?struct iommu_domain \*'

# iommu_ops.get_viommu_size() and viommu_init(): vIOMMUs allocated by the
# core and set up by the driver.  Linux 6.17.
probe_struct IOMMU_VIOMMU_INIT linux/iommu.h iommu_ops \
	'\(\*get_viommu_size\).*\(\*viommu_init\)'

# iommu_ops.hw_info(dev, length, enum iommu_hw_info_type *type), the type
# being an input (IOMMU_HW_INFO_TYPE_DEFAULT or a requested one).  Linux 6.17.
probe_struct IOMMU_HW_INFO_TYPE_REQUEST linux/iommu.h iommu_ops \
	'\(\*hw_info\)\([^)]*enum iommu_hw_info_type \*'

# IOMMU_FWSPEC_PCI_RC_CANWBS: firmware (IORT) says the root complex's
# accesses are coherent and cacheable (CANWBS).  Linux 6.14.
probe IOMMU_FWSPEC_PCI_RC_CANWBS linux/iommu.h \
	'define[[:space:]]+IOMMU_FWSPEC_PCI_RC_CANWBS'

# IOMMU_CAP_PCI_ATS_SUPPORTED: the core asks whether a device may use ATS.
# Linux 6.17.
probe IOMMU_CAP_PCI_ATS_SUPPORTED linux/iommu.h \
	'IOMMU_CAP_PCI_ATS_SUPPORTED,'

# --- PCI (include/linux/pci-ats.h) -----------------------------------------

# pci_ats_required(): devices that need ATS to work at all (CXL.cache).
# Linux 7.2.
probe PCI_ATS_REQUIRED linux/pci-ats.h 'bool pci_ats_required\('

# --- io-pgtable (include/linux/io-pgtable.h) ------------------------------

# IO_PGTABLE_QUIRK_ARM_S2FWB: stage-2 tables in the FWB attribute format.
# Linux 6.14.
probe IO_PGTABLE_QUIRK_ARM_S2FWB linux/io-pgtable.h \
	'define[[:space:]]+IO_PGTABLE_QUIRK_ARM_S2FWB'

# --- iommufd, in-kernel (include/linux/iommufd.h) -------------------------

# iommufd_viommu_ops.vdevice_init() and iommufd_vdevice_to_device().
# Linux 6.17.
probe_struct IOMMUFD_VDEVICE_INIT linux/iommufd.h iommufd_viommu_ops \
	'\(\*vdevice_init\)'

# iommufd_viommu_report_event(): forwarding events to a vEVENTQ.  Linux 6.15.
probe IOMMUFD_VIOMMU_REPORT_EVENT linux/iommufd.h \
	'int iommufd_viommu_report_event\('

# --- iommufd, uapi (include/uapi/linux/iommufd.h) -------------------------

# IOMMU_HW_INFO_TYPE_ARM_SMMUV3 and struct iommu_hw_info_arm_smmuv3.
# Linux 6.14.
probe IOMMU_HW_INFO_TYPE_ARM_SMMUV3 uapi/linux/iommufd.h \
	'IOMMU_HW_INFO_TYPE_ARM_SMMUV3[[:space:]]*='

# IOMMU_HW_INFO_ARM_SMMUV3_ERRATA_REPEAT_TLBI_CFGI: a hw_info flag telling
# user space to issue its TLBI/CFGI + CMD_SYNC twice (erratum T264-SMMU-3).
# Linux 7.1.
probe IOMMU_HW_INFO_ARM_SMMUV3_ERRATA_REPEAT_TLBI_CFGI uapi/linux/iommufd.h \
	'IOMMU_HW_INFO_ARM_SMMUV3_ERRATA_REPEAT_TLBI_CFGI[[:space:]]*='

# IOMMU_HWPT_DATA_ARM_SMMUV3: nested domains from a guest STE.  Linux 6.14.
probe IOMMU_HWPT_DATA_ARM_SMMUV3 uapi/linux/iommufd.h \
	'IOMMU_HWPT_DATA_ARM_SMMUV3[[:space:]]*='

# IOMMU_VIOMMU_TYPE_ARM_SMMUV3 and IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3.
# Linux 6.14.
probe IOMMU_VIOMMU_TYPE_ARM_SMMUV3 uapi/linux/iommufd.h \
	'IOMMU_VIOMMU_TYPE_ARM_SMMUV3[[:space:]]*='

# IOMMU_VEVENTQ_TYPE_ARM_SMMUV3 and struct iommu_vevent_arm_smmuv3.
# Linux 6.15.
probe IOMMU_VEVENTQ_TYPE_ARM_SMMUV3 uapi/linux/iommufd.h \
	'IOMMU_VEVENTQ_TYPE_ARM_SMMUV3[[:space:]]*='

# IOMMU_HWPT_ALLOC_PASID: iommufd domains meant for PASIDs.  Linux 6.14.
probe IOMMU_HWPT_ALLOC_PASID uapi/linux/iommufd.h \
	'IOMMU_HWPT_ALLOC_PASID[[:space:]]*='

# --- modules (include/linux/module.h) -------------------------------------

# MODULE_IMPORT_NS("NS"): namespaces are string literals.  Linux 6.13.
probe MODULE_IMPORT_NS_STRING linux/module.h \
	'define MODULE_IMPORT_NS\(ns\)[[:space:]]+MODULE_INFO\(import_ns, ns\)'

# --- Derived: what the driver builds from the interfaces above ------------

has() {
	case " $found " in *" $1 "*) return 0 ;; esac
	return 1
}

# vIOMMUs, vdevices, nested domains, guest invalidations and vEVENTQs
# (module/iommufd.c, module/nested.c) need all of these.
viommu=VIOMMU
for f in IOMMU_VIOMMU_INIT IOMMUFD_VDEVICE_INIT IOMMUFD_VIOMMU_REPORT_EVENT \
	 IOMMU_HWPT_DATA_ARM_SMMUV3 IOMMU_VIOMMU_TYPE_ARM_SMMUV3 \
	 IOMMU_VEVENTQ_TYPE_ARM_SMMUV3 IO_PGTABLE_QUIRK_ARM_S2FWB; do
	has "$f" || viommu=
done
if [ -n "$viommu" ]; then have VIOMMU; else lack VIOMMU; fi

# IOMMU_GET_HW_INFO with our type (module/hw_info.c).
if has IOMMU_HW_INFO_TYPE_ARM_SMMUV3 && has IOMMU_HW_INFO_TYPE_REQUEST; then
	have HW_INFO
else
	lack HW_INFO
fi

# --- Output ---------------------------------------------------------------

mkdir -p "$out"
tmp=$out/.smmuv3_features.h.$$
{
	echo "/* Generated by module/compat-probe.sh from $inc: do not edit. */"
	echo "#ifndef SMMUV3_FEATURES_H"
	echo "#define SMMUV3_FEATURES_H"
	for f in $found; do
		echo "#define SMMUV3_HAVE_$f 1"
	done
	for f in $missing; do
		echo "#define SMMUV3_HAVE_$f 0"
	done
	echo "#endif"
} >"$tmp"
if cmp -s "$tmp" "$out/smmuv3_features.h"; then
	rm -f "$tmp"
else
	mv -f "$tmp" "$out/smmuv3_features.h"
fi
echo $found
