/* kunit-collect: sends the results of the KUnit suites that ran at boot
 * from a vkci guest, over the serial line (its stdout, relayed by the agent).
 *
 * KUnit runs its suites while the kernel boots, before any userspace; with
 * CONFIG_KUNIT_DEBUGFS each suite that ran leaves its KTAP in
 * /sys/kernel/debug/kunit/SUITE/results. The agent runs this program as
 * /payload/kunit-run/collect once the boot is over; ci/kunit.py splits what
 * it prints into one report per suite. The console (the kernel log) is never
 * read for results.
 *
 *   collect          every suite's results, each line as
 *                        # kunit SUITE <line of its results file>
 *                    then one TAP line per suite for the instance's own
 *                    verdict ("ok N - SUITE results: L lines": the file was
 *                    read; whether the suite passed is in its lines), and
 *                        # kunit-time SUITE MICROSECONDS
 *                    from the kernel log's timestamps (/dev/kmsg) when both
 *                    the suite's "# Subtest:" and its result line are still
 *                    in the log ring, and for each case of a suite
 *                        # kunit-case-time SUITE CASE MICROSECONDS
 *                    from the previous case's result line (the first: from
 *                    the suite's "# Subtest:") to its own; ci/kunit.py cuts
 *                    a slow suite's cases over instances by these
 *   collect list     the kernel was booted with kunit.action=list: the
 *                    suites and cases it lists, from /dev/kmsg, as
 *                        # kunit-list SUITE  and  # kunit-list SUITE.CASE
 *
 * The first line is always "# kunit-collect 1": the boot got this far.
 * Exit status: 0, or 1 with a "not ok" line saying what could not be read. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KUNIT_DIR "/sys/kernel/debug/kunit"
#define MAX_SUITES 4096
#define NAME_MAX_LEN 256          /* struct kunit_suite's name[256] */
#define RESULTS_MAX (16u << 20)   /* one suite's results file, bytes */

struct timing {
	char name[NAME_MAX_LEN];
	long long start_us, end_us;   /* -1 until seen */
};

static struct timing timings[MAX_SUITES];
static int ntimings;

static struct timing *timing_of(const char *name, size_t len, int create)
{
	int i;

	if (len == 0 || len >= NAME_MAX_LEN)
		return NULL;
	for (i = ntimings - 1; i >= 0; i--)
		if (!strncmp(timings[i].name, name, len) && !timings[i].name[len])
			return &timings[i];
	if (!create || ntimings >= MAX_SUITES)
		return NULL;
	memcpy(timings[ntimings].name, name, len);
	timings[ntimings].name[len] = '\0';
	timings[ntimings].start_us = timings[ntimings].end_us = -1;
	return &timings[ntimings++];
}

/* A suite's result line at the top level: "ok 3 name" or "not ok 3 name",
 * maybe "# SKIP ...". Returns the name's length (at *name), else 0. */
static size_t suite_result(const char *msg, const char **name)
{
	const char *p = msg;
	size_t n = 0;

	if (!strncmp(p, "not ok ", 7))
		p += 7;
	else if (!strncmp(p, "ok ", 3))
		p += 3;
	else
		return 0;
	if (*p < '0' || *p > '9')
		return 0;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p++ != ' ')
		return 0;
	while (p[n] && p[n] != ' ' && p[n] != '\n')
		n++;
	*name = p;
	return n;
}

/* Every record of the kernel log ring: "PRI,SEQ,USEC,FLAGS;MESSAGE\n" and
 * continuation lines (" KEY=VALUE"). fn gets the message and its time. */
static int read_kmsg(void (*fn)(const char *msg, long long us, void *ctx), void *ctx, int *lost)
{
	static char rec[8192 + 1];
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	*lost = 0;
	if (fd < 0)
		return -1;
	for (;;) {
		ssize_t r = read(fd, rec, sizeof(rec) - 1);
		char *semi, *nl, *p;
		long long us;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EPIPE) {   /* overwritten before we read it */
			(*lost)++;
			continue;
		}
		if (r <= 0)
			break;
		rec[r] = '\0';
		semi = strchr(rec, ';');
		if (!semi)
			continue;
		/* the third field is the time in microseconds */
		p = strchr(rec, ',');
		p = p ? strchr(p + 1, ',') : NULL;
		if (!p || p > semi)
			continue;
		us = strtoll(p + 1, NULL, 10);
		nl = strchr(semi + 1, '\n');
		if (nl)
			*nl = '\0';
		fn(semi + 1, us, ctx);
	}
	close(fd);
	return 0;
}

#define MAX_CASE_TIMES 65536     /* kunit-case-time lines per collect */

/* The suite whose cases are being timed (its "# Subtest:" seen, its result
 * line not yet), and the time of its last case boundary. */
static struct timing *case_suite;
static long long case_mark_us;
static int case_times;

