# vkci - kernel CI with one throwaway vkernel per test.
#
#   make check [KERNEL=<source tree or vkernel binary>] [KCONFIG=a,b] [SUITES="vm fs"]
#              [TESTS=...] [JOBS=n] [SHARD=i/n] [PLANT_FAULT=1] [RETRIES=n]
#              [QUARANTINE=file]
#   make merge-reports DIRS="out-1 out-2 ..." [OUT=out]   one report from shards
#   make coverage [KERNEL=<source tree>] [SUITES=...] [PER_TEST=1] [DIFF=<rev-range>]
#                                  the suites on the coverage kernel: out/coverage/
#   make bisect KERNEL=<git tree> GOOD=<rev> BAD=<rev> TESTS=... [RUNS=n] [CONFIDENCE=0.99]
#                                  the first commit where the tests fail: out/bisect/
#   make kernel                    build (or find) the vkernel, print its path
#   make test                      the harness's own tests
#   make check-full                the long end-to-end tests (real bisection, nightly, DIFF=)
#   make image payload harness     the pieces on their own
#
# Exit status of make check: prove's (0 all passed, non-zero otherwise).

SHELL := /bin/sh
.DEFAULT_GOAL := all

CC       ?= cc
CFLAGS   ?= -O2 -g
HCFLAGS  := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror $(CFLAGS)
TCFLAGS  := -std=gnu11 -Wall -Wextra -Werror -O2 -static

# SANITIZE=1: the driver and the unit tests with ASan+UBSan, in their own dir
# (make test runs them with exitcode=86: a report can never pass for a test failure)
ifeq ($(SANITIZE),1)
B        := build/asan
HCFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
VKCI     := $(B)/vkci
else
B        := build
VKCI     := harness/vkci
endif
JOBS     ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) * 2 )))
SUITES   ?= vm fs net
BUSYBOX  ?= /bin/busybox
OUT      ?= out
# RETRIES=n: a failed test runs again (fresh instance) up to n times; a later
# pass is reported as flaky. QUARANTINE: the known-flaky list (a listed test's
# failure is reported as TAP TODO, not counted); empty to count everything.
RETRIES    ?= 0
QUARANTINE ?= $(wildcard ci/quarantine.txt)

# The vkernel: a Linux source tree (built and cached by `vkci build`) or a
# ready vkernel binary. Empty: Debian's linux-source-6.12, unpacked into the
# cache by ci/kernel-source.sh and built once.
KERNEL   ?=
# kernel config fragments: the harness's, every suite's, and the user's
comma    := ,
KCONFIG  ?=
KFRAGS   := harness/kernel.config $(wildcard suites/*/kernel.config) $(subst $(comma), ,$(KCONFIG))

HARNESS_SRC := $(filter-out harness/vkci.c,$(wildcard harness/*.c))
HARNESS_HDR := $(wildcard harness/*.h)
HARNESS_OBJ := $(patsubst harness/%.c,$(B)/obj/%.o,$(HARNESS_SRC))
AGENT       := build/guest/vkci-init
IMAGE       := build/image/base.img
PAYLOAD     := $(B)/payload.img

# C tests, and console scenarios (*.py: vkci exec hands them to python3)
SUITE_SRC   := $(foreach s,$(SUITES),$(wildcard suites/$(s)/*.c suites/$(s)/*.py))
ALL_SUITE_SRC := $(wildcard suites/*/*.c)
TESTS       ?= $(SUITE_SRC)
# only what this run tests goes on its payload: a broken test elsewhere does not stop it
TEST_BINS   := $(patsubst suites/%.c,$(B)/payload/%,$(filter suites/%.c,$(TESTS)))

.PHONY: all harness agent image payload suites kernel coverage coverage-kernel print-kfrags check merge-reports bisect check-full test test-payload deps fuzz fuzzers clean distclean

# Shell fragment: sets $$k to the vkernel binary, building it when KERNEL is a
# source tree (or empty: the default source). Exit statuses are vkci build's.
RESOLVE_KERNEL = k="$(KERNEL)"; \
	if test -z "$$k"; then k=$$(ci/kernel-source.sh) || exit $$?; fi; \
	if test -d "$$k"; then k=$$($(VKCI) build $(addprefix -c ,$(KFRAGS)) "$$k") || exit $$?; \
	elif ! test -f "$$k" || ! test -x "$$k"; then \
		echo "vkci: kernel '$$k' is neither a Linux source tree nor an executable vkernel (set KERNEL=...)" >&2; exit 2; \
	fi

all: harness image payload

deps:
	@ci/deps.sh check
