/* file permissions, umask and O_EXCL: creation modes follow the umask,
 * O_CREAT|O_EXCL refuses existing names and dangling symlinks, and an
 * unprivileged user (nobody) is held to the mode bits: EACCES, EPERM for
 * chmod of others' files and in sticky directories, setuid cleared on
 * write, setgid directories hand down their group */
/* vkci: timeout=30 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "vkci_test.h"

#define D "/fs-perms"
#define NOBODY 65534

static int *res;

static int mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? -1 : (int)(st.st_mode & 07777);
}

static int e(long r)
{
	return r < 0 ? errno : 0;
}

/* as nobody: probes whose errnos go to res[] */
static int as_nobody(void *arg)
{
	int fd;

	(void)arg;
	if (setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
		return 10;
	res[0] = e(open(D "/secret", O_RDONLY));
	fd = open(D "/public", O_RDONLY);
	res[1] = e(fd);
	if (fd >= 0)
		close(fd);
	res[2] = e(open(D "/public", O_WRONLY));
	res[3] = e(chmod(D "/public", 0666));
	res[4] = e(unlink(D "/sticky/rootfile"));
	fd = open(D "/suid", O_WRONLY);
	res[5] = fd < 0 ? errno : e(write(fd, "x", 1));
	if (fd >= 0)
		close(fd);
	res[6] = e(open(D "/public", O_RDONLY | O_TRUNC));
	return 0;
}

int main(int argc, char **argv)
{
	struct stat st;
	int fd, status;

	vt_init(argc, argv);
	plan(14);
	res = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED || mkdir(D, 0755) < 0)
		bail("setup: %s", strerror(errno));

	umask(027);
	fd = open(D "/u027", O_WRONLY | O_CREAT | O_EXCL, 0666);
	is_int(mode_of(D "/u027"), 0640, "O_CREAT 0666 under umask 027 gives 0640");
	close(fd);
	umask(0);
	close(open(D "/u000", O_WRONLY | O_CREAT | O_EXCL, 0666));
	is_int(mode_of(D "/u000"), 0666, "under umask 0 it gives 0666");
	ok_errno(open(D "/u027", O_WRONLY | O_CREAT | O_EXCL, 0600), EEXIST,
		 "O_CREAT|O_EXCL on an existing name fails with EEXIST");
	close(open(D "/u027", O_WRONLY | O_CREAT, 0600));
	is_int(mode_of(D "/u027"), 0640, "O_CREAT without O_EXCL on an existing file leaves its mode alone");
	symlink(D "/target", D "/dangling");
	ok(open(D "/dangling", O_WRONLY | O_CREAT | O_EXCL, 0644) < 0 && errno == EEXIST &&
	   access(D "/target", F_OK) < 0, "O_CREAT|O_EXCL on a dangling symlink fails with EEXIST, creates nothing");
	umask(0777);
	ok(chmod(D "/u000", 0604) == 0 && mode_of(D "/u000") == 0604, "chmod ignores the umask");
	umask(022);

	/* files for the unprivileged probes */
	close(open(D "/secret", O_WRONLY | O_CREAT, 0600));
	close(open(D "/public", O_WRONLY | O_CREAT, 0644));
	mkdir(D "/sticky", 0777);
	chmod(D "/sticky", 01777);
	close(open(D "/sticky/rootfile", O_WRONLY | O_CREAT, 0666));
	chmod(D "/sticky/rootfile", 0666);
	close(open(D "/suid", O_WRONLY | O_CREAT, 0666));
	chmod(D "/suid", 04777);
	run_in_child(as_nobody, NULL, &status);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		bail("the unprivileged child failed (status 0x%x)", status);
	is_int(res[0], EACCES, "nobody: reading a 0600 root file fails with EACCES");
	is_int(res[1], 0, "nobody: reading a 0644 root file works");
	is_int(res[2], EACCES, "nobody: opening it for writing fails with EACCES");
	is_int(res[6], EACCES, "nobody: O_TRUNC on it fails with EACCES");
	is_int(res[3], EPERM, "nobody: chmod of root's file fails with EPERM");
	is_int(res[4], EPERM, "nobody: unlinking root's file in a sticky 01777 directory fails with EPERM");
	memset(&st, 0, sizeof(st));
	stat(D "/suid", &st);
	ok(res[5] == 0 && (st.st_mode & 07777) == 0777,
	   "nobody writing to a 04777 file clears its setuid bit (now 0%o)", (unsigned)(st.st_mode & 07777));

	mkdir(D "/sgid", 0775);
	chown(D "/sgid", 0, 100);
	chmod(D "/sgid", 02775);
	close(open(D "/sgid/f", O_WRONLY | O_CREAT, 0644));
	mkdir(D "/sgid/sub", 0755);
	ok(stat(D "/sgid/f", &st) == 0 && st.st_gid == 100 && stat(D "/sgid/sub", &st) == 0 && st.st_gid == 100 &&
	   (st.st_mode & S_ISGID), "a setgid directory gives new files its group and new subdirs setgid");
	return exit_status();
}
