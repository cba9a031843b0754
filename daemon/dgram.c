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
 * log line.
 *
 * Replies are batched: libuv hands over the datagrams of one recvmmsg (up
 * to 20, its most, with the buffer given) one by one and then calls back
 * once more with no address (the end of the batch).  Each reply a handler
 * makes is copied into the loop's reply batch (struct dgram_batch; the
 * receive buffer is reused, the handler's bytes live only during its
 * call), and the batch goes out with one sendmmsg on the socket's fd at
 * the end of the receive batch, or sooner when it is full or a reply is
 * for another socket (libuv 1.44 has no batched send).  Holding the
 * replies until the socket is empty would make fewer, larger sendmmsg,
 * but with clients that wait for their answers it sends them just before
 * the loop sleeps: at 32 requests in flight the loop then woke five times
 * as often, each wake-up finding two datagrams instead of twelve.  Sent
 * at the end of each batch, the answers bring the next requests while
 * libuv still reads.  A datagram read alone (no recvmmsg) is answered
 * right after its handler.  A reply the kernel does not take is dropped and
 * counted, and the others still go: sendmmsg stops at the first failure,
 * which is skipped, and the rest is sent again.  Without sendmmsg
 * (ENOSYS) each reply is its own sendmsg.
 *
 * No amplifier: each received datagram carries a budget, its size plus
 * max_reply_growth, and every send it causes (sockd_dgram_reply and each
 * sockd_dgram_send_to, to the sender or to anyone else) is taken from that
 * budget; a send past what is left, or larger than max_reply, is refused
 * and counted as dropped.  So one datagram never makes sockd send more than
 * max_reply_growth bytes over its own size in total, however many sends
 * the handler tries (max_reply_growth = -1 lifts the budget).  A send is
 * charged when it is queued, and a queued send the kernel refuses later is
 * counted as dropped, as one refused at once is.  Nothing here
 * logs per datagram at the default level.  A socket is seen through struct
 * dgram_port, which its listener keeps pointing at the service it serves
 * now.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <netinet/in.h>
#include <errno.h>
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
#define DGRAM_BATCH	32		/* replies per sendmmsg */
#define DGRAM_REPLY_MAX	65536		/* max_reply is at most 65507 */

/* The replies queued during one receive batch, all for one socket. */
struct dgram_batch {
	struct dgram_port	*port;		/* NULL: nothing queued */
	int			 fd;
	int			 nommsg;	/* sendmmsg is ENOSYS */
	unsigned int		 n;
	size_t			 used;		/* bytes of buf */
	struct mmsghdr		 msg[DGRAM_BATCH];
	struct iovec		 iov[DGRAM_BATCH];
	struct sockaddr_storage	 to[DGRAM_BATCH];
	char			 buf[DGRAM_BATCH * DGRAM_REPLY_MAX];
};

void
dgram_ctx_init(struct dgram_ctx *ctx, uv_loop_t *loop, int id)
{
	struct dgram_batch *b;
	int i;

	ctx->loop = loop;
	ctx->id = id;
	/* Pages of ubuf and buf untouched by datagrams cost no memory. */
	ctx->ubuf = xcalloc(1, UBUF_SIZE);
	ctx->batch = b = xcalloc(1, sizeof(*ctx->batch));
	/* Sending leaves the headers as they are: only a reply's address
	 * length and bytes change. */
	for (i = 0; i < DGRAM_BATCH; i++) {
		b->msg[i].msg_hdr.msg_name = &b->to[i];
		b->msg[i].msg_hdr.msg_iov = &b->iov[i];
		b->msg[i].msg_hdr.msg_iovlen = 1;
	}
}

void
dgram_ctx_free(struct dgram_ctx *ctx)
{
	free(ctx->ubuf);
	ctx->ubuf = NULL;
	free(ctx->batch);
	ctx->batch = NULL;
}

/* The counters of the worker a socket belongs to. */
static struct svc_stats *
dgram_port_stats(const struct dgram_port *l)
{
	return &l->svc->local[l->ctx->id].st;
}

/* Counts reply i of b as dropped; err is an errno value. */
static void
dgram_batch_drop(struct dgram_batch *b, unsigned int i, int err)
{
	struct dgram_port *l = b->port;

	stat_inc(&dgram_port_stats(l)->dropped_send);
	if (log_get_level() >= LOG_DEBUG)
		log_debug("%s: %s: send of %zu bytes: %s", l->svc->conf.name,
		    l->name, b->iov[i].iov_len, strerror(err));
}

/* Counts replies i to j - 1 of b as sent. */
static void
dgram_batch_sent(struct dgram_batch *b, unsigned int i, unsigned int j)
{
	struct svc_stats *st = dgram_port_stats(b->port);

	for (; i < j; i++) {
		stat_inc(&st->replies);
		stat_add(&st->udp_out, b->iov[i].iov_len);
	}
}

/* Sends replies i and on of b one by one. */
static void
dgram_batch_send_each(struct dgram_batch *b, unsigned int i)
{
	ssize_t rc;

	for (; i < b->n; i++) {
		do
			rc = sendmsg(b->fd, &b->msg[i].msg_hdr, 0);
		while (rc < 0 && errno == EINTR);
		if (rc < 0)
			dgram_batch_drop(b, i, errno);
		else
			dgram_batch_sent(b, i, i + 1);
	}
}

