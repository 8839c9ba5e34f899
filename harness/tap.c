#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "util.h"
#include "banned.h"

void tap_init(struct tap_state *t)
{
	memset(t, 0, sizeof(*t));
	t->planned = -1;
	t->seg_planned = -1;
	t->lv[0].planned = -1;
}

void tap_free(struct tap_state *t)
{
	free(t->sub);
	t->sub = NULL;
	t->nsub = t->sub_cap = 0;
}

const char *tap_outcome_name(int outcome)
{
	static const char *const names[] = { "pass", "fail", "skip", "todo" };

	return outcome >= 0 && outcome < (int)ARRAY_SIZE(names) ? names[outcome] : "fail";
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

static int is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Offset of the first unescaped '#' at or after from, or len. */
static size_t hash_at(const char *s, size_t len, size_t from)
{
	size_t i;

	for (i = from; i < len; i++)
		if (s[i] == '#' && (i == 0 || s[i - 1] != '\\'))
			return i;
	return len;
}

/* The directive after the description: "# WORD" as a whole word
 * (TAP::Parser's rule), case-insensitive. */
static int has_directive(const char *s, size_t len, size_t from, const char *word)
{
	size_t wl = strlen(word), i = hash_at(s, len, from), j;

	if (i >= len)
		return 0;
	j = i + 1;
	while (j < len && (s[j] == ' ' || s[j] == '\t'))
		j++;
	return len - j >= wl && strncasecmp(s + j, word, wl) == 0 &&
	       (j + wl == len || !is_letter(s[j + wl]));
}

static void copy_clip(char *dst, size_t size, const char *s, size_t len)
{
	size_t n = len < size - 1 ? len : size - 1, i;

	for (i = 0; i < n; i++)
		dst[i] = (s[i] >= 0x20 || s[i] == '\t' || s[i] < 0) && s[i] != 0x7f ? s[i] : '?';
	dst[n] = '\0';
}

/* Columns of leading blanks (a tab to the next multiple of 8); *off: where the text starts. */
static int indent_of(const char *s, size_t len, size_t *off)
{
	int col = 0;
	size_t i = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t')) {
		col = s[i] == '\t' ? (col / 8 + 1) * 8 : col + 1;
		if (col > 100000)
			col = 100000;
		i++;
	}
	*off = i;
	return col;
}

static int starts(const char *s, size_t len, const char *word)
{
	size_t wl = strlen(word);

	return len >= wl && memcmp(s, word, wl) == 0;
}

static int is_version(const char *s, size_t len)
{
	return starts(s, len, "TAP version ") || starts(s, len, "KTAP version ");
}

/* "1..N" with nothing but blanks or a '#' comment after it: N, else -1. */
static long plan_of(const char *s, size_t len)
{
	size_t pos = 3;
	long n;

	if (len < 4 || strncmp(s, "1..", 3) != 0)
		return -1;
	n = digits(s, len, &pos);
	if (n >= 0 && (pos == len || s[pos] == ' ' || s[pos] == '\t' || s[pos] == '#'))
		return n;
	return -1;
}

/* "ok"/"not ok" as a word: 1 ok, 2 not ok, 0 neither; *pos after it. */
static int result_of(const char *s, size_t len, size_t *pos)
{
	if (len >= 2 && strncmp(s, "ok", 2) == 0 && (len == 2 || s[2] == ' ' || s[2] == '\t')) {
		*pos = 2;
		return 1;
	}
	if (len >= 6 && strncmp(s, "not ok", 6) == 0 && (len == 6 || s[6] == ' ' || s[6] == '\t')) {
		*pos = 6;
		return 2;
	}
	return 0;
}

struct result {
	int bad;          /* "not ok" */
	long num;         /* its own number, -1 none */
	size_t rest;      /* offset after the number and blanks */
	int outcome;      /* enum tap_outcome */
	size_t name, name_len;
};

static void parse_result(const char *s, size_t len, size_t pos, int bad, struct result *r)
{
	size_t end;

	r->bad = bad;
	while (pos < len && (s[pos] == ' ' || s[pos] == '\t'))
		pos++;
	r->num = digits(s, len, &pos);
	while (pos < len && (s[pos] == ' ' || s[pos] == '\t'))
		pos++;
	r->rest = pos;
	if (pos + 1 < len && s[pos] == '-' && (s[pos + 1] == ' ' || s[pos + 1] == '\t'))
		pos += 2;
	else if (pos + 1 == len && s[pos] == '-')
		pos++;
	while (pos < len && (s[pos] == ' ' || s[pos] == '\t'))
		pos++;
	end = hash_at(s, len, pos);
	while (end > pos && (s[end - 1] == ' ' || s[end - 1] == '\t'))
		end--;
	r->name = pos;
	r->name_len = end - pos;
	if (has_directive(s, len, r->rest, "skip"))
		r->outcome = TAP_OUT_SKIP;
	else if (has_directive(s, len, r->rest, "todo") || has_directive(s, len, r->rest, "xfail"))
		r->outcome = TAP_OUT_TODO;
	else
		r->outcome = bad ? TAP_OUT_FAIL : TAP_OUT_PASS;
	if (r->name_len == 0 && r->outcome != (bad ? TAP_OUT_FAIL : TAP_OUT_PASS) &&
	    (pos = hash_at(s, len, pos)) < len) {
		/* "ok 3 # SKIP reason": no description, the reason names it */
		pos++;
		while (pos < len && (s[pos] == ' ' || s[pos] == '\t'))
			pos++;
		while (pos < len && is_letter(s[pos]))
			pos++;
		while (pos < len && (s[pos] == ' ' || s[pos] == '\t'))
			pos++;
		end = len;
		while (end > pos && (s[end - 1] == ' ' || s[end - 1] == '\t'))
			end--;
		r->name = pos;
		r->name_len = end - pos;
	}
}

