/* vkci.c - the command table and the command entry points. Only this file
 * exits; everything below returns -1 after reporting. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "console.h"
#include "build.h"
#include "diag.h"
#include "instance.h"
#include "kunit.h"
#include "meta.h"
#include "proc.h"
#include "retry.h"
#include "serial.h"
#include "transfer.h"
#include "util.h"
#include "verdict.h"
#include "banned.h"

#define VKCI_VERSION "0.1"
#define DEFAULT_MEM (128LL << 20)
#define DEFAULT_TIMEOUT 60
#define DEFAULT_BOOT_TIMEOUT 30
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

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
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

/* A file the vkernel needs: must exist, be a regular file, readable. */
static int need_file(const char *what, const char *path, const char *fix, int exec,
		     char *abs, size_t size)
{
	struct stat st;

	if (!path || !*path)
		return error("no %s given (%s)", what, fix);
	if (stat(path, &st) < 0)
		return error_errno("cannot use %s '%s' (%s)", what, path, fix);
	if (S_ISDIR(st.st_mode))
		return error("%s '%s' is a directory, not a file (%s)", what, path, fix);
	if (!S_ISREG(st.st_mode))
		return error("%s '%s' is not a regular file (%s)", what, path, fix);
	if (access(path, exec ? X_OK : R_OK) < 0)
		return error_errno("cannot %s %s '%s' (%s)", exec ? "execute" : "read", what, path, fix);
	if (abspath(path, abs, size) < 0)
		return error_errno("cannot resolve '%s'", path);
	return 0;
}

/* A console scenario (suites/SUITE/NAME.py) is a Python script that drives
 * `vkci boot` consoles through harness/vkciconsole.py and prints TAP itself:
 * vkci exec hands over to the interpreter (VKCI_PYTHON, default
 * /usr/bin/python3, which has Debian's pexpect) with the run's settings in
 * the environment, so prove runs scenarios beside the C tests. */
static int run_scenario(const char *src, const char *name, const char *kernel,
			const char *image, const char *payload, const char *run_dir,
			const char *log_dir, long timeout_s, const char *const *args)
{
	const char *argv[64], *python = env_or("VKCI_PYTHON", "/usr/bin/python3");
	char self[PATH_MAX], tmo[32];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int i = 0;

	if (n <= 0) {
		error_errno("cannot find vkci's own path for the scenario '%s'", src);
		return EXIT_INFRA;
	}
	self[n] = '\0';
	fmt(tmo, sizeof(tmo), "%ld", timeout_s);
	if (setenv("VKCI", self, 1) < 0 || setenv("VKCI_KERNEL", kernel, 1) < 0 ||
	    setenv("VKCI_IMAGE", image, 1) < 0 || setenv("VKCI_RUNDIR", run_dir, 1) < 0 ||
	    setenv("VKCI_TEST", name, 1) < 0 || setenv("VKCI_TIMEOUT", tmo, 1) < 0 ||
	    (payload ? setenv("VKCI_PAYLOAD", payload, 1) : unsetenv("VKCI_PAYLOAD")) < 0 ||
	    (log_dir ? setenv("VKCI_LOG_DIR", log_dir, 1) : unsetenv("VKCI_LOG_DIR")) < 0) {
		error_errno("cannot set the environment of scenario '%s'", src);
		return EXIT_INFRA;
	}
	argv[i++] = python;
	argv[i++] = src;
	while (args && *args && i < 63)
		argv[i++] = *args++;
	argv[i] = NULL;
	proc_exec_replace(argv);
	error("console scenarios need python3 with pexpect (apt-get install python3-pexpect, or set VKCI_PYTHON)");
	return EXIT_INFRA;
}

