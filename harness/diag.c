#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "banned.h"

int diag_verbosity;

/* One write(2) per message so lines from parallel vkci processes under
 * prove -j do not interleave mid-line. */
static void emit(const char *fmt, va_list ap, const char *suffix)
{
	char buf[2048];
	int n = snprintf(buf, sizeof(buf), "vkci: ");
	int m = vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);

	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	if (suffix) {
		m = snprintf(buf + n, sizeof(buf) - n, ": %s", suffix);
		n += m > 0 ? m : 0;
		if (n > (int)sizeof(buf) - 2)
			n = (int)sizeof(buf) - 2;
	}
	buf[n++] = '\n';
	while (write(2, buf, n) < 0 && errno == EINTR)
		;
}

int error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(fmt, ap, NULL);
	va_end(ap);
	return -1;
}

int error_errno(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	emit(fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
	return -1;
}

void warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(fmt, ap, NULL);
	va_end(ap);
}

void note(const char *fmt, ...)
{
	va_list ap;

	if (diag_verbosity <= 0)
		return;
	va_start(ap, fmt);
	emit(fmt, ap, NULL);
	va_end(ap);
}

void die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(fmt, ap, NULL);
	va_end(ap);
	exit(status);
}

/* A progress line for long steps. On a terminal it is rewritten in place;
 * elsewhere (CI logs) one line is written every 30 s and the final one. */
void progress(int final, const char *fmt, ...)
{
	static long long last;
	char buf[512];
	struct timespec ts;
	long long now;
	int tty = isatty(2), n;
	va_list ap;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
	if (!final && now - last < (tty ? 250 : 30000))
		return;
	last = now;
	n = snprintf(buf, sizeof(buf), "%svkci: ", tty ? "\r" : "");
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	n = (int)strlen(buf);
	if (tty && n > 120)   /* keep it on one terminal line */
		n = 120;
	if (tty && n + 4 < (int)sizeof(buf)) {
		memcpy(buf + n, "\033[K", 3);
		n += 3;
	}
	if (!tty || final)
		buf[n++] = '\n';
	while (write(2, buf, n) < 0 && errno == EINTR)
		;
}
