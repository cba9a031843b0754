#ifndef SOCKD_WORKER_H
#define SOCKD_WORKER_H

#include <sys/queue.h>

#include <uv.h>

#define RBUF_SIZE	65536		/* one TCP read */
#define UBUF_SIZE	(8 * 65536)	/* one recvmmsg batch of datagrams */

struct conn;
struct supervisor;
TAILQ_HEAD(partq, conn);

/* One event loop and what its callbacks share: the read buffers (no
 * connection owns a buffer while it waits), and the list of connections
 * to close once the current callbacks are done. */
struct worker {
	uv_loop_t		*loop;
	struct supervisor	*sup;
	char			*rbuf;
	char			*ubuf;
	uv_check_t		 check;
	struct conn		*closing;
	struct partq		 partial;	/* unfinished lines, oldest first */
	uv_timer_t		 partial_timer;
	unsigned int		 nconns;
};

#endif
