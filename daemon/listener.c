/*
 * listener: one bound socket of one worker.  The supervisor creates and
 * binds every socket (listener_socket), so bind errors surface before
 * anything changes; the worker then wraps it in a libuv handle on its own
 * loop (listener_start), with the loop's connection and datagram
 * contexts it was given (struct listener_env), and never learns what a
 * worker is.  TCP listeners pass each new connection to conn_accept()
 * with the service the listener serves now; UDP sockets receive through
 * recvmmsg into the loop's shared buffer (dgram.c), which sees the
 * socket as a struct dgram_port kept pointing at the same service.
 * IPv6 sockets are v6-only unless the service says v6only = false, so
 * "0.0.0.0" and "::" listen side by side on one port.  SO_REUSEPORT is set
 * only when several workers share an address; otherwise a UDP port held by
 * another program is a bind error rather than a silent split of its
 * traffic.  A reuseport group steers each source address to one worker
 * (steer.c), so that per_source and rate hold across workers.  Without
 * root, the spawner creates and binds the sockets (spawner_bind()), so
 * that a group belongs to uid 0 whoever asks; listener_adopt() sets the
 * rest on what it sends back.  Socket
 * options set on a TCP listener (keepalive, buffers) are inherited by the
 * connections it accepts.
 *
 * Descriptors are kept in reserve at admission (conn.c).  Should accept()
 * itself still fail with EMFILE, libuv closes the pending connections (its
 * reserve descriptor trick); when it tells us, that is logged and counted.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sockd/handler.h>

#include "config.h"
#include "conn.h"
#include "dgram.h"
#include "listener.h"
#include "log.h"
#include "service.h"
#include "steer.h"
#include "util.h"
#include "waitport.h"

/* Keepalive on TCP connections: first probe after a minute of silence,
 * then every 10 s; 6 unanswered probes close it (about 2 minutes). */
#define LISTEN_KEEPIDLE		60
#define LISTEN_KEEPINTVL	10
#define LISTEN_KEEPCNT		6
/* UDP receive queue when rcvbuf is 0 (the kernel may allow less). */
#define LISTEN_UDP_RCVBUF	(4 << 20)

static const struct listen_opts listen_defaults = { .keepalive = 1,
    .v6only = 1, .ipv6_prefix = 64, .group = 1 };

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
    const struct listen_opts *o, int bound)
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
	/* Bound already, the spawner set it (it cannot change now). */
	if (!bound && family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY,
	    &v6only, sizeof(v6only)) == -1)
		return -1;
	return 0;
}

/* Listens (TCP) on the bound fd and steers its group: 0, or -1 (errno). */
static int
sock_ready(int fd, unsigned int proto, const struct sockaddr *sa,
    int backlog, int reuseport, const struct listen_opts *o)
{
	static int warned;
	char name[96];

	if (proto == SOCKD_TCP && listen(fd, backlog) == -1)
		return -1;
	/* After listen: a TCP socket joins its group only then. */
	if (reuseport && o->group > 1 &&
	    steer_attach(fd, o->group, o->ipv6_prefix) == -1 && !warned) {
		warned = 1;
		listener_name(proto, sa, name, sizeof(name));
		log_warn("%s: cannot steer each client address to one "
		    "worker; per_source and rate count per worker", name);
	}
	return 0;
}

int
listener_fail(int fd, int saved, unsigned int proto,
    const struct sockaddr *sa, char *err, size_t errlen)
{
	char name[96];

	if (fd != -1)
		close(fd);
	listener_name(proto, sa, name, sizeof(name));
	/* After the privilege drop (a reload), say what would bind it. */
	if (saved == EACCES && sockaddr_port(sa) < IPPORT_RESERVED &&
	    geteuid() != 0)
		snprintf(err, errlen, "cannot listen on %s: permission "
		    "denied: ports below 1024 need root or "
		    "CAP_NET_BIND_SERVICE (AmbientCapabilities="
		    "CAP_NET_BIND_SERVICE in the unit); restart sockd to bind "
		    "it as root", name);
	else
		snprintf(err, errlen, "cannot listen on %s: %s", name,
		    strerror(saved));
	return -1;
}

int
listener_socket(unsigned int proto, const struct sockaddr *sa, int backlog,
    int reuseport, char *err, size_t errlen, const struct listen_opts *o)
{
	socklen_t len = sa->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int fd, one = 1;

	if (o == NULL)
		o = &listen_defaults;
	fd = socket(sa->sa_family, (proto == SOCKD_TCP ? SOCK_STREAM :
	    SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return listener_fail(-1, errno, proto, sa, err, errlen);
	if ((proto == SOCKD_TCP && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR,
	    &one, sizeof(one)) == -1) ||
	    (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
	    sizeof(one)) == -1) ||
	    sock_options(fd, proto, sa->sa_family, o, 0) == -1 ||
	    bind(fd, sa, len) == -1 ||
	    sock_ready(fd, proto, sa, backlog, reuseport, o) == -1)
		return listener_fail(fd, errno, proto, sa, err, errlen);
	return fd;
}

