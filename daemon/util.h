#ifndef SOCKD_UTIL_H
#define SOCKD_UTIL_H

#include <stddef.h>

#include <sys/socket.h>

/* Allocation that cannot fail: out of memory at configuration time is
 * fatal, and these are never used on a per-connection path. */
void	*xcalloc(size_t, size_t);
char	*xstrdup(const char *);
/* The string printf would print, to free. */
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));
/* p resized to n elements of size, the product checked for overflow, as
 * reallocarray(3) does; configuration time only, as xcalloc(). */
void	*xreallocarray(void *p, size_t n, size_t size);
/* A copy of the n elements of size at p, to free; NULL when n is 0. */
void	*xmemdup(const void *p, size_t n, size_t size);
/* "192.0.2.7:41234" / "[2001:db8::1]:41234" into buf (>= 64 bytes). */
const char *sockaddr_fmt(const struct sockaddr *, char *, size_t);
int	 sockaddr_port(const struct sockaddr *);

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#endif
