/* vkci.c - the command table and the command entry points. Only this file
 * exits; everything below returns -1 after reporting. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "backend.h"
#include "build.h"
#include "commands.h"
#include "console.h"
#include "diag.h"
#include "instance.h"
#include "kunit.h"
#include "meta.h"
#include "opts.h"
#include "platform.h"
#include "qemu.h"
#include "retry.h"
#include "rundir.h"
#include "scenario.h"
#include "serial.h"
#include "transfer.h"
#include "util.h"
#include "verdict.h"
#include "banned.h"

#define VKCI_VERSION "0.2"
#define DEFAULT_MEM (128LL << 20)
#define DEFAULT_TIMEOUT 60
#define DEFAULT_GRACE_MS 2000
#define DEFAULT_MAX_LOG (16u << 20)

/* TAP goes to stdout one write per line, so nothing interleaves mid-line. */
static void emit_stdout(void *ctx, const char *line, size_t len)
{
	char buf[16400];

	(void)ctx;
	if (len > sizeof(buf) - 1)
		len = sizeof(buf) - 1;
	memcpy(buf, line, len);
	buf[len] = '\n';
	write_all(1, buf, len + 1);
}

/* A test's name in the payload is SUITE/NAME: the last two components of
 * its source path ("suites/vm/mmap_anon.c" -> "vm/mmap_anon"); a name
 * given as such stays. */
static int test_name(const char *arg, char *name, size_t size, char *src, size_t srcsize)
{
	size_t len = strlen(arg), i;
	size_t ext = len > 2 && !strcmp(arg + len - 2, ".c") ? 2 :
		     len > 3 && !strcmp(arg + len - 3, ".py") ? 3 : 0;

	src[0] = '\0';
	if (ext) {
		const char *p = arg + len - ext;
		int slashes = 0;

		if (fmt(src, srcsize, "%s", arg) < 0)
			return error("test path too long: '%s'", arg);
		while (p > arg && !(p[-1] == '/' && ++slashes == 2))
			p--;
		if (fmt(name, size, "%.*s", (int)(arg + len - ext - p), p) < 0)
			return error("test name too long: '%s'", arg);
	} else if (fmt(name, size, "%s", arg) < 0) {
		return error("test name too long: '%s'", arg);
	}
	if (!name[0] || name[0] == '/' || strstr(name, "..") || !strchr(name, '/'))
		return error("bad test name '%s' (want SUITE/TEST or suites/SUITE/TEST.c)", arg);
	for (i = 0; name[i]; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.' || c == '/'))
			return error("bad character in test name '%s' (letters, digits, _ - . /)", name);
	}
	return 0;
}

/* Options a test's source declares, overridden by the command line and
 * the environment; the kernel options it needs (config=) checked against
 * the kernel's .config: 0 to go on, 1 when it printed a skip, or an exit
 * status + 2 after reporting. */
static int test_settings(const struct run_opts *o, const struct run_files *f, const char *src,
			 int scenario, const char *name, struct instance_config *cfg,
			 struct retry_policy *pol, char *skip, size_t skip_size)
{
	const char *mem_s = o->mem, *timeout_s = o->timeout, *scale_s;
	struct test_meta meta;
	char cpath[PATH_MAX + 16], *kcfg;
	size_t klen;

