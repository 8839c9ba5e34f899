#!/usr/bin/env python3
"""ci/bench/coverage.py - figures of the coverage pipeline (make coverage).

  extra time per test = median wall time of `vkci exec` of one test on the
                        coverage kernel with --gcov-dir (the .gcda tree
                        written at power-off and moved out), placed as make
                        coverage places it (instance dir and trees on
                        /dev/shm), minus the same test on the default kernel
                        as make check runs it; runs interleaved, so load
                        from elsewhere hits both alike; also the coverage
                        run with everything on disk, for comparison. A
                        trivial test (guest/pass) and a suite test
                        (suites/vm/mmap_anon.c)
  report time         = `make coverage` (into a scratch OUT): wall time of
                        ci/coverage.py report, from the end of the tests to
                        the finished HTML (its phases from timing.json), and
                        the whole make
  covered             = lines / functions: boot only, each suite, all
                        (summary.json)

Usage: ci/bench/coverage.py [--runs N] [--suites "vm fs net"] [--per-test] [--isolated DIR]
(--isolated: driver and payloads in DIR, make B=DIR VKCI=DIR/vkci, so a
shared checkout's build/ is left alone)
Builds nothing but what make coverage builds; prints Markdown tables.
Standard library only.
"""
import argparse
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


MAKEVARS = []


def make(*args, capture=True, ok=(0,)):
    r = subprocess.run(["make", "-s", "--no-print-directory", "-C", TOP] + MAKEVARS + list(args),
                       capture_output=capture, text=True)
    if r.returncode not in ok:
        sys.exit("bench: make %s failed (%d):\n%s" % (" ".join(args), r.returncode,
                                                      (r.stderr or "")[-2000:]))
    return (r.stdout or "").strip()


