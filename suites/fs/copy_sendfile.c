/* sendfile and copy_file_range: file->file and file->pipe copies are exact,
 * offsets are updated through the pointer while the fd position stays put,
 * copy_file_range within ext4 and within tmpfs, 0 at EOF, EINVAL for flags
 * and overlapping ranges, EXDEV between ext4 and tmpfs */
/* vkci: timeout=30 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>

#include "vkci_test.h"

#define LEN (1024 * 1024)

static unsigned char src[LEN], dst[LEN];

static int mkfile(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		bail("create %s: %s", path, strerror(errno));
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static int same(int fd, off_t off, const void *want, size_t len)
{
	return pread(fd, dst, len, off) == (ssize_t)len && !memcmp(dst, want, len);
}

/* copy_file_range of all of `in` into a new file at path: 1 assertion */
static void cfr_whole(const char *what, int in, const char *path)
{
	int out = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	loff_t off_in = 0, off_out = 0;
	ssize_t n, total = 0;

	while ((n = copy_file_range(in, &off_in, out, &off_out, LEN - total, 0)) > 0)
		total += n;
	ok(n == 0 && total == LEN && off_in == LEN && off_out == LEN && same(out, 0, src, LEN),
	   "%s: copy_file_range copies 1M exactly and advances both offsets (%zd bytes)", what, total);
	close(out);
}

int main(int argc, char **argv)
{
	int in, out, tin, p[2];
	off_t off = 4096;
	loff_t oi, oo;
	ssize_t n, total = 0;
	size_t i;

	vt_init(argc, argv);
	plan(11);
	for (i = 0; i < LEN; i++)
		src[i] = (unsigned char)(i ^ (i >> 9));
	in = mkfile("/fs-copy-src", src, LEN);
	out = open("/fs-copy-dst", O_RDWR | O_CREAT | O_TRUNC, 0644);

	while ((n = sendfile(out, in, NULL, LEN - total)) > 0)
		total += n;
	ok(total == LEN && same(out, 0, src, LEN), "sendfile file->file copies 1M exactly (%zd bytes)", total);
	is_int(lseek(in, 0, SEEK_CUR), LEN, "sendfile with a NULL offset advances the input position");
	lseek(in, 0, SEEK_SET);
	n = sendfile(out, in, &off, 8192);
	ok(n == 8192 && off == 4096 + 8192 && lseek(in, 0, SEEK_CUR) == 0,
	   "sendfile with an offset pointer updates it, not the fd position (n %zd off %ld)", n, (long)off);

	if (pipe(p) < 0)
		bail("pipe: %s", strerror(errno));
	off = 100;
	n = sendfile(p[1], in, &off, 1000);
	ok(n == 1000 && read(p[0], dst, sizeof(dst)) == 1000 && !memcmp(dst, src + 100, 1000),
	   "sendfile into a pipe delivers the requested bytes");
	close(p[0]);
	close(p[1]);

	cfr_whole("ext4", in, "/fs-copy-cfr");
	tin = mkfile("/tmp/fs-copy-src", src, LEN);
	cfr_whole("tmpfs", tin, "/tmp/fs-copy-cfr");

	oi = LEN;
	oo = 0;
	is_int(copy_file_range(in, &oi, out, &oo, 4096, 0), 0, "copy_file_range at the input's EOF returns 0");
	oi = 0;
	oo = 0;
	ok_errno(copy_file_range(in, &oi, out, &oo, 4096, 1), EINVAL, "copy_file_range with flags=1 fails with EINVAL");
	oi = 0;
	oo = 4096;
	ok_errno(copy_file_range(in, &oi, in, &oo, 8192, 0), EINVAL,
		 "copy_file_range between overlapping ranges of one file fails with EINVAL");
	oi = 0;
	oo = 0;
	ok_errno(copy_file_range(in, &oi, tin, &oo, 4096, 0), EXDEV,
		 "copy_file_range from ext4 to tmpfs fails with EXDEV");
	oi = 0;
	oo = 0;
	ok(copy_file_range(in, &oi, out, &oo, 0, 0) == 0, "copy_file_range of 0 bytes returns 0");
	return exit_status();
}
