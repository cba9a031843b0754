#ifndef SOCKD_STATS_H
#define SOCKD_STATS_H

#include <stdatomic.h>
#include <stdint.h>

/*
 * A counter written by one thread only (a worker's part of a service) and
 * read by any (a scrape): a relaxed load and store, which on the usual
 * machines is a plain move, no locked instruction on the data path, and
 * still no data race for the reader.
 */
static inline void
stat_add(atomic_uint_least64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c,
	    memory_order_relaxed) + n, memory_order_relaxed);
}

static inline void
stat_inc(atomic_uint_least64_t *c)
{
	stat_add(c, 1);
}

static inline uint64_t
stat_get(const atomic_uint_least64_t *c)
{
	return atomic_load_explicit((atomic_uint_least64_t *)c,
	    memory_order_relaxed);
}

/* The daemon-wide counters a scrape reports beside the services'. */
struct stats_reloads {
	uint64_t	 success;
	uint64_t	 failure;
	int		 last_ok;	/* 1 before the first reload */
	int64_t		 last_success;	/* time(), 0 before the first */
};

/* A reload was done (ok) or refused; any thread. */
void	stats_reload(int ok);
/* The reload counters so far. */
void	stats_reloads(struct stats_reloads *);

#endif
