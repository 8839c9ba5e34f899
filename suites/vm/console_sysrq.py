#!/usr/bin/python3
"""Console scenario: magic SysRq from a shell in a throwaway instance.

Boots a vkernel with `vkci boot`, enables SysRq, triggers 'm' (memory info)
and 'h' (help) through /proc/sysrq-trigger and expects their reports in the
kernel log, checks the guest's memory matches the instance's, and exits the
shell: the instance powers off and nothing is left behind. Run by
`vkci exec suites/vm/console_sysrq.py` (prove does so in make check).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
from vkciconsole import Scenario  # noqa: E402

s = Scenario(__file__)
try:
    with s.console() as c:
        s.ok(c.status("echo 1 > /proc/sys/kernel/sysrq") == 0, "sysrq: enabled through /proc/sys/kernel/sysrq")
        c.run("dmesg -c > /dev/null")
        c.sysrq("m", expect_end=False)
        log = c.run("dmesg")
        s.ok("sysrq: Show Memory" in log and "Mem-Info:" in log,
             "sysrq-m: 'Show Memory' and the Mem-Info report appear in the kernel log")
        s.ok("pages RAM" in log or "free:" in log, "sysrq-m: the report has page counts")
        c.run("dmesg -c > /dev/null")
        c.sysrq("h", expect_end=False)
        log = c.run("dmesg")
        s.ok("sysrq: HELP" in log and "show-memory-usage(m)" in log,
             "sysrq-h: the help line lists the SysRq keys")
        total = c.run("awk '/^MemTotal/ {print $2}' /proc/meminfo")
        units = {"K": 1, "M": 1024, "G": 1024 * 1024}
        mem_kb = int(c.mem[:-1]) * units[c.mem[-1].upper()] if c.mem[-1].upper() in units else int(c.mem) // 1024
        s.ok(total.isdigit() and mem_kb // 2 < int(total) <= mem_kb,
             f"meminfo: MemTotal {total} kB fits the instance's {c.mem} (more than half of it)")
        s.ok(c.run("echo still here") == "still here", "the shell survives both SysRq reports")
        s.ok(c.close() == 0, "exit: the shell exits, vkci boot exits 0 (no crash on the console)")
except Exception as e:  # pexpect timeout/EOF: the scenario failed, say why
    s.fail(e)
sys.exit(s.done())
