#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Stock Debian arm64 kernel headers for a kernel series, unpacked into this
# chroot (run inside qemu/env.sh's chroot, normally by qemu/run.py):
#
#   qemu/headers.sh SERIES      e.g. 6.12, 7.2, 7.3
#
# Picks the newest linux-headers-SERIES.N+debXX-arm64 the archive has and
# unpacks it, its -common part and the matching linux-kbuild with
# `apt-get download` + `dpkg -x` into /: installing arm64 headers with apt
# would pull gcc-14:arm64, which replaces the cross compiler.  The result is
# what DKMS looks for: /lib/modules/RELEASE/build.
#
# Prints RELEASE=... and HEADERS=/usr/src/linux-headers-RELEASE on stdout;
# everything else goes to stderr.
set -euo pipefail

SERIES=${1:?usage: headers.sh SERIES (6.12, 7.2, 7.3, ...)}
CACHE=${SMMUV3_CACHE:-/var/cache/smmuv3}
apt_opt=-oAPT::Sandbox::User=root

log() { echo "headers: $*" >&2; }

newest() { # newest() REGEX: the newest package name matching REGEX
	apt-cache search --names-only "$1" | awk '{print $1}' | sort -V | tail -n1
}

pkg=$(newest "^linux-headers-${SERIES//./\\.}\\.[0-9]+\\+[a-z0-9]+-arm64\$")
if [ -z "$pkg" ]; then
	log "no linux-headers-$SERIES.*-arm64 in the package lists; refreshing them"
	apt-get update -qq >&2
	pkg=$(newest "^linux-headers-${SERIES//./\\.}\\.[0-9]+\\+[a-z0-9]+-arm64\$")
fi
[ -n "$pkg" ] || { log "no linux-headers-$SERIES.*-arm64 package"; exit 1; }
RELEASE=${pkg#linux-headers-}
ver=${RELEASE%-arm64}
HDR=/usr/src/linux-headers-$RELEASE

if [ ! -e "$HDR/.smmuv3-complete" ]; then
	dir=$CACHE/headers/$RELEASE
	if [ ! -e "$dir/.complete" ]; then
		rm -rf "$dir" && mkdir -p "$dir"
		log "downloading $pkg, linux-headers-$ver-common, linux-kbuild-$ver"
		(cd "$dir" && apt-get download -q=2 $apt_opt "$pkg:arm64" \
			"linux-headers-$ver-common" "linux-kbuild-$ver" >&2)
		touch "$dir/.complete"
	fi
	for deb in "$dir"/*.deb; do
		dpkg -x "$deb" /
	done
	# Newer packages ship /usr/lib/modules only; DKMS looks in /lib/modules.
	[ -e "/lib/modules/$RELEASE/build" ] || {
		mkdir -p "/lib/modules/$RELEASE"
		ln -sfn "$HDR" "/lib/modules/$RELEASE/build"
	}
	touch "$HDR/.smmuv3-complete"
	log "unpacked $pkg into this chroot"
fi
echo "RELEASE=$RELEASE"
echo "HEADERS=$HDR"
