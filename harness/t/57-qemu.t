#!/bin/sh
# The QEMU backend with real boots of an x86_64 kernel (VKCI_QEMU_KERNEL:
# make test builds it with `make kernel BACKEND=qemu`):
# tests classified as on UML (pass, fail, a panic titled by the crash
# parser, a timeout), instances cloned from a booted snapshot each starting
# from the same clean state (guest/fresh.c run twice), a cold boot, two
# nodes on a datagram socketpair, the KVM probe and the accelerator on
# record in result.json, no QEMU process left behind; bad input refused in
# one line.
. "$(dirname "$0")/lib.sh"
kernel=${VKCI_QEMU_KERNEL:-}
image=${VKCI_IMAGE:-$B/image/base.img}
payload=$B/t/payload.img
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 not installed (make deps BACKEND=qemu)"
[ -n "$kernel" ] && [ -f "$kernel" ] || skip_all "no QEMU kernel (VKCI_QEMU_KERNEL; make test builds one unless QEMU_TEST=0)"
[ -f "$image" ] && [ -f "$payload" ] || skip_all "image or test payload missing (make test builds them)"
run=$scratch/run
logs=$scratch/logs
mkdir -p "$run"
# TCG here (KVM aborts on this machine, and the probe would cost a boot);
# the template cache is the user's (keyed on kernel, image and machine shape)
export VKCI_ACCEL=${VKCI_ACCEL:-tcg}

# QEMU processes of this run: their environment has TMPDIR=<instance dir>
leftover_procs() {
	grep -l -a "TMPDIR=$run/" /proc/[0-9]*/environ 2>/dev/null | wc -l
}

