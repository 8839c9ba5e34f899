/* result.c - a test's result and its one writer (see result.h, RESULT.md).
 * JSON through jansson: strings are written whole and escaped by the
 * library, so a long reason or a hostile byte cannot cut or break the file. */
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "result.h"
#include "tap.h"
#include "util.h"
#include "banned.h"

static const char *const outcome_names[] = {
	[OUTCOME_PASS] = "pass", [OUTCOME_SKIP] = "skip", [OUTCOME_FLAKY] = "flaky",
	[OUTCOME_FAIL] = "fail", [OUTCOME_CRASH] = "crash", [OUTCOME_INFRA] = "infra",
};

const char *outcome_name(enum outcome o)
{
	return (unsigned)o < ARRAY_SIZE(outcome_names) ? outcome_names[o] : "infra";
}

int outcome_parse(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(outcome_names); i++)
		if (name && !strcmp(name, outcome_names[i]))
			return (int)i;
	return -1;
}

enum outcome outcome_worst(enum outcome a, enum outcome b)
{
	return a > b ? a : b;
}

void result_init(struct vkci_result *r)
{
	memset(r, 0, sizeof(*r));
	r->kind = "c";
	r->planned = -1;
	r->attempt = 1;
	r->outcome = OUTCOME_INFRA;
	r->exit_status = EXIT_INFRA;
}

void result_free(struct vkci_result *r)
{
	free(r->subtests);
	r->subtests = NULL;
	r->nsubtests = 0;
}

void result_add_subtest(struct vkci_result *r, const char *id, const char *name, const char *outcome)
{
	struct subtest *s;

	if (r->nsubtests >= RESULT_MAX_SUBTESTS) {
		r->subtests_dropped++;
		return;
	}
	if (!(r->nsubtests & 63)) {
		s = realloc(r->subtests, (size_t)(r->nsubtests + 64) * sizeof(*s));
		if (!s) {
			r->subtests_dropped++;
			return;
		}
		r->subtests = s;
	}
	s = &r->subtests[r->nsubtests++];
	snprintf(s->id, sizeof(s->id), "%s", id);
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->outcome = outcome;
}

void result_add_tap_subtests(struct vkci_result *r, const struct tap_state *t)
{
	size_t i;

	for (i = 0; i < t->nsub; i++)
		result_add_subtest(r, t->sub[i].id, t->sub[i].name, tap_outcome_name(t->sub[i].outcome));
	r->subtests_dropped += t->sub_dropped;
}

void result_to_attempt(const struct vkci_result *r, struct attempt *a)
{
	memset(a, 0, sizeof(*a));
	a->attempt = r->attempt;
	a->exit_status = r->exit_status;
	a->outcome = r->outcome;
	snprintf(a->reason, sizeof(a->reason), "%s", r->reason);
	snprintf(a->crash_title, sizeof(a->crash_title), "%s", r->crash_title);
	snprintf(a->crash_fingerprint, sizeof(a->crash_fingerprint), "%s", r->crash_fingerprint);
}

/* A JSON string of s, made valid UTF-8 (invalid bytes become U+FFFD);
 * json_null() for NULL or, when empty_null, for "". */
