#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The end-to-end administrator test, inside the Debian 13 arm64 system
# (qemu/e2e.py puts this script into the image as
# /usr/local/sbin/smmuv3-e2e-steps and runs one step per boot through
# systemd.run=).  Each step does what an administrator would, and reports
# what it saw on the virtio console (/dev/hvc0, not behind an SMMU):
#
#   NAME=VALUE          one fact
#   >>> NAME ... <<<    a block of output (commands' output, messages)
#   E2E-DONE STEP       the step ran to its end
#
# qemu/e2e.py decides PASS or FAIL from these; nothing here judges.
#
#   install   (stock driver) apt install ./smmuv3-dkms_*.deb; enable refused
#             while the headers metapackage is missing
#   upgrade   (stock driver) enable; a second kernel without its headers:
#             enable refused; its headers: DKMS builds for it
#   lateload  upgrade's, booted with the built-in driver kept off on the
#             command line and smmuv3 not in the initramfs; then a file
#             written and synced, and smmuv3 loaded by hand: the late-load
#             message; power off without a clean shutdown.  Not in the chain:
#             on Debian's 6.12 the root disk behind the SMMU never probes in
#             that state (deferred probe pending), so no root file system
#   enabled   (the boot after enable) root through smmuv3; disable, purge
#   disabled  (the boot after disable and purge) the built-in driver is back
set -u

STEP=${1:?usage: smmuv3-e2e-steps install|upgrade|lateload|enabled|disabled}
TEST=/var/cache/smmuv3-test
PARAM=initcall_blacklist=arm_smmu_driver_init
export DEBIAN_FRONTEND=noninteractive

# The results channel: the virtio console (virtio-mmio, udev loads
# virtio_console for it).
n=0
while [ ! -c /dev/hvc0 ] && [ $n -lt 60 ]; do
	modprobe virtio_mmio 2>/dev/null
	modprobe virtio_console 2>/dev/null
	sleep 1
	n=$((n + 1))
done
exec 3>/dev/hvc0 || exec 3>/dev/console

