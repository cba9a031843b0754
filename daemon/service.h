#ifndef SOCKD_SERVICE_H
#define SOCKD_SERVICE_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/queue.h>

#include "config.h"
#include "sources.h"
#include "stats.h"
#include "log.h"

struct conn;
TAILQ_HEAD(connq, conn);

/*
 * The counters of one service on one worker, as X(name) for whoever needs
 * the list (the sum of a scrape, the SIGUSR1 line).  Written by that
 * worker's thread only, with stat_inc()/stat_add() (stats.h), read by any.
 */
#define SVC_COUNTERS(X) \
	X(accepted) \
	X(refused_busy)		/* max_connections */ \
	X(refused_acl) \
	X(refused_source)	/* per_source */ \
	X(refused_rate) \
	X(refused_nofds)	/* descriptors near RLIMIT_NOFILE */ \
	X(refused_proxy)	/* not from a proxy_from balancer */ \
	X(proxy_bad)		/* malformed or cut PROXY header */ \
	X(proxy_timeout)	/* none complete in proxy_timeout */ \
	X(closed_idle) \
	X(closed_slow)		/* max_queue */ \
	X(dgrams) \
	X(replies) \
	X(dropped_source)	/* broadcast, multicast, port < 1024 */ \
	X(dropped_truncated)	/* truncated, or a receive error */ \
	X(dropped_acl) \
	X(dropped_rate) \
	X(dropped_budget)	/* past max_reply or max_reply_growth */ \
	X(dropped_send)		/* the kernel did not take the reply */ \
	X(dropped_handler)	/* sockd_dgram_drop() */ \
	X(exec_started)		/* children of exec */ \
	X(exec_failed)		/* could not be started */ \
	X(exec_exited) \
	X(tcp_in)		/* bytes */ \
	X(tcp_out) \
	X(udp_in) \
	X(udp_out)

struct svc_stats {
#define SVC_COUNTER_FIELD(n)	atomic_uint_least64_t n;
	SVC_COUNTERS(SVC_COUNTER_FIELD)
#undef SVC_COUNTER_FIELD
};

/* A service's counters summed over its workers, at one moment. */
struct svc_totals {
#define SVC_TOTAL_FIELD(n)	uint64_t n;
	SVC_COUNTERS(SVC_TOTAL_FIELD)
#undef SVC_TOTAL_FIELD
	uint64_t	 open;		/* connections open now */
};

/* What one worker knows of a service; only that worker's thread touches
 * it, so none of it needs a lock. */
struct svc_local {
	struct connq		 conns;	/* least recently active first */
	unsigned int		 nconns;
	struct srctab		 src;	/* per_source and rate, this worker */
	struct svc_stats	 st;
	struct ratelimit	 rl;	/* for log lines peers can cause */
	struct ratelimit	 arl;	/* for access records */
};

/*
 * One configured service: its settings, its handler and the handler's port
 * state, and per worker its live connections.  Held by the supervisor
 * while it is in the running configuration, by each of its listeners and
 * by each connection, so that after a reload old connections finish on
 * the settings they started with.  The last reference, on whichever
 * thread drops it, unconfigures and frees it.
 */
struct service {
	struct svc_conf		 conf;
	const struct sockd_handler *h;
	void			*port_state;
	atomic_uint		 refs;
	atomic_uint		 nconns;	/* all workers: max_connections */
	int			 nlocal;
	struct svc_local	*local;		/* one per worker */
	LIST_ENTRY(service)	 all;		/* every live service */
	int			 listed;
};

/* Takes over *sc's fields (leaving *sc empty), finds the handler, checks it
 * serves the protocols and options, and runs its configure().  Returns the
 * service with one reference, or NULL with the errors in errs. */
struct service	*service_new(struct svc_conf *sc, const char *handler_dir,
		    int nworkers, struct errlist *errs);
/* Adds s to the list service_foreach() walks (the sweeps, shutdown). */
void		 service_publish(struct service *);
/* Calls fn for every published live service, under the list's lock: fn
 * must not drop the last reference of a service. */
void		 service_foreach(void (*fn)(struct service *, void *), void *);
void		 service_ref(struct service *);
/* Drops a reference; the last one unconfigures and frees the service. */
void		 service_unref(struct service *);
/* Adds s's counters of every worker to *t (any thread). */
void		 service_totals(const struct service *, struct svc_totals *t);
/* Logs one worker's counters (worker -1: the only one). */
void		 service_log_stats(const struct service *, int worker);
/* The level s logs its peers' lines up to: its log_level, else the
 * daemon's. */
int		 service_log_level(const struct service *);
/* 1 when a line of s at priority pri is written. */
int		 service_logs(const struct service *, int pri);
/* Logs a line a peer caused, a warning, unless s's log_level hides it;
 * at most 10 per 10 s per service and worker. */
void		 service_logx(struct service *, struct svc_local *,
		    const char *, ...) __attribute__((format(printf, 3, 4)));

#endif
