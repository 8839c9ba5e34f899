/* srctree.h - the Linux source tree a vkernel is built from: checked,
 * versioned and fingerprinted, never written. */
#ifndef VKCI_SRCTREE_H
#define VKCI_SRCTREE_H

#include <stddef.h>
#include <stdint.h>

struct backend;

struct srctree {
	char path[4096];          /* absolute */
	char version[64];         /* "6.12.117" from its Makefile */
	uint64_t fp;              /* srctree_fingerprint(): every entry's path, size, mtime, inode, mode */
	unsigned long files;
	char **kconfigs;          /* its Kconfig files, relative paths (found by the fingerprint walk) */
	size_t nkconfig, kconfig_alloc;
};

/* A usable tree for backend be: a directory, Linux, with be's arch, clean
 * (no in-tree build). 0, or an exit status after reporting (EXIT_USAGE,
 * BUILD_EXIT_UNCLEAN). */
int srctree_open(struct srctree *t, const char *given, const struct backend *be);
/* Walk the tree (skipping .git) for its fingerprint and Kconfig files. */
int srctree_fingerprint(struct srctree *t);
void srctree_free(struct srctree *t);

#endif
