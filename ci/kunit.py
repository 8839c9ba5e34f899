#!/usr/bin/env python3
"""ci/kunit.py - the kernel's KUnit suites under vkci: one prove test per suite,
several suites per vkernel.

  kunit.py fragments [--kunitconfig FILE] SRC
                       the config fragments of the KUnit variant of the kernel
                       (`vkci build --variant kunit`): the tree's own kunitconfig
                       (tools/testing/kunit/configs/default.config unless
                       --kunitconfig) and arch_uml.config, and suites/kunit/kunit.config,
                       as -c arguments
  kunit.py list   --kernel K [--cache FILE]
                       the suites and cases the kernel has (one boot with
                       kunit.action=list), "SUITE" and "SUITE.CASE" lines
  kunit.py plan   --kernel K --out OUT [--select WORDS] [--tests NAMES] [--jobs N]
                  [--singletons]
                       choose the groups of this run, write OUT/kunit.plan and
                       print the tests (kunit/SUITE) for prove
  kunit.py member      what `vkci exec kunit/SUITE` runs (VKCI_KUNIT points here):
                       the first member of a group to start boots the group's
                       instance, every member prints its own suite's TAP
  kunit.py replay --stdout F --console F --result F SUITE...
                       the per-suite verdicts from one instance's saved output
                       (what member computes), for tests and post-mortems
  kunit.py check  [--expected FILE] OUT
                       compare a run's per-suite case counts with the expected ones
                       (suites/kunit/expected.txt); `counts OUT` prints a run's

How a run goes. KUnit runs its suites while the kernel boots, before any
userspace, and the only selection the kernel offers at boot is ONE glob,
kunit.filter_glob=SUITE_GLOB[.TEST_GLOB] (lib/kunit/executor.c, lib/glob.c:
*, ?, [set], [!set], no alternation). So a group of suites that shares a
vkernel is a set expressible by one glob, e.g. "[abk]*" or "m[!e]*": plan
cuts the sorted suite names into such sets along their prefixes and packs
them by recorded durations (OUT/kunit-state.json: each suite's time from the
kernel log of earlier runs) so that the groups finish together on the
machine's CPUs and none is mostly boot; the slowest suites end up alone.

A suite slower than the rest can be balanced is cut into parts by its cases
(kunit.filter_glob=SUITE.CASE_GLOB, each part its own vkernel) when the
simulated run gets shorter by more than a boot: the collector times every
case too (kunit-case-time), and a plan for more CPUs than one tries two to
four parts of the slowest suites. The suite's member boots its parts at
once and merges them into one report, its cases in the kernel's order. On
this project's 2-CPU machine memcpy (3.5 s of ~6.3 s) is not cut: the other
suites fill the second CPU; on 4 CPUs the simulated run goes from 3.8 s to
2.3 s (BENCHMARKS.md, "KUnit").

Each suite is still its own prove test, kunit/SUITE. prove starts them in the
order ci/schedule.py gives (--kunit-plan): every group's first member early,
weighted by the group's estimate, the other members last. Whichever member
of a group starts first takes the group's lock (OUT/kunit/GROUP/lock), boots
the group's instance (`vkci exec -a kunit.filter_glob=GLOB kunit-run/collect`
on the KUnit payload) and stores every member's verdict; the others wait on
the lock and print theirs; those that start after the group has run print
what its runner published for them (OUT/kunit.plan.ready/SUITE.tap and
SUITE.logs/), which `vkci exec kunit/SUITE` does itself without starting
Python (harness/kunit.c): ~2 ms a member instead of ~60 ms, the difference
between a test phase of 1.10x and 0.79x kunit.py's (BENCHMARKS.md, "KUnit").
So TAP archive, JUnit, summary.json and
result.json have one entry per suite with its cases as subtests, whether it
ran alone or in a group.

Results come from /sys/kernel/debug/kunit/SUITE/results (CONFIG_KUNIT_DEBUGFS),
sent over the serial line by images/kunit-collect.c after the boot. The console
(the kernel log) serves only to attribute: a crash or hang during a group's
boot kills every suite's results, so the "# Subtest:" lines on the console
say which suite was running (it fails, with the crash title and the case it
was in); the group's other suites run again in a fresh instance (as few as
the globs that express them allow). A crash the kernel survives (a WARNING,
an Oops in a test's kthread) fails the suite whose console lines it appears
in (`vkci crash` classifies each suite's piece of the console).

Exit status of member: 0 passed or skipped, 1 failed or crashed, 3 the suite
could not be run. Standard library only.
"""
import fcntl
import json
import os
import re
import shutil
import sys
import time
# argparse, subprocess and tempfile are imported where they are used: most
# members of a group only print what their group found, and start in a
# fraction of the time without them

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "harness"))
import vkciresult  # noqa: E402  (the result.json format, harness/RESULT.md)
FORMAT_PLAN = "vkci-kunit-plan/1"
COLLECT = "kunit-run/collect"        # the collector's name on the KUnit payload
DEFAULT_EST_MS = 100                 # a suite never timed (most take a few ms)
DEFAULT_BOOT_MS = 300                # a KUnit kernel's boot without suites, until timed
MEMBER_MS = 10                       # the least a suite costs its group: its prove test and
                                     # verdict, after the instance (most suites time as 0 ms)
MEM = "1G"                           # what kunit.py gives UML (mem=1G); lazily allocated
MAX_LINES = 200000                   # per suite, from the guest
MAX_LINE = 4096
MAX_CASE_TIMES = 65536               # timed cases per instance, from the guest (as the collector's cap)
MAX_SUITES = 4096                    # suites per instance, from the guest (as the collector's cap)


def die(msg, code=2):
    print("vkci: " + msg, file=sys.stderr)
    sys.exit(code)


def note(msg):
    print("vkci: " + msg, file=sys.stderr, flush=True)


def write_atomic(path, text):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def read(path, limit=1 << 30):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read(limit)
    except OSError:
        return ""


# ---- globs, as lib/glob.c matches them ---------------------------------------

def glob_match(pat, s):
    """lib/glob.c's glob_match(): *, ?, [set], [!set], [a-z], backslash escapes."""
    p = i = 0
    back_p = back_i = None
    while True:
        c = s[i] if i < len(s) else ""
        d = pat[p] if p < len(pat) else ""
        p += 1
        i += 1
        ok = True
        if d == "?":
            ok = c != ""
        elif d == "*":
            if p >= len(pat):
                return True
            back_p, back_i = p, i - 1
            i -= 1
            continue
        elif d == "[" and c != "":
            inverted = p < len(pat) and pat[p] == "!"
            q = p + inverted
            match = False
            malformed = False
            first = True
            while True:
                a = pat[q] if q < len(pat) else ""
                q += 1
                if a == "":
                    malformed = True
                    break
                if a == "]" and not first:
                    break
                first = False
                b = a
                if q < len(pat) and pat[q] == "-" and q + 1 < len(pat) and pat[q + 1] != "]":
                    b = pat[q + 1]
                    q += 2
                elif q < len(pat) and pat[q] == "-" and q + 1 >= len(pat):
                    malformed = True
                    break
                if a <= c <= b:
                    match = True
            if malformed:
                ok = c == d      # a malformed class is a literal '['
            else:
                ok = match != inverted
                if ok:
                    p = q
        else:
            if d == "\\":
                d = pat[p] if p < len(pat) else ""
                p += 1
            if c == d:
                if d == "":
                    return True
                continue
            ok = False
        if ok:
            continue
        if c == "" or back_p is None:
            return False
        p = back_p
        back_i += 1
        i = back_i


def literal(text):
    """A glob matching text exactly. '.' cannot appear in a suite glob (the
    kernel splits kunit.filter_glob at the first '.'): it becomes '?'."""
    out = []
    for ch in text:
        if ch == ".":
            out.append("?")
        elif ch in "*?[]\\":
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def char_class(chars):
    """[...] for a set of characters, ']' first and '-' last (lib/glob.c reads
    them as members there). A '.' cannot be written at all (the kernel cuts
    kunit.filter_glob at the first '.'): the position becomes '?', and the
    caller checks what the glob selects."""
    chars = sorted(set(chars))
    if "." in chars:
        return "?"
    if len(chars) == 1:
        return literal(chars[0])
    return "[" + ("]" if "]" in chars else "") + "".join(c for c in chars if c not in "]-") \
        + ("-" if "-" in chars else "") + "]"


# ---- groups: sets of suites that one glob selects ------------------------------

def matches(glob, universe):
    return [s for s in universe if glob_match(glob, s)]


