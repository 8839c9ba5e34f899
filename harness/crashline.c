/* crashline.c - the console parser's reading of single lines: the printk
 * prefix, call-trace frames, the faulting IP, trace noise; and the title a
 * report gets from its class and what its lines named. See crashtab.h. */
#include <stdio.h>
#include <string.h>

#include "crashtab.h"
#include "banned.h"

/* Copy a function name of len bytes, normalised: compiler suffixes
 * (.cold, .isra.0, .part.1, .constprop.0, .llvm.123) cut off. */
void crash_set_func(char *dst, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len && s[i] != '.'; i++)
		;
	len = i < CONSOLE_FUNC_MAX - 1 ? i : CONSOLE_FUNC_MAX - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

/* ---- line shapes --------------------------------------------------------- */

/* Remove the printk prefix: "<4>", "[   12.345678]", "[    T123]",
 * "[     C0]", in any order, each followed by at most one blank. The caller
 * id goes to caller (without blanks). */
const char *crash_strip_prefix(const char *l, char *caller, size_t csize)
{
	int i;

	caller[0] = '\0';
	for (i = 0; i < 4; i++) {
		const char *p = l, *q;

		if (p[0] == '<' && is_digit(p[1])) {
			q = p + 1;
			while (is_digit(*q))
				q++;
			if (*q != '>')
				break;
			l = q + 1;
			continue;
		}
		if (p[0] != '[')
			break;
		q = p + 1;
		while (*q == ' ')
			q++;
		if ((q[0] == 'T' || q[0] == 'C') && is_digit(q[1])) {
			const char *id = q;

			q++;
			while (is_digit(*q))
				q++;
			if (*q != ']' || (size_t)(q - id) >= csize)
				break;
			memcpy(caller, id, (size_t)(q - id));
			caller[q - id] = '\0';
		} else if (is_digit(*q)) {
			while (is_digit(*q))
				q++;
			if (*q != '.' || !is_digit(q[1]))
				break;
			q++;
			while (is_digit(*q))
				q++;
			if (*q != ']')
				break;
		} else {
			break;
		}
		l = q + 1;
		if (*l == ' ')
			l++;
	}
	return l;
}

/* A call-trace frame: "  foo+0x1a/0x40", " [<6026c97a>] ? foo+0x1a/0x40",
 * "[c000000000123456] [c000000000123456] foo+0x1a/0x40 (unreliable)",
 * "foo+0x1a/0x40 [module]", "foo (mm/x.c:12)" (decoded). Returns 1 with
 * the name, and whether it is reliable: not "? ", not "(unreliable)", not
 * at offset 0 (a function's first byte is never a return address: on UML
 * such frames are pointers found on the stack). */
int crash_parse_frame(const char *l, const char **name, size_t *len, int *reliable)
{
	const char *s = l, *e;
	int i;

	*reliable = 1;
	while (*s == ' ' || *s == '\t')
		s++;
	for (i = 0; i < 3 && s[0] == '['; i++) {
		e = s + 1 + (s[1] == '<');
		while (is_hex(*e))
			e++;
		if (e == s + 1 + (s[1] == '<'))
			return 0;
		if (s[1] == '<' && *e++ != '>')
			return 0;
		if (*e != ']')
			return 0;
		s = e + 1;
		while (*s == ' ')
			s++;
	}
	if (s[0] == '?' && s[1] == ' ') {
		*reliable = 0;
		s += 2;
	}
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		return 0;
	for (e = s; is_sym(*e); e++)
		;
	*name = s;
	*len = (size_t)(e - s);
	if (e[0] == '+' && e[1] == '0' && e[2] == 'x' && is_hex(e[3])) {
		const char *o = e + 3;
		int zero = 1;

		for (; is_hex(*o); o++)
			if (*o != '0')
				zero = 0;
		if (o[0] != '/' || o[1] != '0' || o[2] != 'x')
			return 0;
		if (zero)
			*reliable = 0;
		o += 3;
		while (is_hex(*o))
			o++;
		if (strstr(o, "(unreliable)"))
			*reliable = 0;
		return *o == '\0' || *o == ' ' || *o == '\t';
	}
	if (e[0] == ' ' && e[1] != '(' && strstr(e, " [inline]")) {
		/* symbolized by syzkaller/decode_stacktrace.sh: "foo mm/x.c:12 [inline]" */
		const char *o = e + 1, *colon = NULL;

		for (; *o && *o != ' '; o++)
			if (*o == ':' && is_digit(o[1]))
				colon = o;
		return colon && starts(o, " [inline]");
	}
	if (e[0] == ' ' && e[1] == '(') {
		/* decoded by decode_stacktrace.sh: "foo (mm/x.c:12)", "foo (mm/x.c:12:5)" */
		const char *o = e + 2, *colon = NULL;

		for (; *o && *o != ')' && *o != ' '; o++)
			if (*o == ':' && is_digit(o[1]) && !colon)
				colon = o;
		return *o == ')' && colon != NULL;
	}
	return 0;
}

