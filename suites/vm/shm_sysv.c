/* SysV shared memory: shmget/shmat give a zeroed segment of the asked size,
 * two attaches alias, a forked child's stores are seen, shm_nattch counts
 * attaches, IPC_EXCL and bad shmdt fail, IPC_RMID destroys at last detach */
/* vkci: timeout=30 config=SYSVIPC */
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>

#include "vkci_test.h"

#define KEY 0x766b6369

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t size = 4 * (size_t)page, i, nonzero = 0;
	struct shmid_ds ds;
	unsigned char *a, *b;
	int id, status;
	pid_t pid;

	vt_init(argc, argv);
	/* without CONFIG_SYSVIPC vkci skips the test (config= above) */
	id = shmget(KEY, size, IPC_CREAT | IPC_EXCL | 0600);
	if (id < 0)
		bail("shmget: %s", strerror(errno));
	plan(10);

	a = shmat(id, NULL, 0);
	if (a == (void *)-1)
		bail("shmat: %s", strerror(errno));
	for (i = 0; i < size; i++)
		nonzero += a[i] != 0;
	is_int(nonzero, 0, "a new segment reads as zeros");

	ok(shmctl(id, IPC_STAT, &ds) == 0 && ds.shm_segsz == size && ds.shm_nattch == 1 &&
	   ds.shm_cpid == getpid(), "IPC_STAT: size %zu, one attach, creator is us", size);

	ok_errno(shmget(KEY, size, IPC_CREAT | IPC_EXCL | 0600), EEXIST,
		 "IPC_CREAT|IPC_EXCL on an existing key is EEXIST");
	is_int(shmget(KEY, 0, 0), id, "looking the key up again gives the same id");

	b = shmat(id, NULL, 0);
	if (b == (void *)-1)
		bail("second shmat: %s", strerror(errno));
	strcpy((char *)a + page, "alias");
	ok(b != a && strcmp((char *)b + page, "alias") == 0,
	   "a second attach at another address shows the same memory");

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		bail("fork: %s", strerror(errno));
	if (pid == 0) {
		unsigned char *c = shmat(id, NULL, 0);

		if (c == (void *)-1)
			_exit(2);
		if (shmctl(id, IPC_STAT, &ds) < 0 || ds.shm_nattch != 5)
			_exit(3);  /* 2 inherited by the child + its own + the parent's 2 */
		strcpy((char *)c + 3 * page, "child");
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		bail("waitpid: %s", strerror(errno));
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "the child attached once more and counted 5 attaches (status 0x%x)", status);
	ok(strcmp((char *)a + 3 * page, "child") == 0, "the child's store is seen by the parent");
	ok(shmctl(id, IPC_STAT, &ds) == 0 && ds.shm_nattch == 2,
	   "the child's attaches went away with it (%lu left)", (unsigned long)ds.shm_nattch);

	ok_errno(shmdt(a + 1), EINVAL, "shmdt of an address that is not an attach is EINVAL");

	shmctl(id, IPC_RMID, NULL);
	strcpy((char *)b, "still");
	shmdt(b);
	/* the segment lives until the last detach */
	ok(strcmp((char *)a, "still") == 0 && shmdt(a) == 0 && shmctl(id, IPC_STAT, &ds) == -1 &&
	   (errno == EINVAL || errno == EIDRM),
	   "after IPC_RMID the segment works until the last detach, then is gone");
	return exit_status();
}
