#!/usr/bin/python3
"""Console scenario: every `vkci boot` is a fresh copy-on-write root.

Boots a shell, writes files on the root file system and in /tmp, checks that
they are there, that the payload is mounted read-only and that the root is a
throwaway overlay (UML: a COW file on the command line; QEMU: vda, QEMU's own
snapshot=on overlay), exits; checks the base image is byte for byte what it
was; then boots a second instance and expects the root image unchanged (the
first instance's writes went to its own overlay, which was thrown away).
Run by `vkci exec suites/fs/console_fresh_root.py`.
"""
import hashlib
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
from vkciconsole import Scenario  # noqa: E402

s = Scenario(__file__)
backend = os.environ.get("VKCI_BACKEND") or "uml"


def image_digest():
    h = hashlib.sha256()
    with open(s.image, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


before = image_digest()
try:
    with s.console() as c:
        s.ok(c.status("echo first > /vkci-scenario-mark && sync") == 0, "boot 1: writes a file on the root")
        s.ok(c.run("cat /vkci-scenario-mark") == "first", "boot 1: reads it back")
        cmdline = c.run("cat /proc/cmdline")
        if backend == "qemu":
            # QEMU's own throwaway overlay (snapshot=on) is invisible from the
            # guest: the root is vda, and the image check below is the proof
            s.ok("root=/dev/vda" in cmdline, "boot 1: the root disk is vda (a throwaway overlay on the base image)")
        else:
            s.ok("root.cow," in cmdline, "boot 1: the root disk is a COW overlay on the base image (ubd0=COW,BASE)")
        if s.payload:
            s.ok(c.status("touch /payload/x 2>/dev/null") != 0, "boot 1: the payload is read-only")
        s.ok(c.close() == 0, "boot 1: exit, vkci boot exits 0")
    s.ok(image_digest() == before, "the base image is byte for byte unchanged by boot 1's writes")
    with s.console() as c:
        s.ok(c.status("test -e /vkci-scenario-mark") == 1,
             "boot 2: a fresh instance does not see boot 1's file (its COW was thrown away)")
        s.ok(c.close() == 0, "boot 2: exit, vkci boot exits 0")
except Exception as e:  # pexpect timeout/EOF: the scenario failed, say why
    s.fail(e)
sys.exit(s.done())
