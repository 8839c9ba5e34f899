#!/usr/bin/env python3
"""ci/nightly.py - the nightly runner: every configured kernel through
`make check` (or `make coverage`), each night's results kept, compared with
the previous night.

  nightly.py [run] -c CONFIG [--results DIR] [--night NAME] [--only KERNEL]...
  nightly.py compare --results DIR [--night NAME] [--previous NAME] [--out DIR]

CONFIG (JSON, see ci/nightly.example.json):
  {"results": "~/vkci-nights",          where the nights are kept
   "cache": "~/.cache/vkci/nightly",    mirrors and checkouts of git kernels
   "jobs": 4, "retries": 1,             make check JOBS= and RETRIES=
   "make_args": ["SUITES=vm fs"],       more make arguments, for every kernel
   "kernels": [
     {"name": "debian"},                                  the default kernel
     {"name": "mine", "source": "~/src/linux"},           a source tree as it is
     {"name": "next", "git": "https://...linux.git", "branch": "master",
      "kconfig": ["ci/debug.config"], "coverage": true}]}  a branch, a variant

A "git" kernel is mirrored into the cache (git clone --mirror; fetched every
night) and checked out there (a worktree of the mirror, detached at the
branch's head): the user's own repository and tree are never written. Its
commit goes into the night's record. "kconfig" lists config fragments
(make's KCONFIG=), "coverage": true runs `make coverage` instead of
`make check` (OUT/coverage/total.info then gives the coverage delta).

Each night is RESULTS/nights/YYYY-MM-DD (-2, -3, ... for a second run the
same day) with KERNEL/out (make's OUT: logs, TAP, summary.json, junit.xml,
archive), KERNEL/make.log and KERNEL/run.json, and the comparison with the
previous night: summary.txt, summary.html and compare.json. For each kernel:
new failures (failing tonight, not failing the night before, a new test
that fails, or a kernel that no longer builds/runs; on a kernel's first
night nothing is new), fixed, still failing, flaky, quarantined, and
the line coverage delta when both nights have coverage.

Exit status: 0 no regression, 1 a regression (a new failure or a subtest
regression), 2 usage or
config error, 3 infrastructure (results dir not writable, git failed before
any test ran). Standard library only (git, make from Debian).
"""
import argparse
import datetime
import html
import json
import os
import re
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "harness"))
import vkciresult  # noqa: E402  the result.json schema (harness/RESULT.md)
sys.path.insert(0, os.path.join(TOP, "ci"))
import report  # noqa: E402  (subtests from a night's TAP when its summary.json has none)

FAILING = vkciresult.FAILING


class ConfigError(Exception):
    pass


def say(msg):
    print("nightly: " + msg, file=sys.stderr, flush=True)


# ---- config -----------------------------------------------------------------

def load_config(path):
    try:
        with open(path, encoding="utf-8") as f:
            cfg = json.load(f)
    except OSError as e:
        raise ConfigError(f"cannot read config '{path}': {e.strerror} (see ci/nightly.example.json)")
    except ValueError as e:
        raise ConfigError(f"config '{path}' is not valid JSON: {e}")
    if not isinstance(cfg, dict) or not isinstance(cfg.get("kernels"), list) or not cfg["kernels"]:
        raise ConfigError(f"config '{path}' needs a non-empty \"kernels\" list")
    base = os.path.dirname(os.path.abspath(path))
    names = set()
    for k in cfg["kernels"]:
        if not isinstance(k, dict) or not re.fullmatch(r"[A-Za-z0-9._-]+", str(k.get("name", ""))):
            raise ConfigError(f"config '{path}': every kernel needs a \"name\" of letters, digits, . _ -")
        if k["name"] in names:
            raise ConfigError(f"config '{path}': kernel name '{k['name']}' used twice")
        names.add(k["name"])
        if k.get("source") and k.get("git"):
            raise ConfigError(f"kernel '{k['name']}': give \"source\" or \"git\", not both")
        if k.get("source"):
            k["source"] = os.path.join(base, os.path.expanduser(k["source"]))
        if k.get("git") and os.path.isdir(os.path.join(base, os.path.expanduser(k["git"]))):
            k["git"] = os.path.join(base, os.path.expanduser(k["git"]))
        k["kconfig"] = [os.path.join(base, os.path.expanduser(f)) if not os.path.isabs(f) and
                        os.path.exists(os.path.join(base, f)) else os.path.abspath(os.path.expanduser(f))
                        for f in k.get("kconfig", [])]
    cfg.setdefault("results", "~/vkci-nights")
    cfg.setdefault("cache", "~/.cache/vkci/nightly")
    cfg["results"] = os.path.join(base, os.path.expanduser(cfg["results"]))
    cfg["cache"] = os.path.join(base, os.path.expanduser(cfg["cache"]))
    return cfg


