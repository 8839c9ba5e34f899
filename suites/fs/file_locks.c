/* flock and fcntl locks across fork: flock conflicts between open file
 * descriptions but not within one, POSIX locks conflict across processes
 * and F_GETLK names the holder pid, closing any fd drops a process's POSIX
 * locks, OFD locks conflict per open file description (F_OFD_GETLK pid -1),
 * and flock and POSIX locks are independent */
/* vkci: timeout=30 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "vkci_test.h"

#define F "/fs-locks"

struct res {
	int err[8];          /* errno of each probe, 0 on success */
	struct flock fl;     /* what F_GETLK / F_OFD_GETLK reported */
};

static struct res *res;
static int inherited_fd;

static struct flock range(short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };

	return fl;
}

static int e(int r)
{
	return r < 0 ? errno : 0;
}

/* in a child: flock on a new open file description, and on the inherited one */
static int probe_flock(void *arg)
{
	int fd = open(F, O_RDWR);

	(void)arg;
	res->err[0] = e(flock(fd, LOCK_EX | LOCK_NB));
	res->err[1] = e(flock(fd, LOCK_SH | LOCK_NB));
	res->err[2] = e(flock(inherited_fd, LOCK_EX | LOCK_NB));
	{
		struct flock fl = range(F_WRLCK, 0, 0);

		res->err[3] = e(fcntl(fd, F_SETLK, &fl));
	}
	return 0;
}

/* in a child: POSIX lock probes against the parent's lock on [0,100) */
static int probe_posix(void *arg)
{
	int fd = open(F, O_RDWR);
	struct flock fl = range(F_WRLCK, 50, 10);

	(void)arg;
	memset(&res->fl, 0, sizeof(res->fl));
	res->err[0] = e(fcntl(fd, F_GETLK, &fl));
	res->fl = fl;
	fl = range(F_WRLCK, 50, 1);
	res->err[1] = e(fcntl(fd, F_SETLK, &fl));
	fl = range(F_WRLCK, 100, 100);
	res->err[2] = e(fcntl(fd, F_SETLK, &fl));
	fl = range(F_RDLCK, 0, 1);
	res->err[3] = e(fcntl(fd, F_SETLK, &fl));
	return 0;
}

int main(int argc, char **argv)
{
	struct flock fl;
	int fd, fd2, st;
	pid_t me = getpid();

	vt_init(argc, argv);
	plan(12);
	res = mmap(NULL, sizeof(*res), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	fd = open(F, O_RDWR | O_CREAT, 0644);
	if (res == MAP_FAILED || fd < 0 || ftruncate(fd, 4096) < 0)
		bail("setup: %s", strerror(errno));

	/* flock: held LOCK_EX by the parent's open file description */
	if (flock(fd, LOCK_EX) < 0)
		bail("flock: %s", strerror(errno));
	inherited_fd = fd;
	run_in_child(probe_flock, NULL, &st);
	is_int(res->err[0], EWOULDBLOCK, "flock LOCK_EX|LOCK_NB from another open file description: EWOULDBLOCK");
	is_int(res->err[1], EWOULDBLOCK, "flock LOCK_SH|LOCK_NB conflicts with the LOCK_EX too");
	is_int(res->err[2], 0, "the inherited fd shares the lock's open file description: flock succeeds");
	is_int(res->err[3], 0, "a POSIX lock ignores the flock (the two kinds are independent)");
	flock(fd, LOCK_UN);

	/* POSIX record locks */
	fl = range(F_WRLCK, 0, 100);
	if (fcntl(fd, F_SETLK, &fl) < 0)
		bail("F_SETLK: %s", strerror(errno));
	run_in_child(probe_posix, NULL, &st);
	ok(res->err[0] == 0 && res->fl.l_type == F_WRLCK && res->fl.l_pid == me && res->fl.l_start == 0 &&
	   res->fl.l_len == 100,
	   "F_GETLK in a child reports the parent's write lock: type %d pid %d (want %d) [%ld,+%ld)",
	   res->fl.l_type, res->fl.l_pid, me, (long)res->fl.l_start, (long)res->fl.l_len);
	ok(res->err[1] == EAGAIN || res->err[1] == EACCES,
	   "F_SETLK on a locked byte fails with EAGAIN/EACCES (errno %d)", res->err[1]);
	ok(res->err[2] == 0 && res->err[3] != 0, "a child can lock [100,200) but not read-lock byte 0");

	/* closing ANY fd of the file drops all this process's POSIX locks on it */
	fd2 = open(F, O_RDONLY);
	close(fd2);
	run_in_child(probe_posix, NULL, &st);
	ok(res->err[0] == 0 && res->fl.l_type == F_UNLCK && res->err[1] == 0,
	   "closing another fd released the POSIX lock (F_GETLK type %d, F_SETLK errno %d)", res->fl.l_type,
	   res->err[1]);

	/* OFD locks belong to the open file description, even within a process */
	fd2 = open(F, O_RDWR);
	fl = range(F_WRLCK, 0, 10);
	ok_sys(fcntl(fd, F_OFD_SETLK, &fl), "F_OFD_SETLK write lock on [0,10)");
	fl = range(F_WRLCK, 5, 1);
	ok(fcntl(fd2, F_OFD_SETLK, &fl) < 0 && errno == EAGAIN,
	   "a second open file description in the same process conflicts: EAGAIN");
	fl = range(F_RDLCK, 0, 1);
	ok(fcntl(fd2, F_OFD_GETLK, &fl) == 0 && fl.l_type == F_WRLCK && fl.l_pid == -1,
	   "F_OFD_GETLK reports the conflicting lock with l_pid -1 (type %d pid %d)", fl.l_type, fl.l_pid);
	close(open(F, O_RDONLY));
	fl = range(F_WRLCK, 5, 1);
	ok(fcntl(fd2, F_OFD_SETLK, &fl) < 0 && errno == EAGAIN,
	   "closing an unrelated fd does not drop an OFD lock");
	close(fd2);
	close(fd);
	return exit_status();
}
