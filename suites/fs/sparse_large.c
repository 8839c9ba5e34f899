/* sparse files at large offsets and file size limits: a byte written at
 * 1 TiB on ext4 and tmpfs allocates one block, reads around it are zeros,
 * SEEK_DATA finds it; past ext4's maximum file size writes and truncates
 * fail with EFBIG and lseek with EINVAL; RLIMIT_FSIZE gives short writes,
 * then EFBIG */
/* vkci: timeout=30 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "vkci_test.h"

#define TIB (1LL << 40)
#define PIB (1LL << 50)

static int zeros(const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

/* 3 assertions */
static void at_1tib(const char *fs, const char *path)
{
	char buf[4096];
	struct stat st;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	ssize_t w;

	w = pwrite(fd, "Q", 1, TIB);
	fsync(fd);
	fstat(fd, &st);
	ok(w == 1 && st.st_size == TIB + 1 && st.st_blocks > 0 && st.st_blocks <= 64,
	   "%s: one byte at 1 TiB: size 2^40+1, %ld sectors allocated", fs, (long)st.st_blocks);
	memset(buf, 1, sizeof(buf));
	ok(pread(fd, buf, sizeof(buf), TIB - 2048) == 2049 && zeros(buf, 2048) && buf[2048] == 'Q',
	   "%s: the read ending at EOF is 2048 zeros then the byte", fs);
	is_int(lseek(fd, TIB / 2, SEEK_DATA), TIB & ~(off_t)(st.st_blksize - 1),
	       "%s: SEEK_DATA from 512 GiB lands on the block holding the byte", fs);
	close(fd);
}

int main(int argc, char **argv)
{
	struct rlimit rl = { 1 << 20, 1 << 20 };
	char buf[8192];
	int fd;

	vt_init(argc, argv);
	plan(12);
	memset(buf, 'r', sizeof(buf));
	at_1tib("ext4", "/fs-sparse");
	at_1tib("tmpfs", "/tmp/fs-sparse");

	fd = open("/fs-sparse", O_RDWR);
	ok_errno(pwrite(fd, "x", 1, PIB), EFBIG, "ext4: pwrite at 1 PiB (past s_maxbytes) fails with EFBIG");
	ok_errno(ftruncate(fd, PIB), EFBIG, "ext4: ftruncate to 1 PiB fails with EFBIG");
	ok_errno(lseek(fd, PIB, SEEK_SET), EINVAL, "ext4: lseek to 1 PiB fails with EINVAL");
	ok_errno(pwrite(fd, "x", 1, -1), EINVAL, "pwrite at a negative offset fails with EINVAL");
	close(fd);

	/* RLIMIT_FSIZE: with SIGXFSZ ignored, a write crossing the limit is cut short */
	signal(SIGXFSZ, SIG_IGN);
	fd = open("/tmp/fs-fsize", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || setrlimit(RLIMIT_FSIZE, &rl) < 0)
		bail("setup: %s", strerror(errno));
	is_int(pwrite(fd, buf, sizeof(buf), (1 << 20) - 100), 100,
	       "RLIMIT_FSIZE 1M: an 8K write at 1M-100 writes only 100 bytes");
	ok_errno(pwrite(fd, buf, 1, 1 << 20), EFBIG, "a write at the limit fails with EFBIG");
	close(fd);
	return exit_status();
}
