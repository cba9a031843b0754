/*
 * connq: what a connection writes.  Writes are tried at once and only
 * what the kernel does not take is copied into a queue, capped by
 * max_queue; while a connection's own output waits above a high-water
 * mark (half of max_queue, at most 64 KiB) conn.c stops reading from it,
 * so a client that sends without reading is slowed by TCP itself and
 * nothing is lost.  A generator (tcp_drain) is called again when its
 * queue empties, or on the next loop turn when the kernel took all of it.
 *
 * What a handler writes to other connections while it handles a read (a
 * chat line to the room) is corked: kept as refcounted pieces, and sent
 * with one writev per peer when the read's turn ends, so a read of many
 * lines costs each peer one system call, not one per line.  A peer whose
 * corked and queued bytes would pass max_queue has its pieces offered to
 * the kernel at once, and is closed as a slow reader if they still do not
 * fit.  Peers corked with the same pieces as the one before them (the
 * room) share one message joining them; the piece array is given back
 * after a burst.  A write that fails costs the connection, never more.
 */
#include <stdlib.h>
#include <string.h>

#include <sockd/handler.h>

#include "conn.h"
#include "conn_int.h"
#include "log.h"
#include "msg.h"
#include "service.h"

#define HIGH_WATER	(64 * 1024)	/* at most; see conn_high() */
#define PIECES_KEEP	16384		/* piece array kept between bursts */

struct wreq {
	uv_write_t		 req;
	struct conn		*c;
	struct sockd_msg	*msg;	/* or the bytes follow */
	size_t			 len;
	char			 data[];
};

/* A queued writev of corked pieces: holds a reference to each. */
struct wreqv {
	uv_write_t		 req;
	struct conn		*c;
	size_t			 len;
	unsigned int		 n;
	struct sockd_msg	*m[];
};

#define CORK_IOV	64	/* pieces per writev */

/*
 * Back-pressure marks.  Reading stops once the queue passes the high mark
 * and a read asks for no more than max_queue - queued, so the output of
 * one read (an echo doubles nothing) still fits under max_queue: with the
 * smallest max_queue, 1 KiB, reads are of 512 bytes and more.  Reading
 * resumes at a quarter of the high mark.
 */
static size_t
conn_high(const struct conn *c)
{
	size_t half = (size_t)c->svc->conf.max_queue / 2;

	return half < HIGH_WATER ? half : HIGH_WATER;
}

static size_t
conn_low(const struct conn *c)
{
	return conn_high(c) / 4;
}

/* A write to c failed: it costs c. */
static void
conn_write_failed(struct conn *c, int rc)
{
	conn_failed(c, "write", rc);
}

/*
 * A generator's write that the kernel took at once completes no write
 * request, so tcp_drain is called from the context's idle handle on the
 * next loop turn instead: one batch per turn, between other clients.
 */
static void
on_drain_idle(uv_idle_t *h)
{
	struct conn_ctx *ctx = h->data;
	struct drainq q = TAILQ_HEAD_INITIALIZER(q);
	struct conn *c;

	TAILQ_CONCAT(&q, &ctx->drainq, dlink);
	while ((c = TAILQ_FIRST(&q)) != NULL) {
		TAILQ_REMOVE(&q, c, dlink);
		c->flags &= ~C_DRAINQ;
		if (!(c->flags & C_CLOSING) && c->queued == 0)
			c->svc->h->tcp_drain(ABI(c));
	}
	if (TAILQ_EMPTY(&ctx->drainq))
		(void)uv_idle_stop(h);
}

static void
drain_later(struct conn *c)
{
	struct conn_ctx *ctx = c->ctx;

	if (c->flags & C_DRAINQ)
		return;
	c->flags |= C_DRAINQ;
	TAILQ_INSERT_TAIL(&ctx->drainq, c, dlink);
	if (!uv_is_active((uv_handle_t *)&ctx->drain_idle))
		(void)uv_idle_start(&ctx->drain_idle, on_drain_idle);
}

void
conn_drain_cancel(struct conn *c)
{
	if (c->flags & C_DRAINQ) {
		c->flags &= ~C_DRAINQ;
		TAILQ_REMOVE(&c->ctx->drainq, c, dlink);
	}
}

static void	conn_wrote(struct conn *, size_t, int);

