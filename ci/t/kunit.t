#!/usr/bin/env python3
"""ci/kunit.py without booting: its glob matcher against the kernel's own
lib/glob.c (compiled here from the default source, when it is unpacked),
the groups it cuts (every selected suite in exactly one group, each group's
glob selecting exactly its suites, balanced by durations), the verdict on a
suite's debugfs KTAP, and which suite a crash on a group's console belongs
to (golden transcripts in ci/t/data/kunit/, made from real runs; `vkci
crash` classifies the console). Prints TAP. Standard library only."""
import json
import os
import random
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "harness", "t"))
from taplib import done, is_, ok  # noqa: E402

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(TOP, "ci"))
import kunit  # noqa: E402

os.environ.setdefault("VKCI", os.path.join(TOP, "harness", "vkci"))
DATA = os.path.join(TOP, "ci", "t", "data", "kunit")
tmp = tempfile.mkdtemp(prefix="vkci-kunit-t.")

# ---- glob_match is lib/glob.c's glob_match ---------------------------------------
# the default source (make test has it unpacked: its kernel is built from it)
r = subprocess.run([os.path.join(TOP, "ci", "kernel-source.sh")], capture_output=True, text=True)
src = r.stdout.strip() if r.returncode == 0 else ""
glob_c = os.path.join(src, "lib", "glob.c") if src else ""
if glob_c and os.path.isfile(glob_c):
    shim = os.path.join(tmp, "shim.c")
    os.makedirs(os.path.join(tmp, "linux"))
    for h in ("module.h", "glob.h"):
        open(os.path.join(tmp, "linux", h), "w").close()
    with open(shim, "w") as f:
        f.write('#include <stdbool.h>\n#include <stddef.h>\n#include <stdio.h>\n#include <string.h>\n'
                '#define __pure\n#define EXPORT_SYMBOL(x)\n#define MODULE_DESCRIPTION(x)\n'
                '#define MODULE_LICENSE(x)\n#define fallthrough __attribute__((fallthrough))\n'
                '#include "%s"\nint main(void) { char p[512], s[512];\n'
                ' while (fgets(p, sizeof p, stdin) && fgets(s, sizeof s, stdin)) {\n'
                '  p[strcspn(p, "\\n")] = 0; s[strcspn(s, "\\n")] = 0;\n'
                '  printf("%%d\\n", glob_match(p, s)); } return 0; }\n' % glob_c)
    oracle = os.path.join(tmp, "oracle")
    r = subprocess.run(["cc", "-O2", "-w", "-I", tmp, "-o", oracle, shim], capture_output=True, text=True)
    ok(r.returncode == 0, "lib/glob.c of the kernel source compiles as an oracle", r.stderr)
    rnd = random.Random(10)
    pairs = []
    for _ in range(30000):
        p = "".join(rnd.choice("ab-_.]![*?\\c") for _ in range(rnd.randint(0, 9)))
        s = "".join(rnd.choice("ab-_.]![c") for _ in range(rnd.randint(0, 8)))
        pairs.append((p, s))
    # the globs plan writes, on real-looking names
    names = ["kunit-try-catch-test", "kunit_status", "list-kunit-test", "memcpy", "mm-test", "m.x"]
    pairs += [(kunit.literal(n) + "*", m) for n in names for m in names]
    pairs += [("m" + kunit.char_class("e-_]") + "*", m) for m in names + ["m]x", "m-y"]]
    out = subprocess.run([oracle], input="".join("%s\n%s\n" % x for x in pairs),
                         capture_output=True, text=True).stdout.split() if r.returncode == 0 else []
    bad = [(p, s, o) for (p, s), o in zip(pairs, out) if kunit.glob_match(p, s) != (o == "1")]
    ok(len(out) == len(pairs) and not bad, "glob_match agrees with lib/glob.c on %d pattern/name pairs"
       % len(pairs), *bad[:10])
else:
    ok(True, "# SKIP no unpacked kernel source (ci/kernel-source.sh) to compile lib/glob.c from")
    ok(True, "# SKIP no unpacked kernel source")

# ---- groups ----------------------------------------------------------------------------
rnd = random.Random(7)
bad = []
for trial in range(300):
    names = sorted({"".join(rnd.choice("abkm_-e") for _ in range(rnd.randint(1, 6)))
                    for _ in range(rnd.randint(1, 40))})
    sel = [n for n in names if rnd.random() < 0.7] or names[:1]
    est = {n: rnd.choice([1, 5, 50, 300, 2750]) for n in names}
    key = {n: rnd.choice([None, None, "x*"]) for n in sel}
    for jobs in (1, 2, 4):
        g = kunit.choose_groups(sel, names, est, 150, jobs, key=lambda s: key[s])
        if sorted(s for _, ns in g for s in ns) != sorted(sel):
            bad.append(("cover", names, sel, g))
        for glob, ns in g:
            if sorted(kunit.matches(glob, names)) != sorted(ns):
                bad.append(("exact", glob, ns, kunit.matches(glob, names)))
            if len({key[s] for s in ns}) != 1:
                bad.append(("key", glob, ns))
    c = kunit.cover(sel, names)
    if sorted(s for _, ns in c for s in ns) != sorted(sel) or \
            any(sorted(kunit.matches(gl, names)) != sorted(ns) for gl, ns in c):
        bad.append(("rest", names, sel, c))
