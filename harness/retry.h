/* retry.h - the attempts of one test: `vkci exec --retries N` and
 * `--quarantined`.
 *
 * Without either, retry_run() is instance_run(): the verdict streams out as
 * it arrives. With them, each attempt's TAP is buffered (one fresh instance
 * per attempt) and printed at the end:
 *   - an attempt that fails (exit 1 or 3) is run again, up to N more times;
 *     its logs move to LOG_DIR/SUITE/TEST/attemptK/ (with its result.json)
 *     and its TAP becomes '#' diagnostics;
 *   - a later pass prints the passing attempt's TAP, preceded by those
 *     diagnostics and `# vkci: flaky: failed attempt 1 (why), passed attempt 2`;
 *     the result says outcome "flaky", flaky true and lists the attempts;
 *     the exit status is 0 (prove counts it as passed, the run reports
 *     count it as flaky);
 *   - if every attempt fails, the last attempt's verdict is the result;
 *   - a quarantined test (on the known-flaky list) runs and is reported, but
 *     its failure (exit 1) is not counted: every `not ok` becomes a TAP TODO
 *     (`not ok 2 - ... # TODO quarantined ...`), the exit status becomes 0
 *     and the result says quarantined. An infrastructure failure (exit 3)
 *     still counts: it is not the test's flakiness.
 * The same path serves C tests (instance_run) and console scenarios
 * (scenario_run): the runner is a parameter. */
#ifndef VKCI_RETRY_H
#define VKCI_RETRY_H

#include "instance.h"

struct retry_policy {
	int retries;                /* extra attempts after a failure, 0.. */
	int quarantined;            /* the test's failures are not counted */
	const char *why;            /* why quarantined, for the TODO text (e.g. the list's path) */
	int expected;               /* an expected failure (metadata xfail=): why is the reason */
};

/* One attempt: instance_run() or scenario_run(). */
typedef int (*retry_runner)(const struct instance_config *cfg, verdict_emit emit, void *ctx,
			    struct vkci_result *res);

/* Run cfg's test under the policy; res (result_init'ed) gets the final
 * attempt's result with every attempt listed, ready for result_write().
 * Lines go out through emit; returns the exit status. */
int retry_run(const struct instance_config *cfg, const struct retry_policy *pol, retry_runner run,
	      verdict_emit emit, void *ctx, struct vkci_result *res);

/* Is test (SUITE/TEST) listed in the known-flaky file? A line names a test as
 * SUITE/TEST or suites/SUITE/TEST.c; '#' starts a comment. 1 yes, 0 no, -1 the
 * file cannot be read (reported). */
int quarantine_listed(const char *file, const char *test);

#define RETRY_MAX 10

#endif
