#!/usr/bin/env python3
"""ci/coverage.py - turn the .gcda trees of a coverage run into lcov reports.

  coverage.py watch --kernel K --raw DIR --logs DIR --boot DIR --state DIR   (beside prove)
  coverage.py report --kernel K --raw DIR --boot DIR --out DIR [--state DIR] [--per-test] [--jobs N]
  coverage.py who FILE:LINE [--out DIR]
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

--per-test also keeps OUT/tests/SUITE/TEST.info and OUT/index.json: for each
source file and line, which tests executed it. `who FILE:LINE` answers from
that index. A test's tree mostly repeats the boot's (~80% of its .gcda have
the boot run's counters): those files reuse the boot's per-file results,
only the rest go through gcov. Standard library + Debian's gcc (gcov, gcov-tool) and lcov
(genhtml) only.
"""
import argparse
import concurrent.futures as cf
import json
import os
import pickle
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


def test_dirs(raw, suite):
    d = os.path.join(raw, suite)
    try:
        return sorted(t for t in os.listdir(d) if os.path.isdir(os.path.join(d, t)))
    except OSError:
        return []


def instance_trees(raw, suite):
    """Every instance tree of a suite: RAW/SUITE/TEST and RAW/SUITE/TEST/nodeK."""
    return [x for test in test_dirs(raw, suite) for x in trees_of(raw, suite, test)]


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
                for test in test_dirs(a.raw, suite):
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


def from_state(state, raw, suite, trees):
    """The trees left to merge for a suite, given what watch merged."""
    st = load_state(state, suite)
    if st["dirty"] or not st["acc"] or not os.path.isdir(st["acc"]):
        return trees
    for test, ino in st["merged"].items():
        if tree_id(raw, None, suite, test) != ino:
            return trees
    return [st["acc"]] + [t for test in test_dirs(raw, suite) if test not in st["merged"]
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
        groups = {s: instance_trees(a.raw, s) for s in suites}
        groups = {s: t for s, t in groups.items() if t}
        todo = {s: from_state(a.state, a.raw, s, t) for s, t in groups.items()} if a.state else groups
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
        t1 = time.monotonic()
        write_info(boot, os.path.join(a.out, "boot.info"), "boot")
        for s, cov in results.items():
            write_info(cov, os.path.join(a.out, s + ".info"), s)
        times["tracefiles"] = time.monotonic() - t1
        if a.per_test:
            index = {}
            tdir = os.path.join(a.out, "tests")
            shutil.rmtree(tdir, ignore_errors=True)
            for key in sorted(tests):
                name = key[5:]
                cov = covs[key]
                os.makedirs(os.path.dirname(os.path.join(tdir, name)), exist_ok=True)
                write_info(cov, os.path.join(tdir, name + ".info"), name.replace("/", "_"))
                for f, (lines, _) in cov.items():
                    rel = os.path.relpath(f, src)
                    for n, c in lines.items():
                        if c:
                            index.setdefault(rel, {}).setdefault(str(n), []).append(name)
            with open(os.path.join(a.out, "index.json"), "w") as f:
                json.dump({"source": src, "lines": index}, f)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(fmt_summary("boot", boot))
    for s in sorted(results):
        print(fmt_summary(s, results[s]))
    print(fmt_summary("all", total))
    sums = [("boot", boot)] + sorted(results.items()) + [("all", total)]
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump({k: dict(zip(("lines_hit", "lines", "functions_hit", "functions"), summary(v)))
                   for k, v in sums}, f, indent=1)
    times["total"] = time.monotonic() - t0
    ru = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    times["cpu"] = sum(r.ru_utime + r.ru_stime for r in ru)   # on a loaded machine: what it needs
    with open(os.path.join(a.out, "timing.json"), "w") as f:
        json.dump(times, f, indent=1)
    print("vkci: coverage report %s/index.html (%.1f s: merge %.1f s, capture %.1f s, genhtml %.1f s; "
          "%.1f CPU s)" % (html, times["total"], times["merge"], times["capture"], times["genhtml"], times["cpu"]))
    return 0


def who(a):
    """Which tests executed FILE:LINE (FILE relative to the kernel source, or
    absolute), from the per-test index of make coverage PER_TEST=1."""
    path = os.path.join(a.out, "index.json")
    if not os.path.exists(path):
        die("no per-test index '%s' (run make coverage PER_TEST=1)" % path, 2)
    file, _, line = a.where.rpartition(":")
    if not file or not line.isdigit():
        die("usage: coverage.py who FILE:LINE (FILE relative to the kernel source)", 2)
    with open(path) as f:
        index = json.load(f)
    if os.path.isabs(file):
        file = os.path.relpath(os.path.realpath(file), index["source"])
    tests = index["lines"].get(os.path.normpath(file), {}).get(line, [])
    for t in tests:
        print(t)
    return 0 if tests else 1


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
    c = sub.add_parser("count")
    c.add_argument("--kernel", required=True)
    c.add_argument("--tree", required=True)
    c.add_argument("function")
    a = ap.parse_args()
    sys.exit({"report": report, "watch": watch, "who": who, "count": count}[a.cmd](a))


if __name__ == "__main__":
    main()