# ---- nights -----------------------------------------------------------------

def night_key(name):
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2})(?:-(\d+))?", name)
    return (m.group(1), int(m.group(2) or 1)) if m else None


def nights(results):
    d = os.path.join(results, "nights")
    try:
        names = [n for n in os.listdir(d) if night_key(n) and os.path.isdir(os.path.join(d, n))]
    except OSError:
        return []
    return sorted(names, key=night_key)


def new_night_name(results, today=None):
    today = today or datetime.date.today().isoformat()
    taken = set(nights(results))
    if today not in taken:
        return today
    i = 2
    while f"{today}-{i}" in taken:
        i += 1
    return f"{today}-{i}"


# ---- kernels ------------------------------------------------------------------

def git(args, **kw):
    return subprocess.run(["git"] + args, capture_output=True, text=True, **kw)


def checkout(k, cache):
    """A git kernel: mirror in the cache, fetched; a detached worktree of the
    mirror at the branch head. Returns (tree, commit)."""
    mirror = os.path.join(cache, "git", k["name"] + ".git")
    tree = os.path.join(cache, "src", k["name"])
    branch = k.get("branch", "HEAD")
    os.makedirs(os.path.dirname(mirror), exist_ok=True)
    os.makedirs(os.path.dirname(tree), exist_ok=True)
    if not os.path.isdir(mirror):
        r = git(["clone", "--quiet", "--mirror", k["git"], mirror])
    else:
        r = git(["--git-dir", mirror, "fetch", "--quiet", "--prune", "origin"])
    if r.returncode:
        raise RuntimeError(f"git clone/fetch of '{k['git']}' failed: {r.stderr.strip()[-300:]}")
    r = git(["--git-dir", mirror, "rev-parse", "--verify", "--quiet", branch + "^{commit}"])
    if r.returncode:
        raise RuntimeError(f"no branch '{branch}' in '{k['git']}' (set \"branch\")")
    commit = r.stdout.strip()
    if os.path.isdir(os.path.join(tree, ".git")) or os.path.isfile(os.path.join(tree, ".git")):
        r = git(["-C", tree, "checkout", "--quiet", "--force", "--detach", commit])
        if r.returncode == 0:
            git(["-C", tree, "clean", "-q", "-d", "-f", "-x"])
    else:
        git(["--git-dir", mirror, "worktree", "prune"])
        r = git(["--git-dir", mirror, "worktree", "add", "--force", "--detach", tree, commit])
    if r.returncode:
        raise RuntimeError(f"checkout of {commit[:12]} into '{tree}' failed: {r.stderr.strip()[-300:]}")
    return tree, commit


