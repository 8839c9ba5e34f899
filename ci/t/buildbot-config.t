#!/usr/bin/env python3
"""The Buildbot fleet's config (ci/buildbot/fleet.py) and the scripts'
bad input: each mistake is one line naming the thing and the fix, exit 2;
worker passwords come only from a private file outside the repository;
master.cfg loads (buildbot checkconfig) with the example's shape. TAP."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "harness", "t"))
sys.path.insert(0, os.path.join(TOP, "ci", "buildbot"))
from taplib import done, is_, ok  # noqa: E402
import fleet  # noqa: E402

tmp = tempfile.mkdtemp(prefix="vkci-fleet.")
try:
    pw = os.path.join(tmp, "passwords")
    with open(pw, "w") as f:
        f.write("# name password\nw1 s3cret1\nw2 s3cret2\n")
    os.chmod(pw, 0o600)
    base = {"results": "res", "kernels": [{"name": "debian"}, {"name": "cov", "coverage": True,
                                                                 "make_args": ["SUITES=vm"]}],
            "make_args": ["JOBS=2"], "retries": 1,
            "buildbot": {"workers": ["w1", "w2"], "passwords": "passwords", "vkci": {"path": TOP}}}

    def load(cfg):
        path = os.path.join(tmp, "night.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        try:
            return fleet.load(path), None
        except fleet.ConfigError as e:
            return None, str(e)

    F, err = load(base)
    ok(F is not None, "a good config loads", err)
    is_([w["password"] for w in F["workers"]], ["s3cret1", "s3cret2"], "passwords from the file")
    is_(F["shards"], 2, "shards: the number of workers by default")
    is_(F["kernels"][1]["make_args"], ["JOBS=2", "SUITES=vm"], "make_args: the config's, then the kernel's")
    ok(F["kernels"][1]["retries"] == 1 and F["kernels"][1]["coverage"] is True, "top-level settings reach each kernel")
    is_(F["results"], os.path.join(tmp, "res"), "results: relative to the config file")

    cases = [
        ("no buildbot section", dict(base, buildbot=None), "needs a \"buildbot\" section"),
        ("no workers", dict(base, buildbot=dict(base["buildbot"], workers=[])), "non-empty \"workers\""),
        ("no password file", dict(base, buildbot={k: v for k, v in base["buildbot"].items() if k != "passwords"}),
         "\"passwords\": a file outside the repository"),
        ("missing file", dict(base, buildbot=dict(base["buildbot"], passwords="nope")),
         "cannot read worker password file '" + os.path.join(tmp, "nope") + "'"),
        ("a worker without password", dict(base, buildbot=dict(base["buildbot"], workers=["w1", "w3"])),
         "no password for worker(s) w3"),
        ("no vkci tree", dict(base, buildbot=dict(base["buildbot"], vkci={})), "\"vkci\": {\"git\": URL}"),
        ("bad shards", dict(base, buildbot=dict(base["buildbot"], shards=0)), "\"shards\" must be a positive number"),
        ("kernel workers unknown", dict(base, kernels=[{"name": "x", "workers": ["w9"]}]),
         "kernel 'x': \"workers\" must list some of the buildbot workers (w1, w2)"),
        ("nightly's own checks", dict(base, kernels=[]), "needs a non-empty \"kernels\" list"),
    ]
    for name, cfg, want in cases:
        F, err = load(cfg)
        ok(F is None and err and want in err and "\n" not in err, f"bad config ({name}): one line naming it",
           err, want)
    os.chmod(pw, 0o644)
    F, err = load(base)
    ok(F is None and "readable by others (chmod 600" in (err or ""), "a password file others can read is refused", err)
    os.chmod(pw, 0o600)

    # the scripts' usage errors
    py = "/usr/bin/python3"
    r = subprocess.run([py, os.path.join(TOP, "ci", "buildbot", "local.py"), "--dir", tmp, "--workers", "0"],
                       capture_output=True, text=True)
    ok(r.returncode == 2 and "WORKERS must be 1..16" in r.stderr, "local.py: WORKERS=0 is exit 2", r.stderr)
    r = subprocess.run([py, os.path.join(TOP, "ci", "buildbot", "local.py"), "--dir", tmp, "--config",
                        os.path.join(tmp, "none.json")], capture_output=True, text=True)
    ok(r.returncode == 2 and "no nightly config" in r.stderr, "local.py: a missing config is exit 2", r.stderr)
    load(base)
    r = subprocess.run([py, os.path.join(TOP, "ci", "buildbot", "night.py"), "merge", "--config",
                        os.path.join(tmp, "night.json"), "--night", "2020-01-01"], capture_output=True, text=True)
    ok(r.returncode == 2 and "no night '2020-01-01'" in r.stderr, "night.py: an unknown night is exit 2", r.stderr)

    # night.py bisect: a git kernel's new failure bisected between the two
    # nights' commits on the master (a stand-in for make, as in nightly.t)
    repo = os.path.join(tmp, "linux")
    os.makedirs(repo)
    g = lambda *a: subprocess.run(["git", "-C", repo, "-c", "user.name=t", "-c", "user.email=t@t"] + list(a),
                                  capture_output=True, text=True, check=True).stdout.strip()
    g("init", "-q", "-b", "main")
    g("commit", "-q", "--allow-empty", "-m", "good")
    good = g("rev-parse", "HEAD")
    g("commit", "-q", "--allow-empty", "-m", "the culprit")
    bad = g("rev-parse", "HEAD")
    fake = os.path.join(tmp, "fake-make")
    with open(fake, "w") as f:
        f.write(f"""#!{sys.executable}
