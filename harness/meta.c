#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "meta.h"
#include "util.h"
#include "banned.h"

#define PATH_MAX_META 4200

void meta_init(struct test_meta *m)
{
	m->timeout_s = -1;
	m->mem = -1;
	m->nodes = -1;
	m->scratch = -1;
	m->nconfig = 0;
	m->xfail[0] = '\0';
}

static int set_config(struct test_meta *m, const char *val, const char *where)
{
	const char *p = val;

	while (*p) {
		const char *e = strchrnul(p, ',');
		size_t n = (size_t)(e - p), i;

		if (n > 7 && !memcmp(p, "CONFIG_", 7))
			p += 7, n -= 7;
		if (n == 0 || n >= sizeof(m->config[0]))
			return error("%s: bad vkci config '%s' (e.g. config=IPV6,MEMCG)", where, val);
		for (i = 0; i < n; i++)
			if (!(p[i] >= 'A' && p[i] <= 'Z') && !(p[i] >= '0' && p[i] <= '9') && p[i] != '_')
				return error("%s: bad kernel option '%.*s' in vkci config (e.g. config=IPV6,MEMCG)",
					     where, (int)n, p);
		if (m->nconfig >= META_MAX_CONFIG)
			return error("%s: too many kernel options in vkci config (at most %d)", where,
				     META_MAX_CONFIG);
		memcpy(m->config[m->nconfig], p, n);
		m->config[m->nconfig++][n] = '\0';
		p = *e ? e + 1 : e;
	}
	return 0;
}

const char *meta_missing_config(const struct test_meta *m, const char *cfg)
{
	char val[256];
	int i;

	for (i = 0; i < m->nconfig; i++) {
		kconfig_value(cfg, m->config[i], val, sizeof(val));
		if (!val[0] || !strcmp(val, "n"))
			return m->config[i];
	}
	return NULL;
}

static int set(struct test_meta *m, const char *key, size_t kl, const char *val,
	       const char *where)
{
	if (kl == 7 && !memcmp(key, "timeout", 7)) {
		if ((m->timeout_s = parse_uint(val, 86400)) <= 0)
			return error("%s: bad vkci timeout '%s' (seconds, 1..86400)", where, val);
	} else if (kl == 3 && !memcmp(key, "mem", 3)) {
		if ((m->mem = parse_size(val)) < (16LL << 20))
			return error("%s: bad vkci mem '%s' (e.g. 128M, at least 16M)", where, val);
	} else if (kl == 5 && !memcmp(key, "nodes", 5)) {
		if ((m->nodes = parse_uint(val, 16)) < 1)
			return error("%s: bad vkci nodes '%s' (1..16)", where, val);
	} else if (kl == 7 && !memcmp(key, "scratch", 7)) {
		if ((m->scratch = parse_size(val)) < (1LL << 20) || m->scratch > (64LL << 30))
			return error("%s: bad vkci scratch '%s' (e.g. 64M, 1M..64G)", where, val);
	} else if (kl == 6 && !memcmp(key, "config", 6)) {
		return set_config(m, val, where);
	} else {
		return error("%s: unknown vkci metadata key '%.*s' (known: timeout, mem, nodes, scratch, config)",
			     where, (int)kl, key);
	}
	return 0;
}

/* key=value words between p and end. */
static int parse_words(struct test_meta *m, const char *p, const char *end, const char *where)
{
	while (p < end) {
		const char *w, *eq;
		char val[256];
		size_t vl;

		while (p < end && (*p == ' ' || *p == '\t' || *p == '\n'))
			p++;
		if (p >= end)
			break;
		w = p;
		while (p < end && *p != ' ' && *p != '\t' && *p != '\n')
			p++;
		eq = memchr(w, '=', (size_t)(p - w));
		if (!eq || eq == w)
			return error("%s: vkci metadata '%.*s' is not key=value", where, (int)(p - w), w);
		vl = (size_t)(p - eq - 1);
		if (vl == 0 || vl >= sizeof(val))
			return error("%s: bad value in vkci metadata '%.*s'", where, (int)(p - w), w);
		memcpy(val, eq + 1, vl);
		val[vl] = '\0';
		if (set(m, w, (size_t)(eq - w), val, where) < 0)
			return -1;
	}
	return 0;
}

int meta_parse(struct test_meta *m, const char *text, const char *where)
{
	const char *p = strstr(text, "/* vkci:");
	const char *end;

	if (!p)
		return 0;
	p += 8;
	end = strstr(p, "*/");
	if (!end)
		return error("%s: unterminated vkci metadata comment", where);
	return parse_words(m, p, end, where);
}

int meta_lookup_text(struct test_meta *m, const char *text, const char *name, const char *where)
{
	size_t nl = strlen(name);
	const char *line = text;
	long lineno = 1;

	for (; *line; lineno++) {
		const char *eol = strchrnul(line, '\n'), *x, *end = eol;
		char loc[PATH_MAX_META];

		if ((size_t)(eol - line) > nl && !memcmp(line, name, nl) &&
		    (line[nl] == ' ' || line[nl] == '\t')) {
			fmt(loc, sizeof(loc), "%s:%ld", where, lineno);
			/* xfail= takes the rest of the line: the reason, blanks and all */
			x = strstr(line + nl, " xfail=");
			if (x && x < eol) {
				size_t rl = (size_t)(eol - x - 7);

				if (rl == 0 || rl >= sizeof(m->xfail))
					return error("%s: bad xfail reason (1..%zu bytes)", loc, sizeof(m->xfail) - 1);
				memcpy(m->xfail, x + 7, rl);
				m->xfail[rl] = '\0';
				end = x;
			}
			return parse_words(m, line + nl, end, loc);
		}
		line = *eol ? eol + 1 : eol;
	}
	return 0;
}

int meta_lookup(struct test_meta *m, const char *file, const char *name)
{
	size_t len;
	char *text;
	int r;

	if (!file || !*file)
		return 0;
	text = read_file(file, 16u << 20, &len);
	if (!text)
		return error("cannot read the test metadata file '%s' (VKCI_TEST_META; make check writes it)", file);
	r = meta_lookup_text(m, text, name, file);
	free(text);
	return r;
}

int meta_load(struct test_meta *m, const char *path)
{
	size_t len;
	char *text = read_file(path, 1 << 20, &len);
	int r;

	if (!text)
		return -1;
	if (len > 4096)
		text[4096] = '\0';
	r = meta_parse(m, text, path);
	free(text);
	return r;
}