def auto_bisect(cfg, k, kdir, prev_dir, make_cmd, kc):
    """Each new failure of a git kernel, bisected between the previous
    night's commit and tonight's (`make bisect` in the night's checkout,
    which is vkci's own: --workdir). The results land in KERNEL/bisect/NAME/
    and compare() reads them; why a kernel was not bisected goes into
    run.json's "bisect_note"."""
    run, prev = read_run(kdir), read_run(prev_dir) if prev_dir else {}
    note = None
    tests = [d["test"] for d in kc["new_failure_details"] if d["test"] != "(kernel)"]
    if not tests:
        note = "no test to bisect (the kernel did not build or run)"
    elif not prev.get("commit") or not run.get("commit"):
        note = "no commit recorded for the previous night"
    elif prev["commit"] == run["commit"]:
        note = f"same commit {run['commit'][:12]} as the previous night: not a kernel change"
    if note is None:
        paths = {t: os.path.relpath(p, os.path.join(kdir, "out", "tap"))
                 for t, p in report.tap_index(os.path.join(kdir, "out")).items()}
        limit = int(k.get("bisect_max", cfg.get("bisect_max", 3)))
        for t in tests[:limit]:
            if t not in paths:
                continue
            out = os.path.join(kdir, "bisect", t.replace("/", "_"))
            argv = list(make_cmd) + ["bisect", "KERNEL=" + os.path.join(cfg["cache"], "git", k["name"] + ".git"),
                                     "GOOD=" + prev["commit"], "BAD=" + run["commit"], "TESTS=" + paths[t],
                                     "BISECT_OUT=" + out, "BISECT_WORKDIR=" + os.path.join(cfg["cache"], "src", k["name"])]
            if k["kconfig"]:
                argv.append("KCONFIG=" + ",".join(k["kconfig"]))
            say(f"{k['name']}: bisecting {t} between {prev['commit'][:12]} and {run['commit'][:12]}")
            os.makedirs(out, exist_ok=True)
            with open(out + ".log", "w", encoding="utf-8") as log:
                r = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            say(f"{k['name']}: bisect of {t}: exit {r.returncode} (see {out}.log)")
        if len(tests) > limit:
            note = f"bisected the first {limit} new failures (bisect_max)"
    if note:
        run["bisect_note"] = note
        with open(os.path.join(kdir, "run.json"), "w", encoding="utf-8") as f:
            json.dump(run, f, indent=1, sort_keys=True)


def bisect_new_failures(cfg, kernels, results, night, cmp, make_cmd, prepare=None):
    """auto_bisect for each kernel of kernels followed as a git branch (and
    not "bisect": false) that has new failures in cmp; prepare(k), when
    given, readies its repository first (False: not bisected). Returns the
    comparison (made again when something was bisected, so it carries the
    culprits) and how many kernels prepare refused."""
    bisected = failed = 0
    for kc in cmp["kernels"]:
        k = next((x for x in kernels if x["name"] == kc["kernel"]), None)
        if not (k and k.get("git") and k.get("bisect", cfg.get("bisect", True)) and kc["new_failures"]):
            continue
        if prepare and not prepare(k):
            failed += 1
            continue
        prev = cmp["previous"] and os.path.join(results, "nights", cmp["previous"], k["name"])
        auto_bisect(cfg, k, os.path.join(results, "nights", night, k["name"]), prev, make_cmd, kc)
        bisected += 1
    return (compare(results, night) if bisected else cmp), failed


def run_kernel(cfg, k, kdir, make_cmd):
    """One kernel through make check/coverage into kdir/out. Returns run.json's dict."""
    os.makedirs(kdir, exist_ok=True)
    rec = {"name": k["name"], "started": time.time(), "coverage": bool(k.get("coverage")),
           "kconfig": k["kconfig"], "source": k.get("source") or k.get("git") or "(default)"}
    kernel = k.get("source", "")
    try:
        if k.get("git"):
            kernel, rec["commit"] = checkout(k, cfg["cache"])
            rec["branch"] = k.get("branch", "HEAD")
    except (RuntimeError, OSError) as e:
        rec.update(status=3, error=str(e), finished=time.time())
        say(f"{k['name']}: {e}")
        return rec
    argv = list(make_cmd) + ["coverage" if k.get("coverage") else "check",
                             "OUT=" + os.path.join(kdir, "out"), "KERNEL=" + kernel]
    if k["kconfig"]:
        argv.append("KCONFIG=" + ",".join(k["kconfig"]))
    for key, var in (("jobs", "JOBS"), ("retries", "RETRIES")):
        if key in k or key in cfg:
            argv.append(f"{var}={k.get(key, cfg.get(key))}")
    argv += list(cfg.get("make_args", [])) + list(k.get("make_args", []))
    rec["argv"] = argv
    say(f"{k['name']}: " + " ".join(argv))
    with open(os.path.join(kdir, "make.log"), "w", encoding="utf-8") as log:
        r = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    rec.update(status=r.returncode, finished=time.time())
    return rec


