#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build (once) a guest kernel from Debian's linux-source-7.* and print the
# directory holding it: Image, the build tree (usable as KDIR for external
# modules) and usr/include from headers_install.
#
#   qemu/kernel.sh base|debug
#
# Runs where the cross compiler is (normally inside qemu/env.sh's chroot).
# The result is cached in $SMMUV3_CACHE/kernel/VARIANT-KEY, KEY being a hash
# of the config fragments, this script and the source tarball's name.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${SMMUV3_CACHE:-/var/cache/smmuv3}
VARIANT=${1:?usage: kernel.sh base|debug}
CROSS_COMPILE=${CROSS_COMPILE:-aarch64-linux-gnu-}
JOBS=${JOBS:-$(nproc)}

log() { echo "kernel: $*" >&2; }

case $VARIANT in
base) FRAGS="$HERE/config/base.config" ;;
debug) FRAGS="$HERE/config/base.config $HERE/config/debug.config" ;;
*) log "unknown variant $VARIANT"; exit 2 ;;
esac

# The kernel source: $KSRC if given, else the newest linux-source-7.* tarball.
if [ -n "${KSRC:-}" ]; then
	SRC=$KSRC
	SRCID=$(cd "$SRC" && make -s kernelversion)
else
	TARBALL=$(ls /usr/src/linux-source-7.*.tar.xz 2>/dev/null | sort -V | tail -n1)
	[ -n "$TARBALL" ] || { log "no /usr/src/linux-source-7.*.tar.xz"; exit 1; }
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
