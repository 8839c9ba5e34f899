#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "platform.h"
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
	plat_child_setup();
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
	    (!c->keep_stderr && dup2(c->out_fd >= 0 ? c->out_fd : devnull, 2) < 0))
		goto fail;
	if (c->fd3 >= 0 && (dup2(c->fd3, 3) < 0 || fcntl(3, F_SETFD, 0) < 0))
		goto fail;
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

void proc_child_init(struct child *c, const char *const *argv)
{
	memset(c, 0, sizeof(*c));
	c->argv = argv;
	c->out_fd = -1;
	c->fd3 = -1;
}

int proc_run(struct child *c, struct proc_io *io)
{
	int out[2] = { -1, -1 }, aux[2] = { -1, -1 }, status = -1, killed = 0;
	long long tick = now_ms() + 1000;
	char buf[8192];

	if (pipe2(out, O_CLOEXEC) < 0 || (io->on_aux && pipe2(aux, O_CLOEXEC) < 0)) {
		error_errno("cannot create pipes");
		goto out;
	}
	c->out_fd = out[1];
	c->fd3 = aux[1];
	if (proc_spawn(c) < 0)
		goto out;
	close(out[1]);
	out[1] = -1;
	if (aux[1] >= 0)
		close(aux[1]);
	aux[1] = -1;
	io->interrupted = io->timed_out = 0;
	while (out[0] >= 0 || aux[0] >= 0) {
		struct pollfd p[3];
		int n = 0, i, timeout = -1;
		long long now = now_ms();

		p[n++] = (struct pollfd){ .fd = io->sig_fd, .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = out[0], .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = aux[0], .events = POLLIN };
		if (io->on_tick)
			timeout = tick > now ? (int)(tick - now) : 0;
		if (io->deadline && !killed) {
			long long left = io->deadline > now ? io->deadline - now : 0;

			if (timeout < 0 || left < timeout)
				timeout = (int)(left > 1000000 ? 1000000 : left);
		}
		if (poll(p, (nfds_t)n, timeout) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN) {
			int sig = plat_signals_next(io->sig_fd);

			if (sig && sig != SIGCHLD && !io->interrupted) {
				io->interrupted = sig;
				proc_kill_group(c->pid, SIGTERM);
			}
		}
		for (i = 1; i < 3; i++) {
			int *fd = i == 1 ? &out[0] : &aux[0];
			ssize_t r;

			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = xread(*fd, buf, sizeof(buf));
			if (r > 0 && i == 1 && io->on_output)
				io->on_output(io->ctx, buf, (size_t)r);
			else if (r > 0 && i == 2)
				io->on_aux(io->ctx, buf, (size_t)r);
			else if (r <= 0) {
				close(*fd);
				*fd = -1;
			}
		}
		now = now_ms();
		if (io->deadline && !killed && now >= io->deadline) {
			io->timed_out = 1;
			killed = 1;
			proc_kill_group(c->pid, SIGKILL);
		}
		if (io->on_tick && now >= tick) {
			io->on_tick(io->ctx);
			tick = now + 1000;
		}
	}
	while (waitpid(c->pid, &status, 0) < 0)
		if (errno != EINTR) {
			status = -1;
			break;
		}
out:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (aux[i] >= 0)
			close(aux[i]);
	}
	return status;
}

int proc_kill_group(pid_t pgid, int sig)
{
	if (pgid <= 1)
		return -1;  /* never signal "every process" or init */
	if (kill(-pgid, sig) < 0 && errno != ESRCH)
		return error_errno("cannot signal process group %d", (int)pgid);
	return 0;
}

void proc_become_supervisor(void)
{
	plat_supervise();
}

int proc_kill_all_children(int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	int killed = 0;

	for (;;) {
		pid_t kids[256];
		int n = plat_children(kids, 256), i, st;

		for (i = 0; i < n; i++) {
			/* its group first (a child spawned by proc_spawn leads one) */
			if (kill(-kids[i], SIGKILL) < 0)
				kill(kids[i], SIGKILL);
			killed++;
		}
		while (waitpid(-1, &st, WNOHANG) > 0)
			;
		if (n <= 0) {
			/* none listed (or the system cannot list them: the process
			 * groups vkci started were killed by the caller): done when
			 * nothing is left to reap */
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

/* VKCI_CHECK_FDS=1 (the soak test): after teardown vkci must hold no fd it
 * did not hold at the start. */
static unsigned char fds_at_start[1024];

void proc_fds_note(void)
{
	int fd;

	for (fd = 0; fd < 1024; fd++)
		fds_at_start[fd] = fcntl(fd, F_GETFD) >= 0;
}

int proc_fds_leaked(void)
{
	char target[PATH_MAX];
	int fd, leaked = 0;

	for (fd = 3; fd < 1024; fd++) {
		if (fds_at_start[fd] || fcntl(fd, F_GETFD) < 0)
			continue;
		plat_fd_describe(fd, target, sizeof(target));
		error("leaked fd %d ('%s') after the instance was torn down", fd, target);
		leaked++;
	}
	return leaked;
}
