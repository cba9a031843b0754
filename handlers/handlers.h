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

/* The UDP room's peers: who was heard from within the timeout. */
struct chat_peer {
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	time_t			 last;	/* when last heard from, seconds */
	uint64_t		 seq;	/* the table's seq then: exact order */
};
struct chat_peers {
	struct chat_peer	*peer;
	size_t			 npeers, max;
	time_t			 timeout;
	size_t			 per_address;	/* per IP address; 0: any */
	uint64_t		 seq;		/* stamped on every touch */
};
/*
 * Forgets peers silent for longer than the timeout, then records sa as heard
 * from at now.  A new port of an address that already has per_address
 * entries replaces that address's longest-silent one; otherwise, when the
 * table is full, the longest-silent peer of all is evicted.
 */
void		 chat_peers_touch(struct chat_peers *, const struct sockaddr *,
		    time_t);
/* 1 when both addresses are the same family, address and port. */
int		 chat_addr_equal(const struct sockaddr *,
		    const struct sockaddr *);
/* 1 when both are the same IP address, whatever the ports; an IPv4-mapped
 * IPv6 address is the IPv4 address. */
int		 chat_addr_same_host(const struct sockaddr *,
		    const struct sockaddr *);

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
