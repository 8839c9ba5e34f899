/* platform.c - the host's system-specific calls (see platform.h): Linux,
 * and a POSIX fallback under -DVKCI_POSIX. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifndef VKCI_POSIX
#include <linux/close_range.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#endif

#include "diag.h"
#include "platform.h"
#include "util.h"
#include "banned.h"

static const char *remembered_argv0;

void plat_remember_argv0(const char *argv0)
{
	remembered_argv0 = argv0;
}

static int fill_set(const int *sigs, sigset_t *set)
{
	int i;

	sigemptyset(set);
	for (i = 0; sigs[i]; i++)
		sigaddset(set, sigs[i]);
	return i;
}

#ifndef VKCI_POSIX

const char plat_name[] = "linux";
static sigset_t saved_mask;

int plat_signals_open(const int *sigs)
{
	sigset_t set;
	int fd;

	fill_set(sigs, &set);
	if (sigprocmask(SIG_BLOCK, &set, &saved_mask) < 0)
		return error_errno("cannot block signals");
	fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0) {
		sigprocmask(SIG_SETMASK, &saved_mask, NULL);
		return error_errno("cannot create signalfd");
	}
	return fd;
}

int plat_signals_next(int fd)
{
	struct signalfd_siginfo si;

	return xread(fd, &si, sizeof(si)) == (ssize_t)sizeof(si) ? (int)si.ssi_signo : 0;
}

void plat_signals_close(int fd)
{
	if (fd >= 0)
		close(fd);
	sigprocmask(SIG_SETMASK, &saved_mask, NULL);
}

int plat_wait_for_path(const char *dir, const char *path, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	struct stat st;
	int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK), found;

	if (in < 0 || inotify_add_watch(in, dir, IN_CREATE | IN_MOVED_TO) < 0) {
		if (in >= 0)
			close(in);
		return -1;
	}
	while (!(found = stat(path, &st) == 0)) {
		struct pollfd p = { .fd = in, .events = POLLIN };
		long long left = deadline - now_ms();
		char buf[4096];

		if (left <= 0)
			break;
		if (poll(&p, 1, (int)left) > 0)
			while (xread(in, buf, sizeof(buf)) > 0)
				;
	}
	close(in);
	if (!found)
		errno = ETIMEDOUT;
	return found ? 0 : -1;
}

void plat_supervise(void)
{
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	/* the parent died before the death signal was asked for */
	if (getppid() == 1)
		raise(SIGTERM);
}

void plat_child_setup(void)
{
	int i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* fds vkci inherited without close-on-exec (a make jobserver, a shell's
	 * descriptors) must not reach the vkernel: only its channels do */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		for (i = 3; i < 1024; i++)
			fcntl(i, F_SETFD, FD_CLOEXEC);
}

int plat_children(pid_t *out, int max)
{
	char path[64], buf[4096];
	int fd, n = 0;
	ssize_t len;
	char *p, *end;

	if (fmt(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid()) < 0)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	len = xread(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len < 0)
		return -1;
	buf[len] = '\0';
	for (p = buf; n < max; p = end) {
		long v = strtol(p, &end, 10);

		if (end == p)
			break;
		if (v > 1)
			out[n++] = (pid_t)v;
	}
	return n;
}

int plat_self_exe(const char *argv0, char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);

	(void)argv0;
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

void plat_fd_describe(int fd, char *buf, size_t size)
{
	char path[64];
	ssize_t n;

	fmt(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, buf, size - 1);
	buf[n > 0 ? n : 0] = '\0';
}

/* The start time of process pid (clock ticks since boot, /proc/PID/stat's
 * field 22) and whether it is a zombie. 0 when the process is gone or /proc
 * is missing (then only kill(pid, 0) tells). */
unsigned long long plat_proc_start(long pid, int *zombie)
{
	char path[64], *buf, *p, *save = NULL, *tok;
	size_t len;
	unsigned long long start = 0;
	int field;

	*zombie = 0;
	if (fmt(path, sizeof(path), "/proc/%ld/stat", pid) < 0)
		return 0;
	{
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		char tmp[1024];
		ssize_t n;

		if (fd < 0)
			return 0;
		n = xread(fd, tmp, sizeof(tmp) - 1);
		close(fd);
		if (n <= 0)
			return 0;
		tmp[n] = '\0';
		len = (size_t)n;
		buf = strndup(tmp, len);
	}
	if (!buf)
		return 0;
	/* the command name may hold blanks and parentheses: skip to the last ')' */
	p = strrchr(buf, ')');
	for (field = 3, tok = p ? strtok_r(p + 1, " ", &save) : NULL; tok;
	     field++, tok = strtok_r(NULL, " ", &save)) {
		if (field == 3)
			*zombie = tok[0] == 'Z' || tok[0] == 'X';
		if (field == 22) {
			start = strtoull(tok, NULL, 10);
			break;
		}
	}
	free(buf);
	return start;
}

