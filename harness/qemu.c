/* qemu.c - the QEMU backend (backend.h): an x86_64 kernel in
 * qemu-system-x86_64, booted from its vmlinux through the PVH entry (or a
 * bzImage, a distribution's vmlinuz). Every channel is an inherited
 * socketpair: the console on ttyS0, the records on a virtio-serial port
 * (/dev/vport0p1; ttyS1 for vkci boot's shell), the QEMU monitor for
 * templates; nodes talk over datagram socketpairs (a hub process for 3+).
 * Disks: the root as a throwaway overlay QEMU makes itself (snapshot=on),
 * payload and scratch as virtio-blk (vdb, vdc). A test normally starts from
 * a clone of a booted snapshot of its machine shape (qsnap.c), not from a
 * cold boot. Coverage (CONFIG_GCOV_KERNEL) is fetched from the guest's
 * debugfs over the record channel. See README.md, "The QEMU backend". */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build.h"
#include "diag.h"
#include "platform.h"
#include "proc.h"
#include "qemu.h"
#include "util.h"
#include "banned.h"

#define KERNEL_SPACE 0xffff800000000000ULL
#define XEN_PVH_NOTE 18   /* XEN_ELFNOTE_PHYS32_ENTRY: the PVH entry point */

/* ---- the kernel file ------------------------------------------------------------ */

/* An x86 bzImage: "HdrS" at 0x202 (the boot protocol's header). */
static int is_bzimage(int fd)
{
	char magic[4];

	return pread(fd, magic, 4, 0x202) == 4 && !memcmp(magic, "HdrS", 4);
}

/* An x86_64 ELF kernel image (vmlinux): its segments load at kernel
 * addresses. With has_pvh, whether it has the PVH entry note QEMU needs to
 * boot it directly. */
static int is_vmlinux(int fd, int *has_pvh)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	int i, kernel = 0;

	*has_pvh = 0;
	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64 || eh.e_phentsize != sizeof(ph))
		return 0;
	for (i = 0; i < eh.e_phnum && i < 64; i++) {
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (Elf64_Off)i * sizeof(ph))) != (ssize_t)sizeof(ph))
			return 0;
		if (ph.p_type == PT_LOAD && ph.p_vaddr >= KERNEL_SPACE)
			kernel = 1;
		if (ph.p_type == PT_NOTE && ph.p_filesz <= 65536) {
			unsigned char notes[65536];
			size_t off = 0, n = (size_t)ph.p_filesz;

			if (pread(fd, notes, n, (off_t)ph.p_offset) != (ssize_t)n)
				continue;
			while (off + 12 <= n) {   /* namesz, descsz, type; name and desc 4-aligned */
				Elf64_Word nsz, dsz, type;

				memcpy(&nsz, notes + off, 4);
				memcpy(&dsz, notes + off + 4, 4);
				memcpy(&type, notes + off + 8, 4);
				if (nsz > n || dsz > n)
					break;
				if (type == XEN_PVH_NOTE && nsz == 4 && off + 16 <= n && !memcmp(notes + off + 12, "Xen", 4))
					*has_pvh = 1;
				off += 12 + ((nsz + 3u) & ~3u) + ((dsz + 3u) & ~3u);
			}
		}
	}
	return kernel;
}

static int qemu_probe(const char *kernel)
{
	int fd = open(kernel, O_RDONLY | O_CLOEXEC), pvh, r;

	if (fd < 0)
		return 0;
	r = is_bzimage(fd) || is_vmlinux(fd, &pvh);
	close(fd);
	return r;
}

/* Can QEMU boot this file? 0, or -1 after saying why. */
static int check_kernel(const char *kernel)
{
	int fd = open(kernel, O_RDONLY | O_CLOEXEC), pvh = 0, ok = 0;

	if (fd < 0)
		return error_errno("cannot open kernel '%s'", kernel);
	if (is_bzimage(fd))
		ok = 1;
	else if (is_vmlinux(fd, &pvh) && !pvh) {
		close(fd);
		return error("kernel '%s' is a vmlinux without a PVH entry note, which QEMU cannot boot "
			     "(build it with CONFIG_PVH=y, or give its arch/x86/boot/bzImage)", kernel);
	} else {
		ok = pvh;
	}
	close(fd);
	return ok ? 0 : error("kernel '%s' is neither an x86 bzImage nor an x86_64 vmlinux (the qemu "
			      "backend boots those; BACKEND=uml for a UML vkernel)", kernel);
}

