#!/bin/sh
# KUnit through vkci, for real, on the planted-faults kernel: a test tree
# (harness/t/kunit/planted-tree.sh: the default source plus
# harness/t/kunit/vkci-planted-*.c, linked between KUnit's own suites) built
# with KUnit, its own test suites and the example suite (planted.config).
#  - the suites are discovered from the kernel (kunit.action=list);
#  - every suite in ONE instance: the planted failure is reported against
#    vkci_planted_fail and its case, the planted WARNING against
#    vkci_planted_warn, the planted panic against vkci_planted_panic and its
#    case; the panic's instance loses every result, so the other suites run
#    again in fresh instances and pass;
#  - make check SUITES=kunit on that kernel: one prove test per suite,
#    kunit/SUITE, in summary.json, junit.xml and the TAP archive, cases as
#    subtests, the counts harness/t/kunit/planted-expected.txt lists;
#  - names that do not exist: one line naming the closest suites, exit 2;
#  - a test that is not KUnit boots with kunit.enable=0 on a KUnit kernel.
. "$(dirname "$0")/lib.sh"
cd "$top" || exit 1
unset MAKEFLAGS MAKELEVEL MFLAGS
kernel=${VKCI_KUNIT_KERNEL:-}
image=${VKCI_IMAGE:-$B/image/base.img}
payload=$top/build/kunit/payload.img
if [ -z "$kernel" ] || [ ! -x "$kernel" ] || [ ! -f "$image" ]; then
	skip_all "no planted-faults KUnit kernel (make check-full builds it: VKCI_KUNIT_KERNEL)"
fi
[ -f "$payload" ] || make -s kunit-payload >/dev/null 2>&1
export VKCI_RUNDIR=$scratch/run VKCI
json() { python3 -c "import json,sys; sys.path.insert(0, 'ci'); d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@" 2>&1; }

# ---- discovery ----------------------------------------------------------------------
list=$(python3 ci/kunit.py list --kernel "$kernel" --image "$image" --payload "$payload" 2>&1); rc=$?
is "$rc" 0 "list: the kernel lists its suites (kunit.action=list, read from /dev/kmsg by the collector)"
like "$list" "^vkci_planted_fail.vkci_planted_fails$" "list: the planted suite and its cases"
like "$list" "^kunit-try-catch-test$" "list: KUnit's own suites"
nsuites=$(printf '%s\n' "$list" | grep -vc '\.')
ok "$([ "$nsuites" -ge 10 ]; echo $?)" "list: $nsuites suites (at least 10)"

# ---- every suite in one instance -------------------------------------------------------
one=$scratch/one
mkdir -p "$one"
tests=$(python3 ci/kunit.py plan --kernel "$kernel" --image "$image" --payload "$payload" --out "$one" --jobs 1)
is "$(json "$one/kunit.plan" 'len(d["groups"])')" 1 "one instance: the plan has one group (--jobs 1)"
is "$(json "$one/kunit.plan" 'list(d["groups"].values())[0]["glob"]')" "*" "one instance: kunit.filter_glob=*"
for t in $tests; do
	VKCI_KERNEL=$kernel VKCI_IMAGE=$image VKCI_KUNIT=$top/ci/kunit.py VKCI_KUNIT_PLAN=$one/kunit.plan \
		VKCI_LOG_DIR=$one/logs "$VKCI" exec "$t" >"$one/$(basename "$t").tap" 2>"$one/$(basename "$t").err"
	echo "$t $?" >>"$one/status"
done
st() { awk -v t="kunit/$1" '$1 == t {print $2}' "$one/status"; }
res() { json "$one/logs/kunit/$1/result.json" "$2"; }
is "$(st vkci_planted_fail)" 1 "planted failure: the suite fails (exit 1)"
is "$(res vkci_planted_fail '[(s["name"], s["outcome"]) for s in d["subtests"]]')" \
	"[('vkci_planted_passes', 'pass'), ('vkci_planted_fails', 'fail'), ('vkci_planted_skips', 'skip')]" \
	"planted failure: its cases as subtests: pass, fail, skip"
