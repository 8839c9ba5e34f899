/* bare-init.c - the smallest possible PID 1 for the bare-boot baseline of
 * ci/bench/engine.py: power off at once. */
#include <sys/reboot.h>
#include <unistd.h>
int main(void)
{
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}
