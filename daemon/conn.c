/*
 * conn: one TCP connection, from accept to close.  Reads land in the
 * worker's shared buffer and go to the handler straight away (whole lines
 * for SOCKD_LINES handlers, through the framer).  Writes are tried at once
 * and only what the kernel does not take is copied into a queue, capped by
 * max_queue; while a connection's own output waits above a high-water mark
 * (half of max_queue, at most 64 KiB) sockd stops reading from it, and a
 * read never asks for more than the queue can still take, so a client that
 * sends without reading is slowed by TCP itself and nothing is lost.
 *
 * One read costs a bounded amount of work: a line handler is given at most
 * LINE_BUDGET lines per connection per loop turn.  What is left of the read
 * is copied aside, reading from that socket stops, and a uv_idle hands
 * over the next budget on each following turn (between other clients'
 * events) until it is used up.  Unfinished lines wait for line_timeout in
 * a heap ordered by due time, the worker's timer set for the earliest.
 *
 * Closing never happens inside a handler's callback: it is queued on the
 * worker and done from a uv_check once the callbacks of this loop turn are
 * over, so a handler iterating its peers never sees one vanish under it.
 * What a handler writes to other connections while it handles a read (a
 * chat line to the room) is corked: kept as refcounted pieces, and sent
 * with one writev per peer when the read's turn ends, so a read of many
 * lines costs each peer one system call, not one per line.  A peer whose
 * corked and queued bytes would pass max_queue has its pieces offered to
 * the kernel at once, and is closed as a slow reader if they still do not
 * fit.  Peers corked with the same pieces as the one before them (the
 * room) share one message joining them; the piece array is given back
 * after a burst.
 */
#include <sys/ioctl.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sockd/handler.h>

#include "acl.h"
#include "conn.h"
#include "listener.h"
#include "log.h"
#include "msg.h"
#include "service.h"
#include "supervisor.h"
#include "util.h"
#include "worker.h"

#define C_CLOSING	0x01	/* close requested: no more reads, writes */
#define C_ABORT		0x02	/* close without flushing */
#define C_DEAD		0x04	/* handler told, uv_close() called */
#define C_LISTED	0x08	/* on w->closing */
#define C_ACCEPTED	0x10	/* tcp_connect said yes: tcp_close is due */
#define C_PAUSED	0x20	/* reading stopped for back-pressure */
#define C_EOF		0x40
#define C_PARTIAL	0x80	/* in the heap w->partial */
#define C_DRAINQ	0x100	/* on w->drainq */
#define C_CORKED	0x200	/* on w->corked */
#define C_SRCOVF	0x400	/* per_source counted on the overflow entry */
#define C_BACKLOG	0x800	/* has c->rest: reading stopped */
#define C_BACKLOGQ	0x1000	/* on w->backlog */

/* The handler's view of a conn: the same object, behind an opaque type. */
#define ABI(c)		((struct sockd_conn *)(c))

#define HIGH_WATER	(64 * 1024)	/* at most; see conn_high() */
#define LINE_BUDGET	64		/* lines per connection per turn */
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

static void	on_read(uv_stream_t *, ssize_t, const uv_buf_t *);
static void	on_alloc(uv_handle_t *, size_t, uv_buf_t *);
static void	backlog_schedule(struct conn *);
static void	on_backlog_idle(uv_idle_t *);

static const char *
conn_peer(const struct conn *c)
{
	return sockd_conn_peer((const struct sockd_conn *)c);
}

static void
on_check(uv_check_t *h)
{
	conn_reap(h->data);
}

/* This worker's part of c's service. */
static struct svc_local *
conn_local(const struct conn *c)
{
	return &c->svc->local[c->w->id];
}

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

static void
conn_schedule(struct conn *c)
{
	struct worker *w = c->w;

	if (c->flags & (C_LISTED | C_DEAD))
		return;
	c->flags |= C_LISTED;
	c->close_next = w->closing;
	w->closing = c;
	if (!uv_is_active((uv_handle_t *)&w->check))
		(void)uv_check_start(&w->check, on_check);
}

/* Close once what is queued has been sent (sockd_conn_close, quit, EOF). */
static void
conn_close(struct conn *c)
{
	if (c->flags & (C_CLOSING | C_DEAD))
		return;
	c->flags |= C_CLOSING;
	(void)uv_read_stop((uv_stream_t *)&c->tcp);
	if (c->queued == 0)
		conn_schedule(c);
}

