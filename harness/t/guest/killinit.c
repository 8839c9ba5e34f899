/* attacks the guest agent (PID 1). "signals": every signal a process may
 * send to init from inside (the kernel drops those init has no handler
 * for), then checks the agent still runs: the test passes. "ptrace": attach
 * to PID 1, point its instruction pointer at 0 and detach: the agent
 * faults and dies, the kernel panics ("Attempted to kill init") */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static const int sigs[] = { SIGKILL, SIGTERM, SIGINT, SIGHUP, SIGSEGV, SIGABRT,
				    SIGUSR1, SIGQUIT, SIGSTOP, SIGCONT, SIGCHLD, SIGPIPE };
	struct user_regs_struct r;
	unsigned i;
	int st;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "ptrace")) {
		printf("1..2\n");
		if (ptrace(PTRACE_ATTACH, 1, 0, 0) || waitpid(1, &st, __WALL) != 1) {
			printf("not ok 1 - ptrace attach to PID 1: %s\n", strerror(errno));
			return 1;
		}
		ptrace(PTRACE_GETREGS, 1, 0, &r);
		r.rip = 0;
		ptrace(PTRACE_SETREGS, 1, 0, &r);
		ptrace(PTRACE_DETACH, 1, 0, 0);
		printf("ok 1 - PID 1 sent to address 0\n");
		sleep(5);
		printf("not ok 2 - the agent survived a jump to address 0\n");
		return 1;
	}
	printf("1..%zu\n", sizeof(sigs) / sizeof(sigs[0]) + 1);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		int r = kill(1, sigs[i]);

		printf("ok %u - kill(1, %s) = %d\n", i + 1, strsignal(sigs[i]), r);
	}
	usleep(200000);
	printf("%sok %u - the agent (PID 1) is still there\n", kill(1, 0) ? "not " : "", i + 1);
	return 0;
}
