/* fuzz_meta.c - libFuzzer target: test metadata and command-line encoding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../meta.h"
#include "../proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), enc[512], dec[512];
	struct test_meta m;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	meta_init(&m);
	meta_parse(&m, text, "fuzz");
	if (proto_encode((const char *)data, size, enc, sizeof(enc)) >= 0) {
		/* what we encode must decode to the same bytes */
		if (proto_decode(enc, strlen(enc), dec, sizeof(dec)) != (long)size ||
		    memcmp(dec, data, size) != 0)
			abort();
	}
	proto_decode(text, size, dec, sizeof(dec));
	free(text);
	return 0;
}
