/*
 * listener: one bound socket of one worker.  The supervisor creates and
 * binds every socket (listener_socket), so bind errors surface before
 * anything changes; the worker then wraps it in a libuv handle on its own
 * loop (listener_start).  TCP listeners pass each new connection to
 * conn_accept() with the service the listener serves now; UDP sockets
 * receive through recvmmsg into the worker's shared buffer (dgram.c).
 * IPv6 sockets are v6-only unless the service says v6only = false, so
 * "0.0.0.0" and "::" listen side by side on one port.  SO_REUSEPORT is set
 * only when several workers share an address; otherwise a UDP port held by
 * another program is a bind error rather than a silent split of its
 * traffic.  A reuseport group steers each source address to one worker
 * (steer.c), so that per_source and rate hold across workers.  Socket
 * options set on a TCP listener (keepalive, buffers) are inherited by the
 * connections it accepts.
 *
 * Descriptors: a connection is admitted only while a reserve of them is
 * left below RLIMIT_NOFILE (read once, when the first connection comes,
 * after the supervisor has set the limit), counting both the daemon's
 * open connections and the number the kernel gave the new one, so that a
 * client past it gets the busy line and a clean close, counted as no_fds
 * and logged, and reloads, plugins and listeners still find descriptors.
 * Should accept() itself still fail with EMFILE, libuv closes the pending
 * connections (its reserve descriptor trick); when it tells us, that too
 * is logged and counted.
 */
#include <sys/resource.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sockd/handler.h>

#include "config.h"
#include "conn.h"
#include "listener.h"
#include "log.h"
#include "service.h"
#include "steer.h"
#include "util.h"
#include "worker.h"

/* Keepalive on TCP connections: first probe after a minute of silence,
 * then every 10 s; 6 unanswered probes close it (about 2 minutes). */
#define LISTEN_KEEPIDLE		60
#define LISTEN_KEEPINTVL	10
#define LISTEN_KEEPCNT		6
/* UDP receive queue when rcvbuf is 0 (the kernel may allow less). */
#define LISTEN_UDP_RCVBUF	(4 << 20)

void
listener_name(unsigned int proto, const struct sockaddr *sa, char *buf,
    size_t len)
{
	char addr[80];

	snprintf(buf, len, "%s %s", proto_name(proto),
	    sockaddr_fmt(sa, addr, sizeof(addr)));
}

void
listen_opts_from(struct listen_opts *o, const struct svc_conf *sc, int n)
{
	o->keepalive = sc->keepalive;
	o->rcvbuf = (int)sc->rcvbuf;
	o->sndbuf = (int)sc->sndbuf;
	o->v6only = sc->v6only;
	o->ipv6_prefix = (int)sc->ipv6_prefix;
	o->group = n;
}

/* SO_RCVBUF/SO_SNDBUF: past the sysctl limit when root allows it, else as
 * far as the kernel lets. */
static int
sock_buf(int fd, int opt, int force, int bytes)
{
	if (setsockopt(fd, SOL_SOCKET, force, &bytes, sizeof(bytes)) == 0)
		return 0;
	return setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof(bytes));
}

/* Options set before bind.  Connections accepted from a TCP listener
 * inherit keepalive, its timers and the buffer sizes (Linux copies them
 * at accept, and libuv leaves them alone). */
static int
sock_options(int fd, unsigned int proto, int family,
    const struct listen_opts *o)
{
	int one = 1, v6only = o->v6only, rcvbuf = o->rcvbuf;
	int idle = LISTEN_KEEPIDLE, intvl = LISTEN_KEEPINTVL;
	int cnt = LISTEN_KEEPCNT;

	if (proto == SOCKD_TCP && o->keepalive &&
	    (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one,
	    sizeof(one)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle,
	    sizeof(idle)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl,
	    sizeof(intvl)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt,
	    sizeof(cnt)) == -1))
		return -1;
	/* A burst, or a flood from one source, must not push the other
	 * sources' datagrams out of a small default queue. */
	if (proto == SOCKD_UDP && rcvbuf == 0)
		(void)sock_buf(fd, SO_RCVBUF, SO_RCVBUFFORCE,
		    LISTEN_UDP_RCVBUF);
	else if (rcvbuf > 0 && sock_buf(fd, SO_RCVBUF, SO_RCVBUFFORCE,
	    rcvbuf) == -1)
		return -1;
	if (o->sndbuf > 0 && sock_buf(fd, SO_SNDBUF, SO_SNDBUFFORCE,
	    o->sndbuf) == -1)
		return -1;
	if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
	    &v6only, sizeof(v6only)) == -1)
		return -1;
	return 0;
}

