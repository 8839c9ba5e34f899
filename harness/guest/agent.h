/* agent.h - the guest agent's parts (PID 1 of every vkci instance):
 *   agent.c  the steps: the serial line, the key and the job, the test's
 *            supervision, power-off
 *   system.c the system the test runs in: mounts, the payload disk, the
 *            network, a restored snapshot's fresh clock and CRNG
 *   job.c    what it is to do: the kernel command line's words, then the
 *            host's key and job on the serial line
 *   send.c   everything the agent writes to the host: records, and the file
 *            transfer of a tree (vkci.fetch=)
 * Both build from the same sources for every backend; what differs between
 * backends (the serial device, the payload disk) comes from the kernel
 * command line. The record format is harness/proto.h's and PROTOCOL.md's. */
#ifndef VKCI_AGENT_H
#define VKCI_AGENT_H

#include <stddef.h>

#include "../proto.h"

#define MAX_ARGS 32
#define DEFAULT_SERIAL "/dev/ttyS0"

/* What the agent is to do: from the kernel command line (the backend's
 * devices, the user's extra words), then the host's job record. */
struct job {
	char serial[64];           /* the record channel (vkci.serial=) */
	char payload[64];          /* the payload disk (vkci.payload=), or "" */
	char test[256];
	long timeout_s;
	long node, nodes;          /* multi-node tests: our index and the count */
	char scratch[64];          /* scratch block device, or "" */
	char fetch[256];           /* send the files under this dir after the test, or "" */
	int shell;                 /* vkci boot: an interactive shell instead of a test */
	/* an instance restored from a snapshot of a booted agent (PROTOCOL.md) */
	long snapshot;             /* vkci.snapshot=1 (command line): wait for the key without deadline */
	char seed[72];             /* vkci.seed=HEX (job): mixed into the CRNG, which is then reseeded */
	long time_ms;              /* vkci.time=MS since the epoch (job): the wall clock */
	long ack;                  /* vkci.ack=1 (job): after D, wait (10 s at most) for the host's A */
	char env[4][300];
	char *argv[MAX_ARGS + 2];
	int argc;
	char cmdline[4096];
	char words[PROTO_MAX_RECORD + 1];
	char args[MAX_ARGS][1024];
};


extern int agent_serial;                     /* the record channel, or -1 */
extern char agent_key[PROTO_TOKEN_LEN + 1];  /* "-" until the host's key came */

void write_all(int fd, const char *p, size_t n);
/* One record in one write: tag, blank, payload (clipped to a record). */
void send_record(char tag, const char *payload, size_t len);
/* A control record: "<tag> <key> <printf text>" (newlines become blanks). */
void send_control(char tag, const char *f, ...) __attribute__((format(printf, 2, 3)));
/* The file transfer (PROTOCOL.md "File transfer"): every regular file under
 * root as F records, then the count. */
void send_tree(const char *root);
/* A line to the kernel log (the host's console.log). */
void kmsg(const char *msg);
long long now_ms(void);
/* The words of /proc/cmdline into j (defaults first). 0, or -1 with err. */
int read_cmdline(struct job *j, char *err, size_t size);
/* The host's key (echoed) and job, within 10 s; a "P" first asks for the
 * hello again (a restored snapshot). 0, or -1 with err. */
int receive_job(struct job *j, char *err, size_t size);
/* vkci.ack=1: wait (10 s at most) for the host's "A <key>": it has read
 * every record (a virtio-serial port is not drained after power-off). */
void await_ack(void);
/* The file systems tests expect (/proc, /sys, /dev, /tmp, ...; /dev/fd
 * and the std links). 0, or -1 with err when a required one fails. */
int mount_all(char *err, size_t size);
/* The payload disk (vkci.payload=) read-only on /payload, if there is one. */
int mount_payload(const struct job *j, char *err, size_t size);
/* A restored snapshot's own wall clock and CRNG (vkci.time=, vkci.seed=). */
void fresh_state(const struct job *j);
/* lo up; eth0 10.0.0.(node+1)/24 with its own MAC for multi-node tests. */
int network(const struct job *j, char *err, size_t size);

#endif
