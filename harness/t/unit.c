/* unit.c - unit tests of vkci's pure modules: the serial record parser, the
 * TAP classifier, the console crash detector, kernel command-line building
 * (UML and QEMU), the kernel probe, coverage trees,
 * test metadata and the file-transfer parser and receiver. Prints TAP; run by prove through t/00-unit.t. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>

#include "../build.h"
#include "../kconfig.h"
#include "../diag.h"
#include "../instdir.h"
#include "../qemu.h"
#include "../console.h"
#include "../meta.h"
#include "../result.h"
#include "../backend.h"
#include "../proto.h"
#include "../serial.h"
#include "../tap.h"
#include "../transfer.h"
#include "../util.h"
#include "../verdict.h"

static int n_tests, n_failed;

static int ok(int cond, const char *f, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++n_tests);
	va_start(ap, f);
	vprintf(f, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		n_failed++;
	return cond;
}

static void is_long(long got, long want, const char *what)
{
	if (!ok(got == want, "%s", what))
		printf("#   got: %ld\n# expected: %ld\n", got, want);
}

static void is_str(const char *got, const char *want, const char *what)
{
	if (!ok(got && want && !strcmp(got, want), "%s", what))
		printf("#   got: '%s'\n# expected: '%s'\n", got ? got : "(null)", want);
}

/* ---- serial ---------------------------------------------------------- */

struct rec {
	int n;
	enum serial_type type[64];
	char data[64][128];
	int partial[64];
	long value[64];
	char why[64][96];
};

static void collect(void *ctx, const struct serial_event *ev)
{
	struct rec *r = ctx;
	size_t len = ev->len < 127 ? ev->len : 127;

	if (r->n >= 64)
		return;
	r->type[r->n] = ev->type;
	memcpy(r->data[r->n], ev->data ? ev->data : "", len);
	r->data[r->n][len] = '\0';
	r->partial[r->n] = ev->partial;
	r->value[r->n] = ev->value;
	snprintf(r->why[r->n], sizeof(r->why[0]), "%s", ev->why ? ev->why : "");
	r->n++;
}

static void parse_all(struct rec *r, const char *s, size_t len, int bytewise)
{
	struct serial_parser p;
	size_t i;

	memset(r, 0, sizeof(*r));
	serial_init(&p, collect, r);
	if (bytewise)
		for (i = 0; i < len; i++)
			serial_feed(&p, s + i, 1);
	else
		serial_feed(&p, s, len);
	serial_finish(&p);
}

#define KEY "0123456789abcdef"
/* a string literal and its length */
#define STR(s) (s), (sizeof(s) - 1)

static void test_serial(void)
{
	static const char good[] =
		"V vkci-agent 1\n"
		"K " KEY "\n"
		"S " KEY " vm/x\n"
		"O 1..1\n"
		"o part\n"
		"O ial\n"
		"E err\r\n"
		"X " KEY " exit 3\n"
		"D " KEY "\n";
	struct rec r;
	int bytewise;

	for (bytewise = 0; bytewise < 2; bytewise++) {
		parse_all(&r, good, sizeof(good) - 1, bytewise);
		is_long(r.n, 9, bytewise ? "serial: good stream fed byte by byte" : "serial: good stream");
		ok(r.type[0] == SER_HELLO && r.value[0] == 1, "serial: hello with version");
		ok(r.type[1] == SER_KEY && !strcmp(r.data[1], KEY), "serial: key");
		ok(r.type[2] == SER_START && !strcmp(r.data[2], "vm/x"), "serial: start names the test");
		ok(r.type[4] == SER_OUT && r.partial[4] && !strcmp(r.data[4], "part"), "serial: partial line");
		ok(r.type[6] == SER_ERR && !strcmp(r.data[6], "err"), "serial: stderr line, record CR dropped");
		ok(r.type[7] == SER_EXIT && r.value[7] == 3, "serial: exit status");
		ok(r.type[8] == SER_DONE, "serial: done");
	}

	parse_all(&r, STR("V vkci-agent 1\nK " KEY "\nS " KEY " t\nO ok 1\nO ok"), 0);
	ok(r.n == 5 && r.type[4] == SER_GARBAGE && strstr(r.why[4], "truncated"),
	   "serial: truncated last line becomes garbage");

	parse_all(&r, STR("V vkci-agent 1\nK " KEY "\nX ffffffffffffffff exit 0\nX " KEY " exit 0\n"), 0);
	ok(r.n == 4 && r.type[2] == SER_GARBAGE && strstr(r.why[2], "wrong key"),
	   "serial: control record with a wrong key is refused");
	ok(r.type[3] == SER_EXIT, "serial: the right key is accepted");

	parse_all(&r, STR("X " KEY " exit 0\n"), 0);
	ok(r.n == 1 && r.type[0] == SER_GARBAGE && strstr(r.why[0], "before key"),
	   "serial: control record before the key exchange is refused");

	parse_all(&r, STR("K " KEY "\nK " KEY "\n"), 0);
	ok(r.n == 2 && r.type[1] == SER_GARBAGE, "serial: a second key is refused");

	{
		static const char *const bad[] = {
			"X " KEY " exit 256\n", "X " KEY " exit -1\n", "X " KEY " exit\n",
			"X " KEY " signal 0\n", "X " KEY " bogus 1\n", "X " KEY "exit 0\n",
			"D " KEY " extra\n", "S " KEY "\n", "Z what\n", "\n", "Oops\n",
			"V vkci-agent x\n", "K 0123\n",
		};
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			char buf[256];
			int n = snprintf(buf, sizeof(buf), "K " KEY "\n%s", bad[i]);

			parse_all(&r, buf, (size_t)n, 0);
			ok(r.n == 2 && r.type[1] == SER_GARBAGE, "serial: corrupt record %zu is garbage: %.*s",
			   i, (int)strcspn(bad[i], "\n"), bad[i]);
		}
	}

	{
		/* any byte value, NULs included, inside output */
		static const char nul[] = "O a\0b\xff\n";
		parse_all(&r, nul, sizeof(nul) - 1, 0);
		ok(r.n == 1 && r.type[0] == SER_OUT && r.data[0][1] == '\0' &&
		   (unsigned char)r.data[0][3] == 0xff, "serial: NUL and 0xff bytes pass through output");
	}

	{
		/* a record longer than the bound: one garbage event, then back in sync */
		size_t big = SERIAL_MAX_LINE * 3;
		char *buf = malloc(big + 64);
		size_t n;

		memset(buf, 'A', big);
		buf[0] = 'O';
		buf[1] = ' ';
		buf[big] = '\n';
		n = big + 1;
		memcpy(buf + n, "O after\n", 8);
		n += 8;
		parse_all(&r, buf, n, 0);
		ok(r.n == 2 && r.type[0] == SER_GARBAGE && strstr(r.why[0], "longer"),
		   "serial: oversized record becomes one garbage event");
		ok(r.type[1] == SER_OUT && !strcmp(r.data[1], "after"), "serial: parser resyncs after it");
		free(buf);
	}

	{
		/* no output at all */
		parse_all(&r, "", 0, 0);
		is_long(r.n, 0, "serial: empty stream gives no events");
	}
}

/* ---- TAP --------------------------------------------------------------- */

static enum tap_line feed(struct tap_state *t, const char *s)
{
	return tap_feed_line(t, s, strlen(s));
}

static void test_tap(void)
{
	struct tap_state t;

	tap_init(&t);
	ok(feed(&t, "TAP version 13") == TAP_VERSION, "tap: version line");
	ok(feed(&t, "1..3") == TAP_PLAN && t.planned == 3, "tap: plan");
	ok(feed(&t, "ok 1 - a") == TAP_TEST, "tap: ok");
	ok(feed(&t, "not ok 2 - b # TODO later") == TAP_TEST && t.failed == 0, "tap: TODO failure does not count");
	ok(feed(&t, "not ok 3 - c") == TAP_TEST && t.failed == 1, "tap: not ok counts");
	is_str(t.first_failure, "not ok 3 - c", "tap: first failure remembered");
	ok(feed(&t, "# diag") == TAP_COMMENT, "tap: comment");
	ok(feed(&t, "okay") == TAP_OTHER, "tap: 'okay' is not a test line");
	ok(feed(&t, "1..x") == TAP_OTHER, "tap: '1..x' is not a plan");
	ok(feed(&t, "Bail out! broken") == TAP_BAIL && t.bailed, "tap: bail out");
	is_long(t.tests, 3, "tap: three test lines");
	tap_free(&t);

	tap_init(&t);
	ok(feed(&t, "1..0 # SKIP no userfaultfd") == TAP_PLAN && t.skip_all, "tap: skip-all plan");
	is_str(t.skip_reason, "no userfaultfd", "tap: skip reason");

	tap_init(&t);
	feed(&t, "ok");
	feed(&t, "ok 7");
	ok(t.renumber && t.number == 2, "tap: a number out of sequence is corrected for the relay");
	feed(&t, "ok");
	is_long(t.last_number, 3, "tap: numbering in sequence, with and without numbers");
	feed(&t, "1..8");
	ok(t.plan_after_tests, "tap: trailing plan noticed");
	tap_free(&t);
}


