/*
 * Strict UTF-8 decoding, shared by the handlers that read text (upper,
 * chat).  Header-only, so that each handler still builds alone as a .so.
 */
#ifndef SOCKD_HANDLERS_UTF8_H
#define SOCKD_HANDLERS_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length of the UTF-8 sequence at s (1 for ASCII) and its code point in
 * *cp, or 0 for a byte that starts no valid sequence: overlong forms,
 * surrogates, values past U+10FFFF and cut sequences are invalid. */
static inline size_t
utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	uint32_t	 c = s[0], min;
	size_t		 n, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		c &= 0x07;
		min = 0x10000;
	} else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

#endif
