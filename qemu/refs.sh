#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The two reference headers qemu/oracle.py compares include/smmuv3/regs.h
# with, neither of them written by this project:
#
#   qemu/refs.sh kernel   KERNEL_H=  the kernel's arm-smmu-v3.h, from the
#                         linux-source-7.* tree kernel.sh unpacked, else the
#                         single file extracted from the linux-source tarball
#   qemu/refs.sh qemu     QEMU_H=    QEMU's hw/arm/smmuv3-internal.h, from
#                         Debian's qemu source package of the QEMU the chroot
#                         boots (the same version, else the newest the
#                         archive serves), QEMU_SOURCE= says which
#   qemu/refs.sh          both
#
# Runs inside qemu/env.sh's chroot.  Prints KEY=VALUE lines on stdout,
# everything else goes to stderr.  The QEMU header is fetched once with a
# temporary package list holding deb-src lines for the chroot's own suites
# (the chroot's apt sources are not changed, the host's never are), only that
# header is kept, in $SMMUV3_CACHE/refs/qemu-VERSION/.
set -euo pipefail

CACHE=${SMMUV3_CACHE:-/var/cache/smmuv3}
REFS=$CACHE/refs
KERNEL_FILE=drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h
QEMU_FILE=hw/arm/smmuv3-internal.h

log() { echo "refs: $*" >&2; }

kernel_header() {
	local tarball tree dest
	tarball=$(ls /usr/src/linux-source-7.*.tar.xz 2>/dev/null | sort -V | tail -n1)
	[ -n "$tarball" ] || { log "no /usr/src/linux-source-7.*.tar.xz"; exit 1; }
	# The tree qemu/kernel.sh extracted from that tarball, if any.
	for tree in $(ls -d "$CACHE/src/$(basename "$tarball" .tar.xz)"-* 2>/dev/null | sort -r); do
		if [ -e "$tree/.complete" ] && [ -f "$tree/$KERNEL_FILE" ]; then
			echo "KERNEL_H=$tree/$KERNEL_FILE"
			return
		fi
	done
	dest=$REFS/$(basename "$tarball" .tar.xz)-$(stat -c %s "$tarball")
	if [ ! -e "$dest/.complete" ]; then
		log "extracting $KERNEL_FILE from $tarball"
		rm -rf "$dest" && mkdir -p "$dest"
		tar -C "$dest" --strip-components=1 -xJf "$tarball" --wildcards "*/$KERNEL_FILE"
		touch "$dest/.complete"
	fi
	echo "KERNEL_H=$dest/$KERNEL_FILE"
}

# The part of patch file $1 that changes $QEMU_FILE.
file_diff() {
	awk -v f="$QEMU_FILE" '
		/^diff / { keep = 0; next }
		/^--- / { hdr = $0; getline
			  keep = index($0, "+++ ") == 1 && index($2, "/" f) > 0
			  if (keep) { print hdr; print }
			  next }
		keep' "$1"
}

# Download the source package $1=$2 into the current directory; fails if the
# archive does not have it.
download_source() {
	apt-get "${APT_OPTS[@]}" source -q=2 --download-only "$1=$2" >&2
}

qemu_header() {
	local src ver dest lists v got=
	src=$(dpkg-query -W -f '${source:Package}' qemu-system-arm)
	ver=$(dpkg-query -W -f '${source:Version}' qemu-system-arm)
	dest=$REFS/$src-${ver//:/_}
	if [ ! -e "$dest/.complete" ]; then
		lists=$REFS/apt-src
		mkdir -p "$lists/lists/partial"
		# deb-src twins of the chroot's own suites.
		sed -n 's/^deb /deb-src /p' /etc/apt/sources.list >"$lists/sources.list"
		APT_OPTS=(-o Dir::Etc::SourceList="$lists/sources.list" -o Dir::Etc::SourceParts=/dev/null
			  -o Dir::State::Lists="$lists/lists" -o APT::Sandbox::User=root)
		apt-get "${APT_OPTS[@]}" update -qq >&2
		TMP=$(mktemp -d /tmp/smmuv3-refs.XXXXXX)
		trap 'rm -rf "$TMP"' EXIT
		# The version the chroot boots; if the archive no longer serves its
		# source, the newest other version of these suites (the layout
		# definitions are architectural, any recent QEMU states them).
		for v in "$ver" $(apt-cache "${APT_OPTS[@]}" showsrc "$src" |
				  awk '/^Version:/{print $2}' | sort -Vru | grep -vxF "$ver"); do
			log "fetching the $src $v source package for $QEMU_FILE"
			rm -rf "${TMP:?}"/*
			if (cd "$TMP" && download_source "$src" "$v"); then
				got=$v
				break
			fi
		done
		[ -n "$got" ] || { log "no $src source package could be downloaded"; exit 1; }
		rm -rf "$dest" && mkdir -p "$dest"
		tar -C "$dest" --strip-components=1 -xf "$TMP"/*.orig.tar.* --wildcards "*/$QEMU_FILE"
		# Debian's own patches, if one touches the header, apply on top of it.
		if ls "$TMP"/*.debian.tar.* >/dev/null 2>&1; then
			mkdir -p "$TMP/deb"
			tar -C "$TMP/deb" -xf "$TMP"/*.debian.tar.* debian/patches 2>/dev/null || true
			local series=$TMP/deb/debian/patches/series p
			if [ -f "$series" ]; then
				for p in $(grep -vE '^\s*(#|$)' "$series" | awk '{print $1}'); do
					grep -q "^+++ .*/$QEMU_FILE" "$TMP/deb/debian/patches/$p" || continue
					log "applying Debian's $p to $QEMU_FILE"
					file_diff "$TMP/deb/debian/patches/$p" | (cd "$dest" && patch -s -p1 >&2)
				done
			fi
		fi
		if [ "$got" = "$ver" ]; then
			echo "$src $got" >"$dest/SOURCE"
		else
			echo "$src $got (the source of the installed $ver is not in the archive)" \
				>"$dest/SOURCE"
		fi
		touch "$dest/.complete"
	fi
	echo "QEMU_H=$dest/$QEMU_FILE"
	echo "QEMU_SOURCE=$(cat "$dest/SOURCE")"
}

case "${1:-all}" in
kernel) kernel_header ;;
qemu) qemu_header ;;
all) kernel_header; qemu_header ;;
*) echo "usage: $0 [kernel|qemu]" >&2; exit 2 ;;
esac
