#!/bin/sh
# harness/t/kunit/planted-tree.sh SRC DEST - a test tree: the Linux source
# tree SRC plus vkci's planted KUnit suites (vkci-planted-a.c, -b.c), for
# harness/t/48-kunit.t. SRC is only read: DEST is a copy made of hard links
# (cp -al; a real copy when SRC is on another file system), so it costs
# directory entries, not data; the one file that differs, lib/kunit/Makefile,
# is a new file (the link is removed first, never written through) that
# links vkci-planted-a.o before KUnit's own tests and vkci-planted-b.o after
# kunit-test.o (KUnit runs suites in link order). Builds of DEST are out of
# tree (O=) like every vkci build, so nothing writes into its files. DEST is
# made again only when SRC or the planted files change (a stamp), so that
# `vkci build` of DEST stays a no-op; it is made beside DEST and renamed in.
set -eu
src=$(cd "$1" && pwd -P)
dest=$2
here=$(cd "$(dirname "$0")" && pwd -P)
[ -f "$src/lib/kunit/Makefile" ] && [ -d "$src/arch/um" ] || {
	echo "planted-tree: '$src' is not a Linux source tree with KUnit" >&2; exit 2; }
stamp=$(cat "$0" "$here/vkci-planted-a.c" "$here/vkci-planted-b.c" "$src/lib/kunit/Makefile" |
	cksum | cut -d' ' -f1)
stamp="$src $stamp"
if [ -f "$dest/.vkci-planted" ] && [ "$(cat "$dest/.vkci-planted")" = "$stamp" ]; then
	exit 0
fi
tmp=$dest.tmp.$$
rm -rf "$tmp"
cp -al "$src" "$tmp" 2>/dev/null || { rm -rf "$tmp"; cp -a "$src" "$tmp"; }
rm -f "$tmp/lib/kunit/Makefile" "$tmp/.vkci-planted"
cp "$here/vkci-planted-a.c" "$here/vkci-planted-b.c" "$tmp/lib/kunit/"
awk '{ print }
	/^obj-y[ \t]*\+=[ \t]*hooks\.o/ { print "obj-$(CONFIG_KUNIT) += vkci-planted-a.o" }
	/^obj-\$\(CONFIG_KUNIT_TEST\)[ \t]*\+=[ \t]*kunit-test\.o/ { print "obj-$(CONFIG_KUNIT) += vkci-planted-b.o" }' \
	"$src/lib/kunit/Makefile" > "$tmp/lib/kunit/Makefile"
[ "$(grep -c vkci-planted "$tmp/lib/kunit/Makefile")" = 2 ] || {
	echo "planted-tree: cannot place the planted suites in $src/lib/kunit/Makefile" >&2; rm -rf "$tmp"; exit 3; }
printf '%s\n' "$stamp" > "$tmp/.vkci-planted"
rm -rf "$dest.old"
[ ! -e "$dest" ] || mv "$dest" "$dest.old"
mv "$tmp" "$dest"
rm -rf "$dest.old"
