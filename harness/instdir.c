/* instdir.c - an instance's files (see instdir.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "instdir.h"
#include "rundir.h"
#include "util.h"
#include "banned.h"

int logfile_open(struct logfile *l, const char *path, size_t max, const char *what)
{
	memset(l, 0, sizeof(*l));
	l->max = max;
	l->what = what;
	l->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (l->fd < 0)
		return error_errno("cannot create '%s'", path);
	return 0;
}

void logfile_write(struct logfile *l, const char *buf, size_t len)
{
	size_t room = l->max > l->logged ? l->max - l->logged : 0;

	if (l->fd < 0)
		return;
	if (len > room) {
		if (!l->truncated) {
			char msg[128];
			int m = fmt(msg, sizeof(msg), "\n[vkci: %s log truncated at %zu bytes]\n", l->what, l->max);

			l->truncated = 1;
			write_all(l->fd, buf, room);
			if (m > 0)
				write_all(l->fd, msg, (size_t)m);
		}
		l->logged += room;
		return;
	}
	if (write_all(l->fd, buf, len) < 0 && !l->truncated) {
		warning("cannot write %s log: %s", l->what, strerror(errno));
		l->truncated = 1;
	}
	l->logged += len;
}

void logfile_close(struct logfile *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

int instance_run_dir(const char *wanted, char *buf, size_t size)
{
	struct stat st;
	const char *x = getenv("XDG_RUNTIME_DIR"), *tmp = getenv("TMPDIR");
	int r;

	if (wanted && *wanted)
		r = fmt(buf, size, "%s", wanted);
	else if (x && *x && strlen(x) < 40)
		r = fmt(buf, size, "%s/vkci", x);
	else
		r = fmt(buf, size, "%s/vkci-%u", tmp && *tmp && strlen(tmp) < 40 ? tmp : "/tmp",
			(unsigned)getuid());
	if (r < 0)
		return error("run dir path too long");
	if (mkdir_p(buf, 0700) < 0)
		return error_errno("cannot create run dir '%s' (set VKCI_RUNDIR)", buf);
	if (lstat(buf, &st) < 0)
		return error_errno("cannot stat run dir '%s'", buf);
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid())
		return error("run dir '%s' is not a directory owned by you (set VKCI_RUNDIR)", buf);
	if ((st.st_mode & 077) && chmod(buf, 0700) < 0)
		return error_errno("cannot make run dir '%s' private", buf);
	return 0;
}

int instdir_create(const char *run_dir, const char *test, char *dir, size_t size)
{
	char name[96];
	size_t i;

	for (i = 0; test[i] && i < 60; i++)
		name[i] = (test[i] == '/' || test[i] == '.') ? '_' : test[i];
	name[i] = '\0';
	if (fmt(dir, size, "%s/%s.XXXXXX", run_dir, name) < 0)
		return error("instance dir path too long");
	if (!mkdtemp(dir)) {
		dir[0] = '\0';
		return error_errno("cannot create instance dir under '%s'", run_dir);
	}
	rundir_claim(dir);   /* owner pid + start time: a sweep knows when it is stale */
	return 0;
}

int instdir_node(const char *inst_dir, int index, int nnodes, char *dir, size_t size)
{
	if (nnodes == 1)
		return fmt(dir, size, "%s", inst_dir) < 0 ? error("path too long") : 0;
	if (fmt(dir, size, "%s/node%d", inst_dir, index) < 0 || mkdir(dir, 0700) < 0)
		return error_errno("cannot create node dir in '%s'", inst_dir);
	return 0;
}

int instdir_scratch(const char *node_dir, long long bytes, char *path, size_t size)
{
	int fd;

	if (fmt(path, size, "%s/scratch.img", node_dir) < 0)
		return error("path too long");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)bytes) < 0) {
		if (fd >= 0)
			close(fd);
		return error_errno("cannot create scratch disk '%s'", path);
	}
	close(fd);
	return 0;
}

int instdir_logdir(const char *log_dir, const char *test, int index, int nnodes,
		   const char *node_dir, char *out, size_t size)
{
	int k;

	if (!log_dir)
		return fmt(out, size, "%s", node_dir) < 0 ? error("path too long") : 0;
	k = nnodes == 1 ? fmt(out, size, "%s/%s", log_dir, test) :
	    fmt(out, size, "%s/%s/node%d", log_dir, test, index);
	if (k < 0)
		return error("log dir path too long");
	if (mkdir_p(out, 0755) < 0)
		return error_errno("cannot create log dir '%s' (check --log-dir)", out);
	return 0;
}

const char *instdir_collect_gcov(const char *node_dir, const char *dst, int killed, int at_exit,
				 const char *inner)
{
	char src[PATH_MAX + 8], sub[2 * PATH_MAX + 16];
	struct stat st;
	const char *note = NULL, *from = src;

	if (fmt(src, sizeof(src), "%s/gcov", node_dir) < 0)
		return "no coverage data: instance path too long";
	rm_rf(dst);   /* a previous run's tree (node 0's holds the others') */
	/* gcov writes at exit; a SIGKILLed vkernel did not exit, and what its
	 * forked helpers wrote at their exits is not its coverage */
	if (killed && at_exit) {
		rm_rf(src);
		return "no coverage data: the vkernel was killed before it could write its .gcda files";
	}
	if (lstat(src, &st) < 0 || !S_ISDIR(st.st_mode))
		return at_exit ? "no coverage data: the vkernel wrote no .gcda files (not a coverage kernel?)" :
		       "no coverage data: the agent sent no gcov tree (not a CONFIG_GCOV_KERNEL kernel?)";
	if (inner) {
		while (*inner == '/')
			inner++;
		if (fmt(sub, sizeof(sub), "%s/%s", src, inner) > 0 && lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			from = sub;
		else
			note = "coverage data kept as fetched: the kernel's build dir is not in the guest's "
			       "gcov tree (a kernel built elsewhere?)";
	}
	if (mkdir_p(dst, 0755) < 0 || rmdir(dst) < 0 || (rename(from, dst) < 0 && copy_tree(from, dst) < 0))
		error_errno("cannot keep the coverage data in '%s'", dst);
	return note;
}
