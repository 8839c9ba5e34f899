/* vkci_test.h - TAP for guest tests, in kselftest / c-tap-harness vocabulary.
 *
 * A test is one static C program; include this header once, call
 * vt_init(argc, argv) first, then plan() and assertions, and end with
 * `return exit_status();`.
 *
 *   plan(n)                 "1..n"; n assertions follow
 *   plan_skip_all(fmt, ...) "1..0 # SKIP reason" and exit 4 (kselftest skip)
 *   ok(cond, fmt, ...)      one assertion; returns cond
 *   is_int(got, want, ...)  integers; prints both on failure
 *   is_string(got, want,..) strings (NULL-safe)
 *   ok_errno(call, err,...) `call` returned -1 with errno == err
 *   ok_sys(call, ...)       `call` did not return -1 (prints errno if it did)
 *   skip(n, fmt, ...)       n assertions skipped with a reason
 *   diag(fmt, ...)          "# ..." on stdout
 *   bail(fmt, ...)          "Bail out! ..." and exit 1
 *   run_in_child(fn, arg, &status)  fork, run fn(arg) in the child, wait;
 *                           the wait status says how it ended
 *   vt_run(path, argv)      run a program (its stdout onto stderr, so TAP
 *                           stays clean): exit status, 128+signal or -1
 *   vt_read_faults(p)       1 if reading *p raises SIGSEGV (caught), else 0
 *   vt_now_ms()             CLOCK_MONOTONIC in milliseconds
 *   vt_smaps_field(addr, "Rss")  a field (kB) of the /proc/self/smaps block
 *                           of the mapping starting at addr, -1 if missing
 *   vt_kernel_older(5, 7)   1 when the running kernel's version (uname) is
 *                           before 5.7: the one reason a test may skip a
 *                           feature the kernel gained in that version
 *   exit_status()           0 all passed, 1 some failed (kselftest codes)
 *
 * Output is line-buffered, so a crash never eats the last line.
 *
 * Planted faults: run a test with the argument --plant-fault (or with
 * VKCI_PLANT_FAULT=1 in its environment) and its first assertion is
 * inverted. Every test must then fail - `make check PLANT_FAULT=1` proves
 * that each suite can detect a fault at all.
 *
 * Helpers return values; nothing here exits except plan_skip_all and bail.
 */
#ifndef VKCI_TEST_H
#define VKCI_TEST_H

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define VT_SKIP_EXIT 4

static int vt_planned = -1;  /* -1: no plan yet */
static int vt_count;         /* assertions so far */
static int vt_failed;        /* of which failed */
static int vt_plant;         /* invert the next assertion once */

#define VT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define VT_FN static __attribute__((unused))

VT_FN void vt_vline(const char *prefix, const char *fmt, va_list ap)
{
	fputs(prefix, stdout);
	vprintf(fmt, ap);
	putchar('\n');
}

VT_FN VT_PRINTF(1, 2) void diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vt_vline("# ", fmt, ap);
	va_end(ap);
}

VT_FN void vt_init(int argc, char **argv)
{
	const char *e = getenv("VKCI_PLANT_FAULT");
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	setvbuf(stderr, NULL, _IONBF, 0);
	if (e && !strcmp(e, "1"))
		vt_plant = 1;
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--plant-fault"))
			vt_plant = 1;
}

VT_FN void plan(int n)
{
	vt_planned = n;
	printf("1..%d\n", n);
}

VT_FN VT_PRINTF(1, 2) void plan_skip_all(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vt_vline("1..0 # SKIP ", fmt, ap);
	va_end(ap);
	exit(VT_SKIP_EXIT);
}

VT_FN VT_PRINTF(1, 2) void bail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vt_vline("Bail out! ", fmt, ap);
	va_end(ap);
	exit(1);
}

/* the one place a result line is printed */
VT_FN int vt_result(int pass, const char *fmt, va_list ap)
{
	if (vt_plant) {
		vt_plant = 0;
		pass = !pass;
		diag("planted fault: the next result is inverted");
	}
	vt_count++;
	if (!pass)
		vt_failed++;
	printf("%sok %d - ", pass ? "" : "not ", vt_count);
	vprintf(fmt, ap);
	putchar('\n');
	return pass;
}

VT_FN VT_PRINTF(2, 3) int ok(int pass, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vt_result(pass, fmt, ap);
	va_end(ap);
	return r;
}

VT_FN VT_PRINTF(3, 4) int is_int(long long got, long long want, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vt_result(got == want, fmt, ap);
	va_end(ap);
	if (got != want)
		diag("     got: %lld\n#   wanted: %lld", got, want);
	return r;
}

