#!/usr/bin/env python3
"""ci/selection.py - what one `make check` runs, and its payload disk.

  selection.py check --suites "vm kselftest:timers" [--tests "..."]
  selection.py plan  --suites ... [--tests ...] --build BUILD --stage DIR --meta FILE
                  --runner BIN [--source SRC]

Names: SUITES words are suite names (suites/NAME/), `kselftest` (the
default kselftest targets, suites/kselftest/targets.txt) or
`kselftest:T1,T2` (those targets), `kunit` (every KUnit suite of the kernel)
or `kunit:GLOB1,GLOB2` (the suites those globs match, lib/glob.c syntax,
optionally SUITE_GLOB.CASE_GLOB); TESTS words are suites/SUITE/NAME.c or .py
files, kselftest tests, kselftest/TARGET/PROGRAM, and KUnit suites,
kunit/SUITE. When TESTS is given, it alone is the selection. KUnit names are
checked against the kernel (ci/kunit.py lists its suites by booting it), at
plan time; plan also writes the KUnit plan (OUT/kunit.plan: the groups).

check: every name must exist; one that does not is reported on one line
with the closest existing names, and the exit status is 2:
    vkci: no test 'suites/vm/mremapp.c' (closest: suites/vm/mremap.c)
kselftest targets are checked against the source tree; programs only after
their target is built (by plan).

plan: also builds the selected kselftest targets (ci/kselftest.py: cached,
locked), lays out the payload's contents in DIR (hard links: the C tests'
binaries from BUILD/payload/SUITE/NAME, the kselftest trees and their runner),
writes the kselftest metadata file, and prints the tests, one a line, for
prove. DIR/../payload.manifest lists what DIR holds (path, size, mtime), so
the caller re-packs the disk only when it changed (DIR/../payload.manifest.new
is written only then).
Standard library only.
"""
import argparse
import difflib
import glob
import os
import shutil
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "ci"))
import kselftest  # noqa: E402


def say_close(what, name, known):
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    print("vkci: no %s '%s' (%s)" % (what, name, "closest: " + ", ".join(close) if close
                                      else "none is close; see README.md, Choosing tests"),
          file=sys.stderr)


def own_tests():
    return sorted(glob.glob(os.path.join(TOP, "suites", "*", "*.c")) +
                  glob.glob(os.path.join(TOP, "suites", "*", "*.py")))


def selection(a, src_needed):
    """(own test files, kselftest targets, kselftest test names); exits 2 on a bad name."""
    rel = [os.path.relpath(p, TOP) for p in own_tests()]
    suites = sorted({p.split("/")[1] for p in rel} | {"kselftest", "kunit"})
    bad = 0
    files, targets, ksft, kunit = [], [], [], []
    src = None

    def need_src():
        nonlocal src
        if src is None:
            src = kselftest.source_tree(a.source)
        return src

    if a.tests.split():
        for t in a.tests.split():
            if t.startswith("kselftest/"):
                target = os.path.dirname(t[len("kselftest/"):])
                known = kselftest.tree_targets(need_src())
                if not target or target not in known:
                    say_close("kselftest target", target or t, known)
                    bad += 1
                    continue
                ksft.append(t)
                if target not in targets:
                    targets.append(target)
            elif t.startswith("kunit/") and len(t) > 6:
                kunit.append(t)          # checked against the kernel by plan
            elif t in rel or t[2:] in rel and t.startswith("./"):
                files.append(t if t in rel else t[2:])
            else:
                say_close("test", t, rel + ["kselftest/TARGET/PROGRAM", "kunit/SUITE"])
                bad += 1
    else:
        for w in a.suites.split():
            if w == "kselftest" or w.startswith("kselftest:"):
                names = ["default"] if w == "kselftest" else [x for x in w[10:].split(",") if x]
                if not names:
                    print("vkci: no kselftest targets in '%s' (e.g. kselftest:timers,futex)" % w, file=sys.stderr)
                    bad += 1
                known = kselftest.tree_targets(need_src())
                for n in names:
                    for t in (kselftest.default_targets()[0] if n == "default" else [n.strip("/")]):
                        if t not in known:
                            say_close("kselftest target", t, known)
                            bad += 1
                        elif t not in targets:
                            targets.append(t)
            elif w == "kunit" or w.startswith("kunit:"):
                if w != "kunit" and not [g for g in w[6:].split(",") if g]:
                    print("vkci: no KUnit glob in '%s' (e.g. kunit:'list*',kunit-try-catch-test)" % w,
                          file=sys.stderr)
                    bad += 1
                kunit.append(w)
            elif w in suites:
                files += [p for p in rel if p.split("/")[1] == w]
            else:
                say_close("suite", w, suites)
                bad += 1
    if bad:
        sys.exit(2)
    if src_needed and targets:
        need_src()
    return files, targets, ksft, src, kunit


