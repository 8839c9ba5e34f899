/* crashtab.h - the parts of the console's crash parser (console.c), shared
 * between its three files and nothing else: the table of report classes
 * and the matcher of their headers (crashtab.c), line shapes and titles
 * (crashline.c). See console.h for the parser's interface and
 * harness/CRASHES.md for what it recognises. */
#ifndef VKCI_CRASHTAB_H
#define VKCI_CRASHTAB_H

#include <stddef.h>
#include <string.h>

#include "console.h"

/* A class's flags: how its header joins other reports, where its title's
 * function comes from, how its captures are cut. The classes themselves,
 * and the pattern language of their headers, are in crashtab.c. */
enum {
	F_AT = 1 << 0,       /* lockdep ", at: FUNC" sites name the function first */
	F_BT = 1 << 1,       /* only frames after "stack backtrace:" count (lockdep) */
	F_IP = 1 << 2,       /* the faulting IP (RIP:, pc :) names the function */
	F_IPBEFORE = 1 << 3, /* ... also when printed just before the header (UML's show_regs) */
	F_WARNMSG = 1 << 4,  /* printed by WARN()/BUG(): absorbs the WARNING/kernel BUG header after it */
	F_WARNHDR = 1 << 5,  /* a WARNING / kernel BUG header */
	F_PRELUDE = 1 << 6,  /* absorbs the Oops header after it (BUG: unable to handle, kernel BUG at) */
	F_OOPSHDR = 1 << 7,  /* an Oops header */
	F_PANIC = 1 << 8,    /* Kernel panic: absorbed as the end of a report just before it */
	F_LEAKSUM = 1 << 9,  /* kmemleak's summary: absorbed when a leak was reported */
	F_NOFUNC = 1 << 10,  /* the title names no function */
	F_CUTBUG = 1 << 11,  /* %1 is cut at ':', " - ", " at ", ',', '!', ... */
	F_CUTMSG = 1 << 12,  /* %1 is cut at '!', ", ", ". ", " at " */
	F_CUTSEMI = 1 << 13, /* %1 is cut at ';' or '.' */
	F_UMLFAULT = 1 << 14, /* UML's "Kernel mode fault at addr %1": NULL deref or paging request */
	F_OOPSNAME = 1 << 15, /* x86 "Oops: %1: ...": %1 cut at ','; "Oops" alone stays */
	F_CT = 1 << 16,      /* only frames after "Call Trace:" count (slab: its alloc/free tracks come first) */
};

struct crash_class {
	const char *id;       /* short stable name, for tests and figures */
	const char *pat;
	const char *title;
	enum crash_kind kind;
	unsigned flags;
	int detail;           /* KASAN: "Read of size"/"Write of size" fills %2 */
};

extern const struct crash_class crash_classes[];
extern const int crash_nclasses;

/* Is this function report machinery (the skip list), not the bug's? */
int crash_skipped(const char *f);

/* A header matched against a pattern: captures, the %F function. */
struct match {
	const char *cap[3];
	size_t caplen[3];
	const char *func;
	size_t funclen;
	long budget;           /* steps left: bounds backtracking on hostile lines */
};

/* Does pattern pat match a prefix of s? (bounded backtracking) */
int crash_match(struct match *m, const char *pat, const char *s);

/* Line shapes and titles (crashline.c). */
const char *crash_strip_prefix(const char *l, char *caller, size_t csize);
int crash_parse_frame(const char *l, const char **name, size_t *len, int *reliable);
int crash_parse_ip(const char *l, char *func);
int crash_trace_noise(const char *l);
void crash_set_func(char *dst, const char *s, size_t len);
void crash_make_title(struct crash_report *r);

static inline int is_sym(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '.' || ch == '$';
}

static inline int is_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

static inline int is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static inline int starts(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

#endif
