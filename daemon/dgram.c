/*
 * dgram: the UDP request/reply path.  Datagrams arrive in batches through
 * recvmmsg into the loop's shared buffer (struct dgram_ctx) and are
 * screened before the handler sees them: truncated ones, sources that
 * cannot be answered safely (broadcast, multicast, ports below 1024: other
 * servers, whose replies to our replies would make a loop), allow/deny,
 * and the per-source rate.  The rate check comes right after the screening
 * that costs nothing (size, source address, allow/deny) and is O(1)
 * without allocation: the source table remembers the entry it found last,
 * so a flood from one address skips even the hash lookup, and a datagram
 * over its source's rate is dropped before the handler sees it, without a
 * log line.  Replies are sent at once with uv_udp_try_send, never queued:
 * one that the kernel does not take is dropped and counted.
 *
 * No amplifier: each received datagram carries a budget, its size plus
 * max_reply_growth, and every send it causes (sockd_dgram_reply and each
 * sockd_dgram_send_to, to the sender or to anyone else) is taken from that
 * budget; a send past what is left, or larger than max_reply, is refused
 * and counted as dropped.  So one datagram never makes sockd send more than
 * max_reply_growth bytes over its own size in total, however many sends
 * the handler tries (max_reply_growth = -1 lifts the budget).  Nothing here
 * logs per datagram at the default level.  A socket is seen through struct
 * dgram_port, which its listener keeps pointing at the service it serves
 * now.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sockd/handler.h>

#include "acl.h"
#include "config.h"
#include "dgram.h"
#include "log.h"
#include "service.h"
#include "util.h"

struct sockd_dgram {
	struct dgram_port	*l;
	const struct sockaddr	*from;
	size_t			 budget;	/* bytes it may still cause */
};

#define DGRAM_NO_BUDGET	SIZE_MAX	/* max_reply_growth = -1 */

void
dgram_ctx_init(struct dgram_ctx *ctx, uv_loop_t *loop, int id)
{
	ctx->loop = loop;
	ctx->id = id;
	ctx->ubuf = xcalloc(1, UBUF_SIZE);
}

void
dgram_ctx_free(struct dgram_ctx *ctx)
{
	free(ctx->ubuf);
	ctx->ubuf = NULL;
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct dgram_port *l = h->data;

	buf->base = l->ctx->ubuf;
	buf->len = UBUF_SIZE;
}

/* Sources a reply must never go to. */
static int
dgram_bad_source(const struct sockaddr *sa, int drop_low_ports)
{
	const struct sockaddr_in *sin = (const void *)sa;
	const struct sockaddr_in6 *sin6 = (const void *)sa;
	uint32_t a;

	if (drop_low_ports && sockaddr_port(sa) < 1024)
		return 1;
	if (sa->sa_family == AF_INET) {
		a = ntohl(sin->sin_addr.s_addr);
		return a == INADDR_BROADCAST || a == INADDR_ANY ||
		    IN_MULTICAST(a);
	}
	return IN6_IS_ADDR_MULTICAST(&sin6->sin6_addr) ||
	    IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
}

static void
on_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf,
    const struct sockaddr *from, unsigned int flags)
{
	struct dgram_port *l = h->data;
	struct service *s = l->svc;
	const struct svc_conf *sc = &s->conf;
	struct svc_local *loc = &s->local[l->ctx->id];
	struct sockd_dgram d;
	struct srcent *e;
	uint8_t key[16];
	uint64_t now;

	if (from == NULL) {
		/* Nothing more to read, or the end of a recvmmsg batch. */
		if (n < 0)
			service_logx(s, loc, "%s: receive: %s", l->name,
			    uv_strerror((int)n));
		return;
	}
	loc->st.dgrams++;
	if (n < 0 || (flags & UV_UDP_PARTIAL) ||
	    dgram_bad_source(from, sc->drop_low_ports) ||
	    !acl_allowed(&sc->acl, from)) {
		loc->st.dropped++;
		return;
	}
	if (sc->rate > 0) {
		now = uv_now(l->ctx->loop);
		limits_key(from, (int)sc->ipv6_prefix, key);
		e = srctab_get(&loc->src, key, (double)sc->burst, now);
		if (!srcent_take(e, (double)sc->rate, (double)sc->burst,
		    now)) {
			loc->st.dropped++;
			return;
		}
	}
	d.l = l;
	d.from = from;
	d.budget = sc->max_reply_growth < 0 ? DGRAM_NO_BUDGET :
	    (size_t)n + (size_t)sc->max_reply_growth;
	s->h->udp_datagram(&d, buf->base, (size_t)n);
}

int
dgram_start(struct dgram_port *p)
{
	p->udp->data = p;
	return uv_udp_recv_start(p->udp, on_alloc, on_recv);
}

size_t
sockd_dgram_reply_max(const struct sockd_dgram *d)
{
	size_t max = (size_t)d->l->svc->conf.max_reply;

	return d->budget < max ? d->budget : max;
}

/* The counters of the worker d arrived on. */
static struct svc_stats *
dgram_stats(const struct sockd_dgram *d)
{
	return &d->l->svc->local[d->l->ctx->id].st;
}

int
sockd_dgram_send_to(struct sockd_dgram *d, const struct sockaddr *to,
    const void *p, size_t len)
{
	struct service *s = d->l->svc;
	uv_buf_t b;
	int rc;

	if (len > sockd_dgram_reply_max(d)) {
		dgram_stats(d)->dropped++;
		return -1;
	}
	b = uv_buf_init((char *)p, (unsigned int)len);
	if ((rc = uv_udp_try_send(d->l->udp, &b, 1, to)) < 0) {
		dgram_stats(d)->dropped++;
		if (log_get_level() >= LOG_DEBUG)
			log_debug("%s: %s: send: %s", s->conf.name,
			    d->l->name, uv_strerror(rc));
		return -1;
	}
	if (d->budget != DGRAM_NO_BUDGET)
		d->budget -= len;
	dgram_stats(d)->replies++;
	return 0;
}

int
sockd_dgram_reply(struct sockd_dgram *d, const void *p, size_t len)
{
	return sockd_dgram_send_to(d, d->from, p, len);
}

void
sockd_dgram_drop(struct sockd_dgram *d)
{
	dgram_stats(d)->dropped++;
}

void *
sockd_dgram_port_state(const struct sockd_dgram *d)
{
	return d->l->svc->port_state;
}

const char *
sockd_dgram_peer(const struct sockd_dgram *d)
{
	static _Thread_local char buf[64];

	return sockaddr_fmt(d->from, buf, sizeof(buf));
}

const struct sockaddr *
sockd_dgram_peer_addr(const struct sockd_dgram *d)
{
	return d->from;
}
