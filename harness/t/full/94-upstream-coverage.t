#!/usr/bin/env python3
"""make coverage with the kernel's own tests, for real (make check-full): a
kselftest target and two KUnit suites on the coverage variant with KUnit
(`--variant coverage-kunit`: its own cold build the first time), one
instance per kselftest program and per KUnit suite (PER_TEST=1). Each kind
gets its row in the summary with lines of its own beyond the boot's, and
the per-test index names the program or suite that ran a line only it runs
(fs/open.c's close_range(2) for kselftest/core/close_range_test;
lib/list-test.c for kunit/list-kunit-test). TAP."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
import lib  # noqa: E402
from taplib import done, ok  # noqa: E402

src = lib.source()
out = tempfile.mkdtemp(prefix="vkci-ucov.")
try:
    r = lib.make("coverage", "SUITES=kselftest:core kunit:list-kunit-test,example", "PER_TEST=1",
                 "OUT=" + out, "JOBS=2")
    ok(r.returncode == 0, "make coverage SUITES=\"kselftest:core kunit:...\" PER_TEST=1: exit 0",
       r.stdout[-1500:], r.stderr[-1500:])
    rows = {m.group(1): (int(m.group(2)), int(m.group(3) or 0))
            for m in re.finditer(r"^(\w+) +lines +[0-9.]+% \((\d+) of \d+\).*?(?:only it: (\d+) lines)?$",
                                 r.stdout, re.M)}
    boot = rows.get("boot", (0, 0))[0]
    for kind in ("kselftest", "kunit"):
        n, only = rows.get(kind, (0, 0))
        ok(n > boot and only > 0, f"summary: {kind} runs {n} lines (the boot {boot}), {only} that only it runs",
           r.stdout[-800:])

    def who(where):
        w = subprocess.run([sys.executable, os.path.join(lib.TOP, "ci", "coverage.py"), "who", where,
                            "--out", os.path.join(out, "coverage")], capture_output=True, text=True)
        return w.stdout.split(), w.stderr

    def first_line(path, pattern):
        with open(os.path.join(src, path), encoding="utf-8", errors="replace") as f:
            for i, line in enumerate(f, 1):
                if re.search(pattern, line):
                    return i
        return 0

    # the first lines with code after close_range's definition
    n = first_line("fs/open.c", r"^SYSCALL_DEFINE3\(close_range,")
    names, err = set(), ""
    for k in range(n, n + 6):
        t, e = who(f"fs/open.c:{k}")
        names |= set(t)
        err = err or e
    ok("kselftest/core/close_range_test" in names, "who: close_range(2) was run by kselftest/core/close_range_test",
       sorted(names), err)
    n = first_line("lib/list-test.c", r"^static void list_test_list_init\(")
    names = set()
    for k in range(n, n + 12):
        names |= set(who(f"lib/list-test.c:{k}")[0])
    ok(names == {"kunit/list-kunit-test"}, "who: lib/list-test.c's lines were run by kunit/list-kunit-test only",
       sorted(names))
    with open(os.path.join(out, "summary.json")) as f:
        s = json.load(f)
    ok(s["suites"].get("kunit", {}).get("tests", {}).get("list-kunit-test", {}).get("outcome") == "pass",
       "the KUnit suite passed on the coverage kernel")
finally:
    shutil.rmtree(out, ignore_errors=True)
done()
