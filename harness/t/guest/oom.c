/* allocates and touches memory until the guest's OOM killer ends it */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void)
{
	long mib;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..2\nok 1 - allocating\n");
	for (mib = 1;; mib++) {
		char *p = malloc(1 << 20);

		if (!p)
			break;
		memset(p, 0x5a, 1 << 20);
		if (mib % 32 == 0)
			printf("# %ld MiB\n", mib);
	}
	printf("not ok 2 - malloc failed after %ld MiB instead of the OOM killer\n", mib);
	return 1;
}