static void
on_write(uv_write_t *req, int status)
{
	struct wreq *r = (struct wreq *)req;
	struct conn *c = r->c;
	size_t len = r->len;

	if (r->msg != NULL)
		sockd_msg_unref(r->msg);
	free(r);
	conn_wrote(c, len, status);
}

static void
on_writev(uv_write_t *req, int status)
{
	struct wreqv *r = (struct wreqv *)req;
	struct conn *c = r->c;
	size_t len = r->len;
	unsigned int i;

	for (i = 0; i < r->n; i++)
		sockd_msg_unref(r->m[i]);
	free(r);
	conn_wrote(c, len, status);
}

/* A write request of len bytes on c is over. */
static void
conn_wrote(struct conn *c, size_t len, int status)
{
	c->queued -= len;
	if (status == 0)
		c->nout += len;
	if (c->flags & C_DEAD)
		return;
	if (status < 0) {
		conn_write_failed(c, status);
		return;
	}
	stat_add(&conn_local(c)->st.tcp_out, len);
	conn_touch(c);
	if (c->queued == 0) {
		if (c->flags & C_CLOSING) {
			conn_schedule(c);
			return;
		}
		if (c->svc->h->tcp_drain != NULL)
			c->svc->h->tcp_drain(ABI(c));
	}
	if ((c->flags & C_PAUSED) && c->queued <= conn_low(c)) {
		c->flags &= ~C_PAUSED;
		conn_resume(c);
	}
}

/* len more bytes wait in c's queue: past the high-water mark, stop
 * reading from c until they drain (back-pressure). */
static void
conn_queue_add(struct conn *c, size_t len)
{
	c->queued += len;
	if (c->queued > conn_high(c) && !(c->flags & C_PAUSED)) {
		c->flags |= C_PAUSED;
		(void)uv_read_stop((uv_stream_t *)&c->tcp);
	}
}

/* Closes c for a queue past max_queue: it does not read.  With a reset,
 * not a FIN behind what the kernel still holds for it: a reader that
 * stopped would otherwise keep that buffer (up to tcp_wmem) alive for as
 * long as it likes. */
static void
conn_slow(struct conn *c)
{
	struct linger lg = { 1, 0 };
	uv_os_fd_t fd;

	stat_inc(&conn_local(c)->st.closed_slow);
	conn_logx(c, "output queue past max_queue (%lld bytes): slow reader, "
	    "closing", c->svc->conf.max_queue);
	if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	conn_end(c, END_SLOW);
	conn_abort(c);
}

/* Sends the n messages m on c with one writev: what the kernel does not
 * take is queued.  Takes over the caller's reference to each. */
static void
cork_send(struct conn *c, struct sockd_msg **m, unsigned int n)
{
	uv_buf_t b[CORK_IOV];
	struct wreqv *r;
	size_t total = 0, skip;
	unsigned int i, first = 0;
	int rc;

	for (i = 0; i < n; i++) {
		b[i] = uv_buf_init(m[i]->data, (unsigned int)m[i]->len);
		total += m[i]->len;
	}
	if (!(c->flags & C_CLOSING) && c->queued == 0) {
		rc = uv_try_write((uv_stream_t *)&c->tcp, b, n);
		if (rc < 0 && rc != UV_EAGAIN)
			conn_write_failed(c, rc);
		else if (rc > 0) {
			stat_add(&conn_local(c)->st.tcp_out, (uint64_t)rc);
			/* Drop what went out; cut into the first piece left. */
			c->nout += (uint64_t)rc;
			skip = (size_t)rc;
			total -= skip;
			while (first < n && skip >= b[first].len) {
				skip -= b[first].len;
				sockd_msg_unref(m[first++]);
			}
			if (first < n) {
				b[first].base += skip;
				b[first].len -= (unsigned int)skip;
			}
		}
	}
	if (first == n)
		return;
	if (c->flags & C_CLOSING)
		goto drop;
	if (c->queued + total > (size_t)c->svc->conf.max_queue) {
		conn_slow(c);
		goto drop;
	}
	if ((r = malloc(sizeof(*r) + (n - first) * sizeof(r->m[0]))) ==
	    NULL) {
		conn_nomem(c);
		goto drop;
	}
	r->c = c;
	r->len = total;
	r->n = n - first;
	memcpy(r->m, m + first, r->n * sizeof(r->m[0]));
	if ((rc = uv_write(&r->req, (uv_stream_t *)&c->tcp, b + first, r->n,
	    on_writev)) < 0) {
		free(r);
		conn_write_failed(c, rc);
		goto drop;
	}
	conn_queue_add(c, total);
	return;
drop:
	for (i = first; i < n; i++)
		sockd_msg_unref(m[i]);
}

