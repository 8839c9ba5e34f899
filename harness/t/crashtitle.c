/* crashtitle - the crash triage of console logs, for the fixture tests
 * (harness/t/12-crash.t) and ci/bench/triage.py: for each FILE, feeds it to
 * console.c (in chunks of CHUNK bytes, default whole) and prints
 *   FILE<TAB>kind<TAB>class<TAB>fingerprint<TAB>title
 * then one "FILE<TAB>other<TAB>class<TAB>title" line per later report.
 * A log without a crash prints kind "none". Exit 0, 2 on a usage error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../console.h"

int main(int argc, char **argv)
{
	static struct console_state c;
	size_t chunk = 0;
	int i = 1;

	if (argc > 2 && !strcmp(argv[1], "-c")) {
		chunk = strtoul(argv[2], NULL, 10);
		i = 3;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: crashtitle [-c CHUNK] CONSOLE.LOG...\n");
		return 2;
	}
	for (; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		static char buf[1 << 16];
		char fp[32];
		size_t n;
		int r;

		if (!f) {
			perror(argv[i]);
			return 2;
		}
		console_init(&c);
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
			size_t off;

			for (off = 0; off < n; off += chunk ? chunk : n)
				console_feed(&c, buf + off, chunk && n - off > chunk ? chunk : n - off);
		}
		fclose(f);
		console_finish(&c);
		console_fingerprint(&c, fp, sizeof(fp));
		if (!c.nreports) {
			printf("%s\tnone\tnone\t-\t-\n", argv[i]);
			continue;
		}
		printf("%s\t%s\t%s\t%s\t%s\n", argv[i], crash_name(c.first),
		       crash_class_id(c.reports[0].cls), fp, c.reports[0].title);
		for (r = 1; r < c.nreports; r++)
			printf("%s\tother\t%s\t-\t%s\n", argv[i], crash_class_id(c.reports[r].cls),
			       c.reports[r].title);
	}
	return 0;
}
