#!/usr/bin/env python3
"""ci/report.py OUT - the reports of one run, from what it left in OUT/:

  OUT/logs/SUITE/TEST/result.json   written by `vkci exec` (one per test)
  OUT/tap/...                       each test's TAP, dumped by TAP::Harness
                                    (PERL_TEST_HARNESS_DUMP_TAP)
writes
  OUT/summary.json   suite -> tests with pass/fail/skip/crash/infra counts, in
                     the spirit of KernelCI's test results, plus crash groups
                     by fingerprint (the same bug across tests)
  OUT/junit.xml      JUnit XML, produced by TAP::Formatter::JUnit from the
                     dumped TAP (prove --formatter), not written by hand
and prints a one-paragraph summary. Standard library only.
"""
import json
import os
import subprocess
import sys

RESULTS = ("pass", "fail", "skip", "crash", "infra")


def load_results(out):
    results = []
    logs = os.path.join(out, "logs")
    for root, _dirs, files in os.walk(logs):
        if "result.json" in files:
            path = os.path.join(root, "result.json")
            try:
                with open(path, encoding="utf-8") as f:
                    results.append(json.load(f))
            except (OSError, ValueError) as e:
                print(f"report: skipping unreadable '{path}': {e}", file=sys.stderr)
    return sorted(results, key=lambda r: r.get("test", ""))


def summarize(results):
    suites = {}
    crashes = {}
    for r in results:
        test = r.get("test", "?/?")
        suite, _, name = test.partition("/")
        s = suites.setdefault(suite, {"summary": dict.fromkeys(RESULTS, 0), "tests": {}})
        outcome = r.get("outcome", "infra")
        s["summary"][outcome] = s["summary"].get(outcome, 0) + 1
        s["tests"][name] = {k: r.get(k) for k in (
            "outcome", "reason", "exit_status", "duration_ms", "tests", "crash_kind",
            "crash_fingerprint", "console_log", "instance_dir_kept", "nodes")}
        fp = r.get("crash_fingerprint")
        if fp:
            crashes.setdefault(fp, []).append(test)
    total = dict.fromkeys(RESULTS, 0)
    for s in suites.values():
        for k, v in s["summary"].items():
            total[k] = total.get(k, 0) + v
    kernels = sorted({r.get("kernel") for r in results if r.get("kernel")})
    return {
        "format": "vkci-summary/1",
        "kernel": kernels[0] if len(kernels) == 1 else kernels,
        "summary": total,
        "suites": suites,
        "crash_groups": [{"fingerprint": fp, "count": len(t), "tests": t}
                         for fp, t in sorted(crashes.items(), key=lambda x: -len(x[1]))],
    }


def junit(out):
    """Replay the dumped TAP through TAP::Formatter::JUnit."""
    tapdir = os.path.join(out, "tap")
    files = []
    for root, _dirs, names in os.walk(tapdir):
        files += [os.path.join(root, n) for n in names]
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


def main():
    if len(sys.argv) != 2:
        print("usage: ci/report.py OUT-DIR", file=sys.stderr)
        return 2
    out = sys.argv[1]
    results = load_results(out)
    if not results:
        print(f"report: no results under '{out}/logs' (did make check run?)", file=sys.stderr)
        return 3
    summary = summarize(results)
    with open(os.path.join(out, "summary.json.tmp"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(os.path.join(out, "summary.json.tmp"), os.path.join(out, "summary.json"))
    xml = junit(out)
    t = summary["summary"]
    print("vkci: %d tests: %d passed, %d failed, %d crashed, %d skipped, %d infrastructure"
          % (sum(t.values()), t["pass"], t["fail"], t["crash"], t["skip"], t["infra"]))
    for g in summary["crash_groups"]:
        print(f"vkci: crash x{g['count']}: {g['fingerprint']} ({', '.join(g['tests'][:5])})")
    print(f"vkci: reports: {out}/summary.json" + (f", {xml}" if xml else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