/* ---- building -------------------------------------------------------------------- */

static int qemu_build_setup(struct build_ctx *c)
{
	const char *gcov = build_ctx_option(c, "GCOV_KERNEL");

	if (build_ctx_variant(c, "coverage") && (!gcov || strcmp(gcov, "y")))
		return error("the coverage variant needs CONFIG_GCOV_KERNEL=y from a fragment "
			     "(add -c harness/coverage.qemu.config)"), BUILD_EXIT_CONFIG;
	return 0;
}

/* ---- one QEMU process --------------------------------------------------------------- */

int qemu_find(char *buf, size_t size)
{
	const char *e = getenv("VKCI_QEMU");

	if (e && *e) {
		if (access(e, X_OK) < 0)
			return error_errno("cannot run VKCI_QEMU='%s' (unset it, or name qemu-system-x86_64)", e);
		return abspath(e, buf, size);
	}
	if (find_in_path(QEMU_SYSTEM, buf, size) < 0)
		return error("'%s' not found: the qemu backend needs it (apt-get install qemu-system-x86)",
			     QEMU_SYSTEM);
	return 0;
}

int qemu_cmdline(const struct qshape *s, char *buf, size_t size)
{
	size_t n;
	int i, k;

	k = fmt(buf, size, "console=ttyS0 root=/dev/vda rw init=/sbin/vkci-init panic=-1%s vkci.serial=%s%s",
		/* TCG's TSC is the host's: calibration under load and the jump after a
		 * restore make the kernel distrust it, so the HPET keeps time; and a
		 * loaded host can miss the IO-APIC timer check's few ticks ("IO-APIC +
		 * timer doesn't work!" panics), which KVM guests skip anyway */
		s->kvm ? "" : " clocksource=hpet tsc=unstable no_timer_check",
		s->tty_records ? QEMU_REC_TTY : QEMU_REC_PORT, s->template_boot ? " vkci.snapshot=1" : "");
	if (k < 0)
		return error("kernel command line too long");
	n = (size_t)k;
	for (i = 0; s->extra && s->extra[i]; i++) {
		if (!*s->extra[i] || strpbrk(s->extra[i], " \t\n"))
			return error("extra kernel argument '%s' must be one word", s->extra[i]);
		k = fmt(buf + n, size - n, " %s", s->extra[i]);
		if (k < 0)
			break;
		n += (size_t)k;
	}
	if (k < 0 || n > QEMU_CMDLINE_MAX)
		return error("kernel command line is longer than x86's %d bytes (fewer extra kernel arguments)",
			     QEMU_CMDLINE_MAX);
	return 0;
}

