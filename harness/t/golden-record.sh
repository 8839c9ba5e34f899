#!/bin/sh
# Re-record the expected verdicts of harness/t/data (review the diff after!).
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/harness/t/golden-tree.sh"
for s in "$top"/harness/t/data/*.serial; do
	base=${s%.serial}
	name=$(basename "$s" .serial)
	con=
	[ -f "$base.console" ] && con="--console $base.console"
	fetch=
	case $name in xfer-*) mkdir -p "$gscratch/$name"; fetch="--fetch-dir $gscratch/$name/recv" ;; esac
	# shellcheck disable=SC2046,SC2086
	"${VKCI:-$top/harness/vkci}" parse $con $(cat "$base.opts") $fetch "$s" >"$base.expected" 2>&1
	echo $? >"$base.rc"
	[ -n "$fetch" ] && golden_tree "$gscratch/$name" >"$base.tree"
done
