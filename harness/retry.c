/* retry.c - the attempts of one test (see retry.h). */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "instance.h"
#include "result.h"
#include "retry.h"
#include "util.h"
#include "banned.h"

#define ATTEMPT_TAP_MAX (VERDICT_MAX_RELAY + (1u << 20))
#define REASON_MAX 200

static void buffer_line(void *ctx, const char *line, size_t len)
{
	struct sbuf *sb = ctx;

	sbuf_add(sb, line, len);
	sbuf_add(sb, "\n", 1);
}

/* Call fn for every line of text (without its newline). */
static void each_line(const char *text, void (*fn)(void *, const char *, size_t), void *ctx)
{
	const char *p = text;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		fn(ctx, p, len);
		p = nl ? nl + 1 : NULL;
	}
}

/* Why an attempt failed: the description of its first `not ok`. */
static void first_failure(const char *tap, char *out, size_t size)
{
	const char *p = tap;

	out[0] = '\0';
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		const char *end = nl ? nl : p + strlen(p);

		if (end - p > 7 && !strncmp(p, "not ok ", 7)) {
			const char *d = p + 7;

			while (d < end && *d >= '0' && *d <= '9')
				d++;
			while (d < end && (*d == ' ' || *d == '-'))
				d++;
			fmt(out, size, "%.*s", (int)(end - d), d);
			return;
		}
		p = nl ? nl + 1 : NULL;
	}
}

/* Move everything in the test's log dir but attempt dirs to attemptK/. */
static int move_logs(const char *dir, int k, char *dest, size_t size)
{
	char from[PATH_MAX + 300], to[PATH_MAX + 600];
	struct dirent *e;
	DIR *d;
	int rc = 0;

	if (fmt(dest, size, "%s/attempt%d", dir, k) < 0)
		return error("log dir path too long: '%s'", dir);
	rm_rf(dest);
	if (mkdir(dest, 0755) < 0)
		return error_errno("cannot create '%s' for the logs of attempt %d", dest, k);
	if (!(d = opendir(dir)))
		return error_errno("cannot read log dir '%s'", dir);
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    !strncmp(e->d_name, "attempt", 7))
			continue;
		if (fmt(from, sizeof(from), "%s/%s", dir, e->d_name) < 0 ||
		    fmt(to, sizeof(to), "%s/%s", dest, e->d_name) < 0 || rename(from, to) < 0)
			rc = error_errno("cannot move '%s' to '%s'", e->d_name, dest);
	}
	closedir(d);
	return rc;
}

/* Stale attemptK/ dirs of an earlier run of the same test go first. */
static void remove_old_attempts(const char *dir)
{
	char path[PATH_MAX + 300];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "attempt", 7) &&
		    fmt(path, sizeof(path), "%s/%s", dir, e->d_name) > 0)
			rm_rf(path);
	closedir(d);
}

struct out {
	verdict_emit emit;
	void *ctx;
	const char *prefix;         /* diagnostics: "#   " before each line */
	const char *todo;           /* quarantine: TODO text for `not ok` lines */
	struct sbuf line;
};

static void out_line(void *ctx, const char *line, size_t len)
{
	struct out *o = ctx;
	size_t i;

	sbuf_reset(&o->line);
	if (o->prefix) {
		sbuf_add(&o->line, o->prefix, strlen(o->prefix));
		sbuf_add(&o->line, line, len);
	} else if (o->todo && len >= 6 && !strncmp(line, "not ok", 6)) {
		/* escape the description's '#' and '\' so the only directive is ours */
		for (i = 0; i < len; i++) {
			if (line[i] == '#' || line[i] == '\\')
				sbuf_add(&o->line, "\\", 1);
			sbuf_add(&o->line, line + i, 1);
		}
		sbuf_addf(&o->line, " # TODO %s", o->todo);
	} else {
		sbuf_add(&o->line, line, len);
	}
	o->emit(o->ctx, o->line.data ? o->line.data : "", o->line.len);
}

static void out_text(struct out *o, const char *prefix, const char *todo, const char *text)
{
	o->prefix = prefix;
	o->todo = todo;
	each_line(text, out_line, o);
}

/* Attempt k failed and another comes: its logs to attemptK/ (with its
 * record), its TAP into diag as diagnostics, its line in the story. */
static void keep_failed_attempt(const char *testdir, int k, int attempts, struct vkci_result *cur,
				const struct sbuf *tap, struct sbuf *diag, struct sbuf *story,
				struct attempt *a)
{
	char adir[PATH_MAX + 320], path[PATH_MAX + 340], reason[REASON_MAX];
	struct out d;

	first_failure(tap->data, reason, sizeof(reason));
	if (!reason[0])
		fmt(reason, sizeof(reason), "exit status %d", cur->exit_status);
	adir[0] = '\0';
	if (testdir[0] && move_logs(testdir, k, adir, sizeof(adir)) < 0)
		adir[0] = '\0';
	result_to_attempt(cur, a);
	if (!a->reason[0])
		fmt(a->reason, sizeof(a->reason), "%s", reason);
	fmt(a->log_dir, sizeof(a->log_dir), "%s", adir);
	if (adir[0]) {
		/* its record beside its logs, with the paths where they are now */
		if (fmt(path, sizeof(path), "%s/console.log", adir) > 0)
			fmt(cur->console_log, sizeof(cur->console_log), "%s", path);
		if (fmt(path, sizeof(path), "%s/serial.log", adir) > 0)
			fmt(cur->serial_log, sizeof(cur->serial_log), "%s", path);
		cur->nattempts = 1;
		cur->attempts[0] = *a;
		if (fmt(path, sizeof(path), "%s/result.json", adir) > 0)
			result_write(path, cur);
	}
	sbuf_addf(diag, "# vkci: attempt %d of %d failed (exit status %d): %s\n", k, attempts,
		  cur->exit_status, reason);
	memset(&d, 0, sizeof(d));
	d.emit = buffer_line;
	d.ctx = diag;
	d.prefix = "#   ";
	sbuf_init(&d.line, 64u << 10);
	each_line(tap->data, out_line, &d);
	sbuf_free(&d.line);
	if (adir[0])
		sbuf_addf(diag, "# vkci: attempt %d's logs: %s\n", k, adir);
	sbuf_addf(story, "%sfailed attempt %d (%s)", story->len ? ", " : "", k, reason);
	note("attempt %d of %d of '%s' failed (%s): retrying in a fresh instance",
	     k, attempts, cur->test, reason);
}

