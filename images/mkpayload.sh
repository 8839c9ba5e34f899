#!/bin/sh
# images/mkpayload.sh OUT DIR - pack the test binaries under DIR (SUITE/TEST)
# into one read-only ext4 disk shared by every instance of a run. Sized from
# its contents; written next to OUT and renamed into place.
set -eu
out=$1
dir=$2
command -v mkfs.ext4 >/dev/null || PATH=$PATH:/sbin:/usr/sbin
[ -d "$dir" ] || { echo "mkpayload: no directory '$dir'" >&2; exit 1; }
kb=$(du -sk "$dir" | cut -f1)
kb=$((kb + kb / 4 + 4096))
rm -f "$out.tmp"
mkfs.ext4 -q -F -L vkci-payload -E root_owner=0:0 -O ^has_journal -d "$dir" "$out.tmp" "${kb}K" >/dev/null
mv -f "$out.tmp" "$out"
