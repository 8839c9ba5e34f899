/* uml.c - the User-Mode Linux backend (backend.h): a vkernel that is an
 * ordinary Linux program (ARCH=um), its disks given as ubd files (the root
 * as a copy-on-write file over the base image, created by UML itself), the
 * console and the record stream on pipes (con0=fd:, ssl0=fd:; the guest's
 * /dev/ttyS0), nodes networked through a uml_switch on a unix socket in the
 * instance dir, and coverage written by the vkernel process itself at exit
 * (gcc's CONFIG_GCOV, .gcda files under GCOV_PREFIX). */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend.h"
#include "build.h"
#include "diag.h"
#include "platform.h"
#include "proc.h"
#include "util.h"
#include "banned.h"

#define PATH_SZ 4096
#define UML_CMDLINE_MAX 4000    /* UML's COMMAND_LINE_SIZE is 4096 */
#define UML_SWITCH "/usr/bin/uml_switch"
#define SWITCH_WAIT_MS 5000     /* uml_switch must create its socket within */
#define UML_BAD_PATH ", \t\n\""  /* ubd specs split on ',', the command line on blanks */
#define UML_BAD_DESC "a comma, blank or quote"

static int path_exists(const char *p)
{
	struct stat st;

	return lstat(p, &st) == 0;
}

static int ok_status(int st)
{
	return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* An ELF program (UML is one); a bzImage, or an ELF kernel image (an x86
 * vmlinux: its segments load at kernel addresses), is not. */
static int uml_probe(const char *kernel)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	int fd = open(kernel, O_RDONLY | O_CLOEXEC), ok = 0, i;

	if (fd < 0)
		return 0;
	if (pread(fd, &eh, sizeof(eh), 0) == (ssize_t)sizeof(eh) && !memcmp(eh.e_ident, ELFMAG, SELFMAG) &&
	    (eh.e_type == ET_EXEC || eh.e_type == ET_DYN)) {
		ok = 1;
		if (eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(ph))
			for (i = 0; i < eh.e_phnum && i < 64; i++)
				if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (Elf64_Off)i * sizeof(ph))) ==
				    (ssize_t)sizeof(ph) && ph.p_type == PT_LOAD && ph.p_vaddr >= 0xffff800000000000ULL)
					ok = 0;
	}
	close(fd);
	return ok;
}

/* ---- one node ------------------------------------------------------------------- */

int uml_build_argv(const struct boot_params *bp, const int chan[4], struct boot_argv *b)
{
	int con_in = chan[0], con_out = chan[1], ser_in = chan[2], ser_out = chan[3];
	char cow[PATH_SZ];
	size_t total = 0;
	int i, r = 0;

	if (boot_check_path("kernel", bp->kernel, UML_BAD_PATH, UML_BAD_DESC) ||
	    boot_check_path("image", bp->image, UML_BAD_PATH, UML_BAD_DESC) ||
	    boot_check_path("instance dir", bp->node_dir, UML_BAD_PATH, UML_BAD_DESC) ||
	    (bp->payload && boot_check_path("payload", bp->payload, UML_BAD_PATH, UML_BAD_DESC)) ||
	    (bp->scratch && boot_check_path("scratch disk", bp->scratch, UML_BAD_PATH, UML_BAD_DESC)) ||
	    (bp->net && boot_check_path("switch socket", bp->net, UML_BAD_PATH, UML_BAD_DESC)))
		return -1;
	if (bp->mem < (16LL << 20))
		return error("memory %lld bytes is too small (at least 16M)", bp->mem);
	if (fmt(cow, sizeof(cow), "%s/root.cow", bp->node_dir) < 0)
		return error("instance path too long");

	r |= boot_add(b, "%s", bp->kernel);
	r |= boot_add(b, "mem=%lldM", bp->mem >> 20);
	r |= boot_add(b, "ubd0=%s,%s", cow, bp->image);
	if (bp->payload)
		r |= boot_add(b, "ubd1r=%s", bp->payload);
	if (bp->scratch)
		r |= boot_add(b, "ubd2=%s", bp->scratch);
	if (bp->net)
		r |= boot_add(b, "eth0=daemon,,unix,%s", bp->net);
	r |= boot_add(b, "root=/dev/ubda");
	r |= boot_add(b, "rw");
	r |= boot_add(b, "init=/sbin/vkci-init");
	r |= boot_add(b, "con=null");
	r |= boot_add(b, "con0=fd:%d,fd:%d", con_in, con_out);
	r |= boot_add(b, "ssl=null");
	r |= boot_add(b, "ssl0=fd:%d,fd:%d", ser_in, ser_out);
	r |= boot_add(b, "umid=vkci");
	r |= boot_add(b, "uml_dir=%s", bp->node_dir);
	r |= boot_add(b, "vkci.serial=/dev/ttyS0");
	if (r || boot_add_extra(b, bp) < 0)
		return -1;
	/* coverage kernels write .gcda at exit under GCOV_PREFIX; always set, so
	 * that one run without --gcov-dir never writes into its build dir. The
	 * paths are the build dir's: strip its components so the tree under the
	 * prefix is relative to it (a vkci-built UML is BUILD_DIR/linux). */
	r |= boot_env(b, "GCOV_PREFIX=%s/gcov", bp->node_dir);
	r |= boot_env(b, "GCOV_PREFIX_STRIP=%d", path_depth(bp->kernel) - 1);
	if (bp->test)
		r |= boot_env(b, "VKCI_TEST=%s", bp->test);
	if (r)
		return -1;
	for (i = 1; i < b->argc; i++)
		total += strlen(b->argv[i]) + 1;
	if (total > UML_CMDLINE_MAX)
		return error("kernel command line is %zu bytes, more than UML's %d", total, UML_CMDLINE_MAX);
	return 0;
}

