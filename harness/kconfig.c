/* kconfig.c - config fragments and Kconfig for `vkci build` (see kconfig.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build.h"
#include "diag.h"
#include "kconfig.h"
#include "util.h"
#include "banned.h"

#define MAX_REQ 4096
#define PATH_SZ 4096

uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--) {
		h ^= *b++;
		h *= 0x100000001b3ULL;
	}
	return h;
}
static int valid_sym(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n >= KCONFIG_SYM_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!isupper((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '_' &&
		    !islower((unsigned char)s[i]))
			return 0;
	return 1;
}

static int valid_val(const char *v)
{
	size_t n = strlen(v), i;

	if (!strcmp(v, "y") || !strcmp(v, "n") || !strcmp(v, "m"))
		return 1;
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		for (i = 1; i + 1 < n; i++)
			if (v[i] == '"' && v[i - 1] != '\\')
				return 0;
		return 1;
	}
	if (n > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
		for (i = 2; i < n; i++)
			if (!isxdigit((unsigned char)v[i]))
				return 0;
		return 1;
	}
	i = v[0] == '-' ? 1 : 0;
	if (i == n)
		return 0;
	for (; i < n; i++)
		if (!isdigit((unsigned char)v[i]))
			return 0;
	return 1;
}

int kconfig_parse_frag_line(const char *line, char *sym, size_t sym_size, char *val, size_t val_size)
{
	const char *p = line, *eq, *end;
	size_t n;

	while (*p == ' ' || *p == '\t')
		p++;
	end = p + strlen(p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		end--;
	if (p == end)
		return 0;
	if (*p == '#') {
		/* "# CONFIG_X is not set" means n; any other comment is a comment */
		const char *s = p + 1, *tail = " is not set";
		size_t tl = strlen(tail);

		while (*s == ' ')
			s++;
		if (strncmp(s, "CONFIG_", 7) || (size_t)(end - s) <= 7 + tl ||
		    memcmp(end - tl, tail, tl))
			return 0;
		s += 7;
		n = (size_t)(end - tl - s);
		if (!valid_sym(s, n) || n >= sym_size || val_size < 2)
			return -1;
		memcpy(sym, s, n);
		sym[n] = '\0';
		memcpy(val, "n", 2);
		return 1;
	}
	if (strncmp(p, "CONFIG_", 7))
		return -1;
	p += 7;
	eq = memchr(p, '=', (size_t)(end - p));
	if (!eq || !valid_sym(p, (size_t)(eq - p)) || (size_t)(eq - p) >= sym_size)
		return -1;
	memcpy(sym, p, (size_t)(eq - p));
	sym[eq - p] = '\0';
	n = (size_t)(end - eq - 1);
	if (n == 0 || n >= val_size)
		return -1;
	memcpy(val, eq + 1, n);
	val[n] = '\0';
	return valid_val(val) ? 1 : -1;
}

int kreqs_load(struct kreqs *r, const char *const *frags, int nfrags, uint64_t *key)
{
	int f;

	r->n = 0;
	r->v = calloc(MAX_REQ, sizeof(*r->v));
	if (!r->v)
		return error("out of memory"), EXIT_INFRA;
	for (f = 0; f < nfrags; f++) {
		const char *name = frags[f];
		char *data, *line, *next;
		size_t len;
		int lineno = 0;

		if (access(name, R_OK) < 0 || !(data = read_file(name, 1 << 20, &len))) {
			error("cannot read kernel config fragment '%s' (check KCONFIG=)", name);
			return BUILD_EXIT_CONFIG;
		}
		/* the key covers what a fragment says, not where it lives */
		*key = fnv(*key, data, len + 1);
		for (line = data; line && *line; line = next) {
			struct kreq q = { .frag = name };
			int k, i;

			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			lineno++;
			k = kconfig_parse_frag_line(line, q.sym, sizeof(q.sym), q.val, sizeof(q.val));
			if (k < 0) {
				error("kernel config fragment '%s' line %d: '%.80s' is not CONFIG_NAME=value "
				      "(y, n, m, a number or a \"string\") or '# CONFIG_NAME is not set'",
				      name, lineno, line);
				free(data);
				return BUILD_EXIT_CONFIG;
			}
			if (k == 0)
				continue;
			q.line = lineno;
			for (i = 0; i < r->n; i++)   /* a later fragment wins */
				if (!strcmp(r->v[i].sym, q.sym))
					break;
			if (i == MAX_REQ) {
				error("too many options in the kernel config fragments (at most %d)", MAX_REQ);
				free(data);
				return BUILD_EXIT_CONFIG;
			}
			r->v[i] = q;
			if (i == r->n)
				r->n++;
		}
		free(data);
	}
	return 0;
}

void kreqs_free(struct kreqs *r)
{
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

const char *kreqs_get(const struct kreqs *r, const char *sym)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].sym, sym))
			return r->v[i].val;
	return NULL;
}

/* The symbol a Kconfig line defines ("config X" or "menuconfig X", any
 * indentation, a trailing comment allowed), cut out in place; NULL for any
 * other line. */
