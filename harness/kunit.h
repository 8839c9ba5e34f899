/* kunit.h - what the driver knows about KUnit: very little on purpose.
 *
 * KUnit suites run while the kernel boots, several suites per instance;
 * ci/kunit.py plans the groups, boots them (through `vkci exec
 * kunit-run/collect`) and reports each suite as the prove test kunit/SUITE.
 * The driver's part:
 *   - `vkci exec kunit/SUITE` hands the test to that program (VKCI_KUNIT);
 *   - every other test runs with kunit.enable=0, so a kernel with KUnit
 *     built in does not run its suites at each boot;
 *   - `vkci crash LOG...` says whether and how the kernel crashed in each
 *     console log (ci/kunit.py cuts a group's console into one piece per
 *     suite: which suite a crash belongs to). */
#ifndef VKCI_KUNIT_H
#define VKCI_KUNIT_H

#include <stddef.h>

struct run_opts;

/* vkci exec kunit/SUITE: hand the test over to the KUnit runner
 * (VKCI_KUNIT, else the ci/kunit.py of the driver's checkout; run by
 * util.h's ci_python()) with
 * VKCI (self), VKCI_TEST and the options' log dir, run dir and quarantine
 * list in its environment; or, when the suite's group has already run and
 * its runner published the suite's output (VKCI_KUNIT_PLAN.ready/SUITE.tap,
 * ci/kunit.py's publish()), print that and move its log dir into place
 * without starting the runner. It is not an attempt of its own (a member of a
 * group may only print what the group's instance found), so vkci's retries
 * do not apply; the runner writes the suite's result.json (RESULT.md).
 * Returns -1 for any other test; for a kunit/ test it does not return, or
 * returns an exit status after reporting why it could not hand over. */
int kunit_exec(const char *name, const struct run_opts *o, const char *self);

/* Is "kunit.enable=0" to be added to a kernel command line whose extra
 * arguments are extra[] (NULL-terminated)? Yes unless one of them says
 * kunit.*: a kernel without KUnit ignores the argument (init/main.c drops
 * unknown dotted parameters), one with KUnit built in skips its suites at
 * boot (backend.c's boot_add_extra() adds it for every backend). */
int kunit_quiet(const char *const *extra);

/* vkci crash LOG...: one JSON object per console log on stdout:
 *   {"file", "crash_kind", "crash_line", "crash_fingerprint", "excerpt": [...], "lines"}
 * (null/empty when it shows no crash). Exit 0 no crash in any, 1 a crash
 * in at least one, 2 usage (a log cannot be read). */
int cmd_crash(int argc, char **argv);

#endif
