#!/usr/bin/env python3
"""make coverage DIFF=<range> end to end, on a git tree: a work tree of the
kernel history (harness/t/kernel_history.py) at its head, built as a
coverage kernel, two tests run with PER_TEST=1, then the patch report of
base..main. The range changes lines the mremap test executes (the
regression's check of MREMAP_DONTUNMAP), a line no test executes (a
warning's text in a path for duplicating private mappings) and comments
(no code); the report must say so for each, and `select` must pick the
tests whose recorded coverage ran them. Real coverage build (make
check-full). TAP."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import CACHE, TOP, hist, make  # noqa: E402
from taplib import done, ok  # noqa: E402

repo, h = hist()
tree = os.path.join(CACHE, "t", "cov-tree")
if not os.path.isdir(os.path.join(tree, ".git")):
    shutil.rmtree(tree, ignore_errors=True)
    subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout", repo, tree], check=True)
subprocess.run(["git", "-C", tree, "checkout", "-q", "--force", "--detach", h["main"][-1]], check=True)
subprocess.run(["git", "-C", tree, "clean", "-q", "-d", "-f", "-x"], check=True)
tmp = tempfile.mkdtemp(prefix="vkci-full-patchcov.")
try:
    out = os.path.join(tmp, "out")
    t = time.monotonic()
    r = make("coverage", "KERNEL=" + tree, "DIFF=%s..%s" % (h["base"], h["main"][-1]), "PER_TEST=1",
             "TESTS=suites/vm/mremap.c suites/vm/mmap_anon.c", "OUT=" + out)
    print("# make coverage DIFF=... PER_TEST=1: %.0f s" % (time.monotonic() - t))
    ok(os.path.exists(os.path.join(out, "coverage", "patch.json")),
       "make coverage DIFF= writes the patch report (its tests' status: %d)" % r.returncode, r.stderr[-2000:])
    with open(os.path.join(out, "coverage", "patch.json")) as f:
        doc = json.load(f)
    files = {fd["path"]: fd for fd in doc["files"]}
    with open(os.path.join(tree, "mm", "mremap.c")) as f:
        src = f.read().split("\n")
    lines = {src[ld["line"] - 1].strip(): ld for h_ in files["mm/mremap.c"]["hunks"] for ld in h_["lines"]}
    dont = lines.get("if (flags & MREMAP_DONTUNMAP)", {})
    ok(dont.get("count", 0) > 0 and "vm/mremap" in dont.get("tests", []),
       "the regression's check: executed, by the mremap test", dont)
    warn = [ld for k, ld in lines.items() if "attempted to duplicate" in k]
    ok(warn and warn[0].get("count") == 0, "the changed warning no test reaches: not executed", warn)
    ok(all(ld.get("count") is None for h_ in files["fs/stat.c"]["hunks"] for ld in h_["lines"]),
       "fs/stat.c's changed comments: no code")
    with open(os.path.join(out, "coverage", "patch.txt")) as f:
        txt = f.read()
    ok("mm/mremap.c:" in txt and " NOT |" in txt and os.path.exists(os.path.join(out, "coverage", "patch.html")),
       "patch.txt and patch.html next to the lcov report")
    r = subprocess.run([sys.executable, os.path.join(TOP, "ci", "coverage.py"), "select",
                        "%s..%s" % (h["base"], h["main"][-1]), "--repo", tree, "--out", os.path.join(out, "coverage")],
                       capture_output=True, text=True)
    ok(r.returncode == 0 and "suites/vm/mremap.c" in r.stdout.split(), "select: the mremap test ran the changed lines",
       r.stdout, r.stderr)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
done()