ok(not bad, "300 random name sets: the groups cover the selection exactly once, each glob selects "
   "exactly its suites, one test glob per group", *[repr(b) for b in bad[:5]])

names = ["memcpy", "memset", "mean_and_variance", "list-kunit-test", "kunit-try-catch-test",
         "kunit-resource-test", "bitfields", "bits", "cmdline", "ext4_inode_test", "string-stream-test",
         "time_test_cases"]
est = dict.fromkeys(names, 20)
est["memcpy"] = 2750
g1 = kunit.choose_groups(names, names, est, 150, 1)
is_(len(g1), 1, "one CPU: every suite in one instance (boots cost the most)")
g2 = kunit.choose_groups(names, names, est, 150, 2)
alone = [ns for _, ns in g2 if "memcpy" in ns]
is_(alone, [["memcpy"]], "two CPUs: the slowest suite alone")
ok(kunit.makespan(g2, est, 150, 2) <= 150 + 2750 + 1, "two CPUs: the run takes as long as the slowest "
   "suite's instance", g2)
is_((kunit.char_class(["-", "]", "a"]), kunit.char_class(["a", "."])), ("[]a-]", "?"), "a class puts ']' first, '-' last; a '.' makes the position '?'")
is_(kunit.literal("a*b?c[d].e\\"), "a\\*b\\?c\\[d\\]?e\\\\", "a literal escapes *?[]\\ and turns '.' into '?'")
rest = kunit.cover([n for n in names if n != "kunit-try-catch-test"], names)
is_(sorted(s for _, ns in rest for s in ns), sorted(n for n in names if n != "kunit-try-catch-test"),
    "after a crash: the rest of a group, without the crashed suite, as globs")

# ---- a suite's results (the debugfs format of lib/kunit/debugfs.c) --------------------
example = """KTAP version 1
1..1
    KTAP version 1
    # Subtest: example
    1..4
    ok 1 example_simple_test
        KTAP version 1
        # Subtest: example_params_test
        ok 1 example value 3 # SKIP unsupported param value 3
        ok 2 example value 2
    # example_params_test: pass:1 fail:0 skip:1 total:2
    ok 2 example_params_test
    # example_fail: EXPECTATION FAILED at lib/kunit/x.c:10
    Expected 1 + 1 == 3, but
        1 + 1 == 2 (0x2)
    not ok 3 example_fail
    ok 4 example_skip # SKIP skipped
# example: pass:2 fail:1 skip:1 total:4
# Totals: pass:3 fail:1 skip:2 total:6
not ok 1 example""".splitlines()
j = kunit.judge("example", example)
is_((j["plan"], j["run"], j["failed"], j["skipped"], j["complete"]), (4, 4, 1, 1, True),
    "judge: plan, cases, failed, skipped, complete")
is_([(s["id"], s["name"], s["outcome"]) for s in j["subtests"]],
    [("1", "example_simple_test", "pass"), ("2.1", "example value 3", "skip"), ("2.2", "example value 2", "pass"),
     ("2", "example_params_test", "pass"), ("3", "example_fail", "fail"), ("4", "example_skip", "skip")],
    "judge: cases as subtests, parameters nested under their case")
is_(j["first_failure"], "example_fail", "judge: the failing case named")
ok("1..4" not in j["lines"] and "not ok 3 example_fail" in j["lines"] and "ok 1 example_simple_test" in j["lines"]
   and "    ok 1 example value 3 # SKIP unsupported param value 3" in j["lines"],
   "judge: cases at the top level for prove, parameters indented, plan held back", j["lines"])
j = kunit.judge("example", example[:-1])
ok(not j["complete"] and j["problems"], "judge: results without the suite's own line are a problem", j["problems"])
short = [l for l in example if "ok 4 example_skip" not in l]
ok(any("planned 4" in p for p in kunit.judge("example", short)["problems"]), "judge: a case missing from the plan")
init_fail = ["KTAP version 1", "1..1", "    KTAP version 1", "    # Subtest: s", "    1..2",
             "    # failed to initialize (-12)", "not ok 1 s"]
ok(kunit.judge("s", init_fail)["problems"], "judge: a suite that fails to initialise (no case lines) fails")
skipped = ["KTAP version 1", "1..1", "    KTAP version 1", "    # Subtest: s", "    1..1",
           "    ok 1 c # SKIP not on UML", "ok 1 s # SKIP not on UML"]