	meta_init(&meta);
	if (src[0] && !scenario && meta_load(&meta, src) < 0)
		return 2 + EXIT_USAGE;
	/* tests without a source (kselftest programs): a generated metadata file */
	if (!src[0] && meta_lookup(&meta, getenv("VKCI_TEST_META"), name) < 0)
		return 2 + EXIT_USAGE;
	if (meta.xfail[0] && !pol->quarantined)
		pol->quarantined = pol->expected = 1, pol->why = meta.xfail;
	/* the source's own declaration wins over the environment's defaults,
	 * the command line over both */
	if (meta.mem >= 0 && mem_s == getenv("VKCI_MEM"))
		mem_s = NULL;
	if (meta.timeout_s >= 0 && timeout_s == getenv("VKCI_TIMEOUT"))
		timeout_s = NULL;
	cfg->mem = mem_s && *mem_s ? parse_size(mem_s) : meta.mem >= 0 ? meta.mem : DEFAULT_MEM;
	if (cfg->mem < (16LL << 20)) {
		error("bad memory size '%s' (e.g. 128M, at least 16M)", mem_s ? mem_s : "");
		return 2 + EXIT_USAGE;
	}
	cfg->timeout_s = timeout_s && *timeout_s ? parse_uint(timeout_s, 86400) :
			 meta.timeout_s > 0 ? meta.timeout_s : DEFAULT_TIMEOUT;
	if (cfg->timeout_s <= 0) {
		error("bad timeout '%s' (seconds, 1..86400)", timeout_s ? timeout_s : "");
		return 2 + EXIT_USAGE;
	}
	/* a slower kernel (VARIANT=debug: KASAN, lockdep) gives every test more time */
	if ((scale_s = getenv("VKCI_TIMEOUT_SCALE")) && *scale_s) {
		long scale = parse_uint(scale_s, 100);

		if (scale <= 0) {
			error("bad VKCI_TIMEOUT_SCALE '%s' (a whole number, 1..100)", scale_s);
			return 2 + EXIT_USAGE;
		}
		cfg->timeout_s *= scale;
	}
	cfg->nodes = meta.nodes > 0 ? meta.nodes : 1;
	cfg->scratch = meta.scratch > 0 ? meta.scratch : 0;
	/* kernel options the test declares it needs: a kernel built without
	 * them (known from its .config) skips it */
	if (meta.nconfig > 0 && backend_kernel_config(f->backend, f->kernel, cpath, sizeof(cpath)) == 0 &&
	    (kcfg = read_file(cpath, 16u << 20, &klen))) {
		const char *missing = meta_missing_config(&meta, kcfg);

		if (missing) {
			char line[300];

			fmt(skip, skip_size, "the kernel lacks CONFIG_%s (add CONFIG_%s=y to a config fragment)",
			    missing, missing);
			fmt(line, sizeof(line), "1..0 # SKIP %s\n", skip);
			write_str(1, line);
		}
		free(kcfg);
		if (missing)
			return 1;
	}
	return 0;
}

/* LOG_DIR/<test>/result.json of a finished test. */
static void record(const char *log_dir, const char *name, const struct vkci_result *res)
{
	char path[PATH_MAX + 300];

	if (fmt(path, sizeof(path), "%s/%s", log_dir, name) > 0 && mkdir_p(path, 0755) == 0 &&
	    fmt(path, sizeof(path), "%s/%s/result.json", log_dir, name) > 0)
		result_write(path, res);
}

/* A test skipped without booting (its kernel lacks a config= option) has a
 * record too: the reports count it like any skip. */
static void record_skip(const struct run_files *f, const struct instance_config *cfg,
			const char *name, const char *why)
{
	struct vkci_result res;

	result_init(&res);
	fmt(res.test, sizeof(res.test), "%s", name);
	res.backend = f->backend->name;
	res.kernel = f->kernel;
	res.image = f->image;
	res.payload = f->have_payload ? f->payload : NULL;
	res.nodes = cfg->nodes;
	res.timeout_s = cfg->timeout_s;
	res.mem = cfg->mem;
	res.outcome = OUTCOME_SKIP;
	res.exit_status = EXIT_PASS;
	res.planned = 0;
	fmt(res.reason, sizeof(res.reason), "%s", why);
	result_to_attempt(&res, &res.attempts[0]);
	res.nattempts = 1;
	record(f->log_dir, name, &res);
	result_free(&res);
}

/* The run's settings that hold for every test (make checks them with
 * --check before it builds anything): the retry count, the known-flaky list
 * (is `name` on it; "" to only read it), the file transfer limits.
 * EXIT_PASS, or EXIT_USAGE after reporting. */
