/* proto.h - the host/guest protocol's shared vocabulary (harness/PROTOCOL.md),
 * compiled into both the driver and the guest agent, so both sides apply the
 * same rules: record framing, the per-boot key, percent-encoding of words and
 * names, strict decimal numbers, base64, CRC-32 and clipping to printable
 * text.
 *
 * Freestanding and pure: libc string functions only, no allocation, no
 * diagnostics, no state but the CRC table (computed once). Every function takes its
 * input as (pointer, length) and never reads past it; outputs are bounded by
 * the size given, and a result that does not fit is an error, never a
 * silently shortened value. */
#ifndef VKCI_PROTO_H
#define VKCI_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION 1
#define PROTO_TOKEN_LEN 16          /* hex digits of the per-boot key */
#define PROTO_MAX_RECORD 4600       /* longest record line, without its newline */
#define PROTO_OUT_CHUNK 2048        /* output bytes per O/o/E/e record */
#define PROTO_XFER_CHUNK 3072       /* file bytes per F data record */
#define PROTO_XFER_B64 4096         /* base64 characters of a full data record */
#define PROTO_MAX_WORDS 64          /* vkci.* words of one job */

/* ---- records: "<tag> <payload>\n" ----------------------------------------- */

/* Write one record into buf: tag, blank, payload, newline; a control record
 * (key != NULL) puts "<key> " before the payload. Returns the record's
 * length, or -1 if it would be longer than PROTO_MAX_RECORD or size. */
long proto_record(char *buf, size_t size, char tag, const char *key,
		  const char *payload, size_t len);

/* Split a record line (without its newline; a trailing \r is the caller's
 * business): the tag, and what follows "<tag> " as rest/rest_len. Returns 0,
 * or -1 for an empty line or a second byte that is not a blank. */
int proto_split(const char *line, size_t len, char *tag, const char **rest, size_t *rest_len);

/* Is s (n bytes) a well-formed key: PROTO_TOKEN_LEN lowercase hex digits? */
int proto_is_token(const char *s, size_t n);

/* ---- percent-encoding (kernel-command-line words, transferred names) ------ */

/* Bytes that travel as themselves: [A-Za-z0-9._/=:+-]. */
int proto_plain(unsigned char c);
/* Encode n bytes: every other byte becomes %XX (uppercase hex). Returns the
 * encoded length (out is NUL-terminated), or -1 if it does not fit. */
long proto_encode(const char *in, size_t n, char *out, size_t size);
/* Decode n bytes strictly: plain bytes and %XX (either case) only. The
 * result may contain NUL (callers that cannot carry it check). Returns the
 * decoded length (out NUL-terminated), PROTO_BAD for a malformed input or
 * PROTO_TOO_LONG when it does not fit. */
#define PROTO_BAD (-1)
#define PROTO_TOO_LONG (-2)
long proto_decode(const char *in, size_t n, char *out, size_t size);
/* One hex digit's value, or -1. */
int proto_hexval(char c);

/* ---- numbers ----------------------------------------------------------------- */

/* Strict decimal: 1 to 15 digits, no sign, no blank, no leading zero (but
 * "0"), at most max. Returns 0 with *out set, or -1. */
int proto_number(const char *s, size_t n, unsigned long long max, unsigned long long *out);

/* ---- base64 (RFC 4648, padded, canonical) and CRC-32 (IEEE, zlib's) --------- */

/* Encode n bytes; out must hold 4 * ((n + 2) / 3) bytes. Returns that length. */
size_t proto_base64_encode(const unsigned char *in, size_t n, char *out);
/* Decode strictly: a non-empty multiple of 4 characters, '=' only as the last
 * one or two, unused bits zero, at most `size` bytes out. Returns the byte
 * count or -1. */
long proto_base64_decode(const char *in, size_t n, unsigned char *out, size_t size);
/* Continue a CRC-32 (start with 0). */
uint32_t proto_crc32(uint32_t crc, const void *buf, size_t len);

/* ---- text ---------------------------------------------------------------------- */

/* Copy at most size-1 of n bytes into dst, NUL-terminated, each control byte
 * (below 0x20 but tab, and 0x7f) replaced by '?'. Returns the copied length. */
size_t proto_clip(char *dst, size_t size, const char *s, size_t n);

#endif
