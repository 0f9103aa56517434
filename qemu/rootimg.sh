#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A Debian 13 arm64 root filesystem for the end-to-end administrator test
# (a real system: Debian's stock kernel, its own initramfs-tools initramfs,
# smmuv3-dkms installed with apt).  Runs inside qemu/env.sh's chroot:
#
#   qemu/rootimg.sh build      stage 1: debootstrap --foreign of the packages
#                              below into a directory, plus the .debs of a
#                              second kernel and its headers (and of the
#                              headers metapackage) in /var/cache/smmuv3-test
#                              for the test to install offline.
#                              Stage 2: debootstrap --second-stage and
#                              qemu/e2e-guest/setup.sh, chrooted into the
#                              arm64 tree under qemu-user (binfmt_misc), then
#                              the tree into an ext4 image: $DIR/rootfs.img,
#                              marked by $DIR/.complete.
#                              Prints KEY=, DIR=, KERNEL= (the release
#                              installed), SECOND= (the second kernel's) and
#                              ROOTFS= when done, or IMAGE= (the stage-1
#                              image) and STAGE2=guest when binfmt_misc
#                              cannot be used (or SMMUV3_NO_BINFMT is set):
#                              qemu/rootimg.py then runs stage 2 in a guest.
#
# Everything is cached in $SMMUV3_CACHE/rootimg/KEY, KEY a hash of this
# script (the package list is in it) and of the setup script; the package
# versions that went in are in $DIR/manifest.  The archive address is the
# chroot's own (never written into the repo).
set -euo pipefail

CACHE=${SMMUV3_CACHE:-/var/cache/smmuv3}
HERE=$(cd "$(dirname "$0")" && pwd)
SETUP=$HERE/e2e-guest/setup.sh
KEY=$(cat "$HERE/rootimg.sh" "$SETUP" | sha256sum | cut -c1-16)
DIR=$CACHE/rootimg/$KEY
# The installed kernel series (the image's linux-image-arm64 is trixie's)
# and the second kernel, from trixie-backports, whose headers the test
# installs to see DKMS build for it.
SECOND_SERIES=7.3
IMAGE_MB=4096
# What a server with the package needs, and what the test uses: the stock
# kernel and its headers metapackage, initramfs-tools, DKMS and a compiler
# (the headers pull gcc), GRUB's update-grub (the command line is read from
# the grub.cfg it writes: the test boots the kernel directly), udev, systemd.
PACKAGES=(
	linux-image-arm64 linux-headers-arm64 initramfs-tools dkms kmod udev
	systemd-sysv grub2-common e2fsprogs mokutil ca-certificates
	pciutils zstd
)
apt_opt=-oAPT::Sandbox::User=root

log() { echo "rootimg: $*" >&2; }

mirror() {
	awk '/^deb /{print $2; exit}' /etc/apt/sources.list
}

# shellcheck source=qemu/ensure.sh
. "$HERE/ensure.sh"

newest() { # newest REGEX: the newest package name matching REGEX
	apt-cache search --names-only "$1" | awk '{print $1}' | sort -V | tail -n1
}

# Stage 1: the packages downloaded and unpacked (not configured) into
# $DIR/tree, and the .debs the test installs offline.
stage1() {
	local root=$DIR/tree second kernel p
	[ -e "$DIR/.stage1" ] && [ -d "$root" ] && return 0
	ensure debootstrap e2fsprogs
	rm -rf "$DIR"
	mkdir -p "$DIR"
	log "debootstrap --foreign --arch=arm64 trixie (${PACKAGES[*]})"
	debootstrap --foreign --arch=arm64 --variant=minbase \
		--include="$(IFS=,; echo "${PACKAGES[*]}")" \
		trixie "$root" "$(mirror)" >"$DIR/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$DIR/debootstrap.log" >&2; exit 1; }
	# The kernel release the image gets (unpacked by the second stage).
	kernel=$(find "$root/var/cache/apt/archives" -name 'linux-image-[0-9]*-arm64_*.deb' \
		-printf '%f\n' | sed 's/^linux-image-\(.*-arm64\)_.*/\1/' | sort -V | tail -n1)
	[ -n "$kernel" ] || { log "no linux-image-*-arm64 downloaded"; exit 1; }
	# The second kernel: image and headers, for an offline apt install;
	# headers/ apart from the image's packages, so that the test can
	# install the kernel first and its headers later.
	second=$(newest "^linux-headers-${SECOND_SERIES//./\\.}\\.[0-9]+\\+[a-z0-9]+-arm64\$")
	[ -n "$second" ] || { log "no linux-headers-$SECOND_SERIES.*-arm64"; exit 1; }
	second=${second#linux-headers-}
	mkdir -p "$root/var/cache/smmuv3-test/image" "$root/var/cache/smmuv3-test/headers" \
		"$root/var/cache/smmuv3-test/meta"
	(cd "$root/var/cache/smmuv3-test/headers" &&
		apt-get download -q=2 $apt_opt "linux-headers-$second:arm64" \
			"linux-headers-${second%-arm64}-common" "linux-kbuild-${second%-arm64}:arm64" >&2)
	for p in linux-binary-"$second" linux-modules-"$second" linux-base-"$second" \
		 linux-image-"$second"; do
		if apt-cache show "$p:arm64" >/dev/null 2>&1; then
			(cd "$root/var/cache/smmuv3-test/image" &&
				apt-get download -q=2 $apt_opt "$p:arm64" >&2)
		fi
	done
	# The headers metapackage, to put back after the test removes it.
	cp "$root"/var/cache/apt/archives/linux-headers-arm64_*.deb "$root/var/cache/smmuv3-test/meta/"
	# What the second stage configures, for the record.
	(cd "$root/var/cache/apt/archives" && ls ./*.deb) | sed 's|^\./||' >"$DIR/manifest"
	(cd "$root/var/cache/smmuv3-test" && ls ./*/*.deb) | sed 's|^\./|test: |' >>"$DIR/manifest"
	cat >"$root/etc/apt/sources.list" <<-EOF2
	deb $(mirror) trixie main
	deb $(mirror) trixie-backports main
	EOF2
	echo "smmuv3-e2e" >"$root/etc/hostname"
	echo "LABEL=root / ext4 errors=remount-ro 0 1" >"$root/etc/fstab"
	install -m 755 "$SETUP" "$root/root/smmuv3-setup.sh"
	printf 'KERNEL=%s\nSECOND=%s\n' "$kernel" "$second" >"$DIR/.stage1"
}

