/* vkci_net.h - socket helpers for the net suite (include after vkci_test.h).
 *
 *   vt_tcp_pair(&a, &b)   a connected TCP pair over 127.0.0.1 (an ephemeral
 *                         port); bails if the loopback cannot provide one
 *   vt_connect_retry(&addr, tries)  a TCP socket connected to addr, trying
 *                         every 50 ms up to `tries` times (another node may
 *                         not listen yet); -1 with errno from the last try
 */
#ifndef VKCI_NET_H
#define VKCI_NET_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

VT_FN void vt_tcp_pair(int *a, int *b)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&sa, &len) < 0)
		bail("listen: %s", strerror(errno));
	*a = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(*a, (struct sockaddr *)&sa, sizeof(sa)) < 0 || (*b = accept(l, NULL, NULL)) < 0)
		bail("connect/accept: %s", strerror(errno));
	close(l);
}

VT_FN int vt_connect_retry(const struct sockaddr_in *a, int tries)
{
	int i, s, err;

	for (i = 0; i < tries; i++) {
		s = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(s, (const struct sockaddr *)a, sizeof(*a)) == 0)
			return s;
		err = errno;
		close(s);
		usleep(50000);
		errno = err;
	}
	return -1;
}

#endif
