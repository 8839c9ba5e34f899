/* rundir.c - claim, keep and sweep instance dirs (see rundir.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "instance.h"
#include "platform.h"
#include "rundir.h"
#include "util.h"
#include "banned.h"

#define OWNER_FILE ".vkci-owner"
#define KEPT_FILE ".vkci-kept"
#define DOOMED_PREFIX ".vkci-doomed."
/* a dir younger than this without an owner file may be one mkdtemp just made */
#define GRACE_S 60
#define MAX_DIRS 4096

/* ---- the policy ---------------------------------------------------------- */

static long long parse_age(const char *s)
{
	char *end;
	long long v, mul = 1;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || v < 0)
		return -1;
	switch (*end) {
	case 's': end++; break;
	case 'm': mul = 60; end++; break;
	case 'h': mul = 3600; end++; break;
	case 'd': mul = 86400; end++; break;
	case '\0': break;
	default: return -1;
	}
	if (*end || v > (1LL << 40) / mul)
		return -1;
	return v * mul;
}

static int parse_items(const char *s, struct rundir_policy *p)
{
	char buf[256], *save = NULL, *item;

	if (fmt(buf, sizeof(buf), "%s", s) < 0)
		goto bad;
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		const char *v = eq ? eq + 1 : "";
		int inf = !strcmp(v, "inf");
		long long n;

		if (!eq)
			goto bad;
		*eq = '\0';
		if (!strcmp(item, "count"))
			n = inf ? RUNDIR_NO_LIMIT : parse_uint(v, 1000000);
		else if (!strcmp(item, "age"))
			n = inf ? RUNDIR_NO_LIMIT : parse_age(v);
		else if (!strcmp(item, "size"))
			n = inf ? RUNDIR_NO_LIMIT : parse_size(v);
		else
			goto bad;
		if (n < 0 && !inf)
			goto bad;
		*(item[0] == 'c' ? &p->count : item[0] == 'a' ? &p->age_s : &p->bytes) = n;
	}
	return 0;
bad:
	return error("bad keep policy '%.100s' in VKCI_KEEP_POLICY (give count=N,age=N[smhd],size=N[KMG], "
		     "each optional, 'inf' for no limit; default %s)", s, RUNDIR_DEFAULT_POLICY);
}

int rundir_policy_parse(const char *s, struct rundir_policy *p)
{
	if (parse_items(RUNDIR_DEFAULT_POLICY, p) < 0)
		return -1;
	return s && *s ? parse_items(s, p) : 0;
}

int rundir_policy_env(struct rundir_policy *p)
{
	return rundir_policy_parse(getenv("VKCI_KEEP_POLICY"), p);
}

void rundir_policy_describe(const struct rundir_policy *p, char *buf, size_t size)
{
	char c[32] = "any number of", a[32] = "any age", b[32] = "any size";

	if (p->count != RUNDIR_NO_LIMIT)
		fmt(c, sizeof(c), "at most %lld", p->count);
	if (p->age_s != RUNDIR_NO_LIMIT) {
		if (p->age_s % 86400 == 0)
			fmt(a, sizeof(a), "at most %lldd old", p->age_s / 86400);
		else if (p->age_s % 3600 == 0)
			fmt(a, sizeof(a), "at most %lldh old", p->age_s / 3600);
		else
			fmt(a, sizeof(a), "at most %llds old", p->age_s);
	}
	if (p->bytes != RUNDIR_NO_LIMIT) {
		if (p->bytes >= (1LL << 30) && p->bytes % (1LL << 30) == 0)
			fmt(b, sizeof(b), "at most %lldG in all", p->bytes >> 30);
		else if (p->bytes >= (1LL << 20) && p->bytes % (1LL << 20) == 0)
			fmt(b, sizeof(b), "at most %lldM in all", p->bytes >> 20);
		else
			fmt(b, sizeof(b), "at most %lld bytes in all", p->bytes);
	}
	fmt(buf, size, "%s dirs, %s, %s", c, a, b);
}