static void add_subtest(struct tap_state *t, const char *id, const char *s, const struct result *r)
{
	struct tap_subtest *st;

	if (t->nsub >= TAP_MAX_SUBTESTS) {
		t->sub_dropped++;
		return;
	}
	if (t->nsub == t->sub_cap) {
		size_t cap = t->sub_cap ? t->sub_cap * 2 : 64;
		struct tap_subtest *n;

		if (cap > TAP_MAX_SUBTESTS)
			cap = TAP_MAX_SUBTESTS;
		n = realloc(t->sub, cap * sizeof(*n));
		if (!n) {
			t->sub_dropped++;
			return;
		}
		t->sub = n;
		t->sub_cap = cap;
	}
	st = &t->sub[t->nsub++];
	copy_clip(st->id, sizeof(st->id), id, strlen(id));
	copy_clip(st->name, sizeof(st->name), s + r->name, r->name_len);
	st->outcome = (unsigned char)r->outcome;
	st->depth = (unsigned char)t->depth;
}

/* The id of a result numbered num at the current depth: the parents' next
 * numbers, then num ("2.5"). */
static void make_id(const struct tap_state *t, long num, char *id, size_t size)
{
	size_t n = 0;
	int d;

	id[0] = '\0';
	for (d = 0; d < t->depth && n < size; d++) {
		int w = snprintf(id + n, size - n, "%ld.", t->lv[d].last_number + 1);

		if (w < 0 || (size_t)w >= size - n) {
			id[size - 1] = '\0';
			return;
		}
		n += (size_t)w;
	}
	if (n < size)
		snprintf(id + n, size - n, "%ld", num);
}

static void close_level(struct tap_state *t)
{
	struct tap_level *l = &t->lv[t->depth];

	if (t->depth == 0)
		return;
	if (l->planned >= 0 && l->planned != l->results) {
		if (!t->nested_plan_mismatch) {
			char id[TAP_ID_SIZE];

			t->depth--;
			make_id(t, t->lv[t->depth].last_number + 1, id, sizeof(id));
			t->depth++;
			snprintf(t->first_plan_mismatch, sizeof(t->first_plan_mismatch),
				 "subtest %s planned %ld results, ran %ld", id, l->planned, l->results);
		}
		t->nested_plan_mismatch++;
	}
	t->lv[t->depth - 1].failed += l->failed;
	t->depth--;
}

static void open_level(struct tap_state *t, int indent)
{
	struct tap_level *l;

	if (t->depth + 1 >= TAP_MAX_DEPTH)
		return;   /* deeper lines count at the deepest level */
	l = &t->lv[++t->depth];
	memset(l, 0, sizeof(*l));
	l->indent = indent;
	l->planned = -1;
}

void tap_finish(struct tap_state *t)
{
	while (t->depth > 0)
		close_level(t);
}

/* "# Totals: pass:N fail:N xfail:N xpass:N skip:N error:N" (kselftest.h) or
 * "# Totals: pass:N fail:N skip:N total:N" (KUnit). */
static int totals(struct tap_state *t, const char *s, size_t len)
{
	size_t pos = 1;

	while (pos < len && s[pos] == ' ')
		pos++;
	if (!starts(s + pos, len - pos, "Totals:"))
		return 0;
	pos += 7;
	t->totals.lines++;
	while (pos < len) {
		size_t k;
		long v;

		while (pos < len && s[pos] == ' ')
			pos++;
		k = pos;
		while (pos < len && is_letter(s[pos]))
			pos++;
		if (pos >= len || s[pos] != ':') {
			while (pos < len && s[pos] != ' ')
				pos++;
			continue;
		}
		pos++;
		v = digits(s, len, &pos);
		if (v < 0)
			continue;
#define TOTAL(word, field) \
		else if (pos - k > strlen(word) && !strncmp(s + k, word ":", strlen(word) + 1)) \
			t->totals.field += v
		if (0)
			;
		TOTAL("pass", pass);
		TOTAL("fail", fail);
		TOTAL("xfail", xfail);
		TOTAL("xpass", xpass);
		TOTAL("skip", skip);
		TOTAL("error", error);
#undef TOTAL
	}
	return 1;
}