# boot NAME WANT-RC REGEX [vkci options] TEST [-- args]
boot() {
	name=$1 want=$2 re=$3
	shift 3
	t0=$(date +%s.%N)
	out=$(VKCI_RUNDIR=$run "$VKCI" exec -B qemu -k "$kernel" -i "$image" -p "$payload" -l "$logs" "$@" 2>&1)
	rc=$?
	echo "# $name: $(echo "$(date +%s.%N) - $t0" | bc | cut -c1-5) s"
	is "$rc" "$want" "$name: exit status $want"
	like "$out" "$re" "$name: classified"
	is "$(leftover_procs)" 0 "$name: no QEMU process left"
	if [ "$want" = 0 ]; then
		is "$(ls "$run" | wc -l)" 0 "$name: instance dir removed"
	else
		rm -rf "$run"/*
	fi
}
# field FILE KEY: a top-level value of a result.json
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2]))' "$1" "$2"; }

# the first boot of a machine shape makes its template (a cold boot, saved)
boot pass 0 '^ok 2 - argc=2 arg1=hello world$' -b 300 "$top/harness/t/guest/pass.c" -- "hello world"
is "$(field "$logs/guest/pass/result.json" restored)/$(field "$logs/guest/pass/result.json" accel)" "True/tcg" \
	"pass: restored from a booted snapshot, under TCG (result.json)"
boot fail 1 '^not ok 2 - second is wrong' "$top/harness/t/guest/fail.c"
boot panic 1 'kernel panic while the test ran: Kernel panic - not syncing: sysrq triggered crash' "$top/harness/t/guest/panic.c"
like "$(cat "$logs/guest/panic/console.log")" 'Call Trace:' "panic: the whole report on the console"
boot hang 1 'not ok 2 - test timed out after 2 s' -t 2 "$top/harness/t/guest/hang.c"

# a cold boot when asked (what a template boot is too)
export VKCI_QEMU_SNAPSHOT=0
boot cold 0 '^ok 2 - argc=1' -b 300 "$top/harness/t/guest/pass.c"
unset VKCI_QEMU_SNAPSHOT
is "$(field "$logs/guest/pass/result.json" restored)" "False" "cold: result.json says not restored"

# two nodes, each a clone, on one datagram socketpair
boot two-nodes 0 '^ok 3 - node 1 passed' -b 300 "$top/harness/t/guest/net2.c"

# a console scenario on QEMU: its vkci boot consoles say what they run on,
# and its result.json keeps the accelerator as a C test's does
out=$(VKCI_RUNDIR=$run "$VKCI" exec -B qemu -k "$kernel" -i "$image" -p "$payload" -l "$logs" \
	"$top/suites/vm/console_sysrq.py" 2>&1)
is "$?" 0 "console scenario on QEMU: passes"
is "$(field "$logs/vm/console_sysrq/result.json" backend)/$(field "$logs/vm/console_sysrq/result.json" accel)" \
	"qemu/tcg" "console scenario: result.json says qemu, tcg (the consoles' first line)"
like "$(cat "$logs/vm/console_sysrq/session.log" 2>/dev/null)" 'vkci: a shell in a throwaway qemu instance \(tcg\)' \
	"console scenario: vkci boot's first line names the backend and accelerator"
is "$(leftover_procs)" 0 "console scenario: no QEMU process left"

# every clone starts from the template's state, not the last test's, and
# does not share what must differ (boot id, CRNG); the clock is the host's,
# not the template's (made by the first test above, >10 s ago)
boot fresh-1 0 '^ok 2 - no mark from an earlier instance on the root' "$top/harness/t/guest/fresh.c"
f1=$out
boot fresh-2 0 '^ok 1 - no mark from an earlier instance in /tmp' "$top/harness/t/guest/fresh.c"
f2=$out
is "$(field "$logs/guest/fresh/result.json" restored)" "True" "fresh: the second is a clone of the booted snapshot too"
g() { printf '%s\n' "$1" | sed -n "s/^# $2 //p" | head -1; }
ok "$([ -n "$(g "$f1" boot_id)" ] && [ "$(g "$f1" boot_id)" != "$(g "$f2" boot_id)" ]; echo $?)" \
	"fresh: two clones have different boot ids"
ok "$([ -n "$(g "$f1" random)" ] && [ "$(g "$f1" random)" != "$(g "$f2" random)" ]; echo $?)" \
	"fresh: two clones draw different random bytes (the CRNG was reseeded)"
t=$(g "$f2" time)
ok "$([ -n "$t" ] && [ $(( $(date +%s) - t )) -lt 10 ] && [ $(( t - $(date +%s) )) -lt 5 ]; echo $?)" \
	"fresh: a clone's clock is the host's, not the template's ($t vs $(date +%s))"

# the accelerator when nothing forces it: KVM only if this kernel really
# comes up under it (the probe boots it), else TCG with the reason said
# once; a private cache, so that the probe runs
out=$(VKCI_ACCEL= VKCI_CACHE=$scratch/cache VKCI_RUNDIR=$run "$VKCI" exec -B qemu -k "$kernel" -i "$image" \
	-p "$payload" -l "$logs" -b 300 "$top/harness/t/guest/pass.c" 2>&1)
is "$?" 0 "probe: the test passes whatever the accelerator"
accel=$(field "$logs/guest/pass/result.json" accel)
if printf '%s\n' "$out" | grep -q 'KVM does not run this kernel here'; then
	is "$accel" tcg "probe: KVM failed it ($(printf '%s\n' "$out" | sed -n 's/.*here (\(.*\)): QEMU.*/\1/p' | head -1)): TCG"
elif [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	is "$accel" kvm "probe: KVM brought the kernel up: KVM"
else
	is "$accel" tcg "probe: no usable /dev/kvm: TCG"
fi
out=$(VKCI_ACCEL= VKCI_CACHE=$scratch/cache VKCI_RUNDIR=$run "$VKCI" exec -B qemu -k "$kernel" -i "$image" \
	-p "$payload" "$top/harness/t/guest/pass.c" 2>&1)
ok "$(printf '%s\n' "$out" | grep -q 'KVM does not run'; [ $? = 1 ]; echo $?)" "probe: decided once (cached), not said again"
is "$(leftover_procs)" 0 "probe: no QEMU process left"

# bad input: one line naming the thing and the fix, exit status 3 (usage 2)
notx86=$scratch/notx86
printf 'not a kernel\n' > "$notx86"
out=$("$VKCI" exec -B qemu -k "$notx86" -i "$image" -p "$payload" guest/pass 2>&1)
rc=$?
ok "$([ "$rc" -ge 2 ]; echo $?)" "a kernel file that is not x86 fails ($rc)"
like "$out" "kernel '$notx86' is neither an x86 bzImage nor an x86_64 vmlinux" "... naming the file and what the backend boots"
out=$("$VKCI" exec -B uml -k "$kernel" -i "$image" -p "$payload" guest/pass 2>&1)
is "$?" 2 "a QEMU kernel given to the uml backend is a usage error"
like "$out" "kernel '$kernel' is a qemu kernel, not a uml one \(BACKEND=qemu" "... saying which backend it is for"
if [ -n "${VKCI_KERNEL:-}" ] && [ -x "$VKCI_KERNEL" ]; then
	out=$("$VKCI" exec -B qemu -k "$VKCI_KERNEL" -i "$image" -p "$payload" guest/pass 2>&1)
	is "$?" 2 "a UML vkernel given to the qemu backend is a usage error"
	like "$out" "is a uml kernel, not a qemu one \(BACKEND=uml" "... saying which backend it is for"
else
	skip "no UML vkernel (VKCI_KERNEL)"
	skip "no UML vkernel (VKCI_KERNEL)"
fi
out=$(VKCI_QEMU=/nonexistent/qemu "$VKCI" exec -B qemu -k "$kernel" -i "$image" -p "$payload" guest/pass 2>&1)
ok "$([ $? -ge 2 ]; echo $?)" "VKCI_QEMU naming no program fails"
like "$out" "cannot run VKCI_QEMU='/nonexistent/qemu'" "... naming it"
out=$(PATH=/nonexistent "$VKCI" exec -B qemu -k "$kernel" -i "$image" -p "$payload" guest/pass 2>&1)
ok "$([ $? -ge 2 ]; echo $?)" "no qemu-system-x86_64 in PATH fails"
like "$out" "'qemu-system-x86_64' not found: the qemu backend needs it \(apt-get install qemu-system-x86\)" \
	"... saying which package gives it"
out=$(VKCI_ACCEL=fast "$VKCI" exec -B qemu -k "$kernel" -i "$image" -p "$payload" guest/pass 2>&1)
like "$out" "bad VKCI_ACCEL 'fast' \(auto, kvm or tcg\)" "a bad VKCI_ACCEL is named with its values"
is "$(leftover_procs)" 0 "no QEMU process left at the end"

done_testing
