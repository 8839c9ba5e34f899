/* fakekernel.c - a stand-in "vkernel" for testing vkci's process machinery
 * without booting. It takes the UML argv vkci builds (con0=fd:A,fd:B and
 * ssl0=fd:C,fd:D) and misbehaves as FAKE_MODE says:
 *   good        speaks the protocol, test passes, exits 0
 *   hang        says hello, then sleeps forever
 *   ignore-term says hello, ignores SIGTERM, sleeps forever
 *   grandchild  forks a grandchild that keeps the pipes open and sleeps,
 *               then passes the test and exits
 *   escape      like grandchild, but the grandchild leaves the process group
 *   flood       writes FAKE_FLOOD_MB (default 100) MiB to the console, then exits 1
 *   signal      starts the test, then dies by SIGSEGV
 *   garbage     writes random bytes on the serial line, then exits 0
 *   silent      exits 0 at once, saying nothing
 * With FAKE_FORBID_FD=N it first checks that fd N (open in vkci's caller)
 * did not reach it, and exits 1 if it did.
 * Every process it creates appends its pid to FAKE_PIDFILE, so a test can
 * check that none survives. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int con_out = -1, ser_in = -1, ser_out = -1;

static void put(int fd, const char *s)
{
	size_t n = strlen(s);

	while (n) {
		ssize_t w = write(fd, s, n);

		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void record_pid(void)
{
	const char *f = getenv("FAKE_PIDFILE");
	FILE *fp;

	if (!f || !(fp = fopen(f, "a")))
		return;
	fprintf(fp, "%d\n", (int)getpid());
	fclose(fp);
}

/* Read "K <token>\n" from the serial input; returns the token. */
static const char *key(void)
{
	static char line[64];
	size_t n = 0;

	while (n < sizeof(line) - 1 && read(ser_in, line + n, 1) == 1 && line[n] != '\n')
		n++;
	line[n] = '\0';
	return n > 2 ? line + 2 : "?";
}

static void protocol_pass(void)
{
	char buf[256];
	const char *k;

	put(ser_out, "V vkci-agent 1\n");
	k = key();
	snprintf(buf, sizeof(buf), "K %s\nS %s vm/fake\nO 1..1\nO ok 1 - fake\nX %s exit 0\nD %s\n",
		 k, k, k, k);
	put(ser_out, buf);
}

static void linger(int leave_group)
{
	pid_t p = fork();

	if (p == 0) {
		if (leave_group)
			setsid();
		record_pid();
		for (;;)
			pause();
	}
}

int main(int argc, char **argv)
{
	const char *mode = getenv("FAKE_MODE");
	int i;

	for (i = 1; i < argc; i++) {
		sscanf(argv[i], "con0=fd:%*d,fd:%d", &con_out);
		sscanf(argv[i], "ssl0=fd:%d,fd:%d", &ser_in, &ser_out);
	}
	if (con_out < 0 || ser_in < 0 || ser_out < 0) {
		fprintf(stderr, "fakekernel: no con0=/ssl0= fds on the command line\n");
		return 2;
	}
	record_pid();
	put(con_out, "fakekernel: booting\n");
	if (getenv("FAKE_FORBID_FD") && fcntl(atoi(getenv("FAKE_FORBID_FD")), F_GETFD) >= 0) {
		put(con_out, "fakekernel: inherited a descriptor vkci did not mean to pass\n");
		return 1;
	}
	if (!mode || !strcmp(mode, "good")) {
		protocol_pass();
		return 0;
	}
	if (!strcmp(mode, "hang") || !strcmp(mode, "ignore-term")) {
		if (mode[0] == 'i')
			signal(SIGTERM, SIG_IGN);
		put(ser_out, "V vkci-agent 1\n");
		for (;;)
			pause();
	}
	if (!strcmp(mode, "grandchild") || !strcmp(mode, "escape")) {
		linger(mode[0] == 'e');
		protocol_pass();
		return 0;
	}
	if (!strcmp(mode, "flood")) {
		static char block[65536];
		long mb = getenv("FAKE_FLOOD_MB") ? atol(getenv("FAKE_FLOOD_MB")) : 100, j;

		memset(block, 'F', sizeof(block));
		for (j = 0; j < mb * 16; j++)
			if (write(con_out, block, sizeof(block)) < 0)
				break;
		return 1;
	}
	if (!strcmp(mode, "signal")) {
		char buf[128];
		const char *k;

		put(ser_out, "V vkci-agent 1\n");
		k = key();
		snprintf(buf, sizeof(buf), "K %s\nS %s vm/fake\nO 1..2\nO ok 1\n", k, k);
		put(ser_out, buf);
		raise(SIGSEGV);
	}
	if (!strcmp(mode, "garbage")) {
		unsigned char junk[4096];
		unsigned s = 12345;

		for (i = 0; i < (int)sizeof(junk); i++)
			junk[i] = (unsigned char)((s = s * 1103515245u + 12345u) >> 16);
		write(ser_out, junk, sizeof(junk));
		return 0;
	}
	if (!strcmp(mode, "silent"))
		return 0;
	fprintf(stderr, "fakekernel: unknown FAKE_MODE '%s'\n", mode);
	return 2;
}
