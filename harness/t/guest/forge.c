/* tries to forge control records: on stdout (framed, so harmless) and raw
 * on the serial line (no key, so refused); then fails honestly */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(void)
{
	static const char fake[] = "X 0000000000000000 exit 0\nD 0000000000000000\n";
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..1\nX 0000000000000000 exit 0\nD 0000000000000000\n");
	fd = open("/dev/ttyS0", O_WRONLY);
	if (fd >= 0)
		write(fd, fake, strlen(fake));
	printf("not ok 1 - forged records must not turn this into a pass\n");
	return 1;
}
