#!/bin/sh
# Golden transcripts: `vkci parse` on saved serial (+ console) logs must print
# exactly the recorded verdict and exit status. Real transcripts (boot-*) were
# captured from real vkernel boots; the others are hand-made hostile cases.
# To re-record after an intended change: harness/t/golden-record.sh, then review.
top=$(cd "$(dirname "$0")/../.." && pwd)
vkci=${VKCI:-$top/harness/vkci}
data=$top/harness/t/data
set -- "$data"/*.serial
echo "1..$(( $# * 2 ))"
n=0
for s in "$@"; do
	name=$(basename "$s" .serial)
	base=${s%.serial}
	con=
	[ -f "$base.console" ] && con="--console $base.console"
	# shellcheck disable=SC2046,SC2086
	out=$("$vkci" parse $con $(cat "$base.opts") "$s" 2>&1)
	rc=$?
	n=$((n + 1))
	if [ "$out" = "$(cat "$base.expected")" ]; then
		echo "ok $n - $name: verdict matches"
	else
		echo "not ok $n - $name: verdict differs"
		printf '%s\n' "$out" | diff "$base.expected" - | sed 's/^/# /'
	fi
	n=$((n + 1))
	if [ "$rc" = "$(cat "$base.rc")" ]; then
		echo "ok $n - $name: exit status $rc"
	else
		echo "not ok $n - $name: exit status $rc, expected $(cat "$base.rc")"
	fi
done
