/* two nodes: node 1 panics its kernel, node 0 waits for a message that
 * never comes and runs into its timeout; every node must be torn down */
/* vkci: nodes=2 timeout=3 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	const char *node = getenv("VKCI_NODE");

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..1\n");
	if (node && !strcmp(node, "1")) {
		int fd = open("/proc/sysrq-trigger", O_WRONLY);

		write(fd, "c", 1);
	}
	for (;;)
		pause();
}
