/* qsnap.c - booted snapshots for the QEMU backend (qemu.h), and the KVM probe.
 *
 * A test's machine shape (kernel, image, QEMU, accelerator, memory, scratch
 * size, NIC, payload capacity, kernel command line) has one template in the
 * cache, CACHE/qemu/templates/<kernel>-<KEY>/: made once, under a lock, by
 * a cold boot with vkci.snapshot=1 up to the agent's hello (the agent then
 * waits for its key, nothing of a test mounted or open), after which QEMU
 * saves the whole machine, RAM included, into `state` through the monitor
 * and quits. Its root disk, root.qcow2 over the base image, is never written
 * again. A clone is a new QEMU with the same devices and `-incoming fd:N` on
 * `state`: it runs on as soon as the state is loaded, with a throwaway
 * overlay over root.qcow2 (snapshot=on) and its own channels, scratch file
 * and network endpoint. Why this is the same clean state for every test,
 * and what a clone must not share (clock, CRNG, MAC), is in README.md.
 *
 * RAM travels in the state file rather than in a shared memory file that
 * clones map copy-on-write: QEMU 7.2 can only ignore shared RAM in a
 * migration when told over the monitor (no command-line switch), so the
 * shared variant needs a monitor conversation before every restore, where
 * this one needs none; it costs ~15 MB more PSS per instance (BENCHMARKS.md).
 *
 * The template boot is also the KVM probe: a KVM template is tried first
 * where /dev/kvm opens; a KVM that does not bring the agent up within
 * KVM_HELLO_S (QEMU aborts, hangs, or pauses on an internal error: all seen
 * on machines whose /dev/kvm looks fine) means TCG, said once on stderr and
 * cached per (QEMU, kernel, image) in CACHE/qemu/probes/. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "kconfig.h"
#include "proc.h"
#include "qemu.h"
#include "util.h"
#include "banned.h"

#define RECIPE "vkci-qemu-template-1"   /* bump when the machine's argv changes */
#define GIB (1LL << 30)
#define KVM_HELLO_S 15         /* KVM brings the agent up in ~2 s where it works */
#define TCG_HELLO_S 300        /* a cold TCG boot on a loaded machine */
#define FAILED_VALID_S 600     /* a failed template is not retried for this long */
#define KEEP_UNUSED_DAYS 14    /* templates and views unused this long are removed */

static int cache_sub(const char *sub, char *buf, size_t size)
{
	char root[PATH_MAX];

	if (cache_dir(NULL, root, sizeof(root)) < 0)
		return -1;
	if (fmt(buf, size, "%s/qemu/%s", root, sub) < 0)
		return error("cache path too long: '%s'", root);
	if (mkdir_p(buf, 0755) < 0)
		return error_errno("cannot create '%s' (set VKCI_CACHE=<writable dir>)", buf);
	return 0;
}

/* What a file is: its real path and what changes when it is rewritten or replaced. */
static int hash_file(uint64_t *h, const char *path)
{
	char real[PATH_MAX];
	struct stat st;
	long long v[5];

	if (!realpath(path, real) || stat(real, &st) < 0)
		return error_errno("cannot stat '%s'", path);
	v[0] = (long long)st.st_dev;
	v[1] = (long long)st.st_ino;
	v[2] = (long long)st.st_size;
	v[3] = (long long)st.st_mtim.tv_sec;
	v[4] = (long long)st.st_mtim.tv_nsec;
	*h = fnv(*h, real, strlen(real) + 1);
	*h = fnv(*h, v, sizeof(v));
	return 0;
}

static void touch(const char *path)
{
	utimensat(AT_FDCWD, path, NULL, 0);
}

/* Remove the entries of dir (other than keep and the lock) unused for `days`. */
static void sweep(const char *dir, const char *keep, int days)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[PATH_MAX];
	struct stat st;
	time_t now = time(NULL);

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || fmt(path, sizeof(path), "%s/%s", dir, e->d_name) < 0 ||
		    (keep && !strncmp(path, keep, strlen(keep))))
			continue;
		if (lstat(path, &st) == 0 && now - st.st_mtime > (time_t)days * 86400)
			rm_rf(path);
	}
	closedir(d);
}