static int run_policy(const struct run_opts *o, const char *name, struct retry_policy *pol,
		      struct xfer_limits *lim)
{
	if (o->retries && *o->retries && (pol->retries = (int)parse_uint(o->retries, RETRY_MAX)) < 0)
		return error("bad retry count '%s' (0..%d; RETRIES=/VKCI_RETRIES/--retries)",
			     o->retries, RETRY_MAX), EXIT_USAGE;
	pol->quarantined = o->quarantined;
	pol->why = o->quarantined ? "--quarantined" : NULL;
	if (!pol->quarantined && o->quarantine && *o->quarantine) {
		int listed = quarantine_listed(o->quarantine, name);

		if (listed < 0)
			return EXIT_USAGE;
		pol->quarantined = listed;
		pol->why = o->quarantine;
	}
	return xfer_parse_limits(o->fetch_limits, lim) < 0 ? EXIT_USAGE : EXIT_PASS;
}

static int cmd_exec(int argc, char **argv)
{
	static const char usage[] =
		"usage: vkci exec [options] TEST [-- TEST-ARGS...]\n"
		"  TEST is suites/SUITE/NAME.c (its vkci: metadata is read), suites/SUITE/NAME.py\n"
		"  (a console scenario) or SUITE/NAME; the agent runs /payload/SUITE/NAME\n"
		"  -a vkci.fetch=DIR makes the agent send the guest's files under DIR after the test\n";
	struct retry_policy pol = { 0, 0, NULL, 0 };
	char gdir[PATH_MAX + 300], name[256], src[PATH_MAX], self[PATH_MAX], skip[300];
	struct instance_config cfg;
	struct run_opts o;
	struct run_files f;
	struct xfer_limits lim;
	struct vkci_result *res;
	int first, rc, scenario;

	memset(&cfg, 0, sizeof(cfg));
	if ((first = opts_parse(CMD_EXEC, usage, argc, argv, &o)) < 0)
		return opts_free(&o), EXIT_USAGE;
	if (o.help)
		return opts_free(&o), EXIT_PASS;
	if (o.check) {
		rc = first < argc ? (error("--check takes no TEST ('%s' given)", argv[first]), EXIT_USAGE) :
		     run_policy(&o, "", &pol, &lim);
		return opts_free(&o), rc;
	}
	if (first >= argc) {
		error("no test given");
		opts_usage(CMD_EXEC, usage, 2);
		return opts_free(&o), EXIT_USAGE;
	}
	if (test_name(argv[first], name, sizeof(name), src, sizeof(src)) < 0)
		return opts_free(&o), EXIT_USAGE;
	/* kunit/SUITE: handed over to ci/kunit.py (kunit.h) */
	if (!strncmp(name, "kunit/", 6)) {
		rc = plat_self_exe(NULL, self, sizeof(self)) < 0 ?
		     (error("cannot find vkci's own path for KUnit suite '%s'", name), EXIT_INFRA) :
		     kunit_exec(name, &o, self);
		return opts_free(&o), rc;
	}
	first++;
	if (first < argc && !strcmp(argv[first], "--"))
		first++;
	cfg.test_args = (const char *const *)argv + first;
	if ((rc = run_policy(&o, name, &pol, &lim)) != EXIT_PASS)
		return opts_free(&o), rc;
	if ((rc = opts_resolve(&o, &f)) != EXIT_PASS)
		return opts_free(&o), rc;
	scenario = strlen(src) > 3 && !strcmp(src + strlen(src) - 3, ".py");
	if ((rc = test_settings(&o, &f, src, scenario, name, &cfg, &pol, skip, sizeof(skip)))) {
		if (rc == 1 && f.have_log_dir)
			record_skip(&f, &cfg, name, skip);
		return opts_free(&o), rc == 1 ? EXIT_PASS : rc - 2;
	}
	if (o.gcov_dir && *o.gcov_dir) {
		char groot[PATH_MAX];

		if (mkdir_p(o.gcov_dir, 0755) < 0 || abspath(o.gcov_dir, groot, sizeof(groot)) < 0 ||
		    fmt(gdir, sizeof(gdir), "%s/%s", groot, name) < 0) {
			error_errno("cannot create coverage dir '%s' (check VKCI_GCOV_DIR/--gcov-dir)", o.gcov_dir);
			return opts_free(&o), EXIT_USAGE;
		}
		cfg.gcov_dir = gdir;
	}
	cfg.backend = f.backend;
	cfg.kernel = f.kernel;
	cfg.image = f.image;
	cfg.payload = f.have_payload ? f.payload : NULL;
	cfg.log_dir = f.have_log_dir ? f.log_dir : NULL;
	cfg.run_dir = f.run_dir;
	cfg.test = name;
	cfg.extra = o.extra;
	cfg.keep = o.keep;
	cfg.boot_timeout_s = o.boot_timeout;
	cfg.grace_ms = DEFAULT_GRACE_MS;
	cfg.max_log = DEFAULT_MAX_LOG;
	cfg.fetch_limits = o.fetch_limits;
	if (scenario) {
		if (plat_self_exe(NULL, self, sizeof(self)) < 0) {
			error("cannot find vkci's own path for the scenario '%s'", src);
			return opts_free(&o), EXIT_INFRA;
		}
		cfg.script = src;
		cfg.self = self;
	}
	{
		/* the job the agent will be sent must fit a record: refuse before booting */
		struct job_params jp = { .test = name, .timeout_s = cfg.timeout_s, .test_args = cfg.test_args,
					 .nodes = (int)cfg.nodes, .payload_dev = cfg.payload ? "/dev/x" : NULL };
		char job[PROTO_MAX_RECORD + 2];

		if (!scenario && job_record(job, sizeof(job), "0123456789abcdef", &jp) < 0)
			return opts_free(&o), EXIT_USAGE;
	}
	res = malloc(sizeof(*res));
	if (!res)
		return opts_free(&o), error("out of memory"), EXIT_INFRA;
	result_init(res);
	rc = retry_run(&cfg, &pol, scenario ? scenario_run : instance_run, emit_stdout, NULL, res);
	if (cfg.log_dir && rc != EXIT_USAGE)
		record(cfg.log_dir, name, res);
	result_free(res);
	free(res);
	opts_free(&o);
	return rc;
}

