#!/bin/sh
# kselftest through vkci, for real:
#  - the build (ci/kselftest.py) leaves the source tree exactly as it was,
#    even for targets whose Makefiles write into their source directory, and a
#    second run with nothing changed decides "nothing to build" in under a
#    second;
#  - a name that does not exist (TESTS= entry, suite, kselftest target or
#    program) is one line naming the closest existing names, exit 2;
#  - a second run on an OUT in use is refused;
#  - the CI targets (suites/kselftest/ci-targets) run on the default kernel,
#    one vkernel per program, with the outcomes suites/kselftest/expected.txt
#    lists (pass/skip/xfail counts per target);
#  - two `make check`s at once in one checkout from a cold build, each with
#    its own OUT, both pass.
. "$(dirname "$0")/lib.sh"
cd "$top" || exit 1
unset MAKEFLAGS MAKELEVEL MFLAGS
src=$(ci/kernel-source.sh) || skip_all "no default kernel source"
sel=$src/tools/testing/selftests
# the build tests use a private cache (cold builds); the runs the shared one
ksft() { VKCI_CACHE="$scratch/cache" python3 ci/kselftest.py "$@" --source "$src"; }

# ---- the build: tree untouched, no-op in well under a second -------------
# every path, size and mtime of the tree, and the contents of selftests/
tree_state() {
	(cd "$src" && find . -path ./.git -prune -o -printf '%p %s %T@ %m\n' | sort | md5sum)
	(cd "$sel" && find . -type f -print0 | sort -z | xargs -0 md5sum | md5sum)
}
# 40-build.t touches a file of this shared tree for a moment (and puts its
# mtime back): hold the tests' shared lock while comparing states
exec 8>"$src.test-lock"
flock -s 8
before=$(tree_state)
# prctl's and uevent's Makefiles write their programs into the source dir
out=$(ksft build prctl uevent 2>"$scratch/build.err"); rc=$?
is "$rc" 0 "build: prctl and uevent build"
like "$out" "^prctl +[0-9]+ programs" "build: prctl's programs listed"
is "$(tree_state)" "$before" "build: the source tree is unchanged (listing, sizes, mtimes, contents)"
flock -u 8
# the interpreter itself, not a version manager's shim in front of it
py=$(python3 -c 'import sys; print(sys.executable)')
t0=$(date +%s%N)
VKCI_CACHE="$scratch/cache" "$py" ci/kselftest.py build prctl uevent --source "$src" >/dev/null 2>"$scratch/noop.err"; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
is "$rc" 0 "build: second run succeeds"
is "$(grep -c 'built in' "$scratch/noop.err")" 0 "build: second run builds nothing"
ok "$([ "$ms" -lt 1000 ]; echo $?)" "build: no-op decision in ${ms} ms (< 1000)"
# a target that does not build: reported with its log, the others still built
out=$(ksft build rseq prctl 2>&1); rc=$?
is "$rc" 1 "build: a failing target (rseq: shared librseq) gives exit 1"
like "$out" "kselftest target 'rseq' did not build.*build.log" "build: the failing target named with its log"
like "$out" "prctl +[0-9]+ programs" "build: the other target is still there"

# ---- names that do not exist ----------------------------------------------
chk() { python3 ci/selection.py check "$@" 2>&1; echo "rc=$?"; }
out=$(chk --tests suites/vm/mremapp.c)
like "$out" "^vkci: no test 'suites/vm/mremapp.c' \(closest: suites/vm/mremap.c[,)]" "names: a TESTS= typo names the closest test first"
like "$out" "^rc=2$" "names: exit 2"
is "$(printf '%s\n' "$out" | wc -l)" 2 "names: one line"
is "$(chk --suites 'vm fss')" "vkci: no suite 'fss' (closest: fs)
rc=2" "names: a suite typo"
like "$(chk --suites kselftest:timerz)" "^vkci: no kselftest target 'timerz' \(closest: timers" "names: a kselftest target typo"
like "$(chk --tests kselftest/timerz/nanosleep)" "no kselftest target 'timerz'" "names: a kselftest test's target typo"
out=$(make -s check TESTS=suites/vm/mremapp.c OUT="$scratch/o1" 2>&1); rc=$?
is "$rc" 2 "names: make check TESTS=typo exits 2"
like "$out" "^vkci: no test 'suites/vm/mremapp.c' \(closest: suites/vm/mremap.c" "names: vkci's line, not make's 'No rule to make target'"

