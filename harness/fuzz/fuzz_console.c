/* fuzz_console.c - libFuzzer target: arbitrary bytes as a console log
 * through the crash triage (console.c), fed in chunks whose size the first
 * byte chooses; then every invariant the callers rely on: titles, first
 * line, excerpt and tail NUL-terminated within their buffers, report count
 * bounded, first/worst consistent, the fingerprint 16 hex digits or empty.
 * The corpus is seeded with the crash fixtures, harness/t/data/crash (50-fuzz.t). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../console.h"

static void check_str(const char *s, size_t size)
{
	if (!memchr(s, '\0', size))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct console_state c;
	char fp[32];
	size_t chunk, i;
	int r;

	if (size < 1)
		return 0;
	chunk = 1 + (size_t)data[0] * 3;
	data++;
	size--;
	console_init(&c);
	for (i = 0; i < size; i += chunk)
		console_feed(&c, (const char *)data + i, size - i < chunk ? size - i : chunk);
	console_finish(&c);

	if (c.nreports < 0 || c.nreports > CONSOLE_REPORTS || c.excerpt_len > CONSOLE_EXCERPT_LINES ||
	    c.tail_len > CONSOLE_TAIL_LINES)
		abort();
	if ((c.nreports > 0) != (c.first != CRASH_NONE && c.worst >= c.first))
		abort();
	check_str(c.first_line, sizeof(c.first_line));
	for (i = 0; i < (size_t)c.excerpt_len; i++)
		check_str(c.excerpt[i], sizeof(c.excerpt[i]));
	for (i = 0; i < (size_t)c.tail_len; i++)
		check_str(c.tail[i], sizeof(c.tail[i]));
	for (r = 0; r < c.nreports; r++) {
		check_str(c.reports[r].title, sizeof(c.reports[r].title));
		if (!c.reports[r].title[0] || strchr(c.reports[r].title, '\n'))
			abort();
		if (!strcmp(crash_class_id(c.reports[r].cls), "none"))
			abort();
	}
	console_fingerprint(&c, fp, sizeof(fp));
	if (c.nreports ? strlen(fp) != 16 : fp[0] != '\0')
		abort();
	return 0;
}
