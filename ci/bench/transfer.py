#!/usr/bin/env python3
"""ci/bench/transfer.py - throughput of the serial-line file transfer.

The agent sends a tree of files over the serial line after the test
(`vkci.fetch=DIR`, PROTOCOL.md "File transfer"); this measures how fast, on
a real vkernel, with two sets on a payload disk made for the run:
  gcov-like  many small files (the shape of a kernel's .gcda tree)
  bulk       a few large files
For each set: the time from the first to the last F record as vkci notes it
(`vkci -v`: "file transfer: N bytes in T ms"), and the wall time of `vkci
exec` with and without the transfer. Median of --runs boots. The files are
checked byte for byte after every run.

Usage: ci/bench/transfer.py --kernel K [--image IMG] [--vkci VKCI] [--runs N]
Prints a Markdown table. Standard library only.
"""
import argparse
import filecmp
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRIVIAL = r'''
#include <stdio.h>
int main(void) { printf("1..1\nok 1 - trivial\n"); return 0; }
'''


def make_sets(root):
    rnd = random.Random(5)
    sets = {}
    d = os.path.join(root, "gcov")
    total = n = 0
    for i in range(800):   # ~876 files, 4.4 MB on a UML defconfig coverage kernel
        sub = os.path.join(d, f"dir{i % 40}", f"sub{i % 7}")
        os.makedirs(sub, exist_ok=True)
        size = int(rnd.expovariate(1 / 5000)) + 16
        with open(os.path.join(sub, f"f{i}.gcda"), "wb") as f:
            f.write(rnd.randbytes(size))
        total += size
        n += 1
    sets["gcov-like"] = ("gcov", n, total)
    d = os.path.join(root, "bulk")
    os.makedirs(d)
    for i in range(4):
        with open(os.path.join(d, f"big{i}"), "wb") as f:
            f.write(rnd.randbytes(4 << 20))
    sets["bulk"] = ("bulk", 4, 16 << 20)
    return sets


def run(vkci, kernel, image, payload, rundir, fetch, dest):
    argv = [vkci, "exec", "-v", "-k", kernel, "-i", image, "-p", payload, "-r", rundir]
    if fetch:
        argv += ["-a", f"vkci.fetch=/payload/{fetch}", "--gcov-dir", dest]
    argv.append("bench/trivial")
    t0 = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True)
    wall = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit(f"transfer.py: vkci exec failed ({p.returncode}):\n{p.stdout}{p.stderr}")
    m = re.search(r"file transfer: (\d+) bytes in (\d+) ms", p.stderr)
    return wall, (int(m.group(1)), int(m.group(2))) if m else None


def same_tree(a, b):
    c = filecmp.dircmp(a, b)
    if c.left_only or c.right_only or c.diff_files or c.funny_files:
        return False
    for f in c.common_files:
        if not filecmp.cmp(os.path.join(a, f), os.path.join(b, f), shallow=False):
            return False
    return all(same_tree(os.path.join(a, s), os.path.join(b, s)) for s in c.common_dirs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--image", default=os.path.join(TOP, "build", "image", "base.img"))
    ap.add_argument("--vkci", default=os.path.join(TOP, "harness", "vkci"))
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="vkci-bench-xfer.")
    try:
        pl = os.path.join(work, "payload")
        os.makedirs(os.path.join(pl, "bench"))
        src = os.path.join(work, "trivial.c")
        with open(src, "w") as f:
            f.write(TRIVIAL)
        subprocess.run(["cc", "-O2", "-static", "-o", os.path.join(pl, "bench", "trivial"), src], check=True)
        sets = make_sets(pl)
        payload = os.path.join(work, "payload.img")
        subprocess.run([os.path.join(TOP, "images", "mkpayload.sh"), payload, pl], check=True)
        rundir = os.path.join(work, "run")
        os.makedirs(rundir)
        base = [run(a.vkci, a.kernel, a.image, payload, rundir, None, None)[0] for _ in range(a.runs)]
        print(f"`python3 ci/bench/transfer.py --kernel K --runs {a.runs}`, median of {a.runs} boots\n")
        print("| set | files | bytes | transfer time | throughput | vkci exec wall time, without / with |")
        print("|---|---|---|---|---|---|")
        for name, (d, n, total) in sets.items():
            walls, times = [], []
            for i in range(a.runs):
                dest = os.path.join(work, f"got-{name}-{i}")
                wall, t = run(a.vkci, a.kernel, a.image, payload, rundir, d, dest)
                if not t or t[0] != total:
                    sys.exit(f"transfer.py: {name}: expected {total} bytes, vkci noted {t}")
                if not same_tree(os.path.join(pl, d), os.path.join(dest, "bench", "trivial")):
                    sys.exit(f"transfer.py: {name}: the received tree differs")
                shutil.rmtree(dest)
                walls.append(wall)
                times.append(t[1])
            ms = statistics.median(times)
            mbs = total / (1 << 20) / (max(ms, 1) / 1000)
            print(f"| {name} | {n} | {total / (1 << 20):.1f} MiB | {ms:.0f} ms | {mbs:.1f} MiB/s "
                  f"| {statistics.median(base) * 1000:.0f} ms / {statistics.median(walls) * 1000:.0f} ms |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