def exec_time(vkci, kernel, image, payload, test, gcov_dir=None, rundir=None):
    """Wall time of one vkci exec; gcov_dir: a fresh dir (not deleted right
    before: as in make coverage, where nothing is deleted while tests run)."""
    argv = [vkci, "exec", "-k", kernel, "-i", image, "-p", payload]
    if gcov_dir:
        argv += ["--gcov-dir", gcov_dir]
    env = dict(os.environ, VKCI_RUNDIR=rundir) if rundir else None
    t0 = time.monotonic()
    r = subprocess.run(argv + [test], capture_output=True, text=True, env=env)
    dt = time.monotonic() - t0
    if r.returncode != 0:
        sys.exit("bench: %s failed (%d):\n%s%s" % (" ".join(argv + [test]), r.returncode,
                                                   r.stdout[-1000:], r.stderr[-1000:]))
    return dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--suites", default="vm fs net")
    ap.add_argument("--per-test", action="store_true", help="also time make coverage PER_TEST=1")
    ap.add_argument("--isolated", metavar="DIR")
    ap.add_argument("--exec-only", action="store_true", help="only the per-test figures")
    a = ap.parse_args()

    b = os.path.join(TOP, "build")
    vkci = os.path.join(TOP, "harness", "vkci")
    if a.isolated:
        b = os.path.abspath(a.isolated)
        vkci = os.path.join(b, "vkci")
        MAKEVARS.extend(["B=" + b, "VKCI=" + vkci])
    make("all", "test-payload")
    kernel = make("kernel").splitlines()[-1]
    ckernel = make("coverage-kernel").splitlines()[-1]
    image = os.path.join(TOP, "build", "image", "base.img")
    tpay = os.path.join(b, "t", "payload.img")
    spay = os.path.join(b, "payload.img")
    scratch = tempfile.mkdtemp(prefix="vkci-bench-cov-")
    # make coverage's placement: instance dirs and .gcda trees on tmpfs
    shm = tempfile.mkdtemp(prefix="vkci-bench-cov-", dir="/dev/shm") if os.access("/dev/shm", os.W_OK) else None
    rundir = os.path.join(shm, "run") if shm else None
    rows, notes = [], []
    try:
        for test, payload in (("guest/pass", tpay), ("suites/vm/mmap_anon.c", spay)):
            plain, cov, disk = [], [], []
            name = test.replace("/", "_")
            gdir = os.path.join(shm or scratch, "gcov", name)       # where make coverage puts them
            ddir = os.path.join(scratch, "gcov", name)
            exec_time(vkci, kernel, image, payload, test)              # warm caches
            exec_time(vkci, ckernel, image, payload, test, gdir + "-warm", rundir)
            for i in range(a.runs):
                plain.append(exec_time(vkci, kernel, image, payload, test))
                cov.append(exec_time(vkci, ckernel, image, payload, test, "%s-%d" % (gdir, i), rundir))
                if shm:
                    disk.append(exec_time(vkci, ckernel, image, payload, test, "%s-%d" % (ddir, i)))
            p, c = statistics.median(plain), statistics.median(cov)
            rows.append(("`vkci exec %s`, default kernel (make check; median of %d)" % (test, a.runs),
                         "%.3f s" % p, ""))
            rows.append(("same, coverage kernel + --gcov-dir (make coverage: on %s)" % (
                "/dev/shm" if shm else "disk"), "%.3f s" % c, ""))
            rows.append(("**extra wall time per test (%s)**" % test, "%+.3f s" % (c - p), "<= +0.15 s"))
            if disk:
                rows.append(("  (for comparison: instance dir and trees on disk)", "%+.3f s" % (
                    statistics.median(disk) - p), ""))

        runs = [] if a.exec_only else [("", [])] + ([("PER_TEST=1", ["PER_TEST=1"])] if a.per_test else [])
        summaries = None
        for label, extra in runs:
            out = os.path.join(scratch, "out")
            shutil.rmtree(out, ignore_errors=True)
            t0 = time.monotonic()
            make("coverage", "SUITES=" + a.suites, "OUT=" + out, *extra, ok=(0, 2))   # 2: make's "a test failed"
            total = time.monotonic() - t0
            if not os.path.exists(os.path.join(out, "coverage", "timing.json")):
                sys.exit("bench: make coverage wrote no report (%s)" % out)
            with open(os.path.join(out, "summary.json")) as f:
                c = json.load(f)["summary"]
            failed = c.get("fail", 0) + c.get("crash", 0) + c.get("infra", 0)
            if failed:
                for rj in sorted(glob.glob(os.path.join(out, "logs", "*", "*", "result.json"))):
                    with open(rj) as f:
                        r = json.load(f)
                    if r.get("outcome") not in ("pass", "skip", "flaky"):
                        notes.append("%s: %s (%s)" % (r.get("test"), r.get("outcome"), r.get("reason")))
                notes.append("`make coverage%s`: %d test(s) failed on the coverage kernel (the figures "
                             "still hold: every test ran)" % (" " + label if label else "", failed))
            with open(os.path.join(out, "coverage", "timing.json")) as f:
                t = json.load(f)
            tag = " " + label if label else ""
            rows.append(("`make coverage%s` end of last test -> finished HTML" % tag,
                         "%.1f s" % t["total"], "<= 20 s" if not label else ""))
            rows.append(("  of which merge / capture / genhtml%s" % tag,
                         "%.1f / %.1f / %.1f s" % (t["merge"], t["capture"], t["genhtml"]), ""))
            rows.append(("  CPU time of that step (user+sys, all processes)%s" % tag, "%.1f s" % t["cpu"], ""))
            rows.append(("whole `make coverage%s` (%s; kernel cached)" % (tag, a.suites), "%.1f s" % total, ""))
            if summaries is None:
                with open(os.path.join(out, "coverage", "summary.json")) as f:
                    summaries = json.load(f)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if shm:
            shutil.rmtree(shm, ignore_errors=True)

    print("| figure | value | target |")
    print("|---|---|---|")
    for r in rows:
        print("| %s | %s | %s |" % r)
    for n in notes:
        print("\nnote: " + n)
    if summaries is None:
        return 0
    print()
    print("| covered | lines | functions |")
    print("|---|---|---|")
    for name, s in summaries.items():
        print("| %s | %.2f%% (%d of %d) | %.2f%% (%d of %d) |" % (
            name, 100.0 * s["lines_hit"] / max(s["lines"], 1), s["lines_hit"], s["lines"],
            100.0 * s["functions_hit"] / max(s["functions"], 1), s["functions_hit"], s["functions"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
