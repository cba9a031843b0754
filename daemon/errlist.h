#ifndef SOCKD_ERRLIST_H
#define SOCKD_ERRLIST_H

#include <stddef.h>

/* Collected error messages, each "file:line: text" ("file: text" when
 * line is 0), in the order they were found.  Start from { 0 }. */
struct errlist {
	char		**msg;
	size_t		  n;
};

/* Appends one message; fatal when out of memory (configuration time). */
void	errlist_add(struct errlist *, const char *file, int line,
	    const char *, ...) __attribute__((format(printf, 4, 5)));
/* Frees the messages and leaves the list empty, ready for reuse. */
void	errlist_free(struct errlist *);

#endif