def partition(selected, universe, est, cap, key=None):
    """Cut `selected` (suite names, a subset of `universe`, every suite the
    kernel has) into groups [(glob, [suites])] such that each glob matches
    exactly its suites among the universe, each group weighs at most `cap`
    (est: suite -> ms) unless it is one suite, and suites of different
    key(suite) (e.g. their test glob) never share a group."""
    key = key or (lambda s: None)
    sel = set(selected)
    groups = []

    def under(prefix):
        return [s for s in universe if s.startswith(prefix)]

    def whole(prefix, names):
        return names and all(s in sel for s in names) and len({key(s) for s in names}) == 1

    def weight(names):
        return sum(est.get(s, DEFAULT_EST_MS) for s in names)

    def build(prefix):
        names = under(prefix)
        if not any(s in sel for s in names):
            return
        if whole(prefix, names) and (weight(names) <= cap or len(names) == 1):
            groups.append((literal(prefix) + "*" if len(names) > 1 or names[0] != prefix
                           else literal(prefix), names))
            return
        if prefix in sel:                       # the suite named exactly prefix
            groups.append((literal(prefix), [prefix]))
        buckets = {}                            # next char -> its whole subtree, light enough
        for c in sorted({s[len(prefix)] for s in names if len(s) > len(prefix)}):
            sub = under(prefix + c)
            if whole(prefix + c, sub) and weight(sub) <= cap:
                buckets[c] = sub
            else:
                build(prefix + c)
        # first fit decreasing into bins of cap, one bin per key
        bins = []                               # [key, chars, names, weight]
        for c in sorted(buckets, key=lambda c: (-weight(buckets[c]), c)):
            w = weight(buckets[c])
            k = key(buckets[c][0])
            for b in bins:
                if b[0] == k and b[3] + w <= cap:
                    b[1].append(c)
                    b[2] += buckets[c]
                    b[3] += w
                    break
            else:
                bins.append([k, [c], list(buckets[c]), w])
        for _k, chars, names2, _w in bins:
            groups.append((literal(prefix) + char_class(chars) + "*", sorted(names2)))

    build("")
    # every glob must select exactly its suites (a '.' turned '?' may not)
    out = []
    for glob, names in groups:
        if sorted(matches(glob, universe)) == sorted(names):
            out.append((glob, names))
        else:
            out += [(literal(s), [s]) for s in names]
    return out


def cover(names, universe):
    """As few globs as expose exactly `names` among `universe` (no weights):
    the suites of a group that still have to run after a crash."""
    return partition(names, universe, {}, float("inf"))


def makespan(groups, est, boot_ms, jobs, extra=()):
    """Longest-first onto `jobs` workers, each group costing a boot too;
    extra: the durations of more instances (a suite's parts), boots not
    included."""
    loads = [0.0] * max(1, jobs)
    weights = [boot_ms + sum(est.get(s, DEFAULT_EST_MS) for s in n) for _, n in groups]
    for g in sorted(weights + [boot_ms + e for e in extra], reverse=True):
        loads[loads.index(min(loads))] += g
    return max(loads)


def choose_groups(selected, universe, est, boot_ms, jobs, key=None, extra=()):
    """The partition with the shortest simulated run (ties: fewer groups),
    beside instances of durations extra (a suite's parts)."""
    total = sum(est.get(s, DEFAULT_EST_MS) for s in selected) or 1
    heaviest = max((est.get(s, DEFAULT_EST_MS) for s in selected), default=1)
    caps = sorted({max(heaviest, t * f / max(1, jobs)) for f in
                   (0.25, 0.35, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0)
                   for t in {total, total + sum(extra)}} | {total})
    best = None
    for cap in caps:
        g = partition(selected, universe, est, cap, key)
        score = (round(makespan(g, est, boot_ms, jobs, extra)), len(g))
        if best is None or score < best[0]:
            best = (score, g)
    return best[1]


def case_parts(suite, cases, case_est, k):
    """A suite's cases cut into about k parts of like recorded durations
    (case_est: "SUITE.CASE" -> ms), each a case glob that selects exactly its
    cases among the suite's: [(case_glob, [cases])]."""
    w = {c: case_est.get("%s.%s" % (suite, c), DEFAULT_EST_MS) for c in cases}
    return partition(cases, cases, w, sum(w.values()) / k)


def choose_splits(selected, universe, est, boot_ms, jobs, key, listing, case_est, max_suites=3):
    """choose_groups, letting the slowest suites run cut into parts by their
    cases, each part its own instance with kunit.filter_glob=SUITE.CASE_GLOB,
    when that shortens the simulated run by more than a boot: (groups,
    {suite: [(case_glob, [cases])]}). Only a suite whose every case has a
    recorded duration and that was selected whole (no case glob) is cut."""
    def weight(suite, cases):
        return sum(case_est.get("%s.%s" % (suite, c), DEFAULT_EST_MS) for c in cases)

    groups = choose_groups(selected, universe, est, boot_ms, jobs, key)
    best = (round(makespan(groups, est, boot_ms, jobs)), groups, {})
    cands = [s for s in sorted(selected, key=lambda s: (-est.get(s, DEFAULT_EST_MS), s))
             if key(s) is None and len(listing.get(s) or []) > 1
             and all("%s.%s" % (s, c) in case_est for c in listing[s])][:max_suites]
    splits = {}
    for suite in cands:
        found = None
        for k in range(2, min(max(2, jobs), len(listing[suite]), 4) + 1):
            parts = case_parts(suite, listing[suite], case_est, k)
            if len(parts) < 2:
                continue
            trial = dict(splits, **{suite: parts})
            rest = [x for x in selected if x not in trial]
            extra = [weight(x, cs) for x, ps in trial.items() for _, cs in ps]
            g = choose_groups(rest, universe, est, boot_ms, jobs, key, extra) if rest else []
            span = round(makespan(g, est, boot_ms, jobs, extra))
            if span < best[0] - boot_ms:
                best, found = (span, g, trial), trial
        if not found:
            break                   # the slowest gains nothing: the others gain less
        splits = found
    return best[1], best[2]


# ---- the KUnit kernel and its suites -------------------------------------------

def fragments(src, kunitconfig=None, backend="uml"):
    if backend != "uml":
        die("KUnit suites run on the uml backend only (its kunitconfig is arch_uml.config): "
            "BACKEND=%s cannot build the KUnit variant (unset BACKEND)" % backend)
    kdir = os.path.join(src, "tools", "testing", "kunit", "configs")
    kc = kunitconfig or os.path.join(kdir, "default.config")
    uml = os.path.join(kdir, "arch_uml.config")
    for f, why in ((kc, "the kunitconfig (KUNITCONFIG=)"), (uml, "UML's KUnit config")):
        if not os.path.isfile(f):
            die("no %s '%s' (KUnit needs a Linux source tree with tools/testing/kunit; set KERNEL=...)"
                % (why, f))
    return [kc, uml, os.path.join(TOP, "suites", "kunit", "kunit.config")]


def kernel_id(kernel):
    st = os.stat(kernel)
    return "%s %d %d" % (os.path.realpath(kernel), st.st_size, st.st_mtime_ns)


def kernel_config(kernel):
    return read(os.path.join(os.path.dirname(os.path.realpath(kernel)), ".config"), 16 << 20)


def vkci_bin():
    return os.environ.get("VKCI") or os.path.join(TOP, "harness", "vkci")


def run_vkci(argv, env=None, timeout=None, nice=0):
    import subprocess
    r = subprocess.run([vkci_bin()] + argv, stdin=subprocess.DEVNULL, capture_output=True,
                       env=env, timeout=timeout, preexec_fn=(lambda: os.nice(nice)) if nice else None)
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def kunit_env(extra=None):
    """The environment of the instances KUnit runs: none of the run's test
    settings (retries, quarantine, metadata) apply to the collector."""
    env = dict(os.environ)
    for k in ("VKCI_RETRIES", "VKCI_QUARANTINE", "VKCI_TEST_META", "VKCI_KERNEL_ARGS", "VKCI_MEM",
              "VKCI_TIMEOUT", "VKCI_GCOV_DIR", "VKCI_LOG_DIR", "VKCI_KEEP"):
        env.pop(k, None)
    env.update(extra or {})
    return env


def parse_listing(stdout):
    """{suite: [cases]} in the kernel's order, from the collector's list mode."""
    suites = {}
    for line in stdout.splitlines()[:MAX_LINES]:
        if not line.startswith("# kunit-list "):
            continue
        name = line[13:].strip()
        if not name or len(name) > 512:
            continue
        suite, dot, case = name.partition(".")
        if not dot:
            suites.setdefault(suite, [])
        elif suite in suites and case not in suites[suite]:
            suites[suite].append(case)
    return suites


def discover(kernel, image, payload, rundir=None, cache=None):
    """The kernel's suites and cases (kunit.action=list), cached per kernel."""
    kid = kernel_id(kernel)
    if cache:
        text = read(cache)
        if text.startswith("# kernel %s\n" % kid):
            return parse_listing(text)
    if "CONFIG_KUNIT=" not in kernel_config(kernel) and os.path.exists(
            os.path.join(os.path.dirname(os.path.realpath(kernel)), ".config")):
        die("kernel '%s' was built without KUnit (CONFIG_KUNIT): give KERNEL= a source tree, "
            "make check SUITES=kunit builds its KUnit variant" % kernel)
    argv = ["exec", "-k", kernel, "-i", image, "-p", payload, "-m", MEM, "-t", "60",
            "-a", "kunit.action=list", COLLECT, "--", "list"]
    if rundir:
        argv[1:1] = ["-r", rundir]
    rc, out, err = run_vkci(argv, env=kunit_env())
    suites = parse_listing(out)
    if rc != 0 or not suites:
        die("cannot list the KUnit suites of '%s' (vkci exec exited %d):\n%s%s"
            % (kernel, rc, "".join("  " + l + "\n" for l in out.splitlines()[-12:]), err[-2000:]), 3)
    if cache:
        write_atomic(cache, "# kernel %s\n" % kid + "".join(
            "# kunit-list %s\n" % s + "".join("# kunit-list %s.%s\n" % (s, c) for c in cs)
            for s, cs in suites.items()))
    return suites


