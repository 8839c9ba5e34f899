/* socketpair(2): AF_UNIX stream pairs are connected and bidirectional,
 * SOCK_SEQPACKET keeps record boundaries, SOCK_DGRAM pairs too, closing one
 * end gives EOF / EPIPE on the other, SOCK_NONBLOCK|SOCK_CLOEXEC apply to
 * both fds, and AF_INET refuses (EOPNOTSUPP) */
/* vkci: timeout=30 */
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>

#include "vkci_test.h"

int main(int argc, char **argv)
{
	char buf[64];
	int sv[2], type = 0;
	socklen_t tl = sizeof(type);

	vt_init(argc, argv);
	plan(14);
	signal(SIGPIPE, SIG_IGN);

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		bail("socketpair(AF_UNIX, SOCK_STREAM): %s", strerror(errno));
	ok(sv[0] >= 0 && sv[1] >= 0 && sv[0] != sv[1], "a stream pair: two distinct fds %d, %d", sv[0], sv[1]);
	is_int(write(sv[0], "ping", 4), 4, "write on end 0");
	memset(buf, 0, sizeof(buf));
	ok(read(sv[1], buf, sizeof(buf)) == 4 && !strcmp(buf, "ping"), "end 1 reads it");
	is_int(write(sv[1], "pong", 4), 4, "write on end 1");
	memset(buf, 0, sizeof(buf));
	ok(read(sv[0], buf, sizeof(buf)) == 4 && !strcmp(buf, "pong"), "end 0 reads it: the pair is bidirectional");
	getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &tl);
	is_int(type, SOCK_STREAM, "SO_TYPE is SOCK_STREAM");
	close(sv[1]);
	is_int(read(sv[0], buf, sizeof(buf)), 0, "closing end 1: end 0 reads EOF");
	ok_errno(write(sv[0], "x", 1), EPIPE, "and writing on end 0 fails with EPIPE");
	close(sv[0]);

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		bail("socketpair(AF_UNIX, SOCK_SEQPACKET): %s", strerror(errno));
	write(sv[0], "abc", 3);
	write(sv[0], "defgh", 5);
	ok(read(sv[1], buf, sizeof(buf)) == 3 && read(sv[1], buf, sizeof(buf)) == 5,
	   "SOCK_SEQPACKET: two records read as 3 and 5 bytes");
	close(sv[0]);
	is_int(read(sv[1], buf, sizeof(buf)), 0, "SOCK_SEQPACKET: EOF after the peer closes");
	close(sv[1]);

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0)
		bail("socketpair(AF_UNIX, SOCK_DGRAM): %s", strerror(errno));
	send(sv[1], "12", 2, 0);
	send(sv[1], "3456", 4, 0);
	ok(recv(sv[0], buf, sizeof(buf), 0) == 2 && recv(sv[0], buf, sizeof(buf), 0) == 4,
	   "SOCK_DGRAM pair: datagrams of 2 and 4 bytes");
	close(sv[0]);
	close(sv[1]);

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		bail("socketpair with flags: %s", strerror(errno));
	ok((fcntl(sv[0], F_GETFL) & O_NONBLOCK) && (fcntl(sv[1], F_GETFL) & O_NONBLOCK) &&
	   (fcntl(sv[0], F_GETFD) & FD_CLOEXEC) && (fcntl(sv[1], F_GETFD) & FD_CLOEXEC),
	   "SOCK_NONBLOCK|SOCK_CLOEXEC apply to both ends");
	ok_errno(read(sv[0], buf, sizeof(buf)), EAGAIN, "an empty non-blocking end: EAGAIN");
	close(sv[0]);
	close(sv[1]);

	ok_errno(socketpair(AF_INET, SOCK_STREAM, 0, sv), EOPNOTSUPP, "socketpair(AF_INET) is EOPNOTSUPP");
	return exit_status();
}
