/* a peer vkernel dies mid-connection: node 1 holds two TCP connections to
 * node 0, reports its complete TAP, then powers its kernel off with
 * reboot(RB_POWER_OFF) - no FIN, no RST, the peer just vanishes. Node 0
 * must not hang: on the connection it keeps writing to, TCP_USER_TIMEOUT
 * (1.5 s) ends it with an error (ETIMEDOUT; ECONNRESET/EPIPE/EHOSTUNREACH
 * accepted and named); on the idle one, TCP keepalive (1 s idle, 1 s
 * interval, 2 probes) reports ETIMEDOUT; later writes fail with EPIPE */
/* vkci: nodes=2 timeout=30 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <time.h>

#include "vkci_test.h"
#include "vkci_net.h"

#define PORT 7300

static int seti(int s, int level, int opt, int v)
{
	return setsockopt(s, level, opt, &v, sizeof(v));
}

/* read until '\n' (at most len-1 bytes), within ms */
static int read_line(int s, char *buf, size_t len, int ms)
{
	long long end = vt_now_ms() + ms;
	size_t n = 0;

	while (n < len - 1 && vt_now_ms() < end) {
		struct pollfd p = { .fd = s, .events = POLLIN };

		if (poll(&p, 1, (int)(end - vt_now_ms())) != 1 || read(s, buf + n, 1) != 1)
			break;
		if (buf[n++] == '\n')
			break;
	}
	buf[n] = '\0';
	return (int)n;
}

static int accept_within(int l, int ms, struct sockaddr_in *peer)
{
	struct pollfd p = { .fd = l, .events = POLLIN };
	socklen_t len = sizeof(*peer);

	if (poll(&p, 1, ms) != 1)
		return -1;
	return accept(l, (struct sockaddr *)peer, &len);
}

static int expected_error(int e)
{
	return e == ETIMEDOUT || e == ECONNRESET || e == EPIPE || e == EHOSTUNREACH;
}

static int node0(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) }, pa, pb;
	long long t0, ta = -1, tb = -1;
	int l, ca, cb, one = 1, ea = 0, eb = 0;
	char line[64];

	plan(8);
	a.sin_addr.s_addr = htonl(0x0a000001);
	l = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 2) < 0)
		bail("listen on 10.0.0.1:%d: %s", PORT, strerror(errno));
	ca = accept_within(l, 20000, &pa);
	cb = ca >= 0 ? accept_within(l, 5000, &pb) : -1;
	if (ca < 0 || cb < 0)
		bail("node 1 did not connect twice");
	ok(pa.sin_addr.s_addr == htonl(0x0a000002) && pb.sin_addr.s_addr == htonl(0x0a000002),
	   "node 0: two connections from node 1 (10.0.0.2)");
	ok(seti(ca, IPPROTO_TCP, TCP_USER_TIMEOUT, 1500) == 0 &&
	   seti(cb, SOL_SOCKET, SO_KEEPALIVE, 1) == 0 && seti(cb, IPPROTO_TCP, TCP_KEEPIDLE, 1) == 0 &&
	   seti(cb, IPPROTO_TCP, TCP_KEEPINTVL, 1) == 0 && seti(cb, IPPROTO_TCP, TCP_KEEPCNT, 2) == 0,
	   "node 0: TCP_USER_TIMEOUT 1500 ms on the busy one, keepalive 1/1/2 on the idle one");
	write(ca, "ready\n", 6);
	write(cb, "ready\n", 6);
	read_line(ca, line, sizeof(line), 15000);
	is_string(line, "dying\n", "node 0: node 1 says it is about to power off");

	/* keep writing on ca; watch cb; 10 s at most */
	t0 = vt_now_ms();
	while ((ta < 0 || tb < 0) && vt_now_ms() - t0 < 10000) {
		struct pollfd p = { .fd = cb, .events = POLLIN };

		if (ta < 0 && send(ca, "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && errno != EAGAIN) {
			ea = errno;
			ta = vt_now_ms() - t0;
		}
		if (tb < 0 && poll(&p, 1, 100) == 1) {
			char c;
			ssize_t n = recv(cb, &c, 1, MSG_DONTWAIT);

			eb = n < 0 ? errno : n == 0 ? -1 : -2;   /* -1: EOF (FIN), -2: data */
			tb = vt_now_ms() - t0;
		} else if (tb >= 0) {
			usleep(100000);
		}
	}
	diag("node 0: busy connection error after %lld ms: %s; idle connection after %lld ms: %s",
	     ta, ea > 0 ? strerror(ea) : "none", tb, eb > 0 ? strerror(eb) : eb == -1 ? "EOF" : "none");
	ok(ta >= 0 && expected_error(ea), "node 0: writing to the dead peer fails, not hangs (%s)",
	   ea > 0 ? strerror(ea) : "no error within 10 s");
	ok(ta >= 1000, "node 0: and only after the user timeout ran (%lld ms)", ta);
	is_int(eb, ETIMEDOUT, "node 0: the idle connection's keepalive probes time out: ETIMEDOUT");
	ok_errno(send(ca, "x", 1, MSG_NOSIGNAL), EPIPE, "node 0: a later write on the dead connection: EPIPE");
	{
		struct tcp_info ti;
		socklen_t len = sizeof(ti);

		memset(&ti, 0, sizeof(ti));
		getsockopt(cb, IPPROTO_TCP, TCP_INFO, &ti, &len);
		is_int(ti.tcpi_state, TCP_CLOSE, "node 0: the idle connection is CLOSED");
	}
	return exit_status();
}