def select(listing, words, tests):
    """{suite: test_glob or None} chosen by SUITES words (kunit, kunit:GLOB,...)
    or TESTS names (kunit/SUITE); exits 2 naming the closest suites when a
    name or glob matches nothing."""
    import difflib
    chosen = {}
    bad = 0
    names = list(listing)
    if tests:
        for t in tests:
            s = t[len("kunit/"):]
            if s in listing:
                chosen[s] = None
            else:
                close = difflib.get_close_matches(s, names, n=3, cutoff=0.6)
                print("vkci: no KUnit suite '%s' in this kernel (%s)" % (
                    s, "closest: " + ", ".join(close) if close else "kunit.py list shows them"), file=sys.stderr)
                bad += 1
    for w in words:
        globs = ["*"] if w == "kunit" else [g for g in w[len("kunit:"):].split(",") if g]
        if not globs:
            print("vkci: no KUnit glob in '%s' (e.g. kunit:list-kunit-test,'kunit*')" % w, file=sys.stderr)
            bad += 1
        for g in globs:
            sg, dot, tg = g.partition(".")
            hit = [s for s in names if glob_match(sg, s) and
                   (not dot or any(glob_match(tg, c) for c in listing[s]))]
            if not hit:
                close = difflib.get_close_matches(sg, names, n=3, cutoff=0.6)
                print("vkci: no KUnit suite matches '%s' (%s)" % (
                    g, "closest: " + ", ".join(close) if close else "kunit.py list shows them"), file=sys.stderr)
                bad += 1
            for s in hit:
                chosen.setdefault(s, tg if dot else None)
    if bad:
        sys.exit(2)
    return {s: chosen[s] for s in names if s in chosen}


# ---- state: recorded durations -------------------------------------------------

class State:
    """OUT/kunit-state.json: {"suites": {suite: ms}, "cases": {"SUITE.CASE":
    ms}, "boot_ms": ms}, updated under a lock by every member that ran an
    instance (times: {suite: ms, (suite, case): ms})."""

    def __init__(self, path):
        self.path = path

    def load(self):
        try:
            with open(self.path, encoding="utf-8") as f:
                d = json.load(f)
            if isinstance(d, dict) and isinstance(d.get("suites"), dict):
                if not isinstance(d.get("cases"), dict):
                    d["cases"] = {}
                return d
        except (OSError, ValueError):
            pass
        return {"suites": {}, "cases": {}, "boot_ms": None}

    def update(self, times_ms, boot_ms=None):
        if not self.path:
            return
        with open(self.path + ".lock", "a") as lk:
            fcntl.flock(lk, fcntl.LOCK_EX)
            d = self.load()
            for s, ms in times_ms.items():
                table, name = (d["cases"], "%s.%s" % s) if isinstance(s, tuple) else (d["suites"], s)
                old = table.get(name)
                # a time measured while other instances shared the CPUs is
                # too long, never too short: a shorter one is taken as it
                # is, a longer one moves the record half way
                table[name] = round(ms if not isinstance(old, (int, float)) or ms <= old else (old + ms) / 2, 1)
            if boot_ms is not None:
                # a boot's share of the CPUs when instances run side by
                # side (a 150 ms boot in the plan cut memcpy on 2 CPUs:
                # 4.95 s against 4.05 s): averaged, not settled like times
                old = d.get("boot_ms")
                d["boot_ms"] = round(boot_ms if old is None else (old + boot_ms) / 2, 1)
            write_atomic(self.path, json.dumps(d, indent=1, sort_keys=True) + "\n")


# ---- what an instance said -------------------------------------------------------

CASE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:+-]{0,255}$")


def parse_collect(stdout):
    """The collector's output: ({suite: [results lines]}, {suite: us, and
    (suite, case): us for the cases it timed}, notes)."""
    res, times, notes = {}, {}, []
    kept = {str: 0, tuple: 0}          # suite times, case times: each kind capped on its own
    for line in stdout.splitlines():
        if line.startswith("# kunit "):
            suite, _, rest = line[8:].partition(" ")
            if not CASE_NAME.match(suite) or (suite not in res and len(res) >= MAX_SUITES):
                continue
            lines = res.setdefault(suite, [])
            if len(lines) < MAX_LINES:
                lines.append(rest[:MAX_LINE])
            continue
        w = line.split()
        if line.startswith("# kunit-time ") and len(w) == 4:
            key, us = w[2], w[3]
        elif line.startswith("# kunit-case-time ") and len(w) == 5 and CASE_NAME.match(w[3]):
            key, us = (w[2], w[3]), w[4]
        else:
            if line.startswith("not ok ") and " results: cannot read " in line:
                notes.append(line)
            continue
        suite = key if isinstance(key, str) else key[0]
        if us.isdigit() and CASE_NAME.match(suite) and (key in times or kept[type(key)] < MAX_CASE_TIMES):
            kept[type(key)] += key not in times
            times[key] = int(us)
    return res, times, notes


RESULT_RE = re.compile(r"^(not ok|ok) (\d+)(?: -)? ?(.*)$")


def directive(desc):
    """(description, 'skip'|'todo'|None, reason) of a KTAP result's text."""
    m = re.search(r"\s#\s*(SKIP|TODO|XFAIL)\b\s*(.*)$", desc, re.I)
    if not m:
        return desc.strip(), None, ""
    kind = m.group(1).upper()
    return desc[:m.start()].strip(), "skip" if kind == "SKIP" else "todo", m.group(2).strip()


def unwrap(suite, lines):
    """A suite's debugfs results ("KTAP version 1", "1..1", the suite
    indented by 4, "ok 1 SUITE") as the suite's own KTAP: its cases at the
    top level. Returns (ktap_lines, suite_line or None)."""
    body, suite_line = [], None
    for i, l in enumerate(lines):
        if i < 2 and l in ("KTAP version 1", "1..1"):
            continue
        m = RESULT_RE.match(l)
        if m and not l.startswith(" ") and directive(m.group(3))[0] == suite:
            suite_line = l
            continue
        body.append(l[4:] if l.startswith("    ") else l)
    return body, suite_line


def judge(suite, lines):
    """The verdict on a suite's results: a dict with the TAP lines to relay
    (no plan), the plan, subtests, counts, the first failure, and whether the
    kernel's own suite line was there (complete)."""
    body, suite_line = unwrap(suite, lines)
    out, subtests = [], []
    last_top = 0
    plan = None
    run = failed = skipped = nested_failed = 0
    first_fail = first_nested = None
    skip_all = None
    for l in body:
        ind = len(l) - len(l.lstrip(" "))
        s = l.strip()
        m = RESULT_RE.match(s)
        if ind == 0 and re.match(r"^1\.\.\d+$", s):
            plan = int(s[3:]) if plan is None else plan
            continue                       # held back: printed at the end
        if m and ind == 0:
            desc, dirv, why = directive(m.group(3))
            num = int(m.group(2))
            last_top = num
            run += 1
            outcome = dirv or ("pass" if m.group(1) == "ok" else "fail")
            if outcome == "skip":
                skipped += 1
            if outcome == "fail":
                failed += 1
                first_fail = first_fail or desc
            subtests.append({"id": str(num), "name": desc[:127], "outcome": outcome})
            # KTAP's "not ok ... # SKIP" is a skip: TAP::Parser only takes "ok ... # SKIP"
            out.append("%s %d %s" % ("not ok" if outcome == "fail" else "ok", num, m.group(3)))
            continue
        if m and ind > 0:
            desc, dirv, why = directive(m.group(3))
            outcome = dirv or ("pass" if m.group(1) == "ok" else "fail")
            pid = str(last_top + 1)        # a nested result belongs to the next case
            subtests.append({"id": "%s.%s" % (pid, m.group(2)), "name": desc[:127], "outcome": outcome})
            if outcome == "fail":
                nested_failed += 1
                first_nested = first_nested or "%s (case %s)" % (desc, pid)
        out.append(l)
    complete = suite_line is not None
    if suite_line:
        m = RESULT_RE.match(suite_line)
        desc, dirv, why = directive(m.group(3))
        if dirv == "skip":
            skip_all = why or "skipped"
    problems = []
    if suite_line and suite_line.startswith("not ok") and not failed and skip_all is None:
        # suite_init failed ("# failed to initialize"), or a case failed without its line
        problems.append("the suite reports failure: %s" % suite_line)
    if nested_failed and not failed:
        problems.append("subtest failed: %s" % first_nested)
    if plan is not None and plan != run:
        problems.append("planned %d cases but %d reported" % (plan, run))
    if not complete:
        problems.append("the suite's results end before its own result line")
    return {"lines": out, "plan": plan, "subtests": subtests[:20000], "run": run, "failed": failed,
            "skipped": skipped, "first_failure": first_fail, "complete": complete,
            "skip_all": skip_all, "problems": problems}


SUBTEST_RE = re.compile(r"^    # Subtest: (\S+)")


