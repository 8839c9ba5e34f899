#!/usr/bin/env python3
"""ci/bench/triage.py - figures of crash triage and of the debug variant.

  fixtures   per report class: fixtures, detected (any report), titled as
             expected (harness/t/data/crash/expected.tsv), in both printk-time
             forms (as saved, and with timestamps toggled as 12-crash.t does)
  clean      false positives: every console.log under each --clean OUT/logs
             (a full passing `make check`, plain and VARIANT=debug) that holds
             a report, with its title
  grouping   same-bug pairs (same-bug.tsv) that share a fingerprint; pairs of
             different bugs (every other fixture) that collide
  cost       (--kernel K --debug-kernel D) the debug variant against the
             default kernel, measured in one run, interleaved: bare boot ->
             power-off (median of --runs), peak PSS/RSS of one instance;
             (--cold) a cold build of each into a private cache, wall and CPU
             time; (--check) wall time of `make check` and `make check
             VARIANT=debug` with the kernels built

Usage: ci/bench/triage.py [--clean OUT ...] [--kernel K --debug-kernel D
       [--runs N] [--debug-mem 256M]] [--cold] [--check]
Prints Markdown tables. Standard library only.
"""
import argparse
import collections
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "ci", "bench"))
DATA = os.path.join(TOP, "harness", "t", "data", "crash")
sys.path.insert(0, os.path.join(TOP, "harness", "t"))
from printktime import toggle_time  # noqa: E402  the same flip as 12-crash.t


def tool():
    t = os.path.join(os.environ.get("VKCI_BUILD", os.path.join(TOP, "build")), "t", "crashtitle")
    if not os.access(t, os.X_OK):
        subprocess.run(["make", "-s", "-C", TOP, "build/t/crashtitle"], check=True)
    return t


def triage(paths):
    """path -> (kind, class, fingerprint, title, [other titles])"""
    res = {}
    for i in range(0, len(paths), 200):
        out = subprocess.run([tool()] + paths[i:i + 200], check=True, capture_output=True,
                             text=True).stdout
        for line in out.splitlines():
            f = line.split("\t")
            if f[1] == "other":
                res[f[0]][4].append(f[3])
            else:
                res[f[0]] = [f[1], f[2], f[3], f[4], []]
    return res


