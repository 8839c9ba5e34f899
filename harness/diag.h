/* diag.h - the only writer of diagnostics to stderr.
 *
 * Messages are lowercase, have no full stop, quote their subject and say what
 * to do:  vkci: cannot open kernel '/x/linux': no such file (set KERNEL=...)
 * Library code calls error() and returns -1; only command entry points exit. */
#ifndef VKCI_DIAG_H
#define VKCI_DIAG_H

#include <stdarg.h>

/* Exit statuses of every vkci command (documented in README.md). */
enum {
	EXIT_PASS = 0,     /* all tests passed (or were skipped) */
	EXIT_FAIL = 1,     /* a test failed, crashed or timed out */
	EXIT_USAGE = 2,    /* bad command line or bad input from the user */
	EXIT_INFRA = 3,    /* vkci could not run the test: harness/kernel/image problem */
};

/* "vkci: <msg>" on stderr; returns -1 so callers can `return error(...)`. */
int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Same, with ": <strerror(errno)>" appended. errno is preserved. */
int error_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Progress notes, shown only when verbosity > 0 (VKCI_VERBOSE or -v). */
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A progress line for long steps: rewritten in place on a terminal, one line
 * per 30 s otherwise; `final` always prints and ends the line. */
void progress(int final, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print and exit with status. */
_Noreturn void die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

extern int diag_verbosity;

#endif
