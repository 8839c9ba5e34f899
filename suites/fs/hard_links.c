/* hard links on ext4: link counts, one inode under two names, unlink
 * semantics (data lives while a name or an open fd remains), EEXIST, EPERM
 * for directories, EXDEV across file systems */
/* vkci: timeout=30 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/stat.h>

#include "vkci_test.h"

#define DIR "/fs-hardlinks"

static long nlink_of(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? -1 : (long)st.st_nlink;
}

int main(int argc, char **argv)
{
	struct stat sa, sb, sf;
	char buf[32] = "";
	ssize_t n;
	int fd;

	vt_init(argc, argv);
	plan(12);
	if (mkdir(DIR, 0755) < 0 || mkdir(DIR "/d", 0755) < 0)
		bail("mkdir: %s", strerror(errno));
	fd = open(DIR "/a", O_RDWR | O_CREAT | O_EXCL, 0644);
	if (fd < 0)
		bail("create: %s", strerror(errno));
	close(fd);

	is_int(nlink_of(DIR "/a"), 1, "a new file has one link");
	ok_sys(link(DIR "/a", DIR "/b"), "link a -> b");
	stat(DIR "/a", &sa);
	stat(DIR "/b", &sb);
	ok(sa.st_ino == sb.st_ino && sa.st_nlink == 2 && sb.st_nlink == 2,
	   "both names are the same inode with st_nlink 2 (ino %lu/%lu, nlink %lu/%lu)",
	   (unsigned long)sa.st_ino, (unsigned long)sb.st_ino, (unsigned long)sa.st_nlink,
	   (unsigned long)sb.st_nlink);

	fd = open(DIR "/b", O_WRONLY);
	if (fd < 0 || write(fd, "shared", 6) != 6)
		bail("write b: %s", strerror(errno));
	close(fd);
	fd = open(DIR "/a", O_RDONLY);
	read(fd, buf, sizeof(buf) - 1);
	close(fd);
	is_string(buf, "shared", "data written through one name reads back through the other");

	ok_errno(link(DIR "/a", DIR "/b"), EEXIST, "link onto an existing name fails with EEXIST");
	ok_errno(link(DIR "/d", DIR "/d2"), EPERM, "link of a directory fails with EPERM");
	ok_errno(link(DIR "/a", "/tmp/fs-hardlinks-x"), EXDEV,
		 "link from ext4 into tmpfs fails with EXDEV");

	ok(unlink(DIR "/a") == 0 && nlink_of(DIR "/b") == 1, "unlink a leaves b with one link");
	fd = open(DIR "/b", O_RDONLY);
	if (fd < 0)
		bail("open b: %s", strerror(errno));
	unlink(DIR "/b");
	fstat(fd, &sf);
	is_int(sf.st_nlink, 0, "after the last unlink an open fd sees st_nlink 0");
	memset(buf, 0, sizeof(buf));
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	ok(n == 6 && !strcmp(buf, "shared"),
	   "the unlinked file's data is still readable through the fd ('%s')", buf);
	ok_errno(linkat(fd, "", AT_FDCWD, DIR "/back", AT_EMPTY_PATH), ENOENT,
		 "linkat(AT_EMPTY_PATH) cannot resurrect an unlinked (non-O_TMPFILE) file");
	close(fd);

	mkdir(DIR "/d/sub1", 0755);
	mkdir(DIR "/d/sub2", 0755);
	is_int(nlink_of(DIR "/d"), 4, "a directory with two subdirectories has st_nlink 4");
	return exit_status();
}