/* ---- owners -------------------------------------------------------------- */

int rundir_claim(const char *dir)
{
	return rundir_claim_for(dir, (long)getpid());
}

int rundir_claim_for(const char *dir, long pid)
{
	char path[PATH_MAX], text[256], boot[64];
	int zombie, fd;

	plat_boot_id(boot, sizeof(boot));
	if (fmt(path, sizeof(path), "%s/" OWNER_FILE, dir) < 0 ||
	    fmt(text, sizeof(text), "vkci-owner 1\npid %ld\nstart %llu\nboot %s\n", pid,
		plat_proc_start(pid, &zombie), boot) < 0)
		return error("instance dir path too long: '%s'", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || write_str(fd, text) < 0) {
		error_errno("cannot write '%s' (the sweep needs it to know the dir's owner)", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

enum owner { OWNER_NONE, OWNER_ALIVE, OWNER_GONE };

/* Whether the vkci named in DIRFD/.vkci-owner still runs. */
static enum owner owner_state(int dfd)
{
	char text[512], boot[64], theirs[64] = "";
	long pid = -1;
	unsigned long long start = 0, now;
	int fd = openat(dfd, OWNER_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), zombie;
	ssize_t n;
	char *line, *save = NULL;

	if (fd < 0)
		return OWNER_NONE;
	n = xread(fd, text, sizeof(text) - 1);
	close(fd);
	text[n > 0 ? n : 0] = '\0';
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "pid ", 4))
			pid = strtol(line + 4, NULL, 10);
		else if (!strncmp(line, "start ", 6))
			start = strtoull(line + 6, NULL, 10);
		else if (!strncmp(line, "boot ", 5))
			fmt(theirs, sizeof(theirs), "%s", line + 5);
	}
	if (pid <= 0)
		return OWNER_GONE;   /* unreadable or torn: its writer died at once */
	plat_boot_id(boot, sizeof(boot));
	if (strcmp(boot, theirs))
		return OWNER_GONE;   /* written before the last reboot */
	if (pid == (long)getpid())
		return OWNER_ALIVE;
	if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
		return OWNER_GONE;
	now = plat_proc_start(pid, &zombie);
	if (zombie)
		return OWNER_GONE;
	/* a different start time: the pid was reused by another process */
	if (start && now && now != start)
		return OWNER_GONE;
	return OWNER_ALIVE;
}

/* ---- the sweep ------------------------------------------------------------ */

struct entry {
	char name[NAME_MAX + 1];
	time_t when;          /* kept since (seconds) */
	long long when_ns;    /* the same in ns: the order of dirs kept in one second */
	long long bytes;
};

static long long du_total;

static int du_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)flag;
	(void)ftw;
	du_total += (long long)st->st_blocks * 512;
	return 0;
}

static long long disk_usage(const char *path)
{
	du_total = 0;
	nftw(path, du_one, 16, FTW_PHYS | FTW_MOUNT);
	return du_total;
}

/* mkdtemp's names: something, a dot, six characters */
static int instance_name(const char *name)
{
	const char *dot = strrchr(name, '.');

	return name[0] != '.' && dot && dot != name && strlen(dot + 1) == 6;
}

/* Rename, then remove: of two sweeps only one wins the rename. */
static int remove_dir(const char *run_dir, const char *name)
{
	char from[PATH_MAX], to[PATH_MAX];

	if (fmt(from, sizeof(from), "%s/%s", run_dir, name) < 0 ||
	    fmt(to, sizeof(to), "%s/" DOOMED_PREFIX "%ld.%s", run_dir, (long)getpid(), name) < 0)
		return -1;
	if (rename(from, to) < 0)
		return errno == ENOENT ? 1 : -1;   /* another sweep was faster */
	if (rm_rf(to) < 0) {
		warning("cannot remove '%s' (remove it by hand)", to);
		return -1;
	}
	return 0;
}

