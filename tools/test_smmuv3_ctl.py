#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Tests of tools/smmuv3-ctl and tools/initramfs-hook against a fake system
tree: /etc, /boot, /sys and /proc under a temporary directory, and fake
dkms, dpkg-query, mokutil, update-grub, update-initramfs and lsinitramfs.

The fakes behave as the real tools do, as far as the tool relies on them:
update-grub reads /etc/default/grub and /etc/default/grub.d/*.cfg as GRUB's
grub-mkconfig does (a sourced shell file), and writes a normal entry with
GRUB_CMDLINE_LINUX and GRUB_CMDLINE_LINUX_DEFAULT and a recovery entry
with GRUB_CMDLINE_LINUX only (10_linux); update-initramfs runs the
package's hook with initramfs-tools' force_load(); dkms status prints
"smmuv3/V, KERNEL, aarch64: installed" for the kernels it has built for.

Run: python3 tools/test_smmuv3_ctl.py [-v]; exits non-zero on a failure."""

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
CTL = os.environ.get("SMMUV3_CTL_UNDER_TEST", os.path.join(HERE, "smmuv3-ctl"))
HOOK = os.environ.get("SMMUV3_HOOK_UNDER_TEST", os.path.join(HERE, "initramfs-hook"))
PARAM = "initcall_blacklist=arm_smmu_driver_init"
RUNNING = "7.3.4+deb13-arm64"
OTHER = "6.12.117+deb13-arm64"

FAKES = {
    # dkms status -m smmuv3 -k K
    "dkms": r"""#!/bin/sh
k=
while [ $# -gt 0 ]; do [ "$1" = -k ] && k=$2; shift; done
if grep -qx "$k" "$FAKE/dkms-built" 2>/dev/null; then
	echo "smmuv3/0.1.0, $k, aarch64: installed"
fi
""",
    "dpkg-query": r"""#!/bin/sh
for p; do :; done
if grep -qx "$p" "$FAKE/packages" 2>/dev/null; then printf installed; else exit 1; fi
""",
    "mokutil": r"""#!/bin/sh
case $1 in
--sb-state) cat "$FAKE/sb-state" ;;
--test-key)
	if grep -qx "$2" "$FAKE/enrolled" 2>/dev/null; then echo "$2 is already enrolled"
	else echo "$2 is not enrolled"; fi ;;
--list-new) cat "$FAKE/mok-new" 2>/dev/null ;;
esac
""",
    "update-grub": r"""#!/bin/sh
set -e
GRUB_CMDLINE_LINUX=""
GRUB_CMDLINE_LINUX_DEFAULT="quiet"
for f in "$SMMUV3_ROOT/etc/default/grub" "$SMMUV3_ROOT"/etc/default/grub.d/*.cfg; do
	[ -e "$f" ] && . "$f"
done
mkdir -p "$SMMUV3_ROOT/boot/grub"
{
	for v in $(ls "$SMMUV3_ROOT/boot" | sed -n 's/^vmlinuz-//p'); do
		echo "linux /boot/vmlinuz-$v root=UUID=x ro $GRUB_CMDLINE_LINUX $GRUB_CMDLINE_LINUX_DEFAULT"
		echo "linux /boot/vmlinuz-$v root=UUID=x ro single $GRUB_CMDLINE_LINUX"
	done
} >"$SMMUV3_ROOT/boot/grub/grub.cfg"
echo update-grub >>"$FAKE/calls"
""",
    # update-initramfs -u -k all|K: run the hook for each kernel; the
    # "initramfs" is the list of files force_load copied.
    "update-initramfs": r"""#!/bin/sh
set -e
k=
while [ $# -gt 0 ]; do [ "$1" = -k ] && k=$2; shift; done
[ "$k" = all ] && k=$(ls "$SMMUV3_ROOT/boot" | sed -n 's/^vmlinuz-//p')
for version in $k; do
	export version
	: >"$SMMUV3_ROOT/boot/initrd.img-$version"
	DESTDIR=$SMMUV3_ROOT/boot/initrd.img-$version sh "$HOOK" >>"$FAKE/hook.log" 2>&1
done
echo "update-initramfs $k" >>"$FAKE/calls"
""",
    "lsinitramfs": "#!/bin/sh\ncat \"$1\"\n",
    # What the hook sees of initramfs-tools (hook-functions) and kmod.
    "hook-functions": r"""
manual_add_modules() {
	for m; do echo "usr/lib/modules/$version/updates/dkms/$m.ko" >>"$DESTDIR"; done
}
force_load() { manual_add_modules "$@"; }
""",
    "modinfo": r"""#!/bin/sh
grep -qx "$2" "$FAKE/dkms-built"
""",
}


class Tree:
    """A fake system: an arm64 Debian with RUNNING installed (and OTHER
    when asked), its headers metapackage, Secure Boot off, one ACPI SMMU
    bound to the built-in driver and one DT SMMU bound to smmuv3."""

    def __init__(self, kernels=(RUNNING,), built=(RUNNING,), packages=("linux-image-arm64",
                 "linux-headers-arm64"), sb=False, enrolled=False, config="y", running=RUNNING):
        self.running = running
        self.dir = tempfile.mkdtemp(prefix="smmuv3-ctl-test.")
        self.root = os.path.join(self.dir, "root")
        self.fake = os.path.join(self.dir, "fake")
        self.bin = os.path.join(self.dir, "bin")
        for d in (self.root, self.fake, self.bin):
            os.makedirs(d)
        for name, text in FAKES.items():
            p = os.path.join(self.bin, name)
            with open(p, "w") as f:
                f.write(text)
            os.chmod(p, 0o755)
        for k in kernels:
            self.write("boot/vmlinuz-" + k, "")
            self.write("boot/config-" + k, "CONFIG_ARM_SMMU_V3=%s\nCONFIG_ARM_SMMU=y\n" % config)
        self.write_fake("dkms-built", "".join(k + "\n" for k in built))
        self.write_fake("packages", "".join(p + "\n" for p in packages))
        self.write_fake("sb-state", "SecureBoot %s\n" % ("enabled" if sb else "disabled"))
        self.write("var/lib/dkms/mok.pub", "cert")
        self.write_fake("enrolled", os.path.join(self.root, "var/lib/dkms/mok.pub") + "\n"
                        if enrolled else "")
        self.write("proc/cmdline", "BOOT_IMAGE=/boot/vmlinuz-%s root=UUID=x ro quiet\n" % RUNNING)
        self.write("etc/default/grub", 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX=""\n')
        os.makedirs(os.path.join(self.root, "etc/default/grub.d"))
        os.makedirs(os.path.join(self.root, "sys/bus/platform/drivers/arm-smmu-v3"))
        os.makedirs(os.path.join(self.root, "sys/bus/platform/drivers/smmuv3"))
        self.smmu("arm-smmu-v3.0.auto", "arm-smmu-v3")
        self.smmu("9050000.smmuv3", "smmuv3", compatible="arm,smmu-v3")
        self.smmu("9000000.pl011", "uart-pl011", compatible="arm,pl011\0arm,primecell")

    def write(self, rel, text):
        p = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)

    def write_fake(self, name, text):
        with open(os.path.join(self.fake, name), "w") as f:
            f.write(text)

    def smmu(self, name, driver, compatible=None):
        d = os.path.join(self.root, "sys/bus/platform/devices", name)
        os.makedirs(d)
        if driver:
            os.makedirs(os.path.join(self.root, "sys/bus/platform/drivers", driver), exist_ok=True)
            os.symlink("../../../bus/platform/drivers/" + driver, os.path.join(d, "driver"))
        if compatible:
            os.makedirs(os.path.join(d, "of_node"))
            with open(os.path.join(d, "of_node/compatible"), "w") as f:
                f.write(compatible + "\0")

    def run(self, *args):
        env = dict(os.environ, SMMUV3_ROOT=self.root, FAKE=self.fake, HOOK=HOOK,
                   SMMUV3_UNAME_R=self.running, SMMUV3_UNAME_M="aarch64",
                   SMMUV3_HOOK_FUNCTIONS=os.path.join(self.bin, "hook-functions"),
                   PATH=self.bin + ":" + os.environ.get("PATH", "/usr/bin:/bin"))
        for tool in ("dkms", "dpkg-query", "mokutil", "update-grub", "update-initramfs",
                     "lsinitramfs"):
            env["SMMUV3_" + tool.upper().replace("-", "_")] = os.path.join(self.bin, tool)
        p = subprocess.run(["sh", CTL] + list(args), env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout.decode()

    def read(self, rel):
        with open(os.path.join(self.root, rel)) as f:
            return f.read()

    def exists(self, rel):
        return os.path.exists(os.path.join(self.root, rel))

    def grub_entries(self):
        """(normal entries, recovery entries) of the generated grub.cfg."""
        lines = self.read("boot/grub/grub.cfg").splitlines()
        return ([l for l in lines if " single" not in l], [l for l in lines if " single" in l])

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class CtlTest(unittest.TestCase):
    def tree(self, **kw):
        t = Tree(**kw)
        self.addCleanup(t.cleanup)
        return t

    def assert_refused(self, t, why):
        rc, out = t.run("enable")
        self.assertEqual(rc, 1, out)
        self.assertIn(why, out)
        self.assertFalse(t.exists("etc/default/grub.d/smmuv3.cfg"), out)
        self.assertFalse(t.exists("boot/grub/grub.cfg"), "update-grub ran: " + out)

    def test_status_names_each_smmu_and_its_driver(self):
        t = self.tree()
        rc, out = t.run("status")
        self.assertEqual(rc, 0, out)
        self.assertIn("configuration: disabled", out)
        self.assertIn("SMMU arm-smmu-v3.0.auto: now arm-smmu-v3; after the next boot (%s): "
                      "arm-smmu-v3 (the kernel's driver)" % RUNNING, out)
        self.assertIn("SMMU 9050000.smmuv3: now smmuv3;", out)
        self.assertNotIn("pl011", out)

    def test_enable_disable_round_trip(self):
        t = self.tree()
        rc, out = t.run("enable")
        self.assertEqual(rc, 0, out)
        normal, recovery = t.grub_entries()
        self.assertTrue(normal and recovery)
        self.assertTrue(all(PARAM in l for l in normal), normal)
        self.assertFalse(any(PARAM in l for l in recovery), recovery)
        self.assertIn("smmuv3.ko", t.read("boot/initrd.img-" + RUNNING))
        rc, out = t.run("status")
        self.assertIn("configuration: enabled", out)
        self.assertIn("after the next boot (%s): smmuv3\n" % RUNNING, out)
        rc, out = t.run("disable")
        self.assertEqual(rc, 0, out)
        self.assertFalse(t.exists("etc/default/grub.d/smmuv3.cfg"))
        normal, recovery = t.grub_entries()
        self.assertFalse(any(PARAM in l for l in normal + recovery), normal)
        self.assertNotIn("smmuv3.ko", t.read("boot/initrd.img-" + RUNNING))

    def test_status_warns_when_grub_cfg_is_stale(self):
        t = self.tree()
        t.write("etc/default/grub.d/smmuv3.cfg", 'GRUB_CMDLINE_LINUX_DEFAULT="x %s"\n' % PARAM)
        t.write("boot/grub/grub.cfg", "linux /boot/vmlinuz-%s ro quiet\n" % RUNNING)
        rc, out = t.run("status")
        self.assertIn("does not have %s yet: run update-grub" % PARAM, out)
        self.assertIn("the initramfs of %s lacks smmuv3.ko" % RUNNING, out)

    def test_refused_kernel_without_module(self):
        t = self.tree(kernels=(RUNNING, OTHER), built=(RUNNING,))
        self.assert_refused(t, "kernel %s has no smmuv3.ko built by DKMS" % OTHER)

    def test_refused_old_kernel_installed(self):
        old = "6.1.0-40-arm64"
        t = self.tree(kernels=(RUNNING, old), built=(RUNNING,))
        self.assert_refused(t, "kernel %s has no smmuv3.ko built by DKMS and cannot have one" % old)

    def test_refused_headers_metapackage_missing(self):
        t = self.tree(packages=("linux-image-arm64",))
        self.assert_refused(t, "linux-headers-arm64 is not installed")

    def test_refused_flavour_headers_missing(self):
        t = self.tree(packages=("linux-image-arm64", "linux-headers-arm64",
                                "linux-image-cloud-arm64"))
        self.assert_refused(t, "linux-headers-cloud-arm64 is not installed")

    def test_refused_secure_boot_key_not_enrolled(self):
        t = self.tree(sb=True)
        self.assert_refused(t, "Secure Boot is on and the DKMS key")

    def test_secure_boot_key_enrolled_is_enabled(self):
        t = self.tree(sb=True, enrolled=True)
        rc, out = t.run("enable")
        self.assertEqual(rc, 0, out)

    def test_refused_old_running_kernel(self):
        old = "6.1.0-40-arm64"
        t = self.tree(kernels=(old,), built=(old,), running=old)
        self.assert_refused(t, "the running kernel %s is older than 6.12" % old)

    def test_refused_modular_driver(self):
        t = self.tree(config="m")
        self.assert_refused(t, "CONFIG_ARM_SMMU_V3=m")

    def test_initramfs_hook_skips_when_disabled(self):
        t = self.tree()
        rc, out = t.run("disable")
        self.assertEqual(rc, 0, out)
        self.assertEqual(t.read("boot/initrd.img-" + RUNNING), "")

    def test_usage(self):
        t = self.tree()
        self.assertEqual(t.run("bogus")[0], 2)
        self.assertEqual(t.run()[0], 2)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1] + sys.argv[1:])
