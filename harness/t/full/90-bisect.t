#!/usr/bin/env python3
"""make bisect on a real kernel history (harness/t/kernel_history.py: the
default source and a dozen commits on top, one breaking MREMAP_DONTUNMAP,
one that does not build, one adding an unrelated crash in a path the test
runs): it names the guilty commit with its subject, test and reason, skips
the broken build and the unrelated crash, and leaves the repository byte
for byte as it was. Then a flaky regression (one run in three), a GOOD
that fails, a BAD that does not, and an interrupted bisection that leaves
nothing behind. Builds for real (the first run builds the work tree cold,
later ones incrementally): make check-full. TAP; timings as diagnostics."""
import fcntl
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import shutil

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import CACHE, TOP, hist, kernel_history, make  # noqa: E402
from taplib import done, is_, ok  # noqa: E402
import importlib.util  # noqa: E402
_spec = importlib.util.spec_from_file_location("ci_bisect", os.path.join(TOP, "ci", "bisect.py"))
ci_bisect = importlib.util.module_from_spec(_spec)   # ci/bisect.py (the standard library has a bisect)
_spec.loader.exec_module(ci_bisect)

T = "suites/vm/mremap.c"
repo, h = hist()
before = kernel_history.snapshot(repo)
tmp = tempfile.mkdtemp(prefix="vkci-full-bisect.")


def bisect(out, good, bad, *more):
    t = time.monotonic()
    r = make("bisect", "KERNEL=" + repo, "GOOD=" + good, "BAD=" + bad, "TESTS=" + T, "OUT=" + out, *more)
    try:
        with open(os.path.join(out, "bisect", "bisect.json")) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        doc = {"steps": [], "result": {}, "timing": {}}
    return r, doc, time.monotonic() - t


def ws_of():
    """The bisection's workspace of this repository in the cache (the
    nightly's bisections of the same history have their own: 91-nightly.t)."""
    gd = subprocess.run(["git", "-C", repo, "rev-parse", "--git-common-dir"], capture_output=True, text=True).stdout.strip()
    return ci_bisect.workspace_dir(CACHE, os.path.realpath(os.path.join(repo, gd)))


def timing(name, doc, wall):
    t = doc.get("timing") or {}
    print("# %s: wall %.0f s: builds %.0f s (%s builds), test runs %.0f s (%s runs), %s bisection steps"
          % (name, wall, t.get("build_s", 0), t.get("builds"), t.get("test_s", 0), t.get("runs"), t.get("steps")))


