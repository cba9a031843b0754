/*
 * waitport: an exec service with wait = true, as inetd's "wait" entries
 * (tftpd, talkd): the program gets the service's socket itself as fd 0
 * and 1, and sockd stays off it while the program runs.  A uv_poll (not
 * uv_udp_recv_start, which would read the datagrams) tells when the
 * socket is readable; then:
 *
 *  - UDP: the first datagram's source is peeked (MSG_PEEK) and checked
 *    as dgram.c checks every datagram: low ports and broadcast sources,
 *    allow/deny, rate.  A refused datagram is read and dropped (at most
 *    64 a turn), an admitted one stays queued for the program;
 *  - TCP: the program accepts the connection itself (admission is its
 *    business then; sockd cannot see the peer without accepting).
 *
 * Polling stops, the program starts (handoff.c; the socket is made
 * blocking, as inetd gives it), and polling resumes when it exits.  A
 * program that could not start costs the datagram that woke it (dropped,
 * so that a failing spawn cannot spin the loop); one that exits without
 * reading is started again for the same datagram, within the service's
 * rate.  Each running program holds the worker's drain (conn_ctx_hold()),
 * so SIGTERM, drain_timeout and "exits once they are gone" are the same
 * as for connections.  The waitport is freed when it is closed and its
 * program, if any, is gone.  Wait services are served by worker 0 only.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sockd/handler.h>

#include "acl.h"
#include "conn.h"
#include "exec.h"
#include "handoff.h"
#include "log.h"
#include "service.h"
#include "sources.h"
#include "spawn.h"
#include "util.h"
#include "waitport.h"

#define DROP_BUDGET	64		/* refused datagrams read per turn */

struct waitport {
	uv_poll_t		 poll;
	int			 fd;
	unsigned int		 proto;
	int			 id;
	struct conn_ctx		*cc;
	struct spawn_client	*spawn;
	struct service		*svc;		/* a reference */
	const char		*name;
	int			 busy;		/* a program runs */
	int			 closed;	/* waitport_close() */
	int			 handle_open;
};

int
waitport_wants(const struct service *s)
{
	return s->h != NULL && exec_handler(s->h) &&
	    ((const struct exec_conf *)s->port_state)->wait;
}

static void	on_poll(uv_poll_t *, int, int);

static void
waitport_free(struct waitport *w)
{
	if (w->busy || w->handle_open)
		return;
	(void)close(w->fd);
	service_unref(w->svc);
	free(w);
}

static void
on_poll_close(uv_handle_t *h)
{
	struct waitport *w = h->data;

	w->handle_open = 0;
	waitport_free(w);
}

static void
waitport_resume(struct waitport *w)
{
	if (!w->closed)
		(void)uv_poll_start(&w->poll, UV_READABLE, on_poll);
}

static void
waitport_gone(void *arg, int ran)
{
	struct waitport *w = arg;
	char b;

	/* Not started: the datagram that woke it goes, or it would wake
	 * it again at once. */
	if (!ran && w->proto == SOCKD_UDP)
		(void)recv(w->fd, &b, 1, MSG_DONTWAIT);
	w->busy = 0;
	conn_ctx_release(w->cc);
	if (w->closed)
		waitport_free(w);
	else
		waitport_resume(w);
}

/* The first datagram queued is admitted (1), dropped (0), or there is
 * none (-1). */
static int
waitport_screen(struct waitport *w, struct sockaddr_storage *from)
{
	struct service *s = w->svc;
	const struct svc_conf *sc = &s->conf;
	struct svc_local *l = &s->local[w->id];
	socklen_t flen = sizeof(*from);
	struct srcent *e;
	uint8_t key[16];
	char b;
	uint64_t now = uv_now(w->poll.loop);

	if (recvfrom(w->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT,
	    (struct sockaddr *)from, &flen) == -1)
		return -1;
	stat_inc(&l->st.dgrams);
	if ((from->ss_family != AF_INET && from->ss_family != AF_INET6) ||
	    (sc->drop_low_ports && sockaddr_port((struct sockaddr *)from) <
	    1024)) {
		stat_inc(&l->st.dropped_source);
		goto drop;
	}
	if (!acl_allowed(&sc->acl, (struct sockaddr *)from)) {
		stat_inc(&l->st.dropped_acl);
		goto drop;
	}
	if (sc->rate > 0) {
		limits_key((struct sockaddr *)from, (int)sc->ipv6_prefix, key);
		e = srctab_get(&l->src, key, (double)sc->burst, now);
		if (!srcent_take(e, (double)sc->rate, (double)sc->burst,
		    now)) {
			stat_inc(&l->st.dropped_rate);
			goto drop;
		}
	}
	return 1;
drop:
	(void)recv(w->fd, &b, 1, MSG_DONTWAIT);
	return 0;
}

static void
on_poll(uv_poll_t *h, int status, int events)
{
	struct waitport *w = h->data;
	struct sockaddr_storage from, local;
	socklen_t llen = sizeof(local);
	const struct sockaddr *peer = NULL;
	int i, rc;

	if (w->busy || w->closed)
		return;
	if (w->proto == SOCKD_UDP) {
		for (i = 0; i < DROP_BUDGET; i++)
			if ((rc = waitport_screen(w, &from)) != 0)
				break;
		if (i == DROP_BUDGET || rc == -1)
			return;
		peer = (struct sockaddr *)&from;
	}
	(void)uv_poll_stop(&w->poll);
	memset(&local, 0, sizeof(local));
	(void)getsockname(w->fd, (struct sockaddr *)&local, &llen);
	(void)fcntl(w->fd, F_SETFL, fcntl(w->fd, F_GETFL) & ~O_NONBLOCK);
	w->busy = 1;
	conn_ctx_hold(w->cc);
	if (handoff_start(w->spawn, w->svc, &w->svc->local[w->id], w->fd,
	    w->proto, peer, (struct sockaddr *)&local, waitport_gone, w) ==
	    -1)
		waitport_gone(w, 0);
}

struct waitport *
waitport_start(uv_loop_t *loop, struct conn_ctx *cc,
    struct spawn_client *spawn, int id, unsigned int proto, int fd,
    struct service *s, const char *name)
{
	struct waitport *w = xcalloc(1, sizeof(*w));
	int rc;

	w->fd = fd;
	w->proto = proto;
	w->id = id;
	w->cc = cc;
	w->spawn = spawn;
	w->svc = s;
	w->name = name;
	service_ref(s);
	if ((rc = uv_poll_init(loop, &w->poll, fd)) != 0) {
		log_err("%s: %s: %s", s->conf.name, name, uv_strerror(rc));
		waitport_free(w);
		return NULL;
	}
	w->poll.data = w;
	w->handle_open = 1;
	waitport_resume(w);
	return w;
}

void
waitport_serve(struct waitport *w, struct service *s)
{
	if (s == w->svc)
		return;
	service_ref(s);
	service_unref(w->svc);
	w->svc = s;
}

void
waitport_close(struct waitport *w)
{
	w->closed = 1;
	if (w->handle_open && !uv_is_closing((uv_handle_t *)&w->poll))
		uv_close((uv_handle_t *)&w->poll, on_poll_close);
}
