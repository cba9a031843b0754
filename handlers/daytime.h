/*
 * daytime's formatting, apart from its callbacks, for its unit tests and
 * fuzzer.
 */
#ifndef SOCKD_HANDLERS_DAYTIME_H
#define SOCKD_HANDLERS_DAYTIME_H

#include <stddef.h>
#include <time.h>

#include "tz.h"

/*
 * strftime of fmt (fmtlen bytes, not NUL-terminated) at t in tz, into out
 * (outsz bytes, at most outsz - 1 of text plus a NUL).  Returns the length,
 * or 0 when there is nothing to send: an empty format or result, a NUL byte
 * in the format, output that does not fit, or out of memory.
 */
size_t		 daytime_format(char *, size_t, const char *, size_t, time_t,
		    const struct tz *);
/* 1 when a datagram (len bytes, its line end removed) is a format: it
 * holds a conversion, a '%' followed by another byte.  Anything else asks
 * for the date in the configured format (RFC 867). */
int		 daytime_is_format(const char *, size_t);

#endif /* SOCKD_HANDLERS_DAYTIME_H */