int qemu_argv(const struct qshape *s, const struct qio *io, struct boot_argv *b)
{
	char cmdline[QEMU_CMDLINE_MAX + 64];
	int r = 0;

	if (boot_check_path("kernel", s->kernel, QEMU_BAD_PATH, QEMU_BAD_DESC) ||
	    boot_check_path("root disk", io->root, QEMU_BAD_PATH, QEMU_BAD_DESC) ||
	    (io->payload && boot_check_path("payload", io->payload, QEMU_BAD_PATH, QEMU_BAD_DESC)) ||
	    (io->scratch && boot_check_path("scratch disk", io->scratch, QEMU_BAD_PATH, QEMU_BAD_DESC)) ||
	    qemu_cmdline(s, cmdline, sizeof(cmdline)) < 0)
		return -1;
	if (s->mem < (32LL << 20))
		return error("memory %lld bytes is too small for an x86_64 guest (at least 32M)", s->mem);
	r |= boot_add(b, "%s", s->qemu);
	r |= boot_add(b, "-nodefaults");
	r |= boot_add(b, "-no-user-config");
	r |= boot_add(b, "-display");
	r |= boot_add(b, "none");
	r |= boot_add(b, "-no-reboot");      /* with panic=-1: a panic ends QEMU */
	r |= boot_add(b, "-machine");
	r |= boot_add(b, "q35");
	r |= boot_add(b, "-m");
	r |= boot_add(b, "%lldM", s->mem >> 20);
	r |= boot_add(b, "-smp");
	r |= boot_add(b, "1");
	r |= boot_add(b, "-accel");
	r |= boot_add(b, "%s", s->kvm ? "kvm" : "tcg");
	if (s->kvm) {
		r |= boot_add(b, "-cpu");
		r |= boot_add(b, "host");
	}
	/* the kernel's console: ttyS0 */
	r |= boot_add(b, "-chardev");
	r |= boot_add(b, "socket,id=con,fd=%d", io->con);
	r |= boot_add(b, "-serial");
	r |= boot_add(b, "chardev:con");
	/* the records: a virtio-serial port (flow-controlled, fast, lossless;
	 * not a tty), or ttyS1 for a shell */
	r |= boot_add(b, "-chardev");
	r |= boot_add(b, "socket,id=rec,fd=%d", io->rec);
	if (s->tty_records) {
		r |= boot_add(b, "-serial");
		r |= boot_add(b, "chardev:rec");
	} else {
		r |= boot_add(b, "-device");
		r |= boot_add(b, "virtio-serial-pci,id=vser,addr=0x2,max_ports=2");
		r |= boot_add(b, "-device");
		r |= boot_add(b, "virtserialport,chardev=rec,bus=vser.0,nr=1,name=vkci.rec");
	}
	if (io->qmp >= 0) {
		r |= boot_add(b, "-chardev");
		r |= boot_add(b, "socket,id=qmp,fd=%d", io->qmp);
		r |= boot_add(b, "-mon");
		r |= boot_add(b, "chardev=qmp,mode=control");
	}
	/* disks at fixed PCI slots: their probe order makes them vda, vdb, vdc.
	 * Shared read-only files are not locked: UML instances hold POSIX
	 * locks on the same images, which QEMU's lock protocol refuses */
	r |= boot_add(b, "-drive");
	r |= boot_add(b, "file=%s,format=%s,if=none,id=root,cache=unsafe,discard=unmap,file.locking=off%s%s",
		      io->root, io->root_qcow2 ? "qcow2" : "raw", io->root_qcow2 ? ",backing.file.locking=off" : "",
		      io->root_snapshot ? ",snapshot=on" : "");
	r |= boot_add(b, "-device");
	r |= boot_add(b, "virtio-blk-pci,drive=root,addr=0x3");
	if (io->payload) {
		r |= boot_add(b, "-drive");
		r |= boot_add(b, "file=%s,format=%s,if=none,id=payload,readonly=on,file.locking=off%s", io->payload,
			      io->payload_qcow2 ? "qcow2" : "raw", io->payload_qcow2 ? ",backing.file.locking=off" : "");
	} else {
		r |= boot_add(b, "-blockdev");
		r |= boot_add(b, "driver=null-co,node-name=payload,size=1048576,read-zeroes=on,read-only=on");
	}
	r |= boot_add(b, "-device");
	r |= boot_add(b, "virtio-blk-pci,drive=payload,addr=0x4");
	if (io->scratch) {
		r |= boot_add(b, "-drive");
		r |= boot_add(b, "file=%s,format=raw,if=none,id=scratch,cache=unsafe", io->scratch);
		r |= boot_add(b, "-device");
		r |= boot_add(b, "virtio-blk-pci,drive=scratch,addr=0x5");
	}
	if (s->nic) {
		r |= boot_add(b, "-netdev");
		r |= boot_add(b, "dgram,id=net0,local.type=fd,local.str=%d", io->net);
		r |= boot_add(b, "-device");
		r |= boot_add(b, "virtio-net-pci,netdev=net0,addr=0x7,mac=52:54:00:00:00:%02x", (s->node + 1) & 0xff);
	}
	/* a panic: the whole report on the console, then a reboot that ends
	 * QEMU; pvpanic tells QEMU too */
	r |= boot_add(b, "-device");
	r |= boot_add(b, "pvpanic-pci,addr=0x8");
	r |= boot_add(b, "-action");
	r |= boot_add(b, "panic=none");
	r |= boot_add(b, "-object");
	r |= boot_add(b, "rng-random,id=rng0,filename=/dev/urandom");
	r |= boot_add(b, "-device");
	r |= boot_add(b, "virtio-rng-pci,rng=rng0,addr=0x9");
	/* a clone's generation id differs from its template's: the guest reseeds */
	r |= boot_add(b, "-device");
	r |= boot_add(b, "vmgenid,guid=auto");
	r |= boot_add(b, "-kernel");
	r |= boot_add(b, "%s", s->kernel);
	r |= boot_add(b, "-append");
	r |= boot_add(b, "%s", cmdline);
	if (io->incoming >= 0) {
		r |= boot_add(b, "-incoming");
		r |= boot_add(b, "fd:%d", io->incoming);
	}
	return r ? -1 : 0;
}

