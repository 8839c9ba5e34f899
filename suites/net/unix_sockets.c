/* AF_UNIX sockets: a stream socket bound to a path (the socket file exists,
 * a second bind fails with EADDRINUSE, the peer's address is seen), one in
 * the abstract namespace, datagram boundaries, and SCM_RIGHTS: an fd passed
 * over the socket arrives as a new fd on the same open file (shared offset),
 * with MSG_CTRUNC when the control buffer is too small */
/* vkci: timeout=30 */
#include <fcntl.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "vkci_test.h"

static socklen_t path_addr(struct sockaddr_un *a, const char *path, int abstract)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (abstract) {
		memcpy(a->sun_path + 1, path, strlen(path));
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(path));
	}
	snprintf(a->sun_path, sizeof(a->sun_path), "%s", path);
	return sizeof(*a);
}

/* send one byte plus nfd descriptors */
static ssize_t send_fds(int s, const int *fds, int nfd)
{
	char cbuf[CMSG_SPACE(4 * sizeof(int))];
	struct iovec iov = { .iov_base = "F", .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	memset(cbuf, 0, sizeof(cbuf));
	mh.msg_control = cbuf;
	mh.msg_controllen = CMSG_SPACE(nfd * sizeof(int));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(nfd * sizeof(int));
	memcpy(CMSG_DATA(c), fds, nfd * sizeof(int));
	return sendmsg(s, &mh, 0);
}

/* receive one byte; returns the first passed fd or -1; *flags = msg_flags */
static int recv_fd(int s, size_t cspace, int *flags)
{
	char cbuf[256], b;
	struct iovec iov = { .iov_base = &b, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	int fd = -1;

	mh.msg_control = cbuf;
	mh.msg_controllen = cspace;
	if (recvmsg(s, &mh, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	*flags = mh.msg_flags;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(int)))
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

int main(int argc, char **argv)
{
	const char *path = "/tmp/vkci-unix.sock";
	struct sockaddr_un a, peer;
	socklen_t alen, plen = sizeof(peer);
	struct stat st, st2;
	char buf[64];
	int l, c, s, l2, d1, d2, fd, got, flags, sv[2];

	vt_init(argc, argv);
	plan(17);
	unlink(path);

	/* stream, path name */
	alen = path_addr(&a, path, 0);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&a, alen) < 0 || listen(l, 2) < 0)
		bail("cannot listen on %s: %s", path, strerror(errno));
	ok(stat(path, &st) == 0 && S_ISSOCK(st.st_mode), "bind creates a socket file at %s", path);
	l2 = socket(AF_UNIX, SOCK_STREAM, 0);
	ok_errno(bind(l2, (struct sockaddr *)&a, alen), EADDRINUSE, "a second bind to the same path: EADDRINUSE");
	close(l2);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	ok_sys(connect(c, (struct sockaddr *)&a, alen), "connect to the path");
	s = accept(l, NULL, NULL);
	getpeername(c, (struct sockaddr *)&peer, &plen);
	is_string(peer.sun_path, path, "getpeername names the listener's path");
	write(c, "ab", 2);
	write(c, "cd", 2);
	memset(buf, 0, sizeof(buf));
	{
		ssize_t n = 0, r;

		while (n < 4 && (r = read(s, buf + n, sizeof(buf) - 1 - (size_t)n)) > 0)
			n += r;
	}
	is_string(buf, "abcd", "a stream socket is a byte stream: two writes read as 'abcd'");
	close(c);
	is_int(read(s, buf, sizeof(buf)), 0, "close of the peer reads as EOF");
	close(s);
	close(l);
	unlink(path);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	errno = 0;
	flags = connect(c, (struct sockaddr *)&a, alen);
	got = errno;
	ok(flags == -1 && got == ENOENT,
	   "connect after the listener and its file are gone: ENOENT (%s)", strerror(got));
	close(c);

	/* abstract namespace: no file */
	alen = path_addr(&a, "vkci-abstract", 1);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	ok(bind(l, (struct sockaddr *)&a, alen) == 0 && listen(l, 1) == 0,
	   "bind and listen in the abstract namespace");
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	ok_sys(connect(c, (struct sockaddr *)&a, alen), "connect to the abstract name");
	close(c);
	close(l);

	/* datagrams keep their boundaries */
	alen = path_addr(&a, "vkci-dgram", 1);
	d1 = socket(AF_UNIX, SOCK_DGRAM, 0);
	d2 = socket(AF_UNIX, SOCK_DGRAM, 0);
	bind(d1, (struct sockaddr *)&a, alen);
	sendto(d2, "first", 5, 0, (struct sockaddr *)&a, alen);
	sendto(d2, "second!", 7, 0, (struct sockaddr *)&a, alen);
	is_int(recv(d1, buf, sizeof(buf), 0), 5, "first datagram read alone (5 bytes)");
	is_int(recv(d1, buf, 3, 0), 3, "a short read of the second datagram returns 3 bytes");
	ok_errno(recv(d1, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN, "the truncated rest is discarded");
	close(d1);
	close(d2);

	/* SCM_RIGHTS */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		bail("socketpair: %s", strerror(errno));
	fd = open("/tmp/vkci-scm-file", O_RDWR | O_CREAT | O_TRUNC, 0600);
	write(fd, "0123456789", 10);
	lseek(fd, 2, SEEK_SET);
	is_int(send_fds(sv[0], &fd, 1), 1, "sendmsg with one fd in SCM_RIGHTS");
	got = recv_fd(sv[1], sizeof(buf), &flags);
	fstat(fd, &st);
	ok(got >= 0 && got != fd && fstat(got, &st2) == 0 && st.st_ino == st2.st_ino &&
	   st.st_dev == st2.st_dev, "a new fd (%d) on the same file arrives", got);
	memset(buf, 0, sizeof(buf));
	ok(got >= 0 && read(got, buf, 3) == 3 && !strcmp(buf, "234") &&
	   lseek(fd, 0, SEEK_CUR) == 5, "it shares the open file: offset 2 read '234', now 5 for both");
	ok(got >= 0 && (fcntl(got, F_GETFD) & FD_CLOEXEC), "MSG_CMSG_CLOEXEC set close-on-exec on it");
	if (got >= 0)
		close(got);
	/* no room for the control message: the fd is dropped, MSG_CTRUNC set */
	send_fds(sv[0], &fd, 1);
	got = recv_fd(sv[1], 0, &flags);
	ok(got == -1 && (flags & MSG_CTRUNC), "a receiver without control space gets MSG_CTRUNC, no fd");
	close(fd);
	unlink("/tmp/vkci-scm-file");
	return exit_status();
}
