#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Boot a guest kernel with EL2 (-M virt,virtualization=on) under TCG and
# report whether KVM initialises in it and can run a vCPU (kvm_probe.c).
#
#   selftests/kvm/kvm_boot.sh KBUILD KVM_PROBE [CPU] [CMDLINE...]
#
# KBUILD: a guest kernel build tree with CONFIG_KVM (the base kernel of
# qemu/config/clients.config); KVM_PROBE: kvm_probe built static against its
# uAPI; CPU: -cpu (default max: VHE; cortex-a57: nVHE).  Runs where
# qemu-system-aarch64 and busybox are (inside qemu/env.sh's chroot).  Device
# tree, one GICv3 with its ITS, no SMMU: only KVM is looked at.
set -euo pipefail
KB=${1:?usage: kvm_boot.sh KBUILD KVM_PROBE [CPU] [CMDLINE...]}
PROBE=${2:?usage: kvm_boot.sh KBUILD KVM_PROBE [CPU] [CMDLINE...]}
CPU=${3:-max}
shift $(($# < 3 ? $# : 3))
HERE=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

cat >"$TMP/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "kvm_boot: kernel $(uname -r), cmdline: $(cat /proc/cmdline)"
echo "kvm_boot: kernel log (kvm, hyp, EL2, GIC):"
dmesg | grep -i -e kvm -e hyp -e el2 -e gic -e vhe | sed 's/^/kvm_boot:   /'
if [ -e /dev/kvm ]; then echo "kvm_boot: /dev/kvm present"; else echo "kvm_boot: /dev/kvm absent"; fi
/kvm_probe
echo "kvm_boot: kvm_probe exit $?"
poweroff -f
INIT
chmod 755 "$TMP/init"
python3 "$HERE/qemu/initramfs.py" "$TMP/initrd.cpio.gz" /usr/bin/busybox=/bin/busybox \
	"$PROBE=/kvm_probe" "$TMP/init=/init" >/dev/null
timeout 900 qemu-system-aarch64 -M virt,gic-version=3,virtualization=on -cpu "$CPU" \
	-smp 2 -m 1G -display none -nodefaults -no-reboot -serial stdio \
	-kernel "$KB/arch/arm64/boot/Image" -initrd "$TMP/initrd.cpio.gz" \
	-append "console=ttyAMA0 panic=-1 $*"