test-deps:
	@ci/deps.sh test

# ---- the C driver --------------------------------------------------------
harness: $(VKCI)
$(B)/obj/%.o: harness/%.c $(HARNESS_HDR) | $(B)/obj
	$(CC) $(HCFLAGS) -c -o $@ $<
$(B)/vkci: harness/vkci.c $(HARNESS_OBJ) $(HARNESS_HDR)
	$(CC) $(HCFLAGS) -o $@ harness/vkci.c $(HARNESS_OBJ)
harness/vkci: harness/vkci.c $(HARNESS_OBJ) $(HARNESS_HDR)
	$(CC) $(HCFLAGS) -o $@ harness/vkci.c $(HARNESS_OBJ)
$(B)/obj build/guest build/image:
	mkdir -p $@

# ---- guest agent and base image -----------------------------------------
agent: $(AGENT)
$(AGENT): harness/guest/agent.c | build/guest
	$(CC) $(TCFLAGS) -o $@ $<
image: $(IMAGE)
$(IMAGE): images/mkimage.sh $(AGENT) $(BUSYBOX) | build/image
	images/mkimage.sh $@ $(AGENT) $(BUSYBOX)

# ---- suites and payload ---------------------------------------------------
suites: $(TEST_BINS)
$(B)/payload/%: suites/%.c $(wildcard suites/lib/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(TCFLAGS) -Isuites/lib -o $@ $<
payload: $(PAYLOAD)
$(PAYLOAD): images/mkpayload.sh $(TEST_BINS)
	@mkdir -p $(B)/payload
	images/mkpayload.sh $@ $(B)/payload

# ---- running ----------------------------------------------------------------
# prove is the scheduler: -j, slowest first, the usual summary. Each test file
# is run as `vkci exec suites/SUITE/TEST.c`, which boots one fresh vkernel.
print-kfrags:
	@echo $(KFRAGS)

# the coverage variant of the kernel: its own cache KEY (make coverage)
RESOLVE_COVERAGE_KERNEL = k="$(KERNEL)"; \
	if test -z "$$k"; then k=$$(ci/kernel-source.sh) || exit $$?; fi; \
	if test -d "$$k"; then k=$$($(VKCI) build --variant coverage $(addprefix -c ,$(KFRAGS) harness/coverage.config) "$$k") || exit $$?; \
	else echo "vkci: make coverage needs KERNEL=<Linux source tree> (or none: the default source)" >&2; exit 2; fi
coverage-kernel: deps harness
	@$(RESOLVE_COVERAGE_KERNEL); echo "$$k"

# `make kernel` prints the vkernel binary a run would use (building it if needed)
kernel: deps harness
	@$(RESOLVE_KERNEL); echo "$$k"

# Shell fragment: run the selected tests on kernel $$k through prove (the
# scheduler), reports afterwards; leaves prove's status in $$status.
RUN_TESTS = rm -rf $(OUT)/logs $(OUT)/tap $(OUT)/summary.json $(OUT)/junit.xml $(OUT)/archive.tar.gz; \
	mkdir -p $(OUT)/tap; \
	archive=""; perl -MTAP::Harness::Archive -e1 2>/dev/null && archive="--archive $(OUT)/tap"; \
	echo "vkci: kernel $$k" >&2; \
	status=0; \
	tests=$$(python3 ci/schedule.py --state $(OUT)/prove-state $(if $(SHARD),--shard $(SHARD)) $(TESTS)) || exit 2; \
	VKCI_KERNEL="$$k" VKCI_IMAGE="$(abspath $(IMAGE))" \
	VKCI_PAYLOAD="$(abspath $(PAYLOAD))" VKCI_LOG_DIR="$(abspath $(OUT)/logs)" \
	VKCI_RETRIES="$(RETRIES)" VKCI_QUARANTINE="$(if $(QUARANTINE),$(abspath $(QUARANTINE)))" \
	PERL_TEST_HARNESS_DUMP_TAP="$(abspath $(OUT)/tap)" \
	prove -j$(JOBS) --state=save --statefile=$(OUT)/prove-state --timer $$archive \
		--exec "$(abspath $(VKCI)) exec" $(PROVE_FLAGS) $$tests $(if $(filter 1,$(PLANT_FAULT)),:: --plant-fault) \
		|| status=$$?; \
	python3 ci/report.py $(OUT) || true

check: deps all
	@test -n "$(TESTS)" || { echo "vkci: no tests match SUITES='$(SUITES)' TESTS='$(TESTS)'" >&2; exit 2; }
	@$(RESOLVE_KERNEL); \
	$(RUN_TESTS); \
	exit $$status

# DIFF=<rev-range> (KERNEL a git tree): afterwards, the lines the range adds or
# changes, executed or not: out/coverage/patch.{txt,html,json} (coverage.py patch).
# make coverage: the suites on the coverage kernel, each instance's .gcda kept
# (raw/SUITE/TEST in out/coverage/raw.tar), one do-nothing boot apart (raw-boot);
# `coverage.py watch` captures the boot and merges finished tests' trees while
# prove runs, then `coverage.py report` merges the rest, captures each suite
# once and writes the tracefiles and the HTML report. While the tests run, the
# instance dirs (where the vkernels write their .gcda) and the trees live on
# /dev/shm when there is one: ~900 files per test on a busy disk cost up to
# ~1 s a test here, on tmpfs ~0.1 s. At the end they go to out/ as one tar
# (0.15 s; as ~50,000 files, tens of seconds here).
coverage: deps all $(B)/t/payload.img
	@ci/deps.sh coverage
	@test -n "$(TESTS)" || { echo "vkci: no tests match SUITES='$(SUITES)' TESTS='$(TESTS)'" >&2; exit 2; }
	@$(if $(DIFF),python3 ci/coverage.py patch --check "$(DIFF)" --repo "$(KERNEL)")
	@$(RESOLVE_COVERAGE_KERNEL); \
	rm -rf $(OUT)/coverage; mkdir -p $(OUT)/coverage; \
	st=$$(mktemp -d /dev/shm/vkci-cov.XXXXXX 2>/dev/null || mktemp -d) || exit 3; \
	trap 'rm -rf "$$st"' EXIT; trap 'exit 130' INT TERM; mkdir "$$st/state"; \
	case "$$st" in /dev/shm/*) test -n "$$VKCI_RUNDIR$$XDG_RUNTIME_DIR" || export VKCI_RUNDIR=/dev/shm/vkci-$$(id -u);; esac; \
	$(VKCI) exec -k "$$k" -i $(IMAGE) -p $(T_PAYLOAD) --gcov-dir "$$st/raw-boot" guest/pass \
		> $(OUT)/coverage/boot.tap || { echo "vkci: the boot-only run on the coverage kernel failed (see $(OUT)/coverage/boot.tap)" >&2; exit 3; }; \
	export VKCI_GCOV_DIR="$$st/raw"; \
	python3 ci/coverage.py watch --kernel "$$k" --raw "$$st/raw" --logs $(OUT)/logs \
		--boot "$$st/raw-boot/guest/pass" --state "$$st/state" & wpid=$$!; \
	$(RUN_TESTS); \
	touch "$$st/state/stop"; wait $$wpid; \
	python3 ci/coverage.py report --kernel "$$k" --raw "$$st/raw" --state "$$st/state" \
		--boot "$$st/raw-boot/guest/pass" --out $(OUT)/coverage $(if $(filter 1,$(PER_TEST)),--per-test) \
		|| exit $$?; \
	tar -C "$$st" -cf $(OUT)/coverage/raw.tar raw-boot $$(test -d "$$st/raw" && echo raw) \
		|| echo "vkci: cannot keep the .gcda trees in $(OUT)/coverage/raw.tar" >&2; \
	$(if $(DIFF),python3 ci/coverage.py patch "$(DIFF)" --repo "$(KERNEL)" --out $(OUT)/coverage || exit $$?;) \
	exit $$status

BISECT_OUT ?= $(OUT)/bisect
# make bisect: ci/bisect.py in its own clone of KERNEL under the cache (the
# repository is only read), building each step out of tree with vkci build
# (incremental: one work tree path) and running TESTS in fresh vkernels.
# Exit status: 0 found, else make's 2 (ci/bisect.py's own, as vkci bisect
# returns it: 1 only skipped commits left, 2 usage, 3 infrastructure, 4
# nothing to bisect).
bisect: deps all
	@test -n "$(KERNEL)" || { echo "vkci: make bisect needs KERNEL=<git tree> GOOD=<rev> BAD=<rev> TESTS=..." >&2; exit 2; }
	@test "$(origin TESTS)" != file || { echo "vkci: make bisect needs TESTS=... (the tests that fail at BAD)" >&2; exit 2; }
	@python3 ci/bisect.py --kernel "$(KERNEL)" --good "$(GOOD)" --bad "$(BAD)" \
		$(if $(RUNS),--runs $(RUNS)) $(if $(CONFIDENCE),--confidence $(CONFIDENCE)) \
		--fragments "$(KFRAGS)" --image $(IMAGE) --payload $(PAYLOAD) --vkci $(VKCI) \
		--out "$(BISECT_OUT)" $(if $(BISECT_WORKDIR),--workdir "$(BISECT_WORKDIR)") $(TESTS)

# the shards of one run (make check SHARD=i/n OUT=out-i on each machine) as
# one report: TAP, summary.json, junit.xml, archive, coverage tracefiles
merge-reports:
	@test -n "$(DIRS)" || { echo "vkci: make merge-reports needs DIRS=\"out-1 out-2 ...\"" >&2; exit 2; }
	python3 ci/report.py --merge $(DIRS) -o $(OUT)

# ---- the harness's own tests ------------------------------------------------
T_GUEST_SRC := $(wildcard harness/t/guest/*.c)
T_GUEST_BIN := $(patsubst harness/t/guest/%.c,$(B)/t/payload/guest/%,$(T_GUEST_SRC))
T_PAYLOAD   := $(B)/t/payload.img
$(B)/t/payload/guest/%: harness/t/guest/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -static -w -o $@ $<
# known files for the serial file transfer test (35-transfer.t): /payload/xfer
T_XFER      := $(B)/t/xfer.stamp
$(T_XFER): harness/t/xfer-files.sh
	harness/t/xfer-files.sh $(B)/t/payload/xfer && touch $@
$(T_PAYLOAD): images/mkpayload.sh $(T_GUEST_BIN) $(T_XFER)
	images/mkpayload.sh $@ $(B)/t/payload
test-payload: $(T_PAYLOAD)
$(B)/t/unit: harness/t/unit.c $(HARNESS_OBJ) $(HARNESS_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(HCFLAGS) -o $@ harness/t/unit.c $(HARNESS_OBJ)
$(B)/t/fakekernel: harness/t/fake/fakekernel.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -o $@ $<

# libFuzzer targets over the parsers (harness/fuzz/); `make fuzz` runs each
# for FUZZ_SECONDS, make test runs them briefly through harness/t/50-fuzz.t
FUZZ_SRC     := $(wildcard harness/fuzz/fuzz_*.c)
FUZZ_BIN     := $(patsubst harness/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))
FUZZ_SECONDS ?= 600
FUZZ_CFLAGS  := -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined
build/fuzz/fuzz_stream: harness/fuzz/fuzz_stream.c $(HARNESS_SRC) $(HARNESS_HDR)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< $(addprefix harness/,serial.c tap.c console.c verdict.c transfer.c util.c diag.c)
build/fuzz/fuzz_transfer: harness/fuzz/fuzz_transfer.c $(HARNESS_SRC) $(HARNESS_HDR)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< $(addprefix harness/,transfer.c verdict.c tap.c console.c util.c diag.c)
build/fuzz/fuzz_meta: harness/fuzz/fuzz_meta.c $(HARNESS_SRC) $(HARNESS_HDR)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< $(addprefix harness/,meta.c uml.c util.c diag.c)
fuzzers: $(FUZZ_BIN)
fuzz: fuzzers
	FUZZ_SECONDS=$(FUZZ_SECONDS) harness/t/50-fuzz.t

HARNESS_TESTS ?= $(wildcard harness/t/*.t ci/t/*.t)
test: test-deps harness image $(PAYLOAD) $(T_PAYLOAD) $(B)/t/unit $(B)/t/fakekernel $(FUZZ_BIN)
	@ck=""; if test -z "$(KERNEL)" || test -d "$(KERNEL)"; then \
		ck=$$($(MAKE) -s --no-print-directory coverage-kernel) || exit $$?; fi; \
	$(RESOLVE_KERNEL); \
	VKCI_COVERAGE_KERNEL="$$ck" \
	VKCI="$(abspath $(VKCI))" VKCI_BUILD="$(abspath $(B))" VKCI_KFRAGS="$(KFRAGS)" JOBS=$(JOBS) \
	VKCI_KERNEL="$$k" VKCI_IMAGE="$(abspath $(IMAGE))" \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=86 \
	prove -j$(JOBS) --timer $(HARNESS_TESTS)

# the long end-to-end tests (harness/t/full/): make bisect on a real kernel
# history, the nightly runner finding and bisecting a hidden regression, make
# coverage DIFF= on a git tree. Real kernel builds (cold the first time, then
# incremental in their stable work trees under the cache); one at a time.
# Not run by .ci/run (see README.md, "Bisecting").
check-full:
	@$(MAKE) --no-print-directory test JOBS=1 HARNESS_TESTS="$(wildcard harness/t/full/*.t)"

clean:
	rm -rf $(B) $(VKCI) .prove
distclean: clean
	rm -rf out
