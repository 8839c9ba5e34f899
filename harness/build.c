/* build.c - `vkci build`: configure and build a UML vkernel out of tree,
 * cached by what went into it (see build.h for the cache layout). */
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
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "build.h"
#include "diag.h"
#include "proc.h"
#include "util.h"
#include "banned.h"

#define RECIPE_VERSION "vkci-build-1"
#define MAX_REQ 4096
#define SYM_MAX 128
#define VAL_MAX 256
#define PATH_SZ 4096
/* free space a build needs in the cache: a cold UML defconfig build takes
 * ~0.6 GiB here; leave room for debug info and a coverage variant */
#define COLD_NEED_MB 3072
#define WARM_NEED_MB 512

struct req {
	char sym[SYM_MAX];   /* without CONFIG_ */
	char val[VAL_MAX];   /* "n" for "is not set" */
	const char *frag;
	int line;
};

struct ctx {
	const struct build_opts *o;
	char src[PATH_SZ], cache[PATH_SZ], dir[PATH_SZ], lock[PATH_SZ];
	char version[64], cc[PATH_SZ], make[PATH_SZ], ccver[256];
	char name[256];
	struct req *reqs;
	int nreq;
	char fragabs[BUILD_MAX_FRAGS][PATH_SZ];  /* absolute fragment paths */
	char **kconfigs;     /* Kconfig files of the tree, relative paths */
	size_t nkconfig, kconfig_alloc;
	uint64_t tree_fp;
	unsigned long tree_files;
	int coverage;        /* variant "coverage": gcov fix-ups, CC with -L */
	char cc_arg[PATH_SZ + 64]; /* "CC=gcc -L<dir>/vkci-gcov" for coverage builds */
	long long deadline;  /* run(): SIGKILL the child's group after this (now_ms), 0: none */
	const char *const *run_env; /* run(): extra environment of the child, or NULL */
	int log_fd;
	int sfd;             /* signalfd for SIGINT/SIGTERM/SIGHUP */
	int interrupted;
};

/* ---- pure helpers ---------------------------------------------------------- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--) {
		h ^= *b++;
		h *= 0x100000001b3ULL;
	}
	return h;
}
#define FNV0 0xcbf29ce484222325ULL

static int valid_sym(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n >= SYM_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!isupper((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '_' &&
		    !islower((unsigned char)s[i]))
			return 0;
	return 1;
}

static int valid_val(const char *v)
{
	size_t n = strlen(v), i;

	if (!strcmp(v, "y") || !strcmp(v, "n") || !strcmp(v, "m"))
		return 1;
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		for (i = 1; i + 1 < n; i++)
			if (v[i] == '"' && v[i - 1] != '\\')
				return 0;
		return 1;
	}
	if (n > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
		for (i = 2; i < n; i++)
			if (!isxdigit((unsigned char)v[i]))
				return 0;
		return 1;
	}
	i = v[0] == '-' ? 1 : 0;
	if (i == n)
		return 0;
	for (; i < n; i++)
		if (!isdigit((unsigned char)v[i]))
			return 0;
	return 1;
}

int build_parse_frag_line(const char *line, char *sym, size_t sym_size, char *val, size_t val_size)
{
	const char *p = line, *eq, *end;
	size_t n;

	while (*p == ' ' || *p == '\t')
		p++;
	end = p + strlen(p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		end--;
	if (p == end)
		return 0;
	if (*p == '#') {
		/* "# CONFIG_X is not set" means n; any other comment is a comment */
		const char *s = p + 1, *tail = " is not set";
		size_t tl = strlen(tail);

		while (*s == ' ')
			s++;
		if (strncmp(s, "CONFIG_", 7) || (size_t)(end - s) <= 7 + tl ||
		    memcmp(end - tl, tail, tl))
			return 0;
		s += 7;
		n = (size_t)(end - tl - s);
		if (!valid_sym(s, n) || n >= sym_size || val_size < 2)
			return -1;
		memcpy(sym, s, n);
		sym[n] = '\0';
		memcpy(val, "n", 2);
		return 1;
	}
	if (strncmp(p, "CONFIG_", 7))
		return -1;
	p += 7;
	eq = memchr(p, '=', (size_t)(end - p));
	if (!eq || !valid_sym(p, (size_t)(eq - p)) || (size_t)(eq - p) >= sym_size)
		return -1;
	memcpy(sym, p, (size_t)(eq - p));
	sym[eq - p] = '\0';
	n = (size_t)(end - eq - 1);
	if (n == 0 || n >= val_size)
		return -1;
	memcpy(val, eq + 1, n);
	val[n] = '\0';
	return valid_val(val) ? 1 : -1;
}

/* ---- running kbuild and friends ------------------------------------------------ */

static int path_exists(const char *p)
{
	struct stat st;

	return lstat(p, &st) == 0;
}

/* Run argv with output into the build log (and into cap, when given);
 * counts kbuild step lines for the progress display when label is set.
 * Returns the wait status, or -1 if it could not run or was interrupted. */
