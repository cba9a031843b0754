/*
 * conn: one TCP connection, from accept to close, and the per-loop
 * context all connections of a loop share (struct conn_ctx).  Accepting
 * is admission first (max_connections, allow/deny, descriptors left,
 * per_source, rate: one reason, one counter, one log line each), then
 * the handler's tcp_connect.  Reads land in the context's shared buffer
 * and go to the handler straight away (whole lines for SOCKD_LINES
 * handlers, through the framer); a read never asks for more than the
 * connection's write queue can still take (connq.c writes, and pauses
 * reading while output waits).
 *
 * One read costs a bounded amount of work: a line handler is given at most
 * LINE_BUDGET lines per connection per loop turn.  What is left of the read
 * is copied aside, reading from that socket stops, and a uv_idle hands
 * over the next budget on each following turn (between other clients'
 * events) until it is used up.  Unfinished lines wait for line_timeout in
 * a heap ordered by due time, the context's timer set for the earliest.
 *
 * Closing never happens inside a handler's callback: it is queued on the
 * context and done from a uv_check once the callbacks of this loop turn
 * are over, so a handler iterating its peers never sees one vanish under
 * it.  The last connection of a draining context to go calls the empty
 * callback the context was made with (its worker then finishes).
 *
 * Descriptors: a connection is admitted only while a reserve of them is
 * left below RLIMIT_NOFILE (read once, when the first connection comes,
 * after the supervisor has set the limit), counting both the daemon's
 * open connections and the number the kernel gave the new one, so that a
 * client past it gets the busy line and a clean close, counted as no_fds
 * and logged, and reloads, plugins and listeners still find descriptors.
 *
 * A service with proxy_protocol takes a PROXY header (proxy.c) before
 * anything else.  On accept only proxy_from, max_connections and the
 * descriptors are checked: the peer is the balancer, whose address says
 * nothing of the client.  The connection then holds its descriptor and
 * its place under max_connections, and is listed (C_PROXY: hidden from
 * handlers and from the idle sweep), but the handler does not hear of it
 * until the header is complete: no tcp_connect, banner, idle timeout or
 * line framing before.  Its deadline, proxy_timeout, waits in the heap of
 * unfinished lines, which it cannot be in otherwise.  The carried address
 * then replaces the peer, and allow/deny, per_source and rate meet it as
 * they meet a direct client on accept; the per-source count is taken
 * then, so the close releases it on the same key.  The rest of the read
 * that ended the header is the client's first data.
 *
 * Every line about a connection, the daemon's and the handler's
 * (sockd_conn_log), starts with "SERVICE PEER: ", and is written up to
 * its service's log_level.  When a connection ends, its access record
 * says why (the first cause named, conn_end(); one word each in
 * end_words[]), how long it lasted, the bytes read and the bytes the
 * kernel took: at info with log_connections, else at debug.  Records
 * have a budget of their own per service and worker, and what a burst
 * held back is told by the next line or by the sweep once its interval
 * is over, never dropped silently.
 */
#include <sys/ioctl.h>
#include <sys/resource.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sockd/handler.h>

#include "acl.h"
#include "conn.h"
#include "conn_int.h"
#include "exec.h"
#include "handoff.h"
#include "log.h"
#include "proxy.h"
#include "service.h"
#include "spawn.h"
#include "util.h"

#define LINE_BUDGET	64		/* lines per connection per turn */

/* Why a connection is turned away at accept. */
enum refusal {
	REFUSE_NONE,
	REFUSE_BUSY,		/* max_connections */
	REFUSE_ACL,		/* allow/deny */
	REFUSE_NO_FDS,		/* descriptors near RLIMIT_NOFILE */
	REFUSE_PER_SOURCE,
	REFUSE_RATE,
	REFUSE_PROXY_FROM,	/* not a balancer of proxy_from */
};

/* Which of the checks conn_admit() makes: those of the room, which the
 * accepted socket meets, and those of the client, which for a PROXY
 * service wait for the address its header carries. */
#define ADMIT_ROOM	0x1	/* max_connections, descriptors */
#define ADMIT_PEER	0x2	/* allow/deny, per_source, rate */

static void	on_read(uv_stream_t *, ssize_t, const uv_buf_t *);
static void	on_alloc(uv_handle_t *, size_t, uv_buf_t *);
static void	backlog_schedule(struct conn *);
static void	on_backlog_idle(uv_idle_t *);
static void	conn_reap(struct conn_ctx *);
static void	conn_proxy_timeout(struct conn *);
static void	conn_proxy_input(struct conn *, const char *, size_t);
static void	conn_proxy_eof(struct conn *);

#define RECORD_BUDGET	1000		/* access records per 10 s */

/* The words of enum conn_end, in access records ("reason=idle"). */
static const char *const end_words[] = {
	[END_NONE] = "other",
	[END_EOF] = "eof",
	[END_ERROR] = "error",
	[END_QUIT] = "quit",
	[END_HANDLER] = "handler",
	[END_IDLE] = "idle",
	[END_SLOW] = "slow_reader",
	[END_NOMEM] = "no_memory",
	[END_DRAIN] = "drain",
	[END_STOP] = "stop",
	[END_BUSY] = "busy",
	[END_ACL] = "acl",
	[END_NO_FDS] = "no_fds",
	[END_PER_SOURCE] = "per_source",
	[END_RATE] = "rate",
	[END_PROXY_FROM] = "proxy_from",
	[END_PROXY_BAD] = "proxy_bad",
	[END_PROXY_TIMEOUT] = "proxy_timeout",
};

