/* one assertion fails, exits 1 as kselftest tests do */
#include <stdio.h>
int main(void)
{
	printf("1..2\nok 1 - first\nnot ok 2 - second is wrong\n");
	return 1;
}