int
listener_socket(unsigned int proto, const struct sockaddr *sa, int backlog,
    int reuseport, char *err, size_t errlen, const struct listen_opts *o)
{
	static const struct listen_opts defaults = { .keepalive = 1,
	    .v6only = 1, .ipv6_prefix = 64, .group = 1 };
	static int warned;
	char name[96];
	socklen_t len = sa->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int fd, one = 1, saved;

	if (o == NULL)
		o = &defaults;
	fd = socket(sa->sa_family, (proto == SOCKD_TCP ? SOCK_STREAM :
	    SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	if ((proto == SOCKD_TCP && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR,
	    &one, sizeof(one)) == -1) ||
	    (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
	    sizeof(one)) == -1) ||
	    sock_options(fd, proto, sa->sa_family, o) == -1 ||
	    bind(fd, sa, len) == -1 ||
	    (proto == SOCKD_TCP && listen(fd, backlog) == -1))
		goto fail;
	/* After listen: a TCP socket joins its group only then. */
	if (reuseport && o->group > 1 &&
	    steer_attach(fd, o->group, o->ipv6_prefix) == -1 && !warned) {
		warned = 1;
		listener_name(proto, sa, name, sizeof(name));
		log_warn("%s: cannot steer each client address to one "
		    "worker; per_source and rate count per worker", name);
	}
	return fd;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	listener_name(proto, sa, name, sizeof(name));
	snprintf(err, errlen, "cannot listen on %s: %s", name,
	    strerror(saved));
	return -1;
}

static pthread_once_t	 nofile_once = PTHREAD_ONCE_INIT;
static unsigned long	 nofile_max;	/* 0: no limit */
static unsigned long	 nofile_reserve;

static void
listener_nofile_init(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 ||
	    rl.rlim_cur == RLIM_INFINITY)
		return;
	nofile_max = (unsigned long)rl.rlim_cur;
	/* A sixteenth, 8 to 1024: a reload's check child and sockets, a
	 * plugin being loaded, the log, with room to spare. */
	nofile_reserve = nofile_max / 16;
	if (nofile_reserve < 8)
		nofile_reserve = 8;
	if (nofile_reserve > 1024)
		nofile_reserve = 1024;
}

int
listener_fds_short(int fd, unsigned int nconns)
{
	(void)pthread_once(&nofile_once, listener_nofile_init);
	if (nofile_max == 0)
		return 0;
	/* The kernel hands out the lowest free number: every one below fd
	 * is taken.  nconns catches the holes closed connections leave. */
	return (unsigned long)fd + nofile_reserve >= nofile_max ||
	    (unsigned long)nconns + nofile_reserve >= nofile_max;
}

unsigned long
listener_fds_limit(void)
{
	(void)pthread_once(&nofile_once, listener_nofile_init);
	return nofile_max;
}

static void
on_connection(uv_stream_t *server, int status)
{
	struct listener *l = server->data;
	struct svc_local *loc = &l->svc->local[l->w->id];
	unsigned int suppressed;

	if (status < 0) {
		/* EMFILE/ENFILE past the reserve: libuv has already shed
		 * the pending connections, closed without a word; count
		 * the event, log once per burst and go on. */
		if (status == UV_EMFILE || status == UV_ENFILE)
			loc->st.refused_nofds++;
		if (log_ratelimit(&l->rl, &suppressed))
			log_warnx("%s: %s: accept: %s", l->svc->conf.name,
			    l->text, uv_strerror(status));
		return;
	}
	conn_accept(l->w, server, l->svc);
}

static void
on_listener_close(uv_handle_t *h)
{
	struct listener *l = h->data;

	service_unref(l->svc);
	free(l);
}

struct listener *
listener_start(struct worker *w, struct newsock *ns)
{
	struct listener *l;
	int rc;

	l = xcalloc(1, sizeof(*l));
	l->proto = ns->proto;
	l->svc = ns->svc;
	l->w = w;
	l->addr = ns->addr;
	listener_name(l->proto, (struct sockaddr *)&l->addr, l->text,
	    sizeof(l->text));
	if (l->proto == SOCKD_TCP) {
		(void)uv_tcp_init_ex(w->loop, &l->u.tcp, AF_UNSPEC);
		l->u.tcp.data = l;
		if ((rc = uv_tcp_open(&l->u.tcp, ns->fd)) == 0)
			rc = uv_listen((uv_stream_t *)&l->u.tcp,
			    (int)l->svc->conf.backlog, on_connection);
	} else {
		(void)uv_udp_init_ex(w->loop, &l->u.udp,
		    AF_UNSPEC | UV_UDP_RECVMMSG);
		l->u.udp.data = l;
		if ((rc = uv_udp_open(&l->u.udp, ns->fd)) == 0)
			rc = uv_udp_recv_start(&l->u.udp, dgram_alloc,
			    dgram_recv);
	}
	if (rc < 0) {
		log_msg(LOG_ERR, "%s: %s: %s", l->svc->conf.name, l->text,
		    uv_strerror(rc));
		if (uv_fileno(&l->u.h, &(uv_os_fd_t){ 0 }) != 0)
			close(ns->fd);
		uv_close(&l->u.h, on_listener_close);
		return NULL;
	}
	if (w->id == 0)
		log_info("%s: listening on %s", l->svc->conf.name, l->text);
	return l;
}

int
listener_is(const struct listener *l, unsigned int proto,
    const struct sockaddr *sa)
{
	size_t len = sa->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);

	return l->proto == proto && l->addr.ss_family == sa->sa_family &&
	    memcmp(&l->addr, sa, len) == 0;
}

void
listener_close(struct listener *l)
{
	if (l->w->id == 0)
		log_info("%s: closing %s", l->svc->conf.name, l->text);
	if (l->proto == SOCKD_UDP)
		(void)uv_udp_recv_stop(&l->u.udp);
	uv_close(&l->u.h, on_listener_close);
}
