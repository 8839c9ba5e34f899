/* symbolic links: readlink returns the exact target (no NUL, truncated to
 * the buffer), dangling links, loops and over-long chains give ELOOP,
 * O_NOFOLLOW refuses a link, O_PATH|O_NOFOLLOW opens the link itself */
/* vkci: timeout=30 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "vkci_test.h"

#define DIR "/fs-symlinks"

int main(int argc, char **argv)
{
	char buf[256], name[64], prev[64];
	struct stat st;
	ssize_t n;
	int fd, dfd, i;

	vt_init(argc, argv);
	plan(12);
	if (mkdir(DIR, 0755) < 0)
		bail("mkdir: %s", strerror(errno));
	fd = open(DIR "/file", O_WRONLY | O_CREAT, 0644);
	if (fd < 0 || write(fd, "target data", 11) != 11)
		bail("create file: %s", strerror(errno));
	close(fd);
	if (symlink("file", DIR "/link") < 0 || symlink("no-such-file", DIR "/dangling") < 0 ||
	    symlink("loop2", DIR "/loop1") < 0 || symlink("loop1", DIR "/loop2") < 0)
		bail("symlink: %s", strerror(errno));

	memset(buf, 'X', sizeof(buf));
	n = readlink(DIR "/dangling", buf, sizeof(buf));
	ok(n == 12 && !memcmp(buf, "no-such-file", 12) && buf[12] == 'X',
	   "readlink returns the 12 target bytes and writes no NUL (got %zd)", n);
	n = readlink(DIR "/dangling", buf, 5);
	ok(n == 5 && !memcmp(buf, "no-su", 5), "readlink with a 5-byte buffer truncates to 5 (got %zd)", n);
	ok(lstat(DIR "/dangling", &st) == 0 && S_ISLNK(st.st_mode) && st.st_size == 12,
	   "lstat: a symlink whose st_size is the target length");
	ok_errno(stat(DIR "/dangling", &st), ENOENT, "stat through a dangling link fails with ENOENT");

	memset(buf, 0, sizeof(buf));
	fd = open(DIR "/link", O_RDONLY);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	ok(n == 11 && !strcmp(buf, "target data"),
	   "open follows a link to its target ('%s')", buf);
	if (fd >= 0)
		close(fd);
	ok_errno(open(DIR "/loop1", O_RDONLY), ELOOP, "a two-link loop fails with ELOOP");
	ok_errno(open(DIR "/link", O_RDONLY | O_NOFOLLOW), ELOOP, "O_NOFOLLOW on a symlink fails with ELOOP");
	fd = open(DIR "/link", O_PATH | O_NOFOLLOW);
	ok(fd >= 0 && fstatat(fd, "", &st, AT_EMPTY_PATH) == 0 && S_ISLNK(st.st_mode),
	   "O_PATH|O_NOFOLLOW opens the link itself");
	if (fd >= 0) {
		n = readlinkat(fd, "", buf, sizeof(buf));
		ok(n == 4 && !memcmp(buf, "file", 4), "readlinkat on that O_PATH fd gives 'file' (%zd)", n);
		close(fd);
	} else {
		ok(0, "readlinkat on the O_PATH fd");
	}
	ok_errno(readlink(DIR "/file", buf, sizeof(buf)), EINVAL, "readlink of a regular file fails with EINVAL");

	/* chain: c1 -> file, c2 -> c1, ... ; the kernel follows at most 40 */
	dfd = open(DIR, O_PATH | O_DIRECTORY);
	snprintf(prev, sizeof(prev), "file");
	for (i = 1; i <= 41; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		if (symlinkat(prev, dfd, name) < 0)
			bail("symlink %s: %s", name, strerror(errno));
		snprintf(prev, sizeof(prev), "%s", name);
	}
	fd = open(DIR "/c40", O_RDONLY);
	ok(fd >= 0, "a chain of 40 links resolves (%s)", fd >= 0 ? "ok" : strerror(errno));
	if (fd >= 0)
		close(fd);
	ok_errno(open(DIR "/c41", O_RDONLY), ELOOP, "a chain of 41 links fails with ELOOP");
	return exit_status();
}
