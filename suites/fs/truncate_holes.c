/* truncate and holes on ext4 and tmpfs: SEEK_DATA/SEEK_HOLE find exactly
 * the written ranges, an extending ftruncate leaves a hole at the tail,
 * holes read as zeros, st_blocks counts only allocated data, and shrinking
 * then re-extending a file never brings old bytes back */
/* vkci: timeout=30 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/stat.h>

#include "vkci_test.h"

#define K64 (64 * 1024L)
#define M1 (1024 * 1024L)

static char chunk[K64], zero[K64], rd[K64];

static void run(const char *fs, const char *path)
{
	struct stat st;
	off_t o1, o2, o3, o4;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	long nonzero = 0, i;

	if (fd < 0)
		bail("create %s: %s", path, strerror(errno));
	/* data [0,64K) hole [64K,1M) data [1M,1M+64K) hole [1M+64K,4M) */
	if (pwrite(fd, chunk, K64, 0) != K64 || pwrite(fd, chunk, K64, M1) != K64)
		bail("pwrite: %s", strerror(errno));
	if (ftruncate(fd, 4 * M1) < 0)
		bail("ftruncate: %s", strerror(errno));
	fsync(fd);

	o1 = lseek(fd, 0, SEEK_DATA);
	o2 = lseek(fd, 0, SEEK_HOLE);
	o3 = lseek(fd, K64, SEEK_DATA);
	o4 = lseek(fd, M1, SEEK_HOLE);
	ok(o1 == 0 && o2 == K64 && o3 == M1 && o4 == M1 + K64,
	   "%s: SEEK_DATA/SEEK_HOLE map data@0 hole@64K data@1M hole@1M+64K (got %ld %ld %ld %ld)",
	   fs, (long)o1, (long)o2, (long)o3, (long)o4);
	ok_errno(lseek(fd, M1 + K64, SEEK_DATA), ENXIO,
		 "%s: SEEK_DATA in the hole left by an extending ftruncate gives ENXIO", fs);
	is_int(lseek(fd, 2 * M1, SEEK_HOLE), 2 * M1, "%s: SEEK_HOLE inside a hole returns the offset itself", fs);
	ok_errno(lseek(fd, 4 * M1, SEEK_HOLE), ENXIO, "%s: SEEK_HOLE at EOF gives ENXIO", fs);
	fstat(fd, &st);
	ok(st.st_size == 4 * M1 && st.st_blocks == 2 * K64 / 512,
	   "%s: size 4M with only 128K allocated (st_size %ld, st_blocks %ld, want %ld)", fs,
	   (long)st.st_size, (long)st.st_blocks, 2 * K64 / 512);
	ok(pread(fd, rd, K64, 512 * 1024) == K64 && !memcmp(rd, zero, K64), "%s: the hole reads as zeros", fs);

	/* shrink into the first chunk, extend again: the cut bytes are gone */
	ftruncate(fd, 100);
	ftruncate(fd, 2 * M1);
	pread(fd, rd, K64, 0);
	for (i = 100; i < K64; i++)
		nonzero += rd[i] != 0;
	ok(!memcmp(rd, chunk, 100) && nonzero == 0,
	   "%s: truncate to 100 then extend keeps 100 bytes, the rest reads zero (%ld stale)", fs, nonzero);
	fstat(fd, &st);
	ok(st.st_blocks < 2 * K64 / 512 && st.st_size == 2 * M1,
	   "%s: shrinking freed the second chunk (st_blocks %ld)", fs, (long)st.st_blocks);
	close(fd);
}

int main(int argc, char **argv)
{
	vt_init(argc, argv);
	plan(16);
	memset(chunk, 0x5a, sizeof(chunk));
	run("ext4", "/fs-truncate-holes");
	run("tmpfs", "/tmp/fs-truncate-holes");
	return exit_status();
}