static json_t *str(const char *s, int empty_null)
{
	const unsigned char *p = (const unsigned char *)s;
	struct sbuf sb;
	json_t *j;

	if (!s || (empty_null && !*s))
		return json_null();
	sbuf_init(&sb, 1u << 30);
	while (*p) {
		int n = 0, i;

		if (*p < 0x80)
			n = 1;
		else if (*p >= 0xc2 && *p <= 0xdf)
			n = 2;
		else if (*p >= 0xe0 && *p <= 0xef)
			n = 3;
		else if (*p >= 0xf0 && *p <= 0xf4)
			n = 4;
		for (i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				n = 0;
		if (n) {
			sbuf_add(&sb, p, (size_t)n);
			p += n;
		} else {
			sbuf_add(&sb, "\xef\xbf\xbd", 3);
			p++;
		}
	}
	j = json_stringn_nocheck(sb.data ? sb.data : "", sb.len);
	sbuf_free(&sb);
	return j;
}

static json_t *attempt_json(const struct attempt *a)
{
	json_t *o = json_object();

	json_object_set_new(o, "attempt", json_integer(a->attempt));
	json_object_set_new(o, "exit_status", json_integer(a->exit_status));
	json_object_set_new(o, "outcome", json_string(outcome_name(a->outcome)));
	json_object_set_new(o, "reason", str(a->reason, 1));
	json_object_set_new(o, "crash_title", str(a->crash_title, 1));
	json_object_set_new(o, "crash_fingerprint", str(a->crash_fingerprint, 1));
	json_object_set_new(o, "log_dir", str(a->log_dir, 1));
	return o;
}

static json_t *record(const struct vkci_result *r)
{
	json_t *o = json_object(), *t = json_object(), *list = json_array(), *subs = json_array();
	int i;

	json_object_set_new(o, "format", json_string(RESULT_FORMAT));
	json_object_set_new(o, "test", str(r->test, 0));
	json_object_set_new(o, "kind", json_string(r->kind));
	json_object_set_new(o, "backend", str(r->backend, 0));
	json_object_set_new(o, "accel", r->accel ? json_string(r->accel) : json_null());
	json_object_set_new(o, "restored", json_boolean(r->restored));
	json_object_set_new(o, "outcome", json_string(outcome_name(r->outcome)));
	json_object_set_new(o, "exit_status", json_integer(r->exit_status));
	json_object_set_new(o, "reason", str(r->reason, 1));
	json_object_set_new(t, "planned", json_integer(r->planned));
	json_object_set_new(t, "run", json_integer(r->run));
	json_object_set_new(t, "failed", json_integer(r->failed));
	json_object_set_new(o, "tests", t);
	json_object_set_new(o, "plan", r->planned >= 0 ? json_integer(r->planned) : json_null());
	for (i = 0; i < r->nsubtests; i++) {
		json_t *s = json_object();

		json_object_set_new(s, "id", str(r->subtests[i].id, 0));
		json_object_set_new(s, "name", str(r->subtests[i].name, 0));
		json_object_set_new(s, "outcome", json_string(r->subtests[i].outcome));
		json_array_append_new(subs, s);
	}
	json_object_set_new(o, "subtests", subs);
	if (r->subtests_dropped)
		json_object_set_new(o, "subtests_dropped", json_integer((json_int_t)r->subtests_dropped));
	json_object_set_new(o, "crash_kind", str(r->crash_kind, 1));
	json_object_set_new(o, "crash_title", str(r->crash_title, 1));
	json_object_set_new(o, "crash_fingerprint", str(r->crash_fingerprint, 1));
	{
		json_t *others = json_array();

		for (i = 0; i < r->ncrash_others; i++)
			json_array_append_new(others, str(r->crash_others[i], 0));
		json_object_set_new(o, "crash_others", others);
	}
	json_object_set_new(o, "crash_line", str(r->crash_line, 1));
	json_object_set_new(o, "start_unix_ms", json_integer(r->start_unix_ms));
	json_object_set_new(o, "duration_ms", json_integer(r->duration_ms));
	json_object_set_new(o, "kernel", str(r->kernel, 0));
	json_object_set_new(o, "image", str(r->image, 0));
	json_object_set_new(o, "payload", str(r->payload, 0));
	json_object_set_new(o, "nodes", json_integer(r->nodes));
	json_object_set_new(o, "mem_bytes", json_integer(r->mem));
	json_object_set_new(o, "timeout_s", json_integer(r->timeout_s));
	json_object_set_new(o, "console_log", str(r->console_log, 1));
	json_object_set_new(o, "serial_log", str(r->serial_log, 1));
	json_object_set_new(o, "session_log", str(r->session_log, 1));
	json_object_set_new(o, "instance_dir_kept", str(r->kept_dir, 1));
	json_object_set_new(o, "coverage_dir", str(r->coverage_dir, 1));
	json_object_set_new(o, "flaky", json_boolean(r->flaky));
	json_object_set_new(o, "quarantined", json_boolean(r->quarantined));
	json_object_set_new(o, "attempt", json_integer(r->attempt));
	for (i = 0; i < r->nattempts; i++)
		json_array_append_new(list, attempt_json(&r->attempts[i]));
	json_object_set_new(o, "attempts", list);
	return o;
}

int result_write(const char *path, const struct vkci_result *r)
{
	char tmp[PATH_MAX + 8];
	json_t *o = record(r);
	int fd, ok, rc = 0;

	if (fmt(tmp, sizeof(tmp), "%s.tmp", path) < 0) {
		json_decref(o);
		return error("result path too long: '%s'", path);
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		json_decref(o);
		return error_errno("cannot write '%s'", tmp);
	}
	ok = json_dumpfd(o, fd, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 && write_all(fd, "\n", 1) == 0;
	if (close(fd) < 0)
		ok = 0;
	if (!ok || rename(tmp, path) < 0) {
		rc = error_errno("cannot write '%s'", path);
		unlink(tmp);
	}
	json_decref(o);
	return rc;
}
