#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A stock Debian arm64 kernel to boot (run inside qemu/env.sh's chroot,
# normally by qemu/run.py):
#
#   qemu/stock.sh fetch SERIES    download and unpack the stock kernel of the
#                                 series (6.12, 7.2, 7.3): the release whose
#                                 headers qemu/headers.sh unpacks
#
# Prints KEY=VALUE lines on stdout (RELEASE, VMLINUZ, MODULES); everything
# else goes to stderr.  The kernel is cached in $SMMUV3_CACHE/stock/RELEASE.
# The module to load on it comes from the smmuv3-dkms package (qemu/deb.sh).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${SMMUV3_CACHE:-/var/cache/smmuv3}
apt_opt=-oAPT::Sandbox::User=root

log() { echo "stock: $*" >&2; }

fetch() {
	local series=$1 kv release dir tmp pkgs p vmlinuz
	kv=$(bash "$HERE/headers.sh" "$series")
	release=$(echo "$kv" | sed -n 's/^RELEASE=//p')
	dir=$CACHE/stock/$release
	if [ ! -e "$dir/.complete" ]; then
		tmp=$dir.tmp
		rm -rf "$tmp" && mkdir -p "$tmp/deb" "$tmp/root"
		# 7.x: linux-binary-R (the image), linux-modules-R and linux-base-R
		# (modules.builtin, config); 6.12: one linux-image-R package.
		if apt-cache show "linux-binary-$release:arm64" >/dev/null 2>&1; then
			pkgs="linux-binary-$release:arm64 linux-modules-$release:arm64"
			pkgs="$pkgs linux-base-$release:arm64"
		else
			pkgs="linux-image-$release:arm64"
		fi
		log "downloading $pkgs"
		(cd "$tmp/deb" && apt-get download -q=2 $apt_opt $pkgs >&2)
		for p in "$tmp"/deb/*.deb; do dpkg-deb -x "$p" "$tmp/root"; done
		# Newer packages install to /usr/lib/modules only.
		[ -e "$tmp/root/lib" ] || ln -s usr/lib "$tmp/root/lib"
		depmod -b "$tmp/root" "$release"
		rm -rf "$tmp/deb"
		rm -rf "$dir" && mv "$tmp" "$dir"
		touch "$dir/.complete"
	fi
	vmlinuz=$(find "$dir/root/" -name 'vmlinuz*' -type f | head -n1)
	[ -n "$vmlinuz" ] || { log "no vmlinuz in $dir/root"; exit 1; }
	echo "RELEASE=$release"
	echo "VMLINUZ=$vmlinuz"
	echo "MODULES=$dir/root/lib/modules/$release"
}

case "${1:-}" in
fetch) fetch "${2:?usage: $0 fetch SERIES}" ;;
*) echo "usage: $0 fetch SERIES" >&2; exit 2 ;;
esac
