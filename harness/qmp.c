/* qmp.c - the QEMU monitor (QMP) on the host's end of a socketpair
 * (qemu.h): one JSON object per line, the greeting, then a command and its
 * reply at a time; events in between are skipped. Only a template boot uses
 * it (migrate, query-migrate, quit). Replies are parsed with jansson;
 * lines are bounded by the buffer. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "qemu.h"
#include "util.h"
#include "banned.h"

/* The next line as a JSON object (caller json_decref), by the deadline. */
static json_t *next_object(struct qmp *q, long long deadline, char *err, size_t size)
{
	for (;;) {
		char *nl = memchr(q->buf, '\n', q->len);
		struct pollfd p = { .fd = q->fd, .events = POLLIN };
		long long left;
		ssize_t n;

		if (nl) {
			size_t line = (size_t)(nl - q->buf);
			json_error_t je;
			json_t *o = json_loadb(q->buf, line, 0, &je);

			memmove(q->buf, nl + 1, q->len - line - 1);
			q->len -= line + 1;
			if (!o || !json_is_object(o)) {
				json_decref(o);
				fmt(err, size, "the monitor sent a line that is not a JSON object");
				return NULL;
			}
			return o;
		}
		if (q->len == sizeof(q->buf)) {
			fmt(err, size, "the monitor sent a line longer than %zu bytes", sizeof(q->buf));
			return NULL;
		}
		left = deadline - now_ms();
		if (left <= 0) {
			fmt(err, size, "no answer from the monitor in time");
			return NULL;
		}
		if (poll(&p, 1, left > 1000 ? 1000 : (int)left) <= 0)
			continue;
		n = read(q->fd, q->buf + q->len, sizeof(q->buf) - q->len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			fmt(err, size, "the monitor closed (QEMU exited?)");
			return NULL;
		}
		q->len += (size_t)n;
	}
}

int qmp_open(struct qmp *q, int fd, long long deadline, char *err, size_t size)
{
	json_t *o;
	int greeting;

	q->fd = fd;
	q->len = 0;
	if (!(o = next_object(q, deadline, err, size)))
		return -1;
	greeting = json_object_get(o, "QMP") != NULL;
	json_decref(o);
	if (!greeting)
		return fmt(err, size, "the monitor did not greet"), -1;
	return qmp_cmd(q, "{\"execute\": \"qmp_capabilities\"}", NULL, NULL, 0, deadline, err, size);
}

/* The reply to the command just sent. */
static int reply(struct qmp *q, const char *key, char *out, size_t outsize, long long deadline, char *err,
		 size_t size)
{
	if (out && outsize)
		out[0] = '\0';
	for (;;) {
		json_t *o = next_object(q, deadline, err, size), *ret, *e;

		if (!o)
			return -1;
		if ((e = json_object_get(o, "error"))) {
			const char *desc = json_string_value(json_object_get(e, "desc"));

			fmt(err, size, "%.200s", desc ? desc : "error");
			json_decref(o);
			return -1;
		}
		if ((ret = json_object_get(o, "return"))) {
			const char *v = key ? json_string_value(json_object_get(ret, key)) : NULL;

			if (out && outsize)
				fmt(out, outsize, "%s", v ? v : "");
			json_decref(o);
			return 0;
		}
		json_decref(o);   /* an event */
	}
}

int qmp_cmd(struct qmp *q, const char *cmd, const char *key, char *out, size_t outsize,
	    long long deadline, char *err, size_t size)
{
	if (write_all(q->fd, cmd, strlen(cmd)) < 0 || write_all(q->fd, "\n", 1) < 0)
		return fmt(err, size, "cannot write to the monitor: %s", strerror(errno)), -1;
	return reply(q, key, out, outsize, deadline, err, size);
}

int qmp_getfd(struct qmp *q, const char *name, int fd, long long deadline, char *err, size_t size)
{
	char cmd[128], ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov;
	struct msghdr m;
	struct cmsghdr *c;
	int n = fmt(cmd, sizeof(cmd), "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"%s\"}}\n", name);

	if (n < 0)
		return fmt(err, size, "fd name too long"), -1;
	memset(&m, 0, sizeof(m));
	memset(ctl, 0, sizeof(ctl));
	iov.iov_base = cmd;
	iov.iov_len = (size_t)n;
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = ctl;
	m.msg_controllen = sizeof(ctl);
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	while (sendmsg(q->fd, &m, MSG_NOSIGNAL) != n)
		if (errno != EINTR)
			return fmt(err, size, "cannot pass an fd to the monitor: %s", strerror(errno)), -1;
	return reply(q, NULL, NULL, 0, deadline, err, size);
}
