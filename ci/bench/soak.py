#!/usr/bin/env python3
"""ci/bench/soak.py - run many consecutive instances and count what leaks.

  ci/bench/soak.py --kernel K [--count 1000] [--jobs 4] [--vkci DRIVER]

Runs COUNT trivial tests through prove -jJOBS --exec 'vkci exec' with
VKCI_CHECK_FDS=1 (each vkci fails if it still holds a descriptor after
teardown) and reports: results accounted for, processes left (vkernels or
switches naming the soak's run dir), entries left in the run dir, bytes left
in the run dir and /dev/shm, and the wall time. Exits 1 if anything leaked or
any result is missing. Standard library only.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VKCI = os.path.join(TOP, "harness", "vkci")


def procs_naming(path):
    n = 0
    for d in os.listdir("/proc"):
        if d.isdigit() and int(d) != os.getpid():
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    if path.encode() in f.read():
                        n += 1
            except OSError:
                pass
    return n


def du(path):
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_blocks * 512
            except OSError:
                pass
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=4)
    ap.add_argument("--vkci", default=VKCI, help="the driver (default: harness/vkci)")
    a = ap.parse_args()
    image = os.path.join(TOP, "build", "image", "base.img")
    work = tempfile.mkdtemp(prefix="vkci-soak.")
    try:
        run = os.path.join(work, "run")
        pl = os.path.join(work, "payload", "soak")
        os.makedirs(pl)
        os.makedirs(os.path.join(work, "suites", "soak"))
        src = os.path.join(work, "t.c")
        with open(src, "w") as f:
            f.write('#include <stdio.h>\nint main(void){printf("1..1\\nok 1 - soak\\n");return 0;}\n')
        subprocess.run(["cc", "-O2", "-static", "-o", os.path.join(pl, "t0000"), src], check=True)
        names = []
        for i in range(a.count):
            n = f"t{i:04d}"
            if i:
                os.link(os.path.join(pl, "t0000"), os.path.join(pl, n))
            with open(os.path.join(work, "suites", "soak", n + ".c"), "w") as f:
                f.write("/* soak */\n")
            names.append(f"suites/soak/{n}.c")
        payload = os.path.join(work, "payload.img")
        subprocess.run([os.path.join(TOP, "images", "mkpayload.sh"), payload,
                        os.path.join(work, "payload")], check=True)
        shm_before = du("/dev/shm")
        env = dict(os.environ, VKCI_KERNEL=os.path.abspath(a.kernel), VKCI_IMAGE=image,
                   VKCI_PAYLOAD=payload, VKCI_RUNDIR=run, VKCI_CHECK_FDS="1")
        t0 = time.monotonic()
        r = subprocess.run(["prove", f"-j{a.jobs}", "--exec", f"{os.path.abspath(a.vkci)} exec"] + names,
                           cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        wall = time.monotonic() - t0
        out = r.stdout.decode(errors="replace")
        m = re.search(r"Files=(\d+), Tests=(\d+)", out)
        files, tests = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
        leaked_fds = out.count("leaked fd")
        procs = procs_naming(run)
        left = os.listdir(run) if os.path.isdir(run) else []
        run_bytes = du(run) if os.path.isdir(run) else 0
        shm_after = du("/dev/shm")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ok = (r.returncode == 0 and files == a.count and tests == a.count and not leaked_fds
          and procs == 0 and not left and shm_after <= shm_before)
    print(f"| soak figure ({a.count} instances, prove -j{a.jobs}) | value |")
    print("|---|---|")
    print(f"| results accounted for | {tests}/{a.count} (prove exit {r.returncode}) |")
    print(f"| wall time | {wall:.1f} s ({a.count / wall:.1f} instances/s) |")
    print(f"| leaked driver fds | {leaked_fds} |")
    print(f"| processes left | {procs} |")
    print(f"| instance dirs left | {len(left)} ({run_bytes} bytes) |")
    print(f"| /dev/shm growth | {max(0, shm_after - shm_before)} bytes |")
    if not ok:
        print(out[-3000:], file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
