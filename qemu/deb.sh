#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The Debian package smmuv3-dkms (run inside qemu/env.sh's chroot, normally
# by `make deb` or qemu/run.py):
#
#   qemu/deb.sh build      build smmuv3-dkms_VERSION_all.deb from a clean copy
#                          of the repo (dpkg-buildpackage, dh-dkms)
#   qemu/deb.sh install    dpkg -i it into this chroot: its postinst runs the
#                          DKMS build for every kernel whose headers are here
#   qemu/deb.sh remove     dpkg --purge it: the DKMS module goes with it
#
# Prints KEY=VALUE lines on stdout (DEB, and after install KO_<release> for
# each kernel DKMS built for, DPKG_FAILED=1 if the postinst failed);
# everything else goes to stderr.  The package
# is written to $SMMUV3_CACHE/deb/, keyed by a hash of what it contains.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
CACHE=${SMMUV3_CACHE:-/var/cache/smmuv3}
PKG=smmuv3-dkms

log() { echo "deb: $*" >&2; }

version() {
	sed -n 's/^PACKAGE_VERSION="\?\([^"]*\)"\?$/\1/p' "$REPO/dkms.conf"
}

# What goes into the package, and so keys the cached .deb.
content_key() {
	(cd "$REPO" && find Kbuild dkms.conf README.md include module debian -type f \
		! -name '*.o' ! -name '*.ko' ! -name '*.mod*' ! -name '.*.cmd' -print0 |
		sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16
}

build() {
	local ver key dir tmp
	ver=$(version)
	key=$(content_key)
	dir=$CACHE/deb/$key
	if [ ! -e "$dir/$PKG"_"$ver"_all.deb ]; then
		tmp=$(mktemp -d /tmp/smmuv3-deb.XXXXXX)
		trap 'rm -rf "${tmp:-}"' EXIT
		mkdir -p "$tmp/smmuv3-$ver"
		(cd "$REPO" && tar cf - --exclude='*.o' --exclude='*.ko' --exclude='*.mod*' \
			--exclude='.*.cmd' Kbuild dkms.conf README.md include module debian) |
			tar xf - -C "$tmp/smmuv3-$ver"
		log "dpkg-buildpackage for $PKG $ver"
		# -d: the chroot has the Build-Depends (packages.txt) but not the
		# build-essential metapackage, which a sources-only package needs not.
		(cd "$tmp/smmuv3-$ver" && dpkg-buildpackage -d -us -uc -b >&2)
		mkdir -p "$dir"
		cp "$tmp/$PKG"_"$ver"_all.deb "$dir/"
	fi
	echo "DEB=$dir/$PKG"_"$ver"_all.deb
}

install() {
	local deb ver ko rel
	deb=$(build | sed -n 's/^DEB=//p')
	ver=$(version)
	remove_pkg
	log "dpkg -i $(basename "$deb")"
	# A kernel DKMS cannot build for makes the postinst fail; say so, and
	# still report the modules it built for the others.
	if ! dpkg -i "$deb" >&2; then
		find "/var/lib/dkms/smmuv3/$ver" -name make.log -exec tail -n 40 {} \; >&2
		echo "DPKG_FAILED=1"
	fi
	echo "DEB=$deb"
	for ko in $(find "/var/lib/dkms/smmuv3/$ver" -path '*/module/smmuv3.ko*' 2>/dev/null); do
		rel=${ko#/var/lib/dkms/smmuv3/$ver/}
		rel=${rel%%/*}
		echo "KO_$rel=$ko"
	done
}

remove_pkg() {
	if dpkg-query -W "$PKG" >/dev/null 2>&1; then
		log "dpkg --purge $PKG"
		dpkg --purge "$PKG" >&2
	fi
	# An earlier `dkms add` of the same version (qemu/stock.sh) would clash.
	dkms remove "smmuv3/$(version)" --all >/dev/null 2>&1 || true
	rm -rf "/usr/src/smmuv3-$(version)"
}

case "${1:-}" in
build) build ;;
install) install ;;
remove) remove_pkg ;;
*) echo "usage: $0 build|install|remove" >&2; exit 2 ;;
esac