static int newest_first(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->when_ns != y->when_ns)
		return x->when_ns > y->when_ns ? -1 : 1;
	return strcmp(x->name, y->name);
}

int rundir_sweep(const char *run_dir, const struct rundir_policy *p, int dry_run,
		 struct rundir_stats *stats)
{
	struct rundir_stats st;
	struct entry *kept;
	size_t nkept = 0, i;
	time_t now = time(NULL);
	DIR *d;
	struct dirent *e;
	long long total = 0;

	memset(&st, 0, sizeof(st));
	if (!(d = opendir(run_dir)))
		return error_errno("cannot read run dir '%s' (set VKCI_RUNDIR)", run_dir);
	if (!(kept = calloc(MAX_DIRS, sizeof(*kept)))) {
		closedir(d);
		return error("out of memory");
	}
	while ((e = readdir(d))) {
		struct stat ds, ks;
		char path[PATH_MAX];
		int dfd;
		enum owner o;

		if (!strncmp(e->d_name, DOOMED_PREFIX, strlen(DOOMED_PREFIX))) {
			/* a sweep that died while removing: finish its work */
			if (!dry_run && fstatat(dirfd(d), e->d_name, &ds, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISDIR(ds.st_mode) && ds.st_uid == getuid() && now - ds.st_mtime > GRACE_S &&
			    fmt(path, sizeof(path), "%s/%s", run_dir, e->d_name) > 0)
				rm_rf(path);
			continue;
		}
		if (!instance_name(e->d_name) ||
		    fstatat(dirfd(d), e->d_name, &ds, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(ds.st_mode) || ds.st_uid != getuid())
			continue;
		dfd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0)
			continue;
		o = owner_state(dfd);
		if (fstatat(dfd, KEPT_FILE, &ks, AT_SYMLINK_NOFOLLOW) == 0) {
			ds.st_mtim = ks.st_mtim;       /* kept on purpose: since then */
		} else if (o == OWNER_ALIVE) {
			st.live++;
			close(dfd);
			continue;
		} else if (o == OWNER_GONE) {
			close(dfd);
			st.stale_removed++;
			if (!dry_run && remove_dir(run_dir, e->d_name) < 0)
				st.failed++;
			note("removed instance dir '%s/%s': its vkci is gone", run_dir, e->d_name);
			continue;
		} else {
			struct stat x;

			/* an older vkci's dir: only one that looks like an instance dir,
			 * and not one mkdtemp may have just made */
			if ((fstatat(dfd, "root.cow", &x, AT_SYMLINK_NOFOLLOW) < 0 &&
			     fstatat(dfd, "node0", &x, AT_SYMLINK_NOFOLLOW) < 0) ||
			    now - ds.st_mtime <= GRACE_S) {
				close(dfd);
				continue;
			}
		}
		close(dfd);
		if (nkept >= MAX_DIRS)
			continue;
		fmt(kept[nkept].name, sizeof(kept[nkept].name), "%s", e->d_name);
		kept[nkept].when = ds.st_mtime;
		kept[nkept].when_ns = (long long)ds.st_mtim.tv_sec * 1000000000LL + ds.st_mtim.tv_nsec;
		if (fmt(path, sizeof(path), "%s/%s", run_dir, e->d_name) > 0)
			kept[nkept].bytes = disk_usage(path);
		nkept++;
	}
	closedir(d);

	/* the newest kept dirs that fit every limit stay; from the first that
	 * does not, everything older goes */
	qsort(kept, nkept, sizeof(*kept), newest_first);
	for (i = 0; i < nkept; i++) {
		int over = (p->count != RUNDIR_NO_LIMIT && (long long)i >= p->count) ||
			   (p->age_s != RUNDIR_NO_LIMIT && now - kept[i].when > p->age_s) ||
			   (p->bytes != RUNDIR_NO_LIMIT && total + kept[i].bytes > p->bytes);

		if (!over) {
			total += kept[i].bytes;
			st.kept++;
			continue;
		}
		for (; i < nkept; i++) {
			st.policy_removed++;
			if (!dry_run && remove_dir(run_dir, kept[i].name) < 0)
				st.failed++;
			note("removed kept instance dir '%s/%s' (keep policy)", run_dir, kept[i].name);
		}
	}
	st.kept_bytes = total;
	free(kept);
	if (stats)
		*stats = st;
	return 0;
}

int rundir_keep(const char *run_dir, const char *dir)
{
	struct rundir_policy p;
	char path[PATH_MAX];
	int fd;

	if (fmt(path, sizeof(path), "%s/" KEPT_FILE, dir) < 0)
		return error("instance dir path too long: '%s'", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return error_errno("cannot mark '%s' kept", dir);
	close(fd);
	if (rundir_policy_env(&p) < 0)
		return -1;
	return rundir_sweep(run_dir, &p, 0, NULL);
}

int rundir_sweep_env(const char *run_dir)
{
	struct rundir_policy p;

	if (rundir_policy_env(&p) < 0)
		return -1;
	rundir_sweep(run_dir, &p, 0, NULL);
	return 0;
}

/* ---- vkci rundir ------------------------------------------------------------ */

static void rundir_usage(void)
{
	write_str(2, "usage: vkci rundir [-r DIR] [-n] | vkci rundir --claim DIR\n"
		  "  print the run dir, its keep policy (VKCI_KEEP_POLICY, default " RUNDIR_DEFAULT_POLICY ")\n"
		  "  and its state, after a sweep: dirs of dead vkci processes removed, kept\n"
		  "  dirs over the policy removed\n"
		  "  -r, --run-dir DIR   the run dir (VKCI_RUNDIR)\n"
		  "  -n, --dry-run       remove nothing, say what a sweep would remove\n"
		  "  --claim DIR         mark DIR (a dir in the run dir, named like an instance dir)\n"
		  "                      as owned by the caller (vkci's parent process): a sweep\n"
		  "                      removes it once the caller is gone (console scenarios)\n");
}

int cmd_rundir(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "run-dir", required_argument, NULL, 'r' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "claim", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *run_dir = getenv("VKCI_RUNDIR");
	char rdir[PATH_MAX], desc[160], line[PATH_MAX + 512];
	struct rundir_policy p;
	struct rundir_stats st;
	int c, dry = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+r:nc:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (optind < argc) {
				rundir_usage();
				return EXIT_USAGE;
			}
			if (rundir_claim_for(optarg, (long)getppid()) < 0)
				return EXIT_USAGE;
			return EXIT_PASS;
		case 'r': run_dir = optarg; break;
		case 'n': dry = 1; break;
		case 'h': rundir_usage(); return EXIT_PASS;
		default: rundir_usage(); return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		rundir_usage();
		return EXIT_USAGE;
	}
	if (rundir_policy_env(&p) < 0)
		return EXIT_USAGE;
	if (instance_run_dir(run_dir, rdir, sizeof(rdir)) < 0)
		return EXIT_INFRA;
	if (rundir_sweep(rdir, &p, dry, &st) < 0)
		return EXIT_INFRA;
	rundir_policy_describe(&p, desc, sizeof(desc));
	fmt(line, sizeof(line),
	    "run dir: %s\nkeep policy: %s (VKCI_KEEP_POLICY=%s)\n"
	    "running: %d, kept: %d (%lld KiB), %s %d of dead vkci processes, %d over the policy\n",
	    rdir, desc, getenv("VKCI_KEEP_POLICY") && *getenv("VKCI_KEEP_POLICY") ?
	    getenv("VKCI_KEEP_POLICY") : RUNDIR_DEFAULT_POLICY, st.live, st.kept,
	    st.kept_bytes >> 10, dry ? "would remove" : "removed", st.stale_removed,
	    st.policy_removed);
	write_str(1, line);
	return st.failed ? EXIT_INFRA : EXIT_PASS;
}
