/* a real kernel report that does not panic: freeze the root file system
 * (FIFREEZE), let a child block writing to it (uninterruptible), lower the
 * hung-task timeout to 1 s and wait (bounded) for khungtaskd's "blocked for
 * more than" report; then thaw, so the child and the agent's sync() finish */
/* vkci: timeout=40 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int put(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	int r = fd >= 0 && write(fd, s, strlen(s)) == (ssize_t)strlen(s);

	if (fd >= 0)
		close(fd);
	return r;
}

int main(void)
{
	char rec[8192];
	int root, km, seen = 0, i, st;
	pid_t child;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..3\n");
	km = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	lseek(km, 0, SEEK_END);
	root = open("/", O_RDONLY);
	if (ioctl(root, FIFREEZE, 0)) {
		printf("not ok 1 - FIFREEZE /: %s\n", strerror(errno));
		return 1;
	}
	printf("ok 1 - root file system frozen\n");
	child = fork();
	if (child == 0) {
		int fd = open("/hung", O_WRONLY | O_CREAT, 0644);

		_exit(fd >= 0 && write(fd, "x", 1) == 1 ? 0 : 1);
	}
	put("/proc/sys/kernel/hung_task_timeout_secs", "1");
	for (i = 0; i < 30 && !seen; i++) {
		struct pollfd p = { .fd = km, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 1000) <= 0)
			continue;
		while ((n = read(km, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
			if (n <= 0)
				continue;
			rec[n] = 0;
			if (strstr(rec, "blocked for more than"))
				seen = 1;
		}
	}
	printf("%sok 2 - khungtaskd reported the blocked writer\n", seen ? "" : "not ");
	put("/proc/sys/kernel/hung_task_timeout_secs", "0");
	ioctl(root, FITHAW, 0);
	waitpid(child, &st, 0);
	printf("%sok 3 - thawed, the writer finished\n", WIFEXITED(st) && !WEXITSTATUS(st) ? "" : "not ");
	return 0;
}
