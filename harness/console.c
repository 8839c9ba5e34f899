#include <string.h>

#include "console.h"
#include "banned.h"

static const struct {
	const char *needle;
	enum crash_kind kind;
} patterns[] = {
	{ "Kernel panic - not syncing", CRASH_PANIC },
	{ "Attempted to kill init", CRASH_KILLED_INIT },
	{ "Oops: ", CRASH_OOPS },
	{ "Oops - ", CRASH_OOPS },
	{ "BUG: ", CRASH_BUG },
	{ "kernel BUG at ", CRASH_BUG },
	{ "general protection fault", CRASH_BUG },
	{ "Unable to handle kernel", CRASH_BUG },
	{ "UBSAN: ", CRASH_BUG },
	{ "WARNING: CPU: ", CRASH_WARNING },
	{ "WARNING: at ", CRASH_WARNING },
	{ "blocked for more than", CRASH_HUNG_TASK },
	{ "detected stall", CRASH_RCU_STALL },
	{ "detected stalls", CRASH_RCU_STALL },
	{ "self-detected stall", CRASH_RCU_STALL },
};

void console_init(struct console_state *c)
{
	memset(c, 0, sizeof(*c));
}

const char *crash_name(enum crash_kind k)
{
	switch (k) {
	case CRASH_NONE: return "none";
	case CRASH_WARNING: return "kernel warning";
	case CRASH_HUNG_TASK: return "hung task";
	case CRASH_RCU_STALL: return "rcu stall";
	case CRASH_BUG: return "kernel bug";
	case CRASH_OOPS: return "kernel oops";
	case CRASH_KILLED_INIT: return "init killed";
	case CRASH_PANIC: return "kernel panic";
	}
	return "unknown";
}

int crash_fails(enum crash_kind k)
{
	return k != CRASH_NONE;
}

static enum crash_kind classify(const char *line)
{
	enum crash_kind k = CRASH_NONE;
	size_t i;

	for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++)
		if (patterns[i].kind > k && strstr(line, patterns[i].needle))
			k = patterns[i].kind;
	return k;
}

static void line_done(struct console_state *c)
{
	enum crash_kind k;
	size_t i;

	/* the line is clipped to CONSOLE_LINE_MAX-1; make it printable */
	for (i = 0; i < c->cur_len; i++)
		if ((unsigned char)c->cur[i] < 0x20 && c->cur[i] != '\t')
			c->cur[i] = '?';
	c->cur[c->cur_len] = '\0';
	c->lines++;

	k = classify(c->cur);
	if (k != CRASH_NONE) {
		if (c->first == CRASH_NONE) {
			c->first = k;
			memcpy(c->first_line, c->cur, c->cur_len + 1);
		}
		if (k > c->worst)
			c->worst = k;
	}
	if (c->cur_len == 0)
		return;   /* blank lines say nothing in an excerpt */
	if (c->first != CRASH_NONE && c->excerpt_len < CONSOLE_EXCERPT_LINES)
		memcpy(c->excerpt[c->excerpt_len++], c->cur, c->cur_len + 1);
	memcpy(c->tail[c->tail_pos], c->cur, c->cur_len + 1);
	c->tail_pos = (c->tail_pos + 1) % CONSOLE_TAIL_LINES;
	if (c->tail_len < CONSOLE_TAIL_LINES)
		c->tail_len++;
	c->cur_len = 0;
}

void console_feed(struct console_state *c, const char *buf, size_t len)
{
	size_t i;

	c->bytes += len;
	for (i = 0; i < len; i++) {
		char ch = buf[i];

		if (ch == '\n') {
			line_done(c);
			continue;
		}
		if (ch == '\r')
			continue;
		if (c->cur_len < CONSOLE_LINE_MAX - 1)
			c->cur[c->cur_len++] = ch;
	}
}

void console_finish(struct console_state *c)
{
	if (c->cur_len)
		line_done(c);
}
