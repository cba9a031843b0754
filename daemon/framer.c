/*
 * framer: line framing as a daemon service for handlers that set
 * SOCKD_LINES.  Complete lines are handed over straight from the loop's
 * shared read buffer; only a line cut by a read boundary is copied, into a
 * buffer of at most max_line bytes that is freed as soon as the line is
 * complete.  A line longer than max_line is handed over in max_line pieces,
 * so a peer that never sends "\n" costs max_line bytes, not more.
 */
#include <stdlib.h>
#include <string.h>

#include "framer.h"

static int
framer_append(struct framer *f, size_t max_line, const char *p, size_t n)
{
	if (f->buf == NULL && (f->buf = malloc(max_line)) == NULL)
		return -1;
	memcpy(f->buf + f->len, p, n);
	f->len += (uint32_t)n;
	return 0;
}

static int
framer_emit_kept(struct framer *f, framer_emit emit, void *arg)
{
	int rc = emit(arg, f->buf, f->len);

	free(f->buf);
	f->buf = NULL;
	f->len = 0;
	return rc;
}

int
framer_feed(struct framer *f, size_t max_line, const char *data, size_t len,
    framer_emit emit, void *arg)
{
	const char *nl;
	size_t room, n;

	while (len > 0) {
		room = max_line - f->len;
		n = len < room ? len : room;
		nl = memchr(data, '\n', n);
		if (nl != NULL)
			n = (size_t)(nl - data) + 1;
		else if (n < room) {
			/* No end of line yet, and room for more. */
			return framer_append(f, max_line, data, n);
		}
		if (f->len == 0) {
			if (emit(arg, data, n) != 0)
				return 1;
		} else {
			if (framer_append(f, max_line, data, n) == -1)
				return -1;
			if (framer_emit_kept(f, emit, arg) != 0)
				return 1;
		}
		data += n;
		len -= n;
	}
	return 0;
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
}