js = kunit.judge("s", skipped)
is_((js["skip_all"], js["failed"], js["problems"]), ("not on UML", 0, []), "judge: a skipped suite")

# ---- the orchestration, on a kernel played by ci/t/fake-kunit-vkci -------------------
real_vkci = os.environ["VKCI"]
scen = {"suites": [
    {"name": "alpha", "cases": ["a1", "a2"]},
    {"name": "beta", "cases": ["b1", "b2", "b3"], "fail": ["b2"]},
    {"name": "gamma", "cases": ["g1", "g2"], "warn": "g1"},
    {"name": "kilo", "cases": ["k1", "k2", "k3"], "panic": "k2"},
    {"name": "mike", "cases": ["m1"]},
    {"name": "memcpy", "cases": ["x1", "x2"], "ms": 30},
    {"name": "zulu", "cases": ["z1"]}]}
fake_env = dict(os.environ, VKCI=os.path.join(TOP, "ci", "t", "fake-kunit-vkci"), REAL_VKCI=real_vkci,
                FAKE_KUNIT=os.path.join(tmp, "scen.json"), FAKE_KUNIT_LOG=os.path.join(tmp, "calls"))
with open(fake_env["FAKE_KUNIT"], "w") as f:
    json.dump(scen, f)
for k in ("VKCI_QUARANTINE", "VKCI_RUNDIR", "VKCI_GCOV_DIR"):
    fake_env.pop(k, None)


def kpy(args, **env):
    return subprocess.run([sys.executable, os.path.join(TOP, "ci", "kunit.py")] + args,
                          env=dict(fake_env, **env), capture_output=True, text=True)


def members(out, tests):
    """Run every member as `vkci exec kunit/SUITE` would: {suite: (status, stdout)}."""
    res = {}
    for t in tests:
        r = kpy([], VKCI_TEST=t, VKCI_KUNIT_PLAN=os.path.join(out, "kunit.plan"),
                VKCI_LOG_DIR=os.path.join(out, "logs"))
        res[t[6:]] = (r.returncode, r.stdout, r.stderr)
    return res


out1 = os.path.join(tmp, "one")
os.makedirs(out1)
r = kpy(["plan", "--kernel", real_vkci, "--image", real_vkci, "--payload", real_vkci, "--out", out1, "--jobs", "1"])
tests = r.stdout.split()
ok((r.returncode, len(tests)) == (0, 7), "plan: the fake kernel's 7 suites listed and planned", r.stderr)
plan = json.load(open(os.path.join(out1, "kunit.plan")))
is_([g["glob"] for g in plan["groups"].values()], ["*"], "plan, one CPU: one group, kunit.filter_glob=*")
open(fake_env["FAKE_KUNIT_LOG"], "w").close()
res = members(out1, tests)


def result(out, s):
    with open(os.path.join(out, "logs", "kunit", s, "result.json")) as f:
        return json.load(f)


ok({s: v[0] for s, v in res.items()} ==
   {"alpha": 0, "beta": 1, "gamma": 1, "kilo": 1, "mike": 0, "memcpy": 0, "zulu": 0},
   "members: the failure, the warning and the panic fail their suites; every other suite passes",
    *["%s: %s" % (s, v[1] + v[2]) for s, v in res.items()])
rb, rg, rk = result(out1, "beta"), result(out1, "gamma"), result(out1, "kilo")
is_((rb["outcome"], rb["reason"], [x["outcome"] for x in rb["subtests"]]),
    ("fail", "case failed: b2", ["pass", "fail", "pass"]), "beta: failed on case b2, cases as subtests")
is_((rg["outcome"], rg["crash_kind"], rg["crash_title"]), ("crash", "kernel warning", "WARNING in fake_warns"),
    "gamma: the WARNING printed while it ran is its crash")
is_((rk["outcome"], rk["crash_kind"], rk["crash_title"], rk["subtests"]),
    ("crash", "kernel panic", "kernel panic: fake planted panic in fake_panics", [{"id": "2", "name": "k2", "outcome": "fail"}]),
    "kilo: the panic is its crash, in case k2 (the console's last case line + 1, named from the listing)")
ok("Kernel panic - not syncing: fake planted panic" in res["kilo"][1] and "not ok 1 - kernel panic: fake planted panic in fake_panics, "
   "in case k2" in res["kilo"][1], "kilo: its TAP says so, with the console excerpt", res["kilo"][1])
is_(sorted(s for s in res if result(out1, s)["kunit"]["ran_again"]), ["alpha", "beta", "gamma", "memcpy", "mike", "zulu"],
    "after the panic, the suites that had finished and those never started ran again")
