/* qboot.c - booting a QEMU machine up to the agent's hello (qemu.h): the
 * template boot of a snapshot (then its state saved over the monitor into
 * the template's state file) and the KVM probe (then killed). The console
 * goes to the boot dir's console.log; what went wrong, if anything, is one
 * line for the caller: QEMU's own error, the console's reason (KVM's "failed
 * to set MSR", "KVM internal error", a panic) or the deadline. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diag.h"
#include "proc.h"
#include "qemu.h"
#include "util.h"
#include "banned.h"

#define SETTLE_MS 1000         /* after the hello: the boot's last deferred work */
#define MIGRATE_S 120
#define QUIT_S 10
#define CONSOLE_MAX (16 << 20)

static void capture(void *ctx, const char *buf, size_t len)
{
	sbuf_add(ctx, buf, len);
}

/* Run qemu-img with these arguments; 0 or -1 after reporting its output. */
int qemu_img(const char *const *args)
{
	const char *argv[16];
	char img[PATH_MAX];
	struct sbuf out;
	struct proc_io io = { .on_output = capture, .ctx = &out, .sig_fd = -1, .deadline = now_ms() + 120000 };
	struct child ch;
	int i, st;

	if (find_in_path(QEMU_IMG, img, sizeof(img)) < 0)
		return error("'%s' not found: the qemu backend's snapshots need it (apt-get install qemu-utils)",
			     QEMU_IMG);
	argv[0] = img;
	for (i = 0; args[i] && i < 14; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	sbuf_init(&out, 2048);
	proc_child_init(&ch, argv);
	st = proc_run(&ch, &io);
	if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		error("'%s %s' failed: %s", QEMU_IMG, args[0], out.data && out.len ? out.data : "(no output)");
		sbuf_free(&out);
		return -1;
	}
	sbuf_free(&out);
	return 0;
}


/* The first console line with one of these, for the reason */
static void console_reason(const char *log, size_t len, char *why, size_t size)
{
	static const char *const pats[] = { "failed to set MSR", "KVM internal error", "qemu-system-x86_64:",
					    "Kernel panic", "error" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(pats); i++) {
		const char *p = memmem(log, len, pats[i], strlen(pats[i])), *b, *e;

		if (!p)
			continue;
		for (b = p; b > log && b[-1] != '\n'; b--)
			;
		for (e = p; e < log + len && *e != '\n' && *e != '\r'; e++)
			;
		fmt(why, size, "%.*s", (int)(e - b > 160 ? 160 : e - b), b);
		return;
	}
}

static int stop_requested(void)
{
	sigset_t set;

	return sigpending(&set) == 0 &&
	       (sigismember(&set, SIGINT) || sigismember(&set, SIGTERM) || sigismember(&set, SIGHUP));
}

/* Console bytes to the log (capped) and a tail for the reason; records
 * scanned for the hello. Returns 1 at the hello. */
struct watch {
	int log;
	size_t logged, tail_len, line_len;
	char tail[8192], line[64];
};

static int drain(int fd, struct watch *w, int is_rec)
{
	char buf[8192];
	ssize_t n = read(fd, buf, sizeof(buf));
	int hello = 0;

	if (n <= 0)
		return n == 0 || (errno != EAGAIN && errno != EINTR) ? -1 : 0;
	if (!is_rec) {
		if (w->log >= 0 && w->logged < CONSOLE_MAX && write_all(w->log, buf, (size_t)n) == 0)
			w->logged += (size_t)n;
		if ((size_t)n >= sizeof(w->tail)) {
			memcpy(w->tail, buf + n - sizeof(w->tail), sizeof(w->tail));
			w->tail_len = sizeof(w->tail);
		} else {
			if (w->tail_len + (size_t)n > sizeof(w->tail)) {
				size_t drop = w->tail_len + (size_t)n - sizeof(w->tail);

				memmove(w->tail, w->tail + drop, w->tail_len - drop);
				w->tail_len -= drop;
			}
			memcpy(w->tail + w->tail_len, buf, (size_t)n);
			w->tail_len += (size_t)n;
		}
		return 0;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			if (w->line_len >= 12 && !memcmp(w->line, "V vkci-agent", 12))
				hello = 1;
			w->line_len = 0;
		} else if (w->line_len < sizeof(w->line)) {
			w->line[w->line_len++] = buf[i];
		}
	}
	return hello;
}