like "$(cat "$one/vkci_planted_fail.tap")" "^not ok 2 vkci_planted_fails" "planted failure: the failing case is a 'not ok' line"
like "$(cat "$one/vkci_planted_fail.tap")" "vkci planted failure" "planted failure: with KUnit's message"
is "$(res vkci_planted_fail 'd["reason"]')" "case failed: vkci_planted_fails" "planted failure: reason names the case"
is "$(st vkci_planted_warn)" 1 "planted warning: the suite fails (exit 1)"
is "$(res vkci_planted_warn '(d["outcome"], d["crash_kind"])')" "('crash', 'kernel warning')" \
	"planted warning: a crash of kind 'kernel warning', in this suite"
is "$(res vkci_planted_warn 'd["crash_title"]')" "WARNING in vkci_planted_warns" \
	"planted warning: its crash title names the function (console.c's title)"
is "$(st vkci_planted_panic)" 1 "planted panic: the suite fails (exit 1)"
is "$(res vkci_planted_panic '(d["outcome"], d["crash_kind"])')" "('crash', 'kernel panic')" \
	"planted panic: a crash of kind 'kernel panic', in this suite"
is "$(res vkci_planted_panic '[(s["name"], s["outcome"]) for s in d["subtests"]]')" \
	"[('vkci_planted_panics', 'fail')]" "planted panic: against the case that panicked"
is "$(res vkci_planted_panic 'd["crash_title"]')" \
	"kernel panic: vkci planted panic in a KUnit case in vkci_planted_panic.vkci_planted_panics" \
	"planted panic: its crash title names suite and case (the trace shows only KUnit's frames)"
is "$(res vkci_planted_panic 'd["crash_fingerprint"] == __import__("kunit").title_fingerprint(d["crash_title"])')" True \
	"planted panic: its fingerprint is its title's (console.c's FNV-1a)"
like "$(cat "$one/vkci_planted_panic.tap")" "Kernel panic - not syncing: vkci planted panic" \
	"planted panic: the console excerpt in its TAP"