/* Feed a multi-line text. */
static void feed_text(struct tap_state *t, const char *text)
{
	while (*text) {
		size_t n = strcspn(text, "\n");

		tap_feed_line(t, text, n);
		text += n;
		if (*text)
			text++;
	}
	tap_finish(t);
}

/* "id:name:outcome id:name:outcome ..." of the recorded subtests */
static const char *subtests(const struct tap_state *t)
{
	static char buf[4096];
	size_t n = 0, i;

	buf[0] = '\0';
	for (i = 0; i < t->nsub && n < sizeof(buf) - 200; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s:%s:%s", i ? " " : "", t->sub[i].id,
				      t->sub[i].name, tap_outcome_name(t->sub[i].outcome));
	return buf;
}

static void test_ktap(void)
{
	struct tap_state t;
	int i;

	/* the example of Documentation/dev-tools/ktap.rst */
	tap_init(&t);
	feed_text(&t,
		  "KTAP version 1\n1..1\n"
		  "  KTAP version 1\n  1..3\n"
		  "    KTAP version 1\n    1..1\n    # test_1: initializing test_1\n    ok 1 test_1\n"
		  "  ok 1 example_test_1\n"
		  "    KTAP version 1\n    1..2\n    ok 1 test_1 # SKIP test_1 skipped\n    ok 2 test_2\n"
		  "  ok 2 example_test_2\n"
		  "    KTAP version 1\n    1..3\n    ok 1 test_1\n    # test_2: FAIL\n    not ok 2 test_2\n"
		  "    ok 3 test_3 # SKIP test_3 skipped\n"
		  "  not ok 3 example_test_3\n"
		  "not ok 1 main_test\n");
	ok(t.ktap, "ktap: version line seen");
	is_str(subtests(&t), "1.1.1:test_1:pass 1.1:example_test_1:pass 1.2.1:test_1:skip 1.2.2:test_2:pass "
	       "1.2:example_test_2:pass 1.3.1:test_1:pass 1.3.2:test_2:fail 1.3.3:test_3:skip "
	       "1.3:example_test_3:fail 1:main_test:fail", "ktap: the spec's example, ids and outcomes");
	is_long(t.tests, 1, "ktap: one top-level test");
	is_long(t.failed, 1, "ktap: the top-level failure counts");
	is_long(t.nested_failed, 2, "ktap: two nested failures");
	is_str(t.first_nested_failure, "1.3.2 test_2", "ktap: first nested failure named by id");
	is_long(t.nested_plan_mismatch, 0, "ktap: every nested plan met");
	ok(t.depth == 0, "ktap: back at the top level");
	tap_free(&t);

	/* KUnit: 4-space indentation, # Subtest:, parameterised cases, Totals */
	tap_init(&t);
	feed_text(&t,
		  "KTAP version 1\n1..2\n"
		  "    KTAP version 1\n    # Subtest: example\n    # module: kunit_example_test\n    1..2\n"
		  "    ok 1 example_simple_test\n"
		  "        KTAP version 1\n        # Subtest: example_params_test\n"
		  "        ok 1 example value 3 # SKIP unsupported param value 3\n"
		  "        ok 2 example value 2\n"
		  "    # example_params_test: pass:1 fail:0 skip:1 total:2\n"
		  "    ok 2 example_params_test\n"
		  "# example: pass:2 fail:0 skip:0 total:2\n"
		  "ok 1 example\n"
		  "    KTAP version 1\n    # Subtest: other\n    1..1\n    not ok 1 other_case\n"
		  "ok 2 other\n"
		  "# Totals: pass:3 fail:1 skip:1 total:5\n");
	is_str(subtests(&t), "1.1:example_simple_test:pass 1.2.1:example value 3:skip 1.2.2:example value 2:pass "
	       "1.2:example_params_test:pass 1:example:pass 2.1:other_case:fail 2:other:pass",
	       "ktap: KUnit suites, cases and parameters");
	is_long(t.failed, 0, "ktap: no top-level failure");
	is_long(t.nested_failed, 1, "ktap: a nested not ok under an ok parent is a failure");
	is_str(t.first_nested_failure, "2.1 other_case", "ktap: named 2.1");
	is_long(t.totals.lines, 1, "ktap: one top-level Totals line (suite lines are not totals)");
	is_long(t.totals.fail, 1, "ktap: Totals fail");
	is_long(t.totals.skip, 1, "ktap: Totals skip");
	tap_free(&t);

	/* nested plan not met; directives; kselftest Totals; not ok # SKIP */
	tap_init(&t);
	feed_text(&t,
		  "TAP version 13\n1..4\n"
		  "  1..3\n  ok 1 a\n  ok 2 b\n"
		  "ok 1 - parent\n"
		  "not ok 2 - known # TODO later\n"
		  "ok 3 flaky # XFAIL expected\n"
		  "not ok 4 gone # SKIP no such device\n"
		  "# Totals: pass:1 fail:2 xfail:1 xpass:0 skip:1 error:1\n");
	is_long(t.nested_plan_mismatch, 1, "ktap: a short nested plan is noticed");
	is_str(t.first_plan_mismatch, "subtest 1 planned 3 results, ran 2", "ktap: and described");
	is_str(subtests(&t), "1.1:a:pass 1.2:b:pass 1:parent:pass 2:known:todo 3:flaky:todo 4:gone:skip",
	       "ktap: TODO, XFAIL and not ok # SKIP outcomes; '- ' dropped");
	is_long(t.failed, 0, "ktap: not ok # SKIP and TODO are no failures");
	ok(t.skip_not_ok, "ktap: not ok # SKIP flagged for the relay");
	is_long(t.totals.fail, 2, "ktap: kselftest Totals fail");
	is_long(t.totals.error, 1, "ktap: kselftest Totals error");
	tap_free(&t);

	/* a skip or TODO without a description is named by its reason */
	tap_init(&t);
	feed_text(&t, "1..5\nok 1 # SKIP not on UML \nok 2 #skip\nnot ok 3 # TODO later\nok 4 - x # SKIP y\nok 5 #\n");
	is_str(subtests(&t), "1:not on UML:skip 2::skip 3:later:todo 4:x:skip 5::pass",
	       "tap: an unnamed skip or TODO takes its reason as its name");
	tap_free(&t);

	/* a script running two kselftest programs: two segments, one stream */
	tap_init(&t);
	feed_text(&t, "TAP version 13\n1..2\nok 1 a\nok 2 b\n# Totals: pass:2 fail:0 xfail:0 xpass:0 skip:0 error:0\n"
		  "TAP version 13\n1..1\n");
	ok(tap_feed_line(&t, "not ok 1 c", 10) == TAP_TEST && t.number == 3 && t.renumber && t.rest == 9,
	   "ktap: a second stream's test 1 is number 3 of the whole");
	is_long(t.planned, 3, "ktap: the segments' plans add up");
	is_long(t.segments, 1, "ktap: one more segment");
	is_long(t.plan_errors, 0, "ktap: one plan per segment is no error");
	feed_text(&t, "# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0\n");
	is_long(t.totals.lines, 2, "ktap: both Totals lines");
	is_long(t.totals.pass, 2, "ktap: Totals summed");
	tap_free(&t);
	tap_init(&t);
	feed_text(&t, "1..3\nok 1\n1..3\n");
	is_long(t.plan_errors, 1, "ktap: a plan twice in one unfinished segment is an error");
	tap_free(&t);

	/* "skipped" is not the SKIP directive; an escaped # is no directive */
	tap_init(&t);
	feed_text(&t, "not ok 1 x # skipped nothing\nnot ok 2 y \\# SKIP\n");
	is_long(t.failed, 2, "ktap: '# skipped' and '\\# SKIP' are no directives");
	tap_free(&t);

	/* bounded: more results than the list holds, nesting deeper than the stack */
	tap_init(&t);
	for (i = 0; i < TAP_MAX_SUBTESTS + 5; i++)
		tap_feed_line(&t, "ok", 2);
	is_long((long)t.nsub, TAP_MAX_SUBTESTS, "ktap: the subtest list is bounded");
	is_long((long)t.sub_dropped, 5, "ktap: and counts what it dropped");
	tap_free(&t);
	tap_init(&t);
	for (i = 1; i <= 20; i++) {
		char line[64];

		snprintf(line, sizeof(line), "%*sok 1 deep", i * 2, "");
		tap_feed_line(&t, line, strlen(line));
	}
	ok(t.depth == TAP_MAX_DEPTH - 1, "ktap: nesting stops at the deepest level");
	tap_finish(&t);
	ok(t.depth == 0 && t.nsub == 20, "ktap: every deep result recorded, levels closed");
	tap_free(&t);
}


