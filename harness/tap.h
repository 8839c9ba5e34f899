/* tap.h - a small TAP (v12/13) line classifier and the running state of one
 * test's TAP stream. Pure: lines in, state out. */
#ifndef VKCI_TAP_H
#define VKCI_TAP_H

#include <stddef.h>

enum tap_line {
	TAP_PLAN,      /* 1..N [# SKIP reason] */
	TAP_TEST,      /* ok / not ok ... */
	TAP_BAIL,      /* Bail out! ... */
	TAP_VERSION,   /* TAP version 13 */
	TAP_COMMENT,   /* # ... */
	TAP_OTHER,     /* anything else (ignored by TAP consumers) */
};

struct tap_state {
	long planned;        /* -1 until a plan line is seen */
	int plan_after_tests;/* plan came after at least one test line */
	int plans;           /* number of plan lines (more than one is an error) */
	int skip_all;        /* 1..0 # SKIP */
	char skip_reason[200];
	long tests;          /* test lines seen */
	long last_number;    /* highest test number seen */
	long failed;         /* not ok, not TODO */
	int bailed;          /* Bail out! seen */
	char first_failure[200]; /* description of the first failing test */
};

void tap_init(struct tap_state *t);
/* Classify one line (without its newline) and update the state. */
enum tap_line tap_feed_line(struct tap_state *t, const char *line, size_t len);

#endif
