#include <string.h>

#include "serial.h"
#include "banned.h"

void serial_init(struct serial_parser *p, serial_cb cb, void *ctx)
{
	memset(p, 0, sizeof(*p));
	p->cb = cb;
	p->ctx = ctx;
}

static void garbage(struct serial_parser *p, const char *why)
{
	struct serial_event ev = { .type = SER_GARBAGE, .data = p->line,
				   .len = p->len > 200 ? 200 : p->len, .why = why };
	p->garbage++;
	p->cb(p->ctx, &ev);
}

/* A strict decimal in [0, max] (proto_number), or -1. */
static long number(const char *s, size_t n, long max)
{
	unsigned long long v;

	return proto_number(s, n, (unsigned long long)max, &v) < 0 ? -1 : (long)v;
}

/* Control records carry the key; returns pointer past "<token> " or NULL. */
static const char *check_token(struct serial_parser *p, const char *s, size_t n,
			       const char **why)
{
	if (n < SERIAL_TOKEN_LEN) {
		*why = "control record without key";
		return NULL;
	}
	if (!p->have_token) {
		*why = "control record before key exchange";
		return NULL;
	}
	if (memcmp(s, p->token, SERIAL_TOKEN_LEN) != 0) {
		*why = "control record with wrong key (forged?)";
		return NULL;
	}
	if (n > SERIAL_TOKEN_LEN && s[SERIAL_TOKEN_LEN] != ' ') {
		*why = "malformed control record";
		return NULL;
	}
	return s + SERIAL_TOKEN_LEN + (n > SERIAL_TOKEN_LEN);
}

static void record(struct serial_parser *p)
{
	struct serial_event ev;
	const char *s = p->line, *rest, *why = "unknown record type";
	size_t n = p->len, rn;
	char tag;

	memset(&ev, 0, sizeof(ev));
	if (n > 0 && s[n - 1] == '\r')  /* cooked-mode leftovers */
		n--;
	if (proto_split(s, n, &tag, &rest, &rn) < 0) {
		garbage(p, n < 1 ? "empty line" : "no record tag");
		return;
	}
	switch (tag) {
	case 'O': case 'o': case 'E': case 'e':
		ev.type = (tag == 'O' || tag == 'o') ? SER_OUT : SER_ERR;
		ev.partial = (tag == 'o' || tag == 'e');
		ev.data = rest;
		/* keep a trailing \r in output: only the record's own CR is cooked */
		ev.len = (p->len >= 2) ? p->len - 2 : 0;
		if (!ev.partial && ev.len && rest[ev.len - 1] == '\r')
			ev.len--;
		break;
	case 'V':
		if (rn < 11 || memcmp(rest, "vkci-agent ", 11) != 0 ||
		    (ev.value = number(rest + 11, rn - 11, 1000000)) < 0) {
			garbage(p, "malformed hello");
			return;
		}
		ev.type = SER_HELLO;
		break;
	case 'K':
		if (p->have_token || !proto_is_token(rest, rn)) {
			garbage(p, p->have_token ? "second key record" : "malformed key");
			return;
		}
		memcpy(p->token, rest, SERIAL_TOKEN_LEN);
		p->token[SERIAL_TOKEN_LEN] = '\0';
		p->have_token = 1;
		ev.type = SER_KEY;
		ev.data = p->token;
		ev.len = SERIAL_TOKEN_LEN;
		break;
	case '!':
		/* agent errors may come before the key exchange, with key "-" */
		if (!p->have_token && rn >= 1 && rest[0] == '-') {
			ev.type = SER_AGENT_ERROR;
			ev.data = rest + (rn > 1 ? 2 : 1);
			ev.len = rn > 1 ? rn - 2 : 0;
			break;
		}
		/* fall through */
	case 'S': case 'X': case 'D': case 'F': {
		const char *a = check_token(p, rest, rn, &why);
		size_t an;

		if (!a) {
			garbage(p, why);
			return;
		}
		an = (size_t)(s + n - a);
		if (tag == 'F') {
			if (!an) {
				garbage(p, "file record without payload");
				return;
			}
			ev.type = SER_FILE;
			ev.data = a;
			ev.len = an;
		} else if (tag == 'D') {
			if (an) {
				garbage(p, "malformed done record");
				return;
			}
			ev.type = SER_DONE;
		} else if (tag == '!') {
			ev.type = SER_AGENT_ERROR;
			ev.data = a;
			ev.len = an;
		} else if (tag == 'S') {
			if (!an) {
				garbage(p, "start record without test");
				return;
			}
			ev.type = SER_START;
			ev.data = a;
			ev.len = an;
		} else if (an > 5 && !memcmp(a, "exit ", 5) &&
			   (ev.value = number(a + 5, an - 5, 255)) >= 0) {
			ev.type = SER_EXIT;
		} else if (an > 7 && !memcmp(a, "signal ", 7) &&
			   (ev.value = number(a + 7, an - 7, 128)) > 0) {
			ev.type = SER_SIGNAL;
		} else if (an > 8 && !memcmp(a, "timeout ", 8) &&
			   (ev.value = number(a + 8, an - 8, 1000000)) >= 0) {
			ev.type = SER_TIMEOUT;
		} else {
			garbage(p, "malformed exit record");
			return;
		}
		break;
	}
	default:
		garbage(p, why);
		return;
	}
	p->records++;
	p->cb(p->ctx, &ev);
}

void serial_feed(struct serial_parser *p, const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char c = buf[i];

		if (c == '\n') {
			if (p->overflow)
				garbage(p, "record longer than the protocol allows");
			else
				record(p);
			p->len = 0;
			p->overflow = 0;
			continue;
		}
		if (p->len < SERIAL_MAX_LINE)
			p->line[p->len++] = c;
		else
			p->overflow = 1;
	}
}

void serial_finish(struct serial_parser *p)
{
	if (p->len || p->overflow)
		garbage(p, "truncated record at end of stream");
	p->len = 0;
	p->overflow = 0;
}
