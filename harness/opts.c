/* opts.c - the shared options of exec, boot and parse (see opts.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "instdir.h"
#include "opts.h"
#include "rundir.h"
#include "util.h"
#include "banned.h"

enum { ALL = CMD_EXEC | CMD_BOOT, XP = CMD_EXEC | CMD_PARSE };

static const struct opt {
	int key;               /* short letter, or a value >= 256 for long-only */
	const char *name;
	int arg;               /* takes an argument */
	unsigned cmds;
	const char *env;       /* environment default, or NULL */
	const char *help;
} table[] = {
	{ 'k', "kernel", 1, ALL, "VKCI_KERNEL", "vkernel binary or image" },
	{ 'i', "image", 1, ALL, "VKCI_IMAGE", "base root image" },
	{ 'p', "payload", 1, ALL, "VKCI_PAYLOAD", "payload disk (mounted on /payload)" },
	{ 'B', "backend", 1, ALL, "VKCI_BACKEND", "uml or qemu (default: from the kernel file)" },
	{ 'm', "mem", 1, ALL, "VKCI_MEM", "guest memory, e.g. 128M (default 128M)" },
	{ 't', "timeout", 1, ALL, "VKCI_TIMEOUT", "test (or shell) timeout, seconds (default 60; boot 3600)" },
	{ 'b', "boot-timeout", 1, CMD_EXEC, NULL, "the agent must say hello within (default 30)" },
	{ 'l', "log-dir", 1, CMD_EXEC, "VKCI_LOG_DIR", "keep console/serial logs and result.json in DIR/SUITE/NAME/" },
	{ 'r', "run-dir", 1, ALL, "VKCI_RUNDIR", "parent of instance dirs" },
	{ 'a', "append", 1, ALL, NULL, "extra kernel argument, repeatable (VKCI_KERNEL_ARGS)" },
	{ 'K', "keep", 0, ALL, NULL, "keep the instance dir even if the test passed (VKCI_KEEP=1)" },
	{ 'g', "gcov-dir", 1, CMD_EXEC, "VKCI_GCOV_DIR", "coverage kernels: keep the coverage data in DIR/SUITE/TEST" },
	{ 'R', "retries", 1, CMD_EXEC, "VKCI_RETRIES", "re-run a failed test up to N times in fresh instances" },
	{ 'Q', "quarantine", 1, CMD_EXEC, "VKCI_QUARANTINE", "known-flaky list: a listed test's failure is a TAP TODO" },
	{ 'q', "quarantined", 0, CMD_EXEC, NULL, "treat this test as listed" },
	{ 'C', "check", 0, CMD_EXEC, NULL, "check the run's settings (retries, known-flaky list, limits), no TEST" },
	{ 'c', "console", 1, CMD_PARSE, NULL, "the saved console log" },
	{ 's', "kernel-status", 1, CMD_PARSE, NULL, "exit:N or signal:N (result.json's)" },
	{ 'T', "host-timeout", 1, CMD_PARSE, NULL, "boot|test|shutdown[:SECS]: which host deadline passed" },
	{ 'f', "fetch-dir", 1, CMD_PARSE, NULL, "rebuild transferred files under DIR" },
	{ 'L', "fetch-limits", 1, XP, "VKCI_FETCH_LIMITS", "file transfer limits FILE:TOTAL:FILES (64M:256M:65536)" },
	{ 'v', "verbose", 0, ALL | CMD_PARSE, NULL, "progress notes on stderr" },
	{ 'h', "help", 0, ALL | CMD_PARSE, NULL, "this help" },
};

static const char **slot(struct run_opts *o, int key)
{
	switch (key) {
	case 'k': return &o->kernel;
	case 'i': return &o->image;
	case 'p': return &o->payload;
	case 'B': return &o->backend;
	case 'm': return &o->mem;
	case 't': return &o->timeout;
	case 'l': return &o->log_dir;
	case 'r': return &o->run_dir;
	case 'g': return &o->gcov_dir;
	case 'R': return &o->retries;
	case 'Q': return &o->quarantine;
	case 'c': return &o->console;
	case 's': return &o->kernel_status;
	case 'T': return &o->host_timeout;
	case 'f': return &o->fetch_dir;
	case 'L': return &o->fetch_limits;
	}
	return NULL;
}

void opts_usage(int cmd, const char *usage_line, int fd)
{
	size_t i;

	write_str(fd, usage_line);
	for (i = 0; i < ARRAY_SIZE(table); i++) {
		const struct opt *t = &table[i];
		char line[300];

		if (!(t->cmds & cmd))
			continue;
		fmt(line, sizeof(line), "  -%c, --%-14s %s%s%s%s\n", t->key, t->arg ? t->name : t->name,
		    t->help, t->env ? " (" : "", t->env ? t->env : "", t->env ? ")" : "");
		write_str(fd, line);
	}
	write_str(fd, "exit status: 0 passed or skipped, 1 failed, 2 usage, 3 infrastructure\n");
}

