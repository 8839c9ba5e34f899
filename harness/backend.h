/* backend.h - everything that differs between kinds of vkernel, behind one
 * interface. instance.c, build.c and vkci.c speak only to this; adding a
 * backend is adding one file (harness/uml.c is the first, harness/qemu.c the
 * second) plus its image and config recipe.
 *
 * A backend owns:
 *   - building: the kbuild ARCH, the base config target, where the vkernel
 *     lands in the build dir, and hooks around the build (UML's coverage
 *     fix-ups, a check boot);
 *   - one node of an instance: its disks (root copy-on-write or snapshot,
 *     payload, scratch), its argv and environment, and the channels that
 *     carry the console and the record stream (start());
 *   - networking between the nodes of a test (a switch process);
 *   - where coverage comes from (.gcda written by the vkernel process at
 *     exit, or fetched over the serial line from the guest's debugfs);
 *   - known shutdown quirks.
 * Guest-side device names reach the agent as job words, so the agent stays
 * one source for every backend. */
#ifndef VKCI_BACKEND_H
#define VKCI_BACKEND_H

#include <stddef.h>
#include <sys/types.h>

#define BOOT_MAX_ARGS 96        /* argv entries */
#define BOOT_ARGV_BYTES 16384   /* all argv strings together */
#define BOOT_MAX_ENV 4

/* What one node of a test needs to start (filled by instance.c). */
struct boot_params {
	const char *test;        /* the test's name (VKCI_TEST in the vkernel's environment:
	                          * for wrappers and ps; the agent learns it from its job) */
	const char *kernel;      /* vkernel binary or image (absolute path) */
	const char *image;       /* read-only base root image */
	const char *payload;     /* read-only payload disk, or NULL */
	const char *scratch;     /* per-node scratch disk file, or NULL */
	long long scratch_size;  /* its size in bytes */
	const char *net;         /* the test's network (net_start's address), or NULL */
	int net_fd;              /* this node's network endpoint (net_start's fd[node]), or -1 */
	const char *node_dir;    /* this node's private dir (instance dir or nodeK/) */
	int node, nodes;         /* this node's index among the test's nodes */
	long long mem;           /* bytes */
	const char *const *extra;/* extra kernel arguments, NULL-terminated, or NULL */
	const char *gcov_dir;    /* coverage wanted (where it ends up), or NULL */
	int interactive;         /* vkci boot: the record channel carries a shell (a tty) */
};

/* An argv (and environment) under construction, bounded. */
struct boot_argv {
	const char *argv[BOOT_MAX_ARGS + 1];
	int argc;
	const char *env[BOOT_MAX_ENV + 1];
	int nenv;
	char store[BOOT_ARGV_BYTES];
	size_t used;
};

/* A started vkernel: its process (group leader) and the host's ends of its
 * channels, all close-on-exec, owned by the caller from then on. */
struct vkernel {
	pid_t pid;
	int con_r;    /* the console (kernel log) from the guest */
	int ser_r;    /* the record stream from the guest */
	int ser_w;    /* host -> guest on the record channel */
	int hold;     /* an fd to keep open while it runs (UML's console input), or -1 */
	int restored; /* restored from a snapshot of a booted agent: ask for the hello
	               * again ("P"), send a fresh seed and the time in the job */
	int ack;      /* the record channel may hold records after power-off: the agent
	               * waits for the host's "A" before powering off */
	const char *accel; /* how its CPU runs, for the record: NULL (a program, UML),
	                    * "kvm" or "tcg" (static strings) */
};

/* A test's network: a switch process the nodes attach to, or per-node
 * endpoints (fds the nodes inherit). */
#define VKNET_MAX_NODES 16
struct vknet {
	pid_t pid;                /* the switch, 0 when none */
	char addr[256];           /* what each node's boot_params.net gets, or "" */
	int fd[VKNET_MAX_NODES];  /* node i's endpoint (boot_params.net_fd), or -1;
	                           * closed by the instance after every node started */
};

enum coverage_source {
	COV_AT_EXIT,     /* the vkernel process writes .gcda under GCOV_PREFIX when it exits */
	COV_FETCH,       /* the agent sends the guest's debugfs gcov tree over the serial line */
};

enum {
	QUIRK_ABORT_AFTER_POWEROFF = 1,   /* may die by SIGABRT after a clean power-off */
};

struct build_ctx;   /* build.c's, see build_ctx_*() in build.h */

struct backend {
	const char *name;              /* "uml", "qemu": BACKEND= and --backend */
	const char *summary;           /* one line for help texts */

