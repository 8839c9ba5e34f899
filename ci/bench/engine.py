#!/usr/bin/env python3
"""ci/bench/engine.py - figures of the engine, measured in one run.

  per-test overhead = wall time of `vkci exec` on a trivial passing test
                      / wall time of a bare boot -> poweroff of the same kernel
  throughput        = trivial tests per second through prove -jJOBS --exec 'vkci exec'
  memory            = peak PSS and RSS of the vkernel process group at mem=128M

Usage: ci/bench/engine.py --kernel K [--runs N] [--tests N] [--jobs J]
(`make bench` passes the default kernel). Prints a Markdown table.
Standard library only.
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
TRIVIAL = r'''
#include <stdio.h>
int main(void) { printf("1..1\nok 1 - trivial\n"); return 0; }
'''


def sh(*argv, **kw):
    return subprocess.run(list(argv), check=True, **kw)


def build_static(src_text, out):
    with tempfile.NamedTemporaryFile("w", suffix=".c", delete=False) as f:
        f.write(src_text)
    try:
        sh("cc", "-O2", "-static", "-o", out, f.name)
    finally:
        os.unlink(f.name)


def bare_boot(kernel, image, work):
    """Boot the kernel on a COW of the bare image with the same channels as
    vkci (pipes for console and serial) and init powering off at once."""
    cow = os.path.join(work, "bare.cow")
    if os.path.exists(cow):
        os.unlink(cow)
    ci_r, ci_w = os.pipe()
    co_r, co_w = os.pipe()
    si_r, si_w = os.pipe()
    so_r, so_w = os.pipe()
    argv = [kernel, "mem=128M", f"ubd0={cow},{image}", "root=/dev/ubda", "rw",
            "init=/sbin/bare-init", "con=null", f"con0=fd:{ci_r},fd:{co_w}",
            "ssl=null", f"ssl0=fd:{si_r},fd:{so_w}", "umid=bare", f"uml_dir={work}"]
    t0 = time.monotonic()
    p = subprocess.Popen(argv, pass_fds=(ci_r, co_w, si_r, so_w), stdin=subprocess.DEVNULL,
                         stdout=co_w, stderr=co_w, start_new_session=True)
    for fd in (ci_r, co_w, si_r, so_w):
        os.close(fd)
    # drain the console and serial line as vkci does
    import selectors
    sel = selectors.DefaultSelector()
    for fd in (co_r, so_r):
        sel.register(fd, selectors.EVENT_READ)
    open_fds = 2
    while open_fds:
        for key, _ in sel.select(timeout=30):
            if not os.read(key.fd, 65536):
                sel.unregister(key.fd)
                os.close(key.fd)
                open_fds -= 1
    rc = p.wait()
    t = time.monotonic() - t0
    os.close(ci_w)
    os.close(si_w)
    if rc != 0:
        raise SystemExit(f"bench: bare boot of '{kernel}' exited with {rc}")
    return t


def vkci_exec(kernel, image, payload, test, env):
    t0 = time.monotonic()
    r = subprocess.run([VKCI, "exec", "-k", kernel, "-i", image, "-p", payload, test],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    t = time.monotonic() - t0
    if r.returncode != 0:
        raise SystemExit("bench: vkci exec failed:\n" + r.stdout.decode() + r.stderr.decode())
    return t


_libc = None


def same_vm(a, b):
    """kcmp(KCMP_VM): do two processes share one address space? UML's helper
    threads are clone(CLONE_VM) processes; their memory must count once."""
    global _libc
    import ctypes
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    SYS_kcmp, KCMP_VM = 312, 1  # x86_64
    return _libc.syscall(SYS_kcmp, a, b, KCMP_VM, 0, 0) == 0


def group_memory(pgid):
    """PSS and RSS (kB) of a process group, each address space counted once."""
    pss = rss = 0
    seen = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:
                continue
            pid = int(d)
            if any(same_vm(pid, o) for o in seen):
                continue
            seen.append(pid)
            with open(f"/proc/{d}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                    elif line.startswith("Rss:"):
                        rss += int(line.split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return pss, rss


def peak_memory(kernel, image, payload, env):
    """Run a test that sleeps 3 s and sample the vkernel group's memory."""
    p = subprocess.Popen([VKCI, "exec", "-t", "2", "-k", kernel, "-i", image, "-p", payload,
                          "bench/sleeper"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         env=env)
    peak_pss = peak_rss = 0
    while p.poll() is None:
        kids = []
        try:
            with open(f"/proc/{p.pid}/task/{p.pid}/children") as f:
                kids = [int(x) for x in f.read().split()]
        except OSError:
            pass
        for k in kids:
            pss, rss = group_memory(k)
            peak_pss, peak_rss = max(peak_pss, pss), max(peak_rss, rss)
        time.sleep(0.05)
    return peak_pss / 1024, peak_rss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--tests", type=int, default=60)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    a = ap.parse_args()
    kernel = os.path.abspath(a.kernel)
    image = os.path.join(TOP, "build", "image", "base.img")
    for f in (VKCI, image):
        if not os.path.exists(f):
            raise SystemExit(f"bench: '{f}' missing (run make first)")

    work = tempfile.mkdtemp(prefix="vkci-bench.")
    try:
        env = dict(os.environ, VKCI_RUNDIR=os.path.join(work, "run"))
        # payload: a trivial test and a sleeper
        pl = os.path.join(work, "payload")
        os.makedirs(os.path.join(pl, "bench"))
        build_static(TRIVIAL, os.path.join(pl, "bench", "trivial"))
        build_static('#include <stdio.h>\n#include <unistd.h>\nint main(void){puts("1..1");'
                     'sleep(3);puts("ok 1");return 0;}\n', os.path.join(pl, "bench", "sleeper"))
        # the bare image: base image + /sbin/bare-init
        bare_root = os.path.join(work, "bare-init")
        sh("cc", "-O2", "-static", "-o", bare_root, os.path.join(TOP, "ci", "bench", "bare-init.c"))
        bare_img = os.path.join(work, "bare.img")
        shutil.copy(image, bare_img)
        sh("debugfs", "-w", "-R", f"write {bare_root} /sbin/bare-init", bare_img,
           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sh("debugfs", "-w", "-R", "sif /sbin/bare-init mode 0100755", bare_img,
           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        payload = os.path.join(work, "payload.img")
        sh(os.path.join(TOP, "images", "mkpayload.sh"), payload, pl)

        # warm up the page cache
        bare_boot(kernel, bare_img, work)
        vkci_exec(kernel, image, payload, "bench/trivial", env)
        bare, execs = [], []
        for _ in range(a.runs):  # interleaved, so drift hits both alike
            bare.append(bare_boot(kernel, bare_img, work))
            execs.append(vkci_exec(kernel, image, payload, "bench/trivial", env))
        mb, me = statistics.median(bare), statistics.median(execs)

        # throughput through prove -j
        tdir = os.path.join(work, "suites", "bench")
        os.makedirs(tdir)
        names = []
        for i in range(a.tests):
            n = f"t{i:03d}"
            os.link(os.path.join(pl, "bench", "trivial"), os.path.join(pl, "bench", n))
            with open(os.path.join(tdir, n + ".c"), "w") as f:
                f.write("/* trivial */\n")
            names.append(os.path.join("suites", "bench", n + ".c"))
        payload2 = os.path.join(work, "payload2.img")
        sh(os.path.join(TOP, "images", "mkpayload.sh"), payload2, pl)
        penv = dict(env, VKCI_KERNEL=kernel, VKCI_IMAGE=image, VKCI_PAYLOAD=payload2)
        t0 = time.monotonic()
        r = subprocess.run(["prove", f"-j{a.jobs}", "--exec", f"{VKCI} exec"] + names, cwd=work,
                           env=penv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        wall = time.monotonic() - t0
        if r.returncode != 0:
            raise SystemExit("bench: prove failed:\n" + r.stdout.decode()[-2000:])
        tps = a.tests / wall

        pss, rss = peak_memory(kernel, image, payload, env)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"kernel: {kernel}")
    print(f"| figure | value | target |")
    print(f"|---|---|---|")
    print(f"| bare boot -> poweroff (median of {a.runs}) | {mb*1000:.0f} ms | |")
    print(f"| vkci exec, trivial test (median of {a.runs}) | {me*1000:.0f} ms | |")
    print(f"| per-test overhead ratio | {me/mb:.2f}x | <= 1.5x |")
    print(f"| trivial tests/s, prove -j{a.jobs}, {a.tests} tests | {tps:.1f}/s | >= 15/s |")
    print(f"| peak PSS of one instance (mem=128M) | {pss:.1f} MB | <= 40 MB |")
    print(f"| peak RSS of one instance (address spaces counted once) | {rss:.1f} MB | |")


if __name__ == "__main__":
    main()
