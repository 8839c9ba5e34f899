/* fails while the kernel command line carries vkci_t_flaky=fail (which the
 * fake kernel wrapper harness/t/fake/flaky-kernel adds to the first boots
 * only), passes otherwise: a flaky test for the retry tests */
#include <stdio.h>
#include <string.h>
int main(void)
{
	char cmdline[4096] = "";
	FILE *f = fopen("/proc/cmdline", "r");

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (f) {
		fgets(cmdline, sizeof(cmdline), f);
		fclose(f);
	}
	printf("1..2\nok 1 - flaky starts\n");
	if (strstr(cmdline, "vkci_t_flaky=fail")) {
		printf("not ok 2 - flaky: this boot was told to fail\n");
		return 1;
	}
	printf("ok 2 - flaky: this boot passes\n");
	return 0;
}