static void close_pair(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	p[0] = p[1] = -1;
}

static int uml_start(const struct boot_params *bp, struct vkernel *vk)
{
	int con[2] = { -1, -1 }, con_in[2] = { -1, -1 }, ser[2] = { -1, -1 }, ser_in[2] = { -1, -1 };
	struct boot_argv *b = calloc(1, sizeof(*b));
	struct child ch;
	int r = -1;

	if (!b)
		return error("out of memory");
	/* fds given to con/ssl must be pipes or socketpairs (DESIGN.md) */
	if (pipe2(con, O_CLOEXEC) < 0 || pipe2(con_in, O_CLOEXEC) < 0 ||
	    pipe2(ser, O_CLOEXEC) < 0 || pipe2(ser_in, O_CLOEXEC) < 0) {
		error_errno("cannot create pipes");
		goto out;
	}
	{
		int chan[4] = { con_in[0], con[1], ser_in[0], ser[1] };

		if (uml_build_argv(bp, chan, b) < 0)
			goto out;
	}
	proc_child_init(&ch, b->argv);
	ch.env = b->env;
	ch.out_fd = con[1];        /* UML's own stdout/stderr messages join the console log */
	ch.keep_fds[ch.nkeep++] = con_in[0];
	ch.keep_fds[ch.nkeep++] = con[1];
	ch.keep_fds[ch.nkeep++] = ser_in[0];
	ch.keep_fds[ch.nkeep++] = ser[1];
	if (proc_spawn(&ch) < 0)
		goto out;
	vk->pid = ch.pid;
	vk->con_r = con[0];
	vk->ser_r = ser[0];
	vk->ser_w = ser_in[1];
	vk->hold = con_in[1];
	con[0] = ser[0] = ser_in[1] = con_in[1] = -1;
	r = 0;
out:
	/* the child's ends (and on failure, everything) */
	close_pair(con);
	close_pair(con_in);
	close_pair(ser);
	close_pair(ser_in);
	free(b);
	return r;
}

/* ---- the network: a uml_switch on a unix socket in the instance dir -------------- */

