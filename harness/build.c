/* build.c - `vkci build`: configure and build a vkernel out of tree with
 * its backend's recipe, cached by what went into it (see build.h for the
 * cache layout). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend.h"
#include "build.h"
#include "diag.h"
#include "kconfig.h"
#include "platform.h"
#include "proc.h"
#include "srctree.h"
#include "util.h"
#include "banned.h"

#define RECIPE_VERSION "vkci-build-2"
#define PATH_SZ 4096
#define MAX_MAKE_ARGS 4
/* free space a build needs in the cache: a cold UML defconfig build takes
 * ~0.6 GiB here; leave room for debug info and a coverage variant */
#define COLD_NEED_MB 3072
#define WARM_NEED_MB 512

struct build_ctx {
	const struct build_opts *o;
	const struct backend *be;
	struct srctree tree;
	const char *src;     /* tree.path */
	char cache[PATH_SZ], dir[PATH_SZ], lock[PATH_SZ];
	char cc[PATH_SZ], make[PATH_SZ], ccver[256];
	char name[256];
	struct kreqs reqs;
	char make_args[MAX_MAKE_ARGS][PATH_SZ + 64];  /* a backend's extra kbuild arguments */
	int nmake_args;
	long long deadline;  /* run(): SIGKILL the child's group after this (now_ms), 0: none */
	const char *const *run_env; /* run(): extra environment of the child, or NULL */
	int log_fd;
	int sfd;             /* signals (platform.h) for SIGINT/SIGTERM/SIGHUP */
	int interrupted;
	char logpath[PATH_SZ];
};

/* ---- running kbuild and friends ------------------------------------------------ */

static int path_exists(const char *p)
{
	struct stat st;

	return lstat(p, &st) == 0;
}

/* run(): what the child prints goes to the build log, to a capture buffer
 * and, counted as kbuild steps, to the progress line. */
struct run_out {
	struct build_ctx *c;
	const char *label;
	long long start;
	unsigned long steps;
	char *cap;
	size_t cap_size, cap_len;
	char line[200], cur[200];
	size_t llen;
};

static void run_progress(void *ctx)
{
	struct run_out *o = ctx;
	long long t = (now_ms() - o->start) / 1000;

	if (o->label)
		progress(0, "%s: %lu steps, %lldm%02llds  %s", o->label, o->steps, t / 60, t % 60, o->cur);
}

static void run_output(void *ctx, const char *buf, size_t len)
{
	struct run_out *o = ctx;
	size_t i;

	if (o->c->log_fd >= 0)
		write_all(o->c->log_fd, buf, len);
	if (o->cap && o->cap_len + 1 < o->cap_size) {
		size_t k = len < o->cap_size - 1 - o->cap_len ? len : o->cap_size - 1 - o->cap_len;

		memcpy(o->cap + o->cap_len, buf, k);
		o->cap_len += k;
		o->cap[o->cap_len] = '\0';
	}
	for (i = 0; i < len; i++) {
		if (buf[i] != '\n') {
			if (o->llen + 1 < sizeof(o->line))
				o->line[o->llen++] = buf[i];
			continue;
		}
		o->line[o->llen] = '\0';
		/* kbuild's quiet lines: "  CC      mm/mmap.o" */
		if (o->llen > 3 && o->line[0] == ' ' && o->line[1] == ' ' && isupper((unsigned char)o->line[2])) {
			const char *s = o->line;

			o->steps++;
			while (*s == ' ')
				s++;
			snprintf(o->cur, sizeof(o->cur), "%s", s);
		}
		o->llen = 0;
	}
}

/* Run argv with output into the build log (and into cap, when given);
 * counts kbuild step lines for the progress display when label is set.
 * Returns the wait status, or -1 if it could not run or was interrupted. */
