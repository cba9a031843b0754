#ifndef SOCKD_SUPERVISOR_H
#define SOCKD_SUPERVISOR_H

#include <sys/queue.h>

#include <uv.h>

#include "service.h"
#include "worker.h"

struct listener;

struct options {
	const char	*file;		/* -c */
	int		 port_offset;	/* -p */
	const char	*user;		/* -u, overrides daemon.user */
	int		 foreground;	/* -f */
	int		 debug;		/* -d */
};

struct supervisor {
	struct options		 opt;
	struct config		*conf;		/* daemon-wide settings */
	struct service		**svc;		/* the running configuration */
	size_t			 nsvc;
	LIST_HEAD(, service)	 all;		/* also those still draining */
	LIST_HEAD(, listener)	 listeners;
	struct worker		 w;
	uv_signal_t		 sig[4];
	uv_timer_t		 tick;		/* idle sweep, once a second */
	uv_timer_t		 drain;
	int			 stopping;	/* 1 draining, 2 done */
	int			 reloading;	/* a check is running */
	int			 reload_again;	/* SIGHUP during it */
};

/* Checks the configuration as "sockd -t" does; 0 when it is usable. */
int	supervisor_check(const struct options *);
/* Loads, binds, drops privileges and serves until stopped; returns the
 * exit status. */
int	supervisor_run(const struct options *);
/* A connection is gone: during shutdown, the last one ends the loop. */
void	supervisor_conn_gone(struct supervisor *);

#endif