static void vsink(void *ctx, const char *line, size_t len)
{
	(void)ctx;
	(void)line;
	(void)len;
}

static void to_verdict(void *ctx, const struct serial_event *ev)
{
	verdict_event(ctx, ev);
}

/* A test's output lines and exit status through the verdict: its status,
 * *skipped the report's "skip" outcome. */
static int verdict_of(const char *lines, int exit_status, int *skipped)
{
	static char buf[4096];
	struct serial_parser sp;
	struct host_facts host;
	struct verdict v;
	size_t n = 0;
	int rc;

	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "V vkci-agent 1\nK 5f1c0ffee0ddba11\nS 5f1c0ffee0ddba11 t/t\n");
	while (*lines && n < sizeof(buf) - 200) {
		size_t l = strcspn(lines, "\n");

		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "O %.*s\n", (int)l, lines);
		lines += l + (lines[l] == '\n');
	}
	snprintf(buf + n, sizeof(buf) - n, "X 5f1c0ffee0ddba11 exit %d\nD 5f1c0ffee0ddba11\n", exit_status);
	memset(&host, 0, sizeof(host));
	host.kernel_reaped = 1;
	verdict_init(&v, vsink, NULL, NULL);
	serial_init(&sp, to_verdict, &v);
	serial_feed(&sp, buf, strlen(buf));
	serial_finish(&sp);
	rc = verdict_finish(&v, &host);
	*skipped = v.skipped;
	verdict_free(&v);
	return rc;
}

static void test_ktap_verdict(void)
{
	int sk;

	ok(verdict_of("TAP version 13\n1..2\nok 1 a # SKIP no x\nok 2 b # SKIP no y", 4, &sk) == EXIT_PASS && sk,
	   "ktap verdict: every result skipped and exit 4: the test skipped");
	ok(verdict_of("TAP version 13\n1..2\nok 1 a\nok 2 b # SKIP no y", 4, &sk) == EXIT_PASS && !sk,
	   "ktap verdict: one result passed: not a skip");
	ok(verdict_of("TAP version 13\n1..1\n  1..1\n  not ok 1 inner\nok 1 outer", 0, &sk) == EXIT_FAIL,
	   "ktap verdict: a nested not ok fails a test that exits 0");
	ok(verdict_of("TAP version 13\n1..1\nok 1 a\n# Totals: pass:1 fail:1 xfail:0 xpass:0 skip:0 error:0", 0, &sk) ==
	   EXIT_FAIL, "ktap verdict: # Totals: with a failure fails a test that exits 0");
	ok(verdict_of("TAP version 13\n1..1\nok 1 a", 1, &sk) == EXIT_FAIL,
	   "ktap verdict: exit 1 fails a test whose results all say ok");
	ok(verdict_of("TAP version 13\n1..1\nnot ok 1 a # SKIP no device", 0, &sk) == EXIT_PASS,
	   "ktap verdict: not ok # SKIP is a skip");
}

/* ---- console ----------------------------------------------------------- */

static void test_console(void)
{
	static const struct {
		const char *text;
		enum crash_kind kind;
	} cases[] = {
		{ "Kernel panic - not syncing: sysrq triggered crash\n", CRASH_PANIC },
		{ "Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000300\n", CRASH_PANIC },
		{ "BUG: kernel NULL pointer dereference, address: 0000000000000000\n", CRASH_BUG },
		{ "kernel BUG at mm/slub.c:123!\n", CRASH_BUG },
		{ "Oops: 0000 [#1] PREEMPT SMP\n", CRASH_OOPS },
		{ "WARNING: CPU: 0 PID: 1 at kernel/fork.c:10 f+0x1/0x2\n", CRASH_WARNING },
		{ "INFO: task kworker/0:1:12 blocked for more than 120 seconds.\n", CRASH_HUNG_TASK },
		{ "rcu: INFO: rcu_preempt self-detected stall on CPU\n", CRASH_RCU_STALL },
		{ "rcu: INFO: rcu_sched detected stalls on CPUs/tasks:\n", CRASH_RCU_STALL },
		{ "watchdog: BUG: soft lockup - CPU#0 stuck for 22s!\n", CRASH_BUG },
		{ "EXT4-fs (ubda): mounted filesystem\n", CRASH_NONE },
		{ "reboot: Power down\n", CRASH_NONE },
		{ "a line that mentions bugs and warnings in lower case\n", CRASH_NONE },
	};
	struct console_state *c = malloc(sizeof(*c));
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		console_init(c);
		console_feed(c, "Linux version 6.12\n", 19);
		console_feed(c, cases[i].text, strlen(cases[i].text));
		console_finish(c);
		ok(c->first == cases[i].kind, "console: '%.*s' is %s",
		   (int)strcspn(cases[i].text, "\n") > 40 ? 40 : (int)strcspn(cases[i].text, "\n"), cases[i].text,
		   crash_name(cases[i].kind));
	}

	console_init(c);
	console_feed(c, STR("ok\nWARNING: CPU: 0 PID: 1 at x\n"));
	console_feed(c, STR("Call Trace:\nKernel panic - not syncing: boom\n"));
	console_finish(c);
	ok(c->first == CRASH_WARNING && c->worst == CRASH_PANIC, "console: first and worst crash kept apart");
	ok(c->excerpt_len == 3 && !strcmp(c->excerpt[1], "Call Trace:"), "console: excerpt starts at the crash");

	{
		/* a 100 KiB line without newline and control bytes: clipped, no overflow */
		size_t n = 100 * 1024;
		char *big = malloc(n);

		memset(big, '\x01', n);
		memcpy(big + 10, "Kernel panic - not syncing", 26);
		console_init(c);
		console_feed(c, big, n);
		console_finish(c);
		ok(c->first == CRASH_PANIC && strlen(c->first_line) < CONSOLE_LINE_MAX &&
		   c->first_line[0] == '?', "console: huge line clipped, control bytes made printable");
		free(big);
	}
	{
		/* the tail ring keeps the last lines only */
		char line[32];
		int k;

		console_init(c);
		for (k = 0; k < 100; k++) {
			int m = snprintf(line, sizeof(line), "line %d\n", k);
			console_feed(c, line, (size_t)m);
		}
		is_long(c->tail_len, CONSOLE_TAIL_LINES, "console: tail ring is bounded");
		is_str(c->tail[(c->tail_pos + CONSOLE_TAIL_LINES - 1) % CONSOLE_TAIL_LINES], "line 99",
		       "console: tail ends with the last line");
	}
	free(c);
}

static void test_fingerprint(void)
{
	static const char trace[] =
		"Kernel panic - not syncing: sysrq triggered crash\n"
		"CPU: 0 UID: 0 PID: 27 Comm: panic Not tainted 6.12.117 #1\n"
		"Call Trace:\n"
		" [<603b4904>] ? _printk+0x0/0x57\n"
		" [<600222ca>] show_stack+0x184/0x193\n"
		" [<603bbf55>] dump_stack+0x1a/0x1c\n"
		" [<603b396c>] panic+0x14d/0x370\n"
		" [<6026c47b>] sysrq_reset_seq_param_set+0x0/0x56\n"
		" [<6026d044>] ? maybe_frame+0x83/0xa3\n"
		" [<6026c97a>] __handle_sysrq.isra.0+0xce/0x15c\n"
		"  write_sysrq_trigger+0x83/0xa3\n"
		" [<60100000>] proc_reg_write+0x1/0x2\n";
	struct console_state *c = malloc(sizeof(*c));
	char fp[256], fp2[256];

	console_init(c);
	console_feed(c, STR(trace));
	console_finish(c);
	is_str(console_title(c), "kernel panic: sysrq triggered crash in __handle_sysrq",
	       "title: kind + first reliable frame past the report machinery, suffix cut");
	console_fingerprint(c, fp, sizeof(fp));
	ok(strlen(fp) == 16 && strspn(fp, "0123456789abcdef") == 16, "fingerprint: 16 hex digits");
	crash_title_fingerprint("kernel panic: sysrq triggered crash in __handle_sysrq", fp2, sizeof(fp2));
	is_str(fp, fp2, "fingerprint: derived from the title alone");
	crash_title_fingerprint("kernel panic: sysrq triggered crash in handle_sysrq", fp2, sizeof(fp2));
	ok(strcmp(fp, fp2) != 0, "fingerprint: another title, another fingerprint");
	console_init(c);
	console_feed(c, STR("[   12.345678][    T42] WARNING: CPU: 1 PID: 42 at mm/x.c:12 f.cold+0x1/0x2\n"));
	console_finish(c);
	is_str(console_title(c), "WARNING in f", "title: without a trace, the function the header names");
	{
		/* 100 reports: 8 kept, the rest counted; each titled by its own function */
		char line[96];
		int k;

		console_init(c);
		for (k = 0; k < 100; k++) {
			int m = snprintf(line, sizeof(line), "WARNING: CPU: 0 PID: 1 at a.c:1 f%d+0x1/0x2\n---[ end trace ]---\n", k);
			console_feed(c, line, (size_t)m);
		}
		console_finish(c);
		ok(c->nreports == CONSOLE_REPORTS && c->reports_dropped == 100 - CONSOLE_REPORTS &&
		   !strcmp(c->reports[0].title, "WARNING in f0") && !strcmp(c->reports[7].title, "WARNING in f7"),
		   "reports: bounded, the first titles the crash, the others listed in order");
	}
	{
		/* a panic right after a report is its end; one far later is a report of its own */
		int k;

		console_init(c);
		console_feed(c, STR("BUG: scheduling while atomic: a/1/0x00000002\nKernel panic - not syncing: x\n"));
		console_finish(c);
		ok(c->nreports == 1 && c->first == CRASH_BUG && c->worst == CRASH_PANIC,
		   "reports: the panic just after a report belongs to it");
		console_init(c);
		console_feed(c, STR("BUG: scheduling while atomic: a/1/0x00000002\n"));
		for (k = 0; k < 500; k++)
			console_feed(c, STR("some line\n"));
		console_feed(c, STR("Kernel panic - not syncing: boom\n"));
		console_finish(c);
		ok(c->nreports == 2 && !strcmp(c->reports[1].title, "kernel panic: boom"),
		   "reports: a panic 500 lines after a report without a trace is a report of its own");
	}
	console_init(c);
	console_feed(c, STR("[  1.000000] DEBUG: BUG: x\n[  1.1] traps: a[1] general protection fault ip:1\nODEBUG: selftest passed\n"));
	console_finish(c);
	ok(c->nreports == 0 && c->first == CRASH_NONE, "false friends: DEBUG:, a user's trap, ODEBUG banner");
	console_init(c);
	console_feed(c, STR("all fine\n"));
	console_fingerprint(c, fp, sizeof(fp));
	is_str(fp, "", "fingerprint: empty without a crash");
	is_str(console_title(c), "", "title: empty without a crash");
	free(c);
}

