#ifndef SOCKD_HANDOFF_H
#define SOCKD_HANDOFF_H

#include <sys/socket.h>

struct service;
struct spawn_client;
struct svc_local;

/*
 * Starts the program of exec service s with the socket fd (the caller's:
 * it closes it, or keeps it, once this returns) of protocol proto
 * (SOCKD_TCP, SOCKD_UDP) as fd 0 and 1; peer (NULL: none known) and local
 * are its addresses; l is this worker's part of s.  gone(arg, ran) is
 * called once the child is gone (ran 1), or could not be started (ran 0):
 * the caller then releases what it holds for it.  Returns 0, or -1 when
 * it failed at once (counted, logged): gone is not called then.
 */
int	handoff_start(struct spawn_client *, struct service *,
	    struct svc_local *, int fd, unsigned int proto,
	    const struct sockaddr *peer, const struct sockaddr *local,
	    void (*gone)(void *, int), void *arg);

#endif
