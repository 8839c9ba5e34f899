#!/usr/bin/env python3
"""ci/bisect.py - the first commit where the selected tests fail, the way
they fail at BAD (`make bisect`, `vkci bisect`).

  bisect.py --kernel REPO --good REV --bad REV [--runs N] [--confidence C]
            [-c FRAGMENT]... [--out DIR] [--workdir DIR] TEST...

REPO is a git repository (a work tree or a bare one); it is only read. The
bisection runs in its own clone in the cache (VKCI_CACHE or ~/.cache/vkci,
bisect/NAME-HASH/tree: `git clone --shared`, objects borrowed from REPO,
one per repository, reused by the next bisection of it), builds each step
out of tree with `vkci build` (the clone's path stays the same, so kbuild
rebuilds only what the step changed) and runs each test in fresh vkernels
with `vkci exec`. --workdir DIR instead bisects in DIR, a work tree vkci
owns (the nightly runner's checkout): it must have no local changes and is
left where it was.

  1. BAD: built, its tests run until the failure rate is known (10 runs;
     up to 40 while fewer than 8 failed). The tests that fail and how
     (failed; crashed with its title) are the signature. BAD not failing
     stops here (exit 4).
  2. RUNS per step: given, or the smallest N such that a bad commit passes
     N runs with probability at most q, q spread so the whole bisection is
     right with the --confidence asked for (default 0.99): a bad commit
     fails a run with probability at least p, the lower end of the 95%
     Wilson interval of BAD's measured rate; q = 1 - C**(1/steps).
  3. GOOD: built and run RUNS times; failing the signature's way stops here
     (exit 4), and so does failing another way or not building.
  4. `git bisect` between them. A step is bad when a signature test fails
     the way it fails at BAD (failed / crashed with the same title) in any
     run, good when all RUNS runs pass, and skipped (`git bisect skip`)
     when the commit does not build, a test cannot run (does not boot) or
     fails another way (an unrelated crash). Only the signature's tests run.

Every step's commit, build time, runs, verdict and logs are kept in
OUT/bisect.json and OUT/steps/NN-COMMIT/ (build.log; runK/SUITE/TEST/: the
console and serial logs and result.json) and printed as a table at the end,
then the first bad commit with its subject, the failing test and its
reason or crash title, and the confidence.

SIGINT/SIGTERM: the running vkci is stopped (it tears its vkernels down),
the bisect state reset, the instance dirs removed, the table and the log
written, then the signal re-raised. Exit status: 0 first bad commit found,
1 only skipped commits left (the candidates are listed), 2 usage (bad
option, not a git repository, unknown revision, GOOD not an ancestor of
BAD), 3 infrastructure (git, vkci build's tools or disk, another bisection
of the same repository running), 4 nothing to bisect (BAD does not fail,
GOOD fails, GOOD or BAD cannot be built or run). Standard library only.
"""
import os
import sys

if __name__ == "bisect":
    # A script in ci/ has ci/ first on sys.path, so a standard module that
    # imports `bisect` (random does, through tempfile) would get this file:
    # hand it the standard module instead.
    _here = os.path.dirname(os.path.abspath(__file__))
    _path = sys.path[:]
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
    del sys.modules["bisect"]
    try:
        import bisect as _standard  # noqa: F401
    finally:
        sys.path[:] = _path

import argparse  # noqa: E402
import concurrent.futures as cf  # noqa: E402
import fcntl  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXIT_FOUND, EXIT_AMBIGUOUS, EXIT_USAGE, EXIT_INFRA, EXIT_NOTHING = 0, 1, 2, 3, 4
BUILD_SKIP = {2: "not a usable Linux source tree", 5: "its config does not take the fragments",
              8: "does not build"}          # vkci build statuses that make a step untestable
CAL_MIN, CAL_MAX, CAL_FAILS = 10, 40, 8     # calibration runs at BAD
Z95 = 1.6449                                # one-sided 95%
MAX_STEPS = 200


class Stop(Exception):
    """Ends the bisection with an exit status and a one-line message."""

    def __init__(self, code, msg):
        super().__init__(msg)
        self.code = code


def say(msg):
    print("vkci: bisect: " + msg, file=sys.stderr, flush=True)


# ---- pure parts (ci/t/bisect.t tests them) ------------------------------------