static void test_json(void)
{
	char path[] = "/tmp/vkci-unit-result.XXXXXX", *text, big[3000];
	struct vkci_result r;
	json_t *j;
	size_t len;
	int fd = mkstemp(path);

	if (fd >= 0)
		close(fd);
	result_init(&r);
	fmt(r.test, sizeof(r.test), "vm/x");
	fmt(r.reason, sizeof(r.reason), "a\"b\\c\n\x01\xc3\xa9\xff");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	r.kernel = big;
	r.outcome = OUTCOME_FAIL;
	r.exit_status = 1;
	result_add_subtest(&r, "1", "first", "pass");
	result_add_subtest(&r, "2.1", "nested", "todo");
	ok(result_write(path, &r) == 0, "result: written");
	text = read_file(path, 1 << 20, &len);
	ok(text && strstr(text, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\xef\xbf\xbd\"") != NULL,
	   "result: quotes, backslash, control bytes escaped; valid UTF-8 kept, invalid replaced");
	j = text ? json_loads(text, 0, NULL) : NULL;
	ok(j && strlen(json_string_value(json_object_get(j, "kernel"))) == sizeof(big) - 1,
	   "result: a 3000-byte string is written whole");
	ok(j && !strcmp(json_string_value(json_object_get(j, "format")), RESULT_FORMAT) &&
	   !strcmp(json_string_value(json_object_get(j, "outcome")), "fail"),
	   "result: format version and outcome");
	ok(j && json_array_size(json_object_get(j, "subtests")) == 2 &&
	   !strcmp(json_string_value(json_object_get(json_array_get(json_object_get(j, "subtests"), 1), "outcome")), "todo"),
	   "result: subtests, a TODO as todo");
	ok(outcome_worst(OUTCOME_PASS, OUTCOME_CRASH) == OUTCOME_CRASH && outcome_parse("flaky") == OUTCOME_FLAKY &&
	   outcome_parse("nonsense") < 0, "result: outcomes are one ordered enum");
	json_decref(j);
	free(text);
	result_free(&r);
	unlink(path);
}

/* ---- kernel command line and the job ---------------------------------------- */

static int has_arg(const struct boot_argv *b, const char *want)
{
	int i;

	for (i = 0; i < b->argc; i++)
		if (!strcmp(b->argv[i], want))
			return 1;
	return 0;
}

static void test_cmdline(void)
{
	static const char *const args[] = { "a b", "x%y", "", "é\t", NULL };
	static const char *const extra[] = { "loglevel=4", NULL };
	static const int chan[4] = { 3, 4, 5, 6 };
	struct boot_params bp = {
		.kernel = "/k/linux", .image = "/img/base.img", .payload = "/img/payload.img",
		.mem = 128LL << 20, .node_dir = "/run/i", .extra = extra,
	};
	struct job_params jp = { .test = "vm/mmap_anon", .timeout_s = 30, .test_args = args,
				 .payload_dev = "/dev/ubdb", .nodes = 1 };
	struct boot_argv b;
	char enc[256], dec[256], job[PROTO_MAX_RECORD + 2];
	long jl;
	int i;

	memset(&b, 0, sizeof(b));
	ok(uml_build_argv(&bp, chan, &b) == 0, "cmdline: builds");
	is_str(b.argv[0], "/k/linux", "cmdline: argv[0] is the kernel");
	ok(has_arg(&b, "mem=128M"), "cmdline: mem in MiB");
	ok(has_arg(&b, "ubd0=/run/i/root.cow,/img/base.img"), "cmdline: COW over the base image");
	ok(has_arg(&b, "ubd1r=/img/payload.img"), "cmdline: payload read-only");
	ok(has_arg(&b, "con0=fd:3,fd:4") && has_arg(&b, "ssl0=fd:5,fd:6"), "cmdline: console and serial fds");
	ok(has_arg(&b, "con=null") && has_arg(&b, "ssl=null"), "cmdline: other channels off");
	ok(has_arg(&b, "uml_dir=/run/i") && has_arg(&b, "umid=vkci"), "cmdline: umid inside the instance dir");
	ok(has_arg(&b, "vkci.serial=/dev/ttyS0"), "cmdline: the agent's record channel");
	ok(has_arg(&b, "loglevel=4"), "cmdline: extra kernel argument");
	is_str(b.argv[b.argc - 2], "loglevel=4", "cmdline: extra arguments come last");
	is_str(b.argv[b.argc - 1], "kunit.enable=0", "cmdline: then kunit.enable=0 (KUnit kernels skip their suites)");
	ok(b.argv[b.argc] == NULL, "cmdline: argv NULL-terminated");
	ok(b.nenv == 2 && !strcmp(b.env[0], "GCOV_PREFIX=/run/i/gcov") && !strcmp(b.env[1], "GCOV_PREFIX_STRIP=1"),
	   "cmdline: GCOV_PREFIX in the node dir, strip the build dir's components");

	jl = job_record(job, sizeof(job), "0123456789abcdef", &jp);
	ok(jl > 0 && job[jl - 1] == '\n', "job: one record");
	job[jl > 0 ? jl - 1 : 0] = '\0';
	is_str(job, "J 0123456789abcdef vkci.test=vm/mmap_anon vkci.timeout=30 vkci.payload=/dev/ubdb "
	       "vkci.arg=a%20b vkci.arg=x%25y vkci.arg= vkci.arg=%C3%A9%09",
	       "job: test, timeout, payload device, arguments percent-encoded (empty kept)");
	jp.nodes = 3;
	jp.node = 2;
	jp.scratch_dev = "/dev/ubdc";
	jp.test_args = NULL;
	jl = job_record(job, sizeof(job), "0123456789abcdef", &jp);
	ok(jl > 0 && strstr(job, " vkci.node=2 vkci.nodes=3 ") && strstr(job, " vkci.scratch=/dev/ubdc"),
	   "job: node, nodes and scratch device");

	for (i = 0; args[i]; i++) {
		ok(proto_encode(args[i], strlen(args[i]), enc, sizeof(enc)) >= 0 && !strpbrk(enc, " \t\"") &&
		   proto_decode(enc, strlen(enc), dec, sizeof(dec)) >= 0 && !strcmp(dec, args[i]),
		   "cmdline: encode/decode round trip %d", i);
	}
	ok(proto_decode("%zz", 3, dec, sizeof(dec)) == PROTO_BAD && proto_decode("%4", 2, dec, sizeof(dec)) == PROTO_BAD &&
	   proto_decode("a b", 3, dec, sizeof(dec)) == PROTO_BAD, "cmdline: bad escapes and raw blanks refused");
	ok(proto_decode("%00", 3, dec, sizeof(dec)) == 1 && dec[0] == '\0', "cmdline: %00 decodes to NUL (callers refuse it)");
	ok(proto_encode("abcdef", 6, enc, 4) < 0, "cmdline: encode refuses to overflow");
	ok(proto_decode("abcdef", 6, dec, 4) == PROTO_TOO_LONG, "cmdline: decode refuses to overflow");

	fprintf(stderr, "# (the next errors are expected)\n");
	bp.image = "/img/a,b.img";
	memset(&b, 0, sizeof(b));
	ok(uml_build_argv(&bp, chan, &b) < 0, "cmdline: image path with a comma refused");
	bp.image = "/img/base.img";
	jp.test = "vm/a b";
	ok(job_record(job, sizeof(job), "0123456789abcdef", &jp) < 0, "job: test name with a blank refused");
	jp.test = "vm/x";
	bp.mem = 1 << 20;
	memset(&b, 0, sizeof(b));
	ok(uml_build_argv(&bp, chan, &b) < 0, "cmdline: too little memory refused");
	bp.mem = 128LL << 20;
	{
		static char longarg[3000];
		static const char *const many[] = { longarg, longarg, NULL };

		memset(longarg, '%', sizeof(longarg) - 1);
		jp.test_args = many;
		ok(job_record(job, sizeof(job), "0123456789abcdef", &jp) < 0, "job: oversized arguments refused");
	}
	{
		static const char *const kunit_extra[] = { "kunit.filter_glob=list*", NULL };

		bp.extra = kunit_extra;
		memset(&b, 0, sizeof(b));
		ok(uml_build_argv(&bp, chan, &b) == 0 && has_arg(&b, "kunit.filter_glob=list*") &&
		   !has_arg(&b, "kunit.enable=0"), "cmdline: no kunit.enable=0 when an extra argument says kunit.*");
	}
	{
		static const char *const bad_extra[] = { "two words", NULL };

		bp.extra = bad_extra;
		memset(&b, 0, sizeof(b));
		ok(uml_build_argv(&bp, chan, &b) < 0, "cmdline: extra argument with a blank refused");
	}
}

