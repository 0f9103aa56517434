#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the nested guest (L2: Debian's stock kernel with its own
# arm-smmu-v3 driving the vSMMUs that QEMU gives it).  Checks that both
# vSMMUs probed, that each disk sits in a DMA-translated group, and writes
# and reads back data on every disk (the I/O goes through the guest's
# stage 1 and L1's nesting parent).  Results on the console:
# "@@l2 check ok|fail NAME [detail]", then "@@l2 done".

/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin /proc /sys /dev /tmp
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp

r() { echo "@@l2 $*"; }
now() { cut -d' ' -f1 /proc/uptime; }
r "check ok boot uptime $(now) s, kernel $(uname -r)"

n=$(ls /sys/class/iommu 2>/dev/null | wc -l)
if [ "$n" = 2 ]; then
	r "check ok vsmmus $(ls /sys/class/iommu | tr '\n' ' ')"
else
	r "check fail vsmmus $n IOMMUs: $(ls /sys/class/iommu | tr '\n' ' '); $(dmesg | grep -i smmu | tail -n 3 | tr '\n' ' ')"
fi
dmesg | grep -i -e smmu -e iommu | sed 's/^/@@l2 log /'

for m in /modules/*.ko; do
	insmod "$m" || r "check fail insmod ${m##*/}"
done
i=0
while [ "$(ls /sys/block | grep -c '^vd')" -lt 2 ] && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done

ok=0
for b in /sys/block/vd*; do
	[ -e "$b" ] || continue
	d=${b##*/}
	pci=$(readlink -f $b/device/.. 2>/dev/null)
	grp=$(readlink $pci/iommu_group 2>/dev/null)
	typ=$(cat $pci/iommu_group/type 2>/dev/null)
	inst=$(readlink $pci/iommu 2>/dev/null)
	r "log $d at ${pci##*/} group ${grp##*/} type $typ iommu ${inst##*/}"
	case $typ in
	DMA*) r "check ok $d-translated group ${grp##*/} $typ behind ${inst##*/}" ;;
	*) r "check fail $d-translated group type '$typ'" ;;
	esac
	# 4 MiB of random data through the page cache and the device, read
	# back after dropping the cache.
	dd if=/dev/urandom of=/tmp/$d.in bs=1M count=4 2>/dev/null
	t0=$(now)
	dd if=/tmp/$d.in of=/dev/$d bs=1M 2>/dev/null
	sync
	echo 3 >/proc/sys/vm/drop_caches
	dd if=/dev/$d of=/tmp/$d.out bs=1M count=4 2>/dev/null
	t1=$(now)
	a=$(md5sum </tmp/$d.in | cut -d' ' -f1)
	b2=$(md5sum </tmp/$d.out | cut -d' ' -f1)
	if [ -n "$a" ] && [ "$a" = "$b2" ]; then
		r "check ok $d-write-read 4 MiB written and read back equal (md5 $a) in $(awk "BEGIN{print $t1 - $t0}") s"
		ok=$((ok + 1))
	else
		r "check fail $d-write-read md5 written $a read $b2"
	fi
	rm -f /tmp/$d.in /tmp/$d.out
done
[ $ok -ge 2 ] && r "check ok disks $ok disks checked" || r "check fail disks only $ok disks checked"

