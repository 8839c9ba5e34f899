"""vkciconsole - drive `vkci boot` consoles from Python scripts with pexpect.

    from vkciconsole import Console
    with Console(kernel, image, payload) as c:
        out = c.run("cat /proc/meminfo")        # output of one command
        assert c.status("false") == 1           # exit status of one command
        c.sysrq("c")                            # the kernel panics: the session ends
    # leaving the block tears the instance down (exit, or kill on error)

Every console is a fresh throwaway instance (same kernel, image and payload
as the tests). Needs Debian's python3-pexpect (run with /usr/bin/python3).

Console scenarios in the suites (suites/SUITE/NAME.py) are tests like the C
ones: `vkci exec suites/vm/console_sysrq.py` hands them to the interpreter
with the run's kernel/image/payload/log dir in the environment, and they use
Scenario for their TAP, their transcript and the record vkci exec turns into
their result.json (harness/RESULT.md):

    s = Scenario(__file__)
    with s.console() as c:
        s.ok(c.run("echo hi") == "hi", "echo")
    sys.exit(s.done())
"""
import json
import os
import random
import re
import shutil
import string
import subprocess
import sys
import tempfile
import time
import traceback
import uuid

import pexpect

PROMPT = "vkci# "
HERE = os.path.dirname(os.path.abspath(__file__))


class ConsoleError(Exception):
    pass


class Console:
    def __init__(self, kernel, image, payload=None, vkci=None, timeout=30, mem=None,
                 extra_args=(), env=None, logfile=None):
        self.vkci = vkci or os.environ.get("VKCI") or os.path.join(HERE, "vkci")
        # the instance's memory: given, else the run's (VKCI_MEM: 256M for
        # VARIANT=debug), else vkci's default
        self.mem = mem or (env or os.environ).get("VKCI_MEM") or "128M"
        argv = ["boot", "-k", kernel, "-i", image, "-m", self.mem]
        if payload:
            argv += ["-p", payload]
        for a in extra_args:
            argv += ["-a", a]
        self.timeout = timeout
        self.child = pexpect.spawn(self.vkci, argv, env=env, encoding="utf-8",
                                   codec_errors="replace", timeout=timeout, echo=False,
                                   logfile=logfile)
        self.child.expect_exact(PROMPT)
        # what it runs on: vkci boot's first line
        m = re.search(r"vkci: a shell in a throwaway (\w+) instance(?: \((\w+)\))?", self.child.before or "")
        self.backend, self.accel = (m.group(1), m.group(2)) if m else (None, None)
        # a prompt that cannot appear in command output marks the end of each command
        # (quoted apart so the command's own echo does not look like the prompt)
        self.child.sendline("stty -echo; PS1='vkci-''ready# '")
        self.child.expect_exact("vkci-ready# ")
        self.prompt = "vkci-ready# "

    def run(self, command, timeout=None):
        """Run one shell command; return its output (stdout and stderr)."""
        marker = uuid.uuid4().hex[:12]
        self.child.sendline(f"{command}; echo '{marker}' $?")
        self.child.expect(rf"{marker} (\d+)\r*\n", timeout=timeout or self.timeout)
        self.last_status = int(self.child.match.group(1))
        out = self.child.before
        self.child.expect_exact(self.prompt)
        return re.sub(r"\r+\n", "\n", out).strip("\n")

    def status(self, command, timeout=None):
        """Run one shell command; return its exit status."""
        self.run(command, timeout)
        return self.last_status

    def sysrq(self, key, expect_end=True):
        """Trigger a magic SysRq function; 'c' crashes the kernel and ends the session."""
        self.child.sendline(f"echo {key} > /proc/sysrq-trigger")
        if expect_end:
            self.child.expect(pexpect.EOF, timeout=self.timeout)
            self.child.close()

    def close(self):
        """Leave the shell; the instance powers off. Returns vkci's exit status."""
        if self.child.isalive():
            self.child.sendline("exit")
            self.child.expect(pexpect.EOF, timeout=self.timeout)
        self.child.close()
        return self.child.exitstatus

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and self.child.isalive():
            self.child.terminate(force=True)
        else:
            self.close()
        return False


def _claimed_dir(parent, prefix):
    """A new dir PARENT/PREFIX.XXXXXX, shaped like vkci's instance dirs and
    owned by this process (`vkci rundir --claim`), so that when a scenario
    is killed (a dead CI worker) the next vkci's sweep removes it."""
    chars = string.ascii_letters + string.digits
    for _ in range(100):
        path = os.path.join(parent, prefix + "." + "".join(random.choice(chars) for _ in range(6)))
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue
        vkci = os.environ.get("VKCI") or os.path.join(HERE, "vkci")
        subprocess.run([vkci, "rundir", "--claim", path], check=False)
        return path
    raise OSError(f"cannot make a dir under '{parent}'")


