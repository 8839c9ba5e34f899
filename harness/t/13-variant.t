#!/bin/sh
# Kernel variants and PANIC_ON_WARN through make, without building a
# kernel: what make would run (make -n) and the refusals (exit 2, a named
# fix). The debug kernel itself is built and exercised by
# 95-debug-kernel.t (make check-full).
. "$(dirname "$0")/lib.sh"
cd "$top" || exit 3
n=$(make -s -n check VARIANT=debug)
like "$n" 'build -B uml --variant debug .*-c harness/debug.config' "VARIANT=debug: vkci build --variant debug with harness/debug.config"
n=$(make -s -n check VARIANT=debug KCONFIG=my.config)
like "$n" 'debug.config -c my.config' "VARIANT=debug KCONFIG=my.config: the user's fragment merged after the variant's"
n=$(make -s -n check VARIANT=debug)
like "$n" 'VKCI_MEM="\$\{VKCI_MEM:-256M\}"' "VARIANT=debug: instances get 256M unless VKCI_MEM says otherwise"
n=$(make -s -n check)
case $n in *--variant*|*debug.config*|*VKCI_MEM=*) ok 1 "no VARIANT: no variant, no fragment, default memory" ;;
*) ok 0 "no VARIANT: no variant, no fragment, default memory" ;; esac
n=$(make -s -n check PANIC_ON_WARN=1 KERNEL=/bin/true)
like "$n" 'VKCI_KERNEL_ARGS="panic_on_warn=1"' "PANIC_ON_WARN=1: panic_on_warn=1 on every vkernel's command line"
n=$(VKCI_KERNEL_ARGS=loglevel=8 make -s -n check PANIC_ON_WARN=1 KERNEL=/bin/true)
like "$n" 'VKCI_KERNEL_ARGS="loglevel=8 panic_on_warn=1"' "PANIC_ON_WARN=1 keeps the caller's VKCI_KERNEL_ARGS"
out=$(make -s kernel VARIANT=bogus 2>&1); rc=$?
is "$rc" 2 "an unknown variant: exit 2"
like "$out" "vkci: unknown kernel variant 'bogus': no harness/bogus.config" "an unknown variant: named, with the fix"
out=$(make -s kernel VARIANT=debug KERNEL=/bin/true 2>&1); rc=$?
is "$rc" 2 "a variant of a ready vkernel binary: exit 2"
like "$out" "VARIANT=debug needs a kernel source tree" "a variant of a ready binary: named, with the fix"
# every option of the variant is a CONFIG_ line or a comment (vkci build
# checks at build time that each took)
bad=$(grep -v -e '^#' -e '^$' -e '^CONFIG_[A-Z0-9_]*=' harness/debug.config)
is "$bad" "" "harness/debug.config: only CONFIG_ lines and comments"
done_testing
