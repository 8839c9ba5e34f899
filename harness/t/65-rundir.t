#!/bin/sh
# Run-dir hygiene (harness/rundir.c): the keep policy (count, age, size) over
# the dirs kept for a post-mortem, and the sweep of dirs whose vkci is gone
# (SIGKILL) -- a dir whose owner runs is never touched, a reused pid is not
# mistaken for the owner. First on planted dirs (no boot), then for real:
# failing tests under prove keep at most COUNT dirs, a SIGKILLed `vkci exec`
# leaves its dir, and the next run removes it.
. "$(dirname "$0")/lib.sh"

run=$scratch/run
mkdir -p "$run"
boot=$(cat /proc/sys/kernel/random/boot_id)
starttime() { sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f20; }
# plant NAME PID START BOOT: an instance dir claimed by that process
plant() {
	mkdir "$run/$1"
	: >"$run/$1/root.cow"
	printf 'vkci-owner 1\npid %s\nstart %s\nboot %s\n' "$2" "$3" "$4" >"$run/$1/.vkci-owner"
}
# kept NAME AGE-SECONDS KIB: a dir kept that long ago, of that size
kept() {
	mkdir "$run/$1"
	dd if=/dev/urandom of="$run/$1/root.cow" bs=1024 count="$3" 2>/dev/null
	: >"$run/$1/.vkci-kept"
	touch -d "@$(($(date +%s) - $2))" "$run/$1/.vkci-kept"
}
rundir() { VKCI_RUNDIR=$run "$VKCI" rundir "$@" 2>&1; }

# ---- the policy: printed, configurable, bad input named
out=$(VKCI_KEEP_POLICY= rundir)
like "$out" "keep policy: at most 20 dirs, at most 7d old, at most 1G in all \(VKCI_KEEP_POLICY=count=20,age=7d,size=1G\)" \
	"vkci rundir prints the default policy"
out=$(VKCI_KEEP_POLICY="count=3,age=36h,size=inf" rundir)
like "$out" "at most 3 dirs, at most 36h old, any size" "a policy from VKCI_KEEP_POLICY is printed as given"
out=$(VKCI_KEEP_POLICY="count=three" rundir); rc=$?
is "$rc" 2 "a bad policy: exit 2"
like "$out" "^vkci: bad keep policy 'count=three' in VKCI_KEEP_POLICY \(give count=N" "a bad policy: one line naming the variable and the form"
: >"$scratch/img"
out=$(VKCI_KEEP_POLICY="size=1X" "$VKCI" exec -r "$run" -k /bin/true -i "$scratch/img" guest/pass 2>&1); rc=$?
is "$rc" 2 "vkci exec with a bad policy: exit 2 (usage)"
like "$out" "bad keep policy 'size=1X'" "vkci exec names the bad policy"

# ---- planted dirs: owners alive, gone, reused; kept dirs over the policy
sleep 300 &
live=$!
plant live.AAAAAA "$live" "$(starttime $live)" "$boot"
plant reused.BBBBBB "$live" "$(($(starttime $live) + 1))" "$boot"   # same pid, another process
sh -c 'exit 0' & dead=$!; wait $dead
plant dead.CCCCCC "$dead" 12345 "$boot"
plant oldboot.DDDDDD "$live" "$(starttime $live)" "00000000-0000-0000-0000-000000000000"
kept k1.EEEEEE 100 64
kept k2.FFFFFF 200 64
kept k3.GGGGGG 300 64
kept k4.HHHHHH 400 64
kept old.IIIIII $((8 * 86400)) 4
mkdir "$run/legacy.JJJJJJ" && : >"$run/legacy.JJJJJJ/root.cow" && touch -d "@$(($(date +%s) - 500))" "$run/legacy.JJJJJJ"
mkdir "$run/fresh.KKKKKK" && : >"$run/fresh.KKKKKK/root.cow"   # just made, no owner file yet
mkdir "$run/notours" "$run/other.LLLLLL"                         # not instance dirs
: >"$run/somefile.MMMMMM"

