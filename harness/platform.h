/* platform.h - the host's system-specific calls, behind one small API.
 *
 * Linux (the default): signalfd, inotify, prctl (child subreaper, parent-
 * death signal), close_range and /proc. The POSIX fallback (built with
 * -DVKCI_POSIX, `make PLATFORM=posix`; CI runs the harness tests with it)
 * is what a BSD host gets until it has its own: a self-pipe for signals, a
 * bounded poll for a path to appear, closing fds one by one, no /proc, and
 * no subreaper (a process that leaves its vkernel's process group is not
 * vkci's to find: every process group vkci started is still killed).
 * DragonFly's procctl(PROC_REAP_ACQUIRE) would give a real subreaper; see
 * ci/README.md for what a DragonFly port still needs. */
#ifndef VKCI_PLATFORM_H
#define VKCI_PLATFORM_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

/* The name of the implementation built in: "linux" or "posix". */
extern const char plat_name[];

/* Signals as an fd, for one poll loop: the signals in sigs (0-terminated)
 * stop being delivered asynchronously and make the returned fd readable
 * (close-on-exec, non-blocking). -1 after reporting. Only one such fd at a
 * time. */
int plat_signals_open(const int *sigs);
/* The next signal that arrived (consumed), or 0 if none is pending. */
int plat_signals_next(int fd);
/* Back to the dispositions and mask from before open; closes fd. */
void plat_signals_close(int fd);

/* Wait until `path` exists (it is created in directory `dir`), at most
 * timeout_ms. 0 when it exists, -1 otherwise (errno ETIMEDOUT or another). */
int plat_wait_for_path(const char *dir, const char *path, int timeout_ms);

/* Make this process the reaper of its orphaned descendants and ask for
 * SIGTERM when its parent dies, where the system can. */
void plat_supervise(void);
/* In a child between fork and exec (async-signal-safe only): be killed when
 * the parent dies, and make every fd from 3 up close-on-exec. */
void plat_child_setup(void);
/* The pids of this process's children (orphans reparented to it
 * included), at most max. -1 when the system cannot tell. */
int plat_children(pid_t *out, int max);
/* This program's own path (for handing it to a child). 0 or -1. argv0
 * NULL: the one main() gave plat_remember_argv0() (where /proc is missing). */
int plat_self_exe(const char *argv0, char *buf, size_t size);
void plat_remember_argv0(const char *argv0);
/* What an open fd refers to, for the leak check's message. */
void plat_fd_describe(int fd, char *buf, size_t size);
/* When process pid started (clock ticks since boot) and whether it is a
 * zombie: tells a live owner from another process that got its pid. 0 when
 * unknown (gone, or a system without /proc: then only kill(pid, 0) tells). */
unsigned long long plat_proc_start(long pid, int *zombie);
/* An id of this boot ("-" when unknown): what was written before a reboot
 * is stale. */
void plat_boot_id(char *buf, size_t size);

#endif