VT_FN VT_PRINTF(3, 4) int is_string(const char *got, const char *want, const char *fmt, ...)
{
	va_list ap;
	int same = got && want ? !strcmp(got, want) : got == want;
	int r;

	va_start(ap, fmt);
	r = vt_result(same, fmt, ap);
	va_end(ap);
	if (!same)
		diag("     got: '%s'\n#   wanted: '%s'", got ? got : "(null)", want ? want : "(null)");
	return r;
}

/* ok_sys(expr, ...): expr did not fail with -1; errno shown when it did */
#define ok_sys(expr, ...)                                                       \
	({                                                                      \
		long vt_r_ = (long)(expr);                                      \
		int vt_e_ = errno;                                              \
		int vt_ok_ = ok(vt_r_ != -1, __VA_ARGS__);                      \
		if (vt_r_ == -1)                                                \
			diag("%s: %s", #expr, strerror(vt_e_));                \
		vt_ok_;                                                         \
	})

/* ok_errno(expr, E, ...): expr failed with -1 and errno E */
#define ok_errno(expr, err, ...)                                                \
	({                                                                      \
		long vt_r_;                                                     \
		int vt_e_, vt_ok_;                                              \
		errno = 0;                                                      \
		vt_r_ = (long)(expr);                                           \
		vt_e_ = errno;                                                  \
		vt_ok_ = ok(vt_r_ == -1 && vt_e_ == (err), __VA_ARGS__);        \
		if (!vt_ok_)                                                    \
			diag("%s returned %ld, errno %d (%s); wanted -1, errno %d (%s)", \
			     #expr, vt_r_, vt_e_, strerror(vt_e_), (err), strerror(err)); \
		vt_ok_;                                                         \
	})

VT_FN VT_PRINTF(2, 3) void skip(int n, const char *fmt, ...)
{
	char reason[256];
	va_list ap;
	int i;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	for (i = 0; i < n; i++)
		printf("ok %d # SKIP %s\n", ++vt_count, reason);
}

/* run fn(arg) in a child; its return value is the child's exit status.
 * *status gets the wait status. Returns the child's pid, or -1. */
VT_FN pid_t run_in_child(int (*fn)(void *), void *arg, int *status)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(fn(arg));
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return pid;
}

VT_FN int vt_run(const char *path, char *const argv[])
{
	int st;
	pid_t p;

	fflush(stdout);
	p = fork();
	if (p < 0)
		return -1;
	if (p == 0) {
		dup2(2, 1);
		execv(path, argv);
		_exit(127);
	}
	while (waitpid(p, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static sigjmp_buf vt_fault_jmp;

static void vt_on_segv(int sig)
{
	(void)sig;
	siglongjmp(vt_fault_jmp, 1);
}

VT_FN int vt_read_faults(volatile const char *p)
{
	struct sigaction sa = { .sa_handler = vt_on_segv }, old;
	int hit = 0;

	sigaction(SIGSEGV, &sa, &old);
	if (sigsetjmp(vt_fault_jmp, 1) == 0)
		(void)*p;
	else
		hit = 1;
	sigaction(SIGSEGV, &old, NULL);
	return hit;
}

VT_FN long long vt_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

/* Skips are justified by what the kernel is known to lack, never by a
 * feature failing: its version (here), its .config (the test's config=
 * metadata: vkci skips the whole test without booting), or a UML limitation
 * named in the suite's README. A feature the kernel should have that fails
 * is a failure. */
VT_FN int vt_kernel_older(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return 0;   /* unknown: assume new enough, so a failure shows */
	return ma < major || (ma == major && mi < minor);
}

VT_FN int exit_status(void)
{
	if (vt_planned >= 0 && vt_count != vt_planned)
		diag("planned %d assertions but ran %d", vt_planned, vt_count);
	return vt_failed || (vt_planned >= 0 && vt_count != vt_planned) ? 1 : 0;
}

/* small helpers many tests want */

/* read a whole small file into buf (NUL-terminated); returns length or -1 */
VT_FN ssize_t vt_read_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
	return (ssize_t)n;
}

/* the value of "Key:" in a /proc status-style file, in its own unit; -1 if absent */
VT_FN long long vt_proc_field(const char *path, const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	long long v = -1;
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtoll(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

VT_FN long long vt_smaps_field(const void *addr, const char *field)
{
	/* static, not malloc()ed: a fresh anonymous mapping could merge with
	 * the one the test measures */
	static char smaps[1 << 18];
	size_t k = strlen(field);
	char *line, *save = NULL;
	unsigned long s, e;
	long long v = -1;
	int in = 0;

	if (vt_read_file("/proc/self/smaps", smaps, sizeof(smaps)) <= 0)
		return -1;
	for (line = strtok_r(smaps, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%lx-%lx ", &s, &e) == 2) {   /* a block header */
			if (in)
				break;
			in = s == (unsigned long)addr;
		} else if (in && !strncmp(line, field, k) && line[k] == ':') {
			v = strtoll(line + k + 1, NULL, 10);
			break;
		}
	}
	return v;
}

#endif
