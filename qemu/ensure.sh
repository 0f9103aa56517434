# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Sourced by the harness's shell scripts that run inside qemu/env.sh's
# chroot (qemu/deb.sh, qemu/rootimg.sh).  Needs $CACHE and a log function.
#
# ensure PACKAGE...: install those this chroot lacks (once; under a lock,
# since several checkouts share the chroot).
ensure() {
	local p missing=()
	for p; do
		[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	exec 8>"$CACHE/.deb-tools.lock"
	flock 8
	log "installing ${missing[*]} into this chroot"
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >&2
	exec 8>&-
}
