/* floods stdout with ~64 MiB and the console with ~8 MiB, then passes */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(void)
{
	static char line[4096];
	int i, k = open("/dev/kmsg", O_WRONLY);

	printf("1..1\n");
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	for (i = 0; i < 16384; i++)
		fwrite(line, 1, sizeof(line), stdout);
	for (i = 0; k >= 0 && i < 8192; i++)
		write(k, "<6>console flood line ..................................................\n", 76);
	printf("\nok 1 - flooded\n");
	return 0;
}
