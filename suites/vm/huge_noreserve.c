/* huge sparse mappings: 8 GiB of MAP_NORESERVE address space on a 128M guest
 * maps, only the sparse pages touched become resident and keep their values,
 * VmSize counts it all; without MAP_NORESERVE the overcommit heuristic
 * refuses it, overcommit_memory=1 allows it and =2 refuses even NORESERVE */
/* vkci: timeout=30 */
#include <fcntl.h>
#include <sys/mman.h>

#include "vkci_test.h"

#define GB (1024UL * 1024 * 1024)
#define HUGE (8 * GB)
#define STRIDE (256UL * 1024 * 1024)
#define OC "/proc/sys/vm/overcommit_memory"

static int set_overcommit(const char *v)
{
	int fd = open(OC, O_WRONLY);
	int r = fd >= 0 && write(fd, v, 1) == 1 ? 0 : -1;

	if (fd >= 0)
		close(fd);
	return r;
}

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	long long size0, size1, anon0, anon1;
	unsigned char *p, *q, vec[256];
	size_t i, bad, touched = HUGE / STRIDE;
	char oc[16];
	int resident;

	vt_init(argc, argv);
	plan(9);

	if (vt_read_file(OC, oc, sizeof(oc)) <= 0)
		bail("cannot read " OC);
	size0 = vt_proc_field("/proc/self/status", "VmSize");
	anon0 = vt_proc_field("/proc/self/status", "RssAnon");
	p = mmap(NULL, HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		bail("mmap of 8 GiB with MAP_NORESERVE: %s", strerror(errno));
	size1 = vt_proc_field("/proc/self/status", "VmSize");
	is_int(size1 - size0, (long long)(HUGE / 1024), "an 8 GiB MAP_NORESERVE mapping: VmSize grew by 8 GiB");

	for (i = 0; i < touched; i++)
		p[i * STRIDE + 17] = (unsigned char)(i + 1);
	for (i = 0, bad = 0; i < touched; i++)
		bad += p[i * STRIDE + 17] != (unsigned char)(i + 1);
	is_int(bad, 0, "one byte per 256 MiB (%zu pages) written and read back", touched);
	anon1 = vt_proc_field("/proc/self/status", "RssAnon");
	ok(anon1 - anon0 >= (long long)(touched * page / 1024) && anon1 - anon0 < 1024,
	   "RssAnon grew by the touched pages only (+%lld kB)", anon1 - anon0);
	mincore(p + STRIDE, 256 * page, vec);
	for (i = 0, resident = 0; i < 256; i++)
		resident += vec[i] & 1;
	is_int(resident, 1, "mincore: 1 of the 256 pages around a touched one is resident");
	ok(p[5 * STRIDE + 3 * page] == 0, "an untouched page deep inside reads as zero");
	ok_sys(munmap(p, HUGE), "munmap of the 8 GiB");

	/* a fresh kernel starts with the heuristic, 0 (Documentation/admin-guide/sysctl/vm.rst) */
	errno = 0;
	q = mmap(NULL, HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!ok(oc[0] == '0' && q == MAP_FAILED && errno == ENOMEM,
		"without MAP_NORESERVE the default overcommit heuristic (0) refuses 8 GiB (ENOMEM)"))
		diag("overcommit_memory is %c at boot; mmap returned %p: %s", oc[0], (void *)q, strerror(errno));
	if (q != MAP_FAILED)
		munmap(q, HUGE);
	if (set_overcommit("1") < 0)
		bail("cannot write " OC);
	q = mmap(NULL, HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ok(q != MAP_FAILED, "with overcommit_memory=1 the same mapping succeeds");
	if (q != MAP_FAILED)
		munmap(q, HUGE);
	set_overcommit("2");
	q = mmap(NULL, HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	set_overcommit("0");
	ok(q == MAP_FAILED && errno == ENOMEM,
	   "with overcommit_memory=2 even MAP_NORESERVE is refused (ENOMEM)");
	return exit_status();
}
