/* the agent holds each test at its first instruction with ptrace until its
 * started record has left the guest, then detaches: the test must run
 * untraced and be free to be traced by its own children (or debuggers) */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	char line[256];
	int tracer = -1, st;
	FILE *f = fopen("/proc/self/status", "r");
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..2\n");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "TracerPid:", 10))
			sscanf(line + 10, "%d", &tracer);
	printf("%sok 1 - not traced (TracerPid %d)\n", tracer ? "not " : "", tracer);
	pid = fork();
	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
			_exit(3);
		raise(SIGSTOP);
		_exit(0);
	}
	st = 0;
	waitpid(pid, &st, 0);
	if (WIFSTOPPED(st)) {
		ptrace(PTRACE_CONT, pid, NULL, NULL);
		waitpid(pid, &st, 0);
		printf("ok 2 - a child of the test can be traced by it\n");
		return tracer != 0;
	}
	printf("not ok 2 - a child of the test could not be traced (status %#x)\n", st);
	return 1;
}
