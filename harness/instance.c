#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diag.h"
#include "instance.h"
#include "proc.h"
#include "uml.h"
#include "util.h"
#include "banned.h"

enum state { ST_BOOTING, ST_RUNNING, ST_STOPPING, ST_TERM, ST_KILL, ST_DRAINING, ST_DONE };

#define RUN_SLACK_MS 10000      /* host deadline beyond the guest's own timeout */
#define SHUTDOWN_MS 10000       /* sync + power-off after the test ended */
#define KILL_WAIT_MS 5000       /* SIGKILL to reaped */
#define DRAIN_MS 1000           /* pipes to EOF after the vkernel exited */

struct instance {
	const struct instance_config *cfg;
	char dir[PATH_MAX], cow[PATH_MAX + 8];
	char console_path[PATH_MAX + 16], serial_path[PATH_MAX + 16];
	char notes[3][PATH_MAX + 32];

	int con_r, ser_r, ser_w, con_in_w, sig_fd;
	int con_log, ser_log;
	size_t con_logged, ser_logged;
	int con_trunc, ser_trunc;

	pid_t pid;
	int reaped, status;
	enum state state;
	long long deadline;
	char token[SERIAL_TOKEN_LEN + 1];

	struct serial_parser sp;
	struct console_state con;
	struct verdict v;
	struct host_facts host;
	int interrupted;   /* signal number that interrupted vkci, or 0 */
};

static const char *const state_names[] = {
	"booting", "running", "stopping", "terminating", "killing", "draining", "done",
};

static void set_state(struct instance *in, enum state s, long long ms)
{
	if (in->state != s)
		note("instance %s: %s -> %s", in->cfg->test, state_names[in->state], state_names[s]);
	in->state = s;
	in->deadline = ms >= 0 ? now_ms() + ms : -1;
}

int instance_run_dir(const char *wanted, char *buf, size_t size)
{
	struct stat st;
	const char *x = getenv("XDG_RUNTIME_DIR"), *tmp = getenv("TMPDIR");
	int r;

	if (wanted && *wanted)
		r = fmt(buf, size, "%s", wanted);
	else if (x && *x && strlen(x) < 40)
		r = fmt(buf, size, "%s/vkci", x);
	else
		r = fmt(buf, size, "%s/vkci-%u", tmp && *tmp && strlen(tmp) < 40 ? tmp : "/tmp",
			(unsigned)getuid());
	if (r < 0)
		return error("run dir path too long");
	if (mkdir_p(buf, 0700) < 0)
		return error_errno("cannot create run dir '%s' (set VKCI_RUNDIR)", buf);
	if (lstat(buf, &st) < 0)
		return error_errno("cannot stat run dir '%s'", buf);
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid())
		return error("run dir '%s' is not a directory owned by you (set VKCI_RUNDIR)", buf);
	if ((st.st_mode & 077) && chmod(buf, 0700) < 0)
		return error_errno("cannot make run dir '%s' private", buf);
	return 0;
}

