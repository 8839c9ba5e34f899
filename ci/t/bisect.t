#!/usr/bin/env python3
"""ci/bisect.py without a kernel build: how a run's result.json becomes a
way of failing, how a step is judged against BAD's signature (the same test
failing the same way is bad; an unrelated crash, a test that cannot run or
a skip is neither), the statistics behind RUNS= and the confidence, git
bisect's answers as git 2.x prints them (a real bisection of a tiny
repository), and the command's errors: each a one-line message and its
exit status, the user's repository untouched (a real clone in a private
cache). The bisection of a real kernel history is harness/t/full/90-bisect.t
(make check-full). TAP."""
import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "harness", "t"))
from taplib import done, is_, ok  # noqa: E402
from kernel_history import snapshot  # noqa: E402
_spec = importlib.util.spec_from_file_location("vkci_bisect", os.path.join(TOP, "ci", "bisect.py"))
B = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(B)

# ci/ is first on sys.path for the scripts in it: the standard `bisect`
# (random imports it) must still be the standard one
r = subprocess.run(["/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable, "-c",
                    "import sys; sys.path.insert(0, 'ci'); import tempfile, random, bisect; "
                    "print(random.randrange(5) < 5, bisect.bisect_left([1, 2], 2))"],
                   cwd=TOP, capture_output=True, text=True)
is_(r.stdout.strip(), "True 1", "with ci/ first on sys.path, `import random` and `bisect` get the standard modules")

# ---- ways and verdicts
is_(B.way({"outcome": "pass"}), None, "way: a pass")
is_(B.way({"outcome": "flaky"}), None, "way: a retried pass counts as a pass")
is_(B.way({"outcome": "fail", "reason": "1 of 12 failed"}), "fail", "way: a failure")
is_(B.way({"outcome": "crash", "crash_title": "WARNING in foo", "crash_fingerprint": "warning: foo < bar"}),
    "crash: WARNING in foo", "way: a crash is named by its title (vkci-result/2)")
is_(B.way({"outcome": "crash", "crash_fingerprint": "warning: foo < bar", "crash_kind": "warning"}),
    "crash: warning: foo < bar", "way: without a title, by its fingerprint")
ok(B.way({"outcome": "infra", "reason": "no boot"}).startswith("cannot run: infra"), "way: infrastructure cannot run")
ok(B.way({"outcome": "skip"}).startswith("cannot run: skipped"), "way: a skipped test cannot judge")
ok(B.way(None).startswith("cannot run"), "way: no result.json")

T, U = "suites/vm/mremap.c", "suites/vm/mincore.c"
sig = B.signature_of([{T: "fail", U: None}, {T: "fail", U: None}])
is_(sig, {T: {"fail"}}, "signature: the failing test and how; the passing one is not part of it")
is_(B.judge([{T: None}, {T: "fail"}], sig)[0], "bad", "judge: failing the same way in any run is bad")
is_(B.judge([{T: None}, {T: None}, {T: None}], sig), ("good", "3 runs passed"), "judge: all runs pass: good")
v, why = B.judge([{T: "crash: WARNING in mincore"}], sig)
ok(v == "skip" and "fails another way: crash: WARNING in mincore" in why,
   "judge: an unrelated crash is neither good nor bad: skip", why)
csig = {T: {"crash: BUG in mremap"}}
is_(B.judge([{T: "crash: BUG in mremap"}], csig)[0], "bad", "judge: BAD crashed: the same title is bad")
is_(B.judge([{T: "crash: WARNING in other"}], csig)[0], "skip", "judge: BAD crashed: another title is a skip")
is_(B.judge([{T: "fail"}], csig)[0], "skip", "judge: BAD crashed: a plain failure is a skip")
is_(B.judge([{T: "cannot run: infra (no boot)"}], sig)[0], "skip", "judge: a commit that does not boot is a skip")
is_(B.judge([{T: "crash: X", U: None}, {T: "fail"}], sig)[0], "bad",
    "judge: a failure the BAD way in a later run wins over an earlier other one")

