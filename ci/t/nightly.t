#!/usr/bin/env python3
"""ci/nightly.py: on two recorded nights (ci/t/data/nights) it reports
exactly the planted regression and fix; a full `run` with a stand-in for
make over a git kernel (mirrored and checked out in the cache, the user's
repository untouched) keeps each night and fails on the regression. TAP."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "harness", "t"))
from taplib import done, ok  # noqa: E402
NIGHTLY = [sys.executable, os.path.join(TOP, "ci", "nightly.py")]
DATA = os.path.join(TOP, "ci", "t", "data")


def run(args, **kw):
    return subprocess.run(NIGHTLY + args, capture_output=True, text=True, **kw)


tmp = tempfile.mkdtemp(prefix="vkci-nightly.")
try:
    # ---- two recorded nights
    out = os.path.join(tmp, "cmp")
    r = run(["compare", "--results", DATA, "--out", out])
    ok(r.returncode == 1, "compare: exit 1 on a regression", r.returncode, r.stderr)
    with open(os.path.join(out, "compare.json")) as f:
        c = json.load(f)
    deb = {k["kernel"]: k for k in c["kernels"]}["debian"]
    nxt = {k["kernel"]: k for k in c["kernels"]}["next"]
    ok(c["night"] == "2025-01-02" and c["previous"] == "2025-01-01", "compare: the last night against the one before")
    ok(deb["new_failures"] == ["vm/mremap (fail, was pass)"], "exactly the planted regression", deb["new_failures"])
    ok(deb["fixed"] == ["fs/mount_ro (fail -> pass)"], "exactly the planted fix", deb["fixed"])
    ok(deb["still_failing"] == ["net/udp_echo (crash)"], "still failing: the crash of both nights", deb["still_failing"])
    ok(deb["flaky"] == ["vm/fork_cow"] and deb["quarantined"] == ["vm/memcg_oom"],
       "flaky and quarantined are listed, neither counted as a regression or fix")
    ok(not nxt["new_failures"] and not nxt["fixed"], "the other kernel: no new failure, nothing fixed")
    sr = deb["subtest_regressions"]
    ok(sorted(sr) == ["fs/hard_links", "vm/mremap", "vm/userfaultfd"] and
       sr["vm/userfaultfd"] == [{"test": "vm/userfaultfd", "subtest": "2 - UFFDIO_REGISTER of the area", "id": "2",
                                 "name": "UFFDIO_REGISTER of the area", "was": "pass", "now": "skip"}],
       "subtests: a passing test whose subtest now skips is a regression named with the subtest", sr)
    ok([(r["subtest"], r["was"], r["now"]) for r in sr["fs/hard_links"]] ==
       [("(plan)", "1..4", "1..3"), ("4 - check 4", "pass", "missing")],
       "subtests: a plan that shrank and a missing subtest", sr.get("fs/hard_links"))
    ok([(r["subtest"], r["now"]) for r in sr["vm/mremap"]] == [("12 - MREMAP_DONTUNMAP moves the pages", "fail")],
       "subtests: the new failure names its failing subtest", sr.get("vm/mremap"))
    ok([(r["subtest"], r["now"]) for r in nxt["subtest_regressions"].get("vm/mremap", [])] == [("3 - third", "skip")],
       "subtests from the dumped TAP when summary.json has none (a night recorded before)", nxt["subtest_regressions"])
    ok(c["regressions"] == 4, "regressions: the new failure + 3 tests with subtest regressions only", c["regressions"])
    ok(deb["subtest_counts"] == {"pass": 16, "fail": 1, "skip": 1}, "subtest counts of the night", deb["subtest_counts"])
    ok(deb["coverage_delta"] is not None and abs(deb["coverage_delta"] - 2.0) < 1e-9,
       "coverage delta from the tracefiles: +2.00 points", deb["coverage"], deb["coverage_delta"])
    with open(os.path.join(out, "summary.txt")) as f:
        txt = f.read()
    ok("NEW FAILURES: 1\n     vm/mremap" in txt and "fixed: 1\n     fs/mount_ro" in txt and "+2.00 points" in txt
       and "vm/userfaultfd: 2 - UFFDIO_REGISTER of the area: pass -> skip" in txt,
       "summary.txt names them, subtests too", txt)
    with open(os.path.join(out, "summary.html")) as f:
        page = f.read()
    ok(page.startswith("<!DOCTYPE html>") and "vm/mremap (fail, was pass)" in page and "4 regression" in page
       and "UFFDIO_REGISTER of the area" in page, "summary.html names them")
    ok(not os.path.exists(os.path.join(DATA, "nights", "2025-01-02", "summary.txt")),
       "compare --out leaves the recorded nights alone")
    r = run(["compare", "--results", DATA, "--night", "2025-01-01", "--out", os.path.join(tmp, "first")])
    ok(r.returncode == 0 and "no previous night" in r.stdout, "the first night: nothing to compare, exit 0", r.stdout)
    r = run(["compare", "--results", DATA, "--night", "2025-01-02", "--previous", "2025-01-02",
             "--out", os.path.join(tmp, "same")])
    ok(r.returncode == 0 and "regressions: 0" in r.stdout, "a night against itself: no change")

    # ---- a full run: git kernel, stand-in make, two nights
    repo = os.path.join(tmp, "linux")
    os.makedirs(repo)
    g = lambda *a: subprocess.run(["git", "-C", repo, "-c", "user.name=t", "-c", "user.email=t@t"] + list(a),
                                  capture_output=True, text=True, check=True).stdout.strip()
    g("init", "-q", "-b", "main")
    with open(os.path.join(repo, "RESULT"), "w") as f:
        f.write("pass\n")
    g("add", "RESULT")
    g("commit", "-q", "-m", "good")
    fake = os.path.join(tmp, "fake-make")
    with open(fake, "w") as f:
        f.write(f"""#!{sys.executable}
