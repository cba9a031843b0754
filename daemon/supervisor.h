#ifndef SOCKD_SUPERVISOR_H
#define SOCKD_SUPERVISOR_H

#include <stdatomic.h>

#include <uv.h>

#include "service.h"
#include "worker.h"

struct options {
	const char	*file;		/* -c */
	int		 port_offset;	/* -p */
	const char	*user;		/* -u, overrides daemon.user */
	int		 foreground;	/* -f */
	int		 debug;		/* -d */
	char		 self[4096];	/* this binary, for the reload check */
};

struct supervisor {
	struct options		 opt;
	struct config		*conf;		/* daemon-wide settings */
	struct service		**svc;		/* the running configuration */
	size_t			 nsvc;
	struct worker		*workers;	/* [0] runs on the main loop */
	int			 nworkers;
	atomic_uint		 nconns;	/* all services, all workers */
	/* What workers read of sup->conf, which a reload replaces. */
	atomic_uint		 max_connections;
	atomic_uint		 drain_timeout;
	atomic_int		 finished;	/* workers done draining */
	uv_async_t		 wake;		/* a worker finished */
	uv_signal_t		 sig[4];
	unsigned int		 gen;		/* the last reload's */
	int			 stopping;
	int			 reloading;	/* a check is running */
	struct precheck		*precheck;	/* that check, or NULL */
	int			 reload_again;	/* SIGHUP during it */
};

/* Checks the configuration as "sockd -t" does; 0 when it is usable. */
int	supervisor_check(const struct options *);
/* Loads, binds, drops privileges and serves until stopped; returns the
 * exit status. */
int	supervisor_run(const struct options *);
/* A worker has closed its last handle (any thread). */
void	supervisor_worker_done(struct supervisor *);

#endif
