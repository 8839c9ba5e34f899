/* mounting ext4 with options on a scratch disk: a read-only mount refuses
 * every change with EROFS but reads fine, remount rw/ro (EBUSY while a file
 * is open for writing), a read-only bind mount next to a writable one, bad
 * options fail with EINVAL, /proc/self/mountinfo shows the flags, and
 * umount is EBUSY while a file is open */
/* vkci: scratch=32M timeout=30 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "vkci_test.h"

#define MNT "/mnt/fs-ro"
#define BIND "/mnt/fs-ro-bind"

/* the per-mount options field of mountpoint in mountinfo, or "" */
static void mount_opts(const char *mountpoint, char *out, size_t size)
{
	char line[512], mp[256], opts[256];
	FILE *f = fopen("/proc/self/mountinfo", "re");

	out[0] = '\0';
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %*s %*s %255s %255s", mp, opts) == 2 && !strcmp(mp, mountpoint))
			snprintf(out, size, "%s", opts);
	if (f)
		fclose(f);
}

static int has_opt(const char *opts, const char *opt)
{
	char buf[256], *tok, *save;

	snprintf(buf, sizeof(buf), "%s", opts);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (!strcmp(tok, opt))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	const char *dev = getenv("VKCI_SCRATCH");
	char *mkfs[] = { "mkfs.ext4", "-q", "-F", (char *)dev, NULL };
	char opts[256], buf[16] = "";
	struct statvfs sv;
	ssize_t n;
	int fd;

	vt_init(argc, argv);
	plan(13);
	if (!dev)
		bail("no scratch disk (VKCI_SCRATCH unset)");

	is_int(vt_run("/sbin/mkfs.ext4", mkfs), 0, "mkfs.ext4 %s", dev);
	mkdir(MNT, 0755);
	mkdir(BIND, 0755);
	ok_errno(mount(dev, MNT, "ext4", 0, "no_such_option"), EINVAL, "an unknown ext4 option fails with EINVAL");
	if (mount(dev, MNT, "ext4", 0, NULL) < 0)
		bail("mount: %s", strerror(errno));
	fd = open(MNT "/f", O_WRONLY | O_CREAT, 0644);
	if (fd < 0 || write(fd, "content", 7) != 7)
		bail("write: %s", strerror(errno));
	close(fd);
	mkdir(MNT "/d", 0755);
	umount(MNT);

	ok_sys(mount(dev, MNT, "ext4", MS_RDONLY | MS_NOATIME, NULL), "mount -o ro,noatime");
	mount_opts(MNT, opts, sizeof(opts));
	ok(statvfs(MNT, &sv) == 0 && (sv.f_flag & ST_RDONLY) && has_opt(opts, "ro") && has_opt(opts, "noatime"),
	   "statvfs says ST_RDONLY, mountinfo says '%s'", opts);
	ok_errno(open(MNT "/f", O_WRONLY), EROFS, "opening a file for writing fails with EROFS");
	ok(open(MNT "/new", O_WRONLY | O_CREAT, 0644) < 0 && errno == EROFS && mkdir(MNT "/d2", 0755) < 0 &&
	   errno == EROFS && unlink(MNT "/f") < 0 && errno == EROFS && rmdir(MNT "/d") < 0 && errno == EROFS,
	   "create, mkdir, unlink and rmdir all fail with EROFS");
	n = vt_read_file(MNT "/f", buf, sizeof(buf));
	ok(n == 7 && !strcmp(buf, "content"), "reading works ('%s')", buf);

	ok(mount(NULL, MNT, NULL, MS_REMOUNT, NULL) == 0 && (fd = open(MNT "/f", O_WRONLY | O_APPEND)) >= 0 &&
	   write(fd, "+rw", 3) == 3, "after remount rw the file is writable");
	ok_errno(mount(NULL, MNT, NULL, MS_REMOUNT | MS_RDONLY, NULL), EBUSY,
		 "remount ro while a file is open for writing fails with EBUSY");
	close(fd);
	ok_sys(mount(NULL, MNT, NULL, MS_REMOUNT | MS_RDONLY, NULL), "with the file closed remount ro works");
	mount(NULL, MNT, NULL, MS_REMOUNT, NULL);

	/* a read-only bind mount of a writable mount */
	if (mount(MNT, BIND, NULL, MS_BIND, NULL) < 0)
		bail("bind mount: %s", strerror(errno));
	ok_sys(mount(NULL, BIND, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL), "remount the bind mount ro");
	fd = open(MNT "/via-rw", O_WRONLY | O_CREAT, 0644);
	ok(fd >= 0 && open(BIND "/via-ro", O_WRONLY | O_CREAT, 0644) < 0 && errno == EROFS &&
	   access(BIND "/via-rw", F_OK) == 0, "the same file system is writable through one mount, EROFS through the other");
	if (fd >= 0)
		close(fd);
	umount(BIND);
	fd = open(MNT "/f", O_RDONLY);
	ok_errno(umount(MNT), EBUSY, "umount while a file on it is open fails with EBUSY");
	close(fd);
	if (umount(MNT) < 0)
		diag("final umount: %s", strerror(errno));
	return exit_status();
}
