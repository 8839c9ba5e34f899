#!/bin/sh
# harness/t/xfer-files.sh DIR - the known files of the serial file transfer
# test (harness/t/35-transfer.t), made the same way every time: on the test
# payload (make test-payload puts them in /payload/xfer) and as the test's
# expectation. Files the agent must send byte for byte, and a symlink and an
# unreadable file it must skip.
set -eu
dir=$1
rm -rf "$dir"
mkdir -p "$dir/nested/deeper/deepest" "$dir/sub"
python3 - "$dir" <<'PY'
import os, sys
d = sys.argv[1]
def put(name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
put("bytes.bin", bytes(range(256)) * 3 + bytes(range(255, -1, -1)))
put("empty", b"")
put("one", b"\n")
put("two", b"ab")
put("nested/a.gcda", b"gcda\x00\x01\x02" * 100)
put("nested/deeper/b.txt", b"line one\nline two\r\nno newline")
put("nested/deeper/deepest/c", bytes([0x0a, 0x00, 0x0d, 0xff]) * 1000)
put("sub/exactly-3072", bytes((i * 7) & 0xff for i in range(3072)))
put("odd name %+\u00fc.txt", "spaces, percent and non-ASCII in the name\n".encode())
# ~1 MB of xorshift noise, not a multiple of the 3072-byte chunk
x, out = 2463534242, bytearray()
for _ in range((1 << 20) // 4 + 1):
    x ^= (x << 13) & 0xffffffff; x ^= x >> 17; x ^= (x << 5) & 0xffffffff
    out += x.to_bytes(4, "little")
put("big.bin", bytes(out[:(1 << 20) + 5]))
PY
ln -s bytes.bin "$dir/link-to-bytes"       # skipped: a symlink
ln -s /etc "$dir/nested/link-to-etc"       # skipped: never followed
printf 'secret\n' >"$dir/unreadable"       # skipped: no read permission bit
chmod 0200 "$dir/unreadable"
