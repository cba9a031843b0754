/*
 * stats: the counters that belong to the daemon rather than to a service
 * (reload results and when the last one worked), at the bottom of the
 * layers so that the supervisor writes them and the metrics handler reads
 * them without knowing of each other.  Reloads are rare: plain atomics,
 * read one by one (a scrape during a reload may see the count before its
 * timestamp, never a torn value).
 */
#include <time.h>

#include "stats.h"

static atomic_uint_least64_t	 reloads_ok;
static atomic_uint_least64_t	 reloads_failed;
static atomic_int		 last_failed;
static atomic_int_least64_t	 last_success;

void
stats_reload(int ok)
{
	if (ok) {
		atomic_store(&last_success, (int64_t)time(NULL));
		atomic_fetch_add(&reloads_ok, 1);
	} else
		atomic_fetch_add(&reloads_failed, 1);
	atomic_store(&last_failed, !ok);
}

void
stats_reloads(struct stats_reloads *r)
{
	r->success = atomic_load(&reloads_ok);
	r->failure = atomic_load(&reloads_failed);
	r->last_ok = !atomic_load(&last_failed);
	r->last_success = atomic_load(&last_success);
}