int qemu_spawn(struct boot_argv *b, const struct qio *io, int out_fd, const char *tmpdir, pid_t *pid)
{
	const int fds[] = { io->con, io->rec, io->qmp, io->net, io->incoming };
	struct child ch;
	size_t i;

	if (tmpdir && boot_env(b, "TMPDIR=%s", tmpdir) < 0)
		return -1;
	proc_child_init(&ch, b->argv);
	ch.env = b->env;
	ch.out_fd = out_fd;   /* QEMU's own messages join the console stream */
	for (i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			ch.keep_fds[ch.nkeep++] = fds[i];
	if (proc_spawn(&ch) < 0)
		return -1;
	*pid = ch.pid;
	return 0;
}

/* ---- one node -------------------------------------------------------------------- */

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Is v set to "0" (or "off", "no")? */
static int env_off(const char *name)
{
	const char *v = getenv(name);

	return v && (!strcmp(v, "0") || !strcmp(v, "off") || !strcmp(v, "no"));
}

static int qemu_start(const struct boot_params *bp, struct vkernel *vk)
{
	int con[2] = { -1, -1 }, rec[2] = { -1, -1 }, state = -1, r = -1, restored = 0, accel;
	struct boot_argv *b = calloc(1, sizeof(*b));
	char qemu[PATH_MAX], tdir[PATH_MAX], view[PATH_MAX], why[300];
	struct qshape s = { .kernel = bp->kernel, .mem = bp->mem, .extra = bp->extra, .node = bp->node };
	struct qio io = { .root = bp->image, .root_snapshot = 1, .payload = bp->payload, .scratch = bp->scratch,
			  .con = -1, .rec = -1, .qmp = -1, .net = bp->net_fd, .incoming = -1 };
	long long cap = 0;

	if (!b)
		return error("out of memory");
	s.qemu = qemu;
	s.scratch = bp->scratch ? bp->scratch_size : 0;
	s.nic = bp->nodes > 1;
	s.tty_records = bp->interactive;
	if (qemu_find(qemu, sizeof(qemu)) < 0 || check_kernel(bp->kernel) < 0 ||
	    boot_check_path("instance dir", bp->node_dir, QEMU_BAD_PATH, QEMU_BAD_DESC) < 0)
		goto out;
	if (s.nic && bp->net_fd < 0) {
		error("no network endpoint for node %d", bp->node);
		goto out;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, con) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, rec) < 0) {
		error_errno("cannot create socketpairs");
		goto out;
	}
	io.con = con[1];
	io.rec = rec[1];
	/* a clone of a booted snapshot of this machine shape, unless the test
	 * wants a tty (vkci boot) or VKCI_QEMU_SNAPSHOT=0 asks for cold boots */
	if (!bp->interactive && !env_off("VKCI_QEMU_SNAPSHOT")) {
		int t;

		if (bp->payload && qsnap_payload_view(bp->payload, view, sizeof(view), &cap) < 0)
			goto out;
		t = qsnap_template(&s, bp->image, bp->payload ? view : NULL, cap, tdir, sizeof(tdir));
		if (t < 0)
			goto out;
		if (t == 0) {
			io.payload = bp->payload ? view : NULL;
			io.payload_qcow2 = 1;
			if (qsnap_restore_argv(&s, tdir, &io, b) < 0)
				goto out;
			state = io.incoming;
			restored = 1;
		}
	}
	if (!restored) {
		if ((accel = qsnap_accel(&s, bp->image, why, sizeof(why))) < 0)
			goto out;
		s.kvm = accel == QSNAP_KVM;
		if (qemu_argv(&s, &io, b) < 0)
			goto out;
	}
	if (bp->test && boot_env(b, "VKCI_TEST=%s", bp->test) < 0)
		goto out;
	note("%s node %d: %s, %s", bp->test ? bp->test : "-", bp->node, restored ? "restored from a snapshot" : "cold boot",
	     s.kvm ? "kvm" : "tcg");
	if (qemu_spawn(b, &io, con[1], bp->node_dir, &vk->pid) < 0)
		goto out;
	vk->con_r = con[0];
	vk->ser_r = rec[0];
	/* the record channel is one socket: its own fd for each direction, so
	 * that closing one never closes the other */
	vk->ser_w = fcntl(rec[0], F_DUPFD_CLOEXEC, 3);
	if (vk->ser_w < 0) {
		error_errno("cannot duplicate the record channel");
		proc_kill_group(vk->pid, SIGKILL);
		close_fd(&vk->ser_r);
		close_fd(&vk->con_r);
		goto out;
	}
	con[0] = rec[0] = -1;
	vk->restored = restored;
	vk->ack = 1;   /* a virtio-serial port is not drained after power-off */
	vk->accel = s.kvm ? "kvm" : "tcg";
	r = 0;
