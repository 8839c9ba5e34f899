#!/bin/sh
# A short libFuzzer run of each parser target (harness/fuzz/), seeded with
# the golden transcripts: no crash, no sanitizer report. `make fuzz` runs the
# same for longer (FUZZ_SECONDS, default 600 per target).
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${FUZZ_SECONDS:-10}
set -- "$top"/build/fuzz/fuzz_*
[ -x "$1" ] || { echo "1..0 # SKIP fuzzers not built (make test builds them with clang)"; exit 0; }
echo "1..$#"
n=0 failed=0
for f in "$@"; do
	n=$((n + 1))
	name=$(basename "$f")
	corpus=$(mktemp -d "${TMPDIR:-/tmp}/vkci-fuzz.XXXXXX")
	cp "$top"/harness/t/data/*.serial "$top"/harness/t/data/*.console "$top"/harness/t/data/crash/*.log "$corpus"/ 2>/dev/null
	log=$corpus.log
	if "$f" -max_total_time="$secs" -print_final_stats=1 -close_fd_mask=3 "$corpus" >"$log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		echo "ok $n - $name: $execs executions in ${secs} s, no crash"
	else
		echo "not ok $n - $name: crash or sanitizer report"
		grep -E 'ERROR|SUMMARY|==[0-9]+==' "$log" | head -20 | sed 's/^/# /'
		echo "# reproducer and log kept in $corpus*"
		failed=$((failed + 1))
		continue
	fi
	rm -rf "$corpus" "$log"
done
[ $failed = 0 ]
