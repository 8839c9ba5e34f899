/* fuzz_stream.c - libFuzzer target: arbitrary bytes as a serial stream and
 * as a console log, through the serial parser, the TAP classifier, the
 * console crash detector and the verdict, exactly as `vkci parse` uses them.
 * The first byte chooses how the input is split into feed() calls and which
 * host facts are assumed, so chunking and every verdict path get exercised.
 * F records go to a verify-only file-transfer receiver (transfer.h), as in
 * `vkci parse` without --fetch-dir. */
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>

#include "../console.h"
#include "../serial.h"
#include "../transfer.h"
#include "../verdict.h"

static size_t out_bytes;

static void sink(void *ctx, const char *line, size_t len)
{
	(void)ctx;
	(void)line;
	out_bytes += len;
}

static void feed_verdict(void *ctx, const struct serial_event *ev)
{
	struct xfer_rx *rx = ctx;

	verdict_event(rx->v, ev);
	xfer_rx_event(rx, ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct console_state con;
	struct serial_parser sp;
	struct host_facts host;
	struct verdict v;
	static struct xfer_rx rx;
	size_t split, chunk, i;
	uint8_t mode;

	if (size < 1)
		return 0;
	mode = data[0];
	data++;
	size--;
	split = size / 2 + (mode & 7);
	if (split > size)
		split = size;
	chunk = 1 + (mode >> 3) * 37;

	console_init(&con);
	for (i = 0; i < split; i += chunk)
		console_feed(&con, (const char *)data + i, split - i < chunk ? split - i : chunk);
	console_finish(&con);

	memset(&host, 0, sizeof(host));
	host.kernel_reaped = mode & 1;
	host.kernel_status = (mode & 2) ? SIGABRT : 0;
	host.killed_by_host = (mode >> 2) & 1;
	host.timeout = (enum host_timeout)((mode >> 3) & 3);
	verdict_init(&v, sink, NULL, &con);
	xfer_rx_init(&rx, NULL, NULL, (mode & 32) ? "4K:16K:4" : NULL, &v);
	serial_init(&sp, feed_verdict, &rx);
	/* the whole input as serial stream too: records and console text mix */
	for (i = 0; i < size; i += chunk)
		serial_feed(&sp, (const char *)data + i, size - i < chunk ? size - i : chunk);
	serial_finish(&sp);
	xfer_rx_finish(&rx, NULL);
	verdict_finish(&v, &host);
	verdict_free(&v);
	return 0;
}