fact() { printf '%s=%s\n' "$1" "$2" >&3; }
block() { # block NAME: stdin as a block
	printf '>>> %s\n' "$1" >&3
	cat >&3
	printf '<<< %s\n' "$1" >&3
}
# run NAME CMD...: run CMD, its output as block NAME, NAME_rc and NAME_s facts.
run() {
	name=$1
	shift
	t=$(date +%s)
	"$@" >/run/e2e.out 2>&1
	rc=$?
	tail -n 60 /run/e2e.out | block "$name"
	fact "${name}_rc" "$rc"
	fact "${name}_s" "$(($(date +%s) - t))"
	return $rc
}
smmu_drivers() { # each SMMUv3 platform device and its driver (none)
	for d in /sys/bus/platform/devices/arm-smmu-v3.*; do
		[ -e "$d" ] || continue
		if [ -L "$d/driver" ]; then
			drv=$(readlink "$d/driver")
			printf '%s:%s ' "${d##*/}" "${drv##*/}"
		else
			printf '%s:none ' "${d##*/}"
		fi
	done
}
root_facts() { # the root disk, its PCI function and its IOMMU group
	src=$(findmnt -no SOURCE /)
	fact root_source "$src"
	fact root_options "$(findmnt -no OPTIONS /)"
	blk=$(basename "$(readlink -f "$src")")
	pci=$(basename "$(readlink -f "/sys/block/$blk/device/..")")
	fact root_pci "$pci"
	if [ -L "/sys/bus/pci/devices/$pci/iommu_group" ]; then
		fact root_group "$(basename "$(readlink "/sys/bus/pci/devices/$pci/iommu_group")")"
	else
		fact root_group none
	fi
}
kernel_facts() {
	fact release "$(uname -r)"
	fact cmdline "$(cat /proc/cmdline)"
	fact smmu_drivers "$(smmu_drivers)"
	fact smmuv3_loaded "$([ -d /sys/module/smmuv3 ] && echo yes || echo no)"
	fact drives "$(dmesg | grep -o 'smmuv3 [^ ]*: drives [0-9]* of [0-9]*' | tail -n1)"
	fact initcall_blacklisted "$(dmesg | grep -c 'initcall arm_smmu_driver_init blacklisted')"
	dmesg | grep -iE 'smmu|initcall .*blacklisted|iommu' | tail -n 60 | block dmesg_smmu
}
initrd_has() { # initrd_has RELEASE: smmuv3.ko in its initramfs (count)
	lsinitramfs "/boot/initrd.img-$1" 2>/dev/null | grep -c '/smmuv3\.ko'
}
dkms_installed() { # dkms_installed RELEASE: yes/no
	if dkms status -m smmuv3 -k "$1" 2>/dev/null | grep -q ': installed'; then
		echo yes
	else
		echo no
	fi
}
grub_facts() { # the kernel parameter in GRUB's normal and recovery entries
	cfg=/boot/grub/grub.cfg
	fact grub_normal_param "$(grep -E '^\s*linux\s' "$cfg" 2>/dev/null |
		grep -vE ' (single|recovery)( |$)' | grep -c "$PARAM")"
	fact grub_normal_entries "$(grep -E '^\s*linux\s' "$cfg" 2>/dev/null |
		grep -vcE ' (single|recovery)( |$)')"
	fact grub_recovery_param "$(grep -E '^\s*linux\s' "$cfg" 2>/dev/null |
		grep -E ' (single|recovery)( |$)' | grep -c "$PARAM")"
}
# debs PART: the .debs of PART and of what they need (setup.sh), but not
# the metapackages (an upgrade of linux-image-arm64 would bring both parts
# at once), nor, for the image, the headers and their compiler.
debs() {
	ls "$TEST/$1"/*.deb
	# shellcheck disable=SC2010 # Debian package file names: no blanks
	ls "$TEST/$1-deps"/*.deb 2>/dev/null |
		grep -vE '/linux-(image|headers|modules|base)-arm64_' |
		if [ "$1" = image ]; then
			grep -vE '/linux-(headers|kbuild)-|-for-host_'
		else
			cat
		fi | awk -F/ -v part="$(ls "$TEST/$1")" \
			'BEGIN { n = split(part, p, "\n"); for (i = 1; i <= n; i++) have[p[i]] = 1 }
			 !have[$NF]++'
}
second() { # the second kernel's release, from its packages
	# shellcheck disable=SC2012 # globbed names of packages, kernels, files
	ls "$TEST"/image/linux-image-*.deb 2>/dev/null | sed -n 's|.*/linux-image-\([0-9][^_]*\)_.*|\1|p' | head -n1
}

fact step "$STEP"
kernel_facts
root_facts
t0=$(date +%s)

case $STEP in
install)
	cd "$TEST/pkg" || exit 1
	run apt_install apt-get install -y ./smmuv3-dkms_*.deb
	dkms status 2>&1 | block dkms_status
	fact dkms_running "$(dkms_installed "$(uname -r)")"
	fact initrd_running_smmuv3 "$(initrd_has "$(uname -r)")"
	smmuv3-ctl status 2>&1 | block status_installed
	# Unsafe: the headers metapackage missing.
	run remove_headers_meta dpkg -r linux-headers-arm64
	run enable_no_meta smmuv3-ctl enable
	fact cfg_after_refusal "$([ -e /etc/default/grub.d/smmuv3.cfg ] && echo yes || echo no)"
	run restore_headers_meta dpkg -i "$TEST"/meta/linux-headers-arm64_*.deb
	;;
