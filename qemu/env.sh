#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Create (once) and enter the Debian 13 build/test chroot.
#
#   qemu/env.sh setup          create or reuse the chroot, print its path
#   qemu/env.sh run CMD...     run CMD inside it, the repo mounted at /src and
#                              the cache at /cache
#
# The chroot lives in $SMMUV3_CACHE (default /var/cache/smmuv3), keyed by a
# hash of qemu/packages.txt and of this script, so it is rebuilt only when its
# package list changes.  The host's apt sources are never modified: the only
# host package installed is debootstrap, from the host's own (Debian 12)
# archive.  The archive address is taken from the host's apt sources.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
CACHE=${SMMUV3_CACHE:-/var/cache/smmuv3}
KEY=$(cat "$HERE/packages.txt" "$HERE/env.sh" | sha256sum | cut -c1-16)
ROOT=$CACHE/chroot-$KEY

log() { echo "env: $*" >&2; }

host_mirror() {
	local uri
	uri=$(grep -hoE '^(URIs:|deb) +[a-z]+://[^ ]+/debian/?( |$)' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
		/etc/apt/sources.list.d/*.list 2>/dev/null |
		awk '{print $2}' | head -n1)
	[ -n "$uri" ] || { log "no Debian archive in the host's apt sources"; exit 1; }
	echo "${uri%/}"
}

# Packages whose line starts with "backports:" come from trixie-backports.
pkgs() {
	grep -vE '^\s*(#|$)' "$HERE/packages.txt" | grep "$@" |
		sed -e 's/^backports: *//'
}

in_root() {
	unshare -m --propagation private -- /bin/sh -c '
		set -e
		r=$1; shift
		mount -t proc proc "$r/proc"
		mount --rbind /sys "$r/sys"
		mount --rbind /dev "$r/dev"
		mkdir -p "$r/src" "$r/cache"
		mount --bind "'"$REPO"'" "$r/src"
		mount --bind "'"$CACHE"'" "$r/cache"
		exec chroot "$r" /usr/bin/env -i HOME=/root TERM=dumb \
			PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
			SMMUV3_CACHE=/cache CI="${CI:-}" "$@"
	' sh "$ROOT" "$@"
}

create() {
	local tmp mirror
	mkdir -p "$CACHE"
	if ! command -v debootstrap >/dev/null; then
		log "installing debootstrap on the host (Debian 12 archive)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
	fi
	mirror=$(host_mirror)
	tmp=$ROOT.tmp
	rm -rf "$tmp"
	log "debootstrap trixie into $tmp"
	debootstrap --variant=minbase trixie "$tmp" "$mirror" >"$CACHE/debootstrap.log" 2>&1 ||
		{ tail -20 "$CACHE/debootstrap.log"; exit 1; }
	cat >"$tmp/etc/apt/sources.list" <<-EOF
	deb $mirror trixie main
	deb $mirror trixie-updates main
	deb $mirror trixie-backports main
	EOF
	rm -f "$tmp"/etc/apt/sources.list.d/*
	printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
		>"$tmp/etc/apt/apt.conf.d/90smmuv3"
	ROOT=$tmp in_root dpkg --add-architecture arm64
	ROOT=$tmp in_root apt-get update -qq
	# One transaction, backports preferred: trixie-backports packages pull
	# newer libraries (libelf, ...) that the -dev packages must match.
	ROOT=$tmp in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		-t trixie-backports $(pkgs -e '') >"$CACHE/apt.log" 2>&1 ||
		{ tail -30 "$CACHE/apt.log"; exit 1; }
	# Stock arm64 headers matching the newest 7.x kernel, for the DKMS build.
	local hdr
	hdr=$(ROOT=$tmp in_root apt-cache search --names-only '^linux-headers-7\.[0-9]+\.[0-9]+\+[a-z0-9]+-arm64$' |
		awk '{print $1}' | sort -V | tail -n1)
	[ -n "$hdr" ] || { log "no linux-headers-7.*-arm64 package"; exit 1; }
	ROOT=$tmp in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		-t trixie-backports "$hdr:arm64" >>"$CACHE/apt.log" 2>&1 ||
		{ tail -30 "$CACHE/apt.log"; exit 1; }
	ROOT=$tmp in_root apt-get clean
	mv "$tmp" "$ROOT"
	log "chroot ready: $ROOT ($(du -sh "$ROOT" | cut -f1))"
}

# Create the chroot once; concurrent runs (several checkouts) wait for it.
ensure() {
	[ -e "$ROOT/.complete" ] && return 0
	mkdir -p "$CACHE"
	exec 9>"$CACHE/chroot.lock"
	flock 9
	[ -e "$ROOT/.complete" ] || { create; touch "$ROOT/.complete"; }
	exec 9>&-
}

case "${1:-setup}" in
setup)
	ensure
	echo "$ROOT"
	;;
run)
	shift
	ensure
	in_root "$@"
	;;
path)
	echo "$ROOT"
	;;
*)
	echo "usage: $0 setup|run CMD...|path" >&2
	exit 2
	;;
esac
