/*
 * spawnmsg: the encoding of a spawn request between a worker and the
 * spawner.  Both ends are sockd, built together, so the layout is the
 * machine's own; the decoder still trusts nothing of the length and
 * counts (a message cut short, a string without its NUL, a count over
 * its maximum, bytes left over: -1), since the spawner is the one
 * process of sockd that keeps a privilege.  A bind request is one fixed
 * record, checked as closely: TCP or UDP, IPv4 or IPv6, nothing else.
 */
#include <stdint.h>
#include <string.h>

#include "spawnmsg.h"

/* The fixed part, as it travels. */
struct wire {
	uint32_t	 type;
	uint32_t	 flags;
	uint64_t	 id;
	uint32_t	 uid;
	uint32_t	 gid;
	int32_t		 nice;
	uint32_t	 umask;
	uint32_t	 err;
	uint32_t	 nrlim;
	uint32_t	 ngroups;
	uint32_t	 argc;
	uint32_t	 nenv;
	uint32_t	 pad;
	struct spawn_rlimit rlim[SPAWN_MAX_RLIM];
};

size_t
spawnmsg_encode(const struct spawn_spec *sp, void *buf, size_t len)
{
	struct wire w;
	char *p = buf;
	const char *s;
	size_t off, n, i;

	if (sp->nrlim > SPAWN_MAX_RLIM || sp->ngroups > SPAWN_MAX_GROUPS ||
	    sp->argc < 1 || sp->argc > SPAWN_MAX_ARGS ||
	    sp->nenv > SPAWN_MAX_ENV || sp->dir == NULL)
		return 0;
	memset(&w, 0, sizeof(w));
	w.type = SP_SPAWN;
	w.flags = sp->flags;
	w.id = sp->id;
	w.uid = sp->uid;
	w.gid = sp->gid;
	w.nice = sp->nice;
	w.umask = sp->umask;
	w.err = sp->err;
	w.nrlim = sp->nrlim;
	w.ngroups = sp->ngroups;
	w.argc = sp->argc;
	w.nenv = sp->nenv;
	memcpy(w.rlim, sp->rlim, sp->nrlim * sizeof(sp->rlim[0]));
	n = sp->ngroups * sizeof(sp->groups[0]);
	if (len < sizeof(w) + n)
		return 0;
	memcpy(p, &w, sizeof(w));
	memcpy(p + sizeof(w), sp->groups, n);
	off = sizeof(w) + n;
	for (i = 0; i < 1 + (size_t)sp->argc + sp->nenv; i++) {
		s = i == 0 ? sp->dir : i <= sp->argc ? sp->argv[i - 1] :
		    sp->env[i - 1 - sp->argc];
		if (s == NULL || (n = strlen(s) + 1) > len - off)
			return 0;
		memcpy(p + off, s, n);
		off += n;
	}
	return off;
}

int
spawnmsg_decode(struct spawn_spec *sp, const void *buf, size_t len)
{
	const char *p = buf, *s, *end = p + len, *nul;
	struct wire w;
	size_t i, n;

	if (len < sizeof(w))
		return -1;
	memcpy(&w, p, sizeof(w));
	if (w.type != SP_SPAWN || w.nrlim > SPAWN_MAX_RLIM ||
	    w.ngroups > SPAWN_MAX_GROUPS || w.argc < 1 ||
	    w.argc > SPAWN_MAX_ARGS || w.nenv > SPAWN_MAX_ENV ||
	    w.err > SPAWN_ERR_NULL)
		return -1;
	memset(sp, 0, sizeof(*sp));
	sp->id = w.id;
	sp->flags = w.flags;
	sp->uid = w.uid;
	sp->gid = w.gid;
	sp->nice = w.nice;
	sp->umask = w.umask;
	sp->err = w.err;
	sp->nrlim = w.nrlim;
	memcpy(sp->rlim, w.rlim, w.nrlim * sizeof(w.rlim[0]));
	n = w.ngroups * sizeof(sp->groups[0]);
	if (len - sizeof(w) < n)
		return -1;
	sp->ngroups = w.ngroups;
	memcpy(sp->groups, p + sizeof(w), n);
	s = p + sizeof(w) + n;
	for (i = 0; i < 1 + (size_t)w.argc + w.nenv; i++) {
		if (s >= end || (nul = memchr(s, '\0', (size_t)(end - s))) ==
		    NULL)
			return -1;
		if (i == 0)
			sp->dir = s;
		else if (i <= w.argc)
			sp->argv[i - 1] = s;
		else
			sp->env[i - 1 - w.argc] = s;
		s = nul + 1;
	}
	if (s != end)
		return -1;
	sp->argc = w.argc;
	sp->nenv = w.nenv;
	sp->argv[sp->argc] = NULL;
	sp->env[sp->nenv] = NULL;
	return 0;
}

/* A bind request, as it travels. */
struct bind_wire {
	uint32_t	 type;
	uint32_t	 proto;
	uint64_t	 id;
	uint32_t	 flags;
	uint32_t	 addrlen;
	unsigned char	 addr[sizeof(struct sockaddr_in6)];
};

size_t
spawnmsg_encode_bind(const struct spawn_bind *b, void *buf, size_t len)
{
	struct bind_wire w;

	if (len < sizeof(w) || b->addrlen > sizeof(w.addr))
		return 0;
	memset(&w, 0, sizeof(w));
	w.type = SP_BIND;
	w.proto = b->proto;
	w.id = b->id;
	w.flags = b->flags;
	w.addrlen = b->addrlen;
	memcpy(w.addr, &b->addr, b->addrlen);
	memcpy(buf, &w, sizeof(w));
	return sizeof(w);
}

int
spawnmsg_decode_bind(struct spawn_bind *b, const void *buf, size_t len)
{
	struct bind_wire w;
	sa_family_t family;

	if (len != sizeof(w))
		return -1;
	memcpy(&w, buf, sizeof(w));
	if (w.type != SP_BIND || (w.proto != SPAWN_BIND_TCP &&
	    w.proto != SPAWN_BIND_UDP) ||
	    (w.flags & ~(uint32_t)(SPAWN_BIND_REUSEPORT | SPAWN_BIND_V6ONLY)))
		return -1;
	if (w.addrlen < sizeof(family))
		return -1;
	memcpy(&family, w.addr, sizeof(family));
	if (!(family == AF_INET && w.addrlen == sizeof(struct sockaddr_in)) &&
	    !(family == AF_INET6 && w.addrlen == sizeof(struct sockaddr_in6)))
		return -1;
	if (family == AF_INET && (w.flags & SPAWN_BIND_V6ONLY))
		return -1;
	memset(b, 0, sizeof(*b));
	memcpy(&b->addr, w.addr, w.addrlen);
	/* Port 0 would be any port: sockd always names one. */
	if ((family == AF_INET ? b->addr.sin.sin_port :
	    b->addr.sin6.sin6_port) == 0)
		return -1;
	b->id = w.id;
	b->proto = w.proto;
	b->flags = w.flags;
	b->addrlen = w.addrlen;
	return 0;
}
