/* fills the root file system until ENOSPC, then passes: the COW file on the
 * host grows at most to the size of the base image */
/* vkci: timeout=60 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(void)
{
	static char buf[1 << 16];
	long long n = 0;
	ssize_t w;
	int fd, err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..2\n");
	fd = open("/fill", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	memset(buf, 0xa5, sizeof(buf));
	while ((w = write(fd, buf, sizeof(buf))) > 0)
		n += w;
	err = errno;
	printf("%sok 1 - / full after %lld MiB (%s)\n", err == ENOSPC ? "" : "not ", n >> 20, strerror(err));
	fsync(fd);
	close(fd);
	fd = open("/fill2", O_WRONLY | O_CREAT, 0644);
	w = fd >= 0 ? write(fd, buf, sizeof(buf)) : -1;
	printf("%sok 2 - a second file cannot grow either\n", w == sizeof(buf) ? "not " : "");
	return 0;
}
