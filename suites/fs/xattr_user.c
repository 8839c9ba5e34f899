/* user.* extended attributes on ext4: set/get/list/remove, size query,
 * ERANGE, ENODATA, XATTR_CREATE / XATTR_REPLACE, EPERM on symlinks,
 * unknown namespaces; the same round trip on tmpfs when it has xattrs */
/* vkci: timeout=30 config=TMPFS_XATTR */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "vkci_test.h"

#define F "/fs-xattr"

/* the names listxattr reports, sorted-independent, as "a,b," for user.* */
static void names(const char *path, char *out, size_t size)
{
	char list[1024], *p;
	ssize_t n = listxattr(path, list, sizeof(list));
	int have_test = 0, have_second = 0, other = 0;

	out[0] = '\0';
	if (n < 0) {
		snprintf(out, size, "error %d", errno);
		return;
	}
	for (p = list; p < list + n; p += strlen(p) + 1) {
		if (!strcmp(p, "user.test"))
			have_test++;
		else if (!strcmp(p, "user.second"))
			have_second++;
		else if (!strncmp(p, "user.", 5))
			other++;
	}
	snprintf(out, size, "test=%d second=%d other=%d", have_test, have_second, other);
}

int main(int argc, char **argv)
{
	char buf[64], small[4], list[128];
	ssize_t n;
	int fd, r;

	vt_init(argc, argv);
	plan(14);
	fd = open(F, O_WRONLY | O_CREAT, 0644);
	if (fd < 0)
		bail("create: %s", strerror(errno));
	close(fd);
	if (symlink(F, F "-link") < 0)
		bail("symlink: %s", strerror(errno));

	ok_errno(getxattr(F, "user.test", buf, sizeof(buf)), ENODATA,
		 "getxattr of an attribute never set fails with ENODATA");
	ok_sys(setxattr(F, "user.test", "value1", 6, XATTR_CREATE), "setxattr user.test with XATTR_CREATE");
	memset(buf, 0, sizeof(buf));
	n = getxattr(F, "user.test", buf, sizeof(buf));
	ok(n == 6 && !memcmp(buf, "value1", 6), "getxattr returns the 6 bytes set ('%s')", buf);
	is_int(getxattr(F, "user.test", NULL, 0), 6, "getxattr with size 0 reports the value's length");
	ok_errno(getxattr(F, "user.test", small, sizeof(small)), ERANGE,
		 "getxattr into a 4-byte buffer fails with ERANGE");
	ok_errno(setxattr(F, "user.test", "x", 1, XATTR_CREATE), EEXIST,
		 "XATTR_CREATE on an existing attribute fails with EEXIST");
	ok_errno(setxattr(F, "user.missing", "x", 1, XATTR_REPLACE), ENODATA,
		 "XATTR_REPLACE on a missing attribute fails with ENODATA");
	memset(buf, 0, sizeof(buf));
	r = setxattr(F, "user.test", "longer value 2", 14, XATTR_REPLACE);
	n = getxattr(F, "user.test", buf, sizeof(buf));
	ok(r == 0 && n == 14 && !strcmp(buf, "longer value 2"),
	   "XATTR_REPLACE changes the value ('%s')", buf);
	setxattr(F, "user.second", "", 0, 0);
	names(F, list, sizeof(list));
	is_string(list, "test=1 second=1 other=0", "listxattr lists both user attributes once (empty value too)");
	ok(removexattr(F, "user.test") == 0 && getxattr(F, "user.test", buf, sizeof(buf)) < 0 && errno == ENODATA,
	   "removexattr, then getxattr fails with ENODATA");
	ok_errno(removexattr(F, "user.test"), ENODATA, "removexattr of a missing attribute fails with ENODATA");
	ok_errno(lsetxattr(F "-link", "user.test", "x", 1, 0), EPERM,
		 "user.* on a symlink itself fails with EPERM");

	ok_errno(setxattr(F, "bogus.name", "x", 1, 0), EOPNOTSUPP,
		 "an attribute outside the known namespaces fails with EOPNOTSUPP");

	/* tmpfs has user xattrs since Linux 6.6, with CONFIG_TMPFS_XATTR (a
	 * kernel without it: vkci skips the test, config= above) */
	fd = open("/tmp/fs-xattr", O_WRONLY | O_CREAT, 0644);
	close(fd);
	if (vt_kernel_older(6, 6)) {
		skip(1, "tmpfs has user.* xattrs since Linux 6.6");
	} else {
		memset(buf, 0, sizeof(buf));
		r = setxattr("/tmp/fs-xattr", "user.t", "tmp", 3, 0);
		n = getxattr("/tmp/fs-xattr", "user.t", buf, sizeof(buf));
		if (!ok(r == 0 && n == 3 && !strcmp(buf, "tmp"), "tmpfs: user.t round-trips ('%s')", buf))
			diag("setxattr returned %d, getxattr %zd: %s", r, n, strerror(errno));
	}
	return exit_status();
}
