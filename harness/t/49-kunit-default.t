#!/bin/sh
# KUnit on the default kernel, for real (make test, so .ci/run): the KUnit
# variant of the default source (make test builds it: `make kernel
# SUITES=kunit`, VKCI_KUNIT_DEFAULT_KERNEL) runs the suites of
# suites/kunit/ci-suites:
#  - make check SUITES=kunit:GLOBS: one prove test per suite, kunit/SUITE,
#    in groups that share a vkernel; the per-suite case counts are those
#    suites/kunit/expected.txt lists; cases as subtests in summary.json and
#    junit.xml;
#  - a mixed run (an own test beside a KUnit suite) on that kernel: both
#    pass, the own test with kunit.enable=0 (no KUnit suite ran in its boot);
#  - the variant is cached: a second `make kernel SUITES=kunit` builds
#    nothing and prints the same binary.
# The planted failures and crashes are 48-kunit.t's (make check-full).
. "$(dirname "$0")/lib.sh"
cd "$top" || exit 1
unset MAKEFLAGS MAKELEVEL MFLAGS
kernel=${VKCI_KUNIT_DEFAULT_KERNEL:-}
if [ -z "$kernel" ] || [ ! -x "$kernel" ]; then
	skip_all "no KUnit variant of the default kernel (make test builds it: VKCI_KUNIT_DEFAULT_KERNEL)"
fi
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@" 2>&1; }

# ---- the CI suites ------------------------------------------------------------------
globs=$(grep -v '^#' suites/kunit/ci-suites | tr -s ' \n' ',' | sed 's/^,//; s/,$//')
out=$scratch/ci
make -s check KERNEL="$kernel" SUITES="kunit:$globs" OUT="$out" JOBS="${JOBS:-2}" >"$scratch/ci.log" 2>&1
is "$?" 0 "make check SUITES=kunit:$globs passes"
cmp=$(python3 ci/kunit.py check --only-ran "$out" 2>&1); rc=$?
is "$rc" 0 "per-suite case counts as suites/kunit/expected.txt lists"
printf '%s\n' "$cmp" | sed 's/^/# /'
[ "$rc" = 0 ] || tail -40 "$scratch/ci.log" | sed 's/^/#   /'
n=$(json "$out/summary.json" 'len(d["suites"]["kunit"]["tests"])')
want=$(json "$out/kunit.plan" 'len(d["suites"])')
is "$n" "$want" "summary.json: every planned suite as kunit/SUITE ($want)"
ok "$([ "${n:-0}" -ge 8 ]; echo $?)" "at least 8 suites ran"
is "$(json "$out/summary.json" '[s["name"] for s in d["suites"]["kunit"]["tests"]["example"]["subtests"][:2]]')" \
	"['example_simple_test', 'example_skip_test']" "summary.json: a suite's cases as subtests"
is "$(json "$out/logs/kunit/example/result.json" '(d["format"], d["kind"], d["outcome"])')" \
	"('vkci-result/2', 'kunit', 'pass')" "result.json per suite (vkci-result/2, kind kunit)"
groups=$(json "$out/kunit.plan" 'len(d["groups"])')
ok "$([ "${groups:-0}" -ge 1 ] && [ "$groups" -lt "$n" ]; echo $?)" \
	"suites share vkernels: $n suites in $groups group(s)"
junit=$(python3 - "$out/junit.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
print(sum(1 for tc in r.iter("testcase") if " list_test_" in " " + tc.get("name", "")))
PY
)
ok "$([ "${junit:-0}" -ge 30 ]; echo $?)" "junit.xml: list-kunit-test's cases as testcases ($junit)"
grep -q "^\[.*kunit/list-kunit-test \.\.* ok" "$scratch/ci.log"
ok $? "prove's line for kunit/list-kunit-test"

