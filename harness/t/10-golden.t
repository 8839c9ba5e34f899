#!/bin/sh
# Golden transcripts: `vkci parse` on saved serial (+ console) logs must print
# exactly the recorded verdict and exit status. Real transcripts (boot-*) were
# captured from real vkernel boots; the others are hand-made hostile cases.
# A case with a NAME.tree file (file transfers, xfer-*) is parsed with
# --fetch-dir SCRATCH/NAME/recv, and everything under SCRATCH/NAME must then
# be exactly the recorded listing: the files received, byte for byte, and
# nothing written outside recv/.
# To re-record after an intended change: harness/t/golden-record.sh, then review.
top=$(cd "$(dirname "$0")/../.." && pwd)
vkci=${VKCI:-$top/harness/vkci}
data=$top/harness/t/data
. "$top/harness/t/golden-tree.sh"
set -- "$data"/*.serial
echo "1..$(( $# * 2 + $(ls "$data"/*.tree 2>/dev/null | wc -l) ))"
n=0
for s in "$@"; do
	name=$(basename "$s" .serial)
	base=${s%.serial}
	con=
	[ -f "$base.console" ] && con="--console $base.console"
	fetch=
	[ -f "$base.tree" ] && mkdir -p "$gscratch/$name" && fetch="--fetch-dir $gscratch/$name/recv"
	# shellcheck disable=SC2046,SC2086
	out=$("$vkci" parse $con $(cat "$base.opts") $fetch "$s" 2>&1)
	rc=$?
	if [ -n "$fetch" ]; then
		n=$((n + 1))
		if [ "$(golden_tree "$gscratch/$name")" = "$(cat "$base.tree")" ]; then
			echo "ok $n - $name: received tree matches, nothing outside it"
		else
			echo "not ok $n - $name: received tree differs"
			golden_tree "$gscratch/$name" | diff "$base.tree" - | sed 's/^/# /'
		fi
	fi
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
