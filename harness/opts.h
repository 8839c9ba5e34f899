/* opts.h - the options `vkci exec`, `vkci boot` and `vkci parse` share, in
 * one table: each option's letter, long name, environment default, the
 * commands that take it and its help line. One parser fills a struct
 * run_opts; one function turns it into what an instance needs (files
 * checked, backend chosen, run dir made). */
#ifndef VKCI_OPTS_H
#define VKCI_OPTS_H

#include <limits.h>

#include "backend.h"

enum { CMD_EXEC = 1, CMD_BOOT = 2, CMD_PARSE = 4 };

#define OPTS_MAX_EXTRA 32

struct run_opts {
	const char *kernel, *image, *payload, *mem, *timeout, *log_dir, *run_dir;
	const char *backend, *gcov_dir, *retries, *quarantine;
	const char *console, *kernel_status, *host_timeout, *fetch_dir, *fetch_limits;
	const char *extra[OPTS_MAX_EXTRA + 1];
	int nextra;
	long boot_timeout;
	int keep, quarantined, help, check;
	char *env_extra;      /* VKCI_KERNEL_ARGS, split in place (owned) */
};

/* Parse argv for command cmd (CMD_*): environment defaults first, then the
 * options, stopping at the first operand. Returns the index of the first
 * operand, or -1 after reporting a usage error (the usage was printed). */
int opts_parse(int cmd, const char *usage_line, int argc, char **argv, struct run_opts *o);
void opts_usage(int cmd, const char *usage_line, int fd);
void opts_free(struct run_opts *o);

/* The files and settings an instance needs, checked and made absolute. */
struct run_files {
	char kernel[PATH_MAX], image[PATH_MAX], payload[PATH_MAX], run_dir[PATH_MAX];
	char log_dir[PATH_MAX];
	int have_payload, have_log_dir;
	const struct backend *backend;
};
/* EXIT_PASS, or EXIT_USAGE / EXIT_INFRA after reporting. */
int opts_resolve(const struct run_opts *o, struct run_files *f);

#endif
