#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The stock-kernel DKMS check, build half (run inside qemu/env.sh's chroot,
# normally by qemu/run.py):
#
#   qemu/stock.sh fetch    download and unpack the stock Debian arm64 kernel
#                          matching the chroot's linux-headers-7.*-arm64
#   qemu/stock.sh dkms     dkms add + build smmuv3 for it from a copy of the repo
#
# Both print KEY=VALUE lines on stdout (RELEASE, VMLINUZ, MODULES, KO);
# everything else goes to stderr.  The kernel is cached in
# $SMMUV3_CACHE/stock/RELEASE_VERSION; the DKMS state lives in the chroot
# (/var/lib/dkms, /usr/src/smmuv3-VERSION) and is replaced on every run.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
CACHE=${SMMUV3_CACHE:-/var/cache/smmuv3}

log() { echo "stock: $*" >&2; }

# The stock release is the one whose headers the chroot has (DKMS needs them).
HDRDIR=$(ls -d /usr/src/linux-headers-7.*-arm64 2>/dev/null | sort -V | tail -n1)
[ -n "$HDRDIR" ] || { log "no /usr/src/linux-headers-7.*-arm64 in this chroot"; exit 1; }
RELEASE=${HDRDIR#/usr/src/linux-headers-}
VERSION=$(dpkg-query -W -f '${Version}' "linux-headers-$RELEASE:arm64")
DIR=$CACHE/stock/${RELEASE}_$VERSION

fetch() {
	if [ ! -e "$DIR/.complete" ]; then
		local tmp=$DIR.tmp pkgs p apt_opt=-oAPT::Sandbox::User=root
		rm -rf "$tmp" && mkdir -p "$tmp/deb" "$tmp/root"
		pkgs="linux-binary-$RELEASE:arm64=$VERSION linux-modules-$RELEASE:arm64=$VERSION"
		log "downloading $pkgs"
		if ! (cd "$tmp/deb" && apt-get download -q=2 $apt_opt $pkgs >&2); then
			log "download failed; refreshing the package lists and retrying"
			apt-get update -qq >&2
			(cd "$tmp/deb" && apt-get download -q=2 $apt_opt $pkgs >&2)
		fi
		for p in "$tmp"/deb/*.deb; do dpkg-deb -x "$p" "$tmp/root"; done
		# Newer packages install to /usr/lib/modules only.
		[ -e "$tmp/root/lib" ] || ln -s usr/lib "$tmp/root/lib"
		# modules.builtin* and modules.order come with the headers package.
		cp /lib/modules/"$RELEASE"/modules.* "$tmp/root/lib/modules/$RELEASE/" 2>/dev/null || true
		depmod -b "$tmp/root" "$RELEASE"
		rm -rf "$tmp/deb"
		rm -rf "$DIR" && mv "$tmp" "$DIR"
		touch "$DIR/.complete"
	fi
	local vmlinuz
	vmlinuz=$(find "$DIR/root/" -name 'vmlinuz*' -type f | head -n1)
	[ -n "$vmlinuz" ] || { log "no vmlinuz in $DIR/root"; exit 1; }
	echo "RELEASE=$RELEASE"
	echo "VMLINUZ=$vmlinuz"
	echo "MODULES=$DIR/root/lib/modules/$RELEASE"
}

dkms_build() {
	local name ver ko
	name=$(sed -n 's/^PACKAGE_NAME="\?\([^"]*\)"\?$/\1/p' "$REPO/dkms.conf")
	ver=$(sed -n 's/^PACKAGE_VERSION="\?\([^"]*\)"\?$/\1/p' "$REPO/dkms.conf")
	# A clean copy of the sources: no build products, no git metadata.
	SRCCOPY=$(mktemp -d /tmp/smmuv3-dkms.XXXXXX)
	trap 'rm -rf "$SRCCOPY"' EXIT
	rsync -a --exclude=.git --exclude=/out --exclude=/selftests --exclude=/qemu \
		--exclude='*.o' --exclude='*.ko' --exclude='*.mod*' --exclude='.*.cmd' \
		--exclude=modules.order --exclude=Module.symvers "$REPO/" "$SRCCOPY/"
	dkms remove "$name/$ver" --all >/dev/null 2>&1 || true
	rm -rf "/usr/src/$name-$ver" "/var/lib/dkms/$name/$ver"
	log "dkms add + build $name/$ver for $RELEASE"
	dkms add "$SRCCOPY" >&2
	if ! dkms build "$name/$ver" -k "$RELEASE" >&2; then
		find "/var/lib/dkms/$name/$ver" -name make.log -exec tail -n 40 {} \; >&2
		exit 1
	fi
	ko=$(find "/var/lib/dkms/$name/$ver/$RELEASE" -name "$name.ko*" | head -n1)
	[ -n "$ko" ] || { log "dkms build left no $name.ko"; exit 1; }
	mkdir -p "$DIR/dkms"
	case $ko in
	*.xz) xz -dc "$ko" >"$DIR/dkms/$name.ko" ;;
	*.zst) zstd -qdc "$ko" >"$DIR/dkms/$name.ko" ;;
	*.gz) gzip -dc "$ko" >"$DIR/dkms/$name.ko" ;;
	*) cp "$ko" "$DIR/dkms/$name.ko" ;;
	esac
	echo "RELEASE=$RELEASE"
	echo "KO=$DIR/dkms/$name.ko"
}

case "${1:-}" in
fetch) fetch ;;
dkms) dkms_build ;;
*) echo "usage: $0 fetch|dkms" >&2; exit 2 ;;
esac
