/* non-blocking TCP connect: EINPROGRESS, then POLLOUT and SO_ERROR 0, a second
 * connect returns 0 and a third says EISCONN; to a closed port EINPROGRESS then POLLERR
 * and SO_ERROR ECONNREFUSED (read once, then 0); to a listener whose accept
 * queue is full the SYN is dropped, so the connect stays pending: EALREADY */
/* vkci: timeout=30 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "vkci_test.h"

static int so_error(int s)
{
	int e = -1;
	socklen_t len = sizeof(e);

	if (getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
		return -1;
	return e;
}

static int listener(struct sockaddr_in *a, int backlog)
{
	socklen_t len = sizeof(*a);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || bind(l, (struct sockaddr *)a, sizeof(*a)) < 0 || listen(l, backlog) < 0 ||
	    getsockname(l, (struct sockaddr *)a, &len) < 0)
		bail("listen: %s", strerror(errno));
	return l;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a, b;
	struct pollfd p = { .events = POLLOUT };
	int l, s, s2, full;

	vt_init(argc, argv);
	plan(13);

	l = listener(&a, 4);
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ok_errno(connect(s, (struct sockaddr *)&a, sizeof(a)), EINPROGRESS,
		 "non-blocking connect to a listener: EINPROGRESS");
	p.fd = s;
	ok(poll(&p, 1, 2000) == 1 && (p.revents & POLLOUT) && !(p.revents & POLLERR),
	   "poll reports POLLOUT when the handshake is done");
	is_int(so_error(s), 0, "SO_ERROR is 0: connected");
	is_int(connect(s, (struct sockaddr *)&a, sizeof(a)), 0,
	       "connect again reports the completed connection: 0");
	ok_errno(connect(s, (struct sockaddr *)&a, sizeof(a)), EISCONN, "and once more: EISCONN");
	ok_sys(write(s, "hi", 2), "the socket is usable");
	close(s);

	/* closed port */
	close(l);
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ok_errno(connect(s, (struct sockaddr *)&a, sizeof(a)), EINPROGRESS,
		 "non-blocking connect to a closed port: EINPROGRESS too");
	p.fd = s;
	p.revents = 0;
	full = poll(&p, 1, 2000);
	ok(full == 1 && (p.revents & POLLERR), "poll reports POLLERR (revents 0x%x)", p.revents);
	is_int(so_error(s), ECONNREFUSED, "SO_ERROR is ECONNREFUSED");
	is_int(so_error(s), 0, "reading SO_ERROR cleared it");
	close(s);

	/* a full accept queue: backlog 0 holds one connection, the next SYN is dropped */
	l = listener(&b, 0);
	full = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(full, (struct sockaddr *)&b, sizeof(b)) < 0)
		bail("connect to fill the queue: %s", strerror(errno));
	s2 = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ok_errno(connect(s2, (struct sockaddr *)&b, sizeof(b)), EINPROGRESS,
		 "non-blocking connect to a listener with a full queue: EINPROGRESS");
	ok_errno(connect(s2, (struct sockaddr *)&b, sizeof(b)), EALREADY,
		 "connect again while the SYN is unanswered: EALREADY");
	p.fd = s2;
	p.revents = 0;
	is_int(poll(&p, 1, 300), 0, "still not writable after 300 ms: the connect is pending");
	close(s2);
	close(full);
	close(l);
	return exit_status();
}