/* Wait for QEMU to exit by the deadline; SIGKILL its group then. */
static int reap(pid_t pid, long long deadline)
{
	int st;

	for (;;) {
		pid_t p = waitpid(pid, &st, WNOHANG);

		if (p == pid)
			return st;
		if (p < 0 && errno != EINTR)
			return -1;
		if (now_ms() >= deadline) {
			proc_kill_group(pid, SIGKILL);
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
			return -1;
		}
		poll(NULL, 0, 10);
	}
}

/* QMP: save the machine into the inherited state fd, then quit. */
static int save_state(int qmp_fd, int state_fd, int con, int rec, struct watch *w, char *why, size_t size)
{
	static struct qmp q;
	char status[64] = "", err[300];
	long long deadline = now_ms() + MIGRATE_S * 1000;

	if (qmp_open(&q, qmp_fd, deadline, err, sizeof(err)) < 0)
		return fmt(why, size, "QEMU monitor: %s", err), -1;
	/* outgoing migrations take named fds only: the state file's goes over
	 * the monitor socket */
	if (qmp_getfd(&q, "state", state_fd, deadline, err, sizeof(err)) < 0 ||
	    qmp_cmd(&q, "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"fd:state\"}}", NULL, NULL, 0,
		    deadline, err, sizeof(err)) < 0)
		return fmt(why, size, "QEMU could not save the machine: %s", err), -1;
	while (strcmp(status, "completed")) {
		if (qmp_cmd(&q, "{\"execute\": \"query-migrate\"}", "status", status, sizeof(status), deadline, err,
			    sizeof(err)) < 0)
			return fmt(why, size, "QEMU could not save the machine: %s", err), -1;
		if (!strcmp(status, "failed") || !strcmp(status, "cancelled"))
			return fmt(why, size, "QEMU's migration to the state file %s", status), -1;
		drain(con, w, 0);
		drain(rec, w, 1);
		poll(NULL, 0, 20);
	}
	qmp_cmd(&q, "{\"execute\": \"quit\"}", NULL, NULL, 0, now_ms() + QUIT_S * 1000, err, sizeof(err));
	return 0;
}

