/*
 * Fuzzes the line framer: the input is cut into reads at places the
 * input itself chooses, with a max_line it chooses too, and what comes
 * out must be exactly what went in, every piece at most max_line long,
 * only the last piece of a line without "\n".
 */
/* fuzz-sources: daemon/framer.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "framer.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct out {
	char	*buf;
	size_t	 len;
	size_t	 max_line;
};

static int
collect(void *arg, const char *line, size_t len)
{
	struct out *o = arg;
	const char *nl = memchr(line, '\n', len);

	if (len == 0 || len > o->max_line)
		abort();
	if (nl != NULL && nl != line + len - 1)
		abort();		/* "\n" only at the end */
	memcpy(o->buf + o->len, line, len);
	o->len += len;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct framer f = { 0 };
	struct out o;
	size_t pos, n;

	if (size < 2)
		return 0;
	o.max_line = 1 + data[0] % 64;
	o.buf = malloc(size);
	o.len = 0;
	/* data[1] seeds the read sizes */
	for (pos = 2, n = 1 + data[1] % 17; pos < size;
	    pos += n, n = 1 + (n * 7 + data[pos - 1]) % 37) {
		if (n > size - pos)
			n = size - pos;
		if (framer_feed(&f, o.max_line, (const char *)data + pos, n,
		    collect, &o) != 0)
			abort();
	}
	if (framer_flush(&f, collect, &o) != 0)
		abort();
	if (o.len != size - 2 || memcmp(o.buf, data + 2, o.len) != 0)
		abort();
	framer_free(&f);
	free(o.buf);
	return 0;
}
