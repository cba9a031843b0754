/*
 * peers: the table of a UDP room's members, who have no connection: a peer
 * is an address heard from within the timeout.  Peers age in the caller's
 * clock (chat gives monotonic seconds), and are ordered by a counter
 * stamped on every touch, so that two heard in the same second still have
 * an exact order.  The table is bounded twice: at most max peers, the
 * longest silent evicted first, and at most per_address of them per IP
 * address, since ports are free to have and one address may not fill the
 * room.  An IPv4-mapped IPv6 address is its IPv4 address.  The table is a
 * plain array: rooms are small, and a touch looks at every entry anyway to
 * forget the silent ones.
 */
/* Built into a .so, this file may not get the Makefile's -D_GNU_SOURCE;
 * struct sockaddr_storage needs it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/socket.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "peers.h"

int
peers_init(struct peers *ps, size_t max, time_t timeout, size_t per_address)
{
	memset(ps, 0, sizeof(*ps));
	if ((ps->peer = calloc(max, sizeof(*ps->peer))) == NULL)
		return -1;
	ps->max = max;
	ps->timeout = timeout;
	ps->per_address = per_address;
	return 0;
}

void
peers_free(struct peers *ps)
{
	free(ps->peer);
	ps->peer = NULL;
	ps->npeers = ps->max = 0;
}

static socklen_t
addr_len(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return sizeof(struct sockaddr_in);
	if (sa->sa_family == AF_INET6)
		return sizeof(struct sockaddr_in6);
	return 0;
}

int
peers_addr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;

	if (a->sa_family != b->sa_family)
		return 0;
	if (a->sa_family == AF_INET) {
		a4 = (const struct sockaddr_in *)a;
		b4 = (const struct sockaddr_in *)b;
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	}
	if (a->sa_family == AF_INET6) {
		a6 = (const struct sockaddr_in6 *)a;
		b6 = (const struct sockaddr_in6 *)b;
		return a6->sin6_port == b6->sin6_port &&
		    a6->sin6_scope_id == b6->sin6_scope_id &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0;
	}
	return 0;
}

/* The IPv4 address of sa, native or IPv4-mapped IPv6, in *a; 0 if none. */
static int
addr_v4(const struct sockaddr *sa, uint32_t *a)
{
	const struct sockaddr_in6	*a6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET) {
		*a = ((const struct sockaddr_in *)sa)->sin_addr.s_addr;
		return 1;
	}
	if (sa->sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
		memcpy(a, a6->sin6_addr.s6_addr + 12, 4);
		return 1;
	}
	return 0;
}

int
peers_same_host(const struct sockaddr *a, const struct sockaddr *b)
{
	uint32_t	 a4 = 0, b4 = 0;
	int		 av4 = addr_v4(a, &a4), bv4 = addr_v4(b, &b4);

	if (av4 || bv4)
		return av4 && bv4 && a4 == b4;
	return a->sa_family == AF_INET6 && b->sa_family == AF_INET6 &&
	    memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
	    &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

void
peers_touch(struct peers *ps, const struct sockaddr *sa, time_t now)
{
	struct peer	*p, *q;
	size_t		 i, same = 0, oldest = 0, host_oldest = 0;
	socklen_t	 len;

	if ((len = addr_len(sa)) == 0 || ps->max == 0)
		return;
	for (i = 0; i < ps->npeers; ) {
		if (now - ps->peer[i].last > ps->timeout)
			ps->peer[i] = ps->peer[--ps->npeers];
		else
			i++;
	}
	for (i = 0; i < ps->npeers; i++) {
		q = &ps->peer[i];
		if (peers_addr_equal((struct sockaddr *)&q->addr, sa)) {
			q->last = now;
			q->seq = ++ps->seq;
			return;
		}
		if (q->seq < ps->peer[oldest].seq)
			oldest = i;
		if (peers_same_host((struct sockaddr *)&q->addr, sa) &&
		    (same++ == 0 || q->seq < ps->peer[host_oldest].seq))
			host_oldest = i;
	}
	/* Ports are free to have: one address may not fill the room. */
	if (ps->per_address > 0 && same >= ps->per_address)
		p = &ps->peer[host_oldest];
	else if (ps->npeers < ps->max)
		p = &ps->peer[ps->npeers++];
	else
		p = &ps->peer[oldest];
	memset(p, 0, sizeof(*p));
	memcpy(&p->addr, sa, len);
	p->addrlen = len;
	p->last = now;
	p->seq = ++ps->seq;
}

static int
peer_newer_first(const void *a, const void *b)
{
	const struct peer	*x = a, *y = b;

	return (x->seq < y->seq) - (x->seq > y->seq);
}

void
peers_refit(struct peers *to, struct peers *from)
{
	size_t	 n;

	n = from->npeers;
	if (n > to->max) {
		qsort(from->peer, n, sizeof(*from->peer), peer_newer_first);
		n = to->max;
	}
	memcpy(to->peer, from->peer, n * sizeof(*to->peer));
	to->npeers = n;
	to->seq = from->seq;
	from->npeers = 0;
}
