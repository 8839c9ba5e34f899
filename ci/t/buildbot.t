#!/usr/bin/env python3
"""The local fleet (ci/buildbot/local.py = make buildbot-local): a Buildbot
master and two workers on loopback run two nights over two kernels, the
default and its coverage variant, on the vm suite.

Night 1: the shards really split over both workers (each worker's own
record and Buildbot's agree), and each kernel's merged summary equals a
single-machine `make check` of the same tests (same tests, same outcomes).
Night 2 plants a fault in every test of the default kernel (new failures:
exit 1), adds a kernel that does not build (a reported result), runs the
default kernel once more on worker-2 only ("workers") and SIGKILLs
worker-1 (with what it runs) during one of its shards:
Buildbot re-runs that shard on worker-2, the night completes and is
correct (again equal to a single-machine run), the page lists the new
failures with their reasons and log links, every link resolves, Chromium
renders it without a console message; the run dir holds only kept dirs
within the keep policy (no dir of the SIGKILLed vkci processes survives),
and no process of the fleet is left. TAP."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "harness", "t"))
sys.path.insert(0, os.path.join(TOP, "ci", "t"))
from taplib import done, is_, ok  # noqa: E402
import pagecheck  # noqa: E402

if not os.environ.get("VKCI_COVERAGE_KERNEL") or not os.access("/usr/bin/buildbot", os.X_OK):
    print("1..0 # SKIP needs the coverage kernel and Buildbot (make test builds and installs them)")
    sys.exit(0)

keep = os.environ.get("VKCI_BUILDBOT_KEEP")        # a dir: keep everything there
bb = keep or tempfile.mkdtemp(prefix="vkci-buildbot.")
tmp = tempfile.mkdtemp(prefix="vkci-buildbot-t.")
POLICY = "count=4,age=7d,size=1G"


def outcomes(out):
    with open(os.path.join(out, "summary.json")) as f:
        s = json.load(f)
    return {f"{su}/{t}": v["outcome"] for su, sd in s["suites"].items() for t, v in sd["tests"].items()}


def single(name, args):
    out = os.path.join(tmp, name)
    r = subprocess.run(["make", "-C", TOP, "--no-print-directory", "check", "SUITES=vm", "JOBS=2",
                        "OUT=" + out] + args, capture_output=True, text=True,
                       env=dict(os.environ, VKCI_RUNDIR=os.path.join(tmp, "run-" + name)))
    return outcomes(out) if os.path.exists(os.path.join(out, "summary.json")) else {"error": r.stderr[-500:]}


def night(cfg, extra=()):
    path = os.path.join(tmp, "night.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    t0 = time.time()
    r = subprocess.run(["/usr/bin/python3", os.path.join(TOP, "ci", "buildbot", "local.py"), "--dir", bb,
                        "--workers", "2", "--config", path] + list(extra), capture_output=True, text=True,
                       env=dict(os.environ, VKCI_KEEP_POLICY=POLICY), stdin=subprocess.DEVNULL)
    with open(os.path.join(bb, "local.json")) as f:
        st = json.load(f)
    ndir = os.path.join(bb, "results", "nights", st.get("night") or "?")
    print(f"# night {st.get('night')}: {time.time() - t0:.0f} s, exit {r.returncode}")
    return r, st, ndir, t0


def run_of(ndir, k):
    with open(os.path.join(ndir, k, "run.json")) as f:
        return json.load(f)


def page_ok(ndir, label):
    page = os.path.join(ndir, "index.html")
    for p in (page, os.path.join(os.path.dirname(ndir), "index.html")):
        bad = pagecheck.bad_links(p)
        ok(not bad, f"{label}: {os.path.relpath(p, bb)}: every link resolves to an existing file", bad)
    pc = pagecheck.parse(page)
    ok(len(pc.svgs) == 3 and pc.points > 0, f"{label}: the plots are there", pc.svgs, pc.points)
    png = os.path.join(tmp, label + ".png")
    rc, console, err = pagecheck.chromium(page, png, size="1000,1300")
    ok(rc == 0 and pagecheck.png_size(png) == (1000, 1300) and not console,
       f"{label}: Chromium renders the page, no console message", rc, *console, err[-500:])
    return page, png


KERNELS = [{"name": "debian"}, {"name": "debian-cov", "coverage": True}]
try:
    # ---- night 1: a clean night
    ref = single("single", [])
    ok("vm/mremap" in ref and len(ref) >= 20, "single-machine make check SUITES=vm ran", ref)
    r, st, ndir, t0 = night({"jobs": 2, "retries": 0, "make_args": ["SUITES=vm"], "kernels": KERNELS})
    ok(r.returncode == 0, "night 1: buildbot-local exits 0 (no regression)", r.stderr[-2000:])
    ok(st["pids"].keys() == {"master", "worker-1", "worker-2"} and st["pb_port"] != st["www_port"],
       "night 1: a master and two workers on their own ports", st.get("pids"))
    for k in ("debian", "debian-cov"):
        run = run_of(ndir, k)
        is_(run["status"], 0, f"night 1: {k}: every test passed")
        is_(sorted(s["shard"] for s in run["shards"]), ["1/2", "2/2"], f"night 1: {k}: both shards merged")
        is_(outcomes(os.path.join(ndir, k, "out")), ref,
            f"night 1: {k}: merged summary = single-machine make check (same tests, same outcomes)")
    ran = {s["worker"] for k in ("debian", "debian-cov") for s in run_of(ndir, k)["shards"]}
    is_(ran, {"worker-1", "worker-2"}, "night 1: the shards ran on both workers (workers' records)")
    bbran = {b["worker"] for b in st["builds"] if b["builder"] == "vkci-shard" and b["started_at"] >= t0 - 2
             and b["results"] in (0, 1)}
    is_(bbran, {"worker-1", "worker-2"}, "night 1: Buildbot's build records agree")
    with open(os.path.join(ndir, "compare.json")) as f:
        cmp1 = {k["kernel"]: k for k in json.load(f)["kernels"]}
    ok(cmp1["debian-cov"]["coverage"] and cmp1["debian-cov"]["coverage"] > 5 and
       os.path.exists(os.path.join(ndir, "debian-cov", "out", "coverage", "total.info")),
       "night 1: the coverage variant's merged line coverage", cmp1["debian-cov"]["coverage"])
    page_ok(ndir, "night1")

    # ---- night 2: planted failures, a worker killed mid-shard
    planted = single("planted", ["PLANT_FAULT=1"])
    # a second entry of the default kernel restricted to worker-2 ("workers"): worker-1 dies in
    # a shard of the planted one; a kernel that does not build
    kern2 = [{"name": "debian", "make_args": ["PLANT_FAULT=1"]}, {"name": "debian-w2", "workers": ["worker-2"]},
             {"name": "broken", "source": os.path.join(tmp, "no-such-linux")}]
    r, st, ndir, t0 = night({"jobs": 2, "retries": 0, "make_args": ["SUITES=vm"], "kernels": kern2},
                            ["--kill-worker-during-shard", "worker-1"])
    ok(r.returncode == 1, "night 2: buildbot-local exits 1 (new failures)", r.stderr[-2000:])
    killed = st["killed"][0] if st["killed"] else {}
    ok(killed.get("worker") == "worker-1" and killed.get("shard"), "night 2: worker-1 was killed during a shard",
       st["killed"])
    retried = [b for b in st["builds"] if b["builder"] == "vkci-shard" and b["started_at"] >= t0 - 2
               and b["worker"] == "worker-1" and b["results"] == 5]
    ok(retried, "night 2: Buildbot marked the lost build for retry (RETRY)", st["builds"])
    redo = [s for s in run_of(ndir, killed.get("kernel", "?"))["shards"] if s["shard"] == killed.get("shard")]
    ok(redo and redo[0]["worker"] == "worker-2", "night 2: the killed shard ran again on worker-2", redo)
    for k, want in (("debian", planted), ("debian-w2", ref)):
        run = run_of(ndir, k)
        is_(sorted(s["shard"] for s in run["shards"]), ["1/2", "2/2"], f"night 2: {k}: both shards merged")
        is_(outcomes(os.path.join(ndir, k, "out")), want,
            f"night 2: {k}: merged summary = single-machine make check (same tests, same outcomes)")
    w2 = run_of(ndir, "debian-w2")
    ok({s["worker"] for s in w2["shards"]} == {"worker-2"} and w2["build"]["worker"] == "worker-2",
       "night 2: a kernel with \"workers\": [\"worker-2\"] ran only there", w2["shards"])
    br = run_of(ndir, "broken")
    ok(br["status"] not in (0, 1, 3) and "did not build" in (br.get("error") or "") and not br["shards"],
       "night 2: a kernel that does not build is a reported result, no shard run", br.get("status"), br.get("error"))
    with open(os.path.join(ndir, "compare.json")) as f:
        cb = {k["kernel"]: k for k in json.load(f)["kernels"]}["broken"]
    ok(cb["broken"] and "did not build" in cb["broken"], "night 2: the comparison calls it broken", cb)
    with open(os.path.join(ndir, "night.json")) as f:
        nj = json.load(f)
    ok(nj["status"] == 1 and nj["regressions"] == len(planted), "night 2: night.json: status 1, every planted failure new",
       nj.get("status"), nj.get("regressions"))
    page, png = page_ok(ndir, "night2")
    text = open(page).read()
    ok(text.find("id='new'") < text.find("vm/mremap") < text.find("id='kernels'") and
       "href='debian/out/logs/vm/mremap/console.log'" in text and "not ok 1 - " in text,
       "night 2: the page lists the new failures first, with their reasons and log links")
    ok("worker-1" in text and "worker-2" in text, "night 2: the page says which worker ran what")
    ok("broken: the kernel did not build" in text and "href='broken/make.log'" in text,
       "night 2: the page shows the broken kernel and links its build log")
    if keep:
        shutil.copy(png, os.path.join(keep, "night2.png"))

    # ---- hygiene and processes
    run_dir = os.path.join(bb, "run")
    dirs = [d for d in os.listdir(run_dir) if not d.startswith(".")]
    kept = [d for d in dirs if os.path.exists(os.path.join(run_dir, d, ".vkci-kept"))]
    ok(0 < len(kept) <= 4, f"run dir: {len(kept)} kept dirs within {POLICY}", dirs)
    # the next run sweeps what the killed worker's vkci left (a dir of a vkci
    # killed after the last sweep of the night may still be there now)
    r = subprocess.run([os.path.join(TOP, "harness", "vkci"), "rundir", "-r", run_dir], capture_output=True,
                       text=True, env=dict(os.environ, VKCI_KEEP_POLICY=POLICY))
    dirs = [d for d in os.listdir(run_dir) if not d.startswith(".")]
    stale = [d for d in dirs if not os.path.exists(os.path.join(run_dir, d, ".vkci-kept"))]
    ok(r.returncode == 0 and 0 < len(dirs) <= 4 and not stale,
       f"run dir after the next run's sweep: {len(dirs)} kept dirs, no stale dir", dirs, stale, r.stdout, r.stderr)
    alive = [p for p in list(st["pids"].values()) if os.path.exists(f"/proc/{p}")]
    left = []
    for p in os.listdir("/proc"):
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                if bb.encode() in f.read():
                    left.append(p)
        except OSError:
            pass
    ok(not alive and not left, "no process of the fleet is left", alive, left)
finally:
    if not keep:
        shutil.rmtree(bb, ignore_errors=True)
    shutil.rmtree(tmp, ignore_errors=True)
done()