# ---- comparison ---------------------------------------------------------------

def read_json(path):
    """The JSON document at path, or None when it is missing or unreadable
    (a night's files, the fleet's records, the nightly page's inputs)."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def load_outcomes(kdir):
    """{SUITE/TEST: bucket} from KERNEL/out/summary.json, or None without one."""
    s = read_json(os.path.join(kdir, "out", "summary.json"))
    if s is None:
        return None
    out = {}
    for suite, sd in s.get("suites", {}).items():
        for name, t in sd.get("tests", {}).items():
            out[f"{suite}/{name}"] = "quarantined" if t.get("quarantined") else t.get("outcome", "infra")
    return out


def load_subtests(kdir):
    """{SUITE/TEST: (subtests, plan)} of a night's kernel: from summary.json,
    or, for a summary written before it had subtests, from the night's
    result.json files (OUT/logs)."""
    out = {}
    s = read_json(os.path.join(kdir, "out", "summary.json"))
    if s is None:
        return out
    for suite, sd in s.get("suites", {}).items():
        for name, t in sd.get("tests", {}).items():
            if isinstance(t.get("subtests"), list):
                out[f"{suite}/{name}"] = (t["subtests"], t.get("plan"))
    if out:
        return out
    for r in report.load_results(os.path.join(kdir, "out")):
        out[r.get("test", "")] = report.subtests_of(r)
    return out


def subtest_regressions(prev, cur):
    """{test: [{"test", "subtest", "was", "now"}]}: a subtest that passed the
    night before and now skips, fails, is a TODO or is missing, and a plan
    that shrank (subtest "(plan)", was/now "1..N"), for the tests both nights
    ran with subtests. Subtests are matched by id ("3", "2.5")."""
    regs = {}
    for test in sorted(set(prev) & set(cur)):
        (psts, pplan), (csts, cplan) = prev[test], cur[test]
        now = {st.get("id"): st for st in csts}
        out = []
        if isinstance(pplan, int) and isinstance(cplan, int) and cplan < pplan:
            out.append({"test": test, "subtest": "(plan)", "was": f"1..{pplan}", "now": f"1..{cplan}"})
        for st in psts:
            if st.get("outcome") != "pass":
                continue
            c = now.get(st.get("id"))
            if c is None or c.get("outcome") != "pass":
                name = st.get("name") or ""   # the name it passed under (a skip's is its reason)
                out.append({"test": test, "subtest": st["id"] + (" - " + name if name else ""),
                            "id": st["id"], "name": name, "was": "pass",
                            "now": c.get("outcome") if c else "missing"})
        if out:
            regs[test] = out
    return regs


def coverage_pct(kdir):
    """Line coverage of KERNEL/out/coverage/total.info (LH/LF sums), or None."""
    hit = found = 0
    try:
        with open(os.path.join(kdir, "out", "coverage", "total.info"), encoding="utf-8",
                  errors="replace") as f:
            for line in f:
                if line.startswith("LH:"):
                    hit += int(line[3:])
                elif line.startswith("LF:"):
                    found += int(line[3:])
    except (OSError, ValueError):
        return None
    return 100.0 * hit / found if found else None


def read_run(kdir):
    return read_json(os.path.join(kdir, "run.json")) or {}


def load_bisections(kdir, night_dir):
    """{SUITE/TEST: {"status", "culprit" or None, ...}} from the night's
    bisections (KERNEL/bisect/SUITE_TEST/bisect.json); paths relative to the
    night's dir, so a published night links them."""
    out = {}
    bdir = os.path.join(kdir, "bisect")
    for d in sorted(os.listdir(bdir)) if os.path.isdir(bdir) else ():
        b = read_json(os.path.join(bdir, d, "bisect.json"))
        if b is None:
            continue
        res = b.get("result") or {}
        tests = b.get("tests") or []
        name = report_name(tests[0]) if tests else d.replace("_", "/", 1)
        rel = lambda p: os.path.relpath(p, night_dir) if p and os.path.isabs(p) and \
            os.path.abspath(p).startswith(os.path.abspath(night_dir) + os.sep) else p
        entry = {"status": res.get("status"), "error": res.get("error"), "culprit": None,
                 "bisect_log": rel(os.path.join(bdir, d, "bisect.txt")), "confidence": res.get("confidence"),
                 "candidates": res.get("candidates"), "steps": (b.get("timing") or {}).get("steps")}
        cu = res.get("culprit")
        if res.get("status") == "found" and cu:
            entry["culprit"] = {"commit": cu.get("commit"), "subject": cu.get("subject"),
                                "test": report_name(cu["test"]) if cu.get("test") else name,
                                "reason": cu.get("reason"), "crash_title": cu.get("crash_title"),
                                "log": rel(cu.get("log"))}
        out[name] = entry
    return out


