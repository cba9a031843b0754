#ifndef SOCKD_LISTENER_H
#define SOCKD_LISTENER_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <uv.h>

#include "log.h"

struct service;
struct svc_conf;
struct worker;
struct newsock;

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
	struct service		*next_svc;	/* during a reload */
	struct worker		*w;
	unsigned int		 gen;		/* reload that claimed it */
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
/* Starts ns on w's loop (w's thread); takes over ns's descriptor and
 * service reference.  NULL (logged, both released) on failure. */
struct listener	*listener_start(struct worker *, struct newsock *);
/* 1 when l is bound to proto and addr (with its port). */
int		 listener_is(const struct listener *, unsigned int proto,
		    const struct sockaddr *);
/* "tcp 127.0.0.1:7" */
void		 listener_name(unsigned int proto, const struct sockaddr *,
		    char *, size_t);
/* Stops it; the reference and memory go in libuv's close callback. */
void		 listener_close(struct listener *);
/* 1 when a connection just accepted as descriptor fd, with nconns open
 * in the daemon, would eat into the reserve kept below RLIMIT_NOFILE: it
 * is to be refused (busy line, counted as no_fds). */
int		 listener_fds_short(int fd, unsigned int nconns);
/* RLIMIT_NOFILE as read at the first connection; 0: unlimited. */
unsigned long	 listener_fds_limit(void);
/* The UDP receive path, in dgram.c. */
void		 dgram_recv(uv_udp_t *, ssize_t, const uv_buf_t *,
		    const struct sockaddr *, unsigned int);
void		 dgram_alloc(uv_handle_t *, size_t, uv_buf_t *);

#endif
