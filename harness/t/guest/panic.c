/* panics the kernel through sysrq: the console must show it */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
int main(void)
{
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..2\nok 1 - about to panic\n");
	fd = open("/proc/sysrq-trigger", O_WRONLY);
	if (fd < 0) {
		printf("not ok 2 - no /proc/sysrq-trigger\n");
		return 1;
	}
	write(fd, "c", 1);
	printf("not ok 2 - still alive after sysrq-c\n");
	return 1;
}
