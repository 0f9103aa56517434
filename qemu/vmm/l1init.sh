#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the VMM guest (L1), put over qemu/init.sh by qemu/vmm.py: load
# the IOMMU driver, give the virtio-blk behind each SMMU instance to
# vfio-pci and run Debian's QEMU (/vmm/usr/bin/qemu-system-aarch64) on KVM
# with one accelerated arm-smmuv3 per instance and those devices behind
# them, then check from smmuv3.ko's debugfs what the kernel made for it.
#
# Kernel command line (prefix smtest.):
#   smtest.driver=ours|upstream   which driver /modules/driver holds
#   smtest.vmm=stopped|l2         stopped: QEMU with -S, checked, quit;
#                                 l2: also boot the nested guest (L2) and
#                                 let it check its disks (/vmm/l2/)
#   smtest.l2timeout=S            kill the nested guest after S seconds
#   smtest.vmm_split=1            negative control: the second device in an
#                                 iommufd context of its own (two IOASes, so
#                                 two nesting parents: the one-parent checks
#                                 must fail)
#
# Results on /dev/hvc0 as qemu/init.sh writes them, read by qemu/results.py:
# "@@check ok|fail|skip NAME [# reason]", "@@begin info|kmemleak NAME" ...
# "@@end info|kmemleak NAME", "@@printk ...", "@@kmemleak ...", "@@done".
# The kernel console carries only the kernel's log and "smtest:" lines
# (results.py scans it for kernel reports): the nested guest's console is in
# the l2-console info section.

/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin /proc /sys /dev /tmp /run
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

DRIVER=ours STEP=stopped L2TIMEOUT=1800 SPLIT=0
for arg in $(cat /proc/cmdline); do
	case $arg in
	smtest.driver=*) DRIVER=${arg#*=} ;;
	smtest.vmm=*) STEP=${arg#*=} ;;
	smtest.l2timeout=*) L2TIMEOUT=${arg#*=} ;;
	smtest.vmm_split=*) SPLIT=${arg#*=} ;;
	esac
done

say() { echo "smtest: $*" >/dev/kmsg 2>/dev/null || echo "smtest: $*" >/dev/console; }
now() { cut -d' ' -f1 /proc/uptime; }
i=0
while [ ! -e /dev/hvc0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ -e /dev/hvc0 ]; then
	stty -F /dev/hvc0 raw -echo 2>/dev/null
	exec 3>/dev/hvc0
else
	exec 3>/dev/console
fi
res() { echo "$*" >&3; }
check() { # check ok|fail|skip NAME [reason]
	local st=$1 name=$2
	shift 2
	if [ $# -gt 0 ]; then res "@@check $st $name # $*"; else res "@@check $st $name"; fi
	say "$st $name${1:+: $*}"
}
info() { # info NAME CMD...
	local name=$1
	shift
	res "@@begin info $name"
	"$@" >/tmp/info.out 2>&1
	cat /tmp/info.out >&3
	# The end marker on a line of its own.
	[ -n "$(tail -c 1 /tmp/info.out)" ] && echo >&3
	res "@@end info $name"
}
finish() {
	res "@@done"
	sync
	say "done after $(now) s, powering off"
	poweroff -f
	sleep 10
}
DBG=/sys/kernel/debug/smmuv3
res "@@smtest mode=vmm driver=$DRIVER step=$STEP kernel=$(uname -r)"
res "@@printk $(cat /proc/sys/kernel/printk 2>/dev/null | tr -s '\t ' '  ') ignore_loglevel=$(cat /sys/module/printk/parameters/ignore_loglevel 2>/dev/null || echo N)"

# --- KVM: what QEMU's accel=on needs ----------------------------------
if [ -c /dev/kvm ]; then
	check ok l1-kvm
else
	check fail l1-kvm "no /dev/kvm: $(dmesg | grep -i kvm | tail -n3 | tr '\n' ' ')"
fi
info l1-kvm-log sh -c 'dmesg | grep -i -e kvm -e "hyp mode" -e vgic'

# --- The driver -------------------------------------------------------
failed=0
for m in /modules/driver/*.ko; do
	[ -e "$m" ] || continue
	insmod "$m" 2>/tmp/err || { failed=1; check fail driver-load "insmod ${m##*/}: $(cat /tmp/err)"; }
done
[ $failed = 0 ] && check ok driver-load

# The virtio-blk (1af4:1042) behind each instance, by its instance.
i=0
while [ $i -lt 60 ]; do
	n=0
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat $d/vendor):$(cat $d/device)" = 0x1af4:0x1042 ] && [ -e $d/iommu ] && n=$((n + 1))
	done
	[ $n -ge 2 ] && break
	sleep 1
	i=$((i + 1))
