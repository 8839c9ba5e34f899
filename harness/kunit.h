/* kunit.h - what the driver knows about KUnit: very little on purpose.
 *
 * KUnit suites run while the kernel boots, several suites per instance;
 * ci/kunit.py plans the groups, boots them (through `vkci exec
 * kunit-run/collect`) and reports each suite as the prove test kunit/SUITE.
 * The driver's part:
 *   - `vkci exec kunit/SUITE` hands the test to that program (VKCI_KUNIT),
 *     the way a console scenario is handed to python3;
 *   - every other test runs with kunit.enable=0, so a kernel with KUnit
 *     built in does not run its suites at each boot;
 *   - `vkci crash LOG...` says whether and how the kernel crashed in each
 *     console log (ci/kunit.py cuts a group's console into one piece per
 *     suite: which suite a crash belongs to). */
#ifndef VKCI_KUNIT_H
#define VKCI_KUNIT_H

#include <stddef.h>

/* A test named kunit/SUITE: put the KUnit runner (VKCI_KUNIT, a .py file)
 * into src, so that vkci exec hands the test over to it. Returns 1 when it
 * did, 0 for any other test, -1 after reporting (VKCI_KUNIT not set). */
int kunit_member(const char *name, char *src, size_t size);

/* Append "kunit.enable=0" to extra[] (*n entries, room for max) unless an
 * entry already says kunit.*: a kernel without KUnit ignores the argument
 * (init/main.c drops unknown dotted parameters), one with KUnit built in
 * skips its suites at boot. Returns 0, or -1 when extra[] is full. */
int kunit_quiet_arg(const char **extra, int *n, int max);

/* vkci crash LOG...: one JSON object per console log on stdout:
 *   {"file", "crash_kind", "crash_line", "crash_fingerprint", "excerpt": [...], "lines"}
 * (null/empty when it shows no crash). Exit 0 no crash in any, 1 a crash
 * in at least one, 2 usage (a log cannot be read). */
int cmd_crash(int argc, char **argv);

#endif
