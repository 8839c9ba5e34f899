/* vkci-init: the guest agent, PID 1 of every vkci instance.
 *
 * main() is the list of its steps: mount what tests need, open the record
 * channel named on the kernel command line (vkci.serial=), put it in raw
 * mode, greet the host, take the per-boot key and the job (the test, its
 * arguments and timeout, this node's place in the network) from the host,
 * mount the payload disk (vkci.payload=), run the test in its own session
 * with a timeout, relay its stdout/stderr as records, report how it ended,
 * reap everything, send the files under vkci.fetch=DIR (if given), sync and
 * power off. PID 1 never exits: if power-off fails it waits forever and the
 * host's deadline ends it.
 *
 * The job comes over the serial line, not the kernel command line, so an
 * instance restored from a snapshot of a booted, waiting agent runs its own
 * test. SIGCHLD reaches the poll loop through a self-pipe (portable: no
 * signalfd). The system set-up (mounts, network) is system.c's; what is
 * Linux-only here (ptrace, power-off) is marked. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#ifdef __linux__
#include <sys/ptrace.h>
#endif
#include <sys/reboot.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

#define DRAIN_MS 2000

static struct termios serial_cooked;   /* the line's settings before raw mode */
static int ack_wanted;                 /* vkci.ack=1: power off only after the host's A */
static int chld_pipe[2] = { -1, -1 };  /* SIGCHLD self-pipe */

/* ---- steps ------------------------------------------------------------- */

static int open_serial(const char *dev)
{
	struct termios t;

	agent_serial = open(dev, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (agent_serial < 0)
		return -1;
	if (tcgetattr(agent_serial, &t) == 0) {
		serial_cooked = t;
		cfmakeraw(&t);
		tcsetattr(agent_serial, TCSANOW, &t);
	}
	return 0;
}

/* ---- the test ------------------------------------------------------------ */

static void on_sigchld(int sig)
{
	int e = errno;

	(void)sig;
	if (write(chld_pipe[1], "c", 1) < 0)
		(void)0;   /* full: a wake-up is pending anyway */
	errno = e;
}

static int setup_sigchld(void)
{
	struct sigaction sa;

	if (pipe(chld_pipe) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		fcntl(chld_pipe[i], F_SETFD, FD_CLOEXEC);
		fcntl(chld_pipe[i], F_SETFL, O_NONBLOCK);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigchld;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGCHLD, &sa, NULL);
}

static void drain_chld_pipe(void)
{
	char buf[64];

	while (read(chld_pipe[0], buf, sizeof(buf)) > 0)
		;
}

struct stream {
	int fd;
	char tag_full, tag_part;
	char buf[PROTO_OUT_CHUNK];
	size_t len;
};

static void relay(struct stream *s)
{
	char tmp[8192];
	ssize_t n = read(s->fd, tmp, sizeof(tmp));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		if (s->len)
			send_record(s->tag_full, s->buf, s->len);
		s->len = 0;
		close(s->fd);
		s->fd = -1;
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (tmp[i] == '\n') {
			send_record(s->tag_full, s->buf, s->len);
			s->len = 0;
			continue;
		}
		if (s->len == PROTO_OUT_CHUNK) {
			send_record(s->tag_part, s->buf, s->len);
			s->len = 0;
		}
		s->buf[s->len++] = tmp[i];
	}
}

/* The child's side: a clean signal state, its own session. */
static void child_setup(void)
{
	sigset_t none;

	setsid();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
}

/* The host learns that the test was exec'd (record S). On Linux the test
 * is held at its first instruction until S has left the serial line
 * (PTRACE_TRACEME: a traced process stops with SIGTRAP after a successful
 * execve, and the agent detaches it after tcdrain), so nothing the test does
 * (a panic, killing the agent) can reach the host before S. *early is the
 * wait status of a test that died before it was released (an OOM kill), or
 * -1. Elsewhere S follows the exec, as the protocol allows. */
static void announce(const struct job *j, pid_t pid, int *early)
{
	*early = -1;
#ifdef __linux__
	int st;
	pid_t w;

	while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	send_control('S', "%s", j->test);
	tcdrain(agent_serial);
	if (w == pid && WIFSTOPPED(st))
		ptrace(PTRACE_DETACH, pid, NULL, NULL);
	else if (w == pid)
		*early = st;
#else
	(void)pid;
	send_control('S', "%s", j->test);
#endif
}

/* Start the test in its own session; report exec failure through a pipe
 * (errno, or -errno when the test could not be held for announce()). */
