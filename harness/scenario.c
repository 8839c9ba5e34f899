/* scenario.c - console scenarios as one more kind of attempt (see
 * scenario.h): the same retry, quarantine and result path as C tests. */
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "diag.h"
#include "platform.h"
#include "proc.h"
#include "scenario.h"
#include "tap.h"
#include "util.h"
#include "banned.h"

#define SCENARIO_RECORD_MAX (1u << 20)
#define SCENARIO_KILL_WAIT_MS 15000

struct scen {
	verdict_emit emit;
	void *ctx;
	struct sbuf line;        /* a TAP line being assembled */
	struct sbuf record;      /* fd 3: the scenario's JSON record */
	struct tap_state tap;    /* its TAP, for the result's subtests */
};

static void on_output(void *ctx, const char *buf, size_t len)
{
	struct scen *s = ctx;
	size_t i;

	for (i = 0; i < len; i++) {
		if (buf[i] != '\n') {
			sbuf_add(&s->line, buf + i, 1);
			continue;
		}
		tap_feed_line(&s->tap, s->line.data ? s->line.data : "", s->line.len);
		s->emit(s->ctx, s->line.data ? s->line.data : "", s->line.len);
		sbuf_reset(&s->line);
	}
}

static void on_record(void *ctx, const char *buf, size_t len)
{
	sbuf_add(&((struct scen *)ctx)->record, buf, len);
}

static void copy_str(json_t *o, const char *key, char *dst, size_t size)
{
	const char *v = json_string_value(json_object_get(o, key));

	if (v)
		fmt(dst, size, "%s", v);
}

/* What the scenario said about itself (RESULT.md, "Console scenarios"). */
static void read_record(const struct sbuf *rec, struct vkci_result *res)
{
	json_error_t err;
	json_t *o, *t;

	if (!rec->len)
		return;
	o = json_loadb(rec->data, rec->len, 0, &err);
	if (!json_is_object(o)) {
		warning("scenario '%s' sent a malformed record on fd 3: %s", res->test, err.text);
		json_decref(o);
		return;
	}
	copy_str(o, "reason", res->reason, sizeof(res->reason));
	copy_str(o, "session_log", res->session_log, sizeof(res->session_log));
	copy_str(o, "crash_kind", res->crash_kind, sizeof(res->crash_kind));
	copy_str(o, "crash_title", res->crash_title, sizeof(res->crash_title));
	copy_str(o, "crash_fingerprint", res->crash_fingerprint, sizeof(res->crash_fingerprint));
	copy_str(o, "crash_line", res->crash_line, sizeof(res->crash_line));
	/* how the consoles' CPUs ran (QEMU): a name of the backend's, kept as such */
	if (json_is_string(t = json_object_get(o, "accel")))
		res->accel = !strcmp(json_string_value(t), "kvm") ? "kvm" :
			     !strcmp(json_string_value(t), "tcg") ? "tcg" : NULL;
	if (json_is_object(t = json_object_get(o, "tests"))) {
		res->planned = (long)json_integer_value(json_object_get(t, "planned"));
		res->run = (long)json_integer_value(json_object_get(t, "run"));
		res->failed = (long)json_integer_value(json_object_get(t, "failed"));
	}
	json_decref(o);
}

static int set_env(const char *name, const char *value)
{
	return value ? setenv(name, value, 1) : unsetenv(name);
}

