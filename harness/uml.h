/* uml.h - everything specific to the User-Mode Linux backend: the vkernel's
 * argv and kernel command line. A DragonFly vkernel backend would sit beside
 * this file with the same struct boot_params. */
#ifndef VKCI_UML_H
#define VKCI_UML_H

#include <stddef.h>

#define BOOT_MAX_ARGS 64        /* argv entries */
#define BOOT_ARGV_BYTES 8192    /* all argv strings together */
#define BOOT_CMDLINE_MAX 4000   /* UML's COMMAND_LINE_SIZE is 4096 */

struct boot_params {
	const char *kernel;      /* vkernel binary */
	const char *image;       /* read-only base root image (backing file) */
	const char *cow;         /* per-instance copy-on-write file (created by UML) */
	const char *payload;     /* read-only payload disk, or NULL */
	const char *scratch;     /* per-instance scratch disk (ubd2, /dev/ubdc), or NULL */
	const char *switch_sock; /* uml_switch control socket for eth0, or NULL */
	int node, nodes;         /* this vkernel's index among the test's nodes */
	int shell;               /* vkci boot: an interactive shell instead of a test */
	long long mem;           /* bytes */
	const char *inst_dir;    /* uml_dir: UML's umid directory goes here */
	int con_in, con_out;     /* console (kernel log) channel fds */
	int ser_in, ser_out;     /* serial line (ssl0 = guest /dev/ttyS0) fds */
	const char *test;        /* test name in the payload, e.g. "vm/mmap_anon" */
	long timeout_s;          /* guest-side test timeout */
	const char *const *test_args;  /* arguments for the test, NULL-terminated */
	const char *const *extra;      /* extra kernel arguments, NULL-terminated */
};

struct boot_argv {
	const char *argv[BOOT_MAX_ARGS + 1];
	int argc;
	char store[BOOT_ARGV_BYTES];
	size_t used;
};

/* Fill out->argv. Returns 0, or -1 after reporting what was wrong (a path
 * with a comma, an argument too long, ...). */
int uml_build_argv(const struct boot_params *bp, struct boot_argv *out);

/* Percent-encode a test argument so it is one kernel-command-line word:
 * bytes outside [A-Za-z0-9._/=:+-] become %XX. Returns -1 if it does not fit. */
int cmdline_encode(const char *in, char *out, size_t size);
/* Inverse, used by the agent (and the tests). Returns -1 on bad escapes. */
int cmdline_decode(const char *in, char *out, size_t size);

#endif
