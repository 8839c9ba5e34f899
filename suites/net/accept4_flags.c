/* accept4(2): SOCK_NONBLOCK and SOCK_CLOEXEC land on the accepted fd,
 * flags 0 gives neither, O_NONBLOCK of the listener is not inherited, a
 * non-blocking listener with nothing pending says EAGAIN, unknown flags are
 * EINVAL, and the peer address is returned */
/* vkci: timeout=30 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "vkci_test.h"

static struct sockaddr_in la;

static int client(void)
{
	int c = socket(AF_INET, SOCK_STREAM, 0);

	if (c < 0 || connect(c, (struct sockaddr *)&la, sizeof(la)) < 0)
		bail("connect: %s", strerror(errno));
	return c;
}

static int nonblock(int fd) { return (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0; }
static int cloexec(int fd) { return (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0; }

int main(int argc, char **argv)
{
	struct sockaddr_in peer, cname;
	socklen_t len = sizeof(la), plen;
	int l, c, s;

	vt_init(argc, argv);
	plan(12);
	la.sin_family = AF_INET;
	la.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&la, sizeof(la)) < 0 || listen(l, 8) < 0 ||
	    getsockname(l, (struct sockaddr *)&la, &len) < 0)
		bail("listen: %s", strerror(errno));

	c = client();
	s = accept4(l, NULL, NULL, 0);
	ok(s >= 0 && !nonblock(s) && !cloexec(s), "accept4(flags 0): blocking, no close-on-exec");
	close(s);
	close(c);

	c = client();
	s = accept4(l, NULL, NULL, SOCK_NONBLOCK);
	ok(s >= 0 && nonblock(s) && !cloexec(s), "accept4(SOCK_NONBLOCK): O_NONBLOCK only");
	ok_errno(read(s, &len, 1), EAGAIN, "and a read with no data says EAGAIN");
	close(s);
	close(c);

	c = client();
	s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	ok(s >= 0 && !nonblock(s) && cloexec(s), "accept4(SOCK_CLOEXEC): FD_CLOEXEC only");
	close(s);
	close(c);

	c = client();
	plen = sizeof(peer);
	s = accept4(l, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
	ok(s >= 0 && nonblock(s) && cloexec(s), "accept4(SOCK_NONBLOCK|SOCK_CLOEXEC): both");
	len = sizeof(cname);
	getsockname(c, (struct sockaddr *)&cname, &len);
	is_int(plen, sizeof(struct sockaddr_in), "the address length is sizeof(struct sockaddr_in)");
	ok(peer.sin_family == AF_INET && peer.sin_port == cname.sin_port &&
	   peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK), "the address is the client's (port %u)",
	   ntohs(peer.sin_port));
	close(s);
	close(c);

	ok_errno(accept4(l, NULL, NULL, 0x40000000), EINVAL, "accept4 with an unknown flag: EINVAL");

	fcntl(l, F_SETFL, fcntl(l, F_GETFL) | O_NONBLOCK);
	ok_errno(accept4(l, NULL, NULL, 0), EAGAIN, "non-blocking listener, nothing pending: EAGAIN");
	c = client();
	s = accept4(l, NULL, NULL, 0);
	ok(s >= 0 && !nonblock(s), "the listener's O_NONBLOCK is not inherited by the accepted fd");
	close(s);
	close(c);
	s = socket(AF_INET, SOCK_STREAM, 0);
	ok_errno(accept4(s, NULL, NULL, 0), EINVAL, "accept4 on a socket that does not listen: EINVAL");
	close(s);
	ok_errno(accept4(0x7fff, NULL, NULL, 0), EBADF, "accept4 on a bad fd: EBADF");
	return exit_status();
}
