/*
 * Text from a network client made fit to show on other people's terminals
 * (chat): telnet commands removed, controls and escape sequences removed,
 * what is not UTF-8 replaced by U+FFFD, and UTF-8 cut short at a character.
 */
#ifndef SOCKD_HANDLERS_TEXT_H
#define SOCKD_HANDLERS_TEXT_H

#include <stddef.h>

/*
 * Where a connection is in a telnet command (RFC 854), carried from one
 * piece of a line to the next: a command cut by a read boundary is still
 * removed whole.  A '\n' always leaves the state at TEXT_TELNET_DATA: it
 * ends an unterminated IAC SB, and is eaten as the option or command byte
 * after IAC [verb].
 */
enum text_telnet {
	TEXT_TELNET_DATA = 0,	/* text; the state of a new connection */
	TEXT_TELNET_IAC,	/* after IAC */
	TEXT_TELNET_OPTION,	/* after IAC WILL, WONT, DO or DONT */
	TEXT_TELNET_SB,		/* inside IAC SB ... */
	TEXT_TELNET_SB_IAC	/* inside IAC SB ..., after an IAC */
};
/* Copies in to out (room for len bytes) without telnet commands: IAC WILL,
 * WONT, DO or DONT and their option, IAC SB ... IAC SE, and the other
 * two-byte IAC commands; IAC IAC becomes one 0xff byte (which is not UTF-8,
 * so text_sanitize() then replaces it).  *state is where the previous piece
 * left off, and becomes where this one does.  Returns the length written. */
size_t		 text_telnet_strip(char *, const char *, size_t, int *);
/* Copies in to out (room for TEXT_CLEAN_MAX(len) bytes) without C0 controls
 * but tab, DEL, C1 controls and whole escape sequences (ESC [ ... final,
 * ESC ] ... BEL or ESC \, ESC x), each maximal invalid UTF-8 subpart
 * (stray bytes, overlong forms, surrogates, cut sequences) replaced by
 * U+FFFD; strips trailing "\r\n".  The result is valid UTF-8.  Returns the
 * length written. */
#define TEXT_CLEAN_MAX(len)	(3 * (len))
size_t		 text_sanitize(char *, const char *, size_t);
/* The longest start of s (len bytes of UTF-8) of at most max bytes that
 * does not cut a character. */
size_t		 text_cut(const char *, size_t, size_t);

#endif /* SOCKD_HANDLERS_TEXT_H */
