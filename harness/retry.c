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
#include "report.h"
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

/* The raw JSON value of a top-level key in a result.json that report.c
 * wrote (one key per line): a string literal with its quotes, or a bare
 * token. -1 if absent. */
static int json_raw(const char *json, const char *key, char *out, size_t size)
{
	char pat[64];
	const char *p, *q;

	if (fmt(pat, sizeof(pat), "\n  \"%s\": ", key) < 0 || !(p = strstr(json, pat)))
		return -1;
	p += strlen(pat);
	if (*p == '"') {
		for (q = p + 1; *q && *q != '"'; q++)
			if (*q == '\\' && q[1])
				q++;
		if (*q != '"')
			return -1;
		q++;
	} else {
		for (q = p; *q && *q != ',' && *q != '\n'; q++)
			;
	}
	if (q == p || (size_t)(q - p) >= size)
		return -1;
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = '\0';
	return 0;
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

int retry_run(struct instance_config *cfg, const struct retry_policy *pol,
	      verdict_emit emit, void *ctx)
{
	char testdir[PATH_MAX + 300], adir[PATH_MAX + 320], reason[REASON_MAX], todo[300];
	struct sbuf tap, hist, diag, story;
	struct out o;
	int attempts = pol->retries + 1, k, rc = EXIT_INFRA;

	cfg->attempt = 0;
	cfg->attempts_json = NULL;
	cfg->quarantined = pol->quarantined;
	if (pol->retries <= 0 && !pol->quarantined)
		return instance_run(cfg, emit, ctx);

	testdir[0] = '\0';
	if (cfg->log_dir && fmt(testdir, sizeof(testdir), "%s/%s", cfg->log_dir, cfg->test) > 0)
		remove_old_attempts(testdir);
	sbuf_init(&tap, ATTEMPT_TAP_MAX);
	sbuf_init(&hist, 1 << 20);
	sbuf_init(&diag, ATTEMPT_TAP_MAX);
	sbuf_init(&story, 1 << 16);
	memset(&o, 0, sizeof(o));
	o.emit = emit;
	o.ctx = ctx;
	sbuf_init(&o.line, 64u << 10);

	for (k = 1; k <= attempts; k++) {
		cfg->attempt = pol->retries > 0 ? k : 0;
		cfg->attempts_json = hist.len ? hist.data : NULL;
		sbuf_reset(&tap);
		rc = instance_run(cfg, buffer_line, &tap);
		if (rc == EXIT_PASS || rc == EXIT_USAGE || k == attempts)
			break;

		/* a failed attempt with another to come: keep its story */
		first_failure(tap.data, reason, sizeof(reason));
		if (!reason[0])
			fmt(reason, sizeof(reason), "exit status %d", rc);
		adir[0] = '\0';
		if (testdir[0] && move_logs(testdir, k, adir, sizeof(adir)) < 0)
			adir[0] = '\0';
		if (hist.len)
			sbuf_add(&hist, ", ", 2);
		sbuf_addf(&hist, "{\"attempt\": %d, \"exit_status\": %d", k, rc);
		{
			static const char *const keys[] = { "outcome", "reason", "crash_fingerprint" };
			char path[PATH_MAX + 340], val[2048], *json;
			size_t i, len;

			json = adir[0] && fmt(path, sizeof(path), "%s/result.json", adir) > 0 ?
			       read_file(path, 1u << 20, &len) : NULL;
			for (i = 0; i < ARRAY_SIZE(keys); i++) {
				if (json && json_raw(json, keys[i], val, sizeof(val)) == 0) {
					sbuf_addf(&hist, ", \"%s\": %s", keys[i], val);
				} else if (i == 1) {
					sbuf_add(&hist, ", \"reason\": ", 12);
					json_string(&hist, reason);
				} else if (i == 0) {
					sbuf_addf(&hist, ", \"outcome\": \"%s\"", rc == EXIT_INFRA ? "infra" : "fail");
				}
			}
			free(json);
		}
		sbuf_add(&hist, ", \"log_dir\": ", 13);
		if (adir[0])
			json_string(&hist, adir);
		else
			sbuf_add(&hist, "null", 4);
		sbuf_add(&hist, "}", 1);

		sbuf_addf(&diag, "# vkci: attempt %d of %d failed (exit status %d): %s\n", k, attempts, rc, reason);
		{
			/* its TAP, indented as diagnostics, into diag */
			struct out d;

			memset(&d, 0, sizeof(d));
			d.emit = buffer_line;
			d.ctx = &diag;
			d.prefix = "#   ";
			sbuf_init(&d.line, 64u << 10);
			each_line(tap.data, out_line, &d);
			sbuf_free(&d.line);
		}
		if (adir[0])
			sbuf_addf(&diag, "# vkci: attempt %d's logs: %s\n", k, adir);
		sbuf_addf(&story, "%sfailed attempt %d (%s)", story.len ? ", " : "", k, reason);
		note("attempt %d of %d of '%s' failed (%s): retrying in a fresh instance",
		     k, attempts, cfg->test, reason);
	}
	if (k > attempts)
		k = attempts;

	out_text(&o, NULL, NULL, diag.data);
	if (k > 1 && rc == EXIT_PASS) {
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
	sbuf_free(&hist);
	sbuf_free(&diag);
	sbuf_free(&story);
	sbuf_free(&o.line);
	return rc;
}

int quarantine_listed(const char *file, const char *test)
{
	size_t len;
	char *data = read_file(file, 1u << 20, &len), *line, *save = NULL;
	int found = 0;

	if (!data)
		return error("cannot read the known-flaky list '%s' (set QUARANTINE= or VKCI_QUARANTINE=)", file);
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
