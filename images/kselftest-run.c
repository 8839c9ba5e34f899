/* kselftest-run: runs one kselftest program inside a vkci guest, the way
 * run_kselftest.sh would, with what such programs expect around them.
 *
 * The agent runs /payload/kselftest/TARGET/PROGRAM, a symlink to this
 * program (argv[0] keeps the name). The target's files live in the install
 * tree /payload/kselftest.d (read-only). Steps:
 *   1. /dev/fd, /dev/stdin, /dev/stdout, /dev/stderr as /proc/self/fd links
 *      (devtmpfs has none), /bin/bash (Debian's bash-static from the payload)
 *      when the image has no bash;
 *   2. a writable view of the install tree at /tmp/kselftest: directories
 *      on tmpfs with symlinks to the tree's files (programs that write next
 *      to themselves);
 *   3. cwd /tmp/kselftest/TARGET, then PROGRAM as run_kselftest.sh starts it:
 *      ./PROGRAM if executable, else ./ksft_runner.sh ./PROGRAM, else the
 *      interpreter of its #! line;
 *   4. its stdout relayed line by line (stderr goes straight through). A
 *      program that exited 0 and printed no TAP plan or result gets one
 *      result line, "ok 1 PROGRAM"; one that printed results but no plan
 *      gets the plan: its exit code is its verdict where its TAP gives none
 *      (run_kselftest.sh's rule: 0 pass, 1 fail, 4 skip; vkci judges the
 *      other codes). One killed by a signal makes the runner die by the
 *      same signal.
 * /payload/kselftest/all/run_kselftest.sh is the other way, for comparison
 * (ci/bench/kselftest.py): the tree's own run_kselftest.sh over every staged
 * program in this one vkernel, with coreutils' timeout (which it wants with
 * --foreground) as /usr/bin/timeout.
 * Setup problems print "Bail out! kselftest-run: ..." and exit 1: the test
 * fails with the reason, never passes. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ENTRIES "/payload/kselftest/"
#define TREE "/payload/kselftest.d"
#define VIEW "/tmp/kselftest"
#define DRAIN_MS 2000
#define MAX_ARGS 64

static void bail(const char *what, const char *arg)
{
	printf("Bail out! kselftest-run: %s%s%s%s%s\n", what, arg ? " '" : "", arg ? arg : "",
	       arg ? "'" : "", errno ? ": " : "");
	if (errno)
		printf("# %s\n", strerror(errno));
	fflush(stdout);
	exit(1);
}

static void link_if_missing(const char *target, const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0)
		return;
	if (symlink(target, path) < 0 && errno != EEXIST)
		fprintf(stderr, "kselftest-run: cannot link %s -> %s: %s\n", path, target, strerror(errno));
}

/* A tree of directories and symlinks mirroring src at dst (no overlayfs). */
static int mirror(const char *src, const char *dst, int depth)
{
	DIR *d;
	struct dirent *e;
	char s[4096], t[4096];

	if (depth > 16 || (mkdir(dst, 0755) < 0 && errno != EEXIST) || !(d = opendir(src)))
		return -1;
	while ((e = readdir(d))) {
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (snprintf(s, sizeof(s), "%s/%s", src, e->d_name) >= (int)sizeof(s) ||
		    snprintf(t, sizeof(t), "%s/%s", dst, e->d_name) >= (int)sizeof(t) || lstat(s, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			mirror(s, t, depth + 1);
		else
			link_if_missing(s, t);
	}
	closedir(d);
	return 0;
}

/* Directories on /tmp (tmpfs) with symlinks to the tree's files: programs
 * create files next to themselves on an ordinary file system, as in an
 * installed tree. (An overlay mount was tried first: cachestat and others
 * then test overlayfs instead of the file system they mean to.) */
static void writable_view(void)
{
	struct stat st;

	if (stat(VIEW "/kselftest-list.txt", &st) == 0)
		return;   /* already there (a runner started by a runner) */
	errno = 0;
	if (mirror(TREE, VIEW, 0) < 0)
		bail("cannot make a writable view of", TREE);
}

/* argv for PROGRAM as run_kselftest.sh would start it. */
static int command(const char *prog, char **argv, char *shebang, size_t size)
{
	char path[512];
	int n = 0;

	snprintf(path, sizeof(path), "./%s", prog);
	if (access(path, X_OK) == 0) {
		argv[n++] = strdup(path);
	} else if (access("./ksft_runner.sh", X_OK) == 0) {
		argv[n++] = "./ksft_runner.sh";
		argv[n++] = strdup(path);
	} else {
		FILE *f = fopen(path, "r");
		char *w, *save = NULL;

		if (!f || !fgets(shebang, (int)size, f) || strncmp(shebang, "#!", 2)) {
			if (f)
				fclose(f);
			errno = 0;
			bail("not executable and no #! line:", path);
		}
		fclose(f);
		shebang[strcspn(shebang, "\r\n")] = '\0';
		for (w = strtok_r(shebang + 2, " \t", &save); w && n < 3; w = strtok_r(NULL, " \t", &save))
			argv[n++] = w;
		if (!n) {
			errno = 0;
			bail("empty #! line in", path);
		}
		argv[n++] = strdup(path);
	}
	return n;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A TAP result line at the top level: 1; a plan: 2; else 0. */
static int is_tap(const char *s, size_t len)
{
	if ((len >= 2 && !strncmp(s, "ok", 2) && (len == 2 || s[2] == ' ' || s[2] == '\n')) ||
	    (len >= 6 && !strncmp(s, "not ok", 6) && (len == 6 || s[6] == ' ' || s[6] == '\n')))
		return 1;
	return len >= 4 && !strncmp(s, "1..", 3) && s[3] >= '0' && s[3] <= '9' ? 2 : 0;
}

int main(int argc, char **argv)
{
	static char line[65536], shebang[512];
	char *cargv[MAX_ARGS + 8], target[512], *prog, dir[600];
	const char *rel;
	size_t len = 0;
	int p[2], status = 0, results = 0, plans = 0, exited = 0, n, i;
	long long drain = -1;
	pid_t pid;

	if (strncmp(argv[0], ENTRIES, strlen(ENTRIES)) || !strchr(argv[0] + strlen(ENTRIES), '/')) {
		errno = 0;
		bail("started as", argv[0]);
	}
	rel = argv[0] + strlen(ENTRIES);
	snprintf(target, sizeof(target), "%s", rel);
	prog = strrchr(target, '/');
	*prog++ = '\0';

	link_if_missing("/proc/self/fd", "/dev/fd");
	link_if_missing("/proc/self/fd/0", "/dev/stdin");
	link_if_missing("/proc/self/fd/1", "/dev/stdout");
	link_if_missing("/proc/self/fd/2", "/dev/stderr");
	link_if_missing(TREE "/.vkci/bash", "/bin/bash");
	writable_view();
	if (!strcmp(target, "all") && !strcmp(prog, "run_kselftest.sh")) {
		unlink("/usr/bin/timeout");
		link_if_missing(TREE "/.vkci/timeout", "/usr/bin/timeout");
		if (chdir(VIEW) < 0)
			bail("cannot enter", VIEW);
		fflush(stdout);
		argv[0] = "./run_kselftest.sh";
		execv(argv[0], argv);
		bail("cannot execute", VIEW "/run_kselftest.sh");
	}
	snprintf(dir, sizeof(dir), VIEW "/%s", target);
	if (chdir(dir) < 0)
		bail("cannot enter", dir);

	n = command(prog, cargv, shebang, sizeof(shebang));
	for (i = 1; i < argc && n < MAX_ARGS; i++)
		cargv[n++] = argv[i];
	cargv[n] = NULL;

	if (pipe2(p, O_CLOEXEC) < 0)
		bail("cannot create a pipe", NULL);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		bail("cannot fork", NULL);
	if (pid == 0) {
		dup2(p[1], 1);
		execv(cargv[0], cargv);
		if (errno == ENOENT && cargv[0][0] != '.' && !strchr(cargv[0], '/'))
			execvp(cargv[0], cargv);
		fprintf(stderr, "kselftest-run: cannot execute '%s': %s\n", cargv[0], strerror(errno));
		_exit(126);
	}
	close(p[1]);
	/* relay stdout a line at a time; after the program exits, what it
	 * left behind may hold the pipe: drain for DRAIN_MS at most */
	for (;;) {
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		long long left = drain < 0 ? 200 : drain - now_ms();
		ssize_t r;

		if (!exited && waitpid(pid, &status, WNOHANG) == pid) {
			exited = 1;
			drain = now_ms() + DRAIN_MS;
			left = DRAIN_MS;
		}
		if (drain >= 0 && left <= 0)
			break;
		if (poll(&pf, 1, (int)(left > 200 ? 200 : left)) <= 0)
			continue;
		r = read(p[0], line + len, sizeof(line) - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		for (;;) {
			char *nl = memchr(line, '\n', len);
			size_t l = nl ? (size_t)(nl - line) + 1 : len == sizeof(line) - 1 ? len : 0;

			if (!l)
				break;
			i = is_tap(line, l);
			results += i == 1;
			plans += i == 2;
			fwrite(line, 1, l, stdout);
			fflush(stdout);
			memmove(line, line + l, len - l);
			len -= l;
		}
	}
	if (len) {
		i = is_tap(line, len);
		results += i == 1;
		plans += i == 2;
		fwrite(line, 1, len, stdout);
		putchar('\n');
	}
	if (!exited)
		waitpid(pid, &status, 0);
	if (WIFSIGNALED(status)) {
		fflush(stdout);
		signal(WTERMSIG(status), SIG_DFL);
		kill(getpid(), WTERMSIG(status));
		_exit(128 + WTERMSIG(status));
	}
	/* exit status 0 is the program's verdict (run_kselftest.sh's rule)
	 * when its TAP does not give one */
	if (!results && !plans && WEXITSTATUS(status) == 0)
		printf("ok 1 %s\n1..1\n", prog);
	else if (results && !plans && WEXITSTATUS(status) == 0)
		printf("# kselftest-run: %s printed %d results but no plan\n1..%d\n", prog, results, results);
	fflush(stdout);
	return WEXITSTATUS(status);
}
