#!/usr/bin/env python3
"""ci/kselftest.py - the kernel's own selftests (tools/testing/selftests) for vkci.

  kselftest.py build   [--source SRC] TARGET...   build the targets (cached), print a line each
  kselftest.py list    [--source SRC] TARGET...   their tests, as kselftest/TARGET/PROGRAM
  kselftest.py stage   [--source SRC] --dir DIR --meta FILE TARGET...
                                                  put them under DIR (for the payload disk)
                                                  and write their metadata file
  kselftest.py targets [--source SRC]             every target the tree knows
  kselftest.py default                            the default targets (suites/kselftest/targets.txt)
  kselftest.py check   [--expected FILE] [--targets T...] OUT
                                                  compare a run's outcomes with the expected ones
  kselftest.py expect  [--expected FILE] OUT      an expected.txt drawn from a run (to review)

SRC is a Linux source tree (default: the default source, ci/kernel-source.sh).
TARGET is a kselftest target as the tree's selftests Makefile names it
(timers, filesystems/epoll, ...); "default" stands for the default list.

Builds: statically linked (x86 UAPI headers from `make ARCH=x86 O=... headers`,
CFLAGS/LDFLAGS -static from the environment, so the targets' own flags stay),
one target at a time with the tree's own `make -k TARGETS=T O=... install`,
out of tree: nothing is written into SRC. They live in the vkci cache,
$VKCI_CACHE/kselftest/NAME-KEY/ (default ~/.cache/vkci), KEY hashing what went
into them like kernel builds do: the tree's path and version, the compiler
and the recipe version; each target has its own directory there, with a
stamp of its inputs (size and mtime of every file it is made from, its
per-target fix), so a run with nothing changed decides "nothing to build"
from the stamps alone, and a target that fails to build is not retried until
its inputs change. A failed target is reported with the tail of its build log;
the others are built and run all the same. Builds of one KEY take a lock
(flock on NAME-KEY.lock): concurrent runs wait for each other, and a target's
install directory is replaced by a rename, never rewritten in place.

The programs of a target are what the tree's build system says they are: the
install step writes kselftest-list.txt (the `emit_tests` rule: TEST_PROGS,
TEST_GEN_PROGS, TEST_CUSTOM_PROGS), the unit run_kselftest.sh runs.

Exit status: 0 done, 1 some target did not build (build) or outcomes differ
from the expected ones (check), 2 usage (an unknown target: the closest names
are suggested), 3 infrastructure (cache not writable, headers do not build).
Standard library only.
"""
import argparse
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUITE = os.path.join(TOP, "suites", "kselftest")
# Bump when the build recipe changes in a way that needs every target rebuilt.
RECIPE = "1"
# Where the tree lands on the payload disk, and the runner every test goes through.
GUEST_ROOT = "/payload/kselftest.d"
GUEST_RUNNER = GUEST_ROOT + "/.vkci/kselftest-run"   # images/kselftest-run.c
# timeout=0 in a target's settings means "none" for run_kselftest.sh; a vkernel
# needs one: this cap.
TIMEOUT_CAP = 900
DEFAULT_TIMEOUT = 45          # run_kselftest.sh's kselftest_default_timeout

# Per-target changes that make a static build work, without touching the tree:
# extra make arguments on the command line (they win over the target's
# Makefile) and environment. Each one says why. A change here rebuilds only
# that target (it is part of the target's stamp).
FIXES = {
    # this stable tree's mm/khugepaged.c uses KSFT_SKIP without kselftest.h (mm sets
    # CFLAGS itself, with $(EXTRA_CFLAGS))
    "mm": {"env": {"EXTRA_CFLAGS": "-DKSFT_SKIP=4"}},
}


def die(msg, code=2):
    print("vkci: " + msg, file=sys.stderr)
    sys.exit(code)


def note(msg):
    print("vkci: " + msg, file=sys.stderr, flush=True)


def cache_root():
    c = os.environ.get("VKCI_CACHE")
    if not c:
        c = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "vkci")
    return c


