/* qemu.h - the parts of the QEMU backend (backend_qemu, backend.h):
 *   qemu.c   the backend: build recipe, the kernel probe, one node's argv,
 *            channels and process (cold or restored), the network
 *   qsnap.c  booted snapshots: a template per machine shape in the cache,
 *            built once under a lock; the KVM probe; payload views
 *   qboot.c  a boot up to the agent's hello: a template's, the probe's
 *   qmp.c    the few QEMU monitor (QMP) commands a template needs
 *   hub.c    `vkci hub`: the Ethernet hub of a network of 3+ nodes
 * How it all works is in README.md ("The QEMU backend") and PROTOCOL.md. */
#ifndef VKCI_QEMU_H
#define VKCI_QEMU_H

#include <stddef.h>
#include <sys/types.h>

#include "backend.h"

#define QEMU_SYSTEM "qemu-system-x86_64"
#define QEMU_IMG "qemu-img"
#define QEMU_REC_PORT "/dev/vport0p1"   /* the records' virtio-serial port in the guest */
#define QEMU_REC_TTY "/dev/ttyS1"       /* vkci boot: the records (and the shell) on a UART */
#define QEMU_CMDLINE_MAX 2047           /* x86's COMMAND_LINE_SIZE is 2048 */
#define QEMU_BAD_PATH ",\n"             /* QEMU's option syntax splits on ',' */
#define QEMU_BAD_DESC "a comma or newline"

/* A machine: what a snapshot is keyed on, and how QEMU is started. */
struct qshape {
	const char *qemu;             /* qemu-system-x86_64 (absolute path) */
	const char *kernel;           /* vmlinux (PVH) or bzImage */
	long long mem;                /* bytes */
	int kvm;                      /* -accel kvm -cpu host, else TCG */
	int tty_records;              /* vkci boot: records on ttyS1 (a tty for the shell) */
	int template_boot;            /* vkci.snapshot=1: the agent waits for its key for ever */
	long long scratch;            /* scratch disk bytes, 0: none */
	int nic;                      /* a NIC (multi-node tests) */
	int node;                     /* its MAC (the agent sets one itself too) */
	const char *const *extra;     /* the user's kernel arguments, or NULL */
};

/* The files and fds of one QEMU process. */
struct qio {
	const char *root;             /* root disk file */
	int root_qcow2;               /* qcow2 (a template's root) rather than raw */
	int root_snapshot;            /* snapshot=on: QEMU's own throwaway overlay in TMPDIR */
	const char *payload;          /* payload file, or NULL: a 1 MiB empty disk keeps vdc vdc */
	int payload_qcow2;            /* a payload view (qsnap_payload_view) */
	const char *scratch;          /* scratch file, or NULL */
	int con, rec, qmp, net, incoming;   /* the child's fds, -1: none */
};

/* qemu.c */
/* qemu-system-x86_64 ($VKCI_QEMU, else PATH) into buf; -1 after reporting. */
int qemu_find(char *buf, size_t size);
/* The kernel command line of a shape. -1 after reporting (too long, bad word). */
int qemu_cmdline(const struct qshape *s, char *buf, size_t size);
/* The argv of one QEMU process; -1 after reporting. */
int qemu_argv(const struct qshape *s, const struct qio *io, struct boot_argv *b);
/* Start QEMU: argv b, stdout/stderr onto out_fd, the fds in io kept, TMPDIR
 * (snapshot=on overlays) in tmpdir. 0 with *pid, or -1 after reporting. */
int qemu_spawn(struct boot_argv *b, const struct qio *io, int out_fd, const char *tmpdir, pid_t *pid);

/* qsnap.c */
enum { QSNAP_KVM = 1, QSNAP_TCG = 0 };
/* How QEMU runs this kernel: KVM when it boots this kernel to the agent's
 * hello, TCG otherwise (VKCI_ACCEL=tcg forces it, =kvm insists). Decided
 * once per (QEMU, kernel, image) and cached; the reason for TCG goes to
 * why. Returns QSNAP_KVM or QSNAP_TCG, -1 after reporting. */
int qsnap_accel(const struct qshape *s, const char *image, char *why, size_t size);
/* A read-only qcow2 view of the payload with a fixed capacity (1 GiB, or
 * the payload's size rounded up to GiB), cached: a template's payload disk
 * has that size whatever the run's payload is. 0 or -1 after reporting. */
int qsnap_payload_view(const char *payload, char *view, size_t size, long long *cap);
/* The template dir of shape s (its kvm field is decided here): made now
 * when missing (a cold boot to the agent's hello, then the machine's state
 * saved), shared by every clone. 0 with dir filled, 1 when no template can
 * be made (the caller boots cold; said on stderr), -1 after reporting. */
int qsnap_template(struct qshape *s, const char *image, const char *payload_view, long long cap,
		   char *dir, size_t size);
/* The argv of a clone of the template in dir, with its own channels. */
int qsnap_restore_argv(const struct qshape *s, const char *dir, struct qio *io, struct boot_argv *b);

/* qboot.c */
/* A boot to the agent's hello: the machine s with root dir/root.qcow2 (a new
 * overlay on image), payload view (or none), a scratch disk of the shape's
 * size; console in dir/console.log. save: the machine's state is then
 * saved into dir/state and QEMU quits; else QEMU is killed. */
struct tboot {
	struct qshape s;
	const char *image, *view, *dir;
	int save;
	int deadline_s;                /* for the hello */
	char why[300];                 /* what went wrong */
};
/* 0, or -1 with t->why filled. */
int qboot_to_hello(struct tboot *t);
/* Run qemu-img with these arguments (NULL-terminated); 0 or -1 after
 * reporting its output. */
int qemu_img(const char *const *args);

/* qmp.c: a QMP connection on the host's end of a socketpair. */
struct qmp {
	int fd;
	size_t len;
	char buf[65536];
};
/* The greeting and qmp_capabilities, by the deadline (now_ms()). 0 or -1
 * with err filled. */
int qmp_open(struct qmp *q, int fd, long long deadline, char *err, size_t size);
/* One command ("{\"execute\": ...}"); its "return" object's value of key
 * (a string) into out when out is not NULL. Events are skipped. 0, or -1
 * with err filled (an error reply, the deadline, EOF). */
int qmp_cmd(struct qmp *q, const char *cmd, const char *key, char *out, size_t outsize,
	    long long deadline, char *err, size_t size);

/* Hand QEMU an fd (SCM_RIGHTS) under a name commands can use ("fd:NAME"). */
int qmp_getfd(struct qmp *q, const char *name, int fd, long long deadline, char *err, size_t size);

/* hub.c: `vkci hub FD...` */
int hub_main(int argc, char **argv);

#endif
