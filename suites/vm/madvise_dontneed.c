/* madvise(MADV_DONTNEED): dropped private anonymous pages read back as zeros
 * and are no longer resident, neighbours keep their data, shared memory keeps
 * its contents, a private file page reverts to the file, and bad ranges or
 * locked pages are refused */
/* vkci: timeout=30 */
#include <fcntl.h>
#include <sys/mman.h>

#include "vkci_test.h"

#define NPAGES 8

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t len = NPAGES * (size_t)page, i, bad;
	unsigned char *p, *sh, *f, vec[NPAGES];
	int fd, resident;

	vt_init(argc, argv);
	plan(9);

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	sh = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || sh == MAP_FAILED)
		bail("mmap: %s", strerror(errno));
	memset(p, 0xaa, len);
	memset(sh, 0xbb, len);

	ok(madvise(p + 2 * page, 3 * page, MADV_DONTNEED) == 0, "MADV_DONTNEED on pages 2-4");
	if (mincore(p, len, vec) < 0)
		bail("mincore: %s", strerror(errno));
	for (i = 0, resident = 0; i < NPAGES; i++)
		resident |= (vec[i] & 1) << i;
	is_int(resident, 0xe3, "mincore: pages 2-4 no longer resident, the others are");
	for (i = 2 * page, bad = 0; i < 5 * (size_t)page; i++)
		bad += p[i] != 0;
	is_int(bad, 0, "the dropped pages read back as zeros");
	for (i = 0, bad = 0; i < len; i++)
		if (i < 2 * (size_t)page || i >= 5 * (size_t)page)
			bad += p[i] != 0xaa;
	is_int(bad, 0, "the pages around them keep their data");

	ok(madvise(sh, len, MADV_DONTNEED) == 0 && sh[0] == 0xbb && sh[len - 1] == 0xbb,
	   "MAP_SHARED anonymous memory keeps its contents after MADV_DONTNEED");

	fd = open("/tmp/vm_dontneed.dat", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || pwrite(fd, "file", 4, 0) != 4 || ftruncate(fd, page) < 0)
		bail("file setup: %s", strerror(errno));
	f = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (f == MAP_FAILED)
		bail("mmap file: %s", strerror(errno));
	memcpy(f, "priv", 4);
	ok(madvise(f, page, MADV_DONTNEED) == 0 && memcmp(f, "file", 4) == 0,
	   "a written MAP_PRIVATE file page reverts to the file's data");

	ok_errno(madvise(p + 1, page, MADV_DONTNEED), EINVAL, "an unaligned start is EINVAL");
	munmap(p + 6 * page, page);
	ok_errno(madvise(p + 5 * page, 2 * page, MADV_DONTNEED), ENOMEM,
		 "a range running into a hole is ENOMEM");
	if (mlock(p, page) < 0)
		bail("mlock: %s", strerror(errno));
	ok_errno(madvise(p, page, MADV_DONTNEED), EINVAL, "MADV_DONTNEED on mlocked pages is EINVAL");

	close(fd);
	unlink("/tmp/vm_dontneed.dat");
	return exit_status();
}
