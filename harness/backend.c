/* backend.c - choosing a backend, and what every backend's start() shares:
 * bounded argv building and the agent's job record. */
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "diag.h"
#include "kunit.h"
#include "proto.h"
#include "util.h"
#include "banned.h"

static const struct backend *const backends[] = { &backend_uml, &backend_qemu };

const struct backend *backend_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(backends); i++)
		if (!strcmp(backends[i]->name, name))
			return backends[i];
	error("unknown backend '%s' (BACKEND=uml or BACKEND=qemu)", name);
	return NULL;
}

const struct backend *backend_for_kernel(const char *kernel)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(backends); i++)
		if (backends[i]->probe(kernel))
			return backends[i];
	/* any other program (a wrapper script around a vkernel, say) is run as
	 * UML's vkernel is: as a program */
	if (access(kernel, X_OK) == 0)
		return &backend_uml;
	error("cannot tell which backend runs kernel '%s': not a program, nor an x86_64 vmlinux or bzImage "
	      "(set BACKEND=uml or BACKEND=qemu)", kernel);
	return NULL;
}

int backend_mismatch(const struct backend *be, const char *kernel)
{
	size_t i;

	if (be->probe(kernel))
		return 0;
	for (i = 0; i < ARRAY_SIZE(backends); i++)
		if (backends[i] != be && backends[i]->probe(kernel))
			return error("kernel '%s' is a %s kernel, not a %s one (BACKEND=%s, or give a %s kernel)",
				     kernel, backends[i]->name, be->name, backends[i]->name, be->name);
	return 0;
}

/* BUILD_DIR when kernel is BUILD_DIR/<rel> and BUILD_DIR/.config exists */
static int build_dir_of(const char *kernel, const char *rel, char *buf, size_t size)
{
	size_t klen = strlen(kernel), rlen = rel ? strlen(rel) : 0;
	char cfg[PATH_MAX];

	if (!rel || klen <= rlen + 1 || strcmp(kernel + klen - rlen, rel) || kernel[klen - rlen - 1] != '/' ||
	    fmt(buf, size, "%.*s", (int)(klen - rlen - 1), kernel) < 0 ||
	    fmt(cfg, sizeof(cfg), "%s/.config", buf) < 0 || access(cfg, R_OK) < 0)
		return -1;
	return 0;
}

int backend_build_dir(const struct backend *be, const char *kernel, char *buf, size_t size)
{
	if (build_dir_of(kernel, be->binary, buf, size) == 0 || build_dir_of(kernel, be->alt_binary, buf, size) == 0)
		return 0;
	buf[0] = '\0';
	return -1;
}

int backend_kernel_config(const struct backend *be, const char *kernel, char *buf, size_t size)
{
	const char *slash = strrchr(kernel, '/'), *base = slash ? slash + 1 : kernel;
	size_t dlen = slash ? (size_t)(slash - kernel) : 0;
	char dir[PATH_MAX];

	/* BUILD_DIR/<binary> (what vkci build prints), or its other image */
	if (backend_build_dir(be, kernel, dir, sizeof(dir)) == 0 && fmt(buf, size, "%s/.config", dir) > 0)
		return 0;
	/* .config beside it */
	if (fmt(buf, size, "%.*s%s.config", (int)dlen, kernel, slash ? "/" : "") > 0 && access(buf, R_OK) == 0)
		return 0;
	/* /boot/vmlinuz-VERSION -> /boot/config-VERSION */
	if (!strncmp(base, "vmlinuz-", 8) &&
	    fmt(buf, size, "%.*s%sconfig-%s", (int)dlen, kernel, slash ? "/" : "", base + 8) > 0 &&
	    access(buf, R_OK) == 0)
		return 0;
	buf[0] = '\0';
	return -1;
}

static int vadd(struct boot_argv *b, const char **slot, const char *f, va_list ap)
{
	size_t room = sizeof(b->store) - b->used;
	int n = vsnprintf(b->store + b->used, room, f, ap);

	if (n < 0 || (size_t)n >= room)
		return error("vkernel command line too long");
	*slot = b->store + b->used;
	b->used += (size_t)n + 1;
	return 0;
}

int boot_add(struct boot_argv *b, const char *f, ...)
{
	va_list ap;
	int r;

	if (b->argc >= BOOT_MAX_ARGS)
		return error("too many vkernel arguments (at most %d)", BOOT_MAX_ARGS);
	va_start(ap, f);
	r = vadd(b, &b->argv[b->argc], f, ap);
	va_end(ap);
	if (r == 0)
		b->argv[++b->argc] = NULL;
	return r;
}

