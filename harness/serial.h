/* serial.h - parser of the agent's serial-line stream (see PROTOCOL.md).
 *
 * Pure: bytes go in through serial_feed(), events come out through the
 * callback; no fds, clocks or globals, so it can be unit-tested and fuzzed.
 * Every byte is untrusted: lines are bounded (SERIAL_MAX_LINE), anything
 * malformed becomes a SER_GARBAGE event, never a crash. */
#ifndef VKCI_SERIAL_H
#define VKCI_SERIAL_H

#include <stddef.h>

#include "proto.h"

#define SERIAL_MAX_LINE PROTO_MAX_RECORD   /* longest record the agent ever writes */
#define SERIAL_TOKEN_LEN PROTO_TOKEN_LEN   /* hex digits of the per-boot key */

enum serial_type {
	SER_HELLO,    /* V vkci-agent <version>: agent is up, serial line raw */
	SER_KEY,      /* K <token>: agent got the host's key */
	SER_START,    /* S <token> <test>: test exec'd */
	SER_OUT,      /* O/o <bytes>: a line (or part of one) of the test's stdout */
	SER_ERR,      /* E/e <bytes>: same for stderr */
	SER_EXIT,     /* X <token> exit <code> */
	SER_SIGNAL,   /* X <token> signal <n> */
	SER_TIMEOUT,  /* X <token> timeout <seconds> */
	SER_DONE,     /* D <token>: agent is syncing and powering off */
	SER_AGENT_ERROR, /* ! <token|-> <message> */
	SER_FILE,     /* F <token> <payload>: a file-transfer record (transfer.h parses data) */
	SER_GARBAGE,  /* a line that is not a valid record (data = the line, clipped) */
};

struct serial_event {
	enum serial_type type;
	const char *data;   /* payload: output bytes, test name, message; not NUL-safe: use len */
	size_t len;
	int partial;        /* SER_OUT/SER_ERR: no newline yet, more of this line follows */
	long value;         /* exit code, signal number, timeout seconds, version */
	const char *why;    /* SER_GARBAGE: short reason */
};

typedef void (*serial_cb)(void *ctx, const struct serial_event *ev);

struct serial_parser {
	serial_cb cb;
	void *ctx;
	char line[SERIAL_MAX_LINE + 1];
	size_t len;
	int overflow;                      /* current line exceeded the bound */
	char token[SERIAL_TOKEN_LEN + 1];  /* set by the first K record */
	int have_token;
	unsigned long records, garbage;    /* counters */
};

void serial_init(struct serial_parser *p, serial_cb cb, void *ctx);
void serial_feed(struct serial_parser *p, const char *buf, size_t len);
/* End of stream: an unterminated last line becomes SER_GARBAGE ("truncated"). */
void serial_finish(struct serial_parser *p);

#endif
