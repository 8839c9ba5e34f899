#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "util.h"
#include "banned.h"

ssize_t xread(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int write_str(int fd, const char *s)
{
	return write_all(fd, s, strlen(s));
}

int fmt(char *buf, size_t size, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(buf, size, f, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size)
		return -1;
	return n;
}

void sbuf_init(struct sbuf *sb, size_t cap)
{
	memset(sb, 0, sizeof(*sb));
	sb->cap = cap;
}

static int sbuf_grow(struct sbuf *sb, size_t need)
{
	size_t want;
	char *p;

	if (sb->len + need + 1 <= sb->alloc)
		return 0;
	want = sb->alloc ? sb->alloc : 256;
	while (want < sb->len + need + 1)
		want *= 2;
	p = realloc(sb->data, want);
	if (!p)
		return -1;
	sb->data = p;
	sb->alloc = want;
	return 0;
}

int sbuf_add(struct sbuf *sb, const void *p, size_t n)
{
	size_t room = sb->cap > sb->len ? sb->cap - sb->len : 0;

	if (n > room) {
		sb->dropped += n - room;
		n = room;
	}
	if (sbuf_grow(sb, n) < 0)
		return -1;
	if (n)
		memcpy(sb->data + sb->len, p, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
	return 0;
}

int sbuf_addf(struct sbuf *sb, const char *f, ...)
{
	char tmp[1024], *big;
	va_list ap;
	int n, r;

	va_start(ap, f);
	n = vsnprintf(tmp, sizeof(tmp), f, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(tmp))
		return sbuf_add(sb, tmp, (size_t)n);
	/* longer than the stack buffer: format again into one that fits */
	big = malloc((size_t)n + 1);
	if (!big)
		return -1;
	va_start(ap, f);
	vsnprintf(big, (size_t)n + 1, f, ap);
	va_end(ap);
	r = sbuf_add(sb, big, (size_t)n);
	free(big);
	return r;
}

void sbuf_reset(struct sbuf *sb)
{
	sb->len = 0;
	sb->dropped = 0;
	if (sb->data)
		sb->data[0] = '\0';
}

void sbuf_free(struct sbuf *sb)
{
	free(sb->data);
	memset(sb, 0, sizeof(*sb));
}

char *read_file(const char *path, size_t max, size_t *len_out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct sbuf sb;
	char buf[65536];
	ssize_t n;

	if (fd < 0) {
		error_errno("cannot open '%s'", path);
		return NULL;
	}
	sbuf_init(&sb, max);
	while ((n = xread(fd, buf, sizeof(buf))) > 0) {
		if (sbuf_add(&sb, buf, (size_t)n) < 0 || sb.dropped) {
			error("'%s' is larger than %zu bytes", path, max);
			goto fail;
		}
	}
	if (n < 0) {
		error_errno("cannot read '%s'", path);
		goto fail;
	}
	close(fd);
	if (sbuf_add(&sb, "", 0) < 0)
		goto fail_nofd;
	if (len_out)
		*len_out = sb.len;
	return sb.data;
fail:
	close(fd);
fail_nofd:
	sbuf_free(&sb);
	return NULL;
}

int write_file_atomic(const char *path, const void *data, size_t len)
{
	char tmp[PATH_MAX];
	int fd;

	if (fmt(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid()) < 0)
		return error("path too long: '%s'", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		error_errno("cannot write '%s'", tmp);
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		error_errno("cannot rename '%s'", tmp);
		unlink(tmp);
		return -1;
	}
	return 0;
}

int cache_dir(const char *wanted, char *buf, size_t size)
{
	const char *v = getenv("VKCI_CACHE"), *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int r;

	if (wanted && *wanted)
		r = fmt(buf, size, "%s", wanted);
	else if (v && *v)
		r = fmt(buf, size, "%s", v);
	else if (x && *x == '/')
		r = fmt(buf, size, "%s/vkci", x);
	else if (home && *home == '/')
		r = fmt(buf, size, "%s/.cache/vkci", home);
	else
		return error("no cache directory: set VKCI_CACHE=<dir> (or HOME)");
	return r < 0 ? error("cache path too long") : 0;
}

int mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	char *p;

	if (fmt(tmp, sizeof(tmp), "%s", path) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

int rm_rf(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	/* Directories may be 0500 if a guest tool made them so; make them
	 * writable as we go is not needed: we only create 0700 trees. */
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int set_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);

	return fl < 0 ? -1 : fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

long long parse_size(const char *s)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case '\0': break;
	default: return -1;
	}
	if (*end || v > (1ULL << 40) >> shift)
		return -1;
	return (long long)(v << shift);
}

long parse_uint(const char *s, long max)
{
	char *end;
	long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > max)
		return -1;
	return v;
}

