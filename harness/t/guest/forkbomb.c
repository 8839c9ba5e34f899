/* a fork bomb: the guest must end it by its timeout (or the OOM killer) */
#include <stdio.h>
#include <unistd.h>
int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..2\nok 1 - forking\n");
	for (;;)
		fork();
}
