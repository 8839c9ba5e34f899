/* two nodes on the run's switch: node 0 serves TCP on 10.0.0.1, node 1
 * connects and exchanges a message; both report TAP */
/* vkci: nodes=2 timeout=20 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
	const char *node = getenv("VKCI_NODE"), *nodes = getenv("VKCI_NODES");
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(7000) };
	char buf[64] = "";
	int s, c, i, one = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..2\n");
	printf("%sok 1 - node %s of %s\n", node && nodes && !strcmp(nodes, "2") ? "" : "not ", node, nodes);
	a.sin_addr.s_addr = htonl(0x0a000001);
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (node && !strcmp(node, "0")) {
		struct pollfd p = { .events = POLLIN };

		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 1) < 0) {
			printf("not ok 2 - listen: %s\n", strerror(errno));
			return 1;
		}
		p.fd = s;
		if (poll(&p, 1, 15000) != 1 || (c = accept(s, NULL, NULL)) < 0) {
			printf("not ok 2 - no connection from node 1\n");
			return 1;
		}
		p.fd = c;
		if (poll(&p, 1, 5000) == 1)
			read(c, buf, sizeof(buf) - 1);
		printf("%sok 2 - got '%s' from node 1\n", strcmp(buf, "hello from 1") ? "not " : "", buf);
		return strcmp(buf, "hello from 1") != 0;
	}
	for (i = 0; i < 200; i++) {   /* node 0 may not listen yet: 10 s at most */
		if (connect(s, (struct sockaddr *)&a, sizeof(a)) == 0)
			break;
		close(s);
		s = socket(AF_INET, SOCK_STREAM, 0);
		usleep(50000);
	}
	if (i == 200) {
		printf("not ok 2 - cannot connect to node 0: %s\n", strerror(errno));
		return 1;
	}
	write(s, "hello from 1", 12);
	close(s);
	printf("ok 2 - sent a message to node 0\n");
	return 0;
}