# ---- one run per OUT ----------------------------------------------------------
mkdir -p "$scratch/busy"
flock "$scratch/busy/.lock" sleep 60 & holder=$!
wait_for 5 sh -c "! flock -n '$scratch/busy/.lock' true"
out=$(make -s check TESTS=suites/vm/mremap.c OUT="$scratch/busy" 2>&1); rc=$?
kill "$holder" 2>/dev/null
is "$rc" 2 "out lock: a second run on the same OUT exits 2"
like "$out" "another run is using OUT='$scratch/busy'" "out lock: and says why"
out=$(make -s check TESTS=suites/vm/mremap.c OUT= 2>&1); rc=$?
is "$rc" 2 "OUT= empty: exit 2"
like "$out" "^vkci: OUT= is empty \(name the run's output dir" "OUT= empty: one line that says so"
# the run's settings: the driver checks them (vkci exec --check), make asks it
# before building anything (vkci's one line; make adds its own "make: ***")
own() { printf '%s\n' "$1" | grep -v '^make: \*\*\* '; }
out=$(make -s check TESTS=suites/vm/mremap.c OUT="$scratch/o3" RETRIES=x 2>&1); rc=$?
is "$rc/$(own "$out")" "2/vkci: bad retry count 'x' (0..10; RETRIES=/VKCI_RETRIES/--retries)" \
	"RETRIES=x: exit 2, one line, before any test"
out=$(make -s check TESTS=suites/vm/mremap.c OUT="$scratch/o3" RETRIES=11 2>&1); rc=$?
is "$rc/$(own "$out")" "2/vkci: bad retry count '11' (0..10; RETRIES=/VKCI_RETRIES/--retries)" \
	"RETRIES=11: over the driver's bound, the driver's one line"
out=$(make -s check TESTS=suites/vm/mremap.c OUT="$scratch/o3" QUARANTINE="$scratch/nope" 2>&1); rc=$?
is "$rc/$(own "$out")" "2/vkci: cannot read the known-flaky list '$scratch/nope' (set QUARANTINE= or VKCI_QUARANTINE=): No such file or directory" \
	"QUARANTINE= a missing file: exit 2, one line, before any test"
out=$(make -s check TESTS=suites/vm/mremap.c OUT="$scratch/o3" QUARANTINE="$scratch" 2>&1); rc=$?
is "$rc/$(own "$out")" "2/vkci: the known-flaky list '$scratch' is not a file (set QUARANTINE= or VKCI_QUARANTINE=)" \
	"QUARANTINE= a directory: exit 2, one line"
for r in "" 0 10; do
	out=$(VKCI_RETRIES=$r "$VKCI" exec --check 2>&1); rc=$?
	is "$rc/$out" "0/" "vkci exec --check: RETRIES='$r' is good"
done
out=$("$VKCI" exec --check suites/vm/mremap.c 2>&1); rc=$?
is "$rc/$out" "2/vkci: --check takes no TEST ('suites/vm/mremap.c' given)" "vkci exec --check with a TEST: a usage error"

kernel=${VKCI_KERNEL:-}
if [ -z "$kernel" ] || [ ! -x "$kernel" ]; then
	ok 0 "# SKIP no kernel (make test builds it)"
	done_testing
fi

# ---- real runs: the CI targets, expected outcomes --------------------------
targets=$(grep -v '^#' suites/kselftest/ci-targets | tr -s ' \n' ',' | sed 's/^,//; s/,$//')
make -s check KERNEL="$kernel" SUITES="kselftest:$targets" OUT="$scratch/run" JOBS="${JOBS:-2}" \
	>"$scratch/run.log" 2>&1
ok 0 "run: make check SUITES=kselftest:$targets ran (status $?)"
out=$(python3 ci/kselftest.py check "$scratch/run" --targets $(echo "$targets" | tr ',' ' ') 2>&1); rc=$?
is "$rc" 0 "run: outcomes as suites/kselftest/expected.txt lists"
printf '%s\n' "$out" | sed 's/^/# /'
[ "$rc" = 0 ] || tail -40 "$scratch/run.log" | sed 's/^/#   /'
n=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(len(s["suites"]["kselftest"]["tests"]))' \
	"$scratch/run/summary.json" 2>/dev/null)
is "$n" "$(python3 ci/kselftest.py list $(echo "$targets" | tr ',' ' ') 2>/dev/null | wc -l)" \
	"run: summary.json has every program as kselftest/TARGET/PROGRAM"
like "$(ls "$scratch/run/logs/kselftest/$(echo "$targets" | cut -d, -f1)" | head -1)" "." "run: per-program log dirs"

# ---- two make checks at once, cold build, one checkout -------------------------
co=$scratch/checkout
mkdir -p "$co"
rsync -a --exclude=/build --exclude=/out --exclude=/.git --exclude=/harness/vkci "$top/" "$co/"
one=suites/vm/mremap.c
(cd "$co" && make -s check KERNEL="$kernel" TESTS="$one" OUT=out-a >"$scratch/a.log" 2>&1; echo $? >"$scratch/a.rc") &
(cd "$co" && make -s check KERNEL="$kernel" TESTS="$one" OUT=out-b >"$scratch/b.log" 2>&1; echo $? >"$scratch/b.rc") &
wait
is "$(cat "$scratch/a.rc")" 0 "concurrent: the first of two cold make checks passes"
is "$(cat "$scratch/b.rc")" 0 "concurrent: the second passes too"
for x in a b; do [ "$(cat "$scratch/$x.rc")" = 0 ] || tail -20 "$scratch/$x.log" | sed 's/^/#   /'; done
done_testing
