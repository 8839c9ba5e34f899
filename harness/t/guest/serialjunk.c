/* writes ARG KiB (default 1024) of random bytes to the serial line
 * (/dev/ttyS0) behind the agent's back, then passes: the host must refuse
 * them as a protocol violation */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	static char buf[1024];
	long kib = argc > 1 ? atol(argv[1]) : 1024, i;
	int fd = open("/dev/ttyS0", O_WRONLY);

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..1\n");
	for (i = 0; fd >= 0 && i < kib; i++) {
		getrandom(buf, sizeof(buf), 0);
		write(fd, buf, sizeof(buf));
	}
	printf("ok 1 - %ld KiB of random bytes on /dev/ttyS0\n", i);
	return 0;
}