calls = [l for l in open(fake_env["FAKE_KUNIT_LOG"]).read().splitlines() if "filter_glob" in l]
ok(len(calls) >= 2 and "kunit.filter_glob=*" in calls[0] and not any("kunit.filter_glob=kilo" in c or
   "filter_glob=k*" in c for c in calls[1:]), "the rerun's globs do not select the suite that crashed", *calls)
ok(res["alpha"][1].splitlines()[-1] == "1..2" and "ok 1 a1" in res["alpha"][1],
   "alpha: its cases as TAP tests, the plan last", res["alpha"][1])
ok(os.path.exists(os.path.join(out1, "logs", "kunit", "alpha", "console.log")),
   "the instance's console log beside each suite's result.json")
state = json.load(open(os.path.join(out1, "kunit-state.json")))
ok(state["suites"].get("memcpy") == 30.0 and len(state["suites"]) == 6, "durations recorded (kernel log times)", state)

# the members after the group's run print what it published, through the real
# driver and without Python (harness/kunit.c): the same TAP, status and
# result.json as the long way (out1's, above); the known-flaky list applied;
# `vkci exec --quarantined` and a member published for another log dir go
# the long way
def norm(text):
    return "\n".join(l for l in text.splitlines() if not l.startswith(("# kunit: ran with", "# console log",
                                                                        "# serial log", "# instance kept")))


def drv(out, suite, *args, **env):
    e = dict(fake_env, VKCI_KUNIT=os.path.join(TOP, "ci", "kunit.py"), VKCI_KUNIT_PLAN=os.path.join(out, "kunit.plan"),
             VKCI_LOG_DIR=os.path.join(out, "logs"), VKCI_PYTHON="/nonexistent/python3", **env)
    return subprocess.run([real_vkci, "exec"] + list(args) + ["kunit/" + suite], env=e, capture_output=True, text=True)


out4 = os.path.join(tmp, "four")
os.makedirs(out4)
qlist = os.path.join(tmp, "flaky.txt")
with open(qlist, "w") as f:
    f.write("kunit/beta  # known flaky\n")
r = kpy(["plan", "--kernel", real_vkci, "--image", real_vkci, "--payload", real_vkci, "--out", out4, "--jobs", "1"])
first = r.stdout.split()[0][6:]
r = kpy([], VKCI_TEST="kunit/" + first, VKCI_KUNIT_PLAN=os.path.join(out4, "kunit.plan"),
        VKCI_LOG_DIR=os.path.join(out4, "logs"), VKCI_QUARANTINE=qlist)
ready = os.path.join(out4, "kunit.plan.ready")
others = sorted(s for s in res if s != first)
ok(sorted(n for n in os.listdir(ready) if n.endswith(".tap")) == [s + ".tap" for s in others],
   "the member that ran the group published the other %d members' output" % len(others), os.listdir(ready))
fast = {s: drv(out4, s) for s in others if s not in ("beta", "mike")}
is_({s: (r.returncode, norm(r.stdout)) for s, r in fast.items()},
    {s: (res[s][0], norm(res[s][1])) for s in fast},
    "vkci exec kunit/SUITE prints the published TAP with its status, without Python (VKCI_PYTHON is bogus)")
vary = ("console_log", "serial_log", "instance_dir_kept", "start_unix_ms", "duration_ms", "kunit")
same = all({k: v for k, v in result(out4, s).items() if k not in vary} ==
           {k: v for k, v in result(out1, s).items() if k not in vary} for s in fast)
ok(same and all(os.path.isfile(result(out4, s)["console_log"]) and
                result(out4, s)["console_log"].startswith(os.path.join(out4, "logs", "kunit", s) + "/") for s in fast),
   "its result.json as the long way's, its logs moved beside it under VKCI_LOG_DIR")
rb = drv(out4, "beta")
ok(rb.returncode == 0 and "# TODO quarantined: known flaky (%s)" % qlist in rb.stdout and result(out4, "beta")["quarantined"],
   "the known-flaky list (VKCI_QUARANTINE) applied to a published member", rb.stdout, rb.stderr)
rm = drv(out4, "mike", "--quarantined")
ok(rm.returncode == 3 and "cannot run '/nonexistent/python3" in rm.stderr and os.path.exists(os.path.join(ready, "mike.tap")),
   "vkci exec --quarantined: not from the published output (the long way, through VKCI_PYTHON)", rm.stderr)
with open(os.path.join(ready, "mike.tap")) as f:
    mt = f.read()
with open(os.path.join(ready, "mike.tap"), "w") as f:
    f.write(mt.replace("\nlogs ", "\nlogs /elsewhere", 1))
rm = drv(out4, "mike")
ok(rm.returncode == 3 and "cannot run '/nonexistent/python3" in rm.stderr, "published for another log dir: the long way")
with open(os.path.join(ready, "mike.tap"), "w") as f:
    f.write("status x\n" + mt.split("\n", 1)[1])