# ---- statistics
ok(abs(B.wilson_lower(10, 10) - 0.787) < 0.002, "wilson_lower(10 of 10) = 0.787", B.wilson_lower(10, 10))
ok(abs(B.wilson_lower(8, 24) - 0.199) < 0.005, "wilson_lower(8 of 24) = 0.199", B.wilson_lower(8, 24))
is_(B.wilson_lower(0, 0), 0.0, "wilson_lower of nothing is 0")
is_(B.steps_for(12), 4, "12 candidates: at most 4 steps")
is_(B.runs_needed(1.0, 0.99, 4), 1, "a certain failure needs 1 run")
n = B.runs_needed(0.787, 0.99, 4)
ok(n == 4 and (1 - 0.787) ** n <= 1 - 0.99 ** 0.25, "deterministic failure (10 of 10): 4 runs per step", n)
n = B.runs_needed(0.199, 0.99, 4)
ok((1 - 0.199) ** n <= 1 - 0.99 ** 0.25 < (1 - 0.199) ** (n - 1), "one in three (8 of 24): the least N that "
   "keeps a missed bad commit below 1 - 0.99^(1/4)", n)
c = B.confidence_of(0.199, [n] * 4)
ok(0.99 <= c < 1, "four good verdicts with that N: confidence >= 99%", c)
is_(B.runs_needed(0.0, 0.99, 4), None, "a rate of 0: no N")