def console_map(console, suites_in_order=None):
    """Where each suite's KUnit output sits on the console: [(suite, first
    line, end line or None, last case line seen)] in boot order. A suite
    owns the console from its "# Subtest:" line to the next suite's."""
    lines = console.splitlines()
    out = []
    cur = None
    for i, raw in enumerate(lines):
        l = raw.rstrip("\r")
        m = SUBTEST_RE.match(l)
        if m:
            if cur:
                out.append(cur)
            cur = {"suite": m.group(1), "start": i, "end": None, "last_case": None, "stop": len(lines)}
            continue
        if not cur:
            continue
        r = RESULT_RE.match(l.lstrip(" "))
        ind = len(l) - len(l.lstrip(" "))
        if r and ind == 0 and directive(r.group(3))[0] == cur["suite"]:
            cur["end"] = i
        elif r and ind == 4 and cur["end"] is None:
            cur["last_case"] = (int(r.group(2)), directive(r.group(3))[0])
    if cur:
        out.append(cur)
    for a, b in zip(out, out[1:]):
        a["stop"] = b["start"]
    return out, lines


def crash_scan(pieces):
    """[(text)] -> [crash dict or None] through `vkci crash` (console.c)."""
    if not pieces:
        return []
    import tempfile
    with tempfile.TemporaryDirectory(prefix="vkci-kunit-") as d:
        paths = []
        for i, text in enumerate(pieces):
            p = os.path.join(d, "%d.log" % i)
            with open(p, "w", encoding="utf-8") as f:
                f.write(text)
            paths.append(p)
        rc, out, err = run_vkci(["crash"] + paths)
        if rc not in (0, 1):
            die("vkci crash failed: %s" % err.strip(), 3)
    res = []
    for line in out.splitlines():
        try:
            d = json.loads(line)
        except ValueError:
            continue
        res.append(d if d.get("crash_kind") else None)
    return res + [None] * (len(pieces) - len(res))


KUNIT_FRAMES = re.compile(r"^(kunit_|__kunit_|kthread$|ret_from_fork|new_thread_handler)")


def title_fingerprint(title):
    """console.c's crash_title_fingerprint(): FNV-1a (64 bits) of the title."""
    h = 0xcbf29ce484222325
    for b in title.encode("utf-8", "replace"):
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def crash_title(c, where=None):
    """console.c's title of the crash ("KIND in FUNCTION", `vkci crash`).
    When FUNCTION is KUnit's own machinery (a case's kthread shows only
    KUnit's frames) or unknown, `where` (SUITE.CASE) names it instead."""
    t = (c.get("crash_title") or "").strip()
    if not t:
        t = "%s: %s" % (c.get("crash_kind") or "crash", (c.get("crash_line") or "").strip()[:160])
    head, sep, func = t.rpartition(" in ")
    if where and (not sep or KUNIT_FRAMES.match(func.strip()) or func.strip() in ("", "?")):
        return "%s in %s" % (head if sep else t, where)
    return t


def retitle(c, title):
    """The crash dict c under a (KUnit-specific) title, its fingerprint the title's."""
    c["title"] = title
    c["crash_fingerprint"] = title_fingerprint(title)
    return c


def case_at(seg, clines, line, listing):
    """The case of seg's suite that was running when `line` (a crash line)
    was printed: one after the last case result before it; (number, name)."""
    last = 0
    for l in clines[seg["start"]:seg["stop"]]:
        if line and l.strip() == line.strip():
            break
        r = RESULT_RE.match(l.lstrip(" "))
        if r and len(l) - len(l.lstrip(" ")) == 4:
            last = int(r.group(2))
    cases = listing.get(seg["suite"], [])
    return last + 1, cases[last] if last < len(cases) else "case %d" % (last + 1)


def analyze(suites, listing, stdout, console, result):
    """What one instance that ran `suites` says about each of them.
    Returns ({suite: report}, [suites to run again], {suite: us}, note).
    A report: outcome (pass/fail/skip/crash/infra), reason, judged KTAP,
    crash facts; no report and in the list to run again: its results were
    lost (the kernel died before the collector ran)."""
    results, times, collect_notes = parse_collect(stdout)
    status = result.get("exit_status", 3)
    collected = "# kunit-collect 1" in stdout.splitlines()   # the collector's first line
    segs, clines = console_map(console)
    crash_in = {}
    if result.get("crash_kind"):
        pieces = ["\n".join(clines[s["start"]:s["stop"]]) + "\n" for s in segs]
        before = "\n".join(clines[:segs[0]["start"]] if segs else clines) + "\n"
        found = crash_scan(pieces + [before])
        for s, c in zip(segs, found[:len(segs)]):
            if c:
                crash_in.setdefault(s["suite"], (c, s))
        boot_crash = found[-1]
    else:
        boot_crash = None
    seen = {s["suite"]: s for s in segs}
    reports, rerun = {}, []
    died = not collected           # the collector never ran: the boot did not end
    running = [s for s in segs if s["end"] is None]
    reason_i = result.get("reason") or "the instance failed (exit status %s)" % status

    def after_end(c, s):
        """Was the crash printed after the suite's own result line?"""
        if s["end"] is None:
            return False
        line = (c.get("crash_line") or "").strip()
        return any(l.strip() == line for l in clines[s["end"] + 1:s["stop"]])

    for suite in suites:
        rep = {"suite": suite, "crash": None}
        own = crash_in.get(suite)
        s = seen.get(suite)
        if own:
            own = (dict(own[0]), own[1])
        if suite in results:
            j = judge(suite, results[suite])
            rep["judged"] = j
            if own:
                late = after_end(own[0], s)
                no, case = case_at(s, clines, own[0].get("crash_line"), listing)
                retitle(own[0], crash_title(own[0], "%s.%s" % (suite, case) if not late else suite))
                rep.update(outcome="crash", crash=own[0], reason="%s %s (the kernel went on)" % (
                    own[0]["title"], "after the suite's last case" if late else "while case %s ran" % case))
            elif boot_crash:
                bc = retitle(dict(boot_crash), crash_title(boot_crash))
                rep.update(outcome="crash", crash=bc, reason="%s while booting, before the KUnit "
                           "suites ran" % bc["title"])
            elif j["failed"] or j["problems"]:
                rep.update(outcome="fail", reason=(
                    "case failed: %s%s" % (j["first_failure"], " (and %d more)" % (j["failed"] - 1)
                                           if j["failed"] > 1 else "") if j["failed"] else j["problems"][0]))
            elif j["skip_all"] is not None:
                rep.update(outcome="skip", reason="skipped: %s" % j["skip_all"])
            else:
                rep.update(outcome="pass", reason=None)
        elif not died:
            rep.update(outcome="infra", reason="the suite did not run in its instance "
                       "(kunit.filter_glob did not select it, or it is gone from the kernel)")
        elif s and s["end"] is None:
            # the kernel died while this suite ran: it is to blame, in the
            # case after the last one the console shows finished
            case_no = (s["last_case"][0] + 1) if s["last_case"] else 1
            cases = listing.get(suite, [])
            case = cases[case_no - 1] if 0 < case_no <= len(cases) else "case %d" % case_no
            rep["case"] = {"number": case_no, "name": case}
            rep["completed_cases"] = s["last_case"][0] if s["last_case"] else 0
            if own:
                retitle(own[0], crash_title(own[0], "%s.%s" % (suite, case)))
                rep.update(outcome="crash", crash=own[0], reason="%s%s: the kernel died" % (
                    own[0]["title"], "" if own[0]["title"].endswith("." + case) else ", in case " + case))
            else:
                rep.update(outcome="fail", reason="no result from case %s: the kernel stopped there "
                           "without a crash report (%s)" % (case, reason_i))
        elif s and not running and own:
            # every suite had finished; the crash that killed the kernel came
            # after this one's cases
            retitle(own[0], crash_title(own[0], suite))
            rep.update(outcome="crash", crash=own[0], reason="%s after the suite's last case: the kernel "
                       "died" % own[0]["title"])
        elif running or (segs and any(crash_in.values())):
            rerun.append(suite)         # its results died with the kernel, not because of it
            continue
        elif boot_crash and not segs:
            bc = retitle(dict(boot_crash), crash_title(boot_crash))
            rep.update(outcome="crash", crash=bc,
                       reason="%s while booting, before any KUnit suite ran" % bc["title"])
        else:
            rep.update(outcome="infra", reason="the instance ended before its results were collected: %s"
                       % reason_i)
        reports[suite] = rep
    note = "; ".join(collect_notes[:3]) if collect_notes else None
    return reports, rerun, times, note


# ---- running instances -------------------------------------------------------------

NICE_OFF_PATH = 5          # the niceness of a group that is not the run's longest


def nice_for(plan, gid):
    """The niceness of a group's instances: the group the plan expects to take
    longest runs at the usual priority, the others at +NICE_OFF_PATH, so that
    when the groups outnumber the CPUs the CPU goes to the run's critical
    path first (BENCHMARKS.md, "KUnit")."""
    groups = plan.get("groups") or {}
    if len(groups) < 2 or gid not in groups:
        return 0
    longest = max(sorted(groups), key=lambda g: groups[g].get("estimate_ms", 0))
    part_of = groups[longest].get("part_of")
    return 0 if gid == longest or (part_of and groups[gid].get("part_of") == part_of) else NICE_OFF_PATH


