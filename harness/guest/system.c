/* system.c - the guest agent's set-up of the system its test runs in: the
 * file systems tests expect, the payload disk, the network (lo, and eth0
 * for multi-node tests), and what a restored snapshot must not share with
 * its siblings. Everything here is a system call of the guest's kernel
 * (mount, ioctl), so a port to another kernel changes this file; what is
 * Linux-only is marked. See agent.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <netinet/in.h>
#ifdef __linux__
#include <linux/fs.h>
#include <linux/random.h>
#include <net/if_arp.h>
#endif
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

#ifdef __linux__
static const struct mountpoint {
	const char *source, *target, *type;
	unsigned long flags;
	const char *data;
	int required;
} mounts[] = {
	{ "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 1 },
	{ "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 1 },
	{ "devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755", 1 },
	{ "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "ptmxmode=0666", 0 },
	{ "tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", 0 },
	{ "tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", 1 },
	{ "tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755", 0 },
	{ "debugfs", "/sys/kernel/debug", "debugfs", 0, NULL, 0 },
};
#endif

int mount_all(char *err, size_t size)
{
#ifdef __linux__
	for (size_t i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++) {
		const struct mountpoint *m = &mounts[i];

		mkdir(m->target, 0755);
		if (mount(m->source, m->target, m->type, m->flags, m->data) == 0 || errno == EBUSY)
			continue;
		if (m->required) {
			snprintf(err, size, "cannot mount %s on %s: %s", m->type, m->target,
				 strerror(errno));
			return -1;
		}
	}
	/* what programs expect of /dev beyond devtmpfs (bash's <(...), kselftest) */
	symlink("/proc/self/fd", "/dev/fd");
	symlink("/proc/self/fd/0", "/dev/stdin");
	symlink("/proc/self/fd/1", "/dev/stdout");
	symlink("/proc/self/fd/2", "/dev/stderr");
#else
	(void)err;
	(void)size;
#endif
	return 0;
}

int mount_payload(const struct job *j, char *err, size_t size)
{
	if (!j->payload[0])
		return 0;
	mkdir("/payload", 0755);
#ifdef __linux__
	{
		/* a snapshot's template probed this device at its boot: what the
		 * block layer cached then is not this run's payload */
		int b = open(j->payload, O_RDONLY | O_CLOEXEC);

		if (b >= 0) {
			ioctl(b, BLKFLSBUF, 0);
			close(b);
		}
	}
	if (mount(j->payload, "/payload", "ext4", MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) == 0 ||
	    errno == EBUSY)
		return 0;
	snprintf(err, size, "cannot mount the payload '%s' on /payload: %s", j->payload, strerror(errno));
	return -1;
#else
	snprintf(err, size, "cannot mount the payload '%s': no mount code for this system", j->payload);
	return -1;
#endif
}

/* Bring an interface up, with an IPv4 address when addr is not 0. */
static int if_up(const char *name, uint32_t addr, uint32_t mask, char *err, size_t size)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		snprintf(err, size, "socket: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (addr) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(addr);
		if (ioctl(fd, SIOCSIFADDR, &ifr) < 0)
			goto fail;
		sin->sin_addr.s_addr = htonl(mask);
		if (ioctl(fd, SIOCSIFNETMASK, &ifr) < 0)
			goto fail;
	}
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		goto fail;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		goto fail;
	close(fd);
	return 0;
fail:
	snprintf(err, size, "cannot configure %s: %s", name, strerror(errno));
	close(fd);
	return -1;
}

/* What an instance restored from a snapshot must not share with its
 * siblings (PROTOCOL.md): the wall clock and the CRNG's state. */
void fresh_state(const struct job *j)
{
	if (j->time_ms) {
		struct timespec ts = { j->time_ms / 1000, (j->time_ms % 1000) * 1000000 };

		if (clock_settime(CLOCK_REALTIME, &ts) < 0)
			kmsg("vkci-init: cannot set the clock (vkci.time=)\n");
	}
#ifdef __linux__
	if (j->seed[0]) {
		struct { struct rand_pool_info info; unsigned char buf[32]; } e;
		size_t n = 0;
		int fd;

		for (const char *h = j->seed; h[0] && h[1] && n < sizeof(e.buf); h += 2) {
			int hi = proto_hexval(h[0]), lo = proto_hexval(h[1]);

			if (hi < 0 || lo < 0)
				break;
			e.buf[n++] = (unsigned char)(hi << 4 | lo);
		}
		e.info.entropy_count = (int)n * 8;
		e.info.buf_size = (int)n;
		fd = open("/dev/urandom", O_RDWR | O_CLOEXEC);
		if (fd < 0 || ioctl(fd, RNDADDENTROPY, &e) < 0 || ioctl(fd, RNDRESEEDCRNG, 0) < 0)
			kmsg("vkci-init: cannot reseed the CRNG (vkci.seed=)\n");
		if (fd >= 0)
			close(fd);
	}
#endif
}

/* lo always; eth0 = 10.0.0.(node+1)/24 on the run's switch for multi-node
 * tests, with a MAC of its own (a restored NIC has its template's). */
int network(const struct job *j, char *err, size_t size)
{
#ifdef __linux__
	if (j->nodes > 1) {
		struct ifreq ifr;
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "eth0");
		ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
		memcpy(ifr.ifr_hwaddr.sa_data, "\x52\x54\x00\x00\x00", 5);
		ifr.ifr_hwaddr.sa_data[5] = (char)(j->node + 1);
		if (fd >= 0) {
			ioctl(fd, SIOCSIFHWADDR, &ifr);   /* UML's daemon transport may refuse: harmless */
			close(fd);
		}
	}
#endif
	if (if_up("lo", 0, 0, err, size) < 0)
		return -1;
	if (j->nodes > 1)
		return if_up("eth0", (10u << 24) | (uint32_t)(j->node + 1), 0xffffff00u, err, size);
	return 0;
}