def manifest(d):
    out = []
    for root, dirs, names in os.walk(d):
        dirs.sort()
        for n in sorted(names + [x for x in dirs if os.path.islink(os.path.join(root, x))]):
            p = os.path.join(root, n)
            st = os.lstat(p)
            out.append("%s %d %d %o" % (os.path.relpath(p, d), st.st_size, st.st_mtime_ns, st.st_mode))
    return "\n".join(out) + "\n"


def cmd_check(a):
    selection(a, False)
    return 0


def cmd_plan(a):
    files, targets, ksft, src, kunit_sel = selection(a, True)
    tests = []
    stage = a.stage
    shutil.rmtree(stage, ignore_errors=True)
    os.makedirs(stage)
    for f in files:
        if f.endswith(".py"):
            tests.append(f)
            continue
        name = f[len("suites/"):-2]
        binpath = os.path.join(a.build, "payload", name)
        if not os.path.exists(binpath):
            print("vkci: test binary '%s' missing (make suites builds it)" % binpath, file=sys.stderr)
            return 3
        os.makedirs(os.path.join(stage, os.path.dirname(name)), exist_ok=True)
        try:
            os.link(binpath, os.path.join(stage, name))
        except OSError:
            shutil.copy2(binpath, os.path.join(stage, name))
        tests.append(f)
    meta_lines = 0
    if targets:
        cache = kselftest.Cache(src)
        states = kselftest.build_all(cache, targets, os.cpu_count() or 1)
        meta_lines = kselftest.stage(cache, targets, states, stage, a.meta, a.runner)
        names = ["kselftest/%s/%s" % (t, p) for t in targets if states[t].get("ok")
                 for p in states[t]["programs"]]
        if ksft:
            bad = [t for t in ksft if t not in names]
            for t in bad:
                target = os.path.dirname(t[len("kselftest/"):])
                if not states[target].get("ok"):
                    print("vkci: kselftest test '%s' cannot run: its target did not build" % t, file=sys.stderr)
                else:
                    say_close("kselftest test", t, names)
            if bad:
                return 2
            names = [t for t in ksft]
        tests += names
    else:
        kselftest.write_atomic(a.meta, "# no kselftest tests in this run\n")
    kplan = os.path.join(a.out, "kunit.plan")
    if kunit_sel:
        # KUnit suites: listed from the kernel, grouped (ci/kunit.py); their
        # instances boot the KUnit payload, not this one
        import kunit
        ka = argparse.Namespace(kernel=a.kernel, image=a.image, payload=a.kunit_payload, out=a.out,
                                select=" ".join(w for w in kunit_sel if not w.startswith("kunit/")),
                                tests=" ".join(w for w in kunit_sel if w.startswith("kunit/")),
                                jobs=int(os.environ.get("KUNIT_JOBS") or 0), singletons=a.kunit_singletons)
        if not a.kernel:
            print("vkci: KUnit suites need the kernel (selection.py plan --kernel)", file=sys.stderr)
            return 2
        tests += kunit.make_plan(ka)[0]
    elif os.path.exists(kplan):
        os.unlink(kplan)
    man = manifest(stage)
    mpath = os.path.join(os.path.dirname(os.path.abspath(stage)), "payload.manifest")
    if kselftest.read(mpath) == man and os.path.exists(os.path.join(os.path.dirname(mpath), "payload.img")):
        pass   # the disk in OUT is up to date
    else:
        try:
            os.unlink(mpath)
        except OSError:
            pass
        kselftest.write_atomic(mpath + ".new", man)
    if not tests:
        print("vkci: no tests match SUITES='%s' TESTS='%s'" % (a.suites, a.tests), file=sys.stderr)
        return 2
    for t in tests:
        print(t)
    return 0


def main(argv):
    ap = argparse.ArgumentParser(prog="selection.py", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name, fn in (("check", cmd_check), ("plan", cmd_plan)):
        p = sub.add_parser(name)
        p.set_defaults(fn=fn)
        p.add_argument("--suites", default="")
        p.add_argument("--tests", default="")
        p.add_argument("--source", default=os.environ.get("KSFT_SOURCE") or None)
        if name == "plan":
            p.add_argument("--build", required=True)
            p.add_argument("--stage", required=True)
            p.add_argument("--meta", required=True)
            p.add_argument("--runner", required=True)
            p.add_argument("--kernel", default="", help="the run's kernel (KUnit suites are listed from it)")
            p.add_argument("--image", default="")
            p.add_argument("--kunit-payload", default="")
            p.add_argument("--out", default="out")
            p.add_argument("--kunit-singletons", action="store_true",
                           help="every KUnit suite in its own instance (coverage per suite)")
    a = ap.parse_args(argv)
    return a.fn(a)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
