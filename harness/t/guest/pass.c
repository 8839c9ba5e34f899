/* passes: plan, two oks, one line on stderr, echoes its arguments */
#include <stdio.h>
int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..2\nok 1 - pass runs\n");
	fprintf(stderr, "note on stderr\n");
	printf("ok 2 - argc=%d arg1=%s\n", argc, argc > 1 ? argv[1] : "(none)");
	return 0;
}
