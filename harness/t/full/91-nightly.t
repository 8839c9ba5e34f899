#!/usr/bin/env python3
"""A hidden regression made visible, end to end: the nightly runner follows
a git branch of the kernel history (harness/t/kernel_history.py). Night 1
is the default source as it is; night 2 has a commit that breaks
MREMAP_DONTUNMAP (mremap returns -EINVAL for it), which used to pass as a
skip. Night 2's make check must fail, the comparison must name the failing
subtest as a regression, and the runner's own bisection must name the
commit that broke it, in compare.json and in the summary. Real builds in
the nightly's checkout (make check-full). TAP."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import CACHE, TOP, hist  # noqa: E402
from taplib import done, is_, ok  # noqa: E402

repo, h = hist()
tmp = tempfile.mkdtemp(prefix="vkci-full-nightly.")
try:
    cfg = os.path.join(tmp, "nightly.json")
    with open(cfg, "w") as f:
        json.dump({"results": os.path.join(tmp, "results"), "cache": os.path.join(CACHE, "t", "nightly"),
                   "make_args": ["TESTS=suites/vm/mremap.c suites/vm/mmap_anon.c"],
                   "kernels": [{"name": "hist", "git": repo, "branch": "nightly"}]}, f)
    nights = os.path.join(tmp, "results", "nights")

    def night(name, commit):
        subprocess.run(["git", "--git-dir", repo, "update-ref", "refs/heads/nightly", commit], check=True)
        t = time.monotonic()
        r = subprocess.run([sys.executable, os.path.join(TOP, "ci", "nightly.py"), "-c", cfg, "--night", name],
                           capture_output=True, text=True)
        print("# night %s: %.0f s" % (name, time.monotonic() - t))
        return r

    r = night("2025-03-01", h["base"])
    ok(r.returncode == 0, "night 1 (the source as it is): no regression", r.stdout[-1500:], r.stderr[-1500:])
    r = night("2025-03-02", h["main"][-1])
    ok(r.returncode == 1, "night 2 (the history's head): exit 1, a regression", r.stdout[-2000:], r.stderr[-2000:])
    with open(os.path.join(nights, "2025-03-02", "hist", "run.json")) as f:
        run = json.load(f)
    with open(os.path.join(nights, "2025-03-02", "hist", "out", "tap", "suites", "vm", "mremap.c")) as f:
        tap = f.read()
    ok(run["status"] != 0 and run["commit"] == h["main"][-1] and "not ok 12 - MREMAP_DONTUNMAP" in tap,
       "night 2's make check failed on MREMAP_DONTUNMAP", run, tap[-1500:])
    with open(os.path.join(nights, "2025-03-02", "compare.json")) as f:
        k = json.load(f)["kernels"][0]
    is_(k["new_failures"], ["vm/mremap (fail, was pass)"], "compare: the new failure")
    regs = [(x["id"], x["was"], x["now"]) for x in k["subtest_regressions"].get("vm/mremap", [])]
    is_(regs, [("12", "pass", "fail")], "compare: the subtest regression, named by its subtest")
    c = k["new_failure_details"][0]["culprit"] if k["new_failure_details"] else None
    ok(c and c["commit"] == h["culprit"] and c["subject"] == "mm/mremap: refuse MREMAP_DONTUNMAP" and
       c["test"] == "vm/mremap" and c["reason"] and
       os.path.exists(os.path.join(nights, "2025-03-02", c["log"])),
       "compare: the nightly's bisection names the culprit (commit, subject, test, reason, log)", c, k.get("bisections"))
    with open(os.path.join(nights, "2025-03-02", "summary.txt")) as f:
        txt = f.read()
    ok("culprit: %s mm/mremap: refuse MREMAP_DONTUNMAP" % h["culprit"][:12] in txt and
       "vm/mremap: 12 - MREMAP_DONTUNMAP" in txt, "summary.txt: the culprit and the subtest", txt)
    with open(os.path.join(nights, "2025-03-02", "summary.html")) as f:
        ok("mm/mremap: refuse MREMAP_DONTUNMAP" in f.read(), "summary.html: the culprit")
    tree = os.path.join(CACHE, "t", "nightly", "src", "hist")
    head = subprocess.run(["git", "-C", tree, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    is_(head, h["main"][-1], "the nightly's checkout is back at the night's commit after the bisection")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
done()
