/* transfer.h - the serial-line file transport: the agent streams a tree of
 * files (a CONFIG_GCOV_KERNEL kernel's /sys/kernel/debug/gcov, or whatever
 * `vkci.fetch=DIR` names) in F records after the test ended, and the host
 * rebuilds it byte for byte. Records are in harness/PROTOCOL.md ("File
 * transfer").
 *
 * Two halves:
 *  - struct xfer_parser is pure: the payloads of F records (what follows
 *    "F <key> ", as SER_FILE events carry them) go in through xfer_record(),
 *    events come out through the callback: a file begins (its name decoded
 *    and checked), bytes of it, it ended whole (size and CRC-32 verified),
 *    it was refused (and why), the agent's final count. No fds, clocks or
 *    globals: unit-tested and fuzzed.
 *  - struct xfer_rx is the receiver of one instance: it feeds SER_FILE
 *    events to a parser and writes the accepted files under one directory
 *    (openat/mkdirat from a directory fd, O_NOFOLLOW|O_EXCL, nothing ever
 *    followed or overwritten), reports refused files as TAP diagnostics
 *    through the verdict's emit callback, and malformed records to the
 *    verdict as protocol violations (SER_GARBAGE).
 *
 * Policy: a refused file (hostile or over-long name, over a limit, bad size
 * or checksum, cannot be created) is not written (a partial one is removed),
 * noted as a diagnostic, and the transfer goes on; it does not change the
 * test's verdict. A malformed F record is a protocol violation like any
 * other garbage on the serial line: the test fails. */
#ifndef VKCI_TRANSFER_H
#define VKCI_TRANSFER_H

#include <stddef.h>
#include <stdint.h>

#include "verdict.h"

/* Default limits (override: xfer_parse_limits(), VKCI_FETCH_LIMITS). */
#define XFER_MAX_FILE   (64ULL << 20)   /* bytes of one file */
#define XFER_MAX_TOTAL  (256ULL << 20)  /* bytes of all files of one transfer */
#define XFER_MAX_FILES  65536UL         /* files (and, separately, directories) */
/* Fixed by the protocol. */
#define XFER_MAX_PATH   1024            /* bytes of a decoded relative path */
#define XFER_MAX_NAME   255             /* bytes of one path component */
#define XFER_MAX_DEPTH  32              /* components of a path */
#define XFER_CHUNK      3072            /* file bytes per data record (4096 base64 chars) */
#define XFER_MAX_NOTES  20              /* refusal diagnostics per transfer, then a count */

enum xfer_type {
	XFER_BEGIN,    /* a file starts: path/path_len (checked: relative, no NUL or
	                * control byte, no empty, "." or ".." component) */
	XFER_DATA,     /* data/len: the next bytes of the current file */
	XFER_END,      /* the current file arrived whole: value = its size */
	XFER_REFUSED,  /* the current file (path may be NULL) is refused: why;
	                * anything written of it must go */
	XFER_NOTE,     /* why: the agent's message outside a file (cannot read DIR) */
	XFER_COUNT,    /* the agent's final count matched: value files, value2 bytes */
	XFER_GARBAGE,  /* a malformed or out-of-place F record: why */
};

struct xfer_event {
	enum xfer_type type;
	const char *path;            /* decoded; not NUL-safe before checks: use path_len */
	size_t path_len;
	const unsigned char *data;
	size_t len;
	unsigned long long value, value2;
	const char *why;             /* XFER_REFUSED/NOTE/GARBAGE: short reason */
};

typedef void (*xfer_cb)(void *ctx, const struct xfer_event *ev);

struct xfer_limits {
	unsigned long long max_file, max_total;
	unsigned long max_files;
};

enum xfer_state { XS_IDLE, XS_FILE, XS_SKIP, XS_DONE };

struct xfer_parser {
	xfer_cb cb;
	void *ctx;
	struct xfer_limits lim;      /* set by xfer_init to the defaults; may be changed before use */
	enum xfer_state state;
	char path[XFER_MAX_PATH + 1];
	size_t path_len;
	unsigned long long size;     /* bytes of the current file so far */
	uint32_t crc;                /* running CRC-32 state of the current file */
	unsigned long long total;    /* bytes of the files accepted so far (and the current one) */
	unsigned long files;         /* files accepted whole */
	unsigned long refused;       /* files refused */
	unsigned long ends;          /* end records of files (accepted or refused) */
	unsigned long long end_bytes;/* sum of the sizes those end records declared */
	unsigned long records, garbage;
	int started;                 /* some F record arrived */
	char why[160];               /* storage for composed reasons */
	unsigned char buf[XFER_CHUNK];
};

void xfer_init(struct xfer_parser *p, xfer_cb cb, void *ctx);
/* One F record's payload (after "F <key> "). */
void xfer_record(struct xfer_parser *p, const char *s, size_t len);
/* The consumer refuses the current file (e.g. cannot create it): from inside
 * the callback of XFER_BEGIN/XFER_DATA. Emits XFER_REFUSED. */
void xfer_refuse(struct xfer_parser *p, const char *why);
/* End of stream: a file cut off is refused; a transfer without its final
 * count is noted (XFER_NOTE). */
void xfer_finish(struct xfer_parser *p);

/* "FILE:TOTAL:FILES", sizes as parse_size() takes them (64M:256M:65536);
 * empty fields keep the default. Returns 0 or -1 (reported). */
int xfer_parse_limits(const char *s, struct xfer_limits *lim);
/* Quote a name for a diagnostic: bytes outside printable ASCII, blanks, '%'
 * and quotes become %XX; clipped to size. */
void xfer_quote(char *dst, size_t size, const char *s, size_t len);

/* The receiver of one instance. */
struct xfer_rx {
	struct xfer_parser p;
	struct verdict *v;           /* not owned: diagnostics and garbage go there */
	const char *parent;          /* not owned; NULL: verify only, write nothing */
	const char *name;            /* receiving dir parent/name, or parent itself if NULL */
	char dir[4096];
	int dirfd;                   /* the receiving dir, once created */
	int dir_failed, dir_errno;   /* it could not be created: refuse everything */
	int fd, leaf_parent;         /* the file being written and its directory (not owned) */
	int cache_fd;                /* the directory of the last file (files come dir by dir) */
	char cache_path[XFER_MAX_PATH + 1];
	size_t cache_len;
	char leaf[XFER_MAX_NAME + 1];
	unsigned long dirs;          /* directories created */
	unsigned long notes;         /* refusal diagnostics emitted */
	int counted;                 /* the final count arrived */
	long long t_first, t_last;   /* ms: first and last F record */
};

/* parent/name is created (0755) at the first file; parent == NULL: check
 * everything, write nothing (vkci parse without --fetch-dir). parent (and
 * v) must outlive rx; the path is read at the first file, so it may be
 * filled in after init. limits: as xfer_parse_limits(), NULL for defaults. */
int xfer_rx_init(struct xfer_rx *rx, const char *parent, const char *name,
		 const char *limits, struct verdict *v);
/* A SER_FILE event (other events are ignored). */
void xfer_rx_event(struct xfer_rx *rx, const struct serial_event *ev);
/* End of the stream: closes everything, removes a partial file, notes an
 * incomplete transfer. With handover != NULL and a received tree, renames
 * parent/name to parent/handover unless that exists (the coverage pick-up
 * point, see collect_gcov() in instance.c). Returns the number of files. */
unsigned long xfer_rx_finish(struct xfer_rx *rx, const char *handover);

#endif
