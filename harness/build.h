/* build.h - `vkci build`: a vkernel from a Linux source tree with its
 * backend's recipe (backend.h), built out of tree into a cache directory
 * keyed by what went into it.
 *
 *   KEY   = hash(source path, kernel version, fragments' contents, compiler
 *           version, backend, variant, recipe version)
 *   DIR   = CACHE/kernels/<tree name>-<backend>[-<variant>]-<KEY>   (O= of kbuild)
 *   DIR/<binary>        the vkernel (UML: linux; QEMU: arch/x86/boot/bzImage),
 *                       printed on success
 *   DIR/build.log       every command's output, appended per build
 *   DIR/vkci-stamp      fingerprint of the source tree + .config of the last
 *                       good build: when it still matches, no kbuild runs
 *   CACHE/kernels/<...>.lock   flock(2) held while building
 *   DIR/vkci-gcov/...   a backend's build fix-ups (UML's coverage variant:
 *                       see uml.c)
 *
 * The source tree is only read: kbuild runs with O=DIR, merge_config.sh with
 * its working directory in DIR. */
#ifndef VKCI_BUILD_H
#define VKCI_BUILD_H

#include <stddef.h>

struct backend;
struct build_ctx;

/* Exit statuses of `vkci build` beyond the common 0/2/3 (README.md). */
enum {
	BUILD_EXIT_UNCLEAN = 4,  /* the source tree has an in-tree build: make mrproper */
	BUILD_EXIT_CONFIG = 5,   /* bad fragment, unknown symbol, option that did not take */
	BUILD_EXIT_TOOLS = 6,    /* compiler, make, flex, bison or bc missing */
	BUILD_EXIT_DISK = 7,     /* not enough space in the cache */
	BUILD_EXIT_COMPILE = 8,  /* kbuild failed: log tail printed */
	BUILD_EXIT_NOCOV = 9,    /* coverage variant: the new vkernel yields no coverage data */
};

#define BUILD_MAX_FRAGS 32

struct build_opts {
	const struct backend *backend;        /* NULL: UML */
	const char *src;                      /* source tree (any path) */
	const char *cache;                    /* cache root; NULL: $VKCI_CACHE or ~/.cache/vkci */
	const char *frags[BUILD_MAX_FRAGS];   /* config fragments, in merge order */
	int nfrags;
	const char *variant;                  /* "" or e.g. "coverage" */
	int jobs;                             /* kbuild -j; 0: number of CPUs */
	int force;                            /* run kbuild even if the stamp matches */
};

/* Build (or find) the vkernel; on success its path goes to out and 0 is
 * returned; otherwise an exit status above (or EXIT_USAGE / EXIT_INFRA),
 * after reporting. */
int build_kernel(const struct build_opts *o, char *out, size_t out_size);

/* ---- for backends' build hooks (struct backend's build_*) ---- */
const char *build_ctx_dir(const struct build_ctx *b);     /* the build dir (O=) */
const char *build_ctx_cc(const struct build_ctx *b);      /* the compiler's path */
int build_ctx_interrupted(const struct build_ctx *b);
/* Is this the named variant ("coverage", "debug", ...), alone or combined
 * with others ("coverage-kunit": the words of a variant are joined by '-')? */
int build_ctx_variant(const struct build_ctx *b, const char *variant);
/* The value the fragments request for CONFIG_<sym>, or NULL. */
const char *build_ctx_option(const struct build_ctx *b, const char *sym);
/* An extra argument for every kbuild run of this build (e.g. CC=...). */
int build_ctx_make_arg(struct build_ctx *b, const char *arg);
/* Run a program with its output in the build log (and in cap), env added,
 * killed after timeout_ms (0: never). Returns its wait status, or -1. */
int build_ctx_run(struct build_ctx *b, const char *const *argv, char *cap, size_t cap_size,
		  const char *const *env, long timeout_ms);
/* kbuild a target (label: a progress line). 0, or an exit status after
 * reporting the failure with the log's tail. */
int build_ctx_make(struct build_ctx *b, const char *target, const char *label);

#endif
