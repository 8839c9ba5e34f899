/* instance.h - throwaway vkernels running one test.
 *
 * instance_run() owns the whole life of a test's instance: it makes a
 * private instance dir (0700), starts the vkernel (or, for a multi-node
 * test, a uml_switch on a unix socket in the instance dir and N vkernels on
 * it) each in its own process group with the console and serial line on
 * pipes, runs the only poll loop of vkci (signals arrive as a signalfd,
 * deadlines are monotonic, one per node), feeds each serial stream and
 * console to its parsers, and tears everything down. The TAP verdict goes
 * out through `emit` (node 0's TAP, then one line per other node); the
 * return value is the exit status.
 *
 * States of each node and their deadlines (`expire()` in instance.c):
 *   BOOTING   until the agent's hello          boot_timeout_s
 *   RUNNING   until the test's exit record      timeout_s + slack
 *   STOPPING  until the vkernel exits           shutdown allowance
 *   TERM      after SIGTERM to the group        grace_ms, then SIGKILL
 *   KILL      after SIGKILL to the group        a few seconds, then give up
 *   DRAINING  vkernel reaped, reading the pipes to EOF
 *   DONE
 * On SIGINT/SIGTERM/SIGHUP (or the death of vkci's parent, which arrives as
 * SIGTERM) the group is killed, reaped, the instance dir removed and the
 * signal re-raised. */
#ifndef VKCI_INSTANCE_H
#define VKCI_INSTANCE_H

#include <stddef.h>

#include "verdict.h"

#define INSTANCE_MAX_NODES 16

struct instance_config {
	const char *kernel;          /* vkernel binary (absolute path) */
	const char *image;           /* base root image (absolute path) */
	const char *payload;         /* payload disk (absolute path) or NULL */
	long nodes;                  /* vkernels on one switch (1: no network but lo) */
	long long scratch;           /* bytes of sparse scratch disk per node, 0 for none */
	const char *test;            /* test name in the payload: "vm/mmap_anon" */
	const char *const *test_args;/* NULL-terminated, may be NULL */
	const char *const *extra;    /* extra kernel arguments, may be NULL */
	long long mem;               /* bytes */
	long timeout_s;              /* guest-side test timeout */
	long boot_timeout_s;         /* host: hello must come within this */
	long grace_ms;               /* SIGTERM -> SIGKILL */
	const char *run_dir;         /* parent of instance dirs */
	const char *log_dir;         /* per-test logs go to LOG_DIR/<test>/, or NULL */
	int keep;                    /* keep the instance dir even when the test passed */
	int interactive;             /* vkci boot: stdin/stdout <-> the guest's shell */
	void (*on_interrupt)(void);  /* called before vkci re-raises a fatal signal */
	size_t max_log;              /* cap per log file, bytes */
	const char *fetch_limits;    /* file transfer limits "FILE:TOTAL:FILES" (transfer.h), NULL: defaults */
	int attempt;                 /* vkci exec --retries: this attempt, from 1 (0: no retries) */
	const char *attempts_json;   /* the earlier attempts, JSON objects separated by commas,
	                              * copied into result.json ("attempts"), or NULL */
	int quarantined;             /* the test is on the known-flaky list (result.json) */
	const char *gcov_dir;        /* coverage kernels: each node's .gcda tree (written at
	                              * power-off under GCOV_PREFIX in its instance dir) is
	                              * moved here (node K > 0: into nodeK/); NULL: none */
};

int instance_run(const struct instance_config *cfg, verdict_emit emit, void *ctx);

/* Make (if needed) and check the root of instance dirs: owned by us, 0700,
 * not a symlink. Writes the chosen path into buf. */
int instance_run_dir(const char *wanted, char *buf, size_t size);

#endif
