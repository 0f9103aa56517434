#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Write a gzip-compressed "newc" cpio archive (a Linux initramfs).

Used as a library by qemu/run.py, and as a command:

    qemu/initramfs.py OUT.cpio.gz SRC=DEST [SRC=DEST ...]

SRC is a host file; DEST is its absolute path in the guest.  Parent
directories are created.  A DEST ending in "@" makes a symlink to SRC
instead (SRC is then the link target).  Files keep their executable bit.
Needs no cpio tool and no root; a few MB take well under a second.
"""

import gzip
import os
import stat
import sys

__all__ = ["Initramfs", "newc_header", "newc_pad"]


class Initramfs:
    """Collects directories, files and symlinks, then writes the archive."""

    def __init__(self):
        self._entries = {}  # guest path -> (mode, data bytes)

    def _parents(self, path):
        parts = path.strip("/").split("/")[:-1]
        for i in range(1, len(parts) + 1):
            self.dir("/" + "/".join(parts[:i]))

    def dir(self, path, mode=0o755):
        path = "/" + path.strip("/")
        if path != "/" and path not in self._entries:
            self._parents(path)
            self._entries[path] = (stat.S_IFDIR | mode, b"")

    def data(self, path, data, mode=0o644):
        if isinstance(data, str):
            data = data.encode()
        self._parents(path)
        self._entries["/" + path.strip("/")] = (stat.S_IFREG | mode, data)

    def file(self, path, src, mode=None):
        with open(src, "rb") as f:
            data = f.read()
        if mode is None:
            mode = 0o755 if os.stat(src).st_mode & 0o111 else 0o644
        self.data(path, data, mode)

    def symlink(self, path, target):
        self._parents(path)
        self._entries["/" + path.strip("/")] = (stat.S_IFLNK | 0o777, target.encode())

    def __contains__(self, path):
        return "/" + path.strip("/") in self._entries

    def write(self, out):
        """Write the gzip'd archive to the file OUT (atomically)."""
        chunks = []
        ino = 1000
        # Directories sort before their contents.
        for path in sorted(self._entries):
            mode, data = self._entries[path]
            chunks.append(newc_header(path.lstrip("/"), ino, mode, len(data)))
            chunks.append(data)
            chunks.append(newc_pad(len(data)))
            ino += 1
        chunks.append(newc_header("TRAILER!!!", 0, 0, 0))
        raw = b"".join(chunks)
        raw += b"\0" * (-len(raw) % 512)
        tmp = out + ".tmp"
        # Level 1: the archive is rebuilt every run; speed beats size.
        with open(tmp, "wb") as f:
            f.write(gzip.compress(raw, compresslevel=1, mtime=0))
        os.replace(tmp, out)


def newc_pad(n):
    """The zeros that align N bytes of a newc archive to 4."""
    return b"\0" * (-n % 4)


def newc_header(name, ino, mode, size):
    """A newc entry's header for NAME (aligned to 4 with its name)."""
    name_b = name.encode() + b"\0"
    nlink = 2 if stat.S_ISDIR(mode) else 1
    fields = (ino, mode, 0, 0, nlink, 0, size, 0, 0, 0, 0, len(name_b), 0)
    hdr = b"070701" + b"".join(b"%08X" % v for v in fields) + name_b
    return hdr + newc_pad(len(hdr))


def main(argv):
    if len(argv) < 2 or argv[0] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    ird = Initramfs()
    for spec in argv[1:]:
        src, _, dest = spec.partition("=")
        if not dest.startswith("/"):
            print("initramfs: bad SRC=DEST: %s" % spec, file=sys.stderr)
            return 2
        if dest.endswith("@"):
            ird.symlink(dest[:-1], src)
        else:
            ird.file(dest, src)
    ird.write(argv[0])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
