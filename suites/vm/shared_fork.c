/* MAP_SHARED across fork: anonymous shared memory and a shared file mapping
 * stay one object after fork - stores are seen both ways, atomics from both
 * processes add up, and the child's stores outlive it */
/* vkci: timeout=30 */
#include <fcntl.h>
#include <sys/mman.h>

#include "vkci_test.h"

#define ROUNDS 20000

static int full_read(int fd, void *b, size_t n)
{
	return read(fd, b, n) == (ssize_t)n;
}

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	volatile unsigned char *sh;
	unsigned char *priv, *fm;
	long *counter;
	int to_child[2], to_parent[2], fd, status, i;
	char ch, seen[2];
	pid_t pid;

	vt_init(argc, argv);
	plan(8);

	sh = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	priv = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fd = open("/tmp/vm_shared_fork.dat", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (sh == MAP_FAILED || priv == MAP_FAILED || fd < 0 || ftruncate(fd, page) < 0)
		bail("setup: %s", strerror(errno));
	fm = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (fm == MAP_FAILED)
		bail("mmap file: %s", strerror(errno));
	counter = (long *)(sh + page);
	sh[0] = 'p';
	priv[0] = 'p';
	if (pipe(to_child) < 0 || pipe(to_parent) < 0)
		bail("pipe: %s", strerror(errno));

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		bail("fork: %s", strerror(errno));
	if (pid == 0) {
		seen[0] = sh[0];
		sh[1] = 'c';
		priv[1] = 'c';
		if (write(to_parent[1], seen, 1) != 1 || !full_read(to_child[0], &ch, 1))
			_exit(2);
		seen[1] = sh[2];                  /* the parent's store, after the go */
		for (i = 0; i < ROUNDS; i++)
			__atomic_fetch_add(counter, 1, __ATOMIC_SEQ_CST);
		memcpy(fm, "from-child", 10);
		if (write(to_parent[1], seen + 1, 1) != 1)
			_exit(2);
		_exit(0);
	}

	if (!full_read(to_parent[0], seen, 1))
		bail("child died early");
	ok(sh[1] == 'c', "the child's store to MAP_SHARED|MAP_ANONYMOUS is seen by the parent");
	is_int(seen[0], 'p', "the child saw the parent's pre-fork store");
	ok(priv[1] == 0, "while its store to a MAP_PRIVATE page is not");
	sh[2] = 'P';
	if (write(to_child[1], "g", 1) != 1)
		bail("write: %s", strerror(errno));
	for (i = 0; i < ROUNDS; i++)
		__atomic_fetch_add(counter, 1, __ATOMIC_SEQ_CST);
	if (!full_read(to_parent[0], seen + 1, 1))
		bail("child died before reporting");
	if (waitpid(pid, &status, 0) != pid)
		bail("waitpid: %s", strerror(errno));
	is_int(seen[1], 'P', "the parent's post-fork store is seen by the child");
	is_int(*counter, 2 * ROUNDS, "atomic increments from both processes all land in the one page");
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child exited normally (status 0x%x)", status);
	ok(memcmp(fm, "from-child", 10) == 0,
	   "the child's store to a shared file mapping is seen after it exited");
	{
		char buf[10] = { 0 };

		ok(pread(fd, buf, 10, 0) == 10 && memcmp(buf, "from-child", 10) == 0,
		   "and read() of the file returns it");
	}
	close(fd);
	unlink("/tmp/vm_shared_fork.dat");
	return exit_status();
}
