#ifndef SOCKD_BUS_H
#define SOCKD_BUS_H

#include <stddef.h>

#include <uv.h>

#include "busaddr.h"

/* Most PUBLISH commands, and bytes, sent and not yet answered. */
#define BUS_QUEUE_MAX		1024
#define BUS_QUEUE_BYTES		(4u << 20)
/* Most items of one list pushed in a loop turn (its max). */
#define BUS_BATCH_MAX		65536
/* Reconnection backoff, doubling from the first to the last. */
#define BUS_BACKOFF_MIN_MS	100
#define BUS_BACKOFF_MAX_MS	5000
/* A connection not made, or a PING not answered, within these is lost. */
#define BUS_CONNECT_MS		3000
#define BUS_PING_MS		5000

/* Connects to url (already checked) from loop, the main loop, whose
 * thread alone may then call the sockd_bus_* functions; password, when
 * not NULL, overrides the url's.  Reconnects by itself until
 * bus_close(). */
void		 bus_open(uv_loop_t *loop, const char *url,
		    const char *password);
/* Disconnects and closes the bus's handles; subscriptions may still be
 * removed afterwards (and must be, by whoever made them). */
void		 bus_close(void);
/* The url bus_open() was given, NULL when none. */
const char	*bus_url(void);
/* For the metrics, from any thread: whether the bus is connected, and how
 * many messages it dropped, published and delivered.  0 when no bus is
 * configured. */
int		 bus_stats(int *connected, unsigned long long *dropped,
		    unsigned long long *published,
		    unsigned long long *received);

#endif /* SOCKD_BUS_H */
