/* node.h - the parts of one instance (instance.c) and its nodes (node.c):
 * private to those two files. A node is one vkernel of a test; a run is the
 * test's instance: its dir, its network, its nodes. */
#ifndef VKCI_NODE_H
#define VKCI_NODE_H

#include <limits.h>
#include <sys/types.h>

#include "backend.h"
#include "console.h"
#include "instance.h"
#include "instdir.h"
#include "serial.h"
#include "transfer.h"
#include "util.h"
#include "verdict.h"

enum state { ST_BOOTING, ST_RUNNING, ST_STOPPING, ST_TERM, ST_KILL, ST_DRAINING, ST_DONE };

#define RUN_SLACK_MS 10000      /* host deadline beyond the guest's own timeout */
#define SHUTDOWN_MS 10000       /* sync + power-off after the test ended */
#define KILL_WAIT_MS 15000      /* SIGKILL to reaped (a loaded host can take seconds
				 * to tear down a vkernel with many processes) */
#define DRAIN_MS 1000           /* pipes to EOF after the vkernel exited */
#define PEER_OUTPUT_MAX 65536   /* captured TAP of nodes other than 0 */
#define XFER_MAX_MS 300000      /* a file transfer may stretch STOPPING this long */
#define XFER_DIR "gcov-serial"  /* where a node's transferred tree lands (transfer.h) */
#define GUEST_GCOV "/sys/kernel/debug/gcov"  /* COV_FETCH backends: the guest's gcov tree */

struct run;

/* One vkernel. */
struct node {
	struct run *run;
	int index;
	char dir[PATH_MAX], scratch[PATH_MAX + 16];
	char console_path[PATH_MAX + 32], serial_path[PATH_MAX + 32];

	int con_r, ser_r, ser_w, hold;
	struct logfile con_log, ser_log;

	pid_t pid;
	int reaped;
	enum state state;
	long long deadline;
	char token[SERIAL_TOKEN_LEN + 1];

	struct serial_parser sp;
	struct xfer_rx xfer;      /* F records: files the agent sends into dir/XFER_DIR */
	long long xfer_until;     /* no deadline extension for the transfer after this */
	struct console_state con;
	struct verdict v;
	struct host_facts host;
	struct sbuf captured;     /* TAP of a node other than 0 */
	int passthrough;          /* interactive: 0 records, 1 shell bytes to stdout, 2 records again */
	size_t matched;           /* interactive: bytes of "X <key> " seen */
	int rc;                   /* its verdict, once finished */
	int restored, ack;        /* struct vkernel's */
	const char *accel;
};

/* One test: its instance dir, the network, the nodes. */
struct run {
	const struct instance_config *cfg;
	const struct backend *be;
	char dir[PATH_MAX];
	struct vknet net;
	int net_reaped;
	int sig_fd;
	int interrupted;          /* signal that interrupted vkci, or 0 */
	int nnodes;
	int stdin_open;           /* interactive: still reading the user's input */
	struct node node[INSTANCE_MAX_NODES];
	char notes[4][PATH_MAX + 32];
	struct peer_result peers[INSTANCE_MAX_NODES];
};


void set_state(struct node *n, enum state s, long long ms);
/* Set-up: the node's dir, scratch disk and logs; its vkernel. */
void node_init(struct run *r, struct node *n, int index, verdict_emit emit, void *ctx);
int node_files(struct node *n);
int node_spawn(struct node *n);
/* Bytes on one of its channels (serial: is_serial); EOF closes *fd. */
void node_read(struct node *n, int *fd, int is_serial);
/* vkci boot: the user's keystrokes to node 0's serial line. */
void read_stdin(struct run *r);
/* Its deadline passed: the per-state action. */
void node_expire(struct node *n);
/* The diagnostics that name its logs (node 0) and the kept dir. */
void node_notes(struct run *r, struct node *n);
void close_fd(int *fd);

#endif
