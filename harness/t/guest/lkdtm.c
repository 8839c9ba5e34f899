/* lkdtm - provoke one real kernel report through LKDTM (CONFIG_LKDTM=y, the
 * debug variant, harness/debug.config): write TYPE to
 * /sys/kernel/debug/provoke-crash/DIRECT (drivers/misc/lkdtm/core.c).
 *
 *   lkdtm TYPE [SYSCTL=VALUE ...]
 *
 * Each SYSCTL=VALUE is written to /proc/sys/SYSCTL first (e.g.
 * kernel/hung_task_timeout_secs=1), or to SYSCTL itself if it starts with
 * '/' (e.g. /sys/module/rcupdate/parameters/rcu_cpu_stall_timeout=3). The test passes when the write returns:
 * whether the kernel reported a bug is the console's to say, so a real run
 * fails with the crash's kind and title (harness/t/95-debug-kernel.t).
 * Without LKDTM it skips (exit 4). */
/* vkci: timeout=20 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DIRECT "/sys/kernel/debug/provoke-crash/DIRECT"

static int put(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n = fd >= 0 ? write(fd, s, strlen(s)) : -1;
	int e = errno;

	if (fd >= 0)
		close(fd);
	errno = e;
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

int main(int argc, char **argv)
{
	char path[256];
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		printf("1..0 # SKIP usage: lkdtm TYPE [SYSCTL=VALUE ...]\n");
		return 4;
	}
	if (access(DIRECT, W_OK)) {
		printf("1..0 # SKIP no %s (CONFIG_LKDTM; make ... VARIANT=debug)\n", DIRECT);
		return 4;
	}
	printf("1..%d\n", argc - 1);
	for (i = 2; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (!eq) {
			printf("not ok %d - bad sysctl '%s' (SYSCTL=VALUE)\n", i - 1, argv[i]);
			continue;
		}
		*eq = '\0';
		snprintf(path, sizeof(path), "%s%s", argv[i][0] == '/' ? "" : "/proc/sys/", argv[i]);
		if (put(path, eq + 1))
			printf("not ok %d - %s = %s: %s\n", i - 1, path, eq + 1, strerror(errno));
		else
			printf("ok %d - %s = %s\n", i - 1, path, eq + 1);
	}
	printf("# provoking %s\n", argv[1]);
	if (put(DIRECT, argv[1]))
		printf("ok %d - %s: the write failed (%s), the kernel lived\n", argc - 1, argv[1], strerror(errno));
	else
		printf("ok %d - %s: the write returned, the kernel lived\n", argc - 1, argv[1]);
	return 0;
}
