/* fork copy-on-write: after fork, parent and child each keep their own copy of
 * MAP_PRIVATE memory (anonymous and file-backed) in both directions;
 * MADV_DONTFORK ranges are absent in the child and MADV_WIPEONFORK ones zeroed */
/* vkci: timeout=30 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>

#include "vkci_test.h"

#define NPAGES 16

struct report {
	int saw_prefork;     /* child saw the parent's pre-fork data */
	int own_kept;        /* child's own store survived */
	int parent_hidden;   /* parent's post-fork store not seen by child */
	int file_private;    /* child store to a private file map */
	int wiped;           /* WIPEONFORK range read as zeros */
	int dontfork_faults; /* DONTFORK range faults in the child */
};

static int full_read(int fd, void *b, size_t n)
{
	return read(fd, b, n) == (ssize_t)n;
}

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t len = NPAGES * (size_t)page, i;
	unsigned char *p, *f, *wipe, *nofork;
	int to_child[2], to_parent[2], fd, status, bad;
	struct report r;
	char ch;
	pid_t pid;

	vt_init(argc, argv);
	plan(10);

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	wipe = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	nofork = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fd = open("/tmp/vm_fork_cow.dat", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (p == MAP_FAILED || wipe == MAP_FAILED || nofork == MAP_FAILED || fd < 0)
		bail("setup: %s", strerror(errno));
	if (pwrite(fd, "file-data", 9, 0) != 9 || ftruncate(fd, page) < 0)
		bail("file setup: %s", strerror(errno));
	f = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (f == MAP_FAILED)
		bail("mmap file: %s", strerror(errno));
	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(i % 251);
	memset(wipe, 0x5a, page);
	memset(nofork, 0x6b, page);
	f[0] = 'P';                       /* the parent's own COW copy of the file page */

	ok(madvise(wipe, page, MADV_WIPEONFORK) == 0 && madvise(nofork, page, MADV_DONTFORK) == 0,
	   "madvise MADV_WIPEONFORK and MADV_DONTFORK accepted");
	if (pipe(to_child) < 0 || pipe(to_parent) < 0)
		bail("pipe: %s", strerror(errno));

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		bail("fork: %s", strerror(errno));
	if (pid == 0) {
		memset(&r, 0, sizeof(r));
		for (i = 0, bad = 0; i < len; i++)
			bad += p[i] != (unsigned char)(i % 251);
		r.saw_prefork = bad == 0 && f[0] == 'P';
		memset(p, 'C', page);     /* child writes page 0 */
		f[1] = 'c';
		for (i = 0, bad = 0; i < (size_t)page; i++)
			bad += wipe[i] != 0;
		r.wiped = bad == 0;
		r.dontfork_faults = vt_read_faults((volatile char *)nofork);
		if (write(to_parent[1], "w", 1) != 1)   /* "I wrote page 0" */
			_exit(2);
		if (!full_read(to_child[0], &ch, 1))    /* parent wrote page 1 */
			_exit(2);
		r.parent_hidden = p[page] == (unsigned char)(page % 251);
		for (i = 0, bad = 0; i < (size_t)page; i++)
			bad += p[i] != 'C';
		r.own_kept = bad == 0;
		r.file_private = f[1] == 'c';
		if (write(to_parent[1], &r, sizeof(r)) != sizeof(r))
			_exit(2);
		_exit(0);
	}

	if (!full_read(to_parent[0], &ch, 1))
		bail("child died before writing");
	for (i = 0, bad = 0; i < (size_t)page; i++)
		bad += p[i] != (unsigned char)(i % 251);
	is_int(bad, 0, "the child's store to a private page is not seen by the parent");
	memset(p + page, 'Q', page);
	if (write(to_child[1], "g", 1) != 1)
		bail("write to child: %s", strerror(errno));
	if (!full_read(to_parent[0], &r, sizeof(r)))
		bail("no report from the child");
	if (waitpid(pid, &status, 0) != pid)
		bail("waitpid: %s", strerror(errno));

	ok(r.saw_prefork, "the child sees the parent's pre-fork contents");
	ok(r.parent_hidden, "the parent's post-fork store is not seen by the child");
	ok(r.own_kept, "the child's own store stays in the child");
	ok(r.file_private && f[1] != 'c' && f[0] == 'P',
	   "a private file mapping is copied on write separately in each process");
	ok(pread(fd, &ch, 1, 1) == 1 && ch == 'i', "neither store to the private file mapping reaches the file");
	ok(r.wiped && wipe[0] == 0x5a, "MADV_WIPEONFORK: zeros in the child, data kept in the parent");
	ok(r.dontfork_faults && nofork[0] == 0x6b, "MADV_DONTFORK: not mapped in the child, kept in the parent");
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child exited normally (status 0x%x)", status);

	close(fd);
	unlink("/tmp/vm_fork_cow.dat");
	return exit_status();
}