def report_name(path):
    """suites/vm/mremap.c -> vm/mremap (vkci's test name)."""
    parts = os.path.normpath(path).split(os.sep)
    return parts[-1] if len(parts) < 2 else parts[-2] + "/" + os.path.splitext(parts[-1])[0]


def compare_kernel(name, cur_dir, prev_dir):
    cur = load_outcomes(cur_dir)
    prev = load_outcomes(prev_dir) if prev_dir else None
    run = read_run(cur_dir)
    c = {"kernel": name, "commit": run.get("commit"), "status": run.get("status"),
         "previous": prev is not None, "new_failures": [], "new_failure_details": [], "bisections": {},
         "fixed": [], "still_failing": [],
         "flaky": [], "quarantined": [], "counts": {}, "coverage": None, "coverage_delta": None,
         "broken": None, "subtest_regressions": {}, "subtest_counts": {}}
    if cur is None:
        # no results at all: the kernel did not build or the run did not start
        c["broken"] = run.get("error") or f"no results (make exited {run.get('status')}; see make.log)"
        if prev:
            c["new_failures"].append(f"(kernel) {c['broken']}")
            c["new_failure_details"].append({"test": "(kernel)", "now": "broken", "was": None, "culprit": None})
        return c
    c["bisections"] = load_bisections(cur_dir, os.path.dirname(cur_dir))
    c["bisect_note"] = run.get("bisect_note")
    for t, o in sorted(cur.items()):
        c["counts"][o] = c["counts"].get(o, 0) + 1
        was = (prev or {}).get(t)
        if o in FAILING:
            if prev is None:
                c["still_failing"].append(f"{t} ({o}; no previous night to compare with)")
            elif was in FAILING:
                c["still_failing"].append(f"{t} ({o})")
            else:
                c["new_failures"].append(f"{t} ({o}" + (f", was {was})" if was else ", new test)"))
                c["new_failure_details"].append({"test": t, "now": o, "was": was,
                                                 "culprit": (c["bisections"].get(t) or {}).get("culprit")})
        elif was in FAILING:
            c["fixed"].append(f"{t} ({was} -> {o})")
        if o == "flaky":
            c["flaky"].append(t)
        if o == "quarantined":
            c["quarantined"].append(t)
    cur_sts = load_subtests(cur_dir)
    for sts, _plan in cur_sts.values():
        for st in sts:
            c["subtest_counts"][st["outcome"]] = c["subtest_counts"].get(st["outcome"], 0) + 1
    if prev is not None:
        c["subtest_regressions"] = subtest_regressions(load_subtests(prev_dir), cur_sts)
    c["coverage"] = coverage_pct(cur_dir)
    pc = coverage_pct(prev_dir) if prev_dir else None
    if c["coverage"] is not None and pc is not None:
        c["coverage_delta"] = c["coverage"] - pc
    return c


