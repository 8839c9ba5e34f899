/* verdict.h - turns one test's serial events, TAP and console state and the
 * host's observations into the TAP that `vkci exec` prints and its exit
 * status. Pure: lines go out through the emit callback. Shared by `vkci exec`
 * (live) and `vkci parse` (saved transcripts), so both give the same verdict.
 *
 * Output rules: the test's TAP lines are relayed as they arrive, except its
 * plan, which is held back; at the end vkci prints one `not ok` per problem
 * the test could not report itself (crash, timeout, signal, missing plan,
 * short stream, protocol violation, ...) with TAP diagnostics, then a
 * trailing plan covering everything printed. */
#ifndef VKCI_VERDICT_H
#define VKCI_VERDICT_H

#include "console.h"
#include "serial.h"
#include "tap.h"
#include "util.h"

#define VERDICT_MAX_RELAY (8u << 20)   /* test output relayed to stdout, bytes */
#define VERDICT_MAX_NOTES 8

typedef void (*verdict_emit)(void *ctx, const char *line, size_t len);

/* What the host saw; filled by `vkci exec` (or parse's options). */
enum host_timeout { HOST_TIMEOUT_NONE, HOST_TIMEOUT_BOOT, HOST_TIMEOUT_TEST, HOST_TIMEOUT_SHUTDOWN };

/* The verdict of another node of a multi-node test, reported by node 0. */
struct peer_result {
	int node;
	int rc;                     /* its exit status */
	const char *output;         /* its TAP and diagnostics, NUL-terminated */
	const char *console_path;
};

struct host_facts {
	char infra_error[256];      /* vkci could not run the instance at all */
	enum host_timeout timeout;  /* which host deadline expired, if any */
	long timeout_s;             /* that deadline, seconds */
	int kernel_reaped;          /* kernel process was reaped */
	int kernel_status;          /* its wait status */
	int killed_by_host;         /* vkci sent it SIGTERM/SIGKILL */
	const char *notes[VERDICT_MAX_NOTES]; /* diagnostics to add on failure (log paths) */
	int nnotes;
	const struct peer_result *peers;  /* other nodes (multi-node tests) */
	int npeers;
	int abort_after_poweroff_ok; /* the backend may die by SIGABRT after a clean power-off
	                              * (UML 6.12): the test's result stands, with a note */
};

struct verdict {
	verdict_emit emit;
	void *ctx;
	struct tap_state tap;
	const struct console_state *console;  /* not owned */

	int hello, key, started, done;
	long agent_version;
	enum serial_type end;        /* SER_EXIT/SER_SIGNAL/SER_TIMEOUT, or SER_GARBAGE for none */
	long end_value;
	char test[128];
	char agent_error[256];
	unsigned long garbage;
	char garbage_why[96];
	unsigned long late_output;   /* output lines after the end record */

	struct sbuf out_line, err_line;  /* partial lines being assembled */
	char reason[300];            /* after finish: why it failed (first problem), or "" */
	char bail[200];              /* the test's "Bail out!" reason (not relayed: it would stop prove) */
	int skipped;                 /* after finish: the test skipped itself */
	size_t relayed;
	unsigned long lines_out;     /* output lines relayed */
	unsigned long dropped_lines;
};

/* One line of output (a diagnostic: start it with "# "), made printable
 * (control bytes but tab become '?') and cut at 1 KiB, through the
 * verdict's emit callback. For modules that report into a test's TAP. */
void verdict_emitf(struct verdict *v, const char *f, ...) __attribute__((format(printf, 2, 3)));

void verdict_init(struct verdict *v, verdict_emit emit, void *ctx,
		  const struct console_state *console);
void verdict_event(struct verdict *v, const struct serial_event *ev);
/* Emit the closing lines; returns the exit status (EXIT_PASS/FAIL/INFRA). */
int verdict_finish(struct verdict *v, const struct host_facts *host);
void verdict_free(struct verdict *v);
/* Human name of a signal number, e.g. "SIGSEGV". */
const char *signal_name(int sig);

#endif
