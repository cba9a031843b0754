#ifndef SOCKD_WORKER_H
#define SOCKD_WORKER_H

#include <sys/queue.h>

#include <stdatomic.h>

#include <uv.h>

#include "conn.h"
#include "dgram.h"
#include "listener.h"
#include "spawn.h"

struct plan;

LIST_HEAD(listenerq, listener);

enum worker_cmd { W_APPLY = 1, W_STOP = 2, W_ABORT = 4, W_STATS = 8 };

/* What a worker is given by whoever runs it, shared by all workers: where
 * to say it is done, and the daemon-wide settings and counters. */
struct worker_env {
	void			(*done)(void *);	/* any thread */
	void			*arg;
	int			 nworkers;	/* for log prefixes */
	atomic_uint		*drain_timeout;	/* seconds */
	atomic_uint		*nconns;	/* open, all workers */
	atomic_uint		*max_connections;
	int			*spawn_fds;	/* per worker, or NULL */
};

/*
 * One event loop: its connections (a conn_ctx), its datagrams (a
 * dgram_ctx), its listeners and its timers.  Worker 0 runs on the main
 * thread's loop, beside the supervisor; the others each on a thread of
 * their own, told what to do through a uv_async and a mask of commands.
 * Everything here is touched only from the worker's own thread, except
 * the command fields under mu.
 */
struct worker {
	int			 id;
	uv_loop_t		*loop;
	const struct worker_env	*env;
	uv_thread_t		 thread;
	struct conn_ctx		 cc;
	struct dgram_ctx	 dc;
	struct spawn_client	 spawn;		/* exec services' children */
	struct listener_env	 lenv;
	uv_timer_t		 tick;		/* idle sweep, once a second */
	atomic_ullong		 beat;		/* ms (uv_hrtime) of the last */
	uv_timer_t		 drain;
	struct listenerq	 listeners;
	int			 stopping;	/* 1 draining, 2 done */
	/* commands from the supervisor (threads other than worker 0) */
	uv_async_t		 async;
	uv_mutex_t		 mu;
	uv_sem_t		 done;		/* W_APPLY finished */
	unsigned int		 cmd;		/* worker_cmd bits */
	struct plan		*plan;		/* the reload to apply */
};

/* Sets up w's loop and handles (its thread starts in worker_spawn()). */
int	worker_init(struct worker *, const struct worker_env *, int id,
	    uv_loop_t *);
/* Starts w's thread, which applies p first; returns once it has. */
int	worker_spawn(struct worker *, struct plan *);
/*
 * Keeps the listeners of the addresses p says to keep (pointing them at
 * their new service), closes the others and starts p's new sockets,
 * marking in p what it serves.  Runs on w's thread: directly for worker
 * 0, through worker_command(W_APPLY) for others.
 */
void	worker_apply(struct worker *, struct plan *);
/* Sends cmd to a worker thread; W_APPLY (with p) waits until it is
 * done. */
void	worker_command(struct worker *, unsigned int cmd, struct plan *);
/* Stop accepting and drain (W_STOP), or close everything now (W_ABORT). */
void	worker_stop(struct worker *);
void	worker_abort(struct worker *);
void	worker_log_stats(struct worker *);
/* After its loop returned: frees what worker_init() allocated. */
void	worker_free(struct worker *);

#endif
