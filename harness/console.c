#include <stdio.h>
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

/* Frames that say nothing about which bug it is. */
static int generic_frame(const char *f)
{
	static const char *const skip[] = {
		"dump_stack", "dump_stack_lvl", "show_stack", "panic", "_printk", "printk",
		"vpanic", "__warn", "warn_slowpath_fmt", "report_bug", "handle_bug",
		"do_error_trap", "die", "oops_end", "__die", "show_regs", "dump_stack_print_info",
		"sysrq_handle_crash", "bad_segv", "segv", "segv_handler", "relay_signal",
		"sig_handler_common", "unblock_signals", "hard_handler", "userspace",
		"new_thread_handler", "handle_syscall", "uml_finishsetup",
	};
	size_t i;

	for (i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (!strcmp(f, skip[i]))
			return 1;
	return 0;
}

/* " [<6026c97a>] __handle_sysrq+0xce/0x15c" or "  __handle_sysrq+0xce/0x15c":
 * the function name, unless the frame is marked unreliable ("? "). */
static void trace_line(struct console_state *c, const char *l)
{
	char name[64];
	size_t n = 0;

	if (strstr(l, "Call Trace:")) {
		c->in_trace = 1;
		return;
	}
	while (*l == ' ' || *l == '\t')
		l++;
	if (l[0] == '[' && l[1] == '<') {
		l = strchr(l, ']');
		if (!l)
			return;
		l++;
		while (*l == ' ')
			l++;
	}
	if (l[0] == '?')
		return;
	while (l[n] && l[n] != '+' && l[n] != ' ' && n < sizeof(name) - 1) {
		name[n] = l[n];
		n++;
	}
	if (!n || l[n] != '+' || strncmp(l + n + 1, "0x", 2)) {
		if (c->nframes)
			c->in_trace = 0;  /* the trace ended */
		return;
	}
	name[n] = '\0';
	if (!generic_frame(name) && c->nframes < CONSOLE_FRAMES)
		memcpy(c->frames[c->nframes++], name, n + 1);
}

void console_fingerprint(const struct console_state *c, char *buf, size_t size)
{
	size_t used = 0;
	int i, m;

	buf[0] = '\0';
	if (c->first == CRASH_NONE)
		return;
	m = snprintf(buf, size, "%s", crash_name(c->first));
	used = m > 0 ? (size_t)m : 0;
	for (i = 0; i < c->nframes && used < size; i++) {
		m = snprintf(buf + used, size - used, "%s%s", i ? " < " : ": ", c->frames[i]);
		if (m < 0)
			break;
		used += (size_t)m;
	}
	if (!c->nframes && used < size) {
		/* no trace: the crash line without numbers stands in */
		const char *l = c->first_line;

		snprintf(buf + used, size - used, ": ");
		used += 2;
		for (; *l && used < size - 1; l++)
			if (!(*l >= '0' && *l <= '9'))
				buf[used++] = *l;
		buf[used < size ? used : size - 1] = '\0';
	}
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
	if (c->first != CRASH_NONE && c->nframes < CONSOLE_FRAMES && c->lines < 10000000)
		if (c->in_trace || strstr(c->cur, "Call Trace:"))
			trace_line(c, c->cur);
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