/* "RIP: 0010:foo+0x1a/0x40", "RIP: 0033:[<...>] foo+0x..", "pc : foo+0x..",
 * "PC is at foo+0x..", "EIP: foo+0x..", "NIP [c00..] foo+0x..": the
 * faulting function. */
int crash_parse_ip(const char *l, char *func)
{
	static const char *const tags[] = { "RIP: ", "EIP: ", "pc : ", "PC is at ", "NIP ", "NIP: ", "epc : " };
	const char *s = l, *plus, *b;
	size_t i;

	while (*s == ' ')
		s++;
	for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (starts(s, tags[i]))
			break;
	if (i == sizeof(tags) / sizeof(tags[0]))
		return 0;
	for (plus = strstr(s, "+0x"); plus; plus = strstr(plus + 1, "+0x")) {
		for (b = plus; b > s && is_sym(b[-1]); b--)
			;
		if (b < plus && !is_digit(*b)) {
			crash_set_func(func, b, (size_t)(plus - b));
			return func[0] != '\0';
		}
	}
	return 0;
}

/* Lines inside a call trace that are not frames: "<IRQ>", "</TASK>",
 * "Code: ...", register dumps ("RSP: 0018:...", "R10: ...", "FS:  ...",
 * "CR2: ..."), "RIP: ..." of a nested exception frame. */
int crash_trace_noise(const char *l)
{
	const char *s = l;
	int n = 0;

	while (*s == ' ' || *s == '	')
		s++;
	if (*s == '<' || starts(s, "Code:") || starts(s, "Exception stack"))
		return 1;
	while (n < 4 && s[n] >= 'A' && s[n] <= 'Z')
		n++;
	while (n < 4 && is_digit(s[n]))
		n++;
	return n >= 2 && s[n] == ':';
}

/* ---- titles ---------------------------------------------------------------- */

/* Is this word a number, an address or a key=number? ("0x1f", "ffff8880",
 * "12", "exitcode=0x0000000b", "CPU#0", "pfn:1234", "[00000000]") */
static int numeric_word(const char *w, size_t n)
{
	size_t i, digits = 0, hex = 0;

	while (n && strchr("([{", w[0]))
		w++, n--;
	while (n && strchr(")]},.:;!", w[n - 1]))
		n--;
	if (!n)
		return 0;
	for (i = 0; i < n; i++) {
		if (is_digit(w[i]))
			digits++;
		if (is_hex(w[i]))
			hex++;
	}
	if (!digits)
		return 0;
	if (hex == n || (n > 2 && w[0] == '0' && w[1] == 'x'))
		return 1;
	for (i = 0; i < n; i++)
		if (w[i] == '=' || w[i] == '#' || w[i] == ':')
			return i + 1 < n && (is_digit(w[i + 1]) || (w[i + 1] == '0'));
	return 0;
}

/* Append text to a title: words that are numbers dropped, "sym+0x1/0x2"
 * reduced to "sym", blanks collapsed; cut at the first of the flags'
 * separators. */
