/* transfer.c - the pure parser of the serial-line file transport (see
 * transfer.h); the receiver is xfer_rx.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "proto.h"
#include "transfer.h"
#include "util.h"
#include "banned.h"

/* ==== the pure parser ==================================================== */

void xfer_init(struct xfer_parser *p, xfer_cb cb, void *ctx)
{
	memset(p, 0, sizeof(*p));
	p->cb = cb;
	p->ctx = ctx;
	p->lim.max_file = XFER_MAX_FILE;
	p->lim.max_total = XFER_MAX_TOTAL;
	p->lim.max_files = XFER_MAX_FILES;
}

static void emit(struct xfer_parser *p, enum xfer_type type, const char *why)
{
	struct xfer_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.why = why;
	if (type == XFER_BEGIN || type == XFER_REFUSED || type == XFER_END) {
		ev.path = p->path_len ? p->path : NULL;
		ev.path_len = p->path_len;
	}
	if (type == XFER_END)
		ev.value = p->size;
	if (type == XFER_GARBAGE)
		p->garbage++;
	p->cb(p->ctx, &ev);
}

/* Refuse the file being received; further data of it is swallowed until
 * its end (or abort) record. */
void xfer_refuse(struct xfer_parser *p, const char *why)
{
	if (p->state != XS_FILE)
		return;
	p->state = XS_SKIP;
	p->refused++;
	p->total -= p->size;   /* its bytes are removed: they count no more */
	emit(p, XFER_REFUSED, why);
}

static void garbage(struct xfer_parser *p, const char *why)
{
	emit(p, XFER_GARBAGE, why);
}

static int number(const char *s, size_t n, unsigned long long *out)
{
	return proto_number(s, n, ~0ULL, out);
}

/* Percent-decode a name into p->path. -1: malformed encoding (garbage);
 * -2: too long (refused). */
static int decode_name(struct xfer_parser *p, const char *s, size_t n)
{
	long got = proto_decode(s, n, p->path, sizeof(p->path));

	if (got == PROTO_BAD)
		return -1;
	if (got < 0 || got > XFER_MAX_PATH)
		return -2;
	p->path_len = (size_t)got;
	return 0;
}

/* NULL if the decoded name may be created under the receiving dir. */
static const char *check_name(const char *s, size_t n)
{
	size_t i, start = 0, depth = 0;

	if (n == 0)
		return "empty name";
	if (s[0] == '/')
		return "absolute path";
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == 0)
			return "NUL byte in the name";
		if (c < 0x20 || c == 0x7f)
			return "control character in the name";
	}
	for (i = 0; i <= n; i++) {
		size_t len;

		if (i < n && s[i] != '/')
			continue;
		len = i - start;
		if (len == 0)
			return "empty path component";
		if ((len == 1 && s[start] == '.') || (len == 2 && s[start] == '.' && s[start + 1] == '.'))
			return "'.' or '..' component";
		if (len > XFER_MAX_NAME)
			return "path component longer than 255 bytes";
		if (++depth > XFER_MAX_DEPTH)
			return "path deeper than 32 components";
		start = i + 1;
	}
	return NULL;
}

static void on_begin(struct xfer_parser *p, const char *a, size_t an)
{
	const char *why;
	int r;

	if (p->state == XS_FILE || p->state == XS_SKIP) {
		garbage(p, "file begins inside another file");
		xfer_refuse(p, "interrupted by the next file");
		p->state = XS_IDLE;
	}
	p->size = 0;
	p->crc = 0;
	p->path_len = 0;
	r = decode_name(p, a, an);
	if (r == -1) {
		p->path_len = 0;
		p->state = XS_SKIP;
		garbage(p, "malformed name in a file record");
		return;
	}
	p->state = XS_FILE;
	if (r == -2)
		why = "name longer than 1024 bytes";
	else
		why = check_name(p->path, p->path_len);
	if (!why && p->files >= p->lim.max_files) {
		snprintf(p->why, sizeof(p->why), "more than %lu files", p->lim.max_files);
		why = p->why;
	}
	if (!why && p->total >= p->lim.max_total) {
		snprintf(p->why, sizeof(p->why), "the transfer reached its total limit of %llu bytes",
			 p->lim.max_total);
		why = p->why;
	}
	if (why) {
		if (r == -2)
			p->path_len = XFER_MAX_PATH;
		xfer_refuse(p, why);
		return;
	}
	emit(p, XFER_BEGIN, NULL);   /* last: the consumer may refuse from inside */
}

