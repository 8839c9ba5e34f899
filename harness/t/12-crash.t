#!/usr/bin/python3
"""Crash triage on saved console logs (harness/t/data/crash/*.log): each
log's first report has the recorded kind, class and title, later reports
the recorded titles (expected.tsv); the same holds with printk timestamps
toggled (removed where the log has them, added where it has none: the two
PRINTK_TIME forms; caller ids kept) and when the log is fed in 7-byte
chunks. Grouping: logs of one bug (same-bug.tsv) share a fingerprint, logs
of different bugs never do. Fixtures named src-* were written from the
kernel printers' source (their first line says which); the others are
console logs of real vkernels: uml-* of the default kernel running
harness/t/guest/{hungtask,panic,killinit,warn}.c (warn.c plants its line
through /dev/kmsg), lkdtm-* of the debug variant running
harness/t/guest/lkdtm.c (recorded by harness/t/95-debug-kernel.t --record),
each with printk.time=1 (-time) and printk.time=0 (-notime)."""
import os
import re
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "harness", "t"))
from taplib import done, is_, ok  # noqa: E402
from printktime import toggle_time  # noqa: E402

build = os.environ.get("VKCI_BUILD", os.path.join(TOP, "build"))
tool = os.path.join(build, "t", "crashtitle")
data = os.path.join(TOP, "harness", "t", "data", "crash")
if not os.access(tool, os.X_OK):
    print("1..0 # SKIP crashtitle not built (make test builds it)")
    sys.exit(0)

def triage(path, chunk=None):
    argv = [tool] + (["-c", str(chunk)] if chunk else []) + [path]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    rows = [line.split("\t") for line in out.splitlines()]
    first = rows[0]
    return {"kind": first[1], "class": first[2], "fp": first[3], "title": first[4],
            "others": [r[3] for r in rows[1:]]}


expected = {}
with open(os.path.join(data, "expected.tsv"), encoding="utf-8") as f:
    for line in f:
        if line.startswith("#") or not line.strip():
            continue
        name, kind, cls, title = line.rstrip("\n").split("\t")
        e = expected.setdefault(name, {"others": []})
        if kind == "other":
            e["others"].append(title)
        else:
            e.update(kind=kind, title=title, **{"class": cls})

logs = sorted(n for n in os.listdir(data) if n.endswith(".log"))
ok(set(logs) == set(expected), "every fixture has an expected line and every line a fixture",
   set(logs) ^ set(expected))
fps = {}
scratch = tempfile.mkdtemp(prefix="vkci-crash.")
for name in logs:
    path = os.path.join(data, name)
    want = expected.get(name)
    if not want:
        continue
    got = triage(path)
    fps[name] = got["fp"]
    is_((got["kind"], got["class"], got["title"]), (want["kind"], want["class"], want["title"]),
        f"{name}: {want['title'] if want['kind'] != 'none' else 'no crash'}")
    is_(got["others"], want["others"], f"{name}: the other reports")
    with open(path, encoding="utf-8", errors="replace") as f:
        flipped = toggle_time(f.read())
    alt = os.path.join(scratch, name)
    with open(alt, "w", encoding="utf-8") as f:
        f.write(flipped)
    got2 = triage(alt)
    is_((got2["title"], got2["others"]), (got["title"], got["others"]),
        f"{name}: same triage with printk timestamps toggled")
    got3 = triage(path, chunk=7)
    is_((got3["title"], got3["fp"]), (got["title"], got["fp"]), f"{name}: same triage fed in 7-byte chunks")
    ok(want["kind"] == "none" or re.fullmatch(r"[0-9a-f]{16}", got["fp"]),
       f"{name}: fingerprint of 16 hex digits", got["fp"])

# grouping: the logs of each line of same-bug.tsv share one fingerprint;
# logs in different groups (every other log is a group of its own) never do
groups = []
grouped = set()
with open(os.path.join(data, "same-bug.tsv"), encoding="utf-8") as f:
    for line in f:
        if line.startswith("#") or not line.strip():
            continue
        names = line.split()
        groups.append(names)
        grouped.update(names)
groups += [[n] for n in logs if n not in grouped and expected.get(n, {}).get("kind") != "none"]
pairs = 0
for g in groups:
    if len(g) > 1:
        got = {fps.get(n) for n in g}
        pairs += len(g) * (len(g) - 1) // 2
        ok(len(got) == 1 and None not in got, f"same bug, one fingerprint: {' '.join(g)}", got)
owner = {}
collide = []
for i, g in enumerate(groups):
    for n in g:
        fp = fps.get(n)
        if fp in owner and owner[fp] != i:
            collide.append((n, groups[owner[fp]][0]))
        owner.setdefault(fp, i)
is_(collide, [], f"different bugs never share a fingerprint ({len(groups)} bugs, {pairs} same-bug pairs)")
done()
