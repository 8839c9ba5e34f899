/* kconfig.h - kernel config fragments and Kconfig, for `vkci build`: what
 * the fragments ask for, whether the tree knows every symbol, and whether
 * the final .config has every requested value. */
#ifndef VKCI_KCONFIG_H
#define VKCI_KCONFIG_H

#include <stddef.h>
#include <stdint.h>

#define KCONFIG_SYM_MAX 128
#define KCONFIG_VAL_MAX 256

/* One requested option: CONFIG_<sym>=<val> ("n" for "is not set"). */
struct kreq {
	char sym[KCONFIG_SYM_MAX];
	char val[KCONFIG_VAL_MAX];
	const char *frag;    /* the fragment's name as given (not owned) */
	int line;
};

struct kreqs {
	struct kreq *v;
	int n;
};

/* Parse one fragment line: "CONFIG_X=v", "# CONFIG_X is not set", comment or
 * blank. Returns 1 with sym/val filled (val "n" for "is not set"), 0 for a
 * comment/blank line, -1 for a malformed line. Pure. */
int kconfig_parse_frag_line(const char *line, char *sym, size_t sym_size, char *val, size_t val_size);

/* Read the fragments in order (a later one wins for the same symbol); each
 * fragment's contents are hashed into *key. 0, or an exit status after
 * reporting (BUILD_EXIT_CONFIG, EXIT_INFRA). */
int kreqs_load(struct kreqs *r, const char *const *frags, int nfrags, uint64_t *key);
void kreqs_free(struct kreqs *r);
/* The requested value of sym, or NULL. */
const char *kreqs_get(const struct kreqs *r, const char *sym);

/* Every requested symbol is defined by one of the tree's Kconfig files
 * (paths relative to src). 0 or BUILD_EXIT_CONFIG after naming each. */
int kconfig_check_symbols(const struct kreqs *r, const char *src, char *const *kconfigs, size_t n);
/* Every requested option has its value in the .config at cfg_path; names
 * each that did not, with where Kconfig defines it and what it depends on.
 * 0, BUILD_EXIT_CONFIG or EXIT_INFRA. */
int kconfig_verify(const struct kreqs *r, const char *cfg_path, const char *src,
		   char *const *kconfigs, size_t n);

/* FNV-1a, for build keys and fingerprints. */
#define FNV0 0xcbf29ce484222325ULL
uint64_t fnv(uint64_t h, const void *p, size_t n);

#endif