static pid_t start_test(struct job *j, char *path, int out, int errfd, char *err, size_t size)
{
	int report[2], e = 0;
	pid_t pid;

	if (pipe2(report, O_CLOEXEC) < 0) {
		snprintf(err, size, "pipe: %s", strerror(errno));
		return -1;
	}
	j->argv[0] = path;
	snprintf(j->env[0], sizeof(j->env[0]), "VKCI_TEST=%s", j->test);
	snprintf(j->env[1], sizeof(j->env[1]), "VKCI_NODE=%ld", j->node);
	snprintf(j->env[2], sizeof(j->env[2]), "VKCI_NODES=%ld", j->nodes);
	snprintf(j->env[3], sizeof(j->env[3]), "VKCI_SCRATCH=%s", j->scratch);
	pid = fork();
	if (pid < 0) {
		snprintf(err, size, "fork: %s", strerror(errno));
		close(report[0]);
		close(report[1]);
		return -1;
	}
	if (pid == 0) {
		char *envp[] = {
			"PATH=/bin:/sbin:/usr/bin:/usr/sbin", "HOME=/tmp", "TERM=dumb", "LC_ALL=C",
			j->env[0], j->env[1], j->env[2], j->scratch[0] ? j->env[3] : NULL, NULL,
		};
		int null = open("/dev/null", O_RDONLY);

		child_setup();
		if (null >= 0)
			dup2(null, 0);
		dup2(out, 1);
		dup2(errfd, 2);
		if (chdir("/tmp") < 0)
			(void)0;
#ifdef __linux__
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0) {
			e = -errno;
			write_all(report[1], (const char *)&e, sizeof(e));
			_exit(127);
		}
#endif
		execve(path, j->argv, envp);
		e = errno;
		write_all(report[1], (const char *)&e, sizeof(e));
		_exit(127);
	}
	close(report[1]);
	if (read(report[0], &e, sizeof(e)) == (ssize_t)sizeof(e)) {
		close(report[0]);
		waitpid(pid, NULL, 0);
		if (e < 0)
			snprintf(err, size, "cannot hold the test for its start record: ptrace: %s",
				 strerror(-e));
		else
			snprintf(err, size, "cannot execute '%s': %s", path, strerror(e));
		return -1;
	}
	close(report[0]);
	return pid;
}

/* Relay output until the test ends or times out; returns its wait status,
 * or -1 on timeout. SIGCHLD arrives on the self-pipe, so one poll() waits
 * for all. */
static int supervise(pid_t pid, int early, struct stream *out, struct stream *errs,
		     long timeout_s)
{
	long long deadline = now_ms() + timeout_s * 1000, drain = -1;
	int status = 0, exited = 0, timed_out = 0;

	if (early != -1) {      /* reaped by announce(): relay what is left */
		status = early;
		exited = 1;
		kill(-pid, SIGKILL);
		drain = now_ms() + DRAIN_MS;
	}

	while (out->fd >= 0 || errs->fd >= 0 || !exited) {
		struct pollfd p[3];
		int n = 0;
		long long stop = drain >= 0 ? drain : deadline, left = stop - now_ms();
		pid_t w;

		p[n++] = (struct pollfd){ .fd = chld_pipe[0], .events = POLLIN };
		if (out->fd >= 0)
			p[n++] = (struct pollfd){ .fd = out->fd, .events = POLLIN };
		if (errs->fd >= 0)
			p[n++] = (struct pollfd){ .fd = errs->fd, .events = POLLIN };
		if (poll(p, (nfds_t)n, left < 0 ? 0 : left > 1000000 ? 1000000 : (int)left) > 0) {
			if (p[0].revents)
				drain_chld_pipe();
			for (int i = 1; i < n; i++)
				if (p[i].revents)
					relay(p[i].fd == out->fd ? out : errs);
		}
		while (!exited && (w = waitpid(-1, &status, WNOHANG)) > 0) {
			if (w == pid) {
				exited = 1;
				/* anything the test left behind goes with it */
				kill(-pid, SIGKILL);
				drain = now_ms() + DRAIN_MS;
			}
		}
		if (now_ms() >= stop) {
			if (drain >= 0)
				break;  /* something outside the group holds the pipes */
			timed_out = 1;
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			exited = 1;
			drain = now_ms() + DRAIN_MS;
		}
	}
	return timed_out ? -1 : status;
}

/* vkci boot: a login-less interactive shell on the serial line, which is
 * its controlling terminal, in cooked mode. The session ends when the shell
 * exits or after the timeout; then the line goes raw again for the records. */
