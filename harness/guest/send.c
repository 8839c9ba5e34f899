/* send.c - what the agent writes to the host: records and the file transfer
 * of a tree (PROTOCOL.md, "File transfer"). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"

#define XFER_MAX_DEPTH 32
#define XFER_MAX_ENCODED 3072        /* percent-encoded name in a begin record */
#define XFER_AGENT_MAX_FILE (1ULL << 30)

int agent_serial = -1;
char agent_key[PROTO_TOKEN_LEN + 1] = "-";

void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

void kmsg(const char *msg)
{
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		write_all(fd, msg, strlen(msg));
		close(fd);
	}
}

static void send_keyed(char tag, const char *payload, size_t len)
{
	static char buf[PROTO_MAX_RECORD + 2];
	long n;

	if (agent_serial < 0)
		return;
	if (len > PROTO_MAX_RECORD - 4 - PROTO_TOKEN_LEN)
		len = PROTO_MAX_RECORD - 4 - PROTO_TOKEN_LEN;
	n = proto_record(buf, sizeof(buf), tag, tag == 'O' || tag == 'o' || tag == 'E' || tag == 'e' ||
			 tag == 'V' || tag == 'K' ? NULL : agent_key, payload, len);
	if (n > 0)
		write_all(agent_serial, buf, (size_t)n);
}

void send_record(char tag, const char *payload, size_t len)
{
	send_keyed(tag, payload, len);
}

void send_control(char tag, const char *f, ...)
{
	char buf[512];
	va_list ap;
	int n = 0;

	if (f) {
		va_start(ap, f);
		n = vsnprintf(buf, sizeof(buf), f, ap);
		va_end(ap);
		if (n < 0)
			n = 0;
		if (n >= (int)sizeof(buf))
			n = sizeof(buf) - 1;
		for (int i = 0; i < n; i++)
			if (buf[i] == '\n')
				buf[i] = ' ';
	}
	send_keyed(tag, buf, (size_t)n);
}

/* ---- file transfer ----------------------------------------------------------
 * Every regular file under the fetch dir, depth first in name order, as
 * begin/data/end records; symlinks and special files are skipped, as are
 * files without any read permission bit (debugfs control files such as
 * gcov/reset). Files are read() to EOF: debugfs reports their size as 0. */

static unsigned long xfer_files;
static unsigned long long xfer_bytes;

/* "F <key> <verb> <arg>". */
static void frecord(const char *verb, const char *arg, size_t len)
{
	static char buf[PROTO_MAX_RECORD];
	int n = snprintf(buf, sizeof(buf), "%s%s", verb, len ? " " : "");

	if (len > sizeof(buf) - (size_t)n)
		len = sizeof(buf) - (size_t)n;
	memcpy(buf + n, arg, len);
	send_keyed('F', buf, (size_t)n + len);
}

static void fnote(const char *verb, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void fnote(const char *verb, const char *f, ...)
{
	char msg[400];
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(msg, sizeof(msg), f, ap);
	va_end(ap);
	if (n >= (int)sizeof(msg))
		n = sizeof(msg) - 1;
	for (int i = 0; i < n; i++)
		if (msg[i] == '\n')
			msg[i] = ' ';
	frecord(verb, msg, n > 0 ? (size_t)n : 0);
}

static void send_file(int dfd, const char *name, const char *rel)
{
	static unsigned char chunk[PROTO_XFER_CHUNK];
	static char enc[XFER_MAX_ENCODED + 8], b64[PROTO_XFER_B64 + 8];
	unsigned long long total = 0;
	uint32_t crc = 0;
	long elen = proto_encode(rel, strlen(rel), enc, sizeof(enc));
	size_t have = 0;
	int fd, eof = 0;

	if (elen <= 0 || elen > XFER_MAX_ENCODED) {
		fnote("abort", "skipped a file under '%.60s': name too long", rel);
		return;
	}
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		fnote("abort", "cannot open '%.200s': %s", rel, strerror(errno));
		return;
	}
	frecord("begin", enc, (size_t)elen);
	while (!eof) {
		ssize_t n = read(fd, chunk + have, sizeof(chunk) - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fnote("abort", "cannot read '%.200s': %s", rel, strerror(errno));
			close(fd);
			return;
		}
		eof = n == 0;
		have += (size_t)n;
		if (have == sizeof(chunk) || (eof && have)) {
			if (total + have > XFER_AGENT_MAX_FILE) {
				fnote("abort", "'%.200s' is larger than 1 GiB", rel);
				close(fd);
				return;
			}
			crc = proto_crc32(crc, chunk, have);
			total += have;
			frecord("data", b64, proto_base64_encode(chunk, have, b64));
			have = 0;
		}
	}
	close(fd);
	snprintf(b64, sizeof(b64), "%llu %08x", total, crc);
	frecord("end", b64, strlen(b64));
	xfer_files++;
	xfer_bytes += total;
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* rel: the path of dfd relative to the fetch dir ("" at the top), in a
 * buffer of 4096 bytes. Takes dfd. */
static void send_dir(int dfd, char *rel, int depth)
{
	struct dirent **list;
	size_t rlen = strlen(rel);
	int n = scandirat(dfd, ".", &list, NULL, name_cmp);

	if (n < 0) {
		fnote("abort", "cannot read dir '%.200s': %s", rlen ? rel : ".", strerror(errno));
		close(dfd);
		return;
	}
	for (int i = 0; i < n; i++) {
		const char *name = list[i]->d_name;
		struct stat st;

		if (!strcmp(name, ".") || !strcmp(name, "..") ||
		    snprintf(rel + rlen, 4096 - rlen, "%s%s", rlen ? "/" : "", name) >= (int)(4096 - rlen) ||
		    fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			free(list[i]);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			int sub = depth < XFER_MAX_DEPTH - 1 ?
				  openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;

			if (sub >= 0)
				send_dir(sub, rel, depth + 1);
			else
				fnote("abort", "skipped dir '%.200s': %s", rel,
				      depth < XFER_MAX_DEPTH - 1 ? strerror(errno) : "too deep");
		} else if (S_ISREG(st.st_mode) && (st.st_mode & 0444)) {
			send_file(dfd, name, rel);
		}
		rel[rlen] = '\0';
		free(list[i]);
	}
	free(list);
	close(dfd);
}

void send_tree(const char *root)
{
	static char rel[4096];
	char count[64];
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	rel[0] = '\0';
	if (fd < 0)
		fnote("abort", "cannot open '%.200s' (vkci.fetch=): %s", root, strerror(errno));
	else
		send_dir(fd, rel, 0);
	snprintf(count, sizeof(count), "%lu %llu", xfer_files, xfer_bytes);
	frecord("count", count, strlen(count));
}