/* "SERVICE PEER: line" at pri, unless the service's log_level hides it;
 * with rl, within its budget of max lines per 10 s (lines a peer can
 * cause, per service and worker), and the next line written says how
 * many were held back. */
static void
conn_vlog(const struct conn *c, int pri, struct ratelimit *rl,
    unsigned int max, const char *fmt, va_list ap)
{
	char line[768], peer[64];
	unsigned int suppressed = 0;

	/* Checked first: a hidden line costs no share of the budget. */
	if (!service_logs(c->svc, pri))
		return;
	if (rl != NULL && !log_ratelimit_n(rl, max, &suppressed))
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	(void)sockaddr_fmt(&c->peer.sa, peer, sizeof(peer));
	if (suppressed > 0)
		log_line(pri, "%s %s: %s (%u similar lines suppressed)",
		    c->svc->conf.name, peer, line, suppressed);
	else
		log_line(pri, "%s %s: %s", c->svc->conf.name, peer, line);
}

void
conn_logx(const struct conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conn_vlog(c, LOG_WARNING, &conn_local(c)->rl, 10, fmt, ap);
	va_end(ap);
}

/* An access record at pri: with a budget of its own at info, so that a
 * flood of records does not silence the warnings, nor these. */
static void __attribute__((format(printf, 3, 4)))
conn_logr(const struct conn *c, int pri, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conn_vlog(c, pri, pri < LOG_DEBUG ? &conn_local(c)->arl : NULL,
	    RECORD_BUDGET, fmt, ap);
	va_end(ap);
}

void
conn_end(struct conn *c, enum conn_end why)
{
	if (c->why == END_NONE)
		c->why = why;
}

void
conn_failed(struct conn *c, const char *what, int rc)
{
	conn_log(c, LOG_DEBUG, "%s: %s", what, uv_strerror(rc));
	if (c->why == END_NONE) {
		c->why = END_ERROR;
		c->err = rc;
	}
	conn_abort(c);
}

/*
 * c's access record, once it is over: "closed: reason=idle
 * duration=12.345s in=120 out=4096", bytes read and bytes the kernel
 * took, at info with log_connections, else at debug (-d).  A cause
 * nobody named is the peer's end of file when there was one.
 */
static void
conn_record(const struct conn *c)
{
	enum conn_end why = c->why;
	uint64_t ms = uv_now(c->ctx->loop) - c->start;
	char err[48] = "";

	if (why == END_NONE && (c->flags & C_EOF))
		why = END_EOF;
	if (why == END_ERROR && c->err != 0)
		snprintf(err, sizeof(err), " error=%s", uv_err_name(c->err));
	conn_logr(c, c->svc->conf.log_connections ? LOG_INFO : LOG_DEBUG,
	    "closed: reason=%s duration=%llu.%03llus in=%llu out=%llu%s",
	    end_words[why], (unsigned long long)(ms / 1000),
	    (unsigned long long)(ms % 1000), (unsigned long long)c->nin,
	    (unsigned long long)c->nout, err);
}


static void
on_check(uv_check_t *h)
{
	conn_reap(h->data);
}

void
conn_schedule(struct conn *c)
{
	struct conn_ctx *ctx = c->ctx;

	if (c->flags & (C_LISTED | C_DEAD))
		return;
	c->flags |= C_LISTED;
	c->close_next = ctx->closing;
	ctx->closing = c;
	if (!uv_is_active((uv_handle_t *)&ctx->check))
		(void)uv_check_start(&ctx->check, on_check);
}

/* sockd_conn_close, quit, EOF. */
void
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

void
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
	struct conn_ctx *ctx = c->ctx;

	if (c->svc != NULL)
		service_unref(c->svc);
	free(c);
	if (ctx->draining && ctx->nconns == 0) {
		ctx->draining = 0;
		ctx->empty(ctx->empty_arg);
	}
}

static void
on_close_refused(uv_handle_t *h)
{
	free(h);
}

/*
 * Unfinished lines: a binary heap on ctx->partial keyed by partial_due,
 * so that services with different line_timeouts share the context's one
 * timer, set for the earliest entry.  The timer may fire early (its entry
 * moved later or went away); it then only sets itself again.
 */
static void	on_partial_timer(uv_timer_t *);

static void
partial_put(struct conn_ctx *ctx, size_t i, struct conn *c)
{
	ctx->partial[i] = c;
	c->pidx = i;
}

static void
partial_up(struct conn_ctx *ctx, size_t i)
{
	struct conn *c = ctx->partial[i];
	size_t up;

	while (i > 0) {
		up = (i - 1) / 2;
		if (ctx->partial[up]->partial_due <= c->partial_due)
			break;
		partial_put(ctx, i, ctx->partial[up]);
		i = up;
	}
	partial_put(ctx, i, c);
}

static void
partial_down(struct conn_ctx *ctx, size_t i)
{
	struct conn *c = ctx->partial[i];
	size_t k;

	for (;;) {
		k = 2 * i + 1;
		if (k >= ctx->npartial)
			break;
		if (k + 1 < ctx->npartial && ctx->partial[k + 1]->partial_due <
		    ctx->partial[k]->partial_due)
			k++;
		if (c->partial_due <= ctx->partial[k]->partial_due)
			break;
		partial_put(ctx, i, ctx->partial[k]);
		i = k;
	}
	partial_put(ctx, i, c);
}

