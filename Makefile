# vkci - kernel CI with one throwaway vkernel per test.
#
#   make check [KERNEL=<source tree or vkernel binary>] [KCONFIG=a,b] [SUITES="vm fs kselftest:timers"]
#              [TESTS=...] [JOBS=n] [SHARD=i/n] [PLANT_FAULT=1] [RETRIES=n]
#              [QUARANTINE=file] [VARIANT=debug] [PANIC_ON_WARN=1]
#   make merge-reports DIRS="out-1 out-2 ..." [OUT=out]   one report from shards
#   make coverage [KERNEL=<source tree>] [SUITES=...] [PER_TEST=1] [DIFF=<rev-range>]
#                                  the suites on the coverage kernel: out/coverage/
#   make check-full                make check with the default kselftest targets and every
#                                  KUnit suite, the suites on QEMU (OUT/qemu), the reports
#                                  of a real debug kernel, the planted KUnit faults, and the
#                                  long end-to-end tests (real bisection, nightly, DIFF=);
#                                  not in .ci/run
#   make check SUITES=kunit        the kernel's KUnit suites (kunit:GLOB[,GLOB]: some of them;
#                                  TESTS=kunit/SUITE), on the KUnit variant of the kernel
#   make kernel [VARIANT=debug]    build (or find) the vkernel, print its path
#   make test [QEMU_TEST=0]        the harness's own tests (QEMU_TEST=0: without
#                                  building the QEMU kernel for 57-qemu.t)
#   make bisect KERNEL=<git tree> GOOD=<rev> BAD=<rev> TESTS=... [RUNS=n] [CONFIDENCE=0.99]
#                                  the first commit where the tests fail: out/bisect/
#   make buildbot-local [WORKERS=2] [BUILDBOT_DIR=dir] [CONFIG=nightly.json]
#                                  a Buildbot master + WORKERS workers on loopback,
#                                  one night (ci/buildbot/), then stopped
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
else ifeq ($(PLATFORM),posix)
# PLATFORM=posix: the driver with the POSIX fallback of harness/platform.c
# (self-pipe signals, no inotify, prctl, close_range or /proc): the path a
# BSD host takes, built and tested here
B        := build/posix
HCFLAGS  += -DVKCI_POSIX
VKCI     := $(B)/vkci
else
B        := build
VKCI     := harness/vkci
endif
JOBS     ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) * 2 )))
SUITES   ?= vm fs net
# The Python of the project's scripts: the one Debian's python3-pexpect is
# for, as the driver picks it (harness/util.c, ci_python): VKCI_PYTHON, else
# /usr/bin/python3. A pyenv or venv python3 first in PATH lacks pexpect, and
# a pyenv shim costs ~0.1 s a call (5 calls in a one-test make check).
PYTHON   ?= $(or $(VKCI_PYTHON),$(if $(wildcard /usr/bin/python3),/usr/bin/python3,python3))
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
# The backend (harness/backend.h): uml (User-Mode Linux) or qemu. Empty: a
# source tree is built for uml, a kernel file is run by the backend it
# belongs to (vkci tells a UML program from an x86 vmlinux or bzImage).
BACKEND  ?=
KBACKEND := $(or $(BACKEND),uml)
# kernel config fragments: the harness's, every suite's (each also for the
# backend alone: kernel.BACKEND.config), and the user's
comma    := ,
KCONFIG  ?=
# VARIANT=NAME: the kernel variant NAME, built with `vkci build --variant NAME`
# (its own cache KEY) and the fragment harness/NAME.config (and
# harness/NAME.BACKEND.config when there is one) merged after the suites'
# and before the user's KCONFIG= (which can so override it).
# VARIANT=debug: KASAN, UBSAN, lockdep, ... (harness/debug.config).
VARIANT  ?=
VARIANT_FRAG := $(if $(VARIANT),harness/$(VARIANT).config)
KFRAGS   := harness/kernel.config $(wildcard harness/kernel.$(KBACKEND).config) \
	$(foreach f,$(wildcard suites/*/kernel.config),$(f) $(wildcard $(dir $(f))kernel.$(KBACKEND).config)) \
	$(VARIANT_FRAG) $(if $(VARIANT),$(wildcard harness/$(VARIANT).$(KBACKEND).config)) \
	$(subst $(comma), ,$(KCONFIG))
# guest memory of each instance (a test's mem= metadata and -m still win):
# the debug variant's KASAN quarantine, redzones and lockdep need more than
# the default 128M (BENCHMARKS.md, "Debug variant")
VARIANT_MEM_debug := 256M
# ... and every test's timeout multiplied (VKCI_TIMEOUT_SCALE): a KASAN and
# lockdep kernel runs a test several times slower (BENCHMARKS.md: make
# check takes ~6x as long), so an 8 MB transfer between two nodes needs more
# than the 30 s its test declares
VARIANT_TIMEOUT_SCALE_debug := 4
# PANIC_ON_WARN=1: a kernel WARNING panics the vkernel (panic_on_warn=1 on
# the kernel command line, through VKCI_KERNEL_ARGS)
PANIC_ON_WARN ?=
KERNEL_ARGS := $(strip $(VKCI_KERNEL_ARGS) $(if $(filter 1,$(PANIC_ON_WARN)),panic_on_warn=1))

HARNESS_SRC := $(filter-out harness/vkci.c,$(wildcard harness/*.c))
HARNESS_LIBS := -ljansson
HARNESS_HDR := $(wildcard harness/*.h)
# the crash parser: console.c and its table and line readers (crashtab.h)
CONSOLE_SRC := harness/console.c harness/crashtab.c harness/crashline.c
HARNESS_OBJ := $(patsubst harness/%.c,$(B)/obj/%.o,$(HARNESS_SRC))
AGENT       := build/guest/vkci-init
IMAGE       := build/image/base.img
PAYLOAD     := $(B)/payload.img

# C tests, and console scenarios (*.py: vkci exec hands them to python3).
# SUITES words `kselftest` and `kselftest:T1,T2` select the kernel's own
# selftests (ci/kselftest.py builds them; ci/selection.py resolves every name).
# vkci's own suites among SUITES (the words that are not upstream suites)
OWN_SUITES  := $(filter-out kselftest kselftest:% kunit kunit:%,$(SUITES))
SUITE_SRC   := $(foreach s,$(OWN_SUITES),$(wildcard suites/$(s)/*.c suites/$(s)/*.py))
ALL_SUITE_SRC := $(wildcard suites/*/*.c)
# TESTS given by the user replaces SUITES (ci/selection.py checks every name)
USER_TESTS  := $(if $(filter command line environment,$(origin TESTS)),$(TESTS))
TESTS       ?= $(SUITE_SRC)
# only what this run tests goes on its payload: a broken test elsewhere does
# not stop it, and a name that does not exist is ci/selection.py's one-line
# error (the closest names), never make's "No rule to make target"
TEST_BINS   := $(patsubst suites/%.c,$(B)/payload/%,$(filter $(ALL_SUITE_SRC),$(TESTS)))
# Shared build products (driver, agent, image, test binaries, the suites'
# payload) are built under this lock, so that several runs in one checkout
# (each with its own OUT) can start at once; the files are renamed into place.
LOCK        := build/.lock
LOCKED      = mkdir -p build && flock $(LOCK)
KSFT_RUNNER := build/guest/kselftest-run
# KUnit: SUITES words `kunit` and `kunit:GLOB[,GLOB]`, TESTS words kunit/SUITE.
# A run with KUnit suites boots the KUnit variant of the kernel (`vkci build
# --variant kunit`: the fragments plus the tree's own kunitconfig, KUNITCONFIG=
# to use another, and arch_uml.config, plus suites/kunit/kunit.config); its
# KUnit instances boot the KUnit payload (the collector alone), ci/kunit.py
# plans the groups (OUT/kunit.plan) and runs each suite as kunit/SUITE.
KUNITCONFIG ?=
WANT_KUNIT  := $(if $(USER_TESTS),$(filter kunit/%,$(USER_TESTS)),$(filter kunit kunit:%,$(SUITES)))
KUNIT_COLLECT := build/guest/kunit-collect
KUNIT_PAYLOAD := build/kunit/payload.img
# the variant a run builds: kunit with KUnit suites (VARIANT=debug: debug-kunit)
KVARIANT    := $(if $(WANT_KUNIT),$(if $(VARIANT),$(VARIANT)-kunit,kunit),$(VARIANT))
# the tree kselftest programs are built from: KSFT_SOURCE, else KERNEL when it
# is a source tree, else the default source
KSFT_SRC_ARG = $(if $(KSFT_SOURCE),--source "$(KSFT_SOURCE)",$$(test -d "$(KERNEL)" && echo --source "$(KERNEL)"))

.PHONY: kunit-payload kunit-test-kernel
.PHONY: buildbot-local all harness agent image payload suites kernel coverage coverage-kernel print-kfrags check check-full bisect merge-reports test test-payload deps fuzz fuzzers clean distclean

# Shell fragment: sets $$k to the vkernel binary, building it when KERNEL is a
# source tree (or empty: the default source). Exit statuses are vkci build's.
# With KUnit suites selected ($(WANT_KUNIT)): the KUnit variant (ci/kunit.py fragments).
KUNIT_KFRAGS = kf=""; if test -n "$(WANT_KUNIT)" && test -d "$$k"; then \
	kf=$$($(PYTHON) ci/kunit.py fragments --backend $(KBACKEND) $(if $(KUNITCONFIG),--kunitconfig "$(abspath $(KUNITCONFIG))") "$$k") || exit $$?; fi
RESOLVE_KERNEL = k="$(KERNEL)"; \
	if test -n "$(VARIANT)" && ! test -f "$(VARIANT_FRAG)"; then \
		echo "vkci: unknown kernel variant '$(VARIANT)': no $(VARIANT_FRAG) (VARIANT=debug, or none)" >&2; exit 2; fi; \
	if test -z "$$k"; then k=$$(ci/kernel-source.sh) || exit $$?; fi; \
	$(KUNIT_KFRAGS); \
	if test -d "$$k"; then k=$$($(VKCI) build -B $(KBACKEND) $(if $(KVARIANT),--variant $(KVARIANT)) $(addprefix -c ,$(KFRAGS)) $$kf "$$k") || exit $$?; \
	elif test -n "$(VARIANT)"; then \
		echo "vkci: VARIANT=$(VARIANT) needs a kernel source tree to build, not the ready vkernel '$$k' (unset VARIANT or set KERNEL=<source tree>)" >&2; exit 2; \
	elif ! test -f "$$k" || ! test -r "$$k"; then \
		echo "vkci: kernel '$$k' is neither a Linux source tree nor a vkernel file (a UML program, an x86 vmlinux or bzImage; set KERNEL=...)" >&2; exit 2; \
	fi

all: harness image payload

deps:
	@$(LOCKED) ci/deps.sh $(if $(filter qemu,$(KBACKEND)),qemu,check)
test-deps:
	@$(LOCKED) sh -c "ci/deps.sh test && ci/deps.sh buildbot"

# ---- the C driver --------------------------------------------------------
harness: $(VKCI)
$(B)/obj/%.o: harness/%.c $(HARNESS_HDR) | $(B)/obj
	$(CC) $(HCFLAGS) -c -o $@ $<
$(B)/vkci: harness/vkci.c $(HARNESS_OBJ) $(HARNESS_HDR)
	$(CC) $(HCFLAGS) -o $@ harness/vkci.c $(HARNESS_OBJ) $(HARNESS_LIBS)
harness/vkci: harness/vkci.c $(HARNESS_OBJ) $(HARNESS_HDR)
	$(CC) $(HCFLAGS) -o $@ harness/vkci.c $(HARNESS_OBJ) $(HARNESS_LIBS)
$(B)/obj build/guest build/image:
	mkdir -p $@

# ---- guest agent and base image -----------------------------------------
agent: $(AGENT)
AGENT_SRC := harness/guest/agent.c harness/guest/job.c harness/guest/send.c harness/guest/system.c harness/proto.c
$(AGENT): $(AGENT_SRC) harness/guest/agent.h harness/proto.h | build/guest
	$(CC) $(TCFLAGS) -o $@.tmp $(AGENT_SRC) && mv -f $@.tmp $@
# the runner of kselftest programs in the guest (on the payload, not the image)
$(KSFT_RUNNER): images/kselftest-run.c | build/guest
	$(CC) $(TCFLAGS) -o $@.tmp $< && mv -f $@.tmp $@
# the collector of KUnit results, alone on the KUnit instances' payload
$(KUNIT_COLLECT): images/kunit-collect.c | build/guest
	$(CC) $(TCFLAGS) -o $@.tmp $< && mv -f $@.tmp $@
kunit-payload: $(KUNIT_PAYLOAD)
$(KUNIT_PAYLOAD): images/mkpayload.sh $(KUNIT_COLLECT)
	rm -rf build/kunit/payload && mkdir -p build/kunit/payload/kunit-run
	cp $(KUNIT_COLLECT) build/kunit/payload/kunit-run/collect
	images/mkpayload.sh $@ build/kunit/payload
image: $(IMAGE)
$(IMAGE): images/mkimage.sh $(AGENT) $(BUSYBOX) | build/image
	images/mkimage.sh $@ $(AGENT) $(BUSYBOX)

# ---- suites and payload ---------------------------------------------------
suites: $(TEST_BINS)
$(B)/payload/%: suites/%.c $(wildcard suites/lib/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(TCFLAGS) -Isuites/lib -o $@.tmp $< && mv -f $@.tmp $@
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
# With KUnit suites: the coverage variant gets the KUnit fragments too (its own KEY).
RESOLVE_COVERAGE_KERNEL = k="$(KERNEL)"; \
	if test -z "$$k"; then k=$$(ci/kernel-source.sh) || exit $$?; fi; \
	$(KUNIT_KFRAGS); \
	if test -d "$$k"; then k=$$($(VKCI) build -B $(KBACKEND) --variant coverage$(if $(WANT_KUNIT),-kunit) $(addprefix -c ,$(KFRAGS) $(wildcard harness/coverage.$(KBACKEND).config)) $$kf "$$k") || exit $$?; \
	else echo "vkci: make coverage needs KERNEL=<Linux source tree> (or none: the default source)" >&2; exit 2; fi
coverage-kernel: deps harness
	@$(RESOLVE_COVERAGE_KERNEL); echo "$$k"

# the planted-faults KUnit kernel of harness/t/48-kunit.t: a test tree (the
# KERNEL tree, or the default source, plus harness/t/kunit/vkci-planted-*.c;
# hard links, in the cache) with KUnit and its own suites (make check-full
# builds it)
kunit-test-kernel: deps harness
	@src="$(KERNEL)"; test -d "$$src" || src=$$(ci/kernel-source.sh) || exit $$?; \
	t="$${VKCI_CACHE:-$$HOME/.cache/vkci}/kunit-planted/$$(basename "$$src")"; \
	mkdir -p "$$(dirname "$$t")" && harness/t/kunit/planted-tree.sh "$$src" "$$t" || exit 3; \
	$(VKCI) build -B uml --variant kunit-planted $(addprefix -c ,harness/kernel.config harness/kernel.uml.config harness/t/kunit/planted.config) "$$t"

# `make kernel` prints the vkernel binary a run would use (building it if needed)
kernel: deps harness
	@$(RESOLVE_KERNEL); echo "$$k"

# Shell fragment: run the selected tests on kernel $$k through prove (the
# scheduler), reports afterwards; leaves prove's status in $$status.
# The run's settings (RETRIES, QUARANTINE) are the driver's to check, before
# any build: `vkci exec --check`. One run per OUT: the second one started on
# the same OUT stops here (exit 2).
# The lock (fd 9) is held until the recipe's shell exits.
LOCK_OUT = test -n "$(strip $(OUT))" || { echo "vkci: OUT= is empty (name the run's output dir, e.g. OUT=out)" >&2; exit 2; }; \
	VKCI_RETRIES="$(RETRIES)" VKCI_QUARANTINE="$(QUARANTINE)" $(VKCI) exec --check || exit 2; \
	mkdir -p $(OUT) && exec 9>$(OUT)/.lock && flock -n 9 || { \
	echo "vkci: another run is using OUT='$(OUT)' (wait for it to finish, or give this run its own OUT=...)" >&2; exit 2; }
# Shell fragment: the run's tests in $$plan (ci/selection.py: names checked,
# kselftest targets built) and its payload, $(OUT)/payload.img: only the
# selected tests, re-packed when what goes on it changed.
PLAN_RUN = plan=$$($(PYTHON) ci/selection.py plan --suites "$(SUITES)" --tests "$(USER_TESTS)" $(KSFT_SRC_ARG) \
		--build $(B) --stage $(OUT)/payload.d --meta $(abspath $(OUT))/kselftest.meta \
		--runner $(KSFT_RUNNER) --kernel "$$k" --image $(IMAGE) --kunit-payload $(KUNIT_PAYLOAD) \
		--out $(OUT) $(if $(filter 1,$(PER_TEST)),--kunit-singletons)) || exit $$?; \
	if test -f $(OUT)/payload.manifest.new; then \
		images/mkpayload.sh $(OUT)/payload.img $(OUT)/payload.d || exit 3; \
		mv -f $(OUT)/payload.manifest.new $(OUT)/payload.manifest; fi
RUN_TESTS = rm -rf $(OUT)/logs $(OUT)/tap $(OUT)/summary.json $(OUT)/junit.xml $(OUT)/archive.tar.gz; \
	mkdir -p $(OUT)/tap; \
	archive=""; perl -MTAP::Harness::Archive -e1 2>/dev/null && archive="--archive $(OUT)/tap"; \
	echo "vkci: kernel $$k" >&2; \
	status=0; \
	tests=$$($(PYTHON) ci/schedule.py --state $(OUT)/prove-state --kunit-plan $(OUT)/kunit.plan \
		$(if $(SHARD),--shard $(SHARD)) $$plan) || exit 2; \
	t0=$$(date +%s.%N); \
	VKCI_KERNEL="$$k" VKCI_IMAGE="$(abspath $(IMAGE))" VKCI_BACKEND="$(BACKEND)" \
	VKCI_TEST_META="$(abspath $(OUT))/kselftest.meta" \
	VKCI_KUNIT="$(abspath ci/kunit.py)" VKCI_KUNIT_PLAN="$(abspath $(OUT))/kunit.plan" \
	VKCI_PAYLOAD="$(abspath $(OUT))/payload.img" VKCI_LOG_DIR="$(abspath $(OUT)/logs)" \
	VKCI_RETRIES="$(RETRIES)" VKCI_QUARANTINE="$(if $(QUARANTINE),$(abspath $(QUARANTINE)))" \
	VKCI_KERNEL_ARGS="$(KERNEL_ARGS)" $(if $(VARIANT_MEM_$(VARIANT)),VKCI_MEM="$${VKCI_MEM:-$(VARIANT_MEM_$(VARIANT))}") \
	$(if $(VARIANT_TIMEOUT_SCALE_$(VARIANT)),VKCI_TIMEOUT_SCALE="$${VKCI_TIMEOUT_SCALE:-$(VARIANT_TIMEOUT_SCALE_$(VARIANT))}") \
	PERL_TEST_HARNESS_DUMP_TAP="$(abspath $(OUT)/tap)" \
	prove -j$(JOBS) --state=save --statefile=$(OUT)/prove-state --timer $$archive \
		--exec "$(abspath $(VKCI)) exec" $(PROVE_FLAGS) $$tests $(if $(filter 1,$(PLANT_FAULT)),:: --plant-fault) \
		9>&- || status=$$?; \
	echo "$$t0 $$(date +%s.%N)" > $(OUT)/prove-time; \
	$(PYTHON) ci/report.py $(OUT) 9>&- || true

# The build products under the lock, then (OUT locked) the plan, the kernel, the run.
BUILD_FOR_RUN = $(if $(filter kselftest%,$(SUITES) $(USER_TESTS)),$(LOCKED) ci/deps.sh kselftest || exit $$?;) \
	$(PYTHON) ci/selection.py check --suites "$(SUITES)" --tests "$(USER_TESTS)" $(KSFT_SRC_ARG) || exit 2; \
	$(LOCKED) $(MAKE) --no-print-directory harness image suites $(KSFT_RUNNER) $(if $(WANT_KUNIT),$(KUNIT_PAYLOAD)) || exit $$?
# the kernel before the plan: KUnit suites are listed by booting it
check: deps
	@$(BUILD_FOR_RUN)
	@$(LOCK_OUT); \
	$(RESOLVE_KERNEL); \
	$(PLAN_RUN); \
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
coverage: deps
	@$(LOCKED) ci/deps.sh coverage
	@$(if $(DIFF),$(PYTHON) ci/coverage.py patch --check "$(DIFF)" --repo "$(KERNEL)")
	@$(BUILD_FOR_RUN)
	@$(LOCKED) $(MAKE) --no-print-directory $(T_PAYLOAD)
	@$(LOCK_OUT); \
	$(RESOLVE_COVERAGE_KERNEL); \
	$(PLAN_RUN); \
	rm -rf $(OUT)/coverage; mkdir -p $(OUT)/coverage; \
	st=$$(mktemp -d /dev/shm/vkci-cov.XXXXXX 2>/dev/null || mktemp -d) || exit 3; \
	trap 'rm -rf "$$st"' EXIT; trap 'exit 130' INT TERM; mkdir "$$st/state"; \
	case "$$st" in /dev/shm/*) test -n "$$VKCI_RUNDIR$$XDG_RUNTIME_DIR" || export VKCI_RUNDIR=/dev/shm/vkci-$$(id -u);; esac; \
	$(VKCI) exec -k "$$k" -i $(IMAGE) -p $(T_PAYLOAD) --gcov-dir "$$st/raw-boot" guest/pass \
		> $(OUT)/coverage/boot.tap || { echo "vkci: the boot-only run on the coverage kernel failed (see $(OUT)/coverage/boot.tap)" >&2; exit 3; }; \
	export VKCI_GCOV_DIR="$$st/raw"; \
	$(PYTHON) ci/coverage.py watch --kernel "$$k" --raw "$$st/raw" --logs $(OUT)/logs \
		--boot "$$st/raw-boot/guest/pass" --state "$$st/state" & wpid=$$!; \
	$(RUN_TESTS); \
	touch "$$st/state/stop"; wait $$wpid; \
	$(PYTHON) ci/coverage.py report --kernel "$$k" --raw "$$st/raw" --state "$$st/state" \
		--boot "$$st/raw-boot/guest/pass" --out $(OUT)/coverage $(if $(filter 1,$(PER_TEST)),--per-test) \
		|| exit $$?; \
	tar -C "$$st" -cf $(OUT)/coverage/raw.tar raw-boot $$(test -d "$$st/raw" && echo raw) \
		|| echo "vkci: cannot keep the .gcda trees in $(OUT)/coverage/raw.tar" >&2; \
	$(if $(DIFF),$(PYTHON) ci/coverage.py patch "$(DIFF)" --repo "$(KERNEL)" --out $(OUT)/coverage || exit $$?;) \
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
	@$(PYTHON) ci/bisect.py --kernel "$(KERNEL)" --good "$(GOOD)" --bad "$(BAD)" \
		$(if $(RUNS),--runs $(RUNS)) $(if $(CONFIDENCE),--confidence $(CONFIDENCE)) \
		--fragments "$(KFRAGS)" --image $(IMAGE) --payload $(PAYLOAD) --vkci $(VKCI) \
		--out "$(BISECT_OUT)" $(if $(BISECT_WORKDIR),--workdir "$(BISECT_WORKDIR)") $(TESTS)

# the shards of one run (make check SHARD=i/n OUT=out-i on each machine) as
# one report: TAP, summary.json, junit.xml, archive, coverage tracefiles
merge-reports:
	@test -n "$(DIRS)" || { echo "vkci: make merge-reports needs DIRS=\"out-1 out-2 ...\"" >&2; exit 2; }
	$(PYTHON) ci/report.py --merge $(DIRS) -o $(OUT)

# ---- a Buildbot fleet on this machine ----------------------------------------
# a master and WORKERS workers on 127.0.0.1, all state under BUILDBOT_DIR,
# one night of CONFIG (ci/nightly.py's JSON), then stopped: exit status the
# night's (0 no regression, 1 a regression, 3 incomplete, 4 the fleet failed)
WORKERS      ?= 2
BUILDBOT_DIR ?= $(or $(VKCI_CACHE),$(HOME)/.cache/vkci)/buildbot-local
CONFIG       ?= ci/buildbot/local.example.json
buildbot-local: deps
	@ci/deps.sh buildbot
	/usr/bin/python3 ci/buildbot/local.py --dir $(BUILDBOT_DIR) --workers $(WORKERS) --config $(CONFIG)

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
	$(CC) $(HCFLAGS) -o $@ harness/t/unit.c $(HARNESS_OBJ) $(HARNESS_LIBS)
# the crash triage of saved console logs, for 12-crash.t and ci/bench/triage.py
$(B)/t/crashtitle: harness/t/crashtitle.c $(CONSOLE_SRC) harness/console.h harness/crashtab.h
	@mkdir -p $(dir $@)
	$(CC) $(HCFLAGS) -o $@ harness/t/crashtitle.c $(CONSOLE_SRC)
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
	clang $(FUZZ_CFLAGS) -o $@ $< $(addprefix harness/,serial.c tap.c verdict.c transfer.c xfer_rx.c util.c diag.c proto.c) $(CONSOLE_SRC)
build/fuzz/fuzz_transfer: harness/fuzz/fuzz_transfer.c $(HARNESS_SRC) $(HARNESS_HDR)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< $(addprefix harness/,transfer.c xfer_rx.c verdict.c tap.c util.c diag.c proto.c) $(CONSOLE_SRC)
build/fuzz/fuzz_tap: harness/fuzz/fuzz_tap.c harness/tap.c harness/tap.h
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< harness/tap.c
build/fuzz/fuzz_console: harness/fuzz/fuzz_console.c $(CONSOLE_SRC) harness/console.h harness/crashtab.h
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< $(CONSOLE_SRC)
build/fuzz/fuzz_meta: harness/fuzz/fuzz_meta.c $(HARNESS_SRC) $(HARNESS_HDR)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< $(addprefix harness/,meta.c proto.c util.c diag.c)
fuzzers: $(FUZZ_BIN)
fuzz: fuzzers
	FUZZ_SECONDS=$(FUZZ_SECONDS) harness/t/50-fuzz.t

HARNESS_TESTS ?= $(wildcard harness/t/*.t ci/t/*.t)
# QEMU_TEST=1: make test also builds (once, cached) the QEMU kernel of the
# default source or KERNEL= tree (make kernel BACKEND=qemu) for
# harness/t/57-qemu.t's real QEMU boots; 0: that test skips, and only the
# QEMU backend's unit tests run (BENCHMARKS.md, "QEMU backend": the cold
# build's cost)
QEMU_TEST ?= 1
test: test-deps harness image $(PAYLOAD) $(T_PAYLOAD) $(B)/t/unit $(B)/t/fakekernel $(B)/t/crashtitle $(FUZZ_BIN) $(KUNIT_PAYLOAD)
	@ck=""; kk=""; qk="$${VKCI_QEMU_KERNEL:-}"; if test -z "$(KERNEL)" || test -d "$(KERNEL)"; then \
		ck=$$($(MAKE) -s --no-print-directory coverage-kernel) || exit $$?; \
		kk=$$($(MAKE) -s --no-print-directory kernel SUITES=kunit) || exit $$?; \
		if test "$(QEMU_TEST)" = 1 && test -z "$$qk"; then \
			qk=$$($(MAKE) -s --no-print-directory kernel BACKEND=qemu VARIANT=) || exit $$?; fi; fi; \
	$(RESOLVE_KERNEL); \
	VKCI_COVERAGE_KERNEL="$$ck" VKCI_KUNIT_DEFAULT_KERNEL="$$kk" VKCI_QEMU_KERNEL="$$qk" \
	VKCI="$(abspath $(VKCI))" VKCI_BUILD="$(abspath $(B))" VKCI_KFRAGS="$(KFRAGS)" JOBS=$(JOBS) \
	VKCI_KERNEL="$$k" VKCI_IMAGE="$(abspath $(IMAGE))" \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=86 \
	prove -j$(JOBS) --timer $(HARNESS_TESTS)

# make check-full: what does not fit in .ci/run's time (BENCHMARKS.md): make
# check with the default kselftest targets and every KUnit suite (on the
# KUnit variant: the other tests boot it with kunit.enable=0); the suites on
# the QEMU backend (OUT/qemu; its kernel is make test's) and the vm suite's
# GCOV_KERNEL coverage fetched from QEMU guests (OUT/qemu-coverage: one more
# cold kernel build the first time); the tests that need the debug kernel
# (harness/t/95-debug-kernel.t: real KASAN, UBSAN, list, refcount, BUG,
# fault, hung-task and soft-lockup reports through LKDTM; the debug kernel's
# cold build takes several times the default kernel's) and the
# planted-faults KUnit kernel (48-kunit.t: a kernel build of its own, from a
# test tree); the long end-to-end tests (harness/t/full/: make bisect on a
# real kernel history, the nightly runner finding and bisecting a hidden
# regression, make coverage DIFF= on a git tree, make coverage of a kselftest
# target and KUnit suites on the coverage-kunit variant; real kernel builds, cold the
# first time, then incremental in their stable work trees under the cache,
# one at a time).
check-full:
	@$(MAKE) --no-print-directory check SUITES="$(OWN_SUITES) kselftest kunit"
	@$(MAKE) --no-print-directory check BACKEND=qemu SUITES="$(OWN_SUITES)" OUT=$(OUT)/qemu
	@$(MAKE) --no-print-directory coverage BACKEND=qemu SUITES=vm OUT=$(OUT)/qemu-coverage
	@dk=$$($(MAKE) -s --no-print-directory kernel VARIANT=debug) || exit $$?; \
	kk=$$($(MAKE) -s --no-print-directory kunit-test-kernel) || exit $$?; \
	$(LOCKED) $(MAKE) --no-print-directory $(KUNIT_PAYLOAD) $(T_PAYLOAD) >&2 || exit $$?; \
	VKCI="$(abspath $(VKCI))" VKCI_BUILD="$(abspath $(B))" VKCI_DEBUG_KERNEL="$$dk" VKCI_KUNIT_KERNEL="$$kk" \
	VKCI_IMAGE="$(abspath $(IMAGE))" VKCI_DEBUG_MEM="$(VARIANT_MEM_debug)" JOBS=$(JOBS) \
	prove -j1 --timer harness/t/95-debug-kernel.t harness/t/48-kunit.t
	@$(MAKE) --no-print-directory test JOBS=1 HARNESS_TESTS="$(wildcard harness/t/full/*.t)"

clean:
	rm -rf $(B) $(VKCI) .prove
distclean: clean
	rm -rf out
