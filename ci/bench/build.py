#!/usr/bin/env python3
"""ci/bench/build.py - figures of `vkci build`, measured in one run.

  no-op decision  = wall time of `vkci build` on the cached default kernel
                    (nothing changed: tree walk + stamp check, no kbuild)
  make kernel     = the same through `make kernel` (what `make check` adds)
  one-file change = touch one source file, rebuild incrementally (in a copy
                    of the cached build dir, so the shared one is untouched;
                    the file's mtime is restored afterwards)
  cold build      = --cold: a full build into an empty private cache

Usage: ci/bench/build.py [--runs N] [--cold] [--file fs/ext4/fsmap.c]
Prints a Markdown table. Standard library only.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VKCI = os.path.join(TOP, "harness", "vkci")


def fragments():
    out = subprocess.run(["make", "-s", "-C", TOP, "--no-print-directory", "print-kfrags"],
                         check=True, capture_output=True, text=True).stdout.split()
    return [os.path.join(TOP, f) if not f.startswith("/") else f for f in out]


def timed(argv, env=None):
    t0 = time.monotonic()
    r = subprocess.run(argv, env=env, capture_output=True, text=True)
    dt = time.monotonic() - t0
    if r.returncode != 0:
        sys.exit("bench: %s failed (%d):\n%s" % (" ".join(argv), r.returncode, r.stderr[-2000:]))
    return dt, r.stdout.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cold", action="store_true")
    ap.add_argument("--file", default="fs/ext4/fsmap.c")
    a = ap.parse_args()

    src = subprocess.run([os.path.join(TOP, "ci", "kernel-source.sh")], check=True,
                         capture_output=True, text=True).stdout.strip()
    fargs = []
    for f in fragments():
        fargs += ["-c", f]
    build = [VKCI, "build"] + fargs + [src]
    rows = []

    _, binary = timed(build)   # make sure it is built; not measured
    noop = [timed(build)[0] for _ in range(a.runs)]
    rows.append(("no-op `vkci build` (median of %d)" % a.runs, "%.2f s" % statistics.median(noop)))
    mk = [timed(["make", "-s", "-C", TOP, "kernel"])[0] for _ in range(a.runs)]
    rows.append(("no-op `make kernel` (median of %d)" % a.runs, "%.2f s" % statistics.median(mk)))

    tmp = tempfile.mkdtemp(prefix="vkci-bench-")
    try:
        env = dict(os.environ, VKCI_CACHE=tmp)
        d = os.path.dirname(binary)
        os.makedirs(os.path.join(tmp, "kernels"))
        shutil.copytree(d, os.path.join(tmp, "kernels", os.path.basename(d)), symlinks=True)
        path = os.path.join(src, a.file)
        st = os.stat(path)
        try:
            os.utime(path)
            dt, _ = timed(build, env)
        finally:
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        rows.append(("one-file change (%s) rebuild" % a.file, "%.1f s" % dt))
        if a.cold:
            shutil.rmtree(os.path.join(tmp, "kernels"))
            dt, _ = timed(build, env)
            rows.append(("cold build, -j%d" % os.cpu_count(), "%.0f s" % dt))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print("| figure | value |")
    print("|---|---|")
    for k, v in rows:
        print("| %s | %s |" % (k, v))
    print("\nkernel: %s" % binary)


if __name__ == "__main__":
    main()
