#ifndef SOCKD_FRAMER_H
#define SOCKD_FRAMER_H

#include <stddef.h>
#include <stdint.h>

/* The unfinished line of one connection; empty (and unallocated) between
 * lines, so an idle connection holds no buffer.  cap grows with the line,
 * never past max_line. */
struct framer {
	char		*buf;
	uint32_t	 len;
	uint32_t	 cap;
};

/* Called per line (with its "\n") or per max_line piece; nonzero stops. */
typedef int (*framer_emit)(void *arg, const char *line, size_t len);

/*
 * Splits data into lines of at most max_line bytes and emits them; whole
 * lines inside data are emitted from data itself, without a copy.  The
 * unfinished tail is kept.  Returns 1 if emit stopped it (the rest is
 * dropped), -1 when out of memory, else 0.
 */
int	framer_feed(struct framer *, size_t max_line, const char *data,
	    size_t len, framer_emit, void *arg);
/* The same, and *used tells how much of data was taken: when emit stops,
 * everything up to the end of the line it was given; the caller may feed
 * the rest later. */
int	framer_feed_some(struct framer *, size_t max_line, const char *data,
	    size_t len, framer_emit, void *arg, size_t *used);
/* Emits the kept unfinished line, if any (at the peer's end of file). */
int	framer_flush(struct framer *, framer_emit, void *arg);
void	framer_free(struct framer *);

#endif
