#ifndef SOCKD_SERVICE_H
#define SOCKD_SERVICE_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/queue.h>

#include "config.h"
#include "sources.h"
#include "log.h"

struct conn;
TAILQ_HEAD(connq, conn);

struct svc_stats {
	uint64_t	 accepted;
	uint64_t	 refused_busy;	/* max_connections */
	uint64_t	 refused_acl;
	uint64_t	 refused_source;	/* per_source */
	uint64_t	 refused_rate;
	uint64_t	 refused_nofds;	/* descriptors near RLIMIT_NOFILE */
	uint64_t	 refused_proxy;	/* not from a proxy_from balancer */
	uint64_t	 proxy_bad;	/* malformed or cut PROXY header */
	uint64_t	 proxy_timeout;	/* none complete in proxy_timeout */
	uint64_t	 closed_idle;
	uint64_t	 closed_slow;	/* max_queue */
	uint64_t	 dgrams;
	uint64_t	 replies;
	uint64_t	 dropped;	/* screened, refused or unanswered */
};

/* What one worker knows of a service; only that worker's thread touches
 * it, so none of it needs a lock. */
struct svc_local {
	struct connq		 conns;	/* least recently active first */
	unsigned int		 nconns;
	struct srctab		 src;	/* per_source and rate, this worker */
	struct svc_stats	 st;
	struct ratelimit	 rl;	/* for log lines peers can cause */
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
/* Logs one worker's counters (worker -1: the only one). */
void		 service_log_stats(const struct service *, int worker);
/* Logs a line a peer caused, at most 10 per 10 s per service and
 * worker. */
void		 service_logx(struct service *, struct svc_local *,
		    const char *, ...) __attribute__((format(printf, 3, 4)));

#endif