# The tree into an ext4 image (file systems of the tree unmounted).
mkimage() { # mkimage OUT
	log "mke2fs: ${IMAGE_MB} MB image"
	rm -f "$1"
	truncate -s "${IMAGE_MB}M" "$1"
	mke2fs -q -t ext4 -L root -d "$DIR/tree" "$1"
}

BINFMT=/proc/sys/fs/binfmt_misc
BINFMT_NAME=smmuv3-rootimg-aarch64
# AArch64 ELF executables (e_ident and e_machine = EM_AARCH64, 183), as
# qemu's scripts/qemu-binfmt-conf.sh describes them.
BINFMT_MAGIC='\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00'
BINFMT_MASK='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'

binfmt_off() {
	[ -e "$BINFMT/$BINFMT_NAME" ] && echo -1 >"$BINFMT/$BINFMT_NAME"
	return 0
}

# Register qemu-aarch64 (static) for arm64 executables, F: opened now, so
# that it runs inside the arm64 tree, where the path does not exist.
binfmt_on() {
	[ -z "${SMMUV3_NO_BINFMT:-}" ] || return 1
	if [ ! -e "$BINFMT/register" ]; then
		mount -t binfmt_misc binfmt_misc "$BINFMT" 2>/dev/null || return 1
	fi
	[ -w "$BINFMT/register" ] || return 1
	ensure qemu-user
	binfmt_off
	echo ":$BINFMT_NAME:M::$BINFMT_MAGIC:$BINFMT_MASK:/usr/bin/qemu-aarch64:F" \
		>"$BINFMT/register" 2>/dev/null || return 1
	trap binfmt_off EXIT
	# Does it run?
	chroot "$DIR/tree" /bin/true 2>/dev/null || { binfmt_off; return 1; }
}

# Stage 2 under qemu-user: configure every package, then the setup.
stage2_binfmt() {
	local t rc=0 root=$DIR/tree
	binfmt_on || return 3
	t=$(date +%s)
	log "stage 2: debootstrap --second-stage chrooted under qemu-user"
	install -m 755 "$SETUP" "$root/root/smmuv3-setup.sh"
	# The second stage removes /debootstrap when it succeeds: a failed
	# setup is then run again alone.
	# shellcheck disable=SC2016 # the inner script expands its own arguments
	unshare -m --propagation unchanged -- /bin/sh -c '
		r=$1
		mount -t proc proc "$r/proc" && mount -t sysfs sys "$r/sys" &&
		mount --bind /dev "$r/dev" && mount --bind /dev/pts "$r/dev/pts" || exit 1
		{ [ ! -d "$r/debootstrap" ] || chroot "$r" /debootstrap/debootstrap --second-stage; } &&
		chroot "$r" /bin/sh /root/smmuv3-setup.sh; rc=$?
		umount -l "$r/dev/pts" "$r/dev" "$r/sys" "$r/proc" 2>/dev/null
		exit $rc
	' sh "$root" >"$DIR/stage2.log" 2>&1 || rc=$?
	binfmt_off
	trap - EXIT
	if [ $rc -ne 0 ]; then
		tail -n 30 "$DIR/stage2.log" >&2
		tail -n 30 "$root/debootstrap/debootstrap.log" >&2 2>/dev/null || true
		[ ! -d "$root/debootstrap" ] || rm -f "$DIR/.stage1"
		log "stage 2 failed (see $DIR/stage2.log)"
		exit 1
	fi
	rm -f "$root/root/smmuv3-setup.sh"
	mkimage "$DIR/rootfs.img"
	echo "stage 2: $(($(date +%s) - t)) s under qemu-user (binfmt_misc)" >"$DIR/.complete"
	rm -rf "$root"
}

build() {
	mkdir -p "$CACHE/rootimg"
	exec 9>"$CACHE/rootimg/.lock"
	flock 9
	if [ ! -e "$DIR/.complete" ]; then
		local t
		t=$(date +%s)
		stage1
		log "stage 1 ready in $(($(date +%s) - t)) s"
		if ! stage2_binfmt; then
			# No binfmt_misc: the guest of qemu/rootimg.py does stage 2.
			[ -e "$DIR/stage1.img" ] || mkimage "$DIR/stage1.img"
			echo "KEY=$KEY"
			echo "DIR=$DIR"
			echo "IMAGE=$DIR/stage1.img"
			echo "STAGE2=guest"
			cat "$DIR/.stage1"
			return 0
		fi
		log "image ready in $(($(date +%s) - t)) s: $DIR ($(du -sh "$DIR" | cut -f1) on disk)"
	fi
	echo "KEY=$KEY"
	echo "DIR=$DIR"
	echo "ROOTFS=$DIR/rootfs.img"
	cat "$DIR/.stage1"
}

case "${1:-}" in
build) build ;;
*) echo "usage: $0 build" >&2; exit 2 ;;
esac
