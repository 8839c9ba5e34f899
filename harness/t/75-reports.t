#!/usr/bin/python3
"""The run reports on a real run with every kind of result: passes, a failure,
a skip, a crash, a flaky test (fails on its first boot only, through the fake
kernel wrapper harness/t/fake/flaky-kernel) and a quarantined failure, with
RETRIES=1, through prove --exec 'vkci exec' as make check runs it. Checks
result.json (fields and types), summary.json (counts, crash groups),
junit.xml (TAP::Formatter::JUnit's XML: suites, failures), the TAP archive
(read back by TAP::Harness::Archive) and merging two shards. Prints TAP."""
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "harness", "t"))
from taplib import done, is_, ok  # noqa: E402
VKCI = os.environ.get("VKCI", os.path.join(TOP, "harness", "vkci"))
BUILD = os.environ.get("VKCI_BUILD", os.path.join(TOP, "build"))
KERNEL = os.environ.get("VKCI_KERNEL")
IMAGE = os.environ.get("VKCI_IMAGE", os.path.join(TOP, "build", "image", "base.img"))
PAYLOAD = os.path.join(BUILD, "t", "payload.img")
if not KERNEL or not os.path.exists(KERNEL) or not os.path.exists(PAYLOAD):
    print("1..0 # SKIP no vkernel or test payload (make test sets them)")
    sys.exit(0)
if subprocess.run(["perl", "-MTAP::Formatter::JUnit", "-e1"], capture_output=True).returncode:
    print("1..0 # SKIP TAP::Formatter::JUnit missing (apt-get install libtap-formatter-junit-perl)")
    sys.exit(0)


GUESTS = ["pass", "fail", "skip", "panic", "flaky", "segv"]
TESTS = [f"harness/t/guest/{g}.c" for g in GUESTS]
EXPECT = {"pass": "pass", "fail": "fail", "skip": "skip", "panic": "crash", "flaky": "flaky",
          "segv": "quarantined"}
tmp = tempfile.mkdtemp(prefix="vkci-reports.")
quarantine = os.path.join(tmp, "quarantine.txt")
with open(quarantine, "w") as f:
    f.write("# known flaky\nsuites/guest/segv.c\n")


def run(out, tests, counter):
    """One make-check-like run into out; returns prove's exit status."""
    os.makedirs(os.path.join(out, "tap"), exist_ok=True)
    env = dict(os.environ, VKCI_KERNEL=os.path.join(TOP, "harness", "t", "fake", "flaky-kernel"),
               VKCI_T_REAL_KERNEL=KERNEL, VKCI_T_FLAKY_COUNTER=counter,
               VKCI_IMAGE=IMAGE, VKCI_PAYLOAD=PAYLOAD, VKCI_LOG_DIR=os.path.join(out, "logs"),
               VKCI_RUNDIR=os.path.join(tmp, "run"), VKCI_RETRIES="1", VKCI_QUARANTINE=quarantine,
               PERL_TEST_HARNESS_DUMP_TAP=os.path.join(out, "tap"))
    archive = []
    if subprocess.run(["perl", "-MTAP::Harness::Archive", "-e1"], capture_output=True).returncode == 0:
        archive = ["--archive", os.path.join(out, "tap")]
    r = subprocess.run(["prove", "-j4", "--state=save", "--statefile", os.path.join(out, "prove-state"),
                        "--exec", VKCI + " exec"] + archive + tests,
                       cwd=TOP, env=env, capture_output=True, text=True)
    return r


