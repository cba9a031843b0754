/*
 * acl: allow/deny lists of addresses and CIDR prefixes.  The most specific
 * matching entry decides; between an allow and a deny of the same length,
 * deny wins.  With no match, a service that has an allow list refuses and
 * one without lets the client in.  Lists are short and scanned linearly:
 * this runs once per connection or datagram, after the cheap checks.  The
 * lists are built at configuration time (config fills them from "allow"
 * and "deny") and only read afterwards.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "util.h"

int
cidr_parse(const char *s, struct cidr *c)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	long bits;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	memset(c, 0, sizeof(*c));
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, c->addr) == 1) {
		c->family = AF_INET;
		c->prefix = 32;
	} else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
		c->family = AF_INET6;
		c->prefix = 128;
	} else
		return -1;
	if (slash != NULL) {
		bits = strtol(slash, &end, 10);
		if (*slash == '\0' || *end != '\0' || bits < 0 ||
		    bits > c->prefix)
			return -1;
		c->prefix = (int)bits;
	}
	return 0;
}

static int
prefix_match(const uint8_t *a, const uint8_t *b, int bits)
{
	int full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[full] ^ b[full]) & (0xff << (8 - rest))) == 0;
}

int
cidr_match(const struct cidr *c, const struct sockaddr *sa)
{
	const struct sockaddr_in6 *sin6;
	const uint8_t *a;

	if (sa->sa_family == AF_INET) {
		if (c->family != AF_INET)
			return 0;
		a = (const uint8_t *)&((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr;
		return prefix_match(a, c->addr, c->prefix);
	}
	if (sa->sa_family != AF_INET6)
		return 0;
	sin6 = (const void *)sa;
	a = sin6->sin6_addr.s6_addr;
	if (c->family == AF_INET6)
		return prefix_match(a, c->addr, c->prefix);
	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
		return prefix_match(a + 12, c->addr, c->prefix);
	return 0;
}

void
acl_start(struct acl *a, enum acl_list which)
{
	if (which == ACL_ALLOW) {
		free(a->allow);
		a->allow = NULL;
		a->nallow = 0;
		a->has_allow = 1;
	} else {
		free(a->deny);
		a->deny = NULL;
		a->ndeny = 0;
	}
}

void
acl_add(struct acl *a, enum acl_list which, const struct cidr *c)
{
	struct cidr **v = which == ACL_ALLOW ? &a->allow : &a->deny;
	size_t *n = which == ACL_ALLOW ? &a->nallow : &a->ndeny;

	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = *c;
}

void
acl_copy(struct acl *dst, const struct acl *src)
{
	*dst = *src;
	dst->allow = xmemdup(src->allow, src->nallow, sizeof(*src->allow));
	dst->deny = xmemdup(src->deny, src->ndeny, sizeof(*src->deny));
}

/* memcmp() of two lists, either of which may be NULL when empty. */
static int
cidrs_equal(const struct cidr *a, size_t na, const struct cidr *b,
    size_t nb)
{
	return na == nb && (na == 0 || memcmp(a, b, na * sizeof(*a)) == 0);
}

int
acl_equal(const struct acl *a, const struct acl *b)
{
	return a->has_allow == b->has_allow &&
	    cidrs_equal(a->allow, a->nallow, b->allow, b->nallow) &&
	    cidrs_equal(a->deny, a->ndeny, b->deny, b->ndeny);
}

void
acl_clear(struct acl *a)
{
	free(a->allow);
	free(a->deny);
	memset(a, 0, sizeof(*a));
}

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
acl_allowed(const struct acl *a, const struct sockaddr *sa)
{
	int allow, deny;

	if (a->nallow == 0 && a->ndeny == 0)
		return !a->has_allow;
	allow = acl_best(a->allow, a->nallow, sa);
	deny = acl_best(a->deny, a->ndeny, sa);
	if (deny >= 0 && deny >= allow)
		return 0;
	if (allow >= 0)
		return 1;
	return !a->has_allow;
}