static void put_text(char *t, size_t size, const char *s, size_t len, unsigned flags)
{
	static const char *const cut_bug[] = { ": ", " - ", " at ", " in process", ", ", "! ", " on CPU", " (", "; " };
	static const char *const cut_msg[] = { "! ", ", ", ". ", " at ", " - " };
	static const char *const cut_semi[] = { ";", ". " };
	const char *const *cuts = NULL;
	size_t ncuts = 0, i, used = strlen(t), end = len;

	if (flags & F_CUTBUG)
		cuts = cut_bug, ncuts = sizeof(cut_bug) / sizeof(cut_bug[0]);
	else if (flags & F_CUTMSG)
		cuts = cut_msg, ncuts = sizeof(cut_msg) / sizeof(cut_msg[0]);
	else if (flags & F_CUTSEMI)
		cuts = cut_semi, ncuts = sizeof(cut_semi) / sizeof(cut_semi[0]);
	for (i = 0; i < ncuts; i++) {
		size_t k, cl = strlen(cuts[i]);

		for (k = 0; k + cl <= end; k++)
			if (!memcmp(s + k, cuts[i], cl)) {
				end = k;
				break;
			}
	}
	len = end;
	i = 0;
	while (i < len) {
		size_t w0, wl;

		while (i < len && s[i] == ' ')
			i++;
		w0 = i;
		while (i < len && s[i] != ' ')
			i++;
		wl = i - w0;
		if (!wl)
			break;
		{
			const char *plus = memchr(s + w0, '+', wl);

			if (plus && plus + 2 < s + w0 + wl && plus[1] == '0' && plus[2] == 'x') {
				/* a symbol: offsets and compiler suffixes go */
				const char *dot = memchr(s + w0, '.', (size_t)(plus - (s + w0)));

				wl = (size_t)((dot ? dot : plus) - (s + w0));
			}
		}
		if (!wl || numeric_word(s + w0, wl))
			continue;
		if (s[w0 + wl - 1] == ')') {
			/* "unknown-block(98,0)": the numbers in parentheses go */
			const char *o = memchr(s + w0, '(', wl);

			if (o && o > s + w0 && strspn(o + 1, "0123456789abcdefx,:") == (size_t)(s + w0 + wl - 1 - (o + 1)))
				wl = (size_t)(o - (s + w0));
		}
		/* drop trailing sentence punctuation of the last word */
		if (i >= len)
			while (wl > 1 && strchr(".!:;,", s[w0 + wl - 1]))
				wl--;
		if (used + wl + 2 >= size)
			break;
		if (used && t[used - 1] != ' ' && t[used - 1] != '(')
			t[used++] = ' ';
		memcpy(t + used, s + w0, wl);
		used += wl;
		t[used] = '\0';
	}
	while (used && t[used - 1] == ' ')
		t[--used] = '\0';
}

static const char *report_func(const struct crash_report *r)
{
	if (r->atfunc[0])
		return r->atfunc;
	if (r->hfunc[0])
		return r->hfunc;
	if (r->ipfunc[0])
		return r->ipfunc;
	if (r->nframes)
		return r->frames[0];
	return NULL;
}

void crash_make_title(struct crash_report *r)
{
	const struct crash_class *k = &crash_classes[r->cls];
	const char *p, *fn = report_func(r);
	char *t = r->title;
	size_t used = 0;

	t[0] = '\0';
	if (k->flags & F_UMLFAULT) {
		/* "Kernel mode fault at addr 0x0, ip 0x..": the page below 4096 is NULL */
		unsigned long long a = 0;
		const char *s = r->cap[0];

		if (s[0] == '0' && s[1] == 'x')
			s += 2;
		for (; is_hex(*s) && a < (1ULL << 40); s++)
			a = a * 16 + (unsigned long long)(is_digit(*s) ? *s - '0' : (*s | 0x20) - 'a' + 10);
		snprintf(t, CONSOLE_TITLE_MAX, "%s", a < 4096 ? "BUG: kernel NULL pointer dereference" :
			 "BUG: unable to handle kernel paging request");
	} else {
		for (p = k->title; *p && used < CONSOLE_TITLE_MAX - 1; p++) {
			if (p[0] == '%' && p[1] >= '1' && p[1] <= '3') {
				const char *cap = r->cap[p[1] - '1'];
				unsigned fl = p[1] == '1' ? k->flags : 0;

				if ((k->flags & F_OOPSNAME) && p[1] == '1')
					fl = F_CUTMSG;
				if (p[1] == '2' && !strcmp(k->id, "kasan") && cap[0])
					t[used++] = ' ', t[used] = '\0';   /* "... Read" */
				put_text(t, CONSOLE_TITLE_MAX, cap, strlen(cap), fl);
				used = strlen(t);
				p++;
				continue;
			}
			t[used++] = *p;
			t[used] = '\0';
		}
	}
	used = strlen(t);
	if (!used)
		snprintf(t, CONSOLE_TITLE_MAX, "%s", k->id);
	if (fn && !(k->flags & F_NOFUNC)) {
		used = strlen(t);
		snprintf(t + used, CONSOLE_TITLE_MAX - used, " in %s", fn);
	}
}