/* vkci boot: a shell in a throwaway instance, torn down on exit. */
static struct termios saved_tty;
static int tty_raw;

static void restore_tty(void)
{
	if (tty_raw)
		tcsetattr(0, TCSAFLUSH, &saved_tty);
	tty_raw = 0;
}

static void discard(void *ctx, const char *line, size_t len)
{
	(void)ctx;
	(void)line;
	(void)len;
}

static int cmd_boot(int argc, char **argv)
{
	static const char usage[] =
		"usage: vkci boot [options]\n"
		"  a root shell in a throwaway instance (same kernel, image and payload as the\n"
		"  tests, payload on /payload); exit the shell to tear it down\n";
	struct instance_config cfg;
	struct vkci_result res;
	struct run_opts o;
	struct run_files f;
	int first, rc;

	memset(&cfg, 0, sizeof(cfg));
	if ((first = opts_parse(CMD_BOOT, usage, argc, argv, &o)) < 0)
		return opts_free(&o), EXIT_USAGE;
	if (o.help)
		return opts_free(&o), EXIT_PASS;
	if (first != argc) {
		opts_usage(CMD_BOOT, usage, 2);
		return opts_free(&o), EXIT_USAGE;
	}
	if ((cfg.mem = parse_size(o.mem && *o.mem ? o.mem : "128M")) < (16LL << 20)) {
		error("bad memory size '%s' (e.g. 128M, at least 16M)", o.mem);
		return opts_free(&o), EXIT_USAGE;
	}
	if ((cfg.timeout_s = o.timeout && *o.timeout ? parse_uint(o.timeout, 7 * 86400) : 3600) <= 0) {
		error("bad --timeout '%s' (seconds)", o.timeout);
		return opts_free(&o), EXIT_USAGE;
	}
	if ((rc = opts_resolve(&o, &f)) != EXIT_PASS)
		return opts_free(&o), rc;
	cfg.backend = f.backend;
	cfg.kernel = f.kernel;
	cfg.image = f.image;
	cfg.payload = f.have_payload ? f.payload : NULL;
	cfg.test = "boot/shell";
	cfg.extra = o.extra;
	cfg.keep = o.keep;
	cfg.nodes = 1;
	cfg.boot_timeout_s = o.boot_timeout;
	cfg.grace_ms = DEFAULT_GRACE_MS;
	cfg.run_dir = f.run_dir;
	cfg.max_log = DEFAULT_MAX_LOG;
	cfg.interactive = 1;
	cfg.on_interrupt = restore_tty;
	if (isatty(0) && tcgetattr(0, &saved_tty) == 0) {
		struct termios raw = saved_tty;

		cfmakeraw(&raw);   /* the guest's line discipline does echo and CRLF */
		if (tcsetattr(0, TCSAFLUSH, &raw) == 0)
			tty_raw = 1;
	}
	result_init(&res);
	rc = instance_run(&cfg, discard, NULL, &res);
	result_free(&res);
	restore_tty();
	if (rc == EXIT_INFRA)
		error("the instance could not start a shell (run with -v; logs were in the kept instance dir)");
	opts_free(&o);
	return rc;
}