void
conn_abort(struct conn *c)
{
	if (c->flags & C_DEAD)
		return;
	c->flags |= C_CLOSING | C_ABORT;
	(void)uv_read_stop((uv_stream_t *)&c->tcp);
	conn_schedule(c);
}

/* Reads from c again, unless something still holds it back. */
static void
conn_resume(struct conn *c)
{
	if (c->flags & (C_PAUSED | C_CLOSING | C_EOF | C_DEAD))
		return;
	if (c->flags & C_BACKLOG)
		backlog_schedule(c);
	else
		(void)uv_read_start((uv_stream_t *)&c->tcp, on_alloc,
		    on_read);
}

static void
on_close(uv_handle_t *h)
{
	struct conn *c = (struct conn *)h;
	struct worker *w = c->w;

	if (c->svc != NULL)
		service_unref(c->svc);
	free(c);
	worker_conn_gone(w);
}

static void
on_close_refused(uv_handle_t *h)
{
	free(h);
}

/*
 * Unfinished lines: a binary heap on w->partial keyed by partial_due, so
 * that services with different line_timeouts share one worker timer, set
 * for the earliest entry.  The timer may fire early (its entry moved
 * later or went away); it then only sets itself again.
 */
static void	on_partial_timer(uv_timer_t *);

static void
partial_put(struct worker *w, size_t i, struct conn *c)
{
	w->partial[i] = c;
	c->pidx = i;
}

static void
partial_up(struct worker *w, size_t i)
{
	struct conn *c = w->partial[i];
	size_t up;

	while (i > 0) {
		up = (i - 1) / 2;
		if (w->partial[up]->partial_due <= c->partial_due)
			break;
		partial_put(w, i, w->partial[up]);
		i = up;
	}
	partial_put(w, i, c);
}

static void
partial_down(struct worker *w, size_t i)
{
	struct conn *c = w->partial[i];
	size_t k;

	for (;;) {
		k = 2 * i + 1;
		if (k >= w->npartial)
			break;
		if (k + 1 < w->npartial && w->partial[k + 1]->partial_due <
		    w->partial[k]->partial_due)
			k++;
		if (c->partial_due <= w->partial[k]->partial_due)
			break;
		partial_put(w, i, w->partial[k]);
		i = k;
	}
	partial_put(w, i, c);
}

/* Sets the timer for the heap's first entry, unless it fires before. */
static void
partial_timer_set(struct worker *w)
{
	uint64_t now, due;

	if (w->npartial == 0) {
		(void)uv_timer_stop(&w->partial_timer);
		return;
	}
	due = w->partial[0]->partial_due;
	if (uv_is_active((uv_handle_t *)&w->partial_timer) &&
	    w->partial_armed <= due)
		return;
	now = uv_now(w->loop);
	w->partial_armed = due;
	(void)uv_timer_start(&w->partial_timer, on_partial_timer,
	    due > now ? due - now : 0, 0);
}

static void
partial_disarm(struct conn *c)
{
	struct worker *w = c->w;
	struct conn *last;
	size_t i = c->pidx;

	if (!(c->flags & C_PARTIAL))
		return;
	c->flags &= ~C_PARTIAL;
	last = w->partial[--w->npartial];
	if (last != c) {
		partial_put(w, i, last);
		partial_up(w, i);
		partial_down(w, last->pidx);
	}
	if (w->npartial == 0)
		(void)uv_timer_stop(&w->partial_timer);
}

/* c's unfinished line is due line_timeout ms from now. */
static void
partial_arm(struct conn *c)
{
	struct worker *w = c->w;
	struct conn **np;
	size_t cap;

	/* At least 1 ms on, so that the timer's sweep ends. */
	c->partial_due = uv_now(w->loop) + (c->svc->conf.line_timeout > 0 ?
	    (uint64_t)c->svc->conf.line_timeout : 1);
	if (c->flags & C_PARTIAL) {
		/* A reload may have changed its service's line_timeout. */
		partial_up(w, c->pidx);
		partial_down(w, c->pidx);
	} else {
		if (w->npartial == w->partialcap) {
			cap = w->partialcap > 0 ? 2 * w->partialcap : 64;
			if ((np = realloc(w->partial, cap * sizeof(*np))) ==
			    NULL) {
				/* Handed over at the next input or EOF. */
				return;
			}
			w->partial = np;
			w->partialcap = cap;
		}
		c->flags |= C_PARTIAL;
		partial_put(w, w->npartial++, c);
		partial_up(w, c->pidx);
	}
	partial_timer_set(w);
}

