/* mkdir/rmdir semantics on ext4: mode from umask, parent link counts,
 * EEXIST, ENOENT, ENOTDIR, ENOTEMPTY, EINVAL for "." and for moving a
 * directory into itself, and removing a process's cwd */
/* vkci: timeout=30 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "vkci_test.h"

#define D "/fs-mkdir"

static long nlink_of(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? -1 : (long)st.st_nlink;
}

static int in_removed_cwd(void *arg)
{
	(void)arg;
	if (chdir(D "/cwd") < 0)
		return 10;
	if (rmdir(D "/cwd") < 0)
		return 11;
	if (open("newfile", O_WRONLY | O_CREAT, 0644) >= 0)
		return 12;
	return errno == ENOENT ? 0 : 13;
}

int main(int argc, char **argv)
{
	struct stat st;
	int fd, status;

	vt_init(argc, argv);
	plan(14);
	umask(022);
	if (mkdir(D, 0755) < 0)
		bail("mkdir %s: %s", D, strerror(errno));

	memset(&st, 0, sizeof(st));
	if (mkdir(D "/a", 0777) < 0 || stat(D "/a", &st) < 0)
		diag("mkdir/stat: %s", strerror(errno));
	ok(S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755, "mkdir 0777 under umask 022 gives a 0755 directory (0%o)",
	   (unsigned)(st.st_mode & 07777));
	is_int(nlink_of(D "/a"), 2, "a new directory has st_nlink 2");
	mkdir(D "/a/sub", 0755);
	is_int(nlink_of(D "/a"), 3, "a subdirectory raises the parent's st_nlink to 3");
	ok_errno(mkdir(D "/a", 0755), EEXIST, "mkdir of an existing directory fails with EEXIST");
	fd = open(D "/file", O_WRONLY | O_CREAT, 0644);
	close(fd);
	ok_errno(mkdir(D "/file", 0755), EEXIST, "mkdir over an existing file fails with EEXIST");
	ok_errno(mkdir(D "/missing/x", 0755), ENOENT, "mkdir under a missing parent fails with ENOENT");
	ok_errno(mkdir(D "/file/x", 0755), ENOTDIR, "mkdir under a regular file fails with ENOTDIR");
	ok_errno(rmdir(D "/a"), ENOTEMPTY, "rmdir of a non-empty directory fails with ENOTEMPTY");
	ok_errno(rmdir(D "/file"), ENOTDIR, "rmdir of a regular file fails with ENOTDIR");
	ok_errno(rmdir(D "/a/sub/."), EINVAL, "rmdir of a path ending in '.' fails with EINVAL");
	ok_errno(rename(D "/a", D "/a/sub/inside"), EINVAL,
		 "moving a directory into its own subdirectory fails with EINVAL");
	ok(rmdir(D "/a/sub") == 0 && nlink_of(D "/a") == 2 && stat(D "/a/sub", &st) < 0 && errno == ENOENT,
	   "rmdir of the empty subdirectory: gone, parent back to st_nlink 2");
	ok(mkdir(D "/slash/", 0755) == 0 && rmdir(D "/slash/") == 0, "mkdir and rmdir accept a trailing slash");
	mkdir(D "/cwd", 0755);
	run_in_child(in_removed_cwd, NULL, &status);
	is_int(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0,
	       "a process's cwd can be removed; creating in it then fails with ENOENT");
	return exit_status();
}
