/* /proc/self/status accounting: mmap grows VmSize and VmData by exactly the
 * mapping, touching it grows VmRSS/RssAnon by about its size (not before),
 * VmHWM and VmPeak follow the peak, and munmap gives it all back */
/* vkci: timeout=30 */
#include <sys/mman.h>

#include "vkci_test.h"

#define SIZE_KB 8192L
#define SLACK_KB 256

static long long field(const char *key)
{
	return vt_proc_field("/proc/self/status", key);
}

int main(int argc, char **argv)
{
	long long size0, data0, rss0, anon0, size1, data1, rss1, anon1, rss2, anon2, hwm2, size3, anon3, hwm3; /* hwm3: VmPeak */
	char *p;
	long i, page = sysconf(_SC_PAGESIZE);

	vt_init(argc, argv);
	plan(10);

	size0 = field("VmSize");
	data0 = field("VmData");
	rss0 = field("VmRSS");
	anon0 = field("RssAnon");
	if (size0 < 0 || rss0 < 0 || anon0 < 0 || data0 < 0)
		bail("VmSize/VmData/VmRSS/RssAnon missing from /proc/self/status");

	p = mmap(NULL, SIZE_KB * 1024, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		bail("mmap: %s", strerror(errno));
	size1 = field("VmSize");
	data1 = field("VmData");
	rss1 = field("VmRSS");
	anon1 = field("RssAnon");
	is_int(size1 - size0, SIZE_KB, "VmSize grew by the %ld kB mapped", SIZE_KB);
	is_int(data1 - data0, SIZE_KB, "VmData grew by the same (private writable)");
	ok(rss1 - rss0 < SLACK_KB && anon1 - anon0 < SLACK_KB,
	   "VmRSS did not grow before the touch (+%lld kB)", rss1 - rss0);

	for (i = 0; i < SIZE_KB * 1024; i += page)
		p[i] = 1;
	rss2 = field("VmRSS");
	anon2 = field("RssAnon");
	hwm2 = field("VmHWM");
	ok(anon2 - anon1 >= SIZE_KB && anon2 - anon1 < SIZE_KB + SLACK_KB,
	   "RssAnon grew by the %ld kB touched (+%lld kB)", SIZE_KB, anon2 - anon1);
	ok(rss2 - rss1 >= SIZE_KB && rss2 - rss1 < SIZE_KB + SLACK_KB,
	   "VmRSS grew by the %ld kB touched (+%lld kB)", SIZE_KB, rss2 - rss1);
	ok(hwm2 >= rss2, "VmHWM %lld >= VmRSS %lld", hwm2, rss2);
	is_int(field("VmRSS"), field("RssAnon") + field("RssFile") + field("RssShmem"),
	       "VmRSS = RssAnon + RssFile + RssShmem");

	munmap(p, SIZE_KB * 1024);
	size3 = field("VmSize");
	anon3 = field("RssAnon");
	hwm3 = field("VmPeak");
	is_int(size3, size0, "munmap brings VmSize back");
	ok(anon3 - anon0 < SLACK_KB, "and RssAnon (+%lld kB over the start)", anon3 - anon0);
	ok(hwm3 >= size0 + SIZE_KB, "VmPeak keeps the peak VmSize (%lld kB >= %lld)", hwm3, size0 + SIZE_KB);
	return exit_status();
}
