/* mlock: locked pages are resident at once and counted in VmLck, munlock
 * uncounts them; as root (CAP_IPC_LOCK) RLIMIT_MEMLOCK does not apply, as an
 * unprivileged user (nobody) it does: over the limit is ENOMEM, a zero limit
 * is EPERM */
/* vkci: timeout=30 */
#include <sys/mman.h>
#include <sys/resource.h>

#include "vkci_test.h"

#define NPAGES 16

static long page;

/* results of the unprivileged child, one per check */
struct child_report {
	int setuid_ok;
	int in_limit;     /* mlock of 1 page under a 2-page limit: 0 */
	int over_errno;   /* mlock of 4 more pages: errno */
	int vmlck_kb;     /* VmLck after the one-page lock */
	int zero_errno;   /* mlock with RLIMIT_MEMLOCK 0: errno */
};

static int unprivileged(void *arg)
{
	int fd = *(int *)arg;
	struct child_report r = { 0 };
	struct rlimit rl = { 2 * page, 2 * page };
	char *a = mmap(NULL, 8 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (a == MAP_FAILED || setrlimit(RLIMIT_MEMLOCK, &rl) < 0)
		return 2;
	r.setuid_ok = setgid(65534) == 0 && setuid(65534) == 0 && getuid() == 65534;
	r.in_limit = mlock(a, page);
	r.vmlck_kb = (int)vt_proc_field("/proc/self/status", "VmLck");
	errno = 0;
	r.over_errno = mlock(a + 2 * page, 4 * page) == 0 ? 0 : errno;
	munlock(a, page);
	rl.rlim_cur = rl.rlim_max = 0;
	setrlimit(RLIMIT_MEMLOCK, &rl);
	errno = 0;
	r.zero_errno = mlock(a, page) == 0 ? 0 : errno;
	return write(fd, &r, sizeof(r)) == sizeof(r) ? 0 : 3;
}

int main(int argc, char **argv)
{
	unsigned char vec[NPAGES];
	struct rlimit old, zero;
	struct child_report r;
	long long base, locked, after;
	int fds[2], status, resident, i;
	char *p;

	page = sysconf(_SC_PAGESIZE);
	vt_init(argc, argv);
	plan(11);

	p = mmap(NULL, NPAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		bail("mmap: %s", strerror(errno));
	base = vt_proc_field("/proc/self/status", "VmLck");
	if (base < 0)
		bail("no VmLck in /proc/self/status");

	ok(mlock(p, NPAGES * page) == 0, "mlock of %d untouched pages", NPAGES);
	mincore(p, NPAGES * page, vec);
	for (i = 0, resident = 0; i < NPAGES; i++)
		resident += vec[i] & 1;
	is_int(resident, NPAGES, "mlock made every page resident without a touch");
	locked = vt_proc_field("/proc/self/status", "VmLck");
	is_int(locked - base, NPAGES * page / 1024, "VmLck grew by the locked size in kB");
	ok(munlock(p, NPAGES / 2 * page) == 0, "munlock of the first half");
	after = vt_proc_field("/proc/self/status", "VmLck");
	is_int(after - base, NPAGES / 2 * page / 1024, "VmLck dropped by half");
	munlock(p, NPAGES * page);

	/* root has CAP_IPC_LOCK: a zero soft limit does not stop it */
	getrlimit(RLIMIT_MEMLOCK, &old);
	zero.rlim_cur = 0;
	zero.rlim_max = old.rlim_max;
	setrlimit(RLIMIT_MEMLOCK, &zero);
	ok(mlock(p, NPAGES * page) == 0, "root (CAP_IPC_LOCK) mlocks past a zero RLIMIT_MEMLOCK");
	munlock(p, NPAGES * page);
	setrlimit(RLIMIT_MEMLOCK, &old);

	if (pipe(fds) < 0)
		bail("pipe: %s", strerror(errno));
	if (run_in_child(unprivileged, &fds[1], &status) < 0)
		bail("fork: %s", strerror(errno));
	memset(&r, 0, sizeof(r));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || read(fds[0], &r, sizeof(r)) != sizeof(r))
		diag("unprivileged child failed: status 0x%x", status);
	ok(r.setuid_ok, "the child runs as nobody (uid 65534)");
	is_int(r.in_limit, 0, "as nobody, mlock within a 2-page RLIMIT_MEMLOCK succeeds");
	is_int(r.vmlck_kb, page / 1024, "and its VmLck is one page");
	is_int(r.over_errno, ENOMEM, "as nobody, mlock past RLIMIT_MEMLOCK is ENOMEM");
	is_int(r.zero_errno, EPERM, "as nobody, mlock with RLIMIT_MEMLOCK 0 is EPERM");
	return exit_status();
}