/* Sends c's pieces from head on, CORK_IOV per writev; empties its list. */
static void
cork_send_list(struct conn *c)
{
	struct conn_ctx *ctx = c->ctx;
	struct sockd_msg *m[CORK_IOV];
	unsigned int n;
	int32_t i = c->cork_head;

	while (i != -1) {
		for (n = 0; i != -1 && n < CORK_IOV; i = ctx->pieces[i].next)
			m[n++] = ctx->pieces[i].m;
		cork_send(c, m, n);
	}
	c->cork_head = c->cork_tail = -1;
	c->corked = 0;
}

/* Holds m for c until the read's turn ends; the caller's reference
 * stays the caller's.  Past max_queue, what c holds is offered to the
 * kernel now, and c closed if that does not make room. */
static int
cork_add(struct conn *c, struct sockd_msg *m)
{
	struct conn_ctx *ctx = c->ctx;
	size_t max = (size_t)c->svc->conf.max_queue;
	struct piece *np;
	size_t cap;
	int32_t i;

	if (c->queued + c->corked + m->len > max) {
		if (c->flags & C_CORKED)
			cork_send_list(c);
		if (c->flags & C_CLOSING)
			return -1;
		if (c->queued + m->len > max) {
			conn_slow(c);
			return -1;
		}
	}
	if (ctx->npieces == ctx->piececap) {
		cap = ctx->piececap > 0 ? 2 * ctx->piececap : 256;
		if (cap > INT32_MAX ||
		    (np = realloc(ctx->pieces, cap * sizeof(*np))) == NULL) {
			conn_nomem(c);
			return -1;
		}
		ctx->pieces = np;
		ctx->piececap = cap;
	}
	i = (int32_t)ctx->npieces++;
	ctx->pieces[i].m = sockd_msg_ref(m);
	ctx->pieces[i].next = -1;
	if (!(c->flags & C_CORKED)) {
		c->flags |= C_CORKED;
		c->cork_head = -1;
		c->cork_next = ctx->corked;
		ctx->corked = c;
	}
	if (c->cork_head == -1)
		c->cork_head = i;
	else
		ctx->pieces[c->cork_tail].next = i;
	c->cork_tail = i;
	c->corked += m->len;
	return 0;
}

/* 1 when the piece lists from a and from b hold the same messages. */
static int
cork_same(const struct conn_ctx *ctx, int32_t a, int32_t b)
{
	while (a != -1 && b != -1) {
		if (ctx->pieces[a].m != ctx->pieces[b].m)
			return 0;
		a = ctx->pieces[a].next;
		b = ctx->pieces[b].next;
	}
	return a == b;
}

/* The pieces from head on as one message (one reference), or NULL. */
static struct sockd_msg *
cork_join(const struct conn_ctx *ctx, int32_t head, size_t total)
{
	struct sockd_msg *j;
	size_t off = 0;
	int32_t i;

	if (ctx->pieces[head].next == -1)
		return sockd_msg_ref(ctx->pieces[head].m);
	if ((j = malloc(sizeof(*j) + total)) == NULL)
		return NULL;
	atomic_init(&j->refs, 1);
	j->len = total;
	for (i = head; i != -1; i = ctx->pieces[i].next) {
		memcpy(j->data + off, ctx->pieces[i].m->data,
		    ctx->pieces[i].m->len);
		off += ctx->pieces[i].m->len;
	}
	return j;
}

/*
 * End of a read's turn: each corked peer gets its pieces at once.  A room
 * corks the same lines for every member, so from the second peer with
 * the same pieces as the one before on, they go as one shared message:
 * one reference and one buffer per peer instead of one per line.
 */
