#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the test guest (busybox ash).  Built into the initramfs by
# qemu/run.py; see the README for the whole flow.
#
# Options come from the kernel command line (prefix "smtest.", not
# "smmuv3.", which the kernel would hand to our module as parameters):
#   smtest.mode=check|demo|stock|bench  what to do (default check)
#   smtest.driver=ours|upstream|stock-dkms
#   smtest.topology=NAME          passed to the selftests
#   smtest.instances=N            SMMU instances expected in /sys/class/iommu
#   smtest.settle=S               wait at most S seconds for iommu groups (90)
#   smtest.testtimeout=S          kill a selftest binary after S seconds (600)
#   smtest.kmemleak_baseline=1    kmemleak scan + clear before loading the driver
#   smtest.bench=ARG,ARG          bench mode: /bench/smmuv3_bench's arguments
#   smtest.bench_prog=NAME        bench mode: run /bench/NAME instead
#   smtest.tests=NAME,NAME        run only these selftests (default: tests.list)
#   smtest.kunit=0                do not load the KUnit suites
#   smtest.aliased=N              N PCI devices share a stream ID with another
#                                 device: each must be left without an IOMMU
#                                 group, with the driver's message saying so
#   smtest.unbound_nogroup=1      a PCI device with no driver may have no
#                                 IOMMU group (a kernel whose bus probe leaves
#                                 DMA configuration to the driver bind, with a
#                                 driver that does not make up for it)
#   smtest.stress_duration=S      smmuv3_stress runs S seconds (SMMUV3_STRESS_DURATION)
#   smtest.fuzz=CASES[,SECONDS]   smmuv3_fuzz: cases and time bound (SMMUV3_FUZZ_*)
#   smtest.rmr=BDF,BASE,LEN,TYPE  the IORT RMR that qemu/iort.py added (SMMUV3_RMR)
#   smtest.canwbs=1               the IORT root complex has CANWBS (SMMUV3_CANWBS)
#   smtest.mode=acpidump          only write the IORT and DSDT in hex (qemu/iort.py)
#
# Initramfs layout (made by run.py):
#   /modules/pre/NN-*.ko     loaded first (stock kernel: virtio_mmio, ...)
#   /modules/driver/NN-*.ko  the IOMMU driver under test and its dependencies
#   /modules/kunit/NN-*.ko   KUnit modules (results read from debugfs)
#   /selftests/tests.list    selftest binaries, one per line
#   /data.bin                data written to and read back from each disk
#   /bench/smmuv3_bench      the benchmark (bench mode only)
#
# Results go to the virtio console /dev/hvc0 (a file on the host), never to
# the kernel console, in this line format (parsed by run.py):
#   @@check ok|fail|skip NAME [# reason]
#   @@begin KIND NAME ... @@end KIND NAME [rc=N]   KIND: kunit selftest info kmemleak bench
#                                                  stats build
#   @@phase NAME                  what runs from here on (also "smtest: phase NAME"
#                                 on the kernel log, so that run.py can tell
#                                 which test a kernel message belongs to)
#   @@kmemleak active|absent|disabled|off
#   @@printk LEVELS ignore_loglevel=Y|N   /proc/sys/kernel/printk (run.py fails a
#                                 boot whose console level hides warnings)
#   @@done
# Nothing this script prints to the kernel console may look like a kernel
# report (run.py scans the console for those).

/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin /proc /sys /dev /tmp /run
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

