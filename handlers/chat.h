/*
 * chat's line parsing, apart from its callbacks, for its unit tests and
 * fuzzer.
 */
#ifndef SOCKD_HANDLERS_CHAT_H
#define SOCKD_HANDLERS_CHAT_H

#include <stddef.h>

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
 * A room's event on the bus: "sockd-chat/1 HOST SEQ KIND NICK\n" and then
 * the text.  HOST (16 hex digits, random per room and process) and SEQ
 * (counting the host's events from 1) say where it comes from, so a host
 * drops its own and the rest can spot a gap or a replay; KIND is one of
 * the enum's letters.
 */
#define CHAT_BUS_MAGIC		"sockd-chat/1"
#define CHAT_BUS_TEXT_MAX	65536
enum chat_bus_kind {
	CHAT_BUS_LINE = 'T',	/* text: the line */
	CHAT_BUS_ME = 'M',	/* text: the action */
	CHAT_BUS_JOIN = 'J',
	CHAT_BUS_LEAVE = 'L',
	CHAT_BUS_RENAME = 'N',	/* text: the new nick */
	CHAT_BUS_WHO = 'W',	/* text: the asking user's id */
	CHAT_BUS_HERE = 'P'	/* text: "HOST ID nick, nick...", the answer
				 * to user ID of HOST's W */
};
struct chat_bus_event {
	unsigned long long	 host, seq;
	int			 kind;	/* enum chat_bus_kind */
	char			 nick[CHAT_NICK_MAX + 1];
	const char		*text;	/* into the decoded buffer */
	size_t			 textlen;
};
/* Writes e into buf (cap bytes); returns its length, or 0 when it does not
 * fit. */
size_t		 chat_bus_encode(char *buf, size_t cap,
		    const struct chat_bus_event *e);
/* Reads an event from buf (len bytes, from another host: anything); 0, or
 * -1 when it is not a well-formed one (a valid nick, a rename to a valid
 * nick, a W's id, a P's host, id and valid nicks, text at most
 * CHAT_BUS_TEXT_MAX bytes). */
int		 chat_bus_decode(const char *buf, size_t len,
		    struct chat_bus_event *e);

/*
 * A member of a room in Redis (the sorted set "sockd:chat:ROOM:members"):
 * "HOST ID NICK", HOST as in events, ID the user's number on that host.
 * chat_member_encode() returns the length written into buf (cap bytes), 0
 * when it does not fit; chat_member_decode() reads one from Redis (where
 * anyone may write: anything) into host, id and nick (CHAT_NICK_MAX + 1
 * bytes), 0, or -1 when it is not one with a valid nick.
 */
size_t		 chat_member_encode(char *buf, size_t cap,
		    unsigned long long host, unsigned long long id,
		    const char *nick);
int		 chat_member_decode(const char *buf, size_t len,
		    unsigned long long *host, unsigned long long *id,
		    char *nick);

#endif /* SOCKD_HANDLERS_CHAT_H */
