# lib.sh - tiny TAP helpers for the harness's shell tests (sourced).
top=$(cd "$(dirname "$0")/../.." && pwd)
VKCI=${VKCI:-$top/harness/vkci}
B=${VKCI_BUILD:-$top/build}
_n=0
_failed=0

ok() { # ok COND-EXIT-STATUS DESCRIPTION
	_n=$((_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $_n - $2"
	else
		echo "not ok $_n - $2"
		_failed=$((_failed + 1))
	fi
}
is() { # is GOT WANT DESCRIPTION
	if [ "$1" = "$2" ]; then ok 0 "$3"; else ok 1 "$3"; echo "#   got: '$1'" >&2; echo "# expected: '$2'" >&2; fi
}
like() { # like TEXT REGEX DESCRIPTION
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then ok 0 "$3"; else
		ok 1 "$3"; { echo "# expected to match: $2"; printf '%s\n' "$1" | head -20 | sed 's/^/#   /'; } >&2; fi
}
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
skip() { # skip REASON: one skipped test
	_n=$((_n + 1))
	echo "ok $_n # SKIP $*"
}
# the driver's platform layer (harness/platform.h): "linux" or "posix"
platform=$("$VKCI" version 2>/dev/null | sed -n 's/.*(platform \([a-z]*\)).*/\1/p')
done_testing() { echo "1..$_n"; [ "$_failed" = 0 ]; exit $?; }

# wait_for SECONDS CMD...: poll a condition (10 ms steps), bounded
wait_for() {
	_w=$(($1 * 100)); shift
	while [ $_w -gt 0 ]; do
		"$@" && return 0
		sleep 0.01
		_w=$((_w - 1))
	done
	return 1
}

# pids_alive FILE: print those pids in FILE that still run. A zombie is
# dead: on the POSIX fallback (no subreaper) a killed grandchild is
# reparented to init, and an init that does not reap (a container's) keeps
# it as a zombie, which kill -0 still finds.
pids_alive() {
	[ -f "$1" ] || return 0
	for _p in $(cat "$1"); do
		kill -0 "$_p" 2>/dev/null || continue
		[ -r "/proc/$_p/stat" ] && [ "$(sed 's/.*) //' "/proc/$_p/stat" | cut -d' ' -f1)" = Z ] && continue
		printf '%s ' "$_p"
	done
	return 0
}

# a private scratch dir, removed at exit
scratch=$(mktemp -d "${TMPDIR:-/tmp}/vkci-t.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
