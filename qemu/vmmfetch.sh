#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Debian's arm64 QEMU, to run as a VMM inside the arm64 test guest (run
# inside qemu/env.sh's chroot, normally by qemu/vmm.py):
#
#   qemu/vmmfetch.sh fetch     download and unpack qemu-system-arm (arm64,
#                              the newest in the archive: trixie-backports)
#                              and every arm64 package it depends on; keep
#                              qemu-system-aarch64, the shared libraries it
#                              loads, and the UEFI firmware for its guest
#
# Never installs an arm64 package (that would replace the cross compiler):
# `apt-get download` + `dpkg-deb -x` only.  Prints KEY=VALUE lines on stdout
# (VERSION, ROOT: a directory tree to copy into the guest as it is, with
# usr/bin/qemu-system-aarch64, its libraries under usr/lib and
# usr/share/qemu-efi-aarch64/QEMU_EFI.fd); everything else goes to stderr.
# Cached in $SMMUV3_CACHE/vmm/VERSION (the package's version names it).
set -euo pipefail

CACHE=${SMMUV3_CACHE:-/var/cache/smmuv3}
apt_opt=-oAPT::Sandbox::User=root
READELF=${READELF:-aarch64-linux-gnu-readelf}

log() { echo "vmmfetch: $*" >&2; }

# The newest qemu-system-arm:arm64 the archive has (any suite).
newest() {
	apt-cache madison qemu-system-arm:arm64 | awk -F'|' '{gsub(/ /, "", $2); print $2}' |
		sort -V | tail -n1
}

# The shared libraries FILE needs, recursively, found under ROOT: one
# path (relative to ROOT) per line.
closure() {
	local root=$1 file=$2 todo lib seen=" " path d
	todo=$("$READELF" -d "$root/$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
	while [ -n "$todo" ]; do
		set -- $todo
		lib=$1; shift; todo="$*"
		case "$seen" in *" $lib "*) continue ;; esac
		seen="$seen$lib "
		path=
		for d in usr/lib/aarch64-linux-gnu lib/aarch64-linux-gnu usr/lib lib; do
			if [ -e "$root/$d/$lib" ]; then path=$d/$lib; break; fi
		done
		[ -n "$path" ] || { log "$file needs $lib: not in any downloaded package"; return 1; }
		echo "$path"
		todo="$todo $("$READELF" -d "$root/$path" |
			sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')"
	done
}

fetch() {
	local ver dir tmp pkgs p lib
	ver=$(newest)
	[ -n "$ver" ] || { log "no qemu-system-arm:arm64 in the archive (dpkg --add-architecture arm64?)"; exit 1; }
	dir=$CACHE/vmm/$ver
	if [ ! -e "$dir/.complete" ]; then
		tmp=$dir.tmp
		rm -rf "$tmp" && mkdir -p "$tmp/deb" "$tmp/all" "$tmp/root"
		# What apt would install with it on arm64 (real arm64 packages only:
		# the architecture-independent ones hold no library).
		pkgs=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
			--no-breaks --no-replaces --no-enhances "qemu-system-arm:arm64=$ver" 2>/dev/null |
			grep '^[^ <].*:arm64$' | grep -v '^qemu-system-arm:' | sort -u)
		log "downloading qemu-system-arm $ver and $(echo "$pkgs" | wc -w) dependencies"
		(cd "$tmp/deb" && apt-get download -q=2 $apt_opt "qemu-system-arm:arm64=$ver" $pkgs >&2)
		for p in "$tmp"/deb/*.deb; do dpkg-deb -x "$p" "$tmp/all"; done
		# Usrmerge: packages still shipping /lib see it under /usr/lib.
		if [ -d "$tmp/all/lib" ] && [ ! -L "$tmp/all/lib" ]; then
			cp -a "$tmp/all/lib/." "$tmp/all/usr/lib/" && rm -rf "$tmp/all/lib"
		fi
		ln -s usr/lib "$tmp/all/lib"
		mkdir -p "$tmp/root/usr/bin" "$tmp/root/usr/lib/aarch64-linux-gnu" \
			"$tmp/root/usr/share/qemu-efi-aarch64"
		cp "$tmp/all/usr/bin/qemu-system-aarch64" "$tmp/root/usr/bin/"
		for lib in $(closure "$tmp/all" usr/bin/qemu-system-aarch64); do
			cp -L "$tmp/all/$lib" "$tmp/root/usr/lib/aarch64-linux-gnu/"
		done
		# The dynamic loader, where the binary's PT_INTERP names it.
		mkdir -p "$tmp/root/lib"
		cp -L "$tmp/all/usr/lib/ld-linux-aarch64.so.1" "$tmp/root/lib/"
		# The nested guest's firmware (architecture-independent package).
		(cd "$tmp/deb" && rm -f ./*.deb && apt-get download -q=2 $apt_opt qemu-efi-aarch64 >&2)
		dpkg-deb -x "$tmp"/deb/qemu-efi-aarch64_*.deb "$tmp/efi"
		cp "$tmp/efi/usr/share/qemu-efi-aarch64/QEMU_EFI.fd" "$tmp/root/usr/share/qemu-efi-aarch64/"
		rm -rf "$tmp/deb" "$tmp/all" "$tmp/efi"
		rm -rf "$dir" && mv "$tmp" "$dir"
		touch "$dir/.complete"
		log "$(find "$dir/root" -type f | wc -l) files, $(du -sh "$dir/root" | cut -f1)"
	fi
	echo "VERSION=$ver"
	echo "ROOT=$dir/root"
}

case "${1:-}" in
fetch) fetch ;;
*) echo "usage: $0 fetch" >&2; exit 2 ;;
esac