/* ---- metadata ----------------------------------------------------------- */

static void test_meta(void)
{
	struct test_meta m;

	meta_init(&m);
	ok(meta_parse(&m, "/* x */\n/* vkci: timeout=5 mem=256M */\nint main;", "t.c") == 0 &&
	   m.timeout_s == 5 && m.mem == (256LL << 20), "meta: timeout and mem");
	meta_init(&m);
	ok(meta_parse(&m, "int main;", "t.c") == 0 && m.timeout_s == -1 && m.mem == -1,
	   "meta: absent means defaults");
	meta_init(&m);
	ok(meta_parse(&m, "/* vkci: nodes=3 */", "t.c") == 0 && m.nodes == 3, "meta: nodes");
	fprintf(stderr, "# (the next four errors are expected)\n");
	meta_init(&m);
	ok(meta_parse(&m, "/* vkci: timout=5 */", "t.c") < 0, "meta: unknown key refused");
	ok(meta_parse(&m, "/* vkci: timeout=-5 */", "t.c") < 0, "meta: negative timeout refused");
	ok(meta_parse(&m, "/* vkci: mem=lots */", "t.c") < 0, "meta: bad size refused");
	ok(meta_parse(&m, "/* vkci: timeout=5", "t.c") < 0, "meta: unterminated comment refused");
}

static void test_meta_lookup(void)
{
	static const char file[] =
		"# kselftest metadata\n"
		"kselftest/timers/nanosleep timeout=900\n"
		"kselftest/mm/cow timeout=180 mem=512M\n"
		"kselftest/rseq/basic_test timeout=45 xfail=UML has no rseq (no HAVE_RSEQ)\n"
		"kselftest/x/bad timout=3\n";
	struct test_meta m;

	meta_init(&m);
	ok(meta_lookup_text(&m, file, "kselftest/timers/nanosleep", "f") == 0 && m.timeout_s == 900 &&
	   m.mem == -1 && !m.xfail[0], "meta lookup: a test's line");
	meta_init(&m);
	ok(meta_lookup_text(&m, file, "kselftest/mm/cow", "f") == 0 && m.timeout_s == 180 &&
	   m.mem == (512LL << 20), "meta lookup: timeout and mem");
	meta_init(&m);
	ok(meta_lookup_text(&m, file, "kselftest/mm/co", "f") == 0 && m.timeout_s == -1,
	   "meta lookup: a name's prefix is not the name");
	meta_init(&m);
	ok(meta_lookup_text(&m, file, "kselftest/rseq/basic_test", "f") == 0 && m.timeout_s == 45,
	   "meta lookup: words before xfail=");
	is_str(m.xfail, "UML has no rseq (no HAVE_RSEQ)", "meta lookup: xfail takes the rest of the line");
	meta_init(&m);
	ok(meta_lookup(&m, NULL, "kselftest/mm/cow") == 0 && m.timeout_s == -1, "meta lookup: no file, no change");
	fprintf(stderr, "# (the next two errors are expected)\n");
	ok(meta_lookup_text(&m, file, "kselftest/x/bad", "f") < 0, "meta lookup: a bad key is refused");
	ok(meta_lookup(&m, "/nonexistent/meta", "kselftest/mm/cow") < 0, "meta lookup: unreadable file refused");
}

static void test_meta_config(void)
{
	struct test_meta m;
	const char *cfg = "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=m\nCONFIG_DD=\"x\"\nCONFIG_E=n\n";

	meta_init(&m);
	ok(meta_parse(&m, "/* vkci: config=A,CONFIG_C,DD */", "t.c") == 0 && m.nconfig == 3 &&
	   !strcmp(m.config[1], "C"), "config= lists kernel options, CONFIG_ prefix optional");
	ok(meta_missing_config(&m, cfg) == NULL, "options set to y, m or a value are present");
	meta_init(&m);
	meta_parse(&m, "/* vkci: config=A,B */", "t.c");
	is_str(meta_missing_config(&m, cfg), "B", "an option that is not set is missing");
	meta_init(&m);
	meta_parse(&m, "/* vkci: config=D */", "t.c");
	is_str(meta_missing_config(&m, cfg), "D", "a prefix of another option is not that option");
	meta_init(&m);
	meta_parse(&m, "/* vkci: config=E */", "t.c");
	is_str(meta_missing_config(&m, cfg), "E", "=n is missing");
	{
		char val[16];
		const char *c2 = "CONFIG_FIRST=y\n# CONFIG_OFF is not set\n# CONFIG_OFF2 is not set really\nCONFIG_S=\"a b\"";

		kconfig_value(c2, "FIRST", val, sizeof(val));
		is_str(val, "y", "kconfig_value: an option on the first line");
		kconfig_value(c2, "OFF", val, sizeof(val));
		is_str(val, "n", "kconfig_value: 'is not set' is n");
		kconfig_value(c2, "OFF2", val, sizeof(val));
		is_str(val, "", "kconfig_value: a line that only looks like 'is not set' is not");
		kconfig_value(c2, "S", val, sizeof(val));
		is_str(val, "\"a b\"", "kconfig_value: a string on the last line, no newline");
	}
	printf("# (the next two errors are expected)\n");
	fflush(stdout);
	meta_init(&m);
	ok(meta_parse(&m, "/* vkci: config=a-b */", "t.c") < 0, "a bad option name is refused");
	meta_init(&m);
	ok(meta_parse(&m, "/* vkci: config=A,B,C,D,E,F,G,H,I */", "t.c") < 0, "more than 8 options are refused");
}

