/*
 * A ring of the last max items pushed, oldest first (chat's history).  The
 * ring holds pointers and knows nothing of what they are: what a push, a
 * refit or a free lets go of is handed back, or to the caller's drop().
 */
#ifndef SOCKD_HANDLERS_RING_H
#define SOCKD_HANDLERS_RING_H

#include <stddef.h>

struct ring {
	void		**item;
	size_t		  max, n, head;	/* head: the oldest */
};

/* An empty ring of max items (max may be 0: it keeps nothing); 0, or -1
 * when out of memory.  ring_free() may be given a zeroed ring. */
int		 ring_init(struct ring *, size_t);
/* Keeps p (not NULL) as the newest item; returns the item that no longer
 * fits (the oldest, or p itself when max is 0), or NULL. */
void		*ring_push(struct ring *, void *);
/* Calls fn(item, arg) for each item, oldest first. */
void		 ring_foreach(const struct ring *, void (*)(void *, void *),
		    void *);
/* Moves the items of from into to, oldest first, as ring_push() would, and
 * calls drop() on those that do not fit; from is left empty. */
void		 ring_refit(struct ring *, struct ring *, void (*)(void *));
/* Calls drop() on each item (drop may be NULL), then frees the ring. */
void		 ring_free(struct ring *, void (*)(void *));

#endif /* SOCKD_HANDLERS_RING_H */
