/* directory iteration under change: getdents64 in small batches while
 * another process keeps creating and unlinking other entries; every entry
 * present throughout is returned exactly once per pass, on ext4 and tmpfs */
/* vkci: timeout=30 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "vkci_test.h"

#define STABLE 200
#define MIN_PASSES 10
#define MAX_PASSES 2000
#define MIN_CHURN 400
#define WINDOW 40

struct d64 {
	unsigned long long d_ino;
	long long d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

struct shared {
	volatile long ops;
	volatile int stop;
};

static int churn(const char *dir, struct shared *sh)
{
	char name[256];
	long i;

	for (i = 0; !sh->stop; i++) {
		int fd;

		snprintf(name, sizeof(name), "%s/t%06ld", dir, i);
		fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			return 2;
		close(fd);
		if (i >= WINDOW) {
			snprintf(name, sizeof(name), "%s/t%06ld", dir, i - WINDOW);
			if (unlink(name) < 0)
				return 3;
		}
		sh->ops += 2;
	}
	return 0;
}

/* 4 assertions */
static void run(const char *fs, const char *dir)
{
	static unsigned char seen[STABLE];
	char name[256], buf[512];
	long passes = 0, missing = 0, dups = 0, dots = 0, badtype = 0, ops0, during = 0;
	struct shared *sh;
	int i, st;
	pid_t pid;

	if (mkdir(dir, 0755) < 0)
		bail("mkdir %s: %s", dir, strerror(errno));
	for (i = 0; i < STABLE; i++) {
		int fd;

		snprintf(name, sizeof(name), "%s/s%03d", dir, i);
		fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			bail("create %s: %s", name, strerror(errno));
		close(fd);
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		bail("mmap: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		bail("fork: %s", strerror(errno));
	if (pid == 0)
		_exit(churn(dir, sh));

	while (passes < MAX_PASSES && (passes < MIN_PASSES || during < MIN_CHURN)) {
		int fd = open(dir, O_RDONLY | O_DIRECTORY);
		long n, dot = 0, dotdot = 0;

		if (fd < 0)
			bail("open %s: %s", dir, strerror(errno));
		memset(seen, 0, sizeof(seen));
		ops0 = sh->ops;
		while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
			long off;

			for (off = 0; off < n;) {
				struct d64 *d = (struct d64 *)(buf + off);
				int k;

				if (!strcmp(d->d_name, "."))
					dot++;
				else if (!strcmp(d->d_name, ".."))
					dotdot++;
				else if (d->d_name[0] == 's' && sscanf(d->d_name + 1, "%d", &k) == 1 && k >= 0 &&
					 k < STABLE) {
					seen[k]++;
					badtype += d->d_type != DT_REG;
				}
				off += d->d_reclen;
			}
			sched_yield();   /* let the churner run between batches */
		}
		close(fd);
		if (n < 0)
			bail("getdents64: %s", strerror(errno));
		during += sh->ops - ops0;
		for (i = 0; i < STABLE; i++) {
			missing += seen[i] == 0;
			dups += seen[i] > 1;
		}
		dots += dot != 1 || dotdot != 1;
		passes++;
	}
	sh->stop = 1;
	waitpid(pid, &st, 0);
	diag("%s: %ld passes, %ld churn operations during them", fs, passes, during);
	ok(missing == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "%s: no stable entry was missed (%ld misses in %ld passes)", fs, missing, passes);
	is_int(dups, 0, "%s: no stable entry was returned twice in a pass", fs);
	ok(dots == 0 && badtype == 0, "%s: '.' and '..' once per pass, entries typed DT_REG", fs);
	ok(during >= MIN_CHURN, "%s: the directory really changed during the passes (%ld ops)", fs, during);
}

int main(int argc, char **argv)
{
	vt_init(argc, argv);
	plan(8);
	run("ext4", "/fs-dir-iter");
	run("tmpfs", "/tmp/fs-dir-iter");
	return exit_status();
}
