/* vkci-init: the guest agent, PID 1 of every vkci instance.
 *
 * It mounts what tests need, puts the serial line (/dev/ttyS0) in raw mode,
 * greets the host, takes the per-boot key, runs the selected test from the
 * payload disk in its own session with a timeout, relays its stdout/stderr
 * as framed records, reports how it ended, reaps everything, sends the
 * files under vkci.fetch=DIR (if given) as F records, syncs and powers off. The record format is in harness/PROTOCOL.md. PID 1 never exits:
 * if power-off fails it waits forever and the host's deadline ends it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define PROTO_VERSION 1
#define TOKEN_LEN 16
#define CHUNK 2048          /* longest output payload in one record */
#define MAX_ARGS 32
#define KEY_WAIT_MS 10000
#define DRAIN_MS 2000

static const struct mountpoint {
	const char *source, *target, *type;
	unsigned long flags;
	const char *data;
	int required;
} mounts[] = {
	{ "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 1 },
	{ "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 1 },
	{ "devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755", 1 },
	{ "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "ptmxmode=0666", 0 },
	{ "tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", 0 },
	{ "tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", 1 },
	{ "tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755", 0 },
	{ "debugfs", "/sys/kernel/debug", "debugfs", 0, NULL, 0 },
	{ "/dev/ubdb", "/payload", "ext4", MS_RDONLY | MS_NOSUID | MS_NODEV, NULL, 0 },
};

static int serial = -1;
static struct termios serial_cooked;   /* the line's settings before raw mode */
static char token[TOKEN_LEN + 1] = "-";

/* ---- output to the host ---------------------------------------------- */

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

/* One record, one write: tag, blank, payload, newline. */
static void record(char tag, const char *payload, size_t len)
{
	char buf[CHUNK + 64];

	if (serial < 0)
		return;
	if (len > CHUNK)
		len = CHUNK;
	buf[0] = tag;
	buf[1] = ' ';
	memcpy(buf + 2, payload, len);
	buf[2 + len] = '\n';
	write_all(serial, buf, len + 3);
}

static void control(char tag, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void control(char tag, const char *f, ...)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "%s", token);
	va_list ap;

	if (f) {
		buf[n++] = ' ';
		va_start(ap, f);
		n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, f, ap);
		va_end(ap);
		if (n >= (int)sizeof(buf))
			n = sizeof(buf) - 1;
		for (int i = 0; i < n; i++)
			if (buf[i] == '\n')
				buf[i] = ' ';
	}
	record(tag, buf, (size_t)n);
}

static void kmsg(const char *msg)
{
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		write_all(fd, msg, strlen(msg));
		close(fd);
	}
}

/* ---- steps ------------------------------------------------------------- */

