#!/usr/bin/env python3
"""ci/report.py OUT - the reports of one run, from what it left in OUT/:
   ci/report.py --merge DIR... -o OUT - one report from the shards' OUT dirs

  OUT/logs/SUITE/TEST/result.json   written by `vkci exec` (one per test)
  OUT/tap/...                       each test's TAP, dumped by TAP::Harness
                                    (PERL_TEST_HARNESS_DUMP_TAP)
writes
  OUT/summary.json   suite -> tests with pass/fail/skip/crash/infra counts, in
                     the spirit of KernelCI's test results, plus crash groups
                     by fingerprint (the same bug across tests)
  OUT/junit.xml      JUnit XML, produced by TAP::Formatter::JUnit from the
                     dumped TAP (prove --formatter), not written by hand
  OUT/archive.tar.gz prove's TAP archive: every test's TAP and meta.yml (what
                     `prove --archive` (TAP::Harness::Archive) writes into
                     OUT/tap; written here when that module is missing)
and prints a one-paragraph summary. Every test counts in exactly one of
pass, fail, crash, skip, infra, flaky (failed, then passed on a retry) and
quarantined (on the known-flaky list: reported, not counted).

Subtests: every TAP result line of a test (KTAP's nested ones too, ids like
"2.5") is a subtest with an outcome pass/fail/skip/todo. They come from
result.json's "subtests" and "plan" (format vkci-result/2) or, when a
record has none, from the test's TAP as prove dumped it under OUT/tap.
summary.json has them per test ("subtests", "plan", "subtest_counts") and
their counts per suite and in total; junit.xml gets one <testcase> per
subtest, nested ones included, with <skipped> for skips and TODOs.

--merge: the shards of one run (`make check SHARD=i/n` on n machines) into
OUT: logs/ and tap/ side by side (the shards' tests are disjoint), meta.yml
and prove-state (durations for the next run's shard balance) merged (and
kunit-state.json, the KUnit suites' durations), then
summary.json, junit.xml (regenerated from the merged TAP) and the archive as
for one run; coverage tracefiles OUT/coverage/*.info of the same name are
added with `lcov -a` and, when total.info results, genhtml writes
OUT/coverage/html. Standard library only (+ prove, lcov, genhtml).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "harness"))
import vkciresult  # noqa: E402  the result.json schema (harness/RESULT.md)

RESULTS = vkciresult.BUCKETS
# "xfail" (an expected failure, kselftest's expected.txt) appears only in runs that have one


def expected_failures(out):
    """{test: reason} of the run's expected failures: the xfail= lines of the
    kselftest metadata file make check wrote (OUT/kselftest.meta)."""
    xf = {}
    try:
        with open(os.path.join(out, "kselftest.meta"), encoding="utf-8", errors="replace") as f:
            for line in f:
                name, sep, rest = line.partition(" xfail=")
                if sep and not name.startswith("#"):
                    xf[name.split()[0]] = rest.strip()
    except OSError:
        pass
    return xf


SUBTEST_OUTCOMES = vkciresult.SUBTEST_OUTCOMES
TAP_MAX_NAME = 500


def subtest_counts(subtests):
    counts = dict.fromkeys(SUBTEST_OUTCOMES, 0)
    for st in subtests or ():
        counts[st["outcome"]] = counts.get(st["outcome"], 0) + 1
    return counts


def tap_index(out):
    """{SUITE/TEST: path of its TAP under OUT/tap} (prove's dump keeps the
    path prove ran: suites/vm/mremap.c -> vm/mremap, as vkci names it)."""
    index = {}
    tapdir = os.path.join(out, "tap")
    for rel in tap_files(tapdir) if os.path.isdir(tapdir) else ():
        parts = rel.split(os.sep)
        if len(parts) >= 2:
            index.setdefault(parts[-2] + "/" + os.path.splitext(parts[-1])[0], os.path.join(tapdir, rel))
    return index


def subtests_of(r):
    """(subtests, plan) of one result: result.json's "subtests" and "plan"
    (vkci-result/2: the driver's TAP/KTAP parser, harness/tap.c, or
    ci/kunit.py for KUnit suites), checked; a record without them has none."""
    sts = r.get("subtests")
    good = [{"id": str(x.get("id", "")), "name": str(x.get("name", ""))[:TAP_MAX_NAME],
             "outcome": x.get("outcome") if x.get("outcome") in SUBTEST_OUTCOMES else "fail"}
            for x in sts if isinstance(x, dict)] if isinstance(sts, list) else []
    plan = r.get("plan")
    if not isinstance(plan, int):
        plan = (r.get("tests") or {}).get("planned") if isinstance(r.get("tests"), dict) else None
    return good, plan


def load_results(out):
    results = []
    logs = os.path.join(out, "logs")
    for root, dirs, files in os.walk(logs):
        # attemptN/: a retried test's earlier attempts, listed in its own result.json
        dirs[:] = [d for d in dirs if not (d.startswith("attempt") and d[7:].isdigit())]
        if "result.json" in files:
            path = os.path.join(root, "result.json")
            try:
                results.append(vkciresult.load(path))
            except vkciresult.ResultError as e:
                print(f"report: skipping {e} (written by another vkci? run make check again)",
                      file=sys.stderr)
    return sorted(results, key=lambda r: r.get("test", ""))


def summarize(results, xfail=None):
    suites = {}
    crashes = {}
    xfail = xfail or {}
    for r in results:
        test = r.get("test", "?/?")
        suite, _, name = test.partition("/")
        s = suites.setdefault(suite, {"summary": dict.fromkeys(RESULTS, 0), "tests": {},
                                      "subtests": dict.fromkeys(SUBTEST_OUTCOMES, 0)})
        outcome = r.get("outcome", "infra")
        # one bucket per test: a quarantined test counts only as quarantined
        # an expected failure (kselftest xfail=, reported as TODO) that failed as
        # expected counts as xfail; crashing or passing shows as what it was
        outcome = r.get("outcome", "infra")
        if r.get("quarantined") and test in xfail:
            bucket = "xfail" if outcome == "fail" else outcome
        else:
            bucket = vkciresult.bucket(r)
        s["summary"][bucket] = s["summary"].get(bucket, 0) + 1
        s["tests"][name] = {k: r.get(k) for k in (
            "outcome", "reason", "exit_status", "duration_ms", "tests", "crash_kind",
            "crash_title", "crash_fingerprint", "crash_others", "console_log",
            "instance_dir_kept", "nodes")}
        if test in xfail:
            s["tests"][name]["expected_failure"] = xfail[test]
        s["tests"][name].update({"flaky": bool(r.get("flaky")),
                                 "quarantined": bool(r.get("quarantined")),
                                 "attempts": r.get("attempts") or [],
                                 "kind": r.get("kind", "c"),
                                 "backend": r.get("backend", "uml")})
        if r.get("session_log"):
            s["tests"][name]["session_log"] = r["session_log"]
        sts, plan = subtests_of(r)
        counts = subtest_counts(sts)
        s["tests"][name].update({"subtests": sts, "plan": plan, "subtest_counts": counts})
        for k, v in counts.items():
            s["subtests"][k] += v
        # crash groups: one per fingerprint (a hash of the crash title), so
        # the same bug in several tests is one group
        fp = r.get("crash_fingerprint")
        if fp:
            g = crashes.setdefault(fp, {"title": r.get("crash_title"), "kind": r.get("crash_kind"),
                                        "tests": []})
            g["tests"].append(test)
            g["title"] = g["title"] or r.get("crash_title")
        # a crash in an earlier attempt (a flaky crash) is the same bug
        for a in (r.get("attempts") or [])[:-1]:
            if a.get("crash_fingerprint"):
                g = crashes.setdefault(a["crash_fingerprint"], {"title": a.get("crash_title"),
                                                                "kind": a.get("crash_kind"), "tests": []})
                g["tests"].append("%s (attempt %s)" % (test, a.get("attempt")))
    total = dict.fromkeys(RESULTS, 0)
    subtotal = dict.fromkeys(SUBTEST_OUTCOMES, 0)
    for s in suites.values():
        for k, v in s["summary"].items():
            total[k] = total.get(k, 0) + v
        for k, v in s["subtests"].items():
            subtotal[k] += v
    kernels = sorted({r.get("kernel") for r in results if r.get("kernel")})
    return {
        "format": "vkci-summary/1",
        "tests": sum(total.values()),
        "kernel": kernels[0] if len(kernels) == 1 else kernels,
        "summary": total,
        "subtests": subtotal,
        "suites": suites,
        "crash_groups": [{"fingerprint": fp, "title": g["title"], "kind": g["kind"],
                          "count": len(g["tests"]), "tests": g["tests"]}
                         for fp, g in sorted(crashes.items(),
                                             key=lambda x: (-len(x[1]["tests"]), x[0]))],
    }


def junit(out):
    """Replay the dumped TAP through TAP::Formatter::JUnit."""
    tapdir = os.path.join(out, "tap")
    files = []
    for root, _dirs, names in os.walk(tapdir):
        files += [os.path.join(root, n) for n in names
                  if not (root == tapdir and n == "meta.yml")]
    if not files:
        return None
    files.sort()
    dest = os.path.join(out, "junit.xml")
    with open(dest + ".tmp", "wb") as f:
        r = subprocess.run(["prove", "--formatter", "TAP::Formatter::JUnit", "--exec", "cat"]
                           + [os.path.relpath(p, tapdir) for p in files],
                           cwd=tapdir, stdout=f, stderr=subprocess.PIPE)
    # prove exits non-zero when tests failed; the XML is complete either way
    if os.path.getsize(dest + ".tmp") == 0:
        print("report: TAP::Formatter::JUnit wrote nothing: " + r.stderr.decode()[-500:],
              file=sys.stderr)
        os.unlink(dest + ".tmp")
        return None
    os.replace(dest + ".tmp", dest)
    return dest


def junit_subtests(path, summary, taps):
    """What TAP::Formatter::JUnit leaves out, added to its XML: a skipped or
    TODO subtest gets <skipped message="reason"/> (it shows as a pass
    otherwise), each nested (KTAP) subtest its own <testcase> ("2.5 - name"),
    a test skipped as a whole one <testcase> with <skipped>, and every
    <testsuite> a skipped="N" count. The formatter names a suite after the
    TAP file's path (suites/vm/mremap.c -> suites_vm_mremap_c)."""
    try:
        tree = ET.parse(path)
    except (OSError, ET.ParseError) as e:
        print(f"report: cannot add subtests to '{path}': {e}", file=sys.stderr)
        return
    by_suite_name = {}
    for test, tap in taps.items():
        rel = os.path.relpath(tap, os.path.join(os.path.dirname(path), "tap"))
        by_suite_name[re.sub(r"\W", "_", rel)] = test
    tests = {f"{suite}/{name}": t for suite, sd in summary["suites"].items() for name, t in sd["tests"].items()}
    for ts in tree.getroot().iter("testsuite"):
        t = tests.get(by_suite_name.get(ts.get("name"), ""))
        if not t or t.get("subtests") is None:
            continue
        sts = t["subtests"]
        cases = {}
        for tc in ts.findall("testcase"):
            cases.setdefault((tc.get("name") or "").split(" ", 1)[0], tc)
        skipped = 0
        insert_at = len(ts.findall("testcase"))
        for st in sts:
            tc = cases.get(st["id"]) if "." not in st["id"] else None
            if tc is None and "." not in st["id"]:
                continue   # the formatter's cases are the top level's; nothing to add
            if tc is None:
                tc = ET.Element("testcase", name=(st["id"] + (" - " + st["name"] if st["name"] else "")))
                if st["outcome"] == "fail":
                    ET.SubElement(tc, "failure", message="not ok %s %s" % (st["id"], st["name"]),
                                  type="TestFailed")
                ts.insert(insert_at, tc)
                insert_at += 1
                ts.set("tests", str(int(ts.get("tests") or 0) + 1))
                if st["outcome"] == "fail":
                    ts.set("failures", str(int(ts.get("failures") or 0) + 1))
            if st["outcome"] in ("skip", "todo") and tc.find("skipped") is None:
                ET.SubElement(tc, "skipped", message=("TODO: " if st["outcome"] == "todo" else "") + st["name"])
                skipped += 1
        if not sts and t.get("outcome") == "skip":
            tc = ET.Element("testcase", name="skipped as a whole")
            ET.SubElement(tc, "skipped", message=str(t.get("reason") or "skipped"))
            ts.insert(0, tc)
            ts.set("tests", str(int(ts.get("tests") or 0) + 1))
            skipped += 1
        ts.set("skipped", str(skipped))
    tree.write(path + ".tmp", encoding="utf-8", xml_declaration=True)
    os.replace(path + ".tmp", path)