static int run(struct build_ctx *c, const char *const *argv, const char *label,
	       char *cap, size_t cap_size)
{
	struct run_out o = { .c = c, .label = label, .start = now_ms(), .cap = cap, .cap_size = cap_size };
	struct proc_io io = { .on_output = run_output, .ctx = &o, .sig_fd = c->sfd,
			      .deadline = c->deadline, .on_tick = label ? run_progress : NULL };
	struct child ch;
	int status;

	if (cap && cap_size)
		cap[0] = '\0';
	if (c->log_fd >= 0) {
		char head[1024];
		size_t i;
		int n = snprintf(head, sizeof(head), "+");

		for (i = 0; argv[i] && n < (int)sizeof(head) - 2; i++)
			n += snprintf(head + n, sizeof(head) - n, " %s", argv[i]);
		if (n > (int)sizeof(head) - 2)
			n = (int)sizeof(head) - 2;
		head[n++] = '\n';
		write_all(c->log_fd, head, (size_t)n);
	}
	proc_child_init(&ch, argv);
	ch.env = c->run_env;
	status = proc_run(&ch, &io);
	if (io.interrupted)
		c->interrupted = io.interrupted;
	if (label) {
		long long t = (now_ms() - o.start) / 1000;

		progress(1, "%s: %lu steps, %lldm%02llds%s", label, o.steps, t / 60, t % 60,
			 c->interrupted ? " (interrupted)" : WIFEXITED(status) && !WEXITSTATUS(status) ? ", done" : ", failed");
	}
	if (c->interrupted) {
		error("build interrupted by signal %d", c->interrupted);
		return -1;
	}
	return status;
}

