#!/bin/sh
# ci/kernel-source.sh - the default kernel source: Debian's linux-source-6.12,
# unpacked once into the vkci cache (never into the clone), path on stdout.
#   VKCI_CACHE   cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/vkci)
# The directory is named after the package version, so a Debian update of the
# package unpacks (and later builds) afresh.
set -eu
pkg=linux-source-6.12
tarball=/usr/src/$pkg.tar.xz
die() { echo "vkci: $*" >&2; exit "${2:-3}"; }

cache=${VKCI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vkci}
[ -f "$tarball" ] || die "default kernel source '$tarball' missing (apt-get install $pkg, or make deps)"
ver=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null | tr -c 'A-Za-z0-9.+\n' '_') || ver=unknown
dest=$cache/src/$pkg-$ver
if [ -f "$dest/.vkci-unpacked" ]; then
	echo "$dest"
	exit 0
fi
mkdir -p "$cache/src"
# unpack next to the destination and rename: a cut-off unpack is never used
tmp=$(mktemp -d "$cache/src/.unpack.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
echo "vkci: unpacking $tarball into $dest (once)" >&2
tar -C "$tmp" -xJf "$tarball" || die "cannot unpack '$tarball' into '$cache/src' (disk full? set VKCI_CACHE=<dir>)"
[ -d "$tmp/$pkg" ] || die "'$tarball' does not hold $pkg/"
touch "$tmp/$pkg/.vkci-unpacked"
rm -rf "$dest"
mv "$tmp/$pkg" "$dest"
echo "$dest"
