#!/usr/bin/env python3
"""ci/kselftest.py and ci/report.py on a made-up run (no build, no boot): the
expected-outcomes file (outcomes, alternatives, config=, xfail reasons) turns
into the metadata lines vkci exec reads, `check` passes a run that matches and
names every program that does not, summary.json counts expected failures as
xfail and keeps a crash a crash, and a test skipped without booting (no
result.json) still counts. Prints TAP. Standard library only."""
import json
import os
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "harness", "t"))
from taplib import done, is_, ok  # noqa: E402
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(TOP, "ci"))
import kselftest  # noqa: E402

tmp = tempfile.mkdtemp(prefix="vkci-ksft-t.")
exp = os.path.join(tmp, "expected.txt")
with open(exp, "w") as f:
    f.write("# comment\n"
            "t/a pass\n"
            "t/b skip\n"
            "t/c xfail UML has no such thing\n"
            "t/d pass|fail latency on a loaded host\n"
            "t/e skip config=FUSE_FS needs /dev/fuse\n"
            "t/f xfail timeout=60 config=A_B hangs on UML\n")
e = kselftest.expected_outcomes(exp)
is_(e["t/c"], (["xfail"], "UML has no such thing", "", None), "expected: xfail with its reason")
is_(e["t/f"], (["xfail"], "hangs on UML", "A_B", 60), "expected: timeout= and config= in any order")
is_(e["t/d"][0], ["pass", "fail"], "expected: alternatives")
is_(e["t/e"], (["skip"], "needs /dev/fuse", "FUSE_FS", None), "expected: config= before the reason")


def run(outcomes, quarantined=(), no_boot=()):
    out = tempfile.mkdtemp(dir=tmp)
    for name, o in outcomes.items():
        d = os.path.join(out, "logs", "kselftest", name)
        os.makedirs(d)
        with open(os.path.join(d, "result.json"), "w") as f:
            json.dump({"format": "vkci-result/2", "test": "kselftest/" + name, "outcome": o, "exit_status": 0 if o in ("pass", "skip") else 1,
                       "quarantined": name in quarantined, "reason": None}, f)
    for name in no_boot:
        # a config= skip: vkci exec records it without booting (record_skip)
        d = os.path.join(out, "logs", "kselftest", name)
        os.makedirs(d)
        with open(os.path.join(d, "result.json"), "w") as f:
            json.dump({"format": "vkci-result/2", "test": "kselftest/" + name, "outcome": "skip", "exit_status": 0,
                       "planned": 0, "quarantined": False,
                       "reason": "the kernel lacks CONFIG_FUSE_FS (add CONFIG_FUSE_FS=y to a config fragment)"}, f)
    with open(os.path.join(out, "kselftest.meta"), "w") as f:
        f.write("kselftest/t/c timeout=45 xfail=UML has no such thing\n")
    return out


def check(out):
    r = subprocess.run([sys.executable, os.path.join(TOP, "ci", "kselftest.py"), "check", "--expected", exp, out],
                       capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


good = run({"t/a": "pass", "t/b": "skip", "t/c": "fail", "t/d": "fail", "t/f": "fail"}, quarantined={"t/c", "t/f"},
           no_boot=["t/e"])
rc, text = check(good)
is_(rc, 0, "check: a run as expected passes")
ok("1/2/2/0 (+1 either)" in text and "1/2/2/1" in text, "check: counts per target side by side", text)
bad = run({"t/a": "skip", "t/b": "skip", "t/c": "pass", "t/d": "crash"})
rc, text = check(bad)
is_(rc, 1, "check: a run that differs fails")
for want in ("t/a: expected pass, got skip", "t/c: expected xfail, got pass", "t/d: expected pass|fail, got crash",
             "t/e: expected skip, got (did not run)"):
    ok(want in text, "check names " + want, text)

r = subprocess.run([sys.executable, os.path.join(TOP, "ci", "report.py"), good], capture_output=True, text=True)
s = json.load(open(os.path.join(good, "summary.json")))
is_(s["suites"]["kselftest"]["summary"]["xfail"], 1, "summary.json: an expected failure counts as xfail")
is_(s["suites"]["kselftest"]["tests"]["t/c"]["expected_failure"], "UML has no such thing", "summary.json: with its reason")
is_(s["suites"]["kselftest"]["tests"]["t/e"]["outcome"], "skip", "summary.json: a skip recorded without a boot counts")
ok("1 expected failures" in r.stdout and "expected failure: kselftest/t/c: UML has no such thing" in r.stdout,
   "report.py names the expected failure", r.stdout)
crash = run({"t/c": "crash"}, quarantined={"t/c"})
subprocess.run([sys.executable, os.path.join(TOP, "ci", "report.py"), crash], capture_output=True)
s = json.load(open(os.path.join(crash, "summary.json")))
is_(s["suites"]["kselftest"]["summary"]["crash"], 1, "summary.json: an expected failure that crashes is a crash")
done()
