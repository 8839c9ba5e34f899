#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "instance.h"
#include "proc.h"
#include "report.h"
#include "rundir.h"
#include "transfer.h"
#include "uml.h"
#include "util.h"
#include "banned.h"

enum state { ST_BOOTING, ST_RUNNING, ST_STOPPING, ST_TERM, ST_KILL, ST_DRAINING, ST_DONE };

#define RUN_SLACK_MS 10000      /* host deadline beyond the guest's own timeout */
#define SHUTDOWN_MS 10000       /* sync + power-off after the test ended */
#define KILL_WAIT_MS 15000      /* SIGKILL to reaped (a loaded host can take seconds
				 * to tear down a vkernel with many processes) */
#define DRAIN_MS 1000           /* pipes to EOF after the vkernel exited */
#define SWITCH_WAIT_MS 5000     /* uml_switch must create its socket within */
#define PEER_OUTPUT_MAX 65536   /* captured TAP of nodes other than 0 */
#define XFER_MAX_MS 300000      /* a file transfer may stretch STOPPING this long */
#define XFER_DIR "gcov-serial"  /* where a node's transferred tree lands (transfer.h) */
#define UML_SWITCH "/usr/bin/uml_switch"

struct run;

/* One vkernel. */
struct node {
	struct run *run;
	int index;
	char dir[PATH_MAX], cow[PATH_MAX + 16], scratch[PATH_MAX + 16];
	char console_path[PATH_MAX + 32], serial_path[PATH_MAX + 32];
	char gcov_env[2][PATH_MAX + 32]; /* GCOV_PREFIX=, GCOV_PREFIX_STRIP= */
	const char *envp[3];

	int con_r, ser_r, ser_w, con_in_w;
	int con_log, ser_log;
	size_t con_logged, ser_logged;
	int con_trunc, ser_trunc;

	pid_t pid;
	int reaped;
	enum state state;
	long long deadline;
	char token[SERIAL_TOKEN_LEN + 1];

	struct serial_parser sp;
	struct xfer_rx xfer;      /* F records: files the agent sends into dir/XFER_DIR */
	long long xfer_until;     /* no deadline extension for the transfer after this */
	struct console_state con;
	struct verdict v;
	struct host_facts host;
	struct sbuf captured;     /* TAP of a node other than 0 */
	int passthrough;          /* interactive: 0 records, 1 shell bytes to stdout, 2 records again */
	size_t matched;           /* interactive: bytes of "X <key> " seen */
	int rc;                   /* its verdict, once finished */
};

/* One test: its instance dir, the switch, the nodes. */
struct run {
	const struct instance_config *cfg;
	char dir[PATH_MAX];
	char sock[PATH_MAX + 16];
	pid_t switch_pid;
	int switch_reaped;
	int sig_fd;
	int interrupted;          /* signal that interrupted vkci, or 0 */
	int nnodes;
	int stdin_open;           /* interactive: still reading the user's input */
	struct node node[INSTANCE_MAX_NODES];
	char notes[4][PATH_MAX + 32];
	struct peer_result peers[INSTANCE_MAX_NODES];
};

static const char *const state_names[] = {
	"booting", "running", "stopping", "terminating", "killing", "draining", "done",
};

