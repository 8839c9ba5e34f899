#!/bin/sh
# Re-record the expected verdicts of harness/t/data (review the diff after!).
top=$(cd "$(dirname "$0")/../.." && pwd)
for s in "$top"/harness/t/data/*.serial; do
	base=${s%.serial}
	con=
	[ -f "$base.console" ] && con="--console $base.console"
	# shellcheck disable=SC2046,SC2086
	"$top/harness/vkci" parse $con $(cat "$base.opts") "$s" >"$base.expected" 2>&1
	echo $? >"$base.rc"
done
