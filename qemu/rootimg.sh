#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A Debian 13 arm64 root filesystem for the end-to-end administrator test
# (a real system: Debian's stock kernel, its own initramfs-tools initramfs,
# smmuv3-dkms installed with apt).  Runs inside qemu/env.sh's chroot:
#
#   qemu/rootimg.sh stage1     debootstrap --foreign: the packages below,
#                              downloaded and unpacked (not configured) into
#                              an ext4 image, plus the .debs of a second
#                              kernel and its headers for the test to install
#                              offline.  Prints KEY=, DIR=, IMAGE= (the
#                              stage-1 image), KERNEL= (the release installed)
#                              and SECOND= (the second kernel's release).
#
# The second stage (dpkg --configure of everything) needs an arm64 CPU, so
# it runs in a guest: Debian's stock kernel (qemu/stock.sh) with a busybox
# initramfs that mounts the image and runs
# `chroot /root /debootstrap/debootstrap --second-stage`, then the setup in
# $DIR/root/smmuv3-setup.sh; the image it leaves is $DIR/rootfs.img, marked
# by $DIR/.complete.  (Done by the harness, not this script.)
#
# Everything is cached in $SMMUV3_CACHE/rootimg/KEY, KEY a hash of this
# script (the package list is in it); the package versions that went in are
# in $DIR/manifest.  The archive address is the chroot's own (never written
# into the repo).
set -euo pipefail

CACHE=${SMMUV3_CACHE:-/var/cache/smmuv3}
HERE=$(cd "$(dirname "$0")" && pwd)
KEY=$(sha256sum "$HERE/rootimg.sh" | cut -c1-16)
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
	pciutils
)
apt_opt=-oAPT::Sandbox::User=root

log() { echo "rootimg: $*" >&2; }

mirror() {
	awk '/^deb /{print $2; exit}' /etc/apt/sources.list
}

# ensure PACKAGE...: install what this chroot lacks (once, under a lock).
ensure() {
	local p missing=()
	for p; do
		[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	exec 8>"$CACHE/.deb-tools.lock"
	flock 8
	log "installing ${missing[*]} into this chroot"
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >&2
	exec 8>&-
}

newest() { # newest REGEX: the newest package name matching REGEX
	apt-cache search --names-only "$1" | awk '{print $1}' | sort -V | tail -n1
}

stage1() {
	local tmp root second kernel p
	if [ -e "$DIR/stage1.img" ] && [ -e "$DIR/.stage1" ]; then
		echo "KEY=$KEY"
		echo "DIR=$DIR"
		echo "IMAGE=$DIR/stage1.img"
		cat "$DIR/.stage1"
		return 0
	fi
	ensure debootstrap e2fsprogs
	mkdir -p "$CACHE/rootimg"
	exec 9>"$CACHE/rootimg/.lock"
	flock 9
	tmp=$DIR.tmp
	rm -rf "$tmp"
	mkdir -p "$tmp"
	root=$tmp/root
	log "debootstrap --foreign --arch=arm64 trixie (${PACKAGES[*]})"
	debootstrap --foreign --arch=arm64 --variant=minbase \
		--include="$(IFS=,; echo "${PACKAGES[*]}")" \
		trixie "$root" "$(mirror)" >"$tmp/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$tmp/debootstrap.log" >&2; exit 1; }
	# The kernel release the image gets (unpacked by the second stage).
	kernel=$(find "$root/var/cache/apt/archives" -name 'linux-image-[0-9]*-arm64_*.deb' \
		-printf '%f\n' | sed 's/^linux-image-\(.*-arm64\)_.*/\1/' | sort -V | tail -n1)
	[ -n "$kernel" ] || { log "no linux-image-*-arm64 downloaded"; exit 1; }
	# The second kernel: image and headers, for an offline apt install.
	second=$(newest "^linux-headers-${SECOND_SERIES//./\\.}\\.[0-9]+\\+[a-z0-9]+-arm64\$")
	[ -n "$second" ] || { log "no linux-headers-$SECOND_SERIES.*-arm64"; exit 1; }
	second=${second#linux-headers-}
	mkdir -p "$root/var/cache/smmuv3-test"
	(cd "$root/var/cache/smmuv3-test" &&
		apt-get download -q=2 $apt_opt "linux-headers-$second:arm64" \
			"linux-headers-${second%-arm64}-common" "linux-kbuild-${second%-arm64}:arm64" >&2)
	for p in linux-binary-"$second" linux-modules-"$second" linux-base-"$second" \
		 linux-image-"$second"; do
		if apt-cache show "$p:arm64" >/dev/null 2>&1; then
			(cd "$root/var/cache/smmuv3-test" && apt-get download -q=2 $apt_opt "$p:arm64" >&2)
		fi
	done
	# What the second stage configures, for the record.
	(cd "$root/var/cache/apt/archives" && ls ./*.deb) | sed 's|^\./||' >"$tmp/manifest"
	(cd "$root/var/cache/smmuv3-test" && ls ./*.deb) | sed 's|^\./|second: |' >>"$tmp/manifest"
	cat >"$root/etc/apt/sources.list" <<-EOF
	deb $(mirror) trixie main
	deb $(mirror) trixie-backports main
	EOF
	echo "smmuv3-e2e" >"$root/etc/hostname"
	echo "LABEL=root / ext4 errors=remount-ro 0 1" >"$root/etc/fstab"
	log "mke2fs: ${IMAGE_MB} MB image"
	truncate -s "${IMAGE_MB}M" "$tmp/stage1.img"
	mke2fs -q -t ext4 -L root -d "$root" "$tmp/stage1.img"
	printf 'KERNEL=%s\nSECOND=%s\n' "$kernel" "$second" >"$tmp/.stage1"
	rm -rf "$root"
	rm -rf "$DIR"
	mv "$tmp" "$DIR"
	exec 9>&-
	log "stage 1 ready: $DIR ($(du -sh "$DIR" | cut -f1) on disk)"
	stage1
}

case "${1:-}" in
stage1) stage1 ;;
*) echo "usage: $0 stage1" >&2; exit 2 ;;
esac