static int mount_all(char *err, size_t size)
{
	for (size_t i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++) {
		const struct mountpoint *m = &mounts[i];

		mkdir(m->target, 0755);
		if (mount(m->source, m->target, m->type, m->flags, m->data) == 0 || errno == EBUSY)
			continue;
		if (m->required) {
			snprintf(err, size, "cannot mount %s on %s: %s", m->type, m->target,
				 strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int open_serial(void)
{
	struct termios t;

	serial = open("/dev/ttyS0", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (serial < 0)
		return -1;
	if (tcgetattr(serial, &t) == 0) {
		serial_cooked = t;
		cfmakeraw(&t);
		tcsetattr(serial, TCSANOW, &t);
	}
	return 0;
}

/* Read "K <16 hex>\n" from the host. */
static int receive_key(void)
{
	char line[64];
	size_t len = 0;
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (len < sizeof(line) - 1) {
		struct pollfd p = { .fd = serial, .events = POLLIN };
		long waited;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		waited = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (waited >= KEY_WAIT_MS || poll(&p, 1, (int)(KEY_WAIT_MS - waited)) <= 0)
			return -1;
		n = read(serial, line + len, 1);
		if (n <= 0)
			continue;
		if (line[len] == '\n' || line[len] == '\r')
			break;
		len++;
	}
	line[len] = '\0';
	if (len != 2 + TOKEN_LEN || line[0] != 'K' || line[1] != ' ')
		return -1;
	for (int i = 0; i < TOKEN_LEN; i++) {
		char c = line[2 + i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -1;
	}
	memcpy(token, line + 2, TOKEN_LEN);
	token[TOKEN_LEN] = '\0';
	record('K', token, TOKEN_LEN);
	return 0;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Undo the host's percent-encoding in place. */
static int decode(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '%') {
			int hi = hexval(s[1]), lo = hi < 0 ? -1 : hexval(s[2]);

			if (lo < 0 || (hi == 0 && lo == 0))
				return -1;
			*o++ = (char)(hi * 16 + lo);
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return 0;
}

struct job {
	char test[256];
	long timeout_s;
	long node, nodes;          /* multi-node tests: our index and the count */
	char scratch[64];          /* scratch block device, or "" */
	char fetch[256];           /* send the files under this dir after the test, or "" */
	int shell;                 /* vkci boot: an interactive shell instead of a test */
	char env[4][96];
	char *argv[MAX_ARGS + 2];
	int argc;
	char cmdline[4096];
};

static int read_cmdline(struct job *j, char *err, size_t size)
{
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n;
	char *w, *save = NULL;

	j->timeout_s = 60;
	j->test[0] = '\0';
	j->node = 0;
	j->nodes = 1;
	j->scratch[0] = '\0';
	j->fetch[0] = '\0';
	j->shell = 0;
	if (fd < 0) {
		snprintf(err, size, "cannot open /proc/cmdline: %s", strerror(errno));
		return -1;
	}
	n = read(fd, j->cmdline, sizeof(j->cmdline) - 1);
	close(fd);
	if (n <= 0) {
		snprintf(err, size, "cannot read /proc/cmdline");
		return -1;
	}
	j->cmdline[n] = '\0';
	j->argc = 1;
	for (w = strtok_r(j->cmdline, " \n", &save); w; w = strtok_r(NULL, " \n", &save)) {
		if (!strncmp(w, "vkci.test=", 10)) {
			snprintf(j->test, sizeof(j->test), "%s", w + 10);
		} else if (!strncmp(w, "vkci.timeout=", 13)) {
			j->timeout_s = strtol(w + 13, NULL, 10);
			if (j->timeout_s <= 0)
				j->timeout_s = 60;
		} else if (!strncmp(w, "vkci.node=", 10)) {
			j->node = strtol(w + 10, NULL, 10);
		} else if (!strncmp(w, "vkci.nodes=", 11)) {
			j->nodes = strtol(w + 11, NULL, 10);
		} else if (!strcmp(w, "vkci.shell=1")) {
			j->shell = 1;
		} else if (!strncmp(w, "vkci.fetch=", 11)) {
			snprintf(j->fetch, sizeof(j->fetch), "%s", w + 11);
		} else if (!strncmp(w, "vkci.scratch=", 13)) {
			snprintf(j->scratch, sizeof(j->scratch), "%s", w + 13);
		} else if (!strncmp(w, "vkci.arg=", 9)) {
			if (j->argc > MAX_ARGS || decode(w + 9) < 0) {
				snprintf(err, size, "bad or too many vkci.arg= words");
				return -1;
			}
			j->argv[j->argc++] = w + 9;
		}
	}
	j->argv[j->argc] = NULL;
	if (!j->test[0] || strstr(j->test, "..") || j->test[0] == '/') {
		snprintf(err, size, "no valid vkci.test= on the kernel command line");
		return -1;
	}
	if (j->nodes < 1 || j->nodes > 250 || j->node < 0 || j->node >= j->nodes) {
		snprintf(err, size, "bad vkci.node=/vkci.nodes= on the kernel command line");
		return -1;
	}
	return 0;
}

/* Bring an interface up, with an IPv4 address when addr is not 0. */
static int if_up(const char *name, uint32_t addr, uint32_t mask, char *err, size_t size)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		snprintf(err, size, "socket: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (addr) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(addr);
		if (ioctl(fd, SIOCSIFADDR, &ifr) < 0)
			goto fail;
		sin->sin_addr.s_addr = htonl(mask);
		if (ioctl(fd, SIOCSIFNETMASK, &ifr) < 0)
			goto fail;
	}
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		goto fail;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		goto fail;
	close(fd);
	return 0;
fail:
	snprintf(err, size, "cannot configure %s: %s", name, strerror(errno));
	close(fd);
	return -1;
}

/* lo always; eth0 = 10.0.0.(node+1)/24 on the run's switch for multi-node tests. */
static int network(const struct job *j, char *err, size_t size)
{
	if (if_up("lo", 0, 0, err, size) < 0)
		return -1;
	if (j->nodes > 1)
		return if_up("eth0", (10u << 24) | (uint32_t)(j->node + 1), 0xffffff00u, err, size);
	return 0;
}

struct stream {
	int fd;
	char tag_full, tag_part;
	char buf[CHUNK];
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
			record(s->tag_full, s->buf, s->len);
		s->len = 0;
		close(s->fd);
		s->fd = -1;
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (tmp[i] == '\n') {
			record(s->tag_full, s->buf, s->len);
			s->len = 0;
			continue;
		}
		if (s->len == CHUNK) {
			record(s->tag_part, s->buf, s->len);
			s->len = 0;
		}
		s->buf[s->len++] = tmp[i];
	}
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Start the test in its own session; report exec failure through a pipe. */
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
		sigset_t none;
		int null = open("/dev/null", O_RDONLY);

		setsid();
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (null >= 0)
			dup2(null, 0);
		dup2(out, 1);
		dup2(errfd, 2);
		if (chdir("/tmp") < 0)
			(void)0;
		execve(path, j->argv, envp);
		e = errno;
		write_all(report[1], (const char *)&e, sizeof(e));
		_exit(127);
	}
	close(report[1]);
	if (read(report[0], &e, sizeof(e)) == (ssize_t)sizeof(e)) {
		close(report[0]);
		waitpid(pid, NULL, 0);
		snprintf(err, size, "cannot execute '%s': %s", path, strerror(e));
		return -1;
	}
	close(report[0]);
	return pid;
}

/* Relay output until the test ends or times out; returns its wait status,
 * or -1 on timeout. SIGCHLD arrives on sigfd, so one poll() waits for all. */
static int supervise(pid_t pid, int sigfd, struct stream *out, struct stream *errs,
		     long timeout_s)
{
	long long deadline = now_ms() + timeout_s * 1000, drain = -1;
	int status = 0, exited = 0, timed_out = 0;

	while (out->fd >= 0 || errs->fd >= 0 || !exited) {
		struct pollfd p[3];
		int n = 0;
		long long stop = drain >= 0 ? drain : deadline, left = stop - now_ms();
		pid_t w;

		p[n++] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
		if (out->fd >= 0)
			p[n++] = (struct pollfd){ .fd = out->fd, .events = POLLIN };
		if (errs->fd >= 0)
			p[n++] = (struct pollfd){ .fd = errs->fd, .events = POLLIN };
		if (poll(p, (nfds_t)n, left < 0 ? 0 : left > 1000000 ? 1000000 : (int)left) > 0) {
			struct signalfd_siginfo si;

			if (p[0].revents)
				while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
					;
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
static int run_shell(const struct job *j, int sigfd)
{
	long long deadline = now_ms() + j->timeout_s * 1000;
	struct termios raw;
	int status = 0;
	pid_t pid;

	control('S', "shell");
	tcdrain(serial);
	tcsetattr(serial, TCSANOW, &serial_cooked);
	pid = fork();
	if (pid == 0) {
		static char *const envp[] = {
			"PATH=/bin:/sbin:/usr/bin:/usr/sbin", "HOME=/root", "TERM=vt100",
			"PS1=vkci# ", "LC_ALL=C", NULL,
		};
		sigset_t none;
		int tty;

		setsid();
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		tty = open("/dev/ttyS0", O_RDWR);
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
		struct pollfd p = { .fd = sigfd, .events = POLLIN };
		struct signalfd_siginfo si;
		long long left = deadline - now_ms();
		pid_t w;

		if (pid < 0 || (w = waitpid(pid, &status, WNOHANG)) == pid)
			break;
		if (left <= 0) {
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			status = -1;
			break;
		}
		if (poll(&p, 1, left > 1000000 ? 1000000 : (int)left) > 0)
			while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				;
	}
	/* the session leader's exit hung the line up: our old descriptor now
	 * fails with EIO, so open the line afresh (raw again) for the records */
	close(serial);
	if (open_serial() < 0)
		kmsg("vkci-init: cannot reopen /dev/ttyS0 after the shell\n");
	(void)raw;
	write_all(serial, "\n", 1);
	return pid < 0 ? 127 << 8 : status;
}

/* ---- file transfer (PROTOCOL.md, "File transfer") ------------------------
 * Every regular file under the fetch dir, depth first in name order, as
 * begin/data/end records; symlinks and special files are skipped, as are
 * files without any read permission bit (debugfs control files such as
 * gcov/reset). Files are read() to EOF: debugfs reports their size as 0. */
#define XFER_CHUNK 3072              /* file bytes per data record: 4096 base64 chars */
#define XFER_MAX_DEPTH 32
#define XFER_MAX_ENCODED 3072        /* percent-encoded name in a begin record */
#define XFER_AGENT_MAX_FILE (1ULL << 30)

static unsigned long xfer_files;
static unsigned long long xfer_bytes;

static uint32_t crc32_update(uint32_t crc, const unsigned char *p, size_t len)
{
	static uint32_t table[256];

	if (!table[1])
		for (uint32_t n = 0; n < 256; n++) {
			uint32_t c = n;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[n] = c;
		}
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* "F <key> <verb> <arg>\n" in one write; arg is at most 4096 bytes. */
static void frecord(const char *verb, const char *arg, size_t len)
{
	static char buf[4700];
	int n = snprintf(buf, sizeof(buf), "F %s %s%s", token, verb, len ? " " : "");

	if (len > sizeof(buf) - (size_t)n - 1)
		len = sizeof(buf) - (size_t)n - 1;
	memcpy(buf + n, arg, len);
	buf[(size_t)n + len] = '\n';
	write_all(serial, buf, (size_t)n + len + 1);
}

static void fnote(const char *verb, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void fnote(const char *verb, const char *f, ...)
{
	char msg[400];
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(msg, sizeof(msg), f, ap);
	va_end(ap);
	if (n >= (int)sizeof(msg))
		n = sizeof(msg) - 1;
	for (int i = 0; i < n; i++)
		if (msg[i] == '\n')
			msg[i] = ' ';
	frecord(verb, msg, n > 0 ? (size_t)n : 0);
}

static size_t base64(const unsigned char *in, size_t n, char *out)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0, i;

	for (i = 0; i + 2 < n; i += 3) {
		out[o++] = b64[in[i] >> 2];
		out[o++] = b64[(in[i] & 3) << 4 | in[i + 1] >> 4];
		out[o++] = b64[(in[i + 1] & 15) << 2 | in[i + 2] >> 6];
		out[o++] = b64[in[i + 2] & 63];
	}
	if (n - i == 1) {
		out[o++] = b64[in[i] >> 2];
		out[o++] = b64[(in[i] & 3) << 4];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		out[o++] = b64[in[i] >> 2];
		out[o++] = b64[(in[i] & 3) << 4 | in[i + 1] >> 4];
		out[o++] = b64[(in[i + 1] & 15) << 2];
		out[o++] = '=';
	}
	return o;
}

/* The name as the protocol carries it: bytes outside [A-Za-z0-9._/=:+-] as %XX. */
static size_t encode_name(const char *s, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (o + 4 > size)
			return 0;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    strchr("._/=:+-", c)) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	return o;
}

static void send_file(int dfd, const char *name, const char *rel)
{
	static unsigned char chunk[XFER_CHUNK];
	static char enc[XFER_MAX_ENCODED + 8], b64[4200];
	unsigned long long total = 0;
	uint32_t crc = 0;
	size_t elen = encode_name(rel, enc, sizeof(enc) - 4), have = 0;
	int fd, eof = 0;

	if (!elen || elen > XFER_MAX_ENCODED) {
		fnote("abort", "skipped a file under '%.60s': name too long", rel);
		return;
	}
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		fnote("abort", "cannot open '%.200s': %s", rel, strerror(errno));
		return;
	}
	frecord("begin", enc, elen);
	while (!eof) {
		ssize_t n = read(fd, chunk + have, sizeof(chunk) - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fnote("abort", "cannot read '%.200s': %s", rel, strerror(errno));
			close(fd);
			return;
		}
		eof = n == 0;
		have += (size_t)n;
		if (have == sizeof(chunk) || (eof && have)) {
			if (total + have > XFER_AGENT_MAX_FILE) {
				fnote("abort", "'%.200s' is larger than 1 GiB", rel);
				close(fd);
				return;
			}
			crc = crc32_update(crc, chunk, have);
			total += have;
			frecord("data", b64, base64(chunk, have, b64));
			have = 0;
		}
	}
	close(fd);
	snprintf(b64, sizeof(b64), "%llu %08x", total, crc);
	frecord("end", b64, strlen(b64));
	xfer_files++;
	xfer_bytes += total;
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* rel: the path of dfd relative to the fetch dir ("" at the top), in a
 * buffer of PATH_MAX bytes. Takes dfd. */
static void send_dir(int dfd, char *rel, int depth)
{
	struct dirent **list;
	size_t rlen = strlen(rel);
	int n = scandirat(dfd, ".", &list, NULL, name_cmp);

	if (n < 0) {
		fnote("abort", "cannot read dir '%.200s': %s", rlen ? rel : ".", strerror(errno));
		close(dfd);
		return;
	}
	for (int i = 0; i < n; i++) {
		const char *name = list[i]->d_name;
		struct stat st;

		if (!strcmp(name, ".") || !strcmp(name, "..") ||
		    snprintf(rel + rlen, 4096 - rlen, "%s%s", rlen ? "/" : "", name) >= (int)(4096 - rlen) ||
		    fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			free(list[i]);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			int sub = depth < XFER_MAX_DEPTH - 1 ?
				  openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;

			if (sub >= 0)
				send_dir(sub, rel, depth + 1);
			else
				fnote("abort", "skipped dir '%.200s': %s", rel,
				      depth < XFER_MAX_DEPTH - 1 ? strerror(errno) : "too deep");
		} else if (S_ISREG(st.st_mode) && (st.st_mode & 0444)) {
			send_file(dfd, name, rel);
		}
		rel[rlen] = '\0';
		free(list[i]);
	}
	free(list);
	close(dfd);
}

static void send_tree(const char *root)
{
	static char rel[4096];
	char count[64];
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	rel[0] = '\0';
	if (fd < 0)
		fnote("abort", "cannot open '%.200s' (vkci.fetch=): %s", root, strerror(errno));
	else
		send_dir(fd, rel, 0);
	snprintf(count, sizeof(count), "%lu %llu", xfer_files, xfer_bytes);
	frecord("count", count, strlen(count));
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
	control('D', NULL);
	if (serial >= 0)
		tcdrain(serial);
	reboot(RB_POWER_OFF);
	kmsg("vkci-init: power off failed\n");
	for (;;)
		pause();
}

static _Noreturn void fail(const char *msg)
{
	char line[600];

	snprintf(line, sizeof(line), "vkci-init: %s\n", msg);
	kmsg(line);
	control('!', "%s", msg);
	reap_everything();
	power_off();
}

int main(void)
{
	static struct job job;
	struct stream out = { .tag_full = 'O', .tag_part = 'o' };
	struct stream errs = { .tag_full = 'E', .tag_part = 'e' };
	char err[512], path[300];
	int po[2], pe[2], status, sigfd;
	sigset_t chld;
	pid_t pid;

	if (getpid() != 1) {
		fprintf(stderr, "vkci-init: must run as PID 1 of a vkci guest\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (mount_all(err, sizeof(err)) < 0) {
		open_serial();
		fail(err);
	}
	if (open_serial() < 0) {
		kmsg("vkci-init: cannot open /dev/ttyS0 (is ssl0= given?)\n");
		power_off();
	}
	record('V', "vkci-agent 1", 12);
	if (receive_key() < 0)
		fail("no key from the host on the serial line");
	if (read_cmdline(&job, err, sizeof(err)) < 0)
		fail(err);
	if (network(&job, err, sizeof(err)) < 0)
		fail(err);
	if (job.shell) {
		status = run_shell(&job, sigfd);
		if (status < 0)
			control('X', "timeout %ld", job.timeout_s);
		else if (WIFSIGNALED(status))
			control('X', "signal %d", WTERMSIG(status));
		else
			control('X', "exit %d", WEXITSTATUS(status));
		reap_everything();
		power_off();
	}
	snprintf(path, sizeof(path), "/payload/%s", job.test);
	if (access(path, F_OK) < 0) {
		snprintf(err, sizeof(err), "test '%s' not found in the payload (rebuild it: make payload)",
			 job.test);
		fail(err);
	}
	if (sigfd < 0 || pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0)
		fail("cannot create pipes");
	pid = start_test(&job, path, po[1], pe[1], err, sizeof(err));
	close(po[1]);
	close(pe[1]);
	if (pid < 0)
		fail(err);
	control('S', "%s", job.test);
	out.fd = po[0];
	errs.fd = pe[0];
	status = supervise(pid, sigfd, &out, &errs, job.timeout_s);
	if (status < 0)
		control('X', "timeout %ld", job.timeout_s);
	else if (WIFSIGNALED(status))
		control('X', "signal %d", WTERMSIG(status));
	else
		control('X', "exit %d", WEXITSTATUS(status));
	reap_everything();
	if (job.fetch[0])
		send_tree(job.fetch);
	power_off();
}
