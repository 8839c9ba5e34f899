/* job.c - what the agent is to do (see agent.h): the words of the kernel
 * command line (the backend's devices, the user's extras), then the host's
 * key and job records on the serial line (PROTOCOL.md, "The job"). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

#define KEY_WAIT_MS 10000

long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What the host sent that no line has taken yet. The line is read in
 * chunks: a guest system call costs a UML vkernel tens of microseconds, and
 * one poll and one read per byte of the key and job records (~100 bytes)
 * cost ~80 ms a test. Nothing is lost past a record: the host sends nothing
 * between the job and the agent's S record (PROTOCOL.md), and after S the
 * serial line is read only here (await_ack) or by an interactive shell,
 * whose input the host starts forwarding only after S. */
static char rx[512];
static size_t rx_off, rx_len;

/* One line from the host (raw mode), within the deadline. */
static int read_line(char *line, size_t size, long long deadline)
{
	size_t len = 0;

	while (len < size - 1) {
		char c;

		if (rx_off == rx_len) {
			struct pollfd p = { .fd = agent_serial, .events = POLLIN };
			long long left = deadline - now_ms();
			ssize_t n;

			if (left <= 0)
				return -1;
			/* a long wait (a snapshot's template) is polled in slices */
			if (poll(&p, 1, left > 1000000 ? 1000000 : (int)left) <= 0 ||
			    !(p.revents & (POLLIN | POLLHUP)))
				continue;
			n = read(agent_serial, rx, sizeof(rx));
			if (n <= 0)
				continue;
			rx_off = 0;
			rx_len = (size_t)n;
		}
		c = rx[rx_off++];
		if (c == '\n' || c == '\r') {
			if (len == 0)
				continue;   /* a blank line between records */
			break;
		}
		line[len++] = c;
	}
	line[len] = '\0';
	return (int)len;
}

/* One word of the job: vkci.NAME=value. Returns -1 for a bad value. */
static int job_word(struct job *j, char *w)
{
	static const struct { const char *key; size_t off, size; } strings[] = {
		{ "vkci.serial=", offsetof(struct job, serial), sizeof(((struct job *)0)->serial) },
		{ "vkci.payload=", offsetof(struct job, payload), sizeof(((struct job *)0)->payload) },
		{ "vkci.test=", offsetof(struct job, test), sizeof(((struct job *)0)->test) },
		{ "vkci.scratch=", offsetof(struct job, scratch), sizeof(((struct job *)0)->scratch) },
		{ "vkci.fetch=", offsetof(struct job, fetch), sizeof(((struct job *)0)->fetch) },
		{ "vkci.seed=", offsetof(struct job, seed), sizeof(((struct job *)0)->seed) },
	};
	static const struct { const char *key; size_t off; unsigned long long max; } numbers[] = {
		{ "vkci.timeout=", offsetof(struct job, timeout_s), 7 * 86400 },
		{ "vkci.node=", offsetof(struct job, node), 249 },
		{ "vkci.nodes=", offsetof(struct job, nodes), 250 },
		{ "vkci.shell=", offsetof(struct job, shell), 1 },
		{ "vkci.snapshot=", offsetof(struct job, snapshot), 1 },
		{ "vkci.time=", offsetof(struct job, time_ms), 1ULL << 50 },
		{ "vkci.ack=", offsetof(struct job, ack), 1 },
	};
	size_t i, n;

	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		n = strlen(strings[i].key);
		if (!strncmp(w, strings[i].key, n))
			return snprintf((char *)j + strings[i].off, strings[i].size, "%s", w + n) <
			       (int)strings[i].size ? 0 : -1;
	}
	for (i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		unsigned long long v;

		n = strlen(numbers[i].key);
		if (strncmp(w, numbers[i].key, n))
			continue;
		if (proto_number(w + n, strlen(w + n), numbers[i].max, &v) < 0)
			return -1;
		if (numbers[i].off == offsetof(struct job, shell))
			j->shell = (int)v;
		else
			*(long *)((char *)j + numbers[i].off) = (long)v;
		return 0;
	}
	if (!strncmp(w, "vkci.arg=", 9)) {
		long k;

		if (j->argc > MAX_ARGS)
			return -1;
		k = proto_decode(w + 9, strlen(w + 9), j->args[j->argc - 1], sizeof(j->args[0]));
		if (k < 0 || memchr(j->args[j->argc - 1], '\0', (size_t)k))
			return -1;   /* malformed, too long, or a NUL the test cannot get */
		j->argv[j->argc] = j->args[j->argc - 1];
		j->argc++;
	}
	return 0;   /* not ours: a kernel parameter */
}

