/* file-backed mmap on /tmp: MAP_SHARED stores reach the file and write()s reach
 * the mapping, MAP_PRIVATE stores stay private (copy-on-write), the tail past
 * EOF reads as zeros, a page wholly past EOF is SIGBUS, and bad requests fail */
/* vkci: timeout=30 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "vkci_test.h"

static sigjmp_buf fault_jmp;
static volatile sig_atomic_t fault_sig;

static void on_fault(int sig)
{
	fault_sig = sig;
	siglongjmp(fault_jmp, 1);
}

/* the signal reading *p raises, 0 if none */
static int read_signal(volatile char *p)
{
	struct sigaction sa = { .sa_handler = on_fault }, obus, osegv;

	fault_sig = 0;
	sigaction(SIGBUS, &sa, &obus);
	sigaction(SIGSEGV, &sa, &osegv);
	if (sigsetjmp(fault_jmp, 1) == 0)
		(void)*p;
	sigaction(SIGBUS, &obus, NULL);
	sigaction(SIGSEGV, &osegv, NULL);
	return fault_sig;
}

int main(int argc, char **argv)
{
	const char *path = "/tmp/vm_mmap_file.dat";
	long page = sysconf(_SC_PAGESIZE);
	size_t flen = page + page / 2, i, bad;
	unsigned char *buf, *sh, *pr, c = 0;
	int fd, rfd;
	struct stat st;

	vt_init(argc, argv);
	plan(12);

	buf = malloc(flen);
	if (!buf)
		bail("malloc");
	for (i = 0; i < flen; i++)
		buf[i] = (unsigned char)(i * 7 + 3);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, buf, flen) != (ssize_t)flen)
		bail("cannot create %s: %s", path, strerror(errno));
	sh = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (sh == MAP_FAILED)
		bail("mmap MAP_SHARED: %s", strerror(errno));

	ok(memcmp(sh, buf, flen) == 0, "MAP_SHARED mapping shows the file's %zu bytes", flen);

	sh[10] = 'X';
	ok(pread(fd, &c, 1, 10) == 1 && c == 'X', "a store through MAP_SHARED is seen by read()");

	if (pwrite(fd, "Y", 1, 20) != 1)
		bail("pwrite: %s", strerror(errno));
	is_int(sh[20], 'Y', "a write() is seen through MAP_SHARED");

	pr = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (pr == MAP_FAILED)
		bail("mmap MAP_PRIVATE: %s", strerror(errno));
	ok(pr[10] == 'X' && pr[20] == 'Y' && pr[100] == buf[100],
	   "MAP_PRIVATE mapping starts with the file's current contents");

	pr[30] = 'Z';
	ok(pread(fd, &c, 1, 30) == 1 && c == buf[30] && sh[30] == buf[30] && pr[30] == 'Z',
	   "a store through MAP_PRIVATE reaches neither the file nor the MAP_SHARED mapping");

	if (pwrite(fd, "W", 1, 40) != 1)
		bail("pwrite: %s", strerror(errno));
	is_int(pr[40], buf[40], "a copied-on-write private page no longer follows the file");

	for (i = flen, bad = 0; i < 2 * (size_t)page; i++)
		bad += sh[i] != 0;
	is_int(bad, 0, "the tail of the last page past EOF reads as zeros");

	sh[flen + 1] = 'Q';
	if (fstat(fd, &st) < 0)
		bail("fstat: %s", strerror(errno));
	ok(st.st_size == (off_t)flen,
	   "a store past EOF does not change the file size (%lld)", (long long)st.st_size);

	is_int(read_signal((volatile char *)sh + 2 * page), SIGBUS,
	       "reading a mapped page wholly past EOF raises SIGBUS");

	if (ftruncate(fd, 3 * page) < 0)
		bail("ftruncate: %s", strerror(errno));
	ok(read_signal((volatile char *)sh + 2 * page) == 0 && sh[2 * page] == 0,
	   "after ftruncate grows the file the same page reads as zero");

	rfd = open(path, O_RDONLY);
	if (rfd < 0)
		bail("open O_RDONLY: %s", strerror(errno));
	ok_errno(mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, rfd, 0), EACCES,
		 "writable MAP_SHARED of an O_RDONLY fd is EACCES");
	ok_errno(mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 1), EINVAL,
		 "an offset that is not page aligned is EINVAL");

	close(rfd);
	close(fd);
	unlink(path);
	return exit_status();
}
