#ifndef SOCKD_METRICS_H
#define SOCKD_METRICS_H

#include <stddef.h>

/*
 * The whole exposition (Prometheus text format 0.0.4) of the daemon as it
 * is now: every live service's counters summed over the workers, the
 * reloads, the process.  Returns a buffer to free() with its length in
 * *len, with room left before it: the text starts at *off.  NULL when
 * out of memory.
 */
char	*metrics_render(size_t room, size_t *off, size_t *len);

#endif
