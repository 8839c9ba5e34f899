/* userfaultfd: a missing-page fault in a registered range is reported to the
 * monitor with the right address and write flag and resolved by UFFDIO_COPY;
 * UFFDIO_ZEROPAGE fills without a fault; copying onto a present page is
 * EEXIST; after unregister faults are ordinary again */
/* vkci: timeout=30 config=USERFAULTFD */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "vkci_test.h"

static long page;

struct toucher {
	volatile char *addr;
	int write;
	char value;  /* what the read saw */
};

static void *touch(void *arg)
{
	struct toucher *t = arg;

	if (t->write)
		*t->addr = 'w';
	t->value = *t->addr;
	return NULL;
}

/* wait for one fault message; 0 on success */
static int next_fault(int uffd, struct uffd_msg *msg)
{
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };

	if (poll(&pfd, 1, 10000) != 1)
		return -1;
	return read(uffd, msg, sizeof(*msg)) == sizeof(*msg) ? 0 : -1;
}

static int copy_page(int uffd, char *dst, const char *src)
{
	struct uffdio_copy c = {
		.dst = (unsigned long)dst, .src = (unsigned long)src, .len = page,
	};

	if (ioctl(uffd, UFFDIO_COPY, &c) < 0)
		return -errno;
	return c.copy == page ? 0 : -EIO;
}

int main(int argc, char **argv)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	struct uffdio_range range;
	struct uffdio_zeropage zp;
	struct toucher t;
	struct uffd_msg msg;
	pthread_t th;
	char *area, *src;
	int uffd, r;

	page = sysconf(_SC_PAGESIZE);
	vt_init(argc, argv);
	/* without CONFIG_USERFAULTFD vkci skips the test (config= above) */
	uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		bail("userfaultfd: %s", strerror(errno));
	plan(11);

	ok(ioctl(uffd, UFFDIO_API, &api) == 0 && api.api == UFFD_API &&
	   (api.ioctls & (1ULL << _UFFDIO_REGISTER)), "UFFDIO_API handshake offers UFFDIO_REGISTER");

	area = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	src = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED || src == MAP_FAILED)
		bail("mmap: %s", strerror(errno));
	memset(src, 'U', page);

	reg.range.start = (unsigned long)area;
	reg.range.len = 4 * page;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	ok(ioctl(uffd, UFFDIO_REGISTER, &reg) == 0 && (reg.ioctls & (1ULL << _UFFDIO_COPY)),
	   "UFFDIO_REGISTER (missing) on 4 pages offers UFFDIO_COPY");

	/* a read fault in another thread */
	t = (struct toucher){ .addr = area + page + 123 };
	if (pthread_create(&th, NULL, touch, &t))
		bail("pthread_create");
	r = next_fault(uffd, &msg);
	ok(r == 0 && msg.event == UFFD_EVENT_PAGEFAULT &&
	   (msg.arg.pagefault.address & ~(unsigned long long)(page - 1)) == (unsigned long)(area + page),
	   "a read fault is reported as UFFD_EVENT_PAGEFAULT at the page touched");
	if (r)
		bail("no fault message: the toucher thread would hang");
	ok(!(msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE), "without the write flag");
	is_int(copy_page(uffd, area + page, src), 0, "UFFDIO_COPY resolves it");
	pthread_join(th, NULL);
	is_int(t.value, 'U', "the faulting thread reads the copied data");

	/* a write fault */
	t = (struct toucher){ .addr = area, .write = 1 };
	if (pthread_create(&th, NULL, touch, &t))
		bail("pthread_create");
	r = next_fault(uffd, &msg);
	ok(r == 0 && (msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE) &&
	   (msg.arg.pagefault.address & ~(unsigned long long)(page - 1)) == (unsigned long)area,
	   "a write fault is reported with UFFD_PAGEFAULT_FLAG_WRITE");
	if (r)
		bail("no fault message: the toucher thread would hang");
	copy_page(uffd, area, src);
	pthread_join(th, NULL);
	is_int(t.value, 'w', "the write lands after UFFDIO_COPY");

	zp.range.start = (unsigned long)(area + 2 * page);
	zp.range.len = page;
	zp.mode = 0;
	ok(ioctl(uffd, UFFDIO_ZEROPAGE, &zp) == 0 && area[2 * page + 5] == 0,
	   "UFFDIO_ZEROPAGE fills a page that then reads zero without a fault");
	is_int(copy_page(uffd, area + page, src), -EEXIST, "UFFDIO_COPY onto a present page is EEXIST");

	range.start = (unsigned long)area;
	range.len = 4 * page;
	ok(ioctl(uffd, UFFDIO_UNREGISTER, &range) == 0 && area[3 * page] == 0 && area[page] == 'U',
	   "after UFFDIO_UNREGISTER a missing page faults in as zeros, data stays");
	close(uffd);
	return exit_status();
}
