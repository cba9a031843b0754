/*
 * text: cleaning what one client typed before others see it.
 *
 * Two steps, kept apart because the first carries state across the pieces
 * of a line and the second does not.  Telnet commands (RFC 854) are the
 * transport's, not text: IAC WILL/WONT/DO/DONT option, IAC SB ... IAC SE
 * and two-byte IAC commands are removed first, so that a negotiating telnet
 * client neither garbles a room nor makes other members' telnet clients
 * answer into it; a command cut by a read boundary is still removed whole
 * (the caller keeps the state), and a line's end ends an unterminated
 * IAC SB.  IAC IAC is a 0xff byte.  Then the text is sanitised: C0 controls
 * but tab, DEL, C1 controls and whole escape sequences are removed, so
 * nobody can clear, move or retitle another user's terminal, and what is
 * not UTF-8 (0xff, Latin-1 bytes, overlong forms, surrogates) becomes
 * U+FFFD, one per maximal subpart, so every result is valid UTF-8.  Nothing
 * here allocates: the caller gives room for the documented maximum.
 */
#include <stdint.h>
#include <string.h>

#include "text.h"
#include "utf8.h"

/* Telnet (RFC 854) command bytes. */
#define TELNET_SE	240
#define TELNET_SB	250
#define TELNET_WILL	251
#define TELNET_DONT	254
#define TELNET_IAC	255

/* Index just past the escape sequence whose ESC is at s[i]. */
static size_t
skip_escape(const unsigned char *s, size_t len, size_t i)
{
	if (++i >= len)
		return i;
	switch (s[i]) {
	case '[':	/* CSI: parameters, intermediates, one final byte */
		for (i++; i < len && s[i] >= 0x20 && s[i] <= 0x3f; i++)
			;
		return i < len && s[i] >= 0x40 && s[i] <= 0x7e ? i + 1 : i;
	case ']': case 'P': case 'X': case '^': case '_':
		/* OSC, DCS and the like run to BEL or ST (ESC \). */
		for (i++; i < len; i++) {
			if (s[i] == 0x07)
				return i + 1;
			if (s[i] == 0x1b)
				return i + 1 < len && s[i + 1] == '\\' ? i + 2 :
				    i + 1;
		}
		return i;
	default:
		for (; i < len && s[i] >= 0x20 && s[i] <= 0x2f; i++)
			;
		return i < len && s[i] >= 0x30 && s[i] <= 0x7e ? i + 1 : i;
	}
}

size_t
text_telnet_strip(char *out, const char *in, size_t len, int *state)
{
	const unsigned char	*s = (const unsigned char *)in;
	size_t			 i, o = 0;
	int			 st = *state;

	for (i = 0; i < len; i++) {
		switch (st) {
		case TEXT_TELNET_IAC:
			if (s[i] == TELNET_IAC) {
				out[o++] = (char)TELNET_IAC;
				st = TEXT_TELNET_DATA;
			} else if (s[i] >= TELNET_WILL && s[i] <= TELNET_DONT)
				st = TEXT_TELNET_OPTION;
			else if (s[i] == TELNET_SB)
				st = TEXT_TELNET_SB;
			else
				st = TEXT_TELNET_DATA;	/* NOP, GA, AYT ... */
			break;
		case TEXT_TELNET_OPTION:
			st = TEXT_TELNET_DATA;
			break;
		case TEXT_TELNET_SB:
		case TEXT_TELNET_SB_IAC:
			/* A line's end ends a subnegotiation that never did,
			 * so the next line is text again. */
			if (s[i] == '\n' || (st == TEXT_TELNET_SB_IAC &&
			    s[i] == TELNET_SE))
				st = TEXT_TELNET_DATA;
			else if (st == TEXT_TELNET_SB && s[i] == TELNET_IAC)
				st = TEXT_TELNET_SB_IAC;
			else
				st = TEXT_TELNET_SB;	/* IAC IAC: data */
			break;
		default:
			if (s[i] == TELNET_IAC)
				st = TEXT_TELNET_IAC;
			else
				out[o++] = s[i];
			break;
		}
	}
	*state = st;
	return o;
}

size_t
text_sanitize(char *out, const char *in, size_t len)
{
	const unsigned char	*s = (const unsigned char *)in;
	uint32_t		 cp;
	size_t			 i = 0, o = 0, n;

	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		len--;
	while (i < len) {
		if (s[i] == 0x1b) {
			i = skip_escape(s, len, i);
		} else if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f) {
			i++;
		} else if (s[i] < 0x80) {
			out[o++] = s[i++];
		} else if ((n = utf8_decode(s + i, len - i, &cp)) > 0) {
			if (cp >= 0x80 && cp <= 0x9f) {
				i += n;
				continue;
			}
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
		} else {
			/* Not UTF-8: no terminal obeys U+FFFD, and every
			 * reader sees that something was there. */
			i += utf8_invalid_len(s + i, len - i);
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
		}
	}
	return o;
}

size_t
text_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}