out:
	close_fd(&con[0]);
	close_fd(&con[1]);
	close_fd(&rec[0]);
	close_fd(&rec[1]);
	close_fd(&state);
	free(b);
	return r;
}

/* ---- the network: datagram socketpairs, one Ethernet frame per datagram ------------- */

static int qemu_net_start(const char *dir, int nodes, struct vknet *net)
{
	int host[VKNET_MAX_NODES], i, r = -1;
	struct boot_argv *b = NULL;
	char self[PATH_MAX];
	struct child ch;

	(void)dir;
	if (nodes < 2 || nodes > VKNET_MAX_NODES)
		return error("%d nodes: the qemu backend networks 2 to %d", nodes, VKNET_MAX_NODES);
	for (i = 0; i < VKNET_MAX_NODES; i++)
		host[i] = -1;
	net->addr[0] = '\0';
	if (nodes == 2) {
		/* two nodes: one socketpair is the whole network */
		int p[2];

		if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, p) < 0)
			return error_errno("cannot create the network's socketpair");
		net->fd[0] = p[0];
		net->fd[1] = p[1];
		return 0;
	}
	/* more: a hub process holds one end of each node's socketpair and
	 * repeats every frame to the others */
	for (i = 0; i < nodes; i++) {
		int p[2];

		if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, p) < 0) {
			error_errno("cannot create the network's socketpairs");
			goto out;
		}
		net->fd[i] = p[0];
		host[i] = p[1];
	}
	if (!(b = calloc(1, sizeof(*b))) || plat_self_exe(NULL, self, sizeof(self)) < 0) {
		error("cannot find vkci's own path for its network hub");
		goto out;
	}
	if (boot_add(b, "%s", self) < 0 || boot_add(b, "hub") < 0)
		goto out;
	for (i = 0; i < nodes; i++)
		if (boot_add(b, "%d", host[i]) < 0)
			goto out;
	proc_child_init(&ch, b->argv);
	for (i = 0; i < nodes; i++)
		ch.keep_fds[ch.nkeep++] = host[i];
	if (proc_spawn(&ch) < 0)
		goto out;
	net->pid = ch.pid;
	r = 0;
out:
	for (i = 0; i < VKNET_MAX_NODES; i++)
		close_fd(&host[i]);
	if (r < 0)
		for (i = 0; i < VKNET_MAX_NODES; i++)
			close_fd(&net->fd[i]);
	free(b);
	return r;
}

const struct backend backend_qemu = {
	.name = "qemu",
	.summary = "QEMU: an x86_64 kernel in qemu-system-x86_64 (KVM when it works, else TCG)",
	.arch = "x86_64",
	.arch_dir = "x86",
	.defconfig = "tinyconfig",
	.binary = "vmlinux",
	.alt_binary = "arch/x86/boot/bzImage",
	.binary_target = "bzImage",
	.build_setup = qemu_build_setup,
	.probe = qemu_probe,
	.kernel_is_program = 0,
	.payload_dev = "/dev/vdb",
	.scratch_dev = "/dev/vdc",
	.coverage = COV_FETCH,
	.quirks = 0,
	.net_start = qemu_net_start,
	.start = qemu_start,
};
