#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build (once) a guest kernel from Debian's linux-source-SERIES and print the
# directory holding it: Image, the build tree (usable as KDIR for external
# modules) and usr/include from headers_install.
#
#   qemu/kernel.sh NAME SERIES FRAGMENT...
#
# e.g. `kernel.sh debug 7.3 base debug`: Linux 7.3 with allnoconfig plus
# qemu/config/base.config and debug.config (later fragments override).
# The source is /usr/src/linux-source-SERIES.tar.xz when the chroot has it,
# else the linux-source-SERIES package is downloaded into the cache (the
# archive keeps only a few series in backports; older ones are in trixie).
#
# Runs where the cross compiler is (normally inside qemu/env.sh's chroot).
# The result is cached in $SMMUV3_CACHE/kernel/NAME-KEY, KEY being a hash
# of the config fragments, this script and the source tarball's name.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${SMMUV3_CACHE:-/var/cache/smmuv3}
USAGE="usage: kernel.sh NAME SERIES FRAGMENT... (e.g. debug 7.3 base debug)"
VARIANT=${1:?$USAGE}
SERIES=${2:?$USAGE}
shift 2
[ $# -gt 0 ] || { echo "$USAGE" >&2; exit 2; }
CROSS_COMPILE=${CROSS_COMPILE:-aarch64-linux-gnu-}
JOBS=${JOBS:-$(nproc)}

log() { echo "kernel: $*" >&2; }

FRAGS=
for f in "$@"; do
	[ -e "$HERE/config/$f.config" ] || { log "no qemu/config/$f.config"; exit 2; }
	FRAGS="$FRAGS $HERE/config/$f.config"
done

# The kernel source: $KSRC if given, else linux-source-SERIES.
if [ -n "${KSRC:-}" ]; then
	SRC=$KSRC
	SRCID=$(cd "$SRC" && make -s kernelversion)
else
	TARBALL=/usr/src/linux-source-$SERIES.tar.xz
	if [ ! -e "$TARBALL" ]; then
		debs=$CACHE/debs/linux-source-$SERIES
		if [ ! -e "$debs/.complete" ]; then
			log "downloading linux-source-$SERIES"
			rm -rf "$debs" && mkdir -p "$debs"
			(cd "$debs" && apt-get download -q=2 -oAPT::Sandbox::User=root \
				"linux-source-$SERIES" >&2)
			dpkg-deb --fsys-tarfile "$debs"/linux-source-"$SERIES"_*.deb |
				tar -C "$debs" -x "./usr/src/linux-source-$SERIES.tar.xz"
			rm -f "$debs"/*.deb
			touch "$debs/.complete"
		fi
		TARBALL=$debs/usr/src/linux-source-$SERIES.tar.xz
	fi
	SRCID="$(basename "$TARBALL") $(stat -c %s "$TARBALL")"
	SRC=$CACHE/src/$(basename "$TARBALL" .tar.xz)-$(echo "$SRCID" | sha256sum | cut -c1-8)
	if [ ! -e "$SRC/.complete" ]; then
		log "extracting $TARBALL"
		rm -rf "$SRC" && mkdir -p "$SRC"
		tar -C "$SRC" --strip-components=1 -xJf "$TARBALL"
		touch "$SRC/.complete"
	fi
fi

KEY=$( (cat $FRAGS "$HERE/kernel.sh"; echo "$SRCID") | sha256sum | cut -c1-16)
OUT=$CACHE/kernel/$VARIANT-$KEY
# One build of a given kernel at a time; a second caller waits for it.
mkdir -p "$CACHE/kernel"
exec 9>"$OUT.lock"
flock 9
if [ -e "$OUT/.complete" ]; then
	echo "$OUT"
	exit 0
fi

log "building $VARIANT kernel from $SRCID ($(cd "$SRC" && make -s kernelversion)) in $OUT"
rm -rf "$OUT" && mkdir -p "$OUT"
kmake() { make -C "$SRC" O="$OUT" ARCH=arm64 CROSS_COMPILE="$CROSS_COMPILE" "$@"; }

kmake -s allnoconfig
for f in $FRAGS; do
	grep -E '^CONFIG_' "$f" | while IFS='=' read -r sym val; do
		name=${sym#CONFIG_}
		case $val in
		y) "$SRC/scripts/config" --file "$OUT/.config" --enable "$name" ;;
		n) "$SRC/scripts/config" --file "$OUT/.config" --disable "$name" ;;
		m) "$SRC/scripts/config" --file "$OUT/.config" --module "$name" ;;
		\"*) "$SRC/scripts/config" --file "$OUT/.config" --set-str "$name" "${val//\"/}" ;;
		*) "$SRC/scripts/config" --file "$OUT/.config" --set-val "$name" "$val" ;;
		esac
	done
done
kmake -s olddefconfig

# Every requested value must have stuck.
bad=0
for f in $FRAGS; do
	while IFS='=' read -r sym val; do
		# Later fragments override earlier ones.
		want=$(grep -hE "^$sym=" $FRAGS | tail -n1 | cut -d= -f2-)
		[ "$want" = "$val" ] || continue
		if [ "$val" = n ]; then
			grep -qE "^$sym=" "$OUT/.config" && { log "$sym=$val did not stick"; bad=1; }
		else
			grep -qxF "$sym=$val" "$OUT/.config" || { log "$sym=$val did not stick"; bad=1; }
		fi
	done < <(grep -E '^CONFIG_' "$f")
done
[ $bad = 0 ] || exit 1

kmake -s -j"$JOBS" Image modules
kmake -s headers_install INSTALL_HDR_PATH="$OUT/usr" >/dev/null
ln -sfn "$SRC" "$OUT/source-tree"
touch "$OUT/.complete"
log "done: $OUT ($(du -sh "$OUT/arch/arm64/boot/Image" | cut -f1) Image)"
echo "$OUT"
