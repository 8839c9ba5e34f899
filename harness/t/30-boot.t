#!/bin/sh
# End to end with a real vkernel: each guest scenario (harness/t/guest/*.c)
# is classified correctly, and nothing is left behind: no process whose
# command line names the run dir, no instance dir for a passing test.
. "$(dirname "$0")/lib.sh"
kernel=${VKCI_KERNEL:-}
image=${VKCI_IMAGE:-$B/image/base.img}
payload=$B/t/payload.img
[ -n "$kernel" ] && [ -x "$kernel" ] || skip_all "no vkernel (VKCI_KERNEL; make test sets it)"
[ -f "$image" ] && [ -f "$payload" ] || skip_all "image or test payload missing (make test builds them)"
run=$scratch/run
mkdir -p "$run"

# processes whose argv has uml_dir=<our run dir> (the [u] keeps grep itself out)
leftover_procs() {
	grep -l -- "[u]ml_dir=$run" /proc/[0-9]*/cmdline 2>/dev/null | wc -l
}

# boot NAME WANT-RC REGEX [vkci options] [-- args]
boot() {
	name=$1 want=$2 re=$3
	shift 3
	out=$(VKCI_RUNDIR=$run "$VKCI" exec -k "$kernel" -i "$image" -p "$payload" "$@" 2>&1)
	rc=$?
	is "$rc" "$want" "$name: exit status $want"
	like "$out" "$re" "$name: classified"
	is "$(leftover_procs)" 0 "$name: no vkernel process left"
	if [ "$want" = 0 ]; then
		is "$(ls "$run" | wc -l)" 0 "$name: instance dir removed"
	else
		is "$(ls "$run" | wc -l)" 1 "$name: instance dir kept for the post-mortem"
		rm -rf "$run"/*
	fi
}

boot pass 0 '^ok 2 - argc=2 arg1=hello world$' t/pass -- "hello world"
boot fail 1 '^not ok 2 - second is wrong' t/fail
boot segv 1 'not ok 2 - test killed by signal 11 \(SIGSEGV\)' t/segv
boot hang 1 'not ok 2 - test timed out after 2 s' -t 2 t/hang
boot panic 1 'kernel panic while the test ran: Kernel panic - not syncing: sysrq triggered crash' t/panic
boot skip 0 '^1\.\.0 # SKIP nothing to do here' t/skip
boot short 1 'not ok 3 - planned 5 tests but ran 2' t/short
boot noplan 1 'not ok 3 - no TAP plan' t/noplan
boot forge 1 'serial protocol violation: 2 bad records \(first: control record with wrong key' t/forge
boot lingering-child 0 '^ok 1 - parent done' t/fork_left
boot warning 1 'kernel warning: WARNING: CPU' t/warn
boot missing 3 "guest agent: test 't/nope' not found in the payload" t/nope

# logs land in the log dir, per test
logs=$scratch/logs
VKCI_RUNDIR=$run "$VKCI" exec -l "$logs" -k "$kernel" -i "$image" -p "$payload" t/fail >/dev/null 2>&1
is $? 1 "fail with a log dir still fails"
[ -s "$logs/t/fail/console.log" ] && grep -q '^V vkci-agent' "$logs/t/fail/serial.log"
ok $? "log dir: console and serial logs in LOGDIR/t/fail/"
rm -rf "$run"/*

# the instance dir is private
VKCI_RUNDIR=$run "$VKCI" exec -K -k "$kernel" -i "$image" -p "$payload" t/pass >/dev/null 2>&1
is "$(stat -c %a "$run"/*)" 700 "instance dir is mode 0700"
rm -rf "$run"/*

done_testing