static int make_dirs(struct instance *in)
{
	const struct instance_config *c = in->cfg;
	char name[96], logdir[PATH_MAX];
	size_t i;

	for (i = 0; c->test[i] && i < 60; i++)
		name[i] = (c->test[i] == '/' || c->test[i] == '.') ? '_' : c->test[i];
	name[i] = '\0';
	if (fmt(in->dir, sizeof(in->dir), "%s/%s.XXXXXX", c->run_dir, name) < 0)
		return error("instance dir path too long");
	if (!mkdtemp(in->dir))
		return error_errno("cannot create instance dir under '%s'", c->run_dir);
	if (fmt(in->cow, sizeof(in->cow), "%s/root.cow", in->dir) < 0)
		return error("path too long");
	if (c->log_dir) {
		if (fmt(logdir, sizeof(logdir), "%s/%s", c->log_dir, c->test) < 0)
			return error("log dir path too long");
		if (mkdir_p(logdir, 0755) < 0)
			return error_errno("cannot create log dir '%s' (check --log-dir)", logdir);
	} else if (fmt(logdir, sizeof(logdir), "%s", in->dir) < 0) {
		return error("path too long");
	}
	if (fmt(in->console_path, sizeof(in->console_path), "%s/console.log", logdir) < 0 ||
	    fmt(in->serial_path, sizeof(in->serial_path), "%s/serial.log", logdir) < 0)
		return error("log path too long");
	in->con_log = open(in->console_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (in->con_log < 0)
		return error_errno("cannot create '%s'", in->console_path);
	in->ser_log = open(in->serial_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (in->ser_log < 0)
		return error_errno("cannot create '%s'", in->serial_path);
	return 0;
}

static void log_bytes(struct instance *in, int fd, size_t *logged, int *trunc,
		      const char *buf, size_t n, const char *what)
{
	size_t room = in->cfg->max_log > *logged ? in->cfg->max_log - *logged : 0;

	if (n > room) {
		if (!*trunc) {
			char msg[128];
			int m = fmt(msg, sizeof(msg), "\n[vkci: %s log truncated at %zu bytes]\n",
				    what, in->cfg->max_log);

			*trunc = 1;
			write_all(fd, buf, room);
			if (m > 0)
				write_all(fd, msg, (size_t)m);
		}
		*logged += room;
		return;
	}
	if (write_all(fd, buf, n) < 0 && !*trunc) {
		warning("cannot write %s log: %s", what, strerror(errno));
		*trunc = 1;
	}
	*logged += n;
}

static void send_key(struct instance *in)
{
	unsigned char raw[SERIAL_TOKEN_LEN / 2];
	static const char hex[] = "0123456789abcdef";
	char line[SERIAL_TOKEN_LEN + 4];
	size_t i;

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		/* fall back to something unguessable enough from the guest */
		long long t = now_ms() ^ ((long long)getpid() << 20);

		memcpy(raw, &t, sizeof(raw) < sizeof(t) ? sizeof(raw) : sizeof(t));
	}
	for (i = 0; i < sizeof(raw); i++) {
		in->token[2 * i] = hex[raw[i] >> 4];
		in->token[2 * i + 1] = hex[raw[i] & 15];
	}
	in->token[SERIAL_TOKEN_LEN] = '\0';
	fmt(line, sizeof(line), "K %s\n", in->token);
	if (write_all(in->ser_w, line, strlen(line)) < 0)
		warning("cannot send key to '%s': %s", in->cfg->test, strerror(errno));
}

static void on_event(void *ctx, const struct serial_event *ev)
{
	struct instance *in = ctx;

	if (ev->type == SER_KEY && (ev->len != SERIAL_TOKEN_LEN ||
				    memcmp(ev->data, in->token, SERIAL_TOKEN_LEN))) {
		struct serial_event bad = *ev;

		bad.type = SER_GARBAGE;
		bad.why = "agent acknowledged the wrong key";
		verdict_event(&in->v, &bad);
		return;
	}
	verdict_event(&in->v, ev);
	switch (ev->type) {
	case SER_HELLO:
		if (in->state == ST_BOOTING) {
			send_key(in);
			set_state(in, ST_RUNNING, in->cfg->timeout_s * 1000 + RUN_SLACK_MS);
		}
		break;
	case SER_EXIT: case SER_SIGNAL: case SER_TIMEOUT: case SER_AGENT_ERROR:
		if (in->state == ST_RUNNING || in->state == ST_BOOTING)
			set_state(in, ST_STOPPING, SHUTDOWN_MS);
		break;
	default:
		break;
	}
}

static void start_kill(struct instance *in, int sig)
{
	in->host.killed_by_host = 1;
	proc_kill_group(in->pid, sig);
	if (sig == SIGKILL)
		set_state(in, ST_KILL, KILL_WAIT_MS);
	else
		set_state(in, ST_TERM, in->cfg->grace_ms);
}

/* A deadline passed: the per-state action. */
static void expire(struct instance *in)
{
	switch (in->state) {
	case ST_BOOTING:
		in->host.timeout = HOST_TIMEOUT_BOOT;
		in->host.timeout_s = in->cfg->boot_timeout_s;
		start_kill(in, SIGTERM);
		break;
	case ST_RUNNING:
		in->host.timeout = HOST_TIMEOUT_TEST;
		in->host.timeout_s = in->cfg->timeout_s + RUN_SLACK_MS / 1000;
		start_kill(in, SIGTERM);
		break;
	case ST_STOPPING:
		in->host.timeout = HOST_TIMEOUT_SHUTDOWN;
		in->host.timeout_s = SHUTDOWN_MS / 1000;
		start_kill(in, SIGTERM);
		break;
	case ST_TERM:
		start_kill(in, SIGKILL);
		break;
	case ST_KILL:
		fmt(in->host.infra_error, sizeof(in->host.infra_error),
		    "vkernel process %d survived SIGKILL for %d s", (int)in->pid, KILL_WAIT_MS / 1000);
		set_state(in, ST_DONE, -1);
		break;
	case ST_DRAINING:
		/* something still holds the pipes: kill the group, stop reading */
		proc_kill_group(in->pid, SIGKILL);
		set_state(in, ST_DONE, -1);
		break;
	case ST_DONE:
		break;
	}
}

static void reap(struct instance *in)
{
	int st;
	pid_t p;

	while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
		if (p == in->pid && !in->reaped) {
			in->reaped = 1;
			in->status = st;
			in->host.kernel_reaped = 1;
			in->host.kernel_status = st;
			if (WIFSIGNALED(st))
				note("vkernel %d died by signal %d", (int)p, WTERMSIG(st));
			else
				note("vkernel %d exited with %d", (int)p, WEXITSTATUS(st));
		}
	}
	if (in->reaped && in->state != ST_DRAINING && in->state != ST_DONE) {
		/* anything left in the group (UML helpers, a stray) goes now */
		proc_kill_group(in->pid, SIGKILL);
		set_state(in, ST_DRAINING, DRAIN_MS);
	}
}