def _instances_alive(run_dir):
    """Processes of vkernels under run_dir: a UML vkernel's command line
    names it (uml_dir=...), a QEMU's environment does (TMPDIR=<instance dir>)."""
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    cmd = f.read()
                with open(f"/proc/{d}/environ", "rb") as f:
                    env = f.read().split(b"\0")
            except OSError:
                continue
            if ("uml_dir=" + run_dir).encode() in cmd or \
                    any(e.startswith(("TMPDIR=" + run_dir + "/").encode()) for e in env):
                pids.append(int(d))
    return pids


class Scenario:
    """One console-scenario test: TAP on stdout, the consoles' transcript in
    VKCI_LOG_DIR/SUITE/NAME/session.log, and a record about the run on fd
    VKCI_RESULT_FD for vkci exec, which writes result.json (RESULT.md).
    Its consoles run in a private dir under VKCI_RUNDIR; done() checks that nothing of them is left behind.
    --plant-fault (or VKCI_PLANT_FAULT=1) inverts the first assertion, as
    suites/lib/vkci_test.h does. done() returns the exit status (0 passed,
    1 failed, 3 could not run)."""

    def __init__(self, path):
        self.path = os.path.abspath(path)
        suite = os.path.basename(os.path.dirname(self.path))
        self.test = os.environ.get("VKCI_TEST") or f"{suite}/{os.path.basename(path)[:-3]}"
        self.kernel = os.environ.get("VKCI_KERNEL")
        self.image = os.environ.get("VKCI_IMAGE")
        self.payload = os.environ.get("VKCI_PAYLOAD") or None
        self.timeout = int(os.environ.get("VKCI_TIMEOUT") or 60)
        self.plant = "--plant-fault" in sys.argv[1:] or os.environ.get("VKCI_PLANT_FAULT") == "1"
        self.n = self.failed = 0
        self.reason = None
        self.accel = None
        self.start = time.time()
        sys.stdout.reconfigure(line_buffering=True)
        parent = os.environ.get("VKCI_RUNDIR") or tempfile.gettempdir()
        os.makedirs(parent, mode=0o700, exist_ok=True)
        self.run_dir = _claimed_dir(parent, self.test.replace("/", "_"))
        self.log_dir = None
        self.log = None
        if os.environ.get("VKCI_LOG_DIR"):
            self.log_dir = os.path.join(os.environ["VKCI_LOG_DIR"], self.test)
            os.makedirs(self.log_dir, exist_ok=True)
            self.log = open(os.path.join(self.log_dir, "session.log"), "w",
                            encoding="utf-8", errors="replace")
        if not self.kernel or not self.image:
            print("1..0 # SKIP no VKCI_KERNEL/VKCI_IMAGE (run through vkci exec or make check)")
            sys.exit(0)

    def console(self, **kw):
        """A fresh `vkci boot` instance; use as a context manager."""
        env = dict(os.environ, VKCI_RUNDIR=self.run_dir)
        if self.log:
            self.log.write(f"\n==== console {self.n + 1}: vkci boot\n")
        c = Console(self.kernel, self.image, self.payload, env=env,
                    timeout=kw.pop("timeout", min(self.timeout, 60)), logfile=self.log, **kw)
        self.accel = self.accel or c.accel      # for result.json: the first console's
        return c

    def ok(self, cond, desc):
        if self.plant:
            self.plant = False
            cond = not cond
            desc += " (planted fault: inverted)"
        self.n += 1
        print(("ok" if cond else "not ok") + f" {self.n} - {desc}")
        if not cond:
            self.failed += 1
            self.reason = self.reason or f"not ok {self.n} - {desc}"
        return cond

    def diag(self, text):
        for line in str(text).splitlines():
            print("# " + line)

    def fail(self, exc):
        """An exception ended the scenario (timeout, EOF): one failure with why."""
        self.ok(False, f"the scenario ended early: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        self.diag(traceback.format_exc(limit=3))

    def done(self):
        left = _instances_alive(self.run_dir)
        for pid in left:
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        stray = [f for f in (os.listdir(self.run_dir) if os.path.isdir(self.run_dir) else [])
                 if f != ".vkci-owner"]   # the claim of the dir itself
        self.ok(not left and not stray, "nothing left behind (no vkernel, no instance dir)")
        if left or stray:
            self.diag(f"left: pids {left}, files {stray} in {self.run_dir}")
        shutil.rmtree(self.run_dir, ignore_errors=True)
        print(f"1..{self.n}")
        status = 1 if self.failed else 0
        if self.log:
            self.log.close()
            self.diag(f"session log: {os.path.join(self.log_dir, 'session.log')}")
        self._write_result(status)
        return status

    def _write_result(self, status):
        """One JSON object about the run on fd VKCI_RESULT_FD, for vkci exec,
        which writes the test's result.json (harness/RESULT.md)."""
        fd = os.environ.get("VKCI_RESULT_FD")
        if not fd:
            return
        rec = {
            "reason": self.reason,
            "tests": {"planned": self.n, "run": self.n, "failed": self.failed},
            "session_log": os.path.join(self.log_dir, "session.log") if self.log_dir else None,
            "accel": self.accel,
        }
        try:
            with os.fdopen(int(fd), "w", encoding="utf-8") as f:
                json.dump(rec, f)
        except (OSError, ValueError) as e:
            print(f"# cannot send the scenario's record to vkci: {e}")
