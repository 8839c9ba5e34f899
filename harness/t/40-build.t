#!/bin/sh
# vkci build: bad trees, fragments and toolchains each get their own one-line
# error and exit status; a requested option that cannot be set is named; the
# cached default kernel is reused without running kbuild; touching one source
# file rebuilds incrementally and the result boots; the source tree is never
# written; concurrent builds of one KEY serialise on the lock.
. "$(dirname "$0")/lib.sh"
image=${VKCI_IMAGE:-$B/image/base.img}
payload=$B/t/payload.img
frags=${VKCI_KFRAGS:-$top/harness/kernel.config}
src=$("$top/ci/kernel-source.sh" 2>/dev/null) || skip_all "default kernel source unavailable (make deps)"
fargs=""
for f in $frags; do fargs="$fargs -c $top/$f"; done
case "$frags" in /*) fargs=""; for f in $frags; do fargs="$fargs -c $f"; done ;; esac
cache=$scratch/cache

# build ARGS...: run vkci build in the scratch cache; sets out, rc
build() {
	out=$(VKCI_CACHE=$cache "$VKCI" build "$@" 2>&1)
	rc=$?
}

# ---- bad input: each its own status, one line naming the problem and the fix
build "$scratch/nope"
is "$rc" 2 "missing tree: exit 2"
like "$out" "^vkci: kernel source '.*/nope' is not a directory \(set KERNEL=" "missing tree: named, with the fix"
build "$scratch"
is "$rc" 2 "not a Linux tree: exit 2"
like "$out" "is not a Linux source tree" "not a Linux tree: said so"

fake=$scratch/fake
mkdir -p "$fake/scripts/kconfig" "$fake/arch/x86"
: > "$fake/scripts/kconfig/merge_config.sh"
printf 'VERSION = 6\nPATCHLEVEL = 99\n' > "$fake/Makefile"
build "$fake"
is "$rc" 2 "tree without arch/um: exit 2"
like "$out" "has no arch/um" "tree without arch/um: said so"
mkdir -p "$fake/arch/um" && : > "$fake/arch/um/Kconfig" && : > "$fake/.config"
build "$fake"
is "$rc" 4 "tree with an in-tree build: exit 4"
like "$out" "is not clean \(it has .config.*run 'make -C .* ARCH=um mrproper'" "unclean tree: says how to clean it"
is "$(echo "$out" | wc -l)" 1 "unclean tree: one line"

printf 'CONFIG_EXT4_FS=y\nCONFIG_TMPFS=yes please\n' > "$scratch/typo.config"
build -c "$scratch/typo.config" "$src"
is "$rc" 5 "malformed fragment line: exit 5"
like "$out" "fragment '.*typo.config' line 2: 'CONFIG_TMPFS=yes please' is not" "malformed fragment: file, line and text"
printf '# comment\nCONFIG_EXT4_FS=y\nCONFIG_EXT4_FS_XATRR=y\n' > "$scratch/unknown.config"
build -c "$scratch/unknown.config" "$src"
is "$rc" 5 "unknown symbol: exit 5"
like "$out" "line 3: unknown symbol CONFIG_EXT4_FS_XATRR" "unknown symbol: named"
is "$(ls "$cache/kernels" 2>/dev/null | wc -l)" 0 "unknown symbol: caught before anything is written"
build -c "$scratch/missing.config" "$src"
is "$rc" 5 "missing fragment file: exit 5"
build --variant coverage "$src"
is "$rc" 5 "coverage variant without CONFIG_GCOV=y: exit 5"
like "$out" "coverage variant needs CONFIG_GCOV=y .*harness/coverage.uml.config" "coverage variant: names the fragment to add"
out=$(CC=no-such-cc VKCI_CACHE=$cache "$VKCI" build "$src" 2>&1); rc=$?
is "$rc" 6 "missing compiler: exit 6"
like "$out" "compiler 'no-such-cc' not found \(apt-get install gcc, or set CC=" "missing compiler: named, with the fix"
mkdir -p "$scratch/bin" && ln -s "$(command -v gcc)" "$scratch/bin/gcc"
out=$(PATH=$scratch/bin VKCI_CACHE=$cache "$VKCI" build "$src" 2>&1); rc=$?
is "$rc" 6 "missing make: exit 6"
like "$out" "'make' not found.*apt-get install make" "missing make: named"
out=$(VKCI_BUILD_MIN_FREE_MB=999999999 VKCI_CACHE=$cache "$VKCI" build "$src" 2>&1); rc=$?
is "$rc" 7 "not enough disk space: exit 7"
like "$out" "MiB free in '.*', a kernel build needs about 999999999 MiB" "disk space: how much is free and needed"

