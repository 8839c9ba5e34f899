#!/usr/bin/env python3
"""ci/bench/coverage.py - figures of the coverage pipeline (make coverage).

  extra time per test = median wall time of `vkci exec` of one test on the
                        coverage kernel with --gcov-dir (the .gcda tree
                        written at power-off and moved out) minus the same
                        on the default kernel; runs interleaved, so load
                        from elsewhere hits both alike. A trivial test
                        (guest/pass) and a suite test (suites/vm/mmap_anon.c)
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


def make(*args, capture=True):
    r = subprocess.run(["make", "-s", "--no-print-directory", "-C", TOP] + MAKEVARS + list(args),
                       capture_output=capture, text=True)
    if r.returncode != 0:
        sys.exit("bench: make %s failed (%d):\n%s" % (" ".join(args), r.returncode,
                                                      (r.stderr or "")[-2000:]))
    return (r.stdout or "").strip()


def exec_time(vkci, kernel, image, payload, test, gcov_dir=None):
    argv = [vkci, "exec", "-k", kernel, "-i", image, "-p", payload]
    if gcov_dir:
        shutil.rmtree(gcov_dir, ignore_errors=True)
        argv += ["--gcov-dir", gcov_dir]
    t0 = time.monotonic()
    r = subprocess.run(argv + [test], capture_output=True, text=True)
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
    rows = []
    try:
        for test, payload in (("guest/pass", tpay), ("suites/vm/mmap_anon.c", spay)):
            plain, cov = [], []
            gdir = os.path.join(scratch, "gcov")
            exec_time(vkci, kernel, image, payload, test)              # warm caches
            exec_time(vkci, ckernel, image, payload, test, gdir)
            for _ in range(a.runs):
                plain.append(exec_time(vkci, kernel, image, payload, test))
                cov.append(exec_time(vkci, ckernel, image, payload, test, gdir))
            p, c = statistics.median(plain), statistics.median(cov)
            rows.append(("`vkci exec %s`, default kernel (median of %d)" % (test, a.runs), "%.3f s" % p, ""))
            rows.append(("same, coverage kernel + --gcov-dir", "%.3f s" % c, ""))
            rows.append(("extra wall time per test (%s)" % test, "%+.3f s" % (c - p), "<= +0.15 s"))

        runs = [("", [])] + ([("PER_TEST=1", ["PER_TEST=1"])] if a.per_test else [])
        summaries = None
        for label, extra in runs:
            out = os.path.join(scratch, "out")
            shutil.rmtree(out, ignore_errors=True)
            t0 = time.monotonic()
            make("coverage", "SUITES=" + a.suites, "OUT=" + out, *extra)
            total = time.monotonic() - t0
            with open(os.path.join(out, "coverage", "timing.json")) as f:
                t = json.load(f)
            tag = " " + label if label else ""
            rows.append(("`make coverage%s` end of last test -> finished HTML" % tag,
                         "%.1f s" % t["total"], "<= 20 s" if not label else ""))
            rows.append(("  of which merge / capture / genhtml%s" % tag,
                         "%.1f / %.1f / %.1f s" % (t["merge"], t["capture"], t["genhtml"]), ""))
            rows.append(("whole `make coverage%s` (%s; kernel cached)" % (tag, a.suites), "%.1f s" % total, ""))
            if summaries is None:
                with open(os.path.join(out, "coverage", "summary.json")) as f:
                    summaries = json.load(f)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    print("| figure | value | target |")
    print("|---|---|---|")
    for r in rows:
        print("| %s | %s | %s |" % r)
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