def way(result):
    """How one run of one test ended, from its result.json (None: no record):
    None passed, "fail", "crash: TITLE", or "cannot run: ..." (infra, skip)."""
    if not result:
        return "cannot run: no result.json"
    o = result.get("outcome")
    if o in ("pass", "flaky"):
        return None
    if o == "crash":
        title = result.get("crash_title") or result.get("crash_fingerprint") or result.get("crash_kind") or "?"
        return "crash: " + str(title)
    if o == "fail":
        return "fail"
    if o == "skip":
        return "cannot run: skipped (%s)" % (result.get("reason") or "no reason")
    return "cannot run: %s (%s)" % (o or "infra", result.get("reason") or "no reason")


def signature_of(runs):
    """{test: {ways}} of BAD: the ways each test failed in its runs
    (`runs`: [{test: way}]); "cannot run" is not a way of failing."""
    sig = {}
    for run in runs:
        for test, w in run.items():
            if w and not w.startswith("cannot run"):
                sig.setdefault(test, set()).add(w)
    return sig


def judge(runs, sig):
    """A step's verdict from its runs: ("bad", why) when a signature test
    failed a signature way in any run, ("skip", why) when one could not run
    or failed another way, ("good", why) when all passed."""
    other = None
    for i, run in enumerate(runs, 1):
        for test in sorted(sig):
            w = run.get(test, "cannot run: not run")
            if w in sig[test]:
                return "bad", f"{test}: {w} (run {i})"
            if w and other is None:
                other = f"{test}: {'fails another way: ' if not w.startswith('cannot run') else ''}{w} (run {i})"
    if other:
        return "skip", other
    return "good", "%d run%s passed" % (len(runs), "" if len(runs) == 1 else "s")


def wilson_lower(k, n, z=Z95):
    """Lower end of the Wilson score interval of k successes in n trials."""
    if n <= 0:
        return 0.0
    p = k / n
    den = 1 + z * z / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - margin) / den)


def steps_for(candidates):
    """Bisection steps for that many candidate commits (good verdicts at most)."""
    return max(1, math.ceil(math.log2(candidates + 1)))


def runs_needed(p, confidence, steps):
    """Smallest N: a bad commit (failing each run with probability >= p)
    passes all N runs with probability <= q, where (1-q)**steps = confidence."""
    if p >= 1:
        return 1
    if p <= 0:
        return None
    q = 1 - confidence ** (1.0 / steps)
    return max(1, math.ceil(math.log(q) / math.log(1 - p)))


def confidence_of(p, good_runs):
    """Chance that no good verdict (with those run counts) was a bad commit
    passing all its runs, each failing with probability >= p."""
    c = 1.0
    for n in good_runs:
        c *= 1 - (1 - p) ** n
    return c


def parse_bisect(text):
    """git bisect's answer: ("found", sha), ("ambiguous", [shas]) or ("more", None)."""
    m = re.search(r"^([0-9a-f]{40}) is the first bad commit", text, re.M)
    if m:
        return "found", m.group(1)
    if "only 'skip'ped commits left to test" in text:
        return "ambiguous", re.findall(r"^([0-9a-f]{40})\s*$", text, re.M)
    return "more", None


# ---- processes -------------------------------------------------------------------

class Children:
    """The running vkci processes (each its own process group), so a signal
    can stop them; git commands are short and left to finish."""

    def __init__(self):
        self.lock = threading.Lock()
        self.procs = set()
        self.stopping = None

    def run(self, argv, stdout, stderr, env=None, cwd=None):
        if self.stopping:
            return None
        p = subprocess.Popen(argv, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, env=env,
                             cwd=cwd, process_group=0)
        with self.lock:
            self.procs.add(p)
        if self.stopping:         # the signal came while it started
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except OSError:
                pass
        try:
            return p.wait()
        finally:
            with self.lock:
                self.procs.discard(p)

    def stop(self, sig):
        self.stopping = sig
        with self.lock:
            procs = list(self.procs)
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except OSError:
                pass

    def reap(self, grace=60):
        """Wait for the stopped children; SIGKILL what outlives the grace."""
        end = time.monotonic() + grace
        while True:
            with self.lock:
                procs = list(self.procs)
            if not procs:
                return
            if time.monotonic() > end:
                for p in procs:
                    try:
                        os.killpg(p.pid, signal.SIGKILL)
                    except OSError:
                        pass
                end = time.monotonic() + 5
            time.sleep(0.1)


