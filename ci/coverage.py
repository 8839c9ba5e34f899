#!/usr/bin/env python3
"""ci/coverage.py - turn the .gcda trees of a coverage run into lcov reports.

  coverage.py watch --kernel K --raw DIR --logs DIR --boot DIR --state DIR   (beside prove)
  coverage.py report --kernel K --raw DIR --boot DIR --out DIR [--state DIR] [--per-test] [--jobs N]
  coverage.py who FILE:LINE [--out DIR]
  coverage.py patch REV-RANGE --repo GIT-TREE [--out DIR]   (make coverage DIFF=)
  coverage.py select REV-RANGE --repo GIT-TREE [--out DIR]  (the tests that ran a range's lines)
  coverage.py count --kernel K --tree DIR FUNCTION   (executions of a kernel function in one tree)

`make coverage` runs every test on the coverage kernel with
`vkci exec --gcov-dir RAW`, so RAW/SUITE/TEST[/nodeK]/ holds each instance's
.gcda tree (relative to the kernel's build dir), and one do-nothing boot
under BOOT/. `report` then

  1. merges the trees of each suite with gcov-tool (pairwise reductions,
     every suite's pairs of a round at once, on every CPU),
  2. captures the boot tree and each merged tree once with gcov's JSON
     output (`gcov -j -t`, one gcov per chunk of files, all chunks of all
     trees on worker processes) against the build dir's .gcno and the
     source tree, and writes lcov tracefiles (OUT/SUITE.info, OUT/boot.info,
     OUT/total.info; the format genhtml and `lcov -a/-l/--summary` read),
  3. writes OUT/html/index.html with genhtml, split over the CPUs: one
     genhtml per group of source directories (disjoint pages) plus one
     without source views for the top index,
  4. prints lines and functions covered: boot only, each suite, all
     (also OUT/summary.json; the phases' times in OUT/timing.json).

lcov's own capture (geninfo runs gcov once per .gcda and post-processes
its text output in Perl) takes ~60 s per tree here; the JSON route is the
same gcov data in a fraction of the time. Scratch trees live on /dev/shm.

Every report also keeps OUT/sources.json: the git blob id of each source file
the coverage has lines of, as the file was when it was reported, so `patch`
and `select` can tell whether a revision range's files are the ones measured.

--per-test also keeps OUT/tests/SUITE/TEST.info and OUT/index.json: for each
source file and line, which tests executed it (a hex bit mask over the
index's "tests"), and which lines are instrumented at all. `who FILE:LINE` answers from that index, and says why
when no test is printed (file unknown, line not instrumented, not executed).

`patch A..B --repo TREE` (make coverage DIFF=A..B): the lines the range adds
or changes, per file and hunk, executed or not (total.info), which tests ran
them (index.json, PER_TEST=1), as OUT/patch.txt, OUT/patch.json and
OUT/patch.html (the hunks in source view, changed lines marked, each file
linked to genhtml's page). `select A..B --repo TREE` prints the tests whose
recorded coverage touches those lines (see select() for the fallbacks). A test's tree mostly repeats the boot's (~80% of its .gcda have
the boot run's counters): those files reuse the boot's per-file results,
only the rest go through gcov. Standard library + Debian's gcc (gcov, gcov-tool) and lcov
(genhtml) only.
"""
import argparse
import concurrent.futures as cf
import functools
import json
import os
import pickle
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time


# scratch space on tmpfs when there is one: merging writes a tree per pair,
# gcov wants a tree of symlinks; both are metadata-heavy and short-lived
SCRATCH = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def die(msg, code=3):
    print("vkci: " + msg, file=sys.stderr)
    sys.exit(code)


def gcda_files(tree):
    out = []
    for root, dirs, files in os.walk(tree):
        dirs[:] = [d for d in dirs if not (root == tree and d.startswith("node"))]
        out += [os.path.relpath(os.path.join(root, f), tree) for f in files if f.endswith(".gcda")]
    return out


def trees_of(raw, suite, test):
    """A test's .gcda trees: RAW/SUITE/TEST (node 0) and RAW/SUITE/TEST/nodeK."""
    t = os.path.join(raw, suite, test)
    try:
        trees = [t] + [os.path.join(t, n) for n in sorted(os.listdir(t)) if n.startswith("node")]
    except OSError:
        return []
    return [x for x in trees if os.path.isdir(x) and gcda_files(x)]


@functools.lru_cache(maxsize=None)
def is_tree(d, build):
    """Is d a test's .gcda tree (paths as in the kernel build dir), rather
    than a dir of tests? Its first .gcda (outside nodeK/) has a .gcno in build.
    Remembered: a test's tree is moved into place whole, so the answer for a
    dir that exists does not change, and `watch` asks every 0.3 s."""
    for root, dirs, files in os.walk(d):
        dirs[:] = sorted(x for x in dirs if not (root == d and x.startswith("node")))
        for f in files:
            if f.endswith(".gcda"):
                rel = os.path.relpath(os.path.join(root, f), d)
                return os.path.exists(os.path.join(build, rel[:-len(".gcda")] + ".gcno"))
    return False


def test_dirs(raw, suite, build, depth=4):
    """The tests of a suite that left a .gcda tree, as paths under RAW/SUITE:
    TEST for vkci's own suites and kunit/SUITE, TARGET/PROGRAM for
    kselftest/TARGET/PROGRAM (a target may have a '/' of its own)."""
    out = []

    def scan(rel, left):
        d = os.path.join(raw, suite, rel)
        try:
            names = sorted(n for n in os.listdir(d) if os.path.isdir(os.path.join(d, n)))
        except OSError:
            return
        for n in names:
            t = os.path.join(rel, n) if rel else n
            if is_tree(os.path.join(d, n), build):
                out.append(t)
            elif left > 1:
                scan(t, left - 1)
    scan("", depth)
    return out


def instance_trees(raw, suite, build):
    """Every instance tree of a suite: RAW/SUITE/TEST and RAW/SUITE/TEST/nodeK."""
    return [x for test in test_dirs(raw, suite, build) for x in trees_of(raw, suite, test)]


