/* rename(2) atomicity: a reader opening a name never sees it missing or a
 * partially written file while another process renames fresh replacements
 * over it; renameat2 RENAME_NOREPLACE and RENAME_EXCHANGE on ext4 */
/* vkci: timeout=30 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "vkci_test.h"

#define DIR "/fs-rename"
#define FSIZE 4096
#define MIN_RENAMES 300
#define MAX_RENAMES 20000
#define MIN_READS 2000

struct shared {
	volatile long reads;     /* successful reads by the reader */
	volatile long renames;   /* renames done by the writer */
	volatile int done;
};

static void put(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		bail("write %s: %s", path, strerror(errno));
	close(fd);
}

static int get(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	buf[0] = '\0';
	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* a version file: "v%08ld\n" then filler bytes derived from the version */
static void fill_version(char *buf, long v)
{
	snprintf(buf, 16, "v%08ld\n", v);
	memset(buf + 10, 'a' + (int)(v % 26), FSIZE - 10);
}

static int writer(struct shared *sh)
{
	char buf[FSIZE], tmp[64];
	long v;

	for (v = 1; v <= MAX_RENAMES; v++) {
		int fd;

		snprintf(tmp, sizeof(tmp), DIR "/tmp.%ld", v);
		fill_version(buf, v);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0 || write(fd, buf, FSIZE) != FSIZE)
			return 2;
		close(fd);
		if (rename(tmp, DIR "/target") < 0)
			return 3;
		sh->renames = v;
		if (v >= MIN_RENAMES && sh->reads >= MIN_READS)
			break;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char a[64], b[64], buf[FSIZE + 16], want[FSIZE];
	long missing = 0, torn = 0, versions = 0, last = -1, v;
	struct shared *sh;
	int st;
	pid_t pid;

	vt_init(argc, argv);
	plan(11);
	if (mkdir(DIR, 0755) < 0)
		bail("mkdir %s: %s", DIR, strerror(errno));

	put(DIR "/a", "AAA");
	put(DIR "/b", "BBB");
	ok_errno(renameat2(AT_FDCWD, DIR "/a", AT_FDCWD, DIR "/b", RENAME_NOREPLACE), EEXIST,
		 "RENAME_NOREPLACE onto an existing name fails with EEXIST");
	get(DIR "/a", a, sizeof(a));
	get(DIR "/b", b, sizeof(b));
	ok(!strcmp(a, "AAA") && !strcmp(b, "BBB"),
	   "the failed RENAME_NOREPLACE changed neither file ('%s', '%s')", a, b);
	ok_sys(renameat2(AT_FDCWD, DIR "/a", AT_FDCWD, DIR "/c", RENAME_NOREPLACE),
	       "RENAME_NOREPLACE onto a free name succeeds");
	ok(access(DIR "/a", F_OK) < 0 && errno == ENOENT && get(DIR "/c", a, sizeof(a)) == 0 &&
	   !strcmp(a, "AAA"), "after it the old name is gone and the new one has the data");
	ok_sys(renameat2(AT_FDCWD, DIR "/b", AT_FDCWD, DIR "/c", RENAME_EXCHANGE),
	       "RENAME_EXCHANGE of two existing files");
	get(DIR "/b", a, sizeof(a));
	get(DIR "/c", b, sizeof(b));
	ok(!strcmp(a, "AAA") && !strcmp(b, "BBB"), "the two names swapped contents ('%s', '%s')", a, b);
	ok_errno(renameat2(AT_FDCWD, DIR "/b", AT_FDCWD, DIR "/nonexistent", RENAME_EXCHANGE), ENOENT,
		 "RENAME_EXCHANGE with a missing target fails with ENOENT");

	/* the race: one writer renames replacements over target, we read it */
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		bail("mmap: %s", strerror(errno));
	fill_version(want, 0);
	{
		int fd = open(DIR "/target", O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0 || write(fd, want, FSIZE) != FSIZE)
			bail("create target: %s", strerror(errno));
		close(fd);
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		bail("fork: %s", strerror(errno));
	if (pid == 0) {
		int r = writer(sh);

		sh->done = 1;
		_exit(r);
	}
	while (!sh->done) {
		int fd = open(DIR "/target", O_RDONLY);
		ssize_t n;

		if (fd < 0) {
			missing++;
			continue;
		}
		n = read(fd, buf, sizeof(buf));
		close(fd);
		if (n != FSIZE || sscanf(buf, "v%08ld", &v) != 1) {
			torn++;
			continue;
		}
		fill_version(want, v);
		if (memcmp(buf, want, FSIZE)) {
			torn++;
			continue;
		}
		if (v != last)
			versions++;
		last = v;
		sh->reads++;
		sched_yield();
	}
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		diag("writer ended with status 0x%x", st);
	diag("%ld renames, %ld good reads, %ld distinct versions seen", sh->renames, sh->reads, versions);
	ok(missing == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "the name never went missing during %ld renames (%ld misses)", sh->renames, missing);
	is_int(torn, 0, "no read saw a short or mixed file");
	ok(versions >= 2, "the reader saw the file replaced while reading (%ld versions)", versions);
	get(DIR "/target", buf, sizeof(buf));
	sscanf(buf, "v%08ld", &v);
	is_int(v, sh->renames, "the name ends up holding the last version renamed over it");
	return exit_status();
}
