/* proc.h - the only module that forks, execs, signals and reaps.
 *
 * A spawned child gets: its own process group, stdin from /dev/null, stdout
 * and stderr onto `out_fd` (or /dev/null), a clean signal mask and default
 * dispositions, PR_SET_PDEATHSIG(SIGKILL), no core dumps, and exactly the fds
 * in keep_fds inherited (every other fd of vkci is close-on-exec). exec
 * failure is reported to the parent through a close-on-exec pipe. */
#ifndef VKCI_PROC_H
#define VKCI_PROC_H

#include <sys/types.h>

#define PROC_MAX_KEEP 16

struct child {
	const char *const *argv;  /* argv[0] is the program path; owned by the caller */
	int out_fd;               /* child's stdout+stderr, or -1 for /dev/null */
	int keep_stderr;          /* stderr stays vkci's (out_fd takes stdout only) */
	int fd3;                  /* becomes the child's fd 3 when >= 0 (set to -1 otherwise!) */
	int keep_fds[PROC_MAX_KEEP]; /* fds (by number) the child inherits */
	int nkeep;
	const char *const *env;   /* extra "NAME=value" entries, NULL-terminated, or NULL */
	pid_t pid;                /* set by proc_spawn; also the process group id */
};

/* Returns 0, or -1 after reporting (exec failure is reported with errno).
 * A zeroed struct child must get fd3 = -1 (proc_child_init does). */
int proc_spawn(struct child *c);
void proc_child_init(struct child *c, const char *const *argv);

/* proc_run(): a child whose output vkci reads until it ends. */
struct proc_io {
	void (*on_output)(void *ctx, const char *buf, size_t len);  /* its stdout (+stderr) */
	void (*on_aux)(void *ctx, const char *buf, size_t len);     /* its fd 3, or NULL: none */
	void *ctx;
	int sig_fd;              /* plat_signals_open()'s fd, or -1: a signal SIGTERMs the child */
	long long deadline;      /* now_ms() after which its group is SIGKILLed; 0: none */
	void (*on_tick)(void *ctx);  /* about once a second, or NULL */
	int interrupted;         /* out: the signal that arrived, or 0 */
	int timed_out;           /* out: the deadline passed */
};
/* Spawn c (its out_fd and fd3 are set here) and relay its output until it
 * has exited and its pipes are at EOF. Returns its wait status, or -1
 * after reporting. */
int proc_run(struct child *c, struct proc_io *io);
/* Signal the whole process group; ESRCH is not an error. */
int proc_kill_group(pid_t pgid, int sig);
/* Make vkci the reaper of orphaned descendants (PR_SET_CHILD_SUBREAPER) and
 * ask for SIGTERM when our parent dies. */
void proc_become_supervisor(void);
/* SIGKILL every remaining child of vkci (including orphans re-parented to
 * us) and reap them, waiting at most timeout_ms. Returns how many were killed. */
int proc_kill_all_children(int timeout_ms);
/* Replace vkci by argv (vkci exec of a console scenario hands over to the
 * interpreter: same pid, so prove's signals and pipes reach it). Only
 * returns on failure, -1 after reporting. */
int proc_exec_replace(const char *const *argv);

/* The leak check (VKCI_CHECK_FDS=1): note the fds open now; later, report
 * each fd open then that was not before, and return their count. */
void proc_fds_note(void);
int proc_fds_leaked(void);

#endif
