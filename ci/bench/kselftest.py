#!/usr/bin/env python3
"""ci/bench/kselftest.py - kselftest through vkci against run_kselftest.sh in one vkernel.

  ci/bench/kselftest.py [--targets T,T...] [--jobs 2] [--out DIR] [--single-timeout 7200]

Measured in one run, on the default kernel (make kernel), same payload:
  vkci    `make check SUITES=kselftest:TARGETS JOBS=N`: one fresh vkernel per
          program, N at a time (the test phase: prove's wall time)
  single  the tree's own run_kselftest.sh over the same programs inside ONE
          vkernel (`vkci exec kselftest/all/run_kselftest.sh`: the runner gives
          it bash, coreutils' timeout, /dev/fd and a writable tree), serially,
          with run_kselftest.sh's own per-program timeouts
Prints a Markdown table: wall times and their ratio, per-target outcome
counts side by side, and every program whose outcome differs, in particular
those that finish only with vkci's isolation (a timeout, a hang or a lost
result in the single vkernel). Standard library only.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def sh(argv, **kw):
    return subprocess.run(argv, cwd=TOP, text=True, **kw)


def vkci_outcomes(out):
    res = {}
    for root, dirs, files in os.walk(os.path.join(out, "logs", "kselftest")):
        if "result.json" in files:
            with open(os.path.join(root, "result.json")) as f:
                r = json.load(f)
            o = r["outcome"]
            if o == "fail" and r.get("quarantined"):
                o = "xfail"
            res[r["test"][len("kselftest/"):]] = (o, r.get("duration_ms", 0) / 1000.0)
    return res


def single_outcomes(tap):
    """run_kselftest.sh's lines: ok N selftests: T: P [# SKIP] / not ok ... [# TIMEOUT|exit=N]."""
    res = {}
    for line in tap.splitlines():
        m = re.match(r"^(not ok|ok) \d+ selftests: (\S+): (\S+)(.*)$", line)
        if not m:
            continue
        bad, target, prog, rest = m.group(1) == "not ok", m.group(2), m.group(3), m.group(4)
        if "# SKIP" in rest:
            o = "skip"
        elif "TIMEOUT" in rest:
            o = "timeout"
        else:
            o = "fail" if bad else "pass"
        res["%s/%s" % (target, prog)] = o
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--targets", help="comma-separated (default: suites/kselftest/targets.txt)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(TOP, "out-bench-kselftest"))
    ap.add_argument("--single-timeout", type=int, default=7200)
    ap.add_argument("--mem", default="512M")
    a = ap.parse_args()
    sel = "kselftest:" + a.targets if a.targets else "kselftest"
    kernel = sh(["make", "-s", "kernel"], capture_output=True, check=True).stdout.strip().splitlines()[-1]

    t0 = time.monotonic()
    r = sh(["make", "-s", "check", "SUITES=" + sel, "OUT=" + a.out, "JOBS=%d" % a.jobs], capture_output=True)
    vkci_total = time.monotonic() - t0
    m = re.search(r"wallclock secs \(\s*([0-9.]+) usr", r.stdout)
    prove_wall = re.search(r"Files=\d+, Tests=\d+, +(\d+) wallclock secs", r.stdout)
    vk = vkci_outcomes(a.out)
    if not vk:
        sys.exit("bench: the vkci run left no results:\n" + r.stderr[-2000:])

    env = dict(os.environ, VKCI_KERNEL=kernel, VKCI_IMAGE=os.path.join(TOP, "build/image/base.img"),
               VKCI_PAYLOAD=os.path.join(a.out, "payload.img"),
               VKCI_LOG_DIR=os.path.join(a.out, "single-logs"))
    t0 = time.monotonic()
    s = subprocess.run([os.path.join(TOP, "harness/vkci"), "exec", "-t", str(a.single_timeout), "-m", a.mem,
                        "kselftest/all/run_kselftest.sh"], env=env, capture_output=True, text=True)
    single_wall = time.monotonic() - t0
    with open(os.path.join(a.out, "single.tap"), "w") as f:
        f.write(s.stdout)
    one = single_outcomes(s.stdout)

    targets = sorted({k.rsplit("/", 1)[0] for k in vk})
    print("| | vkci, one vkernel per program, -j%d | run_kselftest.sh in one vkernel |" % a.jobs)
    print("|---|---|---|")
    print("| wall time | %.0f s (prove %s s) | %.0f s%s |" % (
        vkci_total, prove_wall.group(1) if prove_wall else "?", single_wall,
        "" if s.returncode in (0, 1) else " (vkci exec status %d: %s)" % (
            s.returncode, (re.findall(r"^not ok \d+ - (.*)$", s.stdout, re.M) or ["?"])[-1])))
    print("| ratio | %.2f | 1 |" % (vkci_total / single_wall if single_wall else 0))
    print()
    print("| target | vkci pass/skip/xfail/fail | single pass/skip/fail/timeout/missing |")
    print("|---|---|---|")
    for t in targets:
        progs = [k for k in vk if k.rsplit("/", 1)[0] == t]
        c1 = [sum(vk[p][0] == o for p in progs) for o in ("pass", "skip", "xfail")]
        c1.append(len(progs) - sum(c1))
        c2 = [sum(one.get(p) == o for p in progs) for o in ("pass", "skip", "fail", "timeout")]
        c2.append(sum(p not in one for p in progs))
        print("| %s | %s | %s |" % (t, "/".join(map(str, c1)), "/".join(map(str, c2))))
    print()
    only = [p for p in sorted(vk) if vk[p][0] in ("pass", "skip", "xfail")
            and one.get(p) in (None, "timeout")]
    diff = [p for p in sorted(vk) if p not in only and
            {"xfail": "fail"}.get(vk[p][0], vk[p][0]) != one.get(p)]
    print("Finish only with vkci's isolation (timeout or no result in the single vkernel): %s" %
          (", ".join("%s (%s)" % (p, one.get(p, "no result")) for p in only) or "none"))
    print()
    print("Other differences (vkci / single): %s" %
          (", ".join("%s (%s / %s)" % (p, vk[p][0], one.get(p)) for p in diff) or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
