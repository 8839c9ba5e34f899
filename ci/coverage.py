#!/usr/bin/env python3
"""ci/coverage.py - turn the .gcda trees of a coverage run into lcov reports.

  coverage.py report --kernel K --raw DIR --boot DIR --out DIR [--per-test] [--jobs N]
  coverage.py who FILE:LINE [--out DIR]
  coverage.py count --kernel K --tree DIR FUNCTION   (executions of a kernel function in one tree)

`make coverage` runs every test on the coverage kernel with
`vkci exec --gcov-dir RAW`, so RAW/SUITE/TEST[/nodeK]/ holds each instance's
.gcda tree (relative to the kernel's build dir), and one do-nothing boot
under BOOT/. `report` then

  1. merges the trees of each suite with gcov-tool (a pairwise tree
     reduction, run on every CPU),
  2. captures each merged tree with gcov's JSON output (`gcov -j -t`, one
     gcov process per chunk of files, chunks in parallel) against the build
     dir's .gcno and the source tree, and writes lcov tracefiles
     (OUT/SUITE.info, OUT/boot.info, OUT/total.info; the format genhtml and
     `lcov -a/-l/--summary` read),
  3. runs genhtml once: OUT/html/index.html,
  4. prints lines and functions covered: boot only, each suite, all.

lcov's own capture (geninfo runs gcov once per .gcda and post-processes
its text output in Perl) takes ~60 s per tree here; the JSON route is the
same gcov data in a fraction of the time.

--per-test also keeps OUT/tests/SUITE/TEST.info and OUT/index.json: for each
source file and line, which tests executed it. `who FILE:LINE` answers from
that index. Standard library + Debian's gcc (gcov, gcov-tool) and lcov
(genhtml) only.
"""
import argparse
import concurrent.futures as cf
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


def die(msg, code=3):
    print("vkci: " + msg, file=sys.stderr)
    sys.exit(code)


def gcda_files(tree):
    out = []
    for root, dirs, files in os.walk(tree):
        dirs[:] = [d for d in dirs if not (root == tree and d.startswith("node"))]
        out += [os.path.relpath(os.path.join(root, f), tree) for f in files if f.endswith(".gcda")]
    return out


def instance_trees(raw, suite):
    """Every instance tree of a suite: RAW/SUITE/TEST and RAW/SUITE/TEST/nodeK."""
    trees = []
    sdir = os.path.join(raw, suite)
    for test in sorted(os.listdir(sdir)):
        t = os.path.join(sdir, test)
        if not os.path.isdir(t):
            continue
        trees.append(t)
        trees += [os.path.join(t, n) for n in sorted(os.listdir(t)) if n.startswith("node")]
    return [t for t in trees if gcda_files(t)]