static int run_shell(const struct job *j)
{
	long long deadline = now_ms() + j->timeout_s * 1000;
	int status = 0;
	pid_t pid;

	send_control('S', "shell");
	tcdrain(agent_serial);
	tcsetattr(agent_serial, TCSANOW, &serial_cooked);
	pid = fork();
	if (pid == 0) {
		static char *const envp[] = {
			"PATH=/bin:/sbin:/usr/bin:/usr/sbin", "HOME=/root", "TERM=vt100",
			"PS1=vkci# ", "LC_ALL=C", NULL,
		};
		int tty;

		child_setup();
		tty = open(j->serial, O_RDWR);
		if (tty < 0 || ioctl(tty, TIOCSCTTY, 0) < 0)
			_exit(126);
		dup2(tty, 0);
		dup2(tty, 1);
		dup2(tty, 2);
		if (chdir("/root") < 0)
			(void)0;
		execle("/bin/sh", "sh", "-i", (char *)NULL, envp);
		_exit(127);
	}
	for (;;) {
		struct pollfd p = { .fd = chld_pipe[0], .events = POLLIN };
		long long left = deadline - now_ms();

		if (pid < 0 || waitpid(pid, &status, WNOHANG) == pid)
			break;
		if (left <= 0) {
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			status = -1;
			break;
		}
		if (poll(&p, 1, left > 1000000 ? 1000000 : (int)left) > 0)
			drain_chld_pipe();
	}
	/* the session leader's exit hung the line up: our old descriptor now
	 * fails with EIO, so open the line afresh (raw again) for the records */
	close(agent_serial);
	if (open_serial(j->serial) < 0)
		kmsg("vkci-init: cannot reopen the serial line after the shell\n");
	write_all(agent_serial, "\n", 1);
	return pid < 0 ? 127 << 8 : status;
}

static void report_end(int status, long timeout_s)
{
	if (status < 0)
		send_control('X', "timeout %ld", timeout_s);
	else if (WIFSIGNALED(status))
		send_control('X', "signal %d", WTERMSIG(status));
	else
		send_control('X', "exit %d", WEXITSTATUS(status));
}

static void reap_everything(void)
{
	kill(-1, SIGKILL);  /* every process but PID 1 */
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
}

static _Noreturn void power_off(void)
{
	sync();
	send_control('D', NULL);
	if (agent_serial >= 0)
		tcdrain(agent_serial);
	if (ack_wanted && agent_serial >= 0)
		await_ack();
#ifdef __linux__
	reboot(RB_POWER_OFF);
#else
	reboot(RB_HALT | RB_POWEROFF);
#endif
	kmsg("vkci-init: power off failed\n");
	for (;;)
		pause();
}

static _Noreturn void fail(const char *msg)
{
	char line[600];

	snprintf(line, sizeof(line), "vkci-init: %s\n", msg);
	kmsg(line);
	send_control('!', "%s", msg);
	reap_everything();
	power_off();
}

int main(void)
{
	static struct job job;
	struct stream out = { .tag_full = 'O', .tag_part = 'o' };
	struct stream errs = { .tag_full = 'E', .tag_part = 'e' };
	char err[512], path[300], cmdline_err[512] = "";
	int po[2], pe[2], early;
	pid_t pid;

	if (getpid() != 1) {
		fprintf(stderr, "vkci-init: must run as PID 1 of a vkci guest\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (mount_all(err, sizeof(err)) < 0) {
		open_serial(DEFAULT_SERIAL);
		fail(err);
	}
	if (read_cmdline(&job, cmdline_err, sizeof(cmdline_err)) < 0)
		snprintf(job.serial, sizeof(job.serial), "%s", DEFAULT_SERIAL);
	if (open_serial(job.serial) < 0) {
		snprintf(err, sizeof(err), "vkci-init: cannot open the serial line '%s' (vkci.serial=)\n",
			 job.serial);
		kmsg(err);
		power_off();
	}
	send_record('V', "vkci-agent 1", 12);
	if (cmdline_err[0])
		fail(cmdline_err);
	if (setup_sigchld() < 0)
		fail("cannot set up SIGCHLD");
	if (receive_job(&job, err, sizeof(err)) < 0)
		fail(err);
	ack_wanted = (int)job.ack;
	fresh_state(&job);
	if (mount_payload(&job, err, sizeof(err)) < 0 || network(&job, err, sizeof(err)) < 0)
		fail(err);
	if (job.shell) {
		report_end(run_shell(&job), job.timeout_s);
		reap_everything();
		power_off();
	}
	snprintf(path, sizeof(path), "/payload/%s", job.test);
	if (access(path, F_OK) < 0) {
		snprintf(err, sizeof(err), "test '%s' not found in the payload (rebuild it: make payload)",
			 job.test);
		fail(err);
	}
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0)
		fail("cannot create pipes");
	pid = start_test(&job, path, po[1], pe[1], err, sizeof(err));
	close(po[1]);
	close(pe[1]);
	if (pid < 0)
		fail(err);
	announce(&job, pid, &early);
	out.fd = po[0];
	errs.fd = pe[0];
	report_end(supervise(pid, early, &out, &errs, job.timeout_s), job.timeout_s);
	reap_everything();
	if (job.fetch[0])
		send_tree(job.fetch);
	power_off();
}

