#ifndef SOCKD_CONN_H
#define SOCKD_CONN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <uv.h>

#define RBUF_SIZE	65536		/* one TCP read */

struct conn;
struct service;
struct sockd_msg;
struct spawn_client;

/* A write to another connection held until the end of a read callback
 * (see connq.c: fan-out is sent with one writev per peer). */
struct piece {
	struct sockd_msg	*m;
	int32_t			 next;	/* the conn's next piece, or -1 */
};
TAILQ_HEAD(drainq, conn);
TAILQ_HEAD(backlogq, conn);

/*
 * The connections of one event loop and what their callbacks share: the
 * read buffer (no connection owns one while it waits), the list of
 * connections to close once the current callbacks are done, the heap of
 * unfinished lines, the queues of work left for the next turns, the
 * pieces of a read's fan-out.  Owned by conn.c: others only embed it and
 * go through the functions below.  Touched only from its loop's thread,
 * except the two daemon-wide counters it was handed.
 */
struct conn_ctx {
	uv_loop_t		*loop;
	int			 id;		/* svc->local[id] is ours */
	char			*rbuf;
	atomic_uint		*total;		/* open, all loops */
	atomic_uint		*max_total;	/* max_connections */
	void			(*empty)(void *);
	void			*empty_arg;
	int			 draining;
	unsigned int		 nconns;
	uv_check_t		 check;
	struct conn		*closing;
	struct conn		**partial;	/* unfinished lines, a heap */
	size_t			 npartial;
	size_t			 partialcap;
	uint64_t		 partial_armed;	/* when partial_timer fires */
	uv_timer_t		 partial_timer;
	struct backlogq		 backlog;	/* lines left for next turns */
	uv_idle_t		 backlog_idle;
	unsigned int		 budget;	/* lines left in this turn */
	struct drainq		 drainq;	/* tcp_drain due next turn */
	uv_idle_t		 drain_idle;
	struct conn		*reading;	/* in its on_read, or NULL */
	struct conn		*corked;	/* have pieces, via cork_next */
	struct piece		*pieces;	/* shrunk after a burst */
	size_t			 npieces;
	size_t			 piececap;
	struct spawn_client	*spawn;		/* exec: this loop's channel */
};

/*
 * Sets up ctx on loop for worker id: total and max_total are the
 * daemon-wide count of open connections and its limit, shared with the
 * other loops; empty(arg) is called when the last connection of a
 * draining context is gone (see conn_ctx_drain()).
 */
void	conn_ctx_init(struct conn_ctx *, uv_loop_t *, int id,
	    atomic_uint *total, atomic_uint *max_total,
	    void (*empty)(void *), void *arg);
/* Closes ctx's handles, once it has no connection left. */
void	conn_ctx_close(struct conn_ctx *);
/* After its loop returned: frees what conn_ctx_init() allocated. */
void	conn_ctx_free(struct conn_ctx *);
/* The connections open on ctx. */
unsigned int conn_ctx_count(const struct conn_ctx *);
/* From now on the last connection to go calls the empty callback;
 * returns how many are open (0: it will not be called). */
unsigned int conn_ctx_drain(struct conn_ctx *);
/* Something other than a connection (the program of a wait service)
 * that draining waits for, as for a connection, until released. */
void	conn_ctx_hold(struct conn_ctx *);
void	conn_ctx_release(struct conn_ctx *);
/* Closes every connection of ctx at once, without flushing (at stop). */
void	conn_ctx_abort_all(struct conn_ctx *);
/* The same when drain_timeout ran out: their records say "drain". */
void	conn_ctx_cut(struct conn_ctx *);
/* Idle sweep of service s on ctx: closes what idled past idle_timeout. */
void	conn_sweep(struct conn_ctx *, struct service *, uint64_t now);

/* Accepts one connection from the listening stream for svc; applies the
 * service's limits and access control, then hands it to the handler. */
void	conn_accept(struct conn_ctx *, uv_stream_t *, struct service *);
/* Closes at once, without flushing (idle, shutdown deadline). */
void	conn_abort(struct conn *);
/* Moves from's connections on worker to to (a reload, reconfigure()). */
void	conn_adopt(struct service *from, struct service *to, int worker);

#endif
