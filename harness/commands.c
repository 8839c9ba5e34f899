/* commands.c - vkci build and vkci bisect: their command lines (vkci.c
 * keeps the table and the commands that run instances). */
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "build.h"
#include "commands.h"
#include "diag.h"
#include "platform.h"
#include "proc.h"
#include "util.h"
#include "banned.h"

static void build_usage(void)
{
	write_str(2, "usage: vkci build [-c FRAGMENT]... [-B BACKEND] [-C CACHE] [-V VARIANT] [-j N] [-f] SOURCE_TREE\n"
		     "  builds a vkernel out of tree (the backend's base config + the fragments), cached in\n"
		     "  CACHE/kernels/ (default $VKCI_CACHE or ~/.cache/vkci), and prints its path.\n"
		     "  -c/--config FRAG   a kernel config fragment (repeatable; also VKCI_KCONFIG=a,b)\n"
		     "  -B/--backend NAME  uml (default: ARCH=um defconfig) or qemu (ARCH=x86_64 tinyconfig + fragments)\n"
		     "  -f/--force         run kbuild even if nothing changed\n"
		     "  -V/--variant NAME  a variant with its own cache KEY; 'coverage': UML's gcc\n"
		     "                     coverage (add harness/coverage.config), checked by one boot\n"
		     "exit status: 0 built or up to date, 2 not a usable source tree, 3 infrastructure,\n"
		     "  4 tree not clean, 5 config fragment problem, 6 tool missing, 7 disk full,\n"
		     "  8 compile error, 9 coverage variant writes no .gcda at power-off\n");
}

static int add_fragment(struct build_opts *o, const char *frag)
{
	if (o->nfrags >= BUILD_MAX_FRAGS)
		return error("too many kernel config fragments (at most %d)", BUILD_MAX_FRAGS);
	o->frags[o->nfrags++] = frag;
	return 0;
}

int cmd_build(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "backend", required_argument, NULL, 'B' },
		{ "cache", required_argument, NULL, 'C' },
		{ "variant", required_argument, NULL, 'V' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "force", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct build_opts o;
	char out[4096], *env_frags = NULL, *save = NULL, *w;
	const char *ef = getenv("VKCI_KCONFIG");
	int c, r;

	memset(&o, 0, sizeof(o));
	o.variant = "";
	if ((ef = getenv("VKCI_BACKEND")) && *ef && !(o.backend = backend_by_name(ef)))
		return EXIT_USAGE;
	ef = getenv("VKCI_KCONFIG");
	if (ef && *ef) {
		env_frags = strdup(ef);
		for (w = env_frags ? strtok_r(env_frags, ", \t", &save) : NULL; w; w = strtok_r(NULL, ", \t", &save))
			if (add_fragment(&o, w) < 0) {
				free(env_frags);
				return EXIT_USAGE;
			}
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "+c:B:C:V:j:fvh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (add_fragment(&o, optarg) < 0) {
				free(env_frags);
				return EXIT_USAGE;
			}
			break;
		case 'B':
			if (!(o.backend = backend_by_name(optarg))) {
				free(env_frags);
				return EXIT_USAGE;
			}
			break;
		case 'C': o.cache = optarg; break;
		case 'V': o.variant = optarg; break;
		case 'j':
			if ((o.jobs = (int)parse_uint(optarg, 1024)) <= 0) {
				error("bad --jobs '%s' (a number of parallel jobs)", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'f': o.force = 1; break;
		case 'v': diag_verbosity++; break;
		case 'h': build_usage(); return EXIT_PASS;
		default: build_usage(); return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		error(optind >= argc ? "no kernel source tree given" : "more than one kernel source tree given");
		build_usage();
		return EXIT_USAGE;
	}
	o.src = argv[optind];
	r = build_kernel(&o, out, sizeof(out));
	free(env_frags);
	if (r == 0) {
		write_str(1, out);
		write_str(1, "\n");
	}
	return r;
}

/* vkci bisect: ci/bisect.py (Python: git, statistics, the step table) with
 * this vkci; found from the driver's own path (util.h, ci_program()). Its
 * exit statuses are bisect.py's. */
int cmd_bisect(int argc, char **argv)
{
	char self[PATH_MAX], script[PATH_MAX], opt[PATH_MAX + 16];
	const char **av;
	int i;

	if (plat_self_exe(NULL, self, sizeof(self)) < 0) {
		error("cannot find vkci's own path (run ci/bisect.py from the vkci checkout)");
		return EXIT_INFRA;
	}
	if (ci_program(NULL, "bisect.py", self, script, sizeof(script)) < 0)
		return EXIT_INFRA;
	av = calloc((size_t)argc + 4, sizeof(*av));
	if (!av)
		return error("out of memory"), EXIT_INFRA;
	fmt(opt, sizeof(opt), "--vkci=%s", self);
	av[0] = ci_python();
	av[1] = script;
	av[2] = opt;
	for (i = 1; i < argc; i++)
		av[i + 2] = argv[i];
	proc_exec_replace(av);
	error_errno("cannot run '%s' for '%s' (install python3, or set VKCI_PYTHON)", av[0], script);
	free(av);
	return EXIT_INFRA;
}