int
listener_adopt(int fd, unsigned int proto, const struct sockaddr *sa,
    int backlog, int reuseport, char *err, size_t errlen,
    const struct listen_opts *o)
{
	if (o == NULL)
		o = &listen_defaults;
	if (sock_options(fd, proto, sa->sa_family, o, 1) == -1 ||
	    sock_ready(fd, proto, sa, backlog, reuseport, o) == -1)
		return listener_fail(fd, errno, proto, sa, err, errlen);
	return fd;
}

static void
on_connection(uv_stream_t *server, int status)
{
	struct listener *l = server->data;
	struct svc_local *loc = &l->svc->local[l->env->id];
	unsigned int suppressed;

	if (status < 0) {
		/* EMFILE/ENFILE past the reserve: libuv has already shed
		 * the pending connections, closed without a word; count
		 * the event, log once per burst and go on. */
		if (status == UV_EMFILE || status == UV_ENFILE)
			stat_inc(&loc->st.refused_nofds);
		if (log_ratelimit(&l->rl, &suppressed))
			log_warnx("%s: %s: accept: %s", l->svc->conf.name,
			    l->text, uv_strerror(status));
		return;
	}
	conn_accept(l->env->cc, server, l->svc);
}

static void
on_listener_close(uv_handle_t *h)
{
	/* The handle comes first; a UDP one's data is dgram.c's. */
	struct listener *l = (struct listener *)h;

	service_unref(l->svc);
	free(l);
}

/*
 * uv_udp_open() sets SO_REUSEADDR, with which any process of any user may
 * bind the same UDP address and receive its datagrams: cleared, the kernel
 * refuses them (the flag counts when the other binds).
 */
static void
listener_unshare(struct listener *l)
{
	uv_os_fd_t fd;
	int zero = 0;

	if (uv_fileno(&l->u.h, &fd) == 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &zero,
	    sizeof(zero)) == -1)
		log_warn("%s: cannot clear SO_REUSEADDR", l->text);
}

struct listener *
listener_start(const struct listener_env *env, unsigned int proto,
    const struct sockaddr *sa, int fd, struct service *svc)
{
	struct listener *l;
	int rc;

	l = xcalloc(1, sizeof(*l));
	l->proto = proto;
	l->svc = svc;
	service_ref(svc);
	l->env = env;
	memcpy(&l->addr, sa, sa->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	listener_name(l->proto, (struct sockaddr *)&l->addr, l->text,
	    sizeof(l->text));
	if (waitport_wants(svc)) {
		if (l->proto == SOCKD_UDP)
			(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR,
			    &(int){ 0 }, sizeof(int));
		if ((l->wp = waitport_start(env->loop, env->cc, env->spawn,
		    env->id, proto, fd, svc, l->text)) == NULL) {
			service_unref(svc);
			free(l);
			return NULL;
		}
		if (env->id == 0)
			log_info("%s: listening on %s (wait)",
			    l->svc->conf.name, l->text);
		return l;
	}
	if (l->proto == SOCKD_TCP) {
		(void)uv_tcp_init_ex(env->loop, &l->u.tcp, AF_UNSPEC);
		l->u.tcp.data = l;
		if ((rc = uv_tcp_open(&l->u.tcp, fd)) == 0)
			rc = uv_listen((uv_stream_t *)&l->u.tcp,
			    (int)l->svc->conf.backlog, on_connection);
	} else {
		(void)uv_udp_init_ex(env->loop, &l->u.udp,
		    AF_UNSPEC | UV_UDP_RECVMMSG);
		l->dp.udp = &l->u.udp;
		l->dp.svc = svc;
		l->dp.name = l->text;
		l->dp.ctx = env->dc;
		if ((rc = uv_udp_open(&l->u.udp, fd)) == 0)
			rc = dgram_start(&l->dp);
	}
	if (rc < 0) {
		log_err("%s: %s: %s", l->svc->conf.name, l->text,
		    uv_strerror(rc));
		if (uv_fileno(&l->u.h, &(uv_os_fd_t){ 0 }) != 0)
			close(fd);
		uv_close(&l->u.h, on_listener_close);
		return NULL;
	}
	if (l->proto == SOCKD_UDP)
		listener_unshare(l);
	if (env->id == 0)
		log_info("%s: listening on %s", l->svc->conf.name, l->text);
	return l;
}

void
listener_serve(struct listener *l, struct service *svc)
{
	struct service *old = l->svc;

	if (svc == old)
		return;
	service_ref(svc);
	l->svc = svc;
	l->dp.svc = svc;
	if (l->wp != NULL)
		waitport_serve(l->wp, svc);
	service_unref(old);
}

void
listener_close(struct listener *l)
{
	if (l->env->id == 0)
		log_info("%s: closing %s", l->svc->conf.name, l->text);
	if (l->wp != NULL) {
		waitport_close(l->wp);
		service_unref(l->svc);
		free(l);
		return;
	}
	if (l->proto == SOCKD_UDP)
		(void)uv_udp_recv_stop(&l->u.udp);
	uv_close(&l->u.h, on_listener_close);
}