int abspath(const char *path, char *buf, size_t size)
{
	char tmp[PATH_MAX];

	if (!realpath(path, tmp))
		return -1;
	if (fmt(buf, size, "%s", tmp) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int path_depth(const char *path)
{
	int n = 0;

	for (; *path; path++)
		n += *path == '/';
	return n;
}

int ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)n : 1;
}

int find_in_path(const char *name, char *buf, size_t size)
{
	const char *path = getenv("PATH"), *p, *end;

	if (!name || !*name)
		return -1;
	if (strchr(name, '/'))
		return access(name, X_OK) == 0 && fmt(buf, size, "%s", name) > 0 ? 0 : -1;
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; p; p = *end ? end + 1 : NULL) {
		struct stat st;

		end = strchrnul(p, ':');
		if (end == p)
			continue;
		if (fmt(buf, size, "%.*s/%s", (int)(end - p), p, name) > 0 &&
		    stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0)
			return 0;
		if (!*end)
			break;
	}
	return -1;
}

int ci_program(const char *env, const char *name, const char *self, char *buf, size_t size)
{
	const char *v = env ? getenv(env) : NULL;
	char dir[PATH_MAX], *slash;
	size_t len;
	int up;

	if (v && *v) {
		len = strlen(v);
		if (len < 4 || strcmp(v + len - 3, ".py"))
			return error("%s='%s' is not a Python program (want .../ci/%s)", env, v, name), -1;
		return fmt(buf, size, "%s", v) < 0 ? (error("%s: path too long", env), -1) : 0;
	}
	if (fmt(dir, sizeof(dir), "%s", self) < 0)
		return error("cannot find ci/%s: vkci's path '%s' is too long", name, self), -1;
	for (up = 0; up < 4 && (slash = strrchr(dir, '/')); up++) {
		*slash = '\0';     /* one directory up */
		if (fmt(buf, size, "%s/ci/%s", dir, name) >= 0 && access(buf, R_OK) == 0)
			return 0;
	}
	return error("cannot find ci/%s near '%s' (run the vkci of a vkci checkout%s%s)", name, self,
		     env ? ", or set " : "", env ? env : ""), -1;
}

const char *ci_python(void)
{
	static char path[PATH_MAX];
	const char *v = getenv("VKCI_PYTHON");

	if (!v || !*v)
		v = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
	return find_in_path(v, path, sizeof(path)) == 0 ? path : v;
}

static int copy_file_at(int sfd, int dfd, const char *name, mode_t mode)
{
	char buf[65536];
	int in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int out = in < 0 ? -1 : openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 0644);
	ssize_t n;
	int r = in >= 0 && out >= 0 ? 0 : -1;

	while (r == 0 && (n = xread(in, buf, sizeof(buf))) > 0)
		r = write_all(out, buf, (size_t)n);
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) < 0)
		r = -1;
	return r;
}

static int copy_tree_at(int sfd, int dfd, int depth)
{
	DIR *d;
	struct dirent *e;
	int r = 0;

	if (depth > 32 || !(d = fdopendir(sfd))) {
		close(sfd);
		return -1;
	}
	while (r == 0 && (e = readdir(d))) {
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode)) {
			r = copy_file_at(dirfd(d), dfd, e->d_name, st.st_mode);
		} else if (S_ISDIR(st.st_mode)) {
			int s2, d2;

			if (mkdirat(dfd, e->d_name, 0755) < 0 && errno != EEXIST)
				r = -1;
			else if ((s2 = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
				r = -1;
			else if ((d2 = openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
				close(s2);
				r = -1;
			} else {
				r = copy_tree_at(s2, d2, depth + 1);
				close(d2);
			}
		}   /* symlinks and special files are not copied */
	}
	closedir(d);
	return r;
}

int copy_tree(const char *src, const char *dst)
{
	int s, d, r;

	if (mkdir(dst, 0755) < 0 && errno != EEXIST)
		return -1;
	s = open(src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s < 0)
		return -1;
	d = open(dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d < 0) {
		close(s);
		return -1;
	}
	r = copy_tree_at(s, d, 0);
	close(d);
	return r;
}

void kconfig_value(const char *cfg, const char *sym, char *val, size_t size)
{
	size_t sl = strlen(sym);
	const char *line;

	val[0] = '\0';
	for (line = cfg; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		const char *e = strchrnul(line, '\n');

		if (!strncmp(line, "CONFIG_", 7) && !strncmp(line + 7, sym, sl) && line[7 + sl] == '=') {
			snprintf(val, size, "%.*s", (int)(e - line - 8 - sl), line + 8 + sl);
			return;
		}
		if (!strncmp(line, "# CONFIG_", 9) && !strncmp(line + 9, sym, sl) &&
		    (size_t)(e - line) == 9 + sl + 11 && !strncmp(line + 9 + sl, " is not set", 11)) {
			snprintf(val, size, "n");
			return;
		}
	}
}
