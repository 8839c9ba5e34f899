/* IPv6 on loopback: TCP echo over ::1, UDP over ::1, the addresses are
 * AF_INET6 ::1, and a dual-stack listener on :: (IPV6_V6ONLY off) accepts
 * an IPv4 connection as ::ffff:127.0.0.1 while a V6ONLY one refuses it.
 * A kernel without CONFIG_IPV6 is skipped by vkci (config= below). */
/* vkci: timeout=30 config=IPV6 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "vkci_test.h"

#define NTESTS 11

static int listen6(struct sockaddr_in6 *a, const struct in6_addr *addr, int v6only)
{
	socklen_t len = sizeof(*a);
	int l = socket(AF_INET6, SOCK_STREAM, 0);

	memset(a, 0, sizeof(*a));
	a->sin6_family = AF_INET6;
	a->sin6_addr = *addr;
	if (l < 0 || setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) < 0 ||
	    bind(l, (struct sockaddr *)a, sizeof(*a)) < 0 || listen(l, 2) < 0 ||
	    getsockname(l, (struct sockaddr *)a, &len) < 0)
		bail("IPv6 listen: %s", strerror(errno));
	return l;
}

int main(int argc, char **argv)
{
	struct sockaddr_in6 a, peer, u6;
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	socklen_t len;
	char buf[64], txt[INET6_ADDRSTRLEN];
	int probe, perr, l, c, s, u, v;

	vt_init(argc, argv);
	plan(NTESTS);

	errno = 0;
	probe = socket(AF_INET6, SOCK_STREAM, 0);
	perr = errno;
	ok(probe >= 0, "socket(AF_INET6) works (%s)", probe >= 0 ? "yes" : strerror(perr));
	if (probe < 0)
		bail("no IPv6 socket on a kernel with CONFIG_IPV6: %s", strerror(perr));
	close(probe);

	l = listen6(&a, &in6addr_loopback, 1);
	c = socket(AF_INET6, SOCK_STREAM, 0);
	ok_sys(connect(c, (struct sockaddr *)&a, sizeof(a)), "TCP connect to [::1]:%u", ntohs(a.sin6_port));
	len = sizeof(peer);
	s = accept(l, (struct sockaddr *)&peer, &len);
	ok(s >= 0 && peer.sin6_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&peer.sin6_addr),
	   "accept: the peer is %s", inet_ntop(AF_INET6, &peer.sin6_addr, txt, sizeof(txt)) ? txt : "?");
	write(c, "over v6", 7);
	memset(buf, 0, sizeof(buf));
	ok(read(s, buf, sizeof(buf)) == 7 && !strcmp(buf, "over v6"), "data arrives over ::1");
	write(s, "back", 4);
	memset(buf, 0, sizeof(buf));
	ok(read(c, buf, sizeof(buf)) == 4 && !strcmp(buf, "back"), "and the reply comes back");
	close(s);
	close(c);
	close(l);

	/* UDP over ::1 */
	u = socket(AF_INET6, SOCK_DGRAM, 0);
	v = socket(AF_INET6, SOCK_DGRAM, 0);
	memset(&u6, 0, sizeof(u6));
	u6.sin6_family = AF_INET6;
	u6.sin6_addr = in6addr_loopback;
	len = sizeof(u6);
	if (bind(u, (struct sockaddr *)&u6, sizeof(u6)) < 0 || getsockname(u, (struct sockaddr *)&u6, &len) < 0)
		bail("UDP bind on ::1: %s", strerror(errno));
	is_int(sendto(v, "dgram6", 6, 0, (struct sockaddr *)&u6, sizeof(u6)), 6, "UDP sendto [::1]");
	len = sizeof(peer);
	memset(buf, 0, sizeof(buf));
	ok(recvfrom(u, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &len) == 6 && !strcmp(buf, "dgram6") &&
	   IN6_IS_ADDR_LOOPBACK(&peer.sin6_addr), "UDP datagram received from ::1");
	close(u);
	close(v);

	/* dual stack */
	l = listen6(&a, &in6addr_any, 0);
	a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a4.sin_port = a.sin6_port;
	c = socket(AF_INET, SOCK_STREAM, 0);
	ok_sys(connect(c, (struct sockaddr *)&a4, sizeof(a4)),
	       "IPv4 connect to a dual-stack [::] listener on 127.0.0.1");
	len = sizeof(peer);
	s = accept(l, (struct sockaddr *)&peer, &len);
	inet_ntop(AF_INET6, &peer.sin6_addr, txt, sizeof(txt));
	ok(s >= 0 && IN6_IS_ADDR_V4MAPPED(&peer.sin6_addr) && !strcmp(txt, "::ffff:127.0.0.1"),
	   "the IPv4 peer appears as %s", txt);
	close(s);
	close(c);
	close(l);
	l = listen6(&a, &in6addr_any, 1);
	a4.sin_port = a.sin6_port;
	c = socket(AF_INET, SOCK_STREAM, 0);
	ok_errno(connect(c, (struct sockaddr *)&a4, sizeof(a4)), ECONNREFUSED,
		 "a V6ONLY listener on [::] does not take IPv4: ECONNREFUSED");
	close(c);
	c = socket(AF_INET6, SOCK_STREAM, 0);
	a.sin6_addr = in6addr_loopback;
	ok_sys(connect(c, (struct sockaddr *)&a, sizeof(a)), "but takes IPv6 connections on ::1");
	close(c);
	close(l);
	return exit_status();
}