def tap_files(tapdir):
    """The dumped TAP files under tapdir, relative, sorted (not meta.yml)."""
    out = []
    for root, _dirs, names in os.walk(tapdir):
        for n in names:
            if not (root == tapdir and n == "meta.yml"):
                out.append(os.path.relpath(os.path.join(root, n), tapdir))
    return sorted(out)


def yaml_str(v):
    return json.dumps(str(v))   # a JSON string is a valid YAML scalar


def write_meta(path, files, attributes=None, start=None, stop=None):
    """meta.yml in TAP::Harness::Archive's shape (file_order, times)."""
    now = int(time.time())
    lines = ["---"]
    if attributes:
        lines.append("file_attributes:")
        for a in attributes:
            lines.append("  -")
            for k in sorted(a):
                lines.append("    %s: %s" % (k, yaml_str(a[k]) if k == "description" else a[k]))
    lines.append("file_order:")
    lines += ["  - " + yaml_str(f) for f in files]
    lines.append("start_time: %s" % (start if start is not None else now))
    lines.append("stop_time: %s" % (stop if stop is not None else now))
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def read_meta(path):
    """What merge needs from a meta.yml: file_attributes, start/stop time."""
    meta = {"file_attributes": [], "start_time": None, "stop_time": None}
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return meta
    section, cur = None, None
    for line in lines:
        if not line.startswith(" "):
            key, _, val = line.partition(":")
            section = key
            if key in ("start_time", "stop_time") and val.strip():
                meta[key] = val.strip()
            continue
        if section == "file_attributes":
            if line.strip() == "-":
                cur = {}
                meta["file_attributes"].append(cur)
            elif cur is not None and ":" in line:
                k, _, v = line.strip().partition(":")
                v = v.strip()
                cur[k] = json.loads(v) if v.startswith('"') else v.strip("'")
    return meta