static int lock_file(const char *path, const char *what)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		return error_errno("cannot open lock '%s'", path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		note("waiting for another vkci to make %s", what);
		if (flock(fd, LOCK_EX) < 0) {
			close(fd);
			return error_errno("cannot lock '%s'", path);
		}
	}
	return fd;
}

/* ---- payload views -------------------------------------------------------------- */

int qsnap_payload_view(const char *payload, char *view, size_t size, long long *cap)
{
	char dir[PATH_MAX], lock[PATH_MAX + 8], tmp[PATH_MAX + 16], real[PATH_MAX], capstr[32];
	uint64_t h = fnv(FNV0, RECIPE, sizeof(RECIPE));
	struct stat st;
	int fd, r;

	if (cache_sub("views", dir, sizeof(dir)) < 0 || hash_file(&h, payload) < 0 || !realpath(payload, real) ||
	    stat(real, &st) < 0)
		return -1;
	*cap = st.st_size <= GIB ? GIB : (st.st_size + GIB - 1) / GIB * GIB;
	if (fmt(view, size, "%s/%016llx.qcow2", dir, (unsigned long long)h) < 0)
		return error("cache path too long: '%s'", dir);
	if (access(view, R_OK) == 0) {
		touch(view);
		return 0;
	}
	if (fmt(lock, sizeof(lock), "%s/.lock", dir) < 0 || (fd = lock_file(lock, "a payload view")) < 0)
		return -1;
	r = 0;
	if (access(view, R_OK) < 0) {
		const char *a[] = { "create", "-q", "-f", "qcow2", "-F", "raw", "-b", real, tmp, capstr, NULL };

		sweep(dir, NULL, KEEP_UNUSED_DAYS);
		fmt(capstr, sizeof(capstr), "%lld", *cap);
		if (fmt(tmp, sizeof(tmp), "%s.tmp%d", view, (int)getpid()) < 0 || qemu_img(a) < 0 || rename(tmp, view) < 0)
			r = error("cannot make a qcow2 view of payload '%s' in '%s'", payload, dir);
		unlink(tmp);
	}
	close(fd);
	return r;
}

/* ---- the accelerator ----------------------------------------------------------------- */

/* VKCI_ACCEL: 0 auto, 1 kvm, 2 tcg; -1 bad */
static int accel_wanted(void)
{
	const char *v = getenv("VKCI_ACCEL");

	if (!v || !*v || !strcmp(v, "auto"))
		return 0;
	if (!strcmp(v, "kvm"))
		return 1;
	if (!strcmp(v, "tcg"))
		return 2;
	return error("bad VKCI_ACCEL '%s' (auto, kvm or tcg)", v);
}

/* Whether KVM can be tried at all; why not into why. */
static int kvm_possible(char *why, size_t size)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		fmt(why, size, "cannot open /dev/kvm: %s", strerror(errno));
		return 0;
	}
	close(fd);
	return 1;
}

static int probe_path(const struct qshape *s, const char *image, char *buf, size_t size)
{
	char dir[PATH_MAX];
	uint64_t h = fnv(FNV0, RECIPE, sizeof(RECIPE));

	if (cache_sub("probes", dir, sizeof(dir)) < 0 || hash_file(&h, s->qemu) < 0 || hash_file(&h, s->kernel) < 0 ||
	    hash_file(&h, image) < 0)
		return -1;
	return fmt(buf, size, "%s/%016llx", dir, (unsigned long long)h) < 0 ? error("cache path too long") : 0;
}

/* A cached probe: QSNAP_KVM, QSNAP_TCG (reason in why) or -1 when none. */
static int probe_cached(const char *path, char *why, size_t size)
{
	size_t len;
	char *d, *nl;
	int r = -1;

	if (access(path, R_OK) < 0 || !(d = read_file(path, 4096, &len)))
		return -1;
	if ((nl = strchr(d, '\n')))
		*nl = '\0';
	if (!strcmp(d, "kvm"))
		r = QSNAP_KVM;
	else if (!strncmp(d, "tcg ", 4)) {
		fmt(why, size, "%s", d + 4);
		r = QSNAP_TCG;
	}
	free(d);
	return r;
}

