# SPDX-License-Identifier: GPL-2.0-only
"""Reading what a boot produced: the guest's result channel (TAP and KTAP
from the selftests and KUnit), the kernel log (WARN, BUG, lockdep, KASAN,
... reports), kmemleak's output; and collecting PASS/FAIL/SKIP results."""

import fnmatch
import os
import re
import threading
from dataclasses import dataclass, field

import dtb
from hostenv import REPO, note, show
from spec import testtimeout
from topologies import (EXPECTED_ERRORS, ALLOWED_SKIPS, KUNIT_SUITES, BUILD_FEATURES, KUNIT_GUARDS,
                        selftest_names, where_matches)


# --------------------------------------------------------------------------
# Results

class Results:
    def __init__(self):
        self.tests = []  # (status, name, reason)
        self.lock = threading.Lock()

    def add(self, status, name, reason=""):
        reason = " ".join(str(reason).split())
        if len(reason) > 300:
            reason = reason[:297] + "..."
        with self.lock:
            self.tests.append((status, name, reason))
        line = "%s %s" % (status, name)
        if reason and status != "PASS":
            line += " : " + reason
        print(line, flush=True)

    def count(self, status):
        return sum(1 for t in self.tests if t[0] == status)

    def summary(self):
        p, f, s = self.count("PASS"), self.count("FAIL"), self.count("SKIP")
        line = "%d passed, %d failed" % (p, f)
        if s:
            line += ", %d skipped" % s
        return line

    def write(self, path):
        """Every result and the summary line, to PATH; returns the summary."""
        summary = self.summary()
        with open(path, "w") as f:
            for st, name, reason in self.tests:
                f.write("%s %s%s\n" % (st, name, " : " + reason if reason else ""))
            f.write(summary + "\n")
        return summary


# --------------------------------------------------------------------------
# TAP / KTAP

RESULT_RE = re.compile(r"^(\s*)(ok|not ok)\s+(\d+)\b\s*(?:-\s*)?(.*?)\s*$")
PLAN_RE = re.compile(r"^(\s*)1\.\.(\d+)")
SUBTEST_RE = re.compile(r"^(\s*)#\s*Subtest:\s*(\S.*?)\s*$")


class Node:
    def __init__(self, name, ok, directive, reason):
        self.name, self.ok, self.directive, self.reason = name, ok, directive, reason
        self.children = []
        self.missing = None  # (planned, seen) when a plan was not met
        self.diag = []       # lines printed before the result line

    def status(self):
        """A "not ok" is a FAIL whatever its directive: kselftest and KUnit
        print their skips as "ok ... # SKIP", and no test of ours is an
        expected failure (XFAIL) or unfinished (TODO)."""
        d = self.directive.upper()
        if not self.ok:
            return "FAIL"
        if d.startswith("SKIP") or d.startswith("TODO"):
            return "SKIP"
        return "PASS"


def _indent(s):
    return len(s.expandtabs(8))


def parse_tap(lines):
    """Parse (K)TAP, nested by indentation.  Returns (top-level nodes, plan, leftover
    names): leftover are subtests that started but never reported a result."""
    pending = {}   # indent -> [Node] waiting for their parent's result line
    plans = {}     # indent -> planned count
    subtests = {}  # indent -> name from "# Subtest:"
    diag = {}      # indent -> other lines since the last result there
    for raw in lines:
        line = raw.rstrip("\r\n")
        m = RESULT_RE.match(line)
        if m:
            ind = _indent(m.group(1))
            rest = m.group(4)
            name, _, directive = rest.partition("#")
            directive = directive.strip()
            # "# SKIP reason": the reason without the keyword.
            reason = re.sub(r"^(SKIP|TODO|XFAIL)\b:?\s*", "", directive, flags=re.I)
            node = Node(name.strip() or "test-%s" % m.group(3), m.group(2) == "ok",
                        directive, reason)
            node.diag = diag.pop(ind, [])
            for k in [k for k in diag if k > ind]:
                node.diag += diag.pop(k)
            if not node.ok and not node.reason:
                node.reason = _diag_reason(node.diag)
            for k in sorted(k for k in pending if k > ind):
                kids = pending.pop(k)
                node.children.extend(kids)
                if k in plans:
                    if plans[k] != len(kids):
                        node.missing = (plans[k], len(kids))
                    del plans[k]
            for k in [k for k in plans if k > ind]:
                if plans[k]:  # planned children that never showed up at all
                    node.missing = (plans[k], 0)
                del plans[k]
            for k in [k for k in subtests if k > ind]:
                del subtests[k]
            pending.setdefault(ind, []).append(node)
            continue
        m = PLAN_RE.match(line)
        if m:
            ind = _indent(m.group(1))
            plans[ind] = int(m.group(2))
            continue
        m = SUBTEST_RE.match(line)
        if m:
            subtests[_indent(m.group(1))] = m.group(2)
            continue
        if line.strip():
            diag.setdefault(_indent(line), []).append(line.strip())
    if not pending:
        return [], plans.get(min(plans)) if plans else None, []
    top = min(pending)
    nodes = pending.pop(top)
    top_plan = plans.pop(top, None)
    leftover = []
    # Deeper results without a closing parent line: the parent crashed or hung.
    for k in sorted(pending):
        parent = Node(subtests.get(k, "incomplete"), False, "",
                      "no result line (crashed or hung?)")
        parent.children = pending[k]
        if k in plans and plans[k] != len(pending[k]):
            parent.missing = (plans[k], len(pending[k]))
        nodes.append(parent)
        leftover.append(parent.name)
    # The same one level up: results whose enclosing test never ended.
    outer = [k for k in plans if k < top]
    if outer:
        parent = Node(subtests.get(top, "incomplete"), False, "",
                      "no result line (crashed or hung?)")
        parent.children = nodes
        if top_plan is not None and top_plan != len(nodes):
            parent.missing = (top_plan, len(nodes))
        nodes, top_plan = [parent], plans[max(outer)]
        leftover.append(parent.name)
    return nodes, top_plan, leftover


