/* leaves a background child that holds stdout open and never exits */
#include <stdio.h>
#include <unistd.h>
int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..1\n");
	if (fork() == 0) {
		for (;;)
			pause();
	}
	printf("ok 1 - parent done, child lingers\n");
	return 0;
}