static int uml_net_start(const char *dir, int nodes, struct vknet *net)
{
	const char *argv[] = { UML_SWITCH, "-unix", net->addr, NULL };
	struct child ch;

	(void)nodes;
	if (fmt(net->addr, sizeof(net->addr), "%s/switch.sock", dir) < 0 || strlen(net->addr) > 100)
		return error("switch socket path '%s/switch.sock' too long for a unix socket (set "
			     "VKCI_RUNDIR to a shorter dir)", dir);
	if (access(UML_SWITCH, X_OK) < 0)
		return error("'%s' missing: multi-node tests need it (apt-get install uml-utilities)",
			     UML_SWITCH);
	proc_child_init(&ch, argv);
	if (proc_spawn(&ch) < 0)
		return -1;
	net->pid = ch.pid;
	if (plat_wait_for_path(dir, net->addr, SWITCH_WAIT_MS) < 0)
		return error("uml_switch did not create '%s' within %d s", net->addr, SWITCH_WAIT_MS / 1000);
	return 0;
}

/* ---- building: the coverage variant ----------------------------------------------
 * UML's own gcc coverage (CONFIG_GCOV) needs two fix-ups, both inside the
 * build dir (shared/DESIGN.md):
 *  1. libgcov.a's mangle_path clashes with fs/seq_file.c's: a private copy
 *     with the symbol renamed, found first through CC="gcc -L<dir>";
 *  2. gcc 12 puts the gcov destructors in .fini_array.NNNNN sections, which
 *     the generated vmlinux.lds files under EXIT_DATA: its first .fini_array
 *     block must take them too, or no .gcda is ever written.
 * Every coverage build is then checked by one boot that must write .gcda. */

static int coverage_libgcov(struct build_ctx *c)
{
	char lib[PATH_SZ] = "", dir[PATH_SZ], dst[PATH_SZ], objcopy[PATH_SZ], *nl;
	const char *a[] = { build_ctx_cc(c), "-print-file-name=libgcov.a", NULL };

	if (fmt(dir, sizeof(dir), "%s/vkci-gcov", build_ctx_dir(c)) < 0 || fmt(dst, sizeof(dst), "%s/libgcov.a", dir) < 0)
		return error("path too long: '%s'", build_ctx_dir(c)), EXIT_INFRA;
	if (path_exists(dst))
		return 0;
	if (find_in_path("objcopy", objcopy, sizeof(objcopy)) < 0)
		return error("'objcopy' not found, a coverage build needs it (apt-get install binutils)"),
		       BUILD_EXIT_TOOLS;
	if (!ok_status(build_ctx_run(c, a, lib, sizeof(lib), NULL, 0)))
		return error("'%s -print-file-name=libgcov.a' failed", build_ctx_cc(c)), BUILD_EXIT_TOOLS;
	if ((nl = strchr(lib, '\n')))
		*nl = '\0';
	if (lib[0] != '/' || !path_exists(lib))
		return error("compiler '%s' has no libgcov.a (a coverage build needs gcc's libgcov)", build_ctx_cc(c)),
		       BUILD_EXIT_TOOLS;
	if (mkdir_p(dir, 0755) < 0)
		return error_errno("cannot create '%s'", dir), EXIT_INFRA;
	{
		char tmp[PATH_SZ];
		const char *b[] = { objcopy, "--redefine-sym", "mangle_path=vkci_gcov_mangle_path", lib, tmp, NULL };

		if (fmt(tmp, sizeof(tmp), "%s.tmp", dst) < 0 || !ok_status(build_ctx_run(c, b, NULL, 0, NULL, 0)) ||
		    rename(tmp, dst) < 0)
			return error("cannot make the private libgcov.a in '%s' (see '%s/build.log')", dir, build_ctx_dir(c)),
			       EXIT_INFRA;
	}
	return 0;
}

/* Make vmlinux.lds's first .fini_array block take .fini_array.* too.
 * Returns 1 if patched now, 0 if it already was, -1 on error. */
