/* ICMP echo between two vkernels, no ping binary: node 1 pings node 0
 * (10.0.0.1) through a raw socket until it answers, checks id, sequence,
 * payload and checksum of the replies, then through an unprivileged ping
 * socket (SOCK_DGRAM/IPPROTO_ICMP, after widening ping_group_range); node 0
 * watches the requests on its own raw socket and pings node 1 back, which is
 * also node 1's signal that it may stop */
/* vkci: nodes=2 timeout=30 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include "vkci_test.h"

#define ID1 0x5601          /* node 1's echo id */
#define ID0 0x5600          /* node 0's echo id */
#define DONE "vkci-ping-done"
#define ACK "vkci-ping-ack"

static unsigned short csum(const void *p, size_t len)
{
	const unsigned char *b = p;
	unsigned long sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (unsigned)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (unsigned)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((unsigned short)~sum);
}

static struct sockaddr_in node_addr(int i)
{
	struct sockaddr_in a = { .sin_family = AF_INET };

	a.sin_addr.s_addr = htonl(0x0a000001 + (unsigned)i);
	return a;
}

static int send_echo(int s, int node, unsigned short id, unsigned short seq, const char *payload)
{
	unsigned char pkt[64];
	struct icmphdr *h = (struct icmphdr *)pkt;
	size_t len = sizeof(*h) + strlen(payload);
	struct sockaddr_in to = node_addr(node);

	memset(pkt, 0, sizeof(pkt));
	h->type = ICMP_ECHO;
	h->un.echo.id = htons(id);
	h->un.echo.sequence = htons(seq);
	memcpy(pkt + sizeof(*h), payload, strlen(payload));
	h->checksum = csum(pkt, len);
	return sendto(s, pkt, len, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)len ? 0 : -1;
}

struct echo {
	unsigned type, id, seq;
	int csum_ok;
	in_addr_t from;
	char payload[64];
};

/* next ICMP message on a raw socket (IP header first), within ms; 0 if none */
static int recv_icmp(int s, struct echo *e, int ms)
{
	unsigned char buf[1500];
	struct pollfd p = { .fd = s, .events = POLLIN };
	struct icmphdr *h;
	struct iphdr *ip = (struct iphdr *)buf;
	ssize_t n;
	size_t hl, il;

	if (poll(&p, 1, ms) != 1 || (n = recv(s, buf, sizeof(buf), 0)) < (ssize_t)sizeof(*ip))
		return 0;
	hl = ip->ihl * 4u;
	if ((size_t)n < hl + sizeof(*h))
		return 0;
	h = (struct icmphdr *)(buf + hl);
	il = (size_t)n - hl;
	memset(e, 0, sizeof(*e));
	e->type = h->type;
	e->id = ntohs(h->un.echo.id);
	e->seq = ntohs(h->un.echo.sequence);
	e->csum_ok = csum(h, il) == 0;
	e->from = ip->saddr;
	il -= sizeof(*h);
	memcpy(e->payload, h + 1, il < sizeof(e->payload) - 1 ? il : sizeof(e->payload) - 1);
	return 1;
}

/* wait for an echo reply from node with id/seq; 1 when it came */
static int wait_reply(int s, int node, unsigned id, unsigned seq, struct echo *e, int ms)
{
	long long end = vt_now_ms() + ms;

	while (vt_now_ms() < end)
		if (recv_icmp(s, e, (int)(end - vt_now_ms())) && e->type == ICMP_ECHOREPLY &&
		    e->from == node_addr(node).sin_addr.s_addr && e->id == id && e->seq == seq)
			return 1;
	return 0;
}

static int node0(void)
{
	struct echo e;
	long long end = vt_now_ms() + 20000;
	int s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), seen = 0, done = 0, replied = 0, i;

	if (s < 0)
		bail("raw ICMP socket: %s", strerror(errno));
	plan(2);
	while (!done && vt_now_ms() < end)
		if (recv_icmp(s, &e, 500) && e.type == ICMP_ECHO && e.id == ID1 &&
		    e.from == node_addr(1).sin_addr.s_addr) {
			seen++;
			done = e.csum_ok && !strcmp(e.payload, DONE);
		}
	ok(done, "node 0: saw node 1's echo requests arrive (%d), the last its done marker", seen);
	/* ping node 1 back: the ack it waits for */
	for (i = 1; i <= 20 && done && !replied; i++) {
		send_echo(s, 1, ID0, (unsigned short)i, ACK);
		replied = wait_reply(s, 1, ID0, (unsigned)i, &e, 500) && !strcmp(e.payload, ACK);
	}
	ok(replied, "node 0: node 1 answers node 0's echo request");
	return exit_status();
}

