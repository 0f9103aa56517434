#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Run once inside the Debian 13 arm64 image of the end-to-end test, after
# debootstrap's second stage (qemu/rootimg.sh, under qemu-user; or the
# guest of qemu/rootimg.py): make it a system the test can drive.  Part of
# the image's cache key.
set -e
export DEBIAN_FRONTEND=noninteractive
passwd -d root >/dev/null
# The test drives each boot with systemd.run= (qemu/e2e.py); a root shell
# on the serial console is there for a person debugging it.
mkdir -p /etc/systemd/system/serial-getty@ttyAMA0.service.d
# shellcheck disable=SC2016 # $TERM is for systemd to expand
printf '[Service]\nExecStart=\nExecStart=-/sbin/agetty --autologin root --keep-baud 115200 %%I $TERM\n' \
	>/etc/systemd/system/serial-getty@ttyAMA0.service.d/autologin.conf
# GRUB's configuration (update-grub, run by smmuv3-ctl) is what the harness
# reads the kernel command line from; it boots the kernel directly.  No
# "quiet": the kernel's messages are what the test reads.
mkdir -p /boot/grub /etc/default/grub.d
printf 'GRUB_DEFAULT=0\nGRUB_TIMEOUT=1\nGRUB_CMDLINE_LINUX_DEFAULT=""\nGRUB_CMDLINE_LINUX="console=ttyAMA0"\n' \
	>/etc/default/grub
# No network in the test: nothing to wait for.
systemctl mask systemd-networkd-wait-online.service >/dev/null 2>&1 || true
# The test installs the second kernel and then its headers offline: the
# packages they need that the system lacks (gcc-14-for-host, ...), as apt
# resolves them here, next to them.  Only with the archive reachable (under
# qemu-user; the fallback guest of qemu/rootimg.py has no network).
T=/var/cache/smmuv3-test
apt-get clean
if apt-get update -qq >/dev/null 2>&1; then
	for part in image headers; do
		dirs=$T/image
		[ $part = headers ] && dirs="$T/image $T/headers"
		# From trixie-backports where they need it (linux-base for a
		# kernel from there), as an administrator installing one would.
		# shellcheck disable=SC2046,SC2086 # file names without blanks
		apt-get install -y -qq --download-only -t trixie-backports \
			$(find $dirs -name '*.deb') >/dev/null ||
			echo "setup: apt cannot resolve what the second kernel's $part needs" >&2
		mkdir -p "$T/$part-deps"
		find /var/cache/apt/archives -maxdepth 1 -name '*.deb' -exec mv {} "$T/$part-deps/" \;
	done
	ls "$T"/*-deps
else
	echo "setup: no archive: the second kernel's dependencies are not in $T" >&2
fi
apt-get clean
rm -rf /var/lib/apt/lists/*
ls /boot
