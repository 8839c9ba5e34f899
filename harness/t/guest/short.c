/* plans 5, runs 2, exits 0 */
#include <stdio.h>
int main(void)
{
	printf("1..5\nok 1 - one\nok 2 - two\n");
	return 0;
}
