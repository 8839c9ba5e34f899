/* fuzz_transfer.c - libFuzzer target: arbitrary bytes as the payloads of F
 * records (one per line) through the file-transfer parser, with small limits
 * picked by the first byte. Beyond "no crash", it checks the parser's
 * promises: every name it lets through is relative, without NUL, control
 * bytes, empty, "." or ".." components; data stays within the chunk and the
 * limits; a file ends only with the bytes it was given. A line that starts
 * like a whole F record ("F " + 16 bytes + " ") is fed without that prefix,
 * so the golden transcripts (harness/t/data/xfer-*.serial) are good seeds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../transfer.h"

struct state {
	const struct xfer_parser *p;
	int in_file;
	unsigned long long size;
	uint32_t crc;
};

static void check_name(const char *s, size_t n)
{
	size_t i, start = 0;

	if (n == 0 || n > XFER_MAX_PATH || s[0] == '/')
		abort();
	for (i = 0; i <= n; i++) {
		if (i < n && ((unsigned char)s[i] < 0x20 || s[i] == 0x7f))
			abort();
		if (i < n && s[i] != '/')
			continue;
		if (i == start || i - start > XFER_MAX_NAME ||
		    (i - start == 1 && s[start] == '.') ||
		    (i - start == 2 && s[start] == '.' && s[start + 1] == '.'))
			abort();
		start = i + 1;
	}
}

static void cb(void *ctx, const struct xfer_event *ev)
{
	struct state *st = ctx;

	switch (ev->type) {
	case XFER_BEGIN:
		check_name(ev->path, ev->path_len);
		st->in_file = 1;
		st->size = 0;
		st->crc = 0;
		break;
	case XFER_DATA:
		if (!st->in_file || ev->len == 0 || ev->len > XFER_CHUNK)
			abort();
		st->size += ev->len;
		st->crc = proto_crc32(st->crc, ev->data, ev->len);
		if (st->size > st->p->lim.max_file || st->p->total > st->p->lim.max_total)
			abort();
		break;
	case XFER_END:
		if (!st->in_file || ev->value != st->size || st->p->crc != st->crc)
			abort();
		st->in_file = 0;
		break;
	case XFER_REFUSED:
		st->in_file = 0;
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xfer_parser p;
	struct state st = { .p = &p };
	const char *s = (const char *)data, *end;

	if (size < 1)
		return 0;
	xfer_init(&p, cb, &st);
	p.lim.max_file = 1 + (data[0] & 15) * 1000;
	p.lim.max_total = 1 + (data[0] >> 4) * 3000;
	p.lim.max_files = 1 + (data[0] & 7);
	s++;
	end = (const char *)data + size;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);

		if (n >= 19 && s[0] == 'F' && s[1] == ' ' && s[18] == ' ')
			xfer_record(&p, s + 19, n - 19);
		else
			xfer_record(&p, s, n);
		s += n + 1;
	}
	xfer_finish(&p);
	if (p.files > p.lim.max_files)
		abort();
	return 0;
}
