/*
 * framer: line framing as a daemon service for handlers that set
 * SOCKD_LINES.  Complete lines are handed over straight from the loop's
 * shared read buffer; only a line cut by a read boundary is copied, into a
 * buffer that grows with the line (doubling, at most max_line bytes) and
 * is freed as soon as the line is complete, so a short unfinished line
 * costs a few bytes, not max_line.  A line longer than max_line is handed
 * over in max_line pieces, so a peer that never sends "\n" costs max_line
 * bytes, not more.
 */
#include <stdlib.h>
#include <string.h>

#include "framer.h"

#define FRAMER_MIN	64	/* first buffer of an unfinished line */

static int
framer_append(struct framer *f, size_t max_line, const char *p, size_t n)
{
	size_t cap;
	char *nb;

	if (f->len + n > f->cap) {
		cap = f->cap > 0 ? f->cap : FRAMER_MIN;
		while (cap < f->len + n)
			cap *= 2;
		if (cap > max_line)
			cap = max_line;
		if ((nb = realloc(f->buf, cap)) == NULL)
			return -1;
		f->buf = nb;
		f->cap = (uint32_t)cap;
	}
	memcpy(f->buf + f->len, p, n);
	f->len += (uint32_t)n;
	return 0;
}

static int
framer_emit_kept(struct framer *f, framer_emit emit, void *arg)
{
	int rc = emit(arg, f->buf, f->len);

	framer_free(f);
	return rc;
}

int
framer_feed_some(struct framer *f, size_t max_line, const char *data,
    size_t len, framer_emit emit, void *arg, size_t *used)
{
	const char *start = data;
	const char *nl;
	size_t room, n;
	int rc = 0;

	while (len > 0) {
		room = max_line - f->len;
		n = len < room ? len : room;
		nl = memchr(data, '\n', n);
		if (nl != NULL)
			n = (size_t)(nl - data) + 1;
		else if (n < room) {
			/* No end of line yet, and room for more. */
			if (framer_append(f, max_line, data, n) == -1)
				rc = -1;
			else
				data += n;
			break;
		}
		if (f->len == 0) {
			if (emit(arg, data, n) != 0)
				rc = 1;
		} else {
			if (framer_append(f, max_line, data, n) == -1) {
				rc = -1;
				break;
			}
			if (framer_emit_kept(f, emit, arg) != 0)
				rc = 1;
		}
		data += n;
		len -= n;
		if (rc != 0)
			break;
	}
	*used = (size_t)(data - start);
	return rc;
}

int
framer_feed(struct framer *f, size_t max_line, const char *data, size_t len,
    framer_emit emit, void *arg)
{
	size_t used;

	return framer_feed_some(f, max_line, data, len, emit, arg, &used);
}

int
framer_flush(struct framer *f, framer_emit emit, void *arg)
{
	if (f->len == 0)
		return 0;
	return framer_emit_kept(f, emit, arg) != 0;
}

void
framer_free(struct framer *f)
{
	free(f->buf);
	f->buf = NULL;
	f->len = 0;
	f->cap = 0;
}
