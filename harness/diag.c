#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