/*
 * A generator's write that the kernel took at once completes no write
 * request, so tcp_drain is called from the worker's idle handle on the
 * next loop turn instead: one batch per turn, between other clients.
 */
static void
on_drain_idle(uv_idle_t *h)
{
	struct worker *w = h->data;
	struct drainq q = TAILQ_HEAD_INITIALIZER(q);
	struct conn *c;

	TAILQ_CONCAT(&q, &w->drainq, dlink);
	while ((c = TAILQ_FIRST(&q)) != NULL) {
		TAILQ_REMOVE(&q, c, dlink);
		c->flags &= ~C_DRAINQ;
		if (!(c->flags & C_CLOSING) && c->queued == 0)
			c->svc->h->tcp_drain(ABI(c));
	}
	if (TAILQ_EMPTY(&w->drainq))
		(void)uv_idle_stop(h);
}

static void
drain_later(struct conn *c)
{
	struct worker *w = c->w;

	if (c->flags & C_DRAINQ)
		return;
	c->flags |= C_DRAINQ;
	TAILQ_INSERT_TAIL(&w->drainq, c, dlink);
	if (!uv_is_active((uv_handle_t *)&w->drain_idle))
		(void)uv_idle_start(&w->drain_idle, on_drain_idle);
}

/* Forgets what is left of c's read. */
static void
backlog_free(struct conn *c)
{
	if (c->flags & C_BACKLOGQ) {
		c->flags &= ~C_BACKLOGQ;
		TAILQ_REMOVE(&c->w->backlog, c, blink);
	}
	c->flags &= ~C_BACKLOG;
	free(c->rest);
	c->rest = NULL;
	c->restlen = c->restoff = 0;
}

static void
conn_destroy(struct conn *c)
{
	struct service *s = c->svc;
	struct svc_local *l = conn_local(c);
	uint8_t key[16];

	c->flags |= C_DEAD;
	partial_disarm(c);
	backlog_free(c);
	if (c->flags & C_DRAINQ) {
		c->flags &= ~C_DRAINQ;
		TAILQ_REMOVE(&c->w->drainq, c, dlink);
	}
	if ((c->flags & C_ACCEPTED) && s->h->tcp_close != NULL)
		s->h->tcp_close(ABI(c));
	TAILQ_REMOVE(&l->conns, c, link);
	l->nconns--;
	c->w->nconns--;
	atomic_fetch_sub_explicit(&s->nconns, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&c->w->sup->nconns, 1, memory_order_relaxed);
	if (s->conf.per_source > 0) {
		limits_key(&c->peer.sa, (int)s->conf.ipv6_prefix, key);
		srctab_release(&l->src, key, c->flags & C_SRCOVF);
	}
	framer_free(&c->fr);
	if (log_get_level() >= LOG_DEBUG)
		log_debug("%s %s: closed", s->conf.name,
		    conn_peer(c));
	uv_close((uv_handle_t *)&c->tcp, on_close);
}

void
conn_reap(struct worker *w)
{
	struct conn *c;

	while ((c = w->closing) != NULL) {
		w->closing = c->close_next;
		c->flags &= ~C_LISTED;
		if ((c->flags & C_ABORT) || c->queued == 0)
			conn_destroy(c);
	}
	(void)uv_check_stop(&w->check);
}

/* The idle list is in order of "listed", the last move to its tail;
 * progress only stamps "active", and moves c at most once a second, so
 * a busy connection costs a store per read.  The sweep stops at the
 * first entry listed within idle_timeout and sends live ones it passes
 * to the tail, so an idle connection is closed at most one idle_timeout
 * late. */
static void
conn_list_tail(struct conn *c, uint64_t now)
{
	struct svc_local *l = conn_local(c);

	c->listed = now;
	TAILQ_REMOVE(&l->conns, c, link);
	TAILQ_INSERT_TAIL(&l->conns, c, link);
}

static void
conn_touch(struct conn *c)
{
	c->active = uv_now(c->w->loop);
	if (c->active >= c->listed + 1000)
		conn_list_tail(c, c->active);
}

