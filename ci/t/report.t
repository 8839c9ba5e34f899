#!/usr/bin/env python3
"""ci/report.py's subtests, on recorded runs (ci/t/data/report): from
result.json's "subtests" (vkci-result/2; the fixtures' lists are what
harness/tap.c makes of their TAP: plain TAP, KTAP nesting with children
before their parent, a whole-test skip, a crash); their counts in
summary.json per test, suite and total; junit.xml with a <testcase> per
nested subtest and <skipped> for skips and TODOs. TAP."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "harness", "t"))
sys.path.insert(0, os.path.join(TOP, "ci"))
from taplib import done, is_, ok  # noqa: E402
import report  # noqa: E402

DATA = os.path.join(TOP, "ci", "t", "data", "report")

tmp = tempfile.mkdtemp(prefix="vkci-report.")
try:
    out = os.path.join(tmp, "out")
    shutil.copytree(DATA, out)
    r = subprocess.run([sys.executable, os.path.join(TOP, "ci", "report.py"), out],
                       capture_output=True, text=True)
    is_(r.returncode, 0, "report.py succeeds on the recorded run")
    ok("subtests: 21 passed, 5 failed, 3 skipped, 2 todo" in r.stdout,
       "its paragraph counts the subtests", r.stdout, r.stderr)
    with open(os.path.join(out, "summary.json")) as f:
        s = json.load(f)
    t = {f"{su}/{n}": v for su, sd in s["suites"].items() for n, v in sd["tests"].items()}

    m = t["vm/mremap"]
    is_((m["plan"], m["subtest_counts"]), (12, {"pass": 11, "fail": 0, "skip": 1, "todo": 0}),
        "subtests from result.json (11 passed, the skip counted)")
    is_(m["subtests"][11], {"id": "12", "name": "MREMAP_DONTUNMAP not supported by this kernel",
                            "outcome": "skip"}, "a skip's subtest carries its reason as its name")
    is_(m["subtests"][3]["name"], "with MREMAP_MAYMOVE it moves (0x40000000 -> 0x40009000)",
        "names are the TAP descriptions without the dash")

    k = t["vm/kunit_demo"]
    is_((k["plan"], len(k["subtests"])), (2, 7), "vkci-result/2: subtests and plan from result.json")
    is_(k["subtest_counts"], {"pass": 3, "fail": 2, "skip": 1, "todo": 1}, "nested subtests counted")

    n = t["net/nested"]
    is_([(x["id"], x["outcome"]) for x in n["subtests"]],
        [("1.1", "pass"), ("1.2", "todo"), ("1", "pass"), ("2.1", "pass"), ("2.2.1", "pass"),
         ("2.2", "fail"), ("2.3", "skip"), ("2", "fail"), ("3", "pass")],
        "KTAP: children (printed before their parent) carry the parent's id; three levels")
    is_(n["subtests"][2]["name"], "udp", "KTAP result without a dash: the name is the rest")

    sk = t["fs/skipped"]
    is_((sk["subtests"], sk["plan"], sk["subtest_counts"]["skip"]), ([], 0, 0),
        "a test skipped as a whole: plan 0, no subtests")
    c = t["net/crashed"]
    is_((c["plan"], [x["outcome"] for x in c["subtests"]]), (5, ["pass", "pass", "fail"]),
        "a crash: the test's own plan (result.json), vkci's not ok line a failed subtest")

    is_(s["subtests"], {"pass": 21, "fail": 5, "skip": 3, "todo": 2}, "summary.json: subtests in total")
    is_(s["suites"]["vm"]["subtests"], {"pass": 14, "fail": 2, "skip": 2, "todo": 1},
        "summary.json: subtests per suite")

    # junit.xml: what TAP::Formatter::JUnit leaves out is added
    if subprocess.run(["perl", "-MTAP::Formatter::JUnit", "-e1"], capture_output=True).returncode == 0:
        root = ET.parse(os.path.join(out, "junit.xml")).getroot()
        ts = {x.get("name"): x for x in root.iter("testsuite")}
        mr = ts["suites_vm_mremap_c"]
        sk12 = [tc for tc in mr.iter("testcase") if tc.find("skipped") is not None]
        ok(mr.get("skipped") == "1" and len(sk12) == 1 and sk12[0].get("name").startswith("12") and
           "MREMAP_DONTUNMAP" in sk12[0].find("skipped").get("message"),
           "junit.xml: the skipped subtest has <skipped> with its reason, skipped=1",
           ET.tostring(mr, encoding="unicode")[:1500])
        ne = ts["suites_net_nested_c"]
        names = [tc.get("name") for tc in ne.iter("testcase")]
        ok("2.2 - accept" in names and "2.2.1 - deep one" in names and "1.1 - bind" in names,
           "junit.xml: nested subtests are test cases of their own", names)
        fails = [tc.get("name") for tc in ne.iter("testcase") if tc.find("failure") is not None]
        ok("2.2 - accept" in fails and ne.get("skipped") == "2", "junit.xml: a nested failure is a <failure>; "
           "the nested skip and TODO are skipped", fails, ne.get("skipped"))
        sk = ts["suites_fs_skipped_c"]
        ok(sk.get("skipped") == "1" and "CONFIG_TMPFS_XATTR" in ET.tostring(sk, encoding="unicode"),
           "junit.xml: a test skipped as a whole has one skipped case with the reason")
    else:
        ok(True, "# SKIP TAP::Formatter::JUnit missing")
        ok(True, "# SKIP TAP::Formatter::JUnit missing")
        ok(True, "# SKIP TAP::Formatter::JUnit missing")
        ok(True, "# SKIP TAP::Formatter::JUnit missing")

finally:
    shutil.rmtree(tmp, ignore_errors=True)
done()
