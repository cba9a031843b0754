/*
 * Shared messages: one allocation holding a refcount and the bytes, so a
 * chat line sent to a thousand peers exists once.  The count is atomic
 * because a message may be queued on connections of several workers.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <sockd/handler.h>

#include "msg.h"

struct sockd_msg *
sockd_msg_new(const void *data, size_t len)
{
	struct sockd_msg *m;

	if ((m = malloc(sizeof(*m) + len)) == NULL)
		return NULL;
	atomic_init(&m->refs, 1);
	m->len = len;
	memcpy(m->data, data, len);
	return m;
}

struct sockd_msg *
sockd_msg_ref(struct sockd_msg *m)
{
	atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
	return m;
}

void
sockd_msg_unref(struct sockd_msg *m)
{
	if (m != NULL && atomic_fetch_sub_explicit(&m->refs, 1,
	    memory_order_acq_rel) == 1)
		free(m);
}

const char *
sockd_msg_data(const struct sockd_msg *m)
{
	return m->data;
}

size_t
sockd_msg_len(const struct sockd_msg *m)
{
	return m->len;
}