def merge_pair(a, b, out):
    r = subprocess.run(["gcov-tool", "merge", a, b, "-o", out], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("gcov-tool merge %s %s failed: %s" % (a, b, r.stderr[-500:]))
    return out


def copy_tree_gcda(src, dst):
    for rel in gcda_files(src):
        os.makedirs(os.path.join(dst, os.path.dirname(rel)), exist_ok=True)
        shutil.copyfile(os.path.join(src, rel), os.path.join(dst, rel))
    return dst


def merge_trees(trees, work, pool):
    """Merge instance trees into one (pairwise reduction, in parallel)."""
    if not trees:
        return None
    level = []
    for i, t in enumerate(trees):   # node dirs nest in test dirs: copy each flat first
        level.append(pool.submit(copy_tree_gcda, t, os.path.join(work, "in%d" % i)))
    level = [f.result() for f in level]
    n = 0
    while len(level) > 1:
        futs = []
        for i in range(0, len(level) - 1, 2):
            n += 1
            futs.append(pool.submit(merge_pair, level[i], level[i + 1], os.path.join(work, "m%d" % n)))
        rest = level[-1:] if len(level) % 2 else []
        level = [f.result() for f in futs] + rest
    return level[0]


def gcov_json(build, tree, rels):
    """gcov's JSON for a chunk of .gcda files (one gcov process)."""
    with tempfile.TemporaryDirectory(prefix="vkci-gcov-") as tmp:
        args = []
        for rel in rels:
            gcno = os.path.join(build, rel[:-5] + ".gcno")
            if not os.path.exists(gcno):
                continue
            d = os.path.join(tmp, os.path.dirname(rel))
            os.makedirs(d, exist_ok=True)
            base = os.path.join(tmp, rel[:-5])
            shutil.copyfile(os.path.join(tree, rel), base + ".gcda")
            os.symlink(gcno, base + ".gcno")
            args.append(base + ".gcda")
        if not args:
            return []
        r = subprocess.run(["gcov", "-j", "-t", "-b"] + args, cwd=build, capture_output=True)
        docs = []
        for line in r.stdout.splitlines():
            line = line.strip()
            if line.startswith(b"{"):
                try:
                    docs.append(json.loads(line))
                except ValueError:
                    pass
        return docs


def capture(build, src, tree, pool, jobs):
    """{source file: {"lines": {n: count}, "funcs": {name: (line, count)}}}"""
    rels = sorted(gcda_files(tree))
    chunks = [rels[i::jobs * 4] for i in range(jobs * 4)]
    cov = {}
    for docs in pool.map(lambda c: gcov_json(build, tree, c), chunks):
        for doc in docs:
            for f in doc.get("files", []):
                path = f["file"]
                if not os.path.isabs(path):
                    path = os.path.normpath(os.path.join(build, path))
                path = os.path.realpath(path)
                if not path.startswith(src + os.sep):
                    continue   # generated files in the build dir, system headers
                e = cov.setdefault(path, {"lines": {}, "funcs": {}})
                for ln in f.get("lines", []):
                    n = ln["line_number"]
                    e["lines"][n] = e["lines"].get(n, 0) + ln["count"]
                for fn in f.get("functions", []):
                    name = fn["name"]
                    old = e["funcs"].get(name, (fn["start_line"], 0))
                    e["funcs"][name] = (fn["start_line"], old[1] + fn["execution_count"])
    return cov


def write_info(cov, path, name):
    with open(path, "w") as f:
        for src in sorted(cov):
            e = cov[src]
            f.write("TN:%s\nSF:%s\n" % (name, src))
            for fn, (line, _) in sorted(e["funcs"].items(), key=lambda x: x[1][0]):
                f.write("FN:%d,%s\n" % (line, fn))
            for fn, (_, count) in sorted(e["funcs"].items()):
                f.write("FNDA:%d,%s\n" % (count, fn))
            f.write("FNF:%d\nFNH:%d\n" % (len(e["funcs"]), sum(1 for v in e["funcs"].values() if v[1])))
            for n in sorted(e["lines"]):
                f.write("DA:%d,%d\n" % (n, e["lines"][n]))
            f.write("LF:%d\nLH:%d\nend_of_record\n" % (len(e["lines"]), sum(1 for v in e["lines"].values() if v)))


def add(into, cov):
    for src, e in cov.items():
        t = into.setdefault(src, {"lines": {}, "funcs": {}})
        for n, c in e["lines"].items():
            t["lines"][n] = t["lines"].get(n, 0) + c
        for fn, (line, c) in e["funcs"].items():
            old = t["funcs"].get(fn, (line, 0))
            t["funcs"][fn] = (line, old[1] + c)


def summary(cov):
    lf = sum(len(e["lines"]) for e in cov.values())
    lh = sum(sum(1 for v in e["lines"].values() if v) for e in cov.values())
    ff = sum(len(e["funcs"]) for e in cov.values())
    fh = sum(sum(1 for v in e["funcs"].values() if v[1]) for e in cov.values())
    return lh, lf, fh, ff


def fmt_summary(name, cov):
    lh, lf, fh, ff = summary(cov)
    return "%-6s lines %6.2f%% (%d of %d)  functions %6.2f%% (%d of %d)" % (
        name, 100.0 * lh / max(lf, 1), lh, lf, 100.0 * fh / max(ff, 1), fh, ff)


def report(a):
    t0 = time.monotonic()
    build = os.path.dirname(os.path.realpath(a.kernel))
    src = os.path.realpath(os.path.join(build, "source"))
    if not os.path.isdir(src):
        die("'%s' is not a vkci build dir (no source link): make coverage builds one" % build)
    for tool in ("gcov", "gcov-tool", "genhtml"):
        if not shutil.which(tool):
            die("'%s' not found (apt-get install gcc lcov)" % tool)
    os.makedirs(a.out, exist_ok=True)
    jobs = a.jobs or os.cpu_count() or 2
    work = tempfile.mkdtemp(prefix="vkci-cov-")
    results = {}
    try:
        with cf.ThreadPoolExecutor(max_workers=jobs) as pool:
            boot_trees = [t for t in [a.boot] if t and os.path.isdir(t) and gcda_files(t)]
            if not boot_trees:
                die("no .gcda from the boot-only run in '%s': the coverage kernel wrote nothing at "
                    "power-off (its gcov fix-ups did not take?)" % a.boot)
            boot = capture(build, src, boot_trees[0], pool, jobs)
            suites = sorted(d for d in os.listdir(a.raw) if os.path.isdir(os.path.join(a.raw, d))) \
                if os.path.isdir(a.raw) else []
            total = {}
            add(total, boot)
            for s in suites:
                trees = instance_trees(a.raw, s)
                merged = merge_trees(trees, os.path.join(work, s), pool)
                if not merged:
                    continue
                cov = capture(build, src, merged, pool, jobs)
                results[s] = cov
                write_info(cov, os.path.join(a.out, s + ".info"), s)
                add(total, cov)
            write_info(boot, os.path.join(a.out, "boot.info"), "boot")
            write_info(total, os.path.join(a.out, "total.info"), "all")
            if a.per_test:
                index = {}
                tdir = os.path.join(a.out, "tests")
                for s in suites:
                    for t in instance_trees(a.raw, s):
                        name = os.path.relpath(t, a.raw)
                        cov = capture(build, src, t, pool, jobs)
                        os.makedirs(os.path.dirname(os.path.join(tdir, name)), exist_ok=True)
                        write_info(cov, os.path.join(tdir, name + ".info"), name.replace("/", "_"))
                        for f, e in cov.items():
                            rel = os.path.relpath(f, src)
                            for n, c in e["lines"].items():
                                if c:
                                    index.setdefault(rel, {}).setdefault(str(n), []).append(name)
                with open(os.path.join(a.out, "index.json"), "w") as f:
                    json.dump(index, f)
        t_capture = time.monotonic() - t0
        html = os.path.join(a.out, "html")
        shutil.rmtree(html, ignore_errors=True)
        r = subprocess.run(["genhtml", "-q", "--legend", "--prefix", src, "-t", "vkci coverage",
                            "-o", html, os.path.join(a.out, "total.info")], capture_output=True, text=True)
        if r.returncode != 0:
            die("genhtml failed: %s" % r.stderr[-1000:])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(fmt_summary("boot", boot))
    for s in suites:
        if s in results:
            print(fmt_summary(s, results[s]))
    print(fmt_summary("all", total))
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump({k: dict(zip(("lines_hit", "lines", "functions_hit", "functions"), summary(v)))
                   for k, v in [("boot", boot)] + sorted(results.items()) + [("all", total)]}, f, indent=1)
    print("vkci: coverage report %s/index.html (%.1f s: merge + capture %.1f s, genhtml %.1f s)" % (
        html, time.monotonic() - t0, t_capture, time.monotonic() - t0 - t_capture))


def who(a):
    path = os.path.join(a.out, "index.json")
    if not os.path.exists(path):
        die("no per-test index '%s' (run make coverage PER_TEST=1)" % path, 2)
    file, _, line = a.where.rpartition(":")
    if not file or not line.isdigit():
        die("usage: coverage.py who FILE:LINE (FILE relative to the kernel source)", 2)
    with open(path) as f:
        index = json.load(f)
    tests = index.get(file, {}).get(line, [])
    for t in tests:
        print(t)
    return 0 if tests else 1


def count(a):
    build = os.path.dirname(os.path.realpath(a.kernel))
    src = os.path.realpath(os.path.join(build, "source"))
    with cf.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        cov = capture(build, src, a.tree, pool, os.cpu_count() or 2)
    n = sum(e["funcs"][a.function][1] for e in cov.values() if a.function in e["funcs"])
    print(n)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("report")
    r.add_argument("--kernel", required=True)
    r.add_argument("--raw", required=True)
    r.add_argument("--boot", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--per-test", action="store_true")
    r.add_argument("--jobs", type=int, default=0)
    w = sub.add_parser("who")
    w.add_argument("where")
    w.add_argument("--out", default="out/coverage")
    c = sub.add_parser("count")
    c.add_argument("--kernel", required=True)
    c.add_argument("--tree", required=True)
    c.add_argument("function")
    a = ap.parse_args()
    sys.exit({"report": report, "who": who, "count": count}[a.cmd](a))


if __name__ == "__main__":
    main()