static void on_data(struct xfer_parser *p, const char *a, size_t an)
{
	long got = proto_base64_decode(a, an, p->buf, XFER_CHUNK);
	struct xfer_event ev;

	if (got < 0) {
		garbage(p, "malformed data in a file record");
		xfer_refuse(p, "malformed data");
		return;
	}
	if (p->state == XS_SKIP)
		return;
	if (p->state != XS_FILE) {
		garbage(p, "file data outside a file");
		return;
	}
	if (p->size + (unsigned long long)got > p->lim.max_file) {
		snprintf(p->why, sizeof(p->why), "larger than the limit of %llu bytes per file",
			 p->lim.max_file);
		xfer_refuse(p, p->why);
		return;
	}
	if (p->total + (unsigned long long)got > p->lim.max_total) {
		snprintf(p->why, sizeof(p->why), "the transfer exceeds its total limit of %llu bytes",
			 p->lim.max_total);
		xfer_refuse(p, p->why);
		return;
	}
	p->size += (unsigned long long)got;
	p->total += (unsigned long long)got;
	p->crc = proto_crc32(p->crc, p->buf, (size_t)got);
	memset(&ev, 0, sizeof(ev));
	ev.type = XFER_DATA;
	ev.data = p->buf;
	ev.len = (size_t)got;
	p->cb(p->ctx, &ev);
}

/* "end <bytes> <crc32 as 8 hex digits>" */
static void on_end(struct xfer_parser *p, const char *a, size_t an)
{
	const char *sp = memchr(a, ' ', an);
	unsigned long long size;
	uint32_t crc = 0;
	size_t i;

	if (!sp || number(a, (size_t)(sp - a), &size) < 0 || a + an - (sp + 1) != 8) {
		garbage(p, "malformed end record");
		xfer_refuse(p, "malformed end record");
		if (p->state == XS_SKIP)
			p->state = XS_IDLE;
		return;
	}
	for (i = 0; i < 8; i++) {
		char c = sp[1 + i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
			garbage(p, "malformed end record");
			xfer_refuse(p, "malformed end record");
			if (p->state == XS_SKIP)
				p->state = XS_IDLE;
			return;
		}
		crc = crc << 4 | (uint32_t)proto_hexval(c);
	}
	if (p->state != XS_FILE && p->state != XS_SKIP) {
		garbage(p, "file end outside a file");
		return;
	}
	p->ends++;
	p->end_bytes += size;
	if (p->state == XS_FILE) {
		if (size != p->size) {
			snprintf(p->why, sizeof(p->why), "size mismatch (the agent sent %llu bytes, "
				 "%llu arrived)", size, p->size);
			xfer_refuse(p, p->why);
		} else if (crc != p->crc) {
			xfer_refuse(p, "checksum mismatch (CRC-32)");
		} else {
			p->files++;
			emit(p, XFER_END, NULL);
		}
	}
	p->state = XS_IDLE;
}

static void on_abort(struct xfer_parser *p, const char *a, size_t an)
{
	char msg[120];

	proto_clip(msg, sizeof(msg), a, an);
	snprintf(p->why, sizeof(p->why), "agent: %s", an ? msg : "(no reason given)");
	if (p->state == XS_FILE) {
		xfer_refuse(p, p->why);
	} else if (p->state == XS_IDLE) {
		emit(p, XFER_NOTE, p->why);
		return;
	}
	p->state = XS_IDLE;
}

