/* SO_REUSEADDR and SO_REUSEPORT: after a server closes a connection first
 * (its side in TIME_WAIT), binding the port again fails with EADDRINUSE
 * without SO_REUSEADDR and succeeds with it; two listeners with
 * SO_REUSEPORT share one port and both get connections, a third socket
 * without the option is refused, and the survivor takes over when one closes */
/* vkci: timeout=30 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "vkci_test.h"

#define NCONN 32

static int sock_opt(int opt)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (s < 0)
		bail("socket: %s", strerror(errno));
	if (opt && setsockopt(s, SOL_SOCKET, opt, &one, sizeof(one)) < 0)
		bail("setsockopt: %s", strerror(errno));
	return s;
}

/* is there a TCP socket in state st (hex, /proc/net/tcp) on local port? */
static int tcp_state_on(unsigned port, unsigned st)
{
	char line[512];
	FILE *f = fopen("/proc/net/tcp", "re");
	int found = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned lport, state;

		if (sscanf(line, " %*d: %*x:%x %*x:%*x %x", &lport, &state) == 2 &&
		    lport == port && state == st)
			found = 1;
	}
	fclose(f);
	return found;
}

static int has_pending(int l)
{
	struct pollfd p = { .fd = l, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int l, c, s, i, tw = 0, l1, l2, l3, n1 = 0, n2 = 0, fails = 0;
	char buf[8];

	vt_init(argc, argv);
	plan(11);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	/* a server with SO_REUSEADDR, one connection, closed by the server first */
	l = sock_opt(SO_REUSEADDR);
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &alen) < 0)
		bail("listen: %s", strerror(errno));
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c, (struct sockaddr *)&a, sizeof(a)) < 0 || (s = accept(l, NULL, NULL)) < 0)
		bail("connect/accept: %s", strerror(errno));
	close(l);
	close(s);                      /* active close: the server's end goes to TIME_WAIT */
	is_int(read(c, buf, sizeof(buf)), 0, "the client sees the server's FIN");
	close(c);
	for (i = 0; i < 100 && (tw = tcp_state_on(ntohs(a.sin_port), 0x06)) == 0; i++)
		usleep(10000);
	is_int(tw, 1, "the server's end of port %u is in TIME_WAIT", ntohs(a.sin_port));

	l = sock_opt(0);
	ok_errno(bind(l, (struct sockaddr *)&a, sizeof(a)), EADDRINUSE,
		 "bind to the port in TIME_WAIT without SO_REUSEADDR: EADDRINUSE");
	close(l);
	l = sock_opt(SO_REUSEADDR);
	ok(bind(l, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(l, 1) == 0,
	   "with SO_REUSEADDR the port binds and listens again");
	c = socket(AF_INET, SOCK_STREAM, 0);
	ok_sys(connect(c, (struct sockaddr *)&a, sizeof(a)), "and the new listener accepts connections");
	close(c);
	close(l);

	/* SO_REUSEPORT: two listeners on one port */
	a.sin_port = 0;
	l1 = sock_opt(SO_REUSEPORT);
	alen = sizeof(a);
	if (bind(l1, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l1, NCONN) < 0 ||
	    getsockname(l1, (struct sockaddr *)&a, &alen) < 0)
		bail("listen with SO_REUSEPORT: %s", strerror(errno));
	l2 = sock_opt(SO_REUSEPORT);
	ok(bind(l2, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(l2, NCONN) == 0,
	   "a second SO_REUSEPORT listener binds the same port %u", ntohs(a.sin_port));
	l3 = sock_opt(0);
	ok_errno(bind(l3, (struct sockaddr *)&a, sizeof(a)), EADDRINUSE,
		 "a socket without SO_REUSEPORT on that port: EADDRINUSE");
	close(l3);
	for (i = 0; i < NCONN; i++) {
		c = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(c, (struct sockaddr *)&a, sizeof(a)) < 0)
			fails++;
		close(c);
		while (has_pending(l1) && (s = accept(l1, NULL, NULL)) >= 0)
			n1++, close(s);
		while (has_pending(l2) && (s = accept(l2, NULL, NULL)) >= 0)
			n2++, close(s);
	}
	for (i = 0; i < 100 && n1 + n2 + fails < NCONN; i++) {   /* the last ACKs, bounded */
		struct pollfd p[2] = { { .fd = l1, .events = POLLIN }, { .fd = l2, .events = POLLIN } };

		poll(p, 2, 20);
		while (has_pending(l1) && (s = accept(l1, NULL, NULL)) >= 0)
			n1++, close(s);
		while (has_pending(l2) && (s = accept(l2, NULL, NULL)) >= 0)
			n2++, close(s);
	}
	is_int(n1 + n2 + fails, NCONN, "%d connections: every one connected and was accepted once", NCONN);
	is_int(fails, 0, "no connect failed");
	ok(n1 > 0 && n2 > 0, "both listeners got connections (%d and %d)", n1, n2);
	close(l1);
	for (i = 0, n2 = 0; i < 8; i++) {
		c = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(c, (struct sockaddr *)&a, sizeof(a)) == 0 && (s = accept(l2, NULL, NULL)) >= 0)
			n2++, close(s);
		close(c);
	}
	is_int(n2, 8, "with one listener closed, the other takes all 8 new connections");
	return exit_status();
}
