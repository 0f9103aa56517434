# SPDX-License-Identifier: GPL-2.0-only
"""Where one run's things go and come from, as one value: the options, the
run's log directory, the build environment (the host with --kdir, else the
chroot), the QEMU to run, the guest's pieces (busybox, firmware, the data
file) and the QEMU processes running.  Every step takes it: the builders
(qemu/builds.py), booting (qemu/boot.py, qemu/pipeline.py), the firmware
edits, the static checks and the stock kernels.  It holds no result and
no build: those are the Runner's (qemu/run.py)."""

import contextlib
import os
import random
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field

from builds import CHROOT_BUSYBOX, CHROOT_FIRMWARE, DATA_SIZE
from hostenv import HERE, CACHE, IN_CHROOT, in_chroot, note, show
import spec

KEEP_RUNS = 30


@dataclass(eq=False)
class Session:
    o: object                       # run.py's options
    rundir: str                     # this run's log directory
    opts: spec.Options              # what every boot takes from the options
    cross: str                      # the compiler prefix of the builds
    host_build: bool                # builds on the host (--kdir), not in the chroot
    host_qemu: bool                 # QEMU on the host (--qemu), not in the chroot
    guests: set = field(default_factory=set)    # the QEMU processes running
    _chroot: list = field(default_factory=list)  # the chroot's directory, once asked

    @classmethod
    def start(cls, o):
        """The session of the options O, with a new log directory."""
        return cls(o=o, rundir=make_rundir(), opts=spec.Options.of(o),
                   cross=o.cross_compile or "aarch64-linux-gnu-",
                   host_build=bool(o.kdir) and not IN_CHROOT,
                   host_qemu=bool(o.qemu) and not IN_CHROOT)

    def log(self, name):
        """NAME's path in the run's log directory."""
        p = os.path.join(self.rundir, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def tag(self, name, kernel=None):
        """A boot's name in results and logs: the topology, prefixed by the
        guest kernel KERNEL unless it is the default one."""
        return spec.tag_for(name, kernel or self.o.kernel, self.opts)

    def chroot_dir(self):
        """The chroot's directory as seen from here (for busybox, firmware)."""
        if IN_CHROOT:
            return "/"
        if not self._chroot:
            out = subprocess.run([os.path.join(HERE, "env.sh"), "setup"], check=True,
                                 stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
            self._chroot.append(out.stdout.decode().strip().splitlines()[-1])
        return self._chroot[0]

    def build_cmd(self, cmd, cwd=None):
        """CMD for the build environment: the host with --kdir, else the chroot."""
        if self.host_build:
            return (["env", "-C", cwd] if cwd else []) + cmd
        return in_chroot(cmd, cwd)

    def busybox(self):
        p = self.o.busybox or os.path.join(self.chroot_dir(), CHROOT_BUSYBOX.lstrip("/"))
        if not os.path.exists(p):
            raise SystemExit("run.py: no busybox at %s (busybox-static:arm64)" % p)
        return p

    def firmware(self):
        return self.o.firmware or os.path.join(self.chroot_dir(), CHROOT_FIRMWARE.lstrip("/"))

    def data_file(self):
        p = self.log("data.bin")
        if not os.path.exists(p):
            with open(p, "wb") as f:
                f.write(random.Random(0x5AA5).randbytes(DATA_SIZE))
        return p


def make_rundir():
    """A new directory under $SMMUV3_CACHE/logs (also logs/latest), the
    oldest runs beyond KEEP_RUNS removed: its path."""
    logs = os.path.join(CACHE, "logs")
    os.makedirs(logs, exist_ok=True)
    base = time.strftime("%Y%m%d-%H%M%S")
    for i in range(100):
        d = os.path.join(logs, base if i == 0 else "%s-%d" % (base, i))
        try:
            os.mkdir(d)
            break
        except FileExistsError:
            continue
    tmp = os.path.join(logs, ".latest.%d" % os.getpid())
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    os.symlink(os.path.basename(d), tmp)
    os.replace(tmp, os.path.join(logs, "latest"))
    runs = sorted(x for x in os.listdir(logs) if re.match(r"\d{8}-\d{6}", x))
    for old in runs[:-KEEP_RUNS]:
        # Never a run still going (another checkout's make check: its
        # boots would lose their logs, and their results with them):
        # only finished ones (summary.txt) or ones untouched for a day.
        path = os.path.join(logs, old)
        with contextlib.suppress(OSError):
            if (os.path.exists(os.path.join(path, "summary.txt")) or
                    time.time() - os.path.getmtime(path) > 86400):
                shutil.rmtree(path, ignore_errors=True)
    note("logs: %s (also %s)" % (show(d), show(os.path.join(logs, "latest"))))
    return d