rm = drv(out4, "mike")
ok(rm.returncode == 3 and "cannot run '/nonexistent/python3" in rm.stderr, "a garbled published file: the long way")
rm = subprocess.run([real_vkci, "exec", "kunit/mike"], capture_output=True, text=True,
                    env=dict(fake_env, VKCI_KUNIT=os.path.join(TOP, "ci", "kunit.py"),
                             VKCI_KUNIT_PLAN=os.path.join(out4, "kunit.plan")))
ok(rm.returncode == 0 and norm(rm.stdout) == norm(res["mike"][1]) and ready and os.listdir(ready) == [],
   "the long way (Python) for the last member; nothing left published", rm.stderr, os.listdir(ready))

# the runner: VKCI_KUNIT, else ci/kunit.py near the driver's own path
bare = {k: v for k, v in fake_env.items() if k not in ("VKCI_KUNIT", "VKCI_KUNIT_PLAN", "VKCI_PYTHON")}
r = subprocess.run([real_vkci, "exec", "kunit/alpha"], env=bare, capture_output=True, text=True)
ok(r.returncode == 2 and "VKCI_KUNIT_PLAN is not set" in r.stderr,
   "without VKCI_KUNIT the driver runs the ci/kunit.py of its checkout (which wants a plan)", r.stderr)
lone = os.path.join(tmp, "lone", "bin", "vkci")
os.makedirs(os.path.dirname(lone))
subprocess.run(["cp", real_vkci, lone], check=True)
r = subprocess.run([lone, "exec", "kunit/alpha"], env=bare, capture_output=True, text=True)
ok(r.returncode == 2 and "cannot find ci/kunit.py near '%s'" % lone in r.stderr and "set VKCI_KUNIT" in r.stderr,
   "a vkci outside a checkout: says it cannot find ci/kunit.py and what to set", r.stderr)
r = subprocess.run([lone, "exec", "kunit/alpha"], env=dict(bare, VKCI_KUNIT="/tmp/kunit.txt"), capture_output=True, text=True)
ok(r.returncode == 2 and "VKCI_KUNIT='/tmp/kunit.txt' is not a Python program" in r.stderr,
   "VKCI_KUNIT not a .py: a usage error naming it", r.stderr)

# a second plan balances the recorded durations: the slowest alone
out2 = os.path.join(tmp, "two")
os.makedirs(out2)
with open(os.path.join(out2, "kunit-state.json"), "w") as f:
    json.dump({"suites": {"memcpy": 2750, "alpha": 5, "beta": 5, "gamma": 5, "kilo": 5, "mike": 5, "zulu": 5},
               "boot_ms": 150}, f)
r = kpy(["plan", "--kernel", real_vkci, "--image", real_vkci, "--payload", real_vkci, "--out", out2, "--jobs", "2"])
plan2 = json.load(open(os.path.join(out2, "kunit.plan")))
is_(sorted(g["suites"] for g in plan2["groups"].values())[1:] if False else
    [g["suites"] for g in plan2["groups"].values() if "memcpy" in g["suites"]], [["memcpy"]],
    "plan, two CPUs, recorded durations: the slowest suite alone")
# most suites time as 0 ms (the kernel's clock ticks at 10 ms), yet each costs
# its group a member after the instance: the slowest still goes alone
out0 = os.path.join(tmp, "zero")
os.makedirs(out0)
with open(os.path.join(out0, "kunit-state.json"), "w") as f:
    json.dump({"suites": {"memcpy": 2750, "alpha": 0, "beta": 0, "gamma": 0, "kilo": 0, "mike": 0, "zulu": 0},
               "boot_ms": 150}, f)
kpy(["plan", "--kernel", real_vkci, "--image", real_vkci, "--payload", real_vkci, "--out", out0, "--jobs", "2"])
plan0 = json.load(open(os.path.join(out0, "kunit.plan")))
is_([g["suites"] for g in plan0["groups"].values() if "memcpy" in g["suites"]], [["memcpy"]],
    "plan, suites recorded at 0 ms: still the slowest suite alone (each suite costs at least %d ms)"
    % kunit.MEMBER_MS)
nices = {tuple(g["suites"]): kunit.nice_for(plan2, gid) for gid, g in plan2["groups"].items()}
ok(nices[("memcpy",)] == 0 and all(n == kunit.NICE_OFF_PATH for k, n in nices.items() if k != ("memcpy",))
   and len(nices) >= 2, "the longest group's instances run at the usual priority, the others niced", nices)
is_(kunit.nice_for(plan, "g1"), 0, "one group: nothing niced")
sched = subprocess.run([sys.executable, os.path.join(TOP, "ci", "schedule.py"), "--kunit-plan",
                        os.path.join(out2, "kunit.plan")] + r.stdout.split(), capture_output=True, text=True).stdout.split()
