/*
 * The time handler's encoding (RFC 868), apart from its callbacks, for its
 * unit tests.  Not named time.h, which would stand beside <time.h>.
 */
#ifndef SOCKD_HANDLERS_RFC868_H
#define SOCKD_HANDLERS_RFC868_H

#include <time.h>

/* Seconds from 1900-01-01 to 1970-01-01. */
#define TIME_RFC868_OFFSET	2208988800LL
/* now as seconds since 1900-01-01 modulo 2^32, big-endian, into out. */
void		 time_rfc868(unsigned char [4], time_t);

#endif /* SOCKD_HANDLERS_RFC868_H */