MODE=check DRIVER=ours TOPOLOGY=unknown INSTANCES=1 SETTLE=90 TESTTIMEOUT=600 KMEMLEAK_BASELINE=0
BENCH= BENCH_PROG=smmuv3_bench ONLY= KUNIT=1 UNBOUND_NOGROUP=0 FUZZ= ALIASED=0
for arg in $(cat /proc/cmdline); do
	case $arg in
	smtest.mode=*) MODE=${arg#*=} ;;
	smtest.driver=*) DRIVER=${arg#*=} ;;
	smtest.topology=*) TOPOLOGY=${arg#*=} ;;
	smtest.instances=*) INSTANCES=${arg#*=} ;;
	smtest.settle=*) SETTLE=${arg#*=} ;;
	smtest.testtimeout=*) TESTTIMEOUT=${arg#*=} ;;
	smtest.kmemleak_baseline=*) KMEMLEAK_BASELINE=${arg#*=} ;;
	smtest.bench=*) BENCH=$(echo "${arg#*=}" | tr , ' ') ;;
	smtest.bench_prog=*) BENCH_PROG=${arg#*=} ;;
	smtest.tests=*) ONLY=$(echo "${arg#*=}" | tr , ' ') ;;
	smtest.kunit=*) KUNIT=${arg#*=} ;;
	smtest.unbound_nogroup=*) UNBOUND_NOGROUP=${arg#*=} ;;
	smtest.aliased=*) ALIASED=${arg#*=} ;;
	smtest.stress_duration=*) export SMMUV3_STRESS_DURATION=${arg#*=} ;;
	smtest.fuzz=*) FUZZ=${arg#*=} ;;
	smtest.rmr=*) export SMMUV3_RMR=${arg#*=} ;;
	smtest.canwbs=*) export SMMUV3_CANWBS=${arg#*=} ;;
	esac
done

# Progress on the kernel log (with its timestamps; printk.devkmsg=on).
say() { echo "smtest: $*" >/dev/kmsg 2>/dev/null || echo "smtest: $*" >/dev/console; }
now() { cut -d' ' -f1 /proc/uptime; }

# Modules that must come first (on the stock kernel virtio_mmio, without
# which there is no result channel).
PRE_FAILED=
for m in /modules/pre/*.ko; do
	[ -e "$m" ] || continue
	if ! insmod "$m" 2>/tmp/err; then
		say "insmod $m failed: $(cat /tmp/err)"
		PRE_FAILED="$PRE_FAILED ${m##*/}: $(cat /tmp/err);"
	fi
done

# The result channel.
i=0
while [ ! -e /dev/hvc0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ -e /dev/hvc0 ]; then
	stty -F /dev/hvc0 raw -echo 2>/dev/null
	exec 3>/dev/hvc0
else
	say "no /dev/hvc0: results go to the console"
	exec 3>/dev/console
fi

res() { echo "$*" >&3; }
check() { # check ok|fail|skip NAME [reason]
	local st=$1 name=$2
	shift 2
	if [ $# -gt 0 ]; then res "@@check $st $name # $*"; else res "@@check $st $name"; fi
	say "$st $name${1:+: $*}"
}
begin() { res "@@begin $*"; }
end() { res "@@end $*"; }
info() { # info NAME CMD...: CMD's output as an info section
	local name=$1
	shift
	begin info "$name"
	"$@" >&3 2>&1
	end info "$name"
}
finish() {
	res "@@done"
	sync
	say "done after $(now) s, powering off"
	poweroff -f
	sleep 10
}

res "@@smtest mode=$MODE driver=$DRIVER topology=$TOPOLOGY instances=$INSTANCES kernel=$(uname -r)"
# The console log level: below 5 the driver's warnings never reach the
# console that run.py reads (quiet, loglevel= on the command line).
res "@@printk $(cat /proc/sys/kernel/printk 2>/dev/null | tr -s '\t ' '  ') ignore_loglevel=$(cat /sys/module/printk/parameters/ignore_loglevel 2>/dev/null || echo N)"
# The modules the boot needs before the driver (the stock kernels' virtio
# and VFIO modules): one that does not load fails the boot, not only the
# tests that would need it.
if [ -n "$PRE_FAILED" ]; then
	check fail pre-load "$PRE_FAILED"
elif [ -n "$(ls /modules/pre 2>/dev/null)" ]; then
	check ok pre-load
fi

# What runs from now on, on the result channel and the kernel log.
phase() {
	res "@@phase $1"
	say "phase $1"
}
# Every instance's debugfs counters (smmuv3.ko's; nothing for a driver
# without them), after each phase: run.py checks the error counters that
# grew in each phase against what the tests of that phase declare.
stats() {
	[ -d /sys/kernel/debug/smmuv3 ] || return 0
	begin stats "$1"
	for s in /sys/kernel/debug/smmuv3/*/stats; do
		[ -e "$s" ] || continue
		d=${s%/stats}
		echo "instance ${d##*/}"
		cat "$s"
	done >&3 2>&1
	end stats "$1"
}
say "mode=$MODE driver=$DRIVER topology=$TOPOLOGY expecting $INSTANCES SMMU instance(s)"

# QEMU's own ACPI tables, for qemu/iort.py to edit; nothing else.
if [ "$MODE" = acpidump ]; then
	for t in IORT DSDT; do
		begin info "acpi-$t"
		od -An -v -tx1 /sys/firmware/acpi/tables/$t >&3 2>&1
		end info "acpi-$t"
	done
	finish
fi

