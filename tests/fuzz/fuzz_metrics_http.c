/*
 * Fuzzes the metrics handler's request parser: whatever the bytes, it
 * reads only what it was given, a whole head ends in "\n" within the
 * input and within HTTPREQ_MAX, its path lies inside it, the same head
 * alone parses the same, and a head cut short is never taken for whole.
 */
/* fuzz-sources: daemon/httpreq.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httpreq.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct httpreq r, r2;
	char *buf;
	ssize_t n, m;

	/* An exact copy, so that ASan sees any read past the end. */
	if ((buf = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	n = httpreq_parse(buf, size, &r);
	if (n < -1 || n > (ssize_t)size || n > HTTPREQ_MAX)
		abort();
	if (n > 0) {
		if (buf[n - 1] != '\n')
			abort();
		if (r.path < buf || r.path + r.pathlen > buf + n ||
		    r.pathlen == 0)
			abort();
		if (r.method < HTTPREQ_GET || r.method > HTTPREQ_OTHER ||
		    (r.minor != 0 && r.minor != 1))
			abort();
		if (httpreq_parse(buf, (size_t)n, &r2) != n ||
		    r2.keepalive != r.keepalive || r2.method != r.method)
			abort();
		if ((m = httpreq_parse(buf, (size_t)n - 1, &r2)) > 0)
			abort();
	}
	free(buf);
	return 0;
}
