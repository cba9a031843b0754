/*
 * plan: what a reload asks of one worker, as a message.  The supervisor
 * writes an entry per (protocol, address) the worker is to serve, with
 * the service and either a socket it bound for it or -1: "keep your
 * listener of this address".  The worker reads the plan on its own
 * thread, takes the sockets (setting fd to -1) and marks what it serves;
 * the supervisor, which waits for it, then settles the plan into its
 * record of what that worker listens on, so that it never looks at a
 * worker's listeners itself.
 */
#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plan.h"
#include "service.h"
#include "util.h"

static size_t
sockaddr_len(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
}

void
plan_add(struct plan *p, unsigned int proto, const struct sockaddr *sa,
    struct service *svc, int fd)
{
	struct plan_entry *e;

	if (p->n == p->cap) {
		p->cap = p->cap > 0 ? 2 * p->cap : 16;
		p->v = xreallocarray(p->v, p->cap, sizeof(*p->v));
	}
	e = &p->v[p->n++];
	memset(e, 0, sizeof(*e));
	e->proto = proto;
	memcpy(&e->addr, sa, sockaddr_len(sa));
	e->svc = svc;
	if (svc != NULL)
		service_ref(svc);
	e->fd = fd;
}

struct plan_entry *
plan_find(const struct plan *p, unsigned int proto,
    const struct sockaddr *sa)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->v[i].proto == proto &&
		    p->v[i].addr.ss_family == sa->sa_family &&
		    memcmp(&p->v[i].addr, sa, sockaddr_len(sa)) == 0)
			return &p->v[i];
	return NULL;
}

/* Lets go of what e holds. */
static void
plan_entry_release(struct plan_entry *e)
{
	if (e->fd != -1)
		close(e->fd);
	e->fd = -1;
	if (e->svc != NULL)
		service_unref(e->svc);
	e->svc = NULL;
}

void
plan_settle(struct plan *p)
{
	size_t i, n = 0;

	for (i = 0; i < p->n; i++) {
		plan_entry_release(&p->v[i]);
		if (p->v[i].served)
			p->v[n++] = p->v[i];
	}
	p->n = n;
}

void
plan_free(struct plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		plan_entry_release(&p->v[i]);
	free(p->v);
	p->v = NULL;
	p->n = p->cap = 0;
}
