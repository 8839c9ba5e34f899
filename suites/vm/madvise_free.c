/* MADV_FREE and MADV_WILLNEED: freed pages are counted as LazyFree in smaps,
 * read back either intact or as zeros (never torn), a store cancels the
 * freeing of its page; MADV_FREE is refused on shared and file mappings;
 * MADV_WILLNEED reads a cold ext4 file ahead so touching it takes no
 * major fault */
/* vkci: timeout=30 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "vkci_test.h"

#define NPAGES 16

#define WN "/root/vm_willneed.dat"

static long page;
/* write back, drop from the page cache, and map the file */
static unsigned char *map_cold(int fd)
{
	unsigned char *f;

	if (fdatasync(fd) < 0 || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0)
		bail("cannot drop " WN " from the page cache: %s", strerror(errno));
	f = mmap(NULL, NPAGES * page, PROT_READ, MAP_SHARED, fd, 0);
	if (f == MAP_FAILED)
		bail("mmap " WN ": %s", strerror(errno));
	return f;
}

static int count_resident(unsigned char *f)
{
	unsigned char vec[NPAGES];
	int i, n = 0;

	if (mincore(f, NPAGES * page, vec) < 0)
		return -1;
	for (i = 0; i < NPAGES; i++)
		n += vec[i] & 1;
	return n;
}

/* major faults taken while reading every page of f */
static long major_faults_touching(volatile unsigned char *f)
{
	struct rusage a, b;
	int i, sum = 0;

	getrusage(RUSAGE_SELF, &a);
	for (i = 0; i < NPAGES; i++)
		sum += f[i * page];
	getrusage(RUSAGE_SELF, &b);
	if (sum != 'w' * NPAGES)
		diag("file data wrong: sum %d", sum);
	return b.ru_majflt - a.ru_majflt;
}

int main(int argc, char **argv)
{
	unsigned char *p, *sh, *f, *dummy;
	char buf[4096];
	size_t i, j, torn = 0, kept = 0;
	long kb;
	int fd, r, resident;

	page = sysconf(_SC_PAGESIZE);
	kb = page / 1024;
	vt_init(argc, argv);
	plan(11);

	p = mmap(NULL, NPAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	sh = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || sh == MAP_FAILED)
		bail("mmap: %s", strerror(errno));
	memset(p, 0x77, NPAGES * page);

	r = madvise(p, NPAGES * page, MADV_FREE);
	ok(r == 0, "MADV_FREE on %d dirty private anonymous pages", NPAGES);
	if (r < 0)
		diag("madvise: %s", strerror(errno));
	/* the pages go lazyfree through a per-CPU batch; MADV_FREE drains the
	 * batch before it starts, so a second call on another range flushes it */
	dummy = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (dummy == MAP_FAILED)
		bail("mmap: %s", strerror(errno));
	dummy[0] = 1;
	madvise(dummy, page, MADV_FREE);
	is_int(vt_smaps_field(p, "LazyFree"), NPAGES * kb, "smaps LazyFree counts all of them");

	p[0] = 0x11;   /* a store after MADV_FREE keeps the page */
	is_int(vt_smaps_field(p, "LazyFree"), (NPAGES - 1) * kb, "a store takes its page off LazyFree");
	for (i = 1; i < NPAGES; i++) {
		unsigned char first = p[i * page];

		for (j = 0; j < (size_t)page; j++)
			torn += p[i * page + j] != first;
		kept += first == 0x77;
		torn += first != 0x77 && first != 0;
	}
	is_int(torn, 0, "every freed page reads back whole: all old data or all zeros (%zu kept)", kept);
	is_int(p[0], 0x11, "the stored page keeps the new value");

	ok_errno(madvise(sh, page, MADV_FREE), EINVAL, "MADV_FREE on a shared mapping is EINVAL");

	/* a file on the ext4 root, written back and dropped from the page cache */
	fd = open(WN, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		bail("open " WN ": %s", strerror(errno));
	memset(buf, 'w', sizeof(buf));
	for (i = 0; i < NPAGES * (size_t)page; i += sizeof(buf))
		if (write(fd, buf, sizeof(buf)) != sizeof(buf))
			bail("write: %s", strerror(errno));
	f = map_cold(fd);
	ok_errno(madvise(f, page, MADV_FREE), EINVAL, "MADV_FREE on a file mapping is EINVAL");

	resident = count_resident(f);
	ok(resident == 0 && madvise(f, NPAGES * page, MADV_WILLNEED) == 0,
	   "MADV_WILLNEED accepted on a file mapping with nothing cached (%d resident before)", resident);
	/* the read-ahead is asynchronous: give it (bounded) time to land in the
	 * page cache, as a slower kernel (coverage builds) needs */
	for (i = 0; i < 500 && count_resident(f) < NPAGES; i++)
		usleep(10000);
	if (count_resident(f) < NPAGES)
		diag("after 5 s only %d of %d pages were read ahead", count_resident(f), NPAGES);
	is_int(major_faults_touching(f), 0, "touching the whole range then takes no major fault");
	munmap(f, NPAGES * page);
	f = map_cold(fd);
	ok(major_faults_touching(f) >= 1, "while without MADV_WILLNEED it does (the check can fail)");

	munmap(p + 8 * page, page);
	ok_errno(madvise(p, NPAGES * page, MADV_WILLNEED), ENOMEM, "MADV_WILLNEED over a hole is ENOMEM");
	close(fd);
	unlink(WN);
	return exit_status();
}
