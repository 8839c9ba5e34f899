/* hub.c - `vkci hub FD...`: the Ethernet hub of a QEMU network of three or
 * more nodes (qemu.c). Each FD is vkci's end of a node's datagram
 * socketpair (QEMU's `-netdev dgram` on the other end): one datagram is
 * one Ethernet frame, and every frame from one node is sent to all the
 * others, without blocking: a node that is full or gone loses the frame, as
 * on a cable. No learning, no paths, nothing on the host's network. The
 * instance that started it kills it at teardown (and it dies with vkci). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "diag.h"
#include "qemu.h"
#include "util.h"
#include "banned.h"

#define HUB_MAX_PORTS VKNET_MAX_NODES
#define FRAME_MAX 65536

int hub_main(int argc, char **argv)
{
	static char frame[FRAME_MAX];
	struct pollfd p[HUB_MAX_PORTS];
	int n = 0, i, j, live;

	for (i = 1; i < argc; i++) {
		long fd = parse_uint(argv[i], 1 << 20);

		if (fd < 3 || n >= HUB_MAX_PORTS || fcntl((int)fd, F_GETFD) < 0) {
			error("hub: bad port '%s' (usage: vkci hub FD FD FD..., at most %d inherited "
			      "datagram sockets; vkci starts it itself)", argv[i], HUB_MAX_PORTS);
			return EXIT_USAGE;
		}
		p[n++] = (struct pollfd){ .fd = (int)fd, .events = POLLIN };
	}
	if (n < 2) {
		error("hub: at least two ports (usage: vkci hub FD FD FD...)");
		return EXIT_USAGE;
	}
	for (;;) {
		if (poll(p, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			error_errno("hub: poll failed");
			return EXIT_INFRA;
		}
		for (i = 0, live = 0; i < n; i++) {
			ssize_t len;

			if (p[i].revents & (POLLHUP | POLLNVAL))
				p[i].fd = -1;   /* gone: poll skips it from now on */
			if (p[i].fd >= 0)
				live++;
			if (!(p[i].revents & (POLLIN | POLLERR)) || p[i].fd < 0)
				continue;
			/* a pending error (a refused send) is consumed by the recv too */
			len = recv(p[i].fd, frame, sizeof(frame), MSG_DONTWAIT);
			if (len <= 0)
				continue;
			for (j = 0; j < n; j++)
				if (j != i && p[j].fd >= 0)
					send(p[j].fd, frame, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL);
		}
		if (!live)
			return EXIT_PASS;
	}
}
