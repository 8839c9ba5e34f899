/* vkci_net.h - socket helpers for the net suite (include after vkci_test.h).
 *
 *   vt_tcp_pair(&a, &b)   a connected TCP pair over 127.0.0.1 (an ephemeral
 *                         port); bails if the loopback cannot provide one
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

#endif
