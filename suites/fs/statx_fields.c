/* statx(2) on ext4: the basic fields agree with stat and with what was
 * done to the file, the birth time is reported and sane, mnt_id matches
 * /proc fdinfo, AT_EMPTY_PATH works on an fd, timestamps move on write and
 * chmod, the append-only attribute shows in stx_attributes and is enforced,
 * reserved mask bits are rejected */
/* vkci: timeout=30 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "vkci_test.h"

#define F "/fs-statx"

static long long fdinfo_mnt_id(int fd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	return vt_proc_field(path, "mnt_id");
}

static long long ns(struct statx_timestamp t)
{
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv)
{
	struct statx sx, sx2;
	struct stat st;
	char buf[12345];
	time_t t0 = time(NULL);
	int fd, r, flags;

	vt_init(argc, argv);
	plan(12);
	memset(buf, 's', sizeof(buf));
	fd = open(F, O_RDWR | O_CREAT | O_TRUNC, 0640);
	if (fd < 0 || write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf) || fsync(fd) < 0)
		bail("setup: %s", strerror(errno));
	fstat(fd, &st);

	r = statx(AT_FDCWD, F, 0, STATX_BASIC_STATS | STATX_BTIME | STATX_MNT_ID, &sx);
	ok(r == 0 && (sx.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS,
	   "statx returns all the basic fields (mask 0x%x)", sx.stx_mask);
	ok(sx.stx_size == sizeof(buf) && sx.stx_mode == (S_IFREG | 0640) && sx.stx_nlink == 1 && sx.stx_uid == 0 &&
	   sx.stx_gid == 0, "size %llu, mode 0%o, nlink %u, uid/gid 0 are what was created",
	   (unsigned long long)sx.stx_size, sx.stx_mode, sx.stx_nlink);
	ok(sx.stx_ino == st.st_ino && sx.stx_blocks == (unsigned long long)st.st_blocks &&
	   sx.stx_blksize == st.st_blksize && makedev(sx.stx_dev_major, sx.stx_dev_minor) == st.st_dev,
	   "ino, blocks, blksize and dev agree with fstat");
	ok((sx.stx_mask & STATX_BTIME) && sx.stx_btime.tv_sec >= t0 - 1 && sx.stx_btime.tv_sec <= time(NULL) + 1,
	   "ext4 reports a birth time from this run (%lld vs %lld)", (long long)sx.stx_btime.tv_sec, (long long)t0);
	ok((sx.stx_mask & STATX_MNT_ID) && (long long)sx.stx_mnt_id == fdinfo_mnt_id(fd),
	   "stx_mnt_id %llu matches /proc/self/fdinfo (%lld)", (unsigned long long)sx.stx_mnt_id, fdinfo_mnt_id(fd));
	ok(statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx2) == 0 && sx2.stx_ino == sx.stx_ino,
	   "statx(fd, \"\", AT_EMPTY_PATH) describes the open file");

	/* timestamps: a write moves mtime, a chmod moves ctime; btime stays */
	sx2 = sx;
	write(fd, "more", 4);
	statx(AT_FDCWD, F, 0, STATX_BASIC_STATS | STATX_BTIME, &sx);
	ok(ns(sx.stx_mtime) >= ns(sx2.stx_mtime) && ns(sx.stx_btime) == ns(sx2.stx_btime) &&
	   sx.stx_size == sizeof(buf) + 4, "after a write: size grew, mtime did not go back, btime unchanged");
	sx2 = sx;
	chmod(F, 0600);
	statx(AT_FDCWD, F, 0, STATX_BASIC_STATS, &sx);
	ok(ns(sx.stx_ctime) >= ns(sx2.stx_ctime) && sx.stx_mode == (S_IFREG | 0600) &&
	   ns(sx.stx_mtime) == ns(sx2.stx_mtime), "after chmod: new mode, ctime not older, mtime untouched");

	/* the append-only attribute */
	/* like chattr: read the flags (EXTENTS_FL is among them), add APPEND_FL */
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0)
		bail("FS_IOC_GETFLAGS: %s", strerror(errno));
	flags |= FS_APPEND_FL;
	if (ioctl(fd, FS_IOC_SETFLAGS, &flags) < 0)
		bail("FS_IOC_SETFLAGS: %s", strerror(errno));
	statx(AT_FDCWD, F, 0, STATX_BASIC_STATS, &sx);
	ok((sx.stx_attributes_mask & STATX_ATTR_APPEND) && (sx.stx_attributes & STATX_ATTR_APPEND),
	   "chattr +a shows as STATX_ATTR_APPEND (attributes 0x%llx mask 0x%llx)",
	   (unsigned long long)sx.stx_attributes, (unsigned long long)sx.stx_attributes_mask);
	ok_errno(open(F, O_WRONLY), EPERM, "an append-only file cannot be opened for writing without O_APPEND");
	flags &= ~FS_APPEND_FL;
	if (ioctl(fd, FS_IOC_SETFLAGS, &flags) < 0)
		diag("chattr -a: %s", strerror(errno));
	statx(AT_FDCWD, F, 0, STATX_BASIC_STATS, &sx);
	ok(!(sx.stx_attributes & STATX_ATTR_APPEND), "chattr -a clears it again");
	close(fd);
	ok_errno(statx(AT_FDCWD, F, 0, 0x80000000U, &sx), EINVAL, "a reserved mask bit (STATX__RESERVED) fails with EINVAL");
	return exit_status();
}
