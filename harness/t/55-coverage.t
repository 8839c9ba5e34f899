#!/bin/sh
# Coverage with a real coverage vkernel (make test builds it: vkci build
# --variant coverage): each instance's .gcda tree lands in its own
# --gcov-dir tree and never in the build dir, two instances at once do not
# mix their data, a test's syscall raises the count of the kernel function
# behind it compared with a do-nothing boot, a killed vkernel says it wrote
# nothing, and ci/coverage.py turns the trees into tracefiles and HTML.
. "$(dirname "$0")/lib.sh"
kernel=${VKCI_COVERAGE_KERNEL:-}
image=${VKCI_IMAGE:-$B/image/base.img}
payload=$B/t/payload.img
[ -n "$kernel" ] && [ -x "$kernel" ] || skip_all "no coverage kernel (VKCI_COVERAGE_KERNEL; make test builds it)"
[ -f "$image" ] && [ -f "$payload" ] || skip_all "image or test payload missing (make test builds them)"
build=$(dirname "$kernel")
run=$scratch/run
mkdir -p "$run"
count() { python3 "$top/ci/coverage.py" count --kernel "$kernel" --tree "$1" "$2"; }

# two instances in parallel: a do-nothing test and one calling mincore(2)
VKCI_RUNDIR=$run "$VKCI" exec -k "$kernel" -i "$image" -p "$payload" -g "$scratch/a" guest/pass > "$scratch/a.tap" 2>&1 &
p1=$!
VKCI_RUNDIR=$run "$VKCI" exec -k "$kernel" -i "$image" -p "$payload" -g "$scratch/b" guest/cov_mincore > "$scratch/b.tap" 2>&1 &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
is "$r1/$r2" "0/0" "both instances passed on the coverage kernel"
na=$(find "$scratch/a/guest/pass" -name '*.gcda' 2>/dev/null | wc -l)
nb=$(find "$scratch/b/guest/cov_mincore" -name '*.gcda' 2>/dev/null | wc -l)
echo "# .gcda files: $na (pass), $nb (cov_mincore)"
is "$([ "$na" -gt 100 ] && [ "$nb" -gt 100 ] && echo yes)" yes "each instance wrote its own .gcda tree (more than 100 files)"
is "$(find "$build" -name '*.gcda' | wc -l)" 0 "no .gcda written into the build dir"
is "$(ls "$run" | wc -l)" 0 "instance dirs removed"
[ -f "$scratch/a/guest/pass/mm/mincore.gcda" ] && [ -f "$scratch/b/guest/cov_mincore/mm/mincore.gcda" ]
ok $? "the trees mirror the build dir (mm/mincore.gcda)"
ca=$(count "$scratch/a/guest/pass" do_mincore)
cb=$(count "$scratch/b/guest/cov_mincore" do_mincore)
echo "# do_mincore executions: $ca (boot only), $cb (1000 mincore calls)"
is "$([ "${cb:-0}" -ge 1000 ] && [ "${ca:-1}" -lt 1000 ] && echo yes)" yes \
	"mincore(2) x1000 shows in that instance's data only (do_mincore: $ca vs $cb)"

# a vkernel SIGKILLed from the host writes nothing, and says so (a panic
# still runs UML's exit path: its coverage is kept)
VKCI_RUNDIR=$run "$VKCI" exec -k "$kernel" -i "$image" -p "$payload" -g "$scratch/c" guest/hang > "$scratch/c.tap" 2>&1 &
pid=$!
umls() { grep -l -- "[u]ml_dir=$run" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3; }
running() { grep -qs '^S ' "$run"/*/serial.log; }   # the agent started the test
wait_for 30 running
ok $? "a hanging test runs in its vkernel"
kill -KILL $(umls) 2>/dev/null
wait $pid
is "$?" 1 "a test whose vkernel was SIGKILLed fails"
out=$(cat "$scratch/c.tap")
like "$out" "# no coverage data: the vkernel was killed" "a killed vkernel: no coverage, said in the TAP"
rm -rf "$run"/*

# the report: boot-only vs a suite, tracefiles and HTML
mkdir -p "$scratch/raw/t" "$scratch/raw/kselftest/core"
mv "$scratch/b/guest/cov_mincore" "$scratch/raw/t/cov_mincore"
# the same tree as a kselftest program's (kselftest/TARGET/PROGRAM: one more level)
cp -al "$scratch/raw/t/cov_mincore" "$scratch/raw/kselftest/core/cov_mincore"
out=$(python3 "$top/ci/coverage.py" report --kernel "$kernel" --raw "$scratch/raw" \
	--boot "$scratch/a/guest/pass" --out "$scratch/cov" --per-test 2>&1)
is "$?" 0 "coverage.py report succeeded"
like "$out" "^boot +lines .*functions" "summary line for the boot-only run"
like "$out" "^t +lines" "summary line for the suite"
like "$out" "^kselftest +lines +[1-9]" "summary line for kselftest/TARGET/PROGRAM trees, with lines"
like "$out" "^t +lines .*  only it: 0 lines$" "what a suite adds: nothing the other (the same tree) did not run"
[ -f "$scratch/cov/html/index.html" ] && [ -s "$scratch/cov/t.info" ] && [ -s "$scratch/cov/boot.info" ]
ok $? "HTML report and per-suite tracefiles written"
# the merged report: do_mincore's executions in the suite vs boot only
fnda() { awk -F'[:,]' -v fn="$2" '/^SF:/ {f = /\/mm\/mincore.c$/} f && $1 == "FNDA" && $3 == fn {print $2; exit}' "$1"; }
rb=$(fnda "$scratch/cov/boot.info" do_mincore)
rt=$(fnda "$scratch/cov/t.info" do_mincore)
is "$([ "${rt:-0}" -ge 1000 ] && [ "${rb:-1000}" -lt 1000 ] && echo yes)" yes \
	"merged report: do_mincore ran ${rt:-?} times in the suite, ${rb:-?} boot only"
# a line of mm/mincore.c run 1000 times
line=$(awk -F'[:,]' '/^SF:/ {f = /\/mm\/mincore.c$/} f && /^DA:/ && $3 >= 1000 {print $2; exit}' "$scratch/cov/t.info")
who=$(python3 "$top/ci/coverage.py" who --out "$scratch/cov" "mm/mincore.c:$line" 2>&1)
like "$who" "^t/cov_mincore$" "per-test index: which tests ran mm/mincore.c:$line"
like "$who" "^kselftest/core/cov_mincore$" "per-test index: a kselftest program by its name"
done_testing