int scenario_run(const struct instance_config *cfg, verdict_emit emit, void *ctx,
		 struct vkci_result *res)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, 0 };
	const char *python = ci_python(), *argv[64];
	char tmo[32];
	struct scen s = { .emit = emit, .ctx = ctx };
	struct proc_io io = { .on_output = on_output, .on_aux = on_record, .ctx = &s, .sig_fd = -1 };
	struct child ch;
	struct timespec ts;
	long long start = now_ms();
	int i = 0, st, rc;

	fmt(res->test, sizeof(res->test), "%s", cfg->test);
	res->kind = "console-scenario";
	res->backend = cfg->backend ? cfg->backend->name : "uml";
	res->kernel = cfg->kernel;
	res->image = cfg->image;
	res->payload = cfg->payload;
	res->nodes = 1;
	res->timeout_s = cfg->timeout_s;
	res->mem = cfg->mem;
	clock_gettime(CLOCK_REALTIME, &ts);
	res->start_unix_ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	fmt(tmo, sizeof(tmo), "%ld", cfg->timeout_s);
	if (setenv("VKCI", cfg->self, 1) < 0 || setenv("VKCI_KERNEL", cfg->kernel, 1) < 0 ||
	    setenv("VKCI_IMAGE", cfg->image, 1) < 0 || setenv("VKCI_RUNDIR", cfg->run_dir, 1) < 0 ||
	    setenv("VKCI_TEST", cfg->test, 1) < 0 || setenv("VKCI_TIMEOUT", tmo, 1) < 0 ||
	    setenv("VKCI_RESULT_FD", "3", 1) < 0 ||
	    setenv("VKCI_BACKEND", res->backend, 1) < 0 || set_env("VKCI_PAYLOAD", cfg->payload) < 0 ||
	    set_env("VKCI_LOG_DIR", cfg->log_dir) < 0) {
		error_errno("cannot set the environment of scenario '%s'", cfg->script);
		return res->exit_status = EXIT_INFRA;
	}
	argv[i++] = python;
	argv[i++] = cfg->script;
	while (cfg->test_args && cfg->test_args[i - 2] && i < 63) {
		argv[i] = cfg->test_args[i - 2];
		i++;
	}
	argv[i] = NULL;
	sbuf_init(&s.line, 64u << 10);
	sbuf_init(&s.record, SCENARIO_RECORD_MAX);
	tap_init(&s.tap);
	proc_child_init(&ch, argv);
	ch.keep_stderr = 1;
	/* each console has its own timeouts; this bounds the whole script */
	io.deadline = start + (cfg->timeout_s * 4 + 60) * 1000LL;
	proc_become_supervisor();
	io.sig_fd = plat_signals_open(sigs);
	st = proc_run(&ch, &io);
	proc_kill_all_children(SCENARIO_KILL_WAIT_MS);
	plat_signals_close(io.sig_fd);
	if (s.line.len)
		on_output(&s, "\n", 1);
	if (io.interrupted) {
		signal(io.interrupted, SIG_DFL);
		raise(io.interrupted);
		_exit(128 + io.interrupted);
	}
	read_record(&s.record, res);
	tap_finish(&s.tap);
	result_add_tap_subtests(res, &s.tap);
	tap_free(&s.tap);
	if (st < 0) {
		error("console scenarios need python3 with pexpect (apt-get install python3-pexpect, or set VKCI_PYTHON)");
		rc = EXIT_INFRA;
	} else if (WIFEXITED(st) && (WEXITSTATUS(st) == EXIT_PASS || WEXITSTATUS(st) == EXIT_INFRA)) {
		rc = WEXITSTATUS(st);
	} else {
		rc = EXIT_FAIL;
		if (!res->reason[0])
			fmt(res->reason, sizeof(res->reason), "scenario %s", io.timed_out ?
			    "timed out (killed by vkci)" : WIFSIGNALED(st) ? "killed by a signal" :
			    "exited with a failure status");
	}
	res->exit_status = rc;
	res->outcome = rc == EXIT_PASS ? (res->planned == 0 ? OUTCOME_SKIP : OUTCOME_PASS) :
		       rc == EXIT_INFRA ? OUTCOME_INFRA : res->crash_kind[0] ? OUTCOME_CRASH : OUTCOME_FAIL;
	res->duration_ms = now_ms() - start;
	sbuf_free(&s.line);
	sbuf_free(&s.record);
	return rc;
}
