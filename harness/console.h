/* console.h - crash triage over the kernel console (the guest's kmsg).
 *
 * Pure: bytes in through console_feed(); no fds, clocks or globals. The
 * state says whether, where and how the kernel crashed: every kernel report
 * the console holds (Oops, BUG, WARNING, KASAN, UBSAN, lockdep, hung task,
 * RCU stall, list/refcount/object corruption, slab, kmemleak, panic, ...;
 * the table in crashtab.c, shapes taken from Linux's own printers), each
 * with a one-line title "KIND in FUNCTION" and a fingerprint derived from
 * the title; a bounded excerpt of the first report and the last lines.
 *
 * Lines are read with or without printk timestamps ("[   12.345678] ")
 * and caller ids ("[    T123] ", "[     C0] "), in either order or both;
 * with caller ids, the lines of reports printed at the same time by two
 * tasks are told apart. See harness/CRASHES.md. */
#ifndef VKCI_CONSOLE_H
#define VKCI_CONSOLE_H

#include <stddef.h>

/* Coarse kind of a report, ordered by severity (worst = the highest seen).
 * Each report class of the table maps to one of these. */
enum crash_kind {
	CRASH_NONE,
	CRASH_WARNING,     /* WARNING, lockdep, list/refcount/ODEBUG, kmemleak (kernel goes on) */
	CRASH_HUNG_TASK,   /* INFO: task ... blocked for more than */
	CRASH_RCU_STALL,   /* rcu: INFO: ... detected stall(s) */
	CRASH_BUG,         /* BUG: ..., kernel BUG at, KASAN, UBSAN, slab, lockups */
	CRASH_OOPS,        /* Oops, general protection fault, divide error, Internal error */
	CRASH_KILLED_INIT, /* Attempted to kill init (without a panic line) */
	CRASH_PANIC,       /* Kernel panic - not syncing */
};

#define CONSOLE_LINE_MAX 512
#define CONSOLE_EXCERPT_LINES 24
#define CONSOLE_TAIL_LINES 12
#define CONSOLE_TITLE_MAX 160
#define CONSOLE_REPORTS 8     /* reports kept (the others are only counted) */
#define CONSOLE_FRAMES 4      /* top frames of a report kept for its title */
#define CONSOLE_FUNC_MAX 64

/* One report. All strings NUL-terminated, printable ASCII. */
struct crash_report {
	enum crash_kind kind;       /* worst kind in it (a WARNING that panics: panic) */
	int cls;                    /* index into the class table (crash_class_id()) */
	char title[CONSOLE_TITLE_MAX];  /* "KASAN: slab-use-after-free Read in foo" */
	unsigned long line;         /* its first line's number (1-based) */
	unsigned long repeats;      /* later reports with the same title, folded into this one */
	/* parser state, internal */
	char caller[12];            /* printk caller id of its header ("T123"), or "" */
	char cap[3][80];            /* captures of the header and detail lines */
	char hfunc[CONSOLE_FUNC_MAX];   /* function named by the header line */
	char ipfunc[CONSOLE_FUNC_MAX];  /* first RIP:/pc : function */
	char atfunc[CONSOLE_FUNC_MAX];  /* first lockdep ", at: " function */
	char frames[CONSOLE_FRAMES][CONSOLE_FUNC_MAX]; /* first candidate frames */
	int nframes;
	int trace;                  /* -1 wait for "stack backtrace:", 0 none yet, 1 in it, 2 done */
	unsigned flags;             /* class flags, incl. those of headers it absorbed */
	unsigned long last;         /* number of its last header line */
	int closed;                 /* an end marker was seen */
};

struct console_state {
	/* --- read by verdict.c and instance.c (the result) --- */
	enum crash_kind first;      /* kind of the first report */
	enum crash_kind worst;      /* most severe kind seen */
	char first_line[CONSOLE_LINE_MAX];  /* the first report's header line (printk prefix removed) */
	char excerpt[CONSOLE_EXCERPT_LINES][CONSOLE_LINE_MAX]; /* first report + following lines */
	int excerpt_len;
	char tail[CONSOLE_TAIL_LINES][CONSOLE_LINE_MAX];       /* ring of the last lines */
	int tail_pos, tail_len;
	unsigned long lines;        /* lines seen */
	unsigned long long bytes;   /* bytes seen */
	/* the reports, in order; reports[0] titles the crash; a report with
	 * the title of an earlier one only counts in its repeats. Headers that
	 * belong to an open report (the WARNING after "list_add corruption",
	 * the Oops after "BUG: unable to handle", the panic a report ends in)
	 * are part of it, not reports of their own. */
	struct crash_report reports[CONSOLE_REPORTS];
	int nreports;
	unsigned long reports_dropped;  /* reports past CONSOLE_REPORTS */
	/* --- internal --- */
	int cur;                    /* report the next lines belong to, or -1 */
	char lastip[CONSOLE_FUNC_MAX];   /* last RIP:/pc : function seen, and its line */
	unsigned long lastip_line;
	char cur_line[CONSOLE_LINE_MAX]; /* line being assembled (clipped) */
	size_t cur_len;
};

void console_init(struct console_state *c);
void console_feed(struct console_state *c, const char *buf, size_t len);
void console_finish(struct console_state *c);   /* flush an unterminated last line */
const char *crash_name(enum crash_kind k);
/* The first report's title, "" if no crash. */
const char *console_title(const struct console_state *c);
/* 16 hex digits: a hash of the first report's title, so the
 * same bug gives the same fingerprint across tests, kernels rebuilt,
 * machines and nights, and different titles different fingerprints.
 * Empty if no crash. */
void console_fingerprint(const struct console_state *c, char *buf, size_t size);
/* The same for any title. */
void crash_title_fingerprint(const char *title, char *buf, size_t size);
/* Short stable name of a report class ("kasan", "lockdep-deadlock", ...). */
const char *crash_class_id(int cls);
/* Is this crash fatal for the test? (every kind is: a WARNING fails a test too) */
int crash_fails(enum crash_kind k);

#endif