	/* ---- building ---- */
	const char *arch;              /* kbuild ARCH= */
	const char *arch_dir;          /* the tree must have arch/<arch_dir>/Kconfig */
	const char *defconfig;         /* base config target */
	const char *binary;            /* the vkernel, relative to the build dir */
	const char *alt_binary;        /* another file of the build dir that boots too
	                                * (QEMU: the bzImage beside vmlinux), or NULL */
	const char *binary_target;     /* the kbuild target that makes it */
	/* Hooks, each returning 0 or an exit status after reporting; NULL:
	 * none. setup: before configuring (kbuild arguments, checks of the
	 * requested options); before: after configuring, before kbuild; after:
	 * after kbuild (fix-ups, a check boot of the result). */
	int (*build_setup)(struct build_ctx *b);
	int (*build_before)(struct build_ctx *b);
	int (*build_after)(struct build_ctx *b);

	/* ---- running ---- */
	/* Does this file look like this backend's vkernel (an ELF program, a
	 * bzImage)? 1 yes, 0 no. */
	int (*probe)(const char *kernel);
	int kernel_is_program;         /* the vkernel runs as a program (must be executable) */
	/* Guest device names the agent is told in its job. */
	const char *payload_dev, *scratch_dev;
	enum coverage_source coverage;
	unsigned quirks;
	/* Start the network for `nodes` nodes in dir; 0 or -1 after reporting. */
	int (*net_start)(const char *dir, int nodes, struct vknet *net);
	/* Start one node: its disks, argv, channels and process. 0, or -1
	 * after reporting (nothing left running). */
	int (*start)(const struct boot_params *bp, struct vkernel *vk);
};

extern const struct backend backend_uml;
extern const struct backend backend_qemu;
/* The UML argv of one node, its channels on fds chan[] = { console in,
 * console out, serial in, serial out } (exposed for the unit tests). */
int uml_build_argv(const struct boot_params *bp, const int chan[4], struct boot_argv *b);

/* The backend called name, or NULL after reporting the known ones. */
const struct backend *backend_by_name(const char *name);
/* The backend whose probe() accepts the kernel file; NULL after reporting. */
const struct backend *backend_for_kernel(const char *kernel);
/* A kernel that another backend's probe claims and be's does not (a
 * vmlinux given to UML, a UML program to QEMU): -1 after reporting, else 0
 * (a file no probe knows, a wrapper script, is be's to judge). */
int backend_mismatch(const struct backend *be, const char *kernel);
/* The .config of a kernel: next to it, or at the top of the build dir it
 * came from (a vkci build prints BUILD_DIR/<binary>), or a distribution's
 * config-VERSION beside vmlinuz-VERSION. 0 with buf filled, -1 if none. */
int backend_kernel_config(const struct backend *be, const char *kernel, char *buf, size_t size);
/* The build dir a kernel file came from (vkci build's BUILD_DIR/<binary> or
 * <alt_binary>, holding its .config), into buf: 0, or -1 if it is not one. */
int backend_build_dir(const struct backend *be, const char *kernel, char *buf, size_t size);

/* argv building for start(): append one formatted word (argv or env).
 * Return 0, or -1 after reporting (too many, too long). */
int boot_add(struct boot_argv *b, const char *f, ...) __attribute__((format(printf, 2, 3)));
int boot_env(struct boot_argv *b, const char *f, ...) __attribute__((format(printf, 2, 3)));
/* Check a path the vkernel's command line must carry: none of the
 * characters in `bad` (a backend's separators, described for the message
 * as bad_desc). 0 or -1 after reporting. */
int boot_check_path(const char *what, const char *path, const char *bad, const char *bad_desc);
/* The user's extra kernel arguments, each one word, appended; then
 * kunit.enable=0 unless one of them says kunit.* (kunit.h). */
int boot_add_extra(struct boot_argv *b, const struct boot_params *bp);

/* The job the host sends the agent after the key (PROTOCOL.md): test,
 * timeout, arguments, node, devices. */
struct job_params {
	const char *test;
	long timeout_s;
	const char *const *test_args;
	int node, nodes;
	int shell;
	const char *payload_dev;      /* NULL: no payload disk */
	const char *scratch_dev;      /* NULL: no scratch disk */
	const char *fetch;            /* vkci.fetch= dir, or NULL */
	const char *seed;             /* vkci.seed= hex (restored instances), or NULL */
	long long time_ms;            /* vkci.time= (restored instances), or 0 */
	int ack;                      /* vkci.ack=1 */
};
/* "J <key> <words>\n" into buf. Returns its length, or -1 after reporting. */
long job_record(char *buf, size_t size, const char *key, const struct job_params *jp);

#endif
