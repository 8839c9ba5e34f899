/* memfd_create + mmap: two MAP_SHARED mappings of one memfd alias, write()
 * and mmap agree, /proc/self/fd names it, and seals hold (F_SEAL_SHRINK
 * blocks shrinking, F_SEAL_WRITE is EBUSY while a writable mapping exists
 * and then blocks write() and writable mappings) */
/* vkci: timeout=30 config=MEMFD_CREATE */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "vkci_test.h"

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t size = 4 * (size_t)page;
	char path[64], link[128];
	unsigned char *a, *b, c;
	struct stat st;
	ssize_t n;
	int fd;

	vt_init(argc, argv);
	/* without CONFIG_MEMFD_CREATE vkci skips the test (config= above) */
	fd = memfd_create("vkci-vm", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		bail("memfd_create: %s", strerror(errno));
	plan(11);

	ok(fstat(fd, &st) == 0 && st.st_size == 0, "a new memfd is empty");
	if (ftruncate(fd, size) < 0)
		bail("ftruncate: %s", strerror(errno));
	a = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	b = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (a == MAP_FAILED || b == MAP_FAILED)
		bail("mmap: %s", strerror(errno));
	ok(a[0] == 0 && a[size - 1] == 0, "the grown memfd reads as zeros");
	strcpy((char *)a + 2 * page, "via-a");
	ok(a != b && strcmp((char *)b + 2 * page, "via-a") == 0,
	   "two MAP_SHARED mappings of one memfd alias");
	ok(pwrite(fd, "W", 1, 3 * page + 7) == 1 && b[3 * page + 7] == 'W',
	   "a write() to the memfd is seen through the mapping");
	a[100] = 'M';
	ok(pread(fd, &c, 1, 100) == 1 && c == 'M', "a store through the mapping is seen by read()");

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	ok(strncmp(link, "/memfd:vkci-vm", 14) == 0, "/proc/self/fd names it '%s'", link);

	ok(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == 0 && fcntl(fd, F_GET_SEALS) == F_SEAL_SHRINK,
	   "F_SEAL_SHRINK added and reported by F_GET_SEALS");
	ok(ftruncate(fd, page) == -1 && errno == EPERM && ftruncate(fd, 2 * size) == 0,
	   "with F_SEAL_SHRINK, shrinking is EPERM and growing still works");

	ok_errno(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EBUSY,
		 "F_SEAL_WRITE while writable shared mappings exist is EBUSY");
	munmap(a, size);
	munmap(b, size);
	ok(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == 0 && pwrite(fd, "x", 1, 0) == -1 && errno == EPERM,
	   "after unmapping, F_SEAL_WRITE is accepted and write() is EPERM");
	ok_errno(mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EPERM,
		 "a writable MAP_SHARED mapping of a write-sealed memfd is EPERM");
	close(fd);
	return exit_status();
}