static void test_fragment(void)
{
	static const struct { const char *line; int rc; const char *sym, *val; } cases[] = {
		{ "CONFIG_EXT4_FS=y", 1, "EXT4_FS", "y" },
		{ "  CONFIG_HZ=100  \n", 1, "HZ", "100" },
		{ "CONFIG_CMDLINE=\"a b\"", 1, "CMDLINE", "\"a b\"" },
		{ "CONFIG_PHYS=0x1000", 1, "PHYS", "0x1000" },
		{ "CONFIG_X=-3", 1, "X", "-3" },
		{ "# CONFIG_DEBUG_FS is not set", 1, "DEBUG_FS", "n" },
		{ "# plain comment", 0, NULL, NULL },
		{ "", 0, NULL, NULL },
		{ "   \t", 0, NULL, NULL },
		{ "CONFIG_X=yes", -1, NULL, NULL },
		{ "CONFIG_X=", -1, NULL, NULL },
		{ "CONFIG_=y", -1, NULL, NULL },
		{ "EXT4_FS=y", -1, NULL, NULL },
		{ "CONFIG_A B=y", -1, NULL, NULL },
		{ "CONFIG_X=\"unterminated", -1, NULL, NULL },
		{ "CONFIG_X=\"a\"b\"", -1, NULL, NULL },
		{ "CONFIG_X=0xzz", -1, NULL, NULL },
		{ "CONFIG_X y", -1, NULL, NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char sym[128] = "", val[256] = "";
		int rc = kconfig_parse_frag_line(cases[i].line, sym, sizeof(sym), val, sizeof(val));

		if (!ok(rc == cases[i].rc && (rc != 1 || (!strcmp(sym, cases[i].sym) && !strcmp(val, cases[i].val))),
			"fragment line '%.*s' -> %d", (int)strcspn(cases[i].line, "\r\n"), cases[i].line, cases[i].rc))
			printf("#   got %d '%s' '%s'\n", rc, sym, val);
	}
	{
		char sym[4], val[256];

		ok(kconfig_parse_frag_line("CONFIG_LONGNAME=y", sym, sizeof(sym), val, sizeof(val)) == -1,
		   "fragment symbol longer than the buffer is refused");
	}
}

/* ---- file transfer (transfer.c) --------------------------------------- */

struct xrec {
	int n;
	enum xfer_type type[64];
	char path[64][64];
	char data[64][64];
	size_t len[64];
	char why[64][128];
	unsigned long long value[64];
};

static void xcollect(void *ctx, const struct xfer_event *ev)
{
	struct xrec *r = ctx;
	size_t pl = ev->path_len < 63 ? ev->path_len : 63, dl = ev->len < 63 ? ev->len : 63;

	if (r->n >= 64)
		return;
	r->type[r->n] = ev->type;
	memcpy(r->path[r->n], ev->path ? ev->path : "", ev->path ? pl : 0);
	r->path[r->n][ev->path ? pl : 0] = '\0';
	memcpy(r->data[r->n], ev->data ? (const char *)ev->data : "", ev->data ? dl : 0);
	r->data[r->n][ev->data ? dl : 0] = '\0';
	r->len[r->n] = ev->len;
	r->value[r->n] = ev->value;
	snprintf(r->why[r->n], sizeof(r->why[0]), "%s", ev->why ? ev->why : "");
	r->n++;
}

/* Feed newline-separated F payloads. */
static void xfeed(struct xfer_parser *p, struct xrec *r, const char *s)
{
	memset(r, 0, sizeof(*r));
	while (*s) {
		size_t n = strcspn(s, "\n");

		xfer_record(p, s, n);
		s += n + (s[n] == '\n');
	}
}

static const char *refusal(const char *path)
{
	static struct xrec r;
	static char line[1200];
	struct xfer_parser p;

	xfer_init(&p, xcollect, &r);
	snprintf(line, sizeof(line), "begin %s", path);
	memset(&r, 0, sizeof(r));
	xfer_record(&p, line, strlen(line));
	if (r.n == 1 && r.type[0] == XFER_BEGIN)
		return "";
	if (r.n == 1 && r.type[0] == XFER_REFUSED)
		return r.why[0];
	return r.n && r.type[0] == XFER_GARBAGE ? "garbage" : "?";
}

static void xemit(void *ctx, const char *line, size_t len)
{
	struct sbuf *sb = ctx;

	sbuf_add(sb, line, len);
	sbuf_add(sb, "\n", 1);
}

static void rx_feed(struct xfer_rx *rx, const char *s)
{
	while (*s) {
		size_t n = strcspn(s, "\n");
		struct serial_event ev = { .type = SER_FILE, .data = s, .len = n };

		xfer_rx_event(rx, &ev);
		s += n + (s[n] == '\n');
	}
}

static void test_transfer(void)
{
	struct xfer_parser p;
	struct xfer_limits lim;
	struct xrec r;
	struct rec sr;
	char q[32], line[5000];
	size_t i;

	is_long((long)proto_crc32(0, "123456789", 9), 0xcbf43926L, "transfer: CRC-32 check value");
	is_long((long)proto_crc32(proto_crc32(0, "1234", 4), "56789", 5), 0xcbf43926L,
		"transfer: CRC-32 in pieces");

	/* a good file: "hi" is aGk=, crc32("hi") = d8932aac */
	xfer_init(&p, xcollect, &r);
	xfeed(&p, &r, "begin d/h%20i\ndata aGk=\nend 2 d8932aac\ncount 1 2");
	ok(r.n == 4 && r.type[0] == XFER_BEGIN && !strcmp(r.path[0], "d/h i") &&
	   r.type[1] == XFER_DATA && !strcmp(r.data[1], "hi") && r.type[2] == XFER_END &&
	   r.value[2] == 2 && r.type[3] == XFER_COUNT, "transfer: begin, data, end, count");
	xfeed(&p, &r, "begin late");
	ok(r.n == 1 && r.type[0] == XFER_GARBAGE && strstr(r.why[0], "after the final count"),
	   "transfer: records after the count are garbage");

	xfer_init(&p, xcollect, &r);
	xfeed(&p, &r, "begin e\nend 0 00000000\nbegin x\ndata eHl6\nend 3 00000000\ncount 2 3");
	ok(r.n == 6 && r.type[1] == XFER_END && r.type[3] == XFER_DATA && r.type[4] == XFER_REFUSED &&
	   strstr(r.why[4], "checksum") && p.files == 1 && p.refused == 1,
	   "transfer: an empty file arrives, a bad checksum is refused");
	xfer_init(&p, xcollect, &r);
	xfeed(&p, &r, "begin x\ndata eHl6\nend 4 67a5d2c5\ncount 1 4");
	ok(r.n == 4 && r.type[2] == XFER_REFUSED && strstr(r.why[2], "size mismatch") &&
	   r.type[3] == XFER_COUNT, "transfer: a size mismatch is refused, the count still matches");

	/* strict base64 */
	{
		static const char *const bad[] = { "data aGl=", "data aG=k", "data a===", "data aGk",
						   "data aG k=", "data ====", "data" };

		for (i = 0; i < ARRAY_SIZE(bad); i++) {
			xfer_init(&p, xcollect, &r);
			xfeed(&p, &r, "begin x");
			xfeed(&p, &r, bad[i]);
			ok(r.n >= 1 && r.type[0] == XFER_GARBAGE, "transfer: '%s' is garbage", bad[i]);
		}
		xfer_init(&p, xcollect, &r);
		memcpy(line, "begin x\ndata ", 13);
		memset(line + 13, 'A', 4100);
		line[13 + 4100] = '\0';
		xfeed(&p, &r, line);
		ok(r.n == 3 && r.type[1] == XFER_GARBAGE, "transfer: a data record over 4096 chars is garbage");
		xfer_init(&p, xcollect, &r);
		memset(line + 13, 'A', 4096);
		line[13 + 4096] = '\0';
		xfeed(&p, &r, line);
		ok(r.n == 2 && r.type[1] == XFER_DATA && r.len[1] == 3072, "transfer: 4096 chars are 3072 bytes");
	}

	/* names */
	is_str(refusal("a/b.gcda"), "", "transfer: a relative name is accepted");
	is_str(refusal("..%2Fx"), "'.' or '..' component", "transfer: encoded ../ refused");
	is_str(refusal("../x"), "'.' or '..' component", "transfer: ../ refused");
	is_str(refusal("a/../b"), "'.' or '..' component", "transfer: a/../b refused");
	is_str(refusal("a/."), "'.' or '..' component", "transfer: a/. refused");
	is_str(refusal("/etc/passwd"), "absolute path", "transfer: absolute path refused");
	is_str(refusal("%2Fetc"), "absolute path", "transfer: encoded absolute path refused");
	is_str(refusal("a//b"), "empty path component", "transfer: a//b refused");
	is_str(refusal("a/"), "empty path component", "transfer: trailing slash refused");
	is_str(refusal("a%00b"), "NUL byte in the name", "transfer: %00 refused");
	is_str(refusal("a%0Ab"), "control character in the name", "transfer: newline refused");
	is_str(refusal("a%7f"), "control character in the name", "transfer: DEL refused");
	is_str(refusal("a%C3%BC"), "", "transfer: UTF-8 accepted");
	is_str(refusal("a b"), "garbage", "transfer: a raw blank is malformed");
	is_str(refusal("a%zz"), "garbage", "transfer: a bad escape is malformed");
	is_str(refusal("a%4"), "garbage", "transfer: a cut escape is malformed");
	memset(line, 'x', 300);
	line[300] = '\0';
	is_str(refusal(line), "path component longer than 255 bytes", "transfer: 300-byte component refused");
	for (i = 0; i < 40; i++)
		memcpy(line + 2 * i, "d/", 2);
	line[79] = '\0';
	is_str(refusal(line), "path deeper than 32 components", "transfer: 40 levels refused");
	for (i = 0; i < 1100; i++)
		line[i] = (i % 100 == 99) ? '/' : 'y';
	line[1100] = '\0';
	is_str(refusal(line), "name longer than 1024 bytes", "transfer: 1100-byte name refused");

	/* out of place */
	xfer_init(&p, xcollect, &r);
	xfeed(&p, &r, "data aGk=\nend 2 d8932aac\nfrob x\nabort\ncount x 1");
	ok(r.n == 5 && r.type[0] == XFER_GARBAGE && r.type[1] == XFER_GARBAGE && r.type[2] == XFER_GARBAGE &&
	   r.type[3] == XFER_NOTE && r.type[4] == XFER_GARBAGE, "transfer: data/end outside a file, "
	   "unknown verb, bare abort (a note), bad count");
	xfer_init(&p, xcollect, &r);
	xfeed(&p, &r, "begin a\ndata aGk=\nbegin b\nend 0 00000000\ncount 1 0");
	ok(r.n == 7 && r.type[2] == XFER_GARBAGE && r.type[3] == XFER_REFUSED && !strcmp(r.path[3], "a") &&
	   r.type[4] == XFER_BEGIN && r.type[5] == XFER_END && r.type[6] == XFER_COUNT, "transfer: begin inside a file: garbage, "
	   "the first refused, the second fine");
	xfer_init(&p, xcollect, &r);
	xfeed(&p, &r, "begin a\ndata aGk=\nabort cannot read: EIO\ncount 0 0");
	ok(r.n == 4 && r.type[2] == XFER_REFUSED && !strcmp(r.why[2], "agent: cannot read: EIO") &&
	   r.type[3] == XFER_COUNT, "transfer: the agent aborts a file");
	xfer_init(&p, xcollect, &r);
	xfeed(&p, &r, "begin a\nend 0 00000000\ncount 2 0");
	ok(r.n == 3 && r.type[2] == XFER_GARBAGE && strstr(r.why[2], "count mismatch"),
	   "transfer: a count mismatch is garbage");
	xfer_init(&p, xcollect, &r);
	xfeed(&p, &r, "begin a\ndata aGk=");
	memset(&r, 0, sizeof(r));
	xfer_finish(&p);
	ok(r.n == 2 && r.type[0] == XFER_REFUSED && strstr(r.why[0], "cut off") && r.type[1] == XFER_NOTE,
	   "transfer: the stream ends inside a file");

	/* limits: a file over the limit is refused once, its remaining data swallowed */
	xfer_init(&p, xcollect, &r);
	p.lim.max_file = 4;
	p.lim.max_files = 2;
	xfeed(&p, &r, "begin big\ndata aGk=\ndata aGk=\ndata aGk=\ndata aGk=\nend 8 00000000\n"
		  "begin a\nend 0 00000000\nbegin b\nend 0 00000000\nbegin c\nend 0 00000000\ncount 4 8");
	ok(r.n == 10 && r.type[3] == XFER_REFUSED && strstr(r.why[3], "limit of 4 bytes per file") &&
	   r.type[8] == XFER_REFUSED && r.type[9] == XFER_COUNT && p.files == 2 && p.refused == 2 && p.total == 0,
	   "transfer: per-file and file-count limits");
	xfer_init(&p, xcollect, &r);
	p.lim.max_total = 3;
	xfeed(&p, &r, "begin a\ndata aGk=\nend 2 d8932aac\nbegin b\ndata aGk=\nend 2 d8932aac\n"
		  "begin c\ndata aQ==\nend 1 e66c3671\ncount 3 5");
	ok(p.files == 2 && p.refused == 1 && p.total == 3 && r.type[r.n - 1] == XFER_COUNT,
	   "transfer: total limit");

	ok(xfer_parse_limits("1K:2M:3", &lim) == 0 && lim.max_file == 1024 && lim.max_total == 2 << 20 &&
	   lim.max_files == 3, "transfer: limits parsed");
	ok(xfer_parse_limits("::7", &lim) == 0 && lim.max_file == XFER_MAX_FILE && lim.max_files == 7,
	   "transfer: empty limit fields keep the defaults");
	fprintf(stderr, "# (the next three errors are expected)\n");
	ok(xfer_parse_limits("x", &lim) < 0 && xfer_parse_limits("1:2:3:4", &lim) < 0 &&
	   xfer_parse_limits("0", &lim) < 0, "transfer: bad limits refused");
	xfer_quote(q, sizeof(q), "a b\n%'\xff", 7);
	is_str(q, "a%20b%0A%25%27%FF", "transfer: names quoted for diagnostics");
	memset(line, 'z', 100);
	xfer_quote(q, sizeof(q), line, 100);
	ok(strlen(q) == 31 && !strcmp(q + 28, "..."), "transfer: long names clipped with '...'");

	/* the serial parser frames F records */
	parse_all(&sr, STR("V vkci-agent 1\nK " KEY "\nF " KEY " begin x\nF " KEY "\n"
			   "F 0000000000000000 begin x\nF begin x\n"), 0);
	ok(sr.n == 6 && sr.type[2] == SER_FILE && !strcmp(sr.data[2], "begin x") && sr.type[3] == SER_GARBAGE &&
	   sr.type[4] == SER_GARBAGE && strstr(sr.why[4], "wrong key") && sr.type[5] == SER_GARBAGE,
	   "serial: F records need the key and a payload");

	/* the receiver: files land under the dir, nothing is followed or overwritten */
	{
		char tmpl[] = "/tmp/vkci-unit-xfer.XXXXXX", path[256], buf[64];
		struct xfer_rx rx;
		struct verdict v;
		struct sbuf out;
		struct stat st;
		int fd;
		ssize_t n;

		if (!mkdtemp(tmpl)) {
			ok(0, "transfer: mkdtemp");
			return;
		}
		snprintf(path, sizeof(path), "%s/outside", tmpl);
		mkdir(path, 0755);
		snprintf(path, sizeof(path), "%s/recv", tmpl);
		mkdir(path, 0755);
		snprintf(path, sizeof(path), "%s/recv/evil", tmpl);
		if (symlink("../outside", path) < 0)
			ok(0, "transfer: symlink");
		snprintf(path, sizeof(path), "%s/recv/leaf", tmpl);
		if (symlink("../outside/leaf", path) < 0)
			ok(0, "transfer: symlink");
		sbuf_init(&out, 65536);
		verdict_init(&v, xemit, &out, NULL);
		ok(xfer_rx_init(&rx, tmpl, "recv", NULL, &v) == 0, "transfer rx: init");
		rx_feed(&rx, "begin d/e/hi\ndata aGk=\nend 2 d8932aac\n"
			     "begin evil/x\ndata aGk=\nend 2 d8932aac\n"
			     "begin leaf\ndata aGk=\nend 2 d8932aac\n"
			     "begin d\ndata aGk=\nend 2 d8932aac\n"
			     "begin d/e/hi\ndata aGk=\nend 2 d8932aac\n"
			     "begin bad\ndata aGk=\nend 2 00000000\n"
			     "begin ..%2Foutside%2Fy\ndata aGk=\nend 2 d8932aac\n"
			     "count 7 14\n");
		ok(xfer_rx_finish(&rx, NULL) == 1, "transfer rx: one file of seven accepted");
		snprintf(path, sizeof(path), "%s/recv/d/e/hi", tmpl);
		fd = open(path, O_RDONLY);
		n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
		ok(n == 2 && !memcmp(buf, "hi", 2), "transfer rx: d/e/hi written");
		if (fd >= 0)
			close(fd);
		snprintf(path, sizeof(path), "%s/outside", tmpl);
		ok(rmdir(path) == 0, "transfer rx: nothing written through a symlink (outside/ still empty)");
		snprintf(path, sizeof(path), "%s/recv/bad", tmpl);
		ok(lstat(path, &st) < 0, "transfer rx: a refused file is removed");
		ok(strstr(out.data, "refused 'evil/x': a path component is not a directory") &&
		   strstr(out.data, "refused 'leaf': a file of that name was already received") &&
		   strstr(out.data, "refused 'd': a file of that name") &&
		   strstr(out.data, "refused 'bad': checksum mismatch") &&
		   strstr(out.data, "# file transfer: 1 files, 2 bytes received, 6 refused") && !v.garbage,
		   "transfer rx: refusals noted as diagnostics, no protocol violation");
		rm_rf(tmpl);
		verdict_free(&v);
		sbuf_free(&out);

		/* verify-only receiver: nothing is written; garbage reaches the verdict */
		sbuf_init(&out, 65536);
		verdict_init(&v, xemit, &out, NULL);
		xfer_rx_init(&rx, NULL, NULL, "1K", &v);
		rx_feed(&rx, "data aGk=\nbegin a\nend 0 00000000\n");
		xfer_rx_finish(&rx, NULL);
		ok(v.garbage == 1 && strstr(out.data, "incomplete") &&
		   strstr(out.data, "1 files, 0 bytes received and checked, 0 refused"),
		   "transfer rx: verify only; garbage counted by the verdict");
		verdict_free(&v);
		sbuf_free(&out);
	}
}

/* ---- the QEMU backend's argv, kernel probe; a fetched coverage tree ------- */

static int arg_after(const struct boot_argv *b, const char *opt, const char *want)
{
	int i;

	for (i = 0; i + 1 < b->argc; i++)
		if (!strcmp(b->argv[i], opt) && !strcmp(b->argv[i + 1], want))
			return 1;
	return 0;
}

static int arg_has(const struct boot_argv *b, const char *opt, const char *part)
{
	int i;

	for (i = 0; i + 1 < b->argc; i++)
		if (!strcmp(b->argv[i], opt) && strstr(b->argv[i + 1], part))
			return 1;
	return 0;
}

static void test_qemu_argv(void)
{
	static const char *const extra[] = { "loglevel=4", NULL };
	struct qshape s = { .qemu = "/usr/bin/qemu-system-x86_64", .kernel = "/k/vmlinux", .mem = 128LL << 20,
			    .extra = extra };
	struct qio io = { .root = "/img/base.img", .root_snapshot = 1, .payload = "/img/payload.img",
			  .con = 3, .rec = 4, .qmp = -1, .net = -1, .incoming = -1 };
	struct boot_argv b;
	char cmd[QEMU_CMDLINE_MAX + 64];

	memset(&b, 0, sizeof(b));
	ok(qemu_argv(&s, &io, &b) == 0, "qemu: argv builds");
	is_str(b.argv[0], "/usr/bin/qemu-system-x86_64", "qemu: argv[0] is QEMU");
	ok(arg_after(&b, "-accel", "tcg") && !arg_after(&b, "-cpu", "host"), "qemu: TCG unless KVM was decided");
	ok(arg_after(&b, "-m", "128M") && arg_after(&b, "-kernel", "/k/vmlinux"), "qemu: memory and kernel");
	ok(arg_after(&b, "-chardev", "socket,id=con,fd=3") && arg_after(&b, "-serial", "chardev:con"),
	   "qemu: console on ttyS0 through the inherited fd");
	ok(arg_after(&b, "-chardev", "socket,id=rec,fd=4") &&
	   arg_has(&b, "-device", "virtserialport,chardev=rec"), "qemu: records on a virtio-serial port");
	ok(arg_has(&b, "-drive", "file=/img/base.img,format=raw,") && arg_has(&b, "-drive", ",snapshot=on") &&
	   arg_has(&b, "-drive", "file.locking=off"), "qemu: root is QEMU's throwaway overlay, unlocked base");
	ok(arg_has(&b, "-drive", "file=/img/payload.img,format=raw,if=none,id=payload,readonly=on"),
	   "qemu: payload read-only");
	ok(!arg_has(&b, "-netdev", "dgram") && !arg_has(&b, "-drive", "id=scratch") && !arg_after(&b, "-mon", "chardev=qmp,mode=control"),
	   "qemu: no NIC, scratch or monitor unless asked");
	ok(arg_has(&b, "-append", "console=ttyS0 root=/dev/vda") && arg_has(&b, "-append", "vkci.serial=/dev/vport0p1") &&
	   arg_has(&b, "-append", "clocksource=hpet") && arg_has(&b, "-append", " loglevel=4"),
	   "qemu: kernel command line: console, root, record port, TCG clock, extra argument");
	ok(arg_has(&b, "-device", "pvpanic-pci") && arg_after(&b, "-action", "panic=none"), "qemu: pvpanic, panic=none");

	s.kvm = 1;
	s.nic = 1;
	s.node = 2;
	s.scratch = 16 << 20;
	s.tty_records = 1;
	io.scratch = "/run/i/scratch.img";
	io.net = 7;
	io.qmp = 8;
	io.incoming = 9;
	io.payload = NULL;
	memset(&b, 0, sizeof(b));
	ok(qemu_argv(&s, &io, &b) == 0, "qemu: argv with everything builds");
	ok(arg_after(&b, "-accel", "kvm") && arg_after(&b, "-cpu", "host") && !arg_has(&b, "-append", "clocksource=hpet"),
	   "qemu: KVM with the host CPU, the TSC trusted");
	ok(arg_after(&b, "-netdev", "dgram,id=net0,local.type=fd,local.str=7") &&
	   arg_has(&b, "-device", "virtio-net-pci,netdev=net0,addr=0x7,mac=52:54:00:00:00:03"),
	   "qemu: a NIC on the node's datagram socket, MAC from the node index");
	ok(arg_has(&b, "-drive", "file=/run/i/scratch.img,format=raw,if=none,id=scratch"), "qemu: scratch disk");
	ok(arg_after(&b, "-serial", "chardev:rec") && arg_has(&b, "-append", "vkci.serial=/dev/ttyS1"),
	   "qemu: vkci boot's records on ttyS1 (a tty)");
	ok(arg_after(&b, "-mon", "chardev=qmp,mode=control") && arg_after(&b, "-incoming", "fd:9"),
	   "qemu: monitor and incoming state");
	ok(arg_has(&b, "-blockdev", "driver=null-co,node-name=payload"), "qemu: no payload: an empty disk keeps vdc the scratch");

	fprintf(stderr, "# (the next errors are expected)\n");
	io.payload = "/img/a,b.img";
	memset(&b, 0, sizeof(b));
	ok(qemu_argv(&s, &io, &b) < 0, "qemu: payload path with a comma refused");
	io.payload = NULL;
	s.mem = 16 << 20;
	memset(&b, 0, sizeof(b));
	ok(qemu_argv(&s, &io, &b) < 0, "qemu: too little memory refused");
	s.mem = 128LL << 20;
	{
		static char longarg[2100];
		static const char *const big[] = { longarg, NULL };

		memset(longarg, 'x', sizeof(longarg) - 1);
		s.extra = big;
		ok(qemu_cmdline(&s, cmd, sizeof(cmd)) < 0, "qemu: command line over x86's 2048 bytes refused");
	}
}

/* a file of `size` bytes with data at off */
static int put_file(const char *path, size_t size, size_t off, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644), r;

	if (fd < 0)
		return -1;
	r = ftruncate(fd, (off_t)size) == 0 && pwrite(fd, data, len, (off_t)off) == (ssize_t)len ? 0 : -1;
	close(fd);
	return r;
}

