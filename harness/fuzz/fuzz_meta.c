/* fuzz_meta.c - libFuzzer target: test metadata and command-line encoding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../meta.h"
#include "../uml.h"

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
	if (cmdline_encode(text, enc, sizeof(enc)) >= 0) {
		/* what we encode must decode to the same string */
		if (cmdline_decode(enc, dec, sizeof(dec)) < 0 || strcmp(dec, text) != 0)
			abort();
	}
	cmdline_decode(text, dec, sizeof(dec));
	free(text);
	return 0;
}