try:
    # ---- the main history
    r, doc, wall = bisect(os.path.join(tmp, "main"), "base", "main")
    timing("main history", doc, wall)
    res = doc["result"]
    is_(r.returncode, 0, "make bisect finds the first bad commit (exit 0)")
    c = res.get("culprit") or {}
    ok(c.get("commit") == h["culprit"] and c.get("subject") == "mm/mremap: refuse MREMAP_DONTUNMAP"
       and c.get("test") == T and c.get("reason"),
       "the culprit: the commit that broke MREMAP_DONTUNMAP, its subject, the test and the reason", c)
    ok(("first bad commit: %s mm/mremap: refuse MREMAP_DONTUNMAP" % h["culprit"]) in r.stdout and
       "test: suites/vm/mremap.c: " in r.stdout, "the table ends with the culprit, its test and reason",
       r.stdout[-3000:])
    steps = {s["commit"]: s for s in doc["steps"] if s["role"] == "step"}
    ok(h["broken"] in steps and steps[h["broken"]]["verdict"] == "skip" and
       steps[h["broken"]]["build"] == "does not build" and
       any(s["commit"] == h["broken"] for s in res.get("skipped", [])),
       "the commit that does not build is skipped and reported", [(k[:12], s["verdict"], s["why"]) for k, s in steps.items()])
    cr = steps.get(h["crash"], {})
    ok(cr.get("verdict") == "skip" and "fails another way: crash:" in (cr.get("why") or ""),
       "the unrelated crash is neither good nor bad: skipped as failing another way", cr.get("why"))
    order = [h["base"]] + h["main"]
    wrong = [k[:12] for k, s in steps.items() if (s["verdict"] == "bad") != (order.index(k) >= order.index(h["culprit"]))
             and s["verdict"] != "skip"]
    is_(wrong, [], "every good/bad verdict is right for its commit")
    bad = doc["steps"][0]
    ok(bad["role"] == "BAD" and doc["calibration"]["signature"] == {T: ["fail"]} and
       doc["calibration"]["runs"] >= 10, "BAD: the signature is the test's plain failure, from >= 10 runs",
       doc["calibration"])
    ok(all(os.path.exists(os.path.join(s["dir"], "build.log")) for s in doc["steps"]) and
       os.path.exists(os.path.join(tmp, "main", "bisect", "bisect.txt")),
       "each step's build log and the table are kept")
    is_(kernel_history.snapshot(repo), before, "the repository is byte for byte as it was")

    # ---- a flaky regression: fails one run in three
    r, doc, wall = bisect(os.path.join(tmp, "flaky"), "base", "flaky", "CONFIDENCE=0.999")
    timing("flaky history", doc, wall)
    cal = doc.get("calibration") or {}
    c = (doc["result"].get("culprit") or {})
    ok(r.returncode == 0 and c.get("commit") == h["flaky_culprit"], "flaky: the culprit is found",
       c, doc["result"], r.stdout[-2000:])
    ok(0.05 < cal.get("rate", 0) < 0.8 and cal.get("runs_per_step", 0) > 1,
       "flaky: BAD's measured failure rate is between 0 and 1, so each step runs more than once", cal)
    ok((doc["result"].get("confidence") or 0) >= 0.999 and "confidence " in r.stdout,
       "flaky: the stated confidence is at least the one asked for", doc["result"].get("confidence"))

    gd = subprocess.run(["git", "-C", os.path.join(ws_of(), "tree"), "rev-parse", "--absolute-git-dir"],
                        capture_output=True, text=True).stdout.strip()
    ok(gd and not os.path.exists(os.path.join(gd, "BISECT_START")), "after a bisection its git state is reset")

    # ---- nothing to bisect (ci/bisect.py, which vkci bisect runs: make's own status is 2 for any failure)
    def direct(out, good, bad):
        r = subprocess.run([sys.executable, os.path.join(TOP, "ci", "bisect.py"), "-k", repo, "-g", good, "-b", bad,
                            "-o", out, "-p", os.path.join(TOP, "build", "payload.img"), T],
                           capture_output=True, text=True, cwd=TOP)
        with open(os.path.join(out, "bisect.json")) as f:
            return r, json.load(f)
    r, doc = direct(os.path.join(tmp, "goodfails"), h["culprit"], "main")
    ok(r.returncode == 4 and "fails the way BAD does" in r.stderr and
       not [s for s in doc["steps"] if s["role"] == "step"], "GOOD failing: exit 4 before any bisecting", r.stderr[-600:])
    r, doc = direct(os.path.join(tmp, "badpasses"), "base", h["build_fixed"])
    ok(r.returncode == 4 and "does not fail" in r.stderr and len(doc["steps"]) == 1,
       "BAD passing: exit 4 before any bisecting", r.stderr[-600:])

    # ---- interrupted: nothing left behind
    out = os.path.join(tmp, "intr")
    p = subprocess.Popen([sys.executable, os.path.join(TOP, "ci", "bisect.py"), "-k", repo, "-g", "base",
                          "-b", "flaky", "-o", out, "-p", os.path.join(TOP, "build", "payload.img"), T],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=TOP)
    ws = None
    deadline = time.monotonic() + 1800
    while time.monotonic() < deadline and p.poll() is None:
        bws = os.path.join(CACHE, "bisect")
        for d in os.listdir(bws) if os.path.isdir(bws) else ():
            run = os.path.join(bws, d, "run")
            if os.path.isdir(run) and os.listdir(run):   # vkernels running
                ws = os.path.join(bws, d)
        if ws:
            break
        time.sleep(0.2)
    ok(ws is not None, "interrupt: the bisection got to running vkernels", ws)
    p.send_signal(signal.SIGINT)
    so, se = p.communicate(timeout=300)
    is_(p.returncode, -signal.SIGINT, "interrupt: bisect.py re-raises SIGINT after its cleanup")
    left = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    if (ws or "/nonexistent").encode() in f.read():
                        left.append(pid)
            except OSError:
                pass
    is_(left, [], "interrupt: no process of the bisection is left (vkci, vkernels, kbuild)")
    ok(ws and not os.path.exists(os.path.join(ws, "run")), "interrupt: no instance dir left")
    gd = subprocess.run(["git", "-C", os.path.join(ws or "/", "tree"), "rev-parse", "--absolute-git-dir"],
                        capture_output=True, text=True).stdout.strip()
    ok(gd and not os.path.exists(os.path.join(gd, "BISECT_START")), "interrupt: the git bisection is reset")
    with open(os.path.join(out, "bisect.json")) as f:
        d = json.load(f)
    ok(d["result"]["status"] == "interrupted" and "interrupted" in so and so.startswith("step "),
       "interrupt: the log is kept and the table printed", so[-800:])
    fd = os.open(os.path.join(ws, "lock"), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        ok(True, "interrupt: the workspace lock is released")
    except OSError:
        ok(False, "interrupt: the workspace lock is released")
    os.close(fd)
    is_(kernel_history.snapshot(repo), before, "the repository is still byte for byte as it was")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
done()