static int coverage_patch_lds(struct build_ctx *c)
{
	static const char want[] = "*(SORT(.fini_array.*)) *(.fini_array) __fini_array_end";
	char path[PATH_SZ], *data, *p, *q, *out;
	size_t len, n;
	int fd, ok_write;

	if (fmt(path, sizeof(path), "%s/arch/um/kernel/vmlinux.lds", build_ctx_dir(c)) < 0 ||
	    !(data = read_file(path, 16 << 20, &len)))
		return -1;
	if (strstr(data, want)) {
		free(data);
		return 0;
	}
	/* "__fini_array_start = .; *(.fini_array) __fini_array_end" in some spacing */
	p = strstr(data, "__fini_array_start");
	q = p ? strstr(p, "*(.fini_array)") : NULL;
	if (!q || !(p = strstr(q, "__fini_array_end"))) {
		free(data);
		return error("cannot find the .fini_array block in '%s': this kernel's linker script "
			     "changed, coverage would not be written", path);
	}
	n = (size_t)(q - data);
	out = malloc(len + sizeof(want) + 1);
	if (!out) {
		free(data);
		return -1;
	}
	memcpy(out, data, n);
	memcpy(out + n, want, sizeof(want) - 1);
	n += sizeof(want) - 1;
	p += strlen("__fini_array_end");
	memcpy(out + n, p, len - (size_t)(p - data));
	n += len - (size_t)(p - data);
	free(data);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ok_write = fd >= 0 && write_all(fd, out, n) == 0;
	if (fd >= 0)
		close(fd);
	free(out);
	return ok_write ? 1 : error_errno("cannot write '%s'", path);
}

/* After a coverage build: boot the new vkernel once and check that it writes
 * .gcda files at power-off, where vkci exec's GCOV_PREFIX/GCOV_PREFIX_STRIP
 * will find them (init/main.gcda under the prefix). The boot needs no image:
 * its root is a hostfs dir holding a copy of the static busybox as
 * /poweroff, run as init with -f, which powers off at once (~0.7 s; with
 * kunit.enable=0: a coverage-kunit kernel would run every suite first). A
 * panicking vkernel writes .gcda through another path, so only a clean
 * power-off counts. Returns 0, or an exit status after reporting. */
static int coverage_check(struct build_ctx *c)
{
	char bb[PATH_SZ], tmpl[PATH_SZ], root[PATH_SZ + 8], init[PATH_SZ + 16], gcov[PATH_SZ + 8];
	char want[PATH_SZ + 32], env0[PATH_SZ + 32], env1[64], rootflags[PATH_SZ + 16];
	char umldir[PATH_SZ + 16], bin[PATH_SZ], real[PATH_SZ], out[4096] = "", *data = NULL;
	const char *env[3] = { env0, env1, NULL };
	size_t len;
	int strip, st, fd, r = BUILD_EXIT_NOCOV;

	if (find_in_path("busybox", bb, sizeof(bb)) < 0)
		return error("'busybox' not found, checking a coverage build needs it "
			     "(apt-get install busybox-static)"), BUILD_EXIT_TOOLS;
	if (abspath(build_ctx_dir(c), real, sizeof(real)) < 0 || fmt(tmpl, sizeof(tmpl), "%s/vkci-check.XXXXXX", real) < 0 ||
	    fmt(bin, sizeof(bin), "%s/linux", real) < 0 || strpbrk(real, ", \t\n\""))
		return error("cannot check the coverage build in '%s': path too long or has a comma or "
			     "blank (set VKCI_CACHE=<plain path>)", build_ctx_dir(c)), EXIT_INFRA;
	strip = path_depth(real);
	if (!mkdtemp(tmpl))
		return error_errno("cannot create a check dir in '%s'", real), EXIT_INFRA;
	if (fmt(root, sizeof(root), "%s/root", tmpl) < 0 || fmt(init, sizeof(init), "%s/poweroff", root) < 0 ||
	    fmt(gcov, sizeof(gcov), "%s/gcov", tmpl) < 0 || fmt(umldir, sizeof(umldir), "uml_dir=%s", tmpl) < 0 ||
	    fmt(rootflags, sizeof(rootflags), "rootflags=%s", root) < 0 ||
	    fmt(want, sizeof(want), "%s/init/main.gcda", gcov) < 0 ||
	    fmt(env0, sizeof(env0), "GCOV_PREFIX=%s", gcov) < 0 ||
	    fmt(env1, sizeof(env1), "GCOV_PREFIX_STRIP=%d", strip) < 0 || mkdir(root, 0755) < 0 ||
	    !(data = read_file(bb, 64 << 20, &len)) ||
	    (fd = open(init, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755)) < 0) {
		error_errno("cannot prepare the coverage check in '%s'", tmpl);
		r = EXIT_INFRA;
		goto out;
	}
	st = write_all(fd, data, len);
	if (close(fd) < 0 || st < 0) {
		error_errno("cannot write '%s'", init);
		r = EXIT_INFRA;
		goto out;
	}
	{
		const char *a[] = { bin, "mem=64M", "root=/dev/root", "rootfstype=hostfs", rootflags, "ro",
				    "init=/poweroff", "con=null", "con0=null,fd:1", "ssl=null", "umid=vkci-check",
				    umldir, "quiet", "kunit.enable=0", "--", "-f", NULL };

		progress(1, "checking that the coverage vkernel writes .gcda files at power-off");
		st = build_ctx_run(c, a, out, sizeof(out), env, 60000);
	}
	if (build_ctx_interrupted(c)) {
		r = EXIT_INFRA;
		goto out;
	}
	if (!ok_status(st)) {
		error("the coverage vkernel '%s' did not power off cleanly (%s %d) in its check boot; "
		      "its output is in '%s/build.log'", bin, st >= 0 && WIFSIGNALED(st) ? "signal" : "status",
		      st < 0 ? -1 : WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), build_ctx_dir(c));
		goto out;
	}
	if (!path_exists(want)) {
		error("the coverage vkernel '%s' wrote no .gcda files at power-off (no '%s'): its gcov "
		      "destructors did not run; check the .fini_array fix-up of '%s/arch/um/kernel/vmlinux.lds' "
		      "against this compiler", bin, want + strlen(tmpl) + 1, build_ctx_dir(c));
		goto out;
	}
	r = 0;