done
DEVS=
INSTS=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat $d/vendor):$(cat $d/device)" = 0x1af4:0x1042 ] || continue
	[ -e $d/iommu ] || continue
	inst=$(readlink $d/iommu)
	inst=${inst##*/}
	case " $INSTS " in *" $inst "*) continue ;; esac
	INSTS="$INSTS $inst"
	DEVS="$DEVS ${d##*/}"
done
set -- $DEVS
if [ $# -ge 2 ]; then
	check ok l1-devices "virtio-blk $DEVS behind$INSTS"
else
	check fail l1-devices "want a virtio-blk behind each of two instances, have '$DEVS' behind '$INSTS'"
	info lspci sh -c 'for d in /sys/bus/pci/devices/*; do echo ${d##*/} $(cat $d/vendor):$(cat $d/device) $(readlink $d/iommu); done'
	finish
fi

# To vfio-pci (the iommufd cdev).
VFIO_OK=1
for b in $DEVS; do
	d=/sys/bus/pci/devices/$b
	[ -e $d/driver ] && echo $b >$d/driver/unbind
	echo vfio-pci >$d/driver_override
	echo $b >/sys/bus/pci/drivers_probe
	[ "$(readlink $d/driver | sed 's,.*/,,')" = vfio-pci ] || VFIO_OK=0
done
if [ $VFIO_OK = 1 ]; then
	check ok l1-vfio-bind "$(ls /dev/vfio/devices | tr '\n' ' ')"
else
	check fail l1-vfio-bind "$(ls -l /dev/vfio/ /dev/vfio/devices 2>&1 | tr '\n' ' ')"
	finish
fi

snap() { # snap NAME: the driver's whole debugfs state
	info "$1" sh -c "cat $DBG/domains; for i in $DBG/*/; do [ -e \$i/stats ] || continue; echo \"== \$i\"; cat \$i/stats | grep -v ' 0\$'; cat \$i/streams; done"
}
[ -d $DBG ] && snap debugfs-before

KMEMLEAK=/sys/kernel/debug/kmemleak
if [ -w $KMEMLEAK ]; then
	# Only what the VMM's life leaves counts.
	echo scan >$KMEMLEAK
	echo clear >$KMEMLEAK
fi

# --- The VMM -----------------------------------------------------------
Q=/vmm/usr/bin/qemu-system-aarch64
export LD_LIBRARY_PATH=/vmm/usr/lib/aarch64-linux-gnu
info qemu-version $Q --version
info qemu-traces sh -c "$Q -trace help | grep -e iommufd -e smmuv3_accel | head -n 40"
set -- $DEVS
ARGS="-M virt,gic-version=3 -accel kvm -cpu host -smp 1 -m 512M -display none -nodefaults -no-reboot
 -bios /vmm/usr/share/qemu-efi-aarch64/QEMU_EFI.fd
 -object iommufd,id=iommufd0 -object iommufd,id=iommufd1
 -device pxb-pcie,id=pcie.1,bus_nr=8,bus=pcie.0
 -device arm-smmuv3,primary-bus=pcie.0,id=smmuv3.0,accel=on
 -device arm-smmuv3,primary-bus=pcie.1,id=smmuv3.1,accel=on
 -device pcie-root-port,id=rp0,bus=pcie.0,chassis=1
 -device vfio-pci,host=$1,bus=rp0,iommufd=iommufd0,rombar=0
 -device pcie-root-port,id=rp1,bus=pcie.1,chassis=2
 -device vfio-pci,host=$2,bus=rp1,iommufd=iommufd$SPLIT,rombar=0
 -serial file:/tmp/l2.console
 -chardev pipe,id=mon,path=/tmp/mon -mon chardev=mon,mode=readline
 -trace 'iommufd_backend*' -trace 'smmuv3_accel*' -trace 'iommufd_cdev*'"
if [ "$STEP" = l2 ]; then
	ARGS="$ARGS -kernel /vmm/l2/vmlinuz -initrd /vmm/l2/initrd.cpio.gz
 -append console=ttyAMA0,panic=-1"
	ARGS=$(echo "$ARGS" | sed 's/console=ttyAMA0,panic=-1/"console=ttyAMA0 panic=-1 printk.time=1"/')
else
	ARGS="$ARGS -S"
fi
mkfifo /tmp/mon.in /tmp/mon.out
# Keep the monitor's output drained, and its input open.
cat /tmp/mon.out >/tmp/mon.log &
MONR=$!
sleep 100000 >/tmp/mon.in &
HOLD=$!
# One line: eval would take each line for a command of its own.
ARGS=$(echo "$ARGS" | tr '\n' ' ')
echo "$Q $ARGS" >/tmp/qemu.cmd
info qemu-cmdline cat /tmp/qemu.cmd
t0=$(now)
# (exec: $! is QEMU itself, not a subshell waiting for it.)
eval "exec $Q $ARGS" >/tmp/qemu.log 2>&1 &
QPID=$!
# The monitor's input, without blocking if QEMU is gone.
mon() { timeout 10 sh -c "echo '$*' >/tmp/mon.in" || say "monitor: could not send $*"; }
qstate() { # what QEMU's threads are doing
	for t in /proc/$QPID/task/*; do
		echo "$(cat $t/comm 2>/dev/null) $(awk '{print $3}' $t/stat 2>/dev/null) $(cat $t/wchan 2>/dev/null)"
	done | sort | uniq -c | tr '\n' ';'
}

# QEMU is ready (devices realized, vIOMMUs and HWPTs made) when its
# monitor answers "info status": QEMU reads the monitor only from its main
# loop, which starts after every device is realized (its banner comes
# earlier).
i=0
while [ $i -lt 300 ]; do
	grep -q 'VM status' /tmp/mon.log && break
	kill -0 $QPID 2>/dev/null || break
	[ $((i % 30)) = 0 ] && say "waiting for QEMU ($i s): $(qstate) log $(wc -l </tmp/qemu.log) lines"
	mon "info status"
	sleep 3
	i=$((i + 3))
done
if kill -0 $QPID 2>/dev/null && grep -q 'VM status' /tmp/mon.log; then
	check ok vmm-start "QEMU up after $(awk "BEGIN{print $(now) - $t0}") s: $(grep 'VM status' /tmp/mon.log | head -n1)"
elif kill -0 $QPID 2>/dev/null; then
	check fail vmm-start "QEMU's monitor did not answer in $i s: $(qstate); $(grep -v '^iommufd\|^smmuv3\|^vfio' /tmp/qemu.log | tail -n 5 | tr '\n' ' ')"
	info qemu-log cat /tmp/qemu.log
	kill $QPID
	finish
else
	wait $QPID
	rc=$?
	check fail vmm-start "QEMU exited with $rc: $(grep -v '^iommufd\|^smmuv3\|^vfio' /tmp/qemu.log | tail -n 5 | tr '\n' ' ')"
	info qemu-log cat /tmp/qemu.log
	[ -d $DBG ] && snap debugfs-after
	finish
fi
info qemu-log-start cat /tmp/qemu.log
info monitor-start cat /tmp/mon.log

# --- What QEMU made (its iommufd trace): nesting parents (HWPTs allocated
# with IOMMU_HWPT_ALLOC_NEST_PARENT, flags bit 0, on the IOAS) and vIOMMUs
# (each names the parent it sits on).
parents=$(grep 'iommufd_backend_alloc_hwpt' /tmp/qemu.log | grep 'hwpt_type=0' |
	grep -E 'flags=0x[0-9a-f]*[13579bdf] ' | grep -c ' (0)$')
viommus=$(grep 'iommufd_backend_alloc_viommu' /tmp/qemu.log | grep -c ' (0)$')
# (An object ID is per iommufd file: the parent is the pair.)
vparents=$(grep 'iommufd_backend_alloc_viommu' /tmp/qemu.log | grep ' (0)$' |
	sed 's/.*iommufd=\([0-9]*\).*hwpt_id=\([0-9]*\).*/\1:\2/' | sort -u | wc -l)
what="QEMU: $parents nesting-parent HWPT(s), $viommus vIOMMU(s) on $vparents parent(s)"
res "@@info-line $what"
if [ "$DRIVER" = ours ]; then
	if [ "$parents" = 1 ] && [ "$viommus" = 2 ] && [ "$vparents" = 1 ]; then
		check ok vmm-qemu-one-parent "$what"
	else
		check fail vmm-qemu-one-parent "$what (want 1, 2 on 1)"
	fi
else
	# The kernel's arm_smmu_v3 refuses to attach a device to a domain of
	# another instance (-EINVAL): QEMU then allocates a parent for the
	# second device's SMMU, and puts that instance's vIOMMU on it.
	if [ "$parents" = 2 ] && [ "$viommus" = 2 ] && [ "$vparents" = 2 ]; then
		check ok vmm-qemu-two-parents "$what"
	else
		check fail vmm-qemu-two-parents "$what (want 2, 2 on 2: one parent per SMMU)"
	fi
fi

# --- What the kernel made for it (smmuv3.ko's debugfs) -----------------
if [ -d $DBG ]; then
	snap debugfs-vmm
	# The nesting parent: exactly one, used (a VMID) on every instance.
	np=$(grep -c 'nest-parent' $DBG/domains)
	awk '/^domain /{p = / nest-parent /} p && /^  / {print}' $DBG/domains >/tmp/parent.invs
	ninst=$(awk '($3 == 1 || $3 == 2) && $1 != "-" {print $1}' /tmp/parent.invs | sort -u | wc -l)
	nent=$(awk '($3 == 1 || $3 == 2) && $1 != "-"' /tmp/parent.invs | wc -l)
	set -- $INSTS
	if [ "$np" = 1 ] && [ "$ninst" = $# ] && [ "$nent" = $# ]; then
		check ok vmm-one-parent "one nesting parent, one VMID on each of $ninst instances: $(tr '\n' ';' </tmp/parent.invs)"
	else
		check fail vmm-one-parent "nest-parent domains: $np; its VMID entries: $nent on $ninst instances (want 1; $#, $#): $(tr '\n' ';' </tmp/parent.invs)"
	fi
	# Each vfio device's STE: stage 2 on (Config 0b110 while the vSMMU is
	# off or bypasses, 0b111 nested), the VMID of its instance's entry in
	# the parent's array.
	bad=
	seen=0
	for b in $DEVS; do
		for s in $DBG/*/streams; do
			line=$(grep " $b " $s | head -n1)
			[ -n "$line" ] || continue
			seen=$((seen + 1))
			inst=$(basename $(dirname $s))
			w0=$(echo "$line" | awk '{print $3}')
			w2=$(echo "$line" | awk '{print $5}')
			cfg=$(( (0x$w0 >> 1) & 7 ))
			vmid=$(( 0x$w2 & 0xffff ))
			want=$(awk -v i=$inst '$1 == i && ($3 == 1 || $3 == 2) {print $5}' /tmp/parent.invs | head -n1)
			say "$b on $inst: STE config $cfg vmid $vmid, parent entry vmid ${want:-none}"
			res "@@info-line $b $inst ste-config $cfg vmid $vmid parent-vmid ${want:-none}"
			[ "$vmid" = "$want" ] || bad="$bad $b:vmid$vmid!=${want:-none}"
			[ $cfg -ge 6 ] || bad="$bad $b:config$cfg"
		done
	done
	set -- $DEVS
	[ "$seen" = $# ] || bad="$bad STEs found for $seen of $# devices"
	if [ -z "$bad" ]; then check ok vmm-ste-vmid; else check fail vmm-ste-vmid "$bad"; fi
elif [ "$DRIVER" = ours ]; then
	check fail vmm-one-parent "no smmuv3 debugfs at $DBG (driver ours)"
else
	check skip vmm-one-parent "no smmuv3 debugfs (driver $DRIVER)"
fi

# --- The nested guest ---------------------------------------------------
stat_of() { # stat_of FILE NAME...: the sum of these counters
	local f=$1
	shift
	awk -v names=" $* " 'index(names, " " $(NF - 1) " ") && NF >= 2 {s += $NF} END {print s + 0}' "$f"
}
if [ "$STEP" = l2 ]; then
	for i in $DBG/*/stats; do
		[ -e "$i" ] && cat "$i" >"/tmp/before.$(basename $(dirname $i))"
	done
	i=0
	while kill -0 $QPID 2>/dev/null && [ $i -lt $L2TIMEOUT ]; do
		grep -q '@@l2 done' /tmp/l2.console 2>/dev/null && break
		sleep 5
		i=$((i + 5))
	done
	check ok l2-ran "$(awk "BEGIN{print $(now) - $t0}") s from QEMU start to L2's end (or timeout)"
	grep '@@l2 check' /tmp/l2.console | while read -r _ _ st name rest; do
		check "$st" "l2-$name" "$rest"
	done
	grep -q '@@l2 done' /tmp/l2.console || check fail l2-done "L2 did not finish in $L2TIMEOUT s"
	[ -d $DBG ] && snap debugfs-l2
	# What the guest's invalidations and the fault did on each instance.
	for i in $DBG/*/stats; do
		[ -e "$i" ] || continue
		inst=$(basename $(dirname $i))
		cat "$i" >/tmp/after.$inst
		# Stage-1 commands: L1 itself uses none (its vfio domains are
		# the stage-2 parent): these are the guest's, through the vIOMMU.
		s1="CFGI_CD CFGI_CD_ALL TLBI_NH_VA TLBI_NH_VAA TLBI_NH_ASID TLBI_NH_ALL"
		inv=$(( $(stat_of /tmp/after.$inst $s1) - $(stat_of /tmp/before.$inst $s1) ))
		err=$(( $(stat_of /tmp/after.$inst cmd_errors inv_failures cmd_timeouts) - $(stat_of /tmp/before.$inst cmd_errors inv_failures cmd_timeouts) ))
		ev=$(( $(stat_of /tmp/after.$inst events_to_guest) - $(stat_of /tmp/before.$inst events_to_guest) ))
		res "@@info-line $inst: guest stage-1 invalidations $inv, command errors $err, events to the guest $ev"
		if [ $inv -gt 0 ] && [ $err = 0 ]; then
			check ok l2-invalidations-$inst "$inv stage-1 invalidation commands issued for the guest, no command error"
		else
			check fail l2-invalidations-$inst "$inv stage-1 invalidation commands, $err errors"
		fi
		if [ $ev -gt 0 ]; then
			check ok l2-veventq-$inst "$ev events forwarded to the vIOMMU's vEVENTQ"
		else
			check fail l2-veventq-$inst "no event forwarded"
		fi
	done
fi

# --- Quit, and nothing left behind -------------------------------------
t1=$(now)
if [ "$STEP" = l2 ] && ! kill -0 $QPID 2>/dev/null; then
	wait $QPID
	check ok vmm-exit "QEMU exited (rc $?) on the nested guest's poweroff"
	QUIT=0
else
	QUIT=1
	mon quit
fi
i=0
while kill -0 $QPID 2>/dev/null && [ $i -lt 120 ]; do sleep 1; i=$((i + 1)); done
if [ $QUIT = 0 ]; then
	:
elif kill -0 $QPID 2>/dev/null; then
	check fail vmm-quit "QEMU still running 120 s after quit: $(qstate)"
	kill $QPID
	sleep 20
	kill -9 $QPID 2>/dev/null
else
	wait $QPID
	check ok vmm-quit "rc $? after $(awk "BEGIN{print $(now) - $t1}") s"
fi
kill $HOLD $MONR 2>/dev/null
info qemu-log cat /tmp/qemu.log
info monitor-log cat /tmp/mon.log
[ "$STEP" = l2 ] && info l2-console cat /tmp/l2.console
if [ -d $DBG ]; then
	sleep 1
	snap debugfs-after
	left=$(grep -c '^domain ' $DBG/domains)
	np=$(grep -c 'nest-parent' $DBG/domains)
	tags=$(cat $DBG/*/stats | awk '$1 == "vmids_used" || $1 == "vmids_leaked" || $1 == "asids_leaked" {s += $2} END {print s + 0}')
	if [ "$np" = 0 ] && [ "$tags" = 0 ]; then
		check ok vmm-teardown "no nesting parent and no VMID left; $left other domains (vfio's own detached)"
	else
		check fail vmm-teardown "after quit: $np nest-parent domains, VMIDs used+leaked $tags"
	fi
fi
if [ -w $KMEMLEAK ]; then
	# kmemleak reports objects older than 5 s (its minimum age), found
	# unreferenced by two scans.  results.py reads the section: a FAIL
	# kmemleak per object, else a PASS.
	sleep 6
	echo scan >$KMEMLEAK
	sleep 6
	echo scan >$KMEMLEAK
	if cat $KMEMLEAK >/tmp/leaks 2>/dev/null; then
		res "@@kmemleak active"
		res "@@begin kmemleak vmm"
		cat /tmp/leaks >&3
		res "@@end kmemleak vmm"
	else
		res "@@kmemleak disabled"
		check fail kmemleak "kmemleak refuses to scan: disabled"
	fi
else
	res "@@kmemleak absent"
	check skip kmemleak "the kernel has no kmemleak (the debug kernel has)"
fi
finish