static void test_backend_probe(void)
{
	char dir[] = "/tmp/vkci-unit-probe.XXXXXX", bz[64], txt[64], elf[64];
	static const unsigned char elf32[] = { 0x7f, 'E', 'L', 'F', 1, 1, 1 };

	if (!mkdtemp(dir)) {
		ok(0, "probe: mkdtemp");
		return;
	}
	fmt(bz, sizeof(bz), "%s/bzImage", dir);
	fmt(txt, sizeof(txt), "%s/notes.txt", dir);
	fmt(elf, sizeof(elf), "%s/vmlinux32", dir);
	put_file(bz, 4096, 0x202, "HdrS", 4);
	put_file(txt, 4096, 0, "hello", 5);
	put_file(elf, 4096, 0, elf32, sizeof(elf32));
	ok(backend_for_kernel(bz) == &backend_qemu, "probe: an x86 bzImage is the qemu backend's");
	fprintf(stderr, "# (the next errors are expected)\n");
	ok(backend_for_kernel(txt) == NULL, "probe: a text file is no backend's kernel");
	ok(backend_for_kernel(elf) == NULL, "probe: a 32-bit ELF is no backend's kernel");
	rm_rf(dir);
}

static void test_gcov_inner(void)
{
	char dir[] = "/tmp/vkci-unit-gcov.XXXXXX", p[256], dst[256];
	const char *why;

	if (!mkdtemp(dir)) {
		ok(0, "gcov: mkdtemp");
		return;
	}
	fmt(p, sizeof(p), "%s/node/gcov/home/b/kbuild/kernel", dir);
	mkdir_p(p, 0755);
	fmt(p, sizeof(p), "%s/node/gcov/home/b/kbuild/kernel/fork.gcda", dir);
	put_file(p, 8, 0, "gcda", 4);
	fmt(p, sizeof(p), "%s/node", dir);
	fmt(dst, sizeof(dst), "%s/out/vm/t", dir);
	why = instdir_collect_gcov(p, dst, 0, 0, "/home/b/kbuild");
	ok(why == NULL, "gcov: a fetched tree with the build dir inside is kept without a note");
	fmt(p, sizeof(p), "%s/out/vm/t/kernel/fork.gcda", dir);
	ok(access(p, R_OK) == 0, "gcov: kept relative to the build dir (as UML's trees are)");

	fmt(p, sizeof(p), "%s/node2/gcov/elsewhere", dir);
	mkdir_p(p, 0755);
	fmt(p, sizeof(p), "%s/node2", dir);
	fmt(dst, sizeof(dst), "%s/out/vm/u", dir);
	why = instdir_collect_gcov(p, dst, 0, 0, "/home/b/kbuild");
	ok(why && strstr(why, "kept as fetched"), "gcov: no build dir inside: the whole tree, with a note");
	fmt(p, sizeof(p), "%s/out/vm/u/elsewhere", dir);
	ok(access(p, F_OK) == 0, "gcov: the whole fetched tree kept");
	rm_rf(dir);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_serial();
	test_tap();
	test_ktap();
	test_ktap_verdict();
	test_console();
	test_fingerprint();
	test_json();
	test_cmdline();
	test_meta();
	test_meta_lookup();
	test_fragment();
	test_meta_config();
	test_transfer();
	test_qemu_argv();
	test_backend_probe();
	test_gcov_inner();
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