/* vkci parse: re-read a saved serial transcript and console log. */
static void feed_verdict(void *ctx, const struct serial_event *ev)
{
	struct xfer_rx *rx = ctx;

	verdict_event(rx->v, ev);
	xfer_rx_event(rx, ev);
}

static int cmd_parse(int argc, char **argv)
{
	static const char usage[] =
		"usage: vkci parse [options] SERIAL-LOG\n"
		"  the verdict of a saved serial transcript (and console log), as vkci exec gave it;\n"
		"  transferred files (F records) are checked, and with --fetch-dir rebuilt under DIR\n";
	const char *console_path, *status, *tmo, *fetch_dir, *fetch_limits;
	struct xfer_rx rx;
	struct host_facts host;
	struct console_state con;
	struct serial_parser sp;
	struct verdict v;
	struct run_opts o;
	char *data;
	size_t len;
	int first, rc;

	if ((first = opts_parse(CMD_PARSE, usage, argc, argv, &o)) < 0)
		return opts_free(&o), EXIT_USAGE;
	if (o.help)
		return opts_free(&o), EXIT_PASS;
	if (first != argc - 1) {
		opts_usage(CMD_PARSE, usage, 2);
		return opts_free(&o), EXIT_USAGE;
	}
	console_path = o.console;
	status = o.kernel_status;
	tmo = o.host_timeout;
	fetch_dir = o.fetch_dir;
	fetch_limits = o.fetch_limits;
	opts_free(&o);
	memset(&host, 0, sizeof(host));
	/* saved transcripts come from UML unless said otherwise: its quirk applies */
	host.abort_after_poweroff_ok = !!(backend_uml.quirks & QUIRK_ABORT_AFTER_POWEROFF);
	if (status) {
		long n = -1;

		if (!strncmp(status, "exit:", 5))
			n = parse_uint(status + 5, 255), host.kernel_status = (int)(n << 8);
		else if (!strncmp(status, "signal:", 7))
			n = parse_uint(status + 7, 64), host.kernel_status = (int)n;
		if (n < 0) {
			error("bad --kernel-status '%s' (exit:N or signal:N)", status);
			return EXIT_USAGE;
		}
		host.kernel_reaped = 1;
	}
	if (tmo) {
		const char *colon = strchr(tmo, ':');

		host.timeout_s = colon ? parse_uint(colon + 1, 86400) : 0;
		if (!strncmp(tmo, "boot", 4) && (!tmo[4] || colon == tmo + 4))
			host.timeout = HOST_TIMEOUT_BOOT;
		else if (!strncmp(tmo, "test", 4) && (!tmo[4] || colon == tmo + 4))
			host.timeout = HOST_TIMEOUT_TEST;
		else if (!strncmp(tmo, "shutdown", 8) && (!tmo[8] || colon == tmo + 8))
			host.timeout = HOST_TIMEOUT_SHUTDOWN;
		if (host.timeout == HOST_TIMEOUT_NONE || host.timeout_s < 0) {
			error("bad --host-timeout '%s' (boot, test or shutdown, optionally :SECONDS)", tmo);
			return EXIT_USAGE;
		}
		host.killed_by_host = 1;
	}
	console_init(&con);
	if (console_path) {
		data = read_file(console_path, 1u << 30, &len);
		if (!data)
			return EXIT_USAGE;
		console_feed(&con, data, len);
		console_finish(&con);
		free(data);
	}
	data = read_file(argv[first], 1u << 30, &len);
	if (!data)
		return EXIT_USAGE;
	verdict_init(&v, emit_stdout, NULL, &con);
	if (xfer_rx_init(&rx, fetch_dir, NULL, fetch_limits, &v) < 0) {
		free(data);
		verdict_free(&v);
		return EXIT_USAGE;
	}
	serial_init(&sp, feed_verdict, &rx);
	serial_feed(&sp, data, len);
	serial_finish(&sp);
	xfer_rx_finish(&rx, NULL);
	free(data);
	rc = verdict_finish(&v, &host);
	verdict_free(&v);
	return rc;
}

