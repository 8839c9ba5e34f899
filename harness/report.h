/* report.h - the machine-readable record of one test run: result.json in
 * the test's log dir, read by the run reports (ci/report.py). */
#ifndef VKCI_REPORT_H
#define VKCI_REPORT_H

#include "console.h"
#include "verdict.h"

struct test_record {
	const char *test, *kernel, *image, *payload;
	long nodes, timeout_s;
	long long mem;
	long long start_unix_ms, duration_ms;
	int exit_status;                    /* EXIT_PASS / FAIL / INFRA */
	const struct verdict *verdict;      /* node 0's */
	const struct console_state *console;/* node 0's */
	const char *console_log, *serial_log, *kept_dir;
	int attempt;                        /* 1, 2, ... with retries; 0: no retries */
	const char *attempts_json;          /* earlier attempts (JSON objects, comma-separated) */
	int quarantined;                    /* on the known-flaky list: reported, not counted */
};

/* Write the record as JSON to path (atomically: temp file + rename). */
int report_write(const char *path, const struct test_record *r);
/* Append s to sb as a JSON string literal (quotes, escapes, bytes >= 0x80
 * passed through only when valid UTF-8, else \ufffd). */
void json_string(struct sbuf *sb, const char *s);

#endif