# kselftest_harness.h's report of a failed EXPECT_*() or ASSERT_*():
# "# FILE.c:LINE:TEST:Expected A (x) == B (y)".
# KUnit's "EXPECTATION FAILED at FILE.c:LINE" (kunit_skip() after a failed
# KUNIT_EXPECT_*() also turns the failure into a skip).
EXPECT_FAILED_RE = re.compile(r"\.c:\d+:[^:]*:Expected\b|(EXPECTATION|ASSERTION) FAILED at ")

FAILURE_RE = re.compile(r"EXPECTATION FAILED|ASSERTION FAILED|Expected|FAIL|fail|error|"
                        r"[a-z_]+\.c:\d+")


def _diag_reason(diag):
    """A failure's explanation from the lines before its "not ok"."""
    lines = [d.lstrip("# ").strip() for d in diag]
    lines = [d for d in lines if d and not re.match(r"(Subtest:|module:|RUN\b|OK\b|Totals:)", d)]
    for i, d in enumerate(lines):
        if FAILURE_RE.search(d):
            return " ".join(lines[i:i + 3])
    return " ".join(lines[-3:])


def tap_leaves(nodes, prefix, results):
    """Report every leaf test case of a parsed (K)TAP tree."""
    for n in nodes:
        path = "%s/%s" % (prefix, n.name)
        if n.children:
            tap_leaves(n.children, path, results)
            kids_failed = any(_subtree_failed(c) for c in n.children)
            if n.status() == "FAIL" and not kids_failed:
                results.add("FAIL", path, n.reason or "failed, although its subtests passed")
            if n.missing:
                results.add("FAIL", path, "%d of %d planned subtests reported" %
                            (n.missing[1], n.missing[0]))
        elif n.missing:
            results.add("FAIL", path, "none of %d planned subtests reported" % n.missing[0])
        elif n.status() == "SKIP" and any(EXPECT_FAILED_RE.search(d) for d in n.diag):
            # A SKIP after a failed EXPECT (kselftest_harness's SKIP() sets
            # the exit code over the failure): the failure stands.
            failed = [d.lstrip("# ") for d in n.diag if EXPECT_FAILED_RE.search(d)]
            results.add("FAIL", path, "skipped (%s) after a failed expectation: %s" % (
                n.reason, " ".join(failed[:2])))
        else:
            results.add(n.status(), path, n.reason)


def _subtree_failed(n):
    return n.status() == "FAIL" or any(_subtree_failed(c) for c in n.children)


# --------------------------------------------------------------------------
# Kernel log reports

# boot.py's reason for a guest that finished but hung in poweroff.
POWEROFF_HUNG = "did not power off"

REPORT_RES = [re.compile(p) for p in [
    r"WARNING:", r"\bBUG:", r"kernel BUG at", r"\bOops\b", r"Kernel panic", r"KASAN", r"UBSAN",
    r"possible circular locking", r"possible recursive locking", r"inconsistent lock state",
    r"suspicious RCU usage", r"bad unlock balance", r"held lock freed",
    r"lock held when returning to user space", r"INFO: task .* blocked for more than",
    r"rcu: INFO:", r"detected stall", r"soft lockup", r"hard LOCKUP",
    r"unreferenced object", r"Unable to handle kernel", r"Internal error:",
    # Records lost before they reached the console: one of them may be the
    # report or the driver error this scan is for.
    r"printk messages dropped",
    # A sanitiser that switched itself off checks nothing from then on.
    r"DMA-API: debugging out of memory", r"Disabling lock debugging due to kernel taint",
]]
TIMESTAMP_RE = re.compile(r"^\[\s*\d+\.\d+\]\s?")
ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|[\x00-\x08\x0b-\x1f]")


def console_lines(path):
    """The guest console's lines without timestamps and terminal escapes
    ([] when it cannot be read)."""
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return []
    return [TIMESTAMP_RE.sub("", ANSI_RE.sub("", raw)).strip() for raw in text.splitlines()]


# printk's KERN_WARNING: a console log level at or below it hides the
# driver's dev_warn() lines (and the kernel's WARNING reports' headers).
KERN_WARNING = 4


def console_problems(path, phases, done, printk):
    """Why the console cannot be trusted to hold the whole kernel log, as
    reasons ([] when it can): unreadable or empty, no kernel banner (the log
    went to another console), a phase of the result channel (PHASES, in
    order) without its "smtest: phase" marker, no "smtest: done" although
    the guest finished (DONE), or PRINTK (init.sh's @@printk: the guest's
    /proc/sys/kernel/printk and ignore_loglevel) a level that does not
    print warnings.  A boot that passed its kernel-log and driver-log
    checks on such a console would have passed them on nothing."""
    try:
        size = os.path.getsize(path)
    except OSError as e:
        return ["console %s unreadable: %s" % (path, e.strerror)]
    if size == 0:
        return ["console %s is empty: the kernel log went elsewhere" % path]
    lines = console_lines(path)
    out = []
    if not any(line.startswith("Linux version ") for line in lines):
        out.append("no kernel banner (\"Linux version\") on the console: its first "
                   "messages, or all of them, went elsewhere")
    seen = [m.group(1) for m in map(PHASE_RE.match, lines) if m]
    missing = [p for p in phases if p not in seen]
    if missing:
        out.append("phase marker(s) of /init missing from the console: %s (the kernel "
                   "log did not reach it, or lost records)" % ", ".join(missing))
    if done and not any(line.startswith("smtest: done after") for line in lines):
        out.append("no \"smtest: done\" on the console although the guest finished: "
                   "the end of the kernel log is missing")
    if done:
        if printk is None:
            out.append("the guest did not report its console log level (@@printk)")
        else:
            w = printk.split()
            ignore = "ignore_loglevel=Y" in w
            try:
                level = int(w[0])
            except (IndexError, ValueError):
                level = None
            if level is None:
                out.append("unreadable console log level: %r" % printk)
            elif level <= KERN_WARNING and not ignore:
                out.append("console log level %d: warnings (level %d) are not printed "
                           "(quiet or loglevel= on the command line?)" % (level, KERN_WARNING))
    return out


