/* the test passes but the kernel log reports an Oops through kmsg. UML has no
 * non-fatal oops: a kernel-mode fault, BUG() and die() all end in panic()
 * there (arch/um/kernel/trap.c, asm-generic/bug.h without GENERIC_BUG), so
 * this stands in for an oops that does not panic; hungtask.c makes a real
 * non-fatal kernel report */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(void)
{
	const char *msg = "<1>Oops: 0000 [#1] PREEMPT SMP planted by vkci's fault test\n";
	int fd = open("/dev/kmsg", O_WRONLY);

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..1\n");
	if (fd >= 0)
		write(fd, msg, strlen(msg));
	printf("ok 1 - wrote an oops to the kernel log and lived on\n");
	return 0;
}
