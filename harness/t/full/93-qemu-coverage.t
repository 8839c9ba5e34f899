#!/usr/bin/env python3
"""make coverage BACKEND=qemu for real (make check-full): the QEMU coverage
variant (CONFIG_GCOV_KERNEL) of the default source, two vm tests whose
instances send their debugfs gcov trees over the record channel, and the
lcov report built from them: total.info names the kernel's sources relative
to the build, the boot's and the tests' lines are counted, and a line only
the mremap test runs (mm/mremap.c) is hit. TAP."""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
import lib  # noqa: E402
from taplib import done, ok  # noqa: E402

if not shutil.which("qemu-system-x86_64"):
    print("1..0 # SKIP qemu-system-x86_64 missing (make deps BACKEND=qemu installs it)")
    sys.exit(0)
lib.source()
out = tempfile.mkdtemp(prefix="vkci-qcov.")
try:
    r = lib.make("coverage", "BACKEND=qemu", "TESTS=suites/vm/mremap.c suites/vm/mmap_anon.c", "OUT=" + out, "JOBS=2")
    ok(r.returncode == 0, "make coverage BACKEND=qemu: exit 0", r.stdout[-1500:], r.stderr[-1500:])
    total = os.path.join(out, "coverage", "total.info")
    files, hits = {}, {}
    sf = None
    if os.path.isfile(total):
        with open(total, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("SF:"):
                    sf = line[3:].strip()
                    files[sf] = 0
                elif line.startswith("DA:") and sf:
                    n = line[3:].split(",")
                    if len(n) >= 2 and n[1].strip().isdigit() and int(n[1]) > 0:
                        files[sf] += 1
    ok(len(files) > 500, f"total.info: {len(files)} source files of the kernel", total)
    mremap = [f for f in files if f.endswith("mm/mremap.c")]
    ok(mremap and files[mremap[0]] > 0, "mm/mremap.c: lines run (the mremap test, in a QEMU guest)",
       mremap and files[mremap[0]])
    ok(not any(f.startswith("/sys/kernel/debug") for f in files),
       "paths are the kernel's sources, not the guest's debugfs")
    ok(os.path.isfile(os.path.join(out, "coverage", "html", "index.html")), "the HTML report is there")
    hit = sum(1 for v in files.values() if v)
    ok(hit > 100, f"{hit} files with lines run (boot and tests)")
finally:
    shutil.rmtree(out, ignore_errors=True)
done()
