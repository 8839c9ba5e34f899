/* result.h - what one test came to, in memory, and its one writer.
 *
 * instance_run() (or scenario_run() for a console scenario) fills a struct
 * vkci_result for each attempt; retry.c combines the attempts; the TAP
 * trailer, the retry decision and result.json all read this struct, and
 * result_write() writes it once, as harness/RESULT.md documents
 * ("format": "vkci-result/2"). Nothing reads result.json back in C. */
#ifndef VKCI_RESULT_H
#define VKCI_RESULT_H

#include <limits.h>

/* One ordered enum: a later outcome is worse (outcome_worst). "flaky" is a
 * pass that needed a retry; "quarantined" is not an outcome but a flag. */
enum outcome {
	OUTCOME_PASS,
	OUTCOME_SKIP,
	OUTCOME_FLAKY,
	OUTCOME_FAIL,
	OUTCOME_CRASH,
	OUTCOME_INFRA,
};

#define RESULT_FORMAT "vkci-result/2"
#define RESULT_MAX_ATTEMPTS 11   /* RETRY_MAX + 1 */
#define RESULT_MAX_SUBTESTS 20000   /* tap.h's TAP_MAX_SUBTESTS */

const char *outcome_name(enum outcome o);
/* -1 for an unknown name */
int outcome_parse(const char *name);
enum outcome outcome_worst(enum outcome a, enum outcome b);

/* One attempt, as the record's "attempts" list keeps it. */
struct attempt {
	int attempt;                 /* 1, 2, ... */
	int exit_status;
	enum outcome outcome;
	char reason[300];
	char crash_title[256];
	char crash_fingerprint[256];
	char log_dir[PATH_MAX];      /* where its logs were moved, or "" */
};

/* One subtest of the test's TAP/KTAP ("2.5" for the fifth case of the
 * second suite). */
struct subtest {
	char id[48];
	char name[128];
	const char *outcome;         /* "pass", "fail", "skip", "todo" (static) */
};

struct vkci_result {
	char test[256];              /* SUITE/NAME */
	const char *kind;            /* "c", "console-scenario" */
	const char *backend;         /* "uml", "qemu" */
	const char *accel;           /* how node 0's CPU ran: NULL (UML), "kvm", "tcg" (static) */
	int restored;                /* node 0 was a clone of a booted snapshot */
	const char *kernel, *image, *payload;   /* not owned */
	long nodes, timeout_s;
	long long mem;
	long long start_unix_ms, duration_ms;

	int exit_status;             /* EXIT_PASS / FAIL / INFRA, as vkci exits */
	enum outcome outcome;
	char reason[300];            /* why it failed (the first problem), or "" */
	long planned, run, failed;   /* the TAP stream's counts; planned -1: no plan */

	char crash_kind[32];         /* "" when the kernel did not crash */
	char crash_title[256];
	char crash_fingerprint[256];
	char crash_line[512];
	char crash_others[7][160];   /* the titles of the other reports in the log */
	int ncrash_others;

	char console_log[PATH_MAX], serial_log[PATH_MAX], session_log[PATH_MAX];
	char kept_dir[PATH_MAX];     /* the instance dir kept for a post-mortem, or "" */
	char coverage_dir[PATH_MAX]; /* where this test's coverage data went, or "" */

	int attempt;                 /* this attempt (1 when not retried) */
	int flaky, quarantined;
	struct attempt attempts[RESULT_MAX_ATTEMPTS];  /* every attempt, this one last */
	int nattempts;

	struct subtest *subtests;    /* owned; result_free */
	int nsubtests;
	unsigned long subtests_dropped;  /* beyond the bound: counted, not listed */
};

void result_init(struct vkci_result *r);
void result_free(struct vkci_result *r);
/* Append a subtest (bounded by RESULT_MAX_SUBTESTS; beyond it they are
 * counted in nothing). */
void result_add_subtest(struct vkci_result *r, const char *id, const char *name, const char *outcome);
/* Append every subtest a TAP stream recorded (tap.h), and count the ones it
 * dropped. */
struct tap_state;
void result_add_tap_subtests(struct vkci_result *r, const struct tap_state *t);
/* The attempt summary of r (its own fields). */
void result_to_attempt(const struct vkci_result *r, struct attempt *a);
/* Write r as JSON to path, atomically (temp file + rename). 0, or -1 after
 * reporting. Strings are written whole (no silent truncation); bytes that
 * are not UTF-8 become U+FFFD. */
int result_write(const char *path, const struct vkci_result *r);

#endif
