/* node.c - one vkernel of a test (see node.h, instance.h): its files, its
 * start through the backend, its events (the records from the agent, the
 * key and the job it is sent), its deadlines, and the interactive shell of
 * vkci boot. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "node.h"
#include "proc.h"
#include "banned.h"

static const char *const state_names[] = {
	"booting", "running", "stopping", "terminating", "killing", "draining", "done",
};

void set_state(struct node *n, enum state s, long long ms)
{
	if (n->state != s)
		note("%s node %d: %s -> %s", n->run->cfg->test, n->index, state_names[n->state],
		     state_names[s]);
	n->state = s;
	n->deadline = ms >= 0 ? now_ms() + ms : -1;
}

/* ---- set-up ------------------------------------------------------------ */

int node_files(struct node *n)
{
	const struct instance_config *c = n->run->cfg;
	char logdir[PATH_MAX];

	if (instdir_node(n->run->dir, n->index, n->run->nnodes, n->dir, sizeof(n->dir)) < 0 ||
	    (c->scratch > 0 && instdir_scratch(n->dir, c->scratch, n->scratch, sizeof(n->scratch)) < 0) ||
	    instdir_logdir(c->log_dir, c->test, n->index, n->run->nnodes, n->dir, logdir, sizeof(logdir)) < 0)
		return -1;
	if (fmt(n->console_path, sizeof(n->console_path), "%s/console.log", logdir) < 0 ||
	    fmt(n->serial_path, sizeof(n->serial_path), "%s/serial.log", logdir) < 0)
		return error("log path too long");
	if (logfile_open(&n->con_log, n->console_path, c->max_log, "console") < 0 ||
	    logfile_open(&n->ser_log, n->serial_path, c->max_log, "serial") < 0)
		return -1;
	return 0;
}

int node_spawn(struct node *n)
{
	const struct instance_config *c = n->run->cfg;
	struct boot_params bp;
	struct vkernel vk;

	memset(&bp, 0, sizeof(bp));
	bp.test = c->test;
	bp.kernel = c->kernel;
	bp.image = c->image;
	bp.payload = c->payload;
	bp.scratch = n->scratch[0] ? n->scratch : NULL;
	bp.scratch_size = c->scratch;
	bp.interactive = c->interactive;
	bp.net = n->run->net.addr[0] ? n->run->net.addr : NULL;
	bp.net_fd = n->run->nnodes > 1 && n->index < VKNET_MAX_NODES ? n->run->net.fd[n->index] : -1;
	bp.node_dir = n->dir;
	bp.node = n->index;
	bp.nodes = n->run->nnodes;
	bp.mem = c->mem;
	bp.extra = c->extra;
	bp.gcov_dir = c->gcov_dir;
	memset(&vk, 0, sizeof(vk));
	vk.con_r = vk.ser_r = vk.ser_w = vk.hold = -1;
	if (n->run->be->start(&bp, &vk) < 0)
		return -1;
	n->pid = vk.pid;
	n->con_r = vk.con_r;
	n->ser_r = vk.ser_r;
	n->ser_w = vk.ser_w;
	n->hold = vk.hold;
	n->restored = vk.restored;
	n->ack = vk.ack;
	n->accel = vk.accel;
	set_nonblock(n->con_r);
	set_nonblock(n->ser_r);
	set_nonblock(n->ser_w);
	/* an agent restored from a snapshot said hello before it was saved */
	if (n->restored && write_all(n->ser_w, "P\n", 2) < 0)
		warning("cannot ask the restored agent of '%s' for its hello: %s", c->test, strerror(errno));
	return 0;
}

/* ---- events ------------------------------------------------------------- */

/* The key, then the job (PROTOCOL.md): the agent echoes the key and runs
 * what the job says. */
