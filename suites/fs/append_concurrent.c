/* O_APPEND with concurrent writers: several forked processes append
 * fixed-size records to one file on ext4 and on tmpfs; no record is lost,
 * torn or interleaved, each writer's records stay in order; and on Linux an
 * O_APPEND fd appends even after lseek(0) and for pwrite */
/* vkci: timeout=30 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "vkci_test.h"

#define WRITERS 4
#define RECORDS 400
#define RECLEN 64

static void format_record(char *rec, int w, int r)
{
	int n = snprintf(rec, RECLEN, "w%d r%05d ", w, r);

	memset(rec + n, 'a' + w, RECLEN - 1 - n);
	rec[RECLEN - 1] = '\n';
}

static int writer(const char *path, int w)
{
	char rec[RECLEN + 1];
	int fd = open(path, O_WRONLY | O_APPEND);
	int r;

	if (fd < 0)
		return 2;
	for (r = 0; r < RECORDS; r++) {
		format_record(rec, w, r);
		if (write(fd, rec, RECLEN) != RECLEN)
			return 3;
	}
	close(fd);
	return 0;
}

/* run the writers on path and check the result: 3 assertions */
static void run(const char *fs, const char *path)
{
	static char data[WRITERS * RECORDS * RECLEN + RECLEN];
	char rec[RECLEN + 1];
	int next[WRITERS] = { 0 }, bad = 0, disorder = 0, failed = 0, i, fd;
	pid_t pids[WRITERS];
	ssize_t n;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		bail("create %s: %s", path, strerror(errno));
	close(fd);
	fflush(stdout);
	for (i = 0; i < WRITERS; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			bail("fork: %s", strerror(errno));
		if (pids[i] == 0)
			_exit(writer(path, i));
	}
	for (i = 0; i < WRITERS; i++) {
		int st;

		waitpid(pids[i], &st, 0);
		failed += !WIFEXITED(st) || WEXITSTATUS(st) != 0;
	}
	fd = open(path, O_RDONLY);
	n = read(fd, data, sizeof(data));
	close(fd);
	ok(n == WRITERS * RECORDS * RECLEN && failed == 0,
	   "%s: %d writers x %d records give exactly %d bytes (got %zd, %d writers failed)", fs,
	   WRITERS, RECORDS, WRITERS * RECORDS * RECLEN, n, failed);
	for (i = 0; i + RECLEN <= n; i += RECLEN) {
		int w, r;

		if (sscanf(data + i, "w%d r%d ", &w, &r) != 2 || w < 0 || w >= WRITERS) {
			bad++;
			continue;
		}
		format_record(rec, w, r);
		if (memcmp(data + i, rec, RECLEN)) {
			bad++;
			continue;
		}
		if (r != next[w])
			disorder++;
		next[w] = r + 1;
	}
	is_int(bad, 0, "%s: every %d-byte record is whole (none torn or interleaved)", fs, RECLEN);
	for (i = 0; i < WRITERS; i++)
		if (next[i] != RECORDS)
			disorder++;
	is_int(disorder, 0, "%s: each writer's records are all there, in order", fs);
}

int main(int argc, char **argv)
{
	char buf[16] = "";
	struct stat st;
	ssize_t n;
	int fd;

	vt_init(argc, argv);
	plan(9);
	if (mkdir("/fs-append", 0755) < 0)
		bail("mkdir: %s", strerror(errno));

	fd = open("/fs-append/seek", O_RDWR | O_CREAT | O_APPEND, 0644);
	if (fd < 0 || write(fd, "12345", 5) != 5)
		bail("create: %s", strerror(errno));
	lseek(fd, 0, SEEK_SET);
	write(fd, "ab", 2);
	pread(fd, buf, sizeof(buf) - 1, 0);
	is_string(buf, "12345ab", "a write after lseek(0) on an O_APPEND fd still appends");
	n = pwrite(fd, "Z", 1, 0);
	fstat(fd, &st);
	ok(n == 1 && st.st_size == 8,
	   "pwrite at offset 0 on an O_APPEND fd appends too (size %ld)", (long)st.st_size);
	memset(buf, 0, sizeof(buf));
	pread(fd, buf, sizeof(buf) - 1, 0);
	is_string(buf, "12345abZ", "the pwrite byte landed at the end");
	close(fd);

	run("ext4", "/fs-append/log");
	run("tmpfs", "/tmp/fs-append.log");
	return exit_status();
}