import json, os, sys
a = dict(x.split("=", 1) for x in sys.argv[1:] if "=" in x)
assert "bisect" in sys.argv[1:]
os.makedirs(a["BISECT_OUT"], exist_ok=True)
json.dump(sys.argv[1:], open(os.path.join(a["BISECT_OUT"], "argv.json"), "w"))
json.dump({{"tests": [a["TESTS"]], "timing": {{"steps": 1}}, "result": {{"status": "found", "confidence": 1.0,
           "culprit": {{"commit": a["BAD"], "subject": "the culprit", "test": a["TESTS"], "reason": "1 of 1 failed",
                       "crash_title": None, "log": os.path.join(a["BISECT_OUT"], "console.log")}}}}}},
          open(os.path.join(a["BISECT_OUT"], "bisect.json"), "w"))
""")
    os.chmod(fake, 0o755)
    for night, commit, outcome in (("2020-02-01", good, "pass"), ("2020-02-02", bad, "fail")):
        out = os.path.join(tmp, "res", "nights", night, "git", "out")
        os.makedirs(os.path.join(out, "tap", "suites", "vm"))
        with open(os.path.join(out, "tap", "suites", "vm", "a.c"), "w") as f:
            f.write("ok 1\n1..1\n")
        with open(os.path.join(out, "summary.json"), "w") as f:
            json.dump({"suites": {"vm": {"tests": {"a": {"outcome": outcome}}}}}, f)
        with open(os.path.join(out, "..", "run.json"), "w") as f:
            json.dump({"name": "git", "commit": commit, "status": 0 if outcome == "pass" else 1}, f)
    load(dict(base, make=[fake], cache="cache", kernels=[{"name": "git", "git": repo, "branch": "main"}]))
    r = subprocess.run([py, os.path.join(TOP, "ci", "buildbot", "night.py"), "bisect", "--config",
                        os.path.join(tmp, "night.json"), "--night", "2020-02-02"], capture_output=True, text=True)
    ok(r.returncode == 0 and "culprit: " + bad[:12] in r.stdout, "night.py bisect: the culprit in the summary",
       r.stdout, r.stderr)
    with open(os.path.join(tmp, "res", "nights", "2020-02-02", "git", "bisect", "vm_a", "argv.json")) as f:
        argv = json.load(f)
    ok({"GOOD=" + good, "BAD=" + bad, "TESTS=suites/vm/a.c"} <= set(argv), "night.py bisect: between the nights' commits", argv)
    with open(os.path.join(tmp, "res", "nights", "2020-02-02", "compare.json")) as f:
        d = json.load(f)["kernels"][0]["new_failure_details"]
    ok(d and d[0]["culprit"] and d[0]["culprit"]["commit"] == bad, "night.py bisect: the culprit in compare.json", d)
    ok(g("status", "--porcelain") == "" and len(g("worktree", "list").splitlines()) == 1,
       "night.py bisect: the kernel's repository untouched")
    load(base)

    # master.cfg loads with this config (Buildbot's own check)
    if os.access("/usr/bin/buildbot", os.X_OK):
        m = os.path.join(tmp, "master")
        os.makedirs(m)
        os.symlink(os.path.join(TOP, "ci", "buildbot", "master.cfg"), os.path.join(m, "master.cfg"))
        r = subprocess.run(["/usr/bin/buildbot", "checkconfig", m], capture_output=True, text=True,
                           env=dict(os.environ, VKCI_NIGHT_CONFIG=os.path.join(tmp, "night.json")))
        ok(r.returncode == 0, "buildbot checkconfig accepts master.cfg", r.stdout, r.stderr)
        bad = dict(base, buildbot=dict(base["buildbot"], workers=["w1", "w3"]))
        load(bad)
        r = subprocess.run(["/usr/bin/buildbot", "checkconfig", m], capture_output=True, text=True,
                           env=dict(os.environ, VKCI_NIGHT_CONFIG=os.path.join(tmp, "night.json")))
        ok(r.returncode != 0 and "no password for worker(s) w3" in r.stdout + r.stderr,
           "a bad config stops the master with the same message", r.stdout[-600:], r.stderr[-600:])
    else:
        ok(False, "buildbot is installed (ci/deps.sh buildbot)")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
done()
