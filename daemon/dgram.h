#ifndef SOCKD_DGRAM_H
#define SOCKD_DGRAM_H

#include <sys/socket.h>

#include <uv.h>

#define UBUF_SIZE	(20 * 65536)	/* one recvmmsg batch: libuv's most */

struct service;
struct dgram_batch;

/* What the UDP sockets of one event loop share: the receive buffer, the
 * replies of the current receive batch, and the worker's index into each
 * service's per-worker part. */
struct dgram_ctx {
	uv_loop_t		*loop;
	int			 id;
	char			*ubuf;
	struct dgram_batch	*batch;
};

/* One UDP socket as the receive path sees it (its handle's data): the
 * service it serves now, and its name for log lines. */
struct dgram_port {
	uv_udp_t		*udp;
	struct service		*svc;
	const char		*name;		/* "udp 127.0.0.1:13" */
	struct dgram_ctx	*ctx;
};

void	dgram_ctx_init(struct dgram_ctx *, uv_loop_t *, int id);
void	dgram_ctx_free(struct dgram_ctx *);
/* Starts receiving on p->udp (whose data becomes p). */
int	dgram_start(struct dgram_port *);

#endif