leaders = ["kunit/" + g["suites"][0] for g in plan2["groups"].values()]
is_(sorted(sched[:len(leaders)]), sorted(leaders), "schedule: every group's first member before any other member")
sh1 = subprocess.run([sys.executable, os.path.join(TOP, "ci", "schedule.py"), "--kunit-plan",
                      os.path.join(out2, "kunit.plan"), "--shard", "1/2"] + r.stdout.split(),
                     capture_output=True, text=True).stdout.split()
whole = all(all(("kunit/" + s in sh1) == ("kunit/" + g["suites"][0] in sh1) for s in g["suites"])
            for g in plan2["groups"].values())
ok(whole and sh1, "shards take whole groups", sh1)
r = kpy(["plan", "--kernel", real_vkci, "--image", real_vkci, "--payload", real_vkci, "--out", out2,
         "--select", "kunit:betta"])
ok(r.returncode == 2 and "no KUnit suite matches 'betta' (closest: beta" in r.stderr, "a glob matching nothing: "
   "exit 2, the closest suites", r.stderr)
r = kpy(["plan", "--kernel", real_vkci, "--image", real_vkci, "--payload", real_vkci, "--out", out2,
         "--select", "kunit:m*.x2"])
plan3 = json.load(open(os.path.join(out2, "kunit.plan")))
is_(sorted((g["glob"], g["test_glob"]) for g in plan3["groups"].values()), [("me*", "x2")],
    "kunit:SUITE_GLOB.CASE_GLOB: only suites with a matching case, the case glob kept")
res3 = members(out2, r.stdout.split())
r3 = result(out2, "memcpy")
is_((res3["memcpy"][0], [(x["id"], x["name"]) for x in r3["subtests"]], r3["kunit"]["filter_glob"]),
    (0, [("1", "x2")], "me*.x2"), "kunit:m*.x2 runs only case x2 of memcpy (kunit.filter_glob=me*.x2)")


# ---- a slow suite cut into parts by its cases ----------------------------------------
def tap_ok(text):
    """TAP::Parser's view in brief: results numbered 1..n in order, the plan n."""
    nums = [int(l.split()[1 if l.startswith("ok") else 2]) for l in text.splitlines()
            if l.startswith(("ok ", "not ok "))]
    plans = [l for l in text.splitlines() if l.startswith("1..")]
    return nums == list(range(1, len(nums) + 1)) and plans == ["1..%d" % len(nums)]


mc = ["memset_test", "memcpy_test", "memcpy_large_test", "memmove_test", "memmove_large_test",
      "memmove_overlap_test"]
cms = dict(zip(mc, [5, 5, 700, 700, 800, 790]))
scen_s = {"suites": [{"name": "alpha", "cases": ["a1", "a2"], "ms": 10},
                     {"name": "beta", "cases": ["b1"], "ms": 10},
                     {"name": "memcpy", "cases": mc, "case_ms": cms}]}


def split_run(name, **change):
    """A plan on two CPUs from recorded suite and case durations, and every
    member run: (plan, tests, {suite: (status, stdout, stderr)}, out dir)."""
    sc = json.loads(json.dumps(scen_s))
    sc["suites"][2].update(change)
    out = os.path.join(tmp, name)
    os.makedirs(out)
    sfile = os.path.join(out, "scen.json")
    with open(sfile, "w") as f:
        json.dump(sc, f)
    with open(os.path.join(out, "kunit-state.json"), "w") as f:
        json.dump({"suites": {"memcpy": sum(cms.values()), "alpha": 10, "beta": 10}, "boot_ms": 150,
                   "cases": {"memcpy." + c: ms for c, ms in cms.items()}}, f)
    r = kpy(["plan", "--kernel", real_vkci, "--image", real_vkci, "--payload", real_vkci, "--out", out,
             "--jobs", "2"], FAKE_KUNIT=sfile)
    p = json.load(open(os.path.join(out, "kunit.plan")))
    open(fake_env["FAKE_KUNIT_LOG"], "w").close()
    res = {}
    for t in r.stdout.split():
        m = kpy([], FAKE_KUNIT=sfile, VKCI_TEST=t, VKCI_KUNIT_PLAN=os.path.join(out, "kunit.plan"),
                VKCI_LOG_DIR=os.path.join(out, "logs"))
        res[t[6:]] = (m.returncode, m.stdout, m.stderr)
    return p, r.stdout.split(), res, out


sp, stests, sres, sout = split_run("split")
parts = [g for g in sp["groups"].values() if g.get("part_of") == "memcpy"]
sel = sorted(c for g in parts for c in mc if kunit.glob_match(g["test_glob"], c))
ok(len(parts) >= 2 and sel == sorted(mc) and all(g["glob"] == "memcpy" for g in parts),
   "plan, two CPUs, recorded case durations: memcpy cut into parts whose case globs select each "
   "case exactly once", [(g["glob"], g["test_glob"]) for g in parts])
