#!/bin/sh
# vkci needs no root: as an unprivileged account created for the test, a
# real vkernel boots and passes a test, a failing test is classified, the
# instance dirs are private (0700) and nothing is left behind; and the whole
# `make check` (build of driver, agent, image, payload, then prove) runs as
# that account in its own copy of the working tree.
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
rm -rf "$run"/*

# the whole make check, as the account, in its own copy of the working tree
clone=$scratch/clone
mkdir -p "$clone" "$scratch/home"
(cd "$top" && git ls-files -co --exclude-standard -z 2>/dev/null | xargs -0 tar cf - 2>/dev/null) | tar xf - -C "$clone"
chown -R "$user" "$clone" "$scratch/home"
out=$(cd "$clone" && runuser -u "$user" -- env -i HOME="$scratch/home" PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
	VKCI_RUNDIR="$run" make check KERNEL="$kernel" JOBS=2 \
	TESTS="suites/vm/mmap_anon.c suites/fs/fsync_remount.c suites/net/node_ping.c" 2>&1)
rc=$?
is "$rc" 0 "unprivileged: make check builds everything and passes"
[ "$rc" = 0 ] && [ -z "${VKCI_T_VERBOSE:-}" ] || printf '%s\n' "$out" | tail -15 | sed 's/^/#   /'
like "$out" "vkci: 3 tests: 3 passed" "unprivileged: make check ran the 3 tests (one of them on two nodes)"
is "$(find "$clone" ! -user "$user" | wc -l)" 0 "unprivileged: every file make check wrote belongs to the account"
is "$(grep -l -e "[u]ml_dir=$run" -e "[u]ml_switch.*$run" /proc/[0-9]*/cmdline 2>/dev/null | wc -l)" 0 "unprivileged: nothing left running"

# the package check, as the account: all there, silent; one missing (a
# dpkg-query that hides bc and perl), the one line that says what to run
fake=$scratch/fakebin
mkdir -p "$fake"
printf '%s\n' '#!/bin/sh' '/usr/bin/dpkg-query "$@" | grep -v -e "^bc " -e "^perl "' > "$fake/dpkg-query"
chmod 755 "$fake" "$fake/dpkg-query"
deps() { (cd "$clone" && runuser -u "$user" -- env -i PATH="$1" sh ci/deps.sh check 2>&1); }
out=$(deps /usr/bin:/bin:/usr/sbin:/sbin); rc=$?
is "$rc/$out" "0/" "ci/deps.sh check: every package there, as the account: exit 0, nothing said"
out=$(deps "$fake:/usr/bin:/bin:/usr/sbin:/sbin"); rc=$?
is "$rc/$(printf '%s\n' "$out" | tail -1)" "3/vkci: missing packages: perl bc (run: sudo apt-get install perl bc)" \
	"ci/deps.sh check: two missing, no root: exit 3, names them and the command"
done_testing
