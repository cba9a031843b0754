/*
 * listener: one bound socket.  TCP listeners accept and pass each new
 * connection to conn_accept() with the service the listener serves now;
 * UDP sockets receive through recvmmsg into the worker's shared buffer
 * (dgram.c).  IPv6 sockets are v6-only, so "0.0.0.0" and "::" listen side
 * by side on one port.  UDP sockets do not set SO_REUSEADDR, so a second
 * daemon on the same port is an error rather than a silent split.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sockd/handler.h>

#include "config.h"
#include "conn.h"
#include "listener.h"
#include "log.h"
#include "service.h"
#include "util.h"
#include "worker.h"

static void
on_connection(uv_stream_t *server, int status)
{
	struct listener *l = server->data;
	static struct ratelimit rl;
	unsigned int suppressed;

	if (status < 0) {
		/* EMFILE/ENFILE: libuv has already shed the pending
		 * connection; log once per burst and go on. */
		if (log_ratelimit(&rl, &suppressed))
			log_warnx("%s: %s: accept: %s", l->svc->conf.name,
			    l->text, uv_strerror(status));
		return;
	}
	conn_accept(l->w, server, l->svc);
}

static void
on_listener_close(uv_handle_t *h)
{
	free(h->data);
}

struct listener *
listener_open(struct worker *w, struct service *s, unsigned int proto,
    const struct bindaddr *b, int port, char *err, size_t errlen)
{
	struct listener *l;
	char addr[80];
	int rc, v6;

	l = xcalloc(1, sizeof(*l));
	l->proto = proto;
	l->svc = s;
	l->w = w;
	l->addr = b->ss;
	v6 = b->ss.ss_family == AF_INET6;
	if (v6)
		((struct sockaddr_in6 *)(void *)&l->addr)->sin6_port =
		    htons((uint16_t)port);
	else
		((struct sockaddr_in *)(void *)&l->addr)->sin_port =
		    htons((uint16_t)port);
	snprintf(l->text, sizeof(l->text), "%s %s", proto_name(proto),
	    sockaddr_fmt((struct sockaddr *)&l->addr, addr, sizeof(addr)));
	if (proto == SOCKD_TCP) {
		if ((rc = uv_tcp_init_ex(w->loop, &l->u.tcp,
		    b->ss.ss_family)) < 0)
			goto fail;
		l->u.tcp.data = l;
		if ((rc = uv_tcp_bind(&l->u.tcp, (struct sockaddr *)&l->addr,
		    v6 ? UV_TCP_IPV6ONLY : 0)) < 0 ||
		    (rc = uv_listen((uv_stream_t *)&l->u.tcp,
		    (int)s->conf.backlog, on_connection)) < 0)
			goto fail_close;
	} else {
		if ((rc = uv_udp_init_ex(w->loop, &l->u.udp,
		    b->ss.ss_family | UV_UDP_RECVMMSG)) < 0)
			goto fail;
		l->u.udp.data = l;
		if ((rc = uv_udp_bind(&l->u.udp, (struct sockaddr *)&l->addr,
		    v6 ? UV_UDP_IPV6ONLY : 0)) < 0 ||
		    (rc = uv_udp_recv_start(&l->u.udp, dgram_alloc,
		    dgram_recv)) < 0)
			goto fail_close;
	}
	log_info("%s: listening on %s", s->conf.name, l->text);
	return l;
fail_close:
	snprintf(err, errlen, "service \"%s\": cannot listen on %s: %s",
	    s->conf.name, l->text, uv_strerror(rc));
	uv_close(&l->u.h, on_listener_close);
	return NULL;
fail:
	snprintf(err, errlen, "service \"%s\": cannot listen on %s: %s",
	    s->conf.name, l->text, uv_strerror(rc));
	free(l);
	return NULL;
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
	log_info("%s: closing %s", l->svc->conf.name, l->text);
	if (l->proto == SOCKD_UDP)
		(void)uv_udp_recv_stop(&l->u.udp);
	uv_close(&l->u.h, on_listener_close);
}