def console_reports(path):
    return [line for line in console_lines(path)
            if not line.startswith("smtest:") and any(r.search(line) for r in REPORT_RES)]



def guest_done(path):
    """True once the guest has written "@@done" on its result channel."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 4096))
            return b"\n@@done" in b"\n" + f.read()
    except OSError:
        return False


def _wrap(name, node):
    parent = Node(name, node.ok, "", "")
    parent.children = [node]
    return parent


def _kmemleak_objects(body):
    """One entry per 'unreferenced object', with its first useful backtrace frames."""
    objs, cur = [], None
    for line in body:
        s = line.strip()
        if s.startswith("unreferenced object"):
            if cur:
                objs.append(cur)
            cur = [s.rstrip(":"), []]
        elif cur is not None and re.match(r"^\[?<?[0-9a-fx]*>?\]?\s*\S+\+0x", s) or \
                (cur is not None and re.match(r"^\S+\+0x[0-9a-f]+/0x[0-9a-f]+", s)):
            frame = re.sub(r"^\[<[0-9a-f]+>\]\s*", "", s)
            if not re.match(r"(kmemleak_|__kmalloc|kmalloc|__kmem|kmem_cache|slab_|"
                            r"__alloc|alloc_|__do_kmalloc|___slab|__slab)", frame):
                cur[1].append(frame)
    if cur:
        objs.append(cur)
    return ["%s; allocated from %s" % (o[0], " < ".join(o[1][:3]) or "?") for o in objs]


def keyvals(text):
    """{KEY: value} of the KEY=value lines of TEXT (KEY in capitals)."""
    kv = {}
    for line in text.splitlines():
        k, sep, v = line.partition("=")
        if sep and re.match(r"^[A-Z_]+$", k):
            kv[k] = v.strip()
    return kv


# --------------------------------------------------------------------------
# The driver's own error reports (issue 22): its error and warning lines on
# the kernel log, and its debugfs error counters.

# The printk levels whose messages are errors: an error or warning line of
# smmuv3.ko fails the boot unless the test that provoked it declares it.
# (dev_info, dev_notice and dev_dbg lines are not errors.)
_KERN_ERRORS = r"KERN_(?:EMERG|ALERT|CRIT|ERR|WARNING)\b"
ERROR_PRINTS = (r"\b(?:(?:dev_err|dev_warn|dev_crit|dev_alert|dev_emerg|pr_err|pr_warn|pr_crit|"
                r"pr_alert|pr_emerg)(?:_ratelimited|_once)?\s*\(|dev_err_probe\s*\(|"
                r"(?:printk|dev_printk)(?:_ratelimited|_once)?\s*\(\s*(?=" + _KERN_ERRORS + r"))")
# Fewer rules than this: the reader has stopped finding the driver's
# messages (44 when this was written).
DRIVER_RULES_FLOOR = 20
_CONV_RE = re.compile(r"%(?:%|[-#0 +']*(?:\d+|\*)?(?:\.(?:\d+|\*))?"
                      r"(?:hh|h|ll|l|z|t|j)?(?:p[a-zA-Z]*|[diouxXcs]))")


class Rule:
    """One error or warning message of the driver: its format string turned
    into a regex (each conversion matches anything)."""

    def __init__(self, fmt, where):
        self.fmt = fmt
        self.where = where  # module/FILE.c:LINE
        parts, pos = [], 0
        for m in _CONV_RE.finditer(fmt):
            parts.append(re.escape(fmt[pos:m.start()]))
            parts.append("%" if m.group(0) == "%%" else ".*?")
            pos = m.end()
        parts.append(re.escape(fmt[pos:]))
        self.re = re.compile("".join(parts))


def _c_strings(text):
    """The first argument of TEXT that is made of adjacent C string literals,
    concatenated (None if there is none)."""
    depth, i, out, started = 0, 0, [], False
    while i < len(text):
        c = text[i]
        if c == '"':
            j, buf = i + 1, []
            while text[j] != '"':
                if text[j] == "\\":
                    buf.append({"n": "\n", "t": "\t", '"': '"', "\\": "\\"}.get(text[j + 1],
                                                                           text[j + 1])
                               )
                    j += 2
                    continue
                buf.append(text[j])
                j += 1
            out.append("".join(buf))
            started = True
            i = j + 1
            continue
        if started and c in ",)" and depth == 0:
            break
        if c == "(":
            depth += 1
        elif c == ")":
            if depth == 0:
                break
            depth -= 1
        elif c == "," and depth == 0:
            out = []
        i += 1
    return "".join(out) if started else None


def driver_rules(module_dir, problems=None):
    """Every error and warning message printed by the driver's sources
    (MODULE_DIR/*.c, not its KUnit tests), as Rules.  Read from the sources
    when the check runs: a new error message is covered without a list to
    keep.  What makes the rules incomplete goes to PROBLEMS: MODULE_DIR
    unreadable, fewer rules than DRIVER_RULES_FLOOR, a print whose format
    is not a string literal."""
    rules = []
    problems = [] if problems is None else problems
    try:
        names = sorted(n for n in os.listdir(module_dir) if n.endswith(".c"))
    except OSError as e:
        problems.append("cannot list %s: %s" % (module_dir, e.strerror))
        names = []
    for n in names:
        with open(os.path.join(module_dir, n), errors="replace") as f:
            text = f.read()
        for m in re.finditer(ERROR_PRINTS, text):
            fmt = _c_strings(text[m.end():m.end() + 2000])
            if not fmt:
                problems.append("module/%s:%d: an error or warning print whose format "
                                "results.py cannot read: its lines would go unchecked" % (
                                    n, text.count("\n", 0, m.start()) + 1))
                continue
            line = text.count("\n", 0, m.start()) + 1
            rules.append(Rule(fmt.rstrip("\n"), "module/%s:%d" % (n, line)))
    # A ratelimited message that was suppressed: the kernel says how many
    # times, naming the function that printed it.
    if len(rules) < DRIVER_RULES_FLOOR:
        problems.append("%d error and warning messages read from %s, fewer than %d: the "
                        "driver-log check would miss most" % (len(rules), module_dir,
                                                              DRIVER_RULES_FLOOR))
    rules.append(Rule("smmuv3_%s: %d callbacks suppressed", "lib/ratelimit.c"))
    return rules


PHASE_RE = re.compile(r"^smtest: phase (\S+)")


def console_driver_errors(lines, rules):
    """[(phase, rule, line)] for every console line that is one of RULES'
    messages; the phase is the last "smtest: phase NAME" before it."""
    out, phase = [], "boot"
    for line in lines:
        m = PHASE_RE.match(line)
        if m:
            phase = m.group(1)
            continue
        if line.startswith("smtest:"):
            continue
        for r in rules:
            if r.re.search(line):
                out.append((phase, r, line))
                break
    return out


# The counters of /sys/kernel/debug/smmuv3/<instance>/stats that do NOT
# count errors; every other counter module/debugfs.c prints does (any growth
# is an error the SMMU or the driver reported), so that a counter added there
# is checked without anyone adding it here.  Names as stats_counters() reads
# them from the sources, each conversion written "<x>".  Not errors: the
# commands issued (per opcode), CMD_SYNCs, ASIDs/VMIDs in use, events handed
# to a vIOMMU (events_to_guest: also counted under "event NAME").
NON_ERROR_COUNTERS = ["cmd <x>", "cmd_syncs", "asids_used", "vmids_used", "events_to_guest"]


def stats_counters(module_dir):
    """The counter names smmuv3_stats_show() (MODULE_DIR/debugfs.c) prints,
    with each conversion of the name written "<x>" ("cmd <x>", "event <x>",
    "gerror_bit<x>", "cmd_errors", ...): the format strings of its
    seq_printf()s, one "NAME VALUE" per line.  [] if they cannot be read."""
    try:
        with open(os.path.join(module_dir, "debugfs.c"), errors="replace") as f:
            text = f.read()
    except OSError:
        return []
    m = re.search(r"\bsmmuv3_stats_show\s*\([^)]*\)\s*\{(.*?)\n\}", text, re.S)
    if not m:
        return []
    names = []
    body = m.group(1)
    for c in re.finditer(r"\bseq_(?:printf|puts)\s*\(", body):
        fmt = _c_strings(body[c.end():c.end() + 1000])
        for line in (fmt or "").split("\n"):
            if not line:
                continue
            # The last conversion is the value; the name is what precedes it.
            convs = list(_CONV_RE.finditer(line))
            if not convs or line[convs[-1].end():].strip():
                names.append(None)  # a line that is not "NAME VALUE"
                continue
            name = line[:convs[-1].start()].rstrip()
            names.append(_CONV_RE.sub("<x>", name))
    return names


def _counter_re(name):
    return re.compile("^%s$" % r"\S+".join(re.escape(p) for p in name.split("<x>")))


def counter_kinds(names):
    """{counter name: "error" | "other"} classifier over NAMES (stats_counters()),
    and the problems of the data: a NON_ERROR_COUNTERS entry the sources do
    not print, a format line that is not "NAME VALUE", or no counters at all."""
    problems = []
    if not names:
        problems.append("no counters found in module/debugfs.c's smmuv3_stats_show(): "
                        "the counter check would check nothing")
    if None in names:
        problems.append("a seq_printf() line of smmuv3_stats_show() is not \"NAME VALUE\": "
                        "results.py cannot tell its counter")
    for n in NON_ERROR_COUNTERS:
        if n not in names:
            problems.append("NON_ERROR_COUNTERS lists \"%s\", which module/debugfs.c does "
                            "not print: update qemu/results.py" % n)
    known = [(n, _counter_re(n)) for n in names if n]

    def kind(key):
        for n, r in known:
            if r.match(key):
                return "other" if n in NON_ERROR_COUNTERS else "error"
        return None  # not a counter of the sources
    return kind, problems


def parse_stats(body, problems=None):
    """{instance: {counter: value}} from a stats section (init.sh stats()).
    Every line that is not "instance NAME" or "NAME INTEGER", and a counter
    or instance seen twice, is appended to PROBLEMS: a line the check cannot
    read is a counter it does not check (a failing cat, a name that two
    values share)."""
    out, cur = {}, None
    problems = [] if problems is None else problems
    for line in body:
        line = line.strip()
        if not line:
            continue
        if line.startswith("instance "):
            name = line.split(None, 1)[1]
            if name in out:
                problems.append("instance %s listed twice" % name)
            cur = out.setdefault(name, {})
            continue
        key, _, val = line.rpartition(" ")
        if cur is None or not key or not re.match(r"^-?\d+$", val):
            problems.append("unreadable line: %r" % line[:100])
            continue
        if key in cur:
            problems.append("%s: \"%s\" twice (%d, %s): the values cannot be told apart" % (
                [k for k, v in out.items() if v is cur][0], key, cur[key], val))
        cur[key] = int(val)
    return out


def counter_growth(before, after, kind):
    """{counter: growth summed over instances} of the counters KIND
    (counter_kinds()) does not call "other" (the error counters, and any
    counter the sources do not print) between two snapshots.  An instance
    new in AFTER, or whose counter went down (the driver was unloaded and
    loaded again: smmuv3_lifecycle), counts from 0."""
    grew = {}
    for inst, counters in after.items():
        prev = before.get(inst, {})
        for k, v in counters.items():
            if kind(k) == "other":
                continue
            d = v - prev.get(k, 0)
            if d < 0:
                d = v
            if d > 0:
                grew[k] = grew.get(k, 0) + d
    return grew


def kunit_suites_in_sources(tests_dir):
    """The names of the KUnit suites defined in TESTS_DIR/*.c."""
    names = set()
    try:
        files = sorted(n for n in os.listdir(tests_dir) if n.endswith(".c"))
    except OSError:
        return names
    for n in files:
        with open(os.path.join(tests_dir, n), errors="replace") as f:
            names.update(re.findall(r'\.name\s*=\s*"(smmuv3-[^"]+)"', f.read()))
    return names


def kunit_cases_in_sources(tests_dir):
    """The KUnit cases of each suite of TESTS_DIR/*.c, read from the sources
    when the check runs (as driver_rules() reads the driver's messages): the
    KUNIT_CASE*(name, ...) entries of the kunit_case array each suite's
    .test_cases names, each with the #if conditions around it (a tuple of
    the conditions' texts; "!(X)" for an #else branch).  Returns
    ({suite: [(case, conditions)]}, problems): problems say what could not
    be read (no suites, a suite whose array is not found, no cases)."""
    out, problems = {}, []
    try:
        files = sorted(n for n in os.listdir(tests_dir) if n.endswith(".c"))
    except OSError as e:
        return out, ["cannot list %s: %s" % (tests_dir, e.strerror)]
    for n in files:
        with open(os.path.join(tests_dir, n), errors="replace") as f:
            text = f.read()
        arrays, stack, cur = {}, [], None
        for line in text.splitlines():
            d = re.match(r"^\s*#\s*(if|ifdef|ifndef|elif|else|endif)\b\s*(.*?)\s*(?:/[*/].*)?$",
                         line)
            if d:
                kw, cond = d.groups()
                if kw == "if":
                    stack.append(cond)
                elif kw == "ifdef":
                    stack.append("defined(%s)" % cond)
                elif kw == "ifndef":
                    stack.append("!defined(%s)" % cond)
                elif kw == "elif" and stack:
                    stack[-1] = "!(%s) && %s" % (stack[-1], cond)
                elif kw == "else" and stack:
                    stack[-1] = "!(%s)" % stack[-1]
                elif kw == "endif" and stack:
                    stack.pop()
                continue
            m = re.match(r"^\s*static\s+struct\s+kunit_case\s+(\w+)\s*\[\s*\]", line)
            if m:
                cur = arrays.setdefault(m.group(1), [])
                continue
            if cur is not None:
                for c in re.finditer(r"\bKUNIT_CASE\w*\s*\(\s*(\w+)", line):
                    cur.append((c.group(1), tuple(stack)))
                if "};" in line:
                    cur = None
        for m in re.finditer(r"static\s+struct\s+kunit_suite\s+\w+\s*=\s*\{(.*?)\};", text, re.S):
            name = re.search(r'\.name\s*=\s*"([^"]+)"', m.group(1))
            arr = re.search(r"\.test_cases\s*=\s*(\w+)", m.group(1))
            if not name:
                continue
            if not arr or arr.group(1) not in arrays:
                problems.append("module/tests/%s: suite %s: its test_cases array not found" % (
                    n, name.group(1)))
                continue
            if not arrays[arr.group(1)]:
                problems.append("module/tests/%s: suite %s: no KUNIT_CASE entries read" % (
                    n, name.group(1)))
            out[name.group(1)] = arrays[arr.group(1)]
    if not out:
        problems.append("no KUnit suites found in %s" % tests_dir)
    return out, problems


