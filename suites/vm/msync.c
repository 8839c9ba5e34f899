/* msync: MS_SYNC/MS_ASYNC on a shared file mapping (tmpfs and the ext4 root)
 * succeed and the data is in the file after munmap and reopen, a store
 * through the mapping updates the ext4 file's mtime, and invalid flags,
 * unaligned or unmapped ranges and MS_INVALIDATE on locked pages fail */
/* vkci: timeout=30 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "vkci_test.h"

static long page;

/* map a fresh 2-page file, store msg at offset page+5, msync, unmap, reread */
static int roundtrip(const char *path, int flags, const char *msg)
{
	char buf[64] = { 0 };
	char *m;
	int fd, r;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, 2 * page) < 0)
		return -1;
	m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return -1;
	strcpy(m + page + 5, msg);
	r = msync(m, 2 * page, flags);
	munmap(m, 2 * page);
	fd = open(path, O_RDONLY);
	if (r < 0 || fd < 0 || pread(fd, buf, strlen(msg), page + 5) != (ssize_t)strlen(msg))
		r = -1;
	if (fd >= 0)
		close(fd);
	return r == 0 && strcmp(buf, msg) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const char *disk = "/root/vm_msync.dat";
	struct timespec past[2] = { { 1000000, 0 }, { 1000000, 0 } };
	struct stat st;
	char *m;
	int fd;

	page = sysconf(_SC_PAGESIZE);
	vt_init(argc, argv);
	plan(10);

	ok(roundtrip("/tmp/vm_msync.dat", MS_SYNC, "tmpfs-sync") == 0,
	   "tmpfs: store, msync(MS_SYNC), munmap: the file has the data");
	ok(roundtrip(disk, MS_SYNC, "ext4-sync") == 0, "ext4: the same with MS_SYNC");
	ok(roundtrip(disk, MS_ASYNC, "ext4-async") == 0, "ext4: the same with MS_ASYNC");

	fd = open(disk, O_RDWR);
	if (fd < 0 || futimens(fd, past) < 0)
		bail("%s: %s", disk, strerror(errno));
	m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		bail("mmap: %s", strerror(errno));
	m[0] = 'M';
	ok(msync(m, 2 * page, MS_SYNC) == 0 && fstat(fd, &st) == 0 && st.st_mtime > past[0].tv_sec,
	   "ext4: a store through the mapping updates mtime (%lld)", (long long)st.st_mtime);

	ok_errno(msync(m, page, MS_SYNC | MS_ASYNC), EINVAL, "MS_SYNC|MS_ASYNC together is EINVAL");
	ok_errno(msync(m, page, 0x100), EINVAL, "an unknown flag is EINVAL");
	ok_errno(msync(m + 1, page, MS_SYNC), EINVAL, "an unaligned address is EINVAL");
	munmap(m + page, page);
	ok_errno(msync(m, 2 * page, MS_SYNC), ENOMEM, "a range with an unmapped page is ENOMEM");
	if (mlock(m, page) < 0)
		bail("mlock: %s", strerror(errno));
	ok_errno(msync(m, page, MS_INVALIDATE), EBUSY, "MS_INVALIDATE on locked pages is EBUSY");
	ok(msync(m, page, MS_ASYNC) == 0, "MS_ASYNC on the locked page is fine");
	munmap(m, page);
	close(fd);
	unlink(disk);
	unlink("/tmp/vm_msync.dat");
	return exit_status();
}