/* Sets the timer for the heap's first entry, unless it fires before. */
static void
partial_timer_set(struct conn_ctx *ctx)
{
	uint64_t now, due;

	if (ctx->npartial == 0) {
		(void)uv_timer_stop(&ctx->partial_timer);
		return;
	}
	due = ctx->partial[0]->partial_due;
	if (uv_is_active((uv_handle_t *)&ctx->partial_timer) &&
	    ctx->partial_armed <= due)
		return;
	now = uv_now(ctx->loop);
	ctx->partial_armed = due;
	(void)uv_timer_start(&ctx->partial_timer, on_partial_timer,
	    due > now ? due - now : 0, 0);
}

static void
partial_disarm(struct conn *c)
{
	struct conn_ctx *ctx = c->ctx;
	struct conn *last;
	size_t i = c->pidx;

	if (!(c->flags & C_PARTIAL))
		return;
	c->flags &= ~C_PARTIAL;
	last = ctx->partial[--ctx->npartial];
	if (last != c) {
		partial_put(ctx, i, last);
		partial_up(ctx, i);
		partial_down(ctx, last->pidx);
	}
	if (ctx->npartial == 0)
		(void)uv_timer_stop(&ctx->partial_timer);
}

/* c is due at due (uv_now() time): its unfinished line, or its PROXY
 * header's deadline; -1 when there was no memory for it. */
static int
partial_arm_at(struct conn *c, uint64_t due)
{
	struct conn_ctx *ctx = c->ctx;
	struct conn **np;
	size_t cap;

	c->partial_due = due;
	if (c->flags & C_PARTIAL) {
		/* A reload may have changed its service's line_timeout. */
		partial_up(ctx, c->pidx);
		partial_down(ctx, c->pidx);
	} else {
		if (ctx->npartial == ctx->partialcap) {
			cap = ctx->partialcap > 0 ? 2 * ctx->partialcap : 64;
			if ((np = realloc(ctx->partial, cap * sizeof(*np))) ==
			    NULL)
				return -1;
			ctx->partial = np;
			ctx->partialcap = cap;
		}
		c->flags |= C_PARTIAL;
		partial_put(ctx, ctx->npartial++, c);
		partial_up(ctx, c->pidx);
	}
	partial_timer_set(ctx);
	return 0;
}