static void set_state(struct node *n, enum state s, long long ms)
{
	if (n->state != s)
		note("%s node %d: %s -> %s", n->run->cfg->test, n->index, state_names[n->state],
		     state_names[s]);
	n->state = s;
	n->deadline = ms >= 0 ? now_ms() + ms : -1;
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

/* ---- set-up ------------------------------------------------------------ */

static int make_run_dir(struct run *r)
{
	const struct instance_config *c = r->cfg;
	char name[96];
	size_t i;

	for (i = 0; c->test[i] && i < 60; i++)
		name[i] = (c->test[i] == '/' || c->test[i] == '.') ? '_' : c->test[i];
	name[i] = '\0';
	if (fmt(r->dir, sizeof(r->dir), "%s/%s.XXXXXX", c->run_dir, name) < 0)
		return error("instance dir path too long");
	if (!mkdtemp(r->dir)) {
		r->dir[0] = '\0';
		return error_errno("cannot create instance dir under '%s'", c->run_dir);
	}
	rundir_claim(r->dir);   /* owner pid + start time: the sweep knows when it is stale */
	return 0;
}

static int make_node_files(struct node *n)
{
	const struct instance_config *c = n->run->cfg;
	char logdir[PATH_MAX];

	/* a single node lives in the instance dir itself, node K in nodeK/ */
	if (n->run->nnodes == 1) {
		if (fmt(n->dir, sizeof(n->dir), "%s", n->run->dir) < 0)
			return error("path too long");
	} else if (fmt(n->dir, sizeof(n->dir), "%s/node%d", n->run->dir, n->index) < 0 ||
		   mkdir(n->dir, 0700) < 0) {
		return error_errno("cannot create node dir in '%s'", n->run->dir);
	}
	if (fmt(n->cow, sizeof(n->cow), "%s/root.cow", n->dir) < 0)
		return error("path too long");
	if (c->scratch > 0) {
		int fd;

		if (fmt(n->scratch, sizeof(n->scratch), "%s/scratch.img", n->dir) < 0)
			return error("path too long");
		fd = open(n->scratch, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || ftruncate(fd, (off_t)c->scratch) < 0) {
			if (fd >= 0)
				close(fd);
			return error_errno("cannot create scratch disk '%s'", n->scratch);
		}
		close(fd);
	}
	if (c->log_dir) {
		int k = n->run->nnodes == 1 ?
			fmt(logdir, sizeof(logdir), "%s/%s", c->log_dir, c->test) :
			fmt(logdir, sizeof(logdir), "%s/%s/node%d", c->log_dir, c->test, n->index);

		if (k < 0)
			return error("log dir path too long");
		if (mkdir_p(logdir, 0755) < 0)
			return error_errno("cannot create log dir '%s' (check --log-dir)", logdir);
	} else if (fmt(logdir, sizeof(logdir), "%s", n->dir) < 0) {
		return error("path too long");
	}
	if (fmt(n->console_path, sizeof(n->console_path), "%s/console.log", logdir) < 0 ||
	    fmt(n->serial_path, sizeof(n->serial_path), "%s/serial.log", logdir) < 0)
		return error("log path too long");
	n->con_log = open(n->console_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (n->con_log < 0)
		return error_errno("cannot create '%s'", n->console_path);
	n->ser_log = open(n->serial_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (n->ser_log < 0)
		return error_errno("cannot create '%s'", n->serial_path);
	return 0;
}

/* Start uml_switch on a unix socket in the instance dir and wait (inotify,
 * bounded) until the socket exists. */
static int start_switch(struct run *r)
{
	const char *argv[] = { UML_SWITCH, "-unix", r->sock, NULL };
	struct child ch;
	long long deadline;
	int in, found = 0;
	struct stat st;

	if (fmt(r->sock, sizeof(r->sock), "%s/switch.sock", r->dir) < 0 || strlen(r->sock) > 100)
		return error("switch socket path '%s' too long for a unix socket (set VKCI_RUNDIR "
			     "to a shorter dir)", r->sock);
	if (access(UML_SWITCH, X_OK) < 0)
		return error("'%s' missing: multi-node tests need it (apt-get install uml-utilities)",
			     UML_SWITCH);
	in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (in < 0 || inotify_add_watch(in, r->dir, IN_CREATE) < 0) {
		if (in >= 0)
			close(in);
		return error_errno("cannot watch '%s'", r->dir);
	}
	memset(&ch, 0, sizeof(ch));
	ch.argv = argv;
	ch.out_fd = -1;
	if (proc_spawn(&ch) < 0) {
		close(in);
		return -1;
	}
	r->switch_pid = ch.pid;
	deadline = now_ms() + SWITCH_WAIT_MS;
	while (!(found = stat(r->sock, &st) == 0)) {
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
		return error("uml_switch did not create '%s' within %d s", r->sock, SWITCH_WAIT_MS / 1000);
	return 0;
}

static int spawn(struct node *n)
{
	const struct instance_config *c = n->run->cfg;
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
	bp.cow = n->cow;
	bp.payload = c->payload;
	bp.scratch = n->scratch[0] ? n->scratch : NULL;
	bp.switch_sock = n->run->sock[0] ? n->run->sock : NULL;
	bp.node = n->index;
	bp.nodes = n->run->nnodes;
	bp.mem = c->mem;
	bp.inst_dir = n->dir;
	bp.con_in = con_in[0];
	bp.con_out = con[1];
	bp.ser_in = ser_in[0];
	bp.ser_out = ser[1];
	bp.test = c->test;
	bp.timeout_s = c->timeout_s;
	bp.shell = c->interactive;
	bp.test_args = c->test_args;
	bp.extra = c->extra;
	if (uml_build_argv(&bp, &ba) < 0)
		goto out;

	memset(&ch, 0, sizeof(ch));
	ch.argv = ba.argv;
	ch.out_fd = con[1];        /* UML's own stdout/stderr messages join the console log */
	{
		/* .gcda paths are the build dir's: strip its components so the tree
		 * under the prefix is relative to the build dir. Always set: a
		 * coverage vkernel run without --gcov-dir must not write into its
		 * build dir (the tree goes with the instance dir) */
		const char *p;
		int strip = 0;

		for (p = c->kernel; *p; p++)
			strip += *p == '/';
		if (fmt(n->gcov_env[0], sizeof(n->gcov_env[0]), "GCOV_PREFIX=%s/gcov", n->dir) < 0 ||
		    fmt(n->gcov_env[1], sizeof(n->gcov_env[1]), "GCOV_PREFIX_STRIP=%d", strip - 1) < 0) {
			error("instance path too long for GCOV_PREFIX");
			goto out;
		}
		n->envp[0] = n->gcov_env[0];
		n->envp[1] = n->gcov_env[1];
		n->envp[2] = NULL;
		ch.env = n->envp;
	}
	ch.keep_fds[ch.nkeep++] = con_in[0];
	ch.keep_fds[ch.nkeep++] = con[1];
	ch.keep_fds[ch.nkeep++] = ser_in[0];
	ch.keep_fds[ch.nkeep++] = ser[1];
	if (proc_spawn(&ch) < 0)
		goto out;
	n->pid = ch.pid;
	n->con_r = con[0];
	n->ser_r = ser[0];
	n->ser_w = ser_in[1];
	n->con_in_w = con_in[1];
	con[0] = ser[0] = ser_in[1] = con_in[1] = -1;
	set_nonblock(n->con_r);
	set_nonblock(n->ser_r);
	set_nonblock(n->ser_w);
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

/* ---- events ------------------------------------------------------------- */

static void log_bytes(struct node *n, int fd, size_t *logged, int *trunc,
		      const char *buf, size_t len, const char *what)
{
	size_t max = n->run->cfg->max_log;
	size_t room = max > *logged ? max - *logged : 0;

	if (len > room) {
		if (!*trunc) {
			char msg[128];
			int m = fmt(msg, sizeof(msg), "\n[vkci: %s log truncated at %zu bytes]\n",
				    what, max);

			*trunc = 1;
			write_all(fd, buf, room);
			if (m > 0)
				write_all(fd, msg, (size_t)m);
		}
		*logged += room;
		return;
	}
	if (write_all(fd, buf, len) < 0 && !*trunc) {
		warning("cannot write %s log: %s", what, strerror(errno));
		*trunc = 1;
	}
	*logged += len;
}

static void send_key(struct node *n)
{
	unsigned char raw[SERIAL_TOKEN_LEN / 2];
	static const char hex[] = "0123456789abcdef";
	char line[SERIAL_TOKEN_LEN + 4];
	size_t i;

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		long long t = now_ms() ^ ((long long)getpid() << 20) ^ n->index;

		memcpy(raw, &t, sizeof(raw) < sizeof(t) ? sizeof(raw) : sizeof(t));
	}
	for (i = 0; i < sizeof(raw); i++) {
		n->token[2 * i] = hex[raw[i] >> 4];
		n->token[2 * i + 1] = hex[raw[i] & 15];
	}
	n->token[SERIAL_TOKEN_LEN] = '\0';
	fmt(line, sizeof(line), "K %s\n", n->token);
	if (write_all(n->ser_w, line, strlen(line)) < 0)
		warning("cannot send key to '%s': %s", n->run->cfg->test, strerror(errno));
}

static void on_event(void *ctx, const struct serial_event *ev)
{
	struct node *n = ctx;

	if (ev->type == SER_KEY && (ev->len != SERIAL_TOKEN_LEN ||
				    memcmp(ev->data, n->token, SERIAL_TOKEN_LEN))) {
		struct serial_event bad = *ev;

		bad.type = SER_GARBAGE;
		bad.why = "agent acknowledged the wrong key";
		verdict_event(&n->v, &bad);
		return;
	}
	verdict_event(&n->v, ev);
	switch (ev->type) {
	case SER_HELLO:
		if (n->state == ST_BOOTING) {
			send_key(n);
			set_state(n, ST_RUNNING, n->run->cfg->timeout_s * 1000 + RUN_SLACK_MS);
		}
		break;
	case SER_EXIT: case SER_SIGNAL: case SER_TIMEOUT: case SER_AGENT_ERROR:
		if (n->state == ST_RUNNING || n->state == ST_BOOTING)
			set_state(n, ST_STOPPING, SHUTDOWN_MS);
		break;
	case SER_FILE:
		/* a transfer going on keeps the power-off deadline moving, bounded */
		xfer_rx_event(&n->xfer, ev);
		if (!n->xfer_until)
			n->xfer_until = now_ms() + XFER_MAX_MS;
		if (n->state == ST_STOPPING && now_ms() < n->xfer_until)
			n->deadline = now_ms() + SHUTDOWN_MS;
		break;
	default:
		break;
	}
}

static void start_kill(struct node *n, int sig)
{
	n->host.killed_by_host = 1;
	proc_kill_group(n->pid, sig);
	if (sig == SIGKILL)
		set_state(n, ST_KILL, KILL_WAIT_MS);
	else
		set_state(n, ST_TERM, n->run->cfg->grace_ms);
}

/* A node's deadline passed: the per-state action. */
static void expire(struct node *n)
{
	const struct instance_config *c = n->run->cfg;

	switch (n->state) {
	case ST_BOOTING:
		n->host.timeout = HOST_TIMEOUT_BOOT;
		n->host.timeout_s = c->boot_timeout_s;
		start_kill(n, SIGTERM);
		break;
	case ST_RUNNING:
		n->host.timeout = HOST_TIMEOUT_TEST;
		n->host.timeout_s = c->timeout_s + RUN_SLACK_MS / 1000;
		start_kill(n, SIGTERM);
		break;
	case ST_STOPPING:
		n->host.timeout = HOST_TIMEOUT_SHUTDOWN;
		n->host.timeout_s = SHUTDOWN_MS / 1000;
		start_kill(n, SIGTERM);
		break;
	case ST_TERM:
		start_kill(n, SIGKILL);
		break;
	case ST_KILL:
		fmt(n->host.infra_error, sizeof(n->host.infra_error),
		    "vkernel process %d survived SIGKILL for %d s", (int)n->pid, KILL_WAIT_MS / 1000);
		set_state(n, ST_DONE, -1);
		break;
	case ST_DRAINING:
		/* something still holds the pipes: kill the group, stop reading */
		proc_kill_group(n->pid, SIGKILL);
		set_state(n, ST_DONE, -1);
		break;
	case ST_DONE:
		break;
	}
}

static void reap(struct run *r)
{
	int st, i;
	pid_t p;

	while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
		if (p == r->switch_pid) {
			r->switch_reaped = 1;
			continue;
		}
		for (i = 0; i < r->nnodes; i++) {
			struct node *n = &r->node[i];

			if (p != n->pid || n->reaped)
				continue;
			n->reaped = 1;
			n->host.kernel_reaped = 1;
			n->host.kernel_status = st;
			if (WIFSIGNALED(st))
				note("vkernel %d died by signal %d", (int)p, WTERMSIG(st));
			else
				note("vkernel %d exited with %d", (int)p, WEXITSTATUS(st));
		}
	}
	for (i = 0; i < r->nnodes; i++) {
		struct node *n = &r->node[i];

		if (n->reaped && n->state != ST_DRAINING && n->state != ST_DONE) {
			/* anything left in the group (UML helpers, a stray) goes now */
			proc_kill_group(n->pid, SIGKILL);
			set_state(n, ST_DRAINING, DRAIN_MS);
		}
	}
}

/* vkci boot: records until the agent's S record, then the shell's bytes
 * straight to stdout until "X <key> " (which only the agent knows) starts
 * the closing records. A partial match is held back, not printed. */
static void interactive_serial(struct node *n, const char *buf, size_t len)
{
	char pat[SERIAL_TOKEN_LEN + 4];
	size_t i, plen;

	if (n->passthrough == 2) {
		serial_feed(&n->sp, buf, len);
		return;
	}
	for (i = 0; i < len && !n->passthrough; i++) {
		serial_feed(&n->sp, buf + i, 1);
		if (n->v.started)
			n->passthrough = 1;
	}
	if (!n->passthrough || i == len)
		return;
	plen = (size_t)fmt(pat, sizeof(pat), "X %s ", n->token);
	for (; i < len; i++) {
		if (buf[i] == pat[n->matched]) {
			if (++n->matched == plen) {
				n->passthrough = 2;
				serial_feed(&n->sp, pat, plen);
				serial_feed(&n->sp, buf + i + 1, len - i - 1);
				return;
			}
			continue;
		}
		if (n->matched) {   /* not the key after all: release what was held */
			write_all(1, pat, n->matched);
			n->matched = 0;
			if (buf[i] == pat[0]) {
				n->matched = 1;
				continue;
			}
		}
		write_all(1, buf + i, 1);
	}
}

/* vkci boot: the user's keystrokes to the guest's serial line. */
static void read_stdin(struct run *r)
{
	char buf[4096];
	ssize_t len = xread(0, buf, sizeof(buf));

	if (len <= 0) {
		r->stdin_open = 0;
		return;
	}
	if (r->node[0].ser_w >= 0 && write_all(r->node[0].ser_w, buf, (size_t)len) < 0)
		r->stdin_open = 0;
}

static void read_pipe(struct node *n, int *fd, int is_serial)
{
	char buf[65536];
	ssize_t len = xread(*fd, buf, sizeof(buf));

	if (len < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (len <= 0) {
		close(*fd);
		*fd = -1;
		return;
	}
	if (is_serial) {
		log_bytes(n, n->ser_log, &n->ser_logged, &n->ser_trunc, buf, (size_t)len, "serial");
		if (n->run->cfg->interactive)
			interactive_serial(n, buf, (size_t)len);
		else
			serial_feed(&n->sp, buf, (size_t)len);
	} else {
		log_bytes(n, n->con_log, &n->con_logged, &n->con_trunc, buf, (size_t)len, "console");
		console_feed(&n->con, buf, (size_t)len);
	}
}

static int setup_signals(struct run *r, sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, old) < 0)
		return error_errno("cannot block signals");
	r->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (r->sig_fd < 0)
		return error_errno("cannot create signalfd");
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void handle_signals(struct run *r)
{
	struct signalfd_siginfo si;

	while (xread(r->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			continue;   /* reaped below */
		if (!r->interrupted)
			r->interrupted = (int)si.ssi_signo;
	}
}

/* The only poll loop: all nodes' pipes, the signalfd, the nearest deadline. */
static void loop(struct run *r)
{
	for (;;) {
		struct pollfd pfd[2 + 2 * INSTANCE_MAX_NODES];
		struct { struct node *n; int serial; } who[2 + 2 * INSTANCE_MAX_NODES];
		long long next = -1, now;
		int np = 0, i, active = 0, timeout = -1;

		if (r->interrupted) {
			for (i = 0; i < r->nnodes; i++) {
				if (r->node[i].pid > 0 && !r->node[i].reaped)
					proc_kill_group(r->node[i].pid, SIGKILL);
				r->node[i].host.killed_by_host = 1;
			}
			return;
		}
		pfd[np].fd = r->sig_fd;
		pfd[np].events = POLLIN;
		who[np].n = NULL;
		np++;
		for (i = 0; i < r->nnodes; i++) {
			struct node *n = &r->node[i];

			if (n->state == ST_DONE)
				continue;
			active++;
			if (n->con_r >= 0) {
				pfd[np] = (struct pollfd){ .fd = n->con_r, .events = POLLIN };
				who[np].n = n;
				who[np++].serial = 0;
			}
			if (n->ser_r >= 0) {
				pfd[np] = (struct pollfd){ .fd = n->ser_r, .events = POLLIN };
				who[np].n = n;
				who[np++].serial = 1;
			}
			if (n->deadline >= 0 && (next < 0 || n->deadline < next))
				next = n->deadline;
		}
		if (!active)
			return;
		if (r->stdin_open && r->node[0].passthrough == 1) {
			pfd[np] = (struct pollfd){ .fd = 0, .events = POLLIN };
			who[np].n = NULL;
			who[np++].serial = -1;
		}
		if (next >= 0) {
			long long left = next - now_ms();

			timeout = left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
		}
		if (poll(pfd, (nfds_t)np, timeout) < 0 && errno != EINTR) {
			error_errno("poll failed");
			for (i = 0; i < r->nnodes; i++)
				fmt(r->node[i].host.infra_error, sizeof(r->node[i].host.infra_error),
				    "poll failed");
			r->interrupted = 0;
			for (i = 0; i < r->nnodes; i++)
				if (!r->node[i].reaped)
					proc_kill_group(r->node[i].pid, SIGKILL);
			return;
		}
		if (pfd[0].revents)
			handle_signals(r);
		/* serial before console: the exit record lands before the console's EOF */
		for (i = 1; i < np; i++)
			if (pfd[i].revents && who[i].serial == 1)
				read_pipe(who[i].n, &who[i].n->ser_r, 1);
		for (i = 1; i < np; i++)
			if (pfd[i].revents && !who[i].serial && who[i].n->con_r == pfd[i].fd)
				read_pipe(who[i].n, &who[i].n->con_r, 0);
		for (i = 1; i < np; i++)
			if (pfd[i].revents && who[i].serial == -1)
				read_stdin(r);
		reap(r);
		now = now_ms();
		for (i = 0; i < r->nnodes; i++) {
			struct node *n = &r->node[i];

			if (n->state == ST_DRAINING && n->con_r < 0 && n->ser_r < 0)
				set_state(n, ST_DONE, -1);
			else if (n->state != ST_DONE && n->deadline >= 0 && now >= n->deadline)
				expire(n);
		}
	}
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Output of nodes other than 0 is captured, not printed. */
static void capture(void *ctx, const char *line, size_t len)
{
	struct node *n = ctx;

	sbuf_add(&n->captured, line, len);
	sbuf_add(&n->captured, "\n", 1);
}

static void node_init(struct run *r, struct node *n, int index, verdict_emit emit, void *ctx)
{
	n->run = r;
	n->index = index;
	n->con_r = n->ser_r = n->ser_w = n->con_in_w = -1;
	n->con_log = n->ser_log = -1;
	console_init(&n->con);
	sbuf_init(&n->captured, PEER_OUTPUT_MAX);
	if (index == 0)
		verdict_init(&n->v, emit, ctx, &n->con);
	else
		verdict_init(&n->v, capture, n, &n->con);
	serial_init(&n->sp, on_event, n);
	xfer_rx_init(&n->xfer, n->dir, XFER_DIR, r->cfg->fetch_limits, &n->v);
}

/* Coverage: move each node's .gcda tree to cfg->gcov_dir[/nodeK]. A vkernel
 * that was killed wrote nothing (gcov writes at exit): say so. */
static void collect_gcov(struct run *r)
{
	int i;

	for (i = 0; i < r->nnodes; i++) {
		struct node *n = &r->node[i];
		char src[PATH_MAX + 8], dst[PATH_MAX + 16];
		struct stat st;

		if (fmt(src, sizeof(src), "%s/gcov", n->dir) < 0 ||
		    (i ? fmt(dst, sizeof(dst), "%s/node%d", r->cfg->gcov_dir, i) :
			 fmt(dst, sizeof(dst), "%s", r->cfg->gcov_dir)) < 0)
			continue;
		rm_rf(dst);   /* a previous run's tree (node 0's holds the others') */
		/* gcov writes at exit; a SIGKILLed vkernel did not exit, and what
		 * its forked helpers wrote at their exits is not its coverage */
		if (n->host.killed_by_host ||
		    (n->host.kernel_reaped && WIFSIGNALED(n->host.kernel_status) &&
		     WTERMSIG(n->host.kernel_status) == SIGKILL)) {
			rm_rf(src);
			if (n->host.nnotes < VERDICT_MAX_NOTES)
				n->host.notes[n->host.nnotes++] =
					"no coverage data: the vkernel was killed before it could write its .gcda files";
			continue;
		}
		if (lstat(src, &st) < 0 || !S_ISDIR(st.st_mode)) {
			if (n->host.nnotes < VERDICT_MAX_NOTES)
				n->host.notes[n->host.nnotes++] =
					"no coverage data: the vkernel wrote no .gcda files (not a coverage kernel?)";
			continue;
		}
		if (mkdir_p(r->cfg->gcov_dir, 0755) < 0 || (rename(src, dst) < 0 && copy_tree(src, dst) < 0))
			error_errno("cannot keep the coverage data of '%s' in '%s'", r->cfg->test, dst);
	}
}

static void node_notes(struct run *r, struct node *n)
{
	/* node 0's notes name the logs; one note per run for the kept dir */
	if (n->index == 0) {
		fmt(r->notes[0], sizeof(r->notes[0]), "console log: %s", n->console_path);
		fmt(r->notes[1], sizeof(r->notes[1]), "serial log: %s", n->serial_path);
		n->host.notes[n->host.nnotes++] = r->notes[0];
		n->host.notes[n->host.nnotes++] = r->notes[1];
		if (r->dir[0]) {
			fmt(r->notes[2], sizeof(r->notes[2]), "instance kept: %s", r->dir);
			n->host.notes[n->host.nnotes++] = r->notes[2];
		}
	} else {
		n->host.nnotes = 0;
	}
}

static int start(struct run *r)
{
	int i;

	if (make_run_dir(r) < 0)
		return -1;
	for (i = 0; i < r->nnodes; i++)
		if (make_node_files(&r->node[i]) < 0)
			return -1;
	if (r->nnodes > 1 && start_switch(r) < 0)
		return -1;
	for (i = 0; i < r->nnodes; i++) {
		if (spawn(&r->node[i]) < 0)
			return -1;
		set_state(&r->node[i], ST_BOOTING, r->cfg->boot_timeout_s * 1000);
	}
	return 0;
}

/* VKCI_CHECK_FDS=1 (the soak test): after teardown vkci must hold no fd
 * but stdin, stdout and stderr. Reports each leaked fd; returns the count. */
static unsigned char fds_at_start[1024];

static void note_fds(void)
{
	int fd;

	for (fd = 0; fd < 1024; fd++)
		fds_at_start[fd] = fcntl(fd, F_GETFD) >= 0;
}

static int check_fds(void)
{
	char path[64], target[PATH_MAX];
	int fd, leaked = 0;

	for (fd = 3; fd < 1024; fd++) {
		ssize_t n;

		if (fds_at_start[fd] || fcntl(fd, F_GETFD) < 0)
			continue;
		fmt(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		error("leaked fd %d ('%s') after the instance was torn down", fd, target);
		leaked++;
	}
	return leaked;
}

/* LOG_DIR/<test>/result.json: what happened, for the run reports. */
static void write_record(struct run *r, int rc, long long start_unix_ms, long long start_ms)
{
	const struct instance_config *c = r->cfg;
	struct test_record rec;
	char path[PATH_MAX + 64];

	if (fmt(path, sizeof(path), "%s/%s/result.json", c->log_dir, c->test) < 0)
		return;
	memset(&rec, 0, sizeof(rec));
	rec.test = c->test;
	rec.kernel = c->kernel;
	rec.image = c->image;
	rec.payload = c->payload;
	rec.nodes = r->nnodes;
	rec.timeout_s = c->timeout_s;
	rec.mem = c->mem;
	rec.start_unix_ms = start_unix_ms;
	rec.duration_ms = now_ms() - start_ms;
	rec.exit_status = rc;
	rec.verdict = &r->node[0].v;
	rec.console = &r->node[0].con;
	rec.console_log = r->node[0].console_path[0] ? r->node[0].console_path : NULL;
	rec.serial_log = r->node[0].serial_path[0] ? r->node[0].serial_path : NULL;
	rec.kept_dir = r->dir[0] && (rc != EXIT_PASS || c->keep) ? r->dir : NULL;
	rec.attempt = c->attempt;
	rec.attempts_json = c->attempts_json;
	rec.quarantined = c->quarantined;
	report_write(path, &rec);
}

int instance_run(const struct instance_config *cfg, verdict_emit emit, void *ctx)
{
	struct run *r = calloc(1, sizeof(*r));
	long long start_ms, start_unix_ms;
	struct timespec ts;
	struct stat img_before, img_after;
	sigset_t old;
	int rc, i, have_img;

	if (!r) {
		error("out of memory");
		return EXIT_INFRA;
	}
	if (getenv("VKCI_CHECK_FDS"))
		note_fds();
	r->cfg = cfg;
	r->sig_fd = -1;
	start_ms = now_ms();
	clock_gettime(CLOCK_REALTIME, &ts);
	start_unix_ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	r->nnodes = cfg->nodes < 1 ? 1 : cfg->nodes > INSTANCE_MAX_NODES ? INSTANCE_MAX_NODES :
		    (int)cfg->nodes;
	r->stdin_open = cfg->interactive;
	for (i = 0; i < r->nnodes; i++) {
		node_init(r, &r->node[i], i, emit, ctx);
		/* until it runs, a node is DONE: nothing to wait for */
		r->node[i].state = ST_DONE;
	}

	have_img = stat(cfg->image, &img_before) == 0;
	proc_become_supervisor();
	if (setup_signals(r, &old) < 0 || start(r) < 0) {
		fmt(r->node[0].host.infra_error, sizeof(r->node[0].host.infra_error),
		    "cannot start the vkernel for '%s' (see vkci's error above)", cfg->test);
		for (i = 0; i < r->nnodes; i++)
			if (r->node[i].pid > 0)
				r->node[i].host.killed_by_host = 1;
	} else {
		loop(r);
	}

	/* Teardown: nothing of this test survives. */
	for (i = 0; i < r->nnodes; i++)
		if (r->node[i].pid > 0 && !r->node[i].reaped)
			proc_kill_group(r->node[i].pid, SIGKILL);
	if (r->switch_pid > 0 && !r->switch_reaped)
		proc_kill_group(r->switch_pid, SIGKILL);
	proc_kill_all_children(KILL_WAIT_MS);
	for (i = 0; i < r->nnodes; i++) {
		struct node *n = &r->node[i];

		close_fd(&n->con_r);
		close_fd(&n->ser_r);
		close_fd(&n->ser_w);
		close_fd(&n->con_in_w);
		serial_finish(&n->sp);
		xfer_rx_finish(&n->xfer, cfg->gcov_dir ? "gcov" : NULL);  /* before collect_gcov */
		console_finish(&n->con);
	}
	/* The base image rewritten in place under a running vkernel: blocks not
	 * yet in the COW were read from the changed file, the guest's root disk
	 * is undefined. (Renaming a new image over it is harmless: the vkernel
	 * keeps the old file open.) */
	if (have_img && !r->interrupted && !r->node[0].host.infra_error[0] &&
	    stat(cfg->image, &img_after) == 0 && img_after.st_dev == img_before.st_dev &&
	    img_after.st_ino == img_before.st_ino &&
	    (img_after.st_size != img_before.st_size ||
	     img_after.st_mtim.tv_sec != img_before.st_mtim.tv_sec ||
	     img_after.st_mtim.tv_nsec != img_before.st_mtim.tv_nsec))
		fmt(r->node[0].host.infra_error, sizeof(r->node[0].host.infra_error),
		    "base image '%s' was modified in place while the test ran (replace an image by renaming a new file over it)",
		    cfg->image);

	if (r->interrupted) {
		for (i = 0; i < r->nnodes; i++) {
			close_fd(&r->node[i].con_log);
			close_fd(&r->node[i].ser_log);
		}
		if (r->dir[0])
			rm_rf(r->dir);
		close_fd(&r->sig_fd);
		if (cfg->on_interrupt)
			cfg->on_interrupt();
		signal(r->interrupted, SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		raise(r->interrupted);
		_exit(128 + r->interrupted);
	}

	if (cfg->gcov_dir)
		collect_gcov(r);

	/* nodes other than 0 first: node 0's verdict reports on them */
	for (i = 1; i < r->nnodes; i++) {
		struct node *n = &r->node[i];

		node_notes(r, n);
		n->rc = verdict_finish(&n->v, &n->host);
		r->peers[i - 1].node = i;
		r->peers[i - 1].rc = n->rc;
		r->peers[i - 1].output = n->captured.data ? n->captured.data : "";
		r->peers[i - 1].console_path = n->console_path;
	}
	node_notes(r, &r->node[0]);
	r->node[0].host.peers = r->peers;
	r->node[0].host.npeers = r->nnodes - 1;
	rc = verdict_finish(&r->node[0].v, &r->node[0].host);
	if (cfg->interactive && rc != EXIT_INFRA) {
		/* a shell session has no TAP: it went well if the shell ended and
		 * the kernel did not crash */
		rc = r->node[0].v.end != SER_GARBAGE && r->node[0].con.first == CRASH_NONE ?
		     EXIT_PASS : EXIT_FAIL;
		if (rc != EXIT_PASS)
			error("the session ended abnormally: %s (instance kept: '%s')",
			      r->node[0].v.reason[0] ? r->node[0].v.reason : "see the console log", r->dir);
	}
	if (cfg->log_dir)
		write_record(r, rc, start_unix_ms, start_ms);

	for (i = 0; i < r->nnodes; i++) {
		close_fd(&r->node[i].con_log);
		close_fd(&r->node[i].ser_log);
	}
	if (r->dir[0] && (rc != EXIT_PASS || cfg->keep))
		rundir_keep(cfg->run_dir, r->dir);   /* marked kept, the keep policy applied */
	if (r->dir[0] && rc == EXIT_PASS && !cfg->keep)
		rm_rf(r->dir);
	else if (r->dir[0] && rc != EXIT_PASS)
		note("kept instance dir '%s'", r->dir);
	close_fd(&r->sig_fd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	for (i = 0; i < r->nnodes; i++) {
		verdict_free(&r->node[i].v);
		sbuf_free(&r->node[i].captured);
	}
	free(r);
	if (getenv("VKCI_CHECK_FDS") && check_fds() > 0 && rc == EXIT_PASS)
		rc = EXIT_INFRA;
	return rc;
}
