#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The stock-kernel DKMS check, build half (run inside qemu/env.sh's chroot,
# normally by qemu/run.py):
#
#   qemu/stock.sh fetch    download and unpack the stock Debian arm64 kernel
#                          matching the chroot's linux-headers-7.*-arm64
#   qemu/stock.sh dkms     build the smmuv3-dkms package (qemu/deb.sh) and install
#                          it with dpkg: its DKMS postinst builds smmuv3.ko for it
#
# Both print KEY=VALUE lines on stdout (RELEASE, VMLINUZ, MODULES, DEB, KO);
# everything else goes to stderr.  The kernel is cached in
# $SMMUV3_CACHE/stock/RELEASE_VERSION; the package and its DKMS state live in
# the chroot (dpkg, /var/lib/dkms, /usr/src/smmuv3-VERSION), replaced on every run.
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

# The module as a Debian user gets it: the smmuv3-dkms package (qemu/deb.sh)
# built from the repo and installed with dpkg, whose postinst runs DKMS for
# every kernel whose headers are installed, this stock one among them.
dkms_build() {
	local name out deb ko
	name=$(sed -n 's/^PACKAGE_NAME="\?\([^"]*\)"\?$/\1/p' "$REPO/dkms.conf")
	out=$(bash "$HERE/deb.sh" install)
	deb=$(echo "$out" | sed -n 's/^DEB=//p')
	ko=$(echo "$out" | awk -F= -v k="KO_$RELEASE" '$1 == k { print $2 }')
	[ -n "$ko" ] || { log "installing $(basename "$deb") built no $name.ko for $RELEASE"; exit 1; }
	mkdir -p "$DIR/dkms"
	case $ko in
	*.xz) xz -dc "$ko" >"$DIR/dkms/$name.ko" ;;
	*.zst) zstd -qdc "$ko" >"$DIR/dkms/$name.ko" ;;
	*.gz) gzip -dc "$ko" >"$DIR/dkms/$name.ko" ;;
	*) cp "$ko" "$DIR/dkms/$name.ko" ;;
	esac
	echo "RELEASE=$RELEASE"
	echo "DEB=$deb"
	echo "KO=$DIR/dkms/$name.ko"
}

case "${1:-}" in
fetch) fetch ;;
dkms) dkms_build ;;
*) echo "usage: $0 fetch|dkms" >&2; exit 2 ;;
esac
