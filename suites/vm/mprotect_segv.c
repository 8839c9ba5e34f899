/* mprotect + SIGSEGV: a write to a read-only page and a read of a PROT_NONE
 * page raise SIGSEGV with si_code SEGV_ACCERR and the faulting si_addr, an
 * unmapped page gives SEGV_MAPERR, data survives the protection changes, and
 * mprotect refuses unaligned or unmapped ranges */
/* vkci: timeout=30 */
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>

#include "vkci_test.h"

static sigjmp_buf fault_jmp;
static volatile sig_atomic_t fault_code;
static void *volatile fault_addr;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	fault_code = si->si_code;
	fault_addr = si->si_addr;
	siglongjmp(fault_jmp, 1);
}

/* si_code of the SIGSEGV raised by the access, 0 if none */
static int access_code(volatile char *p, int write)
{
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO }, old;

	fault_code = 0;
	fault_addr = NULL;
	sigaction(SIGSEGV, &sa, &old);
	if (sigsetjmp(fault_jmp, 1) == 0) {
		if (write)
			*p = 'w';
		else
			(void)*p;
	}
	sigaction(SIGSEGV, &old, NULL);
	return fault_code;
}

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	char *p;

	vt_init(argc, argv);
	plan(11);

	p = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		bail("mmap: %s", strerror(errno));
	strcpy(p, "kept");
	if (mprotect(p, page, PROT_READ) < 0)
		bail("mprotect: %s", strerror(errno));

	is_int(access_code(p + 5, 1), SEGV_ACCERR, "a write to a PROT_READ page is SIGSEGV/SEGV_ACCERR");
	ok(fault_addr == p + 5, "si_addr is the faulting address (%p, wanted %p)", fault_addr, (void *)(p + 5));
	ok(access_code(p, 0) == 0 && strcmp(p, "kept") == 0, "reading it still works and shows the data");
	is_int(access_code(p + page, 1), 0, "the next page is still writable");

	ok_sys(mprotect(p, page, PROT_NONE), "mprotect PROT_NONE");
	is_int(access_code(p + 1, 0), SEGV_ACCERR, "a read of a PROT_NONE page is SEGV_ACCERR");

	munmap(p + 2 * page, page);
	is_int(access_code(p + 2 * page + 8, 0), SEGV_MAPERR, "a read of an unmapped page is SEGV_MAPERR");
	ok(fault_addr == p + 2 * page + 8, "with si_addr the unmapped address");

	ok(mprotect(p, page, PROT_READ | PROT_WRITE) == 0 && access_code(p + 5, 1) == 0 &&
	   memcmp(p, "kept", 4) == 0 && p[5] == 'w',
	   "after mprotect back to RW, writes work and the data survived");

	ok_errno(mprotect(p + 1, page, PROT_READ), EINVAL, "an unaligned mprotect is EINVAL");
	ok_errno(mprotect(p + page, 2 * page, PROT_READ), ENOMEM, "mprotect over an unmapped page is ENOMEM");
	return exit_status();
}