# ---- git bisect's answers, from a real git
tmp = tempfile.mkdtemp(prefix="vkci-bisect-t.")
try:
    repo = os.path.join(tmp, "repo")
    os.makedirs(repo)
    g = lambda *a: subprocess.run(["git", "-C", repo, "-c", "user.name=t", "-c", "user.email=t@t"] + list(a),
                                  capture_output=True, text=True)
    g("init", "-q", "-b", "main")
    for i in range(6):
        with open(os.path.join(repo, "f"), "w") as f:
            f.write(str(i))
        g("add", "f")
        g("commit", "-q", "-m", "c%d" % i)
    ids = g("rev-list", "--reverse", "HEAD").stdout.split()
    r = g("bisect", "start", ids[5], ids[0])
    is_(B.parse_bisect(r.stdout + r.stderr), ("more", None), "parse_bisect: git bisect start wants more")
    while True:
        head = g("rev-parse", "HEAD").stdout.strip()
        r = g("bisect", "bad" if ids.index(head) >= 3 else "good")
        state, val = B.parse_bisect(r.stdout + r.stderr)
        if state != "more":
            break
    is_((state, val), ("found", ids[3]), "parse_bisect: 'is the first bad commit' gives its id")
    g("bisect", "reset", "-q")
    r = g("bisect", "start", ids[5], ids[0])
    while True:
        head = g("rev-parse", "HEAD").stdout.strip()
        r = g("bisect", "skip" if ids.index(head) in (2, 3) else "bad" if ids.index(head) >= 3 else "good")
        state, val = B.parse_bisect(r.stdout + r.stderr)
        if state != "more":
            break
    ok(state == "ambiguous" and {ids[2], ids[3]} <= set(val) <= set(ids[2:]),
       "parse_bisect: only skipped commits left: the candidates", state, val, r.stdout)
    g("bisect", "reset", "-q")

    # ---- the command: errors, with a private cache; the repository untouched
    env = dict(os.environ, VKCI_CACHE=os.path.join(tmp, "cache"))
    payload = os.path.join(tmp, "payload.img")
    with open(payload, "wb") as f:
        f.write(b"\0" * 4096)
    before = snapshot(repo)

    def bisect(*args):
        return subprocess.run([sys.executable, os.path.join(TOP, "ci", "bisect.py"), "-p", payload, "-i", payload,
                               "-o", os.path.join(tmp, "out"), "--fragments", os.path.join(TOP, "harness", "kernel.config")]
                              + list(args), capture_output=True, text=True, env=env, cwd=TOP)
    cases = [
        (["-k", os.path.join(tmp, "nope"), "-g", ids[0], "-b", ids[5], T], 2, "no directory"),
        (["-k", tmp, "-g", ids[0], "-b", ids[5], T], 2, "is not a git repository (bisect needs KERNEL=<git tree>)"),
        (["-k", repo, "-g", "no-such-rev", "-b", ids[5], T], 2, "GOOD 'no-such-rev' is not a commit"),
        (["-k", repo, "-g", ids[5], "-b", ids[0], T], 2, "is not an ancestor of BAD"),
        (["-k", repo, "-g", ids[0], "-b", ids[5]], 2, "no tests to bisect with (TESTS="),
        (["-k", repo, "-g", ids[0], "-b", ids[5], "suites/vm/no_such.c"], 2, "no test 'suites/vm/no_such.c'"),
        (["-k", repo, "-g", ids[0], "-b", ids[5], "-r", "-1", T], 2, "RUNS must be >= 1"),
    ]
    for args, code, msg in cases:
        r = bisect(*args)
        lines = [x for x in r.stderr.splitlines() if x.startswith("vkci: bisect: ")]
        ok(r.returncode == code and len(lines) == 1 and msg in lines[0],
           f"error: {msg} (exit {code}, one line)", r.returncode, r.stderr)
    # vkci bisect is the same program, with the driver it was called as
    vk = os.path.join(TOP, "harness", "vkci")
    if os.access(vk, os.X_OK):
        r = subprocess.run([vk, "bisect", "-p", payload, "-i", payload, "-o", os.path.join(tmp, "out"),
                            "-k", repo, "-g", ids[5], "-b", ids[0], T], capture_output=True, text=True, env=env)
        ok(r.returncode == 2 and "is not an ancestor of BAD" in r.stderr and
           r.stderr.count("vkci: bisect: ") == 1, "vkci bisect runs ci/bisect.py: its errors and exit status",
           r.returncode, r.stderr)
    else:
        ok(False, "harness/vkci is built (make harness) for vkci bisect")
    r = bisect("-k", repo, "-g", ids[0], "-b", ids[5], T)
    ok(r.returncode == 4 and "BAD %s not a usable Linux source tree" % ids[5][:12] in r.stderr,
       "BAD is not a Linux tree: nothing to bisect (exit 4), said before any bisecting", r.returncode, r.stderr)
    ws = [d for d in os.listdir(os.path.join(tmp, "cache", "bisect"))]
    tree = os.path.join(tmp, "cache", "bisect", ws[0], "tree") if len(ws) == 1 else None
    ok(tree and os.path.isdir(os.path.join(tree, ".git")) and
       subprocess.run(["git", "-C", tree, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip() == ids[5],
       "its work tree is a clone in the cache (bisect/NAME-HASH/tree), at BAD", ws)
    with open(os.path.join(tmp, "out", "bisect.json")) as f:
        doc = json.load(f)
    ok(doc["result"]["status"] == "error" and doc["steps"][0]["role"] == "BAD" and
       os.path.exists(os.path.join(tmp, "out", "bisect.txt")), "the log is kept even so (bisect.json, bisect.txt)")
    is_(snapshot(repo), before, "the user's repository is byte for byte as it was")
    # a second bisection of the same repository while one runs: refused
    import fcntl
    fd = os.open(os.path.join(tmp, "cache", "bisect", ws[0], "lock"), os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    r = bisect("-k", repo, "-g", ids[0], "-b", ids[5], T)
    ok(r.returncode == 3 and "another bisection of" in r.stderr, "a second bisection of one repository: exit 3",
       r.stderr)
    os.close(fd)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
done()