def archive(out):
    """OUT/archive.tar.gz: OUT/tap's TAP files and meta.yml, the layout of
    prove --archive (TAP::Harness::Archive), which reads it back."""
    tapdir = os.path.join(out, "tap")
    files = tap_files(tapdir) if os.path.isdir(tapdir) else []
    if not files:
        return None
    meta = os.path.join(tapdir, "meta.yml")
    if not os.path.exists(meta):
        write_meta(meta, files)
    dest = os.path.join(out, "archive.tar.gz")
    with tarfile.open(dest + ".tmp", "w:gz") as tar:
        for f in files + ["meta.yml"]:
            tar.add(os.path.join(tapdir, f), arcname=f)
    os.replace(dest + ".tmp", dest)
    return dest


def read_prove_state(path):
    """prove's state file as (header {key: value}, {test: [block lines]})."""
    head, tests, cur = {}, {}, None
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return head, tests
    for line in lines:
        if line.startswith("    ") and cur is not None:
            tests[cur].append(line)
        elif line.startswith("  ") and line.rstrip().endswith(":"):
            cur = line.strip()[:-1]
            tests[cur] = []
        elif not line.startswith(" ") and ":" in line:
            k, _, v = line.partition(":")
            head[k] = v.strip()
            cur = None
    return head, tests