def merge_pair(a, b, out):
    r = subprocess.run(["gcov-tool", "merge", a, b, "-o", out], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("gcov-tool merge %s %s failed: %s" % (a, b, r.stderr[-500:]))
    return out


def flat_tree(tree, dst):
    """A test dir holds node 0's tree and nodeK/ subtrees: gcov-tool would
    read those as part of it, so such a tree gets a flat copy of its own
    (hard links, falling back to copies); other trees are used as they are."""
    if not any(d.startswith("node") and os.path.isdir(os.path.join(tree, d)) for d in os.listdir(tree)):
        return tree
    for rel in gcda_files(tree):
        os.makedirs(os.path.join(dst, os.path.dirname(rel)), exist_ok=True)
        try:
            os.link(os.path.join(tree, rel), os.path.join(dst, rel))
        except OSError:
            shutil.copyfile(os.path.join(tree, rel), os.path.join(dst, rel))
    return dst


def merge_all(groups, work, pool):
    """{name: [trees]} -> {name: merged tree}. Pairwise reductions, every
    group's pairs of one round submitted together (gcov-tool per pair)."""
    level = {}
    for name, trees in groups.items():
        futs = [pool.submit(flat_tree, t, os.path.join(work, "%s.in%d" % (name, i))) for i, t in enumerate(trees)]
        level[name] = [f.result() for f in futs]
    n = 0
    while any(len(v) > 1 for v in level.values()):
        futs = {}
        for name, trees in level.items():
            futs[name] = []
            for i in range(0, len(trees) - 1, 2):
                n += 1
                futs[name].append(pool.submit(merge_pair, trees[i], trees[i + 1],
                                              os.path.join(work, "%s.m%d" % (name, n))))
        for name in level:
            rest = level[name][-1:] if len(level[name]) % 2 else []
            level[name] = [f.result() for f in futs[name]] + rest
    return {name: v[0] for name, v in level.items() if v}


def gcov_chunk(build, src, tree, rels, per_tu=False):
    """Run one gcov over a chunk of a tree's .gcda files (JSON output) and
    reduce it to {source file: ({line: count}, {function: [line, count]})},
    files under the source tree only; per_tu: one such dict per .gcda,
    {rel: {...}}. Runs in a worker process."""
    with tempfile.TemporaryDirectory(prefix="vkci-gcov-", dir=SCRATCH) as tmp:
        args = []
        for rel in rels:   # gcov wants NAME.gcno beside NAME.gcda: a shadow tree of symlinks
            gcno = os.path.join(build, rel[:-5] + ".gcno")
            if not os.path.exists(gcno):
                continue
            base = os.path.join(tmp, rel[:-5])
            os.makedirs(os.path.dirname(base), exist_ok=True)
            os.symlink(os.path.join(tree, rel), base + ".gcda")
            os.symlink(gcno, base + ".gcno")
            args.append(base + ".gcda")
        if not args:
            return {}
        r = subprocess.run(["gcov", "-j", "-t"] + args, cwd=build, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
    cov, paths, tus = {}, {}, {}
    prefix = src + os.sep
    for line in r.stdout.splitlines():
        if not line.startswith(b"{"):
            continue
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if per_tu:
            rel = os.path.relpath(doc.get("data_file", ""), tmp)
            cov = tus[rel if rel.endswith(".gcda") else rel + ".gcda"] = {}
        for f in doc.get("files", []):
            name = f["file"]
            path = paths.get(name)
            if path is None:
                p = name if os.path.isabs(name) else os.path.join(build, name)
                path = paths[name] = os.path.realpath(p)
            if not path.startswith(prefix):
                continue   # generated files in the build dir, system headers
            lines, funcs = cov.setdefault(path, ({}, {}))
            for ln in f.get("lines", ()):
                n = ln["line_number"]
                lines[n] = lines.get(n, 0) + ln["count"]
            for fn in f.get("functions", ()):
                old = funcs.get(fn["name"])
                if old:
                    old[1] += fn["execution_count"]
                else:
                    funcs[fn["name"]] = [fn["start_line"], fn["execution_count"]]
    return tus if per_tu else cov


def add(into, cov):
    for src, (lines, funcs) in cov.items():
        t = into.get(src)
        if t is None:
            into[src] = (dict(lines), {k: list(v) for k, v in funcs.items()})
            continue
        tl, tf = t
        for n, c in lines.items():
            tl[n] = tl.get(n, 0) + c
        for fn, (line, c) in funcs.items():
            old = tf.get(fn)
            if old:
                old[1] += c
            else:
                tf[fn] = [line, c]


def capture_many(build, src, trees, procs, jobs):
    """{name: tree} -> {name: coverage}: every tree's .gcda files cut into
    chunks, all chunks of all trees on the worker processes at once."""
    futs = []
    for name, tree in trees.items():
        rels = sorted(gcda_files(tree))
        k = max(1, min(jobs * 2, len(rels) // 64))
        futs += [(name, procs.submit(gcov_chunk, build, src, tree, rels[i::k])) for i in range(k)]
    out = {name: {} for name in trees}
    for name, f in futs:
        add(out[name], f.result())
    return out


def gcda_key(path):
    """A .gcda's bytes but its object summary (runs, sum_max: bytes 24-31),
    which differs between any two runs even where no counter does."""
    with open(path, "rb") as f:
        b = f.read()
    return b[:24] + b[32:]


def capture_tus(build, src, tree, procs, jobs):
    """{rel: coverage of that one .gcda} for a tree (the boot tree)."""
    rels = sorted(gcda_files(tree))
    k = max(1, min(jobs * 2, len(rels) // 64))
    tus = {}
    for f in [procs.submit(gcov_chunk, build, src, tree, rels[i::k], True) for i in range(k)]:
        tus.update(f.result())
    return tus


def capture_like(build, src, trees, procs, jobs, base, base_tus):
    """capture_many for trees that mostly repeat base: a .gcda whose counters
    equal base's (most of a test's: the boot path's files) takes base's
    result, only the others go through gcov (PER_TEST: ~5x less gcov)."""
    keys = {rel: gcda_key(os.path.join(base, rel)) for rel in base_tus}
    futs, out = [], {}
    for name, tree in trees.items():
        out[name] = {}
        rels = []
        for rel in sorted(gcda_files(tree)):
            if rel in base_tus and keys[rel] == gcda_key(os.path.join(tree, rel)):
                add(out[name], base_tus[rel])
            else:
                rels.append(rel)
        k = max(1, min(jobs, len(rels) // 32))
        futs += [(name, procs.submit(gcov_chunk, build, src, tree, rels[i::k])) for i in range(k) if rels[i::k]]
    for name, f in futs:
        add(out[name], f.result())
    return out


def info_records(cov, name):
    """{source file: its lcov tracefile record} (TN/SF/FN/FNDA/DA/LF/LH)."""
    out = {}
    for src in cov:
        lines, funcs = cov[src]
        fl = sorted(funcs.items(), key=lambda x: (x[1][0], x[0]))
        out[src] = "".join((
            "TN:%s\nSF:%s\n" % (name, src),
            "".join("FN:%d,%s\n" % (v[0], fn) for fn, v in fl),
            "".join("FNDA:%d,%s\n" % (v[1], fn) for fn, v in fl),
            "FNF:%d\nFNH:%d\n" % (len(funcs), sum(1 for v in funcs.values() if v[1])),
            "".join("DA:%d,%d\n" % (n, lines[n]) for n in sorted(lines)),
            "LF:%d\nLH:%d\nend_of_record\n" % (len(lines), sum(1 for v in lines.values() if v))))
    return out


def write_info(cov, path, name, records=None, files=None):
    records = records or info_records(cov, name)
    with open(path + ".tmp", "w") as f:
        f.write("".join(records[k] for k in sorted(files if files is not None else records)))
    os.replace(path + ".tmp", path)


def summary(cov):
    lf = sum(len(lines) for lines, _ in cov.values())
    lh = sum(sum(1 for v in lines.values() if v) for lines, _ in cov.values())
    ff = sum(len(funcs) for _, funcs in cov.values())
    fh = sum(sum(1 for v in funcs.values() if v[1]) for _, funcs in cov.values())
    return lh, lf, fh, ff


def only_lines(boot, results):
    """{suite: lines it ran that neither the boot nor any other suite ran}:
    what each suite adds to the others."""
    seen = {}                   # (file, line) -> how many suites ran it
    for cov in results.values():
        for f, (lines, _) in cov.items():
            for n, c in lines.items():
                if c:
                    seen[f, n] = seen.get((f, n), 0) + 1
    for f, (lines, _) in boot.items():
        for n, c in lines.items():
            if c and (f, n) in seen:
                seen[f, n] = 2      # the boot runs it: nobody's own
    return {s: sum(1 for f, (lines, _) in cov.items() for n, c in lines.items() if c and seen[f, n] == 1)
            for s, cov in results.items()}


def fmt_summary(name, cov):
    lh, lf, fh, ff = summary(cov)
    return "%-6s lines %6.2f%% (%d of %d)  functions %6.2f%% (%d of %d)" % (
        name, 100.0 * lh / max(lf, 1), lh, lf, 100.0 * fh / max(ff, 1), fh, ff)


def genhtml_parallel(cov, records, total, src, html, work, jobs, title):
    """genhtml 1.16 runs on one CPU and spends its time on the source views.
    Its pages of one source directory only link to that directory's files, up
    to the top index and to the style files: so P genhtml runs over disjoint
    sets of directories (balanced by line count) write disjoint subtrees, and
    one more run without source views over everything (total) writes the top
    index and the style files. Returns the stderr of a failed run, or None."""
    dirs = {}
    for f in cov:
        dirs.setdefault(os.path.dirname(f), []).append(f)
    parts = [[] for _ in range(max(1, jobs * 2))]
    load = [0] * len(parts)
    weight = {d: sum(len(cov[f][0]) + 200 for f in fs) for d, fs in dirs.items()}
    for d in sorted(dirs, key=lambda d: -weight[d]):
        i = load.index(min(load))
        parts[i] += dirs[d]
        load[i] += weight[d]
    base = ["genhtml", "-q", "--prefix", src, "-t", title]
    runs = [(base + ["--no-source", "-o", html, total], None)]
    for i, files in enumerate(p for p in parts if p):
        info = os.path.join(work, "html-part%d.info" % i)
        write_info(None, info, "all", records, files)
        out = os.path.join(os.path.dirname(html), ".html-part%d" % i)   # same fs as html: moved
        shutil.rmtree(out, ignore_errors=True)
        runs.append((base + ["-o", out, info], out))
    runs.sort(key=lambda r: r[1] is None)   # the short run last
    with cf.ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(lambda r: subprocess.run(r[0], capture_output=True, text=True), runs))
    for r in results:
        if r.returncode != 0:
            return r.stderr
    for _, part in runs:
        if part:
            for name in os.listdir(part):
                p = os.path.join(part, name)
                if os.path.isdir(p) and not os.path.islink(p):
                    merge_dir(p, os.path.join(html, name))
            shutil.rmtree(part, ignore_errors=True)
    return None


def merge_dir(srcdir, dst):
    """Move srcdir's files into dst (same layout), replacing files there."""
    os.makedirs(dst, exist_ok=True)
    for name in os.listdir(srcdir):
        s, d = os.path.join(srcdir, name), os.path.join(dst, name)
        if os.path.isdir(s) and not os.path.islink(s):
            merge_dir(s, d)
        else:
            os.replace(s, d)


# ---- pipelining: merge while the tests run ----------------------------------
# `watch` runs beside prove (make coverage): it captures the boot tree at
# once, then merges each suite's test trees as their tests finish into one
# tree per suite, named by STATE/SUITE.json. `report --state STATE` merges
# only what came after (or a whole suite again if a tree it had merged was
# replaced meanwhile, e.g. by a retry), so the merges and the boot capture
# are off the path from the last test to the HTML.

def tree_id(raw, logs, suite, test):
    """The inode of a test's tree once its test has finished: the tree is
    moved in place before result.json is written (logs None: now)."""
    try:
        ts = os.stat(os.path.join(raw, suite, test))
        if logs is None:
            return ts.st_ino
        rs = os.stat(os.path.join(logs, suite, test, "result.json"))
    except OSError:
        return None
    return ts.st_ino if rs.st_mtime_ns >= ts.st_ctime_ns else None


def load_state(state, suite):
    try:
        with open(os.path.join(state, suite + ".json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {"acc": None, "merged": {}, "dirty": False}


def save_state(state, suite, st):
    p = os.path.join(state, suite + ".json")
    with open(p + ".tmp", "w") as f:
        json.dump(st, f)
    os.replace(p + ".tmp", p)


def build_src(kernel):
    build = os.path.dirname(os.path.realpath(kernel))
    src = os.path.realpath(os.path.join(build, "source"))
    if not os.path.isdir(src):
        die("'%s' is not a vkci build dir (no source link): make coverage builds one" % build)
    return build, src


def watch(a):
    parent = os.getppid()
    try:
        return watch_loop(a, parent)
    except (OSError, RuntimeError):
        if os.getppid() != parent:
            return 0   # make was interrupted and removed the state dir: nothing to say
        raise


def watch_loop(a, parent):
    build, src = build_src(a.kernel)
    jobs = a.jobs or os.cpu_count() or 2
    os.makedirs(a.state, exist_ok=True)
    if a.boot and os.path.isdir(a.boot) and gcda_files(a.boot):
        with cf.ProcessPoolExecutor(max_workers=jobs) as procs:
            tus = capture_tus(build, src, a.boot, procs, jobs)
        with open(os.path.join(a.state, "boot.pickle.tmp"), "wb") as f:
            pickle.dump({"tree": os.path.realpath(a.boot), "ino": os.stat(a.boot).st_ino, "tus": tus}, f)
        os.replace(os.path.join(a.state, "boot.pickle.tmp"), os.path.join(a.state, "boot.pickle"))
    stop = os.path.join(a.state, "stop")
    with cf.ThreadPoolExecutor(max_workers=jobs) as pool:
        while not os.path.exists(stop) and os.getppid() == parent:
            suites = sorted(os.listdir(a.raw)) if os.path.isdir(a.raw) else []
            for suite in suites:
                st = load_state(a.state, suite)
                if st["dirty"]:
                    continue
                new = {}
                for test in test_dirs(a.raw, suite, build):
                    ino = tree_id(a.raw, a.logs, suite, test)
                    old = st["merged"].get(test)
                    if old is not None and ino is not None and ino != old:
                        st["dirty"] = True
                    elif old is None and ino is not None:
                        new[test] = ino
                if st["dirty"]:
                    save_state(a.state, suite, st)
                    continue
                trees = [t for test in sorted(new) for t in trees_of(a.raw, suite, test)]
                if not trees:
                    continue
                work = tempfile.mkdtemp(prefix=suite + ".", dir=a.state)
                acc = merge_all({suite: ([st["acc"]] if st["acc"] else []) + trees}, work, pool)[suite]
                old_acc = st["acc"]
                st["acc"] = acc
                st["merged"].update(new)
                save_state(a.state, suite, st)
                if old_acc and old_acc.startswith(a.state + os.sep):
                    shutil.rmtree(os.path.dirname(old_acc), ignore_errors=True)
            time.sleep(0.3)
    return 0


def from_state(state, raw, suite, trees, build):
    """The trees left to merge for a suite, given what watch merged."""
    st = load_state(state, suite)
    if st["dirty"] or not st["acc"] or not os.path.isdir(st["acc"]):
        return trees
    for test, ino in st["merged"].items():
        if tree_id(raw, None, suite, test) != ino:
            return trees
    return [st["acc"]] + [t for test in test_dirs(raw, suite, build) if test not in st["merged"]
                          for t in trees_of(raw, suite, test)]


def report(a):
    t0 = time.monotonic()
    build, src = build_src(a.kernel)
    for tool in ("gcov", "gcov-tool", "genhtml"):
        if not shutil.which(tool):
            die("'%s' not found (apt-get install gcc lcov)" % tool)
    if not a.boot or not os.path.isdir(a.boot) or not gcda_files(a.boot):
        die("no .gcda from the boot-only run in '%s': the coverage kernel wrote nothing at "
            "power-off (its gcov fix-ups did not take?)" % a.boot)
    os.makedirs(a.out, exist_ok=True)
    jobs = a.jobs or os.cpu_count() or 2
    work = tempfile.mkdtemp(prefix="vkci-cov-", dir=SCRATCH)
    times = {}
    try:
        suites = sorted(d for d in os.listdir(a.raw) if os.path.isdir(os.path.join(a.raw, d))) \
            if os.path.isdir(a.raw) else []
        groups = {s: instance_trees(a.raw, s, build) for s in suites}
        groups = {s: t for s, t in groups.items() if t}
        todo = {s: from_state(a.state, a.raw, s, t, build) for s, t in groups.items()} if a.state else groups
        with cf.ThreadPoolExecutor(max_workers=jobs) as pool:
            merged = merge_all(todo, work, pool)
        times["merge"] = time.monotonic() - t0
        boot = boot_tus = None
        if a.state and os.path.exists(os.path.join(a.state, "boot.pickle")):
            with open(os.path.join(a.state, "boot.pickle"), "rb") as f:
                b = pickle.load(f)
            if b["tree"] == os.path.realpath(a.boot) and b["ino"] == os.stat(a.boot).st_ino:
                boot_tus = b["tus"]
        trees = {"suite:" + s: t for s, t in merged.items()}
        tests = {}
        if a.per_test:
            for s, ts in groups.items():
                for t in ts:
                    tests["test:" + os.path.relpath(t, a.raw)] = t
        with cf.ProcessPoolExecutor(max_workers=jobs) as procs:
            if boot_tus is None and a.per_test:
                boot_tus = capture_tus(build, src, a.boot, procs, jobs)
            if boot_tus is None:
                trees["boot"] = a.boot
            covs = capture_many(build, src, trees, procs, jobs)
            if tests:
                covs.update(capture_like(build, src, tests, procs, jobs, a.boot, boot_tus))
        times["capture"] = time.monotonic() - t0 - times["merge"]
        if boot_tus is not None:
            boot = {}
            for cov in boot_tus.values():
                add(boot, cov)
        else:
            boot = covs["boot"]
        results = {s: covs["suite:" + s] for s in merged}
        total = {}
        add(total, boot)
        for cov in results.values():
            add(total, cov)
        html = os.path.join(a.out, "html")
        shutil.rmtree(html, ignore_errors=True)
        for old in os.listdir(a.out):
            if old.endswith(".info"):
                os.unlink(os.path.join(a.out, old))
        t1 = time.monotonic()
        records = info_records(total, "all")
        write_info(total, os.path.join(a.out, "total.info"), "all", records)
        err = genhtml_parallel(total, records, os.path.join(a.out, "total.info"), src, html, work, jobs,
                               "vkci coverage")
        if err is not None:
            die("genhtml failed: %s" % err[-1000:])
        times["genhtml"] = time.monotonic() - t1
        write_sources(total, src, a.out)
        t1 = time.monotonic()
        write_info(boot, os.path.join(a.out, "boot.info"), "boot")
        for s, cov in results.items():
            write_info(cov, os.path.join(a.out, s + ".info"), s)
        times["tracefiles"] = time.monotonic() - t1
        if a.per_test:
            # index.json: per file and line, the tests that executed it as a
            # bit mask over "tests" (hex), which keeps it small (a list of
            # names per line made it ~100 MB for 60 tests, ~10 s to read)
            names = sorted(k[5:] for k in tests)
            masks = {}
            tdir = os.path.join(a.out, "tests")
            shutil.rmtree(tdir, ignore_errors=True)
            for i, name in enumerate(names):
                cov = covs["test:" + name]
                os.makedirs(os.path.dirname(os.path.join(tdir, name)), exist_ok=True)
                write_info(cov, os.path.join(tdir, name + ".info"), name.replace("/", "_"))
                for f, (lines, _) in cov.items():
                    m = masks.setdefault(os.path.relpath(f, src), {})
                    for n, c in lines.items():
                        if c:
                            m[n] = m.get(n, 0) | 1 << i
            index = {rel: {str(n): "%x" % v for n, v in sorted(m.items())} for rel, m in masks.items() if m}
            instrumented = {os.path.relpath(f, src): ranges(lines) for f, (lines, _) in total.items()}
            with open(os.path.join(a.out, "index.json.tmp"), "w") as f:
                json.dump({"format": "vkci-coverage-index/2", "source": src, "tests": names,
                           "lines": index, "instrumented": instrumented}, f)
            os.replace(os.path.join(a.out, "index.json.tmp"), os.path.join(a.out, "index.json"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    only = only_lines(boot, results)
    print(fmt_summary("boot", boot))
    for s in sorted(results):
        print(fmt_summary(s, results[s]) + ("  only it: %d lines" % only[s] if len(results) > 1 else ""))
    print(fmt_summary("all", total))
    sums = [("boot", boot)] + sorted(results.items()) + [("all", total)]
    doc = {k: dict(zip(("lines_hit", "lines", "functions_hit", "functions"), summary(v))) for k, v in sums}
    for k, n in only.items():
        doc[k]["lines_only"] = n
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(doc, f, indent=1)
    times["total"] = time.monotonic() - t0
    ru = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    times["cpu"] = sum(r.ru_utime + r.ru_stime for r in ru)   # on a loaded machine: what it needs
    with open(os.path.join(a.out, "timing.json"), "w") as f:
        json.dump(times, f, indent=1)
    print("vkci: coverage report %s/index.html (%.1f s: merge %.1f s, capture %.1f s, genhtml %.1f s; "
          "%.1f CPU s)" % (html, times["total"], times["merge"], times["capture"], times["genhtml"], times["cpu"]))
    return 0


def ranges(lines):
    """Sorted line numbers as [[first, last], ...] runs (index.json)."""
    out = []
    for n in sorted(lines):
        if out and out[-1][1] == n - 1:
            out[-1][1] = n
        else:
            out.append([n, n])
    return out


def in_ranges(rs, n):
    return any(a <= n <= b for a, b in rs)


def load_index(out, what):
    path = os.path.join(out, "index.json")
    if not os.path.exists(path):
        die("no per-test index '%s' (run make coverage PER_TEST=1%s)" % (path, what), 2)
    with open(path) as f:
        return json.load(f)


def tests_at(index, rel, line):
    """The tests that executed rel:line, by name, from either index format
    (vkci-coverage-index/2: a hex bit mask over index["tests"]; before it:
    the list of names)."""
    v = index["lines"].get(rel, {}).get(str(line))
    if not v:
        return []
    if isinstance(v, list):
        return v
    m, names = int(v, 16), index.get("tests", [])
    return [t for i, t in enumerate(names) if m >> i & 1]


def who(a):
    """Which tests executed FILE:LINE (FILE relative to the kernel source, or
    absolute), from the per-test index of make coverage PER_TEST=1. Exit 0
    with the tests; 1 with the reason when there is none: the file has no
    coverage data, the line has no code, or no test executed it."""
    file, _, line = a.where.rpartition(":")
    if not file or not line.isdigit():
        die("usage: coverage.py who FILE:LINE (FILE relative to the kernel source)", 2)
    index = load_index(a.out, "")
    if os.path.isabs(file):
        file = os.path.relpath(os.path.realpath(file), index["source"])
    file = os.path.normpath(file)
    tests = tests_at(index, file, line)
    for t in tests:
        print(t)
    if tests:
        return 0
    inst = index.get("instrumented")
    if inst is None:
        print("vkci: no test executed '%s:%s' (an index without instrumented lines: make coverage "
              "PER_TEST=1 again to tell a line without code from one no test ran)" % (file, line), file=sys.stderr)
    elif file not in inst:
        near = sorted(f for f in inst if os.path.basename(f) == os.path.basename(file))[:3]
        print("vkci: '%s' has no coverage data: not compiled into the coverage kernel, or not a source "
              "file of it (%d files have data%s)" % (file, len(inst), "; did you mean " + ", ".join(near) + "?"
                                                     if near else ""), file=sys.stderr)
    elif not in_ranges(inst[file], int(line)):
        n = int(line)
        before = [b for a_, b in inst[file] if b < n]
        after = [a_ for a_, b in inst[file] if a_ > n]
        print("vkci: '%s:%s' is not instrumented: no code on that line (nearest lines with code: %s)"
              % (file, line, ", ".join(str(x) for x in ([before[-1]] if before else []) + after[:1]) or "none"),
              file=sys.stderr)
    else:
        print("vkci: '%s:%s' is instrumented but no test executed it (%d tests in the index)"
              % (file, line, len(index.get("tests", []))), file=sys.stderr)
    return 1


# ---- patch coverage ------------------------------------------------------------

def blob_id(data):
    """git's blob id of some bytes (what `git hash-object` prints)."""
    import hashlib
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def write_sources(cov, src, out):
    """OUT/sources.json: each covered source file's blob id as reported."""
    blobs = {}
    for f in cov:
        try:
            with open(f, "rb") as fh:
                blobs[os.path.relpath(f, src)] = blob_id(fh.read())
        except OSError:
            pass
    with open(os.path.join(out, "sources.json.tmp"), "w") as fh:
        json.dump({"source": src, "blobs": blobs}, fh)
    os.replace(os.path.join(out, "sources.json.tmp"), os.path.join(out, "sources.json"))


def git_out(repo, args):
    r = subprocess.run(["git", "-C", repo] + args, capture_output=True, text=True,
                       env=dict(os.environ, GIT_OPTIONAL_LOCKS="0", LC_ALL="C"))
    return r


def parse_range(repo, rng):
    """'A..B', 'A...B' (from their merge base) or 'A' (A..HEAD) -> commit ids."""
    if not repo:
        die("DIFF= needs KERNEL=<git tree> (the lines a range changes are read from its history; "
            "the default source is not a git tree)", 2)
    if git_out(repo, ["rev-parse", "--git-dir"]).returncode:
        die("'%s' is not a git tree (DIFF= needs KERNEL=<git tree>)" % repo, 2)
    if "..." in rng:
        a, b = rng.split("...", 1)
    elif ".." in rng:
        a, b = rng.split("..", 1)
    else:
        a, b = rng, ""
    b = b or "HEAD"
    ids = []
    for r in (a, b):
        p = git_out(repo, ["rev-parse", "--verify", "--quiet", "--end-of-options", (r or "HEAD") + "^{commit}"])
        if p.returncode or not r:
            die("'%s' in range '%s' is not a commit in '%s' (DIFF=A..B)" % (r, rng, repo), 2)
        ids.append(p.stdout.strip())
    if "..." in rng:
        ids[0] = git_out(repo, ["merge-base", ids[0], ids[1]]).stdout.strip()
    return ids


HUNK_RE = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def range_diff(repo, a, b):
    """[{"path", "old_path", "status", "hunks": [{"old": (start, n), "new": (start, n),
    "added": [new line numbers], "removed": [old line numbers]}]}] of A..B."""
    r = git_out(repo, ["diff", "--no-color", "--no-ext-diff", "--no-renames", "-U0", a, b])
    if r.returncode:
        die("git diff %s %s failed in '%s': %s" % (a[:12], b[:12], repo, r.stderr.strip()[-300:]), 3)
    files, cur, hunk, oldn, newn = [], None, None, 0, 0
    for line in r.stdout.splitlines():
        if line.startswith("diff --git "):
            cur = {"path": None, "old_path": None, "status": "modified", "hunks": []}
            files.append(cur)
        elif cur is None:
            continue
        elif line.startswith("--- "):
            cur["old_path"] = None if line == "--- /dev/null" else line[6:]
            if line == "--- /dev/null":
                cur["status"] = "added"
        elif line.startswith("+++ "):
            cur["path"] = None if line == "+++ /dev/null" else line[6:]
            if line == "+++ /dev/null":
                cur["status"] = "deleted"
        elif line.startswith("@@"):
            m = HUNK_RE.match(line)
            if m:
                o, on, n, nn = int(m.group(1)), int(m.group(2) or 1), int(m.group(3)), int(m.group(4) or 1)
                hunk = {"old": (o, on), "new": (n, nn), "added": [], "removed": []}
                cur["hunks"].append(hunk)
                oldn, newn = o, n
        elif hunk is not None and line.startswith("+"):
            hunk["added"].append(newn)
            newn += 1
        elif hunk is not None and line.startswith("-"):
            hunk["removed"].append(oldn)
            oldn += 1
    for f in files:
        f["path"] = f["path"] or f["old_path"]
    return [f for f in files if f["path"]]


def read_tracefile(path, wanted):
    """{rel file: {line: count}} of a tracefile, for the files in wanted."""
    out, cur = {}, None
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("SF:"):
                    cur = wanted.get(line[3:].rstrip("\n"))
                    if cur is not None:
                        out.setdefault(cur, {})
                elif cur is not None and line.startswith("DA:"):
                    n, c = line[3:].split(",")[:2]
                    out[cur][int(n)] = out[cur].get(int(n), 0) + int(c)
                elif line.startswith("end_of_record"):
                    cur = None
    except OSError:
        die("no coverage report '%s' (run make coverage first)" % path, 2)
    return out


def measured_side(repo, a, b, path, blobs):
    """Which end of the range the measured file is: "new" (its blob is B's),
    "old" (A's) or None (another version, or not measured)."""
    blob = blobs.get(path)
    if not blob:
        return None
    for side, rev in (("new", b), ("old", a)):
        r = git_out(repo, ["rev-parse", "--verify", "--quiet", "%s:%s" % (rev, path)])
        if r.returncode == 0 and r.stdout.strip() == blob:
            return side
    return "stale"


def patch_data(a_):
    """The range's changed lines against the measured coverage."""
    a, b = parse_range(a_.repo, a_.range)
    total = os.path.join(a_.out, "total.info")
    try:
        with open(os.path.join(a_.out, "sources.json")) as f:
            sources = json.load(f)
    except (OSError, ValueError):
        die("no '%s' (run make coverage again: it records which sources it measured)"
            % os.path.join(a_.out, "sources.json"), 2)
    src = sources["source"]
    files = range_diff(a_.repo, a, b)
    wanted = {os.path.join(src, f["path"]): f["path"] for f in files}
    counts = read_tracefile(total, wanted)
    index = None
    if os.path.exists(os.path.join(a_.out, "index.json")):
        with open(os.path.join(a_.out, "index.json")) as f:
            index = json.load(f)
    doc = {"range": a_.range, "old": a, "new": b, "repo": os.path.realpath(a_.repo), "source": src,
           "per_test": index is not None, "files": []}
    for f in files:
        path = f["path"]
        side = measured_side(a_.repo, a, b, path, sources["blobs"])
        cov = counts.get(path)
        fd = {"path": path, "status": f["status"], "measured": side, "hunks": []}
        if cov is None:
            fd["state"] = "not compiled"       # no coverage data: not built into the kernel, or no code
        elif side != "new":
            fd["state"] = "stale" if side else "not compiled"
        else:
            fd["state"] = "compiled"
        for h in f["hunks"]:
            hd = {"old": h["old"], "new": h["new"], "lines": []}
            for n in h["added"]:
                ld = {"line": n}
                if fd["state"] == "compiled":
                    if n in cov:
                        ld["count"] = cov[n]
                        if index is not None:
                            ld["tests"] = tests_at(index, path, n)
                    else:
                        ld["count"] = None    # not instrumented
                hd["lines"].append(ld)
            hd["removed"] = len(h["removed"])
            fd["hunks"].append(hd)
        doc["files"].append(fd)
    tot = {"instrumented": 0, "executed": 0, "not_instrumented": 0, "files_not_compiled": 0, "files_stale": 0}
    for fd in doc["files"]:
        if fd["state"] == "not compiled":
            tot["files_not_compiled"] += 1
        elif fd["state"] == "stale":
            tot["files_stale"] += 1
        for hd in fd["hunks"]:
            for ld in hd["lines"]:
                if "count" not in ld:
                    continue
                if ld["count"] is None:
                    tot["not_instrumented"] += 1
                else:
                    tot["instrumented"] += 1
                    tot["executed"] += ld["count"] > 0
    doc["totals"] = tot
    return doc


def source_lines(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().split("\n")
    except OSError:
        return []


def patch_text(doc):
    t = doc["totals"]
    out = ["patch coverage of %s (%s..%s) in %s" % (doc["range"], doc["old"][:12], doc["new"][:12], doc["repo"])]
    for fd in doc["files"]:
        changed = sum(len(h["lines"]) for h in fd["hunks"])
        if fd["state"] != "compiled":
            why = {"not compiled": "no coverage data: not compiled into this kernel, or no code",
                   "stale": "the coverage was measured on another version of this file"}[fd["state"]]
            out.append("%s: %d changed line%s, %s" % (fd["path"], changed, "" if changed == 1 else "s", why))
            continue
        inst = [ld for h in fd["hunks"] for ld in h["lines"] if ld.get("count") is not None]
        ex = sum(1 for ld in inst if ld["count"] > 0)
        out.append("%s: %d of %d changed lines with code executed" % (fd["path"], ex, len(inst)) +
                   ("; %d without code" % (changed - len(inst)) if changed - len(inst) else ""))
        text = source_lines(os.path.join(doc["source"], fd["path"]))
        for h in fd["hunks"]:
            s, n = h["new"]
            out.append("  @@ +%d,%d (-%d,%d)" % (s, n, h["old"][0], h["old"][1]))
            for ld in h["lines"]:
                c = ld.get("count")
                mark = "     -" if c is None else ("%6d" % c if c else "   NOT")
                tests = (" [%s]" % ", ".join(ld["tests"][:4]) + (" +%d" % (len(ld["tests"]) - 4)
                                                               if len(ld["tests"]) > 4 else "")) if ld.get("tests") else ""
                src = text[ld["line"] - 1] if ld["line"] - 1 < len(text) else ""
                out.append("  %6d %s | %s%s" % (ld["line"], mark, src.expandtabs(8)[:90], tests))
    out.append("total: %d changed lines with code, %d executed (%.1f%%), %d not; %d changed lines without code; "
               "%d file(s) not compiled, %d measured on another version"
               % (t["instrumented"], t["executed"], 100.0 * t["executed"] / max(t["instrumented"], 1),
                  t["instrumented"] - t["executed"], t["not_instrumented"], t["files_not_compiled"], t["files_stale"]))
    return "\n".join(out) + "\n"


def patch_html(doc, html_dir):
    import html as H
    e = H.escape
    t = doc["totals"]
    out = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>vkci patch coverage %s</title>" % e(doc["range"]),
           "<style>body{font-family:sans-serif;margin:2em}pre{margin:0}table.src{border-collapse:collapse;"
           "font-family:monospace;font-size:90%}table.src td{padding:0 .5em;white-space:pre}"
           ".hit{background:#cfc}.miss{background:#fcc}.nocode{background:#eee}.ctx{color:#777}"
           "td.n{text-align:right;color:#555}</style></head><body>",
           "<h1>Patch coverage of %s</h1>" % e(doc["range"]),
           "<p>%s..%s in %s. Changed lines with code: <b>%d</b>, executed <b style='color:#070'>%d</b>, "
           "not executed <b style='color:#c00'>%d</b>; changed lines without code: %d; files not compiled: %d; "
           "measured on another version: %d. <a href='html/index.html'>Full report</a>.</p>"
           % (e(doc["old"][:12]), e(doc["new"][:12]), e(doc["repo"]), t["instrumented"], t["executed"],
              t["instrumented"] - t["executed"], t["not_instrumented"], t["files_not_compiled"], t["files_stale"]),
           "<p><span class='hit'>executed</span> <span class='miss'>not executed</span> "
           "<span class='nocode'>changed, no code</span> <span class='ctx'>context</span></p>"]
    for fd in doc["files"]:
        page = os.path.join("html", fd["path"] + ".gcov.html")
        linked = os.path.exists(os.path.join(html_dir, fd["path"] + ".gcov.html"))
        name = "<a href='%s'>%s</a>" % (e(page), e(fd["path"])) if linked else e(fd["path"])
        if fd["state"] != "compiled":
            out.append("<h2>%s</h2><p>%s</p>" % (name, {"not compiled": "No coverage data: not compiled into "
                                                      "this kernel, or no code.",
                                                      "stale": "The coverage was measured on another version "
                                                      "of this file."}[fd["state"]]))
            continue
        out.append("<h2>%s</h2>" % name)
        text = source_lines(os.path.join(doc["source"], fd["path"]))
        for h in fd["hunks"]:
            changed = {ld["line"]: ld for ld in h["lines"]}
            if not changed:
                out.append("<p>@@ -%d,%d: %d line(s) removed</p>" % (h["old"][0], h["old"][1], h["removed"]))
                continue
            lo, hi = max(1, min(changed) - 3), min(len(text), max(changed) + 3)
            out.append("<p>@@ +%d,%d</p><table class='src'>" % h["new"])
            for n in range(lo, hi + 1):
                ld = changed.get(n)
                if ld is None:
                    cls, cnt = "ctx", ""
                elif ld.get("count") is None:
                    cls, cnt = "nocode", ""
                else:
                    cls, cnt = ("hit", str(ld["count"])) if ld["count"] else ("miss", "0")
                tests = e(", ".join(ld.get("tests") or [])[:200]) if ld else ""
                anchor = "<a href='%s#%d'>%d</a>" % (e(page), n, n) if linked else str(n)
                out.append("<tr class='%s'><td class='n'>%s</td><td class='n'>%s</td><td>%s</td><td>%s</td></tr>"
                           % (cls, anchor, cnt, e(text[n - 1]) if n - 1 < len(text) else "", tests))
            out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def patch(a):
    """make coverage DIFF=: the range's changed lines, executed or not."""
    t0 = time.monotonic()
    if a.check:
        parse_range(a.repo, a.range)
        return 0
    doc = patch_data(a)
    text = patch_text(doc)
    for name, data in (("patch.txt", text), ("patch.json", json.dumps(doc, indent=1) + "\n"),
                       ("patch.html", patch_html(doc, os.path.join(a.out, "html")))):
        with open(os.path.join(a.out, name + ".tmp"), "w") as f:
            f.write(data)
        os.replace(os.path.join(a.out, name + ".tmp"), os.path.join(a.out, name))
    print(text, end="")
    print("vkci: patch coverage %s (%.1f s)" % (os.path.join(a.out, "patch.html"), time.monotonic() - t0))
    return 0


def test_source(name, top):
    """An index name (SUITE/TEST or SUITE/TEST/nodeK) -> suites/SUITE/TEST.c
    (or .py) when there is one, so make check TESTS= takes it."""
    parts = name.split("/")
    if len(parts) >= 3 and parts[-1].startswith("node"):
        parts = parts[:-1]
    base = "/".join(parts)
    for root in ("suites", os.path.join("harness", "t")):
        for ext in (".c", ".py"):
            if os.path.exists(os.path.join(top, root, base + ext)):
                return os.path.join(root, base + ext)
    return base


def select(a):
    """The tests that executed a line the range changes (PER_TEST=1 index),
    one per line, for make check TESTS="$(...)". Lines are matched on the
    side of the range the index measured: B's lines when the measured file
    is B's version, A's changed and removed lines (and the lines either side
    of an insertion) when it is A's. Fallback: a changed file the index has
    no coverage for (not compiled into the coverage kernel, a new file, a
    Kconfig or Makefile, or measured on a third version) selects every test
    in the index, said on stderr; changed lines without code select
    nothing; lines with code that no test ran select nothing and are named."""
    index = load_index(a.out, " on the range's older or newer end")
    old, new = parse_range(a.repo, a.range)
    try:
        with open(os.path.join(a.out, "sources.json")) as f:
            blobs = json.load(f)["blobs"]
    except (OSError, ValueError):
        blobs = {}
    inst = index.get("instrumented", {})
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    chosen, everything, unrun, every_boot = set(), [], [], 0
    all_tests = set(index.get("tests", []))
    for f in range_diff(a.repo, old, new):
        path = f["path"]
        side = measured_side(a.repo, old, new, path, blobs) if blobs else ("new" if path in inst else None)
        if path not in inst or side in (None, "stale"):
            if any(h["added"] or h["removed"] for h in f["hunks"]):
                everything.append("%s (%s)" % (path, "measured on another version" if side == "stale"
                                               else "no recorded coverage"))
            continue
        lines = set()
        for h in f["hunks"]:
            if side == "new":
                lines.update(h["added"])
            else:
                lines.update(h["removed"])
                if not h["removed"]:
                    lines.update((h["old"][0], h["old"][0] + 1))   # an insertion after old line N
        rs = inst[path]
        for n in sorted(lines):
            if not in_ranges(rs, n):
                continue
            tests = tests_at(index, path, n)
            if tests:
                chosen.update(tests)
                every_boot += set(tests) == all_tests
            else:
                unrun.append("%s:%d" % (path, n))
    if everything:
        print("vkci: select: every test: %s" % "; ".join(everything), file=sys.stderr)
        chosen.update(index.get("tests", []))
    if every_boot:
        print("vkci: select: %d changed line(s) run in every test (the boot path, or code all of them use)"
              % every_boot, file=sys.stderr)
    if unrun:
        print("vkci: select: no recorded test runs %s" % ", ".join(unrun[:20]) +
              (" (+%d more)" % (len(unrun) - 20) if len(unrun) > 20 else ""), file=sys.stderr)
    for t in sorted({test_source(x, top) for x in chosen}):
        print(t)
    return 0


def count(a):
    """Executions of a kernel function in one .gcda tree (summed over the
    translation units that have a copy of it)."""
    build = os.path.dirname(os.path.realpath(a.kernel))
    src = os.path.realpath(os.path.join(build, "source"))
    jobs = os.cpu_count() or 2
    with cf.ProcessPoolExecutor(max_workers=jobs) as procs:
        cov = capture_many(build, src, {"t": a.tree}, procs, jobs)["t"]
    print(sum(funcs[a.function][1] for _, funcs in cov.values() if a.function in funcs))
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
    r.add_argument("--state", help="what `watch` merged while the tests ran")
    wa = sub.add_parser("watch")
    wa.add_argument("--kernel", required=True)
    wa.add_argument("--raw", required=True)
    wa.add_argument("--logs", required=True, help="VKCI_LOG_DIR: a test is finished once its result.json is")
    wa.add_argument("--boot", required=True)
    wa.add_argument("--state", required=True, help="scratch dir; create STATE/stop to end")
    wa.add_argument("--jobs", type=int, default=0)
    w = sub.add_parser("who")
    w.add_argument("where")
    w.add_argument("--out", default="out/coverage")
    for name in ("patch", "select"):
        p = sub.add_parser(name)
        p.add_argument("range", help="A..B, A...B or A (A..HEAD)")
        p.add_argument("--repo", required=True, help="the kernel's git tree")
        p.add_argument("--out", default="out/coverage")
        if name == "patch":
            p.add_argument("--check", action="store_true", help="only check the range")
    c = sub.add_parser("count")
    c.add_argument("--kernel", required=True)
    c.add_argument("--tree", required=True)
    c.add_argument("function")
    a = ap.parse_args()
    sys.exit({"report": report, "watch": watch, "who": who, "count": count, "patch": patch,
              "select": select}[a.cmd](a))


if __name__ == "__main__":
    main()
