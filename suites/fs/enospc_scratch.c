/* ENOSPC on a full small ext4 scratch disk: writing until the disk is full
 * fails with ENOSPC close to its capacity, other writes then fail too,
 * deleting the file gives the space back and writing works again; the file
 * system is clean afterwards */
/* vkci: scratch=16M timeout=30 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "vkci_test.h"

#define MNT "/mnt/fs-enospc"
#define CHUNK (64 * 1024)
#define DISK (16LL << 20)

static char buf[CHUNK];

static long long free_bytes(void)
{
	struct statfs s;

	return statfs(MNT, &s) < 0 ? -1 : (long long)s.f_bavail * s.f_bsize;
}

int main(int argc, char **argv)
{
	const char *dev = getenv("VKCI_SCRATCH");
	char *mkfs[] = { "mkfs.ext4", "-q", "-F", "-m", "0", (char *)dev, NULL };
	char *fsck[] = { "e2fsck", "-fn", (char *)dev, NULL };
	long long total = 0, free0, free1, free2, again = 0;
	int fd, err = 0, r;
	ssize_t n;

	vt_init(argc, argv);
	plan(9);
	if (!dev)
		bail("no scratch disk (VKCI_SCRATCH unset)");
	memset(buf, 0xa5, sizeof(buf));

	is_int(vt_run("/sbin/mkfs.ext4", mkfs), 0, "mkfs.ext4 -m 0 %s", dev);
	mkdir(MNT, 0755);
	if (mount(dev, MNT, "ext4", 0, NULL) < 0)
		bail("mount %s: %s", dev, strerror(errno));
	free0 = free_bytes();
	fd = open(MNT "/fill", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		bail("create: %s", strerror(errno));
	for (;;) {
		n = write(fd, buf, CHUNK);
		if (n < 0) {
			err = errno;
			break;
		}
		total += n;
		if (total > DISK)
			break;
	}
	r = fsync(fd);
	close(fd);
	diag("wrote %lld bytes; %lld were free", total, free0);
	is_int(err, ENOSPC, "writing until the disk is full ends in ENOSPC");
	ok(total > free0 * 9 / 10 && total <= free0, "it stopped close to the free space (%lld of %lld bytes)",
	   total, free0);
	ok(r == 0, "fsync of the full file succeeds (delayed allocation reserved its blocks)");
	free1 = free_bytes();
	fd = open(MNT "/more", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ok(fd >= 0 && write(fd, buf, CHUNK) < 0 && errno == ENOSPC,
	   "a write to another file then fails with ENOSPC too (%lld bytes free)", free1);
	if (fd >= 0)
		close(fd);

	unlink(MNT "/fill");
	fd = open(MNT, O_RDONLY | O_DIRECTORY);
	syncfs(fd);
	close(fd);
	free2 = free_bytes();
	ok(free2 > free0 * 9 / 10, "deleting the file gives the space back (%lld bytes free)", free2);
	fd = open(MNT "/more", O_WRONLY | O_TRUNC);
	while (fd >= 0 && again < total / 2 && write(fd, buf, CHUNK) == CHUNK)
		again += CHUNK;
	ok(again >= total / 2 && fsync(fd) == 0, "writing works again (%lld bytes)", again);
	if (fd >= 0)
		close(fd);
	ok_sys(umount(MNT), "umount");
	is_int(vt_run("/sbin/e2fsck", fsck), 0, "e2fsck -fn: clean after running full");
	return exit_status();
}