def load_expected():
    exp = {}
    with open(os.path.join(DATA, "expected.tsv"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            name, kind, cls, title = line.rstrip("\n").split("\t")
            if kind != "other":
                exp[name] = (kind, cls, title)
    return exp


def fixtures(work):
    exp = load_expected()
    names = sorted(exp)
    paths = [os.path.join(DATA, n) for n in names]
    alts = []
    for n in names:
        with open(os.path.join(DATA, n), encoding="utf-8", errors="replace") as f:
            t = toggle_time(f.read())
        p = os.path.join(work, n)
        with open(p, "w", encoding="utf-8") as f:
            f.write(t)
        alts.append(p)
    got = triage(paths + alts)
    per = collections.OrderedDict()
    fps = {}
    for n in names:
        kind, cls, title = exp[n]
        row = per.setdefault(cls, {"logs": 0, "detected": 0, "titled": 0, "real": 0})
        for p in (os.path.join(DATA, n), os.path.join(work, n)):
            g = got[p]
            row["logs"] += 1
            row["real"] += not n.startswith("src-") and not n.startswith("clean-")
            if kind == "none":
                row["detected"] += g[0] == "none"      # for clean logs: rightly nothing
                row["titled"] += g[0] == "none"
            else:
                row["detected"] += g[0] != "none"
                row["titled"] += g[3] == title and g[1] == cls
        fps[n] = got[os.path.join(DATA, n)][2]
    print("## Crash classes over the fixtures (harness/t/data/crash, both printk-time forms)\n")
    print("| class | logs | from real runs | detected | titled as expected |")
    print("|---|---|---|---|---|")
    tot = [0, 0, 0, 0]
    for cls, r in sorted(per.items()):
        label = cls if cls != "none" else "none (false friends: nothing to detect)"
        print(f"| {label} | {r['logs']} | {r['real']} | {r['detected']} | {r['titled']} |")
        for i, k in enumerate(("logs", "real", "detected", "titled")):
            tot[i] += r[k]
    print(f"| all | {tot[0]} | {tot[1]} | {tot[2]} | {tot[3]} |\n")
    return exp, fps


def grouping(exp, fps):
    groups, grouped = [], set()
    with open(os.path.join(DATA, "same-bug.tsv"), encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                groups.append(line.split())
                grouped.update(groups[-1])
    groups += [[n] for n in sorted(exp) if n not in grouped and exp[n][0] != "none"]
    same = same_ok = 0
    for g in groups:
        for i in range(len(g)):
            for j in range(i + 1, len(g)):
                same += 1
                same_ok += fps.get(g[i]) == fps.get(g[j])
    diff = collide = 0
    for i in range(len(groups)):
        for j in range(i + 1, len(groups)):
            for a in groups[i]:
                for b in groups[j]:
                    diff += 1
                    collide += fps.get(a) == fps.get(b)
    print("## Grouping\n")
    print("| figure | value |")
    print("|---|---|")
    print(f"| bugs (groups of fixtures) | {len(groups)} |")
    print(f"| same-bug pairs with one fingerprint | {same_ok} of {same} |")
    print(f"| different-bug pairs that collide | {collide} of {diff} |\n")


def clean(dirs):
    print("## False positives on clean console logs\n")
    print("| run | console logs | with a report | titles |")
    print("|---|---|---|---|")
    for d in dirs:
        logs = []
        for root, _dirs, files in os.walk(os.path.join(d, "logs")):
            logs += [os.path.join(root, f) for f in files if f == "console.log"]
        got = triage(sorted(logs)) if logs else {}
        bad = {p: g for p, g in got.items() if g[0] != "none"}
        titles = "; ".join(sorted({g[3] for g in bad.values()})) or "-"
        print(f"| {d} | {len(logs)} | {len(bad)} | {titles} |")
    print()


def cost(a, work):
    import engine
    image = os.path.join(TOP, "build", "image", "base.img")
    bare_img = os.path.join(work, "bare.img")
    init = os.path.join(work, "bare-init")
    subprocess.run(["cc", "-O2", "-static", "-o", init, os.path.join(TOP, "ci", "bench", "bare-init.c")],
                   check=True)
    shutil.copy(image, bare_img)
    for cmd in (f"write {init} /sbin/bare-init", "sif /sbin/bare-init mode 0100755"):
        subprocess.run(["debugfs", "-w", "-R", cmd, bare_img], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pl = os.path.join(work, "payload")
    os.makedirs(os.path.join(pl, "bench"))
    engine.build_static('#include <stdio.h>\n#include <unistd.h>\nint main(void){puts("1..1");'
                        'sleep(3);puts("ok 1");return 0;}\n', os.path.join(pl, "bench", "sleeper"))
    payload = os.path.join(work, "payload.img")
    subprocess.run([os.path.join(TOP, "images", "mkpayload.sh"), payload, pl], check=True,
                   stdout=subprocess.DEVNULL)

    def boot(kernel, mem):
        # engine.bare_boot with this memory size
        argv_mem = f"mem={mem}"
        orig = engine.subprocess.Popen

        def popen(argv, *k, **kw):
            return orig([argv_mem if x == "mem=128M" else x for x in argv], *k, **kw)
        engine.subprocess.Popen = popen
        try:
            return engine.bare_boot(kernel, bare_img, work)
        finally:
            engine.subprocess.Popen = orig

    kernels = (("default", a.kernel, "128M"), ("debug", a.debug_kernel, a.debug_mem))
    for _name, k, mem in kernels:
        boot(k, mem)   # warm the page cache
    times = {n: [] for n, _k, _m in kernels}
    for _ in range(a.runs):
        for name, k, mem in kernels:
            times[name].append(boot(k, mem))
    mem = {}
    for name, k, m in kernels:
        env = dict(os.environ, VKCI_RUNDIR=os.path.join(work, "run"), VKCI_MEM=m)
        mem[name] = engine.peak_memory(k, image, payload, env)
    bd, bg = statistics.median(times["default"]), statistics.median(times["debug"])
    print(f"## Debug variant against the default kernel (one run, interleaved)\n")
    print(f"default: {a.kernel}  \ndebug: {a.debug_kernel}\n")
    print("| figure | default | debug | ratio |")
    print("|---|---|---|---|")
    print(f"| bare boot -> power-off, median of {a.runs} (mem= 128M / {a.debug_mem}) | "
          f"{bd*1000:.0f} ms | {bg*1000:.0f} ms | {bg/bd:.1f}x |")
    print(f"| peak PSS of one instance (sleeping test) | {mem['default'][0]:.1f} MB | "
          f"{mem['debug'][0]:.1f} MB | {mem['debug'][0]/mem['default'][0]:.1f}x |")
    print(f"| peak RSS of one instance | {mem['default'][1]:.1f} MB | {mem['debug'][1]:.1f} MB | "
          f"{mem['debug'][1]/mem['default'][1]:.1f}x |")
    print()


def cold(work):
    """Cold builds of the default and the debug kernel into a private cache."""
    src = subprocess.run([os.path.join(TOP, "ci", "kernel-source.sh")], check=True,
                         capture_output=True, text=True).stdout.strip()
    frags = subprocess.run(["make", "-s", "-C", TOP, "--no-print-directory", "print-kfrags"],
                           check=True, capture_output=True, text=True).stdout.split()
    frags = [f if f.startswith("/") else os.path.join(TOP, f) for f in frags]
    vkci = os.path.join(TOP, "harness", "vkci")
    rows = []
    for name, extra in (("default", []), ("debug", ["--variant", "debug"])):
        fr = frags + ([os.path.join(TOP, "harness", "debug.config")] if extra else [])
        argv = [vkci, "build"] + extra + sum((["-c", f] for f in fr), []) + [src]
        env = dict(os.environ, VKCI_CACHE=os.path.join(work, "cache"))
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        r = subprocess.run(argv, env=env, capture_output=True, text=True)
        wall = time.monotonic() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if r.returncode:
            raise SystemExit(f"bench: cold build of the {name} kernel failed:\n{r.stderr[-2000:]}")
        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        with open("/proc/loadavg") as f:
            load = f.read().split()[1]
        rows.append((name, wall, cpu, load))
        shutil.rmtree(os.path.join(work, "cache", "kernels"), ignore_errors=True)
    print("## Cold build, one run (private cache, -j%d)\n" % (os.cpu_count() or 1))
    print("| kernel | wall | CPU time (user+sys) | load average (5 min) at the end |")
    print("|---|---|---|---|")
    for name, wall, cpu, load in rows:
        print(f"| {name} | {wall/60:.1f} min | {cpu/60:.1f} min | {load} |")
    print(f"| ratio debug/default | {rows[1][1]/rows[0][1]:.1f}x | {rows[1][2]/rows[0][2]:.1f}x | |\n")


def check(work):
    rows = []
    for name, extra in (("default", []), ("debug", ["VARIANT=debug"])):
        out = os.path.join(work, "out-" + name)
        t0 = time.monotonic()
        r = subprocess.run(["make", "-C", TOP, "check", f"OUT={out}"] + extra,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        rows.append((name, time.monotonic() - t0, r.returncode,
                     (re.findall(r"vkci: \d+ tests: .*", r.stdout) or ["?"])[-1]))
        if os.path.isdir(out):
            keep = os.path.join(TOP, "out", "bench-" + name)
            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(out, keep, ignore=shutil.ignore_patterns("archive.tar.gz"))
    print("## make check, kernels built\n")
    print("| run | wall | status | summary |")
    print("|---|---|---|---|")
    for name, wall, rc, summ in rows:
        print(f"| make check{' VARIANT=debug' if name == 'debug' else ''} | {wall:.1f} s | {rc} | {summ} |")
    print(f"| ratio | {rows[1][1]/rows[0][1]:.1f}x | | |\n")
    print("(their OUT dirs are kept in out/bench-default and out/bench-debug: "
          "--clean out/bench-default out/bench-debug counts false positives over them)\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clean", nargs="*", default=[])
    ap.add_argument("--kernel")
    ap.add_argument("--debug-kernel")
    ap.add_argument("--debug-mem", default="256M")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--cold", action="store_true")
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="vkci-triage-bench.")
    try:
        exp, fps = fixtures(work)
        grouping(exp, fps)
        if a.check:
            check(work)
        if a.clean:
            clean(a.clean)
        if a.kernel and a.debug_kernel:
            cost(a, work)
        if a.cold:
            cold(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