void
conn_cork_flush(struct conn_ctx *ctx)
{
	struct conn *c, *prev = NULL;
	struct sockd_msg *joined = NULL, *one;
	int32_t i;

	while ((c = ctx->corked) != NULL) {
		ctx->corked = c->cork_next;
		c->flags &= ~C_CORKED;
		if (c->cork_head == -1)
			continue;
		if (prev != NULL && cork_same(ctx, prev->cork_head,
		    c->cork_head)) {
			if (joined == NULL)
				joined = cork_join(ctx, c->cork_head,
				    c->corked);
			if (joined != NULL) {
				for (i = c->cork_head; i != -1;
				    i = ctx->pieces[i].next)
					sockd_msg_unref(ctx->pieces[i].m);
				c->cork_head = -1;
				c->corked = 0;
				one = sockd_msg_ref(joined);
				cork_send(c, &one, 1);
				continue;
			}
		} else if (joined != NULL) {
			sockd_msg_unref(joined);
			joined = NULL;
		}
		/* Its list stays readable for the next peer's comparison. */
		prev = c;
		i = c->cork_head;
		cork_send_list(c);
		prev->cork_head = i;
	}
	if (joined != NULL)
		sockd_msg_unref(joined);
	ctx->npieces = 0;
}

int
conn_send(struct conn *c, const char *p, size_t len, struct sockd_msg *msg)
{
	struct wreq *r;
	struct sockd_msg *copy;
	uv_buf_t b;
	int n;

	if (c->flags & C_CLOSING)
		return -1;
	if (len == 0)
		return 0;
	if (c->ctx->reading != NULL && c->ctx->reading != c) {
		/* Fan-out during a read: held for one writev per peer. */
		if (msg != NULL)
			return cork_add(c, msg);
		if ((copy = sockd_msg_new(p, len)) == NULL) {
			conn_nomem(c);
			return -1;
		}
		n = cork_add(c, copy);
		sockd_msg_unref(copy);
		return n;
	}
	if (c->queued == 0) {
		/* Not uv_buf_init(): a call into libuv per write. */
		b.base = (char *)p;
		b.len = len;
		n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
		if (n >= 0) {
			c->nout += (uint64_t)n;
			stat_add(&conn_local(c)->st.tcp_out, (uint64_t)n);
			p += n;
			len -= (size_t)n;
			if (len == 0) {
				if (c->svc->h->tcp_drain != NULL)
					drain_later(c);
				return 0;
			}
		} else if (n != UV_EAGAIN) {
			conn_write_failed(c, n);
			return -1;
		}
	}
	if (c->queued + len > (size_t)c->svc->conf.max_queue) {
		conn_slow(c);
		return -1;
	}
	r = malloc(sizeof(*r) + (msg != NULL ? 0 : len));
	if (r == NULL) {
		conn_nomem(c);
		return -1;
	}
	r->c = c;
	r->len = len;
	if (msg != NULL) {
		r->msg = sockd_msg_ref(msg);
		b = uv_buf_init((char *)p, (unsigned int)len);
	} else {
		r->msg = NULL;
		memcpy(r->data, p, len);
		b = uv_buf_init(r->data, (unsigned int)len);
	}
	if ((n = uv_write(&r->req, (uv_stream_t *)&c->tcp, &b, 1,
	    on_write)) < 0) {
		if (r->msg != NULL)
			sockd_msg_unref(r->msg);
		free(r);
		conn_write_failed(c, n);
		return -1;
	}
	conn_queue_add(c, len);
	return 0;
}

/* A line (or a read, for raw handlers) equal to the quit word, with or
 * without its line ending. */
void
conn_cork_shrink(struct conn_ctx *ctx)
{
	struct piece *np;

	if (ctx->piececap <= PIECES_KEEP || !TAILQ_EMPTY(&ctx->backlog))
		return;
	if ((np = realloc(ctx->pieces, PIECES_KEEP * sizeof(*np))) == NULL)
		return;
	ctx->pieces = np;
	ctx->piececap = PIECES_KEEP;
}

/* One turn's budget of c's kept lines. */
/* The ABI side. */

int
sockd_conn_write(struct sockd_conn *sc, const void *p, size_t len)
{
	return conn_send((struct conn *)sc, p, len, NULL);
}

int
sockd_conn_send(struct sockd_conn *sc, struct sockd_msg *m)
{
	return conn_send((struct conn *)sc, m->data, m->len, m);
}

size_t
sockd_conn_pending(const struct sockd_conn *sc)
{
	return ((const struct conn *)sc)->queued;
}

