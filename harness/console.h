/* console.h - crash detection over the kernel console (the guest's kmsg).
 *
 * Pure: bytes in through console_feed(); the state says whether, where and
 * how the kernel crashed, and keeps a bounded excerpt around the first crash
 * (the crash line, the call trace after it) and the last lines seen. */
#ifndef VKCI_CONSOLE_H
#define VKCI_CONSOLE_H

#include <stddef.h>

enum crash_kind {
	CRASH_NONE,
	CRASH_WARNING,     /* WARNING: CPU: ... (kernel continues) */
	CRASH_HUNG_TASK,   /* INFO: task ... blocked for more than */
	CRASH_RCU_STALL,   /* rcu: ... detected stall(s) */
	CRASH_BUG,         /* BUG: ..., kernel BUG at, UBSAN, general protection */
	CRASH_OOPS,        /* Oops */
	CRASH_KILLED_INIT, /* Attempted to kill init */
	CRASH_PANIC,       /* Kernel panic - not syncing */
};

#define CONSOLE_LINE_MAX 512
#define CONSOLE_EXCERPT_LINES 24
#define CONSOLE_TAIL_LINES 12
#define CONSOLE_FRAMES 4

struct console_state {
	enum crash_kind first;      /* first crash seen */
	enum crash_kind worst;      /* most severe crash seen */
	char first_line[CONSOLE_LINE_MAX];  /* the line that reported the first crash */
	char excerpt[CONSOLE_EXCERPT_LINES][CONSOLE_LINE_MAX]; /* first crash + following lines */
	int excerpt_len;
	char tail[CONSOLE_TAIL_LINES][CONSOLE_LINE_MAX];       /* ring of the last lines */
	int tail_pos, tail_len;
	unsigned long lines;        /* lines seen */
	unsigned long long bytes;   /* bytes seen */
	char frames[CONSOLE_FRAMES][64];  /* top reliable call-trace frames of the first crash */
	int nframes;
	int in_trace;               /* inside the first crash's Call Trace */
	char cur[CONSOLE_LINE_MAX]; /* line being assembled (clipped) */
	size_t cur_len;
};

void console_init(struct console_state *c);
void console_feed(struct console_state *c, const char *buf, size_t len);
void console_finish(struct console_state *c);   /* flush an unterminated last line */
const char *crash_name(enum crash_kind k);
/* "kernel panic: __handle_sysrq < write_sysrq_trigger < ..." from the crash
 * kind and the top call-trace frames (generic ones such as panic or
 * dump_stack skipped, unreliable "? " frames ignored): the same bug gives the
 * same fingerprint across tests, kernels rebuilt and nights. Empty if no
 * crash. */
void console_fingerprint(const struct console_state *c, char *buf, size_t size);
/* Is this crash fatal for the test? (every kind is: a WARNING fails a test too) */
int crash_fails(enum crash_kind k);

#endif
