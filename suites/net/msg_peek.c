/* MSG_PEEK: on TCP the peeked bytes are read again by the next recv, a
 * peek smaller than the queue sees its head, MSG_PEEK|MSG_DONTWAIT on an
 * empty socket is EAGAIN, SO_PEEK_OFF moves the peek window; on UDP a peek
 * returns the whole first datagram without consuming it (MSG_TRUNC gives
 * its length) and the sender's address */
/* vkci: timeout=30 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "vkci_test.h"
#include "vkci_net.h"

/* wait until fd has at least n bytes queued (bounded) */
static int wait_bytes(int fd, int n)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char tmp[256];
	int i;

	for (i = 0; i < 100; i++) {
		if (recv(fd, tmp, sizeof(tmp), MSG_PEEK | MSG_DONTWAIT) >= n)
			return 1;
		poll(&p, 1, 20);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in ua = { .sin_family = AF_INET }, from;
	socklen_t len = sizeof(ua);
	char buf[64];
	int a, b, u, v, off;
	ssize_t n;

	vt_init(argc, argv);
	plan(13);
	vt_tcp_pair(&a, &b);

	write(a, "abcdefgh", 8);
	wait_bytes(b, 8);
	memset(buf, 0, sizeof(buf));
	n = recv(b, buf, sizeof(buf), MSG_PEEK);
	ok(n == 8 && !strcmp(buf, "abcdefgh"), "TCP: MSG_PEEK sees the 8 queued bytes (%zd)", n);
	memset(buf, 0, sizeof(buf));
	n = recv(b, buf, 3, MSG_PEEK);
	ok(n == 3 && !strcmp(buf, "abc"), "TCP: a 3-byte peek sees the head");
	memset(buf, 0, sizeof(buf));
	n = recv(b, buf, 5, 0);
	ok(n == 5 && !strcmp(buf, "abcde"), "TCP: the next recv reads the same bytes again");
	memset(buf, 0, sizeof(buf));
	n = recv(b, buf, sizeof(buf), MSG_PEEK);
	ok(n == 3 && !strcmp(buf, "fgh"), "TCP: a peek after the read sees the rest");
	n = recv(b, buf, sizeof(buf), 0);
	ok_errno(recv(b, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT), EAGAIN,
		 "TCP: MSG_PEEK|MSG_DONTWAIT on an empty socket: EAGAIN");

	/* SO_PEEK_OFF: successive peeks walk the queue */
	off = 0;
	write(a, "0123456789", 10);
	wait_bytes(b, 10);   /* before SO_PEEK_OFF: this peek must not move it */
	/* TCP has SO_PEEK_OFF since Linux 6.9 (commit 05ea491641d3) */
	if (vt_kernel_older(6, 9)) {
		skip(2, "TCP has SO_PEEK_OFF since Linux 6.9");
		recv(b, buf, sizeof(buf), 0);
	} else {
		if (setsockopt(b, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off)) < 0)
			diag("setsockopt(SO_PEEK_OFF) on TCP: %s", strerror(errno));
		memset(buf, 0, sizeof(buf));
		recv(b, buf, 4, MSG_PEEK);
		n = recv(b, buf + 4, 4, MSG_PEEK);
		ok(n == 4 && !strcmp(buf, "01234567"), "TCP SO_PEEK_OFF: two 4-byte peeks see '0123' then '4567'");
		memset(buf, 0, sizeof(buf));
		n = recv(b, buf, sizeof(buf), 0);
		ok(n == 10 && !strcmp(buf, "0123456789"), "TCP SO_PEEK_OFF: a read still starts at the head");
	}

	/* UDP */
	u = socket(AF_INET, SOCK_DGRAM, 0);
	v = socket(AF_INET, SOCK_DGRAM, 0);
	ua.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(u, (struct sockaddr *)&ua, sizeof(ua)) < 0 || getsockname(u, (struct sockaddr *)&ua, &len) < 0)
		bail("UDP bind: %s", strerror(errno));
	sendto(v, "datagram-one", 12, 0, (struct sockaddr *)&ua, sizeof(ua));
	sendto(v, "two", 3, 0, (struct sockaddr *)&ua, sizeof(ua));
	memset(buf, 0, sizeof(buf));
	len = sizeof(from);
	n = recvfrom(u, buf, sizeof(buf), MSG_PEEK, (struct sockaddr *)&from, &len);
	ok(n == 12 && !strcmp(buf, "datagram-one"), "UDP: a peek returns the first datagram only");
	{
		struct sockaddr_in va;
		socklen_t vl = sizeof(va);

		getsockname(v, (struct sockaddr *)&va, &vl);
		ok(from.sin_port == va.sin_port, "UDP: a peek reports the sender's port");
	}
	is_int(recv(u, buf, 4, MSG_PEEK | MSG_TRUNC), 12, "UDP: MSG_PEEK|MSG_TRUNC returns the full length");
	memset(buf, 0, sizeof(buf));
	n = recv(u, buf, sizeof(buf), 0);
	ok(n == 12 && !strcmp(buf, "datagram-one"), "UDP: the datagram is still there for a real read");
	memset(buf, 0, sizeof(buf));
	n = recv(u, buf, sizeof(buf), MSG_PEEK);
	ok(n == 3 && !strcmp(buf, "two"), "UDP: then the second one is at the head");
	n = recv(u, buf, sizeof(buf), 0);
	ok_errno(recv(u, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT), EAGAIN, "UDP: empty again: EAGAIN");
	return exit_status();
}