import json, os, sys
import subprocess
a = dict(x.split("=", 1) for x in sys.argv[1:] if "=" in x)
target = [x for x in sys.argv[1:] if "=" not in x][0]
if target == "bisect":   # what make bisect leaves: BISECT_OUT/bisect.json
    os.makedirs(a["BISECT_OUT"], exist_ok=True)
    subj = subprocess.run(["git", "--git-dir", a["KERNEL"], "log", "-1", "--format=%s", a["BAD"]],
                          capture_output=True, text=True).stdout.strip()
    json.dump(sys.argv[1:], open(os.path.join(a["BISECT_OUT"], "argv.json"), "w"))
    json.dump({{"tests": [a["TESTS"]], "timing": {{"steps": 1}}, "result": {{"status": "found", "confidence": 1.0,
               "culprit": {{"commit": a["BAD"], "subject": subj, "test": a["TESTS"], "reason": "1 of 1 failed",
                           "crash_title": None, "log": os.path.join(a["BISECT_OUT"], "console.log")}}}}}},
              open(os.path.join(a["BISECT_OUT"], "bisect.json"), "w"))
    sys.exit(0)
res = open(os.path.join(a["KERNEL"], "RESULT")).read().strip()
os.makedirs(os.path.join(a["OUT"], "tap", "suites", "vm"), exist_ok=True)
for t in ("a", "b"):
    open(os.path.join(a["OUT"], "tap", "suites", "vm", t + ".c"), "w").write("ok 1\\n1..1\\n")
