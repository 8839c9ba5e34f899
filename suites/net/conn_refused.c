/* connection refused: TCP connect to a closed port is ECONNREFUSED (the RST
 * answer), a closed listener refuses too; a connected UDP socket learns of
 * the ICMP port unreachable and reports ECONNREFUSED once on its next call,
 * while an unconnected one stays silent (and IP_RECVERR shows the ICMP) */
/* vkci: timeout=30 */
#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/socket.h>

#include "vkci_test.h"

/* a loopback port that nothing listens on: bind, read the port, close */
static struct sockaddr_in closed_port(int type)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, type, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(s, (struct sockaddr *)&a, &len) < 0)
		bail("bind: %s", strerror(errno));
	close(s);
	return a;
}

static int wait_err(int s, int ms)
{
	struct pollfd p = { .fd = s, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLERR);
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = closed_port(SOCK_STREAM), u;
	socklen_t len = sizeof(a);
	char buf[256];
	int s, l, on = 1;

	vt_init(argc, argv);
	plan(11);

	s = socket(AF_INET, SOCK_STREAM, 0);
	ok_errno(connect(s, (struct sockaddr *)&a, sizeof(a)), ECONNREFUSED,
		 "TCP connect to closed port %u: ECONNREFUSED", ntohs(a.sin_port));
	close(s);

	/* a listener that goes away refuses afterwards */
	l = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_port = 0;
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &len) < 0)
		bail("listen: %s", strerror(errno));
	s = socket(AF_INET, SOCK_STREAM, 0);
	ok_sys(connect(s, (struct sockaddr *)&a, sizeof(a)), "connect while the listener is open");
	close(s);
	close(l);
	s = socket(AF_INET, SOCK_STREAM, 0);
	ok_errno(connect(s, (struct sockaddr *)&a, sizeof(a)), ECONNREFUSED,
		 "connect after the listener closed: ECONNREFUSED");
	close(s);

	/* connected UDP */
	u = closed_port(SOCK_DGRAM);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	ok_sys(connect(s, (struct sockaddr *)&u, sizeof(u)), "connect a UDP socket to closed port %u",
	       ntohs(u.sin_port));
	is_int(send(s, "x", 1, 0), 1, "the first send succeeds (nothing is known yet)");
	ok(wait_err(s, 2000), "the ICMP port unreachable makes the socket report POLLERR");
	ok_errno(recv(s, buf, sizeof(buf), MSG_DONTWAIT), ECONNREFUSED, "recv then fails with ECONNREFUSED");
	ok_errno(recv(s, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN, "the error is reported once, then EAGAIN");
	send(s, "y", 1, 0);
	wait_err(s, 2000);
	ok_errno(send(s, "z", 1, 0), ECONNREFUSED, "a pending error also fails the next send");
	close(s);

	/* unconnected UDP: silent unless IP_RECVERR */
	s = socket(AF_INET, SOCK_DGRAM, 0);
	sendto(s, "x", 1, 0, (struct sockaddr *)&u, sizeof(u));
	wait_err(s, 200);
	ok_errno(recv(s, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN,
		 "an unconnected UDP socket does not report the refusal");
	close(s);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(s, IPPROTO_IP, IP_RECVERR, &on, sizeof(on));
	sendto(s, "x", 1, 0, (struct sockaddr *)&u, sizeof(u));
	{
		char cbuf[512];
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		struct sock_extended_err *ee = NULL;
		struct cmsghdr *c;

		wait_err(s, 2000);
		if (recvmsg(s, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) >= 0)
			for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
				if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR)
					ee = (struct sock_extended_err *)CMSG_DATA(c);
		ok(ee && ee->ee_errno == ECONNREFUSED && ee->ee_origin == SO_EE_ORIGIN_ICMP &&
		   ee->ee_type == ICMP_DEST_UNREACH && ee->ee_code == ICMP_PORT_UNREACH,
		   "with IP_RECVERR the error queue holds the ICMP port unreachable");
	}
	close(s);
	return exit_status();
}
