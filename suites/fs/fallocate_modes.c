/* fallocate(2) modes on ext4: plain preallocation (size, blocks, zeros),
 * KEEP_SIZE past EOF, PUNCH_HOLE|KEEP_SIZE (zeros, frees blocks, keeps
 * size), PUNCH_HOLE without KEEP_SIZE is EOPNOTSUPP, ZERO_RANGE and
 * COLLAPSE_RANGE (ext4 has them since Linux 3.15); punching on tmpfs too */
/* vkci: timeout=30 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>

#include "vkci_test.h"

#define K64 (64 * 1024L)
#define M1 (1024 * 1024L)

static unsigned char buf[M1];

static long blocks(int fd)
{
	struct stat st;

	return fstat(fd, &st) < 0 ? -1 : (long)st.st_blocks;
}

static off_t size_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) < 0 ? -1 : st.st_size;
}

/* every byte of [off, off+len) equals v */
static int all(int fd, off_t off, long len, unsigned char v)
{
	long i;

	if (pread(fd, buf, len, off) != len)
		return 0;
	for (i = 0; i < len; i++)
		if (buf[i] != v)
			return 0;
	return 1;
}

/* 1M file: 64K chunk k holds byte k+1 */
static void pattern(int fd)
{
	long i;

	for (i = 0; i < M1; i++)
		buf[i] = (unsigned char)(i / K64 + 1);
	if (pwrite(fd, buf, M1, 0) != M1 || fsync(fd) < 0)
		bail("pwrite: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	long b0, b1;
	int fd, r;

	vt_init(argc, argv);
	plan(12);
	fd = open("/fs-fallocate", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		bail("create: %s", strerror(errno));

	r = fallocate(fd, 0, 0, M1);
	ok(r == 0 && size_of(fd) == M1 && blocks(fd) >= M1 / 512,
	   "fallocate(0, 1M) sets the size to 1M and allocates >= 1M (size %ld, st_blocks %ld)",
	   (long)size_of(fd), blocks(fd));
	ok(all(fd, 0, M1, 0), "preallocated space reads as zeros");
	b0 = blocks(fd);
	r = fallocate(fd, FALLOC_FL_KEEP_SIZE, M1, M1);
	b1 = blocks(fd);
	ok(r == 0 && size_of(fd) == M1 && b1 - b0 >= M1 / 512,
	   "KEEP_SIZE past EOF allocates blocks without changing the size (+%ld blocks)", b1 - b0);
	ok_errno(fallocate(fd, 0, 0, 0), EINVAL, "fallocate with len 0 fails with EINVAL");
	ok_errno(fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, K64), EOPNOTSUPP,
		 "PUNCH_HOLE without KEEP_SIZE fails with EOPNOTSUPP");

	ftruncate(fd, 0);
	pattern(fd);
	b0 = blocks(fd);
	r = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4 * K64, 2 * K64);
	b1 = blocks(fd);
	ok(r == 0 && size_of(fd) == M1 && b0 - b1 == 2 * K64 / 512,
	   "PUNCH_HOLE|KEEP_SIZE of 128K keeps the size and frees 256 sectors (freed %ld)", b0 - b1);
	ok(all(fd, 4 * K64, 2 * K64, 0) && all(fd, 3 * K64, K64, 4) && all(fd, 6 * K64, K64, 7),
	   "the punched range reads zero, its neighbours are intact");

	/* ext4 has ZERO_RANGE and COLLAPSE_RANGE since Linux 3.15 */
	if (vt_kernel_older(3, 15)) {
		skip(3, "ext4 has ZERO_RANGE and COLLAPSE_RANGE since Linux 3.15");
	} else {
		r = fallocate(fd, FALLOC_FL_ZERO_RANGE, 8 * K64 + 100, K64);
		if (!ok(r == 0 && size_of(fd) == M1 && all(fd, 8 * K64 + 100, K64, 0),
			"ZERO_RANGE of an unaligned 64K range zeroes it (r=%d)", r))
			diag("fallocate(ZERO_RANGE): %s", r < 0 ? strerror(errno) : "wrong contents");
		ok(all(fd, 8 * K64, 100, 9) && all(fd, 9 * K64 + 100, K64 - 100, 10),
		   "the bytes either side of ZERO_RANGE are untouched");

		r = fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, K64);
		if (!ok(r == 0 && size_of(fd) == M1 - K64 && all(fd, 0, K64, 2) && all(fd, 14 * K64, K64, 16),
			"COLLAPSE_RANGE of the first 64K shifts the file down and shrinks it (r=%d)", r))
			diag("fallocate(COLLAPSE_RANGE): %s", r < 0 ? strerror(errno) : "wrong contents");
	}
	close(fd);

	/* tmpfs: punching works the same way */
	fd = open("/tmp/fs-fallocate", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		bail("create on tmpfs: %s", strerror(errno));
	pattern(fd);
	b0 = blocks(fd);
	r = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4 * K64, 2 * K64);
	b1 = blocks(fd);
	ok(r == 0 && size_of(fd) == M1 && b0 - b1 == 2 * K64 / 512,
	   "tmpfs: PUNCH_HOLE|KEEP_SIZE frees 256 sectors and keeps the size (freed %ld)", b0 - b1);
	ok(all(fd, 4 * K64, 2 * K64, 0) && all(fd, 6 * K64, K64, 7),
	   "tmpfs: the punched range reads zero, the next chunk is intact");
	close(fd);
	return exit_status();
}
