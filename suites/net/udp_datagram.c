/* UDP over loopback: each send is one datagram (boundaries preserved, even
 * zero-length ones), a short read truncates and discards the rest with
 * MSG_TRUNC set (recv(MSG_TRUNC) returns the real length), the sender's
 * address is reported, and an empty socket says EAGAIN */
/* vkci: timeout=30 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "vkci_test.h"

static int bound_udp(struct sockaddr_in *a)
{
	socklen_t len = sizeof(*a);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)a, sizeof(*a)) < 0 ||
	    getsockname(s, (struct sockaddr *)a, &len) < 0)
		bail("cannot bind a UDP socket on 127.0.0.1: %s", strerror(errno));
	return s;
}

int main(int argc, char **argv)
{
	struct sockaddr_in ra, sa, from;
	socklen_t flen = sizeof(from);
	char big[3000], buf[4096];
	struct iovec iov;
	struct msghdr mh;
	ssize_t n;
	int r, s, i;

	vt_init(argc, argv);
	plan(14);

	r = bound_udp(&ra);
	s = bound_udp(&sa);
	memset(big, 'x', sizeof(big));

	is_int(sendto(s, "one", 3, 0, (struct sockaddr *)&ra, sizeof(ra)), 3, "send a 3-byte datagram");
	sendto(s, "two!!", 5, 0, (struct sockaddr *)&ra, sizeof(ra));
	sendto(s, "", 0, 0, (struct sockaddr *)&ra, sizeof(ra));
	is_int(sendto(s, big, sizeof(big), 0, (struct sockaddr *)&ra, sizeof(ra)), (long)sizeof(big),
	       "send a 3000-byte datagram");

	memset(buf, 0, sizeof(buf));
	n = recvfrom(r, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
	ok(n == 3 && !memcmp(buf, "one", 3), "first read returns exactly the first datagram (%zd bytes)", n);
	ok(from.sin_addr.s_addr == sa.sin_addr.s_addr && from.sin_port == sa.sin_port,
	   "recvfrom reports the sender's address and port");
	n = recv(r, buf, sizeof(buf), 0);
	ok(n == 5 && !memcmp(buf, "two!!", 5), "second read returns exactly the second datagram (%zd bytes)", n);
	is_int(recv(r, buf, sizeof(buf), 0), 0, "a zero-length datagram is received as 0 bytes");

	/* a short read: truncated, MSG_TRUNC in msg_flags, the rest discarded */
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = buf;
	iov.iov_len = 100;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	n = recvmsg(r, &mh, 0);
	is_int(n, 100, "reading a 3000-byte datagram into 100 bytes returns 100");
	ok(mh.msg_flags & MSG_TRUNC, "msg_flags has MSG_TRUNC");
	ok_errno(recv(r, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN, "the rest of the truncated datagram is gone");

	/* recv(MSG_TRUNC) returns the real length even into a short buffer */
	sendto(s, big, 1234, 0, (struct sockaddr *)&ra, sizeof(ra));
	is_int(recv(r, buf, 10, MSG_TRUNC), 1234, "recv with MSG_TRUNC returns the datagram's real length");
	ok_errno(recv(r, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN, "an empty socket says EAGAIN");

	/* many datagrams keep their order and boundaries */
	for (i = 1; i <= 20; i++)
		sendto(s, big, (size_t)i, 0, (struct sockaddr *)&ra, sizeof(ra));
	for (i = 1; i <= 20; i++)
		if (recv(r, buf, sizeof(buf), MSG_DONTWAIT) != i)
			break;
	is_int(i, 21, "20 datagrams of 1..20 bytes arrive in order with their lengths");

	/* a datagram larger than the largest UDP payload is refused */
	{
		static char huge[70000];

		ok_errno(sendto(s, huge, sizeof(huge), 0, (struct sockaddr *)&ra, sizeof(ra)), EMSGSIZE,
			 "a 70000-byte datagram fails with EMSGSIZE");
	}
	/* a connected UDP socket only accepts datagrams from its peer */
	{
		struct sockaddr_in oa;
		int o = bound_udp(&oa);

		connect(r, (struct sockaddr *)&sa, sizeof(sa));
		sendto(o, "stranger", 8, 0, (struct sockaddr *)&ra, sizeof(ra));
		sendto(s, "friend", 6, 0, (struct sockaddr *)&ra, sizeof(ra));
		memset(buf, 0, sizeof(buf));
		n = recv(r, buf, sizeof(buf), MSG_DONTWAIT);
		ok(n == 6 && !memcmp(buf, "friend", 6),
		   "a connected UDP socket drops datagrams from other addresses");
	}
	return exit_status();
}
