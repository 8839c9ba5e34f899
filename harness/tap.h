/* tap.h - a TAP (v12/13/14) and KTAP (v1) line classifier and the running
 * state of one test's stream. Pure: lines in, state out (the subtest list is
 * the only allocation, bounded; tap_free releases it).
 *
 * Top level (no indentation): plan, test lines, Bail out!, version lines,
 * exactly as TAP::Harness reads them. On top of that, KTAP
 * (Documentation/dev-tools/ktap.rst):
 *   - nesting by indentation: a version, plan, "# Subtest:" or result line
 *     indented deeper than the current level opens a subtest level (KUnit
 *     indents by 4, the spec by 2: any increase counts); a result line
 *     indented less closes levels down to its own. Diagnostic and unknown
 *     lines never change the nesting. At most TAP_MAX_DEPTH levels; deeper
 *     lines count at the deepest.
 *   - every result line, at any level, is a subtest {id, name, outcome}: id
 *     "3" at the top, "2.5" for the 5th result inside top-level test 2 (the
 *     parent's number is the next one at its level when the child ends), and
 *     so on; outcome from ok/not ok and the directive: SKIP (ok or not ok)
 *     skip, TODO and XFAIL todo, else pass/fail (TIMEOUT, ERROR: fail).
 *   - a nested failure (not ok without SKIP/TODO/XFAIL) counts even when
 *     every parent says ok, and a nested level whose plan does not match its
 *     results is noted.
 *   - "# Totals: pass:N fail:N ..." lines (kselftest.h, KUnit) at the top
 *     level are summed.
 *   - several top-level TAP streams in a row (a script that runs several
 *     kselftest programs: "TAP version 13" + plan again after results) are
 *     segments of one stream: their plans add up.
 *   - top-level results are numbered in sequence (tap_state.number: the
 *     number a line must carry for a consumer that sees one stream, e.g.
 *     prove): a later segment's numbers continue, and a program's skipped or
 *     repeated numbers are corrected (a plan that is not met still counts). */
#ifndef VKCI_TAP_H
#define VKCI_TAP_H

#include <stddef.h>

enum tap_line {
	TAP_PLAN,      /* 1..N [# SKIP reason] */
	TAP_TEST,      /* ok / not ok ... */
	TAP_BAIL,      /* Bail out! ... */
	TAP_VERSION,   /* TAP version 13, KTAP version 1 */
	TAP_COMMENT,   /* # ... */
	TAP_OTHER,     /* anything else (ignored by TAP consumers) */
	TAP_NESTED,    /* a KTAP version, plan or result line inside a subtest */
};

enum tap_outcome { TAP_OUT_PASS, TAP_OUT_FAIL, TAP_OUT_SKIP, TAP_OUT_TODO };

#define TAP_MAX_DEPTH 8
#define TAP_MAX_SUBTESTS 20000
#define TAP_ID_SIZE 48
#define TAP_NAME_SIZE 128

struct tap_subtest {
	char id[TAP_ID_SIZE];        /* "3", "2.5", "1.4.2" */
	char name[TAP_NAME_SIZE];    /* the description, without number, "- " and directive */
	unsigned char outcome;       /* enum tap_outcome */
	unsigned char depth;         /* 0 top level */
};

struct tap_level {
	int indent;                  /* columns of indentation of this level's lines */
	long last_number;            /* highest result number seen at this level */
	long planned;                /* -1 until a plan */
	long results;                /* result lines at this level */
	long failed;                 /* failures inside (this level and deeper) */
};

struct tap_totals {
	int lines;                   /* "# Totals:" lines seen at the top level */
	long pass, fail, xfail, xpass, skip, error;
};

struct tap_state {
	long planned;        /* -1 until a plan line is seen (the sum over segments) */
	int plan_after_tests;/* plan came after at least one test line */
	int plans;           /* number of plan lines */
	int plan_errors;     /* plan lines beyond the first of a segment (an error) */
	int segments;        /* top-level streams after the first (a version line, or a
	                      * plan after a complete segment, starts one) */
	int skip_all;        /* 1..0 # SKIP */
	char skip_reason[200];
	long tests;          /* top-level test lines seen */
	long last_number;    /* top-level results so far: the number of the last one */
	long failed;         /* top-level not ok, not TODO/SKIP */
	long skipped;        /* top-level results with the SKIP directive */
	int bailed;          /* Bail out! seen */
	char first_failure[200]; /* description of the first failing test */

	/* the last top-level test line, for consumers that relay it */
	long number;         /* the number it must carry in one continued stream */
	size_t rest;         /* offset of the text after its number (and blanks) */
	int renumber;        /* its own number differs from `number` (or it had none) */
	int skip_not_ok;     /* it is "not ok ... # SKIP": a skip, not a failure */

	/* KTAP */
	int ktap;            /* a "KTAP version" line was seen */
	int depth;           /* current level, 0 = top */
	struct tap_level lv[TAP_MAX_DEPTH];
	long seg_base;       /* top-level tests before the current segment */
	long seg_planned;    /* current segment's plan, -1 none */
	int seg_plans;       /* plan lines in the current segment */
	long nested_failed;  /* failed results inside subtests */
	char first_nested_failure[200];  /* "2.5 name" of the first */
	long nested_plan_mismatch;       /* subtest levels whose plan was not met */
	char first_plan_mismatch[120];
	struct tap_totals totals;

	struct tap_subtest *sub;   /* every result line, in order (owned; tap_free) */
	size_t nsub, sub_cap;
	unsigned long sub_dropped; /* results beyond TAP_MAX_SUBTESTS (or no memory) */
};

void tap_init(struct tap_state *t);
void tap_free(struct tap_state *t);
/* Classify one line (without its newline) and update the state. */
enum tap_line tap_feed_line(struct tap_state *t, const char *line, size_t len);
/* Close every open subtest level (end of stream): plan checks of the levels. */
void tap_finish(struct tap_state *t);
/* "pass", "fail", "skip" or "todo". */
const char *tap_outcome_name(int outcome);

#endif
