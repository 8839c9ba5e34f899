#!/bin/sh
# The fault matrix (RELIABILITY.md) with real vkernels: each fault ends in a
# named classification (exit status + the `not ok` reason) and leaves nothing
# behind: no process naming the run dir, no unix socket of the run bound
# (uml_switch, mconsole), no instance dir of a passing test (a failing
# test's is kept for the post-mortem, then removed here; after a crash it
# holds UML's stale umid dir, pid file and dead mconsole socket). Faults
# covered elsewhere: panic, sleep forever, segfault (30-boot.t), SIGINT and
# SIGTERM to prove -j8 (80-interrupt.t), fake-kernel process faults
# (20-process.t).
. "$(dirname "$0")/lib.sh"
kernel=${VKCI_KERNEL:-}
image=${VKCI_IMAGE:-$B/image/base.img}
payload=$B/t/payload.img
[ -n "$kernel" ] && [ -x "$kernel" ] || skip_all "no vkernel (VKCI_KERNEL; make test sets it)"
[ -f "$image" ] && [ -f "$payload" ] && [ -f "$B/t/payload/guest/killinit" ] ||
	skip_all "image or test payload missing (make test builds them)"
run=$scratch/run
mkdir -p "$run"
g=$top/harness/t/guest
cap=$((16 * 1024 * 1024 + 64))     # a log's cap plus its truncation marker
rss_cap=65536                      # kB: vkci's peak RSS under any flood