/* Boot t->s in t->dir up to the agent's hello (and save it). 0, or -1 with t->why. */
int qboot_to_hello(struct tboot *t)
{
	int con[2] = { -1, -1 }, rec[2] = { -1, -1 }, qmp[2] = { -1, -1 }, net[2] = { -1, -1 }, state = -1, r = -1, st;
	char root[PATH_MAX], scratch[PATH_MAX], path[PATH_MAX], base[PATH_MAX], sizestr[32];
	struct boot_argv *b = calloc(1, sizeof(*b));
	struct watch w = { .log = -1 };
	struct qio io = { .con = -1, .rec = -1, .qmp = -1, .net = -1, .incoming = -1 };
	long long deadline;
	pid_t pid = 0;

	if (!b)
		return fmt(t->why, sizeof(t->why), "out of memory"), -1;
	if (fmt(root, sizeof(root), "%s/root.qcow2", t->dir) < 0 || fmt(scratch, sizeof(scratch), "%s/scratch.img", t->dir) < 0 ||
	    fmt(path, sizeof(path), "%s/console.log", t->dir) < 0 || !realpath(t->image, base)) {
		fmt(t->why, sizeof(t->why), "path too long or image missing");
		goto out;
	}
	{
		const char *a[] = { "create", "-q", "-f", "qcow2", "-F", "raw", "-b", base, root, NULL };

		unlink(root);
		if (qemu_img(a) < 0) {
			fmt(t->why, sizeof(t->why), "cannot create its root overlay");
			goto out;
		}
	}
	if (t->s.scratch) {
		int fd = open(scratch, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		fmt(sizestr, sizeof(sizestr), "%lld", t->s.scratch);
		if (fd < 0 || ftruncate(fd, (off_t)t->s.scratch) < 0) {
			fmt(t->why, sizeof(t->why), "cannot create its scratch disk: %s", strerror(errno));
			if (fd >= 0)
				close(fd);
			goto out;
		}
		close(fd);
	}
	w.log = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fmt(path, sizeof(path), "%s/state", t->dir) < 0 ||
	    (t->save && (state = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, con) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, rec) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, qmp) < 0 ||
	    (t->s.nic && socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, net) < 0)) {
		fmt(t->why, sizeof(t->why), "cannot create its files or channels: %s", strerror(errno));
		goto out;
	}
	io.root = root;
	io.root_qcow2 = 1;
	io.payload = t->view;
	io.payload_qcow2 = 1;
	io.scratch = t->s.scratch ? scratch : NULL;
	io.con = con[1];
	io.rec = rec[1];
	io.qmp = qmp[1];
	io.net = net[1];
	t->s.template_boot = 1;
	if (qemu_argv(&t->s, &io, b) < 0 || qemu_spawn(b, &io, con[1], t->dir, &pid) < 0) {
		fmt(t->why, sizeof(t->why), "cannot start QEMU");
		goto out;
	}
	close(con[1]);
	close(rec[1]);
	close(qmp[1]);
	con[1] = rec[1] = qmp[1] = -1;
	set_nonblock(con[0]);
	set_nonblock(rec[0]);
	deadline = now_ms() + t->deadline_s * 1000LL;
	for (;;) {
		struct pollfd p[2] = { { .fd = con[0], .events = POLLIN }, { .fd = rec[0], .events = POLLIN } };
		int hello = 0;

		poll(p, 2, 200);
		if (p[0].revents)
			drain(con[0], &w, 0);
		if (p[1].revents && (hello = drain(rec[0], &w, 1)) > 0)
			break;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			pid = 0;
			while (drain(con[0], &w, 0) == 0 && w.logged < CONSOLE_MAX)
				;
			fmt(t->why, sizeof(t->why), "QEMU %s %d before the agent's hello",
			    WIFSIGNALED(st) ? "was killed by signal" : "exited with status",
			    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
			console_reason(w.tail, w.tail_len, t->why, sizeof(t->why));
			goto out;
		}
		if (stop_requested()) {
			fmt(t->why, sizeof(t->why), "interrupted");
			goto out;
		}
		if (now_ms() >= deadline) {
			fmt(t->why, sizeof(t->why), "no hello from the agent within %d s", t->deadline_s);
			console_reason(w.tail, w.tail_len, t->why, sizeof(t->why));
			goto out;
		}
	}
	if (!t->save) {
		r = 0;
		goto out;
	}
	for (deadline = now_ms() + SETTLE_MS; now_ms() < deadline;) {
		poll(NULL, 0, 50);
		drain(con[0], &w, 0);
	}
	if (save_state(qmp[0], state, con[0], rec[0], &w, t->why, sizeof(t->why)) < 0)
		goto out;
	st = reap(pid, now_ms() + QUIT_S * 1000);
	pid = 0;
	if (fsync(state) < 0 || chmod(root, 0444) < 0) {
		fmt(t->why, sizeof(t->why), "cannot keep the saved state: %s", strerror(errno));
		goto out;
	}
	unlink(scratch);
	r = 0;
out:
	if (pid > 0) {
		proc_kill_group(pid, SIGKILL);
		reap(pid, now_ms() + QUIT_S * 1000);
	}
	for (int i = 0; i < 2; i++) {
		if (con[i] >= 0)
			close(con[i]);
		if (rec[i] >= 0)
			close(rec[i]);
		if (qmp[i] >= 0)
			close(qmp[i]);
		if (net[i] >= 0)
			close(net[i]);
	}
	if (state >= 0)
		close(state);
	if (w.log >= 0)
		close(w.log);
	free(b);
	return r;
}

