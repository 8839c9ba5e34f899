/* RLIMIT_AS: past the address-space limit mmap, malloc, brk and mremap fail
 * with ENOMEM (no signal, no OOM kill), smaller requests still succeed, and
 * freed address space can be reused; the process keeps running */
/* vkci: timeout=30 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/resource.h>

#include "vkci_test.h"

#define MB (1024UL * 1024)

struct report {
	int small_ok;         /* mmap 16M under the limit */
	int mmap_errno;       /* mmap 64M past it */
	int malloc_null;      /* malloc(64M) returned NULL */
	int malloc_errno;
	int sbrk_errno;       /* sbrk(64M) */
	int mremap_errno;     /* growing the 16M mapping to 64M */
	int reuse_ok;         /* after munmap(16M), mmap(24M) fits */
	int touched_ok;       /* writes to the 24M mapping landed */
};

static int limited(void *arg)
{
	int fd = *(int *)arg;
	struct report r = { 0 };
	long long vmsize = vt_proc_field("/proc/self/status", "VmSize");
	struct rlimit rl;
	char *a, *b;
	void *m;
	size_t i;

	if (vmsize <= 0)
		return 2;
	rl.rlim_cur = rl.rlim_max = vmsize * 1024 + 32 * MB;
	if (setrlimit(RLIMIT_AS, &rl) < 0)
		return 3;
	a = mmap(NULL, 16 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	r.small_ok = a != MAP_FAILED;
	errno = 0;
	b = mmap(NULL, 64 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	r.mmap_errno = b == MAP_FAILED ? errno : 0;
	errno = 0;
	m = malloc(64 * MB);
	r.malloc_null = m == NULL;
	r.malloc_errno = errno;
	errno = 0;
	r.sbrk_errno = sbrk(64 * MB) == (void *)-1 ? errno : 0;
	errno = 0;
	r.mremap_errno = r.small_ok && mremap(a, 16 * MB, 64 * MB, MREMAP_MAYMOVE) == MAP_FAILED ? errno : 0;
	if (r.small_ok)
		munmap(a, 16 * MB);
	b = mmap(NULL, 24 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	r.reuse_ok = b != MAP_FAILED;
	if (r.reuse_ok) {
		for (i = 0; i < 24 * MB; i += 64 * 1024)
			b[i] = (char)(i >> 16);
		r.touched_ok = 1;
		for (i = 0; i < 24 * MB; i += 64 * 1024)
			r.touched_ok &= b[i] == (char)(i >> 16);
	}
	return write(fd, &r, sizeof(r)) == sizeof(r) ? 0 : 4;
}

int main(int argc, char **argv)
{
	struct report r;
	int fds[2], status;

	vt_init(argc, argv);
	plan(9);

	if (pipe(fds) < 0)
		bail("pipe: %s", strerror(errno));
	if (run_in_child(limited, &fds[1], &status) < 0)
		bail("fork: %s", strerror(errno));
	memset(&r, 0, sizeof(r));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && read(fds[0], &r, sizeof(r)) != sizeof(r))
		diag("short report from the child");

	ok(r.small_ok, "with RLIMIT_AS = VmSize + 32M, mmap of 16M succeeds");
	is_int(r.mmap_errno, ENOMEM, "mmap of 64M past RLIMIT_AS is ENOMEM (even with MAP_NORESERVE)");
	ok(r.malloc_null && r.malloc_errno == ENOMEM, "malloc(64M) returns NULL with errno ENOMEM");
	is_int(r.sbrk_errno, ENOMEM, "sbrk(64M) past the limit is ENOMEM");
	is_int(r.mremap_errno, ENOMEM, "mremap growing 16M to 64M is ENOMEM");
	ok(r.reuse_ok, "after munmap of the 16M, a 24M mapping fits");
	ok(r.touched_ok, "and every 64K of it is writable");
	ok(WIFEXITED(status), "the limited process exited by itself, not by a signal (status 0x%x)", status);
	is_int(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0, "with exit status 0");
	return exit_status();
}
