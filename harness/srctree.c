/* srctree.c - the kernel source tree `vkci build` reads: is it one this
 * backend can build, its version, and a fingerprint of its state (see
 * srctree.h). The tree is only read. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "build.h"
#include "diag.h"
#include "kconfig.h"
#include "srctree.h"
#include "util.h"
#include "banned.h"

#define PATH_SZ 4096

static int path_exists(const char *p)
{
	struct stat st;

	return lstat(p, &st) == 0;
}

static int kernel_version(struct srctree *c)
{
	char path[PATH_SZ], *data, *line, *save = NULL;
	char v[4][32] = { "", "", "", "" };
	static const char *const keys[] = { "VERSION", "PATCHLEVEL", "SUBLEVEL", "EXTRAVERSION" };
	size_t len;
	int i, nlines = 0;

	if (fmt(path, sizeof(path), "%s/Makefile", c->path) < 0 || !(data = read_file(path, 1 << 20, &len)))
		return -1;
	for (line = strtok_r(data, "\n", &save); line && nlines < 20; line = strtok_r(NULL, "\n", &save), nlines++)
		for (i = 0; i < 4; i++) {
			size_t k = strlen(keys[i]);
			const char *p = line + k;

			if (strncmp(line, keys[i], k) || (*p != ' ' && *p != '='))
				continue;
			while (*p == ' ')
				p++;
			if (*p++ != '=')
				continue;
			while (*p == ' ')
				p++;
			snprintf(v[i], sizeof(v[i]), "%s", p);
		}
	free(data);
	if (!v[0][0] || !v[1][0])
		return -1;
	snprintf(c->version, sizeof(c->version), "%s.%s%s%s%s", v[0], v[1], v[2][0] ? "." : "", v[2], v[3]);
	return 0;
}

int srctree_open(struct srctree *c, const char *given, const struct backend *be)
{
	const char *unclean[] = { ".config", "include/config", NULL };
	char p[PATH_SZ], gen[128];
	struct stat st;
	size_t i;

	if (stat(given, &st) < 0 || !S_ISDIR(st.st_mode) || abspath(given, c->path, sizeof(c->path)) < 0) {
		error("kernel source '%s' is not a directory (set KERNEL=<Linux source tree or vkernel binary>)",
		      given);
		return EXIT_USAGE;
	}
	if (strpbrk(c->path, " :\t\n")) {
		error("kernel source path '%s' contains a blank or colon, which kbuild cannot handle "
		      "(move or symlink the tree)", c->path);
		return EXIT_USAGE;
	}
	if (fmt(p, sizeof(p), "%s/scripts/kconfig/merge_config.sh", c->path) < 0 || !path_exists(p) ||
	    kernel_version(c) < 0) {
		error("'%s' is not a Linux source tree (no Makefile with VERSION or no "
		      "scripts/kconfig/merge_config.sh): set KERNEL=<Linux source tree>", c->path);
		return EXIT_USAGE;
	}
	if (fmt(p, sizeof(p), "%s/arch/%s/Kconfig", c->path, be->arch_dir) < 0 || !path_exists(p)) {
		error("Linux source tree '%s' has no arch/%s: the %s backend cannot build from it "
		      "(use a mainline tree, or another BACKEND=)", c->path, be->arch_dir, be->name);
		return EXIT_USAGE;
	}
	fmt(gen, sizeof(gen), "arch/%s/include/generated", be->arch_dir);
	unclean[2] = gen;
	for (i = 0; i < ARRAY_SIZE(unclean); i++)
		if (fmt(p, sizeof(p), "%s/%s", c->path, unclean[i]) > 0 && path_exists(p)) {
			error("Linux source tree '%s' is not clean (it has %s from an in-tree build) and vkci "
			      "builds out of tree: run 'make -C %s ARCH=%s mrproper' or use a clean copy",
			      c->path, unclean[i], c->path, be->arch);
			return BUILD_EXIT_UNCLEAN;
		}
	return 0;
}

static int add_kconfig(struct srctree *c, const char *rel)
{
	if (c->nkconfig == c->kconfig_alloc) {
		size_t na = c->kconfig_alloc ? c->kconfig_alloc * 2 : 256;
		char **n = realloc(c->kconfigs, na * sizeof(*n));

		if (!n)
			return -1;
		c->kconfigs = n;
		c->kconfig_alloc = na;
	}
	if (!(c->kconfigs[c->nkconfig] = strdup(rel)))
		return -1;
	c->nkconfig++;
	return 0;
}

/* Fingerprint of the tree's state: every entry's path, size, mtime, inode
 * and mode, combined order-independently. Skips .git (its churn does not
 * change the sources). Collects Kconfig file names on the way. */
static int walk(struct srctree *c, int dfd, char *rel, size_t rlen, size_t rsize, int depth)
{
	DIR *d;
	struct dirent *e;

	if (depth > 64 || !(d = fdopendir(dfd))) {
		close(dfd);
		return -1;
	}
	while ((e = readdir(d))) {
		struct stat st;
		uint64_t h;
		size_t nl = strlen(e->d_name);

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (depth == 0 && !strcmp(e->d_name, ".git"))
			continue;
		if (rlen + nl + 2 >= rsize || fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (rlen)
			rel[rlen] = '/';
		memcpy(rel + rlen + (rlen ? 1 : 0), e->d_name, nl + 1);
		h = fnv(FNV0, rel, rlen + nl + 1);
		h = fnv(h, &st.st_mtim, sizeof(st.st_mtim));
		h = fnv(h, &st.st_size, sizeof(st.st_size));
		h = fnv(h, &st.st_ino, sizeof(st.st_ino));
		h = fnv(h, &st.st_mode, sizeof(st.st_mode));
		c->fp += h * 0x9e3779b97f4a7c15ULL;
		c->files++;
		if (S_ISDIR(st.st_mode)) {
			int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

			if (fd >= 0)
				walk(c, fd, rel, rlen + nl + (rlen ? 1 : 0), rsize, depth + 1);
		} else if (S_ISREG(st.st_mode) && !strncmp(e->d_name, "Kconfig", 7)) {
			add_kconfig(c, rel);
		}
		rel[rlen] = '\0';
	}
	closedir(d);
	return 0;
}

int srctree_fingerprint(struct srctree *c)
{
	char rel[PATH_SZ] = "";
	int fd = open(c->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return error_errno("cannot read kernel source '%s'", c->path);
	c->fp = 0;
	c->files = 0;
	return walk(c, fd, rel, 0, sizeof(rel), 0);
}

void srctree_free(struct srctree *c)
{
	size_t i;

	for (i = 0; i < c->nkconfig; i++)
		free(c->kconfigs[i]);
	free(c->kconfigs);
	c->kconfigs = NULL;
	c->nkconfig = c->kconfig_alloc = 0;
}