static int ok_status(int st)
{
	return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* On a failed build: the log's tail, and what kind of failure it was. */
static int report_failure(struct build_ctx *c)
{
	char *data;
	size_t len;
	const char *p;
	int lines = 0, disk = 0;

	if (c->interrupted)
		return EXIT_INFRA;
	data = read_file(c->logpath, 256 << 20, &len);
	if (!data)
		return BUILD_EXIT_COMPILE;
	disk = strstr(data, "No space left on device") != NULL;
	for (p = data + len; p > data && lines <= 25; p--)
		if (p[-1] == '\n')
			lines++;
	if (lines > 25)
		p++;
	error("kernel build failed; the end of its log:");
	write_all(2, p, (size_t)(data + len - p));
	free(data);
	if (disk) {
		error("kernel build in '%s' ran out of disk space: free space or set VKCI_CACHE=<dir>", c->dir);
		return BUILD_EXIT_DISK;
	}
	error("kernel build failed in '%s': full log '%s'", c->dir, c->logpath);
	return BUILD_EXIT_COMPILE;
}

/* ---- what backends' build hooks may use (build.h) ---------------------------------- */

const char *build_ctx_dir(const struct build_ctx *c) { return c->dir; }
const char *build_ctx_cc(const struct build_ctx *c) { return c->cc; }
int build_ctx_interrupted(const struct build_ctx *c) { return c->interrupted != 0; }

int build_ctx_variant(const struct build_ctx *c, const char *variant)
{
	const char *v = c->o->variant, *end;
	size_t n = strlen(variant);

	for (; v && *v; v = *end ? end + 1 : end) {
		end = strchrnul(v, '-');
		if ((size_t)(end - v) == n && !strncmp(v, variant, n))
			return 1;
	}
	return 0;
}

const char *build_ctx_option(const struct build_ctx *c, const char *sym)
{
	return kreqs_get(&c->reqs, sym);
}

int build_ctx_make_arg(struct build_ctx *c, const char *arg)
{
	if (c->nmake_args >= MAX_MAKE_ARGS || fmt(c->make_args[c->nmake_args], sizeof(c->make_args[0]), "%s", arg) < 0)
		return error("too many or too long kbuild arguments ('%s')", arg);
	c->nmake_args++;
	return 0;
}

int build_ctx_run(struct build_ctx *c, const char *const *argv, char *cap, size_t cap_size,
		  const char *const *env, long timeout_ms)
{
	int st;

	c->run_env = env;
	c->deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	st = run(c, argv, NULL, cap, cap_size);
	c->run_env = NULL;
	c->deadline = 0;
	return st;
}

/* argv of a kbuild run: make -C SRC O=DIR ARCH=<arch> [backend args] [-jN] target */
static void make_argv(struct build_ctx *c, const char **a, char *o_arg, char *arch_arg,
		      const char *jobs, const char *target)
{
	int n = 0, i;

	a[n++] = c->make;
	a[n++] = "-C";
	a[n++] = c->src;
	a[n++] = o_arg;
	a[n++] = arch_arg;
	for (i = 0; i < c->nmake_args; i++)
		a[n++] = c->make_args[i];
	if (jobs)
		a[n++] = jobs;
	a[n++] = target;
	a[n] = NULL;
}

int build_ctx_make(struct build_ctx *c, const char *target, const char *label)
{
	char o_arg[PATH_SZ + 8], arch_arg[64], jobs[32];
	const char *a[MAX_MAKE_ARGS + 10];

	if (fmt(o_arg, sizeof(o_arg), "O=%s", c->dir) < 0 || fmt(arch_arg, sizeof(arch_arg), "ARCH=%s", c->be->arch) < 0)
		return error("path too long: '%s'", c->dir), EXIT_USAGE;
	snprintf(jobs, sizeof(jobs), "-j%d", c->o->jobs > 0 ? c->o->jobs : ncpus());
	make_argv(c, a, o_arg, arch_arg, jobs, target);
	return ok_status(run(c, a, label, NULL, 0)) ? 0 : report_failure(c);
}

/* ---- the source tree ----------------------------------------------------------- */

/* defconfig, then the fragments with the tree's merge_config.sh, then olddefconfig */
static int configure(struct build_ctx *c)
{
	char cfgpath[PATH_SZ], merge[PATH_SZ], sh[PATH_SZ];
	char fragabs[BUILD_MAX_FRAGS][PATH_SZ];
	const char *argv[BUILD_MAX_FRAGS + 16];
	int n = 0, i, r;

	if (fmt(cfgpath, sizeof(cfgpath), "%s/.config", c->dir) < 0 ||
	    fmt(merge, sizeof(merge), "%s/scripts/kconfig/merge_config.sh", c->src) < 0)
		return error("path too long: '%s'", c->dir), EXIT_USAGE;
	if ((r = build_ctx_make(c, c->be->defconfig, NULL)))
		return r;
	if (!c->o->nfrags)
		return 0;
	if (find_in_path("sh", sh, sizeof(sh)) < 0)
		return error("no 'sh' in PATH"), BUILD_EXIT_TOOLS;
	argv[n++] = sh;
	argv[n++] = merge;
	argv[n++] = "-m";
	argv[n++] = "-O";
	argv[n++] = c->dir;
	argv[n++] = cfgpath;
	for (i = 0; i < c->o->nfrags; i++) {
		if (abspath(c->o->frags[i], fragabs[i], sizeof(fragabs[i])) < 0)
			return error_errno("cannot resolve '%s'", c->o->frags[i]), EXIT_INFRA;
		argv[n++] = fragabs[i];
	}
	argv[n] = NULL;
	/* merge_config.sh makes its temporary files in the working directory */
	if (chdir(c->dir) < 0)
		return error_errno("cannot enter '%s'", c->dir), EXIT_INFRA;
	if (!ok_status(run(c, argv, NULL, NULL, 0)))
		return report_failure(c);
	return build_ctx_make(c, "olddefconfig", NULL);
}

/* ---- the cache ------------------------------------------------------------------ */

static int cache_root(struct build_ctx *c)
{
	return cache_dir(c->o->cache, c->cache, sizeof(c->cache));
}

static int compiler(struct build_ctx *c)
{
	const char *cc = getenv("CC");
	static const struct { const char *tool, *pkg; } tools[] = {
		{ "make", "make" }, { "flex", "flex" }, { "bison", "bison" }, { "bc", "bc" },
		{ "perl", "perl" },
	};
	char out[1024] = "", path[PATH_SZ], *nl;
	size_t i;

	if (!cc || !*cc || strchr(cc, ' '))
		cc = "gcc";
	if (find_in_path(cc, c->cc, sizeof(c->cc)) < 0) {
		error("compiler '%s' not found (apt-get install gcc, or set CC=<compiler>)", cc);
		return BUILD_EXIT_TOOLS;
	}
	for (i = 0; i < ARRAY_SIZE(tools); i++)
		if (find_in_path(tools[i].tool, i == 0 ? c->make : path, i == 0 ? sizeof(c->make) : sizeof(path)) < 0) {
			error("'%s' not found, a kernel build needs it (apt-get install %s)", tools[i].tool,
			      tools[i].pkg);
			return BUILD_EXIT_TOOLS;
		}
	{
		const char *a[] = { c->cc, "--version", NULL };
		int fd = c->log_fd;

		c->log_fd = -1;
		if (!ok_status(run(c, a, NULL, out, sizeof(out)))) {
			c->log_fd = fd;
			error("compiler '%s' does not run ('%s --version' failed): set CC=<compiler>", c->cc, c->cc);
			return BUILD_EXIT_TOOLS;
		}
		c->log_fd = fd;
	}
	if ((nl = strchr(out, '\n')))
		*nl = '\0';
	snprintf(c->ccver, sizeof(c->ccver), "%s", out);
	return 0;
}

static int free_mb(const char *dir, long long *mb)
{
	struct statvfs sv;

	if (statvfs(dir, &sv) < 0)
		return -1;
	*mb = (long long)((unsigned long long)sv.f_bavail * sv.f_frsize >> 20);
	return 0;
}

static int read_stamp(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = xread(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

static int write_stamp(const char *path, const char *text)
{
	return write_file_atomic(path, text, strlen(text));
}

/* What the last good build was made from: the tree's fingerprint and the
 * .config's hash. */
static int current_stamp(struct build_ctx *c, char *buf, size_t size)
{
	char path[PATH_SZ], *cfg;
	size_t len;
	uint64_t h;

	if (fmt(path, sizeof(path), "%s/.config", c->dir) < 0 || !(cfg = read_file(path, 64 << 20, &len)))
		return -1;
	h = fnv(FNV0, cfg, len);
	free(cfg);
	return fmt(buf, size, "tree %016llx %lu\nconfig %016llx\n", (unsigned long long)c->tree.fp,
		   c->tree.files, (unsigned long long)h) < 0 ? -1 : 0;
}

static int verify(struct build_ctx *c)
{
	char path[PATH_SZ];

	if (fmt(path, sizeof(path), "%s/.config", c->dir) < 0)
		return EXIT_INFRA;
	return kconfig_verify(&c->reqs, path, c->src, c->tree.kconfigs, c->tree.nkconfig);
}

/* KEY: what went into the build; the dir's name says what it is */
static int make_key(struct build_ctx *c, uint64_t key)
{
	const char *base = strrchr(c->src, '/'), *v = c->o->variant ? c->o->variant : "";
	char nm[64];
	size_t i;

	key = fnv(key, RECIPE_VERSION, sizeof(RECIPE_VERSION));
	key = fnv(key, c->src, strlen(c->src) + 1);
	key = fnv(key, c->tree.version, strlen(c->tree.version) + 1);
	key = fnv(key, c->ccver, strlen(c->ccver) + 1);
	key = fnv(key, c->be->name, strlen(c->be->name) + 1);
	key = fnv(key, v, strlen(v) + 1);
	snprintf(nm, sizeof(nm), "%s", base && base[1] ? base + 1 : "linux");
	for (i = 0; nm[i]; i++)
		if (!isalnum((unsigned char)nm[i]) && nm[i] != '-' && nm[i] != '_' && nm[i] != '.')
			nm[i] = '_';
	snprintf(c->name, sizeof(c->name), "%s-%s%s%s-%016llx", nm, c->be->name, *v ? "-" : "", v,
		 (unsigned long long)key);
	if (fmt(c->dir, sizeof(c->dir), "%s/kernels/%s", c->cache, c->name) < 0 ||
	    fmt(c->lock, sizeof(c->lock), "%s/kernels/%s.lock", c->cache, c->name) < 0 ||
	    fmt(c->logpath, sizeof(c->logpath), "%s/build.log", c->dir) < 0)
		return error("cache path too long: '%s'", c->cache), EXIT_USAGE;
	return 0;
}

/* One builder per KEY; the others wait, then find it built. The lock is
 * held until exit (the fd is close-on-exec, not inherited). */
static int take_lock(struct build_ctx *c)
{
	int lockfd = open(c->lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (lockfd < 0)
		return error_errno("cannot open lock '%s'", c->lock), EXIT_INFRA;
	if (flock(lockfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			return error_errno("cannot lock '%s'", c->lock), EXIT_INFRA;
		error("waiting for another build of this kernel in '%s'", c->dir);
		if (flock(lockfd, LOCK_EX) < 0)
			return error_errno("cannot lock '%s'", c->lock), EXIT_INFRA;
	}
	return 0;
}

static int do_build(struct build_ctx *c)
{
	char stamp_path[PATH_SZ], marker[PATH_SZ], bin[PATH_SZ], label[128], want[256], have[256] = "";
	uint64_t key = FNV0;
	long long mb = 0;
	long need;
	const char *e;
	int r, configured;

	if ((r = srctree_open(&c->tree, c->o->src, c->be)))
		return r;
	c->src = c->tree.path;
	if ((r = compiler(c)) ||
	    (r = kreqs_load(&c->reqs, c->o->frags, c->o->nfrags, &key)))
		return r;
	if (cache_root(c) < 0)
		return EXIT_USAGE;
	if ((r = make_key(c, key)))
		return r;
	if (fmt(stamp_path, sizeof(stamp_path), "%s/vkci-stamp", c->dir) < 0 ||
	    fmt(marker, sizeof(marker), "%s/vkci-configured", c->dir) < 0 ||
	    fmt(bin, sizeof(bin), "%s/%s", c->dir, c->be->binary) < 0)
		return error("cache path too long: '%s'", c->cache), EXIT_USAGE;
	/* the tree's state, and every requested symbol exists, before anything is
	 * written; a configured KEY had its fragments (part of the KEY) checked
	 * when it was configured, so a no-op run does not read every Kconfig */
	if (srctree_fingerprint(&c->tree) < 0)
		return EXIT_INFRA;
	if (!path_exists(marker) &&
	    (r = kconfig_check_symbols(&c->reqs, c->src, c->tree.kconfigs, c->tree.nkconfig)))
		return r;
	if (mkdir_p(c->dir, 0755) < 0) {
		error_errno("cannot create the build directory '%s' (set VKCI_CACHE=<writable dir>)", c->dir);
		return EXIT_INFRA;
	}
	if (c->be->build_setup && (r = c->be->build_setup(c)))
		return r;
	if ((r = take_lock(c)))
		return r;

	configured = path_exists(marker);
	if (!c->o->force && configured && access(bin, R_OK) == 0 &&
	    read_stamp(stamp_path, want, sizeof(want)) == 0 &&
	    current_stamp(c, have, sizeof(have)) == 0 && !strcmp(want, have)) {
		note("kernel up to date: '%s' (%lu files unchanged)", bin, c->tree.files);
		return 0;
	}

	need = access(bin, R_OK) == 0 ? WARM_NEED_MB : COLD_NEED_MB;
	if ((e = getenv("VKCI_BUILD_MIN_FREE_MB")) && *e && (need = parse_uint(e, 1L << 30)) < 0)
		return error("bad VKCI_BUILD_MIN_FREE_MB '%s' (MiB)", e), EXIT_USAGE;
	if (free_mb(c->dir, &mb) == 0 && mb < need) {
		error("only %lld MiB free in '%s', a kernel build needs about %ld MiB: free space or set "
		      "VKCI_CACHE=<dir>", mb, c->cache, need);
		return BUILD_EXIT_DISK;
	}
	c->log_fd = open(c->logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (c->log_fd < 0)
		return error_errno("cannot open '%s'", c->logpath), EXIT_INFRA;

	if (!configured) {
		progress(1, "configuring Linux %s (%s: ARCH=%s %s + %d fragment%s) in %s", c->tree.version,
			 c->be->name, c->be->arch, c->be->defconfig, c->o->nfrags, c->o->nfrags == 1 ? "" : "s",
			 c->dir);
		if ((r = configure(c)) || (r = verify(c)))
			return r;
		if (write_stamp(marker, "configured\n") < 0)
			return EXIT_INFRA;
	}
	if (c->be->build_before && (r = c->be->build_before(c)))
		return r;
	snprintf(label, sizeof(label), "building Linux %s (%s%s%s)", c->tree.version, c->be->name,
		 c->o->variant && *c->o->variant ? ", " : "", c->o->variant ? c->o->variant : "");
	if ((r = build_ctx_make(c, c->be->binary_target, label)))
		return r;
	/* kbuild re-runs Kconfig when the tree's Kconfig files changed */
	if ((r = verify(c)))
		return r;
	if (c->be->build_after && (r = c->be->build_after(c))) {
		unlink(stamp_path);   /* not a good build: the next run builds and checks again */
		return r;
	}
	if (current_stamp(c, have, sizeof(have)) < 0 || write_stamp(stamp_path, have) < 0)
		return EXIT_INFRA;
	return 0;
}

int build_kernel(const struct build_opts *o, char *out, size_t out_size)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, 0 };
	struct build_ctx *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return error("out of memory"), EXIT_INFRA;
	c->o = o;
	c->be = o->backend ? o->backend : &backend_uml;
	c->log_fd = -1;
	/* an outer make's jobserver is not ours: its fds are closed for kbuild */
	unsetenv("MAKEFLAGS");
	unsetenv("MFLAGS");
	unsetenv("MAKELEVEL");
	unsetenv("KCONFIG_CONFIG");
	c->sfd = plat_signals_open(sigs);
	r = c->sfd < 0 ? EXIT_INFRA : do_build(c);
	if (r == 0 && fmt(out, out_size, "%s/%s", c->dir, c->be->binary) < 0)
		r = EXIT_INFRA;
	if (c->log_fd >= 0)
		close(c->log_fd);
	if (c->sfd >= 0)
		plat_signals_close(c->sfd);
	srctree_free(&c->tree);
	kreqs_free(&c->reqs);
	if (c->interrupted) {
		int sig = c->interrupted;

		free(c);
		signal(sig, SIG_DFL);
		raise(sig);
		return EXIT_INFRA;
	}
	free(c);
	return r;
}
