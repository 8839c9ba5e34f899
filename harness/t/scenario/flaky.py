#!/usr/bin/python3
"""A console scenario for the retry and quarantine tests (70-console.t): the
first $VKCI_T_FLAKY_FAILS runs (default 1, counted in the file
$VKCI_T_FLAKY_COUNTER) fail one assertion, later runs pass. It boots no
console: what is tested is the path every scenario takes through vkci exec
(retries, quarantine, the record on fd 3, result.json)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "harness"))
from vkciconsole import Scenario  # noqa: E402

counter = os.environ["VKCI_T_FLAKY_COUNTER"]
try:
    with open(counter) as f:
        n = int(f.read() or 0)
except OSError:
    n = 0
with open(counter, "w") as f:
    f.write(str(n + 1))
s = Scenario(__file__)
s.ok(True, "scenario runs")
s.ok(n >= int(os.environ.get("VKCI_T_FLAKY_FAILS", "1")), f"run {n + 1} passes")
sys.exit(s.done())