is_((stests.count("kunit/memcpy"), len(sp["suites"]["memcpy"]["parts"])), (1, len(parts)),
    "still one test, kunit/memcpy, that owns its parts")
calls = open(fake_env["FAKE_KUNIT_LOG"]).read().splitlines()
starts = [i for i, l in enumerate(calls) if "filter_glob=memcpy." in l]
ends = [i for i, l in enumerate(calls) if l.startswith("end memcpy.")]
ok(len(starts) == len(parts) and ends and max(starts) < min(ends),
   "its member boots every part before any has finished (at once)", calls)
st_m, out_m, _ = sres["memcpy"]
rm = result(sout, "memcpy")
ok(st_m == 0 and tap_ok(out_m) and [x["name"] for x in rm["subtests"]] == mc and
   [x["id"] for x in rm["subtests"]] == [str(i) for i in range(1, 7)],
   "the suite passes with its 6 cases numbered 1..6 in the kernel's order, whichever part ran them",
   out_m, rm["subtests"])
ok(rm["outcome"] == "pass" and len(rm["kunit"]["parts"]) == len(parts) and
   "ran in %d parts at once" % len(parts) in out_m, "result.json and TAP name the parts", rm["kunit"])
state = json.load(open(os.path.join(sout, "kunit-state.json")))
ok(state["cases"].get("memcpy.memmove_large_test") == 800.0 and state["suites"]["memcpy"] == 3000.0,
   "the cases' durations recorded, and the whole suite's (the parts' sum)", state)
ok(sres["alpha"][0] == 0 and sres["beta"][0] == 0, "the other suites still run in their groups")
nices = {gid: kunit.nice_for(sp, gid) for gid in sp["groups"]}
ok(all(nices[gid] == 0 for gid in sp["suites"]["memcpy"]["parts"]),
   "every part of the longest suite runs at the usual priority", nices)
sched = subprocess.run([sys.executable, os.path.join(TOP, "ci", "schedule.py"), "--kunit-plan",
                        os.path.join(sout, "kunit.plan")] + stests, capture_output=True, text=True).stdout.split()
is_(sched[:1], ["kunit/memcpy"], "schedule: the cut suite first")

sp, stests, sres, sout = split_run("split-fail", fail=["memmove_test"])
rm = result(sout, "memcpy")
ok(sres["memcpy"][0] == 1 and tap_ok(sres["memcpy"][1]) and "not ok 4 memmove_test" in sres["memcpy"][1]
   and rm["reason"] == "case failed: memmove_test"
   and [x["outcome"] for x in rm["subtests"]] == ["pass"] * 3 + ["fail"] + ["pass"] * 2,
   "a case failing in one part: the suite fails on that case, the others pass", sres["memcpy"][1])

sp, stests, sres, sout = split_run("split-panic", panic="memmove_large_test")
rm = result(sout, "memcpy")
ok(sres["memcpy"][0] == 1 and tap_ok(sres["memcpy"][1]) and rm["outcome"] == "crash"
   and "fake planted panic" in (rm["crash_title"] or "") and "memmove_large_test" in rm["reason"]
   and ("memmove_large_test", "fail") in [(x["name"], x["outcome"]) for x in rm["subtests"]]
   and sum(x["outcome"] == "pass" for x in rm["subtests"]) >= 3,
   "a panic in one part: a crash in that case, the other part's cases still reported",
   sres["memcpy"][1], rm["subtests"])

# the guest's case times are untrusted: names checked, the count capped
junk = "\n".join(["# kunit-case-time s c%d 5" % i for i in range(kunit.MAX_CASE_TIMES + 100)] +
                 ["# kunit-case-time s ../x 5", "# kunit-case-time s y 5x", "# kunit-case-time " + "a" * 300 + " y 5",
                  "# kunit-case-time s y 7 extra", "# kunit-case-time s c0 9"] +
                 ["# kunit-time t%d 3" % i for i in range(50)] +
                 ["# kunit-time ../x 5", "# kunit-time " + "b" * 300 + " 5", "# kunit-time u 5x"])
_r, jt, _n = kunit.parse_collect(junk)
cases_t = [k for k in jt if isinstance(k, tuple)]
suites_t = [k for k in jt if not isinstance(k, tuple)]
ok(len(cases_t) == kunit.MAX_CASE_TIMES and jt[("s", "c0")] == 9 and not any(k[1] in ("../x", "y") for k in cases_t)
   and sorted(suites_t) == sorted("t%d" % i for i in range(50)),
   "parse_collect: case times capped at %d (suite times apart), odd names and numbers dropped"
   % kunit.MAX_CASE_TIMES, len(cases_t), [k for k in suites_t if not k.startswith("t")])

