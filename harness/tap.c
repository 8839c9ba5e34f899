#include <string.h>

#include "tap.h"
#include "util.h"
#include "banned.h"

void tap_init(struct tap_state *t)
{
	memset(t, 0, sizeof(*t));
	t->planned = -1;
}

/* Parse up to 9 digits at *pos; -1 if there are none. */
static long digits(const char *s, size_t len, size_t *pos)
{
	long v = 0;
	size_t start = *pos;

	while (*pos < len && s[*pos] >= '0' && s[*pos] <= '9' && *pos - start < 9)
		v = v * 10 + (s[(*pos)++] - '0');
	return *pos == start ? -1 : v;
}

static int has_directive(const char *s, size_t len, const char *word)
{
	size_t wl = strlen(word), i, j;

	for (i = 0; i < len; i++) {
		if (s[i] != '#')
			continue;
		j = i + 1;
		while (j < len && s[j] == ' ')
			j++;
		if (len - j >= wl && strncasecmp(s + j, word, wl) == 0)
			return 1;
	}
	return 0;
}

static void copy_clip(char *dst, size_t size, const char *s, size_t len)
{
	size_t n = len < size - 1 ? len : size - 1, i;

	for (i = 0; i < n; i++)
		dst[i] = (s[i] >= 0x20 || s[i] == '\t' || s[i] < 0) ? s[i] : '?';
	dst[n] = '\0';
}

enum tap_line tap_feed_line(struct tap_state *t, const char *s, size_t len)
{
	size_t pos = 0;

	if (len >= 4 && strncmp(s, "1..", 3) == 0) {
		long n;

		pos = 3;
		n = digits(s, len, &pos);
		if (n >= 0 && (pos == len || s[pos] == ' ' || s[pos] == '#')) {
			t->plans++;
			t->planned = n;
			t->plan_after_tests = t->tests > 0;
			if (n == 0) {
				const char *h = memchr(s, '#', len);

				t->skip_all = 1;
				if (h) {
					size_t off = (size_t)(h - s) + 1;

					while (off < len && s[off] == ' ')
						off++;
					if (len - off >= 4 && strncasecmp(s + off, "skip", 4) == 0)
						off += 4;
					while (off < len && s[off] == ' ')
						off++;
					copy_clip(t->skip_reason, sizeof(t->skip_reason), s + off, len - off);
				}
			}
			return TAP_PLAN;
		}
		return TAP_OTHER;
	}
	if ((len >= 2 && strncmp(s, "ok", 2) == 0 && (len == 2 || s[2] == ' ')) ||
	    (len >= 6 && strncmp(s, "not ok", 6) == 0 && (len == 6 || s[6] == ' '))) {
		int bad = s[0] == 'n';
		long num;

		pos = bad ? 6 : 2;
		while (pos < len && s[pos] == ' ')
			pos++;
		num = digits(s, len, &pos);
		t->tests++;
		if (num < 0)
			num = t->last_number + 1;
		if (num > t->last_number)
			t->last_number = num;
		if (bad && !has_directive(s, len, "todo")) {
			if (!t->failed)
				copy_clip(t->first_failure, sizeof(t->first_failure), s, len);
			t->failed++;
		}
		return TAP_TEST;
	}
	if (len >= 9 && strncmp(s, "Bail out!", 9) == 0) {
		t->bailed = 1;
		return TAP_BAIL;
	}
	if (len >= 12 && strncmp(s, "TAP version ", 12) == 0)
		return TAP_VERSION;
	if (len >= 1 && s[0] == '#')
		return TAP_COMMENT;
	return TAP_OTHER;
}
