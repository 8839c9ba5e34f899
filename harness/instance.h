/* instance.h - throwaway vkernels running one test.
 *
 * instance_run() owns the whole life of a test's instance: it makes a
 * private instance dir (0700), starts the test's network when it has
 * several nodes and each node's vkernel through the backend (backend.h),
 * each in its own process group with the console and the record stream on
 * the backend's channels, runs the only poll loop of vkci over them (signals
 * arrive as an fd, platform.h; deadlines are monotonic, one per node),
 * feeds each record stream and console to their parsers, and tears
 * everything down. The TAP verdict goes out through `emit` (node 0's TAP,
 * then one line per other node); what happened is returned in a struct
 * vkci_result (result.h), which the caller writes; the return value is the
 * exit status.
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

#include "backend.h"
#include "result.h"
#include "verdict.h"

#define INSTANCE_MAX_NODES 16

struct instance_config {
	const struct backend *backend;
	const char *kernel;          /* vkernel (absolute path) */
	const char *image;           /* base root image (absolute path) */
	const char *payload;         /* payload disk (absolute path) or NULL */
	long nodes;                  /* vkernels on one network (1: no network but lo) */
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
	const char *script;          /* a console scenario's path (scenario.h), else NULL */
	const char *self;            /* vkci's own path (for scenarios), or NULL */
	const char *gcov_dir;        /* coverage: each node's .gcda tree (written at exit under
	                              * GCOV_PREFIX, or fetched over the serial line) is moved
	                              * here (node K > 0: into nodeK/); NULL: none */
};

/* Run the test once; res (result_init'ed by the caller) gets what happened. */
int instance_run(const struct instance_config *cfg, verdict_emit emit, void *ctx,
		 struct vkci_result *res);

/* Make (if needed) and check the root of instance dirs: owned by us, 0700,
 * not a symlink. Writes the chosen path into buf. */
int instance_run_dir(const char *wanted, char *buf, size_t size);

#endif