def compare(results, night, previous=None):
    ndir = os.path.join(results, "nights", night)
    all_nights = nights(results)
    if previous is None:
        earlier = [n for n in all_nights if night_key(n) < night_key(night)]
        previous = earlier[-1] if earlier else None
    pdir = os.path.join(results, "nights", previous) if previous else None
    kernels = sorted(k for k in os.listdir(ndir) if os.path.isdir(os.path.join(ndir, k)))
    cmp = {"night": night, "previous": previous, "kernels": []}
    for k in kernels:
        prev_k = os.path.join(pdir, k) if pdir and os.path.isdir(os.path.join(pdir, k)) else None
        cmp["kernels"].append(compare_kernel(k, os.path.join(ndir, k), prev_k))
    cmp["regressions"] = sum(regression_count(k) for k in cmp["kernels"])
    return cmp


def regression_count(k):
    """New failures, plus the tests whose subtests regressed while the test
    itself did not newly fail (a pass hiding a new skip, a shrunken plan)."""
    failing = {t.split(" (")[0] for t in k["new_failures"]}
    return len(k["new_failures"]) + sum(1 for t in k.get("subtest_regressions", {}) if t not in failing)


# ---- summaries ------------------------------------------------------------------

SECTIONS = (("new_failures", "NEW FAILURES"), ("fixed", "fixed"), ("still_failing", "still failing"),
            ("flaky", "flaky (passed on a retry)"), ("quarantined", "quarantined (not counted)"))


def text_summary(cmp):
    lines = [f"vkci nightly {cmp['night']}" + (f" (compared with {cmp['previous']})"
                                              if cmp["previous"] else " (no previous night)"),
             f"regressions: {cmp['regressions']}", ""]
    for k in cmp["kernels"]:
        head = f"== {k['kernel']}" + (f" @ {k['commit'][:12]}" if k.get("commit") else "")
        counts = ", ".join(f"{v} {o}" for o, v in sorted(k["counts"].items()))
        lines.append(head + (f": {counts}" if counts else ""))
        if k["broken"]:
            lines.append(f"   broken: {k['broken']}")
        if k["coverage"] is not None:
            d = k["coverage_delta"]
            lines.append(f"   line coverage {k['coverage']:.2f}%" +
                         (f" ({d:+.2f} points)" if d is not None else ""))
        if k.get("subtest_counts"):
            lines.append("   subtests: " + ", ".join(f"{v} {o}" for o, v in sorted(k["subtest_counts"].items())))
        for key, title in SECTIONS:
            if k[key]:
                lines.append(f"   {title}: {len(k[key])}")
                for i, t in enumerate(k[key]):
                    lines.append(f"     {t}")
                    if key == "new_failures" and i < len(k.get("new_failure_details", [])):
                        lines += ["       " + x for x in culprit_lines(k, k["new_failure_details"][i])]
            if key == "new_failures" and k.get("bisect_note"):
                lines.append(f"   not bisected: {k['bisect_note']}")
            if key == "new_failures" and k.get("subtest_regressions"):
                regs = [r for rs in k["subtest_regressions"].values() for r in rs]
                lines.append(f"   SUBTEST REGRESSIONS: {len(regs)} in {len(k['subtest_regressions'])} test(s)")
                lines += [f"     {r['test']}: {r['subtest']}: {r['was']} -> {r['now']}" for r in regs]
        lines.append("")
    return "\n".join(lines)


