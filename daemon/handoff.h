#ifndef SOCKD_HANDOFF_H
#define SOCKD_HANDOFF_H

#include <sys/socket.h>

struct service;
struct spawn_client;
struct svc_local;

/*
 * Starts the program of exec service s for the connected socket fd (the
 * caller's: it closes it once this returns), peer and local its
 * addresses; l is this worker's part of s.  gone(arg) is called once the
 * child is gone, or could not be started: the caller then releases what
 * it holds for the connection (its place under the limits).  Returns 0,
 * or -1 when it failed at once (counted, logged): gone is not called.
 */
int	handoff_start(struct spawn_client *, struct service *,
	    struct svc_local *, int fd, const struct sockaddr *peer,
	    const struct sockaddr *local, void (*gone)(void *), void *arg);

#endif