static void exec_usage(void)
{
	static const char text[] =
		"usage: vkci exec [options] TEST [-- TEST-ARGS...]\n"
		"  TEST is suites/SUITE/NAME.c (its vkci: metadata is read) or SUITE/NAME\n"
		"  -k, --kernel PATH     vkernel binary          (VKCI_KERNEL)\n"
		"  -i, --image PATH      base root image         (VKCI_IMAGE)\n"
		"  -p, --payload PATH    payload disk            (VKCI_PAYLOAD)\n"
		"  -m, --mem SIZE        guest memory, e.g. 128M (VKCI_MEM; default 128M)\n"
		"  -t, --timeout SECS    test timeout            (VKCI_TIMEOUT; default 60)\n"
		"  -b, --boot-timeout SECS  agent must say hello within (default 30)\n"
		"  -l, --log-dir DIR     keep console/serial logs in DIR/SUITE/NAME/ (VKCI_LOG_DIR)\n"
		"  -r, --run-dir DIR     parent of instance dirs (VKCI_RUNDIR)\n"
		"  -a, --append ARG      extra kernel argument, repeatable (VKCI_KERNEL_ARGS)\n"
		"  -K, --keep            keep the instance dir even if the test passed (VKCI_KEEP=1)\n"
		"  -g, --gcov-dir DIR    coverage kernels: keep the .gcda tree in DIR/SUITE/TEST (VKCI_GCOV_DIR)\n"
		"  -R, --retries N       re-run a failed test up to N times, each in a fresh instance;\n"
		"                        a later pass is reported as flaky, exit 0 (VKCI_RETRIES)\n"
		"  -Q, --quarantine FILE known-flaky list: a listed test's failure is reported as TAP\n"
		"                        TODO and not counted (VKCI_QUARANTINE)\n"
		"      --quarantined     treat this test as listed\n"
		"  -v, --verbose         progress notes on stderr\n"
		"  -a vkci.fetch=DIR     the agent sends the files under DIR (guest) over the serial\n"
		"                        line after the test; they land in the instance dir's\n"
		"                        gcov-serial/, or with --gcov-dir in DIR/SUITE/TEST\n"
		"                        (limits: VKCI_FETCH_LIMITS=FILE:TOTAL:FILES, default 64M:256M:65536)\n"
		"exit status: 0 passed or skipped, 1 failed, 2 usage, 3 infrastructure\n";

	write_str(2, text);
}

