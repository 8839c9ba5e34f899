/* brk/sbrk: the break moves as asked and the kernel agrees with libc, new
 * heap is zeroed and writable, /proc/self/maps [heap] ends at the break,
 * shrinking unmaps and regrowing gives fresh zeros, impossible requests
 * (below the start, absurdly large, into another mapping) leave it unchanged */
/* vkci: timeout=30 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "vkci_test.h"

#define GROW (1024 * 1024)

static unsigned long kbrk(unsigned long want)
{
	return (unsigned long)syscall(SYS_brk, want);
}

/* end of the [heap] line in /proc/self/maps (no malloc: plain read) */
static unsigned long heap_end(void)
{
	static char buf[1 << 16];
	unsigned long s, e;
	char *l;
	ssize_t n;
	int fd = open("/proc/self/maps", O_RDONLY);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	for (l = buf; l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		char *nl = strchr(l, '\n');

		if (nl)
			*nl = '\0';
		if (strstr(l, "[heap]") && sscanf(l, "%lx-%lx", &s, &e) == 2)
			return e;
		if (nl)
			*nl = '\n';
	}
	return 0;
}

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned long b0, b1, top;
	unsigned char *h;
	size_t i, bad;
	void *blocker;

	vt_init(argc, argv);
	plan(11);

	b0 = (unsigned long)sbrk(0);
	is_int(kbrk(0), b0, "the kernel's break (brk(0)) is libc's sbrk(0)");

	h = sbrk(GROW);
	ok(h != (void *)-1 && (unsigned long)h == b0, "sbrk(1M) returns the old break");
	if (h == (void *)-1)
		bail("sbrk: %s", strerror(errno));
	b1 = kbrk(0);
	is_int(b1, b0 + GROW, "the break moved up by 1M");
	for (i = 0, bad = 0; i < GROW; i++)
		bad += h[i] != 0;
	is_int(bad, 0, "the new heap reads as zeros");
	memset(h, 0xee, GROW);
	top = (b1 + page - 1) & ~(page - 1);
	is_int(heap_end(), top, "/proc/self/maps [heap] ends at the page-rounded break");

	ok(brk((void *)b0) == 0 && kbrk(0) == b0, "brk() back to the old break");
	ok(vt_read_faults((volatile char *)top - page), "the released top page is unmapped");
	if (sbrk(GROW) == (void *)-1)
		bail("sbrk regrow: %s", strerror(errno));
	ok(h[GROW - 1] == 0 && h[GROW / 2] == 0, "regrowing gives zeros, not the old 0xee");

	is_int(kbrk(4096), b0 + GROW, "brk below the heap start is refused, the break stays");
	is_int(kbrk(b0 + (1UL << 44)), b0 + GROW, "brk 16 TiB up is refused, the break stays");

	blocker = mmap((void *)(top + 16 * page), page, PROT_READ,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (blocker == MAP_FAILED)
		bail("blocker: %s", strerror(errno));
	is_int(kbrk(top + 32 * page), b0 + GROW, "brk across another mapping is refused");
	munmap(blocker, page);
	brk((void *)b0);
	return exit_status();
}
