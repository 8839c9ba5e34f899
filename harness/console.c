/* console.c - crash triage over the kernel console; see console.h and
 * harness/CRASHES.md.
 *
 * Each console line loses its printk prefix (level, timestamp, caller id)
 * and is matched, anchored at its start, against one table of report
 * headers (crash_classes[], crashtab.c). A header either starts a report
 * or belongs to the report already open (the WARNING that a WARN() message
 * precedes, the Oops that follows "BUG: unable to handle ...", the panic a
 * report ends in). The lines after a header feed its report: detail lines (KASAN's
 * "Read of size"), the faulting IP ("RIP:", "pc :"), lockdep's ", at:"
 * sites and the call trace, whose first frame that is not report,
 * sanitizer, lockdep, scheduler-wait, allocator or entry machinery
 * (crashtab.c's skip[]) names the function of the title (crashline.c).
 * This file holds the reports and the line loop. */
#include <stdio.h>
#include <string.h>

#include "console.h"
#include "crashtab.h"
#include "banned.h"

/* ---- reports ----------------------------------------------------------------- */

static void set_cap(char *dst, const char *s, size_t len)
{
	if (len > 79)
		len = 79;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

/* A candidate function for a report: kept unless it is machinery. */
static void offer(char *dst, const char *s, size_t len)
{
	char f[CONSOLE_FUNC_MAX];

	if (dst[0])
		return;
	crash_set_func(f, s, len);
	if (f[0] && !crash_skipped(f))
		memcpy(dst, f, strlen(f) + 1);
}

static int classify(const char **msg, struct match *m)
{
	const char *p;
	int i;

	for (i = 0; i < crash_nclasses; i++)
		if (crash_match(m, crash_classes[i].pat, *msg))
			return i;
	/* a panic is a panic wherever it starts in the line (after an
	 * unterminated line of UML's own stdout, say); the end marker
	 * "---[ end Kernel panic - not syncing: ... ]---" is not one */
	p = strstr(*msg, "Kernel panic - not syncing");
	if (p && p != *msg && !strstr(*msg, "---[ end Kernel panic")) {
		*msg = p;
		return classify(msg, m);
	}
	return -1;
}

/* Does report r take the header of class k (line n) as part of itself? */
static int absorbs(const struct console_state *c, const struct crash_report *r, int k, unsigned long n)
{
	unsigned f = crash_classes[k].flags;
	int i;

	if ((r->flags & F_WARNMSG) && (f & F_WARNHDR) && n - r->last <= 6)
		return 1;
	/* asm-generic WARN() (UML, ...) prints its message after the WARNING line */
	if (!strcmp(crash_classes[r->cls].id, "warning") && (f & F_WARNMSG) && n - r->line <= 2 && !r->nframes)
		return 1;
	if ((r->flags & F_PRELUDE) && (f & F_OOPSHDR) && n - r->last <= 15)
		return 1;
	if (f & F_PANIC) {
		/* the panic a report ends in: right after it, or one that only
		 * panic_on_warn, panic_on_oops, hung_task_panic, ... make */
		static const char *const why[] = {
			"Fatal exception", "panic_on_warn", "panic_on_oops", "hung_task: blocked tasks",
			"softlockup: hung tasks", "hardlockup: ", "Hard LOCKUP", "RCU Stall",
			"kasan.fault=panic", "BUG!", "Aiee, killing interrupt handler",
		};
		size_t j;

		if (n - r->last <= 60)
			return 1;
		for (j = 0; j < sizeof(why) / sizeof(why[0]); j++)
			if (strstr(c->cur_line, why[j]))
				return 1;
		return 0;
	}
	if (f & F_LEAKSUM)
		for (i = 0; i < c->nreports; i++)
			if (!strcmp(crash_classes[c->reports[i].cls].id, "leak"))
				return 1;
	return 0;
}

/* The last report is complete when the next starts: if an earlier one has
 * its title (a WARN_ON in a loop, a task that stays hung), it only counts. */
static void fold_last(struct console_state *c)
{
	struct crash_report *r;
	int i;

	if (c->nreports < 2)
		return;
	r = &c->reports[c->nreports - 1];
	for (i = 0; i < c->nreports - 1; i++)
		if (!strcmp(c->reports[i].title, r->title)) {
			c->reports[i].repeats++;
			if (c->cur == c->nreports - 1)
				c->cur = -1;
			c->nreports--;
			return;
		}
}

static void start_report(struct console_state *c, int k, const struct match *m,
			 const char *caller, const char *line, unsigned long n,
			 const char *lastip, unsigned long lastip_line)
{
	struct crash_report *r;
	int i;

	fold_last(c);
	if (c->nreports >= CONSOLE_REPORTS) {
		c->reports_dropped++;
		c->cur = -1;
		return;
	}
	r = &c->reports[c->nreports];
	memset(r, 0, sizeof(*r));
	r->kind = crash_classes[k].kind;
	r->cls = k;
	r->line = n;
	r->last = n;
	r->flags = crash_classes[k].flags;
	r->trace = (r->flags & (F_BT | F_CT)) ? -1 : 0;
	memcpy(r->caller, caller, strlen(caller) + 1);
	for (i = 0; i < 3; i++)
		if (m->cap[i])
			set_cap(r->cap[i], m->cap[i], m->caplen[i]);
	if (m->func)
		offer(r->hfunc, m->func, m->funclen);
	if ((r->flags & F_IPBEFORE) && lastip[0] && n - lastip_line <= 30)
		offer(r->ipfunc, lastip, strlen(lastip));
	crash_make_title(r);
	if (c->nreports == 0) {
		c->first = r->kind;
		memcpy(c->first_line, line, strlen(line) + 1);
	}
	c->cur = c->nreports++;
}

/* A line of the open report r (not a header). */
static void report_line(struct crash_report *r, const char *msg, unsigned long n)
{
	const struct crash_class *k = &crash_classes[r->cls];
	const char *name;
	size_t len;
	int reliable, changed = 0;

	if (n - r->line > 400) {
		/* a report whose trace never came: it does not swallow the log */
		r->closed = 1;
		return;
	}
	r->last = n;
	if (starts(msg, "kmemleak: "))
		msg += 10;    /* kmemleak prints every line of its report with its prefix */
	if (k->detail && !r->cap[1][0]) {
		/* "Read of size 8 at addr", "Write at addr", "Free of addr" */
		static const char *const acc[] = { "Read ", "Write " };
		size_t i;

		for (i = 0; i < 2; i++)
			if (starts(msg, acc[i]) && (strstr(msg, " at addr ") || starts(msg + strlen(acc[i]), "of size "))) {
				set_cap(r->cap[1], acc[i], strlen(acc[i]) - 1);
				changed = 1;
			}
	}
	if (starts(msg, "---[ end trace") ||
	    (starts(msg, "==========") && msg[strspn(msg, "=")] == '\0' && n > r->line + 1)) {
		r->closed = 1;
		return;
	}
	if ((r->flags & F_IP) && !r->ipfunc[0]) {
		char f[CONSOLE_FUNC_MAX];

		if (crash_parse_ip(msg, f)) {
			offer(r->ipfunc, f, strlen(f));
			changed = 1;
		}
	}
	if ((r->flags & F_AT) && !r->atfunc[0]) {
		const char *at = strstr(msg, ", at: ");

		if (at && crash_parse_frame(at + 6, &name, &len, &reliable)) {
			offer(r->atfunc, name, len);
			changed = 1;
		}
	}
	if (r->trace == -1) {
		if ((r->flags & F_BT) ? starts(msg, "stack backtrace:") :
		    (strstr(msg, "Call Trace:") || strstr(msg, "Call trace:")))
			r->trace = 0;
	} else if (r->trace < 2) {
		if (crash_parse_frame(msg, &name, &len, &reliable)) {
			r->trace = 1;
			if (reliable && r->nframes < CONSOLE_FRAMES) {
				offer(r->frames[r->nframes], name, len);
				if (r->frames[r->nframes][0]) {
					r->nframes++;
					changed = 1;
				}
			}
		} else if (r->trace == 1 && !crash_trace_noise(msg) && !strstr(msg, "Call Trace:")) {
			r->trace = 2;     /* the report ends with its first call trace */
			r->closed = 1;
		}
	}
	if (changed)
		crash_make_title(r);
}

/* ---- the line loop ------------------------------------------------------------- */

static void line_done(struct console_state *c)
{
	char caller[12];
	const char *msg, *hdr;
	struct match m;
	size_t i;
	int k;
	unsigned long n;

	/* the line is clipped to CONSOLE_LINE_MAX-1; make it printable */
	for (i = 0; i < c->cur_len; i++)
		if ((unsigned char)c->cur_line[i] < 0x20 && c->cur_line[i] != '\t')
			c->cur_line[i] = '?';
	c->cur_line[c->cur_len] = '\0';
	n = ++c->lines;
	msg = crash_strip_prefix(c->cur_line, caller, sizeof(caller));

	hdr = msg;
	k = classify(&hdr, &m);
	if (k >= 0) {
		struct crash_report *r = c->nreports ? &c->reports[c->nreports - 1] : NULL;

		/* a header of the same caller (or without caller ids) may belong
		 * to the report just before it */
		if (r && (!caller[0] || !r->caller[0] || !strcmp(caller, r->caller)) && absorbs(c, r, k, n)) {
			unsigned f = crash_classes[k].flags;

			if ((f & F_WARNMSG) && !strcmp(crash_classes[r->cls].id, "warning")) {
				/* the WARNING becomes the report its message names */
				int i;

				r->cls = k;
				r->flags |= f;
				for (i = 0; i < 3; i++)
					if (m.cap[i])
						set_cap(r->cap[i], m.cap[i], m.caplen[i]);
			}
			if (!(f & F_PANIC) && !(f & F_LEAKSUM)) {
				r->flags |= f & (F_IP | F_PRELUDE | F_WARNHDR);
				if (m.func)
					offer(r->hfunc, m.func, m.funclen);
				r->last = n;
				r->closed = 0;
				c->cur = c->nreports - 1;
				crash_make_title(r);
			}
		} else {
			start_report(c, k, &m, caller, msg, n, c->lastip, c->lastip_line);
		}
		if (crash_classes[k].kind > c->worst)
			c->worst = crash_classes[k].kind;
	} else if (c->cur >= 0) {
		struct crash_report *r = &c->reports[c->cur];

		if (!r->closed && (!caller[0] || !r->caller[0] || !strcmp(caller, r->caller)))
			report_line(r, msg, n);
	}
	if (k < 0) {
		char f[CONSOLE_FUNC_MAX];

		if (crash_parse_ip(msg, f)) {
			memcpy(c->lastip, f, strlen(f) + 1);
			c->lastip_line = n;
		}
	}

	if (c->cur_len == 0)
		return;   /* blank lines say nothing in an excerpt */
	if (c->nreports && c->excerpt_len < CONSOLE_EXCERPT_LINES)
		memcpy(c->excerpt[c->excerpt_len++], c->cur_line, c->cur_len + 1);
	memcpy(c->tail[c->tail_pos], c->cur_line, c->cur_len + 1);
	c->tail_pos = (c->tail_pos + 1) % CONSOLE_TAIL_LINES;
	if (c->tail_len < CONSOLE_TAIL_LINES)
		c->tail_len++;
	c->cur_len = 0;
}

void console_init(struct console_state *c)
{
	memset(c, 0, sizeof(*c));
	c->cur = -1;
}

void console_feed(struct console_state *c, const char *buf, size_t len)
{
	size_t i;

	c->bytes += len;
	for (i = 0; i < len; i++) {
		char ch = buf[i];

		if (ch == '\n') {
			line_done(c);
			c->cur_len = 0;
			continue;
		}
		if (ch == '\r')
			continue;
		if (c->cur_len < CONSOLE_LINE_MAX - 1)
			c->cur_line[c->cur_len++] = ch;
	}
}

void console_finish(struct console_state *c)
{
	if (c->cur_len)
		line_done(c);
	fold_last(c);
	c->cur_len = 0;
}

/* ---- accessors ------------------------------------------------------------------ */

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

const char *crash_class_id(int cls)
{
	return cls >= 0 && cls < crash_nclasses ? crash_classes[cls].id : "none";
}

const char *console_title(const struct console_state *c)
{
	return c->nreports ? c->reports[0].title : "";
}

void crash_title_fingerprint(const char *title, char *buf, size_t size)
{
	unsigned long long h = 0xcbf29ce484222325ULL;   /* FNV-1a, 64 bits */
	const unsigned char *p;

	if (!size)
		return;
	buf[0] = '\0';
	if (!title || !*title)
		return;
	for (p = (const unsigned char *)title; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	snprintf(buf, size, "%016llx", h);
}

void console_fingerprint(const struct console_state *c, char *buf, size_t size)
{
	crash_title_fingerprint(console_title(c), buf, size);
}