# --------------------------------------------------------------------------
# Evaluating a boot: its result channel and kernel log against its Boot
# (qemu/spec.py), with topologies.py's claims (ALLOWED_SKIPS,
# EXPECTED_ERRORS, KUNIT_SUITES, SELFTEST_NAMES, BUILD_FEATURES).

# Seconds a guest may take from its last result ("@@done") to QEMU's exit.
POWEROFF_GRACE = 60


@dataclass
class Outcome:
    """What one boot showed: its results ((status, name, reason), in order,
    its skips already checked against ALLOWED_SKIPS when the boot has a
    verdict), its benchmark section's lines (None: none) and each
    selftest's output."""
    boot: object
    status: str
    elapsed: float
    console: str
    results: str
    tests: list
    bench: list = None
    selftests: dict = field(default_factory=dict)


def evaluate(b, status, elapsed, console, results):
    """Turn the Boot B's console and result channel (paths) and QEMU's end
    (STATUS, ELAPSED: boot.run()'s) into an Outcome."""
    e = _Evaluation(b)
    e.run(status, elapsed, console, results)
    tests = claim_skips(e.results.tests, b) if b.verdict else e.results.tests
    return Outcome(b, status, elapsed, console, results, tests, e.bench, e.selftests)


def claim_skips(tests, b):
    """TESTS with every SKIP that no ALLOWED_SKIPS entry claims for the boot
    B turned into a FAIL."""
    out = []
    where = b.where
    for status, name, reason in tests:
        if status == "SKIP":
            short = name[len(b.tag) + 1:] if name.startswith(b.tag + "/") else name
            reason1 = " ".join(str(reason).split())
            if not any(where_matches(s.where, where) and fnmatch.fnmatchcase(short, s.test)
                       and s.reason.search(reason1) for s in ALLOWED_SKIPS):
                status, reason = "FAIL", "unclaimed skip (no ALLOWED_SKIPS entry in " \
                    "qemu/topologies.py for this boot): %s" % reason1
        out.append((status, name, reason))
    return out


