/* MAP_POPULATE: anonymous and file mappings are resident right after mmap
 * (mincore, /proc/self/statm resident and shared grow by the mapping size)
 * while a plain mapping stays unpopulated until touched */
/* vkci: timeout=30 */
#include <fcntl.h>
#include <sys/mman.h>

#include "vkci_test.h"

#define NPAGES 256

static long page;

/* resident and shared pages from /proc/self/statm */
static void statm(long *resident, long *shared)
{
	char buf[256];
	long size;

	*resident = *shared = -1;
	if (vt_read_file("/proc/self/statm", buf, sizeof(buf)) > 0)
		sscanf(buf, "%ld %ld %ld", &size, resident, shared);
}

static int count_resident(void *p, size_t npages)
{
	static unsigned char vec[NPAGES];
	size_t i;
	int n = 0;

	if (mincore(p, npages * page, vec) < 0)
		return -1;
	for (i = 0; i < npages; i++)
		n += vec[i] & 1;
	return n;
}

int main(int argc, char **argv)
{
	long r0, s0, r1, s1, r2, s2;
	unsigned char *plain, *pop, *f;
	size_t i, nonzero = 0;
	int fd;

	page = sysconf(_SC_PAGESIZE);
	vt_init(argc, argv);
	plan(8);

	statm(&r0, &s0);
	plain = mmap(NULL, NPAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (plain == MAP_FAILED)
		bail("mmap: %s", strerror(errno));
	is_int(count_resident(plain, NPAGES), 0, "a plain anonymous mapping has no resident pages");

	statm(&r0, &s0);
	pop = mmap(NULL, NPAGES * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	statm(&r1, &s1);
	if (pop == MAP_FAILED)
		bail("mmap MAP_POPULATE: %s", strerror(errno));
	is_int(count_resident(pop, NPAGES), NPAGES, "MAP_POPULATE: all %d pages resident at once", NPAGES);
	ok(r1 - r0 >= NPAGES && r1 - r0 < NPAGES + 32,
	   "statm resident grew by the mapping (%ld pages, wanted %d)", r1 - r0, NPAGES);
	for (i = 0; i < NPAGES * (size_t)page; i++)
		nonzero += pop[i] != 0;
	is_int(nonzero, 0, "the populated pages read as zeros");

	for (i = 0; i < NPAGES / 2; i++)
		plain[i * page] = 1;
	is_int(count_resident(plain, NPAGES), NPAGES / 2, "touching half the plain mapping makes that half resident");

	fd = open("/tmp/vm_populate.dat", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, NPAGES * page) < 0)
		bail("file setup: %s", strerror(errno));
	for (i = 0; i < NPAGES; i += 2)   /* allocate every other page in the page cache */
		if (pwrite(fd, "d", 1, i * page) != 1)
			bail("pwrite: %s", strerror(errno));
	f = mmap(NULL, NPAGES * page, PROT_READ, MAP_SHARED, fd, 0);
	if (f == MAP_FAILED)
		bail("mmap file: %s", strerror(errno));
	is_int(count_resident(f, NPAGES), NPAGES / 2, "mincore on a file mapping shows the cached half");
	munmap(f, NPAGES * page);
	statm(&r1, &s1);
	f = mmap(NULL, NPAGES * page, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
	statm(&r2, &s2);
	if (f == MAP_FAILED)
		bail("mmap file MAP_POPULATE: %s", strerror(errno));
	ok(s2 - s1 >= NPAGES && s2 - s1 < NPAGES + 32,
	   "MAP_POPULATE maps every page of a tmpfs file: statm shared grew by %ld, wanted %d",
	   s2 - s1, NPAGES);
	ok(f[0] == 'd' && f[page] == 0, "the file mapping shows the file's data");
	close(fd);
	unlink("/tmp/vm_populate.dat");
	return exit_status();
}
