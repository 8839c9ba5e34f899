/* anonymous mappings: zero-filled on first touch, private to the mapping,
 * gone after munmap (touching them then is SIGSEGV), and MAP_FIXED_NOREPLACE
 * refuses to clobber an existing mapping */
/* vkci: timeout=30 */
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>

#include "vkci_test.h"

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t len = 64 * (size_t)page, i, nonzero = 0;
	unsigned char *p, *q;

	vt_init(argc, argv);
	plan(7);

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ok(p != MAP_FAILED, "mmap of %zu anonymous bytes", len);
	if (p == MAP_FAILED)
		bail("mmap: %s", strerror(errno));
	is_int((long)((unsigned long)p % page), 0, "the mapping is page aligned");
	for (i = 0; i < len; i++)
		nonzero += p[i] != 0;
	is_int(nonzero, 0, "a fresh anonymous mapping reads as zeros");
	for (i = 0; i < len; i += page)
		p[i] = (unsigned char)(i / page + 1);
	for (i = 0, nonzero = 0; i < len; i += page)
		nonzero += p[i] == (unsigned char)(i / page + 1);
	is_int(nonzero, len / page, "each page keeps what was written to it");

	q = mmap(p, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	ok(q == MAP_FAILED && errno == EEXIST,
	   "MAP_FIXED_NOREPLACE over a live mapping fails with EEXIST");

	ok_sys(munmap(p + page, page), "munmap of one page in the middle");
	ok(vt_read_faults((volatile char *)p + page) && !vt_read_faults((volatile char *)p),
	   "the unmapped page faults, its neighbour does not");
	return exit_status();
}