others=$(awk '$1 !~ /vkci_planted/ && $2 != 0 {print $1 "(" $2 ")"}' "$one/status" | tr '\n' ' ')
is "$others" "" "every other suite passes"
is "$(awk '$1 !~ /vkci_planted/' "$one/status" | wc -l)" "$((nsuites - 3))" "every other suite ran"
again=$(python3 -c '
import json, os, sys
d = sys.argv[1]
print(sum(1 for s in os.listdir(d) if (json.load(open(os.path.join(d, s, "result.json")))["kunit"] or {}).get("ran_again")))' \
	"$one/logs/kunit")
ok "$([ "$again" -ge 2 ]; echo $?)" "after the panic, $again suites ran again in fresh instances"
ok "$([ -d "$one/kunit/g1/run2" ]; echo $?)" "more than one instance for the group (the first one died)"
is "$(json "$one/kunit-state.json" 'len(d["suites"]) == '$((nsuites - 2))' and d["boot_ms"] > 0')" True \
	"every suite that ran to its end was timed (kernel log), and the boot, for the next plan"

# ---- make check SUITES=kunit: reports per suite ----------------------------------------
out=$scratch/check
make -s check KERNEL="$kernel" SUITES=kunit OUT="$out" JOBS="${JOBS:-2}" >"$scratch/check.log" 2>&1
is "$?" 2 "make check SUITES=kunit: prove reports the planted failures (exit 2 from make)"
n=$(json "$out/summary.json" 'len(d["suites"]["kunit"]["tests"])')
is "$n" "$nsuites" "summary.json: every suite as kunit/SUITE"
is "$(json "$out/summary.json" 'd["suites"]["kunit"]["tests"]["vkci_planted_fail"]["subtests"][1]["outcome"]')" fail \
	"summary.json: the cases as subtests"
is "$(json "$out/summary.json" '(d["suites"]["kunit"]["summary"]["crash"], d["suites"]["kunit"]["summary"]["fail"])')" \
	"(2, 1)" "summary.json: two crashes and one failure"
ok "$([ -f "$out/tap/kunit/vkci_planted_fail" ]; echo $?)" "TAP archive: one file per suite"
junit=$(python3 - "$out/junit.xml" <<'EOF'
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
for ts in r.iter("testsuite"):
    if "vkci_planted_fail" in ts.get("name", ""):
        print(" ".join("%s:%s" % (tc.get("name"), "fail" if tc.find("failure") is not None else "ok")
                       for tc in ts.iter("testcase")))
EOF
)
like "$junit" "vkci_planted_fails:fail" "junit.xml: the suite is a testsuite, its failing case a failed testcase"
cmp=$(python3 ci/kunit.py check --expected harness/t/kunit/planted-expected.txt "$out" 2>&1); rc=$?
is "$rc" 0 "make check: per-suite case counts as harness/t/kunit/planted-expected.txt lists"
[ "$rc" = 0 ] || { printf '%s\n' "$cmp" | sed 's/^/#   /'; tail -30 "$scratch/check.log" | sed 's/^/#   /'; }
grep -A3 "kunit/vkci_planted_fail \.\.\." "$scratch/check.log" | grep -q "Failed 1/3 subtests"
ok $? "prove's own lines for the suite: 1 of its 3 cases failed"

# ---- the panicking suite cut into parts by its cases -----------------------------------
# (a plan for 4 CPUs whose record calls each case slow: one vkernel per part;
# the part with the panicking case crashes, the other parts' cases pass)
parts=$scratch/parts
mkdir -p "$parts"
python3 - "$out" "$parts" <<'EOF'
import json, os, sys
d = json.load(open(os.path.join(sys.argv[1], "kunit-state.json")))
cases = json.load(open(os.path.join(sys.argv[1], "kunit.plan")))["cases"]["vkci_planted_panic"]
d["suites"]["vkci_planted_panic"] = 3000.0 * len(cases)
d.setdefault("cases", {}).update({"vkci_planted_panic." + c: 3000.0 for c in cases})
json.dump(d, open(os.path.join(sys.argv[2], "kunit-state.json"), "w"))
EOF
make -s check KERNEL="$kernel" TESTS=kunit/vkci_planted_panic OUT="$parts" KUNIT_JOBS=4 JOBS="${JOBS:-2}" \
	>"$scratch/parts.log" 2>&1
is "$?" 2 "the panicking suite in parts: a failure"
np=$(json "$parts/kunit.plan" 'len(d["suites"]["vkci_planted_panic"].get("parts", []))')
ok "$([ "${np:-0}" -ge 2 ]; echo $?)" "the plan cut vkci_planted_panic into $np parts"
r=$parts/logs/kunit/vkci_planted_panic/result.json
is "$(json "$r" '(d["outcome"], sorted((s["name"], s["outcome"]) for s in d["subtests"]))')" \
	"('crash', [('vkci_planted_after', 'pass'), ('vkci_planted_before', 'pass'), ('vkci_planted_panics', 'fail')])" \
	"a crash in the panicking case; the cases of the other parts passed"
like "$(json "$r" 'd["crash_title"]')" "vkci planted panic in a KUnit case" "its crash title"

# ---- names that do not exist ------------------------------------------------------------
out2=$(make -s check KERNEL="$kernel" SUITES=kunit:vkci_planted_fial OUT="$scratch/typo" 2>&1); rc=$?
is "$rc" 2 "names: a KUnit glob that matches nothing exits 2"
like "$out2" "^vkci: no KUnit suite matches 'vkci_planted_fial' \(closest: vkci_planted_fail" "names: the closest suites"
out2=$(make -s check KERNEL="$kernel" TESTS=kunit/kunit-try-catch-tset OUT="$scratch/typo" 2>&1); rc=$?
is "$rc" 2 "names: TESTS=kunit/typo exits 2"
like "$out2" "^vkci: no KUnit suite 'kunit-try-catch-tset' in this kernel \(closest: kunit-try-catch-test" "names: the closest suite"
out2=$(VKCI_KUNIT= VKCI_KUNIT_PLAN= "$VKCI" exec -k "$kernel" -i "$image" kunit/example 2>&1); rc=$?
is "$rc" 2 "vkci exec kunit/SUITE outside a run: usage error"
like "$out2" "VKCI_KUNIT_PLAN is not set" "and says what is missing (the runner found from vkci's own path)"

# ---- a test that is not KUnit pays nothing for it ------------------------------------------
tp=$B/t/payload.img
if [ -f "$tp" ]; then
	"$VKCI" exec -k "$kernel" -i "$image" -p "$tp" -l "$scratch/quiet" guest/pass >/dev/null 2>&1
	is "$?" 0 "kunit.enable=0: an ordinary test passes on the KUnit kernel"
	c=$scratch/quiet/guest/pass/console.log
	is "$(grep -c '# Subtest:' "$c")" 0 "kunit.enable=0: no KUnit suite ran during its boot"
	like "$(cat "$c")" "kunit: disabled" "kunit.enable=0: the kernel says KUnit is disabled"
else
	ok 0 "# SKIP no harness test payload"
fi
done_testing
