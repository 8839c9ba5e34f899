/* the test passes but the kernel log reports a BUG-class line through kmsg
 * (stand-in for a kernel warning the test provoked) */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(void)
{
	const char *msg = "<4>WARNING: CPU: 0 PID: 1 at fake/vkci.c:1 planted+0x0/0x0\n";
	int fd = open("/dev/kmsg", O_WRONLY);

	printf("1..1\n");
	if (fd >= 0)
		write(fd, msg, strlen(msg));
	printf("ok 1 - wrote a warning to the kernel log\n");
	return 0;
}