# A deliberate fault behind each vSMMU: the disk's driver unbound (its
# domain, the default DMA domain, keeps no mapping), its virtio queue set
# up by hand (/dev/mem) with ring addresses nothing maps, then notified:
# the device's read of the ring fails translation in the guest's stage 1,
# and the event must come back to this kernel's event queue (the vSMMU's,
# through L1's vEVENTQ).
cfg8() { # cfg8 BDF OFFSET: one config-space byte, decimal
	od -An -tu1 -j "$2" -N1 /sys/bus/pci/devices/$1/config | tr -d ' '
}
cfg32() {
	od -An -tu4 -j "$2" -N4 /sys/bus/pci/devices/$1/config | tr -d ' '
}
bar() { # bar BDF N: the BAR's address
	sed -n "$(($2 + 1))p" /sys/bus/pci/devices/$1/resource | awk '{print $1}'
}
fault() {
	local bdf=$1 off common= notify= mult= t
	off=$(cfg8 $bdf 52)
	while [ "$off" -ne 0 ]; do
		if [ "$(cfg8 $bdf $off)" = 9 ]; then
			t=$(cfg8 $bdf $((off + 3)))
			a=$(( $(bar $bdf $(cfg8 $bdf $((off + 4)))) + $(cfg32 $bdf $((off + 8))) ))
			case $t in
			1) common=$a ;;
			2) notify=$a; mult=$(cfg32 $bdf $((off + 16))) ;;
			esac
		fi
		off=$(cfg8 $bdf $((off + 1)))
	done
	[ -n "$common" ] && [ -n "$notify" ] || { r "check fail fault-$bdf no virtio capabilities"; return; }
	echo $bdf >/sys/bus/pci/devices/$bdf/driver/unbind
	# Memory space and bus master on (the unbind turned bus master off).
	printf '\006\000' | dd of=/sys/bus/pci/devices/$bdf/config bs=1 seek=4 count=2 conv=notrunc 2>/dev/null
	devmem $((common + 0x14)) 8 0
	devmem $((common + 0x14)) 8 1
	devmem $((common + 0x14)) 8 3
	devmem $((common + 0x08)) 32 1
	devmem $((common + 0x0c)) 32 3      # VERSION_1, ACCESS_PLATFORM
	devmem $((common + 0x08)) 32 0
	devmem $((common + 0x0c)) 32 0
	devmem $((common + 0x14)) 8 11
	devmem $((common + 0x16)) 16 0
	devmem $((common + 0x20)) 32 0xdead0000
	devmem $((common + 0x24)) 32 0
	devmem $((common + 0x28)) 32 0xdead1000
	devmem $((common + 0x2c)) 32 0
	devmem $((common + 0x30)) 32 0xdead2000
	devmem $((common + 0x34)) 32 0
	devmem $((common + 0x1c)) 16 1
	devmem $((common + 0x14)) 8 15
	noff=$(devmem $((common + 0x1e)) 16)
	r "log fault $bdf: status $(devmem $((common + 0x14)) 8), notify at $((notify + noff * mult))"
	devmem $((notify + noff * mult)) 16 0
}
# One device at a time, the next after the kernel's event-log ratelimit
# (10 reports per 5 s, shared by all instances) has passed.
nf=0
for b in /sys/block/vd*; do
	[ -e "$b" ] || continue
	pci=$(readlink -f $b/device/..)
	bdf=${pci##*/}
	# The platform device of the vSMMU the disk sits behind: its name
	# starts the kernel's event report.
	smmu=$(readlink -f /sys/class/iommu/$(readlink $pci/iommu | sed 's,.*/,,')/device)
	smmu=${smmu##*/}
	fault $bdf
	i=0
	while [ $i -lt 30 ]; do
		dmesg | grep -q "$smmu: event: F_TRANSLATION client: $bdf .*iova: 0xdead" && break
		sleep 1
		i=$((i + 1))
	done
	dmesg | grep -A1 "$smmu: event: F_TRANSLATION client: $bdf" | head -n 2 | sed 's/^/@@l2 log /'
	if dmesg | grep -q "$smmu: event: F_TRANSLATION client: $bdf .*iova: 0xdead"; then
		r "check ok fault-$bdf F_TRANSLATION at 0xdead.... reported by $smmu (the device's vSMMU) after $i s"
		nf=$((nf + 1))
	else
		r "check fail fault-$bdf no F_TRANSLATION for $bdf from $smmu in 30 s: $(dmesg | grep 'event: ' | tail -n 2 | tr '\n' ' ')"
	fi
	# Quiesce it (bus master off): QEMU's virtio device retries the
	# ring, and its events would use up the kernel's ratelimit, shared by
	# all instances, before the next device's show.
	printf '\000\000' | dd of=/sys/bus/pci/devices/$bdf/config bs=1 seek=4 count=2 conv=notrunc 2>/dev/null
	sleep 6
done
grep -i evtq /proc/interrupts | sed 's/^/@@l2 log /'
[ $nf -ge 2 ] && r "check ok fault-events on $nf vSMMUs" || r "check fail fault-events only $nf devices' faults reported"
r "done uptime $(now) s"
sync
poweroff -f
