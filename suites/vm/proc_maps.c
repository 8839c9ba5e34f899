/* /proc/self/maps: a fresh mapping appears with its exact range and
 * permissions, mprotect splits it into three lines, a shared mapping is 's',
 * a file mapping shows offset, device, inode and path, and munmap removes it */
/* vkci: timeout=30 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "vkci_test.h"

struct vma {
	unsigned long start, end, off, ino;
	unsigned int maj, min;
	char perms[8], path[256];
};

static char maps[1 << 16];

/* the line of /proc/self/maps that starts at addr; 0 if found */
static int find_vma(const void *addr, struct vma *v)
{
	char *line, *save = NULL;

	if (vt_read_file("/proc/self/maps", maps, sizeof(maps)) <= 0)
		return -1;
	for (line = strtok_r(maps, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		memset(v, 0, sizeof(*v));
		if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu %255s", &v->start, &v->end, v->perms,
			   &v->off, &v->maj, &v->min, &v->ino, v->path) >= 7 &&
		    v->start == (unsigned long)addr)
			return 0;
	}
	return -1;
}

/* 1 when some line of /proc/self/maps overlaps [a, a+len) */
static int overlaps(const void *a, size_t len)
{
	unsigned long s = (unsigned long)a, e = s + len, vs, ve;
	char *line, *save = NULL;

	if (vt_read_file("/proc/self/maps", maps, sizeof(maps)) <= 0)
		return 1;
	for (line = strtok_r(maps, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (sscanf(line, "%lx-%lx", &vs, &ve) == 2 && vs < e && s < ve)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	const char *path = "/tmp/vm_proc_maps.dat";
	struct vma v, v1, v2;
	struct stat st;
	char *p, *s, *f;
	int fd;

	vt_init(argc, argv);
	plan(10);

	p = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		bail("mmap: %s", strerror(errno));
	ok(find_vma(p, &v) == 0 && v.end == (unsigned long)p + 3 * page,
	   "a new 3-page mapping appears as %p-%p", (void *)p, (void *)(p + 3 * page));
	ok(!strcmp(v.perms, "rw-p") && v.off == 0 && v.ino == 0 && v.path[0] == '\0',
	   "anonymous, private, rw-p (perms '%s')", v.perms);

	if (mprotect(p + page, page, PROT_READ) < 0)
		bail("mprotect: %s", strerror(errno));
	ok(find_vma(p, &v) == 0 && v.end == (unsigned long)p + page && !strcmp(v.perms, "rw-p") &&
	   find_vma(p + page, &v1) == 0 && v1.end == (unsigned long)p + 2 * page && !strcmp(v1.perms, "r--p") &&
	   find_vma(p + 2 * page, &v2) == 0 && v2.end == (unsigned long)p + 3 * page && !strcmp(v2.perms, "rw-p"),
	   "mprotect of the middle page splits it into rw-p, r--p, rw-p");
	mprotect(p + page, page, PROT_READ | PROT_WRITE);
	ok(find_vma(p, &v) == 0 && v.end == (unsigned long)p + 3 * page,
	   "mprotect back merges the three lines into one");

	s = mmap(NULL, page, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s == MAP_FAILED)
		bail("mmap shared: %s", strerror(errno));
	ok(find_vma(s, &v) == 0 && !strcmp(v.perms, "r--s"), "a read-only shared mapping is r--s ('%s')", v.perms);

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, 4 * page) < 0 || fstat(fd, &st) < 0)
		bail("file setup: %s", strerror(errno));
	f = mmap(NULL, 2 * page, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 2 * page);
	if (f == MAP_FAILED)
		bail("mmap file: %s", strerror(errno));
	ok(find_vma(f, &v) == 0 && !strcmp(v.perms, "r-xp") && v.end == (unsigned long)f + 2 * page,
	   "a PROT_READ|PROT_EXEC private file mapping is r-xp ('%s')", v.perms);
	is_int(v.off, 2 * page, "the file offset column is the mmap offset");
	ok(v.ino == st.st_ino && v.maj == major(st.st_dev) && v.min == minor(st.st_dev),
	   "device %x:%x and inode %lu match fstat", v.maj, v.min, v.ino);
	is_string(v.path, path, "the path column names the file");

	munmap(f, 2 * page);
	munmap(p, 3 * page);
	ok(!overlaps(p, 3 * page) && !overlaps(f, 2 * page), "after munmap no line covers either range");
	close(fd);
	unlink(path);
	return exit_status();
}