static void send_key(struct node *n)
{
	const struct instance_config *c = n->run->cfg;
	unsigned char raw[SERIAL_TOKEN_LEN / 2];
	static const char hex[] = "0123456789abcdef";
	char line[SERIAL_TOKEN_LEN + 4], job[PROTO_MAX_RECORD + 2], seed[65];
	struct job_params jp;
	long len;
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
	memset(&jp, 0, sizeof(jp));
	jp.test = c->test;
	jp.timeout_s = c->timeout_s;
	jp.test_args = c->test_args;
	jp.node = n->index;
	jp.nodes = n->run->nnodes;
	jp.shell = c->interactive;
	jp.payload_dev = c->payload ? n->run->be->payload_dev : NULL;
	jp.scratch_dev = n->scratch[0] ? n->run->be->scratch_dev : NULL;
	jp.fetch = c->gcov_dir && n->run->be->coverage == COV_FETCH ? GUEST_GCOV : NULL;
	jp.ack = n->ack;
	if (n->restored) {
		/* a clone of the snapshot: its own randomness and the wall clock */
		unsigned char rnd[32];
		struct timespec ts;

		if (getrandom(rnd, sizeof(rnd), 0) == (ssize_t)sizeof(rnd)) {
			for (i = 0; i < sizeof(rnd); i++) {
				seed[2 * i] = hex[rnd[i] >> 4];
				seed[2 * i + 1] = hex[rnd[i] & 15];
			}
			seed[2 * sizeof(rnd)] = '\0';
			jp.seed = seed;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		jp.time_ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	}
	fmt(line, sizeof(line), "K %s\n", n->token);
	len = job_record(job, sizeof(job), n->token, &jp);
	if (len < 0) {
		/* checked before the boot (vkci exec): not reached in practice */
		fmt(n->host.infra_error, sizeof(n->host.infra_error), "cannot send the job to the agent");
		return;
	}
	if (write_all(n->ser_w, line, strlen(line)) < 0 || write_all(n->ser_w, job, (size_t)len) < 0)
		warning("cannot send the key and job to '%s': %s", c->test, strerror(errno));
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
	case SER_DONE:
		/* every record before D has arrived: the agent may power off */
		if (n->ack && n->ser_w >= 0) {
			char ack[SERIAL_TOKEN_LEN + 4];

			fmt(ack, sizeof(ack), "A %s\n", n->token);
			write_all(n->ser_w, ack, strlen(ack));
		}
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
void node_expire(struct node *n)
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
		if (n->v.started) {
			n->passthrough = 1;
			/* what the shell runs on (vkciconsole.py reads it too);
			 * CRLF: the terminal is raw */
			fprintf(stderr, "vkci: a shell in a throwaway %s instance%s%s%s; exit it to tear "
				"the instance down\r\n", n->run->be->name, n->accel ? " (" : "",
				n->accel ? n->accel : "", n->accel ? ")" : "");
		}
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
void read_stdin(struct run *r)
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

void node_read(struct node *n, int *fd, int is_serial)
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
		logfile_write(&n->ser_log, buf, (size_t)len);
		if (n->run->cfg->interactive)
			interactive_serial(n, buf, (size_t)len);
		else
			serial_feed(&n->sp, buf, (size_t)len);
	} else {
		logfile_write(&n->con_log, buf, (size_t)len);
		console_feed(&n->con, buf, (size_t)len);
	}
}

void close_fd(int *fd)
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

void node_init(struct run *r, struct node *n, int index, verdict_emit emit, void *ctx)
{
	n->run = r;
	n->index = index;
	n->con_r = n->ser_r = n->ser_w = n->hold = -1;
	n->con_log.fd = n->ser_log.fd = -1;
	console_init(&n->con);
	sbuf_init(&n->captured, PEER_OUTPUT_MAX);
	if (index == 0)
		verdict_init(&n->v, emit, ctx, &n->con);
	else
		verdict_init(&n->v, capture, n, &n->con);
	serial_init(&n->sp, on_event, n);
	n->host.abort_after_poweroff_ok = !!(r->be->quirks & QUIRK_ABORT_AFTER_POWEROFF);
}
void node_notes(struct run *r, struct node *n)
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

