# SPDX-License-Identifier: GPL-2.0-only
"""A boot from its Boot value (qemu/spec.py) to its Outcome
(qemu/results.py): prepare() returns what it needs besides the kernel
(the firmware edits, its payload), boot.run() boots it, results.evaluate()
judges it.  run_boot() does the three for one boot; Queue boots several
guests at once and reports their Outcomes in the order they were asked for.
Each takes the session (qemu/session.py) for where things go."""

import concurrent.futures

import boot as guest
import dpdk
import dtb
import iort
import results
import spec
from hostenv import note

# A topology's payload (Topology.payload): NAME -> a function of the
# session returning the files [(guest path, local path)] that its boots'
# initramfs gets besides the harness's own.
PAYLOADS = {
    "dpdk": dpdk.guest_files,   # Debian's DPDK, for acpi2-dpdk only
}


def prepare(s, b, image, initrd):
    """What the Boot B needs before it boots, as values: (B with the QEMU
    arguments of its topology's device-tree edit (qemu/dtb.py) in
    qemu_extra, its initramfs, the results of making them).  The initramfs
    is INITRD, or a copy with its topology's payload (PAYLOADS), upgraded
    with its topology's ACPI tables (qemu/iort.py)."""
    if b.hw.payload:
        initrd = guest.add_files(s, initrd, b.tag + "-initramfs", PAYLOADS[b.hw.payload](s))
    initrd, pre = iort.prepare(s, guest, b, spec.acpidump_boot(b, s.opts), image, initrd)
    if b.hw.dtb:
        argv = guest.qemu_argv(s, b, guest.visible(s, image), initrd, *guest.console_paths(s, b))
        args, more = dtb.prepare(s, b.tag, b.hw, argv)
        b = spec.replace(b, qemu_extra=b.qemu_extra + tuple(args))
        pre = pre + more
    return b, initrd, pre


def run_boot(s, b, image, initrd, stream=False):
    """Prepare the Boot B, boot it with kernel IMAGE and INITRD and evaluate
    it: its Outcome, the results of preparing it first (nothing reported)."""
    b, initrd, pre = prepare(s, b, image, initrd)
    return with_results(pre, results.evaluate(b, *guest.run(s, b, image, initrd, stream=stream)))


def with_results(pre, outcome):
    """OUTCOME with the results PRE (of preparing its boot) before its own."""
    if pre:
        outcome.tests = list(pre) + list(outcome.tests)
    return outcome


class Queue:
    """Boots up to JOBS guests at once (a guest under TCG leaves part of the
    two cores idle: it waits on its disks, its timers, its own sleeps) and
    reports each Outcome to REPORT (a function) in the order the boots were
    asked for, at drain().  JOBS 1 boots and reports each one at once."""

    def __init__(self, s, report, jobs=1):
        self.s = s
        self.report = report
        self.jobs = jobs
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs) if jobs > 1 else None
        self.pending = []   # [(results of prepare(), future)]

    def boot(self, b, image, initrd):
        """Boot B and report its results, now (returns its Outcome) or, with
        a pool, when drain() comes to it (returns None)."""
        # Prepared here, one at a time (the acpidump boot, the DTB); the
        # results of that come out with the boot's own.
        b, initrd, pre = prepare(self.s, b, image, initrd)
        if self.pool is None:
            note("booting %s (%s)" % (b.tag, b.what))
            return self.report(with_results(pre, results.evaluate(
                b, *guest.run(self.s, b, image, initrd, stream=self.s.o.verbose))))
        self.pending.append((pre, self.pool.submit(self._boot, b, image, initrd)))
        return None

    def _boot(self, b, image, initrd):
        note("booting %s (%s; up to %d guests at once)" % (b.tag, b.what, self.jobs))
        return (b,) + guest.run(self.s, b, image, initrd)

    def drain(self):
        """Wait for the queued boots and report them in order."""
        if self.pool is None:
            return
        try:
            for pre, job in self.pending:
                self.report(with_results(pre, results.evaluate(*job.result())))
        finally:
            self.pending = []
            # A no-op when every boot was evaluated.  After an exception: no
            # queued boot starts, and the running guests are killed, so that
            # shutdown() waits for none that nobody will evaluate.
            self.pool.shutdown(wait=False, cancel_futures=True)
            guest.kill(self.s.guests)
            self.pool.shutdown(wait=True)
            self.pool = None