# processes whose argv names our run dir: vkernels (uml_dir=), switches (-unix)
leftover_procs() {
	grep -l -e "[u]ml_dir=$run" -e "[u]ml_switch.*$run" /proc/[0-9]*/cmdline 2>/dev/null | wc -l
}
# the vkernel process of the vkci with pid $1 (its child naming the run dir)
vkernel_of() {
	for f in $(grep -l "[u]ml_dir=$run" /proc/[0-9]*/cmdline 2>/dev/null); do
		q=${f#/proc/}; q=${q%/cmdline}
		[ "$(awk '/^PPid:/ { print $2 }' "/proc/$q/status" 2>/dev/null)" = "$1" ] && echo "$q"
	done
	return 0
}
serial_has() { grep -qa -- "$1" "$run"/*/serial.log 2>/dev/null; }

# start [vkci options] TEST [-- args]: vkci exec in the background, output in $scratch/out
start() {
	VKCI_RUNDIR=$run "$VKCI" exec -k "$kernel" -i "$img" -p "$payload" "$@" >"$scratch/out" 2>&1 &
	vk=$!
}
# finish: wait for it, sampling its peak RSS (VmHWM, kB) into $hwm
finish() {
	hwm=0
	while kill -0 "$vk" 2>/dev/null; do
		h=$(awk '/^VmHWM:/ { print $2 }' "/proc/$vk/status" 2>/dev/null)
		[ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
		sleep 0.05
	done
	wait "$vk"
	rc=$?
	out=$(cat "$scratch/out")
}
# check NAME WANT-RC REGEX: the verdict, and nothing left behind
check() {
	is "$rc" "$2" "$1: exit status $2"
	[ "$rc" = "$2" ] || printf '%s\n' "$out" | grep -v '^#   ' | head -12 | sed 's/^/#   | /' >&2
	like "$out" "$3" "$1: classified"
	is "$(leftover_procs)" 0 "$1: no process of the run left"
	is "$(grep -c -- "$run" /proc/net/unix)" 0 "$1: no socket of the run listening"
	if [ "$2" = 2 ]; then
		is "$(ls "$run" | wc -l)" 0 "$1: refused before making an instance dir"
	elif [ "$2" = 0 ] && [ -z "$keep" ]; then
		is "$(ls "$run" | wc -l)" 0 "$1: instance dir removed"
	else
		is "$(ls "$run" | wc -l)" 1 "$1: instance dir kept for the post-mortem"
	fi
}
clean() { rm -rf "$run"/*; }
# fault NAME WANT-RC REGEX [vkci options] TEST [-- args]
fault() {
	name=$1 want=$2 re=$3
	shift 3
	start "$@"
	finish
	check "$name" "$want" "$re"
}
img=$image keep=

# -- the kernel misbehaves ------------------------------------------------
# UML has no oops that does not panic: a kernel-mode fault, BUG() and die()
# all end in panic() there. oops.c plants the report through /dev/kmsg (the
# detector's side); hungtask.c makes a real non-fatal kernel report.
fault oops-planted 1 '^not ok 2 - kernel oops: Oops: 0000 \[#1\]' "$g/oops.c"
clean
fault hung-task 1 '^not ok 4 - hung task: INFO: task hungtask:[0-9]+ blocked for more than 1 seconds' "$g/hungtask.c"
like "$out" '^ok 3 - thawed' "hung-task: the report came, the test went on"
clean

# -- the test misbehaves --------------------------------------------------
fault busy-loop 1 '^not ok 2 - test timed out after 2 s \(killed by the guest agent\)' -t 2 "$g/busy.c"
clean
fault guest-oom 1 '^not ok 2 - test killed by signal 9 \(SIGKILL\)' "$g/oom.c"
grep -q 'Out of memory: Killed process [0-9]* (oom)' "$run"/*/console.log
ok $? "guest-oom: the guest's OOM killer chose the test"
clean
# a fork bomb ends by the agent's timeout, the host's, or by knocking the
# UML kernel over (6.12 panics in tlb_flush or warns in free_irq under it):
# each a classified failure
fault fork-bomb 1 '^not ok 2 - (test timed out after [0-9]+ s|kernel (panic|warning|oops|bug) while the test ran)' -t 5 "$g/forkbomb.c"
clean
keep=1
fault disk-full 0 '^ok 2 - a second file cannot grow either' -K "$g/diskfull.c"
like "$out" '^ok 1 - / full after [0-9]+ MiB \(No space left on device\)' "disk-full: the guest saw ENOSPC"
cow=$(du -k "$run"/*/root.cow | cut -f1)
img_k=$(($(stat -c %s "$img") / 1024))
[ "$cow" -le "$img_k" ]
ok $? "disk-full: the COW uses ${cow} KiB on the host, no more than the image's ${img_k} KiB"
keep=
clean

# -- the guest agent (PID 1) is attacked ------------------------------------
fault agent-signals 0 '^ok 13 - the agent \(PID 1\) is still there' "$g/killinit.c"
fault agent-killed 1 'kernel panic while the test ran: Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b' \
	"$g/killinit.c" -- ptrace
clean

# -- the vkernel is SIGKILLed from the host while the test runs --------------
start -t 60 "$g/hang.c"
wait_for 30 serial_has '^O ok 1 - about to hang'
uml=$(vkernel_of "$vk")
[ -n "$uml" ] && kill -KILL $uml
finish
check vkernel-sigkill 1 '^not ok 2 - vkernel died by signal 9 \(SIGKILL\) while the test ran'
clean

# -- floods: the host stays within its memory and the log caps ---------------
keep=1
fault console-flood 0 '^ok 1 - wrote 100 MiB to /dev/console' -K "$g/conflood.c"
size=$(stat -c %s "$run"/*/console.log)
[ "$size" -le $cap ] && tail -c 100 "$run"/*/console.log | grep -q 'console log truncated'
ok $? "console-flood: 100 MiB logged within the 16 MiB cap ($size bytes), truncation marked"
[ "$hwm" -le $rss_cap ]
ok $? "console-flood: vkci's peak RSS ${hwm} kB"
keep=
clean
# (40 MiB: well past the 16 MiB cap, and done within the test's 120 s on a
# loaded machine, which 100 MiB once was not in CI;
# under load the console pipe can still be full when the kernel panics: UML
# then aborts before the panic's lines are out, as for the printk flood below;
# and the test's own `ok 1` may still be in the agent's relay when the panic
# stops the guest, so the failure lands on test 1: seen once in CI, and in 1
# of 8 runs with the ASan driver on a loaded machine)
fault console-flood-then-panic 1 '^not ok [12] - (kernel panic while the test ran: Kernel panic - not syncing: sysrq triggered crash|vkernel died by signal 6 \(SIGABRT\) while the test ran)' \
	"$g/conflood.c" -- 40 console panic
size=$(stat -c %s "$run"/*/console.log)
[ "$size" -le $cap ] && [ "$hwm" -le $rss_cap ]
ok $? "console-flood-then-panic: a panic after the log's cap still fails the test, log capped ($size bytes logged, peak RSS ${hwm} kB)"
clean
# under a printk flood UML's console may drop the panic's own lines (the
# console pipe is full when it panics); UML then aborts: still a failure
fault printk-flood-then-panic 1 'not ok [0-9]+ - (kernel panic while the test ran: Kernel panic - not syncing: sysrq triggered crash|vkernel died by signal 6 \(SIGABRT\) while the test ran)' \
	-a printk.devkmsg=on "$g/conflood.c" -- 40 kmsg panic
size=$(stat -c %s "$run"/*/console.log)
[ "$size" -le $cap ]
ok $? "printk-flood-then-panic: console log within the cap ($size bytes)"
[ "$hwm" -le $rss_cap ]
ok $? "printk-flood-then-panic: vkci's peak RSS ${hwm} kB"
clean
# (10 s: more than the 8 MiB relay cap must pass the serial line before the
# agent's timeout, also on a loaded machine; 3 s fell short once under load)
fault serial-flood 1 '^not ok 2 - test timed out after 10 s \(killed by the guest agent\)' -t 10 "$g/outflood.c"
like "$out" '^# [0-9]+ lines of test output not shown \(more than 8388608 bytes\)' "serial-flood: relayed output capped"
size=$(stat -c %s "$run"/*/serial.log)
[ "$size" -le $cap ] && [ "$(stat -c %s "$scratch/out")" -le $((8 * 1024 * 1024 + 65536)) ]
ok $? "serial-flood: serial log within the 16 MiB cap ($size bytes), stdout within 8 MiB"
[ "$hwm" -le $rss_cap ]
ok $? "serial-flood: vkci's peak RSS ${hwm} kB"
clean
fault serial-endless-line 1 '^not ok 2 - test timed out after 3 s \(killed by the guest agent\)' -t 3 "$g/outflood.c" -- noline
size=$(stat -c %s "$run"/*/serial.log)
[ "$size" -le $cap ] && [ "$hwm" -le $rss_cap ]
ok $? "serial-endless-line: serial log $size bytes, vkci's peak RSS ${hwm} kB"
clean
fault serial-random-bytes 1 'not ok [0-9]+ - serial protocol violation: [0-9]+ bad records' "$g/serialjunk.c"
clean

# -- broken kernel binaries ---------------------------------------------------
bad=$scratch/bad
mkdir -p "$bad"
head -c 4000000 "$kernel" >"$bad/truncated" && chmod 755 "$bad/truncated"
cp "$kernel" "$bad/noexec" && chmod 644 "$bad/noexec"
printf 'not a vkernel\n' >"$bad/text" && chmod 755 "$bad/text"
kfault() { # NAME WANT-RC REGEX KERNEL
	out=$(VKCI_RUNDIR=$run "$VKCI" exec -k "$4" -i "$image" -p "$payload" guest/pass 2>&1)
	rc=$?
	check "$1" "$2" "$3"
	clean
}
kfault kernel-missing 2 "^vkci: cannot use kernel '$bad/nope'" "$bad/nope"
kfault kernel-noexec 2 "^vkci: cannot execute kernel '$bad/noexec'" "$bad/noexec"
kfault kernel-truncated 3 '^not ok 1 - vkernel died by signal [0-9]+ \(SIG[A-Z]+\) before the agent started' "$bad/truncated"
kfault kernel-not-a-binary 3 "cannot run '$bad/text': Exec format error" "$bad/text"

# -- broken base images -----------------------------------------------------
: >"$bad/empty.img"
cp --sparse=always "$image" "$bad/garbage.img"
dd if=/dev/urandom of="$bad/garbage.img" bs=1M count=2 conv=notrunc status=none
head -c $(($(stat -c %s "$image") / 2)) "$image" >"$bad/half.img"
ifault() { # NAME WANT-RC REGEX IMAGE
	out=$(VKCI_RUNDIR=$run "$VKCI" exec -k "$kernel" -i "$4" -p "$payload" guest/pass 2>&1)
	rc=$?
	check "$1" "$2" "$3"
	clean
}
ifault image-missing 2 "^vkci: cannot use image '$bad/nope.img'" "$bad/nope.img"
ifault image-empty 3 '^not ok 1 - vkernel crashed before the agent started' "$bad/empty.img"
ifault image-garbage 3 '^not ok 1 - vkernel crashed before the agent started: Kernel panic - not syncing: VFS: Unable to mount root fs' "$bad/garbage.img"
ifault image-truncated 3 '^not ok 1 - vkernel crashed before the agent started: Kernel panic - not syncing: VFS: Unable to mount root fs' "$bad/half.img"

# -- the base image changes ---------------------------------------------------
# every run makes a fresh COW, so a changed image between runs is harmless;
# rewritten in place under a running vkernel it is reported (exit 3); renamed
# over (how images/mkimage.sh replaces it) the vkernel keeps the old file
img=$scratch/base.img
cp --sparse=always "$image" "$img"
fault image-before-change 0 'sector 0 of the root disk did not change' "$g/basewatch.c" -- 1
printf 'changed between runs' | dd of="$img" bs=1 seek=0 conv=notrunc status=none
fault image-changed-between-runs 0 'sector 0 of the root disk did not change' "$g/basewatch.c" -- 1
start "$g/basewatch.c" -- 30
wait_for 30 serial_has '^O # watching'
printf 'changed in the run' | dd of="$img" bs=1 seek=0 conv=notrunc status=none
finish
check image-changed-in-place 3 "^not ok 2 - base image '$img' was modified in place while the test ran"
like "$out" '^ok 1 - sector 0 of the root disk changed under the running guest' \
	"image-changed-in-place: (the guest did see the new bytes)"
clean
start "$g/basewatch.c" -- 2
wait_for 30 serial_has '^O # watching'
cp --sparse=always "$image" "$img.new" && mv -f "$img.new" "$img"
finish
check image-renamed-over 0 '^ok 1 - sector 0 of the root disk did not change'
img=$image

# -- two prove runs at once (two `make check`s on one machine) ------------------
# each its own checkout-like dir and payload, one shared run dir, kernel and
# image: each sees exactly its own results, nothing is left
for r in a b; do
	mkdir -p "$scratch/$r/suites/c" "$scratch/$r/pl/c"
	for i in 1 2 3 4 5 6; do
		: >"$scratch/$r/suites/c/t$i.c"
		cp "$B/t/payload/guest/pass" "$scratch/$r/pl/c/t$i"
	done
	"$top/images/mkpayload.sh" "$scratch/$r/payload.img" "$scratch/$r/pl" >/dev/null
done
cp "$B/t/payload/guest/fail" "$scratch/b/pl/c/t6"
"$top/images/mkpayload.sh" "$scratch/b/payload.img" "$scratch/b/pl" >/dev/null
for r in a b; do
	(cd "$scratch/$r" && VKCI_KERNEL=$kernel VKCI_IMAGE=$image VKCI_PAYLOAD=$scratch/$r/payload.img \
		VKCI_RUNDIR=$run prove -j3 --exec "$VKCI exec" suites/c/*.c >"$scratch/$r.out" 2>&1
	 echo $? >"$scratch/$r.rc") &
done
wait
is "$(cat "$scratch/a.rc")" 0 "concurrent: run a passed (6 passing tests)"
like "$(cat "$scratch/a.out")" 'Files=6, Tests=12' "concurrent: run a counted its own 6 tests"
is "$(cat "$scratch/b.rc")" 1 "concurrent: run b failed (its one failing test)"
like "$(cat "$scratch/b.out")" 'suites/c/t6.c +\(Wstat: 256 \(exited 1\)' \
	"concurrent: run b's failure is its own t6"
is "$(leftover_procs)" 0 "concurrent: no process left"
is "$(ls "$run" | wc -l)" 1 "concurrent: only the failing test's instance dir kept"

done_testing
