# SPDX-License-Identifier: GPL-2.0-only
"""The Debian 13 arm64 root image of the end-to-end administrator test, cached
by content (qemu/rootimg.sh's key).  qemu/rootimg.sh builds it: stage 1
(debootstrap --foreign) and stage 2 (debootstrap --second-stage and
qemu/e2e-guest/setup.sh) chrooted into the arm64 tree under qemu-user.
Where binfmt_misc cannot be used, stage 2 runs here instead: a guest
booting Debian's stock 6.12 kernel with a busybox initramfs that mounts the
stage-1 image and runs the same two steps in it; under TCG on two cores
that is several times slower (about 30 minutes), done once per key.

Runs inside qemu/env.sh's chroot (it calls qemu/rootimg.sh and
qemu/stock.sh directly):

    qemu/env.sh run python3 /src/qemu/rootimg.py

Prints ROOTFS=<image> (and KERNEL=, SECOND= from stage 1) on stdout."""

import fcntl
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from initramfs import Initramfs  # noqa: E402
from kmods import module_index, resolve_modules, builtin_modules  # noqa: E402

BUSYBOX = "/usr/bin/busybox"  # busybox-static:arm64 (qemu/builds.py CHROOT_BUSYBOX)
TIMEOUT = 5400

# Stage 2 in the guest: configure every package, then make the system one
# the test can drive (qemu/e2e-guest/setup.sh, put into the image by stage 1).
INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(ls /modules | sort); do insmod /modules/$m || echo "insmod $m failed"; done
mkdir -p /mnt
n=0
while [ ! -b /dev/vda ] && [ $n -lt 30 ]; do sleep 1; n=$((n + 1)); done
mount -t ext4 /dev/vda /mnt || { echo STAGE2-FAIL mount; poweroff -f; }
mount -t proc proc /mnt/proc
mount -t sysfs sys /mnt/sys
mount -o bind /dev /mnt/dev
if chroot /mnt /debootstrap/debootstrap --second-stage &&
   chroot /mnt /bin/sh /root/smmuv3-setup.sh; then
	echo STAGE2-OK
else
	echo STAGE2-FAIL
	tail -n 40 /mnt/debootstrap/debootstrap.log 2>/dev/null
fi
rm -f /mnt/root/smmuv3-setup.sh
umount /mnt/dev /mnt/sys /mnt/proc
umount /mnt
sync
poweroff -f
"""

def sh_keyvals(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, check=True)
    return dict(l.split("=", 1) for l in p.stdout.decode().splitlines() if "=" in l)


def main():
    s1 = sh_keyvals(["bash", os.path.join(HERE, "rootimg.sh"), "build"])
    d = s1["DIR"]
    out = os.path.join(d, "rootfs.img")
    if "ROOTFS" in s1:
        print("ROOTFS=" + s1["ROOTFS"])
        print("KERNEL=" + s1["KERNEL"])
        print("SECOND=" + s1["SECOND"])
        return
    lock = open(os.path.join(d, ".stage2.lock"), "w")
    fcntl.flock(lock, fcntl.LOCK_EX)  # one stage 2 per key; the others wait for it
    if not os.path.exists(os.path.join(d, ".complete")):
        stock = sh_keyvals(["bash", os.path.join(HERE, "stock.sh"), "fetch", "6.12"])
        moddir = stock["MODULES"]
        # crc32c_generic: ext4 asks for crc32c (metadata_csum) with request_module,
        # which this initramfs cannot serve.
        mods = resolve_modules(["virtio_blk", "crc32c_generic", "ext4"], module_index(moddir),
                               builtin_modules(moddir))
        ird = Initramfs()
        ird.data("/init", INIT, mode=0o755)
        ird.file("/bin/busybox", BUSYBOX, mode=0o755)
        ird.dir("/modules")
        for i, (name, data) in enumerate(mods):
            ird.data("/modules/%02d-%s.ko" % (10 + i, name), data)
        ird_path = os.path.join(d, "stage2.cpio.gz")
        ird.write(ird_path)
        tmp = out + ".tmp"
        subprocess.run(["cp", "--sparse=always", s1["IMAGE"], tmp], check=True)
        console = os.path.join(d, "stage2.console")
        argv = ["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a57", "-smp", "2",
                "-m", "2G", "-display", "none", "-nodefaults", "-no-reboot",
                "-serial", "file:" + console, "-kernel", stock["VMLINUZ"], "-initrd", ird_path,
                "-append", "console=ttyAMA0 panic=-1",
                "-drive", "file=%s,if=none,format=raw,id=d0" % tmp,
                "-device", "virtio-blk-pci,drive=d0"]
        t = time.time()
        print("rootimg: stage 2 in a guest (console: %s)" % console, file=sys.stderr)
        try:
            subprocess.run(argv, timeout=TIMEOUT, check=False, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise SystemExit("rootimg: stage 2 timed out after %d s, see %s" % (TIMEOUT, console))
        with open(console, errors="replace") as f:
            text = f.read()
        if "STAGE2-OK" not in text:
            raise SystemExit("rootimg: stage 2 failed, see %s" % console)
        os.replace(tmp, out)
        with open(os.path.join(d, ".complete"), "w") as f:
            f.write("stage 2: %.0f s in a guest\n" % (time.time() - t))
        print("rootimg: stage 2 done in %.0f s" % (time.time() - t), file=sys.stderr)
    lock.close()
    print("ROOTFS=" + out)
    print("KERNEL=" + s1["KERNEL"])
    print("SECOND=" + s1["SECOND"])


if __name__ == "__main__":
    main()
