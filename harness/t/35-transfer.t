#!/bin/sh
# The serial-line file transport end to end with a real vkernel: the agent
# sends the known files of harness/t/xfer-files.sh (on the test payload as
# /payload/xfer, selected by vkci.fetch=) and the host rebuilds them byte for
# byte in --gcov-dir; symlinks and unreadable files are skipped; an
# oversized file is refused without failing the test; a test that forges F
# records writes nothing and fails. Prints the measured throughput.
. "$(dirname "$0")/lib.sh"
kernel=${VKCI_KERNEL:-}
image=${VKCI_IMAGE:-$B/image/base.img}
payload=$B/t/payload.img
[ -n "$kernel" ] && [ -x "$kernel" ] || skip_all "no vkernel (VKCI_KERNEL; make test sets it)"
[ -f "$image" ] && [ -f "$payload" ] || skip_all "image or test payload missing (make test builds them)"
run=$scratch/run
mkdir -p "$run"

# manifest DIR: "md5  ./path" of every regular file with a read bit, sorted
manifest() {
	(cd "$1" && find . -type f -perm /0444 -print0 | sort -z | xargs -0r md5sum)
}
"$top/harness/t/xfer-files.sh" "$scratch/want" || exit 1
want=$(manifest "$scratch/want")
nwant=$(printf '%s\n' "$want" | wc -l)
bwant=$(cd "$scratch/want" && find . -type f -perm /0444 -printf '%s\n' | awk '{ s += $1 } END { print s }')

# fetch NAME [vkci options] TEST: run with vkci.fetch=/payload/xfer into $scratch/NAME
fetch() {
	name=$1
	shift
	out=$(VKCI_RUNDIR=$run "$VKCI" exec -v -k "$kernel" -i "$image" -p "$payload" \
		-a vkci.fetch=/payload/xfer --gcov-dir "$scratch/$name" "$@" 2>&1)
	rc=$?
}

fetch all "$top/harness/t/guest/pass.c"
is "$rc" 0 "transfer: the test passes"
like "$out" "^# file transfer: $nwant files, $bwant bytes received, 0 refused$" "transfer: $nwant files, $bwant bytes reported"
got=$scratch/all/guest/pass
is "$(manifest "$got")" "$want" "transfer: every file byte for byte (binary, empty, nested, 1 MB, odd name)"
is "$(find "$got" ! -type f ! -type d | wc -l)" 0 "transfer: symlinks and special files skipped, nothing else created"
[ ! -e "$got/unreadable" ] && [ ! -e "$got/link-to-bytes" ]
ok $? "transfer: the unreadable file and the symlink were not sent"
is "$(ls "$run" | wc -l)" 0 "transfer: instance dir removed"
ms=$(printf '%s\n' "$out" | sed -n 's/^vkci: file transfer: \([0-9]*\) bytes in \([0-9]*\) ms$/\2/p')
[ -n "$ms" ] && echo "# throughput: $bwant bytes in $ms ms ($(awk "BEGIN { printf \"%.1f\", $bwant / 1048576 / (($ms > 0 ? $ms : 1) / 1000) }") MiB/s)"

# a per-file limit below big.bin: refused and noted, the rest arrives, the test still passes
VKCI_FETCH_LIMITS=512K fetch limited "$top/harness/t/guest/pass.c"
is "$rc" 0 "limits: a refused file does not fail the test"
like "$out" "^# file transfer: refused 'big.bin': larger than the limit of 524288 bytes per file$" "limits: big.bin refused with a diagnostic"
like "$out" "^# file transfer: $((nwant - 1)) files, [0-9]+ bytes received, 1 refused$" "limits: the others arrive"
got=$scratch/limited/guest/pass
[ ! -e "$got/big.bin" ] && [ -f "$got/bytes.bin" ]
ok $? "limits: no partial big.bin left behind"
VKCI_FETCH_LIMITS=:100K:4 fetch total "$top/harness/t/guest/pass.c"
like "$out" "^# file transfer: 4 files, [0-9]+ bytes received, $((nwant - 4)) refused$" "limits: file count and total limits"

# a fetch dir that does not exist: noted, nothing received, the test passes
out=$(VKCI_RUNDIR=$run "$VKCI" exec -k "$kernel" -i "$image" -p "$payload" \
	-a vkci.fetch=/nonexistent "$top/harness/t/guest/pass.c" 2>&1)
is "$?" 0 "missing fetch dir: the test passes"
like "$out" "^# file transfer: agent: cannot open '/nonexistent' \(vkci.fetch=\): No such file or directory$" "missing fetch dir: the agent says so"
like "$out" "^# file transfer: 0 files, 0 bytes received, 0 refused$" "missing fetch dir: nothing received"

# a hostile test forges F records on /dev/ttyS0: refused (no key), nothing written
out=$(VKCI_RUNDIR=$run "$VKCI" exec -k "$kernel" -i "$image" -p "$payload" \
	--gcov-dir "$scratch/forged" "$top/harness/t/guest/forge_xfer.c" 2>&1)
is "$?" 1 "forged file records: the test fails"
like "$out" 'serial protocol violation: 5 bad records \(first: control record with wrong key' "forged file records: refused as forgeries"
is "$(find "$scratch" "$run" -name 'escaped*' | wc -l)" 0 "forged file records: no file written anywhere"
[ ! -e "$run"/*/gcov-serial ] && [ ! -e "$scratch/forged/guest/forge_xfer" ]
ok $? "forged file records: no receiving dir created"
rm -rf "${run:?}"/*

done_testing