static int run(struct ctx *c, const char *const *argv, const char *label,
	       char *cap, size_t cap_size)
{
	struct child ch = { .argv = argv, .env = c->run_env };
	int pfd[2], status = -1, done = 0, killed = 0;
	long long start = now_ms();
	unsigned long steps = 0;
	char buf[8192], line[200] = "", cur[200] = "";
	size_t cap_len = 0, llen = 0;

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
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return error_errno("cannot create pipe");
	ch.out_fd = pfd[1];
	if (proc_spawn(&ch) < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	close(pfd[1]);
	while (!done) {
		struct pollfd p[2] = { { .fd = pfd[0], .events = POLLIN }, { .fd = c->sfd, .events = POLLIN } };
		int n = poll(p, c->sfd >= 0 ? 2 : 1, label || c->deadline ? 1000 : -1);

		if (n < 0 && errno != EINTR)
			break;
		if (c->deadline && !killed && now_ms() > c->deadline) {
			proc_kill_group(ch.pid, SIGKILL);
			killed = 1;
		}
		if (c->sfd >= 0 && (p[1].revents & POLLIN)) {
			struct signalfd_siginfo si;

			if (xread(c->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				c->interrupted = (int)si.ssi_signo;
				proc_kill_group(ch.pid, SIGTERM);
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP)) {
			ssize_t r = xread(pfd[0], buf, sizeof(buf));
			ssize_t i;

			if (r <= 0) {
				done = 1;
				break;
			}
			if (c->log_fd >= 0)
				write_all(c->log_fd, buf, (size_t)r);
			if (cap && cap_len + 1 < cap_size) {
				size_t k = (size_t)r < cap_size - 1 - cap_len ? (size_t)r : cap_size - 1 - cap_len;

				memcpy(cap + cap_len, buf, k);
				cap_len += k;
				cap[cap_len] = '\0';
			}
			for (i = 0; i < r; i++) {
				if (buf[i] != '\n') {
					if (llen + 1 < sizeof(line))
						line[llen++] = buf[i];
					continue;
				}
				line[llen] = '\0';
				/* kbuild's quiet lines: "  CC      mm/mmap.o" */
				if (llen > 3 && line[0] == ' ' && line[1] == ' ' && isupper((unsigned char)line[2])) {
					const char *s = line;

					steps++;
					while (*s == ' ')
						s++;
					snprintf(cur, sizeof(cur), "%s", s);
				}
				llen = 0;
			}
		}
		if (label) {
			long long t = (now_ms() - start) / 1000;

			progress(0, "%s: %lu steps, %lldm%02llds  %s", label, steps, t / 60, t % 60, cur);
		}
	}
	close(pfd[0]);
	while (waitpid(ch.pid, &status, 0) < 0)
		if (errno != EINTR) {
			status = -1;
			break;
		}
	if (label) {
		long long t = (now_ms() - start) / 1000;

		progress(1, "%s: %lu steps, %lldm%02llds%s", label, steps, t / 60, t % 60,
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

/* ---- the source tree ----------------------------------------------------------- */

static int kernel_version(struct ctx *c)
{
	char path[PATH_SZ], *data, *line, *save = NULL;
	char v[4][32] = { "", "", "", "" };
	static const char *const keys[] = { "VERSION", "PATCHLEVEL", "SUBLEVEL", "EXTRAVERSION" };
	size_t len;
	int i, nlines = 0;

	if (fmt(path, sizeof(path), "%s/Makefile", c->src) < 0 || !(data = read_file(path, 1 << 20, &len)))
		return -1;
	for (line = strtok_r(data, "\n", &save); line && nlines < 20; line = strtok_r(NULL, "\n", &save), nlines++)
		for (i = 0; i < 4; i++) {
			size_t k = strlen(keys[i]);
			const char *p = line + k;

			if (strncmp(line, keys[i], k) || (*p != ' ' && *p != '='))
				continue;
			while (*p == ' ')
				p++;
			if (*p++ != '=')
				continue;
			while (*p == ' ')
				p++;
			snprintf(v[i], sizeof(v[i]), "%s", p);
		}
	free(data);
	if (!v[0][0] || !v[1][0])
		return -1;
	snprintf(c->version, sizeof(c->version), "%s.%s%s%s%s", v[0], v[1], v[2][0] ? "." : "", v[2], v[3]);
	return 0;
}

static int check_tree(struct ctx *c)
{
	static const char *const unclean[] = { ".config", "include/config", "arch/um/include/generated" };
	char p[PATH_SZ];
	struct stat st;
	size_t i;

	if (stat(c->o->src, &st) < 0 || !S_ISDIR(st.st_mode) || abspath(c->o->src, c->src, sizeof(c->src)) < 0) {
		error("kernel source '%s' is not a directory (set KERNEL=<Linux source tree or vkernel binary>)",
		      c->o->src);
		return EXIT_USAGE;
	}
	if (strpbrk(c->src, " :\t\n")) {
		error("kernel source path '%s' contains a blank or colon, which kbuild cannot handle "
		      "(move or symlink the tree)", c->src);
		return EXIT_USAGE;
	}
	if (fmt(p, sizeof(p), "%s/scripts/kconfig/merge_config.sh", c->src) < 0 || !path_exists(p) ||
	    kernel_version(c) < 0) {
		error("'%s' is not a Linux source tree (no Makefile with VERSION or no "
		      "scripts/kconfig/merge_config.sh): set KERNEL=<Linux source tree>", c->src);
		return EXIT_USAGE;
	}
	if (fmt(p, sizeof(p), "%s/arch/um/Kconfig", c->src) < 0 || !path_exists(p)) {
		error("Linux source tree '%s' has no arch/um: User-Mode Linux cannot be built from it "
		      "(use a mainline tree)", c->src);
		return EXIT_USAGE;
	}
	for (i = 0; i < ARRAY_SIZE(unclean); i++)
		if (fmt(p, sizeof(p), "%s/%s", c->src, unclean[i]) > 0 && path_exists(p)) {
			error("Linux source tree '%s' is not clean (it has %s from an in-tree build) and vkci "
			      "builds out of tree: run 'make -C %s ARCH=um mrproper' or use a clean copy",
			      c->src, unclean[i], c->src);
			return BUILD_EXIT_UNCLEAN;
		}
	return 0;
}

static int add_kconfig(struct ctx *c, const char *rel)
{
	if (c->nkconfig == c->kconfig_alloc) {
		size_t na = c->kconfig_alloc ? c->kconfig_alloc * 2 : 256;
		char **n = realloc(c->kconfigs, na * sizeof(*n));

		if (!n)
			return -1;
		c->kconfigs = n;
		c->kconfig_alloc = na;
	}
	if (!(c->kconfigs[c->nkconfig] = strdup(rel)))
		return -1;
	c->nkconfig++;
	return 0;
}

/* Fingerprint of the tree's state: every entry's path, size, mtime, inode
 * and mode, combined order-independently. Skips .git (its churn does not
 * change the sources). Collects Kconfig file names on the way. */
static int walk(struct ctx *c, int dfd, char *rel, size_t rlen, size_t rsize, int depth)
{
	DIR *d;
	struct dirent *e;

	if (depth > 64 || !(d = fdopendir(dfd))) {
		close(dfd);
		return -1;
	}
	while ((e = readdir(d))) {
		struct stat st;
		uint64_t h;
		size_t nl = strlen(e->d_name);

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (depth == 0 && !strcmp(e->d_name, ".git"))
			continue;
		if (rlen + nl + 2 >= rsize || fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (rlen)
			rel[rlen] = '/';
		memcpy(rel + rlen + (rlen ? 1 : 0), e->d_name, nl + 1);
		h = fnv(FNV0, rel, rlen + nl + 1);
		h = fnv(h, &st.st_mtim, sizeof(st.st_mtim));
		h = fnv(h, &st.st_size, sizeof(st.st_size));
		h = fnv(h, &st.st_ino, sizeof(st.st_ino));
		h = fnv(h, &st.st_mode, sizeof(st.st_mode));
		c->tree_fp += h * 0x9e3779b97f4a7c15ULL;
		c->tree_files++;
		if (S_ISDIR(st.st_mode)) {
			int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

			if (fd >= 0)
				walk(c, fd, rel, rlen + nl + (rlen ? 1 : 0), rsize, depth + 1);
		} else if (S_ISREG(st.st_mode) && !strncmp(e->d_name, "Kconfig", 7)) {
			add_kconfig(c, rel);
		}
		rel[rlen] = '\0';
	}
	closedir(d);
	return 0;
}

static int fingerprint_tree(struct ctx *c)
{
	char rel[PATH_SZ] = "";
	int fd = open(c->src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return error_errno("cannot read kernel source '%s'", c->src);
	c->tree_fp = 0;
	c->tree_files = 0;
	return walk(c, fd, rel, 0, sizeof(rel), 0);
}

/* ---- fragments and Kconfig -------------------------------------------------------- */

static int load_fragments(struct ctx *c, uint64_t *key)
{
	int f;

	c->reqs = calloc(MAX_REQ, sizeof(*c->reqs));
	if (!c->reqs)
		return error("out of memory"), EXIT_INFRA;
	for (f = 0; f < c->o->nfrags; f++) {
		const char *name = c->o->frags[f];
		char *data, *line, *next;
		size_t len;
		int lineno = 0;

		if (access(name, R_OK) < 0 || !(data = read_file(name, 1 << 20, &len))) {
			error("cannot read kernel config fragment '%s' (check KCONFIG=)", name);
			return BUILD_EXIT_CONFIG;
		}
		/* the key covers what a fragment says, not where it lives */
		*key = fnv(*key, data, len + 1);
		if (abspath(name, c->fragabs[f], sizeof(c->fragabs[f])) < 0) {
			free(data);
			return error("cannot resolve '%s'", name), EXIT_INFRA;
		}
		for (line = data; line && *line; line = next) {
			struct req r = { .frag = name };
			int k, i;

			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			lineno++;
			k = build_parse_frag_line(line, r.sym, sizeof(r.sym), r.val, sizeof(r.val));
			if (k < 0) {
				error("kernel config fragment '%s' line %d: '%.80s' is not CONFIG_NAME=value "
				      "(y, n, m, a number or a \"string\") or '# CONFIG_NAME is not set'",
				      name, lineno, line);
				free(data);
				return BUILD_EXIT_CONFIG;
			}
			if (k == 0)
				continue;
			r.line = lineno;
			for (i = 0; i < c->nreq; i++)   /* a later fragment wins */
				if (!strcmp(c->reqs[i].sym, r.sym))
					break;
			if (i == MAX_REQ) {
				error("too many options in the kernel config fragments (at most %d)", MAX_REQ);
				free(data);
				return BUILD_EXIT_CONFIG;
			}
			c->reqs[i] = r;
			if (i == c->nreq)
				c->nreq++;
		}
		free(data);
	}
	return 0;
}

/* The symbol a Kconfig line defines ("config X" or "menuconfig X", any
 * indentation, a trailing comment allowed), cut out in place; NULL for any
 * other line. */
static char *kconfig_defines(char *line)
{
	char *s = line, *e;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!strncmp(s, "config ", 7))
		s += 7;
	else if (!strncmp(s, "menuconfig ", 11))
		s += 11;
	else
		return NULL;
	while (*s == ' ' || *s == '\t')
		s++;
	for (e = s; *e && *e != ' ' && *e != '\t' && *e != '#'; e++)
		;
	*e = '\0';
	return *s ? s : NULL;
}

/* Where Kconfig defines sym: "config SYM" / "menuconfig SYM". Fills file and
 * line and, when deps is given, the entry's "depends on" lines. */
static int kconfig_find(struct ctx *c, const char *sym, char *where, size_t wsize, char *deps, size_t dsize)
{
	size_t i;

	for (i = 0; i < c->nkconfig; i++) {
		char path[PATH_SZ], *data, *p, *line;
		size_t len;
		int lineno = 0, found = 0;

		if (fmt(path, sizeof(path), "%s/%s", c->src, c->kconfigs[i]) < 0 ||
		    !(data = read_file(path, 8 << 20, &len)))
			continue;
		for (line = data; line && *line && found < 2; line = p) {
			const char *s = line;
			char *d;

			p = strchr(line, '\n');
			if (p)
				*p++ = '\0';
			lineno++;
			while (*s == ' ' || *s == '\t')
				s++;
			if (found == 1) {
				/* the entry ends at the next config/menu/if/endif/choice */
				if (!strncmp(s, "config ", 7) || !strncmp(s, "menuconfig ", 11) ||
				    !strncmp(s, "menu", 4) || !strncmp(s, "endmenu", 7) || !strncmp(s, "if ", 3) ||
				    !strncmp(s, "endif", 5) || !strncmp(s, "choice", 6) || !strncmp(s, "source", 6)) {
					found = 2;
					break;
				}
				if (deps && !strncmp(s, "depends on ", 11)) {
					size_t dl = strlen(deps);

					snprintf(deps + dl, dsize - dl, "%s%s", dl ? " && " : "", s + 11);
				}
				continue;
			}
			if (!(d = kconfig_defines(line)) || strcmp(d, sym))
				continue;
			snprintf(where, wsize, "%s:%d", c->kconfigs[i], lineno);
			found = 1;
			if (!deps)
				break;
		}
		free(data);
		if (found)
			return 0;
	}
	return -1;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every requested symbol is defined by some Kconfig file of the tree. The
 * tree's Kconfig files are read once into a sorted list of names (~1,700
 * files, ~20,000 symbols). */
static int check_symbols(struct ctx *c)
{
	char **names = NULL;
	size_t n = 0, alloc = 0, i;
	int r, bad = 0;

	if (!c->nreq)
		return 0;
	for (i = 0; i < c->nkconfig; i++) {
		char path[PATH_SZ], *data, *line, *next, *sym;
		size_t len;

		if (fmt(path, sizeof(path), "%s/%s", c->src, c->kconfigs[i]) < 0 ||
		    !(data = read_file(path, 8 << 20, &len)))
			continue;
		for (line = data; line && *line; line = next) {
			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			if (!(sym = kconfig_defines(line)))
				continue;
			if (n == alloc) {
				char **m = realloc(names, (alloc = alloc ? alloc * 2 : 4096) * sizeof(*m));

				if (!m)
					break;
				names = m;
			}
			if (!(names[n] = strdup(sym)))
				break;
			n++;
		}
		free(data);
	}
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	for (r = 0; r < c->nreq; r++) {
		const char *key = c->reqs[r].sym;

		if (n && bsearch(&key, names, n, sizeof(*names), name_cmp))
			continue;
		error("kernel config fragment '%s' line %d: unknown symbol CONFIG_%s (no Kconfig in '%s' "
		      "defines it: a typo, or an option of another kernel version?)",
		      c->reqs[r].frag, c->reqs[r].line, c->reqs[r].sym, c->src);
		bad++;
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return bad ? BUILD_EXIT_CONFIG : 0;
}

/* Every requested option has its value in DIR/.config; names each that did not. */
static int verify_config(struct ctx *c)
{
	char path[PATH_SZ], *cfg;
	size_t len;
	int i, bad = 0;

	if (fmt(path, sizeof(path), "%s/.config", c->dir) < 0 || !(cfg = read_file(path, 64 << 20, &len)))
		return EXIT_INFRA;
	for (i = 0; i < c->nreq; i++) {
		const struct req *r = &c->reqs[i];
		char got[VAL_MAX], where[PATH_SZ] = "", deps[1024] = "";

		kconfig_value(cfg, r->sym, got, sizeof(got));
		if (!strcmp(got, r->val) || (!strcmp(r->val, "n") && !got[0]))
			continue;
		if (!strcmp(r->val, "m") && !strcmp(got, "y"))
			continue;   /* asked for a module, got it built in: as good on UML */
		bad++;
		kconfig_find(c, r->sym, where, sizeof(where), deps, sizeof(deps));
		error("kernel option CONFIG_%s=%s (%s line %d) did not take: the final .config has %s%s%s%s%s",
		      r->sym, r->val, r->frag, r->line, got[0] ? got : "it unset",
		      where[0] ? "; defined at " : "", where, deps[0] ? ", depends on " : "", deps);
	}
	free(cfg);
	return bad ? BUILD_EXIT_CONFIG : 0;
}

/* argv of a kbuild run: make -C SRC O=DIR ARCH=um [CC=...] [extra] target */
static void make_argv(struct ctx *c, const char **a, char *o_arg, const char *extra, const char *target)
{
	int n = 0;

	a[n++] = c->make;
	a[n++] = "-C";
	a[n++] = c->src;
	a[n++] = o_arg;
	a[n++] = "ARCH=um";
	if (c->coverage)
		a[n++] = c->cc_arg;
	if (extra)
		a[n++] = extra;
	a[n++] = target;
	a[n] = NULL;
}

static int configure(struct ctx *c)
{
	char o_arg[PATH_SZ + 8], cfgpath[PATH_SZ], merge[PATH_SZ];
	const char *argv[BUILD_MAX_FRAGS + 16];
	int n = 0, i, st;

	if (fmt(o_arg, sizeof(o_arg), "O=%s", c->dir) < 0 || fmt(cfgpath, sizeof(cfgpath), "%s/.config", c->dir) < 0 ||
	    fmt(merge, sizeof(merge), "%s/scripts/kconfig/merge_config.sh", c->src) < 0)
		return error("path too long: '%s'", c->dir), EXIT_USAGE;
	{
		const char *a[12];

		make_argv(c, a, o_arg, NULL, "defconfig");
		if (!ok_status(st = run(c, a, NULL, NULL, 0)))
			return -1;
	}
	if (c->o->nfrags) {
		char sh[PATH_SZ];

		if (find_in_path("sh", sh, sizeof(sh)) < 0)
			return error("no 'sh' in PATH"), BUILD_EXIT_TOOLS;
		argv[n++] = sh;
		argv[n++] = merge;
		argv[n++] = "-m";
		argv[n++] = "-O";
		argv[n++] = c->dir;
		argv[n++] = cfgpath;
		for (i = 0; i < c->o->nfrags; i++)
			argv[n++] = c->fragabs[i];
		argv[n] = NULL;
		/* merge_config.sh makes its temporary files in the working directory */
		if (chdir(c->dir) < 0)
			return error_errno("cannot enter '%s'", c->dir), EXIT_INFRA;
		st = run(c, argv, NULL, NULL, 0);
		if (!ok_status(st))
			return -1;
		{
			const char *a[12];

			make_argv(c, a, o_arg, NULL, "olddefconfig");
			if (!ok_status(run(c, a, NULL, NULL, 0)))
				return -1;
		}
	}
	return 0;
}

/* ---- coverage builds (CONFIG_GCOV, UML's own gcc coverage) ---------------------
 * Two fix-ups, both inside the build dir (shared/DESIGN.md):
 *  1. libgcov.a's mangle_path clashes with fs/seq_file.c's: a private copy
 *     with the symbol renamed, found first through CC="gcc -L<dir>";
 *  2. gcc 12 puts the gcov destructors in .fini_array.NNNNN sections, which
 *     the generated vmlinux.lds files under EXIT_DATA: its first .fini_array
 *     block must take them too, or no .gcda is ever written. */

static int coverage_libgcov(struct ctx *c)
{
	char lib[PATH_SZ] = "", dir[PATH_SZ], dst[PATH_SZ], objcopy[PATH_SZ], *nl;
	const char *a[] = { c->cc, "-print-file-name=libgcov.a", NULL };

	if (fmt(dir, sizeof(dir), "%s/vkci-gcov", c->dir) < 0 || fmt(dst, sizeof(dst), "%s/libgcov.a", dir) < 0)
		return error("path too long: '%s'", c->dir), EXIT_INFRA;
	if (path_exists(dst))
		return 0;
	if (find_in_path("objcopy", objcopy, sizeof(objcopy)) < 0)
		return error("'objcopy' not found, a coverage build needs it (apt-get install binutils)"),
		       BUILD_EXIT_TOOLS;
	if (!ok_status(run(c, a, NULL, lib, sizeof(lib))))
		return error("'%s -print-file-name=libgcov.a' failed", c->cc), BUILD_EXIT_TOOLS;
	if ((nl = strchr(lib, '\n')))
		*nl = '\0';
	if (lib[0] != '/' || !path_exists(lib))
		return error("compiler '%s' has no libgcov.a (a coverage build needs gcc's libgcov)", c->cc),
		       BUILD_EXIT_TOOLS;
	if (mkdir_p(dir, 0755) < 0)
		return error_errno("cannot create '%s'", dir), EXIT_INFRA;
	{
		char tmp[PATH_SZ];
		const char *b[] = { objcopy, "--redefine-sym", "mangle_path=vkci_gcov_mangle_path", lib, tmp, NULL };

		if (fmt(tmp, sizeof(tmp), "%s.tmp", dst) < 0 || !ok_status(run(c, b, NULL, NULL, 0)) ||
		    rename(tmp, dst) < 0)
			return error("cannot make the private libgcov.a in '%s' (see '%s/build.log')", dir, c->dir),
			       EXIT_INFRA;
	}
	return 0;
}

/* Make vmlinux.lds's first .fini_array block take .fini_array.* too.
 * Returns 1 if patched now, 0 if it already was, -1 on error. */
static int coverage_patch_lds(struct ctx *c)
{
	static const char want[] = "*(SORT(.fini_array.*)) *(.fini_array) __fini_array_end";
	char path[PATH_SZ], *data, *p, *q, *out;
	size_t len, n;
	int fd, ok_write;

	if (fmt(path, sizeof(path), "%s/arch/um/kernel/vmlinux.lds", c->dir) < 0 ||
	    !(data = read_file(path, 16 << 20, &len)))
		return -1;
	if (strstr(data, want)) {
		free(data);
		return 0;
	}
	/* "__fini_array_start = .; *(.fini_array) __fini_array_end" in some spacing */
	p = strstr(data, "__fini_array_start");
	q = p ? strstr(p, "*(.fini_array)") : NULL;
	if (!q || !(p = strstr(q, "__fini_array_end"))) {
		free(data);
		return error("cannot find the .fini_array block in '%s': this kernel's linker script "
			     "changed, coverage would not be written", path);
	}
	n = (size_t)(q - data);
	out = malloc(len + sizeof(want) + 1);
	if (!out) {
		free(data);
		return -1;
	}
	memcpy(out, data, n);
	memcpy(out + n, want, sizeof(want) - 1);
	n += sizeof(want) - 1;
	p += strlen("__fini_array_end");
	memcpy(out + n, p, len - (size_t)(p - data));
	n += len - (size_t)(p - data);
	free(data);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ok_write = fd >= 0 && write_all(fd, out, n) == 0;
	if (fd >= 0)
		close(fd);
	free(out);
	return ok_write ? 1 : error_errno("cannot write '%s'", path);
}

/* After a coverage build: boot the new vkernel once and check that it writes
 * .gcda files at power-off, where vkci exec's GCOV_PREFIX/GCOV_PREFIX_STRIP
 * will find them (init/main.gcda under the prefix). The boot needs no image:
 * its root is a hostfs dir holding a copy of the static busybox as
 * /poweroff, run as init with -f, which powers off at once (~0.7 s). A
 * panicking vkernel writes .gcda through another path, so only a clean
 * power-off counts. Returns 0, or an exit status after reporting. */
static int coverage_check(struct ctx *c)
{
	char bb[PATH_SZ], tmpl[PATH_SZ], root[PATH_SZ + 8], init[PATH_SZ + 16], gcov[PATH_SZ + 8];
	char want[PATH_SZ + 32], env0[PATH_SZ + 32], env1[64], rootflags[PATH_SZ + 16];
	char umldir[PATH_SZ + 16], bin[PATH_SZ], real[PATH_SZ], out[4096] = "", *data = NULL;
	const char *env[3] = { env0, env1, NULL };
	const char *p;
	size_t len;
	int strip = 0, st, fd, r = BUILD_EXIT_NOCOV;

	if (find_in_path("busybox", bb, sizeof(bb)) < 0)
		return error("'busybox' not found, checking a coverage build needs it "
			     "(apt-get install busybox-static)"), BUILD_EXIT_TOOLS;
	if (abspath(c->dir, real, sizeof(real)) < 0 || fmt(tmpl, sizeof(tmpl), "%s/vkci-check.XXXXXX", real) < 0 ||
	    fmt(bin, sizeof(bin), "%s/linux", real) < 0 || strpbrk(real, ", \t\n\""))
		return error("cannot check the coverage build in '%s': path too long or has a comma or "
			     "blank (set VKCI_CACHE=<plain path>)", c->dir), EXIT_INFRA;
	for (p = real; *p; p++)
		strip += *p == '/';
	if (!mkdtemp(tmpl))
		return error_errno("cannot create a check dir in '%s'", real), EXIT_INFRA;
	if (fmt(root, sizeof(root), "%s/root", tmpl) < 0 || fmt(init, sizeof(init), "%s/poweroff", root) < 0 ||
	    fmt(gcov, sizeof(gcov), "%s/gcov", tmpl) < 0 || fmt(umldir, sizeof(umldir), "uml_dir=%s", tmpl) < 0 ||
	    fmt(rootflags, sizeof(rootflags), "rootflags=%s", root) < 0 ||
	    fmt(want, sizeof(want), "%s/init/main.gcda", gcov) < 0 ||
	    fmt(env0, sizeof(env0), "GCOV_PREFIX=%s", gcov) < 0 ||
	    fmt(env1, sizeof(env1), "GCOV_PREFIX_STRIP=%d", strip) < 0 || mkdir(root, 0755) < 0 ||
	    !(data = read_file(bb, 64 << 20, &len)) ||
	    (fd = open(init, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755)) < 0) {
		error_errno("cannot prepare the coverage check in '%s'", tmpl);
		r = EXIT_INFRA;
		goto out;
	}
	st = write_all(fd, data, len);
	if (close(fd) < 0 || st < 0) {
		error_errno("cannot write '%s'", init);
		r = EXIT_INFRA;
		goto out;
	}
	{
		const char *a[] = { bin, "mem=64M", "root=/dev/root", "rootfstype=hostfs", rootflags, "ro",
				    "init=/poweroff", "con=null", "con0=null,fd:1", "ssl=null", "umid=vkci-check",
				    umldir, "quiet", "--", "-f", NULL };

		progress(1, "checking that the coverage vkernel writes .gcda files at power-off");
		c->run_env = env;
		c->deadline = now_ms() + 60000;
		st = run(c, a, NULL, out, sizeof(out));
		c->run_env = NULL;
		c->deadline = 0;
	}
	if (c->interrupted) {
		r = EXIT_INFRA;
		goto out;
	}
	if (!ok_status(st)) {
		error("the coverage vkernel '%s' did not power off cleanly (%s %d) in its check boot; "
		      "its output is in '%s/build.log'", bin, st >= 0 && WIFSIGNALED(st) ? "signal" : "status",
		      st < 0 ? -1 : WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), c->dir);
		goto out;
	}
	if (!path_exists(want)) {
		error("the coverage vkernel '%s' wrote no .gcda files at power-off (no '%s'): its gcov "
		      "destructors did not run; check the .fini_array fix-up of '%s/arch/um/kernel/vmlinux.lds' "
		      "against this compiler", bin, want + strlen(tmpl) + 1, c->dir);
		goto out;
	}
	r = 0;
out:
	free(data);
	rm_rf(tmpl);
	return r;
}

/* ---- the cache ------------------------------------------------------------------ */

static int cache_root(struct ctx *c)
{
	const char *v = c->o->cache, *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int r;

	if (v && *v)
		r = fmt(c->cache, sizeof(c->cache), "%s", v);
	else if ((v = getenv("VKCI_CACHE")) && *v)
		r = fmt(c->cache, sizeof(c->cache), "%s", v);
	else if (x && *x == '/')
		r = fmt(c->cache, sizeof(c->cache), "%s/vkci", x);
	else if (home && *home == '/')
		r = fmt(c->cache, sizeof(c->cache), "%s/.cache/vkci", home);
	else
		return error("no cache directory: set VKCI_CACHE=<dir> (or HOME)");
	return r < 0 ? error("cache path too long") : 0;
}

static int compiler(struct ctx *c)
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
	char tmp[PATH_SZ];
	int fd;

	if (fmt(tmp, sizeof(tmp), "%s.tmp", path) < 0)
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
		if (fd >= 0)
			close(fd);
		return error_errno("cannot write '%s'", tmp);
	}
	close(fd);
	return rename(tmp, path) < 0 ? error_errno("cannot rename '%s'", tmp) : 0;
}

/* What the last good build was made from: the tree's fingerprint and the
 * .config's hash. */
static int current_stamp(struct ctx *c, char *buf, size_t size)
{
	char path[PATH_SZ], *cfg;
	size_t len;
	uint64_t h;

	if (fmt(path, sizeof(path), "%s/.config", c->dir) < 0 || !(cfg = read_file(path, 64 << 20, &len)))
		return -1;
	h = fnv(FNV0, cfg, len);
	free(cfg);
	return fmt(buf, size, "tree %016llx %lu\nconfig %016llx\n", (unsigned long long)c->tree_fp,
		   c->tree_files, (unsigned long long)h) < 0 ? -1 : 0;
}

/* On a failed build: the log's tail, and what kind of failure it was. */
static int report_failure(struct ctx *c, const char *logpath)
{
	char *data;
	size_t len;
	const char *p;
	int lines = 0, disk = 0;

	data = read_file(logpath, 256 << 20, &len);
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
	error("kernel build failed in '%s': full log '%s'", c->dir, logpath);
	return BUILD_EXIT_COMPILE;
}

static int signals_to_fd(struct ctx *c, sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, old) < 0)
		return -1;
	c->sfd = signalfd(-1, &set, SFD_CLOEXEC);
	return c->sfd < 0 ? -1 : 0;
}

static int do_build(struct ctx *c)
{
	char o_arg[PATH_SZ + 8], jobs[32], label[128], logpath[PATH_SZ], stamp_path[PATH_SZ];
	char marker[PATH_SZ], bin[PATH_SZ], want[256], have[256] = "";
	uint64_t key = FNV0;
	long long mb = 0;
	long need;
	const char *e;
	int r, lockfd, st, configured;

	if ((r = check_tree(c)))
		return r;
	if ((r = compiler(c)))
		return r;
	if ((r = load_fragments(c, &key)))
		return r;
	if (cache_root(c) < 0)
		return EXIT_USAGE;
	key = fnv(key, RECIPE_VERSION, sizeof(RECIPE_VERSION));
	key = fnv(key, c->src, strlen(c->src) + 1);
	key = fnv(key, c->version, strlen(c->version) + 1);
	key = fnv(key, c->ccver, strlen(c->ccver) + 1);
	key = fnv(key, c->o->variant ? c->o->variant : "", strlen(c->o->variant ? c->o->variant : "") + 1);
	{
		const char *base = strrchr(c->src, '/');
		char nm[64];
		size_t i;

		snprintf(nm, sizeof(nm), "%s", base && base[1] ? base + 1 : "linux");
		for (i = 0; nm[i]; i++)
			if (!isalnum((unsigned char)nm[i]) && nm[i] != '-' && nm[i] != '_' && nm[i] != '.')
				nm[i] = '_';
		snprintf(c->name, sizeof(c->name), "%s%s%s-%016llx", nm,
			 c->o->variant && *c->o->variant ? "-" : "", c->o->variant ? c->o->variant : "",
			 (unsigned long long)key);
	}
	if (fmt(c->dir, sizeof(c->dir), "%s/kernels/%s", c->cache, c->name) < 0 ||
	    fmt(c->lock, sizeof(c->lock), "%s/kernels/%s.lock", c->cache, c->name) < 0 ||
	    fmt(logpath, sizeof(logpath), "%s/build.log", c->dir) < 0 ||
	    fmt(stamp_path, sizeof(stamp_path), "%s/vkci-stamp", c->dir) < 0 ||
	    fmt(marker, sizeof(marker), "%s/vkci-configured", c->dir) < 0 ||
	    fmt(bin, sizeof(bin), "%s/linux", c->dir) < 0 || fmt(o_arg, sizeof(o_arg), "O=%s", c->dir) < 0)
		return error("cache path too long: '%s'", c->cache), EXIT_USAGE;
	/* the tree's state, and every requested symbol exists, before anything is
	 * written; a configured KEY had its fragments (part of the KEY) checked
	 * when it was configured, so a no-op run does not read every Kconfig */
	if (fingerprint_tree(c) < 0)
		return EXIT_INFRA;
	if (!path_exists(marker) && (r = check_symbols(c)))
		return r;
	c->coverage = c->o->variant && !strcmp(c->o->variant, "coverage");
	if (c->coverage) {
		int i, gcov = 0;

		for (i = 0; i < c->nreq; i++)
			if (!strcmp(c->reqs[i].sym, "GCOV"))
				gcov = !strcmp(c->reqs[i].val, "y");
		if (!gcov)
			return error("the coverage variant needs CONFIG_GCOV=y from a fragment "
				     "(add -c harness/coverage.config)"), BUILD_EXIT_CONFIG;
	}
	if (c->coverage && fmt(c->cc_arg, sizeof(c->cc_arg), "CC=%s -L%s/vkci-gcov", c->cc, c->dir) < 0)
		return error("cache path too long: '%s'", c->cache), EXIT_USAGE;
	if (mkdir_p(c->dir, 0755) < 0) {
		error_errno("cannot create the build directory '%s' (set VKCI_CACHE=<writable dir>)", c->dir);
		return EXIT_INFRA;
	}

	/* one builder per KEY; the others wait, then find it built */
	lockfd = open(c->lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lockfd < 0)
		return error_errno("cannot open lock '%s'", c->lock), EXIT_INFRA;
	if (flock(lockfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			return error_errno("cannot lock '%s'", c->lock), EXIT_INFRA;
		error("waiting for another build of this kernel in '%s'", c->dir);
		if (flock(lockfd, LOCK_EX) < 0)
			return error_errno("cannot lock '%s'", c->lock), EXIT_INFRA;
	}
	/* lock held until exit (the fd is close-on-exec, not inherited) */

	configured = path_exists(marker);
	if (!c->o->force && configured && access(bin, X_OK) == 0 && read_stamp(stamp_path, want, sizeof(want)) == 0 &&
	    current_stamp(c, have, sizeof(have)) == 0 && !strcmp(want, have)) {
		note("kernel up to date: '%s' (%lu files unchanged)", bin, c->tree_files);
		return 0;
	}

	need = access(bin, X_OK) == 0 ? WARM_NEED_MB : COLD_NEED_MB;
	if ((e = getenv("VKCI_BUILD_MIN_FREE_MB")) && *e && (need = parse_uint(e, 1L << 30)) < 0)
		return error("bad VKCI_BUILD_MIN_FREE_MB '%s' (MiB)", e), EXIT_USAGE;
	if (free_mb(c->dir, &mb) == 0 && mb < need) {
		error("only %lld MiB free in '%s', a kernel build needs about %ld MiB: free space or set "
		      "VKCI_CACHE=<dir>", mb, c->cache, need);
		return BUILD_EXIT_DISK;
	}
	c->log_fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (c->log_fd < 0)
		return error_errno("cannot open '%s'", logpath), EXIT_INFRA;

	if (!configured) {
		progress(1, "configuring Linux %s (ARCH=um defconfig + %d fragment%s) in %s", c->version,
			 c->o->nfrags, c->o->nfrags == 1 ? "" : "s", c->dir);
		r = configure(c);
		if (r < 0 || r > 0)
			return c->interrupted ? EXIT_INFRA : r > 0 ? r : report_failure(c, logpath);
		if ((r = verify_config(c)))
			return r;
		if (write_stamp(marker, "configured\n") < 0)
			return EXIT_INFRA;
	}

	snprintf(jobs, sizeof(jobs), "-j%d", c->o->jobs > 0 ? c->o->jobs : ncpus());
	snprintf(label, sizeof(label), "building Linux %s%s", c->version, c->coverage ? " (coverage)" : "");
	if (c->coverage) {
		const char *a[12];

		if ((r = coverage_libgcov(c)))
			return r;
		make_argv(c, a, o_arg, jobs, "arch/um/kernel/vmlinux.lds");
		if (!ok_status(run(c, a, NULL, NULL, 0)))
			return c->interrupted ? EXIT_INFRA : report_failure(c, logpath);
		if (coverage_patch_lds(c) < 0)
			return BUILD_EXIT_COMPILE;
	}
	{
		const char *a[12];

		make_argv(c, a, o_arg, jobs, "linux");
		st = run(c, a, label, NULL, 0);
	}
	if (c->interrupted)
		return EXIT_INFRA;
	if (!ok_status(st))
		return report_failure(c, logpath);
	/* kbuild regenerated the linker script during the build: patch, relink */
	if (c->coverage && (r = coverage_patch_lds(c)) != 0) {
		const char *a[12];

		if (r < 0)
			return BUILD_EXIT_COMPILE;
		make_argv(c, a, o_arg, jobs, "linux");
		if (!ok_status(run(c, a, label, NULL, 0)))
			return c->interrupted ? EXIT_INFRA : report_failure(c, logpath);
	}
	/* kbuild re-runs Kconfig when the tree's Kconfig files changed */
	if ((r = verify_config(c)))
		return r;
	if (c->coverage && (r = coverage_check(c))) {
		unlink(stamp_path);   /* not a good build: the next run builds and checks again */
		return r;
	}
	if (current_stamp(c, have, sizeof(have)) < 0 || write_stamp(stamp_path, have) < 0)
		return EXIT_INFRA;
	return 0;
}

int build_kernel(const struct build_opts *o, char *out, size_t out_size)
{
	struct ctx *c = calloc(1, sizeof(*c));
	sigset_t old;
	size_t i;
	int r;

	if (!c)
		return error("out of memory"), EXIT_INFRA;
	c->o = o;
	c->log_fd = -1;
	c->sfd = -1;
	/* an outer make's jobserver is not ours: its fds are closed for kbuild */
	unsetenv("MAKEFLAGS");
	unsetenv("MFLAGS");
	unsetenv("MAKELEVEL");
	unsetenv("KCONFIG_CONFIG");
	if (signals_to_fd(c, &old) < 0)
		r = (error_errno("cannot set up signals"), EXIT_INFRA);
	else
		r = do_build(c);
	if (r == 0 && fmt(out, out_size, "%s/linux", c->dir) < 0)
		r = EXIT_INFRA;
	if (c->log_fd >= 0)
		close(c->log_fd);
	if (c->sfd >= 0)
		close(c->sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	for (i = 0; i < c->nkconfig; i++)
		free(c->kconfigs[i]);
	free(c->kconfigs);
	free(c->reqs);
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
