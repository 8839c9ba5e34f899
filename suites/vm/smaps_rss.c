/* /proc/self/smaps: a mapping's Size is its length, Rss/Anonymous/
 * Private_Dirty follow the pages touched, MADV_DONTNEED drops them again,
 * and shared memory is Rss but not Anonymous */
/* vkci: timeout=30 */
#include <sys/mman.h>

#include "vkci_test.h"

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE), kb = page / 1024;
	char *p, *s;
	int i;

	vt_init(argc, argv);
	plan(10);

	p = mmap(NULL, 32 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		bail("mmap: %s", strerror(errno));
	is_int(vt_smaps_field(p, "Size"), 32 * kb, "Size is the mapping length in kB");
	is_int(vt_smaps_field(p, "Rss"), 0, "Rss is 0 before any touch");

	for (i = 0; i < 10; i++)
		p[i * 3 * page] = 1;   /* pages 0, 3, ..., 27 */
	is_int(vt_smaps_field(p, "Rss"), 10 * kb, "Rss is 10 pages after touching 10 pages");
	is_int(vt_smaps_field(p, "Anonymous"), 10 * kb, "all of it Anonymous");
	is_int(vt_smaps_field(p, "Private_Dirty"), 10 * kb, "and Private_Dirty");

	madvise(p, 16 * page, MADV_DONTNEED);   /* drops pages 0..15: 6 of them touched */
	is_int(vt_smaps_field(p, "Rss"), 4 * kb, "MADV_DONTNEED on the first half leaves 4 pages");
	munmap(p, 32 * page);

	s = mmap(NULL, 8 * page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s == MAP_FAILED)
		bail("mmap shared: %s", strerror(errno));
	for (i = 0; i < 4; i++)
		s[i * page] = 1;
	is_int(vt_smaps_field(s, "Rss"), 4 * kb, "shared anonymous memory: Rss is the 4 touched pages");
	is_int(vt_smaps_field(s, "Anonymous"), 0, "but none of it is Anonymous (it is shmem)");
	{
		long long rss = vt_smaps_field(s, "Rss"), pss = vt_smaps_field(s, "Pss");

		is_int(pss, rss, "Pss equals Rss while only this process maps it");
	}
	is_int(vt_smaps_field(s, "Size"), 8 * kb, "Size is still the whole 8 pages");
	return exit_status();
}
