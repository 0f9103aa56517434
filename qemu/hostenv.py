# SPDX-License-Identifier: GPL-2.0-only
"""Where the harness runs: the repo and cache paths here and in qemu/env.sh's
chroot, running commands in the chroot, logging and locking helpers."""

import contextlib
import fcntl
import os
import re
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
CACHE = os.environ.get("SMMUV3_CACHE", "/var/cache/smmuv3")
# Inside qemu/env.sh's chroot the repo is /src and the cache /cache.
IN_CHROOT = (REPO == "/src" and CACHE == "/cache") or os.environ.get("SMMUV3_IN_CHROOT") == "1"
# Where the user sees these directories (only differs inside the chroot).
SHOW_REPO = os.environ.get("SMMUV3_HOST_REPO", REPO)
SHOW_CACHE = os.environ.get("SMMUV3_HOST_CACHE", CACHE)


def note(msg):
    """Progress information: never looks like a test line."""
    print("# " + msg, flush=True)


def chroot_path(p):
    if IN_CHROOT:
        return p
    for host, inside in ((REPO, "/src"), (CACHE, "/cache")):
        if p == host or p.startswith(host + "/"):
            return inside + p[len(host):]
    raise SystemExit("run.py: %s is not visible in the chroot (only the repo and "
                     "$SMMUV3_CACHE are)" % p)


def local_path(p):
    """A path printed by a tool in the chroot, as seen from here."""
    if IN_CHROOT:
        return p
    for inside, host in (("/src", REPO), ("/cache", CACHE)):
        if p == inside or p.startswith(inside + "/"):
            return host + p[len(inside):]
    return p


def show(p):
    """A path as the user sees it on the host."""
    for mine, theirs in ((CACHE, SHOW_CACHE), (REPO, SHOW_REPO)):
        if p == mine or p.startswith(mine + "/"):
            return theirs + p[len(mine):]
    return p


def _translate_arg(a):
    if IN_CHROOT:
        return a
    for host, inside in ((REPO, "/src"), (CACHE, "/cache")):
        a = re.sub(re.escape(host) + r"(?=/|$|[:,= ])", inside, a)
    return a


def in_chroot(cmd, cwd=None):
    """CMD as a command line that runs it in the chroot (as is when already there)."""
    if IN_CHROOT:
        return (["env", "-C", cwd] if cwd else []) + cmd
    pre = [os.path.join(HERE, "env.sh"), "run"]
    if cwd:
        pre += ["env", "-C", chroot_path(cwd)]
    return pre + [_translate_arg(a) for a in cmd]


def run_logged(cmd, log, cwd=None, echo=False):
    """Run CMD with output to LOG (and to our stdout if ECHO); return the exit status."""
    with open(log, "ab") as f:
        f.write(("$ %s\n" % " ".join(shlex.quote(c) for c in cmd)).encode())
        f.flush()
        if not echo:
            return subprocess.call(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=cwd,
                                   stdin=subprocess.DEVNULL)
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=cwd,
                             stdin=subprocess.DEVNULL)
        for chunk in iter(lambda: p.stdout.readline(), b""):
            f.write(chunk)
            sys.stdout.write(chunk.decode("utf-8", "replace"))
        sys.stdout.flush()
        return p.wait()


def tail(path, n=15):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-n:])


@contextlib.contextmanager
def flock(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            note("waiting for %s (another run holds it)" % show(path))
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