out=$(VKCI_KEEP_POLICY="count=3,age=7d" rundir -n)
like "$out" "running: 1, kept: 3 .*would remove 3 of dead vkci processes, 3 over the policy" "dry run: counts what a sweep would remove"
is "$(ls "$run" | wc -l)" 14 "dry run: nothing removed"
out=$(VKCI_KEEP_POLICY="count=3,age=7d" rundir)
like "$out" "running: 1, kept: 3 .*removed 3 of dead vkci processes, 3 over the policy" "sweep: 3 stale, 3 over the policy"
is "$(cd "$run" && ls -A | tr '\n' ' ')" "fresh.KKKKKK k1.EEEEEE k2.FFFFFF k3.GGGGGG live.AAAAAA notours other.LLLLLL somefile.MMMMMM " \
	"kept: the live owner's dir, the 3 newest kept, the just-made dir and everything not ours"
[ -d "$run/live.AAAAAA" ] && kill -0 "$live"
ok $? "a dir whose owner runs is left alone"
out=$(VKCI_KEEP_POLICY="size=150K" rundir)
like "$out" "kept: 2 .* 1 over the policy" "size limit: the newest dirs that fit in 150K stay"
is "$(cd "$run" && ls -d k* | tr '\n' ' ')" "k1.EEEEEE k2.FFFFFF " "size limit: the oldest kept dir went"
touch -d "@$(($(date +%s) - 7200))" "$run/k2.FFFFFF/.vkci-kept"
out=$(VKCI_KEEP_POLICY="age=1h" rundir)
is "$(cd "$run" && ls -d k* | tr '\n' ' ')" "k1.EEEEEE " "age limit: a dir kept 2 h ago goes under age=1h"
kill "$live"; wait "$live" 2>/dev/null
out=$(rundir)
like "$out" "running: 0, .*removed 1 of dead vkci" "the owner gone: its dir is swept by the next run"
rm -rf "$run"/*

# ---- vkci rundir --claim: a console scenario's dir, owned by its caller
rm -rf "$run"/* "$run"/.[!.]* 2>/dev/null
mkdir "$run/vm_console_x.Ab12Cd" "$run/vm_console_y.Ef34Gh"
# a caller that lives on (it claims, then waits) and one that is gone at once
python3 -c 'import subprocess, sys, time; subprocess.run(sys.argv[1:]); time.sleep(60)' \
	"$VKCI" rundir --claim "$run/vm_console_x.Ab12Cd" &
holder=$!
python3 -c 'import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:]).returncode)' \
	"$VKCI" rundir --claim "$run/vm_console_y.Ef34Gh"
is "$?" 0 "rundir --claim: exit 0"
for i in 1 2 3 4 5 6 7 8 9 10; do [ -s "$run/vm_console_x.Ab12Cd/.vkci-owner" ] && break; sleep 0.2; done
like "$(cat "$run/vm_console_x.Ab12Cd/.vkci-owner")" "pid $holder" "rundir --claim: the caller (vkci's parent) owns the dir"
out=$(rundir)
[ -d "$run/vm_console_x.Ab12Cd" ] && [ ! -e "$run/vm_console_y.Ef34Gh" ]
ok $? "sweep: a live caller's dir stays, a dead caller's dir goes"
kill "$holder"; wait "$holder" 2>/dev/null
out=$(rundir)
[ ! -e "$run/vm_console_x.Ab12Cd" ]
ok $? "sweep: once its caller is killed, its dir goes too"
out=$(rundir --claim "$run/none.zzzzzz" 2>&1)
is "$?" 2 "rundir --claim of a missing dir: exit 2"
like "$out" "cannot write '$run/none.zzzzzz/.vkci-owner'" "rundir --claim of a missing dir: named"

# ---- real vkernels
kernel=${VKCI_KERNEL:-}
image=${VKCI_IMAGE:-$B/image/base.img}
payload=$B/t/payload.img
if [ -n "$kernel" ] && [ -x "$kernel" ] && [ -f "$image" ] && [ -f "$payload" ]; then
	exec_env() { VKCI_RUNDIR=$run VKCI_KEEP_POLICY=count=2 VKCI_KERNEL=$kernel VKCI_IMAGE=$image VKCI_PAYLOAD=$payload "$@"; }
	# a night with failures: five failing tests through prove
	mkdir -p "$scratch/guest"
	for i in 1 2 3 4 5; do ln -s "$top/harness/t/guest/fail.c" "$scratch/guest/fail$i.c"; done
	mkdir -p "$scratch/pl/guest"
	for i in 1 2 3 4 5; do cp "$B/t/payload/guest/fail" "$scratch/pl/guest/fail$i"; done
	cp "$B/t/payload/guest/hang" "$B/t/payload/guest/pass" "$scratch/pl/guest/"
	"$top/images/mkpayload.sh" "$scratch/payload.img" "$scratch/pl" >/dev/null 2>&1
	payload=$scratch/payload.img
	(cd "$scratch" && exec_env prove -j2 --exec "$VKCI exec" guest/fail1.c guest/fail2.c guest/fail3.c \
		guest/fail4.c guest/fail5.c) >/dev/null 2>&1
	is "$(ls "$run" | wc -l)" 2 "five failing tests under count=2: two dirs kept"
	is "$(ls "$run"/*/.vkci-kept 2>/dev/null | wc -l)" 2 "both marked kept"

	# a vkci SIGKILLed mid-test leaves its dir; a concurrent run leaves it while its owner lives
	(export VKCI_RUNDIR="$run" VKCI_KEEP_POLICY=count=2 VKCI_KERNEL="$kernel" VKCI_IMAGE="$image" \
		VKCI_PAYLOAD="$payload"; exec "$VKCI" exec -t 120 guest/hang) >/dev/null 2>&1 &
	vpid=$!
	claimed() { grep -l "^pid $vpid\$" "$run"/*/.vkci-owner >/dev/null 2>&1; }
	booted() { grep -l -e "[u]ml_dir=$run" /proc/[0-9]*/cmdline >/dev/null 2>&1; }
	wait_for 30 claimed && wait_for 30 booted
	ok $? "a long test runs, its dir claimed by its vkci (pid $vpid)"
	mine=$(dirname "$(grep -l "^pid $vpid\$" "$run"/*/.vkci-owner)")
	exec_env "$VKCI" exec guest/pass >/dev/null 2>&1
	ok $? "a concurrent test passes"
	[ -d "$mine" ]
	ok $? "its sweep leaves the running test's dir alone"
	kill -KILL "$vpid"; wait "$vpid" 2>/dev/null
	vk_gone() { ! grep -l -e "[u]ml_dir=$mine" /proc/[0-9]*/cmdline >/dev/null 2>&1; }
	wait_for 15 vk_gone
	ok $? "SIGKILLed vkci: its vkernel dies with it"
	[ -d "$mine" ] && [ ! -f "$mine/.vkci-kept" ]
	ok $? "SIGKILLed vkci: its dir is left behind, not marked kept"
	exec_env "$VKCI" exec guest/pass >/dev/null 2>&1
	ok $? "the next run passes"
	[ ! -e "$mine" ]
	ok $? "the next run removed the dead vkci's dir"
	is "$(ls -A "$run" | wc -l)" 2 "after the night and the SIGKILL: only the two kept dirs, nothing stale"
	oldest=$(ls -tr "$run"/*/.vkci-kept | head -1)
	out=$(exec_env "$VKCI" exec guest/fail1 2>&1)
	last=$(printf '%s\n' "$out" | sed -n 's/^# instance kept: //p')
	is "$(ls "$run" | wc -l)" 2 "one more failure: still two dirs"
	[ -n "$last" ] && [ -f "$last/.vkci-kept" ] && [ ! -e "$oldest" ]
	ok $? "the new failure's dir is kept, the oldest went"
else
	echo "# no vkernel or test payload (make test sets VKCI_KERNEL): real-boot part not run"
fi
done_testing
