/* TCP socket options through getsockopt/setsockopt: TCP_NODELAY defaults to
 * off and reads back what was set, SO_TYPE/SO_DOMAIN/SO_PROTOCOL describe
 * the socket, SO_ACCEPTCONN tells a listener, SO_RCVBUF reads back doubled,
 * SO_KEEPALIVE and TCP_KEEPIDLE round-trip, TCP_INFO says ESTABLISHED,
 * TCP_MAXSEG is sane, and bad levels/lengths fail with the right errno */
/* vkci: timeout=30 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "vkci_test.h"

static int geti(int s, int level, int opt)
{
	int v = -12345;
	socklen_t len = sizeof(v);

	if (getsockopt(s, level, opt, &v, &len) < 0)
		return -12345;
	return v;
}

static int seti(int s, int level, int opt, int v)
{
	return setsockopt(s, level, opt, &v, sizeof(v));
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	struct tcp_info ti;
	int l, c, s, v;

	vt_init(argc, argv);
	plan(17);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0)
		bail("socket: %s", strerror(errno));

	is_int(geti(c, IPPROTO_TCP, TCP_NODELAY), 0, "TCP_NODELAY is off by default");
	ok_sys(seti(c, IPPROTO_TCP, TCP_NODELAY, 1), "set TCP_NODELAY");
	ok(geti(c, IPPROTO_TCP, TCP_NODELAY) != 0, "TCP_NODELAY reads back as on");
	seti(c, IPPROTO_TCP, TCP_NODELAY, 0);
	is_int(geti(c, IPPROTO_TCP, TCP_NODELAY), 0, "and off again");
	ok(geti(c, SOL_SOCKET, SO_TYPE) == SOCK_STREAM && geti(c, SOL_SOCKET, SO_DOMAIN) == AF_INET &&
	   geti(c, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_TCP,
	   "SO_TYPE, SO_DOMAIN, SO_PROTOCOL: SOCK_STREAM, AF_INET, IPPROTO_TCP");
	seti(c, SOL_SOCKET, SO_RCVBUF, 16384);
	is_int(geti(c, SOL_SOCKET, SO_RCVBUF), 32768, "SO_RCVBUF 16384 reads back doubled (bookkeeping)");
	is_int(geti(c, SOL_SOCKET, SO_KEEPALIVE), 0, "SO_KEEPALIVE is off by default");
	seti(c, SOL_SOCKET, SO_KEEPALIVE, 1);
	seti(c, IPPROTO_TCP, TCP_KEEPIDLE, 42);
	ok(geti(c, SOL_SOCKET, SO_KEEPALIVE) == 1 && geti(c, IPPROTO_TCP, TCP_KEEPIDLE) == 42,
	   "SO_KEEPALIVE on and TCP_KEEPIDLE 42 read back");
	ok_errno(seti(c, IPPROTO_TCP, TCP_KEEPIDLE, 0), EINVAL, "TCP_KEEPIDLE 0: EINVAL");

	l = socket(AF_INET, SOCK_STREAM, 0);
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &len) < 0)
		bail("listen: %s", strerror(errno));
	ok(geti(l, SOL_SOCKET, SO_ACCEPTCONN) == 1 && geti(c, SOL_SOCKET, SO_ACCEPTCONN) == 0,
	   "SO_ACCEPTCONN: 1 on the listener, 0 on the other socket");
	seti(l, IPPROTO_TCP, TCP_NODELAY, 1);
	if (connect(c, (struct sockaddr *)&a, sizeof(a)) < 0 || (s = accept(l, NULL, NULL)) < 0)
		bail("connect/accept: %s", strerror(errno));
	ok(geti(s, IPPROTO_TCP, TCP_NODELAY) != 0, "an accepted socket inherits TCP_NODELAY from the listener");
	memset(&ti, 0, sizeof(ti));
	len = sizeof(ti);
	v = getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &len);
	ok(v == 0 && ti.tcpi_state == TCP_ESTABLISHED,
	   "TCP_INFO: state ESTABLISHED (%u)", ti.tcpi_state);
	v = geti(c, IPPROTO_TCP, TCP_MAXSEG);
	ok(v >= 536 && v <= 65483, "TCP_MAXSEG on the loopback connection is sane (%d)", v);
	is_int(geti(s, SOL_SOCKET, SO_ERROR), 0, "SO_ERROR is 0 on a healthy connection");

	{
		char small = 0;
		socklen_t sl = sizeof(small);
		int big = 0;

		ok_errno(getsockopt(c, 12345, 1, &big, &len), EOPNOTSUPP, "an unknown level: EOPNOTSUPP");
		ok_errno(getsockopt(c, IPPROTO_TCP, 9999, &big, &len), ENOPROTOOPT,
			 "an unknown TCP option: ENOPROTOOPT");
		ok_errno(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &small, sl), EINVAL,
			 "setsockopt(TCP_NODELAY) with a 1-byte value: EINVAL");
	}
	return exit_status();
}
