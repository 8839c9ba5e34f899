/* fuzz_tap.c - libFuzzer target: arbitrary bytes as a test's output lines
 * through the TAP/KTAP parser (tap.c) alone: indentation, nesting, ids,
 * # Totals:, segments and the bounded subtest list. The first byte picks an
 * indentation pattern laid over the lines, so deep and ragged nesting is
 * reached from small inputs; the invariants are checked after every line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tap_state t;
	char line[4200];
	size_t i = 1, k = 0;
	uint8_t mode;

	if (size < 1)
		return 0;
	mode = data[0];
	tap_init(&t);
	while (i < size) {
		size_t n = 0, start = i, ind = (mode & 1) ? ((k * (mode >> 1)) % 13) : 0;

		while (i < size && data[i] != '\n')
			i++;
		if (ind > sizeof(line) - 1)
			ind = 0;
		memset(line, ' ', ind);
		n = ind;
		if (i - start > sizeof(line) - 1 - n)
			start = i - (sizeof(line) - 1 - n);
		memcpy(line + n, data + start, i - start);
		n += i - start;
		tap_feed_line(&t, line, n);
		if (t.depth < 0 || t.depth >= TAP_MAX_DEPTH || t.nsub > TAP_MAX_SUBTESTS ||
		    t.nsub > t.sub_cap || (t.nsub && !t.sub))
			abort();
		i++;
		k++;
	}
	tap_finish(&t);
	if (t.depth != 0)
		abort();
	for (k = 0; k < t.nsub; k++)
		if (!memchr(t.sub[k].id, 0, sizeof(t.sub[k].id)) || !memchr(t.sub[k].name, 0, sizeof(t.sub[k].name)) ||
		    t.sub[k].outcome > TAP_OUT_TODO)
			abort();
	tap_free(&t);
	return 0;
}
