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

#endif /* SOCKD_HANDLERS_CHAT_H */
