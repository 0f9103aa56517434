#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# dma_map_bench.sh [SECONDS]: the kernel's streaming DMA benchmark
# (CONFIG_DMA_MAP_BENCHMARK, /sys/kernel/debug/dma_map_benchmark, driven by
# tools/dma/dma_map_benchmark built from the guest kernel's source as
# /bench/dma_map_benchmark) on the edu behind the first IOMMU instance.
#
# A group in an identity domain never reaches the IOMMU driver, so the
# edu's group is switched first: to "DMA" (strict: every unmap invalidates
# at once) and to "DMA-FQ" (unmaps invalidated in batches from a flush
# queue).  For each: the edu is bound to the benchmark's driver
# (driver_override), which maps and unmaps in kernel threads without any
# DMA by the device: single mode (one page per map) and scatter-gather mode
# (8 one-page entries per map), 1 and 2 threads, SECONDS each (default 2).
# The group type and the edu's binding are restored at the end.
#
# Output (qemu/bench.py reads it): the program's own lines prefixed "# ",
#   bench dma_map instance=I domain=T mode=M granule=G threads=N map_us=.. map_sd=..
#         unmap_us=.. unmap_sd=..
#   # error: ...     (the run then fails)
set -u
SECONDS_PER=${1:-2}
PROG=/bench/dma_map_benchmark
DBG=/sys/kernel/debug/dma_map_benchmark
DRV=/sys/bus/pci/drivers/dma_map_benchmark
PCI=/sys/bus/pci/devices
rc=0

err() { echo "# error: $*"; rc=1; }

# The edu (1234:11e8) behind the first instance, by instance name.
edu= inst=
for d in $PCI/*; do
	[ "$(cat $d/vendor):$(cat $d/device)" = 0x1234:0x11e8 ] || continue
	i=$(readlink $d/iommu 2>/dev/null) || continue
	i=${i##*/}
	if [ -z "$inst" ] || [ "$i" \< "$inst" ]; then
		edu=${d##*/} inst=$i
	fi
done
if [ -z "$edu" ]; then
	err "no edu behind an IOMMU instance"
	exit 1
fi
[ -x $PROG ] || { err "no $PROG"; exit 1; }
g=$(readlink $PCI/$edu/iommu_group)
g=${g##*/}
from=$(cat /sys/kernel/iommu_groups/$g/type)
echo "# edu $edu behind $inst, group $g ($from), $SECONDS_PER s per run"

unbind() {
	[ -e $PCI/$edu/driver ] && echo $edu >$PCI/$edu/driver/unbind
	echo >$PCI/$edu/driver_override
}

settype() {
	unbind
	echo "$1" >/sys/kernel/iommu_groups/$g/type 2>/tmp/dmb.err
	got=$(cat /sys/kernel/iommu_groups/$g/type)
	[ "$got" = "$1" ] || { err "group $g: wrote $1, reads $got ($(cat /tmp/dmb.err))"; return 1; }
}

for dom in DMA DMA-FQ; do
	settype $dom || continue
	echo dma_map_benchmark >$PCI/$edu/driver_override
	echo $edu >/sys/bus/pci/drivers_probe
	drv=$(readlink $PCI/$edu/driver 2>/dev/null)
	if [ "${drv##*/}" != dma_map_benchmark ] || [ ! -e $DBG ]; then
		err "$edu did not bind to dma_map_benchmark (driver ${drv##*/}, $DBG $([ -e $DBG ] && echo present || echo missing))"
		continue
	fi
	# With smmuv3.ko: the domain the group got, from its debugfs.
	if [ -e /sys/kernel/debug/smmuv3/domains ]; then
		grep -B1 "$inst" /sys/kernel/debug/smmuv3/domains | sed 's/^/# smmuv3 domains: /' | tail -n 4
	fi
	for mode in 0 1; do
		case $mode in 0) m=single gran=1 ;; 1) m=sg gran=8 ;; esac
		for t in 1 2; do
			out=$($PROG -t $t -s $SECONDS_PER -m $mode -g $gran 2>&1)
			st=$?
			echo "$out" | sed 's/^/# /'
			if [ $st != 0 ]; then
				err "dma_map_benchmark -t $t -m $mode -g $gran on $dom: exit $st"
				continue
			fi
			echo "$out" | awk -v inst="$inst" -v dom="$dom" -v m=$m -v g=$gran -v t=$t '
				/average map latency/ { mu = $0; sub(/.*\(us\):/, "", mu); ms = mu; sub(/ .*/, "", mu); sub(/.*deviation:/, "", ms) }
				/average unmap latency/ { uu = $0; sub(/.*\(us\):/, "", uu); us = uu; sub(/ .*/, "", uu); sub(/.*deviation:/, "", us) }
				END {
					if (mu == "" || uu == "") { print "# error: no latencies in the output"; exit 1 }
					printf "bench dma_map instance=%s domain=%s mode=%s granule=%s threads=%s map_us=%s map_sd=%s unmap_us=%s unmap_sd=%s\n", inst, dom, m, g, t, mu, ms, uu, us
				}' || rc=1
		done
	done
done
unbind
echo "$from" >/sys/kernel/iommu_groups/$g/type 2>/dev/null ||
	err "group $g: could not restore $from"
exit $rc
