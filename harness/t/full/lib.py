"""lib.py - what the full tests (make check-full) share: the cache, the
default source, and the kernel history of harness/t/kernel_history.py in a
stable place (~/.cache/vkci/t/hist.git), so each bisection's work tree and
build stay warm from one run to the next. Standard library only."""
import os
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(TOP, "harness", "t"))
import kernel_history  # noqa: E402

CACHE = os.environ.get("VKCI_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "vkci")


def source():
    r = subprocess.run([os.path.join(TOP, "ci", "kernel-source.sh")], capture_output=True, text=True)
    if r.returncode:
        print("1..0 # SKIP no default kernel source: %s" % r.stderr.strip()[-200:])
        sys.exit(0)
    return r.stdout.strip()


def hist():
    """(path of the history repository, its commits by role)."""
    base = kernel_history.base_repo(os.path.join(CACHE, "t"), source())
    dest = os.path.join(CACHE, "t", "hist.git")
    return dest, kernel_history.history(base, dest)


def make(*args, **kw):
    return subprocess.run(["make", "-s", "--no-print-directory", "-C", TOP] + list(args),
                          capture_output=True, text=True, **kw)
