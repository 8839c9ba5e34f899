#!/usr/bin/env python3
"""ci/bench/bisection.py - figures of `make bisect` and of patch coverage.

  bisection   make bisect over the kernel history of
              harness/t/kernel_history.py (the default source and a dozen
              commits: a regression, a commit that does not build, an
              unrelated crash; GOOD=base BAD=main TESTS=suites/vm/mremap.c):
              wall time split into builds and test runs (bisect.json), the
              number of builds, runs and bisection steps. The first run in
              a machine's cache builds the bisection's work tree cold (said
              in the output); later runs are incremental.
  patch       after `make coverage PER_TEST=1` (run here into a scratch OUT,
              or --coverage DIR to use one), a 10-commit range whose newer
              end is the measured source: ten compiled files, each given
              back, one per commit, the lines its older version lacks (a
              few with code the tests ran, a few with code they did not, a
              comment); the wall time of `coverage.py patch` (text, JSON,
              HTML) and `coverage.py select` over it, median of --runs.

Usage: ci/bench/bisection.py [--bisect] [--patch] [--coverage DIR] [--runs N]
Prints Markdown tables. Standard library only.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "harness", "t"))
import kernel_history  # noqa: E402

CACHE = os.environ.get("VKCI_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "vkci")


def source():
    return subprocess.run([os.path.join(TOP, "ci", "kernel-source.sh")], capture_output=True, text=True,
                          check=True).stdout.strip()


def bench_bisect():
    t = time.monotonic()
    base = kernel_history.base_repo(os.path.join(CACHE, "t"), source())
    repo = os.path.join(CACHE, "t", "hist.git")
    kernel_history.history(base, repo)
    setup = time.monotonic() - t
    ws = os.path.join(CACHE, "bisect")
    cold = not any(d.startswith("hist-") for d in (os.listdir(ws) if os.path.isdir(ws) else []))
    with tempfile.TemporaryDirectory(prefix="vkci-bench-bisect.") as tmp:
        t = time.monotonic()
        r = subprocess.run(["make", "-s", "--no-print-directory", "-C", TOP, "bisect", "KERNEL=" + repo, "GOOD=base",
                            "BAD=main", "TESTS=suites/vm/mremap.c", "OUT=" + tmp], capture_output=True, text=True)
        wall = time.monotonic() - t
        with open(os.path.join(tmp, "bisect", "bisect.json")) as f:
            doc = json.load(f)
    t = doc["timing"]
    c = (doc["result"].get("culprit") or {}).get("subject")
    print("| figure | value |\n|---|---|")
    print("| history (base repo made once, then 16 commits) | %.1f s |" % setup)
    print("| `make bisect` wall time (%s work tree) | %.1f s (exit %d, culprit: %s) |"
          % ("cold: first build of the" if cold else "warm", wall, r.returncode, c))
    print("| of which builds | %.1f s (%d builds: BAD, GOOD, the steps) |" % (t["build_s"], t["builds"]))
    print("| of which test runs | %.1f s (%d runs of the test, %d per step) |"
          % (t["test_s"], t["runs"], doc["calibration"]["runs_per_step"]))
    print("| rest (git checkouts, calibration bookkeeping) | %.1f s |" % (t["wall_s"] - t["build_s"] - t["test_s"]))
    print("| bisection steps | %d (%d skipped) |" % (t["steps"], len(doc["result"].get("skipped", []))))
    print("| per-step build times | %s |" % ", ".join("%.1f s" % s["build_s"] for s in doc["steps"]))
    return 0


def older(lines, cov):
    """Line numbers to drop from a measured file to make its older version:
    up to 3 executed lines, 3 not executed, 1 comment, each unique in the file."""
    unique = {n for n in range(1, len(lines) + 1) if lines[n - 1].strip() and lines.count(lines[n - 1]) == 1}
    ran = [n for n in sorted(cov) if cov[n] > 0 and n in unique]
    unrun = [n for n in sorted(cov) if cov[n] == 0 and n in unique]
    comment = [n for n in sorted(unique) if n not in cov and lines[n - 1].strip().startswith("/*")
               and lines[n - 1].strip().endswith("*/")]
    return set(ran[len(ran) // 3:][:3] + unrun[:3] + comment[-1:])


def bench_patch(covdir, runs):
    tmp = tempfile.mkdtemp(prefix="vkci-bench-patch.")
    try:
        if not covdir:
            out = os.path.join(tmp, "out")
            t = time.monotonic()
            r = subprocess.run(["make", "-s", "--no-print-directory", "-C", TOP, "coverage", "PER_TEST=1",
                                "OUT=" + out], capture_output=True, text=True)
            print("# make coverage PER_TEST=1: %.0f s (exit %d)" % (time.monotonic() - t, r.returncode))
            covdir = os.path.join(out, "coverage")
        with open(os.path.join(covdir, "sources.json")) as f:
            src = json.load(f)["source"]
        cov, cur = {}, None
        with open(os.path.join(covdir, "total.info")) as f:
            for line in f:
                if line.startswith("SF:"):
                    cur = cov.setdefault(os.path.relpath(line[3:].strip(), src), {})
                elif line.startswith("DA:"):
                    n, c = line[3:].split(",")[:2]
                    cur[int(n)] = int(c)
        picks = []
        for rel in sorted(cov):
            if rel.endswith(".c") and rel.split("/")[0] in ("mm", "fs", "kernel", "net", "lib") and \
                    sum(1 for c in cov[rel].values() if c) >= 10 and sum(1 for c in cov[rel].values() if not c) >= 10:
                picks.append(rel)
        picks = picks[::max(1, len(picks) // 10)][:10]
        repo = os.path.join(tmp, "linux")
        os.makedirs(repo)
        g = lambda *a: subprocess.run(["git", "-C", repo, "-c", "user.name=t", "-c", "user.email=t@t"] + list(a),
                                      capture_output=True, text=True, check=True)
        g("init", "-q", "-b", "main")
        texts = {}
        for rel in picks:
            with open(os.path.join(src, rel)) as f:
                texts[rel] = f.read().split("\n")
            drop = older(texts[rel], cov[rel])
            os.makedirs(os.path.dirname(os.path.join(repo, rel)), exist_ok=True)
            with open(os.path.join(repo, rel), "w") as f:
                f.write("\n".join(l for i, l in enumerate(texts[rel], 1) if i not in drop))
        g("add", "-A")
        g("commit", "-q", "-m", "older")
        for rel in picks:
            shutil.copyfile(os.path.join(src, rel), os.path.join(repo, rel))
            g("commit", "-q", "-a", "-m", "restore " + rel)
        rng = "HEAD~%d..HEAD" % len(picks)
        times = {"patch": [], "select": []}
        for _ in range(runs):
            for what in ("patch", "select"):
                t = time.monotonic()
                r = subprocess.run([sys.executable, os.path.join(TOP, "ci", "coverage.py"), what, rng,
                                    "--repo", repo, "--out", covdir], capture_output=True, text=True)
                times[what].append(time.monotonic() - t)
                if r.returncode:
                    print("# %s failed: %s" % (what, r.stderr[-500:]))
                if what == "select":
                    selected = r.stdout.split()
        with open(os.path.join(covdir, "patch.json")) as f:
            tot = json.load(f)["totals"]
        size = os.path.getsize(os.path.join(covdir, "index.json")) if os.path.exists(
            os.path.join(covdir, "index.json")) else 0
        print("| figure | value |\n|---|---|")
        print("| range | %d commits, %d files, %d changed lines with code (%d executed), %d without |"
              % (len(picks), len(picks), tot["instrumented"], tot["executed"], tot["not_instrumented"]))
        print("| `coverage.py patch` (text, JSON, HTML), median of %d | %.2f s |" % (runs, statistics.median(times["patch"])))
        print("| `coverage.py select`, median of %d | %.2f s (%d tests selected) |"
              % (runs, statistics.median(times["select"]), len(selected)))
        print("| index.json read by both | %.1f MB |" % (size / 1e6))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--bisect", action="store_true")
    ap.add_argument("--patch", action="store_true")
    ap.add_argument("--coverage", help="an out/coverage dir of make coverage PER_TEST=1 (default: run it)")
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    if not a.bisect and not a.patch:
        a.bisect = a.patch = True
    if a.bisect:
        bench_bisect()
    if a.patch:
        bench_patch(a.coverage, a.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
