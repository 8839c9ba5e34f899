#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "transfer.h"
#include "util.h"
#include "banned.h"

/* ==== the pure parser ==================================================== */

uint32_t xfer_crc32(uint32_t crc, const void *buf, size_t len)
{
	static uint32_t table[256];
	static int ready;
	const unsigned char *p = buf;
	size_t i;

	if (!ready) {   /* idempotent: a race only computes the same table twice */
		uint32_t c, n, k;

		for (n = 0; n < 256; n++) {
			for (c = n, k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[n] = c;
		}
		ready = 1;
	}
	crc = ~crc;
	for (i = 0; i < len; i++)
		crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

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

/* Strict decimal, at most 15 digits (2^49 and more are out of reach). */
static int number(const char *s, size_t n, unsigned long long *out)
{
	unsigned long long v = 0;
	size_t i;

	if (n == 0 || n > 15 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int b64val(char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 :
	       c >= '0' && c <= '9' ? c - '0' + 52 : c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Strict base64 of one data record: 4..4096 chars, a multiple of 4, '='
 * only as the last one or two, unused bits zero. Returns bytes or -1. */
static long b64decode(const char *s, size_t n, unsigned char *out)
{
	size_t i, o = 0;

	if (n == 0 || n % 4 || n / 4 * 3 > XFER_CHUNK)
		return -1;
	for (i = 0; i < n; i += 4) {
		int a = b64val(s[i]), b = b64val(s[i + 1]), c = b64val(s[i + 2]), d = b64val(s[i + 3]);
		int last = i + 4 == n;

		if (a < 0 || b < 0)
			return -1;
		if (last && s[i + 2] == '=' && s[i + 3] == '=') {
			if (b & 15)
				return -1;
			out[o++] = (unsigned char)(a << 2 | b >> 4);
			break;
		}
		if (last && c >= 0 && s[i + 3] == '=') {
			if (c & 3)
				return -1;
			out[o++] = (unsigned char)(a << 2 | b >> 4);
			out[o++] = (unsigned char)((b & 15) << 4 | c >> 2);
			break;
		}
		if (c < 0 || d < 0)
			return -1;
		out[o++] = (unsigned char)(a << 2 | b >> 4);
		out[o++] = (unsigned char)((b & 15) << 4 | c >> 2);
		out[o++] = (unsigned char)((c & 3) << 6 | d);
	}
	return (long)o;
}

static int raw_name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '/' || c == '=' || c == ':' || c == '+' || c == '-';
}

/* Percent-decode a name into p->path. -1: malformed encoding (garbage);
 * -2: too long (refused). */
static int decode_name(struct xfer_parser *p, const char *s, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '%') {
			int hi = i + 2 < n ? hexval(s[i + 1]) : -1, lo = hi < 0 ? -1 : hexval(s[i + 2]);

			if (lo < 0)
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		} else if (!raw_name_char(c)) {
			return -1;
		}
		if (o >= XFER_MAX_PATH)
			return -2;
		p->path[o++] = c;
	}
	p->path[o] = '\0';
	p->path_len = o;
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
	long got = b64decode(a, an, p->buf);
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
	p->crc = xfer_crc32(p->crc, p->buf, (size_t)got);
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
		crc = crc << 4 | (uint32_t)hexval(c);
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

static void clip(char *dst, size_t size, const char *s, size_t n)
{
	size_t i;

	if (n > size - 1)
		n = size - 1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		dst[i] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
	}
	dst[n] = '\0';
}

static void on_abort(struct xfer_parser *p, const char *a, size_t an)
{
	char msg[120];

	clip(msg, sizeof(msg), a, an);
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

/* ==== the receiver ======================================================== */

static void close_file(struct xfer_rx *rx, int remove)
{
	if (rx->fd >= 0) {
		close(rx->fd);
		rx->fd = -1;
		if (remove && unlinkat(rx->leaf_parent, rx->leaf, 0) < 0 && errno != ENOENT)
			warning("cannot remove refused file '%s' in '%s': %s", rx->leaf, rx->dir,
				strerror(errno));
	}
	rx->leaf_parent = -1;   /* the root or the cached dir: owned elsewhere */
}

static int open_root(struct xfer_rx *rx)
{
	if (rx->dirfd >= 0)
		return 0;
	if (rx->dir_failed) {
		errno = rx->dir_errno;
		return -1;
	}
	if ((rx->name ? fmt(rx->dir, sizeof(rx->dir), "%s/%s", rx->parent, rx->name) :
			fmt(rx->dir, sizeof(rx->dir), "%s", rx->parent)) < 0) {
		rx->dir_failed = 1;
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((mkdir(rx->dir, 0755) < 0 && errno != EEXIST) ||
	    (rx->dirfd = open(rx->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		rx->dir_failed = 1;
		rx->dir_errno = errno;
		error_errno("cannot create the receiving dir '%s' of a file transfer", rx->dir);
		return -1;
	}
	return 0;
}

/* Open (creating what is missing) the directories path[0..len) under the
 * receiving dir, one component at a time, never following a symlink.
 * Returns a new fd, or -1 with *why set. */
static int open_dirs(struct xfer_rx *rx, const char *path, size_t len, const char **why)
{
	size_t start = 0, i;
	int fd = rx->dirfd;

	for (i = 0; i <= len; i++) {
		char comp[XFER_MAX_NAME + 1];
		size_t cl;
		int next;

		if (i < len && path[i] != '/')
			continue;
		cl = i - start;
		memcpy(comp, path + start, cl);
		comp[cl] = '\0';
		start = i + 1;
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT) {
			if (rx->dirs >= rx->p.lim.max_files) {
				*why = "too many directories";
				errno = EMLINK;
			} else if (mkdirat(fd, comp, 0755) == 0) {
				rx->dirs++;
				next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			} else {
				*why = "cannot create its directory";
			}
		} else if (next < 0) {
			*why = "a path component is not a directory";
		}
		if (fd != rx->dirfd)
			close(fd);
		if (next < 0)
			return -1;
		fd = next;
	}
	return fd;
}

/* Create path (checked by the parser) under the receiving dir; nothing is
 * followed, nothing is overwritten. Returns NULL or why not (errno set). */
static const char *create(struct xfer_rx *rx, const char *path, size_t len)
{
	const char *slash = memrchr(path, '/', len), *leaf = slash ? slash + 1 : path, *why = NULL;
	size_t dlen = slash ? (size_t)(slash - path) : 0;
	int fd = rx->dirfd;

	if (open_root(rx) < 0)
		return "cannot create the receiving directory";
	if (dlen && !(rx->cache_fd >= 0 && rx->cache_len == dlen && !memcmp(rx->cache_path, path, dlen))) {
		fd = open_dirs(rx, path, dlen, &why);
		if (fd < 0)
			return why;
		if (rx->cache_fd >= 0)
			close(rx->cache_fd);
		rx->cache_fd = fd;
		memcpy(rx->cache_path, path, dlen);
		rx->cache_len = dlen;
	}
	if (dlen)
		fd = rx->cache_fd;
	else
		fd = rx->dirfd;
	memcpy(rx->leaf, leaf, len - (size_t)(leaf - path));
	rx->leaf[len - (size_t)(leaf - path)] = '\0';
	rx->fd = openat(fd, rx->leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (rx->fd < 0)
		return errno == EEXIST ? "a file of that name was already received" : "cannot create the file";
	rx->leaf_parent = fd;
	return NULL;
}

static void rx_event(void *ctx, const struct xfer_event *ev)
{
	struct xfer_rx *rx = ctx;
	char name[200];
	struct serial_event bad;
	const char *why;

	switch (ev->type) {
	case XFER_BEGIN:
		if (!rx->parent)
			break;
		if ((why = create(rx, ev->path, ev->path_len))) {
			char msg[160];

			snprintf(msg, sizeof(msg), "%s: %s", why, strerror(errno));
			xfer_refuse(&rx->p, msg);
		}
		break;
	case XFER_DATA:
		if (rx->fd >= 0 && write_all(rx->fd, ev->data, ev->len) < 0) {
			char msg[160];

			snprintf(msg, sizeof(msg), "cannot write it: %s", strerror(errno));
			xfer_refuse(&rx->p, msg);
		}
		break;
	case XFER_END:
		if (rx->fd >= 0 && close(rx->fd) < 0) {
			rx->fd = -1;
			rx->p.files--;
			rx->p.refused++;
			xfer_quote(name, sizeof(name), ev->path, ev->path_len);
			verdict_emitf(rx->v, "# file transfer: refused '%s': cannot write it: %s", name,
				strerror(errno));
			close_file(rx, 1);
			break;
		}
		rx->fd = -1;
		close_file(rx, 0);
		break;
	case XFER_REFUSED:
		close_file(rx, 1);
		if (rx->notes++ < XFER_MAX_NOTES) {
			xfer_quote(name, sizeof(name), ev->path ? ev->path : "", ev->path ? ev->path_len : 0);
			verdict_emitf(rx->v, "# file transfer: refused '%s': %s", name, ev->why);
		}
		break;
	case XFER_NOTE:
		verdict_emitf(rx->v, "# file transfer: %s", ev->why);
		break;
	case XFER_COUNT:
		rx->counted = 1;
		break;
	case XFER_GARBAGE:
		memset(&bad, 0, sizeof(bad));
		bad.type = SER_GARBAGE;
		bad.why = ev->why;
		bad.data = "";
		verdict_event(rx->v, &bad);
		break;
	}
}

int xfer_rx_init(struct xfer_rx *rx, const char *parent, const char *name,
		 const char *limits, struct verdict *v)
{
	int r;

	memset(rx, 0, sizeof(*rx));
	xfer_init(&rx->p, rx_event, rx);
	r = xfer_parse_limits(limits, &rx->p.lim);
	rx->v = v;
	rx->parent = parent;
	rx->name = name;
	rx->dirfd = rx->fd = rx->leaf_parent = rx->cache_fd = -1;
	return r;
}

void xfer_rx_event(struct xfer_rx *rx, const struct serial_event *ev)
{
	if (ev->type != SER_FILE)
		return;
	rx->t_last = now_ms();
	if (!rx->t_first)
		rx->t_first = rx->t_last;
	xfer_record(&rx->p, ev->data, ev->len);
}

unsigned long xfer_rx_finish(struct xfer_rx *rx, const char *handover)
{
	struct xfer_parser *p = &rx->p;

	if (!p->started)
		return 0;
	xfer_finish(p);
	close_file(rx, 1);
	if (rx->cache_fd >= 0)
		close(rx->cache_fd);
	rx->cache_fd = -1;
	if (rx->notes > XFER_MAX_NOTES)
		verdict_emitf(rx->v, "# file transfer: %lu more files refused", rx->notes - XFER_MAX_NOTES);
	verdict_emitf(rx->v, "# file transfer: %lu files, %llu bytes received%s, %lu refused", p->files,
		p->total, rx->parent ? "" : " and checked", p->refused);
	if (p->total)
		note("file transfer: %llu bytes in %lld ms", p->total, rx->t_last - rx->t_first);
	if (rx->dirfd >= 0) {
		close(rx->dirfd);
		rx->dirfd = -1;
		if (handover && rx->name && rx->parent) {
			char dst[4096];
			struct stat st;

			if (fmt(dst, sizeof(dst), "%s/%s", rx->parent, handover) < 0 ||
			    lstat(dst, &st) == 0 || rename(rx->dir, dst) < 0)
				verdict_emitf(rx->v, "# file transfer: received tree kept in '%s' (cannot move it "
					"to '%s')", rx->dir, dst);
		}
	}
	return p->files;
}