static void read_pipe(struct instance *in, int *fd, int is_serial)
{
	char buf[65536];
	ssize_t n = xread(*fd, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		return;
	}
	if (is_serial) {
		log_bytes(in, in->ser_log, &in->ser_logged, &in->ser_trunc, buf, (size_t)n, "serial");
		serial_feed(&in->sp, buf, (size_t)n);
	} else {
		log_bytes(in, in->con_log, &in->con_logged, &in->con_trunc, buf, (size_t)n, "console");
		console_feed(&in->con, buf, (size_t)n);
	}
}

static int setup_signals(struct instance *in, sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, old) < 0)
		return error_errno("cannot block signals");
	in->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (in->sig_fd < 0)
		return error_errno("cannot create signalfd");
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void handle_signals(struct instance *in)
{
	struct signalfd_siginfo si;

	while (xread(in->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			continue;   /* reaped below */
		if (!in->interrupted)
			in->interrupted = (int)si.ssi_signo;
	}
}

static int spawn(struct instance *in)
{
	const struct instance_config *c = in->cfg;
	int con[2] = { -1, -1 }, con_in[2] = { -1, -1 }, ser[2] = { -1, -1 }, ser_in[2] = { -1, -1 };
	struct boot_params bp;
	struct boot_argv ba;
	struct child ch;
	int r = -1;

	if (pipe2(con, O_CLOEXEC) < 0 || pipe2(con_in, O_CLOEXEC) < 0 ||
	    pipe2(ser, O_CLOEXEC) < 0 || pipe2(ser_in, O_CLOEXEC) < 0) {
		error_errno("cannot create pipes");
		goto out;
	}
	memset(&bp, 0, sizeof(bp));
	bp.kernel = c->kernel;
	bp.image = c->image;
	bp.cow = in->cow;
	bp.payload = c->payload;
	bp.mem = c->mem;
	bp.inst_dir = in->dir;
	bp.con_in = con_in[0];
	bp.con_out = con[1];
	bp.ser_in = ser_in[0];
	bp.ser_out = ser[1];
	bp.test = c->test;
	bp.timeout_s = c->timeout_s;
	bp.test_args = c->test_args;
	bp.extra = c->extra;
	if (uml_build_argv(&bp, &ba) < 0)
		goto out;

	memset(&ch, 0, sizeof(ch));
	ch.argv = ba.argv;
	ch.out_fd = con[1];        /* UML's own stdout/stderr messages join the console log */
	ch.keep_fds[ch.nkeep++] = con_in[0];
	ch.keep_fds[ch.nkeep++] = con[1];
	ch.keep_fds[ch.nkeep++] = ser_in[0];
	ch.keep_fds[ch.nkeep++] = ser[1];
	if (proc_spawn(&ch) < 0)
		goto out;
	in->pid = ch.pid;
	in->con_r = con[0];
	in->ser_r = ser[0];
	in->ser_w = ser_in[1];
	in->con_in_w = con_in[1];
	con[0] = ser[0] = ser_in[1] = con_in[1] = -1;
	set_nonblock(in->con_r);
	set_nonblock(in->ser_r);
	set_nonblock(in->ser_w);
	r = 0;
out:
	/* the child's ends (and on failure, everything) */
	if (con[0] >= 0) close(con[0]);
	if (con[1] >= 0) close(con[1]);
	if (con_in[0] >= 0) close(con_in[0]);
	if (con_in[1] >= 0) close(con_in[1]);
	if (ser[0] >= 0) close(ser[0]);
	if (ser[1] >= 0) close(ser[1]);
	if (ser_in[0] >= 0) close(ser_in[0]);
	if (ser_in[1] >= 0) close(ser_in[1]);
	return r;
}

static void loop(struct instance *in)
{
	while (in->state != ST_DONE) {
		struct pollfd pfd[3];
		int n = 0, i_sig, i_con = -1, i_ser = -1, timeout = -1, r;

		if (in->interrupted) {
			if (!in->reaped)
				proc_kill_group(in->pid, SIGKILL);
			in->host.killed_by_host = 1;
			break;
		}
		pfd[n].fd = in->sig_fd;
		pfd[n].events = POLLIN;
		i_sig = n++;
		if (in->con_r >= 0) {
			pfd[n].fd = in->con_r;
			pfd[n].events = POLLIN;
			i_con = n++;
		}
		if (in->ser_r >= 0) {
			pfd[n].fd = in->ser_r;
			pfd[n].events = POLLIN;
			i_ser = n++;
		}
		if (in->deadline >= 0) {
			long long left = in->deadline - now_ms();

			timeout = left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
		}
		r = poll(pfd, (nfds_t)n, timeout);
		if (r < 0 && errno != EINTR) {
			error_errno("poll failed");
			fmt(in->host.infra_error, sizeof(in->host.infra_error), "poll failed");
			proc_kill_group(in->pid, SIGKILL);
			break;
		}
		if (r > 0 && pfd[i_sig].revents)
			handle_signals(in);
		/* serial first: the exit record should land before the console's EOF */
		if (i_ser >= 0 && pfd[i_ser].revents)
			read_pipe(in, &in->ser_r, 1);
		if (i_con >= 0 && pfd[i_con].revents)
			read_pipe(in, &in->con_r, 0);
		reap(in);
		if (in->state == ST_DRAINING && in->con_r < 0 && in->ser_r < 0)
			set_state(in, ST_DONE, -1);
		else if (in->deadline >= 0 && now_ms() >= in->deadline)
			expire(in);
	}
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int instance_run(const struct instance_config *cfg, verdict_emit emit, void *ctx)
{
	struct instance *in = calloc(1, sizeof(*in));
	sigset_t old;
	int rc, i;

	if (!in) {
		error("out of memory");
		return EXIT_INFRA;
	}
	in->cfg = cfg;
	in->con_r = in->ser_r = in->ser_w = in->con_in_w = in->sig_fd = -1;
	in->con_log = in->ser_log = -1;
	console_init(&in->con);
	verdict_init(&in->v, emit, ctx, &in->con);
	serial_init(&in->sp, on_event, in);

	proc_become_supervisor();
	if (setup_signals(in, &old) < 0 || make_dirs(in) < 0 || spawn(in) < 0) {
		fmt(in->host.infra_error, sizeof(in->host.infra_error),
		    "cannot start the vkernel for '%s' (see vkci's error above)", cfg->test);
	} else {
		set_state(in, ST_BOOTING, cfg->boot_timeout_s * 1000);
		loop(in);
	}

	/* Teardown: nothing of this instance survives. */
	if (in->pid > 0) {
		if (!in->reaped)
			proc_kill_group(in->pid, SIGKILL);
		proc_kill_all_children(KILL_WAIT_MS);
		if (!in->reaped) {
			in->host.kernel_reaped = 0;
		}
	}
	close_fd(&in->con_r);
	close_fd(&in->ser_r);
	close_fd(&in->ser_w);
	close_fd(&in->con_in_w);
	serial_finish(&in->sp);
	console_finish(&in->con);

	if (in->interrupted) {
		close_fd(&in->con_log);
		close_fd(&in->ser_log);
		if (in->dir[0])
			rm_rf(in->dir);
		close_fd(&in->sig_fd);
		signal(in->interrupted, SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		raise(in->interrupted);
		_exit(128 + in->interrupted);
	}

	i = 0;
	if (in->dir[0]) {
		fmt(in->notes[i], sizeof(in->notes[0]), "console log: %s", in->console_path);
		in->host.notes[in->host.nnotes++] = in->notes[i++];
		fmt(in->notes[i], sizeof(in->notes[0]), "serial log: %s", in->serial_path);
		in->host.notes[in->host.nnotes++] = in->notes[i++];
		fmt(in->notes[i], sizeof(in->notes[0]), "instance kept: %s", in->dir);
		in->host.notes[in->host.nnotes++] = in->notes[i++];
	}
	rc = verdict_finish(&in->v, &in->host);
	close_fd(&in->con_log);
	close_fd(&in->ser_log);
	if (in->dir[0] && rc == EXIT_PASS && !cfg->keep)
		rm_rf(in->dir);
	else if (in->dir[0] && rc != EXIT_PASS)
		note("kept instance dir '%s'", in->dir);
	close_fd(&in->sig_fd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	verdict_free(&in->v);
	free(in);
	return rc;
}
