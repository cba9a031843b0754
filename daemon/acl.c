/*
 * acl: allow/deny lists of addresses and CIDR prefixes.  The most specific
 * matching entry decides; between an allow and a deny of the same length,
 * deny wins.  With no match, a service that has an allow list refuses and
 * one without lets the client in.  Lists are short and scanned linearly:
 * this runs once per connection or datagram, after the cheap checks.
 */
#include "acl.h"
#include "config.h"

static int
acl_best(const struct cidr *v, size_t n, const struct sockaddr *sa)
{
	size_t i;
	int best = -1;

	for (i = 0; i < n; i++)
		if (v[i].prefix > best && cidr_match(&v[i], sa))
			best = v[i].prefix;
	return best;
}

int
acl_allowed(const struct svc_conf *sc, const struct sockaddr *sa)
{
	int allow, deny;

	if (sc->nallow == 0 && sc->ndeny == 0)
		return !sc->has_allow;
	allow = acl_best(sc->allow, sc->nallow, sa);
	deny = acl_best(sc->deny, sc->ndeny, sa);
	if (deny >= 0 && deny >= allow)
		return 0;
	if (allow >= 0)
		return 1;
	return !sc->has_allow;
}
