/* TCP between two vkernels over the switch: node 1 connects to node 0
 * (10.0.0.1), 200 messages of varying size are echoed back intact, then
 * 8 MB of pseudo-random data go from node 1 to node 0, which checks every
 * byte against the same generator and returns its byte count and FNV-1a
 * checksum for node 1 to compare with its own */
/* vkci: nodes=2 timeout=30 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "vkci_test.h"
#include "vkci_net.h"

#define PORT 7100
#define BULK (8u << 20)
#define NMSG 200

/* the shared byte stream: xorshift64, one byte per step */
struct gen { uint64_t x; };
static unsigned char gen_byte(struct gen *g)
{
	g->x ^= g->x << 13;
	g->x ^= g->x >> 7;
	g->x ^= g->x << 17;
	return (unsigned char)(g->x >> 24);
}

static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
	while (n--)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}

static void timeouts(int s, int sec)
{
	struct timeval tv = { .tv_sec = sec };

	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = read(fd, (char *)buf + got, len - got);

		if (r <= 0)
			return got ? (ssize_t)got : r;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static int write_full(int fd, const void *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t r = write(fd, (const char *)buf + off, len - off);

		if (r <= 0)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

static int accept_within(int l, int ms, struct sockaddr_in *peer)
{
	struct pollfd p = { .fd = l, .events = POLLIN };
	socklen_t len = sizeof(*peer);
	int c;

	if (poll(&p, 1, ms) != 1 || (c = accept(l, (struct sockaddr *)peer, &len)) < 0)
		return -1;
	timeouts(c, 10);
	return c;
}

static int node0(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) }, peer;
	static unsigned char buf[65536];
	struct gen g = { 0x9e3779b97f4a7c15ULL };
	uint64_t h = 0xcbf29ce484222325ULL, report[2];
	long long total = 0, bad = -1, echoed = 0;
	ssize_t n;
	int l, c, one = 1;

	plan(5);
	l = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_addr.s_addr = htonl(0x0a000001);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 2) < 0)
		bail("listen on 10.0.0.1:%d: %s", PORT, strerror(errno));

	c = accept_within(l, 20000, &peer);
	if (c < 0)
		bail("no connection from node 1 within 20 s");
	ok(peer.sin_addr.s_addr == htonl(0x0a000002), "node 0: echo connection accepted from 10.0.0.2");
	while ((n = read(c, buf, sizeof(buf))) > 0) {
		if (write_full(c, buf, (size_t)n) < 0)
			break;
		echoed += n;
	}
	ok(n == 0, "node 0: echoed %lld bytes until node 1's EOF", echoed);
	close(c);

	c = accept_within(l, 10000, &peer);
	ok(c >= 0, "node 0: bulk connection accepted");
	if (c < 0)
		bail("no bulk connection from node 1");
	while ((n = read(c, buf, sizeof(buf))) > 0) {
		ssize_t i;

		for (i = 0; i < n; i++)
			if (buf[i] != gen_byte(&g) && bad < 0)
				bad = total + i;
		h = fnv(h, buf, (size_t)n);
		total += n;
	}
	ok(n == 0 && total == BULK, "node 0: received %lld bytes then EOF (want %u)", total, BULK);
	is_int(bad, -1, "node 0: every byte matches the generator (first mismatch offset, -1: none)");
	report[0] = (uint64_t)total;
	report[1] = h;
	write_full(c, report, sizeof(report));
	/* wait for node 1 to close, so the report is not cut off by our exit */
	read(c, buf, 1);
	close(c);
	return exit_status();
}

static int node1(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	static unsigned char out[BULK], msg[4096], back[4096];
	struct gen g = { 0x9e3779b97f4a7c15ULL };
	uint64_t h, report[2] = { 0, 0 };
	long long t0 = vt_now_ms(), t;
	int s = -1, i, good = 0, one = 1;
	unsigned j;

	plan(5);
	a.sin_addr.s_addr = htonl(0x0a000001);
	s = vt_connect_retry(&a, 300);   /* node 0 may not listen yet: 15 s at most */
	if (s < 0)
		bail("cannot connect to node 0: %s", strerror(errno));
	diag("node 1: connected to 10.0.0.1:%d after %lld ms", PORT, vt_now_ms() - t0);
	timeouts(s, 10);
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (i = 0; i < NMSG; i++) {
		size_t len = 1 + (size_t)(i * 37) % sizeof(msg);

		for (j = 0; j < len; j++)
			msg[j] = (unsigned char)(i + j * 3);
		if (write_full(s, msg, len) < 0 || read_full(s, back, len) != (ssize_t)len)
			break;
		good += !memcmp(msg, back, len);
	}
	is_int(good, NMSG, "node 1: %d messages of 1..4096 bytes echoed intact", NMSG);
	shutdown(s, SHUT_WR);
	is_int(read(s, back, 1), 0, "node 1: EOF from node 0 after our shutdown");
	close(s);

	s = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		bail("bulk connect: %s", strerror(errno));
	timeouts(s, 10);
	for (j = 0; j < BULK; j++)
		out[j] = gen_byte(&g);
	h = fnv(0xcbf29ce484222325ULL, out, BULK);
	t = vt_now_ms();
	ok(write_full(s, out, BULK) == 0 && shutdown(s, SHUT_WR) == 0, "node 1: sent %u bytes", BULK);
	t = vt_now_ms() - t;
	diag("node 1: 8 MB sent in %lld ms", t);
	is_int(read_full(s, report, sizeof(report)), sizeof(report), "node 1: node 0's report arrived");
	ok(report[0] == BULK && report[1] == h,
	   "node 1: node 0 counted %llu bytes with checksum %016llx (ours %016llx)",
	   (unsigned long long)report[0], (unsigned long long)report[1], (unsigned long long)h);
	close(s);
	return exit_status();
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
