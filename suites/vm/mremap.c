/* mremap: grow in place into a free gap, ENOMEM when blocked without
 * MREMAP_MAYMOVE, move with MREMAP_MAYMOVE and MREMAP_FIXED (contents kept,
 * old range unmapped), shrink, MREMAP_DONTUNMAP, and bad flag combinations */
/* vkci: timeout=30 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "vkci_test.h"

static long page;

/* 1 when every page of [p, p+len) is mapped (mincore is ENOMEM on a hole) */
static int mapped(void *p, size_t len)
{
	unsigned char vec[64];

	return mincore(p, len, vec) == 0;
}

/* 1 when no page of [p, p+len) is mapped */
static int unmapped(void *p, size_t len)
{
	unsigned char vec;
	size_t i;

	for (i = 0; i < len; i += page)
		if (mincore((char *)p + i, page, &vec) == 0 || errno != ENOMEM)
			return 0;
	return 1;
}

static size_t check_pattern(const unsigned char *p, size_t len, unsigned char seed)
{
	size_t i, bad = 0;

	for (i = 0; i < len; i++)
		bad += p[i] != (unsigned char)(i / page + seed);
	return bad;
}

int main(int argc, char **argv)
{
	unsigned char *p, *q, *r, *t, *blocker;
	size_t i, bad;

	page = sysconf(_SC_PAGESIZE);
	vt_init(argc, argv);
	plan(12);

	/* 8 pages, then free the top 4: a 4-page gap right after p */
	p = mmap(NULL, 8 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || munmap(p + 4 * page, 4 * page) < 0)
		bail("setup: %s", strerror(errno));
	for (i = 0; i < 4 * (size_t)page; i++)
		p[i] = (unsigned char)(i / page + 1);

	q = mremap(p, 4 * page, 8 * page, 0);
	ok(q == p, "growing into the free gap stays in place (%p -> %p)", (void *)p, (void *)q);
	if (q == MAP_FAILED)
		bail("mremap: %s", strerror(errno));
	for (i = 4 * page, bad = 0; i < 8 * (size_t)page; i++)
		bad += p[i] != 0;
	ok(check_pattern(p, 4 * page, 1) == 0 && bad == 0,
	   "the old pages keep their data, the new ones read as zeros");

	/* something mapped right after (ours, or an older mapping already
	 * there): growing in place is impossible */
	blocker = p + 8 * page;
	if (mmap(blocker, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != blocker &&
	    errno != EEXIST)
		bail("cannot place the blocker: %s", strerror(errno));
	ok_errno(mremap(p, 8 * page, 16 * page, 0), ENOMEM,
		 "growing into a mapped neighbour without MREMAP_MAYMOVE is ENOMEM");

	q = mremap(p, 8 * page, 16 * page, MREMAP_MAYMOVE);
	ok(q != MAP_FAILED && q != p, "with MREMAP_MAYMOVE it moves (%p -> %p)", (void *)p, (void *)q);
	if (q == MAP_FAILED)
		bail("mremap MAYMOVE: %s", strerror(errno));
	ok(check_pattern(q, 4 * page, 1) == 0 && q[15 * page] == 0 && mapped(q, 16 * page),
	   "the moved mapping has the old data and all 16 pages");
	ok(unmapped(p, 8 * page) && mapped(blocker, page),
	   "the old range is unmapped, the neighbour is untouched");

	/* MREMAP_FIXED onto a reserved target */
	t = mmap(NULL, 16 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED)
		bail("reserve: %s", strerror(errno));
	r = mremap(q, 16 * page, 16 * page, MREMAP_MAYMOVE | MREMAP_FIXED, t);
	ok(r == t, "MREMAP_FIXED moves to the requested address");
	ok(r == t && check_pattern(t, 4 * page, 1) == 0 && unmapped(q, 16 * page),
	   "contents moved with it, the source is gone");
	ok_errno(mremap(t, 16 * page, 16 * page, MREMAP_FIXED, q), EINVAL,
		 "MREMAP_FIXED without MREMAP_MAYMOVE is EINVAL");

	r = mremap(t, 16 * page, 2 * page, 0);
	ok(r == t && mapped(t, 2 * page) && unmapped(t + 2 * page, 14 * page),
	   "shrinking keeps the start and unmaps the tail");

	ok_errno(mremap(t + 1, page, 2 * page, MREMAP_MAYMOVE), EINVAL, "an unaligned old address is EINVAL");

	/* new in Linux 5.7 (private anonymous mappings). The fifth argument
	 * is passed even without MREMAP_FIXED: the kernel reads it as a hint
	 * for MREMAP_DONTUNMAP, and glibc before 2.37 passes whatever is in
	 * that register when it is left out (an unaligned hint is EINVAL) */
	if (vt_kernel_older(5, 7)) {
		skip(1, "MREMAP_DONTUNMAP is new in Linux 5.7");
	} else {
		errno = 0;
		r = mremap(t, 2 * page, 2 * page, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
		if (!ok(r != MAP_FAILED && r != t && check_pattern(r, page, 1) == 0 && mapped(t, 2 * page) &&
			t[0] == 0, "MREMAP_DONTUNMAP moves the pages and leaves the old range mapped but empty"))
			diag("mremap(MREMAP_MAYMOVE|MREMAP_DONTUNMAP) returned %p: %s", (void *)r, strerror(errno));
	}
	return exit_status();
}
