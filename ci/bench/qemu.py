#!/usr/bin/env python3
"""ci/bench/qemu.py - per-test cost of the backends, measured in one run.

The same trivial passing test (harness/t/guest/pass.c on the test payload)
through `vkci exec`, round robin so that the machine's load hits every
variant alike:

  uml            the UML vkernel (the default backend)
  qemu restored  the QEMU kernel, the instance cloned from the booted
                 snapshot of its machine shape (the default on QEMU)
  qemu cold      the QEMU kernel booted from scratch (VKCI_QEMU_SNAPSHOT=0)

For each: the median wall time of `vkci exec`, the median CPU time of
vkci and everything it waited for (user+sys, from wait4: does not depend
on the load), and the peak RSS of its largest process (the vkernel). The
ratios are to UML's figure in the same run. The template of the QEMU
machine shape is made (or found) before anything is measured; the
accelerator is whatever vkci chose (VKCI_ACCEL=tcg to force TCG).

--private-cache: templates and the KVM probe in a new cache, so the first
QEMU run pays for them (the setup figure).

Usage: ci/bench/qemu.py --uml-kernel $(make -s kernel) \
           --qemu-kernel $(make -s kernel BACKEND=qemu) [--runs N] [--private-cache]
           [--image IMG] [--payload P]
Prints a Markdown table.
Standard library only.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VKCI = os.path.join(TOP, "harness", "vkci")
TEST = os.path.join(TOP, "harness", "t", "guest", "pass.c")


def run_once(argv, env):
    """One `vkci exec`: (wall s, cpu s, peak RSS MB); exits on a failure."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit("bench: %s failed (%d):\n%s" % (" ".join(argv), p.returncode, out.decode(errors="replace")[-3000:]))
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--uml-kernel", required=True)
    ap.add_argument("--qemu-kernel", required=True)
    ap.add_argument("--image", default=os.path.join(TOP, "build", "image", "base.img"))
    ap.add_argument("--payload", default=os.path.join(TOP, "build", "t", "payload.img"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--private-cache", action="store_true")
    a = ap.parse_args()
    for what, path in (("UML kernel", a.uml_kernel), ("QEMU kernel", a.qemu_kernel),
                       ("image", a.image), ("payload", a.payload)):
        if not os.path.isfile(path):
            sys.exit("bench: no %s '%s' (make test builds the image and payload; make kernel [BACKEND=qemu] the kernels)"
                     % (what, path))

    with tempfile.TemporaryDirectory(prefix="vkci-bench-qemu.") as run:
        base = dict(os.environ, VKCI_RUNDIR=run)
        base.pop("VKCI_BACKEND", None)
        if a.private_cache:
            base["VKCI_CACHE"] = os.path.join(run, "cache")
        logs = os.path.join(run, "logs")
        common = ["-i", a.image, "-p", a.payload, "-b", "300", TEST]
        variants = [
            ("uml", [VKCI, "exec", "-B", "uml", "-k", a.uml_kernel] + common, base),
            ("qemu restored", [VKCI, "exec", "-B", "qemu", "-k", a.qemu_kernel, "-l", logs] + common, base),
            ("qemu cold", [VKCI, "exec", "-B", "qemu", "-k", a.qemu_kernel] + common,
             dict(base, VKCI_QEMU_SNAPSHOT="0")),
        ]
        # the QEMU template (and the KVM probe) before anything is measured
        t0 = time.monotonic()
        run_once(variants[1][1], variants[1][2])
        setup = time.monotonic() - t0
        with open(os.path.join(logs, "guest", "pass", "result.json")) as f:
            accel = json.load(f).get("accel")
        samples = {name: [] for name, _, _ in variants}
        for _ in range(a.runs):
            for name, argv, env in variants:
                samples[name].append(run_once(argv, env))

    load = os.getloadavg()[0]
    uml = samples["uml"]
    u_wall = statistics.median(s[0] for s in uml)
    u_cpu = statistics.median(s[1] for s in uml)
    print("`ci/bench/qemu.py --runs %d%s` (%s, QEMU under %s, load average %.1f at the end; first QEMU run, "
          "template %s: %.1f s)\n" % (a.runs, " --private-cache" if a.private_cache else "",
                                       time.strftime("%Y-%m-%d %H:%M"), accel, load,
                                       "(and KVM probe) made" if a.private_cache else "made or found", setup))
    print("| per test (guest/pass, median of %d) | wall | ratio to UML | CPU (user+sys) | ratio to UML "
          "| peak RSS of the vkernel |" % a.runs)
    print("|---|---|---|---|---|---|")
    for name, _, _ in variants:
        s = samples[name]
        wall = statistics.median(x[0] for x in s)
        cpu = statistics.median(x[1] for x in s)
        rss = max(x[2] for x in s)
        print("| %s | %.2f s | %.1fx | %.2f s | %.1fx | %.0f MB |"
              % (name, wall, wall / u_wall, cpu, cpu / u_cpu if u_cpu else 0.0, rss))


if __name__ == "__main__":
    main()
