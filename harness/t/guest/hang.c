/* sleeps forever after one ok: the guest agent's timeout must end it */
#include <stdio.h>
#include <unistd.h>
int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..2\nok 1 - about to hang\n");
	for (;;)
		pause();
}
