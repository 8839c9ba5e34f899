/* inotify: create, modify, close, rename (MOVED_FROM/MOVED_TO sharing one
 * non-zero cookie), delete and directory events arrive in order with the
 * right names; DELETE_SELF + IGNORED, IN_ONESHOT, rm_watch, FIONREAD */
/* vkci: timeout=30 config=INOTIFY_USER */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "vkci_test.h"

#define DIR "/fs-inotify"

struct ev {
	int wd;
	unsigned mask, cookie;
	char name[64];
};

static struct ev evs[64];
static int nev;

static const char *mask_name(unsigned m, char *out, size_t size)
{
	static const struct { unsigned bit; const char *name; } bits[] = {
		{ IN_CREATE, "CREATE" }, { IN_MODIFY, "MODIFY" }, { IN_CLOSE_WRITE, "CLOSE_WRITE" },
		{ IN_MOVED_FROM, "MOVED_FROM" }, { IN_MOVED_TO, "MOVED_TO" }, { IN_DELETE, "DELETE" },
		{ IN_DELETE_SELF, "DELETE_SELF" }, { IN_ATTRIB, "ATTRIB" }, { IN_IGNORED, "IGNORED" },
		{ IN_ISDIR, "ISDIR" }, { IN_Q_OVERFLOW, "OVERFLOW" },
	};
	size_t i;

	out[0] = '\0';
	for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (m & bits[i].bit)
			snprintf(out + strlen(out), size - strlen(out), "%s%s", out[0] ? "|" : "", bits[i].name);
	return out;
}

/* read every queued event; returns the bytes read */
static long drain(int fd)
{
	char buf[4096] __attribute__((aligned(8)));
	long total = 0;
	ssize_t n;

	nev = 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		char *p;

		total += n;
		for (p = buf; p < buf + n;) {
			struct inotify_event *e = (struct inotify_event *)p;

			if (nev < 64) {
				evs[nev].wd = e->wd;
				evs[nev].mask = e->mask;
				evs[nev].cookie = e->cookie;
				snprintf(evs[nev].name, sizeof(evs[nev].name), "%s", e->len ? e->name : "");
				nev++;
			}
			p += sizeof(*e) + e->len;
		}
	}
	return total;
}

static void sequence(char *out, size_t size)
{
	char m[128];
	int i;

	out[0] = '\0';
	for (i = 0; i < nev; i++)
		snprintf(out + strlen(out), size - strlen(out), "%s%s%s%s", i ? "," : "",
			 mask_name(evs[i].mask, m, sizeof(m)), evs[i].name[0] ? " " : "", evs[i].name);
}

int main(int argc, char **argv)
{
	char seq[1024];
	int in, wd, wd2, fd, i, pending = -1, zero_cookies = 1, same_wd = 1;
	unsigned c1 = 0, c2 = 0;
	long got;

	vt_init(argc, argv);
	/* without CONFIG_INOTIFY_USER vkci skips the test (config= above) */
	in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	plan(11);
	if (in < 0 || mkdir(DIR, 0755) < 0)
		bail("setup: %s", strerror(errno));
	wd = inotify_add_watch(in, DIR, IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM |
						IN_MOVED_TO | IN_DELETE);
	if (wd < 0)
		bail("inotify_add_watch: %s", strerror(errno));

	fd = open(DIR "/a", O_WRONLY | O_CREAT | O_EXCL, 0644);
	write(fd, "x", 1);
	close(fd);
	rename(DIR "/a", DIR "/b");
	rename(DIR "/b", DIR "/c");
	unlink(DIR "/c");
	mkdir(DIR "/sub", 0755);
	rmdir(DIR "/sub");
	ioctl(in, FIONREAD, &pending);
	got = drain(in);
	sequence(seq, sizeof(seq));
	is_string(seq, "CREATE a,MODIFY a,CLOSE_WRITE a,MOVED_FROM a,MOVED_TO b,MOVED_FROM b,MOVED_TO c,"
		       "DELETE c,CREATE|ISDIR sub,DELETE|ISDIR sub",
		  "the events, in order, with names");
	if (nev >= 7) {
		c1 = evs[3].cookie;
		c2 = evs[5].cookie;
	}
	ok(nev >= 7 && c1 != 0 && evs[4].cookie == c1, "MOVED_FROM and MOVED_TO share a non-zero cookie (%u)", c1);
	ok(nev >= 7 && c2 != 0 && c2 != c1 && evs[6].cookie == c2,
	   "the second rename has its own cookie (%u vs %u)", c2, c1);
	for (i = 0; i < nev; i++) {
		if (!(evs[i].mask & (IN_MOVED_FROM | IN_MOVED_TO)) && evs[i].cookie)
			zero_cookies = 0;
		if (evs[i].wd != wd)
			same_wd = 0;
	}
	ok(zero_cookies && same_wd, "the other events have cookie 0, all carry the watch descriptor");
	is_int(pending, got, "FIONREAD announced exactly the bytes read");
	ok_errno(read(in, seq, sizeof(seq)), EAGAIN, "the queue is empty afterwards (EAGAIN)");

	/* watch a file itself (the directory watch gone), then delete it */
	inotify_rm_watch(in, wd);
	drain(in);
	fd = open(DIR "/victim", O_WRONLY | O_CREAT, 0644);
	close(fd);
	wd2 = inotify_add_watch(in, DIR "/victim", IN_DELETE_SELF);
	unlink(DIR "/victim");
	drain(in);
	sequence(seq, sizeof(seq));
	is_string(seq, "DELETE_SELF,IGNORED", "unlinking a watched file: DELETE_SELF then IGNORED");
	ok(nev == 2 && evs[0].wd == wd2 && evs[1].wd == wd2, "both for the file's own watch descriptor");

	/* IN_ONESHOT: one event, then the watch is gone */
	wd = inotify_add_watch(in, DIR, IN_CREATE | IN_ONESHOT);
	close(open(DIR "/one", O_WRONLY | O_CREAT, 0644));
	close(open(DIR "/two", O_WRONLY | O_CREAT, 0644));
	drain(in);
	sequence(seq, sizeof(seq));
	is_string(seq, "CREATE one,IGNORED", "IN_ONESHOT reports one event and drops the watch");
	ok_errno(inotify_rm_watch(in, wd), EINVAL, "removing the spent one-shot watch fails with EINVAL");
	wd = inotify_add_watch(in, DIR, IN_CREATE);
	inotify_rm_watch(in, wd);
	drain(in);
	sequence(seq, sizeof(seq));
	is_string(seq, "IGNORED", "inotify_rm_watch queues IN_IGNORED");
	close(in);
	return exit_status();
}
