/* build.h - `vkci build`: a UML vkernel from a Linux source tree, built out
 * of tree into a cache directory keyed by what went into it.
 *
 *   KEY   = hash(source path, kernel version, fragments' contents, compiler
 *           version, variant, recipe version)
 *   DIR   = CACHE/kernels/<tree name>-<version>-<KEY>   (O= of kbuild)
 *   DIR/linux           the vkernel binary (printed on success)
 *   DIR/build.log       every command's output, appended per build
 *   DIR/vkci-stamp      fingerprint of the source tree + .config of the last
 *                       good build: when it still matches, no kbuild runs
 *   CACHE/kernels/<...>.lock   flock(2) held while building
 *   DIR/vkci-gcov/libgcov.a    variant "coverage" only: gcc's libgcov with
 *                       mangle_path renamed (CC="gcc -L DIR/vkci-gcov"); the
 *                       generated arch/um/kernel/vmlinux.lds is patched to
 *                       keep .fini_array.* (gcov's destructors), and every
 *                       build is checked by one boot that must write .gcda
 *                       at power-off (BUILD_EXIT_NOCOV otherwise)
 *
 * The source tree is only read: kbuild runs with O=DIR, merge_config.sh with
 * its working directory in DIR. */
#ifndef VKCI_BUILD_H
#define VKCI_BUILD_H

#include <stddef.h>

/* Exit statuses of `vkci build` beyond the common 0/2/3 (README.md). */
enum {
	BUILD_EXIT_UNCLEAN = 4,  /* the source tree has an in-tree build: make mrproper */
	BUILD_EXIT_CONFIG = 5,   /* bad fragment, unknown symbol, option that did not take */
	BUILD_EXIT_TOOLS = 6,    /* compiler, make, flex, bison or bc missing */
	BUILD_EXIT_DISK = 7,     /* not enough space in the cache */
	BUILD_EXIT_COMPILE = 8,  /* kbuild failed: log tail printed */
	BUILD_EXIT_NOCOV = 9,    /* coverage variant: the new vkernel wrote no .gcda at power-off */
};

#define BUILD_MAX_FRAGS 32

struct build_opts {
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

/* Pure helpers, unit-tested. */
/* Parse one fragment line: "CONFIG_X=v", "# CONFIG_X is not set", comment or
 * blank. Returns 1 with sym/val filled (val "n" for "is not set"), 0 for a
 * comment/blank line, -1 for a malformed line. */
int build_parse_frag_line(const char *line, char *sym, size_t sym_size, char *val, size_t val_size);

#endif
