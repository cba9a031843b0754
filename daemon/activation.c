/*
 * activation: the sockets a service manager passed (systemd's socket
 * activation, sd_listen_fds(3)'s protocol read by hand, without
 * libsystemd): LISTEN_PID must be ours, LISTEN_FDS sockets from
 * descriptor 3 on, LISTEN_FDNAMES their names for the log.  Each is
 * known by its type and local address (SO_TYPE, getsockname), and the
 * supervisor asks for one before it binds a socket of its own.  The
 * inherited descriptor stays here for the daemon's life and listeners get
 * a dup of it, so that an address a reload drops and a later reload
 * brings back is served on the same socket again (the service manager
 * holds it open in any case).  Those no service claims at start are
 * logged and closed.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sockd/handler.h>

#include "activation.h"
#include "listener.h"
#include "log.h"
#include "util.h"

#define LISTEN_FDS_START	3
#define ACTIVATION_MAX		256

struct inherited {
	int			 fd;		/* -1: closed */
	unsigned int		 proto;		/* 0: not one we serve */
	struct sockaddr_storage	 addr;
	char			 name[64];	/* LISTEN_FDNAMES, or "" */
	int			 claimed;
};

static struct inherited	*inh;
static int		 ninh;

/* 1 when a and b are the same family, address and port. */
static int
addr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	const struct sockaddr_in *a4, *b4;
	const struct sockaddr_in6 *a6, *b6;

	if (a->sa_family != b->sa_family)
		return 0;
	if (a->sa_family == AF_INET) {
		a4 = (const struct sockaddr_in *)(const void *)a;
		b4 = (const struct sockaddr_in *)(const void *)b;
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	}
	if (a->sa_family == AF_INET6) {
		a6 = (const struct sockaddr_in6 *)(const void *)a;
		b6 = (const struct sockaddr_in6 *)(const void *)b;
		return a6->sin6_port == b6->sin6_port &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof(a6->sin6_addr)) == 0;
	}
	return 0;
}

/* "tcp 127.0.0.1:7" or "fd 5 (not a TCP or UDP socket)" into buf. */
static const char *
inherited_text(const struct inherited *in, char *buf, size_t len)
{
	char what[96];

	if (in->proto != 0)
		listener_name(in->proto, (const struct sockaddr *)&in->addr,
		    what, sizeof(what));
	else
		snprintf(what, sizeof(what), "not a TCP or UDP socket");
	snprintf(buf, len, "fd %d%s%s%s: %s", in->fd,
	    in->name[0] != '\0' ? " (" : "", in->name,
	    in->name[0] != '\0' ? ")" : "", what);
	return buf;
}

/* The next name of LISTEN_FDNAMES (colon separated) into in. */
static const char *
fdname_next(const char *names, struct inherited *in)
{
	size_t n;

	if (names == NULL)
		return NULL;
	n = strcspn(names, ":");
	snprintf(in->name, sizeof(in->name), "%.*s", (int)n, names);
	return names[n] == ':' ? names + n + 1 : NULL;
}

int
activation_init(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	const char *names = getenv("LISTEN_FDNAMES");
	struct inherited *in;
	socklen_t len;
	char *end, text[256];
	long p, n;
	int i, type, proto;

	if (pid == NULL || fds == NULL)
		goto out;
	errno = 0;
	p = strtol(pid, &end, 10);
	if (*pid == '\0' || *end != '\0' || p != (long)getpid())
		goto out;
	n = strtol(fds, &end, 10);
	if (*fds == '\0' || *end != '\0' || n <= 0 || n > ACTIVATION_MAX) {
		if (n != 0)
			log_warnx("LISTEN_FDS=%s: not a number of sockets "
			    "from 1 to %d; none inherited", fds,
			    ACTIVATION_MAX);
		goto out;
	}
	inh = xcalloc((size_t)n, sizeof(*inh));
	for (i = 0; i < n; i++) {
		in = &inh[ninh++];
		in->fd = LISTEN_FDS_START + i;
		names = fdname_next(names, in);
		if (fcntl(in->fd, F_SETFD, FD_CLOEXEC) == -1) {
			log_warn("inherited fd %d", in->fd);
			in->fd = -1;
			continue;
		}
		len = sizeof(type);
		if (getsockopt(in->fd, SOL_SOCKET, SO_TYPE, &type,
		    &len) == -1)
			continue;
		len = sizeof(proto);
		if (getsockopt(in->fd, SOL_SOCKET, SO_PROTOCOL, &proto,
		    &len) == -1)
			proto = 0;
		len = sizeof(in->addr);
		if (getsockname(in->fd, (struct sockaddr *)&in->addr,
		    &len) == -1 || (in->addr.ss_family != AF_INET &&
		    in->addr.ss_family != AF_INET6))
			continue;
		if (type == SOCK_STREAM && proto == IPPROTO_TCP)
			in->proto = SOCKD_TCP;
		else if (type == SOCK_DGRAM && proto == IPPROTO_UDP)
			in->proto = SOCKD_UDP;
		log_debug("inherited %s", inherited_text(in, text,
		    sizeof(text)));
	}
out:
	/* Not for the children (the reload's check). */
	(void)unsetenv("LISTEN_PID");
	(void)unsetenv("LISTEN_FDS");
	(void)unsetenv("LISTEN_FDNAMES");
	return ninh;
}

int
activation_take(unsigned int proto, const struct sockaddr *sa,
    const char *name)
{
	struct inherited *in;
	char text[96];
	int i, fd;

	for (i = 0; i < ninh; i++) {
		in = &inh[i];
		if (in->fd == -1 || in->proto != proto ||
		    !addr_equal((const struct sockaddr *)&in->addr, sa))
			continue;
		if ((fd = fcntl(in->fd, F_DUPFD_CLOEXEC, 0)) == -1) {
			log_warn("%s: inherited fd %d: dup", name, in->fd);
			return -1;
		}
		if (!in->claimed) {
			listener_name(proto, sa, text, sizeof(text));
			log_info("%s: %s: inherited (fd %d)", name, text,
			    in->fd);
		}
		in->claimed = 1;
		return fd;
	}
	return -1;
}

void
activation_close_unclaimed(void)
{
	char text[256];
	int i;

	for (i = 0; i < ninh; i++) {
		if (inh[i].fd == -1 || inh[i].claimed)
			continue;
		log_warnx("inherited %s: no service listens there; closed",
		    inherited_text(&inh[i], text, sizeof(text)));
		close(inh[i].fd);
		inh[i].fd = -1;
	}
}

void
activation_free(void)
{
	int i;

	for (i = 0; i < ninh; i++)
		if (inh[i].fd != -1)
			close(inh[i].fd);
	free(inh);
	inh = NULL;
	ninh = 0;
}
