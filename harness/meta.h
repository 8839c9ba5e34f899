/* meta.h - per-test metadata, declared in the test's source file on a line
 *     / * vkci: timeout=30 mem=128M nodes=2 scratch=64M config=IPV6,MEMCG * /
 * (no inner blanks)
 * within its first 4 KiB. Unknown keys are errors, so a typo cannot silently
 * fall back to a default. */
#ifndef VKCI_META_H
#define VKCI_META_H

#define META_MAX_CONFIG 8

struct test_meta {
	long timeout_s;      /* -1 when not given */
	long long mem;       /* bytes, -1 when not given */
	long nodes;          /* vkernels the test needs, -1 when not given */
	long long scratch;   /* bytes of scratch disk the test wants, -1 when not given */
	int nconfig;         /* kernel options the test needs (without CONFIG_) */
	char config[META_MAX_CONFIG][64];
	char xfail[200];     /* expected to fail, and why ("" when not); metadata files only */
};

void meta_init(struct test_meta *m);
/* Parse metadata from text (the head of a test source). `where` names the
 * source in messages. Returns 0, or -1 after reporting. Pure. */
int meta_parse(struct test_meta *m, const char *text, const char *where);
/* The first option in m->config that the kernel config text `cfg` (a
 * .config) does not set to y/m or a value; NULL if all are there. Pure. */
const char *meta_missing_config(const struct test_meta *m, const char *cfg);
/* Read the head of a file and parse it. */
int meta_load(struct test_meta *m, const char *path);
/* Tests without a source file (kselftest programs): their metadata is a
 * line of a generated file (VKCI_TEST_META, written by ci/kselftest.py):
 *     kselftest/timers/nanosleep timeout=45 mem=256M xfail=UML has no rseq
 * the test's name, then key=value words as above; `xfail=` takes the rest
 * of the line: the test is expected to fail, for that reason. '#' lines and
 * other tests' lines are ignored. A name not in the file keeps m as it is.
 * meta_lookup: file NULL or "" does nothing. Return 0, or -1 after
 * reporting (unreadable file, bad line). meta_lookup_text is the pure part;
 * `where` names the file in messages. */
int meta_lookup(struct test_meta *m, const char *file, const char *name);
int meta_lookup_text(struct test_meta *m, const char *text, const char *name, const char *where);

#endif
