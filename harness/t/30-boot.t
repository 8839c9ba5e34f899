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

# processes whose argv names our run dir: vkernels (uml_dir=) and switches
# (-unix); the [u] keeps grep itself out
leftover_procs() {
	grep -l -e "[u]ml_dir=$run" -e "[u]ml_switch.*$run" /proc/[0-9]*/cmdline 2>/dev/null | wc -l
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

boot pass 0 '^ok 2 - argc=2 arg1=hello world$' "$top/harness/t/guest/pass.c" -- "hello world"
boot fail 1 '^not ok 2 - second is wrong' "$top/harness/t/guest/fail.c"
boot segv 1 'not ok 2 - test killed by signal 11 \(SIGSEGV\)' "$top/harness/t/guest/segv.c"
boot hang 1 'not ok 2 - test timed out after 2 s' -t 2 "$top/harness/t/guest/hang.c"
# a slow kernel's scale (VARIANT=debug sets it) multiplies the timeout
export VKCI_TIMEOUT_SCALE=2
boot hang-scaled 1 'not ok 2 - test timed out after 4 s' -t 2 "$top/harness/t/guest/hang.c"
VKCI_TIMEOUT_SCALE=0
out=$(VKCI_RUNDIR=$run "$VKCI" exec -k "$kernel" -i "$image" -p "$payload" "$top/harness/t/guest/pass.c" 2>&1)
rc=$?
unset VKCI_TIMEOUT_SCALE
is "$rc" 2 "VKCI_TIMEOUT_SCALE=0: usage error (exit 2)"
like "$out" "bad VKCI_TIMEOUT_SCALE '0'" "VKCI_TIMEOUT_SCALE=0: named"
boot panic 1 'kernel panic while the test ran: Kernel panic - not syncing: sysrq triggered crash' "$top/harness/t/guest/panic.c"
# a panic as the test's first system call still comes after its started
# record: the agent holds the test until the record has left the guest
boot panic-at-once 1 '^not ok 1 - kernel panic while the test ran: Kernel panic - not syncing: sysrq triggered crash' "$top/harness/t/guest/panic.c" -- now
# ... and then lets it go untraced
boot untraced 0 '^ok 2 - a child of the test can be traced by it' "$top/harness/t/guest/traced.c"
boot skip 0 '^1\.\.0 # SKIP nothing to do here' "$top/harness/t/guest/skip.c"
boot short 1 'not ok 3 - planned 5 tests but ran 2' "$top/harness/t/guest/short.c"
boot noplan 1 'not ok 3 - no TAP plan' "$top/harness/t/guest/noplan.c"
boot forge 1 'serial protocol violation: 2 bad records \(first: control record with wrong key' "$top/harness/t/guest/forge.c"
boot lingering-child 0 '^ok 1 - parent done' "$top/harness/t/guest/fork_left.c"
boot warning 1 'kernel warning: WARNING: CPU' "$top/harness/t/guest/warn.c"
boot missing 3 "guest agent: test 'guest/nope' not found in the payload" guest/nope
boot scratch-disk 0 '^ok 4 - data survived a remount' "$top/harness/t/guest/scratch.c"
boot two-nodes 0 '^ok 3 - node 1 passed' "$top/harness/t/guest/net2.c"
boot node-panics 1 'not ok 2 - node 1 failed: .*kernel panic' "$top/harness/t/guest/node_panic.c"

# logs land in the log dir, per test
logs=$scratch/logs
VKCI_RUNDIR=$run "$VKCI" exec -l "$logs" -k "$kernel" -i "$image" -p "$payload" "$top/harness/t/guest/fail.c" >/dev/null 2>&1
is $? 1 "fail with a log dir still fails"
[ -s "$logs/guest/fail/console.log" ] && grep -q '^V vkci-agent' "$logs/guest/fail/serial.log"
ok $? "log dir: console and serial logs in LOGDIR/guest/fail/"
rm -rf "$run"/*

# the instance dir is private
VKCI_RUNDIR=$run "$VKCI" exec -K -k "$kernel" -i "$image" -p "$payload" "$top/harness/t/guest/pass.c" >/dev/null 2>&1
is "$(stat -c %a "$run"/*)" 700 "instance dir is mode 0700"
rm -rf "$run"/*

done_testing
