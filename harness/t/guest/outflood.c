/* prints endless output on stdout: lines, or with "noline" one endless
 * line; the agent's timeout must end it */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	static char buf[4096];
	int noline = argc > 1 && !strcmp(argv[1], "noline");

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..2\nok 1 - flooding\n");
	memset(buf, 'y', sizeof(buf));
	if (!noline)
		buf[sizeof(buf) - 1] = '\n';
	for (;;)
		write(1, buf, sizeof(buf));
}
