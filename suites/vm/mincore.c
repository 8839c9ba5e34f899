/* mincore: reports exactly the touched pages of an anonymous mapping,
 * page-cache residency of a sparse tmpfs file through its mapping, drops
 * pages after MADV_DONTNEED, and rejects unaligned or unmapped ranges */
/* vkci: timeout=30 */
#include <fcntl.h>
#include <sys/mman.h>

#include "vkci_test.h"

#define NPAGES 16

static long page;

/* bit i set when page i of [p, p+n pages) is resident */
static long residency(void *p, int n)
{
	unsigned char vec[NPAGES];
	long bits = 0;
	int i;

	if (mincore(p, n * page, vec) < 0)
		return -errno;
	for (i = 0; i < n; i++)
		bits |= (long)(vec[i] & 1) << i;
	return bits;
}

int main(int argc, char **argv)
{
	unsigned char *p, *f, vec[NPAGES];
	int fd;

	page = sysconf(_SC_PAGESIZE);
	vt_init(argc, argv);
	plan(10);

	p = mmap(NULL, NPAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		bail("mmap: %s", strerror(errno));
	is_int(residency(p, NPAGES), 0, "no page of a fresh anonymous mapping is resident");
	p[0] = p[3 * page] = p[7 * page + 100] = p[15 * page + page - 1] = 1;
	is_int(residency(p, NPAGES), 0x8089, "exactly the touched pages 0, 3, 7, 15 are resident");
	madvise(p + 3 * page, page, MADV_DONTNEED);
	is_int(residency(p, NPAGES), 0x8081, "page 3 is gone after MADV_DONTNEED");
	is_int(residency(p + 7 * page, 1), 1, "a one-page query at a resident page");

	ok_errno(mincore(p + 1, page, vec), EINVAL, "an unaligned address is EINVAL");
	munmap(p + 8 * page, page);
	ok_errno(mincore(p + 4 * page, 8 * page, vec), ENOMEM, "a range with an unmapped page is ENOMEM");
	ok_errno(mincore(p + 8 * page, page, vec), ENOMEM, "an unmapped page on its own is ENOMEM");

	fd = open("/tmp/vm_mincore.dat", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, 8 * page) < 0 || pwrite(fd, "x", 1, 2 * page) != 1 ||
	    pwrite(fd, "y", 1, 5 * page + 9) != 1)
		bail("file setup: %s", strerror(errno));
	f = mmap(NULL, 8 * page, PROT_READ, MAP_SHARED, fd, 0);
	if (f == MAP_FAILED)
		bail("mmap file: %s", strerror(errno));
	is_int(residency(f, 8), 0x24, "a sparse tmpfs file: only the 2 written pages are in the page cache");
	ok(f[2 * page] == 'x' && f[5 * page + 9] == 'y', "the mapping shows them");
	if (pwrite(fd, "z", 1, 7 * page) != 1)
		bail("pwrite: %s", strerror(errno));
	is_int(residency(f, 8), 0xa4, "a page written with write() shows up without a touch");
	close(fd);
	unlink("/tmp/vm_mincore.dat");
	return exit_status();
}
