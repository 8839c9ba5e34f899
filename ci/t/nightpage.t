#!/usr/bin/env python3
"""ci/nightpage.py on the two recorded nights (ci/t/data/nights) plus what
a night adds: a result.json with a crash title and logs for the new
failure, a bisected culprit and a subtest regression in compare.json (the
shape ci/bisect.py writes). The pages list the new failure first with its
crash title, log links and culprit; every link resolves to an existing file
and none points at a missing one; the plots are there; Debian's headless
Chromium renders both pages with no console message (and does report one on
a planted broken page: the check can fail). TAP."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "harness", "t"))
sys.path.insert(0, os.path.join(TOP, "ci", "t"))
from taplib import done, ok  # noqa: E402
import pagecheck  # noqa: E402

tmp = tempfile.mkdtemp(prefix="vkci-page.")
try:
    res = os.path.join(tmp, "res")
    shutil.copytree(os.path.join(TOP, "ci", "t", "data"), res)
    n2 = os.path.join(res, "nights", "2025-01-02")
    logs = os.path.join(n2, "debian", "out", "logs", "vm", "mremap")
    os.makedirs(logs)
    for f in ("console.log", "serial.log"):
        with open(os.path.join(logs, f), "w") as fh:
            fh.write("log\n")
    with open(os.path.join(logs, "result.json"), "w") as fh:
        json.dump({"format": "vkci-result/2", "test": "vm/mremap", "outcome": "fail",
                   "crash_title": "WARNING in move_page_tables", "reason": "not ok 3"}, fh)
    with open(os.path.join(n2, "debian", "bisect.log"), "w") as fh:
        fh.write("bisect\n")
    for night in ("2025-01-01", "2025-01-02"):
        r = subprocess.run([sys.executable, os.path.join(TOP, "ci", "nightly.py"), "compare", "--results", res,
                            "--night", night], capture_output=True, text=True)
        ok(r.returncode in (0, 1) and "page: " in r.stderr, f"nightly.py compare writes the page of {night}",
           r.stderr)
    # what ci/bisect.py adds to compare.json, then the page again
    cpath = os.path.join(n2, "compare.json")
    with open(cpath) as fh:
        c = json.load(fh)
    deb = [k for k in c["kernels"] if k["kernel"] == "debian"][0]
    deb["culprits"] = {"vm/mremap": {"commit": "0123456789abcdef0123", "subject": "mm: break mremap",
                                     "test": "vm/mremap", "reason": "not ok 3",
                                     "crash_title": "WARNING in move_page_tables",
                                     "log": os.path.join(n2, "debian", "bisect.log")}}
    deb["subtest_regressions"] = [{"test": "vm/mremap", "subtest": "3", "name": "MREMAP_DONTUNMAP",
                                   "was": "pass", "now": "skip"}]
    with open(cpath, "w") as fh:
        json.dump(c, fh)
    r = subprocess.run([sys.executable, os.path.join(TOP, "ci", "nightpage.py"), "--results", res],
                       capture_output=True, text=True)
    ok(r.returncode == 0, "nightpage.py: exit 0", r.stderr)
    page = os.path.join(n2, "index.html")
    index = os.path.join(res, "nights", "index.html")
    with open(page) as fh:
        text = fh.read()
    ok(text.find("vm/mremap") < text.find("id='kernels'") and text.find("id='new'") < text.find("vm/mremap"),
       "the new failure comes first, before the kernels' table")
    ok("WARNING in move_page_tables" in text, "its crash title is shown")
    ok("href='debian/out/logs/vm/mremap/console.log'" in text and
       "href='debian/out/logs/vm/mremap/result.json'" in text, "links to its console log and result.json")
    ok("0123456789ab" in text and "mm: break mremap" in text and "href='debian/bisect.log'" in text,
       "the culprit: commit, subject, bisect log")
    ok("MREMAP_DONTUNMAP" in text, "the subtest regression is listed")
    ok("net/udp_echo" in text and "fs/mount_ro" in text and "vm/fork_cow" in text,
       "still failing, fixed and flaky are listed")
    ok("<script" not in text and "<script" not in open(index).read(), "no JavaScript")
    ok("junit.xml" not in text and "net/udp_echo/console.log" not in text,
       "no link to a file the night does not have (junit.xml, the crash's logs)")
    for p in (page, index):
        bad = pagecheck.bad_links(p)
        ok(not bad, f"{os.path.relpath(p, res)}: every link resolves to an existing file", bad)
        pc = pagecheck.parse(p)
        ok(pc.svgs == ["pass rate", "run time", "line coverage"], f"{os.path.relpath(p, res)}: the three plots",
           pc.svgs)
        ok(pc.points >= 5 and pc.polylines >= 3, f"{os.path.relpath(p, res)}: plots drawn over both nights",
           pc.points, pc.polylines)
    ok("href='2025-01-02/index.html'" in open(index).read() and
       "href='2025-01-01/index.html'" in open(index).read(), "nights/index.html links each night's page")

    # Chromium: renders without a console message; a planted broken page is caught
    for p in (page, index):
        png = p + ".png"
        rc, console, err = pagecheck.chromium(p, png)
        size = pagecheck.png_size(png)
        ok(rc == 0 and size == (1200, 1400) and os.path.getsize(png) > 20000,
           f"chromium renders {os.path.relpath(p, res)} to a screenshot", rc, size, err[-800:])
        ok(not console, f"{os.path.relpath(p, res)}: no console message", *console)
    bad = os.path.join(tmp, "bad.html")
    with open(bad, "w") as fh:
        fh.write("<!DOCTYPE html><html><body><a href='nowhere.html'>x</a>"
                 "<script>console.error('planted')</script></body></html>")
    rc, console, err = pagecheck.chromium(bad, bad + ".png")
    ok(any("planted" in c for c in console), "a page with a console error is caught", err[-800:])
    ok(pagecheck.bad_links(bad) == ["nowhere.html"], "a link to a missing file is caught")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
done()