def merge_prove_state(paths, dest):
    """One state from the shards': each test's newest block (by last_run_time)."""
    def when(block):
        for l in block:
            if l.strip().startswith("last_run_time:"):
                try:
                    return float(l.split(":", 1)[1])
                except ValueError:
                    pass
        return 0.0
    gen, last, tests = 0, 0.0, {}
    for p in paths:
        head, t = read_prove_state(p)
        try:
            gen = max(gen, int(head.get("generation", 0)))
            last = max(last, float(head.get("last_run_time", 0)))
        except ValueError:
            pass
        for name, block in t.items():
            if name not in tests or when(block) >= when(tests[name]):
                tests[name] = block
    if not tests:
        return None
    lines = ["---", "generation: %d" % gen, "last_run_time: %s" % last, "tests:"]
    for name in sorted(tests):
        lines.append("  %s:" % name)
        lines += tests[name]
    lines += ["version: 1", "..."]
    with open(dest, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return dest


def copy_tree_into(src, dst, what, seen):
    """Copy src's files into dst; a file two shards both have is reported."""
    for root, _dirs, names in os.walk(src):
        for n in names:
            rel = os.path.relpath(os.path.join(root, n), src)
            if what == "tap" and rel == "meta.yml":
                continue
            target = os.path.join(dst, rel)
            if rel in seen and what == "tap":
                print(f"report: '{rel}' is in two shards ({seen[rel]} and {src}): keeping the later",
                      file=sys.stderr)
            seen[rel] = src
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(os.path.join(root, n), target)


def merge_coverage(dirs, out):
    """lcov -a over the shards' OUT/coverage/NAME.info, per NAME; genhtml on
    total.info. Returns the merged tracefiles."""
    names = {}
    for d in dirs:
        cdir = os.path.join(d, "coverage")
        if os.path.isdir(cdir):
            for n in os.listdir(cdir):
                if n.endswith(".info"):
                    names.setdefault(n, []).append(os.path.join(cdir, n))
    if not names:
        return []
    if not shutil.which("lcov"):
        print("report: coverage tracefiles found but no lcov (apt-get install lcov): not merged",
              file=sys.stderr)
        return []
    cdir = os.path.join(out, "coverage")
    os.makedirs(cdir, exist_ok=True)
    merged = []
    for n, paths in sorted(names.items()):
        dest = os.path.join(cdir, n)
        argv = ["lcov", "-q"]
        for p in paths:
            argv += ["-a", p]
        r = subprocess.run(argv + ["-o", dest], capture_output=True, text=True)
        if r.returncode != 0:
            print(f"report: lcov -a of {n} failed: {r.stderr.strip()[-500:]}", file=sys.stderr)
            continue
        merged.append(dest)
    total = os.path.join(cdir, "total.info")
    if total in merged and shutil.which("genhtml"):
        html = os.path.join(cdir, "html")
        shutil.rmtree(html, ignore_errors=True)
        r = subprocess.run(["genhtml", "-q", "--legend", "--ignore-errors", "source",
                            "-t", "vkci coverage (merged shards)", "-o", html, total],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print(f"report: genhtml failed: {r.stderr.strip()[-500:]}", file=sys.stderr)
    return merged


def unpack(path, dest):
    """Extract a TAP archive: regular files and dirs only, names inside dest."""
    with tarfile.open(path) as tar:
        for m in tar.getmembers():
            target = os.path.realpath(os.path.join(dest, m.name))
            if not target.startswith(os.path.realpath(dest) + os.sep) or not (m.isfile() or m.isdir()):
                print(f"report: skipping '{m.name}' in '{path}'", file=sys.stderr)
                continue
            if m.isdir():
                os.makedirs(target, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with tar.extractfile(m) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)


def merge(dirs, out):
    """The shards' OUT dirs into out; the reports are then made as for one run."""
    for d in dirs:
        if not os.path.isdir(d):
            print(f"report: no shard dir '{d}'", file=sys.stderr)
            return 2
    if os.path.abspath(out) in [os.path.abspath(d) for d in dirs]:
        print(f"report: the merged dir '{out}' must not be one of the shards", file=sys.stderr)
        return 2
    for sub in ("logs", "tap", "coverage"):
        shutil.rmtree(os.path.join(out, sub), ignore_errors=True)
    for f in ("summary.json", "junit.xml", "archive.tar.gz", "prove-state"):
        try:
            os.unlink(os.path.join(out, f))
        except FileNotFoundError:
            pass
    os.makedirs(os.path.join(out, "tap"), exist_ok=True)
    seen_tap, seen_logs = {}, {}
    attrs, starts, stops = [], [], []
    for d in dirs:
        tapdir = os.path.join(d, "tap")
        if not os.path.isdir(tapdir) and os.path.exists(os.path.join(d, "archive.tar.gz")):
            # a shard that kept only its archive (a CI artifact)
            tapdir = os.path.join(out, ".unpack", str(len(starts) + len(attrs)) + os.path.basename(d))
            unpack(os.path.join(d, "archive.tar.gz"), tapdir)
        if os.path.isdir(tapdir):
            copy_tree_into(tapdir, os.path.join(out, "tap"), "tap", seen_tap)
            m = read_meta(os.path.join(tapdir, "meta.yml"))
            attrs += m["file_attributes"]
            starts += [m["start_time"]] if m["start_time"] else []
            stops += [m["stop_time"]] if m["stop_time"] else []
        if os.path.isdir(os.path.join(d, "logs")):
            copy_tree_into(os.path.join(d, "logs"), os.path.join(out, "logs"), "logs", seen_logs)
    shutil.rmtree(os.path.join(out, ".unpack"), ignore_errors=True)
    # the shards' kselftest metadata (expected failures) as one file
    lines = []
    for d in dirs:
        try:
            with open(os.path.join(d, "kselftest.meta"), encoding="utf-8", errors="replace") as f:
                lines += [x for x in f if not x.startswith("#") and x not in lines]
        except OSError:
            pass
    if lines:
        with open(os.path.join(out, "kselftest.meta"), "w", encoding="utf-8") as f:
            f.writelines(lines)
    files = tap_files(os.path.join(out, "tap"))
    write_meta(os.path.join(out, "tap", "meta.yml"), files, attrs,
               min(starts, key=float) if starts else None, max(stops, key=float) if stops else None)
    merge_prove_state([os.path.join(d, "prove-state") for d in dirs], os.path.join(out, "prove-state"))
    # the KUnit suites' recorded durations (ci/kunit.py plans the next run's groups by them)
    ks = {"suites": {}, "cases": {}, "boot_ms": None}
    for d in dirs:
        try:
            with open(os.path.join(d, "kunit-state.json"), encoding="utf-8") as f:
                k = json.load(f)
            ks["suites"].update(k.get("suites") or {})
            ks["cases"].update(k.get("cases") or {})
            ks["boot_ms"] = k.get("boot_ms") or ks["boot_ms"]
        except (OSError, ValueError, AttributeError):
            pass
    if ks["suites"]:
        with open(os.path.join(out, "kunit-state.json"), "w", encoding="utf-8") as f:
            json.dump(ks, f, indent=1, sort_keys=True)
    cov = merge_coverage(dirs, out)
    print(f"vkci: merged {len(dirs)} shards into {out}: {len(files)} TAP files"
          + (f", coverage {', '.join(os.path.basename(c) for c in cov)}" if cov else ""))
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--merge":
        dirs, out = [], None
        i = 1
        while i < len(argv):
            if argv[i] == "-o" and i + 1 < len(argv):
                out = argv[i + 1]
                i += 2
            else:
                dirs.append(argv[i])
                i += 1
        if not dirs or not out:
            print("usage: ci/report.py --merge SHARD-DIR... -o OUT-DIR", file=sys.stderr)
            return 2
        rc = merge(dirs, out)
        if rc:
            return rc
    elif len(argv) == 1:
        out = argv[0]
    else:
        print("usage: ci/report.py OUT-DIR | ci/report.py --merge SHARD-DIR... -o OUT-DIR",
              file=sys.stderr)
        return 2
    results = load_results(out)
    if not results:
        print(f"report: no results under '{out}/logs' (did make check run?)", file=sys.stderr)
        return 3
    summary = summarize(results, expected_failures(out))
    with open(os.path.join(out, "summary.json.tmp"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(os.path.join(out, "summary.json.tmp"), os.path.join(out, "summary.json"))
    xml = junit(out)
    if xml:
        junit_subtests(xml, summary, tap_index(out))
    tgz = archive(out)
    t = summary["summary"]
    st = summary["subtests"]
    print("vkci: %d tests: %d passed, %d failed, %d crashed, %d skipped, %d infrastructure, "
          "%d flaky, %d quarantined%s; subtests: %d passed, %d failed, %d skipped, %d todo"
          % (sum(t.values()), t["pass"], t["fail"], t["crash"], t["skip"], t["infra"],
             t["flaky"], t["quarantined"], ", %d expected failures" % t["xfail"] if t.get("xfail") else "",
             st["pass"], st["fail"], st["skip"], st["todo"]))
    for g in summary["crash_groups"]:
        print(f"vkci: crash x{g['count']}: {g['title'] or g['fingerprint']} [{g['fingerprint']}] "
              f"({', '.join(g['tests'][:5])})")
    for suite, s in sorted(summary["suites"].items()):
        for name, r in sorted(s["tests"].items()):
            if r["flaky"]:
                failed = [a for a in r["attempts"] if a.get("exit_status")]
                print(f"vkci: flaky: {suite}/{name}: passed on attempt {len(r['attempts'])} after "
                      + "; ".join(str(a.get("reason") or "exit %s" % a.get("exit_status")) for a in failed))
            elif r.get("expected_failure") and r["outcome"] == "fail":
                print(f"vkci: expected failure: {suite}/{name}: {r['expected_failure']}")
            elif r["quarantined"] and r["outcome"] not in ("pass", "skip"):
                print(f"vkci: quarantined (not counted): {suite}/{name}: {r['outcome']}: {r['reason']}")
    print(f"vkci: reports: {out}/summary.json" + (f", {xml}" if xml else "")
          + (f", {tgz}" if tgz else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
