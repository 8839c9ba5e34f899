/* epoll on a TCP loopback connection: level-triggered EPOLLIN repeats while
 * data is unread, edge-triggered reports once per arrival, EPOLLONESHOT
 * disarms until EPOLL_CTL_MOD, EPOLLOUT on a writable socket, EPOLLRDHUP
 * when the peer shuts down its side, and ctl errors (EEXIST, ENOENT) */
/* vkci: timeout=30 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "vkci_test.h"
#include "vkci_net.h"

/* a connected TCP pair over 127.0.0.1 */
static int wait1(int ep, unsigned *events, int timeout)
{
	struct epoll_event ev = { 0 };
	int n = epoll_wait(ep, &ev, 1, timeout);

	*events = n == 1 ? ev.events : 0;
	return n;
}

int main(int argc, char **argv)
{
	struct epoll_event ev = { 0 };
	unsigned e;
	char buf[64];
	int lt, et, os, a, b, c, d, f, g;

	vt_init(argc, argv);
	plan(16);
	vt_tcp_pair(&a, &b);
	vt_tcp_pair(&c, &d);
	vt_tcp_pair(&f, &g);

	/* level-triggered on b */
	lt = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN;
	ev.data.fd = b;
	if (lt < 0 || epoll_ctl(lt, EPOLL_CTL_ADD, b, &ev) < 0)
		bail("epoll: %s", strerror(errno));
	is_int(wait1(lt, &e, 0), 0, "level-triggered: nothing ready on an idle socket");
	write(a, "hello", 5);
	ok(wait1(lt, &e, 1000) == 1 && (e & EPOLLIN), "level-triggered: EPOLLIN after data arrives");
	ok(wait1(lt, &e, 0) == 1 && (e & EPOLLIN), "level-triggered: EPOLLIN again while the data is unread");
	read(b, buf, 2);
	ok(wait1(lt, &e, 0) == 1 && (e & EPOLLIN), "level-triggered: still EPOLLIN after a partial read");
	read(b, buf, sizeof(buf));
	is_int(wait1(lt, &e, 0), 0, "level-triggered: quiet once everything is read");
	ok_errno(epoll_ctl(lt, EPOLL_CTL_ADD, b, &ev), EEXIST, "adding the same fd twice: EEXIST");
	ok_errno(epoll_ctl(lt, EPOLL_CTL_DEL, a, NULL), ENOENT, "deleting an fd never added: ENOENT");

	/* edge-triggered on d */
	et = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN | EPOLLET | EPOLLRDHUP;
	ev.data.fd = d;
	epoll_ctl(et, EPOLL_CTL_ADD, d, &ev);
	write(c, "hello", 5);
	ok(wait1(et, &e, 1000) == 1 && (e & EPOLLIN), "edge-triggered: EPOLLIN when data arrives");
	is_int(wait1(et, &e, 0), 0, "edge-triggered: no second report for the same unread data");
	read(d, buf, 2);
	is_int(wait1(et, &e, 0), 0, "edge-triggered: a partial read does not re-arm it");
	write(c, "more", 4);
	ok(wait1(et, &e, 1000) == 1 && (e & EPOLLIN), "edge-triggered: new data is a new edge");
	read(d, buf, sizeof(buf));
	shutdown(c, SHUT_WR);
	ok(wait1(et, &e, 1000) == 1 && (e & EPOLLRDHUP), "edge-triggered: EPOLLRDHUP after the peer's shutdown(SHUT_WR)");

	/* one-shot on g, plus EPOLLOUT on f */
	os = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN | EPOLLONESHOT;
	ev.data.fd = g;
	epoll_ctl(os, EPOLL_CTL_ADD, g, &ev);
	write(f, "x", 1);
	ok(wait1(os, &e, 1000) == 1 && (e & EPOLLIN), "one-shot: the first event is reported");
	write(f, "y", 1);
	is_int(wait1(os, &e, 0), 0, "one-shot: disarmed after one event, even with new data");
	epoll_ctl(os, EPOLL_CTL_MOD, g, &ev);
	ok(wait1(os, &e, 0) == 1 && (e & EPOLLIN), "one-shot: EPOLL_CTL_MOD re-arms it");
	ev.events = EPOLLOUT;
	ev.data.fd = f;
	epoll_ctl(os, EPOLL_CTL_ADD, f, &ev);
	{
		struct epoll_event evs[4];
		int n = epoll_wait(os, evs, 4, 0), i, out = 0;

		for (i = 0; i < n; i++)
			out |= evs[i].data.fd == f && (evs[i].events & EPOLLOUT);
		ok(out, "EPOLLOUT on a connected socket with an empty send queue");
	}
	return exit_status();
}
