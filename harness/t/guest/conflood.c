/* floods the console: MIB (default 100) written to /dev/console, or through
 * printk with "kmsg"; then passes, or with "panic" panics the kernel (a
 * crash after the console log's cap must still be seen) */
/* vkci: timeout=120 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	static char line[512];
	long long want = (argc > 1 ? atoll(argv[1]) : 100) << 20, done = 0;
	int kmsg = argc > 2 && !strcmp(argv[2], "kmsg");
	int fd = open(kmsg ? "/dev/kmsg" : "/dev/console", O_WRONLY);
	ssize_t w = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..1\n");
	memset(line, 'c', sizeof(line) - 1);
	memcpy(line, kmsg ? "<2>flood " : "flood ", kmsg ? 9 : 6);
	line[sizeof(line) - 1] = '\n';
	while (fd >= 0 && w > 0 && done < want)
		if ((w = write(fd, line, sizeof(line))) > 0)
			done += w;
	printf("%sok 1 - wrote %lld MiB to %s\n", done >= want ? "" : "not ",
	       done >> 20, kmsg ? "/dev/kmsg" : "/dev/console");
	if (argc > 3 && !strcmp(argv[3], "panic")) {
		fd = open("/proc/sysrq-trigger", O_WRONLY);
		write(fd, "c", 1);
	}
	return 0;
}