# ... and so are its suites' result lines: names checked, suites capped, lines per suite capped
junk = "\n".join(["# kunit s%d ok 1 c" % i for i in range(kunit.MAX_SUITES + 50)] +
                  ["# kunit ../x ok 1 c", "# kunit " + "a" * 300 + " ok 1 c", "# kunit s0 ok 2 d"] +
                  ["# kunit s1 x"] * (kunit.MAX_LINES + 5))
jr, _t, _n = kunit.parse_collect(junk)
ok(len(jr) == kunit.MAX_SUITES and "../x" not in jr and not any(len(k) > 256 for k in jr)
   and jr["s0"] == ["ok 1 c", "ok 2 d"] and len(jr["s1"]) == kunit.MAX_LINES,
   "parse_collect: suites capped at %d, odd names dropped, a kept suite's lines still kept and capped"
   % kunit.MAX_SUITES, len(jr), [k for k in jr if not k.startswith("s")][:3])

# no split without case durations, on one CPU, or for a suite selected with a case glob
est_s = {"memcpy": 3000, "alpha": 10, "beta": 10}
lst = {"alpha": ["a1", "a2"], "beta": ["b1"], "memcpy": mc}
cest = {"memcpy." + c: ms for c, ms in cms.items()}
is_([kunit.choose_splits(list(lst), list(lst), est_s, 150, j, lambda s: k, lst, ce)[1] for j, k, ce in
     ((2, None, {}), (1, None, cest), (2, "memmove*", cest))], [{}, {}, {}],
    "no parts without case durations, on one CPU, or under a case glob")


# ---- the KUnit variant through make (make -n: nothing built) ---------------------------
def make_n(*args):
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    return subprocess.run(["make", "-s", "-n"] + list(args), cwd=TOP, capture_output=True, text=True,
                          env=env).stdout


n = make_n("check", "SUITES=vm kunit:list*")
ok("--variant kunit " in n and "ci/kunit.py fragments --backend uml" in n and "$kf" in n,
   "SUITES with kunit: vkci build --variant kunit with the fragments ci/kunit.py names", n[-600:])
n = make_n("check", "TESTS=kunit/example")
ok("--variant kunit " in n, "TESTS=kunit/SUITE: the KUnit variant too")
n = make_n("check", "SUITES=kunit", "VARIANT=debug")
ok("--variant debug-kunit " in n and "harness/debug.config" in n,
   "VARIANT=debug with KUnit suites: its own variant, debug-kunit, with the debug fragment")
n = make_n("check", "SUITES=vm fs")
ok("--variant" not in n and "ci/kunit.py fragments" not in n.split("kf=")[0] and 'test -n ""' in n,
   "no KUnit suites: no variant, no KUnit fragments")
if src and os.path.isdir(src):
    r = subprocess.run([sys.executable, os.path.join(TOP, "ci", "kunit.py"), "fragments", src],
                       capture_output=True, text=True)
    is_(r.stdout.split(), ["-c", os.path.join(src, "tools/testing/kunit/configs/default.config"),
                           "-c", os.path.join(src, "tools/testing/kunit/configs/arch_uml.config"),
                           "-c", os.path.join(TOP, "suites/kunit/kunit.config")],
        "fragments: the tree's default kunitconfig, arch_uml.config, suites/kunit/kunit.config")
    r = subprocess.run([sys.executable, os.path.join(TOP, "ci", "kunit.py"), "fragments", "--backend", "qemu",
                        src], capture_output=True, text=True)
    is_((r.returncode, r.stderr.count("\n")), (2, 1), "fragments --backend qemu: exit 2, one line")
    ok("uml backend only" in r.stderr, "and says KUnit runs on the uml backend", r.stderr)
    r = subprocess.run([sys.executable, os.path.join(TOP, "ci", "kunit.py"), "fragments", "--kunitconfig",
                        "/nonexistent.kunitconfig", src], capture_output=True, text=True)
    ok(r.returncode == 2 and "KUNITCONFIG=" in r.stderr, "fragments: a missing KUNITCONFIG= is named", r.stderr)


# ---- golden transcripts: a group's instance, its console, its verdicts ----------------
cases = sorted(d for d in os.listdir(DATA) if os.path.isdir(os.path.join(DATA, d))) if os.path.isdir(DATA) else []
for case in cases:
    d = os.path.join(DATA, case)
    suites = open(os.path.join(d, "suites")).read().split()
    r = subprocess.run([sys.executable, os.path.join(TOP, "ci", "kunit.py"), "replay",
                        "--stdout", os.path.join(d, "stdout"), "--console", os.path.join(d, "console.log"),
                        "--result", os.path.join(d, "result.json"), "--listing", os.path.join(d, "listing")]
                       + suites, capture_output=True, text=True)
    want = open(os.path.join(d, "expected")).read()
    is_(r.stdout, want, "golden %s: per-suite verdicts from one instance's transcript" % case)
ok(len(cases) >= 2, "golden transcripts present (%d)" % len(cases))

done()
