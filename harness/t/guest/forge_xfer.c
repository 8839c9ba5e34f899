/* tries to forge file-transfer records: raw on the serial line with a
 * guessed key and with none (refused: it cannot know the per-boot key) and
 * on stdout (framed as output, harmless); then passes honestly. The host
 * must write no file and report the forgery as a protocol violation. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(void)
{
	static const char fake[] =
		"F 0000000000000000 begin ..%2F..%2Fescaped\n"
		"F 0000000000000000 data aGVsbG8K\n"
		"F 0000000000000000 end 6 363a3020\n"
		"F 0000000000000000 count 1 6\n"
		"F begin /tmp/escaped-abs\n";
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..1\n%s", fake);
	fd = open("/dev/ttyS0", O_WRONLY);
	if (fd >= 0)
		write(fd, fake, strlen(fake));
	printf("ok 1 - forged file records written\n");
	return 0;
}