upgrade|lateload)
	sec=$(second)
	fact second "$sec"
	run ctl_enable smmuv3-ctl enable
	grub_facts
	fact initrd_running_smmuv3 "$(initrd_has "$(uname -r)")"
	# A kernel upgrade without its headers: the kernel has no module.
	# shellcheck disable=SC2046 # file names without blanks
	run install_second_image apt-get install -y $(debs image)
	fact dkms_second_without_headers "$(dkms_installed "$sec")"
	run enable_no_module smmuv3-ctl enable
	# Its headers: DKMS builds for it, its initramfs gets the module.
	# shellcheck disable=SC2046
	run install_second_headers apt-get install -y $(debs headers)
	fact dkms_second "$(dkms_installed "$sec")"
	fact initrd_second_smmuv3 "$(initrd_has "$sec")"
	grub_facts
	smmuv3-ctl status 2>&1 | block status_enabled
	[ "$STEP" = lateload ] || { sync; fact step_s "$(($(date +%s) - t0))"; echo "E2E-DONE $STEP" >&3; exit 0; }
	# The late-load hazard: this boot's initramfs has no smmuv3 and the
	# built-in driver is off, so the root disk probed without an IOMMU.
	# A file written and synced before smmuv3 is loaded by hand.
	dd if=/dev/urandom of=/root/e2e-before-late-load bs=1M count=16 status=none
	sync
	fact late_data_sha "$(sha256sum /root/e2e-before-late-load | cut -d' ' -f1)"
	sync
	# What runs after the load must not need the disk: in the page cache.
	dmesg >/dev/null
	grep -c x /dev/null >/dev/null
	sleep 0
	head -n1 /dev/null
	modprobe smmuv3
	fact modprobe_rc $?
	dmesg | grep -E 'LATE LOAD|smmuv3 .*drives' | block late_load
	# A read from the disk now: it must fail or return the data, never
	# other data (O_DIRECT: from the disk, not the page cache).
	( dd if=/root/e2e-before-late-load iflag=direct bs=1M 2>/dev/null | sha256sum |
		cut -d' ' -f1 >/run/e2e-direct; echo finished >>/run/e2e-direct ) &
	n=0
	while [ $n -lt 20 ] && ! grep -q finished /run/e2e-direct 2>/dev/null; do
		sleep 1
		n=$((n + 1))
	done
	fact late_direct_read "$(head -n1 /run/e2e-direct 2>/dev/null || echo pending)"
	fact step_s "$(($(date +%s) - t0))"
	echo "E2E-DONE $STEP" >&3
	# No clean shutdown: the root disk's DMA is blocked.
	echo o >/proc/sysrq-trigger
	sleep 60
	;;
enabled)
	sec=$(second)
	fact late_data_sha_now "$(sha256sum /root/e2e-before-late-load 2>/dev/null | cut -d' ' -f1)"
	# shellcheck disable=SC2012 # globbed names of packages, kernels, files
	fact debugfs_smmuv3 "$(mount -t debugfs none /sys/kernel/debug 2>/dev/null; ls /sys/kernel/debug/smmuv3 2>/dev/null | tr '\n' ' ')"
	fact smmuv3_version "$(cat /sys/module/smmuv3/version 2>/dev/null)"
	# DMA through the root disk's translation: written, out of the page
	# cache, read back from the disk.
	dd if=/dev/urandom of=/root/e2e-dma bs=1M count=32 status=none
	fact dma_written "$(sha256sum /root/e2e-dma | cut -d' ' -f1)"
	sync
	echo 3 >/proc/sys/vm/drop_caches
	fact dma_read "$(sha256sum /root/e2e-dma | cut -d' ' -f1)"
	rm -f /root/e2e-dma
	smmuv3-ctl status 2>&1 | block status_running
	run disable smmuv3-ctl disable
	grub_facts
	fact initrd_running_smmuv3 "$(initrd_has "$(uname -r)")"
	# shellcheck disable=SC2012 # globbed names of packages, kernels, files
	fact initrd_first_smmuv3 "$(initrd_has "$(ls /boot/vmlinuz-* | sed 's|.*/vmlinuz-||' | sort -V | head -n1)")"
	run purge apt-get purge -y smmuv3-dkms
	dkms status 2>&1 | block dkms_status_purged
	fact modules_left "$(find /lib/modules /usr/lib/modules -name 'smmuv3.ko*' 2>/dev/null | wc -l)"
	fact initrd_running_smmuv3_purged "$(initrd_has "$(uname -r)")"
	# shellcheck disable=SC2012 # globbed names of packages, kernels, files
	fact cfg_left "$(ls /etc/default/grub.d/smmuv3.cfg /usr/sbin/smmuv3-ctl 2>/dev/null | wc -l)"
	;;
disabled)
	fact system_state "$(systemctl is-system-running 2>/dev/null)"
	;;
esac
sync
fact step_s "$(($(date +%s) - t0))"
echo "E2E-DONE $STEP" >&3
