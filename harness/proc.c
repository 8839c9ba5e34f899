#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "proc.h"
#include "util.h"
#include "banned.h"

extern char **environ;

/* Only async-signal-safe calls between fork and exec. On failure write errno
 * to the report pipe and _exit. */
static void child_side(const struct child *c, int report_fd, char *const *envp)
{
	struct sigaction sa;
	struct rlimit nocore = { 0, 0 };
	sigset_t all;
	int devnull, i, err;

	if (setpgid(0, 0) < 0)
		goto fail;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (i = 1; i < NSIG; i++)
		sigaction(i, &sa, NULL);   /* EINVAL for KILL/STOP/RT internals is fine */
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	setrlimit(RLIMIT_CORE, &nocore);

	devnull = open("/dev/null", O_RDWR);
	if (devnull < 0)
		goto fail;
	if (dup2(devnull, 0) < 0)
		goto fail;
	if (dup2(c->out_fd >= 0 ? c->out_fd : devnull, 1) < 0 ||
	    dup2(c->out_fd >= 0 ? c->out_fd : devnull, 2) < 0)
		goto fail;
	/* fds vkci inherited without close-on-exec (a make jobserver, a shell's
	 * descriptors) must not reach the vkernel: only its channels do */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		for (i = 3; i < 1024; i++)
			fcntl(i, F_SETFD, FD_CLOEXEC);
	}
	for (i = 0; i < c->nkeep; i++) {
		int fl = fcntl(c->keep_fds[i], F_GETFD);

		if (fl < 0 || fcntl(c->keep_fds[i], F_SETFD, fl & ~FD_CLOEXEC) < 0)
			goto fail;
	}
	execve(c->argv[0], (char *const *)c->argv, envp);
fail:
	err = errno;
	while (write(report_fd, &err, sizeof(err)) < 0 && errno == EINTR)
		;
	_exit(127);
}

int proc_spawn(struct child *c)
{
	int report[2], err = 0, n_env = 0, n_extra = 0, i;
	char **envp;
	ssize_t n;
	pid_t pid;

	if (pipe2(report, O_CLOEXEC) < 0)
		return error_errno("cannot create pipe");
	/* build the environment before fork: no allocation in the child */
	while (environ[n_env])
		n_env++;
	while (c->env && c->env[n_extra])
		n_extra++;
	envp = calloc((size_t)n_env + n_extra + 1, sizeof(*envp));
	if (!envp) {
		close(report[0]);
		close(report[1]);
		return error("out of memory");
	}
	for (i = 0; i < n_extra; i++)
		envp[i] = (char *)c->env[i];
	for (i = 0; i < n_env; i++)
		envp[n_extra + i] = environ[i];

	pid = fork();
	if (pid < 0) {
		free(envp);
		close(report[0]);
		close(report[1]);
		return error_errno("cannot fork");
	}
	if (pid == 0)
		child_side(c, report[1], envp);
	free(envp);
	close(report[1]);
	/* also set the group from the parent side: no race with kill() */
	setpgid(pid, pid);
	n = xread(report[0], &err, sizeof(err));
	close(report[0]);
	if (n == (ssize_t)sizeof(err)) {
		int st;

		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		errno = err;
		return error_errno("cannot run '%s'", c->argv[0]);
	}
	c->pid = pid;
	return 0;
}

int proc_kill_group(pid_t pgid, int sig)
{
	if (pgid <= 1)
		return -1;  /* never signal "every process" or init */
	if (kill(-pgid, sig) < 0 && errno != ESRCH)
		return error_errno("cannot signal process group %d", (int)pgid);
	return 0;
}

static void parent_died_check(void)
{
	/* if the parent died before PR_SET_PDEATHSIG took effect */
	if (getppid() == 1)
		raise(SIGTERM);
}

void proc_become_supervisor(void)
{
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	parent_died_check();
}

/* Children of this process, from /proc/self/task/<tid>/children. */
static int list_children(pid_t *out, int max)
{
	char path[64], buf[4096];
	int fd, n = 0;
	ssize_t len;
	char *p, *end;

	if (fmt(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid()) < 0)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	len = xread(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return 0;
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

int proc_kill_all_children(int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	int killed = 0;

	for (;;) {
		pid_t kids[256];
		int n = list_children(kids, 256), i, st;

		for (i = 0; i < n; i++) {
			/* its group first (a child spawned by proc_spawn leads one) */
			if (kill(-kids[i], SIGKILL) < 0)
				kill(kids[i], SIGKILL);
			killed++;
		}
		while (waitpid(-1, &st, WNOHANG) > 0)
			;
		if (n == 0) {
			/* zombies are not listed as children once reaped; done */
			if (waitpid(-1, &st, WNOHANG) < 0 && errno == ECHILD)
				break;
		}
		if (now_ms() > deadline)
			break;
		{
			struct timespec ts = { 0, 5 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
	}
	return killed;
}

int proc_exec_replace(const char *const *argv)
{
	execv(argv[0], (char *const *)argv);
	return error_errno("cannot run '%s'", argv[0]);
}