/* A line inside a subtest (indented): nesting, plans, results. */
static enum tap_line nested(struct tap_state *t, int indent, const char *s, size_t len)
{
	struct tap_level *l;
	size_t pos;
	int res = result_of(s, len, &pos);
	long plan = res ? -1 : plan_of(s, len);
	int version = !res && plan < 0 && is_version(s, len);

	if (!res && plan < 0 && !version && !starts(s, len, "# Subtest:"))
		return len && s[0] == '#' ? TAP_COMMENT : TAP_OTHER;   /* never moves the nesting */
	if (res || plan >= 0)
		while (t->depth > 0 && t->lv[t->depth].indent > indent)
			close_level(t);
	if (indent > t->lv[t->depth].indent)
		open_level(t, indent);
	l = &t->lv[t->depth];
	if (version && starts(s, len, "KTAP"))
		t->ktap = 1;
	if (plan >= 0 && l->planned < 0)
		l->planned = plan;
	if (res) {
		struct result r;
		char id[TAP_ID_SIZE];
		long num;

		parse_result(s, len, pos, res == 2, &r);
		num = r.num >= 0 ? r.num : l->last_number + 1;
		make_id(t, num, id, sizeof(id));
		add_subtest(t, id, s, &r);
		l->results++;
		if (num > l->last_number)
			l->last_number = num;
		if (r.outcome == TAP_OUT_FAIL) {
			if (!t->nested_failed)
				snprintf(t->first_nested_failure, sizeof(t->first_nested_failure), "%s %.*s",
					 id, (int)(r.name_len > 150 ? 150 : r.name_len), s + r.name);
			t->nested_failed++;
			l->failed++;
		}
	}
	return TAP_NESTED;
}

enum tap_line tap_feed_line(struct tap_state *t, const char *s, size_t len)
{
	size_t pos = 0, off;
	int indent = indent_of(s, len, &off);
	long n;
	int res;

	if (indent > 0)
		return nested(t, indent, s + off, len - off);

	if ((n = plan_of(s, len)) >= 0) {
		tap_finish(t);
		/* a second plan after a complete segment starts another one */
		if (t->seg_plans && t->seg_planned >= 0 && t->tests - t->seg_base >= t->seg_planned &&
		    t->tests > t->seg_base) {
			t->segments++;
			t->seg_base = t->tests;
			t->seg_planned = -1;
			t->seg_plans = 0;
		}
		t->plans++;
		if (++t->seg_plans > 1)
			t->plan_errors++;
		if (t->seg_plans == 1) {
			t->seg_planned = n;
			t->planned = (t->planned < 0 ? 0 : t->planned) + n;
		}
		t->plan_after_tests = t->tests > t->seg_base;
		if (n == 0 && t->tests == 0 && t->segments == 0) {
			const char *h = memchr(s, '#', len);

			t->skip_all = 1;
			if (h) {
				size_t o = (size_t)(h - s) + 1;

				while (o < len && s[o] == ' ')
					o++;
				if (len - o >= 4 && strncasecmp(s + o, "skip", 4) == 0)
					o += 4;
				while (o < len && s[o] == ' ')
					o++;
				copy_clip(t->skip_reason, sizeof(t->skip_reason), s + o, len - o);
			}
		}
		return TAP_PLAN;
	}
	if (len >= 4 && strncmp(s, "1..", 3) == 0)
		return TAP_OTHER;
	if ((res = result_of(s, len, &pos))) {
		struct result r;
		char id[24];
		long num;

		tap_finish(t);
		parse_result(s, len, pos, res == 2, &r);
		t->tests++;
		/* one stream for prove: results numbered in sequence (a later
		 * segment's numbers continue, a program's skipped or repeated
		 * number is corrected; a plan that is not met still fails) */
		num = t->tests;
		t->number = num;
		t->rest = r.rest;
		t->renumber = r.num != num;
		t->last_number = num;
		t->skip_not_ok = r.bad && r.outcome == TAP_OUT_SKIP;
		t->skipped += r.outcome == TAP_OUT_SKIP;
		snprintf(id, sizeof(id), "%ld", num);
		add_subtest(t, id, s, &r);
		t->lv[0].results++;
		t->lv[0].last_number = t->last_number;
		if (r.outcome == TAP_OUT_FAIL) {
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
	if (is_version(s, len)) {
		tap_finish(t);
		if (starts(s, len, "KTAP"))
			t->ktap = 1;
		/* another stream after results or a plan: a new segment */
		if (t->tests > t->seg_base || t->seg_plans) {
			t->segments++;
			t->seg_base = t->tests;
			t->seg_planned = -1;
			t->seg_plans = 0;
		}
		return TAP_VERSION;
	}
	if (len >= 1 && s[0] == '#') {
		totals(t, s, len);
		return TAP_COMMENT;
	}
	return TAP_OTHER;
}
