#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "meta.h"
#include "util.h"
#include "banned.h"

void meta_init(struct test_meta *m)
{
	m->timeout_s = -1;
	m->mem = -1;
	m->nodes = -1;
	m->scratch = -1;
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
	} else {
		return error("%s: unknown vkci metadata key '%.*s' (known: timeout, mem, nodes, scratch)",
			     where, (int)kl, key);
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
	while (p < end) {
		const char *w, *eq;
		char val[64];
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
