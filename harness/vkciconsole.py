"""vkciconsole - drive `vkci boot` consoles from Python scripts with pexpect.

    from vkciconsole import Console
    with Console(kernel, image, payload) as c:
        out = c.run("cat /proc/meminfo")        # output of one command
        assert c.status("false") == 1           # exit status of one command
        c.sysrq("c")                            # the kernel panics: the session ends
    # leaving the block tears the instance down (exit, or kill on error)

Every console is a fresh throwaway instance (same kernel, image and payload
as the tests). Needs Debian's python3-pexpect (run with /usr/bin/python3).
"""
import os
import re
import uuid

import pexpect

PROMPT = "vkci# "
HERE = os.path.dirname(os.path.abspath(__file__))


class ConsoleError(Exception):
    pass


class Console:
    def __init__(self, kernel, image, payload=None, vkci=None, timeout=30, mem="128M",
                 extra_args=(), env=None):
        self.vkci = vkci or os.environ.get("VKCI") or os.path.join(HERE, "vkci")
        argv = ["boot", "-k", kernel, "-i", image, "-m", mem]
        if payload:
            argv += ["-p", payload]
        for a in extra_args:
            argv += ["-a", a]
        self.timeout = timeout
        self.child = pexpect.spawn(self.vkci, argv, env=env, encoding="utf-8",
                                   codec_errors="replace", timeout=timeout, echo=False)
        self.child.expect_exact(PROMPT)
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
