#ifndef SOCKD_CONN_H
#define SOCKD_CONN_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/queue.h>

#include <uv.h>

#include "framer.h"

struct service;
struct worker;

/* One TCP connection.  The uv handle comes first: libuv callbacks cast
 * the handle back to the conn. */
struct conn {
	uv_tcp_t		 tcp;
	struct service		*svc;
	struct worker		*w;
	TAILQ_ENTRY(conn)	 link;		/* svc->conns, by activity */
	struct conn		*close_next;	/* w->closing */
	TAILQ_ENTRY(conn)	 dlink;		/* w->drainq */
	TAILQ_ENTRY(conn)	 blink;		/* w->backlog */
	size_t			 pidx;		/* in the heap w->partial */
	uint64_t		 partial_due;	/* when to hand it over */
	char			*rest;		/* a read's lines left over */
	size_t			 restlen;
	size_t			 restoff;	/* how much of it is done */
	void			*data;		/* the handler's */
	struct framer		 fr;
	size_t			 queued;	/* bytes in write requests */
	uint64_t		 active;	/* uv_now() of the last progress */
	uint64_t		 listed;	/* when it went to the list tail */
	struct conn		*cork_next;	/* w->corked */
	size_t			 corked;	/* bytes in its pieces */
	int32_t			 cork_head;	/* w->pieces of this conn */
	int32_t			 cork_tail;
	union {
		struct sockaddr		sa;
		struct sockaddr_in	sin;
		struct sockaddr_in6	sin6;
	}			 peer;
	unsigned int		 flags;
};

/* Accepts one connection from the listening stream for svc; applies the
 * service's limits and access control, then hands it to the handler. */
void	conn_accept(struct worker *, uv_stream_t *, struct service *);
/* Closes the connections waiting in w->closing (the worker's uv_check). */
void	conn_reap(struct worker *);
/* Closes at once, without flushing (idle, shutdown deadline). */
void	conn_abort(struct conn *);
/* Idle sweep of one service on w: closes what idled past idle_timeout. */
void	conn_sweep(struct service *, struct worker *, uint64_t now);
/* Moves from's connections on worker to to (a reload, reconfigure()). */
void	conn_adopt(struct service *from, struct service *to, int worker);

#endif
