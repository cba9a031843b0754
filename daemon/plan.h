#ifndef SOCKD_PLAN_H
#define SOCKD_PLAN_H

#include <stddef.h>
#include <sys/socket.h>

struct service;

/* One address a worker is to serve after a reload. */
struct plan_entry {
	unsigned int		 proto;
	struct sockaddr_storage	 addr;		/* with its port */
	struct service		*svc;		/* a reference; NULL later */
	int			 fd;		/* a new socket, or -1: keep */
	int			 served;	/* the worker has a listener */
};

/* What one worker is to listen on: the message a reload sends it, and,
 * once applied and settled, the supervisor's record of what it serves. */
struct plan {
	struct plan_entry	*v;
	size_t			 n;
	size_t			 cap;
};

/* Adds proto and sa for svc (taking a reference), with the new socket fd
 * (taken over) or -1 to keep the worker's listener of that address. */
void			 plan_add(struct plan *, unsigned int proto,
			    const struct sockaddr *, struct service *, int fd);
/* The first entry for proto and sa (with its port), or NULL. */
struct plan_entry	*plan_find(const struct plan *, unsigned int proto,
			    const struct sockaddr *);
/* After the worker applied p: keeps only the entries it serves, without
 * their service references (sockets it did not take are closed). */
void			 plan_settle(struct plan *);
/* Closes the sockets not taken, drops the references, empties p. */
void			 plan_free(struct plan *);

#endif