static int job_words(struct job *j, char *text, const char *where, char *err, size_t size)
{
	char *w, *save = NULL;

	for (w = strtok_r(text, " \n", &save); w; w = strtok_r(NULL, " \n", &save))
		if (!strncmp(w, "vkci.", 5) && job_word(j, w) < 0) {
			snprintf(err, size, "bad or too many '%.40s' words in %s", w, where);
			return -1;
		}
	return 0;
}

int read_cmdline(struct job *j, char *err, size_t size)
{
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	snprintf(j->serial, sizeof(j->serial), "%s", DEFAULT_SERIAL);
	j->timeout_s = 60;
	j->nodes = 1;
	j->argc = 1;
	if (fd < 0) {
		snprintf(err, size, "cannot open /proc/cmdline: %s", strerror(errno));
		return -1;
	}
	n = read(fd, j->cmdline, sizeof(j->cmdline) - 1);
	close(fd);
	if (n <= 0) {
		snprintf(err, size, "cannot read /proc/cmdline");
		return -1;
	}
	j->cmdline[n] = '\0';
	return job_words(j, j->cmdline, "the kernel command line", err, size);
}

/* "K <key>" then "J <key> <words>" from the host; the key is echoed. */
int receive_job(struct job *j, char *err, size_t size)
{
	/* a snapshot's template waits for as long as it is kept */
	long long deadline = j->snapshot ? (1LL << 62) : now_ms() + KEY_WAIT_MS;
	char line[PROTO_MAX_RECORD + 1], tag;
	const char *rest;
	size_t rn;
	int len;

	/* "P": the host restored this agent from a snapshot taken while it
	 * waited here, and asks for the hello again (a fresh wait for the key) */
	while ((len = read_line(line, sizeof(line), deadline)) == 1 && line[0] == 'P') {
		send_record('V', "vkci-agent 1", 12);
		deadline = now_ms() + KEY_WAIT_MS;
	}
	if (len < 0 || proto_split(line, (size_t)len, &tag, &rest, &rn) < 0 || tag != 'K' ||
	    !proto_is_token(rest, rn)) {
		snprintf(err, size, "no key from the host on the serial line");
		return -1;
	}
	memcpy(agent_key, rest, PROTO_TOKEN_LEN);
	agent_key[PROTO_TOKEN_LEN] = '\0';
	send_record('K', agent_key, PROTO_TOKEN_LEN);
	len = read_line(line, sizeof(line), deadline);
	if (len < 0 || proto_split(line, (size_t)len, &tag, &rest, &rn) < 0 || tag != 'J' ||
	    rn < PROTO_TOKEN_LEN || memcmp(rest, agent_key, PROTO_TOKEN_LEN) ||
	    (rn > PROTO_TOKEN_LEN && rest[PROTO_TOKEN_LEN] != ' ')) {
		snprintf(err, size, "no job from the host on the serial line");
		return -1;
	}
	memcpy(j->words, rest, rn);
	j->words[rn] = '\0';
	if (job_words(j, j->words + PROTO_TOKEN_LEN, "the host's job", err, size) < 0)
		return -1;
	j->argv[j->argc] = NULL;
	if (!j->shell && (!j->test[0] || strstr(j->test, "..") || j->test[0] == '/')) {
		snprintf(err, size, "no valid vkci.test= in the host's job");
		return -1;
	}
	if (j->timeout_s < 1) {
		snprintf(err, size, "bad vkci.timeout= in the host's job");
		return -1;
	}
	if (j->node >= j->nodes) {
		snprintf(err, size, "bad vkci.node=/vkci.nodes= in the host's job");
		return -1;
	}
	return 0;
}


void await_ack(void)
{
	long long deadline = now_ms() + KEY_WAIT_MS;
	char line[64], tag;
	const char *rest;
	size_t rn;
	int len;

	while ((len = read_line(line, sizeof(line), deadline)) >= 0)
		if (proto_split(line, (size_t)len, &tag, &rest, &rn) == 0 && tag == 'A' &&
		    rn == PROTO_TOKEN_LEN && !memcmp(rest, agent_key, PROTO_TOKEN_LEN))
			return;
}
