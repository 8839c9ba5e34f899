/* calls mincore(2) 1000 times: the coverage test looks for the kernel's
 * mincore code in this instance's .gcda and not in another's */
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned char vec[4];
	char *p = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int i, ok = p != MAP_FAILED;

	printf("1..1\n");
	for (i = 0; ok && i < 1000; i++)
		ok = mincore(p, 4 * page, vec) == 0;
	printf("%sok 1 - 1000 mincore calls\n", ok ? "" : "not ");
	return !ok;
}