static int node1(void)
{
	struct echo e;
	long long t0 = vt_now_ms();
	int s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), seq = 0, got = 0, more = 0, i, ps, fd, acked = 0;

	if (s < 0)
		bail("raw ICMP socket: %s", strerror(errno));
	plan(6);
	/* node 0 may still be booting: a request every 100 ms, 15 s at most */
	while (!got && vt_now_ms() - t0 < 15000) {
		seq++;
		send_echo(s, 0, ID1, (unsigned short)seq, "vkci-ping");
		got = wait_reply(s, 0, ID1, (unsigned)seq, &e, 100);
	}
	ok(got, "echo reply from 10.0.0.1 (request %d, after %lld ms)", seq, vt_now_ms() - t0);
	ok(got && e.csum_ok && !strcmp(e.payload, "vkci-ping"),
	   "the reply carries our id, sequence and payload with a valid checksum");
	for (i = 0; i < 3 && got; i++) {
		seq++;
		send_echo(s, 0, ID1, (unsigned short)seq, "vkci-ping");
		more += wait_reply(s, 0, ID1, (unsigned)seq, &e, 1000);
	}
	is_int(more, 3, "3 more requests, 3 replies");

	/* a ping socket: the kernel fills in the id, we get the ICMP part only */
	fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY);
	if (fd >= 0) {
		write(fd, "0 0", 3);
		close(fd);
	}
	ps = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	ok(ps >= 0, "ping socket (SOCK_DGRAM, IPPROTO_ICMP) with ping_group_range 0 0: %s",
	   ps >= 0 ? "ok" : strerror(errno));
	{
		struct sockaddr_in to = node_addr(0);
		unsigned char pkt[64], in[128];
		struct icmphdr *h = (struct icmphdr *)pkt, *r = (struct icmphdr *)in;
		struct pollfd p = { .fd = ps, .events = POLLIN };
		ssize_t n = -1;

		memset(pkt, 0, sizeof(pkt));
		h->type = ICMP_ECHO;
		h->un.echo.sequence = htons(77);
		memcpy(pkt + sizeof(*h), "dgram-ping", 10);
		if (ps >= 0 && sendto(ps, pkt, sizeof(*h) + 10, 0, (struct sockaddr *)&to, sizeof(to)) > 0 &&
		    poll(&p, 1, 2000) == 1)
			n = recv(ps, in, sizeof(in), 0);
		ok(n == (ssize_t)sizeof(*h) + 10 && r->type == ICMP_ECHOREPLY && ntohs(r->un.echo.sequence) == 77 &&
		   !memcmp(in + sizeof(*r), "dgram-ping", 10), "the ping socket gets node 0's echo reply (%zd bytes)", n);
	}

	/* tell node 0 we are done until it pings back (10 s at most) */
	for (i = 0; i < 100 && !acked; i++) {
		long long end = vt_now_ms() + 100;

		send_echo(s, 0, ID1, (unsigned short)++seq, DONE);
		while (!acked && vt_now_ms() < end)
			acked = recv_icmp(s, &e, (int)(end - vt_now_ms())) && e.type == ICMP_ECHO && e.id == ID0 &&
				e.from == node_addr(0).sin_addr.s_addr && !strcmp(e.payload, ACK);
	}
	ok(acked, "node 0 pinged back: its echo request reached node 1");
	return exit_status();
}

int main(int argc, char **argv)
{
	const char *node = getenv("VKCI_NODE");

	vt_init(argc, argv);
	if (!node || !getenv("VKCI_NODES") || atoi(getenv("VKCI_NODES")) != 2)
		bail("needs the harness's two nodes: no VKCI_NODE, VKCI_NODES=2 "
		     "(vkci exec starts them from the nodes= metadata)");
	return atoi(node) == 0 ? node0() : node1();
}
