#!/usr/bin/env python3
"""ci/schedule.py: the shards of a test list are disjoint, cover every test,
are the same on every run (with and without prove's state file) and are
balanced by the recorded durations. Prints TAP. Standard library only."""
import contextlib
import io
import os
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "harness", "t"))
from taplib import done, ok  # noqa: E402
SCHED = [sys.executable, os.path.join(TOP, "ci", "schedule.py")]


sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(TOP, "ci"))
import schedule  # noqa: E402


def sched(args):
    """schedule.py's main in-process (fast); run_cli() checks the command itself."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = schedule.main(args)
    return rc, out.getvalue().split(), err.getvalue()


def run_cli(args):
    r = subprocess.run(SCHED + args, capture_output=True, text=True)
    return r.returncode, r.stdout.split(), r.stderr


tests = [f"suites/{s}/t{i:02d}.c" for s in ("vm", "fs", "net") for i in range(13)] + \
        ["suites/vm/console_sysrq.py"]
tmp = tempfile.mkdtemp(prefix="vkci-sched.")
state = os.path.join(tmp, "prove-state")
with open(state, "w") as f:
    f.write("---\ngeneration: 3\nlast_run_time: 1\ntests:\n")
    for i, t in enumerate(tests):
        f.write(f"  {t}:\n    elapsed: {0.1 + (i * 7 % 11) * 0.9}\n    gen: 3\n    last_result: 0\n")
    f.write("version: 1\n...\n")
durations = {t: 0.1 + (i * 7 % 11) * 0.9 for i, t in enumerate(tests)}

for label, extra in (("no state", []), ("state", ["--state", state]),
                     ("missing state", ["--state", os.path.join(tmp, "nope")])):
    for count in (1, 2, 3, 5, 7, len(tests) + 3):
        shards = [sched(extra + ["--shard", f"{i}/{count}"] + tests)[1] for i in range(1, count + 1)]
        union = [t for s in shards for t in s]
        ok(sorted(union) == sorted(tests) and len(union) == len(set(union)),
           f"{label}, {count} shards: the union is the whole set, no overlap",
           [len(s) for s in shards])
        again = [sched(extra + ["--shard", f"{i}/{count}"] + tests)[1] for i in range(1, count + 1)]
        ok(again == shards, f"{label}, {count} shards: the same shards on a second run")
    # the order of the arguments does not change who gets what
    rev = [sorted(sched(extra + ["--shard", f"{i}/3"] + tests[::-1])[1]) for i in (1, 2, 3)]
    fwd = [sorted(sched(extra + ["--shard", f"{i}/3"] + tests)[1]) for i in (1, 2, 3)]
    ok(rev == fwd, f"{label}: shards do not depend on the order tests are given in")

# balance: with durations, no shard carries much more than its share
loads = []
for i in (1, 2, 3):
    loads.append(sum(durations[t] for t in sched(["--state", state, "--shard", f"{i}/3"] + tests)[1]))
ok(max(loads) - min(loads) <= max(durations.values()),
   "state: the 3 shards' total durations differ by at most the longest test", loads)
# order: slowest first
rc, order, _ = sched(["--state", state] + tests)
ok(order == sorted(tests, key=lambda t: (-durations[t], t)), "state: tests ordered slowest first")
rc, order, _ = sched(["--state", state, "suites/new/x.c"] + tests)
ok(order[0] == "suites/new/x.c", "state: a test with no recorded duration goes first")
ok(run_cli(["--state", state, "--shard", "2/3"] + tests)[1] == sched(["--state", state, "--shard", "2/3"] + tests)[1],
   "the command prints the same shard as the function")
for bad in ("0/2", "3/2", "x", "1/0"):
    rc, _, err = sched(["--shard", bad] + tests)
    ok(rc == 2 and "bad SHARD" in err, f"--shard {bad}: usage error (exit 2) naming SHARD", rc, err)
os.unlink(state)
os.rmdir(tmp)
done()
