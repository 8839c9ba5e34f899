#!/usr/bin/env python3
"""ci/buildbot/step.py - what a Buildbot worker runs for vkci's nightly
(ci/buildbot/master.cfg), from its vkci tree:

  step.py fetch --from DIR --to DIR
      copy a vkci tree (git's tracked and untracked, not ignored, files;
      everything but build/ and out/ when DIR is no git tree), keeping the
      files' times so make rebuilds only what changed
  step.py build --spec JSON --worker NAME --out DIR
      build or find the kernel of SPEC (a kernel entry of the nightly config)
      in this worker's cache: make kernel, or make coverage-kernel for
      "coverage": true; a "git" kernel is fetched into the worker's cache and
      checked out at the branch head (ci/nightly.py's checkout). Writes
      DIR/build.log and DIR/build.json {status, commit, vkernel, worker, host,
      started, finished, argv}. Exit: make's status (0 built).
  step.py shard --spec JSON [--commit SHA] --shard I/N --worker NAME --out DIR
      make check (make coverage) SHARD=I/N OUT=DIR, make's output in
      DIR/make.log, DIR/worker.json {worker, host, pid, shard, status,
      started, finished, argv}; the bulky coverage parts (html/, raw.tar)
      are dropped, the tracefiles kept for the merge. Exit 0 every test
      passed, 1 some failed, 3 no results (the run broke).

GNU make is $VKCI_MAKE (default make; gmake on DragonFly). Standard library
only (+ git, make, tar).
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "ci"))
import nightly  # noqa: E402

MAKE = os.environ.get("VKCI_MAKE", "make")   # gmake on the BSDs: set in the worker's environment


def say(msg):
    print("step: " + msg, file=sys.stderr, flush=True)


def write_json(path, data):
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
    os.replace(path + ".tmp", path)


def cmd_fetch(a):
    src, dst = os.path.abspath(a.src), os.path.abspath(a.dst)
    os.makedirs(dst, exist_ok=True)
    r = subprocess.run(["git", "-C", src, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                       capture_output=True)
    if r.returncode == 0:
        names = [n for n in r.stdout.split(b"\0") if n and os.path.lexists(os.path.join(src.encode(), n))]
        lst = b"\0".join(names) + b"\0"
        tar = ["tar", "-C", src, "--null", "-T", "-", "-cf", "-"]
    else:
        lst = b""
        tar = ["tar", "-C", src, "--exclude=./build", "--exclude=./out", "-cf", "-", "."]
    p1 = subprocess.Popen(tar, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    p2 = subprocess.Popen(["tar", "-C", dst, "-xf", "-"], stdin=p1.stdout)
    p1.stdout.close()
    p1.stdin.write(lst)
    p1.stdin.close()
    r1, r2 = p1.wait(), p2.wait()
    if r1 or r2:
        say(f"cannot copy '{src}' to '{dst}' (tar exited {r1}/{r2})")
        return 3
    say(f"copied {len(names) if lst else 'the tree'} files of '{src}' to '{dst}'")
    return 0


def kernel_tree(spec, commit=None):
    """(KERNEL= value, commit or None) for a kernel entry, on this worker."""
    if spec.get("git"):
        k = dict(spec, branch=commit or spec.get("branch", "HEAD"))
        git = os.path.expanduser(k["git"])
        if os.path.isdir(git):
            k["git"] = git
        cache = os.path.expanduser(spec.get("cache", "~/.cache/vkci/nightly"))
        return nightly.checkout(k, cache)
    return (os.path.expanduser(spec["source"]) if spec.get("source") else ""), None


def make_argv(spec, target, tree, extra=()):
    argv = [MAKE, "-C", TOP, "--no-print-directory", target, "KERNEL=" + tree]
    frags = [f if os.path.isabs(os.path.expanduser(f)) else os.path.join(TOP, f)
             for f in (os.path.expanduser(x) for x in spec.get("kconfig", []))]
    if frags:
        argv.append("KCONFIG=" + ",".join(frags))
    for key, var in (("jobs", "JOBS"), ("retries", "RETRIES")):
        if key in spec:
            argv.append(f"{var}={spec[key]}")
    return argv + list(extra) + list(spec.get("make_args", []))


def run_logged(argv, log_path, keep_last_line=False):
    """Run argv with its output to log_path; (status, last stdout line)."""
    with open(log_path, "a", encoding="utf-8") as log:
        log.write("$ " + " ".join(argv) + "\n")
        log.flush()
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, text=True)
        last = ""
        for line in p.stdout:
            log.write(line)
            log.flush()
            if line.strip():
                last = line.strip()
        return p.wait(), last


def cmd_build(a):
    spec = json.loads(a.spec)
    os.makedirs(a.out, exist_ok=True)
    log = os.path.join(a.out, "build.log")
    rec = {"kernel": spec["name"], "worker": a.worker, "host": socket.gethostname(), "pid": os.getpid(),
           "started": time.time(), "commit": None, "vkernel": None}
    open(log, "w").close()
    try:
        tree, rec["commit"] = kernel_tree(spec)
    except (RuntimeError, OSError) as e:
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"step: {e}\n")
        rec.update(status=3, error=str(e), finished=time.time())
        write_json(os.path.join(a.out, "build.json"), rec)
        say(str(e))
        return 3
    argv = make_argv(spec, "coverage-kernel" if spec.get("coverage") else "kernel", tree)
    rec["argv"] = argv
    status, last = run_logged(argv, log)
    rec.update(status=status, vkernel=last if status == 0 else None, finished=time.time())
    if status:
        rec["error"] = f"the kernel did not build on {a.worker} (make exited {status}; see build.log)"
    write_json(os.path.join(a.out, "build.json"), rec)
    with open(log, encoding="utf-8", errors="replace") as f:
        sys.stdout.write("".join(f.readlines()[-40:]))
    return status


def cmd_shard(a):
    spec = json.loads(a.spec)
    out = os.path.abspath(a.out)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    log = os.path.join(out, "make.log")
    rec = {"kernel": spec["name"], "worker": a.worker, "host": socket.gethostname(), "pid": os.getpid(),
           "shard": a.shard, "started": time.time()}
    open(log, "w").close()
    try:
        tree, _ = kernel_tree(spec, a.commit or None)
    except (RuntimeError, OSError) as e:
        rec.update(status=3, error=str(e), finished=time.time())
        write_json(os.path.join(out, "worker.json"), rec)
        say(str(e))
        return 3
    argv = make_argv(spec, "coverage" if spec.get("coverage") else "check", tree,
                     ["SHARD=" + a.shard, "OUT=" + out])
    rec["argv"] = argv
    say(f"{spec['name']} shard {a.shard} on {a.worker}: " + " ".join(argv))
    status, _ = run_logged(argv, log)
    rec.update(make_status=status, finished=time.time())
    try:
        with open(os.path.join(out, "summary.json"), encoding="utf-8") as f:
            summary = json.load(f)
    except (OSError, ValueError):
        summary = None
    for bulky in ("coverage/html", "coverage/raw.tar"):
        p = os.path.join(out, bulky)
        if os.path.isdir(p):
            shutil.rmtree(p, ignore_errors=True)
        elif os.path.exists(p):
            os.unlink(p)
    if summary is None:
        rec["status"] = 3
        rec["error"] = f"shard {a.shard} left no summary.json on {a.worker} (make exited {status}; see make.log)"
    else:
        bad = sum(summary.get("summary", {}).get(o, 0) for o in nightly.FAILING)
        rec["status"] = 1 if bad else 0
        rec["tests"] = summary.get("tests")
    write_json(os.path.join(out, "worker.json"), rec)
    with open(log, encoding="utf-8", errors="replace") as f:
        sys.stdout.write("".join(f.readlines()[-30:]))
    return rec["status"]


def main(argv=None):
    ap = argparse.ArgumentParser(prog="step.py", description=__doc__.split("\n")[1])
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fetch")
    f.add_argument("--from", dest="src", required=True)
    f.add_argument("--to", dest="dst", required=True)
    b = sub.add_parser("build")
    b.add_argument("--spec", required=True)
    b.add_argument("--worker", default="?")
    b.add_argument("--out", required=True)
    s = sub.add_parser("shard")
    s.add_argument("--spec", required=True)
    s.add_argument("--commit", default="")
    s.add_argument("--shard", required=True)
    s.add_argument("--worker", default="?")
    s.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    return {"fetch": cmd_fetch, "build": cmd_build, "shard": cmd_shard}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
