#!/usr/bin/env python3
"""ci/bench/kunit.py - KUnit through vkci against kunit.py, same tree, same kunitconfig.

  ci/bench/kunit.py [--jobs 2] [--out DIR] [--kunit-build DIR] [--cold] [--runs 3]

Measured in one run, side by side, on the default source tree (KERNEL= a
tree to use another):
  kunit.py  the tree's own tools/testing/kunit/kunit.py run --arch=um with its
            default kunitconfig, its build dir outside the tree (--build_dir;
            bytecode off, so nothing is written into the tree: checked), every
            suite in one UML boot, serially. Its "Elapsed time" line gives the
            phases: building (configuring + building) and running.
  vkci      make check SUITES=kunit:SUITES JOBS=N with the suites kunit.py ran
            (the KUnit variant of vkci's kernel also builds what vkci's own
            suites need, so KUNIT_ALL_TESTS enables more suites there: the
            comparison takes the same suites on both sides): the test phase is
            prove's wall time (OUT/prove-time), the total is make check's.
--runs N runs the test phases N times each, taking turns after the first
of each (the first vkci run also records the suites' durations that its
groups are balanced by, and is not counted), and reports the medians and
the median ratio of the back-to-back pairs. --cold builds both kernels from
nothing (a fresh kunit.py build dir and a fresh VKCI_CACHE for vkci; minutes
each) for the totals; otherwise both builds are warm. Prints a Markdown table with the pass/fail/skip counts
of both, and every suite whose counts differ. Standard library only.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "ci"))
import kselftest  # noqa: E402
import kunit  # noqa: E402


def sh(argv, **kw):
    return subprocess.run(argv, cwd=kw.pop("cwd", TOP), text=True, **kw)


def tree_state(src):
    """Every path, size and mtime under the tree: what must not change."""
    h = hashlib.sha256()
    kselftest.fingerprint([src], h, with_dirs=True)
    return h.hexdigest()


def kunit_py(src, build_dir, jobs):
    """kunit.py run: (status, output, {phase: s}, {suite: (pass, fail, skip)}, wall s)."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    for k in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "O", "ARCH", "KBUILD_OUTPUT"):
        env.pop(k, None)
    t0 = time.monotonic()
    r = sh([sys.executable, "-B", os.path.join(src, "tools/testing/kunit/kunit.py"), "run", "--arch=um",
            "--build_dir=" + build_dir, "--jobs=%d" % jobs, "--json=" + os.path.join(build_dir, "results.json")],
           cwd=src, env=env, capture_output=True)
    wall = time.monotonic() - t0
    out = r.stdout + r.stderr
    m = re.search(r"Elapsed time: ([0-9.]+)s total, ([0-9.]+)s configuring, ([0-9.]+)s building, "
                  r"([0-9.]+)s running", out)
    phases = dict(zip(("total", "configuring", "building", "running"), map(float, m.groups()))) if m else {}
    counts = {}

    def leaves(g):
        """(pass, fail, skip) of a kunit_json group: its cases and its sub-groups' (parameters)."""
        c = [0, 0, 0]
        for case in g.get("test_cases", []):
            st = case.get("status")
            c[0 if st == "PASS" else 2 if st == "SKIP" else 1] += 1
        for sub in g.get("sub_groups", []):
            c = [x + y for x, y in zip(c, leaves(sub))]
        return tuple(c)
    try:
        with open(os.path.join(build_dir, "results.json")) as f:
            res = json.load(f)
        for suite in res.get("sub_groups", []):
            counts[suite["name"]] = leaves(suite)
    except (OSError, ValueError, KeyError):
        pass
    return r.returncode, out, phases, counts, wall


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--out", default=os.path.join(TOP, "out-bench-kunit"))
    ap.add_argument("--kunit-build", help="kunit.py's build dir (default OUT/kunit.py-build)")
    ap.add_argument("--cold", action="store_true", help="build both kernels from nothing")
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    src = os.environ.get("KERNEL") or sh([os.path.join(TOP, "ci/kernel-source.sh")], capture_output=True,
                                         check=True).stdout.strip()
    before = tree_state(src)
    kb = a.kunit_build or os.path.join(a.out, "kunit.py-build")
    env = dict(os.environ)
    if a.cold:
        shutil.rmtree(kb, ignore_errors=True)
        env["VKCI_CACHE"] = tempfile.mkdtemp(prefix="vkci-bench-cache.", dir=a.out)
    os.makedirs(kb, exist_ok=True)

    def run_kunit_py(i):
        rc, out, phases, counts, wall = kunit_py(src, kb, a.jobs)
        with open(os.path.join(a.out, "kunit.py-%d.log" % i), "w") as f:
            f.write(out)
        if not phases:
            sys.exit("bench: kunit.py run failed (status %d):\n%s" % (rc, out[-3000:]))
        k_runs.append((phases, wall))
        return counts

    def run_vkci(i):
        t0 = time.monotonic()
        r = sh(["make", "-s", "check", "SUITES=" + sel, "OUT=" + vout, "JOBS=%d" % (2 * a.jobs)],
               env=env, capture_output=True)
        total = time.monotonic() - t0
        with open(os.path.join(a.out, "vkci-%d.log" % i), "w") as f:
            f.write(r.stdout + r.stderr)
        try:
            t_start, t_end = map(float, open(os.path.join(vout, "prove-time")).read().split())
        except (OSError, ValueError):
            sys.exit("bench: make check SUITES=kunit left no prove-time (status %d):\n%s"
                     % (r.returncode, (r.stdout + r.stderr)[-3000:]))
        plan = json.load(open(os.path.join(vout, "kunit.plan")))
        v_runs.append((t_end - t_start, total, len(plan["groups"])))

    # kunit.py's first run builds (cold or incremental); vkci's first records
    # the suites' durations its groups are balanced by. Then the two take
    # turns, so that the machine's drift (this one is shared) falls on both.
    k_runs, v_runs = [], []
    runs = max(1, a.runs)
    kcounts = run_kunit_py(0)
    # vkci: make check on exactly the suites kunit.py ran
    sel = "kunit:" + ",".join(kunit.literal(s) for s in sorted(kcounts))
    vout = os.path.join(a.out, "vkci")
    run_vkci(0)
    for i in range(1, runs + 1):
        run_vkci(i)
        if i < runs:
            run_kunit_py(i)
    tree_ok = tree_state(src) == before
    vcounts = {s: c[:3] for s, c in kunit.run_counts(vout).items()}

    kp = statistics.median(p["running"] for p, _ in k_runs)
    vp = statistics.median(t for t, _, _ in v_runs[1:])
    ktot = k_runs[0][0]["total"]
    vtot = v_runs[0][1]
    def tot(c):
        return tuple(sum(x[i] for x in c.values()) for i in range(3))
    print("| | kunit.py run --arch=um | vkci make check SUITES=kunit, -j%d |" % (2 * a.jobs))
    print("|---|---|---|")
    print("| suites | %d | %d |" % (len(kcounts), len(vcounts)))
    print("| cases pass/fail/skip | %d/%d/%d | %d/%d/%d |" % (tot(kcounts) + tot(vcounts)))
    print("| instances | 1 | %s (groups; more after a crash) |" % v_runs[-1][2])
    print("| test phase (median of %d) | %.2f s | %.2f s (%.2fx) |" % (len(v_runs) - 1, kp, vp, vp / kp if kp else 0))
    print("| test phases, each (run order: k0 v0, then v1 k1, v2 k2 ...) | %s | %s |" % (
        ", ".join("%.2f" % p["running"] for p, _ in k_runs), ", ".join("%.2f" % t for t, _, _ in v_runs)))
    pairs = [v_runs[i][0] / k_runs[i][0]["running"] for i in range(1, min(len(k_runs), len(v_runs)))
             if k_runs[i][0]["running"]]
    if pairs:
        print("| back-to-back pairs (v_i / k_i), median | | %.2fx (%s) |" % (
            statistics.median(pairs), ", ".join("%.2f" % x for x in pairs)))
    print("| total, first run (%s) | %.1f s (build %.1f s) | %.1f s |" % (
        "cold builds" if a.cold else "warm builds", ktot, k_runs[0][0]["building"] + k_runs[0][0]["configuring"],
        vtot))
    print()
    diff = [s for s in sorted(set(kcounts) | set(vcounts)) if kcounts.get(s) != vcounts.get(s)]
    print("Suites whose counts differ (kunit.py / vkci): %s" % (
        ", ".join("%s (%s / %s)" % (s, kcounts.get(s), vcounts.get(s)) for s in diff) or "none"))
    print("Source tree unchanged by kunit.py and vkci (paths, sizes, mtimes): %s" % ("yes" if tree_ok else "NO"))
    return 0 if tree_ok and not diff else 1


if __name__ == "__main__":
    sys.exit(main())