int retry_run(const struct instance_config *cfg, const struct retry_policy *pol, retry_runner run,
	      verdict_emit emit, void *ctx, struct vkci_result *res)
{
	char testdir[PATH_MAX + 300], todo[300];
	struct attempt history[RESULT_MAX_ATTEMPTS];
	struct sbuf tap, diag, story;
	struct out o;
	int attempts = pol->retries + 1, k, rc = EXIT_INFRA, i;

	res->quarantined = pol->quarantined;
	if (pol->retries <= 0 && !pol->quarantined) {
		rc = run(cfg, emit, ctx, res);
		result_to_attempt(res, &res->attempts[0]);
		res->nattempts = 1;
		return rc;
	}

	testdir[0] = '\0';
	if (cfg->log_dir && fmt(testdir, sizeof(testdir), "%s/%s", cfg->log_dir, cfg->test) > 0)
		remove_old_attempts(testdir);
	sbuf_init(&tap, ATTEMPT_TAP_MAX);
	sbuf_init(&diag, ATTEMPT_TAP_MAX);
	sbuf_init(&story, 1 << 16);
	memset(&o, 0, sizeof(o));
	o.emit = emit;
	o.ctx = ctx;
	sbuf_init(&o.line, 64u << 10);

	for (k = 1; k <= attempts; k++) {
		if (k > 1) {
			result_free(res);
			result_init(res);
		}
		res->attempt = k;
		res->quarantined = pol->quarantined;
		sbuf_reset(&tap);
		rc = run(cfg, buffer_line, &tap, res);
		if (rc == EXIT_PASS || rc == EXIT_USAGE || k == attempts)
			break;
		keep_failed_attempt(testdir, k, attempts, res, &tap, &diag, &story, &history[k - 1]);
	}
	if (k > attempts)
		k = attempts;

	/* the record: this attempt, and every earlier one */
	for (i = 0; i < k - 1; i++)
		res->attempts[i] = history[i];
	result_to_attempt(res, &res->attempts[k - 1]);
	res->nattempts = k;
	res->flaky = k > 1 && rc == EXIT_PASS;
	if (res->flaky)
		res->outcome = OUTCOME_FLAKY;

	out_text(&o, NULL, NULL, diag.data);
	if (res->flaky) {
		char line[REASON_MAX * 4 + 200];

		fmt(line, sizeof(line), "# vkci: flaky: %s, passed attempt %d", story.data, k);
		emit(ctx, line, strlen(line));
	} else if (k > 1) {
		char line[128];

		fmt(line, sizeof(line), "# vkci: failed all %d attempts; the verdict below is attempt %d's", k, k);
		emit(ctx, line, strlen(line));
	}
	if (pol->expected)
		fmt(todo, sizeof(todo), "expected failure: %s", pol->why);
	else
		fmt(todo, sizeof(todo), "quarantined: known flaky (%s), not counted",
		    pol->why && *pol->why ? pol->why : "--quarantined");
	out_text(&o, NULL, pol->quarantined && rc == EXIT_FAIL ? todo : NULL, tap.data);
	if (pol->quarantined) {
		char line[400];

		fmt(line, sizeof(line), "# vkci: %s test %s", rc == EXIT_FAIL ? "failed" :
		    rc == EXIT_PASS ? "passed" : "could not run", todo);
		emit(ctx, line, strlen(line));
		if (rc == EXIT_FAIL)
			rc = EXIT_PASS;
	}
	sbuf_free(&tap);
	sbuf_free(&diag);
	sbuf_free(&story);
	sbuf_free(&o.line);
	return rc;
}

int quarantine_listed(const char *file, const char *test)
{
	size_t len;
	char *data, *line, *save = NULL;
	int found = 0;
	struct stat st;

	/* one line that names the list and the fix (read_file would say its own) */
	if (stat(file, &st) < 0 || access(file, R_OK) < 0)
		return error_errno("cannot read the known-flaky list '%s' (set QUARANTINE= or VKCI_QUARANTINE=)", file);
	if (!S_ISREG(st.st_mode))
		return error("the known-flaky list '%s' is not a file (set QUARANTINE= or VKCI_QUARANTINE=)", file);
	if (!(data = read_file(file, 1u << 20, &len)))
		return -1;
	for (line = strtok_r(data, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save)) {
		char *hash = strchr(line, '#'), *p = line, *end;
		size_t n;

		if (hash)
			*hash = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		end = p + strlen(p);
		while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			*--end = '\0';
		if (!strncmp(p, "suites/", 7))
			p += 7;
		n = strlen(p);
		if (n > 2 && !strcmp(p + n - 2, ".c"))
			p[n - 2] = '\0';
		else if (n > 3 && !strcmp(p + n - 3, ".py"))
			p[n - 3] = '\0';
		found = *p && !strcmp(p, test);
	}
	free(data);
	return found;
}