# an option whose dependencies UML cannot meet: configured, verified, refused
printf 'CONFIG_EXT4_FS=y\nCONFIG_DRM_I915=y\n' > "$scratch/i915.config"
build -c "$scratch/i915.config" "$src"
is "$rc" 5 "option that cannot be set: exit 5"
like "$out" "CONFIG_DRM_I915=y \(.*i915.config line 2\) did not take.*depends on DRM && X86" \
	"option that cannot be set: named, with its dependencies"
# (the dir the configuration ran in, as vkci printed it: the cache holds others)
cdir=$(printf '%s\n' "$out" | sed -n 's/^vkci: configuring .* in \(.*\)$/\1/p' | head -1)
[ -n "$cdir" ] && [ -f "$cdir/build.log" ]
ok $? "failed configuration: the log is kept"

# ---- the cached default kernel (make test builds it before running us)
real=$("$VKCI" build $fargs "$src" 2>/dev/null)
rc=$?
is "$rc" 0 "default kernel: built or cached"
[ -x "$real" ] || { done_testing; }
dir=$(dirname "$real")
log=$dir/build.log
before=$(wc -c < "$log")
mtime=$(stat -c %Y "$real")
t0=$(date +%s%N)
again=$("$VKCI" build $fargs "$src" 2>&1)
t1=$(date +%s%N)
is "$again" "$real" "no-op build: same binary, nothing printed but its path"
is "$(wc -c < "$log")" "$before" "no-op build: kbuild not run (build log untouched)"
is "$(stat -c %Y "$real")" "$mtime" "no-op build: binary untouched"
echo "# no-op decision took $(( (t1 - t0) / 1000000 )) ms"

# ---- one file touched: an incremental build in a copy of the cached dir
# (same KEY, private cache, so the shared kernel other tests boot is left alone)
name=$(basename "$dir")
mkdir -p "$cache/kernels"
rm -rf "$cache/kernels"/*
cp -a "$dir" "$cache/kernels/$name"
file=fs/ext4/fsmap.c
saved=$(stat -c %y "$src/$file")
tree_sum() { (cd "$src" && find . -path ./.git -prune -o -printf '%p %s %T@ %m\n' | LC_ALL=C sort | sha256sum); }
content_sum() { (cd "$src" && find . -path ./.git -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 cat | sha256sum); }
csum_before=$(content_sum)
touch "$src/$file"
tsum_before=$(tree_sum)
VKCI_CACHE=$cache "$VKCI" build $fargs "$src" > "$scratch/b1" 2> "$scratch/b1.err" &
p1=$!
VKCI_CACHE=$cache "$VKCI" build $fargs "$src" > "$scratch/b2" 2> "$scratch/b2.err" &
p2=$!
wait $p1; rc1=$?
wait $p2; rc2=$?
is "$rc1/$rc2" "0/0" "incremental build: both concurrent builds succeeded"
is "$(cat "$scratch/b1")" "$cache/kernels/$name/linux" "incremental build: the cached dir's binary"
is "$(cat "$scratch/b2")" "$(cat "$scratch/b1")" "concurrent build: same binary"
like "$(cat "$scratch/b1.err" "$scratch/b2.err")" "waiting for another build of this kernel" "concurrent build: the second waited on the lock"
newlog=$cache/kernels/$name/build.log
is "$(tail -c +$((before + 1)) "$newlog" | grep -c -- '-j[0-9]* linux$')" 1 "concurrent build: kbuild ran once"
like "$(tail -c +$((before + 1)) "$newlog")" "CC +fs/ext4/fsmap.o" "incremental build: the touched file was recompiled"
# (kbuild stamps every link with a fresh init/version-timestamp.o)
is "$(tail -c +$((before + 1)) "$newlog" | grep '^  CC ' | grep -vc 'init/version')" 1 "incremental build: nothing else was compiled"
tail -c +$((before + 1)) "$newlog" | grep '^  CC ' | sed 's/^/# /' 
is "$(tree_sum)" "$tsum_before" "source tree: no file added, removed or modified by the build"
touch -d "$saved" "$src/$file"
is "$(content_sum)" "$csum_before" "source tree: contents unchanged"
if [ -f "$image" ] && [ -f "$payload" ]; then
	out=$(VKCI_RUNDIR=$scratch/run "$VKCI" exec -k "$cache/kernels/$name/linux" -i "$image" -p "$payload" guest/pass 2>&1)
	is "$?" 0 "the rebuilt kernel boots and runs a test"
else
	ok 0 "# SKIP no image/payload to boot"
fi
done_testing