int boot_env(struct boot_argv *b, const char *f, ...)
{
	va_list ap;
	int r;

	if (b->nenv >= BOOT_MAX_ENV)
		return error("too many vkernel environment entries");
	va_start(ap, f);
	r = vadd(b, &b->env[b->nenv], f, ap);
	va_end(ap);
	if (r == 0)
		b->env[++b->nenv] = NULL;
	return r;
}

int boot_check_path(const char *what, const char *p, const char *bad, const char *bad_desc)
{
	if (!p || !*p)
		return error("no %s given", what);
	if (strpbrk(p, bad))
		return error("%s path '%s' contains %s, which the vkernel's command line cannot "
			     "carry (move it)", what, p, bad_desc);
	return 0;
}

int boot_add_extra(struct boot_argv *b, const struct boot_params *bp)
{
	int i;

	for (i = 0; bp->extra && bp->extra[i]; i++) {
		if (!*bp->extra[i] || strpbrk(bp->extra[i], " \t\n"))
			return error("extra kernel argument '%s' must be one word", bp->extra[i]);
		if (boot_add(b, "%s", bp->extra[i]) < 0)
			return -1;
	}
	/* a kernel with KUnit built in runs its suites at every boot unless
	 * told not to; one without KUnit ignores the argument (kunit.h) */
	if (kunit_quiet(bp->extra) && boot_add(b, "kunit.enable=0") < 0)
		return -1;
	return 0;
}

/* Append " word" to buf at *n; -1 if it does not fit. */
static int word(char *buf, size_t size, size_t *n, const char *f, ...) __attribute__((format(printf, 4, 5)));
static int word(char *buf, size_t size, size_t *n, const char *f, ...)
{
	va_list ap;
	int k;

	if (*n + 1 >= size)
		return -1;
	buf[(*n)++] = ' ';
	va_start(ap, f);
	k = vsnprintf(buf + *n, size - *n, f, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= size - *n)
		return -1;
	*n += (size_t)k;
	return 0;
}

long job_record(char *buf, size_t size, const char *key, const struct job_params *jp)
{
	char words[PROTO_MAX_RECORD], enc[1100];
	size_t n = 0;
	int i, r = 0;

	words[0] = '\0';
	if (!jp->test || !*jp->test || strpbrk(jp->test, " \t\n\"%,"))
		return error("bad test name '%s'", jp->test ? jp->test : "");
	r |= word(words, sizeof(words), &n, "vkci.test=%s", jp->test);
	r |= word(words, sizeof(words), &n, "vkci.timeout=%ld", jp->timeout_s);
	if (jp->nodes > 1) {
		r |= word(words, sizeof(words), &n, "vkci.node=%d", jp->node);
		r |= word(words, sizeof(words), &n, "vkci.nodes=%d", jp->nodes);
	}
	if (jp->shell)
		r |= word(words, sizeof(words), &n, "vkci.shell=1");
	if (jp->payload_dev)
		r |= word(words, sizeof(words), &n, "vkci.payload=%s", jp->payload_dev);
	if (jp->scratch_dev)
		r |= word(words, sizeof(words), &n, "vkci.scratch=%s", jp->scratch_dev);
	if (jp->fetch)
		r |= word(words, sizeof(words), &n, "vkci.fetch=%s", jp->fetch);
	if (jp->seed)
		r |= word(words, sizeof(words), &n, "vkci.seed=%s", jp->seed);
	if (jp->time_ms > 0)
		r |= word(words, sizeof(words), &n, "vkci.time=%lld", jp->time_ms);
	if (jp->ack)
		r |= word(words, sizeof(words), &n, "vkci.ack=1");
	for (i = 0; !r && jp->test_args && jp->test_args[i]; i++) {
		if (proto_encode(jp->test_args[i], strlen(jp->test_args[i]), enc, sizeof(enc)) < 0)
			return error("test argument %d is too long (at most 1024 bytes encoded)", i + 1);
		r |= word(words, sizeof(words), &n, "vkci.arg=%s", enc);
	}
	if (i > 32)
		return error("too many test arguments (at most 32)");
	if (r)
		return error("the test's job is longer than a record (%d bytes): fewer or shorter "
			     "test arguments", PROTO_MAX_RECORD);
	r = (int)proto_record(buf, size, 'J', key, words + 1, n - 1);
	if (r < 0)
		return error("the test's job is longer than a record (%d bytes): fewer or shorter "
			     "test arguments", PROTO_MAX_RECORD);
	return r;
}
