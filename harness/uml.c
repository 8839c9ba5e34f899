#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"
#include "uml.h"
#include "util.h"
#include "banned.h"

static int add(struct boot_argv *b, const char *f, ...) __attribute__((format(printf, 2, 3)));
static int add(struct boot_argv *b, const char *f, ...)
{
	size_t room = sizeof(b->store) - b->used;
	va_list ap;
	int n;

	if (b->argc >= BOOT_MAX_ARGS)
		return error("too many kernel arguments (at most %d)", BOOT_MAX_ARGS);
	va_start(ap, f);
	n = vsnprintf(b->store + b->used, room, f, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return error("kernel command line too long");
	b->argv[b->argc++] = b->store + b->used;
	b->argv[b->argc] = NULL;
	b->used += (size_t)n + 1;
	return 0;
}

/* UML splits ubd specs on ',' and the command line on blanks. */
static int check_path(const char *what, const char *p)
{
	if (!p || !*p)
		return error("no %s given", what);
	if (strpbrk(p, ", \t\n\"")) {
		return error("%s path '%s' contains a comma, blank or quote, which the "
			     "UML command line cannot carry (move it)", what, p);
	}
	return 0;
}

static int is_plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '/' || c == '=' || c == ':' || c == '+' || c == '-';
}

int cmdline_encode(const char *in, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (; *in; in++) {
		unsigned char c = (unsigned char)*in;

		if (is_plain(c)) {
			if (n + 1 >= size)
				return -1;
			out[n++] = (char)c;
		} else {
			if (n + 3 >= size)
				return -1;
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	if (n >= size)
		return -1;
	out[n] = '\0';
	return (int)n;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int cmdline_decode(const char *in, char *out, size_t size)
{
	size_t n = 0;

	while (*in) {
		int c = (unsigned char)*in++;

		if (c == '%') {
			int hi = hexval(in[0]), lo = hi < 0 ? -1 : hexval(in[1]);

			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			in += 2;
			if (c == 0)
				return -1;
		}
		if (n + 1 >= size)
			return -1;
		out[n++] = (char)c;
	}
	if (n >= size)
		return -1;
	out[n] = '\0';
	return (int)n;
}

int uml_build_argv(const struct boot_params *bp, struct boot_argv *b)
{
	size_t total = 0;
	int i, r = 0;

	memset(b, 0, sizeof(*b));
	if (check_path("kernel", bp->kernel) || check_path("image", bp->image) ||
	    check_path("copy-on-write file", bp->cow) || check_path("instance dir", bp->inst_dir) ||
	    (bp->payload && check_path("payload", bp->payload)) ||
	    (bp->scratch && check_path("scratch disk", bp->scratch)) ||
	    (bp->switch_sock && check_path("switch socket", bp->switch_sock)))
		return -1;
	if (!bp->test || !*bp->test || strpbrk(bp->test, " \t\n\"%,"))
		return error("bad test name '%s'", bp->test ? bp->test : "");
	if (bp->mem < (16LL << 20))
		return error("memory %lld bytes is too small (at least 16M)", bp->mem);

	r |= add(b, "%s", bp->kernel);
	r |= add(b, "mem=%lldM", bp->mem >> 20);
	r |= add(b, "ubd0=%s,%s", bp->cow, bp->image);
	if (bp->payload)
		r |= add(b, "ubd1r=%s", bp->payload);
	if (bp->scratch)
		r |= add(b, "ubd2=%s", bp->scratch);
	if (bp->switch_sock)
		r |= add(b, "eth0=daemon,,unix,%s", bp->switch_sock);
	r |= add(b, "root=/dev/ubda");
	r |= add(b, "rw");
	r |= add(b, "init=/sbin/vkci-init");
	r |= add(b, "con=null");
	r |= add(b, "con0=fd:%d,fd:%d", bp->con_in, bp->con_out);
	r |= add(b, "ssl=null");
	r |= add(b, "ssl0=fd:%d,fd:%d", bp->ser_in, bp->ser_out);
	r |= add(b, "umid=vkci");
	r |= add(b, "uml_dir=%s", bp->inst_dir);
	r |= add(b, "vkci.test=%s", bp->test);
	r |= add(b, "vkci.timeout=%ld", bp->timeout_s);
	if (bp->scratch)
		r |= add(b, "vkci.scratch=/dev/ubdc");
	if (bp->shell)
		r |= add(b, "vkci.shell=1");
	if (bp->nodes > 1) {
		r |= add(b, "vkci.node=%d", bp->node);
		r |= add(b, "vkci.nodes=%d", bp->nodes);
	}
	for (i = 0; !r && bp->test_args && bp->test_args[i]; i++) {
		char enc[1024];

		if (cmdline_encode(bp->test_args[i], enc, sizeof(enc)) < 0)
			return error("test argument %d is too long", i + 1);
		r |= add(b, "vkci.arg=%s", enc);
	}
	for (i = 0; !r && bp->extra && bp->extra[i]; i++) {
		if (!*bp->extra[i] || strpbrk(bp->extra[i], " \t\n"))
			return error("extra kernel argument '%s' must be one word", bp->extra[i]);
		r |= add(b, "%s", bp->extra[i]);
	}
	if (r)
		return -1;
	for (i = 1; i < b->argc; i++)
		total += strlen(b->argv[i]) + 1;
	if (total > BOOT_CMDLINE_MAX)
		return error("kernel command line is %zu bytes, more than UML's %d", total,
			     BOOT_CMDLINE_MAX);
	return 0;
}