static int add_extra(struct run_opts *o, const char *w)
{
	if (o->nextra >= OPTS_MAX_EXTRA)
		return error("too many --append arguments (at most %d)", OPTS_MAX_EXTRA);
	o->extra[o->nextra++] = w;
	o->extra[o->nextra] = NULL;
	return 0;
}

int opts_parse(int cmd, const char *usage_line, int argc, char **argv, struct run_opts *o)
{
	struct option lopts[ARRAY_SIZE(table) + 1];
	char shorts[2 * ARRAY_SIZE(table) + 2];
	const char *e;
	size_t i, n = 0, s = 0;
	int c;

	memset(o, 0, sizeof(*o));
	o->boot_timeout = 30;
	shorts[s++] = '+';   /* stop at the first operand: the test's own arguments follow */
	for (i = 0; i < ARRAY_SIZE(table); i++) {
		const struct opt *t = &table[i];
		const char **v = slot(o, t->key);

		if (!(t->cmds & cmd))
			continue;
		if (v && t->env && (e = getenv(t->env)) && *e)
			*v = e;
		lopts[n++] = (struct option){ t->name, t->arg ? required_argument : no_argument, NULL, t->key };
		shorts[s++] = (char)t->key;
		if (t->arg)
			shorts[s++] = ':';
	}
	lopts[n] = (struct option){ NULL, 0, NULL, 0 };
	shorts[s] = '\0';
	if (cmd != CMD_PARSE) {
		o->keep = (e = getenv("VKCI_KEEP")) && e[0] == '1';
		if ((e = getenv("VKCI_KERNEL_ARGS")) && *e && (o->env_extra = strdup(e))) {
			char *save = NULL, *w;

			for (w = strtok_r(o->env_extra, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
				if (add_extra(o, w) < 0)
					return -1;
		}
		/* a make run's KERNEL= naming a vkernel file stands in for VKCI_KERNEL */
		if (!o->kernel && (e = getenv("KERNEL")) && *e) {
			struct stat st;

			if (stat(e, &st) == 0 && S_ISREG(st.st_mode))
				o->kernel = e;
		}
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, shorts, lopts, NULL)) != -1) {
		const char **v = slot(o, c);

		if (v) {
			*v = optarg;
			continue;
		}
		switch (c) {
		case 'b':
			if ((o->boot_timeout = parse_uint(optarg, 86400)) <= 0) {
				error("bad --boot-timeout '%s' (seconds)", optarg);
				return -1;
			}
			break;
		case 'a':
			if (add_extra(o, optarg) < 0)
				return -1;
			break;
		case 'K': o->keep = 1; break;
		case 'q': o->quarantined = 1; break;
		case 'C': o->check = 1; break;
		case 'v': diag_verbosity++; break;
		case 'h': o->help = 1; opts_usage(cmd, usage_line, 1); return argc;
		default: opts_usage(cmd, usage_line, 2); return -1;
		}
	}
	return optind;
}

void opts_free(struct run_opts *o)
{
	free(o->env_extra);
	o->env_extra = NULL;
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

int opts_resolve(const struct run_opts *o, struct run_files *f)
{
	memset(f, 0, sizeof(*f));
	if (o->backend && *o->backend && !(f->backend = backend_by_name(o->backend)))
		return EXIT_USAGE;
	if (need_file("kernel", o->kernel, "set VKCI_KERNEL or --kernel to a vkernel", 0,
		      f->kernel, sizeof(f->kernel)) < 0)
		return EXIT_USAGE;
	if (!f->backend && !(f->backend = backend_for_kernel(f->kernel)))
		return EXIT_USAGE;
	if (backend_mismatch(f->backend, f->kernel))
		return EXIT_USAGE;
	/* UML's vkernel is a program; a QEMU kernel image need only be readable */
	if (f->backend->kernel_is_program && access(f->kernel, X_OK) < 0)
		return error_errno("cannot execute kernel '%s' (set VKCI_KERNEL or --kernel to a vkernel "
				   "binary)", f->kernel), EXIT_USAGE;
	if (need_file("image", o->image, "run 'make image' or set VKCI_IMAGE", 0, f->image,
		      sizeof(f->image)) < 0 ||
	    (o->payload && *o->payload &&
	     need_file("payload", o->payload, "run 'make payload' or set VKCI_PAYLOAD", 0, f->payload,
		       sizeof(f->payload)) < 0))
		return EXIT_USAGE;
	f->have_payload = o->payload && *o->payload;
	if (o->log_dir && *o->log_dir) {
		if (mkdir_p(o->log_dir, 0755) < 0 || abspath(o->log_dir, f->log_dir, sizeof(f->log_dir)) < 0)
			return error_errno("cannot create log dir '%s' (check VKCI_LOG_DIR/--log-dir)",
					   o->log_dir), EXIT_USAGE;
		f->have_log_dir = 1;
	}
	if (instance_run_dir(o->run_dir, f->run_dir, sizeof(f->run_dir)) < 0)
		return EXIT_INFRA;
	if (rundir_sweep_env(f->run_dir) < 0)   /* dirs of dead vkci processes, the keep policy */
		return EXIT_USAGE;
	return EXIT_PASS;
}
