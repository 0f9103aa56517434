# SPDX-License-Identifier: GPL-2.0-only
"""Reading what a boot produced: the guest's result channel (TAP and KTAP
from the selftests and KUnit), the kernel log (WARN, BUG, lockdep, KASAN,
... reports), kmemleak's output; and collecting PASS/FAIL/SKIP results."""

import os
import re
import threading


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


def note(msg):
    """Progress information: never looks like a test line."""
    print("# " + msg, flush=True)


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



def _results_done(path):
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


def _keyvals(text):
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