def html_summary(cmp):
    e = html.escape
    colour = {"new_failures": "#c00", "fixed": "#070", "still_failing": "#a60", "flaky": "#66a",
              "quarantined": "#777"}
    out = ["<!DOCTYPE html><html><head><meta charset='utf-8'>",
           f"<title>vkci nightly {e(cmp['night'])}</title>",
           "<style>body{font-family:sans-serif;margin:2em}td,th{padding:.2em .8em;text-align:left}"
           "h2{margin-top:1.5em}ul{margin:.2em 0}</style></head><body>",
           f"<h1>vkci nightly {e(cmp['night'])}</h1>",
           f"<p>Compared with {e(cmp['previous']) if cmp['previous'] else 'no previous night'}: "
           f"<b style='color:{'#c00' if cmp['regressions'] else '#070'}'>{cmp['regressions']} "
           "regression(s)</b></p>",
           "<table><tr><th>kernel</th><th>commit</th><th>results</th><th>new failures</th>"
           "<th>fixed</th><th>coverage</th></tr>"]
    for k in cmp["kernels"]:
        cov = "" if k["coverage"] is None else f"{k['coverage']:.2f}%" + (
            "" if k["coverage_delta"] is None else f" ({k['coverage_delta']:+.2f})")
        res = e(", ".join(f"{v} {o}" for o, v in sorted(k["counts"].items())) or (k["broken"] or ""))
        out.append(f"<tr><td><a href='#{e(k['kernel'])}'>{e(k['kernel'])}</a></td>"
                   f"<td>{e((k.get('commit') or '')[:12])}</td><td>{res}</td>"
                   f"<td>{len(k['new_failures'])}</td><td>{len(k['fixed'])}</td><td>{cov}</td></tr>")
    out.append("</table>")
    for k in cmp["kernels"]:
        out.append(f"<h2 id='{e(k['kernel'])}'>{e(k['kernel'])}</h2>")
        out.append(f"<p><a href='{e(k['kernel'])}/out/summary.json'>summary.json</a> · "
                   f"<a href='{e(k['kernel'])}/out/junit.xml'>junit.xml</a> · "
                   f"<a href='{e(k['kernel'])}/make.log'>make.log</a></p>")
        if k["broken"]:
            out.append(f"<p style='color:#c00'>broken: {e(k['broken'])}</p>")
        for key, title in SECTIONS:
            if k[key]:
                out.append(f"<h3 style='color:{colour[key]}'>{e(title)} ({len(k[key])})</h3><ul>")
                for i, t in enumerate(k[key]):
                    d = k.get("new_failure_details", [])[i] if key == "new_failures" and \
                        i < len(k.get("new_failure_details", [])) else None
                    extra = "<br>".join(e(x) for x in culprit_lines(k, d)) if d else ""
                    out.append(f"<li>{e(t)}" + (f"<br><small>{extra}</small>" if extra else "") + "</li>")
                out.append("</ul>")
            if key == "new_failures" and k.get("subtest_regressions"):
                regs = [r for rs in k["subtest_regressions"].values() for r in rs]
                out.append(f"<h3 style='color:#c00'>subtest regressions ({len(regs)})</h3><ul>")
                out += [f"<li>{e(r['test'])}: {e(r['subtest'])}: {e(r['was'])} &rarr; {e(r['now'])}</li>"
                        for r in regs]
                out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def culprit_lines(k, d):
    """What the night's bisection found for one new failure (text lines)."""
    c = d.get("culprit")
    if c:
        how = f"crash: {c['crash_title']}" if c.get("crash_title") else (c.get("reason") or "fails")
        return [f"culprit: {(c.get('commit') or '')[:12]} {c.get('subject')}", f"  {how}"] + \
            ([f"  log: {c['log']}"] if c.get("log") else [])
    b = k.get("bisections", {}).get(d.get("test"))
    if not b:
        return []
    if b.get("status") == "ambiguous":
        return ["bisect: the first bad commit is one of " +
                ", ".join(f"{x['commit'][:12]} {x['subject']}" for x in b.get("candidates") or [])]
    return [f"bisect: {b.get('status')}: {b.get('error') or ''} ({b.get('bisect_log')})"]


