#ifndef SOCKD_LISTENER_H
#define SOCKD_LISTENER_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <uv.h>

#include "dgram.h"
#include "log.h"

struct conn_ctx;
struct service;
struct spawn_client;
struct svc_conf;
struct waitport;

/* Where a worker's listeners run: its loop, its index (0 logs), and the
 * contexts that take what they receive. */
struct listener_env {
	uv_loop_t		*loop;
	int			 id;
	struct conn_ctx		*cc;
	struct dgram_ctx	*dc;
	struct spawn_client	*spawn;		/* exec services */
};

/* One bound socket of one worker: a TCP listener or a UDP socket, for one
 * protocol, address and port.  A reload that keeps the address keeps the
 * listener (and its socket) and only points it at the new service. */
struct listener {
	union {
		uv_handle_t	 h;
		uv_tcp_t	 tcp;
		uv_udp_t	 udp;
	}			 u;
	unsigned int		 proto;
	struct sockaddr_storage	 addr;
	char			 text[96];	/* "tcp 127.0.0.1:7" */
	struct service		*svc;		/* holds a reference */
	const struct listener_env *env;
	struct dgram_port	 dp;		/* UDP: what dgram.c sees */
	struct waitport		*wp;		/* exec, wait: no handle */
	struct ratelimit	 rl;
	LIST_ENTRY(listener)	 link;
};

/* A listening socket's options, from its service's settings. */
struct listen_opts {
	int		 keepalive;	/* TCP: inherited by connections */
	int		 rcvbuf;	/* 0: the kernel's; UDP: 4 MiB */
	int		 sndbuf;	/* 0: the kernel's */
	int		 v6only;
	int		 ipv6_prefix;	/* what steering keeps together */
	int		 group;		/* sockets in the reuseport group */
};
/* The options of service settings sc for a group of n sockets. */
void		 listen_opts_from(struct listen_opts *,
		    const struct svc_conf *, int n);

/*
 * Creates, binds and (TCP) listens a socket for proto and addr (with its
 * port); reuseport when several workers share the address, and then, with
 * o->group > 1, steers each source address to one socket of the group.
 * o NULL: keepalive on, v6-only, the kernel's buffers (UDP: 4 MiB).
 * Returns the descriptor, or -1 with "cannot listen on ...: reason" in
 * err.
 */
int		 listener_socket(unsigned int proto, const struct sockaddr *,
		    int backlog, int reuseport, char *err, size_t errlen,
		    const struct listen_opts *o);
/* The rest of listener_socket() for fd, created and bound (by the
 * spawner) with reuseport and o->v6only as asked: the options after bind,
 * listen (TCP) and the steering program.  Returns fd, or -1 (fd closed)
 * with "cannot listen on ...: reason" in err. */
int		 listener_adopt(int fd, unsigned int proto,
		    const struct sockaddr *, int backlog, int reuseport,
		    char *err, size_t errlen, const struct listen_opts *o);
/* Closes fd (-1: none) and puts in err why proto on sa cannot be
 * listened on, after errno saved ("cannot listen on ...: reason"); -1. */
int		 listener_fail(int fd, int saved, unsigned int proto,
		    const struct sockaddr *, char *err, size_t errlen);
/* Starts the socket fd, bound to proto and addr, for svc on env's loop
 * (its thread); takes over fd, takes a reference to svc.  NULL (logged,
 * fd closed) on failure. */
struct listener	*listener_start(const struct listener_env *,
		    unsigned int proto, const struct sockaddr *, int fd,
		    struct service *);
/* Points l at svc (a reload): what it accepts from now on is svc's. */
void		 listener_serve(struct listener *, struct service *);
/* "tcp 127.0.0.1:7" */
void		 listener_name(unsigned int proto, const struct sockaddr *,
		    char *, size_t);
/* Stops it; the reference and memory go in libuv's close callback. */
void		 listener_close(struct listener *);

#endif