class Runner:
    """Boots instances for a group: where their logs, coverage and timings go."""

    def __init__(self, plan, gdir, listing):
        self.plan = plan
        self.gdir = gdir
        self.listing = listing
        self.runs = 0
        self.universe = [s for s in listing if listing[s]]   # as make_plan's
        self.nice = nice_for(plan, os.path.basename(gdir))

    def timeout_s(self, suites, est):
        fixed = os.environ.get("VKCI_KUNIT_TIMEOUT")
        if fixed and fixed.isdigit() and int(fixed) > 0:
            return int(fixed)
        return int(min(1800, 30 + sum(max(5.0, 5 * est.get(s, DEFAULT_EST_MS) / 1000) for s in suites)))

    def instance(self, glob, test_glob, suites, est):
        """One instance for `suites` (exactly what glob selects). Returns
        (exit status, stdout, result dict, console text, log dir, seconds)."""
        self.runs += 1
        logroot = os.path.join(self.gdir, "run%d" % self.runs)
        shutil.rmtree(logroot, ignore_errors=True)
        os.makedirs(logroot)
        boot_to = self.timeout_s(suites, est)
        fg = glob + ("." + test_glob if test_glob else "")
        argv = ["exec", "-k", self.plan["kernel"], "-i", self.plan["image"], "-p", self.plan["payload"],
                "-m", MEM, "-t", "120", "-b", str(boot_to), "-l", logroot,
                "-a", "kunit.filter_glob=" + fg]
        if os.environ.get("VKCI_RUNDIR"):
            argv += ["-r", os.environ["VKCI_RUNDIR"]]
        gcov = os.environ.get("VKCI_GCOV_DIR")
        gtmp = None
        if gcov:
            import tempfile
            gtmp = tempfile.mkdtemp(prefix="kunit-gcov.", dir=os.path.dirname(os.path.abspath(gcov)))
            argv += ["-g", gtmp]
        t0 = time.monotonic()
        rc, out, err = run_vkci(argv + [COLLECT], env=kunit_env(), nice=self.nice)
        secs = time.monotonic() - t0
        ldir = os.path.join(logroot, COLLECT)
        with open(os.path.join(logroot, "vkci-exec.tap"), "w", encoding="utf-8") as f:
            f.write(out)                # what vkci exec printed: `kunit.py replay` reads it
        try:
            result = vkciresult.load(os.path.join(ldir, "result.json"))
        except vkciresult.ResultError:
            result = {"exit_status": rc, "reason": "vkci exec wrote no result.json: " + err.strip()[-300:]}
        result["exit_status"] = rc
        console = read(os.path.join(ldir, "console.log"))
        if gtmp:
            tree = os.path.join(gtmp, COLLECT)
            part = (self.plan["groups"].get(os.path.basename(self.gdir)) or {}).get("part_of")
            name = suites[0] if len(suites) == 1 and not part else \
                "%s.run%d" % (os.path.basename(self.gdir), self.runs)
            dest = os.path.join(gcov, "kunit", name)
            if os.path.isdir(tree):
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                shutil.rmtree(dest, ignore_errors=True)
                os.rename(tree, dest)
            shutil.rmtree(gtmp, ignore_errors=True)
        return {"rc": rc, "stdout": out, "stderr": err, "result": result, "console": console,
                "logdir": ldir, "seconds": secs, "glob": fg, "suites": list(suites), "boot_timeout": boot_to}

    def run_group(self, glob, test_glob, suites, est):
        """Run suites (the group's glob selects them); on a crash, blame the
        suite that was running and run the others again. Returns
        ({suite: report}, {suite: ms})."""
        done, times = {}, {}
        queue = [(glob, list(suites), False)]
        # with a case glob the kernel runs (and numbers) only the matching cases
        listing = {s: [c for c in cs if glob_match(test_glob, c)] for s, cs in self.listing.items()} \
            if test_glob else self.listing
        while queue:
            g, names, alone = queue.pop(0)
            inst = self.instance(g, test_glob, names, est)
            reps, rerun, t_us, note = analyze(names, listing, inst["stdout"], inst["console"],
                                              inst["result"])
            for s, us in t_us.items():
                times[s] = us / 1000.0
            for s, r in reps.items():
                r["instance"] = inst
                r["note"] = note
                done[s] = r
            if rerun:
                if len(reps) == 0 and (alone or len(rerun) == 1):
                    for s in rerun:             # no progress on its own: give up on it
                        done[s] = {"suite": s, "outcome": "infra", "crash": None, "instance": inst,
                                   "reason": "the kernel died and no suite can be blamed: "
                                   + (inst["result"].get("reason") or "see the console log")}
                elif len(reps) == 0:
                    queue += [(literal(s), [s], True) for s in rerun]
                else:
                    queue += [(gl, ns, False) for gl, ns in cover(rerun, self.universe)]
                    for s in rerun:
                        self.reruns = getattr(self, "reruns", {})
                        self.reruns[s] = self.reruns.get(s, 0) + 1
        # what boot costs: this instance's time beyond its suites'
        return done, times


# ---- each suite's report: TAP for prove, result.json ---------------------------------

def quarantine_reason(test):
    """The known-flaky list (VKCI_QUARANTINE) names this test (or vkci exec
    --quarantined): the list's path, else None."""
    if os.environ.get("VKCI_KUNIT_QUARANTINED"):
        return os.environ["VKCI_KUNIT_QUARANTINED"]
    path = os.environ.get("VKCI_QUARANTINE")
    if not path:
        return None
    for line in read(path, 1 << 20).splitlines():
        if line.split("#", 1)[0].strip() == test:
            return path
    return None


def report_for(suite, rep, plan):
    """(TAP lines with the plan last, result dict, exit status) of one suite."""
    inst = rep["instance"]
    res_i = inst["result"]
    j = rep.get("judged")
    lines = ["# Subtest: %s" % suite] if not j else []
    lines += j["lines"] if j else []
    n = j["run"] if j else 0
    outcome = rep["outcome"]
    # what the cases' own lines do not say
    problems = [rep["reason"]] if outcome == "crash" or not j else []
    problems += j["problems"] if j else []
    for p in problems:
        n += 1
        lines.append("not ok %d - %s" % (n, p))
    if rep.get("crash"):
        lines.append("# console (%s):" % rep["crash"]["crash_kind"])
        lines += ["#   " + l for l in (rep["crash"].get("excerpt") or [])[:24]]
    if rep.get("case") and rep.get("completed_cases") is not None:
        lines.append("# the console shows %d case(s) of %s completed before case %d, %s"
                     % (rep["completed_cases"], suite, rep["case"]["number"], rep["case"]["name"]))
    others = len(inst["suites"]) - 1
    if rep.get("parts"):
        lines.append("# kunit: ran in %d parts at once: %s" % (len(rep["parts"]), ", ".join(
            "kunit.filter_glob=%s in %.2f s" % (p["filter_glob"], p["seconds"]) for p in rep["parts"])))
    else:
        lines.append("# kunit: ran with kunit.filter_glob=%s%s in %.2f s" % (
            inst["glob"], " beside %d other suite%s" % (others, "s" if others > 1 else "") if others
            else " alone", inst["seconds"]))
    if rep.get("note"):
        lines.append("# kunit: collector: %s" % rep["note"])
    for k, v in (("console log", res_i.get("console_log")), ("serial log", res_i.get("serial_log")),
                 ("instance kept", res_i.get("instance_dir_kept"))):
        if v:
            lines.append("# %s: %s" % (k, v))
    if n == 0 and outcome == "skip":
        lines.append("1..0 # SKIP %s" % (rep.get("reason") or "skipped"))
    else:
        lines.append("1..%d" % n)
    status = {"pass": 0, "skip": 0, "fail": 1, "crash": 1}.get(outcome, 3)
    crash = rep.get("crash") or {}
    us = rep.get("time_us")
    result = {
        "format": vkciresult.FORMAT, "test": "kunit/" + suite, "kind": "kunit", "backend": "uml",
        "outcome": outcome, "exit_status": status, "reason": rep.get("reason"),
        "tests": {"planned": j["plan"] if j and j["plan"] is not None else -1,
                  "run": j["run"] if j else 0, "failed": j["failed"] if j else 0},
        "plan": j["plan"] if j else None,
        "subtests": j["subtests"] if j else
        ([{"id": str(rep["case"]["number"]), "name": rep["case"]["name"][:127], "outcome": "fail"}]
         if rep.get("case") else []),
        "crash_kind": crash.get("crash_kind"), "crash_title": crash.get("title") or crash_title(crash) if crash else None,
        "crash_fingerprint": crash.get("crash_fingerprint"), "crash_line": crash.get("crash_line"),
        "start_unix_ms": res_i.get("start_unix_ms"),
        "duration_ms": round(us / 1000) if us is not None else res_i.get("duration_ms"),
        "kernel": plan["kernel"], "image": plan["image"], "payload": plan["payload"],
        "nodes": 1, "mem_bytes": res_i.get("mem_bytes"), "timeout_s": inst["boot_timeout"],
        "console_log": None, "serial_log": None,
        "instance_dir_kept": res_i.get("instance_dir_kept"),
        "flaky": False, "quarantined": False, "attempt": 1,
        "attempts": [{"attempt": 1, "exit_status": status, "outcome": outcome, "reason": rep.get("reason"),
                      "crash_title": crash.get("title") if crash else None,
                      "crash_fingerprint": crash.get("crash_fingerprint") if crash else None, "log_dir": None}],
        "kunit": {"filter_glob": inst["glob"], "suites_in_instance": len(inst["suites"]),
                  "instance_seconds": round(inst["seconds"], 3), "instance_exit_status": inst["rc"],
                  "instance_log_dir": inst["logdir"], "suite_us": us,
                  "ran_again": rep.get("ran_again", 0)},
    }
    if rep.get("parts"):
        result["kunit"]["parts"] = rep["parts"]
    return lines, result, status