static char *kconfig_defines(char *line)
{
	char *s = line, *e;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!strncmp(s, "config ", 7))
		s += 7;
	else if (!strncmp(s, "menuconfig ", 11))
		s += 11;
	else
		return NULL;
	while (*s == ' ' || *s == '\t')
		s++;
	for (e = s; *e && *e != ' ' && *e != '\t' && *e != '#'; e++)
		;
	*e = '\0';
	return *s ? s : NULL;
}

/* Where Kconfig defines sym: "config SYM" / "menuconfig SYM". Fills file and
 * line and, when deps is given, the entry's "depends on" lines. */
static int kconfig_find(const char *src, char *const *kconfigs, size_t nk, const char *sym,
			char *where, size_t wsize, char *deps, size_t dsize)
{
	size_t i;

	for (i = 0; i < nk; i++) {
		char path[PATH_SZ], *data, *p, *line;
		size_t len;
		int lineno = 0, found = 0;

		if (fmt(path, sizeof(path), "%s/%s", src, kconfigs[i]) < 0 ||
		    !(data = read_file(path, 8 << 20, &len)))
			continue;
		for (line = data; line && *line && found < 2; line = p) {
			const char *s = line;
			char *d;

			p = strchr(line, '\n');
			if (p)
				*p++ = '\0';
			lineno++;
			while (*s == ' ' || *s == '\t')
				s++;
			if (found == 1) {
				/* the entry ends at the next config/menu/if/endif/choice */
				if (!strncmp(s, "config ", 7) || !strncmp(s, "menuconfig ", 11) ||
				    !strncmp(s, "menu", 4) || !strncmp(s, "endmenu", 7) || !strncmp(s, "if ", 3) ||
				    !strncmp(s, "endif", 5) || !strncmp(s, "choice", 6) || !strncmp(s, "source", 6)) {
					found = 2;
					break;
				}
				if (deps && !strncmp(s, "depends on ", 11)) {
					size_t dl = strlen(deps);

					snprintf(deps + dl, dsize - dl, "%s%s", dl ? " && " : "", s + 11);
				}
				continue;
			}
			if (!(d = kconfig_defines(line)) || strcmp(d, sym))
				continue;
			snprintf(where, wsize, "%s:%d", kconfigs[i], lineno);
			found = 1;
			if (!deps)
				break;
		}
		free(data);
		if (found)
			return 0;
	}
	return -1;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every requested symbol is defined by some Kconfig file of the tree. The
 * tree's Kconfig files are read once into a sorted list of names (~1,700
 * files, ~20,000 symbols). */
int kconfig_check_symbols(const struct kreqs *r, const char *src, char *const *kconfigs, size_t nk)
{
	char **names = NULL;
	size_t n = 0, alloc = 0, i;
	int q, bad = 0;

	if (!r->n)
		return 0;
	for (i = 0; i < nk; i++) {
		char path[PATH_SZ], *data, *line, *next, *sym;
		size_t len;

		if (fmt(path, sizeof(path), "%s/%s", src, kconfigs[i]) < 0 ||
		    !(data = read_file(path, 8 << 20, &len)))
			continue;
		for (line = data; line && *line; line = next) {
			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			if (!(sym = kconfig_defines(line)))
				continue;
			if (n == alloc) {
				char **m = realloc(names, (alloc = alloc ? alloc * 2 : 4096) * sizeof(*m));

				if (!m)
					break;
				names = m;
			}
			if (!(names[n] = strdup(sym)))
				break;
			n++;
		}
		free(data);
	}
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	for (q = 0; q < r->n; q++) {
		const char *key = r->v[q].sym;

		if (n && bsearch(&key, names, n, sizeof(*names), name_cmp))
			continue;
		error("kernel config fragment '%s' line %d: unknown symbol CONFIG_%s (no Kconfig in '%s' "
		      "defines it: a typo, or an option of another kernel version?)",
		      r->v[q].frag, r->v[q].line, r->v[q].sym, src);
		bad++;
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return bad ? BUILD_EXIT_CONFIG : 0;
}

/* Every requested option has its value in DIR/.config; names each that did not. */
int kconfig_verify(const struct kreqs *reqs, const char *cfg_path, const char *src,
		   char *const *kconfigs, size_t nk)
{
	char *cfg;
	size_t len;
	int i, bad = 0;

	if (!(cfg = read_file(cfg_path, 64 << 20, &len)))
		return EXIT_INFRA;
	for (i = 0; i < reqs->n; i++) {
		const struct kreq *r = &reqs->v[i];
		char got[KCONFIG_VAL_MAX], where[PATH_SZ] = "", deps[1024] = "";

		kconfig_value(cfg, r->sym, got, sizeof(got));
		if (!strcmp(got, r->val) || (!strcmp(r->val, "n") && !got[0]))
			continue;
		if (!strcmp(r->val, "m") && !strcmp(got, "y"))
			continue;   /* asked for a module, got it built in: as good on UML */
		bad++;
		kconfig_find(src, kconfigs, nk, r->sym, where, sizeof(where), deps, sizeof(deps));
		error("kernel option CONFIG_%s=%s (%s line %d) did not take: the final .config has %s%s%s%s%s",
		      r->sym, r->val, r->frag, r->line, got[0] ? got : "it unset",
		      where[0] ? "; defined at " : "", where, deps[0] ? ", depends on " : "", deps);
	}
	free(cfg);
	return bad ? BUILD_EXIT_CONFIG : 0;
}
