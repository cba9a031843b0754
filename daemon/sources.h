#ifndef SOCKD_SOURCES_H
#define SOCKD_SOURCES_H

#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

/* What sockd remembers about one client address (or IPv6 prefix). */
struct srcent {
	uint8_t		 key[16];
	uint32_t	 conns;		/* open TCP connections */
	uint32_t	 used;		/* slot taken */
	double		 tokens;	/* rate budget left */
	uint64_t	 stamp;		/* ms of the last refill */
};

/* Per service: an open-addressing table, bounded; past its bound every
 * new source shares one overflow entry (so a spoofed flood cannot grow
 * memory, only share a budget). */
struct srctab {
	struct srcent	*v;
	size_t		 cap;		/* slots, a power of two */
	size_t		 n;
	struct srcent	 overflow;
	struct srcent	*last;		/* found last: floods skip the hash */
	uint64_t	 seed;
};

#define SRCTAB_MAX	65536		/* sources remembered per service */

/* The key of an address: IPv4 as ::ffff:a.b.c.d, IPv6 cut to prefix. */
void		 limits_key(const struct sockaddr *, int ipv6_prefix,
		    uint8_t key[16]);
/* Finds or adds the entry of key; never NULL: &t->overflow when the
 * table is full.  Pointers stay valid until the next srctab_get() or
 * srctab_sweep(). */
struct srcent	*srctab_get(struct srctab *, const uint8_t key[16],
		    double burst, uint64_t now);
/* Uncounts one connection of key: on the overflow entry when it was
 * counted there (srctab_get returned &t->overflow), else on key's own
 * entry if it has one.  Never adds an entry. */
void		 srctab_release(struct srctab *, const uint8_t key[16],
		    int overflow);
/* Takes one token: 1 when within budget, 0 when over it. */
int		 srcent_take(struct srcent *, double rate, double burst,
		    uint64_t now);
/* Forgets sources with no connection and a full bucket. */
void		 srctab_sweep(struct srctab *, double rate, double burst,
		    uint64_t now);
void		 srctab_free(struct srctab *);

#endif