void
conn_sweep(struct service *s, struct worker *w, uint64_t now)
{
	struct svc_local *l = &s->local[w->id];
	struct conn *c, *next;
	uint64_t idle = (uint64_t)s->conf.idle_timeout * 1000;

	if (idle == 0)
		return;
	for (c = TAILQ_FIRST(&l->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		if (c->listed + idle > now)
			break;
		if (c->flags & C_DEAD)
			continue;
		if (c->active + idle > now) {
			conn_list_tail(c, now);
			continue;
		}
		l->st.closed_idle++;
		if (log_get_level() >= LOG_DEBUG)
			log_debug("%s %s: idle for %llds, closing",
			    s->conf.name, conn_peer(c),
			    s->conf.idle_timeout);
		conn_abort(c);
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
	if (c->flags & C_DEAD)
		return;
	if (status < 0) {
		log_debug("%s %s: write: %s", c->svc->conf.name,
		    conn_peer(c), uv_strerror(status));
		conn_abort(c);
		return;
	}
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

/* Closes c when memory for its output ran out. */
static void
conn_nomem(struct conn *c)
{
	service_logx(c->svc, conn_local(c), "%s: out of memory, closing",
	    conn_peer(c));
	conn_abort(c);
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

	conn_local(c)->st.closed_slow++;
	service_logx(c->svc, conn_local(c), "%s: output queue past max_queue "
	    "(%lld bytes): slow reader, closing", conn_peer(c),
	    c->svc->conf.max_queue);
	if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
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
		if (rc < 0 && rc != UV_EAGAIN) {
			log_debug("%s %s: write: %s", c->svc->conf.name,
			    conn_peer(c), uv_strerror(rc));
			conn_abort(c);
		} else if (rc > 0) {
			/* Drop what went out; cut into the first piece left. */
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
		conn_abort(c);
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
	struct worker *w = c->w;
	struct sockd_msg *m[CORK_IOV];
	unsigned int n;
	int32_t i = c->cork_head;

	while (i != -1) {
		for (n = 0; i != -1 && n < CORK_IOV; i = w->pieces[i].next)
			m[n++] = w->pieces[i].m;
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
	struct worker *w = c->w;
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
	if (w->npieces == w->piececap) {
		cap = w->piececap > 0 ? 2 * w->piececap : 256;
		if (cap > INT32_MAX ||
		    (np = realloc(w->pieces, cap * sizeof(*np))) == NULL) {
			conn_nomem(c);
			return -1;
		}
		w->pieces = np;
		w->piececap = cap;
	}
	i = (int32_t)w->npieces++;
	w->pieces[i].m = sockd_msg_ref(m);
	w->pieces[i].next = -1;
	if (!(c->flags & C_CORKED)) {
		c->flags |= C_CORKED;
		c->cork_head = -1;
		c->cork_next = w->corked;
		w->corked = c;
	}
	if (c->cork_head == -1)
		c->cork_head = i;
	else
		w->pieces[c->cork_tail].next = i;
	c->cork_tail = i;
	c->corked += m->len;
	return 0;
}

/* 1 when the piece lists from a and from b hold the same messages. */
static int
cork_same(const struct worker *w, int32_t a, int32_t b)
{
	while (a != -1 && b != -1) {
		if (w->pieces[a].m != w->pieces[b].m)
			return 0;
		a = w->pieces[a].next;
		b = w->pieces[b].next;
	}
	return a == b;
}

/* The pieces from head on as one message (one reference), or NULL. */
static struct sockd_msg *
cork_join(const struct worker *w, int32_t head, size_t total)
{
	struct sockd_msg *j;
	size_t off = 0;
	int32_t i;

	if (w->pieces[head].next == -1)
		return sockd_msg_ref(w->pieces[head].m);
	if ((j = malloc(sizeof(*j) + total)) == NULL)
		return NULL;
	atomic_init(&j->refs, 1);
	j->len = total;
	for (i = head; i != -1; i = w->pieces[i].next) {
		memcpy(j->data + off, w->pieces[i].m->data,
		    w->pieces[i].m->len);
		off += w->pieces[i].m->len;
	}
	return j;
}

/*
 * End of a read's turn: each corked peer gets its pieces at once.  A room
 * corks the same lines for every member, so from the second peer with
 * the same pieces as the one before on, they go as one shared message:
 * one reference and one buffer per peer instead of one per line.
 */
static void
cork_flush(struct worker *w)
{
	struct conn *c, *prev = NULL;
	struct sockd_msg *joined = NULL, *one;
	int32_t i;

	while ((c = w->corked) != NULL) {
		w->corked = c->cork_next;
		c->flags &= ~C_CORKED;
		if (c->cork_head == -1)
			continue;
		if (prev != NULL && cork_same(w, prev->cork_head,
		    c->cork_head)) {
			if (joined == NULL)
				joined = cork_join(w, c->cork_head,
				    c->corked);
			if (joined != NULL) {
				for (i = c->cork_head; i != -1;
				    i = w->pieces[i].next)
					sockd_msg_unref(w->pieces[i].m);
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
	w->npieces = 0;
}

/* Sends p (or what msg holds, shared) on c; see sockd_conn_write(). */
static int
conn_send(struct conn *c, const char *p, size_t len, struct sockd_msg *msg)
{
	struct wreq *r;
	uv_buf_t b;
	int n;

	struct sockd_msg *copy;

	if (c->flags & C_CLOSING)
		return -1;
	if (len == 0)
		return 0;
	if (c->w->reading != NULL && c->w->reading != c) {
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
		b = uv_buf_init((char *)p, (unsigned int)len);
		n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
		if (n >= 0) {
			p += n;
			len -= (size_t)n;
			if (len == 0) {
				if (c->svc->h->tcp_drain != NULL)
					drain_later(c);
				return 0;
			}
		} else if (n != UV_EAGAIN) {
			log_debug("%s %s: write: %s", c->svc->conf.name,
			    conn_peer(c), uv_strerror(n));
			conn_abort(c);
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
		log_debug("%s %s: write: %s", c->svc->conf.name,
		    conn_peer(c), uv_strerror(n));
		conn_abort(c);
		return -1;
	}
	conn_queue_add(c, len);
	return 0;
}

/* A line (or a read, for raw handlers) equal to the quit word, with or
 * without its line ending. */
static int
conn_is_quit(const struct conn *c, const char *p, size_t len)
{
	const char *q = c->svc->conf.quit;
	size_t qlen;

	if (q == NULL)
		return 0;
	if (len > 0 && p[len - 1] == '\n')
		len--;
	if (len > 0 && p[len - 1] == '\r')
		len--;
	qlen = strlen(q);
	return len == qlen && memcmp(p, q, len) == 0;
}

/* One line to the handler; nonzero stops the framer: c is closing, its
 * output waits (back-pressure) or this turn's budget is spent. */
static int
conn_line(void *arg, const char *line, size_t len)
{
	struct conn *c = arg;

	if (conn_is_quit(c, line, len)) {
		conn_close(c);
		return 1;
	}
	if (c->svc->h->tcp_data != NULL)
		c->svc->h->tcp_data(ABI(c), line, len);
	if (c->flags & (C_CLOSING | C_PAUSED))
		return 1;
	return c->w->budget > 0 && --c->w->budget == 0;
}

/*
 * Classic clients send a line without its "\n" and wait for the answer.
 * An unfinished line that sees no more input for line_timeout ms is
 * handed over as it is; the worker's timer runs only while some
 * connection has one.
 */
static void
on_partial_timer(uv_timer_t *t)
{
	struct worker *w = t->data;
	struct conn *c;
	uint64_t now = uv_now(w->loop);
	uv_os_fd_t fd;
	int waiting;

	while (w->npartial > 0 && (c = w->partial[0])->partial_due <= now) {
		partial_disarm(c);
		/* A busy loop may not have read the rest yet (or reading is
		 * paused): bytes already in the socket finish the line. */
		if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0 &&
		    ioctl(fd, FIONREAD, &waiting) == 0 && waiting > 0) {
			partial_arm(c);
			continue;
		}
		if (!(c->flags & C_CLOSING))
			(void)framer_flush(&c->fr, conn_line, c);
	}
	partial_timer_set(w);
}

/* After c's input: its unfinished line waits for line_timeout, if any. */
static void
conn_partial_update(struct conn *c)
{
	if (c->fr.len > 0 && c->svc->conf.line_timeout > 0 &&
	    !(c->flags & (C_CLOSING | C_BACKLOG)))
		partial_arm(c);
	else
		partial_disarm(c);
}

/* Hands up to LINE_BUDGET lines of p to c's handler; returns how much of
 * p it took (all of it when c is closing). */
static size_t
conn_lines(struct conn *c, const char *p, size_t len)
{
	size_t used;
	int rc;

	c->w->budget = LINE_BUDGET;
	rc = framer_feed_some(&c->fr, (size_t)c->svc->conf.max_line, p, len,
	    conn_line, c, &used);
	c->w->budget = 0;
	if (rc == -1)
		conn_nomem(c);
	if (c->flags & C_CLOSING)
		return len;
	return used;
}

static void
backlog_schedule(struct conn *c)
{
	struct worker *w = c->w;

	if (c->flags & C_BACKLOGQ)
		return;
	c->flags |= C_BACKLOGQ;
	TAILQ_INSERT_TAIL(&w->backlog, c, blink);
	if (!uv_is_active((uv_handle_t *)&w->backlog_idle))
		(void)uv_idle_start(&w->backlog_idle, on_backlog_idle);
}

/* Keeps the n bytes of a read that this turn did not get to, and stops
 * reading c until they are done. */
static void
backlog_keep(struct conn *c, const char *p, size_t n)
{
	if ((c->rest = malloc(n)) == NULL) {
		conn_nomem(c);
		return;
	}
	memcpy(c->rest, p, n);
	c->restlen = n;
	c->restoff = 0;
	c->flags |= C_BACKLOG;
	(void)uv_read_stop((uv_stream_t *)&c->tcp);
	if (!(c->flags & C_PAUSED))
		backlog_schedule(c);
}

/* If the piece array grew in a burst that is over, give it back. */
static void
cork_shrink(struct worker *w)
{
	struct piece *np;

	if (w->piececap <= PIECES_KEEP || !TAILQ_EMPTY(&w->backlog))
		return;
	if ((np = realloc(w->pieces, PIECES_KEEP * sizeof(*np))) == NULL)
		return;
	w->pieces = np;
	w->piececap = PIECES_KEEP;
}

/* One turn's budget of c's kept lines. */
static void
backlog_run(struct conn *c)
{
	struct worker *w = c->w;
	size_t used;

	if (c->flags & C_CLOSING) {
		backlog_free(c);
		return;
	}
	if (c->flags & C_PAUSED)
		return;		/* conn_wrote() brings it back */
	w->reading = c;
	used = conn_lines(c, c->rest + c->restoff, c->restlen - c->restoff);
	w->reading = NULL;
	if (w->corked != NULL)
		cork_flush(w);
	c->restoff += used;
	if (c->flags & C_CLOSING) {
		backlog_free(c);
		return;
	}
	if (c->restoff < c->restlen) {
		if (!(c->flags & C_PAUSED))
			backlog_schedule(c);
		return;
	}
	backlog_free(c);
	conn_partial_update(c);
	conn_resume(c);
}

static void
on_backlog_idle(uv_idle_t *h)
{
	struct worker *w = h->data;
	struct backlogq q = TAILQ_HEAD_INITIALIZER(q);
	struct conn *c;

	TAILQ_CONCAT(&q, &w->backlog, blink);
	while ((c = TAILQ_FIRST(&q)) != NULL) {
		TAILQ_REMOVE(&q, c, blink);
		c->flags &= ~C_BACKLOGQ;
		backlog_run(c);
	}
	if (TAILQ_EMPTY(&w->backlog)) {
		(void)uv_idle_stop(h);
		cork_shrink(w);
	}
}

static void
conn_input(struct conn *c, const char *p, size_t len)
{
	struct service *s = c->svc;
	size_t used;

	if (s->h->flags & SOCKD_LINES) {
		used = conn_lines(c, p, len);
		if (used < len)
			backlog_keep(c, p + used, len - used);
		conn_partial_update(c);
		return;
	}
	if (conn_is_quit(c, p, len)) {
		conn_close(c);
		return;
	}
	if (s->h->tcp_data != NULL)
		s->h->tcp_data(ABI(c), p, len);
}

/* A read asks for what the queue can still take (see conn_high()). */
static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = (struct conn *)h;
	size_t max = (size_t)c->svc->conf.max_queue;
	size_t room = c->queued < max ? max - c->queued : 0;

	buf->base = c->w->rbuf;
	buf->len = room < RBUF_SIZE ? room : RBUF_SIZE;
}

static void
on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct conn *c = (struct conn *)st;

	if (n > 0) {
		if (c->flags & C_CLOSING)
			return;
		conn_touch(c);
		c->w->reading = c;
		conn_input(c, buf->base, (size_t)n);
		c->w->reading = NULL;
		if (c->w->corked != NULL) {
			cork_flush(c->w);
			cork_shrink(c->w);
		}
	} else if (n == UV_ENOBUFS) {
		/* No room left in the queue: wait until it drains. */
		c->flags |= C_PAUSED;
		(void)uv_read_stop(st);
	} else if (n == UV_EOF) {
		/* Half-close: finish what is owed, then close. */
		c->flags |= C_EOF;
		(void)uv_read_stop(st);
		partial_disarm(c);
		c->w->reading = c;
		if ((c->svc->h->flags & SOCKD_LINES) && !(c->flags & C_CLOSING))
			(void)framer_flush(&c->fr, conn_line, c);
		c->w->reading = NULL;
		if (c->w->corked != NULL)
			cork_flush(c->w);
		conn_close(c);
	} else if (n < 0) {
		log_debug("%s %s: read: %s", c->svc->conf.name,
		    conn_peer(c), uv_strerror((int)n));
		conn_abort(c);
	}
}

/* Turns a connection away at once, after the busy line if there is one. */
static void
conn_refuse(uv_tcp_t *t, const char *line)
{
	uv_buf_t b;

	if (line != NULL) {
		b = uv_buf_init((char *)line, (unsigned int)strlen(line));
		(void)uv_try_write((uv_stream_t *)t, &b, 1);
	}
	uv_close((uv_handle_t *)t, on_close_refused);
}

void
conn_accept(struct worker *w, uv_stream_t *server, struct service *s)
{
	const struct svc_conf *sc = &s->conf;
	struct svc_local *l = &s->local[w->id];
	struct supervisor *sup = w->sup;
	struct srcent *e = NULL;
	struct conn *c;
	uint8_t key[16];
	uint64_t now = uv_now(w->loop);
	int len = sizeof(c->peer), rc;
	uv_os_fd_t fd;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		uv_tcp_t *t;

		/* Still take it off the backlog, or libuv stops accepting. */
		service_logx(s, l, "out of memory, refusing a connection");
		if ((t = malloc(sizeof(*t))) == NULL)
			return;
		if (uv_tcp_init(w->loop, t) == 0 && uv_accept(server,
		    (uv_stream_t *)t) == 0)
			conn_refuse(t, NULL);
		else
			uv_close((uv_handle_t *)t, on_close_refused);
		return;
	}
	c->w = w;
	(void)uv_tcp_init(w->loop, &c->tcp);
	if ((rc = uv_accept(server, (uv_stream_t *)&c->tcp)) < 0 ||
	    (rc = uv_tcp_getpeername(&c->tcp, &c->peer.sa, &len)) < 0) {
		log_debug("%s: accept: %s", sc->name, uv_strerror(rc));
		uv_close((uv_handle_t *)&c->tcp, on_close_refused);
		return;
	}
	if (atomic_load_explicit(&s->nconns, memory_order_relaxed) >=
	    (unsigned long long)sc->max_connections ||
	    atomic_load_explicit(&sup->nconns, memory_order_relaxed) >=
	    atomic_load_explicit(&sup->max_connections,
	    memory_order_relaxed)) {
		l->st.refused_busy++;
		service_logx(s, l, "%s: refused: max_connections reached",
		    conn_peer(c));
		conn_refuse(&c->tcp, sc->busy);
		return;
	}
	if (!acl_allowed(&sc->acl, &c->peer.sa)) {
		l->st.refused_acl++;
		service_logx(s, l, "%s: refused by allow/deny", conn_peer(c));
		conn_refuse(&c->tcp, NULL);
		return;
	}
	if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0 &&
	    listener_fds_short(fd, atomic_load_explicit(&sup->nconns,
	    memory_order_relaxed))) {
		l->st.refused_nofds++;
		service_logx(s, l, "%s: refused: out of file descriptors "
		    "(limit %lu)", conn_peer(c), listener_fds_limit());
		conn_refuse(&c->tcp, sc->busy);
		return;
	}
	if (sc->per_source > 0 || sc->rate > 0) {
		limits_key(&c->peer.sa, (int)sc->ipv6_prefix, key);
		e = srctab_get(&l->src, key, (double)sc->burst, now);
		if (sc->per_source > 0 && e->conns >= sc->per_source) {
			l->st.refused_source++;
			service_logx(s, l, "%s: refused: per_source (%lld) "
			    "reached", conn_peer(c), sc->per_source);
			conn_refuse(&c->tcp, sc->busy);
			return;
		}
		if (!srcent_take(e, (double)sc->rate, (double)sc->burst,
		    now)) {
			l->st.refused_rate++;
			service_logx(s, l, "%s: refused: over rate (%lld/s)",
			    conn_peer(c), sc->rate);
			conn_refuse(&c->tcp, sc->busy);
			return;
		}
		if (sc->per_source > 0) {
			e->conns++;
			if (e == &l->src.overflow)
				c->flags |= C_SRCOVF;
		}
	}
	c->svc = s;
	service_ref(s);
	c->active = c->listed = now;
	TAILQ_INSERT_TAIL(&l->conns, c, link);
	l->nconns++;
	w->nconns++;
	atomic_fetch_add_explicit(&s->nconns, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&sup->nconns, 1, memory_order_relaxed);
	l->st.accepted++;
	(void)uv_tcp_nodelay(&c->tcp, 1);
	if (log_get_level() >= LOG_DEBUG)
		log_debug("%s %s: open", sc->name, conn_peer(c));
	(void)uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
	if (sc->banner != NULL)
		(void)conn_send(c, sc->banner, strlen(sc->banner), NULL);
	/* The banner could not be sent: the handler never hears of c. */
	if (c->flags & C_CLOSING)
		return;
	if (s->h->tcp_connect != NULL && s->h->tcp_connect(ABI(c)) == -1) {
		conn_abort(c);
		return;
	}
	c->flags |= C_ACCEPTED;
}

/*
 * A reload replaced from by to, whose handler took over from's port state
 * (reconfigure): from's open connections on worker move to to, with their
 * reference, their place in the list and the counts, so that to is one
 * room with them.  On the worker's thread, between callbacks.
 */
void
conn_adopt(struct service *from, struct service *to, int worker)
{
	struct svc_local *fl = &from->local[worker], *tl = &to->local[worker];
	struct srcent *e;
	struct conn *c;
	uint8_t key[16];
	uint64_t now;

	while ((c = TAILQ_FIRST(&fl->conns)) != NULL) {
		now = uv_now(c->w->loop);
		if (from->conf.per_source > 0) {
			limits_key(&c->peer.sa, (int)from->conf.ipv6_prefix,
			    key);
			srctab_release(&fl->src, key, c->flags & C_SRCOVF);
		}
		c->flags &= ~C_SRCOVF;
		if (to->conf.per_source > 0) {
			limits_key(&c->peer.sa, (int)to->conf.ipv6_prefix,
			    key);
			e = srctab_get(&tl->src, key, (double)to->conf.burst,
			    now);
			e->conns++;
			if (e == &tl->src.overflow)
				c->flags |= C_SRCOVF;
		}
		TAILQ_REMOVE(&fl->conns, c, link);
		TAILQ_INSERT_TAIL(&tl->conns, c, link);
		fl->nconns--;
		tl->nconns++;
		atomic_fetch_sub_explicit(&from->nconns, 1,
		    memory_order_relaxed);
		atomic_fetch_add_explicit(&to->nconns, 1, memory_order_relaxed);
		service_ref(to);
		c->svc = to;
		service_unref(from);
	}
}

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

void
sockd_conn_close(struct sockd_conn *sc)
{
	conn_close((struct conn *)sc);
}

void *
sockd_conn_data(const struct sockd_conn *sc)
{
	return ((const struct conn *)sc)->data;
}

void
sockd_conn_set_data(struct sockd_conn *sc, void *data)
{
	((struct conn *)sc)->data = data;
}

void *
sockd_conn_port_state(const struct sockd_conn *sc)
{
	return ((const struct conn *)sc)->svc->port_state;
}

const char *
sockd_conn_peer(const struct sockd_conn *sc)
{
	static _Thread_local char buf[64];

	return sockaddr_fmt(&((const struct conn *)sc)->peer.sa, buf,
	    sizeof(buf));
}

const struct sockaddr *
sockd_conn_peer_addr(const struct sockd_conn *sc)
{
	return &((const struct conn *)sc)->peer.sa;
}

void
sockd_conn_foreach_peer(struct sockd_conn *sc,
    void (*fn)(struct sockd_conn *, void *), void *arg)
{
	struct conn *c = (struct conn *)sc, *p, *next;

	for (p = TAILQ_FIRST(&conn_local(c)->conns); p != NULL; p = next) {
		next = TAILQ_NEXT(p, link);
		if (p != c && !(p->flags & (C_CLOSING | C_DEAD)))
			fn((struct sockd_conn *)p, arg);
	}
}

void
sockd_conn_log(const struct sockd_conn *sc, int pri, const char *fmt, ...)
{
	const struct conn *c = (const struct conn *)sc;
	char line[768];
	va_list ap;

	if (pri > log_get_level())
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_msg(pri, "%s %s: %s", c->svc->h->name, conn_peer(c), line);
}
