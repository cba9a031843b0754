/*
 * The pure logic of the built-in handlers, for their unit tests and fuzzers.
 * None of these functions touches a connection, a datagram or global state
 * other than what is named here; each handler's .c file defines its own.
 */
#ifndef SOCKD_HANDLERS_H
#define SOCKD_HANDLERS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <sys/socket.h>

struct sockd_msg;

/*
 * upper.  Upper-cases UTF-8 in into out, which must have room for
 * UPPER_OUTMAX(len) bytes; returns the length written.  Bytes that are not
 * strict UTF-8 are copied unchanged.  A code point is replaced only when its
 * upper case encodes in at most 3/2 of its own bytes, which every simple
 * Unicode upper-case mapping does (U+0250 -> U+2C6F grows 2 -> 3).
 */
#define UPPER_OUTMAX(len)	((len) + (len) / 2)
size_t		 upper_utf8(char *, const char *, size_t);
/* Decodes one strict UTF-8 sequence at in; returns its length (1-4) and
 * stores the code point, or returns 0 when in[0] does not start one. */

/*
 * chat.
 */
#define CHAT_NICK_MAX	16

enum chat_cmd {
	CHAT_TEXT,		/* arg: the text to relay */
	CHAT_NICK,		/* arg: the new nick, unvalidated */
	CHAT_WHO,
	CHAT_ME,		/* arg: the action */
	CHAT_QUIT,
	CHAT_HELP,
	CHAT_UNKNOWN		/* arg: the command word, without '/' */
};

/* Classifies one line (its "\r\n" already removed).  "//text" is the text
 * "/text".  *arg and *arglen point into line. */
enum chat_cmd	 chat_parse(const char *, size_t, const char **, size_t *);
/* 1 when name is [A-Za-z0-9_-]{1,CHAT_NICK_MAX}, else 0. */
int		 chat_nick_valid(const char *, size_t);

/*
 * chargen: the 72 characters of line n of the RFC 864 pattern (the 95
 * printable ASCII characters, line 0 starting at '!') followed by "\r\n"
 * into out, which has room for CHARGEN_LINE bytes.  Returns CHARGEN_LINE.
 */
#define CHARGEN_WIDTH	72
#define CHARGEN_LINE	(CHARGEN_WIDTH + 2)
#define CHARGEN_RING	95
size_t		 chargen_line(char *, unsigned int);

/* time: RFC 868, seconds since 1900-01-01 modulo 2^32, big-endian. */
#define TIME_RFC868_OFFSET	2208988800LL
void		 time_rfc868(unsigned char [4], time_t);

#endif /* SOCKD_HANDLERS_H */
