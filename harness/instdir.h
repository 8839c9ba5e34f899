/* instdir.h - an instance's files: the root of instance dirs, one private
 * dir per test (nodeK/ inside it for the nodes of a multi-node test), the
 * nodes' scratch disks, the per-test logs (capped), and the coverage tree a
 * node leaves behind. instance.c decides when; this file knows where. */
#ifndef VKCI_INSTDIR_H
#define VKCI_INSTDIR_H

#include <stddef.h>

/* A log file with a cap: what comes beyond max is dropped, with one line
 * saying so. */
struct logfile {
	int fd;                /* -1 when closed */
	size_t logged, max;
	int truncated;
	const char *what;      /* "console", "serial" */
};

int logfile_open(struct logfile *l, const char *path, size_t max, const char *what);
void logfile_write(struct logfile *l, const char *buf, size_t len);
void logfile_close(struct logfile *l);

/* Make (if needed) and check the root of instance dirs: owned by us, 0700,
 * not a symlink. Writes the chosen path into buf. */
int instance_run_dir(const char *wanted, char *buf, size_t size);
/* A fresh private dir RUN_DIR/<test with / and . as _>.XXXXXX. */
int instdir_create(const char *run_dir, const char *test, char *dir, size_t size);
/* Node index's dir: the instance dir itself for a single node, nodeK/ else. */
int instdir_node(const char *inst_dir, int index, int nnodes, char *dir, size_t size);
/* A sparse scratch disk of `bytes` in the node's dir. */
int instdir_scratch(const char *node_dir, long long bytes, char *path, size_t size);
/* Where node index's console.log and serial.log go: LOG_DIR/<test>[/nodeK],
 * created, or the node's dir when there is no log dir. */
int instdir_logdir(const char *log_dir, const char *test, int index, int nnodes,
		   const char *node_dir, char *out, size_t size);
/* Move a node's coverage tree (node_dir/gcov) to dst (replacing an older
 * one). killed: the vkernel was killed, so a tree it writes at exit is not
 * there (it is removed if partial). inner: a fetched tree holds the guest's
 * whole debugfs gcov dir, whose paths are the kernel's build dir: the
 * subtree at inner (that dir without its leading '/') is what is kept, so
 * the tree is relative to the build dir as UML's is; NULL: the tree as it
 * is. Returns NULL, or a note for the TAP. */
const char *instdir_collect_gcov(const char *node_dir, const char *dst, int killed, int at_exit,
				 const char *inner);

#endif