def quarantine(lines, result, status, why):
    out = []
    for l in lines:
        m = re.match(r"^not ok (\d+)(.*)$", l)
        if m and "# TODO" not in l:
            l = "not ok %s%s # TODO quarantined: known flaky (%s), not counted" % (m.group(1), m.group(2), why)
        out.append(l)
    result["quarantined"] = True
    return out, result, 0 if status == 1 else status


def keep_logs(result, logdir, final=None):
    """The instance's console and serial logs beside the suite's result.json
    (hard links: one copy on disk for every suite of the group), in logdir;
    result names them where the dir will be (final, default logdir)."""
    os.makedirs(logdir, exist_ok=True)
    src = result["kunit"]["instance_log_dir"]
    for name, key in (("console.log", "console_log"), ("serial.log", "serial_log")):
        s, d = os.path.join(src, name), os.path.join(logdir, name)
        if not os.path.exists(s):
            continue
        try:
            os.unlink(d)
        except OSError:
            pass
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)
        result[key] = os.path.join(final or logdir, name)


def deliver(suite, verdict, logs, logdir, final=None):
    """One member's output: (TAP text, exit status) with the known-flaky list
    applied, and its log dir written (result.json and the instance's logs) in
    logdir, naming final as where it will be."""
    lines, result, status = verdict["tap"], dict(verdict["result"]), verdict["exit"]
    why = quarantine_reason("kunit/" + suite)
    if why:
        lines, result, status = quarantine(lines, result, status, why)
    if logs:
        os.makedirs(logdir, exist_ok=True)
        if result.get("kunit"):
            keep_logs(result, logdir, final)
        write_atomic(os.path.join(logdir, "result.json"), json.dumps(result, indent=1) + "\n")
    return "".join(l + "\n" for l in lines), status


def publish(ready, verdicts, done_by):
    """The group's other members' output, ready for `vkci exec kunit/SUITE`
    to print without starting Python (harness/kunit.c): READY/SUITE.logs/ (the
    suite's log dir, moved into VKCI_LOG_DIR/kunit/ by the driver), then
    READY/SUITE.tap: "status N", "logs DIR" (VKCI_LOG_DIR, under whose kunit/SUITE
    the paths in its result.json point, "-" for none), then the TAP. Not done when this
    member was told it is quarantined (`vkci exec --quarantined`: the run's
    list, VKCI_QUARANTINE, is then not in its environment)."""
    if os.environ.get("VKCI_KUNIT_QUARANTINED"):
        return
    logs = os.environ.get("VKCI_LOG_DIR")
    os.makedirs(ready, exist_ok=True)
    for s, v in verdicts.items():
        if s == done_by:
            continue
        tmp = os.path.join(ready, s + ".logs")
        final = os.path.join(logs, "kunit", s) if logs else None
        shutil.rmtree(tmp, ignore_errors=True)
        text, status = deliver(s, v, logs, tmp, final)
        write_atomic(os.path.join(ready, s + ".tap"), "status %d\nlogs %s\n%s" % (status, logs or "-", text))


def load_plan(path):
    try:
        with open(path, encoding="utf-8") as f:
            plan = json.load(f)
    except (OSError, ValueError) as e:
        die("cannot read the KUnit plan '%s': %s (make check SUITES=kunit writes it)" % (path, e), 3)
    if plan.get("format") != FORMAT_PLAN:
        die("'%s' is not a KUnit plan (format %r)" % (path, plan.get("format")), 3)
    return plan


def once(plan, gid, compute):
    """The verdicts of group gid ({suite: verdict}): compute(listing, state,
    est) under the lock of the group's dir, unless they were stored there
    (a member that waited, or runs again), then stored."""
    gdir = os.path.join(plan["dir"], gid)
    os.makedirs(gdir, exist_ok=True)
    vpath = os.path.join(gdir, "verdicts.json")
    with open(os.path.join(gdir, "lock"), "a") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        if os.path.exists(vpath):
            with open(vpath, encoding="utf-8") as f:
                return json.load(f)
        state = State(plan.get("state"))
        verdicts = compute({s: plan["cases"].get(s, []) for s in plan["universe"]}, state,
                           dict(state.load()["suites"]))
        write_atomic(vpath, json.dumps(verdicts) + "\n")
        return verdicts


def run_group_once(plan, gid, ready=None, member=None):
    """Under the group's lock: run it unless a member already did; the verdicts.
    The member that runs it publishes the other members' output in ready."""
    grp = plan["groups"][gid]

    def compute(listing, state, est):
        runner = Runner(plan, os.path.join(plan["dir"], gid), listing)
        t0 = time.time()
        done, times = runner.run_group(grp["glob"], grp.get("test_glob"), grp["suites"], est)
        verdicts = {}
        for s in grp["suites"]:
            rep = done[s]
            rep["time_us"] = times[s] * 1000 if s in times else None
            rep["ran_again"] = getattr(runner, "reruns", {}).get(s, 0)
            lines, result, status = report_for(s, rep, plan)
            verdicts[s] = {"tap": lines, "result": result, "exit": status}
        first = [r for r in done.values() if r["instance"]["glob"] == grp["glob"] +
                 ("." + grp["test_glob"] if grp.get("test_glob") else "")]
        boot = None
        if first and times:
            inst = first[0]["instance"]
            boot = max(0.0, inst["seconds"] * 1000 - sum(times.get(s, 0) for s in inst["suites"]))
        state.update(times, boot)
        if ready:
            publish(ready, verdicts, member)
        note("kunit: group %s (%d suites, kunit.filter_glob=%s): %d instance(s), %.1f s"
             % (gid, len(grp["suites"]), grp["glob"], runner.runs, time.time() - t0)) \
            if os.environ.get("VKCI_VERBOSE") else None
        return verdicts
    return once(plan, gid, compute)


OUTCOME_RANK = {"crash": 0, "infra": 1, "fail": 2, "pass": 3, "skip": 4}
TOTALS_RE = re.compile(r"^# Totals: pass:(\d+) fail:(\d+) skip:(\d+) total:(\d+)$")


def merge_parts(suite, got, listing):
    """One report for a suite that ran cut into parts: got is [(case glob,
    report)] as analyze() made them, each numbering its own cases from 1.
    The cases come back in the kernel's order, numbered 1..n; the outcome is
    the worst part's (skip only when every part skipped), with its crash,
    reason and logs; each part's glob, time and logs are listed."""
    full = listing.get(suite, [])
    pos = {c: i for i, c in enumerate(full)}
    worst = min((r for _, r in got), key=lambda r: OUTCOME_RANK.get(r["outcome"], 1))
    m = dict(worst)
    blocks, tails, subs, problems = [], [], [], []
    head = ["KTAP version 1", "# Subtest: " + suite]       # each part's, said once
    totals = [0, 0, 0, 0]
    plan, complete, skip_alls = 0, True, []
    for glob, r in got:
        j = r.get("judged")
        mine = [c for c in full if glob_match(glob, c)]
        if r.get("case"):
            n = r["case"]["number"]
            name = mine[n - 1] if 0 < n <= len(mine) else r["case"]["name"]
            r["case"] = {"number": pos.get(name, n - 1) + 1, "name": name}
        if not j:
            complete = False
            plan = None
            continue

        def where(num):
            return pos.get(mine[num - 1], len(full) + num) if 0 < num <= len(mine) else len(full) + num
        cur, mine_totals = [], None
        for line in j["lines"]:
            rm = RESULT_RE.match(line)
            tm = TOTALS_RE.match(line)
            if rm and not line.startswith(" "):
                blocks.append((where(int(rm.group(2))), cur + [(rm.group(1), rm.group(3))]))
                cur = []
            elif tm:                    # the parts' own totals: summed below
                mine_totals = [int(x) for x in tm.groups()]
            elif line not in head:
                cur.append(line)
        # (KUnit prints no totals for a suite of one case: its cases' counts)
        totals = [t + x for t, x in zip(totals, mine_totals or [
            j["run"] - j["failed"] - j["skipped"], j["failed"], j["skipped"], j["run"]])]
        tails += [t for t in cur if t not in tails]
        for st in j["subtests"]:
            top, dot, rest = st["id"].partition(".")
            subs.append((where(int(top)) if top.isdigit() else len(full), dot + rest, st))
        problems += ["%s (kunit.filter_glob=%s)" % (p, r["instance"]["glob"]) for p in j["problems"]]
        plan = None if plan is None or j["plan"] is None else plan + j["plan"]
        complete = complete and j["complete"]
        skip_alls.append(j["skip_all"])
    # number the cases 1..n in the kernel's order
    blocks.sort(key=lambda b: b[0])
    renum = {w: i + 1 for i, (w, _) in enumerate(blocks)}
    lines = []
    for _w, block in blocks:
        lines += block[:-1]
        word, text = block[-1]
        lines.append("%s %d %s" % (word, renum[_w], text))
    subtests = []
    for w, rest, st in sorted(subs, key=lambda x: (x[0], x[1])):
        nst = dict(st)
        nst["id"] = "%s%s" % (renum.get(w, w + 1), rest)
        subtests.append(nst)
    if any(r.get("judged") for _, r in got):
        top = [st for st in subtests if "." not in st["id"]]
        failed = [st["name"] for st in top if st["outcome"] == "fail"]
        if any(totals):
            tails.append("# Totals: pass:%d fail:%d skip:%d total:%d (the parts' together)" % tuple(totals))
        j = {"lines": head + lines + tails, "plan": plan, "subtests": subtests, "run": len(top),
             "failed": len(failed), "skipped": sum(st["outcome"] == "skip" for st in top),
             "first_failure": failed[0] if failed else None, "complete": complete,
             "skip_all": skip_alls[0] if skip_alls and None not in skip_alls and
             len(skip_alls) == len(got) else None, "problems": problems}
        if not worst.get("judged") and worst.get("case"):
            # the case the crash ended (its part has no results) among the others
            j["subtests"].append({"id": str(j["run"] + 1), "name": worst["case"]["name"][:127],
                                  "outcome": "fail"})
        m["judged"] = j
        if m["outcome"] == "fail" and j["failed"]:
            m["reason"] = "case failed: %s%s" % (j["first_failure"], " (and %d more)" % (j["failed"] - 1)
                                                 if j["failed"] > 1 else "")
    if m["outcome"] == "skip" and any(r["outcome"] == "pass" for _, r in got):
        m["outcome"], m["reason"] = "pass", None
    us = [r.get("time_us") for _, r in got]
    m["time_us"] = sum(us) if None not in us else None
    m["ran_again"] = sum(r.get("ran_again", 0) for _, r in got)
    m["note"] = "; ".join(r["note"] for _, r in got if r.get("note")) or None
    m["parts"] = [{"filter_glob": r["instance"]["glob"], "seconds": round(r["instance"]["seconds"], 3),
                   "outcome": r["outcome"], "instance_exit_status": r["instance"]["rc"],
                   "instance_log_dir": r["instance"]["logdir"]} for _, r in got]
    return m


