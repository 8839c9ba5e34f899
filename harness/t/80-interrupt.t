#!/bin/sh
# SIGINT and SIGTERM to a whole `prove -j8 --exec 'vkci exec'` run while
# eight real vkernels are up (what Ctrl-C in a terminal or a CI job's
# timeout does to the process group): every vkernel is killed and reaped,
# every instance dir removed, prove ends.
. "$(dirname "$0")/lib.sh"
kernel=${VKCI_KERNEL:-}
image=${VKCI_IMAGE:-$B/image/base.img}
[ -n "$kernel" ] && [ -x "$kernel" ] && [ -f "$B/t/payload/guest/hang" ] ||
	skip_all "no vkernel or test payload (make test sets them)"
command -v setsid >/dev/null || skip_all "no setsid"

# eight tests, each a sleeper that would run 60 s
mkdir -p "$scratch/suites/h" "$scratch/pl/h"
for i in 1 2 3 4 5 6 7 8; do
	printf '/* vkci: timeout=60 */\n' >"$scratch/suites/h/hang$i.c"
	cp "$B/t/payload/guest/hang" "$scratch/pl/h/hang$i"
done
"$top/images/mkpayload.sh" "$scratch/payload.img" "$scratch/pl" || skip_all "cannot make payload"
run=$scratch/run
mkdir -p "$run"

vkernels() { grep -l -- "[u]ml_dir=$run" /proc/[0-9]*/cmdline 2>/dev/null | wc -l; }
eight_up() { [ "$(vkernels)" -ge 8 ]; }
gone() { [ "$(vkernels)" -eq 0 ] && ! kill -0 "$pid" 2>/dev/null; }
# each vkci exec removes its instance dir after reaping its vkernel, which
# can finish after prove itself is gone
no_dirs() { [ "$(ls "$run" | wc -l)" -eq 0 ]; }

for sig in INT TERM; do
	# a background job starts with SIGINT ignored; a terminal's foreground
	# job (what Ctrl-C hits) does not: give prove the default back
	(cd "$scratch" && VKCI_KERNEL=$kernel VKCI_IMAGE=$image VKCI_PAYLOAD=$scratch/payload.img \
		VKCI_RUNDIR=$run exec perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die' \
		setsid prove -j8 --exec "$VKCI exec" suites/h/*.c) >/dev/null 2>&1 &
	pid=$!
	wait_for 30 eight_up
	ok $? "SIG$sig: eight vkernels up under prove -j8"
	kill -"$sig" -"$pid"
	wait_for 15 gone
	ok $? "SIG$sig: prove ended and every vkernel is gone"
	wait_for 15 no_dirs
	is "$(ls "$run" | wc -l)" 0 "SIG$sig: every instance dir removed"
	wait "$pid" 2>/dev/null
done
done_testing
