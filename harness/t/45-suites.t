#!/bin/sh
# The suites keep their promises: each has a README and a kernel config
# fragment, every test declares its metadata (and the kernel options it
# names are in its suite's fragment, so the build verifies them), the
# suites are as large as promised, and every test's assertions bite: with
# --plant-fault (its first assertion inverted) every test, booted for real,
# fails.
. "$(dirname "$0")/lib.sh"
cd "$top" || exit 1

for s in vm fs net; do
	[ -f "suites/$s/README.md" ] && [ -f "suites/$s/kernel.config" ]
	ok $? "suites/$s: README.md and kernel.config"
done
is "$(ls suites/vm/*.c | wc -l | awk '{print ($1 >= 15)}')" 1 "suites/vm: at least 15 tests"
is "$(ls suites/fs/*.c | wc -l | awk '{print ($1 >= 15)}')" 1 "suites/fs: at least 15 tests"
is "$(ls suites/net/*.c | wc -l | awk '{print ($1 >= 12)}')" 1 "suites/net: at least 12 tests"
is "$(grep -l 'nodes=[2-9]' suites/net/*.c | wc -l | awk '{print ($1 >= 4)}')" 1 "suites/net: at least 4 multi-node tests"

bad=""
for t in suites/*/*.c; do
	head -c 4096 "$t" | grep -q '/\* vkci: .*timeout=[0-9]' || bad="$bad $t"
done
is "$bad" "" "every test declares its timeout in a vkci metadata line"
bad=""
for t in $(grep -l '/\* vkci: .*config=' suites/*/*.c); do
	s=$(dirname "$t")
	for o in $(sed -n 's|.*/\* vkci: .*config=\([A-Z0-9_,]*\).*|\1|p' "$t" | tr ',' ' '); do
		o=${o#CONFIG_}
		grep -qx "CONFIG_$o=[ym]" "$s/kernel.config" harness/kernel.config || bad="$bad $t:$o"
	done
done
is "$bad" "" "every kernel option a test declares is in its suite's fragment"
# a skip is justified by what the kernel is known to lack (its .config: the
# config= metadata, vkci skips without booting; its version), never by a
# feature failing at run time: every skip in a test sits right under a
# vt_kernel_older() check (suites/*/README.md, "When a test skips")
bad=$(awk 'FNR == 1 {prev = ""}
	/(^|[^_a-z])(skip|plan_skip_all)\(/ && prev !~ /vt_kernel_older\(/ {print FILENAME ":" FNR}
	/[^ \t]/ {prev = $0}' suites/*/*.c | tr '\n' ' ')
is "$bad" "" "every skip in a suite test is justified by the kernel's version"

kernel=${VKCI_KERNEL:-}
payload=$B/payload.img
image=${VKCI_IMAGE:-$B/image/base.img}
if [ -z "$kernel" ] || [ ! -x "$kernel" ] || [ ! -f "$payload" ] || [ ! -f "$image" ]; then
	ok 0 "# SKIP no kernel, image or suite payload (make test builds them)"
	done_testing
fi
# planted faults: every test of every suite must fail, each in its own vkernel
VKCI_KERNEL=$kernel VKCI_IMAGE=$image VKCI_PAYLOAD=$payload VKCI_RUNDIR=$scratch/run \
	VKCI_LOG_DIR=$scratch/logs VKCI="$VKCI" \
	xargs -P "${JOBS:-4}" -n 1 sh -c 'o=$("$VKCI" exec "$1" --plant-fault 2>/dev/null); r=$?
		case "$o" in "1..0 # SKIP"*) r=skip ;; esac; echo "$1 $r"' sh \
	> "$scratch/planted" <<EOT
$(ls suites/*/*.c)
EOT
is "$(wc -l < "$scratch/planted")" "$(ls suites/*/*.c | wc -l)" "planted fault: every test ran"
survivors=$(awk '$2 != 1 && $2 != "skip" {print $1 "(" $2 ")"}' "$scratch/planted" | sort | tr '\n' ' ')
is "$survivors" "" "planted fault: every test that ran failed (exit 1)"
awk '$2 == "skip" {print "# skipped as a whole (kernel lacks a feature): " $1}' "$scratch/planted"
done_testing
