#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Print the path of a sparse new enough for Linux 7.3 (which needs
# __typeof_unqual__: sparse > 0.6.4), fetching it once if needed.
#
# Runs inside qemu/env.sh's chroot.  Debian 13 ships sparse 0.6.4; the
# binary of Debian unstable's package links only libc, so it is downloaded
# with a temporary package list (the chroot's apt sources are not changed,
# and the host's never are) and unpacked into $SMMUV3_CACHE/tools.
set -euo pipefail

CACHE=${SMMUV3_CACHE:-/var/cache/smmuv3}
TOOLS=$CACHE/tools

# sparse exits 0 on errors: look at what it prints (as the kernel does).
ok() {
	local out
	out=$(echo 'static inline int u(const int *q) { __typeof_unqual__(*q) v = *q; return v; }' |
		"$1" - 2>&1) || return 1
	! grep -qi error <<<"$out"
}

if command -v sparse >/dev/null && ok sparse; then
	command -v sparse
	exit 0
fi
for s in "$TOOLS"/sparse-*/usr/bin/sparse; do
	if [ -x "$s" ] && ok "$s"; then
		echo "$s"
		exit 0
	fi
done

mirror=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list)
lists=$TOOLS/apt-unstable
mkdir -p "$lists/lists/partial"
echo "deb $mirror sid main" >"$lists/sources.list"
opts=(-o Dir::Etc::SourceList="$lists/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o Dir::State::Lists="$lists/lists" -o Acquire::Check-Valid-Until=false
      -o APT::Sandbox::User=root)
apt-get "${opts[@]}" update -qq >&2
ver=$(apt-cache "${opts[@]}" show sparse | awk '/^Version:/{print $2}' | sort -V | tail -n1)
dest=$TOOLS/sparse-$ver
tmp=$(mktemp -d)
(cd "$tmp" && apt-get "${opts[@]}" download "sparse=$ver" >&2)
rm -rf "$dest"
dpkg-deb -x "$tmp"/sparse_*.deb "$dest"
rm -rf "$tmp"
ok "$dest/usr/bin/sparse" || { echo "sparse.sh: sparse $ver does not work" >&2; exit 1; }
echo "sparse.sh: using sparse $ver" >&2
echo "$dest/usr/bin/sparse"