# ---- a suite cut into parts by its cases --------------------------------------------------
# The collector timed every case (kunit-case-time, from the kernel log); a
# plan for 4 CPUs whose record says list-kunit-test is slow cuts it into
# parts, each its own vkernel with kunit.filter_glob=list-kunit-test.GLOB,
# and the one test kunit/list-kunit-test reports all its cases.
n_cases=$(json "$out/kunit-state.json" 'sum(k.startswith("list-kunit-test.") for k in d["cases"])')
want_cases=$(json "$out/kunit.plan" 'len(d["cases"]["list-kunit-test"])')
is "$n_cases" "$want_cases" "the collector timed each case of list-kunit-test ($want_cases)"
parts=$scratch/parts
mkdir -p "$parts"
python3 - "$out" "$parts" <<'PY'
import json, os, sys
d = json.load(open(os.path.join(sys.argv[1], "kunit-state.json")))
cases = json.load(open(os.path.join(sys.argv[1], "kunit.plan")))["cases"]["list-kunit-test"]
d["suites"]["list-kunit-test"] = 1000.0 * len(cases)
d["cases"].update({"list-kunit-test." + c: 1000.0 for c in cases})
json.dump(d, open(os.path.join(sys.argv[2], "kunit-state.json"), "w"))
PY
make -s check KERNEL="$kernel" TESTS=kunit/list-kunit-test OUT="$parts" KUNIT_JOBS=4 JOBS="${JOBS:-2}" \
	>"$scratch/parts.log" 2>&1
is "$?" 0 "a suite cut into parts passes"
np=$(json "$parts/kunit.plan" 'len(d["suites"]["list-kunit-test"].get("parts", []))')
ok "$([ "${np:-0}" -ge 2 ]; echo $?)" "the plan cut list-kunit-test into $np parts"
r=$parts/logs/kunit/list-kunit-test/result.json
is "$(json "$r" '[s["name"] for s in d["subtests"] if "." not in s["id"]]')" \
	"$(json "$out/logs/kunit/list-kunit-test/result.json" '[s["name"] for s in d["subtests"] if "." not in s["id"]]')" \
	"its cases, in the kernel's order, as when it ran whole"
is "$(json "$r" '(d["outcome"], len(d["kunit"]["parts"]), d["tests"]["run"], d["tests"]["failed"])')" \
	"('pass', $np, $want_cases, 0)" "result.json: passed, its parts, every case run"
like "$(cat "$parts"/tap/kunit/list-kunit-test* 2>/dev/null)" "# kunit: ran in $np parts at once" \
	"the TAP says how it ran"

# ---- mixed: an own test beside a KUnit suite -------------------------------------------
own=suites/vm/mremap.c
mix=$scratch/mix
make -s check KERNEL="$kernel" TESTS="$own kunit/list-kunit-test" OUT="$mix" JOBS="${JOBS:-2}" \
	>"$scratch/mix.log" 2>&1
is "$?" 0 "mixed run (TESTS=\"$own kunit/list-kunit-test\") passes"
is "$(json "$mix/summary.json" 'sorted(d["suites"])')" "['kunit', 'vm']" "mixed run: both suites reported"
c=$mix/logs/vm/mremap/console.log
is "$(grep -c '# Subtest:' "$c" 2>/dev/null)" 0 "mixed run: no KUnit suite ran in the own test's boot (kunit.enable=0)"
like "$(cat "$c" 2>/dev/null)" "kunit: disabled" "mixed run: the kernel says KUnit is disabled there"

# ---- the variant is cached ---------------------------------------------------------------
# (40-build.t touches a file of the default source for a moment: not now)
src=$("$top/ci/kernel-source.sh" 2>/dev/null) && exec 8>"$src.test-lock" && flock -s 8
t0=$(date +%s%N)
k2=$(make -s kernel SUITES=kunit 2>"$scratch/again.err")
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
exec 8>&-
is "$k2" "$kernel" "make kernel SUITES=kunit again: the same binary"
is "$(grep -c 'building' "$scratch/again.err")" 0 "make kernel SUITES=kunit again: nothing built (${ms} ms)"
done_testing
