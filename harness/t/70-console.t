#!/usr/bin/python3
"""pexpect-driven `vkci boot`: prompt, commands, output, exit status, a sysrq
crash, and nothing left behind. Prints TAP."""
import os
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "harness", "t"))
from taplib import done, ok  # noqa: E402
sys.path.insert(0, os.path.join(TOP, "harness"))
kernel = os.environ.get("VKCI_KERNEL")
build = os.environ.get("VKCI_BUILD", os.path.join(TOP, "build"))
image = os.environ.get("VKCI_IMAGE", os.path.join(TOP, "build", "image", "base.img"))
payload = os.path.join(build, "t", "payload.img")
try:
    from vkciconsole import Console
except ImportError as e:
    print(f"1..0 # SKIP pexpect missing ({e}): apt-get install python3-pexpect")
    sys.exit(0)
if not kernel or not os.path.exists(kernel) or not os.path.exists(payload):
    print("1..0 # SKIP no vkernel or test payload (make test sets them)")
    sys.exit(0)


def leftovers(run):
    count = 0
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    count += ("uml_dir=" + run).encode() in f.read()
            except OSError:
                pass
    return count


run = tempfile.mkdtemp(prefix="vkci-console.")
env = dict(os.environ, VKCI_RUNDIR=run)
try:
    c = Console(kernel, image, payload, env=env)
    ok(True, "boot: a shell prompt in a fresh instance")
    ok((c.backend, c.accel) == ("uml", None), "boot: vkci boot's first line names the backend (uml, no "
       "accelerator)", (c.backend, c.accel))
    ok(c.run("echo hello $((6*7))") == "hello 42", "run: command output comes back")
    ok("Linux version" in c.run("cat /proc/version"), "run: /proc/version from the vkernel")
    ok(c.status("false") == 1 and c.status("true") == 0, "status: exit statuses of commands")
    ok("guest" in c.run("ls /payload"), "payload: the test payload is mounted on /payload")
    ok(c.run("echo $$") != "", "the shell is alive")
    ok(c.close() == 0, "exit: vkci boot exits 0 when the shell exits")
    ok(leftovers(run) == 0 and os.listdir(run) == [], "exit: no vkernel and no instance dir left")

    c = Console(kernel, image, payload, env=env)
    c.run("echo 1 > /proc/sys/kernel/sysrq")
    c.sysrq("c")
    ok(c.child.exitstatus == 1, "sysrq-c: the crash ends the session, vkci boot exits 1")
    ok("kernel panic" in c.child.before, "sysrq-c: vkci says the kernel panicked")
    ok(leftovers(run) == 0, "sysrq-c: no vkernel left after the crash")
finally:
    shutil.rmtree(run, ignore_errors=True)

# a console scenario takes the C tests' path through vkci exec: retries,
# quarantine, and the result.json vkci writes from the scenario's record
import json  # noqa: E402
work = tempfile.mkdtemp(prefix="vkci-scenario.")
vkci = os.environ.get("VKCI", os.path.join(TOP, "harness", "vkci"))
script = os.path.join(TOP, "harness", "t", "scenario", "flaky.py")
try:
    env = dict(os.environ, VKCI_KERNEL=kernel, VKCI_IMAGE=image, VKCI_PAYLOAD=payload,
               VKCI_RUNDIR=os.path.join(work, "run"), VKCI_T_FLAKY_COUNTER=os.path.join(work, "n1"))
    r = subprocess.run([vkci, "exec", "--retries", "1", "-l", os.path.join(work, "logs"), script],
                       env=env, capture_output=True, text=True)
    ok(r.returncode == 0 and "# vkci: flaky: failed attempt 1 (run 1 passes), passed attempt 2" in r.stdout,
       "scenario: a failed first run is retried and reported flaky (exit 0)", r.stdout + r.stderr)
    with open(os.path.join(work, "logs", "scenario", "flaky", "result.json")) as f:
        res = json.load(f)
    ok(res["format"] == "vkci-result/2" and res["kind"] == "console-scenario" and
       res["outcome"] == "flaky" and [a["exit_status"] for a in res["attempts"]] == [1, 0] and
       res["tests"] == {"planned": 3, "run": 3, "failed": 0},
       "scenario: vkci writes its result.json from the scenario's record", res)
    ok(os.path.isdir(os.path.join(work, "logs", "scenario", "flaky", "attempt1")),
       "scenario: the failed attempt's logs are kept in attempt1/")
    env["VKCI_T_FLAKY_COUNTER"] = os.path.join(work, "n2")
    env["VKCI_T_FLAKY_FAILS"] = "9"
    r = subprocess.run([vkci, "exec", "--quarantined", "-l", os.path.join(work, "logs2"), script],
                       env=env, capture_output=True, text=True)
    ok(r.returncode == 0 and "# TODO quarantined" in r.stdout,
       "scenario: a quarantined failure is a TAP TODO, not counted (exit 0)", r.stdout + r.stderr)
    with open(os.path.join(work, "logs2", "scenario", "flaky", "result.json")) as f:
        res = json.load(f)
    ok([(x["id"], x["outcome"]) for x in res["subtests"]] == [("1", "pass"), ("2", "fail"), ("3", "pass")],
       "scenario: its TAP lines as subtests in result.json", res["subtests"])
    ok(res["quarantined"] is True and res["exit_status"] == 1 and res["outcome"] == "fail" and
       res["reason"] == "not ok 2 - run 1 passes",
       "scenario: its result says quarantined, with the real outcome and reason", res)
finally:
    shutil.rmtree(work, ignore_errors=True)
done()
