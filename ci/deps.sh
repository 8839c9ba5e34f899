#!/bin/sh
# ci/deps.sh [check|qemu|coverage|test|kselftest|buildbot|all] - install the
# Debian packages vkci needs, only those that are missing. qemu: what
# BACKEND=qemu adds (QEMU, qemu-img, and libelf for an x86 kernel build;
# make deps BACKEND=qemu). The only step that needs root (or sudo).
# buildbot: Buildbot's master and worker and Chromium (make buildbot-local and
# the tests of the nightly page and the local fleet); not part of "all".
set -eu

base="build-essential busybox-static e2fsprogs perl libjansson-dev"
check="user-mode-linux uml-utilities linux-source-6.12 bc flex bison xz-utils python3 python3-pexpect libtap-harness-archive-perl libtap-formatter-junit-perl"
extra="lcov clang libclang-rt-14-dev"
qemu="qemu-system-x86 qemu-utils libelf-dev"
# kselftest (SUITES=kselftest...): the libraries the targets link statically,
# rsync (their install rules), bash and coreutils' timeout for the guest
kselftest="libcap-dev libcap-ng-dev libpopt-dev libnuma-dev libfuse-dev rsync bash-static coreutils"

case "${1:-all}" in
check) want="$base $check" ;;
qemu) want="$base $check $qemu" ;;
coverage) want="$base $check lcov" ;;
test) want="$base $check $qemu lcov clang libclang-rt-14-dev $kselftest" ;;
kselftest) want="$base $check $kselftest" ;;
buildbot) want="buildbot buildbot-worker chromium" ;;
*) want="$base $check $qemu $extra $kselftest" ;;
esac

# one dpkg-query for all (one a package took ~15 ms: a no-op make check paid 0.2 s)
installed=$(dpkg-query -W -f='${Package} ${Status}\n' $want 2>/dev/null |
	sed -n 's/^\([^ ]*\) install ok installed$/ \1/p' | tr -d '\n') || true
missing=""
for p in $want; do
	case "$installed " in *" $p "*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0

echo "vkci: installing missing packages:$missing" >&2
if [ "$(id -u)" = 0 ]; then
	SUDO=
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
	SUDO=sudo
else
	echo "vkci: missing packages:$missing (run: sudo apt-get install$missing)" >&2
	exit 3
fi
export DEBIAN_FRONTEND=noninteractive
# an old package list cannot find linux-source-6.12: refresh it once
$SUDO apt-get update -qq >/dev/null || true
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
	{ echo "vkci: apt-get install$missing failed" >&2; exit 3; }
