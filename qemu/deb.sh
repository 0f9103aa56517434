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
#   qemu/deb.sh lint       lintian on a full (source and binary) build, and
#                          ShellCheck on the package's shell scripts; the two
#                          tools are installed into this chroot on first use
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

# debian/changelog is the one version source (dkms.conf and the module
# take theirs from it).
version() {
	sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$REPO/debian/changelog"
}

# What the package is built from.
SOURCES=(Kbuild dkms.conf README.md include module tools debian)

# A clean copy of the sources in $1/smmuv3-VERSION.
copy_tree() {
	mkdir -p "$1/smmuv3-$(version)"
	(cd "$REPO" && tar cf - --exclude='*.o' --exclude='*.ko' --exclude='*.mod*' \
		--exclude='.*.cmd' --exclude=__pycache__ "${SOURCES[@]}") |
		tar xf - -C "$1/smmuv3-$(version)"
}

# DKMS takes the architecture it builds for from `uname -m`
# (BUILD_EXCLUSIVE_ARCH); this chroot builds for arm64 kernels on another
# architecture, so DKMS is shown aarch64, as on the arm64 system it stands
# for.  Prints a directory to put first in PATH.
arm64_uname() {
	local d=/tmp/smmuv3-arm64-uname
	mkdir -p "$d"
	cat >"$d/uname" <<-'EOF2'
	#!/bin/sh
	[ "$*" = -m ] && { echo aarch64; exit 0; }
	exec /usr/bin/uname "$@"
	EOF2
	chmod 755 "$d/uname"
	echo "$d"
}

# What goes into the package, and so keys the cached .deb.
content_key() {
	(cd "$REPO" && find "${SOURCES[@]}" -type f \
		! -name '*.o' ! -name '*.ko' ! -name '*.mod*' ! -name '.*.cmd' \
		! -path '*/__pycache__/*' -print0 |
		sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16
}

build() {
	local ver key dir tmp
	ver=$(version)
	key=$(content_key)
	dir=$CACHE/deb/$key
	if [ ! -e "$dir/${PKG}_${ver}_all.deb" ]; then
		tmp=$(mktemp -d /tmp/smmuv3-deb.XXXXXX)
		trap 'rm -rf "${tmp:-}"' EXIT
		copy_tree "$tmp"
		log "dpkg-buildpackage for $PKG $ver"
		# -d: the chroot has the Build-Depends (packages.txt) but not the
		# build-essential metapackage, which a sources-only package needs not.
		(cd "$tmp/smmuv3-$ver" && dpkg-buildpackage -d -us -uc -b >&2)
		mkdir -p "$dir"
		cp "$tmp/${PKG}_${ver}_all.deb" "$dir/"
	fi
	echo "DEB=$dir/${PKG}_${ver}_all.deb"
}

install() {
	local deb ver ko rel
	deb=$(build | sed -n 's/^DEB=//p')
	ver=$(version)
	remove_pkg
	log "dpkg -i $(basename "$deb")"
	# A kernel DKMS cannot build for makes the postinst fail; say so, and
	# still report the modules it built for the others.
	if ! PATH=$(arm64_uname):$PATH dpkg -i "$deb" >&2; then
		find "/var/lib/dkms/smmuv3/$ver" -name make.log -exec tail -n 40 {} \; >&2
		echo "DPKG_FAILED=1"
	fi
	echo "DEB=$deb"
	find "/var/lib/dkms/smmuv3/$ver" -path '*/module/smmuv3.ko*' 2>/dev/null |
	while read -r ko; do
		rel=${ko#/var/lib/dkms/smmuv3/"$ver"/}
		rel=${rel%%/*}
		echo "KO_$rel=$ko"
	done
}

remove_pkg() {
	if dpkg-query -W "$PKG" >/dev/null 2>&1; then
		log "dpkg --purge $PKG"
		PATH=$(arm64_uname):$PATH dpkg --purge "$PKG" >&2
	fi
	# An earlier `dkms add` of the same version (qemu/stock.sh) would clash.
	dkms remove "smmuv3/$(version)" --all >/dev/null 2>&1 || true
	rm -rf "/usr/src/smmuv3-$(version)"
}

# ensure PACKAGE...
# shellcheck source=qemu/ensure.sh
. "$HERE/ensure.sh"

# lintian on the .changes of a full build (the source package and the
# .deb); prints its tags as LINTIAN=... lines, and SHELLCHECK=... lines for
# ShellCheck's findings on the package's shell scripts.
lint() {
	local tmp ver rc=0
	ensure lintian shellcheck
	ver=$(version)
	tmp=$(mktemp -d /tmp/smmuv3-lint.XXXXXX)
	trap 'rm -rf "${tmp:-}"' EXIT
	copy_tree "$tmp"
	(cd "$tmp/smmuv3-$ver" && dpkg-buildpackage -d -us -uc >&2)
	lintian --version >&2
	lintian --display-info --pedantic --fail-on error,warning \
		"$tmp"/smmuv3_"$ver"_*.changes >"$tmp/lintian.out" 2>&1 || rc=1
	sed 's/^/LINTIAN=/' "$tmp/lintian.out"
	(cd "$REPO" && shellcheck -f gcc tools/smmuv3-ctl tools/initramfs-hook \
		tools/dkms-post-install debian/tests/dkms-build debian/smmuv3-dkms.postrm \
		qemu/deb.sh qemu/ensure.sh qemu/rootimg.sh qemu/e2e-guest/setup.sh \
		qemu/e2e-guest/steps.sh) >"$tmp/shellcheck.out" 2>&1 || rc=1
	sed 's/^/SHELLCHECK=/' "$tmp/shellcheck.out"
	return $rc
}

case "${1:-}" in
build) build ;;
lint) lint ;;
install) install ;;
remove) remove_pkg ;;
*) echo "usage: $0 build|install|remove|lint" >&2; exit 2 ;;
esac