def write_summaries(cmp, dest):
    os.makedirs(dest, exist_ok=True)
    text = text_summary(cmp)
    for name, data in (("summary.txt", text), ("summary.html", html_summary(cmp)),
                       ("compare.json", json.dumps(cmp, indent=1, sort_keys=True) + "\n")):
        with open(os.path.join(dest, name + ".tmp"), "w", encoding="utf-8") as f:
            f.write(data)
        os.replace(os.path.join(dest, name + ".tmp"), os.path.join(dest, name))
    return text


def write_page(results, night):
    """The nightly page (ci/nightpage.py): NIGHT/index.html and nights/index.html."""
    try:
        import nightpage
        page, _ = nightpage.write_pages(results, night)
        say(f"page: {page}")
    except (ImportError, OSError, ValueError) as e:
        say(f"cannot write the nightly page: {e}")


# ---- commands -------------------------------------------------------------------

def cmd_run(a):
    cfg = load_config(a.config)
    results = os.path.abspath(a.results or cfg["results"])
    kernels = [k for k in cfg["kernels"] if not a.only or k["name"] in a.only]
    if not kernels:
        raise ConfigError("no kernel in the config matches --only " + " ".join(a.only))
    try:
        os.makedirs(os.path.join(results, "nights"), exist_ok=True)
        night = a.night or new_night_name(results)
        ndir = os.path.join(results, "nights", night)
        os.makedirs(ndir)
    except OSError as e:
        say(f"cannot create the night's dir under '{results}': {e.strerror} (set \"results\" or --results)")
        return 3
    make_cmd = cfg.get("make", ["make", "-C", TOP, "--no-print-directory"])
    say(f"night {night}: {len(kernels)} kernel(s), results in {ndir}")
    for k in kernels:
        kdir = os.path.join(ndir, k["name"])
        rec = run_kernel(cfg, k, kdir, make_cmd)
        with open(os.path.join(kdir, "run.json"), "w", encoding="utf-8") as f:
            json.dump(rec, f, indent=1, sort_keys=True)
    cmp, _failed = bisect_new_failures(cfg, kernels, results, night, compare(results, night), make_cmd)
    print(write_summaries(cmp, ndir))
    say(f"summary: {ndir}/summary.txt, {ndir}/summary.html")
    write_page(results, night)
    return 1 if cmp["regressions"] else 0


def cmd_compare(a):
    results = os.path.abspath(a.results)
    all_nights = nights(results)
    if not all_nights:
        say(f"no nights under '{results}/nights'")
        return 2
    night = a.night or all_nights[-1]
    if night not in all_nights or (a.previous and a.previous not in all_nights):
        say(f"no night '{night if night not in all_nights else a.previous}' under '{results}/nights'")
        return 2
    cmp = compare(results, night, a.previous)
    print(write_summaries(cmp, a.out or os.path.join(results, "nights", night)))
    if not a.out:
        write_page(results, night)
    return 1 if cmp["regressions"] else 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in ("run", "compare", "-h", "--help"):
        argv = ["run"] + argv
    ap = argparse.ArgumentParser(prog="nightly.py", description=__doc__.split("\n")[1])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run every kernel of the config, compare with the previous night")
    r.add_argument("-c", "--config", required=True)
    r.add_argument("--results", help="override the config's results dir")
    r.add_argument("--night", help="the night's name (default: today's date, -N when taken)")
    r.add_argument("--only", action="append", default=[], help="just this kernel (repeatable)")
    c = sub.add_parser("compare", help="compare two recorded nights (default: the last two)")
    c.add_argument("--results", required=True)
    c.add_argument("--night")
    c.add_argument("--previous")
    c.add_argument("--out", help="write the summaries here instead of the night's dir")
    a = ap.parse_args(argv)
    try:
        return cmd_run(a) if a.cmd == "run" else cmd_compare(a)
    except ConfigError as e:
        say(str(e))
        return 2


if __name__ == "__main__":
    sys.exit(main())