KMEMLEAK=/sys/kernel/debug/kmemleak
if [ -w $KMEMLEAK ] && [ "$KMEMLEAK_BASELINE" = 1 ]; then
	# Forget what boot itself leaked (or seems to): only what happens from
	# here on is reported.
	echo scan >$KMEMLEAK
	echo clear >$KMEMLEAK
	say "kmemleak baseline taken"
fi

# --- The IOMMU driver under test ---------------------------------------
phase load
t0=$(now)
loaded=0 failed=0
for m in /modules/driver/*.ko; do
	[ -e "$m" ] || continue
	if insmod "$m" 2>/tmp/err; then
		loaded=$((loaded + 1))
	else
		failed=1
		check fail driver-load "insmod ${m##*/}: $(cat /tmp/err)"
	fi
done
if [ $failed = 0 ]; then
	if [ $loaded -gt 0 ]; then check ok driver-load; else check skip driver-load "no module (built in?)"; fi
fi
# The features this build of smmuv3.ko has (module/compat-probe.sh's
# findings, module/compat.c): run.py checks them against what the kernel
# provides.
if [ -e /sys/kernel/debug/smmuv3/build ]; then
	begin build smmuv3
	cat /sys/kernel/debug/smmuv3/build >&3 2>&1
	end build smmuv3
fi

# Did the driver refuse PCI device $1 for a stream ID another device has,
# and say so?  Ours: "stream ID ... aliased stream IDs are not supported";
# the kernel's arm-smmu-v3: "Aliasing StreamID ... unsupported".
alias_refused() {
	[ "$ALIASED" -gt 0 ] || return 1
	dmesg | grep -q -e " $1: stream ID .*aliased stream IDs are not supported" \
		-e " $1: Aliasing StreamID .* unsupported"
}

# Wait until every PCI device has an IOMMU group (deferred probing of the
# devices behind the SMMUs resolved), at most $SETTLE seconds.
pci_missing() {
	local d n=0
	for d in /sys/bus/pci/devices/*; do
		[ -e "$d" ] || continue
		[ -e "$d/iommu_group" ] && continue
		[ "$UNBOUND_NOGROUP" = 1 ] && [ ! -e "$d/driver" ] && continue
		alias_refused "${d##*/}" && continue
		n=$((n + 1))
	done
	echo $n
}
i=0
while [ "$(pci_missing)" != 0 ] && [ $i -lt $((SETTLE * 5)) ]; do
	sleep 0.2
	i=$((i + 1))
done
settled=$(now)
res "@@settle seconds=$(echo "$t0 $settled" | awk '{printf "%.1f", $2 - $1}')"

n=0
for d in /sys/class/iommu/*; do [ -e "$d" ] && n=$((n + 1)); done
if [ "$n" = "$INSTANCES" ]; then
	check ok iommu-instances
else
	check fail iommu-instances "$n in /sys/class/iommu, expected $INSTANCES: $(ls /sys/class/iommu | tr '\n' ' ')"
fi

# One check per PCI device: it must be in a group and linked to an IOMMU,
# or be one of the $ALIASED devices refused for an aliased stream ID.
used="" aliased=0
for d in /sys/bus/pci/devices/*; do
	[ -e "$d" ] || continue
	bdf=${d##*/}
	id=$(cat $d/vendor):$(cat $d/device)
	case $id in
	0x1234:0x11e8) kind=edu ;;
	0x1af4:0x1042 | 0x1af4:0x1001) kind=virtio-blk ;;
	0x1b36:0x000c) kind=root-port ;;
	0x1b36:0x0008) kind=host-bridge ;;
	0x1b36:0x000b) kind=pxb ;;
	*) kind=pci-${id//0x/} ;;
	esac
	if [ ! -e $d/iommu_group ] && [ "$UNBOUND_NOGROUP" = 1 ] && [ ! -e $d/driver ]; then
		check skip "iommu-group/$kind-$bdf" "no driver and no iommu_group: this kernel configures a device's DMA only when a driver binds it, and driver $DRIVER does not do it before"
		continue
	fi
	if [ ! -e $d/iommu_group ] && alias_refused $bdf; then
		aliased=$((aliased + 1))
		check ok "iommu-group/$kind-$bdf" "no group: refused for an aliased stream ID, as the kernel log says ($(dmesg | grep -m1 -o -e " $bdf: stream ID [^,]*" -e " $bdf: Aliasing StreamID [^,]*"))"
		continue
	fi
	if [ ! -e $d/iommu_group ]; then
		drv=$(readlink $d/driver 2>/dev/null)
		# Bound without a group: the iommu core's ACPI probe race (README).
		check fail "iommu-group/$kind-$bdf" "no iommu_group after ${SETTLE}s${drv:+; bound to ${drv##*/} without one, i.e. bound before the IOMMU probed it}"
		continue
	fi
	iommu=$(readlink $d/iommu 2>/dev/null)
	iommu=${iommu##*/}
	if [ -z "$iommu" ]; then
		check fail "iommu-group/$kind-$bdf" "group $(readlink $d/iommu_group | sed 's,.*/,,') but no iommu link"
		continue
	fi
	case " $used " in *" $iommu "*) ;; *) used="$used $iommu" ;; esac
	check ok "iommu-group/$kind-$bdf"