static int cmd_version(int argc, char **argv)
{
	char line[128];

	(void)argc;
	(void)argv;
	/* the platform layer built in (platform.h): tests skip what a POSIX host cannot do */
	fmt(line, sizeof(line), "vkci %s (platform %s)\n", VKCI_VERSION, plat_name);
	write_str(1, line);
	return EXIT_PASS;
}

static int cmd_help(int argc, char **argv);

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "build", cmd_build, "build a vkernel from a Linux source tree (cached), print its path" },
	{ "exec", cmd_exec, "boot one throwaway vkernel for one test, print its TAP" },
	{ "boot", cmd_boot, "a shell in a throwaway instance (same kernel, image, payload)" },
	{ "bisect", cmd_bisect, "the first commit where tests fail (ci/bisect.py; make bisect)" },
	{ "rundir", cmd_rundir, "the run dir's keep policy and state; sweep dirs of dead vkci processes" },
	{ "parse", cmd_parse, "re-read a saved serial transcript (+ console log), print the verdict" },
	{ "crash", cmd_crash, "whether and how the kernel crashed in console logs, as JSON (kunit.h)" },
	{ "hub", hub_main, "(started by vkci) the Ethernet hub of a QEMU network of 3+ nodes" },
	{ "version", cmd_version, "print the version and the platform layer (linux, posix)" },
	{ "help", cmd_help, "list the commands" },
};

static int cmd_help(int argc, char **argv)
{
	size_t i;

	(void)argc;
	(void)argv;
	write_str(1, "usage: vkci COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		char line[256];

		if (fmt(line, sizeof(line), "  %-8s %s\n", commands[i].name, commands[i].help) > 0)
			write_str(1, line);
	}
	write_str(1, "\nexit status: 0 passed, 1 test failed, 2 usage, 3 infrastructure\n");
	return EXIT_PASS;
}

int main(int argc, char **argv)
{
	size_t i;

	plat_remember_argv0(argv[0]);
	/* a vkernel that died leaves its channels' reading ends closed: a write
	 * to them fails with EPIPE, it must not kill vkci (children get the
	 * default back: proc.c) */
	signal(SIGPIPE, SIG_IGN);
	if (getenv("VKCI_VERBOSE") && *getenv("VKCI_VERBOSE") && strcmp(getenv("VKCI_VERBOSE"), "0"))
		diag_verbosity = 1;
	if (argc < 2) {
		cmd_help(0, NULL);
		return EXIT_USAGE;
	}
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(0, NULL);
	error("unknown command '%s' (see 'vkci help')", argv[1]);
	return EXIT_USAGE;
}