/* c's unfinished line is due line_timeout ms from now. */
static void
partial_arm(struct conn *c)
{
	/* At least 1 ms on, so that the timer's sweep ends.  Without
	 * memory, the line is handed over at the next input or EOF. */
	(void)partial_arm_at(c, uv_now(c->ctx->loop) +
	    (c->svc->conf.line_timeout > 0 ?
	    (uint64_t)c->svc->conf.line_timeout : 1));
}
static void
backlog_free(struct conn *c)
{
	if (c->flags & C_BACKLOGQ) {
		c->flags &= ~C_BACKLOGQ;
		TAILQ_REMOVE(&c->ctx->backlog, c, blink);
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
	conn_drain_cancel(c);
	if ((c->flags & C_ACCEPTED) && s->h->tcp_close != NULL)
		s->h->tcp_close(ABI(c));
	TAILQ_REMOVE(&l->conns, c, link);
	l->nconns--;
	c->ctx->nconns--;
	atomic_fetch_sub_explicit(&s->nconns, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(c->ctx->total, 1, memory_order_relaxed);
	/* Before its header, c was not counted on any source. */
	if (s->conf.per_source > 0 && !(c->flags & C_PROXY)) {
		limits_key(&c->peer.sa, (int)s->conf.ipv6_prefix, key);
		srctab_release(&l->src, key, c->flags & C_SRCOVF);
	}
	free(c->proxy);
	c->proxy = NULL;
	framer_free(&c->fr);
	conn_record(c);
	uv_close((uv_handle_t *)&c->tcp, on_close);
}

static void
conn_reap(struct conn_ctx *ctx)
{
	struct conn *c;

	while ((c = ctx->closing) != NULL) {
		ctx->closing = c->close_next;
		c->flags &= ~C_LISTED;
		if ((c->flags & C_ABORT) || c->queued == 0)
			conn_destroy(c);
	}
	(void)uv_check_stop(&ctx->check);
}

/* The idle list is in order of "listed", the last move to its tail;
 * progress only stamps "active", and moves c at most once a second, so
 * a busy connection costs a store per read.  The sweep stops at the
 * first entry listed within idle_timeout and sends live ones it passes
 * to the tail, so an idle connection is closed at most one idle_timeout
 * late. */
void
conn_list_tail(struct conn *c, uint64_t now)
{
	struct svc_local *l = conn_local(c);

	c->listed = now;
	TAILQ_REMOVE(&l->conns, c, link);
	TAILQ_INSERT_TAIL(&l->conns, c, link);
}

void
conn_sweep(struct conn_ctx *ctx, struct service *s, uint64_t now)
{
	struct svc_local *l = &s->local[ctx->id];
	struct conn *c, *next;
	uint64_t idle = (uint64_t)s->conf.idle_timeout * 1000;
	unsigned int n;

	/* Lines held back by a burst that nothing followed are told, not
	 * lost: they would have been written, at their level. */
	if ((n = log_ratelimit_flush(&l->rl)) > 0)
		log_line(LOG_WARNING, "%s: %u similar lines suppressed",
		    s->conf.name, n);
	if ((n = log_ratelimit_flush(&l->arl)) > 0)
		log_line(LOG_INFO, "%s: %u access records suppressed",
		    s->conf.name, n);
	if (idle == 0)
		return;
	for (c = TAILQ_FIRST(&l->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		if (c->listed + idle > now)
			break;
		/* A header on its way has proxy_timeout instead. */
		if (c->flags & (C_DEAD | C_PROXY))
			continue;
		if (c->active + idle > now) {
			conn_list_tail(c, now);
			continue;
		}
		stat_inc(&l->st.closed_idle);
		conn_log(c, LOG_DEBUG, "idle for %llds, closing",
		    s->conf.idle_timeout);
		conn_end(c, END_IDLE);
		conn_abort(c);
	}
}

void
conn_nomem(struct conn *c)
{
	conn_logx(c, "out of memory, closing");
	conn_end(c, END_NOMEM);
	conn_abort(c);
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
		conn_end(c, END_QUIT);
		conn_close(c);
		return 1;
	}
	if (c->svc->h->tcp_data != NULL)
		c->svc->h->tcp_data(ABI(c), line, len);
	if (c->flags & (C_CLOSING | C_PAUSED))
		return 1;
	return c->ctx->budget > 0 && --c->ctx->budget == 0;
}

/*
 * Classic clients send a line without its "\n" and wait for the answer.
 * An unfinished line that sees no more input for line_timeout ms is
 * handed over as it is; the context's timer runs only while some
 * connection has one.
 */
static void
on_partial_timer(uv_timer_t *t)
{
	struct conn_ctx *ctx = t->data;
	struct conn *c;
	uint64_t now = uv_now(ctx->loop);
	uv_os_fd_t fd;
	int waiting;

	while (ctx->npartial > 0 && (c = ctx->partial[0])->partial_due <= now) {
		partial_disarm(c);
		if (c->flags & C_PROXY) {
			if (!(c->flags & C_CLOSING))
				conn_proxy_timeout(c);
			continue;
		}
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
	partial_timer_set(ctx);
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

	c->ctx->budget = LINE_BUDGET;
	rc = framer_feed_some(&c->fr, (size_t)c->svc->conf.max_line, p, len,
	    conn_line, c, &used);
	c->ctx->budget = 0;
	if (rc == -1)
		conn_nomem(c);
	if (c->flags & C_CLOSING)
		return len;
	return used;
}

static void
backlog_schedule(struct conn *c)
{
	struct conn_ctx *ctx = c->ctx;

	if (c->flags & C_BACKLOGQ)
		return;
	c->flags |= C_BACKLOGQ;
	TAILQ_INSERT_TAIL(&ctx->backlog, c, blink);
	if (!uv_is_active((uv_handle_t *)&ctx->backlog_idle))
		(void)uv_idle_start(&ctx->backlog_idle, on_backlog_idle);
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

static void
backlog_run(struct conn *c)
{
	struct conn_ctx *ctx = c->ctx;
	size_t used;

	if (c->flags & C_CLOSING) {
		backlog_free(c);
		return;
	}
	if (c->flags & C_PAUSED)
		return;		/* conn_wrote() brings it back */
	ctx->reading = c;
	used = conn_lines(c, c->rest + c->restoff, c->restlen - c->restoff);
	ctx->reading = NULL;
	if (ctx->corked != NULL)
		conn_cork_flush(ctx);
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
	struct conn_ctx *ctx = h->data;
	struct backlogq q = TAILQ_HEAD_INITIALIZER(q);
	struct conn *c;

	TAILQ_CONCAT(&q, &ctx->backlog, blink);
	while ((c = TAILQ_FIRST(&q)) != NULL) {
		TAILQ_REMOVE(&q, c, blink);
		c->flags &= ~C_BACKLOGQ;
		backlog_run(c);
	}
	if (TAILQ_EMPTY(&ctx->backlog)) {
		(void)uv_idle_stop(h);
		conn_cork_shrink(ctx);
	}
}

/* Inlined: a call per read costs the echo round trip ~15 instructions. */
static inline __attribute__((always_inline)) void
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
	if (s->conf.quit != NULL && conn_is_quit(c, p, len)) {
		conn_end(c, END_QUIT);
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
	size_t max, room;

	buf->base = c->ctx->rbuf;
	buf->len = RBUF_SIZE;
	/* The header of a connection an exec program takes over is read a
	 * byte at a time, so that none of the client's own bytes after it
	 * is read by sockd: the program gets them all. */
	if ((c->flags & C_PROXY) && exec_handler(c->svc->h)) {
		buf->len = 1;
		return;
	}
	if (c->queued == 0 && c->svc->conf.max_queue >= RBUF_SIZE)
		return;
	max = (size_t)c->svc->conf.max_queue;
	room = c->queued < max ? max - c->queued : 0;
	if (room < RBUF_SIZE)
		buf->len = room;
}

static void
on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct conn *c = (struct conn *)st;

	if (n > 0) {
		if (c->flags & C_CLOSING)
			return;
		c->nin += (uint64_t)n;
		conn_touch(c);
		stat_add(&conn_local(c)->st.tcp_in, (uint64_t)n);
		c->ctx->reading = c;
		if (c->flags & C_PROXY)
			conn_proxy_input(c, buf->base, (size_t)n);
		else
			conn_input(c, buf->base, (size_t)n);
		c->ctx->reading = NULL;
		if (c->ctx->corked != NULL) {
			conn_cork_flush(c->ctx);
			conn_cork_shrink(c->ctx);
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
		if (c->flags & C_PROXY) {
			conn_proxy_eof(c);
			return;
		}
		c->ctx->reading = c;
		if ((c->svc->h->flags & SOCKD_LINES) && !(c->flags & C_CLOSING))
			(void)framer_flush(&c->fr, conn_line, c);
		c->ctx->reading = NULL;
		if (c->ctx->corked != NULL)
			conn_cork_flush(c->ctx);
		conn_close(c);
	} else if (n < 0) {
		conn_failed(c, "read", (int)n);
	}
}

/* Turns a connection away at once, after the busy line if there is one;
 * returns how much of the line the kernel took. */
static int
conn_refuse(uv_tcp_t *t, const char *line)
{
	uv_buf_t b;
	int n = 0;

	if (line != NULL) {
		b = uv_buf_init((char *)line, (unsigned int)strlen(line));
		if ((n = uv_try_write((uv_stream_t *)t, &b, 1)) < 0)
			n = 0;
	}
	uv_close((uv_handle_t *)t, on_close_refused);
	return n;
}

/* Out of memory for a new connection: still take it off the backlog, or
 * libuv stops accepting. */
static void
conn_accept_nomem(struct conn_ctx *ctx, uv_stream_t *server,
    struct service *s)
{
	uv_tcp_t *t;

	service_logx(s, &s->local[ctx->id], "out of memory, refusing a "
	    "connection");
	if ((t = malloc(sizeof(*t))) == NULL)
		return;
	if (uv_tcp_init(ctx->loop, t) == 0 && uv_accept(server,
	    (uv_stream_t *)t) == 0)
		(void)conn_refuse(t, NULL);
	else
		uv_close((uv_handle_t *)t, on_close_refused);
}

static pthread_once_t	 nofile_once = PTHREAD_ONCE_INIT;
static unsigned long	 nofile_max;	/* 0: no limit */
static unsigned long	 nofile_reserve;

static void
conn_nofile_init(void)
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

/* 1 when c, just accepted, with nconns open in the daemon, would eat into
 * the reserve kept below RLIMIT_NOFILE. */
static int
conn_fds_short(const struct conn *c, unsigned int nconns)
{
	uv_os_fd_t fd;

	(void)pthread_once(&nofile_once, conn_nofile_init);
	if (nofile_max == 0 || uv_fileno((const uv_handle_t *)&c->tcp,
	    &fd) != 0)
		return 0;
	/* The kernel hands out the lowest free number: every one below fd
	 * is taken.  nconns catches the holes closed connections leave. */
	return (unsigned long)fd + nofile_reserve >= nofile_max ||
	    (unsigned long)nconns + nofile_reserve >= nofile_max;
}

/* Whether c may be served: the limits and access control of its service
 * that what (ADMIT_ROOM, ADMIT_PEER) names, in order of cost.  Admitted
 * by ADMIT_PEER, it is counted on its source. */
static enum refusal
conn_admit(struct conn *c, uint64_t now, unsigned int what)
{
	struct service *s = c->svc;
	const struct svc_conf *sc = &s->conf;
	struct svc_local *l = conn_local(c);
	struct conn_ctx *ctx = c->ctx;
	struct srcent *e;
	uint8_t key[16];

	if ((what & ADMIT_ROOM) &&
	    (atomic_load_explicit(&s->nconns, memory_order_relaxed) >=
	    (unsigned long long)sc->max_connections ||
	    atomic_load_explicit(ctx->total, memory_order_relaxed) >=
	    atomic_load_explicit(ctx->max_total, memory_order_relaxed)))
		return REFUSE_BUSY;
	if ((what & ADMIT_PEER) && !acl_allowed(&sc->acl, &c->peer.sa))
		return REFUSE_ACL;
	if ((what & ADMIT_ROOM) && conn_fds_short(c,
	    atomic_load_explicit(ctx->total, memory_order_relaxed)))
		return REFUSE_NO_FDS;
	if (!(what & ADMIT_PEER) || (sc->per_source == 0 && sc->rate == 0))
		return REFUSE_NONE;
	limits_key(&c->peer.sa, (int)sc->ipv6_prefix, key);
	e = srctab_get(&l->src, key, (double)sc->burst, now);
	if (sc->per_source > 0 && e->conns >= sc->per_source)
		return REFUSE_PER_SOURCE;
	if (!srcent_take(e, (double)sc->rate, (double)sc->burst, now))
		return REFUSE_RATE;
	if (sc->per_source > 0) {
		e->conns++;
		if (e == &l->src.overflow)
			c->flags |= C_SRCOVF;
	}
	return REFUSE_NONE;
}

/* Counts, logs and turns away c, refused for why: at once when it was
 * refused on accept, through conn_abort() when its PROXY header made it
 * wait, open (its access record then comes at close); with
 * log_connections the line of one refused at once is an access record
 * ("refused: reason=per_source ..."). */
static void
conn_refused(struct conn *c, enum refusal why)
{
	const struct svc_conf *sc = &c->svc->conf;
	struct svc_stats *st = &conn_local(c)->st;
	const char *busy = sc->busy;
	enum conn_end end = END_BUSY;
	char text[128] = "";
	int out;

	switch (why) {
	case REFUSE_BUSY:
		stat_inc(&st->refused_busy);
		snprintf(text, sizeof(text), "refused: max_connections "
		    "reached");
		break;
	case REFUSE_ACL:
		stat_inc(&st->refused_acl);
		end = END_ACL;
		snprintf(text, sizeof(text), "refused by allow/deny");
		busy = NULL;
		break;
	case REFUSE_NO_FDS:
		stat_inc(&st->refused_nofds);
		end = END_NO_FDS;
		snprintf(text, sizeof(text), "refused: out of file descriptors "
		    "(limit %lu)", nofile_max);
		break;
	case REFUSE_PER_SOURCE:
		stat_inc(&st->refused_source);
		end = END_PER_SOURCE;
		snprintf(text, sizeof(text), "refused: per_source (%lld) "
		    "reached", sc->per_source);
		break;
	case REFUSE_RATE:
		stat_inc(&st->refused_rate);
		end = END_RATE;
		snprintf(text, sizeof(text), "refused: over rate (%lld/s)",
		    sc->rate);
		break;
	case REFUSE_PROXY_FROM:
		stat_inc(&st->refused_proxy);
		end = END_PROXY_FROM;
		snprintf(text, sizeof(text), "refused: not in proxy_from");
		busy = NULL;
		break;
	case REFUSE_NONE:
		break;
	}
	if (!(c->flags & C_PROXY)) {
		out = conn_refuse(&c->tcp, busy);
		if (sc->log_connections)
			conn_logx(c, "refused: reason=%s duration=0.000s in=0 "
			    "out=%d", end_words[end], out);
		else
			conn_logx(c, "%s", text);
		return;
	}
	if (!sc->log_connections)
		conn_logx(c, "%s", text);
	if (busy != NULL) {
		uv_buf_t b = uv_buf_init((char *)busy,
		    (unsigned int)strlen(busy));

		(void)uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
	}
	conn_end(c, end);
	conn_abort(c);
}

/* c holds a place: counted and listed, with its reference on the
 * service, and read from. */
static void
conn_open(struct conn *c, uint64_t now)
{
	struct service *s = c->svc;
	struct svc_local *l = conn_local(c);

	service_ref(s);
	c->active = c->listed = now;
	c->start = now;
	TAILQ_INSERT_TAIL(&l->conns, c, link);
	l->nconns++;
	c->ctx->nconns++;
	atomic_fetch_add_explicit(&s->nconns, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(c->ctx->total, 1, memory_order_relaxed);
	(void)uv_tcp_nodelay(&c->tcp, 1);
	(void)uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

/*
 * A connection of an exec service after its hand-off: what it still holds
 * of the limits (its place under max_connections and the daemon's, its
 * per_source count, its reference on the service) until its program
 * exits.  The conn itself, its handle and its buffers, are gone by then.
 */
struct handed {
	struct conn_ctx		*ctx;
	struct service		*svc;
	struct svc_local	*local;
	union {
		struct sockaddr		sa;
		struct sockaddr_in	sin;
		struct sockaddr_in6	sin6;
	}			 peer;
	int			 srcovf;
};

static void
on_close_handed(uv_handle_t *h)
{
	free(h);
}

/* What a connection of ctx for s, from peer, held of the limits is free. */
static void
conn_release(struct conn_ctx *ctx, struct service *s, struct svc_local *l,
    const struct sockaddr *peer, int srcovf)
{
	uint8_t key[16];

	l->nconns--;
	ctx->nconns--;
	atomic_fetch_sub_explicit(&s->nconns, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(ctx->total, 1, memory_order_relaxed);
	if (s->conf.per_source > 0) {
		limits_key(peer, (int)s->conf.ipv6_prefix, key);
		srctab_release(&l->src, key, srcovf);
	}
	service_unref(s);
	if (ctx->draining && ctx->nconns == 0) {
		ctx->draining = 0;
		ctx->empty(ctx->empty_arg);
	}
}

void
conn_ctx_hold(struct conn_ctx *ctx)
{
	ctx->nconns++;
}

void
conn_ctx_release(struct conn_ctx *ctx)
{
	ctx->nconns--;
	if (ctx->draining && ctx->nconns == 0) {
		ctx->draining = 0;
		ctx->empty(ctx->empty_arg);
	}
}

/* The program of a handed-off connection is gone: its place is free. */
static void
conn_handed_gone(void *arg, int ran)
{
	struct handed hd = *(struct handed *)arg;

	free(arg);
	conn_release(hd.ctx, hd.svc, hd.local, &hd.peer.sa, hd.srcovf);
}

/* c, admitted to an exec service, goes to a child of the spawner: its
 * banner is sent, its socket handed over, its handle closed. */
static void
conn_handoff(struct conn *c)
{
	struct service *s = c->svc;
	struct handed *hd = NULL;
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);
	uv_os_fd_t fd;
	uv_buf_t b;

	(void)uv_read_stop((uv_stream_t *)&c->tcp);
	TAILQ_REMOVE(&conn_local(c)->conns, c, link);
	c->flags |= C_CLOSING | C_DEAD;
	if (c->ctx->spawn == NULL || (hd = calloc(1, sizeof(*hd))) == NULL ||
	    uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0) {
		goto refuse;
	}
	hd->ctx = c->ctx;
	hd->svc = s;
	hd->local = conn_local(c);
	memcpy(&hd->peer, &c->peer, sizeof(hd->peer));
	hd->srcovf = (c->flags & C_SRCOVF) != 0;
	if (s->conf.banner != NULL) {
		b = uv_buf_init((char *)s->conf.banner,
		    (unsigned int)strlen(s->conf.banner));
		(void)uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
	}
	memset(&local, 0, sizeof(local));
	(void)getsockname(fd, (struct sockaddr *)&local, &llen);
	/* The program reads and writes it as inetd gives it: blocking.  The
	 * flag is the open file's, which the daemon is done with. */
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if (handoff_start(c->ctx->spawn, s, hd->local, fd, SOCKD_TCP,
	    &c->peer.sa, (struct sockaddr *)&local, conn_handed_gone, hd) ==
	    -1)
		goto refuse;
	framer_free(&c->fr);
	uv_close((uv_handle_t *)&c->tcp, on_close_handed);
	return;
refuse:
	if (s->conf.busy != NULL) {
		b = uv_buf_init((char *)s->conf.busy,
		    (unsigned int)strlen(s->conf.busy));
		(void)uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
	}
	framer_free(&c->fr);
	uv_close((uv_handle_t *)&c->tcp, on_close_handed);
	if (hd != NULL)
		free(hd);
	conn_release(c->ctx, s, conn_local(c), &c->peer.sa,
	    (c->flags & C_SRCOVF) != 0);
}

/* c is admitted: greeted and handed to its handler; via says how its
 * address came ("" when it is the socket's). */
static void
conn_start(struct conn *c, const char *via)
{
	struct service *s = c->svc;

	stat_inc(&conn_local(c)->st.accepted);
	conn_log(c, LOG_DEBUG, "open%s", via);
	if (exec_handler(s->h)) {
		conn_handoff(c);
		return;
	}
	if (s->conf.banner != NULL)
		(void)conn_send(c, s->conf.banner, strlen(s->conf.banner),
		    NULL);
	/* The banner could not be sent: the handler never hears of c. */
	if (c->flags & C_CLOSING)
		return;
	if (s->h->tcp_connect != NULL && s->h->tcp_connect(ABI(c)) == -1) {
		conn_end(c, END_HANDLER);
		conn_abort(c);
		return;
	}
	c->flags |= C_ACCEPTED;
}

/* c, just accepted by a proxy_protocol service: a balancer of
 * proxy_from, with room for it, waits for its header. */
static void
conn_proxy_accept(struct conn *c, uint64_t now)
{
	const struct svc_conf *sc = &c->svc->conf;
	enum refusal why;

	if (!acl_allowed(&sc->proxy_from, &c->peer.sa)) {
		conn_refused(c, REFUSE_PROXY_FROM);
		return;
	}
	if ((why = conn_admit(c, now, ADMIT_ROOM)) != REFUSE_NONE) {
		conn_refused(c, why);
		return;
	}
	if ((c->proxy = calloc(1, sizeof(*c->proxy))) == NULL) {
		conn_logx(c, "out of memory, refusing a connection");
		conn_refuse(&c->tcp, NULL);
		return;
	}
	c->flags |= C_PROXY;
	conn_open(c, now);
	if (partial_arm_at(c, now + (uint64_t)sc->proxy_timeout * 1000) ==
	    -1)
		conn_nomem(c);
}

/* The header never came whole within proxy_timeout. */
static void
conn_proxy_timeout(struct conn *c)
{
	stat_inc(&conn_local(c)->st.proxy_timeout);
	conn_end(c, END_PROXY_TIMEOUT);
	conn_logx(c, "no complete PROXY header within %llds, closing",
	    c->svc->conf.proxy_timeout);
	/* From a timer, the check that reaps closes would wait for the
	 * next event or tick; no handler knows of c, so it goes now. */
	c->flags |= C_CLOSING | C_ABORT;
	(void)uv_read_stop((uv_stream_t *)&c->tcp);
	conn_destroy(c);
}

/* The balancer closed before its header was complete.  Without a byte
 * it is no header at all (a health check that only connects). */
static void
conn_proxy_eof(struct conn *c)
{
	if (c->proxy->taken == 0) {
		conn_end(c, END_EOF);
		conn_log(c, LOG_DEBUG, "closed before a PROXY header");
	} else {
		stat_inc(&conn_local(c)->st.proxy_bad);
		conn_end(c, END_PROXY_BAD);
		conn_logx(c, "PROXY header cut short after %zu bytes, closing",
		    c->proxy->taken);
	}
	conn_abort(c);
}

/* The header is complete: its address, if it carries one, becomes the
 * peer, which then meets allow/deny and the limits, and the handler
 * hears of c. */
static void
conn_proxy_done(struct conn *c)
{
	const struct proxy_hdr *h = &c->proxy->hdr;
	const struct sockaddr *sa = proxy_peer(h);
	char real[64], via[128];
	enum refusal why;

	partial_disarm(c);
	(void)sockaddr_fmt(&c->peer.sa, real, sizeof(real));
	if (sa != NULL) {
		memset(&c->peer, 0, sizeof(c->peer));
		memcpy(&c->peer, sa, sa->sa_family == AF_INET ?
		    sizeof(c->peer.sin) : sizeof(c->peer.sin6));
		snprintf(via, sizeof(via), " (PROXY v%d from %s)", h->version,
		    real);
	} else
		snprintf(via, sizeof(via), " (PROXY v%d %s, no client address)",
		    h->version, h->cmd == PROXY_CMD_LOCAL ? "LOCAL" :
		    h->family == PROXY_FAM_UNIX ? "AF_UNIX" :
		    h->version == 1 ? "UNKNOWN" : "UNSPEC");
	free(c->proxy);
	c->proxy = NULL;
	if ((why = conn_admit(c, uv_now(c->ctx->loop), ADMIT_PEER)) !=
	    REFUSE_NONE) {
		conn_refused(c, why);
		return;
	}
	c->flags &= ~C_PROXY;
	conn_start(c, via);
}

/* A read of a connection whose header is not complete yet: the header's
 * bytes go to the parser, what follows it to the handler. */
static void
conn_proxy_input(struct conn *c, const char *p, size_t len)
{
	size_t used;

	switch (proxy_feed(c->proxy, p, len, &used)) {
	case PROXY_MORE:
		return;
	case PROXY_ERROR:
		stat_inc(&conn_local(c)->st.proxy_bad);
		conn_end(c, END_PROXY_BAD);
		conn_logx(c, "%s, closing",
		    proxy_strerror(proxy_error(c->proxy)));
		conn_abort(c);
		return;
	case PROXY_DONE:
		break;
	}
	conn_proxy_done(c);
	if (used < len && !(c->flags & C_CLOSING))
		conn_input(c, p + used, len - used);
}

void
conn_accept(struct conn_ctx *ctx, uv_stream_t *server, struct service *s)
{
	struct conn *c;
	uint64_t now = uv_now(ctx->loop);
	enum refusal why;
	int len = sizeof(c->peer), rc;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		conn_accept_nomem(ctx, server, s);
		return;
	}
	c->ctx = ctx;
	/* Not a reference yet: a refused connection never holds one. */
	c->svc = s;
	c->local = &s->local[ctx->id];
	(void)uv_tcp_init(ctx->loop, &c->tcp);
	if ((rc = uv_accept(server, (uv_stream_t *)&c->tcp)) < 0 ||
	    (rc = uv_tcp_getpeername(&c->tcp, &c->peer.sa, &len)) < 0) {
		log_debug("%s: accept: %s", s->conf.name, uv_strerror(rc));
		uv_close((uv_handle_t *)&c->tcp, on_close_refused);
		return;
	}
	if (s->conf.proxy_protocol) {
		conn_proxy_accept(c, now);
		return;
	}
	if ((why = conn_admit(c, now, ADMIT_ROOM | ADMIT_PEER)) !=
	    REFUSE_NONE)
		conn_refused(c, why);
	else {
		conn_open(c, now);
		conn_start(c, "");
	}
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
		now = uv_now(c->ctx->loop);
		/* One still reading its PROXY header has no source yet:
		 * conn_proxy_done() counts it on to. */
		if (from->conf.per_source > 0 && !(c->flags & C_PROXY)) {
			limits_key(&c->peer.sa, (int)from->conf.ipv6_prefix,
			    key);
			srctab_release(&fl->src, key, c->flags & C_SRCOVF);
		}
		c->flags &= ~C_SRCOVF;
		if (to->conf.per_source > 0 && !(c->flags & C_PROXY)) {
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
		c->local = tl;
		service_unref(from);
	}
}

void
conn_ctx_init(struct conn_ctx *ctx, uv_loop_t *loop, int id,
    atomic_uint *total, atomic_uint *max_total, void (*empty)(void *),
    void *arg)
{
	ctx->loop = loop;
	ctx->id = id;
	ctx->rbuf = xcalloc(1, RBUF_SIZE);
	ctx->total = total;
	ctx->max_total = max_total;
	ctx->empty = empty;
	ctx->empty_arg = arg;
	(void)uv_check_init(loop, &ctx->check);
	ctx->check.data = ctx;
	(void)uv_timer_init(loop, &ctx->partial_timer);
	ctx->partial_timer.data = ctx;
	TAILQ_INIT(&ctx->backlog);
	(void)uv_idle_init(loop, &ctx->backlog_idle);
	ctx->backlog_idle.data = ctx;
	TAILQ_INIT(&ctx->drainq);
	(void)uv_idle_init(loop, &ctx->drain_idle);
	ctx->drain_idle.data = ctx;
}

void
conn_ctx_close(struct conn_ctx *ctx)
{
	uv_close((uv_handle_t *)&ctx->check, NULL);
	uv_close((uv_handle_t *)&ctx->partial_timer, NULL);
	uv_close((uv_handle_t *)&ctx->backlog_idle, NULL);
	uv_close((uv_handle_t *)&ctx->drain_idle, NULL);
}

void
conn_ctx_free(struct conn_ctx *ctx)
{
	free(ctx->pieces);
	free(ctx->partial);
	free(ctx->rbuf);
}

unsigned int
conn_ctx_count(const struct conn_ctx *ctx)
{
	return ctx->nconns;
}

unsigned int
conn_ctx_drain(struct conn_ctx *ctx)
{
	/* The programs of exec services are asked to end now. */
	if (ctx->spawn != NULL)
		spawn_kill_all(ctx->spawn, SIGTERM);
	ctx->draining = ctx->nconns > 0;
	return ctx->nconns;
}

struct abort_arg {
	struct conn_ctx		*ctx;
	enum conn_end		 why;
};

static void
abort_one(struct service *s, void *arg)
{
	struct abort_arg *a = arg;
	struct conn *c;

	TAILQ_FOREACH(c, &s->local[a->ctx->id].conns, link) {
		conn_end(c, a->why);
		conn_abort(c);
	}
}

void
conn_ctx_abort_all(struct conn_ctx *ctx)
{
	struct abort_arg a = { ctx, END_STOP };

	if (ctx->spawn != NULL)
		spawn_kill_all(ctx->spawn, SIGKILL);
	service_foreach(abort_one, &a);
}

void
conn_ctx_cut(struct conn_ctx *ctx)
{
	struct abort_arg a = { ctx, END_DRAIN };

	if (ctx->spawn != NULL)
		spawn_kill_all(ctx->spawn, SIGKILL);
	service_foreach(abort_one, &a);
}

/* The ABI side. */

void
sockd_conn_close(struct sockd_conn *sc)
{
	conn_end((struct conn *)sc, END_HANDLER);
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
		if (p != c && !(p->flags & (C_CLOSING | C_DEAD | C_PROXY)))
			fn((struct sockd_conn *)p, arg);
	}
}

void
sockd_conn_log(const struct sockd_conn *sc, int pri, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conn_vlog((const struct conn *)sc, pri, NULL, 0, fmt, ap);
	va_end(ap);
}