done
if [ "$ALIASED" -gt 0 ]; then
	if [ $aliased = "$ALIASED" ]; then
		check ok aliased-refused
	else
		check fail aliased-refused "$aliased device(s) refused for an aliased stream ID, expected $ALIASED"
	fi
fi
nused=$(echo $used | wc -w)
if [ "$nused" = "$INSTANCES" ]; then
	check ok iommu-instances-used
else
	check fail iommu-instances-used "PCI devices use $nused instance(s) ($used), expected $INSTANCES"
fi

# --- What the driver set up, for the log and the human ------------------
show_iommus() {
	local i d g
	for i in /sys/class/iommu/*; do
		[ -e "$i" ] || continue
		echo "${i##*/} -> $(readlink -f $i)"
		for d in $i/devices/*; do
			[ -e "$d" ] || continue
			g=$(readlink $d/iommu_group)
			g=${g##*/}
			echo "    ${d##*/}  group $g  $(cat /sys/kernel/iommu_groups/$g/type 2>/dev/null)  driver $(readlink $d/driver | sed 's,.*/,,')"
		done
	done
}
info iommus show_iommus
info iomem grep -i -e smmu -e 'pcie@' -e 'PCI ECAM' /proc/iomem
info interrupts sh -c 'head -1 /proc/interrupts; grep -i -e smmu -e gerr -e evtq -e eventq -e priq -e sync /proc/interrupts'
info dmesg-smmu sh -c 'dmesg | grep -i -e smmu -e iommu -e iort | grep -v smtest:'
# What the firmware says about the SMMUs: the device tree nodes, or the IORT.
fw_smmu() {
	local c n
	for c in $(find /sys/firmware/devicetree/base/ -name compatible 2>/dev/null); do
		grep -q 'arm,smmu-v3' $c 2>/dev/null || continue
		n=${c%/compatible}
		echo "${n#/sys/firmware/devicetree/base}:"
		for p in $n/*; do
			case ${p##*/} in
			interrupt-names | compatible) echo "  ${p##*/} = $(tr '\0' ' ' <$p)" ;;
			name) ;;
			*) echo "  ${p##*/} = $(hexdump -v -e '4/1 "%02x" " "' $p)" ;;
			esac
		done
	done
	[ -e /sys/firmware/acpi/tables/IORT ] && hexdump -C /sys/firmware/acpi/tables/IORT
}
info firmware-smmu fw_smmu
stats load

selftest_env() {
	export SMMUV3_TOPOLOGY=$TOPOLOGY SMMUV3_EXPECT_INSTANCES=$INSTANCES
	export SMMUV3_UNBOUND_NOGROUP=$UNBOUND_NOGROUP
	case $DRIVER in
	ours | stock-dkms) export SMMUV3_DRIVER=ours ;;
	*) export SMMUV3_DRIVER=$DRIVER ;;
	esac
	if [ -n "$FUZZ" ]; then
		export SMMUV3_FUZZ_CASES=${FUZZ%%,*}
		case $FUZZ in *,*) export SMMUV3_FUZZ_SECONDS=${FUZZ#*,} ;; esac
	fi
}

