/* Every instance starts from the same clean state: no mark an earlier
 * instance left in /tmp or on the root, and what must differ between
 * clones of one snapshot does (boot id, random bytes) while the clock is
 * the host's. Leaves both marks behind and prints what the harness test
 * compares across runs as diagnostics. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static int mark(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		return -1;
	if (write(fd, "x\n", 2) != 2) {
		close(fd);
		return -1;
	}
	fsync(fd);
	return close(fd);
}

int main(void)
{
	unsigned char rnd[16];
	char id[64] = "";
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
	int i;

	printf("1..3\n");
	printf("%sok 1 - no mark from an earlier instance in /tmp\n", access("/tmp/vkci-fresh-mark", F_OK) ? "" : "not ");
	printf("%sok 2 - no mark from an earlier instance on the root\n", access("/vkci-fresh-mark", F_OK) ? "" : "not ");
	printf("%sok 3 - marks left for the next instance\n",
	       mark("/tmp/vkci-fresh-mark") == 0 && mark("/vkci-fresh-mark") == 0 ? "" : "not ");
	if (f && fgets(id, sizeof(id), f))
		id[strcspn(id, "\n")] = '\0';
	if (f)
		fclose(f);
	printf("# boot_id %s\n", id);
	if (getrandom(rnd, sizeof(rnd), 0) == (ssize_t)sizeof(rnd)) {
		printf("# random ");
		for (i = 0; i < (int)sizeof(rnd); i++)
			printf("%02x", rnd[i]);
		printf("\n");
	}
	printf("# time %lld\n", (long long)time(NULL));
	return 0;
}