try:
    out = os.path.join(tmp, "out")
    r = run(out, TESTS, os.path.join(tmp, "counter"))
    ok(r.returncode != 0, "prove fails the run (a failure and a crash)", r.stdout[-2000:])
    rep = subprocess.run([sys.executable, os.path.join(TOP, "ci", "report.py"), out],
                         capture_output=True, text=True)
    is_(rep.returncode, 0, "report.py succeeds")
    ok("1 flaky, 1 quarantined" in rep.stdout, "report.py's paragraph counts flaky and quarantined apart",
       rep.stdout)

    # result.json: the fields, their types, the instance metadata
    types = {"test": str, "outcome": str, "exit_status": int, "tests": dict, "start_unix_ms": int,
             "duration_ms": int, "kernel": str, "image": str, "nodes": int, "mem_bytes": int,
             "timeout_s": int, "console_log": str, "serial_log": str, "flaky": bool,
             "quarantined": bool, "attempt": int, "attempts": list}
    res = {}
    for g in GUESTS:
        with open(os.path.join(out, "logs", "guest", g, "result.json")) as f:
            res[g] = json.load(f)
    bad = [(g, k) for g in GUESTS for k, t in types.items() if not isinstance(res[g].get(k), t)]
    is_(bad, [], "result.json: every field present with its type (test, outcome, timings, kernel, image, attempts ...)")
    is_({g: res[g]["outcome"] for g in GUESTS},
        {"pass": "pass", "fail": "fail", "skip": "skip", "panic": "crash", "flaky": "flaky", "segv": "fail"},
        "result.json: the outcome of each test")
    ok(res["flaky"]["flaky"] is True and res["flaky"]["exit_status"] == 0 and
       [a["exit_status"] for a in res["flaky"]["attempts"]] == [1, 0],
       "result.json: the flaky test failed attempt 1, passed attempt 2", res["flaky"])
    ok(os.path.exists(os.path.join(out, "logs", "guest", "flaky", "attempt1", "console.log")) and
       res["flaky"]["attempts"][0]["log_dir"].endswith("guest/flaky/attempt1"),
       "the failed attempt's logs are kept in attempt1/")
    is_([a["exit_status"] for a in res["fail"]["attempts"]], [1, 1], "a real failure is retried and fails twice")
    ok(res["panic"]["crash_fingerprint"] and
       res["panic"]["attempts"][0].get("crash_fingerprint") == res["panic"]["crash_fingerprint"],
       "the crash has a fingerprint, the same on both attempts", res["panic"])
    ok(res["segv"]["quarantined"] is True and res["segv"]["exit_status"] == 1,
       "result.json: the quarantined failure says quarantined, with the test's real exit status")
    ok(all(res[g]["kernel"].endswith("flaky-kernel") and res[g]["image"] == os.path.abspath(IMAGE)
           for g in GUESTS), "result.json names the kernel and the image")

    # TAP as prove saw it
    with open(os.path.join(out, "tap", "harness", "t", "guest", "flaky.c")) as f:
        tap = f.read()
    ok("# vkci: flaky: failed attempt 1 (flaky: this boot was told to fail), passed attempt 2" in tap
       and "\nok 2 - flaky: this boot passes" in tap and "#   not ok 2" in tap,
       "TAP: the flaky test prints the passing attempt and the failed one as diagnostics", tap)
    with open(os.path.join(out, "tap", "harness", "t", "guest", "segv.c")) as f:
        tap = f.read()
    ok("# TODO quarantined" in tap, "TAP: the quarantined failure is a TODO", tap)
    ok("guest/segv.c" not in r.stdout.split("Test Summary Report")[-1] and
       "guest/flaky.c" not in r.stdout.split("Test Summary Report")[-1],
       "prove counts neither the flaky nor the quarantined test as failed", r.stdout[-1500:])

    # summary.json
    with open(os.path.join(out, "summary.json")) as f:
        summ = json.load(f)
    is_(summ["summary"], {"pass": 1, "fail": 1, "skip": 1, "crash": 1, "infra": 0, "flaky": 1,
                          "quarantined": 1}, "summary.json: one test in each bucket")
    is_(summ["suites"]["guest"]["summary"], summ["summary"], "summary.json: suite -> counts")
    is_(sorted(summ["suites"]["guest"]["tests"]), sorted(GUESTS), "summary.json: suite -> tests")
    is_(summ["tests"], 6, "summary.json: total tests")
    g = summ["crash_groups"]
    ok(len(g) == 1 and g[0]["fingerprint"] == res["panic"]["crash_fingerprint"] and
       g[0]["tests"] == ["guest/panic", "guest/panic (attempt 1)"],
       "summary.json: one crash group, the crash on both attempts", g)
    ok(len(g) == 1 and (res["panic"].get("crash_title") or "").startswith("kernel panic: sysrq triggered crash")
       and g[0].get("title") == res["panic"]["crash_title"],
       "result.json and the crash group carry the crash title", g)
    with open(os.path.join(out, "junit.xml"), encoding="utf-8") as f:
        ok("crash title: kernel panic: sysrq triggered crash" in f.read(), "junit.xml carries the crash title")

    # junit.xml: TAP::Formatter::JUnit's shape
    root = ET.parse(os.path.join(out, "junit.xml")).getroot()
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    is_(root.tag, "testsuites", "junit.xml: a <testsuites> document")
    is_(len(suites), 6, "junit.xml: one <testsuite> per test file")
    bad = {name: int(s.get("failures", 0)) + int(s.get("errors", 0)) for name, s in suites.items()}
    failing = sorted(k for k, v in bad.items() if v)
    ok(len(failing) == 2 and any("fail" in k for k in failing) and any("panic" in k for k in failing),
       "junit.xml: exactly the failure and the crash have failures/errors", bad)
    ok(sum(1 for _ in root.iter("testcase")) >= 8, "junit.xml: test cases from the TAP lines")

    # the archive
    with tarfile.open(os.path.join(out, "archive.tar.gz")) as tar:
        names = sorted(tar.getnames())
    ok("meta.yml" in names and sum(nm.endswith(".c") for nm in names) == 6,
       "archive.tar.gz: meta.yml and the 6 TAP files", names)
    if subprocess.run(["perl", "-MTAP::Harness::Archive", "-e1"], capture_output=True).returncode == 0:
        pl = ("use TAP::Harness::Archive; my $a = TAP::Harness::Archive->aggregator_from_archive("
              "{archive => $ARGV[0]}); printf \"%d %d %d\\n\", scalar($a->descriptions), "
              "scalar($a->failed), scalar($a->todo);")
        got = subprocess.run(["perl", "-e", pl, os.path.join(out, "archive.tar.gz")],
                             capture_output=True, text=True).stdout.split()
        is_(got[:2], ["6", "2"], "TAP::Harness::Archive reads the archive back: 6 files, 2 failed")
    else:
        ok(True, "# SKIP TAP::Harness::Archive not installed")

    # shards: two runs, merged, give the same report
    sched = [sys.executable, os.path.join(TOP, "ci", "schedule.py")]
    parts = []
    for i in (1, 2):
        mine = subprocess.run(sched + ["--shard", f"{i}/2"] + TESTS, capture_output=True,
                              text=True).stdout.split()
        parts.append(mine)
        sout = os.path.join(tmp, f"out-{i}")
        run(sout, mine, os.path.join(tmp, f"counter-{i}"))
        subprocess.run([sys.executable, os.path.join(TOP, "ci", "report.py"), sout], capture_output=True)
        os.makedirs(os.path.join(sout, "coverage"))
        with open(os.path.join(sout, "coverage", "total.info"), "w") as f:
            f.write(f"TN:\nSF:/nonexistent/x.c\nDA:1,{i - 1}\nDA:{i + 1},1\nLF:2\nLH:{i}\nend_of_record\n")
    ok(sorted(parts[0] + parts[1]) == sorted(TESTS) and not set(parts[0]) & set(parts[1]),
       "schedule.py: the two shards are disjoint and cover every test", parts)
    merged = os.path.join(tmp, "merged")
    m = subprocess.run([sys.executable, os.path.join(TOP, "ci", "report.py"), "--merge",
                        os.path.join(tmp, "out-1"), os.path.join(tmp, "out-2"), "-o", merged],
                       capture_output=True, text=True)
    is_(m.returncode, 0, "report.py --merge succeeds")
    with open(os.path.join(merged, "summary.json")) as f:
        msum = json.load(f)
    is_(msum["summary"], summ["summary"], "merged summary.json: the same counts as the unsharded run")
    mroot = ET.parse(os.path.join(merged, "junit.xml")).getroot()
    is_(sum(1 for _ in mroot.iter("testsuite")), 6, "merged junit.xml: all 6 test files")
    with tarfile.open(os.path.join(merged, "archive.tar.gz")) as tar:
        is_(sum(nm.endswith(".c") for nm in tar.getnames()), 6, "merged archive: all 6 TAP files")
    with open(os.path.join(merged, "prove-state")) as f:
        st = f.read()
    is_(sum(f"  harness/t/guest/{g}.c:" in st for g in GUESTS), 6, "merged prove-state: all 6 tests' durations")
    info = os.path.join(merged, "coverage", "total.info")
    if shutil.which("lcov"):
        with open(info) as f:
            cov = f.read()
        ok("DA:1,1" in cov and "DA:2,1" in cov and "DA:3,1" in cov,
           "merged coverage: lcov -a adds the shards' tracefiles", cov)
    else:
        ok(True, "# SKIP lcov not installed")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
done()