out:
	free(data);
	rm_rf(tmpl);
	return r;
}


static int uml_build_setup(struct build_ctx *c)
{
	const char *gcov = build_ctx_option(c, "GCOV");
	char arg[PATH_SZ + 64];
	int r;

	if (!build_ctx_variant(c, "coverage"))
		return 0;
	if (!gcov || strcmp(gcov, "y"))
		return error("the coverage variant needs CONFIG_GCOV=y from a fragment "
			     "(add -c harness/coverage.uml.config)"), BUILD_EXIT_CONFIG;
	if (fmt(arg, sizeof(arg), "CC=%s -L%s/vkci-gcov", build_ctx_cc(c), build_ctx_dir(c)) < 0)
		return error("cache path too long: '%s'", build_ctx_dir(c)), EXIT_USAGE;
	if ((r = coverage_libgcov(c)))
		return r;
	return build_ctx_make_arg(c, arg) < 0 ? EXIT_USAGE : 0;
}

static int uml_build_before(struct build_ctx *c)
{
	int r;

	if (!build_ctx_variant(c, "coverage"))
		return 0;
	if ((r = build_ctx_make(c, "arch/um/kernel/vmlinux.lds", NULL)))
		return r;
	return coverage_patch_lds(c) < 0 ? BUILD_EXIT_COMPILE : 0;
}

static int uml_build_after(struct build_ctx *c)
{
	int r;

	if (!build_ctx_variant(c, "coverage"))
		return 0;
	/* kbuild regenerated the linker script during the build: patch, relink */
	if ((r = coverage_patch_lds(c)) < 0)
		return BUILD_EXIT_COMPILE;
	if (r > 0 && (r = build_ctx_make(c, "linux", "relinking with .fini_array kept")))
		return r;
	return coverage_check(c);
}

const struct backend backend_uml = {
	.name = "uml",
	.summary = "User-Mode Linux: the kernel as a Linux program (ARCH=um)",
	.arch = "um",
	.arch_dir = "um",
	.defconfig = "defconfig",
	.binary = "linux",
	.binary_target = "linux",
	.build_setup = uml_build_setup,
	.build_before = uml_build_before,
	.build_after = uml_build_after,
	.probe = uml_probe,
	.kernel_is_program = 1,
	.payload_dev = "/dev/ubdb",
	.scratch_dev = "/dev/ubdc",
	.coverage = COV_AT_EXIT,
	.quirks = QUIRK_ABORT_AFTER_POWEROFF,
	.net_start = uml_net_start,
	.start = uml_start,
};