def default_source():
    r = subprocess.run([os.path.join(TOP, "ci", "kernel-source.sh")], capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
        sys.exit(r.returncode)
    return r.stdout.strip()


def source_tree(arg):
    src = os.path.realpath(arg) if arg else default_source()
    sel = os.path.join(src, "tools", "testing", "selftests")
    if not os.path.isfile(os.path.join(sel, "Makefile")) or not os.path.isfile(os.path.join(sel, "lib.mk")):
        die("'%s' has no tools/testing/selftests (set KERNEL= to a Linux source tree)" % src)
    return src


def kernel_version(src):
    v = {}
    try:
        with open(os.path.join(src, "Makefile"), encoding="utf-8", errors="replace") as f:
            for line in f:
                m = re.match(r"^(VERSION|PATCHLEVEL|SUBLEVEL|EXTRAVERSION)\s*=\s*(\S*)", line)
                if m:
                    v[m.group(1)] = m.group(2)
                if len(v) == 4:
                    break
    except OSError:
        pass
    return "%s.%s.%s%s" % (v.get("VERSION", "?"), v.get("PATCHLEVEL", "?"), v.get("SUBLEVEL", "?"),
                           v.get("EXTRAVERSION", ""))


def compiler():
    """The compiler's identity for the cache key: its resolved path, size and
    mtime (a package update changes them), without running it."""
    cc = os.environ.get("CC") or "gcc"
    path = shutil.which(cc)
    if not path:
        die("compiler '%s' not found (apt-get install build-essential, or make deps)" % cc, 3)
    real = os.path.realpath(path)
    st = os.stat(real)
    return "%s %d %d" % (real, st.st_size, st.st_mtime_ns)


def tree_targets(src):
    """Every target of the tree's selftests Makefile (TARGETS += ... lines)."""
    out = []
    with open(os.path.join(src, "tools", "testing", "selftests", "Makefile"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^\s*TARGETS\s*\+=\s*(\S+)\s*$", line)
            if m and m.group(1) not in out:
                out.append(m.group(1))
    return out


def default_targets():
    """The default list: suites/kselftest/targets.txt, 'TARGET [key=value...]' lines."""
    targets, opts = [], {}
    path = os.path.join(SUITE, "targets.txt")
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            kv = {}
            for w in words[1:]:
                k, eq, v = w.partition("=")
                if not eq or k not in ("timeout", "mem"):
                    die("%s:%d: bad option '%s' (timeout=SECONDS, mem=SIZE)" % (path, n, w))
                kv[k] = v
            targets.append(words[0])
            opts[words[0]] = kv
    return targets, opts


def resolve_targets(src, names):
    """Expand 'default', check every name against the tree; exit 2 naming the
    closest targets for one that does not exist."""
    known = tree_targets(src)
    out = []
    for name in names:
        for t in (default_targets()[0] if name == "default" else [name]):
            t = t.strip("/")
            if t not in known:
                import difflib
                close = difflib.get_close_matches(t, known, n=3, cutoff=0.5)
                die("no kselftest target '%s' in %s (%s)" % (
                    t, src, "closest: " + ", ".join(close) if close else "see: ci/kselftest.py targets"))
            if t not in out:
                out.append(t)
    return out


# ---- fingerprints and the cache ------------------------------------------

def fingerprint(paths, h, with_dirs=False):
    """Size and mtime of every file under paths (and of every directory, with
    with_dirs), in name order, into hash h."""
    for top in paths:
        if os.path.isfile(top):
            st = os.stat(top)
            h.update(("%s %d %d\n" % (top, st.st_size, st.st_mtime_ns)).encode())
            continue
        for root, dirs, files in os.walk(top):
            dirs.sort()
            for name in sorted(files + dirs if with_dirs else files):
                p = os.path.join(root, name)
                try:
                    st = os.lstat(p)
                except OSError:
                    continue
                h.update(("%s %d %d\n" % (p, st.st_size, st.st_mtime_ns)).encode())


class Cache:
    def __init__(self, src):
        self.src = src
        self.sel = os.path.join(src, "tools", "testing", "selftests")
        key = hashlib.sha256("\n".join([src, kernel_version(src), compiler(), RECIPE]).encode()).hexdigest()[:16]
        self.dir = os.path.join(cache_root(), "kselftest", "%s-%s" % (os.path.basename(src), key))
        self.obj = os.path.join(self.dir, "obj")
        self._common = None
        self.lockf = None

    def lock(self):
        """Exclusive for the whole run of this process: builds and staging."""
        os.makedirs(os.path.dirname(self.dir), exist_ok=True)
        self.lockf = open(self.dir + ".lock", "a")
        try:
            fcntl.flock(self.lockf, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            note("waiting for another kselftest build of this tree (%s.lock)" % self.dir)
            fcntl.flock(self.lockf, fcntl.LOCK_EX)

    def tdir(self, target):
        return os.path.join(self.dir, "targets", target.replace("/", "+"))

    def common_inputs(self):
        """What every target is made from besides its own directory."""
        if self._common is None:
            h = hashlib.sha256()
            sel = self.sel
            tops = [os.path.join(sel, f) for f in sorted(os.listdir(sel))
                    if os.path.isfile(os.path.join(sel, f))]
            tops += [os.path.join(sel, d) for d in ("kselftest", "lib", "net/lib")
                     if os.path.isdir(os.path.join(sel, d))]
            tops += [os.path.join(self.src, d) for d in ("include/uapi", "arch/x86/include/uapi",
                                                        "tools/include")]
            fingerprint(tops, h)
            self._common = h.hexdigest()
        return self._common

    def shadow(self):
        """A tree to run the selftests' make in that writes nowhere in SRC:
        several targets' Makefiles write into their source directory even with
        O= (mm's local_config.*, prctl's and uevent's programs). shadow/ holds
        a copy of tools/testing/selftests (refreshed when SRC's changes) and
        symlinks to everything else of SRC, so ../../.. still finds the
        kernel's include/, tools/include/, scripts/ and Makefile."""
        sh = os.path.join(self.dir, "shadow")
        stamp = os.path.join(self.dir, "shadow.stamp")
        h = hashlib.sha256()
        fingerprint([self.sel], h)
        want = h.hexdigest()
        sel = os.path.join(sh, "tools", "testing", "selftests")
        if read(stamp) == want and os.path.isdir(sel):
            return sel
        for rel in ("", "tools", os.path.join("tools", "testing")):
            d = os.path.join(sh, rel)
            os.makedirs(d, exist_ok=True)
            skip = {"": "tools", "tools": "testing", os.path.join("tools", "testing"): "selftests"}[rel]
            for name in os.listdir(os.path.join(self.src, rel)):
                t = os.path.join(d, name)
                if name == skip or os.path.lexists(t):
                    continue
                os.symlink(os.path.join(self.src, rel, name), t)
        note("copying %s into the kselftest cache (the build never writes into the tree)" % self.sel)
        r = subprocess.run(["rsync", "-a", "--delete", self.sel + "/", sel + "/"],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if r.returncode != 0:
            die("cannot copy '%s' into '%s': %s (apt-get install rsync)" % (self.sel, sel, r.stderr.strip()), 3)
        write_atomic(stamp, want)
        return sel

    def headers(self):
        """x86 UAPI headers in obj/usr/include (the selftests' KHDR_INCLUDES)."""
        stamp = os.path.join(self.obj, "vkci-headers.stamp")
        h = hashlib.sha256(self.common_inputs().encode())
        fingerprint([os.path.join(self.src, "scripts", "headers_install.sh"),
                     os.path.join(self.src, "Makefile")], h)
        want = h.hexdigest()
        if read(stamp) == want:
            return
        os.makedirs(self.obj, exist_ok=True)
        log = os.path.join(self.dir, "headers.log")
        note("installing the kernel's x86 UAPI headers for kselftest (once per tree)")
        with open(log, "w") as f:
            r = subprocess.run(["make", "-C", self.src, "ARCH=x86", "O=" + self.obj, "headers"],
                               stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               env=clean_env())
        if r.returncode != 0:
            tail = read(log).splitlines()[-15:]
            die("cannot install the kernel headers for kselftest (make headers, log %s):\n%s"
                % (log, "\n".join("  " + t for t in tail)), 3)
        write_atomic(stamp, want)

    def target_stamp(self, target):
        h = hashlib.sha256(self.common_inputs().encode())
        h.update(repr(FIXES.get(target)).encode())
        fingerprint([os.path.join(self.sel, target)], h)
        return h.hexdigest()

    def state(self, target):
        try:
            with open(os.path.join(self.tdir(target), "state.json"), encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def build(self, target, jobs):
        """Build one target unless its stamp says nothing changed. Returns its state."""
        want = self.target_stamp(target)
        st = self.state(target)
        if st.get("stamp") == want:
            return st
        self.headers()
        d = self.tdir(target)
        os.makedirs(d, exist_ok=True)
        new = os.path.join(d, "install.new")
        shutil.rmtree(new, ignore_errors=True)
        log = os.path.join(d, "build.log")
        fix = FIXES.get(target, {})
        env = clean_env()
        env["CFLAGS"] = "-static -Wl,-z,muldefs"
        env["LDFLAGS"] = "-static"
        env.update(fix.get("env", {}))
        argv = ["make", "-k", "-j%d" % jobs, "-C", self.shadow(), "TARGETS=" + target, "O=" + self.obj,
                "KSFT_INSTALL_PATH=" + new] + fix.get("args", [])
        t0 = time.monotonic()
        with open(log, "w") as f:
            f.write("$ %s\n" % " ".join(argv))
            f.flush()
            r = subprocess.run(argv + ["install"], stdout=f, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, env=env)
        secs = time.monotonic() - t0
        programs = list_file_programs(os.path.join(new, "kselftest-list.txt"), target)
        ok = r.returncode == 0 and programs
        st = {"stamp": want, "target": target, "ok": bool(ok), "seconds": round(secs, 1),
              "programs": programs, "status": r.returncode}
        inst = os.path.join(d, "install")
        if ok:
            old = os.path.join(d, "install.old")
            shutil.rmtree(old, ignore_errors=True)
            if os.path.exists(inst):
                os.rename(inst, old)
            os.rename(new, inst)
            shutil.rmtree(old, ignore_errors=True)
        else:
            shutil.rmtree(new, ignore_errors=True)
            shutil.rmtree(inst, ignore_errors=True)
            st["why"] = ("make exited with status %d" % r.returncode if r.returncode
                         else "the tree lists no test programs for it")
        write_atomic(os.path.join(d, "state.json"), json.dumps(st, indent=1) + "\n")
        return st


def list_file_programs(path, target):
    progs = []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                coll, _, prog = line.strip().partition(":")
                if coll == target and prog and prog not in progs:
                    progs.append(prog)
    except OSError:
        pass
    return progs


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def write_atomic(path, text):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def clean_env():
    """The environment for the tree's make: none of a calling make's variables."""
    env = dict(os.environ)
    for k in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES", "CFLAGS", "LDFLAGS", "O",
              "ARCH", "KBUILD_OUTPUT", "TARGETS", "SUITES", "TESTS", "OUT"):
        env.pop(k, None)
    return env


def build_all(cache, targets, jobs, quiet=False):
    """Build each target; report failures with their log's tail. Returns states."""
    states = {}
    cache.lock()
    for t in targets:
        before = cache.state(t).get("stamp")
        st = cache.build(t, jobs)
        states[t] = st
        fresh = st.get("stamp") != before or not before
        if not st.get("ok"):
            log = os.path.join(cache.tdir(t), "build.log")
            lines = read(log).splitlines()
            # the compiler's and linker's complaints first, then the end
            tail = [x for x in lines if re.search(r"error:|undefined reference|cannot find", x)][:8]
            tail += [x for x in lines[-6:] if x not in tail]
            note("kselftest target '%s' did not build (%s); its tests are left out. Build log %s ends:\n%s"
                 % (t, st.get("why", "?"), log, "\n".join("    " + x for x in tail)))
        elif fresh and not quiet:
            note("kselftest target '%s': %d programs built in %.0f s"
                 % (t, len(st["programs"]), st.get("seconds", 0)))
    return states


# ---- staging for the payload ----------------------------------------------

def link_tree(src, dst):
    """Hard-link (copy across file systems) src's files into dst; keep what is there."""
    for root, dirs, files in os.walk(src):
        rel = os.path.relpath(root, src)
        droot = os.path.join(dst, rel) if rel != "." else dst
        os.makedirs(droot, exist_ok=True)
        for d in dirs:
            s = os.path.join(root, d)
            if os.path.islink(s):
                t = os.path.join(droot, d)
                if not os.path.lexists(t):
                    os.symlink(os.readlink(s), t)
        for name in files:
            s, t = os.path.join(root, name), os.path.join(droot, name)
            if os.path.lexists(t):
                continue
            if os.path.islink(s):
                os.symlink(os.readlink(s), t)
                continue
            try:
                os.link(s, t)
            except OSError:
                shutil.copy2(s, t)


def expected_outcomes(path=None):
    """suites/kselftest/expected.txt: 'TARGET/PROGRAM OUTCOME[|OUTCOME...]
    [config=A,B] [timeout=S] [reason]' lines; OUTCOME is pass, skip, xfail
    (fails on UML: run, reported as an expected failure with the reason),
    fail or crash (alternatives of an xfail: a kernel crash is never hidden); config= names kernel options the program needs (vkci exec skips it,
    without booting, on a kernel without them); timeout= replaces the target's
    (a program that hangs on UML). Returns {test: (outcomes, reason, config, timeout)}."""
    path = path or os.path.join(SUITE, "expected.txt")
    out = {}
    for n, line in enumerate(read(path).splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        words = line.split(None, 2)
        if len(words) < 2 or not all(o in ("pass", "skip", "xfail", "fail", "crash") for o in words[1].split("|")):
            die("%s:%d: bad line (TARGET/PROGRAM pass|skip|xfail|fail|crash [reason])" % (path, n))
        if "xfail" in words[1].split("|") and len(words) < 3:
            die("%s:%d: an expected failure needs its reason" % (path, n))
        why = words[2].strip() if len(words) > 2 else ""
        config, timeout = "", None
        while re.match(r"(config|timeout)=\S*( |$)", why):
            word, _, why = why.partition(" ")
            why = why.strip()
            if word.startswith("config="):
                config = word[7:]
                if not re.fullmatch(r"[A-Z0-9_]+(,[A-Z0-9_]+)*", config):
                    die("%s:%d: bad config=%s (e.g. config=FUSE_FS,UNIX_DIAG)" % (path, n, config))
            elif word[8:].isdigit() and int(word[8:]) > 0:
                timeout = int(word[8:])
            else:
                die("%s:%d: bad %s (timeout=SECONDS)" % (path, n, word))
        out[words[0]] = (words[1].split("|"), why, config, timeout)
    return out


def settings_timeout(path):
    """timeout= from a target's settings file (run_kselftest.sh's rules)."""
    t = None
    for line in read(path).splitlines():
        if line.startswith("#"):
            continue
        k, _, v = line.partition("=")
        if k.strip() == "timeout" and v.strip().isdigit():
            t = int(v.strip())
    return t


def stage(cache, targets, states, dest, meta_path, runner):
    """The built targets under dest as the payload wants them:
         dest/kselftest.d/          the install trees merged (run_kselftest.sh and
                                    kselftest-list.txt for these targets, each TARGET/)
         dest/kselftest.d/.vkci/    the runner every test goes through
                                    (images/kselftest-run.c), bash, timeout
         dest/kselftest/TARGET/PROG a symlink to the runner (the test vkci exec names)
       and the metadata file: one line per test, 'kselftest/T/P timeout=N [mem=M]'."""
    root = os.path.join(dest, "kselftest.d")
    entries = os.path.join(dest, "kselftest")
    shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(entries, ignore_errors=True)
    os.makedirs(root)
    _, opts = default_targets()
    expected = expected_outcomes()
    meta, lst = [], []
    for t in targets:
        st = states.get(t, {})
        if not st.get("ok"):
            continue
        inst = os.path.join(cache.tdir(t), "install")
        link_tree(inst, root)
        tmo = settings_timeout(os.path.join(inst, t, "settings"))
        if tmo is None:
            tmo = DEFAULT_TIMEOUT
        if tmo == 0 or tmo > TIMEOUT_CAP:
            tmo = TIMEOUT_CAP
        o = opts.get(t, {})
        if "timeout" in o:
            tmo = int(o["timeout"])
        for p in st["programs"]:
            os.makedirs(os.path.join(entries, t), exist_ok=True)
            os.symlink(GUEST_RUNNER, os.path.join(entries, t, p))
            want, why, config, ptmo = expected.get("%s/%s" % (t, p), ([], "", "", None))
            meta.append("kselftest/%s/%s timeout=%d%s%s%s" % (
                t, p, ptmo or tmo, " mem=" + o["mem"] if "mem" in o else "", " config=" + config if config else "",
                " xfail=" + why if "xfail" in want else ""))
            lst.append("%s:%s" % (t, p))
    # the tree's own runner over all of them in one vkernel (ci/bench/kselftest.py)
    os.makedirs(os.path.join(entries, "all"), exist_ok=True)
    os.symlink(GUEST_RUNNER, os.path.join(entries, "all", "run_kselftest.sh"))
    if os.path.lexists(os.path.join(root, "kselftest-list.txt")):
        os.unlink(os.path.join(root, "kselftest-list.txt"))
    with open(os.path.join(root, "kselftest-list.txt"), "w") as f:
        f.write("".join(x + "\n" for x in lst))
    userland(os.path.join(root, ".vkci"), runner)
    write_atomic(meta_path, "# kselftest metadata, written by ci/kselftest.py stage\n" +
                 "".join(x + "\n" for x in meta))
    return len(meta)


def userland(d, runner):
    """The runner, and what kselftest programs expect beyond the base image's busybox: bash
    (Debian's bash-static) and coreutils' timeout (run_kselftest.sh wants
    --foreground; dynamic, but the image has libc for e2fsprogs)."""
    os.makedirs(d, exist_ok=True)
    for src, name in ((runner, "kselftest-run"), ("/bin/bash-static", "bash"), ("/usr/bin/timeout", "timeout")):
        if not os.path.exists(src):
            die("'%s' missing (ci/deps.sh kselftest installs it)" % src, 3)
        shutil.copy2(src, os.path.join(d, name))


# ---- commands ---------------------------------------------------------------

def cmd_build(a):
    src = source_tree(a.source)
    targets = resolve_targets(src, a.targets)
    cache = Cache(src)
    t0 = time.monotonic()
    states = build_all(cache, targets, a.jobs)
    bad = [t for t in targets if not states[t].get("ok")]
    for t in targets:
        st = states[t]
        print("%-28s %s" % (t, "%d programs" % len(st["programs"]) if st.get("ok") else "FAILED: " + st.get("why", "")))
    note("kselftest: %d targets, %d built, %d failed (%.2f s) in %s"
         % (len(targets), len(targets) - len(bad), len(bad), time.monotonic() - t0, cache.dir))
    return 1 if bad else 0


def cmd_list(a):
    src = source_tree(a.source)
    targets = resolve_targets(src, a.targets)
    cache = Cache(src)
    states = build_all(cache, targets, a.jobs)
    for t in targets:
        for p in states[t].get("programs", []) if states[t].get("ok") else []:
            print("kselftest/%s/%s" % (t, p))
    return 0


def cmd_stage(a):
    src = source_tree(a.source)
    targets = resolve_targets(src, a.targets)
    cache = Cache(src)
    states = build_all(cache, targets, a.jobs)
    n = stage(cache, targets, states, a.dir, a.meta, a.runner)
    note("kselftest: %d tests of %d targets staged" % (n, len(targets)))
    return 0


def run_outcomes(out):
    """{TARGET/PROGRAM: outcome} of a run's kselftest tests (their result.json):
    pass, skip, fail, crash, infra, or xfail (a failure on the expected list,
    reported as a TODO: result.json says quarantined)."""
    res = {}
    base = os.path.join(out, "logs", "kselftest")
    for root, dirs, files in os.walk(base):
        dirs[:] = [d for d in dirs if not (d.startswith("attempt") and d[7:].isdigit())]
        if "result.json" not in files:
            continue
        try:
            with open(os.path.join(root, "result.json"), encoding="utf-8") as f:
                r = json.load(f)
        except (OSError, ValueError):
            continue
        name = r.get("test", "")[len("kselftest/"):]
        o = r.get("outcome", "infra")
        if o == "fail" and r.get("quarantined"):
            o = "xfail"
        res[name] = o
    # skipped without a boot (a kernel without the program's config=): no
    # result.json, only the TAP prove saved
    tap = os.path.join(out, "tap", "kselftest")
    for root, dirs, files in os.walk(tap):
        for f in files:
            name = os.path.relpath(os.path.join(root, f), tap)
            if name not in res and read(os.path.join(root, f)).startswith("1..0 # SKIP"):
                res[name] = "skip"
    return res


def cmd_check(a):
    """Compare a run's outcomes with the expected ones: per target, the counts
    side by side; every program whose outcome is not an expected one named."""
    expected = expected_outcomes(a.expected)
    got = run_outcomes(a.out)
    if not got:
        die("no kselftest results in '%s/logs/kselftest' (run make check SUITES=kselftest... OUT=%s first)"
            % (a.out, a.out))
    targets = sorted({k.rsplit("/", 1)[0] for k in got} if not a.targets
                     else resolve_targets(source_tree(a.source), a.targets))
    bad = []
    print("%-24s %-22s %s" % ("target", "expected p/s/x/f", "got p/s/x/f (other)"))
    for t in targets:
        exp = {k: v for k, v in expected.items() if k.rsplit("/", 1)[0] == t}
        ran = {k: v for k, v in got.items() if k.rsplit("/", 1)[0] == t}
        def counts(d, pick):
            c = {"pass": 0, "skip": 0, "xfail": 0, "fail": 0, "other": 0}
            for v in d.values():
                v = pick(v)
                c[v if v in c else "other"] += 1
            return c
        e = counts(exp, lambda v: v[0][0] if len(v[0]) == 1 else "other")
        g = counts(ran, lambda v: v)
        print("%-24s %-22s %d/%d/%d/%d%s" % (t, "%d/%d/%d/%d%s" % (e["pass"], e["skip"], e["xfail"], e["fail"],
                                                                   " (+%d either)" % e["other"] if e["other"] else ""),
                                            g["pass"], g["skip"], g["xfail"], g["fail"],
                                            " (%d)" % g["other"] if g["other"] else ""))
        for k in sorted(set(exp) | set(ran)):
            want = exp.get(k, (["(not listed)"], "", "", None))[0]
            have = ran.get(k, "(did not run)")
            if have not in want:
                bad.append("%s: expected %s, got %s" % (k, "|".join(want), have))
    for b in bad:
        print("vkci: kselftest " + b, file=sys.stderr)
    if bad:
        print("vkci: %d kselftest outcomes differ from %s (a real change: fix it, or update the file "
              "with the reason)" % (len(bad), a.expected or os.path.join("suites", "kselftest", "expected.txt")),
              file=sys.stderr)
        return 1
    return 0


def cmd_expect(a):
    """Print an expected.txt from a run's outcomes (to review: every failure
    needs its reason; the reasons of the current file are kept)."""
    cur = expected_outcomes(a.expected)
    got = run_outcomes(a.out)
    for k in sorted(set(got) | set(cur)):
        o = got.get(k)
        want, why, config, ptmo = cur.get(k, ([], "", "", None))
        why = " ".join(x for x in ("config=" + config if config else "", "timeout=%d" % ptmo if ptmo else "", why) if x)
        if o is None:
            o = "|".join(want)
        elif o in ("fail", "crash", "infra", "xfail"):
            o = "xfail"
            why = why or "TODO: why does it fail on UML?"
        if o in want and len(want) > 1:
            o = "|".join(want)
        print("%-52s %-10s %s" % (k, o, why if "xfail" in o.split("|") or why else ""))
    return 0


def cmd_targets(a):
    for t in tree_targets(source_tree(a.source)):
        print(t)
    return 0


def cmd_default(a):
    for t in default_targets()[0]:
        print(t)
    return 0


def main(argv):
    ap = argparse.ArgumentParser(prog="kselftest.py", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name, fn in (("build", cmd_build), ("list", cmd_list), ("stage", cmd_stage),
                     ("targets", cmd_targets), ("default", cmd_default), ("check", cmd_check),
                     ("expect", cmd_expect)):
        p = sub.add_parser(name)
        p.set_defaults(fn=fn)
        p.add_argument("--source", default=os.environ.get("KSFT_SOURCE"))
        if name in ("build", "list", "stage"):
            p.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
            p.add_argument("targets", nargs="+")
        if name in ("check", "expect"):
            p.add_argument("--expected")
        if name == "expect":
            p.add_argument("out")
        if name == "check":
            p.add_argument("--targets", nargs="*", default=[], help="only these (default: those that ran)")
            p.add_argument("out")
        if name == "stage":
            p.add_argument("--dir", required=True)
            p.add_argument("--meta", required=True)
            p.add_argument("--runner", required=True, help="the static kselftest-run binary")
    a = ap.parse_args(argv)
    return a.fn(a)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
