#!/usr/bin/env python3
"""Patch coverage, `select` and `who` against a real coverage run (make test
builds the coverage kernel): two tests on the coverage vkernel (guest/pass
and guest/cov_mincore, which calls mincore(2) 1000 times), reported with
--per-test; then a git repository holding mm/mincore.c, whose newer end is
the measured file and whose older end lacks three of its lines, picked from
the measurement itself: one with code that cov_mincore executed, one with
code no test executed, one without code (a comment). `patch` must report
each as such, `select` must print exactly the tests whose own tracefile
executed a changed line (from the newer end, and from the older end for the
reversed range), fall back to every test for a file with no recorded
coverage, and `who` must say why it prints nothing. TAP."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "harness", "t"))
from taplib import done, is_, ok  # noqa: E402

VKCI = os.environ.get("VKCI", os.path.join(TOP, "harness", "vkci"))
BUILD = os.environ.get("VKCI_BUILD", os.path.join(TOP, "build"))
KERNEL = os.environ.get("VKCI_COVERAGE_KERNEL")
IMAGE = os.environ.get("VKCI_IMAGE", os.path.join(TOP, "build", "image", "base.img"))
PAYLOAD = os.path.join(BUILD, "t", "payload.img")
COV = [sys.executable, os.path.join(TOP, "ci", "coverage.py")]
if not KERNEL or not os.path.exists(KERNEL) or not os.path.exists(PAYLOAD):
    print("1..0 # SKIP no coverage kernel or test payload (VKCI_COVERAGE_KERNEL; make test builds them)")
    sys.exit(0)


def cov(*args, **kw):
    return subprocess.run(COV + list(args), capture_output=True, text=True, **kw)


def tracefile(path):
    """{source: {line: count}} of an lcov tracefile."""
    out, cur = {}, None
    with open(path) as f:
        for line in f:
            if line.startswith("SF:"):
                cur = out.setdefault(line[3:].strip(), {})
            elif line.startswith("DA:") and cur is not None:
                n, c = line[3:].split(",")[:2]
                cur[int(n)] = cur.get(int(n), 0) + int(c)
    return out


tmp = tempfile.mkdtemp(prefix="vkci-patchcov.")
try:
    raw = os.path.join(tmp, "raw")
    env = dict(os.environ, VKCI_RUNDIR=os.path.join(tmp, "run"))
    for t in ("pass", "cov_mincore"):
        r = subprocess.run([VKCI, "exec", "-k", KERNEL, "-i", IMAGE, "-p", PAYLOAD, "-g", raw, "guest/" + t],
                           capture_output=True, text=True, env=env)
        is_(r.returncode, 0, f"guest/{t} passed on the coverage kernel")
    out = os.path.join(tmp, "cov")
    r = cov("report", "--kernel", KERNEL, "--raw", raw, "--boot", os.path.join(raw, "guest", "pass"),
            "--out", out, "--per-test")
    is_(r.returncode, 0, "coverage.py report --per-test")
    with open(os.path.join(out, "index.json")) as f:
        index = json.load(f)
    src = index["source"]
    rel = "mm/mincore.c"
    total = tracefile(os.path.join(out, "total.info"))[os.path.join(src, rel)]
    per = {t: tracefile(os.path.join(out, "tests", t + ".info")).get(os.path.join(src, rel), {})
           for t in ("guest/pass", "guest/cov_mincore")}
    with open(os.path.join(src, rel)) as f:
        lines = f.read().split("\n")
    unique = {n for n in range(1, len(lines) + 1) if lines[n - 1].strip() and lines.count(lines[n - 1]) == 1}
    ran = [n for n in sorted(per["guest/cov_mincore"]) if per["guest/cov_mincore"][n] > 0 and n in unique
           and per["guest/cov_mincore"][n] > per["guest/pass"].get(n, 0)]
    unrun = [n for n in sorted(total) if total[n] == 0 and n in unique]
    comment = [n for n in sorted(unique) if n not in total and lines[n - 1].strip().startswith("/*")
               and lines[n - 1].strip().endswith("*/")]
    ok(ran and unrun and comment, "the measurement has a line cov_mincore ran, an instrumented line no test ran "
       "and a comment line in mm/mincore.c", ran[:3], unrun[:3], comment[:3])
    E, N, C = ran[len(ran) // 2], unrun[0], comment[-1]

    # a git repository: A lacks lines E, N, C of the measured file; B is the measured file
    repo = os.path.join(tmp, "linux")
    os.makedirs(os.path.join(repo, "mm"))
    g = lambda *a: subprocess.run(["git", "-C", repo, "-c", "user.name=t", "-c", "user.email=t@t"] + list(a),
                                  capture_output=True, text=True, check=True).stdout.strip()
    g("init", "-q", "-b", "main")
    with open(os.path.join(repo, rel), "w") as f:
        f.write("\n".join(l for i, l in enumerate(lines, 1) if i not in (E, N, C)))
    g("add", rel)
    g("commit", "-q", "-m", "A: older mincore")
    shutil.copyfile(os.path.join(src, rel), os.path.join(repo, rel))
    g("commit", "-q", "-a", "-m", "B: the measured mincore")
    os.makedirs(os.path.join(repo, "Documentation"))
    with open(os.path.join(repo, "Documentation", "vkci.txt"), "w") as f:
        f.write("not compiled\n")
    g("add", "Documentation/vkci.txt")
    g("commit", "-q", "-m", "C: a file no kernel compiles")

    # patch: the three lines, each for what it is
    r = cov("patch", "HEAD~2..HEAD~1", "--repo", repo, "--out", out)
    is_(r.returncode, 0, "patch HEAD~2..HEAD~1 succeeds", )
    with open(os.path.join(out, "patch.json")) as f:
        doc = json.load(f)
    fd = [x for x in doc["files"] if x["path"] == rel]
    got = {ld["line"]: ld for h in (fd[0]["hunks"] if fd else []) for ld in h["lines"]}
    ok(sorted(got) == sorted((E, N, C)), "patch: exactly the three added lines, numbered as in the newer end",
       sorted(got), (E, N, C))
    ok(got.get(E, {}).get("count") == total[E] and total[E] > 0, "patch: the executed line has its count (%d)" % total[E],
       got.get(E))
    ok(got.get(N, {}).get("count") == 0, "patch: the line no test ran is instrumented and not executed", got.get(N))
    ok(got.get(C, {}).get("count", "x") is None, "patch: the comment has no code", got.get(C))
    ok("guest/cov_mincore" in got.get(E, {}).get("tests", []), "patch: the executed line names the tests that ran it",
       got.get(E))
    is_((doc["totals"]["instrumented"], doc["totals"]["executed"], doc["totals"]["not_instrumented"]), (2, 1, 1),
        "patch: totals 2 lines with code, 1 executed, 1 without code")
    with open(os.path.join(out, "patch.txt")) as f:
        txt = f.read()
    ok(re.search(r"^\s+%d\s+NOT \|" % N, txt, re.M) and re.search(r"^\s+%d\s+%d \|" % (E, total[E]), txt, re.M)
       and re.search(r"^\s+%d\s+- \|" % C, txt, re.M), "patch.txt: count, NOT and - per line", txt)
    with open(os.path.join(out, "patch.html")) as f:
        page = f.read()
    ok(page.startswith("<!DOCTYPE html>") and "class='hit'" in page and "class='miss'" in page and
       "class='nocode'" in page and "html/mm/mincore.c.gcov.html#%d" % E in page,
       "patch.html: the hunks in source view, lines marked, linked to genhtml's page")
    r = cov("patch", "HEAD~1..HEAD", "--repo", repo, "--out", out)
    ok(r.returncode == 0 and "Documentation/vkci.txt: 1 changed line, no coverage data" in r.stdout,
       "patch: a file no kernel compiles is said to be so", r.stdout)

    # select: the tests whose own tracefile ran a changed line
    want = sorted("harness/t/" + t + ".c" for t, c in per.items() if any(c.get(n, 0) > 0 for n in (E, N, C)))
    r = cov("select", "HEAD~2..HEAD~1", "--repo", repo, "--out", out)
    ok(r.returncode == 0 and r.stdout.split() == want and "harness/t/guest/cov_mincore.c" in want,
       "select: exactly the tests that ran the changed lines, as make check TESTS= takes them", r.stdout, want)
    ok("no recorded test runs mm/mincore.c:%d" % N in r.stderr, "select: the changed line no test ran is named",
       r.stderr)
    r = cov("select", "HEAD~1..HEAD~2", "--repo", repo, "--out", out)
    ok(r.returncode == 0 and r.stdout.split() == want,
       "select: measured at the older end of the range (reversed): its removed lines pick the same tests",
       r.stdout, r.stderr)
    r = cov("select", "HEAD~1..HEAD", "--repo", repo, "--out", out)
    ok(sorted(r.stdout.split()) == ["harness/t/guest/cov_mincore.c", "harness/t/guest/pass.c"] and
       "every test: Documentation/vkci.txt (no recorded coverage)" in r.stderr,
       "select: a file with no recorded coverage falls back to every test, and says so", r.stdout, r.stderr)

    # who: the tests, or why none
    r = cov("who", "%s:%d" % (rel, E), "--out", out)
    ok(r.returncode == 0 and "guest/cov_mincore" in r.stdout.split(), "who: the tests that ran a line", r.stdout)
    r = cov("who", "%s:%d" % (rel, N), "--out", out)
    ok(r.returncode == 1 and "is instrumented but no test executed it" in r.stderr, "who: a line no test ran",
       r.stderr)
    r = cov("who", "%s:%d" % (rel, C), "--out", out)
    ok(r.returncode == 1 and "is not instrumented: no code on that line" in r.stderr, "who: a line without code",
       r.stderr)
    r = cov("who", "mm/no_such_file.c:1", "--out", out)
    ok(r.returncode == 1 and "has no coverage data: not compiled into the coverage kernel" in r.stderr,
       "who: a file the kernel does not compile", r.stderr)

    # errors
    r = cov("patch", "HEAD~1..HEAD", "--repo", tmp, "--out", out)
    ok(r.returncode == 2 and "is not a git tree (DIFF= needs KERNEL=<git tree>)" in r.stderr,
       "patch: not a git tree: exit 2", r.stderr)
    r = cov("patch", "HEAD~1..HEAD", "--repo", "", "--out", out)
    ok(r.returncode == 2 and "DIFF= needs KERNEL=<git tree>" in r.stderr and "default source is not a git tree"
       in r.stderr, "patch: no KERNEL at all: exit 2, says the default source is no git tree", r.stderr)
    r = cov("patch", "nope..HEAD", "--repo", repo, "--out", out)
    ok(r.returncode == 2 and "'nope' in range 'nope..HEAD' is not a commit" in r.stderr, "patch: a bad range: exit 2",
       r.stderr)
    r = subprocess.run(["make", "-s", "--no-print-directory", "coverage", "DIFF=HEAD~1..HEAD", "KERNEL=" + tmp,
                        "TESTS=suites/vm/mremap.c"], cwd=TOP, capture_output=True, text=True)
    ok(r.returncode != 0 and "DIFF= needs KERNEL=<git tree>" in r.stderr and not os.path.exists(
        os.path.join(tmp, "out")), "make coverage DIFF= with KERNEL not a git tree stops before building", r.stderr[-500:])
finally:
    shutil.rmtree(tmp, ignore_errors=True)
done()