def git(args, cwd, check=True, env=None):
    e = dict(os.environ, GIT_OPTIONAL_LOCKS="0", LC_ALL="C", **(env or {}))
    r = subprocess.run(["git"] + args, cwd=cwd, capture_output=True, text=True, env=e,
                       stdin=subprocess.DEVNULL)
    if check and r.returncode:
        raise Stop(EXIT_INFRA, "git %s failed in '%s': %s" % (" ".join(args[:3]), cwd,
                                                               (r.stderr or r.stdout).strip()[-300:]))
    return r


# ---- the bisection ---------------------------------------------------------------


def workspace_dir(cache, key_src):
    """The bisection workspace in the cache for a repository's git dir (or
    for BISECT_WORKDIR when given): one per key, named after it."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", os.path.basename(key_src.rstrip("/")).removesuffix(".git")) or "repo"
    return os.path.join(cache, "bisect", "%s-%s" % (name, hashlib.sha256(key_src.encode()).hexdigest()[:12]))


class Bisect:
    def __init__(self, a):
        self.a = a
        self.children = Children()
        self.steps = []
        self.t0 = time.monotonic()
        self.started = False      # git bisect start ran in the tree
        self.result = {"status": "error"}
        self.tree = self.ws = None
        self.lock_fd = None

    # -- setup
    def resolve(self):
        a = self.a
        src = a.workdir or a.kernel
        if not src:
            raise Stop(EXIT_USAGE, "give the git repository (KERNEL=<git tree> or --kernel)")
        if not os.path.isdir(src):
            raise Stop(EXIT_USAGE, f"no directory '{src}' (KERNEL=<git tree>)")
        r = git(["rev-parse", "--git-common-dir"], src, check=False)
        if r.returncode:
            raise Stop(EXIT_USAGE, f"'{src}' is not a git repository (bisect needs KERNEL=<git tree>)")
        self.repo = os.path.realpath(src)
        self.gitdir = os.path.realpath(os.path.join(src, r.stdout.strip()))
        self.good, self.bad = self.rev(a.good, "GOOD"), self.rev(a.bad, "BAD")
        if self.good == self.bad:
            raise Stop(EXIT_USAGE, f"GOOD and BAD are the same commit {self.good[:12]}")
        if git(["merge-base", "--is-ancestor", self.good, self.bad], self.repo, check=False).returncode:
            raise Stop(EXIT_USAGE, f"GOOD '{a.good}' is not an ancestor of BAD '{a.bad}' (GOOD=<older rev>)")
        self.candidates = int(git(["rev-list", "--count", f"{self.good}..{self.bad}"], self.repo).stdout)
        if not a.tests:
            raise Stop(EXIT_USAGE, "no tests to bisect with (TESTS=suites/SUITE/TEST.c ...)")
        self.tests = []
        for t in a.tests:
            p = t if os.path.isabs(t) else os.path.join(TOP, t)
            if not os.path.isfile(p):
                raise Stop(EXIT_USAGE, f"no test '{t}' (TESTS=suites/SUITE/TEST.c ...)")
            self.tests.append(t)

    def rev(self, rev, what):
        if not rev:
            raise Stop(EXIT_USAGE, f"{what} is empty ({what}=<rev>)")
        r = git(["rev-parse", "--verify", "--quiet", "--end-of-options", rev + "^{commit}"], self.repo, check=False)
        if r.returncode:
            raise Stop(EXIT_USAGE, f"{what} '{rev}' is not a commit in '{self.repo}'")
        return r.stdout.strip()

    def workspace(self):
        cache = os.environ.get("VKCI_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "vkci")
        self.ws = workspace_dir(cache, self.a.workdir and os.path.realpath(self.a.workdir) or self.gitdir)
        os.makedirs(self.ws, exist_ok=True)
        self.lock_fd = os.open(os.path.join(self.ws, "lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(self.lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise Stop(EXIT_INFRA, f"another bisection of '{self.repo}' is running (its workspace '{self.ws}')")
        self.rundir = os.path.join(self.ws, "run")
        shutil.rmtree(self.rundir, ignore_errors=True)
        os.makedirs(self.rundir)
        if self.a.workdir:
            self.tree = os.path.realpath(self.a.workdir)
            top = git(["rev-parse", "--show-toplevel"], self.tree, check=False).stdout.strip()
            if os.path.realpath(top or "/nonexistent") != self.tree:
                raise Stop(EXIT_USAGE, f"--workdir '{self.a.workdir}' is not the top of a git work tree")
            self.reset_stale()
            if git(["status", "--porcelain", "--untracked-files=no"], self.tree).stdout.strip():
                raise Stop(EXIT_USAGE, f"--workdir '{self.a.workdir}' has local changes (bisect only a tree vkci owns)")
            self.home = git(["rev-parse", "HEAD"], self.tree).stdout.strip()
        else:
            self.tree = os.path.join(self.ws, "tree")
            if not os.path.isdir(os.path.join(self.tree, ".git")):
                shutil.rmtree(self.tree, ignore_errors=True)
                tmp = self.tree + ".new"
                shutil.rmtree(tmp, ignore_errors=True)
                say(f"cloning '{self.repo}' into '{self.tree}' (git clone --shared: objects borrowed)")
                git(["clone", "--quiet", "--shared", "--no-checkout", self.repo, tmp], self.ws)
                os.rename(tmp, self.tree)
            else:
                self.reset_stale()
            self.home = None
        # the clone borrows REPO's objects: every commit of REPO is there by its id
        for c in (self.good, self.bad):
            if git(["cat-file", "-e", c + "^{commit}"], self.tree, check=False).returncode:
                raise Stop(EXIT_INFRA, f"commit {c[:12]} is not visible in '{self.tree}' (remove it to re-clone)")
        # the payload may be rebuilt by another make while this runs: keep a copy
        self.payload = os.path.join(self.ws, "payload.img")
        shutil.copyfile(self.a.payload, self.payload + ".tmp")
        os.replace(self.payload + ".tmp", self.payload)

    def reset_stale(self):
        """A bisection killed before its cleanup left its state: reset it."""
        gd = git(["rev-parse", "--absolute-git-dir"], self.tree).stdout.strip()
        if os.path.exists(os.path.join(gd, "BISECT_START")):
            say(f"resetting a bisection left in '{self.tree}' by an earlier run")
            git(["bisect", "reset"], self.tree)

    def checkout(self, commit):
        git(["checkout", "--quiet", "--force", "--detach", commit], self.tree)
        git(["clean", "--quiet", "-d", "-f", "-x"], self.tree)

    # -- one step
    def subject(self, commit):
        return git(["log", "-1", "--format=%s", commit], self.tree).stdout.strip()

    def step(self, role, commit, runs, tests, early=True):
        """Build the checked-out commit and run tests `runs` times.
        Returns the step's record (verdict filled by the caller for BAD/GOOD)."""
        n = sum(1 for s in self.steps if s["role"] == "step") + 1 if role == "step" else 0
        sdir = os.path.join(self.a.out, "steps", "%02d-%s-%s" % (len(self.steps), role, commit[:12]))
        os.makedirs(sdir, exist_ok=True)
        rec = {"n": n, "role": role, "commit": commit, "subject": self.subject(commit), "dir": sdir,
               "build_s": None, "build": None, "test_s": 0.0, "runs": [], "verdict": None, "why": None}
        self.steps.append(rec)
        say(f"{role} {commit[:12]} {rec['subject'][:60]}: building")
        t = time.monotonic()
        kernel, status = self.build(sdir)
        rec["build_s"] = round(time.monotonic() - t, 2)
        if kernel is None:
            rec["build"] = BUILD_SKIP.get(status, f"vkci build exit {status}")
            if status not in BUILD_SKIP:
                raise Stop(EXIT_INFRA, f"vkci build failed (exit {status}) on {commit[:12]}: "
                                       f"see {os.path.join(sdir, 'build.log')}")
            rec["verdict"], rec["why"] = "skip", rec["build"]
            return rec
        rec["build"] = "ok"
        t = time.monotonic()
        rec["runs"] = self.run_tests(sdir, kernel, runs, tests, early)
        rec["test_s"] = round(time.monotonic() - t, 2)
        return rec

    def build(self, sdir):
        argv = [self.a.vkci, "build"]
        for f in self.fragments:
            argv += ["-c", f]
        argv.append(self.tree)
        with open(os.path.join(sdir, "build.log"), "ab") as log, \
                open(os.path.join(sdir, "kernel.path"), "wb") as outf:
            st = self.children.run(argv, stdout=outf, stderr=log)
        self.interrupted()
        with open(os.path.join(sdir, "kernel.path")) as f:
            k = f.read().strip()
        return (k, 0) if st == 0 and k else (None, st)

    def run_tests(self, sdir, kernel, runs, tests, early):
        """runs x tests in fresh vkernels (on every CPU); stops starting new
        runs once one failed a signature way (early). [{test: way}] per run."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("VKCI_")}
        env["VKCI_RUNDIR"] = self.rundir
        env["VKCI_QUARANTINE"] = ""
        env["VKCI_RETRIES"] = "0"
        results = [dict() for _ in range(runs)]
        found = threading.Event()

        def one(i, test):
            if found.is_set() or self.children.stopping:
                return
            ldir = os.path.join(sdir, "run%d" % (i + 1))
            os.makedirs(ldir, exist_ok=True)
            name = test_name(test)
            argv = [self.a.vkci, "exec", "-k", kernel, "-i", self.a.image, "-p", self.payload, "-l", ldir, test]
            with open(os.path.join(ldir, name.replace("/", "_") + ".tap"), "wb") as o, \
                    open(os.path.join(ldir, name.replace("/", "_") + ".err"), "wb") as e:
                st = self.children.run(argv, stdout=o, stderr=e, env=env, cwd=TOP)
            if st is None or self.children.stopping:
                return
            res = load_json(os.path.join(ldir, name, "result.json"))
            w = way(res)
            if st == 3 and (w is None or not w.startswith("cannot run")):
                w = "cannot run: vkci exec exit 3 (%s)" % ((res or {}).get("reason") or "infrastructure")
            results[i][test] = w
            if early and self.sig and w in self.sig.get(test, ()):
                found.set()

        jobs = max(1, min(self.a.jobs, runs * len(tests)))
        with cf.ThreadPoolExecutor(max_workers=jobs) as pool:
            futs = [pool.submit(one, i, t) for i in range(runs) for t in tests]
            for f in futs:
                while True:
                    try:
                        f.result(timeout=0.2)
                        break
                    except cf.TimeoutError:
                        if self.children.stopping:
                            break
        shutil.rmtree(self.rundir, ignore_errors=True)
        os.makedirs(self.rundir, exist_ok=True)
        self.interrupted()
        return [r for r in results if r]

    def interrupted(self):
        if self.children.stopping:
            raise KeyboardInterrupt

    # -- phases
    def calibrate(self):
        self.checkout(self.bad)
        self.sig = None
        fixed = self.a.runs
        rec = self.step("BAD", self.bad, fixed or CAL_MIN, self.tests, early=False)
        if rec["build"] != "ok":
            raise Stop(EXIT_NOTHING, f"BAD {self.bad[:12]} {rec['build']} (see {rec['dir']}/build.log)")
        runs = rec["runs"]
        while not fixed:
            k = sum(1 for r in runs if any(w and not w.startswith("cannot run") for w in r.values()))
            if len(runs) >= CAL_MAX or k >= CAL_FAILS or k == len(runs):
                break
            more = self.run_tests(rec["dir"], self.kernel_of(rec), min(10, CAL_MAX - len(runs)), self.tests, False)
            runs += more
            rec["runs"] = runs
        self.sig = signature_of(runs)
        fails = sum(1 for r in runs if any(w in self.sig.get(t, ()) for t, w in r.items()))
        cannot = [w for r in runs for w in r.values() if w and w.startswith("cannot run")]
        rec["verdict"] = "bad"
        if not self.sig:
            if cannot and len(cannot) == sum(len(r) for r in runs):
                raise Stop(EXIT_NOTHING, f"BAD {self.bad[:12]}: the tests cannot run there: {cannot[0]}")
            raise Stop(EXIT_NOTHING, f"BAD {self.bad[:12]} does not fail: {len(runs)} of {len(runs)} runs "
                                     f"passed ({' '.join(self.tests)}; flaky? give RUNS= more runs)")
        self.p_hat = fails / len(runs)
        self.p_low = wilson_lower(fails, len(runs))
        self.nsteps = steps_for(self.candidates)
        self.runs = fixed or runs_needed(self.p_low, self.a.confidence, self.nsteps)
        rec["why"] = "; ".join(f"{t}: {', '.join(sorted(ws))}" for t, ws in sorted(self.sig.items())) + \
            f" ({fails} of {len(runs)} runs)"
        self.calibration = {"runs": len(runs), "failed": fails, "rate": round(self.p_hat, 4),
                            "rate_low95": round(self.p_low, 4), "steps": self.nsteps,
                            "runs_per_step": self.runs, "runs_given": bool(fixed),
                            "confidence_asked": self.a.confidence,
                            "signature": {t: sorted(w) for t, w in self.sig.items()}}
        say(f"BAD fails in {fails} of {len(runs)} runs (rate >= {self.p_low:.2f} at 95%): "
            f"{self.runs} run(s) per step" + ("" if fixed else
                                              f" for {self.a.confidence:.1%} confidence over <= {self.nsteps} steps"))

    def check_good(self):
        self.checkout(self.good)
        rec = self.step("GOOD", self.good, self.runs, sorted(self.sig))
        if rec["build"] != "ok":
            raise Stop(EXIT_NOTHING, f"GOOD {self.good[:12]} {rec['build']} (see {rec['dir']}/build.log): "
                                     "pick a GOOD that builds")
        v, why = judge(rec["runs"], self.sig)
        rec["verdict"], rec["why"] = ("good" if v == "good" else "error"), why
        if v == "bad":
            raise Stop(EXIT_NOTHING, f"GOOD {self.good[:12]} fails the way BAD does ({why}): "
                                     "not a regression between them (pick an older GOOD)")
        if v == "skip":
            raise Stop(EXIT_NOTHING, f"GOOD {self.good[:12]} cannot be judged: {why}")

    def bisect(self):
        self.started = True
        r = git(["bisect", "start", self.bad, self.good], self.tree, check=False)
        state, val = parse_bisect(r.stdout + r.stderr)
        while state == "more":
            if r.returncode:
                raise Stop(EXIT_INFRA, "git bisect: " + (r.stderr or r.stdout).strip()[-300:])
            if len(self.steps) > MAX_STEPS:
                raise Stop(EXIT_INFRA, f"more than {MAX_STEPS} steps: giving up")
            commit = git(["rev-parse", "HEAD"], self.tree).stdout.strip()
            git(["clean", "--quiet", "-d", "-f", "-x"], self.tree)
            rec = self.step("step", commit, self.runs, sorted(self.sig))
            if rec["verdict"] is None:
                rec["verdict"], rec["why"] = judge(rec["runs"], self.sig)
            say(f"{commit[:12]}: {rec['verdict']}: {rec['why']}")
            r = git(["bisect", rec["verdict"]], self.tree, check=False)
            state, val = parse_bisect(r.stdout + r.stderr)
        return state, val

    def culprit(self, commit):
        """The first bad commit with the failing test and how it failed there."""
        rec = next((s for s in self.steps if s["commit"] == commit and s["verdict"] == "bad"), None)
        c = {"commit": commit, "subject": self.subject(commit), "test": None, "reason": None,
             "crash_title": None, "log": None}
        for i, run in enumerate(rec["runs"] if rec else [], 1):
            for test in sorted(self.sig):
                if run.get(test) in self.sig[test]:
                    name = test_name(test)
                    res = load_json(os.path.join(rec["dir"], "run%d" % i, name, "result.json")) or {}
                    c.update(test=test, reason=res.get("reason"),
                             crash_title=res.get("crash_title") or res.get("crash_fingerprint"),
                             log=res.get("console_log") or os.path.join(rec["dir"], "run%d" % i, name))
                    return c
        return c

    # -- all of it
    def run(self):
        try:
            self.resolve()
            os.makedirs(self.a.out, exist_ok=True)
            for old in ("bisect.json", "bisect.txt"):
                try:
                    os.unlink(os.path.join(self.a.out, old))
                except FileNotFoundError:
                    pass
            shutil.rmtree(os.path.join(self.a.out, "steps"), ignore_errors=True)
            self.fragments = self.a.fragments if self.a.fragments is not None else kfrags(self.a.kconfig)
            self.workspace()
            say(f"{self.candidates} commit(s) after GOOD {self.good[:12]} up to BAD {self.bad[:12]}; "
                f"work tree {self.tree}")
            self.calibrate()
            self.check_good()
            state, val = self.bisect()
            skipped = [s for s in self.steps if s["role"] == "step" and s["verdict"] == "skip"]
            self.result = {"status": "found" if state == "found" else "ambiguous",
                           "skipped": [{"commit": s["commit"], "subject": s["subject"], "why": s["why"]}
                                       for s in skipped]}
            if state == "found":
                self.result["culprit"] = self.culprit(val)
                code = EXIT_FOUND
            else:
                self.result["candidates"] = [{"commit": c, "subject": self.subject(c)} for c in val]
                code = EXIT_AMBIGUOUS
            good_runs = [len(s["runs"]) for s in self.steps if s["verdict"] == "good"]
            self.result["confidence"] = round(confidence_of(self.p_low, good_runs), 6)
            return code
        except Stop as e:
            self.result = {"status": "error", "error": str(e)}
            say(str(e))
            return e.code
        except KeyboardInterrupt:
            self.result = {"status": "interrupted"}
            return None
        finally:
            self.cleanup()
            self.report()

    def kernel_of(self, rec):
        with open(os.path.join(rec["dir"], "kernel.path")) as f:
            return f.read().strip()

    def cleanup(self):
        self.children.reap()
        if self.tree and self.started:
            r = git(["bisect", "reset"] + ([self.home] if self.home else []), self.tree, check=False)
            if r.returncode:
                say("git bisect reset failed in '%s': %s" % (self.tree, (r.stderr or r.stdout).strip()[-300:]))
        elif self.tree and self.home:
            git(["checkout", "--quiet", "--force", "--detach", self.home], self.tree, check=False)
        if self.ws:
            shutil.rmtree(os.path.join(self.ws, "run"), ignore_errors=True)
        if self.lock_fd is not None:
            os.close(self.lock_fd)

    # -- the log
    def report(self):
        wall = time.monotonic() - self.t0
        builds = sum(s["build_s"] or 0 for s in self.steps)
        tests = sum(s["test_s"] or 0 for s in self.steps)
        doc = {"format": "vkci-bisect/1", "repo": getattr(self, "repo", None), "tree": self.tree,
               "good": getattr(self, "good", None), "bad": getattr(self, "bad", None),
               "tests": getattr(self, "tests", None), "calibration": getattr(self, "calibration", None),
               "steps": [{k: v for k, v in s.items()} for s in self.steps], "result": self.result,
               "timing": {"wall_s": round(wall, 1), "build_s": round(builds, 1), "test_s": round(tests, 1),
                          "builds": sum(1 for s in self.steps if s["build_s"] is not None),
                          "runs": sum(len(s["runs"]) for s in self.steps),
                          "steps": sum(1 for s in self.steps if s["role"] == "step")}}
        table = render(doc)
        if self.a.out and os.path.isdir(self.a.out):
            with open(os.path.join(self.a.out, "bisect.json.tmp"), "w") as f:
                json.dump(doc, f, indent=1)
            os.replace(os.path.join(self.a.out, "bisect.json.tmp"), os.path.join(self.a.out, "bisect.json"))
            with open(os.path.join(self.a.out, "bisect.txt"), "w") as f:
                f.write(table)
        if self.steps:
            print(table, end="", flush=True)


def render(doc):
    """The steps as a table, then the outcome."""
    lines = ["%-5s %-12s %-40s %-14s %-14s %s" % ("step", "commit", "subject", "build", "tests", "verdict")]
    for s in doc["steps"]:
        build = "%.1f s" % s["build_s"] if s["build_s"] is not None else "-"
        if s["build"] not in (None, "ok"):
            build += " (failed)"
        tests = "%d run%s %.1f s" % (len(s["runs"]), "" if len(s["runs"]) == 1 else "s", s["test_s"]) \
            if s["runs"] else "-"
        role = str(s["n"]) if s["role"] == "step" else s["role"]
        lines.append("%-5s %-12s %-40s %-14s %-14s %s" % (role, s["commit"][:12], s["subject"][:40], build,
                                                          tests, (s["verdict"] or "-") +
                                                          (": " + s["why"] if s["why"] else "")))
    t = doc["timing"]
    lines.append("")
    lines.append("wall %.1f s: builds %.1f s (%d), test runs %.1f s (%d runs), %d bisection steps"
                 % (t["wall_s"], t["build_s"], t["builds"], t["test_s"], t["runs"], t["steps"]))
    r = doc["result"]
    cal = doc.get("calibration") or {}
    if r.get("status") == "found":
        c = r["culprit"]
        lines.append(f"first bad commit: {c['commit']} {c['subject']}")
        if c["test"]:
            lines.append(f"  test: {c['test']}: " + (f"crash: {c['crash_title']}" if c.get("crash_title")
                                                      else (c.get("reason") or "failed")))
            lines.append(f"  log: {c['log']}")
    elif r.get("status") == "ambiguous":
        lines.append("only skipped commits left: the first bad commit is one of")
        lines += [f"  {c['commit']} {c['subject']}" for c in r["candidates"]]
    elif r.get("status") == "interrupted":
        lines.append("interrupted: the steps above are all that ran")
    else:
        lines.append("stopped: " + str(r.get("error")))
    if r.get("skipped"):
        lines.append("skipped commits: " + "; ".join(f"{s['commit'][:12]} ({s['why']})" for s in r["skipped"]))
    if r.get("confidence") is not None:
        lines.append("confidence %.2f%%: BAD failed %d of %d runs (rate >= %.2f at 95%%), %d run(s) per step; "
                     "a bad commit passes all of a step's runs with probability <= %.2g"
                     % (100 * r["confidence"], cal["failed"], cal["runs"], cal["rate_low95"],
                        cal["runs_per_step"], (1 - cal["rate_low95"]) ** cal["runs_per_step"]))
    return "\n".join(lines) + "\n"


def test_name(test):
    """suites/vm/mremap.c -> vm/mremap (vkci exec's name, its log dir)."""
    parts = os.path.normpath(test).split(os.sep)
    return parts[-2] + "/" + os.path.splitext(parts[-1])[0]


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def kfrags(extra):
    """The config fragments make check uses (make print-kfrags), absolute."""
    r = subprocess.run(["make", "-s", "--no-print-directory", "-C", TOP, "print-kfrags",
                        "KCONFIG=" + ",".join(extra)], capture_output=True, text=True)
    if r.returncode:
        raise Stop(EXIT_INFRA, "make print-kfrags failed: " + r.stderr.strip()[-300:])
    return [f if os.path.isabs(f) else os.path.join(TOP, f) for f in r.stdout.split()]


def main(argv=None):
    ap = argparse.ArgumentParser(prog="vkci bisect", description=__doc__.split("\n")[1].strip())
    ap.add_argument("-k", "--kernel", help="the git repository (a work tree or bare); only read")
    ap.add_argument("-g", "--good", required=True, help="a commit where the tests pass")
    ap.add_argument("-b", "--bad", required=True, help="a later commit where they fail")
    ap.add_argument("-r", "--runs", type=int, default=0, help="runs per step (default: from BAD's failure rate)")
    ap.add_argument("--confidence", type=float, default=0.99, help="wanted overall confidence (default 0.99)")
    ap.add_argument("-c", "--kconfig", action="append", default=[], help="extra config fragment (like KCONFIG=)")
    ap.add_argument("--fragments", help=argparse.SUPPRESS)   # make passes its KFRAGS as is
    ap.add_argument("-o", "--out", default=os.path.join(TOP, "out", "bisect"), help="the log (default out/bisect)")
    ap.add_argument("--workdir", help="bisect in this work tree vkci owns instead of a clone in the cache")
    ap.add_argument("-i", "--image", default=os.environ.get("VKCI_IMAGE") or os.path.join(TOP, "build", "image", "base.img"))
    ap.add_argument("-p", "--payload", help="payload disk with the tests (default: make all TESTS=... builds it)")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2, help="vkernels at once")
    ap.add_argument("--vkci", default=os.path.join(TOP, "harness", "vkci"))
    ap.add_argument("tests", nargs="*", metavar="TEST")
    a = ap.parse_args(argv)
    if a.runs < 0 or not 0 < a.confidence < 1:
        say("RUNS must be >= 1 and CONFIDENCE between 0 and 1 (e.g. RUNS=5, CONFIDENCE=0.99)")
        return EXIT_USAGE
    a.fragments = [os.path.abspath(f) for f in a.fragments.split()] if a.fragments else None
    a.out = os.path.abspath(a.out)
    a.image, a.vkci = os.path.abspath(a.image), os.path.abspath(a.vkci)
    a.payload = a.payload and os.path.abspath(a.payload)
    if not a.payload:
        r = subprocess.run(["make", "-s", "--no-print-directory", "-C", TOP, "all", "TESTS=" + " ".join(a.tests)],
                           stdout=sys.stderr)
        if r.returncode:
            say("make all failed: cannot build the image and the payload for the tests")
            return EXIT_INFRA
        a.payload = os.path.join(TOP, "build", "payload.img")
    for what, path in (("payload", a.payload), ("image", a.image), ("vkci", a.vkci)):
        if not os.path.exists(path):
            say(f"no {what} '{path}' (make all builds it)")
            return EXIT_USAGE
    b = Bisect(a)
    got = []

    def on_signal(sig, _frame):
        if not got:
            got.append(sig)
            say(f"signal {sig}: stopping")
            b.children.stop(sig)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    code = b.run()
    if got:
        signal.signal(got[0], signal.SIG_DFL)
        os.kill(os.getpid(), got[0])
    return code if code is not None else EXIT_INFRA


if __name__ == "__main__":
    sys.exit(main())
