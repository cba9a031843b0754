#ifndef SOCKD_SERVICE_H
#define SOCKD_SERVICE_H

#include <stdint.h>
#include <sys/queue.h>

#include "config.h"
#include "limits.h"
#include "log.h"

struct conn;
TAILQ_HEAD(connq, conn);

struct svc_stats {
	uint64_t	 accepted;
	uint64_t	 refused_busy;	/* max_connections */
	uint64_t	 refused_acl;
	uint64_t	 refused_source;	/* per_source */
	uint64_t	 refused_rate;
	uint64_t	 closed_idle;
	uint64_t	 closed_slow;	/* max_queue */
	uint64_t	 dgrams;
	uint64_t	 replies;
	uint64_t	 dropped;	/* screened, refused or unanswered */
};

/*
 * One configured service: its settings, its handler and the handler's port
 * state, and its live connections.  Held by the supervisor while it is in
 * the running configuration, and by each connection, so that after a
 * reload old connections finish on the settings they started with.
 */
struct service {
	struct svc_conf		 conf;
	const struct sockd_handler *h;
	void			*port_state;
	unsigned int		 refs;
	struct connq		 conns;	/* least recently active first */
	unsigned int		 nconns;
	struct srctab		 src;
	struct svc_stats	 st;
	struct ratelimit	 rl;	/* for log lines peers can cause */
	LIST_ENTRY(service)	 all;	/* supervisor: every live service */
};

/* Takes over *sc's fields (leaving *sc empty), finds the handler, checks it
 * serves the protocols and options, and runs its configure().  Returns the
 * service with one reference, or NULL with the errors in errs. */
struct service	*service_new(struct svc_conf *sc, const char *handler_dir,
		    struct errlist *errs);
void		 service_ref(struct service *);
/* Drops a reference; the last one unconfigures and frees the service. */
void		 service_unref(struct service *);
void		 service_log_stats(const struct service *);
/* Logs a line a peer caused, at most 10 per 10 s per service. */
void		 service_logx(struct service *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

void		 svc_conf_clear(struct svc_conf *);

#endif