static void probe_record(const char *path, int kvm, const char *why)
{
	char line[400];

	if (fmt(line, sizeof(line), kvm ? "kvm\n" : "tcg %s\n", why) > 0)
		write_file_atomic(path, line, strlen(line));
	if (!kvm)
		warning("KVM does not run this kernel here (%s): QEMU runs it under TCG "
			"(VKCI_ACCEL=tcg skips this probe)", why);
}

int qsnap_accel(const struct qshape *s, const char *image, char *why, size_t size)
{
	char path[PATH_MAX], dir[PATH_MAX];
	int want = accel_wanted(), r;
	struct tboot *t;

	if (want < 0)
		return -1;
	if (want == 2)
		return fmt(why, size, "VKCI_ACCEL=tcg"), QSNAP_TCG;
	if (want == 0 && !kvm_possible(why, size))
		return QSNAP_TCG;
	if (want == 1)
		return QSNAP_KVM;
	if (probe_path(s, image, path, sizeof(path)) < 0)
		return -1;
	if ((r = probe_cached(path, why, size)) >= 0)
		return r;
	/* the probe: this kernel booted under KVM to the agent's hello, then killed */
	if (!(t = calloc(1, sizeof(*t))) || fmt(dir, sizeof(dir), "%s.tmp.XXXXXX", path) < 0 || !mkdtemp(dir)) {
		free(t);
		return error_errno("cannot make a dir for the KVM probe beside '%s'", path);
	}
	t->s = *s;
	t->s.kvm = 1;
	t->s.nic = 0;
	t->s.scratch = 0;
	t->image = image;
	t->dir = dir;
	t->deadline_s = KVM_HELLO_S;
	r = qboot_to_hello(t) == 0 ? QSNAP_KVM : QSNAP_TCG;
	fmt(why, size, "%s", t->why);
	probe_record(path, r == QSNAP_KVM, why);
	rm_rf(dir);
	free(t);
	return r;
}

/* ---- templates ---------------------------------------------------------------------- */

static int template_key(const struct qshape *s, const char *image, long long cap, uint64_t *key)
{
	uint64_t h = fnv(FNV0, RECIPE, sizeof(RECIPE));
	long long v[4] = { s->mem, s->scratch, s->nic, cap };
	const char *want = getenv("VKCI_ACCEL");
	int i;

	if (hash_file(&h, s->qemu) < 0 || hash_file(&h, s->kernel) < 0 || hash_file(&h, image) < 0)
		return -1;
	h = fnv(h, v, sizeof(v));
	h = fnv(h, want ? want : "", want ? strlen(want) + 1 : 1);
	for (i = 0; s->extra && s->extra[i]; i++)
		h = fnv(h, s->extra[i], strlen(s->extra[i]) + 1);
	*key = h;
	return 0;
}

/* The template in dir: its accelerator, or -1 when it is not complete. */
static int template_accel(const char *dir)
{
	char path[PATH_MAX + 16], why[8];

	if (fmt(path, sizeof(path), "%s/state", dir) < 0 || access(path, R_OK) < 0 ||
	    fmt(path, sizeof(path), "%s/accel", dir) < 0)
		return -1;
	return probe_cached(path, why, sizeof(why));
}

static int recently_failed(const char *failed)
{
	struct stat st;

	return stat(failed, &st) == 0 && time(NULL) - st.st_mtime < FAILED_VALID_S;
}

