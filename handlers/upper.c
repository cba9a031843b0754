/*
 * upper: each line (TCP, SOCKD_LINES) or datagram (UDP) comes back
 * upper-cased, its line ending unchanged.
 *
 * Casing must not depend on the machine's locale, so the UTF-8 is decoded
 * here (strictly: no overlong forms, surrogates or code points past
 * U+10FFFF) and each code point mapped with towupper_l() on glibc's built-in
 * C.UTF-8 locale, created once per process.  Bytes that are not valid UTF-8
 * pass through unchanged, and so does a character that a max_line piece
 * boundary splits in two.  Without C.UTF-8 only ASCII is upper-cased, which
 * configure logs.  An upper case may encode longer than its lower case
 * (U+0250 -> U+2C6F is 2 -> 3 bytes), so the output buffer has room for 3/2
 * of the input; see upper.h.
 */
/* Built as a .so, this file may not get the Makefile's -D_GNU_SOURCE;
 * newlocale() and towupper_l() need it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <syslog.h>
#include <wctype.h>

#include <sockd/handler.h>

#include "upper.h"
#include "utf8.h"

static pthread_once_t	 upper_once = PTHREAD_ONCE_INIT;
static locale_t		 upper_locale = (locale_t)0;

static void
upper_locale_init(void)
{
	upper_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

static size_t
upper_encode(unsigned char *out, uint32_t c)
{
	if (c < 0x80) {
		out[0] = c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = 0xc0 | c >> 6;
		out[1] = 0x80 | (c & 0x3f);
		return 2;
	}
	if (c < 0x10000) {
		out[0] = 0xe0 | c >> 12;
		out[1] = 0x80 | ((c >> 6) & 0x3f);
		out[2] = 0x80 | (c & 0x3f);
		return 3;
	}
	out[0] = 0xf0 | c >> 18;
	out[1] = 0x80 | ((c >> 12) & 0x3f);
	out[2] = 0x80 | ((c >> 6) & 0x3f);
	out[3] = 0x80 | (c & 0x3f);
	return 4;
}

static size_t
upper_enclen(uint32_t c)
{
	return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
}

size_t
upper_utf8(char *out, const char *in, size_t len)
{
	const unsigned char	*s = (const unsigned char *)in;
	unsigned char		*o = (unsigned char *)out;
	size_t			 i = 0, n, k;
	uint32_t		 c, u;
	wint_t			 w;

	(void)pthread_once(&upper_once, upper_locale_init);
	while (i < len) {
		if (s[i] < 0x80) {
			*o++ = s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i];
			i++;
			continue;
		}
		if ((n = utf8_decode(s + i, len - i, &c)) == 0) {
			*o++ = s[i++];
			continue;
		}
		u = c;
		if (upper_locale != (locale_t)0) {
			w = towupper_l((wint_t)c, upper_locale);
			/* Keep the 3/2 bound of UPPER_OUTMAX() whatever the
			 * table says, and never emit a non-character. */
			if (w <= 0x10ffff && !(w >= 0xd800 && w <= 0xdfff) &&
			    upper_enclen(w) * 2 <= n * 3)
				u = w;
		}
		if (u == c) {
			for (k = 0; k < n; k++)
				*o++ = s[i + k];
		} else
			o += upper_encode(o, u);
		i += n;
	}
	return o - (unsigned char *)out;
}

static const char *
upper_configure(const struct sockd_opts *opts, void **port_state)
{
	(void)opts;
	*port_state = NULL;
	(void)pthread_once(&upper_once, upper_locale_init);
	if (upper_locale == (locale_t)0)
		sockd_log(LOG_WARNING, "upper: no C.UTF-8 locale: "
		    "only ASCII letters are upper-cased");
	return NULL;
}

/* Upper-cases into a stack buffer when it is big enough, else the heap. */
static char *
upper_buf(char *stack, size_t stacksz, const char *buf, size_t len,
    size_t *outlen)
{
	char	*out = stack;

	if (UPPER_OUTMAX(len) > stacksz &&
	    (out = malloc(UPPER_OUTMAX(len))) == NULL)
		return NULL;
	*outlen = upper_utf8(out, buf, len);
	return out;
}

static void
upper_data(struct sockd_conn *c, const char *buf, size_t len)
{
	char	 stack[6144], *out;
	size_t	 n;

	if ((out = upper_buf(stack, sizeof(stack), buf, len, &n)) == NULL) {
		sockd_conn_log(c, LOG_ERR, "out of memory");
		sockd_conn_close(c);
		return;
	}
	(void)sockd_conn_write(c, out, n);
	if (out != stack)
		free(out);
}

static void
upper_datagram(struct sockd_dgram *d, const char *buf, size_t len)
{
	char	 stack[2048], *out;
	size_t	 n;

	if ((out = upper_buf(stack, sizeof(stack), buf, len, &n)) == NULL) {
		sockd_dgram_drop(d);
		return;
	}
	/* Refused by sockd, and counted, if it grew past the guard. */
	(void)sockd_dgram_reply(d, out, n);
	if (out != stack)
		free(out);
}

const struct sockd_handler sockd_handler_upper = {
	.abi_version = SOCKD_ABI_VERSION, .name = "upper",
	.protocols = SOCKD_TCP | SOCKD_UDP, .flags = SOCKD_LINES,
	.configure = upper_configure,
	.tcp_data = upper_data, .udp_datagram = upper_datagram,
};
