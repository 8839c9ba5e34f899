/* panics the kernel through sysrq: the console must show it. "now": the
 * write to sysrq-trigger is the test's first system call (no output first),
 * so the panic races the agent's started record (S) out of the guest: the
 * host must still see that the test had started */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	int fd;

	if (argc > 1 && !strcmp(argv[1], "now")) {
		fd = open("/proc/sysrq-trigger", O_WRONLY);
		write(fd, "c", 1);
		return 1;
	}
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
