#!/bin/sh
# Process machinery with fake vkernels (harness/t/fake/fakekernel.c): each
# misbehaviour ends in the right verdict and exit status, and no process or
# file of the instance is left behind.
. "$(dirname "$0")/lib.sh"
fake=$B/t/fakekernel
[ -x "$fake" ] || skip_all "fake kernel not built (make test builds it)"
img=$scratch/image
: >"$img"
run=$scratch/run
mkdir -p "$run"

# scenario MODE WANT-RC REGEX [vkci options]
scenario() {
	mode=$1 want=$2 re=$3
	shift 3
	pidfile=$scratch/$mode.pids
	out=$(FAKE_MODE=$mode FAKE_PIDFILE=$pidfile VKCI_RUNDIR=$run \
		"$VKCI" exec -b 2 -t 1 -k "$fake" -i "$img" "$@" vm/fake 2>&1)
	rc=$?
	is "$rc" "$want" "$mode: exit status $want"
	like "$out" "$re" "$mode: verdict says why"
	is "$(pids_alive "$pidfile")" "" "$mode: no process of the instance survives"
	kept=$(ls "$run" | wc -l)
	if [ "$want" = 0 ]; then
		is "$kept" 0 "$mode: passing instance dir removed"
	else
		is "$kept" 1 "$mode: failing instance dir kept"
		d=$(ls -d "$run"/* 2>/dev/null | head -1)
		like "$out" "instance kept: $d" "$mode: and the verdict says where"
		rm -rf "$run"/*
	fi
}

scenario good 0 '^ok 1 - fake'
scenario hang 3 'not ok 1 - guest agent did not start the test within 11 s'
scenario ignore-term 3 'not ok 1 - guest agent did not start the test'
scenario grandchild 0 '^ok 1 - fake'
if [ "$platform" = posix ]; then
	# no subreaper on the POSIX fallback: a process that left the vkernel's
	# group is not vkci's to find (harness/platform.h)
	skip "escape: needs a subreaper, which the POSIX fallback has not"
else
	scenario escape 0 '^ok 1 - fake'
fi
scenario flood 3 'vkernel exited with status 1 before the agent started'
scenario signal 1 'not ok 2 - vkernel died by signal 11 \(SIGSEGV\) while the test ran'
scenario garbage 3 'serial protocol violation'
scenario silent 3 'no hello on the serial line'

# only the vkernel's channels reach it: an fd vkci inherited does not
out=$(FAKE_MODE=good FAKE_FORBID_FD=7 VKCI_RUNDIR=$run "$VKCI" exec -k "$fake" -i "$img" vm/fake 2>&1 7</dev/null)
is "$?" 0 "fds: a descriptor inherited by vkci is not passed to the vkernel"
rm -rf "$run"/*

# vkci itself leaks no descriptor (VKCI_CHECK_FDS), on a pass and on a kill
for mode in good ignore-term; do
	out=$(FAKE_MODE=$mode VKCI_CHECK_FDS=1 VKCI_RUNDIR=$run "$VKCI" exec -b 1 -t 1 -k "$fake" -i "$img" vm/fake 2>&1)
	case $out in *"leaked fd"*) ok 1 "fds: no descriptor leaked ($mode)"; echo "$out" | sed 's/^/# /' ;;
	*) ok 0 "fds: no descriptor leaked ($mode)" ;; esac
	rm -rf "$run"/*
done

# the console log of a flood is capped
out=$(FAKE_MODE=flood VKCI_RUNDIR=$run "$VKCI" exec -b 2 -k "$fake" -i "$img" vm/fake 2>&1)
size=$(stat -c %s "$run"/*/console.log)
[ "$size" -le $((16 * 1024 * 1024 + 200)) ]
ok $? "flood: 100 MiB console flood logged within the 16 MiB cap ($size bytes)"
rm -rf "$run"/*

# keep: a passing instance dir stays when asked
FAKE_MODE=good VKCI_RUNDIR=$run "$VKCI" exec -K -k "$fake" -i "$img" vm/fake >/dev/null 2>&1
is "$(ls "$run" | wc -l)" 1 "keep: --keep keeps a passing instance dir"
rm -rf "$run"/*

# signals to vkci: the instance is killed, reaped and removed, then vkci dies
# by the same signal
for spec in 15:TERM 2:INT 1:HUP; do
	num=${spec%%:*} sig=${spec#*:}
	pidfile=$scratch/sig$sig.pids
	FAKE_MODE=hang FAKE_PIDFILE=$pidfile VKCI_RUNDIR=$run \
		"$VKCI" exec -b 30 -k "$fake" -i "$img" vm/fake >/dev/null 2>&1 &
	vk=$!
	wait_for 5 test -s "$pidfile"
	kill -$sig $vk
	wait $vk
	rc=$?
	is "$rc" $((128 + num)) "SIG$sig: vkci re-raised the signal"
	is "$(pids_alive "$pidfile")" "" "SIG$sig: vkernel group killed"
	is "$(ls "$run" | wc -l)" 0 "SIG$sig: instance dir removed"
done

# bad input: one-line errors, usage exit status
out=$("$VKCI" exec -k /nonexistent/linux -i "$img" vm/x 2>&1)
is "$?" 2 "missing kernel: exit status 2"
like "$out" "^vkci: cannot use kernel '/nonexistent/linux'.*set VKCI_KERNEL" "missing kernel: names it and the fix"
out=$("$VKCI" exec -k "$img" -i "$img" vm/x 2>&1)
is "$?" 2 "non-executable kernel: exit status 2"
out=$("$VKCI" exec -k "$fake" -i /nonexistent.img vm/x 2>&1)
like "$out" "cannot use image '/nonexistent.img'" "missing image named"
out=$("$VKCI" exec -k "$fake" -i "$img" ../etc/passwd 2>&1)
is "$?" 2 "test name escaping the payload refused"
out=$("$VKCI" exec --bogus 2>&1)
is "$?" 2 "unknown option: exit status 2"
out=$("$VKCI" frobnicate 2>&1)
is "$?" 2 "unknown command: exit status 2"
like "$out" "unknown command 'frobnicate'" "unknown command named"

# death of vkci's parent (prove killed): vkci cleans up by itself (not on the
# POSIX fallback: it has no parent-death signal)
if [ "$platform" = posix ]; then
	skip "parent death: needs a parent-death signal, which the POSIX fallback has not"
	done_testing
fi
pidfile=$scratch/orphan.pids
FAKE_MODE=hang FAKE_PIDFILE=$pidfile VKCI_RUNDIR=$run \
	sh -c '"$0" exec -b 30 -k "$1" -i "$2" vm/fake >/dev/null 2>&1 & echo $! >"$3.vkci"; wait' \
	"$VKCI" "$fake" "$img" "$pidfile" &
parent=$!
wait_for 5 test -s "$pidfile"
vk=$(cat "$pidfile.vkci")
kill -KILL $parent
wait $parent 2>/dev/null
wait_for 5 sh -c "! kill -0 $vk 2>/dev/null"
ok $? "parent death: vkci exits"
is "$(pids_alive "$pidfile")" "" "parent death: vkernel group killed"
is "$(ls "$run" | wc -l)" 0 "parent death: instance dir removed"

done_testing
