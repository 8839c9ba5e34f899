#!/usr/bin/env python3
"""ci/buildbot/night.py - the master's side of a Buildbot night
(ci/buildbot/master.cfg's "night" builder), over RESULTS/nights/NIGHT:

  night.py start  --config FLEET.json              make the night's dir, print its name
  night.py merge  --config FLEET.json --night N    per kernel: the shards into KERNEL/out
  night.py bisect --config FLEET.json --night N    bisect the new failures of git kernels
  night.py finish --config FLEET.json --night N    night.json: status, times, workers

The layout is ci/nightly.py's (KERNEL/out, KERNEL/make.log, KERNEL/run.json;
compare.json, summary.* from `nightly.py compare`), plus, from the workers:
KERNEL/build.json and build.log (the build step), KERNEL/shards/I/ (each
shard's worker.json and make.log; its logs and TAP are merged into
KERNEL/out and then dropped) and night.json (what ran where, and when).

merge: a kernel whose build failed gets a run.json naming the failure (the
comparison reports it as broken, a new failure when it built the night
before); a shard missing after Buildbot's retries is an infrastructure
failure of that kernel, named in run.json. Exit 0, or 3 when a kernel's
results are incomplete. finish: exit 0 no regression, 1 a regression, 3 a
kernel's results incomplete (as ci/nightly.py). Standard library only.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "ci"))
sys.path.insert(0, HERE)
import fleet  # noqa: E402
import nightly  # noqa: E402


def say(msg):
    print("night: " + msg, file=sys.stderr, flush=True)


def write_json(path, data):
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(path + ".tmp", path)


def cmd_start(F, a):
    results = F["results"]
    os.makedirs(os.path.join(results, "nights"), exist_ok=True)
    for _ in range(20):
        name = nightly.new_night_name(results)
        try:
            os.makedirs(os.path.join(results, "nights", name))
            break
        except FileExistsError:
            continue
    ndir = os.path.join(results, "nights", name)
    for k in F["kernels"]:
        os.makedirs(os.path.join(ndir, k["name"]))
    write_json(os.path.join(ndir, "night.json"), {
        "night": name, "engine": "buildbot", "started": time.time(), "shards": F["shards"],
        "workers": [w["name"] for w in F["workers"]], "kernels": [k["name"] for k in F["kernels"]]})
    say(f"night {name}: {len(F['kernels'])} kernel(s) x {F['shards']} shard(s) in {ndir}")
    print(name)
    return 0


def merge_kernel(F, ndir, k):
    kdir = os.path.join(ndir, k["name"])
    b = fleet.read_json(os.path.join(kdir, "build.json")) or {}
    run = {"name": k["name"], "engine": "buildbot", "coverage": bool(k.get("coverage")),
           "kconfig": k.get("kconfig", []), "source": k.get("source") or k.get("git") or "(default)",
           "started": b.get("started"), "build": b, "shards": []}
    if k.get("git"):
        run["branch"] = k.get("branch", "HEAD")
        run["commit"] = b.get("commit")
    logs = [os.path.join(kdir, "build.log")]
    if not b:
        run.update(status=3, error="the build step reported nothing (its worker was lost?)",
                   finished=time.time())
    elif b.get("status") != 0:
        run.update(status=b.get("status"), finished=b.get("finished"),
                   error=b.get("error") or f"the kernel did not build (status {b.get('status')}; see make.log)")
    else:
        dirs, missing = [], []
        for i in range(1, F["shards"] + 1):
            sdir = os.path.join(kdir, "shards", str(i))
            w = fleet.read_json(os.path.join(sdir, "worker.json"))
            if not w:
                missing.append(f"{i}/{F['shards']}")
                continue
            run["shards"].append({key: w.get(key) for key in ("shard", "worker", "host", "started", "finished",
                                                             "status", "make_status", "tests", "error")})
            logs.append(os.path.join(sdir, "make.log"))
            if w.get("status") in (0, 1):
                dirs.append(sdir)
            else:
                missing.append(f"{i}/{F['shards']} ({w.get('error') or 'no results'})")
        run["argv"] = (fleet.read_json(os.path.join(dirs[0], "worker.json")) or {}).get("argv") if dirs else None
        status = 0
        if dirs:
            with open(os.path.join(kdir, "merge.log"), "w", encoding="utf-8") as log:
                r = subprocess.run(["make", "-C", TOP, "--no-print-directory", "merge-reports",
                                    "DIRS=" + " ".join(dirs), "OUT=" + os.path.join(kdir, "out")],
                                   stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            logs.append(os.path.join(kdir, "merge.log"))
            if r.returncode:
                missing.append(f"merge-reports exited {r.returncode} (see merge.log)")
            status = max((s["status"] for s in run["shards"] if s["status"] in (0, 1)), default=0)
        if missing:
            run["error"] = "incomplete: shard " + ", ".join(missing)
            status = 3
        run.update(status=status, finished=max([s["finished"] or 0 for s in run["shards"]] + [b.get("finished") or 0]))
        # the shards' logs and TAP now live in KERNEL/out: keep each shard's record and log only
        for d in dirs:
            for name in os.listdir(d):
                p = os.path.join(d, name)
                if name in ("worker.json", "make.log"):
                    continue
                if os.path.isdir(p) and not os.path.islink(p):
                    shutil.rmtree(p)
                else:
                    os.unlink(p)
    # KERNEL/make.log: what nightly.py's page links, every step's output in one file
    with open(os.path.join(kdir, "make.log"), "w", encoding="utf-8") as out:
        for path in logs:
            if os.path.isfile(path):
                out.write(f"==== {os.path.relpath(path, kdir)}\n")
                with open(path, encoding="utf-8", errors="replace") as f:
                    shutil.copyfileobj(f, out)
    write_json(os.path.join(kdir, "run.json"), run)
    say(f"{k['name']}: status {run['status']}" + (f": {run['error']}" if run.get("error") else ""))
    return run


def cmd_merge(F, a):
    ndir = os.path.join(F["results"], "nights", a.night)
    worst = 0
    for k in F["kernels"]:
        os.makedirs(os.path.join(ndir, k["name"]), exist_ok=True)
        run = merge_kernel(F, ndir, k)
        if run["status"] == 3 and not run.get("build", {}).get("status"):
            worst = 3
    return worst


def cmd_bisect(F, a):
    """Each new failure of a kernel followed as a git branch, bisected
    between the previous night's commit and tonight's, as ci/nightly.py
    does on one machine (nightly.auto_bisect: `make bisect` in the master's
    own checkout under the config's "cache"); then the comparison again, so
    the culprits are in compare.json and the summaries. Exit 0, or 1 when a
    kernel's repository could not be fetched."""
    ndir = os.path.join(F["results"], "nights", a.night)
    cmp = nightly.compare(F["results"], a.night)
    if not cmp.get("regressions"):
        say("no new failures: nothing to bisect")
        return 0
    cfg = nightly.load_config(F["config"])     # the nightly's view: cache, make, bisect keys

    def fetch(k):
        try:
            nightly.checkout(k, cfg["cache"])      # the master's mirror and work tree
            return True
        except (RuntimeError, OSError) as e:
            say(f"{k['name']}: not bisected: {e}")
            return False
    cmp, failed = nightly.bisect_new_failures(cfg, cfg["kernels"], F["results"], a.night, cmp,
                                              cfg.get("make", ["make", "-C", TOP, "--no-print-directory"]),
                                              prepare=fetch)
    print(nightly.write_summaries(cmp, ndir))
    return 1 if failed else 0


def cmd_finish(F, a):
    ndir = os.path.join(F["results"], "nights", a.night)
    night = fleet.read_json(os.path.join(ndir, "night.json")) or {"night": a.night}
    cmp = fleet.read_json(os.path.join(ndir, "compare.json")) or {}
    night["finished"] = time.time()
    wall = night["finished"] - night.get("started", night["finished"])
    busy, work = {}, []
    for k in F["kernels"]:
        run = fleet.read_json(os.path.join(ndir, k["name"], "run.json")) or {}
        b = run.get("build") or {}
        if b.get("worker") and b.get("finished"):
            work.append({"kernel": k["name"], "step": "build", "worker": b["worker"],
                         "started": b["started"], "finished": b["finished"], "status": b.get("status")})
        for s in run.get("shards", []):
            work.append({"kernel": k["name"], "step": "shard " + (s.get("shard") or "?"),
                         "worker": s.get("worker"), "started": s.get("started"), "finished": s.get("finished"),
                         "status": s.get("status")})
    for w in work:
        if w["started"] and w["finished"]:
            busy[w["worker"]] = busy.get(w["worker"], 0) + w["finished"] - w["started"]
    night["wall_s"] = wall
    night["work"] = work
    night["busy"] = {w: {"seconds": round(s, 1), "share": round(s / wall, 3) if wall > 0 else None}
                     for w, s in sorted(busy.items())}
    incomplete = [k["name"] for k in F["kernels"]
                  if (fleet.read_json(os.path.join(ndir, k["name"], "run.json")) or {}).get("status") == 3
                  and not (fleet.read_json(os.path.join(ndir, k["name"], "build.json")) or {}).get("status")]
    night["status"] = 3 if incomplete else 1 if cmp.get("regressions") else 0
    night["regressions"] = cmp.get("regressions")
    write_json(os.path.join(ndir, "night.json"), night)
    say(f"night {a.night}: status {night['status']}, {wall:.0f} s; busy: " +
        ", ".join(f"{w} {v['share']:.0%}" for w, v in night["busy"].items() if v["share"] is not None))
    if incomplete:
        say("incomplete results: " + ", ".join(incomplete))
    return night["status"]


def main(argv=None):
    ap = argparse.ArgumentParser(prog="night.py", description=__doc__.split("\n")[1])
    ap.add_argument("cmd", choices=("start", "merge", "bisect", "finish"))
    ap.add_argument("--config", required=True)
    ap.add_argument("--night")
    a = ap.parse_args(argv)
    try:
        F = fleet.load(a.config)
    except fleet.ConfigError as e:
        say(str(e))
        return 2
    if a.cmd != "start" and (not a.night or not nightly.night_key(a.night) or
                             not os.path.isdir(os.path.join(F["results"], "nights", a.night))):
        say(f"no night '{a.night}' under '{F['results']}/nights' (give --night YYYY-MM-DD)")
        return 2
    return {"start": cmd_start, "merge": cmd_merge, "bisect": cmd_bisect, "finish": cmd_finish}[a.cmd](F, a)


if __name__ == "__main__":
    sys.exit(main())
