/* a scratch disk of the declared size: formatted with the image's mkfs.ext4,
 * mounted, written, read back, unmounted */
/* vkci: scratch=32M timeout=30 */
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	const char *dev = getenv("VKCI_SCRATCH");
	unsigned long long size = 0;
	char buf[16] = "";
	int fd, st;
	pid_t p;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..4\n");
	if (!dev) {
		printf("not ok 1 - VKCI_SCRATCH set\n");
		return 1;
	}
	fd = open(dev, O_RDONLY);
	ioctl(fd, BLKGETSIZE64, &size);
	close(fd);
	printf("%sok 1 - %s is %llu bytes\n", size == 32ULL << 20 ? "" : "not ", dev, size);
	p = fork();
	if (p == 0) {
		execl("/sbin/mkfs.ext4", "mkfs.ext4", "-q", "-F", dev, (char *)NULL);
		_exit(127);
	}
	waitpid(p, &st, 0);
	printf("%sok 2 - mkfs.ext4 %s\n", WIFEXITED(st) && !WEXITSTATUS(st) ? "" : "not ", dev);
	mkdir("/mnt/s", 0755);
	printf("%sok 3 - mounted\n", mount(dev, "/mnt/s", "ext4", 0, NULL) ? "not " : "");
	fd = open("/mnt/s/f", O_RDWR | O_CREAT, 0644);
	write(fd, "persist", 7);
	fsync(fd);
	close(fd);
	umount("/mnt/s");
	mount(dev, "/mnt/s", "ext4", 0, NULL);
	fd = open("/mnt/s/f", O_RDONLY);
	read(fd, buf, sizeof(buf) - 1);
	close(fd);
	umount("/mnt/s");
	printf("%sok 4 - data survived a remount ('%s')\n", strcmp(buf, "persist") ? "not " : "", buf);
	return 0;
}
