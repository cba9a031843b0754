/*
 * A UDP room's peers: who was heard from within the timeout, at most max of
 * them, at most per_address of them per IP address.
 */
#ifndef SOCKD_HANDLERS_PEERS_H
#define SOCKD_HANDLERS_PEERS_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct peer {
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	time_t			 last;	/* when last heard from, seconds */
	uint64_t		 seq;	/* the table's seq then: exact order */
};

struct peers {
	struct peer		*peer;
	size_t			 npeers, max;
	time_t			 timeout;
	size_t			 per_address;	/* per IP address; 0: any */
	uint64_t		 seq;		/* stamped on every touch */
};

/* An empty table of max peers; 0, or -1 when out of memory.  peers_free()
 * frees it, and may be given a zeroed table. */
int		 peers_init(struct peers *, size_t, time_t, size_t);
void		 peers_free(struct peers *);
/*
 * Forgets peers silent for longer than the timeout, then records sa as heard
 * from at now.  A new port of an address that already has per_address
 * entries replaces that address's longest-silent one; otherwise, when the
 * table is full, the longest-silent peer of all is evicted.
 */
void		 peers_touch(struct peers *, const struct sockaddr *, time_t);
/* Moves the peers of from into the empty table to, the most recently heard
 * first when not all fit, and its seq with them; from is left empty. */
void		 peers_refit(struct peers *, struct peers *);
/* 1 when both addresses are the same family, address and port. */
int		 peers_addr_equal(const struct sockaddr *,
		    const struct sockaddr *);
/* 1 when both are the same IP address, whatever the ports; an IPv4-mapped
 * IPv6 address is the IPv4 address. */
int		 peers_same_host(const struct sockaddr *,
		    const struct sockaddr *);

#endif /* SOCKD_HANDLERS_PEERS_H */