# --- Selftests: /selftests/tests.list in order (only $ONLY if given) ------
run_selftests() {
	[ -e /selftests/tests.list ] || return 0
	selftest_env
	cd /selftests || return 0
	while read -r t; do
		t=${t##*/}
		[ -n "$t" ] || continue
		if [ -n "$ONLY" ] && ! echo " $ONLY " | grep -q " $t "; then
			say "selftest $t not run on this topology (smtest.tests=$ONLY)"
			continue
		fi
		phase "selftest/$t"
		begin selftest "$t"
		if [ -x "./$t" ]; then
			timeout -s KILL "$TESTTIMEOUT" "./$t" >&3 2>&1
			rc=$?
		else
			echo "# $t: not in the initramfs" >&3
			rc=127
		fi
		end selftest "$t" "rc=$rc"
		stats "selftest/$t"
	done </selftests/tests.list
	cd /
}

# --- Bench mode: the benchmark instead of the tests -----------------------
if [ "$MODE" = bench ]; then
	selftest_env
	say "bench: $BENCH_PROG $BENCH"
	begin bench "$BENCH_PROG"
	# shellcheck disable=SC2086 # BENCH is a list of arguments
	timeout -s KILL "$TESTTIMEOUT" "/bench/$BENCH_PROG" $BENCH >&3 2>&1
	rc=$?
	end bench "$BENCH_PROG" "rc=$rc"
	# The selftests named by smtest.tests, if any (make bench's stock
	# boots: the VFIO type1 test says how many domains type1 made).
	[ -n "$ONLY" ] && run_selftests
	finish
fi

# --- I/O through each virtio-blk disk -----------------------------------
phase blk-io
for b in /sys/block/vd*; do
	[ -e "$b" ] || continue
	dev=${b##*/}
	pci=$(readlink -f $b/device | sed -n 's,.*/\([0-9a-f]*:[0-9a-f]*:[0-9a-f]*\.[0-9a-f]\)/virtio[0-9]*$,\1,p')
	iommu=$(readlink /sys/bus/pci/devices/$pci/iommu 2>/dev/null | sed 's,.*/,,')
	ts=$(now)
	if dd if=/data.bin of=/dev/$dev bs=64k conv=fsync 2>/tmp/err &&
		blockdev --flushbufs /dev/$dev &&
		dd if=/dev/$dev of=/tmp/readback bs=64k count=$(($(wc -c </data.bin) / 65536)) 2>>/tmp/err &&
		cmp -s /data.bin /tmp/readback; then
		te=$(now)
		check ok "blk-io/$dev" "$(wc -c </data.bin) bytes written and read back via $pci on ${iommu:-no IOMMU} in $(echo "$ts $te" | awk '{printf "%.2f", $2 - $1}')s"
	else
		check fail "blk-io/$dev" "via $pci: $(tail -n2 /tmp/err | tr '\n' ' ')"
	fi
	rm -f /tmp/readback
done

stats blk-io

# --- KUnit ---------------------------------------------------------------
phase kunit
[ "$KUNIT" = 0 ] && say "KUnit not loaded on this topology (smtest.kunit=0)"
for m in /modules/kunit/*.ko; do
	[ -e "$m" ] && [ "$KUNIT" != 0 ] || continue
	n=${m##*/}
	n=${n#[0-9][0-9]-}
	if insmod "$m" 2>/tmp/err; then
		check ok "kunit-load/${n%.ko}"
	else
		check fail "kunit-load/${n%.ko}" "$(cat /tmp/err)"
	fi
done
for r in /sys/kernel/debug/kunit/smmuv3*/results; do
	[ -e "$r" ] || continue
	s=${r%/results}
	begin kunit "${s##*/}"
	cat "$r" >&3
	end kunit "${s##*/}"
done
stats kunit

# --- Selftests -----------------------------------------------------------
run_selftests

# --- Leaks ---------------------------------------------------------------
# kmemleak reports no object younger than its minimum age (MSECS_MIN_AGE,
# 5 s in mm/kmemleak.c): wait that long after the last test, so that what
# the last test leaked is old enough to be reported.  Two scans: an object
# whose contents changed since the previous scan is not reported yet.  A
# kmemleak that disabled itself (out of memory for its metadata, an error)
# refuses the scan with EPERM: that is reported, not taken for no leak.
phase kmemleak
if [ ! -e $KMEMLEAK ]; then
	res "@@kmemleak absent"
elif ! echo scan 2>/dev/null >$KMEMLEAK; then
	res "@@kmemleak disabled"
	say "kmemleak refuses to scan: disabled"
else
	say "kmemleak: waiting out the minimum object age, then two scans"
	sleep 6
	if echo scan 2>/dev/null >$KMEMLEAK && echo scan 2>/dev/null >$KMEMLEAK; then
		res "@@kmemleak active"
		begin kmemleak all
		cat $KMEMLEAK >&3
		end kmemleak all
	else
		res "@@kmemleak disabled"
		say "kmemleak refuses to scan: disabled"
	fi
fi
phase end
stats end

finish
