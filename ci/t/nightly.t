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
    ok(c["regressions"] == 1 and not nxt["new_failures"] and not nxt["fixed"], "the other kernel: nothing to report")
    ok(deb["coverage_delta"] is not None and abs(deb["coverage_delta"] - 2.0) < 1e-9,
       "coverage delta from the tracefiles: +2.00 points", deb["coverage"], deb["coverage_delta"])
    with open(os.path.join(out, "summary.txt")) as f:
        txt = f.read()
    ok("NEW FAILURES: 1\n     vm/mremap" in txt and "fixed: 1\n     fs/mount_ro" in txt and "+2.00 points" in txt,
       "summary.txt names them", txt)
    with open(os.path.join(out, "summary.html")) as f:
        page = f.read()
    ok(page.startswith("<!DOCTYPE html>") and "vm/mremap (fail, was pass)" in page and "1 regression" in page,
       "summary.html names them")
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
a = dict(x.split("=", 1) for x in sys.argv[1:] if "=" in x)
target = [x for x in sys.argv[1:] if "=" not in x][0]
res = open(os.path.join(a["KERNEL"], "RESULT")).read().strip()
os.makedirs(a["OUT"], exist_ok=True)
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