/* Build the template into dir (under its lock). 0, or 1 after warning. */
static int make_template(struct qshape *s, const char *image, const char *view, const char *dir,
			 const char *failed)
{
	char tmp[PATH_MAX + 16], path[PATH_MAX + 16], why[300] = "", probe[PATH_MAX];
	int want = accel_wanted(), kvm, r = 1;
	struct tboot *t = calloc(1, sizeof(*t));

	if (!t)
		return error("out of memory");
	if (want == 2)
		kvm = 0;
	else if (want == 1)
		kvm = 1;
	else if (!kvm_possible(why, sizeof(why)))
		kvm = 0;
	else if (probe_path(s, image, probe, sizeof(probe)) < 0)
		goto out;
	else
		kvm = probe_cached(probe, why, sizeof(why)) != QSNAP_TCG;   /* unknown: this boot probes */
	progress(1, "making a booted snapshot of this QEMU machine (%s, once per machine shape)", kvm ? "KVM" : "TCG");
	for (;;) {
		if (fmt(tmp, sizeof(tmp), "%s.tmp.XXXXXX", dir) < 0 || !mkdtemp(tmp)) {
			error_errno("cannot create a template dir beside '%s'", dir);
			goto out;
		}
		t->s = *s;
		t->s.kvm = kvm;
		t->image = image;
		t->view = view;
		t->dir = tmp;
		t->save = 1;
		t->deadline_s = kvm ? KVM_HELLO_S : TCG_HELLO_S;
		if (qboot_to_hello(t) == 0)
			break;
		if (kvm && want == 0) {
			/* the probe said no: TCG, and this machine's other shapes know it */
			probe_record(probe, 0, t->why);
			rm_rf(tmp);
			kvm = 0;
			continue;
		}
		/* keep the failed boot's console for the post-mortem */
		if (fmt(path, sizeof(path), "%s/console.log", tmp) > 0 && fmt(probe, sizeof(probe), "%s.log", failed) > 0)
			rename(path, probe);
		rm_rf(tmp);
		write_file_atomic(failed, t->why, strlen(t->why));
		warning("cannot make a booted snapshot of this QEMU machine (%s; console: '%s.log'): "
			"booting each test cold", t->why, failed);
		goto out;
	}
	if (kvm && want == 0)
		probe_record(probe, 1, "");
	if (fmt(path, sizeof(path), "%s/accel", tmp) < 0 ||
	    write_file_atomic(path, kvm ? "kvm\n" : "tcg template\n", kvm ? 4 : 13) < 0 || rename(tmp, dir) < 0) {
		error_errno("cannot put the template in place in '%s'", dir);
		rm_rf(tmp);
		goto out;
	}
	unlink(failed);
	s->kvm = kvm;
	r = 0;
out:
	free(t);
	return r;
}

int qsnap_template(struct qshape *s, const char *image, const char *view, long long cap, char *dir, size_t size)
{
	char parent[PATH_MAX], lock[PATH_MAX + 8], failed[PATH_MAX + 8];
	const char *base = strrchr(s->kernel, '/');
	uint64_t key;
	int fd, r, accel;

	if (accel_wanted() < 0 || cache_sub("templates", parent, sizeof(parent)) < 0 ||
	    template_key(s, image, cap, &key) < 0)
		return -1;
	base = base ? base + 1 : s->kernel;
	if (fmt(dir, size, "%s/%.40s-%016llx", parent, base, (unsigned long long)key) < 0 ||
	    fmt(lock, sizeof(lock), "%s.lock", dir) < 0 || fmt(failed, sizeof(failed), "%s.failed", dir) < 0)
		return error("cache path too long: '%s'", parent);
	if ((accel = template_accel(dir)) >= 0) {
		s->kvm = accel == QSNAP_KVM;
		touch(dir);
		return 0;
	}
	if (recently_failed(failed))
		return 1;
	if ((fd = lock_file(lock, "this QEMU machine's snapshot")) < 0)
		return -1;
	if ((accel = template_accel(dir)) >= 0) {
		s->kvm = accel == QSNAP_KVM;
		r = 0;
	} else if (recently_failed(failed)) {
		r = 1;
	} else {
		rm_rf(dir);   /* an incomplete one */
		sweep(parent, dir, KEEP_UNUSED_DAYS);
		r = make_template(s, image, view, dir, failed);
	}
	close(fd);
	return r;
}

int qsnap_restore_argv(const struct qshape *s, const char *dir, struct qio *io, struct boot_argv *b)
{
	static char root[PATH_MAX + 16];
	char state[PATH_MAX + 16];

	if (fmt(root, sizeof(root), "%s/root.qcow2", dir) < 0 || fmt(state, sizeof(state), "%s/state", dir) < 0)
		return error("template path too long: '%s'", dir);
	io->root = root;
	io->root_qcow2 = 1;
	io->root_snapshot = 1;
	io->incoming = open(state, O_RDONLY | O_CLOEXEC);
	if (io->incoming < 0)
		return error_errno("cannot open the snapshot '%s'", state);
	return qemu_argv(s, io, b);
}
