/* kunit.c - the driver's part of KUnit support (see kunit.h). */
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "console.h"
#include "diag.h"
#include "kunit.h"
#include "opts.h"
#include "proc.h"
#include "util.h"
#include "banned.h"

#define CRASH_LOG_MAX (1u << 30)

static int set_env(const char *name, const char *value)
{
	return value && *value ? setenv(name, value, 1) : unsetenv(name);
}

/* What a member prints at most when its group's runner published it. */
#define READY_MAX (1u << 30)

/* A member whose group already ran: its output, published by the member that
 * ran the group (ci/kunit.py, publish()) as VKCI_KUNIT_PLAN.ready/SUITE.tap
 * ("status N", "logs DIR" or "logs -", the TAP) and SUITE.logs/ (its log
 * dir, for DIR). Moves the log dir into place, prints the TAP, returns the
 * status; -1 when there is nothing usable (not published yet, another log
 * dir, told --quarantined): the runner then does it the long way. */
static int kunit_ready(const char *suite, const char *ldir, const struct run_opts *o)
{
	const char *plan = getenv("VKCI_KUNIT_PLAN");
	char tap[PATH_MAX], from[PATH_MAX], to[PATH_MAX], want[PATH_MAX + 8], *data, *logs, *text;
	size_t len;
	long status;

	if (!plan || !*plan || o->quarantined || !*suite || *suite == '.' || strchr(suite, '/') ||
	    fmt(tap, sizeof(tap), "%s.ready/%s.tap", plan, suite) < 0 || access(tap, R_OK) < 0 ||
	    !(data = read_file(tap, READY_MAX, &len)))
		return -1;
	status = -1;
	logs = strchr(data, '\n');
	text = logs ? strchr(logs + 1, '\n') : NULL;
	if (text && !strncmp(data, "status ", 7)) {
		*logs++ = '\0';
		*text++ = '\0';
		status = parse_uint(data + 7, 255);
	}
	if (status >= 0 && (fmt(want, sizeof(want), "logs %s", *ldir ? ldir : "-") < 0 || strcmp(logs, want)))
		status = -1;    /* published for another log dir */
	if (status >= 0 && *ldir &&
	    (fmt(from, sizeof(from), "%s.ready/%s.logs", plan, suite) < 0 ||
	     fmt(to, sizeof(to), "%s/kunit", ldir) < 0 || mkdir_p(to, 0755) < 0 ||
	     fmt(to, sizeof(to), "%s/kunit/%s", ldir, suite) < 0 || rename(from, to) < 0))
		status = -1;
	if (status >= 0) {
		unlink(tap);
		if (write_all(1, text, len - (size_t)(text - data)) < 0) {
			error_errno("cannot print the TAP of KUnit suite '%s'", suite);
			status = EXIT_INFRA;
		}
	}
	free(data);
	return (int)status;
}

int kunit_exec(const char *name, const struct run_opts *o, const char *self)
{
	const char *argv[3];
	char ldir[PATH_MAX], prog[PATH_MAX];
	int rc;

	if (strncmp(name, "kunit/", 6))
		return -1;
	if (ci_program("VKCI_KUNIT", "kunit.py", self, prog, sizeof(prog)) < 0)
		return EXIT_USAGE;
	if (o->log_dir && *o->log_dir &&
	    (mkdir_p(o->log_dir, 0755) < 0 || abspath(o->log_dir, ldir, sizeof(ldir)) < 0))
		return error_errno("cannot create log dir '%s' (check VKCI_LOG_DIR/--log-dir)", o->log_dir),
		       EXIT_USAGE;
	if ((rc = kunit_ready(name + 6, o->log_dir && *o->log_dir ? ldir : "", o)) >= 0)
		return rc;
	if (setenv("VKCI", self, 1) < 0 || setenv("VKCI_TEST", name, 1) < 0 ||
	    set_env("VKCI_LOG_DIR", o->log_dir && *o->log_dir ? ldir : NULL) < 0 ||
	    set_env("VKCI_RUNDIR", o->run_dir) < 0 ||
	    set_env("VKCI_QUARANTINE", o->quarantined ? NULL : o->quarantine) < 0 ||
	    set_env("VKCI_KUNIT_QUARANTINED", o->quarantined ? "--quarantined" : NULL) < 0)
		return error_errno("cannot set the environment of KUnit suite '%s'", name), EXIT_INFRA;
	argv[0] = ci_python();
	argv[1] = prog;
	argv[2] = NULL;
	proc_exec_replace(argv);
	error_errno("cannot run '%s %s' for KUnit suite '%s' (set VKCI_PYTHON)", argv[0], prog, name);
	return EXIT_INFRA;
}

int kunit_quiet(const char *const *extra)
{
	for (; extra && *extra; extra++)
		if (!strncmp(*extra, "kunit.", 6))
			return 0;   /* the caller decides what KUnit does */
	return 1;
}

/* A JSON string of a console line (console.c keeps them ASCII; anything
 * else becomes '?'), or null for NULL/"". */
static json_t *jstr(const char *v)
{
	char buf[CONSOLE_LINE_MAX];
	size_t i;

	if (!v || !*v)
		return json_null();
	for (i = 0; v[i] && i + 1 < sizeof(buf); i++)
		buf[i] = (unsigned char)v[i] >= 0x20 && (unsigned char)v[i] < 0x7f ? v[i] : '?';
	buf[i] = '\0';
	return json_string(buf);
}

int cmd_crash(int argc, char **argv)
{
	int i, crashed = 0;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		write_str(argc < 2 ? 2 : 1,
			  "usage: vkci crash CONSOLE-LOG...\n"
			  "  one JSON object per log: crash_kind, crash_line, crash_title, crash_fingerprint,\n"
			  "  excerpt (null/empty when the log shows no crash)\n"
			  "exit status: 0 no crash, 1 a crash in some log, 2 a log cannot be read\n");
		return argc < 2 ? EXIT_USAGE : EXIT_PASS;
	}
	for (i = 1; i < argc; i++) {
		static struct console_state c;
		char fp[64] = "", *text;
		size_t len;
		char *data = read_file(argv[i], CRASH_LOG_MAX, &len);
		int crashed_here, k;
		json_t *o, *ex, *fj;

		if (!data)
			return EXIT_USAGE;
		console_init(&c);
		console_feed(&c, data, len);
		console_finish(&c);
		free(data);
		console_fingerprint(&c, fp, sizeof(fp));
		crashed_here = c.first != CRASH_NONE;
		o = json_object();
		ex = json_array();
		for (k = 0; k < c.excerpt_len; k++)
			json_array_append_new(ex, jstr(c.excerpt[k]));
		json_object_set_new(o, "file", (fj = json_string(argv[i])) ? fj : json_null());
		json_object_set_new(o, "crash_kind", crashed_here ? json_string(crash_name(c.first)) : json_null());
		json_object_set_new(o, "crash_line", jstr(crashed_here ? c.first_line : NULL));
		json_object_set_new(o, "crash_title", jstr(crashed_here ? console_title(&c) : NULL));
		json_object_set_new(o, "crash_fingerprint", jstr(crashed_here ? fp : NULL));
		json_object_set_new(o, "excerpt", ex);
		json_object_set_new(o, "lines", json_integer((json_int_t)c.lines));
		text = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
		json_decref(o);
		if (!text)
			return error("out of memory"), EXIT_INFRA;
		write_str(1, text);
		write_str(1, "\n");
		free(text);
		crashed |= crashed_here;
	}
	return crashed ? EXIT_FAIL : EXIT_PASS;
}