static int cmd_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "image", required_argument, NULL, 'i' },
		{ "payload", required_argument, NULL, 'p' },
		{ "mem", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 't' },
		{ "boot-timeout", required_argument, NULL, 'b' },
		{ "log-dir", required_argument, NULL, 'l' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "append", required_argument, NULL, 'a' },
		{ "keep", no_argument, NULL, 'K' },
		{ "gcov-dir", required_argument, NULL, 'g' },
		{ "retries", required_argument, NULL, 'R' },
		{ "quarantine", required_argument, NULL, 'Q' },
		{ "quarantined", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *gcov_dir = getenv("VKCI_GCOV_DIR");
	const char *retries_s = getenv("VKCI_RETRIES"), *qfile = getenv("VKCI_QUARANTINE");
	struct retry_policy pol = { 0, 0, NULL, 0 };
	char gdir[PATH_MAX + 300];
	const char *kernel = getenv("VKCI_KERNEL"), *image = getenv("VKCI_IMAGE");
	const char *payload = getenv("VKCI_PAYLOAD"), *mem_s = NULL, *timeout_s = NULL;
	const char *log_dir = getenv("VKCI_LOG_DIR"), *run_dir = getenv("VKCI_RUNDIR");
	const char *extra[33], *env_extra = getenv("VKCI_KERNEL_ARGS");
	char kabs[PATH_MAX], iabs[PATH_MAX], pabs[PATH_MAX], rdir[PATH_MAX], ldir[PATH_MAX];
	char name[256], src[PATH_MAX], *extra_copy = NULL;
	struct instance_config cfg;
	struct test_meta meta;
	long boot_timeout = DEFAULT_BOOT_TIMEOUT;
	int nextra = 0, c, rc, scenario;

	memset(&cfg, 0, sizeof(cfg));
	cfg.keep = env_or("VKCI_KEEP", "0")[0] == '1';
	if (!kernel || !*kernel) {
		const char *k = getenv("KERNEL");
		struct stat st;

		if (k && *k && stat(k, &st) == 0 && S_ISREG(st.st_mode))
			kernel = k;
	}
	if (env_extra && *env_extra) {
		char *save = NULL, *w;

		extra_copy = strdup(env_extra);
		for (w = extra_copy ? strtok_r(extra_copy, " \t", &save) : NULL; w && nextra < 32;
		     w = strtok_r(NULL, " \t", &save))
			extra[nextra++] = w;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "+k:i:p:m:t:b:l:r:a:g:R:Q:Kvh", opts, NULL)) != -1) {
		switch (c) {
		case 'R': retries_s = optarg; break;
		case 'Q': qfile = optarg; break;
		case 'q': pol.quarantined = 1; pol.why = "--quarantined"; break;
		case 'g': gcov_dir = optarg; break;
		case 'k': kernel = optarg; break;
		case 'i': image = optarg; break;
		case 'p': payload = optarg; break;
		case 'm': mem_s = optarg; break;
		case 't': timeout_s = optarg; break;
		case 'b':
			if ((boot_timeout = parse_uint(optarg, 86400)) <= 0) {
				error("bad --boot-timeout '%s' (seconds)", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'l': log_dir = optarg; break;
		case 'r': run_dir = optarg; break;
		case 'a':
			if (nextra >= 32) {
				error("too many --append arguments (at most 32)");
				return EXIT_USAGE;
			}
			extra[nextra++] = optarg;
			break;
		case 'K': cfg.keep = 1; break;
		case 'v': diag_verbosity++; break;
		case 'h': exec_usage(); return EXIT_PASS;
		default: exec_usage(); return EXIT_USAGE;
		}
	}
	if (kunit_quiet_arg(extra, &nextra, 32) < 0)   /* kunit.enable=0 unless -a kunit.* (kunit.h) */
		return EXIT_USAGE;
	extra[nextra] = NULL;
	if (optind >= argc) {
		error("no test given");
		exec_usage();
		return EXIT_USAGE;
	}
	if (test_name(argv[optind], name, sizeof(name), src, sizeof(src)) < 0)
		return EXIT_USAGE;
	if (kunit_member(name, src, sizeof(src)) < 0)   /* kunit/SUITE: to ci/kunit.py (kunit.h) */
		return EXIT_USAGE;
	optind++;
	if (optind < argc && !strcmp(argv[optind], "--"))
		optind++;
	cfg.test_args = (const char *const *)argv + optind;
	if (retries_s && *retries_s && (pol.retries = (int)parse_uint(retries_s, RETRY_MAX)) < 0) {
		error("bad retry count '%s' (0..%d; RETRIES=/VKCI_RETRIES/--retries)", retries_s, RETRY_MAX);
		return EXIT_USAGE;
	}
	if (!pol.quarantined && qfile && *qfile) {
		int listed = quarantine_listed(qfile, name);

		if (listed < 0)
			return EXIT_USAGE;
		pol.quarantined = listed;
		pol.why = qfile;
	}

	/* metadata from the source, then the command line and environment */
	meta_init(&meta);
	scenario = src[0] && strlen(src) > 3 && !strcmp(src + strlen(src) - 3, ".py");
	if (src[0] && !scenario && meta_load(&meta, src) < 0)
		return EXIT_USAGE;
	/* tests without a source (kselftest programs): a generated metadata file */
	if (!src[0] && meta_lookup(&meta, getenv("VKCI_TEST_META"), name) < 0)
		return EXIT_USAGE;
	if (meta.xfail[0] && !pol.quarantined)
		pol.quarantined = pol.expected = 1, pol.why = meta.xfail;
	if (!mem_s && meta.mem < 0)
		mem_s = getenv("VKCI_MEM");
	if (!timeout_s && meta.timeout_s < 0)
		timeout_s = getenv("VKCI_TIMEOUT");
	cfg.mem = mem_s && *mem_s ? parse_size(mem_s) : meta.mem >= 0 ? meta.mem : DEFAULT_MEM;
	if (cfg.mem < (16LL << 20)) {
		error("bad memory size '%s' (e.g. 128M, at least 16M)", mem_s ? mem_s : "");
		return EXIT_USAGE;
	}
	cfg.timeout_s = timeout_s && *timeout_s ? parse_uint(timeout_s, 86400) :
			meta.timeout_s > 0 ? meta.timeout_s : DEFAULT_TIMEOUT;
	if (cfg.timeout_s <= 0) {
		error("bad timeout '%s' (seconds, 1..86400)", timeout_s ? timeout_s : "");
		return EXIT_USAGE;
	}
	cfg.nodes = meta.nodes > 0 ? meta.nodes : 1;
	cfg.scratch = meta.scratch > 0 ? meta.scratch : 0;

	if (need_file("kernel", kernel, "set VKCI_KERNEL or --kernel to a vkernel binary", 1,
		      kabs, sizeof(kabs)) < 0 ||
	    need_file("image", image, "run 'make image' or set VKCI_IMAGE", 0, iabs, sizeof(iabs)) < 0 ||
	    (payload && *payload &&
	     need_file("payload", payload, "run 'make payload' or set VKCI_PAYLOAD", 0, pabs,
		       sizeof(pabs)) < 0)) {
		free(extra_copy);
		return EXIT_USAGE;
	}
	/* kernel options the test declares it needs: a kernel built without
	 * them (known from the .config beside a vkci-built binary) skips it */
	if (meta.nconfig > 0) {
		char cpath[PATH_MAX + 16], *slash, *kcfg;
		size_t klen;
		const char *missing;

		if (fmt(cpath, sizeof(cpath), "%s", kabs) > 0 && (slash = strrchr(cpath, '/')) &&
		    fmt(slash + 1, sizeof(cpath) - (size_t)(slash + 1 - cpath), ".config") > 0 &&
		    access(cpath, R_OK) == 0 && (kcfg = read_file(cpath, 16u << 20, &klen))) {
			missing = meta_missing_config(&meta, kcfg);
			if (missing) {
				char line[256];

				fmt(line, sizeof(line), "1..0 # SKIP the kernel lacks CONFIG_%s (add CONFIG_%s=y "
				    "to a config fragment)\n", missing, missing);
				write_str(1, line);
				free(kcfg);
				free(extra_copy);
				return EXIT_PASS;
			}
			free(kcfg);
		}
	}
	if (instance_run_dir(run_dir, rdir, sizeof(rdir)) < 0) {
		free(extra_copy);
		return EXIT_INFRA;
	}
	if (log_dir && *log_dir) {
		if (mkdir_p(log_dir, 0755) < 0 || abspath(log_dir, ldir, sizeof(ldir)) < 0) {
			error_errno("cannot create log dir '%s' (check VKCI_LOG_DIR/--log-dir)", log_dir);
			free(extra_copy);
			return EXIT_USAGE;
		}
		cfg.log_dir = ldir;
	}
	if (gcov_dir && *gcov_dir) {
		char groot[PATH_MAX];

		if (mkdir_p(gcov_dir, 0755) < 0 || abspath(gcov_dir, groot, sizeof(groot)) < 0 ||
		    fmt(gdir, sizeof(gdir), "%s/%s", groot, name) < 0) {
			error_errno("cannot create coverage dir '%s' (check VKCI_GCOV_DIR/--gcov-dir)", gcov_dir);
			free(extra_copy);
			return EXIT_USAGE;
		}
		cfg.gcov_dir = gdir;
	}
	if (scenario) {
		rc = run_scenario(src, name, kabs, iabs, payload && *payload ? pabs : NULL, rdir,
				  cfg.log_dir, cfg.timeout_s, cfg.test_args);
		free(extra_copy);
		return rc;
	}
	cfg.kernel = kabs;
	cfg.image = iabs;
	cfg.payload = payload && *payload ? pabs : NULL;
	cfg.test = name;
	cfg.extra = extra;
	cfg.boot_timeout_s = boot_timeout;
	cfg.grace_ms = DEFAULT_GRACE_MS;
	cfg.run_dir = rdir;
	cfg.max_log = DEFAULT_MAX_LOG;
	cfg.fetch_limits = getenv("VKCI_FETCH_LIMITS");
	{
		struct xfer_limits lim;

		if (xfer_parse_limits(cfg.fetch_limits, &lim) < 0) {
			free(extra_copy);
			return EXIT_USAGE;
		}
	}
	rc = retry_run(&cfg, &pol, emit_stdout, NULL);
	free(extra_copy);
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
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "image", required_argument, NULL, 'i' },
		{ "payload", required_argument, NULL, 'p' },
		{ "mem", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 't' },
		{ "append", required_argument, NULL, 'a' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "keep", no_argument, NULL, 'K' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char usage[] =
		"usage: vkci boot [-k KERNEL] [-i IMAGE] [-p PAYLOAD] [-m MEM] [-t SECS] [-a ARG]... [-K]\n"
		"  a root shell in a throwaway instance (same kernel, image and payload as the\n"
		"  tests, payload on /payload); exit the shell to tear it down\n";
	const char *kernel = getenv("VKCI_KERNEL"), *image = getenv("VKCI_IMAGE");
	const char *payload = getenv("VKCI_PAYLOAD"), *run_dir = getenv("VKCI_RUNDIR");
	const char *mem_s = "128M", *extra[33];
	char kabs[PATH_MAX], iabs[PATH_MAX], pabs[PATH_MAX], rdir[PATH_MAX];
	struct instance_config cfg;
	long timeout = 3600;
	int nextra = 0, c, rc;

	memset(&cfg, 0, sizeof(cfg));
	optind = 1;
	while ((c = getopt_long(argc, argv, "k:i:p:m:t:a:r:Kvh", opts, NULL)) != -1) {
		switch (c) {
		case 'k': kernel = optarg; break;
		case 'i': image = optarg; break;
		case 'p': payload = optarg; break;
		case 'm': mem_s = optarg; break;
		case 't':
			if ((timeout = parse_uint(optarg, 7 * 86400)) <= 0) {
				error("bad --timeout '%s' (seconds)", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'a':
			if (nextra >= 32) {
				error("too many --append arguments (at most 32)");
				return EXIT_USAGE;
			}
			extra[nextra++] = optarg;
			break;
		case 'r': run_dir = optarg; break;
		case 'K': cfg.keep = 1; break;
		case 'v': diag_verbosity++; break;
		case 'h': write_str(1, usage); return EXIT_PASS;
		default: write_str(2, usage); return EXIT_USAGE;
		}
	}
	if (kunit_quiet_arg(extra, &nextra, 32) < 0)   /* kunit.enable=0 unless -a kunit.* (kunit.h) */
		return EXIT_USAGE;
	extra[nextra] = NULL;
	if (optind != argc) {
		write_str(2, usage);
		return EXIT_USAGE;
	}
	if ((cfg.mem = parse_size(mem_s)) < (16LL << 20)) {
		error("bad memory size '%s' (e.g. 128M, at least 16M)", mem_s);
		return EXIT_USAGE;
	}
	if (need_file("kernel", kernel, "set VKCI_KERNEL or --kernel to a vkernel binary", 1,
		      kabs, sizeof(kabs)) < 0 ||
	    need_file("image", image, "run 'make image' or set VKCI_IMAGE", 0, iabs, sizeof(iabs)) < 0 ||
	    (payload && *payload &&
	     need_file("payload", payload, "run 'make payload' or set VKCI_PAYLOAD", 0, pabs,
		       sizeof(pabs)) < 0))
		return EXIT_USAGE;
	if (instance_run_dir(run_dir, rdir, sizeof(rdir)) < 0)
		return EXIT_INFRA;
	cfg.kernel = kabs;
	cfg.image = iabs;
	cfg.payload = payload && *payload ? pabs : NULL;
	cfg.test = "boot/shell";
	cfg.extra = extra;
	cfg.nodes = 1;
	cfg.timeout_s = timeout;
	cfg.boot_timeout_s = DEFAULT_BOOT_TIMEOUT;
	cfg.grace_ms = DEFAULT_GRACE_MS;
	cfg.run_dir = rdir;
	cfg.max_log = DEFAULT_MAX_LOG;
	cfg.interactive = 1;
	cfg.on_interrupt = restore_tty;
	if (isatty(0) && tcgetattr(0, &saved_tty) == 0) {
		struct termios raw = saved_tty;

		cfmakeraw(&raw);   /* the guest's line discipline does echo and CRLF */
		if (tcsetattr(0, TCSAFLUSH, &raw) == 0)
			tty_raw = 1;
	}
	rc = instance_run(&cfg, discard, NULL);
	restore_tty();
	if (rc == EXIT_INFRA)
		error("the instance could not start a shell (run with -v; logs were in the kept instance dir)");
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
	static const struct option opts[] = {
		{ "console", required_argument, NULL, 'c' },
		{ "kernel-status", required_argument, NULL, 's' },
		{ "host-timeout", required_argument, NULL, 'T' },
		{ "fetch-dir", required_argument, NULL, 'f' },
		{ "fetch-limits", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char usage[] =
		"usage: vkci parse [--console LOG] [--kernel-status exit:N|signal:N]\n"
		"                  [--host-timeout boot|test|shutdown[:SECS]]\n"
		"                  [--fetch-dir DIR] [--fetch-limits FILE:TOTAL:FILES] SERIAL-LOG\n"
		"  transferred files (F records) are checked; with --fetch-dir they are\n"
		"  rebuilt under DIR (created if missing)\n";
	const char *console_path = NULL, *status = NULL, *tmo = NULL;
	const char *fetch_dir = NULL, *fetch_limits = getenv("VKCI_FETCH_LIMITS");
	struct xfer_rx rx;
	struct host_facts host;
	struct console_state con;
	struct serial_parser sp;
	struct verdict v;
	char *data;
	size_t len;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:s:T:f:L:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': fetch_dir = optarg; break;
		case 'L': fetch_limits = optarg; break;
		case 'c': console_path = optarg; break;
		case 's': status = optarg; break;
		case 'T': tmo = optarg; break;
		case 'h': write_str(1, usage); return EXIT_PASS;
		default: write_str(2, usage); return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		write_str(2, usage);
		return EXIT_USAGE;
	}
	memset(&host, 0, sizeof(host));
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
	data = read_file(argv[optind], 1u << 30, &len);
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

static void build_usage(void)
{
	write_str(2, "usage: vkci build [-c FRAGMENT]... [-C CACHE] [-V VARIANT] [-j N] [-f] SOURCE_TREE\n"
		     "  builds a UML vkernel out of tree (ARCH=um defconfig + the fragments), cached in\n"
		     "  CACHE/kernels/ (default $VKCI_CACHE or ~/.cache/vkci), and prints its path.\n"
		     "  -c/--config FRAG   a kernel config fragment (repeatable; also VKCI_KCONFIG=a,b)\n"
		     "  -f/--force         run kbuild even if nothing changed\n"
		     "  -V/--variant NAME  a variant with its own cache KEY; 'coverage': UML's gcc\n"
		     "                     coverage (add harness/coverage.config), checked by one boot\n"
		     "exit status: 0 built or up to date, 2 not a usable source tree, 3 infrastructure,\n"
		     "  4 tree not clean, 5 config fragment problem, 6 tool missing, 7 disk full,\n"
		     "  8 compile error, 9 coverage variant writes no .gcda at power-off\n");
}

static int add_fragment(struct build_opts *o, const char *frag)
{
	if (o->nfrags >= BUILD_MAX_FRAGS)
		return error("too many kernel config fragments (at most %d)", BUILD_MAX_FRAGS);
	o->frags[o->nfrags++] = frag;
	return 0;
}

static int cmd_build(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "cache", required_argument, NULL, 'C' },
		{ "variant", required_argument, NULL, 'V' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "force", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct build_opts o;
	char out[4096], *env_frags = NULL, *save = NULL, *w;
	const char *ef = getenv("VKCI_KCONFIG");
	int c, r;

	memset(&o, 0, sizeof(o));
	o.variant = "";
	if (ef && *ef) {
		env_frags = strdup(ef);
		for (w = env_frags ? strtok_r(env_frags, ", \t", &save) : NULL; w; w = strtok_r(NULL, ", \t", &save))
			if (add_fragment(&o, w) < 0) {
				free(env_frags);
				return EXIT_USAGE;
			}
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "+c:C:V:j:fvh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (add_fragment(&o, optarg) < 0) {
				free(env_frags);
				return EXIT_USAGE;
			}
			break;
		case 'C': o.cache = optarg; break;
		case 'V': o.variant = optarg; break;
		case 'j':
			if ((o.jobs = (int)parse_uint(optarg, 1024)) <= 0) {
				error("bad --jobs '%s' (a number of parallel jobs)", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'f': o.force = 1; break;
		case 'v': diag_verbosity++; break;
		case 'h': build_usage(); return EXIT_PASS;
		default: build_usage(); return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		error(optind >= argc ? "no kernel source tree given" : "more than one kernel source tree given");
		build_usage();
		return EXIT_USAGE;
	}
	o.src = argv[optind];
	r = build_kernel(&o, out, sizeof(out));
	free(env_frags);
	if (r == 0) {
		write_str(1, out);
		write_str(1, "\n");
	}
	return r;
}

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	write_str(1, "vkci " VKCI_VERSION "\n");
	return EXIT_PASS;
}

static int cmd_help(int argc, char **argv);

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "build", cmd_build, "build a UML vkernel from a Linux source tree (cached), print its path" },
	{ "exec", cmd_exec, "boot one throwaway vkernel for one test, print its TAP" },
	{ "boot", cmd_boot, "a shell in a throwaway instance (same kernel, image, payload)" },
	{ "parse", cmd_parse, "re-read a saved serial transcript (+ console log), print the verdict" },
	{ "crash", cmd_crash, "whether and how the kernel crashed in console logs, as JSON (kunit.h)" },
	{ "version", cmd_version, "print the version" },
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