/* "count <files> <bytes>": the agent's totals of its end records. */
static void on_count(struct xfer_parser *p, const char *a, size_t an)
{
	const char *sp = memchr(a, ' ', an);
	unsigned long long files, bytes;
	struct xfer_event ev;

	if (!sp || number(a, (size_t)(sp - a), &files) < 0 ||
	    number(sp + 1, (size_t)(a + an - sp - 1), &bytes) < 0) {
		garbage(p, "malformed count record");
		return;
	}
	if (p->state == XS_FILE || p->state == XS_SKIP) {
		garbage(p, "file count inside a file");
		xfer_refuse(p, "cut off by the final count");
	}
	p->state = XS_DONE;
	if (files != p->ends || bytes != p->end_bytes) {
		snprintf(p->why, sizeof(p->why), "file count mismatch (the agent sent %llu files "
			 "of %llu bytes, %lu of %llu arrived)", files, bytes, p->ends, p->end_bytes);
		garbage(p, p->why);
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.type = XFER_COUNT;
	ev.value = files;
	ev.value2 = bytes;
	p->cb(p->ctx, &ev);
}

void xfer_record(struct xfer_parser *p, const char *s, size_t len)
{
	static const struct {
		const char *verb;
		void (*fn)(struct xfer_parser *, const char *, size_t);
	} verbs[] = {
		{ "begin", on_begin }, { "data", on_data }, { "end", on_end },
		{ "abort", on_abort }, { "count", on_count },
	};
	const char *sp = memchr(s, ' ', len);
	size_t vlen = sp ? (size_t)(sp - s) : len, i;

	p->records++;
	p->started = 1;
	if (p->state == XS_DONE) {
		garbage(p, "file record after the final count");
		return;
	}
	for (i = 0; i < ARRAY_SIZE(verbs); i++) {
		if (strlen(verbs[i].verb) != vlen || memcmp(s, verbs[i].verb, vlen))
			continue;
		if (!sp && verbs[i].fn != on_abort) {
			garbage(p, "file record without arguments");
			return;
		}
		verbs[i].fn(p, sp ? sp + 1 : s + len, sp ? (size_t)(s + len - sp - 1) : 0);
		return;
	}
	garbage(p, "unknown file record");
}

void xfer_finish(struct xfer_parser *p)
{
	if (p->state == XS_FILE)
		xfer_refuse(p, "cut off: the serial stream ended inside the file");
	if (p->started && p->state != XS_DONE)
		emit(p, XFER_NOTE, "incomplete: the serial stream ended before the agent's final count");
	p->state = XS_DONE;
}

int xfer_parse_limits(const char *s, struct xfer_limits *lim)
{
	const char *f[3];
	char buf[128];
	size_t i;
	char *c;

	lim->max_file = XFER_MAX_FILE;
	lim->max_total = XFER_MAX_TOTAL;
	lim->max_files = XFER_MAX_FILES;
	if (!s || !*s)
		return 0;
	if (fmt(buf, sizeof(buf), "%s", s) < 0)
		return error("bad transfer limits '%s' (FILE:TOTAL:FILES, e.g. 64M:256M:65536)", s);
	f[0] = buf;
	f[1] = f[2] = "";
	if ((c = strchr(buf, ':'))) {
		*c = '\0';
		f[1] = c + 1;
		if ((c = strchr(c + 1, ':'))) {
			*c = '\0';
			f[2] = c + 1;
		}
	}
	for (i = 0; i < 3; i++) {
		long long v;

		if (!*f[i])
			continue;
		v = i < 2 ? parse_size(f[i]) : parse_uint(f[i], 100000000);
		if (v <= 0 || strchr(f[i], ':'))
			return error("bad transfer limits '%s' (FILE:TOTAL:FILES, e.g. 64M:256M:65536)", s);
		if (i == 0)
			lim->max_file = (unsigned long long)v;
		else if (i == 1)
			lim->max_total = (unsigned long long)v;
		else
			lim->max_files = (unsigned long)v;
	}
	return 0;
}

void xfer_quote(char *dst, size_t size, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, o = 0, room = size > 4 ? size - 4 : 0;  /* for "..." and the NUL */

	if (!size)
		return;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int plain = c > 0x20 && c < 0x7f && c != '%' && c != '\'' && c != '"' && c != '\\';

		if (o + (plain ? 1 : 3) > room)
			break;
		if (plain) {
			dst[o++] = (char)c;
		} else {
			dst[o++] = '%';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	if (i < len && size >= 4) {
		dst[o++] = '.';
		dst[o++] = '.';
		dst[o++] = '.';
	}
	dst[o] = '\0';
}