def run_parts(plan, suite):
    """A suite cut into parts (the plan's suites[SUITE]["parts"]): every
    part's instance at once, then one verdict from them all, kept (like a
    group's) in the first part's dir for a member that runs again."""
    gids = plan["suites"][suite]["parts"]

    def compute(listing, state, est):
        def one(gid):
            grp = plan["groups"][gid]
            runner = Runner(plan, os.path.join(plan["dir"], gid), listing)
            done, times = runner.run_group(grp["glob"], grp["test_glob"], [suite], est)
            rep = done[suite]
            rep["time_us"] = times[suite] * 1000 if suite in times else None
            rep["ran_again"] = getattr(runner, "reruns", {}).get(suite, 0)
            return grp["test_glob"], rep, times

        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(len(gids)) as ex:
            got = list(ex.map(one, gids))
        times, boots = {}, []
        for _g, rep, t in got:
            times.update({k: v for k, v in t.items() if isinstance(k, tuple)})
            if suite in t:
                boots.append(max(0.0, rep["instance"]["seconds"] * 1000 - t[suite]))
        if all(suite in t for _g, _r, t in got):
            times[suite] = sum(t[suite] for _g, _r, t in got)    # the whole suite's work
        state.update(times, sum(boots) / len(boots) if boots else None)
        lines, result, status = report_for(suite, merge_parts(suite, [(g, r) for g, r, _t in got], listing),
                                           plan)
        return {suite: {"tap": lines, "result": result, "exit": status}}
    return once(plan, gids[0], compute)[suite]


def cmd_member(a):
    test = os.environ.get("VKCI_TEST", "")
    plan_path = os.environ.get("VKCI_KUNIT_PLAN")
    if not test.startswith("kunit/"):
        die("kunit.py member runs as `vkci exec kunit/SUITE` (VKCI_TEST is '%s')" % test)
    if not plan_path:
        die("KUnit suites run within a plan: make check SUITES=kunit (or TESTS=%s) writes it "
            "(VKCI_KUNIT_PLAN is not set)" % test)
    suite = test[len("kunit/"):]
    plan = load_plan(plan_path)
    info = plan["suites"].get(suite)
    if not info:
        die("KUnit suite '%s' is not in this run's plan '%s' (make check TESTS=%s)" % (suite, plan_path, test))
    if info.get("group") is None:
        why = "the suite has no cases in this kernel (KUnit runs such a suite only without kunit.filter_glob)"
        lines, status = ["1..0 # SKIP " + why], 0
        result = {"format": vkciresult.FORMAT, "test": test, "kind": "kunit", "backend": "uml", "outcome": "skip",
                  "exit_status": 0, "reason": why, "tests": {"planned": 0, "run": 0, "failed": 0},
                  "plan": 0, "subtests": [], "kernel": plan["kernel"], "image": plan["image"],
                  "payload": plan["payload"], "nodes": 1, "flaky": False, "quarantined": False, "attempt": 1,
                  "attempts": [{"attempt": 1, "exit_status": 0, "outcome": "skip", "reason": why}],
                  "kunit": None}
    elif info.get("parts"):
        v = run_parts(plan, suite)
        lines, result, status = v["tap"], v["result"], v["exit"]
    else:
        ready = os.path.abspath(plan_path) + ".ready"
        v = run_group_once(plan, info["group"], ready, suite)[suite]
        lines, result, status = v["tap"], v["result"], v["exit"]
        # what was published for it (it waited for the group instead): unused
        shutil.rmtree(os.path.join(ready, suite + ".logs"), ignore_errors=True)
        try:
            os.unlink(os.path.join(ready, suite + ".tap"))
        except FileNotFoundError:
            pass
    logs = os.environ.get("VKCI_LOG_DIR")
    text, status = deliver(suite, {"tap": lines, "result": result, "exit": status}, logs,
                           os.path.join(logs, "kunit", suite) if logs else None)
    sys.stdout.write(text)
    sys.stdout.flush()
    return status


# ---- the plan of a run ----------------------------------------------------------------

def make_plan(a):
    listing = discover(a.kernel, a.image, a.payload, cache=os.path.join(a.out, "kunit.list"))
    words = a.select.split() if a.select else []
    tests = a.tests.split() if a.tests else []
    words = [w for w in words if w == "kunit" or w.startswith("kunit:")]
    tests = [t for t in tests if t.startswith("kunit/")]
    chosen = select(listing, words if words or tests else ["kunit"], tests)
    state_path = os.path.join(a.out, "kunit-state.json")
    st = State(state_path).load()
    est = {s: max(ms, MEMBER_MS) for s, ms in st["suites"].items()}
    boot = st.get("boot_ms") or DEFAULT_BOOT_MS
    jobs = a.jobs or os.cpu_count() or 1
    # what a glob may select: the suites with cases (one without never runs
    # under kunit.filter_glob, so a glob may match it freely)
    universe = [s for s in listing if listing[s]]
    # a suite without cases (its cases are compiled out here) never runs under
    # kunit.filter_glob: the kernel drops a suite none of whose cases match
    # (kunit_filter_glob_tests()); it is reported as skipped without a boot
    empty = [s for s in chosen if not listing.get(s)]
    runnable = [s for s in chosen if listing.get(s)]
    splits = {}
    if a.singletons:
        groups = [(literal(s), [s]) for s in runnable]
    elif runnable:
        groups, splits = choose_splits(runnable, universe, est, boot, jobs, lambda s: chosen.get(s),
                                       listing, st["cases"])
    else:
        groups = []
    kdir = os.path.join(a.out, "kunit")
    shutil.rmtree(kdir, ignore_errors=True)
    shutil.rmtree(os.path.join(a.out, "kunit.plan.ready"), ignore_errors=True)
    os.makedirs(kdir)
    plan = {"format": FORMAT_PLAN, "kernel": os.path.realpath(a.kernel), "image": os.path.realpath(a.image),
            "payload": os.path.realpath(a.payload), "dir": os.path.abspath(kdir),
            "state": os.path.abspath(state_path), "boot_ms": boot, "jobs": jobs,
            "universe": universe, "cases": listing, "groups": {}, "suites": {}}
    order = []
    # (estimate, glob, suites, case glob, the suite it is a part of)
    entries = [(boot + sum(est.get(s, DEFAULT_EST_MS) for s in names), glob,
                [s for s in listing if s in names], chosen[names[0]], None) for glob, names in groups]
    entries += [(boot + sum(st["cases"].get("%s.%s" % (s, c), DEFAULT_EST_MS) for c in cases),
                 literal(s), [s], case_glob, s) for s, parts in splits.items() for case_glob, cases in parts]
    for i, (e, glob, names, test_glob, part_of) in enumerate(sorted(entries, key=lambda x: -x[0])):
        gid = "g%d" % (i + 1)
        plan["groups"][gid] = {"glob": glob, "test_glob": test_glob, "suites": names,
                               "estimate_ms": round(e, 1)}
        if part_of:
            # one suite's cases over several instances, run at once by its member
            plan["groups"][gid]["part_of"] = part_of
            if part_of not in plan["suites"]:
                plan["suites"][part_of] = {"group": gid, "parts": []}
                order.append(part_of)
            plan["suites"][part_of]["parts"].append(gid)
            continue
        for s in names:
            plan["suites"][s] = {"group": gid}
            order.append(s)
    for s in empty:
        plan["suites"][s] = {"group": None}
        order.append(s)
    write_atomic(os.path.join(a.out, "kunit.plan"), json.dumps(plan, indent=1) + "\n")
    return ["kunit/" + s for s in order], plan


