/*
 * ring: a fixed array used circularly, head the oldest item, n how many
 * there are.  A push into a full ring overwrites the oldest and hands it
 * back, so that the caller, who knows what the items are (chat: shared
 * messages holding a reference each), lets go of it.  A ring of 0 items
 * still has an array of one, so that init's allocation is never of 0 bytes
 * and failing it means only out of memory.
 */
#include <stdlib.h>
#include <string.h>

#include "ring.h"

/* The i-th item, 0 the oldest. */
static void *
ring_at(const struct ring *r, size_t i)
{
	return r->item[(r->head + i) % r->max];
}

int
ring_init(struct ring *r, size_t max)
{
	memset(r, 0, sizeof(*r));
	if ((r->item = calloc(max ? max : 1, sizeof(*r->item))) == NULL)
		return -1;
	r->max = max;
	return 0;
}

void *
ring_push(struct ring *r, void *p)
{
	void	*old;

	if (r->max == 0)
		return p;
	if (r->n < r->max) {
		r->item[(r->head + r->n++) % r->max] = p;
		return NULL;
	}
	old = r->item[r->head];
	r->item[r->head] = p;
	r->head = (r->head + 1) % r->max;
	return old;
}

void
ring_foreach(const struct ring *r, void (*fn)(void *, void *), void *arg)
{
	size_t	 i;

	for (i = 0; i < r->n; i++)
		fn(ring_at(r, i), arg);
}

void
ring_refit(struct ring *to, struct ring *from, void (*drop)(void *))
{
	size_t	 i;
	void	*old;

	for (i = 0; i < from->n; i++)
		if ((old = ring_push(to, ring_at(from, i))) != NULL)
			drop(old);
	from->n = from->head = 0;
}

void
ring_free(struct ring *r, void (*drop)(void *))
{
	size_t	 i;

	if (drop != NULL)
		for (i = 0; i < r->n; i++)
			drop(ring_at(r, i));
	free(r->item);
	memset(r, 0, sizeof(*r));
}
