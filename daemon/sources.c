/*
 * sources: per-source counters and token buckets, for the limits
 * per_source and rate.  One table per service (and per worker, so no
 * locks): concurrent connections per address, and a bucket of "rate"
 * tokens per second, "burst" deep, spent by each new connection or
 * datagram.  A source over budget is refused on its own; the
 * service is never switched off.  The table is rebuilt by the once-a-second
 * sweep, which is also when idle sources are forgotten.  The entry found
 * last is remembered, so a flood from one address costs a 16-byte compare
 * per datagram, not a hash lookup.  Past SRCTAB_MAX sources, new ones share
 * the overflow entry; a connection counted there is uncounted there, and
 * closing never adds an entry (srctab_release).
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "sources.h"

void
limits_key(const struct sockaddr *sa, int ipv6_prefix, uint8_t key[16])
{
	int i;

	memset(key, 0, 16);
	if (sa->sa_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr, 4);
		return;
	}
	memcpy(key, &((const struct sockaddr_in6 *)(const void *)sa)->
	    sin6_addr, 16);
	if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(void *)key))
		return;
	for (i = 0; i < 16; i++) {
		if (ipv6_prefix >= 8 * (i + 1))
			continue;
		if (ipv6_prefix <= 8 * i)
			key[i] = 0;
		else
			key[i] &= 0xff << (8 - (ipv6_prefix - 8 * i));
	}
}

/* Seeded so that a client cannot choose addresses that collide. */
static size_t
srctab_hash(const struct srctab *t, const uint8_t key[16])
{
	uint64_t a, b, h;

	memcpy(&a, key, 8);
	memcpy(&b, key + 8, 8);
	h = (a ^ t->seed) * 0x9e3779b97f4a7c15ULL;
	h ^= (b + (h >> 29)) * 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 31;
	return (size_t)h;
}

static struct srcent *
srctab_slot(struct srctab *t, const uint8_t key[16])
{
	size_t i = srctab_hash(t, key) & (t->cap - 1);

	while (t->v[i].used && memcmp(t->v[i].key, key, 16) != 0)
		i = (i + 1) & (t->cap - 1);
	return &t->v[i];
}

static int
srctab_resize(struct srctab *t, size_t cap)
{
	struct srcent *old = t->v, *e;
	size_t i, oldcap = t->cap;

	if ((t->v = calloc(cap, sizeof(*t->v))) == NULL) {
		t->v = old;
		return -1;
	}
	t->cap = cap;
	t->n = 0;
	t->last = NULL;
	for (i = 0; i < oldcap; i++) {
		if (!old[i].used)
			continue;
		e = srctab_slot(t, old[i].key);
		*e = old[i];
		t->n++;
	}
	free(old);
	return 0;
}

struct srcent *
srctab_get(struct srctab *t, const uint8_t key[16], double burst,
    uint64_t now)
{
	struct srcent *e;

	if (t->last != NULL && memcmp(t->last->key, key, 16) == 0)
		return t->last;
	if (t->v == NULL) {
		if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) !=
		    sizeof(t->seed))
			t->seed = (uint64_t)(uintptr_t)t ^ now;
		if (srctab_resize(t, 64) == -1)
			return &t->overflow;
	}
	e = srctab_slot(t, key);
	if (e->used)
		return t->last = e;
	if (t->n >= SRCTAB_MAX)
		return &t->overflow;
	if (2 * (t->n + 1) > t->cap) {
		if (srctab_resize(t, 2 * t->cap) == -1)
			return &t->overflow;
		e = srctab_slot(t, key);
	}
	memcpy(e->key, key, 16);
	e->used = 1;
	e->conns = 0;
	e->tokens = burst;
	e->stamp = now;
	t->n++;
	return t->last = e;
}

void
srctab_release(struct srctab *t, const uint8_t key[16], int overflow)
{
	struct srcent *e;

	if (overflow)
		e = &t->overflow;
	else if (t->v == NULL || !(e = srctab_slot(t, key))->used)
		return;
	if (e->conns > 0)
		e->conns--;
}

static void
srcent_refill(struct srcent *e, double rate, double burst, uint64_t now)
{
	if (now > e->stamp) {
		e->tokens += rate * (double)(now - e->stamp) / 1000.0;
		if (e->tokens > burst)
			e->tokens = burst;
	}
	e->stamp = now;
}

int
srcent_take(struct srcent *e, double rate, double burst, uint64_t now)
{
	if (rate <= 0)
		return 1;
	if (e == NULL)
		return 1;
	srcent_refill(e, rate, burst, now);
	if (e->tokens < 1.0)
		return 0;
	e->tokens -= 1.0;
	return 1;
}

void
srctab_sweep(struct srctab *t, double rate, double burst, uint64_t now)
{
	size_t i, live = 0;

	t->last = NULL;
	for (i = 0; i < t->cap; i++) {
		if (!t->v[i].used)
			continue;
		if (rate > 0)
			srcent_refill(&t->v[i], rate, burst, now);
		if (t->v[i].conns == 0 && (rate <= 0 ||
		    t->v[i].tokens >= burst))
			t->v[i].used = 0;
		else
			live++;
	}
	if (t->cap == 0 || live == t->n)
		return;
	/* Rebuild without the forgotten ones; shrink when mostly empty. */
	t->n = live;
	(void)srctab_resize(t, live * 8 < t->cap && t->cap > 64 ?
	    t->cap / 2 : t->cap);
}

void
srctab_free(struct srctab *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}
