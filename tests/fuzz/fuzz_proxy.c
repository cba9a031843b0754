/*
 * Fuzzes the PROXY header parser: the input (after its first byte) is fed
 * whole, then cut in two at a point the first byte chooses, then one byte
 * at a time; the three must agree on the outcome, the reason of a refusal,
 * the header's length and what it says, and never take a byte past it.
 */
/* fuzz-sources: daemon/proxy.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Feeds data in pieces of at most step bytes (all when step is 0), or
 * cut once at cut when cut is not 0.  Returns the status; *end is where
 * the header ended in data, when it did. */
static enum proxy_status
run(struct proxy *p, const uint8_t *data, size_t size, size_t step,
    size_t cut, size_t *end)
{
	enum proxy_status st = PROXY_MORE;
	size_t pos = 0, n, used;

	proxy_init(p);
	*end = 0;
	while (pos < size && st == PROXY_MORE) {
		n = size - pos;
		if (step > 0 && n > step)
			n = step;
		if (cut > 0 && pos < cut && n > cut - pos)
			n = cut - pos;
		st = proxy_feed(p, data + pos, n, &used);
		if (used > n || (st == PROXY_MORE && used != n))
			abort();
		pos += used;
		if (st == PROXY_DONE)
			*end = pos;
		if (st == PROXY_ERROR)
			break;
	}
	if (st != PROXY_MORE && proxy_feed(p, data, size, &used) != st)
		abort();
	if (st == PROXY_DONE && (used != 0 || p->hdr.len != *end ||
	    *end > PROXY_V2_MAX))
		abort();
	return st;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy a, b, c;
	enum proxy_status sa, sb, sc;
	size_t ea, eb, ec, cut;

	if (size < 1)
		return 0;
	cut = data[0];
	data++;
	size--;
	if (size > 0)
		cut = 1 + cut % size;
	sa = run(&a, data, size, 0, 0, &ea);
	sb = run(&b, data, size, 0, cut, &eb);
	sc = run(&c, data, size, 1, 0, &ec);
	if (sa != sb || sa != sc)
		abort();
	if (sa == PROXY_ERROR && (proxy_error(&a) != proxy_error(&b) ||
	    proxy_error(&a) != proxy_error(&c)))
		abort();
	if (sa == PROXY_DONE && (ea != eb || ea != ec ||
	    memcmp(&a.hdr, &b.hdr, sizeof(a.hdr)) != 0 ||
	    memcmp(&a.hdr, &c.hdr, sizeof(a.hdr)) != 0))
		abort();
	/* Only TCP4 and TCP6 under PROXY replace the peer. */
	if (sa == PROXY_DONE && proxy_peer(&a.hdr) != NULL &&
	    a.hdr.src.ss_family != AF_INET && a.hdr.src.ss_family != AF_INET6)
		abort();
	return 0;
}