tests = {{"a": {{"outcome": res}}, "b": {{"outcome": "pass"}}}}
json.dump({{"suites": {{"vm": {{"tests": tests}}}}}}, open(os.path.join(a["OUT"], "summary.json"), "w"))
print("fake make", target, sys.argv[1:])
sys.exit(0 if res == "pass" else 2)
""")
    os.chmod(fake, 0o755)
    cfgf = os.path.join(tmp, "nightly.json")
    with open(cfgf, "w") as f:
        json.dump({"results": "results", "cache": "cache", "retries": 1, "make": [fake],
                   "kernels": [{"name": "main", "git": repo, "branch": "main",
                                "kconfig": [], "coverage": False}]}, f)
    r1 = run(["-c", cfgf, "--night", "2025-02-01"])
    ok(r1.returncode == 0, "run: night 1 passes, exit 0", r1.stdout, r1.stderr)
    with open(os.path.join(repo, "RESULT"), "w") as f:
        f.write("fail\n")
    g("commit", "-q", "-a", "-m", "bad")
    head = g("rev-parse", "HEAD")
    r2 = run(["-c", cfgf, "--night", "2025-02-02"])
    ok(r2.returncode == 1 and "vm/a (fail, was pass)" in r2.stdout, "run: night 2's regression, exit 1",
       r2.stdout, r2.stderr)
    res = os.path.join(tmp, "results", "nights")
    nights = sorted(d for d in os.listdir(res) if os.path.isdir(os.path.join(res, d)))
    ok(nights == ["2025-02-01", "2025-02-02"] and os.path.isfile(os.path.join(res, "index.html")),
       "run: each night in its own dir, the index across nights beside them", os.listdir(res))
    with open(os.path.join(res, "2025-02-02", "compare.json")) as f:
        k2 = json.load(f)["kernels"][0]
    with open(os.path.join(res, "2025-02-01", "main", "run.json")) as f:
        first = json.load(f)["commit"]
    bargv = os.path.join(res, "2025-02-02", "main", "bisect", "vm_a", "argv.json")
    with open(bargv) as f:
        bargv = json.load(f)
    ok({"GOOD=" + first, "BAD=" + head, "TESTS=suites/vm/a.c", "BISECT_WORKDIR=" + os.path.join(tmp, "cache", "src", "main"),
        "KERNEL=" + os.path.join(tmp, "cache", "git", "main.git")} <= set(bargv),
       "run: the new failure is bisected between the two nights' commits, in the night's checkout", bargv)
    d = k2["new_failure_details"]
    ok(len(d) == 1 and d[0]["test"] == "vm/a" and d[0]["culprit"]["commit"] == head and
       d[0]["culprit"]["subject"] == "bad" and d[0]["culprit"]["log"] == "main/bisect/vm_a/console.log",
       "compare.json: the new failure's culprit (commit, subject; log relative to the night)", d)
    ok(f"culprit: {head[:12]} bad" in r2.stdout, "summary.txt names the culprit", r2.stdout)
    with open(os.path.join(res, "2025-02-02", "main", "run.json")) as f:
        rec = json.load(f)
    ok(rec["commit"] == head and "RETRIES=1" in rec["argv"] and "check" in rec["argv"],
       "run.json: the commit tested and make's arguments", rec)
    ok(os.path.isfile(os.path.join(res, "2025-02-02", "main", "make.log")) and
       os.path.isfile(os.path.join(res, "2025-02-02", "summary.html")), "run: make.log and summary.html kept")
    ok(os.path.isdir(os.path.join(tmp, "cache", "src", "main")) and
       g("status", "--porcelain") == "" and len(g("worktree", "list").splitlines()) == 1,
       "git kernel: checked out in the cache; the user's repository untouched")
    r3 = run(["-c", cfgf, "--night", "2025-02-02"])
    ok(r3.returncode == 3, "run: a night that exists already is not overwritten (exit 3)", r3.stderr)
    with open(os.path.join(tmp, "bad.json"), "w") as f:
        f.write("{\"kernels\": []}")
    r4 = run(["-c", os.path.join(tmp, "bad.json")])
    ok(r4.returncode == 2 and "kernels" in r4.stderr, "a config without kernels: exit 2 naming the key", r4.stderr)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
done()