class _Collected:
    """Results held back until the boot is evaluated."""

    def __init__(self):
        self.tests = []

    def add(self, status, name, reason=""):
        self.tests.append((status, name, reason))


class _Evaluation:
    def __init__(self, b):
        self.b = b
        self.tag = b.tag
        self.plan = b if b.verdict else None
        self.results = _Collected()
        self.bench = None
        self.selftests = {}

    def run(self, status, elapsed, console, results):
        r = self.results
        tag = self.tag
        plan = self.plan
        for t in dtb.check(tag, self.b.hw, results):
            r.add(*t)
        try:
            with open(results, "rb") as f:
                lines = f.read().decode("utf-8", "replace").replace("\r", "").splitlines()
        except OSError:
            lines = []
        done = False
        section = None
        body = []
        settle = None
        infos = []
        self._boot = {"stats": [], "build": None, "kunit": set(), "selftests": set(),
                      "kmemleak": None, "checks": set(), "header": {}, "names": {},
                      "phases": [], "printk": None, "stats_problems": [], "kunit_cases": {}}
        for line in lines:
            if section is not None:
                if line.startswith("@@end "):
                    self._section(tag, section, body, line, infos)
                    section, body = None, []
                else:
                    body.append(line)
                continue
            if line.startswith("@@check "):
                m = re.match(r"@@check (ok|fail|skip) (\S+)(?: # (.*))?$", line)
                if m:
                    st = {"ok": "PASS", "fail": "FAIL", "skip": "SKIP"}[m.group(1)]
                    r.add(st, "%s/%s" % (tag, m.group(2)), m.group(3) or "")
                    self._boot["checks"].add(m.group(2))
                else:
                    # A check the harness cannot read is a check lost.
                    r.add("FAIL", "%s/result-channel" % tag, "malformed line: %s" % line)
            elif line.startswith("@@begin "):
                section = line[len("@@begin "):].split()
            elif line.startswith("@@settle "):
                settle = line.split("=", 1)[1]
            elif line.startswith("@@phase "):
                self._boot["phases"].append(line.split(None, 1)[1].strip())
            elif line.startswith("@@printk "):
                self._boot["printk"] = line.split(None, 1)[1]
            elif line.startswith("@@kmemleak "):
                self._boot["kmemleak"] = line.split()[1]
            elif line.startswith("@@smtest "):
                self._boot["header"] = dict(w.split("=", 1) for w in line.split()[1:]
                                            if "=" in w)
            elif line.startswith("@@done"):
                done = True
        if section is not None:
            self._section(tag, section, body, None, infos)
        if done and status == "poweroff":
            r.add("FAIL", "%s/boot" % tag, "the guest finished but %s within %d s: QEMU "
                  "killed (see the end of %s)" % (POWEROFF_HUNG, POWEROFF_GRACE, show(console)))
        elif done and status != "ok":
            # A clean poweroff is QEMU exiting 0; a crash or a kill after
            # the guest's last result is not one.
            r.add("FAIL", "%s/boot" % tag, "the guest finished but QEMU ended with %s, not "
                  "a clean poweroff (see %s)" % (status, show(console[:-len(".console")] +
                                                             ".qemu")))
        elif done:
            r.add("PASS", "%s/boot" % tag)
        else:
            why = {"ok": "QEMU exited before the guest finished",
                   "timeout": "timeout after %d s: QEMU killed" % self.b.timeout}.get(
                status, "QEMU %s" % status)
            if not lines:
                why += " (nothing on the result channel)"
            r.add("FAIL", "%s/boot" % tag, why)
        reports = console_reports(console)
        for rep in reports:
            r.add("FAIL", "%s/kernel-log" % tag, rep)
        # Without the whole kernel log on the console, no report above (and
        # no driver error line, _driver_errors()) would have been seen.
        blind = console_problems(console, self._boot["phases"], done, self._boot["printk"])
        for why in blind:
            r.add("FAIL", "%s/kernel-log" % tag, why)
        self._boot["blind"] = blind
        if not reports and not blind:
            r.add("PASS", "%s/kernel-log" % tag)
        if plan is not None and done:
            self._verdict(tag, plan, console)
        note("%s: %s in %.1f s%s; console %s" % (
            tag, "finished" if done else status, elapsed,
            " (IOMMU groups settled %s s after the driver load)" % settle if settle else "",
            show(console)))

    def _section(self, tag, section, body, endline, infos):
        kind = section[0]
        name = section[1] if len(section) > 1 else "?"
        r = self.results
        if kind == "info":
            infos.append((name, body))
        elif kind == "stats":
            if endline is not None:
                problems = []
                self._boot["stats"].append((name, parse_stats(body, problems)))
                self._boot["stats_problems"] += ["%s: %s" % (name, p) for p in problems]
        elif kind == "build":
            self._boot["build"] = body
        elif kind == "kunit":
            self._boot["kunit"].add(name)
            nodes, _, _ = parse_tap(body)
            if not nodes:
                r.add("FAIL", "%s/kunit/%s" % (tag, name), "no KTAP results")
            for n in nodes:
                if n.name != name:  # the results file's top level is the suite
                    n = _wrap(name, n)
                tap_leaves([n], "%s/kunit" % tag, r)
                self._boot["kunit_cases"].setdefault(name, []).extend(c.name for c in n.children)
        elif kind == "selftest":
            self._boot["selftests"].add(name)
            self.selftests[name] = body
            rc = None
            if endline:
                m = re.search(r"rc=(\d+)", endline)
                rc = int(m.group(1)) if m else None
            nodes, plan, _ = parse_tap(body)
            prefix = "%s/%s" % (tag, name)
            tap_leaves(nodes, prefix, r)
            if endline is not None and nodes:
                self._boot["names"][name] = leaf_names(nodes)
            failed = any(_subtree_failed(n) for n in nodes)
            if endline is None:
                r.add("FAIL", prefix, "did not finish (the guest died or timed out)")
            elif not nodes:
                r.add("FAIL", prefix, "no TAP results (exit status %s)" % rc)
            elif plan is not None and plan != len(nodes):
                r.add("FAIL", prefix, "%d of %d planned tests reported (exit status %s)" %
                      (len(nodes), plan, rc))
            elif rc == 137:
                r.add("FAIL", prefix, "killed after %d s" % testtimeout(self.b.timeout))
            elif rc not in (0, 4) and not failed:  # 4: kselftest's "all skipped"
                r.add("FAIL", prefix, "exit status %s" % rc)
        elif kind == "bench":
            self.bench = body
            if endline is None:
                r.add("FAIL", "%s/%s" % (tag, name), "did not finish (the guest died or timed out)")
        elif kind == "kmemleak":
            objs = _kmemleak_objects(body)
            for o in objs:
                r.add("FAIL", "%s/kmemleak" % tag, o)
            if not objs:
                r.add("PASS", "%s/kmemleak" % tag)

    # -- the verdict's checks on what a boot must have done (issue 22) ----------

    def _verdict(self, tag, plan, console):
        """What a finished boot of PLAN (a spec.Boot) must show
        besides its own results: every error the driver reported declared,
        the module's features, the KUnit suites, the selftests and the disks
        its topology and kernel call for, and kmemleak active."""
        r = self.results
        b = self._boot
        driver = plan.driver
        if driver in ("ours", "stock-dkms"):
            self._driver_errors(tag, plan, console)
            self._build_features(tag, plan)
        if plan.kunit:
            want = {s for s, feat in KUNIT_SUITES.items()
                    if feat is None or feat in plan.features}
            missing = sorted(want - b["kunit"])
            for s in missing:
                r.add("FAIL", "%s/kunit/%s" % (tag, s), "suite missing: not in smmuv3_kunit.ko's "
                      "debugfs results (compiled out, or the module did not load)")
            extra = sorted((n for n in b["kunit"] | kunit_suites_in_sources(
                os.path.join(REPO, "module", "tests")) if n not in KUNIT_SUITES))
            for s in extra:
                r.add("FAIL", "%s/kunit/%s" % (tag, s), "a suite qemu/topologies.py's "
                      "KUNIT_SUITES does not list: add it there, with the feature it needs")
            for s, feat in KUNIT_SUITES.items():
                if s in b["kunit"] and feat and feat not in plan.features:
                    r.add("FAIL", "%s/kunit/%s" % (tag, s), "ran, but needs %s, which this "
                          "kernel's data says the build lacks" % feat)
            if not missing and not extra:
                r.add("PASS", "%s/kunit-suites" % tag, "%d suites" % len(want))
            self._kunit_cases(tag, plan)
        missing = [t for t in plan.tests if t not in b["selftests"]]
        for t in missing:
            r.add("FAIL", "%s/%s" % (tag, t), "did not run: the topology calls for it "
                  "(not built, not in tests.list or not in the initramfs)")
        if plan.tests and not missing:
            r.add("PASS", "%s/selftests-ran" % tag, "%d programs" % len(plan.tests))
        self._selftest_names(tag, plan)
        if plan.disks is not None:
            n = sum(1 for c in b["checks"] if c.startswith("blk-io/"))
            if n != plan.disks:
                r.add("FAIL", "%s/blk-io" % tag, "%d disk(s) written and read back, the topology "
                      "has %d virtio-blk disks" % (n, plan.disks))
        if plan.kmemleak:
            st = b["kmemleak"]
            if st != "active":
                r.add("FAIL", "%s/kmemleak" % tag, "kmemleak %s: this kernel is built with it, "
                      "so no leak check was done" % (st or "not reported"))

    def _kunit_cases(self, tag, plan):
        """Each suite that ran reported the KUNIT_CASE*() entries its sources
        (module/tests/*.c) list for this build, and no other case."""
        r = self.results
        where = plan.where
        cases, problems = kunit_cases_in_sources(os.path.join(REPO, "module", "tests"))
        for p in problems:
            r.add("FAIL", "%s/kunit-cases" % tag, p)
        bad, n = len(problems), 0

        def holds(conds):
            for cond in conds:
                for atom in cond.split("&&"):
                    g = KUNIT_GUARDS.get(atom.strip())
                    if g is None:
                        raise KeyError(atom.strip())
                    if not (g in plan.features if isinstance(g, str) else
                            where_matches(g, where)):
                        return False
            return True
        for suite, got in sorted(self._boot["kunit_cases"].items()):
            if suite not in cases:
                continue  # _verdict() fails a suite the sources do not define
            want = []
            for case, conds in cases[suite]:
                try:
                    if holds(conds):
                        want.append(case)
                except KeyError as e:
                    bad += 1
                    r.add("FAIL", "%s/kunit/%s/%s" % (tag, suite, case), "under #if %s: "
                          "condition %s is not in qemu/topologies.py's KUNIT_GUARDS: say "
                          "which builds have it" % (" / ".join(conds), e.args[0]))
            n += len(want)
            for case in want:
                if case not in got:
                    bad += 1
                    r.add("FAIL", "%s/kunit/%s/%s" % (tag, suite, case), "not reported: "
                          "module/tests lists it in the suite%s (compiled out, or the suite "
                          "stopped early?)" % (
                              " under #if " + " / ".join(dict(cases[suite])[case])
                              if dict(cases[suite])[case] else ""))
            for case in got:
                if case not in want:
                    bad += 1
                    r.add("FAIL", "%s/kunit/%s/%s" % (tag, suite, case), "reported, but "
                          "not a case module/tests lists for this build")
        if not bad:
            r.add("PASS", "%s/kunit-cases" % tag, "%d cases of %d suites, as the sources "
                  "list them" % (n, len(self._boot["kunit_cases"])))

    def _selftest_names(self, tag, plan):
        """Each program that finished reported the tests topologies.py's
        SELFTEST_NAMES lists for it on this kernel, and no other."""
        r = self.results
        bad = n = 0
        for prog, got in sorted(self._boot["names"].items()):
            want = selftest_names(prog, plan.kernel)
            if want is None:
                bad += 1
                r.add("FAIL", "%s/%s" % (tag, prog), "a program qemu/topologies.py's "
                      "SELFTEST_NAMES does not list: add it, with its tests")
                continue
            n += len(want)
            for t in want:
                if t not in got:
                    bad += 1
                    r.add("FAIL", "%s/%s/%s" % (tag, prog, t), "not reported: SELFTEST_NAMES "
                          "lists it for this kernel (deleted, renamed or compiled out?)")
            for t in got:
                if t not in want:
                    bad += 1
                    r.add("FAIL", "%s/%s/%s" % (tag, prog, t), "reported, but not in "
                          "qemu/topologies.py's SELFTEST_NAMES for this kernel: add it there")
        if self._boot["names"] and not bad:
            r.add("PASS", "%s/selftest-names" % tag, "%d programs, %d tests as listed" % (
                len(self._boot["names"]), n))

    def _driver_errors(self, tag, plan, console):
        """Every error or warning line of smmuv3.ko, and every growth of an
        error counter in debugfs, must be declared (topologies.py
        EXPECTED_ERRORS) by the phase (test) that provoked it."""
        r = self.results
        where = plan.where
        instances = plan.hw.instances
        lines = console_lines(console)
        problems = []
        errs = console_driver_errors(lines, driver_rules(os.path.join(REPO, "module"), problems))
        # Log lines: per phase, each counted against the first declaration
        # that matches it.
        used = {}   # (phase, index) -> lines
        undeclared = {}  # (phase, rule.where) -> [count, first line, rule]
        for phase, rule, line in errs:
            decl = [(i, e) for i, e in enumerate(EXPECTED_ERRORS.get(phase, []))
                    if e.log and e.log.search(line) and where_matches(e.where, where)]
            if decl:
                i = decl[0][0]
                used[(phase, i)] = used.get((phase, i), 0) + 1
            else:
                u = undeclared.setdefault((phase, rule.where), [0, line, rule])
                u[0] += 1
        bad = 0
        for p in problems:
            bad += 1
            r.add("FAIL", "%s/driver-log" % tag, p)
        if self._boot.get("blind"):
            bad += 1
            r.add("FAIL", "%s/driver-log" % tag, "the console does not hold the whole kernel "
                  "log (see kernel-log): its driver error lines cannot be checked")
        for (phase, i), n in sorted(used.items()):
            e = EXPECTED_ERRORS[phase][i]
            if n > e.bound(instances):
                bad += 1
                r.add("FAIL", "%s/driver-log" % tag, "%s: %d lines of /%s/, declared at most %d "
                      "(%s)" % (phase, n, e.log.pattern, e.bound(instances), e.why))
        for (phase, where_), (n, line, rule) in sorted(undeclared.items()):
            bad += 1
            r.add("FAIL", "%s/driver-log" % tag, "%s: %dx \"%s\" (%s), declared by no test" % (
                phase, n, line[:160], rule.where))
        if not bad:
            r.add("PASS", "%s/driver-log" % tag, "%d driver error lines, all declared" % len(errs))
        # Counters: their growth in each phase (between the snapshots at the
        # end of the previous phase and at the end of this one).
        snaps = self._boot["stats"]
        if not snaps or snaps[-1][0] != "end":
            r.add("FAIL", "%s/smmu-counters" % tag, "no debugfs error counters read at the end "
                  "of the boot (%s)" % ("no stats at all" if not snaps else
                                        "last read after %s" % snaps[-1][0]))
            return
        bad, prev = 0, {}
        kind, problems = counter_kinds(stats_counters(os.path.join(REPO, "module")))
        for p in problems + self._boot["stats_problems"]:
            bad += 1
            r.add("FAIL", "%s/smmu-counters" % tag, p)
        unknown = sorted({k for _, snap in snaps for c in snap.values() for k in c
                          if kind(k) is None})
        for k in unknown:
            bad += 1
            r.add("FAIL", "%s/smmu-counters" % tag, "\"%s\": not a counter module/debugfs.c "
                  "prints (counted as an error counter)" % k)
        for phase, snap in snaps:
            grew = counter_growth(prev, snap, kind)
            prev = snap
            decls = [e for e in EXPECTED_ERRORS.get(phase, [])
                     if e.counter and where_matches(e.where, where)]
            sums = {}
            for k, n in sorted(grew.items()):
                d = [i for i, e in enumerate(decls) if e.counter.match(k)]
                if not d:
                    bad += 1
                    r.add("FAIL", "%s/smmu-counters" % tag, "%s: %s grew by %d, declared by no "
                          "test" % (phase, k, n))
                    continue
                sums[d[0]] = sums.get(d[0], 0) + n
            for i, n in sums.items():
                if n > decls[i].bound(instances):
                    bad += 1
                    r.add("FAIL", "%s/smmu-counters" % tag, "%s: /%s/ grew by %d, declared at "
                          "most %d (%s)" % (phase, decls[i].counter.pattern, n,
                                            decls[i].bound(instances), decls[i].why))
        if not bad:
            r.add("PASS", "%s/smmu-counters" % tag, "%d reads of %d instance(s)" % (
                len(snaps), len(snaps[-1][1])))

    def _build_features(self, tag, plan):
        """smmuv3/build (module/compat.c) against what the kernel provides."""
        r = self.results
        body = self._boot["build"]
        if body is None:
            r.add("FAIL", "%s/build-features" % tag, "no /sys/kernel/debug/smmuv3/build: the "
                  "module's features are unknown")
            return
        have = {}
        for line in body:
            w = line.split(None, 1)
            if len(w) == 2:
                have[w[0]] = w[1]
        note("%s: smmuv3.ko features: %s" % (tag, "; ".join("%s %s" % kv for kv in have.items())))
        bad = 0
        for f in sorted(set(BUILD_FEATURES) | set(have)):
            want = f in plan.features
            got = have.get(f)
            if f not in BUILD_FEATURES:
                bad += 1
                r.add("FAIL", "%s/build-features" % tag, "%s: not in topologies.py's "
                      "BUILD_FEATURES: say which kernels must have it" % f)
            elif got is None:
                bad += 1
                r.add("FAIL", "%s/build-features" % tag, "%s: not reported by the module" % f)
            elif want and got != "yes":
                bad += 1
                r.add("FAIL", "%s/build-features" % tag, "%s: %s, but kernel %s provides it" % (
                    f, got, plan.kernel))
            elif not want and got == "yes":
                bad += 1
                r.add("FAIL", "%s/build-features" % tag, "%s: yes, but the data says kernel %s "
                      "lacks it: fix topologies.py" % (f, plan.kernel))
        if not bad:
            r.add("PASS", "%s/build-features" % tag, ", ".join(
                "%s %s" % (f, "yes" if have[f] == "yes" else "no") for f in BUILD_FEATURES))




def leaf_names(nodes, prefix=""):
    """The names of the leaf tests of a parsed (K)TAP tree, as tap_leaves()
    reports them (without the boot's and program's prefix)."""
    out = []
    for n in nodes:
        path = prefix + n.name
        out += leaf_names(n.children, path + "/") if n.children else [path]
    return out
