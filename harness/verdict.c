#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "diag.h"
#include "proto.h"
#include "verdict.h"
#include "banned.h"

#define LINE_CAP 16384   /* a test output line longer than this is clipped */

void verdict_init(struct verdict *v, verdict_emit emit, void *ctx,
		  const struct console_state *console)
{
	memset(v, 0, sizeof(*v));
	v->emit = emit;
	v->ctx = ctx;
	v->console = console;
	v->end = SER_GARBAGE;
	tap_init(&v->tap);
	sbuf_init(&v->out_line, LINE_CAP);
	sbuf_init(&v->err_line, LINE_CAP);
}

void verdict_free(struct verdict *v)
{
	tap_free(&v->tap);
	sbuf_free(&v->out_line);
	sbuf_free(&v->err_line);
}

const char *signal_name(int sig)
{
	static const char *const names[] = {
		[SIGHUP] = "SIGHUP", [SIGINT] = "SIGINT", [SIGQUIT] = "SIGQUIT",
		[SIGILL] = "SIGILL", [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",
		[SIGBUS] = "SIGBUS", [SIGFPE] = "SIGFPE", [SIGKILL] = "SIGKILL",
		[SIGUSR1] = "SIGUSR1", [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
		[SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM",
#ifdef SIGSTKFLT
		[SIGSTKFLT] = "SIGSTKFLT",
#endif
		[SIGCHLD] = "SIGCHLD", [SIGCONT] = "SIGCONT",
		[SIGSTOP] = "SIGSTOP", [SIGTSTP] = "SIGTSTP", [SIGTTIN] = "SIGTTIN",
		[SIGTTOU] = "SIGTTOU", [SIGURG] = "SIGURG", [SIGXCPU] = "SIGXCPU",
		[SIGXFSZ] = "SIGXFSZ", [SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF",
		[SIGWINCH] = "SIGWINCH", [SIGIO] = "SIGIO",
#ifdef SIGPWR
		[SIGPWR] = "SIGPWR",
#endif
		[SIGSYS] = "SIGSYS",
	};

	if (sig > 0 && sig < (int)ARRAY_SIZE(names) && names[sig])
		return names[sig];
	return "signal";
}

/* Emit a line made printable: control bytes other than tab become '?'. */
static void emit_clean(struct verdict *v, const char *prefix, const char *s, size_t len)
{
	char buf[LINE_CAP + 8];
	size_t n = 0, i, pl = strlen(prefix);

	memcpy(buf, prefix, pl);
	n = pl;
	for (i = 0; i < len && n < sizeof(buf) - 1; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[n++] = (c < 0x20 && c != '\t') || c == 0x7f ? '?' : (char)c;
	}
	v->emit(v->ctx, buf, n);
}

void verdict_emitf(struct verdict *v, const char *f, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(buf, sizeof(buf), f, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	emit_clean(v, "", buf, (size_t)n);
}

static void out_line(struct verdict *v, const char *s, size_t len)
{
	if (v->relayed >= VERDICT_MAX_RELAY) {
		v->dropped_lines++;
		/* still account for the TAP so counts stay honest */
		tap_feed_line(&v->tap, s, len);
		return;
	}
	v->relayed += len + 1;
	switch (tap_feed_line(&v->tap, s, len)) {
	case TAP_PLAN:
		return;   /* held back: vkci prints the plan at the end */
	case TAP_VERSION:
		/* TAP::Parser takes "TAP version" only as the first line: a later
		 * one (another program's stream) becomes a diagnostic */
		if (v->lines_out++ && !strncmp(s, "TAP", 3)) {
			emit_clean(v, "# ", s, len);
			return;
		}
		break;
	case TAP_TEST:
		v->lines_out++;
		if (v->tap.renumber || v->tap.skip_not_ok) {
			/* one continued stream for prove: the numbers of a later
			 * segment go on from the earlier ones; KTAP's "not ok # SKIP"
			 * is a skip, which TAP::Parser only takes as "ok # SKIP" */
			char head[40];
			const char *rest = s + v->tap.rest;
			size_t rl = len - v->tap.rest;
			char buf[LINE_CAP + 48];
			int n = fmt(head, sizeof(head), "%s %ld ",
				    v->tap.skip_not_ok || s[0] == 'o' ? "ok" : "not ok", v->tap.number);

			if (n > 0) {
				if (rl > LINE_CAP)
					rl = LINE_CAP;
				memcpy(buf, head, (size_t)n);
				memcpy(buf + n, rest, rl);
				emit_clean(v, "", buf, (size_t)n + rl);
				return;
			}
		}
		break;
	case TAP_BAIL:
		/* one test giving up must not stop the whole prove run: it
		 * becomes this test's failure (see verdict_finish) */
		if (!v->bail[0]) {
			size_t skip = len > 9 ? 9 : len;

			while (skip < len && s[skip] == ' ')
				skip++;
			proto_clip(v->bail, sizeof(v->bail), s + skip, len - skip);
			if (!v->bail[0])
				proto_clip(v->bail, sizeof(v->bail), "(no reason given)", 17);
		}
		emit_clean(v, "# ", s, len);
		return;
	default:
		v->lines_out++;
		/* an indented "---" after a result opens a YAML block for
		 * TAP::Parser, which then fails on what is not YAMLish (kselftest
		 * programs print such reports): relay it as a diagnostic */
		{
			size_t i = 0;

			while (i < len && (s[i] == ' ' || s[i] == '\t'))
				i++;
			if (i && len - i >= 3 && !strncmp(s + i, "---", 3)) {
				emit_clean(v, "# ", s, len);
				return;
			}
		}
		break;
	}
	emit_clean(v, "", s, len);
}

static void err_line(struct verdict *v, const char *s, size_t len)
{
	if (v->relayed >= VERDICT_MAX_RELAY) {
		v->dropped_lines++;
		return;
	}
	v->relayed += len + 3;
	v->lines_out++;
	emit_clean(v, "# ", s, len);
}

static void assemble(struct verdict *v, struct sbuf *sb, const struct serial_event *ev,
		     void (*line)(struct verdict *, const char *, size_t))
{
	if (v->end != SER_GARBAGE || !v->started) {
		v->late_output++;
		return;
	}
	sbuf_add(sb, ev->data, ev->len);
	if (ev->partial)
		return;
	line(v, sb->data ? sb->data : "", sb->len);
	sbuf_reset(sb);
}

void verdict_event(struct verdict *v, const struct serial_event *ev)
{
	switch (ev->type) {
	case SER_HELLO:
		if (v->hello) {
			v->garbage++;
			if (!v->garbage_why[0])
				proto_clip(v->garbage_why, sizeof(v->garbage_why), "second hello", 12);
			break;
		}
		v->hello = 1;
		v->agent_version = ev->value;
		break;
	case SER_KEY:
		v->key = 1;
		break;
	case SER_START:
		if (v->started) {
			v->garbage++;
			break;
		}
		v->started = 1;
		proto_clip(v->test, sizeof(v->test), ev->data, ev->len);
		break;
	case SER_OUT:
		assemble(v, &v->out_line, ev, out_line);
		break;
	case SER_ERR:
		assemble(v, &v->err_line, ev, err_line);
		break;
	case SER_EXIT:
	case SER_SIGNAL:
	case SER_TIMEOUT:
		if (v->end != SER_GARBAGE || !v->started) {
			v->garbage++;
			if (!v->garbage_why[0])
				proto_clip(v->garbage_why, sizeof(v->garbage_why),
					  "unexpected exit record", 22);
			break;
		}
		/* flush a last line that had no newline */
		if (v->out_line.len) {
			out_line(v, v->out_line.data, v->out_line.len);
			sbuf_reset(&v->out_line);
		}
		if (v->err_line.len) {
			err_line(v, v->err_line.data, v->err_line.len);
			sbuf_reset(&v->err_line);
		}
		v->end = ev->type;
		v->end_value = ev->value;
		break;
	case SER_DONE:
		v->done = 1;
		break;
	case SER_AGENT_ERROR:
		if (!v->agent_error[0])
			proto_clip(v->agent_error, sizeof(v->agent_error), ev->data, ev->len);
		break;
	case SER_FILE:
		break;   /* the file transport's (transfer.c) */
	case SER_GARBAGE:
		v->garbage++;
		if (!v->garbage_why[0])
			proto_clip(v->garbage_why, sizeof(v->garbage_why), ev->why, strlen(ev->why));
		break;
	}
}

struct problems {
	char reason[8][300];
	int n;
	int kernel;   /* some problem is the kernel's: show the console */
};

static void add_problem(struct problems *p, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void add_problem(struct problems *p, const char *f, ...)
{
	va_list ap;

	if (p->n >= (int)ARRAY_SIZE(p->reason))
		return;
	va_start(ap, f);
	vsnprintf(p->reason[p->n++], sizeof(p->reason[0]), f, ap);
	va_end(ap);
}

/* A problem on the kernel's side (crash, hang, no boot): the console
 * excerpt goes with it. */
#define kernel_problem(p, ...) do { (p)->kernel = 1; add_problem((p), __VA_ARGS__); } while (0)

static void console_diag(struct verdict *v)
{
	const struct console_state *c = v->console;
	int i;

	if (!c)
		return;
	if (c->first != CRASH_NONE) {
		char fp[256];

		console_fingerprint(c, fp, sizeof(fp));
		verdict_emitf(v, "# crash title: %s", console_title(c));
		verdict_emitf(v, "# crash fingerprint: %s", fp);
		for (i = 1; i < c->nreports; i++)
			verdict_emitf(v, "# also: %s", c->reports[i].title);
		verdict_emitf(v, "# console (%s):", crash_name(c->first));
		for (i = 0; i < c->excerpt_len; i++)
			verdict_emitf(v, "#   %s", c->excerpt[i]);
		return;
	}
	if (!c->tail_len)
		return;
	verdict_emitf(v, "# last console lines:");
	for (i = 0; i < c->tail_len; i++) {
		int k = (c->tail_pos - c->tail_len + i + CONSOLE_TAIL_LINES) % CONSOLE_TAIL_LINES;

		verdict_emitf(v, "#   %s", c->tail[k]);
	}
}

/* One line per other node of a multi-node test; a failed node's own TAP
 * and diagnostics follow as diagnostics (bounded). */
static void peer_lines(struct verdict *v, const struct peer_result *pr, long num)
{
	const char *line = pr->output, *nl;
	const char *why = NULL;
	size_t whylen = 0;
	int shown = 0;

	if (pr->rc == EXIT_PASS) {
		verdict_emitf(v, "ok %ld - node %d passed", num, pr->node);
		return;
	}
	/* the first `not ok` of the node says why */
	for (nl = line; nl && *nl; nl = strchr(nl, '\n') ? strchr(nl, '\n') + 1 : NULL) {
		if (!strncmp(nl, "not ok", 6)) {
			why = nl;
			whylen = strcspn(nl, "\n");
			break;
		}
	}
	if (why)
		verdict_emitf(v, "not ok %ld - node %d failed: %.*s", num, pr->node,
		      (int)(whylen > 200 ? 200 : whylen), why);
	else
		verdict_emitf(v, "not ok %ld - node %d failed", num, pr->node);
	while (*line && shown < 60) {
		size_t len = strcspn(line, "\n");

		verdict_emitf(v, "# node %d: %.*s", pr->node, (int)(len > 900 ? 900 : len), line);
		shown++;
		line += len;
		if (*line == '\n')
			line++;
	}
	if (pr->console_path)
		verdict_emitf(v, "# node %d console log: %s", pr->node, pr->console_path);
}

/* The test's "# Totals:" lines count failures or errors. */
static int totals_failed(const struct tap_state *t)
{
	return t->totals.fail > 0 || t->totals.error > 0;
}

/* No failure in "# Totals:", and its counts add up to the plan. */
static int totals_account(const struct tap_state *t)
{
	const struct tap_totals *c = &t->totals;

	return c->lines && !totals_failed(t) &&
	       c->pass + c->xfail + c->xpass + c->skip == t->planned;
}

int verdict_finish(struct verdict *v, const struct host_facts *h)
{
	const struct console_state *c = v->console;
	struct problems p = { .n = 0 };
	int infra = 0, skip_exit = 0, peers_failed = 0, totals_only = 0, i;
	enum crash_kind crash = c ? c->first : CRASH_NONE;
	long next;

	/* a last unterminated line still counts */
	if (v->out_line.len && v->end == SER_GARBAGE) {
		out_line(v, v->out_line.data, v->out_line.len);
		sbuf_reset(&v->out_line);
	}
	if (v->err_line.len && v->end == SER_GARBAGE) {
		err_line(v, v->err_line.data, v->err_line.len);
		sbuf_reset(&v->err_line);
	}
	tap_finish(&v->tap);   /* close open KTAP subtest levels */

	if (h->infra_error[0]) {
		add_problem(&p, "%s", h->infra_error);
		infra = 1;
	} else if (!v->hello) {
		infra = 1;
		if (crash != CRASH_NONE)
			kernel_problem(&p, "vkernel crashed before the agent started: %s", c->first_line);
		else if (h->timeout == HOST_TIMEOUT_BOOT)
			kernel_problem(&p, "vkernel did not boot within %ld s (no hello from the agent)", h->timeout_s);
		else if (h->kernel_reaped && WIFSIGNALED(h->kernel_status))
			kernel_problem(&p, "vkernel died by signal %d (%s) before the agent started",
				       WTERMSIG(h->kernel_status), signal_name(WTERMSIG(h->kernel_status)));
		else if (h->kernel_reaped && WEXITSTATUS(h->kernel_status))
			kernel_problem(&p, "vkernel exited with status %d before the agent started",
				       WEXITSTATUS(h->kernel_status));
		else
			kernel_problem(&p, "vkernel stopped before the agent started (no hello on the serial line)");
	} else if (v->agent_error[0]) {
		infra = !v->started;
		add_problem(&p, "guest agent: %s", v->agent_error);
	} else if (!v->started) {
		infra = crash == CRASH_NONE;
		if (crash != CRASH_NONE)
			kernel_problem(&p, "%s before the test started: %s", crash_name(crash), c->first_line);
		else if (h->timeout != HOST_TIMEOUT_NONE)
			kernel_problem(&p, "guest agent did not start the test within %ld s", h->timeout_s);
		else
			kernel_problem(&p, "guest agent stopped before starting the test");
	}

	if (v->started) {
		switch (v->end) {
		case SER_EXIT:
			if (v->end_value == 4)
				skip_exit = 1;
			else if (v->end_value != 0 && !(v->end_value == 1 && (v->tap.failed || v->tap.bailed ||
									 v->tap.nested_failed || totals_failed(&v->tap))))
				/* exit 1 after a reported failure is the kselftest way */
				add_problem(&p, "test exited with status %ld", v->end_value);
			break;
		case SER_SIGNAL:
			kernel_problem(&p, "test killed by signal %ld (%s)", v->end_value,
				    signal_name((int)v->end_value));
			break;
		case SER_TIMEOUT:
			kernel_problem(&p, "test timed out after %ld s (killed by the guest agent)", v->end_value);
			break;
		default:
			if (crash != CRASH_NONE)
				kernel_problem(&p, "%s while the test ran: %s", crash_name(crash), c->first_line);
			else if (h->timeout == HOST_TIMEOUT_TEST)
				kernel_problem(&p, "test timed out after %ld s (no result from the guest; vkernel killed)",
					    h->timeout_s);
			else if (!v->done && h->kernel_reaped && !h->killed_by_host &&
				 WIFEXITED(h->kernel_status) &&
				 WEXITSTATUS(h->kernel_status) == 0 && v->tap.planned > 0 &&
				 v->tap.tests == v->tap.planned && !v->tap.failed && !v->tap.bailed)
				/* a complete, passing TAP stream and a clean power-off:
				 * the test switched its vkernel off on purpose */
				verdict_emitf(v, "# the test powered its vkernel off itself after a complete TAP stream");
			else if (h->kernel_reaped && !h->killed_by_host && WIFSIGNALED(h->kernel_status))
				kernel_problem(&p, "vkernel died by signal %d (%s) while the test ran",
					       WTERMSIG(h->kernel_status),
					       signal_name(WTERMSIG(h->kernel_status)));
			else
				kernel_problem(&p, "vkernel stopped before the test finished");
			crash = CRASH_NONE;  /* reported */
			break;
		}
		if (crash != CRASH_NONE)
			kernel_problem(&p, "%s: %s", crash_name(crash), c->first_line);
	}
	if (v->started && v->end != SER_GARBAGE && (v->end != SER_EXIT || p.n)) {
		/* the test ended abnormally: a short TAP stream is a consequence */
		if (v->tap.planned >= 0 && v->tap.planned != v->tap.tests)
			verdict_emitf(v, "# planned %ld tests, ran %ld", v->tap.planned, v->tap.tests);
	} else if (v->started && v->end != SER_GARBAGE && !v->tap.bailed) {
		const struct tap_state *t = &v->tap;

		if (t->planned < 0 && !skip_exit && t->tests)
			add_problem(&p, "no TAP plan (ran %ld tests)", t->tests);
		else if (t->planned < 0 && !skip_exit)
			add_problem(&p, "no TAP output");
		else if (t->plan_errors)
			add_problem(&p, "%d TAP plans", t->plans);
		else if (t->tests == 0 && t->planned > 0 && totals_account(t) && !skip_exit)
			/* results given only as counts (kselftest programs that count
			 * with ksft_inc_pass_cnt() and print no result lines) */
			totals_only = 1;
		else if (t->planned >= 0 && t->planned != t->tests && skip_exit)
			/* kselftest's ksft_exit_skip() after some results: the rest is skipped */
			verdict_emitf(v, "# planned %ld tests, ran %ld, then exit status 4 (skip)", t->planned, t->tests);
		else if (t->planned >= 0 && t->planned != t->tests)
			add_problem(&p, "planned %ld tests but ran %ld", t->planned, t->tests);
		if (t->nested_plan_mismatch)
			add_problem(&p, "%s", t->first_plan_mismatch);
	} else if (v->started && v->tap.planned >= 0 && v->tap.planned != v->tap.tests) {
		verdict_emitf(v, "# planned %ld tests, ran %ld before the end", v->tap.planned, v->tap.tests);
	}
	if (v->tap.bailed)
		add_problem(&p, "the test bailed out: %s", v->bail[0] ? v->bail : "(no reason given)");
	/* KTAP: what the top-level lines do not say */
	if (v->tap.nested_failed && !v->tap.failed)
		add_problem(&p, "subtest failed: %s%s", v->tap.first_nested_failure,
			    v->tap.nested_failed > 1 ? " (and more)" : "");
	else if (totals_failed(&v->tap) && !v->tap.failed && !v->tap.nested_failed)
		add_problem(&p, "the test's \"# Totals:\" reports %ld failed and %ld errors",
			    v->tap.totals.fail, v->tap.totals.error);
	if (h->timeout == HOST_TIMEOUT_SHUTDOWN)
		kernel_problem(&p, "vkernel did not power off within %ld s after the test ended",
			    h->timeout_s);
	if (v->garbage)
		add_problem(&p, "serial protocol violation: %lu bad records (first: %s)",
			    v->garbage, v->garbage_why[0] ? v->garbage_why : "?");
	if (h->kernel_reaped && !h->killed_by_host && v->hello && p.n == 0) {
		int st = h->kernel_status;

		if (WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT && v->done && v->end == SER_EXIT &&
		    h->abort_after_poweroff_ok)
			/* UML 6.12 now and then aborts in its exit path after the
			 * guest powered off cleanly (agent's done record seen): the
			 * test's own result stands, the abort is recorded */
			verdict_emitf(v, "# note: the vkernel aborted (SIGABRT) after it had powered off cleanly");
		else if (WIFSIGNALED(st))
			kernel_problem(&p, "vkernel died by signal %d (%s)", WTERMSIG(st), signal_name(WTERMSIG(st)));
		else if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
			kernel_problem(&p, "vkernel exited with status %d", WEXITSTATUS(st));
		else if (!v->done && v->end != SER_GARBAGE)
			kernel_problem(&p, "vkernel powered off without the agent's done record");
	}

	if (v->dropped_lines)
		verdict_emitf(v, "# %lu lines of test output not shown (more than %u bytes)",
		      v->dropped_lines, VERDICT_MAX_RELAY);
	if (v->late_output)
		verdict_emitf(v, "# %lu output records outside the test ignored", v->late_output);

	for (i = 0; i < h->npeers; i++)
		if (h->peers[i].rc != EXIT_PASS)
			peers_failed++, infra |= h->peers[i].rc == EXIT_INFRA;

	if (p.n)
		proto_clip(v->reason, sizeof(v->reason), p.reason[0], strlen(p.reason[0]));
	else if (v->tap.failed)
		proto_clip(v->reason, sizeof(v->reason), v->tap.first_failure, strlen(v->tap.first_failure));

	/* Skip-all: the test's own verdict, if nothing else went wrong. */
	if (p.n == 0 && v->tap.failed == 0 && !v->tap.bailed && !peers_failed &&
	    (v->tap.skip_all || (skip_exit && v->tap.tests == 0))) {
		verdict_emitf(v, "1..0 # SKIP %s", v->tap.skip_all && v->tap.skip_reason[0] ?
		      v->tap.skip_reason : "test exited with status 4 (skip)");
		v->skipped = 1;
		return EXIT_PASS;
	}

	next = v->tap.last_number;
	if (totals_only && !p.n)
		verdict_emitf(v, "ok %ld - no result lines; \"# Totals:\" counts the %ld planned: pass:%ld skip:%ld "
			      "xfail:%ld xpass:%ld", ++next, v->tap.planned, v->tap.totals.pass, v->tap.totals.skip,
			      v->tap.totals.xfail, v->tap.totals.xpass);
	for (i = 0; i < p.n; i++) {
		verdict_emitf(v, "not ok %ld - %s", ++next, p.reason[i]);
		if (i == 0) {
			int j;

			if (p.kernel)
				console_diag(v);
			for (j = 0; j < h->nnotes; j++)
				verdict_emitf(v, "# %s", h->notes[j]);
		}
	}
	for (i = 0; i < h->npeers; i++)
		peer_lines(v, &h->peers[i], ++next);
	if (p.n == 0 && (v->tap.failed || v->tap.bailed || peers_failed)) {
		int j;

		for (j = 0; j < h->nnotes; j++)
			verdict_emitf(v, "# %s", h->notes[j]);
	}
	verdict_emitf(v, "1..%ld", next);
	if (infra)
		return EXIT_INFRA;
	/* kselftest: every result skipped and exit status 4: the test skipped */
	if (!p.n && !v->tap.failed && !v->tap.bailed && !peers_failed && skip_exit &&
	    v->tap.tests > 0 && v->tap.skipped == v->tap.tests)
		v->skipped = 1;
	return (p.n || v->tap.failed || v->tap.bailed || peers_failed) ? EXIT_FAIL : EXIT_PASS;
}
