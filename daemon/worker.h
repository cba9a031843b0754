#ifndef SOCKD_WORKER_H
#define SOCKD_WORKER_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <stdint.h>

#include <uv.h>

#define RBUF_SIZE	65536		/* one TCP read */
#define UBUF_SIZE	(8 * 65536)	/* one recvmmsg batch of datagrams */

struct conn;
struct listener;
struct sockd_msg;

/* A write to another connection held until the end of a read callback
 * (see conn.c: fan-out is sent with one writev per peer). */
struct piece {
	struct sockd_msg	*m;
	int32_t			 next;	/* the conn's next piece, or -1 */
};
struct service;
struct supervisor;
TAILQ_HEAD(drainq, conn);
TAILQ_HEAD(backlogq, conn);
LIST_HEAD(listenerq, listener);

/* A socket the supervisor bound for this worker, to start on its loop. */
struct newsock {
	int			 fd;
	unsigned int		 proto;
	struct sockaddr_storage	 addr;
	struct service		*svc;
	struct newsock		*next;
};

enum worker_cmd { W_APPLY = 1, W_STOP = 2, W_ABORT = 4, W_STATS = 8 };

/*
 * One event loop and what its callbacks share: the read buffers (no
 * connection owns a buffer while it waits), its listeners, the list of
 * connections to close once the current callbacks are done, its timers.
 * Worker 0 runs on the main thread's loop, beside the supervisor; the
 * others each on a thread of their own, told what to do through a
 * uv_async and a mask of commands.  Everything here is touched only from
 * the worker's own thread, except the command fields under mu.
 */
struct worker {
	int			 id;
	uv_loop_t		*loop;
	struct supervisor	*sup;
	uv_thread_t		 thread;
	char			*rbuf;
	char			*ubuf;
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
	uv_timer_t		 tick;		/* idle sweep, once a second */
	uv_timer_t		 drain;
	struct listenerq	 listeners;
	struct conn		*reading;	/* in its on_read, or NULL */
	struct conn		*corked;	/* have pieces, via cork_next */
	struct piece		*pieces;	/* shrunk after a burst */
	size_t			 npieces;
	size_t			 piececap;
	unsigned int		 nconns;
	int			 stopping;	/* 1 draining, 2 done */
	/* commands from the supervisor (threads other than worker 0) */
	uv_async_t		 async;
	uv_mutex_t		 mu;
	uv_sem_t		 done;		/* W_APPLY finished */
	unsigned int		 cmd;		/* worker_cmd bits */
	unsigned int		 gen;		/* the reload to apply */
	struct newsock		*news;		/* sockets to start */
};

/* Sets up w's loop and handles (its thread starts in worker_spawn()). */
int	worker_init(struct worker *, struct supervisor *, int id,
	    uv_loop_t *);
int	worker_spawn(struct worker *);
/* Keeps the listeners claimed by reload gen (pointing them at their new
 * service), closes the others and starts w->news.  Runs on w's thread:
 * directly for worker 0, through worker_command(W_APPLY) for others. */
void	worker_apply(struct worker *, unsigned int gen);
/* Sends cmd to a worker thread; W_APPLY waits until it is done. */
void	worker_command(struct worker *, unsigned int cmd, unsigned int gen);
/* Stop accepting and drain (W_STOP), or close everything now (W_ABORT). */
void	worker_stop(struct worker *);
void	worker_abort(struct worker *);
void	worker_log_stats(struct worker *);
/* A connection of w is gone: while draining, the last one ends w. */
void	worker_conn_gone(struct worker *);
/* After its loop returned: frees what worker_init() allocated. */
void	worker_free(struct worker *);

#endif
