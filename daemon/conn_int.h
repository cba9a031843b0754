#ifndef SOCKD_CONN_INT_H
#define SOCKD_CONN_INT_H

/*
 * The inside of a connection, shared by conn.c (lifecycle and reading)
 * and connq.c (the write queue, corking and fan-out) and by nothing else.
 * It names no other daemon header than the framer's: conn.h comes from
 * whoever includes this.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <sys/queue.h>

#include <uv.h>

#include "framer.h"
#include "service.h"

struct conn_ctx;
struct proxy;
struct service;
struct sockd_msg;
struct svc_local;

#define C_CLOSING	0x01	/* close requested: no more reads, writes */
#define C_ABORT		0x02	/* close without flushing */
#define C_DEAD		0x04	/* handler told, uv_close() called */
#define C_LISTED	0x08	/* on ctx->closing */
#define C_ACCEPTED	0x10	/* tcp_connect said yes: tcp_close is due */
#define C_PAUSED	0x20	/* reading stopped for back-pressure */
#define C_EOF		0x40
#define C_PARTIAL	0x80	/* in the heap ctx->partial */
#define C_DRAINQ	0x100	/* on ctx->drainq */
#define C_CORKED	0x200	/* on ctx->corked */
#define C_SRCOVF	0x400	/* per_source counted on the overflow entry */
#define C_BACKLOG	0x800	/* has c->rest: reading stopped */
#define C_BACKLOGQ	0x1000	/* on ctx->backlog */
#define C_PROXY		0x2000	/* its PROXY header is not taken yet */

/* Why a connection ended, for its access record; the first cause
 * named wins (conn_end()).  Their words are in conn.c's end_words[]. */
enum conn_end {
	END_NONE,		/* none named: see conn_record() */
	END_EOF,		/* the peer closed its side */
	END_ERROR,		/* a read or write failed (reset) */
	END_QUIT,		/* the quit word */
	END_HANDLER,		/* sockd_conn_close(), tcp_connect() said no */
	END_IDLE,		/* idle_timeout */
	END_SLOW,		/* output past max_queue */
	END_NOMEM,
	END_DRAIN,		/* still open when drain_timeout ran out */
	END_STOP,		/* closed at once at stop */
	/* Refused at accept, before it was served. */
	END_BUSY,		/* max_connections */
	END_ACL,		/* allow/deny */
	END_NO_FDS,		/* descriptors near RLIMIT_NOFILE */
	END_PER_SOURCE,
	END_RATE,
	END_PROXY_FROM,		/* not a balancer of proxy_from */
	END_PROXY_BAD,		/* a malformed or cut PROXY header */
	END_PROXY_TIMEOUT,	/* no whole header within proxy_timeout */
};

/* The handler's view of a conn: the same object, behind an opaque type. */
#define ABI(c)		((struct sockd_conn *)(c))

/* One TCP connection.  The uv handle comes first: libuv callbacks cast
 * the handle back to the conn. */
struct conn {
	uv_tcp_t		 tcp;
	struct service		*svc;
	struct conn_ctx		*ctx;
	TAILQ_ENTRY(conn)	 link;		/* svc->conns, by activity */
	struct conn		*close_next;	/* ctx->closing */
	TAILQ_ENTRY(conn)	 dlink;		/* ctx->drainq */
	TAILQ_ENTRY(conn)	 blink;		/* ctx->backlog */
	size_t			 pidx;		/* in the heap ctx->partial */
	uint64_t		 partial_due;	/* when to hand it over */
	char			*rest;		/* a read's lines left over */
	size_t			 restlen;
	size_t			 restoff;	/* how much of it is done */
	void			*data;		/* the handler's */
	struct proxy		*proxy;		/* while C_PROXY */
	struct framer		 fr;
	size_t			 queued;	/* bytes in write requests */
	uint64_t		 active;	/* uv_now() of last progress */
	uint64_t		 listed;	/* when it went to the tail */
	struct conn		*cork_next;	/* ctx->corked */
	size_t			 corked;	/* bytes in its pieces */
	int32_t			 cork_head;	/* ctx->pieces of this conn */
	int32_t			 cork_tail;
	union {
		struct sockaddr		sa;
		struct sockaddr_in	sin;
		struct sockaddr_in6	sin6;
	}			 peer;
	unsigned int		 flags;
	struct svc_local	*local;		/* &svc->local[ctx->id] */
	uint64_t		 start;		/* uv_now() when admitted */
	uint64_t		 nin;		/* bytes read */
	uint64_t		 nout;		/* bytes the kernel took */
	enum conn_end		 why;		/* see conn_end() */
	int			 err;		/* the libuv error, END_ERROR */
};

/* This worker's part of c's service, kept with c (set with c->svc): it
 * is wanted on every read and write. */
static inline struct svc_local *
conn_local(const struct conn *c)
{
	return c->local;
}

/* conn.c */
/* Close once what is queued has been sent; conn_schedule() queues the
 * close itself for the end of the loop turn. */
void	conn_close(struct conn *);
void	conn_schedule(struct conn *);
/* Names why c ends, unless a cause was named before: the first wins. */
void	conn_end(struct conn *, enum conn_end);
/* A read or write of c failed with the libuv error rc: it costs c. */
void	conn_failed(struct conn *, const char *what, int rc);
/* Reads from c again, unless something still holds it back. */
void	conn_resume(struct conn *);
/* Moves c to the tail of its idle list, listed at now. */
void	conn_list_tail(struct conn *, uint64_t now);

/* c made progress: stamps it, and keeps the idle list in order (see
 * conn_sweep()).  Inline: it runs on every read and write. */
static inline void
conn_touch(struct conn *c)
{
	c->active = uv_now(c->tcp.loop);
	if (c->active >= c->listed + 1000)
		conn_list_tail(c, c->active);
}
/* "SERVICE PEER: message": conn_log() at pri, unless the level is off
 * (the handlers' sockd_conn_log()); conn_logx() a warning a peer can
 * cause, rate limited per service and worker. */
#define conn_log(c, ...)	sockd_conn_log(ABI(c), __VA_ARGS__)
void	conn_logx(const struct conn *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Closes c when memory for its input or output ran out. */
void	conn_nomem(struct conn *);

/* connq.c */
/* Sends p (or what msg holds, shared) on c; see sockd_conn_write(). */
int	conn_send(struct conn *, const char *, size_t, struct sockd_msg *);
/* The end of a read's turn: every corked peer gets its pieces. */
void	conn_cork_flush(struct conn_ctx *);
/* If the piece array grew in a burst that is over, give it back. */
void	conn_cork_shrink(struct conn_ctx *);
/* Forgets c's place in the drain queue (tcp_drain due next turn). */
void	conn_drain_cancel(struct conn *);

#endif
