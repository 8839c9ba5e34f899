/* util.h - small wrappers used everywhere: EINTR/short-I/O safe reads and
 * writes, bounded string building, and file-system helpers. */
#ifndef VKCI_UTIL_H
#define VKCI_UTIL_H

#include <stddef.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* read(2)/write(2) retried on EINTR; write_all loops over short writes.
 * write_all returns 0 or -1 (errno set). */
ssize_t xread(int fd, void *buf, size_t len);
int write_all(int fd, const void *buf, size_t len);
int write_str(int fd, const char *s);

/* Bounded formatting: like snprintf, but returns -1 if the result did not fit. */
int fmt(char *buf, size_t size, const char *f, ...) __attribute__((format(printf, 3, 4)));

/* A growable byte buffer with a hard cap: appends beyond cap are dropped and
 * counted in `dropped`. Owned by the caller; free with sbuf_free. */
struct sbuf {
	char *data;     /* NUL-terminated after every append */
	size_t len;
	size_t alloc;
	size_t cap;     /* maximum len */
	size_t dropped; /* bytes refused because of cap */
};
void sbuf_init(struct sbuf *sb, size_t cap);
int sbuf_add(struct sbuf *sb, const void *p, size_t n);
int sbuf_addf(struct sbuf *sb, const char *f, ...) __attribute__((format(printf, 2, 3)));
void sbuf_reset(struct sbuf *sb);
void sbuf_free(struct sbuf *sb);

/* Read a whole file of at most `max` bytes into a fresh NUL-terminated
 * buffer (caller frees). Returns NULL and reports on error or if too large. */
char *read_file(const char *path, size_t max, size_t *len_out);

/* Write a file whole: a temporary beside it, fsync, rename. 0 or -1 after reporting. */
int write_file_atomic(const char *path, const void *data, size_t len);
/* The cache root: wanted, else $VKCI_CACHE, $XDG_CACHE_HOME/vkci or
 * ~/.cache/vkci, into buf. 0 or -1 after reporting. */
int cache_dir(const char *wanted, char *buf, size_t size);
/* Create a directory (and parents) with the given mode; ok if it exists. */
int mkdir_p(const char *path, mode_t mode);
/* Remove a tree without following symlinks. Returns 0 or -1. */
int rm_rf(const char *path);
/* Copy a tree of directories and regular files (symlinks and special files
 * are skipped, nothing is followed). Returns 0 or -1 (errno set). */
int copy_tree(const char *src, const char *dst);
/* Milliseconds from CLOCK_MONOTONIC. */
long long now_ms(void);
/* Set FD_CLOEXEC / O_NONBLOCK on an fd. */
int set_cloexec(int fd);
int set_nonblock(int fd);
/* Parse a size like 128M, 2G, 4096 (bytes) into bytes. -1 on error. */
long long parse_size(const char *s);
/* Parse a non-negative decimal int with an upper bound. -1 on error. */
long parse_uint(const char *s, long max);
/* Absolute, normalised copy of path (realpath) into buf; -1 if missing. */
int abspath(const char *path, char *buf, size_t size);
/* Full path of an executable `name` (a path if it has a slash, else looked
 * up in $PATH) into buf. Returns 0, or -1 (silently) when not found. */
int find_in_path(const char *name, char *buf, size_t size);
/* A Python program of the vkci checkout the driver belongs to: the path in
 * the environment variable env (if env and set; it must end in .py), else
 * ci/NAME found from the driver's own path self (harness/vkci, build/X/vkci:
 * up to 4 levels up). 0, or -1 after reporting. */
int ci_program(const char *env, const char *name, const char *self, char *buf, size_t size);
/* The interpreter for it: $VKCI_PYTHON, else /usr/bin/python3 when there
 * (a version manager's python3 shim costs ~0.13 s a start on this kind of
 * machine), else python3 from PATH; as a path when it is found. */
const char *ci_python(void);
/* The value of CONFIG_<sym> in the text of a .config: what follows "=" on
 * its line, "n" for "# CONFIG_<sym> is not set", "" when absent. Pure. */
void kconfig_value(const char *cfg, const char *sym, char *val, size_t size);
/* The number of '/' in path: GCOV_PREFIX_STRIP for a tree whose paths
 * start with path. */
int path_depth(const char *path);
/* Number of online CPUs (>= 1). */
int ncpus(void);

#endif
