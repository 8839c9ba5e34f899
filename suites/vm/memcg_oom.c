/* memory cgroup (cgroup v2): memory.max is honoured - a child allocating
 * under the limit finishes, one allocating past it is OOM-killed (SIGKILL)
 * and counted in memory.events oom_kill, charges go away with the process,
 * and the test (outside the group) is unharmed; skipped (by vkci, config=)
 * on a kernel built without CONFIG_MEMCG */
/* vkci: timeout=30 config=CGROUPS,MEMCG */
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "vkci_test.h"

#define CG "/sys/fs/cgroup"
#define GRP CG "/vkci-vm"
#define LIMIT (8L << 20)

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* the value of "key N" in a flat-keyed cgroup file, -1 if absent */
static long long keyed(const char *path, const char *key)
{
	char buf[1024], *p;
	size_t k = strlen(key);

	if (vt_read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, k) && p[k] == ' ')
			return strtoll(p + k + 1, NULL, 10);
	return -1;
}

static long long number(const char *path)
{
	char buf[64];

	if (vt_read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	return strtoll(buf, NULL, 10);
}

/* join the group, then touch mb megabytes */
static int hog(void *arg)
{
	long mb = (long)arg;
	char pid[32], *p;
	long i;

	snprintf(pid, sizeof(pid), "%d", getpid());
	if (write_str(GRP "/cgroup.procs", pid) < 0)
		return 2;
	p = mmap(NULL, mb << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 3;
	for (i = 0; i < mb << 20; i += 4096)
		p[i] = 1;
	return 0;
}

int main(int argc, char **argv)
{
	char buf[256] = "";
	int status;

	vt_init(argc, argv);
	/* without CONFIG_CGROUPS or CONFIG_MEMCG vkci skips the test (config=
	 * above): a kernel that has them must mount cgroup2 with memory in it */
	if (vt_read_file(CG "/cgroup.controllers", buf, sizeof(buf)) < 0 &&
	    mount("cgroup2", CG, "cgroup2", 0, NULL) < 0)
		bail("cannot mount cgroup2 on " CG ": %s", strerror(errno));
	if (vt_read_file(CG "/cgroup.controllers", buf, sizeof(buf)) < 0 || !strstr(buf, "memory")) {
		buf[strcspn(buf, "\n")] = '\0';
		bail("no memory controller in " CG "/cgroup.controllers ('%s')", buf);
	}
	plan(9);

	ok(write_str(CG "/cgroup.subtree_control", "+memory") == 0 &&
	   (mkdir(GRP, 0755) == 0 || errno == EEXIST), "enabled +memory and created a child group");
	if (access(GRP "/memory.max", F_OK) < 0)
		bail("no memory.max in " GRP);
	snprintf(buf, sizeof(buf), "%ld", LIMIT);
	ok(write_str(GRP "/memory.max", buf) == 0 && number(GRP "/memory.max") == LIMIT,
	   "memory.max set to %ld and read back", LIMIT);
	write_str(GRP "/memory.swap.max", "0");   /* absent without swap accounting */
	is_int(keyed(GRP "/memory.events", "oom_kill"), 0, "no OOM kills counted yet");

	run_in_child(hog, (void *)2L, &status);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "a child touching 2M under the 8M limit finishes (status 0x%x)", status);

	run_in_child(hog, (void *)64L, &status);
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	   "a child touching 64M in the group is killed by SIGKILL (status 0x%x)", status);
	is_int(keyed(GRP "/memory.events", "oom_kill"), 1, "memory.events counts one oom_kill");
	ok(keyed(GRP "/memory.events", "max") > 0, "memory.events counts hits of memory.max");
	{
		long long cur = number(GRP "/memory.current");

		ok(cur >= 0 && cur < LIMIT / 4, "the charges left with the processes (memory.current %lld)", cur);
	}
	ok(rmdir(GRP) == 0, "the emptied group can be removed");
	return exit_status();
}
