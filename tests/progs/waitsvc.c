/*
 * waitsvc: a service for inetd's "wait" mode, as the exec suites start
 * it: fd 0 is the service's socket itself.  UDP: each datagram gets the
 * reply "PID TEXT".  TCP: each connection it accepts gets "PID\n" and is
 * closed.  The pid lets a suite tell one child from several.  It exits
 * after a second with nothing to do.
 */
#include <sys/socket.h>

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(void)
{
	struct sockaddr_storage from;
	struct pollfd p = { 0, POLLIN, 0 };
	socklen_t flen, tlen;
	char buf[512], out[600];
	ssize_t n;
	int len, type, fd;

	tlen = sizeof(type);
	if (getsockopt(0, SOL_SOCKET, SO_TYPE, &type, &tlen) == -1)
		return 2;
	while (poll(&p, 1, 1000) == 1) {
		if (type == SOCK_STREAM) {
			if ((fd = accept(0, NULL, NULL)) == -1)
				continue;
			len = snprintf(out, sizeof(out), "%d\n", (int)getpid());
			/* A short answer to a fresh socket: nothing to retry. */
			if (write(fd, out, (size_t)len) != len)
				(void)0;
			(void)close(fd);
			continue;
		}
		flen = sizeof(from);
		n = recvfrom(0, buf, sizeof(buf) - 1, MSG_DONTWAIT,
		    (struct sockaddr *)&from, &flen);
		if (n < 0)
			continue;
		buf[n] = '\0';
		len = snprintf(out, sizeof(out), "%d %s", (int)getpid(), buf);
		(void)sendto(0, out, (size_t)len, 0, (struct sockaddr *)&from,
		    flen);
	}
	return 0;
}
