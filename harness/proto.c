/* proto.c - the protocol's shared vocabulary (see proto.h). Built into the
 * driver and, with the same source, into the static guest agent. */
#include <string.h>

#include "proto.h"

long proto_record(char *buf, size_t size, char tag, const char *key,
		  const char *payload, size_t len)
{
	size_t klen = key ? strlen(key) + 1 : 0, n = 2 + klen + len;

	if (n > PROTO_MAX_RECORD || n + 1 > size)
		return -1;
	buf[0] = tag;
	buf[1] = ' ';
	if (key) {
		memcpy(buf + 2, key, klen - 1);
		buf[1 + klen] = ' ';
	}
	if (len)
		memcpy(buf + 2 + klen, payload, len);
	if (key && !len)
		n--;   /* "D <key>": no blank after the key */
	buf[n] = '\n';
	return (long)n + 1;
}

int proto_split(const char *line, size_t len, char *tag, const char **rest, size_t *rest_len)
{
	if (len < 1 || (len >= 2 && line[1] != ' '))
		return -1;
	*tag = line[0];
	*rest = len >= 2 ? line + 2 : line + len;
	*rest_len = len >= 2 ? len - 2 : 0;
	return 0;
}

int proto_is_token(const char *s, size_t n)
{
	size_t i;

	if (n != PROTO_TOKEN_LEN)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int proto_plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '/' || c == '=' || c == ':' || c == '+' || c == '-';
}

int proto_hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

long proto_encode(const char *in, size_t n, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		size_t need = proto_plain(c) ? 1 : 3;

		if (o + need >= size)
			return -1;
		if (need == 1) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (o >= size)
		return -1;
	out[o] = '\0';
	return (long)o;
}

long proto_decode(const char *in, size_t n, char *out, size_t size)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '%') {
			int hi = i + 2 < n ? proto_hexval(in[i + 1]) : -1;
			int lo = hi < 0 ? -1 : proto_hexval(in[i + 2]);

			if (lo < 0)
				return PROTO_BAD;
			c = (unsigned char)(hi * 16 + lo);
			i += 2;
		} else if (!proto_plain(c)) {
			return PROTO_BAD;
		}
		if (o + 1 >= size)
			return PROTO_TOO_LONG;
		out[o++] = (char)c;
	}
	if (o >= size)
		return PROTO_TOO_LONG;
	out[o] = '\0';
	return (long)o;
}

int proto_number(const char *s, size_t n, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	size_t i;

	if (n == 0 || n > 15 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t proto_base64_encode(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0, i;

	for (i = 0; i + 2 < n; i += 3) {
		out[o++] = b64[in[i] >> 2];
		out[o++] = b64[(in[i] & 3) << 4 | in[i + 1] >> 4];
		out[o++] = b64[(in[i + 1] & 15) << 2 | in[i + 2] >> 6];
		out[o++] = b64[in[i + 2] & 63];
	}
	if (n - i == 1) {
		out[o++] = b64[in[i] >> 2];
		out[o++] = b64[(in[i] & 3) << 4];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		out[o++] = b64[in[i] >> 2];
		out[o++] = b64[(in[i] & 3) << 4 | in[i + 1] >> 4];
		out[o++] = b64[(in[i + 1] & 15) << 2];
		out[o++] = '=';
	}
	return o;
}

static int b64val(char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 :
	       c >= '0' && c <= '9' ? c - '0' + 52 : c == '+' ? 62 : c == '/' ? 63 : -1;
}

long proto_base64_decode(const char *s, size_t n, unsigned char *out, size_t size)
{
	size_t i, o = 0;

	if (n == 0 || n % 4 || n / 4 * 3 > size + 2)
		return -1;
	for (i = 0; i < n; i += 4) {
		int a = b64val(s[i]), b = b64val(s[i + 1]), c = b64val(s[i + 2]), d = b64val(s[i + 3]);
		int last = i + 4 == n;

		if (a < 0 || b < 0)
			return -1;
		if (last && s[i + 2] == '=' && s[i + 3] == '=') {
			if ((b & 15) || o + 1 > size)
				return -1;
			out[o++] = (unsigned char)(a << 2 | b >> 4);
			break;
		}
		if (last && c >= 0 && s[i + 3] == '=') {
			if ((c & 3) || o + 2 > size)
				return -1;
			out[o++] = (unsigned char)(a << 2 | b >> 4);
			out[o++] = (unsigned char)((b & 15) << 4 | c >> 2);
			break;
		}
		if (c < 0 || d < 0 || o + 3 > size)
			return -1;
		out[o++] = (unsigned char)(a << 2 | b >> 4);
		out[o++] = (unsigned char)((b & 15) << 4 | c >> 2);
		out[o++] = (unsigned char)((c & 3) << 6 | d);
	}
	return (long)o;
}

uint32_t proto_crc32(uint32_t crc, const void *buf, size_t len)
{
	static uint32_t table[256];
	const unsigned char *p = buf;
	size_t i;

	if (!table[1]) {   /* idempotent: a race computes the same table twice */
		uint32_t c, n, k;

		for (n = 0; n < 256; n++) {
			for (c = n, k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[n] = c;
		}
	}
	crc = ~crc;
	for (i = 0; i < len; i++)
		crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

size_t proto_clip(char *dst, size_t size, const char *s, size_t n)
{
	size_t i;

	if (!size)
		return 0;
	if (n > size - 1)
		n = size - 1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		dst[i] = (c < 0x20 && c != '\t') || c == 0x7f ? '?' : (char)c;
	}
	dst[n] = '\0';
	return n;
}
