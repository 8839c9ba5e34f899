/* busy-loops forever (never sleeps): the guest agent's timeout must end it */
#include <stdio.h>
int main(void)
{
	volatile unsigned long n = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..2\nok 1 - about to spin\n");
	for (;;)
		n++;
}
