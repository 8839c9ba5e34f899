/* shutdown(2) half-close on TCP: after the client's SHUT_WR the server reads
 * EOF (and sees POLLRDHUP) but can still send, the client still receives,
 * its own writes fail with EPIPE; SHUT_RD makes reads return 0; shutdown of
 * an unconnected socket is ENOTCONN and a bad 'how' EINVAL */
/* vkci: timeout=30 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include "vkci_test.h"
#include "vkci_net.h"

static ssize_t read_all(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t r;

	while (got < len && (r = read(fd, buf + got, len - got)) > 0)
		got += (size_t)r;
	return (ssize_t)got;
}

int main(int argc, char **argv)
{
	struct pollfd p = { .events = POLLIN | POLLRDHUP };
	char buf[64];
	int c, s, x;

	vt_init(argc, argv);
	plan(11);
	signal(SIGPIPE, SIG_IGN);
	vt_tcp_pair(&c, &s);

	write(c, "request", 7);
	ok_sys(shutdown(c, SHUT_WR), "client: shutdown(SHUT_WR) after sending a request");
	memset(buf, 0, sizeof(buf));
	ok(read_all(s, buf, sizeof(buf)) == 7 && !strcmp(buf, "request"),
	   "server: reads the request, then EOF");
	p.fd = s;
	ok(poll(&p, 1, 1000) == 1 && (p.revents & POLLRDHUP), "server: poll shows POLLRDHUP");
	is_int(read(s, buf, sizeof(buf)), 0, "server: further reads stay at EOF");
	is_int(write(s, "response", 8), 8, "server: can still write after the client's half-close");
	close(s);
	memset(buf, 0, sizeof(buf));
	ok(read_all(c, buf, sizeof(buf)) == 8 && !strcmp(buf, "response"),
	   "client: receives the response, then EOF");
	ok_errno(write(c, "more", 4), EPIPE, "client: writing after SHUT_WR fails with EPIPE");
	close(c);

	vt_tcp_pair(&c, &s);
	ok_sys(shutdown(c, SHUT_RD), "shutdown(SHUT_RD)");
	is_int(read(c, buf, sizeof(buf)), 0, "after SHUT_RD a read returns 0 at once");
	close(c);
	close(s);

	x = socket(AF_INET, SOCK_STREAM, 0);
	ok_errno(shutdown(x, SHUT_RDWR), ENOTCONN, "shutdown of an unconnected socket: ENOTCONN");
	vt_tcp_pair(&c, &s);
	ok_errno(shutdown(c, 7), EINVAL, "shutdown with how=7: EINVAL");
	return exit_status();
}
