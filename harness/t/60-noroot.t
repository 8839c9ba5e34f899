#!/bin/sh
# vkci needs no root: as an unprivileged account created for the test, a
# real vkernel boots and passes a test, a failing test is classified, the
# instance dirs are private (0700) and nothing is left behind.
. "$(dirname "$0")/lib.sh"
kernel=${VKCI_KERNEL:-}
image=${VKCI_IMAGE:-$B/image/base.img}
payload=$B/t/payload.img
user=vkci-noroot
[ "$(id -u)" = 0 ] || skip_all "needs root to create the unprivileged account (runs as it)"
command -v runuser >/dev/null || skip_all "no runuser"
[ -n "$kernel" ] && [ -x "$kernel" ] && [ -f "$payload" ] || skip_all "no vkernel or test payload"
id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user" ||
	skip_all "cannot create user $user"
uid=$(id -u "$user")
run=$scratch/run
mkdir -p "$run" && chown "$user" "$run" && chmod 700 "$run"
chmod 755 "$scratch"
# the clone and the kernel cache may sit under root's 0700 home: give the
# account its own copies of what it runs
cp "$VKCI" "$kernel" "$image" "$payload" "$scratch"/
VKCI=$scratch/$(basename "$VKCI") kernel=$scratch/$(basename "$kernel")
image=$scratch/$(basename "$image") payload=$scratch/$(basename "$payload")
chmod 755 "$VKCI" "$kernel" && chmod 644 "$image" "$payload"

as_user() {
	runuser -u "$user" -- env VKCI_RUNDIR="$run" "$VKCI" exec -k "$kernel" -i "$image" -p "$payload" "$@"
}
out=$(as_user guest/pass 2>&1)
is "$?" 0 "unprivileged: a real vkernel boots and the test passes"
like "$out" '^ok 2 - argc=1' "unprivileged: TAP relayed"
out=$(as_user -K guest/fail 2>&1)
is "$?" 1 "unprivileged: a failing test fails"
d=$(ls -d "$run"/* | head -1)
is "$(stat -c '%a %u' "$d")" "700 $uid" "unprivileged: instance dir is private and owned by the user"
rm -rf "$run"/*
# the default run dir is per user and private
out=$(runuser -u "$user" -- env -u VKCI_RUNDIR TMPDIR="$run" "$VKCI" exec -k "$kernel" -i "$image" -p "$payload" guest/pass 2>&1)
is "$?" 0 "unprivileged: default run dir works"
is "$(stat -c '%a %u' "$run/vkci-$uid")" "700 $uid" "unprivileged: default run dir $run/vkci-$uid is 0700"
is "$(grep -l -e "[u]ml_dir=$run" /proc/[0-9]*/cmdline 2>/dev/null | wc -l)" 0 "unprivileged: no vkernel left"
done_testing