static void time_record(const char *msg, long long us, void *ctx)
{
	const char *name;
	size_t n;
	struct timing *t;

	(void)ctx;
	if (!strncmp(msg, "    # Subtest: ", 15)) {
		n = strcspn(msg + 15, " ");
		if ((t = timing_of(msg + 15, n, 1)))
			t->start_us = us, t->end_us = -1;
		case_suite = t;
		case_mark_us = us;
	} else if ((n = suite_result(msg, &name)) && (t = timing_of(name, n, 0)) && t->start_us >= 0) {
		t->end_us = us;
		case_suite = NULL;
	} else if (case_suite && !strncmp(msg, "    ", 4) && (n = suite_result(msg + 4, &name))) {
		/* a case's result, one level in (a parameter's is two) */
		if (case_times++ < MAX_CASE_TIMES && us >= case_mark_us)
			printf("# kunit-case-time %s %.*s %lld\n", case_suite->name, (int)n, name,
			       us - case_mark_us);
		case_mark_us = us;
	}
}

struct listing {
	int in_list;       /* the "KTAP version 1" header of the listing was seen */
	int suites, cases;
};

static void list_record(const char *msg, long long us, void *ctx)
{
	struct listing *l = ctx;
	size_t n = strlen(msg), i;

	(void)us;
	if (!strcmp(msg, "KTAP version 1")) {
		l->in_list = 1;
		return;
	}
	if (!l->in_list || n == 0 || n >= 2 * NAME_MAX_LEN)
		return;
	for (i = 0; i < n; i++)   /* names have no blanks: other messages do */
		if (msg[i] == ' ' || msg[i] == '\t' || (unsigned char)msg[i] < 0x20)
			return;
	printf("# kunit-list %s\n", msg);
	if (strchr(msg, '.'))
		l->cases++;
	else
		l->suites++;
}

static int list_mode(void)
{
	struct listing l = { 0, 0, 0 };
	int lost;

	printf("1..1\n");
	if (read_kmsg(list_record, &l, &lost) < 0) {
		printf("not ok 1 - cannot read /dev/kmsg: %s\n", strerror(errno));
		return 1;
	}
	if (!l.in_list) {
		printf("not ok 1 - no KUnit listing in the kernel log%s (boot with kunit.action=list)\n",
		       lost ? " (records were lost: the log ring is too small, CONFIG_LOG_BUF_SHIFT)" : "");
		return 1;
	}
	if (lost)
		printf("# kunit-list-lost %d\n", lost);
	printf("ok 1 - KUnit lists %d suites, %d cases\n", l.suites, l.cases);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The whole results file (debugfs reports size 0: read to EOF). */
static char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 65536, n = 0;
	char *buf;

	if (fd < 0)
		return NULL;
	buf = malloc(cap + 1);
	while (buf) {
		ssize_t r;

		if (n == cap) {
			char *nb = cap >= RESULTS_MAX ? NULL : realloc(buf, cap * 2 + 1);

			if (!nb) {
				free(buf);
				buf = NULL;
				errno = EFBIG;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			buf = NULL;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (buf) {
		buf[n] = '\0';
		*len = n;
	}
	return buf;
}

static int collect(void)
{
	char *names[MAX_SUITES];
	int n = 0, i, failed = 0, lost;
	struct dirent *e;
	DIR *d;

	read_kmsg(time_record, NULL, &lost);
	d = opendir(KUNIT_DIR);
	if (!d) {
		printf("1..0 # SKIP cannot open %s: %s (a kernel without CONFIG_KUNIT_DEBUGFS?)\n",
		       KUNIT_DIR, strerror(errno));
		return 0;
	}
	while ((e = readdir(d)) && n < MAX_SUITES) {
		if (e->d_name[0] == '.')
			continue;
		names[n] = strdup(e->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), by_name);
	if (n == 0) {
		printf("1..0 # SKIP no KUnit suite ran (nothing matched kunit.filter_glob?)\n");
		return 0;
	}
	printf("1..%d\n", n);
	for (i = 0; i < n; i++) {
		char path[sizeof(KUNIT_DIR) + NAME_MAX_LEN + 16];
		struct timing *t = timing_of(names[i], strlen(names[i]), 0);
		size_t len = 0, lines = 0;
		char *text, *p;

		snprintf(path, sizeof(path), "%s/%s/results", KUNIT_DIR, names[i]);
		text = slurp(path, &len);
		if (!text) {
			printf("not ok %d - %s results: cannot read %s: %s\n", i + 1, names[i], path,
			       strerror(errno));
			failed = 1;
			continue;
		}
		for (p = text; p < text + len;) {
			char *nl = memchr(p, '\n', (size_t)(text + len - p));
			size_t l = nl ? (size_t)(nl - p) : (size_t)(text + len - p);

			printf("# kunit %s %.*s\n", names[i], (int)l, p);
			lines++;
			p += l + 1;
		}
		free(text);
		if (t && t->start_us >= 0 && t->end_us >= t->start_us)
			printf("# kunit-time %s %lld\n", names[i], t->end_us - t->start_us);
		printf("ok %d - %s results: %zu lines\n", i + 1, names[i], lines);
		fflush(stdout);
	}
	if (lost)
		printf("# kunit-time-lost %d kernel log records (CONFIG_LOG_BUF_SHIFT too small to time every suite)\n",
		       lost);
	for (i = 0; i < n; i++)
		free(names[i]);
	return failed;
}

int main(int argc, char **argv)
{
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# kunit-collect 1\n");   /* the host knows the boot got this far */
	r = argc > 1 && !strcmp(argv[1], "list") ? list_mode() : collect();
	fflush(stdout);
	return r;
}