/* Sends every queued reply of ctx, counting each one sent or dropped, and
 * empties the batch. */
static void
dgram_batch_flush(struct dgram_ctx *ctx)
{
	struct dgram_batch *b = ctx->batch;
	unsigned int i = 0;
	int rc;

	if (b->n == 0)
		return;
	while (i < b->n && !b->nommsg) {
		rc = sendmmsg(b->fd, &b->msg[i], b->n - i, 0);
		if (rc > 0) {
			dgram_batch_sent(b, i, i + (unsigned int)rc);
			i += (unsigned int)rc;
			continue;
		}
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0 && errno == ENOSYS) {
			b->nommsg = 1;
			break;
		}
		/* The kernel refused the first of the rest (full buffer,
		 * unreachable destination): drop it alone, send the rest. */
		dgram_batch_drop(b, i++, rc < 0 ? errno : EIO);
	}
	if (b->nommsg)
		dgram_batch_send_each(b, i);
	b->n = 0;
	b->used = 0;
	b->port = NULL;
}

/* Copies one reply into the batch of l's loop; -1 when to cannot be sent
 * to at all. */
static int
dgram_batch_add(struct dgram_port *l, const struct sockaddr *to,
    const void *p, size_t len)
{
	struct dgram_ctx *ctx = l->ctx;
	struct dgram_batch *b = ctx->batch;
	struct msghdr *m;
	socklen_t tolen;
	uv_os_fd_t fd;

	if (to->sa_family == AF_INET)
		tolen = sizeof(struct sockaddr_in);
	else if (to->sa_family == AF_INET6)
		tolen = sizeof(struct sockaddr_in6);
	else
		return -1;
	if (b->n > 0 && (b->port != l || b->n == DGRAM_BATCH ||
	    b->used + len > sizeof(b->buf)))
		dgram_batch_flush(ctx);
	if (b->n == 0) {
		if (uv_fileno((uv_handle_t *)l->udp, &fd) != 0)
			return -1;
		b->port = l;
		b->fd = fd;
	}
	/* Sizes the compiler knows: two moves, not a copy loop.  The rest
	 * of msg[n] was set once, in dgram_ctx_init(). */
	if (to->sa_family == AF_INET)
		memcpy(&b->to[b->n], to, sizeof(struct sockaddr_in));
	else
		memcpy(&b->to[b->n], to, sizeof(struct sockaddr_in6));
	memcpy(b->buf + b->used, p, len);
	b->iov[b->n].iov_base = b->buf + b->used;
	b->iov[b->n].iov_len = len;
	m = &b->msg[b->n].msg_hdr;
	m->msg_namelen = tolen;
	b->used += len;
	b->n++;
	return 0;
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
		/* The end of a recvmmsg batch, nothing more to read, or an
		 * error. */
		dgram_batch_flush(l->ctx);
		if (n < 0)
			service_logx(s, loc, "%s: receive: %s", l->name,
			    uv_strerror((int)n));
		return;
	}
	stat_inc(&loc->st.dgrams);
	if (n < 0 || (flags & UV_UDP_PARTIAL)) {
		stat_inc(&loc->st.dropped_truncated);
		return;
	}
	stat_add(&loc->st.udp_in, (uint64_t)n);
	if (dgram_bad_source(from, sc->drop_low_ports)) {
		stat_inc(&loc->st.dropped_source);
		return;
	}
	/* No lists (the default): no call per datagram. */
	if ((sc->acl.nallow > 0 || sc->acl.ndeny > 0 || sc->acl.has_allow) &&
	    !acl_allowed(&sc->acl, from)) {
		stat_inc(&loc->st.dropped_acl);
		return;
	}
	if (sc->rate > 0) {
		now = uv_now(l->ctx->loop);
		limits_key(from, (int)sc->ipv6_prefix, key);
		e = srctab_get(&loc->src, key, (double)sc->burst, now);
		if (!srcent_take(e, (double)sc->rate, (double)sc->burst,
		    now)) {
			stat_inc(&loc->st.dropped_rate);
			return;
		}
	}
	d.l = l;
	d.from = from;
	d.budget = sc->max_reply_growth < 0 ? DGRAM_NO_BUDGET :
	    (size_t)n + (size_t)sc->max_reply_growth;
	s->h->udp_datagram(&d, buf->base, (size_t)n);
	/* Read alone, not in a recvmmsg batch: no end-of-batch call comes. */
	if (!(flags & UV_UDP_MMSG_CHUNK))
		dgram_batch_flush(l->ctx);
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
	return dgram_port_stats(d->l);
}

int
sockd_dgram_send_to(struct sockd_dgram *d, const struct sockaddr *to,
    const void *p, size_t len)
{
	struct service *s = d->l->svc;

	if (len > sockd_dgram_reply_max(d)) {
		stat_inc(&dgram_stats(d)->dropped_budget);
		return -1;
	}
	if (dgram_batch_add(d->l, to, p, len) < 0) {
		stat_inc(&dgram_stats(d)->dropped_send);
		if (log_get_level() >= LOG_DEBUG)
			log_debug("%s: %s: send: %s", s->conf.name,
			    d->l->name, uv_strerror(UV_EINVAL));
		return -1;
	}
	if (d->budget != DGRAM_NO_BUDGET)
		d->budget -= len;
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
	stat_inc(&dgram_stats(d)->dropped_handler);
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
