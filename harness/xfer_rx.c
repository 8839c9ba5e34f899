/* xfer_rx.c - the receiving end of the serial-line file transport (see
 * transfer.h): one instance's files written under one directory fd,
 * nothing followed or overwritten, refusals reported as TAP diagnostics. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "proto.h"
#include "transfer.h"
#include "util.h"
#include "banned.h"

static void close_file(struct xfer_rx *rx, int remove)
{
	if (rx->fd >= 0) {
		close(rx->fd);
		rx->fd = -1;
		if (remove && unlinkat(rx->leaf_parent, rx->leaf, 0) < 0 && errno != ENOENT)
			warning("cannot remove refused file '%s' in '%s': %s", rx->leaf, rx->dir,
				strerror(errno));
	}
	rx->leaf_parent = -1;   /* the root or the cached dir: owned elsewhere */
}

static int open_root(struct xfer_rx *rx)
{
	if (rx->dirfd >= 0)
		return 0;
	if (rx->dir_failed) {
		errno = rx->dir_errno;
		return -1;
	}
	if ((rx->name ? fmt(rx->dir, sizeof(rx->dir), "%s/%s", rx->parent, rx->name) :
			fmt(rx->dir, sizeof(rx->dir), "%s", rx->parent)) < 0) {
		rx->dir_failed = 1;
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((mkdir(rx->dir, 0755) < 0 && errno != EEXIST) ||
	    (rx->dirfd = open(rx->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		rx->dir_failed = 1;
		rx->dir_errno = errno;
		error_errno("cannot create the receiving dir '%s' of a file transfer", rx->dir);
		return -1;
	}
	return 0;
}

/* Open (creating what is missing) the directories path[0..len) under the
 * receiving dir, one component at a time, never following a symlink.
 * Returns a new fd, or -1 with *why set. */
static int open_dirs(struct xfer_rx *rx, const char *path, size_t len, const char **why)
{
	size_t start = 0, i;
	int fd = rx->dirfd;

	for (i = 0; i <= len; i++) {
		char comp[XFER_MAX_NAME + 1];
		size_t cl;
		int next;

		if (i < len && path[i] != '/')
			continue;
		cl = i - start;
		memcpy(comp, path + start, cl);
		comp[cl] = '\0';
		start = i + 1;
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT) {
			if (rx->dirs >= rx->p.lim.max_files) {
				*why = "too many directories";
				errno = EMLINK;
			} else if (mkdirat(fd, comp, 0755) == 0) {
				rx->dirs++;
				next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			} else {
				*why = "cannot create its directory";
			}
		} else if (next < 0) {
			*why = "a path component is not a directory";
		}
		if (fd != rx->dirfd)
			close(fd);
		if (next < 0)
			return -1;
		fd = next;
	}
	return fd;
}

/* Create path (checked by the parser) under the receiving dir; nothing is
 * followed, nothing is overwritten. Returns NULL or why not (errno set). */
static const char *create(struct xfer_rx *rx, const char *path, size_t len)
{
	const char *slash = memrchr(path, '/', len), *leaf = slash ? slash + 1 : path, *why = NULL;
	size_t dlen = slash ? (size_t)(slash - path) : 0;
	int fd = rx->dirfd;

	if (open_root(rx) < 0)
		return "cannot create the receiving directory";
	if (dlen && !(rx->cache_fd >= 0 && rx->cache_len == dlen && !memcmp(rx->cache_path, path, dlen))) {
		fd = open_dirs(rx, path, dlen, &why);
		if (fd < 0)
			return why;
		if (rx->cache_fd >= 0)
			close(rx->cache_fd);
		rx->cache_fd = fd;
		memcpy(rx->cache_path, path, dlen);
		rx->cache_len = dlen;
	}
	if (dlen)
		fd = rx->cache_fd;
	else
		fd = rx->dirfd;
	memcpy(rx->leaf, leaf, len - (size_t)(leaf - path));
	rx->leaf[len - (size_t)(leaf - path)] = '\0';
	rx->fd = openat(fd, rx->leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (rx->fd < 0)
		return errno == EEXIST ? "a file of that name was already received" : "cannot create the file";
	rx->leaf_parent = fd;
	return NULL;
}

static void rx_event(void *ctx, const struct xfer_event *ev)
{
	struct xfer_rx *rx = ctx;
	char name[200];
	struct serial_event bad;
	const char *why;

	switch (ev->type) {
	case XFER_BEGIN:
		if (!rx->parent)
			break;
		if ((why = create(rx, ev->path, ev->path_len))) {
			char msg[160];

			snprintf(msg, sizeof(msg), "%s: %s", why, strerror(errno));
			xfer_refuse(&rx->p, msg);
		}
		break;
	case XFER_DATA:
		if (rx->fd >= 0 && write_all(rx->fd, ev->data, ev->len) < 0) {
			char msg[160];

			snprintf(msg, sizeof(msg), "cannot write it: %s", strerror(errno));
			xfer_refuse(&rx->p, msg);
		}
		break;
	case XFER_END:
		if (rx->fd >= 0 && close(rx->fd) < 0) {
			rx->fd = -1;
			rx->p.files--;
			rx->p.refused++;
			xfer_quote(name, sizeof(name), ev->path, ev->path_len);
			verdict_emitf(rx->v, "# file transfer: refused '%s': cannot write it: %s", name,
				strerror(errno));
			close_file(rx, 1);
			break;
		}
		rx->fd = -1;
		close_file(rx, 0);
		break;
	case XFER_REFUSED:
		close_file(rx, 1);
		if (rx->notes++ < XFER_MAX_NOTES) {
			xfer_quote(name, sizeof(name), ev->path ? ev->path : "", ev->path ? ev->path_len : 0);
			verdict_emitf(rx->v, "# file transfer: refused '%s': %s", name, ev->why);
		}
		break;
	case XFER_NOTE:
		verdict_emitf(rx->v, "# file transfer: %s", ev->why);
		break;
	case XFER_COUNT:
		rx->counted = 1;
		break;
	case XFER_GARBAGE:
		memset(&bad, 0, sizeof(bad));
		bad.type = SER_GARBAGE;
		bad.why = ev->why;
		bad.data = "";
		verdict_event(rx->v, &bad);
		break;
	}
}

int xfer_rx_init(struct xfer_rx *rx, const char *parent, const char *name,
		 const char *limits, struct verdict *v)
{
	int r;

	memset(rx, 0, sizeof(*rx));
	xfer_init(&rx->p, rx_event, rx);
	r = xfer_parse_limits(limits, &rx->p.lim);
	rx->v = v;
	rx->parent = parent;
	rx->name = name;
	rx->dirfd = rx->fd = rx->leaf_parent = rx->cache_fd = -1;
	return r;
}

void xfer_rx_event(struct xfer_rx *rx, const struct serial_event *ev)
{
	if (ev->type != SER_FILE)
		return;
	rx->t_last = now_ms();
	if (!rx->t_first)
		rx->t_first = rx->t_last;
	xfer_record(&rx->p, ev->data, ev->len);
}

unsigned long xfer_rx_finish(struct xfer_rx *rx, const char *handover)
{
	struct xfer_parser *p = &rx->p;

	if (!p->started)
		return 0;
	xfer_finish(p);
	close_file(rx, 1);
	if (rx->cache_fd >= 0)
		close(rx->cache_fd);
	rx->cache_fd = -1;
	if (rx->notes > XFER_MAX_NOTES)
		verdict_emitf(rx->v, "# file transfer: %lu more files refused", rx->notes - XFER_MAX_NOTES);
	verdict_emitf(rx->v, "# file transfer: %lu files, %llu bytes received%s, %lu refused", p->files,
		p->total, rx->parent ? "" : " and checked", p->refused);
	if (p->total)
		note("file transfer: %llu bytes in %lld ms", p->total, rx->t_last - rx->t_first);
	if (rx->dirfd >= 0) {
		close(rx->dirfd);
		rx->dirfd = -1;
		if (handover && rx->name && rx->parent) {
			char dst[4096];
			struct stat st;

			if (fmt(dst, sizeof(dst), "%s/%s", rx->parent, handover) < 0 ||
			    lstat(dst, &st) == 0 || rename(rx->dir, dst) < 0)
				verdict_emitf(rx->v, "# file transfer: received tree kept in '%s' (cannot move it "
					"to '%s')", rx->dir, dst);
		}
	}
	return p->files;
}
