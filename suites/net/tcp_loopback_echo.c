/* TCP over loopback: listen on an ephemeral port, connect, echo messages
 * both ways (a child process is the server), addresses agree on both ends,
 * and a 1 MB stream arrives intact and in order */
/* vkci: timeout=30 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include "vkci_test.h"

#define BULK (1 << 20)

static int lsock;

static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = read(fd, (char *)buf + got, len - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return got ? (ssize_t)got : r;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* the echo server: one connection, echo until EOF */
static int server(void *arg)
{
	char buf[65536];
	ssize_t n;
	int c;

	(void)arg;
	c = accept(lsock, NULL, NULL);
	if (c < 0)
		return 10;
	while ((n = read(c, buf, sizeof(buf))) > 0)
		if (write(c, buf, (size_t)n) != n)
			return 11;
	close(c);
	return n < 0 ? 12 : 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET }, local, peer, srv;
	socklen_t alen = sizeof(a);
	static unsigned char out[BULK], in[BULK];
	char buf[64];
	int s, status, i, bad = 0;
	pid_t pid;

	vt_init(argc, argv);
	plan(9);
	signal(SIGPIPE, SIG_IGN);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lsock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lsock < 0 || bind(lsock, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lsock, 4) < 0 ||
	    getsockname(lsock, (struct sockaddr *)&a, &alen) < 0)
		bail("cannot listen on 127.0.0.1: %s", strerror(errno));
	ok(ntohs(a.sin_port) != 0 && a.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
	   "listening on 127.0.0.1, the kernel picked port %u", ntohs(a.sin_port));

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		bail("fork: %s", strerror(errno));
	if (pid == 0)
		_exit(server(NULL));
	close(lsock);

	s = socket(AF_INET, SOCK_STREAM, 0);
	ok_sys(connect(s, (struct sockaddr *)&a, sizeof(a)), "connect to the listener");
	alen = sizeof(local);
	getsockname(s, (struct sockaddr *)&local, &alen);
	alen = sizeof(peer);
	getpeername(s, (struct sockaddr *)&peer, &alen);
	srv = a;
	ok(peer.sin_addr.s_addr == srv.sin_addr.s_addr && peer.sin_port == srv.sin_port &&
	   local.sin_addr.s_addr == htonl(INADDR_LOOPBACK) && local.sin_port != srv.sin_port,
	   "getpeername is the listener, getsockname is 127.0.0.1 on another port");

	is_int(write(s, "hello, echo", 11), 11, "write a message");
	memset(buf, 0, sizeof(buf));
	is_int(read_full(s, buf, 11), 11, "read the echo back");
	is_string(buf, "hello, echo", "the echo is the message");

	for (i = 0; i < BULK; i++)
		out[i] = (unsigned char)(i * 7 + (i >> 11));
	{
		/* a child writes the bulk while we read, so neither side blocks forever */
		pid_t w;

		fflush(stdout);
		w = fork();
		if (w == 0) {
			size_t off = 0;

			while (off < BULK) {
				ssize_t r = write(s, out + off, BULK - off);

				if (r <= 0)
					_exit(1);
				off += (size_t)r;
			}
			shutdown(s, SHUT_WR);
			_exit(0);
		}
		is_int(read_full(s, in, BULK), BULK, "1 MB sent through the echo server comes back");
		for (i = 0; i < BULK; i++)
			bad += in[i] != out[i];
		is_int(bad, 0, "every byte of the bulk echo is intact and in order");
		if (w > 0)
			waitpid(w, NULL, 0);
	}
	close(s);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "the server saw EOF and exited cleanly (status 0x%x)", status);
	return exit_status();
}