void plat_boot_id(char *buf, size_t size)
{
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? xread(fd, buf, size - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	if (!buf[0])
		fmt(buf, size, "-");
}

#else /* VKCI_POSIX */

const char plat_name[] = "posix";
static int self_pipe[2] = { -1, -1 };
static int caught[33];
static struct sigaction saved_act[33];
static sigset_t saved_mask;

static void on_signal(int sig)
{
	unsigned char b = (unsigned char)sig;
	int e = errno;

	if (write(self_pipe[1], &b, 1) < 0)
		(void)0;   /* full: the loop wakes up anyway */
	errno = e;
}

int plat_signals_open(const int *sigs)
{
	struct sigaction sa;
	sigset_t set;
	int i, n = fill_set(sigs, &set);

	if (pipe(self_pipe) < 0)
		return error_errno("cannot create a pipe for signals");
	for (i = 0; i < 2; i++) {
		set_cloexec(self_pipe[i]);
		set_nonblock(self_pipe[i]);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigfillset(&sa.sa_mask);
	for (i = 0; i < n; i++) {
		if (sigs[i] < 1 || sigs[i] > 32)
			continue;
		sigaction(sigs[i], &sa, &saved_act[sigs[i]]);
		caught[sigs[i]] = 1;
	}
	/* handlers in place: now the signals may come (they were maybe blocked) */
	sigprocmask(SIG_UNBLOCK, &set, &saved_mask);
	return self_pipe[0];
}

int plat_signals_next(int fd)
{
	unsigned char b;

	return xread(fd, &b, 1) == 1 ? b : 0;
}

void plat_signals_close(int fd)
{
	int i;

	(void)fd;
	for (i = 1; i <= 32; i++)
		if (caught[i]) {
			sigaction(i, &saved_act[i], NULL);
			caught[i] = 0;
		}
	sigprocmask(SIG_SETMASK, &saved_mask, NULL);
	for (i = 0; i < 2; i++)
		if (self_pipe[i] >= 0)
			close(self_pipe[i]);
	self_pipe[0] = self_pipe[1] = -1;
}

int plat_wait_for_path(const char *dir, const char *path, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	struct stat st;
	int step = 1;

	(void)dir;
	/* no change notification in POSIX: look again after a pause that
	 * doubles from 1 ms to 64 ms, within the deadline */
	while (stat(path, &st) < 0) {
		struct timespec ts;
		long long left = deadline - now_ms();

		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		ts.tv_sec = 0;
		ts.tv_nsec = (left < step ? left : step) * 1000000L;
		nanosleep(&ts, NULL);
		if (step < 64)
			step *= 2;
	}
	return 0;
}

void plat_supervise(void)
{
}

void plat_child_setup(void)
{
	long max = sysconf(_SC_OPEN_MAX);
	int i;

	if (max < 0 || max > 65536)
		max = 65536;
	for (i = 3; i < max; i++)
		fcntl(i, F_SETFD, FD_CLOEXEC);
}

int plat_children(pid_t *out, int max)
{
	(void)out;
	(void)max;
	return -1;
}

int plat_self_exe(const char *argv0, char *buf, size_t size)
{
	char found[PATH_MAX];

	if (!argv0)
		argv0 = remembered_argv0;
	if (!argv0 || !*argv0)
		return -1;
	if (!strchr(argv0, '/')) {
		if (find_in_path(argv0, found, sizeof(found)) < 0)
			return -1;
		argv0 = found;
	}
	return abspath(argv0, buf, size);
}

void plat_fd_describe(int fd, char *buf, size_t size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		fmt(buf, size, "?");
	else
		fmt(buf, size, "%s, inode %lu", S_ISSOCK(st.st_mode) ? "socket" : S_ISFIFO(st.st_mode) ?
		    "pipe" : S_ISREG(st.st_mode) ? "file" : "other", (unsigned long)st.st_ino);
}

unsigned long long plat_proc_start(long pid, int *zombie)
{
	(void)pid;
	*zombie = 0;
	return 0;   /* unknown: only kill(pid, 0) tells whether the owner lives */
}

void plat_boot_id(char *buf, size_t size)
{
	fmt(buf, size, "-");
}

#endif
