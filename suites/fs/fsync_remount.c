/* fsync and remount persistence on a scratch ext4: data written and
 * fsync'd, a rename, a truncation and an fdatasync'd overwrite all survive
 * umount + mount, and e2fsck -fn finds the file system clean afterwards */
/* vkci: scratch=32M timeout=30 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "vkci_test.h"

#define MNT "/mnt/fs-fsync"
#define LEN (256 * 1024)

static unsigned char data[LEN], back[LEN];

/* run a tool with its output on stderr; its exit code, or -1 */
static void put(const char *path, const void *buf, size_t len, int how)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		bail("write %s: %s", path, strerror(errno));
	if (how == 1 && fsync(fd) < 0)
		bail("fsync %s: %s", path, strerror(errno));
	if (how == 2 && fdatasync(fd) < 0)
		bail("fdatasync %s: %s", path, strerror(errno));
	close(fd);
}

int main(int argc, char **argv)
{
	const char *dev = getenv("VKCI_SCRATCH");
	char *mkfs[] = { "mkfs.ext4", "-q", "-F", (char *)dev, NULL };
	char *fsck[] = { "e2fsck", "-fn", (char *)dev, NULL };
	char small[32] = "";
	struct stat st;
	ssize_t n;
	size_t i;
	int fd;

	vt_init(argc, argv);
	plan(11);
	if (!dev)
		bail("no scratch disk (VKCI_SCRATCH unset)");
	for (i = 0; i < LEN; i++)
		data[i] = (unsigned char)(i * 7 + i / 4096);

	is_int(vt_run("/sbin/mkfs.ext4", mkfs), 0, "mkfs.ext4 %s", dev);
	mkdir(MNT, 0755);
	if (mount(dev, MNT, "ext4", 0, NULL) < 0)
		bail("mount %s: %s", dev, strerror(errno));
	put(MNT "/data", data, LEN, 1);
	put(MNT "/tmpname", "renamed", 7, 1);
	if (rename(MNT "/tmpname", MNT "/final") < 0)
		bail("rename: %s", strerror(errno));
	fd = open(MNT, O_RDONLY | O_DIRECTORY);
	ok_sys(fsync(fd), "fsync of the directory after the rename");
	close(fd);
	put(MNT "/trunc", data, LEN, 1);
	if (truncate(MNT "/trunc", 12345) < 0)
		bail("truncate: %s", strerror(errno));
	put(MNT "/over", "first version", 13, 1);
	put(MNT "/over", "second", 6, 2);
	ok_sys(umount(MNT), "umount");
	is_int(vt_run("/sbin/e2fsck", fsck), 0, "e2fsck -fn: clean after the first umount");

	ok_sys(mount(dev, MNT, "ext4", 0, NULL), "mount again");
	fd = open(MNT "/data", O_RDONLY);
	n = fd < 0 ? -1 : read(fd, back, LEN);
	if (fd >= 0)
		close(fd);
	ok(n == LEN && !memcmp(back, data, LEN), "the fsync'd 256K file reads back identical (%zd bytes)", n);
	fd = open(MNT "/final", O_RDONLY);
	n = fd < 0 ? -1 : read(fd, small, sizeof(small) - 1);
	if (fd >= 0)
		close(fd);
	ok(n == 7 && !strcmp(small, "renamed") && access(MNT "/tmpname", F_OK) < 0,
	   "the rename persisted: new name has the data, the old one is gone");
	if (stat(MNT "/trunc", &st) < 0)
		st.st_size = -1;
	ok(st.st_size == 12345,
	   "the truncation persisted (size %ld)", (long)st.st_size);
	memset(small, 0, sizeof(small));
	fd = open(MNT "/over", O_RDONLY);
	if (fd >= 0) {
		read(fd, small, sizeof(small) - 1);
		close(fd);
	}
	is_string(small, "second", "the fdatasync'd overwrite persisted");
	ok_sys(umount(MNT), "umount again");
	is_int(vt_run("/sbin/e2fsck", fsck), 0, "e2fsck -fn: still clean");
	return exit_status();
}
