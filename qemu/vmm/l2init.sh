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
dmesg | grep -i -e smmu -e 'event' | tail -n 20 | sed 's/^/@@l2 log /'
r "done uptime $(now) s"
sync
poweroff -f
