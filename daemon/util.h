#ifndef SOCKD_UTIL_H
#define SOCKD_UTIL_H

#include <stddef.h>

#include <sys/socket.h>

/* Allocation that cannot fail: out of memory at configuration time is
 * fatal, and these are never used on a per-connection path. */
void	*xcalloc(size_t, size_t);
char	*xstrdup(const char *);
/* "192.0.2.7:41234" / "[2001:db8::1]:41234" into buf (>= 64 bytes). */
const char *sockaddr_fmt(const struct sockaddr *, char *, size_t);
int	 sockaddr_port(const struct sockaddr *);

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#endif
