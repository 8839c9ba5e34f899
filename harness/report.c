#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "report.h"
#include "util.h"
#include "banned.h"

/* Length of a valid UTF-8 sequence at s, or 0. */
static int utf8_len(const unsigned char *s)
{
	int n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

void json_string(struct sbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	sbuf_add(sb, "\"", 1);
	while (*p) {
		int n;

		if (*p == '"' || *p == '\\') {
			char e[2] = { '\\', (char)*p };

			sbuf_add(sb, e, 2);
			p++;
		} else if (*p < 0x20 || *p == 0x7f) {
			sbuf_addf(sb, "\\u%04x", *p);
			p++;
		} else if (*p < 0x80) {
			sbuf_add(sb, p, 1);
			p++;
		} else if ((n = utf8_len(p)) > 0) {
			sbuf_add(sb, p, (size_t)n);
			p += n;
		} else {
			sbuf_add(sb, "\\ufffd", 6);
			p++;
		}
	}
	sbuf_add(sb, "\"", 1);
}

static void field(struct sbuf *sb, const char *key, const char *val, int last)
{
	sbuf_addf(sb, "  \"%s\": ", key);
	if (val)
		json_string(sb, val);
	else
		sbuf_add(sb, "null", 4);
	sbuf_add(sb, last ? "\n" : ",\n", last ? 1 : 2);
}

int report_write(const char *path, const struct test_record *r)
{
	const struct verdict *v = r->verdict;
	const struct console_state *c = r->console;
	const char *outcome;
	char tmp[4096 + 8], fp[256] = "";
	struct sbuf sb;
	int fd, rc = 0, i;

	if (r->exit_status == EXIT_INFRA)
		outcome = "infra";
	else if (r->exit_status == EXIT_PASS && r->attempt > 1)
		outcome = "flaky";   /* failed before, passed on a retry */
	else if (r->exit_status == EXIT_PASS)
		outcome = v->skipped ? "skip" : "pass";
	else if (c && c->first != CRASH_NONE)
		outcome = "crash";
	else
		outcome = "fail";
	if (c)
		console_fingerprint(c, fp, sizeof(fp));

	sbuf_init(&sb, 1 << 20);
	sbuf_add(&sb, "{\n", 2);
	field(&sb, "test", r->test, 0);
	field(&sb, "outcome", outcome, 0);
	sbuf_addf(&sb, "  \"exit_status\": %d,\n", r->exit_status);
	field(&sb, "reason", v->reason[0] ? v->reason : NULL, 0);
	sbuf_addf(&sb, "  \"tests\": {\"planned\": %ld, \"run\": %ld, \"failed\": %ld},\n",
		  v->tap.planned, v->tap.tests, v->tap.failed);
	field(&sb, "crash_kind", c && c->first != CRASH_NONE ? crash_name(c->first) : NULL, 0);
	field(&sb, "crash_title", c && c->nreports ? console_title(c) : NULL, 0);
	field(&sb, "crash_fingerprint", fp[0] ? fp : NULL, 0);
	sbuf_addf(&sb, "  \"crash_others\": [");
	for (i = 1; c && i < c->nreports; i++) {
		json_string(&sb, c->reports[i].title);
		if (i + 1 < c->nreports)
			sbuf_add(&sb, ", ", 2);
	}
	sbuf_addf(&sb, "],\n");
	field(&sb, "crash_line", c && c->first != CRASH_NONE ? c->first_line : NULL, 0);
	sbuf_addf(&sb, "  \"start_unix_ms\": %lld,\n  \"duration_ms\": %lld,\n",
		  r->start_unix_ms, r->duration_ms);
	field(&sb, "kernel", r->kernel, 0);
	field(&sb, "image", r->image, 0);
	field(&sb, "payload", r->payload, 0);
	sbuf_addf(&sb, "  \"nodes\": %ld,\n  \"mem_bytes\": %lld,\n  \"timeout_s\": %ld,\n",
		  r->nodes, r->mem, r->timeout_s);
	field(&sb, "console_log", r->console_log, 0);
	field(&sb, "serial_log", r->serial_log, 0);
	field(&sb, "instance_dir_kept", r->kept_dir, 0);
	/* retries: every attempt, the earlier ones' logs moved to attemptN/ */
	sbuf_addf(&sb, "  \"flaky\": %s,\n  \"quarantined\": %s,\n  \"attempt\": %d,\n",
		  r->attempt > 1 && r->exit_status == EXIT_PASS ? "true" : "false",
		  r->quarantined ? "true" : "false", r->attempt > 0 ? r->attempt : 1);
	sbuf_addf(&sb, "  \"attempts\": [");
	if (r->attempts_json && *r->attempts_json) {
		sbuf_add(&sb, r->attempts_json, strlen(r->attempts_json));
		sbuf_add(&sb, ", ", 2);
	}
	sbuf_addf(&sb, "{\"attempt\": %d, \"exit_status\": %d, \"outcome\": \"%s\", \"reason\": ",
		  r->attempt > 0 ? r->attempt : 1, r->exit_status,
		  strcmp(outcome, "flaky") ? outcome : v->skipped ? "skip" : "pass");
	if (v->reason[0])
		json_string(&sb, v->reason);
	else
		sbuf_add(&sb, "null", 4);
	sbuf_addf(&sb, "}]\n");
	sbuf_add(&sb, "}\n", 2);

	if (fmt(tmp, sizeof(tmp), "%s.tmp", path) < 0) {
		sbuf_free(&sb);
		return error("result path too long: '%s'", path);
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, sb.data, sb.len) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
		rc = error_errno("cannot write '%s'", path);
		if (fd >= 0)
			unlink(tmp);
	}
	sbuf_free(&sb);
	return rc;
}
