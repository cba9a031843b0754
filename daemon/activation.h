#ifndef SOCKD_ACTIVATION_H
#define SOCKD_ACTIVATION_H

#include <sys/socket.h>

/* Takes the sockets systemd passed (LISTEN_PID, LISTEN_FDS, optional
 * LISTEN_FDNAMES; the variables are unset); returns how many. */
int	activation_init(void);
/* A new descriptor (close-on-exec) for the inherited socket of proto
 * (SOCKD_TCP or SOCKD_UDP) and sa (with its port), which stays
 * inherited for later reloads; -1 when there is none.  The first claim
 * of each is logged with name (the service). */
int	activation_take(unsigned int proto, const struct sockaddr *sa,
	    const char *name);
/* Logs and closes the inherited sockets no service claimed (at start). */
void	activation_close_unclaimed(void);
/* Closes all of them (at exit). */
void	activation_free(void);

#endif
