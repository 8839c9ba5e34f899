#!/bin/sh
# images/mkimage.sh OUT AGENT [BUSYBOX] - build the base root image of every
# vkci instance without root: a staging tree (busybox-static and its applet
# links, the guest agent as /sbin/vkci-init, the usual directories) packed into
# an ext4 file system with `mkfs.ext4 -d`. The image is written next to OUT and
# renamed into place, so a run using the old image is never disturbed.
set -eu

out=$1
agent=$2
busybox=${3:-/bin/busybox}
size=${VKCI_IMAGE_SIZE:-64M}

die() { echo "mkimage: $*" >&2; exit 1; }
[ -x "$agent" ] || die "agent '$agent' missing (make builds it)"
[ -x "$busybox" ] || die "busybox '$busybox' missing (apt-get install busybox-static)"
if ldd "$busybox" >/dev/null 2>&1; then
	die "'$busybox' is not statically linked (apt-get install busybox-static)"
fi
command -v mkfs.ext4 >/dev/null || PATH=$PATH:/sbin:/usr/sbin
command -v mkfs.ext4 >/dev/null || die "mkfs.ext4 missing (apt-get install e2fsprogs)"

stage=$(mktemp -d "${out}.stage.XXXXXX")
trap 'rm -rf "$stage" "$out.tmp"' EXIT INT TERM

for d in bin sbin usr/bin usr/sbin etc proc sys dev tmp run root mnt payload scratch var/tmp; do
	mkdir -p "$stage/$d"
done
chmod 1777 "$stage/tmp" "$stage/var/tmp"
cp "$busybox" "$stage/bin/busybox"
cp "$agent" "$stage/sbin/vkci-init"
# one link per applet, where busybox --list says it lives
"$busybox" --list-full | while read -r applet; do
	case $applet in
	bin/busybox|"") continue ;;
	esac
	[ -e "$stage/$applet" ] || ln -s /bin/busybox "$stage/$applet"
done
# host tools the tests use, with the shared libraries they load (e2fsprogs
# for scratch disks). Copied at their host paths; the loader comes along.
for tool in ${VKCI_IMAGE_TOOLS:-/sbin/mke2fs /sbin/e2fsck /sbin/tune2fs}; do
	[ -x "$tool" ] || die "'$tool' missing (apt-get install e2fsprogs)"
	for f in "$tool" $(ldd "$tool" | sed -n 's/.*=> \(\/[^ ]*\).*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p'); do
		mkdir -p "$stage$(dirname "$f")"
		rm -f "$stage$f"   # may be a busybox applet link: never write through it
		cp -L "$f" "$stage$f"
	done
done
ln -sf mke2fs "$stage/sbin/mkfs.ext4"
ln -sf mke2fs "$stage/sbin/mkfs.ext2"
[ -f /etc/mke2fs.conf ] && cp /etc/mke2fs.conf "$stage/etc/"

printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$stage/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$stage/etc/group"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$stage/etc/hosts"
echo vkci >"$stage/etc/hostname"

rm -f "$out.tmp"
mkfs.ext4 -q -F -L vkci-root -E root_owner=0:0 -d "$stage" "$out.tmp" "$size" >/dev/null
mv -f "$out.tmp" "$out"
echo "mkimage: $out ($size)"