def cmd_plan(a):
    tests, plan = make_plan(a)
    for t in tests:
        print(t)
    if a.verbose:
        for gid, g in plan["groups"].items():
            note("kunit %s: %d suite%s, ~%.2f s, kunit.filter_glob=%s%s" % (
                gid, len(g["suites"]), "s" if len(g["suites"]) > 1 else "", g["estimate_ms"] / 1000, g["glob"],
                "." + g["test_glob"] if g.get("test_glob") else ""))
        loads = [0.0] * max(1, plan["jobs"])
        for e in sorted((g["estimate_ms"] for g in plan["groups"].values()), reverse=True):
            loads[loads.index(min(loads))] += e
        note("kunit plan: %d instance(s), the simulated run %.2f s on %d CPU(s)"
             % (len(plan["groups"]), max(loads) / 1000, plan["jobs"]))
    return 0


def cmd_list(a):
    listing = discover(a.kernel, a.image, a.payload, cache=a.cache)
    for s, cs in listing.items():
        print(s)
        for c in cs:
            print("%s.%s" % (s, c))
    return 0


def cmd_fragments(a):
    for f in fragments(os.path.realpath(a.src), a.kunitconfig, a.backend):
        print("-c %s" % f)
    return 0


def cmd_replay(a):
    """Per-suite verdicts from saved output (no boot)."""
    result = json.loads(read(a.result) or "{}")
    if a.exit_status is not None:
        result["exit_status"] = a.exit_status
    listing = {}
    for line in read(a.listing).splitlines() if a.listing else []:
        s, dot, c = line.strip().partition(".")
        listing.setdefault(s, [])
        if dot:
            listing[s].append(c)
    reps, rerun, times, note_ = analyze(a.suites, listing, read(a.stdout), read(a.console), result)
    for s in a.suites:
        r = reps.get(s)
        if r is None:
            print("%s rerun" % s)
            continue
        j = r.get("judged") or {}
        print("%s %s %s%s" % (s, r["outcome"], "cases=%d/%d/%d" % (j.get("run", 0), j.get("failed", 0),
                                                                     j.get("skipped", 0)) if j else "cases=-",
                              " | " + r["reason"] if r.get("reason") else ""))
        if r.get("crash"):
            print("%s crash_title %s" % (s, r["crash"].get("title") or crash_title(r["crash"])))
        if r.get("case"):
            print("%s case %d %s" % (s, r["case"]["number"], r["case"]["name"]))
    for s, us in sorted(times.items()):
        print("time %s %d" % (s, us))
    return 0


OUTCOME_WORDS = ("pass", "fail", "skip", "crash", "infra")


def expected_counts(path):
    """suites/kunit/expected.txt: 'SUITE PASS FAIL SKIP [OUTCOME]' lines: leaf
    cases as kunit.py counts them, and optionally the suite's outcome (when
    it is not what the counts say, e.g. crash)."""
    out = {}
    if not os.path.isfile(path):
        die("no expected counts file '%s'" % path)
    for n, line in enumerate(read(path).splitlines(), 1):
        w = line.split("#", 1)[0].split()
        if not w:
            continue
        if len(w) not in (4, 5) or not all(x.isdigit() for x in w[1:4]) or \
                (len(w) == 5 and w[4] not in OUTCOME_WORDS):
            die("%s:%d: bad line (SUITE PASS FAIL SKIP [%s])" % (path, n, "|".join(OUTCOME_WORDS)))
        out[w[0]] = (tuple(int(x) for x in w[1:4]), w[4] if len(w) == 5 else None)
    return out


def leaf_counts(subtests, outcome=None):
    """(pass, fail, skip) over the leaves, as kunit.py counts tests: a case
    with parameters counts as its parameters, any other case as itself, and
    a suite without cases as itself (its outcome)."""
    if not subtests and outcome:
        return (int(outcome == "pass"), int(outcome not in ("pass", "skip")), int(outcome == "skip"))
    parents = {s["id"].rsplit(".", 1)[0] for s in subtests if "." in s["id"]}
    leaves = [s for s in subtests if s["id"] not in parents]
    return (sum(x["outcome"] == "pass" for x in leaves), sum(x["outcome"] == "fail" for x in leaves),
            sum(x["outcome"] == "skip" for x in leaves))


def run_counts(out):
    """{suite: (pass, fail, skip, outcome)} of a run's KUnit suites (result.json):
    leaf cases, as leaf_counts()."""
    res = {}
    base = os.path.join(out, "logs", "kunit")
    for s in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        try:
            with open(os.path.join(base, s, "result.json"), encoding="utf-8") as f:
                r = json.load(f)
        except (OSError, ValueError):
            continue
        res[s] = leaf_counts(r.get("subtests") or [], r.get("outcome")) + (r.get("outcome"),)
    return res


def cmd_check(a):
    exp = expected_counts(a.expected or os.path.join(TOP, "suites", "kunit", "expected.txt"))
    got = run_counts(a.out)
    if not got:
        die("no KUnit results in '%s/logs/kunit' (run make check SUITES=kunit OUT=%s first)" % (a.out, a.out))
    bad = []
    for s in sorted(set(exp) | set(got) if not a.only_ran else got):
        e = exp.get(s)
        g = got.get(s)
        if g is None:
            bad.append("%s: expected %s, did not run" % (s, "%d/%d/%d" % e[0]))
        elif e is None:
            bad.append("%s: not in the expected list (ran: %d/%d/%d, %s)" % (s, *g))
        elif e[0] != g[:3]:
            bad.append("%s: expected %d/%d/%d pass/fail/skip, got %d/%d/%d (%s)" % (s, *e[0], *g))
        elif e[1] and e[1] != g[3]:
            bad.append("%s: expected outcome %s, got %s" % (s, e[1], g[3]))
    tot = [sum(x[i] for x in got.values()) for i in range(3)]
    print("kunit: %d suites, %d cases: %d pass, %d fail, %d skip" % (len(got), sum(tot), *tot))
    for b in bad:
        print("vkci: kunit " + b, file=sys.stderr)
    return 1 if bad else 0


def cmd_counts(a):
    """A run's counts as expected.txt lines (to review before they replace it)."""
    for s, (p, f, k, o) in sorted(run_counts(a.out).items()):
        natural = "fail" if f else ("skip" if (p == 0 and k) else "pass")
        print("%-24s %3d %3d %3d%s" % (s, p, f, k, "" if o == natural else "   " + o))
    return 0


def main(argv):
    if not argv and os.environ.get("VKCI_TEST", "").startswith("kunit/"):
        return cmd_member(None)    # as vkci exec hands a kunit/SUITE test over
    import argparse
    ap = argparse.ArgumentParser(prog="kunit.py", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("fragments")
    p.set_defaults(fn=cmd_fragments)
    p.add_argument("--kunitconfig")
    p.add_argument("--backend", default="uml")
    p.add_argument("src")
    for name, fn in (("list", cmd_list), ("plan", cmd_plan)):
        p = sub.add_parser(name)
        p.set_defaults(fn=fn)
        p.add_argument("--kernel", required=True)
        p.add_argument("--image", default=os.environ.get("VKCI_IMAGE") or os.path.join(TOP, "build/image/base.img"))
        p.add_argument("--payload", default=os.path.join(TOP, "build/kunit/payload.img"))
        if name == "list":
            p.add_argument("--cache")
        else:
            p.add_argument("--out", required=True)
            p.add_argument("--select", default="")
            p.add_argument("--tests", default="")
            p.add_argument("--jobs", type=int, default=int(os.environ.get("KUNIT_JOBS") or 0))
            p.add_argument("--singletons", action="store_true", help="every suite in its own instance")
            p.add_argument("-v", "--verbose", action="store_true")
    p = sub.add_parser("member")
    p.set_defaults(fn=cmd_member)
    p = sub.add_parser("replay")
    p.set_defaults(fn=cmd_replay)
    for k in ("--stdout", "--console", "--result"):
        p.add_argument(k, required=True)
    p.add_argument("--listing")
    p.add_argument("--exit-status", type=int)
    p.add_argument("suites", nargs="+")
    p = sub.add_parser("counts")
    p.set_defaults(fn=cmd_counts)
    p.add_argument("out")
    p = sub.add_parser("check")
    p.set_defaults(fn=cmd_check)
    p.add_argument("--expected")
    p.add_argument("--only-ran", action="store_true", help="compare only the suites that ran")
    p.add_argument("out")
    a = ap.parse_args(argv)
    return a.fn(a)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
