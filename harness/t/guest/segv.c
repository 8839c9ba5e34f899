/* dies by SIGSEGV after one ok */
#include <stdio.h>
int main(void)
{
	volatile int *p = (int *)16;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..3\nok 1 - before the crash\n");
	return *p;
}
