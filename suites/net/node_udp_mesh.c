/* UDP between three vkernels: every node sends a datagram to each other
 * node and one broadcast to 10.0.0.255, and receives both kinds from both
 * peers, each with the right source address, length and content; receipt is
 * acknowledged so datagrams sent before a peer's socket existed are resent
 * (every 100 ms, bounded); sending to the broadcast address needs SO_BROADCAST */
/* vkci: nodes=3 timeout=30 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include "vkci_test.h"

#define PORT 7200
#define MAXN 3
#define UNI 0
#define BCAST 1

static int me, nn;

static struct sockaddr_in addr_of(int node)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };

	a.sin_addr.s_addr = node < 0 ? htonl(0x0a0000ff) : htonl(0x0a000001 + (unsigned)node);
	return a;
}

/* data: "D<kind> <from> <to>" padded to a length that depends on both */
static size_t make_data(char *buf, int kind, int from, int to)
{
	size_t len = 64 + (size_t)(from * 100 + to * 10 + kind), i, n;

	n = (size_t)sprintf(buf, "D%d %d %d ", kind, from, to);
	for (i = n; i < len; i++)
		buf[i] = (char)('a' + (i + (size_t)from) % 26);
	return len;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) }, from;
	int got[2][MAXN] = { { 0 } }, acked[2][MAXN] = { { 0 } }, srcok[2][MAXN] = { { 0 } };
	long long end, done_at = 0, last = 0;
	char buf[2048], want[2048];
	int s, j, k, on = 1;

	vt_init(argc, argv);
	if (!getenv("VKCI_NODE") || !getenv("VKCI_NODES") || atoi(getenv("VKCI_NODES")) != 3)
		bail("needs the harness's three nodes: no VKCI_NODE, VKCI_NODES=3 "
		     "(vkci exec starts them from the nodes= metadata)");
	me = atoi(getenv("VKCI_NODE"));
	nn = 3;
	plan(2 + 4 * (nn - 1));

	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		bail("socket: %s", strerror(errno));
	{
		struct sockaddr_in b = addr_of(-1);
		int t = socket(AF_INET, SOCK_DGRAM, 0);

		ok_errno(sendto(t, "x", 1, 0, (struct sockaddr *)&b, sizeof(b)), EACCES,
			 "node %d: sendto 10.0.0.255 without SO_BROADCAST: EACCES", me);
		close(t);
	}
	a.sin_addr.s_addr = htonl(INADDR_ANY);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	ok(bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	   setsockopt(s, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on)) == 0,
	   "node %d: UDP socket on port %d with SO_BROADCAST", me, PORT);
	if (getsockname(s, (struct sockaddr *)&from, &(socklen_t){ sizeof(from) }) < 0 || from.sin_port != htons(PORT))
		bail("node %d: cannot bind UDP port %d: %s", me, PORT, strerror(errno));

	/* until everything is in: resend what is unacknowledged every 100 ms;
	 * then linger 300 ms to acknowledge a peer's resends */
	end = vt_now_ms() + 20000;
	while (vt_now_ms() < end && (!done_at || vt_now_ms() - done_at < 300)) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		int all = 1;

		if (vt_now_ms() - last >= 100) {
			int need_b = 0;

			last = vt_now_ms();
			for (j = 0; j < nn; j++) {
				struct sockaddr_in to = addr_of(j);

				if (j == me)
					continue;
				need_b |= !acked[BCAST][j];
				if (!acked[UNI][j])
					sendto(s, buf, make_data(buf, UNI, me, j), 0, (struct sockaddr *)&to, sizeof(to));
			}
			if (need_b) {
				struct sockaddr_in to = addr_of(-1);

				sendto(s, buf, make_data(buf, BCAST, me, 9), 0, (struct sockaddr *)&to, sizeof(to));
			}
		}
		if (poll(&p, 1, 20) == 1) {
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(s, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from, &fl);
			int kind, f, t;

			if (n > 0) {
				buf[n] = '\0';
				if (sscanf(buf, "D%d %d %d", &kind, &f, &t) == 3 && (kind == UNI || kind == BCAST) &&
				    f >= 0 && f < nn && f != me && t == (kind == UNI ? me : 9)) {
					struct sockaddr_in fa = addr_of(f);
					char ack[32];
					int al = sprintf(ack, "A%d %d %d", kind, me, f);

					got[kind][f] = n == (ssize_t)make_data(want, kind, f, t) && !memcmp(buf, want, (size_t)n);
					srcok[kind][f] = from.sin_addr.s_addr == fa.sin_addr.s_addr && from.sin_port == fa.sin_port;
					sendto(s, ack, (size_t)al, 0, (struct sockaddr *)&fa, sizeof(fa));
				} else if (sscanf(buf, "A%d %d %d", &kind, &f, &t) == 3 && (kind == UNI || kind == BCAST) &&
					   f >= 0 && f < nn && t == me) {
					acked[kind][f] = 1;
				}
			}
		}
		for (j = 0; j < nn; j++)
			for (k = 0; k < 2; k++)
				all &= j == me || (got[k][j] && acked[k][j]);
		if (all && !done_at)
			done_at = vt_now_ms();
	}
	for (j = 0; j < nn; j++) {
		if (j == me)
			continue;
		ok(got[UNI][j] && srcok[UNI][j], "node %d: datagram from node %d (10.0.0.%d:%d), length and content right",
		   me, j, j + 1, PORT);
		ok(acked[UNI][j], "node %d: node %d acknowledged our datagram", me, j);
		ok(got[BCAST][j] && srcok[BCAST][j], "node %d: broadcast from node %d received, source 10.0.0.%d",
		   me, j, j + 1);
		ok(acked[BCAST][j], "node %d: node %d acknowledged our broadcast", me, j);
	}
	return exit_status();
}
