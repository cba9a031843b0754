/*
 * Strict UTF-8 decoding, shared by the units that read text (upper, and
 * text for chat).  Header-only: one file less to link into each plugin.
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

/* Length of the maximal subpart at s, which utf8_decode() refused: the
 * longest start of a valid sequence there, at least 1 byte.  One U+FFFD
 * replaces it (Unicode's "best practice"), so "\xe2\x82" then "x" is one
 * replacement, and "\xed\xa0\x80" (a surrogate) three. */
static inline size_t
utf8_invalid_len(const unsigned char *s, size_t len)
{
	unsigned char	 lo = 0x80, hi = 0xbf;
	size_t		 n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 1;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	for (i = 1; i < n && i < len; i++) {
		if (s[i] < lo || s[i] > hi)
			break;
		lo = 0x80;
		hi = 0xbf;
	}
	return i;
}

#endif