/* wait until the agent relayed all our output: our stdout pipe is empty and
 * the agent (PID 1) is asleep in its poll; bounded */
static void drain_stdout(void)
{
	char st[512];
	int i, quiet = 0, n;

	fflush(stdout);
	for (i = 0; i < 200 && quiet < 3; i++) {
		char *p;

		usleep(10000);
		if (ioctl(1, FIONREAD, &n) < 0)
			n = 0;
		p = vt_read_file("/proc/1/stat", st, sizeof(st)) > 0 ? strrchr(st, ')') : NULL;
		quiet = n == 0 && p && p[1] == ' ' && p[2] == 'S' ? quiet + 1 : 0;
	}
}

static int node1(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	long long t0 = vt_now_ms();
	char la[64] = "", lb[64] = "";
	int ca = -1, cb = -1;

	plan(3);
	a.sin_addr.s_addr = htonl(0x0a000001);
	ca = vt_connect_retry(&a, 300);   /* node 0 may not listen yet: 15 s at most */
	if (ca < 0)
		bail("cannot connect to node 0: %s", strerror(errno));
	cb = socket(AF_INET, SOCK_STREAM, 0);
	ok_sys(connect(cb, (struct sockaddr *)&a, sizeof(a)),
	       "node 1: a second connection to 10.0.0.1:%d (first after %lld ms)", PORT, vt_now_ms() - t0);
	read_line(ca, la, sizeof(la), 10000);
	read_line(cb, lb, sizeof(lb), 10000);
	is_string(la, "ready\n", "node 1: node 0 is ready on the first connection");
	is_string(lb, "ready\n", "node 1: and on the second");
	diag("node 1: powering the vkernel off with both connections open");
	drain_stdout();
	write(ca, "dying\n", 6);
	reboot(RB_POWER_OFF);
	printf("# reboot(RB_POWER_OFF) returned: %s\n", strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	const char *node = getenv("VKCI_NODE");

	vt_init(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	if (!node || !getenv("VKCI_NODES") || atoi(getenv("VKCI_NODES")) != 2)
		bail("needs the harness's two nodes: no VKCI_NODE, VKCI_NODES=2 "
		     "(vkci exec starts them from the nodes= metadata)");
	return atoi(node) == 0 ? node0() : node1();
}
