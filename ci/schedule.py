#!/usr/bin/env python3
"""ci/schedule.py - order (and shard) the tests of a run.

  schedule.py [--state PROVE_STATE] [--kunit-plan PLAN] [--shard I/N] TEST...

Prints the given tests one per line, slowest first by the durations prove
saved in PROVE_STATE (--state=save), unknown tests first (they may be slow).
Only the given tests are printed: prove's own --state=slow would add every
test it ever saw.

--shard I/N (1 <= I <= N) prints only shard I's share: tests are dealt out
longest-first to the shard with the least total time so far (durations from
the state, 1 s when unknown), ties broken by name, so the N shards are
disjoint, cover every test, and are the same on every machine that has the
same state file (without one: the same everywhere).

--kunit-plan PLAN (ci/kunit.py's OUT/kunit.plan): KUnit suites, kunit/SUITE,
run in groups that share one vkernel; the first member of a group to start
runs the whole group. So the first member of each group counts as the
group's estimated time (the plan's, from the suites' recorded durations;
prove's time for a member says nothing about the suite) and the other
members as nothing: they come after every group's first member and only
print what their group found. A shard takes whole groups.
Standard library only.
"""
import argparse
import re
import sys


def read_state(path):
    """{test: elapsed seconds} from prove's YAML state (only what we need)."""
    durations = {}
    if not path:
        return durations
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return durations
    current = None
    for line in lines:
        m = re.match(r"^  (\S.*):\s*$", line)
        if m:
            current = m.group(1).strip("'\"")
            continue
        m = re.match(r"^    elapsed:\s*([0-9.eE+-]+)\s*$", line)
        if m and current is not None:
            try:
                durations[current] = float(m.group(1))
            except ValueError:
                pass
    return durations


def kunit_groups(path, tests):
    """({test: seconds} for kunit/ tests, {test: group's first member}) from the plan."""
    import json
    try:
        with open(path, encoding="utf-8") as f:
            plan = json.load(f)
    except (OSError, ValueError, TypeError):
        return {}, {}
    durations, leader = {}, {}
    present = set(tests)
    for g in (plan.get("groups") or {}).values():
        members = ["kunit/" + s for s in g.get("suites", []) if "kunit/" + s in present]
        for i, t in enumerate(members):
            durations[t] = g.get("estimate_ms", 1000) / 1000.0 if i == 0 else 0.0
            leader[t] = members[0]
    return durations, leader


def order(tests, durations):
    known = [t for t in tests if t in durations]
    unknown = [t for t in tests if t not in durations]
    known.sort(key=lambda t: (-durations[t], t))
    return unknown + known


def shard(tests, durations, i, n, leader=None):
    leader = leader or {}
    loads = [0.0] * n
    members = [[] for _ in range(n)]
    where = {}
    for t in sorted(set(tests), key=lambda t: (-durations.get(t, 1.0), t)):
        if leader.get(t, t) != t:
            continue                 # a KUnit group's member goes with its first member
        k = min(range(n), key=lambda j: (loads[j], j))
        loads[k] += durations.get(t, 1.0)
        members[k].append(t)
        where[t] = k
    for t in tests:
        if leader.get(t, t) != t:
            members[where[leader[t]]].append(t)
    mine = set(members[i - 1])
    return [t for t in tests if t in mine]


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--state")
    ap.add_argument("--shard")
    ap.add_argument("--kunit-plan")
    ap.add_argument("tests", nargs="*")
    a = ap.parse_args(argv)
    durations = read_state(a.state)
    tests = list(dict.fromkeys(a.tests))   # unique, in the given order
    leader = {}
    if a.kunit_plan and any(t.startswith("kunit/") for t in tests):
        kd, leader = kunit_groups(a.kunit_plan, tests)
        durations.update(kd)
    if a.shard:
        m = re.fullmatch(r"(\d+)/(\d+)", a.shard)
        if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
            print("vkci: bad SHARD '%s' (I/N with 1 <= I <= N, e.g. SHARD=2/4)" % a.shard, file=sys.stderr)
            return 2
        tests = shard(tests, durations, int(m.group(1)), int(m.group(2)), leader)
    for t in order(tests, durations):
        print(t)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
