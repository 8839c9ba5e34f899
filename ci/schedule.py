#!/usr/bin/env python3
"""ci/schedule.py - order (and shard) the tests of a run.

  schedule.py [--state PROVE_STATE] [--shard I/N] TEST...

Prints the given tests one per line, slowest first by the durations prove
saved in PROVE_STATE (--state=save), unknown tests first (they may be slow).
Only the given tests are printed: prove's own --state=slow would add every
test it ever saw.

--shard I/N (1 <= I <= N) prints only shard I's share: tests are dealt out
longest-first to the shard with the least total time so far (durations from
the state, 1 s when unknown), ties broken by name, so the N shards are
disjoint, cover every test, and are the same on every machine that has the
same state file (without one: the same everywhere).
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


def order(tests, durations):
    known = [t for t in tests if t in durations]
    unknown = [t for t in tests if t not in durations]
    known.sort(key=lambda t: (-durations[t], t))
    return unknown + known


def shard(tests, durations, i, n):
    loads = [0.0] * n
    members = [[] for _ in range(n)]
    for t in sorted(set(tests), key=lambda t: (-durations.get(t, 1.0), t)):
        k = min(range(n), key=lambda j: (loads[j], j))
        loads[k] += durations.get(t, 1.0)
        members[k].append(t)
    mine = set(members[i - 1])
    return [t for t in tests if t in mine]


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--state")
    ap.add_argument("--shard")
    ap.add_argument("tests", nargs="*")
    a = ap.parse_args(argv)
    durations = read_state(a.state)
    tests = list(dict.fromkeys(a.tests))   # unique, in the given order
    if a.shard:
        m = re.fullmatch(r"(\d+)/(\d+)", a.shard)
        if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
            print("vkci: bad SHARD '%s' (I/N with 1 <= I <= N, e.g. SHARD=2/4)" % a.shard, file=sys.stderr)
            return 2
        tests = shard(tests, durations, int(m.group(1)), int(m.group(2)))
    for t in order(tests, durations):
        print(t)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
