/* tmpfs limits and O_TMPFILE: a size=1m tmpfs takes exactly 1 MiB then
 * says ENOSPC, nr_inodes runs out with ENOSPC, remount can grow it but not
 * shrink it below its use; O_TMPFILE files are invisible until linkat gives
 * them a name (on tmpfs and on ext4), and O_EXCL forbids that */
/* vkci: timeout=30 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "vkci_test.h"

#define MNT "/mnt/fs-tmpfs"
#define CHUNK (64 * 1024)

static char buf[CHUNK];

static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

/* O_TMPFILE in dir, then linkat it in as name: 3 assertions */
static void tmpfile_test(const char *fs, const char *dir)
{
	char path[128], back[16] = "";
	struct stat st;
	int before = entries(dir), fd, fd2, r;
	ssize_t n;

	/* tmpfs and ext4 have O_TMPFILE since Linux 3.11 */
	if (vt_kernel_older(3, 11)) {
		skip(3, "%s: O_TMPFILE is new in Linux 3.11", fs);
		return;
	}
	fd = open(dir, O_TMPFILE | O_RDWR, 0600);
	if (fd < 0)
		diag("%s: open(O_TMPFILE): %s", fs, strerror(errno));
	ok(fd >= 0 && write(fd, "anon", 4) == 4 && entries(dir) == before && fstat(fd, &st) == 0 &&
	   st.st_nlink == 0, "%s: an O_TMPFILE file is writable, nameless (nlink 0) and not listed", fs);
	snprintf(path, sizeof(path), "%s/named", dir);
	r = linkat(fd, "", AT_FDCWD, path, AT_EMPTY_PATH);
	n = vt_read_file(path, back, sizeof(back));
	ok(r == 0 && fstat(fd, &st) == 0 && st.st_nlink == 1 && entries(dir) == before + 1 && n == 4 &&
	   !strcmp(back, "anon"),
	   "%s: linkat(AT_EMPTY_PATH) gives it a name with its data ('%s')", fs, back);
	fd2 = open(dir, O_TMPFILE | O_RDWR | O_EXCL, 0600);
	snprintf(path, sizeof(path), "%s/named2", dir);
	ok(fd2 >= 0 && linkat(fd2, "", AT_FDCWD, path, AT_EMPTY_PATH) < 0 && errno == ENOENT,
	   "%s: an O_TMPFILE|O_EXCL file can never be linked (ENOENT)", fs);
	if (fd >= 0)
		close(fd);
	if (fd2 >= 0)
		close(fd2);
}

int main(int argc, char **argv)
{
	struct statfs s;
	long long total = 0;
	long made = 0, ffree;
	char name[128];
	int fd, err = 0;
	ssize_t n;

	vt_init(argc, argv);
	plan(13);
	mkdir(MNT, 0755);
	if (mount("tmpfs", MNT, "tmpfs", 0, "size=1m,nr_inodes=16") < 0)
		bail("mount tmpfs: %s", strerror(errno));

	statfs(MNT, &s);
	ok(s.f_blocks * s.f_bsize == 1 << 20 && s.f_files == 16,
	   "statfs of size=1m,nr_inodes=16: %ld blocks of %ld, %ld inodes", (long)s.f_blocks, (long)s.f_bsize,
	   (long)s.f_files);
	fd = open(MNT "/fill", O_WRONLY | O_CREAT, 0644);
	while (fd >= 0 && total <= 2 << 20) {
		n = write(fd, buf, CHUNK);
		if (n < 0) {
			err = errno;
			break;
		}
		total += n;
	}
	is_int(err, ENOSPC, "writing past the size limit fails with ENOSPC");
	is_int(total, 1 << 20, "exactly 1 MiB fit");
	ok_errno(mount(NULL, MNT, NULL, MS_REMOUNT, "size=512k"), EINVAL,
		 "remounting smaller than the data in it fails with EINVAL");
	ok(mount(NULL, MNT, NULL, MS_REMOUNT, "size=2m") == 0 && write(fd, buf, CHUNK) == CHUNK,
	   "after remounting with size=2m the write goes through");
	close(fd);

	statfs(MNT, &s);
	ffree = (long)s.f_ffree;
	for (err = 0; made < 100; made++) {
		snprintf(name, sizeof(name), MNT "/i%ld", made);
		fd = open(name, O_WRONLY | O_CREAT, 0644);
		if (fd < 0) {
			err = errno;
			break;
		}
		close(fd);
	}
	ok(err == ENOSPC && made == ffree, "inodes run out with ENOSPC after exactly f_ffree=%ld files (%ld made)",
	   ffree, made);
	ok(unlink(MNT "/i0") == 0 && (fd = open(MNT "/again", O_WRONLY | O_CREAT, 0644)) >= 0,
	   "unlinking one file frees an inode for a new one");
	if (fd >= 0)
		close(fd);
	for (made--; made > 0; made--) {
		snprintf(name, sizeof(name), MNT "/i%ld", made);
		unlink(name);
	}
	unlink(MNT "/again");

	tmpfile_test("tmpfs", MNT);
	mkdir("/fs-tmpfile", 0755);
	tmpfile_test("ext4", "/fs-tmpfile");
	return exit_status();
}
