/* watches sector 0 of the root disk (/dev/ubda; ext4 leaves it unused)
 * past every cache for up to ARG seconds (default 30): it reads from the
 * base image until something writes it in the COW, so a change of the base
 * image under the running vkernel shows. Passes either way, saying which */
/* vkci: timeout=60 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int sector0(char *out)
{
	static char buf[4096] __attribute__((aligned(4096)));
	int fd = open("/dev/ubda", O_RDONLY | O_DIRECT), ok;

	if (fd < 0)
		return -1;
	ok = pread(fd, buf, sizeof(buf), 0) == sizeof(buf);
	memcpy(out, buf, 512);
	close(fd);
	return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	static char first[512], now[512];
	long ticks = (argc > 1 ? atol(argv[1]) : 30) * 100, i;
	int changed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..1\n");
	if (sector0(first)) {
		printf("not ok 1 - cannot read /dev/ubda\n");
		return 1;
	}
	printf("# watching\n");
	for (i = 0; i < ticks && !changed; i++) {
		usleep(10000);
		changed = !sector0(now) && memcmp(first, now, 512);
	}
	printf("ok 1 - sector 0 of the root disk %s\n",
	       changed ? "changed under the running guest" : "did not change");
	return 0;
}
