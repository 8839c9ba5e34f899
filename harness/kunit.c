/* kunit.c - the driver's part of KUnit support (see kunit.h). */
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "diag.h"
#include "kunit.h"
#include "report.h"
#include "util.h"
#include "banned.h"

#define CRASH_LOG_MAX (1u << 30)

int kunit_member(const char *name, char *src, size_t size)
{
	const char *prog = getenv("VKCI_KUNIT");
	size_t len;

	if (strncmp(name, "kunit/", 6))
		return 0;
	if (!prog || !*prog)
		return error("KUnit suite '%s' runs through ci/kunit.py: set VKCI_KUNIT to its path "
			     "(make check SUITES=kunit does)", name);
	len = strlen(prog);
	if (len < 4 || strcmp(prog + len - 3, ".py"))
		return error("VKCI_KUNIT='%s' is not a Python program (want .../ci/kunit.py)", prog);
	if (fmt(src, size, "%s", prog) < 0)
		return error("VKCI_KUNIT path too long: '%s'", prog);
	return 1;
}

int kunit_quiet_arg(const char **extra, int *n, int max)
{
	int i;

	for (i = 0; i < *n; i++)
		if (!strncmp(extra[i], "kunit.", 6))
			return 0;   /* the caller decides what KUnit does */
	if (*n >= max)
		return error("too many kernel arguments to add kunit.enable=0 (at most %d)", max);
	extra[(*n)++] = "kunit.enable=0";
	return 0;
}

static void json_field(struct sbuf *sb, const char *key, const char *val, int comma)
{
	sbuf_addf(sb, "\"%s\": ", key);
	if (val && *val)
		json_string(sb, val);
	else
		sbuf_add(sb, "null", 4);
	if (comma)
		sbuf_add(sb, ", ", 2);
}

int cmd_crash(int argc, char **argv)
{
	int i, crashed = 0;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		write_str(argc < 2 ? 2 : 1,
			  "usage: vkci crash CONSOLE-LOG...\n"
			  "  one JSON object per log: crash_kind, crash_line, crash_fingerprint,\n"
			  "  excerpt (null/empty when the log shows no crash)\n"
			  "exit status: 0 no crash, 1 a crash in some log, 2 a log cannot be read\n");
		return argc < 2 ? EXIT_USAGE : EXIT_PASS;
	}
	for (i = 1; i < argc; i++) {
		struct console_state c;
		struct sbuf sb;
		char fp[256] = "";
		size_t len;
		char *data = read_file(argv[i], CRASH_LOG_MAX, &len);
		int k;

		if (!data)
			return EXIT_USAGE;
		console_init(&c);
		console_feed(&c, data, len);
		console_finish(&c);
		free(data);
		console_fingerprint(&c, fp, sizeof(fp));
		sbuf_init(&sb, 1 << 20);
		sbuf_add(&sb, "{", 1);
		json_field(&sb, "file", argv[i], 1);
		json_field(&sb, "crash_kind", c.first != CRASH_NONE ? crash_name(c.first) : NULL, 1);
		json_field(&sb, "crash_line", c.first != CRASH_NONE ? c.first_line : NULL, 1);
		json_field(&sb, "crash_fingerprint", fp, 1);
		sbuf_add(&sb, "\"excerpt\": [", 12);
		for (k = 0; k < c.excerpt_len; k++) {
			if (k)
				sbuf_add(&sb, ", ", 2);
			json_string(&sb, c.excerpt[k]);
		}
		sbuf_addf(&sb, "], \"lines\": %lu}\n", c.lines);
		write_all(1, sb.data, sb.len);
		sbuf_free(&sb);
		crashed |= c.first != CRASH_NONE;
	}
	return crashed ? EXIT_FAIL : EXIT_PASS;
}
