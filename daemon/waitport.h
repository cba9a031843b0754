#ifndef SOCKD_WAITPORT_H
#define SOCKD_WAITPORT_H

#include <uv.h>

struct conn_ctx;
struct service;
struct spawn_client;

/*
 * The socket of an exec service with wait = true (inetd's "wait"): sockd
 * does not read it, it only waits until it is readable, then hands the
 * socket itself to one program and waits again once that exits.  UDP: the
 * first datagram's source meets allow/deny and rate first (refused, it
 * is read and dropped), and stays queued for the program.  TCP: the
 * program accepts.
 */
struct waitport;

/* Starts waiting on fd (taken over) of proto for s, on loop, whose
 * connection context cc drains with its programs; NULL (fd closed) when
 * the socket cannot be polled. */
struct waitport	*waitport_start(uv_loop_t *, struct conn_ctx *,
		    struct spawn_client *, int id, unsigned int proto, int fd,
		    struct service *, const char *name);
/* Points it at s (a reload that kept the address). */
void		 waitport_serve(struct waitport *, struct service *);
/* Stops it; a program running goes on, the socket is closed when both are
 * done. */
void		 waitport_close(struct waitport *);
/* 1 when s is an exec service with wait = true. */
int		 waitport_wants(const struct service *);

#endif
