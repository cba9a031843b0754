#ifndef SOCKD_LISTENER_H
#define SOCKD_LISTENER_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <uv.h>

struct service;
struct worker;
struct bindaddr;

/* One bound socket: a TCP listener or a UDP socket, for one service,
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
	struct service		*svc;
	struct service		*next_svc;	/* during a reload */
	struct worker		*w;
	unsigned int		 gen;		/* reload that claimed it */
	int			 fresh;		/* opened by that reload */
	LIST_ENTRY(listener)	 link;
};

/* Binds and starts listening; NULL with the reason in err. */
struct listener	*listener_open(struct worker *, struct service *,
		    unsigned int proto, const struct bindaddr *, int port,
		    char *err, size_t errlen);
/* 1 when l is bound to proto and addr (with its port). */
int		 listener_is(const struct listener *, unsigned int proto,
		    const struct sockaddr *);
/* Stops and frees it (after libuv's close callback). */
void		 listener_close(struct listener *);
/* The UDP receive path, in dgram.c. */
void		 dgram_recv(uv_udp_t *, ssize_t, const uv_buf_t *,
		    const struct sockaddr *, unsigned int);
void		 dgram_alloc(uv_handle_t *, size_t, uv_buf_t *);

#endif
